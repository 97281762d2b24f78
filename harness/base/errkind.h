/* errkind.h — the error kinds of a failed example: the stable `error.kind` strings of the
 * results format (docs/results-format.md). Providers classify into them, the runner and the
 * journal act on them, summaries count them; so they live in base, below all of those. */
#ifndef FE_ERRKIND_H
#define FE_ERRKIND_H

#include <stdbool.h>

#define FE_ERRK_RATE_LIMIT "rate_limit"
#define FE_ERRK_QUOTA "insufficient_quota"
#define FE_ERRK_SERVER "server_error"
#define FE_ERRK_AUTH "auth"
#define FE_ERRK_BAD_REQUEST "bad_request"
#define FE_ERRK_NOT_FOUND "not_found"
#define FE_ERRK_CONFLICT "conflict"
#define FE_ERRK_TIMEOUT "timeout"
#define FE_ERRK_CONNECTION "connection"
#define FE_ERRK_MALFORMED "malformed_response"
#define FE_ERRK_HTTP "http_error"
#define FE_ERRK_BUDGET "budget"
#define FE_ERRK_OFFLINE "missing_record"


/* True for the kinds a --resume keeps instead of re-sending: the request itself is wrong
 * (bad_request, not_found) or the arm is offline and has no record to give (missing_record).
 * NULL is false. */
bool fe_error_kind_is_final(const char *kind);

#endif
