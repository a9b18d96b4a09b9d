/* runnel graph [--dot] [FILE|DIR] [EVENT]: the job graph, as text stages or Graphviz dot. */
#include "common/arena.h"
#include "runner/commands.h"
#include "workflow/graph.h"
#include "workflow/matrix.h"
#include "workflow/model.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const graph_usage =
    "usage: runnel graph [--dot] [FILE|DIR] [EVENT]\n"
    "\n"
    "Draws the job graph of the workflows EVENT (default push) triggers in FILE or DIR (default\n"
    ".github/workflows): stages in run order with each job's needs, or Graphviz dot with --dot.\n";

/* "6 jobs", "matrix from needs", ...; NULL for a plain job. Static storage. */
static const char *matrix_note(const rn_job_plan *jp, char *buf, size_t size) {
    switch (jp->matrix_kind) {
    case RN_MATRIX_LITERAL:
        snprintf(buf, size, "%zu job%s", jp->legs.count, jp->legs.count == 1 ? "" : "s");
        return buf;
    case RN_MATRIX_FROM_NEEDS:
        return "matrix from needs";
    case RN_MATRIX_DYNAMIC:
        return "matrix at run time";
    default:
        return NULL;
    }
}

static void print_text(const rn_wf_plan *plan, const char *file, const char *event) {
    const rn_workflow *wf = plan->wf;
    const rn_graph *g = plan->graph;
    /* an unnamed workflow is called by its path, as GitHub does */
    if (wf->name.s && *wf->name.s)
        printf("%s (%s) on %s\n", wf->name.s, file, event);
    else
        printf("%s on %s\n", file, event);
    const size_t *order = rn_graph_order(g);
    for (size_t stage = 0; stage < rn_graph_stage_count(g); stage++) {
        printf("stage %zu\n", stage + 1);
        for (size_t k = 0; k < rn_graph_count(g); k++) {
            size_t j = order[k];
            if (rn_graph_stage(g, j) != stage)
                continue;
            char buf[64];
            const char *note = matrix_note(&plan->jobs[j], buf, sizeof buf);
            printf("  %s", rn_graph_id(g, j));
            if (note)
                printf(" [%s]", note);
            size_t n;
            const size_t *needs = rn_graph_needs(g, j, &n);
            for (size_t m = 0; m < n; m++)
                printf("%s%s", m ? ", " : " <- ", rn_graph_id(g, needs[m]));
            putchar('\n');
        }
    }
}

static void dot_chars(const char *s) {
    for (; *s; s++) {
        if (*s == '"' || *s == '\\')
            putchar('\\');
        putchar(*s);
    }
}

static void dot_string(const char *s) {
    putchar('"');
    dot_chars(s);
    putchar('"');
}

static void print_dot(const rn_wf_plan *plan, const char *file) {
    const rn_workflow *wf = plan->wf;
    const rn_graph *g = plan->graph;
    printf("digraph ");
    dot_string(wf->name.s && *wf->name.s ? wf->name.s : file);
    printf(" {\n  rankdir=LR;\n  node [shape=box];\n");
    const size_t *order = rn_graph_order(g);
    for (size_t k = 0; k < rn_graph_count(g); k++) {
        size_t j = order[k];
        char buf[64];
        const char *note = matrix_note(&plan->jobs[j], buf, sizeof buf);
        printf("  ");
        dot_string(rn_graph_id(g, j));
        if (note) {
            /* \n is dot's line break inside a quoted label */
            printf(" [label=\"");
            dot_chars(rn_graph_id(g, j));
            printf("\\n");
            dot_chars(note);
            printf("\"]");
        }
        printf(";\n");
    }
    for (size_t k = 0; k < rn_graph_count(g); k++) {
        size_t j = order[k];
        size_t n;
        const size_t *needs = rn_graph_needs(g, j, &n);
        for (size_t m = 0; m < n; m++) {
            printf("  ");
            dot_string(rn_graph_id(g, needs[m]));
            printf(" -> ");
            dot_string(rn_graph_id(g, j));
            printf(";\n");
        }
    }
    printf("}\n");
}

static void graph_one(void *ud, const rn_wf_plan *plan, const char *file, const char *event,
                      bool first) {
    bool dot = *(bool *)ud;
    if (!first)
        putchar('\n');
    if (dot)
        print_dot(plan, file);
    else
        print_text(plan, file, event);
}

int rn_cmd_graph(int argc, char **argv) {
    bool dot = false;
    char **args = rn_xcalloc((size_t)argc + 1, sizeof *args);
    int n = 0;
    for (int i = 0; i < argc; i++) {
        if (i > 0 && (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help"))) {
            fputs(graph_usage, stdout);
            free(args);
            return 0;
        }
        if (i > 0 && !strcmp(argv[i], "--dot"))
            dot = true;
        else
            args[n++] = argv[i];
    }
    int rc = rn_each_triggered_workflow("graph", n, args, 1, graph_one, &dot);
    free(args);
    return rc;
}
