/* cgroups v1 and v2. Paths come from /proc/self/cgroup (our place in each hierarchy) and
 * /proc/self/mountinfo (where each hierarchy is mounted). */
#include "sandbox/cgroup.h"

#include "common/arena.h"
#include "common/strbuf.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define MAX_DIRS 4
#define KILL_DEADLINE_MS 5000

typedef enum role { R_MEMORY = 1, R_PIDS = 2, R_CPU = 4, R_FREEZER = 8 } role;

typedef struct cg_dir {
    char *path;
    int roles;    /* which controllers this directory carries (all on v2) */
    int procs_fd; /* cgroup.procs, O_WRONLY, for rn_cgroup_join */
} cg_dir;

struct rn_cgroup {
    bool v2;
    int n;
    cg_dir dirs[MAX_DIRS];
};

static long now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(long ms) {
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000};
    nanosleep(&ts, NULL);
}

static int write_file(const char *dir, const char *file, const char *val) {
    char *p = rn_xprintf("%s/%s", dir, file);
    int fd = open(p, O_WRONLY | O_CLOEXEC);
    free(p);
    if (fd < 0)
        return -1;
    ssize_t n = write(fd, val, strlen(val));
    int e = errno;
    close(fd);
    errno = e;
    return n == (ssize_t)strlen(val) ? 0 : -1;
}

static char *read_small(const char *dir, const char *file) {
    char *p = rn_xprintf("%s/%s", dir, file);
    char *s = rn_read_file(p, NULL);
    free(p);
    return s;
}

/* Our path in the hierarchy whose controller list contains `ctrl` (v2: ctrl == ""). */
static char *self_path(const char *ctrl) {
    FILE *f = fopen("/proc/self/cgroup", "re");
    if (!f)
        return NULL;
    char line[4096];
    char *found = NULL;
    while (!found && fgets(line, sizeof line, f)) {
        line[strcspn(line, "\n")] = 0;
        char *c1 = strchr(line, ':');
        char *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
        if (!c2)
            continue;
        *c2 = 0;
        const char *list = c1 + 1;
        if (!*ctrl) {
            if (!*list && strncmp(line, "0", 1) == 0)
                found = rn_xstrdup(c2 + 1);
            continue;
        }
        char *save = NULL, *copy = rn_xstrdup(list);
        for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save))
            if (!strcmp(t, ctrl))
                found = rn_xstrdup(c2 + 1);
        free(copy);
    }
    fclose(f);
    return found;
}

/* Mount point and root of the hierarchy: fstype cgroup2 (ctrl "") or cgroup with ctrl in its
 * super options. */
static char *mount_of(const char *ctrl, char **root) {
    FILE *f = fopen("/proc/self/mountinfo", "re");
    if (!f)
        return NULL;
    char line[4096];
    char *found = NULL;
    while (!found && fgets(line, sizeof line, f)) {
        line[strcspn(line, "\n")] = 0;
        char *sep = strstr(line, " - ");
        if (!sep)
            continue;
        char fstype[64], src[256], opts[1024];
        if (sscanf(sep + 3, "%63s %255s %1023s", fstype, src, opts) != 3)
            continue;
        bool match = false;
        if (!*ctrl) {
            match = !strcmp(fstype, "cgroup2");
        } else if (!strcmp(fstype, "cgroup")) {
            char *save = NULL;
            for (char *t = strtok_r(opts, ",", &save); t; t = strtok_r(NULL, ",", &save))
                if (!strcmp(t, ctrl))
                    match = true;
        }
        if (!match)
            continue;
        char mroot[2048], mpoint[2048];
        if (sscanf(line, "%*s %*s %*s %2047s %2047s", mroot, mpoint) != 2)
            continue;
        found = rn_xstrdup(mpoint);
        *root = rn_xstrdup(mroot);
    }
    fclose(f);
    return found;
}

/* mountpoint + (self path relative to the mount's root): our own cgroup in that hierarchy. */
static char *self_dir(const char *ctrl) {
    char *root = NULL, *mnt = mount_of(ctrl, &root);
    char *self = mnt ? self_path(ctrl) : NULL;
    char *dir = NULL;
    if (mnt && self) {
        const char *rel = self;
        size_t rl = strlen(root);
        if (strcmp(root, "/") != 0 && strncmp(self, root, rl) == 0)
            rel = self + rl;
        if (!strcmp(rel, "/"))
            rel = "";
        dir = rn_xprintf("%s%s", mnt, rel);
    }
    free(root);
    free(mnt);
    free(self);
    return dir;
}

/* Where our cgroups go, found once per process (parsing mountinfo per controller per container
 * cost more than the mkdir): v2 when /sys/fs/cgroup is a cgroup2 mount, else one parent per v1
 * controller (NULL when that controller is not mounted). Never freed. */
static const char *const v1_ctrls[] = {"memory", "pids", "cpu", "freezer"};
static struct {
    bool v2;
    char *parent[4]; /* v2: parent[0] only */
} hier;
static pthread_once_t hier_once = PTHREAD_ONCE_INIT;

static void find_hierarchies(void) {
    struct stat st;
    hier.v2 = stat("/sys/fs/cgroup/cgroup.controllers", &st) == 0;
    if (hier.v2)
        hier.parent[0] = self_dir("");
    else
        for (int i = 0; i < 4; i++)
            hier.parent[i] = self_dir(v1_ctrls[i]);
}

static bool add_dir(rn_cgroup *cg, char *path, int roles) {
    for (int i = 0; i < cg->n; i++)
        if (!strcmp(cg->dirs[i].path, path)) { /* co-mounted controllers (cpu,cpuacct,...) */
            cg->dirs[i].roles |= roles;
            free(path);
            return true;
        }
    if (mkdir(path, 0755) != 0 && errno != EEXIST) {
        free(path);
        return false;
    }
    char *procs = rn_xprintf("%s/cgroup.procs", path);
    int fd = open(procs, O_WRONLY | O_CLOEXEC);
    free(procs);
    if (fd < 0) {
        int e = errno;
        rmdir(path);
        free(path);
        errno = e;
        return false;
    }
    cg->dirs[cg->n++] = (cg_dir){path, roles, fd};
    return true;
}

static const cg_dir *dir_for(const rn_cgroup *cg, int role) {
    for (int i = 0; i < cg->n; i++)
        if (cg->dirs[i].roles & role)
            return &cg->dirs[i];
    return NULL;
}

static void warn(rn_sb *w, const char *what, const char *why) {
    rn_sb_printf(w, "%s%s not applied (%s)", w->len ? "; " : "", what, why);
}

static void apply_limits(rn_cgroup *cg, const rn_cgroup_limits *l, rn_sb *w) {
    char v[64];
    const cg_dir *d;
    if (l->memory_bytes > 0) {
        snprintf(v, sizeof v, "%" PRId64, l->memory_bytes);
        if (!(d = dir_for(cg, R_MEMORY)))
            warn(w, "memory limit", "no memory controller");
        else if (write_file(d->path, cg->v2 ? "memory.max" : "memory.limit_in_bytes", v) != 0)
            warn(w, "memory limit", strerror(errno));
        else if (cg->v2)
            write_file(d->path, "memory.swap.max", "0"); /* the limit must not spill to swap */
        else
            write_file(d->path, "memory.memsw.limit_in_bytes", v); /* absent without swap */
    }
    if (l->pids_max > 0) {
        snprintf(v, sizeof v, "%" PRId64, l->pids_max);
        if (!(d = dir_for(cg, R_PIDS)))
            warn(w, "pids limit", "no pids controller");
        else if (write_file(d->path, "pids.max", v) != 0)
            warn(w, "pids limit", strerror(errno));
    }
    if (l->cpu_shares > 0) {
        if (cg->v2) /* the kernel's own shares -> weight mapping */
            snprintf(v, sizeof v, "%u", 1 + ((l->cpu_shares - 2) * 9999) / 262142);
        else
            snprintf(v, sizeof v, "%u", l->cpu_shares);
        if (!(d = dir_for(cg, R_CPU)))
            warn(w, "cpu shares", "no cpu controller");
        else if (write_file(d->path, cg->v2 ? "cpu.weight" : "cpu.shares", v) != 0)
            warn(w, "cpu shares", strerror(errno));
    }
    if (l->cpu_millis > 0) {
        long period = 100000, quota = (long)l->cpu_millis * period / 1000;
        if (!(d = dir_for(cg, R_CPU))) {
            warn(w, "cpu quota", "no cpu controller");
        } else if (cg->v2) {
            snprintf(v, sizeof v, "%ld %ld", quota, period);
            if (write_file(d->path, "cpu.max", v) != 0)
                warn(w, "cpu quota", strerror(errno));
        } else {
            snprintf(v, sizeof v, "%ld", period);
            write_file(d->path, "cpu.cfs_period_us", v);
            snprintf(v, sizeof v, "%ld", quota);
            if (write_file(d->path, "cpu.cfs_quota_us", v) != 0)
                warn(w, "cpu quota", strerror(errno));
        }
    }
}

/* Controllers the limits need: a cgroup is joined per v1 hierarchy by every container, and a v1
 * migration waits for an RCU grace period, so only those are made (no limit, no cgroup). */
static int roles_for(const rn_cgroup_limits *l) {
    return (l->memory_bytes > 0 ? R_MEMORY : 0) | (l->pids_max > 0 ? R_PIDS : 0) |
           (l->cpu_shares > 0 || l->cpu_millis > 0 ? R_CPU : 0);
}

static rn_cgroup *finish(rn_cgroup *cg, const char *name, const rn_cgroup_limits *l, rn_sb *w,
                         char **warnings, char **err) {
    if (cg->n == 0) {
        *err = rn_xprintf("cgroup: cannot create %s in any hierarchy%s%s", name, w->len ? ": " : "",
                          w->len ? w->data : "");
        rn_sb_free(w);
        free(cg);
        return NULL;
    }
    apply_limits(cg, l, w);
    rn_sb_append(w, "", 0);
    *warnings = rn_sb_take(w);
    return cg;
}

/* v2: one directory below `parent`; the controllers the limits need are enabled in the parent's
 * cgroup.subtree_control first (the child only gets their files then). */
static void create_v2(rn_cgroup *cg, const char *parent, const char *name, int roles, rn_sb *w) {
    static const char *const names[] = {"memory", "pids", "cpu"};
    /* One write for all; when it fails (one controller is not available), one per controller,
     * so the others are still enabled. */
    rn_sb all = RN_SB_INIT;
    int wanted = 0;
    for (int i = 0; i < 3; i++)
        if (roles & (1 << i)) {
            rn_sb_printf(&all, "%s+%s", all.len ? " " : "", names[i]);
            wanted++;
        }
    if (wanted && write_file(parent, "cgroup.subtree_control", all.data) != 0 && wanted > 1)
        for (int i = 0; i < 3; i++)
            if (roles & (1 << i)) {
                char *v = rn_xprintf("+%s", names[i]);
                write_file(parent, "cgroup.subtree_control", v);
                free(v);
            }
    rn_sb_free(&all);
    if (!add_dir(cg, rn_xprintf("%s/%s", parent, name), R_MEMORY | R_PIDS | R_CPU | R_FREEZER)) {
        warn(w, parent, strerror(errno));
        return;
    }
    char *have = read_small(cg->dirs[0].path, "cgroup.controllers");
    for (int i = 0; i < 3; i++) {
        bool found = false;
        for (const char *p = have; p && (p = strstr(p, names[i])); p += strlen(names[i]))
            if ((p == have || p[-1] == ' ') &&
                (p[strlen(names[i])] == 0 || strchr(" \n", p[strlen(names[i])])))
                found = true;
        if (!found)
            cg->dirs[0].roles &= ~(1 << i);
    }
    free(have);
}

rn_cgroup *rn_cgroup_create(const char *name, const rn_cgroup_limits *l, char **warnings,
                            char **err) {
    *err = NULL;
    pthread_once(&hier_once, find_hierarchies);
    rn_sb w = RN_SB_INIT;
    rn_cgroup *cg = rn_xcalloc(1, sizeof *cg);
    cg->v2 = hier.v2;
    int roles = roles_for(l);
    if (cg->v2) {
        if (hier.parent[0])
            create_v2(cg, hier.parent[0], name, roles, &w);
        else
            warn(&w, "cgroup2", "runnel's own cgroup not found");
    } else {
        /* No limit asked: the freezer alone gives the processes a cgroup of their own. */
        int want = roles ? roles : R_FREEZER;
        for (int i = 0; i < 4; i++) {
            if (!(want & (1 << i)))
                continue;
            if (!hier.parent[i] || !add_dir(cg, rn_xprintf("%s/%s", hier.parent[i], name), 1 << i))
                warn(&w, v1_ctrls[i], "controller missing or not writable");
        }
    }
    return finish(cg, name, l, &w, warnings, err);
}

rn_cgroup *rn_cgroup_create_v2_at(const char *parent, const char *name, const rn_cgroup_limits *l,
                                  char **warnings, char **err) {
    *err = NULL;
    rn_sb w = RN_SB_INIT;
    rn_cgroup *cg = rn_xcalloc(1, sizeof *cg);
    cg->v2 = true;
    create_v2(cg, parent, name, roles_for(l), &w);
    return finish(cg, name, l, &w, warnings, err);
}

int rn_cgroup_fds(const rn_cgroup *cg, int *fds, int max) {
    int n = 0;
    for (int i = 0; cg && i < cg->n && n < max; i++)
        fds[n++] = cg->dirs[i].procs_fd;
    return n;
}

int rn_cgroup_join(const rn_cgroup *cg, pid_t pid) {
    char buf[24];
    int len = 0;
    /* Hand-rolled itoa: this runs in forked children of a multithreaded process. */
    unsigned long v = (unsigned long)pid;
    char tmp[24];
    do {
        tmp[len++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    for (int i = 0; i < len; i++)
        buf[i] = tmp[len - 1 - i];
    for (int i = 0; i < cg->n; i++)
        if (write(cg->dirs[i].procs_fd, buf, (size_t)len) != len)
            return -1;
    return 0;
}

/* pids listed in cgroup.procs (malloc'ed, *n entries). */
static pid_t *list_procs(const cg_dir *d, int *n) {
    *n = 0;
    char *s = read_small(d->path, "cgroup.procs");
    if (!s)
        return NULL;
    int cap = 16;
    pid_t *v = rn_xmalloc(sizeof *v * (size_t)cap);
    for (char *p = s; *p;) {
        char *end;
        long x = strtol(p, &end, 10);
        if (end == p)
            break;
        if (*n == cap)
            v = rn_xrealloc(v, sizeof *v * (size_t)(cap *= 2));
        v[(*n)++] = (pid_t)x;
        p = end;
        while (*p == '\n')
            p++;
    }
    free(s);
    return v;
}

int rn_cgroup_nprocs(const rn_cgroup *cg) {
    if (!cg || cg->n == 0)
        return -1;
    int n;
    pid_t *v = list_procs(&cg->dirs[0], &n);
    free(v);
    return v ? n : -1;
}

static bool is_zombie(pid_t pid) {
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    char *s = rn_read_file(path, NULL);
    if (!s)
        return true; /* gone */
    char *rp = strrchr(s, ')');
    bool z = rp && rp[1] == ' ' && (rp[2] == 'Z' || rp[2] == 'X');
    free(s);
    return z;
}

static bool is_spared(pid_t pid, const pid_t *spare, int n) {
    for (int i = 0; i < n; i++)
        if (spare[i] == pid)
            return true;
    return false;
}

/* Members not spared and not zombies. */
static int count_live(const cg_dir *d, const pid_t *spare, int n_spare) {
    int n, live = 0;
    pid_t *v = list_procs(d, &n);
    for (int i = 0; i < n; i++)
        live += !is_spared(v[i], spare, n_spare) && !is_zombie(v[i]);
    free(v);
    return live;
}

int rn_cgroup_kill(const rn_cgroup *cg, const pid_t *spare, int n_spare) {
    if (!cg || cg->n == 0)
        return 0;
    const cg_dir *fz = dir_for(cg, R_FREEZER);
    const cg_dir *d = fz ? fz : &cg->dirs[0];
    int running = count_live(d, spare, n_spare);
    if (running == 0)
        return 0;
    long deadline = now_ms() + KILL_DEADLINE_MS;
    /* v2 (5.14+): the kernel kills every member at once, forks racing with it included. */
    bool killed = cg->v2 && n_spare == 0 && write_file(d->path, "cgroup.kill", "1") == 0;
    for (;;) {
        if (count_live(d, spare, n_spare) == 0 || now_ms() > deadline)
            break;
        if (!killed) {
            /* Else walk cgroup.procs, frozen first so a fork bomb cannot create pids faster
             * than they are killed. */
            if (fz)
                write_file(fz->path, cg->v2 ? "cgroup.freeze" : "freezer.state",
                           cg->v2 ? "1" : "FROZEN");
            int n;
            pid_t *v = list_procs(d, &n);
            for (int i = 0; i < n; i++)
                if (!is_spared(v[i], spare, n_spare) && !is_zombie(v[i]))
                    kill(v[i], SIGKILL);
            free(v);
            if (fz)
                write_file(fz->path, cg->v2 ? "cgroup.freeze" : "freezer.state",
                           cg->v2 ? "0" : "THAWED");
        }
        sleep_ms(2);
    }
    return running;
}

uint64_t rn_cgroup_oom_kills(const rn_cgroup *cg) {
    const cg_dir *d = cg ? dir_for(cg, R_MEMORY) : NULL;
    if (!d)
        return 0;
    char *s = read_small(d->path, cg->v2 ? "memory.events" : "memory.oom_control");
    uint64_t n = 0;
    const char *k = s ? strstr(s, "oom_kill ") : NULL;
    if (k)
        n = strtoull(k + 9, NULL, 10);
    free(s);
    return n;
}

const char *rn_cgroup_version(const rn_cgroup *cg) {
    return cg->v2 ? "v2" : "v1";
}

void rn_cgroup_destroy(rn_cgroup *cg) {
    if (!cg)
        return;
    rn_cgroup_kill(cg, NULL, 0);
    for (int i = 0; i < cg->n; i++) {
        close(cg->dirs[i].procs_fd);
        /* Dying processes leave the cgroup shortly after SIGKILL; rmdir fails with EBUSY until
         * then. */
        long deadline = now_ms() + KILL_DEADLINE_MS;
        while (rmdir(cg->dirs[i].path) != 0 && errno == EBUSY && now_ms() < deadline)
            sleep_ms(2);
        free(cg->dirs[i].path);
    }
    free(cg);
}

void rn_cgroup_remove_stale(const char *name) {
    pthread_once(&hier_once, find_hierarchies);
    for (int i = 0; i < (hier.v2 ? 1 : 4); i++)
        if (hier.parent[i]) {
            char *dir = rn_xprintf("%s/%s", hier.parent[i], name);
            rmdir(dir);
            free(dir);
        }
}
