/* Containers: runnel's own runtime on the kernel's primitives (no daemon).
 *
 * A job's container is created once with rn_container_create(): a container init process (pid 1
 * of a new pid namespace) is cloned into new mount, pid, ipc, uts, cgroup and (unless the network
 * mode is host) network namespaces, plus a user namespace when runnel is not root (or when asked).
 * It mounts an overlayfs of the lower directories with a per-container writable upper layer,
 * pivots into it, sets up /proc, a minimal /dev, read-only /sys, tmpfs /tmp and the bind mounts,
 * and then only reaps orphans. A cgroup, made only when limits are given and only in the
 * hierarchies they need, carries the memory, pids and cpu limits. A private network
 * (RN_NET_PRIVATE) gets its route out from a slirp4netns process (sandbox/net.h) that lives
 * and dies with the container.
 *
 * Each step is then a process started INSIDE the container through the ordinary process API:
 * set rn_proc_opts.container and call rn_proc_start(). proc.c hands the start to
 * rn_container_spawn() below, which enters the container's namespaces and cgroup, applies the
 * hardening (capabilities bounded to Docker's 14 defaults, no_new_privs, a seccomp allow-list
 * modelled on Docker's default profile) and execs. The process is still a direct child of runnel
 * in its own session, so proc.c's streaming, timeout, cancel and orphan semantics are unchanged.
 *
 * rn_container_destroy() kills every process of the container through its pid namespace (the
 * init's end kills everything in it) and its cgroup if it has one, then removes the cgroup and
 * the writable layer: nothing outlives a job.
 *
 * Ownership: rn_container_create() copies everything it needs from rn_container_opts; the caller
 * owns the returned container and releases it with rn_container_destroy(), after every rn_proc
 * started in it has been freed. Error strings returned through `char **err` are malloc'ed; the
 * caller frees them. A container may be used by several threads (spawns are independent), but
 * destroy must not race with a spawn.
 */
#ifndef RN_SANDBOX_CONTAINER_H
#define RN_SANDBOX_CONTAINER_H

#include "sandbox/proc.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

typedef enum rn_net_mode {
    RN_NET_HOST = 0, /* share the host's network namespace */
    RN_NET_NONE,     /* new network namespace with only lo (up) */
    RN_NET_PRIVATE,  /* new network namespace with lo, shared by the job's services (joinable),
                      * and a route out through slirp4netns (sandbox/net.h: tap0 10.0.2.100,
                      * gateway 10.0.2.2, DNS 10.0.2.3; the host's loopback not reachable);
                      * only lo when slirp4netns is missing (rn_container_net_warning()) */
} rn_net_mode;

typedef enum rn_userns_mode {
    RN_USERNS_AUTO = 0, /* a user namespace only when runnel is not root */
    RN_USERNS_ON,       /* always (as root too: e.g. map container root to an unprivileged uid) */
    RN_USERNS_OFF,      /* never (needs root) */
} rn_userns_mode;

typedef struct rn_bind {
    const char *src; /* host path (file or directory) */
    const char *dst; /* absolute path in the container; created when missing */
    bool ro;
} rn_bind;

/* One line of /proc/PID/uid_map (or gid_map): `count` ids from `inside` map to `outside`. */
typedef struct rn_idmap {
    uint32_t inside, outside, count;
} rn_idmap;

typedef struct rn_container_opts {
    /* Root filesystem: read-only lower directories, lowest first (e.g. "/" for the host's root
     * as the lowest layer, or unpacked image layers). At least one. */
    const char *const *lowers;
    size_t n_lowers;
    /* Where the per-container writable layer and work dirs go (a fresh subdirectory is made and
     * removed at destroy; with layer_in_memory only for a cgroup or a private network, and the
     * tmpfs is mounted on its `mem` folder). NULL = $RUNNEL_SANDBOX_DIR or
     * /var/tmp/runnel-sandbox. It is always hidden inside containers (a container whose lower is
     * "/" cannot see other containers). */
    const char *state_root;
    /* The writable layer in a tmpfs of the container's own (RAM, charged to its memory limit)
     * instead of on the state root's disk, as bwrap's tmpfs root: nothing to make or remove on
     * the disk. Without a user namespace only (overlayfs in one needs user xattrs, which tmpfs
     * has from Linux 6.6); with one the layer stays on disk. */
    bool layer_in_memory;
    const rn_bind *binds;
    size_t n_binds;
    /* Host paths hidden by an empty read-only tmpfs when they exist in the rootfs, e.g. the
     * runner's work root so a job on the host's root cannot read other jobs' workspaces. Binds
     * are mounted after the masks, so a bind may live inside a masked directory. */
    const char *const *masked;
    size_t n_masked;
    const char *hostname; /* NULL = "runnel" */
    /* Base environment of every process, overridden entry by entry by rn_proc_opts.envp. */
    const char *const *env;
    rn_userns_mode userns;
    /* With a user namespace: the uid/gid maps (NULL = container root maps to runnel's own euid /
     * egid, the only map an unprivileged process may write). */
    const rn_idmap *uid_map, *gid_map;
    size_t n_uid_map, n_gid_map;
    uid_t uid; /* user and group processes run as inside the container (default 0: root) */
    gid_t gid;
    rn_net_mode net;
    /* Join the network namespace of this live container instead (`net` is then ignored): the
     * job's services and steps share localhost. Needs root (no user namespace). */
    rn_container *net_from;
    /* Resource limits through the container's cgroup; 0 = no limit. A limit whose controller is
     * missing is skipped (rn_container_warnings() says which). */
    int64_t memory_bytes;
    int64_t pids_max;
    uint32_t cpu_shares; /* v1 cpu.shares (1024 = one default share); v2 converted to cpu.weight */
    uint32_t cpu_millis; /* CPU quota in thousandths of a CPU (1500 = --cpus=1.5) */
    /* The limits are a default, not a request: when no cgroup can be made at all (no writable
     * hierarchy, e.g. unprivileged without delegation), run without them and say why in
     * rn_container_warnings() instead of failing the creation. */
    bool limits_best_effort;
    bool no_hardening; /* debugging only: keep all capabilities, no seccomp filter */
} rn_container_opts;

typedef struct rn_container rn_container; /* declared in proc.h too */

/* pids limit of every job, service and docker-action container unless asked otherwise
 * (docker's --pids-limit, $RUNNEL_PIDS_LIMIT). Threads count: generous for Java builds. */
#define RN_PIDS_LIMIT_DEFAULT 4096

/* A pids limit as docker takes it: a positive count, or -1 (0 too) for unlimited. Sets *out to
 * the count or 0 for unlimited; -1 when V is malformed. */
int rn_pids_limit_parse(const char *v, int64_t *out);

/* The limit when a container asks for none: $RUNNEL_PIDS_LIMIT if set, else
 * RN_PIDS_LIMIT_DEFAULT (*builtin true). *out is 0 for unlimited. -1 when the variable is
 * malformed. */
int rn_pids_limit_default(int64_t *out, bool *builtin);

/* Creates and starts the container. NULL with *err set ("overlay: Invalid argument (lowers ...)")
 * when the kernel or the options do not allow it. */
rn_container *rn_container_create(const rn_container_opts *opts, char **err);

/* Kills every process of the container, waits for them, removes its cgroup and writable layer.
 * NULL is a no-op. */
void rn_container_destroy(rn_container *c);

/* For a process that exits right after: kills every process of the container as destroy does,
 * but does not wait for the kernel to finish tearing the namespaces down (as bwrap, whose exit
 * status is known before its sandbox is gone); the init and helper, killed, are reaped by
 * whoever inherits them. With a cgroup, a layer on disk or a private network's slirp4netns,
 * it is rn_container_destroy(): those are removed only once everything is gone. */
void rn_container_destroy_at_exit(rn_container *c);

/* Kills every process of the container except its init (e.g. after a step timed out or was
 * cancelled, to stop what it left running). Returns how many were running. */
int rn_container_kill_all(rn_container *c);

/* Host pid of the container's init (pid 1 inside). */
pid_t rn_container_init_pid(const rn_container *c);

/* Number of live processes in the container's pid namespace (init included; zombies not
 * counted), -1 if unknown. */
int rn_container_nprocs(const rn_container *c);

/* OOM kills so far in the container's memory cgroup (0 without a memory controller). */
uint64_t rn_container_oom_kills(const rn_container *c);

/* What `r` means for a process that ran in the container: "killed by the memory limit (256 MiB)"
 * when the memory cgroup OOM-killed something since `oom_before` (rn_container_oom_kills() taken
 * before the start), else rn_proc_result_describe(). Caller frees. */
char *rn_container_describe(const rn_container *c, const rn_proc_result *r,
                            const rn_proc_opts *opts, uint64_t oom_before);

/* Limits that could not be applied (missing controllers), "" when none. Owned by c. */
const char *rn_container_warnings(const rn_container *c);

/* Why a RN_NET_PRIVATE container has no outside route (slirp4netns missing or failed), "" when
 * it has one or is in another mode. Owned by c. */
const char *rn_container_net_warning(const rn_container *c);

/* Host pid of the container's slirp4netns, -1 when it has none. */
pid_t rn_container_slirp_pid(const rn_container *c);

/* "v1", "v2" or "none" (no limits, so no cgroup): the hierarchy the container's limits use. */
const char *rn_container_cgroup_version(const rn_container *c);

/* --- Hook for sandbox/proc.c (not for other callers) ---
 * Starts argv in the container: the child joins the cgroup and namespaces, becomes a session
 * leader, gets stdin/stdout/stderr from fd_in/fd_out/fd_err (the caller keeps its copies),
 * changes to cwd (container path, NULL = "/"), drops privileges, installs the seccomp filter and
 * execs argv[0], searched in the merged environment's PATH inside the container. The process is
 * a direct child of the caller. Returns its host pid, or -1 with *err set ("sh: No such file or
 * directory", "/nodir: No such file or directory"). */
pid_t rn_container_spawn(rn_container *c, const char *const *argv, const char *const *envp,
                         const char *cwd, int fd_in, int fd_out, int fd_err, char **err);

#endif
