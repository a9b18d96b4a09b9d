/* actions/remote: --local-repository parsing, uses parsing, and the libgit2 action cache
 * against bare repositories this test builds with libgit2 under a temporary folder. */
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
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include <dirent.h>
#include <jansson.h>

#include "test_remote_fixture.h"

static char g_root[256];
static fixture g_fx;

/* Warnings captured from the resolver. */
static rn_sb g_warn;
static int g_nwarn;
static void capture(void *ud, const char *msg) {
    (void)ud;
    rn_sb_puts(&g_warn, msg);
    rn_sb_putc(&g_warn, '\n');
    g_nwarn++;
}

/* A fresh context on a fresh cache folder `home` with RUNNEL_GITHUB_URL = url. */
static rn_remote *ctx(const char *home, const char *url) {
    char *h = rn_xprintf("%s/%s", g_root, home);
    setenv("RUNNEL_HOME", h, 1);
    setenv("RUNNEL_GITHUB_URL", url, 1);
    free(h);
    rn_remote *r = rn_remote_new();
    rn_sb_clear(&g_warn);
    g_nwarn = 0;
    rn_remote_set_warn(r, capture, NULL);
    return r;
}

static char *remote_url(void) {
    return rn_xprintf("%s/remote", g_root);
}

static char *cache_dir(const char *home, const char *sha) {
    return rn_xprintf("%s/%s/actions/owner/repo/%s", g_root, home, sha);
}

static int setup_all(void **state) {
    (void)state;
    strcpy(g_root, "/tmp/runnel-test-remote.XXXXXX");
    if (!mkdtemp(g_root))
        return -1;
    git_libgit2_init();
    char *remote = remote_url();
    int rc = fixture_build(&g_fx, remote);
    free(remote);
    unsetenv("XDG_CACHE_HOME");
    return rc;
}

static int teardown_all(void **state) {
    (void)state;
    fixture_rm_rf(g_root);
    git_libgit2_shutdown();
    rn_sb_free(&g_warn);
    return 0;
}

static void test_local_repo_parse(void **state) {
    (void)state;
    char *repo, *ref, *dir, *err = NULL;
    assert_true(rn_local_repo_parse("Owner/Repo@v1.2=/x/y=z", &repo, &ref, &dir, &err));
    assert_string_equal(repo, "Owner/Repo");
    assert_string_equal(ref, "v1.2");
    assert_string_equal(dir, "/x/y=z");
    free(repo);
    free(ref);
    free(dir);
    static const struct {
        const char *in, *why;
    } bad[] = {
        {"owner/repo@v1", "missing '=DIR'"},
        {"owner/repo@v1=", "empty DIR"},
        {"owner/repo=dir", "missing '@REF'"},
        {"owner/repo@=dir", "empty REF"},
        {"repo@v1=dir", "OWNER/REPO must be two non-empty names separated by one '/'"},
        {"owner/@v1=dir", "OWNER/REPO must be two non-empty names separated by one '/'"},
        {"a/b/c@v1=dir", "OWNER/REPO must be two non-empty names separated by one '/'"},
        {"", "missing '=DIR'"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        err = NULL;
        assert_false(rn_local_repo_parse(bad[i].in, &repo, &ref, &dir, &err));
        assert_null(repo);
        char *want = rn_xprintf("--local-repository needs OWNER/REPO@REF=DIR, got '%s' (%s)",
                                bad[i].in, bad[i].why);
        assert_string_equal(err, want);
        free(want);
        free(err);
    }
}

static void test_action_ref_parse(void **state) {
    (void)state;
    rn_action_ref ar;
    char *err = NULL;
    assert_true(rn_action_ref_parse("actions/setup-node@v4", &ar, &err));
    assert_string_equal(ar.owner, "actions");
    assert_string_equal(ar.repo, "setup-node");
    assert_string_equal(ar.path, "");
    assert_string_equal(ar.ref, "v4");
    rn_action_ref_free(&ar);
    assert_true(rn_action_ref_parse("o/r/a/b/@releases/v1", &ar, &err));
    assert_string_equal(ar.repo, "r");
    assert_string_equal(ar.path, "a/b");
    assert_string_equal(ar.ref, "releases/v1");
    rn_action_ref_free(&ar);
    const char *bad[] = {"o/r", "o/r@", "o@v1", "/r@v1", "o/@v1", "o/r@v1@v2"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        err = NULL;
        assert_false(rn_action_ref_parse(bad[i], &ar, &err));
        char *want = rn_xprintf("Expected format {org}/{repo}[/path]@ref. Actual '%s'", bad[i]);
        assert_string_equal(err, want);
        free(want);
        free(err);
    }
}

static char *slurp(const char *dir, const char *name) {
    char *p = rn_xprintf("%s/%s", dir, name);
    char *t = rn_read_file(p, NULL);
    free(p);
    return t;
}

/* Resolves `uses` and checks it lands in home's cache at sha[/sub]. */
static void expect_resolves(rn_remote *r, const char *home, const char *uses, const char *sha,
                            const char *sub) {
    char *err = NULL;
    char *dir = rn_remote_resolve(r, uses, &err);
    if (!dir)
        fail_msg("%s: %s", uses, err);
    char *base = cache_dir(home, sha);
    char *want = sub ? rn_xprintf("%s/%s", base, sub) : rn_xstrdup(base);
    assert_string_equal(dir, want);
    free(want);
    free(base);
    free(dir);
}

static void test_resolve_refs(void **state) {
    (void)state;
    char *url = remote_url();
    rn_remote *r = ctx("h-refs", url);
    expect_resolves(r, "h-refs", "owner/repo@v1", g_fx.sha1, NULL);   /* annotated tag */
    expect_resolves(r, "h-refs", "Owner/REPO@v1", g_fx.sha1, NULL);   /* case */
    expect_resolves(r, "h-refs", "owner/repo@v2", g_fx.sha2, NULL);   /* lightweight tag */
    expect_resolves(r, "h-refs", "owner/repo@main", g_fx.sha2, NULL); /* branch */
    expect_resolves(r, "h-refs", "owner/repo@refs/heads/main", g_fx.sha2, NULL);
    char shortsha[8];
    memcpy(shortsha, g_fx.sha1, 7);
    shortsha[7] = 0;
    char *uses = rn_xprintf("owner/repo@%s", shortsha);
    expect_resolves(r, "h-refs", uses, g_fx.sha1, NULL);
    free(uses);
    uses = rn_xprintf("owner/repo@%s", g_fx.sha2);
    expect_resolves(r, "h-refs", uses, g_fx.sha2, NULL);
    free(uses);
    expect_resolves(r, "h-refs", "owner/repo/sub/inner@v1", g_fx.sha1, "sub/inner");
    assert_int_equal(g_nwarn, 0);

    /* the tree of v1 with its modes, symlink and contents */
    char *d1 = cache_dir("h-refs", g_fx.sha1);
    char *t = slurp(d1, "action.yml");
    assert_string_equal(t, FX_ACTION_V1);
    free(t);
    t = slurp(d1, "sub/inner/action.yml");
    assert_string_equal(t, FX_ACTION_SUB);
    free(t);
    char *p = rn_xprintf("%s/run.sh", d1);
    struct stat st;
    assert_int_equal(lstat(p, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0755);
    free(p);
    p = rn_xprintf("%s/action.yml", d1);
    assert_int_equal(lstat(p, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0644);
    free(p);
    p = rn_xprintf("%s/link", d1);
    char target[64] = {0};
    assert_int_equal(readlink(p, target, sizeof target - 1), 6);
    assert_string_equal(target, "run.sh");
    free(p);
    /* the ref -> sha map for offline use */
    char *home = rn_xprintf("%s/h-refs/actions/owner/repo", g_root);
    json_t *refs = NULL;
    {
        char *rp = rn_xprintf("%s/refs.json", home);
        refs = json_load_file(rp, 0, NULL);
        free(rp);
    }
    assert_non_null(refs);
    assert_string_equal(json_string_value(json_object_get(refs, "v1")), g_fx.sha1);
    assert_string_equal(json_string_value(json_object_get(refs, "main")), g_fx.sha2);
    json_decref(refs);
    free(home);
    free(d1);
    rn_remote_free(r);
    free(url);
}

static void test_default_branch_and_git_suffix(void **state) {
    (void)state;
    /* file:// form; "plain" is stored as remote/owner/plain without .git */
    char *url = rn_xprintf("file://%s/remote/", g_root);
    rn_remote *r = ctx("h-head", url);
    char *err = NULL, *sha = NULL;
    char *dir = rn_remote_fetch(r, "owner", "repo", NULL, &sha, &err);
    if (!dir)
        fail_msg("%s", err);
    assert_string_equal(sha, g_fx.sha2);
    free(dir);
    free(sha);
    dir = rn_remote_fetch(r, "owner", "plain", "v1", &sha, &err);
    if (!dir)
        fail_msg("%s", err);
    assert_string_equal(sha, g_fx.plain_sha);
    free(sha);
    free(dir);
    rn_remote_free(r);
    free(url);
}

static void test_offline_cache(void **state) {
    (void)state;
    char *url = remote_url();
    rn_remote *r = ctx("h-off", url);
    expect_resolves(r, "h-off", "owner/repo@v1", g_fx.sha1, NULL);
    char *full = rn_xprintf("owner/repo@%s", g_fx.sha2);
    expect_resolves(r, "h-off", full, g_fx.sha2, NULL);
    rn_remote_free(r);

    char *missing = rn_xprintf("%s/no-such-server", g_root);
    r = ctx("h-off", missing);
    expect_resolves(r, "h-off", "owner/repo@v1", g_fx.sha1, NULL);
    assert_int_equal(g_nwarn, 1);
    char *want_start = rn_xprintf("failed to fetch action owner/repo@v1 (");
    char *want_end = rn_xprintf("); using the cached commit %s\n", g_fx.sha1);
    const char *w = rn_sb_str(&g_warn);
    assert_memory_equal(w, want_start, strlen(want_start));
    assert_string_equal(w + strlen(w) - strlen(want_end), want_end);
    free(want_start);
    free(want_end);
    /* memoized: a second resolution in the same run warns no more */
    expect_resolves(r, "h-off", "owner/repo@v1", g_fx.sha1, NULL);
    assert_int_equal(g_nwarn, 1);
    /* a cached full sha needs no network and no warning */
    expect_resolves(r, "h-off", full, g_fx.sha2, NULL);
    assert_int_equal(g_nwarn, 1);
    /* the short sha of a commit the mirror holds works offline too */
    char shortsha[9];
    memcpy(shortsha, g_fx.sha1, 8);
    shortsha[8] = 0;
    char *uses = rn_xprintf("owner/repo@%s", shortsha);
    expect_resolves(r, "h-off", uses, g_fx.sha1, NULL);
    free(uses);

    /* never fetched: a clear error naming --local-repository */
    char *err = NULL;
    assert_null(rn_remote_resolve(r, "owner/repo@v2", &err));
    char *ws = "failed to fetch action owner/repo@v2: ";
    char *we = "; runnel is offline? use --local-repository owner/repo@v2=DIR";
    assert_memory_equal(err, ws, strlen(ws));
    assert_true(strlen(err) > strlen(ws) + strlen(we));
    assert_string_equal(err + strlen(err) - strlen(we), we);
    free(err);
    rn_remote_free(r);
    free(missing);
    free(full);
    free(url);
}

static void test_errors(void **state) {
    (void)state;
    char *url = remote_url();
    rn_remote *r = ctx("h-err", url);
    char *err = NULL;
    assert_null(rn_remote_resolve(r, "owner/repo@nope", &err));
    assert_string_equal(
        err, "Unable to resolve action `owner/repo@nope`, unable to find version `nope`");
    free(err);
    assert_null(rn_remote_resolve(r, "owner/repo@feature", &err));
    assert_string_equal(err, "Can't find 'action.yml', 'action.yaml' or 'Dockerfile' for action "
                             "'owner/repo@feature'.");
    free(err);
    assert_null(rn_remote_resolve(r, "owner/repo/nope@v1", &err));
    assert_string_equal(err, "Can't find 'action.yml', 'action.yaml' or 'Dockerfile' for action "
                             "'owner/repo/nope@v1'.");
    free(err);
    assert_null(rn_remote_resolve(r, "owner/missing@v1", &err));
    const char *we = "; runnel is offline? use --local-repository owner/missing@v1=DIR";
    assert_string_equal(err + strlen(err) - strlen(we), we);
    free(err);
    assert_null(rn_remote_resolve(r, "owner@v1", &err));
    assert_string_equal(err, "Expected format {org}/{repo}[/path]@ref. Actual 'owner@v1'");
    free(err);
    rn_remote_free(r);
    free(url);
}

static void test_local_override(void **state) {
    (void)state;
    char *missing = rn_xprintf("%s/no-such-server", g_root);
    rn_remote *r = ctx("h-local", missing);
    char *dir = rn_xprintf("%s/localact", g_root);
    char *sub = rn_xprintf("%s/sub", dir);
    mkdir(dir, 0755);
    mkdir(sub, 0755);
    char *f = rn_xprintf("%s/action.yaml", sub);
    FILE *fp = fopen(f, "w");
    fputs("name: local\nruns:\n  using: composite\n  steps: []\n", fp);
    fclose(fp);
    char *err = NULL;
    char *bad = rn_xprintf("owner/repo@v9=%s/nothing", g_root);
    assert_false(rn_remote_add_local(r, bad, &err));
    char *want =
        rn_xprintf("--local-repository owner/repo@v9: '%s/nothing' is not a directory", g_root);
    assert_string_equal(err, want);
    free(want);
    free(err);
    free(bad);
    char *val = rn_xprintf("owner/repo@v9=%s/", dir);
    assert_true(rn_remote_add_local(r, val, &err));
    free(val);
    char *got = rn_remote_resolve(r, "OWNER/Repo/sub@v9", &err);
    assert_non_null(got);
    assert_string_equal(got, sub);
    free(got);
    /* the folder must still hold an action */
    assert_null(rn_remote_resolve(r, "owner/repo@v9", &err));
    assert_string_equal(err, "Can't find 'action.yml', 'action.yaml' or 'Dockerfile' for action "
                             "'owner/repo@v9'.");
    free(err);
    /* another ref is not overridden: it goes to the (missing) server */
    assert_null(rn_remote_resolve(r, "owner/repo/sub@v8", &err));
    assert_non_null(strstr(err, "failed to fetch action owner/repo@v8: "));
    free(err);
    assert_string_equal(rn_remote_local_dir(r, "Owner/Repo", NULL), dir);
    assert_null(rn_remote_local_dir(r, "owner/other", NULL));
    rn_remote_free(r);
    free(f);
    free(sub);
    free(dir);
    free(missing);
}

static void test_moved_branch(void **state) {
    (void)state;
    char *url = remote_url();
    rn_remote *r = ctx("h-move", url);
    char *err = NULL, *sha = NULL;
    char *dir = rn_remote_fetch(r, "owner", "moving", "main", &sha, &err);
    if (!dir)
        fail_msg("%s", err);
    assert_string_equal(sha, g_fx.moving_sha1);
    free(sha);
    free(dir);
    rn_remote_free(r);
    char newsha[GIT_OID_HEXSZ + 1];
    assert_int_equal(fixture_advance_moving(&g_fx, newsha), 0);
    r = ctx("h-move", url);
    dir = rn_remote_fetch(r, "owner", "moving", "main", &sha, &err);
    if (!dir)
        fail_msg("%s", err);
    assert_string_equal(sha, newsha);
    assert_string_not_equal(sha, g_fx.moving_sha1);
    free(sha);
    free(dir);
    rn_remote_free(r);
    free(url);
}

/* Two processes resolve the same action into an empty cache at once. */
static void test_concurrent(void **state) {
    (void)state;
    char *url = remote_url();
    char *home = rn_xprintf("%s/h-conc", g_root);
    setenv("RUNNEL_HOME", home, 1);
    setenv("RUNNEL_GITHUB_URL", url, 1);
    int fds[2][2];
    pid_t pids[2];
    for (int i = 0; i < 2; i++) {
        assert_int_equal(pipe(fds[i]), 0);
        pids[i] = fork();
        assert_true(pids[i] >= 0);
        if (pids[i] == 0) {
            close(fds[i][0]);
            rn_remote *r = rn_remote_new();
            char *err = NULL;
            char *dir = rn_remote_resolve(r, "owner/repo/sub/inner@v2", &err);
            const char *out = dir ? dir : err;
            ssize_t w = write(fds[i][1], out, strlen(out));
            _exit(dir && w > 0 ? 0 : 1);
        }
        close(fds[i][1]);
    }
    char *want = rn_xprintf("%s/actions/owner/repo/%s/sub/inner", home, g_fx.sha2);
    for (int i = 0; i < 2; i++) {
        char buf[1024] = {0};
        size_t n = 0;
        ssize_t k;
        while ((k = read(fds[i][0], buf + n, sizeof buf - 1 - n)) > 0)
            n += (size_t)k;
        close(fds[i][0]);
        int st = 0;
        assert_int_equal(waitpid(pids[i], &st, 0), pids[i]);
        assert_true(WIFEXITED(st));
        if (WEXITSTATUS(st) != 0)
            fail_msg("child %d: %s", i, buf);
        assert_string_equal(buf, want);
    }
    /* exactly one tree, no leftovers */
    char *rd = rn_xprintf("%s/actions/owner/repo", home);
    DIR *d = opendir(rd);
    assert_non_null(d);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        n++;
        if (strcmp(e->d_name, ".lock") && strcmp(e->d_name, "mirror.git") &&
            strcmp(e->d_name, "refs.json") && strcmp(e->d_name, g_fx.sha2))
            fail_msg("unexpected entry %s", e->d_name);
    }
    closedir(d);
    assert_int_equal(n, 4);
    free(rd);
    free(want);
    free(home);
    free(url);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_local_repo_parse),
        cmocka_unit_test(test_action_ref_parse),
        cmocka_unit_test(test_resolve_refs),
        cmocka_unit_test(test_default_branch_and_git_suffix),
        cmocka_unit_test(test_offline_cache),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_local_override),
        cmocka_unit_test(test_moved_branch),
        cmocka_unit_test(test_concurrent),
    };
    return cmocka_run_group_tests(tests, setup_all, teardown_all);
}
