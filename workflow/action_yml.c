/* action.yml loader: schema check (validate_schema.c's action tables) plus the runs.using rules,
 * then the typed rn_action model. */
#include "workflow/action_yml.h"

#include "workflow/validate.h"

#include <string.h>

static rn_wf_str astr(const rn_ynode *n) {
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

static bool truthy(const rn_ynode *n) {
    return n && n->kind == RN_Y_SCALAR &&
           ((n->type == RN_YS_BOOL && n->boolean) ||
            (n->type == RN_YS_STRING && !strcmp(n->str, "true")));
}

rn_action *rn_action_parse(rn_arena *a, const char *file, const char *text, size_t len,
                           rn_diags *diags) {
    rn_ynode *root = rn_yaml_load(a, file, text, len, diags);
    if (!root)
        return NULL;
    rn_validate_action_schema(root, diags);
    rn_action *act = rn_arena_alloc(a, sizeof *act);
    act->file = root->file;
    act->root = root;
    act->line = root->line;
    act->col = root->col;
    if (root->kind != RN_Y_MAP)
        return act;
    act->name = astr(rn_yaml_get(root, "name"));
    act->description = astr(rn_yaml_get(root, "description"));
    act->author = astr(rn_yaml_get(root, "author"));
    const rn_ynode *ins = rn_yaml_get(root, "inputs");
    if (ins && ins->kind == RN_Y_MAP) {
        act->inputs = rn_arena_alloc(a, (ins->n + 1) * sizeof *act->inputs);
        for (size_t i = 0; i < ins->n; i++) {
            rn_action_input *in = &act->inputs[act->n_inputs++];
            const rn_ynode *v = ins->pairs[i].value;
            in->name = astr(ins->pairs[i].key);
            in->line = in->name.line;
            in->col = in->name.col;
            in->description = astr(rn_yaml_get(v, "description"));
            in->default_value = rn_yaml_get(v, "default");
            in->required = truthy(rn_yaml_get(v, "required"));
            in->deprecation_message = astr(rn_yaml_get(v, "deprecationMessage"));
        }
    }
    const rn_ynode *outs = rn_yaml_get(root, "outputs");
    if (outs && outs->kind == RN_Y_MAP) {
        act->outputs = rn_arena_alloc(a, (outs->n + 1) * sizeof *act->outputs);
        for (size_t i = 0; i < outs->n; i++) {
            rn_action_output *o = &act->outputs[act->n_outputs++];
            const rn_ynode *v = outs->pairs[i].value;
            o->name = astr(outs->pairs[i].key);
            o->line = o->name.line;
            o->col = o->name.col;
            o->description = astr(rn_yaml_get(v, "description"));
            o->value = astr(rn_yaml_get(v, "value"));
        }
    }
    const rn_ynode *runs = rn_yaml_get(root, "runs");
    if (!runs || runs->kind != RN_Y_MAP)
        return act;
    act->using = astr(rn_yaml_get(runs, "using"));
    const char *u = act->using.s ? act->using.s : "";
    if (!strcmp(u, "node12") || !strcmp(u, "node16") || !strcmp(u, "node20") ||
        !strcmp(u, "node24"))
        act->kind = RN_ACTION_NODE;
    else if (!strcmp(u, "docker"))
        act->kind = RN_ACTION_DOCKER;
    else if (!strcmp(u, "composite"))
        act->kind = RN_ACTION_COMPOSITE;
    else if (act->using.s)
        rn_diag_add(diags, file, act->using.line, act->using.col,
                    "Unexpected value '%s' for runs.using (expected node12, node16, node20, "
                    "node24, docker or composite)",
                    u);
    act->main = astr(rn_yaml_get(runs, "main"));
    act->pre = astr(rn_yaml_get(runs, "pre"));
    act->post = astr(rn_yaml_get(runs, "post"));
    act->pre_if = astr(rn_yaml_get(runs, "pre-if"));
    act->post_if = astr(rn_yaml_get(runs, "post-if"));
    act->image = astr(rn_yaml_get(runs, "image"));
    act->entrypoint = astr(rn_yaml_get(runs, "entrypoint"));
    act->pre_entrypoint = astr(rn_yaml_get(runs, "pre-entrypoint"));
    act->post_entrypoint = astr(rn_yaml_get(runs, "post-entrypoint"));
    act->args = rn_yaml_get(runs, "args");
    act->env = rn_yaml_get(runs, "env");
    rn_wf_build_steps(a, rn_yaml_get(runs, "steps"), &act->steps, &act->n_steps);
    return act;
}
