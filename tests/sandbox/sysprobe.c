/* Static helper for the container security tests: calls one raw system call and prints
 * "NAME: ok" or "NAME: ERRNO-NAME" (e.g. "mount: EPERM"). Built with -static so it runs on the
 * busybox test rootfs. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <unistd.h>

static int report(const char *name, long rc) {
    if (rc >= 0)
        printf("%s: ok\n", name);
    else
        printf("%s: %s\n", name, strerrorname_np(errno) ? strerrorname_np(errno) : "?");
    return 0;
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: sysprobe CALL [ARG]\n");
        return 2;
    }
    const char *c = argv[1];
    if (!strcmp(c, "mount"))
        return report(c, mount("none", "/tmp", "tmpfs", 0, NULL));
    if (!strcmp(c, "umount"))
        return report(c, umount2("/proc", MNT_DETACH));
    if (!strcmp(c, "unshare"))
        return report(c, unshare(CLONE_NEWNS));
    if (!strcmp(c, "unshare-user"))
        return report(c, unshare(CLONE_NEWUSER));
    if (!strcmp(c, "clone-newpid"))
        return report(c, syscall(SYS_clone, CLONE_NEWPID | SIGCHLD, NULL, NULL, NULL, 0));
    if (!strcmp(c, "clone3"))
        return report(c, syscall(SYS_clone3, NULL, 0));
    if (!strcmp(c, "setns"))
        return report(c, setns(open("/proc/1/ns/mnt", O_RDONLY), 0));
    if (!strcmp(c, "ptrace") && argc > 2)
        return report(c, ptrace(PTRACE_ATTACH, (pid_t)atoi(argv[2]), NULL, NULL));
    if (!strcmp(c, "kexec_load"))
        return report(c, syscall(SYS_kexec_load, 0, 0, NULL, 0));
    if (!strcmp(c, "init_module"))
        return report(c, syscall(SYS_init_module, "", 0, ""));
    if (!strcmp(c, "finit_module"))
        return report(c, syscall(SYS_finit_module, 0, "", 0));
    if (!strcmp(c, "bpf")) {
        union bpf_attr attr;
        memset(&attr, 0, sizeof attr);
        attr.map_type = BPF_MAP_TYPE_ARRAY;
        attr.key_size = 4;
        attr.value_size = 4;
        attr.max_entries = 1;
        return report(c, syscall(SYS_bpf, BPF_MAP_CREATE, &attr, sizeof attr));
    }
    if (!strcmp(c, "keyctl"))
        return report(c, syscall(SYS_keyctl, 0 /* KEYCTL_GET_KEYRING_ID */, -3, 0));
    if (!strcmp(c, "io_uring_setup"))
        return report(c, syscall(SYS_io_uring_setup, 1, NULL));
    if (!strcmp(c, "perf_event_open"))
        return report(c, syscall(SYS_perf_event_open, NULL, 0, -1, -1, 0));
    if (!strcmp(c, "pivot_root"))
        return report(c, syscall(SYS_pivot_root, "/tmp", "/tmp"));
    if (!strcmp(c, "reboot"))
        return report(c, syscall(SYS_reboot, 0, 0, 0, NULL));
    if (!strcmp(c, "swapon"))
        return report(c, syscall(SYS_swapon, "/nonexistent", 0));
    if (!strcmp(c, "hold") && argc > 2) { /* a long-lived process the host can find by argv */
        sleep((unsigned)atoi(argv[2]));
        return 0;
    }
    if (!strcmp(c, "fork")) /* plain fork must keep working */
        return report(c, fork() == 0 ? (_exit(0), 0) : 0);
    fprintf(stderr, "sysprobe: unknown call %s\n", c);
    return 2;
}
