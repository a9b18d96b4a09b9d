/* hashFiles() and the @actions/glob matcher (see hashfiles.h). */
#include "actions/hashfiles.h"

#include "common/arena.h"
#include "common/strbuf.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

typedef struct gpat {
    bool negate, trailing, implicit;
    char **segs; /* segments after the root "/" */
    size_t nsegs;
    char *search; /* the literal prefix, unescaped: where traversal starts */
} gpat;

static void strlist_push(rn_strlist *l, char *s) {
    if (l->count == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 8;
        l->items = rn_xrealloc(l->items, l->cap * sizeof *l->items);
    }
    l->items[l->count++] = s;
}

void rn_glob_split_lines(const char *text, rn_strlist *out) {
    const char *p = text ? text : "";
    while (*p) {
        const char *e = p;
        while (*e && *e != '\n')
            e++;
        const char *a = p, *b = e;
        while (a < b && (*a == ' ' || *a == '\t' || *a == '\r'))
            a++;
        while (b > a && (b[-1] == ' ' || b[-1] == '\t' || b[-1] == '\r'))
            b--;
        if (b > a && *a != '#')
            strlist_push(out, rn_xstrndup(a, (size_t)(b - a)));
        p = *e ? e + 1 : e;
    }
}

static bool has_magic(const char *s) {
    for (; *s; s++) {
        if (*s == '\\' && s[1]) {
            s++;
            continue;
        }
        if (*s == '*' || *s == '?' || *s == '[')
            return true;
    }
    return false;
}

static char *unescape(const char *s) {
    char *r = rn_xmalloc(strlen(s) + 1), *o = r;
    for (; *s; s++) {
        if (*s == '\\' && s[1])
            s++;
        *o++ = *s;
    }
    *o = 0;
    return r;
}

static void gpat_free(gpat *p) {
    for (size_t i = 0; i < p->nsegs; i++)
        free(p->segs[i]);
    free(p->segs);
    free(p->search);
}

/* Builds the absolute, normalized pattern: `~` and relative roots resolved, `.` segments
 * dropped, `..` applied, repeated slashes collapsed, a trailing slash remembered. */
static int gpat_parse(const char *cwd, const char *text, gpat *p, char **err) {
    memset(p, 0, sizeof *p);
    while (*text == '!') {
        p->negate = !p->negate;
        text++;
    }
    if (!*text) {
        *err = rn_xstrdup("Invalid pattern: empty after negation");
        return -1;
    }
    rn_sb full = RN_SB_INIT;
    if (text[0] == '~' && (text[1] == 0 || text[1] == '/')) {
        const char *home = getenv("HOME");
        rn_sb_puts(&full, home ? home : "/");
        rn_sb_putc(&full, '/');
        rn_sb_puts(&full, text + 1);
    } else if (text[0] != '/') {
        rn_sb_puts(&full, cwd);
        rn_sb_putc(&full, '/');
        rn_sb_puts(&full, text);
    } else {
        rn_sb_puts(&full, text);
    }
    size_t len = full.len;
    p->trailing = len > 1 && full.data[len - 1] == '/';
    char *s = full.data;
    size_t cap = 8;
    p->segs = rn_xmalloc(cap * sizeof *p->segs);
    for (char *tok = s; *tok;) {
        while (*tok == '/')
            tok++;
        if (!*tok)
            break;
        char *e = tok;
        while (*e && *e != '/')
            e++;
        size_t n = (size_t)(e - tok);
        if (n == 1 && tok[0] == '.') {
            /* dropped */
        } else if (n == 2 && tok[0] == '.' && tok[1] == '.') {
            if (p->nsegs)
                free(p->segs[--p->nsegs]);
        } else {
            if (p->nsegs == cap)
                p->segs = rn_xrealloc(p->segs, (cap *= 2) * sizeof *p->segs);
            p->segs[p->nsegs++] = rn_xstrndup(tok, n);
        }
        tok = e;
    }
    rn_sb_free(&full);
    rn_sb search = RN_SB_INIT;
    for (size_t i = 0; i < p->nsegs && !has_magic(p->segs[i]); i++) {
        char *u = unescape(p->segs[i]);
        rn_sb_putc(&search, '/');
        rn_sb_puts(&search, u);
        free(u);
    }
    p->search = search.len ? rn_sb_take(&search) : rn_xstrdup("/");
    rn_sb_free(&search);
    return 0;
}

/* One segment against a glob segment: * ? [...] and backslash escapes; dot files match. */
static bool seg_match(const char *p, const char *s) {
    while (*p) {
        if (*p == '*') {
            while (*p == '*')
                p++;
            if (!*p)
                return true;
            for (; *s; s++)
                if (seg_match(p, s))
                    return true;
            return seg_match(p, s);
        }
        if (!*s)
            return false;
        if (*p == '?') {
            p++;
            s++;
            continue;
        }
        if (*p == '[') {
            const char *q = p + 1;
            bool neg = *q == '!' || *q == '^';
            if (neg)
                q++;
            const char *start = q;
            /* find the closing bracket; a ']' right after '[' or '[!' is a member */
            const char *close = NULL;
            for (const char *r = q; *r; r++) {
                if (*r == '\\' && r[1]) {
                    r++;
                    continue;
                }
                if (*r == ']' && r != start) {
                    close = r;
                    break;
                }
            }
            if (close) {
                bool in = false;
                unsigned char c = (unsigned char)*s;
                for (const char *r = start; r < close; r++) {
                    unsigned char lo = (unsigned char)*r;
                    if (lo == '\\' && r + 1 < close)
                        lo = (unsigned char)*++r;
                    if (r + 2 < close && r[1] == '-') {
                        unsigned char hi = (unsigned char)r[2];
                        if (hi == '\\' && r + 3 < close) {
                            r++;
                            hi = (unsigned char)r[2];
                        }
                        if (c >= lo && c <= hi)
                            in = true;
                        r += 2;
                    } else if (c == lo) {
                        in = true;
                    }
                }
                if (in == neg)
                    return false;
                p = close + 1;
                s++;
                continue;
            }
            /* no closing bracket: a literal '[' */
        }
        if (*p == '\\' && p[1])
            p++;
        if (*p != *s)
            return false;
        p++;
        s++;
    }
    return !*s;
}

/* Segment-wise match with `**`; partial: the path may be a prefix of a matching one. */
static bool segs_match(char *const *pat, size_t np, char *const *path, size_t ns, bool partial,
                       bool final_star_needs_one) {
    if (np == 0)
        return ns == 0;
    if (ns == 0) {
        if (partial)
            return true;
        for (size_t i = 0; i < np; i++)
            if (strcmp(pat[i], "**"))
                return false;
        return !(final_star_needs_one && np >= 1);
    }
    if (!strcmp(pat[0], "**")) {
        if (np == 1 && !partial)
            return true; /* one or more remaining segments */
        if (segs_match(pat + 1, np - 1, path, ns, partial, final_star_needs_one))
            return true;
        return segs_match(pat, np, path + 1, ns - 1, partial,
                          np == 1 ? false : final_star_needs_one);
    }
    return seg_match(pat[0], path[0]) &&
           segs_match(pat + 1, np - 1, path + 1, ns - 1, partial, final_star_needs_one);
}

typedef struct pathsegs {
    char **v;
    size_t n;
    char *buf;
} pathsegs;

static void split_path(const char *path, pathsegs *ps) {
    ps->buf = rn_xstrdup(path);
    size_t cap = 16;
    ps->v = rn_xmalloc(cap * sizeof *ps->v);
    ps->n = 0;
    char *save = NULL; /* strtok_r: parallel jobs glob at once */
    for (char *t = strtok_r(ps->buf, "/", &save); t; t = strtok_r(NULL, "/", &save)) {
        if (ps->n == cap)
            ps->v = rn_xrealloc(ps->v, (cap *= 2) * sizeof *ps->v);
        ps->v[ps->n++] = t;
    }
}

enum { MK_NONE = 0, MK_DIR = 1, MK_FILE = 2, MK_ALL = 3 };

static int pat_match(const gpat *p, const pathsegs *ps) {
    if (!segs_match(p->segs, p->nsegs, ps->v, ps->n, false, p->implicit))
        return MK_NONE;
    return p->trailing ? MK_DIR : MK_ALL;
}

static int match_all(const gpat *pats, size_t n, const pathsegs *ps) {
    int r = MK_NONE;
    for (size_t i = 0; i < n; i++) {
        if (pats[i].negate)
            r &= ~pat_match(&pats[i], ps);
        else
            r |= pat_match(&pats[i], ps);
    }
    return r;
}

static bool partial_any(const gpat *pats, size_t n, const pathsegs *ps) {
    for (size_t i = 0; i < n; i++)
        if (!pats[i].negate && segs_match(pats[i].segs, pats[i].nsegs, ps->v, ps->n, true, false))
            return true;
    return false;
}

static int cmp_str(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

typedef struct walker {
    const gpat *pats;
    size_t n;
    const rn_glob_opts *o;
    rn_strlist *out;
    rn_strlist chain; /* real paths of the directories being walked (symlink loops) */
} walker;

static void walk(walker *w, const char *path) {
    pathsegs ps;
    split_path(path, &ps);
    int m = match_all(w->pats, w->n, &ps);
    bool partial = m || partial_any(w->pats, w->n, &ps);
    free(ps.v);
    free(ps.buf);
    if (!m && !partial)
        return;
    struct stat st;
    if (w->o->follow_symlinks) {
        if (stat(path, &st) != 0)
            return; /* missing, or a broken link: omitted */
    } else if (lstat(path, &st) != 0) {
        return;
    }
    if (!S_ISDIR(st.st_mode)) {
        if (m & MK_FILE)
            strlist_push(w->out, rn_xstrdup(path));
        return;
    }
    if ((m & MK_DIR) && w->o->match_directories)
        strlist_push(w->out, rn_xstrdup(path));
    else if (!partial)
        return;
    char *real = NULL;
    if (w->o->follow_symlinks) {
        real = realpath(path, NULL);
        if (!real)
            return;
        for (size_t i = 0; i < w->chain.count; i++)
            if (!strcmp(w->chain.items[i], real)) {
                free(real);
                return; /* symlink cycle */
            }
        strlist_push(&w->chain, real);
    }
    DIR *d = opendir(path);
    if (d) {
        rn_strlist names = RN_STRLIST_INIT;
        for (struct dirent *e; (e = readdir(d));)
            if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
                strlist_push(&names, rn_xstrdup(e->d_name));
        closedir(d);
        if (names.count)
            qsort(names.items, names.count, sizeof *names.items, cmp_str);
        for (size_t i = 0; i < names.count; i++) {
            char *child = strcmp(path, "/") ? rn_xprintf("%s/%s", path, names.items[i])
                                            : rn_xprintf("/%s", names.items[i]);
            walk(w, child);
            free(child);
        }
        rn_strlist_free(&names);
    }
    if (real) {
        w->chain.count--;
        free(real);
    }
}

int rn_glob(const char *cwd, const char *const *patterns, size_t n, const rn_glob_opts *opts,
            rn_strlist *out, char **err) {
    gpat *pats = rn_xcalloc(2 * n + 1, sizeof *pats);
    size_t np = 0;
    int rc = 0;
    for (size_t i = 0; i < n; i++) {
        if (gpat_parse(cwd, patterns[i], &pats[np], err)) {
            rc = -1;
            goto out;
        }
        gpat *p = &pats[np++];
        /* implicit descendants: `dir` also means everything below it */
        if (opts->implicit_descendants &&
            (p->trailing || !p->nsegs || strcmp(p->segs[p->nsegs - 1], "**"))) {
            gpat *q = &pats[np++];
            memset(q, 0, sizeof *q);
            q->negate = p->negate;
            q->implicit = true;
            q->nsegs = p->nsegs + 1;
            q->segs = rn_xmalloc(q->nsegs * sizeof *q->segs);
            for (size_t k = 0; k < p->nsegs; k++)
                q->segs[k] = rn_xstrdup(p->segs[k]);
            q->segs[p->nsegs] = rn_xstrdup("**");
            q->search = rn_xstrdup(p->search);
        }
    }
    /* search paths: each include pattern's literal root unless an ancestor is also one */
    rn_strlist roots = RN_STRLIST_INIT;
    for (size_t i = 0; i < np; i++) {
        if (pats[i].negate || pats[i].implicit)
            continue;
        const char *s = pats[i].search;
        bool skip = false;
        for (size_t k = 0; k < np && !skip; k++) {
            if (pats[k].negate || pats[k].implicit)
                continue;
            const char *a = pats[k].search;
            size_t al = strlen(a);
            if (!strcmp(a, s))
                continue;
            if (!strcmp(a, "/") || (!strncmp(s, a, al) && s[al] == '/'))
                skip = true;
        }
        for (size_t k = 0; k < roots.count && !skip; k++)
            if (!strcmp(roots.items[k], s))
                skip = true;
        if (!skip)
            strlist_push(&roots, rn_xstrdup(s));
    }
    walker w = {pats, np, opts, out, RN_STRLIST_INIT};
    for (size_t i = 0; i < roots.count; i++)
        walk(&w, roots.items[i]);
    rn_strlist_free(&w.chain);
    rn_strlist_free(&roots);
out:
    for (size_t i = 0; i < np; i++)
        gpat_free(&pats[i]);
    free(pats);
    return rc;
}

static int sha256_file(const char *path, unsigned char out[32]) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    EVP_MD_CTX *c = EVP_MD_CTX_new();
    EVP_DigestInit_ex(c, EVP_sha256(), NULL);
    static __thread unsigned char buf[1 << 16];
    ssize_t r;
    while ((r = read(fd, buf, sizeof buf)) > 0)
        EVP_DigestUpdate(c, buf, (size_t)r);
    close(fd);
    EVP_DigestFinal_ex(c, out, NULL);
    EVP_MD_CTX_free(c);
    return r < 0 ? -1 : 0;
}

char *rn_hashfiles(const char *workspace, const char *const *patterns, size_t n,
                   bool follow_symlinks, char **err) {
    rn_strlist lines = RN_STRLIST_INIT;
    for (size_t i = 0; i < n; i++)
        rn_glob_split_lines(patterns[i], &lines);
    rn_strlist files = RN_STRLIST_INIT;
    rn_glob_opts o = {follow_symlinks, true, true};
    char *res = NULL;
    if (rn_glob(workspace, (const char *const *)lines.items, lines.count, &o, &files, err))
        goto out;
    EVP_MD_CTX *all = EVP_MD_CTX_new();
    EVP_DigestInit_ex(all, EVP_sha256(), NULL);
    size_t wl = strlen(workspace);
    while (wl > 1 && workspace[wl - 1] == '/')
        wl--;
    size_t count = 0;
    for (size_t i = 0; i < files.count; i++) {
        const char *f = files.items[i];
        /* GitHub skips what is not under GITHUB_WORKSPACE, and directories */
        if (strncmp(f, workspace, wl) || f[wl] != '/')
            continue;
        struct stat st;
        if (stat(f, &st) != 0 || S_ISDIR(st.st_mode))
            continue;
        unsigned char d[32];
        if (sha256_file(f, d) != 0) {
            *err = rn_xprintf("hashFiles: cannot read '%s': %s", f, strerror(errno));
            EVP_MD_CTX_free(all);
            goto out;
        }
        EVP_DigestUpdate(all, d, sizeof d);
        count++;
    }
    unsigned char d[32];
    EVP_DigestFinal_ex(all, d, NULL);
    EVP_MD_CTX_free(all);
    if (!count) {
        res = rn_xstrdup("");
    } else {
        res = rn_xmalloc(65);
        for (int i = 0; i < 32; i++)
            snprintf(res + 2 * i, 3, "%02x", d[i]);
    }
out:
    rn_strlist_free(&lines);
    rn_strlist_free(&files);
    return res;
}

json_t *rn_hashfiles_call(const char *workspace, json_t *const *args, size_t nargs, char **err) {
    bool follow = false;
    size_t first = 0;
    if (nargs && json_is_string(args[0]) &&
        !strcmp(json_string_value(args[0]), "--follow-symbolic-links")) {
        follow = true;
        first = 1;
    }
    const char **pats = rn_xcalloc(nargs + 1, sizeof *pats);
    size_t n = 0;
    for (size_t i = first; i < nargs; i++) {
        if (!json_is_string(args[i])) {
            *err = rn_xstrdup("hashFiles: patterns must be strings");
            free(pats);
            return NULL;
        }
        pats[n++] = json_string_value(args[i]);
    }
    char *h = rn_hashfiles(workspace, pats, n, follow, err);
    free(pats);
    if (!h)
        return NULL;
    json_t *r = json_string(h);
    free(h);
    return r;
}
