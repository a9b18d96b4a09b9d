/* The job graph of a workflow: `needs` resolution, GitHub's cycle / unknown-need errors,
 * a run order stable with respect to file order, stages, and a scheduler state that says
 * which jobs may start now (a true DAG, not stage barriers) and which are skipped.
 *
 * Input is plain data (ids and needs with positions), independent of the workflow model.
 *
 * Ownership: rn_graph_build() copies what it needs from the input; the caller frees the
 * result with rn_graph_free(). rn_sched_new() borrows the graph (it must outlive the
 * scheduler) and is freed with rn_sched_free(). */
#ifndef RN_GRAPH_H
#define RN_GRAPH_H

#include "common/diag.h"
#include "workflow/matrix.h"

#include <stdbool.h>
#include <stddef.h>

typedef struct rn_graph_need {
    const char *id; /* as written; matched to job ids case-insensitively */
    int line, col;  /* position of this `needs` entry, for diagnostics */
} rn_graph_need;

typedef struct rn_graph_node {
    const char *id;
    const rn_graph_need *needs;
    size_t n_needs;
} rn_graph_node;

typedef struct rn_graph_src {
    const char *file;
    int jobs_line, jobs_col; /* the `jobs:` mapping, for "at least one job with no dependencies" */
} rn_graph_src;

typedef struct rn_graph rn_graph;

/* Builds the graph of `nodes` (in file order). On a bad graph returns NULL and adds GitHub's
 * diagnostics: "The workflow must contain at least one job with no dependencies.",
 * "Job 'a' depends on unknown job 'b'.", "Job 'a' depends on job 'b' which creates a cycle in
 * the dependency graph." (one per unsatisfiable `needs` entry, at its position). */
rn_graph *rn_graph_build(const rn_graph_node *nodes, size_t n, const rn_graph_src *src,
                         rn_diags *diags);
void rn_graph_free(rn_graph *g);

size_t rn_graph_count(const rn_graph *g);
const char *rn_graph_id(const rn_graph *g, size_t job); /* borrowed */
/* Run order: every job after all of its needs; among jobs that could go next, the earliest
 * in the file goes first. Array of rn_graph_count() job indices, borrowed. */
const size_t *rn_graph_order(const rn_graph *g);
/* Stage of a job: 0 without needs, else 1 + the highest stage among its needs. */
size_t rn_graph_stage(const rn_graph *g, size_t job);
size_t rn_graph_stage_count(const rn_graph *g);
/* Direct needs as job indices, duplicates removed, in `needs` order. Borrowed. */
const size_t *rn_graph_needs(const rn_graph *g, size_t job, size_t *n);

/* ---- Scheduling ---- */

typedef enum rn_job_result {
    RN_JOB_PENDING = 0, /* not started */
    RN_JOB_RUNNING,
    RN_JOB_SUCCESS,
    RN_JOB_FAILURE,
    RN_JOB_CANCELLED,
    RN_JOB_SKIPPED,
} rn_job_result;

const char *rn_job_result_name(rn_job_result r); /* "success", "failure", ... */

typedef struct rn_sched rn_sched;

/* `uses_status_fn[i]` says whether job i's `if:` calls success()/failure()/cancelled()/
 * always() itself (rn_expr_calls_status_function). Without one GitHub wraps the condition
 * as `success() && (...)`, so the job is skipped as soon as any ancestor did not succeed.
 * May be NULL (no job uses one). The array is copied. */
rn_sched *rn_sched_new(const rn_graph *g, const bool *uses_status_fn);
void rn_sched_free(rn_sched *s);

/* Advances the state. Jobs that can no longer run (an ancestor did not succeed and the job
 * has no status function) are marked skipped and written to `skipped`; jobs whose needs
 * have all finished and that are not skipped are written to `ready` (file order) and marked
 * running: the caller now evaluates their `if:` (reporting RN_JOB_SKIPPED when false) and
 * runs them. Each array needs room for rn_graph_count() entries; either may be NULL when
 * the caller ignores it. Returns the number of ready jobs. Skips cascade in one call. */
size_t rn_sched_step(rn_sched *s, size_t *ready, size_t *skipped, size_t *n_skipped);
/* Records the result of a running job. */
void rn_sched_finish(rn_sched *s, size_t job, rn_job_result result);
rn_job_result rn_sched_result(const rn_sched *s, size_t job);
/* True when no job is pending or running. */
bool rn_sched_done(const rn_sched *s);

/* Status of the ancestors of a job (transitive needs), for its job-level status functions:
 * success() = all_success, failure() = any_failure, cancelled() is the run's own state. */
typedef struct rn_ancestry {
    bool all_success; /* every ancestor finished with success (true when there are none) */
    bool any_failure;
    bool any_cancelled;
} rn_ancestry;
rn_ancestry rn_sched_ancestry(const rn_sched *s, size_t job);

/* ---- From a parsed workflow (workflow/model.h) ---- */
struct rn_workflow;

/* The graph of wf's jobs in document order (job i is wf->jobs[i]); NULL with GitHub's
 * diagnostics at the `needs` entries when the graph is bad. */
rn_graph *rn_graph_from_workflow(const struct rn_workflow *wf, rn_diags *diags);
/* True when `event` is one of the workflow's `on:` events (filters are not applied). */
bool rn_workflow_triggered_by(const struct rn_workflow *wf, const char *event);

/* What a run of a workflow looks like before it starts: its graph and each job's matrix legs
 * (expanded when the matrix is a literal). Owns graph and legs; rn_wf_plan_free(). */
typedef struct rn_job_plan {
    int matrix_kind; /* rn_matrix_kind (workflow/matrix.h) */
    rn_matrix legs;  /* RN_MATRIX_LITERAL only */
} rn_job_plan;

typedef struct rn_wf_plan {
    const struct rn_workflow *wf; /* borrowed */
    rn_graph *graph;
    rn_job_plan *jobs; /* indexed like wf->jobs */
} rn_wf_plan;

/* Builds the graph and expands literal matrices. Returns false when diagnostics were added
 * (the plan is then freed and empty). */
bool rn_wf_plan_build(const struct rn_workflow *wf, rn_wf_plan *out, rn_diags *diags);
void rn_wf_plan_free(rn_wf_plan *p);
/* Display name of a job or of one of its legs (leg may be NULL, or one of the job's legs):
 * the job's literal `name:` or its id, plus GitHub's matrix suffix. A `name:` with ${{ }} gets
 * no suffix (as on GitHub); it is evaluated when it reads only `matrix` and `strategy`, and
 * returned as written otherwise (the runner evaluates it at run time). Caller frees. */
char *rn_wf_plan_display_name(const rn_wf_plan *p, size_t job, const rn_matrix_leg *leg);

#endif
