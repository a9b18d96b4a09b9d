/* `runnel run`: internal interfaces between its parts.
 *   cmd_run.c    options, the run folder, contexts shared by every job, exit status
 *   run_plan.c   loading workflows, event (and on: filter) matching, -j selection, dry-run plan
 *   run_sched.c  the DAG scheduler (worker threads), matrix legs, fail-fast, max-parallel, and
 *                the job lifecycle (if:, runs-on, env, timeout, outputs)
 *   run_out.c    console / JSON / log output, always masked (common/output.h)
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
