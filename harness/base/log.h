/* log.h — levelled diagnostics on stderr, one line each: "fteval: <level>: <message>".
 *
 * The level is checked before formatting. Every line passes through the secret redactor:
 * values registered with fe_log_add_secret (API keys) are replaced by "[REDACTED]", so a key
 * can never reach stderr even if a server echoes it back in an error body.
 */
#ifndef FE_LOG_H
#define FE_LOG_H

#include <stdbool.h>
#include <stddef.h>

#include "harness/base/buf.h"

#define FE_REDACTED "[REDACTED]"

enum fe_log_level { FE_LOG_QUIET = 0, FE_LOG_ERROR, FE_LOG_WARN, FE_LOG_INFO, FE_LOG_DEBUG };

void fe_log_set_level(enum fe_log_level level);
enum fe_log_level fe_log_get_level(void);
void fe_log(enum fe_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define fe_error(...) fe_log(FE_LOG_ERROR, __VA_ARGS__)
#define fe_warn(...) fe_log(FE_LOG_WARN, __VA_ARGS__)
#define fe_info(...) fe_log(FE_LOG_INFO, __VA_ARGS__)
#define fe_debug(...) fe_log(FE_LOG_DEBUG, __VA_ARGS__)

/* Registers a secret (copied) to be redacted from logs and from fe_redact. Empty strings and
 * strings shorter than 4 bytes are ignored. fe_log_clear_secrets frees them all. */
void fe_log_add_secret(const char *secret);
void fe_log_clear_secrets(void);
/* Returns a newly allocated copy of s with every registered secret replaced. Caller frees. */
char *fe_redact(const char *s);
/* Replaces every registered secret in b (length-aware: b may hold NUL bytes) by FE_REDACTED, in
 * place. Returns true when something was replaced. The one redaction mechanism: every string
 * fteval writes that came from outside (answers, headers, error bodies) passes through it before
 * it is parsed, truncated, cached or recorded. */
bool fe_redact_buf(struct fe_buf *b);
/* Where a text redacted in pieces may be cut: the largest c <= len such that c == 0 or
 * data[c - 1] is a byte that no registered secret contains (len when none is registered).
 * Redacting data[0..c) and data[c..) apart gives exactly what fe_redact_buf gives on the whole:
 * an occurrence crossing c would hold data[c - 1], and no replacement ever removes that byte. */
size_t fe_redact_cut(const char *data, size_t len);

#endif
