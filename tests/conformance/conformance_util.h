/* Shared by the conformance harnesses: the known-failures list and the sorted data files.
 * Ownership: rn_conf_files() returns a malloc'ed array of malloc'ed names; free each and the
 * array. */
#ifndef RN_CONFORMANCE_UTIL_H
#define RN_CONFORMANCE_UTIL_H

#include "common/arena.h"

#include <dirent.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* Is `name` listed in a known-failures text ("NAME<space or tab>reason" per line)? */
static inline bool rn_conf_known(const char *known_text, const char *name) {
    size_t n = strlen(name);
    for (const char *p = known_text; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
        if (!strncmp(p, name, n) && (p[n] == ' ' || p[n] == '\t'))
            return true;
    return false;
}

static inline int rn_conf_cmp_name(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Names in `dir` ending with `suffix`, sorted; NULL with *n = 0 when dir cannot be read. */
static inline char **rn_conf_files(const char *dir_path, const char *suffix, size_t *n) {
    *n = 0;
    DIR *dir = opendir(dir_path);
    if (!dir)
        return NULL;
    char **names = NULL;
    size_t sl = strlen(suffix);
    struct dirent *de;
    while ((de = readdir(dir))) {
        size_t l = strlen(de->d_name);
        if (l > sl && !strcmp(de->d_name + l - sl, suffix)) {
            names = rn_xrealloc(names, (*n + 1) * sizeof *names);
            names[(*n)++] = rn_xstrdup(de->d_name);
        }
    }
    closedir(dir);
    if (*n)
        qsort(names, *n, sizeof *names, rn_conf_cmp_name);
    return names;
}

#endif
