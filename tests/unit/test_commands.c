/* Workflow commands: parsing, escapes, and the per-step processor's rules. */
#include "actions/commands.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#define S(lit) lit, sizeof(lit) - 1

static const char *DEPRECATED_SET_OUTPUT =
    "The `set-output` command is deprecated and will be disabled soon. Please upgrade to using "
    "Environment Files. For more information see: "
    "https://github.blog/changelog/2022-10-11-github-actions-deprecating-save-state-and-set-"
    "output-commands/";
static const char *DISABLED_SET_ENV =
    "The `set-env` command is disabled. Please upgrade to using Environment Files or opt into "
    "unsecure command execution by setting the `ACTIONS_ALLOW_UNSECURE_COMMANDS` environment "
    "variable to `true`. For more information see: "
    "https://github.blog/changelog/2020-10-01-github-actions-deprecating-set-env-and-add-path-"
    "commands/";
static const char *STOP_TOKEN_DISABLED =
    "You cannot use a endToken that is an empty string, the string 'pause-logging', or another "
    "workflow command. For more information see: "
    "https://docs.github.com/actions/learn-github-actions/workflow-commands-for-github-actions"
    "#example-stopping-and-starting-workflow-commands or opt into insecure command execution by "
    "setting the `ACTIONS_ALLOW_UNSECURE_STOPCOMMAND_TOKENS` environment variable to `true`.";

/* ---- parser ---- */

static void parse_v2_props_and_escapes(void **state) {
    (void)state;
    rn_cmd c;
    assert_true(rn_cmd_parse(S("::warning file=app.js,line=1,col=5,endColumn=7,title=T%3A%2Cx%"
                               "25::Missing semicolon%0D%0Anext%25 50%3A"),
                             NULL, 0, &c));
    assert_int_equal(c.kind, RN_CMD_WARNING);
    assert_string_equal(c.name, "warning");
    assert_false(c.legacy);
    assert_int_equal(c.nprops, 5);
    assert_string_equal(c.props[0].key, "file");
    assert_string_equal(c.props[0].value, "app.js");
    assert_string_equal(rn_cmd_prop_get(&c, "line"), "1");
    assert_string_equal(rn_cmd_prop_get(&c, "col"), "5");
    assert_string_equal(rn_cmd_prop_get(&c, "ENDCOLUMN"), "7");
    assert_string_equal(rn_cmd_prop_get(&c, "title"), "T:,x%");
    /* The message only unescapes %0D %0A %25; %3A stays. */
    assert_string_equal(c.data, "Missing semicolon\r\nnext% 50%3A");
    rn_cmd_free(&c);
}

static void parse_escape_order(void **state) {
    (void)state;
    rn_cmd c;
    /* %25 is replaced last, so "%250A" becomes "%0A", not a newline. */
    assert_true(rn_cmd_parse(S("::debug::%250A and %25%30"), NULL, 0, &c));
    assert_string_equal(c.data, "%0A and %%30");
    rn_cmd_free(&c);
    assert_true(rn_cmd_parse(S("::error title=%253A%3A::"), NULL, 0, &c));
    assert_string_equal(rn_cmd_prop_get(&c, "title"), "%3A:");
    assert_string_equal(c.data, "");
    rn_cmd_free(&c);
}

static void parse_whitespace_case_and_unknown(void **state) {
    (void)state;
    rn_cmd c;
    assert_true(rn_cmd_parse(S(" \t::debug::x"), NULL, 0, &c));
    assert_string_equal(c.data, "x");
    rn_cmd_free(&c);
    /* .NET TrimStart() also drops Unicode spaces such as U+00A0 and U+3000. */
    assert_true(rn_cmd_parse(S("\xc2\xa0\xe3\x80\x80::debug::y"), NULL, 0, &c));
    assert_string_equal(c.data, "y");
    rn_cmd_free(&c);
    assert_true(rn_cmd_parse(S("::Set-OUTPUT name=a::b"), NULL, 0, &c));
    assert_int_equal(c.kind, RN_CMD_SET_OUTPUT);
    assert_string_equal(c.name, "Set-OUTPUT");
    rn_cmd_free(&c);
    assert_false(rn_cmd_parse(S("::foo::bar"), NULL, 0, &c));
    assert_false(rn_cmd_parse(S("::warning"), NULL, 0, &c));
    assert_false(rn_cmd_parse(S(":: warning::x"), NULL, 0, &c));
    assert_false(rn_cmd_parse(S("x ::warning::x"), NULL, 0, &c));
    assert_false(rn_cmd_parse(S(""), NULL, 0, &c));
    assert_false(rn_cmd_parse(S("::"), NULL, 0, &c));
    /* A NUL byte ends the line. */
    assert_false(rn_cmd_parse("\0::debug::x", 11, NULL, 0, &c));
}

static void parse_property_split_quirks(void **state) {
    (void)state;
    rn_cmd c;
    /* Split(',', RemoveEmptyEntries), then Split('=', 2, RemoveEmptyEntries) per entry. */
    assert_true(rn_cmd_parse(S("::error   a==b,=c,d=,,e=f=g ,FILE=x,file=y ::m"), NULL, 0, &c));
    assert_int_equal(c.nprops, 3);
    assert_string_equal(c.props[0].key, "a");
    assert_string_equal(c.props[0].value, "b");
    assert_string_equal(c.props[1].key, "e");
    assert_string_equal(c.props[1].value, "f=g ");
    assert_string_equal(c.props[2].key, "FILE");
    assert_string_equal(c.props[2].value, "y");
    assert_null(rn_cmd_prop_get(&c, "c"));
    assert_null(rn_cmd_prop_get(&c, "d"));
    rn_cmd_free(&c);
    /* No space after the name: the rest up to "::" is part of the name. */
    assert_false(rn_cmd_parse(S("::error,file=x::m"), NULL, 0, &c));
}

static void parse_legacy_form(void **state) {
    (void)state;
    rn_cmd c;
    assert_true(rn_cmd_parse(S("##[warning file=a.c;line=3;;x]msg%5D%3B%0A"), NULL, 0, &c));
    assert_int_equal(c.kind, RN_CMD_WARNING);
    assert_true(c.legacy);
    assert_int_equal(c.nprops, 2);
    assert_string_equal(rn_cmd_prop_get(&c, "file"), "a.c");
    assert_string_equal(rn_cmd_prop_get(&c, "line"), "3");
    assert_string_equal(c.data, "msg];\n");
    rn_cmd_free(&c);
    /* The legacy prefix is found anywhere in the line. */
    assert_true(rn_cmd_parse(S("prefix ##[set-output name=a%3Bb]v"), NULL, 0, &c));
    assert_int_equal(c.kind, RN_CMD_SET_OUTPUT);
    assert_string_equal(rn_cmd_prop_get(&c, "name"), "a;b");
    assert_string_equal(c.data, "v");
    rn_cmd_free(&c);
    /* A `::` line with an unknown name still gets the legacy scan. */
    assert_true(rn_cmd_parse(S("::foo::##[debug]z"), NULL, 0, &c));
    assert_int_equal(c.kind, RN_CMD_DEBUG);
    assert_string_equal(c.data, "z");
    rn_cmd_free(&c);
    assert_false(rn_cmd_parse(S("##[debug no bracket"), NULL, 0, &c));
    assert_false(rn_cmd_parse(S("##[group"), NULL, 0, &c));
}

static void parse_extra_name_and_disabled(void **state) {
    (void)state;
    rn_cmd c;
    assert_true(rn_cmd_parse(S("::ToKen::"), "token", 0, &c));
    assert_int_equal(c.kind, RN_CMD_UNKNOWN);
    assert_string_equal(c.name, "ToKen");
    rn_cmd_free(&c);
    assert_false(rn_cmd_parse(S("::token::"), NULL, 0, &c));
    assert_false(rn_cmd_parse(S("::warning::x"), NULL, 1u << RN_CMD_WARNING, &c));
    assert_string_equal(rn_cmd_kind_name(RN_CMD_REMOVE_MATCHER), "remove-matcher");
}

/* ---- processor ---- */

static rn_cmd_proc *proc_with(bool unsecure, bool stop_tokens, bool echo) {
    rn_cmd_config cfg;
    rn_cmd_config_default(&cfg);
    cfg.allow_unsecure_commands = unsecure;
    cfg.allow_unsecure_stop_tokens = stop_tokens;
    cfg.echo = echo;
    cfg.workspace = "/ws/repo";
    return rn_cmd_proc_new(&cfg);
}

static const rn_cmd_result *feed(rn_cmd_proc *p, const char *line) {
    return rn_cmd_proc_feed(p, line, strlen(line));
}

static void act_is(const rn_cmd_result *r, size_t i, rn_cmd_action_kind kind, const char *text) {
    assert_true(i < r->count);
    assert_int_equal(r->actions[i].kind, kind);
    if (text)
        assert_string_equal(r->actions[i].text, text);
    else
        assert_null(r->actions[i].text);
}

static void ann_is(const rn_cmd_result *r, size_t i, rn_cmd_level level, const char *text) {
    act_is(r, i, RN_ACT_ANNOTATION, text);
    assert_int_equal(r->actions[i].level, level);
}

static void proc_plain_output(void **state) {
    (void)state;
    rn_cmd_proc *p = proc_with(false, false, false);
    const rn_cmd_result *r = feed(p, "hello world");
    assert_false(r->is_command);
    assert_int_equal(r->count, 1);
    act_is(r, 0, RN_ACT_PRINT, "hello world");
    assert_int_equal(r->actions[0].text_len, 11);
    r = feed(p, "::unknown::x");
    assert_false(r->is_command);
    act_is(r, 0, RN_ACT_PRINT, "::unknown::x");
    r = rn_cmd_proc_feed(p, "", 0);
    assert_int_equal(r->count, 1);
    act_is(r, 0, RN_ACT_PRINT, "");
    rn_cmd_proc_free(p);
}

static void proc_set_output_and_state(void **state) {
    (void)state;
    rn_cmd_proc *p = proc_with(false, false, false);
    const rn_cmd_result *r = feed(p, "::set-output name=result::a%0Ab");
    assert_true(r->is_command);
    assert_int_equal(r->kind, RN_CMD_SET_OUTPUT);
    assert_int_equal(r->count, 2);
    ann_is(r, 0, RN_LEVEL_WARNING, DEPRECATED_SET_OUTPUT);
    act_is(r, 1, RN_ACT_SET_OUTPUT, "a\nb");
    assert_string_equal(r->actions[1].name, "result");

    r = feed(p, "::save-state name=pid::42");
    assert_int_equal(r->count, 2);
    assert_non_null(strstr(r->actions[0].text, "The `save-state` command is deprecated"));
    act_is(r, 1, RN_ACT_SAVE_STATE, "42");
    assert_string_equal(r->actions[1].name, "pid");

    r = feed(p, "::set-output::x");
    assert_int_equal(r->count, 4);
    ann_is(r, 1, RN_LEVEL_ERROR, "Unable to process command '::set-output::x' successfully.");
    ann_is(r, 2, RN_LEVEL_ERROR, "Required field 'name' is missing in ##[set-output] command.");
    act_is(r, 3, RN_ACT_FAIL_STEP, NULL);
    rn_cmd_proc_free(p);

    rn_cmd_config cfg;
    rn_cmd_config_default(&cfg);
    cfg.warn_deprecated = false;
    p = rn_cmd_proc_new(&cfg);
    r = feed(p, "::set-output name=x,name=y::v");
    assert_int_equal(r->count, 1);
    act_is(r, 0, RN_ACT_SET_OUTPUT, "v");
    assert_string_equal(r->actions[0].name, "y");
    rn_cmd_proc_free(p);
}

static void proc_unsecure_commands_gated(void **state) {
    (void)state;
    rn_cmd_proc *p = proc_with(false, false, false);
    const rn_cmd_result *r = feed(p, "::set-env name=FOO::bar");
    assert_true(r->is_command);
    assert_int_equal(r->count, 3);
    ann_is(r, 0, RN_LEVEL_ERROR,
           "Unable to process command '::set-env name=FOO::bar' successfully.");
    ann_is(r, 1, RN_LEVEL_ERROR, DISABLED_SET_ENV);
    act_is(r, 2, RN_ACT_FAIL_STEP, NULL);
    r = feed(p, "::add-path::/opt/bin");
    assert_int_equal(r->count, 3);
    assert_non_null(strstr(r->actions[1].text, "The `add-path` command is disabled."));
    rn_cmd_proc_free(p);

    p = proc_with(true, false, false);
    r = feed(p, "::set-env name=FOO::bar%25");
    assert_int_equal(r->count, 1);
    act_is(r, 0, RN_ACT_SET_ENV, "bar%");
    assert_string_equal(r->actions[0].name, "FOO");
    r = feed(p, "::set-env name=node_options::--x");
    assert_int_equal(r->count, 1);
    ann_is(r, 0, RN_LEVEL_ERROR,
           "Can't update NODE_OPTIONS environment variable using ::set-env:: command.");
    r = feed(p, "::set-env::v");
    assert_int_equal(r->count, 3);
    ann_is(r, 1, RN_LEVEL_ERROR, "Required field 'name' is missing in ##[set-env] command.");
    r = feed(p, "::add-path::/opt/bin");
    assert_int_equal(r->count, 1);
    act_is(r, 0, RN_ACT_ADD_PATH, "/opt/bin");
    r = feed(p, "::add-path::");
    assert_int_equal(r->count, 3);
    ann_is(r, 1, RN_LEVEL_ERROR, "Value cannot be null. (Parameter 'path')");
    rn_cmd_proc_free(p);

    assert_true(rn_dotnet_bool("true"));
    assert_true(rn_dotnet_bool(" TRUE\t"));
    assert_false(rn_dotnet_bool("1"));
    assert_false(rn_dotnet_bool("yes"));
    assert_false(rn_dotnet_bool(NULL));
    assert_true(rn_convert_to_boolean("1"));
    assert_true(rn_convert_to_boolean("$True"));
    assert_false(rn_convert_to_boolean(" true"));
}

static void proc_mask(void **state) {
    (void)state;
    rn_cmd_proc *p = proc_with(false, false, false);
    const rn_cmd_result *r = feed(p, "::add-mask::s3cr3t");
    assert_true(r->is_command);
    assert_int_equal(r->count, 1);
    act_is(r, 0, RN_ACT_ADD_MASK, "s3cr3t");
    r = feed(p, "::add-mask::line one%0D%0A%0Aline two%0A");
    assert_int_equal(r->count, 3);
    act_is(r, 0, RN_ACT_ADD_MASK, "line one\r\n\nline two\n");
    act_is(r, 1, RN_ACT_ADD_MASK, "line one");
    act_is(r, 2, RN_ACT_ADD_MASK, "line two");
    r = feed(p, "::add-mask:: \t ");
    assert_int_equal(r->count, 1);
    ann_is(r, 0, RN_LEVEL_WARNING,
           "Can't add secret mask for empty string in ##[add-mask] command.");
    rn_cmd_proc_free(p);
    /* With echo on, the raw line is never shown: only "::add-mask::***". */
    p = proc_with(false, false, true);
    r = feed(p, "::add-mask::s3cr3t");
    assert_int_equal(r->count, 2);
    act_is(r, 0, RN_ACT_PRINT, "::add-mask::***");
    act_is(r, 1, RN_ACT_ADD_MASK, "s3cr3t");
    rn_cmd_proc_free(p);
}

static void proc_echo(void **state) {
    (void)state;
    rn_cmd_proc *p = proc_with(false, false, false);
    const rn_cmd_result *r = feed(p, "::group::Build");
    assert_int_equal(r->count, 1);
    act_is(r, 0, RN_ACT_GROUP, "Build");
    r = feed(p, "::echo::on");
    assert_int_equal(r->count, 1);
    act_is(r, 0, RN_ACT_DEBUG, "Setting echo command value to 'on'");
    assert_true(rn_cmd_proc_echo(p));
    r = feed(p, "::group::Build");
    assert_int_equal(r->count, 2);
    act_is(r, 0, RN_ACT_PRINT, "::group::Build");
    act_is(r, 1, RN_ACT_GROUP, "Build");
    r = feed(p, "::endgroup::");
    assert_int_equal(r->count, 2);
    act_is(r, 1, RN_ACT_ENDGROUP, "");
    /* Issue and debug commands are never echoed. */
    r = feed(p, "::warning::careful");
    assert_int_equal(r->count, 1);
    ann_is(r, 0, RN_LEVEL_WARNING, "careful");
    r = feed(p, "::debug::dbg");
    assert_int_equal(r->count, 1);
    act_is(r, 0, RN_ACT_DEBUG, "dbg");
    r = feed(p, "::echo::maybe");
    assert_int_equal(r->count, 4);
    act_is(r, 0, RN_ACT_PRINT, "::echo::maybe");
    ann_is(r, 1, RN_LEVEL_ERROR, "Unable to process command '::echo::maybe' successfully.");
    ann_is(r, 2, RN_LEVEL_ERROR,
           "Invalid echo command value. Possible values can be: 'on', 'off'. Current value is: "
           "'maybe'.");
    act_is(r, 3, RN_ACT_FAIL_STEP, NULL);
    assert_true(rn_cmd_proc_echo(p));
    r = feed(p, "::echo:: OFF  ");
    assert_int_equal(r->count, 2);
    act_is(r, 0, RN_ACT_PRINT, "::echo:: OFF  ");
    act_is(r, 1, RN_ACT_DEBUG, "Setting echo command value to 'off'");
    assert_false(rn_cmd_proc_echo(p));
    r = feed(p, "::echo::");
    assert_int_equal(r->count, 3);
    ann_is(r, 1, RN_LEVEL_ERROR, "Value cannot be null. (Parameter 'value')");
    rn_cmd_proc_free(p);
}

static void proc_stop_commands(void **state) {
    (void)state;
    rn_cmd_proc *p = proc_with(true, false, false);
    const rn_cmd_result *r = feed(p, "::stop-commands::pause123");
    assert_true(r->is_command);
    assert_int_equal(r->count, 3);
    act_is(r, 0, RN_ACT_ADD_MASK, "pause123");
    act_is(r, 1, RN_ACT_PRINT, "::stop-commands::pause123");
    act_is(r, 2, RN_ACT_DEBUG,
           "Paused processing commands until the token you called ::stopCommands:: with is "
           "received");
    assert_string_equal(rn_cmd_proc_stop_token(p), "pause123");
    const char *ignored[] = {"::warning::x", "::set-env name=A::b", "::stop-commands::other",
                             "##[error]e"};
    for (size_t i = 0; i < 4; i++) {
        r = feed(p, ignored[i]);
        assert_false(r->is_command);
        assert_int_equal(r->count, 1);
        act_is(r, 0, RN_ACT_PRINT, ignored[i]);
    }
    r = feed(p, "::PAUSE123::anything");
    assert_true(r->is_command);
    assert_int_equal(r->count, 2);
    act_is(r, 0, RN_ACT_PRINT, "::PAUSE123::anything");
    act_is(r, 1, RN_ACT_DEBUG, "Resume processing commands");
    assert_null(rn_cmd_proc_stop_token(p));
    r = feed(p, "::warning::x");
    ann_is(r, 0, RN_LEVEL_WARNING, "x");
    /* The token is no command once resumed. */
    r = feed(p, "::pause123::");
    assert_false(r->is_command);

    /* Short tokens are not masked; the legacy form resumes too. */
    r = feed(p, "::stop-commands::abcdef");
    assert_int_equal(r->count, 2);
    act_is(r, 0, RN_ACT_PRINT, "::stop-commands::abcdef");
    r = feed(p, "##[abcdef]");
    assert_true(r->is_command);
    assert_null(rn_cmd_proc_stop_token(p));
    rn_cmd_proc_free(p);
}

static void proc_stop_token_validation(void **state) {
    (void)state;
    rn_cmd_proc *p = proc_with(false, false, false);
    const char *bad[] = {"::stop-commands::", "::stop-commands::warning",
                         "::stop-commands::Pause-Logging", "::stop-commands::STOP-COMMANDS"};
    for (size_t i = 0; i < 4; i++) {
        const rn_cmd_result *r = feed(p, bad[i]);
        assert_true(r->is_command);
        assert_int_equal(r->count, 2);
        ann_is(r, 0, RN_LEVEL_ERROR, STOP_TOKEN_DISABLED);
        act_is(r, 1, RN_ACT_FAIL_STEP, NULL);
        assert_null(rn_cmd_proc_stop_token(p));
    }
    rn_cmd_proc_free(p);

    /* Allowed: a command name as token stops, resumes, and stays unregistered afterwards. */
    p = proc_with(false, true, false);
    const rn_cmd_result *r = feed(p, "::stop-commands::warning");
    assert_int_equal(r->count, 3);
    act_is(r, 0, RN_ACT_ADD_MASK, "warning");
    r = feed(p, "::warning::resume");
    assert_true(r->is_command);
    act_is(r, 0, RN_ACT_PRINT, "::warning::resume");
    r = feed(p, "::warning::now plain");
    assert_false(r->is_command);
    act_is(r, 0, RN_ACT_PRINT, "::warning::now plain");
    /* An empty token never resumes. */
    r = feed(p, "::stop-commands::");
    assert_int_equal(r->count, 2);
    assert_string_equal(rn_cmd_proc_stop_token(p), "");
    r = feed(p, "::::");
    assert_false(r->is_command);
    assert_string_equal(rn_cmd_proc_stop_token(p), "");
    rn_cmd_proc_free(p);
}

static void proc_annotations(void **state) {
    (void)state;
    rn_cmd_proc *p = proc_with(false, false, false);
    const rn_cmd_result *r =
        feed(p, "::error file=/ws/repo/src/a.c,line=3,endLine=3,col=2,endColumn=9,title=Oops::bad");
    assert_int_equal(r->count, 1);
    const rn_cmd_action *a = &r->actions[0];
    ann_is(r, 0, RN_LEVEL_ERROR, "bad");
    assert_string_equal(a->file, "src/a.c");
    assert_string_equal(a->title, "Oops");
    assert_int_equal(a->line, 3);
    assert_int_equal(a->end_line, 3);
    assert_int_equal(a->col, 2);
    assert_int_equal(a->end_col, 9);
    char *log = rn_cmd_annotation_log_line(a);
    assert_string_equal(log, "##[error]bad");
    free(log);

    r = feed(p, "::notice file=/elsewhere/x.c,endLine=7::n");
    assert_int_equal(r->count, 2);
    act_is(r, 0, RN_ACT_DEBUG,
           "Invalid notice command value. 'endLine' can only be set if 'line' is provided");
    ann_is(r, 1, RN_LEVEL_NOTICE, "n");
    assert_string_equal(r->actions[1].file, "/elsewhere/x.c");
    assert_null(r->actions[1].title);
    assert_int_equal(r->actions[1].line, 7);
    assert_int_equal(r->actions[1].end_line, 7);

    r = feed(p, "::warning line=5,endLine=3::w");
    assert_int_equal(r->count, 2);
    act_is(r, 0, RN_ACT_DEBUG,
           "Invalid warning command value. 'endLine' cannot be less than 'line'.");
    assert_int_equal(r->actions[1].line, 0);
    assert_int_equal(r->actions[1].end_line, 0);

    r = feed(p, "::warning line=1,endLine=2,col=3::w");
    assert_int_equal(r->count, 2);
    act_is(r, 0, RN_ACT_DEBUG,
           "Invalid warning command value. 'col' and 'endColumn' cannot be set if 'line' and "
           "'endLine' are different values.");
    assert_int_equal(r->actions[1].line, 1);
    assert_int_equal(r->actions[1].end_line, 2);
    assert_int_equal(r->actions[1].col, 0);

    r = feed(p, "::warning col=3::w");
    assert_int_equal(r->count, 2);
    act_is(r, 0, RN_ACT_DEBUG,
           "Invalid warning command value. 'col' and 'endColumn' can only be set if 'line' value "
           "is provided.");
    assert_int_equal(r->actions[1].col, 0);

    r = feed(p, "::error line= 4 ,col=5,endColumn=2::e");
    assert_int_equal(r->count, 2);
    act_is(r, 0, RN_ACT_DEBUG,
           "Invalid error command value. 'endColumn' cannot be less than 'col'.");
    assert_int_equal(r->actions[1].line, 4);
    assert_int_equal(r->actions[1].col, 0);
    assert_int_equal(r->actions[1].end_col, 0);

    r = feed(p, "::error file=/ws/repo,line=abc::x");
    assert_int_equal(r->count, 1);
    assert_string_equal(r->actions[0].file, "/ws/repo");
    assert_int_equal(r->actions[0].line, 0);
    rn_cmd_proc_free(p);
}

static void proc_matchers(void **state) {
    (void)state;
    rn_cmd_proc *p = proc_with(false, false, false);
    const rn_cmd_result *r = feed(p, "::add-matcher::.github/m.json");
    assert_int_equal(r->count, 1);
    act_is(r, 0, RN_ACT_ADD_MATCHER, ".github/m.json");
    r = feed(p, "::add-matcher::");
    ann_is(r, 0, RN_LEVEL_WARNING, "File path must be specified.");
    r = feed(p, "::remove-matcher owner=eslint::");
    assert_int_equal(r->count, 1);
    act_is(r, 0, RN_ACT_REMOVE_MATCHER, NULL);
    assert_string_equal(r->actions[0].name, "eslint");
    r = feed(p, "::remove-matcher owner=eslint::f.json");
    ann_is(r, 0, RN_LEVEL_WARNING,
           "Either specify an owner name or a file path in ##[remove-matcher] command. Both "
           "values cannot be set.");
    r = feed(p, "::remove-matcher::");
    ann_is(r, 0, RN_LEVEL_WARNING,
           "Either an owner name or a file path must be specified in ##[remove-matcher] "
           "command.");
    rn_cmd_proc_free(p);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(parse_v2_props_and_escapes),
        cmocka_unit_test(parse_escape_order),
        cmocka_unit_test(parse_whitespace_case_and_unknown),
        cmocka_unit_test(parse_property_split_quirks),
        cmocka_unit_test(parse_legacy_form),
        cmocka_unit_test(parse_extra_name_and_disabled),
        cmocka_unit_test(proc_plain_output),
        cmocka_unit_test(proc_set_output_and_state),
        cmocka_unit_test(proc_unsecure_commands_gated),
        cmocka_unit_test(proc_mask),
        cmocka_unit_test(proc_echo),
        cmocka_unit_test(proc_stop_commands),
        cmocka_unit_test(proc_stop_token_validation),
        cmocka_unit_test(proc_annotations),
        cmocka_unit_test(proc_matchers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
