/* squad.h — SQuAD answer normalisation, exact match and token F1 (STATISTICS.md §1).
 *
 * Deviations from Python's Unicode behaviour are documented in docs/metrics.md and tested.
 */
#ifndef FE_SQUAD_H
#define FE_SQUAD_H

#include <stddef.h>

/* Returns the newly allocated normalised form of s (caller frees): lowercase, ASCII
 * punctuation deleted, whole words a/an/the replaced by a space, whitespace collapsed. */
char *fe_squad_normalize(const char *s);
/* Max over golds of EM and F1 (golds as in struct fe_gold: [""] = unanswerable). */
double fe_squad_em(const char *prediction, const char *const *golds, size_t n_golds);
double fe_squad_f1(const char *prediction, const char *const *golds, size_t n_golds);

#endif
