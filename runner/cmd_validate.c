/* runnel validate: load, schema-check and semantically check workflow files, following called
 * reusable workflows (local ./ paths and --local-repository checkouts). */
#include "actions/remote.h"
#include "common/arena.h"
#include "common/diag.h"
#include "common/strbuf.h"
#include "runner/commands.h"
#include "runner/run.h"
#include "workflow/model.h"
#include "workflow/validate.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static void usage(FILE *out) {
    fprintf(out, "usage: runnel validate [--local-repository OWNER/REPO@REF=DIR]... FILE...\n"
                 "Checks workflow files; prints every error as FILE:LINE:COL: message.\n"
                 "Exit status: 0 valid, 1 errors found, 2 usage error or unreadable file.\n");
}

int rn_cmd_validate(int argc, char **argv) {
    /* called workflows: ./ from the caller's repository, --local-repository folders; no
     * fetching (runner/run_reusable.c, shared with runnel run) */
    rn_reusable_src r = {rn_remote_new(), false, NULL};
    const char **files = rn_xcalloc((size_t)argc + 1, sizeof *files);
    size_t n_files = 0;
    int status = 0;
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        if (!strcmp(arg, "-h") || !strcmp(arg, "--help")) {
            usage(stdout);
            status = -1;
            goto done;
        }
        if (!strcmp(arg, "--local-repository") || !strncmp(arg, "--local-repository=", 19)) {
            const char *val = arg[18] == '=' ? arg + 19 : (i + 1 < argc ? argv[++i] : NULL);
            const char *eq = val ? strchr(val, '=') : NULL;
            const char *at = val ? strchr(val, '@') : NULL;
            if (!val || !eq || !at || at > eq || !eq[1]) {
                fprintf(stderr,
                        "runnel validate: --local-repository needs OWNER/REPO@REF=DIR, got '%s'\n",
                        val ? val : "");
                status = 2;
                goto done;
            }
            char *lerr = NULL;
            if (!rn_remote_add_local(r.remote, val, &lerr)) {
                fprintf(stderr, "runnel validate: %s\n", lerr);
                free(lerr);
                status = 2;
                goto done;
            }
            continue;
        }
        if (arg[0] == '-' && arg[1]) {
            fprintf(stderr, "runnel validate: unknown option '%s'\n", arg);
            usage(stderr);
            status = 2;
            goto done;
        }
        files[n_files++] = arg;
    }
    if (!n_files) {
        fprintf(stderr, "runnel validate: no workflow file given\n");
        usage(stderr);
        status = 2;
        goto done;
    }
    bool unreadable = false, invalid = false;
    for (size_t f = 0; f < n_files; f++) {
        size_t len;
        char *text = rn_read_file(files[f], &len);
        if (!text) {
            fprintf(stderr, "runnel validate: cannot read %s: %s\n", files[f], strerror(errno));
            unreadable = true;
            continue;
        }
        rn_arena a;
        rn_arena_init(&a);
        rn_diags d = RN_DIAGS_INIT;
        rn_workflow *wf = rn_workflow_parse(&a, files[f], text, len, &d);
        if (wf)
            rn_validate_calls(&a, wf, rn_reusable_resolve, &r, &d);
        rn_diags_sort(&d);
        rn_diags_print(&d, stderr);
        if (d.count)
            invalid = true;
        rn_diags_free(&d);
        rn_arena_free(&a);
        free(text);
    }
    status = unreadable ? 2 : invalid ? 1 : 0;
done:
    rn_remote_free(r.remote);
    free(files);
    return status < 0 ? 0 : status;
}
