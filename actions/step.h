/* Executing steps of a job on the host with GitHub's semantics: `run` steps (shells, script
 * files, working-directory, defaults.run), environment files (GITHUB_ENV/OUTPUT/PATH/STATE/
 * STEP_SUMMARY) and workflow commands, `if:` with status functions, continue-on-error,
 * timeout-minutes, and `uses:` dispatch (local composite and node actions, built-ins, remote).
 *
 * The executor never prints: everything a user may see goes through rn_step_sink, whose owner
 * (the runner) masks secrets and writes logs. Every process is started with sandbox/proc.h.
 *
 * Dispatch point for `uses:` kinds (rn_step_uses_kind): local `./path` actions are loaded here;
 * built-in actions are looked up in actions/step_builtin.c (add entries there); remote actions go
 * through rn_job.resolve_action, a hook a later engineer fills in (remote clone cache,
 * --local-repository); without it a remote `uses:` fails with "remote actions are not supported
 * yet: owner/repo@ref".
 *
 * Ownership: an rn_job is set up by the caller with rn_job_init() and released with
 * rn_job_free(); it owns the json_t it holds (contexts, env), the PATH list and the post steps.
 * Borrowed: the workflow model (steps, defaults) and the strings in rn_job_paths.
 * Owner: runnel run engineer. */
#ifndef RN_ACTIONS_STEP_H
#define RN_ACTIONS_STEP_H

#include "actions/envfile.h"
#include "common/arena.h"
#include "common/pathmap.h"
#include "workflow/expr.h"
#include "workflow/model.h"

#include <jansson.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>

typedef enum rn_step_status {
    RN_STEP_STATUS_SUCCESS,
    RN_STEP_STATUS_FAILURE,
    RN_STEP_STATUS_CANCELLED,
    RN_STEP_STATUS_SKIPPED,
} rn_step_status;

const char *rn_step_status_name(rn_step_status s); /* "success", "failure", ... */

typedef enum rn_log_kind {
    RN_LOG_OUTPUT,   /* a line the step printed (not a command) */
    RN_LOG_INFO,     /* the runner's own information (shell, script, reasons) */
    RN_LOG_GROUP,    /* ::group:: title */
    RN_LOG_ENDGROUP, /* ::endgroup:: */
    RN_LOG_DEBUG,
    RN_LOG_NOTICE,
    RN_LOG_WARNING,
    RN_LOG_ERROR,
} rn_log_kind;

/* Where a job's output goes. `depth` is 0 for the job's own steps, 1+ inside composites. */
typedef struct rn_step_sink {
    void (*log)(void *ud, rn_log_kind kind, const char *text);
    void (*add_mask)(void *ud, const char *value);
    char *(*mask)(void *ud, const char *text); /* masked copy (malloc'ed), e.g. for summaries */
    void (*step_begin)(void *ud, const char *name, int depth);
    void (*step_end)(void *ud, const char *name, int depth, rn_step_status outcome,
                     rn_step_status conclusion, long elapsed_ms);
    void *ud;
} rn_step_sink;

/* Folders and names of a job's run; borrowed strings. */
typedef struct rn_job_paths {
    const char *workspace;  /* github.workspace: the working folder of steps */
    const char *temp;       /* RUNNER_TEMP: script files, emptied by the caller */
    const char *files;      /* folder for the per-step environment files */
    const char *summary;    /* file the step summaries are appended to (may be NULL) */
    const char *tool_cache; /* RUNNER_TOOL_CACHE */
} rn_job_paths;

typedef struct rn_job rn_job;

/* Hook for remote actions: turns `uses` (owner/repo[/path]@ref) into a local folder holding
 * action.yml. Returns a malloc'ed folder, or NULL with *err set (malloc'ed). */
typedef char *(*rn_resolve_action_fn)(void *ud, const char *uses, char **err);

typedef struct rn_post_step rn_post_step;

struct rn_job {
    /* Set by the caller before rn_job_run_steps() */
    json_t *contexts; /* github, vars, secrets, inputs, matrix, strategy, needs, job, runner */
    json_t *env;      /* workflow env + job env, evaluated; GITHUB_ENV updates it */
    json_t *base_env; /* the process environment: host environ + GITHUB_xxx, RUNNER_xxx, CI */
    const rn_wf_defaults *wf_defaults, *job_defaults; /* may be NULL */
    rn_job_paths paths;
    rn_step_sink sink;
    rn_resolve_action_fn resolve_action; /* NULL: remote actions are not supported */
    void *resolve_ud;
    long deadline_ms; /* CLOCK_MONOTONIC ms when the job times out; 0 = none */
    /* The job's container (runner/run_container.c): every step process starts in it. NULL = the
     * host. prog_roots (NULL-terminated, topmost first) are host folders holding the container's
     * root filesystem, where the default shell is looked up; NULL = the host's root. */
    struct rn_container *container;
    const char *const *prog_roots;
    /* With a container: the folders it shares read-write with runnel (the job's path -> the
     * host's), the only places runnel's built-in actions (cache, setup-java) reach its files
     * through. Borrowed; none for a job on the host. */
    const rn_pathmap *shares;
    size_t n_shares;
    bool debug; /* ACTIONS_STEP_DEBUG-like: show ::debug:: */

    /* State the executor keeps */
    rn_strlist path;        /* GITHUB_PATH prepends */
    json_t *steps;          /* the job's `steps` context */
    bool failed;            /* a step failed (after continue-on-error): success() is false */
    bool timed_out;         /* the job's timeout-minutes elapsed */
    rn_post_step *posts;    /* post steps to run at the end, most recent first */
    unsigned counter;       /* for unique file names */
    bool step_after_cancel; /* the current step was chosen to run after cancellation
                             * (if: always()/cancelled()), so it may start */

    /* Environment files (GITHUB_ENV, ...): the files folder opened once, and per kind the number
     * in the name of the empty file the last step left there (0: none). The next step gets that
     * file renamed to its own unique name instead of a new one: no create and unlink per step. */
    bool files_open;
    int files_fd;
    char *files_dir;
    unsigned files_spare[5];

    /* Cancellation (fail-fast, Ctrl-C): set from any thread via rn_job_cancel(). */
    pthread_mutex_t lock;
    bool cancelled;
    struct rn_proc *current;
};

void rn_job_init(rn_job *j); /* zeroes, creates the mutex and empty steps/env objects */
void rn_job_free(rn_job *j);
/* Cancels the job: the running process group is stopped, cancelled() becomes true. */
void rn_job_cancel(rn_job *j);

/* Runs steps[0..n) in order (pre steps of local node actions first, post steps last in
 * reverse). Returns the job's status: success, failure (a step failed without
 * continue-on-error, or the job timed out) or cancelled. */
rn_step_status rn_job_run_steps(rn_job *j, const rn_wf_step *steps, size_t n);

/* Evaluation helpers for the caller (job if:, outputs, env, name), using j's contexts plus
 * `env` and `steps` as the executor sees them. `status` supplies job-level status functions
 * when non-NULL. Return malloc'ed / new references, or NULL with *err (malloc'ed). */
typedef struct rn_status_fns {
    bool success, failure, cancelled;
} rn_status_fns;
json_t *rn_job_eval_node(rn_job *j, const rn_ynode *node, char **err);
char *rn_job_eval_str(rn_job *j, const char *text, char **err);

/* The job's HOME as the job sees it (/github/home in an image container). */
const char *rn_job_home(const rn_job *j);

/* Path patterns (globs, leading `!`s kept) as runnel's built-in actions reach them: `~` is the
 * job's HOME, relative ones are in the workspace, and for a container job each is moved to this
 * machine through the folders it shares (j->shares). Appended to out; returns 0, or -1 with
 * *outside (malloc'ed) the first pattern inside the container's own files, out of reach. */
int rn_job_host_patterns(const rn_job *j, const rn_strlist *patterns, rn_strlist *out,
                         char **outside);
/* An if: condition as written (with or without ${{ }}); without a status function it is
 * `success() && (cond)`. Returns 1 true, 0 false, -1 error (*err set). */
int rn_job_eval_if(rn_job *j, const char *cond, const rn_status_fns *status, char **err);

/* The expression scope for everything a job evaluates (all contexts, status functions,
 * hashFiles). */
const rn_expr_scope *rn_step_scope(void);

/* ---- uses: dispatch ---- */
typedef enum rn_step_uses_kind {
    RN_USES_LOCAL,   /* ./path */
    RN_USES_DOCKER,  /* docker://image */
    RN_USES_REMOTE,  /* owner/repo[/path]@ref */
    RN_USES_INVALID, /* no @ref, empty parts */
} rn_step_uses_kind;
rn_step_uses_kind rn_step_uses_classify(const char *uses);

/* A built-in action (actions/step_builtin.c). Returns the step's outcome; writes outputs into
 * `outputs` (an object). `with` is the evaluated with: mapping. */
typedef rn_step_status (*rn_builtin_fn)(rn_job *j, const char *uses, json_t *with, json_t *outputs);
/* The built-in for `uses` (matched on owner/repo before '@', case-insensitively), or NULL. */
rn_builtin_fn rn_step_builtin(const char *uses);

/* One process of the current step with environment files and workflow commands wired in, in a
 * container of the caller's choosing (actions/step_docker.c). Borrowed fields. */
typedef struct rn_step_proc {
    const char *const *argv;
    json_t *env;      /* env context (strings) */
    json_t *extra;    /* more variables (INPUT_*), may be NULL */
    json_t *base_env; /* replaces j->base_env when non-NULL */
    const char *cwd;
    long timeout_ms;                /* 0 = none (the job's deadline still applies) */
    json_t *outputs;                /* may be NULL */
    struct rn_container *container; /* NULL: j->container */
    const char *files_as; /* the env files' folder as the process sees it (NULL: paths.files) */
} rn_step_proc;
rn_step_status rn_job_run_process(rn_job *j, const rn_step_proc *sp);

/* Emits a log line through the sink (printf-style). */
void rn_job_log(rn_job *j, rn_log_kind kind, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
