/* actionlint ok/ corpus: every workflow there must validate with zero errors.
 * usage: actionlint_ok OK_DIR KNOWN_FAILURES_FILE
 * Exit: 0 when every failure is listed by name, 1 otherwise, 77 (skip) without the data. */
#include "common/arena.h"
#include "common/diag.h"
#include "common/strbuf.h"
#include "tests/conformance/conformance_util.h"
#include "workflow/model.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: actionlint_ok OK_DIR KNOWN_FAILURES\n");
        return 2;
    }
    size_t n_names;
    char **names = rn_conf_files(argv[1], ".yaml", &n_names);
    if (!names) {
        printf("SKIP: conformance data not found at %s (set RUNNEL_SHARED)\n", argv[1]);
        return 77;
    }
    char *known_text = rn_read_file(argv[2], NULL);
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
            bool listed = known_text && rn_conf_known(known_text, names[f]);
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
