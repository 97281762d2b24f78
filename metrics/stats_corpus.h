/* stats_corpus.h — resampling statistics of corpus-level metrics (STATISTICS.md §6).
 * Owner: statistics (issue 13, corpus-level part).
 *
 * The bootstrap recomputes the metric on every resample from the summed counts of the drawn
 * examples. It draws exactly the resample indices fe_stats_bootstrap draws when it resamples
 * examples (same seed, same chunk streams, n draws per replicate: metrics/stats_rng.h), and the
 * same indices for every arm, so per-arm replicates are paired and a delta replicate is the
 * difference of two arms' replicates. Cost per replicate: O(n) count additions per arm plus
 * O(classes). The approximate-randomization test (Riezler & Maxwell 2005; Noreen 1989) swaps
 * the two arms' contributions of each example with probability 1/2 for R seeded rounds:
 * p = (1 + #{|delta*| >= |delta|}) / (R + 1), ties within 1e-12.
 */
#ifndef FE_STATS_CORPUS_H
#define FE_STATS_CORPUS_H

#include <stddef.h>

#include <cjson/cJSON.h>

#include "metrics/corpus.h"
#include "metrics/stats.h"

/* Writes out[a * B + b]: the metric of arm a on bootstrap resample b, for every arm. n > 0. */
void fe_corpus_bootstrap(const struct fe_corpus *c, size_t B, unsigned long seed, double *out);

/* The approximate-randomization p of arms a and b (R rounds, seeded). 1 when the metric is
 * equal in both arms. */
double fe_corpus_randomization_p(const struct fe_corpus *c, size_t a, size_t b, size_t R,
                                 unsigned long seed);

/* The per-arm metric object of summary.json for a corpus metric of arm a (all of its examples):
 * {"n", "mean" (the corpus value, so every reader of "mean" shows it), "value", "corpus": true,
 * "se" (SD of the bootstrap replicates), "ci" (percentile), "ci_method":
 * "bootstrap_corpus_percentile", "ci_level", "resamples", "seed", "detail":
 * fe_corpus_describe(...)}. Null values when n == 0; no CI when n < 2. Caller deletes. */
cJSON *fe_stats_corpus_arm(const struct fe_corpus *c, size_t a, const struct fe_stats_opts *o,
                           size_t max_labels);

/* Rewrites one "comparisons" entry (built by fe_stats_comparisons from per-example scores) for
 * the corpus metric: mean_a, mean_b, delta are the corpus values; ci, p_bootstrap from the
 * paired corpus bootstrap boot (fe_corpus_bootstrap of c, B = o->resamples; NULL when n < 2);
 * se_paired the SD of the delta replicates; p_randomization (and p_permutation, the same test)
 * from fe_corpus_randomization_p with seed ar_seed; p_adjusted_source "p_randomization"; mde and
 * n_needed from that SE; statistics of per-example scores that do not apply are null
 * (ci_bca, p_mcnemar, p_ttest) with "corpus_note" saying why. Holm is applied afterwards by
 * the caller over the family (fe_stats_families). */
void fe_stats_corpus_comparison(cJSON *e, const struct fe_corpus *c, const double *boot, size_t a,
                                size_t b, const struct fe_stats_opts *o, unsigned long ar_seed);

#endif
