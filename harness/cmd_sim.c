/* cmd_sim.c — PLACEHOLDER until its owner lands it; must not survive to a release. */
#include "harness/commands.h"
#include "harness/err.h"
#include <stdio.h>

const char fe_usage_sim[] = "usage: fteval sim ... (not built yet)\n";

int fe_cmd_sim(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "fteval: error: 'sim' is not built yet\n");
    return FE_EXIT_INTERNAL;
}
