/* cmd_history.c — PLACEHOLDER until its owner lands it; must not survive to a release. */
#include "harness/commands.h"
#include "harness/err.h"
#include <stdio.h>

const char fe_usage_history[] = "usage: fteval history ... (not built yet)\n";

int fe_cmd_history(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "fteval: error: 'history' is not built yet\n");
    return FE_EXIT_INTERNAL;
}
