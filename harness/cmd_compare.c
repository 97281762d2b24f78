/* cmd_compare.c — PLACEHOLDER until its owner lands it; must not survive to a release. */
#include "harness/commands.h"
#include "harness/err.h"
#include <stdio.h>

const char fe_usage_compare[] = "usage: fteval compare ... (not built yet)\n";

int fe_cmd_compare(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "fteval: error: 'compare' is not built yet\n");
    return FE_EXIT_INTERNAL;
}
