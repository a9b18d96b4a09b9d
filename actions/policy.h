/* The runner policy file: gates CI admins set for every run on this machine, which a workflow
 * cannot switch off (coverage minimums, smoke-test verification after deploy jobs).
 *
 * Location (rn_policy_path): $RUNNEL_CONFIG if set (an empty value means "no policy"), else
 * /etc/runnel/config.yml, else ~/.config/runnel/config.yml ($HOME). YAML:
 *
 *   policies:
 *     coverage:
 *       - jobs: [test]                # job ids (globs, case-insensitive), and/or
 *         reports: ["**\/jacoco.xml"] # report globs under the workspace (\/ is / here)
 *         minimum: 70                 # percent (default 70)
 *         counter: LINE               # INSTRUCTION, BRANCH, LINE (default LINE)
 *         element: BUNDLE             # BUNDLE, PACKAGE, CLASS, SOURCEFILE (default BUNDLE)
 *     verify:
 *       - jobs: [deploy]
 *         probes: [{url: "http://127.0.0.1:8080/health"}]
 *         count: 3
 *         rollback: ./scripts/rollback.sh
 *
 * A coverage rule applies to a job when the job id matches one of `jobs`, or (with `reports`)
 * when the job produced a report matching one of `reports`. A job matched by `jobs` must have a
 * report (a missing report fails the gate); without `reports` the default globs are
 * **\/jacoco.xml, **\/cobertura.xml, **\/coverage.xml, **\/lcov.info. A verify rule applies to
 * jobs matching `jobs` and takes every setting of runnel/verify@v1 (actions/verify.h).
 *
 * Ownership: an rn_policy owns everything in it (rn_policy_free). Pure parsing here except the
 * two job-end functions, which read the workspace and (verify) make requests and run scripts.
 * Owner: verify engineer. */
#ifndef RN_ACTIONS_POLICY_H
#define RN_ACTIONS_POLICY_H

#include "actions/coverage.h"
#include "actions/verify.h"
#include "common/arena.h"
#include "common/diag.h"
#include "common/strbuf.h"

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

typedef struct rn_policy_coverage {
    const char **jobs, **reports; /* globs; reports NULL = defaults (only with jobs) */
    size_t njobs, nreports;
    rn_cov_gate gate;
    const char *file; /* where the rule is, for messages */
    int line, col;
} rn_policy_coverage;

typedef struct rn_policy_verify {
    const char **jobs;
    size_t njobs;
    rn_verify_spec spec; /* finished */
    const char *file;
    int line, col;
} rn_policy_verify;

typedef struct rn_policy {
    rn_arena arena;
    const char *file;
    rn_policy_coverage *coverage;
    size_t ncoverage;
    rn_policy_verify *verify;
    size_t nverify;
} rn_policy;

/* The config file to read: malloc'ed path, or NULL when there is none (RUNNEL_CONFIG set to
 * "", or neither default file exists). A RUNNEL_CONFIG naming a missing file is returned as is,
 * so that loading it reports the error. `env` looks variables up (NULL = getenv);
 * `system_path` replaces /etc/runnel/config.yml (tests; NULL = that). */
char *rn_policy_path(const char *(*env)(const char *name), const char *system_path);

/* Parses and validates a config. Returns NULL with diags (FILE:LINE:COL) when it is invalid;
 * an empty file or one without `policies` gives an empty policy. */
rn_policy *rn_policy_parse(const char *file, const char *text, size_t len, rn_diags *diags);
rn_policy *rn_policy_load(const char *path, rn_diags *diags); /* unreadable file: a diag */
void rn_policy_free(rn_policy *p);

/* Job-id glob match (fnmatch, case-insensitive like GitHub job ids). */
bool rn_policy_job_matches(const char *const *globs, size_t n, const char *job_id);
/* Path glob match on '/'-separated relative paths: `*`, `?`, `[...]` within a segment, `**` any
 * number of whole segments ("**\/x.xml" matches "x.xml" and "a/b/x.xml"). */
bool rn_policy_path_matches(const char *glob, const char *path);
/* Files under `dir` (relative paths, sorted, .git skipped, symlinks not followed) matching any
 * glob and modified at or after `since` (0 = any time). Caller frees the array and strings. */
char **rn_policy_find_reports(const char *dir, const char *const *globs, size_t n, time_t since,
                              size_t *count);

typedef enum rn_policy_status {
    RN_POLICY_NONE, /* no rule applies to the job */
    RN_POLICY_PASS,
    RN_POLICY_FAIL, /* a gate failed, or a report was missing or malformed */
} rn_policy_status;

/* Coverage rules for a job that has finished its steps: finds the reports under `workspace`
 * (produced at or after `since`, the job's start; 0 = any), evaluates each applicable rule with
 * actions/coverage.h and appends, per rule, a header line ("policy coverage (FILE:LINE): ...")
 * and the gate's table, or the errors, to `out`. */
rn_policy_status rn_policy_jobs_coverage(const rn_policy *p, const char *job_id,
                                         const char *workspace, time_t since, rn_sb *out);

/* Verify rules for a job: runs each applicable analysis with `io` (its log callback sees every
 * measurement as it is taken; scripts and the rollback run in io->cwd with io->envp) and
 * appends, per rule, a header line and the probe table to `out`. */
rn_policy_status rn_policy_jobs_verify(const rn_policy *p, const char *job_id,
                                       const rn_verify_io *io, rn_sb *out);

#endif
