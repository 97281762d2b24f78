/* agreement.c — Cohen's, weighted and Fleiss' kappa, Krippendorff's alpha (agreement.h). */
#include "metrics/agreement.h"

#include <math.h>
#include <stdlib.h>

#include "harness/base/util.h"

static double weight(size_t i, size_t j, enum fe_kappa_weights w)
{
    double d = (double)i - (double)j;
    switch (w) {
    case FE_KAPPA_LINEAR:
        return fabs(d);
    case FE_KAPPA_QUADRATIC:
        return d * d;
    case FE_KAPPA_NONE:
    default:
        return i == j ? 0.0 : 1.0;
    }
}

double fe_cohen_kappa(const double *table, size_t k, enum fe_kappa_weights w)
{
    if (k == 0)
        return NAN;
    double *row = fe_xcalloc(k, sizeof(*row)), *col = fe_xcalloc(k, sizeof(*col));
    double total = 0;
    for (size_t i = 0; i < k; i++)
        for (size_t j = 0; j < k; j++) {
            row[i] += table[i * k + j];
            col[j] += table[i * k + j];
            total += table[i * k + j];
        }
    double observed = 0, expected = 0;
    for (size_t i = 0; total > 0 && i < k; i++)
        for (size_t j = 0; j < k; j++) {
            observed += weight(i, j, w) * table[i * k + j] / total;
            expected += weight(i, j, w) * (row[i] / total) * (col[j] / total);
        }
    free(row);
    free(col);
    if (total <= 0 || expected <= 0)
        return NAN;
    return 1.0 - observed / expected;
}

double fe_fleiss_kappa(const double *counts, size_t n_items, size_t k)
{
    if (n_items == 0 || k == 0)
        return NAN;
    double m = 0;
    for (size_t j = 0; j < k; j++)
        m += counts[j];
    if (m < 2)
        return NAN;
    double *p = fe_xcalloc(k, sizeof(*p));
    double p_mean = 0;
    bool same = true;
    for (size_t i = 0; i < n_items; i++) {
        double sum = 0, sq = 0;
        for (size_t j = 0; j < k; j++) {
            double x = counts[i * k + j];
            sum += x;
            sq += x * x;
            p[j] += x;
        }
        same = same && sum == m;
        p_mean += (sq - m) / (m * (m - 1));
    }
    p_mean /= (double)n_items;
    double pe = 0;
    for (size_t j = 0; j < k; j++) {
        double pj = p[j] / ((double)n_items * m);
        pe += pj * pj;
    }
    free(p);
    if (!same || pe >= 1)
        return NAN;
    return (p_mean - pe) / (1 - pe);
}

/* The squared ordinal distance of Krippendorff 2011 between categories c and k, from the
 * margins n[] of the coincidence matrix. */
static double ordinal_delta(const double *n, size_t c, size_t k)
{
    size_t lo = c < k ? c : k, hi = c < k ? k : c;
    double s = 0;
    for (size_t g = lo; g <= hi; g++)
        s += n[g];
    s -= (n[c] + n[k]) / 2.0;
    return s * s;
}

double fe_kripp_alpha(const int *values, size_t n_units, size_t n_raters, size_t k, bool ordinal)
{
    if (k == 0)
        return NAN;
    double *o = fe_xcalloc(k * k, sizeof(*o)); /* k is a scale length: small */
    size_t *cnt = fe_xcalloc(k, sizeof(*cnt));
    for (size_t u = 0; u < n_units; u++) {
        size_t m = 0;
        for (size_t c = 0; c < k; c++)
            cnt[c] = 0;
        for (size_t r = 0; r < n_raters; r++) {
            int v = values[u * n_raters + r];
            if (v >= 0 && (size_t)v < k) {
                cnt[v]++;
                m++;
            }
        }
        if (m < 2)
            continue; /* not pairable */
        for (size_t c = 0; c < k; c++)
            for (size_t d = 0; d < k; d++) {
                double pairs = c == d ? (double)cnt[c] * ((double)cnt[c] - 1)
                                      : (double)cnt[c] * (double)cnt[d];
                o[c * k + d] += pairs / (double)(m - 1);
            }
    }
    free(cnt);
    double *nc = fe_xcalloc(k, sizeof(*nc));
    double n = 0;
    for (size_t c = 0; c < k; c++) {
        for (size_t d = 0; d < k; d++)
            nc[c] += o[c * k + d];
        n += nc[c];
    }
    double dobs = 0, dexp = 0;
    for (size_t c = 0; c < k; c++)
        for (size_t d = 0; d < k; d++) {
            double delta = ordinal ? ordinal_delta(nc, c, d) : (c != d ? 1.0 : 0.0);
            dobs += o[c * k + d] * delta;
            dexp += nc[c] * nc[d] * delta;
        }
    free(o);
    free(nc);
    if (n < 2 || dexp <= 0)
        return NAN;
    return 1.0 - (n - 1) * dobs / dexp;
}
