/* Test helper for the image store tests: builds OCI images, pushes them to a registry through
 * the distribution HTTP API, writes docker-save layouts, crafts hostile layers and serves JWT
 * tokens for token auth. Independent of sandbox/image*.c on purpose (it checks them).
 *   imgtool freeport
 *   imgtool mkimage OUTDIR [--name REF] [--arch A] [--env K=V]... [--entrypoint X]
 *                   [--cmd X] [--workdir D] [--user U] LAYERFILE...
 *   imgtool push OCIDIR HOST:PORT REPO TAG [--user U:P] [--list ARM64_OCIDIR]
 *   imgtool dockersave OCIDIR OUTDIR REPOTAG
 *   imgtool evil OUT.tar dotdot|absolute|symlink|hardlink
 *   imgtool tokend PORT KEY.pem CERT.pem ISSUER   (serves GET /token?service=&scope=) */
#include <archive.h>
#include <archive_entry.h>
#include <arpa/inet.h>
#include <curl/curl.h>
#include <errno.h>
#include <jansson.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static void die(const char *fmt, const char *a) {
    fprintf(stderr, "imgtool: ");
    fprintf(stderr, fmt, a);
    fputc('\n', stderr);
    exit(1);
}

static char *readall(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f)
        die("cannot read %s", path);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *b = malloc((size_t)n + 1);
    if (fread(b, 1, (size_t)n, f) != (size_t)n)
        die("short read %s", path);
    b[n] = 0;
    fclose(f);
    *len = (size_t)n;
    return b;
}

static void sha(const void *d, size_t n, char out[72]) {
    unsigned char md[32];
    unsigned l;
    EVP_Digest(d, n, md, &l, EVP_sha256(), NULL);
    strcpy(out, "sha256:");
    for (int i = 0; i < 32; i++)
        sprintf(out + 7 + 2 * i, "%02x", md[i]);
}

static void writefile(const char *path, const void *d, size_t n) {
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(d, 1, n, f) != n || fclose(f))
        die("cannot write %s", path);
}

/* Stores bytes as a blob of an OCI layout; returns the digest in out. */
static void put_blob(const char *dir, const void *d, size_t n, char out[72]) {
    sha(d, n, out);
    char p[4096];
    snprintf(p, sizeof p, "%s/blobs/sha256/%s", dir, out + 7);
    writefile(p, d, n);
}

/* sha256 of the decompressed layer (the diff_id). */
static void diff_id(const char *file, char out[72]) {
    struct archive *a = archive_read_new();
    archive_read_support_filter_all(a);
    archive_read_support_format_raw(a);
    struct archive_entry *e;
    if (archive_read_open_filename(a, file, 65536) || archive_read_next_header(a, &e))
        die("cannot read layer %s", file);
    EVP_MD_CTX *c = EVP_MD_CTX_new();
    EVP_DigestInit_ex(c, EVP_sha256(), NULL);
    char buf[65536];
    la_ssize_t n;
    while ((n = archive_read_data(a, buf, sizeof buf)) > 0)
        EVP_DigestUpdate(c, buf, (size_t)n);
    unsigned char md[32];
    unsigned l;
    EVP_DigestFinal_ex(c, md, &l);
    EVP_MD_CTX_free(c);
    archive_read_free(a);
    strcpy(out, "sha256:");
    for (int i = 0; i < 32; i++)
        sprintf(out + 7 + 2 * i, "%02x", md[i]);
}

static const char *layer_type(const char *file) {
    size_t n;
    char *b = readall(file, &n);
    const char *t = "application/vnd.oci.image.layer.v1.tar";
    if (n > 2 && (unsigned char)b[0] == 0x1f && (unsigned char)b[1] == 0x8b)
        t = "application/vnd.oci.image.layer.v1.tar+gzip";
    else if (n > 4 && !memcmp(b, "\x28\xb5\x2f\xfd", 4))
        t = "application/vnd.oci.image.layer.v1.tar+zstd";
    free(b);
    return t;
}

static json_t *split_words(const char *s) {
    json_t *a = json_array();
    char *c = strdup(s), *save = NULL;
    for (char *w = strtok_r(c, " ", &save); w; w = strtok_r(NULL, " ", &save))
        json_array_append_new(a, json_string(w));
    free(c);
    return a;
}

static int mkimage(int argc, char **argv) {
    const char *dir = argv[2], *name = NULL, *arch = "amd64";
    json_t *cfg = json_object(), *env = json_array(), *layers = json_array();
    json_t *diffs = json_array();
    char p[4096];
    snprintf(p, sizeof p, "mkdir -p '%s/blobs/sha256'", dir);
    if (system(p))
        die("mkdir %s", dir);
    for (int i = 3; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : "";
        if (!strcmp(a, "--name"))
            name = v, i++;
        else if (!strcmp(a, "--arch"))
            arch = v, i++;
        else if (!strcmp(a, "--env"))
            json_array_append_new(env, json_string(v)), i++;
        else if (!strcmp(a, "--entrypoint"))
            json_object_set_new(cfg, "Entrypoint", split_words(v)), i++;
        else if (!strcmp(a, "--cmd"))
            json_object_set_new(cfg, "Cmd", split_words(v)), i++;
        else if (!strcmp(a, "--workdir"))
            json_object_set_new(cfg, "WorkingDir", json_string(v)), i++;
        else if (!strcmp(a, "--user"))
            json_object_set_new(cfg, "User", json_string(v)), i++;
        else {
            size_t n;
            char *b = readall(a, &n), d[72], di[72];
            put_blob(dir, b, n, d);
            free(b);
            diff_id(a, di);
            json_array_append_new(diffs, json_string(di));
            json_array_append_new(layers, json_pack("{s:s,s:I,s:s}", "mediaType", layer_type(a),
                                                    "size", (json_int_t)n, "digest", d));
        }
    }
    if (json_array_size(env))
        json_object_set(cfg, "Env", env);
    json_decref(env);
    json_t *config = json_pack("{s:s,s:s,s:o,s:{s:s,s:o}}", "architecture", arch, "os", "linux",
                               "config", cfg, "rootfs", "type", "layers", "diff_ids", diffs);
    char *ct = json_dumps(config, JSON_COMPACT);
    char cd[72], md[72];
    put_blob(dir, ct, strlen(ct), cd);
    json_t *man = json_pack("{s:i,s:s,s:{s:s,s:I,s:s},s:o}", "schemaVersion", 2, "mediaType",
                            "application/vnd.oci.image.manifest.v1+json", "config", "mediaType",
                            "application/vnd.oci.image.config.v1+json", "size",
                            (json_int_t)strlen(ct), "digest", cd, "layers", layers);
    char *mt = json_dumps(man, JSON_COMPACT);
    put_blob(dir, mt, strlen(mt), md);
    json_t *desc =
        json_pack("{s:s,s:I,s:s,s:{s:s,s:s}}", "mediaType",
                  "application/vnd.oci.image.manifest.v1+json", "size", (json_int_t)strlen(mt),
                  "digest", md, "platform", "architecture", arch, "os", "linux");
    if (name)
        json_object_set_new(desc, "annotations",
                            json_pack("{s:s}", "io.containerd.image.name", name));
    json_t *idx = json_pack("{s:i,s:s,s:[o]}", "schemaVersion", 2, "mediaType",
                            "application/vnd.oci.image.index.v1+json", "manifests", desc);
    snprintf(p, sizeof p, "%s/index.json", dir);
    json_dump_file(idx, p, JSON_COMPACT);
    snprintf(p, sizeof p, "%s/oci-layout", dir);
    writefile(p, "{\"imageLayoutVersion\":\"1.0.0\"}", 30);
    printf("%s\n", md);
    json_decref(idx);
    json_decref(man);
    json_decref(config);
    free(ct);
    free(mt);
    return 0;
}

/* ---- push ---- */

static char *g_auth; /* "Authorization: ..." */
static const char *g_user;

typedef struct buf {
    char *d;
    size_t n;
    char *loc, *www;
} buf;

static size_t wcb(char *p, size_t s, size_t n, void *ud) {
    buf *b = ud;
    b->d = realloc(b->d, b->n + s * n + 1);
    memcpy(b->d + b->n, p, s * n);
    b->n += s * n;
    b->d[b->n] = 0;
    return s * n;
}

static char *hval(const char *p, size_t len, const char *name) {
    size_t nl = strlen(name);
    if (len <= nl + 1 || strncasecmp(p, name, nl) || p[nl] != ':')
        return NULL;
    const char *v = p + nl + 1, *e = p + len;
    while (*v == ' ')
        v++;
    while (e > v && (e[-1] == '\r' || e[-1] == '\n'))
        e--;
    return strndup(v, (size_t)(e - v));
}

static size_t hcb(char *p, size_t s, size_t n, void *ud) {
    buf *b = ud;
    char *v;
    if ((v = hval(p, s * n, "Location")))
        free(b->loc), b->loc = v;
    else if ((v = hval(p, s * n, "WWW-Authenticate")))
        free(b->www), b->www = v;
    return s * n;
}

static char *param(const char *h, const char *k) {
    char pat[64];
    snprintf(pat, sizeof pat, "%s=\"", k);
    const char *p = strstr(h, pat);
    if (!p)
        return NULL;
    p += strlen(pat);
    return strndup(p, strcspn(p, "\""));
}

static long req(const char *method, const char *url, const char *ctype, const void *body,
                size_t blen, buf *out);

static void login(const char *www) {
    free(g_auth);
    if (!strncmp(www, "Basic", 5)) {
        if (!g_user)
            die("%s", "registry wants basic auth: --user");
        unsigned char enc[512];
        EVP_EncodeBlock(enc, (const unsigned char *)g_user, (int)strlen(g_user));
        g_auth = malloc(600);
        snprintf(g_auth, 600, "Authorization: Basic %s", enc);
        return;
    }
    char *realm = param(www, "realm"), *service = param(www, "service");
    char *scope = param(www, "scope");
    char url[2048];
    snprintf(url, sizeof url, "%s?service=%s&scope=%s", realm, service ? service : "",
             scope ? scope : "");
    g_auth = NULL;
    buf b = {0};
    if (req("GET", url, NULL, NULL, 0, &b) != 200)
        die("token request failed: %s", url);
    json_t *j = json_loads(b.d, 0, NULL);
    const char *t = json_string_value(json_object_get(j, "token"));
    g_auth = malloc(strlen(t) + 32);
    sprintf(g_auth, "Authorization: Bearer %s", t);
    json_decref(j);
    free(b.d);
    free(realm);
    free(service);
    free(scope);
}

static long req(const char *method, const char *url, const char *ctype, const void *body,
                size_t blen, buf *out) {
    for (int attempt = 0;; attempt++) {
        CURL *c = curl_easy_init();
        struct curl_slist *h = NULL;
        char ct[256];
        if (ctype) {
            snprintf(ct, sizeof ct, "Content-Type: %s", ctype);
            h = curl_slist_append(h, ct);
        }
        if (g_auth)
            h = curl_slist_append(h, g_auth);
        curl_easy_setopt(c, CURLOPT_URL, url);
        if (!strcmp(method, "HEAD"))
            curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
        else
            curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
        curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
        if (body || !strcmp(method, "POST") || !strcmp(method, "PUT")) {
            curl_easy_setopt(c, CURLOPT_POSTFIELDS, body ? body : "");
            curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)blen);
        }
        curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, wcb);
        curl_easy_setopt(c, CURLOPT_WRITEDATA, out);
        curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, hcb);
        curl_easy_setopt(c, CURLOPT_HEADERDATA, out);
        long code = 0;
        if (curl_easy_perform(c) != CURLE_OK)
            die("request failed: %s", url);
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
        curl_easy_cleanup(c);
        curl_slist_free_all(h);
        if (code == 401 && attempt == 0 && out->www) {
            login(out->www);
            continue;
        }
        return code;
    }
}

static void push_blob(const char *base, const char *repo, const char *dir, const char *digest) {
    char url[4096], p[4096];
    snprintf(url, sizeof url, "%s/v2/%s/blobs/%s", base, repo, digest);
    buf b = {0};
    if (req("HEAD", url, NULL, NULL, 0, &b) == 200)
        return;
    snprintf(url, sizeof url, "%s/v2/%s/blobs/uploads/", base, repo);
    memset(&b, 0, sizeof b);
    if (req("POST", url, NULL, NULL, 0, &b) != 202 || !b.loc)
        die("upload POST failed for %s", digest);
    snprintf(p, sizeof p, "%s/blobs/sha256/%s", dir, digest + 7);
    size_t n;
    char *data = readall(p, &n);
    if (b.loc[0] == '/')
        snprintf(url, sizeof url, "%s%s%sdigest=%s", base, b.loc, strchr(b.loc, '?') ? "&" : "?",
                 digest);
    else
        snprintf(url, sizeof url, "%s%sdigest=%s", b.loc, strchr(b.loc, '?') ? "&" : "?", digest);
    buf b2 = {0};
    if (req("PUT", url, "application/octet-stream", data, n, &b2) != 201)
        die("upload PUT failed for %s", digest);
    free(data);
}

/* Pushes the image of an OCI layout; returns its manifest json text (caller frees). */
static char *push_image(const char *base, const char *repo, const char *dir, const char *ref,
                        char digest[72]) {
    char p[4096];
    snprintf(p, sizeof p, "%s/index.json", dir);
    json_t *idx = json_load_file(p, 0, NULL);
    const char *md = json_string_value(
        json_object_get(json_array_get(json_object_get(idx, "manifests"), 0), "digest"));
    snprintf(p, sizeof p, "%s/blobs/sha256/%s", dir, md + 7);
    size_t n;
    char *mt = readall(p, &n);
    json_t *m = json_loads(mt, 0, NULL);
    push_blob(base, repo, dir,
              json_string_value(json_object_get(json_object_get(m, "config"), "digest")));
    size_t i;
    json_t *l;
    json_array_foreach(json_object_get(m, "layers"), i, l) {
        push_blob(base, repo, dir, json_string_value(json_object_get(l, "digest")));
    }
    char url[4096];
    snprintf(url, sizeof url, "%s/v2/%s/manifests/%s", base, repo, ref ? ref : md);
    buf b = {0};
    long code = req("PUT", url, "application/vnd.oci.image.manifest.v1+json", mt, n, &b);
    if (code != 201)
        die("manifest PUT failed: %s", b.d ? b.d : "");
    strcpy(digest, md);
    json_decref(m);
    json_decref(idx);
    return mt;
}

static int push(int argc, char **argv) {
    const char *dir = argv[2], *host = argv[3], *repo = argv[4], *tag = argv[5];
    const char *list = NULL;
    for (int i = 6; i < argc; i++) {
        if (!strcmp(argv[i], "--user") && i + 1 < argc)
            g_user = argv[++i];
        else if (!strcmp(argv[i], "--list") && i + 1 < argc)
            list = argv[++i];
    }
    if (g_user) { /* basic auth up front (htpasswd registries answer 401 anyway) */
        char *www = strdup("Basic realm=\"x\"");
        login(www);
        free(www);
    }
    char base[512];
    snprintf(base, sizeof base, "http://%s", host);
    char md[72];
    if (!list) {
        free(push_image(base, repo, dir, tag, md));
        printf("%s\n", md);
        return 0;
    }
    /* A manifest list: the other-arch image first, then the amd64 one, pushed by digest. */
    char od[72];
    char *om = push_image(base, repo, list, NULL, od);
    char *am = push_image(base, repo, dir, NULL, md);
    json_t *idx = json_pack(
        "{s:i,s:s,s:[{s:s,s:I,s:s,s:{s:s,s:s}},{s:s,s:I,s:s,s:{s:s,s:s}}]}", "schemaVersion", 2,
        "mediaType", "application/vnd.oci.image.index.v1+json", "manifests", "mediaType",
        "application/vnd.oci.image.manifest.v1+json", "size", (json_int_t)strlen(om), "digest", od,
        "platform", "architecture", "arm64", "os", "linux", "mediaType",
        "application/vnd.oci.image.manifest.v1+json", "size", (json_int_t)strlen(am), "digest", md,
        "platform", "architecture", "amd64", "os", "linux");
    char *it = json_dumps(idx, JSON_COMPACT);
    char url[4096], id[72];
    sha(it, strlen(it), id);
    snprintf(url, sizeof url, "%s/v2/%s/manifests/%s", base, repo, tag);
    buf b = {0};
    if (req("PUT", url, "application/vnd.oci.image.index.v1+json", it, strlen(it), &b) != 201)
        die("index PUT failed: %s", b.d ? b.d : "");
    printf("%s %s\n", id, md); /* index digest, amd64 manifest digest */
    free(it);
    free(om);
    free(am);
    json_decref(idx);
    return 0;
}

/* ---- docker save ---- */

static int dockersave(int argc, char **argv) {
    (void)argc;
    const char *dir = argv[2], *out = argv[3], *tag = argv[4];
    char p[4096], q[4096];
    snprintf(p, sizeof p, "%s/index.json", dir);
    json_t *idx = json_load_file(p, 0, NULL);
    const char *md = json_string_value(
        json_object_get(json_array_get(json_object_get(idx, "manifests"), 0), "digest"));
    snprintf(p, sizeof p, "%s/blobs/sha256/%s", dir, md + 7);
    json_t *m = json_load_file(p, 0, NULL);
    const char *cd = json_string_value(json_object_get(json_object_get(m, "config"), "digest"));
    snprintf(p, sizeof p, "cp '%s/blobs/sha256/%s' '%s/%s.json'", dir, cd + 7, out, cd + 7);
    if (system(p))
        die("%s", "copy config");
    json_t *layers = json_array(), *l;
    size_t i;
    json_array_foreach(json_object_get(m, "layers"), i, l) {
        const char *ld = json_string_value(json_object_get(l, "digest"));
        /* docker save layers are uncompressed tars in <id>/layer.tar */
        snprintf(q, sizeof q, "%s/%.12s", out, ld + 7);
        mkdir(q, 0755);
        snprintf(p, sizeof p, "zcat -f '%s/blobs/sha256/%s' > '%s/layer.tar'", dir, ld + 7, q);
        if (system(p))
            die("%s", "decompress layer");
        snprintf(q, sizeof q, "%.12s/layer.tar", ld + 7);
        json_array_append_new(layers, json_string(q));
    }
    snprintf(q, sizeof q, "%s.json", cd + 7);
    json_t *man = json_pack("[{s:s,s:[s],s:o}]", "Config", q, "RepoTags", tag, "Layers", layers);
    snprintf(p, sizeof p, "%s/manifest.json", out);
    json_dump_file(man, p, 0);
    json_decref(man);
    json_decref(m);
    json_decref(idx);
    return 0;
}

/* ---- hostile layers ---- */

static void add(struct archive *a, const char *path, mode_t type, const char *data,
                const char *link, int hard) {
    struct archive_entry *e = archive_entry_new();
    archive_entry_set_pathname(e, path);
    archive_entry_set_filetype(e, type);
    archive_entry_set_perm(e, type == AE_IFDIR ? 0755 : 0644);
    if (link && hard)
        archive_entry_set_hardlink(e, link);
    else if (link)
        archive_entry_set_symlink(e, link);
    archive_entry_set_size(e, data ? (la_int64_t)strlen(data) : 0);
    archive_write_header(a, e);
    if (data)
        archive_write_data(a, data, strlen(data));
    archive_entry_free(e);
}

static int evil(int argc, char **argv) {
    (void)argc;
    struct archive *a = archive_write_new();
    archive_write_set_format_pax_restricted(a);
    archive_write_open_filename(a, argv[2]);
    const char *k = argv[3];
    add(a, "ok.txt", AE_IFREG, "fine\n", NULL, 0);
    if (!strcmp(k, "dotdot"))
        add(a, "../escaped.txt", AE_IFREG, "pwned\n", NULL, 0);
    else if (!strcmp(k, "absolute"))
        add(a, "/tmp/runnel-image-escaped.txt", AE_IFREG, "pwned\n", NULL, 0);
    else if (!strcmp(k, "symlink")) { /* a symlink to outside, then a write through it */
        add(a, "link", AE_IFLNK, NULL, argv[4], 0);
        add(a, "link/escaped.txt", AE_IFREG, "pwned\n", NULL, 0);
    } else if (!strcmp(k, "hardlink"))
        add(a, "hl", AE_IFREG, NULL, "../../../../../../etc/hostname", 1);
    archive_write_close(a);
    archive_write_free(a);
    return 0;
}

/* ---- token server ---- */

static char *b64url(const unsigned char *d, size_t n) {
    char *o = malloc(4 * ((n + 2) / 3) + 1);
    EVP_EncodeBlock((unsigned char *)o, d, (int)n);
    char *w = o;
    for (char *r = o; *r; r++) {
        if (*r == '=')
            continue;
        *w++ = *r == '+' ? '-' : *r == '/' ? '_' : *r;
    }
    *w = 0;
    return o;
}

static char *urldecode(const char *s, size_t n) {
    char *o = malloc(n + 1), *w = o;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '%' && i + 2 < n) {
            char h[3] = {s[i + 1], s[i + 2], 0};
            *w++ = (char)strtol(h, NULL, 16);
            i += 2;
        } else
            *w++ = s[i] == '+' ? ' ' : s[i];
    }
    *w = 0;
    return o;
}

static char *query(const char *req, const char *key) {
    char pat[64];
    snprintf(pat, sizeof pat, "%s=", key);
    const char *p = strstr(req, pat);
    if (!p)
        return strdup("");
    p += strlen(pat);
    return urldecode(p, strcspn(p, "& \r\n"));
}

__attribute__((noreturn)) static int tokend(int argc, char **argv) {
    (void)argc;
    int port = atoi(argv[2]);
    FILE *kf = fopen(argv[3], "r"), *cf = fopen(argv[4], "r");
    if (!kf || !cf)
        die("%s", "key/cert");
    EVP_PKEY *key = PEM_read_PrivateKey(kf, NULL, NULL, NULL);
    X509 *cert = PEM_read_X509(cf, NULL, NULL, NULL);
    fclose(kf);
    fclose(cf);
    unsigned char *der = NULL;
    int dl = i2d_X509(cert, &der);
    unsigned char *x5c = malloc(4 * ((size_t)dl + 2) / 3 + 4);
    EVP_EncodeBlock(x5c, der, dl);
    int s = socket(AF_INET, SOCK_STREAM, 0), one = 1;
    setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(s, (struct sockaddr *)&sa, sizeof sa) || listen(s, 16))
        die("%s", "bind");
    for (;;) {
        int c = accept(s, NULL, NULL);
        if (c < 0)
            continue;
        char rq[8192];
        ssize_t n = recv(c, rq, sizeof rq - 1, 0);
        if (n <= 0) {
            close(c);
            continue;
        }
        rq[n] = 0;
        char *service = query(rq, "service"), *scope = query(rq, "scope");
        bool has_basic = strcasestr(rq, "\nAuthorization: Basic ") != NULL;
        /* scope "repository:NAME:pull,push" */
        json_t *access = json_array();
        char *c1 = strchr(scope, ':'), *c2 = c1 ? strrchr(scope, ':') : NULL;
        if (c1 && c2 && c2 > c1) {
            char *name = strndup(c1 + 1, (size_t)(c2 - c1 - 1));
            json_array_append_new(access, json_pack("{s:s,s:s,s:[s,s]}", "type", "repository",
                                                    "name", name, "actions", "pull", "push"));
            free(name);
        }
        time_t now = time(NULL);
        json_t *hdr = json_pack("{s:s,s:s,s:[s]}", "alg", "RS256", "typ", "JWT", "x5c", x5c);
        json_t *claims =
            json_pack("{s:s,s:s,s:s,s:I,s:I,s:I,s:s,s:o}", "iss", argv[5], "sub", "tester", "aud",
                      service, "exp", (json_int_t)now + 600, "nbf", (json_int_t)now - 10, "iat",
                      (json_int_t)now, "jti", "runnel-test", "access", access);
        char *h = json_dumps(hdr, JSON_COMPACT), *cl = json_dumps(claims, JSON_COMPACT);
        char *hb = b64url((unsigned char *)h, strlen(h)),
             *cb = b64url((unsigned char *)cl, strlen(cl));
        size_t sl = strlen(hb) + strlen(cb) + 2;
        char *signing = malloc(sl);
        snprintf(signing, sl, "%s.%s", hb, cb);
        EVP_MD_CTX *mc = EVP_MD_CTX_new();
        size_t sigl = 0;
        EVP_DigestSignInit(mc, NULL, EVP_sha256(), NULL, key);
        EVP_DigestSign(mc, NULL, &sigl, (unsigned char *)signing, strlen(signing));
        unsigned char *sig = malloc(sigl);
        EVP_DigestSign(mc, sig, &sigl, (unsigned char *)signing, strlen(signing));
        EVP_MD_CTX_free(mc);
        char *sb = b64url(sig, sigl);
        size_t tl = strlen(signing) + strlen(sb) + 64;
        char *body = malloc(tl * 2 + 64);
        snprintf(body, tl * 2 + 64, "{\"token\":\"%s.%s\",\"access_token\":\"%s.%s\"}", signing, sb,
                 signing, sb);
        char head[256];
        snprintf(head, sizeof head,
                 "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: "
                 "%zu\r\nConnection: close\r\n\r\n",
                 strlen(body));
        if (write(c, head, strlen(head)) < 0 || write(c, body, strlen(body)) < 0)
            perror("write");
        fprintf(stderr, "tokend: scope=%s basic=%d\n", scope, has_basic);
        close(c);
        free(body);
        free(sb);
        free(sig);
        free(signing);
        free(hb);
        free(cb);
        free(h);
        free(cl);
        json_decref(hdr);
        json_decref(claims);
        free(service);
        free(scope);
    }
}

static int freeport(void) {
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t l = sizeof sa;
    if (bind(s, (struct sockaddr *)&sa, sizeof sa) || getsockname(s, (struct sockaddr *)&sa, &l))
        die("%s", "bind");
    printf("%d\n", ntohs(sa.sin_port));
    close(s);
    return 0;
}

int main(int argc, char **argv) {
    curl_global_init(CURL_GLOBAL_DEFAULT);
    if (argc >= 2 && !strcmp(argv[1], "freeport"))
        return freeport();
    if (argc >= 4 && !strcmp(argv[1], "mkimage"))
        return mkimage(argc, argv);
    if (argc >= 6 && !strcmp(argv[1], "push"))
        return push(argc, argv);
    if (argc >= 5 && !strcmp(argv[1], "dockersave"))
        return dockersave(argc, argv);
    if (argc >= 4 && !strcmp(argv[1], "evil"))
        return evil(argc, argv);
    if (argc >= 6 && !strcmp(argv[1], "tokend"))
        return tokend(argc, argv);
    fprintf(stderr, "imgtool: bad usage\n");
    return 2;
}
