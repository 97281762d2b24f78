/* compare_view.c — the typed reader of a compare.json result (compare.h): the one place its
 * fields are looked up by name for the text report, JUnit and the exit code. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "harness/analysis/compare.h"
#include "harness/base/err.h"
#include "harness/base/jsonout.h"
#include "harness/base/util.h"

/* A zeroed array of one element per item of arr (plus one, never NULL). */
static void *alloc_for(const cJSON *arr, size_t size)
{
    return fe_xcalloc((size_t)cJSON_GetArraySize(arr) + 1, size);
}

void fe_compare_example_view_parse(const cJSON *e, struct fe_compare_example_view *out)
{
    *out = (struct fe_compare_example_view){
        .id = fe_json_gets(e, "id"),
        .baseline_prediction = fe_json_gets(e, "baseline_prediction"),
        .candidate_prediction = fe_json_gets(e, "candidate_prediction"),
        .candidate_status = fe_json_gets(e, "candidate_status"),
        .gold = fe_json_get(e, "gold"),
        .baseline_status = fe_json_gets(e, "baseline_status"),
        .input = fe_json_gets(e, "input"),
        .input_truncated = cJSON_IsTrue(fe_json_get(e, "input_truncated")),
        .baseline_score = fe_json_getn(e, "baseline_score"),
        .candidate_score = fe_json_getn(e, "candidate_score")};
}

static void list_parse(const cJSON *l, struct fe_compare_list_view *out)
{
    out->metric = fe_json_gets(l, "metric");
    out->count = fe_json_getn(l, "count");
    const cJSON *ex = fe_json_get(l, "examples"), *e;
    out->examples = alloc_for(ex, sizeof(*out->examples));
    cJSON_ArrayForEach(e, ex)
        fe_compare_example_view_parse(e, &out->examples[out->n_examples++]);
}

static void drift_test_parse(const cJSON *t, struct fe_compare_drift_test_view *out)
{
    out->name = fe_json_gets(t, "name");
    out->test = fe_json_gets(t, "test");
    out->p = fe_json_getn(t, "p");
    out->stat = fe_json_getn(t, "stat");
    out->df = fe_json_getn(t, "df");
    out->mean_baseline = fe_json_getn(t, "mean_baseline");
    out->mean_candidate = fe_json_getn(t, "mean_candidate");
    out->rate_baseline = fe_json_getn(t, "rate_baseline");
    out->rate_candidate = fe_json_getn(t, "rate_candidate");
    out->flagged = cJSON_IsTrue(fe_json_get(t, "flagged"));
    const cJSON *cats = fe_json_get(t, "categories"), *c;
    out->categories = alloc_for(cats, sizeof(*out->categories));
    cJSON_ArrayForEach(c, cats) {
        out->categories[out->n_categories++] = (struct fe_compare_category_view){
            fe_json_gets(c, "label"), fe_json_getn(c, "baseline"), fe_json_getn(c, "candidate")};
    }
}

static void metric_parse(const cJSON *m, struct fe_compare_metric_view *out)
{
    out->metric = fe_json_gets(m, "metric");
    out->verdict = fe_json_gets(m, "verdict");
    out->reason = fe_json_gets(m, "reason");
    out->n = fe_json_getn(m, "n");
    out->mean_baseline = fe_json_getn(m, "mean_baseline");
    out->mean_candidate = fe_json_getn(m, "mean_candidate");
    out->delta = fe_json_getn(m, "delta");
    out->ci_lo = out->ci_hi = NAN;
    const cJSON *ci = fe_json_get(m, "ci");
    if (cJSON_IsArray(ci) && cJSON_GetArraySize(ci) == 2 &&
        !(fe_json_num(cJSON_GetArrayItem(ci, 0), &out->ci_lo) &&
          fe_json_num(cJSON_GetArrayItem(ci, 1), &out->ci_hi)))
        out->ci_lo = out->ci_hi = NAN;
    out->lower_bound = fe_json_getn(m, "lower_bound");
    out->upper_bound = fe_json_getn(m, "upper_bound");
    out->margin = fe_json_getn(m, "margin");
    out->p = fe_json_getn(m, "p");
    out->p_adjusted = fe_json_getn(m, "p_adjusted");
    out->mde = fe_json_getn(m, "mde");
}

static void arm_parse(const cJSON *a, struct fe_compare_arm_view *out)
{
    out->name = fe_json_gets(a, "name");
    out->baseline_arm = fe_json_gets(a, "baseline_arm");
    out->candidate_arm = fe_json_gets(a, "candidate_arm");
    out->n = fe_json_getn(a, "n");
    out->n_errors_baseline = fe_json_getn(a, "n_errors_baseline");
    out->n_errors_candidate = fe_json_getn(a, "n_errors_candidate");
    out->n_missing_baseline = fe_json_getn(a, "n_missing_baseline");
    out->n_missing_candidate = fe_json_getn(a, "n_missing_candidate");
    const cJSON *metrics = fe_json_get(a, "metrics"), *m;
    out->metrics = alloc_for(metrics, sizeof(*out->metrics));
    cJSON_ArrayForEach(m, metrics)
        metric_parse(m, &out->metrics[out->n_metrics++]);
    const cJSON *drift = fe_json_get(a, "drift"), *tests = fe_json_get(drift, "tests"), *t;
    out->drift_flagged = cJSON_IsTrue(fe_json_get(drift, "flagged"));
    out->drift = alloc_for(tests, sizeof(*out->drift));
    cJSON_ArrayForEach(t, tests)
        drift_test_parse(t, &out->drift[out->n_drift++]);
    list_parse(fe_json_get(a, "broke"), &out->broke);
    list_parse(fe_json_get(a, "fixed"), &out->fixed);
}

void fe_compare_view_parse(const cJSON *res, struct fe_compare_view *out)
{
    memset(out, 0, sizeof(*out));
    out->mode = fe_json_gets(res, "mode");
    out->verdict = fe_json_gets(res, "verdict");
    out->baseline_dir = fe_json_gets(fe_json_get(res, "baseline"), "dir");
    out->candidate_dir = fe_json_gets(fe_json_get(res, "candidate"), "dir");
    const cJSON *o = fe_json_get(res, "options");
    out->margin = fe_json_getn(o, "margin");
    out->alpha = fe_json_getn(o, "alpha");
    out->resamples = fe_json_getn(o, "resamples");
    out->seed = fe_json_getn(o, "seed");
    out->fail_on_inconclusive = cJSON_IsTrue(fe_json_get(o, "fail_on_inconclusive"));
    out->fail_on_drift = cJSON_IsTrue(fe_json_get(o, "fail_on_drift"));
    const cJSON *ds = fe_json_get(res, "dataset");
    out->dataset_same = cJSON_IsTrue(fe_json_get(ds, "same"));
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
            fe_json_gets(it, "arm"), fe_json_gets(it, "field"), fe_json_get(it, "baseline"),
            fe_json_get(it, "candidate")};
    }
    const cJSON *arms = fe_json_get(res, "arms");
    out->arms = alloc_for(arms, sizeof(*out->arms));
    cJSON_ArrayForEach(it, arms)
        arm_parse(it, &out->arms[out->n_arms++]);
    const cJSON *cnt = fe_json_get(res, "counts");
    out->n_pass = fe_json_getn(cnt, "pass");
    out->n_improvement = fe_json_getn(cnt, "improvement");
    out->n_inconclusive = fe_json_getn(cnt, "inconclusive");
    out->n_regression = fe_json_getn(cnt, "regression");
    out->drift_flagged = cJSON_IsTrue(fe_json_get(res, "drift_flagged"));
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
