/* Subcommands of the runnel binary. Each returns the process exit status:
 * 0 success, 1 a failure of what was run or checked, 2 usage or input errors. */
#ifndef RN_COMMANDS_H
#define RN_COMMANDS_H

int rn_cmd_eval(int argc, char **argv);
int rn_cmd_validate(int argc, char **argv);
int rn_cmd_list(int argc, char **argv);
int rn_cmd_graph(int argc, char **argv);

#endif
