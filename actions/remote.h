/* Remote actions: `uses: owner/repo[/path]@ref` turned into a local folder.
 *
 * Resolution order (docs/actions.md):
 *   1. a --local-repository OWNER/REPO@REF=DIR mapping (owner/repo compared case-insensitively,
 *      ref exactly): DIR[/path] is used as is, no git at all;
 *   2. the content-addressed action cache, <data>/actions/<owner>/<repo>/<commit-sha>/, where
 *      <data> is $RUNNEL_HOME, else $XDG_CACHE_HOME/runnel, else ~/.cache/runnel. The ref is
 *      fetched with libgit2 from $RUNNEL_GITHUB_URL/owner/repo (default https://github.com;
 *      a local folder of bare repositories works too, with or without the ".git" suffix) into
 *      a bare mirror beside the trees, resolved (tag, branch, full or abbreviated sha), and the
 *      commit's tree is written to a temporary folder renamed into place. A flock per
 *      repository serializes concurrent jobs and runs.
 *   3. offline: when the fetch fails and a ref -> sha mapping was recorded earlier, the cached
 *      tree is used with a warning; a full 40-hex sha already cached never touches the network.
 *
 * Thread-safe: one rn_remote may serve every job of a run (it memoizes resolutions per run).
 *
 * Ownership: rn_remote_new() returns a context freed with rn_remote_free(); every char * this
 * API returns is malloc'ed and the caller frees it (error strings too).
 * Owner: remote actions engineer. */
#ifndef RN_ACTIONS_REMOTE_H
#define RN_ACTIONS_REMOTE_H

#include <stdbool.h>

/* ---- --local-repository OWNER/REPO@REF=DIR ---- */

/* Parses the flag value. On success fills *repo ("owner/repo"), *ref and *dir (malloc'ed, as
 * written) and returns true; otherwise false with *err (malloc'ed), e.g.
 * "--local-repository needs OWNER/REPO@REF=DIR, got 'x'". Shared by `runnel run` and
 * `runnel validate`. Does not look at the file system. */
bool rn_local_repo_parse(const char *value, char **repo, char **ref, char **dir, char **err);

/* ---- uses: owner/repo[/path]@ref ---- */

typedef struct rn_action_ref {
    char *owner, *repo; /* as written */
    char *path;         /* "" when none, else without leading/trailing '/' */
    char *ref;
} rn_action_ref;

/* Splits `uses`. False with *err ("Expected format {org}/{repo}[/path]@ref. Actual '...'"). */
bool rn_action_ref_parse(const char *uses, rn_action_ref *out, char **err);
void rn_action_ref_free(rn_action_ref *r);

/* ---- the resolver ---- */

typedef struct rn_remote rn_remote;

/* A context reading the environment now ($RUNNEL_HOME, $XDG_CACHE_HOME, $HOME,
 * $RUNNEL_GITHUB_URL). Warnings go to stderr as "runnel: warning: ..." unless
 * rn_remote_set_warn() says otherwise. */
rn_remote *rn_remote_new(void);
void rn_remote_free(rn_remote *r);

/* Adds a --local-repository value. Relative DIRs are made absolute against the current
 * folder. False with *err when the value is malformed or DIR is not a directory. */
bool rn_remote_add_local(rn_remote *r, const char *value, char **err);

/* Where warnings (offline fallbacks) go; `fn` may be called from any thread. */
void rn_remote_set_warn(rn_remote *r, void (*fn)(void *ud, const char *msg), void *ud);

/* The data folder (for tests and docs): $RUNNEL_HOME, else $XDG_CACHE_HOME/runnel, else
 * $HOME/.cache/runnel. Borrowed from r. */
const char *rn_remote_data_dir(const rn_remote *r);

/* The --local-repository folder for owner/repo@ref (ref NULL: any ref of that repository), or
 * NULL. Borrowed from r. */
const char *rn_remote_local_dir(const rn_remote *r, const char *owner_repo, const char *ref);

/* Fetches owner/repo at ref into the cache (see above). Returns the cached tree's folder and
 * sets *sha (40 hex) when sha is not NULL; ref NULL or "" means the remote's default branch.
 * NULL with *err on failure. Ignores --local-repository. */
char *rn_remote_fetch(rn_remote *r, const char *owner, const char *repo, const char *ref,
                      char **sha, char **err);

/* The rn_resolve_action_fn of actions/step.h (ud is an rn_remote *): the folder holding the
 * action (with its path), which contains action.yml, action.yaml or Dockerfile; else NULL
 * with GitHub's "Can't find 'action.yml', 'action.yaml' or 'Dockerfile' for action
 * 'owner/repo@ref'." or a fetch error naming --local-repository. */
char *rn_remote_resolve(void *ud, const char *uses, char **err);

#endif
