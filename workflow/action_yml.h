/* action.yml / action.yaml model: metadata of a JavaScript, Docker or composite action.
 *
 * Ownership: everything lives in the rn_arena passed to rn_action_parse(); rn_arena_free()
 * releases it. Raw YAML nodes (workflow/yaml.h) are kept for free-form values. */
#ifndef RN_ACTION_YML_H
#define RN_ACTION_YML_H

#include "workflow/model.h"

typedef enum rn_action_kind {
    RN_ACTION_UNKNOWN,
    RN_ACTION_NODE, /* using: node12 / node16 / node20 / node24 */
    RN_ACTION_DOCKER,
    RN_ACTION_COMPOSITE,
} rn_action_kind;

typedef struct rn_action_input {
    rn_wf_str name, description;
    const rn_ynode *default_value; /* raw; may hold expressions; NULL when absent */
    bool required;
    rn_wf_str deprecation_message;
    int line, col;
} rn_action_input;

typedef struct rn_action_output {
    rn_wf_str name, description;
    rn_wf_str value; /* composite actions: expression text */
    int line, col;
} rn_action_output;

typedef struct rn_action {
    const char *file;
    const rn_ynode *root;
    rn_wf_str name, description, author;
    rn_action_input *inputs;
    size_t n_inputs;
    rn_action_output *outputs;
    size_t n_outputs;
    rn_action_kind kind;
    rn_wf_str using; /* "node20", "docker", "composite", ... as written */
    /* node */
    rn_wf_str main, pre, post, pre_if, post_if;
    /* docker */
    rn_wf_str image, entrypoint, pre_entrypoint, post_entrypoint;
    const rn_ynode *args; /* raw sequence */
    const rn_ynode *env;  /* raw mapping */
    /* composite */
    rn_wf_step *steps;
    size_t n_steps;
    int line, col;
} rn_action;

/* Loads and checks an action.yml. Errors (missing runs/using, unknown using, missing main,
 * image or steps, unknown keys) go to diags; returns NULL only when the YAML cannot be read. */
rn_action *rn_action_parse(rn_arena *a, const char *file, const char *text, size_t len,
                           rn_diags *diags);

#endif
