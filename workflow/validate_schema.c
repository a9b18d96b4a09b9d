/* Schema-driven reader: our own C tables of the workflow-v1.0 schema (the one GitHub's parser
 * is driven by) and a reader that applies them the way GitHub's template reader does:
 * one-of narrowing by keys, literal-to-string coercion, per-key expression contexts. */
#include "workflow/validate.h"

#include "common/strbuf.h"

#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---- Schema tables ---- */

typedef enum dkind {
    D_NULL,
    D_BOOL,
    D_NUMBER,
    D_STRING,
    D_SEQ,
    D_MAP,
    D_ONEOF,
    D_ANY,
    D_ALLOWED
} dkind;

typedef struct prop {
    const char *key, *type;
    bool required;
} prop;

typedef struct def {
    const char *name;
    dkind kind;
    const char *const *ctx; /* NULL: inherit the parent's */
    const char *constant;   /* D_STRING */
    bool non_empty;         /* D_STRING */
    const char *item;       /* D_SEQ */
    const prop *props;      /* D_MAP, NULL-key terminated */
    const char *loose_key, *loose_value;
    const char *const *list; /* D_ONEOF members, D_ALLOWED values; NULL terminated */
} def;

#define L(...) ((const char *const[]){__VA_ARGS__, NULL})
#define P(...) ((const prop[]){__VA_ARGS__, {NULL, NULL, false}})

#define CTX_GIV L("github", "inputs", "vars")
#define CTX_NEEDS L("github", "inputs", "vars", "needs")
#define CTX_STRATEGY L("github", "inputs", "vars", "needs", "strategy", "matrix")
#define CTX_STEPS                                                                                  \
    L("github", "inputs", "vars", "needs", "strategy", "matrix", "secrets", "steps", "job",        \
      "runner", "env", "hashFiles(1,255)")
#define CTX_JOB_IF                                                                                 \
    L("github", "inputs", "vars", "needs", "always(0,0)", "failure(0,MAX)", "cancelled(0,0)",      \
      "success(0,MAX)")
#define CTX_STEP_IF                                                                                \
    L("github", "inputs", "vars", "needs", "strategy", "matrix", "steps", "job", "runner", "env",  \
      "always(0,0)", "failure(0,0)", "cancelled(0,0)", "success(0,0)", "hashFiles(1,255)")
/* Composite actions: no needs/secrets; inputs are the action's. */
#define CTX_ACTION                                                                                 \
    L("github", "inputs", "strategy", "matrix", "steps", "job", "runner", "env", "hashFiles(1,255)")
#define CTX_ACTION_IF                                                                              \
    L("github", "inputs", "strategy", "matrix", "steps", "job", "runner", "env", "always(0,0)",    \
      "failure(0,0)", "cancelled(0,0)", "success(0,0)", "hashFiles(1,255)")

#define STR(n)                                                                                     \
    { .name = n, .kind = D_STRING }
#define NESTR(n)                                                                                   \
    { .name = n, .kind = D_STRING, .non_empty = true }
#define CONST(n, c)                                                                                \
    { .name = n, .kind = D_STRING, .constant = c }
#define ONEOF(n, ...)                                                                              \
    { .name = n, .kind = D_ONEOF, .list = L(__VA_ARGS__) }
#define ONEOF_CTX(n, c, ...)                                                                       \
    { .name = n, .kind = D_ONEOF, .ctx = c, .list = L(__VA_ARGS__) }
#define SEQ(n, i)                                                                                  \
    { .name = n, .kind = D_SEQ, .item = i }
#define MAP(n, ...)                                                                                \
    { .name = n, .kind = D_MAP, .props = P(__VA_ARGS__) }
#define MAP_CTX(n, c, ...)                                                                         \
    { .name = n, .kind = D_MAP, .ctx = c, .props = P(__VA_ARGS__) }
#define LOOSE(n, k, v)                                                                             \
    { .name = n, .kind = D_MAP, .loose_key = k, .loose_value = v }
#define LOOSE_CTX(n, c, k, v)                                                                      \
    { .name = n, .kind = D_MAP, .ctx = c, .loose_key = k, .loose_value = v }
#define TYPED_CTX(n, kd, c)                                                                        \
    { .name = n, .kind = kd, .ctx = c }

static const def defs[] = {
    /* built-ins */
    {.name = "null", .kind = D_NULL},
    {.name = "boolean", .kind = D_BOOL},
    {.name = "number", .kind = D_NUMBER},
    STR("string"),
    SEQ("sequence", "any"),
    LOOSE("mapping", "string", "any"),
    {.name = "any", .kind = D_ANY},
    NESTR("non-empty-string"),
    SEQ("sequence-of-non-empty-string", "non-empty-string"),
    SEQ("sequence-of-string", "string"),

    /* workflow root */
    MAP("workflow-root", {"on", "on", false}, {"name", "string", false},
        {"description", "string", false}, {"run-name", "run-name", false},
        {"defaults", "workflow-defaults", false}, {"env", "workflow-env", false},
        {"permissions", "permissions", false}, {"concurrency", "workflow-concurrency", false},
        {"jobs", "jobs", true}),
    TYPED_CTX("run-name", D_STRING, CTX_GIV),
    ONEOF("on", "string", "sequence", "on-mapping"),
    {.name = "on-mapping",
     .kind = D_MAP,
     .props = P({"workflow_call", "workflow-call", false}),
     .loose_key = "non-empty-string",
     .loose_value = "any"},
    ONEOF("workflow-call", "null", "workflow-call-mapping"),
    MAP("workflow-call-mapping", {"inputs", "workflow-call-inputs", false},
        {"secrets", "workflow-call-secrets", false}, {"outputs", "workflow-call-outputs", false}),
    LOOSE("workflow-call-inputs", "non-empty-string", "workflow-call-input-definition"),
    MAP("workflow-call-input-definition", {"description", "string", false},
        {"type", "workflow-call-input-type", true}, {"required", "boolean", false},
        {"default", "workflow-call-input-default", false}),
    ONEOF("workflow-call-input-type", "input-type-string", "input-type-boolean",
          "input-type-number"),
    CONST("input-type-string", "string"),
    CONST("input-type-boolean", "boolean"),
    CONST("input-type-number", "number"),
    ONEOF_CTX("workflow-call-input-default", CTX_GIV, "string", "boolean", "number"),
    LOOSE("workflow-call-secrets", "non-empty-string", "workflow-call-secret-definition"),
    ONEOF("workflow-call-secret-definition", "null", "workflow-call-secret-mapping-definition"),
    MAP("workflow-call-secret-mapping-definition", {"description", "string", false},
        {"required", "boolean", false}),
    LOOSE("workflow-call-outputs", "non-empty-string", "workflow-call-output-definition"),
    MAP("workflow-call-output-definition", {"description", "string", false},
        {"value", "workflow-output-context", true}),
    TYPED_CTX("workflow-output-context", D_STRING, L("github", "inputs", "vars", "jobs")),

    /* permissions */
    ONEOF("permissions", "permissions-mapping", "permission-read-all", "permission-write-all"),
    MAP("permissions-mapping", {"actions", "permission-level-any", false},
        {"artifact-metadata", "permission-level-any", false},
        {"attestations", "permission-level-any", false}, {"checks", "permission-level-any", false},
        {"contents", "permission-level-any", false},
        {"copilot-requests", "permission-write-or-none", false},
        {"deployments", "permission-level-any", false},
        {"discussions", "permission-level-any", false},
        {"id-token", "permission-write-or-none", false}, {"issues", "permission-level-any", false},
        {"models", "permission-read-or-none", false}, {"packages", "permission-level-any", false},
        {"pages", "permission-level-any", false}, {"pull-requests", "permission-level-any", false},
        {"repository-projects", "permission-level-any", false},
        {"security-events", "permission-level-any", false},
        {"statuses", "permission-level-any", false},
        {"vulnerability-alerts", "permission-read-or-none", false}),
    {.name = "permission-level-any", .kind = D_ALLOWED, .list = L("read", "write", "none")},
    {.name = "permission-read-or-none", .kind = D_ALLOWED, .list = L("read", "none")},
    {.name = "permission-write-or-none", .kind = D_ALLOWED, .list = L("write", "none")},
    CONST("permission-read-all", "read-all"),
    CONST("permission-write-all", "write-all"),

    /* defaults, env, concurrency */
    MAP("workflow-defaults", {"run", "workflow-defaults-run", false}),
    MAP("workflow-defaults-run", {"shell", "shell", false},
        {"working-directory", "non-empty-string", false}),
    LOOSE_CTX("workflow-env", L("github", "inputs", "vars", "secrets"), "non-empty-string",
              "string"),
    ONEOF_CTX("workflow-concurrency", CTX_GIV, "string", "concurrency-mapping"),
    ONEOF_CTX("job-concurrency", CTX_STRATEGY, "non-empty-string", "concurrency-mapping"),
    MAP("concurrency-mapping", {"group", "non-empty-string", true},
        {"cancel-in-progress", "boolean", false}, {"queue", "concurrency-queue", false}),
    {.name = "concurrency-queue", .kind = D_ALLOWED, .list = L("single", "max")},

    /* jobs */
    LOOSE("jobs", "non-empty-string", "job"),
    ONEOF("job", "job-factory", "workflow-job"),
    MAP("job-factory", {"needs", "needs", false}, {"if", "job-if", false},
        {"strategy", "strategy", false}, {"name", "string-strategy-context", false},
        {"runs-on", "runs-on", true}, {"timeout-minutes", "number-strategy-context", false},
        {"cancel-timeout-minutes", "number-strategy-context", false},
        {"continue-on-error", "boolean-strategy-context", false}, {"container", "container", false},
        {"services", "services", false}, {"env", "job-env", false},
        {"environment", "job-environment", false}, {"permissions", "permissions", false},
        {"concurrency", "job-concurrency", false}, {"outputs", "job-outputs", false},
        {"defaults", "job-defaults", false}, {"steps", "steps", false},
        {"snapshot", "snapshot", false}),
    MAP("workflow-job", {"name", "string-strategy-context", false},
        {"uses", "workflow-job-uses", true}, {"with", "workflow-job-with", false},
        {"secrets", "workflow-job-secrets", false}, {"needs", "needs", false},
        {"if", "job-if", false}, {"permissions", "permissions", false},
        {"concurrency", "job-concurrency", false}, {"strategy", "strategy", false}),
    LOOSE("workflow-job-with", "non-empty-string", "scalar-needs-context"),
    ONEOF("workflow-job-secrets", "workflow-job-secrets-mapping", "workflow-job-secrets-inherit"),
    LOOSE("workflow-job-secrets-mapping", "non-empty-string", "scalar-needs-context-secrets"),
    CONST("workflow-job-secrets-inherit", "inherit"),
    ONEOF("needs", "sequence-of-non-empty-string", "non-empty-string"),
    TYPED_CTX("job-if", D_STRING, CTX_JOB_IF),
    MAP_CTX("strategy", CTX_NEEDS, {"fail-fast", "boolean", false},
            {"max-parallel", "number", false}, {"matrix", "matrix", false}),
    {.name = "matrix",
     .kind = D_MAP,
     .props = P({"include", "matrix-filter", false}, {"exclude", "matrix-filter", false}),
     .loose_key = "non-empty-string",
     .loose_value = "sequence"},
    SEQ("matrix-filter", "matrix-filter-item"),
    LOOSE("matrix-filter-item", "non-empty-string", "any"),
    ONEOF("snapshot", "non-empty-string", "snapshot-mapping"),
    MAP("snapshot-mapping", {"image-name", "non-empty-string", true}, {"if", "snapshot-if", false},
        {"version", "non-empty-string", false}),
    TYPED_CTX("snapshot-if", D_STRING, CTX_STRATEGY),
    ONEOF_CTX("runs-on", CTX_STRATEGY, "non-empty-string", "sequence-of-non-empty-string",
              "runs-on-mapping"),
    MAP("runs-on-mapping", {"group", "non-empty-string", false},
        {"labels", "runs-on-labels", false}),
    ONEOF("runs-on-labels", "non-empty-string", "sequence-of-non-empty-string"),
    LOOSE_CTX("job-env", L("github", "inputs", "vars", "needs", "strategy", "matrix", "secrets"),
              "non-empty-string", "string"),
    ONEOF_CTX("job-environment", CTX_STRATEGY, "string", "job-environment-mapping"),
    MAP("job-environment-mapping", {"name", "job-environment-name", true},
        {"url", "string-runner-context-no-secrets", false}, {"deployment", "boolean", false}),
    TYPED_CTX("job-environment-name", D_STRING, CTX_STRATEGY),
    MAP("job-defaults", {"run", "job-defaults-run", false}),
    MAP_CTX("job-defaults-run", L("github", "inputs", "vars", "strategy", "matrix", "needs", "env"),
            {"shell", "non-empty-string", false}, {"working-directory", "non-empty-string", false}),
    LOOSE("job-outputs", "non-empty-string", "string-runner-context"),

    /* steps */
    SEQ("steps", "steps-item"),
    ONEOF("steps-item", "run-step", "regular-step", "wait-step", "wait-all-step", "cancel-step"),
    MAP("run-step", {"name", "step-name", false}, {"id", "non-empty-string", false},
        {"if", "step-if", false}, {"timeout-minutes", "step-timeout-minutes", false},
        {"run", "string-steps-context", true},
        {"continue-on-error", "step-continue-on-error", false}, {"env", "step-env", false},
        {"working-directory", "string-steps-context", false}, {"shell", "shell", false},
        {"background", "boolean", false}),
    MAP("regular-step", {"name", "step-name", false}, {"id", "non-empty-string", false},
        {"if", "step-if", false}, {"continue-on-error", "step-continue-on-error", false},
        {"timeout-minutes", "step-timeout-minutes", false}, {"uses", "non-empty-string", true},
        {"with", "step-with", false}, {"env", "step-env", false}, {"background", "boolean", false}),
    MAP("wait-step", {"name", "step-name", false}, {"id", "non-empty-string", false},
        {"continue-on-error", "step-continue-on-error", false}, {"wait", "step-wait-target", true}),
    MAP("wait-all-step", {"name", "step-name", false}, {"id", "non-empty-string", false},
        {"continue-on-error", "step-continue-on-error", false},
        {"wait-all", "step-wait-all-value", true}),
    MAP("cancel-step", {"name", "step-name", false}, {"id", "non-empty-string", false},
        {"continue-on-error", "step-continue-on-error", false},
        {"cancel", "non-empty-string", true}),
    ONEOF("step-wait-target", "non-empty-string", "sequence-of-non-empty-string"),
    ONEOF("step-wait-all-value", "null", "boolean"),
    TYPED_CTX("step-continue-on-error", D_BOOL, CTX_STEPS),
    TYPED_CTX("step-if", D_STRING, CTX_STEP_IF),
    LOOSE_CTX("step-env", CTX_STEPS, "non-empty-string", "string"),
    TYPED_CTX("step-name", D_STRING, CTX_STEPS),
    TYPED_CTX("step-timeout-minutes", D_NUMBER, CTX_STEPS),
    LOOSE_CTX("step-with", CTX_STEPS, "non-empty-string", "string"),

    /* containers */
    ONEOF_CTX("container", CTX_STRATEGY, "string", "container-mapping"),
    MAP("container-mapping", {"image", "non-empty-string", false}, {"options", "string", false},
        {"env", "container-env", false}, {"ports", "sequence-of-non-empty-string", false},
        {"volumes", "sequence-of-non-empty-string", false},
        {"credentials", "container-registry-credentials", false}),
    LOOSE_CTX("services", CTX_STRATEGY, "non-empty-string", "services-container"),
    ONEOF_CTX("services-container", CTX_STRATEGY, "non-empty-string", "service-container-mapping"),
    MAP("service-container-mapping", {"image", "non-empty-string", false},
        {"options", "string", false}, {"env", "container-env", false},
        {"ports", "sequence-of-non-empty-string", false},
        {"volumes", "sequence-of-non-empty-string", false},
        {"credentials", "container-registry-credentials", false}, {"entrypoint", "string", false},
        {"command", "string", false}),
    MAP_CTX("container-registry-credentials", L("github", "inputs", "vars", "secrets", "env"),
            {"username", "non-empty-string", false}, {"password", "non-empty-string", false}),
    LOOSE("container-env", "non-empty-string", "string-runner-context"),

    /* typed values with contexts */
    /* Laxer than GitHub's schema, which allows no expression in `shell` (except job defaults)
     * or a job's `uses`: actionlint and act accept them, and runnel evaluates them when the
     * step or job runs. */
    {.name = "shell", .kind = D_STRING, .non_empty = true, .ctx = CTX_STEPS},
    {.name = "workflow-job-uses", .kind = D_STRING, .non_empty = true, .ctx = CTX_STRATEGY},
    ONEOF_CTX("scalar-needs-context", CTX_STRATEGY, "string", "boolean", "number"),
    ONEOF_CTX("scalar-needs-context-secrets",
              L("github", "inputs", "vars", "needs", "secrets", "strategy", "matrix"), "string",
              "boolean", "number"),
    TYPED_CTX("boolean-strategy-context", D_BOOL, CTX_STRATEGY),
    TYPED_CTX("number-strategy-context", D_NUMBER, CTX_STRATEGY),
    TYPED_CTX("string-strategy-context", D_STRING, CTX_STRATEGY),
    TYPED_CTX("string-runner-context", D_STRING,
              L("github", "inputs", "vars", "needs", "strategy", "matrix", "secrets", "steps",
                "job", "runner", "env")),
    TYPED_CTX("string-runner-context-no-secrets", D_STRING,
              L("github", "inputs", "vars", "needs", "strategy", "matrix", "steps", "job", "runner",
                "env")),
    TYPED_CTX("string-steps-context", D_STRING, CTX_STEPS),

    /* action.yml (our own table; the action metadata schema) */
    MAP("action-root", {"name", "string", false}, {"description", "string", false},
        {"author", "string", false}, {"inputs", "action-inputs", false},
        {"outputs", "action-outputs", false}, {"runs", "action-runs", true},
        {"branding", "mapping", false}),
    LOOSE("action-inputs", "non-empty-string", "action-input"),
    MAP("action-input", {"description", "string", false}, {"required", "action-bool", false},
        {"default", "action-input-default", false}, {"deprecationMessage", "string", false}),
    ONEOF("action-bool", "boolean", "string"),
    ONEOF_CTX("action-input-default", L("github", "strategy", "matrix", "job", "runner", "env"),
              "string", "boolean", "number", "null"),
    LOOSE("action-outputs", "non-empty-string", "action-output"),
    MAP("action-output", {"description", "string", false}, {"value", "action-output-value", false}),
    TYPED_CTX("action-output-value", D_STRING, CTX_ACTION),
    ONEOF("action-runs", "action-runs-node", "action-runs-docker", "action-runs-composite"),
    MAP("action-runs-node", {"using", "non-empty-string", true}, {"main", "non-empty-string", true},
        {"pre", "non-empty-string", false}, {"post", "non-empty-string", false},
        {"pre-if", "string", false}, {"post-if", "string", false}),
    MAP("action-runs-docker", {"using", "non-empty-string", true},
        {"image", "non-empty-string", true}, {"entrypoint", "string", false},
        {"args", "action-docker-args", false}, {"env", "action-docker-env", false},
        {"pre-entrypoint", "string", false}, {"post-entrypoint", "string", false},
        {"pre-if", "string", false}, {"post-if", "string", false}),
    {.name = "action-docker-args", .kind = D_SEQ, .ctx = CTX_ACTION, .item = "string"},
    LOOSE_CTX("action-docker-env", CTX_ACTION, "non-empty-string", "string"),
    MAP("action-runs-composite", {"using", "non-empty-string", true},
        {"steps", "composite-steps", true}),
    SEQ("composite-steps", "composite-step"),
    ONEOF("composite-step", "composite-run-step", "composite-uses-step"),
    MAP_CTX("composite-run-step", CTX_ACTION, {"name", "string", false},
            {"id", "non-empty-string", false}, {"if", "composite-step-if", false},
            {"run", "string", true}, {"shell", "string", false}, {"env", "composite-env", false},
            {"working-directory", "string", false}, {"continue-on-error", "boolean", false},
            {"timeout-minutes", "number", false}),
    MAP_CTX("composite-uses-step", CTX_ACTION, {"name", "string", false},
            {"id", "non-empty-string", false}, {"if", "composite-step-if", false},
            {"uses", "non-empty-string", true}, {"with", "composite-env", false},
            {"env", "composite-env", false}, {"continue-on-error", "boolean", false},
            {"timeout-minutes", "number", false}),
    TYPED_CTX("composite-step-if", D_STRING, CTX_ACTION_IF),
    LOOSE("composite-env", "non-empty-string", "string"),
};

static const def *find_def(const char *name) {
    for (size_t i = 0; i < sizeof defs / sizeof defs[0]; i++)
        if (!strcmp(defs[i].name, name))
            return &defs[i];
    fprintf(stderr, "runnel: internal error: schema type '%s' missing\n", name);
    abort();
}

/* ---- Expression scopes: one per schema context list, built once (thread-safe) ---- */

#define N_DEFS (sizeof defs / sizeof defs[0])
typedef struct scope_entry {
    const char *const *ctx;
    rn_expr_scope scope;
    const char *names[24];
    rn_expr_func funcs[8];
    char fnames[8][32];
} scope_entry;

static scope_entry scopes[N_DEFS];
static size_t n_scopes;
static pthread_once_t scopes_once = PTHREAD_ONCE_INIT;

static void build_scope(scope_entry *e, const char *const *ctx) {
    e->ctx = ctx;
    size_t nn = 0, nf = 0;
    for (size_t i = 0; ctx[i]; i++) {
        const char *paren = strchr(ctx[i], '(');
        if (!paren) {
            if (nn < 24)
                e->names[nn++] = ctx[i];
            continue;
        }
        size_t len = (size_t)(paren - ctx[i]);
        if (nf == 8 || len >= 32)
            continue;
        memcpy(e->fnames[nf], ctx[i], len);
        e->fnames[nf][len] = 0;
        int lo = atoi(paren + 1);
        const char *comma = strchr(paren, ',');
        int hi = comma && !strncmp(comma + 1, "MAX", 3) ? INT_MAX : comma ? atoi(comma + 1) : lo;
        e->funcs[nf] = (rn_expr_func){e->fnames[nf], lo, hi};
        nf++;
    }
    e->scope = (rn_expr_scope){e->names, nn, e->funcs, nf};
}

static void build_scopes(void) {
    for (size_t i = 0; i < N_DEFS; i++)
        if (defs[i].ctx)
            build_scope(&scopes[n_scopes++], defs[i].ctx);
}

static const rn_expr_scope *scope_for(const char *const *ctx) {
    pthread_once(&scopes_once, build_scopes);
    for (size_t i = 0; i < n_scopes; i++)
        if (scopes[i].ctx == ctx)
            return &scopes[i].scope;
    fprintf(stderr, "runnel: internal error: context list without a scope\n");
    abort();
}

const rn_expr_scope *rn_validate_scope(rn_scope_id id) {
    return scope_for(find_def(id == RN_SCOPE_JOB_IF ? "job-if" : "step-if")->ctx);
}

/* ---- Template scanning ---- */

#define MAX_EXPR_LEN 21000

typedef enum tmpl_result { T_LITERAL, T_EXPRESSION, T_INSERT, T_ERROR } tmpl_result;

/* Finds the "}}" closing an expression that starts at p, skipping '...' string literals. */
static const char *find_close(const char *p) {
    bool in_str = false;
    for (; *p; p++) {
        if (*p == '\'')
            in_str = !in_str;
        else if (!in_str && p[0] == '}' && p[1] == '}')
            return p;
    }
    return NULL;
}

static char *trim_dup(const char *s, size_t n) {
    while (n && (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r'))
        s++, n--;
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\n' || s[n - 1] == '\r'))
        n--;
    return rn_xstrndup(s, n);
}

typedef struct reader {
    rn_diags *diags;
    bool action; /* action.yml: different insert rules do not matter, kept for messages */
} reader;

static void err_at(reader *r, const rn_ynode *n, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void err_at(reader *r, const rn_ynode *n, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    rn_diag_vadd(r->diags, n->file, n->line, n->col, fmt, ap);
    va_end(ap);
}

/* Parses the ${{ }} segments of a scalar. Returns T_LITERAL when there are none, T_EXPRESSION
 * when all parse, T_INSERT for exactly "${{ insert }}" (is_key allows it), T_ERROR after
 * reporting. */
static tmpl_result scan_template(reader *r, const rn_ynode *n, const char *const *ctx,
                                 bool is_key) {
    if (n->kind != RN_Y_SCALAR || n->type != RN_YS_STRING || !strstr(n->str, "${{"))
        return T_LITERAL;
    if (!ctx) {
        err_at(r, n, "A template expression is not allowed in this context");
        return T_ERROR;
    }
    if (n->len > MAX_EXPR_LEN) {
        err_at(r, n, "Exceeded max expression length %d", MAX_EXPR_LEN);
        return T_ERROR;
    }
    const rn_expr_scope *scope = scope_for(ctx);
    const char *p = n->str;
    bool failed = false;
    /* Directives need the whole value to be one expression. */
    const char *wc = !strncmp(p, "${{", 3) ? find_close(p + 3) : NULL;
    bool whole = wc && !wc[2];
    const char *first;
    while ((first = strstr(p, "${{"))) {
        const char *start = first + 3;
        const char *close = find_close(start);
        if (!close) {
            err_at(r, n,
                   "The expression is not closed. An unescaped ${{ sequence was found, but the "
                   "closing }} sequence was not found.");
            return T_ERROR;
        }
        p = close + 2;
        char *expr = trim_dup(start, (size_t)(close - start));
        if (!*expr) {
            err_at(r, n, "An expression was expected");
            failed = true;
        } else if (!strcasecmp(expr, "insert")) {
            if (whole) {
                free(expr);
                if (is_key)
                    return T_INSERT;
                err_at(r, n, "The directive 'insert' is not allowed in this context.");
                return T_ERROR;
            }
            err_at(r, n,
                   "The directive 'insert' is not allowed in this context. Directives are not "
                   "supported for expressions that are embedded within a string. Directives are "
                   "only supported when the entire value is an expression.");
            failed = true;
        } else {
            rn_expr_error e = {0};
            rn_expr *tree = rn_expr_parse(expr, scope, &e);
            if (!tree) {
                err_at(r, n, "%s", e.message);
                failed = true;
            }
            rn_expr_free(tree);
        }
        free(expr);
    }
    return failed ? T_ERROR : T_EXPRESSION;
}

/* ---- The reader ---- */

#define MAX_CANDS 16

static void flatten(const def *d, const def **out, size_t *n) {
    if (d->kind == D_ONEOF) {
        for (size_t i = 0; d->list[i]; i++)
            flatten(find_def(d->list[i]), out, n);
    } else if (*n < MAX_CANDS) {
        out[(*n)++] = d;
    }
}

static void read_value(reader *r, const def *d, const rn_ynode *n, const char *const *ctx,
                       int depth);

static bool string_matches(const def *d, const char *s) {
    if (d->kind == D_ANY)
        return true;
    if (d->kind == D_ALLOWED) {
        for (size_t i = 0; d->list[i]; i++)
            if (!strcmp(d->list[i], s))
                return true;
        return false;
    }
    if (d->kind != D_STRING)
        return false;
    if (d->constant)
        return !strcmp(d->constant, s);
    return !d->non_empty || *s;
}

static bool literal_matches(const def *d, const rn_ynode *n) {
    switch (d->kind) {
    case D_ANY:
        return true;
    case D_NULL:
        return n->type == RN_YS_NULL;
    case D_BOOL:
        return n->type == RN_YS_BOOL;
    case D_NUMBER:
        return n->type == RN_YS_NUMBER;
    case D_STRING:
    case D_ALLOWED:
        return n->type == RN_YS_STRING && string_matches(d, n->str);
    default:
        return false;
    }
}

static void read_scalar(reader *r, const def **cands, size_t nc, const rn_ynode *n,
                        const char *const *ctx) {
    tmpl_result t = scan_template(r, n, ctx, false);
    if (t == T_EXPRESSION)
        return; /* an expression stands for any type; checked when evaluated */
    if (t == T_ERROR && !ctx)
        return;
    for (size_t i = 0; i < nc; i++)
        if (literal_matches(cands[i], n))
            return;
    /* A non-string literal is accepted where a string is (GitHub coerces it). */
    if (n->type != RN_YS_STRING) {
        const char *s = rn_yaml_scalar_text(n);
        for (size_t i = 0; i < nc; i++)
            if (string_matches(cands[i], s) && cands[i]->kind != D_ANY)
                return;
    }
    err_at(r, n, "Unexpected value '%s'", n->type == RN_YS_NULL ? "" : n->str);
}

static int ci_cmp(const void *a, const void *b) {
    return strcasecmp(*(const char *const *)a, *(const char *const *)b);
}

static const prop *find_prop(const def *d, const char *key) {
    if (!d->props)
        return NULL;
    for (const prop *p = d->props; p->key; p++)
        if (!strcmp(p->key, key))
            return p;
    return NULL;
}

/* Reads a value of "any" type: only expressions are checked. */
static void read_any(reader *r, const rn_ynode *n, const char *const *ctx, int depth) {
    read_value(r, find_def("any"), n, ctx, depth);
}

static void read_mapping(reader *r, const def **cands, size_t nc, const rn_ynode *n,
                         const char *const *ctx, int depth) {
    const def *live[MAX_CANDS];
    memcpy(live, cands, nc * sizeof *cands);
    const char **seen = rn_xcalloc(n->n + 1, sizeof *seen);
    size_t n_seen = 0;
    for (size_t i = 0; i < n->n; i++) {
        const rn_ynode *k = n->pairs[i].key, *v = n->pairs[i].value;
        if (k->kind != RN_Y_SCALAR) {
            err_at(r, k,
                   k->kind == RN_Y_MAP ? "A mapping was not expected"
                                       : "A sequence was not expected");
            continue;
        }
        tmpl_result t = scan_template(r, k, ctx, true);
        if (t == T_INSERT || t == T_EXPRESSION) {
            read_any(r, v, ctx, depth + 1);
            continue;
        }
        if (t == T_ERROR)
            continue;
        const char *key = k->type == RN_YS_NULL ? "" : k->str;
        bool dup = false;
        for (size_t j = 0; j < n_seen; j++)
            if (!strcasecmp(seen[j], key))
                dup = true;
        if (dup) {
            err_at(r, k, "'%s' is already defined", key);
            continue;
        }
        seen[n_seen++] = key;
        /* Narrow the candidates to those that know this key. */
        const prop *p = NULL;
        const def *owner = NULL;
        size_t keep = 0;
        for (size_t c = 0; c < nc; c++) {
            const prop *cp = find_prop(live[c], key);
            if (cp) {
                if (!p) {
                    p = cp;
                    owner = live[c];
                }
                live[keep++] = live[c];
            }
        }
        if (p) {
            nc = keep;
            /* A candidate's own context applies inside it (e.g. job-defaults-run). */
            read_value(r, find_def(p->type), v, owner->ctx ? owner->ctx : ctx, depth + 1);
            continue;
        }
        const def *loose = NULL;
        for (size_t c = 0; c < nc && !loose; c++)
            if (live[c]->loose_key)
                loose = live[c];
        if (loose) {
            const char *const *lctx = loose->ctx ? loose->ctx : ctx;
            read_value(r, find_def(loose->loose_key), k, lctx, depth + 1);
            read_value(r, find_def(loose->loose_value), v, lctx, depth + 1);
            continue;
        }
        err_at(r, k, "Unexpected value '%s'", key);
    }
    free(seen);
    if (nc > 1) {
        /* Properties that would tell the candidates apart. */
        const char *names[128];
        size_t nn = 0;
        for (size_t c = 0; c < nc; c++)
            for (const prop *p = live[c]->props; p && p->key; p++) {
                bool everywhere = true, dup = false;
                for (size_t o = 0; o < nc; o++)
                    if (!find_prop(live[o], p->key))
                        everywhere = false;
                for (size_t j = 0; j < nn; j++)
                    if (!strcmp(names[j], p->key))
                        dup = true;
                if (!everywhere && !dup && nn < 128)
                    names[nn++] = p->key;
            }
        qsort(names, nn, sizeof *names, ci_cmp);
        rn_sb sb = RN_SB_INIT;
        for (size_t j = 0; j < nn; j++)
            rn_sb_printf(&sb, "%s%s", j ? ", " : "", names[j]);
        err_at(r, n,
               "There's not enough info to determine what you meant. Add one of these "
               "properties: %s",
               rn_sb_str(&sb));
        rn_sb_free(&sb);
        return;
    }
    for (const prop *p = live[0]->props; p && p->key; p++) {
        if (!p->required)
            continue;
        bool found = false;
        for (size_t i = 0; i < n->n; i++) {
            const rn_ynode *k = n->pairs[i].key;
            if (k->kind == RN_Y_SCALAR && !strcmp(k->str, p->key))
                found = true;
        }
        if (!found)
            err_at(r, n, "Required property is missing: %s", p->key);
    }
}

#define MAX_READ_DEPTH 150

static void read_value(reader *r, const def *d, const rn_ynode *n, const char *const *ctx,
                       int depth) {
    if (depth > MAX_READ_DEPTH) {
        err_at(r, n, "Maximum object depth exceeded");
        return;
    }
    if (d->ctx)
        ctx = d->ctx;
    const def *cands[MAX_CANDS];
    size_t nc = 0;
    flatten(d, cands, &nc);
    bool any = false;
    for (size_t i = 0; i < nc; i++)
        if (cands[i]->kind == D_ANY)
            any = true;
    if (n->kind == RN_Y_SCALAR) {
        read_scalar(r, cands, nc, n, ctx);
        return;
    }
    if (n->kind == RN_Y_SEQ) {
        const def *seq = NULL;
        for (size_t i = 0; i < nc && !seq; i++)
            if (cands[i]->kind == D_SEQ)
                seq = cands[i];
        if (!seq && !any) {
            err_at(r, n, "A sequence was not expected");
            return;
        }
        const def *item = seq ? find_def(seq->item) : find_def("any");
        const char *const *ictx = seq && seq->ctx ? seq->ctx : ctx;
        for (size_t i = 0; i < n->n; i++)
            read_value(r, item, n->items[i], ictx, depth + 1);
        return;
    }
    const def *maps[MAX_CANDS];
    size_t nm = 0;
    for (size_t i = 0; i < nc; i++)
        if (cands[i]->kind == D_MAP)
            maps[nm++] = cands[i];
    if (!nm && any)
        maps[nm++] = find_def("mapping");
    if (!nm) {
        err_at(r, n, "A mapping was not expected");
        return;
    }
    read_mapping(r, maps, nm, n, ctx, depth);
}

void rn_validate_schema(const rn_ynode *root, rn_diags *diags) {
    reader r = {diags, false};
    read_value(&r, find_def("workflow-root"), root, NULL, 0);
}

void rn_validate_action_schema(const rn_ynode *root, rn_diags *diags) {
    reader r = {diags, true};
    read_value(&r, find_def("action-root"), root, NULL, 0);
}
