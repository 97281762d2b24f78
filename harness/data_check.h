/* data_check.h — dataset readiness checks (`fteval data check`). Owner: data.
 * PLACEHOLDER interface; the data module replaces and extends it.
 */
#ifndef FE_DATA_CHECK_H
#define FE_DATA_CHECK_H

#include "harness/buf.h"
#include "harness/err.h"

/* Runs every check on path with default options, appends a human-readable report to text.
 * Returns 1 when something blocks (format errors, PII, leakage), 0 when nothing blocks, -1 when
 * the file cannot be read (err set). */
int fe_data_check_blocking(const char *path, struct fe_buf *text, struct fe_err *err);

#endif
