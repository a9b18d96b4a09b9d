/* Workflow commands, following actions/runner's ActionCommand.cs and ActionCommandManager.cs.
 * Quirks kept on purpose are commented where they happen. */
#include "actions/commands.h"

#include "common/strbuf.h"

#include <ctype.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char *const kind_names[RN_CMD_KIND_COUNT] = {
    [RN_CMD_UNKNOWN] = "",
    [RN_CMD_ADD_MASK] = "add-mask",
    [RN_CMD_GROUP] = "group",
    [RN_CMD_ENDGROUP] = "endgroup",
    [RN_CMD_DEBUG] = "debug",
    [RN_CMD_NOTICE] = "notice",
    [RN_CMD_WARNING] = "warning",
    [RN_CMD_ERROR] = "error",
    [RN_CMD_STOP_COMMANDS] = "stop-commands",
    [RN_CMD_ECHO] = "echo",
    [RN_CMD_SET_OUTPUT] = "set-output",
    [RN_CMD_SET_ENV] = "set-env",
    [RN_CMD_ADD_PATH] = "add-path",
    [RN_CMD_SAVE_STATE] = "save-state",
    [RN_CMD_ADD_MATCHER] = "add-matcher",
    [RN_CMD_REMOVE_MATCHER] = "remove-matcher",
};

const char *rn_cmd_kind_name(rn_cmd_kind k) {
    return (k >= 0 && k < RN_CMD_KIND_COUNT) ? kind_names[k] : "";
}

/* ---- .NET string helpers ---- */

/* Length in bytes of the UTF-8 whitespace character at s (char.IsWhiteSpace), or 0. */
static size_t ws_at(const unsigned char *s, size_t n) {
    if (n >= 1 && (s[0] == ' ' || (s[0] >= 0x09 && s[0] <= 0x0d)))
        return 1;
    if (n >= 2 && s[0] == 0xc2 && (s[1] == 0x85 || s[1] == 0xa0))
        return 2;
    if (n >= 3 && s[0] == 0xe1 && s[1] == 0x9a && s[2] == 0x80) /* U+1680 */
        return 3;
    if (n >= 3 && s[0] == 0xe2 && s[1] == 0x80 &&
        (s[2] <= 0x8a || s[2] == 0xa8 || s[2] == 0xa9 || s[2] == 0xaf) && s[2] >= 0x80)
        return 3; /* U+2000..200A, U+2028, U+2029, U+202F */
    if (n >= 3 && s[0] == 0xe2 && s[1] == 0x81 && s[2] == 0x9f) /* U+205F */
        return 3;
    if (n >= 3 && s[0] == 0xe3 && s[1] == 0x80 && s[2] == 0x80) /* U+3000 */
        return 3;
    return 0;
}

/* Whitespace ending exactly at s+n (scans back over at most 3 bytes). */
static size_t ws_before(const unsigned char *s, size_t n) {
    for (size_t k = 1; k <= 3 && k <= n; k++)
        if (ws_at(s + n - k, k) == k)
            return k;
    return 0;
}

static void trim_span(const char **s, size_t *n, bool start, bool end) {
    const unsigned char *p = (const unsigned char *)*s;
    size_t len = *n, w;
    while (start && len && (w = ws_at(p, len)) > 0) {
        p += w;
        len -= w;
    }
    while (end && len && (w = ws_before(p, len)) > 0)
        len -= w;
    *s = (const char *)p;
    *n = len;
}

static bool is_null_or_whitespace(const char *s) {
    const char *p = s;
    size_t n = strlen(s);
    trim_span(&p, &n, true, false);
    return n == 0;
}

/* string.Replace(from, to), ordinal, non-overlapping, left to right. */
static char *replace_all(rn_arena *a, const char *s, const char *from, const char *to) {
    size_t fl = strlen(from);
    if (!strstr(s, from))
        return (char *)s;
    rn_sb sb = RN_SB_INIT;
    const char *p = s, *hit;
    while ((hit = strstr(p, from)) != NULL) {
        rn_sb_append(&sb, p, (size_t)(hit - p));
        rn_sb_puts(&sb, to);
        p = hit + fl;
    }
    rn_sb_puts(&sb, p);
    char *r = rn_arena_strdup(a, rn_sb_str(&sb));
    rn_sb_free(&sb);
    return r;
}

typedef struct esc {
    const char *token, *replacement;
} esc;

/* The order matters ("%25" last), exactly as the runner's mapping tables. */
static const esc esc_legacy[] = {{";", "%3B"}, {"\r", "%0D"}, {"\n", "%0A"},
                                 {"]", "%5D"}, {"%", "%25"},  {NULL, NULL}};
static const esc esc_data[] = {{"\r", "%0D"}, {"\n", "%0A"}, {"%", "%25"}, {NULL, NULL}};
static const esc esc_prop[] = {{"\r", "%0D"}, {"\n", "%0A"}, {":", "%3A"},
                               {",", "%2C"},  {"%", "%25"},  {NULL, NULL}};

static char *unescape(rn_arena *a, const char *s, const esc *map) {
    for (; map->token; map++)
        s = replace_all(a, s, map->replacement, map->token);
    return (char *)s;
}

/* ---- parsing ---- */

static rn_cmd_kind kind_of(const char *name, size_t n, unsigned disabled) {
    for (int k = 1; k < RN_CMD_KIND_COUNT; k++)
        if (strlen(kind_names[k]) == n && strncasecmp(kind_names[k], name, n) == 0)
            return (disabled & (1u << k)) ? RN_CMD_UNKNOWN : (rn_cmd_kind)k;
    return RN_CMD_UNKNOWN;
}

typedef struct pbuf {
    rn_cmd_prop *items;
    size_t n, cap;
} pbuf;

static void prop_set(rn_arena *a, pbuf *pb, const char *k, size_t kl, const char *v) {
    /* Dictionary(OrdinalIgnoreCase): a later key replaces the value, keeping the first spelling */
    for (size_t i = 0; i < pb->n; i++)
        if (strlen(pb->items[i].key) == kl && strncasecmp(pb->items[i].key, k, kl) == 0) {
            pb->items[i].value = (char *)v;
            return;
        }
    if (pb->n == pb->cap) {
        size_t cap = pb->cap ? pb->cap * 2 : 4;
        rn_cmd_prop *n = rn_arena_alloc(a, cap * sizeof *n);
        if (pb->n)
            memcpy(n, pb->items, pb->n * sizeof *n);
        pb->items = n;
        pb->cap = cap;
    }
    pb->items[pb->n].key = rn_arena_strndup(a, k, kl);
    pb->items[pb->n].value = (char *)v;
    pb->n++;
}

/* Splits `s` on `sep` dropping empty entries, then each entry on '=' with .NET's
 * Split('=', 2, RemoveEmptyEntries): leading '='s vanish, the key runs to the next '=', the '='s
 * after it are skipped, and an entry without both a key and a non-empty value is ignored. */
static void parse_props(rn_arena *a, pbuf *pb, const char *s, size_t n, char sep, const esc *map) {
    size_t i = 0;
    while (i < n) {
        size_t j = i;
        while (j < n && s[j] != sep)
            j++;
        const char *e = s + i, *end = s + j;
        while (e < end && *e == '=')
            e++;
        const char *k = e;
        while (e < end && *e != '=')
            e++;
        size_t kl = (size_t)(e - k);
        if (e < end && kl > 0) {
            while (e < end && *e == '=')
                e++;
            if (e < end) {
                char *raw = rn_arena_strndup(a, e, (size_t)(end - e));
                prop_set(a, pb, k, kl, unescape(a, raw, map));
            }
        }
        i = j + 1;
    }
}

static bool name_registered(const char *name, size_t n, const char *extra, unsigned disabled,
                            rn_cmd_kind *kind) {
    *kind = kind_of(name, n, disabled);
    if (*kind != RN_CMD_UNKNOWN)
        return true;
    return extra && strlen(extra) == n && strncasecmp(extra, name, n) == 0;
}

/* ActionCommand.TryParseV2: `::name props::data` after leading whitespace. */
static bool parse_v2(rn_arena *a, const char *line, size_t len, const char *extra,
                     unsigned disabled, rn_cmd *out, pbuf *pb) {
    const char *m = line;
    size_t n = len;
    trim_span(&m, &n, true, false);
    if (n < 2 || m[0] != ':' || m[1] != ':')
        return false;
    const char *end = NULL;
    for (size_t i = 2; i + 1 < n; i++)
        if (m[i] == ':' && m[i + 1] == ':') {
            end = m + i;
            break;
        }
    if (!end)
        return false;
    const char *info = m + 2;
    size_t il = (size_t)(end - info);
    const char *sp = memchr(info, ' ', il);
    size_t nl = sp ? (size_t)(sp - info) : il;
    rn_cmd_kind kind;
    if (!name_registered(info, nl, extra, disabled, &kind))
        return false;
    out->kind = kind;
    out->name = rn_arena_strndup(a, info, nl);
    if (sp && sp > info) {
        const char *ps = sp + 1;
        size_t pl = (size_t)(end - ps);
        trim_span(&ps, &pl, true, true);
        parse_props(a, pb, ps, pl, ',', esc_prop);
    }
    const char *d = end + 2;
    out->data = unescape(a, rn_arena_strndup(a, d, (size_t)(m + n - d)), esc_data);
    return true;
}

/* ActionCommand.TryParse: `##[name k=v;k=v]data` anywhere in the line. */
static bool parse_legacy(rn_arena *a, const char *line, size_t len, const char *extra,
                         unsigned disabled, rn_cmd *out, pbuf *pb) {
    const char *p = memmem(line, len, "##[", 3);
    if (!p)
        return false;
    const char *info = p + 3;
    const char *rb = memchr(p, ']', len - (size_t)(p - line));
    if (!rb)
        return false;
    size_t il = (size_t)(rb - info);
    const char *sp = memchr(info, ' ', il);
    size_t nl = sp ? (size_t)(sp - info) : il;
    rn_cmd_kind kind;
    if (!name_registered(info, nl, extra, disabled, &kind))
        return false;
    out->kind = kind;
    out->name = rn_arena_strndup(a, info, nl);
    out->legacy = true;
    if (sp && sp > info)
        parse_props(a, pb, sp + 1, (size_t)(rb - sp - 1), ';', esc_legacy);
    out->data = unescape(a, rn_arena_strndup(a, rb + 1, (size_t)(line + len - rb - 1)), esc_legacy);
    return true;
}

/* Parses into arena-owned strings. */
static bool parse_in(rn_arena *a, const char *line, size_t len, const char *extra,
                     unsigned disabled, rn_cmd *out) {
    memset(out, 0, sizeof *out);
    if (!line)
        return false;
    const char *nul = memchr(line, 0, len);
    if (nul)
        len = (size_t)(nul - line);
    if (len == 0)
        return false;
    pbuf pb = {0};
    bool ok = parse_v2(a, line, len, extra, disabled, out, &pb);
    if (!ok) {
        memset(out, 0, sizeof *out);
        pb = (pbuf){0};
        ok = parse_legacy(a, line, len, extra, disabled, out, &pb);
    }
    if (!ok) {
        memset(out, 0, sizeof *out);
        return false;
    }
    out->props = pb.items;
    out->nprops = pb.n;
    return true;
}

bool rn_cmd_parse(const char *line, size_t len, const char *extra_name, unsigned disabled_mask,
                  rn_cmd *out) {
    rn_arena a;
    rn_arena_init(&a);
    rn_cmd tmp;
    bool ok = parse_in(&a, line, len, extra_name, disabled_mask, &tmp);
    memset(out, 0, sizeof *out);
    if (ok) {
        out->kind = tmp.kind;
        out->legacy = tmp.legacy;
        out->name = rn_xstrdup(tmp.name);
        out->data = rn_xstrdup(tmp.data);
        out->nprops = tmp.nprops;
        out->props = tmp.nprops ? rn_xcalloc(tmp.nprops, sizeof *out->props) : NULL;
        for (size_t i = 0; i < tmp.nprops; i++) {
            out->props[i].key = rn_xstrdup(tmp.props[i].key);
            out->props[i].value = rn_xstrdup(tmp.props[i].value);
        }
    }
    rn_arena_free(&a);
    return ok;
}

void rn_cmd_free(rn_cmd *c) {
    if (!c)
        return;
    for (size_t i = 0; i < c->nprops; i++) {
        free(c->props[i].key);
        free(c->props[i].value);
    }
    free(c->props);
    free(c->name);
    free(c->data);
    memset(c, 0, sizeof *c);
}

const char *rn_cmd_prop_get(const rn_cmd *c, const char *key) {
    for (size_t i = 0; i < c->nprops; i++)
        if (strcasecmp(c->props[i].key, key) == 0)
            return c->props[i].value;
    return NULL;
}

/* ---- booleans ---- */

bool rn_dotnet_bool(const char *s) {
    if (!s)
        return false;
    size_t n = strlen(s);
    trim_span(&s, &n, true, true);
    return n == 4 && strncasecmp(s, "true", 4) == 0;
}

bool rn_convert_to_boolean(const char *s) {
    if (!s)
        return false;
    return strcmp(s, "1") == 0 || strcasecmp(s, "true") == 0 || strcasecmp(s, "$true") == 0;
}

/* ---- processor ---- */

struct rn_cmd_proc {
    rn_cmd_config cfg;
    char *workspace;
    bool echo;
    bool stopped;
    char *stop_token;  /* heap */
    unsigned disabled; /* built-in names unregistered by a resumed stop token */
    rn_arena arena;    /* per-feed */
    rn_cmd_action *acts;
    size_t nacts, cap;
    rn_cmd_result res;
};

void rn_cmd_config_default(rn_cmd_config *c) {
    memset(c, 0, sizeof *c);
    c->warn_deprecated = true;
}

rn_cmd_proc *rn_cmd_proc_new(const rn_cmd_config *cfg) {
    rn_cmd_proc *p = rn_xcalloc(1, sizeof *p);
    if (cfg)
        p->cfg = *cfg;
    else
        rn_cmd_config_default(&p->cfg);
    p->workspace = p->cfg.workspace ? rn_xstrdup(p->cfg.workspace) : NULL;
    p->cfg.workspace = p->workspace;
    p->echo = p->cfg.echo;
    rn_arena_init(&p->arena);
    return p;
}

void rn_cmd_proc_free(rn_cmd_proc *p) {
    if (!p)
        return;
    rn_arena_free(&p->arena);
    free(p->acts);
    free(p->stop_token);
    free(p->workspace);
    free(p);
}

bool rn_cmd_proc_echo(const rn_cmd_proc *p) {
    return p->echo;
}

const char *rn_cmd_proc_stop_token(const rn_cmd_proc *p) {
    return p->stopped ? p->stop_token : NULL;
}

static rn_cmd_action *push(rn_cmd_proc *p, rn_cmd_action_kind kind, const char *text) {
    if (p->nacts == p->cap) {
        p->cap = p->cap ? p->cap * 2 : 8;
        p->acts = rn_xrealloc(p->acts, p->cap * sizeof *p->acts);
    }
    rn_cmd_action *a = &p->acts[p->nacts++];
    memset(a, 0, sizeof *a);
    a->kind = kind;
    a->text = text;
    a->text_len = text ? strlen(text) : 0;
    return a;
}

static void issue(rn_cmd_proc *p, rn_cmd_level level, const char *msg) {
    push(p, RN_ACT_ANNOTATION, msg)->level = level;
}

static void debug(rn_cmd_proc *p, const char *msg) {
    push(p, RN_ACT_DEBUG, msg);
}

/* The commands whose raw line is never echoed (IActionCommandExtension.OmitEcho). */
static bool omit_echo(rn_cmd_kind k) {
    return k == RN_CMD_ADD_MASK || k == RN_CMD_DEBUG || k == RN_CMD_NOTICE || k == RN_CMD_WARNING ||
           k == RN_CMD_ERROR;
}

/* The catch block around extension.ProcessCommand: two errors and a failed command result. */
static void fail(rn_cmd_proc *p, rn_cmd_kind k, const char *line, const char *msg) {
    const char *info = omit_echo(k) ? kind_names[k] : line;
    issue(p, RN_LEVEL_ERROR,
          rn_arena_printf(&p->arena, "Unable to process command '%s' successfully.", info));
    issue(p, RN_LEVEL_ERROR, msg);
    push(p, RN_ACT_FAIL_STEP, NULL);
}

static const char *disabled_msg(rn_cmd_proc *p, const char *cmd) {
    return rn_arena_printf(
        &p->arena,
        "The `%s` command is disabled. Please upgrade to using Environment Files or opt into "
        "unsecure command execution by setting the `ACTIONS_ALLOW_UNSECURE_COMMANDS` environment "
        "variable to `true`. For more information see: "
        "https://github.blog/changelog/2020-10-01-github-actions-deprecating-set-env-and-add-path-"
        "commands/",
        cmd);
}

static const char *deprecated_msg(rn_cmd_proc *p, const char *cmd) {
    return rn_arena_printf(
        &p->arena,
        "The `%s` command is deprecated and will be disabled soon. Please upgrade to using "
        "Environment Files. For more information see: "
        "https://github.blog/changelog/2022-10-11-github-actions-deprecating-save-state-and-set-"
        "output-commands/",
        cmd);
}

static const char *const stop_token_msg =
    "You cannot use a endToken that is an empty string, the string 'pause-logging', or another "
    "workflow command. For more information see: "
    "https://docs.github.com/actions/learn-github-actions/"
    "workflow-commands-for-github-actions#example-stopping-and-starting-workflow-commands or opt "
    "into insecure command execution by setting the `ACTIONS_ALLOW_UNSECURE_STOPCOMMAND_TOKENS` "
    "environment variable to `true`.";

/* .NET int.TryParse (NumberStyles.Integer): optional whitespace, optional sign, digits. */
static bool dotnet_int(const char *s, int *out) {
    if (!s)
        return false;
    size_t n = strlen(s);
    trim_span(&s, &n, true, true);
    size_t i = 0;
    bool neg = false;
    if (i < n && (s[i] == '+' || s[i] == '-'))
        neg = s[i++] == '-';
    if (i == n)
        return false;
    long long v = 0;
    for (; i < n; i++) {
        if (!isdigit((unsigned char)s[i]))
            return false;
        v = v * 10 + (s[i] - '0');
        if (v > (long long)INT_MAX + 1)
            return false;
    }
    if (neg)
        v = -v;
    if (v > INT_MAX || v < INT_MIN)
        return false;
    *out = (int)v;
    return true;
}

/* IOUtil.MakeRelative(path, folder) on Linux. */
static const char *make_relative(const char *path, const char *folder) {
    size_t fl = strlen(folder);
    if (strncmp(path, folder, fl) != 0)
        return path;
    if (path[fl] == 0)
        return "";
    if (fl > 0 && folder[fl - 1] == '/')
        return path + fl;
    if (path[fl] == '/')
        return path + fl + 1;
    return path;
}

/* IssueCommandExtension: ValidateLinesAndColumns, then the workspace-relative file. */
static void annotation(rn_cmd_proc *p, const rn_cmd *c, rn_cmd_level level) {
    const char *line = rn_cmd_prop_get(c, "line"), *end_line = rn_cmd_prop_get(c, "endLine");
    const char *col = rn_cmd_prop_get(c, "col"), *end_col = rn_cmd_prop_get(c, "endColumn");
    int ln = 0, eln = 0, cn = 0, ecn = 0;
    bool has_line = dotnet_int(line, &ln), has_end_line = dotnet_int(end_line, &eln);
    bool has_col = dotnet_int(col, &cn), has_end_col = dotnet_int(end_col, &ecn);
    bool has_column = has_col || has_end_col;
    const char *kn = kind_names[c->kind];
    /* The numbers keep their TryParse results below (a copied line keeps lineNumber 0), which
     * is how the runner compares them. */
    if (has_end_line && !has_line) {
        debug(p, rn_arena_printf(&p->arena,
                                 "Invalid %s command value. 'endLine' can only be set if 'line' "
                                 "is provided",
                                 kn));
        line = end_line;
        has_line = true;
    }
    if (has_end_col && !has_col) {
        debug(p, rn_arena_printf(&p->arena,
                                 "Invalid %s command value. 'endColumn' can only be set if 'col' "
                                 "is provided",
                                 kn));
        col = end_col;
        has_col = true;
    }
    if (!has_line && has_column) {
        debug(p, rn_arena_printf(&p->arena,
                                 "Invalid %s command value. 'col' and 'endColumn' can only be set "
                                 "if 'line' value is provided.",
                                 kn));
        col = end_col = NULL;
    }
    if (has_end_line && strcmp(line ? line : "", end_line) != 0 && has_column) {
        debug(p, rn_arena_printf(&p->arena,
                                 "Invalid %s command value. 'col' and 'endColumn' cannot be set "
                                 "if 'line' and 'endLine' are different values.",
                                 kn));
        col = end_col = NULL;
    }
    if (has_line && has_end_line && eln < ln) {
        debug(p, rn_arena_printf(&p->arena,
                                 "Invalid %s command value. 'endLine' cannot be less than 'line'.",
                                 kn));
        line = end_line = NULL;
    }
    if (has_col && has_end_col && ecn < cn) {
        debug(p, rn_arena_printf(&p->arena,
                                 "Invalid %s command value. 'endColumn' cannot be less than 'col'.",
                                 kn));
        col = end_col = NULL;
    }
    rn_cmd_action *a = push(p, RN_ACT_ANNOTATION, c->data);
    a->level = level;
    const char *file = rn_cmd_prop_get(c, "file");
    if (file && *file && p->workspace) {
        const char *rel = make_relative(file, p->workspace);
        if (rel != file && *rel)
            file = rel;
    }
    a->file = (file && *file) ? file : NULL;
    const char *title = rn_cmd_prop_get(c, "title");
    a->title = (title && *title) ? title : NULL;
    int v;
    a->line = dotnet_int(line, &v) ? v : 0;
    a->end_line = dotnet_int(end_line, &v) ? v : 0;
    a->col = dotnet_int(col, &v) ? v : 0;
    a->end_col = dotnet_int(end_col, &v) ? v : 0;
}

/* .NET string.Length of UTF-8 text: UTF-16 code units. */
static size_t utf16_len(const char *s) {
    size_t n = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if ((*p & 0xc0) != 0x80)
            n += (*p >= 0xf0) ? 2 : 1;
    }
    return n;
}

static void set_name_value(rn_cmd_proc *p, const rn_cmd *c, const char *line,
                           rn_cmd_action_kind act) {
    const char *name = rn_cmd_prop_get(c, "name");
    if (!name || !*name) {
        fail(p, c->kind, line,
             rn_arena_printf(&p->arena, "Required field 'name' is missing in ##[%s] command.",
                             kind_names[c->kind]));
        return;
    }
    push(p, act, c->data)->name = name;
}

static void run_command(rn_cmd_proc *p, const rn_cmd *c, const char *line) {
    switch (c->kind) {
    case RN_CMD_SET_ENV: {
        if (!p->cfg.allow_unsecure_commands) {
            fail(p, c->kind, line, disabled_msg(p, "set-env"));
            return;
        }
        const char *name = rn_cmd_prop_get(c, "name");
        if (name && *name && strcasecmp(name, "NODE_OPTIONS") == 0) {
            issue(p, RN_LEVEL_ERROR,
                  "Can't update NODE_OPTIONS environment variable using ::set-env:: command.");
            return;
        }
        set_name_value(p, c, line, RN_ACT_SET_ENV);
        return;
    }
    case RN_CMD_SET_OUTPUT:
    case RN_CMD_SAVE_STATE:
        if (p->cfg.warn_deprecated)
            issue(p, RN_LEVEL_WARNING, deprecated_msg(p, kind_names[c->kind]));
        set_name_value(p, c, line,
                       c->kind == RN_CMD_SET_OUTPUT ? RN_ACT_SET_OUTPUT : RN_ACT_SAVE_STATE);
        return;
    case RN_CMD_ADD_MASK:
        if (is_null_or_whitespace(c->data)) {
            issue(p, RN_LEVEL_WARNING,
                  "Can't add secret mask for empty string in ##[add-mask] command.");
            return;
        }
        if (p->echo)
            push(p, RN_ACT_PRINT, "::add-mask::***");
        push(p, RN_ACT_ADD_MASK, c->data);
        /* Output reaches the log line by line, so each line of a multi-line value is a secret
         * too (the runner's Split(CR, LF, RemoveEmptyEntries)). */
        if (strpbrk(c->data, "\r\n")) {
            for (const char *s = c->data; *s;) {
                size_t n = strcspn(s, "\r\n");
                if (n > 0)
                    push(p, RN_ACT_ADD_MASK, rn_arena_strndup(&p->arena, s, n));
                s += n;
                s += strspn(s, "\r\n");
            }
        }
        return;
    case RN_CMD_ADD_PATH:
        if (!p->cfg.allow_unsecure_commands) {
            fail(p, c->kind, line, disabled_msg(p, "add-path"));
            return;
        }
        if (!*c->data) {
            fail(p, c->kind, line, "Value cannot be null. (Parameter 'path')");
            return;
        }
        push(p, RN_ACT_ADD_PATH, c->data);
        return;
    case RN_CMD_ADD_MATCHER:
        if (!*c->data) {
            issue(p, RN_LEVEL_WARNING, "File path must be specified.");
            return;
        }
        push(p, RN_ACT_ADD_MATCHER, c->data);
        return;
    case RN_CMD_REMOVE_MATCHER: {
        const char *owner = rn_cmd_prop_get(c, "owner");
        bool has_owner = owner && *owner, has_file = *c->data != 0;
        if (has_owner && has_file) {
            issue(p, RN_LEVEL_WARNING,
                  "Either specify an owner name or a file path in ##[remove-matcher] command. "
                  "Both values cannot be set.");
        } else if (!has_owner && !has_file) {
            issue(p, RN_LEVEL_WARNING,
                  "Either an owner name or a file path must be specified in "
                  "##[remove-matcher] command.");
        } else {
            rn_cmd_action *a = push(p, RN_ACT_REMOVE_MATCHER, has_file ? c->data : NULL);
            a->name = has_owner ? owner : NULL;
        }
        return;
    }
    case RN_CMD_DEBUG:
        debug(p, c->data);
        return;
    case RN_CMD_NOTICE:
        annotation(p, c, RN_LEVEL_NOTICE);
        return;
    case RN_CMD_WARNING:
        annotation(p, c, RN_LEVEL_WARNING);
        return;
    case RN_CMD_ERROR:
        annotation(p, c, RN_LEVEL_ERROR);
        return;
    case RN_CMD_GROUP:
        push(p, RN_ACT_GROUP, c->data);
        return;
    case RN_CMD_ENDGROUP:
        push(p, RN_ACT_ENDGROUP, "");
        return;
    case RN_CMD_ECHO: {
        if (!*c->data) {
            fail(p, c->kind, line, "Value cannot be null. (Parameter 'value')");
            return;
        }
        const char *v = c->data;
        size_t n = strlen(v);
        trim_span(&v, &n, true, true);
        if (n == 2 && strncasecmp(v, "on", 2) == 0) {
            p->echo = true;
            debug(p, "Setting echo command value to 'on'");
        } else if (n == 3 && strncasecmp(v, "off", 3) == 0) {
            p->echo = false;
            debug(p, "Setting echo command value to 'off'");
        } else {
            fail(p, c->kind, line,
                 rn_arena_printf(&p->arena,
                                 "Invalid echo command value. Possible values can be: 'on', "
                                 "'off'. Current value is: '%s'.",
                                 c->data));
        }
        return;
    }
    default:
        return;
    }
}

/* ValidateStopToken's test: empty, `pause-logging`, or a currently registered command name. */
static bool stop_token_invalid(const rn_cmd_proc *p, const char *t) {
    return !*t || strcasecmp(t, "pause-logging") == 0 ||
           kind_of(t, strlen(t), p->disabled) != RN_CMD_UNKNOWN;
}

const rn_cmd_result *rn_cmd_proc_feed(rn_cmd_proc *p, const char *line, size_t len) {
    rn_arena_free(&p->arena);
    rn_arena_init(&p->arena);
    p->nacts = 0;
    memset(&p->res, 0, sizeof p->res);
    rn_cmd c;
    const char *extra = p->stopped ? p->stop_token : NULL;
    char *text = rn_arena_strndup(&p->arena, line ? line : "", line ? len : 0);
    bool parsed = parse_in(&p->arena, line, len, extra, p->disabled, &c);
    if (parsed && p->stopped) {
        if (*p->stop_token && strcasecmp(c.name, p->stop_token) == 0) {
            push(p, RN_ACT_PRINT, text);
            debug(p, "Resume processing commands");
            /* _registeredCommands.Remove(token): a built-in name used as token (allowed with
             * ACTIONS_ALLOW_UNSECURE_STOPCOMMAND_TOKENS) stays unregistered afterwards. */
            rn_cmd_kind k = kind_of(p->stop_token, strlen(p->stop_token), 0);
            if (k != RN_CMD_UNKNOWN)
                p->disabled |= 1u << k;
            p->stopped = false;
            free(p->stop_token);
            p->stop_token = NULL;
            p->res.is_command = true;
        } else {
            parsed = false;
        }
    } else if (parsed && c.kind == RN_CMD_STOP_COMMANDS) {
        p->res.is_command = true;
        if (stop_token_invalid(p, c.data) && !p->cfg.allow_unsecure_stop_tokens) {
            issue(p, RN_LEVEL_ERROR, stop_token_msg);
            push(p, RN_ACT_FAIL_STEP, NULL);
        } else {
            p->stopped = true;
            free(p->stop_token);
            p->stop_token = rn_xstrdup(c.data);
            if (utf16_len(c.data) > 6)
                push(p, RN_ACT_ADD_MASK, c.data);
            push(p, RN_ACT_PRINT, text);
            debug(p, "Paused processing commands until the token you called ::stopCommands:: "
                     "with is received");
        }
    } else if (parsed) {
        p->res.is_command = true;
        if (p->echo && !omit_echo(c.kind))
            push(p, RN_ACT_PRINT, text);
        run_command(p, &c, text);
    }
    if (!parsed) {
        rn_cmd_action *a = push(p, RN_ACT_PRINT, text);
        a->text_len = line ? len : 0;
    }
    p->res.kind = parsed ? c.kind : RN_CMD_UNKNOWN;
    p->res.actions = p->acts;
    p->res.count = p->nacts;
    return &p->res;
}

char *rn_cmd_annotation_log_line(const rn_cmd_action *a) {
    static const char *const tags[] = {"debug", "notice", "warning", "error"};
    return rn_xprintf("##[%s]%s", tags[a->level], a->text ? a->text : "");
}
