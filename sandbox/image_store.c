/* Image store: blobs, locks, index.json, get/list/remove/prune/inspect. */
#include "common/arena.h"
#include "common/strbuf.h"
#include "sandbox/image_int.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

void rn_img_seterr(char **err, const char *fmt, ...) {
    if (!err)
        return;
    va_list ap;
    va_start(ap, fmt);
    rn_sb sb = RN_SB_INIT;
    rn_sb_vprintf(&sb, fmt, ap);
    va_end(ap);
    free(*err);
    *err = rn_sb_take(&sb);
}

bool rn_img_digest_valid(const char *d) {
    if (!d || strncmp(d, "sha256:", 7) || strlen(d) != 71)
        return false;
    for (const char *p = d + 7; *p; p++)
        if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
            return false;
    return true;
}

char *rn_img_sha256_final(EVP_MD_CTX *ctx) {
    unsigned char md[32];
    unsigned int n = 0;
    EVP_DigestFinal_ex(ctx, md, &n);
    EVP_MD_CTX_free(ctx);
    char *out = rn_xmalloc(7 + 64 + 1);
    memcpy(out, "sha256:", 7);
    for (unsigned i = 0; i < 32; i++)
        snprintf(out + 7 + 2 * i, 3, "%02x", md[i]);
    return out;
}

char *rn_img_sha256_mem(const void *data, size_t len) {
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    EVP_DigestInit_ex(ctx, EVP_sha256(), NULL);
    EVP_DigestUpdate(ctx, data, len);
    return rn_img_sha256_final(ctx);
}

char *rn_img_sha256_file(const char *path, char **err) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        rn_img_seterr(err, "%s: %s", path, strerror(errno));
        return NULL;
    }
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    EVP_DigestInit_ex(ctx, EVP_sha256(), NULL);
    static __thread char buf[1 << 16];
    ssize_t n;
    while ((n = read(fd, buf, sizeof buf)) > 0)
        EVP_DigestUpdate(ctx, buf, (size_t)n);
    int e = errno;
    close(fd);
    if (n < 0) {
        EVP_MD_CTX_free(ctx);
        rn_img_seterr(err, "%s: %s", path, strerror(e));
        return NULL;
    }
    return rn_img_sha256_final(ctx);
}

int rn_img_mkdirs(const char *path, mode_t mode) {
    char *p = rn_xstrdup(path);
    for (char *s = p + 1; *s; s++) {
        if (*s != '/')
            continue;
        *s = 0;
        if (mkdir(p, mode) && errno != EEXIST) {
            free(p);
            return -1;
        }
        *s = '/';
    }
    int rc = mkdir(p, mode) && errno != EEXIST ? -1 : 0;
    free(p);
    return rc;
}

/* Layer dirs may hold read-only dirs (extracted modes), so make each writable before emptying
 * it; never follows symlinks. */
int rn_img_rm_rf(const char *path) {
    struct stat sb;
    if (lstat(path, &sb))
        return errno == ENOENT ? 0 : -1;
    if (!S_ISDIR(sb.st_mode))
        return unlink(path);
    if ((sb.st_mode & 0700) != 0700)
        chmod(path, sb.st_mode | 0700);
    DIR *d = opendir(path);
    if (!d)
        return -1;
    struct dirent *e;
    int rc = 0;
    while ((e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        char *sub = rn_xprintf("%s/%s", path, e->d_name);
        if (rn_img_rm_rf(sub))
            rc = -1;
        free(sub);
    }
    closedir(d);
    if (rmdir(path))
        rc = -1;
    return rc;
}

int rn_img_write_file_atomic(const char *path, const void *data, size_t len) {
    char *tmp = rn_xprintf("%s.tmp.%ld", path, (long)getpid());
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        free(tmp);
        return -1;
    }
    const char *p = data;
    size_t left = len;
    while (left) {
        ssize_t n = write(fd, p, left);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            close(fd);
            unlink(tmp);
            free(tmp);
            return -1;
        }
        p += n, left -= (size_t)n;
    }
    if (fsync(fd) || close(fd) || rename(tmp, path)) {
        unlink(tmp);
        free(tmp);
        return -1;
    }
    free(tmp);
    return 0;
}

long long rn_img_abort_after(void) {
    const char *s = getenv("RUNNEL_IMAGE_ABORT_AFTER");
    return s && *s ? atoll(s) : -1;
}

/* ---- store ---- */

char *rn_image_store_default_root(void) {
    const char *h = getenv("RUNNEL_HOME");
    if (h && *h)
        return rn_xstrdup(h);
    const char *x = getenv("XDG_DATA_HOME");
    if (x && *x)
        return rn_xprintf("%s/runnel", x);
    const char *home = getenv("HOME");
    return rn_xprintf("%s/.local/share/runnel", home && *home ? home : "/root");
}

rn_image_store *rn_image_store_open(const char *root, char **err) {
    char *r;
    if (root) {
        r = rn_xstrdup(root);
    } else {
        char *base = rn_image_store_default_root();
        r = rn_xprintf("%s/images", base);
        free(base);
    }
    const char *subs[] = {"", "/blobs/sha256", "/layers/sha256", "/tmp"};
    for (size_t i = 0; i < sizeof subs / sizeof subs[0]; i++) {
        char *p = rn_xprintf("%s%s", r, subs[i]);
        if (rn_img_mkdirs(p, 0755)) {
            rn_img_seterr(err, "cannot create %s: %s", p, strerror(errno));
            free(p);
            free(r);
            return NULL;
        }
        free(p);
    }
    rn_image_store *st = rn_xcalloc(1, sizeof *st);
    st->root = r;
    /* The overlay xattr namespace is fixed at creation: root writes trusted.overlay.*, anyone
     * else can only write user.overlay.* (and must mount with userxattr). */
    char *meta = rn_xprintf("%s/store.json", r);
    json_t *j = json_load_file(meta, 0, NULL);
    const char *ns = j ? json_string_value(json_object_get(j, "overlay_xattr")) : NULL;
    if (ns && !strcmp(ns, "user"))
        st->xattr_ns = "user";
    else if (ns && !strcmp(ns, "trusted"))
        st->xattr_ns = "trusted";
    else {
        st->xattr_ns = geteuid() == 0 ? "trusted" : "user";
        char *txt = rn_xprintf("{\"version\": 1, \"overlay_xattr\": \"%s\"}\n", st->xattr_ns);
        int lk = rn_img_gc_lock(st, false);
        json_t *again = json_load_file(meta, 0, NULL);
        if (!again)
            rn_img_write_file_atomic(meta, txt, strlen(txt));
        else {
            const char *n2 = json_string_value(json_object_get(again, "overlay_xattr"));
            st->xattr_ns = n2 && !strcmp(n2, "user") ? "user" : "trusted";
            json_decref(again);
        }
        if (lk >= 0)
            close(lk);
        free(txt);
    }
    json_decref(j);
    free(meta);
    return st;
}

void rn_image_store_close(rn_image_store *st) {
    if (!st)
        return;
    free(st->root);
    free(st);
}

const char *rn_image_store_root(const rn_image_store *st) {
    return st->root;
}

char *rn_img_blob_path(const rn_image_store *st, const char *digest) {
    return rn_xprintf("%s/blobs/sha256/%s", st->root, digest + 7);
}

char *rn_img_layer_path(const rn_image_store *st, const char *digest) {
    return rn_xprintf("%s/layers/sha256/%s", st->root, digest + 7);
}

bool rn_img_blob_exists(const rn_image_store *st, const char *digest) {
    char *p = rn_img_blob_path(st, digest);
    bool ok = access(p, F_OK) == 0;
    free(p);
    return ok;
}

char *rn_img_tmp_path(const rn_image_store *st, const char *what) {
    static unsigned long counter;
    return rn_xprintf("%s/tmp/%s.%ld.%lu", st->root, what, (long)getpid(),
                      __atomic_add_fetch(&counter, 1, __ATOMIC_RELAXED));
}

int rn_img_blob_put_mem(rn_image_store *st, const void *data, size_t len, const char *expect,
                        char **err) {
    char *d = rn_img_sha256_mem(data, len);
    if (expect && strcmp(d, expect)) {
        rn_img_seterr(err, "digest mismatch: expected %s, got %s", expect, d);
        free(d);
        return -1;
    }
    int rc = 0;
    if (!rn_img_blob_exists(st, d)) {
        char *p = rn_img_blob_path(st, d);
        if (rn_img_write_file_atomic(p, data, len)) {
            rn_img_seterr(err, "cannot write %s: %s", p, strerror(errno));
            rc = -1;
        }
        free(p);
    }
    free(d);
    return rc;
}

int rn_img_blob_put_file(rn_image_store *st, const char *tmp_path, const char *expect, char **err) {
    char *d = rn_img_sha256_file(tmp_path, err);
    if (!d)
        return -1;
    if (strcmp(d, expect)) {
        rn_img_seterr(err, "digest mismatch: expected %s, got %s", expect, d);
        unlink(tmp_path);
        free(d);
        return -1;
    }
    free(d);
    char *p = rn_img_blob_path(st, expect);
    int fd = open(tmp_path, O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
        fsync(fd);
        close(fd);
    }
    int rc = rename(tmp_path, p);
    if (rc)
        rn_img_seterr(err, "cannot store %s: %s", p, strerror(errno));
    free(p);
    return rc ? -1 : 0;
}

json_t *rn_img_blob_json(const rn_image_store *st, const char *digest, char **err) {
    if (!rn_img_digest_valid(digest)) {
        rn_img_seterr(err, "invalid digest '%s'", digest ? digest : "");
        return NULL;
    }
    char *p = rn_img_blob_path(st, digest);
    json_error_t je;
    json_t *j = json_load_file(p, 0, &je);
    if (!j)
        rn_img_seterr(err, "blob %s: %s", digest, je.text);
    free(p);
    return j;
}

int rn_img_lock(const char *path, bool exclusive) {
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0)
        return -1;
    while (flock(fd, exclusive ? LOCK_EX : LOCK_SH)) {
        if (errno != EINTR) {
            close(fd);
            return -1;
        }
    }
    return fd;
}

int rn_img_blob_lock(const rn_image_store *st, const char *digest) {
    char *p = rn_xprintf("%s/tmp/%s.lock", st->root, digest + 7);
    int fd = rn_img_lock(p, true);
    free(p);
    return fd;
}

int rn_img_gc_lock(const rn_image_store *st, bool exclusive) {
    char *p = rn_xprintf("%s/gc.lock", st->root);
    int fd = rn_img_lock(p, exclusive);
    free(p);
    return fd;
}

/* ---- index ---- */

static json_t *index_load(const rn_image_store *st) {
    char *p = rn_xprintf("%s/index.json", st->root);
    json_t *j = json_load_file(p, 0, NULL);
    free(p);
    if (!j || !json_is_object(json_object_get(j, "refs"))) {
        json_decref(j);
        j = json_pack("{s:i,s:{}}", "version", 1, "refs");
    }
    return j;
}

static int index_lock(const rn_image_store *st, bool exclusive) {
    char *p = rn_xprintf("%s/index.lock", st->root);
    int fd = rn_img_lock(p, exclusive);
    free(p);
    return fd;
}

static int index_save(const rn_image_store *st, json_t *idx, char **err) {
    char *txt = json_dumps(idx, JSON_INDENT(2) | JSON_SORT_KEYS);
    char *p = rn_xprintf("%s/index.json", st->root);
    int rc = rn_img_write_file_atomic(p, txt, strlen(txt));
    if (rc)
        rn_img_seterr(err, "cannot write %s: %s", p, strerror(errno));
    free(p);
    free(txt);
    return rc;
}

int rn_img_index_set(rn_image_store *st, const char *ref, const char *digest, char **err) {
    int lk = index_lock(st, true);
    if (lk < 0) {
        rn_img_seterr(err, "cannot lock the image index: %s", strerror(errno));
        return -1;
    }
    json_t *idx = index_load(st);
    json_object_set_new(json_object_get(idx, "refs"), ref,
                        json_pack("{s:s,s:I}", "digest", digest, "created", (json_int_t)time(0)));
    int rc = index_save(st, idx, err);
    json_decref(idx);
    close(lk);
    return rc;
}

static json_t *index_snapshot(const rn_image_store *st) {
    int lk = index_lock(st, false);
    json_t *idx = index_load(st);
    if (lk >= 0)
        close(lk);
    return idx;
}

/* ---- manifests ---- */

static bool is_index_type(const char *mt) {
    return mt && (!strcmp(mt, RN_MT_OCI_INDEX) || !strcmp(mt, RN_MT_DOCKER_LIST));
}

int rn_img_finish_manifest(rn_image_store *st, json_t *m, char **err) {
    if (is_index_type(json_string_value(json_object_get(m, "mediaType")))) {
        rn_img_seterr(err, "expected an image manifest, got an index");
        return -1;
    }
    json_t *cfg = json_object_get(m, "config"), *layers = json_object_get(m, "layers");
    const char *cd = json_string_value(json_object_get(cfg, "digest"));
    if (!rn_img_digest_valid(cd) || !json_is_array(layers)) {
        rn_img_seterr(err, "manifest without a valid config digest and layers");
        return -1;
    }
    if (!rn_img_blob_exists(st, cd)) {
        rn_img_seterr(err, "config blob %s is missing", cd);
        return -1;
    }
    size_t i;
    json_t *l;
    json_array_foreach(layers, i, l) {
        const char *ld = json_string_value(json_object_get(l, "digest"));
        if (!rn_img_digest_valid(ld)) {
            rn_img_seterr(err, "layer %zu has an invalid digest", i);
            return -1;
        }
        if (rn_img_unpack_layer(st, ld, err))
            return -1;
    }
    return 0;
}

static char **json_strv(json_t *a) {
    if (!json_is_array(a))
        return NULL;
    size_t n = json_array_size(a), i;
    char **v = rn_xcalloc(n + 1, sizeof *v);
    size_t k = 0;
    json_t *e;
    json_array_foreach(a, i, e) {
        if (json_is_string(e))
            v[k++] = rn_xstrdup(json_string_value(e));
    }
    return v;
}

static void strv_free(char **v) {
    if (!v)
        return;
    for (char **p = v; *p; p++)
        free(*p);
    free(v);
}

void rn_image_free(rn_image *img) {
    if (!img)
        return;
    free(img->ref);
    free(img->digest);
    free(img->config_digest);
    for (size_t i = 0; i < img->nlayers; i++)
        free(img->layers[i]);
    free(img->layers);
    strv_free(img->config.env);
    strv_free(img->config.entrypoint);
    strv_free(img->config.cmd);
    free(img->config.working_dir);
    free(img->config.user);
    free(img);
}

/* Finds ref's manifest digest: a reference in the index, a full digest or a hex prefix. */
static char *lookup(rn_image_store *st, const char *ref, char **normalized, char **err) {
    json_t *idx = index_snapshot(st);
    json_t *refs = json_object_get(idx, "refs");
    char *out = NULL;
    const char *hex = !strncmp(ref, "sha256:", 7) ? ref + 7 : ref;
    size_t hl = strlen(hex);
    bool hexish = hl >= 12 && hl <= 64 && strspn(hex, "0123456789abcdef") == hl;
    if (hexish) {
        const char *k;
        json_t *v;
        json_object_foreach(refs, k, v) {
            const char *d = json_string_value(json_object_get(v, "digest"));
            if (d && !strncmp(d + 7, hex, hl)) {
                if (out && strcmp(out, d)) {
                    rn_img_seterr(err, "ambiguous image id '%s'", ref);
                    free(out);
                    json_decref(idx);
                    return NULL;
                }
                free(out);
                out = rn_xstrdup(d);
                if (normalized && !*normalized)
                    *normalized = rn_xstrdup(k);
            }
        }
        if (!out && hl == 64) {
            char *d = rn_xprintf("sha256:%s", hex);
            if (rn_img_blob_exists(st, d))
                out = d;
            else
                free(d);
        }
    }
    if (!out) {
        char *e2 = NULL;
        char *n = rn_image_ref_normalize(ref, &e2);
        if (n) {
            const char *d = json_string_value(json_object_get(json_object_get(refs, n), "digest"));
            if (d)
                out = rn_xstrdup(d);
            if (normalized) {
                free(*normalized);
                *normalized = n;
            } else
                free(n);
        }
        if (!out)
            rn_img_seterr(err, "image '%s' is not in the store%s%s", ref, e2 ? ": " : "",
                          e2 ? e2 : "");
        free(e2);
    }
    json_decref(idx);
    return out;
}

rn_image *rn_image_get(rn_image_store *st, const char *ref, const rn_pull_opts *pull, char **err) {
    char *norm = NULL;
    char *digest = lookup(st, ref, &norm, err);
    if (!digest && pull) {
        free(norm);
        norm = NULL;
        if (rn_image_pull(st, ref, pull, &digest, err))
            return NULL;
        norm = rn_image_ref_normalize(ref, NULL);
    }
    if (!digest) {
        free(norm);
        return NULL;
    }
    json_t *m = rn_img_blob_json(st, digest, err);
    json_t *cfg = NULL;
    rn_image *img = NULL;
    if (!m)
        goto out;
    /* Layers are unpacked at pull/import; this re-unpacks any that were removed by hand. */
    if (rn_img_finish_manifest(st, m, err))
        goto out;
    const char *cd = json_string_value(json_object_get(json_object_get(m, "config"), "digest"));
    cfg = rn_img_blob_json(st, cd, err);
    if (!cfg)
        goto out;
    img = rn_xcalloc(1, sizeof *img);
    img->ref = norm ? norm : rn_xstrdup(digest);
    norm = NULL;
    img->digest = digest;
    digest = NULL;
    img->config_digest = rn_xstrdup(cd);
    img->overlay_xattr = st->xattr_ns;
    json_t *layers = json_object_get(m, "layers"), *l;
    size_t i;
    img->layers = rn_xcalloc(json_array_size(layers) + 1, sizeof *img->layers);
    json_array_foreach(layers, i, l) {
        img->layers[img->nlayers++] =
            rn_img_layer_path(st, json_string_value(json_object_get(l, "digest")));
        img->size += json_integer_value(json_object_get(l, "size"));
    }
    json_t *c = json_object_get(cfg, "config");
    img->config.env = json_strv(json_object_get(c, "Env"));
    img->config.entrypoint = json_strv(json_object_get(c, "Entrypoint"));
    img->config.cmd = json_strv(json_object_get(c, "Cmd"));
    const char *wd = json_string_value(json_object_get(c, "WorkingDir"));
    const char *u = json_string_value(json_object_get(c, "User"));
    img->config.working_dir = wd && *wd ? rn_xstrdup(wd) : NULL;
    img->config.user = u && *u ? rn_xstrdup(u) : NULL;
out:
    json_decref(m);
    json_decref(cfg);
    free(digest);
    free(norm);
    return img;
}

static int64_t manifest_size(const rn_image_store *st, const char *digest) {
    json_t *m = rn_img_blob_json(st, digest, NULL);
    int64_t sz = 0;
    size_t i;
    json_t *l;
    json_array_foreach(json_object_get(m, "layers"), i, l) {
        sz += json_integer_value(json_object_get(l, "size"));
    }
    json_decref(m);
    return sz;
}

static int cmp_info(const void *a, const void *b) {
    return strcmp(((const rn_image_ref_info *)a)->ref, ((const rn_image_ref_info *)b)->ref);
}

long rn_image_list(rn_image_store *st, rn_image_ref_info **out, char **err) {
    (void)err;
    json_t *idx = index_snapshot(st);
    json_t *refs = json_object_get(idx, "refs");
    size_t n = json_object_size(refs);
    rn_image_ref_info *v = rn_xcalloc(n + 1, sizeof *v);
    long k = 0;
    const char *key;
    json_t *val;
    json_object_foreach(refs, key, val) {
        const char *d = json_string_value(json_object_get(val, "digest"));
        if (!d)
            continue;
        v[k].ref = rn_xstrdup(key);
        v[k].digest = rn_xstrdup(d);
        v[k].size = manifest_size(st, d);
        k++;
    }
    qsort(v, (size_t)k, sizeof *v, cmp_info);
    json_decref(idx);
    *out = v;
    return k;
}

void rn_image_list_free(rn_image_ref_info *list, long n) {
    for (long i = 0; i < n; i++) {
        free(list[i].ref);
        free(list[i].digest);
    }
    free(list);
}

int rn_image_remove(rn_image_store *st, const char *ref, char **err) {
    int lk = index_lock(st, true);
    if (lk < 0) {
        rn_img_seterr(err, "cannot lock the image index: %s", strerror(errno));
        return -1;
    }
    json_t *idx = index_load(st);
    json_t *refs = json_object_get(idx, "refs");
    char *n = rn_image_ref_normalize(ref, NULL);
    int rc = -1;
    if (n && json_object_get(refs, n)) {
        json_object_del(refs, n);
        rc = index_save(st, idx, err);
    } else
        rn_img_seterr(err, "image '%s' is not in the store", ref);
    free(n);
    json_decref(idx);
    close(lk);
    return rc;
}

/* ---- prune ---- */

static void mark(json_t *keep, const char *d) {
    if (d)
        json_object_set_new(keep, d + 7, json_true());
}

static int64_t du(const char *path) {
    struct stat sb;
    if (lstat(path, &sb))
        return 0;
    int64_t total = (int64_t)sb.st_blocks * 512;
    if (!S_ISDIR(sb.st_mode))
        return total;
    DIR *d = opendir(path);
    if (!d)
        return total;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        char *sub = rn_xprintf("%s/%s", path, e->d_name);
        total += du(sub);
        free(sub);
    }
    closedir(d);
    return total;
}

static void sweep(const char *dir, json_t *keep, long *count, int64_t *bytes) {
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.' || json_object_get(keep, e->d_name))
            continue;
        char *p = rn_xprintf("%s/%s", dir, e->d_name);
        int64_t sz = du(p);
        if (rn_img_rm_rf(p) == 0) {
            (*count)++;
            *bytes += sz;
        }
        free(p);
    }
    closedir(d);
}

int rn_image_prune(rn_image_store *st, rn_prune_stats *stats, char **err) {
    rn_prune_stats s = {0};
    /* Exclusive gc.lock: no pull or import is between writing a blob and tagging it. */
    int gl = rn_img_gc_lock(st, true);
    if (gl < 0) {
        rn_img_seterr(err, "cannot lock the store: %s", strerror(errno));
        return -1;
    }
    json_t *idx = index_snapshot(st);
    json_t *keep = json_object();
    const char *k;
    json_t *v;
    json_object_foreach(json_object_get(idx, "refs"), k, v) {
        const char *d = json_string_value(json_object_get(v, "digest"));
        if (!rn_img_digest_valid(d))
            continue;
        mark(keep, d);
        json_t *m = rn_img_blob_json(st, d, NULL);
        mark(keep, json_string_value(json_object_get(json_object_get(m, "config"), "digest")));
        size_t i;
        json_t *l;
        json_array_foreach(json_object_get(m, "layers"), i, l) {
            mark(keep, json_string_value(json_object_get(l, "digest")));
        }
        json_decref(m);
    }
    char *blobs = rn_xprintf("%s/blobs/sha256", st->root);
    char *layers = rn_xprintf("%s/layers/sha256", st->root);
    char *tmp = rn_xprintf("%s/tmp", st->root);
    sweep(blobs, keep, &s.blobs, &s.bytes);
    sweep(layers, keep, &s.layers, &s.bytes);
    long ntmp = 0;
    json_t *none = json_object();
    sweep(tmp, none, &ntmp, &s.bytes);
    json_decref(none);
    free(blobs);
    free(layers);
    free(tmp);
    json_decref(keep);
    json_decref(idx);
    close(gl);
    if (stats)
        *stats = s;
    return 0;
}

char *rn_image_inspect(rn_image_store *st, const char *ref, char **err) {
    char *norm = NULL;
    char *digest = lookup(st, ref, &norm, err);
    if (!digest) {
        free(norm);
        return NULL;
    }
    char *txt = NULL;
    json_t *m = rn_img_blob_json(st, digest, err), *cfg = NULL;
    if (!m)
        goto out;
    const char *cd = json_string_value(json_object_get(json_object_get(m, "config"), "digest"));
    cfg = rn_img_blob_json(st, cd, err);
    if (!cfg)
        goto out;
    json_t *o = json_object();
    json_object_set_new(o, "reference", json_string(norm ? norm : digest));
    json_object_set_new(o, "digest", json_string(digest));
    const char *mt = json_string_value(json_object_get(m, "mediaType"));
    json_object_set_new(o, "mediaType", json_string(mt ? mt : RN_MT_OCI_MANIFEST));
    json_object_set_new(o, "configDigest", json_string(cd));
    json_t *c = json_object(), *src = json_object_get(cfg, "config");
    const char *keys[] = {"Env", "Entrypoint", "Cmd", "WorkingDir", "User"};
    for (size_t i = 0; i < 5; i++) {
        json_t *x = json_object_get(src, keys[i]);
        json_object_set(c, keys[i], x ? x : json_null());
    }
    json_object_set_new(o, "config", c);
    const char *arch = json_string_value(json_object_get(cfg, "architecture"));
    const char *os = json_string_value(json_object_get(cfg, "os"));
    json_object_set_new(o, "os", os ? json_string(os) : json_null());
    json_object_set_new(o, "architecture", arch ? json_string(arch) : json_null());
    json_t *ls = json_array(), *l;
    size_t i;
    json_int_t total = 0;
    json_array_foreach(json_object_get(m, "layers"), i, l) {
        const char *ld = json_string_value(json_object_get(l, "digest"));
        json_int_t sz = json_integer_value(json_object_get(l, "size"));
        total += sz;
        char *dir = rn_img_layer_path(st, ld ? ld : "sha256:");
        json_array_append_new(ls,
                              json_pack("{s:s,s:s,s:I,s:s}", "digest", ld ? ld : "", "mediaType",
                                        json_string_value(json_object_get(l, "mediaType"))
                                            ? json_string_value(json_object_get(l, "mediaType"))
                                            : "",
                                        "size", sz, "dir", dir));
        free(dir);
    }
    json_object_set_new(o, "layers", ls);
    json_object_set_new(o, "size", json_integer(total));
    txt = json_dumps(o, JSON_INDENT(2));
    json_decref(o);
out:
    json_decref(m);
    json_decref(cfg);
    free(digest);
    free(norm);
    return txt;
}
