/* stats.h — per-arm uncertainty and paired comparisons (STATISTICS.md §2–§4).
 * The only module that includes GSL. Owner: statistics.
 *
 * Input is a score table: for each arm and metric, one score per example, all arms paired by
 * example (row i is the same example in every arm). The same seed gives byte-identical output.
 */
#ifndef FE_STATS_H
#define FE_STATS_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

#include "harness/base/err.h"
#include "metrics/score_col.h"

struct fe_score_table {
    size_t n; /* paired examples */
    size_t n_arms;
    const char *const *arm_names;
    size_t n_metrics;
    const char *const *metric_names;
    const bool *metric_binary;  /* per metric */
    const double *scores;       /* scores[(arm * n_metrics + metric) * n + i] */
    const char *const *cluster; /* per example cluster key, or NULL for none */
    const struct fe_col *cols;  /* or, instead of scores, one column per arm and metric:
                                 * cols[arm * n_metrics + metric] (a loaded run's own columns,
                                 * read without a copy) */
};

/* The n scores of arm's metric m in t, whichever of the two layouts t uses. */
static inline struct fe_col fe_score_vec(const struct fe_score_table *t, size_t arm, size_t m)
{
    return t->cols ? t->cols[arm * t->n_metrics + m]
                   : fe_col_of(t->scores + (arm * t->n_metrics + m) * t->n);
}

enum fe_correction { FE_CORRECTION_HOLM = 0, FE_CORRECTION_NONE, FE_CORRECTION_BONFERRONI };

struct fe_stats_opts {
    unsigned long seed; /* default 20261124 */
    size_t resamples;   /* B, default 10000 */
    double alpha;       /* default 0.05 */
    enum fe_correction correction;
    bool family_all; /* stats.family "all": every metric in the decision family (stats_holm.h) */
};

void fe_stats_opts_default(struct fe_stats_opts *o);

/* Called once from main: turns GSL's abort-on-error handler off. */
void fe_stats_global_init(void);

/* The "metrics" object of one arm in summary.json:
 * {"exact_match": {"n", "mean", "se", "ci": [lo, hi], "ci_method": "wilson" | "normal_clamped",
 *  "ci_normal": [lo, hi], "wilson": [lo, hi] (binary), "se_clustered"?, "n_clusters"?,
 *  "warning"?}, ...}
 * ci: binary metrics the 95% Wilson score interval (defined from n = 1), others mean +- z_{0.975}
 * se clamped to [0, 1] (every metric lies in [0, 1]); ci_normal the unclamped normal interval.
 * "warning" when se_clustered > 1.5 se. Never NaN: empty arms give null values (n = 1: null se,
 * ci_normal and, for continuous metrics, ci). Caller deletes. */
cJSON *fe_stats_arm_metrics(const struct fe_score_table *t, size_t arm);

/* The "comparisons" array of summary.json: every arm against baseline_arm for every metric
 * (ordered by metric, then arm), adjusted over that family; all comparisons share one bootstrap.
 * Fields (docs/statistics.md): a, b, metric, binary, n, mean_a, mean_b, delta, se_paired,
 * se_clustered?, n_clusters?, warning?, ci, ci_method, ci_level, ci_bca, ci_bca_note?,
 * p_bootstrap, bootstrap_note?, resample_unit, p_permutation, permutation_exact,
 * permutation_nonzero, p_mcnemar, p_mcnemar_midp, mcnemar_b?, mcnemar_c?, p_ttest,
 * p_adjusted_source ("p_mcnemar" for binary metrics without clusters, else "p_bootstrap"),
 * mde, n_needed, resamples, seed, alpha, p_adjusted, adjustment, family_size, significant,
 * inconclusive. Undefined values are null, never NaN.
 * Returns NULL with err set on invalid input (bad options or baseline, non-finite scores,
 * non-0/1 scores of a binary metric). Caller deletes. */
cJSON *fe_stats_comparisons(const struct fe_score_table *t, size_t baseline_arm,
                            const struct fe_stats_opts *o, struct fe_err *err);

/* ---- Lower-level building blocks (also used by `compare`, `run --nightly`, data checks) ----
 * All are pure functions of their inputs (the resampling ones of their seed); none allocates
 * memory that outlives the call unless it says so, none returns NaN: "undefined" is reported
 * through a false return or a null JSON value. */

/* Mean and standard error (ddof 1) of x[0..n). Returns false (and zeros) when n < 2 for the SE
 * (mean is still set when n == 1); false and zeros when n == 0. */
bool fe_stats_mean_se(const double *x, size_t n, double *mean, double *se);

/* Wilson score interval for k successes in n trials at confidence 1 - alpha (n > 0). */
void fe_stats_wilson(size_t k, size_t n, double alpha, double *lo, double *hi);

/* Maps per-example cluster keys to dense ids 0..*n_clusters-1 in order of first appearance
 * (a NULL key is a cluster of its own). Returns newly allocated ids[n] (caller frees), or NULL
 * when keys is NULL or n == 0. */
size_t *fe_stats_cluster_ids(const char *const *keys, size_t n, size_t *n_clusters);

/* Cluster-robust SE of the mean: sqrt(sum_c (sum_{i in c} (x_i - mean))^2) / n (STATISTICS §2). */
double fe_stats_se_clustered(const double *x, size_t n, const size_t *cluster_ids,
                             size_t n_clusters);

/* McNemar on the discordant counts b = #(a=1,b=0), c = #(a=0,b=1): exact two-sided
 * min(1, 2 P(Binom(b+c, 1/2) <= min(b,c))) and the mid-p. b + c == 0 gives 1 and 1. */
void fe_stats_mcnemar(size_t b, size_t c, double *p_exact, double *p_midp);

/* Two-sided paired t-test p from the differences. false when undefined (n < 2); when the
 * differences are constant the limit is used: p = 1 if they are all 0, else 0. */
bool fe_stats_ttest_p(const double *d, size_t n, double *p);

/* Multiple-comparison adjustment of p[0..m) into adj[0..m) (may alias p). Holm:
 * sorted ascending, adj(i) = max_{j<=i} min(1, (m-j+1) p(j)); ties keep input order. */
void fe_stats_adjust(const double *p, size_t m, enum fe_correction how, double *adj);
const char *fe_stats_correction_name(enum fe_correction how);

/* Type-7 quantile (linear interpolation, numpy's default) of ascending sorted x[0..n), n > 0. */
double fe_stats_quantile_sorted(const double *sorted, size_t n, double q);

/* Paired bootstrap of the mean difference for k comparisons at once, sharing every resample.
 * d holds the differences interleaved by example: d[i * k + j] is example i of comparison j.
 * With cluster ids (n_clusters > 0) whole clusters are resampled and the statistic is
 * sum D_c / sum n_c over the sampled clusters; else examples are resampled. When the rows of d
 * take few distinct values (binary metrics) each replicate is drawn as one multinomial over the
 * distinct rows, which is the same resampling distribution (STATISTICS §5).
 * Writes out[j * B + b]. Deterministic in seed and independent of threading. n > 0. */
void fe_stats_bootstrap(const double *d, size_t n, size_t k, const size_t *cluster_ids,
                        size_t n_clusters, size_t B, unsigned long seed, double *out);
/* fe_stats_bootstrap of the differences a[j][i] - b[j][i] (the same bits as d holding them):
 * the differences are computed as they are read and held only when examples are resampled one
 * by one (rows with many distinct values), never for clusters or a few distinct rows. */
void fe_stats_bootstrap_paired(const double *const *a, const double *const *b, size_t n, size_t k,
                               const size_t *cluster_ids, size_t n_clusters, size_t B,
                               unsigned long seed, double *out);

/* Sign-flip permutation p of the paired differences d[0..n): zeros are dropped; with <= 40
 * non-zero differences the 2^k flips are enumerated exactly (*exact = true), else R random flips
 * seeded by seed: p = (1 + #{|T| >= |S|}) / (R + 1). Ties use a relative tolerance of 1e-10. */
double fe_stats_signflip_p(const double *d, size_t n, size_t R, unsigned long seed, bool *exact);

/* BCa interval (Efron 1987) from bootstrap replicates (sorted ascending) of the ratio statistic
 * sum(D) / sum(w) over m resampling units with totals D[u] and sizes w[u] (w NULL: all 1, i.e.
 * examples; with clusters D are cluster sums of d and w cluster sizes). z0 counts replicates
 * below delta plus half the ties; the acceleration comes from the jackknife over units, which
 * for a plain mean is sum U^3 / (6 (sum U^2)^{3/2}), U_i = d_i - mean. Returns false with a short
 * reason in *why (static string) when undefined (constant differences, one unit, every replicate
 * on one side of delta). */
bool fe_stats_bca(const double *D, const double *w, size_t m, double delta,
                  const double *sorted_boot, size_t B, double alpha, double *lo, double *hi,
                  const char **why);

/* Everything about one paired comparison of two score vectors a and b (pairs i are the same
 * example): the object of one "comparisons" entry, with p_adjusted = the raw adjusted-source p
 * (a family of one). cluster may be NULL. names may be NULL. Returns NULL with err set on
 * invalid input (non-finite scores, non-0/1 scores when binary). Caller deletes. */
cJSON *fe_stats_compare_pair(const double *a, const double *b, size_t n, bool binary,
                             const char *const *cluster, const char *metric, const char *name_a,
                             const char *name_b, const struct fe_stats_opts *o, struct fe_err *err);

/* Non-inferiority of candidate a against baseline b with margin m >= 0 (STATISTICS §3): the
 * one-sided (1 - alpha) lower bound of delta = mean(a - b) from the paired (cluster) bootstrap
 * percentile, and the normal-theory one; pass iff the bootstrap bound > -margin; inconclusive
 * when that bound lies within 2 Monte Carlo SE of -margin. n == 0 gives defined = false. */
struct fe_noninferiority {
    bool defined;
    double delta;
    double lower;        /* bootstrap percentile lower bound */
    double lower_normal; /* delta - z_{1-alpha} * SE (clustered SE with clusters) */
    double margin;
    double mc_se; /* Monte Carlo SE of the bootstrap bound */
    bool pass;
    bool inconclusive;
};
void fe_stats_noninferiority(const double *a, const double *b, size_t n, const char *const *cluster,
                             double margin, const struct fe_stats_opts *o,
                             struct fe_noninferiority *out);

/* Chi-square test of homogeneity for label drift: counts_a[0..k) and counts_b[0..k) are label
 * counts of two samples; categories empty in both are dropped. No continuity correction.
 * Returns false when undefined (a sample is empty or fewer than 2 categories remain: then
 * stat 0, df 0, p 1). */
bool fe_stats_chisq_drift(const size_t *counts_a, const size_t *counts_b, size_t k, double *stat,
                          double *df, double *p);

#endif
