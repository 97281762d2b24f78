/* test_stats.c — statistics module: edge cases, determinism, shared resamples, closed forms.
 * Reference values from scipy/statsmodels are checked in tests/stats_scipy_test.py; the few
 * literal numbers here are textbook closed forms (noted at each). */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_cdf.h>

#include "harness/base/util.h"
#include "metrics/stats.h"
#include "tests/t.h"

static const char *const arms3[] = {"base", "ft", "pr"};
static const char *const met2[] = {"exact_match", "f1"};
static const bool bin2[] = {true, false};

/* true when no number in the tree is NaN/Inf (cJSON prints those as null anyway; check the
 * doubles themselves so that a NaN never reaches a consumer of the tree) */
static bool finite_tree(const cJSON *j)
{
    if (cJSON_IsNumber(j) && !isfinite(j->valuedouble))
        return false;
    for (const cJSON *c = j ? j->child : NULL; c; c = c->next)
        if (!finite_tree(c))
            return false;
    return true;
}

static int t_dcmp(const void *pa, const void *pb)
{
    double a = *(const double *)pa, b = *(const double *)pb;
    return (a > b) - (a < b);
}

static double num(const cJSON *o, const char *k)
{
    const cJSON *x = cJSON_GetObjectItem(o, k);
    return cJSON_IsNumber(x) ? x->valuedouble : NAN;
}

static bool is_null(const cJSON *o, const char *k)
{
    return cJSON_IsNull(cJSON_GetObjectItem(o, k));
}

static const cJSON *find_cmp(const cJSON *arr, const char *a, const char *metric)
{
    const cJSON *e;
    cJSON_ArrayForEach(e, arr)
    {
        if (strcmp(cJSON_GetStringValue(cJSON_GetObjectItem(e, "a")), a) == 0 &&
            strcmp(cJSON_GetStringValue(cJSON_GetObjectItem(e, "metric")), metric) == 0)
            return e;
    }
    return NULL;
}

/* A 3-arm, 2-metric table with a deterministic pseudo-random fill. */
static double *make_scores(size_t n, uint32_t s)
{
    double *sc = fe_xcalloc(3 * 2 * n + 1, sizeof(*sc));
    for (size_t a = 0; a < 3; a++)
        for (size_t i = 0; i < n; i++) {
            s = s * 1664525u + 1013904223u;
            double u = (double)(s >> 8) / 16777216.0;
            sc[(a * 2 + 0) * n + i] = u < 0.55 + 0.1 * (double)a ? 1 : 0;
            sc[(a * 2 + 1) * n + i] = fmin(1.0, u * 0.9 + 0.05 * (double)a);
        }
    return sc;
}

static char *run_table(size_t n, const double *sc, const char *const *cl, unsigned long seed,
                       size_t B)
{
    struct fe_score_table t = {n, 3, arms3, 2, met2, bin2, sc, cl, NULL};
    struct fe_stats_opts o;
    fe_stats_opts_default(&o);
    o.seed = seed;
    o.resamples = B;
    struct fe_err err = {0};
    cJSON *root = cJSON_CreateObject();
    cJSON *arms = cJSON_AddObjectToObject(root, "arms");
    for (size_t a = 0; a < 3; a++)
        cJSON_AddItemToObject(arms, arms3[a], fe_stats_arm_metrics(&t, a));
    cJSON *c = fe_stats_comparisons(&t, 0, &o, &err);
    T_CHECK(c != NULL);
    if (c)
        cJSON_AddItemToObject(root, "comparisons", c);
    T_CHECK(finite_tree(root));
    char *s = cJSON_Print(root);
    cJSON_Delete(root);
    return s;
}

static void test_determinism(void)
{
    size_t n = 400;
    double *sc = make_scores(n, 1);
    char *a = run_table(n, sc, NULL, 42, 2000);
    char *b = run_table(n, sc, NULL, 42, 2000);
    T_CHECK_STR(a, b);
    /* independent of the number of threads */
    setenv("FTEVAL_STATS_THREADS", "1", 1);
    char *c1 = run_table(n, sc, NULL, 42, 2000);
    setenv("FTEVAL_STATS_THREADS", "3", 1);
    char *c3 = run_table(n, sc, NULL, 42, 2000);
    unsetenv("FTEVAL_STATS_THREADS");
    T_CHECK_STR(a, c1);
    T_CHECK_STR(a, c3);
    /* a different seed changes the resampled values (p_bootstrap, ci) of the f1 comparison */
    char *d = run_table(n, sc, NULL, 43, 2000);
    T_CHECK(strcmp(a, d) != 0);
    cJSON *ja = cJSON_Parse(a), *jd = cJSON_Parse(d);
    const cJSON *ca = find_cmp(cJSON_GetObjectItem(ja, "comparisons"), "ft", "f1");
    const cJSON *cd = find_cmp(cJSON_GetObjectItem(jd, "comparisons"), "ft", "f1");
    T_CHECK(ca && cd);
    if (ca && cd) {
        T_CHECK(num(ca, "p_bootstrap") != num(cd, "p_bootstrap") ||
                cJSON_GetArrayItem(cJSON_GetObjectItem(ca, "ci"), 0)->valuedouble !=
                    cJSON_GetArrayItem(cJSON_GetObjectItem(cd, "ci"), 0)->valuedouble);
        T_CHECK(num(ca, "delta") == num(cd, "delta")); /* deterministic parts unchanged */
        T_CHECK(num(ca, "p_ttest") == num(cd, "p_ttest"));
        T_CHECK(num(cd, "seed") == 43);
    }
    cJSON_Delete(ja);
    cJSON_Delete(jd);
    free(a);
    free(b);
    free(c1);
    free(c3);
    free(d);
    free(sc);
}

/* The resamples are shared: comparisons whose differences are equal, shifted or negated have
 * replicate distributions that are equal, shifted or mirrored exactly. Checked on the examples
 * path (continuous), the multinomial path (binary) and the cluster path. */
static void test_shared_resamples(void)
{
    size_t n = 300, B = 1000;
    double *d = fe_xcalloc(n * 4, sizeof(*d));
    uint32_t s = 7;
    for (size_t i = 0; i < n; i++) {
        s = s * 1664525u + 1013904223u;
        double u = (double)(s >> 8) / 16777216.0;
        d[i * 4 + 0] = u - 0.4;
        d[i * 4 + 1] = u - 0.4; /* same */
        d[i * 4 + 2] = u + 0.6; /* shifted by 1 */
        d[i * 4 + 3] = 0.4 - u; /* negated */
    }
    size_t *cl = fe_xcalloc(n, sizeof(*cl));
    for (size_t i = 0; i < n; i++)
        cl[i] = (i * 7) % 25;
    double *out = fe_xcalloc(4 * B, sizeof(*out));
    for (int pass = 0; pass < 3; pass++) {
        if (pass == 1) /* binary: few distinct rows -> multinomial */
            for (size_t i = 0; i < n; i++) {
                double v = d[i * 4] > 0.1 ? 1 : d[i * 4] < -0.2 ? -1 : 0;
                d[i * 4 + 0] = d[i * 4 + 1] = v;
                d[i * 4 + 2] = v + 1;
                d[i * 4 + 3] = -v;
            }
        fe_stats_bootstrap(d, n, 4, pass == 2 ? cl : NULL, pass == 2 ? 25 : 0, B, 99, out);
        int bad_same = 0, bad_shift = 0, bad_neg = 0, distinct = 0;
        for (size_t b = 0; b < B; b++) {
            bad_same += out[b] != out[B + b];
            bad_shift += fabs(out[2 * B + b] - out[b] - 1) > 1e-12;
            bad_neg += fabs(out[3 * B + b] + out[b]) > 1e-12;
            distinct += b > 0 && out[b] != out[b - 1];
        }
        T_CHECK(bad_same == 0);
        T_CHECK(bad_shift == 0);
        T_CHECK(bad_neg == 0);
        T_CHECK(distinct > (int)B / 4); /* really resampled */
    }
    /* k = 2 and 3 (rows padded to 4 internally): same property */
    for (size_t i = 0; i < n; i++) {
        double u = (double)((i * 2654435761u) % 1000) / 1000;
        d[i * 3 + 0] = u - 0.3;
        d[i * 3 + 1] = 0.3 - u;
        d[i * 3 + 2] = u + 0.7;
    }
    for (size_t k = 2; k <= 3; k++) {
        double *d2 = fe_xcalloc(n * k, sizeof(*d2));
        for (size_t i = 0; i < n; i++)
            memcpy(d2 + i * k, d + i * 3, k * sizeof(*d2));
        fe_stats_bootstrap(d2, n, k, NULL, 0, B, 5, out);
        int bad = 0, distinct = 0;
        for (size_t b = 0; b < B; b++) {
            bad += fabs(out[B + b] + out[b]) > 1e-12;
            if (k == 3)
                bad += fabs(out[2 * B + b] - out[b] - 1) > 1e-12;
            distinct += b > 0 && out[b] != out[b - 1];
        }
        T_CHECK(bad == 0);
        T_CHECK(distinct > (int)B / 4);
        free(d2);
    }
    free(out);
    free(cl);
    free(d);
}

static void test_edge_cases(void)
{
    struct fe_stats_opts o;
    fe_stats_opts_default(&o);
    o.resamples = 500;
    struct fe_err err = {0};

    /* n = 0 */
    struct fe_score_table t0 = {0, 3, arms3, 2, met2, bin2, NULL, NULL, NULL};
    cJSON *c = fe_stats_comparisons(&t0, 0, &o, &err);
    T_CHECK(c && cJSON_GetArraySize(c) == 4);
    const cJSON *e = c ? cJSON_GetArrayItem(c, 0) : NULL;
    T_CHECK(e && is_null(e, "delta") && is_null(e, "p_bootstrap") && is_null(e, "ci") &&
            is_null(e, "p_permutation") && is_null(e, "mde"));
    T_CHECK(e && num(e, "p_adjusted") == 1 && cJSON_IsFalse(cJSON_GetObjectItem(e, "significant")));
    T_CHECK(finite_tree(c));
    cJSON_Delete(c);
    cJSON *am = fe_stats_arm_metrics(&t0, 1);
    T_CHECK(is_null(cJSON_GetObjectItem(am, "exact_match"), "mean"));
    T_CHECK(is_null(cJSON_GetObjectItem(am, "exact_match"), "wilson"));
    cJSON_Delete(am);

    /* n = 1 */
    double one[6] = {1, 0.5, 0, 0.25, 1, 1};
    struct fe_score_table t1 = {1, 3, arms3, 2, met2, bin2, one, NULL, NULL};
    c = fe_stats_comparisons(&t1, 0, &o, &err);
    T_CHECK(c != NULL && finite_tree(c));
    e = c ? find_cmp(c, "ft", "f1") : NULL;
    T_CHECK(e && num(e, "delta") == -0.25 && is_null(e, "se_paired") && is_null(e, "p_bootstrap"));
    T_CHECK(e && num(e, "p_permutation") == 1 && is_null(e, "p_ttest"));
    T_CHECK(e && cJSON_IsFalse(cJSON_GetObjectItem(e, "significant")));
    e = c ? find_cmp(c, "ft", "exact_match") : NULL;
    T_CHECK(e && num(e, "p_mcnemar") == 1);
    cJSON_Delete(c);
    am = fe_stats_arm_metrics(&t1, 0);
    T_CHECK(is_null(cJSON_GetObjectItem(am, "f1"), "se"));
    T_CHECK(num(cJSON_GetObjectItem(am, "f1"), "mean") == 0.5);
    cJSON_Delete(am);

    /* all differences zero, constant differences, an arm with every example failed */
    size_t n = 60;
    double *sc = fe_xcalloc(3 * 2 * n, sizeof(*sc));
    for (size_t i = 0; i < n; i++) {
        sc[0 * n + i] = i % 3 == 0;                 /* base em */
        sc[1 * n + i] = (double)(i % 5) / 8;        /* base f1 */
        sc[2 * n + i] = i % 3 == 0;                 /* ft em: identical -> all d = 0 */
        sc[3 * n + i] = (double)(i % 5) / 8 + 0.25; /* ft f1: constant d = 0.25 */
        /* pr: all zeros (every example failed) */
    }
    struct fe_score_table t2 = {n, 3, arms3, 2, met2, bin2, sc, NULL, NULL};
    c = fe_stats_comparisons(&t2, 0, &o, &err);
    T_CHECK(c != NULL && finite_tree(c));
    e = c ? find_cmp(c, "ft", "exact_match") : NULL;
    T_CHECK(e && num(e, "delta") == 0 && num(e, "p_bootstrap") == 1 &&
            num(e, "p_permutation") == 1 && num(e, "p_mcnemar") == 1 && num(e, "p_ttest") == 1);
    /* issue 11 §7: constant differences leave the MDE undefined (null + note), not 0 */
    T_CHECK(e && is_null(e, "ci_bca") && is_null(e, "n_needed") && is_null(e, "mde") &&
            cJSON_IsString(cJSON_GetObjectItem(e, "mde_note")));
    e = c ? find_cmp(c, "ft", "f1") : NULL;
    T_CHECK(e && fabs(num(e, "delta") - 0.25) < 1e-12 && is_null(e, "ci_bca"));
    T_CHECK(e && cJSON_IsString(cJSON_GetObjectItem(e, "ci_bca_note")));
    T_CHECK(e && num(e, "p_ttest") == 0 && num(e, "se_paired") == 0);
    /* every replicate equals delta: p = 1/(B+1); the exact permutation p = 2/2^60 */
    T_CHECK(e && fabs(num(e, "p_bootstrap") - 1.0 / 501) < 1e-15);
    T_CHECK(e && cJSON_IsFalse(cJSON_GetObjectItem(e, "permutation_exact")));
    e = c ? find_cmp(c, "pr", "exact_match") : NULL;
    T_CHECK(e && fabs(num(e, "delta") + 20.0 / 60) < 1e-12 && num(e, "mean_a") == 0);
    T_CHECK(e && num(e, "mcnemar_b") == 0 && num(e, "mcnemar_c") == 20);
    /* McNemar N = 20, k = 0: 2 * 2^-20 */
    T_CHECK(e && fabs(num(e, "p_mcnemar") - 2.0 / 1048576.0) < 1e-18);
    T_CHECK(e && cJSON_IsTrue(cJSON_GetObjectItem(e, "significant")));
    cJSON_Delete(c);
    am = fe_stats_arm_metrics(&t2, 2);
    T_CHECK(finite_tree(am));
    T_CHECK(num(cJSON_GetObjectItem(am, "exact_match"), "se") == 0);
    cJSON_Delete(am);

    /* clusters of size 1 == the example bootstrap's SE; a single cluster is degenerate */
    const char **keys = fe_xcalloc(n, sizeof(*keys));
    char(*names)[16] = fe_xcalloc(n, sizeof(*names));
    for (size_t i = 0; i < n; i++) {
        snprintf(names[i], sizeof(names[i]), "c%zu", i);
        keys[i] = names[i];
    }
    t2.cluster = keys;
    for (size_t i = 0; i < n; i++) /* make ft f1 non-constant */
        sc[3 * n + i] += (double)(i % 7) / 50;
    c = fe_stats_comparisons(&t2, 0, &o, &err);
    e = c ? find_cmp(c, "ft", "f1") : NULL;
    /* singleton clusters: SE_cl = sqrt(sum (d_i - mean)^2) / n = SE_paired * sqrt((n-1)/n) */
    T_CHECK(e && fabs(num(e, "se_clustered") -
                      num(e, "se_paired") * sqrt((double)(n - 1) / (double)n)) < 1e-12);
    T_CHECK(e && num(e, "n_clusters") == (double)n);
    T_CHECK(e &&
            strcmp(cJSON_GetStringValue(cJSON_GetObjectItem(e, "resample_unit")), "cluster") == 0);
    T_CHECK(e && !is_null(e, "ci_bca"));
    /* with clusters the binary metric's decision comes from the cluster bootstrap */
    e = c ? find_cmp(c, "pr", "exact_match") : NULL;
    T_CHECK(e && strcmp(cJSON_GetStringValue(cJSON_GetObjectItem(e, "p_adjusted_source")),
                        "p_bootstrap") == 0);
    T_CHECK(finite_tree(c));
    cJSON_Delete(c);
    for (size_t i = 0; i < n; i++)
        keys[i] = "only";
    c = fe_stats_comparisons(&t2, 0, &o, &err);
    T_CHECK(c != NULL && finite_tree(c));
    e = c ? find_cmp(c, "ft", "f1") : NULL;
    T_CHECK(e && is_null(e, "p_bootstrap") && is_null(e, "ci") && is_null(e, "se_clustered"));
    T_CHECK(e && num(e, "n_clusters") == 1 && num(e, "p_adjusted") == 1);
    T_CHECK(e && cJSON_IsString(cJSON_GetObjectItem(e, "bootstrap_note")));
    cJSON_Delete(c);
    am = fe_stats_arm_metrics(&t2, 1);
    T_CHECK(finite_tree(am));
    T_CHECK(is_null(cJSON_GetObjectItem(am, "f1"), "se_clustered"));
    T_CHECK(cJSON_IsString(cJSON_GetObjectItem(cJSON_GetObjectItem(am, "f1"), "warning")));
    cJSON_Delete(am);
    free(names);
    free(keys);
    free(sc);
}

static void test_invalid(void)
{
    struct fe_stats_opts o;
    fe_stats_opts_default(&o);
    double sc[12] = {1, 0.5, 0.5, 0.5, 1, 1, 0, 0, 1, 1, 0.2, 0.3};
    struct fe_score_table t = {2, 3, arms3, 2, met2, bin2, sc, NULL, NULL};
    struct fe_err err = {0};
    T_CHECK(fe_stats_comparisons(&t, 0, &o, &err) == NULL); /* 0.5 in a binary metric */
    T_CHECK(err.code == FE_EINVALID && strstr(err.msg, "exact_match") != NULL);
    sc[1] = 0;
    sc[2] = NAN;
    fe_err_clear(&err);
    T_CHECK(fe_stats_comparisons(&t, 0, &o, &err) == NULL);
    T_CHECK(strstr(err.msg, "finite") != NULL);
    sc[2] = 0.5;
    fe_err_clear(&err);
    T_CHECK(fe_stats_comparisons(&t, 3, &o, &err) == NULL);
    fe_err_clear(&err);
    o.resamples = 0;
    T_CHECK(fe_stats_comparisons(&t, 0, &o, &err) == NULL);
    fe_err_clear(&err);
    fe_stats_opts_default(&o);
    o.alpha = 1.5;
    T_CHECK(fe_stats_comparisons(&t, 0, &o, &err) == NULL);
}

static void test_closed_forms(void)
{
    /* Holm: p = (.01, .04, .03, .005), m = 4 -> (.03, .06, .06, .02) */
    double p[4] = {0.01, 0.04, 0.03, 0.005}, adj[4];
    fe_stats_adjust(p, 4, FE_CORRECTION_HOLM, adj);
    T_CHECK_NEAR(adj[0], 0.03, 1e-15);
    T_CHECK_NEAR(adj[1], 0.06, 1e-15);
    T_CHECK_NEAR(adj[2], 0.06, 1e-15);
    T_CHECK_NEAR(adj[3], 0.02, 1e-15);
    /* McNemar b = 0, c = 5: 2 * 2^-5; mid-p 2^-5 */
    double pe, pm;
    fe_stats_mcnemar(0, 5, &pe, &pm);
    T_CHECK_NEAR(pe, 0.0625, 1e-15);
    T_CHECK_NEAR(pm, 0.03125, 1e-15);
    fe_stats_mcnemar(0, 0, &pe, &pm);
    T_CHECK(pe == 1 && pm == 1);
    /* exact sign flips of (1, 2, 3): S = 6, only the identity and all-minus reach |6| */
    double d[3] = {1, 2, 3};
    bool exact;
    T_CHECK_NEAR(fe_stats_signflip_p(d, 3, 100, 1, &exact), 2.0 / 8, 1e-15);
    T_CHECK(exact);
    /* binary differences: exact permutation p == McNemar exact p (k <= 40) */
    double dd[37];
    for (size_t i = 0; i < 37; i++)
        dd[i] = i < 25 ? 1 : -1;
    fe_stats_mcnemar(25, 12, &pe, &pm);
    T_CHECK_NEAR(fe_stats_signflip_p(dd, 37, 100, 1, &exact), pe, 1e-12);
    /* quantile type 7 */
    double q[4] = {1, 2, 3, 4};
    T_CHECK_NEAR(fe_stats_quantile_sorted(q, 4, 0.5), 2.5, 1e-15);
    T_CHECK_NEAR(fe_stats_quantile_sorted(q, 4, 0.025), 1.075, 1e-15);
    /* Wilson 0/10 at 95%: [0, z^2/(n+z^2)] */
    double lo, hi, z = 1.959963984540054;
    fe_stats_wilson(0, 10, 0.05, &lo, &hi);
    T_CHECK_NEAR(lo, 0, 1e-15);
    T_CHECK_NEAR(hi, z * z / (10 + z * z), 1e-12);
    /* clusters: first appearance order, NULL keys are singletons */
    const char *keys[6] = {"b", "a", "b", NULL, "a", "c"};
    size_t ncl;
    size_t *ids = fe_stats_cluster_ids(keys, 6, &ncl);
    T_CHECK(ncl == 4 && ids[0] == 0 && ids[1] == 1 && ids[2] == 0 && ids[3] == 2 && ids[4] == 1 &&
            ids[5] == 3);
    free(ids);
    /* drift: undefined cases */
    size_t ca[3] = {0, 0, 0}, cb[3] = {1, 2, 3};
    double st, df, pp;
    T_CHECK(!fe_stats_chisq_drift(ca, cb, 3, &st, &df, &pp) && pp == 1);
    /* non-inferiority: n = 0 undefined; a clear improvement passes */
    struct fe_stats_opts o;
    fe_stats_opts_default(&o);
    o.resamples = 1000;
    struct fe_noninferiority ni;
    fe_stats_noninferiority(NULL, NULL, 0, NULL, 0.01, &o, &ni);
    T_CHECK(!ni.defined && !ni.pass);
    double a[50], b[50];
    for (size_t i = 0; i < 50; i++) {
        b[i] = (double)(i % 10) / 10;
        a[i] = b[i] + 0.05 + (double)(i % 3) / 100;
    }
    fe_stats_noninferiority(a, b, 50, NULL, 0.01, &o, &ni);
    T_CHECK(ni.defined && ni.pass && !ni.inconclusive && ni.lower > 0.05);
}

/* Every unit is drawn with probability 1/n on every path (k = 1, the generic stride, the
 * four-comparison fast path; even and odd n for the tail draw). Column j marks one target unit
 * (1 there, 0 elsewhere) plus i * 1e-5 so that rows stay distinct (the examples path, not the
 * multinomial one): the replicate's count of the target is floor(n * mean). Its mean over B
 * replicates is 1 (Binomial(n, 1/n)), SE sqrt((1 - 1/n) / B) ~ 0.016 at B = 4000; and the target
 * appears in a fraction 1 - (1 - 1/n)^n of replicates. A unit never drawn (or drawn by only half
 * of the draws) moves either by 25 SEs or more. */
static void test_every_unit_drawn(void)
{
    const size_t B = 4000;
    const size_t ks[] = {1, 2, 3, 4};
    for (size_t n = 40; n <= 41; n++) {
        for (size_t ki = 0; ki < FE_ARRAY_LEN(ks); ki++) {
            size_t k = ks[ki];
            size_t target[4] = {n - 1, 0, n - 2, n / 2};
            double *d = fe_xcalloc(n * k, sizeof(*d));
            for (size_t i = 0; i < n; i++)
                for (size_t j = 0; j < k; j++)
                    d[i * k + j] = (i == target[j] ? 1.0 : 0.0) + (double)i * 1e-5;
            double *out = fe_xcalloc(k * B, sizeof(*out));
            fe_stats_bootstrap(d, n, k, NULL, 0, B, 20261124 + n + k, out);
            for (size_t j = 0; j < k; j++) {
                double sum = 0;
                size_t present = 0;
                for (size_t b = 0; b < B; b++) {
                    double c = floor(out[j * B + b] * (double)n + 1e-9);
                    sum += c;
                    present += c > 0;
                }
                double mean = sum / (double)B, frac = (double)present / (double)B;
                double want_frac = 1 - pow(1 - 1.0 / (double)n, (double)n);
                if (fabs(mean - 1) > 0.08 || fabs(frac - want_frac) > 0.04)
                    fprintf(stderr, "n %zu k %zu unit %zu: mean count %.4f (want 1), drawn in %.4f of "
                            "replicates (want %.4f)\n", n, k, target[j], mean, frac, want_frac);
                T_CHECK_NEAR(mean, 1.0, 0.08);
                T_CHECK_NEAR(frac, want_frac, 0.04);
            }
            free(out);
            free(d);
        }
    }
}

/* BCa on the examples path (w NULL) against a reference written here from Efron (1987) /
 * Efron & Tibshirani (1993) §14.3: z0 = Phi^-1(#{theta* < theta} + #{theta* = theta} / 2) / B),
 * a = sum (mean_jack - theta_(i))^3 / (6 (sum (mean_jack - theta_(i))^2)^1.5), levels
 * Phi(z0 + (z0 + z) / (1 - a (z0 + z))) for z = Phi^-1(alpha/2), Phi^-1(1 - alpha/2), and the
 * type-7 quantiles of the replicates. It must be defined: n = 60 skewed differences. */
static double ref_quantile7(const double *s, size_t n, double q)
{
    double h = (double)(n - 1) * q;
    size_t lo = (size_t)floor(h);
    if (lo + 1 >= n)
        return s[n - 1];
    return s[lo] + (h - (double)lo) * (s[lo + 1] - s[lo]);
}

static void test_bca_examples(void)
{
    const size_t n = 60, B = 5000;
    double d[60];
    uint32_t st = 17;
    for (size_t i = 0; i < n; i++) {
        st = st * 1664525u + 1013904223u;
        double u = (double)(st >> 8) / 16777216.0;
        d[i] = u * u * u - 0.1; /* right-skewed: a != 0 */
    }
    double delta = 0;
    for (size_t i = 0; i < n; i++)
        delta += d[i];
    delta /= (double)n;
    double *bs = fe_xcalloc(B, sizeof(*bs));
    fe_stats_bootstrap(d, n, 1, NULL, 0, B, 7, bs);
    qsort(bs, B, sizeof(*bs), t_dcmp);
    double lo, hi;
    const char *why = NULL;
    bool ok = fe_stats_bca(d, NULL, n, delta, bs, B, 0.05, &lo, &hi, &why);
    T_CHECK(ok);
    if (!ok)
        fprintf(stderr, "bca refused on the examples path: %s\n", why ? why : "?");
    /* the reference */
    double jm = 0, th[60];
    for (size_t i = 0; i < n; i++) {
        th[i] = (delta * (double)n - d[i]) / (double)(n - 1);
        jm += th[i] / (double)n;
    }
    double s2 = 0, s3 = 0;
    for (size_t i = 0; i < n; i++) {
        s2 += (jm - th[i]) * (jm - th[i]);
        s3 += (jm - th[i]) * (jm - th[i]) * (jm - th[i]);
    }
    double a = s3 / (6 * pow(s2, 1.5));
    double below = 0;
    for (size_t b = 0; b < B; b++)
        below += bs[b] < delta ? 1.0 : bs[b] == delta ? 0.5 : 0.0;
    double z0 = gsl_cdf_ugaussian_Pinv(below / (double)B);
    double zl = gsl_cdf_ugaussian_Pinv(0.025), zh = gsl_cdf_ugaussian_Pinv(0.975);
    double ql = gsl_cdf_ugaussian_P(z0 + (z0 + zl) / (1 - a * (z0 + zl)));
    double qh = gsl_cdf_ugaussian_P(z0 + (z0 + zh) / (1 - a * (z0 + zh)));
    T_CHECK(fabs(a) > 1e-3); /* the case really exercises the acceleration */
    T_CHECK_NEAR(lo, ref_quantile7(bs, B, ql), 1e-12);
    T_CHECK_NEAR(hi, ref_quantile7(bs, B, qh), 1e-12);
    free(bs);

    /* and through fe_stats_comparisons without clusters: ci_bca is reported */
    double *sc = make_scores(200, 3);
    char *txt = run_table(200, sc, NULL, 11, 2000);
    cJSON *j = cJSON_Parse(txt);
    const cJSON *e = find_cmp(cJSON_GetObjectItem(j, "comparisons"), "ft", "f1");
    T_CHECK(e && !is_null(e, "ci_bca") && cJSON_GetArraySize(cJSON_GetObjectItem(e, "ci_bca")) == 2);
    cJSON_Delete(j);
    free(txt);
    free(sc);
}

/* fe_stats_bootstrap_paired reads the differences from paired columns instead of an
 * interleaved matrix (issue 14, Memory): for every path of the bootstrap (many distinct rows:
 * examples drawn by index, k = 1, 2, 3 (padded), 5; few distinct rows: multinomial; clusters) its
 * replicates must be bit for bit those of fe_stats_bootstrap on d[i * k + j] = a[j][i] - b[j][i]. */
static void test_bootstrap_paired(void)
{
    const size_t n = 3001, B = 400, K = 5;
    double *a[5], *b[5];
    for (size_t j = 0; j < K; j++) {
        a[j] = fe_xcalloc(n, sizeof(double));
        b[j] = fe_xcalloc(n, sizeof(double));
    }
    size_t *cl = fe_xcalloc(n, sizeof(*cl));
    double *d = fe_xcalloc(n * K, sizeof(*d)), *want = fe_xcalloc(K * B, sizeof(*want));
    double *got = fe_xcalloc(K * B, sizeof(*got));
    for (int binary = 0; binary <= 1; binary++) {
        for (size_t i = 0; i < n; i++) {
            cl[i] = (i * 13) % 40;
            for (size_t j = 0; j < K; j++) {
                uint64_t h = (i * 2654435761u + j * 40503u) % 1000003;
                a[j][i] = binary ? (double)(h % 2) : (double)h / 1000003.0;
                b[j][i] = binary ? (double)(h / 2 % 2) : (double)(h % 997) / 997.0;
            }
        }
        for (size_t k = 1; k <= K; k++) {
            if (k == 4)
                continue;
            for (size_t i = 0; i < n; i++)
                for (size_t j = 0; j < k; j++)
                    d[i * k + j] = a[j][i] - b[j][i];
            for (int clusters = 0; clusters <= 1; clusters++) {
                const size_t *c = clusters ? cl : NULL;
                fe_stats_bootstrap(d, n, k, c, clusters ? 40 : 0, B, 31 + k, want);
                fe_stats_bootstrap_paired((const double *const *)a, (const double *const *)b, n, k,
                                          c, clusters ? 40 : 0, B, 31 + k, got);
                T_CHECK(memcmp(want, got, k * B * sizeof(double)) == 0);
            }
        }
    }
    for (size_t j = 0; j < K; j++) {
        free(a[j]);
        free(b[j]);
    }
    free(cl);
    free(d);
    free(want);
    free(got);
}

int main(void)
{
    fe_stats_global_init();
    test_bootstrap_paired();
    test_every_unit_drawn();
    test_bca_examples();
    test_closed_forms();
    test_edge_cases();
    test_invalid();
    test_shared_resamples();
    test_determinism();
    return T_DONE();
}
