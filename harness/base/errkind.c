/* errkind.c — see errkind.h. */
#include "harness/base/errkind.h"

#include <string.h>

bool fe_error_kind_is_final(const char *kind)
{
    return kind && (strcmp(kind, FE_ERRK_BAD_REQUEST) == 0 || strcmp(kind, FE_ERRK_NOT_FOUND) == 0 ||
                    strcmp(kind, FE_ERRK_OFFLINE) == 0);
}
