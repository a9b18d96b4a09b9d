/* Reader conformance: runs every actions/languageservices workflow-parser reader file through
 * rn_workflow_parse + rn_validate_calls and compares the (line, col) set of the errors with the
 * expected one (messages are compared too and reported separately).
 * usage: reader_conformance READER_DIR KNOWN_FAILURES_FILE
 * Exit: 0 when every failure is listed in the known-failures file, 1 otherwise, 77 (skip) when
 * the data folder is absent. */
#include "common/arena.h"
#include "common/diag.h"
#include "common/strbuf.h"
#include "tests/conformance/conformance_util.h"
#include "workflow/model.h"
#include "workflow/validate.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct doc {
    const char *s;
    size_t len;
} doc;

/* Splits on \r?\n---\r?\n like upstream. */
static size_t split_docs(const char *t, size_t len, doc *out, size_t max) {
    size_t n = 0, start = 0;
    for (size_t i = 0; i < len && n + 1 < max; i++) {
        if (t[i] != '\n')
            continue;
        size_t j = i + 1;
        if (len - j >= 3 && !strncmp(t + j, "---", 3)) {
            size_t k = j + 3;
            if (k < len && t[k] == '\r')
                k++;
            if (k < len && t[k] == '\n') {
                size_t end = i > 0 && t[i - 1] == '\r' ? i - 1 : i;
                out[n++] = (doc){t + start, end - start};
                start = k + 1;
                i = k;
            }
        }
    }
    out[n++] = (doc){t + start, len - start};
    return n;
}

typedef struct called {
    doc *pairs; /* ref, yaml, ref, yaml ... */
    size_t n;
} called;

static int resolve(void *ud, const char *uses, const char *caller, char **text, size_t *len,
                   char **display) {
    (void)caller;
    called *c = ud;
    for (size_t i = 0; i + 1 < c->n; i += 2) {
        char *ref = rn_xstrndup(c->pairs[i].s, c->pairs[i].len);
        char *e = ref + strlen(ref);
        while (e > ref && (e[-1] == '\n' || e[-1] == '\r' || e[-1] == ' '))
            *--e = 0;
        if (!strcmp(ref, uses)) {
            *text = rn_xstrndup(c->pairs[i + 1].s, c->pairs[i + 1].len);
            *len = c->pairs[i + 1].len;
            *display = ref;
            return 1;
        }
        free(ref);
    }
    return 0;
}

typedef struct expect {
    int line, col;
    char *msg;
} expect;

static void parse_expected(const char *m, expect *e) {
    /* "FILE (Line: L, Col: C): msg", "FILE: msg" or "msg" */
    const char *p = strstr(m, " (Line: ");
    if (p && sscanf(p, " (Line: %d, Col: %d):", &e->line, &e->col) == 2) {
        const char *q = strstr(p, "): ");
        e->msg = rn_xstrdup(q ? q + 3 : "");
        return;
    }
    e->line = e->col = 0;
    p = strstr(m, ".yml: ");
    e->msg = rn_xstrdup(p ? p + 6 : m);
}

static bool service_level(const char *opts) {
    static const char *keys[] = {"permissions-policy", "max-", "is-partial-rerun",
                                 "skip-reusable-workflows", "experimental-features"};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        const char *p = opts;
        while ((p = strstr(p, keys[i]))) {
            /* a key at the start of a line */
            if (p == opts || p[-1] == '\n')
                return true;
            p++;
        }
    }
    return false;
}

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: reader_conformance READER_DIR KNOWN_FAILURES\n");
        return 2;
    }
    size_t n_names;
    char **names = rn_conf_files(argv[1], ".yml", &n_names);
    if (!names) {
        printf("SKIP: conformance data not found at %s (set RUNNEL_SHARED)\n", argv[1]);
        return 77;
    }
    char *known_text = rn_read_file(argv[2], NULL);

    int passed = 0, failed = 0, svc_total = 0, svc_passed = 0, msg_mismatch = 0, unlisted = 0;
    int plain_total = 0, plain_passed = 0;
    rn_sb report = RN_SB_INIT, msgs = RN_SB_INIT;
    for (size_t f = 0; f < n_names; f++) {
        char *path = rn_xprintf("%s/%s", argv[1], names[f]);
        size_t len;
        char *text = rn_read_file(path, &len);
        free(path);
        if (!text)
            continue;
        doc docs[32];
        size_t nd = split_docs(text, len, docs, 32);
        if (nd < 3) {
            free(text);
            continue;
        }
        char *opts = rn_xstrndup(docs[0].s, docs[0].len);
        bool svc = service_level(opts);
        free(opts);
        json_error_t jerr;
        json_t *exp = json_loadb(docs[nd - 1].s, docs[nd - 1].len, 0, &jerr);
        json_t *errs = exp ? json_object_get(exp, "errors") : NULL;
        size_t n_exp = errs ? json_array_size(errs) : 0;
        expect *ex = rn_xcalloc(n_exp + 1, sizeof *ex);
        for (size_t i = 0; i < n_exp; i++)
            parse_expected(json_string_value(json_object_get(json_array_get(errs, i), "Message"))
                               ?: "",
                           &ex[i]);

        char *file = rn_xprintf(".github/workflows/%s", names[f]);
        rn_arena a;
        rn_arena_init(&a);
        rn_diags d = RN_DIAGS_INIT;
        called c = {docs + 2, strstr(names[f], "reusable") ? nd - 3 : 0};
        rn_workflow *wf = rn_workflow_parse(&a, file, docs[1].s, docs[1].len, &d);
        if (wf)
            rn_validate_calls(&a, wf, resolve, &c, &d);
        rn_diags_sort(&d);

        /* Same multiset of positions? */
        bool ok = d.count == n_exp;
        bool *used = rn_xcalloc(n_exp + 1, sizeof *used);
        bool same_msgs = true;
        for (size_t i = 0; ok && i < d.count; i++) {
            bool hit = false;
            for (size_t j = 0; j < n_exp && !hit; j++)
                if (!used[j] && ex[j].line == d.items[i].line && ex[j].col == d.items[i].col) {
                    used[j] = hit = true;
                    if (strcmp(ex[j].msg, d.items[i].message)) {
                        /* try another expected entry at the same position with equal text */
                        bool other = false;
                        for (size_t k = 0; k < n_exp; k++)
                            if (ex[k].line == ex[j].line && ex[k].col == ex[j].col &&
                                !strcmp(ex[k].msg, d.items[i].message))
                                other = true;
                        if (!other) {
                            same_msgs = false;
                            rn_sb_printf(&msgs, "  %s %d:%d\n    expected: %s\n    actual:   %s\n",
                                         names[f], ex[j].line, ex[j].col, ex[j].msg,
                                         d.items[i].message);
                        }
                    }
                }
            ok = hit;
        }
        if (!same_msgs)
            msg_mismatch++;
        if (svc)
            svc_total++;
        else
            plain_total++;
        if (ok) {
            passed++;
            if (svc)
                svc_passed++;
            else
                plain_passed++;
        } else {
            failed++;
            bool listed = known_text && rn_conf_known(known_text, names[f]);
            if (!listed)
                unlisted++;
            rn_sb_printf(&report, "FAIL %s%s%s\n", names[f], svc ? " [service-level]" : "",
                         listed ? " (known)" : " (NOT LISTED)");
            for (size_t j = 0; j < n_exp; j++)
                rn_sb_printf(&report, "    expected %d:%d %s\n", ex[j].line, ex[j].col, ex[j].msg);
            for (size_t i = 0; i < d.count; i++)
                rn_sb_printf(&report, "    actual   %d:%d %s\n", d.items[i].line, d.items[i].col,
                             d.items[i].message);
        }
        free(used);
        for (size_t j = 0; j < n_exp; j++)
            free(ex[j].msg);
        free(ex);
        json_decref(exp);
        rn_diags_free(&d);
        rn_arena_free(&a);
        free(file);
        free(text);
    }
    printf("%s", rn_sb_str(&report));
    if (msgs.len)
        printf("\nPosition matches with different message text:\n%s", rn_sb_str(&msgs));
    printf("\nreader conformance: %d passed, %d failed (of %zu files)\n", passed, failed, n_names);
    printf("  without service-level options: %d/%d passed\n", plain_passed, plain_total);
    printf("  with service-level options:    %d/%d passed\n", svc_passed, svc_total);
    printf("  files with a message-text mismatch: %d\n", msg_mismatch);
    printf("  failures not listed in %s: %d\n", argv[2], unlisted);
    rn_sb_free(&report);
    rn_sb_free(&msgs);
    for (size_t i = 0; i < n_names; i++)
        free(names[i]);
    free(names);
    free(known_text);
    return unlisted ? 1 : 0;
}
