/* ${{ }} evaluator: GitHub's coercions, filters, functions and memory accounting.
 *
 * Values are ev_val (no allocation for scalars); json_t appears only for data (contexts,
 * fromJSON results, host results) and for the final result. Memory is accounted the way the
 * runner's EvaluationMemory does it: each node's result is charged at its tree level, and a
 * primitive result releases what its subtree was charged. */
#include "workflow/expr_internal.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { MAX_LEVELS = 64, MIN_OBJECT = 24, STRING_OVERHEAD = 26, POINTER_SIZE = 8 };

typedef struct ev {
    const rn_expr_eval_ctx *ctx;
    const rn_expr *expr;
    rn_expr_error *err;
    rn_arena arena;
    json_t **owned;
    size_t nowned, capowned;
    int64_t max_mem;
    int64_t level_amount[MAX_LEVELS];
    int max_active;
    int64_t total;
} ev;

static bool fail(ev *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static bool fail(ev *e, const char *fmt, ...) {
    if (e->err) {
        e->err->kind = RN_EXPR_EVALUATION;
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(e->err->message, sizeof e->err->message, fmt, ap);
        va_end(ap);
    }
    return false;
}

static bool fail_memory(ev *e) {
    return fail(e,
                "The maximum allowed memory size was exceeded while evaluating the following "
                "expression: %s",
                e->expr->text);
}

static void own(ev *e, json_t *j) {
    if (e->nowned == e->capowned) {
        e->capowned = e->capowned ? e->capowned * 2 : 8;
        e->owned = rn_xrealloc(e->owned, e->capowned * sizeof *e->owned);
    }
    e->owned[e->nowned++] = j;
}

/* ---- values ---- */

static inline ev_val v_null(void) {
    return (ev_val){.k = K_NULL};
}
static inline ev_val v_bool(bool b) {
    return (ev_val){.k = K_BOOL, .u.b = b};
}
static inline ev_val v_num(double n) {
    return (ev_val){.k = K_NUM, .u.n = n};
}
static inline ev_val v_str(const char *p, size_t len) {
    return (ev_val){.k = K_STR, .u.s = {p, len}};
}

static ev_val from_json(json_t *j) {
    switch (j ? json_typeof(j) : JSON_NULL) {
    case JSON_TRUE:
        return v_bool(true);
    case JSON_FALSE:
        return v_bool(false);
    case JSON_INTEGER:
    case JSON_REAL:
        return v_num(json_number_value(j));
    case JSON_STRING:
        return v_str(json_string_value(j), json_string_length(j));
    case JSON_ARRAY:
        return (ev_val){.k = K_ARR, .u.j = j};
    case JSON_OBJECT:
        return (ev_val){.k = K_OBJ, .u.j = j};
    default:
        return v_null();
    }
}

static json_t *to_json(const ev_val *v) {
    switch (v->k) {
    case K_NULL:
        return json_null();
    case K_BOOL:
        return json_boolean(v->u.b);
    case K_NUM:
        return rn_expr_json_number(v->u.n);
    case K_STR:
        return json_stringn_nocheck(v->u.s.p, v->u.s.len);
    case K_ARR:
        if (v->filtered) {
            json_t *a = json_array();
            for (size_t i = 0; i < v->u.fa->n; i++)
                json_array_append(a, v->u.fa->items[i]);
            return a;
        }
        return json_incref(v->u.j);
    default:
        return json_incref(v->u.j);
    }
}

static inline bool is_primitive(const ev_val *v) {
    return v->k <= K_STR;
}

static bool truthy(const ev_val *v) {
    switch (v->k) {
    case K_NULL:
        return false;
    case K_BOOL:
        return v->u.b;
    case K_NUM:
        return !(v->u.n == 0 || isnan(v->u.n));
    case K_STR:
        return v->u.s.len > 0;
    default:
        return true;
    }
}

static double to_number(const ev_val *v) {
    switch (v->k) {
    case K_NULL:
        return 0;
    case K_BOOL:
        return v->u.b ? 1 : 0;
    case K_NUM:
        return v->u.n;
    case K_STR:
        return rn_expr_parse_number(v->u.s.p, v->u.s.len);
    default:
        return NAN;
    }
}

static void to_str(ev *e, const ev_val *v, const char **p, size_t *len) {
    switch (v->k) {
    case K_NULL:
        *p = "", *len = 0;
        return;
    case K_BOOL:
        *p = v->u.b ? "true" : "false", *len = v->u.b ? 4 : 5;
        return;
    case K_NUM: {
        char buf[32];
        rn_number_format(v->u.n, buf, sizeof buf);
        *len = strlen(buf);
        *p = rn_arena_strndup(&e->arena, buf, *len);
        return;
    }
    case K_STR:
        *p = v->u.s.p, *len = v->u.s.len;
        return;
    case K_ARR:
        *p = "Array", *len = 5;
        return;
    default:
        *p = "Object", *len = 6;
        return;
    }
}

static size_t arr_count(const ev_val *v) {
    return v->filtered ? v->u.fa->n : json_array_size(v->u.j);
}

static json_t *arr_item(const ev_val *v, size_t i) {
    return v->filtered ? v->u.fa->items[i] : json_array_get(v->u.j, i);
}

/* ---- coercion and comparison (EvaluationResult.CoerceTypes) ---- */

static void coerce(ev_val *l, ev_val *r) {
    for (;;) {
        if (l->k == r->k)
            return;
        if (l->k == K_NUM && r->k == K_STR) {
            *r = v_num(to_number(r));
            return;
        }
        if (l->k == K_STR && r->k == K_NUM) {
            *l = v_num(to_number(l));
            return;
        }
        if (l->k == K_BOOL || l->k == K_NULL) {
            *l = v_num(to_number(l));
            continue;
        }
        if (r->k == K_BOOL || r->k == K_NULL) {
            *r = v_num(to_number(r));
            continue;
        }
        return;
    }
}

static bool abstract_equal(ev_val l, ev_val r) {
    coerce(&l, &r);
    if (l.k != r.k)
        return false;
    switch (l.k) {
    case K_NULL:
        return true;
    case K_NUM:
        return !isnan(l.u.n) && !isnan(r.u.n) && l.u.n == r.u.n;
    case K_STR:
        return rn_expr_ieq_n(l.u.s.p, l.u.s.len, r.u.s.p, r.u.s.len);
    case K_BOOL:
        return l.u.b == r.u.b;
    default: /* by reference */
        if (l.filtered != r.filtered)
            return false;
        return l.filtered ? l.u.fa == r.u.fa : l.u.j == r.u.j;
    }
}

/* <0 less, >0 greater, 0 neither (equal, NaN or mismatched kinds). */
static int abstract_order(ev_val l, ev_val r) {
    coerce(&l, &r);
    if (l.k != r.k)
        return 0;
    switch (l.k) {
    case K_NUM:
        if (isnan(l.u.n) || isnan(r.u.n))
            return 0;
        return l.u.n < r.u.n ? -1 : l.u.n > r.u.n ? 1 : 0;
    case K_STR:
        return rn_expr_icmp_n(l.u.s.p, l.u.s.len, r.u.s.p, r.u.s.len);
    case K_BOOL:
        return (int)l.u.b - (int)r.u.b;
    default:
        return 0;
    }
}

/* ---- memory accounting (EvaluationMemory) ---- */

static int64_t value_bytes(const ev_val *v) {
    if (v->k == K_STR)
        return STRING_OVERHEAD + 2 * (int64_t)rn_expr_utf16_len(v->u.s.p, v->u.s.len);
    return MIN_OBJECT;
}

static bool charge(ev *e, int level, int64_t bytes, bool trim) {
    if (level >= MAX_LEVELS)
        level = MAX_LEVELS - 1;
    if (trim) {
        while (e->max_active > level) {
            e->total -= e->level_amount[e->max_active];
            e->level_amount[e->max_active] = 0;
            e->max_active--;
        }
    }
    if (level > e->max_active)
        e->max_active = level;
    e->level_amount[level] += bytes;
    e->total += bytes;
    if (e->total > e->max_mem)
        return fail_memory(e);
    return true;
}

/* A builder's own counter (MemoryCounter): each appended piece costs its string overhead. */
typedef struct counter {
    int64_t bytes;
} counter;

static bool count_add(ev *e, counter *c, const char *s, size_t len) {
    c->bytes += STRING_OVERHEAD + 2 * (int64_t)rn_expr_utf16_len(s, len);
    if (c->bytes > e->max_mem)
        return fail_memory(e);
    return true;
}

/* ---- evaluation ---- */

static bool eval(ev *e, const node *n, int level, ev_val *out);

static farr *new_farr(ev *e) {
    return rn_arena_alloc(&e->arena, sizeof(farr));
}

static void farr_push(ev *e, farr *f, json_t *j) {
    if (f->n == f->cap) {
        size_t cap = f->cap ? f->cap * 2 : 8;
        json_t **items = rn_arena_alloc(&e->arena, cap * sizeof *items);
        if (f->n)
            memcpy(items, f->items, f->n * sizeof *items);
        f->items = items;
        f->cap = cap;
    }
    f->items[f->n++] = j;
}

static bool int_index(const ev_val *idx, size_t *out) {
    double d = to_number(idx);
    if (isnan(d) || d < 0)
        return false;
    d = floor(d);
    if (d > 2147483647.0)
        return false;
    *out = (size_t)d;
    return true;
}

static bool eval_index(ev *e, const node *n, int level, ev_val *out, int64_t *bytes) {
    ev_val left;
    if (!eval(e, n->args[0], level + 1, &left))
        return false;
    bool wildcard = n->nargs < 2;
    if (left.k != K_ARR && left.k != K_OBJ) {
        if (wildcard) {
            *out = (ev_val){.k = K_ARR, .filtered = true, .u.fa = new_farr(e)};
        } else {
            *out = v_null();
        }
        return true;
    }
    ev_val idx = v_null();
    if (!wildcard && !eval(e, n->args[1], level + 1, &idx))
        return false;
    const char *skey = NULL;
    size_t sklen = 0;
    bool has_skey = false, has_ikey = false;
    size_t ikey = 0;
    if (!wildcard) {
        if (is_primitive(&idx)) {
            to_str(e, &idx, &skey, &sklen);
            has_skey = true;
        }
        has_ikey = int_index(&idx, &ikey);
    }
    if (left.k == K_ARR && left.filtered) {
        farr *res = new_farr(e);
        int64_t c = 0;
        for (size_t i = 0; i < left.u.fa->n; i++) {
            json_t *item = left.u.fa->items[i];
            if (json_is_object(item)) {
                if (wildcard) {
                    for (void *it = json_object_iter(item); it;
                         it = json_object_iter_next(item, it)) {
                        farr_push(e, res, json_object_iter_value(it));
                        c += POINTER_SIZE;
                    }
                } else if (has_skey) {
                    json_t *val = rn_expr_iget_n(item, skey, sklen);
                    if (val) {
                        farr_push(e, res, val);
                        c += POINTER_SIZE;
                    }
                }
            } else if (json_is_array(item)) {
                if (wildcard) {
                    for (size_t k = 0; k < json_array_size(item); k++) {
                        farr_push(e, res, json_array_get(item, k));
                        c += POINTER_SIZE;
                    }
                } else if (has_ikey && ikey < json_array_size(item)) {
                    farr_push(e, res, json_array_get(item, ikey));
                    c += POINTER_SIZE;
                }
            }
            if (c > e->max_mem)
                return fail_memory(e);
        }
        *out = (ev_val){.k = K_ARR, .filtered = true, .u.fa = res};
        *bytes = c;
        return true;
    }
    if (wildcard) {
        farr *res = new_farr(e);
        if (left.k == K_OBJ) {
            for (void *it = json_object_iter(left.u.j); it;
                 it = json_object_iter_next(left.u.j, it))
                farr_push(e, res, json_object_iter_value(it));
        } else {
            for (size_t k = 0; k < json_array_size(left.u.j); k++)
                farr_push(e, res, json_array_get(left.u.j, k));
        }
        *bytes = MIN_OBJECT + POINTER_SIZE * (int64_t)res->n;
        if (*bytes > e->max_mem)
            return fail_memory(e);
        *out = (ev_val){.k = K_ARR, .filtered = true, .u.fa = res};
        return true;
    }
    if (left.k == K_OBJ) {
        *out = has_skey ? from_json(rn_expr_iget_n(left.u.j, skey, sklen)) : v_null();
    } else {
        *out = has_ikey && ikey < json_array_size(left.u.j)
                   ? from_json(json_array_get(left.u.j, ikey))
                   : v_null();
    }
    return true;
}

/* Uppercased UTF-16 forms for contains/startsWith/endsWith. */
static bool str_ops(ev *e, const node *n, int level, int op, bool *result) {
    ev_val l, r;
    *result = false;
    if (!eval(e, n->args[0], level + 1, &l))
        return false;
    if (op == F_CONTAINS && (l.k == K_ARR || l.k == K_OBJ)) {
        if (l.k != K_ARR || arr_count(&l) == 0)
            return true;
        if (!eval(e, n->args[1], level + 1, &r))
            return false;
        size_t cnt = arr_count(&l);
        for (size_t i = 0; i < cnt; i++) {
            if (abstract_equal(r, from_json(arr_item(&l, i)))) {
                *result = true;
                break;
            }
        }
        return true;
    }
    if (!is_primitive(&l))
        return true;
    if (!eval(e, n->args[1], level + 1, &r))
        return false;
    if (!is_primitive(&r))
        return true;
    const char *ls, *rs;
    size_t ll, rl;
    to_str(e, &l, &ls, &ll);
    to_str(e, &r, &rs, &rl);
    uint16_t *a, *b;
    size_t na = rn_expr_fold16(&e->arena, ls, ll, &a);
    size_t nb = rn_expr_fold16(&e->arena, rs, rl, &b);
    if (nb > na)
        return true;
    if (op == F_STARTSWITH) {
        *result = memcmp(a, b, nb * sizeof *a) == 0;
    } else if (op == F_ENDSWITH) {
        *result = memcmp(a + (na - nb), b, nb * sizeof *a) == 0;
    } else {
        for (size_t i = 0; i + nb <= na; i++) {
            if (memcmp(a + i, b, nb * sizeof *a) == 0) {
                *result = true;
                break;
            }
        }
    }
    return true;
}

typedef struct fmt_seg {
    int arg; /* -1 literal */
    const char *p;
    size_t len; /* literal text, or the format specifiers */
} fmt_seg;

static bool eval_format(ev *e, const node *n, int level, ev_val *out) {
    ev_val fv;
    if (!eval(e, n->args[0], level + 1, &fv))
        return false;
    const char *f;
    size_t fl;
    to_str(e, &fv, &f, &fl);
    counter cnt = {0};
    fmt_seg *segs = NULL;
    size_t nseg = 0, capseg = 0;
    bool ok = true;
#define PUSH_SEG(A, P, L)                                                                          \
    do {                                                                                           \
        if (nseg == capseg) {                                                                      \
            capseg = capseg ? capseg * 2 : 8;                                                      \
            segs = rn_xrealloc(segs, capseg * sizeof *segs);                                       \
        }                                                                                          \
        segs[nseg++] = (fmt_seg){(A), (P), (L)};                                                   \
    } while (0)
    size_t index = 0;
    while (index < fl) {
        const char *lb = memchr(f + index, '{', fl - index);
        const char *rb = memchr(f + index, '}', fl - index);
        size_t lbrace = lb ? (size_t)(lb - f) : SIZE_MAX;
        size_t rbrace = rb ? (size_t)(rb - f) : SIZE_MAX;
        if (lb && (!rb || rbrace > lbrace)) {
            if (lbrace + 1 < fl && f[lbrace + 1] == '{') {
                /* Escaped left brace: keep one. */
                if (!(ok = count_add(e, &cnt, f + index, lbrace - index + 1)))
                    break;
                PUSH_SEG(-1, f + index, lbrace - index + 1);
                index = lbrace + 2;
                continue;
            }
            /* {N} or {N:spec} */
            size_t d = lbrace + 1, nd = 0;
            unsigned argi = 0;
            while (d + nd < fl && f[d + nd] >= '0' && f[d + nd] <= '9') {
                argi = argi * 10 + (unsigned)(f[d + nd] - '0');
                if (argi > 1000)
                    argi = 1000;
                nd++;
            }
            bool valid = rb && rbrace > lbrace + 1 && nd > 0 && argi <= 255;
            size_t close = 0;
            const char *spec = NULL;
            size_t speclen = 0;
            if (valid) {
                size_t s = d + nd;
                if (s < fl && f[s] == '}') {
                    close = s;
                } else if (s < fl && f[s] == ':') {
                    /* Specifiers up to the closing brace; "}}" is an escaped brace. */
                    char *buf = rn_arena_alloc(&e->arena, fl - s + 1);
                    size_t k = s + 1;
                    valid = false;
                    while (k < fl) {
                        if (f[k] != '}') {
                            buf[speclen++] = f[k++];
                        } else if (k + 1 < fl && f[k + 1] == '}') {
                            buf[speclen++] = '}';
                            k += 2;
                        } else {
                            close = k;
                            valid = true;
                            break;
                        }
                    }
                    spec = buf;
                } else {
                    valid = false;
                }
            }
            if (!valid) {
                ok = fail(e, "The following format string is invalid: %.*s", (int)fl, f);
                break;
            }
            if (argi + 2 > n->nargs) {
                ok = fail(e,
                          "The following format string references more arguments than were "
                          "supplied: %.*s",
                          (int)fl, f);
                break;
            }
            if (lbrace > index) {
                if (!(ok = count_add(e, &cnt, f + index, lbrace - index)))
                    break;
                PUSH_SEG(-1, f + index, lbrace - index);
            }
            PUSH_SEG((int)argi, spec, speclen);
            index = close + 1;
        } else if (rb) {
            if (rbrace + 1 < fl && f[rbrace + 1] == '}') {
                if (!(ok = count_add(e, &cnt, f + index, rbrace - index + 1)))
                    break;
                PUSH_SEG(-1, f + index, rbrace - index + 1);
                index = rbrace + 2;
            } else {
                ok = fail(e, "The following format string is invalid: %.*s", (int)fl, f);
                break;
            }
        } else {
            if (!(ok = count_add(e, &cnt, f + index, fl - index)))
                break;
            PUSH_SEG(-1, f + index, fl - index);
            break;
        }
    }
#undef PUSH_SEG
    if (!ok) {
        free(segs);
        return false;
    }
    /* Arguments are evaluated lazily, once, in the order they are first referenced. */
    size_t nargs = n->nargs - 1;
    ev_val *vals = rn_arena_alloc(&e->arena, (nargs + 1) * sizeof *vals);
    const char **strs = rn_arena_alloc(&e->arena, (nargs + 1) * sizeof *strs);
    size_t *lens = rn_arena_alloc(&e->arena, (nargs + 1) * sizeof *lens);
    bool *done = rn_arena_alloc(&e->arena, nargs + 1);
    rn_sb sb = RN_SB_INIT;
    for (size_t i = 0; ok && i < nseg; i++) {
        fmt_seg *s = &segs[i];
        if (s->arg < 0) {
            rn_sb_append(&sb, s->p, s->len);
            continue;
        }
        size_t a = (size_t)s->arg;
        if (!done[a]) {
            if (!(ok = eval(e, n->args[a + 1], level + 1, &vals[a])))
                break;
            to_str(e, &vals[a], &strs[a], &lens[a]);
            done[a] = true;
        }
        if (s->len) {
            static const char *const kinds[] = {"Null",   "Boolean", "Number",
                                                "String", "Array",   "Object"};
            ok = fail(e, "The format specifiers '%.*s' are not valid for objects of type '%s'",
                      (int)s->len, s->p, kinds[vals[a].k]);
            break;
        }
        if (lens[a] && !(ok = count_add(e, &cnt, strs[a], lens[a])))
            break;
        rn_sb_append(&sb, strs[a], lens[a]);
    }
    free(segs);
    if (!ok) {
        rn_sb_free(&sb);
        return false;
    }
    size_t len = sb.len;
    char *res = rn_arena_strndup(&e->arena, rn_sb_str(&sb), len);
    rn_sb_free(&sb);
    *out = v_str(res, len);
    return true;
}

static bool eval_join(ev *e, const node *n, int level, ev_val *out) {
    ev_val items;
    if (!eval(e, n->args[0], level + 1, &items))
        return false;
    if (items.k == K_ARR && arr_count(&items) > 0) {
        counter cnt = {0};
        rn_sb sb = RN_SB_INIT;
        size_t count = arr_count(&items);
        const char *s;
        size_t sl;
        ev_val first = from_json(arr_item(&items, 0));
        to_str(e, &first, &s, &sl);
        bool ok = count_add(e, &cnt, s, sl);
        rn_sb_append(&sb, s, sl);
        const char *sep = ",";
        size_t seplen = 1;
        if (ok && count > 1 && n->nargs > 1) {
            ev_val sv;
            ok = eval(e, n->args[1], level + 1, &sv);
            if (ok && is_primitive(&sv))
                to_str(e, &sv, &sep, &seplen);
        }
        for (size_t i = 1; ok && i < count; i++) {
            ok = count_add(e, &cnt, sep, seplen);
            rn_sb_append(&sb, sep, seplen);
            ev_val it = from_json(arr_item(&items, i));
            to_str(e, &it, &s, &sl);
            ok = ok && count_add(e, &cnt, s, sl);
            rn_sb_append(&sb, s, sl);
        }
        if (!ok) {
            rn_sb_free(&sb);
            return false;
        }
        size_t len = sb.len;
        *out = v_str(rn_arena_strndup(&e->arena, rn_sb_str(&sb), len), len);
        rn_sb_free(&sb);
        return true;
    }
    if (is_primitive(&items)) {
        const char *s;
        size_t sl;
        to_str(e, &items, &s, &sl);
        *out = v_str(s, sl);
    } else {
        *out = v_str("", 0);
    }
    return true;
}

/* toJSON writer that also counts the pieces the runner's writer would append, since each piece
 * is charged its own string overhead. */
typedef struct jw {
    rn_sb sb;
    int64_t pieces;
} jw;

static void jw_indent(jw *w, int level) {
    rn_sb_putc(&w->sb, '\n');
    for (int i = 0; i < level; i++)
        rn_sb_append(&w->sb, "  ", 2);
}

static void jw_value(jw *w, const json_t *v, int level) {
    w->pieces++;
    switch (json_typeof(v)) {
    case JSON_ARRAY: {
        size_t n = json_array_size(v);
        if (!n) {
            rn_sb_append(&w->sb, "[]", 2);
            return;
        }
        rn_sb_putc(&w->sb, '[');
        for (size_t i = 0; i < n; i++) {
            if (i)
                rn_sb_putc(&w->sb, ',');
            jw_indent(w, level + 1);
            jw_value(w, json_array_get(v, i), level + 1);
        }
        w->pieces++;
        jw_indent(w, level);
        rn_sb_putc(&w->sb, ']');
        return;
    }
    case JSON_OBJECT: {
        if (!json_object_size(v)) {
            rn_sb_append(&w->sb, "{}", 2);
            return;
        }
        rn_sb_putc(&w->sb, '{');
        const char *k;
        size_t kl;
        json_t *val;
        bool first = true;
        json_object_keylen_foreach((json_t *)v, k, kl, val) {
            if (!first)
                rn_sb_putc(&w->sb, ',');
            first = false;
            jw_indent(w, level + 1);
            rn_expr_json_quote(&w->sb, k, kl);
            w->pieces++;
            rn_sb_append(&w->sb, ": ", 2);
            jw_value(w, val, level + 1);
        }
        w->pieces++;
        jw_indent(w, level);
        rn_sb_putc(&w->sb, '}');
        return;
    }
    default: {
        char *s = rn_value_to_json(v);
        rn_sb_puts(&w->sb, s);
        free(s);
        return;
    }
    }
}

static bool eval_tojson(ev *e, const node *n, int level, ev_val *out) {
    ev_val v;
    if (!eval(e, n->args[0], level + 1, &v))
        return false;
    jw w = {RN_SB_INIT, 0};
    if (v.k == K_ARR && v.filtered) {
        farr *fa = v.u.fa;
        w.pieces++;
        if (!fa->n) {
            rn_sb_append(&w.sb, "[]", 2);
        } else {
            rn_sb_putc(&w.sb, '[');
            for (size_t i = 0; i < fa->n; i++) {
                if (i)
                    rn_sb_putc(&w.sb, ',');
                jw_indent(&w, 1);
                jw_value(&w, fa->items[i], 1);
            }
            w.pieces++;
            jw_indent(&w, 0);
            rn_sb_putc(&w.sb, ']');
        }
    } else if (v.k == K_ARR || v.k == K_OBJ) {
        jw_value(&w, v.u.j, 0);
    } else if (v.k == K_STR) {
        w.pieces++;
        rn_expr_json_quote(&w.sb, v.u.s.p, v.u.s.len);
    } else {
        const char *s;
        size_t sl;
        w.pieces++;
        if (v.k == K_NULL)
            s = "null", sl = 4;
        else
            to_str(e, &v, &s, &sl);
        rn_sb_append(&w.sb, s, sl);
    }
    int64_t bytes =
        STRING_OVERHEAD * w.pieces + 2 * (int64_t)rn_expr_utf16_len(rn_sb_str(&w.sb), w.sb.len);
    if (bytes > e->max_mem) {
        rn_sb_free(&w.sb);
        return fail_memory(e);
    }
    size_t len = w.sb.len;
    *out = v_str(rn_arena_strndup(&e->arena, rn_sb_str(&w.sb), len), len);
    rn_sb_free(&w.sb);
    return true;
}

static bool eval_fromjson(ev *e, const node *n, int level, ev_val *out) {
    ev_val v;
    if (!eval(e, n->args[0], level + 1, &v))
        return false;
    const char *s;
    size_t sl;
    to_str(e, &v, &s, &sl);
    json_error_t jerr;
    json_t *j =
        json_loadb(s, sl, JSON_DECODE_ANY | JSON_DECODE_INT_AS_REAL | JSON_ALLOW_NUL, &jerr);
    if (!j)
        return fail(e, "Error parsing fromJson: %s (line %d, column %d)", jerr.text, jerr.line,
                    jerr.column);
    own(e, j);
    *out = from_json(j);
    return true;
}

static bool eval_host(ev *e, const node *n, int level, ev_val *out) {
    json_t *stack_args[8];
    json_t **args = n->nargs <= 8 ? stack_args : rn_xmalloc(n->nargs * sizeof *args);
    size_t made = 0;
    bool ok = true;
    for (uint32_t i = 0; i < n->nargs; i++) {
        ev_val a;
        if (!(ok = eval(e, n->args[i], level + 1, &a)))
            break;
        args[made++] = to_json(&a);
    }
    json_t *res = NULL;
    if (ok) {
        if (!e->ctx || !e->ctx->call) {
            ok = fail(e, "Function '%s' is not available in this context", n->str);
        } else {
            rn_expr_error herr = {RN_EXPR_OK, ""};
            res = e->ctx->call(e->ctx->ud, n->str, args, made, &herr);
            if (!res) {
                if (e->err) {
                    *e->err = herr;
                    e->err->kind = RN_EXPR_EVALUATION;
                    if (!e->err->message[0])
                        snprintf(e->err->message, sizeof e->err->message, "%s() failed", n->str);
                }
                ok = false;
            }
        }
    }
    for (size_t i = 0; i < made; i++)
        json_decref(args[i]);
    if (args != stack_args)
        free(args);
    if (!ok)
        return false;
    own(e, res);
    *out = from_json(res);
    return true;
}

static bool eval(ev *e, const node *n, int level, ev_val *out) {
    int64_t bytes = -1; /* -1: charge the result's own size */
    switch (n->type) {
    case N_NULL:
        *out = v_null();
        break;
    case N_BOOL:
        *out = v_bool(n->b);
        break;
    case N_NUM:
        *out = v_num(n->num);
        break;
    case N_STR:
        *out = v_str(n->str, n->len);
        break;
    case N_CTX:
        *out = from_json(
            e->ctx && e->ctx->contexts ? rn_expr_iget_n(e->ctx->contexts, n->str, n->len) : NULL);
        break;
    case N_INDEX:
        if (!eval_index(e, n, level, out, &bytes))
            return false;
        break;
    case N_NOT: {
        ev_val v;
        if (!eval(e, n->args[0], level + 1, &v))
            return false;
        *out = v_bool(!truthy(&v));
        break;
    }
    case N_AND:
    case N_OR: {
        bool want = n->type == N_OR; /* stop at the first operand whose truthiness is this */
        for (uint32_t i = 0; i < n->nargs; i++) {
            if (!eval(e, n->args[i], level + 1, out))
                return false;
            if (truthy(out) == want)
                break;
        }
        break;
    }
    case N_EQ:
    case N_NE:
    case N_LT:
    case N_LE:
    case N_GT:
    case N_GE: {
        ev_val l, r;
        if (!eval(e, n->args[0], level + 1, &l) || !eval(e, n->args[1], level + 1, &r))
            return false;
        bool res;
        switch (n->type) {
        case N_EQ:
            res = abstract_equal(l, r);
            break;
        case N_NE:
            res = !abstract_equal(l, r);
            break;
        case N_LT:
            res = abstract_order(l, r) < 0;
            break;
        case N_LE:
            res = abstract_equal(l, r) || abstract_order(l, r) < 0;
            break;
        case N_GT:
            res = abstract_order(l, r) > 0;
            break;
        default:
            res = abstract_equal(l, r) || abstract_order(l, r) > 0;
            break;
        }
        *out = v_bool(res);
        break;
    }
    case N_CALL: {
        bool ok = true, b;
        switch (n->fn) {
        case F_CONTAINS:
        case F_STARTSWITH:
        case F_ENDSWITH:
            ok = str_ops(e, n, level, n->fn, &b);
            *out = v_bool(b);
            break;
        case F_FORMAT:
            ok = eval_format(e, n, level, out);
            break;
        case F_JOIN:
            ok = eval_join(e, n, level, out);
            break;
        case F_TOJSON:
            ok = eval_tojson(e, n, level, out);
            break;
        case F_FROMJSON:
            ok = eval_fromjson(e, n, level, out);
            break;
        case F_CASE: {
            uint32_t i = 0;
            for (; ok && i + 1 < n->nargs; i += 2) {
                ev_val pred;
                if (!(ok = eval(e, n->args[i], level + 1, &pred)))
                    break;
                if (pred.k != K_BOOL) {
                    ok = fail(e, "case predicate must evaluate to a boolean value");
                    break;
                }
                if (pred.u.b)
                    break;
            }
            if (ok)
                ok = eval(e, n->args[i + 1 < n->nargs ? i + 1 : n->nargs - 1], level + 1, out);
            break;
        }
        default:
            ok = eval_host(e, n, level, out);
            break;
        }
        if (!ok)
            return false;
        break;
    }
    }
    bool trim = bytes < 0 && is_primitive(out);
    return charge(e, level, bytes >= 0 ? bytes : value_bytes(out), trim);
}

json_t *rn_expr_eval(const rn_expr *x, const rn_expr_eval_ctx *ctx, rn_expr_error *err) {
    if (err) {
        err->kind = RN_EXPR_OK;
        err->message[0] = 0;
    }
    if (!x || !x->root)
        return json_null();
    ev e = {.ctx = ctx, .expr = x, .err = err, .max_active = -1};
    e.max_mem = ctx && ctx->max_memory ? (int64_t)ctx->max_memory : RN_EXPR_DEFAULT_MEMORY;
    rn_arena_init(&e.arena);
    ev_val v;
    json_t *res = eval(&e, x->root, 0, &v) ? to_json(&v) : NULL;
    for (size_t i = 0; i < e.nowned; i++)
        json_decref(e.owned[i]);
    free(e.owned);
    rn_arena_free(&e.arena);
    return res;
}

json_t *rn_expr_evaluate(const char *text, const rn_expr_scope *scope, const rn_expr_eval_ctx *ctx,
                         rn_expr_error *err) {
    rn_expr *x = rn_expr_parse(text, scope, err);
    if (!x)
        return NULL;
    json_t *res = rn_expr_eval(x, ctx, err);
    rn_expr_free(x);
    return res;
}
