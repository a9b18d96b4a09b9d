/* runnel eval: evaluate ${{ }} expressions from the command line or as a JSON-lines filter.
 *
 *   runnel eval [--context NAME=FILE.json]... 'EXPR'
 *       prints the result in toJSON form (2-space indent); a top-level NaN/Infinity prints as the
 *       JSON string "NaN"/"Infinity"/"-Infinity". Exit 0; an expression error goes to stderr as
 *       "runnel eval: <kind> error: <message>" with exit 1; usage errors exit 2.
 *   runnel eval --jsonl
 *       reads {"expr": "...", "contexts": {...}} per line on stdin and writes one line each:
 *       {"kind": "...", "value": ...} or {"error": {"kind": "lexing|parsing|evaluation|input",
 *       "message": "..."}}. The named values allowed are exactly the keys of "contexts". */
#include "runner/commands.h"
#include "workflow/expr.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *kind_name(rn_expr_err_kind k) {
    switch (k) {
    case RN_EXPR_LEXING:
        return "lexing";
    case RN_EXPR_PARSING:
        return "parsing";
    default:
        return "evaluation";
    }
}

static void usage(FILE *out) {
    fprintf(out, "usage: runnel eval [--context NAME=FILE.json]... 'EXPR'\n"
                 "       runnel eval --jsonl   (one {\"expr\":...,\"contexts\":{...}} per line on "
                 "stdin)\n");
}

/* NaN and the infinities have no JSON form: they travel as strings. */
static json_t *printable(json_t *v) {
    if (json_is_real(v) && !isfinite(json_real_value(v))) {
        double d = json_real_value(v);
        return json_string(isnan(d) ? "NaN" : d > 0 ? "Infinity" : "-Infinity");
    }
    return json_incref(v);
}

static json_t *error_line(const char *kind, const char *message) {
    return json_pack("{s:{s:s,s:s}}", "error", "kind", kind, "message", message);
}

static json_t *eval_line(const char *line, size_t len) {
    json_error_t jerr;
    json_t *in = json_loadb(line, len, JSON_DECODE_INT_AS_REAL, &jerr);
    if (!in || !json_is_object(in)) {
        json_decref(in);
        return error_line("input", in ? "expected a JSON object" : jerr.text);
    }
    json_t *expr = json_object_get(in, "expr");
    json_t *contexts = json_object_get(in, "contexts");
    if (!json_is_string(expr) ||
        (contexts && !json_is_object(contexts) && !json_is_null(contexts))) {
        json_decref(in);
        return error_line("input", "\"expr\" must be a string and \"contexts\" an object");
    }
    if (json_is_null(contexts))
        contexts = NULL;
    size_t n = contexts ? json_object_size(contexts) : 0;
    const char **names = calloc(n ? n : 1, sizeof *names);
    size_t i = 0;
    const char *key;
    json_t *val;
    if (contexts) {
        json_object_foreach(contexts, key, val) names[i++] = key;
    }
    rn_expr_scope scope = {names, n, NULL, 0};
    rn_expr_eval_ctx ctx = {contexts, NULL, NULL, 0};
    rn_expr_error err;
    json_t *res = rn_expr_evaluate(json_string_value(expr), &scope, &ctx, &err);
    json_t *out;
    if (res) {
        out = json_pack("{s:s,s:o}", "kind", rn_value_kind(res), "value", printable(res));
        json_decref(res);
    } else {
        out = error_line(kind_name(err.kind), err.message);
    }
    free(names);
    json_decref(in);
    return out;
}

static int run_jsonl(void) {
    char *line = NULL;
    size_t cap = 0;
    ssize_t got;
    while ((got = getline(&line, &cap, stdin)) >= 0) {
        size_t len = (size_t)got;
        if (len && line[len - 1] == '\n')
            len--;
        if (len && line[len - 1] == '\r')
            len--;
        json_t *out = eval_line(line, len);
        char *s = json_dumps(out, JSON_COMPACT | JSON_ENSURE_ASCII | JSON_REAL_PRECISION(17));
        json_decref(out);
        if (!s) {
            fputs("{\"error\":{\"kind\":\"input\",\"message\":\"unprintable result\"}}\n", stdout);
            continue;
        }
        fputs(s, stdout);
        fputc('\n', stdout);
        free(s);
    }
    free(line);
    return fflush(stdout) == 0 ? 0 : 1;
}

int rn_cmd_eval(int argc, char **argv) {
    const char *expr_text = NULL;
    json_t *contexts = json_object();
    int rc = 2;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage(stdout);
            json_decref(contexts);
            return 0;
        }
        if (!strcmp(a, "--jsonl")) {
            if (argc != 2) {
                fprintf(stderr, "runnel eval: --jsonl takes no other arguments\n");
                goto out;
            }
            json_decref(contexts);
            return run_jsonl();
        }
        if (!strcmp(a, "--context") || !strncmp(a, "--context=", 10)) {
            const char *spec = a[9] == '=' ? a + 10 : (i + 1 < argc ? argv[++i] : NULL);
            const char *eq = spec ? strchr(spec, '=') : NULL;
            if (!eq || eq == spec) {
                fprintf(stderr, "runnel eval: --context needs NAME=FILE.json\n");
                goto out;
            }
            json_error_t jerr;
            json_t *v = json_load_file(eq + 1, JSON_DECODE_ANY | JSON_DECODE_INT_AS_REAL, &jerr);
            if (!v) {
                fprintf(stderr, "runnel eval: %s:%d:%d: %s\n", eq + 1, jerr.line, jerr.column,
                        jerr.text);
                goto out;
            }
            json_object_setn_new(contexts, spec, (size_t)(eq - spec), v);
            continue;
        }
        if (a[0] == '-' && a[1] == '-' && !expr_text) {
            fprintf(stderr, "runnel eval: unknown option '%s'\n", a);
            usage(stderr);
            goto out;
        }
        if (expr_text) {
            fprintf(stderr, "runnel eval: only one expression may be given\n");
            goto out;
        }
        expr_text = a;
    }
    if (!expr_text) {
        usage(stderr);
        goto out;
    }
    {
        size_t n = json_object_size(contexts), i = 0;
        const char **names = calloc(n ? n : 1, sizeof *names);
        const char *key;
        json_t *val;
        json_object_foreach(contexts, key, val) names[i++] = key;
        rn_expr_scope scope = {names, n, NULL, 0};
        rn_expr_eval_ctx ctx = {contexts, NULL, NULL, 0};
        rn_expr_error err;
        json_t *res = rn_expr_evaluate(expr_text, &scope, &ctx, &err);
        free(names);
        if (!res) {
            fprintf(stderr, "runnel eval: %s error: %s\n", kind_name(err.kind), err.message);
            rc = 1;
            goto out;
        }
        json_t *p = printable(res);
        char *s = rn_value_to_json(p);
        puts(s);
        free(s);
        json_decref(p);
        json_decref(res);
        rc = 0;
    }
out:
    json_decref(contexts);
    return rc;
}
