/* Expression benchmark: evaluations per second of a mix of typical workflow expressions,
 * (a) parsed once and evaluated many times, (b) parsed and evaluated each time, against a
 * baseline measured in the same run: hand-written jansson lookups and compares answering the
 * same questions (the floor for reading the same data).
 *
 * usage: bench_expr [ITERATIONS]   (default 200000 per expression) */
#include "workflow/expr.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static const char *const k_exprs[] = {
    "github.event_name == 'push'",
    "github.ref == 'refs/heads/main' && matrix.os != 'windows'",
    "contains(github.event.head_commit.message, '[skip ci]')",
    "startsWith(github.ref, 'refs/tags/v')",
    "format('{0}-{1}-{2}', runner.os, matrix.node, github.sha)",
    "toJSON(matrix)",
    "join(github.event.commits.*.id, ',')",
    "fromJSON('{\"a\": [1, 2, 3]}').a[1] > 1 || false",
    "!cancelled() && (success() || failure())",
};
#define N_EXPRS (sizeof k_exprs / sizeof k_exprs[0])

static json_t *status(void *ud, const char *name, json_t *const *args, size_t nargs,
                      rn_expr_error *err) {
    (void)ud, (void)args, (void)nargs, (void)err;
    return json_boolean(!strcmp(name, "success") || !strcmp(name, "always"));
}

int main(int argc, char **argv) {
    long iters = argc > 1 ? atol(argv[1]) : 200000;
    json_t *ctx_json = json_loads(
        "{\"github\": {\"event_name\": \"push\", \"ref\": \"refs/heads/main\", \"sha\": "
        "\"2ce6b095f4cceb616efed52266e3e3c0367ba795\", \"event\": {\"head_commit\": "
        "{\"message\": \"Update main.yml [skip ci]\"}, \"commits\": [{\"id\": \"a1\"}, {\"id\": "
        "\"b2\"}, {\"id\": \"c3\"}]}}, \"matrix\": {\"os\": \"ubuntu-latest\", \"node\": 20}, "
        "\"runner\": {\"os\": \"Linux\"}}",
        0, NULL);
    static const char *const names[] = {"github", "matrix", "runner"};
    static const rn_expr_func funcs[] = {
        {"success", 0, 0}, {"failure", 0, 0}, {"cancelled", 0, 0}, {"always", 0, 0}};
    rn_expr_scope scope = {names, 3, funcs, 4};
    rn_expr_eval_ctx ctx = {ctx_json, status, NULL, 0};
    rn_expr_error err;

    /* Baseline: the first question answered by hand with jansson, same iteration count. */
    volatile int sink = 0;
    double t0 = now();
    for (long i = 0; i < iters * (long)N_EXPRS; i++) {
        json_t *g = json_object_get(ctx_json, "github");
        const char *ev = json_string_value(json_object_get(g, "event_name"));
        sink += ev && !strcasecmp(ev, "push");
    }
    double base = now() - t0;

    rn_expr *parsed[N_EXPRS];
    for (size_t k = 0; k < N_EXPRS; k++) {
        parsed[k] = rn_expr_parse(k_exprs[k], &scope, &err);
        if (!parsed[k]) {
            fprintf(stderr, "parse failed: %s: %s\n", k_exprs[k], err.message);
            return 1;
        }
    }
    t0 = now();
    for (long i = 0; i < iters; i++)
        for (size_t k = 0; k < N_EXPRS; k++)
            json_decref(rn_expr_eval(parsed[k], &ctx, &err));
    double pre = now() - t0;

    t0 = now();
    for (long i = 0; i < iters / 4; i++)
        for (size_t k = 0; k < N_EXPRS; k++)
            json_decref(rn_expr_evaluate(k_exprs[k], &scope, &ctx, &err));
    double full = (now() - t0) * 4;

    double n = (double)iters * N_EXPRS;
    printf("expressions: %zu kinds x %ld iterations\n", N_EXPRS, iters);
    printf("baseline (hand-written jansson lookup): %.0f ops/s\n", n / base);
    printf("evaluate (pre-parsed):                  %.0f expr/s  (%.1fx baseline time)\n", n / pre,
           pre / base);
    printf("parse + evaluate:                       %.0f expr/s  (%.1fx baseline time)\n", n / full,
           full / base);
    for (size_t k = 0; k < N_EXPRS; k++)
        rn_expr_free(parsed[k]);
    json_decref(ctx_json);
    return sink < 0;
}
