/* runnel list [FILE|DIR] [EVENT]: the jobs an event triggers, matrix legs expanded, in run
 * order. Event filters (branches, paths, ...) are ignored: there is no ref to match. */
#include "common/arena.h"
#include "common/diag.h"
#include "common/strbuf.h"
#include "runner/commands.h"
#include "workflow/graph.h"
#include "workflow/matrix.h"
#include "workflow/model.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static const char *const list_usage =
    "usage: runnel list [FILE|DIR] [EVENT]\n"
    "\n"
    "Lists the jobs EVENT (default push) triggers in the workflow FILE or in every *.yml/*.yaml\n"
    "of DIR (default .github/workflows), in run order, with their needs and matrix legs.\n";

static int cmp_str(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool has_workflow_ext(const char *name) {
    size_t n = strlen(name);
    return (n > 4 && !strcmp(name + n - 4, ".yml")) || (n > 5 && !strcmp(name + n - 5, ".yaml"));
}

/* FILE, or DIR's workflow files sorted by name. Returns -1 after printing the error. */
static int collect(const char *cmd, const char *path, char ***out) {
    struct stat st;
    if (stat(path, &st) != 0) {
        fprintf(stderr, "runnel %s: cannot read %s: %s\n", cmd, path, strerror(errno));
        return -1;
    }
    char **files = NULL;
    int n = 0;
    if (!S_ISDIR(st.st_mode)) {
        files = rn_xmalloc(sizeof *files);
        files[n++] = rn_xstrdup(path);
        *out = files;
        return n;
    }
    DIR *dir = opendir(path);
    if (!dir) {
        fprintf(stderr, "runnel %s: cannot read %s: %s\n", cmd, path, strerror(errno));
        return -1;
    }
    size_t plen = strlen(path);
    while (plen > 1 && path[plen - 1] == '/')
        plen--;
    for (struct dirent *e; (e = readdir(dir));) {
        if (e->d_name[0] == '.' || !has_workflow_ext(e->d_name))
            continue;
        files = rn_xrealloc(files, (size_t)(n + 1) * sizeof *files);
        files[n++] = rn_xprintf("%.*s/%s", (int)plen, path, e->d_name);
    }
    closedir(dir);
    qsort(files, (size_t)n, sizeof *files, cmp_str);
    *out = files;
    return n;
}

typedef struct loaded {
    rn_arena arena;
    char *text;
    rn_workflow *wf;
    rn_wf_plan plan;
} loaded;

/* Parses and plans one file. Diagnostics go to `diags`; false when there were any. */
static bool load(const char *cmd, const char *file, loaded *l, rn_diags *diags) {
    memset(l, 0, sizeof *l);
    rn_arena_init(&l->arena);
    size_t len = 0;
    l->text = rn_read_file(file, &len);
    if (!l->text) {
        rn_diag_add(diags, NULL, 0, 0, "runnel %s: cannot read %s: %s", cmd, file, strerror(errno));
        return false;
    }
    size_t before = diags->count;
    l->wf = rn_workflow_parse(&l->arena, file, l->text, len, diags);
    if (!l->wf || diags->count != before)
        return false;
    return rn_wf_plan_build(l->wf, &l->plan, diags);
}

static void unload(loaded *l) {
    rn_wf_plan_free(&l->plan);
    rn_arena_free(&l->arena);
    free(l->text);
}

static void print_workflow(const rn_wf_plan *plan, const char *file, const char *event) {
    const rn_workflow *wf = plan->wf;
    const rn_graph *g = plan->graph;
    /* an unnamed workflow is called by its path, as GitHub does */
    if (wf->name.s && *wf->name.s)
        printf("%s (%s) on %s\n", wf->name.s, file, event);
    else
        printf("%s on %s\n", file, event);
    size_t width = 0;
    for (size_t i = 0; i < wf->n_jobs; i++)
        if (strlen(wf->jobs[i].id.s) > width)
            width = strlen(wf->jobs[i].id.s);
    const size_t *order = rn_graph_order(g);
    for (size_t k = 0; k < rn_graph_count(g); k++) {
        size_t j = order[k];
        const rn_wf_job *job = &wf->jobs[j];
        size_t n_needs;
        const size_t *needs = rn_graph_needs(g, j, &n_needs);
        if (n_needs == 0) {
            printf("  %s\n", job->id.s);
        } else {
            printf("  %-*s  needs: ", (int)width, job->id.s);
            for (size_t m = 0; m < n_needs; m++)
                printf("%s%s", m ? ", " : "", rn_graph_id(g, needs[m]));
            putchar('\n');
        }
        const rn_job_plan *jp = &plan->jobs[j];
        if (jp->matrix_kind == RN_MATRIX_LITERAL) {
            for (size_t i = 0; i < jp->legs.count; i++) {
                char *name = rn_wf_plan_display_name(plan, j, &jp->legs.legs[i]);
                printf("    - %s\n", name);
                free(name);
            }
        } else if (jp->matrix_kind == RN_MATRIX_FROM_NEEDS) {
            printf("    - (matrix from needs, expanded at run time)\n");
        } else if (jp->matrix_kind == RN_MATRIX_DYNAMIC) {
            printf("    - (matrix from expressions, expanded at run time)\n");
        } else {
            char *name = rn_wf_plan_display_name(plan, j, NULL);
            if (strcmp(name, job->id.s))
                printf("    - %s\n", name);
            free(name);
        }
    }
}

/* Splits [FILE|DIR] [EVENT]: a single argument that is no existing path is the event. */
static int parse_args(const char *cmd, int argc, char **argv, int first, const char **path,
                      const char **event) {
    *path = ".github/workflows";
    *event = "push";
    int n = argc - first;
    if (n > 2) {
        fprintf(stderr, "runnel %s: too many arguments\n", cmd);
        return 2;
    }
    for (int i = first; i < argc; i++) {
        if (argv[i][0] == '-') {
            fprintf(stderr, "runnel %s: unknown option '%s'\n", cmd, argv[i]);
            return 2;
        }
    }
    if (n == 2) {
        *path = argv[first];
        *event = argv[first + 1];
    } else if (n == 1) {
        struct stat st;
        bool looks_like_path = strchr(argv[first], '/') || has_workflow_ext(argv[first]);
        if (stat(argv[first], &st) == 0 || looks_like_path)
            *path = argv[first];
        else
            *event = argv[first];
    }
    return 0;
}

int rn_each_triggered_workflow(const char *cmd, int argc, char **argv, int first_arg,
                               rn_each_workflow_fn fn, void *ud) {
    const char *path, *event;
    int rc = parse_args(cmd, argc, argv, first_arg, &path, &event);
    if (rc)
        return rc;
    char **files;
    int n = collect(cmd, path, &files);
    if (n < 0)
        return 2;
    rn_diags diags = RN_DIAGS_INIT;
    loaded *all = rn_xcalloc((size_t)(n ? n : 1), sizeof *all);
    bool ok = true;
    for (int i = 0; i < n; i++)
        ok = load(cmd, files[i], &all[i], &diags) && ok;
    if (!ok) {
        rn_diags_sort(&diags);
        rn_diags_print(&diags, stderr);
        rc = 2;
    } else {
        bool first = true;
        for (int i = 0; i < n; i++) {
            if (!rn_workflow_triggered_by(all[i].wf, event))
                continue;
            fn(ud, &all[i].plan, files[i], event, first);
            first = false;
        }
        if (first)
            fprintf(stderr, "runnel %s: no workflow in %s runs on '%s'\n", cmd, path, event);
    }
    for (int i = 0; i < n; i++) {
        unload(&all[i]);
        free(files[i]);
    }
    free(all);
    free(files);
    rn_diags_free(&diags);
    return rc;
}

static void list_one(void *ud, const rn_wf_plan *plan, const char *file, const char *event,
                     bool first) {
    (void)ud;
    if (!first)
        putchar('\n');
    print_workflow(plan, file, event);
}

int rn_cmd_list(int argc, char **argv) {
    if (argc >= 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
        fputs(list_usage, stdout);
        return 0;
    }
    return rn_each_triggered_workflow("list", argc, argv, 1, list_one, NULL);
}
