#include "common/pathmap.h"

#include "common/arena.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

char *rn_path_normalize(const char *path) {
    size_t n = strlen(path);
    char *out = rn_xmalloc(n + 2);
    size_t len = 0; /* out[0..len): "/a/b" without a trailing slash; "" is the root */
    for (const char *p = path; *p;) {
        while (*p == '/')
            p++;
        const char *seg = p;
        while (*p && *p != '/')
            p++;
        size_t sl = (size_t)(p - seg);
        if (sl == 0 || (sl == 1 && seg[0] == '.'))
            continue;
        if (sl == 2 && seg[0] == '.' && seg[1] == '.') {
            while (len > 0 && out[len - 1] != '/')
                len--;
            if (len > 0)
                len--; /* the slash */
            continue;
        }
        out[len++] = '/';
        memcpy(out + len, seg, sl);
        len += sl;
    }
    if (len == 0)
        out[len++] = '/';
    out[len] = '\0';
    return out;
}

/* Does normalized `path` lie in normalized folder `dir` (or is it)? Returns the rest ("" or
 * "/x/y"), or NULL. */
static const char *under(const char *path, const char *dir) {
    if (!strcmp(dir, "/"))
        return path[1] ? path : "";
    size_t l = strlen(dir);
    if (strncmp(path, dir, l) || (path[l] && path[l] != '/'))
        return NULL;
    return path + l;
}

static char *translate(const rn_pathmap *map, size_t n, const char *path, bool to_outer) {
    char *p = rn_path_normalize(path);
    if (n == 0)
        return p;
    const char *best_rest = NULL, *best_to = NULL;
    size_t best_len = 0;
    for (size_t i = 0; i < n; i++) {
        char *from = rn_path_normalize(to_outer ? map[i].inner : map[i].outer);
        const char *rest = under(p, from);
        size_t fl = strlen(from);
        if (rest && (!best_rest || fl > best_len)) {
            best_rest = rest;
            best_len = fl;
            best_to = to_outer ? map[i].outer : map[i].inner;
        }
        free(from);
    }
    char *r = NULL;
    if (best_rest) {
        char *joined = rn_xprintf("%s%s", best_to, best_rest);
        r = rn_path_normalize(joined);
        free(joined);
    }
    free(p);
    return r;
}

char *rn_pathmap_outer(const rn_pathmap *map, size_t n, const char *inner) {
    return translate(map, n, inner, true);
}

char *rn_pathmap_inner(const rn_pathmap *map, size_t n, const char *outer) {
    return translate(map, n, outer, false);
}
