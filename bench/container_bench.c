/* bench/container_bench: container start-to-exit against bubblewrap, and per-step overhead in
 * one container against the host, in the same invocation.
 *
 *   container_bench RUNNEL [ITERATIONS] [STEPS]
 *
 * 1. start-to-exit of /bin/true on the same busybox-static rootfs (built in a temp dir):
 *    `runnel sandbox exec --rootfs R --net none -- /bin/true` against
 *    `bwrap --unshare-all --ro-bind R / --proc /proc --dev /dev /bin/true`, interleaved, both
 *    started as processes through the same rn_proc_run(); also the in-process API alone
 *    (rn_container_create + one step + rn_container_destroy), which is what a job pays.
 * 2. STEPS steps of `true` in one container against the same program on the host (rn_proc_run
 *    with and without .container), interleaved: busybox's `true` in the busybox container and
 *    on the host, and the host's `true` in a host-root container (lower "/", what `runnel run`
 *    does without -P) and on the host; best, median and mean differences per step.
 * Every measure is printed as best-of-N and median (the machine is shared and noisy). */
#include "bench/stats.h"
#include "common/arena.h"
#include "sandbox/container.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static double now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* One line: best and median, their ratios against the baseline's, and the median of the
 * per-round ratios (the two runs of a round are milliseconds apart: the least load-sensitive). */
static void report(const char *what, const double *v, int n, const double *base) {
    double b = best(v, n), m = median(v, n);
    printf("  %-44s best %7.2f ms  median %7.2f ms", what, b, m);
    if (base) {
        double *r = rn_xcalloc((size_t)n, sizeof *r);
        for (int i = 0; i < n; i++)
            r[i] = v[i] / base[i];
        printf("   ratio best %.2f  median %.2f  per round %.2f", b / best(base, n),
               m / median(base, n), median(r, n));
        free(r);
    }
    printf("\n");
}

static const char *const host_env[] = {"PATH=/usr/sbin:/usr/bin:/sbin:/bin", NULL};

/* Wall time of one process run to completion, or -1 if it failed. */
static double timed(const char *const *argv, rn_container *c) {
    rn_proc_opts o = {0};
    o.argv = argv;
    o.envp = host_env;
    o.container = c;
    rn_proc_result r;
    char *err = NULL;
    double t0 = now_ms();
    if (rn_proc_run(&o, &r, NULL, NULL, &err) != 0) {
        fprintf(stderr, "container_bench: %s: %s\n", argv[0], err);
        free(err);
        return -1;
    }
    double t = now_ms() - t0;
    return r.status == RN_PROC_EXITED && r.exit_code == 0 ? t : -1;
}

int main(int argc, char **argv) {
    /* --compare=RUNNEL2: one more CLI row, another build's (before/after in one run). */
    const char *compare = NULL;
    int n = 0;
    for (int i = 0; i < argc; i++) {
        if (!strncmp(argv[i], "--compare=", 10))
            compare = argv[i] + 10;
        else
            argv[n++] = argv[i];
    }
    argc = n;
    if (argc < 2) {
        fprintf(stderr, "usage: container_bench RUNNEL [ITERATIONS] [STEPS] [--compare=RUNNEL2]\n");
        return 2;
    }
    const char *runnel = argv[1];
    int iters = argc > 2 ? atoi(argv[2]) : 30;
    int steps = argc > 3 ? atoi(argv[3]) : 100;
    char dir[] = "/var/tmp/runnel-bench.XXXXXX";
    if (!mkdtemp(dir) || access("/bin/busybox", X_OK) != 0 || access("/usr/bin/bwrap", X_OK)) {
        fprintf(stderr, "container_bench: needs /bin/busybox (busybox-static) and /usr/bin/bwrap "
                        "(bubblewrap)\n");
        return 77;
    }
    char *cmd = rn_xprintf("mkdir -p %s/rootfs/bin %s/rootfs/proc %s/rootfs/dev %s/rootfs/tmp "
                           "&& cp /bin/busybox %s/rootfs/bin/ && for a in $(/bin/busybox --list);"
                           " do [ $a = busybox ] || ln -s busybox %s/rootfs/bin/$a; done",
                           dir, dir, dir, dir, dir, dir);
    if (system(cmd) != 0)
        return 1;
    free(cmd);
    char *rootfs = rn_xprintf("%s/rootfs", dir);

    const char *rn_argv[] = {runnel,  "sandbox", "exec", "--rootfs",  rootfs,
                             "--net", "none",    "--",   "/bin/true", NULL};
    const char *rn_disk_argv[] = {runnel, "sandbox", "exec", "--rootfs", rootfs,      "--net",
                                  "none", "--layer", "disk", "--",       "/bin/true", NULL};
    const char *rn2_argv[] = {compare, "sandbox", "exec", "--rootfs",  rootfs,
                              "--net", "none",    "--",   "/bin/true", NULL};
    const char *bw_argv[] = {
        "/usr/bin/bwrap", "--unshare-all", "--ro-bind", rootfs,      "/", "--proc",
        "/proc",          "--dev",         "/dev",      "/bin/true", NULL};
    const char *ver_argv[] = {runnel, "--version", NULL};           /* front, exec, runnel-core */
    const char *front_argv[] = {runnel, "sandbox", "--help", NULL}; /* the front alone */
    double *ver = rn_xcalloc((size_t)iters, sizeof *ver);
    double *front = rn_xcalloc((size_t)iters, sizeof *front);
    double *rn = rn_xcalloc((size_t)iters, sizeof *rn), *bw = rn_xcalloc((size_t)iters, sizeof *bw),
           *api = rn_xcalloc((size_t)iters, sizeof *api),
           *api_cg = rn_xcalloc((size_t)iters, sizeof *api_cg),
           *api_shm = rn_xcalloc((size_t)iters, sizeof *api_shm),
           *api_mem = rn_xcalloc((size_t)iters, sizeof *api_mem),
           *rn_disk = rn_xcalloc((size_t)iters, sizeof *rn_disk),
           *rn2 = rn_xcalloc((size_t)iters, sizeof *rn2);
    const char *lowers[] = {rootfs};
    rn_container_opts co = {0};
    co.lowers = lowers;
    co.n_lowers = 1;
    co.net = RN_NET_NONE;
    co.env = host_env;
    rn_container_opts co_cg = co; /* the same with a limit: a pids cgroup to make and join */
    co_cg.pids_max = 4096;
    /* And with the writable layer on a tmpfs: what the layer's directories on a disk cost. */
    char shm_state[] = "/dev/shm/runnel-bench-state.XXXXXX";
    rn_container_opts co_shm = co;
    co_shm.state_root = mkdtemp(shm_state) ? shm_state : NULL;
    rn_container_opts co_mem = co; /* the layer in a tmpfs of the container's own */
    co_mem.layer_in_memory = true;
    const rn_container_opts *api_opts[] = {&co, &co_cg, &co_shm, &co_mem};
    double *api_rows[] = {api, api_cg, api_shm, api_mem};
    const char *true_argv[] = {"/bin/true", NULL};
    for (int i = 0; i < iters; i++) {
        /* The process rows, each round starting one further: none always runs first. */
        const char *const *pargv[] = {bw_argv,  rn_argv,    rn_disk_argv,
                                      ver_argv, front_argv, rn2_argv};
        double *prow[] = {bw, rn, rn_disk, ver, front, rn2};
        int np = compare ? 6 : 5;
        for (int k = 0; k < np; k++)
            prow[(i + k) % np][i] = timed(pargv[(i + k) % np], NULL);
        for (int k = 0; k < 4; k++) {
            if (k == 2 && !co_shm.state_root) {
                api_shm[i] = 0;
                continue;
            }
            char *err = NULL;
            double t0 = now_ms();
            rn_container *c = rn_container_create(api_opts[k], &err);
            if (!c) {
                fprintf(stderr, "container_bench: %s\n", err);
                return 1;
            }
            double t = timed(true_argv, c);
            rn_container_destroy(c);
            api_rows[k][i] = t < 0 ? -1 : now_ms() - t0;
        }
        if (rn[i] < 0 || rn_disk[i] < 0 || rn2[i] < 0 || bw[i] < 0 || api[i] < 0 || api_cg[i] < 0 ||
            api_mem[i] < 0) {
            fprintf(stderr, "container_bench: a run failed (runnel %.1f, bwrap %.1f)\n", rn[i],
                    bw[i]);
            return 1;
        }
    }
    printf("start-to-exit of /bin/true, %d interleaved rounds:\n", iters);
    report("bwrap --unshare-all (process)", bw, iters, NULL);
    report("runnel sandbox exec (process)", rn, iters, bw);
    report("runnel sandbox exec --layer disk", rn_disk, iters, bw);
    if (compare)
        report("--compare: its sandbox exec", rn2, iters, bw);
    report("runnel API: create + step + destroy", api, iters, bw);
    report("runnel API, writable layer in memory", api_mem, iters, bw);
    report("runnel API, with a pids limit (cgroup)", api_cg, iters, bw);
    if (co_shm.state_root) {
        report("runnel API, writable layer on tmpfs", api_shm, iters, bw);
        rmdir(shm_state);
    }
    report("(runnel sandbox --help: the front's start)", front, iters, NULL);
    report("(runnel --version: front + runnel-core)", ver, iters, NULL);

    /* Per step, the same program on both sides: busybox's `true` (the rootfs's static binary,
     * run from the host path on the host), and the host's own `true` in a host-root container
     * (lower "/": how `runnel run` runs a job without -P) against the host. */
    char *err = NULL;
    const char *host_root[] = {"/"};
    rn_container_opts co_host = co;
    co_host.lowers = host_root;
    rn_container *c = rn_container_create(&co, &err),
                 *ch = c ? rn_container_create(&co_host, &err) : NULL;
    if (!c || !ch) {
        fprintf(stderr, "container_bench: %s\n", err);
        return 1;
    }
    char *bb_host = rn_xprintf("%s/bin/true", rootfs);
    const char *bb_host_argv[] = {bb_host, NULL}, *host_true[] = {"true", NULL};
    double *v[4];
    for (int k = 0; k < 4; k++)
        v[k] = rn_xcalloc((size_t)steps, sizeof *v[k]);
    for (int i = 0; i < steps; i++) {
        v[0][i] = timed(bb_host_argv, NULL);
        v[1][i] = timed(true_argv, c);
        v[2][i] = timed(host_true, NULL);
        v[3][i] = timed(host_true, ch);
        if (v[0][i] < 0 || v[1][i] < 0 || v[2][i] < 0 || v[3][i] < 0) {
            fprintf(stderr, "container_bench: a step failed\n");
            return 1;
        }
    }
    rn_container_destroy(c);
    rn_container_destroy(ch);
    printf("%d steps, interleaved, per step:\n", steps);
    report("busybox true, host", v[0], steps, NULL);
    report("busybox true, busybox container", v[1], steps, v[0]);
    report("host true, host", v[2], steps, NULL);
    report("host true, host-root container", v[3], steps, v[2]);
    for (int k = 0; k < 2; k++) {
        double *h = v[2 * k], *in = v[2 * k + 1], th = 0, tc = 0;
        for (int i = 0; i < steps; i++)
            th += h[i], tc += in[i];
        printf("  overhead per step, %-16s best %+.2f ms, median %+.2f ms, mean %+.2f ms\n",
               k ? "host-root:" : "busybox:", best(in, steps) - best(h, steps),
               median(in, steps) - median(h, steps), (tc - th) / steps);
    }
    free(bb_host);
    for (int k = 0; k < 4; k++)
        free(v[k]);
    cmd = rn_xprintf("rm -rf %s", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "container_bench: could not remove %s\n", dir);
    free(cmd);
    free(rootfs);
    free(ver);
    free(front);
    free(rn);
    free(bw);
    free(api);
    free(api_cg);
    free(api_shm);
    return 0;
}
