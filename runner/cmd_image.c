/* runnel image import|pull|ls|rm|prune|inspect: the image store (sandbox/image.h) from the CLI.
 * Exit status: 0 success, 1 a failed operation (network, digest, missing image), 2 usage. */
#include "common/arena.h"
#include "runner/commands.h"
#include "sandbox/image.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int usage(FILE *f) {
    fprintf(f, "usage: runnel image COMMAND [ARGS]\n"
               "  pull [--user USER:PASS] [--insecure] [-q] [--parallel N] REF\n"
               "                      pull from a registry (linux/amd64), verify, unpack\n"
               "  import [--tag REF] FILE|DIR\n"
               "                      import an OCI image layout or a `docker save` archive\n"
               "  ls [-q]             list the images (-q: references only)\n"
               "  rm REF...           remove references (content stays until prune)\n"
               "  prune               delete blobs and layers no reference uses\n"
               "  inspect REF         print digest, config, layers and size as JSON\n"
               "The store is $RUNNEL_HOME/images, else $XDG_DATA_HOME/runnel/images, else\n"
               "~/.local/share/runnel/images (docs/images.md).\n");
    return f == stdout ? 0 : 2;
}

static int fail(const char *what, char *err) {
    fprintf(stderr, "runnel image %s: %s\n", what, err ? err : "failed");
    free(err);
    return 1;
}

static void human(int64_t n, char *buf, size_t len) {
    const char *u[] = {"B", "kB", "MB", "GB", "TB"};
    double v = (double)n;
    int i = 0;
    while (v >= 1000 && i < 4)
        v /= 1000, i++;
    if (i == 0)
        snprintf(buf, len, "%lldB", (long long)n);
    else
        snprintf(buf, len, "%.1f%s", v, u[i]);
}

static int cmd_pull(rn_image_store *st, int argc, char **argv) {
    rn_pull_opts o = {0};
    const char *ref = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--user") && i + 1 < argc)
            o.user = argv[++i];
        else if (!strcmp(a, "--insecure"))
            o.insecure = true;
        else if (!strcmp(a, "-q") || !strcmp(a, "--quiet"))
            o.quiet = true;
        else if (!strcmp(a, "--parallel") && i + 1 < argc)
            o.parallel = atoi(argv[++i]);
        else if (a[0] == '-' || ref)
            return usage(stderr);
        else
            ref = a;
    }
    if (!ref)
        return usage(stderr);
    char *err = NULL, *digest = NULL;
    char *norm = rn_image_ref_normalize(ref, &err);
    if (!norm) {
        fprintf(stderr, "runnel image pull: %s\n", err);
        free(err);
        return 2;
    }
    if (rn_image_pull(st, ref, &o, &digest, &err)) {
        free(norm);
        return fail("pull", err);
    }
    printf("Digest: %s\nPulled: %s\n", digest, norm);
    free(digest);
    free(norm);
    return 0;
}

static int cmd_import(rn_image_store *st, int argc, char **argv) {
    const char *tag = NULL, *path = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--tag") && i + 1 < argc)
            tag = argv[++i];
        else if (argv[i][0] == '-' || path)
            return usage(stderr);
        else
            path = argv[i];
    }
    if (!path)
        return usage(stderr);
    char *err = NULL;
    char **refs = NULL;
    if (rn_image_import(st, path, tag, &refs, &err) < 0)
        return fail("import", err);
    for (char **r = refs; r && *r; r++) {
        printf("Imported: %s\n", *r);
        free(*r);
    }
    free(refs);
    return 0;
}

static int cmd_ls(rn_image_store *st, int argc, char **argv) {
    bool quiet = argc > 1 && (!strcmp(argv[1], "-q") || !strcmp(argv[1], "--quiet"));
    if (argc > (quiet ? 2 : 1))
        return usage(stderr);
    rn_image_ref_info *list;
    char *err = NULL;
    long n = rn_image_list(st, &list, &err);
    if (n < 0)
        return fail("ls", err);
    if (!quiet)
        printf("%-50s  %-19s  %s\n", "REFERENCE", "DIGEST", "SIZE");
    for (long i = 0; i < n; i++) {
        if (quiet) {
            printf("%s\n", list[i].ref);
            continue;
        }
        char sz[32];
        human(list[i].size, sz, sizeof sz);
        printf("%-50s  %.19s  %s\n", list[i].ref, list[i].digest, sz);
    }
    rn_image_list_free(list, n);
    return 0;
}

static int cmd_rm(rn_image_store *st, int argc, char **argv) {
    if (argc < 2)
        return usage(stderr);
    int rc = 0;
    for (int i = 1; i < argc; i++) {
        char *err = NULL;
        if (rn_image_remove(st, argv[i], &err)) {
            fail("rm", err);
            rc = 1;
            continue;
        }
        char *n = rn_image_ref_normalize(argv[i], NULL);
        printf("Untagged: %s\n", n ? n : argv[i]);
        free(n);
    }
    return rc;
}

static int cmd_prune(rn_image_store *st, int argc) {
    if (argc != 1)
        return usage(stderr);
    rn_prune_stats s;
    char *err = NULL;
    if (rn_image_prune(st, &s, &err))
        return fail("prune", err);
    char sz[32];
    human(s.bytes, sz, sizeof sz);
    printf("Deleted %ld blobs and %ld layers, %s freed\n", s.blobs, s.layers, sz);
    return 0;
}

static int cmd_inspect(rn_image_store *st, int argc, char **argv) {
    if (argc != 2)
        return usage(stderr);
    char *err = NULL;
    char *txt = rn_image_inspect(st, argv[1], &err);
    if (!txt)
        return fail("inspect", err);
    printf("%s\n", txt);
    free(txt);
    return 0;
}

int rn_cmd_image(int argc, char **argv) {
    if (argc < 2)
        return usage(stderr);
    const char *sub = argv[1];
    if (!strcmp(sub, "-h") || !strcmp(sub, "--help"))
        return usage(stdout);
    static const char *subs[] = {"pull", "import", "ls", "list", "rm", "prune", "inspect"};
    bool known = false;
    for (size_t i = 0; i < sizeof subs / sizeof subs[0]; i++)
        known |= !strcmp(sub, subs[i]);
    if (!known) {
        fprintf(stderr, "runnel image: unknown command '%s'\n", sub);
        return usage(stderr);
    }
    char *err = NULL;
    rn_image_store *st = rn_image_store_open(NULL, &err);
    if (!st)
        return fail(sub, err);
    int rc;
    argc--, argv++;
    if (!strcmp(sub, "pull"))
        rc = cmd_pull(st, argc, argv);
    else if (!strcmp(sub, "import"))
        rc = cmd_import(st, argc, argv);
    else if (!strcmp(sub, "ls") || !strcmp(sub, "list"))
        rc = cmd_ls(st, argc, argv);
    else if (!strcmp(sub, "rm"))
        rc = cmd_rm(st, argc, argv);
    else if (!strcmp(sub, "prune"))
        rc = cmd_prune(st, argc);
    else
        rc = cmd_inspect(st, argc, argv);
    rn_image_store_close(st);
    return rc;
}
