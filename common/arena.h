/* Arena allocator: many small allocations freed together.
 * Ownership: the arena owns every block it hands out; rn_arena_free() releases them all.
 * Allocation failure aborts the process (out of memory is not recoverable for a runner). */
#ifndef RN_ARENA_H
#define RN_ARENA_H

#include <stdarg.h>
#include <stddef.h>

typedef struct rn_arena_block rn_arena_block;
typedef struct rn_arena {
    rn_arena_block *head;
    size_t used; /* bytes handed out, for memory limits */
} rn_arena;

void rn_arena_init(rn_arena *a);
void rn_arena_free(rn_arena *a);
void *rn_arena_alloc(rn_arena *a, size_t size);    /* zeroed, aligned to max_align_t */
char *rn_arena_strdup(rn_arena *a, const char *s); /* NULL in, NULL out */
char *rn_arena_strndup(rn_arena *a, const char *s, size_t n);
char *rn_arena_printf(rn_arena *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
char *rn_arena_vprintf(rn_arena *a, const char *fmt, va_list ap);

/* Heap helpers that abort on out-of-memory. Caller frees with free(). */
void *rn_xmalloc(size_t n);
void *rn_xcalloc(size_t n, size_t size);
void *rn_xrealloc(void *p, size_t n);
char *rn_xstrdup(const char *s);
char *rn_xstrndup(const char *s, size_t n);
char *rn_xprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
