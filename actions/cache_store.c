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
#include <linux/fs.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/vfs.h>
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

/* ---- copying with checksums ---- */

/* An archive being written: its bytes go to fd and into a sha256. */
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

/* Worker threads for saves and restores: copies of many small files are bound by per-file
 * system calls (inode creation, page-cache allocation), which run in parallel. At least two,
 * twice the CPUs, at most 16; $RUNNEL_CACHE_THREADS overrides. */
static int worker_count(size_t nfiles) {
    if (nfiles < 64)
        return 1;
    const char *e = getenv("RUNNEL_CACHE_THREADS");
    long n = e && *e ? strtol(e, NULL, 10) : 0;
    if (n <= 0) {
        long c = sysconf(_SC_NPROCESSORS_ONLN);
        n = c > 0 ? 2 * c : 4;
        n = n < 2 ? 2 : n;
    }
    return n > 16 ? 16 : (int)n;
}

/* Runs fn(arg) on n threads (this one included) and waits for all. */
static void run_workers(void *(*fn)(void *), void *arg, int n) {
    pthread_t th[16];
    int started = 0;
    for (int t = 1; t < n && t < 16; t++)
        if (pthread_create(&th[started], NULL, fn, arg) == 0)
            started++;
    fn(arg);
    for (int t = 0; t < started; t++)
        pthread_join(th[t], NULL);
}

/* Per-thread copy state: a buffer (one read pass: read, hash, write), an XXH3 state, and for
 * saves the thread's pack (small files appended to tree/p<k>, written a buffer at a time) or,
 * for restores, the packs opened so far. */
#define COPY_BUF (256 * 1024)
#define PACK_MAX COPY_BUF  /* files smaller than this are packed */
#define CLONE_BS_MAX 65536 /* largest block size packs are aligned to for cloning */
#define MAX_PACKS 64
typedef struct copier {
    unsigned char *buf;  /* COPY_BUF + 1 bytes */
    unsigned char *pbuf; /* saves: pack bytes not yet written (COPY_BUF + CLONE_BS_MAX) */
    XXH3_state_t *xxh;
    int pack; /* saves: this thread's pack number, its fd, bytes written, bytes buffered */
    int pack_fd;
    long long pack_off;
    size_t fill;
    int packs[MAX_PACKS]; /* restores: fds of the packs opened so far (-1: not yet) */
} copier;

static void copier_init(copier *c) {
    memset(c, 0, sizeof *c);
    c->buf = rn_xmalloc(COPY_BUF + 1);
    c->xxh = XXH3_createState();
    c->pack_fd = -1;
    for (int i = 0; i < MAX_PACKS; i++)
        c->packs[i] = -1;
}

static void copier_free(copier *c) {
    free(c->buf);
    free(c->pbuf);
    XXH3_freeState(c->xxh);
    if (c->pack_fd >= 0)
        close(c->pack_fd);
    for (int i = 0; i < MAX_PACKS; i++)
        if (c->packs[i] >= 0)
            close(c->packs[i]);
}

static void xxh_hex(XXH3_state_t *st, char sum[33]) {
    XXH128_hash_t h = XXH3_128bits_digest(st);
    snprintf(sum, 33, "%016llx%016llx", (unsigned long long)h.high64, (unsigned long long)h.low64);
}

static int write_all(int fd, const unsigned char *p, size_t n) {
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Copies size bytes from in to out (out < 0: only reads them) and puts the XXH3-128 of them (32
 * hex digits) in sum. With exact, in must end there. Returns 0; 1 when in is shorter (or, with
 * exact, longer) or cannot be read; -1 when out cannot be written (errno). Reads of regular files
 * are short only at EOF. */
static int copy_hash(copier *c, int in, int out, long long size, bool exact, char sum[33]) {
    XXH3_128bits_reset(c->xxh);
    long long left = size;
    bool at_eof = false;
    while (left > 0 || (exact && !at_eof)) {
        /* ask for one byte more than expected: a longer file shows at once */
        size_t want = left >= COPY_BUF ? COPY_BUF : (size_t)left + (exact ? 1 : 0);
        ssize_t r = read(in, c->buf, want);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0 || (r == 0 && left > 0) || r > left)
            return 1;
        if (r == 0 || (size_t)r < want)
            at_eof = true;
        if (r == 0)
            break;
        XXH3_128bits_update(c->xxh, c->buf, (size_t)r);
        if (out >= 0 && write_all(out, c->buf, (size_t)r))
            return -1;
        left -= r;
    }
    xxh_hex(c->xxh, sum);
    return 0;
}

/* Copies size bytes at off of pack into out, hashing them; the first `cloned` bytes of out are
 * there already (only hashed). Returns 0; 1 when the pack is short or unreadable; -1 when out
 * cannot be written (errno). */
static int copy_hash_at(copier *c, int pack, long long off, int out, long long size,
                        long long cloned, char sum[33]) {
    XXH3_128bits_reset(c->xxh);
    for (long long done = 0; done < size;) {
        size_t want = size - done >= COPY_BUF ? COPY_BUF : (size_t)(size - done);
        ssize_t r = pread(pack, c->buf, want, (off_t)(off + done));
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return 1;
        XXH3_128bits_update(c->xxh, c->buf, (size_t)r);
        if (done + r > cloned) { /* out's first `cloned` bytes are already there */
            long long from = done >= cloned ? 0 : cloned - done;
            if (lseek(out, (off_t)(done + from), SEEK_SET) < 0 ||
                write_all(out, c->buf + from, (size_t)(r - from)))
                return -1;
        }
        done += r;
    }
    xxh_hex(c->xxh, sum);
    return 0;
}

/* Where the file system shares extents between files (XFS, btrfs), a whole file is cloned
 * instead of copied: no byte written, and copy-on-write keeps the copies apart. Elsewhere (ext4,
 * another file system) the ioctl fails at once and the caller copies. */
static bool clone_whole(int out, int in) {
    return ioctl(out, FICLONE, in) == 0;
}

/* len bytes (a whole number of blocks) of in at in_off cloned to out at out_off, both on a
 * block. */
static bool clone_range(int out, long long out_off, int in, long long in_off, long long len) {
    struct file_clone_range r = {in, (__u64)in_off, (__u64)len, (__u64)out_off};
    return ioctl(out, FICLONERANGE, &r) == 0;
}

/* The block size of fd's file system when it may clone ranges between files, else 0. */
static long clone_block_size(int fd) {
    struct statfs f;
    if (fstatfs(fd, &f) != 0)
        return 0;
    bool can = f.f_type == 0x58465342 /* XFS */ || f.f_type == 0x9123683e /* btrfs */;
    return can && f.f_bsize > 0 && f.f_bsize <= CLONE_BS_MAX ? (long)f.f_bsize : 0;
}

/* Name of stored file n under tree/ (files of PACK_MAX bytes or more), and of pack k. */
static void blob_name(long long n, char out[32]) {
    snprintf(out, 32, "%lld", n);
}

static void pack_name(int k, char out[32]) {
    snprintf(out, 32, "p%d", k);
}

/* ---- saving ---- */

/* One manifest entry being saved. Files get mode, size, mtime and sum from their worker. */
typedef struct sitem {
    char type; /* 'f', 'd', 'l'; 0: skipped (vanished or changed type while saved) */
    mode_t mode;
    long long size, mtime, blob;
    int pack; /* a packed file: its pack (-2 until the pack is named) and offset; -1: tree/<blob> */
    long long off;
    char *rel, *link;
    char sum[33];
} sitem;

/* Files of one source folder, copied by one worker with one folder fd. */
typedef struct sbatch {
    char *dir;
    size_t first, n; /* in saver.files */
} sbatch;

typedef struct saver {
    sitem *items;
    size_t n, cap;
    size_t *files; /* item index of blob k */
    size_t nfiles, fcap;
    sbatch *batches;
    size_t nb, bcap;
    const char *workspace; /* the job's */
    const rn_pathmap *map; /* its shared folders (none: the host) */
    size_t nmap;
    int tree_fd;
    dev_t tree_dev;
    /* Block size of a file system that may clone ranges (XFS, btrfs); 0: copy. Packed files of a
     * block or more then start on a block, so that both ways their blocks are shared. Set to 0
     * (atomic) at the first clone that fails. */
    long clone_bs;
    size_t next; /* next batch (atomic) */
    int rc;      /* first error (atomic) */
    int packs;   /* packs handed out to workers (atomic) */
    char *err;
    pthread_mutex_t lock;
} saver;

static json_t *load_manifest(int dfd, json_t *meta);

/* The item's name relative to the workspace, as the toolkit gives tar (may start with ../). */
static char *relative_to(const char *base, const char *path) {
    char *b = rn_xstrdup(base), *p = rn_xstrdup(path);
    char *bs[256], *ps[256];
    size_t nb = 0, np = 0;
    char *save = NULL;
    for (char *t = strtok_r(b, "/", &save); t && nb < 256; t = strtok_r(NULL, "/", &save))
        if (strcmp(t, "."))
            bs[nb++] = t;
    for (char *t = strtok_r(p, "/", &save); t && np < 256; t = strtok_r(NULL, "/", &save))
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

static sitem *add_item(saver *sv, char type, char *rel, const struct stat *st) {
    if (sv->n == sv->cap)
        sv->items =
            rn_xrealloc(sv->items, (sv->cap = sv->cap ? sv->cap * 2 : 256) * sizeof *sv->items);
    sitem *it = &sv->items[sv->n++];
    memset(it, 0, sizeof *it);
    it->type = type;
    it->rel = rel;
    it->blob = -1;
    it->pack = -1;
    if (st) {
        it->mode = st->st_mode & 07777;
        it->mtime = (long long)st->st_mtim.tv_sec;
    }
    return it;
}

/* A file to copy: its blob number follows the manifest order. */
static void add_file(saver *sv, char *rel, const char *dir, sbatch **cur) {
    sitem *it = add_item(sv, 'f', rel, NULL);
    it->blob = (long long)sv->nfiles;
    if (sv->nfiles == sv->fcap)
        sv->files =
            rn_xrealloc(sv->files, (sv->fcap = sv->fcap ? sv->fcap * 2 : 256) * sizeof *sv->files);
    sv->files[sv->nfiles++] = sv->n - 1;
    if (!*cur || (*cur)->n >= 32 || (*cur)->first + (*cur)->n != sv->nfiles - 1) {
        if (sv->nb == sv->bcap)
            sv->batches = rn_xrealloc(sv->batches, (sv->bcap = sv->bcap ? sv->bcap * 2 : 64) *
                                                       sizeof *sv->batches);
        *cur = &sv->batches[sv->nb++];
        (*cur)->dir = rn_xstrdup(dir);
        (*cur)->first = sv->nfiles - 1;
        (*cur)->n = 0;
    }
    (*cur)->n++;
}

static int cmp_cstr(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void walk(saver *sv, const char *abs, char *rel);

/* A folder's entries, names in byte order (tar's order is the file system's; any fixed order
 * restores the same tree). Regular files are queued for the workers without a stat: they
 * fstat what they open. */
static void walk_dir(saver *sv, const char *abs, const char *rel) {
    DIR *d = opendir(abs);
    if (!d)
        return;
    char **names = NULL;
    size_t n = 0, cap = 0;
    for (struct dirent *e; (e = readdir(d));) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        if (n == cap)
            names = rn_xrealloc(names, (cap = cap ? cap * 2 : 16) * sizeof *names);
        /* the d_type travels in front of the name */
        size_t l = strlen(e->d_name);
        names[n] = rn_xmalloc(l + 2);
        names[n][0] = (char)e->d_type;
        memcpy(names[n] + 1, e->d_name, l + 1);
        n++;
    }
    closedir(d);
    /* sort by name (after the type byte) */
    for (size_t i = 0; i < n; i++)
        names[i]++;
    if (n)
        qsort(names, n, sizeof *names, cmp_cstr);
    sbatch *cur = NULL;
    for (size_t i = 0; i < n; i++) {
        char *name = names[i];
        unsigned char dt = (unsigned char)name[-1];
        char *crel = strcmp(rel, ".") ? rn_xprintf("%s/%s", rel, name) : rn_xstrdup(name);
        if (dt == DT_REG) {
            add_file(sv, crel, abs, &cur);
        } else {
            char *cabs = rn_xprintf("%s/%s", abs, name);
            walk(sv, cabs, crel);
            free(cabs);
            cur = NULL;
        }
        free(name - 1);
    }
    free(names);
}

/* Adds abs (named rel in the manifest; rel is taken) and, for a folder, everything below it. */
static void walk(saver *sv, const char *abs, char *rel) {
    struct stat st;
    if (lstat(abs, &st) != 0) {
        free(rel); /* vanished: tar would warn; skip */
        return;
    }
    if (S_ISREG(st.st_mode)) {
        const char *slash = strrchr(abs, '/');
        char *dir = slash == abs ? rn_xstrdup("/")
                    : slash      ? rn_xstrndup(abs, (size_t)(slash - abs))
                                 : rn_xstrdup(".");
        sbatch *cur = NULL;
        add_file(sv, rel, dir, &cur);
        free(dir);
    } else if (S_ISDIR(st.st_mode)) {
        add_item(sv, 'd', rel, &st);
        walk_dir(sv, abs, rel);
    } else if (S_ISLNK(st.st_mode)) {
        char link[PATH_MAX];
        ssize_t l = readlink(abs, link, sizeof link - 1);
        link[l < 0 ? 0 : l] = 0;
        add_item(sv, 'l', rel, &st)->link = rn_xstrdup(link);
    } else {
        free(rel); /* sockets, fifos, devices: not cached */
    }
}

static void save_fail(saver *sv, char *msg) {
    pthread_mutex_lock(&sv->lock);
    if (!sv->rc) {
        sv->err = msg;
        msg = NULL;
        __atomic_store_n(&sv->rc, -1, __ATOMIC_RELAXED);
    }
    pthread_mutex_unlock(&sv->lock);
    free(msg);
}

/* Opens this thread's pack on first use. 0, or -1 (reported). */
static int pack_open(saver *sv, copier *c) {
    if (c->pack_fd >= 0)
        return 0;
    c->pack = __atomic_fetch_add(&sv->packs, 1, __ATOMIC_RELAXED);
    char name[32];
    pack_name(c->pack, name);
    c->pack_fd = c->pack < MAX_PACKS
                     ? openat(sv->tree_fd, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0444)
                     : -1;
    if (c->pack_fd < 0) {
        save_fail(sv, rn_xprintf("cache: cannot write a pack: %s", strerror(errno)));
        return -1;
    }
    return 0;
}

/* Writes the thread's buffered pack bytes (the pack is created at the first flush). */
static int pack_flush(saver *sv, copier *c) {
    if (!c->fill)
        return 0;
    if (pack_open(sv, c))
        return -1;
    /* at pack_off: a clone does not move the file offset */
    if (lseek(c->pack_fd, c->pack_off, SEEK_SET) < 0 || write_all(c->pack_fd, c->pbuf, c->fill)) {
        save_fail(sv, rn_xprintf("cache: cannot write a pack: %s", strerror(errno)));
        return -1;
    }
    c->pack_off += (long long)c->fill;
    c->fill = 0;
    return 0;
}

/* Reads a small file whole into the pack buffer and hashes it. Returns 0, 1 when it is shorter
 * than its size, -1 when the pack cannot be written (already reported). */
static int pack_file(saver *sv, copier *c, int in, bool same_fs, sitem *it) {
    size_t size = (size_t)it->size;
    if (!c->pbuf)
        c->pbuf = rn_xmalloc(COPY_BUF + CLONE_BS_MAX); /* a file and the padding before it */
    long bs = same_fs ? __atomic_load_n(&sv->clone_bs, __ATOMIC_RELAXED) : 0;
    if (bs && size < (size_t)bs)
        bs = 0;
    size_t pad = bs ? (size_t)((bs - (c->pack_off + (long long)c->fill) % bs) % bs) : 0;
    if (c->fill + pad + size > COPY_BUF) {
        if (pack_flush(sv, c))
            return -1;
        pad = bs ? (size_t)((bs - c->pack_off % bs) % bs) : 0;
    }
    memset(c->pbuf + c->fill, 0, pad);
    c->fill += pad;
    size_t got = 0;
    while (got < size) {
        ssize_t r = read(in, c->pbuf + c->fill + got, size - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return 1;
        got += (size_t)r;
    }
    XXH3_128bits_reset(c->xxh);
    XXH3_128bits_update(c->xxh, c->pbuf + c->fill, size);
    xxh_hex(c->xxh, it->sum);
    it->pack = -2;
    it->off = c->pack_off + (long long)c->fill;
    c->fill += size;
    if (!bs)
        return 0;
    /* Its whole blocks cloned into the pack, at its offset (what precedes is written first);
     * the rest stays buffered. What was hashed is what was read: if the file changed between,
     * the entry's checksum refuses it at restore. */
    long long head = (long long)size / bs * bs;
    size_t before = c->fill - size;
    unsigned char *data = c->pbuf + before;
    c->fill = before;
    if (pack_flush(sv, c) || pack_open(sv, c))
        return -1;
    if (clone_range(c->pack_fd, c->pack_off, in, 0, head)) {
        c->pack_off += head;
        memmove(c->pbuf, data + head, size - (size_t)head);
        c->fill = size - (size_t)head;
    } else { /* not here after all: copy from now on */
        __atomic_store_n(&sv->clone_bs, 0, __ATOMIC_RELAXED);
        memmove(c->pbuf, data, size);
        c->fill = size;
    }
    return 0;
}

static void save_file(saver *sv, copier *c, int dfd, sitem *it) {
    const char *slash = strrchr(it->rel, '/');
    const char *name = slash ? slash + 1 : it->rel;
    int in = dfd < 0 ? -1 : openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC);
    struct stat st;
    if (in < 0 || fstat(in, &st) || !S_ISREG(st.st_mode)) {
        it->type = 0; /* vanished or no longer a file: skipped, as before the walk saw it */
        if (in >= 0)
            close(in);
        return;
    }
    it->mode = st.st_mode & 07777;
    it->size = st.st_size;
    it->mtime = (long long)st.st_mtim.tv_sec;
    if (it->size < PACK_MAX) {
        if (pack_file(sv, c, in, st.st_dev == sv->tree_dev, it) > 0)
            save_fail(sv,
                      rn_xprintf("cache: cannot copy %s: it changed while it was saved", it->rel));
    } else {
        char bname[32];
        blob_name(it->blob, bname);
        int out = openat(sv->tree_fd, bname, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0444);
        /* A clone is hashed by reading what was stored (the source may change meanwhile), cut
         * to the size seen, as a copy would be. */
        int rc = -1;
        struct stat bst;
        if (out >= 0 && clone_whole(out, in))
            rc = fstat(out, &bst) || (bst.st_size > it->size && ftruncate(out, it->size))
                     ? -1
                     : copy_hash(c, out, -1, it->size, true, it->sum);
        else if (out >= 0)
            rc = copy_hash(c, in, out, it->size, false, it->sum);
        if (rc)
            save_fail(sv, rn_xprintf("cache: cannot copy %s: %s", it->rel,
                                     rc > 0 ? "it changed while it was saved" : strerror(errno)));
        if (out >= 0)
            close(out);
    }
    close(in);
}

static void *save_worker(void *arg) {
    saver *sv = arg;
    copier c;
    copier_init(&c);
    /* the files this thread packed: they get its pack's number once it exists */
    size_t *mine = NULL, nmine = 0, cap = 0;
    for (;;) {
        size_t b = __atomic_fetch_add(&sv->next, 1, __ATOMIC_RELAXED);
        if (b >= sv->nb || __atomic_load_n(&sv->rc, __ATOMIC_RELAXED))
            break;
        sbatch *ba = &sv->batches[b];
        int dfd = open(ba->dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
        for (size_t k = 0; k < ba->n && !__atomic_load_n(&sv->rc, __ATOMIC_RELAXED); k++) {
            size_t i = sv->files[ba->first + k];
            save_file(sv, &c, dfd, &sv->items[i]);
            if (sv->items[i].pack == -2) {
                if (nmine == cap)
                    mine = rn_xrealloc(mine, (cap = cap ? cap * 2 : 256) * sizeof *mine);
                mine[nmine++] = i;
            }
        }
        if (dfd >= 0)
            close(dfd);
    }
    if (!__atomic_load_n(&sv->rc, __ATOMIC_RELAXED) && pack_flush(sv, &c) == 0)
        for (size_t k = 0; k < nmine; k++)
            sv->items[mine[k]].pack = c.pack;
    free(mine);
    copier_free(&c);
    return NULL;
}

static void saver_free(saver *sv) {
    for (size_t i = 0; i < sv->n; i++) {
        free(sv->items[i].rel);
        free(sv->items[i].link);
    }
    for (size_t i = 0; i < sv->nb; i++)
        free(sv->batches[i].dir);
    free(sv->items);
    free(sv->files);
    free(sv->batches);
    free(sv->err);
    pthread_mutex_destroy(&sv->lock);
}

/* Walks the items, copies their files (each hashed as it is written) on worker threads and
 * returns the manifest, or NULL (*err). Blob numbers close the gaps of skipped files. */
static json_t *save_files(saver *sv, const char *const *items, size_t n, long long *unpacked,
                          long long *nfiles, char **err) {
    for (size_t i = 0; i < n; i++) {
        char *inner = sv->nmap ? rn_pathmap_inner(sv->map, sv->nmap, items[i]) : NULL;
        if (sv->nmap && !inner) {
            *err = rn_xprintf("cache: %s is not in a folder the job shares with runnel", items[i]);
            return NULL;
        }
        walk(sv, items[i], relative_to(sv->workspace, inner ? inner : items[i]));
        free(inner);
    }
    run_workers(save_worker, sv, worker_count(sv->nfiles));
    if (sv->rc) {
        *err = sv->err;
        sv->err = NULL;
        return NULL;
    }
    json_t *man = json_array();
    long long blob = 0;
    *unpacked = 0;
    for (size_t i = 0; i < sv->n; i++) {
        sitem *it = &sv->items[i];
        if (!it->type)
            continue;
        if (it->type == 'f') {
            if (it->pack < 0 && it->blob != blob) {
                char from[32], to[32];
                blob_name(it->blob, from);
                blob_name(blob, to);
                if (renameat(sv->tree_fd, from, sv->tree_fd, to)) {
                    *err = rn_xprintf("cache: cannot rename a stored file: %s", strerror(errno));
                    json_decref(man);
                    return NULL;
                }
            }
            blob++;
            *unpacked += it->size;
        }
        char tstr[2] = {it->type, 0};
        json_t *e = json_pack("[s,i,I,I,s,s,s]", tstr, (int)it->mode, (json_int_t)it->size,
                              (json_int_t)it->mtime, it->rel, it->link ? it->link : "", it->sum);
        if (it->type == 'f' && it->pack >= 0) {
            json_array_append_new(e, json_integer(it->pack));
            json_array_append_new(e, json_integer(it->off));
        }
        json_array_append_new(man, e);
    }
    *nfiles = blob;
    return man;
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
                  const char *workspace, const rn_pathmap *map, size_t nmap,
                  const char *const *items, size_t n, char **err) {
    if (entry_exists(s, scope, key, version))
        return 1;
    char *tmpdir = rn_cache_tmpname(s, "save");
    char *treedir = rn_xprintf("%s/tree", tmpdir);
    int rc = -1;
    saver sv = {0};
    sv.tree_fd = -1;
    pthread_mutex_init(&sv.lock, NULL);
    json_t *man = NULL;
    long long unpacked = 0, nfiles = 0;
    if (mkdir(tmpdir, 0755) || mkdir(treedir, 0755)) {
        *err = rn_xprintf("cache: cannot create %s: %s", tmpdir, strerror(errno));
        goto out;
    }
    sv.tree_fd = open(treedir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    struct stat tst;
    if (sv.tree_fd < 0 || fstat(sv.tree_fd, &tst)) {
        *err = rn_xprintf("cache: cannot write in %s: %s", tmpdir, strerror(errno));
        goto out;
    }
    sv.tree_dev = tst.st_dev;
    sv.clone_bs = clone_block_size(sv.tree_fd);
    sv.workspace = workspace;
    sv.map = map;
    sv.nmap = nmap;
    man = save_files(&sv, items, n, &unpacked, &nfiles, err);
    if (!man)
        goto out;
    unsigned char d[32];
    char *mtext = json_dumps(man, JSON_COMPACT);
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
    json_object_set_new(meta, "unpacked_size", json_integer(unpacked));
    json_object_set_new(meta, "files", json_integer(nfiles));
    json_object_set_new(meta, "compression", json_string(RN_CACHE_COMPRESSION));
    rc = publish(s, tmpdir, meta, scope, key, version, err);
    json_decref(meta);
out:
    if (sv.tree_fd >= 0)
        close(sv.tree_fd);
    json_decref(man);
    saver_free(&sv);
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

/* Creates path's missing folders; *made gets the highest one created (NULL if none). */
static int mkdir_p_made(const char *path, char **made) {
    *made = NULL;
    char *p = rn_xstrdup(path);
    int rc = 0;
    for (char *s = p + 1;; s++) {
        if (*s && *s != '/')
            continue;
        char c = *s;
        *s = 0;
        if (mkdir(p, 0755) == 0) {
            if (!*made)
                *made = rn_xstrdup(p);
        } else if (errno != EEXIST) {
            rc = -1;
        }
        *s = c;
        if (!c || rc)
            break;
    }
    free(p);
    return rc;
}

/* Removes the empty folders mkdir_p_made created for path (another restore may have filled
 * them since: those stay). */
static void unmake(const char *path, const char *made) {
    if (!made)
        return;
    char *p = rn_xstrdup(path);
    size_t ml = strlen(made);
    while (strlen(p) >= ml && rmdir(p) == 0) {
        char *slash = strrchr(p, '/');
        if (!slash || strlen(p) == ml)
            break;
        *slash = 0;
    }
    free(p);
}

/* One manifest entry being restored (strings point into the manifest). */
typedef struct ritem {
    char type;
    mode_t mode;
    long long size, mtime, blob;
    int pack; /* a packed file: its pack and offset; -1: tree/<blob> */
    long long off;
    const char *rel, *link, *sum;
    char *staged; /* where it is built */
    size_t top;
} ritem;

/* A saved path of the entry. It is built in a hidden staging folder next to its destination
 * (inside the destination when that is an existing folder: then it is merged into it), and moved
 * into place once every file was copied and checked, so nothing is restored half-way. */
typedef struct rtop {
    const char *rel;
    char *dst, *staging, *staged, *made;
    bool merge;  /* dst is an existing folder: staged inside it, merged into it */
    bool merged; /* something was merged into an existing folder: set every folder's mode */
} rtop;

/* Files with the same staged folder, copied by one worker with one folder fd. */
typedef struct rbatch {
    size_t first, n; /* in restorer.files */
} rbatch;

typedef struct restorer {
    ritem *items;
    size_t n;
    size_t *files;
    size_t nfiles;
    rbatch *batches;
    size_t nb;
    const char *workspace;
    int tfd;
    long clone_bs; /* as saver.clone_bs: packed files on a block are cloned (atomic) */
    mode_t umask;
    size_t next; /* next batch (atomic) */
    int rc;      /* first failure (atomic): 1 corrupt entry, -1 write error */
    char *err;
    pthread_mutex_t lock;
} restorer;

static void restore_fail(restorer *r, int rc, char *msg) {
    pthread_mutex_lock(&r->lock);
    if (!r->rc) {
        r->err = msg;
        msg = NULL;
        __atomic_store_n(&r->rc, rc, __ATOMIC_RELAXED);
    }
    pthread_mutex_unlock(&r->lock);
    free(msg);
}

/* Copies one stored file into its staged place, checking its size and checksum on the way. */
static void restore_file(restorer *r, copier *c, int dfd, const ritem *it) {
    char bname[32];
    int in;
    if (it->pack >= 0) {
        if (c->packs[it->pack] < 0) {
            pack_name(it->pack, bname);
            c->packs[it->pack] = openat(r->tfd, bname, O_RDONLY | O_CLOEXEC);
        }
        in = c->packs[it->pack];
    } else {
        blob_name(it->blob, bname);
        in = openat(r->tfd, bname, O_RDONLY | O_CLOEXEC);
    }
    if (in < 0) {
        restore_fail(r, 1, NULL);
        return;
    }
    /* created with its mode (writable through this fd whatever the mode); a second copy of a
     * path (overlapping saved paths) replaces the first */
    const char *slash = strrchr(it->staged, '/');
    const char *name = slash ? slash + 1 : it->staged;
    bool chmod_needed = (it->mode & ~r->umask) != it->mode || (it->mode & 07000);
    int out = dfd < 0 ? -1 : openat(dfd, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, it->mode);
    if (out < 0 && errno == EEXIST) {
        out = openat(dfd, name, O_WRONLY | O_TRUNC | O_CLOEXEC);
        chmod_needed = true;
    }
    char sum[33];
    /* A packed file on a block has its whole blocks cloned (a file system that shares extents
     * and the same one as the destination); a blob is cloned whole. Either way it is still
     * checked against its checksum, by reading the entry. */
    long bs = __atomic_load_n(&r->clone_bs, __ATOMIC_RELAXED);
    long long cloned = 0;
    if (out >= 0 && it->pack >= 0 && bs && it->size >= bs && it->off % bs == 0) {
        cloned = it->size / bs * bs;
        if (!clone_range(out, 0, in, it->off, cloned)) {
            __atomic_store_n(&r->clone_bs, 0, __ATOMIC_RELAXED);
            cloned = 0;
        }
    }
    int rc = out < 0                ? -1
             : it->pack >= 0        ? copy_hash_at(c, in, it->off, out, it->size, cloned, sum)
             : clone_whole(out, in) ? copy_hash(c, in, -1, it->size, true, sum)
                                    : copy_hash(c, in, out, it->size, true, sum);
    int e = errno;
    if (rc == 0 && it->sum && *it->sum && strcmp(sum, it->sum))
        rc = 1;
    if (rc < 0) {
        restore_fail(
            r, -1, rn_xprintf("cache: cannot write %s/%s: %s", r->workspace, it->rel, strerror(e)));
    } else if (rc > 0) {
        restore_fail(r, 1, NULL);
    } else {
        struct timespec ts[2] = {{(time_t)it->mtime, 0}, {(time_t)it->mtime, 0}};
        if (chmod_needed)
            fchmod(out, it->mode);
        futimens(out, ts);
    }
    if (out >= 0)
        close(out);
    if (it->pack < 0)
        close(in);
}

/* Folders of one depth, made on worker threads (inode creation is most of a folder's cost). */
typedef struct mkjob {
    restorer *r;
    const size_t *idx; /* items */
    size_t n, next;    /* next (atomic) */
} mkjob;

static void *mkdir_worker(void *arg) {
    mkjob *j = arg;
    for (;;) {
        size_t k = __atomic_fetch_add(&j->next, 1, __ATOMIC_RELAXED);
        if (k >= j->n || __atomic_load_n(&j->r->rc, __ATOMIC_RELAXED))
            break;
        const ritem *ri = &j->r->items[j->idx[k]];
        if (mkdir(ri->staged, ri->mode | 0700) && errno != EEXIST)
            restore_fail(j->r, -1,
                         rn_xprintf("cache: cannot create %s/%s: %s", j->r->workspace, ri->rel,
                                    strerror(errno)));
    }
    return NULL;
}

typedef struct depth_idx {
    size_t depth, idx;
} depth_idx;

static int cmp_depth(const void *a, const void *b) {
    const depth_idx *x = a, *y = b;
    if (x->depth != y->depth)
        return x->depth < y->depth ? -1 : 1;
    return x->idx < y->idx ? -1 : x->idx > y->idx;
}

/* Makes the staged folders idx[0..n), parents first: one depth at a time, each in parallel. */
static void make_dirs(restorer *r, const size_t *idx, size_t n) {
    depth_idx *v = rn_xmalloc((n + 1) * sizeof *v);
    for (size_t k = 0; k < n; k++) {
        size_t d = 0;
        for (const char *c = r->items[idx[k]].staged; *c; c++)
            d += *c == '/';
        v[k] = (depth_idx){d, idx[k]};
    }
    if (n)
        qsort(v, n, sizeof *v, cmp_depth);
    size_t *level = rn_xmalloc((n + 1) * sizeof *level);
    for (size_t a = 0; a < n && !r->rc;) {
        size_t b = a;
        while (b < n && v[b].depth == v[a].depth) {
            level[b - a] = v[b].idx;
            b++;
        }
        mkjob j = {r, level, b - a, 0};
        run_workers(mkdir_worker, &j, worker_count(b - a));
        a = b;
    }
    free(level);
    free(v);
}

/* The process's umask, without changing it (other threads may be creating files). */
static mode_t current_umask(void) {
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    unsigned m = 0777; /* unknown: always set modes */
    while (f && fgets(line, sizeof line, f))
        if (sscanf(line, "Umask: %o", &m) == 1)
            break;
    if (f)
        fclose(f);
    return (mode_t)m;
}

static void *restore_worker(void *arg) {
    restorer *r = arg;
    copier c;
    copier_init(&c);
    for (;;) {
        size_t b = __atomic_fetch_add(&r->next, 1, __ATOMIC_RELAXED);
        if (b >= r->nb || __atomic_load_n(&r->rc, __ATOMIC_RELAXED))
            break;
        const rbatch *ba = &r->batches[b];
        const ritem *first = &r->items[r->files[ba->first]];
        char *dir =
            rn_xstrndup(first->staged, (size_t)(strrchr(first->staged, '/') - first->staged));
        int dfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0)
            restore_fail(r, -1, rn_xprintf("cache: cannot open %s: %s", dir, strerror(errno)));
        free(dir);
        for (size_t k = 0; k < ba->n && dfd >= 0 && !__atomic_load_n(&r->rc, __ATOMIC_RELAXED); k++)
            restore_file(r, &c, dfd, &r->items[r->files[ba->first + k]]);
        if (dfd >= 0)
            close(dfd);
    }
    copier_free(&c);
    return NULL;
}

/* Is rel inside (or equal to) the saved path top? */
static bool under(const char *top, const char *rel) {
    if (!strcmp(top, "."))
        return strcmp(rel, "..") && strncmp(rel, "../", 3);
    size_t l = strlen(top);
    return !strncmp(rel, top, l) && (!rel[l] || rel[l] == '/');
}

static int place(const char *src, const char *dst, bool *merged);

/* Moves every entry of folder src into folder dst (tar's overwrite: files replace files,
 * folders merge, other files stay). */
static int merge_dir(const char *src, const char *dst, bool *merged) {
    DIR *d = opendir(src);
    if (!d)
        return -1;
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
    int rc = 0;
    for (size_t i = 0; i < n; i++) {
        if (rc == 0) {
            char *s = rn_xprintf("%s/%s", src, names[i]), *t = rn_xprintf("%s/%s", dst, names[i]);
            rc = place(s, t, merged);
            free(s);
            free(t);
        }
        free(names[i]);
    }
    free(names);
    return rc;
}

/* Moves src to dst: one rename when dst is free, else as merge_dir. */
static int place(const char *src, const char *dst, bool *merged) {
    if (renameat2(AT_FDCWD, src, AT_FDCWD, dst, RENAME_NOREPLACE) == 0)
        return 0;
    *merged = true;
    if (errno != EEXIST && errno != EINVAL && errno != ENOSYS)
        return -1;
    struct stat ss, ds;
    if (lstat(src, &ss))
        return -1;
    if (lstat(dst, &ds))
        return rename(src, dst);
    if (S_ISDIR(ss.st_mode) && S_ISDIR(ds.st_mode)) {
        if (merge_dir(src, dst, merged))
            return -1;
        rmdir(src);
        return 0;
    }
    if (S_ISDIR(ds.st_mode))
        rm_rf(dst);
    else if (S_ISDIR(ss.st_mode))
        unlink(dst);
    return rename(src, dst);
}

static char *staging_name(const char *dir) {
    unsigned char rnd[6];
    if (getrandom(rnd, sizeof rnd, 0) != (ssize_t)sizeof rnd)
        memset(rnd, 0, sizeof rnd);
    char h[13];
    hex(rnd, sizeof rnd, h);
    return rn_xprintf("%s/.runnel-restore.%d.%s", dir, (int)getpid(), h);
}

/* Removes staging folders in DIR that a killed restore left (their pid is gone), so a crash
 * mid-restore leaves no junk that a later save would pick up. */
static void remove_stale_staging(const char *dir) {
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *de;
    while ((de = readdir(d))) {
        char *end;
        if (strncmp(de->d_name, ".runnel-restore.", 16))
            continue;
        long pid = strtol(de->d_name + 16, &end, 10);
        if (end == de->d_name + 16 || *end != '.' || pid <= 0 || pid > INT_MAX)
            continue;
        if (kill((pid_t)pid, 0) == 0 || errno != ESRCH)
            continue; /* that restore may still be running */
        rm_rf_at(dirfd(d), de->d_name);
    }
    closedir(d);
}

/* Where name rel goes on this machine: workspace/rel on the host (the kernel resolves `..` as
 * tar -C would); for a container job the job's path, through its shared folders. NULL (*err)
 * when that is outside them. */
static char *target(const char *workspace, const rn_pathmap *map, size_t nmap, const char *rel,
                    char **err) {
    char *inner = strcmp(rel, ".") ? rn_xprintf("%s/%s", workspace, rel) : rn_xstrdup(workspace);
    if (!nmap)
        return inner;
    char *outer = rn_pathmap_outer(map, nmap, inner);
    if (!outer && err) {
        char *shown = rn_path_normalize(inner);
        *err = rn_xprintf("cache: %s is not in a folder the job shares with runnel", shown);
        free(shown);
    }
    free(inner);
    return outer;
}

/* Sets up where top t is built. Returns 0 or -1 (*err). */
static int stage_top(rtop *t, char type, const char *workspace, const rn_pathmap *map, size_t nmap,
                     char **err) {
    t->dst = target(workspace, map, nmap, t->rel, err);
    if (!t->dst)
        return -1;
    struct stat st;
    if (type == 'd' && lstat(t->dst, &st) == 0 && S_ISDIR(st.st_mode)) {
        t->merge = true;
        t->staging = staging_name(t->dst);
        t->staged = rn_xstrdup(t->staging);
    } else {
        const char *slash = strrchr(t->dst, '/');
        char *parent = slash == t->dst ? rn_xstrdup("/")
                       : slash         ? rn_xstrndup(t->dst, (size_t)(slash - t->dst))
                                       : rn_xstrdup(".");
        if (mkdir_p_made(parent, &t->made)) {
            *err = rn_xprintf("cache: cannot create the folder of %s: %s", t->dst, strerror(errno));
            free(parent);
            return -1;
        }
        t->staging = staging_name(parent);
        t->staged = rn_xprintf("%s/%s", t->staging, slash ? slash + 1 : t->dst);
        free(parent);
    }
    char *staging_dir = rn_xstrndup(t->staging, (size_t)(strrchr(t->staging, '/') - t->staging));
    remove_stale_staging(staging_dir);
    free(staging_dir);
    if (mkdir(t->staging, 0700)) {
        *err = rn_xprintf("cache: cannot create %s: %s", t->staging, strerror(errno));
        free(t->staging);
        t->staging = NULL;
        return -1;
    }
    return 0;
}

static int restore_tree(int dfd, json_t *meta, const char *workspace, const rn_pathmap *map,
                        size_t nmap, char **err) {
    json_t *man = load_manifest(dfd, meta);
    if (!man)
        return 1;
    int tfd = openat(dfd, "tree", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (tfd < 0) {
        json_decref(man);
        return 1;
    }
    size_t n = json_array_size(man);
    restorer r = {0};
    r.items = rn_xcalloc(n + 1, sizeof *r.items);
    r.files = rn_xcalloc(n + 1, sizeof *r.files);
    r.batches = rn_xcalloc(n + 1, sizeof *r.batches);
    r.n = n;
    r.workspace = workspace;
    r.tfd = tfd;
    r.clone_bs = clone_block_size(tfd);
    r.umask = current_umask();
    pthread_mutex_init(&r.lock, NULL);
    rtop *tops = rn_xcalloc(n + 1, sizeof *tops);
    size_t ntops = 0;
    int rc = 0;
    long long nb = 0;
    /* the entries, each in a saved path (a top) */
    for (size_t i = 0; i < n && rc == 0; i++) {
        json_t *it = json_array_get(man, i);
        ritem *ri = &r.items[i];
        const char *type = json_string_value(json_array_get(it, 0));
        ri->rel = json_string_value(json_array_get(it, 4));
        if (!type || !ri->rel || !strchr("fdl", type[0]) || !type[0]) {
            rc = 1;
            break;
        }
        ri->type = type[0];
        ri->mode = (mode_t)json_integer_value(json_array_get(it, 1)) & 07777;
        ri->size = json_integer_value(json_array_get(it, 2));
        ri->mtime = json_integer_value(json_array_get(it, 3));
        ri->link = json_string_value(json_array_get(it, 5));
        ri->sum = json_string_value(json_array_get(it, 6));
        ri->blob = ri->type == 'f' ? nb++ : -1;
        ri->pack = -1;
        if (ri->type == 'f' && json_array_size(it) >= 9) {
            json_int_t pk = json_integer_value(json_array_get(it, 7));
            ri->off = json_integer_value(json_array_get(it, 8));
            if (pk < 0 || pk >= MAX_PACKS || ri->off < 0) {
                rc = 1;
                break;
            }
            ri->pack = (int)pk;
        }
        if (!ntops || !under(tops[ntops - 1].rel, ri->rel)) {
            tops[ntops].rel = ri->rel;
            rc = stage_top(&tops[ntops++], ri->type, workspace, map, nmap, err) ? -1 : 0;
        }
        ri->top = ntops - 1;
    }
    /* staged places; folders, then links, then files */
    size_t *dirs = rn_xmalloc((n + 1) * sizeof *dirs), ndirs = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        ritem *ri = &r.items[i];
        const rtop *t = &tops[ri->top];
        if (!strcmp(ri->rel, t->rel))
            ri->staged = rn_xstrdup(t->staged);
        else
            ri->staged = rn_xprintf("%s/%s", t->staged,
                                    strcmp(t->rel, ".") ? ri->rel + strlen(t->rel) + 1 : ri->rel);
        if (ri->type == 'd' && !(t->merge && !strcmp(ri->staged, t->staging))) {
            dirs[ndirs++] = i;
        } else if (ri->type == 'f') {
            /* batches: consecutive files of one staged folder, at most 32 */
            rbatch *b = r.nb ? &r.batches[r.nb - 1] : NULL;
            const ritem *prev = r.nfiles ? &r.items[r.files[r.nfiles - 1]] : NULL;
            size_t dl = (size_t)(strrchr(ri->staged, '/') - ri->staged);
            bool same = b && b->first + b->n == r.nfiles && b->n < 32 &&
                        !strncmp(prev->staged, ri->staged, dl) && prev->staged[dl] == '/' &&
                        !strchr(prev->staged + dl + 1, '/');
            if (!same) {
                b = &r.batches[r.nb++];
                b->first = r.nfiles;
                b->n = 0;
            }
            b->n++;
            r.files[r.nfiles++] = i;
        }
    }
    if (rc == 0) {
        make_dirs(&r, dirs, ndirs);
        rc = r.rc;
        if (rc) {
            *err = r.err;
            r.err = NULL;
        }
    }
    free(dirs);
    for (size_t i = 0; i < n && rc == 0; i++) {
        ritem *ri = &r.items[i];
        if (ri->type == 'l') {
            const char *target = ri->link ? ri->link : "";
            int s = symlink(target, ri->staged);
            if (s && errno == EEXIST) {
                unlink(ri->staged);
                s = symlink(target, ri->staged);
            }
            if (s) {
                *err = rn_xprintf("cache: cannot create link %s/%s: %s", workspace, ri->rel,
                                  strerror(errno));
                rc = -1;
            }
        }
    }
    /* files: copied and checked on worker threads */
    if (rc == 0 && r.nfiles) {
        run_workers(restore_worker, &r, worker_count(r.nfiles));
        rc = r.rc;
        if (rc < 0) {
            *err = r.err;
            r.err = NULL;
        }
    }
    /* into place */
    for (size_t k = 0; k < ntops && rc == 0; k++) {
        rtop *t = &tops[k];
        t->merged = t->merge;
        if (t->merge ? merge_dir(t->staging, t->dst, &t->merged)
                     : place(t->staged, t->dst, &t->merged)) {
            *err = rn_xprintf("cache: cannot move %s into place: %s", t->dst, strerror(errno));
            rc = -1;
        }
    }
    /* the staging folders (empty after a restore; everything after a miss) */
    for (size_t k = 0; k < ntops; k++)
        if (tops[k].staging)
            rm_rf(tops[k].staging);
    /* folder modes and times last (deepest first), after their content */
    for (size_t i = n; i-- > 0 && rc == 0;) {
        const ritem *ri = &r.items[i];
        if (ri->type != 'd')
            continue;
        char *dst = target(workspace, map, nmap, ri->rel, NULL);
        if (!dst)
            continue; /* its top was refused */
        struct timespec ts[2] = {{(time_t)ri->mtime, 0}, {(time_t)ri->mtime, 0}};
        if (tops[ri->top].merged || ((ri->mode | 0700) & ~r.umask) != ri->mode)
            chmod(dst, ri->mode);
        utimensat(AT_FDCWD, dst, ts, AT_SYMLINK_NOFOLLOW);
        free(dst);
    }
    for (size_t k = 0; k < ntops; k++) {
        rtop *t = &tops[k];
        if (rc && t->dst) {
            const char *slash = strrchr(t->dst, '/');
            char *parent = slash ? rn_xstrndup(t->dst, (size_t)(slash - t->dst)) : NULL;
            if (parent)
                unmake(parent, t->made);
            free(parent);
        }
        free(t->dst);
        free(t->staging);
        free(t->staged);
        free(t->made);
    }
    for (size_t i = 0; i < n; i++)
        free(r.items[i].staged);
    free(tops);
    free(r.items);
    free(r.files);
    free(r.batches);
    free(r.err);
    pthread_mutex_destroy(&r.lock);
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
    int packs[MAX_PACKS];
    for (int k = 0; k < MAX_PACKS; k++)
        packs[k] = -1;
    XXH3_state_t *xxh = XXH3_createState();
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
        /* a file's bytes: tree/<n>, or a range of a pack; checked against its checksum */
        int in = -1;
        long long off = 0;
        json_int_t pk = json_array_size(it) >= 9 ? json_integer_value(json_array_get(it, 7)) : -1;
        if (type == 'f' && pk >= 0 && pk < MAX_PACKS) {
            off = json_integer_value(json_array_get(it, 8));
            if (packs[pk] < 0) {
                char name[32];
                pack_name((int)pk, name);
                packs[pk] = openat(tfd, name, O_RDONLY | O_CLOEXEC);
            }
            in = packs[pk];
            blob++;
        } else if (type == 'f') {
            char name[32];
            blob_name(blob++, name);
            in = openat(tfd, name, O_RDONLY | O_CLOEXEC);
            pk = -1;
        }
        if (type == 'f' && in < 0)
            rc = -1;
        if (rc == 0 && archive_write_header(ar, ae) != ARCHIVE_OK)
            rc = -1;
        XXH3_128bits_reset(xxh);
        for (long long done = 0; rc == 0 && done < size;) {
            size_t want = size - done < (1 << 20) ? (size_t)(size - done) : (1 << 20);
            ssize_t r = pread(in, buf, want, (off_t)(off + done));
            if (r <= 0 || archive_write_data(ar, buf, (size_t)r) != r)
                rc = -1;
            else
                XXH3_128bits_update(xxh, buf, (size_t)r);
            done += r;
        }
        const char *want = json_string_value(json_array_get(it, 6));
        if (rc == 0 && type == 'f' && want && *want) {
            char sum[33];
            xxh_hex(xxh, sum);
            if (strcmp(sum, want))
                rc = -1; /* a corrupt unpacked copy makes no archive */
        }
        if (in >= 0 && pk < 0)
            close(in);
        archive_entry_free(ae);
    }
    for (int k = 0; k < MAX_PACKS; k++)
        if (packs[k] >= 0)
            close(packs[k]);
    XXH3_freeState(xxh);
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
static int extract_archive(int fd, const char *workspace, const rn_pathmap *map, size_t nmap,
                           char **err) {
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
        char *p = target(workspace, map, nmap, archive_entry_pathname(e), err);
        char *h = !p || !archive_entry_hardlink(e)
                      ? NULL
                      : target(workspace, map, nmap, archive_entry_hardlink(e), err);
        if (!p || (archive_entry_hardlink(e) && !h)) {
            free(p);
            rc = -1;
            break;
        }
        archive_entry_copy_pathname(e, p);
        free(p);
        if (h)
            archive_entry_copy_hardlink(e, h);
        free(h);
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
                     const rn_pathmap *map, size_t nmap, char **err) {
    json_t *meta = NULL;
    int dfd = open_locked(s, e->id, &meta);
    if (dfd < 0)
        return 1;
    int rc;
    if (json_is_string(json_object_get(meta, "manifest_sha256"))) {
        rc = restore_tree(dfd, meta, workspace, map, nmap, err);
    } else {
        int afd = verify_archive(dfd, meta);
        rc = afd < 0 ? 1 : extract_archive(afd, workspace, map, nmap, err);
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
