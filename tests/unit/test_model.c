/* Model tests: typed fields with positions, the if: rewrite, generated step ids, and the
 * validation messages GitHub gives (duplicate keys, needs cycles). */
#include "common/arena.h"
#include "common/diag.h"
#include "workflow/action_yml.h"
#include "workflow/model.h"
#include "workflow/validate.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

static rn_workflow *parse(rn_arena *a, rn_diags *d, const char *text) {
    return rn_workflow_parse(a, "w.yml", text, strlen(text), d);
}

static void test_if_rewrite(void **state) {
    (void)state;
    rn_arena a;
    rn_arena_init(&a);
    char err[256];
    struct {
        const char *in, *out;
        bool job;
    } cases[] = {
        {NULL, "success()", false},
        {"", "success()", false},
        {"${{ }}", "success()", false},
        {"github.ref == 'x'", "success() && (github.ref == 'x')", false},
        {"${{ github.ref == 'x' }}", "success() && (github.ref == 'x')", false},
        {"failure()", "failure()", false},
        {"fromJson(toJSON(ALWAYS()))", "fromJson(toJSON(ALWAYS()))", false},
        {"true || 'success()'", "success() && (true || 'success()')", false},
        {"success('build') || needs.x.result", "success('build') || needs.x.result", true},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *got = rn_wf_rewrite_if(&a, cases[i].in, cases[i].job, err, sizeof err);
        assert_string_equal(got, cases[i].out);
        assert_string_equal(err, "");
    }
    rn_wf_rewrite_if(&a, "steps.x.outputs.y ==", false, err, sizeof err);
    assert_string_equal(err, "Unexpected end of expression: '=='. Located at position 19 within "
                             "expression: steps.x.outputs.y ==");
    rn_wf_rewrite_if(&a, "matrix.os", true, err, sizeof err); /* not allowed at job level */
    assert_string_equal(err, "Unrecognized named-value: 'matrix'. Located at position 1 within "
                             "expression: matrix.os");
    rn_arena_free(&a);
}

static void test_model_fields(void **state) {
    (void)state;
    rn_arena a;
    rn_arena_init(&a);
    rn_diags d = RN_DIAGS_INIT;
    rn_workflow *wf = parse(&a, &d,
                            "name: CI\n"
                            "on:\n"
                            "  push:\n"
                            "    branches: [main]\n"
                            "    paths-ignore: docs/**\n"
                            "  workflow_dispatch:\n"
                            "    inputs:\n"
                            "      level: {type: choice, options: [a, b], default: a}\n"
                            "jobs:\n"
                            "  build:\n"
                            "    runs-on: [self-hosted, linux]\n"
                            "    if: github.event_name == 'push'\n"
                            "    strategy:\n"
                            "      matrix: {os: [a, b]}\n"
                            "    steps:\n"
                            "      - uses: actions/checkout@v4\n"
                            "      - run: echo ${{ matrix.os }}\n"
                            "        if: failure()\n"
                            "      - run: echo 2\n"
                            "      - id: __run_x\n"
                            "        run: echo 3\n"
                            "  test:\n"
                            "    needs: build\n"
                            "    uses: ./.github/workflows/t.yml\n"
                            "    secrets: inherit\n");
    assert_non_null(wf);
    /* the explicit id "__run_x" is reserved */
    assert_int_equal(d.count, 1);
    assert_string_equal(
        d.items[0].message,
        "The identifier '__run_x' is invalid. IDs starting with '__' are reserved.");
    assert_int_equal(d.items[0].line, 20);
    assert_int_equal(d.items[0].col, 13);
    assert_string_equal(wf->name.s, "CI");
    assert_int_equal(wf->n_events, 2);
    assert_string_equal(wf->events[0].name.s, "push");
    assert_string_equal(wf->events[0].branches.items[0].s, "main");
    assert_string_equal(wf->events[0].paths_ignore.items[0].s, "docs/**");
    assert_int_equal(wf->events[1].n_inputs, 1);
    assert_string_equal(wf->events[1].inputs[0].type.s, "choice");
    assert_int_equal(wf->events[1].inputs[0].options.n, 2);
    assert_int_equal(wf->n_jobs, 2);
    const rn_wf_job *b = rn_workflow_job(wf, "BUILD");
    assert_non_null(b);
    assert_int_equal(b->line, 10);
    assert_int_equal(b->col, 3);
    assert_int_equal(b->runs_on.labels.n, 2);
    assert_string_equal(b->runs_on.labels.items[1].s, "linux");
    assert_string_equal(b->if_cond.s, "success() && (github.event_name == 'push')");
    assert_int_equal(b->if_cond.line, 12);
    assert_int_equal(b->if_cond.col, 9);
    assert_non_null(b->strategy.matrix);
    assert_int_equal(b->n_steps, 4);
    assert_string_equal(b->steps[0].id.s, "__actions_checkout");
    assert_true(b->steps[0].id_generated);
    assert_string_equal(b->steps[1].id.s, "__run");
    assert_string_equal(b->steps[1].if_cond.s, "failure()");
    assert_string_equal(b->steps[1].run.s, "echo ${{ matrix.os }}");
    assert_int_equal(b->steps[1].run.line, 17);
    assert_int_equal(b->steps[1].run.col, 14);
    assert_string_equal(b->steps[2].id.s, "__run_2");
    assert_string_equal(b->steps[2].if_cond.s, "success()");
    const rn_wf_job *t = &wf->jobs[1];
    assert_string_equal(t->needs.items[0].s, "build");
    assert_int_equal(t->needs.items[0].line, 23);
    assert_string_equal(t->uses.s, "./.github/workflows/t.yml");
    assert_true(t->secrets_inherit);
    rn_diags_free(&d);
    rn_arena_free(&a);
}

static void expect_errors(const char *text, const char *const *want) {
    rn_arena a;
    rn_arena_init(&a);
    rn_diags d = RN_DIAGS_INIT;
    parse(&a, &d, text);
    rn_diags_sort(&d);
    size_t n = 0;
    while (want[n])
        n++;
    for (size_t i = 0; i < d.count; i++) {
        char *s = rn_diag_format_cli(&d.items[i]);
        print_message("got: %s\n", s);
        free(s);
    }
    assert_int_equal(d.count, n);
    for (size_t i = 0; i < n; i++) {
        char *s = rn_diag_format_github(&d.items[i]);
        assert_string_equal(s, want[i]);
        free(s);
    }
    rn_diags_free(&d);
    rn_arena_free(&a);
}

static void test_validation_messages(void **state) {
    (void)state;
    expect_errors(
        "on: push\njobs:\n  a:\n    runs-on: x\n    runs-on: y\n    steps: [run: x]\n",
        (const char *const[]){"w.yml (Line: 5, Col: 5): 'runs-on' is already defined", NULL});
    expect_errors(
        "on: push\njobs:\n  a:\n    runs-on: x\n    steps: [run: x]\n  b:\n    needs: [a, c]\n"
        "    runs-on: x\n    steps: [run: x]\n  c:\n    needs: b\n    runs-on: x\n"
        "    steps: [run: x]\n",
        (const char *const[]){"w.yml (Line: 7, Col: 16): Job 'b' depends on job 'c' which creates "
                              "a cycle in the dependency graph.",
                              "w.yml (Line: 11, Col: 12): Job 'c' depends on job 'b' which "
                              "creates a cycle in the dependency graph.",
                              NULL});
    expect_errors("on: push\njobs:\n  a:\n    runs-on: x\n    steps:\n      - runn: x\n",
                  (const char *const[]){
                      "w.yml (Line: 6, Col: 9): Unexpected value 'runn'",
                      "w.yml (Line: 6, Col: 9): There's not enough info to determine what you "
                      "meant. Add one of these properties: background, cancel, env, if, run, "
                      "shell, timeout-minutes, uses, wait, wait-all, with, working-directory",
                      NULL});
    expect_errors(
        "on: push\njobs:\n  a:\n    runs-on: x\n    strategy:\n      matrix:\n"
        "        os: []\n    steps: [run: x]\n",
        (const char *const[]){
            "w.yml (Line: 7, Col: 13): Matrix vector 'os' does not contain any values", NULL});
}

static void test_action_yml(void **state) {
    (void)state;
    rn_arena a;
    rn_arena_init(&a);
    rn_diags d = RN_DIAGS_INIT;
    const char *node = "name: hello\ninputs:\n  who:\n    required: true\n    default: world\n"
                       "    deprecationMessage: use whom\noutputs:\n  time:\n    description: t\n"
                       "runs:\n  using: node20\n  main: index.js\n  post-if: always()\n";
    rn_action *act = rn_action_parse(&a, "action.yml", node, strlen(node), &d);
    assert_int_equal(d.count, 0);
    assert_int_equal(act->kind, RN_ACTION_NODE);
    assert_string_equal(act->main.s, "index.js");
    assert_string_equal(act->post_if.s, "always()");
    assert_int_equal(act->n_inputs, 1);
    assert_true(act->inputs[0].required);
    assert_string_equal(act->inputs[0].deprecation_message.s, "use whom");
    assert_string_equal(rn_yaml_str(act->inputs[0].default_value), "world");
    const char *comp = "name: c\nruns:\n  using: composite\n  steps:\n    - run: echo "
                       "${{ inputs.who }}\n      shell: bash\n    - uses: actions/checkout@v4\n";
    act = rn_action_parse(&a, "action.yml", comp, strlen(comp), &d);
    assert_int_equal(d.count, 0);
    assert_int_equal(act->kind, RN_ACTION_COMPOSITE);
    assert_int_equal(act->n_steps, 2);
    assert_string_equal(act->steps[1].id.s, "__actions_checkout");
    const char *bad = "name: b\nruns:\n  using: node8\n  main: x.js\n  mian: y\n";
    act = rn_action_parse(&a, "action.yml", bad, strlen(bad), &d);
    rn_diags_sort(&d);
    assert_int_equal(d.count, 2);
    assert_string_equal(d.items[0].message, "Unexpected value 'node8' for runs.using (expected "
                                            "node12, node16, node20, node24, docker or composite)");
    assert_int_equal(d.items[0].line, 3);
    assert_string_equal(d.items[1].message, "Unexpected value 'mian'");
    rn_diags_free(&d);
    rn_arena_free(&a);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_if_rewrite),
        cmocka_unit_test(test_model_fields),
        cmocka_unit_test(test_validation_messages),
        cmocka_unit_test(test_action_yml),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
