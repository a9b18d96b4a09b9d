/* runnel cache ls|rm KEY|prune [--max-size SIZE]: the local cache store (docs/cache.md).
 * Owner: caching engineer. */
#include "actions/cache_store.h"
#include "runner/commands.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void usage(FILE *out) {
    fprintf(out, "usage: runnel cache ls\n"
                 "       runnel cache rm KEY\n"
                 "       runnel cache prune [--max-size SIZE]\n"
                 "The cache lives in $RUNNEL_HOME/cache, else $XDG_CACHE_HOME/runnel/cache, else\n"
                 "~/.cache/runnel/cache. prune evicts least recently used entries until the total\n"
                 "is at most SIZE (e.g. 2G, 500M, 0 for everything; default: the cap,\n"
                 "$RUNNEL_CACHE_MAX_SIZE or 10G).\n");
}

static void human(long long b, char *out, size_t n) {
    if (b >= 1024LL * 1024 * 1024)
        snprintf(out, n, "%.1fG", (double)b / (1024.0 * 1024 * 1024));
    else if (b >= 1024LL * 1024)
        snprintf(out, n, "%.1fM", (double)b / (1024.0 * 1024));
    else if (b >= 1024)
        snprintf(out, n, "%.1fK", (double)b / 1024.0);
    else
        snprintf(out, n, "%lldB", b);
}

static int cmp_used(const void *a, const void *b) {
    const rn_cache_entry *x = a, *y = b;
    if (x->used_ms != y->used_ms)
        return x->used_ms > y->used_ms ? -1 : 1;
    return strcmp(x->key, y->key);
}

int rn_cmd_cache(int argc, char **argv) {
    /* argv[0] is "cache", argv[1] the subcommand */
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    const char *sub = argv[1];
    long long max = -1;
    if (!strcmp(sub, "ls")) {
        if (argc != 2) {
            usage(stderr);
            return 2;
        }
    } else if (!strcmp(sub, "rm")) {
        if (argc != 3) {
            usage(stderr);
            return 2;
        }
    } else if (!strcmp(sub, "prune")) {
        for (int i = 2; i < argc; i++) {
            if (!strcmp(argv[i], "--max-size") && i + 1 < argc) {
                max = rn_cache_parse_size(argv[++i]);
                if (max < 0) {
                    fprintf(stderr, "runnel cache prune: invalid size '%s'\n", argv[i]);
                    return 2;
                }
            } else {
                usage(stderr);
                return 2;
            }
        }
    } else {
        fprintf(stderr, "runnel cache: unknown subcommand '%s'\n", sub);
        usage(stderr);
        return 2;
    }
    char *err = NULL;
    rn_cache_store *s = rn_cache_store_open(NULL, 0, &err);
    if (!s) {
        fprintf(stderr, "runnel cache: %s\n", err);
        free(err);
        return 1;
    }
    int rc = 0;
    if (!strcmp(sub, "ls")) {
        rn_cache_entry *v;
        size_t n;
        rn_cache_list(s, &v, &n);
        if (n)
            qsort(v, n, sizeof *v, cmp_used);
        long long total = 0;
        if (n)
            printf("%-10s %-20s %-40s %s\n", "SIZE", "LAST USED", "SCOPE", "KEY");
        for (size_t i = 0; i < n; i++) {
            char sz[32], when[32];
            long long b = v[i].archive_size + v[i].unpacked_size;
            total += b;
            human(b, sz, sizeof sz);
            time_t t = (time_t)(v[i].used_ms / 1000);
            struct tm tm;
            gmtime_r(&t, &tm);
            strftime(when, sizeof when, "%Y-%m-%d %H:%M:%SZ", &tm);
            printf("%-10s %-20s %-40s %s\n", sz, when, v[i].scope, v[i].key);
        }
        char tot[32];
        human(total, tot, sizeof tot);
        printf("%zu entr%s, %s in %s\n", n, n == 1 ? "y" : "ies", tot, rn_cache_store_root(s));
        rn_cache_entries_free(v, n);
    } else if (!strcmp(sub, "rm")) {
        int n = rn_cache_remove(s, argv[2]);
        if (n == 0) {
            fprintf(stderr, "runnel cache rm: no entry with key '%s'\n", argv[2]);
            rc = 1;
        } else {
            printf("removed %d entr%s with key '%s'\n", n, n == 1 ? "y" : "ies", argv[2]);
        }
    } else {
        long long freed = 0;
        int n = rn_cache_prune(s, max, &freed);
        char f[32];
        human(freed, f, sizeof f);
        printf("pruned %d entr%s, freed %s\n", n, n == 1 ? "y" : "ies", f);
    }
    rn_cache_store_close(s);
    return rc;
}
