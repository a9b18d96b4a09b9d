/* The cache store: entries keyed by (scope, key, version) under runnel's data folder.
 *
 * Layout (docs/cache.md): <root>/entries/<id>/ with
 *   meta.json        scope, key, version, created, sizes, sha256 of the archive and manifest
 *   archive.tar.zst  the portable form (pax tar + zstd, names relative to the workspace, as the
 *                    toolkit makes them), what the cache server serves
 *   manifest.json    entries of the unpacked copy: [type, mode, size, mtime, path, link, xxh3]
 *   tree/<n>         the unpacked copy of file n, when it has 256 KiB or more (read-only)
 *   tree/p<k>        a pack: smaller files one after another (read-only)
 *   used             its mtime is the last use (LRU)
 * An entry is built under <root>/tmp/ and published with one rename(2), so readers never see a
 * partial entry and the first of two concurrent savers of one key wins. Restores hold a shared
 * flock on the entry folder; eviction takes it exclusively (non-blocking) before removing, so an
 * entry is never deleted under a restore. Saves copy files on worker threads, hashing each
 * (XXH3-128, in the manifest) in the same read pass. A restore checks the manifest's sha256, then
 * copies every file on worker threads into a hidden staging folder next to (or, for an existing
 * folder, inside) each destination, checking its size and checksum in the same pass, and moves
 * the staged tree into place only when all were intact (an archive-only entry: the archive's
 * sha256 first): a corrupt or truncated entry is a miss that leaves nothing behind. On a file
 * system that shares extents (XFS, btrfs) files are cloned instead of copied, both ways (whole
 * files, and the whole blocks of packed files, which then start on a block), still checked.
 *
 * Ownership: rn_cache_store is opened/closed by the caller; rn_cache_entry strings are owned by
 * the entry (rn_cache_entry_clear()); lists by the caller (rn_cache_entries_free()).
 * Owner: caching engineer. */
#ifndef RN_ACTIONS_CACHE_STORE_H
#define RN_ACTIONS_CACHE_STORE_H

#include "common/pathmap.h"

#include <stdbool.h>
#include <stddef.h>

typedef struct rn_cache_store rn_cache_store;

typedef struct rn_cache_entry {
    char *id; /* folder name under entries/ */
    char *scope, *key, *version;
    long long created_ms, used_ms;
    long long archive_size, unpacked_size; /* bytes */
    long long files;
    bool has_tree; /* an unpacked copy exists (saved by runnel itself) */
} rn_cache_entry;

void rn_cache_entry_clear(rn_cache_entry *e);
void rn_cache_entries_free(rn_cache_entry *v, size_t n);

/* runnel's data folder: $RUNNEL_HOME, else $XDG_CACHE_HOME/runnel, else $HOME/.cache/runnel.
 * The cache is its `cache` subfolder. Malloc'ed. */
char *rn_cache_default_root(void);

/* Opens (creating) the store at root (NULL: the default). max_size caps the total bytes of all
 * entries (0: $RUNNEL_CACHE_MAX_SIZE, else 10 GiB as GitHub's per-repository limit). */
rn_cache_store *rn_cache_store_open(const char *root, long long max_size, char **err);
void rn_cache_store_close(rn_cache_store *s);
const char *rn_cache_store_root(const rn_cache_store *s);

/* GitHub's cache version: sha256 hex of paths, the compression method (when non-NULL) and
 * "1.0", joined with '|' ("windows-only" is never added: runnel runs on Linux). Malloc'ed. */
char *rn_cache_version(const char *const *paths, size_t n, const char *compression);
/* The compression method runnel's archives use, as the toolkit names it on Linux. */
#define RN_CACHE_COMPRESSION "zstd-without-long"

/* Finds the entry for keys[] in scopes[] (searched in order; in each scope each key in order,
 * first an exact key, then the newest entry whose key starts with it) with this version.
 * Returns 1 and fills *out, or 0 on a miss. */
int rn_cache_lookup(rn_cache_store *s, const char *const *scopes, size_t nscopes,
                    const char *const *keys, size_t nkeys, const char *version,
                    rn_cache_entry *out);

/* Saves the items (absolute paths on this machine; directories recursively, symlinks as
 * links) with names relative to workspace. For a container job, workspace is the job's own path
 * and map (n entries, common/pathmap.h) the folders it shares: names are then the job's paths
 * (what @actions/cache in the container would store), and an item outside them is an error.
 * map NULL, 0: a job on the host. Returns 0 saved, 1 an entry for (scope, key, version) already
 * exists (nothing written), -1 error (*err). Evicts least recently used entries over the cap. */
int rn_cache_save(rn_cache_store *s, const char *scope, const char *key, const char *version,
                  const char *workspace, const rn_pathmap *map, size_t nmap,
                  const char *const *items, size_t n, char **err);

/* Publishes an archive file (moved, not copied) as an entry. Same returns as rn_cache_save. */
int rn_cache_put_archive(rn_cache_store *s, const char *scope, const char *key, const char *version,
                         const char *archive_file, char **err);

/* Restores e into workspace (names relative to it; over existing files as tar does: files
 * replaced, folders merged); workspace and map as for rn_cache_save (a name outside the shared
 * folders is a write error). Returns 0, 1 when the entry is gone, corrupt or truncated (nothing
 * was written), -1 on a write error (*err; nothing was moved into place unless the error came
 * while moving). Records the use. */
int rn_cache_restore(rn_cache_store *s, const rn_cache_entry *e, const char *workspace,
                     const rn_pathmap *map, size_t nmap, char **err);

/* Opens e's archive for reading (O_RDONLY fd) after checking its sha256; -1 when missing or
 * corrupt. Records the use. */
int rn_cache_open_archive(rn_cache_store *s, const rn_cache_entry *e);

/* A folder for temporary files on the store's file system (rename-able into entries). */
char *rn_cache_tmpname(rn_cache_store *s, const char *what);

/* All entries, newest use first. */
int rn_cache_list(rn_cache_store *s, rn_cache_entry **out, size_t *n);
/* Removes entries whose key equals key (every scope and version). Returns how many. */
int rn_cache_remove(rn_cache_store *s, const char *key);
/* Evicts least recently used entries until the total is at most max_size (<0: the store's cap).
 * Returns how many were removed; *freed gets the bytes (may be NULL). */
int rn_cache_prune(rn_cache_store *s, long long max_size, long long *freed);

/* Parses "10G", "500M", "123k", "42" (bytes). Returns -1 when invalid. */
long long rn_cache_parse_size(const char *s);

#endif
