/* Docker actions in runnel's own containers: `uses: docker://IMAGE` steps and local or remote
 * actions with `runs.using: docker` and `runs.image: docker://IMAGE`, plus the image and option
 * helpers the job container code (runner/run_container.c) shares.
 *
 * A docker action runs in a container of its own, created for the step and destroyed after it,
 * like GitHub's `docker run`: the image's layers, the workspace at /github/workspace (its
 * working folder), the environment files at /github/file_commands, the runner temp at
 * /github/runner_temp, the event at /github/workflow/event.json and a home at /github/home;
 * the host's network. Its environment is the image's Env, then runnel's GITHUB_, RUNNER_ variables
 * (paths mapped), the step's env and INPUT_*. Building a Dockerfile is not supported.
 *
 * Ownership: every string, array and image returned is heap memory the caller frees (the
 * matching *_free function, or free()). Owner: container-jobs engineer. */
#ifndef RN_ACTIONS_STEP_DOCKER_H
#define RN_ACTIONS_STEP_DOCKER_H

#include "actions/step.h"
#include "actions/step_action.h"
#include "sandbox/image.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

/* Runs a docker action. `la` NULL: `uses` is "docker://IMAGE" and `inputs` the evaluated
 * `with:` (args and entrypoint are special, the rest become INPUT_*). Else `la` is the loaded
 * action (runs.using: docker) and `inputs` its inputs with defaults applied. */
rn_step_status rn_step_docker(rn_job *j, const char *uses, const rn_local_action *la,
                              json_t *inputs, json_t *env, long timeout_ms, json_t *outputs);

/* The image `ref` from runnel's image store (default root), pulled when absent. creds:
 * "USER:PASS" or NULL. NULL with *err. */
rn_image *rn_docker_image(const char *ref, const char *creds, char **err);

/* Splits a command line into words: whitespace separated, '...' and "..." quoting, backslash
 * escapes outside single quotes. NULL-terminated; free with rn_docker_argv_free(). */
char **rn_docker_split(const char *s);
void rn_docker_argv_free(char **argv);

/* "1000", "1000:1000" -> ids (a name is refused: 0 returned on success, -1 otherwise). */
int rn_docker_parse_user(const char *s, uid_t *uid, gid_t *gid);

/* "512m", "2g", "1048576" -> bytes; -1 when invalid. */
int64_t rn_docker_parse_bytes(const char *s);

/* Docker durations "2s", "500ms", "1m", "1m30s", "10" (seconds) -> milliseconds; -1 invalid. */
long rn_docker_parse_duration(const char *s);

/* Environment of a container process: the image's Env ("K=V"), then the entries of `base` that
 * runnel itself set (GITHUB_*, RUNNER_*, ACTIONS_*, CI, and anything not copied from runnel's own
 * environment), then `extra`. PATH defaults to the usual Linux one. New object. */
json_t *rn_docker_env(char *const *image_env, const json_t *base, const json_t *extra);

#endif
