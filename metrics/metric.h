/* metric.h — per-example quality metrics and their registry.
 *
 * Every metric maps (prediction, golds) to a number in [0, 1]; a failed or missing generation
 * is scored as the prediction "" and stays in the denominator. Binary metrics (values 0 or 1)
 * get McNemar and the Wilson interval in the statistics. Metrics are looked up by name from a
 * const NULL-terminated registry; names are unique (checked by a test).
 */
#ifndef FE_METRIC_H
#define FE_METRIC_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

struct fe_gold {
    const char *const *golds;   /* at least one string; [""] = unanswerable */
    size_t n_golds;
    const cJSON *gold_json;     /* structured gold (extraction), or NULL */
    const cJSON *row;           /* the whole dataset row (tokens, entities), or NULL */
};

/* Corpus-level metrics (metrics/corpus.h) are recomputed from summed per-example counts; their
 * per-example score is only a per-example view (label correct, entity F1 of the example). */
enum fe_corpus_kind { FE_CORPUS_NONE = 0, FE_CORPUS_MACRO_F1, FE_CORPUS_MICRO_F1, FE_CORPUS_ENTITY_F1 };

typedef double (*fe_metric_fn)(const char *prediction, const struct fe_gold *gold);

struct fe_metric {
    const char *name;
    bool binary;
    fe_metric_fn score;
    const char *description;
    enum fe_corpus_kind corpus; /* FE_CORPUS_NONE: the metric is the mean of its scores */
};

/* Returns the metric called name, or NULL. */
const struct fe_metric *fe_metric_find(const char *name);
/* The registry: a NULL-terminated array of pointers. */
extern const struct fe_metric *const fe_metrics[];

#endif
