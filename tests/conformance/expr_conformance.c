/* Conformance harness for the ${{ }} engine: runs every vector of
 * actions-languageservices/expressions/testdata through ONE `runnel eval --jsonl` process and
 * compares as the conformance README (section 1) says.
 *
 * usage: expr_conformance RUNNEL TESTDATA_DIR KNOWN_FAILURES_FILE
 * Exit 0 when every failure is listed in the known-failures file (lines "NAME: reason", NAME
 * being file#group#index; '#'-lines are comments), 1 otherwise, 77 when TESTDATA_DIR is absent. */
#include <dirent.h>
#include <jansson.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

typedef struct vec {
    char *name; /* file#group#index */
    char *expr;
    json_t *expect; /* the case object */
} vec;

static bool is_json_file(const struct dirent *d) {
    size_t n = strlen(d->d_name);
    return n > 5 && !strcmp(d->d_name + n - 5, ".json");
}

static int filter(const struct dirent *d) {
    return is_json_file(d);
}

/* Structural equality; numbers by value (the sign of zero is not checked). */
static bool same_value(const json_t *a, const json_t *b) {
    if (json_is_number(a) && json_is_number(b))
        return json_number_value(a) == json_number_value(b);
    if (json_typeof(a) != json_typeof(b))
        return false;
    switch (json_typeof(a)) {
    case JSON_STRING:
        return json_string_length(a) == json_string_length(b) &&
               !memcmp(json_string_value(a), json_string_value(b), json_string_length(a));
    case JSON_ARRAY:
        if (json_array_size(a) != json_array_size(b))
            return false;
        for (size_t i = 0; i < json_array_size(a); i++)
            if (!same_value(json_array_get(a, i), json_array_get(b, i)))
                return false;
        return true;
    case JSON_OBJECT: {
        if (json_object_size(a) != json_object_size(b))
            return false;
        void *ia = json_object_iter((json_t *)a), *ib = json_object_iter((json_t *)b);
        for (; ia && ib; ia = json_object_iter_next((json_t *)a, ia),
                         ib = json_object_iter_next((json_t *)b, ib)) {
            if (strcmp(json_object_iter_key(ia), json_object_iter_key(ib)) ||
                !same_value(json_object_iter_value(ia), json_object_iter_value(ib)))
                return false;
        }
        return true;
    }
    default:
        return true; /* null, true, false */
    }
}

/* Returns NULL when the output matches, else a reason (static or malloc'ed into *owned). */
static const char *check(const json_t *c, const json_t *out, char **owned) {
    *owned = NULL;
    const json_t *res = json_object_get(c, "result");
    const json_t *err = json_object_get(c, "err");
    if (!out)
        return "no output line";
    const json_t *oerr = json_object_get(out, "error");
    if (res) {
        if (oerr) {
            *owned = json_dumps(oerr, JSON_COMPACT);
            return *owned;
        }
        const char *ek = json_string_value(json_object_get(res, "kind"));
        const char *ok = json_string_value(json_object_get(out, "kind"));
        const json_t *ov = json_object_get(out, "value");
        if (!ok || !ek || strcmp(ek, ok) || !ov || !same_value(json_object_get(res, "value"), ov)) {
            *owned = json_dumps(out, JSON_COMPACT | JSON_ENCODE_ANY);
            return *owned;
        }
        return NULL;
    }
    if (err) {
        if (!oerr) {
            *owned = json_dumps(out, JSON_COMPACT);
            return *owned;
        }
        const char *ek = json_string_value(json_object_get(err, "kind"));
        const char *ev = json_string_value(json_object_get(err, "value"));
        const char *ok = json_string_value(json_object_get(oerr, "kind"));
        const char *om = json_string_value(json_object_get(oerr, "message"));
        if (!ek || !ok || strcmp(ek, ok) || !ev || !om || !strstr(om, ev)) {
            *owned = json_dumps(oerr, JSON_COMPACT);
            return *owned;
        }
        return NULL;
    }
    return "vector has neither result nor err";
}

static char *one_line(const char *s) {
    json_t *j = json_string(s);
    char *d = json_dumps(j, JSON_ENCODE_ANY);
    json_decref(j);
    return d;
}

int main(int argc, char **argv) {
    if (argc != 4) {
        fprintf(stderr, "usage: %s RUNNEL TESTDATA_DIR KNOWN_FAILURES\n", argv[0]);
        return 2;
    }
    const char *runnel = argv[1], *dir = argv[2], *known_path = argv[3];
    struct stat st;
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
        printf("SKIP: expression vectors not found at %s (shared conformance data absent)\n", dir);
        return 77;
    }
    struct dirent **ents;
    int nfiles = scandir(dir, &ents, filter, alphasort);
    if (nfiles < 0) {
        perror(dir);
        return 1;
    }
    vec *vecs = NULL;
    size_t nv = 0, capv = 0;
    char tmpl[] = "/tmp/expr_conformance_XXXXXX";
    int fd = mkstemp(tmpl);
    if (fd < 0) {
        perror("mkstemp");
        return 1;
    }
    FILE *in = fdopen(fd, "w");
    for (int f = 0; f < nfiles; f++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, ents[f]->d_name);
        json_error_t jerr;
        json_t *doc = json_load_file(path, 0, &jerr);
        if (!doc) {
            fprintf(stderr, "%s:%d: %s\n", path, jerr.line, jerr.text);
            return 1;
        }
        const char *group;
        json_t *cases;
        json_object_foreach(doc, group, cases) {
            for (size_t i = 0; i < json_array_size(cases); i++) {
                json_t *c = json_array_get(cases, i);
                if (nv == capv) {
                    capv = capv ? capv * 2 : 256;
                    vecs = realloc(vecs, capv * sizeof *vecs);
                }
                char name[1024];
                snprintf(name, sizeof name, "%s#%s#%zu", ents[f]->d_name, group, i);
                const char *expr = json_string_value(json_object_get(c, "expr"));
                vecs[nv].name = strdup(name);
                vecs[nv].expr = strdup(expr ? expr : "");
                vecs[nv].expect = json_incref(c);
                nv++;
                json_t *contexts = json_object_get(c, "contexts");
                json_t *line = json_pack("{s:s,s:O}", "expr", expr ? expr : "", "contexts",
                                         contexts ? contexts : json_object());
                if (!contexts)
                    json_decref(json_object_get(line, "contexts"));
                char *s = json_dumps(line, JSON_COMPACT);
                fprintf(in, "%s\n", s);
                free(s);
                json_decref(line);
            }
        }
        json_decref(doc);
        free(ents[f]);
    }
    free(ents);
    fclose(in);

    /* One process for all vectors. */
    char cmd[8192];
    snprintf(cmd, sizeof cmd, "'%s' eval --jsonl < '%s'", runnel, tmpl);
    FILE *p = popen(cmd, "r");
    if (!p) {
        perror("popen");
        return 1;
    }
    json_t **outs = calloc(nv ? nv : 1, sizeof *outs);
    char *line = NULL;
    size_t cap = 0, got = 0;
    while (getline(&line, &cap, p) >= 0 && got < nv) {
        json_error_t jerr;
        outs[got++] = json_loads(line, 0, &jerr);
    }
    free(line);
    int status = pclose(p);
    unlink(tmpl);
    if (status != 0)
        printf("warning: runnel eval --jsonl exited with status %d\n", status);

    /* Known failures. */
    char **known = NULL;
    bool *known_used = NULL;
    size_t nknown = 0;
    FILE *kf = fopen(known_path, "r");
    if (kf) {
        char *kl = NULL;
        size_t kc = 0;
        ssize_t n;
        while ((n = getline(&kl, &kc, kf)) >= 0) {
            while (n > 0 && (kl[n - 1] == '\n' || kl[n - 1] == '\r' || kl[n - 1] == ' '))
                kl[--n] = 0;
            if (n == 0 || kl[0] == '#')
                continue;
            char *colon = strstr(kl, ": ");
            if (!colon || !colon[2]) {
                printf("known-failures: entry without a reason: %s\n", kl);
                continue;
            }
            known = realloc(known, (nknown + 1) * sizeof *known);
            known[nknown++] = strndup(kl, (size_t)(colon - kl));
        }
        free(kl);
        fclose(kf);
        known_used = calloc(nknown ? nknown : 1, 1);
    }

    size_t passed = 0, failed = 0, unlisted = 0;
    for (size_t i = 0; i < nv; i++) {
        char *owned;
        const char *why = check(vecs[i].expect, i < got ? outs[i] : NULL, &owned);
        if (!why) {
            passed++;
        } else {
            failed++;
            bool listed = false;
            for (size_t k = 0; k < nknown; k++) {
                if (!strcmp(known[k], vecs[i].name)) {
                    listed = known_used[k] = true;
                    break;
                }
            }
            if (!listed)
                unlisted++;
            char *e = one_line(vecs[i].expr);
            char *want = json_dumps(vecs[i].expect, JSON_COMPACT);
            printf("FAIL%s %s: %s\n    want %s\n    got  %s\n", listed ? " (known)" : "",
                   vecs[i].name, e, want, why);
            free(e);
            free(want);
        }
        free(owned);
    }
    for (size_t k = 0; k < nknown; k++)
        if (!known_used[k])
            printf("note: known failure %s now passes; remove it from the list\n", known[k]);
    printf("%zu passed, %zu failed\n", passed, failed);
    if (unlisted)
        printf("%zu failure(s) not listed in %s\n", unlisted, known_path);

    for (size_t i = 0; i < nv; i++) {
        free(vecs[i].name);
        free(vecs[i].expr);
        json_decref(vecs[i].expect);
        json_decref(outs[i]);
    }
    for (size_t k = 0; k < nknown; k++)
        free(known[k]);
    free(known);
    free(known_used);
    free(outs);
    free(vecs);
    return unlisted || got != nv ? 1 : 0;
}
