/* unicode.h — the small part of Python's Unicode behaviour that SQuAD normalisation needs.
 *
 * Tables are generated from Python 3.11's own behaviour by tools/gen_unicode_tables.py into
 * metrics/unicode_tables.h (committed; the build needs no Python). See docs/metrics.md.
 *
 * Invalid UTF-8: fe_utf8_decode never fails. A byte that does not start a valid, shortest-form
 * sequence for a scalar value (no surrogates, at most U+10FFFF) is returned as the "bad byte"
 * value FE_UC_BAD(byte) and decoding resumes at the next byte. This is exactly what Python does
 * with errors="surrogateescape" (bad byte b becomes the lone surrogate U+DC00+b), and a bad byte
 * has no properties (not space, not \w, uncased, not case-ignorable) and lowercases to itself,
 * like such a surrogate in Python. fe_utf8_encode writes a bad byte back unchanged.
 */
#ifndef FE_UNICODE_H
#define FE_UNICODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FE_UC_BAD_FLAG 0x80000000u
#define FE_UC_BAD(byte) (FE_UC_BAD_FLAG | (uint32_t)(byte))
#define FE_UC_IS_BAD(cp) (((cp) & FE_UC_BAD_FLAG) != 0)

/* Property bits returned by fe_uc_flags (values match unicode_tables.h). */
enum {
    FE_UCP_SPACE = 1,     /* Python str.isspace(): what str.split() splits on */
    FE_UCP_WORD = 2,      /* re's Unicode \w: str.isalnum() or "_" */
    FE_UCP_IGNORABLE = 4, /* Case_Ignorable (as CPython's Final_Sigma rule sees it) */
    FE_UCP_CASED = 8      /* Cased and not Case_Ignorable */
};

/* Decodes one code point from s[0..len) (len >= 1); stores the bytes consumed (1..4) in *adv. */
uint32_t fe_utf8_decode(const unsigned char *s, size_t len, size_t *adv);
/* Encodes cp (or a bad byte) into out (>= 4 bytes); returns the number of bytes written. */
size_t fe_utf8_encode(uint32_t cp, unsigned char out[4]);
/* Property bits of cp; 0 for bad bytes and unassigned code points. */
unsigned fe_uc_flags(uint32_t cp);
/* Python's c.lower() for one code point without context (U+03A3 gives U+03C3): writes 1..3
 * code points to out and returns how many. */
size_t fe_uc_lower1(uint32_t cp, uint32_t out[3]);
/* Python's s.lower() over a whole decoded string, with the Final_Sigma context rule for U+03A3.
 * out must hold 3 * n code points; returns the number written. */
size_t fe_uc_lower(const uint32_t *cps, size_t n, uint32_t *out);
/* Python's s.strip(): returns a pointer to the first character of s that is not whitespace
 * (FE_UCP_SPACE) and stores in *len the length up to the end of the last such character.
 * Borrowed from s. */
const char *fe_uc_strip(const char *s, size_t *len);
/* The Unicode data version the tables were generated from (e.g. "14.0.0"). */
const char *fe_uc_version(void);

#endif
