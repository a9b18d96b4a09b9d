/* bench/cache_bench [--full] [--mb N] [--keep]: generates a Maven-like ~/.m2/repository tree
 * (many small .pom/.sha1 files, a few larger .jar files mixing random and repetitive bytes) in
 * a temporary folder, then times, in the same run:
 *   tar -I 'zstd -T0' -cf  vs  rn_cache_save (runnel's store)
 *   tar -I 'zstd -T0' -xf  vs  rn_cache_restore
 * and prints MB/s (of the tree's bytes) and ratios. Default 60 MB; --full is 300 MB in 5,000+
 * files. The tree lives in $TMPDIR (default /tmp). Targets: save no slower than tar+zstd, restore
 * at least 2x faster. */
#include "actions/cache_store.h"
#include "common/arena.h"
#include "sandbox/proc.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
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

int main(int argc, char **argv) {
    long long mb = 60;
    bool keep = false;
    int rounds = 3;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--full"))
            mb = 300;
        else if (!strcmp(argv[i], "--mb") && i + 1 < argc)
            mb = atoll(argv[++i]);
        else if (!strcmp(argv[i], "--rounds") && i + 1 < argc)
            rounds = atoi(argv[++i]) > 0 ? atoi(argv[i]) : 1;
        else if (!strcmp(argv[i], "--keep"))
            keep = true;
        else {
            fprintf(stderr, "usage: cache_bench [--full] [--mb N] [--rounds N] [--keep]\n");
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
    printf("tree: %.1f MB in %d files (%d artifacts)\n", mbytes, files, artifacts);
    sync();

    char *tarball = rn_xprintf("%s/cache.tzst", base);
    char *xdir = rn_xprintf("%s/x-tar", base);
    char *rdir = rn_xprintf("%s/x-runnel", base);
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
    /* rounds interleave the baseline and runnel so both see the same machine load; each phase
     * reports its fastest round */
    double tar_save = 1e9, tar_restore = 1e9, rn_save = 1e9, rn_restore = 1e9;
    for (int round = 0; round < rounds; round++) {
        const char *tc[] = {"tar", "-I", "zstd -T0", "-cf", tarball, "-C", ws, "repository", NULL};
        sync();
        double t = run(tc, NULL);
        tar_save = t < tar_save ? t : tar_save;

        char key[32];
        snprintf(key, sizeof key, "maven-%d", round);
        sync();
        double t0 = now();
        if (rn_cache_save(s, "bench", key, ver, ws, items, 1, &err) != 0) {
            fprintf(stderr, "cache_bench: save: %s\n", err ? err : "exists");
            return 1;
        }
        t = now() - t0;
        rn_save = t < rn_save ? t : rn_save;

        mkdirs(xdir);
        const char *tx[] = {"tar", "-I", "zstd -T0", "-xf", tarball, "-C", xdir, NULL};
        sync();
        t = run(tx, NULL);
        tar_restore = t < tar_restore ? t : tar_restore;

        mkdirs(rdir);
        rn_cache_entry e;
        const char *keys[] = {key};
        sync();
        t0 = now();
        if (rn_cache_lookup(s, scopes, 1, keys, 1, ver, &e) != 1 ||
            rn_cache_restore(s, &e, rdir, &err) != 0) {
            fprintf(stderr, "cache_bench: restore failed: %s\n", err ? err : "miss");
            return 1;
        }
        t = now() - t0;
        rn_restore = t < rn_restore ? t : rn_restore;
        rn_cache_entry_clear(&e);
        /* the restored tree must equal the original */
        char *orig = rn_xprintf("%s/repository", ws), *copy = rn_xprintf("%s/repository", rdir);
        const char *diff[] = {"diff", "-r", "-q", orig, copy, NULL};
        run(diff, NULL);
        free(orig);
        free(copy);
        printf("round %d: save tar %.3f s, runnel %.3f s; restore tar %.3f s, runnel %.3f s\n",
               round + 1, tar_save, rn_save, tar_restore, rn_restore);
        drop(xdir);
        drop(rdir);
        rn_cache_remove(s, key);
        unlink(tarball);
    }

    printf("%-28s %8.3f s %9.1f MB/s\n", "save    tar -I 'zstd -T0'", tar_save, mbytes / tar_save);
    printf("%-28s %8.3f s %9.1f MB/s  (%.2fx tar)\n", "save    runnel store", rn_save,
           mbytes / rn_save, tar_save / rn_save);
    printf("%-28s %8.3f s %9.1f MB/s\n", "restore tar -I 'zstd -T0'", tar_restore,
           mbytes / tar_restore);
    printf("%-28s %8.3f s %9.1f MB/s  (%.2fx tar)\n", "restore runnel store", rn_restore,
           mbytes / rn_restore, tar_restore / rn_restore);
    printf("targets: save >= 1.00x tar: %s; restore >= 2.00x tar: %s\n",
           rn_save <= tar_save ? "met" : "MISSED",
           rn_restore * 2 <= tar_restore ? "met" : "MISSED");
    rn_cache_store_close(s);
    if (!keep)
        drop(base);
    else
        printf("kept %s\n", base);
    free(ver);
    free(root);
    free(rdir);
    free(xdir);
    free(tarball);
    free(ws);
    free(repo);
    free(tmpl);
    return 0;
}
