/* stats_compare.c — the "comparisons" of summary.json (STATISTICS.md §3): one family of paired
 * comparisons sharing one bootstrap, Holm over the family, plus non-inferiority and label drift.
 *
 * Which p is adjusted (and decides "significant"): for a binary metric without clusters the
 * exact McNemar p (deterministic; it equals the exact sign-flip permutation p), otherwise the
 * paired (cluster) bootstrap p. The choice is written into every entry as "p_adjusted_source".
 * McNemar assumes independent pairs, so with clusters the cluster bootstrap decides.
 */
#include "metrics/stats.h"
#include "harness/base/jsonout.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_cdf.h>
#include <gsl/gsl_randist.h>

#include "harness/base/util.h"
#include "metrics/stats_vec.h"

struct fe_cmp_spec {
    struct fe_col a, b;
    bool binary;
    const char *metric, *name_a, *name_b;
};

static int fe_dcmp(const void *pa, const void *pb)
{
    double a = *(const double *)pa, b = *(const double *)pb;
    return (a > b) - (a < b);
}

static enum fe_status fe_check_opts(const struct fe_stats_opts *o, size_t n, struct fe_err *err)
{
    if (!o)
        return fe_err_set(err, FE_EINVALID, "statistics: options missing");
    if (o->resamples < 1 || o->resamples > 100000000)
        return fe_err_set(err, FE_EINVALID, "statistics: resamples: %zu out of range 1..1e8",
                          o->resamples);
    if (!(o->alpha > 0 && o->alpha < 1))
        return fe_err_set(err, FE_EINVALID, "statistics: alpha: %g not in (0, 1)", o->alpha);
    if (n > UINT32_MAX)
        return fe_err_set(err, FE_EINVALID, "statistics: %zu examples: at most 2^32-1", n);
    return FE_OK;
}

static enum fe_status fe_check_scores(const struct fe_cmp_spec *c, size_t n, struct fe_err *err)
{
    const struct fe_col v[2] = {c->a, c->b};
    const char *nm[2] = {c->name_a, c->name_b};
    for (int s = 0; s < 2; s++)
        for (size_t i = 0; i < n; i++) {
            double x = fe_col_at(v[s], i);
            if (!isfinite(x))
                return fe_err_set(err, FE_EINVALID,
                                  "arm '%s': metric '%s': example %zu: score "
                                  "is not a finite number",
                                  nm[s] ? nm[s] : "a", c->metric ? c->metric : "?", i);
            if (c->binary && x != 0 && x != 1)
                return fe_err_set(err, FE_EINVALID,
                                  "arm '%s': metric '%s': example %zu: score "
                                  "%g is not 0 or 1 for a binary metric",
                                  nm[s] ? nm[s] : "a", c->metric ? c->metric : "?", i, x);
        }
    return FE_OK;
}

/* Cluster totals of one difference vector: D[c] and sizes w[c]; the caller frees both. */
static void fe_cluster_totals(struct fe_vec d, size_t n, const size_t *cl, size_t n_cl, double **D,
                              double **w)
{
    *D = fe_xcalloc(n_cl, sizeof(double));
    *w = fe_xcalloc(n_cl, sizeof(double));
    for (size_t i = 0; i < n; i++) {
        (*D)[cl[i]] += fe_vec_at(d, i);
        (*w)[cl[i]] += 1;
    }
}

/* What every comparison of one family shares: the paired examples, their clusters, the shared
 * bootstrap draws (K per resample, or NULL when the bootstrap is degenerate) and the options. */
struct fe_family {
    size_t K, n, B;
    const size_t *cl; /* cluster id per example, or NULL */
    size_t n_cl;
    double *boot;     /* bootstrap means: boot[j * B + b], or NULL */
    double alpha;
    double z_a, z_pow; /* normal quantiles for the minimum detectable effect */
    const struct fe_stats_opts *o;
};

/* Step 1: who is compared, on what. */
static void fe_cmp_describe(cJSON *e, const struct fe_cmp_spec *c, size_t n)
{
    cJSON_AddStringToObject(e, "a", c->name_a ? c->name_a : "a");
    cJSON_AddStringToObject(e, "b", c->name_b ? c->name_b : "b");
    cJSON_AddStringToObject(e, "metric", c->metric ? c->metric : "metric");
    cJSON_AddBoolToObject(e, "binary", c->binary);
    cJSON_AddNumberToObject(e, "n", (double)n);
}

/* Step 2: means, the paired difference and its standard errors (paired, and clustered when
 * clusters exist). Returns the SE the power step uses in *se_eff (clustered when clusters
 * exist). */
static void fe_cmp_means(cJSON *e, const struct fe_family *f, const struct fe_cmp_spec *c,
                         struct fe_vec d, double *delta, double *se_eff)
{
    size_t n = f->n;
    double ma, mb, se, tmp;
    fe_vec_mean_se(fe_vec_col(c->a), n, &ma, &tmp);
    fe_vec_mean_se(fe_vec_col(c->b), n, &mb, &tmp);
    bool has_se = fe_vec_mean_se(d, n, delta, &se);
    double nan = NAN;
    fe_json_add_num(e, "mean_a", n ? ma : nan);
    fe_json_add_num(e, "mean_b", n ? mb : nan);
    fe_json_add_num(e, "delta", n ? *delta : nan);
    fe_json_add_num(e, "se_paired", has_se ? se : nan);
    *se_eff = has_se ? se : nan;
    if (!f->cl)
        return;
    double se_cl = f->n_cl >= 2 ? fe_vec_se_clustered(d, n, f->cl, f->n_cl) : nan;
    fe_json_add_num(e, "se_clustered", se_cl);
    cJSON_AddNumberToObject(e, "n_clusters", (double)f->n_cl);
    *se_eff = se_cl;
    if (has_se && isfinite(se_cl) && se_cl > 1.5 * se) {
        char *w = fe_xasprintf("clustered SE is %.2fx the paired SE: examples within a "
                               "cluster are correlated",
                               se_cl / se);
        cJSON_AddStringToObject(e, "warning", w);
        free(w);
    }
}

/* Step 3: the bootstrap of comparison j: percentile CI, shifted p, BCa. Returns p_bootstrap
 * (NaN when the bootstrap is degenerate). Sorts the comparison's bootstrap draws. */
static double fe_cmp_bootstrap(cJSON *e, const struct fe_family *f, size_t j, struct fe_vec d,
                               double delta)
{
    size_t n = f->n, B = f->B;
    double alpha = f->alpha;
    if (!f->boot) {
        cJSON_AddNullToObject(e, "ci");
        cJSON_AddStringToObject(e, "ci_method", "percentile");
        cJSON_AddNumberToObject(e, "ci_level", 1 - alpha);
        cJSON_AddNullToObject(e, "ci_bca");
        cJSON_AddNullToObject(e, "p_bootstrap");
        cJSON_AddStringToObject(e, "bootstrap_note",
                                n == 0  ? "no paired examples"
                                : n < 2 ? "one example: the bootstrap is degenerate"
                                        : "one cluster: the cluster bootstrap is degenerate");
        return NAN;
    }
    double *bs = f->boot + j * B;
    size_t hits = 0;
    for (size_t b = 0; b < B; b++)
        hits += fabs(bs[b] - delta) >= fabs(delta);
    double p_boot = delta == 0 ? 1.0 : (1.0 + (double)hits) / ((double)B + 1.0);
    qsort(bs, B, sizeof(*bs), fe_dcmp);
    fe_json_add_pair(e, "ci", fe_stats_quantile_sorted(bs, B, alpha / 2),
                     fe_stats_quantile_sorted(bs, B, 1 - alpha / 2));
    cJSON_AddStringToObject(e, "ci_method", "percentile");
    cJSON_AddNumberToObject(e, "ci_level", 1 - alpha);
    double lo, hi;
    const char *why = NULL;
    bool ok;
    if (f->cl) {
        double *D, *w;
        fe_cluster_totals(d, n, f->cl, f->n_cl, &D, &w);
        ok = fe_vec_bca(fe_vec_of(D), w, f->n_cl, delta, bs, B, alpha, &lo, &hi, &why);
        free(D);
        free(w);
    } else {
        ok = fe_vec_bca(d, NULL, n, delta, bs, B, alpha, &lo, &hi, &why);
    }
    if (ok) {
        fe_json_add_pair(e, "ci_bca", lo, hi);
    } else {
        cJSON_AddNullToObject(e, "ci_bca");
        cJSON_AddStringToObject(e, "ci_bca_note", why);
    }
    fe_json_add_num(e, "p_bootstrap", p_boot);
    return p_boot;
}

/* Step 4: the sign-flip permutation test of comparison j (its own seed). */
static void fe_cmp_permutation(cJSON *e, const struct fe_family *f, size_t j, struct fe_vec d)
{
    size_t n = f->n;
    if (n == 0) {
        cJSON_AddNullToObject(e, "p_permutation");
        cJSON_AddBoolToObject(e, "permutation_exact", true);
        cJSON_AddNumberToObject(e, "permutation_nonzero", 0);
        return;
    }
    bool exact;
    unsigned long pseed = f->o->seed + 0x9e3779b9UL * (unsigned long)(j + 1);
    double pp = fe_vec_signflip_p(d, n, f->B, pseed, &exact);
    size_t nz = 0;
    for (size_t i = 0; i < n; i++)
        nz += fe_vec_at(d, i) != 0;
    fe_json_add_num(e, "p_permutation", pp);
    cJSON_AddBoolToObject(e, "permutation_exact", exact);
    cJSON_AddNumberToObject(e, "permutation_nonzero", (double)nz);
}

/* Step 5: McNemar for a binary metric. Returns its exact p (NaN when not computed). */
static double fe_cmp_mcnemar(cJSON *e, const struct fe_cmp_spec *c, struct fe_vec d, size_t n)
{
    if (!c->binary || n == 0) {
        cJSON_AddNullToObject(e, "p_mcnemar");
        cJSON_AddNullToObject(e, "p_mcnemar_midp");
        return NAN;
    }
    size_t bb = 0, cc = 0;
    for (size_t i = 0; i < n; i++) {
        double di = fe_vec_at(d, i);
        bb += di > 0;
        cc += di < 0;
    }
    double p_mc, midp;
    fe_stats_mcnemar(bb, cc, &p_mc, &midp);
    fe_json_add_num(e, "p_mcnemar", p_mc);
    fe_json_add_num(e, "p_mcnemar_midp", midp);
    cJSON_AddNumberToObject(e, "mcnemar_b", (double)bb);
    cJSON_AddNumberToObject(e, "mcnemar_c", (double)cc);
    return p_mc;
}

/* Step 6: power: the minimum detectable effect and the examples needed for the observed delta.
 * With constant differences (se 0) the power formula gives 0, which would claim any difference
 * is detectable: the MDE is undefined there (null, printed "n/a"). */
static void fe_cmp_power(cJSON *e, const struct fe_family *f, double se_eff, double delta)
{
    if (isfinite(se_eff) && se_eff > 0) {
        double mde = (f->z_a + f->z_pow) * se_eff;
        fe_json_add_num(e, "mde", mde);
        if (delta != 0) {
            double sd = se_eff * sqrt((double)f->n); /* per-example SD incl. design effect */
            double need = ceil(pow((f->z_a + f->z_pow) * sd / delta, 2));
            fe_json_add_num(e, "n_needed", need < 2 ? 2 : need);
        } else {
            cJSON_AddNullToObject(e, "n_needed");
        }
    } else {
        cJSON_AddNullToObject(e, "mde");
        cJSON_AddNullToObject(e, "n_needed");
        if (isfinite(se_eff))
            cJSON_AddStringToObject(e, "mde_note", "undefined: the paired differences are "
                                                   "constant (no variance to base power on)");
    }
}

/* One comparison (j) of the family, steps 1-6 in the order of its JSON keys. Sets the p that
 * the family adjusts (*p_src; 1 when missing) and whether it came from resampling. The paired
 * differences a[i] - b[i] are computed where they are read, never held (issue 14). */
static cJSON *fe_cmp_one(const struct fe_family *f, const struct fe_cmp_spec *c, size_t j,
                         double *p_src, bool *src_resampled)
{
    size_t n = f->n;
    const size_t *cl = f->cl;
    const struct fe_vec d = {c->a, c->b};
    cJSON *e = cJSON_CreateObject();
    fe_cmp_describe(e, c, n);
    double delta, se_eff;
    fe_cmp_means(e, f, c, d, &delta, &se_eff);
    double p_boot = fe_cmp_bootstrap(e, f, j, d, delta);
    cJSON_AddStringToObject(e, "resample_unit", cl ? "cluster" : "example");
    fe_cmp_permutation(e, f, j, d);
    double p_mc = fe_cmp_mcnemar(e, c, d, n);
    double pt;
    fe_json_add_num(e, "p_ttest", fe_vec_ttest_p(d, n, &pt) ? pt : NAN);

    /* the p that is adjusted and decides */
    bool use_mc = c->binary && !cl;
    double src = use_mc ? p_mc : p_boot;
    *p_src = isfinite(src) ? src : 1.0;
    *src_resampled = !use_mc && isfinite(src);
    cJSON_AddStringToObject(e, "p_adjusted_source", use_mc ? "p_mcnemar" : "p_bootstrap");

    fe_cmp_power(e, f, se_eff, delta);
    cJSON_AddNumberToObject(e, "resamples", (double)f->B);
    cJSON_AddNumberToObject(e, "seed", (double)f->o->seed);
    cJSON_AddNumberToObject(e, "alpha", f->alpha);
    return e;
}

/* Step 7: the multiplicity adjustment over the family, and the decision per comparison. */
static void fe_cmp_adjust(cJSON *arr, const struct fe_family *f, const double *p_src,
                          const bool *src_resampled)
{
    size_t K = f->K;
    double alpha = f->alpha;
    double *p_adj = fe_xcalloc(K ? K : 1, sizeof(double));
    fe_stats_adjust(p_src, K, f->o->correction, p_adj);
    size_t j = 0;
    for (cJSON *e = arr->child; e; e = e->next, j++) {
        cJSON_AddNumberToObject(e, "p_adjusted", p_adj[j]);
        cJSON_AddStringToObject(e, "adjustment", fe_stats_correction_name(f->o->correction));
        cJSON_AddNumberToObject(e, "family_size", (double)K);
        cJSON_AddBoolToObject(e, "significant", p_adj[j] < alpha);
        /* within Monte Carlo error of alpha: say so rather than flip a decision */
        bool inconclusive = false;
        if (src_resampled[j] && p_src[j] > 0) {
            double mult = p_adj[j] / p_src[j];
            double mc = sqrt(p_src[j] * (1 - p_src[j]) / (double)f->B);
            inconclusive = fabs(p_adj[j] - alpha) <= 3 * mult * mc;
        }
        cJSON_AddBoolToObject(e, "inconclusive", inconclusive);
    }
    free(p_adj);
}

/* One family: every spec shares the bootstrap resamples; Holm (or o->correction) over it. */
static cJSON *fe_family(const struct fe_cmp_spec *cs, size_t K, size_t n,
                        const char *const *cluster, const struct fe_stats_opts *o,
                        struct fe_err *err)
{
    if (fe_check_opts(o, n, err) != FE_OK)
        return NULL;
    for (size_t j = 0; j < K; j++)
        if (fe_check_scores(&cs[j], n, err) != FE_OK)
            return NULL;
    struct fe_family f = {.K = K, .n = n, .B = o->resamples, .alpha = o->alpha, .o = o};
    size_t *cl = fe_stats_cluster_ids(cluster, n, &f.n_cl);
    f.cl = cl;
    bool boot_ok = n >= 2 && (!cl || f.n_cl >= 2);

    /* the shared bootstrap reads the differences from the columns (the per-comparison steps
     * recompute their own column: less held at once) */
    if (boot_ok && K > 0) {
        struct fe_col *ca = fe_xcalloc(K, sizeof(*ca)), *cb = fe_xcalloc(K, sizeof(*cb));
        for (size_t j = 0; j < K; j++)
            ca[j] = cs[j].a, cb[j] = cs[j].b;
        f.boot = fe_xreallocarray(NULL, K * f.B, sizeof(double));
        fe_vec_bootstrap_paired(ca, cb, n, K, cl, f.n_cl, f.B, o->seed, f.boot);
        free(ca);
        free(cb);
    }
    f.z_a = gsl_cdf_ugaussian_Qinv(f.alpha / 2);
    f.z_pow = gsl_cdf_ugaussian_Pinv(0.8);

    double *p_src = fe_xcalloc(K ? K : 1, sizeof(double));
    bool *src_resampled = fe_xcalloc(K ? K : 1, sizeof(bool));
    cJSON *arr = cJSON_CreateArray();
    for (size_t j = 0; j < K; j++)
        cJSON_AddItemToArray(arr, fe_cmp_one(&f, &cs[j], j, &p_src[j], &src_resampled[j]));
    fe_cmp_adjust(arr, &f, p_src, src_resampled);
    free(src_resampled);
    free(p_src);
    free(f.boot);
    free(cl);
    return arr;
}

cJSON *fe_stats_comparisons(const struct fe_score_table *t, size_t baseline_arm,
                            const struct fe_stats_opts *o, struct fe_err *err)
{
    if (!t || (t->n > 0 && !t->scores && !t->cols) ||
        (t->n_metrics > 0 && !t->metric_names) || (t->n_arms > 0 && !t->arm_names)) {
        fe_err_set(err, FE_EINVALID, "statistics: incomplete score table");
        return NULL;
    }
    if (baseline_arm >= t->n_arms) {
        fe_err_set(err, FE_EINVALID, "statistics: baseline arm %zu: only %zu arms", baseline_arm,
                   t->n_arms);
        return NULL;
    }
    size_t K = (t->n_arms - 1) * t->n_metrics;
    struct fe_cmp_spec *cs = fe_xcalloc(K ? K : 1, sizeof(*cs));
    size_t j = 0;
    static const double none[1] = {0};
    for (size_t m = 0; m < t->n_metrics; m++)
        for (size_t a = 0; a < t->n_arms; a++) {
            if (a == baseline_arm)
                continue;
            cs[j].a = t->n ? fe_score_vec(t, a, m) : fe_col_of(none);
            cs[j].b = t->n ? fe_score_vec(t, baseline_arm, m) : fe_col_of(none);
            cs[j].binary = t->metric_binary && t->metric_binary[m];
            cs[j].metric = t->metric_names[m];
            cs[j].name_a = t->arm_names[a];
            cs[j].name_b = t->arm_names[baseline_arm];
            j++;
        }
    cJSON *r = fe_family(cs, K, t->n, t->cluster, o, err);
    free(cs);
    return r;
}

cJSON *fe_stats_compare_pair(const double *a, const double *b, size_t n, bool binary,
                             const char *const *cluster, const char *metric, const char *name_a,
                             const char *name_b, const struct fe_stats_opts *o, struct fe_err *err)
{
    static const double none[1] = {0};
    struct fe_cmp_spec c = {fe_col_of(n ? a : none), fe_col_of(n ? b : none), binary, metric,
                            name_a, name_b};
    cJSON *arr = fe_family(&c, 1, n, cluster, o, err);
    if (!arr)
        return NULL;
    cJSON *e = cJSON_DetachItemFromArray(arr, 0);
    cJSON_Delete(arr);
    return e;
}

void fe_stats_noninferiority(const double *a, const double *b, size_t n, const char *const *cluster,
                             double margin, const struct fe_stats_opts *o,
                             struct fe_noninferiority *out)
{
    memset(out, 0, sizeof(*out));
    out->margin = margin;
    if (n == 0 || !o || o->resamples < 1 || !(o->alpha > 0 && o->alpha < 1))
        return;
    size_t n_cl = 0;
    size_t *cl = fe_stats_cluster_ids(cluster, n, &n_cl);
    const struct fe_vec d = {fe_col_of(a), fe_col_of(b)}; /* read where used (issue 14) */
    double delta, se;
    bool has_se = fe_vec_mean_se(d, n, &delta, &se);
    out->delta = delta;
    if (has_se && (!cl || n_cl >= 2)) {
        if (cl)
            se = fe_vec_se_clustered(d, n, cl, n_cl);
        size_t B = o->resamples;
        double *bs = fe_xreallocarray(NULL, B, sizeof(*bs));
        fe_stats_bootstrap_paired(&a, &b, n, 1, cl, n_cl, B, o->seed, bs);
        qsort(bs, B, sizeof(*bs), fe_dcmp);
        double z = gsl_cdf_ugaussian_Qinv(o->alpha);
        out->defined = true;
        out->lower = fe_stats_quantile_sorted(bs, B, o->alpha);
        out->lower_normal = delta - z * se;
        /* SE of a sample quantile: sqrt(q(1-q)/B) / density, density from the normal approx */
        out->mc_se =
            se > 0 ? sqrt(o->alpha * (1 - o->alpha) / (double)B) / gsl_ran_ugaussian_pdf(z) * se
                   : 0;
        out->pass = out->lower > -margin;
        out->inconclusive = fabs(out->lower + margin) <= 2 * out->mc_se;
        free(bs);
    }
    free(cl);
}

bool fe_stats_chisq_drift(const size_t *counts_a, const size_t *counts_b, size_t k, double *stat,
                          double *df, double *p)
{
    *stat = 0;
    *df = 0;
    *p = 1;
    double na = 0, nb = 0;
    size_t used = 0;
    for (size_t i = 0; i < k; i++) {
        na += (double)counts_a[i];
        nb += (double)counts_b[i];
        used += counts_a[i] + counts_b[i] > 0;
    }
    if (na == 0 || nb == 0 || used < 2)
        return false;
    double tot = na + nb, s = 0;
    for (size_t i = 0; i < k; i++) {
        double col = (double)counts_a[i] + (double)counts_b[i];
        if (col == 0)
            continue;
        double ea = na * col / tot, eb = nb * col / tot;
        s += ((double)counts_a[i] - ea) * ((double)counts_a[i] - ea) / ea;
        s += ((double)counts_b[i] - eb) * ((double)counts_b[i] - eb) / eb;
    }
    *stat = s;
    *df = (double)(used - 1);
    *p = gsl_cdf_chisq_Q(s, *df);
    return true;
}
