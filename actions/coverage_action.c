#include "actions/coverage_action.h"

#include "actions/coverage.h"
#include "actions/hashfiles.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char *input(json_t *with, const char *name, const char *fallback) {
    const char *v = json_string_value(rn_object_iget(with, name));
    return v && *v ? v : fallback;
}

static void set_ratio(json_t *outputs, const char *name, rn_cov_count c) {
    int64_t t = rn_cov_tenths(c);
    if (t >= 0)
        json_object_set_new(outputs, name,
                            json_sprintf("%lld.%lld", (long long)(t / 10), (long long)(t % 10)));
}

/* The table as plain output; its verdict line ("FAIL: ...") as an error when the gate failed. */
static void log_table(rn_job *j, const char *text, bool failed) {
    const char *p = text;
    while (*p) {
        const char *nl = strchr(p, '\n');
        size_t n = nl ? (size_t)(nl - p) : strlen(p);
        bool verdict = failed && !strncmp(p, "FAIL:", 5);
        rn_job_log(j, verdict ? RN_LOG_ERROR : RN_LOG_OUTPUT, "%.*s", (int)n, p);
        p += n + (nl ? 1 : 0);
    }
}

rn_step_status rn_coverage_action(rn_job *j, const char *uses, json_t *with, json_t *outputs) {
    static const char *const known[] = {"reports", "minimum", "counter", "element"};
    const char *key;
    json_t *v;
    json_object_foreach(with, key, v) {
        bool ok = false;
        for (size_t i = 0; i < sizeof known / sizeof *known; i++)
            ok = ok || !strcasecmp(key, known[i]);
        if (!ok)
            rn_job_log(j, RN_LOG_WARNING,
                       "Unexpected input(s) '%s', valid inputs are ['reports', 'minimum', "
                       "'counter', 'element']",
                       key);
    }

    rn_cov_gate gate = RN_COV_GATE_DEFAULT;
    const char *counter = input(with, "counter", "LINE");
    const char *element = input(with, "element", "BUNDLE");
    const char *minimum = input(with, "minimum", "70");
    if (rn_cov_parse_counter(counter, &gate.counter)) {
        rn_job_log(j, RN_LOG_ERROR, "%s: counter '%s' is not LINE, BRANCH or INSTRUCTION", uses,
                   counter);
        return RN_STEP_STATUS_FAILURE;
    }
    if (rn_cov_parse_element(element, &gate.element)) {
        rn_job_log(j, RN_LOG_ERROR, "%s: element '%s' is not BUNDLE, PACKAGE, CLASS or SOURCEFILE",
                   uses, element);
        return RN_STEP_STATUS_FAILURE;
    }
    if (rn_cov_parse_minimum(minimum, &gate.minimum_milli)) {
        rn_job_log(j, RN_LOG_ERROR, "%s: minimum '%s' is not a percentage between 0 and 100", uses,
                   minimum);
        return RN_STEP_STATUS_FAILURE;
    }

    const char *reports = input(with, "reports", NULL);
    if (!reports) {
        rn_job_log(j, RN_LOG_ERROR, "%s: input 'reports' is required (globs of coverage reports)",
                   uses);
        return RN_STEP_STATUS_FAILURE;
    }
    rn_strlist patterns = RN_STRLIST_INIT, files = RN_STRLIST_INIT, reach = RN_STRLIST_INIT;
    rn_glob_split_lines(reports, &patterns);
    rn_glob_opts gopts = {0};
    char *err = NULL, *outside = NULL;
    rn_step_status status = RN_STEP_STATUS_FAILURE;
    rn_cov_data *data = rn_cov_new();
    rn_diags diags = RN_DIAGS_INIT;
    rn_sb table = RN_SB_INIT;
    /* the reports as runnel reads them: in a container job, through the folders it shares */
    if (rn_job_host_patterns(j, &patterns, &reach, &outside)) {
        rn_job_log(j, RN_LOG_ERROR,
                   "%s: %s is inside the job's container, where runnel cannot read it: put the "
                   "reports in the workspace",
                   uses, outside);
        free(outside);
        goto out;
    }
    if (rn_glob(j->paths.workspace, (const char *const *)reach.items, reach.count, &gopts, &files,
                &err)) {
        rn_job_log(j, RN_LOG_ERROR, "%s: %s", uses, err);
        goto out;
    }
    if (!files.count) {
        /* A missing report is an error, never a pass. */
        rn_job_log(j, RN_LOG_ERROR, "%s: no coverage report matches '%s' under %s", uses, reports,
                   j->paths.workspace);
        goto out;
    }
    for (size_t i = 0; i < files.count; i++) {
        rn_job_log(j, RN_LOG_INFO, "coverage report: %s", files.items[i]);
        rn_cov_add_file(data, files.items[i], &diags);
    }
    int rc = diags.count ? RN_COV_ERROR : rn_cov_gate_eval(data, &gate, &table, &diags);
    for (size_t i = 0; i < diags.count; i++) {
        char *m = rn_diag_format_cli(&diags.items[i]);
        rn_job_log(j, RN_LOG_ERROR, "%s", m);
        free(m);
    }
    if (rc == RN_COV_ERROR)
        goto out;
    log_table(j, rn_sb_str(&table), rc != RN_COV_PASS);
    unsigned have = rn_cov_counters(data);
    static const struct {
        rn_cov_counter c;
        const char *name;
    } outs[] = {
        {RN_COV_LINE, "line"}, {RN_COV_BRANCH, "branch"}, {RN_COV_INSTRUCTION, "instruction"}};
    for (size_t i = 0; i < sizeof outs / sizeof *outs; i++)
        if (have & (1u << outs[i].c))
            set_ratio(outputs, outs[i].name, rn_cov_total(data, outs[i].c));
    set_ratio(outputs, "ratio", rn_cov_total(data, gate.counter));
    json_object_set_new(outputs, "result", json_string(rc == RN_COV_PASS ? "passed" : "failed"));
    status = rc == RN_COV_PASS ? RN_STEP_STATUS_SUCCESS : RN_STEP_STATUS_FAILURE;
out:
    free(err);
    rn_sb_free(&table);
    rn_diags_free(&diags);
    rn_cov_free(data);
    rn_strlist_free(&patterns);
    rn_strlist_free(&files);
    rn_strlist_free(&reach);
    return status;
}
