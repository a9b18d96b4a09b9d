#include "strbuf.h"

#include "arena.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void reserve(rn_sb *sb, size_t extra) {
    if (sb->len + extra + 1 <= sb->cap)
        return;
    size_t cap = sb->cap ? sb->cap : 64;
    while (cap < sb->len + extra + 1)
        cap *= 2;
    sb->data = rn_xrealloc(sb->data, cap);
    sb->cap = cap;
}

void rn_sb_append(rn_sb *sb, const char *s, size_t n) {
    reserve(sb, n);
    if (n)
        memcpy(sb->data + sb->len, s, n);
    sb->len += n;
    sb->data[sb->len] = 0;
}

void rn_sb_puts(rn_sb *sb, const char *s) {
    rn_sb_append(sb, s, strlen(s));
}

void rn_sb_putc(rn_sb *sb, char c) {
    rn_sb_append(sb, &c, 1);
}

void rn_sb_vprintf(rn_sb *sb, const char *fmt, va_list ap) {
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap);
    reserve(sb, (size_t)n);
    vsnprintf(sb->data + sb->len, (size_t)n + 1, fmt, ap2);
    va_end(ap2);
    sb->len += (size_t)n;
}

void rn_sb_printf(rn_sb *sb, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    rn_sb_vprintf(sb, fmt, ap);
    va_end(ap);
}

const char *rn_sb_str(const rn_sb *sb) {
    return sb->data ? sb->data : "";
}

void rn_sb_clear(rn_sb *sb) {
    sb->len = 0;
    if (sb->data)
        sb->data[0] = 0;
}

char *rn_sb_take(rn_sb *sb) {
    char *p = sb->data ? sb->data : rn_xstrdup("");
    sb->data = NULL;
    sb->len = sb->cap = 0;
    return p;
}

void rn_sb_free(rn_sb *sb) {
    free(sb->data);
    sb->data = NULL;
    sb->len = sb->cap = 0;
}

char *rn_read_file(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    rn_sb sb = RN_SB_INIT;
    char buf[65536];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0)
        rn_sb_append(&sb, buf, n);
    int err = ferror(f);
    fclose(f);
    if (err) {
        rn_sb_free(&sb);
        errno = EIO;
        return NULL;
    }
    if (len)
        *len = sb.len;
    return rn_sb_take(&sb);
}
