/* err.h — the project-wide status codes and the caller-owned error record.
 *
 * Status codes are append-only. Functions that can fail return an enum fe_status (FE_OK = 0)
 * and fill a caller-owned struct fe_err; the FIRST message set wins, so the most specific
 * place that noticed the problem is the one reported. There is no global error state.
 * Messages follow git's style: lowercase, no trailing period, the subject first
 * ("configs/demo.json: arms[1].model: missing").
 */
#ifndef FE_ERR_H
#define FE_ERR_H

#include <stdbool.h>

enum fe_status {
    FE_OK = 0,
    FE_EUSAGE,    /* bad command line */
    FE_EINVALID,  /* invalid config or data: names file, line, field */
    FE_EIO,       /* cannot read or write a file */
    FE_ENET,      /* provider unreachable, transport failure */
    FE_EPROVIDER, /* provider answered with an error */
    FE_EQUOTA,    /* quota or budget exhausted */
    FE_EINTERNAL, /* a bug */
    FE_EGATE,     /* a quality/error gate failed */
    FE_EABORT,    /* run stopped (signal) */
};

/* Process exit codes (DESIGN §2, contract). */
enum fe_exit {
    FE_EXIT_OK = 0,
    FE_EXIT_GATE = 1,
    FE_EXIT_USAGE = 2,
    FE_EXIT_INVALID = 3,
    FE_EXIT_ABORTED = 4,
    FE_EXIT_INTERNAL = 5,
};

struct fe_err {
    enum fe_status code;
    char msg[1024];
};

/* Sets the error unless one is set already; returns code so callers can `return fe_err_set(...)`. */
enum fe_status fe_err_set(struct fe_err *err, enum fe_status code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void fe_err_clear(struct fe_err *err);
bool fe_err_isset(const struct fe_err *err);
const char *fe_strerror(enum fe_status code);
enum fe_exit fe_status_exit_code(enum fe_status code);

#endif
