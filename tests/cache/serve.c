/* tests/cache/serve STORE TOKEN: serves the cache service on 127.0.0.1 for a test client;
 * prints the URL, then runs until stdin closes. */
#include "actions/cache_server.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: serve STORE TOKEN\n");
        return 2;
    }
    char *err = NULL, *url = NULL;
    rn_cache_store *s = rn_cache_store_open(argv[1], 0, &err);
    rn_cache_server *srv = s ? rn_cache_server_start(s, argv[2], &url, &err) : NULL;
    if (!srv) {
        fprintf(stderr, "serve: %s\n", err);
        return 1;
    }
    printf("%s\n", url);
    fflush(stdout);
    char buf[64];
    while (read(0, buf, sizeof buf) > 0)
        ;
    rn_cache_server_stop(srv);
    rn_cache_store_close(s);
    free(url);
    return 0;
}
