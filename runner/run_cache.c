#include "runner/run_cache.h"

#include "actions/cache_action.h"
#include "actions/cache_server.h"
#include "actions/cache_store.h"
#include "sandbox/net.h"

#include <openssl/rand.h>
#include <stdlib.h>
#include <string.h>

struct rn_job_cache_srv {
    rn_cache_store *store;
    rn_cache_server *server;
};

/* Actions that may be JavaScript: anything `uses:` names that runnel does not serve itself. */
static bool needs_service(const rn_wf_job *wj) {
    for (size_t i = 0; i < wj->n_steps; i++) {
        const char *u = wj->steps[i].uses.s;
        if (u && strncmp(u, "docker://", 9) && !rn_step_builtin(u))
            return true;
    }
    return false;
}

rn_job_cache_srv *rn_job_cache_serve(rn_job *j, const rn_wf_job *wj, pid_t netns_pid) {
    if (!needs_service(wj))
        return NULL;
    unsigned char raw[24];
    char token[2 * sizeof raw + 1];
    if (RAND_bytes(raw, sizeof raw) != 1) {
        rn_job_log(j, RN_LOG_WARNING, "cache service: no random token; running without it");
        return NULL;
    }
    for (size_t i = 0; i < sizeof raw; i++)
        snprintf(token + 2 * i, 3, "%02x", raw[i]);
    char *err = NULL, *url = NULL;
    rn_job_cache_srv *s = rn_xcalloc(1, sizeof *s);
    s->store = rn_cache_store_open(NULL, 0, &err);
    if (s->store)
        s->server = rn_cache_server_start(s->store, token, &url, &err);
    if (!s->server) {
        rn_job_log(j, RN_LOG_WARNING, "cache service unavailable: %s", err ? err : "?");
        free(err);
        rn_job_cache_stop(s);
        return NULL;
    }
    free(url);
    if (netns_pid > 0) { /* the same 127.0.0.1:PORT inside the job's private network */
        int fd =
            rn_netns_listen_tcp(netns_pid, (unsigned short)rn_cache_server_port(s->server), &err);
        if (fd < 0 || rn_cache_server_serve_socket(s->server, fd, &err) != 0) {
            rn_job_log(j, RN_LOG_WARNING, "cache service unavailable in the job's network: %s",
                       err);
            free(err);
            err = NULL;
        }
    }
    rn_strlist scopes = RN_STRLIST_INIT;
    rn_cache_job_scopes(j, &scopes);
    rn_cache_server_set_scopes(s->server, (const char *const *)scopes.items, scopes.count);
    rn_strlist_free(&scopes);
    rn_cache_server_env(s->server, j->base_env);
    return s;
}

void rn_job_cache_stop(rn_job_cache_srv *s) {
    if (!s)
        return;
    if (s->server)
        rn_cache_server_stop(s->server);
    if (s->store)
        rn_cache_store_close(s->store);
    free(s);
}
