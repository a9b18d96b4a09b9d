/* runnel image import: OCI image layouts (dir or tar) and `docker save` archives. */
#include "common/arena.h"
#include "common/strbuf.h"
#include "sandbox/image_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Copies src into the store's blobs when its digest is expect (or, expect NULL, under its own
 * digest, returned in *got). */
static int copy_blob(rn_image_store *st, const char *src, const char *expect, char **got,
                     char **err) {
    if (expect && !rn_img_digest_valid(expect)) {
        rn_img_seterr(err, "invalid digest '%s'", expect);
        return -1;
    }
    if (expect && rn_img_blob_exists(st, expect)) {
        if (got)
            *got = rn_xstrdup(expect);
        return 0;
    }
    int in = open(src, O_RDONLY | O_CLOEXEC);
    if (in < 0) {
        rn_img_seterr(err, "%s: %s", src, strerror(errno));
        return -1;
    }
    char *tmp = rn_img_tmp_path(st, "import");
    int out = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    EVP_DigestInit_ex(ctx, EVP_sha256(), NULL);
    char buf[1 << 16];
    ssize_t n = 0;
    bool ok = out >= 0;
    while (ok && (n = read(in, buf, sizeof buf)) > 0) {
        EVP_DigestUpdate(ctx, buf, (size_t)n);
        ok = write(out, buf, (size_t)n) == n;
    }
    if (n < 0)
        ok = false;
    int e = errno;
    close(in);
    if (out >= 0)
        close(out);
    char *d = rn_img_sha256_final(ctx);
    int rc = -1;
    if (!ok)
        rn_img_seterr(err, "%s: %s", src, strerror(e));
    else if (expect && strcmp(d, expect))
        rn_img_seterr(err, "%s: digest mismatch: expected %s, got %s", src, expect, d);
    else if (rn_img_blob_exists(st, d))
        rc = 0;
    else {
        char *p = rn_img_blob_path(st, d);
        rc = rename(tmp, p) ? -1 : 0;
        if (rc)
            rn_img_seterr(err, "cannot store %s: %s", p, strerror(errno));
        free(p);
    }
    unlink(tmp);
    free(tmp);
    if (rc == 0 && got)
        *got = d;
    else
        free(d);
    return rc;
}

static json_t *load_json(const char *path, char **err) {
    json_error_t je;
    json_t *j = json_load_file(path, 0, &je);
    if (!j)
        rn_img_seterr(err, "%s: %s", path, je.text);
    return j;
}

typedef struct found {
    char *digest; /* manifest digest in the store */
    char **names;
    size_t nnames;
} found;

static void found_add_name(found *f, const char *n) {
    f->names = rn_xrealloc(f->names, (f->nnames + 1) * sizeof *f->names);
    f->names[f->nnames++] = rn_xstrdup(n);
}

/* Imports one manifest descriptor of an OCI layout (following nested indexes). */
static int oci_manifest(rn_image_store *st, const char *dir, json_t *desc, found *f, char **err) {
    const char *d = json_string_value(json_object_get(desc, "digest"));
    if (!rn_img_digest_valid(d)) {
        rn_img_seterr(err, "index.json: invalid digest");
        return -1;
    }
    char *src = rn_xprintf("%s/blobs/sha256/%s", dir, d + 7);
    json_t *m = load_json(src, err);
    int rc = -1;
    if (!m)
        goto out;
    const char *mt = json_string_value(json_object_get(m, "mediaType"));
    if (!mt)
        mt = json_string_value(json_object_get(desc, "mediaType"));
    if (json_is_array(json_object_get(m, "manifests")) ||
        (mt && (!strcmp(mt, RN_MT_OCI_INDEX) || !strcmp(mt, RN_MT_DOCKER_LIST)))) {
        size_t i;
        json_t *sub;
        json_array_foreach(json_object_get(m, "manifests"), i, sub) {
            if (rn_img_platform_match(sub, false)) {
                rc = oci_manifest(st, dir, sub, f, err);
                goto out;
            }
        }
        rn_img_seterr(err, "image index %s has no linux/amd64 manifest", d);
        goto out;
    }
    const char *cd = json_string_value(json_object_get(json_object_get(m, "config"), "digest"));
    char *cs = rn_xprintf("%s/blobs/sha256/%s", dir, cd && strlen(cd) > 7 ? cd + 7 : "");
    rc = copy_blob(st, cs, cd, NULL, err);
    free(cs);
    size_t i;
    json_t *l;
    json_array_foreach(json_object_get(m, "layers"), i, l) {
        if (rc)
            break;
        const char *ld = json_string_value(json_object_get(l, "digest"));
        char *ls = rn_xprintf("%s/blobs/sha256/%s", dir, ld && strlen(ld) > 7 ? ld + 7 : "");
        rc = copy_blob(st, ls, ld, NULL, err);
        free(ls);
    }
    if (!rc)
        rc = copy_blob(st, src, d, &f->digest, err);
out:
    json_decref(m);
    free(src);
    return rc;
}

static int import_oci(rn_image_store *st, const char *dir, found **out, size_t *nout, char **err) {
    char *ip = rn_xprintf("%s/index.json", dir);
    json_t *idx = load_json(ip, err);
    free(ip);
    if (!idx)
        return -1;
    size_t i;
    json_t *desc;
    int rc = 0;
    json_array_foreach(json_object_get(idx, "manifests"), i, desc) {
        found f = {0};
        if (oci_manifest(st, dir, desc, &f, err)) {
            rc = -1;
            break;
        }
        json_t *ann = json_object_get(desc, "annotations");
        const char *full = json_string_value(json_object_get(ann, "io.containerd.image.name"));
        const char *rn =
            json_string_value(json_object_get(ann, "org.opencontainers.image.ref.name"));
        /* A bare ref.name ("v1") is only a tag: it names nothing without --tag. */
        if (full)
            found_add_name(&f, full);
        else if (rn && (strchr(rn, '/') || strchr(rn, ':')))
            found_add_name(&f, rn);
        *out = rn_xrealloc(*out, (*nout + 1) * sizeof **out);
        (*out)[(*nout)++] = f;
    }
    json_decref(idx);
    return rc;
}

static int import_docker(rn_image_store *st, const char *dir, found **out, size_t *nout,
                         char **err) {
    char *mp = rn_xprintf("%s/manifest.json", dir);
    json_t *arr = load_json(mp, err);
    free(mp);
    if (!arr)
        return -1;
    int rc = 0;
    size_t i;
    json_t *ent;
    json_array_foreach(arr, i, ent) {
        const char *cfg = json_string_value(json_object_get(ent, "Config"));
        if (!cfg || strstr(cfg, "..")) {
            rn_img_seterr(err, "manifest.json: bad Config");
            rc = -1;
            break;
        }
        char *cp = rn_xprintf("%s/%s", dir, cfg), *cd = NULL;
        struct stat sb;
        rc = copy_blob(st, cp, NULL, &cd, err);
        json_int_t csize = rc == 0 && stat(cp, &sb) == 0 ? (json_int_t)sb.st_size : 0;
        free(cp);
        if (rc)
            break;
        json_t *layers = json_array(), *l;
        size_t k;
        json_array_foreach(json_object_get(ent, "Layers"), k, l) {
            const char *lp = json_string_value(l);
            if (!lp || strstr(lp, "..")) {
                rn_img_seterr(err, "manifest.json: bad layer path");
                rc = -1;
                break;
            }
            char *p = rn_xprintf("%s/%s", dir, lp), *ld = NULL;
            rc = copy_blob(st, p, NULL, &ld, err);
            if (!rc && stat(p, &sb) == 0)
                json_array_append_new(layers, json_pack("{s:s,s:I,s:s}", "mediaType",
                                                        RN_MT_DOCKER_LAYER_TAR, "size",
                                                        (json_int_t)sb.st_size, "digest", ld));
            free(ld);
            free(p);
            if (rc)
                break;
        }
        if (rc) {
            json_decref(layers);
            free(cd);
            break;
        }
        json_t *man = json_pack("{s:i,s:s,s:{s:s,s:I,s:s},s:o}", "schemaVersion", 2, "mediaType",
                                RN_MT_DOCKER_MANIFEST, "config", "mediaType", RN_MT_DOCKER_CONFIG,
                                "size", csize, "digest", cd, "layers", layers);
        free(cd);
        char *txt = json_dumps(man, JSON_COMPACT);
        json_decref(man);
        found f = {0};
        f.digest = rn_img_sha256_mem(txt, strlen(txt));
        rc = rn_img_blob_put_mem(st, txt, strlen(txt), NULL, err);
        free(txt);
        json_array_foreach(json_object_get(ent, "RepoTags"), k, l) {
            if (json_is_string(l))
                found_add_name(&f, json_string_value(l));
        }
        *out = rn_xrealloc(*out, (*nout + 1) * sizeof **out);
        (*out)[(*nout)++] = f;
        if (rc)
            break;
    }
    json_decref(arr);
    return rc;
}

int rn_image_import(rn_image_store *st, const char *path, const char *tag, char ***refs_out,
                    char **err) {
    struct stat sb;
    if (stat(path, &sb)) {
        rn_img_seterr(err, "%s: %s", path, strerror(errno));
        return -1;
    }
    int gl = rn_img_gc_lock(st, false);
    char *work = NULL;
    const char *dir = path;
    found *fs = NULL;
    size_t nfs = 0;
    int rc = -1;
    if (!S_ISDIR(sb.st_mode)) {
        work = rn_img_tmp_path(st, "import-dir");
        if (mkdir(work, 0700)) {
            rn_img_seterr(err, "%s: %s", work, strerror(errno));
            goto out;
        }
        if (rn_img_extract_plain(path, work, err))
            goto out;
        dir = work;
    }
    char *probe = rn_xprintf("%s/oci-layout", dir);
    bool oci = access(probe, F_OK) == 0;
    free(probe);
    probe = rn_xprintf("%s/manifest.json", dir);
    bool docker = access(probe, F_OK) == 0;
    free(probe);
    /* Newer `docker save` writes both; manifest.json carries the RepoTags. */
    if (docker)
        rc = import_docker(st, dir, &fs, &nfs, err);
    else if (oci)
        rc = import_oci(st, dir, &fs, &nfs, err);
    else
        rn_img_seterr(err,
                      "%s: neither an OCI image layout (oci-layout) nor a docker save "
                      "archive (manifest.json)",
                      path);
    if (rc)
        goto out;
    if (tag && nfs != 1) {
        rn_img_seterr(err, "--tag needs exactly one image in %s (found %zu)", path, nfs);
        rc = -1;
        goto out;
    }
    rn_sb names = RN_SB_INIT;
    size_t nrefs = 0;
    char **refs = rn_xcalloc(1, sizeof *refs);
    for (size_t i = 0; i < nfs && rc == 0; i++) {
        json_t *m = rn_img_blob_json(st, fs[i].digest, err);
        rc = m ? rn_img_finish_manifest(st, m, err) : -1;
        json_decref(m);
        const char *one[1] = {tag};
        const char **list = tag ? one : (const char **)fs[i].names;
        size_t n = tag ? 1 : fs[i].nnames;
        for (size_t k = 0; k < n && rc == 0; k++) {
            char *norm = rn_image_ref_normalize(list[k], err);
            rc = norm ? rn_img_index_set(st, norm, fs[i].digest, err) : -1;
            if (norm) {
                refs = rn_xrealloc(refs, (nrefs + 2) * sizeof *refs);
                refs[nrefs++] = norm;
                refs[nrefs] = NULL;
            }
        }
        if (rc == 0 && n == 0) {
            refs = rn_xrealloc(refs, (nrefs + 2) * sizeof *refs);
            refs[nrefs++] = rn_xstrdup(fs[i].digest);
            refs[nrefs] = NULL;
        }
    }
    rn_sb_free(&names);
    if (rc == 0 && refs_out)
        *refs_out = refs;
    else {
        for (size_t i = 0; i < nrefs; i++)
            free(refs[i]);
        free(refs);
    }
    if (rc == 0)
        rc = (int)nfs;
out:
    for (size_t i = 0; i < nfs; i++) {
        free(fs[i].digest);
        for (size_t k = 0; k < fs[i].nnames; k++)
            free(fs[i].names[k]);
        free(fs[i].names);
    }
    free(fs);
    if (work) {
        rn_img_rm_rf(work);
        free(work);
    }
    if (gl >= 0)
        close(gl);
    return rc;
}
