/* Remote actions: --local-repository mappings and the libgit2 action cache (actions/remote.h).
 *
 * Cache layout under <data>/actions/<owner>/<repo>/ (owner and repo lower-cased, as GitHub
 * names are case-insensitive):
 *   mirror.git/   bare repository every fetch updates (branches and tags, forced)
 *   <sha>/        the tree of commit <sha>, written once, renamed into place, never modified
 *   refs.json     {"<ref>": "<sha>"} of the last successful resolutions, for offline use
 *   .lock         flock()ed while the repository is fetched or a tree written */
#include "actions/remote.h"

#include "common/arena.h"
#include "common/strbuf.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <git2.h>
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

typedef struct local_map {
    char *repo; /* owner/repo */
    char *ref;
    char *dir; /* absolute */
} local_map;

typedef struct memo {
    char *key; /* lower(owner/repo)@ref */
    char *dir, *sha;
} memo;

struct rn_remote {
    char *data_dir;
    char *base_url; /* without trailing '/' */
    local_map *locals;
    size_t n_locals;
    void (*warn)(void *ud, const char *msg);
    void *warn_ud;
    pthread_mutex_t lock; /* guards memos */
    memo *memos;
    size_t n_memos;
};

/* ---- small file-system helpers ---- */

static bool is_dir(const char *p) {
    struct stat st;
    return !stat(p, &st) && S_ISDIR(st.st_mode);
}

static bool exists(const char *p) {
    struct stat st;
    return !lstat(p, &st);
}

static int mkdir_p(const char *path, mode_t mode) {
    char *p = rn_xstrdup(path);
    for (char *s = p + 1; *s; s++) {
        if (*s != '/')
            continue;
        *s = 0;
        if (mkdir(p, mode) && errno != EEXIST) {
            free(p);
            return -1;
        }
        *s = '/';
    }
    int rc = mkdir(p, mode) && errno != EEXIST ? -1 : 0;
    free(p);
    return rc;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
    (void)st;
    (void)ftw;
    return flag == FTW_DP ? rmdir(path) : unlink(path);
}

static void rm_rf(const char *path) {
    nftw(path, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static char *lower(const char *s) {
    char *r = rn_xstrdup(s);
    for (char *p = r; *p; p++)
        *p = (char)tolower((unsigned char)*p);
    return r;
}

static bool is_hex(const char *s, size_t min, size_t max) {
    size_t n = strlen(s);
    if (n < min || n > max)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!isxdigit((unsigned char)s[i]))
            return false;
    return true;
}

static char *git_msg(void) {
    const git_error *e = git_error_last();
    return rn_xstrdup(e && e->message ? e->message : "unknown libgit2 error");
}

/* ---- --local-repository ---- */

bool rn_local_repo_parse(const char *value, char **repo, char **ref, char **dir, char **err) {
    *repo = *ref = *dir = NULL;
    const char *v = value ? value : "";
    const char *eq = strchr(v, '=');
    const char *at = strchr(v, '@');
    const char *slash = strchr(v, '/');
    const char *why = NULL;
    if (!eq)
        why = "missing '=DIR'";
    else if (!eq[1])
        why = "empty DIR";
    else if (!at || at > eq)
        why = "missing '@REF'";
    else if (at + 1 == eq)
        why = "empty REF";
    else if (!slash || slash > at || slash == v || slash + 1 == at ||
             memchr(slash + 1, '/', (size_t)(at - slash - 1)))
        why = "OWNER/REPO must be two non-empty names separated by one '/'";
    if (why) {
        *err = rn_xprintf("--local-repository needs OWNER/REPO@REF=DIR, got '%s' (%s)", v, why);
        return false;
    }
    *repo = rn_xstrndup(v, (size_t)(at - v));
    *ref = rn_xstrndup(at + 1, (size_t)(eq - at - 1));
    *dir = rn_xstrdup(eq + 1);
    return true;
}

/* ---- uses ---- */

bool rn_action_ref_parse(const char *uses, rn_action_ref *out, char **err) {
    memset(out, 0, sizeof *out);
    const char *at = uses ? strchr(uses, '@') : NULL;
    const char *s1 = uses ? strchr(uses, '/') : NULL;
    const char *s2 = s1 && at && s1 < at ? memchr(s1 + 1, '/', (size_t)(at - s1 - 1)) : NULL;
    const char *repo_end = s2 ? s2 : at;
    if (!at || !at[1] || strchr(at + 1, '@') || !s1 || s1 > at || s1 == uses ||
        s1 + 1 == repo_end) {
        *err = rn_xprintf("Expected format {org}/{repo}[/path]@ref. Actual '%s'", uses ? uses : "");
        return false;
    }
    out->owner = rn_xstrndup(uses, (size_t)(s1 - uses));
    out->repo = rn_xstrndup(s1 + 1, (size_t)(repo_end - s1 - 1));
    const char *p = s2 ? s2 : at, *pe = at;
    while (p < pe && *p == '/')
        p++;
    while (pe > p && pe[-1] == '/')
        pe--;
    out->path = rn_xstrndup(p, (size_t)(pe - p));
    out->ref = rn_xstrdup(at + 1);
    return true;
}

void rn_action_ref_free(rn_action_ref *r) {
    free(r->owner);
    free(r->repo);
    free(r->path);
    free(r->ref);
    memset(r, 0, sizeof *r);
}

/* ---- context ---- */

static void warn_stderr(void *ud, const char *msg) {
    (void)ud;
    fprintf(stderr, "runnel: warning: %s\n", msg);
}

rn_remote *rn_remote_new(void) {
    rn_remote *r = rn_xcalloc(1, sizeof *r);
    const char *home = getenv("RUNNEL_HOME");
    const char *xdg = getenv("XDG_CACHE_HOME");
    const char *h = getenv("HOME");
    if (home && *home)
        r->data_dir = rn_xstrdup(home);
    else if (xdg && *xdg)
        r->data_dir = rn_xprintf("%s/runnel", xdg);
    else
        r->data_dir = rn_xprintf("%s/.cache/runnel", h && *h ? h : "/tmp");
    const char *url = getenv("RUNNEL_GITHUB_URL");
    r->base_url = rn_xstrdup(url && *url ? url : "https://github.com");
    size_t n = strlen(r->base_url);
    while (n > 1 && r->base_url[n - 1] == '/')
        r->base_url[--n] = 0;
    r->warn = warn_stderr;
    pthread_mutex_init(&r->lock, NULL);
    return r;
}

void rn_remote_free(rn_remote *r) {
    if (!r)
        return;
    for (size_t i = 0; i < r->n_locals; i++) {
        free(r->locals[i].repo);
        free(r->locals[i].ref);
        free(r->locals[i].dir);
    }
    free(r->locals);
    for (size_t i = 0; i < r->n_memos; i++) {
        free(r->memos[i].key);
        free(r->memos[i].dir);
        free(r->memos[i].sha);
    }
    free(r->memos);
    pthread_mutex_destroy(&r->lock);
    free(r->data_dir);
    free(r->base_url);
    free(r);
}

void rn_remote_set_warn(rn_remote *r, void (*fn)(void *ud, const char *msg), void *ud) {
    r->warn = fn ? fn : warn_stderr;
    r->warn_ud = ud;
}

const char *rn_remote_data_dir(const rn_remote *r) {
    return r->data_dir;
}

bool rn_remote_add_local(rn_remote *r, const char *value, char **err) {
    char *repo, *ref, *dir;
    if (!rn_local_repo_parse(value, &repo, &ref, &dir, err))
        return false;
    if (!is_dir(dir)) {
        *err = rn_xprintf("--local-repository %s@%s: '%s' is not a directory", repo, ref, dir);
        free(repo);
        free(ref);
        free(dir);
        return false;
    }
    if (dir[0] != '/') {
        char cwd[4096];
        if (getcwd(cwd, sizeof cwd)) {
            char *abs = rn_xprintf("%s/%s", cwd, dir);
            free(dir);
            dir = abs;
        }
    }
    size_t n = strlen(dir);
    while (n > 1 && dir[n - 1] == '/')
        dir[--n] = 0;
    r->locals = rn_xrealloc(r->locals, (r->n_locals + 1) * sizeof *r->locals);
    r->locals[r->n_locals++] = (local_map){repo, ref, dir};
    return true;
}

const char *rn_remote_local_dir(const rn_remote *r, const char *owner_repo, const char *ref) {
    /* the last mapping given wins, as later flags override earlier ones */
    for (size_t i = r->n_locals; i-- > 0;)
        if (!strcasecmp(r->locals[i].repo, owner_repo) && (!ref || !strcmp(r->locals[i].ref, ref)))
            return r->locals[i].dir;
    return NULL;
}

/* ---- fetching ---- */

/* $RUNNEL_GITHUB_URL/owner/repo; for a local folder, the ".git" form when only it exists, and
 * NULL when neither does. */
static char *remote_url(const rn_remote *r, const char *owner, const char *repo) {
    const char *b = r->base_url;
    const char *local = !strncmp(b, "file://", 7) ? b + 7 : (b[0] == '/' || b[0] == '.') ? b : NULL;
    if (local) {
        char *p = rn_xprintf("%s/%s/%s", local, owner, repo);
        if (is_dir(p))
            return p;
        char *g = rn_xprintf("%s.git", p);
        if (is_dir(g)) {
            free(p);
            return g;
        }
        free(g);
        free(p);
        return NULL;
    }
    return rn_xprintf("%s/%s/%s", b, owner, repo);
}

/* Why remote_url() found nothing (a local base only): clearer than libgit2's message. */
static char *no_local_repo(const rn_remote *r, const char *owner, const char *repo) {
    const char *b = r->base_url;
    const char *local = !strncmp(b, "file://", 7) ? b + 7 : b;
    return rn_xprintf("no repository at '%s/%s/%s' or '%s/%s/%s.git'", local, owner, repo, local,
                      owner, repo);
}

/* Fetches every branch and tag of url into the mirror. *head: the remote's default branch
 * (refs/heads/...) or NULL. */
static int fetch_mirror(git_repository *g, const char *url, char **head, char **err) {
    git_remote *remote = NULL;
    *head = NULL;
    char *specs[] = {"+refs/heads/*:refs/heads/*", "+refs/tags/*:refs/tags/*"};
    git_strarray refspecs = {specs, 2};
    git_fetch_options fo;
    git_fetch_options_init(&fo, GIT_FETCH_OPTIONS_VERSION);
    fo.download_tags = GIT_REMOTE_DOWNLOAD_TAGS_NONE; /* the refspec already takes them all */
    /* anonymous, and no url.*.insteadOf lookup: libgit2 1.5 leaks pcre2 match data there */
    git_remote_create_options co;
    git_remote_create_options_init(&co, GIT_REMOTE_CREATE_OPTIONS_VERSION);
    co.repository = g;
    co.flags = GIT_REMOTE_CREATE_SKIP_INSTEADOF | GIT_REMOTE_CREATE_SKIP_DEFAULT_FETCHSPEC;
    int rc = git_remote_create_with_opts(&remote, url, &co);
    if (!rc)
        rc = git_remote_connect(remote, GIT_DIRECTION_FETCH, &fo.callbacks, &fo.proxy_opts, NULL);
    if (!rc) {
        git_buf buf = {0};
        if (!git_remote_default_branch(&buf, remote))
            *head = rn_xstrdup(buf.ptr);
        git_buf_dispose(&buf);
        rc = git_remote_download(remote, &refspecs, &fo);
    }
    if (!rc)
        rc = git_remote_update_tips(remote, &fo.callbacks, 0, GIT_REMOTE_DOWNLOAD_TAGS_NONE, NULL);
    if (rc) {
        *err = git_msg();
        free(*head);
        *head = NULL;
    }
    if (remote) {
        git_remote_disconnect(remote);
        git_remote_free(remote);
    }
    return rc;
}

/* The commit `ref` names in the mirror: refs/tags/REF, refs/heads/REF, REF itself when it
 * starts with refs/, then an (abbreviated) sha. */
static bool resolve_in_mirror(git_repository *g, const char *ref, git_oid *out) {
    char *names[3] = {rn_xprintf("refs/tags/%s", ref), rn_xprintf("refs/heads/%s", ref),
                      !strncmp(ref, "refs/", 5) ? rn_xstrdup(ref) : NULL};
    bool found = false;
    for (int i = 0; i < 3 && !found; i++) {
        git_reference *rf = NULL;
        git_object *obj = NULL;
        if (names[i] && !git_reference_lookup(&rf, g, names[i]) &&
            !git_reference_peel(&obj, rf, GIT_OBJECT_COMMIT)) {
            git_oid_cpy(out, git_object_id(obj));
            found = true;
        }
        git_object_free(obj);
        git_reference_free(rf);
    }
    for (int i = 0; i < 3; i++)
        free(names[i]);
    if (!found && is_hex(ref, GIT_OID_MINPREFIXLEN, GIT_OID_HEXSZ)) {
        git_oid prefix;
        git_object *obj = NULL, *commit = NULL;
        if (!git_oid_fromstrn(&prefix, ref, strlen(ref)) &&
            !git_object_lookup_prefix(&obj, g, &prefix, strlen(ref), GIT_OBJECT_ANY) &&
            !git_object_peel(&commit, obj, GIT_OBJECT_COMMIT)) {
            git_oid_cpy(out, git_object_id(commit));
            found = true;
        }
        git_object_free(commit);
        git_object_free(obj);
    }
    git_error_clear();
    return found;
}

typedef struct tree_writer {
    git_repository *g;
    const char *root;
    char *err;
} tree_writer;

static int write_entry(const char *dir, const git_tree_entry *e, void *payload) {
    tree_writer *w = payload;
    char *path = rn_xprintf("%s/%s%s", w->root, dir, git_tree_entry_name(e));
    int rc = 0;
    git_filemode_t mode = git_tree_entry_filemode(e);
    if (mode == GIT_FILEMODE_TREE || mode == GIT_FILEMODE_COMMIT) {
        /* submodules stay empty folders, as in GitHub's action tarballs */
        if (mkdir(path, 0755) && errno != EEXIST) {
            w->err = rn_xprintf("cannot create %s: %s", path, strerror(errno));
            rc = -1;
        }
    } else {
        git_blob *blob = NULL;
        if (git_blob_lookup(&blob, w->g, git_tree_entry_id(e))) {
            w->err = git_msg();
            free(path);
            return -1;
        }
        const char *data = git_blob_rawcontent(blob);
        size_t n = (size_t)git_blob_rawsize(blob);
        if (mode == GIT_FILEMODE_LINK) {
            char *target = rn_xstrndup(data, n);
            if (symlink(target, path)) {
                w->err = rn_xprintf("cannot create the symlink %s: %s", path, strerror(errno));
                rc = -1;
            }
            free(target);
        } else {
            mode_t m = mode == GIT_FILEMODE_BLOB_EXECUTABLE ? 0755 : 0644;
            int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, m);
            size_t off = 0;
            while (fd >= 0 && off < n) {
                ssize_t k = write(fd, data + off, n - off);
                if (k < 0 && errno == EINTR)
                    continue;
                if (k <= 0)
                    break;
                off += (size_t)k;
            }
            if (fd < 0 || off < n || fchmod(fd, m)) {
                w->err = rn_xprintf("cannot write %s: %s", path, strerror(errno));
                rc = -1;
            }
            if (fd >= 0)
                close(fd);
        }
        git_blob_free(blob);
    }
    free(path);
    return rc;
}

/* Writes the tree of commit `oid` to `dest` (created). */
static bool write_tree(git_repository *g, const git_oid *oid, const char *dest, char **err) {
    git_commit *c = NULL;
    git_tree *t = NULL;
    tree_writer w = {g, dest, NULL};
    bool ok = false;
    if (git_commit_lookup(&c, g, oid) || git_commit_tree(&t, c)) {
        *err = git_msg();
    } else if (mkdir(dest, 0755)) {
        *err = rn_xprintf("cannot create %s: %s", dest, strerror(errno));
    } else if (git_tree_walk(t, GIT_TREEWALK_PRE, write_entry, &w)) {
        *err = w.err ? w.err : git_msg();
        w.err = NULL;
    } else {
        ok = true;
    }
    free(w.err);
    git_tree_free(t);
    git_commit_free(c);
    return ok;
}

static json_t *refs_load(const char *repo_dir) {
    char *p = rn_xprintf("%s/refs.json", repo_dir);
    json_t *j = json_load_file(p, 0, NULL);
    free(p);
    if (!json_is_object(j)) {
        json_decref(j);
        j = json_object();
    }
    return j;
}

/* Records ref -> sha (called with the repository's lock held). */
static void refs_store(const char *repo_dir, const char *ref, const char *sha) {
    json_t *j = refs_load(repo_dir);
    const char *old = json_string_value(json_object_get(j, ref));
    if (!old || strcmp(old, sha)) {
        json_object_set_new(j, ref, json_string(sha));
        char *p = rn_xprintf("%s/refs.json", repo_dir);
        char *tmp = rn_xprintf("%s/.refs.json.%d", repo_dir, (int)getpid());
        if (!json_dump_file(j, tmp, JSON_INDENT(2) | JSON_SORT_KEYS))
            rename(tmp, p);
        else
            unlink(tmp);
        free(tmp);
        free(p);
    }
    json_decref(j);
}

/* Does the work of rn_remote_fetch with the repository's lock held. `key_ref` is the ref as
 * recorded in refs.json ("HEAD" for the default branch). */
static char *fetch_locked(rn_remote *r, const char *owner, const char *repo, const char *repo_dir,
                          const char *ref, char **sha_out, char **err) {
    const char *key_ref = ref && *ref ? ref : "HEAD";
    const char *shown_ref = ref && *ref ? ref : "HEAD";
    if (ref && is_hex(ref, GIT_OID_HEXSZ, GIT_OID_HEXSZ)) {
        /* a full sha never changes: a cached tree needs no network */
        char *l = lower(ref);
        char *dir = rn_xprintf("%s/%s", repo_dir, l);
        if (is_dir(dir)) {
            *sha_out = l;
            return dir;
        }
        free(dir);
        free(l);
    }
    char *mirror = rn_xprintf("%s/mirror.git", repo_dir);
    git_repository *g = NULL;
    char *result = NULL, *fetch_err = NULL, *head = NULL, *url = NULL;
    if (git_repository_open_bare(&g, mirror) && git_repository_init(&g, mirror, 1)) {
        *err = rn_xprintf("failed to fetch action %s/%s@%s: %s", owner, repo, shown_ref,
                          fetch_err = git_msg());
        goto out;
    }
    url = remote_url(r, owner, repo);
    git_oid oid;
    bool found = false;
    if (!url)
        fetch_err = no_local_repo(r, owner, repo);
    if (!url || fetch_mirror(g, url, &head, &fetch_err)) {
        /* offline: a sha the mirror holds is as good as fetched; a named ref is used as last
         * resolved, with a warning since it may have moved */
        if (ref && is_hex(ref, GIT_OID_MINPREFIXLEN, GIT_OID_HEXSZ) &&
            resolve_in_mirror(g, ref, &oid)) {
            found = true;
        } else {
            json_t *refs = refs_load(repo_dir);
            const char *sha = json_string_value(json_object_get(refs, key_ref));
            char *dir = sha && is_hex(sha, GIT_OID_HEXSZ, GIT_OID_HEXSZ)
                            ? rn_xprintf("%s/%s", repo_dir, sha)
                            : NULL;
            if (dir && is_dir(dir)) {
                char *msg = rn_xprintf("failed to fetch action %s/%s@%s (%s); using the cached "
                                       "commit %s",
                                       owner, repo, shown_ref, fetch_err, sha);
                r->warn(r->warn_ud, msg);
                free(msg);
                *sha_out = rn_xstrdup(sha);
                result = dir;
                dir = NULL;
            } else {
                *err = rn_xprintf("failed to fetch action %s/%s@%s: %s; runnel is offline? use "
                                  "--local-repository %s/%s@%s=DIR",
                                  owner, repo, shown_ref, fetch_err, owner, repo, shown_ref);
            }
            free(dir);
            json_decref(refs);
            if (result || *err)
                goto out;
        }
    } else {
        found = resolve_in_mirror(g, ref && *ref ? ref : head ? head : "HEAD", &oid);
    }
    if (!found) {
        *err = rn_xprintf("Unable to resolve action `%s/%s@%s`, unable to find version `%s`", owner,
                          repo, shown_ref, shown_ref);
        goto out;
    }
    char sha[GIT_OID_HEXSZ + 1];
    git_oid_tostr(sha, sizeof sha, &oid);
    char *dir = rn_xprintf("%s/%s", repo_dir, sha);
    if (!is_dir(dir)) {
        /* write beside the final folder, then rename: readers never see a partial tree */
        char *tmp = rn_xprintf("%s/.tmp-%s-%d", repo_dir, sha, (int)getpid());
        rm_rf(tmp);
        char *werr = NULL;
        if (!write_tree(g, &oid, tmp, &werr)) {
            *err = rn_xprintf("failed to check out action %s/%s@%s (%s): %s", owner, repo,
                              shown_ref, sha, werr);
            free(werr);
            rm_rf(tmp);
            free(tmp);
            free(dir);
            goto out;
        }
        if (rename(tmp, dir))
            rm_rf(tmp); /* someone else's identical tree is already there */
        free(tmp);
    }
    refs_store(repo_dir, key_ref, sha);
    *sha_out = rn_xstrdup(sha);
    result = dir;
out:
    free(fetch_err);
    free(head);
    free(url);
    free(mirror);
    git_repository_free(g);
    return result;
}

char *rn_remote_fetch(rn_remote *r, const char *owner, const char *repo, const char *ref,
                      char **sha, char **err) {
    *err = NULL;
    char *lo = lower(owner), *lr = lower(repo);
    char *key = rn_xprintf("%s/%s@%s", lo, lr, ref ? ref : "");
    char *result = NULL, *s = NULL;
    pthread_mutex_lock(&r->lock);
    for (size_t i = 0; i < r->n_memos && !result; i++)
        if (!strcmp(r->memos[i].key, key)) {
            result = rn_xstrdup(r->memos[i].dir);
            s = rn_xstrdup(r->memos[i].sha);
        }
    pthread_mutex_unlock(&r->lock);
    if (!result) {
        char *repo_dir = rn_xprintf("%s/actions/%s/%s", r->data_dir, lo, lr);
        char *lock_path = rn_xprintf("%s/.lock", repo_dir);
        int fd = -1;
        if (mkdir_p(repo_dir, 0755) ||
            (fd = open(lock_path, O_RDWR | O_CREAT | O_CLOEXEC, 0644)) < 0) {
            *err = rn_xprintf("failed to fetch action %s/%s@%s: cannot create %s: %s", owner, repo,
                              ref && *ref ? ref : "HEAD", repo_dir, strerror(errno));
        } else {
            while (flock(fd, LOCK_EX) && errno == EINTR)
                ;
            git_libgit2_init();
            result = fetch_locked(r, owner, repo, repo_dir, ref, &s, err);
            git_libgit2_shutdown();
            flock(fd, LOCK_UN);
        }
        if (fd >= 0)
            close(fd);
        if (result) {
            pthread_mutex_lock(&r->lock);
            r->memos = rn_xrealloc(r->memos, (r->n_memos + 1) * sizeof *r->memos);
            r->memos[r->n_memos++] = (memo){rn_xstrdup(key), rn_xstrdup(result), rn_xstrdup(s)};
            pthread_mutex_unlock(&r->lock);
        }
        free(lock_path);
        free(repo_dir);
    }
    if (sha)
        *sha = s;
    else
        free(s);
    free(key);
    free(lo);
    free(lr);
    return result;
}

char *rn_remote_resolve(void *ud, const char *uses, char **err) {
    rn_remote *r = ud;
    rn_action_ref ar;
    *err = NULL;
    if (!rn_action_ref_parse(uses, &ar, err))
        return NULL;
    char *owner_repo = rn_xprintf("%s/%s", ar.owner, ar.repo);
    const char *local = rn_remote_local_dir(r, owner_repo, ar.ref);
    char *base =
        local ? rn_xstrdup(local) : rn_remote_fetch(r, ar.owner, ar.repo, ar.ref, NULL, err);
    char *dir = NULL;
    if (base) {
        dir = *ar.path ? rn_xprintf("%s/%s", base, ar.path) : rn_xstrdup(base);
        static const char *const files[] = {"action.yml", "action.yaml", "Dockerfile"};
        bool found = false;
        for (size_t i = 0; i < 3 && !found; i++) {
            char *p = rn_xprintf("%s/%s", dir, files[i]);
            found = exists(p);
            free(p);
        }
        if (!found) {
            *err = rn_xprintf(
                "Can't find 'action.yml', 'action.yaml' or 'Dockerfile' for action '%s'.", uses);
            free(dir);
            dir = NULL;
        }
    }
    free(base);
    free(owner_repo);
    rn_action_ref_free(&ar);
    return dir;
}
