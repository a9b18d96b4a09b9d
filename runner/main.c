#include "runner/commands.h"

#include <stdio.h>
#include <string.h>

#ifndef RUNNEL_VERSION
#define RUNNEL_VERSION "dev"
#endif

typedef struct command {
    const char *name;
    int (*fn)(int argc, char **argv);
    const char *summary;
} command;

static const command commands[] = {
    {"validate", rn_cmd_validate, "check workflow files; print every error as FILE:LINE:COL"},
    {"list", rn_cmd_list, "list the jobs an event triggers, matrix expanded, in run order"},
    {"graph", rn_cmd_graph, "draw the job graph (text, or --dot)"},
    {"run", rn_cmd_run, "run workflows on this machine with GitHub's semantics"},
    {"eval", rn_cmd_eval, "evaluate ${{ }} expressions (one, or --jsonl from stdin)"},
    {"coverage", rn_cmd_coverage, "gate JaCoCo, Cobertura or LCOV coverage on a minimum"},
    {"verify", rn_cmd_verify, "smoke-test a deployment with HTTP and script probes"},
    {"image", rn_cmd_image, "pull, import, list, inspect and prune OCI images"},
    {"cache", rn_cmd_cache, "list, remove and prune the local actions/cache store"},
    {"sandbox", rn_cmd_sandbox, "run a command in a container (sandbox exec -- CMD)"},
};

static void usage(FILE *out) {
    fprintf(out, "usage: runnel COMMAND [ARGS]\n\ncommands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(out, "  %-10s %s\n", commands[i].name, commands[i].summary);
    fprintf(out, "\nrunnel COMMAND --help shows a command's options.\n");
}

int main(int argc, char **argv) {
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    const char *name = argv[1];
    if (!strcmp(name, "-h") || !strcmp(name, "--help") || !strcmp(name, "help")) {
        usage(stdout);
        return 0;
    }
    if (!strcmp(name, "--version") || !strcmp(name, "version")) {
        printf("runnel %s\n", RUNNEL_VERSION);
        return 0;
    }
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (!strcmp(name, commands[i].name))
            return commands[i].fn(argc - 1, argv + 1);
    fprintf(stderr, "runnel: unknown command '%s'\n", name);
    usage(stderr);
    return 2;
}
