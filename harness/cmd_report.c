/* cmd_report.c — PLACEHOLDER until its owner lands it; must not survive to a release. */
#include "harness/commands.h"
#include "harness/err.h"
#include <stdio.h>

const char fe_usage_report[] = "usage: fteval report ... (not built yet)\n";

int fe_cmd_report(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "fteval: error: 'report' is not built yet\n");
    return FE_EXIT_INTERNAL;
}
