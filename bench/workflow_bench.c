/* Workflow benchmark: parse + validate + plan (job graph, matrix expansion) + evaluate every
 * ${{ }} of a generated workflow with 500 jobs and a 256-leg matrix, against a baseline
 * measured in the same run: libyaml alone scanning the same text into events (the floor any
 * YAML-based reader pays). See bench/README.md.
 *
 * usage: workflow_bench [ROUNDS] [--write FILE]   (ROUNDS default 20) */
#include "common/arena.h"
#include "common/diag.h"
#include "common/strbuf.h"
#include "workflow/expr.h"
#include "workflow/graph.h"
#include "workflow/matrix.h"
#include "workflow/model.h"
#include "workflow/yaml.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <yaml.h>

#define N_JOBS 500

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* One matrix job (17 x 16 = 272 combinations, 16 excluded: 256 legs) and 499 jobs in a
 * needs chain that fans in, each with an if:, env and steps full of expressions. */
static char *generate(void) {
    rn_sb sb = RN_SB_INIT;
    rn_sb_puts(&sb, "name: Bench\n"
                    "on:\n  push:\n    branches: [main]\n  pull_request:\n"
                    "env:\n  GLOBAL: value\n"
                    "jobs:\n"
                    "  matrix:\n"
                    "    name: ${{ matrix.os }} node ${{ matrix.node }}\n"
                    "    runs-on: ${{ matrix.os }}\n"
                    "    strategy:\n      fail-fast: false\n      matrix:\n        os: [");
    for (int i = 0; i < 17; i++)
        rn_sb_printf(&sb, "%sos-%d", i ? ", " : "", i);
    rn_sb_puts(&sb, "]\n        node: [");
    for (int i = 0; i < 16; i++)
        rn_sb_printf(&sb, "%s%d", i ? ", " : "", 10 + i);
    rn_sb_puts(&sb, "]\n        exclude:\n          - os: os-16\n"
                    "        include:\n          - os: os-0\n            experimental: true\n"
                    "    steps:\n"
                    "      - uses: actions/checkout@v4\n"
                    "      - run: echo ${{ matrix.os }}-${{ matrix.node }}\n"
                    "        if: ${{ matrix.node != 13 }}\n");
    for (int i = 1; i < N_JOBS; i++) {
        rn_sb_printf(&sb, "  job-%d:\n", i);
        if (i == 1)
            rn_sb_puts(&sb, "    needs: matrix\n");
        else
            rn_sb_printf(&sb, "    needs: [job-%d, job-%d]\n", i - 1, i / 2 > 0 ? i / 2 : 1);
        rn_sb_printf(&sb,
                     "    if: github.event_name == 'push' && !contains(github.ref, 'skip-%d')\n"
                     "    runs-on: ubuntu-latest\n"
                     "    env:\n      N: ${{ github.run_number }}\n"
                     "    steps:\n"
                     "      - run: echo \"${{ github.sha }} %d\"\n"
                     "      - name: step ${{ env.N }}\n"
                     "        run: echo ${{ format('{0}-{1}', github.ref, %d) }}\n",
                     i, i, i);
    }
    return rn_sb_take(&sb);
}

static size_t libyaml_events(const char *text, size_t len) {
    yaml_parser_t p;
    yaml_event_t ev;
    size_t n = 0;
    yaml_parser_initialize(&p);
    yaml_parser_set_input_string(&p, (const unsigned char *)text, len);
    for (;;) {
        if (!yaml_parser_parse(&p, &ev)) {
            fprintf(stderr, "libyaml: %s\n", p.problem);
            exit(1);
        }
        int type = ev.type;
        yaml_event_delete(&ev);
        n++;
        if (type == YAML_STREAM_END_EVENT)
            break;
    }
    yaml_parser_delete(&p);
    return n;
}

static const char *const contexts[] = {"github", "env",    "matrix",  "needs", "strategy", "steps",
                                       "job",    "runner", "secrets", "vars",  "inputs"};
static const rn_expr_func funcs[] = {
    {"success", 0, 0}, {"failure", 0, 0},     {"cancelled", 0, 0},
    {"always", 0, 0},  {"hashFiles", 1, 255},
};
static const rn_expr_scope scope = {contexts, sizeof contexts / sizeof contexts[0], funcs,
                                    sizeof funcs / sizeof funcs[0]};

static json_t *call_status(void *ud, const char *name, json_t *const *args, size_t nargs,
                           rn_expr_error *err) {
    (void)ud;
    (void)args;
    (void)nargs;
    (void)err;
    return json_boolean(!rn_str_icmp(name, "success") || !rn_str_icmp(name, "always"));
}

typedef struct eval_state {
    rn_expr_eval_ctx ctx;
    size_t evaluated; /* expressions evaluated */
    size_t errors;
} eval_state;

/* Evaluates every ${{ }} template below `n` (keys and values). */
static void eval_tree(const rn_ynode *n, eval_state *st) {
    if (!n)
        return;
    if (n->kind == RN_Y_SCALAR) {
        if (n->type != RN_YS_STRING || !strstr(n->str, "${{"))
            return;
        rn_expr_error err;
        rn_tmpl *t = rn_tmpl_parse(n->str, &scope, &err);
        if (!t) {
            st->errors++;
            return;
        }
        json_t *v = rn_tmpl_eval(t, &st->ctx, &err);
        if (v)
            st->evaluated += rn_tmpl_expr_count(t);
        else
            st->errors++;
        json_decref(v);
        rn_tmpl_free(t);
        return;
    }
    for (size_t i = 0; i < n->n; i++) {
        if (n->kind == RN_Y_SEQ) {
            eval_tree(n->items[i], st);
        } else if (strcmp(rn_yaml_scalar_text(n->pairs[i].key), "strategy")) {
            eval_tree(n->pairs[i].value, st);
        }
    }
}

static void eval_if(const char *cond, eval_state *st) {
    rn_expr_error err;
    rn_expr *e = rn_expr_parse(cond, &scope, &err);
    json_t *v = e ? rn_expr_eval(e, &st->ctx, &err) : NULL;
    if (v)
        st->evaluated++;
    else
        st->errors++;
    json_decref(v);
    rn_expr_free(e);
}

/* The run-time part of a plan: every job's if: and templates, per matrix leg. */
static void evaluate(const rn_wf_plan *plan, eval_state *st) {
    const rn_workflow *wf = plan->wf;
    json_t *root = st->ctx.contexts;
    for (size_t j = 0; j < wf->n_jobs; j++) {
        const rn_job_plan *jp = &plan->jobs[j];
        size_t legs = jp->matrix_kind == RN_MATRIX_LITERAL ? jp->legs.count : 1;
        for (size_t l = 0; l < legs; l++) {
            json_object_set(root, "matrix",
                            jp->matrix_kind == RN_MATRIX_LITERAL ? jp->legs.legs[l].values
                                                                 : json_null());
            eval_if(wf->jobs[j].if_cond.s ? wf->jobs[j].if_cond.s : "success()", st);
            const rn_ynode *jobs = rn_yaml_get(wf->root, "jobs");
            eval_tree(rn_yaml_get(jobs, wf->jobs[j].id.s), st);
        }
    }
}

int main(int argc, char **argv) {
    int rounds = 20;
    const char *write_to = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--write") && i + 1 < argc)
            write_to = argv[++i];
        else
            rounds = atoi(argv[i]) > 0 ? atoi(argv[i]) : rounds;
    }
    char *text = generate();
    size_t len = strlen(text);
    if (write_to) {
        FILE *f = fopen(write_to, "w");
        if (!f || fwrite(text, 1, len, f) != len) {
            perror(write_to);
            return 1;
        }
        fclose(f);
    }

    /* Rounds interleave the baseline and runnel so both see the same machine load; each
     * phase reports its fastest round (the least disturbed one). */
    json_t *contexts = json_pack(
        "{s:{s:s,s:s,s:s,s:i},s:{s:s},s:{},s:{},s:{},s:{},s:{},s:{},s:{},s:{}}", "github",
        "event_name", "push", "ref", "refs/heads/main", "sha", "0123abc", "run_number", 42, "env",
        "N", "42", "needs", "strategy", "steps", "job", "runner", "secrets", "vars", "inputs");
    eval_state st = {{contexts, call_status, NULL, 0}, 0, 0};
    double base = 1e9, t_parse = 1e9, t_plan = 1e9, t_eval = 1e9, total = 1e9;
    size_t events = 0, legs = 0, jobs = 0;
    for (int r = 0; r < rounds; r++) {
        double t0 = now();
        events = libyaml_events(text, len);
        double t1 = now();
        rn_arena a;
        rn_arena_init(&a);
        rn_diags d = RN_DIAGS_INIT;
        rn_workflow *wf = rn_workflow_parse(&a, "bench.yml", text, len, &d);
        double t2 = now();
        rn_wf_plan plan;
        if (!wf || d.count || !rn_wf_plan_build(wf, &plan, &d)) {
            rn_diags_print(&d, stderr);
            return 1;
        }
        double t3 = now();
        st.evaluated = 0;
        evaluate(&plan, &st);
        double t4 = now();
        base = t1 - t0 < base ? t1 - t0 : base;
        t_parse = t2 - t1 < t_parse ? t2 - t1 : t_parse;
        t_plan = t3 - t2 < t_plan ? t3 - t2 : t_plan;
        t_eval = t4 - t3 < t_eval ? t4 - t3 : t_eval;
        total = t4 - t1 < total ? t4 - t1 : total;
        jobs = wf->n_jobs;
        legs = 0;
        for (size_t j = 0; j < wf->n_jobs; j++)
            legs += plan.jobs[j].matrix_kind == RN_MATRIX_LITERAL ? plan.jobs[j].legs.count : 1;
        rn_wf_plan_free(&plan);
        rn_diags_free(&d);
        rn_arena_free(&a);
    }
    json_decref(contexts);
    if (st.errors) {
        fprintf(stderr, "workflow_bench: %zu expression errors\n", st.errors);
        return 1;
    }
    printf("workflow: %zu bytes, %zu jobs, %zu job runs after matrix expansion, %d rounds (fastest "
           "round shown)\n",
           len, jobs, legs, rounds);
    printf("baseline  libyaml events only       %9.3f ms/workflow (%zu events)\n", base * 1e3,
           events);
    printf("runnel    parse + validate          %9.3f ms/workflow\n", t_parse * 1e3);
    printf("runnel    graph + matrix expansion  %9.3f ms/workflow\n", t_plan * 1e3);
    printf("runnel    evaluate expressions      %9.3f ms/workflow (%zu expressions, %.0f/s)\n",
           t_eval * 1e3, st.evaluated, (double)st.evaluated / t_eval);
    printf("runnel    total                     %9.3f ms/workflow\n", total * 1e3);
    printf("ratio     parse + validate / baseline = %.2fx, total / baseline = %.2fx\n",
           t_parse / base, total / base);
    free(text);
    return 0;
}
