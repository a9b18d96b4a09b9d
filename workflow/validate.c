/* Semantic checks GitHub makes after reading the template (ids, needs graph, uses format, runs-on
 * groups, matrix vectors, if: conditions) and the checks of a reusable workflow call. */
#include "workflow/validate.h"

#include "workflow/graph.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

static void err(rn_diags *d, const rn_ynode *n, int line, int col, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
static void err(rn_diags *d, const rn_ynode *n, int line, int col, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    rn_diag_vadd(d, n ? n->file : NULL, n ? n->line : line, n ? n->col : col, fmt, ap);
    va_end(ap);
}

#define ID_INVALID                                                                                 \
    "The identifier '%s' is invalid. IDs may only contain alphanumeric characters, '_', and "      \
    "'-'. IDs must start with a letter or '_' and and must be less than 100 characters."
#define ID_RESERVED "The identifier '%s' is invalid. IDs starting with '__' are reserved."

/* Returns NULL when valid, else the message format. */
static const char *check_id(const char *id) {
    size_t len = strlen(id);
    bool ok = len > 0 && len < 100 &&
              ((id[0] >= 'a' && id[0] <= 'z') || (id[0] >= 'A' && id[0] <= 'Z') || id[0] == '_');
    for (size_t i = 0; ok && i < len; i++) {
        char c = id[i];
        ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
             c == '_' || c == '-';
    }
    if (!ok)
        return ID_INVALID;
    if (!strncmp(id, "__", 2))
        return ID_RESERVED;
    return NULL;
}

static bool valid_uses(const char *u) {
    if (!strncmp(u, "docker://", 9) || !strncmp(u, "./", 2) || !strncmp(u, ".\\", 2))
        return true;
    /* {org}/{repo}[/path]@ref */
    const char *at = strrchr(u, '@');
    if (!at || !at[1])
        return false;
    const char *slash = memchr(u, '/', (size_t)(at - u));
    if (!slash || slash == u || slash + 1 == at)
        return false;
    if (slash[1] == '/')
        return false;
    return true;
}

const char *rn_check_workflow_ref(const char *u) {
    const char *at = strchr(u, '@');
    if (!strncmp(u, "./", 2))
        return at ? "invalid value workflow reference: cannot specify version when calling "
                    "local workflows"
                  : NULL;
    const char *s1 = strchr(u, '/');
    const char *s2 = s1 ? strchr(s1 + 1, '/') : NULL;
    if (!s1 || s1 == u || !s2 || s2 == s1 + 1 || !s2[1] || (at && s2 > at))
        return "invalid value workflow reference: references to workflows must be prefixed "
               "with format 'owner/repository/' or './' for local workflows";
    if (!at || !at[1])
        return "invalid value workflow reference: no version specified";
    return NULL;
}

static bool has_expr(const rn_wf_str *s) {
    return s->s && strstr(s->s, "${{");
}

static void check_if(rn_diags *d, const rn_wf_str *raw, bool job_level) {
    /* "${{ }}" conditions were parsed by the schema reader already. */
    if (!raw->s || has_expr(raw))
        return;
    rn_arena a;
    rn_arena_init(&a);
    char msg[1100];
    rn_wf_rewrite_if(&a, raw->s, job_level, msg, sizeof msg);
    if (msg[0])
        err(d, raw->node, raw->line, raw->col, "%s", msg);
    rn_arena_free(&a);
}

static void check_steps(rn_diags *d, const rn_wf_step *steps, size_t n) {
    for (size_t i = 0; i < n; i++) {
        const rn_wf_step *st = &steps[i];
        if (!st->id_generated && st->id.s && !has_expr(&st->id)) {
            const char *m = check_id(st->id.s);
            if (m) {
                err(d, st->id.node, st->id.line, st->id.col, m, st->id.s);
            } else {
                for (size_t j = 0; j < i; j++)
                    if (!steps[j].id_generated && steps[j].id.s &&
                        !strcasecmp(steps[j].id.s, st->id.s)) {
                        err(d, st->id.node, st->id.line, st->id.col,
                            "The identifier '%s' may not be used more than once within the same "
                            "scope.",
                            st->id.s);
                        break;
                    }
            }
        }
        if (st->kind == RN_STEP_USES && st->uses.s && !has_expr(&st->uses) &&
            !valid_uses(st->uses.s))
            err(d, st->uses.node, st->uses.line, st->uses.col,
                "Expected format {org}/{repo}[/path]@ref. Actual '%s'", st->uses.s);
        check_if(d, &st->if_raw, false);
    }
}

/* needs: unknown jobs, cycles and a missing starting job, with GitHub's messages, through the
 * same graph the scheduler uses (linear in jobs + needs). */
static void check_needs(const rn_workflow *wf, rn_diags *d) {
    if (!wf->n_jobs) {
        const rn_ynode *jobs = rn_yaml_get(wf->root, "jobs");
        if (jobs)
            err(d, jobs, 0, 0, "%s",
                "The workflow must contain at least one job with no dependencies.");
        return;
    }
    rn_graph_node *nodes = rn_xcalloc(wf->n_jobs, sizeof *nodes);
    size_t total = 0;
    for (size_t i = 0; i < wf->n_jobs; i++)
        total += wf->jobs[i].needs.n;
    rn_graph_need *needs = rn_xcalloc(total ? total : 1, sizeof *needs);
    size_t at = 0;
    for (size_t i = 0; i < wf->n_jobs; i++) {
        const rn_wf_job *j = &wf->jobs[i];
        nodes[i] = (rn_graph_node){j->id.s ? j->id.s : "", needs + at, 0};
        for (size_t k = 0; k < j->needs.n; k++) {
            const rn_wf_str *nd = &j->needs.items[k];
            if (!nd->s)
                continue;
            needs[at++] = (rn_graph_need){nd->s, nd->line, nd->col};
            nodes[i].n_needs++;
        }
    }
    /* GitHub reports a missing starting job at the first job. */
    rn_graph_src src = {wf->file, wf->jobs[0].line, wf->jobs[0].col};
    rn_graph_free(rn_graph_build(nodes, wf->n_jobs, &src, d));
    free(needs);
    free(nodes);
}

static void check_runs_on(const rn_wf_job *j, rn_diags *d) {
    const rn_wf_str *g = &j->runs_on.group;
    if (!g->s || has_expr(g))
        return;
    const char *slash = strchr(g->s, '/');
    if (!slash)
        return;
    size_t plen = (size_t)(slash - g->s);
    static const char *const prefixes[] = {"organization", "enterprise", "org", "ent"};
    bool prefix_ok = false;
    for (size_t i = 0; i < 4; i++)
        if (strlen(prefixes[i]) == plen && !strncmp(g->s, prefixes[i], plen))
            prefix_ok = true;
    if (!slash[1])
        err(d, g->node, g->line, g->col, "Invalid runs-on group name '%s'.", g->s);
    else if (!prefix_ok || strchr(slash + 1, '/'))
        err(d, g->node, g->line, g->col,
            "Invalid runs-on group name '%s'. Please use 'organization/' or 'enterprise/' prefix "
            "to target a single runner group.",
            g->s);
}

static void check_container(const rn_wf_container *c, rn_diags *d) {
    if (!c || !c->node || c->node->kind != RN_Y_MAP)
        return;
    static const char *const known[] = {"image",   "options",     "env",        "ports",
                                        "volumes", "credentials", "entrypoint", "command"};
    for (size_t i = 0; i < c->node->n; i++) {
        const rn_ynode *k = c->node->pairs[i].key;
        bool ok = false;
        for (size_t j = 0; j < sizeof known / sizeof known[0]; j++)
            ok = ok || (k->kind == RN_Y_SCALAR && !strcmp(k->str, known[j]));
        if (!ok)
            return; /* an unknown key was reported; GitHub does not convert this container */
    }
    if (!rn_yaml_get(c->node, "image")) /* an empty image: value is a schema error instead */
        err(d, c->node, 0, 0, "Container image cannot be empty");
}

static void check_matrix(const rn_wf_job *j, rn_diags *d) {
    const rn_ynode *m = j->strategy.matrix;
    if (!m || m->kind != RN_Y_MAP)
        return;
    for (size_t i = 0; i < m->n; i++) {
        const rn_ynode *k = m->pairs[i].key, *v = m->pairs[i].value;
        if (k->kind != RN_Y_SCALAR || !strcmp(k->str, "include") || !strcmp(k->str, "exclude"))
            continue;
        if (v->kind == RN_Y_SEQ && v->n == 0)
            err(d, v, 0, 0, "Matrix vector '%s' does not contain any values", k->str);
    }
}

void rn_validate_workflow(const rn_workflow *wf, rn_diags *d) {
    if (!wf || !wf->root || wf->root->kind != RN_Y_MAP)
        return;
    const rn_ynode *jobs = rn_yaml_get(wf->root, "jobs");
    if (!jobs || jobs->kind != RN_Y_MAP)
        return; /* missing or malformed jobs: reported by the schema reader */
    for (size_t i = 0; i < wf->n_jobs; i++) {
        const rn_wf_job *j = &wf->jobs[i];
        /* An empty or null id was already reported by the schema reader. */
        if (j->id.s && *j->id.s) {
            const char *m = check_id(j->id.s);
            if (m)
                err(d, NULL, j->line, j->col, m, j->id.s);
        }
        check_if(d, &j->if_raw, true);
        const char *ref_err =
            j->uses.s && !has_expr(&j->uses) ? rn_check_workflow_ref(j->uses.s) : NULL;
        if (ref_err)
            err(d, j->uses.node, j->uses.line, j->uses.col, "%s", ref_err);
        check_runs_on(j, d);
        check_matrix(j, d);
        check_container(j->container, d);
        for (size_t k = 0; k < j->n_services; k++)
            check_container(&j->services[k], d);
        check_steps(d, j->steps, j->n_steps);
    }
    check_needs(wf, d);
}

/* ---- Reusable workflow calls ---- */

static const rn_wf_input *find_input(const rn_wf_event *ev, const char *name) {
    for (size_t i = 0; ev && i < ev->n_inputs; i++)
        if (ev->inputs[i].name.s && !strcasecmp(ev->inputs[i].name.s, name))
            return &ev->inputs[i];
    return NULL;
}

static const rn_wf_secret *find_secret(const rn_wf_event *ev, const char *name) {
    for (size_t i = 0; ev && i < ev->n_secrets; i++)
        if (ev->secrets[i].name.s && !strcasecmp(ev->secrets[i].name.s, name))
            return &ev->secrets[i];
    return NULL;
}

static bool provided(const rn_ynode *map, const char *name) {
    for (size_t i = 0; map && map->kind == RN_Y_MAP && i < map->n; i++)
        if (map->pairs[i].key->kind == RN_Y_SCALAR && !strcasecmp(map->pairs[i].key->str, name))
            return true;
    return false;
}

void rn_validate_call(const rn_wf_job *caller, const rn_workflow *callee, rn_diags *d) {
    const rn_wf_event *ev = rn_workflow_event(callee, "workflow_call");
    const rn_wf_str *u = &caller->uses;
    const rn_ynode *with = caller->with;
    for (size_t i = 0; with && with->kind == RN_Y_MAP && i < with->n; i++) {
        const rn_ynode *k = with->pairs[i].key, *v = with->pairs[i].value;
        if (k->kind != RN_Y_SCALAR)
            continue;
        const rn_wf_input *in = find_input(ev, k->str);
        if (!in) {
            err(d, v, 0, 0, "Invalid input, %s is not defined in the referenced workflow.", k->str);
            continue;
        }
        if (v->kind != RN_Y_SCALAR || (v->type == RN_YS_STRING && strstr(v->str, "${{")) ||
            !in->type.s)
            continue;
        bool ok = !strcmp(in->type.s, "boolean")  ? v->type == RN_YS_BOOL
                  : !strcmp(in->type.s, "number") ? v->type == RN_YS_NUMBER
                                                  : true;
        if (!ok)
            err(d, v, 0, 0, "Unexpected value '%s'", rn_yaml_scalar_text(v));
    }
    for (size_t i = 0; ev && i < ev->n_inputs; i++) {
        const rn_wf_input *in = &ev->inputs[i];
        if (in->required && !in->default_value && in->name.s && !provided(with, in->name.s))
            err(d, u->node, u->line, u->col,
                "Input %s is required, but not provided while calling.", in->name.s);
    }
    if (caller->secrets_inherit || (caller->secrets && caller->secrets->kind != RN_Y_MAP))
        return; /* a bad secrets: value was reported by the schema reader */
    const rn_ynode *sec = caller->secrets;
    for (size_t i = 0; sec && sec->kind == RN_Y_MAP && i < sec->n; i++) {
        const rn_ynode *k = sec->pairs[i].key;
        if (k->kind == RN_Y_SCALAR && !find_secret(ev, k->str))
            err(d, sec->pairs[i].value, 0, 0,
                "Invalid secret, %s is not defined in the referenced workflow.", k->str);
    }
    for (size_t i = 0; ev && i < ev->n_secrets; i++) {
        const rn_wf_secret *s = &ev->secrets[i];
        if (s->required && s->name.s && !provided(sec, s->name.s))
            err(d, u->node, u->line, u->col,
                "Secret %s is required, but not provided while calling.", s->name.s);
    }
}

/* ---- Permissions a called workflow may request ---- */

static const char *const perm_scopes[] = {"actions",           "checks",
                                          "contents",          "deployments",
                                          "discussions",       "issues",
                                          "packages",          "pages",
                                          "pull-requests",     "repository-projects",
                                          "statuses",          "security-events",
                                          "id-token",          "attestations",
                                          "artifact-metadata", "models",
                                          "copilot-requests",  "vulnerability-alerts"};
#define N_SCOPES (sizeof perm_scopes / sizeof perm_scopes[0])

static int level_of(const char *s) {
    return !s ? 0 : !strcmp(s, "write") ? 2 : !strcmp(s, "read") ? 1 : 0;
}

/* Fills levels (0 none, 1 read, 2 write); false when n is absent or not understood. */
static bool perm_levels(const rn_ynode *n, int *lv) {
    if (!n)
        return false;
    if (n->kind == RN_Y_SCALAR) {
        int all = !strcmp(n->str, "write-all") ? 2 : !strcmp(n->str, "read-all") ? 1 : -1;
        if (all < 0)
            return false;
        for (size_t i = 0; i < N_SCOPES; i++)
            lv[i] = all;
        return true;
    }
    if (n->kind != RN_Y_MAP)
        return false;
    for (size_t i = 0; i < N_SCOPES; i++)
        lv[i] = level_of(rn_yaml_str(rn_yaml_get(n, perm_scopes[i])));
    return true;
}

static const char *level_name(int l) {
    return l == 2 ? "write" : l == 1 ? "read" : "none";
}

static bool perm_exceeds(const int *req, const int *allowed, char *req_s, char *allow_s,
                         size_t size) {
    bool bad = false;
    size_t rl = 0, al = 0;
    req_s[0] = allow_s[0] = 0;
    for (size_t i = 0; i < N_SCOPES; i++) {
        if (req[i] <= allowed[i])
            continue;
        rl += (size_t)snprintf(req_s + rl, rl < size ? size - rl : 0, "%s%s: %s", bad ? ", " : "",
                               perm_scopes[i], level_name(req[i]));
        al += (size_t)snprintf(allow_s + al, al < size ? size - al : 0, "%s%s: %s", bad ? ", " : "",
                               perm_scopes[i], level_name(allowed[i]));
        bad = true;
    }
    return bad;
}

static void check_call_permissions(const rn_workflow *caller_wf, const rn_wf_job *j,
                                   const rn_workflow *callee, rn_diags *d) {
    int allowed[N_SCOPES], req[N_SCOPES];
    if (!perm_levels(j->permissions.node, allowed) &&
        !perm_levels(caller_wf->permissions.node, allowed))
        return; /* no limit set by the caller: the default token */
    char rs[1024], as[1024];
    if (perm_levels(callee->permissions.node, req)) {
        if (perm_exceeds(req, allowed, rs, as, sizeof rs))
            rn_diag_add(d, caller_wf->file, j->line, j->col,
                        "Error calling workflow '%s'. The workflow '%s' is requesting '%s', but "
                        "is only allowed '%s'.",
                        j->uses.s, j->uses.s, rs, as);
        return;
    }
    for (size_t i = 0; i < callee->n_jobs; i++) {
        const rn_wf_job *cj = &callee->jobs[i];
        if (!perm_levels(cj->permissions.node, req))
            continue;
        if (perm_exceeds(req, allowed, rs, as, sizeof rs))
            rn_diag_add(d, caller_wf->file, j->line, j->col,
                        "Error calling workflow '%s'. The nested job '%s' is requesting '%s', but "
                        "is only allowed '%s'.",
                        j->uses.s, cj->name.s ? cj->name.s : cj->id.s, rs, as);
    }
}

static void calls_rec(rn_arena *a, const rn_workflow *wf, rn_wf_resolve_fn resolve, void *ud,
                      rn_diags *d, int depth) {
    for (size_t i = 0; i < wf->n_jobs; i++) {
        const rn_wf_job *j = &wf->jobs[i];
        if (!j->uses.s || has_expr(&j->uses) || rn_check_workflow_ref(j->uses.s))
            continue;
        char *text = NULL, *display = NULL;
        size_t len = 0;
        int r = resolve(ud, j->uses.s, wf->file, &text, &len, &display);
        if (r < 0) {
            err(d, j->uses.node, j->uses.line, j->uses.col, "%s",
                display ? display : "Unable to find the called workflow");
        } else if (r > 0 && depth >= RN_WF_MAX_CALL_DEPTH) {
            err(d, j->uses.node, j->uses.line, j->uses.col,
                "Nested reusable workflow depth exceeded %d.", RN_WF_MAX_CALL_DEPTH);
        } else if (r > 0) {
            rn_workflow *callee = rn_workflow_parse(a, display, text, len, d);
            if (callee) {
                rn_validate_call(j, callee, d);
                check_call_permissions(wf, j, callee, d);
                calls_rec(a, callee, resolve, ud, d, depth + 1);
            }
        }
        free(text);
        free(display);
    }
}

void rn_validate_calls(rn_arena *a, const rn_workflow *wf, rn_wf_resolve_fn resolve, void *ud,
                       rn_diags *diags) {
    if (wf && resolve)
        calls_rec(a, wf, resolve, ud, diags, 0);
}
