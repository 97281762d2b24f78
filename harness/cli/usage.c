/* usage.c — what every command shares for its command line (declared in commands.h):
 * the usage-error message and the --help check. Lives in cli/ rather than main.c so the cli
 * library has no symbol that only the executable defines. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "harness/base/err.h"
#include "harness/cli/commands.h"

int fe_usage_error(const char *command, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    fprintf(stderr, "fteval: error: %s\n", msg);
    if (command)
        fprintf(stderr, "hint: see 'fteval %s --help'\n", command);
    else
        fprintf(stderr, "hint: see 'fteval help'\n");
    return FE_EXIT_USAGE;
}

int fe_wants_help(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--") == 0)
            break;
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
            return 1;
    }
    return 0;
}
