/* Built-in actions/cache (v3/v4), actions/cache/restore and actions/cache/save on the local
 * store (actions/cache_store.h), with the toolkit's inputs, outputs, messages and version.
 *
 * Post steps: the combined action saves at the end of the job, only when the job succeeded
 * and the primary key was not an exact hit. The step executor has no post hook for built-ins
 * yet, so pending saves are recorded per job here and rn_cache_job_post() runs them; the job
 * runner calls it once after the steps (see the report / docs/cache.md).
 *
 * Ownership: nothing returned needs freeing; pending saves are freed by rn_cache_job_post() or
 * rn_cache_job_forget(). Owner: caching engineer. */
#ifndef RN_ACTIONS_CACHE_ACTION_H
#define RN_ACTIONS_CACHE_ACTION_H

#include "actions/step.h"

/* The built-in for `uses: actions/cache[/restore|/save]@...` (rn_builtin_fn). */
rn_step_status rn_cache_action(rn_job *j, const char *uses, json_t *with, json_t *outputs);

/* Runs the job's pending post saves (most recent first) when `succeeded`; logs the toolkit's
 * messages. Returns failure only when a save failed in a way the toolkit reports as an error. */
rn_step_status rn_cache_job_post(rn_job *j, bool succeeded);
/* Drops pending saves without running them. */
void rn_cache_job_forget(rn_job *j);

/* For built-ins that cache (setup-java): restores `paths` (patterns as written, resolved
 * against the workspace) for key/restore_keys in the job's scopes and records the post save.
 * Returns 1 hit (matched key in *matched, malloc'ed), 0 miss, -1 error (logged).
 * who is the log prefix ("setup-java"). */
int rn_cache_restore_for(rn_job *j, const char *who, const char *const *paths, size_t npaths,
                         const char *key, const char *const *restore_keys, size_t nrestore,
                         bool defer_save, char **matched);

/* The scopes searched for the job: repository@ref, then the PR base branch and the default
 * branch (malloc'ed strings appended to out). The first is where saves go. */
void rn_cache_job_scopes(rn_job *j, rn_strlist *out);

#endif
