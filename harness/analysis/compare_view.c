/* compare_view.c — the typed reader of a compare.json result (compare.h): the one place its
 * fields are looked up by name for the text report, JUnit and the exit code. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "harness/analysis/compare.h"
#include "harness/base/err.h"
#include "harness/base/jsonout.h"
#include "harness/base/util.h"

static double num(const cJSON *o, const char *k)
{
    double v;
    return fe_json_num(fe_json_get(o, k), &v) ? v : NAN;
}

static const char *str(const cJSON *o, const char *k)
{
    return fe_json_str(fe_json_get(o, k));
}

static bool truth(const cJSON *o, const char *k)
{
    return cJSON_IsTrue(fe_json_get(o, k));
}

/* A zeroed array of one element per item of arr (plus one, never NULL). */
static void *alloc_for(const cJSON *arr, size_t size)
{
    return fe_xcalloc((size_t)cJSON_GetArraySize(arr) + 1, size);
}

static void list_parse(const cJSON *l, struct fe_compare_list_view *out)
{
    out->metric = str(l, "metric");
    out->count = num(l, "count");
    const cJSON *ex = fe_json_get(l, "examples"), *e;
    out->examples = alloc_for(ex, sizeof(*out->examples));
    cJSON_ArrayForEach(e, ex) {
        out->examples[out->n_examples++] = (struct fe_compare_example_view){
            .id = str(e, "id"),
            .baseline_prediction = str(e, "baseline_prediction"),
            .candidate_prediction = str(e, "candidate_prediction"),
            .candidate_status = str(e, "candidate_status"),
            .gold = fe_json_get(e, "gold")};
    }
}

static void drift_test_parse(const cJSON *t, struct fe_compare_drift_test_view *out)
{
    out->name = str(t, "name");
    out->test = str(t, "test");
    out->p = num(t, "p");
    out->stat = num(t, "stat");
    out->df = num(t, "df");
    out->mean_baseline = num(t, "mean_baseline");
    out->mean_candidate = num(t, "mean_candidate");
    out->rate_baseline = num(t, "rate_baseline");
    out->rate_candidate = num(t, "rate_candidate");
    out->flagged = truth(t, "flagged");
    const cJSON *cats = fe_json_get(t, "categories"), *c;
    out->categories = alloc_for(cats, sizeof(*out->categories));
    cJSON_ArrayForEach(c, cats) {
        out->categories[out->n_categories++] = (struct fe_compare_category_view){
            str(c, "label"), num(c, "baseline"), num(c, "candidate")};
    }
}

static void metric_parse(const cJSON *m, struct fe_compare_metric_view *out)
{
    out->metric = str(m, "metric");
    out->verdict = str(m, "verdict");
    out->reason = str(m, "reason");
    out->n = num(m, "n");
    out->mean_baseline = num(m, "mean_baseline");
    out->mean_candidate = num(m, "mean_candidate");
    out->delta = num(m, "delta");
    out->ci_lo = out->ci_hi = NAN;
    const cJSON *ci = fe_json_get(m, "ci");
    if (cJSON_IsArray(ci) && cJSON_GetArraySize(ci) == 2 &&
        !(fe_json_num(cJSON_GetArrayItem(ci, 0), &out->ci_lo) &&
          fe_json_num(cJSON_GetArrayItem(ci, 1), &out->ci_hi)))
        out->ci_lo = out->ci_hi = NAN;
    out->lower_bound = num(m, "lower_bound");
    out->upper_bound = num(m, "upper_bound");
    out->margin = num(m, "margin");
    out->p = num(m, "p");
    out->p_adjusted = num(m, "p_adjusted");
    out->mde = num(m, "mde");
}

static void arm_parse(const cJSON *a, struct fe_compare_arm_view *out)
{
    out->name = str(a, "name");
    out->n = num(a, "n");
    out->n_errors_baseline = num(a, "n_errors_baseline");
    out->n_errors_candidate = num(a, "n_errors_candidate");
    out->n_missing_baseline = num(a, "n_missing_baseline");
    out->n_missing_candidate = num(a, "n_missing_candidate");
    const cJSON *metrics = fe_json_get(a, "metrics"), *m;
    out->metrics = alloc_for(metrics, sizeof(*out->metrics));
    cJSON_ArrayForEach(m, metrics)
        metric_parse(m, &out->metrics[out->n_metrics++]);
    const cJSON *drift = fe_json_get(a, "drift"), *tests = fe_json_get(drift, "tests"), *t;
    out->drift_flagged = truth(drift, "flagged");
    out->drift = alloc_for(tests, sizeof(*out->drift));
    cJSON_ArrayForEach(t, tests)
        drift_test_parse(t, &out->drift[out->n_drift++]);
    list_parse(fe_json_get(a, "broke"), &out->broke);
    list_parse(fe_json_get(a, "fixed"), &out->fixed);
}

void fe_compare_view_parse(const cJSON *res, struct fe_compare_view *out)
{
    memset(out, 0, sizeof(*out));
    out->mode = str(res, "mode");
    out->verdict = str(res, "verdict");
    out->baseline_dir = str(fe_json_get(res, "baseline"), "dir");
    out->candidate_dir = str(fe_json_get(res, "candidate"), "dir");
    const cJSON *o = fe_json_get(res, "options");
    out->margin = num(o, "margin");
    out->alpha = num(o, "alpha");
    out->resamples = num(o, "resamples");
    out->seed = num(o, "seed");
    out->fail_on_inconclusive = truth(o, "fail_on_inconclusive");
    out->fail_on_drift = truth(o, "fail_on_drift");
    const cJSON *ds = fe_json_get(res, "dataset");
    out->dataset_same = truth(ds, "same");
    const cJSON *added = fe_json_get(ds, "added"), *removed = fe_json_get(ds, "removed"), *it;
    out->added = alloc_for(added, sizeof(*out->added));
    cJSON_ArrayForEach(it, added)
        out->added[out->n_added++] = fe_json_str(it);
    out->removed = alloc_for(removed, sizeof(*out->removed));
    cJSON_ArrayForEach(it, removed)
        out->removed[out->n_removed++] = fe_json_str(it);
    const cJSON *w = fe_json_get(res, "warnings");
    out->warnings = alloc_for(w, sizeof(*out->warnings));
    cJSON_ArrayForEach(it, w)
        out->warnings[out->n_warnings++] = fe_json_str(it);
    const cJSON *ch = fe_json_get(res, "changes");
    out->changes = alloc_for(ch, sizeof(*out->changes));
    cJSON_ArrayForEach(it, ch) {
        out->changes[out->n_changes++] = (struct fe_compare_change_view){
            str(it, "arm"), str(it, "field"), fe_json_get(it, "baseline"),
            fe_json_get(it, "candidate")};
    }
    const cJSON *arms = fe_json_get(res, "arms");
    out->arms = alloc_for(arms, sizeof(*out->arms));
    cJSON_ArrayForEach(it, arms)
        arm_parse(it, &out->arms[out->n_arms++]);
    const cJSON *cnt = fe_json_get(res, "counts");
    out->n_pass = num(cnt, "pass");
    out->n_improvement = num(cnt, "improvement");
    out->n_inconclusive = num(cnt, "inconclusive");
    out->n_regression = num(cnt, "regression");
    out->drift_flagged = truth(res, "drift_flagged");
}

void fe_compare_view_release(struct fe_compare_view *v)
{
    for (size_t a = 0; a < v->n_arms; a++) {
        struct fe_compare_arm_view *arm = &v->arms[a];
        free(arm->metrics);
        for (size_t t = 0; t < arm->n_drift; t++)
            free(arm->drift[t].categories);
        free(arm->drift);
        free(arm->broke.examples);
        free(arm->fixed.examples);
    }
    free(v->arms);
    free(v->added);
    free(v->removed);
    free(v->warnings);
    free(v->changes);
    memset(v, 0, sizeof(*v));
}

int fe_compare_view_exit_code(const struct fe_compare_view *v)
{
    if (!v->verdict || strcmp(v->verdict, "refused") == 0)
        return FE_EXIT_INVALID;
    if (v->n_regression > 0)
        return FE_EXIT_GATE;
    if (v->fail_on_inconclusive && v->n_inconclusive > 0)
        return FE_EXIT_GATE;
    if (v->fail_on_drift && v->drift_flagged)
        return FE_EXIT_GATE;
    return FE_EXIT_OK;
}
