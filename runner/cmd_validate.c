/* runnel validate: load, schema-check and semantically check workflow files, following called
 * reusable workflows (local ./ paths and --local-repository checkouts). */
#include "common/arena.h"
#include "common/diag.h"
#include "common/strbuf.h"
#include "runner/commands.h"
#include "workflow/model.h"
#include "workflow/validate.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

typedef struct local_repo {
    char *spec; /* OWNER/REPO@REF */
    char *dir;
} local_repo;

typedef struct resolver {
    local_repo *repos;
    size_t n_repos;
} resolver;

static void usage(FILE *out) {
    fprintf(out, "usage: runnel validate [--local-repository OWNER/REPO@REF=DIR]... FILE...\n"
                 "Checks workflow files; prints every error as FILE:LINE:COL: message.\n"
                 "Exit status: 0 valid, 1 errors found, 2 usage error or unreadable file.\n");
}

static bool is_dir(const char *p) {
    struct stat st;
    return !stat(p, &st) && S_ISDIR(st.st_mode);
}

/* The repository root of a workflow file: the nearest ancestor folder holding .github. */
static char *repo_root(const char *file) {
    char *dir = rn_xstrdup(file);
    char *slash = strrchr(dir, '/');
    if (slash)
        *slash = 0;
    else
        strcpy(dir, ".");
    for (int i = 0; i < 64; i++) {
        char *probe = rn_xprintf("%s/.github", dir);
        bool found = is_dir(probe);
        free(probe);
        if (found)
            return dir;
        char *up = rn_xprintf("%s/..", dir);
        free(dir);
        dir = up;
    }
    free(dir);
    return NULL;
}

static int resolve(void *ud, const char *uses, const char *caller_file, char **text, size_t *len,
                   char **display) {
    resolver *r = ud;
    char *path = NULL;
    if (!strncmp(uses, "./", 2)) {
        char *root = repo_root(caller_file);
        if (!root) {
            *display = rn_xprintf("Cannot find the repository root (a folder holding .github) "
                                  "of '%s' to resolve '%s'",
                                  caller_file, uses);
            return -1;
        }
        path = !strcmp(root, ".") ? rn_xstrdup(uses + 2) : rn_xprintf("%s/%s", root, uses + 2);
        free(root);
    } else {
        /* owner/repo/path@ref: match OWNER/REPO@REF of a --local-repository */
        const char *at = strrchr(uses, '@');
        const char *s1 = strchr(uses, '/');
        const char *s2 = s1 ? strchr(s1 + 1, '/') : NULL;
        if (!at || !s2 || s2 > at)
            return 0;
        for (size_t i = 0; i < r->n_repos && !path; i++) {
            const char *spec = r->repos[i].spec;
            size_t repo_len = (size_t)(s2 - uses);
            if (!strncmp(spec, uses, repo_len) && spec[repo_len] == '@' &&
                !strcmp(spec + repo_len + 1, at + 1))
                path = rn_xprintf("%s/%.*s", r->repos[i].dir, (int)(at - s2 - 1), s2 + 1);
        }
        if (!path)
            return 0; /* remote: cannot be checked offline */
    }
    *text = rn_read_file(path, len);
    if (!*text) {
        *display = rn_xprintf("Unable to read the called workflow '%s' (%s): %s", uses, path,
                              strerror(errno));
        free(path);
        return -1;
    }
    *display = path;
    return 1;
}

int rn_cmd_validate(int argc, char **argv) {
    resolver r = {0};
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
            r.repos = rn_xrealloc(r.repos, (r.n_repos + 1) * sizeof *r.repos);
            r.repos[r.n_repos].spec = rn_xstrndup(val, (size_t)(eq - val));
            r.repos[r.n_repos].dir = rn_xstrdup(eq + 1);
            r.n_repos++;
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
            rn_validate_calls(&a, wf, resolve, &r, &d);
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
    for (size_t i = 0; i < r.n_repos; i++) {
        free(r.repos[i].spec);
        free(r.repos[i].dir);
    }
    free(r.repos);
    free(files);
    return status < 0 ? 0 : status;
}
