/* `runnel run`: the container a job runs in, and its services (issue 4).
 *
 * Where a job runs, decided from its runs-on labels, -P and `container:`:
 *   - `container:` (image string or mapping): a container of that image;
 *   - a label mapped to an image (-P ubuntu-latest=busybox:1): a container of that image;
 *   - a label mapped to `host`: directly on the host, as before;
 *   - otherwise (ubuntu-*, linux, self-hosted): a container whose only layer is the host's root
 *     filesystem (read-only lower, throwaway upper), falling back to the host with a warning
 *     when the kernel cannot make containers.
 * Image containers get the workspace, runner temp and tool cache bind-mounted at their host
 * paths (so GITHUB_WORKSPACE and friends stay valid), a home at /github/home, the image's Env
 * under the step env, and the job id as hostname. Every step is a process in it
 * (rn_job.container). `services:` are containers of their own joining the job container's
 * private network namespace (the host's network without root or when the job runs on the host),
 * named in /etc/hosts, awaited until healthy. rn_job_ctr_teardown() stops services and destroys
 * every container (cgroup kill).
 *
 * Ownership: the rn_job_ctr returned owns its containers, images and service processes; free it
 * with rn_job_ctr_teardown() after the job's steps ran (it clears j->container). Owner:
 * container-jobs engineer. */
#ifndef RN_RUNNER_RUN_CONTAINER_H
#define RN_RUNNER_RUN_CONTAINER_H

#include "runner/run.h"

typedef struct rn_job_ctr rn_job_ctr;

/* Sets up the job's container and services and points j at them (j->container, j->base_env,
 * the job context). jdir: the job's run folder (logs, home, hosts file). Returns 0 (*out may be
 * NULL: steps run on the host), or -1 after printing the error through lo. */
int rn_job_ctr_setup(rn_run *r, rn_job *j, const rn_wf_job *wj, const char *jdir, rn_leg_out *lo,
                     rn_job_ctr **out);

/* The init pid of the job's container when the job has a private network (services), whose
 * namespace runnel's own services for the job must listen in; -1 otherwise (NULL too). */
pid_t rn_job_ctr_private_net(const rn_job_ctr *c);

/* Stops the services, kills everything left in the containers, removes them. NULL: no-op. */
void rn_job_ctr_teardown(rn_job_ctr *c, rn_job *j);

#endif
