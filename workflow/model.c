/* Builds the typed model (model.h) from a loaded YAML tree. The builder is tolerant: it runs
 * on trees that failed schema checks too, skipping what has the wrong shape. */
#include "workflow/model.h"

#include "workflow/expr.h"
#include "workflow/validate.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

static rn_wf_str wstr(const rn_ynode *n) {
    rn_wf_str s = {0};
    if (!n)
        return s;
    s.line = n->line;
    s.col = n->col;
    s.node = n;
    if (n->kind == RN_Y_SCALAR && n->type != RN_YS_NULL)
        s.s = rn_yaml_scalar_text(n);
    return s;
}

static rn_wf_str wget(const rn_ynode *map, const char *key) {
    return wstr(rn_yaml_get(map, key));
}

/* A string or a sequence of strings. */
static rn_wf_strs wstrs(rn_arena *a, const rn_ynode *n) {
    rn_wf_strs out = {0};
    if (!n || rn_yaml_is_null(n))
        return out;
    if (n->kind == RN_Y_SCALAR) {
        out.items = rn_arena_alloc(a, sizeof *out.items);
        out.items[0] = wstr(n);
        out.n = 1;
    } else if (n->kind == RN_Y_SEQ) {
        out.items = rn_arena_alloc(a, (n->n + 1) * sizeof *out.items);
        for (size_t i = 0; i < n->n; i++)
            if (n->items[i]->kind == RN_Y_SCALAR)
                out.items[out.n++] = wstr(n->items[i]);
    }
    return out;
}

static bool ybool(const rn_ynode *n) {
    if (!n || n->kind != RN_Y_SCALAR)
        return false;
    if (n->type == RN_YS_BOOL)
        return n->boolean;
    return n->type == RN_YS_STRING && !strcasecmp(n->str, "true");
}

static bool is_expr_wrapped(const char *s, const char **inner, size_t *len) {
    while (*s == ' ' || *s == '\t' || *s == '\n')
        s++;
    if (strncmp(s, "${{", 3))
        return false;
    const char *end = s + strlen(s);
    while (end > s && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\n'))
        end--;
    if (end - s < 5 || strncmp(end - 2, "}}", 2))
        return false;
    /* exactly one expression: no other "${{" inside */
    if (strstr(s + 3, "${{") && strstr(s + 3, "${{") < end - 2)
        return false;
    *inner = s + 3;
    *len = (size_t)(end - 2 - (s + 3));
    return true;
}

const char *rn_wf_rewrite_if(rn_arena *a, const char *cond, bool job_level, char *err,
                             size_t err_size) {
    if (err && err_size)
        err[0] = 0;
    if (!cond)
        return "success()";
    const char *inner = cond;
    size_t len = strlen(cond);
    is_expr_wrapped(cond, &inner, &len);
    while (len && (*inner == ' ' || *inner == '\t' || *inner == '\n' || *inner == '\r'))
        inner++, len--;
    while (len && (inner[len - 1] == ' ' || inner[len - 1] == '\t' || inner[len - 1] == '\n' ||
                   inner[len - 1] == '\r'))
        len--;
    if (!len)
        return "success()";
    char *text = rn_arena_strndup(a, inner, len);
    rn_expr_error e = {0};
    rn_expr *tree =
        rn_expr_parse(text, rn_validate_scope(job_level ? RN_SCOPE_JOB_IF : RN_SCOPE_STEP_IF), &e);
    if (!tree) {
        if (err && err_size)
            snprintf(err, err_size, "%s", e.message);
        return text;
    }
    bool status = rn_expr_calls_status_function(tree);
    rn_expr_free(tree);
    return status ? text : rn_arena_printf(a, "success() && (%s)", text);
}

static void build_defaults(const rn_ynode *n, rn_wf_defaults *d) {
    if (!n || n->kind != RN_Y_MAP)
        return;
    d->line = n->line;
    d->col = n->col;
    const rn_ynode *run = rn_yaml_get(n, "run");
    d->shell = wget(run, "shell");
    d->working_directory = wget(run, "working-directory");
}

static void build_concurrency(const rn_ynode *n, rn_wf_concurrency *c) {
    if (!n)
        return;
    c->line = n->line;
    c->col = n->col;
    if (n->kind == RN_Y_SCALAR) {
        c->group = wstr(n);
    } else if (n->kind == RN_Y_MAP) {
        c->group = wget(n, "group");
        c->cancel_in_progress = rn_yaml_get(n, "cancel-in-progress");
    }
}

static void build_inputs(rn_arena *a, const rn_ynode *n, rn_wf_event *ev) {
    if (!n || n->kind != RN_Y_MAP)
        return;
    ev->inputs = rn_arena_alloc(a, (n->n + 1) * sizeof *ev->inputs);
    for (size_t i = 0; i < n->n; i++) {
        const rn_ynode *k = n->pairs[i].key, *v = n->pairs[i].value;
        rn_wf_input *in = &ev->inputs[ev->n_inputs++];
        in->name = wstr(k);
        in->line = k->line;
        in->col = k->col;
        in->description = wget(v, "description");
        in->type = wget(v, "type");
        in->required = ybool(rn_yaml_get(v, "required"));
        in->default_value = rn_yaml_get(v, "default");
        in->options = wstrs(a, rn_yaml_get(v, "options"));
        in->deprecation_message = rn_yaml_str(rn_yaml_get(v, "deprecationMessage"));
    }
}

static void build_event(rn_arena *a, rn_wf_event *ev, const rn_ynode *name, const rn_ynode *cfg) {
    ev->name = wstr(name);
    ev->line = name->line;
    ev->col = name->col;
    ev->config = cfg;
    if (!cfg)
        return;
    if (cfg->kind == RN_Y_SEQ && ev->name.s && !strcmp(ev->name.s, "schedule")) {
        ev->crons.items = rn_arena_alloc(a, (cfg->n + 1) * sizeof *ev->crons.items);
        for (size_t i = 0; i < cfg->n; i++) {
            const rn_ynode *c = rn_yaml_get(cfg->items[i], "cron");
            if (c)
                ev->crons.items[ev->crons.n++] = wstr(c);
        }
        return;
    }
    if (cfg->kind != RN_Y_MAP)
        return;
    ev->types = wstrs(a, rn_yaml_get(cfg, "types"));
    ev->branches = wstrs(a, rn_yaml_get(cfg, "branches"));
    ev->branches_ignore = wstrs(a, rn_yaml_get(cfg, "branches-ignore"));
    ev->tags = wstrs(a, rn_yaml_get(cfg, "tags"));
    ev->tags_ignore = wstrs(a, rn_yaml_get(cfg, "tags-ignore"));
    ev->paths = wstrs(a, rn_yaml_get(cfg, "paths"));
    ev->paths_ignore = wstrs(a, rn_yaml_get(cfg, "paths-ignore"));
    ev->workflows = wstrs(a, rn_yaml_get(cfg, "workflows"));
    build_inputs(a, rn_yaml_get(cfg, "inputs"), ev);
    const rn_ynode *outs = rn_yaml_get(cfg, "outputs");
    if (outs && outs->kind == RN_Y_MAP) {
        ev->outputs = rn_arena_alloc(a, (outs->n + 1) * sizeof *ev->outputs);
        for (size_t i = 0; i < outs->n; i++) {
            rn_wf_output *o = &ev->outputs[ev->n_outputs++];
            o->name = wstr(outs->pairs[i].key);
            o->line = o->name.line;
            o->col = o->name.col;
            o->description = wget(outs->pairs[i].value, "description");
            o->value = wget(outs->pairs[i].value, "value");
        }
    }
    const rn_ynode *secs = rn_yaml_get(cfg, "secrets");
    if (secs && secs->kind == RN_Y_MAP) {
        ev->secrets = rn_arena_alloc(a, (secs->n + 1) * sizeof *ev->secrets);
        for (size_t i = 0; i < secs->n; i++) {
            rn_wf_secret *s = &ev->secrets[ev->n_secrets++];
            s->name = wstr(secs->pairs[i].key);
            s->line = s->name.line;
            s->col = s->name.col;
            s->description = wget(secs->pairs[i].value, "description");
            s->required = ybool(rn_yaml_get(secs->pairs[i].value, "required"));
        }
    }
}

static void build_on(rn_arena *a, rn_workflow *wf, const rn_ynode *on) {
    wf->on = on;
    if (!on)
        return;
    if (on->kind == RN_Y_SCALAR) {
        wf->events = rn_arena_alloc(a, sizeof *wf->events);
        build_event(a, &wf->events[wf->n_events++], on, NULL);
    } else if (on->kind == RN_Y_SEQ) {
        wf->events = rn_arena_alloc(a, (on->n + 1) * sizeof *wf->events);
        for (size_t i = 0; i < on->n; i++)
            if (on->items[i]->kind == RN_Y_SCALAR)
                build_event(a, &wf->events[wf->n_events++], on->items[i], NULL);
    } else {
        wf->events = rn_arena_alloc(a, (on->n + 1) * sizeof *wf->events);
        for (size_t i = 0; i < on->n; i++)
            if (on->pairs[i].key->kind == RN_Y_SCALAR)
                build_event(a, &wf->events[wf->n_events++], on->pairs[i].key, on->pairs[i].value);
    }
}

static void build_container(rn_arena *a, const rn_ynode *id, const rn_ynode *n,
                            rn_wf_container *c) {
    (void)a;
    c->node = n;
    c->id = wstr(id);
    c->line = n->line;
    c->col = n->col;
    if (n->kind == RN_Y_SCALAR) {
        c->image = wstr(n);
        return;
    }
    c->image = wget(n, "image");
    c->options = wget(n, "options");
    c->entrypoint = wget(n, "entrypoint");
    c->command = wget(n, "command");
    c->env = rn_yaml_get(n, "env");
    c->ports = rn_yaml_get(n, "ports");
    c->volumes = rn_yaml_get(n, "volumes");
    c->credentials = rn_yaml_get(n, "credentials");
}

/* GitHub's generated step id: "__run", "__actions_checkout", "__alpine_latest". */
static const char *generated_base(rn_arena *a, const rn_wf_step *st) {
    if (st->kind != RN_STEP_USES || !st->uses.s)
        return st->kind == RN_STEP_RUN ? "__run" : "__step";
    const char *u = st->uses.s;
    char *out;
    if (!strncmp(u, "docker://", 9)) {
        out = rn_arena_printf(a, "__%s", u + 9);
    } else {
        const char *at = strrchr(u, '@');
        size_t len = at ? (size_t)(at - u) : strlen(u);
        out = rn_arena_printf(a, "__%.*s", (int)len, u);
    }
    for (char *p = out + 2; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              *p == '-' || *p == '_'))
            *p = '_';
    return out;
}

static bool id_taken(const rn_wf_step *steps, size_t n, const char *id) {
    for (size_t i = 0; i < n; i++)
        if (steps[i].id.s && !strcasecmp(steps[i].id.s, id))
            return true;
    return false;
}

void rn_wf_build_steps(rn_arena *a, const rn_ynode *seq, rn_wf_step **out, size_t *n_out) {
    *out = NULL;
    *n_out = 0;
    if (!seq || seq->kind != RN_Y_SEQ)
        return;
    rn_wf_step *steps = rn_arena_alloc(a, (seq->n + 1) * sizeof *steps);
    size_t n = 0;
    for (size_t i = 0; i < seq->n; i++) {
        const rn_ynode *m = seq->items[i];
        if (m->kind != RN_Y_MAP)
            continue;
        rn_wf_step *st = &steps[n++];
        st->line = m->line;
        st->col = m->col;
        st->id = wget(m, "id");
        st->name = wget(m, "name");
        st->if_raw = wget(m, "if");
        st->uses = wget(m, "uses");
        st->run = wget(m, "run");
        st->shell = wget(m, "shell");
        st->working_directory = wget(m, "working-directory");
        st->with = rn_yaml_get(m, "with");
        st->env = rn_yaml_get(m, "env");
        st->continue_on_error = rn_yaml_get(m, "continue-on-error");
        st->timeout_minutes = rn_yaml_get(m, "timeout-minutes");
        st->background = ybool(rn_yaml_get(m, "background"));
        st->wait = wstrs(a, rn_yaml_get(m, "wait"));
        st->cancel = wget(m, "cancel");
        st->kind = rn_yaml_get(m, "uses")       ? RN_STEP_USES
                   : rn_yaml_get(m, "wait")     ? RN_STEP_WAIT
                   : rn_yaml_get(m, "wait-all") ? RN_STEP_WAIT_ALL
                   : rn_yaml_get(m, "cancel")   ? RN_STEP_CANCEL
                                                : RN_STEP_RUN;
        st->if_cond = st->if_raw;
        st->if_cond.s = rn_wf_rewrite_if(a, st->if_raw.s, false, NULL, 0);
        if (!st->if_raw.s) {
            st->if_cond.line = st->line;
            st->if_cond.col = st->col;
        }
    }
    /* Generated ids avoid every explicit id and earlier generated ones. */
    for (size_t i = 0; i < n; i++) {
        rn_wf_step *st = &steps[i];
        if (st->id.s)
            continue;
        const char *base = generated_base(a, st);
        const char *id = base;
        for (int k = 2; id_taken(steps, n, id); k++)
            id = rn_arena_printf(a, "%s_%d", base, k);
        st->id.s = id;
        st->id.line = st->line;
        st->id.col = st->col;
        st->id_generated = true;
    }
    *out = steps;
    *n_out = n;
}

static void build_job(rn_arena *a, rn_wf_job *j, const rn_ynode *key, const rn_ynode *m) {
    j->id = wstr(key);
    j->line = key->line;
    j->col = key->col;
    if (m->kind != RN_Y_MAP)
        return;
    j->name = wget(m, "name");
    j->needs = wstrs(a, rn_yaml_get(m, "needs"));
    j->if_raw = wget(m, "if");
    j->if_cond = j->if_raw;
    j->if_cond.s = rn_wf_rewrite_if(a, j->if_raw.s, true, NULL, 0);
    if (!j->if_raw.s) {
        j->if_cond.line = j->line;
        j->if_cond.col = j->col;
    }
    const rn_ynode *ro = rn_yaml_get(m, "runs-on");
    if (ro) {
        j->runs_on.node = ro;
        j->runs_on.line = ro->line;
        j->runs_on.col = ro->col;
        if (ro->kind == RN_Y_MAP) {
            j->runs_on.group = wget(ro, "group");
            j->runs_on.labels = wstrs(a, rn_yaml_get(ro, "labels"));
        } else {
            j->runs_on.labels = wstrs(a, ro);
        }
    }
    const rn_ynode *env = rn_yaml_get(m, "environment");
    if (env) {
        j->environment.node = env;
        j->environment.line = env->line;
        j->environment.col = env->col;
        if (env->kind == RN_Y_MAP) {
            j->environment.name = wget(env, "name");
            j->environment.url = wget(env, "url");
        } else {
            j->environment.name = wstr(env);
        }
    }
    j->outputs = rn_yaml_get(m, "outputs");
    j->env = rn_yaml_get(m, "env");
    build_defaults(rn_yaml_get(m, "defaults"), &j->defaults);
    rn_wf_build_steps(a, rn_yaml_get(m, "steps"), &j->steps, &j->n_steps);
    j->timeout_minutes = rn_yaml_get(m, "timeout-minutes");
    j->cancel_timeout_minutes = rn_yaml_get(m, "cancel-timeout-minutes");
    const rn_ynode *st = rn_yaml_get(m, "strategy");
    if (st) {
        j->strategy.node = st;
        j->strategy.line = st->line;
        j->strategy.col = st->col;
        j->strategy.matrix = rn_yaml_get(st, "matrix");
        j->strategy.fail_fast = rn_yaml_get(st, "fail-fast");
        j->strategy.max_parallel = rn_yaml_get(st, "max-parallel");
    }
    j->continue_on_error = rn_yaml_get(m, "continue-on-error");
    const rn_ynode *c = rn_yaml_get(m, "container");
    if (c && !rn_yaml_is_null(c)) {
        j->container = rn_arena_alloc(a, sizeof *j->container);
        build_container(a, NULL, c, j->container);
    }
    const rn_ynode *sv = rn_yaml_get(m, "services");
    if (sv && sv->kind == RN_Y_MAP) {
        j->services = rn_arena_alloc(a, (sv->n + 1) * sizeof *j->services);
        for (size_t i = 0; i < sv->n; i++)
            build_container(a, sv->pairs[i].key, sv->pairs[i].value, &j->services[j->n_services++]);
    }
    j->uses = wget(m, "uses");
    j->with = rn_yaml_get(m, "with");
    const rn_ynode *sec = rn_yaml_get(m, "secrets");
    if (sec && sec->kind == RN_Y_SCALAR && !strcmp(sec->str, "inherit"))
        j->secrets_inherit = true;
    else
        j->secrets = sec;
    j->permissions.node = rn_yaml_get(m, "permissions");
    build_concurrency(rn_yaml_get(m, "concurrency"), &j->concurrency);
}

static rn_workflow *build_workflow(rn_arena *a, const char *file, const rn_ynode *root) {
    rn_workflow *wf = rn_arena_alloc(a, sizeof *wf);
    wf->file = rn_arena_strdup(a, file);
    wf->root = root;
    if (root->kind != RN_Y_MAP)
        return wf;
    wf->name = wget(root, "name");
    wf->run_name = wget(root, "run-name");
    wf->description = wget(root, "description");
    build_on(a, wf, rn_yaml_get(root, "on"));
    wf->permissions.node = rn_yaml_get(root, "permissions");
    wf->env = rn_yaml_get(root, "env");
    build_defaults(rn_yaml_get(root, "defaults"), &wf->defaults);
    build_concurrency(rn_yaml_get(root, "concurrency"), &wf->concurrency);
    const rn_ynode *jobs = rn_yaml_get(root, "jobs");
    if (jobs && jobs->kind == RN_Y_MAP) {
        wf->jobs = rn_arena_alloc(a, (jobs->n + 1) * sizeof *wf->jobs);
        for (size_t i = 0; i < jobs->n; i++)
            if (jobs->pairs[i].key->kind == RN_Y_SCALAR)
                build_job(a, &wf->jobs[wf->n_jobs++], jobs->pairs[i].key, jobs->pairs[i].value);
    }
    return wf;
}

rn_workflow *rn_workflow_parse(rn_arena *a, const char *file, const char *text, size_t len,
                               rn_diags *diags) {
    rn_ynode *root = rn_yaml_load(a, file, text, len, diags);
    if (!root)
        return NULL;
    rn_validate_schema(root, diags);
    rn_workflow *wf = build_workflow(a, file, root);
    /* Semantic checks run on malformed trees too (they skip what has the wrong shape), so
     * every error of the file is reported at once. */
    rn_validate_workflow(wf, diags);
    return wf;
}

const rn_wf_job *rn_workflow_job(const rn_workflow *wf, const char *id) {
    for (size_t i = 0; wf && i < wf->n_jobs; i++)
        if (wf->jobs[i].id.s && !strcasecmp(wf->jobs[i].id.s, id))
            return &wf->jobs[i];
    return NULL;
}

const rn_wf_event *rn_workflow_event(const rn_workflow *wf, const char *name) {
    for (size_t i = 0; wf && i < wf->n_events; i++)
        if (wf->events[i].name.s && !strcmp(wf->events[i].name.s, name))
            return &wf->events[i];
    return NULL;
}
