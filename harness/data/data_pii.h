/* data_pii.h — hand-written detectors for personal data and secrets in training text.
 *
 * Kinds: e-mail addresses, phone numbers (international "+CC ..." with 8-15 digits, and US
 * "(NXX) NXX-XXXX" / "NXX-NXX-XXXX" / "NXX.NXX.XXXX" / "NXX NXX XXXX" with an optional "1"
 * prefix), payment card numbers (13-19 digits, optionally grouped by single spaces or dashes,
 * a known issuer prefix and a valid Luhn checksum), US SSNs ("AAA-GG-SSSS", area not 000, 666 or
 * 9xx, group not 00, serial not 0000), IPv4 and IPv6 addresses, and API-key-like secrets
 * ("sk-" + 20 or more key characters, "AKIA" + 16 [0-9A-Z], "Bearer <token of 16+ chars with
 * a digit>", GitHub tokens "ghp_/gho_/ghu_/ghs_/ghr_" + 20 or more alphanumerics, "github_pat_").
 *
 * The detectors are deliberately conservative: every match must stand alone (no letter or
 * digit directly before or after it), bare runs of digits are never phone numbers or SSNs, and
 * a digit run only counts as a card number when the issuer prefix and the Luhn check agree. A
 * match never prints in full: fe_pii_match.redacted masks it (j***@e***.com,
 * **** **** **** 4242, ***-**-6789, 192.*.*.*, sk-****).
 */
#ifndef FE_DATA_PII_H
#define FE_DATA_PII_H

#include <stdbool.h>
#include <stddef.h>

enum fe_pii_kind {
    FE_PII_EMAIL = 0,
    FE_PII_PHONE,
    FE_PII_CARD,
    FE_PII_SSN,
    FE_PII_IPV4,
    FE_PII_IPV6,
    FE_PII_SECRET,
    FE_PII_KIND_COUNT
};

struct fe_pii_match {
    enum fe_pii_kind kind;
    size_t start; /* byte offset in the scanned text */
    size_t len;
    char redacted[80]; /* masked excerpt, NUL-terminated, safe to print */
};

typedef void (*fe_pii_fn)(const struct fe_pii_match *m, void *ctx);

/* "email", "phone", "card", "ssn", "ipv4", "ipv6", "secret". */
const char *fe_pii_kind_name(enum fe_pii_kind kind);

/* Scans s[0..len) left to right and calls fn (may be NULL) for each match, in order, without
 * overlaps. Returns the number of matches. */
size_t fe_pii_scan(const char *s, size_t len, fe_pii_fn fn, void *ctx);

/* Luhn checksum over n ASCII digits (other characters are ignored). */
bool fe_luhn_valid(const char *digits, size_t n);

#endif
