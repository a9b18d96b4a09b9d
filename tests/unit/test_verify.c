/* actions/verify.c: probe engine against a local libmicrohttpd server on 127.0.0.1 (ephemeral
 * port), script probes, rollback, the built-in action and the `runnel verify` CLI. */
#include "actions/step.h"
#include "actions/verify.h"
#include "common/strbuf.h"
#include "sandbox/proc.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

/* ---- the test server ---- */

static struct MHD_Daemon *daemon_;
static int port;
static atomic_int hits;      /* requests served */
static atomic_int flap_left; /* /flap answers 503 while this is > 0 */
static atomic_long first_hit_ms;

static long mono_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static enum MHD_Result reply(struct MHD_Connection *c, unsigned code, const char *body) {
    struct MHD_Response *r =
        MHD_create_response_from_buffer(strlen(body), (void *)body, MHD_RESPMEM_MUST_COPY);
    enum MHD_Result ret = MHD_queue_response(c, code, r);
    MHD_destroy_response(r);
    return ret;
}

static enum MHD_Result handler(void *cls, struct MHD_Connection *c, const char *url,
                               const char *method, const char *version, const char *upload,
                               size_t *upload_size, void **state) {
    (void)cls, (void)version, (void)upload;
    if (!*state) { /* first call: headers only */
        *state = (void *)1;
        return MHD_YES;
    }
    if (*upload_size) {
        *upload_size = 0;
        return MHD_YES;
    }
    long expected = 0;
    atomic_compare_exchange_strong(&first_hit_ms, &expected, mono_ms());
    atomic_fetch_add(&hits, 1);
    if (!strcmp(url, "/health"))
        return reply(c, 200, "ok: healthy");
    if (!strcmp(url, "/fail"))
        return reply(c, 500, "boom");
    if (!strcmp(url, "/slow")) {
        usleep(1500 * 1000);
        return reply(c, 200, "late");
    }
    if (!strcmp(url, "/flap")) {
        if (atomic_fetch_sub(&flap_left, 1) > 0)
            return reply(c, 503, "not yet");
        return reply(c, 200, "up");
    }
    if (!strcmp(url, "/json"))
        return reply(c, 200,
                     "{\"status\": \"up\", \"items\": [{\"id\": 7, \"tags\": null}], "
                     "\"ok\": true, \"ratio\": 0.5}");
    if (!strcmp(url, "/auth")) {
        const char *t = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-Token");
        return t && !strcmp(t, "s3cret") ? reply(c, 200, "welcome") : reply(c, 401, "who?");
    }
    if (!strcmp(url, "/post"))
        return !strcmp(method, "POST") ? reply(c, 201, "created") : reply(c, 405, "no");
    return reply(c, 404, "not found");
}

static int server_up(void **state) {
    (void)state;
    struct sockaddr_in sa = {0};
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK); /* loopback only, ephemeral port */
    daemon_ =
        MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION, 0, NULL,
                         NULL, handler, NULL, MHD_OPTION_SOCK_ADDR, &sa, MHD_OPTION_END);
    if (!daemon_)
        return -1;
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(daemon_, MHD_DAEMON_INFO_BIND_PORT);
    port = info->port;
    return 0;
}

static int server_down(void **state) {
    (void)state;
    MHD_stop_daemon(daemon_);
    return 0;
}

static int reset(void **state) {
    (void)state;
    atomic_store(&hits, 0);
    atomic_store(&flap_left, 0);
    atomic_store(&first_hit_ms, 0);
    return 0;
}

/* ---- helpers ---- */

static char *url(const char *path) {
    return rn_xprintf("http://127.0.0.1:%d%s", port, path);
}

typedef struct captured {
    rn_sb text;
} captured;

static void cap_log(void *ud, rn_verify_log kind, const char *text) {
    captured *c = ud;
    rn_sb_printf(&c->text, "%c %s\n",
                 kind == RN_VLOG_INFO     ? 'I'
                 : kind == RN_VLOG_OUTPUT ? 'O'
                                          : 'E',
                 text);
}

static const char *const env[] = {"PATH=/usr/bin:/bin", NULL};

/* Builds a spec from key=value pairs (NULL-terminated), asserting it is valid. */
static void spec(rn_verify_spec *s, ...) {
    rn_verify_spec_init(s);
    rn_diags d = RN_DIAGS_INIT;
    va_list ap;
    va_start(ap, s);
    const char *k;
    while ((k = va_arg(ap, const char *))) {
        const char *v = va_arg(ap, const char *);
        rn_verify_spec_set(s, k, v, NULL, 0, 0, &d);
    }
    va_end(ap);
    if (!d.count)
        rn_verify_spec_finish(s, NULL, 0, 0, &d);
    if (d.count)
        fail_msg("spec error: %s", d.items[0].message);
    rn_diags_free(&d);
}

static bool run(const rn_verify_spec *s, rn_verify_result *r, captured *c, const char *cwd) {
    rn_verify_io io = {cap_log, NULL, NULL, c, env, cwd};
    return rn_verify_run(s, &io, r);
}

/* ---- parsing ---- */

static void test_durations(void **state) {
    (void)state;
    assert_int_equal(rn_verify_parse_duration("5s"), 5000);
    assert_int_equal(rn_verify_parse_duration("500ms"), 500);
    assert_int_equal(rn_verify_parse_duration("1m"), 60000);
    assert_int_equal(rn_verify_parse_duration("1m30s"), 90000);
    assert_int_equal(rn_verify_parse_duration("1h"), 3600000);
    assert_int_equal(rn_verify_parse_duration("1.5s"), 1500);
    assert_int_equal(rn_verify_parse_duration("5"), 5000);
    assert_int_equal(rn_verify_parse_duration(" 0.25 "), 250);
    assert_int_equal(rn_verify_parse_duration("0"), 0);
    assert_int_equal(rn_verify_parse_duration(""), -1);
    assert_int_equal(rn_verify_parse_duration("5x"), -1);
    assert_int_equal(rn_verify_parse_duration("-1s"), -1);
    assert_int_equal(rn_verify_parse_duration("1m30"), -1);
    assert_int_equal(rn_verify_parse_duration("s"), -1);
    assert_int_equal(rn_verify_parse_duration("8d"), -1);
}

static void test_status_specs(void **state) {
    (void)state;
    int lo[4], hi[4];
    assert_int_equal(rn_verify_parse_status("200", lo, hi, 4), 1);
    assert_int_equal(lo[0], 200);
    assert_int_equal(hi[0], 200);
    assert_int_equal(rn_verify_parse_status("2xx", lo, hi, 4), 1);
    assert_int_equal(lo[0], 200);
    assert_int_equal(hi[0], 299);
    assert_int_equal(rn_verify_parse_status("200-204, 301,4XX", lo, hi, 4), 3);
    assert_int_equal(hi[0], 204);
    assert_int_equal(lo[1], 301);
    assert_int_equal(lo[2], 400);
    assert_int_equal(hi[2], 499);
    assert_int_equal(rn_verify_parse_status("[200, \"204\"]", lo, hi, 4), 2);
    assert_int_equal(lo[1], 204);
    assert_int_equal(rn_verify_parse_status("20", lo, hi, 4), -1);
    assert_int_equal(rn_verify_parse_status("600", lo, hi, 4), -1);
    assert_int_equal(rn_verify_parse_status("300-200", lo, hi, 4), -1);
    assert_int_equal(rn_verify_parse_status("200,", lo, hi, 4), -1);
    assert_int_equal(rn_verify_parse_status("6xx", lo, hi, 4), -1);
    assert_int_equal(rn_verify_parse_status("1,2,3,4,5", lo, hi, 4), -1);
}

/* Every error of a bad spec, formatted FILE:LINE:COL. */
static char *spec_errors(const char *const *kv) {
    rn_verify_spec s;
    rn_verify_spec_init(&s);
    rn_diags d = RN_DIAGS_INIT;
    for (; *kv; kv += 2)
        rn_verify_spec_set(&s, kv[0], kv[1], !strcmp(kv[0], "probes") ? "probes" : NULL, 0, 0, &d);
    if (!d.count)
        rn_verify_spec_finish(&s, NULL, 0, 0, &d);
    rn_sb sb = RN_SB_INIT;
    for (size_t i = 0; i < d.count; i++) {
        char *m = rn_diag_format_cli(&d.items[i]);
        rn_sb_printf(&sb, "%s\n", m);
        free(m);
    }
    rn_diags_free(&d);
    rn_verify_spec_free(&s);
    return rn_sb_take(&sb);
}

static void expect_errors(const char *const *kv, const char *want) {
    char *got = spec_errors(kv);
    assert_string_equal(got ? got : "", want);
    free(got);
}

static void test_spec_errors(void **state) {
    (void)state;
    expect_errors((const char *[]){NULL}, "verify needs a probe: url, probes or script\n");
    expect_errors((const char *[]){"url", "http://x", "count", "0", NULL},
                  "count '0' is not a number from 1 to 100000\n");
    expect_errors((const char *[]){"url", "http://x", "failure-limit", "-1", NULL},
                  "failure-limit '-1' is not a number from 0 to 100000\n");
    expect_errors((const char *[]){"url", "http://x", "interval", "soon", NULL},
                  "interval 'soon' is not a duration (5s, 500ms, 1m, seconds)\n");
    expect_errors((const char *[]){"url", "http://x", "timeout", "0", NULL},
                  "timeout '0' is not a positive duration (5s, 500ms, 1m, seconds)\n");
    expect_errors((const char *[]){"url", "http://x", "expected-status", "ok", NULL},
                  "expected-status 'ok' is not a status list (200, 2xx, 200-299, 200,204)\n");
    expect_errors((const char *[]){"url", "http://x", "json-value", "up", NULL},
                  "json-value needs json-field\n");
    expect_errors((const char *[]){"url", "http://x", "headers", "no colon here", NULL},
                  "headers must be 'Name: value' lines\n");
    expect_errors((const char *[]){"url", "http://x", "method", "G E T", NULL},
                  "method 'G E T' is not an HTTP method\n");
    expect_errors((const char *[]){"bogus", "1", NULL}, "unknown verify setting 'bogus'\n");
    expect_errors((const char *[]){"probes",
                                   "- url: http://a\n"
                                   "  urll: x\n"
                                   "- script: ./s.sh\n"
                                   "  url: http://b\n"
                                   "- method: POST\n"
                                   "- timeout: never\n"
                                   "  url: http://c\n"
                                   "- just text\n",
                                   NULL},
                  "probes:2:3: unknown probe key 'urll' (url, script, method, expected-status, "
                  "body-contains, json-field, json-value, headers, timeout)\n"
                  "probes:3:3: a probe has either url or script, not both\n"
                  "probes:5:3: a probe needs url or script\n"
                  "probes:6:12: timeout 'never' is not a positive duration (5s, 500ms, 1m, "
                  "seconds)\n"
                  "probes:8:3: a probe must be a mapping (url: ... or script: ...)\n");
    expect_errors((const char *[]){"probes", "[{url: a}, {url: b", NULL},
                  "probes:2:1: YAML syntax error: did not find expected ',' or '}' while "
                  "parsing a flow mapping\n");
    expect_errors((const char *[]){"probes", "url: 5", "probes", "\"x\"", NULL},
                  "probes:1:1: probes must be a list of probe mappings\n");
}

/* Settings at the top are defaults for probes that do not set them. */
static void test_spec_defaults(void **state) {
    (void)state;
    rn_verify_spec s;
    spec(&s, "probes",
         "[{url: 'http://a/x', expected-status: 404, headers: {X-A: '1'}},\n"
         " {url: 'http://b/y', method: post, json-field: n},\n"
         " {script: \"echo one\\necho two\", timeout: 2s}]",
         "url", "http://c/z", "expected-status", "2xx", "body-contains", "ok", "json-field",
         "status", "json-value", "up", "headers", "X-B: 2\nX-C: 3", "request-timeout", "3s",
         "method", "head", NULL);
    assert_int_equal(s.nprobes, 4);
    const rn_probe *a = &s.probes[0], *b = &s.probes[1], *sc = &s.probes[2], *c = &s.probes[3];
    assert_string_equal(a->label, "HEAD http://a/x");
    assert_string_equal(a->status_text, "404");
    assert_int_equal(a->nheaders, 1);
    assert_string_equal(a->headers[0], "X-A: 1");
    assert_string_equal(a->json_field, "status");
    assert_string_equal(a->json_value, "up");
    assert_string_equal(a->body_contains, "ok");
    assert_int_equal(a->request_timeout_ms, 3000);
    assert_string_equal(b->label, "POST http://b/y");
    assert_string_equal(b->status_text, "2xx");
    assert_string_equal(b->json_field, "n");
    assert_null(b->json_value); /* its own field, no inherited value */
    assert_int_equal(b->nheaders, 2);
    assert_string_equal(b->headers[1], "X-C: 3");
    assert_int_equal(sc->kind, RN_PROBE_SCRIPT);
    assert_string_equal(sc->label, "script: echo one ...");
    assert_int_equal(sc->request_timeout_ms, 2000);
    assert_string_equal(c->label, "HEAD http://c/z");
    rn_verify_spec_free(&s);

    spec(&s, "url", "http://d", NULL);
    assert_string_equal(s.probes[0].label, "GET http://d");
    assert_string_equal(s.probes[0].status_text, "200");
    assert_int_equal(s.probes[0].request_timeout_ms, 10000);
    assert_int_equal(s.count, 1);
    assert_int_equal(s.failure_limit, 0);
    assert_int_equal(s.interval_ms, 10000);
    rn_verify_spec_free(&s);
}

/* ---- analyses against the server ---- */

static void test_healthy(void **state) {
    (void)state;
    char *u = url("/health");
    rn_verify_spec s;
    spec(&s, "url", u, "count", "3", "interval", "100ms", "body-contains", "healthy", NULL);
    rn_verify_result r;
    captured c = {RN_SB_INIT};
    assert_true(run(&s, &r, &c, NULL));
    assert_true(r.passed);
    assert_int_equal(r.n, 3);
    assert_int_equal(r.failures, 0);
    assert_int_equal(atomic_load(&hits), 3);
    assert_null(r.error);
    for (size_t i = 0; i < 3; i++) {
        assert_true(r.m[i].passed);
        assert_int_equal(r.m[i].code, 200);
        assert_int_equal(r.m[i].round, (int)i + 1);
        assert_string_equal(r.m[i].reason, "");
        assert_true(r.m[i].t_ms >= (long)i * 100); /* fixed-rate schedule */
    }
    assert_true(r.m[2].t_ms < 1000);
    assert_false(r.rollback_ran);
    /* one log line per measurement, in this form */
    char *want = rn_xprintf("I verify: [1/3] +0.%03lds GET %s -> 200 (%ld ms) passed\n",
                            r.m[0].t_ms, u, r.m[0].latency_ms);
    assert_true(!strncmp(rn_sb_str(&c.text), want, strlen(want)));
    free(want);
    rn_verify_result_free(&r);
    rn_verify_spec_free(&s);
    rn_sb_free(&c.text);
    free(u);
}

static void test_fail_fast_without_limit(void **state) {
    (void)state;
    char *u = url("/fail");
    rn_verify_spec s;
    spec(&s, "url", u, "count", "5", "interval", "50ms", NULL);
    rn_verify_result r;
    captured c = {RN_SB_INIT};
    assert_false(run(&s, &r, &c, NULL));
    /* failure-limit 0: the first failure already exceeds it, nothing more is measured */
    assert_int_equal(r.n, 1);
    assert_int_equal(r.failures, 1);
    assert_int_equal(r.m[0].code, 500);
    assert_string_equal(r.m[0].reason, "status 500, expected 200");
    char *want = rn_xprintf("probe 1 (GET %s) failed 1 time, more than failure-limit 0", u);
    assert_string_equal(r.error, want);
    free(want);
    assert_int_equal(atomic_load(&hits), 1);
    rn_verify_result_free(&r);
    rn_verify_spec_free(&s);
    rn_sb_free(&c.text);
    free(u);
}

/* Argo: fails when failures > failure-limit, so a limit equal to the failures passes. */
static void test_failure_limit_semantics(void **state) {
    (void)state;
    char *u = url("/fail");
    rn_verify_spec s;
    rn_verify_result r;
    captured c = {RN_SB_INIT};
    spec(&s, "url", u, "count", "3", "interval", "20ms", "failure-limit", "3", NULL);
    assert_true(run(&s, &r, &c, NULL));
    assert_int_equal(r.n, 3);
    assert_int_equal(r.failures, 3);
    rn_verify_result_free(&r);
    rn_verify_spec_free(&s);

    spec(&s, "url", u, "count", "3", "interval", "20ms", "failure-limit", "2", NULL);
    assert_false(run(&s, &r, &c, NULL));
    assert_int_equal(r.n, 3);
    assert_int_equal(r.failures, 3);
    char *want = rn_xprintf("probe 1 (GET %s) failed 3 times, more than failure-limit 2", u);
    assert_string_equal(r.error, want);
    free(want);
    rn_verify_result_free(&r);
    rn_verify_spec_free(&s);
    rn_sb_free(&c.text);
    free(u);
}

static void test_flapping(void **state) {
    (void)state;
    char *u = url("/flap");
    rn_verify_spec s;
    rn_verify_result r;
    captured c = {RN_SB_INIT};
    atomic_store(&flap_left, 2);
    spec(&s, "url", u, "count", "4", "interval", "20ms", "failure-limit", "2", NULL);
    assert_true(run(&s, &r, &c, NULL));
    assert_int_equal(r.n, 4);
    assert_int_equal(r.failures, 2);
    assert_false(r.m[0].passed);
    assert_false(r.m[1].passed);
    assert_true(r.m[2].passed);
    assert_true(r.m[3].passed);
    assert_int_equal(r.m[1].code, 503);
    rn_verify_result_free(&r);
    rn_verify_spec_free(&s);

    atomic_store(&flap_left, 2);
    spec(&s, "url", u, "count", "4", "interval", "20ms", "failure-limit", "1", NULL);
    assert_false(run(&s, &r, &c, NULL));
    assert_int_equal(r.n, 2);
    assert_int_equal(r.failures, 2);
    rn_verify_result_free(&r);
    rn_verify_spec_free(&s);
    rn_sb_free(&c.text);
    free(u);
}

static void test_request_timeout(void **state) {
    (void)state;
    char *u = url("/slow");
    rn_verify_spec s;
    rn_verify_result r;
    captured c = {RN_SB_INIT};
    spec(&s, "url", u, "request-timeout", "200ms", NULL);
    long t0 = mono_ms();
    assert_false(run(&s, &r, &c, NULL));
    long took = mono_ms() - t0;
    assert_true(took >= 200);
    assert_true(took < 1400); /* did not wait for the 1.5 s answer */
    assert_int_equal(r.n, 1);
    assert_int_equal(r.m[0].code, -1);
    assert_string_equal(r.m[0].reason, "no response within 200 ms");
    rn_verify_result_free(&r);
    rn_verify_spec_free(&s);
    rn_sb_free(&c.text);
    free(u);
}

static void test_initial_delay(void **state) {
    (void)state;
    char *u = url("/health");
    rn_verify_spec s;
    rn_verify_result r;
    captured c = {RN_SB_INIT};
    spec(&s, "url", u, "initial-delay", "400ms", "count", "2", "interval", "100ms", NULL);
    long t0 = mono_ms();
    assert_true(run(&s, &r, &c, NULL));
    assert_true(atomic_load(&first_hit_ms) - t0 >= 400); /* the server saw nothing earlier */
    assert_true(r.m[0].t_ms >= 400);
    assert_true(r.m[1].t_ms >= 500);
    rn_verify_result_free(&r);
    rn_verify_spec_free(&s);
    rn_sb_free(&c.text);
    free(u);
}

static void test_overall_timeout(void **state) {
    (void)state;
    char *u = url("/health");
    rn_verify_spec s;
    rn_verify_result r;
    captured c = {RN_SB_INIT};
    /* rounds start at +0, +100, +200, +300 ms; the one at +400 ms is past the timeout */
    spec(&s, "url", u, "count", "10", "interval", "100ms", "timeout", "350ms", NULL);
    assert_false(run(&s, &r, &c, NULL));
    assert_int_equal(r.n, 4);
    assert_int_equal(r.failures, 0);
    assert_string_equal(r.error, "timed out after 350ms with 4 of 10 measurements taken");
    rn_verify_result_free(&r);
    rn_verify_spec_free(&s);
    rn_sb_free(&c.text);
    free(u);
}

/* One HTTP probe's reason for `path` with extra settings; "" when it passes. */
static char *probe_reason(const char *path, ...) {
    char *u = url(path);
    rn_verify_spec s;
    rn_verify_spec_init(&s);
    rn_diags d = RN_DIAGS_INIT;
    rn_verify_spec_set(&s, "url", u, NULL, 0, 0, &d);
    va_list ap;
    va_start(ap, path);
    const char *k;
    while ((k = va_arg(ap, const char *)))
        rn_verify_spec_set(&s, k, va_arg(ap, const char *), NULL, 0, 0, &d);
    va_end(ap);
    rn_verify_spec_finish(&s, NULL, 0, 0, &d);
    assert_int_equal(d.count, 0);
    rn_verify_result r;
    captured c = {RN_SB_INIT};
    bool ok = run(&s, &r, &c, NULL);
    assert_int_equal(r.n, 1);
    assert_int_equal(ok, r.m[0].passed);
    char *reason = rn_xstrdup(r.m[0].reason);
    rn_verify_result_free(&r);
    rn_verify_spec_free(&s);
    rn_diags_free(&d);
    rn_sb_free(&c.text);
    free(u);
    return reason;
}

#define EXPECT_REASON(want, ...)                                                                   \
    do {                                                                                           \
        char *got_ = probe_reason(__VA_ARGS__, NULL);                                              \
        assert_string_equal(got_, want);                                                           \
        free(got_);                                                                                \
    } while (0)

static void test_checks(void **state) {
    (void)state;
    EXPECT_REASON("", "/json", "json-field", "status", "json-value", "up");
    EXPECT_REASON("", "/json", "json-field", "items.0.id", "json-value", "7");
    EXPECT_REASON("", "/json", "json-field", "ok", "json-value", "true");
    EXPECT_REASON("", "/json", "json-field", "ratio", "json-value", "0.5");
    EXPECT_REASON("", "/json", "json-field", "items.0");
    EXPECT_REASON("JSON field 'items.0.id' is '7', expected '8'", "/json", "json-field",
                  "items.0.id", "json-value", "8");
    EXPECT_REASON("JSON field 'items.1.id' is missing", "/json", "json-field", "items.1.id");
    EXPECT_REASON("JSON field 'items.0.tags' is missing", "/json", "json-field", "items.0.tags");
    EXPECT_REASON("", "/json", "json-field", "items.0.tags", "json-value", "null");
    EXPECT_REASON("body is not JSON: invalid token near 'ok'", "/health", "json-field", "status");
    EXPECT_REASON("body does not contain 'sick'", "/health", "body-contains", "sick");
    EXPECT_REASON("status 401, expected 200", "/auth");
    EXPECT_REASON("", "/auth", "headers", "X-Token: s3cret");
    EXPECT_REASON("", "/auth", "expected-status", "4xx");
    EXPECT_REASON("status 401, expected 200-299,500", "/auth", "expected-status", "200-299,500");
    EXPECT_REASON("", "/post", "method", "post", "expected-status", "201");
    EXPECT_REASON("status 405, expected 200", "/post");
    EXPECT_REASON("status 404, expected 200", "/nothing");
}

static void test_connection_refused(void **state) {
    (void)state;
    rn_verify_spec s;
    rn_verify_result r;
    captured c = {RN_SB_INIT};
    /* port 1 on loopback: nobody listens there */
    spec(&s, "url", "http://127.0.0.1:1/health", NULL);
    assert_false(run(&s, &r, &c, NULL));
    assert_int_equal(r.m[0].code, -1);
    assert_non_null(strstr(r.m[0].reason, "127.0.0.1 port 1"));
    rn_verify_result_free(&r);
    rn_verify_spec_free(&s);
    rn_sb_free(&c.text);
}

static char tmpdir[64];

static int mk_tmp(void **state) {
    (void)state;
    strcpy(tmpdir, "/tmp/rn-verify-XXXXXX");
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int rm_tmp(void **state) {
    (void)state;
    char *cmd = rn_xprintf("rm -rf '%s'", tmpdir);
    int rc = system(cmd);
    free(cmd);
    return rc;
}

static int mk_tmp_reset(void **state) {
    reset(state);
    return mk_tmp(state);
}

static void put_file(const char *name, const char *text) {
    char *p = rn_xprintf("%s/%s", tmpdir, name);
    FILE *f = fopen(p, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    free(p);
}

static bool exists(const char *dir, const char *name) {
    char *p = rn_xprintf("%s/%s", dir, name);
    struct stat st;
    bool r = stat(p, &st) == 0;
    free(p);
    return r;
}

static void test_script_probes_and_rollback(void **state) {
    (void)state;
    rn_verify_spec s;
    rn_verify_result r;
    captured c = {RN_SB_INIT};
    /* passing: the rollback does not run */
    spec(&s, "script", "test -d .", "script", "echo fine", "count", "2", "interval", "10ms",
         "rollback", "touch rolled-back", NULL);
    assert_true(run(&s, &r, &c, tmpdir));
    assert_int_equal(r.n, 4);
    assert_int_equal(r.m[1].code, 0);
    assert_int_equal(r.m[1].probe, 1);
    assert_false(r.rollback_ran);
    assert_false(exists(tmpdir, "rolled-back"));
    rn_verify_result_free(&r);
    rn_verify_spec_free(&s);
    rn_sb_clear(&c.text);

    /* failing: the script's output explains it, then the rollback runs in cwd */
    spec(&s, "script", "echo checking; echo 'service down' >&2; exit 3", "rollback",
         "echo rolling back; touch rolled-back", NULL);
    assert_false(run(&s, &r, &c, tmpdir));
    assert_int_equal(r.m[0].code, 3);
    assert_string_equal(r.m[0].reason, "exit code 3");
    assert_true(r.rollback_ran);
    assert_true(r.rollback_ok);
    assert_string_equal(r.rollback_status, "exit code 0");
    assert_true(exists(tmpdir, "rolled-back"));
    char *want = rn_xprintf(
        "O   | checking\n"
        "O   | service down\n"
        "I verify: [1/1] +0.000s script: echo checking; echo 'service down' >&2; exit 3 -> exit "
        "3 (%ld ms) failed: exit code 3\n"
        "I verify: running rollback: echo rolling back; touch rolled-back\n"
        "O rollback: rolling back\n"
        "I verify: rollback done: exit code 0\n",
        r.m[0].latency_ms);
    assert_string_equal(rn_sb_str(&c.text), want);
    free(want);
    rn_verify_result_free(&r);
    rn_verify_spec_free(&s);

    /* a failing rollback is reported as such */
    spec(&s, "script", "false", "rollback", "exit 4", NULL);
    assert_false(run(&s, &r, &c, tmpdir));
    assert_true(r.rollback_ran);
    assert_false(r.rollback_ok);
    assert_string_equal(r.rollback_status, "exit code 4");
    rn_verify_result_free(&r);
    rn_verify_spec_free(&s);

    /* a script probe past its timeout */
    spec(&s, "probes", "- {script: 'sleep 5', timeout: 300ms}", NULL);
    long t0 = mono_ms();
    assert_false(run(&s, &r, &c, tmpdir));
    assert_true(mono_ms() - t0 < 4000);
    assert_string_equal(r.m[0].reason, "timed out after 300 ms");
    rn_verify_result_free(&r);
    rn_verify_spec_free(&s);
    rn_sb_free(&c.text);
}

static void test_table(void **state) {
    (void)state;
    rn_verify_spec s;
    spec(&s, "url", "http://127.0.0.1:8080/health", "script", "./smoke.sh", "failure-limit", "1",
         NULL);
    rn_measurement m[3] = {
        {0, 1, 0, true, 200, 3, (char *)""},
        {12, 1, 1, false, 1, 1520, (char *)"exit code 1"},
        {10003, 2, 0, false, -1, 10000, (char *)"no response within 10000 ms"},
    };
    rn_verify_result r = {0};
    r.m = m;
    r.n = 3;
    r.failures = 2;
    r.error = (char *)"probe 1 (GET http://127.0.0.1:8080/health) failed 2 times, more than "
                      "failure-limit 1";
    r.rollback_ran = true;
    r.rollback_status = (char *)"exit code 0";
    r.rollback_ok = true;
    rn_sb out = RN_SB_INIT;
    rn_verify_table(&s, &r, &out);
    assert_string_equal(
        rn_sb_str(&out),
        "#  ROUND  TIME      PROBE                             RESULT  CODE  LATENCY  REASON\n"
        "1  1      +0.000s   GET http://127.0.0.1:8080/health  pass    200   3ms\n"
        "2  1      +0.012s   script: ./smoke.sh                fail    1     1520ms   exit code 1\n"
        "3  2      +10.003s  GET http://127.0.0.1:8080/health  fail    -     10000ms  no response "
        "within 10000 ms\n"
        "verify: failed: probe 1 (GET http://127.0.0.1:8080/health) failed 2 times, more than "
        "failure-limit 1 (3 measurements, 2 failed)\n"
        "rollback: done (exit code 0)\n");
    rn_sb_clear(&out);
    r.n = 1;
    r.failures = 0;
    r.error = NULL;
    r.passed = true;
    r.rollback_ran = false;
    rn_verify_table(&s, &r, &out);
    assert_string_equal(rn_sb_str(&out),
                        "#  ROUND  TIME     PROBE                             RESULT  CODE  "
                        "LATENCY  REASON\n"
                        "1  1      +0.000s  GET http://127.0.0.1:8080/health  pass    200   3ms\n"
                        "verify: passed (1 measurement, 0 failed, failure-limit 1)\n");
    rn_sb_free(&out);
    rn_verify_spec_free(&s);
}

/* ---- the built-in action ---- */

typedef struct sink_cap {
    rn_sb text;
} sink_cap;

static void sink_log(void *ud, rn_log_kind kind, const char *text) {
    sink_cap *c = ud;
    const char *k = kind == RN_LOG_ERROR     ? "error"
                    : kind == RN_LOG_WARNING ? "warning"
                    : kind == RN_LOG_OUTPUT  ? "output"
                                             : "info";
    rn_sb_printf(&c->text, "%s: %s\n", k, text);
}

static rn_step_status builtin(json_t *with, json_t *outputs, sink_cap *c) {
    rn_job j;
    rn_job_init(&j);
    j.sink.log = sink_log;
    j.sink.ud = c;
    json_object_set_new(j.base_env, "PATH", json_string("/usr/bin:/bin"));
    j.paths.workspace = tmpdir;
    json_object_set_new(j.env, "MARK", json_string("from-env"));
    rn_builtin_fn fn = rn_step_builtin("Runnel/Verify@v1");
    assert_non_null(fn);
    rn_step_status st = fn(&j, "runnel/verify@v1", with, outputs);
    rn_job_free(&j);
    return st;
}

static void test_builtin(void **state) {
    (void)state;
    char *u = url("/health"), *bad = url("/fail");
    sink_cap c = {RN_SB_INIT};
    json_t *out = json_object();
    json_t *with = json_pack("{s:s, s:i, s:s, s:s}", "url", u, "count", 2, "interval", "10ms",
                             "script", "test \"$MARK\" = from-env && test -d .");
    assert_int_equal(builtin(with, out, &c), RN_STEP_STATUS_SUCCESS);
    assert_string_equal(json_string_value(json_object_get(out, "result")), "passed");
    assert_string_equal(json_string_value(json_object_get(out, "measurements")), "4");
    assert_string_equal(json_string_value(json_object_get(out, "failures")), "0");
    assert_non_null(strstr(rn_sb_str(&c.text), "info: verify: passed (4 measurements, 0 failed, "
                                               "failure-limit 0)\n"));
    json_decref(with);
    json_decref(out);
    rn_sb_clear(&c.text);

    /* probes as a multi-line string, failure, rollback in the workspace */
    char *probes = rn_xprintf("- url: %s\n  expected-status: 2xx\n", bad);
    out = json_object();
    with = json_pack("{s:s, s:s, s:s}", "probes", probes, "rollback", "touch builtin-rollback",
                     "bogus", "1");
    assert_int_equal(builtin(with, out, &c), RN_STEP_STATUS_FAILURE);
    assert_string_equal(json_string_value(json_object_get(out, "result")), "failed");
    assert_string_equal(json_string_value(json_object_get(out, "measurements")), "1");
    assert_string_equal(json_string_value(json_object_get(out, "failures")), "1");
    assert_true(exists(tmpdir, "builtin-rollback"));
    const char *t = rn_sb_str(&c.text);
    const char *warn = "warning: Unexpected input(s) 'bogus', valid inputs are ['url', 'probes', "
                       "'script', 'expected-status', 'body-contains', 'json-field', 'json-value', "
                       "'headers', 'method', 'request-timeout', 'initial-delay', 'interval', "
                       "'count', 'failure-limit', 'timeout', 'rollback']\n";
    assert_true(!strncmp(t, warn, strlen(warn)));
    char *want = rn_xprintf("error: verification failed: probe 1 (GET %s) failed 1 time, more "
                            "than failure-limit 0\n",
                            bad);
    assert_non_null(strstr(t, want));
    assert_non_null(strstr(t, "info: verify: rollback done: exit code 0\n"));
    free(want);
    free(probes);
    json_decref(with);
    json_decref(out);
    rn_sb_clear(&c.text);

    /* bad inputs fail the step with the reason */
    out = json_object();
    with = json_pack("{s:s, s:s}", "probes", "- {url: x, method: 'a b'}", "count", "many");
    assert_int_equal(builtin(with, out, &c), RN_STEP_STATUS_FAILURE);
    assert_string_equal(rn_sb_str(&c.text),
                        "error: runnel/verify@v1: probes:1:20: method 'a b' is not an HTTP "
                        "method\n"
                        "error: runnel/verify@v1: count 'many' is not a number from 1 to 100000\n");
    json_decref(with);
    json_decref(out);
    rn_sb_free(&c.text);
    free(u);
    free(bad);
}

/* ---- runnel verify ---- */

typedef struct cli_out {
    int rc;
    char *out, *err;
} cli_out;

static cli_out cli(const char *const *args) {
    const char *argv[32] = {RUNNEL_BIN, "verify"};
    size_t n = 2;
    for (; *args; args++)
        argv[n++] = *args;
    argv[n] = NULL;
    rn_proc_opts o = {0};
    o.argv = argv;
    o.envp = env;
    o.cwd = tmpdir;
    o.stdout_mode = RN_STDIO_PIPE;
    o.stderr_mode = RN_STDIO_PIPE;
    o.timeout_ms = 60000;
    rn_proc_result r;
    cli_out c = {0};
    char *err = NULL;
    if (rn_proc_run(&o, &r, &c.out, &c.err, &err))
        fail_msg("cannot start runnel: %s", err);
    c.rc = r.status == RN_PROC_EXITED ? r.exit_code : -1;
    return c;
}

static void cli_free(cli_out *c) {
    free(c->out);
    free(c->err);
}

static size_t count_prefix(const char *text, const char *prefix) {
    size_t n = 0;
    for (const char *l = text; *l; l = strchr(l, '\n') + 1) {
        n += !strncmp(l, prefix, strlen(prefix));
        if (!strchr(l, '\n'))
            break;
    }
    return n;
}

static bool ends_with(const char *s, const char *tail) {
    size_t a = strlen(s), b = strlen(tail);
    return a >= b && !strcmp(s + a - b, tail);
}

static void test_cli(void **state) {
    (void)state;
    char *u = url("/health"), *bad = url("/fail");
    cli_out c = cli((const char *[]){"--url", u, "--count", "2", "--interval=50ms",
                                     "--body-contains", "healthy", NULL});
    assert_int_equal(c.rc, 0);
    assert_string_equal(c.err, "");
    assert_int_equal(count_prefix(c.out, "verify: [1/2] +0.0"), 1);
    assert_int_equal(count_prefix(c.out, "verify: [2/2] +0."), 1);
    char *line = rn_xprintf("GET %s -> 200 (", u);
    assert_non_null(strstr(c.out, line));
    free(line);
    assert_int_equal(count_prefix(c.out, "#  ROUND  TIME     PROBE"), 1);
    assert_true(ends_with(c.out, "verify: passed (2 measurements, 0 failed, failure-limit 0)\n"));
    assert_int_equal(atomic_load(&hits), 2);
    cli_free(&c);

    /* failure: exit 1, rollback output and verdict */
    c = cli((const char *[]){"--url", bad, "--url", u, "--rollback",
                             "echo rolled; touch cli-rollback", NULL});
    assert_int_equal(c.rc, 1);
    assert_non_null(strstr(c.out, "verify: running rollback: echo rolled; touch cli-rollback\n"
                                  "rollback: rolled\n"
                                  "verify: rollback done: exit code 0\n"));
    char *tail = rn_xprintf("verify: failed: probe 1 (GET %s) failed 1 time, more than "
                            "failure-limit 0 (1 measurement, 1 failed)\n"
                            "rollback: done (exit code 0)\n",
                            bad);
    assert_true(ends_with(c.out, tail));
    free(tail);
    assert_true(exists(tmpdir, "cli-rollback"));
    cli_free(&c);

    /* headers and a probes file */
    put_file("probes.yml", "- url: URL\n  expected-status: 2xx\n");
    char *probes = rn_xprintf("%s/probes.yml", tmpdir);
    char *auth = url("/auth");
    char *text = rn_xprintf("- url: %s\n  expected-status: 2xx\n", auth);
    put_file("probes.yml", text);
    free(text);
    c = cli((const char *[]){"--probes", probes, "--header", "X-Token: s3cret", NULL});
    assert_int_equal(c.rc, 0);
    cli_free(&c);
    c = cli((const char *[]){"--probes", probes, NULL});
    assert_int_equal(c.rc, 1);
    assert_non_null(strstr(c.out, "failed: status 401, expected 2xx\n"));
    cli_free(&c);
    put_file("probes.yml", "- url: x\n  exepcted-status: 200\n");
    c = cli((const char *[]){"--probes", probes, NULL});
    assert_int_equal(c.rc, 2);
    char *want = rn_xprintf("runnel verify: %s:2:3: unknown probe key 'exepcted-status' (url, "
                            "script, method, expected-status, body-contains, json-field, "
                            "json-value, headers, timeout)\n",
                            probes);
    assert_string_equal(c.err, want);
    assert_string_equal(c.out, "");
    free(want);
    cli_free(&c);
    free(probes);
    free(auth);

    /* usage errors: exit 2 */
    c = cli((const char *[]){"--url", u, "--count", "x", NULL});
    assert_int_equal(c.rc, 2);
    assert_string_equal(c.err, "runnel verify: --count 'x' is not a number from 1 to 100000\n");
    cli_free(&c);
    c = cli((const char *[]){NULL});
    assert_int_equal(c.rc, 2);
    assert_string_equal(c.err, "runnel verify: verify needs a probe: url, probes or script\n");
    cli_free(&c);
    c = cli((const char *[]){"--url", u, "--interval", NULL});
    assert_int_equal(c.rc, 2);
    assert_true(
        !strncmp(c.err, "runnel verify: --interval needs a value\nusage: runnel verify ", 61));
    cli_free(&c);
    c = cli((const char *[]){"--bogus", "1", NULL});
    assert_int_equal(c.rc, 2);
    assert_true(!strncmp(c.err, "runnel verify: unknown option '--bogus'\nusage:", 46));
    cli_free(&c);
    c = cli((const char *[]){"--probes", "/nonexistent.yml", NULL});
    assert_int_equal(c.rc, 2);
    assert_string_equal(c.err, "runnel verify: /nonexistent.yml: No such file or directory\n");
    cli_free(&c);
    c = cli((const char *[]){"--help", NULL});
    assert_int_equal(c.rc, 0);
    assert_true(!strncmp(c.out, "usage: runnel verify [--url URL]...", 35));
    cli_free(&c);
    free(u);
    free(bad);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_durations),
        cmocka_unit_test(test_status_specs),
        cmocka_unit_test(test_spec_errors),
        cmocka_unit_test(test_spec_defaults),
        cmocka_unit_test_setup(test_healthy, reset),
        cmocka_unit_test_setup(test_fail_fast_without_limit, reset),
        cmocka_unit_test_setup(test_failure_limit_semantics, reset),
        cmocka_unit_test_setup(test_flapping, reset),
        cmocka_unit_test_setup(test_request_timeout, reset),
        cmocka_unit_test_setup(test_initial_delay, reset),
        cmocka_unit_test_setup(test_overall_timeout, reset),
        cmocka_unit_test_setup(test_checks, reset),
        cmocka_unit_test_setup(test_connection_refused, reset),
        cmocka_unit_test_setup_teardown(test_script_probes_and_rollback, mk_tmp, rm_tmp),
        cmocka_unit_test(test_table),
        cmocka_unit_test_setup_teardown(test_builtin, mk_tmp, rm_tmp),
        cmocka_unit_test_setup_teardown(test_cli, mk_tmp_reset, rm_tmp),
    };
    return cmocka_run_group_tests(tests, server_up, server_down);
}
