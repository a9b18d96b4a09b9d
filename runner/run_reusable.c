/* Reusable workflows (`jobs.<id>.uses`) for `runnel run` and `runnel validate`: resolving a
 * reference (local ./ paths from the repository root, remote OWNER/REPO/PATH@REF through
 * actions/remote: --local-repository and the action cache), loading the called workflow with
 * the checks `runnel validate` makes (workflow/validate.h), and the call's contexts: inputs
 * typed and defaulted by on.workflow_call.inputs, secrets (mapped or inherited), and the
 * outputs of on.workflow_call.outputs. The scheduler side is in run_sched.c. */
#include "runner/run.h"

#include "actions/remote.h"
#include "common/strbuf.h"
#include "workflow/validate.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

static bool is_dir(const char *p) {
    struct stat st;
    return !stat(p, &st) && S_ISDIR(st.st_mode);
}

char *rn_reusable_repo_root(const char *file) {
    char *dir = rn_xstrdup(file);
    char *slash = strrchr(dir, '/');
    if (slash)
        *slash = 0;
    else
        strcpy(dir, ".");
    for (int i = 0; i < 64; i++) {
        char *probe = rn_xprintf("%s/.github", dir);
        bool found = is_dir(probe);
        free(probe);
        if (found)
            return dir;
        char *up = rn_xprintf("%s/..", dir);
        free(dir);
        dir = up;
    }
    free(dir);
    return NULL;
}

char *rn_reusable_check_ref(const char *uses) {
    const char *hint = "expected ./.github/workflows/FILE.yml or "
                       "OWNER/REPO/.github/workflows/FILE.yml@REF";
    if (!uses || !*uses)
        return rn_xprintf("invalid workflow reference '': %s", hint);
    const char *path = NULL;
    if (!strncmp(uses, "./", 2)) {
        if (strchr(uses, '@'))
            return rn_xprintf("invalid workflow reference '%s': a local workflow takes no @ref "
                              "(it is read from the same commit)",
                              uses);
        path = uses + 2;
    } else {
        rn_action_ref ar;
        char *err = NULL;
        if (!rn_action_ref_parse(uses, &ar, &err)) {
            free(err);
            return rn_xprintf("invalid workflow reference '%s': %s%s", uses,
                              strchr(uses, '@') ? "" : "no version (@REF) given; ", hint);
        }
        bool ok = !strncmp(ar.path, ".github/workflows/", 18) && !strchr(ar.path + 18, '/');
        bool ext = ok && (strlen(ar.path) > 4 && (!strcmp(ar.path + strlen(ar.path) - 4, ".yml") ||
                                                  !strcmp(ar.path + strlen(ar.path) - 5, ".yaml")));
        rn_action_ref_free(&ar);
        if (!ext)
            return rn_xprintf("invalid workflow reference '%s': %s", uses, hint);
        return NULL;
    }
    size_t n = strlen(path);
    if (strncmp(path, ".github/workflows/", 18) || strchr(path + 18, '/') ||
        !(n > 22 && (!strcmp(path + n - 4, ".yml") || !strcmp(path + n - 5, ".yaml"))))
        return rn_xprintf("invalid workflow reference '%s': %s", uses, hint);
    return NULL;
}

int rn_reusable_resolve_in(const rn_reusable_src *src, const char *root, const char *uses,
                           char **text, size_t *len, char **display, char **callee_root) {
    char *path = NULL, *base = NULL;
    *text = NULL;
    *display = NULL;
    if (callee_root)
        *callee_root = NULL;
    if (!strncmp(uses, "./", 2)) {
        if (!root) {
            *display = rn_xprintf("Cannot find the repository root (a folder holding .github) "
                                  "to resolve '%s'",
                                  uses);
            return -1;
        }
        base = rn_xstrdup(root);
        path = !strcmp(root, ".") ? rn_xstrdup(uses + 2) : rn_xprintf("%s/%s", root, uses + 2);
    } else {
        rn_action_ref ar;
        char *err = NULL;
        if (!rn_action_ref_parse(uses, &ar, &err)) {
            free(err); /* not a reference: the schema reader reports it */
            return 0;
        }
        char *owner_repo = rn_xprintf("%s/%s", ar.owner, ar.repo);
        const char *local =
            src->remote ? rn_remote_local_dir(src->remote, owner_repo, ar.ref) : NULL;
        if (local) {
            base = rn_xstrdup(local);
        } else if (src->fetch && src->remote) {
            base = rn_remote_fetch(src->remote, ar.owner, ar.repo, ar.ref, NULL, &err);
            if (!base) {
                *display = rn_xprintf("failed to fetch workflow %s@%s: %s", owner_repo, ar.ref,
                                      err ? err : "unknown error");
                free(err);
                free(owner_repo);
                rn_action_ref_free(&ar);
                return -1;
            }
        }
        free(owner_repo);
        if (base)
            path = *ar.path ? rn_xprintf("%s/%s", base, ar.path) : rn_xstrdup(base);
        rn_action_ref_free(&ar);
        if (!path)
            return 0; /* remote, not fetched: cannot be checked offline */
    }
    /* shown relative to the current folder (the repository, usually) when inside it */
    char cwd[4096];
    size_t cl = getcwd(cwd, sizeof cwd) ? strlen(cwd) : 0;
    if (cl > 1 && !strncmp(path, cwd, cl) && path[cl] == '/') {
        char *rel = rn_xstrdup(path + cl + 1);
        free(path);
        path = rel;
    }
    *text = rn_read_file(path, len);
    if (!*text) {
        *display = rn_xprintf("Unable to read the called workflow '%s' (%s): %s", uses, path,
                              strerror(errno));
        free(path);
        free(base);
        return -1;
    }
    *display = path;
    if (callee_root)
        *callee_root = base;
    else
        free(base);
    return 1;
}

int rn_reusable_resolve(void *ud, const char *uses, const char *caller_file, char **text,
                        size_t *len, char **display) {
    const rn_reusable_src *src = ud;
    char *root = NULL;
    if (!strncmp(uses, "./", 2)) {
        root = rn_reusable_repo_root(caller_file);
        if (!root && src->root)
            root = rn_xstrdup(src->root);
        if (!root) {
            *display = rn_xprintf("Cannot find the repository root (a folder holding .github) "
                                  "of '%s' to resolve '%s'",
                                  caller_file, uses);
            return -1;
        }
    }
    int rc = rn_reusable_resolve_in(src, root, uses, text, len, display, NULL);
    free(root);
    return rc;
}

static void diags_to_text(rn_diags *d, rn_sb *sb) {
    rn_diags_sort(d);
    for (size_t i = 0; i < d->count; i++) {
        char *m = rn_diag_format_cli(&d->items[i]);
        rn_sb_printf(sb, "%s%s", sb->len ? "\n" : "", m);
        free(m);
    }
}

int rn_reusable_load(const rn_reusable_src *src, const char *root, const rn_wf_job *caller,
                     const char *caller_file, const char *uses, const char *display_name,
                     rn_run_wf *w, char **callee_root, char **err) {
    memset(w, 0, sizeof *w);
    rn_arena_init(&w->arena);
    *err = NULL;
    const rn_wf_str *u = &caller->uses;
    char *bad = rn_reusable_check_ref(uses);
    if (bad) {
        *err = rn_xprintf("%s:%d:%d: %s", caller_file, u->line, u->col, bad);
        free(bad);
        return -1;
    }
    size_t len = 0;
    char *display = NULL;
    int rc = rn_reusable_resolve_in(src, root, uses, &w->text, &len, &display, callee_root);
    if (rc <= 0) {
        *err = rn_xprintf("%s:%d:%d: %s", caller_file, u->line, u->col,
                          display ? display : "Unable to find the called workflow");
        free(display);
        return -1;
    }
    w->file = display;
    rn_diags d = RN_DIAGS_INIT;
    w->wf = rn_workflow_parse(&w->arena, w->file, w->text, len, &d);
    if (w->wf && !rn_workflow_event(w->wf, "workflow_call"))
        rn_diag_add(&d, caller_file, u->line, u->col,
                    "The workflow '%s' is not reusable: its on: lacks workflow_call", uses);
    if (w->wf && !d.count)
        rn_validate_call(caller, w->wf, &d);
    if (w->wf && !d.count)
        rn_wf_plan_build(w->wf, &w->plan, &d);
    if (!w->wf || d.count) {
        rn_sb sb = RN_SB_INIT;
        diags_to_text(&d, &sb);
        if (!sb.len)
            rn_sb_printf(&sb, "%s: cannot load the called workflow", w->file);
        *err = rn_sb_take(&sb);
        rn_diags_free(&d);
        return -1;
    }
    rn_diags_free(&d);
    w->display = rn_xstrdup(display_name);
    w->selected = rn_xcalloc(w->wf->n_jobs + 1, sizeof *w->selected);
    for (size_t i = 0; i < w->wf->n_jobs; i++)
        w->selected[i] = true;
    return 0;
}

/* A value converted to an input's declared type; NULL with *err when it does not fit. */
static json_t *typed(const rn_wf_input *in, json_t *v, char **err) {
    const char *type = in->type.s;
    if (!type || (strcmp(type, "boolean") && strcmp(type, "number") && strcmp(type, "string")))
        return json_incref(v);
    if (!strcmp(type, "boolean")) {
        if (json_is_boolean(v))
            return json_incref(v);
        if (json_is_string(v) && (!strcasecmp(json_string_value(v), "true") ||
                                  !strcasecmp(json_string_value(v), "false")))
            return json_boolean(!strcasecmp(json_string_value(v), "true"));
    } else if (!strcmp(type, "number")) {
        if (json_is_number(v))
            return json_incref(v);
        if (json_is_string(v) && *json_string_value(v)) {
            char *end;
            double d = strtod(json_string_value(v), &end);
            if (!*end && !isnan(d))
                return json_real(d);
        }
    } else {
        if (json_is_string(v))
            return json_incref(v);
        if (!json_is_object(v) && !json_is_array(v)) {
            char *s = rn_value_to_string(v);
            json_t *r = json_string(s);
            free(s);
            return r;
        }
    }
    char *s = json_is_string(v) ? rn_xstrdup(json_string_value(v)) : rn_value_to_string(v);
    *err = rn_xprintf("Unexpected value '%s' for input '%s' (type %s)", s, in->name.s, type);
    free(s);
    return NULL;
}

json_t *rn_reusable_inputs(rn_job *ej, const rn_wf_job *caller, const char *caller_file,
                           const rn_workflow *callee, char **err) {
    const rn_wf_event *ev = rn_workflow_event(callee, "workflow_call");
    json_t *inputs = json_object();
    const rn_ynode *with = caller->with;
    for (size_t i = 0; ev && i < ev->n_inputs; i++) {
        const rn_wf_input *in = &ev->inputs[i];
        const rn_ynode *given = NULL;
        for (size_t k = 0; with && with->kind == RN_Y_MAP && k < with->n; k++)
            if (with->pairs[k].key->kind == RN_Y_SCALAR &&
                !strcasecmp(with->pairs[k].key->str, in->name.s))
                given = with->pairs[k].value;
        const rn_ynode *src = given ? given : in->default_value;
        json_t *v;
        char *e = NULL;
        if (src) {
            v = rn_job_eval_node(ej, src, &e);
            if (!v) {
                *err = rn_xprintf("%s:%d:%d: input '%s': %s", src->file ? src->file : caller_file,
                                  src->line, src->col, in->name.s, e);
                free(e);
                json_decref(inputs);
                return NULL;
            }
        } else {
            const char *t = in->type.s ? in->type.s : "string";
            v = !strcmp(t, "boolean")  ? json_false()
                : !strcmp(t, "number") ? json_integer(0)
                                       : json_string("");
        }
        json_t *tv = typed(in, v, &e);
        json_decref(v);
        if (!tv) {
            int line = src ? src->line : caller->uses.line, col = src ? src->col : caller->uses.col;
            *err = rn_xprintf("%s:%d:%d: %s", src && src->file ? src->file : caller_file, line, col,
                              e);
            free(e);
            json_decref(inputs);
            return NULL;
        }
        json_object_set_new(inputs, in->name.s, tv);
    }
    return inputs;
}

json_t *rn_reusable_secrets(rn_mask *mask, rn_job *ej, const rn_wf_job *caller,
                            const char *caller_file, json_t *caller_secrets, char **err) {
    json_t *out = json_object();
    const char *k;
    json_t *v;
    if (caller->secrets_inherit) {
        json_object_update(out, caller_secrets);
    } else if (caller->secrets && caller->secrets->kind == RN_Y_MAP) {
        const rn_ynode *m = caller->secrets;
        for (size_t i = 0; i < m->n; i++) {
            const rn_ynode *key = m->pairs[i].key, *val = m->pairs[i].value;
            if (key->kind != RN_Y_SCALAR)
                continue;
            char *e = NULL;
            json_t *r = rn_job_eval_node(ej, val, &e);
            if (!r) {
                *err = rn_xprintf("%s:%d:%d: secret '%s': %s", val->file ? val->file : caller_file,
                                  val->line, val->col, key->str, e);
                free(e);
                json_decref(out);
                return NULL;
            }
            char *s = json_is_string(r) ? rn_xstrdup(json_string_value(r)) : rn_value_to_string(r);
            json_decref(r);
            if (*s)
                rn_mask_add(mask, s); /* a secret in the called workflow, whatever its source */
            json_object_set_new(out, key->str, json_string(s));
            free(s);
        }
    }
    /* GITHUB_TOKEN is always there */
    v = json_object_get(caller_secrets, "GITHUB_TOKEN");
    k = "GITHUB_TOKEN";
    if (v && !json_object_get(out, k))
        json_object_set(out, k, v);
    return out;
}

json_t *rn_reusable_outputs(rn_job *ej, const rn_workflow *callee, char **warn) {
    const rn_wf_event *ev = rn_workflow_event(callee, "workflow_call");
    json_t *out = json_object();
    rn_sb sb = RN_SB_INIT;
    for (size_t i = 0; ev && i < ev->n_outputs; i++) {
        const rn_wf_output *o = &ev->outputs[i];
        if (!o->name.s)
            continue;
        char *e = NULL;
        char *s = rn_job_eval_str(ej, o->value.s ? o->value.s : "", &e);
        if (!s) {
            rn_sb_printf(&sb, "%s%s:%d:%d: output '%s': %s", sb.len ? "\n" : "", callee->file,
                         o->value.line ? o->value.line : o->line,
                         o->value.line ? o->value.col : o->col, o->name.s, e);
            free(e);
            continue;
        }
        json_object_set_new(out, o->name.s, json_string(s));
        free(s);
    }
    *warn = sb.len ? rn_sb_take(&sb) : NULL;
    rn_sb_free(&sb);
    return out;
}
