/* Runs in the container's init (a clone of runnel, possibly multithreaded before the clone):
 * only system calls and snprintf on stack buffers, no malloc. */
#include "sandbox/mount.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <net/if.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

/* The host's root while binds are made, then detached: in the container's /dev tmpfs, mounted
 * before pivot_root, so no directory is made (and removed) in the writable layer, which lives on
 * a disk. */
#define OLDROOT "/dev/.runnel-oldroot"

static int fail(char *err, size_t n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(char *err, size_t n, const char *fmt, ...) {
    int e = errno;
    char what[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    snprintf(err, n, "%s: %s", what, strerror(e));
    errno = e;
    return -1;
}

/* mkdir -p of an absolute path, resolved inside the current root. */
static int mkdir_p(const char *path, mode_t mode) {
    char buf[PATH_MAX];
    if (snprintf(buf, sizeof buf, "%s", path) >= (int)sizeof buf) {
        errno = ENAMETOOLONG;
        return -1;
    }
    for (char *p = buf + 1;; p++) {
        if (*p == '/' || *p == 0) {
            char c = *p;
            *p = 0;
            if (mkdir(buf, mode) != 0 && errno != EEXIST)
                return -1;
            *p = c;
            if (!c)
                break;
        }
    }
    return 0;
}

/* A mount point for a bind of `src_is_dir` kind at dst. */
static int make_target(const char *dst, bool dir) {
    if (dir)
        return mkdir_p(dst, 0755);
    char parent[PATH_MAX];
    snprintf(parent, sizeof parent, "%s", dst);
    char *slash = strrchr(parent, '/');
    if (slash && slash != parent) {
        *slash = 0;
        if (mkdir_p(parent, 0755) != 0)
            return -1;
    }
    int fd = open(dst, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
    if (fd < 0)
        return errno == EISDIR ? 0 : -1;
    close(fd);
    return 0;
}

/* Read-only remount of a bind, keeping the flags the kernel locked on it (nosuid, nodev, ...
 * may not be cleared in a user namespace). */
static int remount_ro(const char *path, unsigned long extra) {
    struct statvfs sv;
    unsigned long keep = 0;
    if (statvfs(path, &sv) == 0) {
        if (sv.f_flag & ST_NOSUID)
            keep |= MS_NOSUID;
        if (sv.f_flag & ST_NODEV)
            keep |= MS_NODEV;
        if (sv.f_flag & ST_NOEXEC)
            keep |= MS_NOEXEC;
        if (sv.f_flag & ST_NOATIME)
            keep |= MS_NOATIME;
        if (sv.f_flag & ST_NODIRATIME)
            keep |= MS_NODIRATIME;
        if (sv.f_flag & ST_RELATIME)
            keep |= MS_RELATIME;
    }
    return mount(NULL, path, NULL, MS_BIND | MS_REMOUNT | MS_RDONLY | keep | extra, NULL);
}

static int bind_path(const char *src, const char *dst, bool ro, char *err, size_t n) {
    struct stat st;
    if (stat(src, &st) != 0)
        return fail(err, n, "bind source %s", src + strlen(OLDROOT));
    if (make_target(dst, S_ISDIR(st.st_mode)) != 0)
        return fail(err, n, "bind target %s", dst);
    if (mount(src, dst, NULL, MS_BIND | MS_REC, NULL) != 0)
        return fail(err, n, "bind %s on %s", src + strlen(OLDROOT), dst);
    if (ro && remount_ro(dst, 0) != 0)
        return fail(err, n, "read-only bind %s", dst);
    return 0;
}

/* Fills the /dev tmpfs (mounted before pivot_root). */
static int setup_dev(const rn_mount_plan *p, char *err, size_t n) {
    /* As root, mknod (cheaper than a mount each); in a user namespace mknod is refused, so the
     * host's nodes are bind-mounted instead. */
    static const char *const nodes[] = {"null", "zero", "full", "random", "urandom", "tty"};
    static const unsigned majmin[][2] = {{1, 3}, {1, 5}, {1, 7}, {1, 8}, {1, 9}, {5, 0}};
    for (size_t i = 0; i < sizeof nodes / sizeof nodes[0]; i++) {
        char src[64], dst[64];
        snprintf(src, sizeof src, OLDROOT "/dev/%s", nodes[i]);
        snprintf(dst, sizeof dst, "/dev/%s", nodes[i]);
        if (!p->userns && mknod(dst, S_IFCHR | 0666, makedev(majmin[i][0], majmin[i][1])) == 0) {
            if (chmod(dst, 0666) != 0) /* mknod applied the umask */
                return fail(err, n, "chmod %s", dst);
            continue;
        }
        if (bind_path(src, dst, false, err, n) != 0)
            return -1;
    }
    if (mkdir("/dev/pts", 0755) != 0 ||
        mount("devpts", "/dev/pts", "devpts", MS_NOSUID | MS_NOEXEC,
              p->userns ? "newinstance,ptmxmode=0666,mode=620"
                        : "newinstance,ptmxmode=0666,mode=620,gid=5") != 0)
        return fail(err, n, "mount /dev/pts");
    if (mkdir("/dev/shm", 01777) != 0 ||
        mount("shm", "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC,
              "mode=1777,size=65536k") != 0)
        return fail(err, n, "mount /dev/shm");
    static const char *const links[][2] = {{"pts/ptmx", "/dev/ptmx"},
                                           {"/proc/self/fd", "/dev/fd"},
                                           {"/proc/self/fd/0", "/dev/stdin"},
                                           {"/proc/self/fd/1", "/dev/stdout"},
                                           {"/proc/self/fd/2", "/dev/stderr"}};
    for (size_t i = 0; i < sizeof links / sizeof links[0]; i++)
        if (symlink(links[i][0], links[i][1]) != 0)
            return fail(err, n, "symlink %s", links[i][1]);
    return 0;
}

static int setup_proc(char *err, size_t n) {
    if (mkdir_p("/proc", 0555) != 0 ||
        mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) != 0)
        return fail(err, n, "mount /proc");
    /* As in Docker: kernel knobs read-only (a container root must not set host sysctls or
     * core_pattern), kernel memory and key listings hidden. */
    static const char *const ro[] = {"/proc/sys", "/proc/sysrq-trigger", "/proc/irq", "/proc/bus",
                                     "/proc/fs"};
    for (size_t i = 0; i < sizeof ro / sizeof ro[0]; i++) {
        if (access(ro[i], F_OK) != 0)
            continue;
        if (mount(ro[i], ro[i], NULL, MS_BIND | MS_REC, NULL) != 0 || remount_ro(ro[i], 0) != 0)
            return fail(err, n, "read-only %s", ro[i]);
    }
    static const char *const hide[] = {"/proc/kcore", "/proc/keys", "/proc/timer_list",
                                       "/proc/sched_debug"};
    for (size_t i = 0; i < sizeof hide / sizeof hide[0]; i++)
        if (access(hide[i], F_OK) == 0 &&
            mount(OLDROOT "/dev/null", hide[i], NULL, MS_BIND, NULL) != 0)
            return fail(err, n, "mask %s", hide[i]);
    return 0;
}

static int lo_up(char *err, size_t n) {
    int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (s < 0)
        return fail(err, n, "socket");
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "lo");
    int rc = ioctl(s, SIOCGIFFLAGS, &ifr);
    if (rc == 0) {
        ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
        rc = ioctl(s, SIOCSIFFLAGS, &ifr);
    }
    int e = errno;
    close(s);
    errno = e;
    return rc == 0 ? 0 : fail(err, n, "bring up lo");
}

int rn_mount_setup(const rn_mount_plan *p, char *err, size_t n) {
    err[0] = 0;
    /* Nothing we mount may propagate back to the host. */
    if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0)
        return fail(err, n, "make / private");
    /* The overlay_data paths name root/upper and root/work: once this tmpfs is mounted on root
     * they resolve into it, and the overlay is then stacked on the same mount point. */
    if (p->layer_in_memory) {
        char upper[PATH_MAX], work[PATH_MAX];
        snprintf(upper, sizeof upper, "%s/upper", p->root);
        snprintf(work, sizeof work, "%s/work", p->root);
        if (mount("tmpfs", p->root, "tmpfs", MS_NOSUID, "mode=700") != 0 ||
            mkdir(upper, 0755) != 0 || mkdir(work, 0700) != 0)
            return fail(err, n, "writable layer in memory (tmpfs on %s)", p->root);
    }
    /* volatile (5.10+): the writable layer is thrown away, so overlayfs need not sync it --
     * without it the overlay's teardown syncs the whole filesystem the layer is on (a shared
     * disk: every other process's dirty data), which dominated a container's end. */
    char data[8192];
    int dl = snprintf(data, sizeof data, "%s,volatile", p->overlay_data);
    if ((dl >= (int)sizeof data || mount("overlay", p->root, "overlay", 0, data) != 0) &&
        mount("overlay", p->root, "overlay", 0, p->overlay_data) != 0)
        return fail(err, n, "mount overlay (%s)", p->overlay_data);
    char dev[PATH_MAX], old[PATH_MAX];
    snprintf(dev, sizeof dev, "%s/dev", p->root);
    snprintf(old, sizeof old, "%s" OLDROOT, p->root);
    /* A /dev of the image that is not a directory (a symlink could point anywhere) is refused
     * rather than followed. */
    struct stat dst;
    if (lstat(dev, &dst) == 0 && !S_ISDIR(dst.st_mode)) {
        errno = ENOTDIR;
        return fail(err, n, "/dev of the root filesystem");
    }
    if (mkdir_p(dev, 0755) != 0 ||
        mount("tmpfs", dev, "tmpfs", MS_NOSUID | MS_STRICTATIME, "mode=755,size=65536k") != 0)
        return fail(err, n, "mount /dev");
    if (mkdir(old, 0700) != 0)
        return fail(err, n, "mkdir %s", OLDROOT);
    if (syscall(SYS_pivot_root, p->root, old) != 0)
        return fail(err, n, "pivot_root");
    if (chdir("/") != 0)
        return fail(err, n, "chdir /");
    for (size_t i = 0; i < p->n_masked; i++) {
        struct stat st;
        if (stat(p->masked[i], &st) != 0 || !S_ISDIR(st.st_mode))
            continue;
        if (mount("tmpfs", p->masked[i], "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC,
                  "size=4k,mode=755") != 0)
            return fail(err, n, "mask %s", p->masked[i]);
    }
    if (setup_proc(err, n) != 0 || setup_dev(p, err, n) != 0)
        return -1;
    if (mkdir_p("/sys", 0555) != 0)
        return fail(err, n, "mkdir /sys");
    unsigned long sysfl = MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC;
    /* sysfs needs a network namespace of our own user namespace; else an empty /sys. */
    if (mount("sysfs", "/sys", "sysfs", sysfl, NULL) != 0 &&
        mount("tmpfs", "/sys", "tmpfs", sysfl, "size=4k,mode=555") != 0)
        return fail(err, n, "mount /sys");
    if (mkdir_p("/tmp", 01777) != 0 ||
        mount("tmpfs", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777") != 0)
        return fail(err, n, "mount /tmp");
    for (size_t i = 0; i < p->n_binds; i++) {
        char src[PATH_MAX];
        if (snprintf(src, sizeof src, OLDROOT "%s", p->binds[i].src) >= (int)sizeof src) {
            errno = ENAMETOOLONG;
            return fail(err, n, "bind %s", p->binds[i].src);
        }
        if (bind_path(src, p->binds[i].dst, p->binds[i].ro, err, n) != 0)
            return -1;
    }
    if (umount2(OLDROOT, MNT_DETACH) != 0)
        return fail(err, n, "detach the host root");
    rmdir(OLDROOT);
    if (p->hostname && sethostname(p->hostname, strlen(p->hostname)) != 0)
        return fail(err, n, "sethostname");
    if (p->own_net && lo_up(err, n) != 0)
        return -1;
    return 0;
}

/* Removes name (in dfd) and what is below it, on device dev only. Directories the overlay left
 * unreadable (work/work, and its incompat/volatile with the volatile option: mode 000, owned by
 * the container's root, which may be runnel's own unprivileged uid) are made accessible first. */
static int remove_at(int dfd, const char *name, dev_t dev, int depth) {
    struct stat st;
    if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) != 0)
        return errno == ENOENT ? 0 : -1;
    if (st.st_dev != dev) { /* another mount: never crossed */
        errno = EBUSY;
        return -1;
    }
    if (!S_ISDIR(st.st_mode))
        return unlinkat(dfd, name, 0) == 0 || errno == ENOENT ? 0 : -1;
    if (depth > 64) {
        errno = ELOOP;
        return -1;
    }
    if ((st.st_mode & 0700) != 0700)
        fchmodat(dfd, name, 0700, 0);
    int fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return -1;
    DIR *d = fdopendir(fd);
    if (!d) {
        close(fd);
        return -1;
    }
    int rc = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..") &&
            remove_at(fd, e->d_name, dev, depth + 1) != 0)
            rc = -1;
    closedir(d);
    if (unlinkat(dfd, name, AT_REMOVEDIR) != 0 && errno != ENOENT)
        rc = -1;
    return rc;
}

int rn_remove_tree(const char *path) {
    struct stat st;
    if (lstat(path, &st) != 0)
        return errno == ENOENT ? 0 : -1;
    return remove_at(AT_FDCWD, path, st.st_dev, 0);
}
