/* Internals shared by sandbox/image*.c (not for other modules: use sandbox/image.h).
 * Ownership: functions returning char * or json_t * hand a new reference / heap string to the
 * caller; err strings are set with rn_img_seterr() and freed by the caller of the public API. */
#ifndef RN_IMAGE_INT_H
#define RN_IMAGE_INT_H

#include "sandbox/image.h"

#include <jansson.h>
#include <openssl/evp.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct rn_image_store {
    char *root;
    const char *xattr_ns; /* "trusted" or "user" */
};

#define RN_MT_OCI_INDEX "application/vnd.oci.image.index.v1+json"
#define RN_MT_OCI_MANIFEST "application/vnd.oci.image.manifest.v1+json"
#define RN_MT_OCI_CONFIG "application/vnd.oci.image.config.v1+json"
#define RN_MT_DOCKER_LIST "application/vnd.docker.distribution.manifest.list.v2+json"
#define RN_MT_DOCKER_MANIFEST "application/vnd.docker.distribution.manifest.v2+json"
#define RN_MT_DOCKER_CONFIG "application/vnd.docker.container.image.v1+json"
#define RN_MT_DOCKER_LAYER_TAR "application/vnd.docker.image.rootfs.diff.tar"

void rn_img_seterr(char **err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* A parsed reference: domain ("docker.io", "localhost:5000"), repo ("library/busybox"), tag
 * (NULL when a digest is given) and digest (or NULL). */
typedef struct rn_img_ref {
    char *domain, *repo, *tag, *digest;
} rn_img_ref;
int rn_img_ref_parse(const char *s, rn_img_ref *out, char **err);
void rn_img_ref_free(rn_img_ref *r);
char *rn_img_ref_string(const rn_img_ref *r); /* normalized form; caller frees */

/* linux/amd64 descriptor check; a descriptor without "platform" matches when missing_ok. */
bool rn_img_platform_match(json_t *desc, bool missing_ok);

/* "sha256:<64 hex>" check. */
bool rn_img_digest_valid(const char *d);
/* sha256 of memory as "sha256:<hex>" (caller frees). */
char *rn_img_sha256_mem(const void *data, size_t len);
/* Finishes an EVP sha256 context into "sha256:<hex>" (caller frees; frees ctx). */
char *rn_img_sha256_final(EVP_MD_CTX *ctx);
char *rn_img_sha256_file(const char *path, char **err);

char *rn_img_blob_path(const rn_image_store *st, const char *digest); /* caller frees */
char *rn_img_layer_path(const rn_image_store *st, const char *digest);
bool rn_img_blob_exists(const rn_image_store *st, const char *digest);
/* Stores bytes as a blob; verifies them against expect when not NULL. */
int rn_img_blob_put_mem(rn_image_store *st, const void *data, size_t len, const char *expect,
                        char **err);
/* Moves a complete file (in the store's tmp/) into the blobs when its digest is expect; the
 * file is removed on mismatch. */
int rn_img_blob_put_file(rn_image_store *st, const char *tmp_path, const char *expect, char **err);
/* Loads a blob as JSON. */
json_t *rn_img_blob_json(const rn_image_store *st, const char *digest, char **err);

/* flock helpers: open (creating) path and lock it. Returns the fd (close to unlock) or -1. */
int rn_img_lock(const char *path, bool exclusive);
int rn_img_blob_lock(const rn_image_store *st, const char *digest);
int rn_img_gc_lock(const rn_image_store *st, bool exclusive);
/* A fresh temp path under tmp/ (not created). Caller frees. */
char *rn_img_tmp_path(const rn_image_store *st, const char *what);

/* Unpacks a layer blob into layers/sha256/<hex>/ unless already there. */
int rn_img_unpack_layer(rn_image_store *st, const char *digest, char **err);
/* Extracts an archive file (tar, any compression) into an existing dir, securely (no
 * whiteout handling): used for imports of tarballs. */
int rn_img_extract_plain(const char *archive, const char *dir, char **err);

/* Checks a manifest (JSON) with its config and layer blobs present and unpacks the layers. */
int rn_img_finish_manifest(rn_image_store *st, json_t *manifest, char **err);
/* Points ref at digest in index.json (atomic, locked). */
int rn_img_index_set(rn_image_store *st, const char *ref, const char *digest, char **err);

int rn_img_mkdirs(const char *path, mode_t mode);
int rn_img_rm_rf(const char *path);
int rn_img_write_file_atomic(const char *path, const void *data, size_t len);

/* Test hook: RUNNEL_IMAGE_ABORT_AFTER=N makes a blob download stop after N bytes (leaving the
 * partial file), to test resume. */
long long rn_img_abort_after(void);

#endif
