#include "diag.h"

#include "arena.h"

#include <stdlib.h>
#include <string.h>

void rn_diag_vadd(rn_diags *d, const char *file, int line, int col, const char *fmt, va_list ap) {
    if (d->count == d->cap) {
        d->cap = d->cap ? d->cap * 2 : 8;
        d->items = rn_xrealloc(d->items, d->cap * sizeof *d->items);
    }
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap);
    char *msg = rn_xmalloc((size_t)n + 1);
    vsnprintf(msg, (size_t)n + 1, fmt, ap2);
    va_end(ap2);
    d->items[d->count++] = (rn_diag){file ? rn_xstrdup(file) : NULL, line, col, msg};
}

void rn_diag_add(rn_diags *d, const char *file, int line, int col, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    rn_diag_vadd(d, file, line, col, fmt, ap);
    va_end(ap);
}

static int nullcmp(const char *a, const char *b) {
    return strcmp(a ? a : "", b ? b : "");
}

void rn_diags_sort(rn_diags *d) {
    /* Insertion sort: stable, and lists are short. */
    for (size_t i = 1; i < d->count; i++) {
        rn_diag x = d->items[i];
        size_t j = i;
        while (j > 0) {
            rn_diag *p = &d->items[j - 1];
            int c = nullcmp(p->file, x.file);
            if (c < 0 || (c == 0 && (p->line < x.line || (p->line == x.line && p->col <= x.col))))
                break;
            d->items[j] = *p;
            j--;
        }
        d->items[j] = x;
    }
    size_t out = 0;
    for (size_t i = 0; i < d->count; i++) {
        rn_diag *x = &d->items[i];
        if (out > 0) {
            rn_diag *p = &d->items[out - 1];
            if (!nullcmp(p->file, x->file) && p->line == x->line && p->col == x->col &&
                !strcmp(p->message, x->message)) {
                free(x->file);
                free(x->message);
                continue;
            }
        }
        d->items[out++] = *x;
    }
    d->count = out;
}

void rn_diags_free(rn_diags *d) {
    for (size_t i = 0; i < d->count; i++) {
        free(d->items[i].file);
        free(d->items[i].message);
    }
    free(d->items);
    d->items = NULL;
    d->count = d->cap = 0;
}

char *rn_diag_format_cli(const rn_diag *d) {
    if (!d->file)
        return rn_xprintf("%s", d->message);
    if (d->line <= 0)
        return rn_xprintf("%s: %s", d->file, d->message);
    return rn_xprintf("%s:%d:%d: %s", d->file, d->line, d->col, d->message);
}

char *rn_diag_format_github(const rn_diag *d) {
    if (!d->file)
        return rn_xprintf("%s", d->message);
    if (d->line <= 0)
        return rn_xprintf("%s: %s", d->file, d->message);
    return rn_xprintf("%s (Line: %d, Col: %d): %s", d->file, d->line, d->col, d->message);
}

void rn_diags_print(const rn_diags *d, FILE *out) {
    for (size_t i = 0; i < d->count; i++) {
        char *s = rn_diag_format_cli(&d->items[i]);
        fprintf(out, "%s\n", s);
        free(s);
    }
}
