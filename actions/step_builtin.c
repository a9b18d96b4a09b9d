/* Built-in actions: `uses:` names runnel serves itself instead of fetching them.
 * Add an entry to `builtins` to serve another one (cache, setup-java, runnel/coverage, ...). */
#include "actions/step.h"

#include "actions/cache_action.h"
#include "actions/checkout.h"
#include "actions/coverage_action.h"
#include "actions/setup_java.h"
#include "actions/verify.h"

#include <string.h>
#include <strings.h>

static const struct {
    const char *name; /* owner/repo, compared case-insensitively */
    rn_builtin_fn fn;
} builtins[] = {
    /* clang-format off */
    {"actions/checkout", rn_checkout_action},
    {"actions/cache", rn_cache_action},
    {"actions/cache/restore", rn_cache_action},
    {"actions/cache/save", rn_cache_action},
    {"actions/setup-java", rn_setup_java_action},
    {"runnel/coverage", rn_coverage_action},
    {"runnel/verify", rn_verify_builtin},
    /* clang-format on */
};

rn_builtin_fn rn_step_builtin(const char *uses) {
    const char *at = strchr(uses, '@');
    size_t n = at ? (size_t)(at - uses) : strlen(uses);
    for (size_t i = 0; i < sizeof builtins / sizeof *builtins; i++)
        if (strlen(builtins[i].name) == n && !strncasecmp(builtins[i].name, uses, n))
            return builtins[i].fn;
    return NULL;
}
