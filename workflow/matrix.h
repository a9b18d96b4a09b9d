/* Strategy matrix expansion with GitHub's exact semantics (cross product in key order,
 * exclude, include, unmatched includes appended, display-name segments, 256-job limit).
 *
 * Input is the strategy's `matrix` as an already evaluated jansson object: dimension keys to
 * arrays, plus optional `include` and `exclude` arrays of objects.
 *
 * Ownership: rn_matrix_expand() fills an rn_matrix the caller releases with rn_matrix_free();
 * each leg's `values` object and `segments` string belong to the rn_matrix. The input object is
 * borrowed. Diagnostics go to the caller's rn_diags. */
#ifndef RN_MATRIX_H
#define RN_MATRIX_H

#include "common/diag.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

/* GitHub: "A matrix will generate a maximum of 256 jobs per workflow run." */
#define RN_MATRIX_MAX_JOBS 256

typedef struct rn_matrix_leg {
    json_t *values; /* the `matrix` context of this leg (object, owned) */
    /* Display-name segments joined with ", " ("ubuntu-latest, 18"), or NULL when the leg
     * contributes none. For cross-product legs only the original dimension values count
     * (include-added keys do not); for include-only legs every scalar counts. */
    char *segments;
} rn_matrix_leg;

typedef struct rn_matrix {
    rn_matrix_leg *legs;
    size_t count;
} rn_matrix;

/* Where a diagnostic lands. `path` names the offending node relative to the matrix:
 * "" (the matrix mapping), "os" (a dimension's value), "include", "include/1",
 * "exclude/0", "exclude/0/foo" (a key). The locator fills line/col; when it is NULL (or
 * returns false) the matrix position given to rn_matrix_expand() is used. */
typedef bool (*rn_matrix_locate_fn)(void *ud, const char *path, int *line, int *col);

typedef struct rn_matrix_src {
    const char *file; /* for diagnostics; may be NULL */
    int line, col;    /* position of the matrix mapping */
    rn_matrix_locate_fn locate;
    void *ud;
} rn_matrix_src;

/* Expands `matrix`. Returns true and fills *out on success. On error returns false, adds
 * one diagnostic per problem (GitHub's messages, e.g. "Matrix vector 'os' does not contain
 * any values") and leaves *out empty. */
bool rn_matrix_expand(const json_t *matrix, const rn_matrix_src *src, rn_matrix *out,
                      rn_diags *diags);
void rn_matrix_free(rn_matrix *m);

/* GitHub's default display name of a leg: "build (ubuntu-latest, 18)", or `job_name` when
 * the leg has no segments; cut to 100 characters with "..." like GitHub. A job whose `name:`
 * holds an expression is named by evaluating it instead (the caller's job). Caller frees. */
char *rn_matrix_job_name(const char *job_name, const rn_matrix_leg *leg);

/* GitHub's matrix filter equality for one leaf: `actual == literal` with expression
 * coercions (string vs number converts, strings compare case-insensitively). Exposed for
 * tests. */
bool rn_matrix_value_equals(const json_t *actual, const json_t *literal);

/* ---- From a workflow's YAML (workflow/yaml.h) ---- */
struct rn_ynode;

typedef enum rn_matrix_kind {
    RN_MATRIX_NONE,       /* no matrix: one job */
    RN_MATRIX_LITERAL,    /* expanded into *out */
    RN_MATRIX_FROM_NEEDS, /* uses ${{ }} reading `needs`: known only once those jobs ran */
    RN_MATRIX_DYNAMIC,    /* uses other ${{ }}: evaluated when the job starts */
    RN_MATRIX_ERROR,      /* diagnostics added, positioned at the offending YAML nodes */
} rn_matrix_kind;

/* Expands a strategy's raw `matrix` node when it holds no expression. `matrix` may be NULL. */
rn_matrix_kind rn_matrix_from_yaml(const struct rn_ynode *matrix, rn_matrix *out, rn_diags *diags);

#endif
