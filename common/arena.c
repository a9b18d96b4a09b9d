#include "arena.h"

#include <stdalign.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct rn_arena_block {
    rn_arena_block *next;
    size_t size, used;
    alignas(max_align_t) unsigned char data[];
};

enum { RN_ARENA_BLOCK = 64 * 1024 };

static void oom(void) {
    fputs("runnel: out of memory\n", stderr);
    abort();
}

void *rn_xmalloc(size_t n) {
    void *p = malloc(n ? n : 1);
    if (!p)
        oom();
    return p;
}

void *rn_xcalloc(size_t n, size_t size) {
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (!p)
        oom();
    return p;
}

void *rn_xrealloc(void *p, size_t n) {
    p = realloc(p, n ? n : 1);
    if (!p)
        oom();
    return p;
}

char *rn_xstrdup(const char *s) {
    return rn_xstrndup(s, strlen(s));
}

char *rn_xstrndup(const char *s, size_t n) {
    char *p = rn_xmalloc(n + 1);
    memcpy(p, s, n);
    p[n] = 0;
    return p;
}

char *rn_xprintf(const char *fmt, ...) {
    va_list ap, ap2;
    va_start(ap, fmt);
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    char *p = rn_xmalloc((size_t)n + 1);
    vsnprintf(p, (size_t)n + 1, fmt, ap2);
    va_end(ap2);
    return p;
}

void rn_arena_init(rn_arena *a) {
    a->head = NULL;
    a->used = 0;
}

void rn_arena_free(rn_arena *a) {
    rn_arena_block *b = a->head;
    while (b) {
        rn_arena_block *next = b->next;
        free(b);
        b = next;
    }
    a->head = NULL;
    a->used = 0;
}

void *rn_arena_alloc(rn_arena *a, size_t size) {
    const size_t align = alignof(max_align_t);
    size = (size + align - 1) & ~(align - 1);
    rn_arena_block *b = a->head;
    if (!b || b->size - b->used < size) {
        size_t cap = size > RN_ARENA_BLOCK / 4 ? size : RN_ARENA_BLOCK;
        rn_arena_block *nb = rn_xmalloc(sizeof *nb + cap);
        nb->size = cap;
        nb->used = 0;
        if (b && cap == size) {
            /* Large one-off: keep the current block as head so its free space is still used. */
            nb->next = b->next;
            b->next = nb;
        } else {
            nb->next = b;
            a->head = nb;
        }
        b = nb;
    }
    void *p = b->data + b->used;
    b->used += size;
    a->used += size;
    memset(p, 0, size);
    return p;
}

char *rn_arena_strndup(rn_arena *a, const char *s, size_t n) {
    char *p = rn_arena_alloc(a, n + 1);
    memcpy(p, s, n);
    p[n] = 0;
    return p;
}

char *rn_arena_strdup(rn_arena *a, const char *s) {
    return s ? rn_arena_strndup(a, s, strlen(s)) : NULL;
}

char *rn_arena_vprintf(rn_arena *a, const char *fmt, va_list ap) {
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap);
    char *p = rn_arena_alloc(a, (size_t)n + 1);
    vsnprintf(p, (size_t)n + 1, fmt, ap2);
    va_end(ap2);
    return p;
}

char *rn_arena_printf(rn_arena *a, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    char *p = rn_arena_vprintf(a, fmt, ap);
    va_end(ap);
    return p;
}
