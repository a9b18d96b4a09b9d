/* Loading a local action's action.yml for the step executor.
 *
 * An adapter over workflow/yaml.h: workflow/action_yml.h declares rn_action_parse() but it is
 * not implemented yet, so this reads only what running an action needs (runs.using, main/pre/
 * post and their -if, inputs with defaults, outputs, composite steps as rn_wf_step). Switch to
 * rn_action_parse() once it lands.
 *
 * Ownership: rn_local_action_load() returns an object owning its arena (every string and the
 * YAML tree); rn_local_action_free() releases it. Owner: runnel run engineer. */
#ifndef RN_ACTIONS_STEP_ACTION_H
#define RN_ACTIONS_STEP_ACTION_H

#include "common/arena.h"
#include "workflow/model.h"
#include "workflow/yaml.h"

typedef enum rn_local_action_kind {
    RN_LACTION_NODE,
    RN_LACTION_COMPOSITE,
    RN_LACTION_DOCKER,
} rn_local_action_kind;

typedef struct rn_laction_input {
    const char *name;
    const rn_ynode *default_value; /* NULL when absent */
} rn_laction_input;

typedef struct rn_laction_output {
    const char *name;
    const char *value; /* composite: expression text; NULL for node actions */
} rn_laction_output;

typedef struct rn_local_action {
    rn_arena arena;
    const char *file; /* path of action.yml */
    const char *dir;
    const char *name;
    rn_local_action_kind kind;
    const char *using;
    const char *main, *pre, *post, *pre_if, *post_if; /* node; NULL when absent */
    rn_laction_input *inputs;
    size_t n_inputs;
    rn_laction_output *outputs;
    size_t n_outputs;
    rn_wf_step *steps; /* composite */
    size_t n_steps;
} rn_local_action;

/* Loads DIR/action.yml (or action.yaml). NULL with *err (malloc'ed) when missing or invalid,
 * with GitHub's message for a missing file. */
rn_local_action *rn_local_action_load(const char *dir, char **err);
void rn_local_action_free(rn_local_action *a);

/* Builds one step from a YAML step mapping (used for composite steps). `index` numbers
 * generated ids ("__run", "__run_2", ...). Returns false with *err (malloc'ed) when the
 * step is invalid (uses and run together, neither of them). */
bool rn_step_from_yaml(rn_arena *a, const rn_ynode *map, size_t index, rn_wf_step *out, char **err);

#endif
