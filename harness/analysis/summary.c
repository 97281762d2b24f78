/* summary.c — see summary.h. */
#include "harness/analysis/summary.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness/analysis/arm_cost.h"
#include "metrics/cost.h"
#include "harness/base/jsonout.h"
#include "harness/base/log.h"
#include "harness/base/strmap.h"
#include "harness/base/util.h"
#include "harness/analysis/integrity.h"

static void fe_opts_from_manifest(const cJSON *manifest, struct fe_stats_opts *o)
{
    fe_stats_opts_default(o);
    const cJSON *st = cJSON_GetObjectItemCaseSensitive(manifest, "stats");
    const cJSON *v;
    if (cJSON_IsNumber(v = cJSON_GetObjectItemCaseSensitive(st, "seed")))
        o->seed = (unsigned long)v->valuedouble;
    if (cJSON_IsNumber(v = cJSON_GetObjectItemCaseSensitive(st, "resamples")))
        o->resamples = (size_t)v->valuedouble;
    if (cJSON_IsNumber(v = cJSON_GetObjectItemCaseSensitive(st, "alpha")))
        o->alpha = v->valuedouble;
    if (cJSON_IsString(v = cJSON_GetObjectItemCaseSensitive(st, "correction"))) {
        if (strcmp(v->valuestring, "none") == 0)
            o->correction = FE_CORRECTION_NONE;
        else if (strcmp(v->valuestring, "bonferroni") == 0)
            o->correction = FE_CORRECTION_BONFERRONI;
    }
}

/* Per-arm table over all of that arm's records (one arm, n rows). */
static cJSON *fe_arm_metrics(const struct fe_run *run, size_t a)
{
    const struct fe_arm_run *arm = &run->arms[a];
    size_t n = arm->n;
    double *scores = fe_xcalloc((n ? n : 1) * (run->n_metrics ? run->n_metrics : 1), sizeof(double));
    const char **cluster = fe_xcalloc(n ? n : 1, sizeof(*cluster));
    bool any_cluster = false;
    for (size_t i = 0; i < n; i++) {
        for (size_t m = 0; m < run->n_metrics; m++)
            scores[m * n + i] = arm->records[i].scores[m];
        const cJSON *cl = cJSON_GetObjectItemCaseSensitive(arm->records[i].json, "cluster");
        cluster[i] = cJSON_IsString(cl) ? cl->valuestring : arm->records[i].id;
        any_cluster = any_cluster || cJSON_IsString(cl);
    }
    const char *names[1] = {arm->name};
    struct fe_score_table t = {
        .n = n, .n_arms = 1, .arm_names = names, .n_metrics = run->n_metrics,
        .metric_names = (const char *const *)run->metrics, .metric_binary = run->metric_binary,
        .scores = scores, .cluster = any_cluster ? cluster : NULL,
    };
    cJSON *out = fe_stats_arm_metrics(&t, 0);
    free(scores);
    free(cluster);
    return out;
}

static cJSON *fe_arm_summary(const struct fe_run *run, size_t a)
{
    const struct fe_arm_run *arm = &run->arms[a];
    cJSON *o = cJSON_CreateObject();
    size_t errors = 0;
    long prompt = 0, completion = 0, cached = 0;
    for (size_t i = 0; i < arm->n; i++) {
        const struct fe_record *r = &arm->records[i];
        errors += !r->ok;
        prompt += r->prompt_tokens;
        completion += r->completion_tokens;
        cached += r->cached_tokens;
    }
    cJSON_AddNumberToObject(o, "n", (double)arm->n);
    cJSON_AddNumberToObject(o, "n_errors", (double)errors);
    if (arm->model)
        cJSON_AddStringToObject(o, "model", arm->model);
    cJSON_AddItemToObject(o, "metrics", fe_arm_metrics(run, a));
    cJSON *usage = cJSON_AddObjectToObject(o, "usage");
    cJSON_AddNumberToObject(usage, "prompt_tokens", (double)prompt);
    cJSON_AddNumberToObject(usage, "completion_tokens", (double)completion);
    cJSON_AddNumberToObject(usage, "cached_tokens", (double)cached);
    const cJSON *pm = cJSON_GetObjectItemCaseSensitive(run->manifest, "primary_metric");
    size_t primary = FE_NO_METRIC;
    for (size_t m = 0; m < run->n_metrics && cJSON_IsString(pm); m++)
        if (strcmp(run->metrics[m], pm->valuestring) == 0)
            primary = m;
    if (primary == FE_NO_METRIC && run->n_metrics)
        primary = 0;
    cJSON_AddItemToObject(o, "cost", fe_cost_arm_summary(arm, primary));
    cJSON_AddItemToObject(o, "latency_ms", fe_latency_summary(arm));
    return o;
}

/* The paired table: ids recorded by every arm, in the first arm's order. */
static cJSON *fe_comparisons(const struct fe_run *run, const struct fe_stats_opts *o, struct fe_err *err)
{
    if (run->n_arms < 2)
        return cJSON_CreateArray();
    const struct fe_arm_run *first = &run->arms[0];
    size_t n = 0;
    long *rows = fe_xcalloc((first->n ? first->n : 1) * run->n_arms, sizeof(long));
    for (size_t i = 0; i < first->n; i++) {
        bool all = true;
        for (size_t a = 0; a < run->n_arms && all; a++) {
            long at = a == 0 ? (long)i : fe_run_find_record(run, a, first->records[i].id);
            rows[n * run->n_arms + a] = at;
            all = at >= 0;
        }
        n += all;
    }
    size_t nm = run->n_metrics;
    double *scores = fe_xcalloc((n ? n : 1) * run->n_arms * (nm ? nm : 1), sizeof(double));
    const char **cluster = fe_xcalloc(n ? n : 1, sizeof(*cluster));
    const char **names = fe_xcalloc(run->n_arms, sizeof(*names));
    bool any_cluster = false;
    for (size_t a = 0; a < run->n_arms; a++)
        names[a] = run->arms[a].name;
    for (size_t i = 0; i < n; i++) {
        for (size_t a = 0; a < run->n_arms; a++) {
            const struct fe_record *r = &run->arms[a].records[rows[i * run->n_arms + a]];
            for (size_t m = 0; m < nm; m++)
                scores[(a * nm + m) * n + i] = r->scores[m];
        }
        const struct fe_record *r0 = &first->records[rows[i * run->n_arms]];
        const cJSON *cl = cJSON_GetObjectItemCaseSensitive(r0->json, "cluster");
        cluster[i] = cJSON_IsString(cl) ? cl->valuestring : r0->id;
        any_cluster = any_cluster || cJSON_IsString(cl);
    }
    const cJSON *b = cJSON_GetObjectItemCaseSensitive(run->manifest, "baseline_arm");
    long base = cJSON_IsString(b) ? fe_run_arm_index(run, b->valuestring) : 0;
    struct fe_score_table t = {
        .n = n, .n_arms = run->n_arms, .arm_names = names, .n_metrics = nm,
        .metric_names = (const char *const *)run->metrics, .metric_binary = run->metric_binary,
        .scores = scores, .cluster = any_cluster ? cluster : NULL,
    };
    cJSON *out = fe_stats_comparisons(&t, base < 0 ? 0 : (size_t)base, o, err);
    free(rows);
    free(scores);
    free(cluster);
    free(names);
    return out;
}

cJSON *fe_summary_build(const struct fe_run *run, const struct fe_stats_opts *opts, struct fe_err *err)
{
    struct fe_stats_opts o;
    if (opts)
        o = *opts;
    else
        fe_opts_from_manifest(run->manifest, &o);
    cJSON *s = cJSON_CreateObject();
    cJSON_AddStringToObject(s, "schema", "fteval.summary/1");
    const cJSON *run_id = cJSON_GetObjectItemCaseSensitive(run->manifest, "run_id");
    if (cJSON_IsString(run_id))
        cJSON_AddStringToObject(s, "run_id", run_id->valuestring);
    cJSON *metrics = cJSON_AddArrayToObject(s, "metrics");
    for (size_t m = 0; m < run->n_metrics; m++)
        cJSON_AddItemToArray(metrics, cJSON_CreateString(run->metrics[m]));
    cJSON *arms = cJSON_AddObjectToObject(s, "arms");
    for (size_t a = 0; a < run->n_arms; a++)
        cJSON_AddItemToObject(arms, run->arms[a].name, fe_arm_summary(run, a));
    cJSON *cmp = fe_comparisons(run, &o, err);
    if (!cmp) {
        cJSON_Delete(s);
        return NULL;
    }
    cJSON_AddItemToObject(s, "comparisons", cmp);
    fe_integrity_annotate(run, s);
    return s;
}

enum fe_status fe_summary_save(struct fe_run *run, cJSON *s, struct fe_err *err)
{
    char *path = fe_xasprintf("%s/summary.json", run->dir);
    enum fe_status st = fe_write_json_file(path, s, err);
    free(path);
    cJSON_Delete(run->summary);
    run->summary = s;
    return st;
}

static double fe_path_num(const cJSON *o, const char *const *path)
{
    for (; *path && o; path++)
        o = cJSON_GetObjectItemCaseSensitive(o, *path);
    return cJSON_IsNumber(o) ? o->valuedouble : NAN;
}

void fe_summary_print(const struct fe_run *run)
{
    const cJSON *arms = cJSON_GetObjectItemCaseSensitive(run->summary, "arms");
    printf("%-14s %6s %6s", "arm", "n", "errors");
    for (size_t m = 0; m < run->n_metrics; m++)
        printf("  %-21s", run->metrics[m]);
    printf(" %13s %9s\n", "$/inference", "p50 ms");
    for (size_t a = 0; a < run->n_arms; a++) {
        const cJSON *arm = cJSON_GetObjectItemCaseSensitive(arms, run->arms[a].name);
        const char *n_path[] = {"n", NULL}, *e_path[] = {"n_errors", NULL};
        printf("%-14s %6.0f %6.0f", run->arms[a].name, fe_path_num(arm, n_path), fe_path_num(arm, e_path));
        for (size_t m = 0; m < run->n_metrics; m++) {
            const char *mean[] = {"metrics", run->metrics[m], "mean", NULL};
            const cJSON *ci = cJSON_GetObjectItemCaseSensitive(
                cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(arm, "metrics"), run->metrics[m]), "ci");
            double lo = cJSON_IsArray(ci) && cJSON_IsNumber(cJSON_GetArrayItem(ci, 0)) ? cJSON_GetArrayItem(ci, 0)->valuedouble : NAN;
            double hi = cJSON_IsArray(ci) && cJSON_IsNumber(cJSON_GetArrayItem(ci, 1)) ? cJSON_GetArrayItem(ci, 1)->valuedouble : NAN;
            char cell[64];
            double mu = fe_path_num(arm, mean);
            if (isnan(mu))
                snprintf(cell, sizeof(cell), "-");
            else if (isnan(lo) || isnan(hi))
                snprintf(cell, sizeof(cell), "%.1f", 100 * mu);
            else
                snprintf(cell, sizeof(cell), "%.1f [%.1f, %.1f]", 100 * mu, 100 * lo, 100 * hi);
            printf("  %-21s", cell);
        }
        const char *cost[] = {"cost", "per_inference_usd", NULL}, *p50[] = {"latency_ms", "p50", NULL};
        double c = fe_path_num(arm, cost);
        if (isnan(c))
            printf(" %13s", "unknown");
        else
            printf(" %13.7f", c);
        double p = fe_path_num(arm, p50);
        if (isnan(p))
            printf(" %9s\n", "-");
        else
            printf(" %9.1f\n", p);
    }
    const cJSON *decision = cJSON_GetObjectItemCaseSensitive(run->summary, "decision");
    const cJSON *verdict = cJSON_GetObjectItemCaseSensitive(decision, "verdict");
    if (cJSON_IsString(verdict))
        printf("decision: %s\n", verdict->valuestring);
}
