#include "runner/commands.h"

#include <stdio.h>

/* Placeholder until the command lands; fails loudly so no test can pass on it. */
int rn_cmd_list(int argc, char **argv) {
    (void)argc;
    (void)argv;
    fprintf(stderr, "runnel list: not implemented yet\n");
    return 2;
}
