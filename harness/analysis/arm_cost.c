/* arm_cost.c — see arm_cost.h. */
#include "harness/analysis/arm_cost.h"

#include <math.h>
#include <stdbool.h>
#include <stdlib.h>

#include "harness/base/util.h"
#include "metrics/cost.h"

static void fe_add_num_or_null(cJSON *o, const char *k, bool ok, double v)
{
    if (ok && isfinite(v))
        cJSON_AddNumberToObject(o, k, v);
    else
        cJSON_AddNullToObject(o, k);
}

cJSON *fe_cost_arm_summary(const struct fe_arm_run *arm, size_t primary_metric_index)
{
    double total = 0, saved = 0, correct = 0;
    size_t n_priced = 0, n_unpriced = 0;
    bool has_primary = primary_metric_index != FE_NO_METRIC;
    for (size_t i = 0; i < arm->n; i++) {
        const struct fe_record *r = fe_arm_rec(arm, i);
        if (r->has_cost) {
            n_priced++;
            total += r->cost_usd;
            if (r->cache_hit)
                saved += r->cost_usd;
        } else if (r->ok || r->has_usage) {
            n_unpriced++;
        }
        if (has_primary && fe_has_scores(r))
            correct += fe_score(r, primary_metric_index);
    }
    bool priced = n_unpriced == 0 && arm->n > 0;
    cJSON *o = cJSON_CreateObject();
    cJSON_AddBoolToObject(o, "priced", priced);
    fe_add_num_or_null(o, "total_usd", priced, total);
    fe_add_num_or_null(o, "spent_usd", priced, total - saved);
    double per = arm->n ? total / (double)arm->n : 0;
    fe_add_num_or_null(o, "per_inference_usd", priced, per);
    fe_add_num_or_null(o, "per_1k_usd", priced, per * 1000.0);
    fe_add_num_or_null(o, "per_correct_usd", priced && correct > 0, total / correct);
    fe_add_num_or_null(o, "saved_by_cache_usd", priced, saved);
    cJSON_AddNumberToObject(o, "n_priced", (double)n_priced);
    cJSON_AddNumberToObject(o, "n_unpriced", (double)n_unpriced);
    return o;
}

struct fe_latency_src {
    const struct fe_arm_run *arm;
    bool ttft;
};

/* Record i's latency (or ttft) when it is in the sample, else NAN (fe_sample_get). */
static double fe_latency_at(const void *ctx, size_t i)
{
    const struct fe_latency_src *s = ctx;
    const struct fe_record *r = fe_arm_rec(s->arm, i);
    double x = s->ttft ? r->ttft_ms : r->latency_ms;
    return r->ok && !r->cache_hit && isfinite(x) && x >= 0 ? x : NAN;
}

void fe_latency_quantiles(const struct fe_arm_run *arm, bool ttft, const double *q, size_t nq,
                          double *out, struct fe_sample_stats *st)
{
    const struct fe_latency_src src = {arm, ttft};
    fe_sample_quantiles(fe_latency_at, &src, arm->n, q, nq, out, st);
}

/* n, mean, quantiles and max of the answered, timed (not cached) records' latency_ms, or of their
 * ttft_ms (streamed answers). */
static cJSON *fe_latency_object(const struct fe_arm_run *arm, bool ttft)
{
    static const char *const keys[] = {"p50", "p90", "p95", "p99"};
    static const double qs[] = {0.5, 0.9, 0.95, 0.99};
    double v[FE_ARRAY_LEN(qs)];
    struct fe_sample_stats st;
    fe_latency_quantiles(arm, ttft, qs, FE_ARRAY_LEN(qs), v, &st);
    size_t k = st.k;
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "n", (double)k);
    fe_add_num_or_null(o, "mean", k > 0, k ? st.sum / (double)k : 0);
    for (size_t i = 0; i < FE_ARRAY_LEN(qs); i++)
        fe_add_num_or_null(o, keys[i], k > 0, k ? v[i] : 0);
    fe_add_num_or_null(o, "max", k > 0, k ? st.max : 0);
    return o;
}

cJSON *fe_latency_summary(const struct fe_arm_run *arm)
{
    cJSON *o = fe_latency_object(arm, false);
    bool streamed = false; /* "ttft" only for an arm whose records stream (issue 15) */
    for (size_t i = 0; i < arm->n && !streamed; i++)
        streamed = fe_arm_rec(arm, i)->stream;
    if (streamed)
        cJSON_AddItemToObject(o, "ttft", fe_latency_object(arm, true));
    return o;
}
