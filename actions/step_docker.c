/* Docker actions in runnel's own containers (see step_docker.h). */
#include "actions/step_docker.h"

#include "common/strbuf.h"
#include "sandbox/container.h"
#include "workflow/yaml.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#define DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

rn_image *rn_docker_image(const char *ref, const char *creds, char **err) {
    rn_image_store *st = rn_image_store_open(NULL, err);
    if (!st)
        return NULL;
    rn_pull_opts po = {0};
    po.user = creds;
    po.quiet = true; /* progress bars would interleave with job output */
    /* look up, pull and look up again ourselves: rn_image_get(pull) keeps the lookup's error
     * string set after a successful pull */
    char *e = NULL;
    rn_image *img = rn_image_get(st, ref, NULL, &e);
    if (!img) {
        free(e);
        e = NULL;
        if (rn_image_pull(st, ref, &po, NULL, &e) == 0)
            img = rn_image_get(st, ref, NULL, &e);
    }
    rn_image_store_close(st);
    if (img)
        free(e);
    else
        *err = e;
    return img;
}

char **rn_docker_split(const char *s) {
    char **argv = rn_xcalloc(1, sizeof *argv);
    size_t n = 0;
    const char *p = s ? s : "";
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
            } else if (!q && (*p == '"' || *p == '\'')) {
                q = *p;
            } else if (*p == '\\' && q != '\'' && p[1]) {
                rn_sb_putc(&sb, *++p);
            } else {
                rn_sb_putc(&sb, *p);
            }
        }
        argv = rn_xrealloc(argv, (n + 2) * sizeof *argv);
        argv[n++] = rn_sb_take(&sb);
        argv[n] = NULL;
    }
    return argv;
}

void rn_docker_argv_free(char **argv) {
    for (size_t i = 0; argv && argv[i]; i++)
        free(argv[i]);
    free(argv);
}

static int parse_id(const char *s, size_t n, unsigned *out) {
    if (!n || n > 9)
        return -1;
    unsigned v = 0;
    for (size_t i = 0; i < n; i++) {
        if (!isdigit((unsigned char)s[i]))
            return -1;
        v = v * 10 + (unsigned)(s[i] - '0');
    }
    *out = v;
    return 0;
}

int rn_docker_parse_user(const char *s, uid_t *uid, gid_t *gid) {
    if (!s)
        return -1;
    const char *colon = strchr(s, ':');
    unsigned u, g;
    if (parse_id(s, colon ? (size_t)(colon - s) : strlen(s), &u) != 0)
        return -1;
    g = u;
    if (colon && parse_id(colon + 1, strlen(colon + 1), &g) != 0)
        return -1;
    *uid = (uid_t)u;
    *gid = (gid_t)g;
    return 0;
}

int64_t rn_docker_parse_bytes(const char *s) {
    if (!s || !isdigit((unsigned char)*s))
        return -1;
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || v < 0)
        return -1;
    int64_t mul = 1;
    switch (tolower((unsigned char)*end)) {
    case 0:
        break;
    case 'b':
        break;
    case 'k':
        mul = 1024;
        break;
    case 'm':
        mul = 1024 * 1024;
        break;
    case 'g':
        mul = 1024LL * 1024 * 1024;
        break;
    default:
        return -1;
    }
    if (*end && end[1] && !(tolower((unsigned char)end[1]) == 'b' && !end[2]))
        return -1;
    return (int64_t)(v * (double)mul);
}

long rn_docker_parse_duration(const char *s) {
    if (!s || !*s)
        return -1;
    double total = 0;
    const char *p = s;
    while (*p) {
        char *end;
        errno = 0;
        double v = strtod(p, &end);
        if (end == p || errno || v < 0)
            return -1;
        if (!strncmp(end, "ms", 2)) {
            total += v;
            end += 2;
        } else if (*end == 's') {
            total += v * 1000;
            end++;
        } else if (*end == 'm') {
            total += v * 60000;
            end++;
        } else if (*end == 'h') {
            total += v * 3600000;
            end++;
        } else if (!*end && p == s) {
            total += v * 1000; /* a bare number: seconds */
        } else {
            return -1;
        }
        p = end;
    }
    return (long)total;
}

/* Variables runnel sets itself (kept in a container); the rest of base came from runnel's own
 * environment, which describes the host, not the image. */
static bool runnel_var(const char *k, const char *v) {
    static const char *const prefixes[] = {"GITHUB_", "RUNNER_", "ACTIONS_", "INPUT_", "STATE_"};
    for (size_t i = 0; i < sizeof prefixes / sizeof *prefixes; i++)
        if (!strncmp(k, prefixes[i], strlen(prefixes[i])))
            return true;
    if (!strcmp(k, "CI"))
        return true;
    const char *host = getenv(k);
    return !host || strcmp(host, v) != 0; /* set or changed by runnel (e.g. --env) */
}

json_t *rn_docker_env(char *const *image_env, const json_t *base, const json_t *extra) {
    json_t *e = json_object();
    json_object_set_new(e, "PATH", json_string(DEFAULT_PATH));
    for (size_t i = 0; image_env && image_env[i]; i++) {
        const char *eq = strchr(image_env[i], '=');
        if (!eq || eq == image_env[i])
            continue;
        char *k = rn_xstrndup(image_env[i], (size_t)(eq - image_env[i]));
        json_object_set_new(e, k, json_string(eq + 1));
        free(k);
    }
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)base, k, v) {
        if (json_is_string(v) && runnel_var(k, json_string_value(v)))
            json_object_set(e, k, v);
    }
    if (extra)
        json_object_update(e, (json_t *)extra);
    return e;
}

static char *input_env_name(const char *name) {
    rn_sb sb = RN_SB_INIT;
    rn_sb_puts(&sb, "INPUT_");
    for (const char *p = name; *p; p++)
        rn_sb_putc(&sb, *p == ' ' ? '_' : (char)toupper((unsigned char)*p));
    return rn_sb_take(&sb);
}

static void strv_push(char ***v, size_t *n, const char *s) {
    *v = rn_xrealloc(*v, (*n + 2) * sizeof **v);
    (*v)[(*n)++] = rn_xstrdup(s);
    (*v)[*n] = NULL;
}

/* What an action.yml says about its container (runs.image, entrypoint, args, env). */
typedef struct docker_spec {
    char *image;      /* without docker:// */
    char *entrypoint; /* NULL: the image's */
    char **args;      /* NULL: the image's Cmd */
    json_t *env;      /* runs.env, evaluated */
} docker_spec;

static void spec_free(docker_spec *d) {
    free(d->image);
    free(d->entrypoint);
    rn_docker_argv_free(d->args);
    json_decref(d->env);
}

/* Evaluates `text` with the action's inputs as the inputs context. */
static char *eval_with_inputs(rn_job *j, json_t *inputs, const char *text, char **err) {
    json_t *old = json_incref(json_object_get(j->contexts, "inputs"));
    json_object_set(j->contexts, "inputs", inputs);
    char *s = rn_job_eval_str(j, text, err);
    if (old)
        json_object_set_new(j->contexts, "inputs", old);
    else
        json_object_del(j->contexts, "inputs");
    return s;
}

static int spec_from_action(rn_job *j, const rn_local_action *la, json_t *inputs, docker_spec *d,
                            char **err) {
    size_t len = 0;
    char *text = rn_read_file(la->file, &len);
    if (!text) {
        *err = rn_xprintf("%s: %s", la->file, strerror(errno));
        return -1;
    }
    rn_arena a;
    rn_arena_init(&a);
    rn_diags diags = RN_DIAGS_INIT;
    rn_ynode *root = rn_yaml_load(&a, la->file, text, len, &diags);
    free(text);
    rn_diags_free(&diags);
    int rc = -1;
    const rn_ynode *runs = root ? rn_yaml_get(root, "runs") : NULL;
    const char *image = rn_yaml_str(rn_yaml_get(runs, "image"));
    if (!image) {
        *err = rn_xprintf("%s: `runs.image` is missing", la->file);
        goto out;
    }
    if (strncmp(image, "docker://", 9) != 0) {
        *err = rn_xprintf("%s: building Dockerfile actions is not supported; use image: "
                          "docker://...",
                          la->file);
        goto out;
    }
    d->image = rn_xstrdup(image + 9);
    const char *ep = rn_yaml_str(rn_yaml_get(runs, "entrypoint"));
    if (ep && !(d->entrypoint = eval_with_inputs(j, inputs, ep, err)))
        goto out;
    const rn_ynode *args = rn_yaml_get(runs, "args");
    if (args && args->kind == RN_Y_SEQ) {
        size_t n = 0;
        d->args = rn_xcalloc(1, sizeof *d->args);
        for (size_t i = 0; i < args->n; i++) {
            const char *t = rn_yaml_str(args->items[i]);
            char *v = eval_with_inputs(j, inputs, t ? t : "", err);
            if (!v)
                goto out;
            strv_push(&d->args, &n, v);
            free(v);
        }
    }
    d->env = json_object();
    const rn_ynode *env = rn_yaml_get(runs, "env");
    for (size_t i = 0; env && env->kind == RN_Y_MAP && i < env->n; i++) {
        const char *t = rn_yaml_str(env->pairs[i].value);
        char *v = eval_with_inputs(j, inputs, t ? t : "", err);
        if (!v)
            goto out;
        json_object_set_new(d->env, env->pairs[i].key->str, json_string(v));
        free(v);
    }
    rc = 0;
out:
    rn_arena_free(&a);
    return rc;
}

/* A host folder made for the step (created if missing). */
static char *make_dir(const char *parent, const char *name) {
    char *p = rn_xprintf("%s/%s", parent, name);
    mkdir(p, 0755);
    return p;
}

rn_step_status rn_step_docker(rn_job *j, const char *uses, const rn_local_action *la,
                              json_t *inputs, json_t *env, long timeout_ms, json_t *outputs) {
    docker_spec d = {0};
    char *err = NULL;
    json_t *extra = json_object();
    const char *k;
    json_t *v;
    if (la) {
        if (spec_from_action(j, la, inputs, &d, &err) != 0) {
            rn_job_log(j, RN_LOG_ERROR, "%s", err);
            free(err);
            spec_free(&d);
            json_decref(extra);
            return RN_STEP_STATUS_FAILURE;
        }
        json_object_update(extra, d.env);
    } else {
        d.image = rn_xstrdup(uses + 9);
        json_t *a = rn_object_iget(inputs, "args");
        if (a && json_is_string(a))
            d.args = rn_docker_split(json_string_value(a));
        json_t *e = rn_object_iget(inputs, "entrypoint");
        if (e && json_is_string(e) && *json_string_value(e))
            d.entrypoint = rn_xstrdup(json_string_value(e));
    }
    json_object_foreach(inputs, k, v) {
        if (!la && (!strcasecmp(k, "args") || !strcasecmp(k, "entrypoint")))
            continue;
        char *n = input_env_name(k);
        json_object_set_new(extra, n, json_string(json_is_string(v) ? json_string_value(v) : ""));
        free(n);
    }

    rn_step_status st = RN_STEP_STATUS_FAILURE;
    rn_container *c = NULL;
    char **argv = NULL;
    char *home = NULL;
    json_t *base = NULL;
    rn_image *img = rn_docker_image(d.image, NULL, &err);
    if (!img) {
        rn_job_log(j, RN_LOG_ERROR, "docker action %s: %s", d.image, err);
        goto out;
    }
    rn_job_log(j, RN_LOG_INFO, "docker action: %s (%s)", img->ref, img->digest);

    /* argv as `docker run [--entrypoint E] IMAGE [ARGS]` builds it */
    size_t n = 0;
    argv = rn_xcalloc(1, sizeof *argv);
    if (d.entrypoint) {
        strv_push(&argv, &n, d.entrypoint);
    } else {
        for (size_t i = 0; img->config.entrypoint && img->config.entrypoint[i]; i++)
            strv_push(&argv, &n, img->config.entrypoint[i]);
    }
    char **rest = d.args ? d.args : (d.entrypoint ? NULL : img->config.cmd);
    for (size_t i = 0; rest && rest[i]; i++)
        strv_push(&argv, &n, rest[i]);
    if (!n) {
        rn_job_log(j, RN_LOG_ERROR, "docker action %s: no entrypoint, command or args to run",
                   d.image);
        goto out;
    }

    /* the GitHub layout of a docker action's container */
    home = make_dir(j->paths.temp, "_github_home");
    const char *event =
        json_string_value(json_object_get(json_object_get(j->contexts, "github"), "event_path"));
    rn_bind binds[6];
    size_t nb = 0;
    binds[nb++] = (rn_bind){j->paths.workspace, "/github/workspace", false};
    binds[nb++] = (rn_bind){j->paths.files, "/github/file_commands", false};
    binds[nb++] = (rn_bind){j->paths.temp, "/github/runner_temp", false};
    binds[nb++] = (rn_bind){home, "/github/home", false};
    struct stat sb;
    if (event && stat(event, &sb) == 0)
        binds[nb++] = (rn_bind){event, "/github/workflow/event.json", true};
    rn_container_opts co = {0};
    co.lowers = (const char *const *)img->layers;
    co.n_lowers = img->nlayers;
    co.binds = binds;
    co.n_binds = nb;
    co.hostname = "runnel-action";
    co.net = RN_NET_HOST; /* GitHub runs it in the job's network */
    bool pids_builtin = false;
    if (rn_pids_limit_default(&co.pids_max, &pids_builtin) != 0) {
        rn_job_log(j, RN_LOG_ERROR,
                   "docker action %s: invalid RUNNEL_PIDS_LIMIT '%s' (a count, "
                   "or -1)",
                   d.image, getenv("RUNNEL_PIDS_LIMIT"));
        goto out;
    }
    co.limits_best_effort = pids_builtin; /* a default, not a request */
    if (img->config.user && *img->config.user &&
        rn_docker_parse_user(img->config.user, &co.uid, &co.gid) != 0)
        rn_job_log(j, RN_LOG_WARNING, "docker action %s: user '%s' is not numeric; running as root",
                   d.image, img->config.user);
    c = rn_container_create(&co, &err);
    if (!c) {
        rn_job_log(j, RN_LOG_ERROR, "docker action %s: cannot create its container: %s", d.image,
                   err);
        goto out;
    }
    json_t *mapped = json_object();
    json_object_set_new(mapped, "GITHUB_WORKSPACE", json_string("/github/workspace"));
    json_object_set_new(mapped, "GITHUB_EVENT_PATH", json_string("/github/workflow/event.json"));
    json_object_set_new(mapped, "RUNNER_TEMP", json_string("/github/runner_temp"));
    json_object_set_new(mapped, "HOME", json_string("/github/home"));
    base = rn_docker_env(img->config.env, j->base_env, mapped);
    json_decref(mapped);
    json_object_del(base, "GITHUB_ACTION_PATH");
    json_object_del(base, "RUNNER_TOOL_CACHE");
    rn_step_proc sp = {0};
    sp.argv = (const char *const *)argv;
    sp.env = env;
    sp.extra = extra;
    sp.base_env = base;
    sp.cwd = "/github/workspace";
    sp.timeout_ms = timeout_ms;
    sp.outputs = outputs;
    sp.container = c;
    sp.files_as = "/github/file_commands";
    st = rn_job_run_process(j, &sp);
out:
    rn_container_destroy(c);
    json_decref(base);
    free(home);
    free(err);
    rn_docker_argv_free(argv);
    rn_image_free(img);
    spec_free(&d);
    json_decref(extra);
    return st;
}
