/* Matrix expansion: the examples of GitHub's docs ("Running variations of jobs in a workflow":
 * adding a matrix, expanding or adding configurations, excluding) with their documented
 * results, the reader vector job-strategy.yml, GitHub's error messages, the 256-job limit and
 * default display names. */
#include "workflow/matrix.h"

#include "common/arena.h"
#include "common/strbuf.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

static json_t *parse(const char *text) {
    json_error_t jerr;
    json_t *v = json_loads(text, 0, &jerr);
    if (!v)
        fail_msg("bad test JSON: %s", jerr.text);
    return v;
}

/* Expands `matrix_json` and checks each leg's compact JSON against `expected` (NULL-ended). */
static void expect_legs(const char *matrix_json, const char *const *expected) {
    json_t *m = parse(matrix_json);
    rn_matrix out;
    rn_diags d = RN_DIAGS_INIT;
    bool ok = rn_matrix_expand(m, NULL, &out, &d);
    if (!ok)
        fail_msg("unexpected error: %s", d.items[0].message);
    size_t n = 0;
    while (expected[n])
        n++;
    assert_int_equal(out.count, n);
    for (size_t i = 0; i < n; i++) {
        char *got = json_dumps(out.legs[i].values, JSON_COMPACT);
        assert_string_equal(got, expected[i]);
        free(got);
    }
    rn_matrix_free(&out);
    rn_diags_free(&d);
    json_decref(m);
}

/* Expands and expects failure with exactly these messages (NULL-ended). */
static void expect_errors(const char *matrix_json, const char *const *messages) {
    json_t *m = parse(matrix_json);
    rn_matrix out;
    rn_diags d = RN_DIAGS_INIT;
    assert_false(rn_matrix_expand(m, NULL, &out, &d));
    assert_int_equal(out.count, 0);
    assert_null(out.legs);
    size_t n = 0;
    while (messages[n])
        n++;
    assert_int_equal(d.count, n);
    for (size_t i = 0; i < n; i++)
        assert_string_equal(d.items[i].message, messages[i]);
    rn_diags_free(&d);
    json_decref(m);
}

static void docs_basic_order(void **state) {
    (void)state;
    /* Docs: "The above matrix will create the jobs in the following order." */
    expect_legs("{\"version\":[10,12,14],\"os\":[\"ubuntu-latest\",\"windows-latest\"]}",
                (const char *const[]){
                    "{\"version\":10,\"os\":\"ubuntu-latest\"}",
                    "{\"version\":10,\"os\":\"windows-latest\"}",
                    "{\"version\":12,\"os\":\"ubuntu-latest\"}",
                    "{\"version\":12,\"os\":\"windows-latest\"}",
                    "{\"version\":14,\"os\":\"ubuntu-latest\"}",
                    "{\"version\":14,\"os\":\"windows-latest\"}",
                    NULL,
                });
}

static void docs_expanding_or_adding(void **state) {
    (void)state;
    /* Docs "Example: Expanding configurations": the six documented matrices, in order. */
    expect_legs("{\"fruit\":[\"apple\",\"pear\"],\"animal\":[\"cat\",\"dog\"],\"include\":["
                "{\"color\":\"green\"},"
                "{\"color\":\"pink\",\"animal\":\"cat\"},"
                "{\"fruit\":\"apple\",\"shape\":\"circle\"},"
                "{\"fruit\":\"banana\"},"
                "{\"fruit\":\"banana\",\"animal\":\"cat\"}]}",
                (const char *const[]){
                    "{\"fruit\":\"apple\",\"animal\":\"cat\",\"color\":\"pink\",\"shape\":"
                    "\"circle\"}",
                    "{\"fruit\":\"apple\",\"animal\":\"dog\",\"color\":\"green\",\"shape\":"
                    "\"circle\"}",
                    "{\"fruit\":\"pear\",\"animal\":\"cat\",\"color\":\"pink\"}",
                    "{\"fruit\":\"pear\",\"animal\":\"dog\",\"color\":\"green\"}",
                    "{\"fruit\":\"banana\"}",
                    "{\"fruit\":\"banana\",\"animal\":\"cat\"}",
                    NULL,
                });
}

static void docs_expanding_one_configuration(void **state) {
    (void)state;
    /* Docs: only {os: windows-latest, node: 16} gains npm: 6. */
    expect_legs("{\"os\":[\"windows-latest\",\"ubuntu-latest\"],\"node\":[14,16],"
                "\"include\":[{\"os\":\"windows-latest\",\"node\":16,\"npm\":6}]}",
                (const char *const[]){
                    "{\"os\":\"windows-latest\",\"node\":14}",
                    "{\"os\":\"windows-latest\",\"node\":16,\"npm\":6}",
                    "{\"os\":\"ubuntu-latest\",\"node\":14}",
                    "{\"os\":\"ubuntu-latest\",\"node\":16}",
                    NULL,
                });
}

static void docs_adding_configurations(void **state) {
    (void)state;
    /* Docs: an include that matches nothing is a new configuration, all its keys kept. */
    expect_legs("{\"os\":[\"windows-latest\",\"ubuntu-latest\"],\"version\":[12,14,16],"
                "\"include\":[{\"os\":\"windows-latest\",\"version\":17}]}",
                (const char *const[]){
                    "{\"os\":\"windows-latest\",\"version\":12}",
                    "{\"os\":\"windows-latest\",\"version\":14}",
                    "{\"os\":\"windows-latest\",\"version\":16}",
                    "{\"os\":\"ubuntu-latest\",\"version\":12}",
                    "{\"os\":\"ubuntu-latest\",\"version\":14}",
                    "{\"os\":\"ubuntu-latest\",\"version\":16}",
                    "{\"os\":\"windows-latest\",\"version\":17}",
                    NULL,
                });
    /* Docs: a matrix of only include entries. */
    expect_legs("{\"include\":[{\"site\":\"production\",\"datacenter\":\"site-a\"},"
                "{\"site\":\"staging\",\"datacenter\":\"site-b\"}]}",
                (const char *const[]){
                    "{\"site\":\"production\",\"datacenter\":\"site-a\"}",
                    "{\"site\":\"staging\",\"datacenter\":\"site-b\"}",
                    NULL,
                });
}

static void docs_excluding(void **state) {
    (void)state;
    /* Docs "Excluding matrix configurations": 12 combinations, one excluded exactly and two
     * by the partial entry {os: windows-latest, version: 16}: 9 jobs. */
    expect_legs("{\"os\":[\"macos-latest\",\"windows-latest\"],\"version\":[12,14,16],"
                "\"environment\":[\"staging\",\"production\"],\"exclude\":["
                "{\"os\":\"macos-latest\",\"version\":12,\"environment\":\"production\"},"
                "{\"os\":\"windows-latest\",\"version\":16}]}",
                (const char *const[]){
                    "{\"os\":\"macos-latest\",\"version\":12,\"environment\":\"staging\"}",
                    "{\"os\":\"macos-latest\",\"version\":14,\"environment\":\"staging\"}",
                    "{\"os\":\"macos-latest\",\"version\":14,\"environment\":\"production\"}",
                    "{\"os\":\"macos-latest\",\"version\":16,\"environment\":\"staging\"}",
                    "{\"os\":\"macos-latest\",\"version\":16,\"environment\":\"production\"}",
                    "{\"os\":\"windows-latest\",\"version\":12,\"environment\":\"staging\"}",
                    "{\"os\":\"windows-latest\",\"version\":12,\"environment\":\"production\"}",
                    "{\"os\":\"windows-latest\",\"version\":14,\"environment\":\"staging\"}",
                    "{\"os\":\"windows-latest\",\"version\":14,\"environment\":\"production\"}",
                    NULL,
                });
}

static void reader_job_strategy(void **state) {
    (void)state;
    /* WP job-strategy.yml: exclude first, then include adds npm: 2 to node-version 4 legs. */
    expect_legs("{\"node-version\":[4,6,8,10],\"npm-version\":[1,2,3],"
                "\"include\":[{\"node-version\":4,\"npm\":2}],"
                "\"exclude\":[{\"node-version\":4,\"npm-version\":2}]}",
                (const char *const[]){
                    "{\"node-version\":4,\"npm-version\":1,\"npm\":2}",
                    "{\"node-version\":4,\"npm-version\":3,\"npm\":2}",
                    "{\"node-version\":6,\"npm-version\":1}",
                    "{\"node-version\":6,\"npm-version\":2}",
                    "{\"node-version\":6,\"npm-version\":3}",
                    "{\"node-version\":8,\"npm-version\":1}",
                    "{\"node-version\":8,\"npm-version\":2}",
                    "{\"node-version\":8,\"npm-version\":3}",
                    "{\"node-version\":10,\"npm-version\":1}",
                    "{\"node-version\":10,\"npm-version\":2}",
                    "{\"node-version\":10,\"npm-version\":3}",
                    NULL,
                });
}

static void filters_use_expression_equality(void **state) {
    (void)state;
    /* Filters are `matrix[k] == literal`: case-insensitive strings, '12' == 12. */
    expect_legs("{\"os\":[\"ubuntu-latest\",\"windows-latest\"],\"v\":[12,14],\"exclude\":["
                "{\"os\":\"Ubuntu-LATEST\",\"v\":\"12\"}],"
                "\"include\":[{\"os\":\"WINDOWS-latest\",\"big\":true}]}",
                (const char *const[]){
                    "{\"os\":\"ubuntu-latest\",\"v\":14}",
                    "{\"os\":\"windows-latest\",\"v\":12,\"big\":true}",
                    "{\"os\":\"windows-latest\",\"v\":14,\"big\":true}",
                    NULL,
                });
    json_t *hex = json_string(" 0x10 "), *sixteen = json_integer(16), *one = json_integer(1);
    assert_true(rn_matrix_value_equals(hex, sixteen));
    assert_true(rn_matrix_value_equals(json_true(), one));
    json_decref(hex);
    json_decref(sixteen);
    json_decref(one);
    json_t *s = json_string("");
    assert_true(rn_matrix_value_equals(json_null(), s));
    json_decref(s);
    s = json_string("abc");
    json_t *n = json_real(0);
    assert_false(rn_matrix_value_equals(s, n));
    json_decref(s);
    json_decref(n);
    json_t *o = json_object();
    json_t *o2 = json_object();
    assert_false(rn_matrix_value_equals(o, o2)); /* objects compare by reference */
    json_decref(o);
    json_decref(o2);
}

static void nested_objects_match_partially(void **state) {
    (void)state;
    /* An exclude leaf path into an object value: only the named leaves must match. */
    expect_legs("{\"cfg\":[{\"os\":\"linux\",\"arch\":\"x64\"},{\"os\":\"mac\",\"arch\":\"arm\"}],"
                "\"n\":[1,2],\"exclude\":[{\"cfg\":{\"os\":\"mac\"},\"n\":2}]}",
                (const char *const[]){
                    "{\"cfg\":{\"os\":\"linux\",\"arch\":\"x64\"},\"n\":1}",
                    "{\"cfg\":{\"os\":\"linux\",\"arch\":\"x64\"},\"n\":2}",
                    "{\"cfg\":{\"os\":\"mac\",\"arch\":\"arm\"},\"n\":1}",
                    NULL,
                });
}

static void later_include_overwrites_added_value_only(void **state) {
    (void)state;
    /* Docs: {color: pink, animal: cat} may overwrite the include-added color but an include
     * can never change a dimension value, so {fruit: pear, animal: dog} below is new. */
    expect_legs("{\"fruit\":[\"apple\"],\"animal\":[\"cat\"],\"include\":["
                "{\"color\":\"green\"},{\"color\":\"pink\",\"animal\":\"cat\"},"
                "{\"fruit\":\"pear\",\"animal\":\"dog\",\"color\":\"red\"}]}",
                (const char *const[]){
                    "{\"fruit\":\"apple\",\"animal\":\"cat\",\"color\":\"pink\"}",
                    "{\"fruit\":\"pear\",\"animal\":\"dog\",\"color\":\"red\"}",
                    NULL,
                });
}

static void empty_vector_and_other_errors(void **state) {
    (void)state;
    /* WP errors-matrix-empty-vector.yml */
    expect_errors("{\"os\":[],\"version\":[10,12]}",
                  (const char *const[]){"Matrix vector 'os' does not contain any values", NULL});
    expect_errors("{\"include\":[]}",
                  (const char *const[]){"Matrix must define at least one vector", NULL});
    expect_errors("{\"os\":\"linux\"}",
                  (const char *const[]){"Unexpected type 'StringToken' encountered while reading "
                                        "'matrix vector value'. The type 'SequenceToken' was "
                                        "expected.",
                                        NULL});
    expect_errors(
        "{\"os\":[\"a\"],\"exclude\":[{\"oss\":\"a\"},{}]}",
        (const char *const[]){"Matrix exclude key 'oss' does not match any key within the matrix",
                              "Matrix exclude filter must not be empty", NULL});
    expect_errors(
        "{\"os\":[\"a\"],\"include\":[{}]}",
        (const char *const[]){"Matrix include mapping does not contain any values", NULL});
    expect_errors(
        "{\"os\":[\"a\",\"b\"],\"exclude\":[{\"os\":\"a\"},{\"os\":\"B\"}]}",
        (const char *const[]){"Matrix produced no jobs: every combination is excluded", NULL});
}

static char *numbers_json(size_t n) {
    rn_sb sb = RN_SB_INIT;
    rn_sb_putc(&sb, '[');
    for (size_t i = 0; i < n; i++)
        rn_sb_printf(&sb, "%s%zu", i ? "," : "", i);
    rn_sb_putc(&sb, ']');
    return rn_sb_take(&sb);
}

static void limit_of_256_jobs(void **state) {
    (void)state;
    char *a16 = numbers_json(16), *a17 = numbers_json(17), *a2048 = numbers_json(2048);
    char *text = rn_xprintf("{\"a\":%s,\"b\":%s}", a16, a16);
    json_t *m = parse(text);
    rn_matrix out;
    rn_diags d = RN_DIAGS_INIT;
    assert_true(rn_matrix_expand(m, NULL, &out, &d));
    assert_int_equal(out.count, 256);
    rn_matrix_free(&out);
    json_decref(m);
    free(text);

    const char *const too_many[] = {"Strategy produced more than 256 jobs", NULL};
    text = rn_xprintf("{\"a\":%s,\"b\":%s}", a16, a17); /* 272 */
    expect_errors(text, too_many);
    free(text);
    /* 256 from the product plus one include that matches nothing */
    text = rn_xprintf("{\"a\":%s,\"b\":%s,\"include\":[{\"a\":99}]}", a16, a16);
    expect_errors(text, too_many);
    free(text);
    /* 272 brought back to 256 by an exclude is fine: the limit counts jobs */
    text = rn_xprintf("{\"a\":%s,\"b\":%s,\"exclude\":[{\"a\":16}]}", a17, a16);
    m = parse(text);
    assert_true(rn_matrix_expand(m, NULL, &out, &d));
    assert_int_equal(out.count, 256);
    rn_matrix_free(&out);
    json_decref(m);
    free(text);
    /* a product far too large is refused without enumerating it */
    text = rn_xprintf("{\"a\":%s,\"b\":%s,\"c\":%s}", a2048, a2048, a2048);
    expect_errors(text, too_many);
    free(text);
    assert_int_equal(d.count, 0);
    rn_diags_free(&d);
    free(a16);
    free(a17);
    free(a2048);
}

static void display_names(void **state) {
    (void)state;
    json_t *m = parse("{\"os\":[\"ubuntu-latest\"],\"node\":[18,1.5,1e15],"
                      "\"cfg\":[{\"x\":{\"y\":\"deep\"},\"e\":\"\",\"n\":null,\"b\":false}],"
                      "\"include\":[{\"os\":\"ubuntu-latest\",\"extra\":\"not-in-name\"},"
                      "{\"os\":\"macos\",\"node\":20,\"flag\":true}]}");
    rn_matrix out;
    rn_diags d = RN_DIAGS_INIT;
    assert_true(rn_matrix_expand(m, NULL, &out, &d));
    assert_int_equal(out.count, 4);
    const char *expected[] = {
        "build (ubuntu-latest, 18, deep, false)", "build (ubuntu-latest, 1.5, deep, false)",
        "build (ubuntu-latest, 1E+15, deep, false)",
        "build (macos, 20, true)", /* an include-only leg is named by all its values */
    };
    for (size_t i = 0; i < 4; i++) {
        char *name = rn_matrix_job_name("build", &out.legs[i]);
        assert_string_equal(name, expected[i]);
        free(name);
    }
    rn_matrix_free(&out);
    json_decref(m);

    /* no segments: the plain job name; long names are cut to 100 with "..." */
    rn_matrix_leg bare = {NULL, NULL};
    char *name = rn_matrix_job_name("lint", &bare);
    assert_string_equal(name, "lint");
    free(name);
    char long_seg[200];
    memset(long_seg, 'x', sizeof long_seg - 1);
    long_seg[sizeof long_seg - 1] = '\0';
    rn_matrix_leg big = {NULL, long_seg};
    name = rn_matrix_job_name("build", &big);
    assert_int_equal(strlen(name), 100);
    assert_memory_equal(name, "build (xxx", 10);
    assert_string_equal(name + 97, "...");
    free(name);
    rn_diags_free(&d);
}

static bool locate(void *ud, const char *path, int *line, int *col) {
    rn_sb *seen = ud;
    rn_sb_printf(seen, "[%s]", path);
    *line = 7;
    *col = (int)strlen(path) + 1;
    return true;
}

static void diagnostics_carry_positions(void **state) {
    (void)state;
    json_t *m = parse("{\"os\":[],\"exclude\":[{\"zz\":1}]}");
    rn_sb seen = RN_SB_INIT;
    rn_matrix_src src = {"w.yml", 3, 5, locate, &seen};
    rn_matrix out;
    rn_diags d = RN_DIAGS_INIT;
    assert_false(rn_matrix_expand(m, &src, &out, &d));
    assert_string_equal(rn_sb_str(&seen), "[os][exclude/0/zz]");
    assert_int_equal(d.count, 2);
    char *s = rn_diag_format_cli(&d.items[0]);
    assert_string_equal(s, "w.yml:7:3: Matrix vector 'os' does not contain any values");
    free(s);
    rn_diags_free(&d);
    /* without a locator the matrix position is used */
    src.locate = NULL;
    assert_false(rn_matrix_expand(m, &src, &out, &d));
    assert_int_equal(d.items[0].line, 3);
    assert_int_equal(d.items[0].col, 5);
    rn_diags_free(&d);
    rn_sb_free(&seen);
    json_decref(m);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(docs_basic_order),
        cmocka_unit_test(docs_expanding_or_adding),
        cmocka_unit_test(docs_expanding_one_configuration),
        cmocka_unit_test(docs_adding_configurations),
        cmocka_unit_test(docs_excluding),
        cmocka_unit_test(reader_job_strategy),
        cmocka_unit_test(filters_use_expression_equality),
        cmocka_unit_test(nested_objects_match_partially),
        cmocka_unit_test(later_include_overwrites_added_value_only),
        cmocka_unit_test(empty_vector_and_other_errors),
        cmocka_unit_test(limit_of_256_jobs),
        cmocka_unit_test(display_names),
        cmocka_unit_test(diagnostics_carry_positions),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
