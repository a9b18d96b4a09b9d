/* The cache server driven with libcurl the way @actions/cache talks to it: v1 (reserve, PATCH
 * chunks with Content-Range, commit, lookup, download), v2 (Twirp CreateCacheEntry, Azure-style
 * block upload, FinalizeCacheEntryUpload, GetCacheEntryDownloadURL, ranged download), tokens,
 * and concurrent uploads. */
#include "actions/cache_server.h"
#include "common/arena.h"
#include "common/strbuf.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <arpa/inet.h>
#include <cmocka.h>
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static char root[] = "/tmp/rn-cache-server.XXXXXX";
static rn_cache_store *store;
static rn_cache_server *srv;
static char *base;
static const char *TOKEN = "run-token-123";

typedef struct resp {
    long code;
    rn_sb body;
} resp;

static size_t collect(char *p, size_t n, size_t m, void *ud) {
    rn_sb_append(&((resp *)ud)->body, p, n * m);
    return n * m;
}

/* One request; url relative to the server unless it starts with http. */
static resp req(const char *method, const char *url, const char *token, const char *ctype,
                const char *body, size_t blen, const char *extra_header) {
    CURL *c = curl_easy_init();
    char *full = strncmp(url, "http", 4) ? rn_xprintf("%s%s", base, url) : rn_xstrdup(url);
    struct curl_slist *h = NULL;
    char *auth = token ? rn_xprintf("Authorization: Bearer %s", token) : NULL;
    char *ct = ctype ? rn_xprintf("Content-Type: %s", ctype) : NULL;
    if (auth)
        h = curl_slist_append(h, auth);
    if (ct)
        h = curl_slist_append(h, ct);
    if (extra_header)
        h = curl_slist_append(h, extra_header);
    h = curl_slist_append(h, "Expect:");
    resp r = {0, RN_SB_INIT};
    curl_easy_setopt(c, CURLOPT_URL, full);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &r);
    if (body) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)blen);
    }
    assert_int_equal(curl_easy_perform(c), CURLE_OK);
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r.code);
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    free(full);
    free(auth);
    free(ct);
    return r;
}

static json_t *json_of(resp *r) {
    json_t *j = json_loadb(r->body.data ? r->body.data : "", r->body.len, 0, NULL);
    assert_non_null(j);
    return j;
}

static int setup(void **state) {
    (void)state;
    assert_non_null(mkdtemp(root));
    char *err = NULL;
    char *sr = rn_xprintf("%s/store", root);
    store = rn_cache_store_open(sr, 1LL << 30, &err);
    free(sr);
    assert_non_null(store);
    srv = rn_cache_server_start(store, TOKEN, &base, &err);
    assert_non_null(srv);
    const char *scopes[] = {"o/r@refs/heads/feature", "o/r@refs/heads/main"};
    rn_cache_server_set_scopes(srv, scopes, 2);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    return 0;
}

static int teardown(void **state) {
    (void)state;
    rn_cache_server_stop(srv);
    rn_cache_store_close(store);
    free(base);
    char *cmd = rn_xprintf("rm -rf '%s'", root);
    assert_int_equal(system(cmd), 0);
    free(cmd);
    curl_global_cleanup();
    return 0;
}

static char *payload(size_t n, unsigned seed) {
    char *p = rn_xmalloc(n);
    for (size_t i = 0; i < n; i++) {
        seed = seed * 1103515245u + 12345u;
        p[i] = (char)(seed >> 16);
    }
    return p;
}

static void test_env(void **state) {
    (void)state;
    json_t *env = json_object();
    rn_cache_server_env(srv, env);
    assert_string_equal(json_string_value(json_object_get(env, "ACTIONS_CACHE_URL")), base);
    assert_string_equal(json_string_value(json_object_get(env, "ACTIONS_RESULTS_URL")), base);
    assert_string_equal(json_string_value(json_object_get(env, "ACTIONS_RUNTIME_TOKEN")), TOKEN);
    assert_string_equal(json_string_value(json_object_get(env, "ACTIONS_CACHE_SERVICE_V2")),
                        "True");
    json_decref(env);
    assert_true(!strncmp(base, "http://127.0.0.1:", 17));
}

static void test_tokens(void **state) {
    (void)state;
    resp r = req("GET", "_apis/artifactcache/cache?keys=a&version=v", "wrong", NULL, NULL, 0, NULL);
    assert_int_equal(r.code, 401);
    rn_sb_free(&r.body);
    r = req("GET", "_apis/artifactcache/cache?keys=a&version=v", NULL, NULL, NULL, 0, NULL);
    assert_int_equal(r.code, 401);
    rn_sb_free(&r.body);
    r = req("POST", "twirp/github.actions.results.api.v1.CacheService/CreateCacheEntry", "wrong",
            "application/json", "{\"key\":\"k\",\"version\":\"v\"}",
            strlen("{\"key\":\"k\",\"version\":\"v\"}"), NULL);
    assert_int_equal(r.code, 401);
    json_t *j = json_of(&r);
    assert_string_equal(json_string_value(json_object_get(j, "code")), "unauthenticated");
    json_decref(j);
    rn_sb_free(&r.body);
    /* a miss with the right token is 204 */
    r = req("GET", "_apis/artifactcache/cache?keys=none&version=v", TOKEN, NULL, NULL, 0, NULL);
    assert_int_equal(r.code, 204);
    rn_sb_free(&r.body);
}

static void test_v1_round_trip(void **state) {
    (void)state;
    size_t n = 300000;
    char *data = payload(n, 1);
    resp r = req("POST", "_apis/artifactcache/caches", TOKEN, "application/json",
                 "{\"key\":\"v1-key\",\"version\":\"ver1\",\"cacheSize\":300000}",
                 strlen("{\"key\":\"v1-key\",\"version\":\"ver1\",\"cacheSize\":300000}"), NULL);
    assert_int_equal(r.code, 201);
    json_t *j = json_of(&r);
    long long id = json_integer_value(json_object_get(j, "cacheId"));
    assert_true(id > 0);
    json_decref(j);
    rn_sb_free(&r.body);
    /* the same key again is taken */
    r = req("POST", "_apis/artifactcache/caches", TOKEN, "application/json",
            "{\"key\":\"v1-key\",\"version\":\"ver1\"}",
            strlen("{\"key\":\"v1-key\",\"version\":\"ver1\"}"), NULL);
    assert_int_equal(r.code, 409);
    rn_sb_free(&r.body);
    /* chunks out of order, as the toolkit's parallel uploads may send them */
    char *url = rn_xprintf("_apis/artifactcache/caches/%lld", id);
    size_t cut = 131072;
    char hdr[96];
    snprintf(hdr, sizeof hdr, "Content-Range: bytes %zu-%zu/*", cut, n - 1);
    r = req("PATCH", url, TOKEN, "application/octet-stream", data + cut, n - cut, hdr);
    assert_int_equal(r.code, 204);
    rn_sb_free(&r.body);
    snprintf(hdr, sizeof hdr, "Content-Range: bytes 0-%zu/*", cut - 1);
    r = req("PATCH", url, TOKEN, "application/octet-stream", data, cut, hdr);
    assert_int_equal(r.code, 204);
    rn_sb_free(&r.body);
    /* a wrong size does not commit */
    r = req("POST", url, TOKEN, "application/json", "{\"size\":5}", strlen("{\"size\":5}"), NULL);
    assert_int_equal(r.code, 400);
    rn_sb_free(&r.body);
    r = req("POST", url, TOKEN, "application/json", "{\"size\":300000}",
            strlen("{\"size\":300000}"), NULL);
    assert_int_equal(r.code, 204);
    rn_sb_free(&r.body);
    /* lookup by prefix, then download */
    r = req("GET", "_apis/artifactcache/cache?keys=nope,v1-&version=ver1", TOKEN, NULL, NULL, 0,
            NULL);
    assert_int_equal(r.code, 200);
    j = json_of(&r);
    assert_string_equal(json_string_value(json_object_get(j, "cacheKey")), "v1-key");
    assert_string_equal(json_string_value(json_object_get(j, "scope")), "o/r@refs/heads/feature");
    const char *loc = json_string_value(json_object_get(j, "archiveLocation"));
    assert_non_null(loc);
    resp d = req("GET", loc, NULL, NULL, NULL, 0, NULL);
    assert_int_equal(d.code, 200);
    assert_int_equal(d.body.len, n);
    assert_memory_equal(d.body.data, data, n);
    rn_sb_free(&d.body);
    /* a tampered signature is refused */
    char *bad = rn_xstrdup(loc);
    bad[strlen(bad) - 1] = bad[strlen(bad) - 1] == '0' ? '1' : '0';
    d = req("GET", bad, NULL, NULL, NULL, 0, NULL);
    assert_int_equal(d.code, 403);
    rn_sb_free(&d.body);
    free(bad);
    json_decref(j);
    rn_sb_free(&r.body);
    /* another version misses */
    r = req("GET", "_apis/artifactcache/cache?keys=v1-key&version=ver2", TOKEN, NULL, NULL, 0,
            NULL);
    assert_int_equal(r.code, 204);
    rn_sb_free(&r.body);
    free(url);
    free(data);
}

static json_t *twirp(const char *method, json_t *body, long want_code) {
    char *url = rn_xprintf("twirp/github.actions.results.api.v1.CacheService/%s", method);
    char *b = json_dumps(body, JSON_COMPACT);
    json_decref(body);
    resp r = req("POST", url, TOKEN, "application/json", b, strlen(b), NULL);
    assert_int_equal(r.code, want_code);
    json_t *j = json_of(&r);
    rn_sb_free(&r.body);
    free(b);
    free(url);
    return j;
}

/* Azure Put Block + Put Block List to a signed upload URL, as the storage SDK does. */
static void upload_blocks(const char *u, const char *data, size_t n, size_t block) {
    rn_sb list = RN_SB_INIT;
    rn_sb_puts(&list, "<?xml version=\"1.0\" encoding=\"utf-8\"?><BlockList>");
    for (size_t off = 0, i = 0; off < n; off += block, i++) {
        char id[32];
        snprintf(id, sizeof id, "QkxPQ0stMDAw%04zu", i); /* base64-looking ids */
        char *bu = rn_xprintf("%s&comp=block&blockid=%s", u, id);
        size_t len = n - off < block ? n - off : block;
        resp r = req("PUT", bu, NULL, "application/octet-stream", data + off, len, NULL);
        assert_int_equal(r.code, 201);
        rn_sb_free(&r.body);
        free(bu);
        rn_sb_printf(&list, "<Latest>%s</Latest>", id);
    }
    rn_sb_puts(&list, "</BlockList>");
    char *lu = rn_xprintf("%s&comp=blocklist", u);
    resp r = req("PUT", lu, NULL, "application/xml", list.data, list.len, NULL);
    assert_int_equal(r.code, 201);
    rn_sb_free(&r.body);
    rn_sb_free(&list);
    free(lu);
}

static void test_v2_round_trip(void **state) {
    (void)state;
    size_t n = 500000;
    char *data = payload(n, 2);
    json_t *j =
        twirp("CreateCacheEntry", json_pack("{s:s,s:s}", "key", "v2-key", "version", "V"), 200);
    assert_true(json_is_true(json_object_get(j, "ok")));
    char *u = rn_xstrdup(json_string_value(json_object_get(j, "signed_upload_url")));
    json_decref(j);
    upload_blocks(u, data, n, 200000);
    /* creating it again while the upload is open is refused */
    j = twirp("CreateCacheEntry", json_pack("{s:s,s:s}", "key", "v2-key", "version", "V"), 200);
    assert_true(json_is_false(json_object_get(j, "ok")));
    json_decref(j);
    j = twirp("FinalizeCacheEntryUpload",
              json_pack("{s:s,s:s,s:s}", "key", "v2-key", "version", "V", "size_bytes", "500000"),
              200);
    assert_true(json_is_true(json_object_get(j, "ok")));
    assert_true(atoll(json_string_value(json_object_get(j, "entry_id"))) > 0);
    json_decref(j);
    /* lookup with restore keys; the primary key misses */
    j = twirp(
        "GetCacheEntryDownloadURL",
        json_pack("{s:s,s:[s],s:s}", "key", "v2-other", "restore_keys", "v2-", "version", "V"),
        200);
    assert_true(json_is_true(json_object_get(j, "ok")));
    assert_string_equal(json_string_value(json_object_get(j, "matched_key")), "v2-key");
    const char *d = json_string_value(json_object_get(j, "signed_download_url"));
    resp r = req("GET", d, NULL, NULL, NULL, 0, NULL);
    assert_int_equal(r.code, 200);
    assert_int_equal(r.body.len, n);
    assert_memory_equal(r.body.data, data, n);
    rn_sb_free(&r.body);
    /* ranged download (the toolkit's concurrent downloader) */
    r = req("GET", d, NULL, NULL, NULL, 0, "Range: bytes=1000-1999");
    assert_int_equal(r.code, 206);
    assert_int_equal(r.body.len, 1000);
    assert_memory_equal(r.body.data, data + 1000, 1000);
    rn_sb_free(&r.body);
    json_decref(j);
    /* a miss */
    j = twirp("GetCacheEntryDownloadURL",
              json_pack("{s:s,s:[],s:s}", "key", "absent", "restore_keys", "version", "V"), 200);
    assert_true(json_is_false(json_object_get(j, "ok")));
    json_decref(j);
    /* a single-shot upload (Put Blob) */
    j = twirp("CreateCacheEntry", json_pack("{s:s,s:s}", "key", "v2-single", "version", "V"), 200);
    free(u);
    u = rn_xstrdup(json_string_value(json_object_get(j, "signed_upload_url")));
    json_decref(j);
    r = req("PUT", u, NULL, "application/octet-stream", data, 1234, "x-ms-blob-type: BlockBlob");
    assert_int_equal(r.code, 201);
    rn_sb_free(&r.body);
    j = twirp("FinalizeCacheEntryUpload",
              json_pack("{s:s,s:s,s:I}", "key", "v2-single", "version", "V", "size_bytes",
                        (json_int_t)1234),
              200);
    assert_true(json_is_true(json_object_get(j, "ok")));
    json_decref(j);
    j = twirp("GetCacheEntryDownloadURL",
              json_pack("{s:s,s:s}", "key", "v2-single", "version", "V"), 200);
    r = req("GET", json_string_value(json_object_get(j, "signed_download_url")), NULL, NULL, NULL,
            0, NULL);
    assert_int_equal(r.body.len, 1234);
    assert_memory_equal(r.body.data, data, 1234);
    rn_sb_free(&r.body);
    json_decref(j);
    free(u);
    free(data);
}

typedef struct up {
    int i;
    bool ok;
} up;

static void *uploader(void *arg) {
    up *a = arg;
    size_t n = 400000;
    char *data = payload(n, 100u + (unsigned)a->i);
    char key[32];
    snprintf(key, sizeof key, "par-%d", a->i);
    json_t *j = twirp("CreateCacheEntry", json_pack("{s:s,s:s}", "key", key, "version", "P"), 200);
    char *u = rn_xstrdup(json_string_value(json_object_get(j, "signed_upload_url")));
    json_decref(j);
    upload_blocks(u, data, n, 65536);
    j = twirp("FinalizeCacheEntryUpload",
              json_pack("{s:s,s:s,s:s}", "key", key, "version", "P", "size_bytes", "400000"), 200);
    bool ok = json_is_true(json_object_get(j, "ok"));
    json_decref(j);
    j = twirp("GetCacheEntryDownloadURL", json_pack("{s:s,s:s}", "key", key, "version", "P"), 200);
    resp r = req("GET", json_string_value(json_object_get(j, "signed_download_url")), NULL, NULL,
                 NULL, 0, NULL);
    a->ok = ok && r.body.len == n && !memcmp(r.body.data, data, n);
    rn_sb_free(&r.body);
    json_decref(j);
    free(u);
    free(data);
    return NULL;
}

static void test_concurrent_uploads(void **state) {
    (void)state;
    pthread_t t[4];
    up a[4];
    for (int i = 0; i < 4; i++) {
        a[i].i = i;
        a[i].ok = false;
        pthread_create(&t[i], NULL, uploader, &a[i]);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(t[i], NULL);
        assert_true(a[i].ok);
    }
}

/* An entry the built-in saved (unpacked copy only) is served as a tar.zst made on demand. */
static void test_download_builtin_entry(void **state) {
    (void)state;
    char *dir = rn_xprintf("%s/ws/deps", root);
    char *mk = rn_xprintf("mkdir -p '%s' && printf hello > '%s/f.txt'", dir, dir);
    assert_int_equal(system(mk), 0);
    char *ws = rn_xprintf("%s/ws", root);
    const char *items[] = {dir};
    char *err = NULL;
    assert_int_equal(
        rn_cache_save(store, "o/r@refs/heads/main", "builtin-1", "B", ws, NULL, 0, items, 1, &err),
        0);
    json_t *j = twirp("GetCacheEntryDownloadURL",
                      json_pack("{s:s,s:s}", "key", "builtin-1", "version", "B"), 200);
    assert_true(json_is_true(json_object_get(j, "ok")));
    resp r = req("GET", json_string_value(json_object_get(j, "signed_download_url")), NULL, NULL,
                 NULL, 0, NULL);
    assert_int_equal(r.code, 200);
    char *tz = rn_xprintf("%s/dl.tzst", root);
    FILE *f = fopen(tz, "wb");
    fwrite(r.body.data, 1, r.body.len, f);
    fclose(f);
    /* what tar (as the toolkit runs it) sees */
    char *x =
        rn_xprintf("mkdir -p '%s/x' && tar -I zstd -xf '%s' -C '%s/x' && cmp '%s/x/deps/f.txt' "
                   "'%s/f.txt'",
                   root, tz, root, root, dir);
    assert_int_equal(system(x), 0);
    rn_sb_free(&r.body);
    json_decref(j);
    free(x);
    free(tz);
    free(ws);
    free(mk);
    free(dir);
}

/* The same service on a socket handed over later (runnel makes it in a job's private network
 * namespace); here one on the host's loopback: same token checks, and stop closes it. */
static void test_serve_socket(void **state) {
    (void)state;
    char *url = NULL, *err = NULL;
    rn_cache_server *s2 = rn_cache_server_start(store, TOKEN, &url, &err);
    assert_non_null(s2);
    char *want = rn_xprintf("http://127.0.0.1:%u/", rn_cache_server_port(s2));
    assert_string_equal(url, want);
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t alen = sizeof a;
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(listen(fd, 8), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &alen), 0);
    assert_int_equal(rn_cache_server_serve_socket(s2, fd, &err), 0);
    char *q = rn_xprintf("http://127.0.0.1:%u/_apis/artifactcache/cache?keys=none&version=v",
                         (unsigned)ntohs(a.sin_port));
    resp r = req("GET", q, TOKEN, NULL, NULL, 0, NULL);
    assert_int_equal(r.code, 204);
    rn_sb_free(&r.body);
    r = req("GET", q, "wrong", NULL, NULL, 0, NULL);
    assert_int_equal(r.code, 401);
    rn_sb_free(&r.body);
    rn_cache_server_stop(s2);
    errno = 0;
    assert_int_equal(fcntl(fd, F_GETFD), -1); /* the server closed it */
    assert_int_equal(errno, EBADF);
    free(q);
    free(want);
    free(url);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_env),
        cmocka_unit_test(test_tokens),
        cmocka_unit_test(test_v1_round_trip),
        cmocka_unit_test(test_v2_round_trip),
        cmocka_unit_test(test_concurrent_uploads),
        cmocka_unit_test(test_download_builtin_entry),
        cmocka_unit_test(test_serve_socket),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
