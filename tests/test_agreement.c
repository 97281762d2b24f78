/* test_agreement.c — metrics/agreement.c and metrics/ppi.c against values from the published
 * definitions and worked examples (noted at each); tests/human_ratings_test.py checks the same
 * functions end to end against statsmodels and reference implementations to 1e-9. */
#include <math.h>

#include "metrics/agreement.h"
#include "metrics/ppi.h"
#include "tests/t.h"

/* Cohen 1960 on a 2x2 table [[20, 5], [10, 15]]: p_o = 35/50 = .7, margins rows (25, 25),
 * columns (30, 20): p_e = (25*30 + 25*20) / 50^2 = .5, kappa = (.7 - .5) / (1 - .5) = .4. */
static void cohen(void)
{
    const double t[] = {20, 5, 10, 15};
    T_CHECK_NEAR(fe_cohen_kappa(t, 2, FE_KAPPA_NONE), 0.4, 1e-12);
    /* with two categories every weighting is the same (|i-j| = (i-j)^2 = [i != j]) */
    T_CHECK_NEAR(fe_cohen_kappa(t, 2, FE_KAPPA_LINEAR), 0.4, 1e-12);
    T_CHECK_NEAR(fe_cohen_kappa(t, 2, FE_KAPPA_QUADRATIC), 0.4, 1e-12);
    /* 3x3 [[4,1,0],[0,3,2],[0,0,5]] (n = 15): rows (5,5,5), columns (4,4,7).
     * unweighted: p_o = 12/15, p_e = (20+20+35)/225 = 1/3: kappa = (.8 - 1/3)/(2/3) = .7
     * linear: observed sum w p = (1 + 2)/15 = .2; expected sum |i-j| r_i c_j / n^2 =
     *   5*(4*1+7*2 + 4*1+7*1 + 4*2+4*1)/225 = 5*41/225 = 205/225: kappa = 1 - .2*225/205
     * quadratic: observed (1 + 2)/15 = .2 (both off-diagonal cells are 1 apart); expected
     *   5*(4*1+7*4 + 4*1+7*1 + 4*4+4*1)/225 = 5*63/225: kappa = 1 - .2*225/315 */
    const double u[] = {4, 1, 0, 0, 3, 2, 0, 0, 5};
    T_CHECK_NEAR(fe_cohen_kappa(u, 3, FE_KAPPA_NONE), 0.7, 1e-12);
    T_CHECK_NEAR(fe_cohen_kappa(u, 3, FE_KAPPA_LINEAR), 1 - 0.2 * 225 / 205, 1e-12);
    T_CHECK_NEAR(fe_cohen_kappa(u, 3, FE_KAPPA_QUADRATIC), 1 - 0.2 * 225 / 315, 1e-12);
    /* undefined: everyone in one category, or nothing rated */
    const double one[] = {9, 0, 0, 0};
    T_CHECK(isnan(fe_cohen_kappa(one, 2, FE_KAPPA_NONE)));
    const double none[] = {0, 0, 0, 0};
    T_CHECK(isnan(fe_cohen_kappa(none, 2, FE_KAPPA_NONE)));
}

/* Fleiss 1971's layout; the worked example of 10 subjects, 14 raters, 5 categories whose kappa
 * is 0.2099 (the example reproduced in most references on Fleiss' kappa). */
static void fleiss(void)
{
    const double t[] = {0, 0, 0, 0, 14, 0, 2, 6, 4, 2, 0, 0, 3, 5, 6, 0, 3, 9, 2, 0, 2, 2, 8, 1, 1,
                        7, 7, 0, 0, 0, 3, 2, 6, 3, 0, 2, 5, 3, 2, 2, 6, 5, 2, 1, 0, 0, 2, 2, 3, 7};
    T_CHECK_NEAR(fe_fleiss_kappa(t, 10, 5), 0.20993070442195522, 1e-12);
    const double uneven[] = {2, 1, 1, 1}; /* 3 raters on one item, 2 on the other */
    T_CHECK(isnan(fe_fleiss_kappa(uneven, 2, 2)));
}

/* Krippendorff 2011, section C: 4 observers, 12 units, values 1..5, missing data; the paper
 * gives alpha nominal .743 and ordinal .815. */
static void kripp(void)
{
    const int v[12][4] = {{0, 0, -1, 0}, {1, 1, 2, 1}, {2, 2, 2, 2}, {2, 2, 2, 2},
                          {1, 1, 1, 1},  {0, 1, 2, 3}, {3, 3, 3, 3}, {0, 0, 1, 0},
                          {1, 1, 1, 1},  {-1, 4, 4, 4}, {-1, -1, 0, 0}, {-1, -1, 2, -1}};
    double nominal = fe_kripp_alpha(&v[0][0], 12, 4, 5, false);
    double ordinal = fe_kripp_alpha(&v[0][0], 12, 4, 5, true);
    T_CHECK_NEAR(nominal, 0.743, 0.0005);
    T_CHECK_NEAR(ordinal, 0.815, 0.0005);
    T_CHECK(nominal != ordinal);
    const int same[] = {1, 1, 1, 1}; /* no expected disagreement */
    T_CHECK(isnan(fe_kripp_alpha(same, 2, 2, 3, false)));
}

/* Angelopoulos et al. 2023, mean estimation, by hand: f_all = (1, 0, 1, 1): mean .75, s^2 = .25;
 * rated f = (1, 0), h = (2, 0): h - f = (1, 0): correction .5, s^2 = .5; s^2(h) = 2.
 * estimate 1.25, SE^2 = .25/4 + .5/2 = .3125; n_effective = 2 / .3125 = 6.4. */
static void ppi(void)
{
    const double f_all[] = {1, 0, 1, 1}, f[] = {1, 0}, h[] = {2, 0};
    struct fe_ppi p;
    fe_ppi_mean(f_all, 4, f, h, 2, 0.05, &p);
    T_CHECK_NEAR(p.calibrated.mean, 1.25, 1e-12);
    T_CHECK_NEAR(p.calibrated.se, sqrt(0.3125), 1e-12);
    T_CHECK_NEAR(p.correction, 0.5, 1e-12);
    T_CHECK_NEAR(p.judge.mean, 0.75, 1e-12);
    T_CHECK_NEAR(p.judge.se, sqrt(0.25 / 4), 1e-12);
    T_CHECK_NEAR(p.human.mean, 1.0, 1e-12);
    T_CHECK_NEAR(p.human.se, sqrt(2.0 / 2), 1e-12);
    T_CHECK_NEAR(p.n_effective, 6.4, 1e-12);
    double z = 1.959963984540054;
    T_CHECK_NEAR(p.calibrated.ci_lo, 1.25 - z * sqrt(0.3125), 1e-9);
    T_CHECK_NEAR(p.calibrated.ci_hi, 1.25 + z * sqrt(0.3125), 1e-9);
    /* one rated example: no variance, no interval */
    fe_ppi_mean(f_all, 4, f, h, 1, 0.05, &p);
    T_CHECK(isnan(p.calibrated.se) && isnan(p.n_effective));
}

int main(void)
{
    cohen();
    fleiss();
    kripp();
    ppi();
    return T_DONE();
}
