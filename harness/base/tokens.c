/* tokens.c — see tokens.h. */
#include "harness/base/tokens.h"

#include <string.h>

long fe_estimate_tokens_len(size_t bytes)
{
    return (long)(bytes / 4 + (bytes % 4 != 0));
}

long fe_estimate_tokens(const char *text)
{
    return text ? fe_estimate_tokens_len(strlen(text)) : 0;
}
