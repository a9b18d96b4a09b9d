/* The GitHub cache service for a job's JavaScript actions: when a job uses actions that runnel
 * does not serve itself, a cache server (actions/cache_server.h) backed by runnel's cache store
 * listens on loopback for the job (also inside the job's private network, when it has one:
 * the host's loopback stays closed to it), and the toolkit's variables (ACTIONS_CACHE_URL,
 * ACTIONS_RESULTS_URL, ACTIONS_RUNTIME_TOKEN, ACTIONS_CACHE_SERVICE_V2) point at it.
 * Ownership: rn_job_cache_serve() returns a handle the caller stops with rn_job_cache_stop()
 * after the job's steps; the job is borrowed. */
#ifndef RN_RUNNER_RUN_CACHE_H
#define RN_RUNNER_RUN_CACHE_H

#include "actions/step.h"
#include "workflow/model.h"

#include <sys/types.h>

typedef struct rn_job_cache_srv rn_job_cache_srv;

/* netns_pid: a process in the job's private network namespace (rn_job_ctr_private_net()), or
 * -1 for the host's network. NULL when no step needs it, or when the server cannot start (a
 * warning is logged: the actions then run without a cache, as on GitHub when the service is
 * down). */
rn_job_cache_srv *rn_job_cache_serve(rn_job *j, const rn_wf_job *wj, pid_t netns_pid);
void rn_job_cache_stop(rn_job_cache_srv *s);

#endif
