/* Coverage reports and the coverage gate (runnel/coverage@v1, `runnel coverage`).
 *
 * Reads JaCoCo XML, Cobertura XML and LCOV tracefiles (the format is detected from the content,
 * never from the file name), sums them into one coverage tree (bundle -> package -> class /
 * source file) and evaluates a gate the way JaCoCo's `check` goal does: for the chosen counter,
 * COVEREDRATIO = covered / (covered + missed) of every element of the chosen kind must be at
 * least the minimum. Pure parsing: no processes, no network.
 *
 * Ownership: an rn_cov_data owns every node and string it hands out; rn_cov_free() releases
 * them. Pointers returned by the accessors stay valid until the next rn_cov_add*() or free. */
#ifndef RN_ACTIONS_COVERAGE_H
#define RN_ACTIONS_COVERAGE_H

#include <stddef.h>
#include <stdint.h>

#include "common/diag.h"
#include "common/strbuf.h"

typedef enum rn_cov_counter {
    RN_COV_INSTRUCTION, /* JaCoCo only */
    RN_COV_BRANCH,
    RN_COV_LINE,
} rn_cov_counter;
#define RN_COV_NCOUNTERS 3

typedef enum rn_cov_element {
    RN_COV_BUNDLE,     /* everything given, merged */
    RN_COV_PACKAGE,    /* JaCoCo/Cobertura package; LCOV: the source file's directory */
    RN_COV_CLASS,      /* JaCoCo/Cobertura class; LCOV: the source file */
    RN_COV_SOURCEFILE, /* source file path (JaCoCo: package path + file name) */
} rn_cov_element;

typedef enum rn_cov_format {
    RN_COV_UNKNOWN,
    RN_COV_JACOCO,
    RN_COV_COBERTURA,
    RN_COV_LCOV,
} rn_cov_format;

typedef struct rn_cov_count {
    uint64_t covered, missed;
} rn_cov_count;

typedef struct rn_cov_node {
    const char
        *name; /* package "com.example", class "com.example.Foo$Bar", file "com/x/Foo.java" */
    const char *package; /* owning package ("" for the default package); the name for packages */
    rn_cov_count c[RN_COV_NCOUNTERS];
} rn_cov_node;

typedef struct rn_cov_data rn_cov_data;

rn_cov_data *rn_cov_new(void);
void rn_cov_free(rn_cov_data *d);

/* What a report looks like, from its first bytes. */
rn_cov_format rn_cov_detect(const char *buf, size_t len);
const char *rn_cov_format_name(rn_cov_format f); /* "JaCoCo", "Cobertura", "LCOV", "unknown" */

/* Parses one report and merges it into d: same-named packages, classes and source files are
 * summed (reports are assumed to measure different code, e.g. one per module). `name` is the
 * path shown in diagnostics. Returns 0, or -1 with at least one diag (FILE:LINE:COL where the
 * report is malformed), leaving d unchanged. */
int rn_cov_add(rn_cov_data *d, const char *name, const char *buf, size_t len, rn_diags *diags);
int rn_cov_add_file(rn_cov_data *d, const char *path, rn_diags *diags);

size_t rn_cov_reports(const rn_cov_data *d);
/* Bit (1 << counter) is set when every report added measures that counter. */
unsigned rn_cov_counters(const rn_cov_data *d);
rn_cov_count rn_cov_total(const rn_cov_data *d, rn_cov_counter c);
/* Nodes of one kind (not BUNDLE), in first-seen order. */
size_t rn_cov_nodes(const rn_cov_data *d, rn_cov_element e);
const rn_cov_node *rn_cov_node_at(const rn_cov_data *d, rn_cov_element e, size_t i);
const rn_cov_node *rn_cov_find(const rn_cov_data *d, rn_cov_element e, const char *name);

/* Gate settings. The minimum is a percentage in thousandths (70.5% is 70500) so that the
 * comparison covered * 100 >= minimum * total is exact integer arithmetic. */
typedef struct rn_cov_gate {
    rn_cov_counter counter;
    rn_cov_element element;
    uint32_t minimum_milli;
} rn_cov_gate;
#define RN_COV_GATE_DEFAULT                                                                        \
    { RN_COV_LINE, RN_COV_BUNDLE, 70000 }

/* Case-insensitive names as in JaCoCo's check rules. 0 on success, -1 if unknown. */
int rn_cov_parse_counter(const char *s, rn_cov_counter *out);
int rn_cov_parse_element(const char *s, rn_cov_element *out);
/* "70", "70.5", "70%" (0 to 100, at most 3 decimals). 0 on success, -1 otherwise. */
int rn_cov_parse_minimum(const char *s, uint32_t *milli);
const char *rn_cov_counter_name(rn_cov_counter c);
const char *rn_cov_element_name(rn_cov_element e);

/* Ratio floored to tenths of a percent (so a failing 69.96% never shows as 70.0%);
 * -1 when the element has no data for the counter. */
int64_t rn_cov_tenths(rn_cov_count c);

enum { RN_COV_PASS = 0, RN_COV_FAIL = 1, RN_COV_ERROR = 2 };
/* Evaluates the gate and appends the result table to out:
 *
 *   coverage gate: LINE >= 70.0% per BUNDLE
 *   ELEMENT  NAME                 RATIO  COVERED  MISSED
 *   bundle   total                96.0%       96       4
 *   package  com.example.webshop  96.0%       96       4
 *   PASS: LINE 96.0% >= 70.0%
 *
 * (the five worst packages, or classes / source files for those elements). Returns RN_COV_PASS,
 * RN_COV_FAIL, or RN_COV_ERROR with a diag when nothing was measured or the counter is not in
 * every report (an empty or unsuitable report never passes). */
int rn_cov_gate_eval(const rn_cov_data *d, const rn_cov_gate *g, rn_sb *out, rn_diags *diags);

#endif
