/* Folders a container job shares with runnel: the job sees `inner` (its path in the container)
 * where runnel sees `outer` (the host folder mounted there). runnel's built-in actions (cache,
 * setup-java) work on the job's files from the host side through such a map, and only there:
 * a path outside every shared folder is inside the container's own filesystem.
 *
 * Paths are absolute. Matching is lexical, on whole segments, after rn_path_normalize(); the
 * longest matching prefix wins (a workspace inside a shared home).
 * Ownership: maps and their strings are borrowed; returned strings are malloc'ed. */
#ifndef RN_COMMON_PATHMAP_H
#define RN_COMMON_PATHMAP_H

#include <stddef.h>

typedef struct rn_pathmap {
    const char *inner, *outer;
} rn_pathmap;

/* `path` with `.` and empty segments dropped and `..` applied ("/" for nothing left; `..` at
 * the root stays at the root). `path` must be absolute. */
char *rn_path_normalize(const char *path);

/* The host path of the job's absolute `inner` path; NULL when no folder of the map holds it.
 * n == 0: the identity (a job on the host), normalized. */
char *rn_pathmap_outer(const rn_pathmap *map, size_t n, const char *inner);

/* The reverse: the job's path for a host path; NULL when outside every shared folder. */
char *rn_pathmap_inner(const rn_pathmap *map, size_t n, const char *outer);

#endif
