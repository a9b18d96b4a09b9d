/* The seccomp filter of container processes: an allow-list modelled on Docker's default profile.
 *
 * Everything not listed fails with EPERM (mount, umount2, unshare, setns, bpf, keyctl, add_key,
 * request_key, ptrace, process_vm_*, kexec_*, *_module, io_uring_*, reboot, swapon/off,
 * pivot_root, open_by_handle_at, perf_event_open, ...); clone3 fails with ENOSYS so libcs fall
 * back to clone; clone with any namespace flag fails with EPERM.
 *
 * The program is what libseccomp compiles from the list. Compiling takes libseccomp 20-50 ms, so
 * on x86_64 the program it produced is embedded (sandbox/seccomp_prebuilt.h, written by
 * tests/sandbox/seccomp_gen) and used when rn_seccomp_rules_hash() -- over the list, the
 * conditional rules, the architecture and the libseccomp version -- still matches; otherwise it
 * is compiled at run time. unit_seccomp checks that the embedded program is what libseccomp
 * compiles now.
 *
 * Ownership: rn_seccomp_build() fills a malloc'ed BPF program; rn_seccomp_free() releases it.
 * The program is built once per process in the parent (libseccomp allocates), then installed
 * in forked children with the allocation-free rn_seccomp_install().
 */
#ifndef RN_SANDBOX_SECCOMP_H
#define RN_SANDBOX_SECCOMP_H

#include <linux/filter.h>

#include <stdint.h>

/* The embedded program when it is current, else rn_seccomp_compile(). 0, or -1 with *err set
 * (caller frees). */
int rn_seccomp_build(struct sock_fprog *prog, char **err);
/* Always through libseccomp. Same contract. */
int rn_seccomp_compile(struct sock_fprog *prog, char **err);
/* Identifies what the program is compiled from (see above). */
uint64_t rn_seccomp_rules_hash(void);
void rn_seccomp_free(struct sock_fprog *prog);
/* Sets no_new_privs and installs the filter on the calling thread. Async-signal-safe.
 * 0 or -1 with errno set. */
int rn_seccomp_install(const struct sock_fprog *prog);

#endif
