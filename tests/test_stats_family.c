/* test_stats_family.c — statistics: what a comparison family decides, checked against values
 * derived by hand from the published definitions (noted at each), for the mutants of
 * tests/mutation/mutants.tsv that the other statistics tests did not see:
 *   - "significant" follows the Holm-adjusted p, not the raw one (cmp-significant-unadjusted);
 *   - every arm is compared with the baseline the caller names, not with arm 0 (cmp-baseline-arm);
 *   - the Monte Carlo sign-flip p is (1 + hits) / (R + 1), never 0 (boot-signflip-add-one). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "harness/base/util.h"
#include "metrics/stats.h"
#include "tests/t.h"

static double num(const cJSON *o, const char *k)
{
    const cJSON *x = cJSON_GetObjectItem(o, k);
    return cJSON_IsNumber(x) ? x->valuedouble : NAN;
}

static const char *str(const cJSON *o, const char *k)
{
    return cJSON_GetStringValue(cJSON_GetObjectItem(o, k));
}

static const cJSON *find_cmp(const cJSON *arr, const char *a)
{
    const cJSON *e;
    cJSON_ArrayForEach(e, arr)
    {
        if (strcmp(str(e, "a"), a) == 0)
            return e;
    }
    return NULL;
}

/* Three arms, one binary metric, 20 examples, the baseline in the middle (index 1):
 *   base: all 0;  win6: 1 on the first 6 examples, else 0;  same: all 0.
 * win6 vs base: McNemar b = 6 wins, c = 0 losses; the exact two-sided p is
 *   2 * P(X <= 0), X ~ Binomial(6, 1/2) = 2 * 0.5^6 = 0.03125 (< alpha 0.05).
 * same vs base: no discordant pair, p = 1.
 * Holm over the family of 2 (Holm 1979): the smallest p times 2 = 0.0625, then
 *   max(0.0625, 1 * 1) = 1. So win6 is NOT significant after adjustment although its raw p is. */
static void test_holm_decides_and_baseline_index(void)
{
    enum { N = 20 };
    static const char *const arms[] = {"win6", "base", "same"};
    static const char *const metrics[] = {"exact_match"};
    static const bool binary[] = {true};
    double *sc = fe_xcalloc(3 * N, sizeof(*sc));
    for (size_t i = 0; i < 6; i++)
        sc[0 * N + i] = 1; /* win6 */
    struct fe_score_table t = {N, 3, arms, 1, metrics, binary, sc, NULL, NULL};
    struct fe_stats_opts o;
    fe_stats_opts_default(&o);
    o.resamples = 2000;
    struct fe_err err = {0};
    cJSON *c = fe_stats_comparisons(&t, 1, &o, &err);
    T_CHECK(c != NULL);
    T_CHECK(cJSON_GetArraySize(c) == 2);
    const cJSON *w = find_cmp(c, "win6"), *s = find_cmp(c, "same");
    T_CHECK(w != NULL && s != NULL);
    if (w && s) {
        /* against the named baseline (index 1), not arm 0 */
        T_CHECK_STR(str(w, "b"), "base");
        T_CHECK_STR(str(s, "b"), "base");
        T_CHECK_NEAR(num(w, "mean_b"), 0.0, 0);
        T_CHECK_NEAR(num(w, "delta"), 6.0 / N, 1e-15);
        T_CHECK_NEAR(num(s, "delta"), 0.0, 0);
        T_CHECK_NEAR(num(w, "mcnemar_b"), 6, 0);
        T_CHECK_NEAR(num(w, "mcnemar_c"), 0, 0);
        T_CHECK_NEAR(num(s, "mcnemar_b"), 0, 0);
        /* Holm decides */
        T_CHECK_STR(str(w, "p_adjusted_source"), "p_mcnemar");
        T_CHECK_NEAR(num(w, "p_mcnemar"), 0.03125, 1e-12);
        T_CHECK_NEAR(num(w, "p_adjusted"), 0.0625, 1e-12);
        T_CHECK_NEAR(num(s, "p_adjusted"), 1.0, 1e-12);
        T_CHECK(cJSON_IsFalse(cJSON_GetObjectItem(w, "significant")));
        T_CHECK(cJSON_IsFalse(cJSON_GetObjectItem(s, "significant")));
        T_CHECK_NEAR(num(w, "family_size"), 2, 0);
    }
    cJSON_Delete(c);

    /* Without correction the same raw p (0.03125 < 0.05) is significant: the flag follows the
     * adjusted p, whatever the adjustment is. */
    o.correction = FE_CORRECTION_NONE;
    c = fe_stats_comparisons(&t, 1, &o, &err);
    w = c ? find_cmp(c, "win6") : NULL;
    T_CHECK(w != NULL);
    if (w) {
        T_CHECK_NEAR(num(w, "p_adjusted"), 0.03125, 1e-12);
        T_CHECK(cJSON_IsTrue(cJSON_GetObjectItem(w, "significant")));
    }
    cJSON_Delete(c);

    /* The same table with the baseline at index 2 ("same", also all 0): win6 vs same has the
     * same numbers, and base vs same has none. Arm 0 is never the baseline here. */
    o.correction = FE_CORRECTION_HOLM;
    c = fe_stats_comparisons(&t, 2, &o, &err);
    T_CHECK(c != NULL && cJSON_GetArraySize(c) == 2);
    w = c ? find_cmp(c, "win6") : NULL;
    const cJSON *b = c ? find_cmp(c, "base") : NULL;
    T_CHECK(w != NULL && b != NULL);
    if (w && b) {
        T_CHECK_STR(str(w, "b"), "same");
        T_CHECK_NEAR(num(w, "delta"), 6.0 / N, 1e-15);
        T_CHECK_NEAR(num(b, "delta"), 0.0, 0);
        T_CHECK_NEAR(num(b, "mcnemar_b"), 0, 0);
        T_CHECK_NEAR(num(b, "mcnemar_c"), 0, 0);
    }
    cJSON_Delete(c);
    free(sc);
}

/* Monte Carlo sign-flip (more than 40 non-zero differences): 50 differences of +1. Under the
 * null each flip pattern has |T| >= |S| = 50 only when all 50 signs agree, probability 2^-49,
 * so in R = 999 resamples no flip reaches it and the p-value is the add-one estimate
 * (1 + 0) / (999 + 1) = 0.001 (Phipson & Smyth 2010), never 0. With unequal magnitudes (the
 * bit-sliced path) the same holds: 50 differences 1 + i/100, all positive. */
static void test_signflip_monte_carlo_add_one(void)
{
    double d[50];
    for (size_t i = 0; i < 50; i++)
        d[i] = 1.0;
    bool exact = true;
    double p = fe_stats_signflip_p(d, 50, 999, 20261124, &exact);
    T_CHECK(!exact);
    T_CHECK_NEAR(p, 1.0 / 1000.0, 1e-15);
    for (size_t i = 0; i < 50; i++)
        d[i] = 1.0 + (double)i / 100.0;
    exact = true;
    p = fe_stats_signflip_p(d, 50, 999, 7, &exact);
    T_CHECK(!exact);
    T_CHECK_NEAR(p, 1.0 / 1000.0, 1e-15);
    /* and a p of 1 stays 1: half +1, half -1 gives S = 0, every flip has |T| >= 0 */
    for (size_t i = 0; i < 50; i++)
        d[i] = i % 2 ? 1.0 : -1.0;
    p = fe_stats_signflip_p(d, 50, 999, 7, &exact);
    T_CHECK_NEAR(p, 1.0, 0);
}

int main(void)
{
    fe_stats_global_init();
    test_holm_decides_and_baseline_index();
    test_signflip_monte_carlo_add_one();
    return T_DONE();
}
