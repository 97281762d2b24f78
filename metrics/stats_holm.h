/* stats_holm.h — which comparisons form the decision family (issue 13). Owner: statistics.
 *
 * fe_stats_comparisons adjusts over every comparison it builds. The summary then calls
 * fe_stats_families, which splits the comparisons into families and applies the correction
 * (o->correction, Holm by default) within each family separately:
 *   "primary"   — the comparisons of the primary metric: the decision family;
 *   "secondary" — every other metric's comparisons, corrected among themselves;
 *   "duplicate" — a metric whose per-example scores equal another metric's in every arm (e.g.
 *                 accuracy and exact_match on single-label data): reported once — it joins no
 *                 family and copies p_adjusted, significant and inconclusive from the matching
 *                 comparison of the metric it duplicates ("duplicate_of", "note").
 * With o->family_all (config stats.family "all") every non-duplicate comparison is "primary":
 * one decision family over all metrics, as before issue 13.
 * Each entry gets "family" and has p_adjusted, adjustment, family_size, significant and
 * inconclusive recomputed; the p that is adjusted is the one "p_adjusted_source" names
 * (null counts as 1).
 */
#ifndef FE_STATS_HOLM_H
#define FE_STATS_HOLM_H

#include <stddef.h>

#include <cjson/cJSON.h>

#include "metrics/stats.h"

/* names[m] and dup_of[m] (NULL: not a duplicate) for the n metrics; primary may be NULL (no
 * primary family: every metric is secondary). */
void fe_stats_families(cJSON *comparisons, const char *primary, const char *const *names,
                       const char *const *dup_of, size_t n, const struct fe_stats_opts *o);

/* Metrics whose per-example scores are equal: scores[(arm * n_metrics + m) * n + i] as in
 * struct fe_score_table. Writes dup_of[m] = the name of the first metric (in order, but the
 * primary first) with the same scores in every arm, else NULL. skip[m] (may be NULL) excludes a
 * metric from the check (corpus metrics: their statistic is not the mean of these scores). */
void fe_stats_find_duplicates(const struct fe_score_table *t, const char *primary,
                              const bool *skip, const char **dup_of);

#endif
