/* GitHub's hashFiles() and the @actions/glob matcher behind it (also used to resolve the
 * actions/cache `path` input).
 *
 * Patterns follow @actions/glob: one per entry (or per line of a multi-line string), blank lines
 * and `#` comments skipped, leading `!` negates, `~` is $HOME, relative patterns are rooted at
 * `cwd`, `*` `?` `[...]` match within a segment (dot files included), `**` any number of
 * segments, a trailing `/` matches directories only, and a pattern also matches everything
 * below what it names (implicit descendants, when asked for). The last pattern that matches an
 * item decides. Items are produced in the toolkit's order: per search path, depth-first with
 * directory entries in byte order.
 *
 * Ownership: returned strings and lists are the caller's (free(), rn_strlist_free()).
 * Owner: caching engineer. */
#ifndef RN_ACTIONS_HASHFILES_H
#define RN_ACTIONS_HASHFILES_H

#include "actions/envfile.h"

#include <jansson.h>

#include <stdbool.h>
#include <stddef.h>

typedef struct rn_glob_opts {
    bool follow_symlinks;      /* stat() through links (a broken link is then omitted) */
    bool implicit_descendants; /* `dir` also matches everything below it */
    bool match_directories;    /* directories themselves are results */
} rn_glob_opts;

/* Splits a multi-line input into patterns (trimmed, blank and `#` lines dropped) appended to
 * out. */
void rn_glob_split_lines(const char *text, rn_strlist *out);

/* Expands patterns relative to cwd into absolute paths appended to out. Returns 0, or -1 with
 * *err (malloc'ed) for an invalid pattern. */
int rn_glob(const char *cwd, const char *const *patterns, size_t n, const rn_glob_opts *opts,
            rn_strlist *out, char **err);

/* hashFiles(patterns...) rooted at workspace: the lowercase hex sha256 over the binary sha256
 * of every matched regular file under workspace (files elsewhere are skipped), "" when nothing
 * matched. Returns malloc'ed text, or NULL with *err (malloc'ed). */
char *rn_hashfiles(const char *workspace, const char *const *patterns, size_t n,
                   bool follow_symlinks, char **err);

/* The expression function: hashFiles(args...) as actions/runner evaluates it. A first argument
 * "--follow-symbolic-links" turns following links on (default off) and is not a pattern; every
 * argument must be a string. Returns a new json string, or NULL with *err (malloc'ed). For
 * rn_expr_eval_ctx.call: `if (!strcasecmp(name, "hashFiles")) return rn_hashfiles_call(...)`. */
json_t *rn_hashfiles_call(const char *workspace, json_t *const *args, size_t nargs, char **err);

#endif
