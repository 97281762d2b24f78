/* commands.h — the command table's entries (git's git.c model).
 * Each command lives in harness/cli/cmd_<name>.c and returns a process exit code (enum fe_exit).
 * argv[0] is the command name. Its usage text is printed by `fteval help NAME` and `NAME --help`.
 */
#ifndef FE_COMMANDS_H
#define FE_COMMANDS_H

int fe_cmd_run(int argc, char **argv);
int fe_cmd_score(int argc, char **argv);
int fe_cmd_compare(int argc, char **argv);
int fe_cmd_report(int argc, char **argv);
int fe_cmd_data(int argc, char **argv);
int fe_cmd_ft(int argc, char **argv);
int fe_cmd_sim(int argc, char **argv);
int fe_cmd_history(int argc, char **argv);

extern const char fe_usage_run[];
extern const char fe_usage_score[];
extern const char fe_usage_compare[];
extern const char fe_usage_report[];
extern const char fe_usage_data[];
extern const char fe_usage_ft[];
extern const char fe_usage_sim[];
extern const char fe_usage_history[];

/* Shared by commands: prints "fteval: error: <msg>" and a hint to stderr; returns FE_EXIT_USAGE. */
int fe_usage_error(const char *command, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* True when argv has --help or -h (commands check it before parsing). */
int fe_wants_help(int argc, char **argv);

#endif
