/* action.yml reader for local actions (see step_action.h for why it is an adapter). */
#include "actions/step_action.h"

#include "common/strbuf.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static rn_wf_str wstr(const rn_ynode *n) {
    rn_wf_str s = {0};
    if (n && n->kind == RN_Y_SCALAR) {
        s.s = n->str;
        s.line = n->line;
        s.col = n->col;
        s.node = n;
    }
    return s;
}

bool rn_step_from_yaml(rn_arena *a, const rn_ynode *map, size_t index, rn_wf_step *out,
                       char **err) {
    memset(out, 0, sizeof *out);
    if (!map || map->kind != RN_Y_MAP) {
        *err = rn_xprintf("%s:%d:%d: a step must be a mapping", map ? map->file : "?",
                          map ? map->line : 0, map ? map->col : 0);
        return false;
    }
    out->line = map->line;
    out->col = map->col;
    out->id = wstr(rn_yaml_get(map, "id"));
    out->name = wstr(rn_yaml_get(map, "name"));
    out->if_raw = wstr(rn_yaml_get(map, "if"));
    out->if_cond = out->if_raw;
    out->uses = wstr(rn_yaml_get(map, "uses"));
    out->run = wstr(rn_yaml_get(map, "run"));
    out->shell = wstr(rn_yaml_get(map, "shell"));
    out->working_directory = wstr(rn_yaml_get(map, "working-directory"));
    out->with = rn_yaml_get(map, "with");
    out->env = rn_yaml_get(map, "env");
    out->continue_on_error = rn_yaml_get(map, "continue-on-error");
    out->timeout_minutes = rn_yaml_get(map, "timeout-minutes");
    if (out->uses.s && out->run.s) {
        *err = rn_xprintf("%s:%d:%d: a step cannot have both the `uses` and `run` keys", map->file,
                          map->line, map->col);
        return false;
    }
    if (!out->uses.s && !out->run.s) {
        *err = rn_xprintf("%s:%d:%d: a step must have either `uses` or `run`", map->file, map->line,
                          map->col);
        return false;
    }
    out->kind = out->uses.s ? RN_STEP_USES : RN_STEP_RUN;
    if (!out->id.s) {
        out->id_generated = true;
        out->id.s = index ? rn_arena_printf(a, "__run_%zu", index + 1) : "__run";
    }
    return true;
}

static const char *scalar(const rn_ynode *map, const char *key) {
    return rn_yaml_str(rn_yaml_get(map, key));
}

rn_local_action *rn_local_action_load(const char *dir, char **err) {
    char *file = rn_xprintf("%s/action.yml", dir);
    size_t len = 0;
    char *text = rn_read_file(file, &len);
    if (!text) {
        free(file);
        file = rn_xprintf("%s/action.yaml", dir);
        text = rn_read_file(file, &len);
    }
    if (!text) {
        free(file);
        *err = rn_xprintf("Can't find 'action.yml', 'action.yaml' or 'Dockerfile' under '%s'. "
                          "Did you forget to run actions/checkout before running your local "
                          "action?",
                          dir);
        return NULL;
    }
    rn_local_action *la = rn_xcalloc(1, sizeof *la);
    rn_arena_init(&la->arena);
    la->file = rn_arena_strdup(&la->arena, file);
    la->dir = rn_arena_strdup(&la->arena, dir);
    free(file);
    rn_diags diags = RN_DIAGS_INIT;
    /* the YAML tree keeps pointers into its own arena copies, so the text can go */
    rn_ynode *root = rn_yaml_load(&la->arena, la->file, text, len, &diags);
    free(text);
    if (!root || root->kind != RN_Y_MAP) {
        if (diags.count) {
            *err = rn_diag_format_cli(&diags.items[0]);
        } else {
            *err = rn_xprintf("%s: not a mapping", la->file);
        }
        rn_diags_free(&diags);
        rn_local_action_free(la);
        return NULL;
    }
    rn_diags_free(&diags);
    la->name = scalar(root, "name");
    const rn_ynode *runs = rn_yaml_get(root, "runs");
    la->using = scalar(runs, "using");
    if (!la->using) {
        *err = rn_xprintf("%s: `runs.using` is missing", la->file);
        rn_local_action_free(la);
        return NULL;
    }
    const rn_ynode *inputs = rn_yaml_get(root, "inputs");
    if (inputs && inputs->kind == RN_Y_MAP) {
        la->inputs = rn_arena_alloc(&la->arena, (inputs->n + 1) * sizeof *la->inputs);
        for (size_t i = 0; i < inputs->n; i++) {
            la->inputs[i].name = inputs->pairs[i].key->str;
            la->inputs[i].default_value = rn_yaml_get(inputs->pairs[i].value, "default");
        }
        la->n_inputs = inputs->n;
    }
    const rn_ynode *outputs = rn_yaml_get(root, "outputs");
    if (outputs && outputs->kind == RN_Y_MAP) {
        la->outputs = rn_arena_alloc(&la->arena, (outputs->n + 1) * sizeof *la->outputs);
        for (size_t i = 0; i < outputs->n; i++) {
            la->outputs[i].name = outputs->pairs[i].key->str;
            la->outputs[i].value = scalar(outputs->pairs[i].value, "value");
        }
        la->n_outputs = outputs->n;
    }
    if (!strncasecmp(la->using, "node", 4)) {
        la->kind = RN_LACTION_NODE;
        la->main = scalar(runs, "main");
        la->pre = scalar(runs, "pre");
        la->post = scalar(runs, "post");
        la->pre_if = scalar(runs, "pre-if");
        la->post_if = scalar(runs, "post-if");
        if (!la->main) {
            *err = rn_xprintf("%s: `runs.main` is missing", la->file);
            rn_local_action_free(la);
            return NULL;
        }
    } else if (!strcasecmp(la->using, "composite")) {
        la->kind = RN_LACTION_COMPOSITE;
        const rn_ynode *steps = rn_yaml_get(runs, "steps");
        if (!steps || steps->kind != RN_Y_SEQ) {
            *err = rn_xprintf("%s: `runs.steps` is missing", la->file);
            rn_local_action_free(la);
            return NULL;
        }
        la->steps = rn_arena_alloc(&la->arena, (steps->n + 1) * sizeof *la->steps);
        for (size_t i = 0; i < steps->n; i++)
            if (!rn_step_from_yaml(&la->arena, steps->items[i], i, &la->steps[i], err)) {
                rn_local_action_free(la);
                return NULL;
            }
        la->n_steps = steps->n;
    } else if (!strcasecmp(la->using, "docker")) {
        la->kind = RN_LACTION_DOCKER;
    } else {
        *err = rn_xprintf("%s: unknown `runs.using` '%s' (expected node12, node16, node20, "
                          "node24, composite or docker)",
                          la->file, la->using);
        rn_local_action_free(la);
        return NULL;
    }
    return la;
}

void rn_local_action_free(rn_local_action *a) {
    if (!a)
        return;
    rn_arena_free(&a->arena);
    free(a);
}
