/* arm_metrics.c — the per-arm "metrics" object of summary.json over any subset of an arm's
 * records (all of them for the summary's arms, one slice's for the slices block), and the one
 * mapping from a record to a corpus metric's counts (used by the summary's comparisons, the
 * slices block and `compare`). Moved from summary.c unchanged. See arm_metrics.h. */
#include "harness/analysis/arm_metrics.h"

#include <stdlib.h>
#include <string.h>

#include "harness/base/jsonout.h"
#include "harness/base/util.h"
#include "metrics/metric.h"
#include "metrics/stats_corpus.h"

/* Labels shown in a confusion matrix of summary.json (the rest pooled, corpus.h). */
#define FE_CONFUSION_MAX_LABELS 30

enum fe_corpus_kind fe_run_metric_corpus(const char *name)
{
    const struct fe_metric *m = fe_metric_find(name);
    return m ? m->corpus : FE_CORPUS_NONE;
}

/* The contribution of record r to corpus c (arm slot a, example i). Labels come from the
 * record's prediction and gold; entity counts from the record's "corpus" object, which the
 * runner writes with the dataset row (spans); a record without it (written before entity_f1
 * existed) is counted from its gold object without the row, by surfaces (corpus.h). */
void fe_corpus_put_text(struct fe_corpus *c, size_t a, size_t i, bool ok,
                        const struct fe_record_text *r, const char *metric)
{
    if (c->kind == FE_CORPUS_ENTITY_F1) {
        const cJSON *o = fe_json_get(fe_json_get(r->json, "corpus"), metric);
        double tp, np, ng;
        struct fe_entity_counts e;
        if (fe_json_num(fe_json_get(o, "tp"), &tp) && fe_json_num(fe_json_get(o, "pred"), &np) &&
            fe_json_num(fe_json_get(o, "gold"), &ng)) {
            e = (struct fe_entity_counts){(long)tp, (long)np, (long)ng};
        } else {
            struct fe_gold g = {.gold_json = r->gold};
            e = fe_corpus_entity_counts(ok ? r->prediction : "", &g);
        }
        fe_corpus_add_entities(c, a, i, e);
        return;
    }
    const char *one[1] = {""};
    const char **golds = one;
    size_t ng = 1;
    if (cJSON_IsString(r->gold)) {
        one[0] = r->gold->valuestring;
    } else if (cJSON_IsArray(r->gold) && cJSON_GetArraySize(r->gold) > 0) {
        ng = (size_t)cJSON_GetArraySize(r->gold);
        golds = fe_xcalloc(ng, sizeof(*golds));
        size_t k = 0;
        const cJSON *x;
        cJSON_ArrayForEach(x, r->gold) golds[k++] = cJSON_IsString(x) ? x->valuestring : "";
    }
    const char *p, *g;
    size_t plen;
    fe_corpus_label_pair(ok ? r->prediction : "", golds, ng, &p, &plen, &g);
    fe_corpus_add_labels(c, a, i, p, plen, g);
    if (golds != one)
        free(golds);
}

void fe_corpus_put_record(struct fe_corpus *c, size_t a, size_t i, const struct fe_run *run,
                          const struct fe_record *r, const char *metric)
{
    struct fe_record_text t;
    fe_run_record_text(run, r, &t);
    fe_corpus_put_text(c, a, i, r->ok, &t, metric);
    fe_record_text_release(&t);
}

/* Per-arm table over the records idx[0..n) of arm a (idx NULL: its first n records). */
cJSON *fe_arm_metrics_of(const struct fe_run *run, size_t a, const size_t *idx, size_t n,
                         const struct fe_stats_opts *o)
{
    const struct fe_arm_run *arm = &run->arms[a];
    /* the whole arm: its own score columns; a subset (a slice): a copy */
    size_t nm = run->n_metrics;
    struct fe_col *cols = fe_xcalloc(nm ? nm : 1, sizeof(*cols));
    bool own_cols = !idx && n == arm->n && nm;
    for (size_t m = 0; m < nm && own_cols; m++)
        own_cols = fe_arm_score_col(arm, m, &cols[m]);
    double *scores = NULL;
    if (!own_cols) {
        scores = fe_xcalloc((n ? n : 1) * (run->n_metrics ? run->n_metrics : 1), sizeof(double));
        for (size_t i = 0; i < n; i++) {
            const struct fe_record *r = fe_arm_rec(arm, idx ? idx[i] : i);
            for (size_t m = 0; m < run->n_metrics; m++)
                scores[m * n + i] = fe_score(r, m);
        }
    }
    bool any_cluster = false;
    for (size_t i = 0; i < n && !any_cluster; i++)
        any_cluster = fe_arm_rec(arm, idx ? idx[i] : i)->cluster;
    /* cluster keys only when some example has one (else every example is its own cluster) */
    const char **cluster = any_cluster ? fe_xcalloc(n ? n : 1, sizeof(*cluster)) : NULL;
    for (size_t i = 0; i < n && cluster; i++) {
        const struct fe_record *r = fe_arm_rec(arm, idx ? idx[i] : i);
        cluster[i] = r->cluster ? fe_run_str(run, r->cluster) : r->id;
    }
    const char *names[1] = {arm->name};
    struct fe_score_table t = {
        .n = n, .n_arms = 1, .arm_names = names, .n_metrics = run->n_metrics,
        .metric_names = (const char *const *)run->metrics, .metric_binary = run->metric_binary,
        .scores = scores, .cluster = any_cluster ? cluster : NULL,
        .cols = own_cols ? cols : NULL,
    };
    cJSON *out = fe_stats_arm_metrics(&t, 0);
    /* corpus metrics: the value from summed counts and its corpus bootstrap */
    for (size_t m = 0; m < run->n_metrics && out; m++) {
        enum fe_corpus_kind kind = fe_run_metric_corpus(run->metrics[m]);
        if (kind == FE_CORPUS_NONE)
            continue;
        struct fe_corpus c;
        fe_corpus_init(&c, kind, n, 1);
        for (size_t i = 0; i < n; i++)
            fe_corpus_put_record(&c, 0, i, run, fe_arm_rec(arm, idx ? idx[i] : i), run->metrics[m]);
        fe_corpus_finish(&c);
        cJSON *cm = fe_stats_corpus_arm(&c, 0, o, FE_CONFUSION_MAX_LABELS);
        const cJSON *old = fe_json_get(out, run->metrics[m]);
        double mean_pe;
        if (fe_json_num(fe_json_get(old, "mean"), &mean_pe))
            cJSON_AddNumberToObject(cm, "mean_per_example", mean_pe);
        cJSON_ReplaceItemInObjectCaseSensitive(out, run->metrics[m], cm);
        fe_corpus_release(&c);
    }
    free(scores);
    free(cols);
    free(cluster);
    return out;
}
