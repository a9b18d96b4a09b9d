/* Loader tests: positions, core-schema typing, anchors/aliases, merge keys, and the errors
 * (multi-document, tabs, invalid UTF-8, unsupported tags). */
#include "common/arena.h"
#include "common/diag.h"
#include "workflow/yaml.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

static rn_ynode *load(rn_arena *a, rn_diags *d, const char *text) {
    return rn_yaml_load(a, "t.yml", text, strlen(text), d);
}

static void test_positions(void **state) {
    (void)state;
    rn_arena a;
    rn_arena_init(&a);
    rn_diags d = RN_DIAGS_INIT;
    rn_ynode *r = load(&a, &d, "on: push\njobs:\n  build:\n    runs-on: [a, 'b']\n");
    assert_non_null(r);
    assert_int_equal(d.count, 0);
    assert_int_equal(r->kind, RN_Y_MAP);
    assert_int_equal(r->n, 2);
    rn_ynode *build = rn_yaml_get(rn_yaml_get(r, "jobs"), "build");
    assert_int_equal(build->line, 4);
    assert_int_equal(build->col, 5);
    rn_ynode *ro = rn_yaml_get(build, "runs-on");
    assert_int_equal(ro->kind, RN_Y_SEQ);
    assert_int_equal(ro->line, 4);
    assert_int_equal(ro->col, 14);
    assert_int_equal(ro->items[1]->col, 18);
    assert_int_equal(ro->items[1]->style, RN_YSTYLE_SINGLE);
    assert_string_equal(ro->items[1]->str, "b");
    assert_string_equal(r->pairs[1].key->str, "jobs");
    assert_int_equal(r->pairs[1].key->line, 2);
    assert_int_equal(r->pairs[1].key->col, 1);
    rn_arena_free(&a);
}

static void test_core_schema(void **state) {
    (void)state;
    rn_arena a;
    rn_arena_init(&a);
    rn_diags d = RN_DIAGS_INIT;
    rn_ynode *r = load(&a, &d,
                       "- ~\n- True\n- 0x1F\n- 0o17\n- -1.5e2\n- .inf\n- 12_345\n- 'true'\n- "
                       "!!str 5\n- !!float 1\n- 0755\n");
    assert_non_null(r);
    rn_ynode **it = r->items;
    assert_int_equal(it[0]->type, RN_YS_NULL);
    assert_int_equal(it[1]->type, RN_YS_BOOL);
    assert_true(it[1]->boolean);
    assert_int_equal(it[2]->type, RN_YS_NUMBER);
    assert_true(it[2]->number == 31);
    assert_true(it[3]->number == 15);
    assert_true(it[4]->number == -150);
    assert_int_equal(it[5]->type, RN_YS_NUMBER);
    assert_int_equal(it[6]->type, RN_YS_STRING);
    assert_int_equal(it[7]->type, RN_YS_STRING);
    assert_int_equal(it[8]->type, RN_YS_STRING);
    assert_int_equal(it[9]->type, RN_YS_NUMBER);
    assert_true(it[10]->number == 755);
    rn_arena_free(&a);
}

static void test_anchors_and_merge(void **state) {
    (void)state;
    rn_arena a;
    rn_arena_init(&a);
    rn_diags d = RN_DIAGS_INIT;
    rn_ynode *r =
        load(&a, &d, "base: &b\n  x: 1\n  y: 2\nother: *b\nmerged:\n  <<: *b\n  y: 3\n  z: 4\n");
    assert_non_null(r);
    assert_int_equal(d.count, 0);
    rn_ynode *base = rn_yaml_get(r, "base");
    assert_ptr_equal(rn_yaml_get(r, "other"), base); /* alias shares the node */
    rn_ynode *m = rn_yaml_get(r, "merged");
    assert_int_equal(m->n, 3); /* y, z written; x merged in */
    assert_string_equal(rn_yaml_get(m, "y")->str, "3");
    assert_string_equal(rn_yaml_get(m, "x")->str, "1");
    assert_null(rn_yaml_get(m, "<<"));
    json_t *j = rn_yaml_to_json(m);
    char *s = json_dumps(j, JSON_COMPACT);
    assert_string_equal(s, "{\"y\":3.0,\"z\":4.0,\"x\":1.0}");
    free(s);
    json_decref(j);
    rn_arena_free(&a);
}

static void expect_one_error(const char *text, int line, int col, const char *needle) {
    rn_arena a;
    rn_arena_init(&a);
    rn_diags d = RN_DIAGS_INIT;
    rn_ynode *r = load(&a, &d, text);
    assert_null(r);
    assert_int_equal(d.count, 1);
    assert_int_equal(d.items[0].line, line);
    assert_int_equal(d.items[0].col, col);
    assert_non_null(strstr(d.items[0].message, needle));
    assert_string_equal(d.items[0].file, "t.yml");
    rn_diags_free(&d);
    rn_arena_free(&a);
}

static void test_errors(void **state) {
    (void)state;
    expect_one_error("a: 1\n---\nb: 2\n", 2, 1, "Only one YAML document");
    expect_one_error("a:\n\tb: 1\n", 2, 1, "Tabs are not allowed");
    expect_one_error("a: 1\nb: \"x\xff\"\n", 2, 6, "Invalid UTF-8");
    expect_one_error("a: *nope\n", 1, 4, "Unknown alias '*nope'");
    expect_one_error("a: !!timestamp 2001-12-14\n", 0, 0,
                     "Unexpected tag 'tag:yaml.org,2002:timestamp'");
    expect_one_error("a: !!int \"300\"\n", 0, 0,
                     "The scalar style 'DoubleQuoted' on line 1 and column 4 is not valid with "
                     "the tag 'tag:yaml.org,2002:int'");
    expect_one_error("a: !!bool test\n", 0, 0,
                     "The value 'test' on line 1 and column 4 is invalid for the type "
                     "'tag:yaml.org,2002:bool'");
    expect_one_error("a: [b\n", 2, 1, "YAML syntax error");
}

static void test_depth_limit(void **state) {
    (void)state;
    char buf[256] = "";
    for (int i = 0; i < 51; i++)
        strcat(buf, "[");
    expect_one_error(buf, 0, 0, "Maximum object depth exceeded");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_positions),         cmocka_unit_test(test_core_schema),
        cmocka_unit_test(test_anchors_and_merge), cmocka_unit_test(test_errors),
        cmocka_unit_test(test_depth_limit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
