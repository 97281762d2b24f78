/* stats.c — options, closed-form building blocks and the per-arm "metrics" object
 * (STATISTICS.md §2). Resampling lives in stats_boot.c, comparisons in stats_compare.c. */
#include "metrics/stats.h"
#include "harness/base/jsonout.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_cdf.h>
#include <gsl/gsl_errno.h>
#include <gsl/gsl_randist.h>

#include "harness/base/util.h"
#include "metrics/stats_vec.h"

void fe_stats_opts_default(struct fe_stats_opts *o)
{
    o->seed = 20261124;
    o->resamples = 10000;
    o->alpha = 0.05;
    o->correction = FE_CORRECTION_HOLM;
    o->family_all = false;
}

void fe_stats_global_init(void) { gsl_set_error_handler_off(); }

bool fe_stats_mean_se(const double *x, size_t n, double *mean, double *se)
{
    return fe_vec_mean_se(fe_vec_of(x), n, mean, se);
}

bool fe_vec_mean_se(struct fe_vec x, size_t n, double *mean, double *se)
{
    *mean = 0;
    *se = 0;
    if (n == 0)
        return false;
    double s = 0;
    for (size_t i = 0; i < n; i++)
        s += fe_vec_at(x, i);
    double m = s / (double)n;
    *mean = m;
    if (n < 2)
        return false;
    /* two-pass variance: exact for constant data, stable for scores in [0, 1] */
    double ss = 0;
    for (size_t i = 0; i < n; i++) {
        double xi = fe_vec_at(x, i);
        ss += (xi - m) * (xi - m);
    }
    *se = sqrt(ss / (double)(n - 1)) / sqrt((double)n);
    return true;
}

void fe_stats_wilson(size_t k, size_t n, double alpha, double *lo, double *hi)
{
    if (n == 0) {
        *lo = 0;
        *hi = 1;
        return;
    }
    double z = gsl_cdf_ugaussian_Qinv(alpha / 2);
    double nn = (double)n, ph = (double)k / nn, z2 = z * z;
    double centre = (ph + z2 / (2 * nn)) / (1 + z2 / nn);
    double half = z / (1 + z2 / nn) * sqrt(ph * (1 - ph) / nn + z2 / (4 * nn * nn));
    *lo = fmax(0.0, centre - half);
    *hi = fmin(1.0, centre + half);
}

/* Sort helper for fe_stats_cluster_ids: by key, then by position, so that the first
 * occurrence of each key comes first in its run. */
struct fe_keyidx {
    const char *key;
    size_t i;
};

static int fe_keyidx_cmp(const void *pa, const void *pb)
{
    const struct fe_keyidx *a = pa, *b = pb;
    int c = strcmp(a->key, b->key);
    if (c)
        return c;
    return (a->i > b->i) - (a->i < b->i);
}

size_t *fe_stats_cluster_ids(const char *const *keys, size_t n, size_t *n_clusters)
{
    *n_clusters = 0;
    if (!keys || n == 0)
        return NULL;
    struct fe_keyidx *ki = fe_xreallocarray(NULL, n, sizeof(*ki));
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        if (keys[i])
            ki[m++] = (struct fe_keyidx){keys[i], i};
    qsort(ki, m, sizeof(*ki), fe_keyidx_cmp);
    /* leader[i] = first position of i's key (or i itself for a NULL key) */
    size_t *leader = fe_xreallocarray(NULL, n, sizeof(*leader));
    for (size_t i = 0; i < n; i++)
        leader[i] = i;
    for (size_t r = 0; r < m;) {
        size_t s = r;
        while (s < m && strcmp(ki[s].key, ki[r].key) == 0)
            leader[ki[s++].i] = ki[r].i;
        r = s;
    }
    size_t *ids = fe_xreallocarray(NULL, n, sizeof(*ids));
    size_t next = 0;
    for (size_t i = 0; i < n; i++)
        ids[i] = leader[i] == i ? next++ : ids[leader[i]];
    *n_clusters = next;
    free(leader);
    free(ki);
    return ids;
}

double fe_stats_se_clustered(const double *x, size_t n, const size_t *cluster_ids,
                             size_t n_clusters)
{
    return fe_vec_se_clustered(fe_vec_of(x), n, cluster_ids, n_clusters);
}

double fe_vec_se_clustered(struct fe_vec x, size_t n, const size_t *cluster_ids, size_t n_clusters)
{
    if (n == 0 || n_clusters == 0)
        return 0;
    double mean, se;
    fe_vec_mean_se(x, n, &mean, &se);
    double *sum = fe_xcalloc(n_clusters, sizeof(*sum));
    for (size_t i = 0; i < n; i++)
        sum[cluster_ids[i]] += fe_vec_at(x, i) - mean;
    double ss = 0;
    for (size_t c = 0; c < n_clusters; c++)
        ss += sum[c] * sum[c];
    free(sum);
    return sqrt(ss) / (double)n;
}

void fe_stats_mcnemar(size_t b, size_t c, double *p_exact, double *p_midp)
{
    size_t nn = b + c, k = b < c ? b : c;
    if (nn == 0) {
        *p_exact = 1;
        *p_midp = 1;
        return;
    }
    double cdf = gsl_cdf_binomial_P((unsigned)k, 0.5, (unsigned)nn);
    double pk = gsl_ran_binomial_pdf((unsigned)k, 0.5, (unsigned)nn);
    *p_exact = fmin(1.0, 2 * cdf);
    *p_midp = fmin(1.0, fmax(0.0, 2 * cdf - pk));
}

bool fe_stats_ttest_p(const double *d, size_t n, double *p)
{
    return fe_vec_ttest_p(fe_vec_of(d), n, p);
}

bool fe_vec_ttest_p(struct fe_vec d, size_t n, double *p)
{
    *p = 1;
    double mean, se;
    if (!fe_vec_mean_se(d, n, &mean, &se))
        return false;
    if (se == 0) {
        *p = mean == 0 ? 1.0 : 0.0;
        return true;
    }
    double t = fabs(mean / se);
    *p = fmin(1.0, 2 * gsl_cdf_tdist_Q(t, (double)(n - 1)));
    return true;
}

struct fe_pidx {
    double p;
    size_t i;
};

static int fe_pidx_cmp(const void *pa, const void *pb)
{
    const struct fe_pidx *a = pa, *b = pb;
    if (a->p != b->p)
        return a->p < b->p ? -1 : 1;
    return (a->i > b->i) - (a->i < b->i);
}

void fe_stats_adjust(const double *p, size_t m, enum fe_correction how, double *adj)
{
    if (m == 0)
        return;
    struct fe_pidx *s = fe_xreallocarray(NULL, m, sizeof(*s));
    for (size_t i = 0; i < m; i++)
        s[i] = (struct fe_pidx){p[i], i};
    if (how == FE_CORRECTION_HOLM) {
        qsort(s, m, sizeof(*s), fe_pidx_cmp);
        double run = 0;
        for (size_t j = 0; j < m; j++) {
            double v = fmin(1.0, (double)(m - j) * s[j].p);
            run = fmax(run, v);
            adj[s[j].i] = run;
        }
    } else if (how == FE_CORRECTION_BONFERRONI) {
        for (size_t i = 0; i < m; i++)
            adj[i] = fmin(1.0, (double)m * s[i].p);
    } else {
        for (size_t i = 0; i < m; i++)
            adj[i] = s[i].p;
    }
    free(s);
}

const char *fe_stats_correction_name(enum fe_correction how)
{
    switch (how) {
    case FE_CORRECTION_HOLM:
        return "holm";
    case FE_CORRECTION_BONFERRONI:
        return "bonferroni";
    case FE_CORRECTION_NONE:
        break;
    }
    return "none";
}

double fe_stats_quantile_sorted(const double *sorted, size_t n, double q)
{
    /* numpy 'linear' (Hyndman & Fan type 7), same as gsl_stats_quantile_from_sorted_data */
    double h = (double)(n - 1) * q;
    if (h <= 0)
        return sorted[0];
    size_t lo = (size_t)floor(h);
    if (lo >= n - 1)
        return sorted[n - 1];
    double f = h - (double)lo;
    return sorted[lo] + f * (sorted[lo + 1] - sorted[lo]);
}

/* Per-arm uncertainty. Every registered metric lies in [0, 1] (metric.h), so an interval
 * outside it says nothing true: binary metrics get the Wilson score interval as "ci" (it stays in
 * [0, 1] and is right at small n or near 0 and 1, where mean +- z*se is not: 2 of 3 gave
 * [1.3, 132.0] %), continuous ones the normal interval with the exact z_{0.975} (1.959964)
 * clamped to [0, 1]. The unclamped normal interval stays available as "ci_normal". Cluster-robust
 * SE with a warning when it exceeds 1.5 x the iid SE. */
cJSON *fe_stats_arm_metrics(const struct fe_score_table *t, size_t arm)
{
    cJSON *out = cJSON_CreateObject();
    if (!t || arm >= t->n_arms)
        return out;
    const double alpha = 0.05;
    double z = gsl_cdf_ugaussian_Qinv(alpha / 2);
    size_t n_cl = 0;
    size_t *cl = fe_stats_cluster_ids(t->cluster, t->n, &n_cl);
    for (size_t m = 0; m < t->n_metrics; m++) {
        const struct fe_col x = fe_score_vec(t, arm, m);
        bool binary = t->metric_binary && t->metric_binary[m];
        cJSON *o = cJSON_AddObjectToObject(out, t->metric_names[m]);
        cJSON_AddNumberToObject(o, "n", (double)t->n);
        double mean, se;
        bool has_se = fe_vec_mean_se(fe_vec_col(x), t->n, &mean, &se);
        double wlo = 0, whi = 1;
        if (binary && t->n > 0) {
            size_t k = 0;
            for (size_t i = 0; i < t->n; i++)
                k += fe_col_at(x, i) >= 0.5;
            fe_stats_wilson(k, t->n, alpha, &wlo, &whi);
        }
        if (t->n == 0) {
            cJSON_AddNullToObject(o, "mean");
            cJSON_AddNullToObject(o, "se");
            cJSON_AddNullToObject(o, "ci");
        } else {
            fe_json_add_num(o, "mean", mean);
            if (has_se)
                fe_json_add_num(o, "se", se);
            else
                cJSON_AddNullToObject(o, "se");
            if (binary)
                fe_json_add_pair(o, "ci", wlo, whi);
            else if (has_se)
                fe_json_add_pair(o, "ci", fmax(0.0, mean - z * se), fmin(1.0, mean + z * se));
            else
                cJSON_AddNullToObject(o, "ci");
        }
        cJSON_AddStringToObject(o, "ci_method", binary ? "wilson" : "normal_clamped");
        if (t->n > 0 && has_se)
            fe_json_add_pair(o, "ci_normal", mean - z * se, mean + z * se);
        else
            cJSON_AddNullToObject(o, "ci_normal");
        if (binary) {
            if (t->n == 0)
                cJSON_AddNullToObject(o, "wilson");
            else
                fe_json_add_pair(o, "wilson", wlo, whi);
        }
        if (cl && n_cl < 2) {
            cJSON_AddNullToObject(o, "se_clustered");
            cJSON_AddNumberToObject(o, "n_clusters", (double)n_cl);
            cJSON_AddStringToObject(o, "warning", "one cluster: the clustered SE is undefined");
        } else if (cl) {
            double se_cl = fe_vec_se_clustered(fe_vec_col(x), t->n, cl, n_cl);
            fe_json_add_num(o, "se_clustered", se_cl);
            cJSON_AddNumberToObject(o, "n_clusters", (double)n_cl);
            if (has_se && se_cl > 1.5 * se) {
                char *w = fe_xasprintf("clustered SE is %.2fx the iid SE: examples within a "
                                       "cluster are correlated, use se_clustered",
                                       se_cl / se);
                cJSON_AddStringToObject(o, "warning", w);
                free(w);
            }
        }
    }
    free(cl);
    return out;
}
