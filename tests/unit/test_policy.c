/* actions/policy.c: the runner policy file (parsing with positions, location, globs, report
 * discovery) and the job-end coverage and verify gates. Fixtures: tests/verify/ and the
 * coverage reports of tests/coverage/ (read only, copied into a temporary workspace). */
#include "actions/policy.h"
#include "common/strbuf.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <utime.h>

#include <cmocka.h>

static char ws[64]; /* the temporary workspace */

static void put(const char *rel, const char *text) {
    char *p = rn_xprintf("%s/%s", ws, rel);
    for (char *s = strchr(p + strlen(ws) + 1, '/'); s; s = strchr(s + 1, '/')) {
        *s = '\0';
        mkdir(p, 0755);
        *s = '/';
    }
    FILE *f = fopen(p, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    free(p);
}

static void put_fixture(const char *rel, const char *fixture) {
    char *src = rn_xprintf("%s/%s", RN_COV_FIXTURES, fixture);
    size_t len;
    char *text = rn_read_file(src, &len);
    assert_non_null(text);
    put(rel, text);
    free(text);
    free(src);
}

static void age(const char *rel, time_t when) {
    char *p = rn_xprintf("%s/%s", ws, rel);
    struct utimbuf u = {when, when};
    assert_int_equal(utime(p, &u), 0);
    free(p);
}

static int mk_ws(void **state) {
    (void)state;
    strcpy(ws, "/tmp/rn-policy-XXXXXX");
    return mkdtemp(ws) ? 0 : -1;
}

static int rm_ws(void **state) {
    (void)state;
    char *cmd = rn_xprintf("rm -rf '%s'", ws);
    int rc = system(cmd);
    free(cmd);
    return rc;
}

static rn_policy *parse(const char *text) {
    rn_diags d = RN_DIAGS_INIT;
    rn_policy *p = rn_policy_parse("config.yml", text, strlen(text), &d);
    if (!p)
        fail_msg("parse error: %s", d.items[0].message);
    rn_diags_free(&d);
    return p;
}

static void test_path_globs(void **state) {
    (void)state;
    assert_true(rn_policy_path_matches("**/jacoco.xml", "jacoco.xml"));
    assert_true(rn_policy_path_matches("**/jacoco.xml", "target/site/jacoco/jacoco.xml"));
    assert_false(rn_policy_path_matches("**/jacoco.xml", "target/jacoco.xml.bak"));
    assert_false(rn_policy_path_matches("**/jacoco.xml", "target/my-jacoco.xml"));
    assert_true(rn_policy_path_matches("target/*.xml", "target/a.xml"));
    assert_false(rn_policy_path_matches("target/*.xml", "target/sub/a.xml"));
    assert_true(rn_policy_path_matches("target/**", "target/sub/a.xml"));
    assert_true(rn_policy_path_matches("a/**/b/*.info", "a/b/x.info"));
    assert_true(rn_policy_path_matches("a/**/b/*.info", "a/1/2/b/x.info"));
    assert_false(rn_policy_path_matches("a/**/b/*.info", "a/1/2/c/x.info"));
    assert_true(rn_policy_path_matches("cov-?.xml", "cov-1.xml"));
    assert_false(rn_policy_path_matches("*.xml", ".hidden.xml"));
}

static void test_job_globs(void **state) {
    (void)state;
    const char *globs[] = {"test", "deploy-*"};
    assert_true(rn_policy_job_matches(globs, 2, "test"));
    assert_true(rn_policy_job_matches(globs, 2, "TEST"));
    assert_true(rn_policy_job_matches(globs, 2, "deploy-staging"));
    assert_false(rn_policy_job_matches(globs, 2, "deploy"));
    assert_false(rn_policy_job_matches(globs, 2, "tests"));
}

static const char *fake_env_config, *fake_env_home;
static const char *fake_env(const char *name) {
    if (!strcmp(name, "RUNNEL_CONFIG"))
        return fake_env_config;
    if (!strcmp(name, "HOME"))
        return fake_env_home;
    return NULL;
}

static void test_location(void **state) {
    (void)state;
    char *sys = rn_xprintf("%s/etc-config.yml", ws);
    fake_env_config = "/x/given.yml";
    fake_env_home = ws;
    char *p = rn_policy_path(fake_env, sys);
    assert_string_equal(p, "/x/given.yml"); /* even when missing: loading reports it */
    free(p);
    fake_env_config = "";
    assert_null(rn_policy_path(fake_env, sys)); /* explicitly none */
    fake_env_config = NULL;
    assert_null(rn_policy_path(fake_env, sys)); /* no file anywhere */
    put(".config/runnel/config.yml", "policies: {}\n");
    p = rn_policy_path(fake_env, sys);
    char *want = rn_xprintf("%s/.config/runnel/config.yml", ws);
    assert_string_equal(p, want);
    free(p);
    free(want);
    put("etc-config.yml", "policies: {}\n");
    p = rn_policy_path(fake_env, sys);
    assert_string_equal(p, sys); /* the system file wins over the user's */
    free(p);
    free(sys);

    rn_diags d = RN_DIAGS_INIT;
    assert_null(rn_policy_load("/nonexistent/runnel.yml", &d));
    assert_int_equal(d.count, 1);
    char *m = rn_diag_format_cli(&d.items[0]);
    assert_string_equal(m, "/nonexistent/runnel.yml: cannot read the runnel config: No such file "
                           "or directory");
    free(m);
    rn_diags_free(&d);
}

static void test_parse_errors(void **state) {
    (void)state;
    rn_diags d = RN_DIAGS_INIT;
    assert_null(rn_policy_load(RN_VERIFY_FIXTURES "/bad-config.yml", &d));
    rn_sb sb = RN_SB_INIT;
    for (size_t i = 0; i < d.count; i++) {
        char *m = rn_diag_format_cli(&d.items[i]);
        const char *slash = strrchr(m, '/'); /* the fixture's folder varies */
        rn_sb_printf(&sb, "%s\n", slash ? slash + 1 : m);
        free(m);
    }
    assert_string_equal(
        rn_sb_str(&sb),
        "bad-config.yml:4:16: minimum '170' is not a percentage from 0 to 100\n"
        "bad-config.yml:5:16: counter 'LINES' is not one of INSTRUCTION, BRANCH, LINE\n"
        "bad-config.yml:6:16: reports must be a glob or a non-empty list of globs\n"
        "bad-config.yml:7:7: a coverage policy needs jobs or reports to say where it applies\n"
        "bad-config.yml:9:7: unknown coverage policy key 'colour' (jobs, reports, minimum, "
        "counter, element)\n"
        "bad-config.yml:12:14: count '0' is not a number from 1 to 100000\n"
        "bad-config.yml:15:11: unknown probe key 'expected' (url, script, method, "
        "expected-status, body-contains, json-field, json-value, headers, timeout)\n"
        "bad-config.yml:16:7: a verify policy needs jobs to say which jobs it verifies\n"
        "bad-config.yml:18:7: unknown verify policy key 'retries' (jobs, url, probes, script, "
        "expected-status, body-contains, json-field, json-value, headers, method, "
        "request-timeout, initial-delay, interval, count, failure-limit, timeout, rollback)\n"
        "bad-config.yml:19:3: unknown policy 'audit' (coverage, verify)\n"
        "bad-config.yml:20:1: unknown runnel config key 'cache' (policies)\n");
    rn_sb_free(&sb);
    rn_diags_free(&d);

    d = (rn_diags)RN_DIAGS_INIT;
    assert_null(rn_policy_parse("c.yml", "policies:\n  verify: {jobs: x}\n", 29, &d));
    char *m = rn_diag_format_cli(&d.items[0]);
    assert_string_equal(m, "c.yml:2:11: policies.verify must be a list of rules");
    free(m);
    rn_diags_free(&d);

    d = (rn_diags)RN_DIAGS_INIT;
    assert_null(rn_policy_parse("c.yml", "policies: [\n", 12, &d));
    assert_true(d.count >= 1);
    assert_string_equal(d.items[0].file, "c.yml");
    rn_diags_free(&d);
}

static void test_parse_example(void **state) {
    (void)state;
    rn_diags d = RN_DIAGS_INIT;
    rn_policy *p = rn_policy_load(RN_VERIFY_FIXTURES "/config.yml", &d);
    assert_non_null(p);
    assert_int_equal(p->ncoverage, 2);
    assert_int_equal(p->coverage[0].njobs, 2);
    assert_string_equal(p->coverage[0].jobs[1], "unit-*");
    assert_int_equal(p->coverage[0].nreports, 0);
    assert_int_equal(p->coverage[0].gate.minimum_milli, 70000);
    assert_int_equal(p->coverage[0].gate.counter, RN_COV_LINE);
    assert_int_equal(p->coverage[0].line, 4);
    assert_int_equal(p->coverage[1].gate.minimum_milli, 75500);
    assert_int_equal(p->coverage[1].gate.element, RN_COV_PACKAGE);
    assert_string_equal(p->coverage[1].reports[0], "**/lcov.info");
    assert_int_equal(p->nverify, 1);
    const rn_verify_spec *s = &p->verify[0].spec;
    assert_int_equal(s->nprobes, 2);
    assert_string_equal(s->probes[1].label, "GET http://127.0.0.1:8080/api/catalog");
    assert_string_equal(s->probes[1].json_field, "items.0.id");
    assert_int_equal(s->count, 3);
    assert_int_equal(s->interval_ms, 2000);
    assert_int_equal(s->failure_limit, 1);
    assert_string_equal(s->rollback, "./scripts/rollback.sh");
    rn_policy_free(p);
    rn_diags_free(&d);

    /* empty file, or no policies: nothing applies */
    p = parse("");
    assert_int_equal(p->ncoverage + p->nverify, 0);
    rn_sb out = RN_SB_INIT;
    assert_int_equal(rn_policy_jobs_coverage(p, "test", ws, 0, &out), RN_POLICY_NONE);
    assert_int_equal(out.len, 0);
    rn_policy_free(p);
}

static void test_find_reports(void **state) {
    (void)state;
    put("target/site/jacoco/jacoco.xml", "x");
    put("jacoco.xml", "x");
    put("mod/b/lcov.info", "x");
    put(".git/jacoco.xml", "x");
    put("target/other.xml", "x");
    const char *globs[] = {"**/jacoco.xml", "**/lcov.info"};
    size_t n;
    char **f = rn_policy_find_reports(ws, globs, 2, 0, &n);
    assert_int_equal(n, 3);
    assert_string_equal(f[0], "jacoco.xml");
    assert_string_equal(f[1], "mod/b/lcov.info");
    assert_string_equal(f[2], "target/site/jacoco/jacoco.xml");
    for (size_t i = 0; i < n; i++)
        free(f[i]);
    free(f);
    /* only what the job produced: files older than its start are left out */
    time_t now = time(NULL);
    age("jacoco.xml", now - 3600);
    f = rn_policy_find_reports(ws, globs, 2, now - 60, &n);
    assert_int_equal(n, 2);
    assert_string_equal(f[0], "mod/b/lcov.info");
    for (size_t i = 0; i < n; i++)
        free(f[i]);
    free(f);
}

static char *gate(rn_policy *p, const char *job, rn_policy_status want) {
    rn_sb out = RN_SB_INIT;
    rn_policy_status st = rn_policy_jobs_coverage(p, job, ws, 0, &out);
    if (st != want)
        fail_msg("status %d, expected %d; output:\n%s", st, want, rn_sb_str(&out));
    return rn_sb_take(&out);
}

static void test_coverage_gates(void **state) {
    (void)state;
    rn_policy *p = parse("policies:\n"
                         "  coverage:\n"
                         "    - jobs: [test]\n"
                         "    - jobs: [strict]\n"
                         "      minimum: 50\n"
                         "      element: PACKAGE\n"
                         "    - reports: ['**/lcov.info']\n"
                         "      minimum: 76.5\n");
    /* no report yet: a job named by the policy fails, report-only rules do not apply */
    char *out = gate(p, "test", RN_POLICY_FAIL);
    assert_string_equal(out, "policy coverage (config.yml:3:7) for job 'test': LINE >= 70% per "
                             "BUNDLE\n"
                             "error: no coverage report matching **/jacoco.xml, "
                             "**/cobertura.xml, **/coverage.xml, **/lcov.info in the workspace\n");
    free(out);
    out = gate(p, "build", RN_POLICY_NONE);
    assert_string_equal(out, "");
    free(out);

    put_fixture("target/site/jacoco/jacoco.xml", "jacoco-small.xml");
    out = gate(p, "Test", RN_POLICY_FAIL); /* 60.0% < 70% */
    assert_string_equal(out, "policy coverage (config.yml:3:7) for job 'Test': LINE >= 70% per "
                             "BUNDLE\n"
                             "reports: target/site/jacoco/jacoco.xml\n"
                             "coverage gate: LINE >= 70.0% per BUNDLE\n"
                             "ELEMENT  NAME            RATIO  COVERED  MISSED\n"
                             "bundle   total           60.0%       12       8\n"
                             "package  com.shop.util   16.6%        1       5\n"
                             "package  com.shop        78.5%       11       3\n"
                             "FAIL: LINE 60.0% < 70.0%\n");
    free(out);
    out = gate(p, "strict", RN_POLICY_FAIL); /* com.shop.util 16.6% < 50% */
    assert_non_null(strstr(out, "FAIL:"));
    free(out);

    put_fixture("web/lcov.info", "lcov-small.info"); /* 76.4% */
    out = gate(p, "build", RN_POLICY_FAIL);
    assert_string_equal(out, "policy coverage (config.yml:7:7) for job 'build': LINE >= 76.5% per "
                             "BUNDLE\n"
                             "reports: web/lcov.info\n"
                             "coverage gate: LINE >= 76.5% per BUNDLE\n"
                             "ELEMENT  NAME        RATIO  COVERED  MISSED\n"
                             "bundle   total       76.4%       13       4\n"
                             "package  src         50.0%        2       2\n"
                             "package  src/lib     66.6%        2       1\n"
                             "package  (default)   90.0%        9       1\n"
                             "FAIL: LINE 76.4% < 76.5%\n");
    free(out);
    rn_policy_free(p);

    p = parse("policies:\n  coverage:\n    - {jobs: [test], minimum: 55}\n");
    out = gate(p, "test", RN_POLICY_PASS); /* both reports merged: 25/37 = 67.5% */
    assert_non_null(strstr(out, "reports: target/site/jacoco/jacoco.xml web/lcov.info\n"));
    assert_non_null(strstr(out, "PASS: LINE 67.5% >= 55.0%\n"));
    free(out);
    /* a malformed report is an error, never a pass */
    put_fixture("broken/coverage.xml", "truncated.xml");
    out = gate(p, "test", RN_POLICY_FAIL);
    assert_non_null(strstr(out, "error: broken/coverage.xml:5:1: unexpected end of file: "
                                "<package> opened at 3:3 is not closed\n"));
    free(out);
    rn_policy_free(p);
}

static void cap_log(void *ud, rn_verify_log kind, const char *text) {
    (void)kind;
    rn_sb_printf(ud, "%s\n", text);
}

static void test_verify_gates(void **state) {
    (void)state;
    rn_policy *p = parse("policies:\n"
                         "  verify:\n"
                         "    - jobs: [deploy*]\n"
                         "      script: test -f healthy\n"
                         "      rollback: touch rolled-back\n");
    const char *const env[] = {"PATH=/usr/bin:/bin", NULL};
    rn_sb log = RN_SB_INIT, out = RN_SB_INIT;
    rn_verify_io io = {cap_log, NULL, NULL, &log, env, ws};
    assert_int_equal(rn_policy_jobs_verify(p, "test", &io, &out), RN_POLICY_NONE);
    assert_int_equal(out.len + log.len, 0);

    assert_int_equal(rn_policy_jobs_verify(p, "deploy-staging", &io, &out), RN_POLICY_FAIL);
    char *rb = rn_xprintf("%s/rolled-back", ws);
    assert_int_equal(access(rb, F_OK), 0);
    unlink(rb);
    assert_true(!strncmp(rn_sb_str(&log),
                         "policy verify (config.yml:3:7) for job 'deploy-staging'\n"
                         "verify: [1/1] +0.000s script: test -f healthy -> exit 1 (",
                         113));
    assert_true(!strncmp(rn_sb_str(&out),
                         "policy verify (config.yml:3:7) for job 'deploy-staging'\n"
                         "#  ROUND  TIME     PROBE                    RESULT  CODE  LATENCY",
                         119));
    assert_non_null(strstr(rn_sb_str(&out),
                           "verify: failed: probe 1 (script: test -f healthy) failed 1 time, "
                           "more than failure-limit 0 (1 measurement, 1 failed)\n"
                           "rollback: done (exit code 0)\n"));

    put("healthy", "");
    rn_sb_clear(&out);
    assert_int_equal(rn_policy_jobs_verify(p, "deploy", &io, &out), RN_POLICY_PASS);
    assert_non_null(strstr(rn_sb_str(&out), "verify: passed (1 measurement, 0 failed, "
                                            "failure-limit 0)\n"));
    assert_int_equal(access(rb, F_OK), -1); /* no rollback when it passes */
    free(rb);
    rn_sb_free(&out);
    rn_sb_free(&log);
    rn_policy_free(p);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_path_globs),
        cmocka_unit_test(test_job_globs),
        cmocka_unit_test_setup_teardown(test_location, mk_ws, rm_ws),
        cmocka_unit_test(test_parse_errors),
        cmocka_unit_test_setup_teardown(test_parse_example, mk_ws, rm_ws),
        cmocka_unit_test_setup_teardown(test_find_reports, mk_ws, rm_ws),
        cmocka_unit_test_setup_teardown(test_coverage_gates, mk_ws, rm_ws),
        cmocka_unit_test_setup_teardown(test_verify_gates, mk_ws, rm_ws),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
