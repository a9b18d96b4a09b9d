#include "common/output.h"

#include "common/arena.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Matching: at each position of the text, candidate secrets come from a hash of the next 4 bytes
 * (secrets of 4..7 bytes) or the next 8 bytes (8 and more), after a 64 Kbit filter on the next
 * two bytes rejects most positions outright. Secrets of 1..3 bytes hang off their first byte.
 * Cost per byte is a couple of table probes whatever the number of secrets; a candidate is
 * confirmed with memcmp. */

#define NONE UINT32_MAX

typedef struct pattern {
    uint64_t key; /* first min(len, 8) bytes, zero-padded: rejects most candidates in place */
    char *s;
    size_t len;
    uint32_t next; /* next pattern in the same chain */
} pattern;

typedef struct table {
    uint32_t *head; /* 1 << bits chains */
    unsigned bits;
    size_t count;
} table;

struct rn_mask {
    pthread_rwlock_t lock;
    pattern *pat;
    size_t npat, cap;
    uint32_t short_head[256];  /* 1..3 byte patterns by first byte */
    unsigned char first[256];  /* some pattern starts with this byte */
    uint64_t pair[65536 / 64]; /* first two bytes of every pattern of length >= 2 */
    table t4, t8;
};

static uint32_t load4(const char *p) {
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}

static uint64_t load8(const char *p) {
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
}

static uint32_t hash4(const char *p, unsigned bits) {
    return (uint32_t)((load4(p) * 2654435761u) >> (32 - bits));
}

static uint32_t hash8(const char *p, unsigned bits) {
    return (uint32_t)((load8(p) * 0x9E3779B97F4A7C15ull) >> (64 - bits));
}

static unsigned pair_of(const char *p) {
    return (unsigned)(unsigned char)p[0] << 8 | (unsigned char)p[1];
}

static void table_init(table *t) {
    t->bits = 6;
    t->count = 0;
    t->head = rn_xmalloc(sizeof(uint32_t) << t->bits);
    memset(t->head, 0xff, sizeof(uint32_t) << t->bits);
}

static uint32_t *chain_of(rn_mask *m, const char *s, size_t len) {
    if (len < 4)
        return &m->short_head[(unsigned char)s[0]];
    if (len < 8)
        return &m->t4.head[hash4(s, m->t4.bits)];
    return &m->t8.head[hash8(s, m->t8.bits)];
}

static void table_grow(rn_mask *m, table *t, bool is8) {
    t->bits++;
    free(t->head);
    t->head = rn_xmalloc(sizeof(uint32_t) << t->bits);
    memset(t->head, 0xff, sizeof(uint32_t) << t->bits);
    for (uint32_t i = 0; i < m->npat; i++) {
        pattern *p = &m->pat[i];
        if (p->len < 4 || (p->len >= 8) != is8)
            continue;
        uint32_t *h = chain_of(m, p->s, p->len);
        p->next = *h;
        *h = i;
    }
}

rn_mask *rn_mask_new(void) {
    rn_mask *m = rn_xcalloc(1, sizeof *m);
    /* Writers first: output is masked continuously by many threads, and an ::add-mask:: must
     * not wait behind them (glibc's default prefers readers). */
    pthread_rwlockattr_t ra;
    pthread_rwlockattr_init(&ra);
    pthread_rwlockattr_setkind_np(&ra, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
    pthread_rwlock_init(&m->lock, &ra);
    pthread_rwlockattr_destroy(&ra);
    memset(m->short_head, 0xff, sizeof m->short_head);
    table_init(&m->t4);
    table_init(&m->t8);
    return m;
}

void rn_mask_free(rn_mask *m) {
    if (!m)
        return;
    for (size_t i = 0; i < m->npat; i++)
        free(m->pat[i].s);
    free(m->pat);
    free(m->t4.head);
    free(m->t8.head);
    pthread_rwlock_destroy(&m->lock);
    free(m);
}

/* Caller holds the write lock. */
static void add_locked(rn_mask *m, const char *s, size_t len) {
    if (len == 0)
        return;
    uint32_t *h = chain_of(m, s, len);
    for (uint32_t i = *h; i != NONE; i = m->pat[i].next)
        if (m->pat[i].len == len && memcmp(m->pat[i].s, s, len) == 0)
            return;
    if (m->npat == m->cap) {
        m->cap = m->cap ? m->cap * 2 : 16;
        m->pat = rn_xrealloc(m->pat, m->cap * sizeof *m->pat);
    }
    uint32_t idx = (uint32_t)m->npat++;
    uint64_t key = 0;
    memcpy(&key, s, len < 8 ? len : 8);
    m->pat[idx] = (pattern){key, rn_xstrndup(s, len), len, *h};
    *h = idx;
    m->first[(unsigned char)s[0]] = 1;
    if (len >= 2) {
        unsigned pr = pair_of(s);
        m->pair[pr >> 6] |= 1ull << (pr & 63);
    }
    if (len >= 4) {
        bool is8 = len >= 8;
        table *t = is8 ? &m->t8 : &m->t4;
        if (++t->count > ((size_t)1 << t->bits) / 2 && t->bits < 24) /* mostly-empty chains */
            table_grow(m, t, is8);
    }
}

void rn_mask_add_literal(rn_mask *m, const char *s, size_t n) {
    if (n == 0)
        return;
    pthread_rwlock_wrlock(&m->lock);
    add_locked(m, s, n);
    pthread_rwlock_unlock(&m->lock);
}

size_t rn_mask_count(rn_mask *m) {
    pthread_rwlock_rdlock(&m->lock);
    size_t n = m->npat;
    pthread_rwlock_unlock(&m->lock);
    return n;
}

/* ---- encodings a secret commonly appears in ---------------------------------------------- */

static void enc_json(rn_sb *o, const char *s, size_t n) {
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        switch (c) {
        case '"':
            rn_sb_puts(o, "\\\"");
            break;
        case '\\':
            rn_sb_puts(o, "\\\\");
            break;
        case '\n':
            rn_sb_puts(o, "\\n");
            break;
        case '\r':
            rn_sb_puts(o, "\\r");
            break;
        case '\t':
            rn_sb_puts(o, "\\t");
            break;
        case '\b':
            rn_sb_puts(o, "\\b");
            break;
        case '\f':
            rn_sb_puts(o, "\\f");
            break;
        default:
            if (c < 0x20)
                rn_sb_printf(o, "\\u%04X", c); /* as jansson writes it */
            else
                rn_sb_putc(o, (char)c);
        }
    }
}

static void enc_uri(rn_sb *o, const char *s, size_t n) {
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
            c == '-' || c == '.' || c == '_' || c == '~')
            rn_sb_putc(o, (char)c);
        else
            rn_sb_printf(o, "%%%02X", c);
    }
}

static void enc_xml(rn_sb *o, const char *s, size_t n) {
    for (size_t i = 0; i < n; i++) {
        switch (s[i]) {
        case '&':
            rn_sb_puts(o, "&amp;");
            break;
        case '<':
            rn_sb_puts(o, "&lt;");
            break;
        case '>':
            rn_sb_puts(o, "&gt;");
            break;
        case '"':
            rn_sb_puts(o, "&quot;");
            break;
        case '\'':
            rn_sb_puts(o, "&apos;");
            break;
        default:
            rn_sb_putc(o, s[i]);
        }
    }
}

static void enc_expr(rn_sb *o, const char *s, size_t n) { /* '...' literal in ${{ }} */
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '\'')
            rn_sb_putc(o, '\'');
        rn_sb_putc(o, s[i]);
    }
}

/* Base64 digits fully determined by s: a secret inside a longer base64 text starts at one of
 * three byte alignments, and its last digit usually mixes in the next byte, so only the
 * complete digits are a stable signature (the boundary digits stay visible). */
static void enc_base64_full_digits(rn_sb *o, const unsigned char *s, size_t n, bool url) {
    const char *a = url ? "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
                        : "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t digits = n * 8 / 6;
    for (size_t d = 0; d < digits; d++) {
        size_t bit = d * 6, byte = bit / 8, shift = bit % 8;
        unsigned v = (unsigned)s[byte] << 8 | (byte + 1 < n ? s[byte + 1] : 0);
        rn_sb_putc(o, a[(v >> (10 - shift)) & 63]);
    }
}

static void add_derived(rn_mask *m, const char *base, size_t n, rn_sb *tmp) {
    if (tmp->len >= RN_MASK_MIN_DERIVED && !(tmp->len == n && memcmp(tmp->data, base, n) == 0))
        add_locked(m, tmp->data, tmp->len);
    rn_sb_clear(tmp);
}

static void add_with_encodings(rn_mask *m, const char *s, size_t n) {
    if (n == 0)
        return;
    add_locked(m, s, n);
    rn_sb tmp = RN_SB_INIT;
    enc_json(&tmp, s, n);
    add_derived(m, s, n, &tmp);
    enc_uri(&tmp, s, n);
    add_derived(m, s, n, &tmp);
    enc_xml(&tmp, s, n);
    add_derived(m, s, n, &tmp);
    enc_expr(&tmp, s, n);
    add_derived(m, s, n, &tmp);
    for (size_t off = 0; off < 3 && off < n; off++) {
        for (int url = 0; url < 2; url++) {
            enc_base64_full_digits(&tmp, (const unsigned char *)s + off, n - off, url);
            add_derived(m, s, n, &tmp);
        }
    }
    rn_sb_free(&tmp);
}

static bool is_space(char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

static void trim(const char **s, size_t *n) {
    while (*n && is_space(**s))
        (*s)++, (*n)--;
    while (*n && is_space((*s)[*n - 1]))
        (*n)--;
}

bool rn_mask_add(rn_mask *m, const char *value) {
    size_t n = strlen(value);
    const char *t = value;
    size_t tn = n;
    trim(&t, &tn);
    if (tn == 0)
        return false;
    pthread_rwlock_wrlock(&m->lock);
    add_with_encodings(m, value, n);
    add_with_encodings(m, t, tn);
    if (memchr(t, '\n', tn) || memchr(t, '\r', tn)) {
        /* Output is masked line by line, where a multi-line value never matches whole. */
        const char *p = t, *end = t + tn;
        while (p < end) {
            const char *e = p;
            while (e < end && *e != '\n' && *e != '\r')
                e++;
            const char *l = p;
            size_t ln = (size_t)(e - p);
            trim(&l, &ln);
            add_with_encodings(m, l, ln);
            p = e + 1;
        }
    }
    pthread_rwlock_unlock(&m->lock);
    return true;
}

/* ---- masking ---------------------------------------------------------------------------- */

/* End of the longest pattern starting at s[i], or 0. Caller holds the read lock. */
static size_t longest_at(const rn_mask *m, const char *s, size_t i, size_t n) {
    size_t best = 0, left = n - i;
    for (uint32_t k = m->short_head[(unsigned char)s[i]]; k != NONE; k = m->pat[k].next) {
        const pattern *p = &m->pat[k];
        if (p->len <= left && p->len > best && memcmp(p->s, s + i, p->len) == 0)
            best = p->len;
    }
    if (left < 2)
        return best ? i + best : 0;
    unsigned pr = pair_of(s + i);
    if (!(m->pair[pr >> 6] >> (pr & 63) & 1))
        return best ? i + best : 0;
    if (left >= 4) {
        uint64_t k4 = load4(s + i);
        for (uint32_t k = m->t4.head[hash4(s + i, m->t4.bits)]; k != NONE; k = m->pat[k].next) {
            const pattern *p = &m->pat[k];
            if (p->len <= left && p->len > best && (p->key & 0xffffffffu) == k4 &&
                memcmp(p->s, s + i, p->len) == 0)
                best = p->len;
        }
    }
    if (left >= 8) {
        uint64_t k8 = load8(s + i);
        for (uint32_t k = m->t8.head[hash8(s + i, m->t8.bits)]; k != NONE; k = m->pat[k].next) {
            const pattern *p = &m->pat[k];
            if (p->len <= left && p->len > best && p->key == k8 &&
                memcmp(p->s + 8, s + i + 8, p->len - 8) == 0)
                best = p->len;
        }
    }
    return best ? i + best : 0;
}

void rn_mask_apply(rn_mask *m, const char *s, size_t n, rn_sb *out) {
    if (!m || n == 0) {
        rn_sb_append(out, s, n);
        return;
    }
    pthread_rwlock_rdlock(&m->lock);
    if (m->npat == 0) {
        pthread_rwlock_unlock(&m->lock);
        rn_sb_append(out, s, n);
        return;
    }
    size_t copied = 0;                 /* s[0..copied) is in out */
    size_t cur_start = 0, cur_end = 0; /* pending masked range, empty when cur_end == 0 */
    for (size_t i = 0; i < n; i++) {
        if (!m->first[(unsigned char)s[i]])
            continue;
        size_t end = longest_at(m, s, i, n);
        if (!end)
            continue;
        if (cur_end && i <= cur_end) { /* overlapping or touching: one "***" */
            if (end > cur_end)
                cur_end = end;
            continue;
        }
        if (cur_end) {
            rn_sb_append(out, s + copied, cur_start - copied);
            rn_sb_puts(out, RN_MASK);
            copied = cur_end;
        }
        cur_start = i;
        cur_end = end;
    }
    pthread_rwlock_unlock(&m->lock);
    if (cur_end) {
        rn_sb_append(out, s + copied, cur_start - copied);
        rn_sb_puts(out, RN_MASK);
        copied = cur_end;
    }
    rn_sb_append(out, s + copied, n - copied);
}

char *rn_mask_str(rn_mask *m, const char *s) {
    rn_sb sb = RN_SB_INIT;
    rn_mask_apply(m, s, strlen(s), &sb);
    rn_sb_append(&sb, "", 0);
    return rn_sb_take(&sb);
}

/* ---- shared destinations ---------------------------------------------------------------- */

struct rn_out {
    pthread_mutex_t lock;
    FILE *f; /* or */
    int fd;
    rn_mask *mask;
};

static rn_out *out_new(FILE *f, int fd, rn_mask *mask) {
    rn_out *o = rn_xcalloc(1, sizeof *o);
    pthread_mutex_init(&o->lock, NULL);
    o->f = f;
    o->fd = fd;
    o->mask = mask;
    return o;
}

rn_out *rn_out_new_file(FILE *f, rn_mask *mask) {
    return out_new(f, -1, mask);
}

rn_out *rn_out_new_fd(int fd, rn_mask *mask) {
    return out_new(NULL, fd, mask);
}

void rn_out_free(rn_out *o) {
    if (!o)
        return;
    pthread_mutex_destroy(&o->lock);
    free(o);
}

/* Writes already-masked whole lines in one go, so no other writer's bytes land inside them. */
static void out_write(rn_out *o, const char *data, size_t n) {
    pthread_mutex_lock(&o->lock);
    if (o->f) {
        fwrite(data, 1, n, o->f);
        fflush(o->f);
    } else {
        while (n > 0) {
            ssize_t w = write(o->fd, data, n);
            if (w < 0 && errno == EINTR)
                continue;
            if (w <= 0)
                break; /* nowhere to report a failing log; drop rather than spin */
            data += w;
            n -= (size_t)w;
        }
    }
    pthread_mutex_unlock(&o->lock);
}

/* Appends prefix+line masked, plus '\n', to buf. */
static void mask_line(rn_out *o, rn_sb *buf, rn_sb *tmp, const char *prefix, const char *line,
                      size_t len) {
    rn_sb_clear(tmp);
    if (prefix)
        rn_sb_puts(tmp, prefix);
    rn_sb_append(tmp, line, len);
    rn_mask_apply(o->mask, tmp->data, tmp->len, buf);
    rn_sb_putc(buf, '\n');
}

void rn_out_line(rn_out *o, const char *prefix, const char *line, size_t len) {
    rn_sb buf = RN_SB_INIT, tmp = RN_SB_INIT;
    mask_line(o, &buf, &tmp, prefix, line, len);
    out_write(o, buf.data, buf.len);
    rn_sb_free(&buf);
    rn_sb_free(&tmp);
}

void rn_out_text(rn_out *o, const char *prefix, const char *text, size_t len) {
    rn_sb buf = RN_SB_INIT, tmp = RN_SB_INIT;
    size_t start = 0;
    while (start < len) {
        const char *nl = memchr(text + start, '\n', len - start);
        size_t end = nl ? (size_t)(nl - text) : len;
        mask_line(o, &buf, &tmp, prefix, text + start, end - start);
        start = end + 1;
    }
    if (buf.len)
        out_write(o, buf.data, buf.len);
    rn_sb_free(&buf);
    rn_sb_free(&tmp);
}

void rn_out_printf(rn_out *o, const char *prefix, const char *fmt, ...) {
    rn_sb sb = RN_SB_INIT;
    va_list ap;
    va_start(ap, fmt);
    rn_sb_vprintf(&sb, fmt, ap);
    va_end(ap);
    rn_out_text(o, prefix, rn_sb_str(&sb), sb.len);
    rn_sb_free(&sb);
}

struct rn_line_writer {
    rn_out *out;
    char *prefix;
    rn_sb pending; /* the current partial line */
    rn_sb buf, tmp;
};

rn_line_writer *rn_line_writer_new(rn_out *o, const char *prefix) {
    rn_line_writer *w = rn_xcalloc(1, sizeof *w);
    w->out = o;
    w->prefix = prefix ? rn_xstrdup(prefix) : NULL;
    return w;
}

void rn_line_writer_write(rn_line_writer *w, const char *data, size_t n) {
    size_t start = 0;
    rn_sb_clear(&w->buf);
    const char *nl;
    while ((nl = memchr(data + start, '\n', n - start))) {
        size_t end = (size_t)(nl - data);
        if (w->pending.len) {
            rn_sb_append(&w->pending, data + start, end - start);
            mask_line(w->out, &w->buf, &w->tmp, w->prefix, w->pending.data, w->pending.len);
            rn_sb_clear(&w->pending);
        } else {
            mask_line(w->out, &w->buf, &w->tmp, w->prefix, data + start, end - start);
        }
        start = end + 1;
    }
    rn_sb_append(&w->pending, data + start, n - start);
    while (w->pending.len >= RN_OUT_MAX_LINE) {
        mask_line(w->out, &w->buf, &w->tmp, w->prefix, w->pending.data, RN_OUT_MAX_LINE);
        memmove(w->pending.data, w->pending.data + RN_OUT_MAX_LINE,
                w->pending.len - RN_OUT_MAX_LINE);
        w->pending.len -= RN_OUT_MAX_LINE;
        w->pending.data[w->pending.len] = 0;
    }
    if (w->buf.len)
        out_write(w->out, w->buf.data, w->buf.len);
    if (w->buf.cap > 4 * RN_OUT_MAX_LINE) /* don't keep a huge buffer after a burst */
        rn_sb_free(&w->buf);
}

void rn_line_writer_flush(rn_line_writer *w) {
    if (!w->pending.len)
        return;
    rn_sb_clear(&w->buf);
    mask_line(w->out, &w->buf, &w->tmp, w->prefix, w->pending.data, w->pending.len);
    rn_sb_clear(&w->pending);
    out_write(w->out, w->buf.data, w->buf.len);
}

void rn_line_writer_free(rn_line_writer *w) {
    if (!w)
        return;
    rn_line_writer_flush(w);
    free(w->prefix);
    rn_sb_free(&w->pending);
    rn_sb_free(&w->buf);
    rn_sb_free(&w->tmp);
    free(w);
}
