/* ppi.c — the prediction-powered mean (ppi.h). */
#include "metrics/ppi.h"

#include <math.h>

#include <gsl/gsl_cdf.h>

static double mean_of(const double *x, size_t n)
{
    double s = 0;
    for (size_t i = 0; i < n; i++)
        s += x[i];
    return n ? s / (double)n : NAN;
}

/* Sample variance (ddof = 1) of x, or of x - y when y is given. */
static double var_of(const double *x, const double *y, size_t n)
{
    if (n < 2)
        return NAN;
    double m = 0;
    for (size_t i = 0; i < n; i++)
        m += x[i] - (y ? y[i] : 0);
    m /= (double)n;
    double ss = 0;
    for (size_t i = 0; i < n; i++) {
        double d = x[i] - (y ? y[i] : 0) - m;
        ss += d * d;
    }
    return ss / (double)(n - 1);
}

static void part(struct fe_ppi_part *p, double mean, double var_of_mean, double z)
{
    p->mean = mean;
    p->se = sqrt(var_of_mean);
    p->ci_lo = mean - z * p->se;
    p->ci_hi = mean + z * p->se;
}

double fe_ppi_z(double alpha)
{
    return gsl_cdf_ugaussian_Pinv(1 - alpha / 2);
}

void fe_ppi_mean(const double *f_all, size_t N, const double *f_rated, const double *h_rated,
                 size_t n, double alpha, struct fe_ppi *out)
{
    double z = fe_ppi_z(alpha);
    out->N = N;
    out->n = n;
    double vf = var_of(f_all, NULL, N), vh = var_of(h_rated, NULL, n);
    double vd = var_of(h_rated, f_rated, n);
    double correction = mean_of(h_rated, n) - mean_of(f_rated, n);
    out->correction = correction;
    part(&out->judge, mean_of(f_all, N), vf / (double)N, z);
    part(&out->human, mean_of(h_rated, n), vh / (double)n, z);
    part(&out->calibrated, mean_of(f_all, N) + correction, vf / (double)N + vd / (double)n, z);
    double se2 = out->calibrated.se * out->calibrated.se;
    out->n_effective = se2 > 0 && vh > 0 ? vh / se2 : NAN;
}
