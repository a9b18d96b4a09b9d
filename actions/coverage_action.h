/* runnel/coverage@v1: the coverage gate as a built-in action (actions/step_builtin.c).
 * Inputs: reports (globs, one per line, under the workspace), minimum (percent, default 70),
 * counter (LINE|BRANCH|INSTRUCTION), element (BUNDLE|PACKAGE|CLASS|SOURCEFILE).
 * Outputs: result (passed|failed), ratio (the gated counter's bundle ratio, one decimal),
 * line, branch, instruction (bundle ratios where the reports have them).
 * Ownership: borrows j and with; adds new string values to outputs (owned by the caller). */
#ifndef RN_ACTIONS_COVERAGE_ACTION_H
#define RN_ACTIONS_COVERAGE_ACTION_H

#include "actions/step.h"

rn_step_status rn_coverage_action(rn_job *j, const char *uses, json_t *with, json_t *outputs);

#endif
