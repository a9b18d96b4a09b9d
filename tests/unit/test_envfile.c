/* Environment files: the runner's EnvFileKeyValuePairs cases, GITHUB_PATH, step summary. */
#include "actions/envfile.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

typedef struct parsed {
    rn_envfile f;
    rn_diags d;
    int rc;
} parsed;

static parsed parse_n(const char *text, size_t len) {
    parsed p = {RN_ENVFILE_INIT, RN_DIAGS_INIT, 0};
    p.rc = rn_envfile_parse(text, len, "env", &p.f, &p.d);
    return p;
}

static parsed parse(const char *text) {
    return parse_n(text, strlen(text));
}

static void done(parsed *p) {
    rn_envfile_free(&p->f);
    rn_diags_free(&p->d);
}

static void entry_is(const parsed *p, size_t i, const char *name, const char *value, int line) {
    assert_true(i < p->f.count);
    assert_string_equal(p->f.items[i].name, name);
    assert_string_equal(p->f.items[i].value, value);
    assert_int_equal(p->f.items[i].value_len, strlen(value));
    assert_int_equal(p->f.items[i].line, line);
}

static void error_is(const parsed *p, int line, const char *msg) {
    assert_int_equal(p->rc, -1);
    assert_int_equal(p->d.count, 1);
    assert_string_equal(p->d.items[0].file, "env");
    assert_int_equal(p->d.items[0].line, line);
    assert_string_equal(p->d.items[0].message, msg);
}

static void simple_values(void **state) {
    (void)state;
    parsed p = parse("MY_KEY=MY VALUE");
    assert_int_equal(p.rc, 0);
    assert_int_equal(p.f.count, 1);
    entry_is(&p, 0, "MY_KEY", "MY VALUE", 1);
    done(&p);

    p = parse("\nMY_KEY=my value\n\nMY_KEY_2=my second value\n\n");
    assert_int_equal(p.rc, 0);
    assert_int_equal(p.d.count, 0);
    assert_int_equal(p.f.count, 2);
    entry_is(&p, 0, "MY_KEY", "my value", 2);
    entry_is(&p, 1, "MY_KEY_2", "my second value", 4);
    done(&p);

    p = parse("MY_KEY=\nMY_KEY_2==abc\nMY_KEY_3=def=ghi\nMY_KEY_4=jkl=\nA=abc << def\n");
    assert_int_equal(p.f.count, 5);
    entry_is(&p, 0, "MY_KEY", "", 1);
    entry_is(&p, 1, "MY_KEY_2", "=abc", 2);
    entry_is(&p, 2, "MY_KEY_3", "def=ghi", 3);
    entry_is(&p, 3, "MY_KEY_4", "jkl=", 4);
    entry_is(&p, 4, "A", "abc << def", 5);
    done(&p);

    /* Duplicates stay in order (the later one wins when applied); `=v` has the name "". */
    p = parse("A=1\nA=2\n=v\n   =x");
    assert_int_equal(p.f.count, 4);
    entry_is(&p, 1, "A", "2", 2);
    entry_is(&p, 2, "", "v", 3);
    entry_is(&p, 3, "   ", "x", 4);
    done(&p);

    p = parse("");
    assert_int_equal(p.rc, 0);
    assert_int_equal(p.f.count, 0);
    done(&p);
}

static void heredoc_values(void **state) {
    (void)state;
    parsed p = parse("MY_KEY<<EOF\nline one\nline two\nline three\nEOF\n");
    assert_int_equal(p.rc, 0);
    assert_int_equal(p.f.count, 1);
    entry_is(&p, 0, "MY_KEY", "line one\nline two\nline three", 1);
    done(&p);

    p = parse("MY_KEY<<EOF\nEOF");
    entry_is(&p, 0, "MY_KEY", "", 1);
    done(&p);

    p = parse("\nA<<EOF\nhello\nworld\nEOF\n\nB<<EOF\nHELLO\nAGAIN\nEOF\n");
    assert_int_equal(p.f.count, 2);
    entry_is(&p, 0, "A", "hello\nworld", 2);
    entry_is(&p, 1, "B", "HELLO\nAGAIN", 7);
    done(&p);

    p = parse("E1<<=EOF\nhello\none\n=EOF\nE2<<<EOF\nhello\ntwo\n<EOF\nE3<<EOF\nhello\n\nthree\n\n"
              "EOF\nE4<<EOF\nhello=four\nEOF\nE5<<EOF\n EOF\nEOF\nE6<<EOF\nEOF EOF\nEOF\n"
              "E7<<khkIhPxsVA==\nx\nkhkIhPxsVA==\n");
    assert_int_equal(p.rc, 0);
    assert_int_equal(p.f.count, 7);
    entry_is(&p, 0, "E1", "hello\none", 1);
    entry_is(&p, 1, "E2", "hello\ntwo", 5);
    entry_is(&p, 2, "E3", "hello\n\nthree\n", 9);
    entry_is(&p, 3, "E4", "hello=four", 15);
    entry_is(&p, 4, "E5", " EOF", 18);
    entry_is(&p, 5, "E6", "EOF EOF", 21);
    entry_is(&p, 6, "E7", "x", 24);
    done(&p);
}

static void crlf_bom_and_nul(void **state) {
    (void)state;
    /* The Linux runner only splits on LF: CR stays in values and delimiters. */
    parsed p = parse("A=b\r\nK<<EOF\r\nx\r\ny\r\nEOF\r\n");
    assert_int_equal(p.rc, 0);
    assert_int_equal(p.f.count, 2);
    entry_is(&p, 0, "A", "b\r", 1);
    entry_is(&p, 1, "K", "x\r\ny\r", 2);
    done(&p);

    p = parse("K<<EOF\r\nx\nEOF\n");
    error_is(&p, 1, "Invalid value. Matching delimiter not found 'EOF\r'");
    done(&p);

    p = parse("\xef\xbb\xbfMY=1\n");
    entry_is(&p, 0, "MY", "1", 1);
    done(&p);

    p = parse_n("A=x\0y\n", 6);
    assert_int_equal(p.f.count, 1);
    assert_int_equal(p.f.items[0].value_len, 3);
    assert_memory_equal(p.f.items[0].value, "x\0y", 4);
    done(&p);
}

static void errors_with_line_numbers(void **state) {
    (void)state;
    parsed p = parse("A=1\nK<<EOF\nline\n");
    error_is(&p, 2, "Invalid value. Matching delimiter not found 'EOF'");
    /* Pairs before the error were already applied by the runner. */
    assert_int_equal(p.f.count, 1);
    entry_is(&p, 0, "A", "1", 1);
    done(&p);

    p = parse("MY_OUTPUT<<EOF line one line two line three EOF");
    error_is(&p, 1,
             "Invalid value. Matching delimiter not found 'EOF line one line two line three EOF'");
    done(&p);

    p = parse("MY<<EOF\nline one\n   line three EOF");
    error_is(&p, 3, "Invalid value. EOF marker missing new line.");
    done(&p);

    p = parse("A=1\n\njust text\nB=2\n");
    error_is(&p, 3, "Invalid format 'just text'");
    assert_int_equal(p.f.count, 1);
    done(&p);

    p = parse("<<EOF\n");
    error_is(&p, 1,
             "Invalid format '<<EOF'. Name must not be empty and delimiter must not be empty");
    done(&p);
    p = parse("X=1\nNAME<<\n");
    error_is(&p, 2,
             "Invalid format 'NAME<<'. Name must not be empty and delimiter must not be empty");
    done(&p);

    char *m = rn_filecmd_failed_message(RN_FILECMD_OUTPUT);
    assert_string_equal(m, "Unable to process file command 'output' successfully.");
    free(m);
}

static void env_names(void **state) {
    (void)state;
    assert_string_equal(rn_envfile_env_name_blocked("node_Options"),
                        "Can't store NODE_OPTIONS output parameter using '$GITHUB_ENV' command.");
    assert_null(rn_envfile_env_name_blocked("NODE_OPTIONS_X"));
    assert_null(rn_envfile_env_name_blocked(""));
    assert_true(rn_env_name_usable("A_B"));
    assert_true(rn_env_name_usable("weird name"));
    assert_false(rn_env_name_usable(""));
    assert_false(rn_env_name_usable("A=B"));
}

static void path_file(void **state) {
    (void)state;
    rn_strlist l = RN_STRLIST_INIT;
    const char text[] = "\xef\xbb\xbf/a\n\n/b\r\n/c\r/a\n";
    rn_pathfile_parse(text, sizeof text - 1, &l);
    assert_int_equal(l.count, 3);
    assert_string_equal(l.items[0], "/b");
    assert_string_equal(l.items[1], "/c");
    assert_string_equal(l.items[2], "/a");
    char *p = rn_path_join(&l, "/usr/bin:/bin");
    assert_string_equal(p, "/a:/c:/b:/usr/bin:/bin");
    free(p);
    /* A later step adds /c again: it moves to the front of PATH. */
    rn_path_add(&l, "/c");
    p = rn_path_join(&l, NULL);
    assert_string_equal(p, "/c:/a:/b");
    free(p);
    rn_strlist_free(&l);
    p = rn_path_join(&l, "/bin");
    assert_string_equal(p, "/bin");
    free(p);
}

static void step_summary(void **state) {
    (void)state;
    char *err = (char *)1;
    assert_int_equal(rn_step_summary_check(0, &err), RN_SUMMARY_EMPTY);
    assert_null(err);
    assert_int_equal(rn_step_summary_check(1024 * 1024, &err), RN_SUMMARY_OK);
    assert_null(err);
    assert_int_equal(rn_step_summary_check(1024 * 1024 + 1, &err), RN_SUMMARY_TOO_LARGE);
    assert_string_equal(err, "$GITHUB_STEP_SUMMARY upload aborted, supports content up to a size "
                             "of 1024k, got 1024k. For more information see: "
                             "https://docs.github.com/actions/using-workflows/"
                             "workflow-commands-for-github-actions#adding-a-markdown-summary");
    free(err);
    assert_int_equal(rn_step_summary_check(3 * 1024 * 1024 + 5, &err), RN_SUMMARY_TOO_LARGE);
    assert_non_null(strstr(err, "got 3072k."));
    free(err);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(simple_values),    cmocka_unit_test(heredoc_values),
        cmocka_unit_test(crlf_bom_and_nul), cmocka_unit_test(errors_with_line_numbers),
        cmocka_unit_test(env_names),        cmocka_unit_test(path_file),
        cmocka_unit_test(step_summary),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
