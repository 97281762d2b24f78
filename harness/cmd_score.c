/* cmd_score.c — PLACEHOLDER. */
#include "harness/commands.h"
#include "harness/err.h"
const char fe_usage_score[] = "usage: fteval score\n";
int fe_cmd_score(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    return FE_EXIT_INTERNAL;
}
