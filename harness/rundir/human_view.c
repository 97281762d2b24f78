/* human_view.c — see human_view.h. */
#include "harness/rundir/human_view.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "harness/base/jsonout.h"
#include "harness/base/util.h"

static void pair_of(const cJSON *o, const char *k, double *lo, double *hi)
{
    const cJSON *a = fe_json_get(o, k);
    *lo = *hi = NAN;
    if (!cJSON_IsArray(a) || cJSON_GetArraySize(a) != 2 ||
        !fe_json_num(cJSON_GetArrayItem(a, 0), lo) || !fe_json_num(cJSON_GetArrayItem(a, 1), hi))
        *lo = *hi = NAN;
}

static void est(const cJSON *o, struct fe_human_est_view *e)
{
    e->mean = fe_json_getn(o, "mean");
    e->se = fe_json_getn(o, "se");
    pair_of(o, "ci", &e->ci_lo, &e->ci_hi);
}

static void arms(const cJSON *o, struct fe_human_judge_view *j)
{
    j->arms = fe_xcalloc((size_t)cJSON_GetArraySize(o) + 1, sizeof(*j->arms));
    const cJSON *a;
    cJSON_ArrayForEach(a, o)
    {
        struct fe_human_arm_view *v = &j->arms[j->n_arms++];
        v->arm = a->string;
        v->against = fe_json_gets(a, "against");
        v->n_items = fe_json_getn(a, "n_items");
        v->n_ratings = fe_json_getn(a, "n_ratings");
        v->value = cJSON_IsNumber(fe_json_get(a, "win_rate")) ? fe_json_getn(a, "win_rate")
                                                               : fe_json_getn(a, "mean_score");
        v->se = fe_json_getn(a, "se");
        pair_of(a, "ci", &v->ci_lo, &v->ci_hi);
    }
}

static void inter(const cJSON *o, struct fe_human_judge_view *j)
{
    j->n_raters = fe_json_getn(o, "n_raters");
    j->kappa_mean = fe_json_get(o, "cohen_kappa_mean") != NULL;
    j->cohen = fe_json_getn(o, j->kappa_mean ? "cohen_kappa_mean" : "cohen_kappa");
    j->weighted_linear = fe_json_getn(o, j->kappa_mean ? "weighted_kappa_linear_mean"
                                                       : "weighted_kappa_linear");
    j->weighted_quadratic = fe_json_getn(o, j->kappa_mean ? "weighted_kappa_quadratic_mean"
                                                          : "weighted_kappa_quadratic");
    j->fleiss = fe_json_getn(o, "fleiss_kappa");
    j->fleiss_n_items = fe_json_getn(o, "fleiss_n_items");
    j->alpha_nominal = fe_json_getn(o, "krippendorff_alpha_nominal");
    j->alpha_ordinal = fe_json_getn(o, "krippendorff_alpha_ordinal");
    j->inter_note = fe_json_gets(o, "note");
}

static void calibrated(const cJSON *o, struct fe_human_judge_view *j)
{
    j->cal = fe_xcalloc((size_t)cJSON_GetArraySize(o) + 1, sizeof(*j->cal));
    const cJSON *c;
    cJSON_ArrayForEach(c, o)
    {
        struct fe_human_cal_view *v = &j->cal[j->n_cal++];
        v->a = fe_json_gets(c, "a");
        v->b = fe_json_gets(c, "b");
        v->scale = fe_json_gets(c, "scale");
        v->N = fe_json_getn(c, "N");
        v->n = fe_json_getn(c, "n");
        v->n_effective = fe_json_getn(c, "n_effective");
        est(fe_json_get(c, "judge_only"), &v->judge);
        est(fe_json_get(c, "human_only"), &v->human);
        est(fe_json_get(c, "calibrated"), &v->calibrated);
    }
}

void fe_human_view_parse(const cJSON *summary, struct fe_human_view *out)
{
    memset(out, 0, sizeof(*out));
    const cJSON *h = fe_json_get(summary, "human");
    if (!cJSON_IsObject(h))
        return;
    out->present = true;
    out->error = fe_json_gets(h, "error");
    out->n_ratings = fe_json_getn(h, "n_ratings");
    const cJSON *js = fe_json_get(h, "judges");
    out->judges = fe_xcalloc((size_t)cJSON_GetArraySize(js) + 1, sizeof(*out->judges));
    const cJSON *o;
    cJSON_ArrayForEach(o, js)
    {
        if (!cJSON_IsObject(o))
            continue;
        struct fe_human_judge_view *j = &out->judges[out->n_judges++];
        j->name = o->string;
        j->type = fe_json_gets(o, "type");
        pair_of(o, "scale", &j->scale_lo, &j->scale_hi);
        j->n_items = fe_json_getn(o, "n_items");
        j->n_ratings = fe_json_getn(o, "n_ratings");
        j->agreement_reported = cJSON_IsTrue(fe_json_get(o, "agreement_reported"));
        arms(fe_json_get(o, "arms"), j);
        inter(fe_json_get(o, "inter_rater"), j);
        const cJSON *ja = fe_json_get(o, "judge_agreement");
        j->agree_n = fe_json_getn(ja, "n");
        j->agree_raw = fe_json_getn(ja, "raw_agreement");
        j->agree_kappa = fe_json_getn(ja, "cohen_kappa");
        j->agree_weighted_quadratic = fe_json_getn(ja, "weighted_kappa_quadratic");
        calibrated(fe_json_get(o, "calibrated"), j);
    }
}

void fe_human_view_release(struct fe_human_view *v)
{
    for (size_t i = 0; i < v->n_judges; i++) {
        free(v->judges[i].arms);
        free(v->judges[i].cal);
    }
    free(v->judges);
    memset(v, 0, sizeof(*v));
}
