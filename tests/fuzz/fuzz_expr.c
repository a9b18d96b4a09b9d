/* libFuzzer target for the ${{ }} engine: parse + evaluate an expression (and the same bytes as
 * a template) against a fixed context and a host callback. */
#include "workflow/expr.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static const char *const k_named[] = {"github", "matrix", "env"};
static const rn_expr_func k_funcs[] = {
    {"success", 0, 255}, {"always", 0, 0}, {"hashFiles", 1, 255}};
static const rn_expr_scope k_scope = {k_named, 3, k_funcs, 3};
static json_t *g_ctx;

static json_t *host(void *ud, const char *name, json_t *const *args, size_t nargs,
                    rn_expr_error *err) {
    (void)ud;
    (void)args;
    if (!strcmp(name, "hashFiles") && nargs > 3) {
        err->kind = RN_EXPR_EVALUATION;
        strcpy(err->message, "too many patterns");
        return NULL;
    }
    return json_string(name);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (!g_ctx)
        g_ctx = json_loads("{\"github\": {\"event_name\": \"push\", \"event\": {\"commits\": "
                           "[{\"id\": 1, \"files\": [\"a\", \"b\"]}, {\"id\": 2}]}, \"Ref\": "
                           "\"refs/heads/main\"}, \"matrix\": {\"os\": [\"linux\", \"mac\"], "
                           "\"n\": 3.5}, \"env\": {\"A\": \"\", \"B\": null}}",
                           0, NULL);
    char *text = malloc(size + 1);
    memcpy(text, data, size);
    text[size] = 0;
    rn_expr_eval_ctx ctx = {g_ctx, host, NULL, 64 * 1024};
    rn_expr_error err;
    rn_expr *e = rn_expr_parse(text, &k_scope, &err);
    if (e) {
        (void)rn_expr_calls_status_function(e);
        json_t *v = rn_expr_eval(e, &ctx, &err);
        if (v) {
            char *s = rn_value_to_json(v);
            free(s);
            s = rn_value_to_string(v);
            free(s);
            (void)rn_value_truthy(v);
            json_decref(v);
        }
        rn_expr_free(e);
    }
    rn_tmpl *t = rn_tmpl_parse(text, &k_scope, &err);
    if (t) {
        json_decref(rn_tmpl_eval(t, &ctx, &err));
        rn_tmpl_free(t);
    }
    free(text);
    return 0;
}
