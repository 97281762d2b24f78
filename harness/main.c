/* main.c — fteval's entry point: global initialisation, the global options and the command
 * table. The commands and the option parser they share live in harness/cli/ (docs/cli.md). */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#ifdef __GLIBC__ /* defined by the headers above */
#include <malloc.h>
#endif

#include <curl/curl.h>

#include "harness/cli/commands.h"
#include "harness/base/err.h"
#include "harness/base/log.h"
#include "metrics/stats.h"

struct fe_command {
    const char *name;
    int (*fn)(int argc, char **argv); /* prints its own help for "NAME --help" */
    const char *summary;
};

static const struct fe_command fe_commands[] = {
    {"run", fe_cmd_run, "run every arm of a config over the held-out set"},
    {"distill", fe_cmd_distill, "generate gated fine-tuning data from a teacher arm (docs/distill.md)"},
    {"merge", fe_cmd_merge, "join the shards of a run (run --shard I/N) into one run"},
    {"score", fe_cmd_score, "score predictions made elsewhere (no network)"},
    {"compare", fe_cmd_compare, "regression gate and A/B check between runs or arms"},
    {"report", fe_cmd_report, "re-render report.md and report.html of a run"},
    {"history", fe_cmd_history, "print the metric trend of a config's runs"},
    {"rate", fe_cmd_rate, "blinded human ratings of a judged run: export, import"},
    {"data", fe_cmd_data, "check or split a dataset before fine-tuning"},
    {"ft", fe_cmd_ft, "OpenAI fine-tuning jobs: upload, create, wait, ..."},
    {"sim", fe_cmd_sim, "serve simulated models on an OpenAI-compatible endpoint"},
};

static void fe_print_commands(FILE *out)
{
    fprintf(out, "usage: fteval [--version] COMMAND [ARGS]\n\n"
                 "fteval decides, with evidence, whether a fine-tuned model beats the base model\n"
                 "and a prompt-engineered baseline: quality, significance, cost and latency.\n\n"
                 "commands:\n");
    for (size_t i = 0; i < sizeof(fe_commands) / sizeof(fe_commands[0]); i++)
        fprintf(out, "  %-9s %s\n", fe_commands[i].name, fe_commands[i].summary);
}

/* Global options come before the command; the parser stops at the command's name. */
static bool fe_version;
static const struct fe_option fe_global_options[] = {
    FE_OPTION_FLAG(0, "version", &fe_version, "print fteval's version and exit"),
    FE_OPTION_END(),
};
static const struct fe_usage fe_global_usage = {
    .print_synopsis = fe_print_commands,
    .epilogue = "'fteval help COMMAND' or 'fteval COMMAND --help' shows a command's options.\n"
                "exit codes: 0 ok, 1 a gate failed, 2 usage, 3 invalid config or data,\n"
                "            4 run aborted, 5 internal error\n",
    .stop_at_arg = true,
};

static void fe_print_overview(FILE *out)
{
    fe_options_print_help(out, &fe_global_usage, fe_global_options);
}

static const struct fe_command *fe_find_command(const char *name)
{
    for (size_t i = 0; i < sizeof(fe_commands) / sizeof(fe_commands[0]); i++)
        if (strcmp(fe_commands[i].name, name) == 0)
            return &fe_commands[i];
    return NULL;
}

static int fe_unknown_command(const char *name)
{
    const char *names[sizeof(fe_commands) / sizeof(fe_commands[0])];
    for (size_t i = 0; i < sizeof(fe_commands) / sizeof(fe_commands[0]); i++)
        names[i] = fe_commands[i].name;
    const char *guess = fe_nearest_name(name, names, sizeof(names) / sizeof(names[0]));
    if (guess)
        return fe_usage_error(NULL, "unknown command '%s'; did you mean '%s'?", name, guess);
    return fe_usage_error(NULL, "unknown command '%s'", name);
}

/* stdout carries results: a write that failed (disk full, closed pipe, `> /dev/full`) must not
 * end in exit 0 with a truncated result. Like git, flush and close stdout at exit and check. */
static int fe_close_stdout(int rc)
{
    bool failed = fflush(stdout) != 0 || ferror(stdout);
    int saved = errno;
    if (fclose(stdout) != 0 && !failed) {
        failed = true;
        saved = errno;
    }
    if (!failed)
        return rc;
    if (saved != EPIPE) /* the reader went away: nothing to tell it */
        fprintf(stderr, "fteval: error: cannot write to standard output: %s\n",
                saved ? strerror(saved) : "write error");
    return rc != FE_EXIT_OK ? rc : FE_EXIT_ABORTED;
}

static int fe_main(int argc, char **argv)
{
    if (argc < 2)
        return fe_print_overview(stderr), FE_EXIT_USAGE;
    if (strcmp(argv[1], "help") == 0 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        if (argc < 3) {
            fe_print_overview(stdout);
            return FE_EXIT_OK;
        }
        const struct fe_command *c = fe_find_command(argv[2]);
        if (!c)
            return fe_unknown_command(argv[2]);
        static char help_flag[] = "--help";
        char *help_argv[] = {argv[2], help_flag, NULL};
        return c->fn(2, help_argv);
    }
    int n = fe_parse_options(argc, argv, &fe_global_usage, fe_global_options);
    if (n < 0)
        return fe_parse_exit_code(n);
    /* argv[0..n) is now the command and its arguments */
    if (fe_version || (n > 0 && strcmp(argv[0], "version") == 0)) {
        printf("fteval %s\n", FTEVAL_VERSION);
        return FE_EXIT_OK;
    }
    if (n == 0)
        return fe_usage_error(NULL, "missing COMMAND");
    const struct fe_command *c = fe_find_command(argv[0]);
    if (!c)
        return fe_unknown_command(argv[0]);
    if (fe_wants_help(n, argv)) /* the command's parser prints its help */
        return c->fn(n, argv);
    fe_stats_global_init();
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        fprintf(stderr, "fteval: error: libcurl failed to initialise\n");
        return FE_EXIT_INTERNAL;
    }
    int rc = c->fn(n, argv);
    curl_global_cleanup();
    fe_log_clear_secrets();
    return rc;
}

int main(int argc, char **argv)
{
#ifdef __GLIBC__
    /* a fixed threshold: large arrays (a run's columns) are mapped, and unmapped when freed, not
     * left in the heap once glibc's adaptive threshold has grown past them (issue 14, Memory) */
    mallopt(M_MMAP_THRESHOLD, 128 * 1024);
#endif
    return fe_close_stdout(fe_main(argc, argv));
}
