/* Typed workflow model, built from a loaded and schema-checked YAML tree.
 *
 * Every struct carries the position (file, 1-based line:col) of the YAML node it came from.
 * Free-form values (with:, env:, matrix, outputs, inputs' defaults, ...) are kept as the raw
 * YAML node (workflow/yaml.h; rn_yaml_to_json() renders one) so later stages evaluate the
 * expressions in them. Expression-bearing strings are rn_wf_str: raw text as written (with any
 * ${{ }}) plus position; the executor parses them with rn_tmpl_parse / rn_expr_parse.
 *
 * Ownership: the whole model (and the YAML tree it points into) lives in one rn_arena;
 * rn_arena_free() releases it. Nothing in here is freed individually. */
#ifndef RN_MODEL_H
#define RN_MODEL_H

#include "common/arena.h"
#include "common/diag.h"
#include "workflow/yaml.h"

#include <stdbool.h>
#include <stddef.h>

/* A string value with its position. s == NULL when the key is absent. */
typedef struct rn_wf_str {
    const char *s;
    int line, col;
    const rn_ynode *node; /* the scalar it came from; NULL when absent or generated */
} rn_wf_str;

typedef struct rn_wf_strs {
    rn_wf_str *items;
    size_t n;
} rn_wf_strs;

/* ---- on: ---- */
typedef struct rn_wf_input {
    rn_wf_str name;
    rn_wf_str description;
    rn_wf_str type; /* "string", "boolean", "number", "choice", "environment"; s NULL if unset */
    bool required;
    const rn_ynode *default_value; /* raw; NULL when absent */
    rn_wf_strs options;            /* workflow_dispatch choice options */
    const char *deprecation_message;
    int line, col;
} rn_wf_input;

typedef struct rn_wf_output {
    rn_wf_str name;
    rn_wf_str description;
    rn_wf_str value; /* workflow_call outputs: expression text */
    int line, col;
} rn_wf_output;

typedef struct rn_wf_secret {
    rn_wf_str name;
    rn_wf_str description;
    bool required;
    int line, col;
} rn_wf_secret;

typedef struct rn_wf_event {
    rn_wf_str name;         /* "push", "workflow_dispatch", ... */
    const rn_ynode *config; /* raw config mapping/sequence, NULL for the string/sequence forms */
    rn_wf_strs types;
    rn_wf_strs branches, branches_ignore, tags, tags_ignore, paths, paths_ignore;
    rn_wf_strs workflows; /* workflow_run */
    rn_wf_strs crons;     /* schedule: each cron string */
    /* workflow_dispatch / workflow_call */
    rn_wf_input *inputs;
    size_t n_inputs;
    rn_wf_output *outputs; /* workflow_call */
    size_t n_outputs;
    rn_wf_secret *secrets; /* workflow_call */
    size_t n_secrets;
    int line, col;
} rn_wf_event;

/* ---- shared pieces ---- */
typedef struct rn_wf_defaults {
    rn_wf_str shell, working_directory; /* defaults.run.* */
    int line, col;                      /* 0 when absent */
} rn_wf_defaults;

typedef struct rn_wf_concurrency {
    rn_wf_str group;                    /* the string form, or group: */
    const rn_ynode *cancel_in_progress; /* raw bool or expression; NULL when absent */
    int line, col;                      /* 0 when absent */
} rn_wf_concurrency;

typedef struct rn_wf_permissions {
    const rn_ynode *node; /* raw: "read-all"/"write-all" scalar or mapping; NULL when absent */
} rn_wf_permissions;

typedef struct rn_wf_container {
    const rn_ynode *node; /* raw (string form, mapping, or an expression) */
    rn_wf_str id;         /* services: the service name; empty for job.container */
    rn_wf_str image, options, entrypoint, command;
    const rn_ynode *env, *ports, *volumes, *credentials; /* raw */
    int line, col;
} rn_wf_container;

/* ---- steps ---- */
typedef enum rn_wf_step_kind {
    RN_STEP_RUN,
    RN_STEP_USES,
    RN_STEP_WAIT,
    RN_STEP_WAIT_ALL,
    RN_STEP_CANCEL,
} rn_wf_step_kind;

typedef struct rn_wf_step {
    rn_wf_step_kind kind;
    rn_wf_str id; /* as written, or generated ("__run", "__actions_checkout", ...) */
    bool id_generated;
    rn_wf_str name;
    rn_wf_str if_cond; /* rewritten expression text without ${{ }}, e.g. "success() && (x)" */
    rn_wf_str if_raw;  /* as written; s NULL when absent */
    rn_wf_str uses, run, shell, working_directory;
    const rn_ynode *with, *env;        /* raw mappings; NULL when absent */
    const rn_ynode *continue_on_error; /* raw bool or expression; NULL when absent */
    const rn_ynode *timeout_minutes;   /* raw number or expression; NULL when absent */
    bool background;
    rn_wf_strs wait;  /* wait: step ids */
    rn_wf_str cancel; /* cancel: step id */
    int line, col;
} rn_wf_step;

/* ---- jobs ---- */
typedef struct rn_wf_runs_on {
    const rn_ynode *node; /* raw (string, sequence, mapping or expression); NULL when absent */
    rn_wf_str group;      /* mapping form's group */
    rn_wf_strs labels;    /* string/sequence form, or mapping form's labels */
    int line, col;
} rn_wf_runs_on;

typedef struct rn_wf_strategy {
    const rn_ynode *node;         /* raw strategy; NULL when absent */
    const rn_ynode *matrix;       /* raw matrix (mapping or expression); NULL when absent */
    const rn_ynode *fail_fast;    /* raw bool or expression; NULL -> true */
    const rn_ynode *max_parallel; /* raw number or expression; NULL -> unlimited */
    int line, col;
} rn_wf_strategy;

typedef struct rn_wf_environment {
    rn_wf_str name, url;
    const rn_ynode *node; /* raw; NULL when absent */
    int line, col;
} rn_wf_environment;

typedef struct rn_wf_job {
    rn_wf_str id;   /* the key under jobs: */
    rn_wf_str name; /* as written; s NULL when absent (display falls back to id) */
    rn_wf_strs needs;
    rn_wf_str if_cond; /* rewritten, see rn_wf_step.if_cond; "success()" when absent */
    rn_wf_str if_raw;
    rn_wf_runs_on runs_on;
    rn_wf_environment environment;
    const rn_ynode *outputs; /* raw mapping name -> expression string */
    const rn_ynode *env;     /* raw mapping */
    rn_wf_defaults defaults;
    rn_wf_step *steps;
    size_t n_steps;
    const rn_ynode *timeout_minutes;        /* raw; NULL -> 360 */
    const rn_ynode *cancel_timeout_minutes; /* raw */
    rn_wf_strategy strategy;
    const rn_ynode *continue_on_error; /* raw bool or expression */
    rn_wf_container *container;        /* NULL when absent */
    rn_wf_container *services;
    size_t n_services;
    /* Reusable workflow call (uses: at job level) */
    rn_wf_str uses;
    const rn_ynode *with;    /* raw mapping */
    const rn_ynode *secrets; /* raw mapping, or NULL */
    bool secrets_inherit;
    rn_wf_permissions permissions;
    rn_wf_concurrency concurrency;
    int line, col; /* position of the job's id key */
} rn_wf_job;

typedef struct rn_workflow {
    const char *file; /* path as shown in messages */
    const rn_ynode *root;
    rn_wf_str name, run_name, description;
    rn_wf_event *events; /* in document order */
    size_t n_events;
    const rn_ynode *on; /* raw on: */
    rn_wf_permissions permissions;
    const rn_ynode *env; /* raw mapping */
    rn_wf_defaults defaults;
    rn_wf_concurrency concurrency;
    rn_wf_job *jobs; /* in document order */
    size_t n_jobs;
} rn_workflow;

/* Loads, schema-checks and builds a workflow. Adds every error found to diags (GitHub's
 * messages and positions). Returns the model (also when errors were found, as far as the
 * YAML could be read; NULL only when the YAML itself could not be loaded). */
rn_workflow *rn_workflow_parse(rn_arena *a, const char *file, const char *text, size_t len,
                               rn_diags *diags);

/* Lookup helpers (case-insensitive ids, as GitHub). NULL when absent. */
const rn_wf_job *rn_workflow_job(const rn_workflow *wf, const char *id);
const rn_wf_event *rn_workflow_event(const rn_workflow *wf, const char *name);

/* Builds steps from a YAML sequence (job steps, composite action steps): ids generated like
 * GitHub's, if: rewritten. *out lives in a. */
void rn_wf_build_steps(rn_arena *a, const rn_ynode *seq, rn_wf_step **out, size_t *n_out);

/* The if: rewrite (notes §10): NULL/empty -> "success()"; "${{ x }}" is unwrapped; an
 * expression that calls no status function becomes "success() && (x)". Uses rn_expr_parse with
 * the status functions in scope. Returns arena memory; on a parse error returns the
 * unwrapped text unchanged and fills err. */
const char *rn_wf_rewrite_if(rn_arena *a, const char *cond, bool job_level, char *err,
                             size_t err_size);

#endif
