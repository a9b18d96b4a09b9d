/* runnel coverage FILE... [--min N] [--counter C] [--element E]: the coverage gate on reports.
 * Exit 0 when the gate passes, 1 when it fails, 2 for usage errors and missing or malformed
 * reports (which never pass). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "actions/coverage.h"
#include "runner/commands.h"

static void usage(FILE *out) {
    fprintf(out,
            "usage: runnel coverage FILE... [--min PERCENT] [--counter LINE|BRANCH|INSTRUCTION]\n"
            "                       [--element BUNDLE|PACKAGE|CLASS|SOURCEFILE]\n"
            "Reads JaCoCo XML, Cobertura XML and LCOV reports (merged) and checks that every\n"
            "element's covered ratio of the counter is at least PERCENT (default: 70, LINE,\n"
            "BUNDLE). Exit 0 pass, 1 fail, 2 bad input.\n");
}

/* The value of --name VALUE or --name=VALUE at argv[*i], or NULL if argv[*i] is not it. */
static const char *option(int argc, char **argv, int *i, const char *name, int *missing) {
    size_t n = strlen(name);
    if (strncmp(argv[*i], name, n))
        return NULL;
    if (argv[*i][n] == '=')
        return argv[*i] + n + 1;
    if (argv[*i][n])
        return NULL;
    if (*i + 1 >= argc) {
        *missing = 1;
        return NULL;
    }
    return argv[++*i];
}

int rn_cmd_coverage(int argc, char **argv) {
    rn_cov_gate gate = RN_COV_GATE_DEFAULT;
    const char **files = calloc((size_t)argc, sizeof *files);
    int nfiles = 0, missing = 0;
    const char *v;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage(stdout);
            free(files);
            return 0;
        }
        if ((v = option(argc, argv, &i, "--min", &missing))) {
            if (rn_cov_parse_minimum(v, &gate.minimum_milli)) {
                fprintf(stderr, "runnel coverage: --min '%s' is not a percentage 0-100\n", v);
                goto usage_error;
            }
        } else if ((v = option(argc, argv, &i, "--counter", &missing))) {
            if (rn_cov_parse_counter(v, &gate.counter)) {
                fprintf(stderr, "runnel coverage: unknown --counter '%s'\n", v);
                goto usage_error;
            }
        } else if ((v = option(argc, argv, &i, "--element", &missing))) {
            if (rn_cov_parse_element(v, &gate.element)) {
                fprintf(stderr, "runnel coverage: unknown --element '%s'\n", v);
                goto usage_error;
            }
        } else if (missing) {
            fprintf(stderr, "runnel coverage: %s needs a value\n", a);
            goto usage_error;
        } else if (a[0] == '-' && a[1]) {
            fprintf(stderr, "runnel coverage: unknown option '%s'\n", a);
            goto usage_error;
        } else {
            files[nfiles++] = a;
        }
    }
    if (nfiles == 0) {
        fprintf(stderr, "runnel coverage: no report files given\n");
        goto usage_error;
    }

    rn_cov_data *d = rn_cov_new();
    rn_diags diags = RN_DIAGS_INIT;
    int rc = RN_COV_ERROR;
    for (int i = 0; i < nfiles; i++)
        rn_cov_add_file(d, files[i], &diags); /* every bad report is reported, not just one */
    if (diags.count == 0) {
        rn_sb out = RN_SB_INIT;
        rc = rn_cov_gate_eval(d, &gate, &out, &diags);
        fputs(rn_sb_str(&out), stdout);
        rn_sb_free(&out);
    }
    rn_diags_print(&diags, stderr);
    rn_diags_free(&diags);
    rn_cov_free(d);
    free(files);
    return diags.count || rc == RN_COV_ERROR ? 2 : rc;

usage_error:
    usage(stderr);
    free(files);
    return 2;
}
