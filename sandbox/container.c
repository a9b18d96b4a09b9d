/* Container lifecycle and the spawn path used by proc.c.
 *
 * create: the parent makes the cgroup, the state dir and the seccomp program, then clones the
 * container init straight into new namespaces (raw clone without a new stack: fork semantics).
 * The init waits until the parent has written its uid/gid maps and put it into the cgroup, enters
 * a new cgroup namespace, builds the filesystem (mount.c), reports, and then reaps orphans until
 * its lifeline pipe from runnel closes (runnel died) or it is killed.
 *
 * spawn: fork an intermediate child that joins the cgroup and setns()es into the init's
 * namespaces (a pid namespace only applies to children), which clones the step with CLONE_PARENT
 * so the step is runnel's own child (waitpid, pidfd, kill(-pgid) work as on the host), reports the
 * step's pid and exits. The step drops privileges and execs; a CLOEXEC pipe reports exec errors.
 */
#include "sandbox/container.h"

#include "common/arena.h"
#include "common/strbuf.h"
#include "sandbox/cgroup.h"
#include "sandbox/mount.h"
#include "sandbox/seccomp.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <inttypes.h>
#include <linux/capability.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

#define MAX_NS 7

/* Docker's default capability set. */
static const int default_caps[] = {
    CAP_CHOWN,   CAP_DAC_OVERRIDE, CAP_FSETID,           CAP_FOWNER,
    CAP_MKNOD,   CAP_NET_RAW,      CAP_SETGID,           CAP_SETUID,
    CAP_SETFCAP, CAP_SETPCAP,      CAP_NET_BIND_SERVICE, CAP_SYS_CHROOT,
    CAP_KILL,    CAP_AUDIT_WRITE,
};

struct rn_container {
    pid_t init_pid;
    int lifeline; /* write end; the init exits when it closes */
    int ns_fd[MAX_NS];
    int n_ns;
    rn_cgroup *cg;
    char *state_dir;
    char **env; /* base environment, NULL-terminated */
    bool harden;
    struct sock_fprog seccomp;
    int cap_last;
    uid_t uid;
    gid_t gid;
    int64_t memory_bytes;
    char *warnings;
};

enum { MSG_PID = 1, MSG_EXEC, MSG_CWD, MSG_SETUP, MSG_PRIV };
typedef struct msg {
    int kind, val;
} msg;

static void put_msg(int fd, int kind, int val) {
    msg m = {kind, val};
    if (write(fd, &m, sizeof m) != (ssize_t)sizeof m) { /* the parent reports a lost child */
    }
}

/* ---- creation ---- */

typedef struct init_args {
    rn_mount_plan plan;
    int go_r, report_w, life_r;
} init_args;

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

static void init_loop(int life_r) {
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
        struct pollfd fds[2] = {{life_r, POLLIN, 0}, {sfd, POLLIN, 0}};
        int n = poll(fds, sfd >= 0 ? 2 : 1, sfd >= 0 ? -1 : 100);
        if (n > 0 && fds[0].revents) /* runnel is gone: our exit kills the namespace */
            _exit(0);
        if (n > 0 && fds[1].revents) {
            struct signalfd_siginfo si;
            while (read(sfd, &si, sizeof si) > 0)
                ;
        }
    }
}

static _Noreturn void init_main(const init_args *a) {
    int keep[] = {a->go_r, a->report_w, a->life_r};
    close_all_but(keep, 3);
    char go;
    if (read(a->go_r, &go, 1) != 1) /* the parent gave up */
        _exit(1);
    close(a->go_r);
    char err[1024];
    /* After the parent moved us into the container's cgroup: that cgroup is our root now. */
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

static void free_container(rn_container *c) {
    for (int i = 0; i < c->n_ns; i++)
        close(c->ns_fd[i]);
    if (c->lifeline >= 0)
        close(c->lifeline);
    rn_cgroup_destroy(c->cg);
    if (c->state_dir)
        rn_remove_tree(c->state_dir);
    free(c->state_dir);
    free_strv(c->env);
    rn_seccomp_free(&c->seccomp);
    free(c->warnings);
    free(c);
}

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
    c->init_pid = -1;
    c->harden = !o->no_hardening;
    c->uid = o->uid;
    c->gid = o->gid;
    c->memory_bytes = o->memory_bytes;
    c->env = copy_env(o->env);
    c->cap_last = CAP_LAST_CAP;
    char *cl = rn_read_file("/proc/sys/kernel/cap_last_cap", NULL);
    if (cl) {
        c->cap_last = atoi(cl);
        free(cl);
    }

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
    char *tmpl = rn_xprintf("%s/ctr-XXXXXX", root);
    if (!mkdtemp(tmpl)) {
        *err = rn_xprintf("%s: %s", tmpl, strerror(errno));
        free(tmpl);
        free_container(c);
        return NULL;
    }
    c->state_dir = tmpl;
    char *upper = rn_xprintf("%s/upper", tmpl), *work = rn_xprintf("%s/work", tmpl),
         *rootdir = rn_xprintf("%s/root", tmpl);
    mkdir(upper, 0755);
    mkdir(work, 0700);
    mkdir(rootdir, 0755);
    if (userns && o->n_uid_map) { /* container root must own its writable layer */
        for (size_t i = 0; i < o->n_uid_map; i++) {
            if (o->uid_map[i].inside != 0)
                continue;
            uid_t ou = o->uid_map[i].outside;
            gid_t og = o->n_gid_map ? o->gid_map[0].outside : ou;
            if (chown(tmpl, ou, og) != 0 || chown(upper, ou, og) != 0 || chown(work, ou, og) != 0 ||
                chown(rootdir, ou, og) != 0) {
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
    a.plan = (rn_mount_plan){rootdir,
                             ov.data,
                             masked,
                             o->n_masked + 1,
                             o->binds,
                             o->n_binds,
                             o->hostname ? o->hostname : "runnel",
                             userns,
                             o->net != RN_NET_HOST};
    int go[2] = {-1, -1}, rep[2] = {-1, -1}, life[2] = {-1, -1};
    char *warn = NULL;
    rn_cgroup_limits lim = {o->memory_bytes, o->pids_max, o->cpu_shares, o->cpu_millis};
    char *cgname = rn_xprintf("runnel-%s", strrchr(tmpl, '/') + 1);
    c->cg = rn_cgroup_create(cgname, &lim, &warn, err);
    free(cgname);
    if (!c->cg) {
        /* Limits were asked for: refuse to run without them. Else run unconfined by cgroups. */
        if (o->memory_bytes || o->pids_max || o->cpu_shares || o->cpu_millis)
            goto fail;
        c->warnings = *err;
        *err = NULL;
    } else {
        c->warnings = warn;
    }
    if (c->harden && rn_seccomp_build(&c->seccomp, err) != 0)
        goto fail;
    if (pipe2(go, O_CLOEXEC) != 0 || pipe2(rep, O_CLOEXEC) != 0 || pipe2(life, O_CLOEXEC) != 0) {
        *err = rn_xprintf("pipe: %s", strerror(errno));
        goto fail;
    }
    a.go_r = go[0];
    a.report_w = rep[1];
    a.life_r = life[0];
    unsigned long flags = CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWIPC | CLONE_NEWUTS;
    if (o->net != RN_NET_HOST)
        flags |= CLONE_NEWNET;
    if (userns)
        flags |= CLONE_NEWUSER;
    pid_t pid = (pid_t)syscall(SYS_clone, flags | SIGCHLD, NULL, NULL, NULL, 0);
    if (pid == 0)
        init_main(&a);
    if (pid < 0) {
        *err = rn_xprintf("clone (new namespaces): %s", strerror(errno));
        goto fail;
    }
    c->init_pid = pid;
    close(go[0]);
    close(rep[1]);
    close(life[0]);
    go[0] = rep[1] = life[0] = -1;
    c->lifeline = life[1];
    life[1] = -1;
    if (userns) {
        char path[64];
        snprintf(path, sizeof path, "/proc/%d/setgroups", (int)pid);
        int fd = open(path, O_WRONLY | O_CLOEXEC);
        bool deny = o->n_gid_map == 0; /* unprivileged gid maps require setgroups deny */
        if (fd >= 0) {
            if (deny && write(fd, "deny", 4) != 4) {
            }
            close(fd);
        }
        if (write_map(pid, "uid_map", o->uid_map, o->n_uid_map, geteuid()) != 0 ||
            write_map(pid, "gid_map", o->gid_map, o->n_gid_map, getegid()) != 0) {
            *err = rn_xprintf("user namespace id map: %s", strerror(errno));
            goto fail;
        }
    }
    if (c->cg && rn_cgroup_join(c->cg, pid) != 0) {
        *err = rn_xprintf("cgroup: cannot add the container init: %s", strerror(errno));
        goto fail;
    }
    if (write(go[1], "g", 1) != 1) {
        *err = rn_xprintf("container init: %s", strerror(errno));
        goto fail;
    }
    char buf[1100];
    ssize_t n;
    size_t got = 0;
    while ((n = read(rep[0], buf + got, sizeof buf - 1 - got)) > 0 || (n < 0 && errno == EINTR))
        if (n > 0)
            got += (size_t)n;
    buf[got] = 0;
    if (got != 1 || buf[0] != 0) {
        *err = got ? rn_xprintf("container setup: %s", buf)
                   : rn_xstrdup("container setup: the init process died");
        goto fail;
    }
    /* Namespaces every spawn enters; user first (it grants the rights to enter the others). */
    const char *ns[] = {userns ? "user" : NULL,
                        "mnt",
                        "pid",
                        o->net != RN_NET_HOST ? "net" : NULL,
                        "ipc",
                        "uts",
                        "cgroup"};
    for (int i = 0; i < MAX_NS; i++) {
        if (!ns[i])
            continue;
        char path[64];
        snprintf(path, sizeof path, "/proc/%d/ns/%s", (int)pid, ns[i]);
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
            *err = rn_xprintf("%s: %s", path, strerror(errno));
            goto fail;
        }
        c->ns_fd[c->n_ns++] = fd;
    }
    close(go[1]);
    close(rep[0]);
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
    }
    if (c->init_pid > 0) {
        kill(c->init_pid, SIGKILL);
        waitpid(c->init_pid, NULL, 0);
    }
    free(upper);
    free(work);
    free(rootdir);
    free(masked);
    rn_sb_free(&ov);
    free_container(c);
    return NULL;
}

int rn_container_kill_all(rn_container *c) {
    return c ? rn_cgroup_kill(c->cg, c->init_pid) : 0;
}

void rn_container_destroy(rn_container *c) {
    if (!c)
        return;
    /* Freeze-and-kill through the cgroup catches processes that left every session and process
     * group; killing the init then tears down the pid namespace for anything outside it. */
    rn_cgroup_kill(c->cg, 0);
    if (c->init_pid > 0) {
        kill(c->init_pid, SIGKILL);
        while (waitpid(c->init_pid, NULL, 0) < 0 && errno == EINTR)
            ;
    }
    free_container(c);
}

pid_t rn_container_init_pid(const rn_container *c) {
    return c->init_pid;
}

int rn_container_nprocs(const rn_container *c) {
    return rn_cgroup_nprocs(c->cg);
}

uint64_t rn_container_oom_kills(const rn_container *c) {
    return rn_cgroup_oom_kills(c->cg);
}

const char *rn_container_warnings(const rn_container *c) {
    return c->warnings ? c->warnings : "";
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

/* Bounding and ambient sets reduced to Docker's defaults. Async-signal-safe. */
static int drop_bounding(const rn_container *c) {
    for (int cap = 0; cap <= c->cap_last; cap++)
        if (!is_default_cap(cap) && prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0 && errno != EINVAL)
            return -1;
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

/* Full paths to try, in PATH order (one entry for a name with '/'). */
static char **exec_candidates(const char *name, char *const *env) {
    if (strchr(name, '/')) {
        char **v = rn_xcalloc(2, sizeof *v);
        v[0] = rn_xstrdup(name);
        return v;
    }
    const char *path = env_value(env, "PATH");
    if (!path)
        path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
    size_t n = 1;
    for (const char *p = path; *p; p++)
        n += *p == ':';
    char **v = rn_xcalloc(n + 1, sizeof *v);
    size_t k = 0;
    for (const char *seg = path;;) {
        const char *end = strchr(seg, ':');
        size_t len = end ? (size_t)(end - seg) : strlen(seg);
        v[k++] = len ? rn_xprintf("%.*s/%s", (int)len, seg, name) : rn_xprintf("./%s", name);
        if (!end)
            break;
        seg = end + 1;
    }
    return v;
}

static _Noreturn void step_main(const rn_container *c, int rep, const char *const *argv, char **env,
                                char **cands, const char *cwd, int in, int out, int errfd) {
    setsid();
    int a = fcntl(in, F_DUPFD_CLOEXEC, 3), b = fcntl(out, F_DUPFD_CLOEXEC, 3),
        e = fcntl(errfd, F_DUPFD_CLOEXEC, 3);
    if (a < 0 || b < 0 || e < 0 || dup2(a, 0) < 0 || dup2(b, 1) < 0 || dup2(e, 2) < 0) {
        put_msg(rep, MSG_SETUP, errno);
        _exit(127);
    }
    /* Nothing of runnel leaks into the step: every other descriptor closes at exec. */
    syscall(SYS_close_range, 3, ~0U, CLOSE_RANGE_CLOEXEC);
    if (chdir(cwd ? cwd : "/") != 0) {
        put_msg(rep, MSG_CWD, errno);
        _exit(127);
    }
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    for (int s = 1; s < NSIG; s++)
        signal(s, SIG_DFL);
    /* The bounding set is dropped while we still hold CAP_SETPCAP; a non-root uid then clears
     * the remaining capabilities by itself. */
    if (c->harden && drop_bounding(c) != 0) {
        put_msg(rep, MSG_PRIV, errno);
        _exit(127);
    }
    if (c->gid != 0 || c->uid != 0) {
        if (setgroups(0, NULL) != 0 && errno != EPERM) {
            put_msg(rep, MSG_PRIV, errno);
            _exit(127);
        }
        if (setresgid(c->gid, c->gid, c->gid) != 0 || setresuid(c->uid, c->uid, c->uid) != 0) {
            put_msg(rep, MSG_PRIV, errno);
            _exit(127);
        }
    }
    if (c->harden && (limit_caps() != 0 || rn_seccomp_install(&c->seccomp) != 0)) {
        put_msg(rep, MSG_PRIV, errno);
        _exit(127);
    }
    /* execvp's rules: EACCES is remembered while searching on, other errors stop. */
    int e_exec = ENOENT;
    for (size_t i = 0; cands[i]; i++) {
        execve(cands[i], (char *const *)argv, env);
        if (errno == EACCES)
            e_exec = EACCES;
        else if (errno != ENOENT && errno != ENOTDIR) {
            e_exec = errno;
            break;
        }
    }
    put_msg(rep, MSG_EXEC, e_exec);
    _exit(127);
}

pid_t rn_container_spawn(rn_container *c, const char *const *argv, const char *const *envp,
                         const char *cwd, int fd_in, int fd_out, int fd_err, char **err) {
    *err = NULL;
    char **env = merge_env(c->env, envp);
    char **cands = exec_candidates(argv[0], env);
    int rep[2];
    pid_t step = -1;
    if (pipe2(rep, O_CLOEXEC) != 0) {
        *err = rn_xprintf("pipe: %s", strerror(errno));
        goto out;
    }
    pid_t mid = fork();
    if (mid == 0) {
        close(rep[0]);
        if (c->cg && rn_cgroup_join(c->cg, 0) != 0) {
            put_msg(rep[1], MSG_SETUP, errno);
            _exit(1);
        }
        for (int i = 0; i < c->n_ns; i++)
            if (setns(c->ns_fd[i], 0) != 0) {
                put_msg(rep[1], MSG_SETUP, errno);
                _exit(1);
            }
        /* CLONE_PARENT: the step is runnel's child, not ours. */
        pid_t p = (pid_t)syscall(SYS_clone, CLONE_PARENT | SIGCHLD, NULL, NULL, NULL, 0);
        if (p == 0)
            step_main(c, rep[1], argv, env, cands, cwd, fd_in, fd_out, fd_err);
        if (p < 0) {
            put_msg(rep[1], MSG_SETUP, errno);
            _exit(1);
        }
        put_msg(rep[1], MSG_PID, p);
        _exit(0);
    }
    close(rep[1]);
    if (mid < 0) {
        *err = rn_xprintf("fork: %s", strerror(errno));
        close(rep[0]);
        goto out;
    }
    msg m;
    int fail_kind = 0, fail_errno = 0;
    ssize_t n;
    while ((n = read(rep[0], &m, sizeof m)) == (ssize_t)sizeof m || (n < 0 && errno == EINTR)) {
        if (n < 0)
            continue;
        if (m.kind == MSG_PID)
            step = m.val;
        else if (!fail_kind) {
            fail_kind = m.kind;
            fail_errno = m.val;
        }
    }
    close(rep[0]);
    while (waitpid(mid, NULL, 0) < 0 && errno == EINTR)
        ;
    if (fail_kind || step <= 0) {
        if (step > 0)
            while (waitpid(step, NULL, 0) < 0 && errno == EINTR)
                ;
        if (fail_kind == MSG_EXEC)
            *err = rn_xprintf("%s: %s", argv[0], strerror(fail_errno));
        else if (fail_kind == MSG_CWD)
            *err = rn_xprintf("%s: %s", cwd ? cwd : "/", strerror(fail_errno));
        else if (fail_kind == MSG_PRIV)
            *err = rn_xprintf("%s: dropping privileges: %s", argv[0], strerror(fail_errno));
        else
            *err = rn_xprintf("%s: entering the container: %s", argv[0],
                              fail_kind ? strerror(fail_errno) : "the helper process died");
        step = -1;
    }
out:
    free(env); /* the strings belong to c->env and envp */
    free_strv(cands);
    return step;
}
