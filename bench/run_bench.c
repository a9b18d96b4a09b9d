/* bench/run_bench: `runnel run` of a workflow with STEPS trivial `run:` steps against bash running
 * the same STEPS scripts one after another, in the same invocation.
 *
 *   run_bench RUNNEL [ROUNDS] [STEPS] [--no-container] [--only=baseline|host]
 *             [--compare=RUNNEL2]
 *
 * A temporary repository holds .github/workflows/bench.yml: one job, STEPS steps
 * `name: step NNN` / `run: echo out-NNN`, `defaults.run.shell: bash`, so runnel starts each
 * step as `bash --noprofile --norc -eo pipefail FILE`. The baseline runs the same STEPS script
 * files with exactly that command, one after another, each through rn_proc (stdout and stderr
 * piped and split into lines: what any runner must do). Both get this program's environment.
 *
 * Per round, interleaved (the order rotates each round) so all see the same machine load:
 *   - baseline: STEPS x `bash --noprofile --norc -eo pipefail scripts/NNN.sh`
 *   - runnel host: `runnel run -P ubuntu-latest=host .github/workflows/bench.yml`
 *   - runnel container (information; skipped with --no-container or when it fails): the same
 *     without -P, i.e. runnel's default host-root container.
 * Measured: wall time start to exit, CPU time (user+sys of the process and all it waited for,
 * from getrusage(RUSAGE_CHILDREN)), and the time from start to the first step's first output
 * line (`out-001` read from the pipe). Prints best and median of each and the ratios.
 * --only=baseline|host runs just that side ROUNDS times (to profile it with perf or strace).
 * --compare=RUNNEL2 adds another runnel binary in host mode to every round (before/after). */
#include "bench/stats.h"
#include "common/arena.h"
#include "common/strbuf.h"
#include "sandbox/proc.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static double now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static double children_cpu_ms(void) {
    struct rusage ru;
    getrusage(RUSAGE_CHILDREN, &ru);
    return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e3 +
           (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e3;
}

/* What one measured run saw. */
typedef struct sample {
    double wall, cpu, first; /* ms; first = start to the first `out-001` line, -1 if none */
} sample;

typedef struct watch {
    double t0, first;
    int outputs; /* lines holding "out-" */
    rn_sb log;   /* everything, for a failure report */
} watch;

static void on_line(void *ud, rn_stream s, const char *line, size_t len, bool eol) {
    (void)s;
    (void)eol;
    watch *w = ud;
    if (memmem(line, len, "out-", 4)) {
        w->outputs++;
        if (w->first < 0 && memmem(line, len, "out-001", 7))
            w->first = now_ms() - w->t0;
    }
    if (w->log.len < 65536) {
        rn_sb_append(&w->log, line, len);
        rn_sb_putc(&w->log, '\n');
    }
}

/* Runs argv to completion with piped output. Returns the exit code (-1: could not start). */
static int run_one(const char *const *argv, const char *cwd, watch *w) {
    rn_proc_opts o = {0};
    o.argv = argv;
    o.envp = (const char *const *)environ;
    o.cwd = cwd;
    o.stdout_mode = RN_STDIO_PIPE;
    o.stderr_mode = RN_STDIO_PIPE;
    o.on_line = on_line;
    o.cb_data = w;
    char *err = NULL;
    rn_proc *p = rn_proc_start(&o, &err);
    if (!p) {
        fprintf(stderr, "run_bench: %s: %s\n", argv[0], err);
        free(err);
        return -1;
    }
    rn_proc_result r;
    rn_proc_wait(p, &r);
    rn_proc_free(p);
    return r.status == RN_PROC_EXITED ? r.exit_code : 128 + r.term_signal;
}

static bool baseline(const char *dir, int steps, sample *out) {
    watch w = {0, -1, 0, RN_SB_INIT};
    double c0 = children_cpu_ms();
    w.t0 = now_ms();
    bool ok = true;
    for (int i = 1; i <= steps && ok; i++) {
        char *script = rn_xprintf("scripts/%03d.sh", i);
        const char *argv[] = {"bash", "--noprofile", "--norc", "-eo", "pipefail", script, NULL};
        ok = run_one(argv, dir, &w) == 0;
        free(script);
    }
    out->wall = now_ms() - w.t0;
    out->cpu = children_cpu_ms() - c0;
    out->first = w.first;
    if (!ok || w.outputs != steps) {
        fprintf(stderr, "run_bench: baseline failed (%d output lines):\n%s", w.outputs,
                rn_sb_str(&w.log));
        ok = false;
    }
    rn_sb_free(&w.log);
    return ok;
}

static bool runnel(const char *bin, const char *dir, bool host, int steps, sample *out) {
    watch w = {0, -1, 0, RN_SB_INIT};
    const char *host_argv[] = {
        bin, "run", "-P", "ubuntu-latest=host", ".github/workflows/bench.yml", NULL};
    const char *cont_argv[] = {bin, "run", ".github/workflows/bench.yml", NULL};
    double c0 = children_cpu_ms();
    w.t0 = now_ms();
    int rc = run_one(host ? host_argv : cont_argv, dir, &w);
    out->wall = now_ms() - w.t0;
    out->cpu = children_cpu_ms() - c0;
    out->first = w.first;
    bool ok = rc == 0 && w.outputs == steps;
    if (!ok)
        fprintf(stderr, "run_bench: runnel run (%s) exited %d with %d output lines:\n%s",
                host ? "host" : "container", rc, w.outputs, rn_sb_str(&w.log));
    rn_sb_free(&w.log);
    return ok;
}

static bool write_file(const char *path, const char *text) {
    FILE *f = fopen(path, "w");
    if (!f)
        return false;
    fputs(text, f);
    return fclose(f) == 0;
}

static void report(const char *what, const double *v, int n) {
    printf("  %-34s best %8.1f   median %8.1f\n", what, best(v, n), median(v, n));
}

int main(int argc, char **argv) {
    const char *bin = NULL;
    int rounds = 7, steps = 200, nnum = 0;
    bool container = true;
    const char *only = NULL;    /* profiling: "baseline" or "host", nothing else is run */
    const char *compare = NULL; /* another runnel binary, run in host mode as a 4th contender */
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--no-container"))
            container = false;
        else if (!strncmp(argv[i], "--only=", 7))
            only = argv[i] + 7;
        else if (!strncmp(argv[i], "--compare=", 10))
            compare = argv[i] + 10;
        else if (!bin)
            bin = argv[i];
        else if (nnum++ == 0)
            rounds = atoi(argv[i]);
        else
            steps = atoi(argv[i]);
    }
    if (!bin || rounds < 1 || steps < 1 || steps > 999) {
        fprintf(stderr, "usage: run_bench RUNNEL [ROUNDS] [STEPS (1-999)] [--no-container] "
                        "[--only=baseline|host] [--compare=RUNNEL2]\n");
        return 2;
    }
    char *abs_bin = realpath(bin, NULL), *abs_cmp = compare ? realpath(compare, NULL) : NULL;
    if (!abs_bin || (compare && !abs_cmp)) {
        fprintf(stderr, "run_bench: %s: %s\n", abs_bin ? compare : bin, strerror(errno));
        return 2;
    }
    const char *tmp = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
    char *dir = rn_xprintf("%s/runnel-run-bench.XXXXXX", tmp);
    if (!mkdtemp(dir)) {
        fprintf(stderr, "run_bench: mkdtemp: %s\n", strerror(errno));
        return 1;
    }
    char *p = rn_xprintf("%s/.github", dir);
    mkdir(p, 0755);
    free(p);
    p = rn_xprintf("%s/.github/workflows", dir);
    mkdir(p, 0755);
    free(p);
    p = rn_xprintf("%s/scripts", dir);
    mkdir(p, 0755);
    free(p);
    rn_sb wf = RN_SB_INIT;
    rn_sb_printf(&wf, "name: bench\non: push\ndefaults:\n  run:\n    shell: bash\njobs:\n"
                      "  steps:\n    runs-on: ubuntu-latest\n    steps:\n");
    for (int i = 1; i <= steps; i++) {
        rn_sb_printf(&wf, "      - name: step %03d\n        run: echo out-%03d\n", i, i);
        char *script = rn_xprintf("%s/scripts/%03d.sh", dir, i);
        char *text = rn_xprintf("echo out-%03d", i); /* runnel writes run: without a newline */
        write_file(script, text);
        free(text);
        free(script);
    }
    p = rn_xprintf("%s/.github/workflows/bench.yml", dir);
    write_file(p, rn_sb_str(&wf));
    free(p);
    rn_sb_free(&wf);

    printf("run_bench: %d steps, %d rounds, in %s\n", steps, rounds, dir);
    double *bw = rn_xcalloc((size_t)rounds, sizeof(double)), *bc = rn_xcalloc((size_t)rounds, 8),
           *bf = rn_xcalloc((size_t)rounds, 8);
    double *hw = rn_xcalloc((size_t)rounds, 8), *hc = rn_xcalloc((size_t)rounds, 8),
           *hf = rn_xcalloc((size_t)rounds, 8), *hr = rn_xcalloc((size_t)rounds, 8);
    double *cw = rn_xcalloc((size_t)rounds, 8), *cc = rn_xcalloc((size_t)rounds, 8),
           *cf = rn_xcalloc((size_t)rounds, 8);
    double *xw = rn_xcalloc((size_t)rounds, 8), *xc = rn_xcalloc((size_t)rounds, 8),
           *xf = rn_xcalloc((size_t)rounds, 8);
    int status = 0;
    for (int r = 0; r < rounds && status == 0; r++) {
        for (int k = 0; k < 4; k++) {
            int which = (k + r) % 4; /* rotate who goes first */
            sample s;
            if (only) { /* run only that one, three times per round */
                which = strcmp(only, "host") ? 0 : 1;
                if (k)
                    continue;
            }
            if (which == 0) {
                if (!baseline(dir, steps, &s)) {
                    status = 1;
                    break;
                }
                bw[r] = s.wall, bc[r] = s.cpu, bf[r] = s.first;
            } else if (which == 1) {
                if (!runnel(abs_bin, dir, true, steps, &s)) {
                    status = 1;
                    break;
                }
                hw[r] = s.wall, hc[r] = s.cpu, hf[r] = s.first;
            } else if (which == 2 && container) {
                if (!runnel(abs_bin, dir, false, steps, &s)) {
                    fprintf(stderr, "run_bench: container mode skipped from here on\n");
                    container = false;
                    continue;
                }
                cw[r] = s.wall, cc[r] = s.cpu, cf[r] = s.first;
            } else if (which == 3 && abs_cmp) {
                if (!runnel(abs_cmp, dir, true, steps, &s)) {
                    status = 1;
                    break;
                }
                xw[r] = s.wall, xc[r] = s.cpu, xf[r] = s.first;
            }
        }
        if (status == 0 && only) {
            printf("round %d: %s %.0f ms\n", r + 1, only, bw[r] + hw[r]);
        } else if (status == 0) {
            hr[r] = hw[r] / bw[r];
            printf("round %d: baseline %.0f ms, runnel host %.0f ms (%.2fx)", r + 1, bw[r], hw[r],
                   hr[r]);
            if (container)
                printf(", runnel container %.0f ms", cw[r]);
            if (abs_cmp)
                printf(", compared runnel host %.0f ms", xw[r]);
            printf("\n");
        }
        fflush(stdout);
    }
    if (only)
        status = status ? status : 3; /* nothing comparable to report */
    if (status == 0) {
        printf("\nms for %d steps (wall: start to exit; cpu: user+sys of all processes)\n", steps);
        report("baseline bash, wall", bw, rounds);
        report("runnel run -P ...=host, wall", hw, rounds);
        if (container)
            report("runnel run (container), wall", cw, rounds);
        if (abs_cmp)
            report("compared runnel, host, wall", xw, rounds);
        report("baseline bash, cpu", bc, rounds);
        report("runnel run -P ...=host, cpu", hc, rounds);
        if (container)
            report("runnel run (container), cpu", cc, rounds);
        if (abs_cmp)
            report("compared runnel, host, cpu", xc, rounds);
        printf("\nms from start to the first step's first output line\n");
        report("baseline bash", bf, rounds);
        report("runnel run -P ...=host", hf, rounds);
        if (container)
            report("runnel run (container)", cf, rounds);
        if (abs_cmp)
            report("compared runnel, host", xf, rounds);
        printf("\nper step (median): baseline %.2f ms wall, %.2f ms cpu; runnel host %.2f ms "
               "wall, %.2f ms cpu; runnel's own cpu per step %.2f ms\n",
               median(bw, rounds) / steps, median(bc, rounds) / steps, median(hw, rounds) / steps,
               median(hc, rounds) / steps, (median(hc, rounds) - median(bc, rounds)) / steps);
        printf("ratio runnel host / baseline, wall: best %.2fx, median %.2fx, median of rounds "
               "%.2fx (target < 1.5x)\n",
               best(hw, rounds) / best(bw, rounds), median(hw, rounds) / median(bw, rounds),
               median(hr, rounds));
        printf("ratio runnel host / baseline, cpu:  best %.2fx, median %.2fx\n",
               best(hc, rounds) / best(bc, rounds), median(hc, rounds) / median(bc, rounds));
        if (container)
            printf("ratio runnel container / baseline, wall: best %.2fx, median %.2fx\n",
                   best(cw, rounds) / best(bw, rounds), median(cw, rounds) / median(bw, rounds));
        if (abs_cmp)
            printf("compared runnel host / baseline: wall best %.2fx, median %.2fx; cpu median "
                   "%.2fx; its own cpu per step %.2f ms\n",
                   best(xw, rounds) / best(bw, rounds), median(xw, rounds) / median(bw, rounds),
                   median(xc, rounds) / median(bc, rounds),
                   (median(xc, rounds) - median(bc, rounds)) / steps);
    }
    const char *rm[] = {"rm", "-rf", dir, NULL};
    watch w = {0, -1, 0, RN_SB_INIT};
    if (run_one(rm, NULL, &w) != 0)
        fprintf(stderr, "run_bench: could not remove %s\n", dir);
    rn_sb_free(&w.log);
    free(dir);
    free(abs_bin);
    free(abs_cmp);
    free(xw), free(xc), free(xf);
    free(bw), free(bc), free(bf), free(hw), free(hc), free(hf), free(hr), free(cw), free(cc),
        free(cf);
    return status == 3 ? 0 : status;
}
