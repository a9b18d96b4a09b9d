/* The GitHub cache service on loopback, for unmodified JavaScript actions (actions/cache,
 * setup-* with cache:) that talk to it through @actions/cache. Backed by an rn_cache_store.
 *
 * Served on http://127.0.0.1:<ephemeral port>/ with libmicrohttpd:
 *  - v2 (Twirp, JSON): POST /twirp/github.actions.results.api.v1.CacheService/
 *      CreateCacheEntry {key, version} -> {ok, signed_upload_url}
 *      FinalizeCacheEntryUpload {key, version, size_bytes} -> {ok, entry_id}
 *      GetCacheEntryDownloadURL {key, restore_keys, version} -> {ok, signed_download_url,
 *      matched_key}
 *    uploads go to the signed URL Azure-blob style: one PUT (x-ms-blob-type: BlockBlob), or
 *    PUT ?comp=block&blockid=ID per block then PUT ?comp=blocklist (XML) to commit.
 *  - v1 (REST): GET _apis/artifactcache/cache?keys=a,b&version=V (200 JSON or 204),
 *    POST _apis/artifactcache/caches {key, version, cacheSize} -> 201 {cacheId} (409 taken),
 *    PATCH _apis/artifactcache/caches/ID (Content-Range: bytes a-b/ *) -> 204,
 *    POST _apis/artifactcache/caches/ID {size} -> 204.
 *  - downloads: GET of the signed URL, with Range support.
 * API calls need `Authorization: Bearer <token>` (401 otherwise); signed URLs carry a
 * signature derived from the token (403 otherwise).
 *
 * Ownership: the server borrows the store (keep it open until stop); *url is malloc'ed.
 * Owner: caching engineer. */
#ifndef RN_ACTIONS_CACHE_SERVER_H
#define RN_ACTIONS_CACHE_SERVER_H

#include "actions/cache_store.h"

#include <jansson.h>

typedef struct rn_cache_server rn_cache_server;

/* Starts serving; *url is "http://127.0.0.1:PORT/". Returns NULL with *err on failure. */
rn_cache_server *rn_cache_server_start(rn_cache_store *store, const char *token, char **url,
                                       char **err);
/* The port of http://127.0.0.1:PORT/. */
unsigned rn_cache_server_port(const rn_cache_server *s);
/* Serves the same service, with the same token and store, on another listening socket too (one
 * made in a container's private network namespace: rn_netns_listen_tcp()). Takes fd (closed at
 * stop, or now on failure). Returns 0, or -1 with *err set (caller frees). */
int rn_cache_server_serve_socket(rn_cache_server *s, int fd, char **err);
/* The scopes lookups search, in order; saves go to the first (default "local@refs/heads/main").
 * Call before any request (rn_cache_job_scopes() gives a job's). */
void rn_cache_server_set_scopes(rn_cache_server *s, const char *const *scopes, size_t n);
/* Sets ACTIONS_CACHE_URL, ACTIONS_RESULTS_URL, ACTIONS_RUNTIME_TOKEN and
 * ACTIONS_CACHE_SERVICE_V2 in env (a JSON object of strings). */
void rn_cache_server_env(const rn_cache_server *s, json_t *env);
void rn_cache_server_stop(rn_cache_server *s);

#endif
