/* runnel verify: a smoke-test analysis from the command line (the engine of runnel/verify@v1).
 * Prints each measurement as it is taken, then the probe history table and the verdict.
 * Exit 0 when it passes, 1 when it fails, 2 for usage errors and bad probe files. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "actions/verify.h"
#include "runner/commands.h"

extern char **environ;

static void usage(FILE *out) {
    fprintf(out,
            "usage: runnel verify [--url URL]... [--probes FILE] [--script CMD]...\n"
            "                     [--count N] [--interval D] [--initial-delay D]\n"
            "                     [--failure-limit N] [--timeout D] [--request-timeout D]\n"
            "                     [--method M] [--expected-status S] [--header 'NAME: VALUE']...\n"
            "                     [--body-contains TEXT] [--json-field PATH [--json-value V]]\n"
            "                     [--rollback CMD]\n"
            "Probes URLs (HTTP) and scripts (exit 0 passes) COUNT times, INTERVAL apart, and\n"
            "fails when a probe fails more than FAILURE-LIMIT times or TIMEOUT elapses; then\n"
            "runs the rollback command. Durations: 5s, 500ms, 1m, or seconds. --probes FILE is a\n"
            "YAML/JSON list of probes (docs/verify.md). Exit 0 pass, 1 fail, 2 bad input.\n");
}

static void print_log(void *ud, rn_verify_log kind, const char *text) {
    (void)ud, (void)kind;
    printf("%s\n", text);
    fflush(stdout);
}

/* Options taking a value, mapped to the settings of rn_verify_spec_set(). */
static const char *const settings[] = {
    "url",           "script",     "count",           "interval", "initial-delay",
    "failure-limit", "timeout",    "request-timeout", "method",   "expected-status",
    "body-contains", "json-field", "json-value",      "rollback",
};

int rn_cmd_verify(int argc, char **argv) {
    rn_verify_spec s;
    rn_verify_spec_init(&s);
    rn_diags d = RN_DIAGS_INIT;
    rn_sb headers = RN_SB_INIT;
    int rc = 2;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage(stdout);
            rc = 0;
            goto out;
        }
        if (strncmp(a, "--", 2)) {
            fprintf(stderr, "runnel verify: unexpected argument '%s'\n", a);
            goto usage_error;
        }
        const char *name = a + 2, *eq = strchr(name, '=');
        size_t nlen = eq ? (size_t)(eq - name) : strlen(name);
        char *key = strndup(name, nlen);
        bool known = !strcmp(key, "probes") || !strcmp(key, "header");
        for (size_t k = 0; k < sizeof settings / sizeof *settings; k++)
            known |= !strcmp(key, settings[k]);
        if (!known) {
            fprintf(stderr, "runnel verify: unknown option '%s'\n", a);
            free(key);
            goto usage_error;
        }
        const char *v = eq ? eq + 1 : NULL;
        if (!v) {
            if (i + 1 >= argc) {
                fprintf(stderr, "runnel verify: %s needs a value\n", a);
                free(key);
                goto usage_error;
            }
            v = argv[++i];
        }
        if (!strcmp(key, "header")) {
            rn_sb_printf(&headers, "%s\n", v);
        } else if (!strcmp(key, "probes")) {
            size_t len;
            char *text = rn_read_file(v, &len);
            if (!text) {
                fprintf(stderr, "runnel verify: %s: %m\n", v);
                free(key);
                goto out;
            }
            rn_verify_spec_set(&s, "probes", text, v, 0, 0, &d);
            free(text);
        } else {
            rn_diags one = RN_DIAGS_INIT;
            if (rn_verify_spec_set(&s, key, v, NULL, 0, 0, &one))
                for (size_t k = 0; k < one.count; k++)
                    rn_diag_add(&d, NULL, 0, 0, "--%s", one.items[k].message);
            rn_diags_free(&one);
        }
        free(key);
    }
    if (headers.len)
        rn_verify_spec_set(&s, "headers", rn_sb_str(&headers), NULL, 0, 0, &d);
    if (!d.count)
        rn_verify_spec_finish(&s, NULL, 0, 0, &d);
    if (d.count) {
        for (size_t k = 0; k < d.count; k++) {
            char *m = rn_diag_format_cli(&d.items[k]);
            fprintf(stderr, "runnel verify: %s\n", m);
            free(m);
        }
        goto out;
    }

    rn_verify_io io = {print_log, NULL, NULL, NULL, (const char *const *)environ, NULL};
    rn_verify_result r;
    bool ok = rn_verify_run(&s, &io, &r);
    rn_sb table = RN_SB_INIT;
    rn_verify_table(&s, &r, &table);
    fputs(rn_sb_str(&table), stdout);
    rn_sb_free(&table);
    rn_verify_result_free(&r);
    rc = ok ? 0 : 1;
    goto out;

usage_error:
    usage(stderr);
out:
    rn_sb_free(&headers);
    rn_diags_free(&d);
    rn_verify_spec_free(&s);
    return rc;
}
