/* actions/checkout (v2-v4) served by runnel (docs/actions.md, "actions/checkout").
 *
 * The repository being run (input `repository` empty or equal to github.repository) is never
 * fetched: with `path` empty (the workspace itself, which is the repository's working tree) the
 * step only reports "Using the local working tree at ..."; with another `path` the working tree
 * is copied there (tracked files as they are on disk plus untracked files that .gitignore does
 * not exclude; never .git). Another repository comes from a --local-repository mapping, else
 * from the remote action cache (actions/remote.h), and is copied into `path`. Outputs: `ref`
 * and `commit`.
 *
 * Ownership: nothing is retained; returned strings are malloc'ed for the caller.
 * Owner: remote actions engineer. */
#ifndef RN_ACTIONS_CHECKOUT_H
#define RN_ACTIONS_CHECKOUT_H

#include "actions/step.h"

#include <jansson.h>

/* Copies the folder `src` into `dest` (created, parents too). When src is the top of a git
 * working tree, copies the files git status knows (tracked ones still on disk, untracked ones
 * not ignored); otherwise every file. `.git` is never copied, and nothing under `dest` when dest
 * lies inside src. Keeps permission bits and symlinks (as links). Returns the number of files
 * (and links) copied, or -1 with *err (malloc'ed). */
long rn_checkout_copy_tree(const char *src, const char *dest, char **err);

/* The built-in for `uses: actions/checkout@...` (an rn_builtin_fn). Uses j->resolve_ud as the
 * rn_remote context when j->resolve_action is rn_remote_resolve. */
rn_step_status rn_checkout_action(rn_job *j, const char *uses, json_t *with, json_t *outputs);

#endif
