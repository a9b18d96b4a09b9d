/* Unit tests of actions/coverage: the three report readers, merging and the gate.
 * Expected numbers are worked out by hand from the fixtures in tests/coverage/ (see comments). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "actions/coverage.h"
#include "common/arena.h"

#ifndef RN_COV_FIXTURES
#error "RN_COV_FIXTURES must name tests/coverage"
#endif

static rn_cov_data *load(const char *file) {
    char *path = rn_xprintf("%s/%s", RN_COV_FIXTURES, file);
    rn_cov_data *d = rn_cov_new();
    rn_diags diags = RN_DIAGS_INIT;
    int rc = rn_cov_add_file(d, path, &diags);
    if (rc)
        rn_diags_print(&diags, stderr);
    assert_int_equal(rc, 0);
    assert_int_equal(diags.count, 0);
    free(path);
    return d;
}

static void assert_count(rn_cov_count c, uint64_t covered, uint64_t missed) {
    assert_int_equal(c.covered, covered);
    assert_int_equal(c.missed, missed);
}

static const rn_cov_node *node(const rn_cov_data *d, rn_cov_element e, const char *name) {
    const rn_cov_node *n = rn_cov_find(d, e, name);
    if (!n)
        fail_msg("no %s node '%s'", rn_cov_element_name(e), name);
    return n;
}

/* Parses buf[0..len) and expects exactly one error "name:LINE:COL: message". */
static void expect_error_n(const char *buf, size_t len, const char *want) {
    rn_cov_data *d = rn_cov_new();
    rn_diags diags = RN_DIAGS_INIT;
    assert_int_equal(rn_cov_add(d, "r.xml", buf, len, &diags), -1);
    assert_int_equal(diags.count, 1);
    char *got = rn_diag_format_cli(&diags.items[0]);
    assert_string_equal(got, want);
    free(got);
    assert_int_equal(rn_cov_reports(d), 0); /* a bad report leaves the data unchanged */
    assert_int_equal(rn_cov_nodes(d, RN_COV_PACKAGE), 0);
    rn_diags_free(&diags);
    rn_cov_free(d);
}

static void expect_error(const char *buf, const char *want) {
    expect_error_n(buf, strlen(buf), want);
}

/* Runs the gate; returns its status and stores the table in *table (caller frees). */
static int gate(const rn_cov_data *d, rn_cov_counter c, rn_cov_element e, uint32_t milli,
                char **table) {
    rn_cov_gate g = {c, e, milli};
    rn_sb out = RN_SB_INIT;
    rn_diags diags = RN_DIAGS_INIT;
    int rc = rn_cov_gate_eval(d, &g, &out, &diags);
    assert_int_equal(diags.count, rc == RN_COV_ERROR ? 1 : 0);
    rn_diags_free(&diags);
    *table = rn_sb_take(&out);
    if (!*table)
        *table = rn_xstrdup("");
    return rc;
}

static void test_detect(void **state) {
    (void)state;
    const char *j = "\xEF\xBB\xBF<?xml version=\"1.0\"?>\n<!DOCTYPE report [ <!ELEMENT x ANY> ]>"
                    "<!-- c --><report name=\"x\"/>";
    assert_int_equal(rn_cov_detect(j, strlen(j)), RN_COV_JACOCO);
    assert_int_equal(rn_cov_detect("<coverage/>", 11), RN_COV_COBERTURA);
    assert_int_equal(rn_cov_detect("  \nTN:\nSF:a\n", 12), RN_COV_LCOV);
    assert_int_equal(rn_cov_detect("SF:a.c\n", 7), RN_COV_LCOV);
    assert_int_equal(rn_cov_detect("<html/>", 7), RN_COV_UNKNOWN);
    assert_int_equal(rn_cov_detect("{\"a\":1}", 7), RN_COV_UNKNOWN);
    assert_int_equal(rn_cov_detect("", 0), RN_COV_UNKNOWN);
    assert_int_equal(rn_cov_detect("<?xml", 5), RN_COV_UNKNOWN);
}

/* jacoco-small.xml. Packages, classes and source files take their own <counter> children;
 * method, group and report counters are ignored (the bundle is the sum of the packages):
 *   com.shop       INSTRUCTION 35 covered / 10 missed, BRANCH 6/2, LINE 11/3
 *   com.shop.util  INSTRUCTION  4 / 20,              BRANCH 0/4, LINE  1/5
 *   bundle         INSTRUCTION 39 / 30 = 56.52% -> 56.5, BRANCH 6/6 = 50.0%,
 *                  LINE 12/8 = 60.0% */
static void test_jacoco(void **state) {
    (void)state;
    rn_cov_data *d = load("jacoco-small.xml");
    assert_int_equal(rn_cov_reports(d), 1);
    assert_int_equal(rn_cov_counters(d), 7);
    assert_count(rn_cov_total(d, RN_COV_INSTRUCTION), 39, 30);
    assert_count(rn_cov_total(d, RN_COV_BRANCH), 6, 6);
    assert_count(rn_cov_total(d, RN_COV_LINE), 12, 8);
    assert_int_equal(rn_cov_tenths(rn_cov_total(d, RN_COV_INSTRUCTION)), 565);
    assert_int_equal(rn_cov_tenths(rn_cov_total(d, RN_COV_LINE)), 600);

    assert_int_equal(rn_cov_nodes(d, RN_COV_PACKAGE), 2);
    assert_int_equal(rn_cov_nodes(d, RN_COV_CLASS), 3);
    assert_int_equal(rn_cov_nodes(d, RN_COV_SOURCEFILE), 2);
    assert_string_equal(rn_cov_node_at(d, RN_COV_PACKAGE, 0)->name, "com.shop");
    assert_count(node(d, RN_COV_PACKAGE, "com.shop")->c[RN_COV_LINE], 11, 3);
    assert_count(node(d, RN_COV_PACKAGE, "com.shop.util")->c[RN_COV_BRANCH], 0, 4);
    /* the method's counter (20/4) is not added to its class (30/10) */
    const rn_cov_node *cart = node(d, RN_COV_CLASS, "com.shop.Cart");
    assert_count(cart->c[RN_COV_INSTRUCTION], 30, 10);
    assert_string_equal(cart->package, "com.shop");
    assert_count(node(d, RN_COV_CLASS, "com.shop.Cart$Item")->c[RN_COV_LINE], 2, 0);
    assert_count(node(d, RN_COV_CLASS, "com.shop.Cart$Item")->c[RN_COV_BRANCH], 0, 0);
    assert_count(node(d, RN_COV_SOURCEFILE, "com/shop/Cart.java")->c[RN_COV_LINE], 11, 3);
    assert_count(node(d, RN_COV_SOURCEFILE, "com/shop/util/Money.java")->c[RN_COV_INSTRUCTION], 4,
                 20);
    assert_null(rn_cov_find(d, RN_COV_CLASS, "com/shop/Cart"));
    rn_cov_free(d);
}

/* cobertura-small.xml, counted from class-level <line>s (method-level lines and the *-rate
 * attributes are ignored):
 *   app.Main     lines 1(3) 2(0) 3(1) 4(0) -> LINE 2/2; branches 1/2 + 0/2 -> BRANCH 1/3
 *   lib.util.py  lines 1 2 3 hit, 4 not    -> LINE 3/1; no branches
 *   bundle       LINE 5/3 = 62.5%, BRANCH 1/3 = 25.0% */
static void test_cobertura(void **state) {
    (void)state;
    rn_cov_data *d = load("cobertura-small.xml");
    assert_int_equal(rn_cov_counters(d), 1 << RN_COV_LINE | 1 << RN_COV_BRANCH);
    assert_count(rn_cov_total(d, RN_COV_LINE), 5, 3);
    assert_count(rn_cov_total(d, RN_COV_BRANCH), 1, 3);
    assert_count(rn_cov_total(d, RN_COV_INSTRUCTION), 0, 0);
    assert_int_equal(rn_cov_tenths(rn_cov_total(d, RN_COV_LINE)), 625);
    assert_count(node(d, RN_COV_PACKAGE, "app")->c[RN_COV_LINE], 2, 2);
    assert_count(node(d, RN_COV_PACKAGE, "app")->c[RN_COV_BRANCH], 1, 3);
    assert_count(node(d, RN_COV_CLASS, "app.Main")->c[RN_COV_LINE], 2, 2);
    assert_count(node(d, RN_COV_CLASS, "lib.util.py")->c[RN_COV_LINE], 3, 1);
    assert_count(node(d, RN_COV_SOURCEFILE, "lib/util.py")->c[RN_COV_LINE], 3, 1);
    assert_count(node(d, RN_COV_SOURCEFILE, "app/Main.java")->c[RN_COV_BRANCH], 1, 3);
    rn_cov_free(d);
}

/* lcov-small.info:
 *   src/a.js in two records: line 1 hit in the first, 2 in the second, 3 and 4 never
 *     -> LINE 2/2 (each line once; the first record's LF/LH are ignored as it has DA lines);
 *     branch 2,0,0 taken in the second, 2,0,1 never -> BRANCH 1/1
 *   src/lib/b.js lines 10 11 hit, 12 not -> LINE 2/1; branches 3 and 0 -> BRANCH 1/1
 *   c.js only LF:10 LH:9 BRF:4 BRH:4 -> LINE 9/1, BRANCH 4/0
 *   bundle LINE 13/4 = 76.47% -> 76.4, BRANCH 6/2 = 75.0%
 *   packages are directories: "src", "src/lib" and "" (c.js) */
static void test_lcov(void **state) {
    (void)state;
    rn_cov_data *d = load("lcov-small.info");
    assert_int_equal(rn_cov_counters(d), 1 << RN_COV_LINE | 1 << RN_COV_BRANCH);
    assert_count(rn_cov_total(d, RN_COV_LINE), 13, 4);
    assert_count(rn_cov_total(d, RN_COV_BRANCH), 6, 2);
    assert_int_equal(rn_cov_tenths(rn_cov_total(d, RN_COV_LINE)), 764);
    assert_int_equal(rn_cov_nodes(d, RN_COV_SOURCEFILE), 3);
    assert_count(node(d, RN_COV_SOURCEFILE, "src/a.js")->c[RN_COV_LINE], 2, 2);
    assert_count(node(d, RN_COV_SOURCEFILE, "src/a.js")->c[RN_COV_BRANCH], 1, 1);
    assert_count(node(d, RN_COV_CLASS, "src/lib/b.js")->c[RN_COV_LINE], 2, 1);
    assert_count(node(d, RN_COV_PACKAGE, "src/lib")->c[RN_COV_BRANCH], 1, 1);
    assert_count(node(d, RN_COV_PACKAGE, "")->c[RN_COV_LINE], 9, 1);
    assert_count(node(d, RN_COV_PACKAGE, "")->c[RN_COV_BRANCH], 4, 0);
    assert_string_equal(node(d, RN_COV_SOURCEFILE, "src/lib/b.js")->package, "src/lib");
    rn_cov_free(d);
}

/* jacoco-small + lcov-small: LINE 12+13 = 25 covered, 8+4 = 12 missed -> 67.56% -> 67.5;
 * INSTRUCTION is not in the LCOV report, so a gate on it is an error. The same report twice
 * doubles every count (reports are summed). */
static void test_merge(void **state) {
    (void)state;
    rn_cov_data *d = load("jacoco-small.xml");
    rn_diags diags = RN_DIAGS_INIT;
    char *path = rn_xprintf("%s/lcov-small.info", RN_COV_FIXTURES);
    assert_int_equal(rn_cov_add_file(d, path, &diags), 0);
    free(path);
    assert_int_equal(rn_cov_reports(d), 2);
    assert_int_equal(rn_cov_counters(d), 1 << RN_COV_LINE | 1 << RN_COV_BRANCH);
    assert_count(rn_cov_total(d, RN_COV_LINE), 25, 12);
    assert_int_equal(rn_cov_tenths(rn_cov_total(d, RN_COV_LINE)), 675);
    char *t;
    assert_int_equal(gate(d, RN_COV_INSTRUCTION, RN_COV_BUNDLE, 50000, &t), RN_COV_ERROR);
    free(t);
    rn_cov_free(d);

    d = load("cobertura-small.xml");
    path = rn_xprintf("%s/cobertura-small.xml", RN_COV_FIXTURES);
    assert_int_equal(rn_cov_add_file(d, path, &diags), 0);
    free(path);
    assert_count(rn_cov_total(d, RN_COV_LINE), 10, 6);
    assert_count(node(d, RN_COV_CLASS, "app.Main")->c[RN_COV_BRANCH], 2, 6);
    assert_int_equal(rn_cov_nodes(d, RN_COV_CLASS), 2);
    rn_cov_free(d);
    assert_int_equal(diags.count, 0);
}

/* The gate on jacoco-small (LINE 12/20 = 60.0%; packages com.shop 11/14 = 78.57% -> 78.5 and
 * com.shop.util 1/6 = 16.67% -> 16.6; classes Cart 9/12 = 75.0, Cart$Item 2/2, Money 1/6). */
static void test_gate_jacoco(void **state) {
    (void)state;
    rn_cov_data *d = load("jacoco-small.xml");
    char *t;
    assert_int_equal(gate(d, RN_COV_LINE, RN_COV_BUNDLE, 70000, &t), RN_COV_FAIL);
    assert_string_equal(t, "coverage gate: LINE >= 70.0% per BUNDLE\n"
                           "ELEMENT  NAME            RATIO  COVERED  MISSED\n"
                           "bundle   total           60.0%       12       8\n"
                           "package  com.shop.util   16.6%        1       5\n"
                           "package  com.shop        78.5%       11       3\n"
                           "FAIL: LINE 60.0% < 70.0%\n");
    free(t);
    /* exactly at the minimum passes: 12 * 100 >= 60 * 20 */
    assert_int_equal(gate(d, RN_COV_LINE, RN_COV_BUNDLE, 60000, &t), RN_COV_PASS);
    assert_non_null(strstr(t, "\nPASS: LINE 60.0% >= 60.0%\n"));
    free(t);
    assert_int_equal(gate(d, RN_COV_LINE, RN_COV_BUNDLE, 60001, &t), RN_COV_FAIL);
    assert_non_null(strstr(t, "\nFAIL: LINE 60.0% < 60.001%\n"));
    free(t);
    /* INSTRUCTION 39/69 = 56.52%: passes 56.5, fails 56.53 while still shown floored */
    assert_int_equal(gate(d, RN_COV_INSTRUCTION, RN_COV_BUNDLE, 56500, &t), RN_COV_PASS);
    free(t);
    assert_int_equal(gate(d, RN_COV_INSTRUCTION, RN_COV_BUNDLE, 56530, &t), RN_COV_FAIL);
    assert_non_null(strstr(t, "\nFAIL: INSTRUCTION 56.5% < 56.53%\n"));
    free(t);
    /* per package: 16.6% fails a 50% minimum */
    assert_int_equal(gate(d, RN_COV_LINE, RN_COV_PACKAGE, 50000, &t), RN_COV_FAIL);
    assert_non_null(strstr(t, "\nFAIL: 1 of 2 packages have LINE < 50.0%\n"));
    free(t);
    assert_int_equal(gate(d, RN_COV_LINE, RN_COV_PACKAGE, 16000, &t), RN_COV_PASS);
    assert_non_null(strstr(t, "\nPASS: all 2 packages have LINE >= 16.0%\n"));
    free(t);
    /* per class: Money 16.6 and Cart 75.0 are below 80; Cart$Item is 100% */
    assert_int_equal(gate(d, RN_COV_LINE, RN_COV_CLASS, 80000, &t), RN_COV_FAIL);
    assert_string_equal(t, "coverage gate: LINE >= 80.0% per CLASS\n"
                           "ELEMENT  NAME                  RATIO  COVERED  MISSED\n"
                           "bundle   total                 60.0%       12       8\n"
                           "class    com.shop.util.Money   16.6%        1       5\n"
                           "class    com.shop.Cart         75.0%        9       3\n"
                           "class    com.shop.Cart$Item   100.0%        2       0\n"
                           "FAIL: 2 of 3 classes have LINE < 80.0%\n");
    free(t);
    /* BRANCH per class: Cart$Item has no branches and is skipped (6/8 = 75.0, 0/4 = 0.0) */
    assert_int_equal(gate(d, RN_COV_BRANCH, RN_COV_CLASS, 0, &t), RN_COV_PASS);
    assert_non_null(strstr(t, "class    com.shop.util.Money    0.0%"));
    assert_non_null(strstr(t, "\nPASS: all 2 classes have BRANCH >= 0.0%\n"));
    free(t);
    assert_int_equal(gate(d, RN_COV_LINE, RN_COV_SOURCEFILE, 70000, &t), RN_COV_FAIL);
    assert_non_null(strstr(t, "source   com/shop/util/Money.java   16.6%"));
    assert_non_null(strstr(t, "\nFAIL: 1 of 2 source files have LINE < 70.0%\n"));
    free(t);
    rn_cov_free(d);
}

/* More than five packages: only the five worst are listed, worst first, ties by name. */
static void test_gate_worst_five(void **state) {
    (void)state;
    /* packages p1..p7 with LINE covered k of 10 for k = 7,1,9,3,3,10,5 */
    const int cov[] = {7, 1, 9, 3, 3, 10, 5};
    rn_sb sb = RN_SB_INIT;
    rn_sb_puts(&sb, "<report name=\"r\">");
    for (int i = 0; i < 7; i++)
        rn_sb_printf(&sb,
                     "<package name=\"p%d\"><counter type=\"LINE\" missed=\"%d\" "
                     "covered=\"%d\"/></package>",
                     i + 1, 10 - cov[i], cov[i]);
    rn_sb_puts(&sb, "</report>");
    rn_cov_data *d = rn_cov_new();
    rn_diags diags = RN_DIAGS_INIT;
    assert_int_equal(rn_cov_add(d, "r.xml", sb.data, sb.len, &diags), 0);
    rn_sb_free(&sb);
    char *t;
    /* total 38/70 = 54.28% */
    assert_int_equal(gate(d, RN_COV_LINE, RN_COV_BUNDLE, 50000, &t), RN_COV_PASS);
    assert_string_equal(t, "coverage gate: LINE >= 50.0% per BUNDLE\n"
                           "ELEMENT  NAME    RATIO  COVERED  MISSED\n"
                           "bundle   total   54.2%       38      32\n"
                           "package  p2      10.0%        1       9\n"
                           "package  p4      30.0%        3       7\n"
                           "package  p5      30.0%        3       7\n"
                           "package  p7      50.0%        5       5\n"
                           "package  p1      70.0%        7       3\n"
                           "PASS: LINE 54.2% >= 50.0%\n");
    free(t);
    rn_cov_free(d);
}

static void test_gate_errors(void **state) {
    (void)state;
    char *t;
    rn_cov_data *d = rn_cov_new();
    assert_int_equal(gate(d, RN_COV_LINE, RN_COV_BUNDLE, 70000, &t), RN_COV_ERROR);
    free(t);
    rn_cov_free(d);
    /* a well-formed report that measured nothing never passes */
    d = load("empty-jacoco.xml");
    assert_int_equal(gate(d, RN_COV_LINE, RN_COV_BUNDLE, 0, &t), RN_COV_ERROR);
    assert_string_equal(t, "");
    free(t);
    rn_cov_free(d);
    /* LCOV has no INSTRUCTION counter */
    d = load("lcov-small.info");
    assert_int_equal(gate(d, RN_COV_INSTRUCTION, RN_COV_BUNDLE, 0, &t), RN_COV_ERROR);
    free(t);
    rn_cov_free(d);
}

/* Cobertura branch counter with no branches anywhere: nothing to check, like JaCoCo. */
static void test_gate_no_counter_data(void **state) {
    (void)state;
    const char *x = "<coverage><packages><package name=\"p\"><classes>"
                    "<class name=\"p.A\" filename=\"p/A.java\"><lines>"
                    "<line number=\"1\" hits=\"1\"/></lines></class>"
                    "</classes></package></packages></coverage>";
    rn_cov_data *d = rn_cov_new();
    rn_diags diags = RN_DIAGS_INIT;
    assert_int_equal(rn_cov_add(d, "c.xml", x, strlen(x), &diags), 0);
    char *t;
    assert_int_equal(gate(d, RN_COV_BRANCH, RN_COV_BUNDLE, 70000, &t), RN_COV_PASS);
    assert_string_equal(t, "coverage gate: BRANCH >= 70.0% per BUNDLE\n"
                           "ELEMENT  NAME    RATIO  COVERED  MISSED\n"
                           "bundle   total     n/a        0       0\n"
                           "PASS: no BRANCH data to check\n");
    free(t);
    rn_cov_free(d);
}

static void test_parse_options(void **state) {
    (void)state;
    uint32_t m;
    assert_int_equal(rn_cov_parse_minimum("70", &m), 0);
    assert_int_equal(m, 70000);
    assert_int_equal(rn_cov_parse_minimum("70.5%", &m), 0);
    assert_int_equal(m, 70500);
    assert_int_equal(rn_cov_parse_minimum("0.125", &m), 0);
    assert_int_equal(m, 125);
    assert_int_equal(rn_cov_parse_minimum("100", &m), 0);
    assert_int_equal(m, 100000);
    assert_int_equal(rn_cov_parse_minimum(".5", &m), 0);
    assert_int_equal(m, 500);
    const char *bad[] = {"", "%", "100.1", "101", "-1", "70.1234", "7o", "1e2", ".", "70%%"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(rn_cov_parse_minimum(bad[i], &m), -1);
    rn_cov_counter c;
    assert_int_equal(rn_cov_parse_counter("branch", &c), 0);
    assert_int_equal(c, RN_COV_BRANCH);
    assert_int_equal(rn_cov_parse_counter("METHOD", &c), -1);
    rn_cov_element e;
    assert_int_equal(rn_cov_parse_element("SourceFile", &e), 0);
    assert_int_equal(e, RN_COV_SOURCEFILE);
    assert_int_equal(rn_cov_parse_element("GROUP", &e), -1);
}

static void test_xml_details(void **state) {
    (void)state;
    /* entities in attribute values, CDATA, comments, PIs, single quotes, groups, empty
     * default package; report-level counters are ignored */
    const char *x = "<?xml version='1.0'?><report name='a&amp;b'>"
                    "<group name='g'><group name='h'><package name=''>"
                    "<class name='Main'><!-- x --><?pi y?></class>"
                    "<sourcefile name='Main.java'><![CDATA[ <not> ]]>"
                    "<counter type='LINE' missed='&#49;' covered='&#x33;'/></sourcefile>"
                    "<counter type='LINE' missed='1' covered='3'/></package></group></group>"
                    "<counter type='LINE' missed='99' covered='99'/></report>\n\n";
    rn_cov_data *d = rn_cov_new();
    rn_diags diags = RN_DIAGS_INIT;
    assert_int_equal(rn_cov_add(d, "x.xml", x, strlen(x), &diags), 0);
    assert_count(rn_cov_total(d, RN_COV_LINE), 3, 1);
    assert_count(node(d, RN_COV_SOURCEFILE, "Main.java")->c[RN_COV_LINE], 3, 1);
    assert_count(node(d, RN_COV_CLASS, "Main")->c[RN_COV_LINE], 0, 0);
    assert_string_equal(node(d, RN_COV_CLASS, "Main")->package, "");
    rn_cov_free(d);
}

static void test_malformed(void **state) {
    (void)state;
    expect_error("", "r.xml:1:1: not a JaCoCo XML, Cobertura XML or LCOV coverage report");
    expect_error("<html></html>",
                 "r.xml:1:1: not a JaCoCo XML, Cobertura XML or LCOV coverage report");
    expect_error("<report>\n  <package name=\"a\">\n</report>",
                 "r.xml:3:1: </report> does not match <package> opened at 2:3");
    expect_error("<report>\n<package name=\"a\">",
                 "r.xml:2:19: unexpected end of file: <package> opened at 2:1 is not closed");
    expect_error("<report><package/></report>", "r.xml:1:9: <package> has no name attribute");
    expect_error("<report><package name=\"p\"><counter type=\"LINE\" missed=\"1\"/>",
                 "r.xml:1:27: <counter> has no covered attribute");
    expect_error("<report><package name=\"p\"><counter type=\"LINE\" missed=\"-1\" covered=\"1\"/>",
                 "r.xml:1:48: <counter> missed=\"-1\" is not a non-negative integer");
    expect_error("<report><package name=\"p\"><counter type=\"LINE\" missed=\"1\" "
                 "covered=\"18446744073709551616\"/>",
                 "r.xml:1:59: <counter> covered=\"18446744073709551616\" is not a non-negative "
                 "integer");
    expect_error("<report a=\"1\" a=\"2\"/>", "r.xml:1:15: duplicate attribute a");
    expect_error("<report a=1/>", "r.xml:1:11: attribute a: value must be quoted");
    expect_error("<report a=\"x&foo;\"/>",
                 "r.xml:1:13: unknown entity '&foo;' (reports use no custom entities)");
    expect_error("<report a=\"&#0;\"/>",
                 "r.xml:1:12: character reference '&#0;' is not a character");
    expect_error("<report/>\n<report/>", "r.xml:2:1: a second root element <report>");
    expect_error("<report/>x", "r.xml:1:10: text outside the root element");
    expect_error("<report><!-- open", "r.xml:1:9: comment is not closed with '-->'");
    expect_error("<report a=\"1\"b=\"2\"/>",
                 "r.xml:1:14: attributes must be separated by white space");
    expect_error("<coverage><packages><package name=\"p\"><classes>"
                 "<class name=\"p.A\"/>",
                 "r.xml:1:48: <class> has no filename attribute");
    expect_error("<coverage><packages><package name=\"p\"><classes>"
                 "<class name=\"A\" filename=\"A.java\"><lines>"
                 "<line number=\"1\" hits=\"1\" branch=\"true\" condition-coverage=\"50% (3/2)\"/>",
                 "r.xml:1:129: <line> condition-coverage=\"50% (3/2)\" is not like \"50% (1/2)\"");
    expect_error("<coverage><packages><package name=\"p\"><classes>"
                 "<class name=\"A\" filename=\"A.java\"><lines><line number=\"x\" hits=\"1\"/>",
                 "r.xml:1:95: <line> number=\"x\" is not a non-negative integer");
    /* NUL bytes */
    expect_error_n("TN:\nSF:a\0b\n", 10, "r.xml:2:5: NUL byte in the LCOV report");
    /* LCOV */
    expect_error("SF:a.c\nDA:1,1\n", "r.xml:1:1: record is not closed with end_of_record");
    expect_error("TN:\nDA:1,1\n", "r.xml:2:1: DA: outside a SF: record");
    expect_error("SF:a.c\nDA:0,1\nend_of_record\n",
                 "r.xml:2:4: DA: expects LINE,HITS with LINE a positive integer");
    expect_error("SF:a.c\nDA:3,-1\nend_of_record\n",
                 "r.xml:2:6: DA: hit count '-1' is not a non-negative integer");
    expect_error("SF:a.c\nBRDA:3,0,0,x\nend_of_record\n",
                 "r.xml:2:12: BRDA: taken count 'x' is not '-' or an integer");
    expect_error("SF:a.c\nLF:2\nLH:3\nend_of_record\n", "r.xml:3:1: LH hit more than found");
    expect_error("SF:a.c\nhello\n",
                 "r.xml:2:1: not an LCOV line (expected KEY:VALUE or end_of_record)");
    expect_error("SF:a.c\nSF:b.c\n", "r.xml:2:1: SF: before the previous record's end_of_record");
    expect_error("TN:\nend_of_record\n", "r.xml:2:1: end_of_record without SF:");
}

/* Limits that keep hostile reports linear: 64 attributes per element, 256 levels of nesting. */
static void test_limits(void **state) {
    (void)state;
    rn_sb sb = RN_SB_INIT;
    rn_sb_puts(&sb, "<report");
    for (int i = 0; i < 65; i++)
        rn_sb_printf(&sb, " a%02d=\"\"", i); /* 7 bytes each: a64 starts at 8 + 64 * 7 + 1 */
    rn_sb_puts(&sb, "/>");
    expect_error(sb.data, "r.xml:1:457: more than 64 attributes");
    rn_sb_clear(&sb);
    for (int i = 0; i < 257; i++)
        rn_sb_puts(&sb, i ? "<group>" : "<report>"); /* the 257th starts at 8 + 255 * 7 + 1 */
    expect_error(sb.data, "r.xml:1:1794: elements nested deeper than 256");
    rn_sb_free(&sb);
}

static void test_files(void **state) {
    (void)state;
    rn_cov_data *d = rn_cov_new();
    rn_diags diags = RN_DIAGS_INIT;
    assert_int_equal(rn_cov_add_file(d, "/nonexistent/jacoco.xml", &diags), -1);
    assert_int_equal(diags.count, 1);
    char *got = rn_diag_format_cli(&diags.items[0]);
    assert_string_equal(got,
                        "/nonexistent/jacoco.xml: cannot read coverage report: No such file or "
                        "directory");
    free(got);
    rn_diags_free(&diags);
    char *path = rn_xprintf("%s/bad-counter.xml", RN_COV_FIXTURES);
    assert_int_equal(rn_cov_add_file(d, path, &diags), -1);
    got = rn_diag_format_cli(&diags.items[0]);
    char *want =
        rn_xprintf("%s:5:39: <counter> covered=\"many\" is not a non-negative integer", path);
    assert_string_equal(got, want);
    free(got);
    free(want);
    free(path);
    rn_diags_free(&diags);
    rn_cov_free(d);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_detect),
        cmocka_unit_test(test_jacoco),
        cmocka_unit_test(test_cobertura),
        cmocka_unit_test(test_lcov),
        cmocka_unit_test(test_merge),
        cmocka_unit_test(test_gate_jacoco),
        cmocka_unit_test(test_gate_worst_five),
        cmocka_unit_test(test_gate_errors),
        cmocka_unit_test(test_gate_no_counter_data),
        cmocka_unit_test(test_parse_options),
        cmocka_unit_test(test_xml_details),
        cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_limits),
        cmocka_unit_test(test_files),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
