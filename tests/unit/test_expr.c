/* Unit tests for workflow/expr.h: what GitHub's cross-language vectors do not pin (number
 * formatting, templates, status-function detection, host callbacks, limits, value helpers). */
#include "workflow/expr.h"

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

static const char *const k_named[] = {"github", "matrix"};
static const rn_expr_func k_funcs[] = {
    {"success", 0, 255}, {"failure", 0, 255},   {"cancelled", 0, 0},
    {"always", 0, 0},    {"hashFiles", 1, 255}, {"boom", 0, 0},
};
static const rn_expr_scope k_scope = {k_named, 2, k_funcs, 6};

typedef struct host_log {
    int calls;
    char last_name[64];
    size_t last_nargs;
} host_log;

static json_t *host(void *ud, const char *name, json_t *const *args, size_t nargs,
                    rn_expr_error *err) {
    host_log *log = ud;
    log->calls++;
    snprintf(log->last_name, sizeof log->last_name, "%s", name);
    log->last_nargs = nargs;
    if (!strcmp(name, "boom")) {
        err->kind = RN_EXPR_EVALUATION;
        snprintf(err->message, sizeof err->message, "boom went off");
        return NULL;
    }
    if (!strcmp(name, "hashFiles")) {
        /* Echo the patterns joined, so the test sees the arguments arrived. */
        char buf[256] = "";
        for (size_t i = 0; i < nargs; i++) {
            strcat(buf, i ? "|" : "");
            strcat(buf, json_string_value(args[i]));
        }
        return json_string(buf);
    }
    return json_true();
}

static json_t *contexts(void) {
    return json_loads("{\"github\": {\"event_name\": \"push\", \"Ref\": \"refs/heads/main\"},"
                      " \"matrix\": {\"os\": [\"a\", \"b\", \"c\"]}}",
                      0, NULL);
}

/* Evaluates and returns the result in toJSON form (caller frees), or "ERR(kind): message". */
static char *run(const char *text, size_t max_memory, host_log *log) {
    json_t *ctx_json = contexts();
    host_log local = {0};
    rn_expr_eval_ctx ctx = {ctx_json, host, log ? log : &local, max_memory};
    rn_expr_error err;
    json_t *v = rn_expr_evaluate(text, &k_scope, &ctx, &err);
    char *out;
    if (!v) {
        size_t n = strlen(err.message) + 32;
        out = malloc(n);
        snprintf(out, n, "ERR(%d): %s", (int)err.kind, err.message);
    } else {
        out = rn_value_to_json(v);
        json_decref(v);
    }
    json_decref(ctx_json);
    return out;
}

#define ASSERT_EVAL(text, expected)                                                                \
    do {                                                                                           \
        char *got_ = run(text, 0, NULL);                                                           \
        assert_string_equal(got_, expected);                                                       \
        free(got_);                                                                                \
    } while (0)

static void fmt_is(double d, const char *want) {
    char buf[32];
    rn_number_format(d, buf, sizeof buf);
    assert_string_equal(buf, want);
}

static void test_number_format(void **state) {
    (void)state;
    fmt_is(0.00001, "1E-05");
    fmt_is(0.0001, "0.0001");
    fmt_is(12345678901234567890.0, "1.23456789012346E+19");
    fmt_is(0.84551240822557006, "0.84551240822557");
    fmt_is(1e15, "1E+15");
    fmt_is(123456789012345.0, "123456789012345");
    fmt_is(-0.0, "0");
    fmt_is(-2.0, "-2");
    fmt_is(100, "100");
    fmt_is(1.5e-7, "1.5E-07");
    fmt_is(7e21, "7E+21"); /* past int64: must not be cast (UBSan found it) */
    fmt_is(-9.3e18, "-9.3E+18");
    fmt_is(1.7976931348623157e308, "1.79769313486232E+308");
    fmt_is(NAN, "NaN");
    fmt_is(INFINITY, "Infinity");
    fmt_is(-INFINITY, "-Infinity");
    /* Through the evaluator too: format() and toJSON() use the same rule. */
    ASSERT_EVAL("format('{0}', 0.00001)", "\"1E-05\"");
    ASSERT_EVAL("toJSON(12345678901234567890)", "\"1.23456789012346E+19\"");
}

static void test_templates(void **state) {
    (void)state;
    json_t *ctx_json = contexts();
    rn_expr_eval_ctx ctx = {ctx_json, NULL, NULL, 0};
    rn_expr_error err;

    rn_tmpl *t = rn_tmpl_parse("plain text", &k_scope, &err);
    assert_non_null(t);
    assert_true(rn_tmpl_is_literal(t));
    assert_int_equal(rn_tmpl_expr_count(t), 0);
    json_t *v = rn_tmpl_eval(t, &ctx, &err);
    assert_string_equal(json_string_value(v), "plain text");
    json_decref(v);
    rn_tmpl_free(t);

    /* One expression covering the whole value: the raw value, not a string. */
    t = rn_tmpl_parse("${{  matrix.os  }}", &k_scope, &err);
    assert_non_null(t);
    assert_false(rn_tmpl_is_literal(t));
    assert_int_equal(rn_tmpl_expr_count(t), 1);
    assert_non_null(rn_tmpl_expr_at(t, 0));
    assert_null(rn_tmpl_expr_at(t, 1));
    v = rn_tmpl_eval(t, &ctx, &err);
    assert_true(json_is_array(v));
    assert_int_equal(json_array_size(v), 3);
    json_decref(v);
    rn_tmpl_free(t);

    /* Literal text around it: a string concatenation with string forms. */
    t = rn_tmpl_parse("os=${{ matrix.os }} n=${{ 1.50 }}${{ null }}!${{ github.EVENT_NAME }}",
                      &k_scope, &err);
    assert_non_null(t);
    assert_int_equal(rn_tmpl_expr_count(t), 4);
    v = rn_tmpl_eval(t, &ctx, &err);
    assert_string_equal(json_string_value(v), "os=Array n=1.5!push");
    json_decref(v);
    rn_tmpl_free(t);

    /* Whitespace outside the braces is literal text (GitHub builds format() then). */
    t = rn_tmpl_parse(" ${{ 1 }}", &k_scope, &err);
    v = rn_tmpl_eval(t, &ctx, &err);
    assert_string_equal(json_string_value(v), " 1");
    json_decref(v);
    rn_tmpl_free(t);

    /* "}}" inside a string literal does not close the expression. */
    t = rn_tmpl_parse("${{ '}}' }}", &k_scope, &err);
    assert_non_null(t);
    v = rn_tmpl_eval(t, &ctx, &err);
    assert_string_equal(json_string_value(v), "}}");
    json_decref(v);
    rn_tmpl_free(t);

    assert_null(rn_tmpl_parse("a ${{ 1 ", &k_scope, &err));
    assert_int_equal(err.kind, RN_EXPR_PARSING);
    assert_string_equal(err.message, "The expression is not closed. An unescaped ${{ sequence "
                                     "was found, but the closing }} sequence was not found.");
    assert_null(rn_tmpl_parse("${{   }}", &k_scope, &err));
    assert_string_equal(err.message, "An expression was expected");
    assert_null(rn_tmpl_parse("x ${{ nope }}", &k_scope, &err));
    assert_string_equal(err.message,
                        "Unrecognized named-value: 'nope'. Located at position 1 within "
                        "expression: nope");

    /* An evaluation error inside a concatenation surfaces. */
    t = rn_tmpl_parse("x ${{ format('{0') }}", &k_scope, &err);
    assert_null(rn_tmpl_eval(t, &ctx, &err));
    assert_int_equal(err.kind, RN_EXPR_EVALUATION);
    rn_tmpl_free(t);
    json_decref(ctx_json);
}

static bool calls_status(const char *text) {
    rn_expr_error err;
    rn_expr *e = rn_expr_parse(text, &k_scope, &err);
    assert_non_null(e);
    bool r = rn_expr_calls_status_function(e);
    rn_expr_free(e);
    return r;
}

static void test_status_detection(void **state) {
    (void)state;
    assert_true(calls_status("success()"));
    assert_true(calls_status("ALWAYS()"));
    assert_true(calls_status("github.event_name == 'push' && Cancelled()"));
    assert_true(calls_status("fromJson(toJSON(failure()))"));
    assert_true(calls_status("123 || failure()"));
    assert_true(calls_status("success('build', 'test')"));
    assert_false(calls_status("true || 'success()'"));
    assert_false(calls_status("hashFiles('**/x') != ''"));
    assert_false(calls_status("github.success"));
    assert_false(calls_status(""));
}

static void test_host_functions(void **state) {
    (void)state;
    host_log log = {0};
    char *out = run("HASHFILES('a/**', 'b')", 0, &log);
    assert_string_equal(out, "\"a/**|b\"");
    assert_string_equal(log.last_name, "hashFiles"); /* the registered spelling */
    assert_int_equal(log.last_nargs, 2);
    assert_int_equal(log.calls, 1);
    free(out);

    out = run("success() && 'yes'", 0, NULL);
    assert_string_equal(out, "\"yes\"");
    free(out);

    out = run("boom()", 0, NULL);
    assert_string_equal(out, "ERR(3): boom went off");
    free(out);

    /* Short-circuit: the host is not called for the skipped operand. */
    memset(&log, 0, sizeof log);
    out = run("false && boom()", 0, &log);
    assert_string_equal(out, "false");
    assert_int_equal(log.calls, 0);
    free(out);

    /* format() evaluates only the arguments it references. */
    memset(&log, 0, sizeof log);
    out = run("format('{1}', boom(), 'x')", 0, &log);
    assert_string_equal(out, "\"x\"");
    assert_int_equal(log.calls, 0);
    free(out);

    /* Parse-time checks on host functions. */
    out = run("hashFiles()", 0, NULL);
    assert_string_equal(out, "ERR(2): Too few parameters supplied: 'hashFiles'. Located at "
                             "position 1 within expression: hashFiles()");
    free(out);
    out = run("always(1)", 0, NULL);
    assert_string_equal(out, "ERR(2): Too many parameters supplied: 'always'. Located at "
                             "position 1 within expression: always(1)");
    free(out);

    /* Without a callback a host function is an evaluation error, not a crash. */
    rn_expr_error err;
    rn_expr_eval_ctx ctx = {NULL, NULL, NULL, 0};
    assert_null(rn_expr_evaluate("always()", &k_scope, &ctx, &err));
    assert_int_equal(err.kind, RN_EXPR_EVALUATION);
}

static void test_memory_limit(void **state) {
    (void)state;
    /* 40 copies of a 60-char string: 40 * 2 * 60 bytes plus overhead, over a 4 KB limit. */
    const char *text = "format('{0}{0}{0}{0}{0}{0}{0}{0}{0}{0}{0}{0}{0}{0}{0}{0}{0}{0}{0}{0}"
                       "{0}{0}{0}{0}{0}{0}{0}{0}{0}{0}{0}{0}{0}{0}{0}{0}{0}{0}{0}{0}', "
                       "'0123456789012345678901234567890123456789012345678901234567890')";
    char *out = run(text, 4096, NULL);
    assert_memory_equal(out, "ERR(3): The maximum allowed memory size was exceeded", 52);
    free(out);
    out = run(text, 0, NULL); /* the default 1 MB is plenty */
    assert_int_equal(strlen(out), 2 + 40 * 61);
    free(out);
    /* The limit spans the whole evaluation: one result fits, two held at once do not. */
#define S40 "'0123456789012345678901234567890123456789'"
    out = run("format('{0}{0}{0}', " S40 ")", 400, NULL);
    assert_int_equal(strlen(out), 2 + 3 * 40);
    free(out);
    out = run("startsWith(format('{0}{0}{0}', " S40 "), format('{0}{0}{0}', " S40 "))", 400, NULL);
    assert_memory_equal(out, "ERR(3): The maximum allowed memory size was exceeded", 52);
    free(out);
#undef S40
}

static void test_limits_and_errors(void **state) {
    (void)state;
    char *big = malloc(21002);
    memset(big, ' ', 21001);
    big[0] = '1';
    big[21001] = 0;
    char *out = run(big, 0, NULL);
    assert_string_equal(out, "ERR(2): Exceeded max expression length 21000");
    free(out);
    /* Deep nesting is refused without exhausting the stack. */
    memset(big, '(', 21000);
    big[20999] = '1';
    big[21000] = 0;
    out = run(big, 0, NULL);
    assert_string_equal(out, "ERR(2): Exceeded max expression depth 50");
    free(out);
    free(big);
    /* Positions count UTF-16 units, like GitHub. */
    ASSERT_EVAL("'😊' == x", "ERR(2): Unrecognized named-value: 'x'. Located at position 9 within "
                            "expression: '😊' == x");
    ASSERT_EVAL("format('{0:x}', 1)",
                "ERR(3): The format specifiers 'x' are not valid for objects of type 'Number'");
    ASSERT_EVAL("fromJSON('{')", "ERR(3): Error parsing fromJson: string or '}' expected near "
                                 "end of file (line 1, column 1)");
}

static void test_values(void **state) {
    (void)state;
    /* Array index: floored, hex strings parse, negatives miss. */
    ASSERT_EVAL("matrix.os[1.9]", "\"b\"");
    ASSERT_EVAL("matrix.os[' 0x02 ']", "\"c\"");
    ASSERT_EVAL("matrix.os[-1]", "null");
    ASSERT_EVAL("github['REF']", "\"refs/heads/main\"");
    ASSERT_EVAL("'0x80000000' == -2147483648", "true");
    ASSERT_EVAL("'0x100000000' == 0", "false");
    ASSERT_EVAL("' infinity ' == Infinity", "true");

    /* NaN results are real numbers, not nulls. */
    json_t *ctx_json = contexts();
    rn_expr_eval_ctx ctx = {ctx_json, NULL, NULL, 0};
    rn_expr_error err;
    json_t *v = rn_expr_evaluate("NaN", &k_scope, &ctx, &err);
    assert_true(json_is_real(v));
    assert_true(isnan(json_real_value(v)));
    assert_string_equal(rn_value_kind(v), "Number");
    assert_false(rn_value_truthy(v));
    char *s = rn_value_to_string(v);
    assert_string_equal(s, "NaN");
    free(s);
    json_decref(v);
    v = rn_expr_evaluate("", &k_scope, &ctx, &err);
    assert_true(json_is_null(v));
    json_decref(v);
    json_decref(ctx_json);

    json_t *str = json_string(" 0x10 ");
    assert_true(rn_value_to_number(str) == 16);
    assert_true(rn_value_truthy(str));
    json_decref(str);
    json_t *arr = json_array();
    assert_true(isnan(rn_value_to_number(arr)));
    s = rn_value_to_string(arr);
    assert_string_equal(s, "Array");
    free(s);
    json_decref(arr);

    json_t *obj = json_loads("{\"Abc\": 1, \"aBC\": 2, \"x\": {\"k\": \"v\\n\"}}", 0, NULL);
    assert_int_equal((int)json_number_value(rn_object_iget(obj, "ABC")), 1);
    assert_int_equal((int)json_number_value(rn_object_iget(obj, "aBC")), 2);
    assert_null(rn_object_iget(obj, "abd"));
    s = rn_value_to_json(obj);
    assert_string_equal(s,
                        "{\n  \"Abc\": 1,\n  \"aBC\": 2,\n  \"x\": {\n    \"k\": \"v\\n\"\n  }\n}");
    free(s);
    json_decref(obj);

    assert_true(rn_str_icmp("a", "[") < 0); /* 'A' (65) < '[' (91) after uppercasing */
    assert_int_equal(rn_str_icmp("straße", "STRASSE") != 0, 1);
    assert_int_equal(rn_str_icmp("ÇÜ", "çü"), 0);
    assert_true(rn_str_icmp("ı", "I") != 0);
    assert_true(rn_str_icmp("İ", "i") != 0);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_number_format),    cmocka_unit_test(test_templates),
        cmocka_unit_test(test_status_detection), cmocka_unit_test(test_host_functions),
        cmocka_unit_test(test_memory_limit),     cmocka_unit_test(test_limits_and_errors),
        cmocka_unit_test(test_values),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
