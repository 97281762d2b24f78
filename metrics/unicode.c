/* unicode.c — see unicode.h. */
#include "metrics/unicode.h"

#include <string.h>

#include "harness/base/util.h"
#include "metrics/unicode_tables.h"

_Static_assert(FE_UCP_SPACE == FE_UC_SPACE && FE_UCP_WORD == FE_UC_WORD &&
                   FE_UCP_IGNORABLE == FE_UC_IGNORABLE && FE_UCP_CASED == FE_UC_CASED,
               "property bits must match the generated tables");

static bool is_cont(unsigned char c)
{
    return (c & 0xC0) == 0x80;
}

/* Strict UTF-8 (RFC 3629): shortest form only, no surrogates, at most U+10FFFF. Anything else
 * yields one bad byte so that decoding resynchronises exactly like Python's decoder does. */
uint32_t fe_utf8_decode(const unsigned char *s, size_t len, size_t *adv)
{
    unsigned char b0 = s[0];
    *adv = 1;
    if (b0 < 0x80)
        return b0;
    if (b0 >= 0xC2 && b0 <= 0xDF) {
        if (len >= 2 && is_cont(s[1])) {
            *adv = 2;
            return ((uint32_t)(b0 & 0x1F) << 6) | (s[1] & 0x3F);
        }
        return FE_UC_BAD(b0);
    }
    if (b0 >= 0xE0 && b0 <= 0xEF) {
        unsigned char lo = b0 == 0xE0 ? 0xA0 : 0x80, hi = b0 == 0xED ? 0x9F : 0xBF;
        if (len >= 3 && s[1] >= lo && s[1] <= hi && is_cont(s[2])) {
            *adv = 3;
            return ((uint32_t)(b0 & 0x0F) << 12) | ((uint32_t)(s[1] & 0x3F) << 6) |
                   (s[2] & 0x3F);
        }
        return FE_UC_BAD(b0);
    }
    if (b0 >= 0xF0 && b0 <= 0xF4) {
        unsigned char lo = b0 == 0xF0 ? 0x90 : 0x80, hi = b0 == 0xF4 ? 0x8F : 0xBF;
        if (len >= 4 && s[1] >= lo && s[1] <= hi && is_cont(s[2]) && is_cont(s[3])) {
            *adv = 4;
            return ((uint32_t)(b0 & 0x07) << 18) | ((uint32_t)(s[1] & 0x3F) << 12) |
                   ((uint32_t)(s[2] & 0x3F) << 6) | (s[3] & 0x3F);
        }
    }
    return FE_UC_BAD(b0);
}

size_t fe_utf8_encode(uint32_t cp, unsigned char out[4])
{
    if (FE_UC_IS_BAD(cp)) {
        out[0] = (unsigned char)(cp & 0xFF);
        return 1;
    }
    if (cp < 0x80) {
        out[0] = (unsigned char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (unsigned char)(0xC0 | (cp >> 6));
        out[1] = (unsigned char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (unsigned char)(0xE0 | (cp >> 12));
        out[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
        out[2] = (unsigned char)(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = (unsigned char)(0xF0 | (cp >> 18));
    out[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3F));
    out[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
    out[3] = (unsigned char)(0x80 | (cp & 0x3F));
    return 4;
}

unsigned fe_uc_flags(uint32_t cp)
{
    if (cp < 128)
        return fe_uc_ascii_flags[cp];
    if (FE_UC_IS_BAD(cp))
        return 0;
    size_t lo = 0, hi = FE_ARRAY_LEN(fe_uc_props);
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (cp < fe_uc_props[mid].first)
            hi = mid;
        else if (cp > fe_uc_props[mid].last)
            lo = mid + 1;
        else
            return fe_uc_props[mid].flags;
    }
    return 0;
}

size_t fe_uc_lower1(uint32_t cp, uint32_t out[3])
{
    if (cp < 128 || FE_UC_IS_BAD(cp)) {
        out[0] = cp >= 'A' && cp <= 'Z' ? cp + 32 : cp;
        return 1;
    }
    for (size_t i = 0; i < FE_ARRAY_LEN(fe_uc_lower_multis); i++) {
        if (fe_uc_lower_multis[i].cp == cp) {
            size_t n = 0;
            while (n < 3 && fe_uc_lower_multis[i].lower[n])
                out[n] = fe_uc_lower_multis[i].lower[n], n++;
            return n;
        }
    }
    /* Runs are sorted by first and do not overlap: find the last run with first <= cp. */
    size_t lo = 0, hi = FE_ARRAY_LEN(fe_uc_lower_runs);
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (fe_uc_lower_runs[mid].first <= cp)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo > 0) {
        const struct fe_uc_lower_run *r = &fe_uc_lower_runs[lo - 1];
        uint32_t off = cp - r->first;
        if (off % r->stride == 0 && off / r->stride < r->count) {
            out[0] = (uint32_t)((int32_t)cp + r->delta);
            return 1;
        }
    }
    out[0] = cp;
    return 1;
}

/* CPython's handle_capital_sigma: U+03A3 lowercases to final sigma when it follows a cased
 * letter and is not followed by one, skipping case-ignorable characters in both directions:
 * \p{cased}\p{case-ignorable}* U+03A3 !(\p{case-ignorable}* \p{cased}).
 * Each scan stops at the first non-ignorable character (another U+03A3 included), so the
 * total work over a string stays linear. */
static bool final_sigma(const uint32_t *cps, size_t n, size_t i)
{
    size_t j = i;
    unsigned f = 0;
    while (j > 0) {
        f = fe_uc_flags(cps[--j]);
        if (!(f & FE_UCP_IGNORABLE))
            break;
    }
    if (j == i || (f & FE_UCP_IGNORABLE) || !(f & FE_UCP_CASED))
        return false;
    for (j = i + 1; j < n; j++) {
        f = fe_uc_flags(cps[j]);
        if (!(f & FE_UCP_IGNORABLE))
            return !(f & FE_UCP_CASED);
    }
    return true;
}

size_t fe_uc_lower(const uint32_t *cps, size_t n, uint32_t *out)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        uint32_t cp = cps[i];
        if (cp < 128) {
            out[k++] = cp >= 'A' && cp <= 'Z' ? cp + 32 : cp;
        } else if (cp == FE_UC_SIGMA) {
            out[k++] = final_sigma(cps, n, i) ? FE_UC_FINAL_SIGMA : FE_UC_SMALL_SIGMA;
        } else {
            k += fe_uc_lower1(cp, out + k);
        }
    }
    return k;
}

const char *fe_uc_strip(const char *s, size_t *len)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t n = strlen(s), start = n, end = 0;
    for (size_t i = 0; i < n;) {
        size_t adv;
        uint32_t cp = fe_utf8_decode(u + i, n - i, &adv);
        if (!(fe_uc_flags(cp) & FE_UCP_SPACE)) {
            if (start == n)
                start = i;
            end = i + adv;
        }
        i += adv;
    }
    *len = start < end ? end - start : 0;
    return s + (start < end ? start : n);
}

const char *fe_uc_version(void)
{
    return FE_UC_UNIDATA_VERSION;
}
