/* `runnel run`: internal interfaces between its parts.
 *   cmd_run.c    options, the run folder, contexts shared by every job, exit status
 *   run_plan.c   loading workflows, event (and on: filter) matching, -j selection, dry-run plan
 *   run_sched.c  the DAG scheduler (worker threads), matrix legs, fail-fast, max-parallel, and
 *                the job lifecycle (if:, runs-on, env, timeout, outputs)
 *   run_out.c    console / JSON / log output, always masked (common/output.h)
 *   run_reusable.c  reusable workflows: resolving and loading a called workflow, the call's
 *                inputs, secrets and outputs (shared with `runnel validate`)
 *
 * Ownership: an rn_run owns everything it points to (rn_run_free()); workflows (rn_run_wf) own
 * their arena, text and plan. Owner: runnel run engineer. */
#ifndef RN_RUNNER_RUN_H
#define RN_RUNNER_RUN_H

#include "actions/step.h"
#include "common/arena.h"
#include "common/diag.h"
#include "common/output.h"
#include "workflow/graph.h"
#include "workflow/model.h"

#include <jansson.h>
#include <pthread.h>
#include <stdbool.h>

typedef struct rn_run_opts {
    const char *path;  /* FILE or DIR; NULL: .github/workflows */
    const char *event; /* default "push" */
    const char *chdir; /* -C */
    const char *job;   /* -j */
    bool dry_run, json, quiet, verbose;
    const char *eventpath, *actor;
    json_t *secrets, *vars, *env, *inputs; /* objects of strings */
    json_t *matrix;                        /* --matrix K:V -> object K -> array of strings */
    json_t *platforms;                     /* -P LABEL -> "host" or an image */
    int parallel;
    struct rn_remote *remote; /* actions/remote.h: --local-repository and the action cache */
    struct rn_policy *policy; /* actions/policy.h: the runner's config; NULL = none */
} rn_run_opts;

typedef struct rn_run_wf {
    char *file; /* as shown */
    char *text;
    rn_arena arena;
    rn_workflow *wf;
    rn_wf_plan plan;
    bool *selected;     /* per job: part of this run (-j) */
    char *display;      /* workflow name for prefixes: name:, else the file's base name */
    bool filter_warned; /* named explicitly although its on: filters do not match */
    json_t *inputs;     /* inputs context: on.<event>.inputs defaults overlaid by --input */
    /* Per job: errors of its steps that GitHub reports when loading (a `uses` without @ref,
     * `uses` with `run`), as "FILE:LINE:COL: message" lines; NULL when none. runnel run fails
     * that job with them instead of refusing the whole workflow. */
    char **job_errors;
} rn_run_wf;

typedef struct rn_run {
    rn_run_opts *opts;
    char *root;    /* repository root (workspace) */
    char *run_dir; /* .runnel/runs/N */
    char *run_id;
    json_t *github; /* the github context (without job) */
    json_t *runner; /* the runner context (without temp) */
    json_t *base_env;
    rn_mask *mask;
    rn_out *out; /* stdout */
    rn_out *err; /* stderr */
    rn_run_wf *wfs;
    size_t n_wfs;
    /* results for the summary table */
    json_t *results; /* array of {name, result, duration_ms} */
    pthread_mutex_t lock;
    volatile int interrupted;
} rn_run;

/* run_plan.c */
/* Loads the workflows of opts->path that EVENT triggers. Returns 0, or 2 after printing the
 * errors (FILE:LINE:COL: message). `ref` is github.ref for branch/tag filters. */
int rn_run_load(rn_run *r, const char *ref, const char *before, const char *after);
void rn_run_wf_free(rn_run_wf *w);
void rn_run_print_plan(rn_run *r);

/* run_reusable.c */
struct rn_remote;
typedef struct rn_reusable_src {
    struct rn_remote *remote; /* --local-repository and the action cache; may be NULL */
    bool fetch;               /* fetch references no --local-repository maps (runnel run) */
    const char *root;         /* root for ./ references when the caller's file has none */
} rn_reusable_src;
/* The repository root of a workflow file: its nearest ancestor folder holding .github, or NULL.
 * Caller frees. */
char *rn_reusable_repo_root(const char *file);
/* NULL when `uses` is a workflow reference (./.github/workflows/F.yml, or
 * OWNER/REPO/.github/workflows/F.yml@REF), else the reason (caller frees). */
char *rn_reusable_check_ref(const char *uses);
/* Resolves `uses` with `root` the repository root for ./ references. Returns 1 with *text,
 * *len, *display (the file's path) and *callee_root (the called workflow's repository root; may
 * be NULL to ignore) set, all malloc'ed; 0 when a remote reference is not available without
 * fetching; -1 with *display holding the reason. */
int rn_reusable_resolve_in(const rn_reusable_src *src, const char *root, const char *uses,
                           char **text, size_t *len, char **display, char **callee_root);
/* rn_wf_resolve_fn (workflow/validate.h), ud an rn_reusable_src: ./ is resolved from the
 * caller file's repository root (src->root when it has none). */
int rn_reusable_resolve(void *ud, const char *uses, const char *caller_file, char **text,
                        size_t *len, char **display);
/* Loads the workflow `uses` (already evaluated) that job `caller` of `caller_file` calls into
 * w (every job selected, display = display_name): reference checked, resolved, parsed with the
 * checks of `runnel validate`, its workflow_call checked against the caller's with:/secrets:,
 * planned. 0, or -1 with *err (FILE:LINE:COL: message lines, malloc'ed); w is freed with
 * rn_run_wf_free() either way. */
int rn_reusable_load(const rn_reusable_src *src, const char *root, const rn_wf_job *caller,
                     const char *caller_file, const char *uses, const char *display_name,
                     rn_run_wf *w, char **callee_root, char **err);
/* The called workflow's inputs context: with: evaluated in ej (the caller leg's contexts),
 * typed and defaulted by on.workflow_call.inputs. NULL with *err. */
json_t *rn_reusable_inputs(rn_job *ej, const rn_wf_job *caller, const char *caller_file,
                           const rn_workflow *callee, char **err);
/* Its secrets context: the caller's (secrets: inherit) or secrets: evaluated in ej, whose
 * values are added to `mask`; GITHUB_TOKEN always. NULL with *err. */
json_t *rn_reusable_secrets(rn_mask *mask, rn_job *ej, const rn_wf_job *caller,
                            const char *caller_file, json_t *caller_secrets, char **err);
/* on.workflow_call.outputs evaluated in ej (with the `jobs` context set); *warn lists the
 * outputs that failed (or NULL). */
json_t *rn_reusable_outputs(rn_job *ej, const rn_workflow *callee, char **warn);

/* run_sched.c: runs every loaded workflow. Returns 0 all succeeded, 1 a job failed. */
int rn_run_execute(rn_run *r);

/* run_out.c */
void rn_run_msg(rn_run *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void rn_run_warn(rn_run *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Emits one JSON event (steals ev) when --json is on. */
void rn_run_event(rn_run *r, json_t *ev);
/* A job leg's output: console lines with its prefix, its log file, JSON events. */
typedef struct rn_leg_out {
    rn_run *run;
    char *prefix; /* "[wf/job (a, b)]" */
    char *job_id, *name;
    rn_out *log;
    FILE *log_fp;
    int group;  /* inside ::group:: (folded on the console) */
    bool loud;  /* the line being written shows with -q too */
    char *step; /* current step name */
} rn_leg_out;
void rn_leg_out_init(rn_leg_out *lo, rn_run *r, const char *wf_display, const char *job_id,
                     const char *name, const char *log_path);
void rn_leg_out_free(rn_leg_out *lo);
rn_step_sink rn_leg_sink(rn_leg_out *lo);
void rn_leg_printf(rn_leg_out *lo, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Formats milliseconds like "1.23s". */
void rn_fmt_ms(long ms, char *buf, size_t size);

#endif
