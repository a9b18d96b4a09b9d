/* Fuzz the environment-file parsers (GITHUB_ENV/OUTPUT/STATE and GITHUB_PATH). */
#include "actions/envfile.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const char *text = (const char *)data;
    rn_envfile f = RN_ENVFILE_INIT;
    rn_diags d = RN_DIAGS_INIT;
    int rc = rn_envfile_parse(text, size, "env", &f, &d);
    if ((rc == 0) != (d.count == 0))
        abort();
    size_t total = 0;
    for (size_t i = 0; i < f.count; i++) {
        if (f.items[i].line < 1 || f.items[i].value[f.items[i].value_len] != 0)
            abort();
        total += f.items[i].value_len;
    }
    if (total > size)
        abort();
    rn_envfile_free(&f);
    rn_diags_free(&d);

    rn_strlist l = RN_STRLIST_INIT;
    rn_pathfile_parse(text, size, &l);
    for (size_t i = 0; i < l.count; i++)
        if (!l.items[i][0] || strchr(l.items[i], '\n') || strchr(l.items[i], '\r'))
            abort();
    free(rn_path_join(&l, "/bin"));
    rn_strlist_free(&l);
    return 0;
}
