/* Environment files, following actions/runner's FileCommandManager.cs (EnvFileKeyValuePairs). */
#include "actions/envfile.h"

#include "common/arena.h"
#include "common/strbuf.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

void rn_envfile_free(rn_envfile *f) {
    for (size_t i = 0; i < f->count; i++) {
        free(f->items[i].name);
        free(f->items[i].value);
    }
    free(f->items);
    f->items = NULL;
    f->count = f->cap = 0;
}

static void add_entry(rn_envfile *f, const char *name, size_t nl, const char *value, size_t vl,
                      int line) {
    if (f->count == f->cap) {
        f->cap = f->cap ? f->cap * 2 : 8;
        f->items = rn_xrealloc(f->items, f->cap * sizeof *f->items);
    }
    rn_envfile_entry *e = &f->items[f->count++];
    e->name = rn_xstrndup(name, nl);
    e->value = rn_xmalloc(vl + 1);
    if (vl)
        memcpy(e->value, value, vl);
    e->value[vl] = 0;
    e->value_len = vl;
    e->line = line;
}

/* File.ReadAllText skips a byte order mark. */
static size_t skip_bom(const char *text, size_t len) {
    return (len >= 3 && memcmp(text, "\xef\xbb\xbf", 3) == 0) ? 3 : 0;
}

/* EnvFileKeyValuePairs.ReadLine on Linux: only LF ends a line. Returns false at the end;
 * *has_nl tells whether the line ended with a newline (the runner's `newline != null`). */
static bool read_line(const char *t, size_t len, size_t *idx, const char **line, size_t *ll,
                      bool *has_nl) {
    if (*idx >= len)
        return false;
    const char *start = t + *idx;
    const char *lf = memchr(start, '\n', len - *idx);
    *line = start;
    if (!lf) {
        *ll = len - *idx;
        *idx = len;
        *has_nl = false;
    } else {
        *ll = (size_t)(lf - start);
        *idx += *ll + 1;
        *has_nl = true;
    }
    return true;
}

static const char *find2(const char *s, size_t n, char a, char b) {
    for (size_t i = 0; i + 1 < n; i++)
        if (s[i] == a && s[i + 1] == b)
            return s + i;
    return NULL;
}

int rn_envfile_parse(const char *text, size_t len, const char *file, rn_envfile *out,
                     rn_diags *diags) {
    if (!text)
        return 0;
    size_t idx = skip_bom(text, len);
    int lineno = 0;
    const char *line;
    size_t ll;
    bool nl;
    while (read_line(text, len, &idx, &line, &ll, &nl)) {
        lineno++;
        if (ll == 0)
            continue;
        const char *eq = memchr(line, '=', ll);
        const char *hd = find2(line, ll, '<', '<');
        if (eq && (!hd || eq < hd)) {
            /* NAME=VALUE. The runner's empty-name check tests the line, not the name, so
             * `=value` yields the name "". */
            add_entry(out, line, (size_t)(eq - line), eq + 1, ll - (size_t)(eq - line) - 1, lineno);
        } else if (hd && (!eq || hd < eq)) {
            size_t kl = (size_t)(hd - line);
            const char *delim = hd + 2;
            size_t dl = ll - kl - 2;
            if (kl == 0 || dl == 0) {
                rn_diag_add(diags, file, lineno, 0,
                            "Invalid format '%.*s'. Name must not be empty and delimiter must "
                            "not be empty",
                            (int)ll, line);
                return -1;
            }
            int header = lineno;
            size_t start = idx, end = idx;
            const char *tl;
            size_t tll;
            bool tnl;
            for (;;) {
                if (!read_line(text, len, &idx, &tl, &tll, &tnl)) {
                    rn_diag_add(diags, file, header, 0,
                                "Invalid value. Matching delimiter not found '%.*s'", (int)dl,
                                delim);
                    return -1;
                }
                lineno++;
                if (tll == dl && memcmp(tl, delim, dl) == 0)
                    break;
                if (!tnl) {
                    rn_diag_add(diags, file, lineno, 0,
                                "Invalid value. EOF marker missing new line.");
                    return -1;
                }
                end = idx - 1;
            }
            add_entry(out, line, kl, text + start, end > start ? end - start : 0, header);
        } else {
            rn_diag_add(diags, file, lineno, 0, "Invalid format '%.*s'", (int)ll, line);
            return -1;
        }
    }
    return 0;
}

char *rn_filecmd_failed_message(const char *filecmd) {
    return rn_xprintf("Unable to process file command '%s' successfully.", filecmd);
}

const char *rn_envfile_env_name_blocked(const char *name) {
    if (name && strcasecmp(name, "NODE_OPTIONS") == 0)
        return "Can't store NODE_OPTIONS output parameter using '$GITHUB_ENV' command.";
    return NULL;
}

bool rn_env_name_usable(const char *name) {
    return name && *name && !strchr(name, '=');
}

void rn_strlist_add(rn_strlist *l, const char *s) {
    if (l->count == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 4;
        l->items = rn_xrealloc(l->items, l->cap * sizeof *l->items);
    }
    l->items[l->count++] = rn_xstrdup(s);
}

void rn_strlist_free(rn_strlist *l) {
    for (size_t i = 0; i < l->count; i++)
        free(l->items[i]);
    free(l->items);
    l->items = NULL;
    l->count = l->cap = 0;
}

static void path_add_n(rn_strlist *l, const char *s, size_t n) {
    size_t w = 0;
    for (size_t i = 0; i < l->count; i++) {
        if (strlen(l->items[i]) == n && memcmp(l->items[i], s, n) == 0)
            free(l->items[i]);
        else
            l->items[w++] = l->items[i];
    }
    l->count = w;
    if (l->count == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 8;
        l->items = rn_xrealloc(l->items, l->cap * sizeof *l->items);
    }
    l->items[l->count++] = rn_xstrndup(s, n);
}

void rn_path_add(rn_strlist *prepend, const char *entry) {
    path_add_n(prepend, entry, strlen(entry));
}

void rn_pathfile_parse(const char *text, size_t len, rn_strlist *prepend) {
    if (!text)
        return;
    size_t i = skip_bom(text, len);
    while (i < len) {
        size_t j = i;
        while (j < len && text[j] != '\n' && text[j] != '\r')
            j++;
        /* A NUL would end the C string anyway; keep the part before it. */
        const char *nul = memchr(text + i, 0, j - i);
        size_t n = nul ? (size_t)(nul - (text + i)) : j - i;
        if (n > 0)
            path_add_n(prepend, text + i, n);
        if (j < len && text[j] == '\r' && j + 1 < len && text[j + 1] == '\n')
            j++;
        i = j + 1;
    }
}

char *rn_path_join(const rn_strlist *prepend, const char *base) {
    rn_sb sb = RN_SB_INIT;
    for (size_t i = prepend->count; i-- > 0;) {
        if (sb.len)
            rn_sb_putc(&sb, ':');
        rn_sb_puts(&sb, prepend->items[i]);
    }
    if (base && *base) {
        if (sb.len)
            rn_sb_putc(&sb, ':');
        rn_sb_puts(&sb, base);
    }
    return rn_sb_take(&sb);
}

rn_summary_check rn_step_summary_check(size_t size, char **error) {
    if (error)
        *error = NULL;
    if (size == 0)
        return RN_SUMMARY_EMPTY;
    if (size > RN_STEP_SUMMARY_LIMIT) {
        if (error)
            *error = rn_xprintf(
                "$GITHUB_STEP_SUMMARY upload aborted, supports content up to a size of %dk, got "
                "%zuk. For more information see: "
                "https://docs.github.com/actions/using-workflows/"
                "workflow-commands-for-github-actions#adding-a-markdown-summary",
                RN_STEP_SUMMARY_LIMIT / 1024, size / 1024);
        return RN_SUMMARY_TOO_LARGE;
    }
    return RN_SUMMARY_OK;
}
