/* main.c — fteval's entry point: global initialisation and the command table. The commands,
 * and fe_usage_error/fe_wants_help they share, live in harness/cli/ (docs/architecture.md). */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <curl/curl.h>

#include "harness/cli/commands.h"
#include "harness/base/err.h"
#include "harness/base/log.h"
#include "metrics/stats.h"

struct fe_command {
    const char *name;
    int (*fn)(int argc, char **argv);
    const char *usage;
    const char *summary;
};

static const struct fe_command fe_commands[] = {
    {"run", fe_cmd_run, fe_usage_run, "run every arm of a config over the held-out set"},
    {"score", fe_cmd_score, fe_usage_score, "score predictions made elsewhere (no network)"},
    {"compare", fe_cmd_compare, fe_usage_compare, "regression gate and A/B check between runs or arms"},
    {"report", fe_cmd_report, fe_usage_report, "re-render report.md and report.html of a run"},
    {"history", fe_cmd_history, fe_usage_history, "print the metric trend of a config's runs"},
    {"data", fe_cmd_data, fe_usage_data, "check or split a dataset before fine-tuning"},
    {"ft", fe_cmd_ft, fe_usage_ft, "OpenAI fine-tuning jobs: upload, create, wait, ..."},
    {"sim", fe_cmd_sim, fe_usage_sim, "serve simulated models on an OpenAI-compatible endpoint"},
};

static void fe_print_overview(FILE *out)
{
    fprintf(out, "usage: fteval COMMAND [ARGS]\n\n"
                 "fteval decides, with evidence, whether a fine-tuned model beats the base model\n"
                 "and a prompt-engineered baseline: quality, significance, cost and latency.\n\n"
                 "commands:\n");
    for (size_t i = 0; i < sizeof(fe_commands) / sizeof(fe_commands[0]); i++)
        fprintf(out, "  %-9s %s\n", fe_commands[i].name, fe_commands[i].summary);
    fprintf(out, "\n'fteval help COMMAND' or 'fteval COMMAND --help' shows a command's options.\n"
                 "exit codes: 0 ok, 1 a gate failed, 2 usage, 3 invalid config or data,\n"
                 "            4 run aborted, 5 internal error\n");
}

static const struct fe_command *fe_find_command(const char *name)
{
    for (size_t i = 0; i < sizeof(fe_commands) / sizeof(fe_commands[0]); i++)
        if (strcmp(fe_commands[i].name, name) == 0)
            return &fe_commands[i];
    return NULL;
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
    const char *name = argv[1];
    if (strcmp(name, "--version") == 0 || strcmp(name, "version") == 0) {
        printf("fteval %s\n", FTEVAL_VERSION);
        return FE_EXIT_OK;
    }
    if (strcmp(name, "help") == 0 || strcmp(name, "--help") == 0 || strcmp(name, "-h") == 0) {
        if (argc < 3) {
            fe_print_overview(stdout);
            return FE_EXIT_OK;
        }
        const struct fe_command *c = fe_find_command(argv[2]);
        if (!c)
            return fe_usage_error(NULL, "unknown command '%s'", argv[2]);
        fputs(c->usage, stdout);
        return FE_EXIT_OK;
    }
    const struct fe_command *c = fe_find_command(name);
    if (!c)
        return fe_usage_error(NULL, "unknown command '%s'", name);
    if (fe_wants_help(argc - 1, argv + 1)) {
        fputs(c->usage, stdout);
        return FE_EXIT_OK;
    }
    fe_stats_global_init();
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        fprintf(stderr, "fteval: error: libcurl failed to initialise\n");
        return FE_EXIT_INTERNAL;
    }
    int rc = c->fn(argc - 1, argv + 1);
    curl_global_cleanup();
    fe_log_clear_secrets();
    return rc;
}

int main(int argc, char **argv)
{
    return fe_close_stdout(fe_main(argc, argv));
}
