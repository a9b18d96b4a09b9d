#include "runner/commands.h"

#include <stdio.h>

/* Placeholder until the command lands; fails loudly so no test can pass on it. */
int rn_cmd_graph(int argc, char **argv) {
    (void)argc;
    (void)argv;
    fprintf(stderr, "runnel graph: not implemented yet\n");
    return 2;
}
