/* The GitHub cache service on loopback (see cache_server.h). */
#include "actions/cache_server.h"

#include "actions/envfile.h"

#include "common/arena.h"
#include "common/strbuf.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#define TWIRP "/twirp/github.actions.results.api.v1.CacheService/"
#define V1 "/_apis/artifactcache/"
#define MAX_JSON (1 << 20)

typedef struct reservation {
    struct reservation *next;
    long id;
    char *key, *version, *file; /* the archive being uploaded (in the store's tmp) */
    rn_strlist blocks;          /* Azure block ids staged (hex of the id) */
    bool committed;
} reservation;

#define MAX_EXTRA_LISTENERS 4

struct rn_cache_server {
    struct MHD_Daemon *d;
    struct MHD_Daemon *extra[MAX_EXTRA_LISTENERS]; /* the same service on sockets given later */
    unsigned port;
    rn_cache_store *store;
    char *token, *url;
    rn_strlist scopes;
    pthread_mutex_t lock;
    reservation *res;
    long next_id;
};

typedef struct conn {
    bool started;
    int status; /* set when the request is refused early */
    const char *err;
    int fd; /* upload target, or -1 */
    off_t off;
    bool overflow;
    rn_sb body;
} conn;

static void sign(const rn_cache_server *s, const char *path, char out[33]) {
    rn_sb sb = RN_SB_INIT;
    rn_sb_printf(&sb, "%s:%s", s->token, path);
    unsigned char d[32];
    unsigned int dl;
    EVP_Digest(sb.data, sb.len, d, &dl, EVP_sha256(), NULL);
    rn_sb_free(&sb);
    for (int i = 0; i < 16; i++)
        snprintf(out + 2 * i, 3, "%02x", d[i]);
}

static char *signed_url(const rn_cache_server *s, const char *path) {
    char sig[33];
    sign(s, path, sig);
    return rn_xprintf("%s%s?sig=%s", s->url, path + 1, sig);
}

static enum MHD_Result reply(struct MHD_Connection *c, unsigned code, const char *type,
                             const char *text) {
    struct MHD_Response *r =
        MHD_create_response_from_buffer(strlen(text), (void *)text, MHD_RESPMEM_MUST_COPY);
    if (type)
        MHD_add_response_header(r, "Content-Type", type);
    enum MHD_Result rc = MHD_queue_response(c, code, r);
    MHD_destroy_response(r);
    return rc;
}

static enum MHD_Result reply_json(struct MHD_Connection *c, unsigned code, json_t *j) {
    char *t = json_dumps(j, JSON_COMPACT);
    json_decref(j);
    enum MHD_Result rc = reply(c, code, "application/json", t);
    free(t);
    return rc;
}

static enum MHD_Result twirp_error(struct MHD_Connection *c, unsigned code, const char *tcode,
                                   const char *msg) {
    return reply_json(c, code, json_pack("{s:s,s:s}", "code", tcode, "msg", msg));
}

static reservation *find_res(rn_cache_server *s, long id) {
    for (reservation *r = s->res; r; r = r->next)
        if (r->id == id)
            return r;
    return NULL;
}

static reservation *find_res_key(rn_cache_server *s, const char *key, const char *version) {
    for (reservation *r = s->res; r; r = r->next)
        if (!r->committed && !strcmp(r->key, key) && !strcmp(r->version, version))
            return r;
    return NULL;
}

/* Reserves (key, version): NULL when an entry exists or an upload is in progress. */
static reservation *reserve(rn_cache_server *s, const char *key, const char *version) {
    rn_cache_entry e;
    const char *scope = s->scopes.items[0];
    const char *keys[] = {key};
    pthread_mutex_lock(&s->lock);
    reservation *r = NULL;
    bool exists = rn_cache_lookup(s->store, &scope, 1, keys, 1, version, &e) && !strcmp(e.key, key);
    if (exists)
        rn_cache_entry_clear(&e);
    else if (!find_res_key(s, key, version)) {
        r = rn_xcalloc(1, sizeof *r);
        r->id = ++s->next_id;
        r->key = rn_xstrdup(key);
        r->version = rn_xstrdup(version);
        r->file = rn_cache_tmpname(s->store, "upload");
        int fd = open(r->file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd >= 0)
            close(fd);
        r->next = s->res;
        s->res = r;
    }
    pthread_mutex_unlock(&s->lock);
    return r;
}

static void res_drop_files(reservation *r) {
    for (size_t i = 0; i < r->blocks.count; i++) {
        char *p = rn_xprintf("%s.%s", r->file, r->blocks.items[i]);
        unlink(p);
        free(p);
    }
}

/* Publishes the upload of r (size checked when size >= 0). Returns 0, or an HTTP status. */
static int commit(rn_cache_server *s, reservation *r, long long size) {
    struct stat st;
    if (stat(r->file, &st) != 0)
        return 400;
    if (size >= 0 && st.st_size != size)
        return 400;
    char *err = NULL;
    int rc = rn_cache_put_archive(s->store, s->scopes.items[0], r->key, r->version, r->file, &err);
    free(err);
    r->committed = true;
    res_drop_files(r);
    return rc == 0 ? 0 : rc == 1 ? 409 : 500;
}

static bool authorized(rn_cache_server *s, struct MHD_Connection *c) {
    const char *h = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization");
    if (!h || strncasecmp(h, "Bearer ", 7))
        return false;
    return !strcmp(h + 7, s->token);
}

static bool signature_ok(rn_cache_server *s, struct MHD_Connection *c, const char *url) {
    const char *sig = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "sig");
    char want[33];
    sign(s, url, want);
    return sig && !strcmp(sig, want);
}

/* Looks up keys (primary first) in the scopes; fills *e. */
static bool lookup(rn_cache_server *s, const rn_strlist *keys, const char *version,
                   rn_cache_entry *e) {
    return rn_cache_lookup(s->store, (const char *const *)s->scopes.items, s->scopes.count,
                           (const char *const *)keys->items, keys->count, version, e) == 1;
}

static enum MHD_Result serve_download(rn_cache_server *s, struct MHD_Connection *c,
                                      const char *id) {
    rn_cache_entry e = {0};
    e.id = (char *)id;
    int fd = rn_cache_open_archive(s->store, &e);
    if (fd < 0)
        return reply(c, MHD_HTTP_NOT_FOUND, "text/plain", "not found");
    struct stat st;
    fstat(fd, &st);
    uint64_t start = 0, len = (uint64_t)st.st_size;
    unsigned code = MHD_HTTP_OK;
    const char *range = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Range");
    unsigned long long a, b;
    if (range && sscanf(range, "bytes=%llu-%llu", &a, &b) == 2 && a <= b &&
        a < (unsigned long long)st.st_size) {
        if (b >= (unsigned long long)st.st_size)
            b = (unsigned long long)st.st_size - 1;
        start = a;
        len = b - a + 1;
        code = MHD_HTTP_PARTIAL_CONTENT;
    } else if (range && sscanf(range, "bytes=%llu-", &a) == 1 &&
               a < (unsigned long long)st.st_size) {
        start = a;
        len = (uint64_t)st.st_size - a;
        code = MHD_HTTP_PARTIAL_CONTENT;
    }
    struct MHD_Response *r = MHD_create_response_from_fd_at_offset64(len, fd, start);
    MHD_add_response_header(r, "Content-Type", "application/octet-stream");
    MHD_add_response_header(r, "Accept-Ranges", "bytes");
    if (code == MHD_HTTP_PARTIAL_CONTENT) {
        char cr[96];
        snprintf(cr, sizeof cr, "bytes %llu-%llu/%lld", (unsigned long long)start,
                 (unsigned long long)(start + len - 1), (long long)st.st_size);
        MHD_add_response_header(r, "Content-Range", cr);
    }
    enum MHD_Result rc = MHD_queue_response(c, code, r);
    MHD_destroy_response(r);
    return rc;
}

static const char *jstr(json_t *o, const char *a, const char *b) {
    const char *v = json_string_value(json_object_get(o, a));
    if (!v && b)
        v = json_string_value(json_object_get(o, b));
    return v;
}

static long long jint(json_t *o, const char *a, const char *b) {
    json_t *v = json_object_get(o, a);
    if (!v && b)
        v = json_object_get(o, b);
    if (json_is_integer(v))
        return json_integer_value(v);
    if (json_is_string(v))
        return atoll(json_string_value(v));
    return -1;
}

static enum MHD_Result twirp(rn_cache_server *s, struct MHD_Connection *c, const char *method,
                             json_t *req) {
    const char *key = jstr(req, "key", NULL), *version = jstr(req, "version", NULL);
    if (!key || !version)
        return twirp_error(c, 400, "invalid_argument", "key and version are required");
    if (!strcmp(method, "CreateCacheEntry")) {
        reservation *r = reserve(s, key, version);
        if (!r)
            return reply_json(c, 200, json_pack("{s:b}", "ok", 0));
        char *path = rn_xprintf("/blob/cache/%ld", r->id);
        char *u = signed_url(s, path);
        free(path);
        enum MHD_Result rc =
            reply_json(c, 200, json_pack("{s:b,s:s}", "ok", 1, "signed_upload_url", u));
        free(u);
        return rc;
    }
    if (!strcmp(method, "FinalizeCacheEntryUpload")) {
        pthread_mutex_lock(&s->lock);
        reservation *r = find_res_key(s, key, version);
        int st = r ? commit(s, r, jint(req, "size_bytes", "sizeBytes")) : 404;
        long id = r ? r->id : 0;
        pthread_mutex_unlock(&s->lock);
        if (st)
            return reply_json(c, 200, json_pack("{s:b}", "ok", 0));
        char ids[32];
        snprintf(ids, sizeof ids, "%ld", id);
        return reply_json(c, 200, json_pack("{s:b,s:s}", "ok", 1, "entry_id", ids));
    }
    if (!strcmp(method, "GetCacheEntryDownloadURL")) {
        rn_strlist keys = RN_STRLIST_INIT;
        rn_strlist_add(&keys, key);
        json_t *rk = json_object_get(req, "restore_keys");
        if (!rk)
            rk = json_object_get(req, "restoreKeys");
        size_t i;
        json_t *v;
        json_array_foreach(rk, i, v) if (json_is_string(v))
            rn_strlist_add(&keys, json_string_value(v));
        rn_cache_entry e;
        enum MHD_Result rc;
        if (lookup(s, &keys, version, &e)) {
            char *path = rn_xprintf("/blob/entries/%s", e.id);
            char *u = signed_url(s, path);
            rc = reply_json(c, 200,
                            json_pack("{s:b,s:s,s:s}", "ok", 1, "signed_download_url", u,
                                      "matched_key", e.key));
            free(u);
            free(path);
            rn_cache_entry_clear(&e);
        } else {
            rc = reply_json(
                c, 200,
                json_pack("{s:b,s:s,s:s}", "ok", 0, "signed_download_url", "", "matched_key", ""));
        }
        rn_strlist_free(&keys);
        return rc;
    }
    return twirp_error(c, 404, "bad_route", "no such method");
}

static enum MHD_Result v1_lookup(rn_cache_server *s, struct MHD_Connection *c) {
    const char *ks = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "keys");
    const char *version = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "version");
    if (!ks || !version)
        return reply(c, 400, "text/plain", "keys and version are required");
    rn_strlist keys = RN_STRLIST_INIT;
    char *copy = rn_xstrdup(ks);
    char *save = NULL;
    for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save))
        rn_strlist_add(&keys, t);
    free(copy);
    rn_cache_entry e;
    enum MHD_Result rc;
    if (lookup(s, &keys, version, &e)) {
        char *path = rn_xprintf("/blob/entries/%s", e.id);
        char *u = signed_url(s, path);
        char when[40];
        time_t t = (time_t)(e.created_ms / 1000);
        struct tm tm;
        gmtime_r(&t, &tm);
        strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
        rc = reply_json(c, 200,
                        json_pack("{s:s,s:s,s:s,s:s,s:s}", "scope", e.scope, "cacheKey", e.key,
                                  "cacheVersion", e.version, "creationTime", when,
                                  "archiveLocation", u));
        free(u);
        free(path);
        rn_cache_entry_clear(&e);
    } else {
        rc = reply(c, MHD_HTTP_NO_CONTENT, NULL, "");
    }
    rn_strlist_free(&keys);
    return rc;
}

/* First call of a request: authorization and, for uploads, the file the body goes to. */
static void begin(rn_cache_server *s, struct MHD_Connection *c, conn *k, const char *url,
                  const char *method) {
    k->fd = -1;
    if (!strncmp(url, "/blob/", 6)) {
        if (!signature_ok(s, c, url)) {
            k->status = 403;
            k->err = "AuthenticationFailed";
            return;
        }
        long id;
        if (!strcmp(method, "PUT") && sscanf(url, "/blob/cache/%ld", &id) == 1) {
            const char *comp = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "comp");
            pthread_mutex_lock(&s->lock);
            reservation *r = find_res(s, id);
            if (!r || r->committed) {
                k->status = 404;
            } else if (comp && !strcmp(comp, "block")) {
                const char *bid = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "blockid");
                rn_sb h = RN_SB_INIT;
                for (const char *p = bid ? bid : ""; *p; p++)
                    rn_sb_printf(&h, "%02x", (unsigned char)*p);
                char *p = rn_xprintf("%s.%s", r->file, rn_sb_str(&h));
                k->fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
                bool known = false;
                for (size_t i = 0; i < r->blocks.count; i++)
                    known = known || !strcmp(r->blocks.items[i], rn_sb_str(&h));
                if (!known)
                    rn_strlist_add(&r->blocks, rn_sb_str(&h));
                free(p);
                rn_sb_free(&h);
            } else if (!comp) {
                k->fd = open(r->file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
            }
            pthread_mutex_unlock(&s->lock);
        }
        return;
    }
    if (!authorized(s, c)) {
        k->status = 401;
        return;
    }
    long id;
    if (!strcmp(method, "PATCH") && sscanf(url, V1 "caches/%ld", &id) == 1) {
        const char *cr = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Range");
        unsigned long long a, b;
        if (!cr || sscanf(cr, "bytes %llu-%llu", &a, &b) != 2) {
            k->status = 400;
            return;
        }
        pthread_mutex_lock(&s->lock);
        reservation *r = find_res(s, id);
        if (r && !r->committed)
            k->fd = open(r->file, O_WRONLY | O_CLOEXEC);
        else
            k->status = 404;
        pthread_mutex_unlock(&s->lock);
        k->off = (off_t)a;
    }
}

/* Concatenates the committed block list (Azure Put Block List) into the upload file. */
static int commit_blocks(rn_cache_server *s, long id, const char *xml) {
    pthread_mutex_lock(&s->lock);
    reservation *r = find_res(s, id);
    int rc = 0;
    int out =
        r && !r->committed ? open(r->file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644) : -1;
    if (out < 0)
        rc = 404;
    const char *p = xml;
    char *buf = rn_xmalloc(1 << 20);
    while (rc == 0 && (p = strstr(p, "<")) != NULL) {
        const char *tags[] = {"<Latest>", "<Uncommitted>", "<Committed>"};
        size_t tl = 0;
        for (int i = 0; i < 3 && !tl; i++)
            if (!strncmp(p, tags[i], strlen(tags[i])))
                tl = strlen(tags[i]);
        if (!tl) {
            p++;
            continue;
        }
        const char *v = p + tl, *e = strchr(v, '<');
        if (!e)
            break;
        rn_sb h = RN_SB_INIT;
        for (const char *q = v; q < e; q++)
            rn_sb_printf(&h, "%02x", (unsigned char)*q);
        char *bp = rn_xprintf("%s.%s", r->file, rn_sb_str(&h));
        rn_sb_free(&h);
        int in = open(bp, O_RDONLY | O_CLOEXEC);
        free(bp);
        if (in < 0) {
            rc = 400;
            break;
        }
        ssize_t n;
        while ((n = read(in, buf, 1 << 20)) > 0)
            if (write(out, buf, (size_t)n) != n) {
                rc = 500;
                break;
            }
        close(in);
        p = e;
    }
    free(buf);
    if (out >= 0)
        close(out);
    pthread_mutex_unlock(&s->lock);
    return rc;
}

static enum MHD_Result handler(void *cls, struct MHD_Connection *c, const char *url,
                               const char *method, const char *version, const char *data,
                               size_t *size, void **con_cls) {
    (void)version;
    rn_cache_server *s = cls;
    conn *k = *con_cls;
    if (!k) {
        k = rn_xcalloc(1, sizeof *k);
        *con_cls = k;
        begin(s, c, k, url, method);
        return MHD_YES;
    }
    if (*size) {
        if (k->fd >= 0) {
            size_t left = *size;
            const char *p = data;
            while (left) {
                ssize_t w = pwrite(k->fd, p, left, k->off);
                if (w <= 0) {
                    k->status = 500;
                    break;
                }
                p += w;
                left -= (size_t)w;
                k->off += w;
            }
        } else if (k->body.len + *size <= MAX_JSON) {
            rn_sb_append(&k->body, data, *size);
        } else {
            k->overflow = true;
        }
        *size = 0;
        return MHD_YES;
    }
    /* the whole request is in */
    if (k->status == 401) {
        if (!strncmp(url, "/twirp/", 7))
            return twirp_error(c, 401, "unauthenticated", "invalid or missing runtime token");
        return reply(c, 401, "text/plain", "invalid or missing runtime token");
    }
    if (k->status)
        return reply(c, (unsigned)k->status, "text/plain", k->err ? k->err : "error");
    if (k->overflow)
        return reply(c, 413, "text/plain", "request too large");
    if (!strncmp(url, "/blob/", 6)) {
        long id;
        if (!strcmp(method, "GET") || !strcmp(method, "HEAD")) {
            if (!strncmp(url, "/blob/entries/", 14))
                return serve_download(s, c, url + 14);
            return reply(c, 404, "text/plain", "not found");
        }
        if (!strcmp(method, "PUT") && sscanf(url, "/blob/cache/%ld", &id) == 1) {
            const char *comp = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "comp");
            if (comp && !strcmp(comp, "blocklist")) {
                int st = commit_blocks(s, id, rn_sb_str(&k->body));
                if (st)
                    return reply(c, (unsigned)st, "text/plain", "InvalidBlockList");
            }
            struct MHD_Response *r =
                MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
            MHD_add_response_header(r, "ETag", "\"0x1\"");
            MHD_add_response_header(r, "x-ms-request-server-encrypted", "false");
            enum MHD_Result rc = MHD_queue_response(c, MHD_HTTP_CREATED, r);
            MHD_destroy_response(r);
            return rc;
        }
        return reply(c, 405, "text/plain", "method not allowed");
    }
    if (!strncmp(url, TWIRP, strlen(TWIRP))) {
        if (strcmp(method, "POST"))
            return twirp_error(c, 404, "bad_route", "POST expected");
        json_t *req = json_loadb(k->body.data ? k->body.data : "", k->body.len, 0, NULL);
        if (!json_is_object(req)) {
            json_decref(req);
            return twirp_error(c, 400, "malformed", "the body is not a JSON object");
        }
        enum MHD_Result rc = twirp(s, c, url + strlen(TWIRP), req);
        json_decref(req);
        return rc;
    }
    if (!strncmp(url, V1, strlen(V1))) {
        const char *rest = url + strlen(V1);
        long id;
        if (!strcmp(method, "GET") && !strcmp(rest, "cache"))
            return v1_lookup(s, c);
        if (!strcmp(method, "PATCH"))
            return reply(c, MHD_HTTP_NO_CONTENT, NULL, "");
        json_t *req = json_loadb(k->body.data ? k->body.data : "", k->body.len, 0, NULL);
        enum MHD_Result rc;
        if (!strcmp(method, "POST") && !strcmp(rest, "caches")) {
            const char *key = jstr(req, "key", NULL), *ver = jstr(req, "version", NULL);
            reservation *r = key && ver ? reserve(s, key, ver) : NULL;
            if (!key || !ver)
                rc = reply(c, 400, "text/plain", "key and version are required");
            else if (!r)
                rc = reply_json(
                    c, 409,
                    json_pack("{s:s}", "message", "Cache already exists or is being created."));
            else
                rc = reply_json(c, 201, json_pack("{s:I}", "cacheId", (json_int_t)r->id));
        } else if (!strcmp(method, "POST") && sscanf(rest, "caches/%ld", &id) == 1) {
            pthread_mutex_lock(&s->lock);
            reservation *r = find_res(s, id);
            int st = r && !r->committed ? commit(s, r, jint(req, "size", NULL)) : 404;
            pthread_mutex_unlock(&s->lock);
            rc = st ? reply(c, (unsigned)st, "text/plain", "commit failed")
                    : reply(c, MHD_HTTP_NO_CONTENT, NULL, "");
        } else {
            rc = reply(c, 404, "text/plain", "not found");
        }
        json_decref(req);
        return rc;
    }
    return reply(c, 404, "text/plain", "not found");
}

static void completed(void *cls, struct MHD_Connection *c, void **con_cls,
                      enum MHD_RequestTerminationCode toe) {
    (void)cls;
    (void)c;
    (void)toe;
    conn *k = *con_cls;
    if (!k)
        return;
    if (k->fd >= 0)
        close(k->fd);
    rn_sb_free(&k->body);
    free(k);
    *con_cls = NULL;
}

rn_cache_server *rn_cache_server_start(rn_cache_store *store, const char *token, char **url,
                                       char **err) {
    rn_cache_server *s = rn_xcalloc(1, sizeof *s);
    s->store = store;
    s->token = rn_xstrdup(token);
    pthread_mutex_init(&s->lock, NULL);
    rn_strlist_add(&s->scopes, "local@refs/heads/main");
    struct sockaddr_in addr = {0};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    s->d = MHD_start_daemon(
        MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION | MHD_USE_ERROR_LOG, 0,
        NULL, NULL, handler, s, MHD_OPTION_SOCK_ADDR, &addr, MHD_OPTION_NOTIFY_COMPLETED, completed,
        s, MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)120, MHD_OPTION_END);
    if (!s->d) {
        *err = rn_xprintf("cache server: cannot listen on 127.0.0.1: %s", strerror(errno));
        rn_cache_server_stop(s);
        return NULL;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(s->d, MHD_DAEMON_INFO_BIND_PORT);
    s->port = info ? (unsigned)info->port : 0u;
    s->url = rn_xprintf("http://127.0.0.1:%u/", s->port);
    *url = rn_xstrdup(s->url);
    return s;
}

unsigned rn_cache_server_port(const rn_cache_server *s) {
    return s->port;
}

int rn_cache_server_serve_socket(rn_cache_server *s, int fd, char **err) {
    size_t i = 0;
    while (i < MAX_EXTRA_LISTENERS && s->extra[i])
        i++;
    if (i == MAX_EXTRA_LISTENERS) {
        close(fd);
        *err = rn_xstrdup("cache server: too many listening sockets");
        return -1;
    }
    s->extra[i] = MHD_start_daemon(
        MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION | MHD_USE_ERROR_LOG, 0,
        NULL, NULL, handler, s, MHD_OPTION_LISTEN_SOCKET, fd, MHD_OPTION_NOTIFY_COMPLETED,
        completed, s, MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)120, MHD_OPTION_END);
    if (!s->extra[i]) {
        close(fd);
        *err = rn_xprintf("cache server: cannot serve the given socket: %s", strerror(errno));
        return -1;
    }
    return 0;
}

void rn_cache_server_set_scopes(rn_cache_server *s, const char *const *scopes, size_t n) {
    if (!n)
        return;
    rn_strlist_free(&s->scopes);
    memset(&s->scopes, 0, sizeof s->scopes);
    for (size_t i = 0; i < n; i++)
        rn_strlist_add(&s->scopes, scopes[i]);
}

void rn_cache_server_env(const rn_cache_server *s, json_t *env) {
    json_object_set_new(env, "ACTIONS_CACHE_URL", json_string(s->url));
    json_object_set_new(env, "ACTIONS_RESULTS_URL", json_string(s->url));
    json_object_set_new(env, "ACTIONS_RUNTIME_TOKEN", json_string(s->token));
    json_object_set_new(env, "ACTIONS_CACHE_SERVICE_V2", json_string("True"));
}

void rn_cache_server_stop(rn_cache_server *s) {
    if (!s)
        return;
    for (size_t i = 0; i < MAX_EXTRA_LISTENERS && s->extra[i]; i++)
        MHD_stop_daemon(s->extra[i]);
    if (s->d)
        MHD_stop_daemon(s->d);
    for (reservation *r = s->res, *n; r; r = n) {
        n = r->next;
        if (!r->committed) {
            res_drop_files(r);
            unlink(r->file);
        }
        free(r->key);
        free(r->version);
        free(r->file);
        rn_strlist_free(&r->blocks);
        free(r);
    }
    rn_strlist_free(&s->scopes);
    pthread_mutex_destroy(&s->lock);
    free(s->token);
    free(s->url);
    free(s);
}
