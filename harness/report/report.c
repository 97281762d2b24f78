/* report.c — the report-internal formatting module (report_int.h): the shared view of a run and
 * the formatting helpers every renderer uses. It calls no renderer; report_write.c does. */
#include "harness/report/report_int.h"

#include "harness/base/jsonout.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness/analysis/decision.h"
#include "harness/base/log.h"
#include "harness/base/util.h"
#include "harness/analysis/arm_cost.h"
#include "metrics/cost.h"

void fe_md_escape(struct fe_buf *b, const char *s)
{
    for (; s && *s; s++) {
        switch (*s) {
        case '\\':
        case '`':
        case '*':
        case '_':
        case '[':
        case ']':
        case '<':
        case '>':
        case '|':
        case '~':
        case '&':
        case '#':
            fe_buf_addch(b, '\\');
            fe_buf_addch(b, *s);
            break;
        case '\r':
        case '\n':
        case '\t':
            fe_buf_addch(b, ' ');
            break;
        default:
            fe_buf_addch(b, *s);
        }
    }
}

char *fe_report_clip(const char *s, size_t max)
{
    if (!s)
        return fe_xstrdup("");
    size_t len = strlen(s);
    if (len <= max)
        return fe_xstrdup(s);
    size_t cut = max;
    while (cut > 0 && ((unsigned char)s[cut] & 0xC0) == 0x80)
        cut--;
    char *out = fe_xmalloc(cut + 4);
    memcpy(out, s, cut);
    memcpy(out + cut, "...", 4);
    return out;
}

char *fe_report_gold_text(const struct fe_record_text *r)
{
    return fe_report_json_text(r->gold);
}

char *fe_report_json_text(const cJSON *g)
{
    if (cJSON_IsString(g))
        return fe_xstrdup(g->valuestring);
    if (cJSON_IsArray(g)) {
        struct fe_buf b = {0};
        const cJSON *e;
        bool all_strings = true;
        cJSON_ArrayForEach(e, g)
            all_strings = all_strings && cJSON_IsString(e);
        if (all_strings) {
            bool first = true;
            cJSON_ArrayForEach(e, g) {
                fe_buf_addf(&b, "%s%s", first ? "" : " / ", e->valuestring);
                first = false;
            }
            return fe_buf_detach(&b, NULL);
        }
    }
    if (!g)
        return fe_xstrdup("");
    char *p = cJSON_PrintUnformatted(g);
    char *out = fe_xstrdup(p ? p : "");
    cJSON_free(p);
    return out;
}

void fe_report_pct(char *out, size_t size, bool ok, double frac)
{
    if (!ok || !isfinite(frac))
        snprintf(out, size, "n/a");
    else
        snprintf(out, size, "%.1f%%", frac * 100);
}

void fe_report_usd(char *out, size_t size, bool ok, double usd)
{
    if (!ok || !isfinite(usd))
        snprintf(out, size, "n/a");
    else if (usd == 0)
        snprintf(out, size, "$0");
    else if (fabs(usd) >= 100)
        snprintf(out, size, "$%.0f", usd);
    else if (fabs(usd) >= 1)
        snprintf(out, size, "$%.2f", usd);
    else { /* three significant digits in fixed notation: $0.0000150, not $1.5e-05 */
        int decimals = (int)ceil(-log10(fabs(usd))) + 2;
        if (decimals < 3)
            decimals = 3;
        if (decimals > 12)
            decimals = 12;
        snprintf(out, size, "$%.*f", decimals, usd);
    }
}

const char *fe_report_verdict_text(const char *verdict)
{
    if (!verdict)
        return "No decision";
    if (strcmp(verdict, "ship_candidate") == 0)
        return "Ship the candidate";
    if (strcmp(verdict, "keep_baseline") == 0)
        return "Keep the baseline";
    if (strcmp(verdict, "inconclusive") == 0)
        return "Inconclusive: not enough evidence yet";
    if (strcmp(verdict, "incomplete") == 0)
        return "No verdict: the run is incomplete";
    if (strcmp(verdict, "invalid") == 0)
        return "No verdict: the evidence is invalid";
    return verdict;
}

const char *fe_report_arm_color(size_t i)
{
    static const char *const palette[] = {"#4269d0", "#efb118", "#ff725c", "#6cc5b0",
                                          "#3ca951", "#ff8ab7", "#a463f2", "#97bbf5"};
    return palette[i % FE_ARRAY_LEN(palette)];
}

/* Headline cost of an arm: the summary's, else computed from the records. */
static void arm_cost(struct fe_report_view *v, size_t a, struct fe_report_arm *r)
{
    const struct fe_run *run = v->run;
    const struct fe_summary_cost *sc = &v->summary.arms[a].cost;
    struct fe_summary_cost own;
    if (!sc->present) {
        cJSON *c = fe_cost_arm_summary(&run->arms[a],
                                       v->primary < run->n_metrics ? v->primary : FE_NO_METRIC);
        fe_summary_cost_parse(c, &own);
        cJSON_Delete(c);
        sc = &own;
    }
    r->priced = sc->priced && fe_has(sc->per_inference_usd);
    r->per_inference = r->priced ? sc->per_inference_usd : 0;
    if (r->priced) {
        r->per_1k = fe_has(sc->per_1k_usd) ? sc->per_1k_usd : r->per_inference * 1000;
        r->total = fe_has(sc->total_usd) ? sc->total_usd : r->per_inference * (double)r->n;
    }
}

/* Time to first token of the streamed, answered, uncached records (issue 15). */
static void arm_ttft(const struct fe_arm_run *arm, struct fe_report_arm *r)
{
    static const double qs[] = {0.05, 0.25, 0.50, 0.75, 0.95};
    double q[FE_ARRAY_LEN(qs)];
    struct fe_sample_stats st;
    fe_latency_quantiles(arm, true, qs, FE_ARRAY_LEN(qs), q, &st);
    if (st.k > 0) {
        r->has_ttft = true;
        r->ttft_p5 = q[0];
        r->ttft_p25 = q[1];
        r->ttft_p50 = q[2];
        r->ttft_p75 = q[3];
        r->ttft_p95 = q[4];
    }
}

/* Latency: the distribution needs the records; without records, the summary's numbers. */
static void arm_latency(const struct fe_arm_run *arm, const struct fe_summary_latency *sl,
                        struct fe_report_arm *r)
{
    static const double qs[] = {0.05, 0.25, 0.50, 0.75, 0.95, 0.99};
    double q[FE_ARRAY_LEN(qs)];
    struct fe_sample_stats st;
    fe_latency_quantiles(arm, false, qs, FE_ARRAY_LEN(qs), q, &st);
    if (st.k > 0) {
        r->has_latency = true;
        r->lat_p5 = q[0];
        r->lat_p25 = q[1];
        r->lat_p50 = q[2];
        r->lat_p75 = q[3];
        r->lat_p95 = q[4];
        r->lat_p99 = q[5];
        r->lat_mean = st.sum / (double)st.k;
        r->lat_max = st.max;
    }
    arm_ttft(arm, r);
    if (!r->has_latency && fe_has(sl->p50)) {
        r->has_latency = true; /* records absent: summary numbers only */
        r->lat_p50 = sl->p50;
        r->lat_p95 = fe_has(sl->p95) ? sl->p95 : 0;
        r->lat_p99 = fe_has(sl->p99) ? sl->p99 : 0;
        r->lat_mean = fe_has(sl->mean) ? sl->mean : 0;
        r->lat_max = fe_has(sl->max) ? sl->max : 0;
        r->lat_p5 = r->lat_p25 = r->lat_p75 = r->lat_p50;
    }
}

static void arm_view(struct fe_report_view *v, size_t a)
{
    const struct fe_run *run = v->run;
    const struct fe_arm_run *arm = &run->arms[a];
    const struct fe_summary_arm *s = &v->summary.arms[a];
    struct fe_report_arm *r = &v->arms[a];
    r->name = arm->name;
    r->model = arm->model;
    r->n = arm->n;
    for (size_t i = 0; i < arm->n; i++)
        r->n_errors += !fe_arm_rec(arm, i)->ok;
    if (fe_has(s->n) && s->n >= 0)
        r->n = (size_t)s->n;
    if (fe_has(s->n_errors) && s->n_errors >= 0)
        r->n_errors = (size_t)s->n_errors;
    r->metrics = fe_xcalloc(run->n_metrics + 1, sizeof(*r->metrics));
    for (size_t m = 0; m < run->n_metrics; m++) {
        struct fe_report_metric *rm = &r->metrics[m];
        const struct fe_summary_metric *sm = &s->metrics[m];
        rm->has_mean = fe_has(sm->mean);
        rm->mean = sm->mean;
        rm->has_ci = fe_has(sm->ci_lo);
        rm->lo = sm->ci_lo;
        rm->hi = sm->ci_hi;
        if (!rm->has_mean && arm->n > 0) { /* no summary: the plain mean, no interval */
            double sum = 0;
            for (size_t i = 0; i < arm->n; i++)
                sum += fe_score(fe_arm_rec(arm, i), m);
            rm->mean = sum / (double)arm->n;
            rm->has_mean = true;
        }
    }
    arm_cost(v, a, r);
    arm_latency(arm, &s->latency, r);
    fe_manifest_arm_price(run->manifest, arm->name, &r->price_source, &r->price_as_of);
}

/* Keeps ex (n of them kept, at most FE_REPORT_EXAMPLES) the first by candidate id, as sorting
 * all and keeping the first would (ids are unique in an arm, so the order is total); an id
 * equal to a kept one goes after it. */
static void keep_first(const struct fe_arm_run *ca, struct fe_report_example *kept, size_t *n,
                       struct fe_report_example ex, const char *id)
{
    size_t k = *n;
    while (k > 0 && strcmp(fe_arm_rec(ca, kept[k - 1].cand)->id, id) > 0)
        k--;
    if (k >= FE_REPORT_EXAMPLES)
        return;
    size_t last = *n < FE_REPORT_EXAMPLES ? *n : FE_REPORT_EXAMPLES - 1;
    memmove(&kept[k + 1], &kept[k], (last - k) * sizeof(*kept));
    kept[k] = ex;
    if (*n < FE_REPORT_EXAMPLES)
        (*n)++;
}

static void collect_examples(struct fe_report_view *v)
{
    const struct fe_run *run = v->run;
    if (v->cand < 0 || v->base < 0 || v->primary >= run->n_metrics)
        return;
    const struct fe_arm_run *ca = &run->arms[v->cand];
    for (size_t i = 0; i < ca->n; i++) {
        const struct fe_record *c = fe_arm_rec(ca, i);
        if (!c->id)
            continue;
        long j = fe_run_find_record(run, (size_t)v->base, c->id);
        if (j < 0)
            continue;
        double dc = fe_score(c, v->primary);
        double db = fe_score(fe_arm_rec(&run->arms[v->base], (size_t)j), v->primary);
        struct fe_report_example ex = {i, (size_t)j};
        if (dc > db) {
            v->n_fixed++;
            keep_first(ca, v->fixed, &v->kept_fixed, ex, c->id);
        } else if (dc < db) {
            v->n_broke++;
            keep_first(ca, v->broke, &v->kept_broke, ex, c->id);
        }
    }
}

void fe_report_view_init(struct fe_report_view *v, const struct fe_run *run)
{
    memset(v, 0, sizeof(*v));
    v->run = run;
    fe_manifest_view_parse(run->manifest, &v->manifest);
    fe_summary_view_parse(run, run->summary, &v->summary);
    const char *pm = v->manifest.primary_metric;
    v->primary = run->n_metrics;
    for (size_t i = 0; i < run->n_metrics; i++)
        if (pm && strcmp(pm, run->metrics[i]) == 0)
            v->primary = i;
    if (v->primary == run->n_metrics && run->n_metrics > 0)
        v->primary = 0;
    v->n_arms = run->n_arms;
    v->arms = fe_xcalloc(run->n_arms + 1, sizeof(*v->arms));
    for (size_t a = 0; a < run->n_arms; a++)
        arm_view(v, a);

    v->has_spend = v->n_arms > 0;
    for (size_t a = 0; a < v->n_arms; a++) {
        v->has_spend = v->has_spend && v->arms[a].priced;
        v->spend_usd += v->arms[a].total;
    }
    v->budget_usd = v->manifest.budget_max_usd;
    v->has_budget = fe_has(v->budget_usd);
    if (v->summary.decision.present) {
        v->decision = &v->summary.decision;
    } else {
        struct fe_err err = {0};
        v->owned_decision = fe_decision_build(run, v->summary.present ? run->summary : NULL, &err);
        if (!v->owned_decision && err.code)
            fe_warn("report: no decision: %s", err.msg);
        fe_decision_view_parse(v->owned_decision, &v->owned_view);
        v->decision = &v->owned_view;
    }
    v->cand = v->base = -1;
    const char *cn = v->decision->candidate_arm, *bn = v->decision->baseline_arm;
    if (cn && bn) {
        v->cand = fe_run_arm_index(run, cn);
        v->base = fe_run_arm_index(run, bn);
        if (v->cand == v->base)
            v->cand = v->base = -1;
    }
    collect_examples(v);
}

void fe_report_view_release(struct fe_report_view *v)
{
    for (size_t a = 0; a < v->n_arms; a++)
        free(v->arms[a].metrics);
    free(v->arms);
    fe_summary_view_release(&v->summary);
    fe_decision_view_release(&v->owned_view);
    cJSON_Delete(v->owned_decision);
    memset(v, 0, sizeof(*v));
}
