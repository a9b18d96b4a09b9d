/* Masked output: every byte a user or a log sees goes through here.
 *
 * rn_mask is the set of secrets of a run. Secrets may be added at any time (job start,
 * `::add-mask::`) from any thread while other threads mask output. Masking replaces every
 * occurrence of every registered string with "***"; matches that overlap or touch merge into one
 * "***", so a shorter secret can never leave part of a longer one visible (actions/runner's
 * SecretMasker does the same). Like actions/runner, a value is also masked in the encodings it
 * commonly shows up in (JSON string, URL, base64, XML, expression string escapes) and each line
 * of a multi-line value is masked on its own, since output is masked line by line.
 *
 * rn_out is a destination (a FILE* or an fd) shared by concurrent writers: it masks each line
 * and writes whole lines under a lock, so lines of parallel jobs never interleave mid-line.
 * rn_line_writer joins the arbitrary chunks a producer writes into lines for an rn_out, so a
 * secret split across two writes is still masked.
 *
 * Ownership: what rn_mask_new, rn_out_new_file/_fd and rn_line_writer_new return is freed by its
 * _free function. rn_out borrows its FILE or fd and its mask (both must outlive it); an
 * rn_line_writer borrows its rn_out. Strings passed in are copied. */
#ifndef RN_OUTPUT_H
#define RN_OUTPUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "common/strbuf.h"

#define RN_MASK "***"
/* Derived encodings (not the value itself) shorter than this are not registered: they would
 * mask unrelated text (actions/runner applies the same floor to base64 forms). */
#define RN_MASK_MIN_DERIVED 4

typedef struct rn_mask rn_mask;

rn_mask *rn_mask_new(void);
void rn_mask_free(rn_mask *m);

/* Registers a secret value: the value as given, its whitespace-trimmed form, each trimmed
 * non-empty line of a multi-line value, and the encodings of each of those. Returns false (and
 * registers nothing) for an empty or whitespace-only value. Thread-safe. */
bool rn_mask_add(rn_mask *m, const char *value);
/* Registers exactly these bytes, no variants. n == 0 is ignored. Thread-safe. */
void rn_mask_add_literal(rn_mask *m, const char *s, size_t n);
/* Number of distinct strings being masked (value variants included). */
size_t rn_mask_count(rn_mask *m);

/* Appends s[0..n) to out with every secret replaced by RN_MASK. m may be NULL (copies s).
 * Thread-safe; cost is linear in n for typical secret sets, independent of their number. */
void rn_mask_apply(rn_mask *m, const char *s, size_t n, rn_sb *out);
/* Masked copy of a NUL-terminated string. Caller frees. */
char *rn_mask_str(rn_mask *m, const char *s);

typedef struct rn_out rn_out;

/* mask may be NULL (nothing masked yet, e.g. before secrets are known). */
rn_out *rn_out_new_file(FILE *f, rn_mask *mask);
rn_out *rn_out_new_fd(int fd, rn_mask *mask);
void rn_out_free(rn_out *o);

/* Writes prefix + line + "\n", masked as one line (prefix may be NULL). `line` must not contain
 * '\n' (use rn_out_text for that). Thread-safe; the line is written whole. */
void rn_out_line(rn_out *o, const char *prefix, const char *line, size_t len);
/* Writes text that may hold several lines; each is masked and written as a line, a final
 * partial line gets a '\n'. All lines go out together. */
void rn_out_text(rn_out *o, const char *prefix, const char *text, size_t len);
void rn_out_printf(rn_out *o, const char *prefix, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

typedef struct rn_line_writer rn_line_writer;

/* A producer's view of an rn_out (e.g. one job's step output): complete lines are written as
 * they form; a partial line waits for its end. A line longer than RN_OUT_MAX_LINE is cut there
 * (a '\n' is inserted) to bound memory. Not thread-safe itself: one producer per writer. */
#define RN_OUT_MAX_LINE (1024 * 1024)
rn_line_writer *rn_line_writer_new(rn_out *o, const char *prefix);
void rn_line_writer_write(rn_line_writer *w, const char *data, size_t n);
/* Writes a pending partial line, terminated with '\n'. */
void rn_line_writer_flush(rn_line_writer *w);
/* Flushes, then frees. NULL is a no-op. */
void rn_line_writer_free(rn_line_writer *w);

#endif
