/* The container's filesystem, set up by the container's init inside its new mount namespace:
 * overlayfs root, pivot_root, /proc, minimal /dev, read-only /sys, tmpfs /tmp, masks, binds.
 *
 * Ownership: the plan is built by the parent (container.c) and only read here; rn_mount_setup()
 * runs in a freshly cloned child of a possibly multithreaded process, so it allocates nothing
 * and reports errors into a caller-provided buffer.
 */
#ifndef RN_SANDBOX_MOUNT_H
#define RN_SANDBOX_MOUNT_H

#include "sandbox/container.h"

#include <stdbool.h>
#include <stddef.h>

typedef struct rn_mount_plan {
    const char *root;         /* host directory the overlay is mounted on */
    const char *overlay_data; /* "lowerdir=...,upperdir=...,workdir=..." */
    const char *const *masked;
    size_t n_masked;
    const rn_bind *binds; /* src are host paths, dst container paths */
    size_t n_binds;
    const char *hostname;
    bool userns;          /* inside a user namespace: no devpts gid=, sysfs may be refused */
    bool own_net;         /* a new network namespace: bring lo up, sysfs of our own */
    bool layer_in_memory; /* make upper/ and work/ in a tmpfs mounted on root first */
} rn_mount_plan;

/* Runs in the container's init after it entered its namespaces. Afterwards the process's root
 * is the container's root. 0, or -1 with a message in err (NUL-terminated). */
int rn_mount_setup(const rn_mount_plan *p, char *err, size_t errlen);

/* Removes a directory tree without crossing into other mounts. 0 or -1 with errno set. */
int rn_remove_tree(const char *path);

#endif
