/* Built-in actions/cache (see cache_action.h). */
#include "actions/cache_action.h"

#include "actions/cache_store.h"
#include "actions/hashfiles.h"
#include "common/arena.h"
#include "common/strbuf.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

typedef struct pending {
    struct pending *next;
    rn_job *job;
    char *who; /* log prefix: "" for actions/cache, "setup-java" */
    rn_strlist paths;
    char *key, *matched, *scope;
} pending;

static pthread_mutex_t pending_lock = PTHREAD_MUTEX_INITIALIZER;
static pending *pendings;

static const char *input(json_t *with, const char *name) {
    const char *v = json_string_value(json_object_get(with, name));
    return v ? v : "";
}

static bool input_bool(json_t *with, const char *name) {
    const char *v = input(with, name);
    while (*v == ' ')
        v++;
    return !strncasecmp(v, "true", 4);
}

static char *trimmed(const char *s) {
    while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
        s++;
    size_t n = strlen(s);
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\n' || s[n - 1] == '\r'))
        n--;
    return rn_xstrndup(s, n);
}

/* core.getMultilineInput: lines, trimmed, empty ones dropped. */
static void multiline(const char *text, rn_strlist *out) {
    const char *p = text;
    while (*p) {
        const char *e = strchr(p, '\n');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        char *line = rn_xstrndup(p, n);
        char *t = trimmed(line);
        if (*t)
            rn_strlist_add(out, t);
        free(t);
        free(line);
        p += n + (e ? 1 : 0);
    }
}

void rn_cache_job_scopes(rn_job *j, rn_strlist *out) {
    json_t *gh = json_object_get(j->contexts, "github");
    const char *repo = json_string_value(json_object_get(gh, "repository"));
    const char *ref = json_string_value(json_object_get(gh, "ref"));
    const char *base = json_string_value(json_object_get(gh, "base_ref"));
    const char *def = json_string_value(json_object_get(
        json_object_get(json_object_get(gh, "event"), "repository"), "default_branch"));
    if (!repo || !*repo)
        repo = "local";
    char *s[3] = {rn_xprintf("%s@%s", repo, ref && *ref ? ref : "refs/heads/main"),
                  base && *base ? rn_xprintf("%s@refs/heads/%s", repo, base) : NULL,
                  def && *def ? rn_xprintf("%s@refs/heads/%s", repo, def) : NULL};
    for (int i = 0; i < 3; i++) {
        if (!s[i])
            continue;
        bool dup = false;
        for (size_t k = 0; k < out->count; k++)
            dup = dup || !strcmp(out->items[k], s[i]);
        if (!dup)
            rn_strlist_add(out, s[i]);
        free(s[i]);
    }
}

/* The toolkit's key checks (restoreCache/saveCache). */
static bool key_valid(rn_job *j, const char *key) {
    if (strlen(key) > 512) {
        rn_job_log(j, RN_LOG_ERROR,
                   "Key Validation Error: %s cannot be larger than 512 characters.", key);
        return false;
    }
    if (strchr(key, ',')) {
        rn_job_log(j, RN_LOG_ERROR, "Key Validation Error: %s cannot contain commas.", key);
        return false;
    }
    return true;
}

static rn_cache_store *open_store(rn_job *j) {
    char *err = NULL;
    rn_cache_store *s = rn_cache_store_open(NULL, 0, &err);
    if (!s) {
        rn_job_log(j, RN_LOG_WARNING, "%s", err);
        free(err);
    }
    return s;
}

static void defer(rn_job *j, const char *who, const rn_strlist *paths, const char *key,
                  const char *matched, const char *scope) {
    pending *p = rn_xcalloc(1, sizeof *p);
    p->job = j;
    p->who = rn_xstrdup(who);
    for (size_t i = 0; i < paths->count; i++)
        rn_strlist_add(&p->paths, paths->items[i]);
    p->key = rn_xstrdup(key);
    p->matched = matched ? rn_xstrdup(matched) : NULL;
    p->scope = rn_xstrdup(scope);
    pthread_mutex_lock(&pending_lock);
    p->next = pendings;
    pendings = p;
    pthread_mutex_unlock(&pending_lock);
}

static void pending_free(pending *p) {
    free(p->who);
    rn_strlist_free(&p->paths);
    free(p->key);
    free(p->matched);
    free(p->scope);
    free(p);
}

/* The path patterns as runnel reaches them (rn_job_host_patterns()); a path inside the
 * container's own files is out of the built-in's reach: logged, and -1. */
static int host_patterns(rn_job *j, const char *who, const rn_strlist *paths, rn_strlist *out) {
    char *outside = NULL;
    if (rn_job_host_patterns(j, paths, out, &outside) == 0)
        return 0;
    rn_job_log(j, RN_LOG_WARNING,
               "%s%s is inside the job's container, where runnel's built-in cache does not reach: "
               "only the workspace, $HOME and the runner's folders can be cached; not cached",
               who, outside);
    free(outside);
    return -1;
}

static int restore(rn_job *j, const char *who, const rn_strlist *paths, const char *key,
                   const rn_strlist *rkeys, bool lookup_only, char **matched) {
    *matched = NULL;
    rn_strlist reach = RN_STRLIST_INIT;
    int ok = host_patterns(j, who, paths, &reach);
    rn_strlist_free(&reach);
    if (ok != 0)
        return 0; /* a miss */
    rn_cache_store *s = open_store(j);
    if (!s)
        return 0;
    char *version =
        rn_cache_version((const char *const *)paths->items, paths->count, RN_CACHE_COMPRESSION);
    rn_strlist scopes = RN_STRLIST_INIT, keys = RN_STRLIST_INIT;
    rn_cache_job_scopes(j, &scopes);
    rn_strlist_add(&keys, key);
    for (size_t i = 0; rkeys && i < rkeys->count; i++)
        rn_strlist_add(&keys, rkeys->items[i]);
    rn_cache_entry e;
    int rc = 0;
    if (rn_cache_lookup(s, (const char *const *)scopes.items, scopes.count,
                        (const char *const *)keys.items, keys.count, version, &e)) {
        char *err = NULL;
        int r = lookup_only
                    ? 0
                    : rn_cache_restore(s, &e, j->paths.workspace, j->shares, j->n_shares, &err);
        if (r == 0) {
            *matched = rn_xstrdup(e.key);
            rc = 1;
            if (!lookup_only) {
                /* the toolkit reports the archive's size; entries saved here have none yet */
                long long sz = e.archive_size ? e.archive_size : e.unpacked_size;
                rn_job_log(j, RN_LOG_INFO, "Cache Size: ~%lld MB (%lld B)",
                           (sz + 512 * 1024) / (1024 * 1024), sz);
            }
        } else if (r > 0) {
            rn_job_log(j, RN_LOG_WARNING,
                       "%sFailed to restore: the cache entry for key %s is "
                       "corrupt or incomplete; treating it as a miss",
                       who, e.key);
        } else {
            rn_job_log(j, RN_LOG_WARNING, "%sFailed to restore: %s", who, err);
            rc = -1;
        }
        free(err);
        rn_cache_entry_clear(&e);
    }
    rn_strlist_free(&scopes);
    rn_strlist_free(&keys);
    free(version);
    rn_cache_store_close(s);
    return rc;
}

/* saveCache: resolve the paths, reserve (the entry is immutable), write. */
static rn_step_status save(rn_job *j, const rn_strlist *paths, const char *key, const char *scope) {
    rn_strlist items = RN_STRLIST_INIT, reach = RN_STRLIST_INIT;
    rn_glob_opts o = {true, false, true};
    char *err = NULL;
    rn_step_status st = RN_STEP_STATUS_SUCCESS;
    if (host_patterns(j, "Failed to save: ", paths, &reach) != 0) {
        rn_strlist_free(&reach);
        return st;
    }
    /* the patterns are absolute now: the glob's cwd does not matter */
    int g = rn_glob(j->paths.workspace, (const char *const *)reach.items, reach.count, &o, &items,
                    &err);
    rn_strlist_free(&reach);
    if (g) {
        rn_job_log(j, RN_LOG_WARNING, "Failed to save: %s", err);
        free(err);
        return st;
    }
    if (!items.count) {
        rn_job_log(j, RN_LOG_WARNING,
                   "Path Validation Error: Path(s) specified in the action for caching do(es) not "
                   "exist, hence no cache is being saved.");
        rn_strlist_free(&items);
        return st;
    }
    rn_cache_store *s = open_store(j);
    if (s) {
        char *version =
            rn_cache_version((const char *const *)paths->items, paths->count, RN_CACHE_COMPRESSION);
        int r = rn_cache_save(s, scope, key, version, j->paths.workspace, j->shares, j->n_shares,
                              (const char *const *)items.items, items.count, &err);
        if (r == 0)
            rn_job_log(j, RN_LOG_INFO, "Cache saved with key: %s", key);
        else if (r == 1)
            rn_job_log(j, RN_LOG_WARNING,
                       "Failed to save: Unable to reserve cache with key %s, another job may be "
                       "creating this cache.",
                       key);
        else
            rn_job_log(j, RN_LOG_WARNING, "Failed to save: %s", err);
        free(err);
        free(version);
        rn_cache_store_close(s);
    }
    rn_strlist_free(&items);
    return st;
}

int rn_cache_restore_for(rn_job *j, const char *who, const char *const *paths, size_t npaths,
                         const char *key, const char *const *restore_keys, size_t nrestore,
                         bool defer_save, char **matched) {
    rn_strlist pl = RN_STRLIST_INIT, rk = RN_STRLIST_INIT, scopes = RN_STRLIST_INIT;
    for (size_t i = 0; i < npaths; i++)
        rn_strlist_add(&pl, paths[i]);
    for (size_t i = 0; i < nrestore; i++)
        rn_strlist_add(&rk, restore_keys[i]);
    char *prefix = rn_xprintf("%s: ", who);
    int rc = restore(j, prefix, &pl, key, &rk, false, matched);
    free(prefix);
    rn_cache_job_scopes(j, &scopes);
    if (defer_save && rc >= 0)
        defer(j, who, &pl, key, *matched, scopes.items[0]);
    rn_strlist_free(&scopes);
    rn_strlist_free(&pl);
    rn_strlist_free(&rk);
    return rc;
}

rn_step_status rn_cache_action(rn_job *j, const char *uses, json_t *with, json_t *outputs) {
    const char *at = strchr(uses, '@');
    size_t n = at ? (size_t)(at - uses) : strlen(uses);
    bool do_restore = true, do_save = true;
    if (n == strlen("actions/cache/restore") && !strncasecmp(uses, "actions/cache/restore", n))
        do_save = false;
    else if (n == strlen("actions/cache/save") && !strncasecmp(uses, "actions/cache/save", n))
        do_restore = false;
    char *key = trimmed(input(with, "key"));
    rn_strlist paths = RN_STRLIST_INIT, rkeys = RN_STRLIST_INIT, scopes = RN_STRLIST_INIT;
    multiline(input(with, "path"), &paths);
    multiline(input(with, "restore-keys"), &rkeys);
    rn_cache_job_scopes(j, &scopes);
    rn_step_status st = RN_STEP_STATUS_FAILURE;
    if (!*key) {
        rn_job_log(j, RN_LOG_ERROR, "Input required and not supplied: key");
        goto out;
    }
    if (!paths.count) {
        rn_job_log(j, RN_LOG_ERROR, "Input required and not supplied: path");
        goto out;
    }
    if (!key_valid(j, key))
        goto out;
    for (size_t i = 0; i < rkeys.count; i++)
        if (!key_valid(j, rkeys.items[i]))
            goto out;
    if (!do_restore) {
        st = save(j, &paths, key, scopes.items[0]);
        goto out;
    }
    bool fail_on_miss = input_bool(with, "fail-on-cache-miss");
    bool lookup_only = input_bool(with, "lookup-only");
    char *matched = NULL;
    int r = restore(j, "", &paths, key, &rkeys, lookup_only, &matched);
    if (!do_save) {
        json_object_set_new(outputs, "cache-primary-key", json_string(key));
        if (matched)
            json_object_set_new(outputs, "cache-matched-key", json_string(matched));
    }
    if (r == 1) {
        json_object_set_new(outputs, "cache-hit",
                            json_string(strcasecmp(matched, key) ? "false" : "true"));
        rn_job_log(j, RN_LOG_INFO,
                   lookup_only ? "Cache found and can be restored from key: %s"
                               : "Cache restored from key: %s",
                   matched);
        st = RN_STEP_STATUS_SUCCESS;
    } else if (fail_on_miss) {
        rn_job_log(j, RN_LOG_ERROR,
                   "Failed to restore cache entry. Exiting as fail-on-cache-miss is set. Input "
                   "key: %s",
                   key);
    } else {
        rn_sb all = RN_SB_INIT;
        rn_sb_puts(&all, key);
        for (size_t i = 0; i < rkeys.count; i++)
            rn_sb_printf(&all, ", %s", rkeys.items[i]);
        rn_job_log(j, RN_LOG_INFO, "Cache not found for input keys: %s", rn_sb_str(&all));
        rn_sb_free(&all);
        st = RN_STEP_STATUS_SUCCESS;
    }
    if (do_save && st == RN_STEP_STATUS_SUCCESS)
        defer(j, "", &paths, key, matched, scopes.items[0]);
    free(matched);
out:
    free(key);
    rn_strlist_free(&paths);
    rn_strlist_free(&rkeys);
    rn_strlist_free(&scopes);
    return st;
}

static pending *take(rn_job *j) {
    pending *mine = NULL, **pp = &pendings;
    pthread_mutex_lock(&pending_lock);
    while (*pp) {
        pending *p = *pp;
        if (p->job == j) {
            *pp = p->next;
            p->next = NULL;
            /* keep most recent first */
            pending **tail = &mine;
            while (*tail)
                tail = &(*tail)->next;
            *tail = p;
        } else {
            pp = &p->next;
        }
    }
    pthread_mutex_unlock(&pending_lock);
    return mine;
}

rn_step_status rn_cache_job_post(rn_job *j, bool succeeded) {
    rn_step_status st = RN_STEP_STATUS_SUCCESS;
    for (pending *p = take(j), *next; p; p = next) {
        next = p->next;
        if (succeeded) {
            const char *name = *p->who ? "Post setup-java" : "Post Cache";
            if (j->sink.step_begin)
                j->sink.step_begin(j->sink.ud, name, 0);
            if (p->matched && !strcasecmp(p->matched, p->key))
                rn_job_log(j, RN_LOG_INFO,
                           "Cache hit occurred on the primary key %s, not saving cache.", p->key);
            else
                save(j, &p->paths, p->key, p->scope);
            if (j->sink.step_end)
                j->sink.step_end(j->sink.ud, name, 0, st, st, 0);
        }
        pending_free(p);
    }
    return st;
}

void rn_cache_job_forget(rn_job *j) {
    for (pending *p = take(j), *next; p; p = next) {
        next = p->next;
        pending_free(p);
    }
}
