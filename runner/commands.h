/* Subcommands of the runnel binary. Each returns the process exit status (argv is borrowed):
 * 0 success, 1 a failure of what was run or checked, 2 usage or input errors. */
#ifndef RN_COMMANDS_H
#define RN_COMMANDS_H

#include <stdbool.h>

int rn_cmd_eval(int argc, char **argv);
int rn_cmd_validate(int argc, char **argv);
int rn_cmd_list(int argc, char **argv);
int rn_cmd_graph(int argc, char **argv);
int rn_cmd_coverage(int argc, char **argv);
int rn_cmd_verify(int argc, char **argv); /* runner/cmd_verify.c */

/* Shared by list and graph (runner/cmd_list.c): parses [FILE|DIR] [EVENT] from argv[first..],
 * loads and plans every workflow (printing diagnostics, exit 2, when any is bad) and calls
 * fn for each workflow the event triggers, in file-name order. Returns the exit status. */
struct rn_wf_plan;
typedef void (*rn_each_workflow_fn)(void *ud, const struct rn_wf_plan *plan, const char *file,
                                    const char *event, bool first);
int rn_each_triggered_workflow(const char *cmd, int argc, char **argv, int first,
                               rn_each_workflow_fn fn, void *ud);

int rn_cmd_run(int argc, char **argv);
int rn_cmd_sandbox(int argc, char **argv); /* runner/cmd_sandbox.c */
int rn_cmd_cache(int argc, char **argv);   /* runner/cmd_cache.c */
int rn_cmd_image(int argc, char **argv);   /* runner/cmd_image.c */

#endif
