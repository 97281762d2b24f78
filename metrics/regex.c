/* regex.c — PCRE2 wrapper; see regex.h. */
#define PCRE2_CODE_UNIT_WIDTH 8
#include "metrics/regex.h"

#include <pcre2.h>
#include <stdlib.h>

#include "harness/base/util.h"

struct fe_regex {
    pcre2_code *code;
};

struct fe_regex *fe_regex_compile(const char *pattern, unsigned flags, struct fe_err *err)
{
    uint32_t opts = PCRE2_UTF | PCRE2_MATCH_INVALID_UTF;
    if (flags & FE_REGEX_ECMA)
        opts |= PCRE2_DOLLAR_ENDONLY | PCRE2_ALT_BSUX;
    int code;
    PCRE2_SIZE offset;
    pcre2_code *c = pcre2_compile((PCRE2_SPTR)pattern, PCRE2_ZERO_TERMINATED, opts, &code, &offset, NULL);
    if (!c) {
        PCRE2_UCHAR msg[256];
        if (pcre2_get_error_message(code, msg, sizeof(msg)) < 0)
            msg[0] = '\0';
        fe_err_set(err, FE_EINVALID, "at offset %zu: %s", (size_t)offset, (const char *)msg);
        return NULL;
    }
    struct fe_regex *re = fe_xcalloc(1, sizeof(*re));
    re->code = c;
    return re;
}

int fe_regex_match(const struct fe_regex *re, const char *s, size_t len, bool full)
{
    pcre2_match_data *md = pcre2_match_data_create_from_pattern(re->code, NULL);
    if (!md)
        return -1;
    uint32_t opts = full ? (PCRE2_ANCHORED | PCRE2_ENDANCHORED) : 0;
    int rc = pcre2_match(re->code, (PCRE2_SPTR)s, len, 0, opts, md, NULL);
    pcre2_match_data_free(md);
    if (rc >= 0)
        return 1;
    return rc == PCRE2_ERROR_NOMATCH ? 0 : -1;
}

void fe_regex_free(struct fe_regex *re)
{
    if (!re)
        return;
    pcre2_code_free(re->code);
    free(re);
}
