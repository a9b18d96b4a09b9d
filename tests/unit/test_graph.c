/* Job graph: run order, stages, GitHub's needs errors (the reader vectors
 * errors-job-needs-*.yml with their exact messages and positions), and the scheduler's
 * ready set and skip propagation. */
#include "workflow/graph.h"

#include "common/arena.h"
#include "common/strbuf.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#define N(arr) (sizeof(arr) / sizeof((arr)[0]))

static char *order_string(const rn_graph *g) {
    rn_sb sb = RN_SB_INIT;
    const size_t *order = rn_graph_order(g);
    for (size_t i = 0; i < rn_graph_count(g); i++)
        rn_sb_printf(&sb, "%s%s:%zu", i ? " " : "", rn_graph_id(g, order[i]),
                     rn_graph_stage(g, order[i]));
    return rn_sb_take(&sb);
}

static void order_is_stable_and_after_needs(void **state) {
    (void)state;
    rn_graph_need deploy_needs[] = {{"build", 2, 12}};
    rn_graph_need build_needs[] = {{"test", 6, 12}};
    rn_graph_node nodes[] = {
        {"deploy", deploy_needs, 1},
        {"lint", NULL, 0},
        {"build", build_needs, 1},
        {"test", NULL, 0},
    };
    rn_diags d = RN_DIAGS_INIT;
    rn_graph *g = rn_graph_build(nodes, N(nodes), NULL, &d);
    assert_non_null(g);
    assert_int_equal(d.count, 0);
    char *s = order_string(g);
    assert_string_equal(s, "lint:0 test:0 build:1 deploy:2");
    free(s);
    assert_int_equal(rn_graph_stage_count(g), 3);
    rn_graph_free(g);
}

static void reader_job_needs(void **state) {
    (void)state;
    /* WP job-needs.yml: string and sequence forms; needs match case-insensitively and
     * duplicates collapse. */
    rn_graph_need t0[] = {{"build", 8, 12}};
    rn_graph_need t1[] = {{"BUILD", 13, 12}, {"build", 13, 20}};
    rn_graph_need dep[] = {{"test-level-0", 19, 9}, {"test-level-1", 20, 9}};
    rn_graph_node nodes[] = {
        {"build", NULL, 0},
        {"test-level-0", t0, 1},
        {"test-level-1", t1, 2},
        {"deploy", dep, 2},
    };
    rn_diags d = RN_DIAGS_INIT;
    rn_graph *g = rn_graph_build(nodes, N(nodes), NULL, &d);
    assert_non_null(g);
    char *s = order_string(g);
    assert_string_equal(s, "build:0 test-level-0:1 test-level-1:1 deploy:2");
    free(s);
    size_t n;
    const size_t *needs = rn_graph_needs(g, 2, &n);
    assert_int_equal(n, 1);
    assert_int_equal(needs[0], 0);
    needs = rn_graph_needs(g, 3, &n);
    assert_int_equal(n, 2);
    assert_int_equal(needs[0], 1);
    assert_int_equal(needs[1], 2);
    rn_graph_free(g);
}

static void expect_diags(const rn_diags *d, const char *const *expected) {
    size_t n = 0;
    while (expected[n])
        n++;
    assert_int_equal(d->count, n);
    for (size_t i = 0; i < n; i++) {
        char *s = rn_diag_format_github(&d->items[i]);
        assert_string_equal(s, expected[i]);
        free(s);
    }
}

static void reader_cycle(void **state) {
    (void)state;
    rn_graph_need two[] = {{"one", 11, 9}, {"three", 12, 9}};
    rn_graph_need three[] = {{"two", 18, 12}};
    rn_graph_node nodes[] = {{"one", NULL, 0}, {"two", two, 2}, {"three", three, 1}};
    rn_graph_src src = {".github/workflows/errors-job-needs-cycle.yml", 4, 3};
    rn_diags d = RN_DIAGS_INIT;
    assert_null(rn_graph_build(nodes, N(nodes), &src, &d));
    rn_diags_sort(&d);
    expect_diags(&d, (const char *const[]){
                         ".github/workflows/errors-job-needs-cycle.yml (Line: 12, Col: 9): Job "
                         "'two' depends on job 'three' which creates a cycle in the dependency "
                         "graph.",
                         ".github/workflows/errors-job-needs-cycle.yml (Line: 18, Col: 12): Job "
                         "'three' depends on job 'two' which creates a cycle in the dependency "
                         "graph.",
                         NULL});
    rn_diags_free(&d);
}

static void reader_no_start_node(void **state) {
    (void)state;
    rn_graph_need one[] = {{"two", 5, 12}};
    rn_graph_need two[] = {{"one", 11, 12}};
    rn_graph_node nodes[] = {{"one", one, 1}, {"two", two, 1}};
    rn_graph_src src = {".github/workflows/errors-job-needs-no-start-node.yml", 4, 3};
    rn_diags d = RN_DIAGS_INIT;
    assert_null(rn_graph_build(nodes, N(nodes), &src, &d));
    expect_diags(&d, (const char *const[]){
                         ".github/workflows/errors-job-needs-no-start-node.yml (Line: 4, Col: 3): "
                         "The workflow must contain at least one job with no dependencies.",
                         NULL});
    rn_diags_free(&d);
}

static void reader_unknown_job(void **state) {
    (void)state;
    rn_graph_need one[] = {{"two", 5, 12}};
    rn_graph_need three[] = {{"four", 12, 9}, {"five", 13, 9}};
    rn_graph_node nodes[] = {{"one", one, 1}, {"three", three, 2}, {"six", NULL, 0}};
    rn_graph_src src = {".github/workflows/errors-job-needs-unknown-job.yml", 4, 3};
    rn_diags d = RN_DIAGS_INIT;
    assert_null(rn_graph_build(nodes, N(nodes), &src, &d));
    expect_diags(&d, (const char *const[]){
                         ".github/workflows/errors-job-needs-unknown-job.yml (Line: 5, Col: 12): "
                         "Job 'one' depends on unknown job 'two'.",
                         ".github/workflows/errors-job-needs-unknown-job.yml (Line: 12, Col: 9): "
                         "Job 'three' depends on unknown job 'four'.",
                         ".github/workflows/errors-job-needs-unknown-job.yml (Line: 13, Col: 9): "
                         "Job 'three' depends on unknown job 'five'.",
                         NULL});
    rn_diags_free(&d);
}

static void downstream_of_cycle_is_reported_as_cycle(void **state) {
    (void)state;
    /* GitHub names every unsatisfied entry that names an existing job a cycle, also a job
     * that only waits on a cycle. */
    rn_graph_need a[] = {{"b", 3, 9}};
    rn_graph_need b[] = {{"a", 5, 9}};
    rn_graph_need c[] = {{"root", 7, 9}, {"a", 8, 9}};
    rn_graph_node nodes[] = {{"root", NULL, 0}, {"a", a, 1}, {"b", b, 1}, {"c", c, 2}};
    rn_diags d = RN_DIAGS_INIT;
    assert_null(rn_graph_build(nodes, N(nodes), NULL, &d));
    assert_int_equal(d.count, 3);
    assert_string_equal(d.items[2].message, "Job 'c' depends on job 'a' which creates a cycle in "
                                            "the dependency graph.");
    assert_int_equal(d.items[2].line, 8);
    rn_diags_free(&d);
}

/* Runs one scheduler step and renders "ready=a,b skipped=c". */
static char *step(rn_sched *s, const rn_graph *g) {
    size_t ready[16], skipped[16], n_skipped = 0;
    size_t n_ready = rn_sched_step(s, ready, skipped, &n_skipped);
    rn_sb sb = RN_SB_INIT;
    rn_sb_puts(&sb, "ready=");
    for (size_t i = 0; i < n_ready; i++)
        rn_sb_printf(&sb, "%s%s", i ? "," : "", rn_graph_id(g, ready[i]));
    rn_sb_puts(&sb, " skipped=");
    for (size_t i = 0; i < n_skipped; i++)
        rn_sb_printf(&sb, "%s%s", i ? "," : "", rn_graph_id(g, skipped[i]));
    return rn_sb_take(&sb);
}

static void expect_step(rn_sched *s, const rn_graph *g, const char *expected) {
    char *got = step(s, g);
    assert_string_equal(got, expected);
    free(got);
}

static void ready_set_is_a_dag_not_stages(void **state) {
    (void)state;
    /* build -> {slow, quick}; package needs quick only, so it starts while slow runs. */
    rn_graph_need b[] = {{"build", 0, 0}};
    rn_graph_need pkg[] = {{"quick", 0, 0}};
    rn_graph_node nodes[] = {
        {"build", NULL, 0}, {"slow", b, 1}, {"quick", b, 1}, {"package", pkg, 1}};
    rn_diags d = RN_DIAGS_INIT;
    rn_graph *g = rn_graph_build(nodes, N(nodes), NULL, &d);
    rn_sched *s = rn_sched_new(g, NULL);
    expect_step(s, g, "ready=build skipped=");
    expect_step(s, g, "ready= skipped="); /* nothing new while build runs */
    rn_sched_finish(s, 0, RN_JOB_SUCCESS);
    expect_step(s, g, "ready=slow,quick skipped=");
    rn_sched_finish(s, 2, RN_JOB_SUCCESS);
    expect_step(s, g, "ready=package skipped=");
    assert_false(rn_sched_done(s));
    rn_sched_finish(s, 3, RN_JOB_SUCCESS);
    rn_sched_finish(s, 1, RN_JOB_SUCCESS);
    expect_step(s, g, "ready= skipped=");
    assert_true(rn_sched_done(s));
    rn_sched_free(s);
    rn_graph_free(g);
}

static void failure_skips_downstream_unless_status_function(void **state) {
    (void)state;
    /* test fails: build and deploy are skipped in one step; report (if: always()) runs;
     * lint is independent and keeps running. */
    rn_graph_need t[] = {{"test", 0, 0}};
    rn_graph_need bu[] = {{"build", 0, 0}};
    rn_graph_need rep[] = {{"deploy", 0, 0}};
    rn_graph_node nodes[] = {{"report", rep, 1},
                             {"test", NULL, 0},
                             {"lint", NULL, 0},
                             {"build", t, 1},
                             {"deploy", bu, 1}};
    bool status_fn[] = {true, false, false, false, false};
    rn_diags d = RN_DIAGS_INIT;
    rn_graph *g = rn_graph_build(nodes, N(nodes), NULL, &d);
    rn_sched *s = rn_sched_new(g, status_fn);
    expect_step(s, g, "ready=test,lint skipped=");
    rn_sched_finish(s, 1, RN_JOB_FAILURE);
    expect_step(s, g, "ready=report skipped=build,deploy");
    assert_int_equal(rn_sched_result(s, 4), RN_JOB_SKIPPED);
    rn_ancestry a = rn_sched_ancestry(s, 0);
    assert_false(a.all_success);
    assert_true(a.any_failure); /* test failed two levels up: failure() is true for report */
    assert_false(a.any_cancelled);
    assert_string_equal(rn_job_result_name(rn_sched_result(s, 3)), "skipped");
    rn_sched_finish(s, 0, RN_JOB_SUCCESS);
    assert_false(rn_sched_done(s)); /* lint still running */
    rn_sched_finish(s, 2, RN_JOB_SUCCESS);
    assert_true(rn_sched_done(s));
    rn_sched_free(s);
    rn_graph_free(g);
}

static void skipped_grandparent_skips_default_if(void **state) {
    (void)state;
    /* actions/runner#2205: gate is skipped by its own if:, middle (always()) succeeds, and
     * last (default if) is still skipped because an ancestor is not success. */
    rn_graph_need m[] = {{"gate", 0, 0}};
    rn_graph_need l[] = {{"middle", 0, 0}};
    rn_graph_node nodes[] = {{"gate", NULL, 0}, {"middle", m, 1}, {"last", l, 1}};
    bool status_fn[] = {false, true, false};
    rn_diags d = RN_DIAGS_INIT;
    rn_graph *g = rn_graph_build(nodes, N(nodes), NULL, &d);
    rn_sched *s = rn_sched_new(g, status_fn);
    expect_step(s, g, "ready=gate skipped=");
    rn_sched_finish(s, 0, RN_JOB_SKIPPED); /* its if: was false */
    expect_step(s, g, "ready=middle skipped=");
    rn_sched_finish(s, 1, RN_JOB_SUCCESS);
    expect_step(s, g, "ready= skipped=last");
    assert_true(rn_sched_done(s));
    rn_ancestry a = rn_sched_ancestry(s, 2);
    assert_false(a.all_success);
    assert_false(a.any_failure);
    a = rn_sched_ancestry(s, 0);
    assert_true(a.all_success); /* no ancestors */
    rn_sched_free(s);
    rn_graph_free(g);
}

static void cancelled_need(void **state) {
    (void)state;
    rn_graph_need a[] = {{"first", 0, 0}};
    rn_graph_node nodes[] = {{"first", NULL, 0}, {"second", a, 1}};
    rn_diags d = RN_DIAGS_INIT;
    rn_graph *g = rn_graph_build(nodes, N(nodes), NULL, &d);
    rn_sched *s = rn_sched_new(g, NULL);
    expect_step(s, g, "ready=first skipped=");
    rn_sched_finish(s, 0, RN_JOB_CANCELLED);
    assert_true(rn_sched_ancestry(s, 1).any_cancelled);
    expect_step(s, g, "ready= skipped=second");
    rn_sched_free(s);
    rn_graph_free(g);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(order_is_stable_and_after_needs),
        cmocka_unit_test(reader_job_needs),
        cmocka_unit_test(reader_cycle),
        cmocka_unit_test(reader_no_start_node),
        cmocka_unit_test(reader_unknown_job),
        cmocka_unit_test(downstream_of_cycle_is_reported_as_cycle),
        cmocka_unit_test(ready_set_is_a_dag_not_stages),
        cmocka_unit_test(failure_skips_downstream_unless_status_function),
        cmocka_unit_test(skipped_grandparent_skips_default_if),
        cmocka_unit_test(cancelled_need),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
