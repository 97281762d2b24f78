/* ppi.h — the prediction-powered estimate of a mean (Angelopoulos et al. 2023, "Prediction-
 * powered inference", Science 382; mean estimation). Owner: statistics.
 *
 * A judge scores all N examples (f_all); humans rated n of them (f_rated: the judge's values on
 * those examples, h_rated: the humans' values, in the same order). On the human scale:
 *
 *   judge only:   mean(f_all),               SE^2 = s^2(f_all) / N
 *   human only:   mean(h),                   SE^2 = s^2(h) / n
 *   calibrated:   mean(f_all) + mean(h - f), SE^2 = s^2(f_all) / N + s^2(h - f) / n
 *
 * with s^2 the sample variance (ddof = 1, as every SE in fteval: ../shared/docs/STATISTICS.md
 * §2), intervals estimate +- z_{1-alpha/2} SE. The correction (rectifier) removes the judge's
 * bias on the human scale; the interval is as narrow as the judge is good. n_effective is the
 * number of human ratings that alone would give the calibrated SE: s^2(h) / SE^2.
 * A paired comparison of two arms is this estimate on the per-example differences.
 * Fields that cannot be computed (n < 2, N < 2, zero variance for n_effective) are NAN.
 */
#ifndef FE_PPI_H
#define FE_PPI_H

#include <stddef.h>

struct fe_ppi_part {
    double mean, se, ci_lo, ci_hi;
};

struct fe_ppi {
    size_t N, n;
    struct fe_ppi_part judge, human, calibrated;
    double correction;   /* mean(h - f) over the rated examples */
    double n_effective;  /* s^2(h) / calibrated.se^2 */
};

/* z_{1 - alpha/2}: the normal quantile of a two-sided (1 - alpha) interval. */
double fe_ppi_z(double alpha);

/* Fills out; alpha in (0, 1). */
void fe_ppi_mean(const double *f_all, size_t N, const double *f_rated, const double *h_rated,
                 size_t n, double alpha, struct fe_ppi *out);

#endif
