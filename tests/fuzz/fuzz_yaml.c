/* libFuzzer target: YAML load + workflow model + validation, and the action.yml path. */
#include "common/arena.h"
#include "common/diag.h"
#include "workflow/action_yml.h"
#include "workflow/model.h"

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    rn_arena a;
    rn_arena_init(&a);
    rn_diags d = RN_DIAGS_INIT;
    rn_workflow *wf = rn_workflow_parse(&a, "fuzz.yml", (const char *)data, size, &d);
    if (wf && wf->root) {
        json_t *j = rn_yaml_to_json(wf->root);
        json_decref(j);
    }
    rn_diags_sort(&d);
    rn_diags_free(&d);
    rn_action_parse(&a, "action.yml", (const char *)data, size, &d);
    rn_diags_free(&d);
    rn_arena_free(&a);
    return 0;
}
