/* actions/step.c environment files (GITHUB_ENV, GITHUB_OUTPUT, GITHUB_STATE, GITHUB_PATH,
 * GITHUB_STEP_SUMMARY): every process gets its own empty files with unique names, what it writes
 * is applied, whatever it does to the files (remove them, replace them by a symlink) stays its
 * own business, and the files folder is empty once the job is freed. runnel recycles the empty
 * file a step leaves (renamed to the next step's name): these tests pin that nothing of it shows.
 */
#include "actions/step.h"
#include "common/arena.h"
#include "common/strbuf.h"

#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

static char root[] = "/tmp/runnel-step-files.XXXXXX";
static char *files, *temp;
static rn_strlist logs;

static void log_cb(void *ud, rn_log_kind kind, const char *text) {
    (void)ud;
    if (kind == RN_LOG_ERROR || kind == RN_LOG_WARNING) {
        logs.items = rn_xrealloc(logs.items, (logs.count + 1) * sizeof *logs.items);
        logs.items[logs.count++] = rn_xstrdup(text);
    }
}

static void job(rn_job *j) {
    rn_job_init(j);
    j->sink.log = log_cb;
    j->paths.workspace = root;
    j->paths.temp = temp;
    j->paths.files = files;
    json_object_set_new(j->base_env, "PATH", json_string("/usr/bin:/bin"));
    json_object_set_new(j->base_env, "ROOT", json_string(root));
}

/* Runs `bash -c script` as a step process; outputs (may be NULL) receives GITHUB_OUTPUT. */
static rn_step_status step(rn_job *j, const char *script, json_t *outputs) {
    const char *argv[] = {"bash", "-eo", "pipefail", "-c", script, NULL};
    json_t *env = json_copy(j->env);
    rn_step_proc sp = {0};
    sp.argv = argv;
    sp.env = env;
    sp.cwd = root;
    sp.outputs = outputs;
    rn_step_status st = rn_job_run_process(j, &sp);
    json_decref(env);
    return st;
}

static char *slurp(const char *name) {
    char *p = rn_xprintf("%s/%s", root, name);
    size_t len;
    char *t = rn_read_file(p, &len);
    free(p);
    return t;
}

static int entries(const char *dir) {
    DIR *d = opendir(dir);
    if (!d)
        return -1;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
            n++;
    closedir(d);
    return n;
}

static int setup(void **state) {
    (void)state;
    strcpy(root, "/tmp/runnel-step-files.XXXXXX"); /* mkdtemp fills the X's in */
    assert_non_null(mkdtemp(root));
    files = rn_xprintf("%s/files", root);
    temp = rn_xprintf("%s/tmp", root);
    mkdir(files, 0755);
    mkdir(temp, 0755);
    return 0;
}

static int teardown(void **state) {
    (void)state;
    char *cmd = rn_xprintf("rm -rf '%s'", root);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", root);
    free(cmd);
    free(files);
    free(temp);
    rn_strlist_free(&logs);
    memset(&logs, 0, sizeof logs);
    return 0;
}

#define NAMES "echo $GITHUB_ENV $GITHUB_OUTPUT $GITHUB_STATE $GITHUB_PATH $GITHUB_STEP_SUMMARY"

static void unique_names_applied_and_cleaned(void **state) {
    (void)state;
    rn_job j;
    job(&j);
    json_t *out = json_object();
    assert_int_equal(
        step(&j, NAMES " > $ROOT/n1; echo X=1 >> $GITHUB_ENV; echo o=2 >> $GITHUB_OUTPUT", out),
        RN_STEP_STATUS_SUCCESS);
    assert_string_equal(json_string_value(json_object_get(j.env, "X")), "1");
    assert_string_equal(json_string_value(json_object_get(out, "o")), "2");
    /* a step that writes nothing, then one that checks the previous step's files are gone and
     * its own are there, empty, regular files */
    assert_int_equal(step(&j, NAMES " > $ROOT/n2", NULL), RN_STEP_STATUS_SUCCESS);
    assert_int_equal(step(&j,
                          NAMES " > $ROOT/n3\n"
                                "for f in $(cat $ROOT/n1 $ROOT/n2); do [ ! -e $f ]; done\n"
                                "for f in $(cat $ROOT/n3); do [ -f $f ] && [ ! -L $f ] && "
                                "[ ! -s $f ]; done\n"
                                "echo 'Y<<EOF' >> $GITHUB_ENV; echo two >> $GITHUB_ENV; "
                                "echo EOF >> $GITHUB_ENV",
                          NULL),
                     RN_STEP_STATUS_SUCCESS);
    assert_string_equal(json_string_value(json_object_get(j.env, "Y")), "two");
    char *n1 = slurp("n1"), *n2 = slurp("n2"), *n3 = slurp("n3");
    assert_non_null(n1);
    assert_non_null(n2);
    assert_non_null(n3);
    assert_string_not_equal(n1, n2);
    assert_string_not_equal(n2, n3);
    assert_string_not_equal(n1, n3);
    /* names: FOLDER/set_env_N ... with the folder of the job */
    char *prefix = rn_xprintf("%s/set_env_", files);
    assert_memory_equal(n2, prefix, strlen(prefix));
    free(prefix);
    free(n1);
    free(n2);
    free(n3);
    assert_int_equal(logs.count, 0);
    json_decref(out);
    rn_job_free(&j);
    assert_int_equal(entries(files), 0);
}

static void removed_or_replaced_files(void **state) {
    (void)state;
    rn_job j;
    job(&j);
    /* removed files: nothing applied, no error */
    assert_int_equal(step(&j, "rm -f $GITHUB_OUTPUT $GITHUB_ENV $GITHUB_STATE", NULL),
                     RN_STEP_STATUS_SUCCESS);
    /* GITHUB_ENV replaced by a symlink to a file outside: read through it (as before), the link
     * goes, the target stays */
    assert_int_equal(step(&j,
                          "echo Z=3 > $ROOT/outside; rm $GITHUB_ENV; ln -s $ROOT/outside "
                          "$GITHUB_ENV",
                          NULL),
                     RN_STEP_STATUS_SUCCESS);
    assert_string_equal(json_string_value(json_object_get(j.env, "Z")), "3");
    /* hard link kept by the step: that file is not handed to the next step */
    assert_int_equal(step(&j, "ln $GITHUB_OUTPUT $ROOT/kept", NULL), RN_STEP_STATUS_SUCCESS);
    json_t *out = json_object();
    assert_int_equal(step(&j,
                          "[ -f $GITHUB_ENV ] && [ ! -L $GITHUB_ENV ] && [ ! -s $GITHUB_ENV ]\n"
                          "echo W=4 >> $GITHUB_ENV; echo k=v >> $GITHUB_OUTPUT",
                          out),
                     RN_STEP_STATUS_SUCCESS);
    assert_string_equal(json_string_value(json_object_get(j.env, "W")), "4");
    assert_string_equal(json_string_value(json_object_get(out, "k")), "v");
    char *outside = slurp("outside"), *kept = slurp("kept");
    assert_string_equal(outside, "Z=3\n");
    assert_string_equal(kept, "");
    free(outside);
    free(kept);
    json_decref(out);
    assert_int_equal(logs.count, 0);
    rn_job_free(&j);
    assert_int_equal(entries(files), 0);
}

static void not_started_leaves_nothing(void **state) {
    (void)state;
    rn_job j;
    job(&j);
    assert_int_equal(step(&j, "true", NULL), RN_STEP_STATUS_SUCCESS);
    const char *argv[] = {"/nonexistent/program", NULL};
    rn_step_proc sp = {0};
    sp.argv = argv;
    sp.env = j.env;
    sp.cwd = root;
    assert_int_equal(rn_job_run_process(&j, &sp), RN_STEP_STATUS_FAILURE);
    assert_int_equal(logs.count, 1);
    assert_string_equal(logs.items[0], "/nonexistent/program: No such file or directory");
    assert_int_equal(step(&j, "[ -f $GITHUB_ENV ] && [ ! -s $GITHUB_ENV ]", NULL),
                     RN_STEP_STATUS_SUCCESS);
    rn_job_free(&j);
    assert_int_equal(entries(files), 0);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(unique_names_applied_and_cleaned, setup, teardown),
        cmocka_unit_test_setup_teardown(removed_or_replaced_files, setup, teardown),
        cmocka_unit_test_setup_teardown(not_started_leaves_nothing, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
