/* drift.h — tests for drift between two runs' outputs, and the analytic paired tests `compare`
 * falls back on. Owner: compare. Uses GSL (chi-square, t, binomial and normal distributions).
 *
 * All functions are pure: no allocation that outlives the call, no NaN in the outputs.
 * "Undefined" (too little data) is reported through a false return or `defined = false`, with
 * p = 1 so that nothing undefined is ever flagged.
 */
#ifndef FE_DRIFT_H
#define FE_DRIFT_H

#include <stdbool.h>
#include <stddef.h>

/* Chi-square test of homogeneity of a 2 x k contingency table (counts of two samples over the
 * same k categories). Categories empty in both samples are dropped; df = (k_used - 1). No Yates
 * continuity correction (scipy.stats.chi2_contingency(..., correction=False) gives the same
 * numbers; scipy's default applies Yates only when df = 1). p = gsl_cdf_chisq_Q(stat, df). */
struct fe_chisq {
    bool defined;          /* false: a sample is empty or fewer than 2 categories remain */
    double stat;
    double df;
    double p;
    double min_expected;   /* smallest expected cell count (< 5: the approximation is rough) */
    size_t k_used;
};
bool fe_drift_chisq(const size_t *counts_a, const size_t *counts_b, size_t k, struct fe_chisq *out);

/* Paired t-test on the differences d[0..n): mean, SD (ddof 1), SE = SD/sqrt(n), t = mean/SE,
 * df = n - 1, two-sided p = 2 Q_t(|t|; df), and the two-sided (1 - alpha) t interval. Constant
 * differences: SE 0 and the limit p = 1 when all are 0, else 0. Returns false (defined = false,
 * p = 1) when n < 2. */
struct fe_paired_t {
    bool defined;
    size_t n;
    double mean, sd, se, t, df, p;
    double lo, hi;
};
bool fe_drift_paired_t(const double *d, size_t n, double alpha, struct fe_paired_t *out);

/* Exact two-sided McNemar p on the discordant counts b, c: min(1, 2 P(Binom(b + c, 1/2) <=
 * min(b, c))); 1 when b + c = 0. */
double fe_drift_mcnemar(size_t b, size_t c);

/* Standard normal quantile and density (thin wrappers so callers need not include GSL). */
double fe_drift_norm_quantile(double p);
double fe_drift_norm_pdf(double x);

/* Minimum detectable effect of a paired test at two-sided alpha and the given power:
 * (z_{1-alpha/2} + z_{power}) * se. */
double fe_drift_mde(double se, double alpha, double power);

#endif
