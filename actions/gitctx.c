/* github context from a git repository (libgit2). Behaviour modelled on nektos/act
 * (pkg/model/github_context.go, pkg/common/git/git.go) where GitHub itself has no local
 * equivalent; differences are documented in docs/workflow-commands.md. */
#include "actions/gitctx.h"

#include "common/arena.h"
#include "common/strbuf.h"

#include <git2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define ZERO_SHA "0000000000000000000000000000000000000000"

static char *dup_or_empty(const char *s) {
    return rn_xstrdup(s ? s : "");
}

static void set(char **field, const char *v) {
    free(*field);
    *field = dup_or_empty(v);
}

void rn_gitinfo_free(rn_gitinfo *gi) {
    char **fields[] = {
        &gi->workspace,       &gi->sha,         &gi->ref,          &gi->ref_name,
        &gi->ref_type,        &gi->owner,       &gi->name,         &gi->remote_url,
        &gi->default_branch,  &gi->before,      &gi->tree_sha,     &gi->message,
        &gi->timestamp,       &gi->author_name, &gi->author_email, &gi->committer_name,
        &gi->committer_email, &gi->user_name};
    for (size_t i = 0; i < sizeof fields / sizeof *fields; i++) {
        free(*fields[i]);
        *fields[i] = NULL;
    }
}

/* ---- remote URL -> owner/name ---- */

static void strip_suffixes(char *p) {
    size_t n = strlen(p);
    while (n > 0 && p[n - 1] == '/')
        p[--n] = 0;
    if (n > 4 && strcmp(p + n - 4, ".git") == 0)
        p[n -= 4] = 0;
    while (n > 0 && p[n - 1] == '/')
        p[--n] = 0;
}

bool rn_git_url_slug(const char *url, char **owner, char **name) {
    *owner = *name = NULL;
    if (!url || !*url)
        return false;
    const char *path = NULL;
    bool hosted = true;
    const char *scheme = strstr(url, "://");
    if (scheme) {
        const char *auth = scheme + 3;
        if (strncmp(url, "file://", 7) == 0) {
            path = auth;
            hosted = false;
        } else {
            path = strchr(auth, '/');
            if (!path)
                return false;
        }
    } else {
        const char *colon = strchr(url, ':');
        const char *slash = strchr(url, '/');
        if (colon && (!slash || colon < slash) && colon != url) {
            path = colon + 1; /* scp-like user@host:owner/name */
        } else {
            path = url;
            hosted = false;
        }
    }
    char *p = rn_xstrdup(path);
    strip_suffixes(p);
    char *start = p;
    while (*start == '/')
        start++;
    char *last = strrchr(start, '/');
    if (!last || !last[1] || last == start) {
        free(p);
        return false;
    }
    *last = 0;
    char *own = start;
    if (!hosted) {
        char *prev = strrchr(start, '/');
        if (prev)
            own = prev + 1; /* a local path: only the parent folder's name */
    }
    while (*own == '/')
        own++;
    size_t ol = strlen(own);
    while (ol > 0 && own[ol - 1] == '/')
        own[--ol] = 0;
    if (!*own) {
        free(p);
        return false;
    }
    *owner = rn_xstrdup(own);
    *name = rn_xstrdup(last + 1);
    free(p);
    return true;
}

/* ---- libgit2 helpers ---- */

typedef struct match_ctx {
    git_repository *repo;
    const git_oid *target;
    char *best; /* smallest matching ref name */
} match_ctx;

static int match_cb(const char *refname, void *payload) {
    match_ctx *m = payload;
    git_reference *ref = NULL;
    git_object *obj = NULL;
    if (git_reference_lookup(&ref, m->repo, refname) == 0 &&
        git_reference_peel(&obj, ref, GIT_OBJECT_COMMIT) == 0 &&
        git_oid_equal(git_object_id(obj), m->target)) {
        if (!m->best || strcmp(refname, m->best) < 0) {
            free(m->best);
            m->best = rn_xstrdup(refname);
        }
    }
    git_object_free(obj);
    git_reference_free(ref);
    return 0;
}

/* The smallest ref name under `glob` whose commit is `target`; NULL if none. Caller frees. */
static char *ref_at(git_repository *repo, const char *glob, const git_oid *target) {
    match_ctx m = {repo, target, NULL};
    git_reference_foreach_glob(repo, glob, match_cb, &m);
    return m.best;
}

static bool ref_exists(git_repository *repo, const char *name) {
    git_reference *r = NULL;
    bool ok = git_reference_lookup(&r, repo, name) == 0;
    git_reference_free(r);
    return ok;
}

static char *iso_time(const git_time *t) {
    time_t local = (time_t)(t->time + (git_time_t)t->offset * 60);
    struct tm tm;
    gmtime_r(&local, &tm);
    char buf[64];
    strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
    if (t->offset == 0)
        return rn_xprintf("%sZ", buf);
    int off = t->offset < 0 ? -t->offset : t->offset;
    return rn_xprintf("%s%c%02d:%02d", buf, t->offset < 0 ? '-' : '+', off / 60, off % 60);
}

static char *config_user_name(git_repository *repo) {
    git_config *cfg = NULL, *snap = NULL;
    char *out = NULL;
    int rc = repo ? git_repository_config(&cfg, repo) : git_config_open_default(&cfg);
    if (rc == 0 && git_config_snapshot(&snap, cfg) == 0) {
        const char *v = NULL;
        if (git_config_get_string(&v, snap, "user.name") == 0 && v)
            out = rn_xstrdup(v);
    }
    git_config_free(snap);
    git_config_free(cfg);
    return out ? out : rn_xstrdup("");
}

static char *config_remote_url(git_repository *repo, const char *remote) {
    git_config *cfg = NULL, *snap = NULL;
    char *out = NULL;
    char *key = rn_xprintf("remote.%s.url", remote);
    if (git_repository_config(&cfg, repo) == 0 && git_config_snapshot(&snap, cfg) == 0) {
        const char *v = NULL;
        if (git_config_get_string(&v, snap, key) == 0 && v)
            out = rn_xstrdup(v);
    }
    git_config_free(snap);
    git_config_free(cfg);
    free(key);
    return out;
}

static const char *basename_of(const char *path) {
    const char *s = strrchr(path, '/');
    return (s && s[1]) ? s + 1 : path;
}

static void set_branch_ref(rn_gitinfo *gi, const char *branch) {
    free(gi->ref);
    gi->ref = rn_xprintf("refs/heads/%s", branch);
    set(&gi->ref_name, branch);
    set(&gi->ref_type, "branch");
}

static void load_commit(rn_gitinfo *gi, git_repository *repo, const git_oid *oid) {
    git_commit *c = NULL;
    if (git_commit_lookup(&c, repo, oid) != 0)
        return;
    char hex[GIT_OID_HEXSZ + 1];
    git_oid_tostr(hex, sizeof hex, git_commit_tree_id(c));
    set(&gi->tree_sha, hex);
    set(&gi->message, git_commit_message(c));
    const git_signature *a = git_commit_author(c), *m = git_commit_committer(c);
    if (a) {
        set(&gi->author_name, a->name);
        set(&gi->author_email, a->email);
    }
    if (m) {
        set(&gi->committer_name, m->name);
        set(&gi->committer_email, m->email);
        free(gi->timestamp);
        gi->timestamp = iso_time(&m->when);
    }
    if (git_commit_parentcount(c) > 0) {
        git_oid_tostr(hex, sizeof hex, git_commit_parent_id(c, 0));
        set(&gi->before, hex);
    }
    git_commit_free(c);
}

/* Default branch: <remote>/HEAD's target, else a local main, else master, else the current
 * branch, else "main". */
static void load_default_branch(rn_gitinfo *gi, git_repository *repo, const char *remote,
                                const char *current) {
    char *rhead = rn_xprintf("refs/remotes/%s/HEAD", remote);
    git_reference *r = NULL;
    if (git_reference_lookup(&r, repo, rhead) == 0 &&
        git_reference_type(r) == GIT_REFERENCE_SYMBOLIC) {
        const char *t = git_reference_symbolic_target(r);
        size_t pl = strlen(rhead) - 4; /* "refs/remotes/<remote>/" */
        if (t && strncmp(t, rhead, pl) == 0 && t[pl])
            set(&gi->default_branch, t + pl);
    }
    git_reference_free(r);
    free(rhead);
    if (*gi->default_branch)
        return;
    if (ref_exists(repo, "refs/heads/main"))
        set(&gi->default_branch, "main");
    else if (ref_exists(repo, "refs/heads/master"))
        set(&gi->default_branch, "master");
    else
        set(&gi->default_branch, (current && *current) ? current : "main");
}

static void load_repo(rn_gitinfo *gi, git_repository *repo, const char *remote) {
    const char *wd = git_repository_workdir(repo);
    if (wd) {
        set(&gi->workspace, wd);
        size_t n = strlen(gi->workspace);
        while (n > 1 && gi->workspace[n - 1] == '/')
            gi->workspace[--n] = 0;
    }
    gi->detached = git_repository_head_detached(repo) == 1;

    /* The branch HEAD names (also when unborn: an empty repository). */
    char *branch = NULL;
    git_reference *head = NULL;
    if (git_reference_lookup(&head, repo, "HEAD") == 0 &&
        git_reference_type(head) == GIT_REFERENCE_SYMBOLIC) {
        const char *t = git_reference_symbolic_target(head);
        if (t && strncmp(t, "refs/heads/", 11) == 0)
            branch = rn_xstrdup(t + 11);
    }
    git_reference_free(head);

    git_oid oid;
    bool has_commit = git_reference_name_to_id(&oid, repo, "HEAD") == 0;
    if (has_commit) {
        char hex[GIT_OID_HEXSZ + 1];
        git_oid_tostr(hex, sizeof hex, &oid);
        set(&gi->sha, hex);
        load_commit(gi, repo, &oid);
    }

    /* remote.<name>.url straight from the config, as act (go-git) does: no insteadOf
     * rewriting. It also avoids git_remote_lookup(), which leaks PCRE2 match data in
     * libgit2 1.5. */
    char *url = config_remote_url(repo, remote);
    set(&gi->remote_url, url);
    free(url);
    char *o, *n;
    if (rn_git_url_slug(gi->remote_url, &o, &n)) {
        free(gi->owner);
        free(gi->name);
        gi->owner = o;
        gi->name = n;
    }
    load_default_branch(gi, repo, remote, branch);

    if (branch) {
        set_branch_ref(gi, branch);
    } else if (has_commit) {
        /* Detached: a tag at HEAD first (as act), then a local branch at HEAD. */
        char *tag = ref_at(repo, "refs/tags/*", &oid);
        char *br = tag ? NULL : ref_at(repo, "refs/heads/*", &oid);
        if (tag) {
            set(&gi->ref, tag);
            set(&gi->ref_name, tag + 10);
            set(&gi->ref_type, "tag");
        } else if (br) {
            set_branch_ref(gi, br + 11);
        } else {
            set_branch_ref(gi, gi->default_branch); /* act's fallback */
        }
        free(tag);
        free(br);
    } else {
        set_branch_ref(gi, gi->default_branch);
    }
    free(branch);
    free(gi->user_name);
    gi->user_name = config_user_name(repo);
}

int rn_gitinfo_load(rn_gitinfo *gi, const char *path, const char *remote) {
    memset(gi, 0, sizeof *gi);
    char **fields[] = {
        &gi->workspace,       &gi->sha,         &gi->ref,          &gi->ref_name,
        &gi->ref_type,        &gi->owner,       &gi->name,         &gi->remote_url,
        &gi->default_branch,  &gi->before,      &gi->tree_sha,     &gi->message,
        &gi->timestamp,       &gi->author_name, &gi->author_email, &gi->committer_name,
        &gi->committer_email, &gi->user_name};
    for (size_t i = 0; i < sizeof fields / sizeof *fields; i++)
        *fields[i] = rn_xstrdup("");
    set(&gi->before, ZERO_SHA);
    if (!remote || !*remote)
        remote = "origin";
    if (path && *path) {
        set(&gi->workspace, path);
        size_t n = strlen(gi->workspace);
        while (n > 1 && gi->workspace[n - 1] == '/')
            gi->workspace[--n] = 0;
    }

    git_libgit2_init();
    git_repository *repo = NULL;
    if (path && *path && git_repository_open_ext(&repo, path, 0, NULL) == 0) {
        gi->is_repo = true;
        load_repo(gi, repo, remote);
        git_repository_free(repo);
    } else {
        set(&gi->default_branch, "main");
        set_branch_ref(gi, "main");
        free(gi->user_name);
        gi->user_name = config_user_name(NULL);
    }
    git_libgit2_shutdown();

    /* No usable remote: owner "local", name from the folder. */
    if (!*gi->owner || !*gi->name) {
        set(&gi->owner, "local");
        set(&gi->name, *gi->workspace ? basename_of(gi->workspace) : "repository");
    }
    return gi->is_repo ? 0 : 1;
}

/* ---- JSON ---- */

static const char *or_default(const char *s, const char *d) {
    return (s && *s) ? s : d;
}

static const char *actor_of(const rn_gitinfo *gi, const rn_gitctx_opts *o) {
    if (o && o->actor && *o->actor)
        return o->actor;
    if (*gi->user_name)
        return gi->user_name;
    return or_default(getenv("USER"), "runnel");
}

static const char *event_name_of(const rn_gitctx_opts *o) {
    return (o && o->event_name && *o->event_name) ? o->event_name : "push";
}

static const char *server_of(const rn_gitctx_opts *o) {
    return (o && o->server_url && *o->server_url) ? o->server_url : "https://github.com";
}

static void sets(json_t *obj, const char *k, const char *v) {
    json_object_set_new(obj, k, json_string(v ? v : ""));
}

static json_t *person(const char *name, const char *email) {
    json_t *p = json_object();
    sets(p, "name", name);
    sets(p, "email", email);
    return p;
}

/* The first line of a commit message (GitHub's PR title default). */
static char *summary_of(const char *msg) {
    size_t n = strcspn(msg, "\n");
    return rn_xstrndup(msg, n);
}

json_t *rn_gitctx_event(const rn_gitinfo *gi, const rn_gitctx_opts *opts) {
    const char *ev = event_name_of(opts), *server = server_of(opts);
    const char *actor = actor_of(gi, opts);
    json_t *e = json_object();

    json_t *repo = json_object();
    char *full = rn_xprintf("%s/%s", gi->owner, gi->name);
    sets(repo, "name", gi->name);
    sets(repo, "full_name", full);
    json_t *owner = json_object();
    sets(owner, "login", gi->owner);
    sets(owner, "name", gi->owner);
    json_object_set_new(repo, "owner", owner);
    sets(repo, "default_branch", gi->default_branch);
    sets(repo, "master_branch", gi->default_branch);
    char *html = rn_xprintf("%s/%s", server, full);
    sets(repo, "html_url", html);
    char *clone = rn_xprintf("%s.git", html);
    sets(repo, "clone_url", clone);
    json_object_set_new(repo, "private", json_false());
    json_object_set_new(repo, "fork", json_false());
    json_object_set_new(e, "repository", repo);
    json_t *sender = json_object();
    sets(sender, "login", actor);
    json_object_set_new(e, "sender", sender);

    if (strcmp(ev, "push") == 0) {
        sets(e, "ref", gi->ref);
        sets(e, "before", gi->before);
        sets(e, "after", *gi->sha ? gi->sha : ZERO_SHA);
        json_object_set_new(e, "created", json_false());
        json_object_set_new(e, "deleted", json_false());
        json_object_set_new(e, "forced", json_false());
        json_object_set_new(e, "base_ref", json_null());
        sets(e, "compare", "");
        json_object_set_new(e, "pusher", person(actor, gi->author_email));
        if (*gi->sha) {
            json_t *hc = json_object();
            sets(hc, "id", gi->sha);
            sets(hc, "tree_id", gi->tree_sha);
            sets(hc, "message", gi->message);
            sets(hc, "timestamp", gi->timestamp);
            json_object_set_new(hc, "author", person(gi->author_name, gi->author_email));
            json_object_set_new(hc, "committer", person(gi->committer_name, gi->committer_email));
            json_object_set_new(hc, "distinct", json_true());
            json_t *commits = json_array();
            json_array_append(commits, hc);
            json_object_set_new(e, "commits", commits);
            json_object_set_new(e, "head_commit", hc);
        } else {
            json_object_set_new(e, "commits", json_array());
            json_object_set_new(e, "head_commit", json_null());
        }
    } else if (strcmp(ev, "pull_request") == 0 || strcmp(ev, "pull_request_target") == 0) {
        sets(e, "action", "opened");
        json_object_set_new(e, "number", json_integer(1));
        json_t *pr = json_object();
        json_object_set_new(pr, "number", json_integer(1));
        sets(pr, "state", "open");
        char *title = summary_of(gi->message);
        sets(pr, "title", title);
        free(title);
        json_t *head = json_object(), *base = json_object();
        sets(head, "ref", gi->ref_name);
        sets(head, "sha", gi->sha);
        char *hl = rn_xprintf("%s:%s", gi->owner, gi->ref_name);
        sets(head, "label", hl);
        free(hl);
        sets(base, "ref", gi->default_branch);
        sets(base, "sha", "");
        char *bl = rn_xprintf("%s:%s", gi->owner, gi->default_branch);
        sets(base, "label", bl);
        free(bl);
        json_object_set_new(pr, "head", head);
        json_object_set_new(pr, "base", base);
        json_object_set_new(e, "pull_request", pr);
    } else if (strcmp(ev, "workflow_dispatch") == 0) {
        sets(e, "ref", gi->ref);
        const json_t *in = opts ? opts->inputs : NULL;
        json_object_set_new(e, "inputs", json_is_object(in) ? json_deep_copy(in) : json_object());
        sets(e, "workflow", "");
    }
    free(full);
    free(html);
    free(clone);
    return e;
}

json_t *rn_gitctx_github(const rn_gitinfo *gi, const rn_gitctx_opts *opts) {
    const char *ev = event_name_of(opts), *server = server_of(opts);
    bool pr = strcmp(ev, "pull_request") == 0 || strcmp(ev, "pull_request_target") == 0;
    json_t *g = json_object();
    sets(g, "event_name", ev);
    json_object_set_new(g, "event", rn_gitctx_event(gi, opts));
    sets(g, "sha", gi->sha);
    if (strcmp(ev, "pull_request") == 0) {
        sets(g, "ref", "refs/pull/1/merge");
        sets(g, "ref_name", "1/merge");
    } else {
        sets(g, "ref", gi->ref);
        sets(g, "ref_name", gi->ref_name);
    }
    sets(g, "ref_type", gi->ref_type);
    json_object_set_new(g, "ref_protected", json_false());
    sets(g, "head_ref", pr ? gi->ref_name : "");
    sets(g, "base_ref", pr ? gi->default_branch : "");
    char *full = rn_xprintf("%s/%s", gi->owner, gi->name);
    sets(g, "repository", full);
    sets(g, "repository_owner", gi->owner);
    const char *host = strstr(server, "://") ? strstr(server, "://") + 3 : server;
    char *url = rn_xprintf("git://%s/%s.git", host, full);
    sets(g, "repositoryUrl", url);
    free(url);
    free(full);
    sets(g, "server_url", server);
    if (strcmp(server, "https://github.com") == 0) {
        sets(g, "api_url", "https://api.github.com");
        sets(g, "graphql_url", "https://api.github.com/graphql");
    } else {
        /* GitHub Enterprise Server layout */
        char *api = rn_xprintf("%s/api/v3", server), *gql = rn_xprintf("%s/api/graphql", server);
        sets(g, "api_url", api);
        sets(g, "graphql_url", gql);
        free(api);
        free(gql);
    }
    sets(g, "workspace", gi->workspace);
    const char *actor = actor_of(gi, opts);
    sets(g, "actor", actor);
    sets(g, "triggering_actor", actor);
    sets(g, "run_id", or_default(opts ? opts->run_id : NULL, "1"));
    sets(g, "run_number", or_default(opts ? opts->run_number : NULL, "1"));
    sets(g, "run_attempt", or_default(opts ? opts->run_attempt : NULL, "1"));
    return g;
}
