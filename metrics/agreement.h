/* agreement.h — agreement between raters (issue 12, human ratings). Owner: statistics.
 *
 * Pure numbers in, numbers out; no allocation the caller sees. Categories are indices
 * 0..k-1 in scale order (an ordinal scale: equally spaced). Every function returns NAN when the
 * statistic is undefined (no data, or no expected disagreement: every rating in one category),
 * never a made-up 0 or 1. Definitions (docs/human-ratings.md):
 *
 *   Cohen's kappa (1960), weighted kappa (Cohen 1968) with disagreement weights w_ij = 0
 *   (i = j) / 1 (unweighted), |i - j| (linear), (i - j)^2 (quadratic):
 *       kappa = 1 - sum_ij w_ij p_ij / sum_ij w_ij r_i c_j
 *   over the k x k table of proportions p (row: first rater, column: second) with margins r, c
 *   (statsmodels.stats.inter_rater.cohens_kappa computes the same).
 *   Fleiss' kappa (1971) over an items x categories count table, every item rated m >= 2 times:
 *       P_i = (sum_j n_ij^2 - m) / (m (m - 1)),  p_j = sum_i n_ij / (N m),
 *       kappa = (mean P_i - sum_j p_j^2) / (1 - sum_j p_j^2)   (statsmodels fleiss_kappa).
 *   Krippendorff's alpha (Krippendorff 2011, "Computing Krippendorff's Alpha-Reliability"):
 *   units x raters with missing values; units with fewer than 2 values are not pairable.
 *       o_ck = sum_u (number of c-k pairs in u) / (m_u - 1),  n_c = sum_k o_ck,  n = sum_c n_c
 *       alpha = 1 - (n - 1) sum_ck o_ck d_ck / sum_ck n_c n_k d_ck
 *   nominal d_ck = [c != k]; ordinal d_ck = (sum_{g=c..k} n_g - (n_c + n_k) / 2)^2.
 */
#ifndef FE_AGREEMENT_H
#define FE_AGREEMENT_H

#include <stdbool.h>
#include <stddef.h>

enum fe_kappa_weights { FE_KAPPA_NONE, FE_KAPPA_LINEAR, FE_KAPPA_QUADRATIC };

/* table[i * k + j]: how many items the first rater put in category i and the second in j. */
double fe_cohen_kappa(const double *table, size_t k, enum fe_kappa_weights w);

/* counts[i * k + j]: how many raters put item i in category j; every row must sum to the same
 * m >= 2 (else NAN). */
double fe_fleiss_kappa(const double *counts, size_t n_items, size_t k);

/* values[u * n_raters + r]: the category rater r gave unit u, or -1 when r did not rate u. */
double fe_kripp_alpha(const int *values, size_t n_units, size_t n_raters, size_t k, bool ordinal);

#endif
