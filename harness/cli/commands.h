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
int fe_cmd_distill(int argc, char **argv);

/* fteval distill's teacher run (cmd_run.c): the config's teacher arm over unlabeled inputs through
 * run's own path (resume, cache, budget, batch, progress), records in run_dir, no summary. */
struct fe_distill_run {
    const char *config, *teacher, *inputs, *run_dir;
    bool resume, cache, batch, quiet;
};
struct fe_runner_result;
/* Returns run's exit code (4: stopped before the end — budget, interrupt, quota); *res is filled. */
int fe_run_distill_teacher(const struct fe_distill_run *d, struct fe_runner_result *res);

#endif
