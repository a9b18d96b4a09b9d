/* GitHub Actions expression language: ${{ }} lexer, parser, evaluator.
 *
 * Values are jansson json_t. Objects keep insertion order; every lookup by key is
 * case-insensitive (GitHub's OrdinalIgnoreCase). Numbers are always JSON reals (doubles).
 *
 * Ownership: rn_expr_parse() returns a tree the caller frees with rn_expr_free().
 * rn_expr_eval() returns a new reference (json_decref) or NULL with *err filled.
 * Contexts passed in are borrowed for the duration of the call. */
#ifndef RN_EXPR_H
#define RN_EXPR_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

typedef enum rn_expr_err_kind {
    RN_EXPR_OK = 0,
    RN_EXPR_LEXING,
    RN_EXPR_PARSING,
    RN_EXPR_EVALUATION,
} rn_expr_err_kind;

typedef struct rn_expr_error {
    rn_expr_err_kind kind;
    /* GitHub's text, e.g. "Unexpected symbol: 'x'. Located at position 5 within expression: a x" */
    char message[1024];
} rn_expr_error;

/* A function the host provides beyond the built-ins (contains, startsWith, endsWith, format,
 * join, toJSON, fromJSON, case): status functions, hashFiles. */
typedef struct rn_expr_func {
    const char *name; /* matched case-insensitively */
    int min_args, max_args;
} rn_expr_func;

/* What a parse accepts: named values (contexts) and extra functions. Anything else is a
 * parse error ("Unrecognized named-value: 'x'", "Unrecognized function: 'f'"). */
typedef struct rn_expr_scope {
    const char *const *named_values;
    size_t n_named_values;
    const rn_expr_func *funcs;
    size_t n_funcs;
} rn_expr_scope;

typedef struct rn_expr rn_expr;

rn_expr *rn_expr_parse(const char *text, const rn_expr_scope *scope, rn_expr_error *err);
void rn_expr_free(rn_expr *e);
/* True when the tree calls success/failure/cancelled/always anywhere (for the if: rewrite). */
bool rn_expr_calls_status_function(const rn_expr *e);

/* Host callback for rn_expr_func entries. Returns a new reference, or NULL after filling
 * err (kind RN_EXPR_EVALUATION, message without the position suffix). */
typedef json_t *(*rn_expr_call_fn)(void *ud, const char *name, json_t *const *args, size_t nargs,
                                   rn_expr_error *err);

typedef struct rn_expr_eval_ctx {
    json_t *contexts; /* object: context name -> value; borrowed */
    rn_expr_call_fn call;
    void *ud;
    size_t max_memory; /* bytes; 0 means GitHub's 1 MB */
} rn_expr_eval_ctx;

json_t *rn_expr_eval(const rn_expr *e, const rn_expr_eval_ctx *ctx, rn_expr_error *err);

/* Convenience: parse + evaluate one expression text. */
json_t *rn_expr_evaluate(const char *text, const rn_expr_scope *scope, const rn_expr_eval_ctx *ctx,
                         rn_expr_error *err);

/* ---- Value helpers with GitHub's coercions ---- */
bool rn_value_truthy(const json_t *v);
/* String form: G15 numbers, "Array"/"Object", null -> "". Caller frees. */
char *rn_value_to_string(const json_t *v);
/* Number form (NaN for arrays/objects and unparsable strings). */
double rn_value_to_number(const json_t *v);
/* Formats a double like .NET's G15 ("1E+15", "0.84551240822557", "-0" -> "0"). Needs 32 bytes. */
void rn_number_format(double d, char *buf, size_t size);
/* toJSON(): 2-space indent, "\n", no trailing newline. Caller frees. */
char *rn_value_to_json(const json_t *v);
/* "Null", "Boolean", "Number", "String", "Array", "Object". */
const char *rn_value_kind(const json_t *v);
/* Case-insensitive lookup in an object (first match wins); borrowed or NULL. */
json_t *rn_object_iget(const json_t *obj, const char *key);
/* GitHub's ordinal-ignore-case string comparison (<0, 0, >0). */
int rn_str_icmp(const char *a, const char *b);

/* ---- Templates: YAML scalars with zero or more ${{ }} segments ---- */
typedef struct rn_tmpl rn_tmpl;
/* Returns NULL with err filled on a bad expression or an unclosed "${{". Caller frees. */
rn_tmpl *rn_tmpl_parse(const char *text, const rn_expr_scope *scope, rn_expr_error *err);
void rn_tmpl_free(rn_tmpl *t);
bool rn_tmpl_is_literal(const rn_tmpl *t); /* no ${{ }} at all */
/* A value that is exactly one "${{ x }}" yields x's value as is; otherwise the literal
 * parts and each expression's string form are concatenated into a String. */
json_t *rn_tmpl_eval(const rn_tmpl *t, const rn_expr_eval_ctx *ctx, rn_expr_error *err);
/* Number of expression segments and each one's parsed tree (borrowed). */
size_t rn_tmpl_expr_count(const rn_tmpl *t);
const rn_expr *rn_tmpl_expr_at(const rn_tmpl *t, size_t i);

#endif
