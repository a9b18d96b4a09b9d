/* setup-java: JDK discovery and matching in fake JVM folders and a tool cache, the failure
 * message, and the environment the built-in sets. */
#include "actions/setup_java.h"
#include "common/arena.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char root[] = "/tmp/rn-setup-java.XXXXXX";
static char *jvm, *tc;

static void mkdirs(const char *p) {
    char *c = rn_xstrdup(p);
    for (char *s = c + 1; *s; s++)
        if (*s == '/') {
            *s = 0;
            mkdir(c, 0755);
            *s = '/';
        }
    mkdir(c, 0755);
    free(c);
}

static void fake_jdk(const char *home, const char *version, bool with_java) {
    char *bin = rn_xprintf("%s/bin", home);
    mkdirs(bin);
    if (with_java) {
        char *j = rn_xprintf("%s/java", bin);
        FILE *f = fopen(j, "w");
        fputs("#!/bin/sh\n", f);
        fclose(f);
        chmod(j, 0755);
        free(j);
    }
    char *r = rn_xprintf("%s/release", home);
    FILE *f = fopen(r, "w");
    fprintf(f, "IMPLEMENTOR=\"test\"\nJAVA_VERSION=\"%s\"\n", version);
    fclose(f);
    free(r);
    free(bin);
}

static int setup(void **state) {
    (void)state;
    assert_non_null(mkdtemp(root));
    jvm = rn_xprintf("%s/jvm", root);
    tc = rn_xprintf("%s/toolcache", root);
    char *p;
    fake_jdk(p = rn_xprintf("%s/jdk-17a", jvm), "17.0.2", true);
    free(p);
    fake_jdk(p = rn_xprintf("%s/jdk-17b", jvm), "17.0.9", true);
    free(p);
    fake_jdk(p = rn_xprintf("%s/jdk-21-nojava", jvm), "21.0.1", false);
    free(p);
    char *l = rn_xprintf("%s/a-link-17", jvm), *t = rn_xprintf("%s/jdk-17b", jvm);
    assert_int_equal(symlink(t, l), 0);
    free(l);
    free(t);
    fake_jdk(p = rn_xprintf("%s/Java_Temurin-Hotspot_jdk/11.0.20-8/x64", tc), "11.0.20", true);
    free(p);
    return 0;
}

static int teardown(void **state) {
    (void)state;
    char *cmd = rn_xprintf("rm -rf '%s'", root);
    assert_int_equal(system(cmd), 0);
    free(cmd);
    free(jvm);
    free(tc);
    return 0;
}

static void expect_home(const char *spec, const char *rel_home, const char *version) {
    const char *roots[] = {jvm, tc};
    char *home = NULL, *ver = NULL, *err = NULL;
    assert_int_equal(rn_setup_java_find(roots, 2, spec, &home, &ver, &err), 0);
    char *want = rn_xprintf("%s/%s", root, rel_home);
    assert_string_equal(home, want);
    assert_string_equal(ver, version);
    free(want);
    free(home);
    free(ver);
}

static void test_matching(void **state) {
    (void)state;
    expect_home("17", "jvm/jdk-17b", "17.0.9"); /* the highest 17 */
    expect_home("17.0", "jvm/jdk-17b", "17.0.9");
    expect_home("17.x", "jvm/jdk-17b", "17.0.9");
    expect_home("17.0.2", "jvm/jdk-17a", "17.0.2");
    expect_home("11", "toolcache/Java_Temurin-Hotspot_jdk/11.0.20-8/x64", "11.0.20");
}

static void test_no_match_message(void **state) {
    (void)state;
    const char *roots[] = {jvm, tc};
    char *home = NULL, *ver = NULL, *err = NULL;
    assert_int_equal(rn_setup_java_find(roots, 2, "21", &home, &ver, &err), -1);
    /* jdk-21-nojava has no bin/java; a-link-17 is jdk-17b, named by its real folder */
    /* in discovery order: a-link-17 (as jdk-17b) sorts before jdk-17a */
    char *want = rn_xprintf("no installed JDK matches java-version '21' (found: 17 in %s/jdk-17b, "
                            "17 in %s/jdk-17a, 11 in %s/Java_Temurin-Hotspot_jdk/11.0.20-8/x64)",
                            jvm, jvm, tc);
    assert_string_equal(err, want);
    free(want);
    free(err);
    const char *none[] = {"/nonexistent-jvm"};
    err = NULL;
    assert_int_equal(rn_setup_java_find(none, 1, "17", &home, &ver, &err), -1);
    assert_string_equal(
        err, "no installed JDK matches java-version '17' (found: none in /nonexistent-jvm)");
    free(err);
}

static void log_cb(void *ud, rn_log_kind kind, const char *text) {
    (void)kind;
    rn_strlist *l = ud;
    l->items = rn_xrealloc(l->items, (l->count + 1) * sizeof *l->items);
    l->items[l->count++] = rn_xstrdup(text);
}

static void test_action_env(void **state) {
    (void)state;
    setenv("RUNNEL_JVM_DIRS", jvm, 1);
    rn_job j;
    rn_job_init(&j);
    rn_strlist logs = RN_STRLIST_INIT;
    j.sink.log = log_cb;
    j.sink.ud = &logs;
    j.paths.workspace = root;
    j.paths.tool_cache = tc;
    json_t *with = json_pack("{s:s,s:s}", "java-version", "17", "distribution", "temurin");
    json_t *out = json_object();
    assert_int_equal(rn_setup_java_action(&j, "actions/setup-java@v4", with, out),
                     RN_STEP_STATUS_SUCCESS);
    char *home = rn_xprintf("%s/jdk-17b", jvm), *bin = rn_xprintf("%s/jdk-17b/bin", jvm);
    assert_string_equal(json_string_value(json_object_get(j.env, "JAVA_HOME")), home);
    assert_string_equal(json_string_value(json_object_get(j.env, "JAVA_HOME_17_X64")), home);
    assert_int_equal(j.path.count, 1);
    assert_string_equal(j.path.items[0], bin);
    assert_string_equal(json_string_value(json_object_get(out, "version")), "17.0.9");
    assert_string_equal(json_string_value(json_object_get(out, "path")), home);
    assert_string_equal(json_string_value(json_object_get(out, "distribution")), "temurin");
    json_decref(with);
    json_decref(out);
    /* no match: the step fails with the message */
    with = json_pack("{s:s,s:s}", "java-version", "21", "distribution", "zulu");
    out = json_object();
    assert_int_equal(rn_setup_java_action(&j, "actions/setup-java@v4", with, out),
                     RN_STEP_STATUS_FAILURE);
    assert_true(!strncmp(logs.items[logs.count - 1],
                         "no installed JDK matches java-version '21' (found: 17 in ", 57));
    json_decref(with);
    json_decref(out);
    free(home);
    free(bin);
    rn_strlist_free(&logs);
    rn_job_free(&j);
    unsetenv("RUNNEL_JVM_DIRS");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_matching),
        cmocka_unit_test(test_no_match_message),
        cmocka_unit_test(test_action_env),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
