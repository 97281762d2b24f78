/* cmd_run.c — PLACEHOLDER. */
#include "harness/commands.h"
#include "harness/err.h"
const char fe_usage_run[] = "usage: fteval run\n";
int fe_cmd_run(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    return FE_EXIT_INTERNAL;
}
