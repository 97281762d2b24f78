/* decision.c — see decision.h and docs/decision.md. */
#include "harness/analysis/decision.h"
#include "harness/analysis/decision_int.h"
#include "harness/base/jsonout.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness/base/buf.h"
#include "harness/base/log.h"
#include "harness/base/util.h"
#include "harness/analysis/arm_cost.h"
#include "metrics/cost.h"

#define FE_DEFAULT_MARGIN 0.01
#define FE_DEFAULT_MIN_SAVING 0.05
#define FE_DEFAULT_MAX_ERROR_RATE 0.05

/* ---- small JSON helpers ------------------------------------------------------------------- */

static void add_num_or_null(cJSON *o, const char *k, bool ok, double v)
{
    if (ok && isfinite(v))
        cJSON_AddNumberToObject(o, k, v);
    else
        cJSON_AddNullToObject(o, k);
}

/* ---- public helpers ----------------------------------------------------------------------- */

const char *fe_metric_label(const char *metric)
{
    if (!metric)
        return "metric";
    if (strcmp(metric, "exact_match") == 0)
        return "EM";
    if (strcmp(metric, "f1") == 0)
        return "F1";
    return metric;
}

/* Inverse of the standard normal CDF (Acklam's rational approximation, |error| < 1.2e-9). */
static double fe_norm_quantile(double p)
{
    static const double a[] = {-3.969683028665376e+01, 2.209460984245205e+02,
                               -2.759285104469687e+02, 1.383577518672690e+02,
                               -3.066479806614716e+01, 2.506628277459239e+00};
    static const double b[] = {-5.447609879822406e+01, 1.615858368580409e+02,
                               -1.556989798598866e+02, 6.680131188771972e+01,
                               -1.328068155288572e+01};
    static const double c[] = {-7.784894002430293e-03, -3.223964580411365e-01,
                               -2.400758277161838e+00, -2.549732539343734e+00,
                               4.374664141464968e+00,  2.938163982698783e+00};
    static const double d[] = {7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00,
                               3.754408661907416e+00};
    if (p <= 0)
        return -INFINITY;
    if (p >= 1)
        return INFINITY;
    if (p < 0.02425) {
        double q = sqrt(-2 * log(p));
        return (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
               ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
    }
    if (p > 1 - 0.02425)
        return -fe_norm_quantile(1 - p);
    double q = p - 0.5, r = q * q;
    return (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q /
           (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
}

/* ---- one comparison, normalised to candidate - baseline ----------------------------------- */

static void cmp_parse(const struct fe_summary_comparison *c, bool flip, struct fe_cmp *out)
{
    memset(out, 0, sizeof(*out));
    out->found = fe_has(c->delta);
    if (!out->found)
        return;
    out->delta = c->delta;
    out->has_ci = fe_has(c->ci_lo);
    out->lo = out->has_ci ? c->ci_lo : 0;
    out->hi = out->has_ci ? c->ci_hi : 0;
    out->has_se = fe_has(c->se_paired);
    out->se = out->has_se ? c->se_paired : 0;
    out->p = fe_has(c->p_adjusted) ? c->p_adjusted : c->p_bootstrap;
    out->has_p = fe_has(out->p);
    if (!out->has_p)
        out->p = 0;
    out->has_mde = fe_has(c->mde);
    out->mde = out->has_mde ? c->mde : 0;
    out->has_n_needed = fe_has(c->n_needed);
    out->n_needed = out->has_n_needed ? c->n_needed : 0;
    out->alpha_given = fe_has(c->alpha);
    out->alpha = out->alpha_given ? c->alpha : 0.05;
    out->n = fe_has(c->n) ? c->n : 0;
    out->has_lower = fe_has(c->ci_lower_one_sided);
    out->lower_one_sided = out->has_lower ? c->ci_lower_one_sided : 0;
    out->adjustment = c->adjustment;
    if (c->has_significant)
        out->significant = c->significant;
    else
        out->significant = out->has_p && out->p < out->alpha;
    /* STATISTICS.md §3: a p-value within Monte Carlo error of alpha decides nothing */
    out->borderline = c->inconclusive;
    if (out->borderline)
        out->significant = false;
    if (flip) {
        out->delta = -out->delta;
        double lo = out->lo;
        out->lo = -out->hi;
        out->hi = -lo;
        out->has_lower = false; /* a one-sided bound does not flip */
    }
}

/* Finds the comparison of cand vs base on metric among the summary's comparisons. */
static void cmp_find(const struct fe_summary_view *sv, const char *cand, const char *base,
                     const char *metric, struct fe_cmp *out)
{
    memset(out, 0, sizeof(*out));
    for (size_t i = 0; i < sv->n_comparisons; i++) {
        const struct fe_summary_comparison *c = &sv->comparisons[i];
        if (!c->a || !c->b || !c->metric || strcmp(c->metric, metric) != 0)
            continue;
        if (strcmp(c->a, cand) == 0 && strcmp(c->b, base) == 0) {
            cmp_parse(c, false, out);
            return;
        }
        if (strcmp(c->a, base) == 0 && strcmp(c->b, cand) == 0)
            cmp_parse(c, true, out);
    }
}

char *fe_comparison_sentence(const cJSON *c)
{
    struct fe_summary_comparison v;
    fe_summary_comparison_parse(c, &v);
    return fe_comparison_sentence_view(&v);
}

char *fe_comparison_sentence_view(const struct fe_summary_comparison *c)
{
    struct fe_cmp k;
    cmp_parse(c, false, &k);
    const char *a = fe_str_or(c->a, "?"), *b = fe_str_or(c->b, "?");
    const char *label = fe_metric_label(c->metric);
    if (!k.found)
        return fe_xasprintf("%s vs %s on %s: no estimate", a, b, label);
    char d[32], lo[32] = "", hi[32] = "", p[32] = "", detail[160] = "";
    fe_dec_fmt_pts(d, sizeof(d), k.delta);
    struct fe_buf buf = {0};
    fe_buf_addf(&buf, "(");
    if (k.has_ci) {
        fe_dec_fmt_pts(lo, sizeof(lo), k.lo);
        fe_dec_fmt_pts(hi, sizeof(hi), k.hi);
        fe_buf_addf(&buf, "%.0f%% CI %s to %s", 100 * (1 - k.alpha), lo, hi);
    }
    if (k.has_p) {
        fe_dec_fmt_p(p, sizeof(p), k.p, true);
        const char *adj = fe_dec_adjustment_label(k.adjustment);
        fe_buf_addf(&buf, "%s%s%s%s", k.has_ci ? ", " : "", p, adj ? " after " : "",
                    adj ? adj : "");
    }
    fe_buf_addf(&buf, ")");
    snprintf(detail, sizeof(detail), "%s", buf.len > 2 ? fe_buf_str(&buf) : "");
    fe_buf_release(&buf);
    char *s;
    if (k.significant && k.delta > 0) {
        s = fe_xasprintf("%s beats %s by %s %s points %s", a, b, d, label, detail);
    } else if (k.significant && k.delta < 0) {
        fe_dec_fmt_pts(d, sizeof(d), -k.delta);
        s = fe_xasprintf("%s is worse than %s by %s %s points %s", a, b, d + 1, label, detail);
    } else if (k.has_mde) {
        char mde[32];
        snprintf(mde, sizeof(mde), "%.1f", k.mde * 100);
        s = fe_xasprintf("no significant difference between %s and %s on %s: %s points %s; "
                         "the smallest difference this run could detect (MDE) is %s points",
                         a, b, label, d, detail, mde);
    } else {
        s = fe_xasprintf("no significant difference between %s and %s on %s: %s points %s", a, b,
                         label, d, detail);
    }
    return s;
}

/* ---- per-arm facts ------------------------------------------------------------------------ */

static const cJSON *find_named(const cJSON *arr, const char *name)
{
    const cJSON *v;
    cJSON_ArrayForEach(v, arr) {
        const char *n = fe_json_str(fe_json_get(v, "name"));
        if (n && strcmp(n, name) == 0)
            return v;
    }
    return NULL;
}

/* True when o[k] is present and not null, false, "" or []. */
static bool nonempty_field(const cJSON *o, const char *k)
{
    const cJSON *v = fe_json_get(o, k);
    if (!v || cJSON_IsNull(v) || cJSON_IsFalse(v))
        return false;
    if (cJSON_IsString(v))
        return v->valuestring[0] != 0;
    if (cJSON_IsArray(v))
        return cJSON_GetArraySize(v) > 0;
    return true;
}

static void arm_facts(const struct fe_run *run, size_t a, const struct fe_summary_arm *s,
                      size_t primary, struct fe_arm_facts *f)
{
    memset(f, 0, sizeof(*f));
    const struct fe_arm_run *arm = &run->arms[a];
    f->name = arm->name;
    f->model = arm->model;
    const cJSON *marm = find_named(fe_json_get(run->manifest, "arms"), arm->name);
    const cJSON *carm = find_named(fe_json_path(run->manifest, "config.arms"), arm->name);
    if (!f->model)
        f->model = fe_json_str(fe_json_get(carm, "model"));
    f->is_ft = f->model && strncmp(f->model, "ft:", 3) == 0;
    double nfs = 0;
    f->prompted_system =
        nonempty_field(marm, "system_sha256") || nonempty_field(carm, "system");
    f->prompted_few_shot = (fe_json_num(fe_json_get(marm, "n_few_shot"), &nfs) && nfs > 0) ||
                           nonempty_field(marm, "few_shot_sha256") ||
                           nonempty_field(carm, "few_shot");
    f->has_system_sha256 = nonempty_field(marm, "system_sha256");
    f->has_few_shot_sha256 = nonempty_field(marm, "few_shot_sha256");
    const cJSON *price = fe_json_get(marm, "price");
    double rate;
    f->training_rate = fe_json_num(fe_json_get(price, "training"), &rate) ||
                               fe_json_num(fe_json_get(price, "training_per_1m"), &rate)
                           ? rate
                           : NAN;
    f->n = arm->n;
    for (size_t i = 0; i < arm->n; i++)
        f->n_errors += !fe_arm_rec(arm, i)->ok;

    if (fe_has(s->n) && s->n >= 0)
        f->n = (size_t)s->n;
    if (fe_has(s->n_errors) && s->n_errors >= 0)
        f->n_errors = (size_t)s->n_errors;
    struct fe_summary_cost cost = s->cost;
    if (!cost.present) {
        cJSON *own = fe_cost_arm_summary(arm, primary < run->n_metrics ? primary : FE_NO_METRIC);
        fe_summary_cost_parse(own, &cost);
        cJSON_Delete(own);
    }
    f->priced = cost.priced && fe_has(cost.per_inference_usd);
    f->per_inference = f->priced ? cost.per_inference_usd : 0;
    struct fe_summary_latency lat = s->latency;
    if (!lat.present) {
        cJSON *own = fe_latency_summary(arm);
        fe_summary_latency_parse(own, &lat);
        cJSON_Delete(own);
    }
    f->has_p50 = fe_has(lat.p50);
    f->p50 = f->has_p50 ? lat.p50 : 0;
    f->has_ttft_p50 = fe_has(lat.ttft_p50);
    f->ttft_p50 = f->has_ttft_p50 ? lat.ttft_p50 : 0;
    if (primary < run->n_metrics) {
        f->has_mean = fe_has(s->metrics[primary].mean);
        f->mean = s->metrics[primary].mean;
        if (!f->has_mean && arm->n > 0) {
            double sum = 0;
            for (size_t i = 0; i < arm->n; i++)
                sum += fe_score(fe_arm_rec(arm, i), primary);
            f->mean = sum / (double)arm->n;
            f->has_mean = true;
        }
    }
}

/* ---- context -------------------------------------------------------------------------------- */

static void add_reason(cJSON *reasons, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void add_reason(cJSON *reasons, const char *fmt, ...)
{
    struct fe_buf b = {0};
    va_list ap;
    va_start(ap, fmt);
    fe_buf_vaddf(&b, fmt, ap);
    va_end(ap);
    cJSON_AddItemToArray(reasons, cJSON_CreateString(fe_buf_str(&b)));
    fe_buf_release(&b);
}

static void quality_reason(const struct fe_ctx *c, cJSON *reasons)
{
    const struct fe_cmp *k = &c->cmp;
    char d[32], lo[32], hi[32], p[32];
    fe_dec_fmt_pts(d, sizeof(d), k->delta);
    struct fe_buf b = {0};
    fe_buf_addf(&b, "%s %s pts", fe_metric_label(c->metric), d);
    if (k->has_ci || k->has_p) {
        fe_buf_adds(&b, " (");
        if (k->has_ci) {
            fe_dec_fmt_pts(lo, sizeof(lo), k->lo);
            fe_dec_fmt_pts(hi, sizeof(hi), k->hi);
            fe_buf_addf(&b, "%.0f%% CI %s..%s", 100 * (1 - k->alpha), lo, hi);
        }
        if (k->has_p) {
            const char *adj = fe_dec_adjustment_label(k->adjustment);
            fe_dec_fmt_p(p, sizeof(p), k->p, false);
            fe_buf_addf(&b, "%s%s%s%s", k->has_ci ? ", " : "", p, adj ? " " : "", adj ? adj : "");
        }
        fe_buf_adds(&b, ")");
    }
    cJSON_AddItemToArray(reasons, cJSON_CreateString(fe_buf_str(&b)));
    fe_buf_release(&b);
}

static bool arm_reliable(const struct fe_arm_facts *f, double max_error_rate)
{
    return f->n > 0 && (double)f->n_errors <= max_error_rate * (double)f->n;
}

/* Relative cost and p50 latency of the candidate against the baseline, when both arms are
 * reliable (an arm that failed often looks cheap and fast for the wrong reason). */
static void compare_ops(struct fe_ctx *c)
{
    const struct fe_arm_facts *B = &c->arms[c->base], *C = &c->arms[c->cand];
    if (B->priced && C->priced && B->per_inference > 0) {
        c->has_cost_rel = true;
        c->cost_rel = (C->per_inference - B->per_inference) / B->per_inference;
    }
    if (B->has_ttft_p50 && C->has_ttft_p50 && B->ttft_p50 > 0) { /* both stream: what users feel */
        c->has_lat_rel = c->lat_is_ttft = true;
        c->lat_rel = (C->ttft_p50 - B->ttft_p50) / B->ttft_p50;
    } else if (B->has_p50 && C->has_p50 && B->p50 > 0) {
        c->has_lat_rel = true;
        c->lat_rel = (C->p50 - B->p50) / B->p50;
    }
    c->ops_reliable = arm_reliable(B, c->max_error_rate) && arm_reliable(C, c->max_error_rate);
    if (!c->ops_reliable)
        c->has_cost_rel = c->has_lat_rel = false;
    c->cheaper = c->has_cost_rel && c->cost_rel <= -c->min_saving;
    c->faster = c->has_lat_rel && c->lat_rel <= -c->min_saving;
}

/* The one-sided lower bound of candidate - baseline: recorded, else delta - z se, else the
 * two-sided CI's lower end (conservative); and non-inferiority against the margin. */
static void lower_bound(struct fe_ctx *c, double z)
{
    const struct fe_cmp *k = &c->cmp;
    if (k->has_lower) {
        c->lower = k->lower_one_sided;
        c->has_lower = true;
    } else if (k->has_se) {
        c->lower = k->delta - z * k->se;
        c->has_lower = true;
    } else if (k->has_ci) {
        c->lower = k->lo;
        c->has_lower = true;
    }
    c->non_inferior = c->has_lower && c->lower > -c->margin;
}

/* Why an inconclusive verdict is inconclusive, and how many examples would settle it. */
static void inconclusive_reasons(const struct fe_ctx *c, cJSON *reasons, const char *lo,
                                 const char *m, double z)
{
    const struct fe_cmp *k = &c->cmp;
    if (c->non_inferior)
        add_reason(reasons,
                   "non-inferior (lower bound %s pts > -%s pt margin) but neither "
                   "cheaper nor faster by %.0f%%: no gain shown",
                   lo, m, c->min_saving * 100);
    else if (c->has_lower)
        add_reason(reasons,
                   "not shown to be better, nor non-inferior (lower bound %s pts vs "
                   "-%s pt margin)",
                   lo, m);
    else
        add_reason(reasons, "not shown to be better; no interval to test non-inferiority");
    if (k->has_mde)
        add_reason(reasons, "MDE %.1f pts at n=%.0f: smaller true differences go unseen",
                   k->mde * 100, k->n);
    if (k->has_n_needed && k->n_needed > k->n) {
        char d[32];
        fe_dec_fmt_pts(d, sizeof(d), k->delta);
        add_reason(reasons,
                   "about %.0f more examples (n=%.0f in all) are needed to detect the "
                   "observed difference of %s pts",
                   ceil(k->n_needed - k->n), ceil(k->n_needed), d);
    }
    if ((c->cheaper || c->faster) && k->has_se && k->n > 0 && k->delta + c->margin > 0) {
        double sd = k->se * sqrt(k->n);
        double need = ceil(pow(z * sd / (k->delta + c->margin), 2));
        if (need > k->n)
            add_reason(reasons,
                       "about %.0f more examples (n=%.0f) would show non-inferiority "
                       "if the observed difference holds",
                       need - k->n, need);
    }
}

/* The verdict from the paired comparison (found) and the cost/latency gains. */
static void quality_verdict(struct fe_ctx *c, cJSON *reasons)
{
    const struct fe_arm_facts *B = &c->arms[c->base], *C = &c->arms[c->cand];
    const struct fe_cmp *k = &c->cmp;
    quality_reason(c, reasons);
    double z = fe_norm_quantile(1 - k->alpha);
    lower_bound(c, z);
    if (k->borderline)
        add_reason(reasons, "the p-value is within Monte Carlo error of alpha: not counted "
                            "as significant either way (more resamples or examples decide)");
    char lo[32], m[32];
    fe_dec_fmt_pts(lo, sizeof(lo), c->lower);
    snprintf(m, sizeof(m), "%.1f", c->margin * 100);
    if (k->significant && k->delta > 0) {
        c->verdict = "ship_candidate";
        add_reason(reasons, "%s is significantly better than %s on %s%s", C->name, B->name,
                   c->metric,
                   fe_dec_adjustment_label(k->adjustment) ? " after multiple-comparison "
                                                     "correction"
                                                   : "");
    } else if (c->non_inferior && (c->cheaper || c->faster)) {
        c->verdict = "ship_candidate";
        add_reason(reasons,
                   "non-inferior: one-sided %.0f%% lower bound %s pts is above the -%s pt "
                   "margin, and %s",
                   100 * (1 - k->alpha), lo, m,
                   c->cheaper && c->faster ? "cheaper and faster"
                   : c->cheaper            ? "cheaper"
                                           : "faster");
        if (k->significant && k->delta < 0)
            add_reason(reasons, "quality is measurably lower, but by less than the margin");
    } else if (k->significant && k->delta < 0) {
        c->verdict = "keep_baseline";
        add_reason(reasons, "%s is significantly worse than %s on %s%s", C->name, B->name,
                   c->metric,
                   c->has_lower ? " and the loss may exceed the non-inferiority margin" : "");
    } else {
        c->verdict = "inconclusive";
        inconclusive_reasons(c, reasons, lo, m, z);
    }
}

/* Cost, latency and error-rate reasons. */
static void ops_reasons(const struct fe_ctx *c, cJSON *reasons)
{
    const struct fe_arm_facts *B = &c->arms[c->base], *C = &c->arms[c->cand];
    if (!c->ops_reliable && (B->n == 0 || C->n == 0))
        add_reason(reasons, "cost and latency not compared: %s has no results",
                   B->n == 0 ? B->name : C->name);
    else if (!c->ops_reliable)
        add_reason(reasons,
                   "cost and latency not compared: an arm failed on more than %.0f%% "
                   "of examples",
                   c->max_error_rate * 100);
    else if (c->has_cost_rel)
        add_reason(reasons, "cost per inference %+.0f%%", c->cost_rel * 100);
    else if (!B->priced || !C->priced)
        add_reason(reasons, "cost per inference unknown for %s (no price for %s, or no calls)",
                   !C->priced ? C->name : B->name,
                   !C->priced ? (C->model ? C->model : "its model")
                              : (B->model ? B->model : "its model"));
    if (c->has_lat_rel && c->lat_is_ttft)
        add_reason(reasons, "p50 time to first token %+.0f%% (both arms stream: the latency criterion uses TTFT "
                   "p50)", c->lat_rel * 100);
    else if (c->has_lat_rel)
        add_reason(reasons, "p50 latency %+.0f%%", c->lat_rel * 100);
    for (size_t i = 0; i < 2; i++) {
        const struct fe_arm_facts *f = i ? C : B;
        if (f->n > 0 && (double)f->n_errors > c->max_error_rate * (double)f->n)
            add_reason(reasons, "%s failed on %zu of %zu examples (scored 0)", f->name, f->n_errors,
                       f->n);
    }
}

static void decide(struct fe_ctx *c, cJSON *reasons)
{
    compare_ops(c);
    if (!c->metric) {
        c->verdict = "inconclusive";
        add_reason(reasons, "the run has no metrics to compare");
    } else if (!c->cmp.found) {
        c->verdict = "inconclusive";
        add_reason(reasons, "no paired comparison of %s vs %s on %s in the summary",
                   c->arms[c->cand].name, c->arms[c->base].name, c->metric);
    } else {
        quality_verdict(c, reasons);
    }
    fe_dec_slices(c, fe_metric_label(c->metric), reasons); /* a slice significantly worse: no ship (decision_slices.c) */
    ops_reasons(c, reasons);
}

/* ---- break-even ------------------------------------------------------------------------------ */

/* Training cost: training.cost_usd, else training.trained_tokens x the training rate of the
 * candidate's model (the manifest's recorded price row, else the config's price table). */
static void training_cost(struct fe_ctx *c, const char **source)
{
    double v;
    *source = NULL;
    if (fe_has(c->in.training_cost_usd) && c->in.training_cost_usd >= 0) {
        c->training_known = true;
        c->training_usd = c->in.training_cost_usd;
        *source = "training.cost_usd";
        return;
    }
    double tokens = c->in.trained_tokens;
    if (!fe_has(tokens) || tokens < 0)
        return;
    const struct fe_arm_facts *C = &c->arms[c->cand];
    if (fe_has(C->training_rate)) {
        c->training_known = true;
        c->training_usd = tokens * C->training_rate / 1e6;
        *source = "training.trained_tokens x the manifest's training price";
        return;
    }
    const cJSON *prices = c->in.prices;
    if (!prices || !C->model)
        return;
    struct fe_err err = {0};
    const char *cfg_path = c->man.config_path;
    struct fe_prices *p = fe_prices_load(prices, cfg_path, &err);
    if (!p) {
        fe_warn("break-even: %s", err.msg);
        return;
    }
    if (fe_training_cost(p, C->model, tokens, &v)) {
        c->training_known = true;
        c->training_usd = v;
        *source = "training.trained_tokens x the price table's training rate";
    } else {
        fe_warn("break-even: no training price for '%s'", C->model);
    }
    fe_prices_free(p);
}

static cJSON *break_even(struct fe_ctx *c, cJSON *reasons)
{
    const struct fe_arm_facts *B = &c->arms[c->base], *C = &c->arms[c->cand];
    cJSON *o = cJSON_CreateObject();
    const char *source;
    training_cost(c, &source);
    add_num_or_null(o, "training_cost_usd", c->training_known, c->training_usd);
    if (source)
        cJSON_AddStringToObject(o, "training_cost_source", source);
    else
        cJSON_AddNullToObject(o, "training_cost_source");
    bool has_sav = B->priced && C->priced && c->ops_reliable;
    double sav = B->per_inference - C->per_inference;
    add_num_or_null(o, "savings_per_request_usd", has_sav, sav);
    double req = 0;
    bool has_req =
        has_sav && c->training_known && fe_break_even_requests(c->training_usd, sav, &req);
    add_num_or_null(o, "break_even_requests", has_req, req);
    double rpm = c->in.requests_per_month;
    bool has_rpm = fe_has(rpm) && rpm >= 0;
    if (!has_rpm)
        rpm = 0;
    add_num_or_null(o, "requests_per_month", has_rpm, rpm);
    cJSON *monthly = cJSON_AddObjectToObject(o, "monthly_cost_usd");
    for (size_t a = 0; a < c->run->n_arms; a++)
        add_num_or_null(monthly, c->arms[a].name, has_rpm && c->arms[a].priced,
                        c->arms[a].per_inference * rpm);
    add_num_or_null(o, "monthly_savings_usd", has_rpm && has_sav, sav * rpm);
    add_num_or_null(o, "break_even_months", has_rpm && has_req && rpm > 0, req / rpm);
    if (has_req && has_rpm && rpm > 0)
        add_reason(reasons,
                   "training pays for itself after %.0f requests (%.1f months at %.0f "
                   "requests/month)",
                   req, req / rpm, rpm);
    else if (has_req)
        add_reason(reasons, "training pays for itself after %.0f requests", req);
    else if (has_sav && sav <= 0 && c->training_known && c->training_usd > 0)
        add_reason(reasons, "no break-even: %s is not cheaper per request than %s", C->name,
                   B->name);
    return o;
}

/* ---- entry point ----------------------------------------------------------------------------- */

/* decision.margin, decision.max_error_rate and decision.min_relative_saving, else defaults. */
static double num_at(const cJSON *cfg, const char *path)
{
    double v;
    return fe_json_num(fe_json_path(cfg, path), &v) ? v : NAN;
}

static struct fe_evidence evidence_at(const cJSON *cfg, const char *path)
{
    const cJSON *v = fe_json_path(cfg, path);
    if (!v)
        return (struct fe_evidence){FE_EVIDENCE_ABSENT, NULL};
    if (cJSON_IsBool(v))
        return (struct fe_evidence){cJSON_IsTrue(v) ? FE_EVIDENCE_TRUE : FE_EVIDENCE_FALSE, NULL};
    if (cJSON_IsString(v))
        return (struct fe_evidence){FE_EVIDENCE_PATH, v->valuestring};
    return (struct fe_evidence){FE_EVIDENCE_OTHER, NULL};
}

/* The config keys decision.h lists, in one place. */
static void inputs_parse(const cJSON *cfg, struct fe_dec_inputs *in)
{
    memset(in, 0, sizeof(*in));
    in->baseline_arm = fe_json_str(fe_json_get(cfg, "baseline_arm"));
    in->candidate_arm = fe_json_str(fe_json_get(cfg, "candidate_arm"));
    in->primary_metric = fe_json_str(fe_json_path(cfg, "task.primary_metric"));
    in->stats_correction = fe_json_str(fe_json_path(cfg, "stats.correction"));
    in->margin = num_at(cfg, "decision.margin");
    in->max_error_rate = num_at(cfg, "decision.max_error_rate");
    in->min_relative_saving = num_at(cfg, "decision.min_relative_saving");
    in->training_cost_usd = num_at(cfg, "training.cost_usd");
    in->trained_tokens = num_at(cfg, "training.trained_tokens");
    in->requests_per_month = num_at(cfg, "traffic.requests_per_month");
    in->budget_max_usd = num_at(cfg, "budget.max_usd");
    in->prices = fe_json_get(cfg, "prices");
    in->distill_report = fe_json_str(fe_json_path(cfg, "decision.distill_report"));
    in->rag_tried = cJSON_IsTrue(fe_json_path(cfg, "evidence.rag_tried"));
    in->expert_reviewed = cJSON_IsTrue(fe_json_path(cfg, "evidence.expert_reviewed"));
    const cJSON *mon = fe_json_path(cfg, "evidence.monitoring");
    const char *text = fe_json_str(mon);
    in->monitoring = (text && text[0]) || cJSON_IsTrue(mon);
    in->data_check = evidence_at(cfg, "evidence.data_check");
    in->human_ratings = evidence_at(cfg, "evidence.human_ratings");
}

/* The decision settings: the config's when valid, else the defaults. */
static void read_settings(struct fe_ctx *c)
{
    const struct fe_dec_inputs *in = &c->in;
    c->margin = fe_has(in->margin) && in->margin >= 0 ? in->margin : FE_DEFAULT_MARGIN;
    c->max_error_rate = fe_has(in->max_error_rate) && in->max_error_rate >= 0 &&
                                in->max_error_rate <= 1
                            ? in->max_error_rate
                            : FE_DEFAULT_MAX_ERROR_RATE;
    c->min_saving = fe_has(in->min_relative_saving) && in->min_relative_saving >= 0
                        ? in->min_relative_saving
                        : FE_DEFAULT_MIN_SAVING;
}

/* The primary metric: the manifest's, else the config's task.primary_metric, else the first. */
static void primary_metric(struct fe_ctx *c)
{
    const struct fe_run *run = c->run;
    const char *pm = c->man.primary_metric ? c->man.primary_metric : c->in.primary_metric;
    c->primary = run->n_metrics;
    for (size_t m = 0; m < run->n_metrics; m++)
        if (pm && strcmp(run->metrics[m], pm) == 0)
            c->primary = m;
    if (c->primary == run->n_metrics && run->n_metrics > 0)
        c->primary = 0;
    c->metric = c->primary < run->n_metrics ? run->metrics[c->primary] : NULL;
}

cJSON *fe_decision_build(const struct fe_run *run, const cJSON *summary, struct fe_err *err)
{
    if (!run || run->n_arms < 2)
        return NULL;
    struct fe_ctx c = {0};
    c.run = run;
    c.summary = summary;
    fe_manifest_view_parse(run->manifest, &c.man);
    inputs_parse(fe_json_get(run->manifest, "config"), &c.in);
    read_settings(&c);

    /* the manifest's choice first, then the config's */
    const char *base = c.man.baseline_arm ? c.man.baseline_arm : c.in.baseline_arm;
    const char *cand = c.man.candidate_arm ? c.man.candidate_arm : c.in.candidate_arm;
    long bi = 0, ci = -1;
    if (base && (bi = fe_run_arm_index(run, base)) < 0) {
        fe_err_set(err, FE_EINVALID, "baseline_arm: no arm named '%s'", base);
        return NULL;
    }
    if (cand && (ci = fe_run_arm_index(run, cand)) < 0) {
        fe_err_set(err, FE_EINVALID, "candidate_arm: no arm named '%s'", cand);
        return NULL;
    }
    primary_metric(&c);

    struct fe_summary_view sv;
    fe_summary_view_parse(run, summary, &sv);
    c.arms = fe_xcalloc(run->n_arms, sizeof(*c.arms));
    for (size_t a = 0; a < run->n_arms; a++)
        arm_facts(run, a, &sv.arms[a], c.primary, &c.arms[a]);
    cJSON *reasons = cJSON_CreateArray();
    bool defaulted = false;
    if (ci < 0) {
        for (size_t a = 0; a < run->n_arms && ci < 0; a++)
            if ((long)a != bi && c.arms[a].is_ft)
                ci = (long)a;
        if (ci < 0) { /* no fine-tuned arm: the last arm that is not the baseline */
            ci = (long)run->n_arms - 1 == bi ? (long)run->n_arms - 2 : (long)run->n_arms - 1;
            defaulted = true;
        }
    }
    c.base = (size_t)bi;
    c.cand = (size_t)ci;
    if (c.metric && c.base != c.cand)
        cmp_find(&sv, c.arms[c.cand].name, c.arms[c.base].name, c.metric, &c.cmp);
    if (c.cmp.found && !c.cmp.alpha_given &&
        fe_has(c.man.stats_alpha) && c.man.stats_alpha > 0 && c.man.stats_alpha < 1)
        c.cmp.alpha = c.man.stats_alpha; /* the run's alpha when the comparison does not repeat it */

    cJSON *d = cJSON_CreateObject();
    cJSON_AddStringToObject(d, "baseline_arm", c.arms[c.base].name);
    cJSON_AddStringToObject(d, "candidate_arm", c.arms[c.cand].name);
    if (c.base == c.cand) {
        c.verdict = "inconclusive";
        add_reason(reasons, "candidate and baseline are the same arm");
    } else {
        decide(&c, reasons);
    }
    if (defaulted)
        add_reason(reasons, "no fine-tuned (ft:) arm: the candidate defaults to the last arm");
    cJSON_AddStringToObject(d, "verdict", c.verdict);
    if (c.metric)
        cJSON_AddStringToObject(d, "metric", c.metric);
    else
        cJSON_AddNullToObject(d, "metric");
    cJSON_AddNumberToObject(d, "margin", c.margin);
    add_num_or_null(d, "lower_bound", c.has_lower, c.lower);
    cJSON_AddBoolToObject(d, "non_inferior", c.non_inferior);
    add_num_or_null(d, "cost_change", c.has_cost_rel, c.cost_rel);
    add_num_or_null(d, "p50_latency_change", c.has_lat_rel, c.lat_rel);
    if (c.lat_is_ttft) /* issue 15: which latency the criterion compared */
        cJSON_AddStringToObject(d, "latency_measure", "ttft_p50");
    cJSON *be = break_even(&c, reasons);
    cJSON *distill = fe_dec_distill(&c, reasons); /* issue 16: decision_distill.c */
    cJSON_AddItemToObject(d, "reasons", reasons);
    cJSON_AddItemToObject(d, "break_even", be);
    if (distill)
        cJSON_AddItemToObject(d, "distillation", distill);
    cJSON_AddItemToObject(d, "rubric", fe_dec_rubric(&c));
    fe_summary_view_release(&sv);
    free(c.arms);
    return d;
}
