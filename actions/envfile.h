/* Environment files: what a step writes to GITHUB_ENV, GITHUB_OUTPUT, GITHUB_STATE, GITHUB_PATH
 * and GITHUB_STEP_SUMMARY, parsed with actions/runner's rules
 * (src/Runner.Worker/FileCommandManager.cs, EnvFileKeyValuePairs, AddPathFileCommand,
 * CreateStepSummaryCommand). Pure parsing: the caller reads the files and applies the results.
 *
 * Ownership: an rn_envfile owns its entries and their strings (rn_envfile_free()); an
 * rn_strlist owns its strings (rn_strlist_free()). Returned char * are the caller's to free().
 * Owner: actions/envfile (workflow-commands engineer). */
#ifndef RN_ACTIONS_ENVFILE_H
#define RN_ACTIONS_ENVFILE_H

#include "common/diag.h"

#include <stdbool.h>
#include <stddef.h>

typedef struct rn_envfile_entry {
    char *name;
    char *value;      /* NUL-terminated; may hold embedded NULs, see value_len */
    size_t value_len; /* bytes */
    int line;         /* 1-based line of `NAME=...` or `NAME<<DELIM` */
} rn_envfile_entry;

typedef struct rn_envfile {
    rn_envfile_entry *items; /* in file order; a later duplicate name wins when applied */
    size_t count, cap;
} rn_envfile;

#define RN_ENVFILE_INIT                                                                            \
    { NULL, 0, 0 }

/* Parses GITHUB_ENV / GITHUB_OUTPUT / GITHUB_STATE contents (`NAME=value` lines and
 * `NAME<<DELIM` ... `DELIM` heredocs). A UTF-8 BOM is skipped. Only LF ends a line (CR is data,
 * as on the Linux runner). Empty lines are skipped. On the first error, adds one diag (file as
 * given, line number, col 0, GitHub's exception text) and returns -1; the entries before the
 * error stay in *out, because the runner applies pairs as it reads them. Returns 0 on success. */
int rn_envfile_parse(const char *text, size_t len, const char *file, rn_envfile *out,
                     rn_diags *diags);
void rn_envfile_free(rn_envfile *f);

/* The file command names the runner uses in "Unable to process file command '%s' successfully."
 * ("env", "output", "state", "path", "step_summary"). */
#define RN_FILECMD_ENV "env"
#define RN_FILECMD_OUTPUT "output"
#define RN_FILECMD_STATE "state"
#define RN_FILECMD_PATH "path"
#define RN_FILECMD_STEP_SUMMARY "step_summary"
/* "Unable to process file command 'env' successfully." Caller frees. */
char *rn_filecmd_failed_message(const char *filecmd);

/* GITHUB_ENV names the runner refuses (NODE_OPTIONS, any case). Returns GitHub's error text for
 * such a name (an error annotation; the other pairs still apply), or NULL when it may be set.
 * The runner accepts every other name, including "" (from a `=value` line). */
const char *rn_envfile_env_name_blocked(const char *name);
/* Whether a name can be put into a process environment at all (non-empty, no '='). The runner
 * does not check this; runnel uses it to skip (and report) names execve() cannot take. */
bool rn_env_name_usable(const char *name);

/* A list of strings, used for PATH entries. */
typedef struct rn_strlist {
    char **items;
    size_t count, cap;
} rn_strlist;

#define RN_STRLIST_INIT                                                                            \
    { NULL, 0, 0 }
void rn_strlist_free(rn_strlist *l);
void rn_strlist_add(rn_strlist *l, const char *s); /* appends a copy */

/* The runner's PrependPath.Add: removes an equal entry, then appends (so the latest addition
 * is last and wins). */
void rn_path_add(rn_strlist *prepend, const char *entry);
/* Parses GITHUB_PATH contents: one path per line (LF, CR or CRLF end a line, as
 * File.ReadAllLines), empty lines skipped, BOM skipped; each line goes through rn_path_add(). */
void rn_pathfile_parse(const char *text, size_t len, rn_strlist *prepend);
/* The PATH a later step sees: the prepend list in reverse order (latest first), then `base`
 * (if non-empty), joined with ':'. Caller frees. */
char *rn_path_join(const rn_strlist *prepend, const char *base);

/* GITHUB_STEP_SUMMARY: GitHub uploads at most 1 MiB. */
#define RN_STEP_SUMMARY_LIMIT (1024 * 1024)
typedef enum rn_summary_check {
    RN_SUMMARY_EMPTY,    /* nothing to upload (skipped silently) */
    RN_SUMMARY_OK,       /* use the content (after masking secrets, line by line) */
    RN_SUMMARY_TOO_LARGE /* *error set to GitHub's error text (caller frees); step not failed */
} rn_summary_check;
rn_summary_check rn_step_summary_check(size_t size, char **error);

#endif
