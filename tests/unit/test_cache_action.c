/* The built-in actions/cache and setup-java `cache: maven` on a job: miss then hit with the same
 * bytes, partial matches, post-step rules (only on success, not after an exact hit),
 * fail-on-cache-miss, lookup-only, restore/save variants, and `runnel cache` on the result. */
#include "actions/cache_action.h"
#include "actions/setup_java.h"
#include "common/arena.h"
#include "common/strbuf.h"
#include "sandbox/proc.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

extern char **environ;

static char root[] = "/tmp/rn-cache-action.XXXXXX";
static char *ws, *home;
static rn_strlist logs;

static void put(const char *path, const char *text) {
    char *p = rn_xstrdup(path);
    for (char *s = p + 1; *s; s++)
        if (*s == '/') {
            *s = 0;
            mkdir(p, 0755);
            *s = '/';
        }
    FILE *f = fopen(p, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    free(p);
}

static char *slurp(const char *path) {
    size_t n;
    char *t = rn_read_file(path, &n);
    return t;
}

static void rm_rf(const char *p) {
    char *cmd = rn_xprintf("rm -rf '%s'", p);
    assert_int_equal(system(cmd), 0);
    free(cmd);
}

static void log_cb(void *ud, rn_log_kind kind, const char *text) {
    (void)ud;
    const char *k = kind == RN_LOG_WARNING ? "warning: " : kind == RN_LOG_ERROR ? "error: " : "";
    logs.items = rn_xrealloc(logs.items, (logs.count + 1) * sizeof *logs.items);
    logs.items[logs.count++] = rn_xprintf("%s%s", k, text);
}

static bool logged(const char *line) {
    for (size_t i = 0; i < logs.count; i++)
        if (!strcmp(logs.items[i], line))
            return true;
    return false;
}

static void clear_logs(void) {
    rn_strlist_free(&logs);
    memset(&logs, 0, sizeof logs);
}

static void job(rn_job *j, const char *ref) {
    rn_job_init(j);
    j->sink.log = log_cb;
    j->paths.workspace = ws;
    json_object_set_new(j->contexts, "github",
                        json_pack("{s:s,s:s,s:{s:{s:s}}}", "repository", "o/r", "ref", ref, "event",
                                  "repository", "default_branch", "main"));
    json_object_set_new(j->contexts, "runner", json_pack("{s:s}", "os", "Linux"));
}

static rn_step_status run_cache(rn_job *j, const char *uses, const char *key, const char *rk,
                                const char *extra, json_t **outputs) {
    json_t *with = json_pack("{s:s,s:s}", "path", "deps\n~/m2repo\n", "key", key);
    if (rk)
        json_object_set_new(with, "restore-keys", json_string(rk));
    if (extra)
        json_object_set_new(with, extra, json_string("true"));
    *outputs = json_object();
    rn_step_status st = rn_cache_action(j, uses, with, *outputs);
    json_decref(with);
    return st;
}

static int setup(void **state) {
    (void)state;
    assert_non_null(mkdtemp(root));
    ws = rn_xprintf("%s/ws", root);
    home = rn_xprintf("%s/home", root);
    mkdir(ws, 0755);
    mkdir(home, 0755);
    setenv("HOME", home, 1);
    char *rh = rn_xprintf("%s/runnel-home", root);
    setenv("RUNNEL_HOME", rh, 1);
    free(rh);
    return 0;
}

static int teardown(void **state) {
    (void)state;
    rm_rf(root);
    free(ws);
    free(home);
    clear_logs();
    return 0;
}

static void write_deps(const char *v) {
    char *a = rn_xprintf("%s/deps/a.txt", ws), *b = rn_xprintf("%s/m2repo/org/x.pom", home);
    put(a, v);
    put(b, "<pom/>");
    free(a);
    free(b);
}

static void check_deps(const char *v) {
    char *a = rn_xprintf("%s/deps/a.txt", ws), *b = rn_xprintf("%s/m2repo/org/x.pom", home);
    char *ta = slurp(a), *tb = slurp(b);
    assert_non_null(ta);
    assert_non_null(tb);
    assert_string_equal(ta, v);
    assert_string_equal(tb, "<pom/>");
    free(ta);
    free(tb);
    free(a);
    free(b);
}

static void wipe_deps(void) {
    char *a = rn_xprintf("%s/deps", ws), *b = rn_xprintf("%s/m2repo", home);
    rm_rf(a);
    rm_rf(b);
    free(a);
    free(b);
}

static void test_miss_then_hit(void **state) {
    (void)state;
    write_deps("v1");
    rn_job j;
    job(&j, "refs/heads/main");
    json_t *out;
    clear_logs();
    assert_int_equal(run_cache(&j, "actions/cache@v4", "deps-1", "deps-", NULL, &out),
                     RN_STEP_STATUS_SUCCESS);
    assert_true(logged("Cache not found for input keys: deps-1, deps-"));
    assert_null(json_object_get(out, "cache-hit")); /* empty on a miss */
    json_decref(out);
    /* a failed job does not save */
    rn_cache_job_post(&j, false);
    assert_false(logged("Cache saved with key: deps-1"));
    rn_job_free(&j);

    job(&j, "refs/heads/main");
    assert_int_equal(run_cache(&j, "actions/cache@v4", "deps-1", "deps-", NULL, &out),
                     RN_STEP_STATUS_SUCCESS);
    json_decref(out);
    rn_cache_job_post(&j, true);
    assert_true(logged("Cache saved with key: deps-1"));
    rn_job_free(&j);

    /* second run: exact hit, same bytes, no save */
    wipe_deps();
    clear_logs();
    job(&j, "refs/heads/main");
    assert_int_equal(run_cache(&j, "actions/cache@v3", "deps-1", "deps-", NULL, &out),
                     RN_STEP_STATUS_SUCCESS);
    assert_true(logged("Cache restored from key: deps-1"));
    assert_string_equal(json_string_value(json_object_get(out, "cache-hit")), "true");
    json_decref(out);
    check_deps("v1");
    rn_cache_job_post(&j, true);
    assert_true(logged("Cache hit occurred on the primary key deps-1, not saving cache."));
    rn_job_free(&j);

    /* a new key restores the old entry by prefix (cache-hit false) and saves the new key */
    wipe_deps();
    clear_logs();
    job(&j, "refs/heads/feature");
    assert_int_equal(run_cache(&j, "actions/cache@v4", "deps-2", "deps-", NULL, &out),
                     RN_STEP_STATUS_SUCCESS);
    assert_true(logged("Cache restored from key: deps-1")); /* from the default branch */
    assert_string_equal(json_string_value(json_object_get(out, "cache-hit")), "false");
    json_decref(out);
    check_deps("v1");
    write_deps("v2");
    rn_cache_job_post(&j, true);
    assert_true(logged("Cache saved with key: deps-2"));
    rn_job_free(&j);

    /* main does not see the feature branch's entry */
    clear_logs();
    job(&j, "refs/heads/main");
    assert_int_equal(run_cache(&j, "actions/cache@v4", "deps-2", NULL, "lookup-only", &out),
                     RN_STEP_STATUS_SUCCESS);
    assert_true(logged("Cache not found for input keys: deps-2"));
    json_decref(out);
    rn_cache_job_forget(&j);
    rn_job_free(&j);
}

static void test_restore_save_variants(void **state) {
    (void)state;
    write_deps("v3");
    rn_job j;
    json_t *out;
    clear_logs();
    job(&j, "refs/heads/main");
    assert_int_equal(
        run_cache(&j, "actions/cache/restore@v4", "var-1", NULL, "fail-on-cache-miss", &out),
        RN_STEP_STATUS_FAILURE);
    assert_true(logged("error: Failed to restore cache entry. Exiting as fail-on-cache-miss is "
                       "set. Input key: var-1"));
    assert_string_equal(json_string_value(json_object_get(out, "cache-primary-key")), "var-1");
    json_decref(out);
    /* save: immediately, in the step */
    assert_int_equal(run_cache(&j, "actions/cache/save@v4", "var-1", NULL, NULL, &out),
                     RN_STEP_STATUS_SUCCESS);
    assert_true(logged("Cache saved with key: var-1"));
    json_decref(out);
    assert_int_equal(run_cache(&j, "actions/cache/save@v4", "var-1", NULL, NULL, &out),
                     RN_STEP_STATUS_SUCCESS);
    assert_true(logged("warning: Failed to save: Unable to reserve cache with key var-1, another "
                       "job may be creating this cache."));
    json_decref(out);
    /* lookup-only: found, nothing written */
    wipe_deps();
    assert_int_equal(run_cache(&j, "actions/cache/restore@v4", "var-1", NULL, "lookup-only", &out),
                     RN_STEP_STATUS_SUCCESS);
    assert_true(logged("Cache found and can be restored from key: var-1"));
    assert_string_equal(json_string_value(json_object_get(out, "cache-hit")), "true");
    assert_string_equal(json_string_value(json_object_get(out, "cache-matched-key")), "var-1");
    json_decref(out);
    char *a = rn_xprintf("%s/deps/a.txt", ws);
    assert_int_equal(access(a, F_OK), -1);
    free(a);
    /* the restore-only action has no post step */
    rn_cache_job_post(&j, true);
    /* invalid keys */
    assert_int_equal(run_cache(&j, "actions/cache@v4", "a,b", NULL, NULL, &out),
                     RN_STEP_STATUS_FAILURE);
    assert_true(logged("error: Key Validation Error: a,b cannot contain commas."));
    json_decref(out);
    rn_job_free(&j);
    /* nothing to save */
    clear_logs();
    job(&j, "refs/heads/main");
    json_t *with = json_pack("{s:s,s:s}", "path", "missing-dir", "key", "none-1");
    out = json_object();
    assert_int_equal(rn_cache_action(&j, "actions/cache/save@v4", with, out),
                     RN_STEP_STATUS_SUCCESS);
    assert_true(logged("warning: Path Validation Error: Path(s) specified in the action for "
                       "caching do(es) not exist, hence no cache is being saved."));
    json_decref(with);
    json_decref(out);
    rn_job_free(&j);
}

static char *hash_one(const char *path) {
    size_t n;
    char *t = rn_read_file(path, &n);
    unsigned char d[32], d2[32];
    unsigned int dl;
    EVP_Digest(t, n, d, &dl, EVP_sha256(), NULL);
    EVP_Digest(d, 32, d2, &dl, EVP_sha256(), NULL);
    free(t);
    char *r = rn_xmalloc(65);
    for (int i = 0; i < 32; i++)
        sprintf(r + 2 * i, "%02x", d2[i]);
    return r;
}

static void test_setup_java_maven(void **state) {
    (void)state;
    /* the system's JDKs are not needed: a fake one */
    char *jvm = rn_xprintf("%s/jvm", root);
    char *java = rn_xprintf("%s/jdk17/bin/java", jvm), *rel = rn_xprintf("%s/jdk17/release", jvm);
    put(java, "#!/bin/sh\n");
    chmod(java, 0755);
    put(rel, "JAVA_VERSION=\"17.0.9\"\n");
    setenv("RUNNEL_JVM_DIRS", jvm, 1);
    char *pom = rn_xprintf("%s/pom.xml", ws);
    put(pom, "<project><artifactId>app</artifactId></project>\n");
    char *jar = rn_xprintf("%s/.m2/repository/junit/junit.jar", home);
    put(jar, "jar bytes");
    char *hash = hash_one(pom);
    char *key = rn_xprintf("setup-java-Linux-x64-maven-%s", hash);
    char *restored = rn_xprintf("Cache restored from key: %s", key);
    char *saved = rn_xprintf("Cache saved with key: %s", key);
    json_t *with = json_pack("{s:s,s:s,s:s}", "java-version", "17", "distribution", "temurin",
                             "cache", "maven");
    for (int run = 0; run < 2; run++) {
        clear_logs();
        rn_job j;
        job(&j, "refs/heads/main");
        json_t *out = json_object();
        assert_int_equal(rn_setup_java_action(&j, "actions/setup-java@v4", with, out),
                         RN_STEP_STATUS_SUCCESS);
        assert_string_equal(json_string_value(json_object_get(out, "cache-hit")),
                            run ? "true" : "false");
        assert_true(logged(run ? restored : "maven cache is not found"));
        rn_cache_job_post(&j, true);
        assert_int_equal(logged(saved), run == 0);
        json_decref(out);
        rn_job_free(&j);
        if (!run) {
            char *m2 = rn_xprintf("%s/.m2", home);
            rm_rf(m2);
            free(m2);
        }
    }
    char *t = slurp(jar);
    assert_string_equal(t, "jar bytes");
    free(t);

    /* runnel cache ls / rm on what the tests saved */
    const char *bin = getenv("RUNNEL_BIN");
    if (bin && *bin) {
        const char *argv[] = {bin, "cache", "ls", NULL};
        rn_proc_opts o = {0};
        o.argv = argv;
        o.envp = (const char *const *)environ;
        o.stdout_mode = RN_STDIO_PIPE;
        rn_proc_result r;
        char *outp = NULL, *err = NULL;
        assert_int_equal(rn_proc_run(&o, &r, &outp, NULL, &err), 0);
        assert_int_equal(r.exit_code, 0);
        assert_non_null(strstr(outp, key));
        assert_non_null(strstr(outp, " o/r@refs/heads/main "));
        assert_non_null(strstr(outp, "4 entries, "));
        free(outp);
        const char *rm[] = {bin, "cache", "rm", key, NULL};
        o.argv = rm;
        assert_int_equal(rn_proc_run(&o, &r, &outp, NULL, &err), 0);
        assert_int_equal(r.exit_code, 0);
        char *want = rn_xprintf("removed 1 entry with key '%s'\n", key);
        assert_string_equal(outp, want);
        free(want);
        free(outp);
        const char *prune[] = {bin, "cache", "prune", "--max-size", "0", NULL};
        o.argv = prune;
        assert_int_equal(rn_proc_run(&o, &r, &outp, NULL, &err), 0);
        assert_true(!strncmp(outp, "pruned 3 entries, freed ", 24));
        free(outp);
    }
    json_decref(with);
    unsetenv("RUNNEL_JVM_DIRS");
    free(jvm);
    free(java);
    free(rel);
    free(pom);
    free(jar);
    free(hash);
    free(key);
    free(restored);
    free(saved);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_miss_then_hit),
        cmocka_unit_test(test_restore_save_variants),
        cmocka_unit_test(test_setup_java_maven),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
