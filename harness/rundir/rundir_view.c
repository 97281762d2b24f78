/* rundir_view.c — the typed reader of a run's manifest.json, summary.json and compare.json
 * (rundir.h): the only place their fields are looked up by name for the renderers, the gate
 * and the decision. Absent fields stay visible: NULL strings, NAN numbers, has_/present flags.
 */
#include "harness/rundir/rundir.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "harness/base/jsonout.h"
#include "harness/base/util.h"

/* o[k] as a pair [lo, hi]; both NAN unless it is an array of exactly two numbers. */
static void pair(const cJSON *o, const char *k, double *lo, double *hi)
{
    const cJSON *a = fe_json_get(o, k);
    *lo = *hi = NAN;
    if (cJSON_IsArray(a) && cJSON_GetArraySize(a) == 2 &&
        fe_json_num(cJSON_GetArrayItem(a, 0), lo) && fe_json_num(cJSON_GetArrayItem(a, 1), hi))
        return;
    *lo = *hi = NAN;
}

void fe_manifest_view_parse(const cJSON *m, struct fe_manifest_view *out)
{
    memset(out, 0, sizeof(*out));
    out->name = fe_json_gets(m, "name");
    out->run_id = fe_json_gets(m, "run_id");
    out->status = fe_json_gets(m, "status");
    out->command = fe_json_gets(m, "command");
    out->started_at = fe_json_gets(m, "started_at");
    out->ended_at = fe_json_gets(m, "ended_at");
    out->fteval_version = fe_json_gets(m, "fteval_version");
    const cJSON *ds = fe_json_get(m, "dataset");
    out->dataset_path = fe_json_gets(ds, "path");
    out->dataset_sha256 = fe_json_gets(ds, "sha256");
    out->dataset_examples = fe_json_getn(ds, "examples");
    out->primary_metric = fe_json_gets(m, "primary_metric");
    const cJSON *cfg = fe_json_get(m, "config");
    out->budget_max_usd = fe_json_getn(fe_json_get(cfg, "budget"), "max_usd");
    out->slice_field = fe_json_gets(fe_json_get(cfg, "task"), "slice_field");
    out->slice_min_n = fe_json_getn(fe_json_get(cfg, "task"), "slice_min_n");
    out->baseline_arm = fe_json_gets(m, "baseline_arm");
    out->candidate_arm = fe_json_gets(m, "candidate_arm");
    const cJSON *st = fe_json_get(m, "stats");
    out->stats_seed = fe_json_getn(st, "seed");
    out->stats_resamples = fe_json_getn(st, "resamples");
    out->stats_alpha = fe_json_getn(st, "alpha");
    out->stats_correction = fe_json_gets(st, "correction");
    out->stats_family = fe_json_gets(st, "family");
    out->config_path = fe_json_gets(m, "config_path");
}

void fe_manifest_arm_price(const cJSON *manifest, const char *arm, const char **source,
                           const char **as_of)
{
    *source = *as_of = NULL;
    const cJSON *a;
    cJSON_ArrayForEach(a, fe_json_get(manifest, "arms")) {
        const char *name = fe_json_gets(a, "name");
        if (name && strcmp(name, arm) == 0) { /* the last entry of a repeated name wins */
            const cJSON *price = fe_json_get(a, "price");
            *source = fe_json_gets(price, "source");
            *as_of = fe_json_gets(price, "as_of");
        }
    }
}

void fe_summary_cost_parse(const cJSON *cost, struct fe_summary_cost *out)
{
    out->present = cost != NULL;
    out->priced = cJSON_IsTrue(fe_json_get(cost, "priced"));
    out->has_priced = cJSON_IsBool(fe_json_get(cost, "priced"));
    out->total_usd = fe_json_getn(cost, "total_usd");
    out->per_inference_usd = fe_json_getn(cost, "per_inference_usd");
    out->per_1k_usd = fe_json_getn(cost, "per_1k_usd");
    out->per_correct_usd = fe_json_getn(cost, "per_correct_usd");
}

void fe_summary_latency_parse(const cJSON *lat, struct fe_summary_latency *out)
{
    out->present = lat != NULL;
    out->mean = fe_json_getn(lat, "mean");
    out->p50 = fe_json_getn(lat, "p50");
    out->p90 = fe_json_getn(lat, "p90");
    out->p95 = fe_json_getn(lat, "p95");
    out->p99 = fe_json_getn(lat, "p99");
    out->max = fe_json_getn(lat, "max");
    const cJSON *ttft = fe_json_get(lat, "ttft");
    out->ttft_p50 = fe_json_getn(ttft, "p50");
    out->ttft_p90 = fe_json_getn(ttft, "p90");
    out->ttft_p99 = fe_json_getn(ttft, "p99");
}

/* The "detail" of a corpus metric: per-class rows, the confusion matrix, entity counts. */
static void corpus_parse(const cJSON *sm, struct fe_summary_metric *o)
{
    o->corpus = cJSON_IsTrue(fe_json_get(sm, "corpus"));
    const cJSON *d = fe_json_get(sm, "detail");
    o->ent_tp = fe_json_getn(d, "tp");
    o->ent_pred = fe_json_getn(d, "pred");
    o->ent_gold = fe_json_getn(d, "gold");
    o->ent_precision = fe_json_getn(d, "precision");
    o->ent_recall = fe_json_getn(d, "recall");
    o->ent_f1 = fe_json_getn(d, "f1");
    const cJSON *pc = fe_json_get(d, "per_class");
    if (cJSON_IsArray(pc) && cJSON_GetArraySize(pc) > 0) {
        o->classes = fe_xcalloc((size_t)cJSON_GetArraySize(pc), sizeof(*o->classes));
        const cJSON *e;
        cJSON_ArrayForEach(e, pc)
        {
            struct fe_summary_class *c = &o->classes[o->n_classes++];
            c->label = fe_json_gets(e, "label");
            c->precision = fe_json_getn(e, "precision");
            c->recall = fe_json_getn(e, "recall");
            c->f1 = fe_json_getn(e, "f1");
            c->support = fe_json_getn(e, "support");
            c->predicted = fe_json_getn(e, "predicted");
        }
    }
    const cJSON *conf = fe_json_get(d, "confusion");
    const cJSON *labels = fe_json_get(conf, "labels"), *matrix = fe_json_get(conf, "matrix");
    size_t k = cJSON_IsArray(labels) ? (size_t)cJSON_GetArraySize(labels) : 0;
    if (k == 0 || !cJSON_IsArray(matrix) || (size_t)cJSON_GetArraySize(matrix) != k)
        return;
    o->conf_labels = fe_xcalloc(k, sizeof(*o->conf_labels));
    o->conf = fe_xcalloc(k * k, sizeof(*o->conf));
    o->conf_n = k;
    for (size_t r = 0; r < k; r++) {
        o->conf_labels[r] = fe_json_str(cJSON_GetArrayItem(labels, (int)r));
        const cJSON *row = cJSON_GetArrayItem(matrix, (int)r);
        for (size_t q = 0; q < k; q++) {
            double x;
            o->conf[r * k + q] = fe_json_num(cJSON_GetArrayItem(row, (int)q), &x) ? x : NAN;
        }
    }
    o->conf_capped = cJSON_IsTrue(fe_json_get(conf, "capped"));
    o->conf_note = fe_json_gets(conf, "note");
}

static void arm_parse(const struct fe_run *run, const cJSON *s, struct fe_summary_arm *out)
{
    out->present = s != NULL;
    out->n = fe_json_getn(s, "n");
    out->n_errors = fe_json_getn(s, "n_errors");
    out->metrics = fe_xcalloc(run->n_metrics + 1, sizeof(*out->metrics));
    out->n_metrics = run->n_metrics;
    const cJSON *metrics = fe_json_get(s, "metrics");
    for (size_t m = 0; m < run->n_metrics; m++) {
        const cJSON *sm = fe_json_get(metrics, run->metrics[m]);
        struct fe_summary_metric *o = &out->metrics[m];
        o->present = sm != NULL;
        o->mean = fe_json_getn(sm, "mean");
        o->se = fe_json_getn(sm, "se");
        pair(sm, "ci", &o->ci_lo, &o->ci_hi);
        corpus_parse(sm, o);
    }
    fe_summary_cost_parse(fe_json_get(s, "cost"), &out->cost);
    fe_summary_latency_parse(fe_json_get(s, "latency_ms"), &out->latency);
}

void fe_summary_comparison_parse(const cJSON *c, struct fe_summary_comparison *out)
{
    memset(out, 0, sizeof(*out));
    out->present = cJSON_IsObject(c);
    out->a = fe_json_gets(c, "a");
    out->b = fe_json_gets(c, "b");
    out->metric = fe_json_gets(c, "metric");
    out->adjustment = fe_json_gets(c, "adjustment");
    out->ci_method = fe_json_gets(c, "ci_method");
    out->n = fe_json_getn(c, "n");
    out->delta = fe_json_getn(c, "delta");
    out->se_paired = fe_json_getn(c, "se_paired");
    pair(c, "ci", &out->ci_lo, &out->ci_hi);
    out->p_bootstrap = fe_json_getn(c, "p_bootstrap");
    out->p_permutation = fe_json_getn(c, "p_permutation");
    out->p_mcnemar = fe_json_getn(c, "p_mcnemar");
    out->p_adjusted = fe_json_getn(c, "p_adjusted");
    out->mde = fe_json_getn(c, "mde");
    out->n_needed = fe_json_getn(c, "n_needed");
    out->alpha = fe_json_getn(c, "alpha");
    out->ci_lower_one_sided = fe_json_getn(c, "ci_lower_one_sided");
    out->resamples = fe_json_getn(c, "resamples");
    out->seed = fe_json_getn(c, "seed");
    out->p_adjusted_source = fe_json_gets(c, "p_adjusted_source");
    out->permutation_exact = cJSON_IsTrue(fe_json_get(c, "permutation_exact"));
    const cJSON *sig = fe_json_get(c, "significant");
    out->has_significant = cJSON_IsBool(sig);
    out->significant = cJSON_IsTrue(sig);
    out->inconclusive = cJSON_IsTrue(fe_json_get(c, "inconclusive"));
}

static void break_even_parse(const cJSON *be, struct fe_decision_view *out)
{
    out->has_break_even = be != NULL;
    out->training_cost_usd = fe_json_getn(be, "training_cost_usd");
    out->savings_per_request_usd = fe_json_getn(be, "savings_per_request_usd");
    out->break_even_requests = fe_json_getn(be, "break_even_requests");
    out->requests_per_month = fe_json_getn(be, "requests_per_month");
    out->break_even_months = fe_json_getn(be, "break_even_months");
    const cJSON *mc = fe_json_get(be, "monthly_cost_usd"), *e;
    out->monthly_cost = fe_xcalloc((size_t)cJSON_GetArraySize(mc) + 1, sizeof(*out->monthly_cost));
    cJSON_ArrayForEach(e, mc) {
        double v;
        out->monthly_cost[out->n_monthly_cost++] =
            (struct fe_arm_money){e->string, fe_json_num(e, &v) ? v : NAN};
    }
}

static void rubric_parse(const cJSON *r, struct fe_decision_view *out)
{
    out->rubric_total = fe_json_getn(r, "total");
    out->rubric_max = fe_json_getn(r, "max");
    out->has_rubric = r && fe_has(out->rubric_total) && fe_has(out->rubric_max);
    out->rubric_band = fe_json_gets(r, "band");
    const cJSON *dims = fe_json_get(r, "dimensions"), *d;
    out->dims = fe_xcalloc((size_t)cJSON_GetArraySize(dims) + 1, sizeof(*out->dims));
    cJSON_ArrayForEach(d, dims) {
        out->dims[out->n_dims++] =
            (struct fe_rubric_dim){.name = d->string,
                                   .evidence = fe_json_gets(d, "evidence"),
                                   .to_improve = fe_json_gets(d, "to_improve"),
                                   .score = fe_json_getn(d, "score")};
    }
}

void fe_decision_view_parse(const cJSON *d, struct fe_decision_view *out)
{
    memset(out, 0, sizeof(*out));
    if (!cJSON_IsObject(d))
        d = NULL;
    out->present = d != NULL;
    out->verdict = fe_json_gets(d, "verdict");
    out->baseline_arm = fe_json_gets(d, "baseline_arm");
    out->candidate_arm = fe_json_gets(d, "candidate_arm");
    out->metric = fe_json_gets(d, "metric");
    const cJSON *reasons = fe_json_get(d, "reasons"), *r;
    out->reasons = fe_xcalloc((size_t)cJSON_GetArraySize(reasons) + 1, sizeof(*out->reasons));
    cJSON_ArrayForEach(r, reasons)
        out->reasons[out->n_reasons++] = fe_json_str(r);
    break_even_parse(fe_json_get(d, "break_even"), out);
    rubric_parse(fe_json_get(d, "rubric"), out);
}

void fe_decision_view_release(struct fe_decision_view *v)
{
    free(v->reasons);
    free(v->monthly_cost);
    free(v->dims);
    memset(v, 0, sizeof(*v));
}

void fe_summary_view_parse(const struct fe_run *run, const cJSON *summary,
                           struct fe_summary_view *out)
{
    memset(out, 0, sizeof(*out));
    if (!cJSON_IsObject(summary))
        summary = NULL;
    out->present = summary != NULL;
    out->n_arms = run->n_arms;
    out->arms = fe_xcalloc(run->n_arms + 1, sizeof(*out->arms));
    const cJSON *arms = fe_json_get(summary, "arms");
    for (size_t a = 0; a < run->n_arms; a++)
        arm_parse(run, fe_json_get(arms, run->arms[a].name), &out->arms[a]);
    const cJSON *cmps = fe_json_get(summary, "comparisons"), *c;
    out->comparisons = fe_xcalloc((size_t)cJSON_GetArraySize(cmps) + 1, sizeof(*out->comparisons));
    if (cJSON_IsArray(cmps))
        cJSON_ArrayForEach(c, cmps)
            fe_summary_comparison_parse(c, &out->comparisons[out->n_comparisons++]);
    fe_decision_view_parse(fe_json_get(summary, "decision"), &out->decision);
}

void fe_summary_view_release(struct fe_summary_view *v)
{
    for (size_t a = 0; a < v->n_arms; a++) {
        for (size_t m = 0; m < v->arms[a].n_metrics; m++) {
            free(v->arms[a].metrics[m].classes);
            free(v->arms[a].metrics[m].conf_labels);
            free(v->arms[a].metrics[m].conf);
        }
        free(v->arms[a].metrics);
    }
    free(v->arms);
    free(v->comparisons);
    fe_decision_view_release(&v->decision);
    memset(v, 0, sizeof(*v));
}

static void history_arm_parse(const cJSON *a, struct fe_history_arm *out)
{
    out->name = a->string;
    out->model = fe_json_gets(a, "model");
    out->n = fe_json_getn(a, "n");
    out->n_errors = fe_json_getn(a, "n_errors");
    out->cost_per_inference_usd = fe_json_getn(a, "cost_per_inference_usd");
    const cJSON *metrics = fe_json_get(a, "metrics"), *m;
    out->metrics = fe_xcalloc((size_t)cJSON_GetArraySize(metrics) + 1, sizeof(*out->metrics));
    cJSON_ArrayForEach(m, metrics) {
        struct fe_history_metric *hm = &out->metrics[out->n_metrics++];
        hm->name = m->string;
        hm->mean = fe_json_getn(m, "mean");
        pair(m, "ci", &hm->ci_lo, &hm->ci_hi);
    }
}

void fe_history_view_parse(const cJSON *entries, struct fe_history_view *out)
{
    memset(out, 0, sizeof(*out));
    out->entries = fe_xcalloc((size_t)cJSON_GetArraySize(entries) + 1, sizeof(*out->entries));
    const cJSON *e;
    cJSON_ArrayForEach(e, entries) {
        struct fe_history_entry *he = &out->entries[out->n++];
        he->run_id = fe_json_gets(e, "run_id");
        he->name = fe_json_gets(e, "name");
        he->dir = fe_json_gets(e, "dir");
        he->time = fe_json_gets(e, "time");
        he->status = fe_json_gets(e, "status");
        he->dataset_sha256 = fe_json_gets(e, "dataset_sha256");
        he->primary_metric = fe_json_gets(e, "primary_metric");
        const cJSON *arms = fe_json_get(e, "arms"), *a;
        he->arms = fe_xcalloc((size_t)cJSON_GetArraySize(arms) + 1, sizeof(*he->arms));
        cJSON_ArrayForEach(a, arms)
            history_arm_parse(a, &he->arms[he->n_arms++]);
    }
}

void fe_history_view_release(struct fe_history_view *v)
{
    for (size_t i = 0; i < v->n; i++) {
        for (size_t a = 0; a < v->entries[i].n_arms; a++)
            free(v->entries[i].arms[a].metrics);
        free(v->entries[i].arms);
    }
    free(v->entries);
    memset(v, 0, sizeof(*v));
}

const struct fe_history_arm *fe_history_arm(const struct fe_history_entry *e, const char *name)
{
    for (size_t a = 0; a < e->n_arms; a++)
        if (e->arms[a].name && strcmp(e->arms[a].name, name) == 0)
            return &e->arms[a];
    return NULL;
}

const struct fe_history_metric *fe_history_metric(const struct fe_history_arm *a,
                                                  const char *metric)
{
    for (size_t m = 0; a && m < a->n_metrics; m++)
        if (a->metrics[m].name && strcmp(a->metrics[m].name, metric) == 0)
            return &a->metrics[m];
    return NULL;
}

/* ---- summary.json "slices" (analysis/slices.h) ---- */

static void fe_slice_row_parse(const cJSON *e, const char *metric, struct fe_slice_row *row)
{
    row->name = fe_json_gets(e, "name");
    const cJSON *arms = fe_json_get(e, "arms");
    row->n_arms = (size_t)cJSON_GetArraySize(arms);
    row->arms = fe_xcalloc(row->n_arms ? row->n_arms : 1, sizeof(*row->arms));
    size_t k = 0;
    for (const cJSON *a = arms ? arms->child : NULL; a; a = a->next, k++) {
        struct fe_slice_arm *sa = &row->arms[k];
        sa->arm = a->string;
        sa->n = fe_json_getn(a, "n");
        const cJSON *m = fe_json_get(fe_json_get(a, "metrics"), metric);
        sa->mean = fe_json_getn(m, "mean");
        pair(m, "ci", &sa->ci_lo, &sa->ci_hi);
    }
}

void fe_slices_view_parse(const cJSON *s, struct fe_slices_view *out)
{
    memset(out, 0, sizeof(*out));
    const cJSON *b = fe_json_get(s, "slices");
    if (!cJSON_IsObject(b))
        return;
    out->present = true;
    out->field = fe_json_gets(b, "field");
    out->metric = fe_json_gets(b, "metric");
    out->baseline_arm = fe_json_gets(b, "baseline_arm");
    out->min_n = fe_json_getn(b, "min_n");
    const cJSON *sl = fe_json_get(b, "slices");
    out->n_slices = (size_t)cJSON_GetArraySize(sl);
    out->slices = fe_xcalloc(out->n_slices ? out->n_slices : 1, sizeof(*out->slices));
    size_t k = 0;
    for (const cJSON *e = sl ? sl->child : NULL; e; e = e->next)
        fe_slice_row_parse(e, out->metric ? out->metric : "", &out->slices[k++]);
    const cJSON *cmp = fe_json_get(b, "comparisons");
    out->n_cmps = (size_t)cJSON_GetArraySize(cmp);
    out->cmps = fe_xcalloc(out->n_cmps ? out->n_cmps : 1, sizeof(*out->cmps));
    k = 0;
    for (const cJSON *e = cmp ? cmp->child : NULL; e; e = e->next, k++) {
        struct fe_slice_cmp *c = &out->cmps[k];
        c->slice = fe_json_gets(e, "slice");
        c->a = fe_json_gets(e, "a");
        c->b = fe_json_gets(e, "b");
        c->adjustment = fe_json_gets(e, "adjustment");
        c->n = fe_json_getn(e, "n");
        c->delta = fe_json_getn(e, "delta");
        pair(e, "ci", &c->ci_lo, &c->ci_hi);
        c->p_adjusted = fe_json_getn(e, "p_adjusted");
        c->family_size = fe_json_getn(e, "family_size");
        c->tested = cJSON_IsTrue(fe_json_get(e, "tested"));
        c->significant = cJSON_IsTrue(fe_json_get(e, "significant"));
        c->worse = cJSON_IsTrue(fe_json_get(e, "worse"));
    }
}

void fe_slices_view_release(struct fe_slices_view *v)
{
    for (size_t i = 0; i < v->n_slices; i++)
        free(v->slices[i].arms);
    free(v->slices);
    free(v->cmps);
    memset(v, 0, sizeof(*v));
}
