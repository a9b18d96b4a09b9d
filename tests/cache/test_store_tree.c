/* The cache store's unpacked copy: parallel saves and restores of many files (copy buffer
 * boundaries, read-only folders, links), restores built in a staging folder and moved into place
 * (merged over an existing tree as tar overwrites; a corrupt, truncated or longer stored file is
 * a miss that leaves nothing behind, not even the parent folders it made), a file and a folder
 * outside the workspace, the workspace itself, and concurrent restores into one folder. */
#include "actions/cache_store.h"
#include "common/arena.h"
#include "common/strbuf.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <dirent.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tests/cache/tree_describe.h"

static char root[] = "/tmp/rn-cache-tree.XXXXXX";
static rn_cache_store *st;
static int nkey;

static char *P(const char *rel) {
    return rn_xprintf("%s/%s", root, rel);
}

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

/* Writes root/rel (parents made) with n bytes of a pattern seeded by seed, and an mtime. */
static void put(const char *rel, size_t n, unsigned seed, mode_t mode) {
    char *p = P(rel);
    char *slash = strrchr(p, '/');
    *slash = 0;
    mkdirs(p);
    *slash = '/';
    int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    assert_true(fd >= 0);
    char *buf = rn_xmalloc(n + 1);
    for (size_t i = 0; i < n; i++)
        buf[i] = (char)((i * 131 + seed * 7) % 251);
    assert_int_equal(write(fd, buf, n), (ssize_t)n);
    free(buf);
    struct timespec ts[2] = {{1600000000 + seed, 0}, {1600000000 + seed, 0}};
    futimens(fd, ts);
    fchmod(fd, mode);
    close(fd);
    free(p);
}

static void sh(const char *fmt, const char *a, const char *b) {
    char *cmd = rn_xprintf(fmt, a, b);
    assert_int_equal(system(cmd), 0);
    free(cmd);
}

static char *tree(const char *rel) {
    char *p = P(rel);
    rn_sb sb = RN_SB_INIT;
    describe_tree(p, "", true, &sb);
    free(p);
    return rn_sb_take(&sb);
}

/* Names in a folder, space-separated, sorted. */
static char *listing(const char *rel) {
    char *p = P(rel);
    struct dirent **names;
    int n = scandir(p, &names, NULL, alphasort);
    assert_true(n >= 0);
    rn_sb sb = RN_SB_INIT;
    for (int i = 0; i < n; i++) {
        if (strcmp(names[i]->d_name, ".") && strcmp(names[i]->d_name, ".."))
            rn_sb_printf(&sb, "%s%s", sb.len ? " " : "", names[i]->d_name);
        free(names[i]);
    }
    free(names);
    free(p);
    return rn_sb_take(&sb);
}

/* Saves items (relative to root) with workspace root/ws_rel; returns the new key. */
static char *save(const char *ws_rel, const char *const *items, size_t n) {
    char *ws = P(ws_rel);
    const char **abs = rn_xcalloc(n, sizeof *abs);
    for (size_t i = 0; i < n; i++)
        abs[i] = P(items[i]);
    char *key = rn_xprintf("k-%d", nkey++);
    char *err = NULL;
    int r = rn_cache_save(st, "s", key, "v", ws, NULL, 0, abs, n, &err);
    if (err)
        fprintf(stderr, "%s\n", err);
    assert_int_equal(r, 0);
    for (size_t i = 0; i < n; i++)
        free((char *)abs[i]);
    free(abs);
    free(ws);
    return key;
}

static int restore(const char *key, const char *ws_rel) {
    const char *scopes[] = {"s"};
    const char *keys[] = {key};
    rn_cache_entry e;
    assert_int_equal(rn_cache_lookup(st, scopes, 1, keys, 1, "v", &e), 1);
    char *ws = P(ws_rel);
    char *err = NULL;
    int r = rn_cache_restore(st, &e, ws, NULL, 0, &err);
    if (err)
        fprintf(stderr, "%s\n", err);
    free(err);
    free(ws);
    rn_cache_entry_clear(&e);
    return r;
}

/* A file of the entry's unpacked copy: tree/<n> (files of 256 KiB or more) or tree/p<k> (packs
 * of smaller files), made writable. */
static char *blob(const char *key, const char *name) {
    const char *scopes[] = {"s"};
    const char *keys[] = {key};
    rn_cache_entry e;
    assert_int_equal(rn_cache_lookup(st, scopes, 1, keys, 1, "v", &e), 1);
    char *p = rn_xprintf("%s/entries/%s/tree/%s", rn_cache_store_root(st), e.id, name);
    rn_cache_entry_clear(&e);
    assert_int_equal(chmod(p, 0644), 0);
    return p;
}

static int setup(void **state) {
    (void)state;
    assert_non_null(mkdtemp(root));
    char *sr = P("store");
    char *err = NULL;
    st = rn_cache_store_open(sr, 1LL << 30, &err);
    assert_non_null(st);
    free(sr);
    setenv("RUNNEL_CACHE_THREADS", "4", 1);
    return 0;
}

static int teardown(void **state) {
    (void)state;
    rn_cache_store_close(st);
    sh("chmod -R u+rwx '%s' && rm -rf '%s'", root, root);
    return 0;
}

static void test_many_files(void **state) {
    (void)state;
    /* 30 folders of 10 files, sizes around the 256 KiB copy buffer, a read-only folder with
     * files, an empty folder, links */
    const size_t sizes[] = {0, 1, 4095, 262143, 262144, 262145, 524288, 700001, 33, 9};
    for (int d = 0; d < 30; d++)
        for (int f = 0; f < 10; f++) {
            char rel[64];
            snprintf(rel, sizeof rel, "a/ws/m2/g%02d/f%d", d, f);
            put(rel, sizes[(d + f) % 10], (unsigned)(d * 10 + f), f == 3 ? 0755 : 0644);
        }
    put("a/ws/m2/ro/inside", 100, 1, 0444);
    char *ro = P("a/ws/m2/ro");
    chmod(ro, 0555);
    free(ro);
    char *empty = P("a/ws/m2/empty");
    mkdir(empty, 0700);
    free(empty);
    char *l1 = P("a/ws/m2/g00/link"), *l2 = P("a/ws/m2/dangling");
    assert_int_equal(symlink("f1", l1), 0);
    assert_int_equal(symlink("../nowhere", l2), 0);
    free(l1);
    free(l2);
    char *before = tree("a/ws/m2");
    const char *items[] = {"a/ws/m2"};
    char *key = save("a/ws", items, 1);
    mkdirs(root); /* a fresh workspace elsewhere */
    char *b = P("b/ws");
    mkdirs(b);
    free(b);
    assert_int_equal(restore(key, "b/ws"), 0);
    char *after = tree("b/ws/m2");
    assert_string_equal(after, before);
    /* no staging folder left */
    char *names = listing("b/ws");
    assert_string_equal(names, "m2");
    free(names);
    free(after);
    free(before);
    free(key);
}

static void test_merge_over_existing(void **state) {
    (void)state;
    put("c/ws/t/keep-replaced", 10, 1, 0644);
    put("c/ws/t/dir-in-entry/x", 10, 2, 0644);
    put("c/ws/t/file-in-entry", 10, 3, 0644);
    put("c/ws/t/sub/y", 300000, 4, 0600);
    char *before = tree("c/ws/t");
    const char *items[] = {"c/ws/t"};
    char *key = save("c/ws", items, 1);
    /* the destination already has: the same file with other bytes, a file where the entry has a
     * folder, a folder where it has a file, a file of its own, a link where it has a folder */
    put("d/ws/t/keep-replaced", 20, 9, 0600);
    put("d/ws/t/dir-in-entry", 5, 9, 0644);
    put("d/ws/t/file-in-entry/deep/z", 5, 9, 0644);
    put("d/ws/t/mine", 7, 9, 0644);
    char *elsewhere = P("d/elsewhere"), *link = P("d/ws/t/sub");
    mkdirs(elsewhere);
    assert_int_equal(symlink(elsewhere, link), 0);
    free(elsewhere);
    free(link);
    assert_int_equal(restore(key, "d/ws"), 0);
    /* the entry's paths as saved, plus the file of its own; the folder's time as saved */
    char *mine = P("d/ws/t/mine");
    assert_int_equal(unlink(mine), 0);
    free(mine);
    char *t = P("d/ws/t");
    struct stat s0;
    char *t0 = P("c/ws/t");
    assert_int_equal(stat(t0, &s0), 0);
    struct timespec ts[2] = {s0.st_mtim, s0.st_mtim};
    utimensat(AT_FDCWD, t, ts, 0); /* removing "mine" changed it */
    free(t0);
    free(t);
    char *after = tree("d/ws/t");
    assert_string_equal(after, before);
    char *names = listing("d/ws");
    assert_string_equal(names, "t");
    free(names);
    char *out = listing("d/elsewhere");
    assert_string_equal(out, ""); /* the link was replaced, not written through */
    free(out);
    free(after);
    free(before);
    free(key);
}

static void test_corrupt_leaves_nothing(void **state) {
    (void)state;
    /* a path outside the workspace, as ~/.m2 is for a checkout; a.jar and b.pom are packed
     * (p0: a at 0, b at 5000), big.jar (the third file) is tree/2 */
    put("e/home/.m2/repository/g/a.jar", 5000, 1, 0644);
    put("e/home/.m2/repository/g/b.pom", 300, 2, 0644);
    put("e/home/.m2/repository/g/big.jar", 300000, 3, 0644);
    char *w = P("e/home/dev/repo");
    mkdirs(w);
    free(w);
    const char *items[] = {"e/home/.m2/repository"};
    char *w2 = P("f/home/dev/repo");
    mkdirs(w2);
    free(w2);
    /* a changed byte in a pack and in a file, a truncated pack, a shorter, a longer and a
     * missing file, a missing pack: each a miss that leaves no folder and no staging behind */
    for (int c = 0; c < 7; c++) {
        char *key = save("e/home/dev/repo", items, 1);
        char *b = blob(key, c < 2 || c == 6 ? "p0" : "2");
        if (c == 0 || c == 2) {
            FILE *f = fopen(b, "r+");
            assert_non_null(f);
            fseek(f, c == 0 ? 4000 : 250000, SEEK_SET);
            fputc('X', f);
            fclose(f);
        } else if (c == 1) {
            assert_int_equal(truncate(b, 5299), 0);
        } else if (c == 3) {
            assert_int_equal(truncate(b, 299999), 0);
        } else if (c == 4) {
            FILE *f = fopen(b, "a");
            fputc('+', f);
            fclose(f);
        } else {
            assert_int_equal(unlink(b), 0);
        }
        assert_int_equal(restore(key, "f/home/dev/repo"), 1);
        if (c == 0) { /* nor is an archive made of it for the cache server */
            const char *scopes[] = {"s"};
            const char *keys[] = {key};
            rn_cache_entry e;
            assert_int_equal(rn_cache_lookup(st, scopes, 1, keys, 1, "v", &e), 1);
            assert_int_equal(rn_cache_open_archive(st, &e), -1);
            rn_cache_entry_clear(&e);
        }
        char *names = listing("f/home");
        assert_string_equal(names, "dev");
        free(names);
        free(b);
        free(key);
    }
    /* an intact one restores there */
    char *k = save("e/home/dev/repo", items, 1);
    assert_int_equal(restore(k, "f/home/dev/repo"), 0);
    char *a = tree("e/home/.m2/repository"), *b = tree("f/home/.m2/repository");
    assert_string_equal(b, a);
    char *names = listing("f/home/.m2");
    assert_string_equal(names, "repository");
    free(names);
    free(a);
    free(b);
    free(k);
}

static void test_file_and_two_paths(void **state) {
    (void)state;
    put("g/ws/conf/settings.xml", 123, 1, 0600);
    put("g/ws/lib/x.jar", 70000, 2, 0644);
    put("g/ws/lib/y.jar", 80000, 3, 0644);
    const char *items[] = {"g/ws/conf/settings.xml", "g/ws/lib"};
    char *key = save("g/ws", items, 2);
    char *h = P("h/ws");
    mkdirs(h);
    free(h);
    assert_int_equal(restore(key, "h/ws"), 0);
    char *a = tree("g/ws/lib"), *b = tree("h/ws/lib");
    assert_string_equal(b, a);
    free(a);
    free(b);
    a = tree("g/ws/conf/settings.xml");
    b = tree("h/ws/conf/settings.xml");
    assert_string_equal(b, a);
    free(a);
    free(b);
    char *names = listing("h/ws");
    assert_string_equal(names, "conf lib");
    free(names);
    names = listing("h/ws/conf");
    assert_string_equal(names, "settings.xml");
    free(names);
    free(key);
}

static void test_workspace_itself(void **state) {
    (void)state;
    put("i/ws/one", 10, 1, 0644);
    put("i/ws/sub/two", 20, 2, 0644);
    const char *items[] = {"i/ws"};
    char *key = save("i/ws", items, 1);
    put("j/ws/other", 5, 3, 0644);
    assert_int_equal(restore(key, "j/ws"), 0);
    char *names = listing("j/ws");
    assert_string_equal(names, "one other sub");
    free(names);
    char *a = tree("i/ws/sub"), *b = tree("j/ws/sub");
    assert_string_equal(b, a);
    free(a);
    free(b);
    free(key);
}

/* A restore killed half-way leaves its staging folder; the next restore there removes it,
 * but not one whose process is still alive. */
static void test_stale_staging_removed(void **state) {
    (void)state;
    put("s/ws/m/a", 10, 1, 0644);
    const char *items[] = {"s/ws/m"};
    char *key = save("s/ws", items, 1);
    FILE *f = fopen("/proc/sys/kernel/pid_max", "r");
    long pid_max = 0;
    assert_non_null(f);
    assert_int_equal(fscanf(f, "%ld", &pid_max), 1);
    fclose(f);
    /* pids are below pid_max, so no process has that one */
    char *dead = rn_xprintf("r/ws/m/.runnel-restore.%ld.0123456789ab/m/x", pid_max);
    char *live = rn_xprintf("r/ws/m/.runnel-restore.%d.0123456789ab/m/x", (int)getpid());
    put(dead, 3, 1, 0444);
    put(live, 3, 1, 0644);
    assert_int_equal(restore(key, "r/ws"), 0);
    char *names = listing("r/ws/m");
    char *want = rn_xprintf(".runnel-restore.%d.0123456789ab a", (int)getpid());
    assert_string_equal(names, want);
    free(want);
    free(names);
    free(dead);
    free(live);
    free(key);
}

static void test_concurrent_restores(void **state) {
    (void)state;
    for (int d = 0; d < 20; d++)
        for (int f = 0; f < 5; f++) {
            char rel[64];
            snprintf(rel, sizeof rel, "k/ws/m2/g%02d/f%d", d, f);
            put(rel, (size_t)(d * 1000 + f * 77), (unsigned)(d + f), 0644);
        }
    char *before = tree("k/ws/m2");
    const char *items[] = {"k/ws/m2"};
    char *key = save("k/ws", items, 1);
    char *l = P("l/ws");
    mkdirs(l);
    free(l);
    pid_t pids[3];
    for (int k = 0; k < 3; k++) {
        pids[k] = fork();
        assert_true(pids[k] >= 0);
        if (pids[k] == 0) {
            const char *scopes[] = {"s"};
            const char *keys[] = {key};
            rn_cache_entry e;
            char *ws = P("l/ws");
            char *err = NULL;
            int r = rn_cache_lookup(st, scopes, 1, keys, 1, "v", &e) == 1
                        ? rn_cache_restore(st, &e, ws, NULL, 0, &err)
                        : 9;
            _exit(r < 0 ? 3 : r);
        }
    }
    for (int k = 0; k < 3; k++) {
        int status;
        assert_int_equal(waitpid(pids[k], &status, 0), pids[k]);
        assert_true(WIFEXITED(status));
        assert_int_equal(WEXITSTATUS(status), 0);
    }
    /* every restore placed a whole tree; folder times are the last restore's */
    char *after = tree("l/ws/m2");
    assert_string_equal(after, before);
    char *names = listing("l/ws");
    assert_string_equal(names, "m2");
    free(names);
    free(after);
    free(before);
    free(key);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_many_files),
        cmocka_unit_test(test_merge_over_existing),
        cmocka_unit_test(test_corrupt_leaves_nothing),
        cmocka_unit_test(test_file_and_two_paths),
        cmocka_unit_test(test_workspace_itself),
        cmocka_unit_test(test_concurrent_restores),
        cmocka_unit_test(test_stale_staging_removed),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
