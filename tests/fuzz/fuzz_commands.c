/* Fuzz the workflow-command parser and processor: the input is split into lines and fed to a
 * processor whose configuration comes from the first byte. */
#include "actions/commands.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size == 0)
        return 0;
    rn_cmd_config cfg;
    rn_cmd_config_default(&cfg);
    cfg.allow_unsecure_commands = data[0] & 1;
    cfg.allow_unsecure_stop_tokens = data[0] & 2;
    cfg.echo = data[0] & 4;
    cfg.warn_deprecated = data[0] & 8;
    cfg.workspace = (data[0] & 16) ? "/ws" : NULL;
    rn_cmd_proc *p = rn_cmd_proc_new(&cfg);
    const char *s = (const char *)data + 1, *end = (const char *)data + size;
    while (s <= end) {
        const char *nl = memchr(s, '\n', (size_t)(end - s));
        size_t n = nl ? (size_t)(nl - s) : (size_t)(end - s);
        const rn_cmd_result *r = rn_cmd_proc_feed(p, s, n);
        for (size_t i = 0; i < r->count; i++) {
            const rn_cmd_action *a = &r->actions[i];
            if (a->text && a->kind != RN_ACT_PRINT && strlen(a->text) != a->text_len)
                abort();
            if (a->kind == RN_ACT_ANNOTATION)
                free(rn_cmd_annotation_log_line(a));
        }
        rn_cmd c;
        if (rn_cmd_parse(s, n, "tok", 0, &c)) {
            for (size_t i = 0; i < c.nprops; i++)
                if (!c.props[i].key[0] || !c.props[i].value[0])
                    abort(); /* empty keys/values are dropped by the split rules */
            rn_cmd_free(&c);
        }
        if (!nl)
            break;
        s = nl + 1;
    }
    rn_cmd_proc_free(p);
    return 0;
}
