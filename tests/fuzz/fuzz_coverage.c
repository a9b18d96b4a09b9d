/* Fuzzes the coverage report readers (JaCoCo XML, Cobertura XML, LCOV: the format is detected
 * from the content) and, for reports that parse, every gate evaluation on them. */
#include <stddef.h>
#include <stdint.h>

#include "actions/coverage.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    rn_cov_data *d = rn_cov_new();
    rn_diags diags = RN_DIAGS_INIT;
    if (rn_cov_add(d, "fuzz", (const char *)data, size, &diags) == 0) {
        /* A second copy exercises merging of identical names. */
        rn_cov_add(d, "fuzz", (const char *)data, size, &diags);
        for (int c = 0; c < RN_COV_NCOUNTERS; c++)
            for (int e = RN_COV_BUNDLE; e <= RN_COV_SOURCEFILE; e++) {
                rn_cov_gate g = {(rn_cov_counter)c, (rn_cov_element)e, 70000};
                rn_sb out = RN_SB_INIT;
                rn_cov_gate_eval(d, &g, &out, &diags);
                rn_sb_free(&out);
            }
    }
    rn_diags_free(&diags);
    rn_cov_free(d);
    return 0;
}
