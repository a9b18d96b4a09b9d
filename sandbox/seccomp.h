/* The seccomp filter of container processes: an allow-list modelled on Docker's default profile.
 *
 * Everything not listed fails with EPERM (mount, umount2, unshare, setns, bpf, keyctl, add_key,
 * request_key, ptrace, process_vm_*, kexec_*, *_module, io_uring_*, reboot, swapon/off,
 * pivot_root, open_by_handle_at, perf_event_open, ...); clone3 fails with ENOSYS so libcs fall
 * back to clone; clone with any namespace flag fails with EPERM.
 *
 * Ownership: rn_seccomp_build() fills a malloc'ed BPF program; rn_seccomp_free() releases it.
 * The program is built once per container in the parent (libseccomp allocates), then installed
 * in forked children with the allocation-free rn_seccomp_install().
 */
#ifndef RN_SANDBOX_SECCOMP_H
#define RN_SANDBOX_SECCOMP_H

#include <linux/filter.h>

/* 0, or -1 with *err set (caller frees). */
int rn_seccomp_build(struct sock_fprog *prog, char **err);
void rn_seccomp_free(struct sock_fprog *prog);
/* Sets no_new_privs and installs the filter on the calling thread. Async-signal-safe.
 * 0 or -1 with errno set. */
int rn_seccomp_install(const struct sock_fprog *prog);

#endif
