/* actions/checkout: copying a working tree (.gitignore, modes, symlinks, no .git, destination
 * inside the source) and the built-in's behaviour for this and other repositories. */
#include "actions/checkout.h"
#include "actions/remote.h"
#include "common/arena.h"
#include "common/strbuf.h"

#include <git2.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "test_remote_fixture.h"

static char g_root[256];
static char *g_repo; /* a working tree with tracked, untracked, ignored and deleted files */
static char g_head[GIT_OID_HEXSZ + 1];
static fixture g_fx;

static void put(const char *rel, const char *content, mode_t mode) {
    char *p = rn_xprintf("%s/%s", g_repo, rel);
    char *slash = strrchr(p, '/');
    *slash = 0;
    char *cmd = rn_xprintf("mkdir -p '%s'", p);
    assert_int_equal(system(cmd), 0);
    free(cmd);
    *slash = '/';
    FILE *f = fopen(p, "w");
    fputs(content, f);
    fclose(f);
    chmod(p, mode);
    free(p);
}

static int make_worktree(void) {
    g_repo = rn_xprintf("%s/repo", g_root);
    git_repository *g = NULL;
    if (git_repository_init(&g, g_repo, 0))
        return -1;
    put("a.txt", "tracked a\n", 0644);
    put("tool.sh", "#!/bin/sh\n", 0755);
    put("sub/dir/b.txt", "tracked b\n", 0600);
    put("deleted.txt", "gone\n", 0644);
    put(".gitignore", "*.log\nbuild/\n", 0644);
    char *lp = rn_xprintf("%s/link", g_repo);
    if (symlink("a.txt", lp))
        return -1;
    free(lp);
    git_index *idx = NULL;
    git_oid tree_id, commit_id;
    git_tree *tree = NULL;
    git_signature *sig = NULL;
    const char *tracked[] = {"a.txt",       "tool.sh",    "sub/dir/b.txt",
                             "deleted.txt", ".gitignore", "link"};
    int rc = git_repository_index(&idx, g);
    for (size_t i = 0; !rc && i < sizeof tracked / sizeof *tracked; i++)
        rc = git_index_add_bypath(idx, tracked[i]);
    rc = rc ? rc : git_index_write(idx);
    rc = rc ? rc : git_index_write_tree(&tree_id, idx);
    rc = rc ? rc : git_tree_lookup(&tree, g, &tree_id);
    rc = rc ? rc : git_signature_new(&sig, "tester", "t@example.com", 1700000000, 0);
    rc = rc ? rc : git_commit_create(&commit_id, g, "HEAD", sig, sig, NULL, "c", tree, 0, NULL);
    git_oid_tostr(g_head, sizeof g_head, &commit_id);
    git_signature_free(sig);
    git_tree_free(tree);
    git_index_free(idx);
    git_repository_free(g);
    /* after the commit: untracked, ignored, modified and deleted files */
    put("new.txt", "untracked\n", 0644);
    put("debug.log", "ignored\n", 0644);
    put("build/out.bin", "ignored too\n", 0644);
    put("sub/dir/b.txt", "modified b\n", 0600);
    char *dp = rn_xprintf("%s/deleted.txt", g_repo);
    unlink(dp);
    free(dp);
    return rc;
}

static int setup_all(void **state) {
    (void)state;
    strcpy(g_root, "/tmp/runnel-test-checkout.XXXXXX");
    if (!mkdtemp(g_root))
        return -1;
    git_libgit2_init();
    char *remote = rn_xprintf("%s/remote", g_root);
    int rc = fixture_build(&g_fx, remote);
    free(remote);
    return rc ? rc : make_worktree();
}

static int teardown_all(void **state) {
    (void)state;
    fixture_rm_rf(g_root);
    free(g_repo);
    git_libgit2_shutdown();
    return 0;
}

/* The files under dir as "path mode [-> target]" lines, sorted (find's output). */
static char *listing(const char *dir) {
    char *cmd = rn_xprintf("cd '%s' && find . -mindepth 1 \\( -type f -printf '%%P %%m\\n' \\) -o "
                           "\\( -type l -printf '%%P -> %%l\\n' \\) | LC_ALL=C sort",
                           dir);
    FILE *p = popen(cmd, "r");
    rn_sb sb = RN_SB_INIT;
    char buf[512];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, p)) > 0)
        rn_sb_append(&sb, buf, n);
    pclose(p);
    free(cmd);
    return rn_sb_take(&sb);
}

static char *slurp(const char *dir, const char *rel) {
    char *p = rn_xprintf("%s/%s", dir, rel);
    char *t = rn_read_file(p, NULL);
    free(p);
    return t;
}

#define WORKTREE_FILES                                                                             \
    ".gitignore 644\n"                                                                             \
    "a.txt 644\n"                                                                                  \
    "link -> a.txt\n"                                                                              \
    "new.txt 644\n"                                                                                \
    "sub/dir/b.txt 600\n"                                                                          \
    "tool.sh 755\n"

static void test_copy_outside(void **state) {
    (void)state;
    char *dest = rn_xprintf("%s/out/deep", g_root);
    char *err = NULL;
    long n = rn_checkout_copy_tree(g_repo, dest, &err);
    if (n < 0)
        fail_msg("%s", err);
    assert_int_equal(n, 6);
    char *l = listing(dest);
    assert_string_equal(l, WORKTREE_FILES);
    free(l);
    char *b = slurp(dest, "sub/dir/b.txt");
    assert_string_equal(b, "modified b\n"); /* the working tree as it is on disk */
    free(b);
    free(dest);
}

static void test_copy_inside(void **state) {
    (void)state;
    char *dest = rn_xprintf("%s/nested/copy", g_repo);
    char *err = NULL;
    for (int round = 0; round < 2; round++) { /* the second round sees the first copy */
        long n = rn_checkout_copy_tree(g_repo, dest, &err);
        if (n < 0)
            fail_msg("%s", err);
        assert_int_equal(n, 6);
    }
    char *l = listing(dest);
    assert_string_equal(l, WORKTREE_FILES);
    free(l);
    assert_int_equal(rn_checkout_copy_tree(g_repo, g_repo, &err), -1);
    char *want = rn_xprintf("cannot copy %s onto itself", g_repo);
    assert_string_equal(err, want);
    free(want);
    free(err);
    char *cmd = rn_xprintf("rm -rf '%s/nested'", g_repo);
    assert_int_equal(system(cmd), 0);
    free(cmd);
    free(dest);
}

static void test_copy_plain_folder(void **state) {
    (void)state;
    /* not a repository: everything but .git, ignore rules do not apply */
    char *src = rn_xprintf("%s/plain", g_root);
    char *cmd = rn_xprintf("mkdir -p '%s/.git/objects' '%s/d' && echo x > '%s/d/x.log' && echo g "
                           "> '%s/.git/objects/f' && echo '*.log' > '%s/.gitignore' && ln -s d "
                           "'%s/dl'",
                           src, src, src, src, src, src);
    assert_int_equal(system(cmd), 0);
    free(cmd);
    char *dest = rn_xprintf("%s/plain-copy", g_root);
    char *err = NULL;
    assert_int_equal(rn_checkout_copy_tree(src, dest, &err), 3);
    char *l = listing(dest);
    assert_string_equal(l, ".gitignore 644\nd/x.log 644\ndl -> d\n");
    free(l);
    free(dest);
    free(src);
    assert_int_equal(rn_checkout_copy_tree("/nonexistent/x", "/tmp/y", &err), -1);
    assert_string_equal(err, "cannot read /nonexistent/x: No such file or directory");
    free(err);
}

/* ---- the built-in ---- */

static rn_sb g_log;
static void sink_log(void *ud, rn_log_kind kind, const char *text) {
    (void)ud;
    rn_sb_printf(&g_log, "%s: %s\n",
                 kind == RN_LOG_ERROR     ? "error"
                 : kind == RN_LOG_WARNING ? "warning"
                 : kind == RN_LOG_INFO    ? "info"
                                          : "other",
                 text);
}

static void job_setup(rn_job *j, rn_remote *remote) {
    rn_job_init(j);
    json_decref(j->contexts);
    j->contexts = json_pack("{s:{s:s,s:s,s:s,s:s}}", "github", "repository", "me/proj", "ref",
                            "refs/heads/main", "ref_name", "main", "sha", g_head);
    j->paths.workspace = g_repo;
    j->sink.log = sink_log;
    if (remote) {
        j->resolve_action = rn_remote_resolve;
        j->resolve_ud = remote;
    }
    rn_sb_clear(&g_log);
}

static rn_step_status run(rn_job *j, json_t *with, json_t **outputs) {
    *outputs = json_object();
    rn_step_status st = rn_checkout_action(j, "actions/checkout@v4", with, *outputs);
    json_decref(with);
    return st;
}

static void test_action_self(void **state) {
    (void)state;
    rn_job j;
    json_t *out;
    job_setup(&j, NULL);
    assert_int_equal(run(&j, json_object(), &out), RN_STEP_STATUS_SUCCESS);
    char *want = rn_xprintf("info: Using the local working tree at %s\n", g_repo);
    assert_string_equal(rn_sb_str(&g_log), want);
    free(want);
    assert_string_equal(json_string_value(json_object_get(out, "ref")), "refs/heads/main");
    assert_string_equal(json_string_value(json_object_get(out, "commit")), g_head);
    json_decref(out);

    /* same repository, named differently in case, into a path */
    rn_sb_clear(&g_log);
    assert_int_equal(run(&j, json_pack("{s:s,s:s}", "repository", "Me/Proj", "path", "./w/"), &out),
                     RN_STEP_STATUS_SUCCESS);
    want =
        rn_xprintf("info: Copied the local working tree at %s to %s/w (6 files)\n", g_repo, g_repo);
    assert_string_equal(rn_sb_str(&g_log), want);
    free(want);
    char *dest = rn_xprintf("%s/w", g_repo);
    char *l = listing(dest);
    assert_string_equal(l, WORKTREE_FILES);
    free(l);
    free(dest);
    json_decref(out);
    char *cmd = rn_xprintf("rm -rf '%s/w'", g_repo);
    assert_int_equal(system(cmd), 0);
    free(cmd);

    rn_sb_clear(&g_log);
    assert_int_equal(run(&j, json_pack("{s:s}", "path", "../elsewhere"), &out),
                     RN_STEP_STATUS_FAILURE);
    want =
        rn_xprintf("error: Repository path '%s/../elsewhere' is not under '%s'\n", g_repo, g_repo);
    assert_string_equal(rn_sb_str(&g_log), want);
    free(want);
    json_decref(out);
    rn_job_free(&j);
}

static void test_action_other(void **state) {
    (void)state;
    rn_job j;
    json_t *out;
    job_setup(&j, NULL);
    assert_int_equal(run(&j, json_pack("{s:s,s:s}", "repository", "owner/repo", "path", "o"), &out),
                     RN_STEP_STATUS_FAILURE);
    assert_string_equal(rn_sb_str(&g_log),
                        "error: actions/checkout@v4: cannot check out owner/repo: remote "
                        "repositories are not available here; use --local-repository "
                        "owner/repo@REF=DIR\n");
    json_decref(out);
    rn_job_free(&j);

    char *home = rn_xprintf("%s/home", g_root);
    char *url = rn_xprintf("%s/remote", g_root);
    setenv("RUNNEL_HOME", home, 1);
    setenv("RUNNEL_GITHUB_URL", url, 1);
    rn_remote *remote = rn_remote_new();
    job_setup(&j, remote);
    /* fetched through the action cache */
    assert_int_equal(
        run(&j, json_pack("{s:s,s:s,s:s}", "repository", "owner/repo", "ref", "v1", "path", "o"),
            &out),
        RN_STEP_STATUS_SUCCESS);
    assert_string_equal(json_string_value(json_object_get(out, "commit")), g_fx.sha1);
    assert_string_equal(json_string_value(json_object_get(out, "ref")), "v1");
    char *dest = rn_xprintf("%s/o", g_repo);
    char *l = listing(dest);
    assert_string_equal(l,
                        "action.yml 644\nlink -> run.sh\nrun.sh 755\nsub/inner/action.yml 644\n");
    free(l);
    json_decref(out);
    char *rmcmd = rn_xprintf("rm -rf '%s'", dest);
    assert_int_equal(system(rmcmd), 0);
    free(rmcmd);
    /* into the workspace itself: refused */
    rn_sb_clear(&g_log);
    assert_int_equal(run(&j, json_pack("{s:s,s:s}", "repository", "owner/repo", "ref", "v1"), &out),
                     RN_STEP_STATUS_FAILURE);
    char *want = rn_xprintf("error: actions/checkout@v4: checking out owner/repo into the "
                            "workspace itself would overwrite the local working tree at %s; give "
                            "it a `path:`\n",
                            g_repo);
    assert_string_equal(rn_sb_str(&g_log), want);
    free(want);
    json_decref(out);
    /* an unknown ref */
    rn_sb_clear(&g_log);
    assert_int_equal(
        run(&j, json_pack("{s:s,s:s,s:s}", "repository", "owner/repo", "ref", "v7", "path", "o"),
            &out),
        RN_STEP_STATUS_FAILURE);
    assert_string_equal(rn_sb_str(&g_log),
                        "error: actions/checkout@v4: cannot check out owner/repo: Unable to "
                        "resolve action `owner/repo@v7`, unable to find version `v7`\n");
    json_decref(out);
    /* --local-repository wins over fetching; its HEAD is the commit */
    char *err = NULL;
    char *val = rn_xprintf("owner/repo@v1=%s", g_repo);
    assert_true(rn_remote_add_local(remote, val, &err));
    free(val);
    rn_sb_clear(&g_log);
    char *other = rn_xprintf("%s/other-ws", g_root);
    mkdir(other, 0755);
    j.paths.workspace = other;
    assert_int_equal(
        run(&j, json_pack("{s:s,s:s,s:s}", "repository", "owner/repo", "ref", "v1", "path", "x"),
            &out),
        RN_STEP_STATUS_SUCCESS);
    assert_string_equal(json_string_value(json_object_get(out, "commit")), g_head);
    char *dx = rn_xprintf("%s/x", other);
    l = listing(dx);
    assert_string_equal(l, WORKTREE_FILES);
    free(l);
    free(dx);
    json_decref(out);
    free(other);
    rn_job_free(&j);
    rn_remote_free(remote);
    free(dest);
    free(home);
    free(url);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_copy_outside),      cmocka_unit_test(test_copy_inside),
        cmocka_unit_test(test_copy_plain_folder), cmocka_unit_test(test_action_self),
        cmocka_unit_test(test_action_other),
    };
    int rc = cmocka_run_group_tests(tests, setup_all, teardown_all);
    rn_sb_free(&g_log);
    return rc;
}
