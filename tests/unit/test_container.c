/* sandbox/container: steps run inside one container through rn_proc_start(), with proc.c's
 * semantics (streaming, exit codes, errors, timeout, cancel) and the container's lifecycle. */
#include "common/arena.h"
#include "common/strbuf.h"
#include "sandbox/container.h"
#include "sandbox/net.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

static char rootfs[256], state[256], ws[256];

static int sh(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    char *cmd = NULL;
    if (vasprintf(&cmd, fmt, ap) < 0)
        abort();
    va_end(ap);
    int rc = system(cmd);
    free(cmd);
    return rc;
}

/* A busybox-static rootfs in a temp dir; skips the suite when containers are impossible. */
static int setup(void **st) {
    (void)st;
    if (access("/bin/busybox", X_OK) != 0)
        return 0;
    char tmpl[] = "/var/tmp/runnel-ctrtest.XXXXXX";
    if (!mkdtemp(tmpl))
        return -1;
    snprintf(rootfs, sizeof rootfs, "%s/rootfs", tmpl);
    snprintf(state, sizeof state, "%s/state", tmpl);
    snprintf(ws, sizeof ws, "%s/ws", tmpl);
    return sh("mkdir -p %s/bin %s && cp /bin/busybox %s/bin/ && for a in sh true cat ls wc id "
              "hostname sleep setsid nc grep head; do ln -s busybox %s/bin/$a; done",
              rootfs, ws, rootfs, rootfs) == 0
               ? 0
               : -1;
}

static int teardown(void **st) {
    (void)st;
    if (rootfs[0]) {
        char *parent = rn_xstrndup(rootfs, strlen(rootfs) - strlen("/rootfs"));
        sh("rm -rf %s", parent);
        free(parent);
    }
    return 0;
}

static const char *const base_env[] = {"PATH=/bin", "A=base", "B=base", NULL};

static rn_container *make(rn_container_opts *o) {
    if (!rootfs[0])
        skip();
    static const char *lowers[1];
    lowers[0] = rootfs;
    o->lowers = lowers;
    o->n_lowers = 1;
    o->state_root = state;
    if (!o->env)
        o->env = base_env;
    char *err = NULL;
    rn_container *c = rn_container_create(o, &err);
    if (!c) {
        print_message("containers unavailable here: %s\n", err);
        free(err);
        skip();
    }
    return c;
}

static rn_proc_opts in(rn_container *c, const char *const *argv) {
    rn_proc_opts o = {0};
    o.argv = argv;
    o.stdout_mode = RN_STDIO_PIPE;
    o.stderr_mode = RN_STDIO_PIPE;
    o.container = c;
    return o;
}

static rn_proc_result run(const rn_proc_opts *o, char **out, char **err) {
    rn_proc_result r;
    char *msg = NULL;
    if (rn_proc_run(o, &r, out, err, &msg) != 0)
        fail_msg("start failed: %s", msg);
    return r;
}

static void steps_share_one_container(void **st) {
    (void)st;
    rn_container_opts co = {0};
    co.hostname = "job-1";
    co.net = RN_NET_NONE;
    rn_container *c = make(&co);
    const char *step1[] = {"sh", "-c", "echo one; echo err >&2; echo data > /f; hostname; exit 3",
                           NULL};
    rn_proc_opts o = in(c, step1);
    char *out, *err;
    rn_proc_result r = run(&o, &out, &err);
    assert_int_equal(r.status, RN_PROC_EXITED);
    assert_int_equal(r.exit_code, 3);
    assert_string_equal(out, "one\njob-1\n");
    assert_string_equal(err, "err\n");
    free(out);
    free(err);
    /* The next step sees the first one's writes (same writable layer) and pid namespace. */
    const char *step2[] = {"sh", "-c", "cat /f; cat /proc/1/comm; echo $A $B; pwd", NULL};
    o = in(c, step2);
    const char *env[] = {"B=step", NULL};
    o.envp = env;
    o.cwd = "/bin";
    r = run(&o, &out, NULL);
    assert_int_equal(r.exit_code, 0);
    assert_string_equal(out, "data\nrunnel-init\nbase step\n/bin\n");
    free(out);
    /* 2>&1 in write order. */
    const char *step3[] = {"sh", "-c", "echo a; echo b >&2; echo c", NULL};
    o = in(c, step3);
    o.stderr_mode = RN_STDIO_MERGE;
    r = run(&o, &out, NULL);
    assert_string_equal(out, "a\nb\nc\n");
    free(out);
    rn_container_destroy(c);
}

/* Entries below the state root, two levels deep (the container's dir and what is in it). */
static int state_entries(void) {
    char *cmd = rn_xprintf("find %s -mindepth 1 -maxdepth 2 | wc -l", state);
    FILE *f = popen(cmd, "r");
    free(cmd);
    int n = -1;
    if (f) {
        if (fscanf(f, "%d", &n) != 1)
            n = -1;
        pclose(f);
    }
    return n;
}

static void writable_layer_in_memory(void **st) {
    (void)st;
    /* Root: the layer in a tmpfs, only mem/ (its mount point, empty) on the host. In a user
     * namespace it stays on disk: mem/, ctr-X/, its upper/ and work/. Both work the same. */
    const rn_userns_mode modes[] = {RN_USERNS_AUTO, RN_USERNS_ON};
    const int on_host[] = {1, 4};
    for (int k = 0; k < 2; k++) {
        rn_container_opts co = {0};
        co.net = RN_NET_NONE;
        co.layer_in_memory = true;
        co.userns = modes[k];
        rn_container *c = make(&co);
        const char *write[] = {"sh", "-c", "echo kept > /bin/f; ls /bin/f", NULL};
        rn_proc_opts o = in(c, write);
        char *out;
        rn_proc_result r = run(&o, &out, NULL);
        assert_int_equal(r.exit_code, 0);
        assert_string_equal(out, "/bin/f\n");
        free(out);
        const char *read[] = {"cat", "/bin/f", NULL};
        o = in(c, read);
        run(&o, &out, NULL);
        assert_string_equal(out, "kept\n");
        free(out);
        assert_int_equal(state_entries(), on_host[k]);
        rn_container_destroy(c);
        assert_int_equal(state_entries(), 1);
    }
}

static void minimal_dev(void **st) {
    (void)st;
    rn_container_opts co = {0};
    rn_container *c = make(&co);
    const char *argv[] = {"sh", "-c",
                          "echo x > /dev/null && head -c 3 /dev/zero | wc -c; "
                          "{ echo > /dev/full; } 2>/dev/null || echo full; ls /dev | wc -l",
                          NULL};
    rn_proc_opts o = in(c, argv);
    char *out;
    rn_proc_result r = run(&o, &out, NULL);
    assert_int_equal(r.exit_code, 0);
    /* null zero full random urandom tty pts ptmx shm fd stdin stdout stderr */
    assert_string_equal(out, "3\nfull\n13\n");
    free(out);
    rn_container_destroy(c);
}

static void start_errors_are_exact(void **st) {
    (void)st;
    rn_container_opts co = {0};
    rn_container *c = make(&co);
    char *err = NULL;
    const char *nope[] = {"no-such-cmd", NULL};
    rn_proc_opts o = in(c, nope);
    assert_null(rn_proc_start(&o, &err));
    assert_string_equal(err, "no-such-cmd: No such file or directory");
    free(err);
    const char *sh_argv[] = {"sh", "-c", "true", NULL};
    o = in(c, sh_argv);
    o.cwd = "/no/dir";
    assert_null(rn_proc_start(&o, &err));
    assert_string_equal(err, "/no/dir: No such file or directory");
    free(err);
    /* The host's PATH and files are not what is searched: /usr/bin/env exists on the host. */
    const char *hostonly[] = {"/usr/bin/env", NULL};
    o = in(c, hostonly);
    assert_null(rn_proc_start(&o, &err));
    assert_string_equal(err, "/usr/bin/env: No such file or directory");
    free(err);
    rn_container_destroy(c);

    rn_container_opts bad = {0};
    assert_null(rn_container_create(&bad, &err));
    assert_string_equal(err, "container: no root filesystem (lower directories)");
    free(err);
    const char *rel[] = {"relative/dir"};
    bad.lowers = rel;
    bad.n_lowers = 1;
    assert_null(rn_container_create(&bad, &err));
    assert_string_equal(err,
                        "container: lower directory 'relative/dir' must be absolute, without ',' "
                        "or ':'");
    free(err);
}

static void timeout_and_cancel_inside(void **st) {
    (void)st;
    rn_container_opts co = {0};
    rn_container *c = make(&co);
    const char *argv[] = {"sh", "-c", "echo started; sleep 10", NULL};
    rn_proc_opts o = in(c, argv);
    o.timeout_ms = 300;
    o.kill_grace_ms = 200;
    char *out;
    rn_proc_result r = run(&o, &out, NULL);
    assert_int_equal(r.status, RN_PROC_TIMED_OUT);
    assert_true(r.elapsed_ms < 3000);
    assert_string_equal(out, "started\n");
    free(out);

    o.timeout_ms = 0;
    char *err = NULL;
    rn_proc *p = rn_proc_start(&o, &err);
    assert_non_null(p);
    rn_proc_poll(p, 100, NULL);
    rn_proc_cancel(p);
    rn_proc_wait(p, &r);
    rn_proc_free(p);
    assert_int_equal(r.status, RN_PROC_CANCELLED);
    assert_true(r.elapsed_ms < 3000);
    rn_container_destroy(c);
}

/* Host pids whose pid namespace is that of `init` (the container's). */
static int count_in_ns(pid_t init) {
    char path[300], want[64] = "", got[64];
    snprintf(path, sizeof path, "/proc/%d/ns/pid", (int)init);
    ssize_t n = readlink(path, want, sizeof want - 1);
    if (n <= 0)
        return 0;
    want[n] = 0;
    int count = 0;
    DIR *d = opendir("/proc");
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] < '0' || e->d_name[0] > '9')
            continue;
        snprintf(path, sizeof path, "/proc/%s/ns/pid", e->d_name);
        n = readlink(path, got, sizeof got - 1);
        if (n > 0) {
            got[n] = 0;
            char stat[300];
            snprintf(stat, sizeof stat, "/proc/%s/stat", e->d_name);
            char *s = rn_read_file(stat, NULL);
            char *rp = s ? strrchr(s, ')') : NULL;
            if (!strcmp(got, want) && rp && rp[2] != 'Z')
                count++;
            free(s);
        }
    }
    closedir(d);
    return count;
}

static void check_nothing_outlives(int64_t pids_max) {
    rn_container_opts co = {0};
    co.pids_max = pids_max;
    rn_container *c = make(&co);
    pid_t init = rn_container_init_pid(c);
    assert_int_equal(count_in_ns(init), 1);
    /* setsid: out of the step's process group, so proc.c's group kill cannot reach it. */
    const char *argv[] = {"sh", "-c", "setsid sleep 1000 & setsid sleep 1000 & sleep 0.3; echo ok",
                          NULL};
    rn_proc_opts o = in(c, argv);
    char *out;
    rn_proc_result r = run(&o, &out, NULL);
    assert_string_equal(out, "ok\n");
    free(out);
    assert_int_equal(r.exit_code, 0);
    for (int i = 0; i < 100 && count_in_ns(init) < 3; i++)
        usleep(10000);
    assert_int_equal(count_in_ns(init), 3);
    {
        /* Counted and killed through the pid namespace: with or without a cgroup. */
        assert_int_equal(rn_container_nprocs(c), 3);
        /* Killing the job's processes keeps the container usable. */
        assert_int_equal(rn_container_kill_all(c), 2);
        assert_int_equal(count_in_ns(init), 1);
        const char *again[] = {"true", NULL};
        o = in(c, again);
        r = run(&o, NULL, NULL);
        assert_int_equal(r.exit_code, 0);
        const char *bg[] = {"sh", "-c", "setsid sleep 1000 & sleep 0.3", NULL};
        o = in(c, bg);
        run(&o, NULL, NULL);
    }
    rn_container_destroy(c);
    assert_int_equal(kill(init, 0), -1);
    assert_int_equal(errno, ESRCH);
    /* The writable layer and work dirs are gone too (mem/ is where layers in memory mount). */
    DIR *d = opendir(state);
    int entries = 0;
    struct dirent *e;
    while (d && (e = readdir(d)))
        entries += e->d_name[0] != '.' && strcmp(e->d_name, "mem") != 0;
    if (d)
        closedir(d);
    if (entries)
        sh("ls -laR %s >&2", state);
    assert_int_equal(entries, 0);
}

/* With a limit (a pids cgroup) and without one (no cgroup at all: the pid namespace alone). */
static void nothing_outlives_the_container(void **st) {
    (void)st;
    check_nothing_outlives(100);
}

static void nothing_outlives_without_cgroup(void **st) {
    (void)st;
    check_nothing_outlives(0);
}

static void binds_users_and_isolation(void **st) {
    (void)st;
    rn_bind binds[] = {{ws, "/job", false}, {ws, "/ro", true}};
    rn_container_opts co = {0};
    co.binds = binds;
    co.n_binds = 2;
    co.uid = 1000;
    co.gid = 1000;
    rn_container *a = make(&co);
    rn_container_opts co2 = {0};
    rn_container *b = make(&co2);
    sh("chmod 777 %s", ws);
    const char *wa[] = {"sh", "-c",
                        "id -u; echo hi > /job/f; echo no > /ro/g 2>/dev/null || echo ro; "
                        "echo layer > /tmp/t; cat /proc/self/status | grep ^CapEff",
                        NULL};
    rn_proc_opts o = in(a, wa);
    char *out;
    run(&o, &out, NULL);
    assert_string_equal(out, "1000\nro\nCapEff:\t0000000000000000\n");
    free(out);
    char *path = rn_xprintf("%s/f", ws);
    char *content = rn_read_file(path, NULL);
    assert_string_equal(content, "hi\n");
    free(content);
    free(path);
    /* Another container has its own /tmp and no view of A's workspace. */
    const char *rb[] = {"sh", "-c", "cat /tmp/t 2>/dev/null || echo none; ls /job 2>&1 | wc -l",
                        NULL};
    o = in(b, rb);
    run(&o, &out, NULL);
    assert_string_equal(out, "none\n1\n");
    free(out);
    rn_container_destroy(a);
    rn_container_destroy(b);
}

static void services_share_a_network(void **st) {
    (void)st;
    rn_container_opts co = {0};
    co.net = RN_NET_PRIVATE;
    rn_container *job = make(&co);
    rn_container_opts so = {0};
    so.net_from = job;
    so.hostname = "db";
    rn_container *svc = make(&so);
    rn_container_opts lone = {0};
    lone.net = RN_NET_PRIVATE;
    rn_container *other = make(&lone);
    /* A service listening on the job's localhost. */
    const char *serve[] = {"sh", "-c", "setsid nc -ll -p 8080 -e echo from-service & sleep 0.3",
                           NULL};
    rn_proc_opts o = in(svc, serve);
    run(&o, NULL, NULL);
    const char *ask[] = {"sh", "-c", "nc -w 2 127.0.0.1 8080 </dev/null 2>&1", NULL};
    o = in(job, ask);
    char *out;
    run(&o, &out, NULL);
    assert_string_equal(out, "from-service\n");
    free(out);
    o = in(other, ask);
    run(&o, &out, NULL);
    assert_string_equal(out, "nc: can't connect to remote host (127.0.0.1): Connection refused\n");
    free(out);
    rn_container_destroy(svc);
    rn_container_destroy(other);
    rn_container_destroy(job);
}

static void collect_line(void *data, rn_stream s, const char *line, size_t len, bool eol) {
    (void)s;
    rn_sb_append(data, line, len);
    if (eol)
        rn_sb_putc(data, '\n');
}

/* A socket runnel makes inside a container's private network: the container reaches it at
 * 127.0.0.1:PORT, the host's own 127.0.0.1:PORT stays free, a gone pid is a clear error. */
static void listening_in_a_private_network(void **st) {
    (void)st;
    rn_container_opts co = {0};
    co.net = RN_NET_PRIVATE;
    rn_container *job = make(&co);
    /* a port free on the host now, then taken in the container only */
    int host = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t alen = sizeof a;
    assert_int_equal(bind(host, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(getsockname(host, (struct sockaddr *)&a, &alen), 0);
    close(host);
    unsigned short port = ntohs(a.sin_port);
    char *err = NULL;
    int fd = rn_netns_listen_tcp(rn_container_init_pid(job), port, &err);
    assert_true(fd >= 0);
    host = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    assert_int_equal(bind(host, (struct sockaddr *)&a, sizeof a), 0); /* still free here */
    close(host);
    char *cmd = rn_xprintf("nc -w 2 127.0.0.1 %u </dev/null 2>&1", (unsigned)port);
    const char *ask[] = {"sh", "-c", cmd, NULL};
    rn_proc_opts o = in(job, ask);
    rn_sb got = RN_SB_INIT;
    o.on_line = collect_line;
    o.cb_data = &got;
    rn_proc *p = rn_proc_start(&o, &err);
    assert_non_null(p);
    int c = accept(fd, NULL, NULL);
    assert_true(c >= 0);
    assert_int_equal(write(c, "from-runnel\n", 12), 12);
    close(c);
    rn_proc_result r;
    rn_proc_wait(p, &r);
    rn_proc_free(p);
    assert_int_equal(r.exit_code, 0);
    assert_string_equal(got.data, "from-runnel\n");
    rn_sb_free(&got);
    close(fd);
    free(cmd);
    rn_container_destroy(job);
    assert_int_equal(rn_netns_listen_tcp(999999999, 18477, &err), -1);
    assert_string_equal(err, "listening on 127.0.0.1:18477 in the network of pid 999999999: "
                             "opening its namespace: No such file or directory");
    free(err);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(steps_share_one_container),
        cmocka_unit_test(writable_layer_in_memory),
        cmocka_unit_test(minimal_dev),
        cmocka_unit_test(start_errors_are_exact),
        cmocka_unit_test(timeout_and_cancel_inside),
        cmocka_unit_test(nothing_outlives_the_container),
        cmocka_unit_test(nothing_outlives_without_cgroup),
        cmocka_unit_test(binds_users_and_isolation),
        cmocka_unit_test(services_share_a_network),
        cmocka_unit_test(listening_in_a_private_network),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
