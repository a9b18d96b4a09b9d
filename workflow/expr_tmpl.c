/* Templates: YAML scalars with zero or more ${{ }} segments, split the way GitHub's
 * TemplateReader.ParseScalar splits them. */
#include "workflow/expr_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct tmpl_seg {
    char *lit; /* literal text (NULL for an expression) */
    size_t len;
    rn_expr *expr;
} tmpl_seg;

struct rn_tmpl {
    tmpl_seg *segs;
    size_t nseg, nexpr;
};

static void add_lit(rn_tmpl *t, const char *s, size_t len) {
    if (!len)
        return;
    tmpl_seg *last = t->nseg ? &t->segs[t->nseg - 1] : NULL;
    if (last && last->lit) { /* adjacent literals merge */
        last->lit = rn_xrealloc(last->lit, last->len + len + 1);
        memcpy(last->lit + last->len, s, len);
        last->len += len;
        last->lit[last->len] = 0;
        return;
    }
    t->segs = rn_xrealloc(t->segs, (t->nseg + 1) * sizeof *t->segs);
    t->segs[t->nseg++] = (tmpl_seg){rn_xstrndup(s, len), len, NULL};
}

rn_tmpl *rn_tmpl_parse(const char *text, const rn_expr_scope *scope, rn_expr_error *err) {
    if (err) {
        err->kind = RN_EXPR_OK;
        err->message[0] = 0;
    }
    if (!text)
        text = "";
    rn_tmpl *t = rn_xcalloc(1, sizeof *t);
    size_t n = strlen(text), i = 0;
    const char *open = strstr(text, "${{");
    while (i < n) {
        if (!open) {
            add_lit(t, text + i, n - i);
            break;
        }
        size_t start = (size_t)(open - text);
        if (i < start) {
            add_lit(t, text + i, start - i);
            i = start;
            continue;
        }
        /* Find the closing "}}", skipping over '...' string literals. */
        size_t end = 0;
        bool in_str = false, closed = false;
        for (i = start + 3; i < n; i++) {
            if (text[i] == '\'') {
                in_str = !in_str;
            } else if (!in_str && text[i] == '}' && text[i - 1] == '}') {
                end = i;
                closed = true;
                i++;
                break;
            }
        }
        if (!closed) {
            if (err) {
                err->kind = RN_EXPR_PARSING;
                snprintf(err->message, sizeof err->message,
                         "The expression is not closed. An unescaped ${{ sequence was found, but "
                         "the closing }} sequence was not found.");
            }
            rn_tmpl_free(t);
            return NULL;
        }
        /* The expression is the trimmed text between "${{" and "}}". */
        const char *es = text + start + 3;
        size_t el = end - 1 - (start + 3);
        size_t wn;
        while (el > 0 && rn_expr_is_space(es, el, &wn))
            es += wn, el -= wn;
        while (el > 0) {
            size_t k = el - 1;
            while (k > 0 && ((unsigned char)es[k] & 0xC0) == 0x80)
                k--;
            if (!rn_expr_is_space(es + k, el - k, &wn))
                break;
            el = k;
        }
        if (el == 0) {
            if (err) {
                err->kind = RN_EXPR_PARSING;
                snprintf(err->message, sizeof err->message, "An expression was expected");
            }
            rn_tmpl_free(t);
            return NULL;
        }
        char *etext = rn_xstrndup(es, el);
        rn_expr *x = rn_expr_parse(etext, scope, err);
        free(etext);
        if (!x) {
            rn_tmpl_free(t);
            return NULL;
        }
        t->segs = rn_xrealloc(t->segs, (t->nseg + 1) * sizeof *t->segs);
        t->segs[t->nseg++] = (tmpl_seg){NULL, 0, x};
        t->nexpr++;
        open = strstr(text + i, "${{");
    }
    return t;
}

void rn_tmpl_free(rn_tmpl *t) {
    if (!t)
        return;
    for (size_t i = 0; i < t->nseg; i++) {
        free(t->segs[i].lit);
        rn_expr_free(t->segs[i].expr);
    }
    free(t->segs);
    free(t);
}

bool rn_tmpl_is_literal(const rn_tmpl *t) {
    return t->nexpr == 0;
}

size_t rn_tmpl_expr_count(const rn_tmpl *t) {
    return t->nexpr;
}

const rn_expr *rn_tmpl_expr_at(const rn_tmpl *t, size_t i) {
    for (size_t k = 0; k < t->nseg; k++) {
        if (t->segs[k].expr && i-- == 0)
            return t->segs[k].expr;
    }
    return NULL;
}

json_t *rn_tmpl_eval(const rn_tmpl *t, const rn_expr_eval_ctx *ctx, rn_expr_error *err) {
    if (err) {
        err->kind = RN_EXPR_OK;
        err->message[0] = 0;
    }
    if (t->nseg == 1 && t->segs[0].expr)
        return rn_expr_eval(t->segs[0].expr, ctx, err);
    rn_sb sb = RN_SB_INIT;
    for (size_t i = 0; i < t->nseg; i++) {
        if (t->segs[i].lit) {
            rn_sb_append(&sb, t->segs[i].lit, t->segs[i].len);
            continue;
        }
        json_t *v = rn_expr_eval(t->segs[i].expr, ctx, err);
        if (!v) {
            rn_sb_free(&sb);
            return NULL;
        }
        if (json_is_string(v)) { /* keep embedded NULs */
            rn_sb_append(&sb, json_string_value(v), json_string_length(v));
        } else {
            char *s = rn_value_to_string(v);
            rn_sb_puts(&sb, s);
            free(s);
        }
        json_decref(v);
    }
    json_t *res = json_stringn_nocheck(rn_sb_str(&sb), sb.len);
    rn_sb_free(&sb);
    return res;
}
