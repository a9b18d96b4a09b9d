/* Value helpers with GitHub's coercions: G15 numbers, .NET number parsing, OrdinalIgnoreCase,
 * Newtonsoft-style toJSON. */
#include "workflow/expr_internal.h"

#include <locale.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wctype.h>

/* ---- UTF-8 ---- */

/* Decodes one code point; invalid bytes decode as themselves (one byte each) so that nothing is
 * ever skipped or merged. */
static uint32_t utf8_next(const unsigned char *s, size_t len, size_t *i) {
    unsigned char c = s[*i];
    if (c < 0x80) {
        (*i)++;
        return c;
    }
    int n = c >= 0xF0 && c < 0xF5 ? 3 : c >= 0xE0 && c < 0xF0 ? 2 : c >= 0xC2 && c < 0xE0 ? 1 : -1;
    if (n < 0 || len - *i <= (size_t)n) {
        (*i)++;
        return 0xDC00 | c; /* lone byte: an unpaired low surrogate, which never folds */
    }
    uint32_t cp = c & (0x3F >> n);
    for (int k = 1; k <= n; k++) {
        unsigned char d = s[*i + (size_t)k];
        if ((d & 0xC0) != 0x80) {
            (*i)++;
            return 0xDC00 | c;
        }
        cp = (cp << 6) | (d & 0x3F);
    }
    *i += (size_t)n + 1;
    return cp;
}

size_t rn_expr_utf16_len(const char *s, size_t len) {
    size_t n = 0, i = 0;
    /* ASCII runs a word at a time: this runs for every string result (memory accounting). */
    for (; i + 8 <= len; i += 8) {
        uint64_t w;
        memcpy(&w, s + i, 8);
        if (w & 0x8080808080808080ull)
            break;
        n += 8;
    }
    for (; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if ((c & 0xC0) != 0x80)
            n++;
        if (c >= 0xF0)
            n++;
    }
    return n;
}

/* ---- case folding: per-UTF-16-unit simple uppercase, without the Turkish i / long s folds ----
 */

static locale_t g_utf8;
static pthread_once_t g_once = PTHREAD_ONCE_INIT;
static uint16_t g_upper_latin[0x250]; /* fast table for the most common range */

static void init_locale(void) {
    g_utf8 = newlocale(LC_CTYPE_MASK, "C.UTF-8", (locale_t)0);
    for (uint32_t c = 0; c < 0x250; c++) {
        uint32_t u = c;
        if (c < 0x80)
            u = (c >= 'a' && c <= 'z') ? c - 32 : c;
        else if (g_utf8 && c != 0x131 && c != 0x17F) {
            u = (uint32_t)towupper_l((wint_t)c, g_utf8);
            if (u > 0xFFFF)
                u = c;
        }
        g_upper_latin[c] = (uint16_t)u;
    }
}

static inline uint32_t fold_cp(uint32_t c) {
    if (c < 0x80)
        return (c >= 'a' && c <= 'z') ? c - 32 : c;
    pthread_once(&g_once, init_locale);
    if (c < 0x250)
        return g_upper_latin[c];
    if (c >= 0x10000 || (c >= 0xD800 && c < 0xE000) || !g_utf8)
        return c; /* surrogate halves never change case */
    uint32_t u = (uint32_t)towupper_l((wint_t)c, g_utf8);
    return u > 0xFFFF || (u >= 0xD800 && u < 0xE000) ? c : u;
}

size_t rn_expr_fold16(rn_arena *a, const char *s, size_t len, uint16_t **out) {
    uint16_t *u = rn_arena_alloc(a, (len + 1) * sizeof *u);
    size_t n = 0, i = 0;
    const unsigned char *p = (const unsigned char *)s;
    while (i < len) {
        if (p[i] < 0x80) {
            unsigned char c = p[i++];
            u[n++] = (uint16_t)((c >= 'a' && c <= 'z') ? c - 32 : c);
            continue;
        }
        uint32_t cp = fold_cp(utf8_next(p, len, &i));
        if (cp >= 0x10000) {
            cp -= 0x10000;
            u[n++] = (uint16_t)(0xD800 + (cp >> 10));
            u[n++] = (uint16_t)(0xDC00 + (cp & 0x3FF));
        } else {
            u[n++] = (uint16_t)cp;
        }
    }
    *out = u;
    return n;
}

/* Streams a string as folded UTF-16 units. */
typedef struct unit_iter {
    const unsigned char *p;
    size_t len, i;
    int pending; /* low surrogate waiting, or -1 */
} unit_iter;

static inline int unit_next(unit_iter *it) {
    if (it->pending >= 0) {
        int u = it->pending;
        it->pending = -1;
        return u;
    }
    if (it->i >= it->len)
        return -1;
    unsigned char c = it->p[it->i];
    if (c < 0x80) {
        it->i++;
        return (c >= 'a' && c <= 'z') ? c - 32 : c;
    }
    uint32_t cp = fold_cp(utf8_next(it->p, it->len, &it->i));
    if (cp >= 0x10000) {
        cp -= 0x10000;
        it->pending = (int)(0xDC00 + (cp & 0x3FF));
        return (int)(0xD800 + (cp >> 10));
    }
    return (int)cp;
}

int rn_expr_icmp_n(const char *a, size_t alen, const char *b, size_t blen) {
    unit_iter x = {(const unsigned char *)a, alen, 0, -1};
    unit_iter y = {(const unsigned char *)b, blen, 0, -1};
    for (;;) {
        int ua = unit_next(&x), ub = unit_next(&y);
        if (ua != ub)
            return ua < ub ? -1 : 1; /* -1 (end) sorts first */
        if (ua < 0)
            return 0;
    }
}

bool rn_expr_ieq_n(const char *a, size_t alen, const char *b, size_t blen) {
    if (alen == blen && memcmp(a, b, alen) == 0)
        return true;
    /* ASCII fast path: both pure ASCII means byte-wise folding decides. */
    size_t i = 0;
    if (alen == blen) {
        for (; i < alen; i++) {
            unsigned char ca = (unsigned char)a[i], cb = (unsigned char)b[i];
            if ((ca | cb) >= 0x80)
                break;
            if (ca != cb) {
                if ((ca | 0x20) != (cb | 0x20) || (ca | 0x20) < 'a' || (ca | 0x20) > 'z')
                    return false;
            }
        }
        if (i == alen)
            return true;
    }
    return rn_expr_icmp_n(a + i, alen - i, b + i, blen - i) == 0;
}

int rn_str_icmp(const char *a, const char *b) {
    return rn_expr_icmp_n(a, strlen(a), b, strlen(b));
}

/* ---- whitespace (.NET Char.IsWhiteSpace) ---- */

bool rn_expr_is_space(const char *s, size_t len, size_t *n) {
    unsigned char c = (unsigned char)s[0];
    if (c < 0x80) {
        *n = 1;
        return c == ' ' || (c >= 0x09 && c <= 0x0D);
    }
    size_t i = 0;
    uint32_t cp = utf8_next((const unsigned char *)s, len, &i);
    *n = i;
    return cp == 0x85 || cp == 0xA0 || cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200A) ||
           cp == 0x2028 || cp == 0x2029 || cp == 0x202F || cp == 0x205F || cp == 0x3000;
}

/* ---- numbers ---- */

void rn_number_format(double d, char *buf, size_t size) {
    if (isnan(d)) {
        snprintf(buf, size, "NaN");
        return;
    }
    if (isinf(d)) {
        snprintf(buf, size, d > 0 ? "Infinity" : "-Infinity");
        return;
    }
    if (d == 0) {
        snprintf(buf, size, "0");
        return;
    }
    if (d > -1e15 && d < 1e15 && d == (double)(int64_t)d) {
        /* Integers below 15 digits print exactly; skip the general path. */
        snprintf(buf, size, "%lld", (long long)d);
        return;
    }
    char tmp[40];
    snprintf(tmp, sizeof tmp, "%.14e", d); /* 15 significant digits, correctly rounded */
    const char *p = tmp;
    bool neg = *p == '-';
    if (neg)
        p++;
    char digits[16];
    int nd = 0;
    for (; *p && *p != 'e'; p++)
        if (*p >= '0' && *p <= '9')
            digits[nd++] = *p;
    int exp = atoi(p + 1);
    while (nd > 1 && digits[nd - 1] == '0')
        nd--;
    char out[48];
    int o = 0;
    if (neg)
        out[o++] = '-';
    if (exp >= 15 || exp < -4) { /* .NET: scientific below 1E-04 */
        out[o++] = digits[0];
        if (nd > 1) {
            out[o++] = '.';
            for (int i = 1; i < nd; i++)
                out[o++] = digits[i];
        }
        o += snprintf(out + o, sizeof out - (size_t)o, "E%c%02d", exp < 0 ? '-' : '+', abs(exp));
    } else if (exp >= 0) {
        for (int i = 0; i <= exp; i++)
            out[o++] = i < nd ? digits[i] : '0';
        if (nd > exp + 1) {
            out[o++] = '.';
            for (int i = exp + 1; i < nd; i++)
                out[o++] = digits[i];
        }
    } else {
        out[o++] = '0';
        out[o++] = '.';
        for (int i = 0; i < -exp - 1; i++)
            out[o++] = '0';
        for (int i = 0; i < nd; i++)
            out[o++] = digits[i];
    }
    out[o] = 0;
    snprintf(buf, size, "%s", out);
}

static bool ieq_ascii(const char *a, size_t n, const char *lit) {
    if (strlen(lit) != n)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = a[i];
        if (c >= 'A' && c <= 'Z')
            c = (char)(c + 32);
        if (c != lit[i])
            return false;
    }
    return true;
}

static int hexval(char c) {
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

double rn_expr_parse_number(const char *s, size_t len) {
    size_t n;
    while (len > 0 && rn_expr_is_space(s, len, &n)) {
        s += n;
        len -= n;
    }
    /* Trailing whitespace: back up over ASCII and the multi-byte forms. */
    for (;;) {
        if (len == 0)
            break;
        unsigned char c = (unsigned char)s[len - 1];
        if (c < 0x80) {
            if (c == ' ' || (c >= 0x09 && c <= 0x0D)) {
                len--;
                continue;
            }
            break;
        }
        size_t start = len - 1;
        while (start > 0 && ((unsigned char)s[start] & 0xC0) == 0x80 && len - start < 4)
            start--;
        if (rn_expr_is_space(s + start, len - start, &n) && start + n == len) {
            len = start;
            continue;
        }
        break;
    }
    if (len == 0)
        return 0;
    /* Decimal: [+-]? (digits [. digits?] | . digits) ([eE] [+-]? digits)? */
    size_t i = 0;
    if (s[i] == '+' || s[i] == '-')
        i++;
    size_t mant = 0;
    while (i < len && s[i] >= '0' && s[i] <= '9')
        i++, mant++;
    if (i < len && s[i] == '.') {
        i++;
        while (i < len && s[i] >= '0' && s[i] <= '9')
            i++, mant++;
    }
    bool ok = mant > 0;
    if (ok && i < len && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        if (i < len && (s[i] == '+' || s[i] == '-'))
            i++;
        size_t ed = 0;
        while (i < len && s[i] >= '0' && s[i] <= '9')
            i++, ed++;
        ok = ed > 0;
    }
    if (ok && i == len) {
        char stack[64];
        char *buf = len < sizeof stack ? stack : rn_xmalloc(len + 1);
        memcpy(buf, s, len);
        buf[len] = 0;
        double d = strtod(buf, NULL);
        if (buf != stack)
            free(buf);
        return d;
    }
    /* .NET Core accepts the invariant symbols case-insensitively, with an optional sign. */
    {
        const char *t = s;
        size_t tl = len;
        bool neg = false;
        if (tl > 0 && (t[0] == '+' || t[0] == '-')) {
            neg = t[0] == '-';
            t++;
            tl--;
        }
        if (ieq_ascii(t, tl, "infinity"))
            return neg ? -INFINITY : INFINITY;
        if (ieq_ascii(t, tl, "nan"))
            return NAN;
    }
    if (len > 2 && s[0] == '0' && s[1] == 'x') {
        uint64_t v = 0;
        size_t sig = 0;
        for (size_t k = 2; k < len; k++) {
            int h = hexval(s[k]);
            if (h < 0)
                return NAN;
            if (sig > 0 || h != 0)
                sig++;
            if (sig > 8)
                return NAN; /* exceeds Int32 */
            v = v * 16 + (uint64_t)h;
        }
        return (double)(int32_t)(uint32_t)v; /* AllowHexSpecifier: two's complement */
    }
    if (len > 2 && s[0] == '0' && s[1] == 'o') {
        uint64_t v = 0;
        for (size_t k = 2; k < len; k++) {
            if (s[k] < '0' || s[k] > '7')
                return NAN;
            v = v * 8 + (uint64_t)(s[k] - '0');
            if (v > 0xFFFFFFFFull)
                return NAN;
        }
        return (double)(int32_t)(uint32_t)v;
    }
    return NAN;
}

json_t *rn_expr_json_number(double d) {
    if (isfinite(d))
        return json_real(d);
    /* jansson refuses NaN/Infinity; GitHub's values include them. Store the double directly
     * into the real (jansson's json_real_t is {json_t; double}) and verify it took. */
    json_t *j = json_real(0.0);
    struct real_layout {
        json_t json;
        double value;
    } *r = (struct real_layout *)j;
    r->value = d;
    if (isnan(d) ? !isnan(json_real_value(j)) : json_real_value(j) != d) {
        json_decref(j);
        return json_null(); /* unreachable with a layout-compatible jansson */
    }
    return j;
}

/* ---- json_t helpers ---- */

const char *rn_value_kind(const json_t *v) {
    switch (v ? json_typeof(v) : JSON_NULL) {
    case JSON_TRUE:
    case JSON_FALSE:
        return "Boolean";
    case JSON_INTEGER:
    case JSON_REAL:
        return "Number";
    case JSON_STRING:
        return "String";
    case JSON_ARRAY:
        return "Array";
    case JSON_OBJECT:
        return "Object";
    default:
        return "Null";
    }
}

bool rn_value_truthy(const json_t *v) {
    switch (v ? json_typeof(v) : JSON_NULL) {
    case JSON_NULL:
    case JSON_FALSE:
        return false;
    case JSON_TRUE:
        return true;
    case JSON_INTEGER:
    case JSON_REAL: {
        double d = json_number_value(v);
        return !(d == 0 || isnan(d));
    }
    case JSON_STRING:
        return json_string_length(v) > 0;
    default:
        return true;
    }
}

double rn_value_to_number(const json_t *v) {
    switch (v ? json_typeof(v) : JSON_NULL) {
    case JSON_NULL:
    case JSON_FALSE:
        return 0;
    case JSON_TRUE:
        return 1;
    case JSON_INTEGER:
    case JSON_REAL:
        return json_number_value(v);
    case JSON_STRING:
        return rn_expr_parse_number(json_string_value(v), json_string_length(v));
    default:
        return NAN;
    }
}

char *rn_value_to_string(const json_t *v) {
    switch (v ? json_typeof(v) : JSON_NULL) {
    case JSON_NULL:
        return rn_xstrdup("");
    case JSON_FALSE:
        return rn_xstrdup("false");
    case JSON_TRUE:
        return rn_xstrdup("true");
    case JSON_INTEGER:
    case JSON_REAL: {
        char buf[32];
        rn_number_format(json_number_value(v), buf, sizeof buf);
        return rn_xstrdup(buf);
    }
    case JSON_STRING:
        return rn_xstrndup(json_string_value(v), json_string_length(v));
    case JSON_ARRAY:
        return rn_xstrdup("Array");
    default:
        return rn_xstrdup("Object");
    }
}

json_t *rn_expr_iget_n(const json_t *obj, const char *key, size_t len) {
    if (!json_is_object(obj))
        return NULL;
    /* Exact hit first (hash); otherwise the first key that matches ignoring case. */
    json_t *v = json_object_getn(obj, key, len);
    if (v)
        return v;
    const char *k;
    size_t klen;
    json_t *val;
    json_object_keylen_foreach((json_t *)obj, k, klen, val) {
        if (rn_expr_ieq_n(k, klen, key, len))
            return val;
    }
    return NULL;
}

json_t *rn_object_iget(const json_t *obj, const char *key) {
    return rn_expr_iget_n(obj, key, strlen(key));
}

void rn_expr_json_quote(rn_sb *sb, const char *s, size_t len) {
    rn_sb_putc(sb, '"');
    size_t run = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        const char *esc = NULL;
        char ubuf[8];
        size_t skip = 1;
        if (c == '"')
            esc = "\\\"";
        else if (c == '\\')
            esc = "\\\\";
        else if (c < 0x20) {
            switch (c) {
            case '\b':
                esc = "\\b";
                break;
            case '\f':
                esc = "\\f";
                break;
            case '\n':
                esc = "\\n";
                break;
            case '\r':
                esc = "\\r";
                break;
            case '\t':
                esc = "\\t";
                break;
            default:
                snprintf(ubuf, sizeof ubuf, "\\u%04x", c);
                esc = ubuf;
            }
        } else if (c == 0xC2 && i + 1 < len && (unsigned char)s[i + 1] == 0x85) {
            esc = "\\u0085", skip = 2;
        } else if (c == 0xE2 && i + 2 < len && (unsigned char)s[i + 1] == 0x80 &&
                   ((unsigned char)s[i + 2] == 0xA8 || (unsigned char)s[i + 2] == 0xA9)) {
            esc = (unsigned char)s[i + 2] == 0xA8 ? "\\u2028" : "\\u2029", skip = 3;
        }
        if (esc) {
            rn_sb_append(sb, s + i - run, run);
            run = 0;
            rn_sb_puts(sb, esc);
            i += skip - 1;
        } else {
            run++;
        }
    }
    rn_sb_append(sb, s + len - run, run);
    rn_sb_putc(sb, '"');
}

static void indent(rn_sb *sb, int level) {
    rn_sb_putc(sb, '\n');
    for (int i = 0; i < level; i++)
        rn_sb_append(sb, "  ", 2);
}

static void write_json(rn_sb *sb, const json_t *v, int level) {
    switch (v ? json_typeof(v) : JSON_NULL) {
    case JSON_NULL:
        rn_sb_append(sb, "null", 4);
        break;
    case JSON_TRUE:
        rn_sb_append(sb, "true", 4);
        break;
    case JSON_FALSE:
        rn_sb_append(sb, "false", 5);
        break;
    case JSON_INTEGER:
    case JSON_REAL: {
        char buf[32];
        rn_number_format(json_number_value(v), buf, sizeof buf);
        rn_sb_puts(sb, buf);
        break;
    }
    case JSON_STRING:
        rn_expr_json_quote(sb, json_string_value(v), json_string_length(v));
        break;
    case JSON_ARRAY: {
        size_t n = json_array_size(v);
        if (!n) {
            rn_sb_append(sb, "[]", 2);
            break;
        }
        rn_sb_putc(sb, '[');
        for (size_t i = 0; i < n; i++) {
            if (i)
                rn_sb_putc(sb, ',');
            indent(sb, level + 1);
            write_json(sb, json_array_get(v, i), level + 1);
        }
        indent(sb, level);
        rn_sb_putc(sb, ']');
        break;
    }
    case JSON_OBJECT: {
        if (!json_object_size(v)) {
            rn_sb_append(sb, "{}", 2);
            break;
        }
        rn_sb_putc(sb, '{');
        const char *k;
        size_t klen;
        json_t *val;
        bool first = true;
        json_object_keylen_foreach((json_t *)v, k, klen, val) {
            if (!first)
                rn_sb_putc(sb, ',');
            first = false;
            indent(sb, level + 1);
            rn_expr_json_quote(sb, k, klen);
            rn_sb_append(sb, ": ", 2);
            write_json(sb, val, level + 1);
        }
        indent(sb, level);
        rn_sb_putc(sb, '}');
        break;
    }
    }
}

char *rn_value_to_json(const json_t *v) {
    rn_sb sb = RN_SB_INIT;
    write_json(&sb, v, 0);
    return rn_sb_take(&sb);
}
