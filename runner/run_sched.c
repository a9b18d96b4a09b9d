/* Scheduler and job lifecycle of `runnel run`.
 *
 * One coordinator (the calling thread) owns the state under r->lock: it asks each workflow's
 * rn_sched (workflow/graph.h) which jobs are ready, evaluates their `if:`, expands their matrix
 * (strategy from fromJSON(needs...) works because needs are done by then) and starts legs on
 * worker threads, at most --parallel at once and at most max-parallel per job. A finishing leg
 * records its result under the lock, cancels its siblings when fail-fast applies, and wakes the
 * coordinator. Jobs start as soon as their own needs finished: a DAG, not stages.
 *
 * A job with `uses:` calls a reusable workflow: its leg's thread loads the called workflow
 * (run_reusable.c) and hands it to the coordinator as one more workflow runtime (wfrt) whose
 * jobs are scheduled like every other, named "caller / job"; the leg then waits (LEG_CALLING,
 * holding no --parallel slot) until the coordinator sees the called workflow done, evaluates
 * its on.workflow_call.outputs and finishes the leg.
 *
 * Concurrency groups (`concurrency:` of workflows and jobs, evaluated when they are queued:
 * a workflow when the run or its caller starts it, a job's legs when the job becomes ready)
 * hold one running and one pending member each: a newly queued member cancels the pending one
 * and, with cancel-in-progress, the running one; a pending member starts when the running one
 * is done. */
#include "runner/run.h"

#include "actions/policy_job.h"
#include "actions/remote.h"
#include "common/strbuf.h"
#include "runner/run_cache.h"
#include "runner/run_container.h"
#include "workflow/matrix.h"
#include "workflow/validate.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static long mono_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

typedef struct jobrt jobrt;
typedef struct wfrt wfrt;

typedef enum leg_state { LEG_PENDING, LEG_RUNNING, LEG_CALLING, LEG_DONE } leg_state;

/* A concurrency group: at most one running and one pending member, each a leg or a workflow. */
typedef struct cgroup {
    char *name; /* as evaluated; compared case-insensitively */
    struct leg *run_leg, *pend_leg;
    wfrt *run_wf, *pend_wf;
} cgroup;

typedef struct leg {
    jobrt *job;
    size_t index;
    json_t *matrix;
    char *name;
    char *slug; /* its folder under RUN/jobs/ */
    pthread_t th;
    bool thread;
    leg_state state;
    rn_job *j; /* while running (under r->lock) */
    rn_step_status status;
    bool coe; /* failed but the job has continue-on-error */
    bool unservable;
    long ms, t0;
    json_t *outputs;
    wfrt *child; /* the workflow this leg calls (jobs.<id>.uses), once loaded */
    cgroup *cg;  /* its job's concurrency group while it is a member */
    bool cip;    /* its cancel-in-progress */
} leg;

struct jobrt {
    rn_run *r;
    wfrt *wr;
    rn_run_wf *w;
    size_t idx;
    const rn_wf_job *wj;
    bool ready, finished;
    char *name; /* display name without matrix (for skipped rows), after the callers' names */
    char *key;  /* the job's id after its callers' ("call/build"): the JSON `job` field */
    leg *legs;
    size_t n_legs, n_running, n_done;
    int max_parallel; /* 0: unlimited */
    bool fail_fast;
    json_t *outputs;
    json_t *needs; /* the needs context, fixed when the job became ready */
    rn_job_result result;
    const char *note; /* why it was skipped / failed before running */
    char *error;      /* setup error shown in the summary */
    long t0;
};

/* A workflow being run: one of the run's, or one a leg calls. */
struct wfrt {
    rn_run_wf *w;
    rn_run_wf own; /* a called workflow's (w == &own) */
    rn_sched *s;
    jobrt *jobs;
    const char *display; /* the run's workflow display name: every line's prefix */
    char *name_prefix;   /* "" or the caller leg's name + " / " */
    char *key_prefix;    /* "" or the caller job's key + "/" */
    char *slug_prefix;   /* folder name prefix of its legs */
    char *root;          /* repository root for ./ references */
    json_t *secrets;     /* its secrets context */
    leg *caller;         /* NULL for a workflow of the run */
    int depth;           /* nesting of calls: 0 for a workflow of the run */
    bool cancelled;      /* its caller was cancelled: cancelled() is true inside */
    bool reported;       /* its caller leg has been finished */
    cgroup *cg;          /* its concurrency group while it is a member */
    bool waiting;        /* pending in cg: none of its jobs starts yet */
    bool never_start;    /* cancelled by concurrency before it started: every job cancelled */
    bool conc_cancelled; /* cancelled by concurrency while running: unstarted jobs cancelled */
};

typedef struct sched {
    rn_run *r;
    pthread_cond_t cond;
    wfrt **wfs; /* the run's workflows first, then the called ones as they start */
    size_t n_wfs;
    int running;
    cgroup **groups;
    size_t n_groups;
} sched;

static sched *g_sched; /* for leg threads */

/* ---- contexts ---- */

static json_t *needs_context(wfrt *wr, size_t j) {
    json_t *needs = json_object();
    size_t n;
    const size_t *ids = rn_graph_needs(wr->w->plan.graph, j, &n);
    for (size_t i = 0; i < n; i++) {
        jobrt *nj = &wr->jobs[ids[i]];
        json_t *o = json_pack("{s:s,s:O}", "result", rn_job_result_name(nj->result), "outputs",
                              nj->outputs);
        json_object_set_new(needs, nj->wj->id.s, o);
    }
    return needs;
}

/* An rn_job holding the contexts a job-level expression may use (if:, strategy, name). */
static void eval_job_init(rn_job *ej, rn_run *r, wfrt *wr, json_t *needs, json_t *matrix) {
    rn_job_init(ej);
    json_object_set(ej->contexts, "github", r->github);
    json_object_set(ej->contexts, "vars", r->opts->vars);
    json_object_set(ej->contexts, "inputs", wr->w->inputs);
    json_object_set(ej->contexts, "needs", needs);
    if (matrix)
        json_object_set(ej->contexts, "matrix", matrix);
}

/* ---- legs ---- */

static void slugify(rn_sb *sb, const char *s) {
    for (; *s; s++)
        rn_sb_putc(sb,
                   isalnum((unsigned char)*s) || *s == '-' || *s == '_' || *s == '.' ? *s : '_');
}

static bool label_on_host(const char *l) {
    return !strncasecmp(l, "ubuntu-", 7) || !strcasecmp(l, "linux") ||
           !strcasecmp(l, "self-hosted") || !strcasecmp(l, "x64");
}

/* 1 runs here, 0 skipped (warning printed), -1 failed (error printed). */
static int check_runs_on(rn_run *r, rn_job *j, const rn_wf_job *wj, rn_leg_out *lo) {
    for (size_t i = 0; i < wj->runs_on.labels.n; i++) {
        char *err = NULL;
        char *label = rn_job_eval_str(j, wj->runs_on.labels.items[i].s, &err);
        if (!label) {
            rn_leg_printf(lo, "error: runs-on: %s", err);
            free(err);
            return -1;
        }
        /* a label mapped to an image runs in a container (runner/run_container.c) */
        const char *mapped = json_string_value(rn_object_iget(r->opts->platforms, label));
        if (!mapped && !label_on_host(label)) {
            rn_run_warn(r,
                        "%sjob '%s' runs on '%s', which runnel cannot serve on this machine; "
                        "skipped (map it with -P %s=host)",
                        lo->prefix, wj->id.s, label, label);
            free(label);
            return 0;
        }
        free(label);
    }
    return 1;
}

static void set_str(json_t *o, const char *k, const char *v) {
    json_object_set_new(o, k, json_string(v ? v : ""));
}

/* RUN/jobs/<slug>, created. Caller frees. */
static char *leg_dir(rn_run *r, leg *lg) {
    char *jobs_dir = rn_xprintf("%s/jobs", r->run_dir);
    mkdir(jobs_dir, 0755);
    free(jobs_dir);
    char *jdir = rn_xprintf("%s/jobs/%s", r->run_dir, lg->slug);
    mkdir(jdir, 0755);
    return jdir;
}

static void write_outputs(rn_run *r, const char *path, json_t *outputs) {
    char *dump = json_dumps(outputs, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    char *masked = rn_mask_str(r->mask, dump);
    FILE *fp = fopen(path, "w");
    if (fp) {
        fprintf(fp, "%s\n", masked);
        fclose(fp);
    }
    free(masked);
    free(dump);
}

/* The leg's last line (and its job_end event), from lg->status, coe and ms. */
static void leg_end_line(rn_run *r, rn_leg_out *lo, leg *lg) {
    rn_step_status status = lg->status;
    char t[32];
    rn_fmt_ms(lg->ms, t, sizeof t);
    const char *word = status == RN_STEP_STATUS_SUCCESS     ? "🏁  Job succeeded"
                       : status == RN_STEP_STATUS_SKIPPED   ? "⏭  Job skipped"
                       : status == RN_STEP_STATUS_CANCELLED ? "🚫  Job cancelled"
                       : lg->coe                            ? "🏁  Job failed (continue-on-error)"
                                                            : "🏁  Job failed";
    rn_leg_printf(lo, "%s [%s]", word, t);
    if (r->opts->json) {
        json_t *ev =
            json_pack("{s:s,s:s,s:s,s:s,s:I,s:O?}", "event", "job_end", "job", lg->job->key, "name",
                      lg->name, "result", rn_step_status_name(status), "duration_ms",
                      (json_int_t)lg->ms, "outputs", lg->outputs);
        rn_run_event(r, ev);
    }
}

static void run_leg(sched *sc, leg *lg) {
    jobrt *jr = lg->job;
    rn_run *r = sc->r;
    const rn_wf_job *wj = jr->wj;
    const rn_workflow *wf = jr->w->wf;
    long t0 = mono_ms();

    wfrt *wr = jr->wr;
    char *jdir = leg_dir(r, lg);
    char *tmp = rn_xprintf("%s/tmp", jdir);
    char *files = rn_xprintf("%s/files", jdir);
    char *logp = rn_xprintf("%s/log.txt", jdir);
    char *sump = rn_xprintf("%s/summary.md", jdir);
    char *outp = rn_xprintf("%s/outputs.json", jdir);
    mkdir(tmp, 0755);
    mkdir(files, 0755);

    rn_leg_out lo;
    rn_leg_out_init(&lo, r, wr->display, jr->key, lg->name, logp);

    rn_job j;
    rn_job_init(&j);
    rn_job_ctr *ctr = NULL;             /* the job's container and services */
    rn_job_cache_srv *cache_srv = NULL; /* the cache service for JavaScript actions */
    pthread_mutex_lock(&r->lock);
    lg->j = &j;
    bool pre_cancelled = lg->status == RN_STEP_STATUS_CANCELLED;
    json_t *needs = json_incref(jr->needs);
    pthread_mutex_unlock(&r->lock);
    if (pre_cancelled)
        rn_job_cancel(&j);

    json_t *github = json_copy(r->github);
    set_str(github, "job", wj->id.s);
    set_str(github, "workflow", wr->display);
    json_object_set(j.contexts, "github", github);
    json_object_set(j.contexts, "vars", r->opts->vars);
    json_object_set(j.contexts, "secrets", wr->secrets);
    json_object_set(j.contexts, "inputs", wr->w->inputs);
    json_object_set_new(j.contexts, "needs", needs);
    json_object_set(j.contexts, "matrix", lg->matrix);
    json_t *strategy =
        json_pack("{s:b,s:I,s:I,s:I}", "fail-fast", jr->fail_fast, "job-index",
                  (json_int_t)lg->index, "job-total", (json_int_t)jr->n_legs, "max-parallel",
                  (json_int_t)(jr->max_parallel ? (size_t)jr->max_parallel : jr->n_legs));
    json_object_set_new(j.contexts, "strategy", strategy);
    json_t *runner = json_copy(r->runner);
    set_str(runner, "temp", tmp);
    json_object_set_new(j.contexts, "runner", runner);
    json_object_set_new(j.contexts, "job",
                        json_pack("{s:s,s:{},s:{}}", "status", "success", "container", "services"));
    json_decref(j.base_env);
    j.base_env = json_copy(r->base_env);
    set_str(j.base_env, "GITHUB_JOB", wj->id.s);
    set_str(j.base_env, "GITHUB_WORKFLOW", wr->display);
    set_str(j.base_env, "RUNNER_TEMP", tmp);
    j.wf_defaults = &wf->defaults;
    j.job_defaults = &wj->defaults;
    j.paths.workspace = r->root;
    j.paths.temp = tmp;
    j.paths.files = files;
    j.paths.summary = sump;
    j.paths.tool_cache = json_string_value(json_object_get(r->runner, "tool_cache"));
    j.sink = rn_leg_sink(&lo);
    j.debug = r->opts->verbose;
    j.resolve_action = rn_remote_resolve; /* remote actions (actions/remote.h) */
    j.resolve_ud = r->opts->remote;

    rn_step_status status = RN_STEP_STATUS_FAILURE;
    rn_leg_printf(&lo, "🚀  Start job");
    char *err = NULL;
    const char *step_errors = wr->w->job_errors ? wr->w->job_errors[jr->idx] : NULL;
    for (const char *line = step_errors, *nl; line && *line; line = nl ? nl + 1 : NULL) {
        nl = strchr(line, '\n');
        rn_leg_printf(&lo, "error: %.*s", nl ? (int)(nl - line) : (int)strlen(line), line);
    }
    bool coe = false;
    if (step_errors)
        goto finish; /* errors GitHub reports when loading: the job fails before its steps */
    int served = check_runs_on(r, &j, wj, &lo);
    if (served == 0) {
        lg->unservable = true;
        status = RN_STEP_STATUS_SKIPPED;
        goto finish;
    }
    if (served < 0)
        goto finish;
    if (rn_job_ctr_setup(r, &j, wj, jdir, &lo, &ctr) != 0)
        goto finish;
    cache_srv = rn_job_cache_serve(&j, wj, rn_job_ctr_private_net(ctr));
    json_t *env = wf->env ? rn_job_eval_node(&j, wf->env, &err) : json_object();
    if (!env || !json_is_object(env)) {
        rn_leg_printf(&lo, "error: env: %s", err ? err : "not a mapping");
        json_decref(env);
        goto finish;
    }
    json_decref(j.env);
    j.env = env;
    /* job env sees the workflow env; every value in its string form */
    if (wj->env) {
        json_t *jenv = rn_job_eval_node(&j, wj->env, &err);
        if (!jenv || !json_is_object(jenv)) {
            rn_leg_printf(&lo, "error: env: %s", err ? err : "not a mapping");
            json_decref(jenv);
            goto finish;
        }
        json_object_update(j.env, jenv);
        json_decref(jenv);
    }
    const char *k;
    json_t *v;
    json_object_foreach(j.env, k, v) {
        if (!json_is_string(v)) {
            char *s = rn_value_to_string(v);
            json_object_set_new(j.env, k, json_string(s));
            free(s);
        }
    }
    if (wj->continue_on_error) {
        json_t *c = rn_job_eval_node(&j, wj->continue_on_error, &err);
        if (!c) {
            rn_leg_printf(&lo, "error: continue-on-error: %s", err);
            goto finish;
        }
        coe = rn_value_truthy(c);
        json_decref(c);
    }
    double minutes = 360;
    if (wj->timeout_minutes) {
        json_t *t = rn_job_eval_node(&j, wj->timeout_minutes, &err);
        if (!t) {
            rn_leg_printf(&lo, "error: timeout-minutes: %s", err);
            goto finish;
        }
        minutes = rn_value_to_number(t);
        json_decref(t);
    }
    if (!isnan(minutes) && minutes > 0)
        j.deadline_ms = mono_ms() + (long)(minutes * 60000.0);
    time_t started = time(NULL);
    status = rn_job_run_steps(&j, wj->steps, wj->n_steps);
    /* The runner policy's gates, which a workflow cannot switch off. */
    if (status == RN_STEP_STATUS_SUCCESS &&
        rn_policy_run_job(r->opts->policy, &j, wj->id.s, started) == RN_POLICY_FAIL)
        status = RN_STEP_STATUS_FAILURE;
    if (j.timed_out) {
        char m[32];
        rn_number_format(minutes, m, sizeof m);
        rn_leg_printf(&lo,
                      "error: The job running on runner runnel has exceeded the maximum "
                      "execution time of %s minutes.",
                      m);
    }
    /* job outputs, evaluated with the final steps context */
    lg->outputs = json_object();
    if (wj->outputs && wj->outputs->kind == RN_Y_MAP) {
        for (size_t i = 0; i < wj->outputs->n; i++) {
            const char *val = rn_yaml_str(wj->outputs->pairs[i].value);
            char *s = rn_job_eval_str(&j, val ? val : "", &err);
            if (!s) {
                rn_leg_printf(&lo, "warning: output '%s': %s", wj->outputs->pairs[i].key->str, err);
                free(err);
                err = NULL;
                continue;
            }
            json_object_set_new(lg->outputs, wj->outputs->pairs[i].key->str, json_string(s));
            free(s);
        }
    }
    write_outputs(r, outp, lg->outputs);
finish:
    free(err);
    if (status == RN_STEP_STATUS_FAILURE && coe)
        lg->coe = true;
    lg->status = status;
    lg->ms = mono_ms() - t0;
    leg_end_line(r, &lo, lg);
    pthread_mutex_lock(&r->lock);
    lg->j = NULL;
    pthread_mutex_unlock(&r->lock);
    rn_job_cache_stop(cache_srv);
    rn_job_ctr_teardown(ctr, &j);
    rn_job_free(&j);
    rn_leg_out_free(&lo);
    json_decref(github);
    free(jdir);
    free(tmp);
    free(files);
    free(logp);
    free(sump);
    free(outp);
}

static void finish_job(sched *sc, wfrt *wr, jobrt *jr);
static void cancel_wfrt(sched *sc, wfrt *wr);
static void start_called(sched *sc, wfrt *cw);

/* ---- concurrency groups (all under lock) ---- */

static void cancel_leg(sched *sc, wfrt *wr, jobrt *jr, leg *o);

static cgroup *cg_get(sched *sc, const char *name) {
    for (size_t i = 0; i < sc->n_groups; i++)
        if (!strcasecmp(sc->groups[i]->name, name))
            return sc->groups[i];
    cgroup *g = rn_xcalloc(1, sizeof *g);
    g->name = rn_xstrdup(name);
    sc->groups = rn_xrealloc(sc->groups, (sc->n_groups + 1) * sizeof *sc->groups);
    sc->groups[sc->n_groups++] = g;
    return g;
}

/* Is the running member of g the workflow wr, or one of its callers (legs and workflows)? */
static bool cg_held_by_ancestor(const cgroup *g, const wfrt *wr) {
    for (const wfrt *w = wr; w; w = w->caller ? w->caller->job->wr : NULL) {
        if (g->run_wf == w)
            return true;
        if (w->caller && g->run_leg == w->caller)
            return true;
    }
    return false;
}

static void cg_msg(sched *sc, wfrt *wr, jobrt *jr, leg *lg, const char *fmt, const char *group) {
    char *what = lg           ? rn_xprintf("%s/%s", wr->display, lg->name)
                 : jr         ? rn_xprintf("%s/%s", wr->display, jr->name)
                 : wr->caller ? rn_xprintf("%s/%s", wr->display, wr->caller->name)
                              : rn_xprintf("%s (%s)", wr->display, wr->w->file);
    rn_sb sb = RN_SB_INIT;
    rn_sb_printf(&sb, fmt, group);
    if (!sc->r->opts->json) {
        rn_run_msg(sc->r, "[%s] %s", what, rn_sb_str(&sb));
    } else {
        rn_run_event(sc->r, json_pack("{s:s,s:s,s:s,s:s}", "event", "concurrency", "name", what,
                                      "group", group, "text", rn_sb_str(&sb)));
    }
    rn_sb_free(&sb);
    free(what);
}

#define CG_CANCEL "🚫  Canceling since a higher priority waiting request for '%s' exists"

/* Cancels a workflow that waits in (or holds) a group. */
static void cg_cancel_wf(sched *sc, wfrt *w, bool started) {
    cancel_wfrt(sc, w);
    if (started) {
        w->conc_cancelled = true;
    } else {
        w->never_start = true;
        w->waiting = false;
    }
}

/* Makes the pending member the running one. */
static void cg_promote(cgroup *g) {
    if (g->run_leg || g->run_wf)
        return;
    if (g->pend_leg) {
        g->run_leg = g->pend_leg;
        g->pend_leg = NULL;
    } else if (g->pend_wf) {
        g->run_wf = g->pend_wf;
        g->pend_wf = NULL;
        g->run_wf->waiting = false;
    }
}

static void cg_release_leg(leg *lg) {
    cgroup *g = lg->cg;
    if (!g)
        return;
    lg->cg = NULL;
    if (g->pend_leg == lg)
        g->pend_leg = NULL;
    if (g->run_leg == lg) {
        g->run_leg = NULL;
        cg_promote(g);
    }
}

static void cg_release_wf(wfrt *w) {
    cgroup *g = w->cg;
    if (!g)
        return;
    w->cg = NULL;
    if (g->pend_wf == w)
        g->pend_wf = NULL;
    if (g->run_wf == w) {
        g->run_wf = NULL;
        cg_promote(g);
    }
}

/* Queues a new member (a leg, or a workflow when lg is NULL) in g: GitHub's rule. */
static void cg_enter(sched *sc, cgroup *g, wfrt *wr, leg *lg, bool cip) {
    wfrt *home = lg ? lg->job->wr : wr->caller ? wr->caller->job->wr : NULL;
    if ((home && cg_held_by_ancestor(g, home)) || (!lg && wr->caller && g->run_leg == wr->caller)) {
        char *fmt = rn_xprintf("🚫  Canceling since a deadlock for concurrency group '%%s' was "
                               "detected between 'top level workflow' and '%s'",
                               lg ? lg->job->wj->id.s : wr->caller->job->wj->id.s);
        cg_msg(sc, wr, NULL, lg, fmt, g->name);
        free(fmt);
        if (lg)
            cancel_leg(sc, lg->job->wr, lg->job, lg);
        else
            cg_cancel_wf(sc, wr, false);
        return;
    }
    if (lg)
        lg->cg = g;
    else
        wr->cg = g;
    if (!g->run_leg && !g->run_wf) {
        if (lg)
            g->run_leg = lg;
        else
            g->run_wf = wr;
        return;
    }
    if (g->pend_leg) {
        leg *old = g->pend_leg;
        cg_msg(sc, old->job->wr, NULL, old, CG_CANCEL, g->name);
        cg_release_leg(old);
        cancel_leg(sc, old->job->wr, old->job, old);
    } else if (g->pend_wf) {
        wfrt *old = g->pend_wf;
        cg_msg(sc, old, NULL, NULL, CG_CANCEL, g->name);
        cg_release_wf(old);
        cg_cancel_wf(sc, old, false);
    }
    if (lg) {
        g->pend_leg = lg;
    } else {
        g->pend_wf = wr;
        wr->waiting = true;
    }
    cg_msg(sc, wr, NULL, lg, "⏳  Waiting for concurrency group '%s'", g->name);
    if (!cip)
        return;
    if (g->run_leg) {
        leg *old = g->run_leg;
        cg_msg(sc, old->job->wr, NULL, old, CG_CANCEL, g->name);
        cancel_leg(sc, old->job->wr, old->job, old);
    } else if (g->run_wf) {
        cg_msg(sc, g->run_wf, NULL, NULL, CG_CANCEL, g->name);
        cg_cancel_wf(sc, g->run_wf, true);
    }
}

/* Evaluates a concurrency: in ej. Returns the group (NULL: none) and sets *cip; on an error
 * returns NULL with *err set. */
static char *cg_eval(rn_job *ej, const rn_wf_concurrency *c, bool *cip, char **err) {
    *cip = false;
    if (!c->group.s)
        return NULL;
    char *group = rn_job_eval_str(ej, c->group.s, err);
    if (!group)
        return NULL;
    if (!*group) {
        free(group);
        return NULL;
    }
    if (c->cancel_in_progress) {
        json_t *v = rn_job_eval_node(ej, c->cancel_in_progress, err);
        if (!v) {
            free(group);
            return NULL;
        }
        *cip = rn_value_truthy(v);
        json_decref(v);
    }
    return group;
}

/* A workflow of the run, or a called one, is queued: its workflow-level concurrency. */
static void cg_enter_wf(sched *sc, wfrt *wr) {
    const rn_wf_concurrency *c = &wr->w->wf->concurrency;
    if (!c->group.s)
        return;
    rn_job ej;
    eval_job_init(&ej, sc->r, wr, NULL, NULL);
    char *err = NULL;
    bool cip;
    char *group = cg_eval(&ej, c, &cip, &err);
    rn_job_free(&ej);
    if (err) {
        rn_run_warn(sc->r, "%s:%d:%d: concurrency: %s; the workflow runs outside any group",
                    wr->w->file, c->line, c->col, err);
        free(err);
    }
    if (group)
        cg_enter(sc, cg_get(sc, group), wr, NULL, cip);
    free(group);
}

/* Cancels one leg (fail-fast, Ctrl-C). Under lock. */
static void cancel_leg(sched *sc, wfrt *wr, jobrt *jr, leg *o) {
    if (o->state == LEG_PENDING) {
        cg_release_leg(o);
        o->state = LEG_DONE;
        o->status = RN_STEP_STATUS_CANCELLED;
        jr->n_done++;
        if (jr->n_done == jr->n_legs && !jr->finished)
            finish_job(sc, wr, jr);
    } else if (o->state == LEG_RUNNING && o->j) {
        rn_job_cancel(o->j);
    } else if (o->state == LEG_RUNNING) {
        o->status = RN_STEP_STATUS_CANCELLED; /* not started its job (or call) yet */
    } else if (o->state == LEG_CALLING && o->child) {
        cancel_wfrt(sc, o->child);
    }
}

/* A leg has ended (its thread, or its call): records it, applies fail-fast, and finishes its
 * job when it was the last. `slot`: it still holds a --parallel slot. Under lock. */
static void leg_finished(sched *sc, leg *lg, bool slot) {
    jobrt *jr = lg->job;
    cg_release_leg(lg);
    lg->state = LEG_DONE;
    jr->n_running--;
    jr->n_done++;
    if (slot)
        sc->running--;
    if (!jr->outputs)
        jr->outputs = json_object();
    if (lg->outputs)
        json_object_update(jr->outputs, lg->outputs);
    if (lg->status == RN_STEP_STATUS_FAILURE && !lg->coe && jr->fail_fast)
        for (size_t i = 0; i < jr->n_legs; i++)
            if (&jr->legs[i] != lg)
                cancel_leg(sc, jr->wr, jr, &jr->legs[i]);
    if (jr->n_done == jr->n_legs && !jr->finished)
        finish_job(sc, jr->wr, jr);
    pthread_cond_broadcast(&sc->cond);
}

static bool has_expr(const char *s) {
    return s && strstr(s, "${{");
}

/* The thread of a caller leg: loads the called workflow and evaluates its inputs and secrets.
 * True when the call was handed to the coordinator (the leg is LEG_CALLING); false when it
 * failed or was cancelled first (lg->status says which; its end line is printed). */
static bool call_leg(sched *sc, leg *lg) {
    jobrt *jr = lg->job;
    wfrt *wr = jr->wr;
    rn_run *r = sc->r;
    const rn_wf_job *wj = jr->wj;
    lg->t0 = mono_ms();
    char *jdir = leg_dir(r, lg);
    char *logp = rn_xprintf("%s/log.txt", jdir);
    rn_leg_out lo;
    rn_leg_out_init(&lo, r, wr->display, jr->key, lg->name, logp);
    pthread_mutex_lock(&r->lock);
    json_t *needs = json_incref(jr->needs);
    pthread_mutex_unlock(&r->lock);
    rn_job ej;
    eval_job_init(&ej, r, wr, needs, lg->matrix);
    json_decref(needs);
    json_object_set(ej.contexts, "secrets", wr->secrets);
    json_object_set_new(
        ej.contexts, "strategy",
        json_pack("{s:b,s:I,s:I,s:I}", "fail-fast", jr->fail_fast, "job-index",
                  (json_int_t)lg->index, "job-total", (json_int_t)jr->n_legs, "max-parallel",
                  (json_int_t)(jr->max_parallel ? (size_t)jr->max_parallel : jr->n_legs)));
    wfrt *cw = rn_xcalloc(1, sizeof *cw);
    cw->w = &cw->own;
    char *err = NULL, *uses = NULL;
    json_t *inputs = NULL;
    bool started = false;
    if (has_expr(wj->uses.s)) {
        uses = rn_job_eval_str(&ej, wj->uses.s, &err);
        if (!uses) {
            rn_leg_printf(&lo, "error: %s:%d:%d: uses: %s", wr->w->file, wj->uses.line,
                          wj->uses.col, err);
            goto out;
        }
    } else {
        uses = rn_xstrdup(wj->uses.s);
    }
    rn_leg_printf(&lo, "📞  Call %s", uses);
    if (wr->depth >= RN_WF_MAX_CALL_DEPTH) {
        rn_leg_printf(&lo, "error: %s:%d:%d: Nested reusable workflow depth exceeded %d.",
                      wr->w->file, wj->uses.line, wj->uses.col, RN_WF_MAX_CALL_DEPTH);
        goto out;
    }
    rn_reusable_src src = {r->opts->remote, true, NULL};
    if (rn_reusable_load(&src, wr->root, wj, wr->w->file, uses, wr->display, cw->w, &cw->root,
                         &err) != 0) {
        for (char *line = err, *nl; line && *line; line = nl ? nl + 1 : NULL) {
            nl = strchr(line, '\n');
            if (nl)
                *nl = 0;
            rn_leg_printf(&lo, "error: %s", line);
        }
        goto out;
    }
    if (!cw->root)
        cw->root = rn_xstrdup(wr->root);
    inputs = rn_reusable_inputs(&ej, wj, wr->w->file, cw->w->wf, &err);
    if (!inputs) {
        rn_leg_printf(&lo, "error: %s", err);
        goto out;
    }
    cw->w->inputs = inputs;
    cw->secrets = rn_reusable_secrets(r->mask, &ej, wj, wr->w->file, wr->secrets, &err);
    if (!cw->secrets) {
        rn_leg_printf(&lo, "error: %s", err);
        goto out;
    }
    pthread_mutex_lock(&r->lock);
    if (lg->status != RN_STEP_STATUS_CANCELLED && !r->interrupted) {
        cw->caller = lg;
        cw->depth = wr->depth + 1;
        cw->display = wr->display;
        cw->name_prefix = rn_xprintf("%s / ", lg->name);
        cw->key_prefix = rn_xprintf("%s/", jr->key);
        cw->slug_prefix = rn_xprintf("%s--", lg->slug);
        lg->child = cw;
        lg->state = LEG_CALLING;
        lg->status = RN_STEP_STATUS_SUCCESS;
        start_called(sc, cw);
        sc->running--; /* the called jobs take slots of their own */
        started = true;
        pthread_cond_broadcast(&sc->cond);
    } else {
        lg->status = RN_STEP_STATUS_CANCELLED;
    }
    pthread_mutex_unlock(&r->lock);
out:
    if (!started) {
        pthread_mutex_lock(&r->lock); /* cancelled meanwhile (fail-fast, Ctrl-C), else failed */
        if (lg->status != RN_STEP_STATUS_CANCELLED && !r->interrupted)
            lg->status = RN_STEP_STATUS_FAILURE;
        else
            lg->status = RN_STEP_STATUS_CANCELLED;
        pthread_mutex_unlock(&r->lock);
        rn_run_wf_free(cw->w);
        json_decref(cw->secrets);
        free(cw->root);
        free(cw);
        lg->ms = mono_ms() - lg->t0;
        leg_end_line(r, &lo, lg);
    }
    rn_job_free(&ej);
    rn_leg_out_free(&lo);
    free(err);
    free(uses);
    free(logp);
    free(jdir);
    return started;
}

static void *leg_thread(void *arg) {
    leg *lg = arg;
    sched *sc = g_sched;
    if (lg->job->wj->uses.s) {
        if (call_leg(sc, lg))
            return NULL; /* the coordinator finishes it when the called workflow is done */
    } else {
        run_leg(sc, lg);
    }
    pthread_mutex_lock(&sc->r->lock);
    leg_finished(sc, lg, true);
    pthread_mutex_unlock(&sc->r->lock);
    return NULL;
}

/* A called workflow is done: the caller leg's result (failure when a called job failed), its
 * outputs from on.workflow_call.outputs, its end line. Under lock. */
static void finish_call(sched *sc, wfrt *cw) {
    rn_run *r = sc->r;
    leg *lg = cw->caller;
    cw->reported = true;
    rn_step_status st = RN_STEP_STATUS_SUCCESS;
    json_t *jobs = json_object();
    for (size_t k = 0; k < cw->w->wf->n_jobs; k++) {
        jobrt *cj = &cw->jobs[k];
        if (cj->result == RN_JOB_FAILURE)
            st = RN_STEP_STATUS_FAILURE;
        else if (cj->result == RN_JOB_CANCELLED && st != RN_STEP_STATUS_FAILURE)
            st = RN_STEP_STATUS_CANCELLED;
        json_object_set_new(jobs, cj->wj->id.s,
                            json_pack("{s:s,s:O}", "result", rn_job_result_name(cj->result),
                                      "outputs", cj->outputs ? cj->outputs : json_object()));
    }
    if (cw->cancelled && st == RN_STEP_STATUS_SUCCESS)
        st = RN_STEP_STATUS_CANCELLED;
    rn_job ej;
    eval_job_init(&ej, r, cw, NULL, NULL);
    json_object_set_new(ej.contexts, "jobs", jobs);
    char *warn = NULL;
    json_decref(lg->outputs);
    lg->outputs = rn_reusable_outputs(&ej, cw->w->wf, &warn);
    rn_job_free(&ej);
    char *jdir = leg_dir(r, lg);
    char *logp = rn_xprintf("%s/log.txt", jdir);
    char *outp = rn_xprintf("%s/outputs.json", jdir);
    write_outputs(r, outp, lg->outputs);
    rn_leg_out lo;
    rn_leg_out_init(&lo, r, cw->display, lg->job->key, lg->name, logp);
    for (char *line = warn, *nl; line && *line; line = nl ? nl + 1 : NULL) {
        nl = strchr(line, '\n');
        if (nl)
            *nl = 0;
        rn_leg_printf(&lo, "warning: %s", line);
    }
    lg->status = st;
    lg->ms = mono_ms() - lg->t0;
    leg_end_line(r, &lo, lg);
    rn_leg_out_free(&lo);
    free(warn);
    free(outp);
    free(logp);
    free(jdir);
    leg_finished(sc, lg, false);
}

static void finish_job(sched *sc, wfrt *wr, jobrt *jr) {
    (void)sc;
    rn_job_result res = RN_JOB_SUCCESS;
    bool any_served = false;
    for (size_t i = 0; i < jr->n_legs; i++) {
        leg *lg = &jr->legs[i];
        if (!lg->unservable)
            any_served = true;
        if (lg->status == RN_STEP_STATUS_FAILURE && !lg->coe)
            res = RN_JOB_FAILURE;
        else if (lg->status == RN_STEP_STATUS_CANCELLED && res != RN_JOB_FAILURE)
            res = RN_JOB_CANCELLED;
    }
    if (!any_served && jr->n_legs)
        res = RN_JOB_SKIPPED;
    jr->result = res;
    jr->finished = true;
    if (!jr->outputs)
        jr->outputs = json_object();
    rn_sched_finish(wr->s, jr->idx, res);
}

static bool matrix_filter_keeps(rn_run *r, const json_t *values) {
    const char *k;
    json_t *want;
    json_object_foreach(r->opts->matrix, k, want) {
        json_t *v = rn_object_iget(values, k);
        if (!v)
            continue; /* the filter only narrows legs that have this key */
        char *s = rn_value_to_string(v);
        bool hit = false;
        size_t i;
        json_t *w;
        json_array_foreach(want, i, w) {
            hit |= !strcmp(s, json_string_value(w));
        }
        free(s);
        if (!hit)
            return false;
    }
    return true;
}

static void job_error(jobrt *jr, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void job_error(jobrt *jr, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    rn_sb sb = RN_SB_INIT;
    rn_sb_vprintf(&sb, fmt, ap);
    va_end(ap);
    rn_leg_out lo;
    rn_leg_out_init(&lo, jr->r, jr->wr->display, jr->key, jr->name, NULL);
    rn_leg_printf(&lo, "error: %s", rn_sb_str(&sb));
    rn_leg_out_free(&lo);
    free(jr->error);
    jr->error = rn_sb_take(&sb);
}

static char *leg_name(rn_job *ej, const rn_wf_job *wj, const rn_matrix_leg *leg) {
    const char *name = wj->name.s ? wj->name.s : wj->id.s;
    if (strstr(name, "${{")) {
        char *err = NULL;
        char *n = rn_job_eval_str(ej, name, &err);
        if (n)
            return n;
        free(err);
    }
    return leg ? rn_matrix_job_name(name, leg) : rn_xstrdup(name);
}

/* The job-level concurrency of each leg of a job that became ready (an error fails the leg). */
static void enter_job_groups(sched *sc, wfrt *wr, jobrt *jr) {
    const rn_wf_job *wj = jr->wj;
    for (size_t i = 0; i < jr->n_legs; i++) {
        leg *lg = &jr->legs[i];
        if (lg->state != LEG_PENDING)
            continue;
        rn_job lj;
        eval_job_init(&lj, sc->r, wr, jr->needs, lg->matrix);
        json_object_set_new(
            lj.contexts, "strategy",
            json_pack("{s:b,s:I,s:I,s:I}", "fail-fast", jr->fail_fast, "job-index",
                      (json_int_t)lg->index, "job-total", (json_int_t)jr->n_legs, "max-parallel",
                      (json_int_t)(jr->max_parallel ? (size_t)jr->max_parallel : jr->n_legs)));
        char *err = NULL;
        bool cip;
        char *group = cg_eval(&lj, &wj->concurrency, &cip, &err);
        rn_job_free(&lj);
        if (err) {
            rn_leg_out lo;
            rn_leg_out_init(&lo, sc->r, wr->display, jr->key, lg->name, NULL);
            rn_leg_printf(&lo, "error: %s:%d:%d: concurrency: %s", wr->w->file,
                          wj->concurrency.line, wj->concurrency.col, err);
            rn_leg_out_free(&lo);
            free(err);
            lg->state = LEG_DONE;
            lg->status = RN_STEP_STATUS_FAILURE;
            jr->n_done++;
            if (jr->n_done == jr->n_legs && !jr->finished)
                finish_job(sc, wr, jr);
            continue;
        }
        if (group)
            cg_enter(sc, cg_get(sc, group), wr, lg, cip);
        free(group);
    }
}

/* A ready job: evaluates if:, the strategy and the matrix, and creates its legs. Under lock. */
static void start_job(sched *sc, wfrt *wr, size_t idx) {
    rn_run *r = sc->r;
    jobrt *jr = &wr->jobs[idx];
    jr->ready = true;
    jr->t0 = mono_ms();
    json_t *needs = needs_context(wr, idx);
    rn_job ej;
    eval_job_init(&ej, r, wr, needs, NULL);
    rn_ancestry an = rn_sched_ancestry(wr->s, idx);
    bool cancelled = r->interrupted || wr->cancelled;
    rn_status_fns st = {an.all_success && !cancelled, an.any_failure, cancelled};
    char *err = NULL;
    const rn_wf_job *wj = jr->wj;
    int cond = rn_job_eval_if(&ej, wj->if_raw.s, &st, &err);
    rn_matrix m = {0};
    if (cond < 0) {
        job_error(jr, "%s:%d:%d: if: %s", jr->w->file, wj->if_raw.line, wj->if_raw.col, err);
        jr->result = RN_JOB_FAILURE;
        goto finished;
    }
    if (cond == 0 && wr->conc_cancelled) {
        jr->result = RN_JOB_CANCELLED;
        jr->note = "its workflow was cancelled (concurrency)";
        goto finished;
    }
    if (cond == 0) {
        jr->result = RN_JOB_SKIPPED;
        jr->note = "if: condition is false";
        if (!r->opts->quiet && !r->opts->json)
            rn_run_msg(r, "[%s/%s] ⏭  Job skipped (if: %s)", wr->display, jr->name,
                       wj->if_raw.s ? wj->if_raw.s : "success()");
        goto finished;
    }
    jr->fail_fast = true;
    if (wj->strategy.fail_fast) {
        json_t *v = rn_job_eval_node(&ej, wj->strategy.fail_fast, &err);
        if (!v) {
            job_error(jr, "strategy.fail-fast: %s", err);
            jr->result = RN_JOB_FAILURE;
            goto finished;
        }
        jr->fail_fast = rn_value_truthy(v);
        json_decref(v);
    }
    if (wj->strategy.max_parallel) {
        json_t *v = rn_job_eval_node(&ej, wj->strategy.max_parallel, &err);
        if (!v) {
            job_error(jr, "strategy.max-parallel: %s", err);
            jr->result = RN_JOB_FAILURE;
            goto finished;
        }
        double d = rn_value_to_number(v);
        jr->max_parallel = isnan(d) || d < 1 ? 0 : (int)d;
        json_decref(v);
    }
    const rn_job_plan *jp = &wr->w->plan.jobs[idx];
    const rn_matrix *legs = NULL;
    if (jp->matrix_kind == RN_MATRIX_LITERAL) {
        legs = &jp->legs;
    } else if (jp->matrix_kind == RN_MATRIX_FROM_NEEDS || jp->matrix_kind == RN_MATRIX_DYNAMIC) {
        json_t *mv = rn_job_eval_node(&ej, wj->strategy.matrix, &err);
        if (!mv || !json_is_object(mv)) {
            job_error(jr, "%s:%d:%d: strategy.matrix: %s", jr->w->file, wj->strategy.line,
                      wj->strategy.col, mv ? "the matrix must be a mapping" : err);
            json_decref(mv);
            jr->result = RN_JOB_FAILURE;
            goto finished;
        }
        rn_diags d = RN_DIAGS_INIT;
        rn_matrix_src src = {jr->w->file, wj->strategy.line, wj->strategy.col, NULL, NULL};
        bool ok = rn_matrix_expand(mv, &src, &m, &d);
        json_decref(mv);
        if (!ok) {
            char *msg = d.count ? rn_diag_format_cli(&d.items[0]) : rn_xstrdup("bad matrix");
            job_error(jr, "%s", msg);
            free(msg);
            rn_diags_free(&d);
            jr->result = RN_JOB_FAILURE;
            goto finished;
        }
        rn_diags_free(&d);
        legs = &m;
    }
    size_t n = legs ? legs->count : 1;
    jr->legs = rn_xcalloc(n + 1, sizeof *jr->legs);
    for (size_t i = 0; i < n; i++) {
        const rn_matrix_leg *ml = legs ? &legs->legs[i] : NULL;
        json_t *values = ml ? json_deep_copy(ml->values) : json_object();
        if (!matrix_filter_keeps(r, values)) {
            json_decref(values);
            continue;
        }
        leg *lg = &jr->legs[jr->n_legs++];
        lg->job = jr;
        lg->matrix = values;
        rn_job lj;
        eval_job_init(&lj, r, wr, needs, values);
        char *n = leg_name(&lj, wj, ml);
        lg->name = rn_xprintf("%s%s", wr->name_prefix, n);
        free(n);
        rn_job_free(&lj);
    }
    for (size_t i = 0; i < jr->n_legs; i++) {
        rn_sb slug = RN_SB_INIT;
        rn_sb_puts(&slug, wr->slug_prefix);
        slugify(&slug, wj->id.s);
        if (jr->n_legs > 1)
            rn_sb_printf(&slug, ".%zu", i + 1);
        jr->legs[i].index = i;
        jr->legs[i].slug = rn_sb_take(&slug);
    }
    if (!jr->n_legs) {
        jr->result = RN_JOB_SKIPPED;
        jr->note = "no matrix leg matches --matrix";
        rn_run_msg(r, "[%s/%s] ⏭  Job skipped (no matrix leg matches --matrix)", wr->display,
                   jr->name);
        goto finished;
    }
    rn_matrix_free(&m);
    jr->needs = needs;
    rn_job_free(&ej);
    free(err);
    if (wj->concurrency.group.s)
        enter_job_groups(sc, wr, jr);
    return;
finished:
    rn_matrix_free(&m);
    json_decref(needs);
    rn_job_free(&ej);
    free(err);
    jr->finished = true;
    if (!jr->outputs)
        jr->outputs = json_object();
    rn_sched_finish(wr->s, idx, jr->result);
}

/* Starts pending legs while there is room. Under lock. */
static void launch(sched *sc) {
    rn_run *r = sc->r;
    for (size_t w = 0; w < sc->n_wfs; w++) {
        wfrt *wr = sc->wfs[w];
        for (size_t k = 0; k < rn_graph_count(wr->w->plan.graph); k++) {
            size_t idx = rn_graph_order(wr->w->plan.graph)[k];
            jobrt *jr = &wr->jobs[idx];
            if (!jr->ready || jr->finished)
                continue;
            for (size_t i = 0; i < jr->n_legs; i++) {
                if (sc->running >= r->opts->parallel)
                    return;
                if (jr->max_parallel && (int)jr->n_running >= jr->max_parallel)
                    break;
                leg *lg = &jr->legs[i];
                if (lg->state != LEG_PENDING || (lg->cg && lg->cg->run_leg != lg))
                    continue;
                lg->state = LEG_RUNNING;
                lg->status = RN_STEP_STATUS_SUCCESS;
                jr->n_running++;
                sc->running++;
                if (pthread_create(&lg->th, NULL, leg_thread, lg) == 0) {
                    lg->thread = true;
                } else {
                    lg->status = RN_STEP_STATUS_FAILURE;
                    leg_finished(sc, lg, true);
                }
            }
        }
    }
}

/* Cancels every leg of a workflow (and of the workflows they call). Under lock. */
static void cancel_wfrt(sched *sc, wfrt *wr) {
    wr->cancelled = true;
    if (wr->waiting) { /* never started: leaves its group, its jobs end cancelled */
        cg_release_wf(wr);
        wr->waiting = false;
        wr->never_start = true;
    }
    for (size_t k = 0; k < wr->w->wf->n_jobs; k++) {
        jobrt *jr = &wr->jobs[k];
        for (size_t i = 0; i < jr->n_legs; i++)
            cancel_leg(sc, wr, jr, &jr->legs[i]);
    }
}

static void cancel_all(sched *sc) {
    for (size_t w = 0; w < sc->n_wfs; w++)
        cancel_wfrt(sc, sc->wfs[w]);
}

static const char *result_text(const jobrt *jr, const leg *lg) {
    if (!lg)
        return rn_job_result_name(jr->result);
    if (lg->coe)
        return "failure (continue-on-error)";
    if (lg->unservable)
        return "skipped (runs-on)";
    return rn_step_status_name(lg->status);
}

/* Visits the rows of the summary in order: every selected job of a workflow of the run (its
 * legs, or the job itself when it has none), each caller leg followed by the jobs it called. */
typedef void (*row_fn)(void *ud, wfrt *wr, jobrt *jr, leg *lg);
static void walk_wfrt(wfrt *wr, row_fn fn, void *ud) {
    const size_t *order = rn_graph_order(wr->w->plan.graph);
    for (size_t k = 0; k < wr->w->wf->n_jobs; k++) {
        jobrt *jr = &wr->jobs[order[k]];
        if (!wr->w->selected[order[k]])
            continue;
        if (!jr->n_legs)
            fn(ud, wr, jr, NULL);
        for (size_t i = 0; i < jr->n_legs; i++) {
            fn(ud, wr, jr, &jr->legs[i]);
            if (jr->legs[i].child)
                walk_wfrt(jr->legs[i].child, fn, ud);
        }
    }
}

static void walk_rows(sched *sc, row_fn fn, void *ud) {
    for (size_t w = 0; w < sc->n_wfs; w++)
        if (!sc->wfs[w]->caller)
            walk_wfrt(sc->wfs[w], fn, ud);
}

static void row_width(void *ud, wfrt *wr, jobrt *jr, leg *lg) {
    size_t *width = ud;
    size_t l = strlen(wr->display) + 1 + strlen(lg ? lg->name : jr->name);
    *width = l > *width ? l : *width;
}

typedef struct row_ctx {
    rn_run *r;
    int width;
} row_ctx;

/* The table is printed with -q too: it is what a quiet run is for. */
static void row_print(void *ud, wfrt *wr, jobrt *jr, leg *lg) {
    row_ctx *c = ud;
    char t[32] = "-";
    if (lg && lg->ms)
        rn_fmt_ms(lg->ms, t, sizeof t);
    char *n = rn_xprintf("%s/%s", wr->display, lg ? lg->name : jr->name);
    rn_out_printf(c->r->out, NULL, "%-*s  %-28s  %s", c->width, n, result_text(jr, lg), t);
    free(n);
}

static void print_summary(sched *sc) {
    rn_run *r = sc->r;
    if (r->opts->json)
        return;
    size_t width = 3;
    walk_rows(sc, row_width, &width);
    rn_out_line(r->out, NULL, "", 0);
    rn_out_printf(r->out, NULL, "%-*s  %-28s  %s", (int)width, "JOB", "RESULT", "DURATION");
    row_ctx c = {r, (int)width};
    walk_rows(sc, row_print, &c);
}

static void row_summary(void *ud, wfrt *wr, jobrt *jr, leg *lg) {
    (void)jr;
    if (!lg || !lg->slug)
        return;
    FILE *out = ((void **)ud)[0];
    rn_run *r = ((void **)ud)[1];
    char *p = rn_xprintf("%s/jobs/%s/summary.md", r->run_dir, lg->slug);
    size_t len = 0;
    char *text = rn_read_file(p, &len);
    if (text && len) {
        fprintf(out, "## %s/%s\n\n", wr->display, lg->name);
        fwrite(text, 1, len, out);
        fputc('\n', out);
    }
    free(text);
    free(p);
}

/* Concatenates the per-job step summaries into RUN/summary.md. */
static void collect_summaries(sched *sc) {
    rn_run *r = sc->r;
    char *path = rn_xprintf("%s/summary.md", r->run_dir);
    FILE *out = fopen(path, "w");
    free(path);
    if (!out)
        return;
    void *ud[2] = {out, r};
    walk_rows(sc, row_summary, ud);
    fclose(out);
}

static void row_json(void *ud, wfrt *wr, jobrt *jr, leg *lg) {
    if (lg && lg->index)
        return; /* one entry per job */
    json_array_append_new(ud, json_pack("{s:s,s:s,s:s}", "workflow", wr->display, "job", jr->key,
                                        "result", rn_job_result_name(jr->result)));
}

/* Creates the runtime of wr->w's jobs and adds it to the scheduler. Under lock (or before the
 * coordinator starts). */
static void add_wfrt(sched *sc, wfrt *wr) {
    const rn_workflow *wf = wr->w->wf;
    size_t nj = wf->n_jobs;
    bool *uses_status = rn_xcalloc(nj + 1, sizeof *uses_status);
    wr->jobs = rn_xcalloc(nj + 1, sizeof *wr->jobs);
    for (size_t j = 0; j < nj; j++) {
        jobrt *jr = &wr->jobs[j];
        jr->r = sc->r;
        jr->wr = wr;
        jr->w = wr->w;
        jr->idx = j;
        jr->wj = &wf->jobs[j];
        jr->name = rn_xprintf("%s%s", wr->name_prefix,
                              jr->wj->name.s && !strstr(jr->wj->name.s, "${{") ? jr->wj->name.s
                                                                               : jr->wj->id.s);
        jr->key = rn_xprintf("%s%s", wr->key_prefix, jr->wj->id.s);
        const char *cond = jr->wj->if_raw.s;
        if (cond) {
            rn_expr_error e;
            char *text = rn_xstrdup(cond);
            char *p = text;
            while (isspace((unsigned char)*p))
                p++;
            size_t len = strlen(p);
            while (len && isspace((unsigned char)p[len - 1]))
                p[--len] = 0;
            if (len >= 5 && !strncmp(p, "${{", 3) && !strcmp(p + len - 2, "}}")) {
                p[len - 2] = 0;
                p += 3;
            }
            rn_expr *x = rn_expr_parse(p, rn_step_scope(), &e);
            uses_status[j] = x && rn_expr_calls_status_function(x);
            rn_expr_free(x);
            free(text);
        }
    }
    wr->s = rn_sched_new(wr->w->plan.graph, uses_status);
    free(uses_status);
    sc->wfs = rn_xrealloc(sc->wfs, (sc->n_wfs + 1) * sizeof *sc->wfs);
    sc->wfs[sc->n_wfs++] = wr;
}

static void start_called(sched *sc, wfrt *cw) {
    add_wfrt(sc, cw);
    cg_enter_wf(sc, cw);
}

static void free_wfrt(wfrt *wr) {
    for (size_t k = 0; k < wr->w->wf->n_jobs; k++) {
        jobrt *jr = &wr->jobs[k];
        for (size_t i = 0; i < jr->n_legs; i++) {
            json_decref(jr->legs[i].matrix);
            json_decref(jr->legs[i].outputs);
            free(jr->legs[i].name);
            free(jr->legs[i].slug);
        }
        free(jr->legs);
        free(jr->name);
        free(jr->key);
        free(jr->error);
        json_decref(jr->outputs);
        json_decref(jr->needs);
    }
    free(wr->jobs);
    rn_sched_free(wr->s);
    if (wr->w == &wr->own)
        rn_run_wf_free(&wr->own);
    free(wr->name_prefix);
    free(wr->key_prefix);
    free(wr->slug_prefix);
    free(wr->root);
    json_decref(wr->secrets);
    free(wr);
}

int rn_run_execute(rn_run *r) {
    sched sc = {0};
    sc.r = r;
    pthread_cond_init(&sc.cond, NULL);
    g_sched = &sc;
    for (size_t w = 0; w < r->n_wfs; w++) {
        wfrt *wr = rn_xcalloc(1, sizeof *wr);
        wr->w = &r->wfs[w];
        wr->display = wr->w->display;
        wr->name_prefix = rn_xstrdup("");
        wr->key_prefix = rn_xstrdup("");
        rn_sb slug = RN_SB_INIT;
        const char *base = strrchr(wr->w->file, '/');
        slugify(&slug, base ? base + 1 : wr->w->file);
        rn_sb_putc(&slug, '.');
        wr->slug_prefix = rn_sb_take(&slug);
        wr->root = rn_xstrdup(r->root);
        wr->secrets = json_incref(r->opts->secrets);
        add_wfrt(&sc, wr);
    }
    pthread_mutex_lock(&r->lock);
    for (size_t w = 0; w < sc.n_wfs; w++)
        cg_enter_wf(&sc, sc.wfs[w]); /* queued in file order */
    pthread_mutex_unlock(&r->lock);

    size_t *ready = NULL, *skipped = NULL;
    size_t cap = 0;
    bool interrupted_handled = false;

    pthread_mutex_lock(&r->lock);
    for (;;) {
        if (r->interrupted && !interrupted_handled) {
            interrupted_handled = true;
            cancel_all(&sc);
        }
        bool progress = false, all_done = true;
        for (size_t w = 0; w < sc.n_wfs; w++) {
            wfrt *wr = sc.wfs[w];
            size_t nj = wr->w->wf->n_jobs;
            if (wr->waiting) {
                all_done = false;
                continue;
            }
            if (nj + 1 > cap) {
                cap = nj + 1;
                ready = rn_xrealloc(ready, cap * sizeof *ready);
                skipped = rn_xrealloc(skipped, cap * sizeof *skipped);
            }
            size_t nsk = 0;
            size_t n = rn_sched_step(wr->s, ready, skipped, &nsk);
            for (size_t i = 0; i < nsk; i++) {
                jobrt *jr = &wr->jobs[skipped[i]];
                jr->result = RN_JOB_SKIPPED;
                jr->finished = true;
                jr->note = "a needed job did not succeed";
                if (!jr->outputs)
                    jr->outputs = json_object();
                if (wr->w->selected[skipped[i]])
                    rn_run_msg(r, "[%s/%s] ⏭  Job skipped (a needed job did not succeed)",
                               wr->display, jr->name);
            }
            for (size_t i = 0; i < n; i++) {
                progress = true;
                if (wr->never_start) {
                    jobrt *jr = &wr->jobs[ready[i]];
                    jr->finished = true;
                    jr->result = RN_JOB_CANCELLED;
                    jr->note = "its workflow was cancelled (concurrency)";
                    if (!jr->outputs)
                        jr->outputs = json_object();
                    rn_sched_finish(wr->s, ready[i], RN_JOB_CANCELLED);
                    continue;
                }
                if (!wr->w->selected[ready[i]]) {
                    jobrt *jr = &wr->jobs[ready[i]];
                    jr->finished = true;
                    jr->result = RN_JOB_SKIPPED;
                    jr->outputs = json_object();
                    rn_sched_finish(wr->s, ready[i], RN_JOB_SKIPPED);
                    continue;
                }
                start_job(&sc, wr, ready[i]);
            }
            if (!rn_sched_done(wr->s))
                all_done = false;
            else if (wr->cg) {
                cg_release_wf(wr); /* a pending member may start now */
                progress = true;
            }
            if (rn_sched_done(wr->s) && wr->caller && !wr->reported) {
                finish_call(&sc, wr);
                progress = true;
            }
        }
        launch(&sc);
        if (all_done && sc.running == 0)
            break;
        if (progress)
            continue;
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += 200 * 1000000L;
        if (ts.tv_nsec >= 1000000000L) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&sc.cond, &r->lock, &ts);
    }
    pthread_mutex_unlock(&r->lock);

    int rc = 0;
    for (size_t w = 0; w < sc.n_wfs; w++) {
        wfrt *wr = sc.wfs[w];
        for (size_t k = 0; k < wr->w->wf->n_jobs; k++) {
            jobrt *jr = &wr->jobs[k];
            for (size_t i = 0; i < jr->n_legs; i++)
                if (jr->legs[i].thread)
                    pthread_join(jr->legs[i].th, NULL);
            if (!wr->caller && wr->w->selected[k] &&
                (jr->result == RN_JOB_FAILURE || jr->result == RN_JOB_CANCELLED))
                rc = 1;
        }
    }
    print_summary(&sc);
    collect_summaries(&sc);
    if (r->opts->json) {
        json_t *jobs = json_array();
        walk_rows(&sc, row_json, jobs);
        rn_run_event(r, json_pack("{s:s,s:o}", "event", "jobs", "jobs", jobs));
    }

    for (size_t w = 0; w < sc.n_wfs; w++)
        free_wfrt(sc.wfs[w]);
    free(sc.wfs);
    for (size_t i = 0; i < sc.n_groups; i++) {
        free(sc.groups[i]->name);
        free(sc.groups[i]);
    }
    free(sc.groups);
    free(ready);
    free(skipped);
    pthread_cond_destroy(&sc.cond);
    g_sched = NULL;
    return rc;
}
