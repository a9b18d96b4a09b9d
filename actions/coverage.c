/* Coverage reports (JaCoCo XML, Cobertura XML, LCOV) and the coverage gate. See coverage.h.
 *
 * The XML reader is a small non-validating parser of exactly what these reports use (elements,
 * attributes, the predefined and numeric character references, comments, PIs, CDATA, a skipped
 * DOCTYPE): no entity expansion, no external DTD, exact FILE:LINE:COL for every error, and the
 * whole report is one memory buffer. It is fuzzed by tests/fuzz/fuzz_coverage.c. */
#include "actions/coverage.h"

#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/arena.h"

#define XML_MAX_DEPTH 256
#define XML_MAX_ATTRS 64

typedef unsigned __int128 u128;

/* ---------------------------------------------------------------- the coverage tree */

typedef struct node_table {
    rn_cov_node *items;
    size_t n, cap;
    uint32_t *index; /* open addressing, item index + 1; 0 is empty */
    size_t icap;
} node_table;

struct rn_cov_data {
    rn_arena arena;
    node_table t[4]; /* by rn_cov_element; [RN_COV_BUNDLE] unused */
    size_t reports;
    unsigned counters;
};

static uint64_t add_sat(uint64_t a, uint64_t b) {
    return a + b < a ? UINT64_MAX : a + b;
}

static uint64_t hash_str(const char *s) {
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

static void table_reindex(node_table *t, size_t icap) {
    free(t->index);
    t->icap = icap;
    t->index = rn_xcalloc(icap, sizeof *t->index);
    for (size_t i = 0; i < t->n; i++) {
        size_t h = hash_str(t->items[i].name) & (icap - 1);
        while (t->index[h])
            h = (h + 1) & (icap - 1);
        t->index[h] = (uint32_t)(i + 1);
    }
}

static rn_cov_node *table_find(const node_table *t, const char *name) {
    if (!t->icap)
        return NULL;
    for (size_t h = hash_str(name) & (t->icap - 1); t->index[h]; h = (h + 1) & (t->icap - 1)) {
        rn_cov_node *n = &t->items[t->index[h] - 1];
        if (!strcmp(n->name, name))
            return n;
    }
    return NULL;
}

/* The node called name, created (zeroed) if new. Strings are copied into the arena. */
static rn_cov_node *node_get(rn_cov_data *d, rn_cov_element e, const char *name, const char *pkg) {
    node_table *t = &d->t[e];
    rn_cov_node *n = table_find(t, name);
    if (n)
        return n;
    if (t->n == t->cap) {
        t->cap = t->cap ? t->cap * 2 : 16;
        t->items = rn_xrealloc(t->items, t->cap * sizeof *t->items);
    }
    if ((t->n + 1) * 2 > t->icap)
        table_reindex(t, t->icap ? t->icap * 2 : 32);
    n = &t->items[t->n++];
    memset(n, 0, sizeof *n);
    n->name = rn_arena_strdup(&d->arena, name);
    n->package = e == RN_COV_PACKAGE ? n->name : rn_arena_strdup(&d->arena, pkg);
    size_t h = hash_str(name) & (t->icap - 1);
    while (t->index[h])
        h = (h + 1) & (t->icap - 1);
    t->index[h] = (uint32_t)t->n;
    return n;
}

static void count_add(rn_cov_count *c, uint64_t covered, uint64_t missed) {
    c->covered = add_sat(c->covered, covered);
    c->missed = add_sat(c->missed, missed);
}

rn_cov_data *rn_cov_new(void) {
    rn_cov_data *d = rn_xcalloc(1, sizeof *d);
    rn_arena_init(&d->arena);
    d->counters = (1u << RN_COV_NCOUNTERS) - 1;
    return d;
}

void rn_cov_free(rn_cov_data *d) {
    if (!d)
        return;
    for (int e = 0; e < 4; e++) {
        free(d->t[e].items);
        free(d->t[e].index);
    }
    rn_arena_free(&d->arena);
    free(d);
}

size_t rn_cov_reports(const rn_cov_data *d) {
    return d->reports;
}

unsigned rn_cov_counters(const rn_cov_data *d) {
    return d->reports ? d->counters : 0;
}

rn_cov_count rn_cov_total(const rn_cov_data *d, rn_cov_counter c) {
    rn_cov_count total = {0, 0};
    const node_table *t = &d->t[RN_COV_PACKAGE];
    for (size_t i = 0; i < t->n; i++)
        count_add(&total, t->items[i].c[c].covered, t->items[i].c[c].missed);
    return total;
}

size_t rn_cov_nodes(const rn_cov_data *d, rn_cov_element e) {
    return e == RN_COV_BUNDLE ? 0 : d->t[e].n;
}

const rn_cov_node *rn_cov_node_at(const rn_cov_data *d, rn_cov_element e, size_t i) {
    return e == RN_COV_BUNDLE || i >= d->t[e].n ? NULL : &d->t[e].items[i];
}

const rn_cov_node *rn_cov_find(const rn_cov_data *d, rn_cov_element e, const char *name) {
    return e == RN_COV_BUNDLE ? NULL : table_find(&d->t[e], name);
}

/* Sums src into dst (both trees fully built). */
static void merge_into(rn_cov_data *dst, const rn_cov_data *src, unsigned counters) {
    for (int e = RN_COV_PACKAGE; e <= RN_COV_SOURCEFILE; e++) {
        const node_table *t = &src->t[e];
        for (size_t i = 0; i < t->n; i++) {
            rn_cov_node *n = node_get(dst, e, t->items[i].name, t->items[i].package);
            for (int c = 0; c < RN_COV_NCOUNTERS; c++)
                count_add(&n->c[c], t->items[i].c[c].covered, t->items[i].c[c].missed);
        }
    }
    dst->reports++;
    dst->counters &= counters;
}

/* ---------------------------------------------------------------- positions and errors */

typedef struct parser {
    const char *file, *buf;
    size_t len;
    rn_diags *diags;
    bool failed;
    /* incremental offset -> line/col cursor; positions are mostly asked for in order */
    size_t cur_off, cur_line_start;
    int cur_line;
} parser;

static void position(parser *p, size_t off, int *line, int *col) {
    if (off > p->len)
        off = p->len;
    if (off < p->cur_off) {
        p->cur_off = p->cur_line_start = 0;
        p->cur_line = 1;
    }
    for (; p->cur_off < off; p->cur_off++)
        if (p->buf[p->cur_off] == '\n') {
            p->cur_line++;
            p->cur_line_start = p->cur_off + 1;
        }
    int c = 1; /* columns count characters: UTF-8 continuation bytes don't start one */
    for (size_t i = p->cur_line_start; i < off; i++)
        if (((unsigned char)p->buf[i] & 0xC0) != 0x80)
            c++;
    *line = p->cur_line;
    *col = c;
}

__attribute__((format(printf, 3, 4))) static int perr(parser *p, size_t off, const char *fmt, ...) {
    if (p->failed) /* the first error is the real one; later ones are its echoes */
        return -1;
    p->failed = true;
    int line, col;
    position(p, off, &line, &col);
    va_list ap;
    va_start(ap, fmt);
    rn_diag_vadd(p->diags, p->file, line, col, fmt, ap);
    va_end(ap);
    return -1;
}

/* Decimal unsigned integer filling all of s[0..n). */
static bool parse_u64(const char *s, size_t n, uint64_t *out) {
    if (n == 0)
        return false;
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        unsigned dig = (unsigned)(s[i] - '0');
        if (v > (UINT64_MAX - dig) / 10)
            return false;
        v = v * 10 + dig;
    }
    *out = v;
    return true;
}

/* ---------------------------------------------------------------- XML */

typedef struct xattr {
    const char *name;
    size_t nlen;
    const char *value; /* decoded, NUL-terminated */
    size_t off;        /* of the attribute name, for errors */
} xattr;

typedef struct xml_handler {
    /* Return 0 to go on, -1 after reporting an error with perr(). */
    int (*start)(void *ud, parser *p, const char *name, size_t nlen, const xattr *a, size_t na,
                 size_t off);
    int (*end)(void *ud, parser *p, const char *name, size_t nlen);
} xml_handler;

static bool name_start(unsigned char c) {
    return isalpha(c) || c == '_' || c == ':' || c >= 0x80;
}

static bool name_char(unsigned char c) {
    return name_start(c) || isdigit(c) || c == '.' || c == '-';
}

static bool xml_space(char c) {
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static size_t parse_name(const char *s, size_t i, size_t n) {
    if (i >= n || !name_start((unsigned char)s[i]))
        return i;
    while (i < n && name_char((unsigned char)s[i]))
        i++;
    return i;
}

static void put_utf8(rn_sb *sb, uint32_t cp) {
    char b[4];
    size_t n;
    if (cp < 0x80) {
        b[0] = (char)cp;
        n = 1;
    } else if (cp < 0x800) {
        b[0] = (char)(0xC0 | cp >> 6);
        b[1] = (char)(0x80 | (cp & 0x3F));
        n = 2;
    } else if (cp < 0x10000) {
        b[0] = (char)(0xE0 | cp >> 12);
        b[1] = (char)(0x80 | (cp >> 6 & 0x3F));
        b[2] = (char)(0x80 | (cp & 0x3F));
        n = 3;
    } else {
        b[0] = (char)(0xF0 | cp >> 18);
        b[1] = (char)(0x80 | (cp >> 12 & 0x3F));
        b[2] = (char)(0x80 | (cp >> 6 & 0x3F));
        b[3] = (char)(0x80 | (cp & 0x3F));
        n = 4;
    }
    rn_sb_append(sb, b, n);
}

/* A reference at s[i] == '&'. Appends its text to out (when not NULL) and returns the offset
 * after ';', or 0 after reporting an error. */
static size_t parse_ref(parser *p, size_t i, size_t n, rn_sb *out) {
    const char *s = p->buf;
    size_t semi = i + 1;
    while (semi < n && semi - i <= 12 && s[semi] != ';')
        semi++;
    if (semi >= n || s[semi] != ';')
        return perr(p, i, "'&' must start a reference such as &amp;"), 0;
    const char *r = s + i + 1;
    size_t rl = semi - i - 1;
    static const struct {
        const char *name;
        char c;
    } predefined[] = {{"lt", '<'}, {"gt", '>'}, {"amp", '&'}, {"quot", '"'}, {"apos", '\''}};
    for (size_t k = 0; k < sizeof predefined / sizeof predefined[0]; k++)
        if (rl == strlen(predefined[k].name) && !memcmp(r, predefined[k].name, rl)) {
            if (out)
                rn_sb_putc(out, predefined[k].c);
            return semi + 1;
        }
    if (rl >= 2 && r[0] == '#') {
        bool hex = r[1] == 'x';
        size_t k = hex ? 2 : 1;
        uint32_t cp = 0;
        if (k == rl)
            return perr(p, i, "empty character reference"), 0;
        for (; k < rl; k++) {
            int v = hex && isxdigit((unsigned char)r[k])
                        ? (isdigit((unsigned char)r[k]) ? r[k] - '0'
                                                        : (tolower((unsigned char)r[k]) - 'a' + 10))
                    : !hex && isdigit((unsigned char)r[k]) ? r[k] - '0'
                                                           : -1;
            if (v < 0 || cp > 0x10FFFF)
                return perr(p, i, "bad character reference '&%.*s;'", (int)rl, r), 0;
            cp = cp * (hex ? 16 : 10) + (uint32_t)v;
        }
        if (cp == 0 || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
            return perr(p, i, "character reference '&%.*s;' is not a character", (int)rl, r), 0;
        if (out)
            put_utf8(out, cp);
        return semi + 1;
    }
    return perr(p, i, "unknown entity '&%.*s;' (reports use no custom entities)", (int)rl, r), 0;
}

static size_t find(const char *s, size_t i, size_t n, const char *needle) {
    size_t nl = strlen(needle);
    const char *f = i <= n ? memmem(s + i, n - i, needle, nl) : NULL;
    return f ? (size_t)(f - s) : (size_t)-1;
}

/* Skips <!DOCTYPE ...> including an internal subset; returns the offset after '>' or 0. */
static size_t skip_doctype(parser *p, size_t i, size_t n) {
    const char *s = p->buf;
    size_t start = i;
    int brackets = 0;
    for (i += 9; i < n; i++) {
        char c = s[i];
        if (c == '"' || c == '\'') {
            const char *q = memchr(s + i + 1, c, n - i - 1);
            if (!q)
                break;
            i = (size_t)(q - s);
        } else if (c == '[') {
            brackets++;
        } else if (c == ']') {
            brackets--;
        } else if (c == '>' && brackets <= 0) {
            return i + 1;
        }
    }
    return perr(p, start, "<!DOCTYPE is not closed"), 0;
}

static bool starts(const char *s, size_t i, size_t n, const char *lit) {
    size_t l = strlen(lit);
    return n - i >= l && !memcmp(s + i, lit, l);
}

typedef struct open_elem {
    const char *name;
    size_t nlen, off;
} open_elem;

static int xml_parse(parser *p, const xml_handler *h, void *ud) {
    const char *s = p->buf;
    size_t n = p->len, i = 0;
    open_elem stack[XML_MAX_DEPTH];
    int depth = 0;
    bool root_done = false;
    rn_sb vals = RN_SB_INIT;
    xattr *attrs = NULL;
    size_t *voffs = NULL;
    size_t acap = 0;
    int rc = -1;

    if (n >= 3 && !memcmp(s, "\xEF\xBB\xBF", 3))
        i = 3;
    while (i < n) {
        if (s[i] != '<') {
            if (s[i] == '&') {
                if (depth == 0) {
                    perr(p, i, "text outside the root element");
                    goto out;
                }
                if (!(i = parse_ref(p, i, n, NULL)))
                    goto out;
                continue;
            }
            if (depth == 0 && !xml_space(s[i])) {
                perr(p, i, "text outside the root element");
                goto out;
            }
            if (s[i] == '>' && i >= 2 && s[i - 1] == ']' && s[i - 2] == ']') {
                perr(p, i - 2, "']]>' is not allowed in text");
                goto out;
            }
            i++;
            continue;
        }
        if (starts(s, i, n, "<?")) {
            size_t e = find(s, i + 2, n, "?>");
            if (e == (size_t)-1) {
                perr(p, i, "processing instruction is not closed with '?>'");
                goto out;
            }
            i = e + 2;
            continue;
        }
        if (starts(s, i, n, "<!--")) {
            size_t e = find(s, i + 4, n, "-->");
            if (e == (size_t)-1) {
                perr(p, i, "comment is not closed with '-->'");
                goto out;
            }
            i = e + 3;
            continue;
        }
        if (starts(s, i, n, "<![CDATA[")) {
            if (depth == 0) {
                perr(p, i, "CDATA outside the root element");
                goto out;
            }
            size_t e = find(s, i + 9, n, "]]>");
            if (e == (size_t)-1) {
                perr(p, i, "CDATA section is not closed with ']]>'");
                goto out;
            }
            i = e + 3;
            continue;
        }
        if (starts(s, i, n, "<!DOCTYPE")) {
            if (depth > 0 || root_done) {
                perr(p, i, "<!DOCTYPE must come before the root element");
                goto out;
            }
            if (!(i = skip_doctype(p, i, n)))
                goto out;
            continue;
        }
        if (i + 1 < n && s[i + 1] == '/') { /* end tag */
            size_t ns = i + 2, ne = parse_name(s, ns, n);
            if (ne == ns) {
                perr(p, i, "expected an element name after '</'");
                goto out;
            }
            size_t j = ne;
            while (j < n && xml_space(s[j]))
                j++;
            if (j >= n || s[j] != '>') {
                perr(p, j, "expected '>' to end </%.*s", (int)(ne - ns), s + ns);
                goto out;
            }
            if (depth == 0) {
                perr(p, i, "</%.*s> closes no element", (int)(ne - ns), s + ns);
                goto out;
            }
            open_elem *top = &stack[depth - 1];
            if (top->nlen != ne - ns || memcmp(top->name, s + ns, top->nlen)) {
                int l, c;
                position(p, top->off, &l, &c);
                perr(p, i, "</%.*s> does not match <%.*s> opened at %d:%d", (int)(ne - ns), s + ns,
                     (int)top->nlen, top->name, l, c);
                goto out;
            }
            if (h->end(ud, p, top->name, top->nlen) < 0)
                goto out;
            depth--;
            if (depth == 0)
                root_done = true;
            i = j + 1;
            continue;
        }
        /* start tag */
        size_t tag = i, ns = i + 1, ne = parse_name(s, ns, n);
        if (ne == ns) {
            perr(p, i, "'<' must start an element, comment or declaration");
            goto out;
        }
        if (root_done) {
            perr(p, i, "a second root element <%.*s>", (int)(ne - ns), s + ns);
            goto out;
        }
        if (depth == XML_MAX_DEPTH) {
            perr(p, i, "elements nested deeper than %d", XML_MAX_DEPTH);
            goto out;
        }
        size_t na = 0, j = ne;
        bool empty = false;
        rn_sb_clear(&vals);
        for (;;) {
            size_t ws = j;
            while (j < n && xml_space(s[j]))
                j++;
            if (j >= n) {
                perr(p, tag, "<%.*s is not closed with '>'", (int)(ne - ns), s + ns);
                goto out;
            }
            if (s[j] == '>') {
                j++;
                break;
            }
            if (s[j] == '/') {
                if (j + 1 >= n || s[j + 1] != '>') {
                    perr(p, j, "expected '/>'");
                    goto out;
                }
                j += 2;
                empty = true;
                break;
            }
            size_t as = j, ae = parse_name(s, as, n);
            if (ae == as || ws == j) {
                perr(p, j,
                     ae == as ? "expected an attribute name, '>' or '/>'"
                              : "attributes must be separated by white space");
                goto out;
            }
            j = ae;
            while (j < n && xml_space(s[j]))
                j++;
            if (j >= n || s[j] != '=') {
                perr(p, j, "expected '=' after attribute %.*s", (int)(ae - as), s + as);
                goto out;
            }
            j++;
            while (j < n && xml_space(s[j]))
                j++;
            if (j >= n || (s[j] != '"' && s[j] != '\'')) {
                perr(p, j, "attribute %.*s: value must be quoted", (int)(ae - as), s + as);
                goto out;
            }
            if (na == XML_MAX_ATTRS) { /* bounds the duplicate check below */
                perr(p, as, "more than %d attributes", XML_MAX_ATTRS);
                goto out;
            }
            char q = s[j++];
            for (size_t k = 0; k < na; k++)
                if (attrs[k].nlen == ae - as && !memcmp(attrs[k].name, s + as, ae - as)) {
                    perr(p, as, "duplicate attribute %.*s", (int)(ae - as), s + as);
                    goto out;
                }
            if (na == acap) {
                acap = acap ? acap * 2 : 8;
                attrs = rn_xrealloc(attrs, acap * sizeof *attrs);
                voffs = rn_xrealloc(voffs, acap * sizeof *voffs);
            }
            voffs[na] = vals.len;
            for (;;) {
                if (j >= n) {
                    perr(p, as, "attribute %.*s: value is not closed", (int)(ae - as), s + as);
                    goto out;
                }
                if (s[j] == q)
                    break;
                if (s[j] == '<') {
                    perr(p, j, "'<' is not allowed in an attribute value");
                    goto out;
                }
                if (s[j] == '&') {
                    if (!(j = parse_ref(p, j, n, &vals)))
                        goto out;
                    continue;
                }
                size_t k = j;
                while (k < n && s[k] != q && s[k] != '<' && s[k] != '&')
                    k++;
                rn_sb_append(&vals, s + j, k - j);
                j = k;
            }
            j++;
            rn_sb_append(&vals, "", 1); /* keeps the NUL between values */
            attrs[na] = (xattr){s + as, ae - as, NULL, as};
            na++;
        }
        for (size_t k = 0; k < na; k++)
            attrs[k].value = vals.data + voffs[k];
        if (h->start(ud, p, s + ns, ne - ns, attrs, na, tag) < 0)
            goto out;
        if (empty) {
            if (h->end(ud, p, s + ns, ne - ns) < 0)
                goto out;
            if (depth == 0)
                root_done = true;
        } else {
            stack[depth++] = (open_elem){s + ns, ne - ns, tag};
        }
        i = j;
    }
    if (depth > 0) {
        open_elem *top = &stack[depth - 1];
        int l, c;
        position(p, top->off, &l, &c);
        perr(p, n, "unexpected end of file: <%.*s> opened at %d:%d is not closed", (int)top->nlen,
             top->name, l, c);
        goto out;
    }
    if (!root_done) {
        perr(p, n, "no root element");
        goto out;
    }
    rc = 0;
out:
    rn_sb_free(&vals);
    free(attrs);
    free(voffs);
    return rc;
}

static bool is(const char *name, size_t nlen, const char *lit) {
    return strlen(lit) == nlen && !memcmp(name, lit, nlen);
}

static const xattr *attr(const xattr *a, size_t na, const char *name) {
    for (size_t i = 0; i < na; i++)
        if (is(a[i].name, a[i].nlen, name))
            return &a[i];
    return NULL;
}

/* A required attribute's value, or NULL after an error at the element. */
static const char *need(parser *p, const xattr *a, size_t na, const char *name, const char *elem,
                        size_t off) {
    const xattr *x = attr(a, na, name);
    if (!x)
        return perr(p, off, "<%s> has no %s attribute", elem, name), NULL;
    return x->value;
}

static int need_u64(parser *p, const xattr *a, size_t na, const char *name, const char *elem,
                    size_t off, uint64_t *out) {
    const xattr *x = attr(a, na, name);
    if (!x)
        return perr(p, off, "<%s> has no %s attribute", elem, name);
    if (!parse_u64(x->value, strlen(x->value), out))
        return perr(p, x->off, "<%s> %s=\"%s\" is not a non-negative integer", elem, name,
                    x->value);
    return 0;
}

/* Element kinds the two XML readers track on their stack. */
enum { X_OTHER, X_ROOT, X_GROUP, X_PACKAGES, X_PACKAGE, X_CLASSES, X_CLASS, X_SOURCEFILE, X_LINES };

typedef struct xml_reader {
    rn_cov_data *d;
    int stack[XML_MAX_DEPTH];
    int depth;
    rn_cov_node *pkg, *cls, *src; /* current package, class, source file */
    char *pkg_path;               /* JaCoCo package as written ("com/example"), heap */
} xml_reader;

static void dots(char *s) {
    for (; *s; s++)
        if (*s == '/')
            *s = '.';
}

/* ---- JaCoCo: report > group* > package > (class > method, sourcefile > line, counter) ---- */

static int jacoco_start(void *ud, parser *p, const char *name, size_t nlen, const xattr *a,
                        size_t na, size_t off) {
    xml_reader *r = ud;
    int parent = r->depth ? r->stack[r->depth - 1] : -1;
    int kind = X_OTHER;
    if (parent == -1) {
        if (!is(name, nlen, "report"))
            return perr(p, off, "JaCoCo report root must be <report>, not <%.*s>", (int)nlen, name);
        kind = X_ROOT;
    } else if (is(name, nlen, "group") && (parent == X_ROOT || parent == X_GROUP)) {
        kind = X_GROUP;
    } else if (is(name, nlen, "package") && (parent == X_ROOT || parent == X_GROUP)) {
        const char *pn = need(p, a, na, "name", "package", off);
        if (!pn)
            return -1;
        free(r->pkg_path);
        r->pkg_path = rn_xstrdup(pn);
        char *display = rn_xstrdup(pn);
        dots(display);
        r->pkg = node_get(r->d, RN_COV_PACKAGE, display, display);
        free(display);
        kind = X_PACKAGE;
    } else if (is(name, nlen, "class") && parent == X_PACKAGE) {
        const char *cn = need(p, a, na, "name", "class", off);
        if (!cn)
            return -1;
        char *display = rn_xstrdup(cn);
        dots(display);
        r->cls = node_get(r->d, RN_COV_CLASS, display, r->pkg->name);
        free(display);
        kind = X_CLASS;
    } else if (is(name, nlen, "sourcefile") && parent == X_PACKAGE) {
        const char *fn = need(p, a, na, "name", "sourcefile", off);
        if (!fn)
            return -1;
        char *path = *r->pkg_path ? rn_xprintf("%s/%s", r->pkg_path, fn) : rn_xstrdup(fn);
        r->src = node_get(r->d, RN_COV_SOURCEFILE, path, r->pkg->name);
        free(path);
        kind = X_SOURCEFILE;
    } else if (is(name, nlen, "counter")) {
        const char *type = need(p, a, na, "type", "counter", off);
        uint64_t missed, covered;
        if (!type || need_u64(p, a, na, "missed", "counter", off, &missed) < 0 ||
            need_u64(p, a, na, "covered", "counter", off, &covered) < 0)
            return -1;
        rn_cov_node *target = parent == X_PACKAGE      ? r->pkg
                              : parent == X_CLASS      ? r->cls
                              : parent == X_SOURCEFILE ? r->src
                                                       : NULL; /* method, group, report: derived */
        rn_cov_counter c;
        if (target && !rn_cov_parse_counter(type, &c))
            count_add(&target->c[c], covered, missed);
    }
    r->stack[r->depth++] = kind;
    return 0;
}

static int xml_end(void *ud, parser *p, const char *name, size_t nlen) {
    (void)p, (void)name, (void)nlen;
    xml_reader *r = ud;
    r->depth--;
    return 0;
}

/* ---- Cobertura: coverage > packages > package > classes > class > lines > line ---- */

/* "50% (1/2)" -> covered 1, total 2. */
static bool condition_coverage(const char *s, uint64_t *covered, uint64_t *total) {
    const char *open = strchr(s, '(');
    const char *slash = open ? strchr(open, '/') : NULL;
    const char *close = slash ? strchr(slash, ')') : NULL;
    if (!close || !parse_u64(open + 1, (size_t)(slash - open - 1), covered) ||
        !parse_u64(slash + 1, (size_t)(close - slash - 1), total))
        return false;
    return *covered <= *total;
}

static int cobertura_start(void *ud, parser *p, const char *name, size_t nlen, const xattr *a,
                           size_t na, size_t off) {
    xml_reader *r = ud;
    int parent = r->depth ? r->stack[r->depth - 1] : -1;
    int kind = X_OTHER;
    if (parent == -1) {
        if (!is(name, nlen, "coverage"))
            return perr(p, off, "Cobertura report root must be <coverage>, not <%.*s>", (int)nlen,
                        name);
        kind = X_ROOT;
    } else if (is(name, nlen, "packages") && parent == X_ROOT) {
        kind = X_PACKAGES;
    } else if (is(name, nlen, "package") && parent == X_PACKAGES) {
        const char *pn = need(p, a, na, "name", "package", off);
        if (!pn)
            return -1;
        r->pkg = node_get(r->d, RN_COV_PACKAGE, pn, pn);
        kind = X_PACKAGE;
    } else if (is(name, nlen, "classes") && parent == X_PACKAGE) {
        kind = X_CLASSES;
    } else if (is(name, nlen, "class") && parent == X_CLASSES) {
        const char *cn = need(p, a, na, "name", "class", off);
        const char *fn = cn ? need(p, a, na, "filename", "class", off) : NULL;
        if (!fn)
            return -1;
        /* Java tools qualify class names; coverage.py names classes after files, which repeat
         * across packages (__init__.py), so qualify those with the package. */
        const char *pn = r->pkg->name;
        size_t pl = strlen(pn);
        char *qualified = !*pn || (!strncmp(cn, pn, pl) && cn[pl] == '.')
                              ? rn_xstrdup(cn)
                              : rn_xprintf("%s.%s", pn, cn);
        r->cls = node_get(r->d, RN_COV_CLASS, qualified, pn);
        free(qualified);
        r->src = node_get(r->d, RN_COV_SOURCEFILE, fn, pn);
        kind = X_CLASS;
    } else if (is(name, nlen, "lines") && parent == X_CLASS) {
        kind = X_LINES;
    } else if (is(name, nlen, "line") && parent == X_LINES) {
        /* Only class-level lines count; method-level <lines> repeat them. */
        uint64_t number, hits;
        if (need_u64(p, a, na, "number", "line", off, &number) < 0 ||
            need_u64(p, a, na, "hits", "line", off, &hits) < 0)
            return -1;
        rn_cov_node *targets[3] = {r->pkg, r->cls, r->src};
        for (int t = 0; t < 3; t++)
            count_add(&targets[t]->c[RN_COV_LINE], hits > 0, hits == 0);
        const xattr *br = attr(a, na, "branch");
        const xattr *cc = attr(a, na, "condition-coverage");
        if (br && !strcmp(br->value, "true") && cc) {
            uint64_t bc, bt;
            if (!condition_coverage(cc->value, &bc, &bt))
                return perr(p, cc->off,
                            "<line> condition-coverage=\"%s\" is not like \"50%% (1/2)\"",
                            cc->value);
            for (int t = 0; t < 3; t++)
                count_add(&targets[t]->c[RN_COV_BRANCH], bc, bt - bc);
        }
    }
    r->stack[r->depth++] = kind;
    return 0;
}

/* ---------------------------------------------------------------- LCOV */

typedef struct lcov_line {
    uint32_t file;
    uint64_t line, hits;
} lcov_line;

typedef struct lcov_branch {
    uint32_t file;
    uint64_t line;
    const char *id; /* "block,branch" in the arena */
    bool taken;
} lcov_branch;

static int cmp_line(const void *a, const void *b) {
    const lcov_line *x = a, *y = b;
    if (x->file != y->file)
        return x->file < y->file ? -1 : 1;
    return x->line < y->line ? -1 : x->line > y->line;
}

static int cmp_branch(const void *a, const void *b) {
    const lcov_branch *x = a, *y = b;
    if (x->file != y->file)
        return x->file < y->file ? -1 : 1;
    if (x->line != y->line)
        return x->line < y->line ? -1 : 1;
    return strcmp(x->id, y->id);
}

/* Splits s[0..n) at commas into at most max fields; returns the field count. */
static size_t split_commas(const char *s, size_t n, const char **f, size_t *fl, size_t max) {
    size_t k = 0, start = 0;
    for (size_t i = 0; i <= n && k < max; i++)
        if (i == n || (s[i] == ',' && k + 1 < max)) {
            f[k] = s + start;
            fl[k++] = i - start;
            start = i + 1;
        }
    return k;
}

static int lcov_parse(parser *p, rn_cov_data *d) {
    const char *s = p->buf;
    size_t n = p->len, i = 0;
    lcov_line *lines = NULL;
    lcov_branch *branches = NULL;
    size_t nl = 0, cl = 0, nb = 0, cb = 0;
    int rc = -1;
    long cur = -1; /* current file index, -1 outside a record */
    size_t sf_off = 0;
    /* Summary lines (LF/LH, BRF/BRH) count only for records without DA / BRDA lines. */
    bool rec_da = false, rec_brda = false;
    uint64_t lf = 0, lh = 0, brf = 0, brh = 0;
    bool have_lf = false, have_brf = false;

    if (n >= 3 && !memcmp(s, "\xEF\xBB\xBF", 3))
        i = 3;
    while (i < n) {
        size_t ls = i, le = i;
        while (le < n && s[le] != '\n')
            le++;
        i = le < n ? le + 1 : le;
        if (le > ls && s[le - 1] == '\r')
            le--;
        while (ls < le && (s[ls] == ' ' || s[ls] == '\t'))
            ls++;
        if (ls == le)
            continue;
        const char *line = s + ls;
        size_t len = le - ls;
        if (len == 13 && !memcmp(line, "end_of_record", 13)) {
            if (cur < 0) {
                perr(p, ls, "end_of_record without SF:");
                goto out;
            }
            rn_cov_node *f = &d->t[RN_COV_SOURCEFILE].items[cur];
            rn_cov_node *pk = (rn_cov_node *)rn_cov_find(d, RN_COV_PACKAGE, f->package);
            rn_cov_node *cls = (rn_cov_node *)rn_cov_find(d, RN_COV_CLASS, f->name);
            rn_cov_node *targets[3] = {pk, cls, f};
            for (int t = 0; t < 3; t++) {
                if (!rec_da && have_lf)
                    count_add(&targets[t]->c[RN_COV_LINE], lh, lf - lh);
                if (!rec_brda && have_brf)
                    count_add(&targets[t]->c[RN_COV_BRANCH], brh, brf - brh);
            }
            cur = -1;
            continue;
        }
        const char *colon = memchr(line, ':', len);
        if (!colon) {
            perr(p, ls, "not an LCOV line (expected KEY:VALUE or end_of_record)");
            goto out;
        }
        size_t kl = (size_t)(colon - line);
        const char *v = colon + 1;
        size_t vl = len - kl - 1;
        size_t voff = ls + kl + 1;
        if (kl == 2 && !memcmp(line, "SF", 2)) {
            if (cur >= 0) {
                perr(p, ls, "SF: before the previous record's end_of_record");
                goto out;
            }
            if (vl == 0) {
                perr(p, voff, "SF: needs a source file path");
                goto out;
            }
            char *path = rn_xstrndup(v, vl);
            const char *slash = strrchr(path, '/');
            char *dir = slash ? rn_xstrndup(path, (size_t)(slash - path)) : rn_xstrdup("");
            if (!rn_cov_find(d, RN_COV_SOURCEFILE, path)) {
                node_get(d, RN_COV_PACKAGE, dir, dir);
                node_get(d, RN_COV_CLASS, path, dir);
            }
            /* Only LCOV fills this tree's source files, so a node's index is its file number
             * (kept as an index: node pointers move when the table grows). */
            cur = node_get(d, RN_COV_SOURCEFILE, path, dir) - d->t[RN_COV_SOURCEFILE].items;
            free(path);
            free(dir);
            sf_off = ls;
            rec_da = rec_brda = have_lf = have_brf = false;
            continue;
        }
        bool known = (kl == 2 && (!memcmp(line, "DA", 2) || !memcmp(line, "LF", 2) ||
                                  !memcmp(line, "LH", 2))) ||
                     (kl == 4 && !memcmp(line, "BRDA", 4)) ||
                     (kl == 3 && (!memcmp(line, "BRF", 3) || !memcmp(line, "BRH", 3)));
        if (!known) {
            for (size_t k = 0; k < kl; k++)
                if (!isupper((unsigned char)line[k]) && line[k] != '_') {
                    perr(p, ls, "not an LCOV line (expected KEY:VALUE or end_of_record)");
                    goto out;
                }
            continue; /* TN, FN, FNDA, FNF, FNH, VER, ...: not needed for the counters */
        }
        if (cur < 0) {
            perr(p, ls, "%.*s: outside a SF: record", (int)kl, line);
            goto out;
        }
        if (kl == 2 && !memcmp(line, "DA", 2)) {
            const char *f[3];
            size_t fl[3];
            size_t k = split_commas(v, vl, f, fl, 3);
            uint64_t ln, hits;
            if (k < 2 || !parse_u64(f[0], fl[0], &ln) || ln == 0) {
                perr(p, voff, "DA: expects LINE,HITS with LINE a positive integer");
                goto out;
            }
            if (!parse_u64(f[1], fl[1], &hits)) {
                perr(p, voff + fl[0] + 1, "DA: hit count '%.*s' is not a non-negative integer",
                     (int)fl[1], f[1]);
                goto out;
            }
            if (nl == cl) {
                cl = cl ? cl * 2 : 256;
                lines = rn_xrealloc(lines, cl * sizeof *lines);
            }
            lines[nl++] = (lcov_line){(uint32_t)cur, ln, hits};
            rec_da = true;
        } else if (kl == 4) { /* BRDA:LINE,BLOCK,BRANCH,TAKEN */
            const char *f[4];
            size_t fl[4];
            size_t k = split_commas(v, vl, f, fl, 4);
            uint64_t ln, taken = 0;
            if (k < 4 || !parse_u64(f[0], fl[0], &ln) || ln == 0) {
                perr(p, voff, "BRDA: expects LINE,BLOCK,BRANCH,TAKEN");
                goto out;
            }
            if (!(fl[3] == 1 && f[3][0] == '-') && !parse_u64(f[3], fl[3], &taken)) {
                perr(p, (size_t)(f[3] - s), "BRDA: taken count '%.*s' is not '-' or an integer",
                     (int)fl[3], f[3]);
                goto out;
            }
            if (nb == cb) {
                cb = cb ? cb * 2 : 256;
                branches = rn_xrealloc(branches, cb * sizeof *branches);
            }
            branches[nb++] = (lcov_branch){
                (uint32_t)cur, ln, rn_arena_strndup(&d->arena, f[1], fl[1] + 1 + fl[2]), taken > 0};
            rec_brda = true;
        } else {
            uint64_t val;
            if (!parse_u64(v, vl, &val)) {
                perr(p, voff, "%.*s: '%.*s' is not a non-negative integer", (int)kl, line, (int)vl,
                     v);
                goto out;
            }
            if (kl == 2 && line[1] == 'F')
                lf = val, have_lf = true;
            else if (kl == 2)
                lh = val;
            else if (line[2] == 'F')
                brf = val, have_brf = true;
            else
                brh = val;
            if ((have_lf && lh > lf) || (have_brf && brh > brf)) {
                perr(p, ls, "%s hit more than found", line[0] == 'L' ? "LH" : "BRH");
                goto out;
            }
        }
    }
    if (cur >= 0) {
        perr(p, sf_off, "record is not closed with end_of_record");
        goto out;
    }
    /* A line (branch) repeated across records for the same file counts once: covered if any
     * record hit it, as lcov's own merge does. */
    if (nl) /* qsort(NULL, 0, ...) is undefined */
        qsort(lines, nl, sizeof *lines, cmp_line);
    for (size_t k = 0; k < nl;) {
        size_t e = k;
        bool hit = false;
        for (; e < nl && lines[e].file == lines[k].file && lines[e].line == lines[k].line; e++)
            hit |= lines[e].hits > 0;
        rn_cov_node *f = &d->t[RN_COV_SOURCEFILE].items[lines[k].file];
        rn_cov_node *targets[3] = {(rn_cov_node *)rn_cov_find(d, RN_COV_PACKAGE, f->package),
                                   (rn_cov_node *)rn_cov_find(d, RN_COV_CLASS, f->name), f};
        for (int t = 0; t < 3; t++)
            count_add(&targets[t]->c[RN_COV_LINE], hit, !hit);
        k = e;
    }
    if (nb)
        qsort(branches, nb, sizeof *branches, cmp_branch);
    for (size_t k = 0; k < nb;) {
        size_t e = k;
        bool hit = false;
        for (; e < nb && !cmp_branch(&branches[e], &branches[k]); e++)
            hit |= branches[e].taken;
        rn_cov_node *f = &d->t[RN_COV_SOURCEFILE].items[branches[k].file];
        rn_cov_node *targets[3] = {(rn_cov_node *)rn_cov_find(d, RN_COV_PACKAGE, f->package),
                                   (rn_cov_node *)rn_cov_find(d, RN_COV_CLASS, f->name), f};
        for (int t = 0; t < 3; t++)
            count_add(&targets[t]->c[RN_COV_BRANCH], hit, !hit);
        k = e;
    }
    rc = 0;
out:
    free(lines);
    free(branches);
    return rc;
}

/* ---------------------------------------------------------------- detection and entry points */

const char *rn_cov_format_name(rn_cov_format f) {
    switch (f) {
    case RN_COV_JACOCO:
        return "JaCoCo";
    case RN_COV_COBERTURA:
        return "Cobertura";
    case RN_COV_LCOV:
        return "LCOV";
    default:
        return "unknown";
    }
}

rn_cov_format rn_cov_detect(const char *s, size_t n) {
    size_t i = 0;
    if (n >= 3 && !memcmp(s, "\xEF\xBB\xBF", 3))
        i = 3;
    while (i < n && xml_space(s[i]))
        i++;
    if (i < n && s[i] == '<') {
        /* Skip the prolog to the root element's name. */
        while (i < n && s[i] == '<') {
            size_t e;
            if (starts(s, i, n, "<?"))
                e = find(s, i, n, "?>"), e = e == (size_t)-1 ? e : e + 2;
            else if (starts(s, i, n, "<!--"))
                e = find(s, i, n, "-->"), e = e == (size_t)-1 ? e : e + 3;
            else if (starts(s, i, n, "<!DOCTYPE")) {
                const char *gt = memchr(s + i, '>', n - i);
                const char *br = memchr(s + i, '[', n - i);
                if (br && (!gt || br < gt)) { /* internal subset: up to "]" then ">" */
                    e = find(s, (size_t)(br - s), n, "]");
                    gt = e == (size_t)-1 ? NULL : memchr(s + e, '>', n - e);
                }
                e = gt ? (size_t)(gt - s) + 1 : (size_t)-1;
            } else {
                size_t ne = parse_name(s, i + 1, n);
                if (is(s + i + 1, ne - i - 1, "report"))
                    return RN_COV_JACOCO;
                if (is(s + i + 1, ne - i - 1, "coverage"))
                    return RN_COV_COBERTURA;
                return RN_COV_UNKNOWN;
            }
            if (e == (size_t)-1)
                return RN_COV_UNKNOWN;
            i = e;
            while (i < n && xml_space(s[i]))
                i++;
        }
        return RN_COV_UNKNOWN;
    }
    /* LCOV: the first line is KEY:... with an LCOV key. */
    static const char *keys[] = {"TN:",  "SF:", "VER:",  "FN:",  "FNDA:", "FNF:", "FNH:", "FNL:",
                                 "FNA:", "DA:", "BRDA:", "BRF:", "BRH:",  "LF:",  "LH:"};
    for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++)
        if (starts(s, i, n, keys[k]))
            return RN_COV_LCOV;
    return RN_COV_UNKNOWN;
}

int rn_cov_add(rn_cov_data *d, const char *name, const char *buf, size_t len, rn_diags *diags) {
    parser p = {.file = name, .buf = buf, .len = len, .diags = diags, .cur_line = 1};
    rn_cov_format f = rn_cov_detect(buf, len);
    if (f == RN_COV_UNKNOWN)
        return perr(&p, 0, "not a JaCoCo XML, Cobertura XML or LCOV coverage report");
    if (memchr(buf, '\0', len))
        return perr(&p, (size_t)((const char *)memchr(buf, '\0', len) - buf),
                    "NUL byte in the %s report", rn_cov_format_name(f));
    rn_cov_data *tmp = rn_cov_new();
    int rc;
    unsigned counters;
    if (f == RN_COV_LCOV) {
        rc = lcov_parse(&p, tmp);
        counters = 1u << RN_COV_LINE | 1u << RN_COV_BRANCH;
    } else {
        xml_reader r = {.d = tmp};
        static const xml_handler jacoco = {jacoco_start, xml_end};
        static const xml_handler cobertura = {cobertura_start, xml_end};
        rc = xml_parse(&p, f == RN_COV_JACOCO ? &jacoco : &cobertura, &r);
        free(r.pkg_path);
        counters = f == RN_COV_JACOCO ? (1u << RN_COV_NCOUNTERS) - 1
                                      : (1u << RN_COV_LINE | 1u << RN_COV_BRANCH);
    }
    if (rc == 0)
        merge_into(d, tmp, counters);
    rn_cov_free(tmp);
    return rc;
}

int rn_cov_add_file(rn_cov_data *d, const char *path, rn_diags *diags) {
    size_t len;
    char *buf = rn_read_file(path, &len);
    if (!buf) {
        rn_diag_add(diags, path, 0, 0, "cannot read coverage report: %s", strerror(errno));
        return -1;
    }
    int rc = rn_cov_add(d, path, buf, len, diags);
    free(buf);
    return rc;
}

/* ---------------------------------------------------------------- the gate */

static const char *counter_names[] = {"INSTRUCTION", "BRANCH", "LINE"};
static const char *element_names[] = {"BUNDLE", "PACKAGE", "CLASS", "SOURCEFILE"};

int rn_cov_parse_counter(const char *s, rn_cov_counter *out) {
    for (int i = 0; i < RN_COV_NCOUNTERS; i++)
        if (!strcasecmp(s, counter_names[i])) {
            *out = (rn_cov_counter)i;
            return 0;
        }
    return -1;
}

int rn_cov_parse_element(const char *s, rn_cov_element *out) {
    for (int i = 0; i < 4; i++)
        if (!strcasecmp(s, element_names[i])) {
            *out = (rn_cov_element)i;
            return 0;
        }
    return -1;
}

int rn_cov_parse_minimum(const char *s, uint32_t *milli) {
    size_t n = strlen(s);
    if (n && s[n - 1] == '%')
        n--;
    uint64_t whole = 0, frac = 0;
    size_t i = 0, digits = 0;
    for (; i < n && isdigit((unsigned char)s[i]); i++, digits++) {
        whole = whole * 10 + (uint64_t)(s[i] - '0');
        if (whole > 100)
            return -1;
    }
    if (i < n && s[i] == '.') {
        size_t fd = 0;
        for (i++; i < n && isdigit((unsigned char)s[i]); i++, fd++, digits++) {
            if (fd == 3)
                return -1;
            frac = frac * 10 + (uint64_t)(s[i] - '0');
        }
        for (; fd < 3; fd++)
            frac *= 10;
    }
    if (i != n || digits == 0 || whole * 1000 + frac > 100000)
        return -1;
    *milli = (uint32_t)(whole * 1000 + frac);
    return 0;
}

const char *rn_cov_counter_name(rn_cov_counter c) {
    return (unsigned)c < RN_COV_NCOUNTERS ? counter_names[c] : "?";
}

const char *rn_cov_element_name(rn_cov_element e) {
    return (unsigned)e < 4 ? element_names[e] : "?";
}

int64_t rn_cov_tenths(rn_cov_count c) {
    u128 total = (u128)c.covered + c.missed;
    if (total == 0)
        return -1;
    return (int64_t)((u128)c.covered * 1000 / total);
}

static bool meets(rn_cov_count c, uint32_t milli) {
    u128 total = (u128)c.covered + c.missed;
    return (u128)c.covered * 100000 >= (u128)milli * total;
}

/* a is worse (lower ratio) than b; ties by name. */
static int cmp_worst(const void *x, const void *y, void *counter) {
    const rn_cov_node *a = *(rn_cov_node *const *)x, *b = *(rn_cov_node *const *)y;
    rn_cov_counter c = *(const rn_cov_counter *)counter;
    rn_cov_count ca = a->c[c], cb = b->c[c];
    u128 l = (u128)ca.covered * ((u128)cb.covered + cb.missed);
    u128 r = (u128)cb.covered * ((u128)ca.covered + ca.missed);
    if (l != r)
        return l < r ? -1 : 1;
    return strcmp(a->name, b->name);
}

static void fmt_ratio(char *buf, size_t n, rn_cov_count c) {
    int64_t t = rn_cov_tenths(c);
    if (t < 0)
        snprintf(buf, n, "n/a");
    else
        snprintf(buf, n, "%lld.%lld%%", (long long)(t / 10), (long long)(t % 10));
}

static void fmt_minimum(char *buf, size_t n, uint32_t milli) {
    if (milli % 1000 == 0) {
        snprintf(buf, n, "%u.0%%", milli / 1000);
        return;
    }
    int len = snprintf(buf, n, "%u.%03u", milli / 1000, milli % 1000);
    while (len > 0 && buf[len - 1] == '0')
        buf[--len] = '\0';
    snprintf(buf + len, n - (size_t)len, "%%");
}

/* The default package (JaCoCo "", an LCOV file without directory) needs a visible name. */
static const char *display_name(const char *name) {
    return *name ? name : "(default)";
}

int rn_cov_gate_eval(const rn_cov_data *d, const rn_cov_gate *g, rn_sb *out, rn_diags *diags) {
    const char *cname = rn_cov_counter_name(g->counter);
    if (!d->reports) {
        rn_diag_add(diags, NULL, 0, 0, "coverage: no reports given");
        return RN_COV_ERROR;
    }
    if (!(d->counters & 1u << g->counter)) {
        rn_diag_add(diags, NULL, 0, 0,
                    "coverage: counter %s is not in every report (LCOV and Cobertura have LINE "
                    "and BRANCH only)",
                    cname);
        return RN_COV_ERROR;
    }
    bool any = false;
    for (int c = 0; c < RN_COV_NCOUNTERS; c++) {
        rn_cov_count t = rn_cov_total(d, (rn_cov_counter)c);
        any |= t.covered + t.missed > 0;
    }
    if (!any) {
        rn_diag_add(diags, NULL, 0, 0,
                    "coverage: the reports contain no coverage data (were the tests run?)");
        return RN_COV_ERROR;
    }

    /* Rows: the bundle, then the five worst elements of the gate's kind (packages for BUNDLE). */
    rn_cov_element kind = g->element == RN_COV_BUNDLE ? RN_COV_PACKAGE : g->element;
    const node_table *t = &d->t[kind];
    const rn_cov_node **ranked = rn_xcalloc(t->n + 1, sizeof *ranked);
    size_t nr = 0, violations = 0;
    for (size_t i = 0; i < t->n; i++) {
        rn_cov_count c = t->items[i].c[g->counter];
        if (c.covered + c.missed == 0)
            continue; /* no data for this counter: JaCoCo skips such elements */
        ranked[nr++] = &t->items[i];
        violations += !meets(c, g->minimum_milli);
    }
    rn_cov_counter counter = g->counter;
    qsort_r(ranked, nr, sizeof *ranked, cmp_worst, &counter);
    size_t shown = nr < 5 ? nr : 5;

    static const char *labels[] = {"bundle", "package", "class", "source"};
    static const char *plural[] = {"bundles", "packages", "classes", "source files"};
    rn_cov_count total = rn_cov_total(d, g->counter);
    char ratio[32], minimum[32];
    fmt_minimum(minimum, sizeof minimum, g->minimum_milli);
    /* Column widths: elements never exceed the total, so its numbers are the widest. */
    int wname = 5; /* "total" */
    for (size_t i = 0; i < shown; i++) {
        int l = (int)strlen(display_name(ranked[i]->name));
        wname = l > wname ? l : wname;
    }
    char num[32];
    int wcov = snprintf(num, sizeof num, "%llu", (unsigned long long)total.covered);
    int wmis = snprintf(num, sizeof num, "%llu", (unsigned long long)total.missed);
    wcov = wcov > 7 ? wcov : 7; /* "COVERED" */
    wmis = wmis > 6 ? wmis : 6; /* "MISSED" */

    rn_sb_printf(out, "coverage gate: %s >= %s per %s\n", cname, minimum,
                 rn_cov_element_name(g->element));
    rn_sb_printf(out, "%-7s  %-*s  %6s  %*s  %*s\n", "ELEMENT", wname, "NAME", "RATIO", wcov,
                 "COVERED", wmis, "MISSED");
    fmt_ratio(ratio, sizeof ratio, total);
    rn_sb_printf(out, "%-7s  %-*s  %6s  %*llu  %*llu\n", labels[0], wname, "total", ratio, wcov,
                 (unsigned long long)total.covered, wmis, (unsigned long long)total.missed);
    for (size_t i = 0; i < shown; i++) {
        rn_cov_count c = ranked[i]->c[g->counter];
        fmt_ratio(ratio, sizeof ratio, c);
        rn_sb_printf(out, "%-7s  %-*s  %6s  %*llu  %*llu\n", labels[kind], wname,
                     display_name(ranked[i]->name), ratio, wcov, (unsigned long long)c.covered,
                     wmis, (unsigned long long)c.missed);
    }

    int rc;
    if (g->element == RN_COV_BUNDLE) {
        fmt_ratio(ratio, sizeof ratio, total);
        if (total.covered + total.missed == 0) {
            rn_sb_printf(out, "PASS: no %s data to check\n", cname);
            rc = RN_COV_PASS;
        } else if (meets(total, g->minimum_milli)) {
            rn_sb_printf(out, "PASS: %s %s >= %s\n", cname, ratio, minimum);
            rc = RN_COV_PASS;
        } else {
            rn_sb_printf(out, "FAIL: %s %s < %s\n", cname, ratio, minimum);
            rc = RN_COV_FAIL;
        }
    } else if (violations) {
        rn_sb_printf(out, "FAIL: %zu of %zu %s have %s < %s\n", violations, nr, plural[kind], cname,
                     minimum);
        rc = RN_COV_FAIL;
    } else if (nr == 0) {
        rn_sb_printf(out, "PASS: no %s has %s data to check\n", labels[kind], cname);
        rc = RN_COV_PASS;
    } else {
        rn_sb_printf(out, "PASS: all %zu %s have %s >= %s\n", nr, plural[kind], cname, minimum);
        rc = RN_COV_PASS;
    }
    free(ranked);
    return rc;
}
