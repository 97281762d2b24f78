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

struct fe_jsonschema;
struct fe_regex;

/* What the format metrics check against, from the task of the config (task.schema,
 * task.pattern), compiled once at load. Borrowed by the metrics; NULL members are absent. */
struct fe_metric_task {
    const struct fe_jsonschema *schema;
    const struct fe_regex *pattern;
};

struct fe_gold {
    const char *const *golds;   /* at least one string; [""] = unanswerable */
    size_t n_golds;
    const cJSON *gold_json;     /* structured gold (extraction), or NULL */
    const struct fe_metric_task *task; /* for metrics with needs; NULL for the others */
    const cJSON *row;           /* the whole dataset row (tokens, entities), or NULL */
};

/* What a metric needs from the task besides the golds (struct fe_metric.needs). Whoever
 * selects metrics checks fe_metric_missing first: a metric never scores without its input. */
enum fe_metric_needs {
    FE_METRIC_NEEDS_SCHEMA = 1u << 0,  /* task.schema */
    FE_METRIC_NEEDS_PATTERN = 1u << 1, /* task.pattern */
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
    unsigned needs;             /* enum fe_metric_needs */
    enum fe_corpus_kind corpus; /* FE_CORPUS_NONE: the metric is the mean of its scores */
};

/* Returns the metric called name, or NULL. */
const struct fe_metric *fe_metric_find(const char *name);
/* The config key m needs and task lacks ("task.schema", "task.pattern"), or NULL when m can be
 * scored (task NULL means neither is given). */
const char *fe_metric_missing(const struct fe_metric *m, const struct fe_metric_task *task);
/* The registry: a NULL-terminated array of pointers. */
extern const struct fe_metric *const fe_metrics[];

#endif
