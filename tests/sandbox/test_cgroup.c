/* sandbox/cgroup, v2 code path: the writer against a fake cgroupfs in a temp dir (exact files and
 * values), and, where a real cgroup2 hierarchy is writable (the unified mount of a hybrid system,
 * or /sys/fs/cgroup on v2), a process placed in a cgroup and killed with it. */
#include "common/arena.h"
#include "common/strbuf.h"
#include "sandbox/cgroup.h"

#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

static char fake[256]; /* fake parent cgroup */

static void put(const char *dir, const char *file, const char *content) {
    char *p = rn_xprintf("%s/%s", dir, file);
    FILE *f = fopen(p, "w");
    assert_non_null(f);
    fputs(content, f);
    fclose(f);
    free(p);
}

static char *get(const char *dir, const char *file) {
    char *p = rn_xprintf("%s/%s", dir, file);
    char *s = rn_read_file(p, NULL);
    free(p);
    return s ? s : rn_xstrdup("(missing)");
}

#define assert_file(dir, file, want)                                                               \
    do {                                                                                           \
        char *got_ = get(dir, file);                                                               \
        assert_string_equal(got_, want);                                                           \
        free(got_);                                                                                \
    } while (0)

/* A fake cgroup2 directory: the interface files a cgroup gets, empty, and its controllers. */
static char *fake_child(const char *name, const char *controllers) {
    char *dir = rn_xprintf("%s/%s", fake, name);
    assert_int_equal(mkdir(dir, 0755), 0);
    put(fake, "cgroup.subtree_control", ""); /* the parent's, fresh for each case */
    const char *files[] = {"cgroup.procs", "memory.max", "memory.swap.max", "pids.max",
                           "cpu.max",      "cpu.weight", "cgroup.kill",     "cgroup.freeze"};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++)
        put(dir, files[i], "");
    put(dir, "cgroup.controllers", controllers);
    return dir;
}

static int setup(void **st) {
    (void)st;
    snprintf(fake, sizeof fake, "/tmp/runnel-cgtest.XXXXXX");
    if (!mkdtemp(fake))
        return -1;
    put(fake, "cgroup.subtree_control", "");
    return 0;
}

static int teardown(void **st) {
    (void)st;
    char *cmd = rn_xprintf("rm -rf %s", fake);
    int rc = system(cmd);
    free(cmd);
    return rc == 0 ? 0 : -1;
}

static pid_t sleeper(void) {
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        for (;;)
            pause();
    }
    return pid;
}

static void writer_exact_values(void **st) {
    (void)st;
    char *dir = fake_child("runnel-limits", "cpuset cpu io memory hugetlb pids rdma misc\n");
    rn_cgroup_limits l = {
        .memory_bytes = 256LL << 20, .pids_max = 64, .cpu_shares = 512, .cpu_millis = 1500};
    char *warn = NULL, *err = NULL;
    rn_cgroup *cg = rn_cgroup_create_v2_at(fake, "runnel-limits", &l, &warn, &err);
    assert_non_null(cg);
    assert_null(err);
    assert_string_equal(warn, "");
    assert_string_equal(rn_cgroup_version(cg), "v2");
    assert_file(fake, "cgroup.subtree_control", "+memory +pids +cpu");
    assert_file(dir, "memory.max", "268435456");
    assert_file(dir, "memory.swap.max", "0");
    assert_file(dir, "pids.max", "64");
    assert_file(dir, "cpu.max", "150000 100000");
    assert_file(dir, "cpu.weight", "20"); /* the kernel's shares->weight: 1 + (512-2)*9999/262142 */
    /* Membership: the pid written to cgroup.procs. */
    pid_t pid = sleeper();
    assert_int_equal(rn_cgroup_join(cg, pid), 0);
    char want[32];
    snprintf(want, sizeof want, "%d", (int)pid);
    assert_file(dir, "cgroup.procs", want);
    assert_int_equal(rn_cgroup_nprocs(cg), 1);
    /* With a pid spared, cgroup.kill cannot be used (it would kill that one too): cgroup.procs
     * is walked, the group frozen meanwhile and thawed after. */
    pid_t other = getpid();
    assert_int_equal(rn_cgroup_kill(cg, &other, 1), 1);
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
    assert_file(dir, "cgroup.freeze", "0");
    assert_file(dir, "cgroup.kill", "");
    rn_cgroup_destroy(cg); /* the fake dir cannot be removed: files in it; no hang */
    free(warn);
    free(dir);
}

static void writer_cgroup_kill(void **st) {
    (void)st;
    char *dir = fake_child("runnel-kill", "memory pids\n");
    rn_cgroup_limits l = {.pids_max = 10};
    char *warn = NULL, *err = NULL;
    rn_cgroup *cg = rn_cgroup_create_v2_at(fake, "runnel-kill", &l, &warn, &err);
    assert_non_null(cg);
    assert_string_equal(warn, "");
    assert_file(fake, "cgroup.subtree_control", "+pids");
    assert_file(dir, "pids.max", "10");
    assert_file(dir, "memory.max", ""); /* no memory limit asked: untouched */
    /* No process in it: nothing to kill, cgroup.kill not written. */
    assert_int_equal(rn_cgroup_kill(cg, NULL, 0), 0);
    assert_file(dir, "cgroup.kill", "");
    rn_cgroup_destroy(cg);
    free(warn);
    free(dir);
}

static void writer_missing_controllers(void **st) {
    (void)st;
    char *dir = fake_child("runnel-partial", "memory\n");
    rn_cgroup_limits l = {.memory_bytes = 1 << 20, .pids_max = 5, .cpu_millis = 500};
    char *warn = NULL, *err = NULL;
    rn_cgroup *cg = rn_cgroup_create_v2_at(fake, "runnel-partial", &l, &warn, &err);
    assert_non_null(cg);
    assert_string_equal(warn, "pids limit not applied (no pids controller); cpu quota not applied "
                              "(no cpu controller)");
    assert_file(dir, "memory.max", "1048576");
    assert_file(dir, "pids.max", "");
    assert_file(dir, "cpu.max", "");
    rn_cgroup_destroy(cg);
    free(warn);
    free(dir);
    /* A parent that does not exist: no cgroup at all. */
    char *nowhere = rn_xprintf("%s/nonexistent", fake);
    cg = rn_cgroup_create_v2_at(nowhere, "runnel-x", &l, &warn, &err);
    assert_null(cg);
    char *want = rn_xprintf("cgroup: cannot create runnel-x in any hierarchy: %s not applied (No "
                            "such file or directory)",
                            nowhere);
    assert_string_equal(err, want);
    free(want);
    free(err);
    free(nowhere);
}

/* The cgroup2 hierarchy runnel is in: mount point + our path in it, or NULL. */
static char *cgroup2_self(void) {
    FILE *f = fopen("/proc/self/mountinfo", "re");
    char line[4096], *mnt = NULL;
    while (f && !mnt && fgets(line, sizeof line, f)) {
        char *sep = strstr(line, " - cgroup2 ");
        char root[2048], point[2048];
        if (sep && sscanf(line, "%*s %*s %*s %2047s %2047s", root, point) == 2 &&
            !strcmp(root, "/"))
            mnt = rn_xstrdup(point);
    }
    if (f)
        fclose(f);
    f = fopen("/proc/self/cgroup", "re");
    char *self = NULL;
    while (f && mnt && !self && fgets(line, sizeof line, f))
        if (!strncmp(line, "0::", 3)) {
            line[strcspn(line, "\n")] = 0;
            self = rn_xprintf("%s%s", mnt, strcmp(line + 3, "/") ? line + 3 : "");
        }
    if (f)
        fclose(f);
    free(mnt);
    return self;
}

static bool gone(pid_t pid) {
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    char *s = rn_read_file(path, NULL);
    char *rp = s ? strrchr(s, ')') : NULL;
    bool g = !s || (rp && (rp[2] == 'Z' || rp[2] == 'X'));
    free(s);
    return g;
}

static void real_cgroup2_kill(void **st) {
    (void)st;
    char *parent = cgroup2_self();
    if (!parent) {
        fprintf(stderr, "skip: no cgroup2 hierarchy mounted (cgroup v1 only)\n");
        skip();
    }
    char name[64];
    snprintf(name, sizeof name, "runnel-test-%d", (int)getpid());
    rn_cgroup_limits none = {0};
    char *warn = NULL, *err = NULL;
    rn_cgroup *cg = rn_cgroup_create_v2_at(parent, name, &none, &warn, &err);
    if (!cg) {
        fprintf(stderr, "skip: cannot make a cgroup in %s: %s\n", parent, err);
        free(err);
        free(parent);
        skip();
    }
    char *dir = rn_xprintf("%s/%s", parent, name);
    /* A process and a grandchild in another session: both members, both killed. */
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    pid_t child = fork();
    assert_true(child >= 0);
    if (child == 0) {
        close(fds[0]);
        if (rn_cgroup_join(cg, 0) != 0)
            _exit(1);
        pid_t g = fork();
        if (g == 0) {
            setsid();
            for (;;)
                pause();
        }
        if (write(fds[1], &g, sizeof g) != sizeof g)
            _exit(1);
        for (;;)
            pause();
    }
    close(fds[1]);
    pid_t grandchild = -1;
    assert_int_equal(read(fds[0], &grandchild, sizeof grandchild), (ssize_t)sizeof grandchild);
    close(fds[0]);
    assert_int_equal(rn_cgroup_nprocs(cg), 2);
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/cgroup", (int)grandchild);
    char *cgf = rn_read_file(path, NULL);
    char *want = rn_xprintf("/%s\n", name); /* its "0::PATH" line ends with our cgroup */
    assert_non_null(cgf);
    char *line = strstr(cgf, "0::");
    assert_non_null(line);
    assert_non_null(strstr(line, want));
    free(want);
    free(cgf);
    char *kill_file = rn_xprintf("%s/cgroup.kill", dir);
    bool has_kill = access(kill_file, W_OK) == 0;
    free(kill_file);
    fprintf(stderr, "note: %s: killing through %s\n", dir,
            has_kill ? "cgroup.kill" : "cgroup.procs (no cgroup.kill: kernel < 5.14)");
    assert_int_equal(rn_cgroup_kill(cg, NULL, 0), 2);
    int status;
    assert_int_equal(waitpid(child, &status, 0), child);
    assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
    for (int i = 0; i < 500 && !gone(grandchild); i++)
        usleep(2000);
    assert_true(gone(grandchild));
    assert_int_equal(rn_cgroup_nprocs(cg), 0);
    rn_cgroup_destroy(cg);
    struct stat sb;
    assert_int_equal(stat(dir, &sb), -1); /* removed */
    free(dir);
    free(warn);
    free(parent);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(writer_exact_values),
        cmocka_unit_test(writer_cgroup_kill),
        cmocka_unit_test(writer_missing_controllers),
        cmocka_unit_test(real_cgroup2_kill),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
