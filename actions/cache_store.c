/* The cache store (see cache_store.h). */
#include "actions/cache_store.h"

#include "common/arena.h"
#include "common/strbuf.h"

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>
#include <xxhash.h>

struct rn_cache_store {
    char *root;
    char *entries, *tmp, *trash;
    long long max_size;
};

static long long now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void hex(const unsigned char *d, size_t n, char *out) {
    for (size_t i = 0; i < n; i++)
        snprintf(out + 2 * i, 3, "%02x", d[i]);
}

/* XXH3-128 of a whole file, as 32 hex digits: each stored file's checksum in the manifest.
 * Fast enough (memory speed) to check every file before a restore writes anything. */
static int xxh_fd(int fd, char out[33]) {
    XXH3_state_t *st = XXH3_createState();
    if (!st || XXH3_128bits_reset(st) == XXH_ERROR) {
        XXH3_freeState(st);
        return -1;
    }
    static _Thread_local unsigned char buf[1 << 20];
    off_t off = 0;
    ssize_t r;
    while ((r = pread(fd, buf, sizeof buf, off)) > 0) {
        XXH3_128bits_update(st, buf, (size_t)r);
        off += r;
    }
    XXH128_hash_t h = XXH3_128bits_digest(st);
    XXH3_freeState(st);
    if (r < 0)
        return -1;
    snprintf(out, 33, "%016llx%016llx", (unsigned long long)h.high64, (unsigned long long)h.low64);
    return 0;
}

void rn_cache_entry_clear(rn_cache_entry *e) {
    free(e->id);
    free(e->scope);
    free(e->key);
    free(e->version);
    memset(e, 0, sizeof *e);
}

void rn_cache_entries_free(rn_cache_entry *v, size_t n) {
    for (size_t i = 0; i < n; i++)
        rn_cache_entry_clear(&v[i]);
    free(v);
}

char *rn_cache_default_root(void) {
    const char *h = getenv("RUNNEL_HOME");
    if (h && *h)
        return rn_xprintf("%s/cache", h);
    const char *x = getenv("XDG_CACHE_HOME");
    if (x && *x)
        return rn_xprintf("%s/runnel/cache", x);
    const char *home = getenv("HOME");
    return rn_xprintf("%s/.cache/runnel/cache", home && *home ? home : "/tmp");
}

static int mkdir_p(const char *path, mode_t mode) {
    char *p = rn_xstrdup(path);
    for (char *s = p + 1; *s; s++) {
        if (*s != '/')
            continue;
        *s = 0;
        if (mkdir(p, mode) != 0 && errno != EEXIST) {
            free(p);
            return -1;
        }
        *s = '/';
    }
    int rc = mkdir(p, mode) != 0 && errno != EEXIST ? -1 : 0;
    free(p);
    return rc;
}

long long rn_cache_parse_size(const char *s) {
    if (!s || !*s)
        return -1;
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || v < 0)
        return -1;
    double mul = 1;
    switch (*end) {
    case 'k':
    case 'K':
        mul = 1024.0;
        end++;
        break;
    case 'm':
    case 'M':
        mul = 1024.0 * 1024;
        end++;
        break;
    case 'g':
    case 'G':
        mul = 1024.0 * 1024 * 1024;
        end++;
        break;
    case 't':
    case 'T':
        mul = 1024.0 * 1024 * 1024 * 1024;
        end++;
        break;
    default:
        break;
    }
    if (*end == 'i' && end[-1] != *s)
        end++;
    if (*end == 'B' || *end == 'b')
        end++;
    if (*end)
        return -1;
    return (long long)(v * mul);
}

rn_cache_store *rn_cache_store_open(const char *root, long long max_size, char **err) {
    rn_cache_store *s = rn_xcalloc(1, sizeof *s);
    s->root = root ? rn_xstrdup(root) : rn_cache_default_root();
    s->entries = rn_xprintf("%s/entries", s->root);
    s->tmp = rn_xprintf("%s/tmp", s->root);
    s->trash = rn_xprintf("%s/trash", s->root);
    if (mkdir_p(s->entries, 0755) || mkdir_p(s->tmp, 0755) || mkdir_p(s->trash, 0755)) {
        *err = rn_xprintf("cannot create the cache folder %s: %s", s->root, strerror(errno));
        rn_cache_store_close(s);
        return NULL;
    }
    if (max_size <= 0) {
        const char *env = getenv("RUNNEL_CACHE_MAX_SIZE");
        max_size = env ? rn_cache_parse_size(env) : -1;
        if (max_size <= 0)
            max_size = 10LL * 1024 * 1024 * 1024;
    }
    s->max_size = max_size;
    return s;
}

void rn_cache_store_close(rn_cache_store *s) {
    if (!s)
        return;
    free(s->root);
    free(s->entries);
    free(s->tmp);
    free(s->trash);
    free(s);
}

const char *rn_cache_store_root(const rn_cache_store *s) {
    return s->root;
}

char *rn_cache_version(const char *const *paths, size_t n, const char *compression) {
    rn_sb sb = RN_SB_INIT;
    for (size_t i = 0; i < n; i++) {
        rn_sb_puts(&sb, paths[i]);
        rn_sb_putc(&sb, '|');
    }
    if (compression) {
        rn_sb_puts(&sb, compression);
        rn_sb_putc(&sb, '|');
    }
    rn_sb_puts(&sb, "1.0");
    unsigned char d[32];
    unsigned int dl = 0;
    EVP_Digest(sb.data, sb.len, d, &dl, EVP_sha256(), NULL);
    rn_sb_free(&sb);
    char *r = rn_xmalloc(65);
    hex(d, 32, r);
    return r;
}

static char *entry_id(const char *scope, const char *key, const char *version) {
    EVP_MD_CTX *c = EVP_MD_CTX_new();
    EVP_DigestInit_ex(c, EVP_sha256(), NULL);
    EVP_DigestUpdate(c, scope, strlen(scope) + 1);
    EVP_DigestUpdate(c, key, strlen(key) + 1);
    EVP_DigestUpdate(c, version, strlen(version));
    unsigned char d[32];
    EVP_DigestFinal_ex(c, d, NULL);
    EVP_MD_CTX_free(c);
    char *r = rn_xmalloc(33);
    hex(d, 16, r);
    return r;
}

char *rn_cache_tmpname(rn_cache_store *s, const char *what) {
    unsigned char r[8];
    if (getrandom(r, sizeof r, 0) != (ssize_t)sizeof r)
        memset(r, 0, sizeof r);
    char h[17];
    hex(r, 8, h);
    return rn_xprintf("%s/%s.%d.%s", s->tmp, what, (int)getpid(), h);
}

/* rm -rf with *at calls (entries hold no mount points). */
static void rm_rf_at(int dfd, const char *name) {
    int fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd >= 0) {
        DIR *d = fdopendir(fd);
        if (d) {
            for (struct dirent *e; (e = readdir(d));)
                if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
                    rm_rf_at(dirfd(d), e->d_name);
            closedir(d);
        } else {
            close(fd);
        }
        unlinkat(dfd, name, AT_REMOVEDIR);
    } else {
        unlinkat(dfd, name, 0);
    }
}

static void rm_rf(const char *path) {
    rm_rf_at(AT_FDCWD, path);
}

/* ---- metadata ---- */

static int read_meta(rn_cache_store *s, const char *id, rn_cache_entry *e, json_t **meta_out) {
    char *p = rn_xprintf("%s/%s/meta.json", s->entries, id);
    json_t *m = json_load_file(p, 0, NULL);
    free(p);
    if (!m)
        return -1;
    const char *scope = json_string_value(json_object_get(m, "scope"));
    const char *key = json_string_value(json_object_get(m, "key"));
    const char *ver = json_string_value(json_object_get(m, "version"));
    if (!scope || !key || !ver) {
        json_decref(m);
        return -1;
    }
    memset(e, 0, sizeof *e);
    e->id = rn_xstrdup(id);
    e->scope = rn_xstrdup(scope);
    e->key = rn_xstrdup(key);
    e->version = rn_xstrdup(ver);
    e->created_ms = json_integer_value(json_object_get(m, "created"));
    e->archive_size = json_integer_value(json_object_get(m, "archive_size"));
    e->unpacked_size = json_integer_value(json_object_get(m, "unpacked_size"));
    e->files = json_integer_value(json_object_get(m, "files"));
    e->has_tree = json_is_string(json_object_get(m, "manifest_sha256"));
    if (!json_is_string(json_object_get(m, "archive_sha256"))) {
        char *side = rn_xprintf("%s/%s/archive.sha256", s->entries, id);
        FILE *f = fopen(side, "r");
        char sum[65];
        if (f && fscanf(f, "%64s %lld", sum, &e->archive_size) != 2)
            e->archive_size = 0;
        if (f)
            fclose(f);
        free(side);
    }
    char *u = rn_xprintf("%s/%s/used", s->entries, id);
    struct stat st;
    e->used_ms = stat(u, &st) == 0
                     ? (long long)st.st_mtim.tv_sec * 1000 + st.st_mtim.tv_nsec / 1000000
                     : e->created_ms;
    free(u);
    if (meta_out)
        *meta_out = m;
    else
        json_decref(m);
    return 0;
}

static void touch_used(int dfd) {
    int fd = openat(dfd, "used", O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
    if (fd >= 0) {
        futimens(fd, NULL);
        close(fd);
    }
}

int rn_cache_list(rn_cache_store *s, rn_cache_entry **out, size_t *n) {
    *out = NULL;
    *n = 0;
    DIR *d = opendir(s->entries);
    if (!d)
        return -1;
    size_t cap = 0;
    for (struct dirent *de; (de = readdir(d));) {
        if (de->d_name[0] == '.')
            continue;
        rn_cache_entry e;
        if (read_meta(s, de->d_name, &e, NULL))
            continue;
        if (*n == cap)
            *out = rn_xrealloc(*out, (cap = cap ? cap * 2 : 16) * sizeof **out);
        (*out)[(*n)++] = e;
    }
    closedir(d);
    return 0;
}

static int cmp_newest(const void *a, const void *b) {
    const rn_cache_entry *x = a, *y = b;
    if (x->created_ms != y->created_ms)
        return x->created_ms > y->created_ms ? -1 : 1;
    return strcmp(x->id, y->id);
}

int rn_cache_lookup(rn_cache_store *s, const char *const *scopes, size_t nscopes,
                    const char *const *keys, size_t nkeys, const char *version,
                    rn_cache_entry *out) {
    rn_cache_entry *all;
    size_t n;
    if (rn_cache_list(s, &all, &n))
        return 0;
    if (n)
        qsort(all, n, sizeof *all, cmp_newest);
    int found = -1;
    for (size_t si = 0; si < nscopes && found < 0; si++) {
        for (size_t ki = 0; ki < nkeys && found < 0; ki++) {
            size_t kl = strlen(keys[ki]);
            for (size_t i = 0; i < n && found < 0; i++)
                if (!strcmp(all[i].scope, scopes[si]) && !strcmp(all[i].version, version) &&
                    !strcmp(all[i].key, keys[ki]))
                    found = (int)i;
            for (size_t i = 0; i < n && found < 0; i++)
                if (!strcmp(all[i].scope, scopes[si]) && !strcmp(all[i].version, version) &&
                    !strncmp(all[i].key, keys[ki], kl))
                    found = (int)i;
        }
    }
    if (found >= 0) {
        *out = all[found];
        memset(&all[found], 0, sizeof all[found]);
    }
    rn_cache_entries_free(all, n);
    return found >= 0;
}

/* ---- saving ---- */

typedef struct hashed_out {
    int fd;
    EVP_MD_CTX *md;
    long long size;
} hashed_out;

static la_ssize_t hashed_write(struct archive *a, void *ud, const void *buf, size_t n) {
    (void)a;
    hashed_out *h = ud;
    const char *p = buf;
    size_t left = n;
    while (left) {
        ssize_t w = write(h->fd, p, left);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        p += w;
        left -= (size_t)w;
    }
    EVP_DigestUpdate(h->md, buf, n);
    h->size += (long long)n;
    return (la_ssize_t)n;
}

typedef struct saver {
    int tree_fd; /* tmp entry's tree/ */
    json_t *manifest;
    long long unpacked, nblobs;
    const char *workspace;
    char **err;
} saver;

static int copy_fd(int in, int out, long long size);
static json_t *load_manifest(int dfd, json_t *meta);

/* The item's name relative to the workspace, as the toolkit gives tar (may start with ../). */
static char *relative_to(const char *base, const char *path) {
    char *b = rn_xstrdup(base), *p = rn_xstrdup(path);
    char *bs[256], *ps[256];
    size_t nb = 0, np = 0;
    for (char *t = strtok(b, "/"); t && nb < 256; t = strtok(NULL, "/"))
        if (strcmp(t, "."))
            bs[nb++] = t;
    for (char *t = strtok(p, "/"); t && np < 256; t = strtok(NULL, "/"))
        if (strcmp(t, "."))
            ps[np++] = t;
    size_t common = 0;
    while (common < nb && common < np && !strcmp(bs[common], ps[common]))
        common++;
    rn_sb sb = RN_SB_INIT;
    for (size_t i = common; i < nb; i++)
        rn_sb_puts(&sb, sb.len ? "/.." : "..");
    for (size_t i = common; i < np; i++) {
        if (sb.len)
            rn_sb_putc(&sb, '/');
        rn_sb_puts(&sb, ps[i]);
    }
    if (!sb.len)
        rn_sb_putc(&sb, '.');
    free(b);
    free(p);
    return rn_sb_take(&sb);
}

static int save_item(saver *sv, const char *abs, const char *rel) {
    struct stat st;
    if (lstat(abs, &st) != 0)
        return 0; /* vanished: tar would warn; skip */
    char type;
    char link[PATH_MAX];
    link[0] = 0;
    char sum[33] = ""; /* files: XXH3-128 of the stored copy */
    long long size = 0;
    if (S_ISREG(st.st_mode)) {
        type = 'f';
    } else if (S_ISDIR(st.st_mode)) {
        type = 'd';
    } else if (S_ISLNK(st.st_mode)) {
        type = 'l';
        ssize_t l = readlink(abs, link, sizeof link - 1);
        link[l < 0 ? 0 : l] = 0;
    } else {
        return 0; /* sockets, fifos, devices: not cached */
    }
    if (type == 'f') {
        int fd = open(abs, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0)
            return 0;
        fstat(fd, &st);
        size = st.st_size;
        char name[32];
        snprintf(name, sizeof name, "%lld", sv->nblobs);
        int bfd = openat(sv->tree_fd, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0444);
        errno = 0;
        int rc = bfd < 0 ? -1 : copy_fd(fd, bfd, size);
        if (rc)
            *sv->err = rn_xprintf("cache: cannot copy %s: %s", rel,
                                  errno ? strerror(errno) : "it changed while it was saved");
        close(fd);
        if (bfd >= 0)
            close(bfd);
        if (rc)
            return -1;
        int hfd = openat(sv->tree_fd, name, O_RDONLY | O_CLOEXEC);
        rc = hfd < 0 ? -1 : xxh_fd(hfd, sum);
        if (hfd >= 0)
            close(hfd);
        if (rc) {
            *sv->err = rn_xprintf("cache: cannot read back the copy of %s", rel);
            return -1;
        }
        sv->nblobs++;
        sv->unpacked += size;
    }
    char tstr[2] = {type, 0};
    json_t *m = json_pack("[s,i,I,I,s,s,s]", tstr, (int)(st.st_mode & 07777), (json_int_t)size,
                          (json_int_t)st.st_mtim.tv_sec, rel, link, sum);
    json_array_append_new(sv->manifest, m);
    return 0;
}

static int cmp_cstr(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int save_tree(saver *sv, const char *abs) {
    char *rel = relative_to(sv->workspace, abs);
    int rc = save_item(sv, abs, rel);
    free(rel);
    if (rc)
        return rc;
    struct stat st;
    if (lstat(abs, &st) != 0 || !S_ISDIR(st.st_mode))
        return 0;
    DIR *d = opendir(abs);
    if (!d)
        return 0;
    char **names = NULL;
    size_t n = 0, cap = 0;
    for (struct dirent *e; (e = readdir(d));) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        if (n == cap)
            names = rn_xrealloc(names, (cap = cap ? cap * 2 : 16) * sizeof *names);
        names[n++] = rn_xstrdup(e->d_name);
    }
    closedir(d);
    if (n)
        qsort(names, n, sizeof *names, cmp_cstr);
    for (size_t i = 0; i < n; i++) {
        if (rc == 0) {
            char *child = rn_xprintf("%s/%s", abs, names[i]);
            rc = save_tree(sv, child);
            free(child);
        }
        free(names[i]);
    }
    free(names);
    return rc;
}

static int sha256_fd(int fd, char out[65]) {
    EVP_MD_CTX *c = EVP_MD_CTX_new();
    EVP_DigestInit_ex(c, EVP_sha256(), NULL);
    char *buf = rn_xmalloc(1 << 20);
    ssize_t r;
    off_t off = 0;
    while ((r = pread(fd, buf, 1 << 20, off)) > 0) {
        EVP_DigestUpdate(c, buf, (size_t)r);
        off += r;
    }
    free(buf);
    unsigned char d[32];
    EVP_DigestFinal_ex(c, d, NULL);
    EVP_MD_CTX_free(c);
    hex(d, 32, out);
    return r < 0 ? -1 : 0;
}

/* Writes meta.json into the tmp entry and renames it into place. */
static int publish(rn_cache_store *s, const char *tmpdir, json_t *meta, const char *scope,
                   const char *key, const char *version, char **err) {
    json_object_set_new(meta, "scope", json_string(scope));
    json_object_set_new(meta, "key", json_string(key));
    json_object_set_new(meta, "version", json_string(version));
    json_object_set_new(meta, "created", json_integer(now_ms()));
    char *mp = rn_xprintf("%s/meta.json", tmpdir);
    int rc = json_dump_file(meta, mp, JSON_COMPACT);
    free(mp);
    if (rc) {
        *err = rn_xprintf("cache: cannot write metadata in %s", tmpdir);
        return -1;
    }
    char *u = rn_xprintf("%s/used", tmpdir);
    int ufd = open(u, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
    if (ufd >= 0)
        close(ufd);
    free(u);
    char *id = entry_id(scope, key, version);
    char *dst = rn_xprintf("%s/%s", s->entries, id);
    free(id);
    rc = 0;
    if (rename(tmpdir, dst) != 0) {
        if (errno == EEXIST || errno == ENOTEMPTY) {
            rc = 1; /* another job saved this key first: entries are immutable */
        } else {
            *err = rn_xprintf("cache: cannot publish %s: %s", dst, strerror(errno));
            rc = -1;
        }
    }
    free(dst);
    return rc;
}

static bool entry_exists(rn_cache_store *s, const char *scope, const char *key,
                         const char *version) {
    char *id = entry_id(scope, key, version);
    char *p = rn_xprintf("%s/%s/meta.json", s->entries, id);
    bool r = access(p, F_OK) == 0;
    free(p);
    free(id);
    return r;
}

static void evict_over_cap(rn_cache_store *s) {
    rn_cache_prune(s, -1, NULL);
}

int rn_cache_save(rn_cache_store *s, const char *scope, const char *key, const char *version,
                  const char *workspace, const char *const *items, size_t n, char **err) {
    if (entry_exists(s, scope, key, version))
        return 1;
    char *tmpdir = rn_cache_tmpname(s, "save");
    char *treedir = rn_xprintf("%s/tree", tmpdir);
    int rc = -1;
    saver sv = {0};
    sv.tree_fd = -1;
    if (mkdir(tmpdir, 0755) || mkdir(treedir, 0755)) {
        *err = rn_xprintf("cache: cannot create %s: %s", tmpdir, strerror(errno));
        goto out;
    }
    sv.tree_fd = open(treedir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (sv.tree_fd < 0) {
        *err = rn_xprintf("cache: cannot write in %s: %s", tmpdir, strerror(errno));
        goto out;
    }
    sv.manifest = json_array();
    sv.workspace = workspace;
    sv.err = err;
    for (size_t i = 0; i < n; i++)
        if (save_tree(&sv, items[i]))
            goto out;
    unsigned char d[32];
    char *mtext = json_dumps(sv.manifest, JSON_COMPACT);
    size_t mlen = strlen(mtext);
    unsigned int dl;
    EVP_Digest(mtext, mlen, d, &dl, EVP_sha256(), NULL);
    char msum[65];
    hex(d, 32, msum);
    char *mpath = rn_xprintf("%s/manifest.json", tmpdir);
    FILE *mf = fopen(mpath, "w");
    bool ok = mf && fwrite(mtext, 1, mlen, mf) == mlen;
    if (mf && fclose(mf))
        ok = false;
    free(mpath);
    free(mtext);
    if (!ok) {
        *err = rn_xprintf("cache: cannot write the manifest in %s", tmpdir);
        goto out;
    }
    /* the archive (the server's form) is made from the unpacked copy when first asked for */
    json_t *meta = json_object();
    json_object_set_new(meta, "manifest_sha256", json_string(msum));
    json_object_set_new(meta, "unpacked_size", json_integer(sv.unpacked));
    json_object_set_new(meta, "files", json_integer(sv.nblobs));
    json_object_set_new(meta, "compression", json_string(RN_CACHE_COMPRESSION));
    rc = publish(s, tmpdir, meta, scope, key, version, err);
    json_decref(meta);
out:
    if (sv.tree_fd >= 0)
        close(sv.tree_fd);
    json_decref(sv.manifest);
    if (rc != 0)
        rm_rf(tmpdir);
    free(tmpdir);
    free(treedir);
    if (rc == 0)
        evict_over_cap(s);
    return rc;
}

int rn_cache_put_archive(rn_cache_store *s, const char *scope, const char *key, const char *version,
                         const char *archive_file, char **err) {
    if (entry_exists(s, scope, key, version)) {
        unlink(archive_file);
        return 1;
    }
    int fd = open(archive_file, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        *err = rn_xprintf("cache: cannot read %s: %s", archive_file, strerror(errno));
        return -1;
    }
    char sum[65];
    struct stat st;
    int hr = sha256_fd(fd, sum);
    fstat(fd, &st);
    close(fd);
    if (hr) {
        *err = rn_xprintf("cache: cannot read %s", archive_file);
        return -1;
    }
    char *tmpdir = rn_cache_tmpname(s, "put");
    char *dst = rn_xprintf("%s/archive.tar.zst", tmpdir);
    int rc = -1;
    if (mkdir(tmpdir, 0755) || rename(archive_file, dst)) {
        *err = rn_xprintf("cache: cannot store the archive: %s", strerror(errno));
    } else {
        json_t *meta = json_object();
        json_object_set_new(meta, "archive_size", json_integer(st.st_size));
        json_object_set_new(meta, "archive_sha256", json_string(sum));
        json_object_set_new(meta, "unpacked_size", json_integer(0));
        json_object_set_new(meta, "files", json_integer(0));
        rc = publish(s, tmpdir, meta, scope, key, version, err);
        json_decref(meta);
    }
    if (rc != 0)
        rm_rf(tmpdir);
    free(tmpdir);
    free(dst);
    if (rc == 0)
        evict_over_cap(s);
    return rc;
}

/* ---- restoring ---- */

/* Opens the entry folder with a shared lock, or -1 when it is gone. */
static int open_locked(rn_cache_store *s, const char *id, json_t **meta) {
    char *p = rn_xprintf("%s/%s", s->entries, id);
    int dfd = open(p, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    free(p);
    if (dfd < 0)
        return -1;
    if (flock(dfd, LOCK_SH) != 0) {
        close(dfd);
        return -1;
    }
    int mfd = openat(dfd, "meta.json", O_RDONLY | O_CLOEXEC);
    json_t *m = NULL;
    if (mfd >= 0) {
        m = json_loadfd(mfd, 0, NULL);
        close(mfd);
    }
    if (!m) {
        close(dfd); /* evicted (or broken) while we waited */
        return -1;
    }
    *meta = m;
    return dfd;
}

static char *read_at(int dfd, const char *name, size_t *len) {
    int fd = openat(dfd, name, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return NULL;
    struct stat st;
    if (fstat(fd, &st)) {
        close(fd);
        return NULL;
    }
    char *buf = rn_xmalloc((size_t)st.st_size + 1);
    size_t got = 0;
    while (got < (size_t)st.st_size) {
        ssize_t r = read(fd, buf + got, (size_t)st.st_size - got);
        if (r <= 0)
            break;
        got += (size_t)r;
    }
    close(fd);
    buf[got] = 0;
    *len = got;
    return buf;
}

static int copy_fd(int in, int out, long long size) {
    long long left = size;
    while (left > 0) {
        ssize_t r = copy_file_range(in, NULL, out, NULL, (size_t)left, 0);
        if (r < 0 &&
            (errno == EXDEV || errno == ENOSYS || errno == EINVAL || errno == EOPNOTSUPP)) {
            /* another file system: plain read/write */
            char buf[1 << 16];
            off_t off = size - left;
            while (left > 0) {
                ssize_t n = pread(in, buf, sizeof buf, off);
                if (n <= 0 || write(out, buf, (size_t)n) != n)
                    return -1;
                off += n;
                left -= n;
            }
            return 0;
        }
        if (r <= 0)
            return -1;
        left -= r;
    }
    return 0;
}

/* Replaces whatever is at path with a directory/file/link (tar's default overwrite). */
static void clear_path(const char *path, char want) {
    struct stat st;
    if (lstat(path, &st) != 0)
        return;
    if (want == 'd' && S_ISDIR(st.st_mode))
        return;
    if (S_ISDIR(st.st_mode))
        rm_rf(path);
    else if (want != 'f' || !S_ISREG(st.st_mode))
        unlink(path);
}

static int mkparents(const char *path) {
    char *p = rn_xstrdup(path);
    char *slash = strrchr(p, '/');
    int rc = 0;
    if (slash && slash != p) {
        *slash = 0;
        struct stat st;
        if (stat(p, &st) != 0)
            rc = mkdir_p(p, 0755);
    }
    free(p);
    return rc;
}

/* Files of a restore, copied by a few threads (copies of many small files are bound by
 * per-file system calls and page allocation, which run in parallel). */
typedef struct restore_job {
    json_t *man;
    const long long *blob; /* blob number per manifest index, -1 for non-files */
    const char *workspace;
    int tfd;
    size_t n, next; /* next index to take (atomic) */
    int rc;         /* first error (atomic compare-and-swap) */
    char *err;
    pthread_mutex_t lock;
    bool verify_only; /* check each stored file's checksum, write nothing */
} restore_job;

/* Verify phase of a restore: a file whose stored copy does not match its manifest checksum
 * makes the entry a miss (rc 1) before anything was written. */
static void verify_file(restore_job *r, json_t *it, long long blob) {
    const char *want = json_string_value(json_array_get(it, 6));
    if (!want || !*want)
        return;
    char name[32], got[33];
    snprintf(name, sizeof name, "%lld", blob);
    int fd = openat(r->tfd, name, O_RDONLY | O_CLOEXEC);
    if (fd < 0 || xxh_fd(fd, got) || strcmp(got, want))
        __atomic_store_n(&r->rc, 1, __ATOMIC_RELAXED);
    if (fd >= 0)
        close(fd);
}

static void *restore_files(void *arg) {
    restore_job *r = arg;
    for (;;) {
        size_t i = __atomic_fetch_add(&r->next, 1, __ATOMIC_RELAXED);
        if (i >= r->n || __atomic_load_n(&r->rc, __ATOMIC_RELAXED))
            break;
        if (r->blob[i] < 0)
            continue;
        json_t *it = json_array_get(r->man, i);
        if (r->verify_only) {
            verify_file(r, it, r->blob[i]);
            continue;
        }
        mode_t mode = (mode_t)json_integer_value(json_array_get(it, 1));
        long long size = json_integer_value(json_array_get(it, 2));
        time_t mtime = (time_t)json_integer_value(json_array_get(it, 3));
        const char *rel = json_string_value(json_array_get(it, 4));
        char *dst = rn_xprintf("%s/%s", r->workspace, rel);
        char name[32];
        snprintf(name, sizeof name, "%lld", r->blob[i]);
        int in = openat(r->tfd, name, O_RDONLY | O_CLOEXEC);
        clear_path(dst, 'f');
        int out = in < 0 ? -1 : open(dst, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        if (out < 0 || copy_fd(in, out, size)) {
            int e = errno;
            pthread_mutex_lock(&r->lock);
            if (!r->rc) {
                r->err = rn_xprintf("cache: cannot write %s: %s", dst, strerror(e));
                __atomic_store_n(&r->rc, -1, __ATOMIC_RELAXED);
            }
            pthread_mutex_unlock(&r->lock);
        } else {
            struct timespec ts[2] = {{mtime, 0}, {mtime, 0}};
            fchmod(out, mode);
            futimens(out, ts);
        }
        if (out >= 0)
            close(out);
        if (in >= 0)
            close(in);
        free(dst);
    }
    return NULL;
}

/* Runs restore_files on up to 4 threads (1 for few files). */
static void restore_parallel(restore_job *r, long long nfiles) {
    pthread_t th[4];
    int nt = nfiles >= 64 ? 4 : 1, started = 0;
    for (int t = 1; t < nt; t++)
        if (pthread_create(&th[started], NULL, restore_files, r) == 0)
            started++;
    restore_files(r);
    for (int t = 0; t < started; t++)
        pthread_join(th[t], NULL);
    pthread_mutex_destroy(&r->lock);
}

static int restore_tree(int dfd, json_t *meta, const char *workspace, char **err) {
    json_t *man = load_manifest(dfd, meta);
    if (!man)
        return 1;
    int tfd = openat(dfd, "tree", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (tfd < 0) {
        json_decref(man);
        return 1;
    }
    /* verify every file before writing anything: a truncated or corrupt entry is a miss */
    size_t n = json_array_size(man);
    long long *blob = rn_xcalloc(n + 1, sizeof *blob);
    long long nb = 0;
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        json_t *it = json_array_get(man, i);
        const char *type = json_string_value(json_array_get(it, 0));
        blob[i] = -1;
        if (!type || !json_is_string(json_array_get(it, 4))) {
            rc = 1;
            break;
        }
        if (type[0] != 'f')
            continue;
        char name[32];
        snprintf(name, sizeof name, "%lld", nb);
        blob[i] = nb++;
        struct stat st;
        if (fstatat(tfd, name, &st, 0) || st.st_size != json_integer_value(json_array_get(it, 2)))
            rc = 1;
    }
    if (rc == 0 && nb) {
        restore_job v = {man,
                         blob,
                         workspace,
                         tfd,
                         n,
                         0,
                         0,
                         NULL,
                         PTHREAD_MUTEX_INITIALIZER,
                         .verify_only = true};
        restore_parallel(&v, nb);
        rc = v.rc;
    }
    /* folders, links and the files' parent folders, in order */
    for (size_t i = 0; i < n && rc == 0; i++) {
        json_t *it = json_array_get(man, i);
        char type = json_string_value(json_array_get(it, 0))[0];
        mode_t mode = (mode_t)json_integer_value(json_array_get(it, 1));
        const char *rel = json_string_value(json_array_get(it, 4));
        char *dst = strcmp(rel, ".") ? rn_xprintf("%s/%s", workspace, rel) : rn_xstrdup(workspace);
        if (type != 'f')
            clear_path(dst, type);
        if (mkparents(dst)) {
            *err = rn_xprintf("cache: cannot create the folder of %s: %s", dst, strerror(errno));
            rc = -1;
        } else if (type == 'd') {
            if (mkdir(dst, mode | 0700) != 0 && errno != EEXIST) {
                *err = rn_xprintf("cache: cannot create %s: %s", dst, strerror(errno));
                rc = -1;
            }
        } else if (type == 'l') {
            const char *target = json_string_value(json_array_get(it, 5));
            if (symlink(target ? target : "", dst) != 0) {
                *err = rn_xprintf("cache: cannot create link %s: %s", dst, strerror(errno));
                rc = -1;
            }
        }
        free(dst);
    }
    if (rc == 0 && nb) {
        restore_job r = {man,
                         blob,
                         workspace,
                         tfd,
                         n,
                         0,
                         0,
                         NULL,
                         PTHREAD_MUTEX_INITIALIZER,
                         .verify_only = false};
        restore_parallel(&r, nb);
        if (r.rc) {
            rc = r.rc;
            *err = r.err;
        }
    }
    /* directories last (deepest first): their modes and times after their content */
    for (size_t i = n; i-- > 0 && rc == 0;) {
        json_t *it = json_array_get(man, i);
        if (json_string_value(json_array_get(it, 0))[0] != 'd')
            continue;
        const char *rel = json_string_value(json_array_get(it, 4));
        char *dst = strcmp(rel, ".") ? rn_xprintf("%s/%s", workspace, rel) : rn_xstrdup(workspace);
        time_t mtime = (time_t)json_integer_value(json_array_get(it, 3));
        struct timespec ts[2] = {{mtime, 0}, {mtime, 0}};
        chmod(dst, (mode_t)json_integer_value(json_array_get(it, 1)));
        utimensat(AT_FDCWD, dst, ts, AT_SYMLINK_NOFOLLOW);
        free(dst);
    }
    free(blob);
    close(tfd);
    json_decref(man);
    return rc;
}

/* The archive's expected sha256 and size: from meta.json (uploaded archives) or from
 * archive.sha256, written when the archive was made from the unpacked copy. */
static bool archive_expect(int dfd, json_t *meta, char sum[65], long long *size) {
    const char *want = json_string_value(json_object_get(meta, "archive_sha256"));
    if (want && strlen(want) == 64) {
        memcpy(sum, want, 65);
        *size = json_integer_value(json_object_get(meta, "archive_size"));
        return true;
    }
    size_t len;
    char *t = read_at(dfd, "archive.sha256", &len);
    bool ok = t && sscanf(t, "%64s %lld", sum, size) == 2 && strlen(sum) == 64;
    free(t);
    return ok;
}

static int verify_archive(int dfd, json_t *meta) {
    char want[65];
    long long want_size;
    if (!archive_expect(dfd, meta, want, &want_size))
        return -1;
    int fd = openat(dfd, "archive.tar.zst", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    char sum[65];
    struct stat st;
    if (fstat(fd, &st) || st.st_size != want_size || sha256_fd(fd, sum) || strcmp(want, sum)) {
        close(fd);
        return -1;
    }
    return fd;
}

/* Loads the manifest after checking it against meta's sha256; NULL when corrupt. */
static json_t *load_manifest(int dfd, json_t *meta) {
    size_t mlen;
    char *mtext = read_at(dfd, "manifest.json", &mlen);
    if (!mtext)
        return NULL;
    unsigned char d[32];
    unsigned int dl;
    EVP_Digest(mtext, mlen, d, &dl, EVP_sha256(), NULL);
    char sum[65];
    hex(d, 32, sum);
    const char *want = json_string_value(json_object_get(meta, "manifest_sha256"));
    json_t *man = want && !strcmp(want, sum) ? json_loadb(mtext, mlen, 0, NULL) : NULL;
    free(mtext);
    if (man && !json_is_array(man)) {
        json_decref(man);
        man = NULL;
    }
    return man;
}

/* Writes archive.tar.zst (pax + zstd, the toolkit's form) from the unpacked copy. */
static int build_archive(int dfd, json_t *man) {
    char tmp[64];
    snprintf(tmp, sizeof tmp, "archive.tmp.%d", (int)getpid());
    hashed_out ho = {openat(dfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0444), NULL, 0};
    int tfd = openat(dfd, "tree", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (ho.fd < 0 || tfd < 0) {
        if (ho.fd >= 0)
            close(ho.fd);
        if (tfd >= 0)
            close(tfd);
        return -1;
    }
    ho.md = EVP_MD_CTX_new();
    EVP_DigestInit_ex(ho.md, EVP_sha256(), NULL);
    struct archive *ar = archive_write_new();
    archive_write_set_format_pax_restricted(ar);
    archive_write_add_filter_zstd(ar);
    archive_write_set_filter_option(ar, "zstd", "compression-level", "3");
    archive_write_set_filter_option(ar, "zstd", "threads", "0");
    archive_write_set_bytes_in_last_block(ar, 1);
    int rc = archive_write_open2(ar, &ho, NULL, hashed_write, NULL, NULL) == ARCHIVE_OK ? 0 : -1;
    char *buf = rn_xmalloc(1 << 20);
    long long blob = 0;
    for (size_t i = 0; rc == 0 && i < json_array_size(man); i++) {
        json_t *it = json_array_get(man, i);
        char type = json_string_value(json_array_get(it, 0))[0];
        struct archive_entry *ae = archive_entry_new();
        archive_entry_copy_pathname(ae, json_string_value(json_array_get(it, 4)));
        mode_t mode = (mode_t)json_integer_value(json_array_get(it, 1));
        archive_entry_set_mode(ae, mode | (type == 'd'   ? S_IFDIR
                                           : type == 'l' ? S_IFLNK
                                                         : S_IFREG));
        archive_entry_set_mtime(ae, (time_t)json_integer_value(json_array_get(it, 3)), 0);
        long long size = type == 'f' ? json_integer_value(json_array_get(it, 2)) : 0;
        archive_entry_set_size(ae, size);
        if (type == 'l')
            archive_entry_copy_symlink(ae, json_string_value(json_array_get(it, 5)));
        int in = -1;
        if (type == 'f') {
            char name[32];
            snprintf(name, sizeof name, "%lld", blob++);
            in = openat(tfd, name, O_RDONLY | O_CLOEXEC);
            if (in < 0)
                rc = -1;
        }
        if (rc == 0 && archive_write_header(ar, ae) != ARCHIVE_OK)
            rc = -1;
        for (long long done = 0; rc == 0 && done < size;) {
            ssize_t r = read(in, buf, 1 << 20);
            if (r <= 0 || archive_write_data(ar, buf, (size_t)r) != r)
                rc = -1;
            done += r;
        }
        if (in >= 0)
            close(in);
        archive_entry_free(ae);
    }
    if (rc == 0 && archive_write_close(ar) != ARCHIVE_OK)
        rc = -1;
    archive_write_free(ar);
    free(buf);
    close(tfd);
    close(ho.fd);
    unsigned char d[32];
    EVP_DigestFinal_ex(ho.md, d, NULL);
    EVP_MD_CTX_free(ho.md);
    if (rc == 0) {
        char sum[65];
        hex(d, 32, sum);
        char side[128];
        int n = snprintf(side, sizeof side, "%s %lld\n", sum, ho.size);
        char stmp[64];
        snprintf(stmp, sizeof stmp, "archive.sha256.tmp.%d", (int)getpid());
        int sfd = openat(dfd, stmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0444);
        if (sfd < 0 || write(sfd, side, (size_t)n) != n)
            rc = -1;
        if (sfd >= 0)
            close(sfd);
        /* the archive first: a reader that sees the checksum also sees its archive */
        if (rc == 0 && (renameat(dfd, tmp, dfd, "archive.tar.zst") ||
                        renameat(dfd, stmp, dfd, "archive.sha256")))
            rc = -1;
        if (rc)
            unlinkat(dfd, stmp, 0);
    }
    if (rc)
        unlinkat(dfd, tmp, 0);
    return rc;
}

/* Extracts a verified archive (names relative to workspace, ../ allowed as the toolkit
 * writes them). */
static int extract_archive(int fd, const char *workspace, char **err) {
    struct archive *a = archive_read_new();
    archive_read_support_format_tar(a);
    archive_read_support_filter_all(a);
    struct archive *w = archive_write_disk_new();
    archive_write_disk_set_options(w, ARCHIVE_EXTRACT_TIME | ARCHIVE_EXTRACT_PERM |
                                          ARCHIVE_EXTRACT_UNLINK);
    int rc = 0;
    lseek(fd, 0, SEEK_SET);
    if (archive_read_open_fd(a, fd, 1 << 20) != ARCHIVE_OK) {
        *err = rn_xprintf("cache: archive: %s", archive_error_string(a));
        rc = -1;
    }
    struct archive_entry *e;
    while (rc == 0) {
        int r = archive_read_next_header(a, &e);
        if (r == ARCHIVE_EOF)
            break;
        if (r < ARCHIVE_WARN) {
            *err = rn_xprintf("cache: archive: %s", archive_error_string(a));
            rc = -1;
            break;
        }
        char *p = rn_xprintf("%s/%s", workspace, archive_entry_pathname(e));
        archive_entry_copy_pathname(e, p);
        free(p);
        if (archive_entry_hardlink(e)) {
            char *h = rn_xprintf("%s/%s", workspace, archive_entry_hardlink(e));
            archive_entry_copy_hardlink(e, h);
            free(h);
        }
        if (archive_write_header(w, e) < ARCHIVE_WARN) {
            *err = rn_xprintf("cache: %s", archive_error_string(w));
            rc = -1;
            break;
        }
        const void *buf;
        size_t sz;
        la_int64_t off;
        while ((r = archive_read_data_block(a, &buf, &sz, &off)) == ARCHIVE_OK)
            if (archive_write_data_block(w, buf, sz, off) < ARCHIVE_WARN)
                break;
        if (r < ARCHIVE_WARN) {
            *err = rn_xprintf("cache: archive: %s", archive_error_string(a));
            rc = -1;
        }
        archive_write_finish_entry(w);
    }
    archive_write_free(w);
    archive_read_free(a);
    return rc;
}

int rn_cache_restore(rn_cache_store *s, const rn_cache_entry *e, const char *workspace,
                     char **err) {
    json_t *meta = NULL;
    int dfd = open_locked(s, e->id, &meta);
    if (dfd < 0)
        return 1;
    int rc;
    if (json_is_string(json_object_get(meta, "manifest_sha256"))) {
        rc = restore_tree(dfd, meta, workspace, err);
    } else {
        int afd = verify_archive(dfd, meta);
        rc = afd < 0 ? 1 : extract_archive(afd, workspace, err);
        if (afd >= 0)
            close(afd);
    }
    if (rc == 0)
        touch_used(dfd);
    json_decref(meta);
    close(dfd); /* releases the lock */
    return rc;
}

int rn_cache_open_archive(rn_cache_store *s, const rn_cache_entry *e) {
    json_t *meta = NULL;
    int dfd = open_locked(s, e->id, &meta);
    if (dfd < 0)
        return -1;
    int fd = verify_archive(dfd, meta);
    if (fd < 0 && json_is_string(json_object_get(meta, "manifest_sha256"))) {
        /* made once from the unpacked copy, by one process at a time */
        int lfd = openat(dfd, "archive.lock", O_RDWR | O_CREAT | O_CLOEXEC, 0644);
        if (lfd >= 0 && flock(lfd, LOCK_EX) == 0) {
            fd = verify_archive(dfd, meta);
            json_t *man = fd < 0 ? load_manifest(dfd, meta) : NULL;
            if (man && build_archive(dfd, man) == 0)
                fd = verify_archive(dfd, meta);
            json_decref(man);
        }
        if (lfd >= 0)
            close(lfd);
    }
    if (fd >= 0) {
        touch_used(dfd);
        lseek(fd, 0, SEEK_SET);
    }
    json_decref(meta);
    close(dfd);
    return fd;
}

/* ---- removal ---- */

/* Moves an entry to trash and deletes it, unless a restore holds it. */
static bool remove_entry(rn_cache_store *s, const char *id) {
    char *p = rn_xprintf("%s/%s", s->entries, id);
    int dfd = open(p, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    bool ok = false;
    if (dfd >= 0 && flock(dfd, LOCK_EX | LOCK_NB) == 0) {
        char *t = rn_cache_tmpname(s, "evict");
        char *tp = rn_xprintf("%s/%s", s->trash, strrchr(t, '/') + 1);
        if (rename(p, tp) == 0) {
            rm_rf(tp);
            ok = true;
        }
        free(t);
        free(tp);
    }
    if (dfd >= 0)
        close(dfd);
    free(p);
    return ok;
}

int rn_cache_remove(rn_cache_store *s, const char *key) {
    rn_cache_entry *all;
    size_t n;
    if (rn_cache_list(s, &all, &n))
        return 0;
    int count = 0;
    for (size_t i = 0; i < n; i++)
        if (!strcmp(all[i].key, key) && remove_entry(s, all[i].id))
            count++;
    rn_cache_entries_free(all, n);
    return count;
}

static int cmp_lru(const void *a, const void *b) {
    const rn_cache_entry *x = a, *y = b;
    if (x->used_ms != y->used_ms)
        return x->used_ms < y->used_ms ? -1 : 1;
    return x->created_ms < y->created_ms ? -1 : x->created_ms > y->created_ms;
}

int rn_cache_prune(rn_cache_store *s, long long max_size, long long *freed) {
    if (max_size < 0)
        max_size = s->max_size;
    if (freed)
        *freed = 0;
    /* one pruner at a time; savers keep going */
    char *lp = rn_xprintf("%s/prune.lock", s->root);
    int lfd = open(lp, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    free(lp);
    if (lfd >= 0)
        flock(lfd, LOCK_EX);
    rn_cache_entry *all;
    size_t n;
    int count = 0;
    if (rn_cache_list(s, &all, &n) == 0) {
        long long total = 0;
        for (size_t i = 0; i < n; i++)
            total += all[i].archive_size + all[i].unpacked_size;
        if (n)
            qsort(all, n, sizeof *all, cmp_lru);
        for (size_t i = 0; i < n && total > max_size; i++) {
            long long sz = all[i].archive_size + all[i].unpacked_size;
            if (remove_entry(s, all[i].id)) {
                total -= sz;
                count++;
                if (freed)
                    *freed += sz;
            }
        }
        rn_cache_entries_free(all, n);
    }
    if (lfd >= 0)
        close(lfd);
    /* leftovers of crashed savers (older than a day) */
    DIR *d = opendir(s->tmp);
    if (d) {
        time_t old = time(NULL) - 86400;
        for (struct dirent *e; (e = readdir(d));) {
            struct stat st;
            if (e->d_name[0] != '.' &&
                fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 && st.st_mtime < old)
                rm_rf_at(dirfd(d), e->d_name);
        }
        closedir(d);
    }
    return count;
}
