/* Job graph. Validation follows GitHub's workflow parser (ConvertToJobs in actions/runner's
 * src/Sdk/WorkflowParser/Conversion/WorkflowTemplateConverter.cs), re-derived: a queue of
 * jobs without needs releases the needs entries naming them; whatever stays unsatisfied is
 * reported per entry, as a cycle when the named job exists and as unknown otherwise. */
#include "workflow/graph.h"

#include "common/arena.h"
#include "workflow/expr.h"
#include "workflow/model.h"

#include <stdlib.h>
#include <string.h>

struct rn_graph {
    size_t n;
    char **ids;
    size_t **needs; /* resolved, deduplicated */
    size_t *n_needs;
    size_t *order;
    size_t *stage;
    size_t n_stages;
};

static void place_in_order(rn_graph *g);

/* Job ids sorted case-insensitively (ties in file order), so each need resolves in log n:
 * a 500-job workflow has ~1000 needs entries. */
typedef struct id_index {
    const rn_graph_node *nodes;
    size_t *sorted;
    size_t n;
} id_index;

static int cmp_ids(const void *a, const void *b, void *ud) {
    const rn_graph_node *nodes = ud;
    size_t x = *(const size_t *)a, y = *(const size_t *)b;
    int c = rn_str_icmp(nodes[x].id, nodes[y].id);
    return c ? c : (x > y) - (x < y);
}

static void index_init(id_index *ix, const rn_graph_node *nodes, size_t n) {
    ix->nodes = nodes;
    ix->n = n;
    ix->sorted = rn_xcalloc(n ? n : 1, sizeof *ix->sorted);
    for (size_t i = 0; i < n; i++)
        ix->sorted[i] = i;
    qsort_r(ix->sorted, n, sizeof *ix->sorted, cmp_ids, (void *)nodes);
}

/* First job (in file order) whose id equals `id` ignoring case, or -1. */
static long index_find(const id_index *ix, const char *id) {
    size_t lo = 0, hi = ix->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (rn_str_icmp(ix->nodes[ix->sorted[mid]].id, id) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo < ix->n && !rn_str_icmp(ix->nodes[ix->sorted[lo]].id, id))
        return (long)ix->sorted[lo];
    return -1;
}

/* GitHub's check, kept in its shape so the reported entries match exactly: a queue of jobs
 * whose needs are all met releases every entry naming it; what stays unmet is reported. */
static bool validate(const rn_graph_node *nodes, size_t n, long **resolved, const rn_graph_src *src,
                     rn_diags *diags) {
    const char *file = src ? src->file : NULL;
    size_t alloc_n = n ? n : 1;
    /* remaining[i][k]: needs entry k of job i still unsatisfied */
    bool **remaining = rn_xcalloc(alloc_n, sizeof *remaining);
    size_t *left = rn_xcalloc(alloc_n, sizeof *left);
    size_t *queue = rn_xcalloc(alloc_n, sizeof *queue);
    /* dependents of job r: the (job, entry) pairs naming it, flattened per r */
    size_t *dep_start = rn_xcalloc(n + 1, sizeof *dep_start);
    size_t total = 0;
    for (size_t i = 0; i < n; i++)
        for (size_t k = 0; k < nodes[i].n_needs; k++)
            if (resolved[i][k] >= 0) {
                dep_start[resolved[i][k] + 1]++;
                total++;
            }
    for (size_t r = 0; r < n; r++)
        dep_start[r + 1] += dep_start[r];
    size_t *fill = rn_xcalloc(alloc_n, sizeof *fill);
    size_t(*deps)[2] = rn_xcalloc(total ? total : 1, sizeof *deps);
    for (size_t i = 0; i < n; i++)
        for (size_t k = 0; k < nodes[i].n_needs; k++) {
            long r = resolved[i][k];
            if (r < 0)
                continue;
            size_t at = dep_start[r] + fill[r]++;
            deps[at][0] = i;
            deps[at][1] = k;
        }
    size_t head = 0, tail = 0;
    for (size_t i = 0; i < n; i++) {
        remaining[i] = rn_xcalloc(nodes[i].n_needs ? nodes[i].n_needs : 1, sizeof **remaining);
        for (size_t k = 0; k < nodes[i].n_needs; k++)
            remaining[i][k] = true;
        left[i] = nodes[i].n_needs;
        if (left[i] == 0)
            queue[tail++] = i;
    }
    bool ok = true;
    if (n > 0 && tail == 0) {
        rn_diag_add(diags, file, src ? src->jobs_line : 0, src ? src->jobs_col : 0,
                    "The workflow must contain at least one job with no dependencies.");
        ok = false;
    }
    while (ok && head < tail) {
        size_t cur = queue[head++];
        for (size_t d = dep_start[cur]; d < dep_start[cur + 1]; d++) {
            size_t i = deps[d][0], k = deps[d][1];
            if (remaining[i][k]) {
                remaining[i][k] = false;
                if (--left[i] == 0)
                    queue[tail++] = i;
            }
        }
    }
    for (size_t i = 0; ok && i < n; i++) {
        if (left[i] == 0)
            continue;
        for (size_t k = 0; k < nodes[i].n_needs; k++) {
            if (!remaining[i][k])
                continue;
            const rn_graph_need *need = &nodes[i].needs[k];
            if (resolved[i][k] >= 0)
                rn_diag_add(diags, file, need->line, need->col,
                            "Job '%s' depends on job '%s' which creates a cycle in the "
                            "dependency graph.",
                            nodes[i].id, need->id);
            else
                rn_diag_add(diags, file, need->line, need->col,
                            "Job '%s' depends on unknown job '%s'.", nodes[i].id, need->id);
        }
    }
    bool any_left = false;
    for (size_t i = 0; i < n; i++) {
        any_left = any_left || left[i] > 0;
        free(remaining[i]);
    }
    free(remaining);
    free(left);
    free(queue);
    free(dep_start);
    free(fill);
    free(deps);
    return ok && !any_left;
}

rn_graph *rn_graph_build(const rn_graph_node *nodes, size_t n, const rn_graph_src *src,
                         rn_diags *diags) {
    size_t alloc_n = n ? n : 1;
    id_index ix;
    index_init(&ix, nodes, n);
    long **resolved = rn_xcalloc(alloc_n, sizeof *resolved);
    for (size_t i = 0; i < n; i++) {
        resolved[i] = rn_xcalloc(nodes[i].n_needs ? nodes[i].n_needs : 1, sizeof **resolved);
        for (size_t k = 0; k < nodes[i].n_needs; k++)
            resolved[i][k] = index_find(&ix, nodes[i].needs[k].id);
    }
    free(ix.sorted);
    rn_graph *g = NULL;
    if (validate(nodes, n, resolved, src, diags)) {
        g = rn_xcalloc(1, sizeof *g);
        g->n = n;
        g->ids = rn_xcalloc(alloc_n, sizeof *g->ids);
        g->needs = rn_xcalloc(alloc_n, sizeof *g->needs);
        g->n_needs = rn_xcalloc(alloc_n, sizeof *g->n_needs);
        g->order = rn_xcalloc(alloc_n, sizeof *g->order);
        g->stage = rn_xcalloc(alloc_n, sizeof *g->stage);
        for (size_t i = 0; i < n; i++) {
            g->ids[i] = rn_xstrdup(nodes[i].id);
            g->needs[i] = rn_xcalloc(nodes[i].n_needs ? nodes[i].n_needs : 1, sizeof **g->needs);
            for (size_t k = 0; k < nodes[i].n_needs; k++) {
                size_t j = (size_t)resolved[i][k]; /* validated: all known */
                bool dup = false;
                for (size_t m = 0; m < g->n_needs[i]; m++)
                    dup = dup || g->needs[i][m] == j;
                if (!dup)
                    g->needs[i][g->n_needs[i]++] = j;
            }
        }
        place_in_order(g);
    }
    for (size_t i = 0; i < n; i++)
        free(resolved[i]);
    free(resolved);
    return g;
}

static void place_in_order(rn_graph *g) {
    size_t n = g->n;
    size_t alloc_n = n ? n : 1;
    /* Stable topological order: always take the earliest job whose needs are placed. */
    bool *placed = rn_xcalloc(alloc_n, sizeof *placed);
    for (size_t pos = 0; pos < n; pos++) {
        for (size_t i = 0; i < n; i++) {
            if (placed[i])
                continue;
            bool ready = true;
            size_t stage = 0;
            for (size_t m = 0; m < g->n_needs[i] && ready; m++) {
                size_t j = g->needs[i][m];
                ready = placed[j];
                if (ready && g->stage[j] + 1 > stage)
                    stage = g->stage[j] + 1;
            }
            if (!ready)
                continue;
            placed[i] = true;
            g->stage[i] = stage;
            g->order[pos] = i;
            if (stage + 1 > g->n_stages)
                g->n_stages = stage + 1;
            break;
        }
    }
    free(placed);
}

void rn_graph_free(rn_graph *g) {
    if (!g)
        return;
    for (size_t i = 0; i < g->n; i++) {
        free(g->ids[i]);
        free(g->needs[i]);
    }
    free(g->ids);
    free(g->needs);
    free(g->n_needs);
    free(g->order);
    free(g->stage);
    free(g);
}

size_t rn_graph_count(const rn_graph *g) {
    return g->n;
}

const char *rn_graph_id(const rn_graph *g, size_t job) {
    return g->ids[job];
}

const size_t *rn_graph_order(const rn_graph *g) {
    return g->order;
}

size_t rn_graph_stage(const rn_graph *g, size_t job) {
    return g->stage[job];
}

size_t rn_graph_stage_count(const rn_graph *g) {
    return g->n_stages;
}

const size_t *rn_graph_needs(const rn_graph *g, size_t job, size_t *n) {
    *n = g->n_needs[job];
    return g->needs[job];
}

/* ---- Scheduling ---- */

struct rn_sched {
    const rn_graph *g;
    bool *status_fn;
    rn_job_result *result;
    bool *seen; /* scratch for ancestry walks */
    size_t *stack;
};

const char *rn_job_result_name(rn_job_result r) {
    switch (r) {
    case RN_JOB_PENDING:
        return "pending";
    case RN_JOB_RUNNING:
        return "running";
    case RN_JOB_SUCCESS:
        return "success";
    case RN_JOB_FAILURE:
        return "failure";
    case RN_JOB_CANCELLED:
        return "cancelled";
    case RN_JOB_SKIPPED:
        return "skipped";
    }
    return "unknown";
}

rn_sched *rn_sched_new(const rn_graph *g, const bool *uses_status_fn) {
    rn_sched *s = rn_xcalloc(1, sizeof *s);
    size_t n = g->n ? g->n : 1;
    s->g = g;
    s->status_fn = rn_xcalloc(n, sizeof *s->status_fn);
    if (uses_status_fn)
        memcpy(s->status_fn, uses_status_fn, g->n * sizeof *s->status_fn);
    s->result = rn_xcalloc(n, sizeof *s->result);
    s->seen = rn_xcalloc(n, sizeof *s->seen);
    s->stack = rn_xcalloc(n, sizeof *s->stack);
    return s;
}

void rn_sched_free(rn_sched *s) {
    if (!s)
        return;
    free(s->status_fn);
    free(s->result);
    free(s->seen);
    free(s->stack);
    free(s);
}

static bool finished(rn_job_result r) {
    return r >= RN_JOB_SUCCESS;
}

rn_ancestry rn_sched_ancestry(const rn_sched *s, size_t job) {
    /* GitHub's job-level status functions look at every ancestor, not only direct needs
     * (actions/runner#2205: a skipped grandparent skips a default-`if` grandchild). */
    rn_ancestry a = {true, false, false};
    const rn_graph *g = s->g;
    memset(s->seen, 0, g->n * sizeof *s->seen);
    size_t top = 0;
    for (size_t m = 0; m < g->n_needs[job]; m++) {
        size_t j = g->needs[job][m];
        if (!s->seen[j]) {
            s->seen[j] = true;
            s->stack[top++] = j;
        }
    }
    while (top > 0) {
        size_t j = s->stack[--top];
        rn_job_result r = s->result[j];
        if (r != RN_JOB_SUCCESS)
            a.all_success = false;
        if (r == RN_JOB_FAILURE)
            a.any_failure = true;
        if (r == RN_JOB_CANCELLED)
            a.any_cancelled = true;
        for (size_t m = 0; m < g->n_needs[j]; m++) {
            size_t k = g->needs[j][m];
            if (!s->seen[k]) {
                s->seen[k] = true;
                s->stack[top++] = k;
            }
        }
    }
    return a;
}

size_t rn_sched_step(rn_sched *s, size_t *ready, size_t *skipped, size_t *n_skipped) {
    const rn_graph *g = s->g;
    size_t n_ready = 0, n_skip = 0;
    bool changed = true;
    while (changed) {
        changed = false;
        for (size_t i = 0; i < g->n; i++) {
            if (s->result[i] != RN_JOB_PENDING)
                continue;
            bool needs_done = true;
            for (size_t m = 0; m < g->n_needs[i] && needs_done; m++)
                needs_done = finished(s->result[g->needs[i][m]]);
            if (!needs_done)
                continue;
            if (!s->status_fn[i] && !rn_sched_ancestry(s, i).all_success) {
                s->result[i] = RN_JOB_SKIPPED;
                if (skipped)
                    skipped[n_skip] = i;
                n_skip++;
                changed = true; /* may release jobs earlier in the file */
            } else {
                s->result[i] = RN_JOB_RUNNING;
                if (ready)
                    ready[n_ready] = i;
                n_ready++;
            }
        }
    }
    if (n_skipped)
        *n_skipped = n_skip;
    /* Ready jobs in file order even when a cascade released an earlier one late. */
    if (ready)
        for (size_t i = 1; i < n_ready; i++)
            for (size_t k = i; k > 0 && ready[k - 1] > ready[k]; k--) {
                size_t t = ready[k];
                ready[k] = ready[k - 1];
                ready[k - 1] = t;
            }
    return n_ready;
}

void rn_sched_finish(rn_sched *s, size_t job, rn_job_result result) {
    s->result[job] = result;
}

rn_job_result rn_sched_result(const rn_sched *s, size_t job) {
    return s->result[job];
}

bool rn_sched_done(const rn_sched *s) {
    for (size_t i = 0; i < s->g->n; i++)
        if (!finished(s->result[i]))
            return false;
    return true;
}

/* ---- From a parsed workflow ---- */

rn_graph *rn_graph_from_workflow(const rn_workflow *wf, rn_diags *diags) {
    size_t n = wf->n_jobs;
    rn_graph_node *nodes = rn_xcalloc(n ? n : 1, sizeof *nodes);
    rn_graph_need **needs = rn_xcalloc(n ? n : 1, sizeof *needs);
    for (size_t i = 0; i < n; i++) {
        const rn_wf_job *job = &wf->jobs[i];
        needs[i] = rn_xcalloc(job->needs.n ? job->needs.n : 1, sizeof **needs);
        for (size_t k = 0; k < job->needs.n; k++) {
            needs[i][k].id = job->needs.items[k].s ? job->needs.items[k].s : "";
            needs[i][k].line = job->needs.items[k].line;
            needs[i][k].col = job->needs.items[k].col;
        }
        nodes[i].id = job->id.s ? job->id.s : "";
        nodes[i].needs = needs[i];
        nodes[i].n_needs = job->needs.n;
    }
    const rn_ynode *jobs = rn_yaml_get(wf->root, "jobs");
    rn_graph_src src = {wf->file, jobs ? jobs->line : 0, jobs ? jobs->col : 0};
    rn_graph *g = rn_graph_build(nodes, n, &src, diags);
    for (size_t i = 0; i < n; i++)
        free(needs[i]);
    free(needs);
    free(nodes);
    return g;
}

bool rn_workflow_triggered_by(const rn_workflow *wf, const char *event) {
    for (size_t i = 0; i < wf->n_events; i++)
        if (wf->events[i].name.s && !strcmp(wf->events[i].name.s, event))
            return true;
    return false;
}

bool rn_wf_plan_build(const rn_workflow *wf, rn_wf_plan *out, rn_diags *diags) {
    size_t before = diags->count;
    out->wf = wf;
    out->graph = rn_graph_from_workflow(wf, diags);
    out->jobs = rn_xcalloc(wf->n_jobs ? wf->n_jobs : 1, sizeof *out->jobs);
    for (size_t i = 0; i < wf->n_jobs; i++)
        out->jobs[i].matrix_kind =
            rn_matrix_from_yaml(wf->jobs[i].strategy.matrix, &out->jobs[i].legs, diags);
    if (diags->count == before)
        return true;
    rn_wf_plan_free(out);
    return false;
}

void rn_wf_plan_free(rn_wf_plan *p) {
    if (!p->jobs && !p->graph)
        return;
    for (size_t i = 0; p->wf && i < p->wf->n_jobs; i++)
        rn_matrix_free(&p->jobs[i].legs);
    free(p->jobs);
    rn_graph_free(p->graph);
    p->jobs = NULL;
    p->graph = NULL;
}

/* A `name:` with ${{ }} that reads only `matrix` and `strategy` is known before the run:
 * evaluate it for the leg. Anything else (github, needs, ...) stays as written. */
static char *eval_name(const char *name, const rn_matrix *legs, const rn_matrix_leg *leg,
                       const rn_wf_job *j) {
    static const char *const known[] = {"matrix", "strategy"};
    const rn_expr_scope scope = {known, 2, NULL, 0};
    rn_expr_error err;
    rn_tmpl *t = rn_tmpl_parse(name, &scope, &err);
    if (!t)
        return NULL;
    size_t index = leg && legs->count ? (size_t)(leg - legs->legs) : 0;
    size_t total = leg && legs->count ? legs->count : 1;
    /* fail-fast / max-parallel as GitHub fills them when they are literals */
    const rn_ynode *ff = j->strategy.fail_fast, *mp = j->strategy.max_parallel;
    bool fail_fast = !(ff && ff->kind == RN_Y_SCALAR && ff->type == RN_YS_BOOL && !ff->boolean);
    double max_parallel =
        mp && mp->kind == RN_Y_SCALAR && mp->type == RN_YS_NUMBER && mp->number > 0 ? mp->number
                                                                                    : (double)total;
    json_t *ctx = json_pack("{s:O,s:{s:b,s:f,s:f,s:f}}", "matrix", leg ? leg->values : json_null(),
                            "strategy", "fail-fast", fail_fast, "job-index", (double)index,
                            "job-total", (double)total, "max-parallel", max_parallel);
    rn_expr_eval_ctx ec = {ctx, NULL, NULL, 0};
    json_t *v = rn_tmpl_eval(t, &ec, &err);
    char *out = v ? rn_value_to_string(v) : NULL;
    json_decref(v);
    json_decref(ctx);
    rn_tmpl_free(t);
    return out;
}

char *rn_wf_plan_display_name(const rn_wf_plan *p, size_t job, const rn_matrix_leg *leg) {
    const rn_wf_job *j = &p->wf->jobs[job];
    const char *name = j->name.s && *j->name.s ? j->name.s : j->id.s;
    if (strstr(name, "${{")) {
        /* GitHub appends no matrix values to a name that holds an expression */
        char *evaluated = eval_name(name, &p->jobs[job].legs, leg, j);
        return evaluated ? evaluated : rn_xstrdup(name);
    }
    return rn_matrix_job_name(name, leg);
}
