/* decision.c — see decision.h and docs/decision.md. */
#include "harness/analysis/decision.h"
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

const char *fe_rubric_band(int total)
{
    if (total >= 28)
        return "justified";
    if (total >= 21)
        return "needs_more_evaluation";
    return "premature";
}

bool fe_break_even_requests(double training_usd, double savings, double *requests)
{
    if (!(savings > 0) || !(training_usd >= 0) || !isfinite(training_usd) || !isfinite(savings))
        return false;
    *requests = ceil(training_usd / savings - 1e-9);
    if (*requests < 0)
        *requests = 0;
    return true;
}

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

/* "+6.0" / "-3.2" points from a fraction. */
static void fmt_pts(char *out, size_t size, double frac)
{
    double v = frac * 100.0;
    if (fabs(v) < 0.05)
        v = 0;
    snprintf(out, size, "%+.1f", v);
}

static void fmt_p(char *out, size_t size, double p, bool spaced)
{
    if (p < 0.001)
        snprintf(out, size, spaced ? "p < 0.001" : "p<0.001");
    else
        snprintf(out, size, spaced ? "p = %.3f" : "p=%.3f", p);
}

static const char *adjustment_label(const char *adj)
{
    if (!adj || strcmp(adj, "none") == 0)
        return NULL;
    if (strcmp(adj, "holm") == 0)
        return "Holm";
    if (strcmp(adj, "bonferroni") == 0)
        return "Bonferroni";
    return adj;
}

/* ---- one comparison, normalised to candidate - baseline ----------------------------------- */

struct fe_cmp {
    bool found;
    const cJSON *json;
    double delta, lo, hi, se, p, mde, n_needed, alpha, n, lower_one_sided;
    bool has_ci, has_se, has_p, has_mde, has_n_needed, has_lower;
    bool significant;
    bool borderline; /* p within Monte Carlo error of alpha ("inconclusive": true) */
    const char *adjustment;
};

static void cmp_parse(const cJSON *c, bool flip, struct fe_cmp *out)
{
    memset(out, 0, sizeof(*out));
    out->json = c;
    out->found = fe_json_num(fe_json_get(c, "delta"), &out->delta);
    if (!out->found)
        return;
    const cJSON *ci = fe_json_get(c, "ci");
    if (cJSON_IsArray(ci) && cJSON_GetArraySize(ci) == 2 &&
        fe_json_num(cJSON_GetArrayItem(ci, 0), &out->lo) && fe_json_num(cJSON_GetArrayItem(ci, 1), &out->hi))
        out->has_ci = true;
    out->has_se = fe_json_num(fe_json_get(c, "se_paired"), &out->se);
    out->has_p = fe_json_num(fe_json_get(c, "p_adjusted"), &out->p) || fe_json_num(fe_json_get(c, "p_bootstrap"), &out->p);
    out->has_mde = fe_json_num(fe_json_get(c, "mde"), &out->mde);
    out->has_n_needed = fe_json_num(fe_json_get(c, "n_needed"), &out->n_needed);
    if (!fe_json_num(fe_json_get(c, "alpha"), &out->alpha))
        out->alpha = 0.05;
    fe_json_num(fe_json_get(c, "n"), &out->n);
    out->has_lower = fe_json_num(fe_json_get(c, "ci_lower_one_sided"), &out->lower_one_sided);
    out->adjustment = fe_json_str(fe_json_get(c, "adjustment"));
    const cJSON *sig = fe_json_get(c, "significant");
    if (cJSON_IsBool(sig))
        out->significant = cJSON_IsTrue(sig);
    else
        out->significant = out->has_p && out->p < out->alpha;
    /* STATISTICS.md §3: a p-value within Monte Carlo error of alpha decides nothing */
    out->borderline = cJSON_IsTrue(fe_json_get(c, "inconclusive"));
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

/* Finds the comparison of cand vs base on metric in summary["comparisons"]. */
static void cmp_find(const cJSON *summary, const char *cand, const char *base, const char *metric,
                     struct fe_cmp *out)
{
    memset(out, 0, sizeof(*out));
    const cJSON *c;
    cJSON_ArrayForEach(c, fe_json_get(summary, "comparisons")) {
        const char *a = fe_json_str(fe_json_get(c, "a")), *b = fe_json_str(fe_json_get(c, "b")), *m = fe_json_str(fe_json_get(c, "metric"));
        if (!a || !b || !m || strcmp(m, metric) != 0)
            continue;
        if (strcmp(a, cand) == 0 && strcmp(b, base) == 0) {
            cmp_parse(c, false, out);
            return;
        }
        if (strcmp(a, base) == 0 && strcmp(b, cand) == 0)
            cmp_parse(c, true, out);
    }
}

char *fe_comparison_sentence(const cJSON *c)
{
    struct fe_cmp k;
    cmp_parse(c, false, &k);
    const char *a = fe_json_str(fe_json_get(c, "a")), *b = fe_json_str(fe_json_get(c, "b"));
    const char *label = fe_metric_label(fe_json_str(fe_json_get(c, "metric")));
    a = a ? a : "?";
    b = b ? b : "?";
    if (!k.found)
        return fe_xasprintf("%s vs %s on %s: no estimate", a, b, label);
    char d[32], lo[32] = "", hi[32] = "", p[32] = "", detail[160] = "";
    fmt_pts(d, sizeof(d), k.delta);
    struct fe_buf buf = {0};
    fe_buf_addf(&buf, "(");
    if (k.has_ci) {
        fmt_pts(lo, sizeof(lo), k.lo);
        fmt_pts(hi, sizeof(hi), k.hi);
        fe_buf_addf(&buf, "%.0f%% CI %s to %s", 100 * (1 - k.alpha), lo, hi);
    }
    if (k.has_p) {
        fmt_p(p, sizeof(p), k.p, true);
        const char *adj = adjustment_label(k.adjustment);
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
        fmt_pts(d, sizeof(d), -k.delta);
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

struct fe_arm_facts {
    const char *name, *model;
    const cJSON *manifest_arm, *config_arm;
    bool is_ft, prompted_system, prompted_few_shot;
    size_t n, n_errors;
    bool priced;
    double per_inference;
    bool has_p50;
    double p50;
    bool has_mean;
    double mean; /* primary metric */
    cJSON *owned_cost, *owned_latency;
};

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

static void arm_facts(const struct fe_run *run, size_t a, const cJSON *summary, size_t primary,
                      struct fe_arm_facts *f)
{
    memset(f, 0, sizeof(*f));
    const struct fe_arm_run *arm = &run->arms[a];
    f->name = arm->name;
    f->model = arm->model;
    f->manifest_arm = find_named(fe_json_get(run->manifest, "arms"), arm->name);
    f->config_arm = find_named(fe_json_path(run->manifest, "config.arms"), arm->name);
    if (!f->model)
        f->model = fe_json_str(fe_json_get(f->config_arm, "model"));
    f->is_ft = f->model && strncmp(f->model, "ft:", 3) == 0;
    double nfs = 0;
    f->prompted_system =
        nonempty_field(f->manifest_arm, "system_sha256") || nonempty_field(f->config_arm, "system");
    f->prompted_few_shot = (fe_json_num(fe_json_get(f->manifest_arm, "n_few_shot"), &nfs) && nfs > 0) ||
                           nonempty_field(f->manifest_arm, "few_shot_sha256") ||
                           nonempty_field(f->config_arm, "few_shot");
    f->n = arm->n;
    for (size_t i = 0; i < arm->n; i++)
        f->n_errors += !arm->records[i].ok;

    const cJSON *s = fe_json_get(fe_json_get(summary, "arms"), arm->name);
    double v;
    if (fe_json_num(fe_json_get(s, "n"), &v) && v >= 0)
        f->n = (size_t)v;
    if (fe_json_num(fe_json_get(s, "n_errors"), &v) && v >= 0)
        f->n_errors = (size_t)v;
    const cJSON *cost = fe_json_get(s, "cost");
    if (!cost)
        cost = f->owned_cost =
            fe_cost_arm_summary(arm, primary < run->n_metrics ? primary : FE_NO_METRIC);
    f->priced = cJSON_IsTrue(fe_json_get(cost, "priced")) &&
                fe_json_num(fe_json_get(cost, "per_inference_usd"), &f->per_inference);
    const cJSON *lat = fe_json_get(s, "latency_ms");
    if (!lat)
        lat = f->owned_latency = fe_latency_summary(arm);
    f->has_p50 = fe_json_num(fe_json_get(lat, "p50"), &f->p50);
    if (primary < run->n_metrics) {
        const cJSON *m = fe_json_get(fe_json_get(s, "metrics"), run->metrics[primary]);
        f->has_mean = fe_json_num(fe_json_get(m, "mean"), &f->mean);
        if (!f->has_mean && arm->n > 0) {
            double sum = 0;
            for (size_t i = 0; i < arm->n; i++)
                sum += arm->records[i].scores[primary];
            f->mean = sum / (double)arm->n;
            f->has_mean = true;
        }
    }
}

static void arm_facts_release(struct fe_arm_facts *f)
{
    cJSON_Delete(f->owned_cost);
    cJSON_Delete(f->owned_latency);
}

/* ---- context -------------------------------------------------------------------------------- */

struct fe_ctx {
    const struct fe_run *run;
    const cJSON *summary, *cfg;
    struct fe_arm_facts *arms;
    size_t base, cand;
    size_t primary; /* index into run->metrics, or n_metrics when none */
    const char *metric;
    double margin, min_saving, max_error_rate;
    bool ops_reliable;
    struct fe_cmp cmp;
    bool non_inferior, has_lower;
    double lower; /* one-sided lower bound of candidate - baseline */
    bool cheaper, faster;
    double cost_rel, lat_rel;
    bool has_cost_rel, has_lat_rel;
    const char *verdict;
    bool training_known;
    double training_usd;
};

static const char *cfg_or_manifest_str(const struct fe_ctx *c, const char *key)
{
    const char *s = fe_json_str(fe_json_get(c->run->manifest, key));
    return s ? s : fe_json_str(fe_json_get(c->cfg, key));
}

static char *config_relative(const struct fe_ctx *c, const char *path)
{
    const char *cfg_path = fe_json_str(fe_json_get(c->run->manifest, "config_path"));
    if (path[0] == '/' || !cfg_path) {
        /* no config location: try relative to the run directory */
        if (path[0] == '/')
            return fe_xstrdup(path);
        return fe_xasprintf("%s/%s", c->run->dir, path);
    }
    return fe_path_relative_to(cfg_path, path);
}

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
    fmt_pts(d, sizeof(d), k->delta);
    struct fe_buf b = {0};
    fe_buf_addf(&b, "%s %s pts", fe_metric_label(c->metric), d);
    if (k->has_ci || k->has_p) {
        fe_buf_adds(&b, " (");
        if (k->has_ci) {
            fmt_pts(lo, sizeof(lo), k->lo);
            fmt_pts(hi, sizeof(hi), k->hi);
            fe_buf_addf(&b, "%.0f%% CI %s..%s", 100 * (1 - k->alpha), lo, hi);
        }
        if (k->has_p) {
            const char *adj = adjustment_label(k->adjustment);
            fmt_p(p, sizeof(p), k->p, false);
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

static void decide(struct fe_ctx *c, cJSON *reasons)
{
    struct fe_arm_facts *B = &c->arms[c->base], *C = &c->arms[c->cand];
    if (B->priced && C->priced && B->per_inference > 0) {
        c->has_cost_rel = true;
        c->cost_rel = (C->per_inference - B->per_inference) / B->per_inference;
    }
    if (B->has_p50 && C->has_p50 && B->p50 > 0) {
        c->has_lat_rel = true;
        c->lat_rel = (C->p50 - B->p50) / B->p50;
    }
    /* an arm that failed often looks cheap and fast for the wrong reason */
    c->ops_reliable = arm_reliable(B, c->max_error_rate) && arm_reliable(C, c->max_error_rate);
    if (!c->ops_reliable)
        c->has_cost_rel = c->has_lat_rel = false;
    c->cheaper = c->has_cost_rel && c->cost_rel <= -c->min_saving;
    c->faster = c->has_lat_rel && c->lat_rel <= -c->min_saving;

    if (!c->metric) {
        c->verdict = "inconclusive";
        add_reason(reasons, "the run has no metrics to compare");
    } else if (!c->cmp.found) {
        c->verdict = "inconclusive";
        add_reason(reasons, "no paired comparison of %s vs %s on %s in the summary", C->name,
                   B->name, c->metric);
    } else {
        quality_reason(c, reasons);
        const struct fe_cmp *k = &c->cmp;
        double z = fe_norm_quantile(1 - k->alpha);
        if (k->has_lower) {
            c->lower = k->lower_one_sided;
            c->has_lower = true;
        } else if (k->has_se) {
            c->lower = k->delta - z * k->se;
            c->has_lower = true;
        } else if (k->has_ci) {
            c->lower = k->lo; /* two-sided bound: conservative */
            c->has_lower = true;
        }
        c->non_inferior = c->has_lower && c->lower > -c->margin;
        if (k->borderline)
            add_reason(reasons, "the p-value is within Monte Carlo error of alpha: not counted "
                                "as significant either way (more resamples or examples decide)");
        char lo[32], m[32];
        fmt_pts(lo, sizeof(lo), c->lower);
        snprintf(m, sizeof(m), "%.1f", c->margin * 100);
        if (k->significant && k->delta > 0) {
            c->verdict = "ship_candidate";
            add_reason(reasons, "%s is significantly better than %s on %s%s", C->name, B->name,
                       c->metric,
                       adjustment_label(k->adjustment) ? " after multiple-comparison "
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
                fmt_pts(d, sizeof(d), k->delta);
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
    }
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
    if (c->has_lat_rel)
        add_reason(reasons, "p50 latency %+.0f%%", c->lat_rel * 100);
    for (size_t i = 0; i < 2; i++) {
        const struct fe_arm_facts *f = i ? C : B;
        if (f->n > 0 && (double)f->n_errors > c->max_error_rate * (double)f->n)
            add_reason(reasons, "%s failed on %zu of %zu examples (scored 0)", f->name, f->n_errors,
                       f->n);
    }
}

/* ---- break-even ------------------------------------------------------------------------------ */

/* Training cost: training.cost_usd, else training.trained_tokens x the training rate of the
 * candidate's model (the manifest's recorded price row, else the config's price table). */
static void training_cost(struct fe_ctx *c, const char **source)
{
    double v, tokens;
    *source = NULL;
    if (fe_json_num(fe_json_path(c->cfg, "training.cost_usd"), &v) && v >= 0) {
        c->training_known = true;
        c->training_usd = v;
        *source = "training.cost_usd";
        return;
    }
    if (!fe_json_num(fe_json_path(c->cfg, "training.trained_tokens"), &tokens) || tokens < 0)
        return;
    const struct fe_arm_facts *C = &c->arms[c->cand];
    double rate;
    const cJSON *price = fe_json_get(C->manifest_arm, "price");
    if (fe_json_num(fe_json_get(price, "training"), &rate) || fe_json_num(fe_json_get(price, "training_per_1m"), &rate)) {
        c->training_known = true;
        c->training_usd = tokens * rate / 1e6;
        *source = "training.trained_tokens x the manifest's training price";
        return;
    }
    const cJSON *prices = fe_json_get(c->cfg, "prices");
    if (!prices || !C->model)
        return;
    struct fe_err err = {0};
    const char *cfg_path = fe_json_str(fe_json_get(c->run->manifest, "config_path"));
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
    double rpm = 0;
    bool has_rpm =
        fe_json_num(fe_json_path(c->cfg, "traffic.requests_per_month"), &rpm) && rpm >= 0;
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

/* ---- rubric ---------------------------------------------------------------------------------- */

static void dim(cJSON *dims, int *total, const char *name, int score, const char *evidence,
                const char *to_improve)
{
    cJSON *d = cJSON_AddObjectToObject(dims, name);
    cJSON_AddNumberToObject(d, "score", score);
    cJSON_AddStringToObject(d, "evidence", evidence);
    cJSON_AddStringToObject(d, "to_improve", to_improve);
    *total += score;
}

/* Counts non-blank lines of a file; -1 when it cannot be read. */
static long count_lines(const char *path)
{
    size_t len;
    char *text = fe_read_file(path, 256u << 20, &len);
    if (!text)
        return -1;
    long n = 0;
    bool blank = true;
    for (size_t i = 0; i < len; i++) {
        if (text[i] == '\n') {
            n += !blank;
            blank = true;
        } else if (text[i] != ' ' && text[i] != '\t' && text[i] != '\r') {
            blank = false;
        }
    }
    n += !blank;
    free(text);
    return n;
}

/* evidence.data_check: true/false, or a path to `fteval data check --json` output that is clean
 * when it says "blocking": false, "ok": true or "passed": true. */
static bool data_check_clean(const struct fe_ctx *c, const char **why)
{
    const cJSON *v = fe_json_path(c->cfg, "evidence.data_check");
    if (!v) {
        *why = "no data check recorded (evidence.data_check)";
        return false;
    }
    if (cJSON_IsBool(v)) {
        *why = cJSON_IsTrue(v) ? "data check passed (declared)" : "data check failed (declared)";
        return cJSON_IsTrue(v);
    }
    if (!cJSON_IsString(v)) {
        *why = "evidence.data_check is neither a boolean nor a path";
        return false;
    }
    char *path = config_relative(c, v->valuestring);
    size_t len;
    char *text = fe_read_file(path, 64u << 20, &len);
    free(path);
    if (!text) {
        *why = "data check report not found";
        return false;
    }
    cJSON *j = cJSON_ParseWithLength(text, len);
    free(text);
    bool clean = cJSON_IsFalse(fe_json_get(j, "blocking")) || cJSON_IsTrue(fe_json_get(j, "ok")) ||
                 cJSON_IsTrue(fe_json_get(j, "passed"));
    *why = !j      ? "data check report is not JSON"
           : clean ? "data check report is clean"
                   : "data check report has blocking issues";
    cJSON_Delete(j);
    return clean;
}

static bool pinned_model(const char *model)
{
    if (!model)
        return false;
    if (strncmp(model, "ft:", 3) == 0)
        return true;
    /* a dated snapshot such as gpt-4o-mini-2024-07-18 */
    for (const char *p = model; p[0]; p++)
        if (strlen(p) >= 10 && p[4] == '-' && p[7] == '-') {
            bool digits = true;
            for (int i = 0; i < 10; i++)
                if (i != 4 && i != 7 && (p[i] < '0' || p[i] > '9'))
                    digits = false;
            if (digits)
                return true;
        }
    return false;
}

static cJSON *rubric(struct fe_ctx *c)
{
    cJSON *r = cJSON_CreateObject();
    cJSON *dims = cJSON_CreateObject();
    int total = 0;
    char ev[768], up[512];
    const struct fe_cmp *k = &c->cmp;
    bool decisive = c->verdict && strcmp(c->verdict, "inconclusive") != 0;

    /* decision: were the cheaper alternatives tried first? */
    bool has_base = false, has_prompted = false, has_system = false, has_few_shot = false;
    for (size_t a = 0; a < c->run->n_arms; a++) {
        const struct fe_arm_facts *f = &c->arms[a];
        has_system = has_system || f->prompted_system;
        has_few_shot = has_few_shot || f->prompted_few_shot;
        if (a == c->cand || f->is_ft)
            continue;
        if (f->prompted_system || f->prompted_few_shot)
            has_prompted = true;
        else
            has_base = true;
    }
    bool rag = cJSON_IsTrue(fe_json_path(c->cfg, "evidence.rag_tried"));
    int alts = has_base + has_prompted + rag;
    snprintf(ev, sizeof(ev),
             "base-model arm: %s; prompt-engineered arm: %s; retrieval tried: %s; "
             "verdict %s",
             has_base ? "yes" : "no", has_prompted ? "yes" : "no", rag ? "yes" : "not stated",
             c->verdict ? c->verdict : "none");
    int s = alts >= 2 && decisive ? 5 : alts >= 1 ? 3 : 1;
    dim(dims, &total, "decision", s, ev,
        s == 5 ? "nothing: alternatives were tried and the evidence decides"
        : !has_prompted
            ? "add a prompt-engineered arm (system prompt + few-shot) next to the base model"
        : !has_base ? "add the plain base model as an arm"
                    : "collect enough evidence for a decisive verdict (see evaluation)");

    /* data quality */
    const char *why;
    bool clean = data_check_clean(c, &why);
    bool expert = cJSON_IsTrue(fe_json_path(c->cfg, "evidence.expert_reviewed"));
    double n = k->found && k->n > 0 ? k->n : (double)c->arms[c->cand].n;
    snprintf(ev, sizeof(ev), "%s; held-out examples: %.0f; golds expert-reviewed: %s", why, n,
             expert ? "yes" : "not stated");
    s = clean && (n >= 1000 || (n >= 500 && expert)) ? 5 : (clean || n >= 500 || expert) ? 3 : 1;
    snprintf(up, sizeof(up), "%s%s%s",
             s == 5 ? "nothing: checked data and a large held-out set" : "",
             s < 5 && !clean ? "run `fteval data check --json` and set evidence.data_check; " : "",
             s < 5 && n < 1000 ? "grow the held-out set to 1000+ examples (500+ with expert review)"
                               : "");
    dim(dims, &total, "data_quality", s, ev, up);

    /* evaluation */
    const cJSON *hr = fe_json_path(c->cfg, "evidence.human_ratings");
    bool human = false;
    long hr_lines = 0;
    if (cJSON_IsTrue(hr)) {
        human = true;
    } else if (cJSON_IsString(hr)) {
        char *path = config_relative(c, hr->valuestring);
        hr_lines = count_lines(path);
        free(path);
        human = hr_lines > 0;
    }
    bool several_metrics = c->run->n_metrics >= 2;
    bool ev_decisive = k->found && (k->significant || c->non_inferior);
    if (!k->found) {
        snprintf(ev, sizeof(ev), "no paired comparison of candidate vs baseline");
    } else {
        char d[32];
        fmt_pts(d, sizeof(d), k->delta);
        snprintf(ev, sizeof(ev),
                 "paired comparison on %s: %s pts, %s%s; MDE %s; %zu metric(s); "
                 "human ratings: %s",
                 c->metric, d, k->significant ? "significant" : "not significant",
                 c->non_inferior ? ", non-inferior" : "", k->has_mde ? "recorded" : "not recorded",
                 c->run->n_metrics, human ? "imported" : "none");
    }
    s = ev_decisive && (human || several_metrics) ? 5 : k->found ? 3 : 1;
    if (s == 5)
        snprintf(up, sizeof(up), "nothing: decisive paired evidence");
    else if (!k->found)
        snprintf(up, sizeof(up), "run at least two arms so fteval can compare them (paired)");
    else if (!ev_decisive && k->has_n_needed && k->n_needed > k->n)
        snprintf(up, sizeof(up), "add about %.0f examples so the difference can be resolved",
                 ceil(k->n_needed - k->n));
    else if (!ev_decisive)
        snprintf(up, sizeof(up), "add examples until the MDE is below the difference that matters");
    else
        snprintf(up, sizeof(up),
                 "import human ratings (evidence.human_ratings) or add a second metric");
    dim(dims, &total, "evaluation", s, ev, up);

    /* method */
    const char *corr = fe_json_str(fe_json_path(c->run->manifest, "stats.correction"));
    if (!corr)
        corr = fe_json_str(fe_json_path(c->cfg, "stats.correction"));
    if (!corr && k->found)
        corr = k->adjustment;
    bool corrected = corr && strcmp(corr, "none") != 0;
    snprintf(ev, sizeof(ev),
             "system-prompt arm: %s; few-shot arm: %s; multiple-comparison "
             "correction: %s",
             has_system ? "yes" : "no", has_few_shot ? "yes" : "no", corr ? corr : "unknown");
    s = has_system && has_few_shot && corrected ? 5 : (has_system || has_few_shot) ? 3 : 1;
    dim(dims, &total, "method", s, ev,
        s == 5          ? "nothing: strong prompt baselines, corrected tests"
        : !has_few_shot ? "add a few-shot arm (few_shot examples in the prompt)"
        : !has_system   ? "add an arm with a tuned system prompt"
                        : "turn on multiple-comparison correction (stats.correction: holm)");

    /* cost */
    size_t priced = 0;
    for (size_t a = 0; a < c->run->n_arms; a++)
        priced += c->arms[a].priced;
    double budget;
    bool has_budget = fe_json_num(fe_json_path(c->cfg, "budget.max_usd"), &budget) ||
                      fe_json_num(fe_json_path(c->run->manifest, "config.budget.max_usd"), &budget);
    snprintf(ev, sizeof(ev), "%zu of %zu arms priced; budget: %s; training cost: %s", priced,
             c->run->n_arms, has_budget ? "set" : "not set",
             c->training_known ? "known" : "unknown");
    bool all_priced = priced == c->run->n_arms;
    s = all_priced && has_budget && c->training_known ? 5 : all_priced ? 3 : 1;
    dim(dims, &total, "cost", s, ev,
        s == 5        ? "nothing: costs, budget and break-even known"
        : !all_priced ? "add every model to the price table (prices) so cost is known"
        : !has_budget ? "set budget.max_usd"
                      : "set training.cost_usd or training.trained_tokens for the break-even");

    /* versioning */
    bool ids = c->run->n_arms > 0, pinned = true, hashes = true;
    for (size_t a = 0; a < c->run->n_arms; a++) {
        const struct fe_arm_facts *f = &c->arms[a];
        ids = ids && f->model;
        pinned = pinned && pinned_model(f->model);
        if (f->prompted_system && !nonempty_field(f->manifest_arm, "system_sha256"))
            hashes = false;
        if (f->prompted_few_shot && !nonempty_field(f->manifest_arm, "few_shot_sha256"))
            hashes = false;
    }
    bool data_hash = fe_json_str(fe_json_path(c->run->manifest, "dataset.sha256")) != NULL;
    snprintf(ev, sizeof(ev),
             "model ids recorded: %s; pinned snapshots: %s; prompt hashes: %s; "
             "dataset sha256: %s",
             ids ? "yes" : "no", pinned ? "yes" : "no", hashes ? "yes" : "missing",
             data_hash ? "yes" : "no");
    s = ids && pinned && hashes && data_hash ? 5 : ids && data_hash ? 3 : 1;
    dim(dims, &total, "versioning", s, ev,
        s == 5               ? "nothing: models, prompts and data are pinned"
        : !ids || !data_hash ? "record model ids and the dataset hash (run through fteval run)"
        : !pinned ? "use dated model snapshots (e.g. gpt-4o-mini-2024-07-18), not aliases"
                  : "record the sha256 of every prompt and few-shot file");

    /* monitoring */
    char *hist = fe_xasprintf("%s/../history.jsonl", c->run->dir);
    long runs = count_lines(hist);
    free(hist);
    const char *mon = fe_json_str(fe_json_path(c->cfg, "evidence.monitoring"));
    bool has_mon = (mon && mon[0]) || cJSON_IsTrue(fe_json_path(c->cfg, "evidence.monitoring"));
    bool nightly = runs >= 2;
    snprintf(ev, sizeof(ev), "history.jsonl: %s%ld run(s); production monitoring: %s",
             runs < 0 ? "absent, " : "", runs < 0 ? 0 : runs, has_mon ? "stated" : "not stated");
    s = nightly && has_mon ? 5 : nightly || has_mon ? 3 : 1;
    dim(dims, &total, "monitoring", s, ev,
        s == 5     ? "nothing: nightly regression runs and production monitoring"
        : !nightly ? "schedule a nightly `fteval run` + `fteval compare` (history.jsonl)"
                   : "describe production monitoring in evidence.monitoring");

    cJSON_AddNumberToObject(r, "total", total);
    cJSON_AddNumberToObject(r, "max", 35);
    cJSON_AddStringToObject(r, "band", fe_rubric_band(total));
    cJSON_AddItemToObject(r, "dimensions", dims);
    return r;
}

/* ---- entry point ----------------------------------------------------------------------------- */

cJSON *fe_decision_build(const struct fe_run *run, const cJSON *summary, struct fe_err *err)
{
    if (!run || run->n_arms < 2)
        return NULL;
    struct fe_ctx c = {0};
    c.run = run;
    c.summary = summary;
    c.cfg = fe_json_get(run->manifest, "config");
    c.margin = FE_DEFAULT_MARGIN;
    double v;
    if (fe_json_num(fe_json_path(c.cfg, "decision.margin"), &v) && v >= 0)
        c.margin = v;
    c.max_error_rate = FE_DEFAULT_MAX_ERROR_RATE;
    if (fe_json_num(fe_json_path(c.cfg, "decision.max_error_rate"), &v) && v >= 0 && v <= 1)
        c.max_error_rate = v;
    c.min_saving = FE_DEFAULT_MIN_SAVING;
    if (fe_json_num(fe_json_path(c.cfg, "decision.min_relative_saving"), &v) && v >= 0)
        c.min_saving = v;

    const char *base = cfg_or_manifest_str(&c, "baseline_arm");
    const char *cand = cfg_or_manifest_str(&c, "candidate_arm");
    long bi = 0, ci = -1;
    if (base && (bi = fe_run_arm_index(run, base)) < 0) {
        fe_err_set(err, FE_EINVALID, "baseline_arm: no arm named '%s'", base);
        return NULL;
    }
    if (cand && (ci = fe_run_arm_index(run, cand)) < 0) {
        fe_err_set(err, FE_EINVALID, "candidate_arm: no arm named '%s'", cand);
        return NULL;
    }
    const char *pm = fe_json_str(fe_json_get(run->manifest, "primary_metric"));
    if (!pm)
        pm = fe_json_str(fe_json_path(c.cfg, "task.primary_metric"));
    c.primary = run->n_metrics;
    for (size_t m = 0; m < run->n_metrics; m++)
        if (pm && strcmp(run->metrics[m], pm) == 0)
            c.primary = m;
    if (c.primary == run->n_metrics && run->n_metrics > 0)
        c.primary = 0;
    c.metric = c.primary < run->n_metrics ? run->metrics[c.primary] : NULL;

    c.arms = fe_xcalloc(run->n_arms, sizeof(*c.arms));
    for (size_t a = 0; a < run->n_arms; a++)
        arm_facts(run, a, summary, c.primary, &c.arms[a]);
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
        cmp_find(summary, c.arms[c.cand].name, c.arms[c.base].name, c.metric, &c.cmp);
    if (c.cmp.found && !fe_json_get(c.cmp.json, "alpha") &&
        fe_json_num(fe_json_path(run->manifest, "stats.alpha"), &v) && v > 0 && v < 1)
        c.cmp.alpha = v; /* the run's alpha when the comparison does not repeat it */

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
    cJSON *be = break_even(&c, reasons);
    cJSON_AddItemToObject(d, "reasons", reasons);
    cJSON_AddItemToObject(d, "break_even", be);
    cJSON_AddItemToObject(d, "rubric", rubric(&c));
    for (size_t a = 0; a < run->n_arms; a++)
        arm_facts_release(&c.arms[a]);
    free(c.arms);
    return d;
}
