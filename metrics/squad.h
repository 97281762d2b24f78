/* squad.h — SQuAD answer normalisation, exact match and token F1 (STATISTICS.md §1).
 *
 * normalize(s) = Python's official SQuAD normalize_answer on str: s.lower() (full Unicode case
 * mapping, Final_Sigma included), delete the 32 ASCII string.punctuation characters, replace
 * whole words a/an/the (re \b with Unicode \w) by a space, split on Unicode whitespace
 * (str.isspace, U+001C..U+001F included) and join with one space. No NFC/NFKC.
 *
 * Empty answers follow SQuAD v2.0: golds that normalise to "" are dropped; when none remain the
 * example is unanswerable (gold [""]): EM and F1 are 1 iff the prediction normalises to "" too.
 * EM and F1 are each the maximum over the remaining golds.
 *
 * Inputs are NUL-terminated UTF-8. Invalid bytes never crash: each is kept as-is as a
 * non-letter, non-space character (Python's errors="surrogateescape"; see unicode.h and the
 * deviations in docs/metrics.md). A NULL prediction or gold counts as "". Linear time in the
 * input length apart from sorting tokens for F1 (n log n). Thread-safe (no global state).
 */
#ifndef FE_SQUAD_H
#define FE_SQUAD_H

#include <stddef.h>

/* Returns the newly allocated normalised form of s (caller frees): lowercase, ASCII
 * punctuation deleted, whole words a/an/the replaced by a space, whitespace collapsed. */
char *fe_squad_normalize(const char *s);
/* Max over golds of EM and F1 (golds as in struct fe_gold: [""] = unanswerable; n_golds == 0
 * is treated as [""]). */
double fe_squad_em(const char *prediction, const char *const *golds, size_t n_golds);
double fe_squad_f1(const char *prediction, const char *const *golds, size_t n_golds);
/* `contains`: 1 when some gold's normalised token sequence occurs in the prediction's as a
 * contiguous run of whole tokens ("new york" in "i live in new york city", not "york" in
 * "yorkshire"); the same empty-gold rule: unanswerable -> 1 iff the prediction normalises to "". */
double fe_squad_contains(const char *prediction, const char *const *golds, size_t n_golds);
/* Both at once (normalises each string once); em or f1 may be NULL. */
void fe_squad_score(const char *prediction, const char *const *golds, size_t n_golds, double *em,
                    double *f1);
/* EM and F1 of one normalised-token comparison without the max over golds or the dropping of
 * empty golds: F1 is 1 when both are empty, 0 when only one is (v2.0 compute_f1). */
double fe_squad_f1_pair(const char *prediction, const char *gold);

#endif
