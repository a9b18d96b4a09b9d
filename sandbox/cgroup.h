/* Per-container cgroups on v2 (when /sys/fs/cgroup/cgroup.controllers exists) or v1 hierarchies:
 * resource limits, membership of every container process, and killing them all.
 *
 * The cgroup is made below runnel's own cgroup, only in the hierarchies the limits need (v1:
 * memory, pids, cpu; the freezer alone when no limit is given; v2: one directory, with only the
 * needed controllers enabled in the parent's cgroup.subtree_control). Joining a v1 hierarchy costs
 * an RCU grace period, so every hierarchy left out saves time at each container start. A
 * controller that is missing or not writable is skipped and named in the warnings.
 *
 * Ownership: rn_cgroup_create() returns a handle the caller releases with rn_cgroup_destroy(),
 * which kills what is left and removes the directories. rn_cgroup_join() is async-signal-safe
 * (pre-opened descriptors) so forked children call it before exec.
 */
#ifndef RN_SANDBOX_CGROUP_H
#define RN_SANDBOX_CGROUP_H

#include <stdint.h>
#include <sys/types.h>

typedef struct rn_cgroup rn_cgroup;

typedef struct rn_cgroup_limits {
    int64_t memory_bytes; /* 0 = none */
    int64_t pids_max;     /* 0 = none */
    uint32_t cpu_shares;  /* 0 = default */
    uint32_t cpu_millis;  /* 0 = no quota; 1000 = one CPU */
} rn_cgroup_limits;

/* NULL with *err set (caller frees) when no cgroup could be made at all. *warnings (malloc'ed,
 * caller frees, "" when none) lists the limits that were skipped. */
rn_cgroup *rn_cgroup_create(const char *name, const rn_cgroup_limits *l, char **warnings,
                            char **err);
/* The v2 writer on an explicit parent directory (a cgroup2 directory, or a fake tree in tests):
 * enables the controllers the limits need in one write to PARENT/cgroup.subtree_control
 * ("+memory +pids +cpu"; one write per controller when that fails), makes PARENT/NAME and writes
 * memory.max (and memory.swap.max 0), pids.max, cpu.weight and cpu.max there. rn_cgroup_kill()
 * then uses cgroup.kill (no spare) or walks cgroup.procs frozen (cgroup.freeze). Same contract
 * as rn_cgroup_create(). */
rn_cgroup *rn_cgroup_create_v2_at(const char *parent, const char *name, const rn_cgroup_limits *l,
                                  char **warnings, char **err);
/* The descriptors rn_cgroup_join() writes to, for a forked child that closes everything else
 * first: up to max of them in fds. Returns how many. */
int rn_cgroup_fds(const rn_cgroup *cg, int *fds, int max);
/* Moves the calling process (pid 0) or pid into every hierarchy. 0 or -1 with errno set. */
int rn_cgroup_join(const rn_cgroup *cg, pid_t pid);
/* SIGKILLs every process in the cgroup except the n_spare pids in spare until none is left
 * (bounded; frozen first so nothing forks meanwhile).
 * Returns how many processes were running when called. */
int rn_cgroup_kill(const rn_cgroup *cg, const pid_t *spare, int n_spare);
int rn_cgroup_nprocs(const rn_cgroup *cg); /* -1 if unknown */
uint64_t rn_cgroup_oom_kills(const rn_cgroup *cg);
const char *rn_cgroup_version(const rn_cgroup *cg); /* "v1" or "v2" */
/* Removes the (empty) directories named `name` a crashed runnel left behind; busy ones stay. */
void rn_cgroup_remove_stale(const char *name);
/* Kills what is left, removes the directories, frees. NULL is a no-op. */
void rn_cgroup_destroy(rn_cgroup *cg);

#endif
