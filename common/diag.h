/* The one diagnostic type of runnel: a position in a file and a message.
 * Every module reports user-facing errors as rn_diag entries in an rn_diags list.
 * Ownership: an rn_diags owns its entries and their strings; rn_diags_free() releases them. */
#ifndef RN_DIAG_H
#define RN_DIAG_H

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>

typedef struct rn_diag {
    char *file;    /* path as shown to the user; may be NULL for errors without a file */
    int line, col; /* 1-based; 0 when unknown */
    char *message;
} rn_diag;

typedef struct rn_diags {
    rn_diag *items;
    size_t count, cap;
} rn_diags;

#define RN_DIAGS_INIT                                                                              \
    { NULL, 0, 0 }

void rn_diag_add(rn_diags *d, const char *file, int line, int col, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
void rn_diag_vadd(rn_diags *d, const char *file, int line, int col, const char *fmt, va_list ap);
/* Sorts by (file, line, col) keeping insertion order for ties; drops exact duplicates. */
void rn_diags_sort(rn_diags *d);
void rn_diags_free(rn_diags *d);

/* "FILE:LINE:COL: message" (the CLI form). Caller frees. */
char *rn_diag_format_cli(const rn_diag *d);
/* "FILE (Line: L, Col: C): message" (GitHub's form). Caller frees. */
char *rn_diag_format_github(const rn_diag *d);
void rn_diags_print(const rn_diags *d, FILE *out);

#endif
