/* Container lifecycle and the spawn path used by proc.c.
 *
 * create: the parent makes the state dir and the cgroup, clones the container init straight into
 * new namespaces, then forks the helper ("runnel-ctr"), which joins the cgroup while the init
 * builds the filesystem. The init waits until the parent has written its uid/gid maps, enters a
 * new cgroup namespace, builds the filesystem (mount.c), reports to the helper, and then reaps
 * orphans until its lifeline socket from runnel closes (runnel died) or it is killed. Once the
 * init is ready the helper setns()es into the init's namespaces (a pid namespace only applies to
 * children), drops capabilities and installs the filter.
 *
 * spawn: a request on the helper's socket (argv, env, cwd; stdio by SCM_RIGHTS). The helper
 * clones the step with CLONE_PARENT, so the step is runnel's own child (waitpid, pidfd,
 * kill(-pgid) work as on the host) already in the cgroup, the namespaces and under the filter;
 * the step sets up stdio, cwd and its user and execs; a CLOEXEC pipe reports exec errors to the
 * helper, which answers the request with the pid or the error.
 */
#include "sandbox/container.h"

#include "common/arena.h"
#include "common/strbuf.h"
#include "sandbox/cgroup.h"
#include "sandbox/mount.h"
#include "sandbox/net.h"
#include "sandbox/seccomp.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <inttypes.h>
#include <linux/capability.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

#define MAX_NS 6
#define MAX_REQUEST (64 * 1024 * 1024) /* argv + env of one step */

/* Docker's default capability set. */
static const int default_caps[] = {
    CAP_CHOWN,   CAP_DAC_OVERRIDE, CAP_FSETID,           CAP_FOWNER,
    CAP_MKNOD,   CAP_NET_RAW,      CAP_SETGID,           CAP_SETUID,
    CAP_SETFCAP, CAP_SETPCAP,      CAP_NET_BIND_SERVICE, CAP_SYS_CHROOT,
    CAP_KILL,    CAP_AUDIT_WRITE,
};

struct rn_container {
    pid_t init_pid;
    int lifeline;         /* control socket to the init; the init exits when it closes */
    int lock_fd;          /* flock on state_dir itself while the container lives */
    pid_t zygote_pid;     /* helper in the container's cgroup and namespaces that clones steps */
    int sock;             /* request socket to the helper */
    pthread_mutex_t lock; /* one request at a time on sock */
    rn_cgroup *cg;
    char *state_dir;
    bool layer_on_disk; /* upper/ and work/ under state_dir, to remove at destroy */
    char **env;         /* base environment, NULL-terminated */
    bool harden;
    struct sock_fprog seccomp; /* borrowed: the process-wide seccomp_cached */
    uid_t uid;
    gid_t gid;
    int64_t memory_bytes;
    char *warnings;
    rn_slirp *slirp;   /* outside route of a private network (RN_NET_PRIVATE), or NULL */
    char *net_warning; /* why a private network has no outside route, or NULL */
};

/* Why a step could not start (step_args.kind, req_reply.kind; 0 = it exec'd). */
enum { MSG_EXEC = 2, MSG_CWD, MSG_SETUP, MSG_PRIV };
/* ---- creation ---- */

typedef struct init_args {
    rn_mount_plan plan;
    int go_r, report_w, report_r, life_r;
    unsigned long flags; /* namespaces of the init */
    int sock;            /* helper end of the request socket */
    bool userns, own_net;
    int net_fd;     /* network namespace the init joins first (no user namespace then), or -1 */
    pid_t init_pid; /* for the helper, which is forked once the init is cloned */
} init_args;

static int read_full(int fd, void *buf, size_t n) {
    char *p = buf;
    while (n > 0) {
        ssize_t r = read(fd, p, n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return -1;
        p += r;
        n -= (size_t)r;
    }
    return 0;
}

static int write_full(int fd, const void *buf, size_t n) {
    const char *p = buf;
    while (n > 0) {
        ssize_t r = send(fd, p, n, MSG_NOSIGNAL);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return -1;
        p += r;
        n -= (size_t)r;
    }
    return 0;
}

/* Closes every descriptor except those in keep[] (async-signal-safe). */
static void close_all_but(const int *keep, int n) {
    int lo = 0;
    for (;;) {
        int next = -1;
        for (int i = 0; i < n; i++)
            if (keep[i] >= lo && (next < 0 || keep[i] < next))
                next = keep[i];
        if (next < 0) {
            syscall(SYS_close_range, lo, ~0U, 0);
            return;
        }
        if (next > lo)
            syscall(SYS_close_range, lo, next - 1, 0);
        lo = next + 1;
    }
}

/* Processes of the pid namespace other than the init, zombies left out; with `kill`, SIGKILLs
 * them (kill(-1) from a namespace's init reaches every process in it but itself, atomically with
 * respect to fork) and waits (bounded) until none is left. Allocation-free: runs in the init. */
static int ns_others(bool kill_them) {
    int found = 0;
    for (int round = 0; round < 2500; round++) {
        int live = 0;
        int dfd = open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0)
            return -1;
        char buf[4096];
        long n;
        while ((n = syscall(SYS_getdents64, dfd, buf, sizeof buf)) > 0) {
            for (long off = 0; off < n;) {
                struct {
                    uint64_t ino;
                    int64_t off;
                    unsigned short reclen;
                    unsigned char type;
                    char name[];
                } *de = (void *)(buf + off);
                off += de->reclen;
                if (de->name[0] < '1' || de->name[0] > '9' || !strcmp(de->name, "1"))
                    continue;
                char path[64], st[512];
                snprintf(path, sizeof path, "%s/stat", de->name);
                int fd = openat(dfd, path, O_RDONLY | O_CLOEXEC);
                if (fd < 0)
                    continue;
                ssize_t r = read(fd, st, sizeof st - 1);
                close(fd);
                if (r <= 0)
                    continue;
                st[r] = 0;
                char *rp = strrchr(st, ')');
                if (rp && rp[1] == ' ' && rp[2] != 'Z' && rp[2] != 'X')
                    live++;
            }
        }
        close(dfd);
        if (round == 0)
            found = live;
        if (!kill_them || live == 0)
            break;
        kill(-1, SIGKILL);
        while (waitpid(-1, NULL, WNOHANG) > 0) /* orphans are ours to reap */
            ;
        struct timespec ts = {0, 2000000};
        nanosleep(&ts, NULL);
    }
    return found;
}

/* The init's control socket: EOF (runnel is gone, or destroys the container) ends it, which
 * tears the pid namespace down; 'n' counts the other processes, 'k' kills them. */
static void init_loop(int ctl) {
    prctl(PR_SET_NAME, "runnel-init", 0, 0, 0);
    sigset_t all;
    sigfillset(&all);
    sigprocmask(SIG_BLOCK, &all, NULL);
    sigset_t chld;
    sigemptyset(&chld);
    sigaddset(&chld, SIGCHLD);
    int sfd = signalfd(-1, &chld, SFD_CLOEXEC | SFD_NONBLOCK);
    for (;;) {
        while (waitpid(-1, NULL, WNOHANG) > 0)
            ;
        struct pollfd fds[2] = {{ctl, POLLIN, 0}, {sfd, POLLIN, 0}};
        int n = poll(fds, sfd >= 0 ? 2 : 1, sfd >= 0 ? -1 : 100);
        if (n > 0 && fds[0].revents) {
            char cmd;
            if (read(ctl, &cmd, 1) != 1) /* runnel is gone: our exit kills the namespace */
                _exit(0);
            int count = ns_others(cmd == 'k');
            if (send(ctl, &count, sizeof count, MSG_NOSIGNAL) != (ssize_t)sizeof count)
                _exit(0);
        }
        if (n > 0 && fds[1].revents) {
            struct signalfd_siginfo si;
            while (read(sfd, &si, sizeof si) > 0)
                ;
        }
    }
}

static _Noreturn void init_main(const init_args *a) {
    int keep[] = {a->go_r, a->report_w, a->life_r, a->net_fd};
    close_all_but(keep, a->net_fd >= 0 ? 4 : 3);
    char err[1024];
    /* Not what a global OOM kill picks (the memory limit's cannot: the init is not in the
     * container's cgroup). Needs privilege; best effort. */
    int ofd = open("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC);
    if (ofd >= 0) {
        if (write(ofd, "-1000", 5) != 5) {
        }
        close(ofd);
    }
    char go;
    if (read(a->go_r, &go, 1) != 1) /* the parent gave up */
        _exit(1);
    close(a->go_r);
    /* Another container's network (its services'): joined before anything runs here. */
    if (a->net_fd >= 0 && setns(a->net_fd, CLONE_NEWNET) != 0) {
        snprintf(err, sizeof err, "joining the network of the other container: %s",
                 strerror(errno));
        goto fail;
    }
    if (a->net_fd >= 0)
        close(a->net_fd);
    /* A cgroup namespace of its own (rooted at runnel's cgroup, where the init stays): no host
     * cgroup path shows through it. The helper makes the steps' own. */
    if (unshare(CLONE_NEWCGROUP) != 0 && errno != EINVAL) {
        snprintf(err, sizeof err, "cgroup namespace: %s", strerror(errno));
        goto fail;
    }
    if (rn_mount_setup(&a->plan, err, sizeof err) != 0)
        goto fail;
    if (write(a->report_w, "", 1) != 1)
        _exit(1);
    close(a->report_w);
    init_loop(a->life_r);
fail:
    if (write(a->report_w, err, strlen(err)) < 0) {
    }
    _exit(1);
}

static int write_map(pid_t pid, const char *file, const rn_idmap *map, size_t n, uint32_t self) {
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%d/%s", (int)pid, file);
    int len = 0;
    if (n == 0)
        len = snprintf(buf, sizeof buf, "0 %u 1\n", self);
    for (size_t i = 0; i < n && len < (int)sizeof buf; i++)
        len += snprintf(buf + len, sizeof buf - (size_t)len, "%u %u %u\n", map[i].inside,
                        map[i].outside, map[i].count);
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    ssize_t w = write(fd, buf, (size_t)len);
    int e = errno;
    close(fd);
    errno = e;
    return w == len ? 0 : -1;
}

static bool bad_layer_path(const char *p) {
    return !p || p[0] != '/' || strpbrk(p, ",:\n") != NULL;
}

static char *mkdirs(const char *path) {
    char *copy = rn_xstrdup(path);
    for (char *p = copy + 1;; p++) {
        if (*p == '/' || !*p) {
            char c = *p;
            *p = 0;
            if (mkdir(copy, 0700) != 0 && errno != EEXIST) {
                char *e = rn_xprintf("%s: %s", copy, strerror(errno));
                free(copy);
                return e;
            }
            *p = c;
            if (!c)
                break;
        }
    }
    free(copy);
    return NULL;
}

static char **copy_env(const char *const *env) {
    size_t n = 0;
    while (env && env[n])
        n++;
    char **v = rn_xcalloc(n + 1, sizeof *v);
    for (size_t i = 0; i < n; i++)
        v[i] = rn_xstrdup(env[i]);
    return v;
}

static void free_strv(char **v) {
    for (size_t i = 0; v && v[i]; i++)
        free(v[i]);
    free(v);
}

/* Containers of a runnel that died (killed, crashed) leave an empty cgroup and their state dir
 * behind (their processes died with the init). A live container holds a flock on its state dir
 * (no lock file: one file less to make and remove on a busy disk); an unlocked one older than a
 * minute (not one being created) is removed. */
static void sweep_stale(const char *root) {
    DIR *d = opendir(root);
    if (!d)
        return;
    struct dirent *e;
    time_t now = time(NULL);
    while ((e = readdir(d))) {
        if (strncmp(e->d_name, "ctr-", 4) != 0)
            continue;
        char *dir = rn_xprintf("%s/%s", root, e->d_name);
        char *lock = rn_xprintf("%s/lock", dir);
        struct stat st;
        int fd = -1;
        /* Older runnels lock a `lock` file in the dir (and only know that protocol). */
        if (stat(dir, &st) == 0 && now - st.st_mtime > 60 &&
            ((fd = open(lock, O_RDWR | O_CLOEXEC)) >= 0 ||
             (errno == ENOENT && (fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >= 0)) &&
            flock(fd, LOCK_EX | LOCK_NB) == 0) {
            char *cg = rn_xprintf("runnel-%s", e->d_name);
            rn_cgroup_remove_stale(cg);
            free(cg);
            rn_remove_tree(dir);
        }
        if (fd >= 0)
            close(fd);
        free(lock);
        free(dir);
    }
    closedir(d);
}

/* The filter is the same for every container: compiled once per process, in the parent, and
 * shared. Never in the forked helper: a fork of a threaded process may not allocate (the
 * allocator's locks can be held by another thread; ASan's are not reset at fork). Never freed. */
static pthread_once_t seccomp_once = PTHREAD_ONCE_INIT;
static struct sock_fprog seccomp_cached;
static char seccomp_error[256];

static void build_cached(void) {
    char *err = NULL;
    if (rn_seccomp_build(&seccomp_cached, &err) != 0) {
        seccomp_cached.filter = NULL;
        snprintf(seccomp_error, sizeof seccomp_error, "%s", err ? err : "libseccomp failed");
    }
    free(err);
}

static void free_container(rn_container *c) {
    if (c->sock >= 0)
        close(c->sock);
    pthread_mutex_destroy(&c->lock);
    if (c->lifeline >= 0)
        close(c->lifeline);
    rn_cgroup_destroy(c->cg);
    if (c->state_dir)
        rn_remove_tree(c->state_dir);
    if (c->lock_fd >= 0)
        close(c->lock_fd);
    free(c->state_dir);
    free_strv(c->env);
    free(c->warnings);
    free(c->net_warning);
    free(c);
}

static _Noreturn void zygote_main(rn_container *c, const init_args *a);
static void reap_helpers(rn_container *c);

rn_container *rn_container_create(const rn_container_opts *o, char **err) {
    *err = NULL;
    if (!o->lowers || o->n_lowers == 0) {
        *err = rn_xstrdup("container: no root filesystem (lower directories)");
        return NULL;
    }
    for (size_t i = 0; i < o->n_lowers; i++)
        if (bad_layer_path(o->lowers[i])) {
            *err = rn_xprintf("container: lower directory '%s' must be absolute, without ',' "
                              "or ':'",
                              o->lowers[i] ? o->lowers[i] : "(null)");
            return NULL;
        }
    for (size_t i = 0; i < o->n_binds; i++)
        if (!o->binds[i].src || o->binds[i].src[0] != '/' || !o->binds[i].dst ||
            o->binds[i].dst[0] != '/') {
            *err = rn_xstrdup("container: bind paths must be absolute");
            return NULL;
        }
    bool userns = o->userns == RN_USERNS_ON || (o->userns == RN_USERNS_AUTO && geteuid() != 0);
    if (o->userns == RN_USERNS_OFF && geteuid() != 0) {
        *err = rn_xstrdup("container: without a user namespace runnel must run as root");
        return NULL;
    }

    rn_container *c = rn_xcalloc(1, sizeof *c);
    c->lifeline = -1;
    c->lock_fd = -1;
    c->init_pid = -1;
    c->zygote_pid = -1;
    c->sock = -1;
    pthread_mutex_init(&c->lock, NULL);
    c->harden = !o->no_hardening;
    c->uid = o->uid;
    c->gid = o->gid;
    c->memory_bytes = o->memory_bytes;
    c->env = copy_env(o->env);

    const char *root = o->state_root ? o->state_root : getenv("RUNNEL_SANDBOX_DIR");
    if (!root || !*root)
        root = "/var/tmp/runnel-sandbox";
    if (bad_layer_path(root)) {
        *err = rn_xprintf("container: state directory '%s' must be absolute, without ',' or ':'",
                          root);
        free_container(c);
        return NULL;
    }
    if ((*err = mkdirs(root))) {
        free_container(c);
        return NULL;
    }
    bool in_memory = o->layer_in_memory && !userns;
    bool limits = o->memory_bytes || o->pids_max || o->cpu_shares || o->cpu_millis;
    /* A container's own state dir holds its layer on disk, names its cgroup (a stale one is
     * swept with the dir) and keeps slirp4netns's log. A layer in memory needs none of it
     * otherwise: no directory to make and remove (each waits for a discard on such disks). */
    char *tmpl = rn_xprintf("%s/ctr-XXXXXX", root);
    if (!in_memory || limits || (o->net == RN_NET_PRIVATE && !o->net_from)) {
        if (!mkdtemp(tmpl)) {
            *err = rn_xprintf("%s: %s", tmpl, strerror(errno));
            free(tmpl);
            free_container(c);
            return NULL;
        }
        c->state_dir = tmpl;
        sweep_stale(root);
        c->lock_fd = open(tmpl, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (c->lock_fd >= 0)
            flock(c->lock_fd, LOCK_EX);
    } else {
        free(tmpl);
        tmpl = NULL;
    }
    /* The overlay is mounted on the state dir itself (in the init's private mount namespace),
     * over its upper and work dirs: one directory less to make and remove on a busy disk. A
     * layer in memory is a tmpfs mounted on the state root's `mem`, the same folder for every
     * container (each mounts its own in its own namespace). */
    char *rootdir = in_memory ? rn_xprintf("%s/mem", root) : rn_xstrdup(tmpl);
    char *upper = rn_xprintf("%s/upper", rootdir), *work = rn_xprintf("%s/work", rootdir);
    if (!in_memory) {
        mkdir(upper, 0755);
        mkdir(work, 0700);
    } else if (mkdir(rootdir, 0700) != 0 && errno != EEXIST) {
        *err = rn_xprintf("%s: %s", rootdir, strerror(errno));
        free(upper);
        free(work);
        free(rootdir);
        free_container(c);
        return NULL;
    }
    c->layer_on_disk = !in_memory;
    if (userns && o->n_uid_map) { /* container root must own its writable layer */
        for (size_t i = 0; i < o->n_uid_map; i++) {
            if (o->uid_map[i].inside != 0)
                continue;
            uid_t ou = o->uid_map[i].outside;
            gid_t og = o->n_gid_map ? o->gid_map[0].outside : ou;
            if (chown(tmpl, ou, og) != 0 || chown(upper, ou, og) != 0 || chown(work, ou, og) != 0) {
                *err = rn_xprintf("%s: chown: %s", tmpl, strerror(errno));
                free(upper);
                free(work);
                free(rootdir);
                free_container(c);
                return NULL;
            }
        }
    }

    rn_sb ov = RN_SB_INIT;
    rn_sb_puts(&ov, "lowerdir=");
    for (size_t i = o->n_lowers; i-- > 0;) /* overlayfs lists the top layer first */
        rn_sb_printf(&ov, "%s%s", o->lowers[i], i ? ":" : "");
    rn_sb_printf(&ov, ",upperdir=%s,workdir=%s", upper, work);
    if (userns)
        rn_sb_puts(&ov, ",userxattr");

    const char **masked = rn_xcalloc(o->n_masked + 1, sizeof *masked);
    for (size_t i = 0; i < o->n_masked; i++)
        masked[i] = o->masked[i];
    masked[o->n_masked] = root;

    init_args a = {0};
    a.net_fd = -1;
    a.plan = (rn_mount_plan){rootdir,
                             ov.data,
                             masked,
                             o->n_masked + 1,
                             o->binds,
                             o->n_binds,
                             o->hostname ? o->hostname : "runnel",
                             userns,
                             o->net != RN_NET_HOST || o->net_from,
                             in_memory};
    int go[2] = {-1, -1}, rep[2] = {-1, -1}, life[2] = {-1, -1}, zs[2] = {-1, -1};
    char *warn = NULL;
    rn_cgroup_limits lim = {o->memory_bytes, o->pids_max, o->cpu_shares, o->cpu_millis};
    /* A cgroup only for limits: the pid namespace already holds every process of the container
     * (its init's exit kills them all, its /proc counts them), and joining cgroups is the most
     * expensive part of a start on cgroup v1. Limits asked for and impossible: refuse to run. */
    if (limits) {
        char *cgname = rn_xprintf("runnel-%s", strrchr(tmpl, '/') + 1);
        c->cg = rn_cgroup_create(cgname, &lim, &warn, err);
        free(cgname);
        if (!c->cg && !o->limits_best_effort)
            goto fail;
        if (!c->cg) { /* default limits only: run without them, say why */
            warn = *err;
            *err = NULL;
        }
        c->warnings = warn;
    }
    if (c->harden) {
        pthread_once(&seccomp_once, build_cached);
        if (!seccomp_cached.filter) {
            *err = rn_xprintf("container: cannot build the seccomp filter: %s", seccomp_error);
            goto fail;
        }
        c->seccomp = seccomp_cached;
    }
    /* go is a socket so that telling an init that died meanwhile is EPIPE, not SIGPIPE. */
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, go) != 0 || pipe2(rep, O_CLOEXEC) != 0 ||
        socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, life) != 0) {
        *err = rn_xprintf("pipe: %s", strerror(errno));
        goto fail;
    }
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, zs) != 0) {
        *err = rn_xprintf("socketpair: %s", strerror(errno));
        goto fail;
    }
    a.go_r = go[0];
    a.report_w = rep[1];
    a.report_r = rep[0];
    a.life_r = life[0];
    a.flags = CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWIPC | CLONE_NEWUTS;
    if (o->net_from) {
        char path[64];
        snprintf(path, sizeof path, "/proc/%d/ns/net", (int)o->net_from->init_pid);
        if ((a.net_fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
            *err = rn_xprintf("container: network of the other container: %s", strerror(errno));
            goto fail;
        }
    } else if (o->net != RN_NET_HOST) {
        a.flags |= CLONE_NEWNET;
    }
    if (userns)
        a.flags |= CLONE_NEWUSER;
    a.sock = zs[1];
    a.userns = userns;
    a.own_net = o->net != RN_NET_HOST || o->net_from;
    /* The init first, so that it builds the filesystem while the helper is forked. Raw clone:
     * like the helper's fork of a threaded process, the init allocates nothing. */
    pid_t ipid = (pid_t)syscall(SYS_clone, a.flags | SIGCHLD, NULL, NULL, NULL, 0);
    if (ipid == 0)
        init_main(&a);
    if (ipid < 0) {
        *err = rn_xprintf("container: cannot start the init process: %s", strerror(errno));
        goto fail;
    }
    c->init_pid = a.init_pid = ipid;
    if (a.net_fd >= 0)
        close(a.net_fd);
    a.net_fd = -1;
    close(go[0]);
    close(life[0]);
    go[0] = life[0] = -1;
    c->lifeline = life[1];
    life[1] = -1;
    if (userns) {
        char path[64];
        snprintf(path, sizeof path, "/proc/%d/setgroups", (int)ipid);
        int fd = open(path, O_WRONLY | O_CLOEXEC);
        bool deny = o->n_gid_map == 0; /* unprivileged gid maps require setgroups deny */
        if (fd >= 0) {
            if (deny && write(fd, "deny", 4) != 4) {
            }
            close(fd);
        }
        if (write_map(ipid, "uid_map", o->uid_map, o->n_uid_map, geteuid()) != 0 ||
            write_map(ipid, "gid_map", o->gid_map, o->n_gid_map, getegid()) != 0) {
            *err = rn_xprintf("user namespace id map: %s", strerror(errno));
            goto fail;
        }
    }
    if (send(go[1], "g", 1, MSG_NOSIGNAL) != 1) {
        *err = rn_xprintf("container init: %s", strerror(errno));
        goto fail;
    }
    close(go[1]);
    go[1] = -1;
    pid_t zpid = fork();
    if (zpid == 0)
        zygote_main(c, &a);
    if (zpid < 0) {
        *err = rn_xprintf("fork: %s", strerror(errno));
        goto fail;
    }
    c->zygote_pid = zpid;
    close(zs[1]);
    zs[1] = -1;
    c->sock = zs[0];
    zs[0] = -1;
    close(rep[0]); /* the init reports to the helper */
    close(rep[1]);
    rep[0] = rep[1] = -1;
    /* One answer from the helper once the init built the filesystem and the helper entered the
     * namespaces: {init pid, 0}; {init pid, errno} when entering or hardening failed; {init pid,
     * -1, length, text} when the setup failed. */
    int zinfo[2];
    if (read_full(c->sock, zinfo, sizeof zinfo) != 0)
        zinfo[0] = -1, zinfo[1] = EPIPE;
    if (zinfo[0] <= 0 || zinfo[1] == -1) {
        uint32_t len = 0;
        char buf[1100] = "";
        if (zinfo[0] > 0 && read_full(c->sock, &len, sizeof len) == 0 && len < sizeof buf &&
            read_full(c->sock, buf, len) == 0)
            buf[len] = 0;
        else
            buf[0] = 0;
        *err = buf[0] ? rn_xprintf("container setup: %s", buf)
                      : rn_xstrdup("container setup: the init process died");
        goto fail;
    }
    if (zinfo[1] != 0) {
        *err = rn_xprintf("container: entering the namespaces: %s", strerror(zinfo[1]));
        goto fail;
    }
    /* The private network's route out: slirp4netns on the init's network namespace. Without
     * it (missing, or failing) the namespace keeps only lo, and the caller is told why. */
    if (o->net == RN_NET_PRIVATE && !o->net_from) {
        char *log = rn_xprintf("%s/slirp4netns.log", c->state_dir), *e = NULL;
        c->slirp = rn_slirp_start(c->init_pid, log, &e);
        c->net_warning = e;
        free(log);
    }
    free(upper);
    free(work);
    free(rootdir);
    free(masked);
    rn_sb_free(&ov);
    return c;

fail:
    for (int i = 0; i < 2; i++) {
        if (go[i] >= 0)
            close(go[i]);
        if (rep[i] >= 0)
            close(rep[i]);
        if (life[i] >= 0)
            close(life[i]);
        if (zs[i] >= 0)
            close(zs[i]);
    }
    if (a.net_fd >= 0)
        close(a.net_fd);
    reap_helpers(c);
    free(upper);
    free(work);
    free(rootdir);
    free(masked);
    rn_sb_free(&ov);
    free_container(c);
    return NULL;
}

/* A request to the init: 'n' (count) or 'k' (kill); its answer, or -1. */
static int ask_init(rn_container *c, char cmd) {
    int count = -1;
    pthread_mutex_lock(&c->lock);
    if (c->lifeline >= 0 && send(c->lifeline, &cmd, 1, MSG_NOSIGNAL) == 1 &&
        read_full(c->lifeline, &count, sizeof count) != 0)
        count = -1;
    pthread_mutex_unlock(&c->lock);
    return count;
}

int rn_container_kill_all(rn_container *c) {
    if (!c)
        return 0;
    int n = ask_init(c, 'k');
    return n < 0 ? 0 : n;
}

/* Ends the helper and the init (which tears down the pid namespace and everything in it). */
static void reap_helpers(rn_container *c) {
    if (c->sock >= 0) {
        close(c->sock);
        c->sock = -1;
    }
    pid_t pids[2] = {c->zygote_pid, c->init_pid};
    for (int i = 0; i < 2; i++)
        if (pids[i] > 0)
            kill(pids[i], SIGKILL);
    for (int i = 0; i < 2; i++)
        if (pids[i] > 0)
            while (waitpid(pids[i], NULL, 0) < 0 && errno == EINTR)
                ;
    c->zygote_pid = c->init_pid = -1;
}

void rn_container_destroy_at_exit(rn_container *c) {
    if (!c)
        return;
    if (c->cg || c->layer_on_disk || c->slirp) { /* something to remove once all is gone */
        rn_container_destroy(c);
        return;
    }
    pid_t pids[2] = {c->zygote_pid, c->init_pid};
    for (int i = 0; i < 2; i++)
        if (pids[i] > 0)
            kill(pids[i], SIGKILL);
    free_container(c);
}

void rn_container_destroy(rn_container *c) {
    if (!c)
        return;
    rn_slirp_stop(c->slirp); /* before the namespace goes: nothing of the container survives */
    c->slirp = NULL;
    /* Everything is SIGKILLed first; the writable layer's contents are then removed while the
     * kernel tears the namespaces down (the dying processes' exit, on another CPU), and what a
     * process still wrote meanwhile goes with the state dir once they are gone. */
    if (c->zygote_pid > 0)
        kill(c->zygote_pid, SIGKILL);
    if (c->init_pid > 0)
        kill(c->init_pid, SIGKILL);
    const char *layer[] = {"upper", "work"};
    for (int i = 0; c->state_dir && c->layer_on_disk && i < 2; i++) {
        char *p = rn_xprintf("%s/%s", c->state_dir, layer[i]);
        rn_remove_tree(p);
        free(p);
    }
    reap_helpers(c);
    /* Anything still in the cgroup (nothing should be: every step lives in the pid namespace)
     * is frozen and killed by rn_cgroup_destroy(). */
    free_container(c);
}

pid_t rn_container_init_pid(const rn_container *c) {
    return c->init_pid;
}

int rn_container_nprocs(const rn_container *c) {
    int n = ask_init((rn_container *)c, 'n'); /* the lock is the only thing written */
    return n < 0 ? -1 : n + 1;
}

uint64_t rn_container_oom_kills(const rn_container *c) {
    return rn_cgroup_oom_kills(c->cg);
}

int rn_pids_limit_parse(const char *v, int64_t *out) {
    char *end;
    errno = 0;
    long long n = strtoll(v, &end, 10);
    if (!*v || *end || errno || n < -1)
        return -1;
    *out = n > 0 ? n : 0;
    return 0;
}

int rn_pids_limit_default(int64_t *out, bool *builtin) {
    const char *env = getenv("RUNNEL_PIDS_LIMIT");
    *builtin = !env || !*env;
    if (*builtin) {
        *out = RN_PIDS_LIMIT_DEFAULT;
        return 0;
    }
    return rn_pids_limit_parse(env, out);
}

const char *rn_container_warnings(const rn_container *c) {
    return c->warnings ? c->warnings : "";
}

const char *rn_container_net_warning(const rn_container *c) {
    return c->net_warning ? c->net_warning : "";
}

pid_t rn_container_slirp_pid(const rn_container *c) {
    return c->slirp ? rn_slirp_pid(c->slirp) : -1;
}

const char *rn_container_cgroup_version(const rn_container *c) {
    return c->cg ? rn_cgroup_version(c->cg) : "none";
}

char *rn_container_describe(const rn_container *c, const rn_proc_result *r,
                            const rn_proc_opts *opts, uint64_t oom_before) {
    if (c->memory_bytes > 0 && rn_container_oom_kills(c) > oom_before) {
        int64_t mib = 1024 * 1024;
        if (c->memory_bytes % mib == 0)
            return rn_xprintf("killed by the memory limit (%" PRId64 " MiB)",
                              c->memory_bytes / mib);
        return rn_xprintf("killed by the memory limit (%" PRId64 " bytes)", c->memory_bytes);
    }
    return rn_proc_result_describe(r, opts);
}

/* ---- spawn ---- */

static bool is_default_cap(int cap) {
    for (size_t i = 0; i < sizeof default_caps / sizeof default_caps[0]; i++)
        if (default_caps[i] == cap)
            return true;
    return false;
}

/* Bounding and ambient sets reduced to Docker's defaults. Async-signal-safe. Capabilities are
 * numbered densely: the first the kernel does not know (EINVAL) ends the walk. */
static int drop_bounding(void) {
    for (int cap = 0; cap < 64; cap++)
        if (!is_default_cap(cap) && prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0) {
            if (errno == EINVAL)
                break;
            return -1;
        }
    return prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0 && errno != EINVAL ? -1
                                                                                            : 0;
}

/* Effective, permitted and inheritable sets intersected with the defaults. */
static int limit_caps(void) {
    struct __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, 0};
    struct __user_cap_data_struct d[2];
    if (syscall(SYS_capget, &h, d) != 0)
        return -1;
    uint32_t keep[2] = {0, 0};
    for (size_t i = 0; i < sizeof default_caps / sizeof default_caps[0]; i++)
        keep[default_caps[i] / 32] |= 1u << (default_caps[i] % 32);
    for (int i = 0; i < 2; i++) {
        d[i].effective &= keep[i];
        d[i].permitted &= keep[i];
        d[i].inheritable &= keep[i];
    }
    return (int)syscall(SYS_capset, &h, d);
}

static const char *env_value(char *const *env, const char *name) {
    size_t n = strlen(name);
    for (; env && *env; env++)
        if (!strncmp(*env, name, n) && (*env)[n] == '=')
            return *env + n + 1;
    return NULL;
}

/* Base environment overridden entry by entry by the step's. */
static char **merge_env(char *const *base, const char *const *step) {
    size_t nb = 0, ns = 0;
    while (base && base[nb])
        nb++;
    while (step && step[ns])
        ns++;
    char **v = rn_xcalloc(nb + ns + 1, sizeof *v);
    size_t k = 0;
    for (size_t i = 0; i < nb; i++) {
        const char *eq = strchr(base[i], '=');
        size_t len = eq ? (size_t)(eq - base[i]) : strlen(base[i]);
        bool overridden = false;
        for (size_t j = 0; j < ns && !overridden; j++)
            overridden = !strncmp(step[j], base[i], len) && step[j][len] == '=';
        if (!overridden)
            v[k++] = (char *)base[i];
    }
    for (size_t j = 0; j < ns; j++)
        v[k++] = (char *)step[j];
    return v;
}

/* Memory for one request in the helper, from mmap: the helper is a fork of a possibly
 * multithreaded runnel, whose allocator may have been locked by another thread at the fork (glibc
 * resets its own, ASan's allocator is not). Released whole after the request. */
typedef struct hmem {
    char *base;
    size_t cap, used;
} hmem;

static int hm_open(hmem *m, size_t cap) {
    m->used = 0;
    m->cap = cap;
    m->base = mmap(NULL, cap, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m->base == MAP_FAILED) {
        m->base = NULL;
        return -1;
    }
    return 0;
}

static void hm_close(hmem *m) {
    if (m->base)
        munmap(m->base, m->cap);
    m->base = NULL;
}

static void *hm_take(hmem *m, size_t n) {
    n = (n + 15) & ~(size_t)15;
    if (!m->base || n > m->cap - m->used)
        return NULL;
    void *p = m->base + m->used;
    m->used += n;
    return p;
}

/* Full paths to try, in PATH order (one entry for a name with '/'), in a hmem of their own
 * (sized here: nothing bounds PATH but the request). NULL if it cannot be mapped. */
static char **exec_candidates(hmem *m, const char *name, char *const *env) {
    const char *path = strchr(name, '/') ? NULL : env_value(env, "PATH");
    if (!strchr(name, '/') && !path)
        path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
    size_t n = 1, nl = strlen(name);
    for (const char *p = path; p && *p; p++)
        n += *p == ':';
    if (hm_open(m, (n + 1) * sizeof(char *) + (path ? strlen(path) : 0) + n * (nl + 3 + 16) + 64) !=
        0)
        return NULL;
    char **v = hm_take(m, (n + 1) * sizeof *v);
    if (!path) {
        v[0] = hm_take(m, nl + 1);
        memcpy(v[0], name, nl + 1);
        v[1] = NULL;
        return v;
    }
    size_t k = 0;
    for (const char *seg = path;;) {
        const char *end = strchr(seg, ':');
        size_t len = end ? (size_t)(end - seg) : strlen(seg);
        if (!len) /* an empty entry is the current directory */
            seg = ".", len = 1;
        char *c = hm_take(m, len + 1 + nl + 1);
        memcpy(c, seg, len);
        c[len] = '/';
        memcpy(c + len + 1, name, nl + 1);
        v[k++] = c;
        if (!end)
            break;
        seg = end + 1;
    }
    v[k] = NULL;
    return v;
}

/* What a step needs, on the helper's stack; the step shares the helper's memory (CLONE_VM) until
 * it execs, and reports a failure before it by setting kind/val. */
typedef struct step_args {
    const char *const *argv;
    char **env, **cands;
    const char *cwd;
    int in, out, err;
    uid_t uid;
    gid_t gid;
    bool reset_oom;
    volatile int kind, val;
} step_args;

/* Ends the step before exec: a plain system call (no _exit: it runs on the helper's memory, and
 * sanitizer runtimes act on noreturn calls). */
static int step_fail(step_args *a, int kind, int val) {
    a->kind = kind;
    a->val = val;
    syscall(SYS_exit_group, 127);
    return 127;
}

/* The step, cloned with CLONE_VM | CLONE_VFORK: only system calls until execve (raw ones for the
 * id changes: glibc's wrappers would try to broadcast them to the helper's "threads"). Signal
 * dispositions and mask were reset once in the helper, capabilities and the seccomp filter are
 * inherited from it; a non-root uid clears the remaining capabilities by itself. */
static int step_main(void *arg) {
    step_args *a = arg;
    setsid();
    int i = fcntl(a->in, F_DUPFD_CLOEXEC, 3), o = fcntl(a->out, F_DUPFD_CLOEXEC, 3),
        e = fcntl(a->err, F_DUPFD_CLOEXEC, 3);
    if (i < 0 || o < 0 || e < 0 || dup2(i, 0) < 0 || dup2(o, 1) < 0 || dup2(e, 2) < 0)
        return step_fail(a, MSG_SETUP, errno);
    /* Nothing of runnel leaks into the step: every other descriptor closes at exec. */
    syscall(SYS_close_range, 3, ~0U, CLOSE_RANGE_CLOEXEC);
    if (chdir(a->cwd ? a->cwd : "/") != 0)
        return step_fail(a, MSG_CWD, errno);
    if (a->reset_oom) { /* the helper's -1000 */
        int adj = open("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC);
        if (adj >= 0) {
            if (write(adj, "0", 1) != 1) {
            }
            close(adj);
        }
    }
    if (a->gid != 0 || a->uid != 0) {
        if (syscall(SYS_setgroups, 0, NULL) != 0 && errno != EPERM)
            return step_fail(a, MSG_PRIV, errno);
        if (syscall(SYS_setresgid, a->gid, a->gid, a->gid) != 0 ||
            syscall(SYS_setresuid, a->uid, a->uid, a->uid) != 0)
            return step_fail(a, MSG_PRIV, errno);
    }
    /* execvp's rules: EACCES is remembered while searching on, other errors stop. */
    int e_exec = ENOENT;
    for (size_t k = 0; a->cands[k]; k++) {
        execve(a->cands[k], (char *const *)a->argv, a->env);
        if (errno == EACCES)
            e_exec = EACCES;
        else if (errno != ENOENT && errno != ENOTDIR) {
            e_exec = errno;
            break;
        }
    }
    return step_fail(a, MSG_EXEC, e_exec);
}

typedef struct req_hdr {
    uint32_t len, nargv, nenv, has_cwd;
} req_hdr;

typedef struct req_reply {
    int pid, kind, err;
} req_reply;

/* Splits n NUL-terminated strings off *p (bounded by end) into a NULL-terminated vector. */
static char **take_strings(hmem *m, char **p, const char *end, uint32_t n) {
    char **v = hm_take(m, ((size_t)n + 1) * sizeof *v);
    if (!v)
        return NULL;
    for (uint32_t i = 0; i < n; i++) {
        size_t len = strnlen(*p, (size_t)(end - *p));
        if (*p + len >= end)
            return NULL;
        v[i] = *p;
        *p += len + 1;
    }
    v[n] = NULL;
    return v;
}

/* The helper's state for its steps (set in the helper after the fork, read by each step). */
#define STEP_STACK (64 * 1024)
static char *step_stack;
static bool helper_oom_set;

/* One step: clone it as runnel's child (CLONE_PARENT), wait until it exec'd or failed. The
 * request's body and vectors are in m. */
static req_reply serve_one(rn_container *c, hmem *m, char *body, const req_hdr *h, const int *fds) {
    req_reply rep = {-1, MSG_SETUP, EINVAL};
    char *p = body, *end = body + h->len;
    const char *cwd = NULL;
    if (h->has_cwd) {
        char **one = take_strings(m, &p, end, 1);
        if (!one)
            return rep;
        cwd = one[0];
    }
    char **argv = take_strings(m, &p, end, h->nargv);
    char **env = argv ? take_strings(m, &p, end, h->nenv) : NULL;
    if (!argv || !env || h->nargv == 0)
        return rep;
    hmem cm = {0};
    char **cands = exec_candidates(&cm, argv[0], env);
    if (!cands) {
        rep.err = ENOMEM;
        return rep;
    }
    step_args sa = {.argv = (const char *const *)argv,
                    .env = env,
                    .cands = cands,
                    .cwd = cwd,
                    .in = fds[0],
                    .out = fds[1],
                    .err = fds[2],
                    .uid = c->uid,
                    .gid = c->gid,
                    .reset_oom = helper_oom_set};
    /* Like posix_spawn: the helper sleeps until the step exec'd or failed, sharing its memory
     * meanwhile (no page tables copied, no pipe to learn the outcome). CLONE_PARENT: the step is
     * runnel's child. */
    pid_t pid = clone(step_main, step_stack + STEP_STACK,
                      CLONE_VM | CLONE_VFORK | CLONE_PARENT | SIGCHLD, &sa);
    if (pid < 0)
        rep.err = errno;
    else
        rep = (req_reply){pid, sa.kind, sa.val};
    hm_close(&cm);
    return rep;
}

/* The helper: a child of runnel in the container's cgroup, then in its namespaces (except that
 * it stays outside the pid namespace, whose children it creates). Joining a v1 cgroup costs an
 * RCU grace period per hierarchy, so it is paid once here, not per step. */
static _Noreturn void zygote_main(rn_container *c, const init_args *a) {
    int keep[12] = {a->report_r, a->sock}, nkeep = 2;
    nkeep += rn_cgroup_fds(c->cg, keep + nkeep, 12 - nkeep); /* for the join below */
    close_all_but(keep, nkeep);
    prctl(PR_SET_NAME, "runnel-ctr", 0, 0, 0);
    pid_t init = a->init_pid;
    /* Default dispositions and an empty mask, once: every step inherits them (an ignored
     * SIGPIPE of runnel would otherwise survive exec). The helper writes with MSG_NOSIGNAL. */
    for (int s = 1; s < NSIG; s++)
        signal(s, SIG_DFL);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    /* Not what the memory limit's OOM killer picks: the steps are (they reset it). */
    int fd = open("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC);
    if (fd >= 0) {
        helper_oom_set = write(fd, "-1000", 5) == 5; /* needs privilege; best effort */
        close(fd);
    }
    step_stack = mmap(NULL, STEP_STACK, PROT_READ | PROT_WRITE,
                      MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
    int e = step_stack == MAP_FAILED ? errno : 0;
    /* Into the container's cgroup while the init builds the filesystem (a v1 migration waits for
     * an RCU grace period per hierarchy: off the critical path here). Every process of the job
     * is cloned by the helper, so inherits it; the init itself stays in runnel's cgroup. */
    if (!e && c->cg && rn_cgroup_join(c->cg, 0) != 0)
        e = errno;
    for (int i = 2; i < nkeep; i++) /* steps must not inherit them */
        close(keep[i]);
    /* The init's report: one NUL byte once the filesystem is built, else the error (then EOF). */
    char rbuf[1100];
    size_t got = 0;
    ssize_t n;
    while ((n = read(a->report_r, rbuf + got, sizeof rbuf - 1 - got)) > 0 ||
           (n < 0 && errno == EINTR)) {
        if (n > 0)
            got += (size_t)n;
        if (got == 1 && rbuf[0] == 0)
            break;
    }
    close(a->report_r);
    if (got != 1 || rbuf[0] != 0) {
        uint32_t len = (uint32_t)got;
        int fail_info[2] = {init, -1};
        if (write_full(a->sock, fail_info, sizeof fail_info) == 0 &&
            write_full(a->sock, &len, sizeof len) == 0)
            write_full(a->sock, rbuf, got);
        _exit(1);
    }
    const char *ns[] = {a->userns ? "user" : NULL, "mnt", "pid",
                        a->own_net ? "net" : NULL, "ipc", "uts"};
    /* Opened once the init is ready, all before the first setns: once in the mount namespace,
     * /proc is the container's. */
    int nfd[MAX_NS];
    for (int i = 0; i < MAX_NS; i++) {
        nfd[i] = -1;
        if (!ns[i] || e)
            continue;
        char path[64];
        snprintf(path, sizeof path, "/proc/%d/ns/%s", (int)init, ns[i]);
        if ((nfd[i] = open(path, O_RDONLY | O_CLOEXEC)) < 0)
            e = errno;
    }
    for (int i = 0; i < MAX_NS; i++) {
        if (nfd[i] >= 0 && !e && setns(nfd[i], 0) != 0)
            e = errno;
        if (nfd[i] >= 0)
            close(nfd[i]);
    }
    /* A cgroup namespace rooted at the container's cgroup (or runnel's, without limits), for the
     * helper and so every step: their /proc/self/cgroup shows "/". After setns(user): it needs
     * CAP_SYS_ADMIN in the container's user namespace. */
    if (!e && unshare(CLONE_NEWCGROUP) != 0 && errno != EINVAL)
        e = errno;
    /* Hardening once, inherited by every step: attaching a seccomp filter JIT-compiles it,
     * which costs about a millisecond (more under load) per process otherwise. What the helper
     * still does (clone without namespace flags, socket and pipe I/O) is all allowed. */
    if (!e && c->harden &&
        (drop_bounding() != 0 || limit_caps() != 0 || rn_seccomp_install(&c->seccomp) != 0))
        e = errno;
    int info[2] = {init, e};
    if (write_full(a->sock, info, sizeof info) != 0 || e)
        _exit(1);
    for (;;) {
        req_hdr h;
        int fds[3] = {-1, -1, -1};
        char cbuf[CMSG_SPACE(sizeof fds)];
        struct iovec iov = {&h, sizeof h};
        struct msghdr mh = {0};
        mh.msg_iov = &iov;
        mh.msg_iovlen = 1;
        mh.msg_control = cbuf;
        mh.msg_controllen = sizeof cbuf;
        ssize_t r = recvmsg(a->sock, &mh, MSG_CMSG_CLOEXEC | MSG_WAITALL);
        if (r < 0 && errno == EINTR)
            continue;
        if (r != (ssize_t)sizeof h || h.len > MAX_REQUEST) /* runnel closed the container */
            _exit(0);
        struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
        if (cm && cm->cmsg_type == SCM_RIGHTS && cm->cmsg_len == CMSG_LEN(sizeof fds))
            memcpy(fds, CMSG_DATA(cm), sizeof fds);
        /* Body, then the vectors: a string is at least its NUL, so at most len of them. */
        hmem m = {0};
        size_t vec = ((size_t)h.len + 3) * sizeof(char *);
        char *body =
            hm_open(&m, (size_t)h.len + 16 + 3 * vec + 64) == 0 ? hm_take(&m, h.len + 1) : NULL;
        if (!body) { /* drain the request, answer ENOMEM */
            char sink[4096];
            for (size_t left = h.len; left > 0;) {
                size_t k = left < sizeof sink ? left : sizeof sink;
                if (read_full(a->sock, sink, k) != 0)
                    _exit(0);
                left -= k;
            }
        } else if (read_full(a->sock, body, h.len) != 0) {
            _exit(0);
        }
        req_reply rep = {-1, MSG_SETUP, body ? EBADF : ENOMEM};
        if (body && fds[0] >= 0 && fds[1] >= 0 && fds[2] >= 0)
            rep = serve_one(c, &m, body, &h, fds);
        for (int i = 0; i < 3; i++)
            if (fds[i] >= 0)
                close(fds[i]);
        hm_close(&m);
        if (write_full(a->sock, &rep, sizeof rep) != 0)
            _exit(0);
    }
}

pid_t rn_container_spawn(rn_container *c, const char *const *argv, const char *const *envp,
                         const char *cwd, int fd_in, int fd_out, int fd_err, char **err) {
    *err = NULL;
    char **env = merge_env(c->env, envp);
    rn_sb body = RN_SB_INIT;
    req_hdr h = {0, 0, 0, cwd != NULL};
    if (cwd)
        rn_sb_append(&body, cwd, strlen(cwd) + 1);
    for (; argv[h.nargv]; h.nargv++)
        rn_sb_append(&body, argv[h.nargv], strlen(argv[h.nargv]) + 1);
    for (; env[h.nenv]; h.nenv++)
        rn_sb_append(&body, env[h.nenv], strlen(env[h.nenv]) + 1);
    free(env); /* the strings belong to c->env and envp */
    h.len = (uint32_t)body.len;
    int fds[3] = {fd_in, fd_out, fd_err};
    char cbuf[CMSG_SPACE(sizeof fds)];
    memset(cbuf, 0, sizeof cbuf);
    /* Header and body in one message: the helper wakes once for the whole request. */
    struct iovec iov[2] = {{&h, sizeof h}, {body.data, body.len}};
    struct msghdr mh = {0};
    mh.msg_iov = iov;
    mh.msg_iovlen = body.len ? 2 : 1;
    mh.msg_control = cbuf;
    mh.msg_controllen = sizeof cbuf;
    struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
    cm->cmsg_level = SOL_SOCKET;
    cm->cmsg_type = SCM_RIGHTS;
    cm->cmsg_len = CMSG_LEN(sizeof fds);
    memcpy(CMSG_DATA(cm), fds, sizeof fds);
    req_reply rep = {-1, MSG_SETUP, EPIPE};
    pthread_mutex_lock(&c->lock);
    ssize_t sent;
    while ((sent = sendmsg(c->sock, &mh, MSG_NOSIGNAL)) < 0 && errno == EINTR)
        ;
    /* A large request may go in parts (the fds travel with the first). */
    size_t done = sent >= (ssize_t)sizeof h ? (size_t)sent - sizeof h : 0;
    if (sent >= (ssize_t)sizeof h &&
        (done == body.len || write_full(c->sock, body.data + done, body.len - done) == 0))
        read_full(c->sock, &rep, sizeof rep);
    pthread_mutex_unlock(&c->lock);
    rn_sb_free(&body);
    if (rep.kind == 0 && rep.pid > 0)
        return rep.pid;
    if (rep.pid > 0) /* started, then failed before exec: it is our child to reap */
        while (waitpid(rep.pid, NULL, 0) < 0 && errno == EINTR)
            ;
    if (rep.kind == MSG_EXEC)
        *err = rn_xprintf("%s: %s", argv[0], strerror(rep.err));
    else if (rep.kind == MSG_CWD)
        *err = rn_xprintf("%s: %s", cwd ? cwd : "/", strerror(rep.err));
    else if (rep.kind == MSG_PRIV)
        *err = rn_xprintf("%s: dropping privileges: %s", argv[0], strerror(rep.err));
    else
        *err = rn_xprintf("%s: entering the container: %s", argv[0], strerror(rep.err));
    return -1;
}
