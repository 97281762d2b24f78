/* summary_judges.c — the "judges" block of summary.json and each arm's cost.judge_usd (issue 12,
 * docs/judges.md), from the manifest's "judges" and the records' "judgements".
 *
 * Per judge: type, model, calls, cache hits, cost (null when any judgement's cost is unknown),
 * parse failures, errors, pending (left by a stop), self-preference; per judged arm: judged,
 * errors, cost, the mean score and pass rate (rubric) or the win rate with ties as one half,
 * its interval and the exact sign test ignoring ties, and position_consistency (pairwise with
 * swap: the share of judged pairs whose two orders agree; pairs settled without a call — one
 * side failed, identical outputs — are not counted).
 */
#include "harness/analysis/summary_judges.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "harness/base/jsonout.h"
#include "harness/base/util.h"
#include "metrics/stats_judge.h"

struct fe_jtally {
    size_t judged, errors, pending, calls, cache_hits, parse_failures, consistent, swapped;
    double cost;
    bool cost_unknown;
    double *values;
    size_t n_values;
    double score_sum, pass;
    size_t n_scores;
};

static void fe_tally_record(struct fe_jtally *t, const cJSON *e)
{
    if (!cJSON_IsObject(e))
        return;
    t->calls += (size_t)fe_json_getn_or(e, "calls", 0);
    t->cache_hits += (size_t)fe_json_getn_or(e, "cache_hits", 0);
    t->parse_failures += (size_t)fe_json_getn_or(e, "parse_failures", 0);
    const cJSON *cost = fe_json_get(e, "cost_usd");
    if (cJSON_IsNumber(cost))
        t->cost += cost->valuedouble;
    else
        t->cost_unknown = true;
    if (cJSON_IsTrue(fe_json_get(e, "pending")))
        t->pending++;
    else if (fe_json_get(e, "error"))
        t->errors++;
    double v = fe_json_getn_or(e, "value", NAN);
    if (isnan(v))
        return;
    t->judged++;
    t->values[t->n_values++] = v;
    double score = fe_json_getn_or(e, "score", NAN);
    double pass_at = fe_json_getn_or(e, "pass_at", NAN);
    if (!isnan(score)) {
        t->score_sum += score;
        t->n_scores++;
        if (!isnan(pass_at) && score >= pass_at)
            t->pass++;
    }
    const cJSON *c = fe_json_get(e, "consistent");
    if (cJSON_IsBool(c)) {
        t->swapped++;
        t->consistent += cJSON_IsTrue(c) ? 1 : 0;
    }
}

static void fe_add_cost(cJSON *o, const char *key, bool unknown, double usd)
{
    if (unknown)
        cJSON_AddNullToObject(o, key);
    else
        cJSON_AddNumberToObject(o, key, usd);
}

/* One arm's entry of judge jd (NULL when the arm has no judgement of it). */
static cJSON *fe_judge_arm(const struct fe_run *run, const struct fe_arm_run *arm, const cJSON *jd,
                           const char *name, struct fe_jtally *all, double alpha)
{
    struct fe_jtally t = {0};
    t.values = fe_xcalloc(arm->n + 1, sizeof(double));
    size_t seen = 0;
    for (size_t i = 0; i < arm->n; i++) {
        if (!fe_arm_rec(arm, i)->has_judgements)
            continue;
        struct fe_record_text rt;
        fe_run_record_text(run, fe_arm_rec(arm, i), &rt);
        const cJSON *e = fe_json_get(fe_json_get(rt.json, "judgements"), name);
        if (e) {
            seen++;
            fe_tally_record(&t, e);
        }
        fe_record_text_release(&rt);
    }
    cJSON *o = NULL;
    if (seen > 0) {
        o = cJSON_CreateObject();
        cJSON_AddNumberToObject(o, "records", (double)seen);
        cJSON_AddNumberToObject(o, "judged", (double)t.judged);
        cJSON_AddNumberToObject(o, "errors", (double)t.errors);
        cJSON_AddNumberToObject(o, "pending", (double)t.pending);
        cJSON_AddNumberToObject(o, "calls", (double)t.calls);
        fe_add_cost(o, "cost_usd", t.cost_unknown, t.cost);
        const char *type = fe_json_str(fe_json_get(jd, "type"));
        if (type && strcmp(type, "pairwise") == 0) {
            cJSON_AddItemToObject(o, "win_rate", fe_stats_win_rate(t.values, t.n_values, alpha));
            if (t.swapped > 0)
                cJSON_AddNumberToObject(o, "position_consistency", (double)t.consistent / (double)t.swapped);
            else
                cJSON_AddNullToObject(o, "position_consistency");
            cJSON_AddNumberToObject(o, "swapped_pairs", (double)t.swapped);
        } else {
            if (t.n_scores > 0)
                cJSON_AddNumberToObject(o, "mean_score", t.score_sum / (double)t.n_scores);
            else
                cJSON_AddNullToObject(o, "mean_score");
            if (fe_json_get(jd, "pass_at") && t.n_scores > 0)
                cJSON_AddNumberToObject(o, "pass_rate", t.pass / (double)t.n_scores);
        }
    }
    all->judged += t.judged;
    all->errors += t.errors;
    all->pending += t.pending;
    all->calls += t.calls;
    all->cache_hits += t.cache_hits;
    all->parse_failures += t.parse_failures;
    all->consistent += t.consistent;
    all->swapped += t.swapped;
    all->cost += t.cost;
    all->cost_unknown = all->cost_unknown || t.cost_unknown;
    free(t.values);
    return o;
}

/* Each arm's cost.judge_usd: what its judgements cost (null when one is unpriced). */
static void fe_arm_judge_cost(const struct fe_run *run, cJSON *s)
{
    cJSON *arms = cJSON_GetObjectItemCaseSensitive(s, "arms");
    for (size_t a = 0; a < run->n_arms; a++) {
        cJSON *cost = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(arms, run->arms[a].name), "cost");
        if (!cJSON_IsObject(cost))
            continue;
        double usd = 0;
        bool unknown = false;
        for (size_t i = 0; i < run->arms[a].n; i++) {
            if (!fe_arm_rec(&run->arms[a], i)->has_judgements)
                continue;
            struct fe_record_text rt;
            fe_run_record_text(run, fe_arm_rec(&run->arms[a], i), &rt);
            const cJSON *e;
            cJSON_ArrayForEach(e, fe_json_get(rt.json, "judgements")) {
                const cJSON *c = fe_json_get(e, "cost_usd");
                if (cJSON_IsNumber(c))
                    usd += c->valuedouble;
                else
                    unknown = true;
            }
            fe_record_text_release(&rt);
        }
        fe_add_cost(cost, "judge_usd", unknown, usd);
    }
}

void fe_summary_judges(const struct fe_run *run, cJSON *s, const struct fe_stats_opts *o)
{
    const cJSON *defs = fe_json_get(run->manifest, "judges");
    if (!cJSON_IsArray(defs) || cJSON_GetArraySize(defs) == 0)
        return;
    fe_arm_judge_cost(run, s);
    cJSON *out = cJSON_AddObjectToObject(s, "judges");
    const cJSON *jd;
    cJSON_ArrayForEach(jd, defs) {
        const char *name = fe_json_str(fe_json_get(jd, "name"));
        if (!name)
            continue;
        cJSON *j = cJSON_AddObjectToObject(out, name);
        const char *keys[] = {"type", "model", "provider", "against", "swap", "scale", "pass_at", "prompt_source",
                              "prompt_sha256"};
        for (size_t k = 0; k < sizeof(keys) / sizeof(keys[0]); k++) {
            const cJSON *v = fe_json_get(jd, keys[k]);
            if (v)
                cJSON_AddItemToObject(j, keys[k], cJSON_Duplicate(v, true));
        }
        struct fe_jtally all = {0};
        cJSON *arms = cJSON_CreateObject();
        for (size_t a = 0; a < run->n_arms; a++) {
            cJSON *e = fe_judge_arm(run, &run->arms[a], jd, name, &all, o->alpha);
            if (e)
                cJSON_AddItemToObject(arms, run->arms[a].name, e);
        }
        cJSON_AddNumberToObject(j, "calls", (double)all.calls);
        cJSON_AddNumberToObject(j, "cache_hits", (double)all.cache_hits);
        fe_add_cost(j, "cost_usd", all.cost_unknown, all.cost);
        cJSON_AddNumberToObject(j, "judged", (double)all.judged);
        cJSON_AddNumberToObject(j, "parse_failures", (double)all.parse_failures);
        cJSON_AddNumberToObject(j, "errors", (double)all.errors);
        cJSON_AddNumberToObject(j, "pending", (double)all.pending);
        if (all.swapped > 0)
            cJSON_AddNumberToObject(j, "position_consistency", (double)all.consistent / (double)all.swapped);
        const cJSON *self = fe_json_get(jd, "self_preference");
        if (cJSON_IsString(self)) {
            cJSON_AddStringToObject(j, "self_preference", self->valuestring);
            cJSON_AddItemToObject(j, "warning", cJSON_Duplicate(fe_json_get(jd, "warning"), true));
        }
        cJSON_AddItemToObject(j, "arms", arms);
    }
}
