/* registry.c — the metric registry of metric.h: SQuAD EM/F1, label accuracy, JSON
 * extraction metrics and the format metrics. Definitions in docs/metrics.md. */
#include "metrics/metric.h"

#include <string.h>

#include "metrics/corpus.h"
#include "metrics/extract.h"
#include "metrics/jsonschema.h"
#include "metrics/regex.h"
#include "metrics/squad.h"
#include "metrics/unicode.h"

static const char *const fe_unanswerable[] = {""};

/* golds as the SQuAD functions take them; a NULL gold or no golds is [""] */
static const char *const *gold_list(const struct fe_gold *gold, size_t *n)
{
    if (!gold || !gold->golds || gold->n_golds == 0) {
        *n = 1;
        return fe_unanswerable;
    }
    *n = gold->n_golds;
    return gold->golds;
}

static double score_em(const char *prediction, const struct fe_gold *gold)
{
    size_t n;
    const char *const *g = gold_list(gold, &n);
    return fe_squad_em(prediction ? prediction : "", g, n);
}

static double score_f1(const char *prediction, const struct fe_gold *gold)
{
    size_t n;
    const char *const *g = gold_list(gold, &n);
    return fe_squad_f1(prediction ? prediction : "", g, n);
}

/* Label classification: the prediction stripped of surrounding (Unicode) whitespace equals one
 * gold byte for byte (case-sensitive; golds are used as given). */
static double score_accuracy(const char *prediction, const struct fe_gold *gold)
{
    size_t n, len;
    const char *const *g = gold_list(gold, &n);
    const char *p = fe_uc_strip(prediction ? prediction : "", &len);
    for (size_t i = 0; i < n; i++) {
        const char *gi = g[i] ? g[i] : "";
        if (strlen(gi) == len && memcmp(gi, p, len) == 0)
            return 1.0;
    }
    return 0.0;
}

/* The structured gold: gold_json, else the first gold parsed as JSON (dataset.h stores the
 * canonical JSON text there). Returns a borrowed or newly parsed tree (*owned set). */
static const cJSON *gold_object(const struct fe_gold *gold, cJSON **owned)
{
    *owned = NULL;
    if (!gold)
        return NULL;
    if (gold->gold_json)
        return gold->gold_json;
    if (gold->golds && gold->n_golds > 0 && gold->golds[0])
        *owned = cJSON_Parse(gold->golds[0]);
    return *owned;
}

static double score_json(const char *prediction, const struct fe_gold *gold, bool exact)
{
    cJSON *owned;
    const cJSON *g = gold_object(gold, &owned);
    cJSON *p = fe_extract_parse(prediction);
    double v = exact ? fe_extract_json_exact(p, g) : fe_extract_field_f1(p, g);
    cJSON_Delete(p);
    cJSON_Delete(owned);
    return v;
}

static double score_json_exact(const char *prediction, const struct fe_gold *gold)
{
    return score_json(prediction, gold, true);
}

static double score_field_f1(const char *prediction, const struct fe_gold *gold)
{
    return score_json(prediction, gold, false);
}

/* Format (docs/metrics.md §4). json_valid: the fence-stripped prediction is one JSON text. */
static double score_json_valid(const char *prediction, const struct fe_gold *gold)
{
    (void)gold;
    cJSON *p = fe_extract_parse_json(prediction);
    double v = p ? 1.0 : 0.0;
    cJSON_Delete(p);
    return v;
}

/* schema_valid: json_valid and the value satisfies task.schema. */
static double score_schema_valid(const char *prediction, const struct fe_gold *gold)
{
    if (!gold || !gold->task || !gold->task->schema)
        return 0.0; /* unreachable: fe_metric_missing is checked where metrics are chosen */
    cJSON *p = fe_extract_parse_json(prediction);
    double v = p && fe_jsonschema_valid(gold->task->schema, p) ? 1.0 : 0.0;
    cJSON_Delete(p);
    return v;
}

/* regex: the whole prediction, as generated (no stripping), matches task.pattern. */
static double score_regex(const char *prediction, const struct fe_gold *gold)
{
    if (!gold || !gold->task || !gold->task->pattern)
        return 0.0; /* unreachable, as above */
    const char *p = prediction ? prediction : "";
    return fe_regex_match(gold->task->pattern, p, strlen(p), true) == 1 ? 1.0 : 0.0;
}

static double score_contains(const char *prediction, const struct fe_gold *gold)
{
    size_t n;
    const char *const *g = gold_list(gold, &n);
    return fe_squad_contains(prediction ? prediction : "", g, n);
}

static const struct fe_metric fe_metric_exact_match = {
    .name = "exact_match",
    .binary = true,
    .score = score_em,
    .description = "SQuAD exact match after normalisation, max over golds (v2.0 empty rule)",
};

static const struct fe_metric fe_metric_f1 = {
    .name = "f1",
    .binary = false,
    .score = score_f1,
    .description = "SQuAD token F1 (multiset) after normalisation, max over golds",
};

static const struct fe_metric fe_metric_accuracy = {
    .name = "accuracy",
    .binary = true,
    .score = score_accuracy,
    .description = "label accuracy: stripped prediction equals a gold exactly (case-sensitive)",
};

static const struct fe_metric fe_metric_json_exact = {
    .name = "json_exact",
    .binary = true,
    .score = score_json_exact,
    .description = "prediction JSON object equals the gold object (values SQuAD-normalised)",
};

static const struct fe_metric fe_metric_field_f1 = {
    .name = "field_f1",
    .binary = false,
    .score = score_field_f1,
    .description = "micro F1 over (key, normalised value) pairs of the JSON objects",
};

static const struct fe_metric fe_metric_json_valid = {
    .name = "json_valid",
    .binary = true,
    .score = score_json_valid,
    .description = "the prediction (a ``` fence unwrapped) is one RFC 8259 JSON text",
};

static const struct fe_metric fe_metric_schema_valid = {
    .name = "schema_valid",
    .binary = true,
    .score = score_schema_valid,
    .description = "the prediction is JSON (as json_valid) and valid against task.schema",
    .needs = FE_METRIC_NEEDS_SCHEMA,
};

static const struct fe_metric fe_metric_regex = {
    .name = "regex",
    .binary = true,
    .score = score_regex,
    .description = "the whole prediction matches task.pattern (PCRE2)",
    .needs = FE_METRIC_NEEDS_PATTERN,
};

static const struct fe_metric fe_metric_contains = {
    .name = "contains",
    .binary = true,
    .score = score_contains,
    .description = "a gold occurs in the prediction as whole tokens after SQuAD normalisation",
};

/* Corpus metrics (corpus.h): the per-example view. Labels: 1 when the label is right (the
 * corpus value is recomputed from the label pairs); entities: the example's entity F1. */
static double score_label_corpus(const char *prediction, const struct fe_gold *gold)
{
    return score_accuracy(prediction, gold);
}

static double score_entity_f1(const char *prediction, const struct fe_gold *gold)
{
    return fe_corpus_entity_example_f1(fe_corpus_entity_counts(prediction ? prediction : "", gold));
}

static const struct fe_metric fe_metric_macro_f1 = {
    .name = "macro_f1",
    .binary = false,
    .score = score_label_corpus,
    .description = "corpus macro F1 over labels (union of gold and predicted), per-class table "
                   "and confusion matrix",
    .corpus = FE_CORPUS_MACRO_F1,
};

static const struct fe_metric fe_metric_micro_f1 = {
    .name = "micro_f1",
    .binary = false,
    .score = score_label_corpus,
    .description = "corpus micro F1 over labels (pooled counts; equals accuracy for one label)",
    .corpus = FE_CORPUS_MICRO_F1,
};

static const struct fe_metric fe_metric_entity_f1 = {
    .name = "entity_f1",
    .binary = false,
    .score = score_entity_f1,
    .description = "corpus entity F1, conlleval-style exact span and type (micro P/R/F1)",
    .corpus = FE_CORPUS_ENTITY_F1,
};

const struct fe_metric *const fe_metrics[] = {
    &fe_metric_exact_match, &fe_metric_f1,           &fe_metric_accuracy,
    &fe_metric_json_exact,  &fe_metric_field_f1,     &fe_metric_json_valid,
    &fe_metric_schema_valid, &fe_metric_regex,       &fe_metric_contains,
    &fe_metric_macro_f1,    &fe_metric_micro_f1,     &fe_metric_entity_f1,
    NULL,
};

const char *fe_metric_missing(const struct fe_metric *m, const struct fe_metric_task *task)
{
    if ((m->needs & FE_METRIC_NEEDS_SCHEMA) && !(task && task->schema))
        return "task.schema";
    if ((m->needs & FE_METRIC_NEEDS_PATTERN) && !(task && task->pattern))
        return "task.pattern";
    return NULL;
}

const struct fe_metric *fe_metric_find(const char *name)
{
    if (!name)
        return NULL;
    for (size_t i = 0; fe_metrics[i]; i++)
        if (strcmp(fe_metrics[i]->name, name) == 0)
            return fe_metrics[i];
    return NULL;
}
