/* YAML loader: libyaml events -> a node tree where every node keeps its 1-based line:col.
 *
 * Scalars are resolved with the YAML 1.2 core schema (what GitHub's parser uses): null, bool,
 * number (int and float forms) or string. Aliases point at the anchored node (shared, not
 * copied); merge keys (`<<`) are expanded into the mapping. Pairs keep document order and
 * duplicates (duplicate detection is the schema reader's job, as GitHub reports it there).
 *
 * Ownership: every node, string and array lives in the rn_arena passed to rn_yaml_load();
 * rn_arena_free() releases the whole tree. Errors go to the caller's rn_diags. */
#ifndef RN_YAML_H
#define RN_YAML_H

#include "common/arena.h"
#include "common/diag.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

typedef enum rn_ynode_kind { RN_Y_SCALAR, RN_Y_SEQ, RN_Y_MAP } rn_ynode_kind;

/* Core-schema type of a scalar (after any explicit !!tag). */
typedef enum rn_yscalar_type {
    RN_YS_NULL,
    RN_YS_BOOL,
    RN_YS_NUMBER,
    RN_YS_STRING,
} rn_yscalar_type;

typedef enum rn_yscalar_style {
    RN_YSTYLE_PLAIN,
    RN_YSTYLE_SINGLE,
    RN_YSTYLE_DOUBLE,
    RN_YSTYLE_LITERAL,
    RN_YSTYLE_FOLDED,
} rn_yscalar_style;

typedef struct rn_ynode rn_ynode;
typedef struct rn_ypair {
    rn_ynode *key, *value;
} rn_ypair;

struct rn_ynode {
    rn_ynode_kind kind;
    const char *file; /* as given to rn_yaml_load */
    int line, col;    /* 1-based start of the node */
    /* RN_Y_SCALAR */
    const char *str; /* scalar text as written (after YAML unescaping); never NULL */
    size_t len;
    rn_yscalar_type type;
    rn_yscalar_style style;
    bool boolean;  /* RN_YS_BOOL */
    double number; /* RN_YS_NUMBER */
    /* RN_Y_SEQ: items; RN_Y_MAP: pairs */
    rn_ynode **items;
    rn_ypair *pairs;
    size_t n; /* item or pair count */
};

/* Parses one YAML document. Returns the root (an empty document gives a null scalar) or NULL
 * after adding at least one diagnostic (syntax errors, invalid UTF-8, unsupported tags,
 * more than one document). */
rn_ynode *rn_yaml_load(rn_arena *a, const char *file, const char *text, size_t len,
                       rn_diags *diags);

/* Mapping lookup by exact key; NULL when absent or when map is not a mapping. */
rn_ynode *rn_yaml_get(const rn_ynode *map, const char *key);
/* Scalar text, or NULL for a non-scalar/NULL node. */
const char *rn_yaml_str(const rn_ynode *n);
/* True for a missing node or a null scalar. */
bool rn_yaml_is_null(const rn_ynode *n);
/* JSON rendering (null/bool/real/string/array/object); new reference. */
json_t *rn_yaml_to_json(const rn_ynode *n);
/* The scalar's text as GitHub prints a literal in messages ("true", G15 numbers, "" for null). */
const char *rn_yaml_scalar_text(const rn_ynode *n);

#endif
