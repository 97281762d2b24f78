/* commands.h — the command table's entries (git's git.c model).
 * Each command lives in harness/cli/cmd_<name>.c and returns a process exit code (enum fe_exit).
 * argv[0] is the command name. `fteval help NAME` and `NAME --help` call the command with
 * --help: its option parser (options.h) prints the help generated from its option table.
 */
#ifndef FE_COMMANDS_H
#define FE_COMMANDS_H

#include "harness/cli/options.h" /* fe_usage_error, fe_parse_options: what every command uses */

int fe_cmd_run(int argc, char **argv);
int fe_cmd_score(int argc, char **argv);
int fe_cmd_compare(int argc, char **argv);
int fe_cmd_report(int argc, char **argv);
int fe_cmd_data(int argc, char **argv);
int fe_cmd_ft(int argc, char **argv);
int fe_cmd_sim(int argc, char **argv);
int fe_cmd_history(int argc, char **argv);
int fe_cmd_merge(int argc, char **argv);
int fe_cmd_rate(int argc, char **argv);

#endif
