/* Built with libseccomp, exported as raw BPF so children install it without allocating. */
#include "sandbox/seccomp.h"

#include "common/arena.h"

#include <errno.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <seccomp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <unistd.h>

#if defined(__x86_64__)
#define RN_SECCOMP_ARCH "x86_64"
#include "sandbox/seccomp_prebuilt.h" /* tests/sandbox/seccomp_gen writes it */
#elif defined(__aarch64__)
#define RN_SECCOMP_ARCH "aarch64"
#else
#define RN_SECCOMP_ARCH "other"
#endif

/* Docker's default allow-list (moby profiles/seccomp), minus io_uring_* (refused like in newer
 * profiles: a large attack surface), ptrace and process_vm_* (no inspection of other processes).
 * Names unknown to this libseccomp or architecture are skipped. */
static const char *const allowed[] = {
    "accept",
    "accept4",
    "access",
    "adjtimex",
    "alarm",
    "arch_prctl",
    "bind",
    "brk",
    "capget",
    "capset",
    "chdir",
    "chmod",
    "chown",
    "chown32",
    "chroot",
    "clock_adjtime",
    "clock_adjtime64",
    "clock_getres",
    "clock_getres_time64",
    "clock_gettime",
    "clock_gettime64",
    "clock_nanosleep",
    "clock_nanosleep_time64",
    "close",
    "close_range",
    "connect",
    "copy_file_range",
    "creat",
    "dup",
    "dup2",
    "dup3",
    "epoll_create",
    "epoll_create1",
    "epoll_ctl",
    "epoll_ctl_old",
    "epoll_pwait",
    "epoll_pwait2",
    "epoll_wait",
    "epoll_wait_old",
    "eventfd",
    "eventfd2",
    "execve",
    "execveat",
    "exit",
    "exit_group",
    "faccessat",
    "faccessat2",
    "fadvise64",
    "fadvise64_64",
    "fallocate",
    "fanotify_mark",
    "fchdir",
    "fchmod",
    "fchmodat",
    "fchmodat2",
    "fchown",
    "fchown32",
    "fchownat",
    "fcntl",
    "fcntl64",
    "fdatasync",
    "fgetxattr",
    "flistxattr",
    "flock",
    "fork",
    "fremovexattr",
    "fsetxattr",
    "fstat",
    "fstat64",
    "fstatat64",
    "fstatfs",
    "fstatfs64",
    "fsync",
    "ftruncate",
    "ftruncate64",
    "futex",
    "futex_time64",
    "futex_waitv",
    "futimesat",
    "getcpu",
    "getcwd",
    "getdents",
    "getdents64",
    "getegid",
    "getegid32",
    "geteuid",
    "geteuid32",
    "getgid",
    "getgid32",
    "getgroups",
    "getgroups32",
    "getitimer",
    "getpeername",
    "getpgid",
    "getpgrp",
    "getpid",
    "getppid",
    "getpriority",
    "getrandom",
    "getresgid",
    "getresgid32",
    "getresuid",
    "getresuid32",
    "getrlimit",
    "get_robust_list",
    "getrusage",
    "getsid",
    "getsockname",
    "getsockopt",
    "get_thread_area",
    "gettid",
    "gettimeofday",
    "getuid",
    "getuid32",
    "getxattr",
    "inotify_add_watch",
    "inotify_init",
    "inotify_init1",
    "inotify_rm_watch",
    "io_cancel",
    "ioctl",
    "io_destroy",
    "io_getevents",
    "io_pgetevents",
    "io_pgetevents_time64",
    "ioprio_get",
    "ioprio_set",
    "io_setup",
    "io_submit",
    "ipc",
    "kill",
    "landlock_add_rule",
    "landlock_create_ruleset",
    "landlock_restrict_self",
    "lchown",
    "lchown32",
    "lgetxattr",
    "link",
    "linkat",
    "listen",
    "listxattr",
    "llistxattr",
    "_llseek",
    "lremovexattr",
    "lseek",
    "lsetxattr",
    "lstat",
    "lstat64",
    "madvise",
    "membarrier",
    "memfd_create",
    "memfd_secret",
    "mincore",
    "mkdir",
    "mkdirat",
    "mknod",
    "mknodat",
    "mlock",
    "mlock2",
    "mlockall",
    "mmap",
    "mmap2",
    "modify_ldt",
    "mprotect",
    "mq_getsetattr",
    "mq_notify",
    "mq_open",
    "mq_timedreceive",
    "mq_timedreceive_time64",
    "mq_timedsend",
    "mq_timedsend_time64",
    "mq_unlink",
    "mremap",
    "msgctl",
    "msgget",
    "msgrcv",
    "msgsnd",
    "msync",
    "munlock",
    "munlockall",
    "munmap",
    "name_to_handle_at",
    "nanosleep",
    "newfstatat",
    "_newselect",
    "open",
    "openat",
    "openat2",
    "pause",
    "pidfd_open",
    "pidfd_send_signal",
    "pipe",
    "pipe2",
    "pkey_alloc",
    "pkey_free",
    "pkey_mprotect",
    "poll",
    "ppoll",
    "ppoll_time64",
    "prctl",
    "pread64",
    "preadv",
    "preadv2",
    "prlimit64",
    "process_mrelease",
    "pselect6",
    "pselect6_time64",
    "pwrite64",
    "pwritev",
    "pwritev2",
    "read",
    "readahead",
    "readlink",
    "readlinkat",
    "readv",
    "recv",
    "recvfrom",
    "recvmmsg",
    "recvmmsg_time64",
    "recvmsg",
    "remap_file_pages",
    "removexattr",
    "rename",
    "renameat",
    "renameat2",
    "restart_syscall",
    "rmdir",
    "rseq",
    "rt_sigaction",
    "rt_sigpending",
    "rt_sigprocmask",
    "rt_sigqueueinfo",
    "rt_sigreturn",
    "rt_sigsuspend",
    "rt_sigtimedwait",
    "rt_sigtimedwait_time64",
    "rt_tgsigqueueinfo",
    "sched_getaffinity",
    "sched_getattr",
    "sched_getparam",
    "sched_get_priority_max",
    "sched_get_priority_min",
    "sched_getscheduler",
    "sched_rr_get_interval",
    "sched_rr_get_interval_time64",
    "sched_setaffinity",
    "sched_setattr",
    "sched_setparam",
    "sched_setscheduler",
    "sched_yield",
    "seccomp",
    "select",
    "semctl",
    "semget",
    "semop",
    "semtimedop",
    "semtimedop_time64",
    "send",
    "sendfile",
    "sendfile64",
    "sendmmsg",
    "sendmsg",
    "sendto",
    "setfsgid",
    "setfsgid32",
    "setfsuid",
    "setfsuid32",
    "setgid",
    "setgid32",
    "setgroups",
    "setgroups32",
    "setitimer",
    "setpgid",
    "setpriority",
    "setregid",
    "setregid32",
    "setresgid",
    "setresgid32",
    "setresuid",
    "setresuid32",
    "setreuid",
    "setreuid32",
    "setrlimit",
    "set_robust_list",
    "setsid",
    "setsockopt",
    "set_thread_area",
    "set_tid_address",
    "setuid",
    "setuid32",
    "setxattr",
    "shmat",
    "shmctl",
    "shmdt",
    "shmget",
    "shutdown",
    "sigaltstack",
    "signalfd",
    "signalfd4",
    "sigprocmask",
    "sigreturn",
    "socketcall",
    "socketpair",
    "splice",
    "stat",
    "stat64",
    "statfs",
    "statfs64",
    "statx",
    "symlink",
    "symlinkat",
    "sync",
    "sync_file_range",
    "syncfs",
    "sysinfo",
    "tee",
    "tgkill",
    "time",
    "timer_create",
    "timer_delete",
    "timer_getoverrun",
    "timer_gettime",
    "timer_gettime64",
    "timer_settime",
    "timer_settime64",
    "timerfd_create",
    "timerfd_gettime",
    "timerfd_gettime64",
    "timerfd_settime",
    "timerfd_settime64",
    "times",
    "tkill",
    "truncate",
    "truncate64",
    "ugetrlimit",
    "umask",
    "uname",
    "unlink",
    "unlinkat",
    "utime",
    "utimensat",
    "utimensat_time64",
    "utimes",
    "vfork",
    "vmsplice",
    "wait4",
    "waitid",
    "waitpid",
    "write",
    "writev",
};

/* personality() values allowed, as in Docker's profile. */
#define PERSONAS 0x0, 0x8, 0x20000, 0x20008, 0xffffffff

#define NS_FLAGS                                                                                   \
    (CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNET |     \
     CLONE_NEWCGROUP | CLONE_NEWTIME)

static int add_rules(scmp_filter_ctx ctx, char **err) {
    for (size_t i = 0; i < sizeof allowed / sizeof allowed[0]; i++) {
        int nr = seccomp_syscall_resolve_name(allowed[i]);
        if (nr == __NR_SCMP_ERROR)
            continue;
        int rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 0);
        if (rc != 0 && rc != -EEXIST) {
            *err = rn_xprintf("seccomp: rule for %s: %s", allowed[i], strerror(-rc));
            return -1;
        }
    }
    /* Conditional rules, as in Docker's profile. */
    const unsigned long personas[] = {PERSONAS};
    int rc = 0;
    for (size_t i = 0; i < 5 && rc == 0; i++)
        rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(personality), 1,
                              SCMP_A0(SCMP_CMP_EQ, personas[i], 0));
    if (rc == 0) /* sockets, but not vsock (host communication channel) */
        rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(socket), 1,
                              SCMP_A0(SCMP_CMP_NE, 40 /* AF_VSOCK */, 0));
    if (rc == 0) /* threads and processes, never new namespaces */
        rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(clone), 1,
                              SCMP_A0(SCMP_CMP_MASKED_EQ, NS_FLAGS, 0));
    if (rc == 0) /* clone3's flags live in memory BPF cannot read: ENOSYS makes glibc use clone */
        rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0);
    if (rc != 0) {
        *err = rn_xprintf("seccomp: conditional rule: %s", strerror(-rc));
        return -1;
    }
    return 0;
}

int rn_seccomp_compile(struct sock_fprog *prog, char **err) {
    *err = NULL;
    prog->len = 0;
    prog->filter = NULL;
    scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ERRNO(EPERM));
    if (!ctx) {
        *err = rn_xstrdup("seccomp: cannot initialise libseccomp");
        return -1;
    }
    int rc = -1, fd = -1;
#if defined(__x86_64__)
    /* 32-bit and x32 entry points get the same list instead of bypassing it. */
    seccomp_arch_add(ctx, SCMP_ARCH_X86);
    seccomp_arch_add(ctx, SCMP_ARCH_X32);
#elif defined(__aarch64__)
    seccomp_arch_add(ctx, SCMP_ARCH_ARM);
#endif
    /* A binary search over syscall numbers instead of a linear scan: every system call of
     * every step runs through this filter. */
    seccomp_attr_set(ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2);
    if (add_rules(ctx, err) != 0)
        goto out;
    fd = memfd_create("runnel-seccomp", MFD_CLOEXEC);
    if (fd < 0 || (rc = seccomp_export_bpf(ctx, fd)) != 0) {
        *err = rn_xprintf("seccomp: export: %s", strerror(fd < 0 ? errno : -rc));
        rc = -1;
        goto out;
    }
    off_t size = lseek(fd, 0, SEEK_END);
    if (size <= 0 || size % (off_t)sizeof(struct sock_filter) != 0) {
        *err = rn_xstrdup("seccomp: exported filter has an unexpected size");
        rc = -1;
        goto out;
    }
    prog->filter = rn_xmalloc((size_t)size);
    if (pread(fd, prog->filter, (size_t)size, 0) != size) {
        *err = rn_xstrdup("seccomp: cannot read the exported filter");
        rn_seccomp_free(prog);
        rc = -1;
        goto out;
    }
    prog->len = (unsigned short)(size / (off_t)sizeof(struct sock_filter));
    rc = 0;
out:
    if (fd >= 0)
        close(fd);
    seccomp_release(ctx);
    return rc;
}

/* FNV-1a over everything the program is made of: the allow-list, the conditional rules'
 * constants, the architectures and libseccomp's version (its syscall tables). */
static uint64_t fnv(uint64_t h, const void *p, size_t n) {
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++)
        h = (h ^ b[i]) * 0x100000001b3ULL;
    return h;
}

uint64_t rn_seccomp_rules_hash(void) {
    uint64_t h = 0xcbf29ce484222325ULL;
    for (size_t i = 0; i < sizeof allowed / sizeof allowed[0]; i++)
        h = fnv(h, allowed[i], strlen(allowed[i]) + 1);
    const unsigned long consts[] = {PERSONAS, 40, NS_FLAGS, ENOSYS, EPERM, 2 /* optimize */};
    h = fnv(h, consts, sizeof consts);
    const struct scmp_version *v = seccomp_version();
    char ver[64];
    snprintf(ver, sizeof ver, "%s libseccomp %u.%u.%u", RN_SECCOMP_ARCH, v->major, v->minor,
             v->micro);
    return fnv(h, ver, strlen(ver));
}

int rn_seccomp_build(struct sock_fprog *prog, char **err) {
    *err = NULL;
#ifdef RN_SECCOMP_PREBUILT_HASH
    /* libseccomp takes 20-50 ms to compile the list: a CLI run (`runnel sandbox exec`) would
     * spend more on it than on everything else the container needs. The same program, as this
     * libseccomp compiled it, is embedded; it is used only when nothing it depends on changed. */
    if (rn_seccomp_rules_hash() == RN_SECCOMP_PREBUILT_HASH) {
        size_t n = sizeof prebuilt / sizeof prebuilt[0];
        prog->filter = rn_xmalloc(sizeof prebuilt);
        memcpy(prog->filter, prebuilt, sizeof prebuilt);
        prog->len = (unsigned short)n;
        return 0;
    }
#endif
    return rn_seccomp_compile(prog, err);
}

void rn_seccomp_free(struct sock_fprog *prog) {
    free(prog->filter);
    prog->filter = NULL;
    prog->len = 0;
}

int rn_seccomp_install(const struct sock_fprog *prog) {
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
        return -1;
    return prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, prog, 0, 0);
}
