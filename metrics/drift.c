/* drift.c — see drift.h. */
#include "metrics/drift.h"

#include <math.h>

#include <gsl/gsl_cdf.h>
#include <gsl/gsl_randist.h>

bool fe_drift_chisq(const size_t *counts_a, const size_t *counts_b, size_t k, struct fe_chisq *out)
{
    *out = (struct fe_chisq){.defined = false, .p = 1.0};
    double na = 0, nb = 0;
    size_t used = 0;
    for (size_t j = 0; j < k; j++) {
        na += (double)counts_a[j];
        nb += (double)counts_b[j];
        if (counts_a[j] + counts_b[j] > 0)
            used++;
    }
    out->k_used = used;
    if (na <= 0 || nb <= 0 || used < 2)
        return false;
    double n = na + nb, stat = 0, min_e = INFINITY;
    for (size_t j = 0; j < k; j++) {
        double col = (double)(counts_a[j] + counts_b[j]);
        if (col <= 0)
            continue;
        double ea = na * col / n, eb = nb * col / n;
        double da = (double)counts_a[j] - ea, db = (double)counts_b[j] - eb;
        stat += da * da / ea + db * db / eb;
        if (ea < min_e)
            min_e = ea;
        if (eb < min_e)
            min_e = eb;
    }
    out->defined = true;
    out->stat = stat;
    out->df = (double)(used - 1);
    out->p = gsl_cdf_chisq_Q(stat, out->df);
    out->min_expected = min_e;
    return true;
}

bool fe_drift_paired_t(const double *d, size_t n, double alpha, struct fe_paired_t *out)
{
    *out = (struct fe_paired_t){.defined = false, .n = n, .p = 1.0};
    if (n == 0)
        return false;
    double mean = 0;
    for (size_t i = 0; i < n; i++)
        mean += (d[i] - mean) / (double)(i + 1); /* running mean: no overflow on long sums */
    out->mean = mean;
    out->lo = out->hi = mean;
    if (n < 2)
        return false;
    double ss = 0;
    for (size_t i = 0; i < n; i++)
        ss += (d[i] - mean) * (d[i] - mean);
    out->defined = true;
    out->df = (double)(n - 1);
    out->sd = sqrt(ss / out->df);
    out->se = out->sd / sqrt((double)n);
    if (out->se <= 0 || !isfinite(out->se)) {
        out->se = 0;
        out->t = 0;
        out->p = mean == 0 ? 1.0 : 0.0;
        return true;
    }
    out->t = mean / out->se;
    out->p = 2 * gsl_cdf_tdist_Q(fabs(out->t), out->df);
    if (out->p > 1)
        out->p = 1;
    double q = gsl_cdf_tdist_Pinv(1 - alpha / 2, out->df);
    out->lo = mean - q * out->se;
    out->hi = mean + q * out->se;
    return true;
}

double fe_drift_mcnemar(size_t b, size_t c)
{
    size_t n = b + c;
    if (n == 0)
        return 1.0;
    size_t k = b < c ? b : c;
    double p = 2 * gsl_cdf_binomial_P((unsigned int)k, 0.5, (unsigned int)n);
    return p > 1 ? 1.0 : p;
}

double fe_drift_norm_quantile(double p)
{
    return gsl_cdf_ugaussian_Pinv(p);
}

double fe_drift_norm_pdf(double x)
{
    return gsl_ran_ugaussian_pdf(x);
}

double fe_drift_mde(double se, double alpha, double power)
{
    return (gsl_cdf_ugaussian_Pinv(1 - alpha / 2) + gsl_cdf_ugaussian_Pinv(power)) * se;
}
