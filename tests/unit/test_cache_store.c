/* The cache store: byte-identical round trips (modes, links, empty folders), key matching,
 * scopes, versions, corruption, concurrent saves and LRU eviction. */
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
#include <linux/fiemap.h>
#include <linux/fs.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tests/cache/tree_describe.h"

static char root[] = "/tmp/rn-cache-store.XXXXXX";
static rn_cache_store *st;
static char *ws;

static char *P(const char *rel) {
    return rn_xprintf("%s/%s", root, rel);
}

static void put_mode(const char *rel, const char *text, size_t n, mode_t mode) {
    char *p = P(rel);
    for (char *s = p + strlen(root) + 1; *s; s++)
        if (*s == '/') {
            *s = 0;
            mkdir(p, 0755);
            *s = '/';
        }
    int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, n), (ssize_t)n);
    close(fd);
    chmod(p, mode);
    free(p);
}

static void put(const char *rel, const char *text) {
    put_mode(rel, text, strlen(text), 0644);
}

static void rm_rf(const char *p) {
    char *cmd = rn_xprintf("rm -rf '%s'", p);
    assert_int_equal(system(cmd), 0);
    free(cmd);
}

static char *tree(const char *base) {
    rn_sb sb = RN_SB_INIT;
    describe_tree(base, "", false, &sb);
    return rn_sb_take(&sb);
}

static int setup(void **state) {
    (void)state;
    assert_non_null(mkdtemp(root));
    char *sr = P("store");
    char *err = NULL;
    st = rn_cache_store_open(sr, 1LL << 30, &err);
    assert_non_null(st);
    free(sr);
    ws = P("ws");
    mkdir(ws, 0755);
    return 0;
}

static int teardown(void **state) {
    (void)state;
    char *xfs = P("xfs"); /* test_clones_where_extents_are_shared's, if it stopped early */
    char *cmd = rn_xprintf("mountpoint -q '%s' && umount '%s'", xfs, xfs);
    if (system(cmd)) {
    }
    free(cmd);
    free(xfs);
    rn_cache_store_close(st);
    rm_rf(root);
    free(ws);
    return 0;
}

static void save_ok(const char *scope, const char *key, const char *version, const char *item) {
    char *err = NULL;
    char *abs = rn_xprintf("%s/%s", ws, item);
    const char *items[] = {abs};
    int r = rn_cache_save(st, scope, key, version, ws, NULL, 0, items, 1, &err);
    if (err)
        fprintf(stderr, "%s\n", err);
    assert_int_equal(r, 0);
    free(abs);
    /* created_ms has millisecond resolution: keep entries ordered */
    struct timespec ts = {0, 3 * 1000 * 1000};
    nanosleep(&ts, NULL);
}

static char *lookup_key(const char *const *scopes, size_t ns, const char *const *keys, size_t nk,
                        const char *version) {
    rn_cache_entry e;
    if (!rn_cache_lookup(st, scopes, ns, keys, nk, version, &e))
        return NULL;
    char *k = rn_xstrdup(e.key);
    rn_cache_entry_clear(&e);
    return k;
}

static void test_version_matches_toolkit(void **state) {
    (void)state;
    const char *paths[] = {"~/.m2/repository", "target"};
    char *v = rn_cache_version(paths, 2, RN_CACHE_COMPRESSION);
    const char *text = "~/.m2/repository|target|zstd-without-long|1.0";
    unsigned char d[32];
    unsigned int dl;
    EVP_Digest(text, strlen(text), d, &dl, EVP_sha256(), NULL);
    char want[65];
    for (int i = 0; i < 32; i++)
        sprintf(want + 2 * i, "%02x", d[i]);
    assert_string_equal(v, want);
    const char *other[] = {"~/.m2/repository"};
    char *v2 = rn_cache_version(other, 1, RN_CACHE_COMPRESSION);
    assert_string_not_equal(v, v2);
    free(v);
    free(v2);
}

static void test_round_trip(void **state) {
    (void)state;
    put_mode("ws/data/bin/run.sh", "#!/bin/sh\necho hi\n", 18, 0755);
    put_mode("ws/data/secret", "s3cr3t", 6, 0600);
    put_mode("ws/data/bin/empty", "", 0, 0644);
    char big[70000];
    for (size_t i = 0; i < sizeof big; i++)
        big[i] = (char)(i * 7919 % 251);
    put_mode("ws/data/lib/big.jar", big, sizeof big, 0644);
    char *e = P("ws/data/empty");
    mkdir(e, 0750);
    free(e);
    char *l = P("ws/data/link");
    assert_int_equal(symlink("bin/run.sh", l), 0);
    free(l);
    char *d = P("ws/data");
    char *before = tree(d);
    save_ok("r@refs/heads/main", "rt-1", "v1", "data");
    rm_rf(d);
    const char *scopes[] = {"r@refs/heads/main"};
    const char *keys[] = {"rt-1"};
    rn_cache_entry en;
    assert_int_equal(rn_cache_lookup(st, scopes, 1, keys, 1, "v1", &en), 1);
    assert_true(en.has_tree);
    assert_int_equal(en.files, 4);
    char *err = NULL;
    assert_int_equal(rn_cache_restore(st, &en, ws, NULL, 0, &err), 0);
    char *after = tree(d);
    assert_string_equal(after, before);
    free(after);
    /* restoring over an existing tree gives the same result */
    put("ws/data/secret", "changed");
    assert_int_equal(rn_cache_restore(st, &en, ws, NULL, 0, &err), 0);
    after = tree(d);
    assert_string_equal(after, before);
    rn_cache_entry_clear(&en);
    free(after);
    free(before);
    free(d);
}

static void test_restore_keys_newest_first(void **state) {
    (void)state;
    put("ws/k/f", "one");
    save_ok("s", "npm-linux-aaa", "v", "k");
    save_ok("s", "npm-linux-bbb", "v", "k");
    save_ok("s", "npm-mac-ccc", "v", "k");
    const char *scopes[] = {"s"};
    /* prefix: the newest matching entry */
    const char *k1[] = {"npm-linux-zzz", "npm-linux-"};
    char *m = lookup_key(scopes, 1, k1, 2, "v");
    assert_string_equal(m, "npm-linux-bbb");
    free(m);
    /* an exact match beats a newer prefix match */
    const char *k2[] = {"npm-linux-aaa", "npm-"};
    m = lookup_key(scopes, 1, k2, 2, "v");
    assert_string_equal(m, "npm-linux-aaa");
    free(m);
    /* restore keys are tried in order: the first that matches anything wins */
    const char *k3[] = {"nothing", "npm-mac-", "npm-"};
    m = lookup_key(scopes, 1, k3, 3, "v");
    assert_string_equal(m, "npm-mac-ccc");
    free(m);
    /* another version never matches */
    const char *k4[] = {"npm-"};
    assert_null(lookup_key(scopes, 1, k4, 1, "other"));
}

static void test_scopes(void **state) {
    (void)state;
    put("ws/sc/f", "x");
    save_ok("repo@refs/heads/main", "sc-key", "v", "sc");
    save_ok("repo@refs/heads/feature", "sc-key-feature", "v", "sc");
    const char *keys[] = {"sc-key"};
    /* the feature branch finds its own entry first, then falls back to the default branch */
    const char *sc[] = {"repo@refs/heads/feature", "repo@refs/heads/main"};
    char *m = lookup_key(sc, 2, keys, 1, "v");
    assert_string_equal(m, "sc-key-feature");
    free(m);
    const char *exact[] = {"sc-key-main-only"};
    assert_null(lookup_key(sc, 2, exact, 1, "v"));
    /* other branches do not see the feature's entries */
    const char *other[] = {"repo@refs/heads/other"};
    assert_null(lookup_key(other, 1, keys, 1, "v"));
    const char *fb[] = {"repo@refs/heads/other", "repo@refs/heads/main"};
    m = lookup_key(fb, 2, keys, 1, "v");
    assert_string_equal(m, "sc-key");
    free(m);
}

static void test_existing_key_is_immutable(void **state) {
    (void)state;
    put("ws/im/f", "first");
    save_ok("s", "imm", "v", "im");
    put("ws/im/f", "second");
    char *abs = P("ws/im");
    const char *items[] = {abs};
    char *err = NULL;
    assert_int_equal(rn_cache_save(st, "s", "imm", "v", ws, NULL, 0, items, 1, &err), 1);
    free(abs);
}

static char *entry_file(const char *key, const char *version, const char *name) {
    const char *scopes[] = {"s"};
    const char *keys[] = {key};
    rn_cache_entry e;
    assert_int_equal(rn_cache_lookup(st, scopes, 1, keys, 1, version, &e), 1);
    char *p = rn_xprintf("%s/entries/%s/%s", rn_cache_store_root(st), e.id, name);
    rn_cache_entry_clear(&e);
    return p;
}

static int restore_into(const char *key, const char *version, const char *dest) {
    const char *scopes[] = {"s"};
    const char *keys[] = {key};
    rn_cache_entry e;
    assert_int_equal(rn_cache_lookup(st, scopes, 1, keys, 1, version, &e), 1);
    char *err = NULL;
    int r = rn_cache_restore(st, &e, dest, NULL, 0, &err);
    free(err);
    rn_cache_entry_clear(&e);
    return r;
}

/* Whether the first extent of path is shared with another file (FIEMAP), or -1. */
static int extent_shared(const char *path) {
    int fd = open(path, O_RDONLY);
    struct {
        struct fiemap f;
        struct fiemap_extent e[1];
    } m;
    memset(&m, 0, sizeof m);
    m.f.fm_length = ~0ULL;
    m.f.fm_flags = FIEMAP_FLAG_SYNC;
    m.f.fm_extent_count = 1;
    int r = fd < 0 ? -1 : ioctl(fd, FS_IOC_FIEMAP, &m.f);
    if (fd >= 0)
        close(fd);
    if (r || m.f.fm_mapped_extents < 1)
        return -1;
    return (m.e[0].fe_flags & FIEMAP_EXTENT_SHARED) != 0;
}

/* Overwrites bytes of a (read-only) stored file in place, as a damaged disk would. */
static void poke(const char *path, off_t off, const char *bytes) {
    chmod(path, 0644);
    int fd = open(path, O_WRONLY);
    assert_true(fd >= 0);
    assert_int_equal(pwrite(fd, bytes, strlen(bytes), off), (ssize_t)strlen(bytes));
    close(fd);
}

/* An empty dest, then the entry restored into it: rn_cache_restore's result. */
static int restore_fresh(const char *key, const char *dest) {
    rm_rf(dest);
    mkdir(dest, 0755);
    return restore_into(key, "v", dest);
}

/* An XFS file system with reflink on a loop file, under root/xfs, made the current store and
 * workspace for one test (test_clones_where_extents_are_shared); the others' are put back by
 * xfs_teardown even when the test fails. NULL when this machine cannot make one. */
static rn_cache_store *outer_st;
static char *outer_ws, *xfs_skip;

static int xfs_setup(void **state) {
    (void)state;
    xfs_skip = NULL;
    if (geteuid() != 0 || system("command -v mkfs.xfs >/dev/null 2>&1") != 0) {
        xfs_skip = "needs root and mkfs.xfs (xfsprogs) for a reflink file system";
        return 0;
    }
    char *img = P("xfs.img"), *mnt = P("xfs");
    mkdir(mnt, 0755);
    char *cmd = rn_xprintf("truncate -s 320M '%s' && mkfs.xfs -q -m reflink=1 '%s' && "
                           "mount -o loop '%s' '%s'",
                           img, img, img, mnt);
    if (system(cmd) != 0)
        xfs_skip = "cannot mount an XFS loop file here";
    free(cmd);
    free(img);
    free(mnt);
    if (xfs_skip)
        return 0;
    char *err = NULL, *sr = P("xfs/store");
    outer_st = st;
    outer_ws = ws;
    st = rn_cache_store_open(sr, 1LL << 30, &err);
    free(sr);
    ws = P("xfs/ws");
    mkdir(ws, 0755);
    return st ? 0 : -1;
}

static int xfs_teardown(void **state) {
    (void)state;
    if (outer_st) {
        rn_cache_store_close(st);
        free(ws);
        st = outer_st;
        ws = outer_ws;
        outer_st = NULL;
        char *mnt = P("xfs"), *cmd = rn_xprintf("umount '%s'", mnt);
        if (system(cmd)) {
        }
        free(cmd);
        free(mnt);
    }
    return 0;
}

/* The stored-whole file of an entry (tree/<number>; packs are tree/p<k>). */
static char *entry_blob(const char *key) {
    char *tree = entry_file(key, "v", "tree"), *found = NULL;
    DIR *d = opendir(tree);
    assert_non_null(d);
    struct dirent *e;
    while ((e = readdir(d)))
        if (e->d_name[0] >= '0' && e->d_name[0] <= '9')
            found = rn_xprintf("%s/%s", tree, e->d_name);
    closedir(d);
    free(tree);
    assert_non_null(found);
    return found;
}

/* On XFS with reflink (a loop file made here), files are cloned both ways, those stored whole
 * and the whole blocks of packed ones: the entry and the restored files share the workspace's
 * extents, copy-on-write keeps them apart, and a corrupt clone is still caught by its checksum. */
static void test_clones_where_extents_are_shared(void **state) {
    (void)state;
    if (xfs_skip) {
        print_message("skipped: %s\n", xfs_skip);
        skip();
    }
    size_t n = 1 << 20; /* stored whole (packs take files under 256 KiB) */
    char *big = rn_xmalloc(n);
    uint64_t x = 88172645463325252ULL;
    for (size_t i = 0; i < n; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        big[i] = (char)x;
    }
    put_mode("xfs/ws/m2/big.jar", big, n, 0644);
    put("xfs/ws/m2/a.pom", "<project/>\n"); /* packed and copied: under a block */
    /* packed: two blocks cloned into the pack (on a block: after padding), 1808 bytes copied */
    put_mode("xfs/ws/m2/b.jar", big + 4096, 10000, 0644);
    save_ok("s", "xfs", "v", "m2");
    char *blob = entry_blob("xfs"), *pack = entry_file("xfs", "v", "tree/p0");
    assert_int_equal(extent_shared(blob), 1); /* cloned from the workspace */
    struct stat pst;
    assert_int_equal(stat(pack, &pst), 0);
    assert_true(pst.st_size >= 4096 + 10000 && pst.st_size < 2 * 4096 + 10000);
    char *dest = P("xfs/dest"), *got = P("xfs/dest/m2/big.jar");
    mkdir(dest, 0755);
    assert_int_equal(restore_into("xfs", "v", dest), 0);
    assert_int_equal(extent_shared(got), 1); /* cloned from the entry */
    size_t gn;
    char *g = rn_read_file(got, &gn);
    assert_int_equal(gn, n);
    assert_memory_equal(g, big, n);
    free(g);
    char *small = P("xfs/dest/m2/a.pom"), *mid = P("xfs/dest/m2/b.jar");
    g = rn_read_file(small, &gn);
    assert_string_equal(g, "<project/>\n");
    free(g);
    g = rn_read_file(mid, &gn);
    assert_int_equal(gn, 10000);
    assert_memory_equal(g, big + 4096, 10000);
    free(g);
    assert_int_equal(extent_shared(mid), 1); /* its blocks come from the pack */
    free(small);
    /* the job writes into its restored file: the entry keeps its bytes */
    poke(got, 0, "XXXX");
    assert_int_equal(restore_fresh("xfs", dest), 0);
    g = rn_read_file(got, &gn);
    assert_int_equal(gn, n);
    assert_memory_equal(g, big, n);
    free(g);
    /* a same-size change in the stored file: the clone is refused by its checksum */
    poke(blob, 4096, "Y");
    assert_int_equal(restore_fresh("xfs", dest), 1);
    assert_int_equal(access(got, F_OK), -1);
    /* the same in a packed file's cloned blocks (a fresh entry: the first one is corrupt) */
    save_ok("s", "xfs2", "v", "m2");
    char *pack2 = entry_file("xfs2", "v", "tree/p0");
    poke(pack2, 4096 + 100, "Z");
    assert_int_equal(restore_fresh("xfs2", dest), 1);
    assert_int_equal(access(mid, F_OK), -1);
    free(pack2);
    free(mid);
    free(pack);
    free(big);
    free(blob);
    free(dest);
    free(got);
}

static void test_corrupt_is_a_miss(void **state) {
    (void)state;
    put("ws/co/a", "aaaaaaaaaaaaaaaa");
    put("ws/co/b", "bbbbbbbbbbbbbbbb");
    save_ok("s", "trunc", "v", "co");
    save_ok("s", "badman", "v", "co");
    char *dest = P("dest-corrupt");
    mkdir(dest, 0755);
    /* a truncated unpacked copy (small files are packed: a and b are bytes 0-31 of pack p0) */
    char *blob = entry_file("trunc", "v", "tree/p0");
    chmod(blob, 0644);
    assert_int_equal(truncate(blob, 20), 0);
    assert_int_equal(restore_into("trunc", "v", dest), 1);
    free(blob);
    /* a same-size change inside a stored file (the per-file checksum catches it) */
    save_ok("s", "flip", "v", "co");
    char *fblob = entry_file("flip", "v", "tree/p0");
    chmod(fblob, 0644);
    FILE *ff = fopen(fblob, "r+");
    assert_non_null(ff);
    fseek(ff, 5, SEEK_SET);
    fputc('X', ff);
    fclose(ff);
    assert_int_equal(restore_into("flip", "v", dest), 1);
    free(fblob);
    /* a manifest that does not match its checksum */
    char *man = entry_file("badman", "v", "manifest.json");
    FILE *f = fopen(man, "r+");
    assert_non_null(f);
    fputc('[', f);
    fputc(' ', f);
    fclose(f);
    assert_int_equal(restore_into("badman", "v", dest), 1);
    free(man);
    /* nothing was written */
    char *co = rn_xprintf("%s/co", dest);
    assert_int_equal(access(co, F_OK), -1);
    free(co);

    /* the archive is made from the unpacked copy when first asked for (the server's form);
     * published as an archive-only entry (as uploads are) it restores the same files */
    save_ok("s", "arch-src", "v", "co");
    char *arch = entry_file("arch-src", "v", "archive.tar.zst");
    assert_int_equal(access(arch, F_OK), -1);
    const char *ss[] = {"s"};
    const char *ks[] = {"arch-src"};
    rn_cache_entry src;
    assert_int_equal(rn_cache_lookup(st, ss, 1, ks, 1, "v", &src), 1);
    int afd = rn_cache_open_archive(st, &src);
    assert_true(afd >= 0);
    close(afd);
    rn_cache_entry_clear(&src);
    assert_int_equal(access(arch, F_OK), 0);
    /* the archive lists the folder, then its files, as tar would */
    char *cmd0 = rn_xprintf("tar -I zstd -tf '%s' > '%s/list.txt'", arch, root);
    assert_int_equal(system(cmd0), 0);
    free(cmd0);
    char *lp = P("list.txt");
    size_t ll;
    char *listing = rn_read_file(lp, &ll);
    assert_string_equal(listing, "co/\nco/a\nco/b\n");
    free(listing);
    free(lp);
    char *copy = P("upload.tzst");
    char *cmd = rn_xprintf("cp '%s' '%s'", arch, copy);
    assert_int_equal(system(cmd), 0);
    free(cmd);
    char *err = NULL;
    assert_int_equal(rn_cache_put_archive(st, "s", "arch-only", "v", copy, &err), 0);
    assert_int_equal(access(copy, F_OK), -1); /* moved in */
    assert_int_equal(restore_into("arch-only", "v", dest), 0);
    char *got = rn_xprintf("%s/co/b", dest);
    size_t len;
    char *text = rn_read_file(got, &len);
    assert_string_equal(text, "bbbbbbbbbbbbbbbb");
    free(text);
    rm_rf(dest);
    mkdir(dest, 0755);
    char *a2 = entry_file("arch-only", "v", "archive.tar.zst");
    chmod(a2, 0644);
    f = fopen(a2, "r+");
    fseek(f, 40, SEEK_SET);
    int c = fgetc(f);
    fseek(f, 40, SEEK_SET);
    fputc(c ^ 0xff, f);
    fclose(f);
    assert_int_equal(restore_into("arch-only", "v", dest), 1);
    assert_int_equal(access(got, F_OK), -1);
    /* truncated archive */
    assert_int_equal(truncate(a2, 20), 0);
    assert_int_equal(restore_into("arch-only", "v", dest), 1);
    free(got);
    free(a2);
    free(arch);
    free(copy);
    free(dest);
}

static void test_concurrent_save_same_key(void **state) {
    (void)state;
    char payload[200000];
    for (int round = 0; round < 3; round++) {
        for (size_t i = 0; i < sizeof payload; i++)
            payload[i] = (char)('a' + (i + (size_t)round) % 26);
        put_mode("ws/cc/data", payload, sizeof payload, 0644);
        char *key = rn_xprintf("conc-%d", round);
        pid_t pids[2];
        for (int k = 0; k < 2; k++) {
            pids[k] = fork();
            assert_true(pids[k] >= 0);
            if (pids[k] == 0) {
                char *err = NULL;
                char *abs = rn_xprintf("%s/cc", ws);
                const char *items[] = {abs};
                int r = rn_cache_save(st, "s", key, "v", ws, NULL, 0, items, 1, &err);
                _exit(r < 0 ? 3 : r);
            }
        }
        int codes[2];
        for (int k = 0; k < 2; k++) {
            int status;
            assert_int_equal(waitpid(pids[k], &status, 0), pids[k]);
            assert_true(WIFEXITED(status));
            codes[k] = WEXITSTATUS(status);
        }
        /* exactly one wins; the other finds the key taken */
        assert_int_equal(codes[0] + codes[1], 1);
        char *dest = P("dest-conc");
        mkdir(dest, 0755);
        assert_int_equal(restore_into(key, "v", dest), 0);
        char *got = rn_xprintf("%s/cc/data", dest);
        size_t len;
        char *text = rn_read_file(got, &len);
        assert_int_equal(len, sizeof payload);
        assert_memory_equal(text, payload, sizeof payload);
        free(text);
        free(got);
        rm_rf(dest);
        free(dest);
        free(key);
    }
    /* no leftovers in tmp */
    char *tmp = rn_xprintf("%s/tmp", rn_cache_store_root(st));
    DIR *d = opendir(tmp);
    int n = 0;
    for (struct dirent *e; (e = readdir(d));)
        n += e->d_name[0] != '.';
    closedir(d);
    assert_int_equal(n, 0);
    free(tmp);
}

static void test_lru_eviction(void **state) {
    (void)state;
    char *sr = P("store-lru");
    char *err = NULL;
    /* each entry holds 60 KB of files (the archive is made only when asked for): two fit */
    rn_cache_store *small = rn_cache_store_open(sr, 130 * 1000, &err);
    assert_non_null(small);
    char buf[60000];
    unsigned x = 12345;
    for (size_t i = 0; i < sizeof buf; i++) {
        x = x * 1103515245 + 12345;
        buf[i] = (char)(x >> 16);
    }
    put_mode("ws/lru/f", buf, sizeof buf, 0644);
    char *abs = P("ws/lru");
    const char *items[] = {abs};
    const char *scopes[] = {"s"};
    struct timespec ts = {0, 20 * 1000 * 1000};
    assert_int_equal(rn_cache_save(small, "s", "lru-1", "v", ws, NULL, 0, items, 1, &err), 0);
    nanosleep(&ts, NULL);
    assert_int_equal(rn_cache_save(small, "s", "lru-2", "v", ws, NULL, 0, items, 1, &err), 0);
    nanosleep(&ts, NULL);
    /* using lru-1 makes lru-2 the least recently used */
    const char *k1[] = {"lru-1"};
    rn_cache_entry e;
    assert_int_equal(rn_cache_lookup(small, scopes, 1, k1, 1, "v", &e), 1);
    char *dest = P("dest-lru");
    mkdir(dest, 0755);
    assert_int_equal(rn_cache_restore(small, &e, dest, NULL, 0, &err), 0);
    rn_cache_entry_clear(&e);
    nanosleep(&ts, NULL);
    assert_int_equal(rn_cache_save(small, "s", "lru-3", "v", ws, NULL, 0, items, 1, &err), 0);
    rn_cache_entry *all;
    size_t n;
    assert_int_equal(rn_cache_list(small, &all, &n), 0);
    assert_int_equal(n, 2);
    bool has1 = false, has3 = false;
    for (size_t i = 0; i < n; i++) {
        has1 |= !strcmp(all[i].key, "lru-1");
        has3 |= !strcmp(all[i].key, "lru-3");
    }
    assert_true(has1 && has3);
    rn_cache_entries_free(all, n);
    /* prune to zero removes everything; rm removes by key */
    long long freed = 0;
    assert_int_equal(rn_cache_remove(small, "lru-3"), 1);
    assert_int_equal(rn_cache_remove(small, "lru-3"), 0);
    assert_int_equal(rn_cache_prune(small, 0, &freed), 1);
    assert_int_equal(freed, 60000); /* lru-1: its files; no archive was made */
    assert_int_equal(rn_cache_list(small, &all, &n), 0);
    assert_int_equal(n, 0);
    free(all);
    rn_cache_store_close(small);
    free(abs);
    free(sr);
    free(dest);
}

static void test_parse_size(void **state) {
    (void)state;
    assert_int_equal(rn_cache_parse_size("42"), 42);
    assert_int_equal(rn_cache_parse_size("2k"), 2048);
    assert_int_equal(rn_cache_parse_size("500M"), 500LL * 1024 * 1024);
    assert_int_equal(rn_cache_parse_size("10GiB"), 10LL * 1024 * 1024 * 1024);
    assert_int_equal(rn_cache_parse_size("1.5G"), 1536LL * 1024 * 1024);
    assert_int_equal(rn_cache_parse_size("12X"), -1);
    assert_int_equal(rn_cache_parse_size(""), -1);
}

/* A container job: the job sees its HOME at /github/home, which is home1 on the host in the
 * first run and home2 in the next; the entry names the job's paths, so it restores into home2.
 * A job whose shares hold no such folder gets an error, and nothing. */
static void test_shared_folders_map(void **state) {
    (void)state;
    put("home1/.m2/a.jar", "jar-bytes");
    char *home1 = P("home1"), *home2 = P("home2"), *item = P("home1/.m2");
    mkdir(home2, 0755);
    rn_pathmap run1[] = {{ws, ws}, {"/github/home", home1}};
    rn_pathmap run2[] = {{ws, ws}, {"/github/home", home2}};
    const char *items[] = {item};
    char *err = NULL;
    assert_int_equal(rn_cache_save(st, "s", "mapped", "v", ws, run1, 2, items, 1, &err), 0);
    const char *scopes[] = {"s"}, *keys[] = {"mapped"};
    rn_cache_entry e;
    assert_int_equal(rn_cache_lookup(st, scopes, 1, keys, 1, "v", &e), 1);
    assert_int_equal(rn_cache_restore(st, &e, ws, run2, 2, &err), 0);
    char *jar = P("home2/.m2/a.jar");
    char *got = rn_read_file(jar, NULL);
    assert_string_equal(got, "jar-bytes");
    free(got);
    free(jar);
    rn_pathmap ws_only[] = {{ws, ws}};
    assert_int_equal(rn_cache_restore(st, &e, ws, ws_only, 1, &err), -1);
    char *want =
        rn_xprintf("cache: %s is not in a folder the job shares with runnel", "/github/home/.m2");
    assert_string_equal(err, want);
    free(want);
    free(err);
    err = NULL;
    /* saving what the job does not share is an error too */
    assert_int_equal(rn_cache_save(st, "s", "mapped-2", "v", ws, ws_only, 1, items, 1, &err), -1);
    want = rn_xprintf("cache: %s is not in a folder the job shares with runnel", item);
    assert_string_equal(err, want);
    free(want);
    free(err);
    rn_cache_entry_clear(&e);
    free(home1);
    free(home2);
    free(item);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_version_matches_toolkit),
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_restore_keys_newest_first),
        cmocka_unit_test(test_scopes),
        cmocka_unit_test(test_existing_key_is_immutable),
        cmocka_unit_test(test_corrupt_is_a_miss),
        cmocka_unit_test_setup_teardown(test_clones_where_extents_are_shared, xfs_setup,
                                        xfs_teardown),
        cmocka_unit_test(test_concurrent_save_same_key),
        cmocka_unit_test(test_lru_eviction),
        cmocka_unit_test(test_parse_size),
        cmocka_unit_test(test_shared_folders_map),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
