#include "actions/policy_job.h"

#include "actions/verify.h"

#include <string.h>

/* The rule's report as output; a failure ends with one error line naming the gate. */
static void log_block(rn_job *j, const char *gate, const char *job_id, const char *text,
                      bool failed) {
    rn_job_log(j, RN_LOG_GROUP, "Runner policy: %s", gate);
    while (*text) {
        const char *nl = strchrnul(text, '\n');
        rn_job_log(j, RN_LOG_OUTPUT, "%.*s", (int)(nl - text), text);
        text = *nl ? nl + 1 : nl;
    }
    rn_job_log(j, RN_LOG_ENDGROUP, "%s", "");
    if (failed)
        rn_job_log(j, RN_LOG_ERROR, "the runner policy's %s gate failed for job '%s'", gate,
                   job_id);
}

rn_policy_status rn_policy_run_job(const rn_policy *p, rn_job *j, const char *job_id,
                                   time_t since) {
    if (!p)
        return RN_POLICY_NONE;
    rn_sb out = RN_SB_INIT;
    rn_policy_status cov = rn_policy_jobs_coverage(p, job_id, j->paths.workspace, since, &out);
    if (cov != RN_POLICY_NONE)
        log_block(j, "coverage", job_id, rn_sb_str(&out), cov == RN_POLICY_FAIL);
    if (cov == RN_POLICY_FAIL) {
        rn_sb_free(&out);
        return RN_POLICY_FAIL;
    }
    rn_sb_clear(&out);
    rn_verify_io io;
    char **envp = rn_verify_job_io(j, &io);
    rn_policy_status ver = rn_policy_jobs_verify(p, job_id, &io, &out);
    rn_verify_job_io_free(envp);
    if (ver != RN_POLICY_NONE)
        log_block(j, "verify", job_id, rn_sb_str(&out), ver == RN_POLICY_FAIL);
    rn_sb_free(&out);
    if (ver == RN_POLICY_FAIL)
        return RN_POLICY_FAIL;
    return cov == RN_POLICY_PASS || ver == RN_POLICY_PASS ? RN_POLICY_PASS : RN_POLICY_NONE;
}
