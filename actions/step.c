/* Step executor: see step.h. Behaviour follows actions/runner (ScriptHandler, FileCommandManager,
 * ActionRunner, CompositeActionHandler, NodeScriptActionHandler). */
#include "actions/step.h"

#include "actions/cache_action.h"
#include "actions/commands.h"
#include "actions/hashfiles.h"
#include "actions/step_action.h"
#include "actions/step_docker.h"
#include "common/strbuf.h"
#include "sandbox/proc.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

const char *rn_step_status_name(rn_step_status s) {
    switch (s) {
    case RN_STEP_STATUS_SUCCESS:
        return "success";
    case RN_STEP_STATUS_FAILURE:
        return "failure";
    case RN_STEP_STATUS_CANCELLED:
        return "cancelled";
    case RN_STEP_STATUS_SKIPPED:
        return "skipped";
    }
    return "?";
}

static long mono_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

/* ---- scope and evaluation ---- */

static const char *const named_values[] = {"github", "env",    "vars",     "secrets",
                                           "inputs", "matrix", "strategy", "needs",
                                           "steps",  "job",    "runner",   "jobs"};
static const rn_expr_func funcs[] = {
    {"success", 0, 0}, {"failure", 0, 0},     {"cancelled", 0, 0},
    {"always", 0, 0},  {"hashFiles", 1, 255},
};
static const rn_expr_scope scope = {named_values, sizeof named_values / sizeof *named_values, funcs,
                                    sizeof funcs / sizeof *funcs};

const rn_expr_scope *rn_step_scope(void) {
    return &scope;
}

/* One level of steps: the job's, or a composite action's. */
typedef struct frame {
    rn_job *j;
    json_t *steps;     /* steps context (borrowed) */
    json_t *inputs;    /* composite inputs; NULL: the job's inputs context */
    json_t *extra_env; /* env layered over j->env (the composite caller's env); may be NULL */
    bool *failed;
    const char *action_path; /* composite: GITHUB_ACTION_PATH */
    int depth;
    rn_post_step **posts; /* where post steps registered at this level go (most recent first) */
} frame;

typedef struct eval_ud {
    rn_status_fns st;
    rn_job *j;
} eval_ud;

static json_t *call_fn(void *ud, const char *name, json_t *const *args, size_t nargs,
                       rn_expr_error *err) {
    eval_ud *e = ud;
    if (!strcasecmp(name, "success"))
        return json_boolean(e->st.success);
    if (!strcasecmp(name, "failure"))
        return json_boolean(e->st.failure);
    if (!strcasecmp(name, "cancelled"))
        return json_boolean(e->st.cancelled);
    if (!strcasecmp(name, "always"))
        return json_true();
    if (!strcasecmp(name, "hashFiles")) {
        /* actions/runner: an optional leading --follow-symbolic-links, then string patterns */
        bool follow = false;
        const char **pats = rn_xcalloc(nargs + 1, sizeof *pats);
        size_t n = 0;
        for (size_t i = 0; i < nargs; i++) {
            const char *a = json_string_value(args[i]);
            if (!a) {
                free(pats);
                err->kind = RN_EXPR_EVALUATION;
                snprintf(err->message, sizeof err->message,
                         "hashFiles() accepts only string arguments");
                return NULL;
            }
            if (i == 0 && !strcmp(a, "--follow-symbolic-links"))
                follow = true;
            else
                pats[n++] = a;
        }
        char *msg = NULL;
        char *h = rn_hashfiles(e->j->paths.workspace, pats, n, follow, &msg);
        free(pats);
        if (!h) {
            err->kind = RN_EXPR_EVALUATION;
            snprintf(err->message, sizeof err->message, "%s", msg ? msg : "hashFiles failed");
            free(msg);
            return NULL;
        }
        json_t *v = json_string(h);
        free(h);
        return v;
    }
    err->kind = RN_EXPR_EVALUATION;
    snprintf(err->message, sizeof err->message, "The function '%s' is not supported by runnel yet",
             name);
    return NULL;
}

/* env context of a frame: job env (with GITHUB_ENV updates) overlaid by the caller's env. */
static json_t *frame_env(frame *f) {
    json_t *env = json_copy(f->j->env);
    if (f->extra_env)
        json_object_update(env, f->extra_env);
    return env;
}

static rn_status_fns frame_status(frame *f) {
    rn_status_fns st;
    bool cancelled;
    pthread_mutex_lock(&f->j->lock);
    cancelled = f->j->cancelled;
    pthread_mutex_unlock(&f->j->lock);
    st.cancelled = cancelled;
    st.failure = *f->failed;
    st.success = !*f->failed && !cancelled;
    return st;
}

static bool job_cancelled(rn_job *j);
static void files_release(rn_job *j);

static json_t *make_contexts(frame *f, json_t *env) {
    json_t *c = json_copy(f->j->contexts);
    json_object_set(c, "env", env);
    json_object_set(c, "steps", f->steps);
    if (f->inputs)
        json_object_set(c, "inputs", f->inputs);
    json_t *job = json_object_get(c, "job");
    if (json_is_object(job)) { /* job.status follows the job as its steps run */
        json_t *copy = json_copy(job);
        bool cancelled = job_cancelled(f->j);
        json_object_set_new(copy, "status",
                            json_string(cancelled      ? "cancelled"
                                        : f->j->failed ? "failure"
                                                       : "success"));
        json_object_set_new(c, "job", copy);
    }
    return c;
}

static char *err_from(const rn_expr_error *e) {
    return rn_xstrdup(e->message[0] ? e->message : "expression error");
}

/* Evaluates a template string to a value. */
static json_t *eval_tmpl(frame *f, json_t *env, const rn_status_fns *st, const char *text,
                         char **err) {
    rn_expr_error e;
    rn_tmpl *t = rn_tmpl_parse(text, &scope, &e);
    if (!t) {
        *err = err_from(&e);
        return NULL;
    }
    json_t *ctx = make_contexts(f, env);
    eval_ud ud = {st ? *st : frame_status(f), f->j};
    rn_expr_eval_ctx ec = {ctx, call_fn, &ud, 0};
    json_t *v = rn_tmpl_eval(t, &ec, &e);
    if (!v)
        *err = err_from(&e);
    json_decref(ctx);
    rn_tmpl_free(t);
    return v;
}

static char *eval_string(frame *f, json_t *env, const char *text, char **err) {
    if (!text)
        return rn_xstrdup("");
    if (!strstr(text, "${{"))
        return rn_xstrdup(text);
    json_t *v = eval_tmpl(f, env, NULL, text, err);
    if (!v)
        return NULL;
    char *s = rn_value_to_string(v);
    json_decref(v);
    return s;
}

static json_t *eval_node(frame *f, json_t *env, const rn_ynode *n, char **err) {
    if (!n)
        return json_null();
    if (n->kind == RN_Y_SCALAR) {
        if (n->type == RN_YS_STRING && strstr(n->str, "${{"))
            return eval_tmpl(f, env, NULL, n->str, err);
        return rn_yaml_to_json(n);
    }
    if (n->kind == RN_Y_SEQ) {
        json_t *a = json_array();
        for (size_t i = 0; i < n->n; i++) {
            json_t *v = eval_node(f, env, n->items[i], err);
            if (!v) {
                json_decref(a);
                return NULL;
            }
            json_array_append_new(a, v);
        }
        return a;
    }
    json_t *o = json_object();
    for (size_t i = 0; i < n->n; i++) {
        json_t *v = eval_node(f, env, n->pairs[i].value, err);
        if (!v) {
            json_decref(o);
            return NULL;
        }
        json_object_set_new(o, n->pairs[i].key->str, v);
    }
    return o;
}

/* Mapping of strings (env:, with:): every value in its string form. */
static json_t *eval_string_map(frame *f, json_t *env, const rn_ynode *n, char **err) {
    json_t *o = json_object();
    if (!n || n->kind != RN_Y_MAP) {
        if (n && n->kind == RN_Y_SCALAR && strstr(n->str, "${{")) {
            json_t *v = eval_tmpl(f, env, NULL, n->str, err);
            if (!v) {
                json_decref(o);
                return NULL;
            }
            if (json_is_object(v)) {
                const char *k;
                json_t *x;
                json_object_foreach(v, k, x) {
                    json_object_set_new(o, k, json_string(rn_value_to_string(x)));
                }
            }
            json_decref(v);
        }
        return o;
    }
    for (size_t i = 0; i < n->n; i++) {
        json_t *v = eval_node(f, env, n->pairs[i].value, err);
        if (!v) {
            json_decref(o);
            return NULL;
        }
        char *s = rn_value_to_string(v);
        json_decref(v);
        json_object_set_new(o, n->pairs[i].key->str, json_string(s));
        free(s);
    }
    return o;
}

/* Strips one ${{ }} around a whole condition, as GitHub does for if:. */
static char *unwrap_if(const char *cond) {
    while (isspace((unsigned char)*cond))
        cond++;
    size_t n = strlen(cond);
    while (n && isspace((unsigned char)cond[n - 1]))
        n--;
    if (n >= 5 && !strncmp(cond, "${{", 3) && !strncmp(cond + n - 2, "}}", 2)) {
        const char *inner = cond + 3;
        size_t m = n - 5;
        /* only when it is a single expression */
        char *tmp = rn_xstrndup(inner, m);
        if (!strstr(tmp, "${{"))
            return tmp;
        free(tmp);
    }
    return rn_xstrndup(cond, n);
}

static int eval_if(frame *f, json_t *env, const char *cond, const rn_status_fns *st, char **err) {
    if (!cond || !*cond)
        return st->success ? 1 : 0;
    char *text = unwrap_if(cond);
    rn_expr_error e;
    rn_expr *x = rn_expr_parse(text, &scope, &e);
    free(text);
    if (!x) {
        *err = err_from(&e);
        return -1;
    }
    bool has_status = rn_expr_calls_status_function(x);
    if (!has_status && !st->success) {
        rn_expr_free(x);
        return 0;
    }
    json_t *ctx = make_contexts(f, env);
    eval_ud ud = {*st, f->j};
    rn_expr_eval_ctx ec = {ctx, call_fn, &ud, 0};
    json_t *v = rn_expr_eval(x, &ec, &e);
    json_decref(ctx);
    rn_expr_free(x);
    if (!v) {
        *err = err_from(&e);
        return -1;
    }
    int r = rn_value_truthy(v) ? 1 : 0;
    json_decref(v);
    return r;
}

static frame job_frame(rn_job *j) {
    frame f = {j, j->steps, NULL, NULL, &j->failed, NULL, 0, &j->posts};
    return f;
}

json_t *rn_job_eval_node(rn_job *j, const rn_ynode *node, char **err) {
    frame f = job_frame(j);
    json_t *env = frame_env(&f);
    json_t *v = eval_node(&f, env, node, err);
    json_decref(env);
    return v;
}

const char *rn_job_home(const rn_job *j) {
    const char *h = json_string_value(json_object_get(j->base_env, "HOME"));
    if (!h || h[0] != '/')
        h = getenv("HOME");
    return h && h[0] == '/' ? h : "/";
}

int rn_job_host_patterns(const rn_job *j, const rn_strlist *patterns, rn_strlist *out,
                         char **outside) {
    for (size_t i = 0; i < patterns->count; i++) {
        const char *p = patterns->items[i];
        size_t neg = strspn(p, "!");
        const char *body = p + neg;
        char *abs = body[0] == '~' && (body[1] == 0 || body[1] == '/')
                        ? rn_xprintf("%s%s", rn_job_home(j), body + 1)
                    : body[0] == '/' ? rn_xstrdup(body)
                                     : rn_xprintf("%s/%s", j->paths.workspace, body);
        char *host = j->n_shares ? rn_pathmap_outer(j->shares, j->n_shares, abs) : abs;
        if (!host) {
            *outside = rn_xstrdup(body);
            free(abs);
            return -1;
        }
        char *full = rn_xprintf("%.*s%s", (int)neg, p, host);
        rn_strlist_add(out, full);
        free(full);
        if (host != abs)
            free(host);
        free(abs);
    }
    return 0;
}

char *rn_job_eval_str(rn_job *j, const char *text, char **err) {
    frame f = job_frame(j);
    json_t *env = frame_env(&f);
    char *s = eval_string(&f, env, text, err);
    json_decref(env);
    return s;
}

int rn_job_eval_if(rn_job *j, const char *cond, const rn_status_fns *status, char **err) {
    frame f = job_frame(j);
    json_t *env = frame_env(&f);
    rn_status_fns st = status ? *status : frame_status(&f);
    int r = eval_if(&f, env, cond, &st, err);
    json_decref(env);
    return r;
}

/* ---- job object ---- */

/* A post step: a node action's `post` (dir, script, cond = post-if), or, for a composite action
 * whose nested actions registered posts, one umbrella step running those (kids, most recent
 * first) as GitHub does: "Post <composite step>", nested posts in reverse order inside it. */
struct rn_post_step {
    rn_post_step *next;
    char *name;
    char *dir, *script, *cond;
    json_t *inputs, *state, *env;
    rn_post_step *kids; /* umbrella of a composite when non-NULL */
    char *warn;         /* logged as a warning when the step starts (may be NULL) */
};

static void post_steps_free(rn_post_step *p) {
    for (rn_post_step *n; p; p = n) {
        n = p->next;
        post_steps_free(p->kids);
        free(p->name);
        free(p->dir);
        free(p->script);
        free(p->cond);
        free(p->warn);
        json_decref(p->inputs);
        json_decref(p->state);
        json_decref(p->env);
        free(p);
    }
}

void rn_job_init(rn_job *j) {
    memset(j, 0, sizeof *j);
    pthread_mutex_init(&j->lock, NULL);
    j->steps = json_object();
    j->env = json_object();
    j->contexts = json_object();
    j->base_env = json_object();
}

void rn_job_free(rn_job *j) {
    json_decref(j->steps);
    json_decref(j->env);
    json_decref(j->contexts);
    json_decref(j->base_env);
    files_release(j);
    rn_strlist_free(&j->path);
    post_steps_free(j->posts);
    pthread_mutex_destroy(&j->lock);
}

void rn_job_cancel(rn_job *j) {
    pthread_mutex_lock(&j->lock);
    j->cancelled = true;
    if (j->current)
        rn_proc_cancel(j->current);
    pthread_mutex_unlock(&j->lock);
}

static bool job_cancelled(rn_job *j) {
    pthread_mutex_lock(&j->lock);
    bool c = j->cancelled;
    pthread_mutex_unlock(&j->lock);
    return c;
}

void rn_job_log(rn_job *j, rn_log_kind kind, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    rn_sb sb = RN_SB_INIT;
    rn_sb_vprintf(&sb, fmt, ap);
    va_end(ap);
    if (j->sink.log)
        j->sink.log(j->sink.ud, kind, rn_sb_str(&sb));
    rn_sb_free(&sb);
}

/* ---- processes ---- */

typedef struct proc_io {
    rn_job *j;
    rn_cmd_proc *cp;
    json_t *outputs; /* ::set-output:: */
    json_t *state;   /* ::save-state:: */
    bool fail;       /* a command failed the step */
} proc_io;

static void apply_actions(proc_io *io, const rn_cmd_result *r) {
    rn_job *j = io->j;
    for (size_t i = 0; i < r->count; i++) {
        const rn_cmd_action *a = &r->actions[i];
        switch (a->kind) {
        case RN_ACT_PRINT: {
            char *t = rn_xstrndup(a->text, a->text_len);
            j->sink.log(j->sink.ud, RN_LOG_OUTPUT, t);
            free(t);
            break;
        }
        case RN_ACT_GROUP:
            j->sink.log(j->sink.ud, RN_LOG_GROUP, a->text);
            break;
        case RN_ACT_ENDGROUP:
            j->sink.log(j->sink.ud, RN_LOG_ENDGROUP, "");
            break;
        case RN_ACT_DEBUG:
            j->sink.log(j->sink.ud, RN_LOG_DEBUG, a->text);
            break;
        case RN_ACT_ANNOTATION: {
            rn_log_kind k = a->level == RN_LEVEL_ERROR     ? RN_LOG_ERROR
                            : a->level == RN_LEVEL_WARNING ? RN_LOG_WARNING
                            : a->level == RN_LEVEL_NOTICE  ? RN_LOG_NOTICE
                                                           : RN_LOG_DEBUG;
            if (a->file && a->line)
                rn_job_log(j, k, "%s:%d: %s", a->file, a->line, a->text);
            else if (a->file)
                rn_job_log(j, k, "%s: %s", a->file, a->text);
            else
                j->sink.log(j->sink.ud, k, a->text);
            break;
        }
        case RN_ACT_ADD_MASK:
            j->sink.add_mask(j->sink.ud, a->text);
            break;
        case RN_ACT_SET_OUTPUT:
            if (io->outputs)
                json_object_set_new(io->outputs, a->name, json_string(a->text));
            break;
        case RN_ACT_SET_ENV:
            json_object_set_new(j->env, a->name, json_string(a->text));
            break;
        case RN_ACT_ADD_PATH:
            rn_path_add(&j->path, a->text);
            break;
        case RN_ACT_SAVE_STATE:
            if (io->state)
                json_object_set_new(io->state, a->name, json_string(a->text));
            break;
        case RN_ACT_ADD_MATCHER:
        case RN_ACT_REMOVE_MATCHER:
            break;
        case RN_ACT_FAIL_STEP:
            io->fail = true;
            break;
        }
    }
}

static void on_line(void *ud, rn_stream stream, const char *line, size_t len, bool eol) {
    (void)stream;
    (void)eol;
    proc_io *io = ud;
    apply_actions(io, rn_cmd_proc_feed(io->cp, line, len));
}

/* ---- environment files ---- */

static const char *const file_names[5] = {"set_env", "set_output", "save_state", "add_path",
                                          "step_summary"};

static void files_release(rn_job *j) {
    if (!j->files_open)
        return;
    for (int k = 0; k < 5; k++) {
        if (j->files_spare[k]) {
            char name[64];
            snprintf(name, sizeof name, "%s_%u", file_names[k], j->files_spare[k]);
            unlinkat(j->files_fd, name, 0);
            j->files_spare[k] = 0;
        }
    }
    close(j->files_fd);
    free(j->files_dir);
    j->files_dir = NULL;
    j->files_open = false;
}

/* The files folder, opened once per job (again if the job's folder changed); -1 if it cannot be
 * opened (then files are made by path, without recycling). */
static int files_dir_fd(rn_job *j) {
    if (j->files_open && !strcmp(j->files_dir, j->paths.files))
        return j->files_fd;
    files_release(j);
    int fd = open(j->paths.files, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    j->files_open = true;
    j->files_fd = fd;
    j->files_dir = rn_xstrdup(j->paths.files);
    return fd;
}

/* Creates the empty file of kind k for process number n (`path` is its full name): the empty
 * file a previous step left is renamed to it when there is one (the old name is gone, as after
 * an unlink), else a new one is made. */
static void env_file_create(rn_job *j, int k, unsigned n, const char *path) {
    int dfd = files_dir_fd(j);
    char name[64];
    snprintf(name, sizeof name, "%s_%u", file_names[k], n);
    if (dfd >= 0 && j->files_spare[k]) {
        char old[64];
        snprintf(old, sizeof old, "%s_%u", file_names[k], j->files_spare[k]);
        j->files_spare[k] = 0;
        if (renameat(dfd, old, dfd, name) == 0)
            return;
        unlinkat(dfd, old, 0);
    }
    int fd = dfd >= 0 ? openat(dfd, name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666)
                      : open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
    if (fd >= 0)
        close(fd);
}

/* Takes what the process wrote to its file of kind k: NULL (*len 0) when the file is missing or
 * empty, else its text (caller frees). A file that is still the plain empty file runnel made is
 * kept for the next step (env_file_create); anything else is removed. */
static char *env_file_take(rn_job *j, int k, unsigned n, const char *path, size_t *len) {
    static uid_t euid = (uid_t)-1;
    if (euid == (uid_t)-1)
        euid = geteuid();
    *len = 0;
    int dfd = j->files_open ? j->files_fd : -1;
    char name[64];
    snprintf(name, sizeof name, "%s_%u", file_names[k], n);
    struct stat st;
    if ((dfd >= 0 ? fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) : lstat(path, &st)) != 0)
        return NULL;
    if (dfd >= 0 && S_ISREG(st.st_mode) && st.st_size == 0 && st.st_nlink == 1 &&
        st.st_uid == euid && !j->files_spare[k]) {
        j->files_spare[k] = n;
        return NULL;
    }
    char *t = rn_read_file(path, len);
    if (!t)
        *len = 0;
    if (dfd >= 0)
        unlinkat(dfd, name, 0);
    else
        unlink(path);
    if (t && !*len) {
        free(t);
        t = NULL;
    }
    return t;
}

/* Applies GITHUB_ENV / GITHUB_OUTPUT / GITHUB_STATE / GITHUB_PATH / GITHUB_STEP_SUMMARY. */
static bool apply_env_files(rn_job *j, char *const files[5], unsigned n, json_t *outputs,
                            json_t *state) {
    bool ok = true;
    static const char *const cmds[3] = {RN_FILECMD_ENV, RN_FILECMD_OUTPUT, RN_FILECMD_STATE};
    json_t *targets[3] = {j->env, outputs, state};
    for (int k = 0; k < 3; k++) {
        size_t len;
        char *text = env_file_take(j, k, n, files[k], &len);
        if (!text)
            continue;
        rn_envfile ef = RN_ENVFILE_INIT;
        rn_diags d = RN_DIAGS_INIT;
        int rc = rn_envfile_parse(text, len, files[k], &ef, &d);
        for (size_t i = 0; i < ef.count; i++) {
            const rn_envfile_entry *e = &ef.items[i];
            if (k == 0) {
                const char *blocked = rn_envfile_env_name_blocked(e->name);
                if (blocked) {
                    rn_job_log(j, RN_LOG_ERROR, "%s", blocked);
                    continue;
                }
                if (!rn_env_name_usable(e->name)) {
                    rn_job_log(j, RN_LOG_WARNING, "GITHUB_ENV: '%s' is not a usable variable name",
                               e->name);
                    continue;
                }
            }
            if (targets[k])
                json_object_set_new(targets[k], e->name, json_stringn(e->value, e->value_len));
        }
        if (rc != 0) {
            ok = false;
            if (d.count)
                rn_job_log(j, RN_LOG_ERROR, "%s", d.items[0].message);
            char *m = rn_filecmd_failed_message(cmds[k]);
            rn_job_log(j, RN_LOG_ERROR, "%s", m);
            free(m);
        }
        rn_diags_free(&d);
        rn_envfile_free(&ef);
        free(text);
    }
    size_t len;
    char *text = env_file_take(j, 3, n, files[3], &len);
    if (text)
        rn_pathfile_parse(text, len, &j->path);
    free(text);
    text = env_file_take(j, 4, n, files[4], &len);
    char *error = NULL;
    rn_summary_check sc = rn_step_summary_check(len, &error);
    if (sc == RN_SUMMARY_TOO_LARGE) {
        rn_job_log(j, RN_LOG_WARNING, "%s", error);
    } else if (sc == RN_SUMMARY_OK && j->paths.summary) {
        char *masked = j->sink.mask ? j->sink.mask(j->sink.ud, text) : rn_xstrdup(text);
        FILE *fp = fopen(j->paths.summary, "a");
        if (fp) {
            fputs(masked, fp);
            if (*masked && masked[strlen(masked) - 1] != '\n')
                fputc('\n', fp);
            fclose(fp);
        }
        free(masked);
    }
    free(error);
    free(text);
    return ok;
}

static void set_kv(json_t *o, const char *k, const char *v) {
    json_object_set_new(o, k, json_string(v ? v : ""));
}

typedef struct proc_spec {
    const char *const *argv;
    json_t *env;   /* env context for the step (strings) */
    json_t *extra; /* more variables (INPUT_*, STATE_*, GITHUB_ACTION_PATH); may be NULL */
    const char *cwd;
    long step_timeout_ms; /* 0 = none */
    json_t *outputs;      /* may be NULL */
    json_t *state;        /* may be NULL */
} proc_spec;

/* Runs one process of a step with env files and workflow commands wired in. */
/* ov (may be NULL): base environment, container and env files' folder of a docker action */
static rn_step_status run_process_in(rn_job *j, const proc_spec *ps, const rn_step_proc *ov) {
    unsigned n = ++j->counter;
    char *files[5];
    for (int k = 0; k < 5; k++) {
        files[k] = rn_xprintf("%s/%s_%u", j->paths.files, file_names[k], n);
        env_file_create(j, k, n, files[k]);
    }
    json_t *envo = json_copy(ov && ov->base_env ? ov->base_env : j->base_env);
    json_object_update(envo, ps->env);
    if (ps->extra)
        json_object_update(envo, ps->extra);
    static const char *const fvars[5] = {"GITHUB_ENV", "GITHUB_OUTPUT", "GITHUB_STATE",
                                         "GITHUB_PATH", "GITHUB_STEP_SUMMARY"};
    for (int k = 0; k < 5; k++) {
        char *seen =
            ov && ov->files_as ? rn_xprintf("%s/%s_%u", ov->files_as, file_names[k], n) : NULL;
        set_kv(envo, fvars[k], seen ? seen : files[k]);
        free(seen);
    }
    const char *base_path = json_string_value(json_object_get(envo, "PATH"));
    char *path = rn_path_join(&j->path, base_path ? base_path : "");
    set_kv(envo, "PATH", path);
    free(path);

    size_t ne = json_object_size(envo), i = 0;
    char **envp = rn_xcalloc(ne + 1, sizeof *envp);
    const char *k;
    json_t *v;
    json_object_foreach(envo, k, v) {
        envp[i++] = rn_xprintf("%s=%s", k, json_string_value(v) ? json_string_value(v) : "");
    }

    rn_cmd_config cfg;
    rn_cmd_config_default(&cfg);
    cfg.allow_unsecure_commands =
        rn_dotnet_bool(json_string_value(json_object_get(envo, "ACTIONS_ALLOW_UNSECURE_COMMANDS")));
    cfg.allow_unsecure_stop_tokens = rn_convert_to_boolean(
        json_string_value(json_object_get(envo, "ACTIONS_ALLOW_UNSECURE_STOPCOMMAND_TOKENS")));
    cfg.echo = j->debug;
    cfg.workspace = j->paths.workspace;
    proc_io io = {j, rn_cmd_proc_new(&cfg), ps->outputs, ps->state, false};

    long timeout = ps->step_timeout_ms;
    bool job_limit = false;
    if (j->deadline_ms) {
        long left = j->deadline_ms - mono_ms();
        if (left < 1)
            left = 1;
        if (!timeout || left <= timeout) {
            timeout = left;
            job_limit = true;
        }
    }
    rn_proc_opts o = {0};
    o.argv = ps->argv;
    o.envp = (const char *const *)envp;
    o.cwd = ps->cwd;
    o.stdout_mode = RN_STDIO_PIPE;
    o.stderr_mode = RN_STDIO_PIPE;
    o.timeout_ms = timeout > 0x7fffffff ? 0x7fffffff : (int)timeout;
    o.kill_grace_ms = 2000;
    o.on_line = on_line;
    o.cb_data = &io;
    o.container = ov && ov->container ? ov->container : j->container;

    rn_step_status st = RN_STEP_STATUS_FAILURE;
    char *err = NULL;
    pthread_mutex_lock(&j->lock);
    /* a cancel that arrived after the step was chosen stops it; steps chosen to run after it
     * (always(), cancelled()) run, as on GitHub */
    rn_proc *p = j->cancelled && !j->step_after_cancel ? NULL : rn_proc_start(&o, &err);
    bool started = p != NULL;
    if (p)
        j->current = p;
    bool was_cancelled = j->cancelled;
    pthread_mutex_unlock(&j->lock);
    if (!p) {
        if (was_cancelled) {
            st = RN_STEP_STATUS_CANCELLED;
        } else {
            rn_job_log(j, RN_LOG_ERROR, "%s", err ? err : "cannot start the process");
        }
    } else {
        rn_proc_result r;
        rn_proc_wait(p, &r);
        pthread_mutex_lock(&j->lock);
        j->current = NULL;
        pthread_mutex_unlock(&j->lock);
        rn_proc_free(p);
        /* a partial last line is delivered by proc; commands were applied on the fly */
        bool files_ok = apply_env_files(j, files, n, ps->outputs, ps->state);
        switch (r.status) {
        case RN_PROC_EXITED:
            if (r.exit_code == 0 && !io.fail && files_ok) {
                st = RN_STEP_STATUS_SUCCESS;
            } else if (r.exit_code != 0) {
                rn_job_log(j, RN_LOG_ERROR, "Process completed with exit code %d.", r.exit_code);
            }
            break;
        case RN_PROC_SIGNALED:
            rn_job_log(j, RN_LOG_ERROR, "Process was killed by signal %d.", r.term_signal);
            break;
        case RN_PROC_TIMED_OUT:
            if (job_limit) {
                j->timed_out = true;
                pthread_mutex_lock(&j->lock);
                j->cancelled = true;
                pthread_mutex_unlock(&j->lock);
                rn_job_log(j, RN_LOG_ERROR,
                           "The job has exceeded its maximum execution time; "
                           "the step's process tree was killed.");
            } else {
                char m[32];
                rn_number_format(ps->step_timeout_ms / 60000.0, m, sizeof m);
                rn_job_log(j, RN_LOG_ERROR,
                           "The action has timed out (timeout-minutes: %s); its process tree "
                           "was killed.",
                           m);
            }
            break;
        case RN_PROC_CANCELLED:
            st = RN_STEP_STATUS_CANCELLED;
            rn_job_log(j, RN_LOG_ERROR, "The operation was canceled.");
            break;
        }
    }
    free(err);
    rn_cmd_proc_free(io.cp);
    for (size_t m = 0; m < ne; m++)
        free(envp[m]);
    free(envp);
    json_decref(envo);
    for (int m = 0; m < 5; m++) {
        if (!started) /* nothing to read, nothing kept */
            unlink(files[m]);
        free(files[m]);
    }
    return st;
}

static rn_step_status run_process(rn_job *j, const proc_spec *ps) {
    return run_process_in(j, ps, NULL);
}

rn_step_status rn_job_run_process(rn_job *j, const rn_step_proc *sp) {
    proc_spec ps = {sp->argv, sp->env, sp->extra, sp->cwd, sp->timeout_ms, sp->outputs, NULL};
    return run_process_in(j, &ps, sp);
}

/* ---- shells ---- */

static bool on_path(rn_job *j, const char *prog) {
    const char *p = json_string_value(json_object_get(j->base_env, "PATH"));
    char *path = rn_path_join(&j->path, p ? p : "");
    bool found = false;
    for (char *save = NULL, *dir = strtok_r(path, ":", &save); dir && !found;
         dir = strtok_r(NULL, ":", &save)) {
        if (j->prog_roots) { /* a container image: look in its layers (links may be absolute) */
            struct stat sb;
            for (size_t r = 0; j->prog_roots[r] && !found; r++) {
                char *f = rn_xprintf("%s%s/%s", j->prog_roots[r], dir, prog);
                found = lstat(f, &sb) == 0 && !S_ISCHR(sb.st_mode);
                free(f);
            }
            continue;
        }
        char *f = rn_xprintf("%s/%s", dir, prog);
        found = access(f, X_OK) == 0;
        free(f);
    }
    free(path);
    return found;
}

/* The shell's command template and script extension; NULL with *err on an unknown shell. */
static const char *shell_template(rn_job *j, const char *shell, const char **ext, char **err) {
    *ext = "";
    if (!shell || !*shell) {
        *ext = ".sh";
        /* GitHub: an unspecified shell is `bash -e {0}`, falling back to sh without bash */
        return on_path(j, "bash") ? "bash -e {0}" : "sh -e {0}";
    }
    if (!strcmp(shell, "bash")) {
        *ext = ".sh";
        return "bash --noprofile --norc -eo pipefail {0}";
    }
    if (!strcmp(shell, "sh")) {
        *ext = ".sh";
        return "sh -e {0}";
    }
    if (!strcmp(shell, "python")) {
        *ext = ".py";
        return on_path(j, "python") || !on_path(j, "python3") ? "python {0}" : "python3 {0}";
    }
    if (!strcmp(shell, "node")) {
        *ext = ".js";
        return "node {0}";
    }
    if (!strcmp(shell, "pwsh")) {
        *ext = ".ps1";
        return "pwsh -command \". '{0}'\"";
    }
    if (!strcmp(shell, "powershell") || !strcmp(shell, "cmd")) {
        *err = rn_xprintf("The shell '%s' is only available on Windows runners", shell);
        return NULL;
    }
    if (strstr(shell, "{0}"))
        return shell;
    *err = rn_xprintf("Invalid shell option '%s'. Shell must be a valid built-in (bash, sh, "
                      "python, node, pwsh) or a format string containing '{0}'",
                      shell);
    return NULL;
}

/* Splits a command template into argv (whitespace separated, '...' and "..." quoting) with
 * {0} replaced by `script`. */
static char **split_template(const char *tmpl, const char *script) {
    char **argv = NULL;
    size_t n = 0;
    const char *p = tmpl;
    for (;;) {
        while (isspace((unsigned char)*p))
            p++;
        if (!*p)
            break;
        rn_sb sb = RN_SB_INIT;
        rn_sb_puts(&sb, "");
        char q = 0;
        for (; *p && (q || !isspace((unsigned char)*p)); p++) {
            if (q && *p == q) {
                q = 0;
            } else if (!q && (*p == '"')) {
                q = *p;
            } else if (!strncmp(p, "{0}", 3)) {
                rn_sb_puts(&sb, script);
                p += 2;
            } else {
                rn_sb_putc(&sb, *p);
            }
        }
        argv = rn_xrealloc(argv, (n + 2) * sizeof *argv);
        argv[n++] = rn_sb_take(&sb);
    }
    argv = rn_xrealloc(argv, (n + 1) * sizeof *argv);
    argv[n] = NULL;
    return argv;
}

static void free_argv(char **argv) {
    for (size_t i = 0; argv && argv[i]; i++)
        free(argv[i]);
    free(argv);
}

static char *resolve_dir(rn_job *j, const char *wd) {
    if (!wd || !*wd)
        return rn_xstrdup(j->paths.workspace);
    if (wd[0] == '/')
        return rn_xstrdup(wd);
    while (wd[0] == '.' && wd[1] == '/')
        wd += 2;
    if (!strcmp(wd, ".") || !*wd)
        return rn_xstrdup(j->paths.workspace);
    return rn_xprintf("%s/%s", j->paths.workspace, wd);
}

static bool write_all(int fd, const char *p, size_t n) {
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return false;
        p += w;
        n -= (size_t)w;
    }
    return true;
}

/* Writes a step's script file (mode 0666 & ~umask, as fopen). false with errno set on failure. */
static bool write_script(const char *file, const char *script, bool pwsh) {
    int fd = open(file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
    if (fd < 0)
        return false;
    static const char pwsh_tail[] =
        "\nif ((Test-Path -LiteralPath variable:\\LASTEXITCODE)) { exit $LASTEXITCODE }\n";
    bool ok = write_all(fd, script, strlen(script)) &&
              (!pwsh || write_all(fd, pwsh_tail, sizeof pwsh_tail - 1));
    int e = errno;
    if (close(fd) != 0 && ok) {
        ok = false;
        e = errno;
    }
    errno = e;
    return ok;
}

static rn_step_status run_script(frame *f, const rn_wf_step *s, json_t *env, long timeout_ms,
                                 json_t *outputs) {
    rn_job *j = f->j;
    char *err = NULL;
    char *script = eval_string(f, env, s->run.s, &err);
    if (!script) {
        rn_job_log(j, RN_LOG_ERROR, "%s:%d:%d: %s", s->run.node ? s->run.node->file : "?",
                   s->run.line, s->run.col, err);
        free(err);
        return RN_STEP_STATUS_FAILURE;
    }
    char *shell = NULL;
    if (s->shell.s) {
        shell = eval_string(f, env, s->shell.s, &err);
    } else if (f->depth == 0 && j->job_defaults && j->job_defaults->shell.s) {
        shell = eval_string(f, env, j->job_defaults->shell.s, &err);
    } else if (f->depth == 0 && j->wf_defaults && j->wf_defaults->shell.s) {
        shell = eval_string(f, env, j->wf_defaults->shell.s, &err);
    }
    char *wd = NULL;
    if (s->working_directory.s) {
        wd = eval_string(f, env, s->working_directory.s, &err);
    } else if (f->depth == 0 && j->job_defaults && j->job_defaults->working_directory.s) {
        wd = eval_string(f, env, j->job_defaults->working_directory.s, &err);
    } else if (f->depth == 0 && j->wf_defaults && j->wf_defaults->working_directory.s) {
        wd = eval_string(f, env, j->wf_defaults->working_directory.s, &err);
    }
    rn_step_status st = RN_STEP_STATUS_FAILURE;
    const char *ext = "";
    const char *tmpl = err ? NULL : shell_template(j, shell, &ext, &err);
    if (!tmpl) {
        rn_job_log(j, RN_LOG_ERROR, "%s", err);
    } else {
        char *file = rn_xprintf("%s/%u-%s%s", j->paths.temp, ++j->counter, s->id.s, ext);
        if (!write_script(file, script, shell && !strcmp(shell, "pwsh"))) {
            rn_job_log(j, RN_LOG_ERROR, "%s: %s", file, strerror(errno));
        } else {
            char **argv = split_template(tmpl, file);
            char *cwd = resolve_dir(j, wd);
            json_t *extra = json_object();
            set_kv(extra, "GITHUB_ACTION", s->id.s);
            if (f->action_path)
                set_kv(extra, "GITHUB_ACTION_PATH", f->action_path);
            struct stat sb;
            if (stat(cwd, &sb) != 0 || !S_ISDIR(sb.st_mode)) {
                rn_job_log(j, RN_LOG_ERROR,
                           "An error occurred trying to start process '%s' with working "
                           "directory '%s'. No such file or directory",
                           argv[0], cwd);
            } else {
                proc_spec ps = {
                    (const char *const *)argv, env, extra, cwd, timeout_ms, outputs, NULL};
                st = run_process(j, &ps);
            }
            json_decref(extra);
            free(cwd);
            free_argv(argv);
            unlink(file);
        }
        free(file);
    }
    free(err);
    free(shell);
    free(wd);
    free(script);
    return st;
}

/* ---- uses ---- */

rn_step_uses_kind rn_step_uses_classify(const char *uses) {
    if (!uses || !*uses)
        return RN_USES_INVALID;
    if (!strncmp(uses, "./", 2) || !strcmp(uses, "."))
        return RN_USES_LOCAL;
    if (!strncmp(uses, "docker://", 9))
        return RN_USES_DOCKER;
    const char *at = strchr(uses, '@');
    const char *slash = strchr(uses, '/');
    if (!at || !at[1] || !slash || slash > at || slash == uses || slash + 1 == at)
        return RN_USES_INVALID;
    return RN_USES_REMOTE;
}

static char *input_env_name(const char *name) {
    rn_sb sb = RN_SB_INIT;
    rn_sb_puts(&sb, "INPUT_");
    for (const char *p = name; *p; p++)
        rn_sb_putc(&sb, *p == ' ' ? '_' : (char)toupper((unsigned char)*p));
    return rn_sb_take(&sb);
}

/* The action's inputs: with: values, then defaults (evaluated) for the rest. */
static json_t *action_inputs(frame *f, json_t *env, const rn_local_action *la, json_t *with,
                             char **err) {
    json_t *in = json_object();
    const char *k;
    json_t *v;
    json_object_foreach(with, k, v) {
        json_object_set(in, k, v);
    }
    for (size_t i = 0; i < la->n_inputs; i++) {
        if (rn_object_iget(in, la->inputs[i].name))
            continue;
        const rn_ynode *d = la->inputs[i].default_value;
        json_t *val = d ? eval_node(f, env, d, err) : json_string("");
        if (!val) {
            json_decref(in);
            return NULL;
        }
        char *s = rn_value_to_string(val);
        json_decref(val);
        json_object_set_new(in, la->inputs[i].name, json_string(s));
        free(s);
    }
    return in;
}

static json_t *node_extra(const char *dir, json_t *inputs, json_t *state) {
    json_t *extra = json_object();
    const char *k;
    json_t *v;
    json_object_foreach(inputs, k, v) {
        char *n = input_env_name(k);
        char *s = rn_value_to_string(v);
        set_kv(extra, n, s);
        free(s);
        free(n);
    }
    if (state) {
        json_object_foreach(state, k, v) {
            char *n = rn_xprintf("STATE_%s", k);
            set_kv(extra, n, json_string_value(v));
            free(n);
        }
    }
    set_kv(extra, "GITHUB_ACTION_PATH", dir);
    return extra;
}

static rn_step_status run_node(rn_job *j, const char *dir, const char *script, json_t *env,
                               json_t *inputs, json_t *state, long timeout_ms, json_t *outputs) {
    char *path = rn_xprintf("%s/%s", dir, script);
    const char *argv[] = {"node", path, NULL};
    json_t *extra = node_extra(dir, inputs, state);
    proc_spec ps = {argv, env, extra, j->paths.workspace, timeout_ms, outputs, state};
    rn_step_status st = run_process(j, &ps);
    json_decref(extra);
    free(path);
    return st;
}

static rn_step_status exec_steps(frame *f, const rn_wf_step *steps, size_t n);

static rn_step_status run_composite(frame *f, const rn_local_action *la, json_t *env,
                                    json_t *inputs, json_t *outputs, const char *name,
                                    const char *warn) {
    bool failed = false;
    json_t *steps = json_object();
    rn_post_step *posts = NULL; /* posts of the nested actions that ran */
    frame sub = {f->j, steps, inputs, NULL, &failed, la->dir, f->depth + 1, &posts};
    /* the composite's env context starts from the env its caller step saw */
    sub.extra_env = json_copy(env);
    rn_step_status st = exec_steps(&sub, la->steps, la->n_steps);
    for (size_t i = 0; i < la->n_outputs; i++) {
        char *err = NULL;
        json_t *senv = frame_env(&sub);
        char *v = eval_string(&sub, senv, la->outputs[i].value, &err);
        json_decref(senv);
        if (!v) {
            rn_job_log(f->j, RN_LOG_ERROR, "%s: output '%s': %s", la->file, la->outputs[i].name,
                       err);
            free(err);
            st = RN_STEP_STATUS_FAILURE;
            continue;
        }
        json_object_set_new(outputs, la->outputs[i].name, json_string(v));
        free(v);
    }
    if (posts) { /* one post step for the composite, run in the job's post phase */
        rn_post_step *u = rn_xcalloc(1, sizeof *u);
        u->name = rn_xprintf("Post %s", name);
        u->cond = rn_xstrdup("always()");
        u->env = json_incref(env);
        u->kids = posts;
        u->warn = warn ? rn_xstrdup(warn) : NULL;
        u->next = *f->posts;
        *f->posts = u;
    }
    json_decref(sub.extra_env);
    json_decref(steps);
    return st;
}

/* A top-level step using an action of another repository, resolved when the job starts (as the
 * runner downloads them in "Set up job"): its pre ran then, main reuses what was found and the
 * state pre saved (index = top-level step index). */
typedef struct action_slot {
    bool resolved;       /* resolution was tried: dir, or err */
    char *dir, *err;     /* the action's folder; else why it could not be had */
    rn_local_action *la; /* its action.yml (NULL: reported when the step runs) */
    json_t *state;       /* GITHUB_STATE saved by pre */
} action_slot;

/* A step whose action the runner prepares before running it: `uses: owner/repo[/path]@ref`
 * (not `./path`, `docker://`, nor one runnel serves itself), written without expressions. */
static bool remote_action_step(rn_job *j, const rn_wf_step *s) {
    return j->resolve_action && s->kind == RN_STEP_USES && s->uses.s && !s->run.s &&
           !strstr(s->uses.s, "${{") && rn_step_uses_classify(s->uses.s) == RN_USES_REMOTE &&
           !rn_step_builtin(s->uses.s);
}

/* Whether the runner gives a local composite action a pre: when its main starts, it prepares the
 * remote actions among its steps (and, through remote composites, theirs; nested local actions
 * are prepared only when they run), and any `pre` found there makes the composite have one
 * (ActionManager: the nested pre steps are kept for the composite's own Pre stage, which a local
 * action never has). */
static bool remote_steps_have_pre(rn_job *j, const rn_wf_step *steps, size_t n, int depth) {
    bool found = false;
    for (size_t i = 0; i < n && !found && depth < 10; i++) {
        if (!remote_action_step(j, &steps[i]))
            continue;
        char *err = NULL;
        char *dir = j->resolve_action(j->resolve_ud, steps[i].uses.s, &err);
        free(err);
        err = NULL;
        rn_local_action *la = dir ? rn_local_action_load(dir, &err) : NULL;
        free(err);
        free(dir);
        if (la && la->kind == RN_LACTION_NODE)
            found = la->pre != NULL;
        else if (la && la->kind == RN_LACTION_COMPOSITE)
            found = remote_steps_have_pre(j, la->steps, la->n_steps, depth + 1);
        rn_local_action_free(la);
    }
    return found;
}

static rn_step_status run_uses(frame *f, const rn_wf_step *s, json_t *env, long timeout_ms,
                               json_t *outputs, action_slot *slot, const char *name) {
    rn_job *j = f->j;
    char *err = NULL;
    char *uses = eval_string(f, env, s->uses.s, &err);
    if (!uses) {
        rn_job_log(j, RN_LOG_ERROR, "%s", err);
        free(err);
        return RN_STEP_STATUS_FAILURE;
    }
    rn_step_status st = RN_STEP_STATUS_FAILURE;
    json_t *with = eval_string_map(f, env, s->with, &err);
    if (!with) {
        rn_job_log(j, RN_LOG_ERROR, "%s", err);
        free(err);
        free(uses);
        return st;
    }
    char *dir = NULL, *warn = NULL;
    rn_step_uses_kind kind = rn_step_uses_classify(uses);
    switch (kind) {
    case RN_USES_INVALID:
        rn_job_log(j, RN_LOG_ERROR, "Expected format {org}/{repo}[/path]@ref. Actual '%s'", uses);
        goto out;
    case RN_USES_DOCKER:
        st = rn_step_docker(j, uses, NULL, with, env, timeout_ms, outputs);
        goto out;
    case RN_USES_LOCAL:
        dir = resolve_dir(j, uses);
        break;
    case RN_USES_REMOTE: {
        rn_builtin_fn b = rn_step_builtin(uses);
        if (b) {
            st = b(j, uses, with, outputs);
            goto out;
        }
        if (slot && slot->resolved) { /* at the job's start */
            if (!slot->dir) {
                rn_job_log(j, RN_LOG_ERROR, "%s", slot->err ? slot->err : "?");
                goto out;
            }
            dir = rn_xstrdup(slot->dir);
            break;
        }
        if (!j->resolve_action) {
            rn_job_log(j, RN_LOG_ERROR, "remote actions are not supported yet: %s", uses);
            goto out;
        }
        dir = j->resolve_action(j->resolve_ud, uses, &err);
        if (!dir) {
            rn_job_log(j, RN_LOG_ERROR, "%s", err);
            goto out;
        }
        break;
    }
    }
    rn_local_action *la = slot && slot->la ? slot->la : rn_local_action_load(dir, &err);
    if (!la) {
        rn_job_log(j, RN_LOG_ERROR, "%s", err);
        goto out;
    }
    /* An action of the repository itself is not there when the job is set up (checkout brings
     * it), so the runner runs no pre for it and says so, in its main and again in its post step
     * (ActionRunner; actions/runner#389). */
    if (kind == RN_USES_LOCAL &&
        (la->kind == RN_LACTION_NODE ? la->pre != NULL
                                     : la->kind == RN_LACTION_COMPOSITE &&
                                           remote_steps_have_pre(j, la->steps, la->n_steps, 1))) {
        warn = rn_xprintf("`pre` execution is not supported for local action from '%s'", uses);
        rn_job_log(j, RN_LOG_WARNING, "%s", warn);
    }
    json_t *inputs = action_inputs(f, env, la, with, &err);
    if (!inputs) {
        rn_job_log(j, RN_LOG_ERROR, "%s", err);
    } else if (la->kind == RN_LACTION_COMPOSITE) {
        st = run_composite(f, la, env, inputs, outputs, name, warn);
    } else if (la->kind == RN_LACTION_NODE) {
        json_t *state = slot && slot->state ? json_incref(slot->state) : json_object();
        st = run_node(j, la->dir, la->main, env, inputs, state, timeout_ms, outputs);
        if (la->post) {
            rn_post_step *p = rn_xcalloc(1, sizeof *p);
            p->name = rn_xprintf("Post %s", name);
            p->dir = rn_xstrdup(la->dir);
            p->script = rn_xstrdup(la->post);
            p->cond = rn_xstrdup(la->post_if ? la->post_if : "always()");
            p->inputs = json_incref(inputs);
            p->state = json_incref(state);
            p->env = json_incref(env);
            p->warn = warn ? rn_xstrdup(warn) : NULL;
            p->next = *f->posts;
            *f->posts = p;
        }
        json_decref(state);
    } else {
        st = rn_step_docker(j, uses, la, inputs, env, timeout_ms, outputs);
    }
    json_decref(inputs);
    if (!slot || la != slot->la)
        rn_local_action_free(la);
out:
    free(err);
    free(dir);
    free(warn);
    json_decref(with);
    free(uses);
    return st;
}

/* ---- one step ---- */

static char *first_line(const char *s) {
    const char *e = strchr(s, '\n');
    while (e && e[1] == 0)
        e = NULL;
    return e ? rn_xstrndup(s, (size_t)(e - s)) : rn_xstrdup(s);
}

static char *step_display_name(frame *f, const rn_wf_step *s, json_t *env) {
    char *err = NULL;
    if (s->name.s) {
        char *n = eval_string(f, env, s->name.s, &err);
        if (n)
            return n;
        free(err);
        return rn_xstrdup(s->name.s);
    }
    if (s->kind == RN_STEP_RUN && s->run.s) {
        char *l = first_line(s->run.s);
        size_t n = strlen(l);
        while (n && (l[n - 1] == '\n' || l[n - 1] == ' '))
            l[--n] = 0;
        char *r = rn_xprintf("Run %s", l);
        free(l);
        return r;
    }
    return rn_xprintf("Run %s", s->uses.s ? s->uses.s : "?");
}

static long minutes_ms(const json_t *v) {
    double m = rn_value_to_number(v);
    if (isnan(m) || m <= 0)
        return 0;
    return (long)(m * 60000.0);
}

static void record_step(frame *f, const rn_wf_step *s, json_t *outputs, rn_step_status outcome,
                        rn_step_status conclusion) {
    if (s->id_generated || !s->id.s)
        return;
    json_t *o = json_object();
    json_object_set(o, "outputs", outputs);
    json_object_set_new(o, "outcome", json_string(rn_step_status_name(outcome)));
    json_object_set_new(o, "conclusion", json_string(rn_step_status_name(conclusion)));
    json_object_set_new(f->steps, s->id.s, o);
}

static rn_step_status exec_step(frame *f, const rn_wf_step *s, action_slot *slot) {
    rn_job *j = f->j;
    long t0 = mono_ms();
    json_t *env = frame_env(f);
    char *name = step_display_name(f, s, env);
    json_t *outputs = json_object();
    rn_step_status outcome = RN_STEP_STATUS_FAILURE, conclusion;
    char *err = NULL;
    rn_status_fns st = frame_status(f);

    if (j->timed_out) {
        outcome = conclusion = RN_STEP_STATUS_SKIPPED;
        record_step(f, s, outputs, outcome, conclusion);
        j->sink.step_end(j->sink.ud, name, f->depth, outcome, conclusion, 0);
        goto done;
    }
    int cond = eval_if(f, env, s->if_raw.s, &st, &err);
    if (cond == 0) {
        outcome = conclusion = RN_STEP_STATUS_SKIPPED;
        record_step(f, s, outputs, outcome, conclusion);
        j->sink.step_end(j->sink.ud, name, f->depth, outcome, conclusion, 0);
        goto done;
    }
    j->sink.step_begin(j->sink.ud, name, f->depth);
    j->step_after_cancel = st.cancelled;
    bool coe = false;
    long timeout_ms = 0;
    if (cond < 0) {
        rn_job_log(j, RN_LOG_ERROR, "%s:%d:%d: if: %s", s->if_raw.node ? s->if_raw.node->file : "",
                   s->if_raw.line, s->if_raw.col, err);
        goto finish;
    }
    json_t *senv = eval_string_map(f, env, s->env, &err);
    if (!senv) {
        rn_job_log(j, RN_LOG_ERROR, "env: %s", err);
        goto finish;
    }
    json_object_update(env, senv);
    json_decref(senv);
    if (s->continue_on_error) {
        json_t *v = eval_node(f, env, s->continue_on_error, &err);
        if (!v) {
            rn_job_log(j, RN_LOG_ERROR, "continue-on-error: %s", err);
            goto finish;
        }
        coe = rn_value_truthy(v);
        json_decref(v);
    }
    if (s->timeout_minutes) {
        json_t *v = eval_node(f, env, s->timeout_minutes, &err);
        if (!v) {
            rn_job_log(j, RN_LOG_ERROR, "timeout-minutes: %s", err);
            goto finish;
        }
        timeout_ms = minutes_ms(v);
        json_decref(v);
    }
    if (s->kind == RN_STEP_RUN && s->uses.s) {
        rn_job_log(j, RN_LOG_ERROR, "a step cannot have both the `uses` and `run` keys");
    } else if (s->kind == RN_STEP_RUN) {
        outcome = run_script(f, s, env, timeout_ms, outputs);
    } else if (s->kind == RN_STEP_USES) {
        if (s->run.s)
            rn_job_log(j, RN_LOG_ERROR, "a step cannot have both the `uses` and `run` keys");
        else
            outcome = run_uses(f, s, env, timeout_ms, outputs, slot, name);
    } else {
        rn_job_log(j, RN_LOG_ERROR, "this kind of step is not supported by runnel yet");
    }
finish:
    conclusion = outcome;
    if (outcome == RN_STEP_STATUS_FAILURE && coe)
        conclusion = RN_STEP_STATUS_SUCCESS;
    if (conclusion == RN_STEP_STATUS_FAILURE)
        *f->failed = true;
    record_step(f, s, outputs, outcome, conclusion);
    j->sink.step_end(j->sink.ud, name, f->depth, outcome, conclusion, mono_ms() - t0);
done:
    free(err);
    json_decref(outputs);
    json_decref(env);
    free(name);
    return conclusion;
}

static rn_step_status exec_steps(frame *f, const rn_wf_step *steps, size_t n) {
    for (size_t i = 0; i < n; i++)
        exec_step(f, &steps[i], NULL);
    if (job_cancelled(f->j) && !f->j->timed_out)
        return RN_STEP_STATUS_CANCELLED;
    return *f->failed || f->j->timed_out ? RN_STEP_STATUS_FAILURE : RN_STEP_STATUS_SUCCESS;
}

/* Pre steps run first, in step order, like the runner's "Pre" steps: those of node actions of
 * other repositories (`owner/repo@ref`, --local-repository included), resolved here once. A
 * local action (`./path`) has none (see run_uses). */
static void run_pres(rn_job *j, const rn_wf_step *steps, size_t n, action_slot *slots) {
    frame f = job_frame(j);
    for (size_t i = 0; i < n; i++) {
        const rn_wf_step *s = &steps[i];
        if (!remote_action_step(j, s))
            continue;
        char *err = NULL;
        slots[i].resolved = true;
        slots[i].dir = j->resolve_action(j->resolve_ud, s->uses.s, &err);
        if (!slots[i].dir) {
            slots[i].err = err;
            continue; /* reported when the step itself runs */
        }
        rn_local_action *la = rn_local_action_load(slots[i].dir, &err);
        free(err);
        if (!la)
            continue; /* likewise */
        slots[i].la = la;
        slots[i].state = json_object();
        if (la->kind != RN_LACTION_NODE || !la->pre)
            continue;
        err = NULL;
        json_t *env = frame_env(&f);
        rn_status_fns st = frame_status(&f);
        st.success = true;
        int cond = eval_if(&f, env, la->pre_if ? la->pre_if : "always()", &st, &err);
        char *sname = step_display_name(&f, s, env);
        char *name = rn_xprintf("Pre %s", sname);
        free(sname);
        if (cond == 1) {
            json_t *senv = eval_string_map(&f, env, s->env, &err);
            json_t *with = senv ? eval_string_map(&f, env, s->with, &err) : NULL;
            json_t *inputs = with ? action_inputs(&f, env, la, with, &err) : NULL;
            j->sink.step_begin(j->sink.ud, name, 0);
            long t0 = mono_ms();
            rn_step_status r = RN_STEP_STATUS_FAILURE;
            if (inputs) {
                json_object_update(env, senv);
                r = run_node(j, la->dir, la->pre, env, inputs, slots[i].state, 0, NULL);
            } else {
                rn_job_log(j, RN_LOG_ERROR, "%s", err);
            }
            if (r == RN_STEP_STATUS_FAILURE)
                j->failed = true;
            j->sink.step_end(j->sink.ud, name, 0, r, r, mono_ms() - t0);
            json_decref(senv);
            json_decref(with);
            json_decref(inputs);
        } else if (cond < 0) {
            rn_job_log(j, RN_LOG_ERROR, "pre-if: %s", err);
        }
        free(err);
        free(name);
        json_decref(env);
    }
}

/* Runs post steps (most recent first); returns failure when one of them failed. */
static rn_step_status run_post_list(rn_job *j, rn_post_step *list, int depth) {
    frame f = job_frame(j);
    rn_step_status all = RN_STEP_STATUS_SUCCESS;
    for (rn_post_step *p = list; p; p = p->next) {
        char *err = NULL;
        rn_status_fns st = frame_status(&f);
        int cond = eval_if(&f, p->env, p->cond, &st, &err);
        if (cond == 1) {
            j->sink.step_begin(j->sink.ud, p->name, depth);
            if (p->warn)
                rn_job_log(j, RN_LOG_WARNING, "%s", p->warn);
            long t0 = mono_ms();
            rn_step_status r =
                p->kids ? run_post_list(j, p->kids, depth + 1)
                        : run_node(j, p->dir, p->script, p->env, p->inputs, p->state, 0, NULL);
            if (r == RN_STEP_STATUS_FAILURE) {
                j->failed = true;
                all = RN_STEP_STATUS_FAILURE;
            }
            j->sink.step_end(j->sink.ud, p->name, depth, r, r, mono_ms() - t0);
        } else if (cond < 0) {
            rn_job_log(j, RN_LOG_ERROR, "post-if: %s", err);
        }
        free(err);
    }
    return all;
}

static void run_posts(rn_job *j) {
    run_post_list(j, j->posts, 0);
}

rn_step_status rn_job_run_steps(rn_job *j, const rn_wf_step *steps, size_t n) {
    action_slot *slots = rn_xcalloc(n + 1, sizeof *slots);
    run_pres(j, steps, n, slots);
    frame f = job_frame(j);
    for (size_t i = 0; i < n; i++)
        exec_step(&f, &steps[i], &slots[i]);
    run_posts(j);
    /* actions/cache and setup-java saves: only after a successful job, as GitHub's post step. */
    rn_cache_job_post(j, !j->failed && !job_cancelled(j) && !j->timed_out);
    for (size_t i = 0; i < n; i++) {
        rn_local_action_free(slots[i].la);
        json_decref(slots[i].state);
        free(slots[i].dir);
        free(slots[i].err);
    }
    free(slots);
    if (j->timed_out)
        return RN_STEP_STATUS_FAILURE;
    if (job_cancelled(j))
        return RN_STEP_STATUS_CANCELLED;
    return j->failed ? RN_STEP_STATUS_FAILURE : RN_STEP_STATUS_SUCCESS;
}
