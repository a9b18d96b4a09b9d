/* Order statistics of a benchmark's per-round timings, shared by the benchmarks. The arrays are
 * left as they are (in round order, for per-round ratios). */
#ifndef RN_BENCH_STATS_H
#define RN_BENCH_STATS_H

#include "common/arena.h"

#include <stdlib.h>
#include <string.h>

static inline int bench_cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static inline double best(const double *v, int n) {
    double b = v[0];
    for (int i = 1; i < n; i++)
        b = v[i] < b ? v[i] : b;
    return b;
}

static inline double most(const double *v, int n) {
    double b = v[0];
    for (int i = 1; i < n; i++)
        b = v[i] > b ? v[i] : b;
    return b;
}

/* Median of a copy. */
static inline double median(const double *v, int n) {
    double *c = rn_xcalloc((size_t)n, sizeof *c);
    memcpy(c, v, (size_t)n * sizeof *c);
    qsort(c, (size_t)n, sizeof *c, bench_cmp_double);
    double m = n % 2 ? c[n / 2] : (c[n / 2 - 1] + c[n / 2]) / 2;
    free(c);
    return m;
}

#endif
