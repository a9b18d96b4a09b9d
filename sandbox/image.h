/* OCI image store: content-addressed blobs, layers unpacked once, refs, registry pulls, imports.
 *
 * Layout under the store root (rn_image_store_default_root(): $RUNNEL_HOME, else
 * $XDG_DATA_HOME/runnel, else ~/.local/share/runnel; images live in <root>/images):
 *   blobs/sha256/<hex>        every manifest, config and layer blob, verified before it is
 *                             renamed into place (written to tmp/ first)
 *   layers/sha256/<hex>/      a layer blob (<hex> is the blob's digest, compressed or not)
 *                             unpacked once, ready to be an overlayfs lower dir
 *   index.json                refs: normalized "host/repo:tag" or "host/repo@sha256:..." ->
 *                             platform manifest digest; rewritten atomically under index.lock
 *   store.json                {"overlay_xattr": "trusted"|"user"} fixed when the store is made
 *   tmp/                      partial downloads (resumed with Range), unpack work dirs
 *
 * Overlay contract for unpacked layers (for sandbox/container*):
 *   - a whiteout (.wh.NAME in the layer tar) is a character device 0/0 named NAME;
 *   - an opaque directory (.wh..wh..opq) carries the xattr "<ns>.overlay.opaque" = "y", where
 *     <ns> is rn_image.overlay_xattr: "trusted" (store made by root: mount overlay normally) or
 *     "user" (store made by an unprivileged user: mount overlay with the "userxattr" option);
 *   - no .wh.* entry is ever left in a layer dir;
 *   - rn_image.layers is lowest first: lowerdir= wants them in reverse order (topmost first).
 *   Layer dirs are shared between images and jobs and must never be written to: use them only
 *   as read-only lower dirs.
 *
 * Locking: index.lock (flock) guards index.json; gc.lock is held shared by pulls/imports and
 * exclusive by prune; tmp/<hex>.lock serialises the download and unpack of one blob, so any
 * number of runnel processes can share a store.
 *
 * Ownership: rn_image_store_open() returns a store freed by rn_image_store_close(). Every
 * rn_image, rn_image_ref_info array and error string (char **err, set on failure) returned here
 * is heap memory the caller frees (rn_image_free(), rn_image_list_free(), free()). */
#ifndef RN_IMAGE_H
#define RN_IMAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct rn_image_store rn_image_store;

/* Default store root (see above). Caller frees. */
char *rn_image_store_default_root(void);
/* Opens (creating if needed) the store at root (NULL: the default root + "/images"). */
rn_image_store *rn_image_store_open(const char *root, char **err);
void rn_image_store_close(rn_image_store *st);
const char *rn_image_store_root(const rn_image_store *st);

/* The parts of an image config a container needs (NULL-terminated string arrays; NULL when
 * the config does not set them). */
typedef struct rn_image_config {
    char **env, **entrypoint, **cmd;
    char *working_dir, *user;
} rn_image_config;

typedef struct rn_image {
    char *ref;           /* normalized reference, e.g. "localhost:5000/tests/busybox:v1" */
    char *digest;        /* platform manifest digest "sha256:..." */
    char *config_digest; /* "sha256:..." */
    char **layers;       /* absolute unpacked layer dirs, lowest first */
    size_t nlayers;
    int64_t size;              /* sum of the layer blob sizes (as stored) */
    const char *overlay_xattr; /* "trusted" or "user" (static string) */
    rn_image_config config;
} rn_image;
void rn_image_free(rn_image *img);

/* Pull options. user: "USER:PASS" or NULL (then ~/.docker/config.json "auths" is consulted).
 * insecure: plain http (automatic for localhost, 127.0.0.1 and [::1]). quiet: no progress on
 * stderr. parallel: simultaneous layer downloads (0: 4). */
typedef struct rn_pull_opts {
    const char *user;
    bool insecure, quiet;
    int parallel;
} rn_pull_opts;

/* Normalizes a reference the way docker does ("busybox" -> "docker.io/library/busybox:latest").
 * Returns NULL (and *err) when ref is not a valid reference. Caller frees. */
char *rn_image_ref_normalize(const char *ref, char **err);

/* Pulls ref from its registry, verifies every digest, unpacks the layers and points the ref at
 * the linux/amd64 manifest. On failure nothing is published (the ref is unchanged). Returns 0,
 * or -1 with *err. *digest_out (optional) receives the manifest digest (caller frees). */
int rn_image_pull(rn_image_store *st, const char *ref, const rn_pull_opts *opts, char **digest_out,
                  char **err);

/* Imports an OCI image layout (directory or tar) or a `docker save` archive. Every image in it
 * that carries a name is tagged; tag (optional) names the single image instead. Returns the
 * number of images imported, or -1 with *err. Names of the imported refs (caller frees each
 * and the array, NULL-terminated) go to *refs_out when not NULL. */
int rn_image_import(rn_image_store *st, const char *path, const char *tag, char ***refs_out,
                    char **err);

/* Resolves ref (a reference, "sha256:<manifest hex>" or a unique prefix of at least 12 hex
 * digits of a manifest digest) to an unpacked image. pull (optional): pull the ref when it is
 * not in the store. Returns NULL with *err when absent or broken. */
rn_image *rn_image_get(rn_image_store *st, const char *ref, const rn_pull_opts *pull, char **err);

typedef struct rn_image_ref_info {
    char *ref, *digest;
    int64_t size;
} rn_image_ref_info;
/* Every ref in the store, sorted by ref. Returns the count (or -1 with *err). */
long rn_image_list(rn_image_store *st, rn_image_ref_info **out, char **err);
void rn_image_list_free(rn_image_ref_info *list, long n);

/* Removes a ref (the content stays until rn_image_prune). Returns 0, or -1 with *err. */
int rn_image_remove(rn_image_store *st, const char *ref, char **err);

/* Deletes every blob and layer no ref reaches, and stale temporary files. */
typedef struct rn_prune_stats {
    long blobs, layers;
    int64_t bytes;
} rn_prune_stats;
int rn_image_prune(rn_image_store *st, rn_prune_stats *stats, char **err);

/* JSON text of an image: {"reference","digest","mediaType","configDigest","config":{Env,
 * Entrypoint,Cmd,WorkingDir,User},"layers":[{"digest","mediaType","size","dir"}],"size"}.
 * Caller frees. NULL with *err when ref is not in the store. */
char *rn_image_inspect(rn_image_store *st, const char *ref, char **err);

#endif
