/* summary.c — see summary.h. */
#include "harness/analysis/summary.h"
#include "harness/analysis/human.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness/analysis/arm_cost.h"
#include "harness/analysis/arm_metrics.h"
#include "harness/analysis/summary_judges.h"
#include "metrics/cost.h"
#include "harness/base/jsonout.h"
#include "harness/base/log.h"
#include "harness/base/strmap.h"
#include "harness/base/util.h"
#include "harness/analysis/integrity.h"
#include "harness/analysis/slices.h"
#include "metrics/corpus.h"
#include "metrics/metric.h"
#include "metrics/stats_corpus.h"
#include "metrics/stats_holm.h"

/* The primary metric of the run: the manifest's, else the first. */
static const char *fe_primary_metric(const struct fe_run *run)
{
    struct fe_manifest_view mv;
    fe_manifest_view_parse(run->manifest, &mv);
    for (size_t m = 0; m < run->n_metrics && mv.primary_metric; m++)
        if (strcmp(run->metrics[m], mv.primary_metric) == 0)
            return run->metrics[m];
    return run->n_metrics ? run->metrics[0] : NULL;
}

static void fe_opts_from_manifest(const struct fe_manifest_view *m, struct fe_stats_opts *o)
{
    fe_stats_opts_default(o);
    if (fe_has(m->stats_seed))
        o->seed = (unsigned long)m->stats_seed;
    if (fe_has(m->stats_resamples))
        o->resamples = (size_t)m->stats_resamples;
    if (fe_has(m->stats_alpha))
        o->alpha = m->stats_alpha;
    o->family_all = m->stats_family && strcmp(m->stats_family, "all") == 0;
    if (m->stats_correction) {
        if (strcmp(m->stats_correction, "none") == 0)
            o->correction = FE_CORRECTION_NONE;
        else if (strcmp(m->stats_correction, "bonferroni") == 0)
            o->correction = FE_CORRECTION_BONFERRONI;
    }
}

static cJSON *fe_arm_summary(const struct fe_run *run, size_t a, const struct fe_stats_opts *so)
{
    const struct fe_arm_run *arm = &run->arms[a];
    cJSON *o = cJSON_CreateObject();
    size_t errors = 0;
    long prompt = 0, completion = 0, cached = 0;
    for (size_t i = 0; i < arm->n; i++) {
        const struct fe_record *r = fe_arm_rec(arm, i);
        errors += !r->ok;
        prompt += r->prompt_tokens;
        completion += r->completion_tokens;
        cached += r->cached_tokens;
    }
    cJSON_AddNumberToObject(o, "n", (double)arm->n);
    cJSON_AddNumberToObject(o, "n_errors", (double)errors);
    if (arm->model)
        cJSON_AddStringToObject(o, "model", arm->model);
    cJSON_AddItemToObject(o, "metrics", fe_arm_metrics_of(run, a, NULL, run->arms[a].n, so));
    cJSON *usage = cJSON_AddObjectToObject(o, "usage");
    cJSON_AddNumberToObject(usage, "prompt_tokens", (double)prompt);
    cJSON_AddNumberToObject(usage, "completion_tokens", (double)completion);
    cJSON_AddNumberToObject(usage, "cached_tokens", (double)cached);
    struct fe_manifest_view mv;
    fe_manifest_view_parse(run->manifest, &mv);
    size_t primary = FE_NO_METRIC;
    for (size_t m = 0; m < run->n_metrics && mv.primary_metric; m++)
        if (strcmp(run->metrics[m], mv.primary_metric) == 0)
            primary = m;
    if (primary == FE_NO_METRIC && run->n_metrics)
        primary = 0;
    cJSON_AddItemToObject(o, "cost", fe_cost_arm_summary(arm, primary));
    cJSON_AddItemToObject(o, "latency_ms", fe_latency_summary(arm));
    return o;
}

/* Whether every arm holds exactly the first arm's ids, record i of each the same example (the
 * usual complete run): then the paired table is the arms' own score columns, not a copy. */
static bool fe_arms_aligned(const struct fe_run *run)
{
    const struct fe_arm_run *first = &run->arms[0];
    struct fe_col c;
    for (size_t a = 0; a < run->n_arms; a++)
        if (run->arms[a].n != first->n || !fe_arm_score_col(&run->arms[a], 0, &c))
            return false;
    for (size_t i = 0; i < first->n; i++)
        for (size_t a = 1; a < run->n_arms; a++)
            if (fe_run_find_record(run, a, fe_arm_rec(first, i)->id) != (long)i)
                return false;
    return true;
}

/* Record index of arm a in paired row i: rows[i * n_arms + a], or i when the arms are aligned. */
static size_t fe_row(const uint32_t *rows, size_t n_arms, size_t i, size_t a)
{
    return rows ? rows[i * n_arms + a] : i;
}

/* The paired table: ids recorded by every arm, in the first arm's order. */
static cJSON *fe_comparisons(const struct fe_run *run, const struct fe_stats_opts *o, struct fe_err *err)
{
    if (run->n_arms < 2)
        return cJSON_CreateArray();
    const struct fe_arm_run *first = &run->arms[0];
    size_t n = 0, na = run->n_arms, nm = run->n_metrics;
    uint32_t *rows = NULL;
    double *scores = NULL;
    struct fe_col *cols = NULL;
    if (nm && fe_arms_aligned(run)) {
        n = first->n;
        cols = fe_xcalloc(na * nm, sizeof(*cols));
        for (size_t a = 0; a < na; a++)
            for (size_t m = 0; m < nm; m++)
                fe_arm_score_col(&run->arms[a], m, &cols[a * nm + m]);
    } else {
        rows = fe_xcalloc((first->n ? first->n : 1) * na, sizeof(*rows));
        for (size_t i = 0; i < first->n; i++) {
            bool all = true;
            for (size_t a = 0; a < na && all; a++) {
                long at = a == 0 ? (long)i : fe_run_find_record(run, a, fe_arm_rec(first, i)->id);
                rows[n * na + a] = (uint32_t)at; /* record indices fit: rundir.h */
                all = at >= 0;
            }
            n += all;
        }
        scores = fe_xcalloc((n ? n : 1) * na * (nm ? nm : 1), sizeof(double));
        for (size_t i = 0; i < n; i++)
            for (size_t a = 0; a < na; a++) {
                const struct fe_record *r = fe_arm_rec(&run->arms[a], rows[i * na + a]);
                for (size_t m = 0; m < nm; m++)
                    scores[(a * nm + m) * n + i] = fe_score(r, m);
            }
    }
    const char **names = fe_xcalloc(na, sizeof(*names));
    for (size_t a = 0; a < na; a++)
        names[a] = run->arms[a].name;
    bool any_cluster = false;
    for (size_t i = 0; i < n && !any_cluster; i++)
        any_cluster = fe_arm_rec(first, fe_row(rows, na, i, 0))->cluster;
    /* cluster keys only when some example has one (else every example is its own cluster) */
    const char **cluster = any_cluster ? fe_xcalloc(n ? n : 1, sizeof(*cluster)) : NULL;
    for (size_t i = 0; i < n && cluster; i++) {
        const struct fe_record *r0 = fe_arm_rec(first, fe_row(rows, na, i, 0));
        cluster[i] = r0->cluster ? fe_run_str(run, r0->cluster) : r0->id;
    }
    struct fe_manifest_view mv;
    fe_manifest_view_parse(run->manifest, &mv);
    long base = mv.baseline_arm ? fe_run_arm_index(run, mv.baseline_arm) : 0;
    struct fe_score_table t = {
        .n = n, .n_arms = run->n_arms, .arm_names = names, .n_metrics = nm,
        .metric_names = (const char *const *)run->metrics, .metric_binary = run->metric_binary,
        .scores = scores, .cluster = any_cluster ? cluster : NULL, .cols = cols,
    };
    cJSON *out = fe_stats_comparisons(&t, base < 0 ? 0 : (size_t)base, o, err);
    /* corpus metrics: one paired corpus bootstrap per metric (the shared resample indices) and
     * the approximate-randomization test replace the per-example statistics */
    for (size_t m = 0; m < nm && out; m++) {
        enum fe_corpus_kind kind = fe_run_metric_corpus(run->metrics[m]);
        if (kind == FE_CORPUS_NONE)
            continue;
        struct fe_corpus c;
        fe_corpus_init(&c, kind, n, run->n_arms);
        for (size_t i = 0; i < n; i++)
            for (size_t a = 0; a < run->n_arms; a++)
                fe_corpus_put_record(&c, a, i, run, fe_arm_rec(&run->arms[a], fe_row(rows, na, i, a)),
                                     run->metrics[m]);
        fe_corpus_finish(&c);
        double *boot = NULL;
        if (n >= 2) {
            boot = fe_xreallocarray(NULL, run->n_arms * o->resamples, sizeof(*boot));
            fe_corpus_bootstrap(&c, o->resamples, o->seed, boot);
        }
        size_t j = 0;
        for (cJSON *e = out->child; e; e = e->next, j++) {
            const char *em = fe_json_str(fe_json_get(e, "metric"));
            if (!em || strcmp(em, run->metrics[m]) != 0)
                continue;
            long ia = fe_run_arm_index(run, fe_json_str(fe_json_get(e, "a")));
            long ib = fe_run_arm_index(run, fe_json_str(fe_json_get(e, "b")));
            if (ia < 0 || ib < 0)
                continue;
            fe_stats_corpus_comparison(e, &c, boot, (size_t)ia, (size_t)ib, o,
                                       o->seed + 0x9e3779b9UL * (unsigned long)(j + 1));
        }
        free(boot);
        fe_corpus_release(&c);
    }
    /* decision family: the primary metric; the others secondary; duplicates reported once */
    if (out) {
        bool *skip = fe_xcalloc(nm ? nm : 1, sizeof(*skip));
        const char **dup = fe_xcalloc(nm ? nm : 1, sizeof(*dup));
        for (size_t m = 0; m < nm; m++)
            skip[m] = fe_run_metric_corpus(run->metrics[m]) != FE_CORPUS_NONE;
        const char *primary = fe_primary_metric(run);
        fe_stats_find_duplicates(&t, primary, skip, dup);
        fe_stats_families(out, primary, (const char *const *)run->metrics, dup, nm, o);
        free(skip);
        free(dup);
    }
    free(rows);
    free(scores);
    free(cols);
    free(cluster);
    free(names);
    return out;
}

cJSON *fe_summary_build(const struct fe_run *run, const struct fe_stats_opts *opts,
                        struct fe_err *err)
{
    struct fe_manifest_view mv;
    fe_manifest_view_parse(run->manifest, &mv);
    struct fe_stats_opts o;
    if (opts)
        o = *opts;
    else
        fe_opts_from_manifest(&mv, &o);
    cJSON *s = cJSON_CreateObject();
    cJSON_AddStringToObject(s, "schema", "fteval.summary/1");
    if (mv.run_id)
        cJSON_AddStringToObject(s, "run_id", mv.run_id);
    cJSON *metrics = cJSON_AddArrayToObject(s, "metrics");
    for (size_t m = 0; m < run->n_metrics; m++)
        cJSON_AddItemToArray(metrics, cJSON_CreateString(run->metrics[m]));
    cJSON *arms = cJSON_AddObjectToObject(s, "arms");
    for (size_t a = 0; a < run->n_arms; a++)
        cJSON_AddItemToObject(arms, run->arms[a].name, fe_arm_summary(run, a, &o));
    cJSON *cmp = fe_comparisons(run, &o, err);
    if (!cmp) {
        cJSON_Delete(s);
        if (!err->code)
            fe_err_set(err, FE_EINTERNAL, "summary: no comparisons");
        return NULL;
    }
    cJSON_AddItemToObject(s, "comparisons", cmp);
    /* metrics reported once (stats_holm.h): {"exact_match": "accuracy"} */
    cJSON *dups = cJSON_AddObjectToObject(s, "metric_duplicates");
    for (const cJSON *e = cmp->child; e; e = e->next) {
        const char *m = fe_json_str(fe_json_get(e, "metric"));
        const char *of = fe_json_str(fe_json_get(e, "duplicate_of"));
        if (m && of && !fe_json_get(dups, m))
            cJSON_AddStringToObject(dups, m, of);
    }
    fe_slices_attach(run, s, &o); /* "slices" when the records have a slice (slices.h) */
    fe_summary_judges(run, s, &o); /* issue 12: "judges", cost.judge_usd */
    fe_integrity_annotate(run, s);
    fe_summary_add_batch(run, s); /* summary_batch.c: only runs that used a batch API */
    fe_human_attach(run, s); /* "human": imported ratings (human.h) */
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

void fe_summary_print(const struct fe_run *run)
{
    struct fe_summary_view sv;
    fe_summary_view_parse(run, run->summary, &sv);
    printf("%-14s %6s %6s", "arm", "n", "errors");
    for (size_t m = 0; m < run->n_metrics; m++)
        printf("  %-21s", run->metrics[m]);
    printf(" %13s %9s\n", "$/inference", "p50 ms");
    for (size_t a = 0; a < run->n_arms; a++) {
        const struct fe_summary_arm *arm = &sv.arms[a];
        printf("%-14s %6.0f %6.0f", run->arms[a].name, arm->n, arm->n_errors);
        for (size_t m = 0; m < run->n_metrics; m++) {
            const struct fe_summary_metric *sm = &arm->metrics[m];
            char cell[64];
            if (!fe_has(sm->mean))
                snprintf(cell, sizeof(cell), "-");
            else if (!fe_has(sm->ci_lo))
                snprintf(cell, sizeof(cell), "%.1f", 100 * sm->mean);
            else
                snprintf(cell, sizeof(cell), "%.1f [%.1f, %.1f]", 100 * sm->mean,
                         100 * sm->ci_lo, 100 * sm->ci_hi);
            printf("  %-21s", cell);
        }
        double c = arm->cost.per_inference_usd, p = arm->latency.p50;
        if (!fe_has(c))
            printf(" %13s", "unknown");
        else
            printf(" %13.7f", c);
        if (!fe_has(p))
            printf(" %9s\n", "-");
        else
            printf(" %9.1f\n", p);
    }
    if (sv.decision.verdict)
        printf("decision: %s\n", sv.decision.verdict);
    fe_summary_view_release(&sv);
}
