/* cmd_report.c — `fteval report RUN_DIR`: re-renders report.md and report.html from the files
 * of a results directory (manifest.json, summary.json, <arm>.jsonl). Writes nothing else. */
#include <stdio.h>
#include <string.h>

#include "harness/cli/commands.h"
#include "harness/base/err.h"
#include "harness/base/log.h"
#include "harness/report/report.h"
#include "harness/rundir/rundir.h"

static const struct fe_usage fe_report_usage = {
    .command = "report",
    .synopsis = "usage: fteval report RUN_DIR\n"
                "\n"
                "Re-renders RUN_DIR/report.md and RUN_DIR/report.html from the run's files\n"
                "(manifest.json, summary.json and <arm>.jsonl). Without summary.json the report is\n"
                "built from the records alone (no confidence intervals or comparisons).\n"
                "The HTML is one self-contained file: inline CSS and SVG, no script, no network.\n",
    .epilogue = "exit codes: 0 written, 2 usage, 3 invalid run directory, 4 cannot read or write\n",
};

int fe_cmd_report(int argc, char **argv)
{
    static const struct fe_option opts[] = {FE_OPTION_END()}; /* no options besides --help */
    int n = fe_parse_options(argc, argv, &fe_report_usage, opts);
    if (n < 0)
        return fe_parse_exit_code(n);
    if (n > 1)
        return fe_usage_error("report", "unexpected argument '%s'", argv[1]);
    if (n == 0)
        return fe_usage_error("report", "missing RUN_DIR");
    const char *dir = argv[0];
    struct fe_err err = {0};
    struct fe_run *run = NULL;
    enum fe_status st = fe_run_load(dir, &run, &err);
    if (st != FE_OK) {
        fprintf(stderr, "fteval: error: %s\n", err.msg[0] ? err.msg : fe_strerror(st));
        return st == FE_EIO ? FE_EXIT_ABORTED : fe_status_exit_code(st);
    }
    if (!run->summary)
        fe_warn("%s/summary.json: missing or unreadable: report built from the records alone", dir);
    st = fe_report_write(run, &err);
    if (st == FE_OK)
        printf("%s/report.md\n%s/report.html\n", dir, dir);
    else
        fprintf(stderr, "fteval: error: %s\n", err.msg);
    fe_run_free(run);
    return st == FE_OK ? FE_EXIT_OK : st == FE_EIO ? FE_EXIT_ABORTED : fe_status_exit_code(st);
}
