/* Growable NUL-terminated byte buffer.
 * Ownership: the buffer owns .data; rn_sb_free() releases it, rn_sb_take() hands it to the caller.
 */
#ifndef RN_STRBUF_H
#define RN_STRBUF_H

#include <stdarg.h>
#include <stddef.h>

typedef struct rn_sb {
    char *data; /* always NUL-terminated once anything was appended; may be NULL when empty */
    size_t len, cap;
} rn_sb;

#define RN_SB_INIT                                                                                 \
    { NULL, 0, 0 }

void rn_sb_append(rn_sb *sb, const char *s, size_t n);
void rn_sb_puts(rn_sb *sb, const char *s);
void rn_sb_putc(rn_sb *sb, char c);
void rn_sb_printf(rn_sb *sb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void rn_sb_vprintf(rn_sb *sb, const char *fmt, va_list ap);
const char *rn_sb_str(const rn_sb *sb); /* "" when empty */
void rn_sb_clear(rn_sb *sb);            /* keeps capacity */
char *rn_sb_take(rn_sb *sb);            /* caller frees; buffer is reset */
void rn_sb_free(rn_sb *sb);

/* Reads a whole file. Returns a malloc'ed NUL-terminated buffer (caller frees) and its length,
 * or NULL with errno set. */
char *rn_read_file(const char *path, size_t *len);

#endif
