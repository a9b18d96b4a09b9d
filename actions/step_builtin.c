/* Built-in actions: `uses:` names runnel serves itself instead of fetching them.
 * Add an entry to `builtins` to serve another one (cache, setup-java, runnel/coverage, ...). */
#include "actions/step.h"
#include "actions/cache_action.h" /* actions/cache, setup-java: caching engineer */
#include "actions/setup_java.h"
#include "actions/verify.h" /* runnel/verify: verify engineer */

#include <string.h>
#include <strings.h>

/* actions/checkout of the repository being run: the workspace already is the repository, so
 * there is nothing to fetch. A later engineer replaces this with a copy of the working tree
 * (honouring .gitignore) and fetches for other repositories. */
static rn_step_status checkout_noop(rn_job *j, const char *uses, json_t *with, json_t *outputs) {
    (void)outputs;
    const char *repo = json_string_value(json_object_get(with, "repository"));
    json_t *gh = json_object_get(j->contexts, "github");
    const char *self = json_string_value(json_object_get(gh, "repository"));
    if (repo && *repo && (!self || strcasecmp(repo, self))) {
        rn_job_log(j, RN_LOG_ERROR, "%s: checking out another repository (%s) is not supported yet",
                   uses, repo);
        return RN_STEP_STATUS_FAILURE;
    }
    rn_job_log(j, RN_LOG_INFO, "%s: the workspace is the repository itself (%s); nothing to fetch",
               uses, j->paths.workspace);
    return RN_STEP_STATUS_SUCCESS;
}

static const struct {
    const char *name; /* owner/repo, compared case-insensitively */
    rn_builtin_fn fn;
} builtins[] = {
    {"actions/checkout", checkout_noop},
    {"actions/cache", rn_cache_action},
    {"actions/cache/restore", rn_cache_action},
    {"actions/cache/save", rn_cache_action},
    {"actions/setup-java", rn_setup_java_action},
    {"runnel/verify", rn_verify_builtin},
};

rn_builtin_fn rn_step_builtin(const char *uses) {
    const char *at = strchr(uses, '@');
    size_t n = at ? (size_t)(at - uses) : strlen(uses);
    for (size_t i = 0; i < sizeof builtins / sizeof *builtins; i++)
        if (strlen(builtins[i].name) == n && !strncasecmp(builtins[i].name, uses, n))
            return builtins[i].fn;
    return NULL;
}
