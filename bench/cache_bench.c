/* bench/cache_bench [--full] [--mb N] [--rounds N] [--cold] [--only-runnel] [--keep]:
 * generates a Maven-like ~/.m2/repository tree (many small .pom/.sha1 files, a few larger .jar
 * files mixing random and repetitive bytes) in a temporary folder, then times, in the same run:
 *   tar -I 'zstd -T0' -cf  vs  rn_cache_save (runnel's store)
 *   tar -I 'zstd -T0' -xf  vs  rn_cache_lookup + rn_cache_restore
 * and prints MB/s (of the tree's bytes), best and median of the rounds, and ratios. Default
 * 60 MB; --full is 300 MB in 5,000+ files. Everything lives in one folder of $TMPDIR (default
 * /tmp): one file system for both sides.
 *
 * Fairness: rounds interleave the two sides and alternate which goes first; before each timed
 * phase dirty pages are written back (sync) and, with --cold, the page cache is dropped (root
 * only), otherwise both sides read warm inputs. Each round writes into fresh, empty folders and
 * nothing is deleted until the end: on ext4 without a journal, inodes freed in the last 30 s make
 * every new inode allocation scan past them (recently_deleted()), which would charge one side
 * for the other's deletions. Targets: save no slower than tar+zstd, restore at least 2x faster. */
#include "actions/cache_store.h"
#include "bench/stats.h"
#include "common/arena.h"
#include "sandbox/proc.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static unsigned long long rng = 88172645463325252ULL;
static unsigned long long xr(void) {
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static void write_file(const char *path, const char *data, size_t n) {
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0 || write(fd, data, n) != (ssize_t)n) {
        perror(path);
        exit(1);
    }
    close(fd);
}

static void mkdirs(const char *path) {
    char *p = rn_xstrdup(path);
    for (char *s = p + 1; *s; s++)
        if (*s == '/') {
            *s = 0;
            mkdir(p, 0755);
            *s = '/';
        }
    mkdir(p, 0755);
    free(p);
}

/* Returns the bytes written. */
static long long generate(const char *root, long long target, int artifacts) {
    long long total = 0;
    size_t jar_budget = (size_t)(target / artifacts);
    char *buf = rn_xmalloc(jar_budget * 4 + 65536);
    for (int a = 0; a < artifacts; a++) {
        char *dir = rn_xprintf("%s/org/group%d/artifact%d/1.%d.%d", root, a % 40, a, a % 7, a % 3);
        mkdirs(dir);
        /* pom, its sha1, a maven-metadata file and _remote.repositories: small text */
        size_t pn = 0;
        pn +=
            (size_t)snprintf(buf, 4096,
                             "<?xml version=\"1.0\"?>\n<project><modelVersion>4.0.0</modelVersion>"
                             "<groupId>org.group%d</groupId><artifactId>artifact%d</artifactId>\n",
                             a % 40, a);
        for (int d = 0; d < 20; d++)
            pn += (size_t)snprintf(buf + pn, 4096 - pn < 200 ? 0 : 4096 - pn,
                                   "<dependency><groupId>org.g%llu</groupId></dependency>\n",
                                   xr() % 1000);
        char *f = rn_xprintf("%s/artifact%d-1.0.pom", dir, a);
        write_file(f, buf, pn);
        total += (long long)pn;
        free(f);
        const char *names[] = {"artifact.pom.sha1", "artifact.jar.sha1", "_remote.repositories"};
        for (int k = 0; k < 3; k++) {
            int n = snprintf(buf, 128, "%016llx%016llx%08llx\n", xr(), xr(), xr() & 0xffffffff);
            f = rn_xprintf("%s/%s", dir, names[k]);
            write_file(f, buf, (size_t)n);
            total += n;
            free(f);
        }
        /* jars: most small, every 25th large; half random (compressed classes), half text */
        size_t js = a % 25 == 0 ? jar_budget * 4 : jar_budget * 7 / 8;
        for (size_t i = 0; i < js; i += 8) {
            unsigned long long v = xr();
            if ((i / 4096) % 2)
                memcpy(buf + i, "classfil", 8);
            else
                memcpy(buf + i, &v, 8);
        }
        f = rn_xprintf("%s/artifact%d-1.0.jar", dir, a);
        write_file(f, buf, js);
        total += (long long)js;
        free(f);
        free(dir);
    }
    free(buf);
    return total;
}

static double run(const char *const *argv, const char *cwd) {
    rn_proc_opts o = {0};
    o.argv = argv;
    o.envp = (const char *const *)environ;
    o.cwd = cwd;
    rn_proc_result r;
    char *err = NULL;
    double t0 = now();
    if (rn_proc_run(&o, &r, NULL, NULL, &err) || r.exit_code != 0) {
        fprintf(stderr, "cache_bench: %s failed: %s\n", argv[0], err ? err : "exit status");
        exit(1);
    }
    return now() - t0;
}

static void drop(const char *path) {
    const char *argv[] = {"rm", "-rf", path, NULL};
    run(argv, NULL);
}

static bool cold;

/* Before each timed phase: write back dirty pages; with --cold also drop the page cache. */
static void settle(void) {
    sync();
    if (!cold)
        return;
    int fd = open("/proc/sys/vm/drop_caches", O_WRONLY | O_CLOEXEC);
    if (fd < 0 || write(fd, "3\n", 2) != 2) {
        fprintf(stderr, "cache_bench: --cold needs root (cannot write drop_caches): warm run\n");
        cold = false;
    }
    if (fd >= 0)
        close(fd);
}

/* The fresh-memory floor: seconds to write `bytes` into memory no process used before (new
 * anonymous pages, on as many threads as the store's restore uses). A restore must fill that
 * much new page cache, so no restore of the tree can be faster. On a machine whose memory is
 * provisioned lazily (this VM: a balloon with free page reporting returns freed pages to the
 * host, and every first touch of a page is a host fault) it is the bound of both sides. */
typedef struct {
    size_t bytes;
} floor_job;

static void *floor_worker(void *arg) {
    size_t n = ((floor_job *)arg)->bytes;
    char *p = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        return NULL;
    memset(p, 1, n);
    munmap(p, n);
    return NULL;
}

static double memory_floor(double mbytes) {
    long c = sysconf(_SC_NPROCESSORS_ONLN);
    int n = c > 0 ? (int)(2 * c > 16 ? 16 : 2 * c) : 4; /* actions/cache_store.c's worker_count */
    floor_job job = {(size_t)(mbytes * 1e6) / (size_t)n};
    pthread_t th[16];
    settle();
    double t0 = now();
    for (int i = 0; i < n; i++)
        if (pthread_create(&th[i], NULL, floor_worker, &job) != 0)
            abort();
    for (int i = 0; i < n; i++)
        pthread_join(th[i], NULL);
    return now() - t0;
}

static const char *fs_name(const char *path) {
    struct statfs f;
    if (statfs(path, &f))
        return "?";
    switch ((unsigned long)f.f_type) {
    case 0xEF53:
        return "ext4";
    case 0x01021994:
        return "tmpfs";
    case 0x9123683E:
        return "btrfs";
    case 0x58465342:
        return "xfs";
    case 0x794c7630:
        return "overlayfs";
    default:
        return "other";
    }
}

typedef struct phase {
    const char *name;
    double *t; /* per round, seconds */
} phase;

int main(int argc, char **argv) {
    long long mb = 60;
    bool keep = false, only_runnel = false;
    int rounds = 5;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--full"))
            mb = 300;
        else if (!strcmp(argv[i], "--mb") && i + 1 < argc)
            mb = atoll(argv[++i]);
        else if (!strcmp(argv[i], "--rounds") && i + 1 < argc)
            rounds = atoi(argv[++i]) > 0 ? atoi(argv[i]) : 1;
        else if (!strcmp(argv[i], "--cold"))
            cold = true;
        else if (!strcmp(argv[i], "--only-runnel"))
            only_runnel = true;
        else if (!strcmp(argv[i], "--keep"))
            keep = true;
        else {
            fprintf(stderr, "usage: cache_bench [--full] [--mb N] [--rounds N] [--cold] "
                            "[--only-runnel] [--keep]\n");
            return 2;
        }
    }
    const char *td = getenv("TMPDIR");
    char *tmpl = rn_xprintf("%s/runnel-cache-bench.XXXXXX", td && *td ? td : "/tmp");
    char *base = mkdtemp(tmpl);
    if (!base) {
        perror("mkdtemp");
        return 1;
    }
    char *ws = rn_xprintf("%s/ws", base);
    char *repo = rn_xprintf("%s/ws/repository", base);
    mkdirs(repo);
    int artifacts = mb >= 300 ? 1300 : (int)(mb * 1300 / 300) + 50;
    long long bytes = generate(repo, mb * 1024 * 1024, artifacts);
    int files = artifacts * 5;
    double mbytes = (double)bytes / (1024.0 * 1024.0);
    printf("tree: %.1f MB in %d files (%d artifacts) on %s (%s), %d rounds, %s page cache\n",
           mbytes, files, artifacts, fs_name(base), base, rounds, cold ? "cold" : "warm");

    char *root = rn_xprintf("%s/store", base);
    char *err = NULL;
    rn_cache_store *s = rn_cache_store_open(root, 1LL << 40, &err);
    if (!s) {
        fprintf(stderr, "cache_bench: %s\n", err);
        return 1;
    }
    const char *items[] = {repo};
    const char *paths[] = {"repository"};
    char *ver = rn_cache_version(paths, 1, RN_CACHE_COMPRESSION);
    const char *scopes[] = {"bench"};
    double *tsave = rn_xcalloc((size_t)rounds, sizeof(double));
    double *rsave = rn_xcalloc((size_t)rounds, sizeof(double));
    double *trest = rn_xcalloc((size_t)rounds, sizeof(double));
    double *rrest = rn_xcalloc((size_t)rounds, sizeof(double));
    double *mfloor = rn_xcalloc((size_t)rounds, sizeof(double));
    for (int round = 0; round < rounds; round++) {
        /* fresh folders per round, all removed at the end (see the top comment) */
        char *rd = rn_xprintf("%s/r%d", base, round);
        char *tarball = rn_xprintf("%s/cache.tzst", rd);
        char *xdir = rn_xprintf("%s/x-tar", rd);
        char *rdir = rn_xprintf("%s/x-runnel", rd);
        mkdirs(xdir);
        mkdirs(rdir);
        char key[32];
        snprintf(key, sizeof key, "maven-%d", round);
        bool runnel_first = round % 2 == 1;
        for (int side = 0; side < 2; side++) {
            if ((side == 0) == runnel_first) {
                settle();
                double t0 = now();
                if (rn_cache_save(s, "bench", key, ver, ws, NULL, 0, items, 1, &err) != 0) {
                    fprintf(stderr, "cache_bench: save: %s\n", err ? err : "exists");
                    return 1;
                }
                rsave[round] = now() - t0;
            } else if (!only_runnel) {
                const char *tc[] = {"tar", "-I", "zstd -T0",   "-cf", tarball,
                                    "-C",  ws,   "repository", NULL};
                settle();
                tsave[round] = run(tc, NULL);
            }
        }
        for (int side = 0; side < 2; side++) {
            if ((side == 0) == runnel_first) {
                rn_cache_entry e;
                const char *keys[] = {key};
                settle();
                double t0 = now();
                if (rn_cache_lookup(s, scopes, 1, keys, 1, ver, &e) != 1 ||
                    rn_cache_restore(s, &e, rdir, NULL, 0, &err) != 0) {
                    fprintf(stderr, "cache_bench: restore failed: %s\n", err ? err : "miss");
                    return 1;
                }
                rrest[round] = now() - t0;
                rn_cache_entry_clear(&e);
            } else if (!only_runnel) {
                const char *tx[] = {"tar", "-I", "zstd -T0", "-xf", tarball, "-C", xdir, NULL};
                settle();
                trest[round] = run(tx, NULL);
            }
        }
        mfloor[round] = memory_floor(mbytes);
        /* the restored tree must equal the original */
        char *copy = rn_xprintf("%s/repository", rdir);
        const char *diff[] = {"diff", "-r", "-q", repo, copy, NULL};
        run(diff, NULL);
        free(copy);
        printf("round %d (%s first): save tar %.3f s, runnel %.3f s; restore tar %.3f s, runnel "
               "%.3f s; fresh-memory floor %.3f s\n",
               round + 1, runnel_first ? "runnel" : "tar", tsave[round], rsave[round], trest[round],
               rrest[round], mfloor[round]);
        fflush(stdout);
        free(rd);
        free(tarball);
        free(xdir);
        free(rdir);
    }

    phase ph[] = {{"save    tar -I 'zstd -T0'", tsave},
                  {"save    runnel store", rsave},
                  {"restore tar -I 'zstd -T0'", trest},
                  {"restore runnel store", rrest}};
    printf("%-26s %9s %9s %10s %10s\n", "", "best s", "median s", "best MB/s", "med MB/s");
    for (int i = 0; i < 4; i++) {
        if (only_runnel && i % 2 == 0)
            continue;
        double b = best(ph[i].t, rounds), m = median(ph[i].t, rounds);
        printf("%-26s %9.3f %9.3f %10.1f %10.1f\n", ph[i].name, b, m, mbytes / b, mbytes / m);
    }
    if (!only_runnel) {
        double sb = best(tsave, rounds) / best(rsave, rounds);
        double sm = median(tsave, rounds) / median(rsave, rounds);
        double rb = best(trest, rounds) / best(rrest, rounds);
        double rm = median(trest, rounds) / median(rrest, rounds);
        /* each round's two sides ran seconds apart: the median of per-round ratios follows the
         * machine's load least */
        double *sr = rn_xmalloc((size_t)rounds * sizeof *sr),
               *rr = rn_xmalloc((size_t)rounds * sizeof *rr);
        for (int i = 0; i < rounds; i++) {
            sr[i] = tsave[i] / rsave[i];
            rr[i] = trest[i] / rrest[i];
        }
        printf("ratio (tar time / runnel time): save best %.2fx, median %.2fx; restore best "
               "%.2fx, median %.2fx\n",
               sb, sm, rb, rm);
        printf("per-round ratios: save median %.2fx (%.2fx-%.2fx); restore median %.2fx "
               "(%.2fx-%.2fx)\n",
               median(sr, rounds), best(sr, rounds), most(sr, rounds), median(rr, rounds),
               best(rr, rounds), most(rr, rounds));
        free(sr);
        free(rr);
        /* how close each side's restores came to what the machine allows */
        double *rf = rn_xmalloc((size_t)rounds * sizeof *rf),
               *tf = rn_xmalloc((size_t)rounds * sizeof *tf);
        for (int i = 0; i < rounds; i++) {
            rf[i] = rrest[i] / mfloor[i];
            tf[i] = trest[i] / mfloor[i];
        }
        printf("restore / fresh-memory floor of its round (median): runnel %.2fx, tar %.2fx; "
               "floor median %.3f s (%.0f MB/s)\n",
               median(rf, rounds), median(tf, rounds), median(mfloor, rounds),
               mbytes / median(mfloor, rounds));
        free(rf);
        free(tf);
        printf("targets (ratio of medians): save >= 1.00x tar: %s; restore >= 2.00x tar: %s\n",
               sm >= 1.0 ? "met" : "MISSED", rm >= 2.0 ? "met" : "MISSED");
    }
    rn_cache_store_close(s);
    if (!keep)
        drop(base);
    else
        printf("kept %s\n", base);
    free(tsave);
    free(rsave);
    free(trest);
    free(rrest);
    free(mfloor);
    free(ver);
    free(root);
    free(ws);
    free(repo);
    free(tmpl);
    return 0;
}
