/* The `github` context base for a local run, read from a git repository with libgit2.
 *
 * rn_gitinfo_load() reads what the repository knows (HEAD commit, branch/tag, origin remote,
 * default branch, head commit details); rn_gitctx_github() turns it into the `github` context
 * object and rn_gitctx_event() into a synthesized event payload. Anything missing (no folder,
 * not a repository, no commits, no remote, detached HEAD) falls back to documented values; none
 * of them fails. See docs/workflow-commands.md ("github context from git") for the rules.
 *
 * Ownership: an rn_gitinfo owns its strings (rn_gitinfo_free()). Returned json_t are new
 * references (json_decref()). Pure with respect to processes: libgit2 reads files only.
 * Owner: actions/gitctx (workflow-commands engineer). */
#ifndef RN_ACTIONS_GITCTX_H
#define RN_ACTIONS_GITCTX_H

#include <jansson.h>
#include <stdbool.h>

typedef struct rn_gitinfo {
    bool is_repo;         /* a git repository was found at (or above) the folder */
    char *workspace;      /* repository work tree without trailing '/', else the folder as given
                             (or "" without one) */
    char *sha;            /* HEAD commit, 40 hex; "" without commits */
    char *ref;            /* refs/heads/B or refs/tags/T */
    char *ref_name;       /* B or T */
    char *ref_type;       /* "branch" or "tag" */
    bool detached;        /* HEAD is detached */
    char *owner, *name;   /* repository_owner and the name part of `repository` */
    char *remote_url;     /* the remote's URL, "" without one */
    char *default_branch; /* see docs */
    char *before;         /* first parent of HEAD, or 40 zeros */
    /* HEAD commit details; "" without commits. */
    char *tree_sha, *message, *timestamp; /* timestamp: ISO 8601 with the commit's UTC offset */
    char *author_name, *author_email, *committer_name, *committer_email;
    char *user_name; /* git config user.name, "" when unset */
} rn_gitinfo;

/* Reads `path` (NULL or "" for no folder). `remote` names the remote (NULL: "origin"). Always
 * fills every field (never NULL strings). Returns 0 when a repository was read, 1 when the
 * fallbacks were used. */
int rn_gitinfo_load(rn_gitinfo *gi, const char *path, const char *remote);
void rn_gitinfo_free(rn_gitinfo *gi);

typedef struct rn_gitctx_opts {
    const char *event_name; /* NULL: "push" */
    const char *actor;      /* NULL: git config user.name, then $USER, then "runnel" */
    const char *run_id, *run_number, *run_attempt; /* NULL: "1" */
    const char *server_url;                        /* NULL: "https://github.com" */
    const json_t *inputs; /* workflow_dispatch inputs (object, borrowed), may be NULL */
} rn_gitctx_opts;

/* The `github` context: event_name, event (rn_gitctx_event()), sha, ref, ref_name, ref_type,
 * ref_protected (false), head_ref, base_ref, repository, repository_owner, repositoryUrl,
 * server_url, api_url, graphql_url, workspace, actor, triggering_actor, run_id, run_number,
 * run_attempt. Strings except `event` and ref_protected. Fields like job, workflow, action,
 * token, retention_days, event_path are the caller's. For pull_request events ref is
 * refs/pull/1/merge, head_ref the current branch and base_ref the default branch. */
json_t *rn_gitctx_github(const rn_gitinfo *gi, const rn_gitctx_opts *opts);

/* A synthesized event payload. Fields by event:
 *  every event: repository {name, full_name, owner {login, name}, default_branch,
 *               master_branch, html_url, clone_url, private: false, fork: false},
 *               sender {login}
 *  push:        ref, before, after, created, deleted, forced (false), base_ref (null),
 *               compare "", pusher {name, email}, head_commit (null without commits) and
 *               commits [head_commit], head_commit = {id, tree_id, message, timestamp,
 *               author {name, email}, committer {name, email}, distinct: true}
 *  pull_request: action "opened", number 1, pull_request {number 1, state "open", title (head
 *               commit summary), head {ref, sha, label}, base {ref, sha "", label}}
 *  workflow_dispatch: ref, inputs (copy of opts->inputs or {}), workflow ""
 *  other names: only repository and sender. */
json_t *rn_gitctx_event(const rn_gitinfo *gi, const rn_gitctx_opts *opts);

/* Splits a remote URL into owner and name: https://host/OWNER/NAME(.git), ssh://[user@]host
 * [:port]/OWNER/NAME(.git), [user@]host:OWNER/NAME(.git), file paths alike. The owner is every
 * path component but the last (so GitLab subgroups stay "group/sub"). Returns false when the URL
 * has fewer than two path components. *owner and *name are malloc'ed on success. */
bool rn_git_url_slug(const char *url, char **owner, char **name);

#endif
