/* Smoke-test verification: probe specs, the measurement loop, HTTP probes (libcurl), script
 * probes and the rollback (sandbox/proc.h). See verify.h for the semantics. */
#include "actions/verify.h"

#include "actions/envfile.h"
#include "sandbox/proc.h"

#include <ctype.h>
#include <curl/curl.h>
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define DEFAULT_INTERVAL_MS 10000
#define DEFAULT_REQUEST_TIMEOUT_MS 10000
#define MAX_BODY (1024 * 1024) /* bytes of a response kept for the body and JSON checks */
#define MAX_KEPT_LINES 20      /* output lines of a failing script probe shown */
#define MAX_COUNT 100000

static long mono_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

/* ---- parsing ---- */

long rn_verify_parse_duration(const char *s) {
    if (!s)
        return -1;
    while (isspace((unsigned char)*s))
        s++;
    if (!*s)
        return -1;
    double total = 0;
    bool any = false;
    while (*s && !isspace((unsigned char)*s)) {
        if (!isdigit((unsigned char)*s) && *s != '.')
            return -1;
        char *end;
        errno = 0;
        double v = strtod(s, &end);
        if (end == s || errno || v < 0)
            return -1;
        s = end;
        double unit;
        if (!strncmp(s, "ms", 2)) {
            unit = 1, s += 2;
        } else if (*s == 's') {
            unit = 1000, s++;
        } else if (*s == 'm') {
            unit = 60000, s++;
        } else if (*s == 'h') {
            unit = 3600000, s++;
        } else if (!*s || isspace((unsigned char)*s)) {
            if (any) /* "1m30" is ambiguous */
                return -1;
            unit = 1000;
        } else {
            return -1;
        }
        total += v * unit;
        any = true;
    }
    while (isspace((unsigned char)*s))
        s++;
    if (*s || total > 7 * 24 * 3600000.0) /* a week is plenty for a smoke test */
        return -1;
    return (long)llround(total);
}

static int parse_code(const char *s, size_t n) {
    if (n != 3)
        return -1;
    int v = 0;
    for (size_t i = 0; i < 3; i++) {
        if (!isdigit((unsigned char)s[i]))
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    return v >= 100 && v <= 599 ? v : -1;
}

int rn_verify_parse_status(const char *s, int *lo, int *hi, size_t max) {
    size_t n = 0;
    const char *p = s;
    while (isspace((unsigned char)*p))
        p++;
    bool bracket = *p == '[';
    if (bracket)
        p++;
    for (;;) {
        while (isspace((unsigned char)*p) || *p == '"' || *p == '\'')
            p++;
        const char *b = p;
        while (*p && *p != ',' && *p != ']' && !isspace((unsigned char)*p) && *p != '"' &&
               *p != '\'')
            p++;
        size_t len = (size_t)(p - b);
        if (!len || n == max)
            return -1;
        const char *dash = memchr(b, '-', len);
        if (len == 3 && (b[1] == 'x' || b[1] == 'X') && (b[2] == 'x' || b[2] == 'X') &&
            b[0] >= '1' && b[0] <= '5') {
            lo[n] = (b[0] - '0') * 100, hi[n] = lo[n] + 99;
        } else if (dash) {
            lo[n] = parse_code(b, (size_t)(dash - b));
            hi[n] = parse_code(dash + 1, len - (size_t)(dash - b) - 1);
            if (lo[n] < 0 || hi[n] < lo[n])
                return -1;
        } else {
            lo[n] = hi[n] = parse_code(b, len);
            if (lo[n] < 0)
                return -1;
        }
        n++;
        while (isspace((unsigned char)*p) || *p == '"' || *p == '\'')
            p++;
        if (*p == ',') {
            p++;
            continue;
        }
        break;
    }
    if (bracket) {
        if (*p != ']')
            return -1;
        p++;
    }
    while (isspace((unsigned char)*p))
        p++;
    return *p ? -1 : (int)n;
}

void rn_verify_spec_init(rn_verify_spec *s) {
    memset(s, 0, sizeof *s);
    rn_arena_init(&s->arena);
    s->interval_ms = DEFAULT_INTERVAL_MS;
    s->count = 1;
    s->defaults.kind = RN_PROBE_HTTP;
    s->defaults.method = "GET";
    s->defaults.request_timeout_ms = DEFAULT_REQUEST_TIMEOUT_MS;
}

void rn_verify_spec_free(rn_verify_spec *s) {
    free(s->probes);
    free(s->urls);
    free(s->scripts);
    rn_arena_free(&s->arena);
    memset(s, 0, sizeof *s);
}

static rn_probe *new_probe(rn_verify_spec *s) {
    if (s->nprobes == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 4;
        s->probes = rn_xrealloc(s->probes, s->cap * sizeof *s->probes);
    }
    rn_probe *p = &s->probes[s->nprobes++];
    memset(p, 0, sizeof *p);
    return p;
}

static const char **push_str(const char **v, size_t *n, const char *x) {
    v = rn_xrealloc(v, (*n + 1) * sizeof *v);
    v[(*n)++] = x;
    return v;
}

/* The same in the spec's arena (header lists are few and short; copying is fine). */
static const char **push_arena(rn_arena *a, const char **v, size_t n, const char *x) {
    const char **w = rn_arena_alloc(a, (n + 1) * sizeof *w);
    if (n)
        memcpy(w, v, n * sizeof *w);
    w[n] = x;
    return w;
}

static int parse_count(const char *v, int min, int *out) {
    char *end;
    errno = 0;
    long n = strtol(v, &end, 10);
    while (isspace((unsigned char)*end))
        end++;
    if (end == v || *end || errno || n < min || n > MAX_COUNT)
        return -1;
    *out = (int)n;
    return 0;
}

/* Headers as "Name: value" lines (a YAML mapping written as text looks the same). */
static int parse_headers(rn_verify_spec *s, const char *text, const char ***out, size_t *n) {
    const char *p = text;
    while (*p) {
        const char *e = strchr(p, '\n');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        while (len && isspace((unsigned char)p[len - 1]))
            len--;
        const char *b = p;
        while (len && isspace((unsigned char)*b))
            b++, len--;
        if (len) {
            const char *colon = memchr(b, ':', len);
            if (!colon || colon == b)
                return -1;
            for (const char *c = b; c < colon; c++)
                if (!isgraph((unsigned char)*c))
                    return -1;
            *out = push_arena(&s->arena, *out, *n, rn_arena_strndup(&s->arena, b, len));
            ++*n;
        }
        if (!e)
            break;
        p = e + 1;
    }
    return 0;
}

static int set_status(rn_verify_spec *s, rn_probe *p, const char *v) {
    int n = rn_verify_parse_status(v, p->status_lo, p->status_hi, RN_VERIFY_MAX_STATUS_RANGES);
    if (n < 1)
        return -1;
    p->nstatus = (size_t)n;
    p->status_text = rn_arena_strdup(&s->arena, v);
    return 0;
}

static int set_method(rn_verify_spec *s, rn_probe *p, const char *v) {
    if (!*v)
        return -1;
    char *m = rn_arena_strdup(&s->arena, v);
    for (char *c = m; *c; c++) {
        if (!isalpha((unsigned char)*c))
            return -1;
        *c = (char)toupper((unsigned char)*c);
    }
    p->method = m;
    return 0;
}

/* Bits of rn_probe.own: the settings a probe gave itself. */
enum {
    OWN_STATUS = 1,
    OWN_BODY = 2,
    OWN_JSON_FIELD = 4,
    OWN_JSON_VALUE = 8,
    OWN_HEADERS = 16,
    OWN_METHOD = 32,
    OWN_TIMEOUT = 64,
};

/* Sets one of the per-probe settings. Returns 0, -1 after a diag, 1 if key is not one. */
static int probe_set(rn_verify_spec *s, rn_probe *p, const char *key, const char *v,
                     const char *file, int line, int col, rn_diags *d) {
    if (!strcmp(key, "expected-status")) {
        if (set_status(s, p, v)) {
            rn_diag_add(d, file, line, col,
                        "expected-status '%s' is not a status list (200, 2xx, 200-299, 200,204)",
                        v);
            return -1;
        }
        p->own |= OWN_STATUS;
    } else if (!strcmp(key, "body-contains")) {
        p->body_contains = rn_arena_strdup(&s->arena, v);
        p->own |= OWN_BODY;
    } else if (!strcmp(key, "json-field")) {
        if (!*v) {
            rn_diag_add(d, file, line, col, "json-field is empty");
            return -1;
        }
        p->json_field = rn_arena_strdup(&s->arena, v);
        p->own |= OWN_JSON_FIELD;
    } else if (!strcmp(key, "json-value")) {
        p->json_value = rn_arena_strdup(&s->arena, v);
        p->own |= OWN_JSON_VALUE;
    } else if (!strcmp(key, "headers")) {
        p->headers = NULL, p->nheaders = 0;
        if (parse_headers(s, v, &p->headers, &p->nheaders)) {
            rn_diag_add(d, file, line, col, "headers must be 'Name: value' lines");
            return -1;
        }
        p->own |= OWN_HEADERS;
    } else if (!strcmp(key, "method")) {
        if (set_method(s, p, v)) {
            rn_diag_add(d, file, line, col, "method '%s' is not an HTTP method", v);
            return -1;
        }
        p->own |= OWN_METHOD;
    } else if (!strcmp(key, "request-timeout") || !strcmp(key, "timeout")) {
        long ms = rn_verify_parse_duration(v);
        if (ms <= 0) {
            rn_diag_add(d, file, line, col,
                        "%s '%s' is not a positive duration (5s, 500ms, 1m, seconds)", key, v);
            return -1;
        }
        p->request_timeout_ms = ms;
        p->own |= OWN_TIMEOUT;
    } else {
        return 1;
    }
    return 0;
}

static int set_duration(long *out, const char *key, const char *v, bool positive, const char *file,
                        int line, int col, rn_diags *d) {
    long ms = rn_verify_parse_duration(v);
    if (ms < 0 || (positive && ms == 0)) {
        rn_diag_add(d, file, line, col, "%s '%s' is not a %sduration (5s, 500ms, 1m, seconds)", key,
                    v, positive ? "positive " : "");
        return -1;
    }
    *out = ms;
    return 0;
}

static int add_probe_node(rn_verify_spec *s, const rn_ynode *n, rn_diags *d);

static int set_probes_text(rn_verify_spec *s, const char *text, const char *file, int line, int col,
                           rn_diags *d) {
    rn_arena a;
    rn_arena_init(&a);
    /* line <= 0: the text is all of `file` (positions are its own); else it is a value at
     * file:line:col and positions inside it are shown after that */
    const char *name = file ? file : "probes";
    if (file && line > 0)
        name = rn_arena_printf(&a, "%s:%d:%d: probes", file, line, col);
    rn_ynode *root = rn_yaml_load(&a, name, text, strlen(text), d);
    int rc = -1;
    if (root) {
        rc = add_probe_node(s, root, d);
    }
    rn_arena_free(&a);
    return rc;
}

int rn_verify_spec_set(rn_verify_spec *s, const char *key, const char *v, const char *file,
                       int line, int col, rn_diags *d) {
    if (!v)
        v = "";
    if (!strcmp(key, "url")) {
        if (!*v) {
            rn_diag_add(d, file, line, col, "url is empty");
            return -1;
        }
        s->urls = push_str(s->urls, &s->nurls, rn_arena_strdup(&s->arena, v));
        return 0;
    }
    if (!strcmp(key, "script")) {
        if (!*v) {
            rn_diag_add(d, file, line, col, "script is empty");
            return -1;
        }
        s->scripts = push_str(s->scripts, &s->nscripts, rn_arena_strdup(&s->arena, v));
        return 0;
    }
    if (!strcmp(key, "probes"))
        return set_probes_text(s, v, file, line, col, d);
    if (!strcmp(key, "initial-delay"))
        return set_duration(&s->initial_delay_ms, key, v, false, file, line, col, d);
    if (!strcmp(key, "interval"))
        return set_duration(&s->interval_ms, key, v, false, file, line, col, d);
    if (!strcmp(key, "timeout"))
        return set_duration(&s->timeout_ms, key, v, true, file, line, col, d);
    if (!strcmp(key, "count")) {
        if (parse_count(v, 1, &s->count)) {
            rn_diag_add(d, file, line, col, "count '%s' is not a number from 1 to %d", v,
                        MAX_COUNT);
            return -1;
        }
        return 0;
    }
    if (!strcmp(key, "failure-limit")) {
        if (parse_count(v, 0, &s->failure_limit)) {
            rn_diag_add(d, file, line, col, "failure-limit '%s' is not a number from 0 to %d", v,
                        MAX_COUNT);
            return -1;
        }
        return 0;
    }
    if (!strcmp(key, "rollback")) {
        s->rollback = *v ? rn_arena_strdup(&s->arena, v) : NULL;
        return 0;
    }
    int rc = probe_set(s, &s->defaults, key, v, file, line, col, d);
    if (rc == 1) {
        rn_diag_add(d, file, line, col, "unknown verify setting '%s'", key);
        return -1;
    }
    return rc;
}

/* A YAML value as the text a `with:` input would hold: scalars as written, a sequence of
 * scalars joined with ",", a mapping of scalars as "key: value" lines. NULL if nested. */
static char *node_text(rn_arena *a, const rn_ynode *n) {
    if (n->kind == RN_Y_SCALAR)
        return rn_arena_strdup(a, rn_yaml_scalar_text(n));
    rn_sb sb = RN_SB_INIT;
    for (size_t i = 0; i < n->n; i++) {
        const rn_ynode *k = n->kind == RN_Y_MAP ? n->pairs[i].key : NULL;
        const rn_ynode *v = n->kind == RN_Y_MAP ? n->pairs[i].value : n->items[i];
        if (v->kind != RN_Y_SCALAR || (k && k->kind != RN_Y_SCALAR)) {
            rn_sb_free(&sb);
            return NULL;
        }
        if (k)
            rn_sb_printf(&sb, "%s: %s\n", rn_yaml_scalar_text(k), rn_yaml_scalar_text(v));
        else
            rn_sb_printf(&sb, "%s%s", i ? "," : "", rn_yaml_scalar_text(v));
    }
    char *r = rn_arena_strdup(a, rn_sb_str(&sb));
    rn_sb_free(&sb);
    return r;
}

static int add_probe_node(rn_verify_spec *s, const rn_ynode *n, rn_diags *d) {
    const rn_ynode *const *items = (const rn_ynode *const *)n->items;
    size_t nitems = n->n;
    if (n->kind == RN_Y_MAP) /* one probe given alone */
        items = &n, nitems = 1;
    else if (n->kind != RN_Y_SEQ) {
        rn_diag_add(d, n->file, n->line, n->col, "probes must be a list of probe mappings");
        return -1;
    }
    int rc = 0;
    for (size_t i = 0; i < nitems; i++) {
        const rn_ynode *m = items[i];
        if (m->kind != RN_Y_MAP) {
            rn_diag_add(d, m->file, m->line, m->col,
                        "a probe must be a mapping (url: ... or script: ...)");
            rc = -1;
            continue;
        }
        rn_probe p = {0};
        const rn_ynode *url = NULL, *script = NULL;
        bool bad = false;
        for (size_t k = 0; k < m->n; k++) {
            const rn_ynode *kn = m->pairs[k].key, *vn = m->pairs[k].value;
            const char *key = rn_yaml_str(kn);
            char *v = node_text(&s->arena, vn);
            if (!key || !v) {
                rn_diag_add(d, vn->file, vn->line, vn->col, "'%s' has a nested value",
                            key ? key : "?");
                bad = true;
                continue;
            }
            if (!strcmp(key, "url")) {
                url = vn;
                p.url = v;
            } else if (!strcmp(key, "script")) {
                script = vn;
                p.script = v;
            } else {
                int r = probe_set(s, &p, key, v, vn->file, vn->line, vn->col, d);
                if (r == 1)
                    rn_diag_add(d, kn->file, kn->line, kn->col,
                                "unknown probe key '%s' (url, script, method, expected-status, "
                                "body-contains, json-field, json-value, headers, timeout)",
                                key);
                if (r)
                    bad = true;
            }
        }
        if (!bad && !!url == !!script) {
            rn_diag_add(d, m->file, m->line, m->col,
                        url ? "a probe has either url or script, not both"
                            : "a probe needs url or script");
            bad = true;
        }
        if (!bad && url && !*p.url) {
            rn_diag_add(d, url->file, url->line, url->col, "url is empty");
            bad = true;
        }
        if (!bad && script && !*p.script) {
            rn_diag_add(d, script->file, script->line, script->col, "script is empty");
            bad = true;
        }
        if (!bad && (p.own & OWN_JSON_VALUE) && !(p.own & OWN_JSON_FIELD)) {
            rn_diag_add(d, m->file, m->line, m->col, "json-value needs json-field");
            bad = true;
        }
        if (bad) {
            rc = -1;
            continue;
        }
        p.kind = url ? RN_PROBE_HTTP : RN_PROBE_SCRIPT;
        *new_probe(s) = p;
    }
    return rc;
}

int rn_verify_spec_set_node(rn_verify_spec *s, const char *key, const rn_ynode *value,
                            rn_diags *d) {
    if (!strcmp(key, "probes"))
        return add_probe_node(s, value, d);
    if ((!strcmp(key, "url") || !strcmp(key, "script")) && value->kind == RN_Y_SEQ) {
        int rc = 0;
        for (size_t i = 0; i < value->n; i++) {
            const rn_ynode *it = value->items[i];
            if (it->kind != RN_Y_SCALAR) {
                rn_diag_add(d, it->file, it->line, it->col, "%s must be text", key);
                rc = -1;
            } else if (rn_verify_spec_set(s, key, rn_yaml_scalar_text(it), it->file, it->line,
                                          it->col, d)) {
                rc = -1;
            }
        }
        return rc;
    }
    char *v = NULL;
    if (value->kind == RN_Y_SCALAR) {
        v = node_text(&s->arena, value);
    } else if (!strcmp(key, "expected-status") && value->kind == RN_Y_SEQ) {
        v = node_text(&s->arena, value); /* [200, 204] -> "200,204" */
    } else if (!strcmp(key, "headers")) {
        /* a mapping, or a list of "Name: value" strings */
        rn_sb sb = RN_SB_INIT;
        bool ok = true;
        for (size_t i = 0; i < value->n; i++) {
            const rn_ynode *k = value->kind == RN_Y_MAP ? value->pairs[i].key : NULL;
            const rn_ynode *it = k ? value->pairs[i].value : value->items[i];
            if (it->kind != RN_Y_SCALAR || (k && k->kind != RN_Y_SCALAR))
                ok = false;
            else if (k)
                rn_sb_printf(&sb, "%s: %s\n", rn_yaml_scalar_text(k), rn_yaml_scalar_text(it));
            else
                rn_sb_printf(&sb, "%s\n", rn_yaml_scalar_text(it));
        }
        if (ok)
            v = rn_arena_strdup(&s->arena, rn_sb_str(&sb));
        rn_sb_free(&sb);
    }
    if (!v) {
        rn_diag_add(d, value->file, value->line, value->col, "%s must be a single value", key);
        return -1;
    }
    return rn_verify_spec_set(s, key, v, value->file, value->line, value->col, d);
}

static const char *make_label(rn_verify_spec *s, const rn_probe *p) {
    if (p->kind == RN_PROBE_HTTP)
        return rn_arena_printf(&s->arena, "%s %s", p->method, p->url);
    const char *nl = strchr(p->script, '\n');
    if (nl)
        return rn_arena_printf(&s->arena, "script: %.*s ...", (int)(nl - p->script), p->script);
    return rn_arena_printf(&s->arena, "script: %s", p->script);
}

static void apply_defaults(rn_verify_spec *s, rn_probe *p) {
    const rn_probe *df = &s->defaults;
    if (!(p->own & OWN_METHOD))
        p->method = df->method;
    if (!(p->own & OWN_TIMEOUT))
        p->request_timeout_ms = df->request_timeout_ms;
    if (!(p->own & OWN_STATUS)) {
        memcpy(p->status_lo, df->status_lo, sizeof p->status_lo);
        memcpy(p->status_hi, df->status_hi, sizeof p->status_hi);
        p->nstatus = df->nstatus;
        p->status_text = df->status_text;
    }
    if (!(p->own & OWN_BODY))
        p->body_contains = df->body_contains;
    if (!(p->own & OWN_JSON_FIELD)) { /* a field and its value go together */
        p->json_field = df->json_field;
        p->json_value = df->json_value;
    }
    if (!(p->own & OWN_HEADERS)) {
        p->headers = df->headers;
        p->nheaders = df->nheaders;
    }
    if (!p->nstatus) {
        p->status_lo[0] = p->status_hi[0] = 200;
        p->nstatus = 1;
        p->status_text = "200";
    }
    p->label = make_label(s, p);
}

int rn_verify_spec_finish(rn_verify_spec *s, const char *file, int line, int col, rn_diags *d) {
    if ((s->defaults.own & OWN_JSON_VALUE) && !(s->defaults.own & OWN_JSON_FIELD)) {
        rn_diag_add(d, file, line, col, "json-value needs json-field");
        return -1;
    }
    /* probes from `probes` come first, then url shorthands, then scripts */
    for (size_t i = 0; i < s->nurls; i++) {
        rn_probe *p = new_probe(s);
        p->kind = RN_PROBE_HTTP;
        p->url = s->urls[i];
    }
    for (size_t i = 0; i < s->nscripts; i++) {
        rn_probe *p = new_probe(s);
        p->kind = RN_PROBE_SCRIPT;
        p->script = s->scripts[i];
    }
    s->nurls = s->nscripts = 0;
    for (size_t i = 0; i < s->nprobes; i++)
        apply_defaults(s, &s->probes[i]);
    if (!s->nprobes) {
        rn_diag_add(d, file, line, col, "verify needs a probe: url, probes or script");
        return -1;
    }
    return 0;
}

/* ---- running ---- */

static void vlog(const rn_verify_io *io, rn_verify_log kind, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void vlog(const rn_verify_io *io, rn_verify_log kind, const char *fmt, ...) {
    if (!io->log)
        return;
    va_list ap;
    va_start(ap, fmt);
    rn_sb sb = RN_SB_INIT;
    rn_sb_vprintf(&sb, fmt, ap);
    va_end(ap);
    io->log(io->ud, kind, rn_sb_str(&sb));
    rn_sb_free(&sb);
}

static bool is_cancelled(const rn_verify_io *io) {
    return io->cancelled && io->cancelled(io->ud);
}

/* Sleeps until `due` (monotonic ms) in short slices so cancellation is noticed.
 * Returns false when cancelled. */
static bool sleep_until(long due, const rn_verify_io *io) {
    for (;;) {
        if (is_cancelled(io))
            return false;
        long left = due - mono_ms();
        if (left <= 0)
            return true;
        if (left > 100)
            left = 100;
        struct timespec ts = {left / 1000, (left % 1000) * 1000000L};
        nanosleep(&ts, NULL);
    }
}

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static void curl_init(void) {
    curl_global_init(CURL_GLOBAL_DEFAULT);
}

typedef struct body_buf {
    rn_sb sb;
} body_buf;

static size_t on_body(char *data, size_t size, size_t n, void *ud) {
    body_buf *b = ud;
    size_t len = size * n;
    if (b->sb.len < MAX_BODY)
        rn_sb_append(&b->sb, data, len < MAX_BODY - b->sb.len ? len : MAX_BODY - b->sb.len);
    return len;
}

static int on_progress(void *ud, curl_off_t a, curl_off_t b, curl_off_t c, curl_off_t d) {
    (void)a, (void)b, (void)c, (void)d;
    return is_cancelled(ud) ? 1 : 0;
}

/* The JSON value at a dotted path (object keys, array indexes), or NULL. */
static json_t *json_path(json_t *root, const char *path) {
    json_t *cur = root;
    const char *p = path;
    while (cur && *p) {
        const char *dot = strchr(p, '.');
        size_t len = dot ? (size_t)(dot - p) : strlen(p);
        char *seg = rn_xstrndup(p, len);
        if (json_is_array(cur)) {
            char *end;
            long idx = strtol(seg, &end, 10);
            cur = (*seg && !*end && idx >= 0) ? json_array_get(cur, (size_t)idx) : NULL;
        } else if (json_is_object(cur)) {
            cur = json_object_get(cur, seg);
        } else {
            cur = NULL;
        }
        free(seg);
        if (!dot)
            break;
        p = dot + 1;
    }
    return cur;
}

/* A JSON value as compared with json-value: strings as they are, others as JSON text. */
static char *json_text(json_t *v) {
    if (json_is_string(v))
        return rn_xstrdup(json_string_value(v));
    char *t = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
    char *r = rn_xstrdup(t ? t : "");
    free(t);
    return r;
}

static bool status_ok(const rn_probe *p, long code) {
    for (size_t i = 0; i < p->nstatus; i++)
        if (code >= p->status_lo[i] && code <= p->status_hi[i])
            return true;
    return false;
}

/* Checks a response; returns the failure reason (malloc'ed) or NULL when it passes. */
static char *check_response(const rn_probe *p, long code, const char *body, size_t len) {
    if (!status_ok(p, code))
        return rn_xprintf("status %ld, expected %s", code, p->status_text);
    if (p->body_contains && !memmem(body, len, p->body_contains, strlen(p->body_contains)))
        return rn_xprintf("body does not contain '%s'", p->body_contains);
    if (p->json_field) {
        json_error_t je;
        json_t *root = json_loadb(body, len, JSON_DECODE_ANY, &je);
        if (!root)
            return rn_xprintf("body is not JSON: %s", je.text);
        json_t *v = json_path(root, p->json_field);
        char *reason = NULL;
        if (!v || (json_is_null(v) && !p->json_value)) {
            reason = rn_xprintf("JSON field '%s' is missing", p->json_field);
        } else if (p->json_value) {
            char *got = json_text(v);
            if (strcmp(got, p->json_value))
                reason = rn_xprintf("JSON field '%s' is '%s', expected '%s'", p->json_field, got,
                                    p->json_value);
            free(got);
        }
        json_decref(root);
        return reason;
    }
    return NULL;
}

static void measure_http(const rn_probe *p, long timeout_ms, const rn_verify_io *io,
                         rn_measurement *m) {
    pthread_once(&curl_once, curl_init);
    CURL *c = curl_easy_init();
    if (!c) {
        m->reason = rn_xstrdup("cannot create an HTTP client");
        return;
    }
    char errbuf[CURL_ERROR_SIZE] = "";
    body_buf body = {RN_SB_INIT};
    struct curl_slist *hdrs = NULL;
    for (size_t i = 0; i < p->nheaders; i++)
        hdrs = curl_slist_append(hdrs, p->headers[i]);
    curl_easy_setopt(c, CURLOPT_URL, p->url);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, timeout_ms);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &body);
    curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
    curl_easy_setopt(c, CURLOPT_XFERINFODATA, (void *)io);
    curl_easy_setopt(c, CURLOPT_USERAGENT, "runnel-verify/1");
    if (hdrs)
        curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
    if (!strcmp(p->method, "HEAD"))
        curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
    else if (strcmp(p->method, "GET"))
        curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, p->method);
    long t0 = mono_ms();
    CURLcode rc = curl_easy_perform(c);
    m->latency_ms = mono_ms() - t0;
    if (rc == CURLE_OK) {
        long code = 0;
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
        m->code = (int)code;
        m->reason = check_response(p, code, rn_sb_str(&body.sb), body.sb.len);
    } else if (rc == CURLE_OPERATION_TIMEDOUT) {
        m->reason = rn_xprintf("no response within %ld ms", timeout_ms);
    } else if (rc == CURLE_ABORTED_BY_CALLBACK) {
        m->reason = rn_xstrdup("cancelled");
    } else {
        m->reason = rn_xstrdup(*errbuf ? errbuf : curl_easy_strerror(rc));
    }
    m->passed = !m->reason;
    curl_slist_free_all(hdrs);
    curl_easy_cleanup(c);
    rn_sb_free(&body.sb);
}

typedef struct lines {
    const rn_verify_io *io;
    bool stream; /* log every line as it comes (rollback) */
    rn_sb kept;  /* else the last MAX_KEPT_LINES lines, to show when the probe fails */
    size_t nkept;
    const char *prefix;
} lines;

static void on_line(void *ud, rn_stream st, const char *line, size_t len, bool eol) {
    (void)st, (void)eol;
    lines *l = ud;
    if (l->stream) {
        vlog(l->io, RN_VLOG_OUTPUT, "%s%.*s", l->prefix, (int)len, line);
        return;
    }
    if (l->nkept == MAX_KEPT_LINES) { /* drop the oldest */
        char *nl = strchr(l->kept.data, '\n');
        size_t cut = (size_t)(nl - l->kept.data) + 1;
        memmove(l->kept.data, l->kept.data + cut, l->kept.len - cut + 1);
        l->kept.len -= cut;
        l->nkept--;
    }
    rn_sb_append(&l->kept, line, len);
    rn_sb_putc(&l->kept, '\n');
    l->nkept++;
}

/* Runs `bash -c CMD`; fills *res. Returns a start error (malloc'ed) or NULL. */
static char *run_script(const char *cmd, long timeout_ms, const rn_verify_io *io, lines *l,
                        rn_proc_result *res) {
    const char *argv[] = {"/bin/bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", cmd, NULL};
    rn_proc_opts o = {0};
    o.argv = argv;
    o.envp = io->envp;
    o.cwd = io->cwd;
    o.stdout_mode = RN_STDIO_PIPE;
    o.stderr_mode = RN_STDIO_MERGE;
    o.timeout_ms = timeout_ms > 0x7fffffff ? 0x7fffffff : (int)timeout_ms;
    o.kill_grace_ms = 1000;
    o.on_line = on_line;
    o.cb_data = l;
    char *err = NULL;
    if (is_cancelled(io))
        return rn_xstrdup("cancelled");
    rn_proc *p = rn_proc_start(&o, &err);
    if (!p)
        return err ? err : rn_xstrdup("cannot start /bin/bash");
    if (io->on_proc)
        io->on_proc(io->ud, p);
    rn_proc_wait(p, res);
    if (io->on_proc)
        io->on_proc(io->ud, NULL);
    rn_proc_free(p);
    return NULL;
}

static void measure_script(const rn_probe *p, long timeout_ms, const rn_verify_io *io,
                           rn_measurement *m) {
    lines l = {io, false, RN_SB_INIT, 0, ""};
    rn_proc_result res;
    long t0 = mono_ms();
    char *err = run_script(p->script, timeout_ms, io, &l, &res);
    m->latency_ms = mono_ms() - t0;
    if (err) {
        m->reason = err;
    } else if (res.status == RN_PROC_EXITED) {
        m->code = res.exit_code;
        if (res.exit_code)
            m->reason = rn_xprintf("exit code %d", res.exit_code);
    } else {
        rn_proc_opts o = {.timeout_ms = (int)timeout_ms};
        m->reason = rn_proc_result_describe(&res, &o);
    }
    m->passed = !m->reason;
    if (!m->passed && l.kept.len) { /* what the script said, to explain the failure */
        const char *t = rn_sb_str(&l.kept);
        while (*t) {
            const char *nl = strchr(t, '\n');
            vlog(io, RN_VLOG_OUTPUT, "  | %.*s", (int)(nl - t), t);
            t = nl + 1;
        }
    }
    rn_sb_free(&l.kept);
}

static rn_measurement *add_measurement(rn_verify_result *r) {
    if (r->n == r->cap) {
        r->cap = r->cap ? r->cap * 2 : 8;
        r->m = rn_xrealloc(r->m, r->cap * sizeof *r->m);
    }
    rn_measurement *m = &r->m[r->n++];
    memset(m, 0, sizeof *m);
    m->code = -1;
    return m;
}

static void fmt_duration(char *buf, size_t n, long ms) {
    if (ms % 1000)
        snprintf(buf, n, "%ldms", ms);
    else
        snprintf(buf, n, "%lds", ms / 1000);
}

bool rn_verify_run(const rn_verify_spec *s, const rn_verify_io *io, rn_verify_result *r) {
    memset(r, 0, sizeof *r);
    size_t *fails = rn_xcalloc(s->nprobes ? s->nprobes : 1, sizeof *fails);
    long t0 = mono_ms();
    long deadline = s->timeout_ms ? t0 + s->timeout_ms : 0;
    size_t total = (size_t)s->count * s->nprobes;
    char tbuf[32];
    for (int round = 0; round < s->count && !r->error && !r->cancelled; round++) {
        long due = t0 + s->initial_delay_ms + (long)round * s->interval_ms;
        if (deadline && due >= deadline) {
            fmt_duration(tbuf, sizeof tbuf, s->timeout_ms);
            r->error = rn_xprintf("timed out after %s with %zu of %zu measurements taken", tbuf,
                                  r->n, total);
            break;
        }
        if (!sleep_until(due, io)) {
            r->cancelled = true;
            break;
        }
        for (size_t i = 0; i < s->nprobes; i++) {
            const rn_probe *p = &s->probes[i];
            long now = mono_ms();
            long limit = p->request_timeout_ms;
            if (deadline) {
                if (now >= deadline) {
                    fmt_duration(tbuf, sizeof tbuf, s->timeout_ms);
                    r->error = rn_xprintf("timed out after %s with %zu of %zu measurements taken",
                                          tbuf, r->n, total);
                    break;
                }
                if (deadline - now < limit)
                    limit = deadline - now;
            }
            rn_measurement *m = add_measurement(r);
            m->t_ms = now - t0;
            m->round = round + 1;
            m->probe = i;
            if (p->kind == RN_PROBE_HTTP)
                measure_http(p, limit, io, m);
            else
                measure_script(p, limit, io, m);
            if (is_cancelled(io)) {
                r->cancelled = true;
                break;
            }
            char code[24] = "-";
            if (m->code >= 0)
                snprintf(code, sizeof code, p->kind == RN_PROBE_HTTP ? "%d" : "exit %d", m->code);
            vlog(io, RN_VLOG_INFO, "verify: [%d/%d] +%ld.%03lds %s -> %s (%ld ms) %s%s", m->round,
                 s->count, m->t_ms / 1000, m->t_ms % 1000, p->label, code, m->latency_ms,
                 m->passed ? "passed" : "failed: ", m->passed ? "" : m->reason);
            if (m->passed) {
                free(m->reason);
                m->reason = rn_xstrdup("");
                continue;
            }
            r->failures++;
            /* Argo: the analysis fails once failures exceed the limit */
            if (++fails[i] > (size_t)s->failure_limit) {
                r->error = rn_xprintf("probe %zu (%s) failed %zu time%s, more than "
                                      "failure-limit %d",
                                      i + 1, p->label, fails[i], fails[i] == 1 ? "" : "s",
                                      s->failure_limit);
                break;
            }
        }
    }
    free(fails);
    if (r->cancelled && !r->error)
        r->error = rn_xstrdup("cancelled");
    r->passed = !r->error;
    if (!r->passed && !r->cancelled && s->rollback) {
        vlog(io, RN_VLOG_INFO, "verify: running rollback: %s", s->rollback);
        lines l = {io, true, RN_SB_INIT, 0, "rollback: "};
        rn_proc_result res;
        char *err = run_script(s->rollback, 0, io, &l, &res);
        r->rollback_ran = true;
        if (err) {
            r->rollback_status = err;
        } else {
            rn_proc_opts o = {0};
            r->rollback_status = rn_proc_result_describe(&res, &o);
            r->rollback_ok = res.status == RN_PROC_EXITED && res.exit_code == 0;
        }
        vlog(io, r->rollback_ok ? RN_VLOG_INFO : RN_VLOG_ERROR, "verify: rollback %s: %s",
             r->rollback_ok ? "done" : "failed", r->rollback_status);
    }
    return r->passed;
}

void rn_verify_result_free(rn_verify_result *r) {
    for (size_t i = 0; i < r->n; i++)
        free(r->m[i].reason);
    free(r->m);
    free(r->error);
    free(r->rollback_status);
    memset(r, 0, sizeof *r);
}

#define LABEL_MAX 60

void rn_verify_table(const rn_verify_spec *s, const rn_verify_result *r, rn_sb *out) {
    int wn = 1, wlabel = 5, wcode = 4, wtime = 4, wlat = 7;
    char buf[64];
    for (size_t i = 0; i < r->n; i++) {
        const rn_measurement *m = &r->m[i];
        int l = (int)strlen(s->probes[m->probe].label);
        if (l > LABEL_MAX)
            l = LABEL_MAX;
        if (l > wlabel)
            wlabel = l;
        int n = snprintf(buf, sizeof buf, "%zu", i + 1);
        if (n > wn)
            wn = n;
        n = snprintf(buf, sizeof buf, "+%ld.%03lds", m->t_ms / 1000, m->t_ms % 1000);
        if (n > wtime)
            wtime = n;
        n = snprintf(buf, sizeof buf, "%ldms", m->latency_ms);
        if (n > wlat)
            wlat = n;
    }
    rn_sb_printf(out, "%-*s  ROUND  %-*s  %-*s  RESULT  %-*s  %-*s  REASON\n", wn, "#", wtime,
                 "TIME", wlabel, "PROBE", wcode, "CODE", wlat, "LATENCY");
    for (size_t i = 0; i < r->n; i++) {
        const rn_measurement *m = &r->m[i];
        const char *label = s->probes[m->probe].label;
        char code[16] = "-", t[32], lat[32];
        if (m->code >= 0)
            snprintf(code, sizeof code, "%d", m->code);
        snprintf(t, sizeof t, "+%ld.%03lds", m->t_ms / 1000, m->t_ms % 1000);
        snprintf(lat, sizeof lat, "%ldms", m->latency_ms);
        int ll = (int)strlen(label) > LABEL_MAX ? LABEL_MAX - 3 : (int)strlen(label);
        rn_sb_printf(out, "%-*zu  %-5d  %-*s  %.*s%s%*s  %-6s  %-*s  %-*s  %s", wn, i + 1, m->round,
                     wtime, t, ll, label, ll < (int)strlen(label) ? "..." : "",
                     wlabel - ll - (ll < (int)strlen(label) ? 3 : 0), "",
                     m->passed ? "pass" : "fail", wcode, code, wlat, lat, m->reason);
        /* no trailing blanks on passing rows */
        while (out->len && out->data[out->len - 1] == ' ')
            out->data[--out->len] = '\0';
        rn_sb_putc(out, '\n');
    }
    if (r->passed)
        rn_sb_printf(out, "verify: passed (%zu measurement%s, %zu failed, failure-limit %d)\n",
                     r->n, r->n == 1 ? "" : "s", r->failures, s->failure_limit);
    else
        rn_sb_printf(out, "verify: failed: %s (%zu measurement%s, %zu failed)\n", r->error, r->n,
                     r->n == 1 ? "" : "s", r->failures);
    if (r->rollback_ran)
        rn_sb_printf(out, "rollback: %s (%s)\n", r->rollback_ok ? "done" : "failed",
                     r->rollback_status);
}

/* ---- runnel/verify@v1 ---- */

static const char *const inputs[] = {
    "url",        "probes",        "script",  "expected-status", "body-contains", "json-field",
    "json-value", "headers",       "method",  "request-timeout", "initial-delay", "interval",
    "count",      "failure-limit", "timeout", "rollback",
};

static void job_log(void *ud, rn_verify_log kind, const char *text) {
    rn_log_kind k = kind == RN_VLOG_OUTPUT  ? RN_LOG_OUTPUT
                    : kind == RN_VLOG_ERROR ? RN_LOG_ERROR
                                            : RN_LOG_INFO;
    rn_job_log(ud, k, "%s", text);
}

static bool job_cancelled(void *ud) {
    rn_job *j = ud;
    pthread_mutex_lock(&j->lock);
    bool c = j->cancelled;
    pthread_mutex_unlock(&j->lock);
    return c;
}

static void job_proc(void *ud, rn_proc *p) {
    rn_job *j = ud;
    pthread_mutex_lock(&j->lock);
    j->current = p;
    if (p && j->cancelled) /* cancelled between the check and the start */
        rn_proc_cancel(p);
    pthread_mutex_unlock(&j->lock);
}

char **rn_verify_job_io(rn_job *j, rn_verify_io *io) {
    /* scripts see what a run step would: the job's environment and PATH additions */
    json_t *envo = j->base_env ? json_copy(j->base_env) : json_object();
    if (j->env)
        json_object_update(envo, j->env);
    const char *base_path = json_string_value(json_object_get(envo, "PATH"));
    char *path = rn_path_join(&j->path, base_path ? base_path : "");
    json_object_set_new(envo, "PATH", json_string(path));
    free(path);
    char **envp = rn_xcalloc(json_object_size(envo) + 1, sizeof *envp);
    size_t n = 0;
    const char *key;
    json_t *v;
    json_object_foreach(envo, key, v) {
        envp[n++] = rn_xprintf("%s=%s", key, json_string_value(v) ? json_string_value(v) : "");
    }
    json_decref(envo);
    *io = (rn_verify_io){job_log,           job_cancelled, job_proc, j, (const char *const *)envp,
                         j->paths.workspace};
    return envp;
}

void rn_verify_job_io_free(char **envp) {
    for (size_t i = 0; envp && envp[i]; i++)
        free(envp[i]);
    free(envp);
}

/* An input's text: strings as they are, numbers and booleans as JSON. */
static char *input_text(json_t *v) {
    if (json_is_string(v))
        return rn_xstrdup(json_string_value(v));
    if (json_is_null(v))
        return rn_xstrdup("");
    return json_text(v);
}

rn_step_status rn_verify_builtin(rn_job *j, const char *uses, json_t *with, json_t *outputs) {
    rn_verify_spec s;
    rn_verify_spec_init(&s);
    rn_diags d = RN_DIAGS_INIT;
    const char *key;
    json_t *v;
    rn_sb unknown = RN_SB_INIT;
    json_object_foreach(with, key, v) {
        bool known = false;
        for (size_t i = 0; i < sizeof inputs / sizeof *inputs; i++)
            known |= !strcmp(key, inputs[i]);
        if (!known) { /* GitHub warns about unexpected inputs and runs the action anyway */
            rn_sb_printf(&unknown, "%s'%s'", unknown.len ? ", " : "", key);
            continue;
        }
        char *text = input_text(v);
        /* `url` and `script` inputs may hold one entry per line */
        if (!strcmp(key, "url") || !strcmp(key, "script")) {
            bool multi = !strcmp(key, "url");
            const char *p = text;
            while (multi && *p) {
                const char *e = strchrnul(p, '\n');
                char *one = rn_xstrndup(p, (size_t)(e - p));
                char *b = one, *end = one + strlen(one);
                while (isspace((unsigned char)*b))
                    b++;
                while (end > b && isspace((unsigned char)end[-1]))
                    *--end = '\0';
                if (*b)
                    rn_verify_spec_set(&s, key, b, "probes", 0, 0, &d);
                free(one);
                p = *e ? e + 1 : e;
            }
            if (!multi)
                rn_verify_spec_set(&s, key, text, NULL, 0, 0, &d);
        } else {
            rn_verify_spec_set(&s, key, text, !strcmp(key, "probes") ? "probes" : NULL, 0, 0, &d);
        }
        free(text);
    }
    if (unknown.len) {
        rn_sb valid = RN_SB_INIT;
        for (size_t i = 0; i < sizeof inputs / sizeof *inputs; i++)
            rn_sb_printf(&valid, "%s'%s'", i ? ", " : "", inputs[i]);
        rn_job_log(j, RN_LOG_WARNING, "Unexpected input(s) %s, valid inputs are [%s]",
                   rn_sb_str(&unknown), rn_sb_str(&valid));
        rn_sb_free(&valid);
    }
    rn_sb_free(&unknown);
    if (!d.count)
        rn_verify_spec_finish(&s, NULL, 0, 0, &d);
    rn_step_status st = RN_STEP_STATUS_FAILURE;
    if (d.count) {
        for (size_t i = 0; i < d.count; i++) {
            char *m = rn_diag_format_cli(&d.items[i]);
            rn_job_log(j, RN_LOG_ERROR, "%s: %s", uses, m);
            free(m);
        }
        goto out;
    }
    if (j->deadline_ms) { /* the job's timeout-minutes bounds the analysis */
        long left = j->deadline_ms - mono_ms();
        if (left < 1)
            left = 1;
        if (!s.timeout_ms || left < s.timeout_ms)
            s.timeout_ms = left;
    }

    rn_verify_io io;
    char **envp = rn_verify_job_io(j, &io);
    rn_verify_result r;
    bool ok = rn_verify_run(&s, &io, &r);
    rn_sb table = RN_SB_INIT;
    rn_verify_table(&s, &r, &table);
    const char *t = rn_sb_str(&table);
    while (*t) {
        const char *nl = strchrnul(t, '\n');
        rn_job_log(j, RN_LOG_INFO, "%.*s", (int)(nl - t), t);
        t = *nl ? nl + 1 : nl;
    }
    rn_sb_free(&table);
    json_object_set_new(outputs, "result", json_string(ok ? "passed" : "failed"));
    char num[32];
    snprintf(num, sizeof num, "%zu", r.n);
    json_object_set_new(outputs, "measurements", json_string(num));
    snprintf(num, sizeof num, "%zu", r.failures);
    json_object_set_new(outputs, "failures", json_string(num));
    if (ok)
        st = RN_STEP_STATUS_SUCCESS;
    else if (r.cancelled)
        st = RN_STEP_STATUS_CANCELLED;
    else
        rn_job_log(j, RN_LOG_ERROR, "verification failed: %s", r.error);
    rn_verify_result_free(&r);
    rn_verify_job_io_free(envp);
out:
    rn_diags_free(&d);
    rn_verify_spec_free(&s);
    return st;
}
