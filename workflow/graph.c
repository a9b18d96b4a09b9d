/* Job graph. Validation follows GitHub's workflow parser (ConvertToJobs in actions/runner's
 * src/Sdk/WorkflowParser/Conversion/WorkflowTemplateConverter.cs), re-derived: a queue of
 * jobs without needs releases the needs entries naming them; whatever stays unsatisfied is
 * reported per entry, as a cycle when the named job exists and as unknown otherwise. */
#include "workflow/graph.h"

#include "common/arena.h"

#include <ctype.h>
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

static int id_icmp(const char *a, const char *b) {
    for (;; a++, b++) {
        int ca = toupper((unsigned char)*a), cb = toupper((unsigned char)*b);
        if (ca != cb || !ca)
            return ca - cb;
    }
}

static long find_job(const rn_graph_node *nodes, size_t n, const char *id) {
    for (size_t i = 0; i < n; i++)
        if (!id_icmp(nodes[i].id, id))
            return (long)i;
    return -1;
}

/* GitHub's check, kept in its shape so the reported entries match exactly. */
static bool validate(const rn_graph_node *nodes, size_t n, const rn_graph_src *src,
                     rn_diags *diags) {
    const char *file = src ? src->file : NULL;
    /* remaining[i][k]: needs entry k of job i still unsatisfied */
    bool **remaining = rn_xcalloc(n ? n : 1, sizeof *remaining);
    size_t *left = rn_xcalloc(n ? n : 1, sizeof *left);
    size_t *queue = rn_xcalloc(n ? n : 1, sizeof *queue);
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
        for (size_t i = 0; i < n; i++) {
            if (left[i] == 0)
                continue;
            for (size_t k = 0; k < nodes[i].n_needs; k++) {
                if (remaining[i][k] && !id_icmp(nodes[i].needs[k].id, nodes[cur].id)) {
                    remaining[i][k] = false;
                    if (--left[i] == 0)
                        queue[tail++] = i;
                }
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
            if (find_job(nodes, n, need->id) >= 0)
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
    return ok && !any_left;
}

rn_graph *rn_graph_build(const rn_graph_node *nodes, size_t n, const rn_graph_src *src,
                         rn_diags *diags) {
    if (!validate(nodes, n, src, diags))
        return NULL;
    rn_graph *g = rn_xcalloc(1, sizeof *g);
    size_t alloc_n = n ? n : 1;
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
            size_t j = (size_t)find_job(nodes, n, nodes[i].needs[k].id); /* validated */
            bool dup = false;
            for (size_t m = 0; m < g->n_needs[i]; m++)
                dup = dup || g->needs[i][m] == j;
            if (!dup)
                g->needs[i][g->n_needs[i]++] = j;
        }
    }
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
    return g;
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
