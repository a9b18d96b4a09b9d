/* Internals shared by the expression engine's files (workflow/expr*.c). Not a public API.
 *
 * Ownership: AST nodes live in the rn_expr's arena and die with rn_expr_free(). Evaluation
 * values (ev_val) borrow from the AST, the contexts, or the evaluation's own arena/owned list,
 * all of which live until rn_expr_eval() returns. */
#ifndef RN_EXPR_INTERNAL_H
#define RN_EXPR_INTERNAL_H

#include "common/arena.h"
#include "common/strbuf.h"
#include "workflow/expr.h"

#include <stdint.h>

/* GitHub's limits (runner src/Sdk/Expressions/ExpressionConstants.cs). */
enum {
    RN_EXPR_MAX_DEPTH = 50,
    RN_EXPR_MAX_LENGTH = 21000,
    RN_EXPR_DEFAULT_MEMORY = 1024 * 1024,
};

typedef enum ev_kind { K_NULL, K_BOOL, K_NUM, K_STR, K_ARR, K_OBJ } ev_kind;

typedef enum node_type {
    N_NULL,
    N_BOOL,
    N_NUM,
    N_STR,
    N_CTX,
    N_INDEX, /* args[0][args[1]]; args[1] NULL for a '*' wildcard */
    N_NOT,
    N_AND,
    N_OR,
    N_EQ,
    N_NE,
    N_LT,
    N_LE,
    N_GT,
    N_GE,
    N_CALL,
} node_type;

typedef enum builtin_fn {
    F_HOST = 0,
    F_CONTAINS,
    F_STARTSWITH,
    F_ENDSWITH,
    F_FORMAT,
    F_JOIN,
    F_TOJSON,
    F_FROMJSON,
    F_CASE,
} builtin_fn;

typedef struct node {
    uint8_t type;
    uint8_t fn;     /* builtin_fn for N_CALL */
    uint8_t height; /* tree depth below and including this node, saturated at 255 */
    bool b;
    double num;
    const char *str; /* N_STR value, N_CTX name, N_CALL name (as written) */
    size_t len;
    struct node **args;
    uint32_t nargs, cap;
} node;

struct rn_expr {
    rn_arena arena;
    node *root; /* NULL for an empty expression */
    char *text;
};

/* A filtered array (the result of .* / [*]): borrowed json_t items. */
typedef struct farr {
    json_t **items;
    size_t n, cap;
} farr;

typedef struct ev_val {
    uint8_t k;
    bool filtered; /* K_ARR backed by .fa instead of .j */
    union {
        bool b;
        double n;
        struct {
            const char *p;
            size_t len;
        } s;
        json_t *j;
        farr *fa;
    } u;
} ev_val;

/* ---- expr_value.c ---- */
/* .NET's Double.TryParse + hex/octal rules (ExpressionUtility.ParseNumber). */
double rn_expr_parse_number(const char *s, size_t len);
/* OrdinalIgnoreCase on byte ranges. */
int rn_expr_icmp_n(const char *a, size_t alen, const char *b, size_t blen);
bool rn_expr_ieq_n(const char *a, size_t alen, const char *b, size_t blen);
/* Uppercases a UTF-8 string into UTF-16 units (arena). Returns the unit count. */
size_t rn_expr_fold16(rn_arena *a, const char *s, size_t len, uint16_t **out);
/* UTF-16 length of UTF-8 text (for positions and memory accounting). */
size_t rn_expr_utf16_len(const char *s, size_t len);
json_t *rn_expr_iget_n(const json_t *obj, const char *key, size_t len);
/* Newtonsoft JsonConvert.ToString(string). */
void rn_expr_json_quote(rn_sb *sb, const char *s, size_t len);
/* Unicode whitespace as .NET Char.IsWhiteSpace; *n gets the byte length of the sequence. */
bool rn_expr_is_space(const char *s, size_t len, size_t *n);
/* A jansson real holding any double, NaN and infinities included. */
json_t *rn_expr_json_number(double d);

#endif
