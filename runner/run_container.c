/* The container a job runs in, and its services (see run_container.h). */
#include "runner/run_container.h"

#include "actions/step_docker.h"
#include "common/strbuf.h"
#include "sandbox/container.h"
#include "sandbox/net.h"
#include "sandbox/proc.h"

#include <ctype.h>
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

typedef struct svc {
    char *name;
    rn_image *img;
    rn_container *c;
    rn_proc *p;
    char *log;
    json_t *env;
} svc;

struct rn_job_ctr {
    rn_image *img;
    rn_container *c;
    char **roots; /* image layers, topmost first (borrowed strings) */
    svc *svcs;
    size_t n_svcs;
    bool net_private;   /* c has a private network namespace the services join */
    rn_pathmap *shares; /* c's read-write binds, for j->shares (strings owned) */
    size_t n_shares;
    char *resolv; /* /etc/resolv.conf of the private network (slirp4netns's DNS), or NULL */
};

/* `options:` of a container or service (docker create flags runnel understands). */
typedef struct ctr_flags {
    char *user, *hostname, *health_cmd;
    int64_t memory;
    int64_t pids; /* --pids-limit: 0 = unlimited; meaningful when pids_set */
    bool pids_set;
    uint32_t cpu_millis;
    int net; /* -1: default */
    long health_interval, health_timeout, health_start;
    int health_retries;
    json_t *env;  /* -e K=V */
    json_t *vols; /* -v SRC:DST[:ro] strings */
} ctr_flags;

static void flags_init(ctr_flags *f) {
    memset(f, 0, sizeof *f);
    f->net = -1;
    f->health_interval = 30000; /* docker's defaults */
    f->health_timeout = 30000;
    f->health_retries = 3;
    f->env = json_object();
    f->vols = json_array();
}

static void flags_free(ctr_flags *f) {
    free(f->user);
    free(f->hostname);
    free(f->health_cmd);
    json_decref(f->env);
    json_decref(f->vols);
}

static void set_str(char **dst, const char *v) {
    free(*dst);
    *dst = rn_xstrdup(v);
}

/* The pids limit of a container: --pids-limit, else the sandbox's default ($RUNNEL_PIDS_LIMIT,
 * else RN_PIDS_LIMIT_DEFAULT). *pids is 0 for unlimited; *dflt tells the built-in default was
 * taken (a cgroup is then best effort). -1 after printing the error. */
static int pids_limit(const ctr_flags *f, const char *what, rn_leg_out *lo, int64_t *pids,
                      bool *dflt) {
    *dflt = false;
    if (f->pids_set) {
        *pids = f->pids;
        return 0;
    }
    if (rn_pids_limit_default(pids, dflt) != 0) {
        rn_leg_printf(lo, "error: %s: invalid RUNNEL_PIDS_LIMIT '%s' (a count, or -1)", what,
                      getenv("RUNNEL_PIDS_LIMIT"));
        return -1;
    }
    return 0;
}

static atomic_int pids_warned;

/* Says which limits could not be applied: a default pids limit once per process (the host
 * has no pids controller runnel can use), requested ones in the job's log. */
static void report_limits(rn_run *r, rn_container *c, const char *what, bool best_effort,
                          rn_leg_out *lo) {
    const char *w = rn_container_warnings(c);
    if (!*w)
        return;
    if (!best_effort)
        rn_leg_printf(lo, "warning: %s: limits not applied: %s", what, w);
    else if (atomic_exchange(&pids_warned, 1) == 0)
        rn_run_warn(r, "containers run without the default pids limit here (%s)", w);
}

/* Parses an options string; -1 after printing the error. */
static int parse_flags(const char *what, const char *s, ctr_flags *f, rn_leg_out *lo) {
    char **w = rn_docker_split(s);
    int rc = 0;
    for (size_t i = 0; w[i] && !rc; i++) {
        char *name = w[i], *val = NULL;
        char *eq = name[0] == '-' && name[1] == '-' ? strchr(name, '=') : NULL;
        if (eq) {
            *eq = 0;
            val = eq + 1;
        }
        static const char *const with_value[] = {"--user",
                                                 "-u",
                                                 "--hostname",
                                                 "-h",
                                                 "--cpus",
                                                 "--memory",
                                                 "-m",
                                                 "--pids-limit",
                                                 "--network",
                                                 "--net",
                                                 "-e",
                                                 "--env",
                                                 "-v",
                                                 "--volume",
                                                 "--health-cmd",
                                                 "--health-interval",
                                                 "--health-timeout",
                                                 "--health-retries",
                                                 "--health-start-period",
                                                 "--name",
                                                 "--workdir",
                                                 "-w",
                                                 "--entrypoint"};
        bool takes = false;
        for (size_t k = 0; k < sizeof with_value / sizeof *with_value; k++)
            takes |= !strcmp(name, with_value[k]);
        if (takes && !val) {
            if (!w[i + 1]) {
                rn_leg_printf(lo, "error: %s options: %s needs a value", what, name);
                rc = -1;
                break;
            }
            val = w[++i];
        }
        if (!strcmp(name, "--user") || !strcmp(name, "-u")) {
            set_str(&f->user, val);
        } else if (!strcmp(name, "--hostname") || !strcmp(name, "-h")) {
            set_str(&f->hostname, val);
        } else if (!strcmp(name, "--cpus")) {
            char *end;
            double c = strtod(val, &end);
            if (*end || c <= 0) {
                rn_leg_printf(lo, "error: %s options: invalid --cpus '%s'", what, val);
                rc = -1;
            }
            f->cpu_millis = (uint32_t)(c * 1000);
        } else if (!strcmp(name, "--memory") || !strcmp(name, "-m")) {
            if ((f->memory = rn_docker_parse_bytes(val)) <= 0) {
                rn_leg_printf(lo, "error: %s options: invalid --memory '%s'", what, val);
                rc = -1;
            }
        } else if (!strcmp(name, "--pids-limit")) {
            if (rn_pids_limit_parse(val, &f->pids) != 0) {
                rn_leg_printf(lo, "error: %s options: invalid --pids-limit '%s'", what, val);
                rc = -1;
            }
            f->pids_set = true;
        } else if (!strcmp(name, "--network") || !strcmp(name, "--net")) {
            if (!strcmp(val, "host")) {
                f->net = RN_NET_HOST;
            } else if (!strcmp(val, "none")) {
                f->net = RN_NET_NONE;
            } else {
                rn_leg_printf(lo, "error: %s options: --network %s: only host and none", what, val);
                rc = -1;
            }
        } else if (!strcmp(name, "-e") || !strcmp(name, "--env")) {
            char *e = strchr(val, '=');
            const char *hv = e ? NULL : getenv(val);
            if (e) {
                *e = 0;
                json_object_set_new(f->env, val, json_string(e + 1));
            } else if (hv) {
                json_object_set_new(f->env, val, json_string(hv));
            }
        } else if (!strcmp(name, "-v") || !strcmp(name, "--volume")) {
            json_array_append_new(f->vols, json_string(val));
        } else if (!strcmp(name, "--health-cmd")) {
            set_str(&f->health_cmd, val);
        } else if (!strncmp(name, "--health-", 9) && strcmp(name, "--health-retries")) {
            long ms = rn_docker_parse_duration(val);
            if (ms < 0) {
                rn_leg_printf(lo, "error: %s options: invalid %s '%s'", what, name, val);
                rc = -1;
            } else if (!strcmp(name, "--health-interval")) {
                f->health_interval = ms;
            } else if (!strcmp(name, "--health-timeout")) {
                f->health_timeout = ms;
            } else {
                f->health_start = ms;
            }
        } else if (!strcmp(name, "--health-retries")) {
            f->health_retries = atoi(val);
            if (f->health_retries < 1)
                f->health_retries = 1;
        } else {
            /* --name, --workdir, --privileged, --cap-add...: runnel's containers do not offer
             * them; say so instead of failing the job */
            rn_leg_printf(lo, "warning: %s options: '%s' is ignored by runnel", what, name);
        }
    }
    rn_docker_argv_free(w);
    return rc;
}

static bool under(const char *path, const char *dir) {
    size_t n = strlen(dir);
    return !strncmp(path, dir, n) && (path[n] == '/' || path[n] == 0);
}

/* Evaluated `container:` / service node: image and the rest (object form), or NULL. */
typedef struct ctr_spec {
    char *image;
    char *creds; /* USER:PASS */
    json_t *env, *volumes, *ports;
    char *options, *entrypoint, *command;
} ctr_spec;

static void spec_free(ctr_spec *s) {
    free(s->image);
    free(s->creds);
    free(s->options);
    free(s->entrypoint);
    free(s->command);
    json_decref(s->env);
    json_decref(s->volumes);
    json_decref(s->ports);
}

static char *json_text(json_t *v) {
    if (!v || json_is_null(v))
        return NULL;
    return json_is_string(v) ? rn_xstrdup(json_string_value(v)) : rn_value_to_string(v);
}

/* -1 after an error was printed. */
static int eval_spec(rn_job *j, const rn_ynode *node, const char *what, ctr_spec *s,
                     rn_leg_out *lo) {
    memset(s, 0, sizeof *s);
    char *err = NULL;
    json_t *v = rn_job_eval_node(j, node, &err);
    if (!v) {
        rn_leg_printf(lo, "error: %s: %s", what, err);
        free(err);
        return -1;
    }
    if (json_is_string(v)) {
        s->image = rn_xstrdup(json_string_value(v));
    } else if (json_is_object(v)) {
        s->image = json_text(json_object_get(v, "image"));
        s->options = json_text(json_object_get(v, "options"));
        s->entrypoint = json_text(json_object_get(v, "entrypoint"));
        s->command = json_text(json_object_get(v, "command"));
        s->env = json_incref(json_object_get(v, "env"));
        s->volumes = json_incref(json_object_get(v, "volumes"));
        s->ports = json_incref(json_object_get(v, "ports"));
        json_t *cr = json_object_get(v, "credentials");
        if (json_is_object(cr)) {
            char *u = json_text(json_object_get(cr, "username"));
            char *p = json_text(json_object_get(cr, "password"));
            if (u && p)
                s->creds = rn_xprintf("%s:%s", u, p);
            free(u);
            free(p);
        }
    } else if (!json_is_null(v)) {
        rn_leg_printf(lo, "error: %s: expected an image or a mapping", what);
        json_decref(v);
        return -1;
    }
    json_decref(v);
    if (s->image && !*s->image) { /* image: '' means no container, as on GitHub */
        free(s->image);
        s->image = NULL;
    }
    return 0;
}

/* Adds the spec's env (stringified) to `into`. */
static void add_env(json_t *into, const json_t *env) {
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)env, k, v) {
        char *s = json_text(v);
        json_object_set_new(into, k, json_string(s ? s : ""));
        free(s);
    }
}

/* Bind mounts for `volumes:` and -v: SRC:DST[:ro]; a SRC without '/' is a named volume (a
 * folder of the run). Appends to *binds (strings kept in `keep`). -1 after an error. */
static int add_volumes(rn_run *r, const json_t *vols, rn_bind **binds, size_t *nb, json_t *keep,
                       rn_leg_out *lo) {
    size_t i;
    json_t *v;
    json_array_foreach((json_t *)vols, i, v) {
        const char *spec = json_string_value(v);
        if (!spec)
            continue;
        char *copy = rn_xstrdup(spec);
        char *dst = strchr(copy, ':');
        bool ro = false;
        if (!dst || dst == copy || dst[1] != '/') {
            rn_leg_printf(lo, "error: volume '%s': expected SRC:DST[:ro] with an absolute DST",
                          spec);
            free(copy);
            return -1;
        }
        *dst++ = 0;
        char *mode = strchr(dst, ':');
        if (mode) {
            *mode++ = 0;
            ro = !strcmp(mode, "ro");
        }
        char *src;
        if (copy[0] == '/') {
            src = rn_xstrdup(copy);
        } else if (!strchr(copy, '/')) {
            char *vd = rn_xprintf("%s/volumes", r->run_dir);
            mkdir(vd, 0755);
            src = rn_xprintf("%s/%s", vd, copy);
            mkdir(src, 0755);
            free(vd);
        } else {
            src = rn_xprintf("%s/%s", r->root, copy);
        }
        struct stat sb;
        if (stat(src, &sb) != 0) {
            rn_leg_printf(lo, "error: volume '%s': %s: %s", spec, src, strerror(errno));
            free(src);
            free(copy);
            return -1;
        }
        json_array_append_new(keep, json_string(src));
        json_array_append_new(keep, json_string(dst));
        size_t n = json_array_size(keep);
        *binds = rn_xrealloc(*binds, (*nb + 1) * sizeof **binds);
        (*binds)[(*nb)++] = (rn_bind){json_string_value(json_array_get(keep, n - 2)),
                                      json_string_value(json_array_get(keep, n - 1)), ro};
        free(src);
        free(copy);
    }
    return 0;
}

static void push_bind(rn_bind **binds, size_t *nb, const char *src, const char *dst, bool ro) {
    *binds = rn_xrealloc(*binds, (*nb + 1) * sizeof **binds);
    (*binds)[(*nb)++] = (rn_bind){src, dst, ro};
}

static bool job_cancelled(rn_job *j) {
    pthread_mutex_lock(&j->lock);
    bool c = j->cancelled;
    pthread_mutex_unlock(&j->lock);
    return c;
}

static char *image_user(rn_leg_out *lo, const char *what, const char *user, uid_t *uid,
                        gid_t *gid) {
    if (!user || !*user)
        return NULL;
    if (rn_docker_parse_user(user, uid, gid) != 0)
        rn_leg_printf(lo, "warning: %s: user '%s' is not numeric (uid[:gid]); running as root",
                      what, user);
    return NULL;
}

static char **env_array(const json_t *env) {
    size_t n = json_object_size(env), i = 0;
    char **a = rn_xcalloc(n + 1, sizeof *a);
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)env, k, v) {
        a[i++] = rn_xprintf("%s=%s", k, json_string_value(v) ? json_string_value(v) : "");
    }
    return a;
}

static void print_log_tail(rn_leg_out *lo, const char *path) {
    size_t len = 0;
    char *t = rn_read_file(path, &len);
    if (!t)
        return;
    /* the last 10 lines */
    const char *start = t + len;
    int lines = 0;
    while (start > t && lines <= 10) {
        start--;
        if (*start == '\n' && start + 1 < t + len)
            lines++;
    }
    if (*start == '\n')
        start++;
    for (char *save = NULL, *l = strtok_r((char *)start, "\n", &save); l;
         l = strtok_r(NULL, "\n", &save))
        rn_leg_printf(lo, "  | %s", l);
    free(t);
}

static long mono_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

/* Sleeps up to ms while the service runs and the job is not cancelled; -1 after printing why
 * it stopped. */
static int svc_sleep(rn_job *j, svc *s, long ms, rn_leg_out *lo) {
    long end = mono_ms() + ms;
    for (;;) {
        rn_proc_result res;
        if (rn_proc_poll(s->p, 0, &res) == 1) {
            char *d = rn_proc_result_describe(&res, NULL);
            rn_leg_printf(lo, "error: service '%s' stopped (%s); its log, %s:", s->name, d, s->log);
            free(d);
            print_log_tail(lo, s->log);
            rn_proc_free(s->p);
            s->p = NULL;
            return -1;
        }
        if (job_cancelled(j)) {
            rn_leg_printf(lo, "error: cancelled while waiting for service '%s'", s->name);
            return -1;
        }
        long left = end - mono_ms();
        if (left <= 0)
            return 0;
        struct timespec ts = {0, (left < 50 ? left : 50) * 1000000L};
        nanosleep(&ts, NULL);
    }
}

/* Docker's health check: the command runs in the service's container every interval; the
 * service is unhealthy after `retries` consecutive failures (failures during the start period
 * do not count). -1 after an error was printed. */
static int await_health(rn_job *j, svc *s, const ctr_flags *fl, const char *const *envp,
                        rn_leg_out *lo) {
    rn_leg_printf(lo, "Waiting for service %s to be healthy: %s", s->name, fl->health_cmd);
    long t0 = mono_ms();
    int failures = 0;
    for (;;) {
        if (svc_sleep(j, s, fl->health_interval, lo) != 0)
            return -1;
        const char *argv[] = {"/bin/sh", "-c", fl->health_cmd, NULL};
        rn_proc_opts po = {0};
        po.argv = argv;
        po.envp = envp;
        po.cwd = "/";
        po.stdout_mode = RN_STDIO_PIPE;
        po.stderr_mode = RN_STDIO_MERGE;
        po.timeout_ms = (int)fl->health_timeout;
        po.kill_grace_ms = 500;
        po.container = s->c;
        rn_proc_result res;
        char *out = NULL, *err = NULL;
        bool ok = false;
        if (rn_proc_run(&po, &res, &out, NULL, &err) == 0)
            ok = res.status == RN_PROC_EXITED && res.exit_code == 0;
        if (ok) {
            rn_leg_printf(lo, "Service %s is healthy", s->name);
            free(out);
            return 0;
        }
        bool counts = mono_ms() - t0 >= fl->health_start;
        if (counts)
            failures++;
        if (failures >= fl->health_retries) {
            char *d = err ? rn_xstrdup(err) : rn_proc_result_describe(&res, &po);
            size_t n = out ? strlen(out) : 0;
            while (n && (out[n - 1] == '\n' || out[n - 1] == ' '))
                out[--n] = 0;
            rn_leg_printf(lo,
                          "error: service '%s' is unhealthy: its health check failed %d times "
                          "(last: %s%s%s)",
                          s->name, failures, d, n ? ": " : "", n ? out : "");
            free(d);
            free(out);
            free(err);
            return -1;
        }
        free(out);
        free(err);
    }
}

/* Starts service i and waits until healthy. -1 after an error was printed. */
static int start_service(rn_run *r, rn_job *j, rn_job_ctr *jc, const rn_wf_container *wc,
                         const char *hosts, const char *jdir, json_t *svc_ctx, rn_leg_out *lo) {
    svc *s = &jc->svcs[jc->n_svcs++];
    memset(s, 0, sizeof *s);
    s->name = rn_xstrdup(wc->id.s ? wc->id.s : "service");
    char *what = rn_xprintf("service '%s'", s->name);
    ctr_spec sp;
    ctr_flags fl;
    flags_init(&fl);
    json_t *keep = json_array();
    rn_bind *binds = NULL;
    size_t nb = 0;
    char **argv = NULL, **envp = NULL;
    char *err = NULL;
    int rc = -1;
    if (eval_spec(j, wc->node, what, &sp, lo) != 0)
        goto out_nospec;
    if (!sp.image) {
        rn_leg_printf(lo, "error: %s: no image", what);
        goto out;
    }
    if (sp.options && parse_flags(what, sp.options, &fl, lo) != 0)
        goto out;
    s->img = rn_docker_image(sp.image, sp.creds, &err);
    if (!s->img) {
        rn_leg_printf(lo, "error: %s: %s", what, err);
        goto out;
    }
    if (hosts)
        push_bind(&binds, &nb, hosts, "/etc/hosts", true);
    if (jc->net_private && jc->resolv)
        push_bind(&binds, &nb, jc->resolv, "/etc/resolv.conf", true);
    if (sp.volumes && add_volumes(r, sp.volumes, &binds, &nb, keep, lo) != 0)
        goto out;
    if (add_volumes(r, fl.vols, &binds, &nb, keep, lo) != 0)
        goto out;
    rn_container_opts co = {0};
    co.lowers = (const char *const *)s->img->layers;
    co.n_lowers = s->img->nlayers;
    co.binds = binds;
    co.n_binds = nb;
    co.hostname = fl.hostname ? fl.hostname : s->name;
    /* the job's network: its private namespace when it has one, else the host's */
    co.net = RN_NET_HOST;
    co.net_from = jc->net_private ? jc->c : NULL;
    co.memory_bytes = fl.memory;
    co.cpu_millis = fl.cpu_millis;
    bool pids_dflt;
    if (pids_limit(&fl, what, lo, &co.pids_max, &pids_dflt) != 0)
        goto out;
    co.limits_best_effort = pids_dflt && !co.memory_bytes && !co.cpu_millis;
    image_user(lo, what, fl.user ? fl.user : s->img->config.user, &co.uid, &co.gid);
    s->c = rn_container_create(&co, &err);
    if (!s->c) {
        rn_leg_printf(lo, "error: %s: cannot create its container: %s", what, err);
        goto out;
    }
    report_limits(r, s->c, what, co.limits_best_effort, lo);
    json_t *extra = json_object();
    if (sp.env)
        add_env(extra, sp.env);
    json_object_update(extra, fl.env);
    json_t *none = json_object();
    s->env = rn_docker_env(s->img->config.env, none, extra);
    json_decref(none);
    json_decref(extra);

    size_t n = 0;
    argv = rn_xcalloc(1, sizeof *argv);
    char **ep = sp.entrypoint ? rn_docker_split(sp.entrypoint) : NULL;
    char **cmd = sp.command ? rn_docker_split(sp.command) : NULL;
    char *const *e = ep ? ep : s->img->config.entrypoint;
    char *const *c = cmd ? cmd : (ep ? NULL : s->img->config.cmd);
    for (size_t i = 0; e && e[i]; i++, n++) {
        argv = rn_xrealloc(argv, (n + 2) * sizeof *argv);
        argv[n] = rn_xstrdup(e[i]);
        argv[n + 1] = NULL;
    }
    for (size_t i = 0; c && c[i]; i++, n++) {
        argv = rn_xrealloc(argv, (n + 2) * sizeof *argv);
        argv[n] = rn_xstrdup(c[i]);
        argv[n + 1] = NULL;
    }
    rn_docker_argv_free(ep);
    rn_docker_argv_free(cmd);
    if (!n) {
        rn_leg_printf(lo, "error: %s: the image has no entrypoint or command to run", what);
        goto out;
    }
    char *sdir = rn_xprintf("%s/services", jdir);
    mkdir(sdir, 0755);
    s->log = rn_xprintf("%s/%s.log", sdir, s->name);
    free(sdir);
    envp = env_array(s->env);
    rn_proc_opts po = {0};
    po.argv = (const char *const *)argv;
    po.envp = (const char *const *)envp;
    po.cwd = s->img->config.working_dir && *s->img->config.working_dir ? s->img->config.working_dir
                                                                       : "/";
    po.stdout_mode = RN_STDIO_FILE;
    po.stdout_path = s->log;
    po.stderr_mode = RN_STDIO_MERGE;
    po.container = s->c;
    s->p = rn_proc_start(&po, &err);
    if (!s->p) {
        rn_leg_printf(lo, "error: %s: cannot start %s: %s", what, argv[0], err);
        goto out;
    }
    rn_leg_printf(lo, "Service %s: %s (%s)", s->name, s->img->ref, s->img->digest);

    json_t *ports = json_object();
    size_t pi;
    json_t *pv;
    json_array_foreach(sp.ports, pi, pv) {
        char *p = json_text(pv);
        if (!p)
            continue;
        char *colon = strrchr(p, ':');
        const char *cport = colon ? colon + 1 : p;
        char *slash = strchr(cport, '/');
        if (slash)
            *slash = 0;
        if (colon) {
            *colon = 0;
            const char *hport = strrchr(p, ':') ? strrchr(p, ':') + 1 : p;
            if (strcmp(hport, cport))
                rn_leg_printf(lo,
                              "warning: service '%s' ports: %s:%s: services share the job's "
                              "network, so it is reachable on port %s",
                              s->name, hport, cport, cport);
        }
        json_object_set_new(ports, cport, json_string(cport));
        free(p);
    }
    char *id = rn_xprintf("runnel-%d", (int)rn_container_init_pid(s->c));
    json_object_set_new(svc_ctx, s->name,
                        json_pack("{s:s,s:s,s:o}", "id", id, "network",
                                  jc->net_private ? "private" : "host", "ports", ports));
    free(id);
    rc = fl.health_cmd ? await_health(j, s, &fl, (const char *const *)envp, lo) : 0;
out:
    spec_free(&sp);
out_nospec:
    (void)j;
    free(what);
    free(err);
    flags_free(&fl);
    json_decref(keep);
    free(binds);
    rn_docker_argv_free(argv);
    rn_docker_argv_free(envp);
    return rc;
}

/* resolv.conf of a private network: slirp4netns's DNS forwarder. */
static char *write_resolv(const char *jdir) {
    char *path = rn_xprintf("%s/resolv.conf", jdir);
    FILE *fp = fopen(path, "w");
    if (!fp) {
        free(path);
        return NULL;
    }
    fprintf(fp, "nameserver %s\n", RN_SLIRP_DNS);
    fclose(fp);
    return path;
}

/* hosts file of the job's network: localhost, the job's hostname and each service. */
static char *write_hosts(const char *jdir, const char *hostname, const rn_wf_job *wj) {
    char *path = rn_xprintf("%s/hosts", jdir);
    FILE *fp = fopen(path, "w");
    if (!fp) {
        free(path);
        return NULL;
    }
    fprintf(fp, "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n");
    fprintf(fp, "127.0.1.1\t%s\n", hostname);
    for (size_t i = 0; i < wj->n_services; i++)
        if (wj->services[i].id.s)
            fprintf(fp, "127.0.0.1\t%s\n", wj->services[i].id.s);
    fclose(fp);
    return path;
}

static atomic_int fallback_warned;

pid_t rn_job_ctr_private_net(const rn_job_ctr *c) {
    return c && c->net_private && c->c ? rn_container_init_pid(c->c) : -1;
}

int rn_job_ctr_setup(rn_run *r, rn_job *j, const rn_wf_job *wj, const char *jdir, rn_leg_out *lo,
                     rn_job_ctr **out) {
    *out = NULL;
    char *err = NULL;
    char *image = NULL;
    bool on_host = false;
    for (size_t i = 0; i < wj->runs_on.labels.n; i++) {
        char *label = rn_job_eval_str(j, wj->runs_on.labels.items[i].s, &err);
        if (!label) {
            free(err); /* check_runs_on reported it */
            err = NULL;
            continue;
        }
        const char *mapped = json_string_value(rn_object_iget(r->opts->platforms, label));
        if (mapped && !strcmp(mapped, "host"))
            on_host = true;
        else if (mapped && !image)
            image = rn_xstrdup(mapped);
        free(label);
    }
    ctr_spec cs = {0};
    if (wj->container && eval_spec(j, wj->container->node, "container", &cs, lo) != 0) {
        free(image);
        return -1;
    }
    if (cs.image) { /* container: wins over the runner's image */
        free(image);
        image = rn_xstrdup(cs.image);
    }
    bool host_root = !image && !on_host;
    if (!image && on_host && !wj->n_services) {
        spec_free(&cs);
        return 0;
    }

    rn_job_ctr *jc = rn_xcalloc(1, sizeof *jc);
    jc->svcs = rn_xcalloc(wj->n_services + 1, sizeof *jc->svcs);
    ctr_flags fl;
    flags_init(&fl);
    json_t *keep = json_array();
    rn_bind *binds = NULL;
    size_t nb = 0;
    char *home = NULL, *hosts = NULL;
    int rc = -1;
    if (cs.options && parse_flags("container", cs.options, &fl, lo) != 0)
        goto out;
    const char *hostname = fl.hostname ? fl.hostname : wj->id.s;
    if (wj->n_services || image)
        hosts = write_hosts(jdir, hostname, wj);

    if (image || host_root) {
        rn_container_opts co = {0};
        const char *root_lower[] = {"/", NULL};
        if (image) {
            jc->img = rn_docker_image(image, cs.creds, &err);
            if (!jc->img) {
                rn_leg_printf(lo, "error: job container image %s: %s", image, err);
                goto out;
            }
            co.lowers = (const char *const *)jc->img->layers;
            co.n_lowers = jc->img->nlayers;
        } else {
            co.lowers = root_lower;
            co.n_lowers = 1;
        }
        /* the host-root container shares the user's home: the built-in actions (cache,
         * setup-java) restore ~/.m2 and friends there from the host side, and an overlay lower
         * must not change under a mounted overlay. Before the workspace, which may be in it. */
        const char *uhome = json_string_value(json_object_get(j->base_env, "HOME"));
        struct stat hs;
        if (host_root && uhome && uhome[0] == '/' && uhome[1] && !under(uhome, r->root) &&
            stat(uhome, &hs) == 0 && S_ISDIR(hs.st_mode))
            push_bind(&binds, &nb, uhome, uhome, false);
        /* the job's folders at their host paths, so every path runnel hands a step is valid */
        push_bind(&binds, &nb, r->root, r->root, false);
        if (!under(jdir, r->root))
            push_bind(&binds, &nb, jdir, jdir, false);
        const char *tc = j->paths.tool_cache;
        if (tc && !under(tc, r->root))
            push_bind(&binds, &nb, tc, tc, false);
        const char *ev = json_string_value(
            json_object_get(json_object_get(j->contexts, "github"), "event_path"));
        if (ev && !under(ev, r->root))
            push_bind(&binds, &nb, ev, ev, true);
        if (image) {
            home = rn_xprintf("%s/home", jdir);
            mkdir(home, 0755);
            push_bind(&binds, &nb, home, "/github/home", false);
        }
        if (hosts)
            push_bind(&binds, &nb, hosts, "/etc/hosts", true);
        if (cs.volumes && add_volumes(r, cs.volumes, &binds, &nb, keep, lo) != 0)
            goto out;
        if (add_volumes(r, fl.vols, &binds, &nb, keep, lo) != 0)
            goto out;
        co.binds = binds;
        co.n_binds = nb;
        co.hostname = hostname;
        co.net = fl.net >= 0 ? (rn_net_mode)fl.net : RN_NET_HOST;
        /* services share a private network namespace with the job (their own localhost, ports
         * free of the host's); joining one needs root. --network host keeps the host's. */
        if (wj->n_services && fl.net < 0 && geteuid() == 0) {
            co.net = RN_NET_PRIVATE;
            jc->net_private = true;
            /* its route out is slirp4netns, whose DNS forwarder is 10.0.2.3 */
            char *slirp = rn_slirp_find();
            if (slirp)
                jc->resolv = write_resolv(jdir);
            free(slirp);
            if (jc->resolv)
                push_bind(&binds, &nb, jc->resolv, "/etc/resolv.conf", true);
            co.binds = binds;
            co.n_binds = nb;
        }
        co.memory_bytes = fl.memory;
        co.cpu_millis = fl.cpu_millis;
        /* a pids limit by default (a fork bomb in a job must not take the machine down) */
        bool pids_dflt;
        if (pids_limit(&fl, "container", lo, &co.pids_max, &pids_dflt) != 0)
            goto out;
        co.limits_best_effort = pids_dflt && !co.memory_bytes && !co.cpu_millis;
        const char *user = fl.user ? fl.user : (jc->img ? jc->img->config.user : NULL);
        image_user(lo, "container", user, &co.uid, &co.gid);
        jc->c = rn_container_create(&co, &err);
        if (!jc->c && host_root && !wj->n_services) {
            if (atomic_exchange(&fallback_warned, 1) == 0)
                rn_run_warn(r,
                            "cannot create job containers here (%s); jobs run directly on the "
                            "host (-P LABEL=host says so explicitly)",
                            err);
            rc = 0;
            goto out;
        }
        if (!jc->c) {
            rn_leg_printf(lo, "error: cannot create the job's container: %s", err);
            goto out;
        }
        report_limits(r, jc->c, "container", co.limits_best_effort, lo);
        if (*rn_container_net_warning(jc->c))
            rn_leg_printf(lo,
                          "warning: the job's private network has no route outside (only the "
                          "job and its services): %s",
                          rn_container_net_warning(jc->c));
        j->container = jc->c;
        for (size_t i = 0; i < nb; i++) {
            if (binds[i].ro)
                continue;
            jc->shares = rn_xrealloc(jc->shares, (jc->n_shares + 1) * sizeof *jc->shares);
            jc->shares[jc->n_shares++] =
                (rn_pathmap){rn_xstrdup(binds[i].dst), rn_xstrdup(binds[i].src)};
        }
        j->shares = jc->shares;
        j->n_shares = jc->n_shares;
        char *id = rn_xprintf("runnel-%d", (int)rn_container_init_pid(jc->c));
        json_t *job = json_object_get(j->contexts, "job");
        if (json_is_object(job))
            json_object_set_new(job, "container",
                                json_pack("{s:s,s:s}", "id", id, "network",
                                          co.net == RN_NET_HOST      ? "host"
                                          : co.net == RN_NET_PRIVATE ? "private"
                                                                     : "none"));
        free(id);
        if (jc->img) {
            rn_leg_printf(lo, "Job container: %s (%s)", jc->img->ref, jc->img->digest);
            jc->roots = rn_xcalloc(jc->img->nlayers + 1, sizeof *jc->roots);
            for (size_t i = 0; i < jc->img->nlayers; i++)
                jc->roots[i] = jc->img->layers[jc->img->nlayers - 1 - i];
            j->prog_roots = (const char *const *)jc->roots;
            json_t *extra = json_object();
            json_object_set_new(extra, "HOME", json_string("/github/home"));
            if (cs.env)
                add_env(extra, cs.env);
            json_object_update(extra, fl.env);
            json_t *env = rn_docker_env(jc->img->config.env, j->base_env, extra);
            json_decref(extra);
            json_decref(j->base_env);
            j->base_env = env;
        } else if (cs.env || json_object_size(fl.env)) {
            if (cs.env)
                add_env(j->base_env, cs.env);
            json_object_update(j->base_env, fl.env);
        }
    }

    if (wj->n_services) {
        if (!j->container)
            rn_leg_printf(lo, "warning: the job runs on the host: services are reachable on "
                              "localhost, not by name");
        json_t *svc_ctx = json_object();
        for (size_t i = 0; i < wj->n_services; i++)
            if (start_service(r, j, jc, &wj->services[i], hosts, jdir, svc_ctx, lo) != 0) {
                json_decref(svc_ctx);
                goto out;
            }
        json_t *job = json_object_get(j->contexts, "job");
        if (json_is_object(job))
            json_object_set_new(job, "services", svc_ctx);
        else
            json_decref(svc_ctx);
    }
    rc = 0;
out:
    free(err);
    free(image);
    free(home);
    free(hosts);
    free(binds);
    json_decref(keep);
    flags_free(&fl);
    spec_free(&cs);
    if (rc != 0 || (!jc->c && !jc->n_svcs)) {
        rn_job_ctr_teardown(jc, j);
        jc = NULL;
    }
    *out = jc;
    return rc;
}

void rn_job_ctr_teardown(rn_job_ctr *jc, rn_job *j) {
    if (!jc)
        return;
    for (size_t i = 0; i < jc->n_svcs; i++) {
        svc *s = &jc->svcs[i];
        rn_proc_free(s->p);
        rn_container_destroy(s->c);
        rn_image_free(s->img);
        json_decref(s->env);
        free(s->name);
        free(s->log);
    }
    free(jc->svcs);
    if (j && j->container == jc->c) {
        j->container = NULL;
        j->prog_roots = NULL;
    }
    if (j && j->shares == jc->shares) {
        j->shares = NULL;
        j->n_shares = 0;
    }
    for (size_t i = 0; i < jc->n_shares; i++) {
        free((char *)jc->shares[i].inner);
        free((char *)jc->shares[i].outer);
    }
    free(jc->shares);
    rn_container_destroy(jc->c);
    free(jc->roots);
    free(jc->resolv);
    rn_image_free(jc->img);
    free(jc);
}
