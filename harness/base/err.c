/* err.c — see err.h. */
#include "harness/base/err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

enum fe_status fe_err_set(struct fe_err *err, enum fe_status code, const char *fmt, ...)
{
    if (!err || err->code != FE_OK)
        return code;
    err->code = code;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
    va_end(ap);
    return code;
}

void fe_err_clear(struct fe_err *err)
{
    err->code = FE_OK;
    err->msg[0] = '\0';
}

bool fe_err_isset(const struct fe_err *err)
{
    return err->code != FE_OK;
}

const char *fe_strerror(enum fe_status code)
{
    switch (code) {
    case FE_OK: return "ok";
    case FE_EUSAGE: return "usage error";
    case FE_EINVALID: return "invalid config or data";
    case FE_EIO: return "i/o error";
    case FE_ENET: return "network error";
    case FE_EPROVIDER: return "provider error";
    case FE_EQUOTA: return "quota or budget exhausted";
    case FE_EINTERNAL: return "internal error";
    case FE_EGATE: return "gate failed";
    case FE_EABORT: return "aborted";
    }
    return "unknown error";
}

enum fe_exit fe_status_exit_code(enum fe_status code)
{
    switch (code) {
    case FE_OK: return FE_EXIT_OK;
    case FE_EGATE: return FE_EXIT_GATE;
    case FE_EUSAGE: return FE_EXIT_USAGE;
    case FE_EINVALID: return FE_EXIT_INVALID;
    case FE_EIO: case FE_ENET: case FE_EPROVIDER: case FE_EQUOTA: case FE_EABORT:
        return FE_EXIT_ABORTED;
    case FE_EINTERNAL: return FE_EXIT_INTERNAL;
    }
    return FE_EXIT_INTERNAL;
}
