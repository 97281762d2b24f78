/* human_view.h — the typed reader of summary.json's "human" block (analysis/human.h) for the
 * reports: numbers NAN when absent or null, strings NULL. Owner: human ratings. */
#ifndef FE_HUMAN_VIEW_H
#define FE_HUMAN_VIEW_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

/* One arm of a judge: the human win rate over `against` (pairwise) or mean score (rubric). */
struct fe_human_arm_view {
    const char *arm, *against;
    double n_items, n_ratings, value, se, ci_lo, ci_hi;
};

/* One estimate of "calibrated": judge only, human only, prediction-powered. */
struct fe_human_est_view {
    double mean, se, ci_lo, ci_hi;
};

struct fe_human_cal_view {
    const char *a, *b, *scale;   /* b NULL: one arm's mean */
    double N, n, n_effective;
    struct fe_human_est_view judge, human, calibrated;
};

struct fe_human_judge_view {
    const char *name, *type;
    double scale_lo, scale_hi, n_items, n_ratings;
    bool agreement_reported;
    struct fe_human_arm_view *arms;
    size_t n_arms;
    /* inter-rater: kappas of the one pair (two raters) or their mean over pairs (kappa_mean) */
    double n_raters, cohen, weighted_linear, weighted_quadratic, fleiss, fleiss_n_items,
        alpha_nominal, alpha_ordinal;
    bool kappa_mean;
    const char *inter_note;
    /* judge vs human */
    double agree_n, agree_raw, agree_kappa, agree_weighted_quadratic;
    struct fe_human_cal_view *cal;
    size_t n_cal;
};

struct fe_human_view {
    bool present;
    const char *error;           /* human.jsonl could not be read */
    double n_ratings;
    struct fe_human_judge_view *judges;
    size_t n_judges;
};

/* Parses summary["human"] (summary may be NULL). Release with fe_human_view_release. */
void fe_human_view_parse(const cJSON *summary, struct fe_human_view *out);
void fe_human_view_release(struct fe_human_view *v);

#endif
