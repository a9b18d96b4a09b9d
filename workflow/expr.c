/* ${{ }} lexer and parser.
 *
 * Error kinds follow GitHub's cross-language vectors: the whole text is lexed first (bad
 * characters, numbers, identifiers, unclosed strings are *lexing* errors), then a recursive
 * descent parser reports *parsing* errors. The tree matches GitHub's C# engine (And/Or chains are
 * flattened; groupings are not nodes), so its depth check ("Exceeded max expression depth 50")
 * counts exactly what the runner counts. */
#include "workflow/expr_internal.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef enum tok_type {
    T_LPAREN,
    T_RPAREN,
    T_LBRACKET,
    T_RBRACKET,
    T_COMMA,
    T_DOT,
    T_BANG,
    T_NE,
    T_EQ,
    T_GT,
    T_GE,
    T_LT,
    T_LE,
    T_AND,
    T_OR,
    T_STAR,
    T_NUMBER,
    T_STRING,
    T_IDENT,
    T_TRUE,
    T_FALSE,
    T_NULL,
    T_EOF,
} tok_type;

typedef struct token {
    tok_type t;
    size_t start, end; /* byte offsets of the raw text */
    double num;
    const char *str; /* T_STRING: unescaped value (arena) */
    size_t slen;
} token;

typedef struct parser {
    const char *text;
    size_t len;
    rn_arena *arena;
    token *toks;
    size_t ntoks, cap, pos;
    const rn_expr_scope *scope;
    rn_expr_error *err;
    int recursion;
} parser;

/* Parser recursion is bounded well above the tree depth limit: nested groupings are not tree
 * nodes, but a hostile input must not exhaust the C stack. */
enum { MAX_RECURSION = 256 };

static void set_error(rn_expr_error *err, rn_expr_err_kind kind, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void set_error(rn_expr_error *err, rn_expr_err_kind kind, const char *fmt, ...) {
    if (!err)
        return;
    err->kind = kind;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->message, sizeof err->message, fmt, ap);
    va_end(ap);
}

/* "<what>: '<raw>'. Located at position N within expression: <text>", N counted in UTF-16 units
 * like .NET and JavaScript string indexes. */
static void token_error(parser *p, rn_expr_err_kind kind, const char *what, size_t start,
                        size_t end) {
    size_t pos = rn_expr_utf16_len(p->text, start) + 1;
    set_error(p->err, kind, "%s: '%.*s'. Located at position %zu within expression: %s", what,
              (int)(end - start), p->text + start, pos, p->text);
}

/* ---- lexer ---- */

static bool is_boundary(const char *s, size_t len) {
    switch (*s) {
    case '(':
    case '[':
    case ')':
    case ']':
    case ',':
    case '.':
    case '!':
    case '>':
    case '<':
    case '=':
    case '&':
    case '|':
        return true;
    default: {
        size_t n;
        return rn_expr_is_space(s, len, &n);
    }
    }
}

static bool legal_keyword(const char *s, size_t n) {
    if (n == 0)
        return false;
    char c = s[0];
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'))
        return false;
    for (size_t i = 1; i < n; i++) {
        c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-'))
            return false;
    }
    return true;
}

static void push_tok(parser *p, token t) {
    if (p->ntoks == p->cap) {
        p->cap = p->cap ? p->cap * 2 : 32;
        p->toks = rn_xrealloc(p->toks, p->cap * sizeof *p->toks);
    }
    p->toks[p->ntoks++] = t;
}

static tok_type prev_type(const parser *p) {
    return p->ntoks ? p->toks[p->ntoks - 1].t : T_EOF;
}

/* Reads until a boundary; '.' is allowed inside numbers. */
static size_t scan_word(const parser *p, size_t i, bool allow_dot) {
    while (i < p->len &&
           (!is_boundary(p->text + i, p->len - i) || (allow_dot && p->text[i] == '.')))
        i++;
    return i;
}

static bool lex(parser *p) {
    const char *s = p->text;
    size_t i = 0, n = p->len;
    while (i < n) {
        size_t start = i;
        char c = s[i];
        size_t wsn;
        token t = {.start = start};
        switch (c) {
        case '(':
            t.t = T_LPAREN, i++;
            break;
        case ')':
            t.t = T_RPAREN, i++;
            break;
        case '[':
            t.t = T_LBRACKET, i++;
            break;
        case ']':
            t.t = T_RBRACKET, i++;
            break;
        case ',':
            t.t = T_COMMA, i++;
            break;
        case '*':
            t.t = T_STAR, i++;
            break;
        case '!':
            i++;
            t.t = (i < n && s[i] == '=') ? (i++, T_NE) : T_BANG;
            break;
        case '<':
            i++;
            t.t = (i < n && s[i] == '=') ? (i++, T_LE) : T_LT;
            break;
        case '>':
            i++;
            t.t = (i < n && s[i] == '=') ? (i++, T_GE) : T_GT;
            break;
        case '=':
        case '&':
        case '|':
            if (i + 1 < n && s[i + 1] == c) {
                t.t = c == '=' ? T_EQ : c == '&' ? T_AND : T_OR;
                i += 2;
                break;
            }
            i = scan_word(p, i + 1, false);
            token_error(p, RN_EXPR_LEXING, "Unexpected symbol", start, i);
            return false;
        case '\'': {
            /* '' inside a string is an escaped quote. */
            size_t j = i + 1;
            bool closed = false, escapes = false;
            while (j < n) {
                if (s[j] == '\'') {
                    if (j + 1 < n && s[j + 1] == '\'') {
                        escapes = true;
                        j += 2;
                        continue;
                    }
                    closed = true;
                    break;
                }
                j++;
            }
            if (!closed) {
                token_error(p, RN_EXPR_LEXING, "Unexpected symbol", start, n);
                return false;
            }
            t.t = T_STRING;
            if (!escapes) {
                t.str = rn_arena_strndup(p->arena, s + i + 1, j - i - 1);
                t.slen = j - i - 1;
            } else {
                char *v = rn_arena_alloc(p->arena, j - i);
                size_t o = 0;
                for (size_t k = i + 1; k < j; k++) {
                    v[o++] = s[k];
                    if (s[k] == '\'')
                        k++;
                }
                v[o] = 0;
                t.str = v;
                t.slen = o;
            }
            i = j + 1;
            break;
        }
        default:
            if (rn_expr_is_space(s + i, n - i, &wsn)) {
                i += wsn;
                continue;
            }
            if (c == '.') {
                tok_type pt = prev_type(p);
                if (pt == T_IDENT || pt == T_RBRACKET || pt == T_RPAREN || pt == T_STAR) {
                    t.t = T_DOT, i++;
                    break;
                }
            }
            if (c == '.' || c == '-' || c == '+' || (c >= '0' && c <= '9')) {
                i = scan_word(p, i + 1, true);
                double d = rn_expr_parse_number(s + start, i - start);
                if (isnan(d)) {
                    token_error(p, RN_EXPR_LEXING, "Unexpected symbol", start, i);
                    return false;
                }
                t.t = T_NUMBER;
                t.num = d;
                break;
            }
            /* Keyword or identifier: read to a boundary (at least one byte, whole UTF-8
             * sequences so the error text stays valid). */
            i = scan_word(p, i + 1, false);
            while (i < n && ((unsigned char)s[i] & 0xC0) == 0x80)
                i++;
            if (!legal_keyword(s + start, i - start)) {
                token_error(p, RN_EXPR_LEXING, "Unexpected symbol", start, i);
                return false;
            }
            t.t = T_IDENT;
            if (prev_type(p) != T_DOT) {
                size_t len = i - start;
                const char *w = s + start;
                if (len == 4 && !memcmp(w, "true", 4))
                    t.t = T_TRUE;
                else if (len == 5 && !memcmp(w, "false", 5))
                    t.t = T_FALSE;
                else if (len == 4 && !memcmp(w, "null", 4))
                    t.t = T_NULL;
                else if (len == 3 && !memcmp(w, "NaN", 3))
                    t.t = T_NUMBER, t.num = NAN;
                else if (len == 8 && !memcmp(w, "Infinity", 8))
                    t.t = T_NUMBER, t.num = INFINITY;
            }
            break;
        }
        t.end = i;
        push_tok(p, t);
    }
    push_tok(p, (token){.t = T_EOF, .start = n, .end = n});
    p->ntoks--; /* keep EOF as a sentinel past the end */
    return true;
}

/* ---- parser ---- */

static const token *peek(const parser *p) {
    return &p->toks[p->pos]; /* the EOF sentinel is always there */
}

static bool at_end(const parser *p) {
    return p->pos >= p->ntoks;
}

static bool check(const parser *p, tok_type t) {
    return !at_end(p) && p->toks[p->pos].t == t;
}

static bool match(parser *p, tok_type t) {
    if (check(p, t)) {
        p->pos++;
        return true;
    }
    return false;
}

static void err_at(parser *p, const char *what, const token *t) {
    token_error(p, RN_EXPR_PARSING, what, t->start, t->end);
}

/* The next token is wrong: at the end that is "Unexpected end of expression" at the last token,
 * otherwise "Unexpected symbol" at the next one. */
static void err_unexpected(parser *p) {
    if (at_end(p) && p->pos > 0)
        err_at(p, "Unexpected end of expression", &p->toks[p->pos - 1]);
    else
        err_at(p, "Unexpected symbol", peek(p));
}

static node *new_node(parser *p, node_type type) {
    node *n = rn_arena_alloc(p->arena, sizeof *n);
    n->type = (uint8_t)type;
    n->height = 1;
    return n;
}

static void add_arg(parser *p, node *n, node *a) {
    if (n->nargs == n->cap) {
        uint32_t cap = n->cap ? n->cap * 2 : 2;
        node **args = rn_arena_alloc(p->arena, cap * sizeof *args);
        if (n->nargs)
            memcpy(args, n->args, n->nargs * sizeof *args);
        n->args = args;
        n->cap = cap;
    }
    n->args[n->nargs++] = a;
    unsigned h = (unsigned)a->height + 1;
    if (h > 255)
        h = 255;
    if (h > n->height)
        n->height = (uint8_t)h;
}

static node *expression(parser *p);

static bool enter(parser *p) {
    if (++p->recursion > MAX_RECURSION) {
        set_error(p->err, RN_EXPR_PARSING, "Exceeded max expression depth %d", RN_EXPR_MAX_DEPTH);
        return false;
    }
    return true;
}

static const struct {
    const char *name;
    builtin_fn fn;
    int min, max;
} builtins[] = {
    {"contains", F_CONTAINS, 2, 2}, {"startsWith", F_STARTSWITH, 2, 2},
    {"endsWith", F_ENDSWITH, 2, 2}, {"format", F_FORMAT, 1, 255},
    {"join", F_JOIN, 1, 2},         {"toJSON", F_TOJSON, 1, 1},
    {"fromJSON", F_FROMJSON, 1, 1}, {"case", F_CASE, 3, 255},
};

static node *primary(parser *p, bool *group) {
    *group = false;
    const token *t = peek(p);
    if (at_end(p)) {
        err_unexpected(p);
        return NULL;
    }
    node *n;
    switch (t->t) {
    case T_TRUE:
    case T_FALSE:
        n = new_node(p, N_BOOL);
        n->b = t->t == T_TRUE;
        p->pos++;
        return n;
    case T_NULL:
        p->pos++;
        return new_node(p, N_NULL);
    case T_NUMBER:
        n = new_node(p, N_NUM);
        n->num = t->num;
        p->pos++;
        return n;
    case T_STRING:
        n = new_node(p, N_STR);
        n->str = t->str;
        n->len = t->slen;
        p->pos++;
        return n;
    case T_LPAREN:
        p->pos++;
        n = expression(p);
        if (!n)
            return NULL;
        if (!match(p, T_RPAREN)) {
            err_unexpected(p);
            return NULL;
        }
        *group = true;
        return n;
    default:
        err_at(p, "Unexpected symbol", t);
        return NULL;
    }
}

static node *call(parser *p, bool *postfix_ok) {
    *postfix_ok = true;
    if (!check(p, T_IDENT)) {
        bool group;
        node *n = primary(p, &group);
        *postfix_ok = group;
        return n;
    }
    const token *id = &p->toks[p->pos++];
    const char *name = p->text + id->start;
    size_t nlen = id->end - id->start;
    if (!match(p, T_LPAREN)) {
        const rn_expr_scope *sc = p->scope;
        for (size_t i = 0; sc && i < sc->n_named_values; i++) {
            const char *nv = sc->named_values[i];
            if (rn_expr_ieq_n(nv, strlen(nv), name, nlen)) {
                node *n = new_node(p, N_CTX);
                n->str = rn_arena_strndup(p->arena, name, nlen);
                n->len = nlen;
                return n;
            }
        }
        err_at(p, "Unrecognized named-value", id);
        return NULL;
    }
    /* Function: built-ins first, then the host's. */
    builtin_fn fn = F_HOST;
    int min = 0, max = 0;
    bool found = false;
    const char *canon = NULL; /* host functions are called by the name the host registered */
    for (size_t i = 0; i < sizeof builtins / sizeof builtins[0]; i++) {
        if (rn_expr_ieq_n(builtins[i].name, strlen(builtins[i].name), name, nlen)) {
            fn = builtins[i].fn, min = builtins[i].min, max = builtins[i].max;
            found = true;
            break;
        }
    }
    for (size_t i = 0; !found && p->scope && i < p->scope->n_funcs; i++) {
        const rn_expr_func *f = &p->scope->funcs[i];
        if (rn_expr_ieq_n(f->name, strlen(f->name), name, nlen)) {
            min = f->min_args, max = f->max_args;
            canon = f->name;
            found = true;
        }
    }
    if (!found) {
        err_at(p, "Unrecognized function", id);
        return NULL;
    }
    node *n = new_node(p, N_CALL);
    n->fn = (uint8_t)fn;
    n->str = canon ? rn_arena_strdup(p->arena, canon) : rn_arena_strndup(p->arena, name, nlen);
    n->len = strlen(n->str);
    while (!match(p, T_RPAREN)) {
        node *a = expression(p);
        if (!a)
            return NULL;
        add_arg(p, n, a);
        if (!check(p, T_RPAREN) && !match(p, T_COMMA)) {
            err_unexpected(p);
            return NULL;
        }
    }
    int argc = (int)n->nargs;
    if (argc < min) {
        err_at(p, "Too few parameters supplied", id);
        return NULL;
    }
    if (argc > max) {
        err_at(p, "Too many parameters supplied", id);
        return NULL;
    }
    if (fn == F_CASE && argc % 2 == 0) {
        err_at(p, "Even number of parameters supplied, requires an odd number of parameters", id);
        return NULL;
    }
    return n;
}

static node *postfix(parser *p) {
    bool ok;
    node *e = call(p, &ok);
    if (!e || !ok)
        return e;
    for (;;) {
        if (match(p, T_LBRACKET)) {
            node *idx = NULL;
            if (!match(p, T_STAR)) {
                idx = expression(p);
                if (!idx)
                    return NULL;
            }
            if (!match(p, T_RBRACKET)) {
                err_unexpected(p);
                return NULL;
            }
            node *n = new_node(p, N_INDEX);
            add_arg(p, n, e);
            if (idx)
                add_arg(p, n, idx);
            e = n;
        } else if (match(p, T_DOT)) {
            node *idx = NULL;
            if (check(p, T_IDENT)) {
                const token *t = &p->toks[p->pos++];
                idx = new_node(p, N_STR);
                idx->str = rn_arena_strndup(p->arena, p->text + t->start, t->end - t->start);
                idx->len = t->end - t->start;
            } else if (!match(p, T_STAR)) {
                err_unexpected(p);
                return NULL;
            }
            node *n = new_node(p, N_INDEX);
            add_arg(p, n, e);
            if (idx)
                add_arg(p, n, idx);
            e = n;
        } else {
            return e;
        }
    }
}

static node *unary(parser *p) {
    if (match(p, T_BANG)) {
        if (!enter(p))
            return NULL;
        node *u = unary(p);
        p->recursion--;
        if (!u)
            return NULL;
        node *n = new_node(p, N_NOT);
        add_arg(p, n, u);
        return n;
    }
    return postfix(p);
}

static node *binary_level(parser *p, int level);

static node_type bin_type(tok_type t) {
    switch (t) {
    case T_EQ:
        return N_EQ;
    case T_NE:
        return N_NE;
    case T_LT:
        return N_LT;
    case T_LE:
        return N_LE;
    case T_GT:
        return N_GT;
    default:
        return N_GE;
    }
}

/* level 0: ||, 1: &&, 2: == !=, 3: < <= > >=, then unary. */
static node *binary_level(parser *p, int level) {
    if (level == 4)
        return unary(p);
    node *e = binary_level(p, level + 1);
    if (!e)
        return NULL;
    if (level <= 1) {
        tok_type op = level == 0 ? T_OR : T_AND;
        node_type nt = level == 0 ? N_OR : N_AND;
        if (!check(p, op))
            return e;
        node *n = new_node(p, nt);
        /* Flatten like the C# parser: a parenthesised chain of the same operator merges. */
        node *first = e;
        do {
            if (first->type == nt) {
                for (uint32_t i = 0; i < first->nargs; i++)
                    add_arg(p, n, first->args[i]);
            } else {
                add_arg(p, n, first);
            }
            if (!match(p, op))
                break;
            first = binary_level(p, level + 1);
            if (!first)
                return NULL;
        } while (1);
        return n;
    }
    for (;;) {
        const token *t = peek(p);
        if (at_end(p))
            return e;
        bool is_op = level == 2 ? (t->t == T_EQ || t->t == T_NE)
                                : (t->t == T_LT || t->t == T_LE || t->t == T_GT || t->t == T_GE);
        if (!is_op)
            return e;
        p->pos++;
        node *r = binary_level(p, level + 1);
        if (!r)
            return NULL;
        node *n = new_node(p, bin_type(t->t));
        add_arg(p, n, e);
        add_arg(p, n, r);
        e = n;
    }
}

static node *expression(parser *p) {
    if (!enter(p))
        return NULL;
    node *n = binary_level(p, 0);
    p->recursion--;
    return n;
}

rn_expr *rn_expr_parse(const char *text, const rn_expr_scope *scope, rn_expr_error *err) {
    if (err) {
        err->kind = RN_EXPR_OK;
        err->message[0] = 0;
    }
    if (!text)
        text = "";
    size_t len = strlen(text);
    if (rn_expr_utf16_len(text, len) > RN_EXPR_MAX_LENGTH) {
        set_error(err, RN_EXPR_PARSING, "Exceeded max expression length %d", RN_EXPR_MAX_LENGTH);
        return NULL;
    }
    rn_expr *e = rn_xcalloc(1, sizeof *e);
    rn_arena_init(&e->arena);
    e->text = rn_arena_strndup(&e->arena, text, len);
    parser p = {.text = e->text, .len = len, .arena = &e->arena, .scope = scope, .err = err};
    bool ok = lex(&p);
    if (ok && p.ntoks > 0) {
        e->root = expression(&p);
        ok = e->root != NULL;
        if (ok && !at_end(&p)) {
            err_at(&p, "Unexpected symbol", peek(&p));
            ok = false;
        }
        if (ok && e->root->height > RN_EXPR_MAX_DEPTH) {
            set_error(err, RN_EXPR_PARSING, "Exceeded max expression depth %d", RN_EXPR_MAX_DEPTH);
            ok = false;
        }
    }
    free(p.toks);
    if (!ok) {
        rn_expr_free(e);
        return NULL;
    }
    return e;
}

void rn_expr_free(rn_expr *e) {
    if (!e)
        return;
    rn_arena_free(&e->arena);
    free(e);
}

static bool calls_status(const node *n) {
    if (n->type == N_CALL && n->fn == F_HOST) {
        static const char *const names[] = {"success", "failure", "cancelled", "always"};
        for (size_t i = 0; i < 4; i++)
            if (rn_expr_ieq_n(names[i], strlen(names[i]), n->str, n->len))
                return true;
    }
    for (uint32_t i = 0; i < n->nargs; i++)
        if (calls_status(n->args[i]))
            return true;
    return false;
}

bool rn_expr_calls_status_function(const rn_expr *e) {
    return e && e->root && calls_status(e->root);
}
