/* Smoke-test verification (runnel/verify@v1, `runnel verify`, the runner's verify policy),
 * modelled on Argo Rollouts analysis and Flagger checks.
 *
 * An analysis takes `count` measurement rounds: the first after `initial-delay`, then one every
 * `interval` (measured from the start of the analysis, so a slow probe does not shift the
 * schedule; an overrunning round is followed immediately by the next). Each round measures every
 * probe once. A probe is an HTTP request (libcurl: method, headers, per-request timeout; passes
 * when the status is expected, the body contains a substring and a JSON field has a value) or a
 * script (`bash -c`, started through sandbox/proc.h; exit 0 passes). As in Argo, the analysis
 * fails as soon as one probe has more failed measurements than `failure-limit`, and also when
 * the overall `timeout` elapses before every measurement was taken. On failure an optional
 * `rollback` command runs (through sandbox/proc.h) and its output and exit status are logged.
 *
 * Ownership: an rn_verify_spec owns every string and probe in its arena (rn_verify_spec_free);
 * an rn_verify_result owns its measurements and strings (rn_verify_result_free). The io
 * callbacks and strings are borrowed for the duration of rn_verify_run().
 * Owner: verify engineer. */
#ifndef RN_ACTIONS_VERIFY_H
#define RN_ACTIONS_VERIFY_H

#include "actions/step.h"
#include "common/arena.h"
#include "common/diag.h"
#include "common/strbuf.h"
#include "workflow/yaml.h"

#include <stdbool.h>
#include <stddef.h>

struct rn_proc;

typedef enum rn_probe_kind { RN_PROBE_HTTP, RN_PROBE_SCRIPT } rn_probe_kind;

#define RN_VERIFY_MAX_STATUS_RANGES 16

typedef struct rn_probe {
    rn_probe_kind kind;
    const char *label; /* "GET http://..." or "script: CMD" (first line) */
    /* HTTP */
    const char *url, *method; /* method defaults to GET */
    int status_lo[RN_VERIFY_MAX_STATUS_RANGES], status_hi[RN_VERIFY_MAX_STATUS_RANGES];
    size_t nstatus;            /* 0 = 200 */
    const char *status_text;   /* as written ("2xx", "200,204"), for messages */
    const char *body_contains; /* NULL = no check */
    const char *json_field;    /* dotted path (items.0.id); NULL = no check */
    const char *json_value;    /* NULL: the field must exist and not be null */
    const char **headers;      /* "Name: value" */
    size_t nheaders;
    long request_timeout_ms; /* also the script's timeout */
    /* script */
    const char *script;
    unsigned own; /* internal: which fields the probe set itself (the rest are inherited) */
} rn_probe;

/* Top-level settings; the probe fields here are defaults for every probe that does not set
 * them, and describe the probe made by each `url` shorthand. */
typedef struct rn_verify_spec {
    rn_arena arena;
    rn_probe *probes;
    size_t nprobes, cap;
    long initial_delay_ms; /* default 0 */
    long interval_ms;      /* default 10 s */
    long timeout_ms;       /* 0 = none */
    int count;             /* default 1 */
    int failure_limit;     /* default 0 */
    const char *rollback;  /* NULL = none */
    rn_probe defaults;     /* method, status, body, json, headers, request timeout (10 s) */
    const char **urls;     /* `url` shorthands, made into probes by rn_verify_spec_finish() */
    size_t nurls;
    const char **scripts;
    size_t nscripts;
} rn_verify_spec;

void rn_verify_spec_init(rn_verify_spec *s);
void rn_verify_spec_free(rn_verify_spec *s);

/* Sets one setting by its input name (url, probes, script, expected-status, body-contains,
 * json-field, json-value, headers, method, request-timeout, initial-delay, interval, count,
 * failure-limit, timeout, rollback). `url` and `script` may be given several times (each adds a
 * probe). `probes` is YAML or JSON text holding a list of probe mappings (keys: url, method,
 * expected-status, body-contains, json-field, json-value, headers, timeout, script). Errors are
 * added to diags at file:line:col (the position of the value). For `probes`, line <= 0 means
 * the text is the whole of `file` (a --probes FILE), so its own positions are shown against
 * `file` ("probes" when NULL). Returns 0 or -1. */
int rn_verify_spec_set(rn_verify_spec *s, const char *key, const char *value, const char *file,
                       int line, int col, rn_diags *diags);
/* The same from a YAML node (the runner policy): scalars as text, `probes` as a list of
 * mappings, `expected-status` as a scalar or a list, `headers` as a mapping or a list. */
int rn_verify_spec_set_node(rn_verify_spec *s, const char *key, const rn_ynode *value,
                            rn_diags *diags);
/* Makes the url/script shorthands into probes, applies defaults, checks that there is at least
 * one probe. `file` positions the "no probe" error (may be NULL). Returns 0 or -1. */
int rn_verify_spec_finish(rn_verify_spec *s, const char *file, int line, int col, rn_diags *diags);

/* "5s", "500ms", "1m", "1h", "1m30s", "1.5s" or plain seconds ("5", "0.25"). -1 if invalid. */
long rn_verify_parse_duration(const char *s);
/* "200", "2xx", "200-299", "200,204", "[200, 2xx]" into ranges. Returns the count, -1 if
 * invalid. */
int rn_verify_parse_status(const char *s, int *lo, int *hi, size_t max);

typedef enum rn_verify_log {
    RN_VLOG_INFO,   /* measurements, the verdict */
    RN_VLOG_OUTPUT, /* output lines of script probes and the rollback */
    RN_VLOG_ERROR,  /* the failure summary */
} rn_verify_log;

typedef struct rn_verify_io {
    void (*log)(void *ud, rn_verify_log kind, const char *text); /* may be NULL */
    bool (*cancelled)(void *ud);                                 /* may be NULL */
    /* Called with each process started (script probes, rollback) and with NULL when it has
     * finished, so the owner can cancel it (rn_proc_cancel) from another thread. May be NULL. */
    void (*on_proc)(void *ud, struct rn_proc *p);
    void *ud;
    const char *const *envp; /* environment of scripts and the rollback (NULL = empty) */
    const char *cwd;         /* their working directory (NULL = runnel's) */
} rn_verify_io;

typedef struct rn_measurement {
    long t_ms;    /* start, ms since the analysis started */
    int round;    /* 1-based */
    size_t probe; /* index into spec->probes */
    bool passed;
    int code; /* HTTP status or exit code; -1 when there is none */
    long latency_ms;
    char *reason; /* why it failed; "" when it passed */
} rn_measurement;

typedef struct rn_verify_result {
    bool passed;
    bool cancelled;
    rn_measurement *m;
    size_t n, cap;
    size_t failures; /* failed measurements, all probes */
    char *error;     /* why the analysis failed ("probe 1 failed 2 times (failure-limit
                      * 1)", "timed out ..."); NULL when passed */
    bool rollback_ran;
    bool rollback_ok;      /* exited 0 */
    char *rollback_status; /* "exit code 0", "timed out after ...", a start error */
} rn_verify_result;

void rn_verify_result_free(rn_verify_result *r);

/* Runs the analysis. Returns true when it passed. The result is filled either way. */
bool rn_verify_run(const rn_verify_spec *s, const rn_verify_io *io, rn_verify_result *r);

/* The probe history table and verdict, appended to out:
 *
 *   #  ROUND  TIME     PROBE                        RESULT  CODE  LATENCY  REASON
 *   1  1      +0.000s  GET http://127.0.0.1/health  pass    200   2ms
 *   verify: passed (3 measurements, 0 failed, failure-limit 0)
 */
void rn_verify_table(const rn_verify_spec *s, const rn_verify_result *r, rn_sb *out);

/* The built-in action runnel/verify@v1 (registered in actions/step_builtin.c): inputs are the
 * settings of rn_verify_spec_set(); outputs `result` (passed/failed), `measurements` and
 * `failures`. Logs every measurement and the table through the job's sink; scripts and the
 * rollback run in the workspace with the job's environment; honours cancellation and the job's
 * timeout. */
rn_step_status rn_verify_builtin(rn_job *j, const char *uses, json_t *with, json_t *outputs);

/* io for analyses run on behalf of job j: log through its sink, its cancellation, scripts in its
 * workspace with its environment and PATH. Returns the environment io points at (free it with
 * rn_verify_job_io_free() after the analysis). */
char **rn_verify_job_io(rn_job *j, rn_verify_io *io);
void rn_verify_job_io_free(char **envp);

#endif
