/* actionlint ok/ corpus: every workflow there must validate with zero errors.
 * usage: actionlint_ok OK_DIR KNOWN_FAILURES_FILE
 * Exit: 0 when every failure is listed by name, 1 otherwise, 77 (skip) without the data. */
#include "common/arena.h"
#include "common/diag.h"
#include "common/strbuf.h"
#include "workflow/model.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int cmp_name(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool known(const char *known_text, const char *name) {
    size_t n = strlen(name);
    for (const char *p = known_text; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
        if (!strncmp(p, name, n) && (p[n] == ' ' || p[n] == '\t'))
            return true;
    return false;
}

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: actionlint_ok OK_DIR KNOWN_FAILURES\n");
        return 2;
    }
    DIR *dir = opendir(argv[1]);
    if (!dir) {
        printf("SKIP: conformance data not found at %s (set RUNNEL_SHARED)\n", argv[1]);
        return 77;
    }
    char *known_text = rn_read_file(argv[2], NULL);
    char **names = NULL;
    size_t n_names = 0;
    struct dirent *de;
    while ((de = readdir(dir))) {
        size_t l = strlen(de->d_name);
        if (l > 5 && !strcmp(de->d_name + l - 5, ".yaml")) {
            names = rn_xrealloc(names, (n_names + 1) * sizeof *names);
            names[n_names++] = rn_xstrdup(de->d_name);
        }
    }
    closedir(dir);
    qsort(names, n_names, sizeof *names, cmp_name);
    int passed = 0, failed = 0, unlisted = 0;
    for (size_t f = 0; f < n_names; f++) {
        char *path = rn_xprintf("%s/%s", argv[1], names[f]);
        size_t len;
        char *text = rn_read_file(path, &len);
        if (!text) {
            free(path);
            continue;
        }
        rn_arena a;
        rn_arena_init(&a);
        rn_diags d = RN_DIAGS_INIT;
        rn_workflow_parse(&a, path, text, len, &d);
        rn_diags_sort(&d);
        if (!d.count) {
            passed++;
        } else {
            failed++;
            bool listed = known_text && known(known_text, names[f]);
            unlisted += !listed;
            printf("FAIL %s%s\n", names[f], listed ? " (known)" : " (NOT LISTED)");
            for (size_t i = 0; i < d.count; i++) {
                char *m = rn_diag_format_cli(&d.items[i]);
                printf("    %s\n", m);
                free(m);
            }
        }
        rn_diags_free(&d);
        rn_arena_free(&a);
        free(text);
        free(path);
    }
    printf("actionlint ok: %d passed, %d failed (of %zu files); not listed: %d\n", passed, failed,
           n_names, unlisted);
    for (size_t i = 0; i < n_names; i++)
        free(names[i]);
    free(names);
    free(known_text);
    return unlisted ? 1 : 0;
}
