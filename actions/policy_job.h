/* The runner policy (actions/policy.h) applied to a job at its end: coverage rules, then
 * verify rules, each logged through the job's sink. A workflow cannot switch them off.
 * Ownership: borrows everything. */
#ifndef RN_ACTIONS_POLICY_JOB_H
#define RN_ACTIONS_POLICY_JOB_H

#include "actions/policy.h"
#include "actions/step.h"

#include <time.h>

/* Runs the rules that apply to job_id (p may be NULL: no policy). `since` is the job's start
 * (reports older than that were not produced by it). Returns RN_POLICY_FAIL when a gate failed. */
rn_policy_status rn_policy_run_job(const rn_policy *p, rn_job *j, const char *job_id, time_t since);

#endif
