/* Workflow validation, GitHub's way: a schema-driven reader (validate_schema.c, C tables of
 * the workflow-v1.0 schema: types, properties, allowed expression contexts) and the semantic
 * checks GitHub's converter makes (validate.c: ids, needs, cycles, uses format, matrix, ...).
 *
 * Ownership: diagnostics are appended to the caller's rn_diags; nothing else is allocated
 * beyond the call (the schema tables are static). */
#ifndef RN_VALIDATE_H
#define RN_VALIDATE_H

#include "common/diag.h"
#include "workflow/expr.h"
#include "workflow/model.h"
#include "workflow/yaml.h"

/* Checks a loaded workflow tree against the schema: unknown keys, wrong types, duplicate keys,
 * required properties, and every ${{ }} parsed with the contexts allowed for its key. */
void rn_validate_schema(const rn_ynode *root, rn_diags *diags);

/* Checks an action.yml tree (action metadata schema; composite steps use the workflow step
 * rules with the contexts of a composite action). */
void rn_validate_action_schema(const rn_ynode *root, rn_diags *diags);

/* Semantic checks over a built model: job/step ids, needs (unknown jobs, cycles, no start
 * node), runs-on groups, step uses format, empty matrix vectors, if: expressions. */
void rn_validate_workflow(const rn_workflow *wf, rn_diags *diags);

/* Checks the form of a job-level `uses:` (./path or owner/repo/path@ref). Returns NULL when
 * well-formed, else GitHub's message (static). */
const char *rn_check_workflow_ref(const char *uses);

/* Named scopes for expression parsing (the context lists of the schema). */
typedef enum rn_scope_id { RN_SCOPE_JOB_IF, RN_SCOPE_STEP_IF, RN_SCOPE_COUNT } rn_scope_id;
const rn_expr_scope *rn_validate_scope(rn_scope_id id);

/* A called workflow for rn_validate_call(): its model, or NULL when it could not be loaded. */
void rn_validate_call(const rn_wf_job *caller, const rn_workflow *callee, rn_diags *diags);

/* Resolves a job-level `uses:` for rn_validate_calls(). Returns 1 with *text (malloc'ed, caller
 * frees), *len and *display (malloc'ed path shown in messages) set; 0 when the reference cannot
 * be checked locally (skipped); -1 when it should exist but does not (*display holds a reason). */
typedef int (*rn_wf_resolve_fn)(void *ud, const char *uses, const char *caller_file, char **text,
                                size_t *len, char **display);

/* How deep reusable workflow calls may nest: a workflow at this depth (the top-level one is at
 * 0) may not call another ("Nested reusable workflow depth exceeded 10."). */
#define RN_WF_MAX_CALL_DEPTH 10

/* Loads every workflow called by wf's jobs (recursively, up to 10 levels), validates each
 * and checks the caller's with:/secrets: against the callee's workflow_call. Called workflows
 * are allocated in a. */
void rn_validate_calls(rn_arena *a, const rn_workflow *wf, rn_wf_resolve_fn resolve, void *ud,
                       rn_diags *diags);

#endif
