/* regex.h — compiled PCRE2 patterns (Debian libpcre2-8) for the format metrics.
 *
 * One mechanism for the two uses: `regex` (a full match of task.pattern, PCRE2 syntax) and the
 * JSON Schema `pattern`/`patternProperties` keywords (FE_REGEX_ECMA: an unanchored search with
 * ECMA-262-like options). Patterns and subjects are UTF-8 (PCRE2_UTF); a subject that is not
 * valid UTF-8 is still matched safely (PCRE2_MATCH_INVALID_UTF: no match across a bad byte).
 * A compiled pattern is immutable and may be matched from several threads at once.
 * Pure: no I/O.
 */
#ifndef FE_REGEX_H
#define FE_REGEX_H

#include <stdbool.h>
#include <stddef.h>

#include "harness/base/err.h"

struct fe_regex;

enum fe_regex_flags {
    /* ECMA-262 flavour for JSON Schema: '$' only at the very end (PCRE2_DOLLAR_ENDONLY), and
     * \uHHHH escapes (PCRE2_ALT_BSUX). Without it: plain PCRE2 syntax. */
    FE_REGEX_ECMA = 1u << 0,
};

/* Compiles pattern. Returns a new regex (free with fe_regex_free) or NULL with err set to
 * FE_EINVALID and the PCRE2 message and offset: "at offset 3: missing closing parenthesis". */
struct fe_regex *fe_regex_compile(const char *pattern, unsigned flags, struct fe_err *err);
/* Matches s[0..len). full: the match must span the whole subject (anchored at both ends,
 * backtracking into alternatives as needed); otherwise a match anywhere (search).
 * Returns 1 (match), 0 (no match) or -1 (PCRE2 gave up, e.g. its match limit on catastrophic
 * backtracking). */
int fe_regex_match(const struct fe_regex *re, const char *s, size_t len, bool full);
void fe_regex_free(struct fe_regex *re); /* NULL is a no-op */

#endif
