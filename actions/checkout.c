/* actions/checkout served locally (actions/checkout.h). */
#include "actions/checkout.h"

#include "actions/remote.h"
#include "common/arena.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <git2.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

typedef struct copier {
    const char *src, *dest;
    const char *skip; /* dest relative to src when inside it, else NULL */
    long n;
    char *err;
} copier;

static int mkdir_p(const char *path) {
    char *p = rn_xstrdup(path);
    for (char *s = p + 1; *s; s++) {
        if (*s != '/')
            continue;
        *s = 0;
        if (mkdir(p, 0755) && errno != EEXIST) {
            free(p);
            return -1;
        }
        *s = '/';
    }
    int rc = mkdir(p, 0755) && errno != EEXIST ? -1 : 0;
    free(p);
    return rc;
}

static char *join(const char *a, const char *rel) {
    return *rel ? rn_xprintf("%s/%s", a, rel) : rn_xstrdup(a);
}

/* .git anywhere (nested repositories too), and the destination itself. */
static bool skipped(const copier *c, const char *rel) {
    for (const char *p = rel; *p;) {
        const char *e = strchr(p, '/');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        if (n == 4 && !memcmp(p, ".git", 4))
            return true;
        p += n + (e ? 1 : 0);
    }
    if (c->skip) {
        size_t n = strlen(c->skip);
        if (!strncmp(rel, c->skip, n) && (rel[n] == 0 || rel[n] == '/'))
            return true;
    }
    return false;
}

static bool copy_file(copier *c, const char *sp, const char *dp, mode_t mode) {
    int in = open(sp, O_RDONLY | O_CLOEXEC);
    unlink(dp); /* a link or read-only file from an earlier copy */
    int out = in < 0 ? -1 : open(dp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    bool ok = in >= 0 && out >= 0;
    char buf[65536];
    while (ok) {
        ssize_t k = read(in, buf, sizeof buf);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0) {
            ok = k == 0;
            break;
        }
        for (ssize_t off = 0; ok && off < k;) {
            ssize_t w = write(out, buf + off, (size_t)(k - off));
            if (w < 0 && errno == EINTR)
                continue;
            ok = w > 0;
            off += w > 0 ? w : 0;
        }
    }
    if (ok && fchmod(out, mode & 07777))
        ok = false;
    if (!ok)
        c->err = rn_xprintf("cannot copy %s to %s: %s", sp, dp, strerror(errno));
    if (in >= 0)
        close(in);
    if (out >= 0)
        close(out);
    return ok;
}

/* Copies src/rel to dest/rel: a file, a link, or a folder with everything in it. */
static bool copy_rel(copier *c, const char *rel) {
    if (skipped(c, rel))
        return true;
    char *sp = join(c->src, rel), *dp = join(c->dest, rel);
    struct stat st;
    bool ok = true;
    if (lstat(sp, &st)) {
        /* deleted in the working tree since the index knew it: nothing to copy */
    } else if (S_ISDIR(st.st_mode)) {
        DIR *d = NULL;
        if (mkdir_p(dp) || chmod(dp, st.st_mode & 07777) || !(d = opendir(sp))) {
            c->err = rn_xprintf("cannot copy the folder %s: %s", sp, strerror(errno));
            ok = false;
        }
        struct dirent *e;
        while (ok && (e = readdir(d))) {
            if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
                continue;
            char *sub = join(rel, e->d_name);
            if (!*rel) {
                free(sub);
                sub = rn_xstrdup(e->d_name);
            }
            ok = copy_rel(c, sub);
            free(sub);
        }
        if (d)
            closedir(d);
    } else {
        char *slash = strrchr(dp, '/');
        *slash = 0;
        if (mkdir_p(dp)) {
            c->err = rn_xprintf("cannot create %s: %s", dp, strerror(errno));
            ok = false;
        }
        *slash = '/';
        if (ok && S_ISLNK(st.st_mode)) {
            char target[PATH_MAX];
            ssize_t n = readlink(sp, target, sizeof target - 1);
            if (n >= 0) {
                target[n] = 0;
                unlink(dp);
            }
            if (n < 0 || symlink(target, dp)) {
                c->err = rn_xprintf("cannot copy the link %s: %s", sp, strerror(errno));
                ok = false;
            }
        } else if (ok && S_ISREG(st.st_mode)) {
            ok = copy_file(c, sp, dp, st.st_mode);
        }
        if (ok && (S_ISLNK(st.st_mode) || S_ISREG(st.st_mode)))
            c->n++;
    }
    free(sp);
    free(dp);
    return ok;
}

/* The files of a working tree that git status lists: tracked and untracked-not-ignored. */
static bool copy_worktree(copier *c, git_repository *g) {
    git_status_options so;
    git_status_options_init(&so, GIT_STATUS_OPTIONS_VERSION);
    so.show = GIT_STATUS_SHOW_INDEX_AND_WORKDIR;
    so.flags = GIT_STATUS_OPT_INCLUDE_UNTRACKED | GIT_STATUS_OPT_RECURSE_UNTRACKED_DIRS |
               GIT_STATUS_OPT_INCLUDE_UNMODIFIED;
    git_status_list *list = NULL;
    if (git_status_list_new(&list, g, &so)) {
        const git_error *e = git_error_last();
        c->err = rn_xprintf("cannot list the files of %s: %s", c->src,
                            e && e->message ? e->message : "libgit2 error");
        return false;
    }
    bool ok = true;
    size_t n = git_status_list_entrycount(list);
    for (size_t i = 0; ok && i < n; i++) {
        const git_status_entry *e = git_status_byindex(list, i);
        const git_diff_delta *d = e->index_to_workdir ? e->index_to_workdir : e->head_to_index;
        if (!d || !d->new_file.path)
            continue;
        char *rel = rn_xstrdup(d->new_file.path);
        size_t len = strlen(rel);
        while (len && rel[len - 1] == '/') /* a nested repository, listed as a folder */
            rel[--len] = 0;
        ok = copy_rel(c, rel);
        free(rel);
    }
    git_status_list_free(list);
    return ok;
}

long rn_checkout_copy_tree(const char *src, const char *dest, char **err) {
    *err = NULL;
    char *rsrc = realpath(src, NULL);
    if (!rsrc) {
        *err = rn_xprintf("cannot read %s: %s", src, strerror(errno));
        return -1;
    }
    char *rdest = NULL;
    if (mkdir_p(dest) || !(rdest = realpath(dest, NULL))) {
        *err = rn_xprintf("cannot create %s: %s", dest, strerror(errno));
        free(rsrc);
        return -1;
    }
    copier c = {rsrc, rdest, NULL, 0, NULL};
    size_t ns = strlen(rsrc);
    if (!strcmp(rsrc, rdest)) {
        *err = rn_xprintf("cannot copy %s onto itself", src);
        free(rsrc);
        free(rdest);
        return -1;
    }
    if (!strncmp(rdest, rsrc, ns) && (rdest[ns] == '/' || ns == 1))
        c.skip = rdest + ns + (ns == 1 ? 0 : 1);
    git_libgit2_init();
    git_repository *g = NULL;
    bool ok;
    if (!git_repository_open_ext(&g, rsrc, GIT_REPOSITORY_OPEN_NO_SEARCH, NULL) &&
        !git_repository_is_bare(g))
        ok = copy_worktree(&c, g);
    else
        ok = copy_rel(&c, "");
    git_error_clear();
    git_repository_free(g);
    git_libgit2_shutdown();
    free(rsrc);
    free(rdest);
    if (!ok) {
        *err = c.err;
        return -1;
    }
    return c.n;
}

/* ---- the action ---- */

static const char *gh(rn_job *j, const char *key) {
    const char *s = json_string_value(json_object_get(json_object_get(j->contexts, "github"), key));
    return s ? s : "";
}

static const char *input(json_t *with, const char *key) {
    const char *s = json_string_value(json_object_get(with, key));
    return s ? s : "";
}

/* HEAD of a --local-repository folder when it is a repository, else "". */
static char *head_sha(const char *dir) {
    git_libgit2_init();
    git_repository *g = NULL;
    git_oid oid;
    char buf[GIT_OID_HEXSZ + 1] = "";
    if (!git_repository_open_ext(&g, dir, GIT_REPOSITORY_OPEN_NO_SEARCH, NULL) &&
        !git_reference_name_to_id(&oid, g, "HEAD"))
        git_oid_tostr(buf, sizeof buf, &oid);
    git_error_clear();
    git_repository_free(g);
    git_libgit2_shutdown();
    return rn_xstrdup(buf);
}

/* workspace/path, refusing paths that leave the workspace (GitHub's message). */
static char *dest_path(rn_job *j, const char *path, char **err) {
    const char *ws = j->paths.workspace;
    char *p = path[0] == '/' ? rn_xstrdup(path) : rn_xprintf("%s/%s", ws, path);
    size_t n = strlen(p);
    while (n > 1 && p[n - 1] == '/')
        p[--n] = 0;
    bool up = strstr(p, "/../") || (n >= 3 && !strcmp(p + n - 3, "/.."));
    size_t nw = strlen(ws);
    if (up || strncmp(p, ws, nw) || (p[nw] && p[nw] != '/')) {
        *err = rn_xprintf("Repository path '%s' is not under '%s'", p, ws);
        free(p);
        return NULL;
    }
    /* "./" and "." segments do not move anywhere: normalize the usual "./x" and "." forms */
    char *q = rn_xstrdup(p + nw);
    char *norm = rn_xstrdup(ws);
    char *save = NULL;
    for (char *tok = strtok_r(q, "/", &save); tok; tok = strtok_r(NULL, "/", &save)) {
        if (!strcmp(tok, "."))
            continue;
        char *x = rn_xprintf("%s/%s", norm, tok);
        free(norm);
        norm = x;
    }
    free(q);
    free(p);
    return norm;
}

rn_step_status rn_checkout_action(rn_job *j, const char *uses, json_t *with, json_t *outputs) {
    const char *self = gh(j, "repository");
    const char *repository = *input(with, "repository") ? input(with, "repository") : self;
    const char *ref = input(with, "ref");
    char *err = NULL;
    char *dest = dest_path(j, input(with, "path"), &err);
    if (!dest) {
        rn_job_log(j, RN_LOG_ERROR, "%s", err);
        free(err);
        return RN_STEP_STATUS_FAILURE;
    }
    const char *ws = j->paths.workspace;
    bool in_place = !strcmp(dest, ws);
    rn_step_status st = RN_STEP_STATUS_FAILURE;

    if (!*repository || !strcasecmp(repository, self)) {
        if (*ref && strcmp(ref, gh(j, "ref")) && strcmp(ref, gh(j, "ref_name")) &&
            strcmp(ref, gh(j, "sha")))
            rn_job_log(j, RN_LOG_WARNING,
                       "%s: ref '%s' is not checked out: runnel uses the local working tree as it "
                       "is",
                       uses, ref);
        if (in_place) {
            rn_job_log(j, RN_LOG_INFO, "Using the local working tree at %s", ws);
        } else {
            long n = rn_checkout_copy_tree(ws, dest, &err);
            if (n < 0) {
                rn_job_log(j, RN_LOG_ERROR, "%s: %s", uses, err);
                goto out;
            }
            rn_job_log(j, RN_LOG_INFO, "Copied the local working tree at %s to %s (%ld files)", ws,
                       dest, n);
        }
        json_object_set_new(outputs, "ref", json_string(gh(j, "ref")));
        json_object_set_new(outputs, "commit", json_string(gh(j, "sha")));
        st = RN_STEP_STATUS_SUCCESS;
        goto out;
    }

    /* another repository */
    if (in_place) {
        rn_job_log(j, RN_LOG_ERROR,
                   "%s: checking out %s into the workspace itself would overwrite the local "
                   "working tree at %s; give it a `path:`",
                   uses, repository, ws);
        goto out;
    }
    const char *slash = strchr(repository, '/');
    if (!slash || slash == repository || !slash[1] || strchr(slash + 1, '/')) {
        rn_job_log(j, RN_LOG_ERROR, "%s: Invalid repository '%s'. Expected format {owner}/{repo}.",
                   uses, repository);
        goto out;
    }
    rn_remote *remote = j->resolve_action == rn_remote_resolve ? j->resolve_ud : NULL;
    const char *local = remote ? rn_remote_local_dir(remote, repository, *ref ? ref : NULL) : NULL;
    char *src = NULL, *sha = NULL;
    if (local) {
        src = rn_xstrdup(local);
        sha = head_sha(local);
    } else if (remote) {
        char *owner = rn_xstrndup(repository, (size_t)(slash - repository));
        src = rn_remote_fetch(remote, owner, slash + 1, ref, &sha, &err);
        free(owner);
        if (!src) {
            rn_job_log(j, RN_LOG_ERROR, "%s: cannot check out %s: %s", uses, repository, err);
            goto out;
        }
    } else {
        rn_job_log(j, RN_LOG_ERROR,
                   "%s: cannot check out %s: remote repositories are not available here; use "
                   "--local-repository %s@%s=DIR",
                   uses, repository, repository, *ref ? ref : "REF");
        goto out;
    }
    long n = rn_checkout_copy_tree(src, dest, &err);
    if (n < 0) {
        rn_job_log(j, RN_LOG_ERROR, "%s: %s", uses, err);
    } else {
        rn_job_log(j, RN_LOG_INFO, "Checked out %s%s%s from %s to %s (%ld files)", repository,
                   *ref ? "@" : "", ref, src, dest, n);
        json_object_set_new(outputs, "ref", json_string(ref));
        json_object_set_new(outputs, "commit", json_string(sha ? sha : ""));
        st = RN_STEP_STATUS_SUCCESS;
    }
    free(src);
    free(sha);
out:
    free(err);
    free(dest);
    return st;
}
