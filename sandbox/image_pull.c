/* Registry client (OCI distribution API over libcurl): token and basic auth, manifest lists,
 * digest verification, resumable parallel blob downloads. */
#include "common/arena.h"
#include "common/strbuf.h"
#include "sandbox/image_int.h"

#include <ctype.h>
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define ACCEPT_MANIFESTS                                                                           \
    "Accept: " RN_MT_OCI_INDEX ", " RN_MT_DOCKER_LIST ", " RN_MT_OCI_MANIFEST                      \
    ", " RN_MT_DOCKER_MANIFEST

typedef struct reg {
    rn_img_ref ref;
    char *base;  /* scheme://host */
    char *creds; /* "user:pass" or NULL */
    char *auth;  /* "Authorization: ..." header or NULL */
    const rn_pull_opts *opts;
} reg;

typedef struct resp {
    rn_sb body;
    long status;
    char *www_auth, *digest;
} resp;

static void resp_free(resp *r) {
    rn_sb_free(&r->body);
    free(r->www_auth);
    free(r->digest);
    memset(r, 0, sizeof *r);
}

static size_t body_cb(char *p, size_t sz, size_t n, void *ud) {
    resp *r = ud;
    if (r->body.len + sz * n > (64u << 20))
        return 0; /* manifests, configs and tokens are small */
    rn_sb_append(&r->body, p, sz * n);
    return sz * n;
}

/* Header value when line is "Name: value" (case-insensitive name). */
static char *header_value(const char *line, size_t len, const char *name) {
    size_t nl = strlen(name);
    if (len <= nl + 1 || strncasecmp(line, name, nl) || line[nl] != ':')
        return NULL;
    const char *v = line + nl + 1;
    const char *end = line + len;
    while (v < end && (*v == ' ' || *v == '\t'))
        v++;
    while (end > v && (end[-1] == '\r' || end[-1] == '\n' || end[-1] == ' '))
        end--;
    return rn_xstrndup(v, (size_t)(end - v));
}

static size_t header_cb(char *p, size_t sz, size_t n, void *ud) {
    resp *r = ud;
    size_t len = sz * n;
    if (len >= 5 && !strncmp(p, "HTTP/", 5)) { /* a new response (after a redirect) */
        free(r->www_auth);
        free(r->digest);
        r->www_auth = r->digest = NULL;
    }
    char *v;
    if ((v = header_value(p, len, "WWW-Authenticate"))) {
        free(r->www_auth);
        r->www_auth = v;
    } else if ((v = header_value(p, len, "Docker-Content-Digest"))) {
        free(r->digest);
        r->digest = v;
    }
    return len;
}

static CURL *easy(const reg *g, const char *url, struct curl_slist **hdrs, const char *accept) {
    CURL *c = curl_easy_init();
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(c, CURLOPT_MAXREDIRS, 10L);
    curl_easy_setopt(c, CURLOPT_USERAGENT, "runnel/0.1");
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 30L);
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, 60L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    *hdrs = NULL;
    if (accept)
        *hdrs = curl_slist_append(*hdrs, accept);
    if (g->auth)
        *hdrs = curl_slist_append(*hdrs, g->auth);
    if (*hdrs)
        curl_easy_setopt(c, CURLOPT_HTTPHEADER, *hdrs);
    return c;
}

static int perform(const reg *g, const char *url, const char *accept, const char *basic, resp *out,
                   char **err) {
    struct curl_slist *h;
    CURL *c = easy(g, url, &h, accept);
    if (basic) { /* token endpoint: credentials as basic auth */
        curl_easy_setopt(c, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
        curl_easy_setopt(c, CURLOPT_USERPWD, basic);
    }
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, body_cb);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, out);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, header_cb);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, out);
    CURLcode rc = curl_easy_perform(c);
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &out->status);
    curl_easy_cleanup(c);
    curl_slist_free_all(h);
    if (rc != CURLE_OK) {
        rn_img_seterr(err, "%s: %s", url, curl_easy_strerror(rc));
        return -1;
    }
    return 0;
}

/* Parses `Bearer realm="...",service="...",scope="..."`: value of key, or NULL. */
static char *auth_param(const char *h, const char *key) {
    const char *p = strchr(h, ' ');
    size_t kl = strlen(key);
    while (p && *p) {
        while (*p == ' ' || *p == ',')
            p++;
        const char *eq = strchr(p, '=');
        if (!eq)
            return NULL;
        bool match = (size_t)(eq - p) == kl && !strncasecmp(p, key, kl);
        const char *v = eq + 1;
        rn_sb sb = RN_SB_INIT;
        if (*v == '"') {
            v++;
            while (*v && *v != '"') {
                if (*v == '\\' && v[1])
                    v++;
                rn_sb_putc(&sb, *v++);
            }
            if (*v == '"')
                v++;
        } else {
            while (*v && *v != ',')
                rn_sb_putc(&sb, *v++);
        }
        if (match) {
            char *s = rn_sb_take(&sb);
            return s ? s : rn_xstrdup("");
        }
        rn_sb_free(&sb);
        p = v;
    }
    return NULL;
}

static char *b64(const char *s) {
    size_t n = strlen(s);
    char *out = rn_xmalloc(4 * ((n + 2) / 3) + 1);
    EVP_EncodeBlock((unsigned char *)out, (const unsigned char *)s, (int)n);
    return out;
}

static char *url_escape(const char *s) {
    char *e = curl_easy_escape(NULL, s, 0);
    char *r = rn_xstrdup(e);
    curl_free(e);
    return r;
}

static int authenticate(reg *g, const char *www, char **err) {
    free(g->auth);
    g->auth = NULL;
    if (!strncasecmp(www, "Basic", 5)) {
        if (!g->creds) {
            rn_img_seterr(err,
                          "%s: authentication required (use --user or docker login "
                          "credentials in ~/.docker/config.json)",
                          g->ref.domain);
            return -1;
        }
        char *enc = b64(g->creds);
        g->auth = rn_xprintf("Authorization: Basic %s", enc);
        free(enc);
        return 0;
    }
    if (strncasecmp(www, "Bearer", 6)) {
        rn_img_seterr(err, "%s: unsupported authentication '%s'", g->ref.domain, www);
        return -1;
    }
    char *realm = auth_param(www, "realm"), *service = auth_param(www, "service");
    char *scope = auth_param(www, "scope");
    if (!realm) {
        rn_img_seterr(err, "%s: Bearer challenge without realm", g->ref.domain);
        free(service);
        free(scope);
        return -1;
    }
    rn_sb url = RN_SB_INIT;
    rn_sb_puts(&url, realm);
    char sep = strchr(realm, '?') ? '&' : '?';
    if (service) {
        char *e = url_escape(service);
        rn_sb_printf(&url, "%cservice=%s", sep, e);
        free(e);
        sep = '&';
    }
    char *sc = scope ? rn_xstrdup(scope) : rn_xprintf("repository:%s:pull", g->ref.repo);
    char *e = url_escape(sc);
    rn_sb_printf(&url, "%cscope=%s", sep, e);
    free(e);
    free(sc);
    resp r = {0};
    int rc = perform(g, rn_sb_str(&url), NULL, g->creds, &r, err);
    if (rc == 0 && r.status != 200) {
        rn_img_seterr(err, "%s: token request failed: HTTP %ld", realm, r.status);
        rc = -1;
    }
    if (rc == 0) {
        json_t *j = json_loads(rn_sb_str(&r.body), 0, NULL);
        const char *tok = json_string_value(json_object_get(j, "token"));
        if (!tok)
            tok = json_string_value(json_object_get(j, "access_token"));
        if (tok)
            g->auth = rn_xprintf("Authorization: Bearer %s", tok);
        else {
            rn_img_seterr(err, "%s: no token in the response", realm);
            rc = -1;
        }
        json_decref(j);
    }
    resp_free(&r);
    rn_sb_free(&url);
    free(realm);
    free(service);
    free(scope);
    return rc;
}

/* GET with one authentication round on 401. */
static int get(reg *g, const char *url, const char *accept, resp *out, char **err) {
    for (int attempt = 0;; attempt++) {
        resp_free(out);
        if (perform(g, url, accept, NULL, out, err))
            return -1;
        if (out->status != 401 || attempt > 0 || !out->www_auth)
            break;
        if (authenticate(g, out->www_auth, err))
            return -1;
    }
    if (out->status == 401) {
        rn_img_seterr(err, "%s: unauthorized (HTTP 401)", url);
        return -1;
    }
    if (out->status != 200) {
        rn_img_seterr(err, "%s: HTTP %ld", url, out->status);
        return -1;
    }
    return 0;
}

static char *docker_config_creds(const char *domain) {
    const char *cfgdir = getenv("DOCKER_CONFIG");
    const char *home = getenv("HOME");
    char *path = cfgdir && *cfgdir ? rn_xprintf("%s/config.json", cfgdir)
                                   : rn_xprintf("%s/.docker/config.json", home ? home : "/");
    json_t *j = json_load_file(path, 0, NULL);
    free(path);
    json_t *auths = json_object_get(j, "auths");
    json_t *a = json_object_get(auths, domain);
    if (!a && !strcmp(domain, "docker.io"))
        a = json_object_get(auths, "https://index.docker.io/v1/");
    if (!a) {
        char *k = rn_xprintf("https://%s", domain);
        a = json_object_get(auths, k);
        free(k);
    }
    char *out = NULL;
    const char *enc = json_string_value(json_object_get(a, "auth"));
    const char *u = json_string_value(json_object_get(a, "username"));
    const char *p = json_string_value(json_object_get(a, "password"));
    if (enc && *enc) {
        size_t n = strlen(enc);
        unsigned char *dec = rn_xcalloc(n + 4, 1);
        int dl = EVP_DecodeBlock(dec, (const unsigned char *)enc, (int)n);
        if (dl > 0) {
            while (dl > 0 && dec[dl - 1] == 0) /* EVP_DecodeBlock counts '=' padding */
                dl--;
            out = rn_xstrndup((char *)dec, (size_t)dl);
        }
        free(dec);
    } else if (u && p) {
        out = rn_xprintf("%s:%s", u, p);
    }
    json_decref(j);
    return out;
}

static bool is_local(const char *domain) {
    const char *hosts[] = {"localhost", "127.0.0.1", "[::1]"};
    for (size_t i = 0; i < 3; i++) {
        size_t n = strlen(hosts[i]);
        if (!strncmp(domain, hosts[i], n) && (!domain[n] || domain[n] == ':'))
            return true;
    }
    return false;
}

/* ---- blob downloads ---- */

typedef struct xfer {
    reg *g;
    char *digest, *partial, *url;
    int fd, attempts;
    EVP_MD_CTX *ctx;
    long long offset, got;
    bool checked, failed;
    char *errmsg;
    CURL *c;
    struct curl_slist *hdrs;
} xfer;

static size_t xfer_write(char *p, size_t sz, size_t n, void *ud) {
    xfer *x = ud;
    size_t len = sz * n;
    if (!x->checked) {
        long code = 0;
        curl_easy_getinfo(x->c, CURLINFO_RESPONSE_CODE, &code);
        x->checked = true;
        if (code == 200 && x->offset > 0) { /* the server ignored Range: start over */
            if (ftruncate(x->fd, 0) || lseek(x->fd, 0, SEEK_SET))
                return 0;
            EVP_DigestInit_ex(x->ctx, EVP_sha256(), NULL);
            x->offset = 0;
        } else if (code != 200 && code != 206) {
            return 0;
        }
    }
    long long lim = rn_img_abort_after();
    if (lim >= 0 && x->got + (long long)len > lim) { /* test hook: simulate a cut connection */
        size_t keep = x->got < lim ? (size_t)(lim - x->got) : 0;
        if (keep && write(x->fd, p, keep) == (ssize_t)keep)
            x->got += (long long)keep;
        return 0;
    }
    size_t done = 0;
    while (done < len) {
        ssize_t w = write(x->fd, p + done, len - done);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return 0;
        }
        done += (size_t)w;
    }
    EVP_DigestUpdate(x->ctx, p, len);
    x->got += (long long)len;
    return len;
}

/* Opens the partial file (resuming: hashes what is there) and prepares the handle. */
static int xfer_start(xfer *x, char **err) {
    x->fd = open(x->partial, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (x->fd < 0) {
        rn_img_seterr(err, "%s: %s", x->partial, strerror(errno));
        return -1;
    }
    x->ctx = EVP_MD_CTX_new();
    EVP_DigestInit_ex(x->ctx, EVP_sha256(), NULL);
    char buf[1 << 16];
    ssize_t n;
    x->offset = 0;
    while ((n = read(x->fd, buf, sizeof buf)) > 0) {
        EVP_DigestUpdate(x->ctx, buf, (size_t)n);
        x->offset += n;
    }
    x->got = 0;
    x->checked = false;
    x->c = easy(x->g, x->url, &x->hdrs, NULL);
    curl_easy_setopt(x->c, CURLOPT_WRITEFUNCTION, xfer_write);
    curl_easy_setopt(x->c, CURLOPT_WRITEDATA, x);
    curl_easy_setopt(x->c, CURLOPT_PRIVATE, x);
    if (x->offset > 0) {
        char range[48];
        snprintf(range, sizeof range, "%lld-", x->offset);
        curl_easy_setopt(x->c, CURLOPT_RANGE, range);
        if (!x->g->opts->quiet)
            fprintf(stderr, "%.19s: resuming at byte %lld\n", x->digest, x->offset);
    }
    return 0;
}

static void xfer_close(xfer *x) {
    if (x->fd >= 0)
        close(x->fd);
    x->fd = -1;
    if (x->ctx)
        EVP_MD_CTX_free(x->ctx);
    x->ctx = NULL;
    if (x->c)
        curl_easy_cleanup(x->c);
    x->c = NULL;
    curl_slist_free_all(x->hdrs);
    x->hdrs = NULL;
}

/* A finished transfer: verify and publish, or decide to retry from scratch. Returns 1 to
 * retry, 0 done, -1 failed. */
static int xfer_finish(rn_image_store *st, xfer *x, CURLcode res) {
    long code = 0;
    curl_easy_getinfo(x->c, CURLINFO_RESPONSE_CODE, &code);
    if (res != CURLE_OK || (code != 200 && code != 206)) {
        bool range_bad = code == 416;
        if (range_bad && x->attempts++ == 0) {
            xfer_close(x);
            unlink(x->partial);
            return 1;
        }
        free(x->errmsg);
        x->errmsg = res != CURLE_OK && code < 300
                        ? rn_xprintf("blob %s: %s (partial download kept for resume)", x->digest,
                                     curl_easy_strerror(res))
                        : rn_xprintf("blob %s: HTTP %ld", x->digest, code);
        xfer_close(x);
        return -1;
    }
    EVP_MD_CTX *ctx = x->ctx;
    x->ctx = NULL;
    char *d = rn_img_sha256_final(ctx);
    bool resumed = x->offset > 0;
    int fd = x->fd;
    x->fd = -1;
    fsync(fd);
    close(fd);
    xfer_close(x);
    if (strcmp(d, x->digest)) {
        unlink(x->partial);
        if (resumed && x->attempts++ == 0) { /* a bad partial: one fresh try */
            free(d);
            return 1;
        }
        free(x->errmsg);
        x->errmsg = rn_xprintf("blob %s: digest mismatch: got %s", x->digest, d);
        free(d);
        return -1;
    }
    free(d);
    char *dst = rn_img_blob_path(st, x->digest);
    int rc = rename(x->partial, dst);
    if (rc) {
        free(x->errmsg);
        x->errmsg = rn_xprintf("cannot store %s: %s", dst, strerror(errno));
    }
    free(dst);
    if (!x->g->opts->quiet && !rc)
        fprintf(stderr, "%.19s: downloaded\n", x->digest);
    return rc ? -1 : 0;
}

static int cmp_str(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Downloads every missing blob of digests (parallel, resumable). */
static int fetch_blobs(rn_image_store *st, reg *g, char **digests, size_t n, char **err) {
    qsort(digests, n, sizeof *digests, cmp_str);
    /* Blob locks in sorted order (no deadlock between processes); a blob another process
     * fetched while we waited is then simply present. */
    int *locks = rn_xcalloc(n + 1, sizeof *locks);
    xfer *xs = rn_xcalloc(n + 1, sizeof *xs);
    size_t nx = 0;
    for (size_t i = 0; i < n; i++) {
        locks[i] = -1;
        if (i && !strcmp(digests[i], digests[i - 1]))
            continue;
        if (rn_img_blob_exists(st, digests[i]))
            continue;
        locks[i] = rn_img_blob_lock(st, digests[i]);
        if (rn_img_blob_exists(st, digests[i]))
            continue;
        xfer *x = &xs[nx++];
        x->g = g;
        x->fd = -1;
        x->digest = digests[i];
        x->partial = rn_xprintf("%s/tmp/%s.partial", st->root, digests[i] + 7);
        x->url = rn_xprintf("%s/v2/%s/blobs/%s", g->base, g->ref.repo, digests[i]);
    }
    int rc = 0;
    CURLM *m = curl_multi_init();
    int par = g->opts->parallel > 0 ? g->opts->parallel : 4;
    size_t next = 0, active = 0;
    while (rc == 0 && (next < nx || active)) {
        while (active < (size_t)par && next < nx) {
            if (xfer_start(&xs[next], err)) {
                rc = -1;
                break;
            }
            curl_multi_add_handle(m, xs[next].c);
            next++, active++;
        }
        if (rc)
            break;
        int running = 0;
        curl_multi_perform(m, &running);
        CURLMsg *msg;
        int left;
        while ((msg = curl_multi_info_read(m, &left))) {
            if (msg->msg != CURLMSG_DONE)
                continue;
            xfer *x;
            curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&x);
            CURLcode res = msg->data.result;
            curl_multi_remove_handle(m, x->c);
            active--;
            int r = xfer_finish(st, x, res);
            if (r == 1) {
                if (xfer_start(x, err))
                    rc = -1;
                else {
                    curl_multi_add_handle(m, x->c);
                    active++;
                }
            } else if (r < 0) {
                rn_img_seterr(err, "%s", x->errmsg);
                rc = -1;
            }
        }
        if (rc == 0 && active)
            curl_multi_poll(m, NULL, 0, 1000, NULL);
    }
    for (size_t i = 0; i < nx; i++) {
        if (xs[i].c)
            curl_multi_remove_handle(m, xs[i].c);
        xfer_close(&xs[i]);
        free(xs[i].partial);
        free(xs[i].url);
        free(xs[i].errmsg);
    }
    curl_multi_cleanup(m);
    for (size_t i = 0; i < n; i++)
        if (locks[i] >= 0)
            close(locks[i]);
    free(locks);
    free(xs);
    return rc;
}

static bool is_index(json_t *m, const char *mt) {
    const char *t = json_string_value(json_object_get(m, "mediaType"));
    if (!t)
        t = mt;
    if (t)
        return !strcmp(t, RN_MT_OCI_INDEX) || !strcmp(t, RN_MT_DOCKER_LIST);
    return json_is_array(json_object_get(m, "manifests"));
}

/* Fetches a manifest by tag or digest and verifies it. */
static json_t *get_manifest(reg *g, const char *what, const char *want, rn_sb *raw, char **digest,
                            char **err) {
    char *url = rn_xprintf("%s/v2/%s/manifests/%s", g->base, g->ref.repo, what);
    resp r = {0};
    json_t *j = NULL;
    if (get(g, url, ACCEPT_MANIFESTS, &r, err))
        goto out;
    char *d = rn_img_sha256_mem(r.body.data ? r.body.data : "", r.body.len);
    const char *expect = want ? want : r.digest;
    if (expect && strcmp(expect, d)) {
        rn_img_seterr(err, "manifest %s: digest mismatch: expected %s, got %s", what, expect, d);
        free(d);
        goto out;
    }
    json_error_t je;
    j = json_loadb(r.body.data ? r.body.data : "", r.body.len, 0, &je);
    if (!j) {
        rn_img_seterr(err, "manifest %s: %s", what, je.text);
        free(d);
        goto out;
    }
    *digest = d;
    rn_sb_clear(raw);
    rn_sb_append(raw, r.body.data ? r.body.data : "", r.body.len);
out:
    resp_free(&r);
    free(url);
    return j;
}

int rn_image_pull(rn_image_store *st, const char *ref, const rn_pull_opts *opts, char **digest_out,
                  char **err) {
    static const rn_pull_opts defaults = {0};
    reg g = {0};
    g.opts = opts ? opts : &defaults;
    if (rn_img_ref_parse(ref, &g.ref, err))
        return -1;
    curl_global_init(CURL_GLOBAL_DEFAULT);
    const char *host = strcmp(g.ref.domain, "docker.io") ? g.ref.domain : "registry-1.docker.io";
    bool http = g.opts->insecure || is_local(g.ref.domain);
    g.base = rn_xprintf("%s://%s", http ? "http" : "https", host);
    g.creds = g.opts->user ? rn_xstrdup(g.opts->user) : docker_config_creds(g.ref.domain);
    char *norm = rn_img_ref_string(&g.ref);
    int gl = rn_img_gc_lock(st, false);
    rn_sb raw = RN_SB_INIT;
    char *mdigest = NULL, *cfg_digest = NULL;
    char **layers = NULL;
    size_t nl = 0;
    int rc = -1;
    json_t *m = get_manifest(&g, g.ref.digest ? g.ref.digest : g.ref.tag, g.ref.digest, &raw,
                             &mdigest, err);
    if (!m)
        goto out;
    if (is_index(m, NULL)) {
        json_t *pick = NULL, *d;
        size_t i;
        json_array_foreach(json_object_get(m, "manifests"), i, d) {
            if (rn_img_platform_match(d, false)) {
                pick = d;
                break;
            }
        }
        const char *pd = json_string_value(json_object_get(pick, "digest"));
        if (!rn_img_digest_valid(pd)) {
            rn_img_seterr(err, "%s: no linux/amd64 image in the manifest list", norm);
            goto out;
        }
        char *pdd = rn_xstrdup(pd);
        json_decref(m);
        free(mdigest);
        mdigest = NULL;
        m = get_manifest(&g, pdd, pdd, &raw, &mdigest, err);
        free(pdd);
        if (!m)
            goto out;
        if (is_index(m, NULL)) {
            rn_img_seterr(err, "%s: nested manifest lists are not supported", norm);
            goto out;
        }
    }
    const char *cd = json_string_value(json_object_get(json_object_get(m, "config"), "digest"));
    json_t *ls = json_object_get(m, "layers");
    if (!rn_img_digest_valid(cd) || !json_is_array(ls)) {
        rn_img_seterr(err, "%s: unsupported manifest (schemaVersion 2 image manifests only)", norm);
        goto out;
    }
    cfg_digest = rn_xstrdup(cd);
    layers = rn_xcalloc(json_array_size(ls) + 2, sizeof *layers);
    layers[nl++] = rn_xstrdup(cd);
    size_t i;
    json_t *l;
    json_array_foreach(ls, i, l) {
        const char *ld = json_string_value(json_object_get(l, "digest"));
        if (!rn_img_digest_valid(ld)) {
            rn_img_seterr(err, "%s: layer %zu has an invalid digest", norm, i);
            goto out;
        }
        layers[nl++] = rn_xstrdup(ld);
    }
    if (fetch_blobs(st, &g, layers, nl, err))
        goto out;
    if (rn_img_blob_put_mem(st, raw.data, raw.len, mdigest, err))
        goto out;
    if (rn_img_finish_manifest(st, m, err))
        goto out;
    if (rn_img_index_set(st, norm, mdigest, err))
        goto out;
    if (digest_out)
        *digest_out = rn_xstrdup(mdigest);
    rc = 0;
out:
    if (gl >= 0)
        close(gl);
    json_decref(m);
    rn_sb_free(&raw);
    for (size_t k = 0; k < nl; k++)
        free(layers[k]);
    free(layers);
    free(cfg_digest);
    free(mdigest);
    free(norm);
    free(g.base);
    free(g.creds);
    free(g.auth);
    rn_img_ref_free(&g.ref);
    return rc;
}
