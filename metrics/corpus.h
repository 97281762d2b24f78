/* corpus.h — corpus-level metrics (STATISTICS.md §6): macro_f1, micro_f1 over labels and
 * entity_f1 (conlleval exact span and type). Owner: metrics (issue 13, corpus-level part).
 *
 * A corpus metric is not a mean of per-example scores: each example contributes counts, and the
 * metric is recomputed from the summed counts. This module turns per-example predictions into
 * those contributions (struct fe_corpus: paired across arms, row i is the same example in every
 * arm), computes the metric over any multiset of examples and describes it (per-class table,
 * confusion matrix, entity counts). The resampling statistics over it are in stats_corpus.c.
 *
 * Labels (macro_f1, micro_f1): the prediction stripped of surrounding Unicode whitespace, as
 * `accuracy` compares it (case-sensitive, byte for byte). The gold label is the gold the
 * prediction equals, else the first gold. The class set is the union of gold and predicted
 * labels of the examples scored (scikit-learn's labels = unique_labels(y_true, y_pred)); per
 * class F1_c = 2 tp / (2 tp + fp + fn) (never 0/0 for a class of the union), P and R 0 when
 * their denominator is 0 (zero_division = 0). macro = mean over the class set; micro from the
 * pooled counts, which for one label per example equals accuracy.
 *
 * Entities (entity_f1): an entity is (type, start, end) in token offsets. Gold entities come
 * from the dataset row's "entities" ([{"type", "start", "end"}]) when present, else from the
 * gold object {type: [surface...]} aligned to the row's "tokens". A prediction may be
 * - a list of entities [{"type", "start", "end"}, ...] (or an object {"entities": [...]}):
 *   spans as given (a list item without start/end is a surface, as below);
 * - an object {type: [surface, ...]} (surfaces in sentence order, as the datasets give gold):
 *   each surface is aligned to the row's tokens (surface = tokens joined by one space): types
 *   are taken longest surface first (then by name), each type's surfaces left to right from the
 *   end of its previous one, never over tokens another entity took. The alignment is a
 *   reconstruction: when a surface repeats in a sentence it may pick another occurrence than
 *   the system meant (docs/metrics.md gives the measured effect on WNUT-17).
 * Without tokens in the row, entities are matched as (type, surface) multisets. A prediction
 * that is not valid JSON of either shape predicts no entity. tp = |pred ∩ gold| (spans are a set),
 * P = tp / pred, R = tp / gold, F1 = 2PR/(P+R) = 2 tp / (pred + gold), each 0 when undefined.
 */
#ifndef FE_CORPUS_H
#define FE_CORPUS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "metrics/metric.h"

/* Counts one example contributes to entity_f1. */
struct fe_entity_counts {
    long tp, pred, gold;
};

/* The label pair of one classification example: *pred_out (length *pred_len, borrowed from
 * prediction) and the gold label (borrowed from golds). */
void fe_corpus_label_pair(const char *prediction, const char *const *golds, size_t n_golds,
                          const char **pred_out, size_t *pred_len, const char **gold_out);

/* The entity counts of one example (gold->row gives "entities"/"tokens"). */
struct fe_entity_counts fe_corpus_entity_counts(const char *prediction, const struct fe_gold *gold);

/* Per-example F1 of the entity counts: 2 tp / (pred + gold), 1 when both are empty. */
double fe_corpus_entity_example_f1(struct fe_entity_counts c);

/* The contributions of n paired examples for n_arms arms. Classification: label ids into
 * classes[] (sorted bytewise ascending), gold[a * n + i] and pred[a * n + i]. Entities:
 * ent[a * n + i]. Build with fe_corpus_init + fe_corpus_add_* for every (arm, example), then
 * fe_corpus_finish. */
struct fe_corpus {
    enum fe_corpus_kind kind;
    size_t n, n_arms;
    size_t n_classes;
    char **classes;
    uint32_t *gold, *pred;
    struct fe_entity_counts *ent;
    void *priv; /* label map while building */
};

void fe_corpus_init(struct fe_corpus *c, enum fe_corpus_kind kind, size_t n, size_t n_arms);
/* Classification example i of arm a: the label pair (fe_corpus_label_pair). */
void fe_corpus_add_labels(struct fe_corpus *c, size_t a, size_t i, const char *pred,
                          size_t pred_len, const char *gold);
void fe_corpus_add_entities(struct fe_corpus *c, size_t a, size_t i, struct fe_entity_counts e);
/* Sorts the class names and renumbers the ids. */
void fe_corpus_finish(struct fe_corpus *c);
void fe_corpus_release(struct fe_corpus *c);

/* The summed counts of one arm over a multiset of examples: classification tp[k], gcount[k],
 * pcount[k] (arrays of n_classes) or entity totals. */
double fe_corpus_value_counts(enum fe_corpus_kind kind, size_t n_classes, const uint32_t *tp,
                              const uint32_t *gcount, const uint32_t *pcount,
                              const long ent[3]);

/* The metric of arm a over all n examples. */
double fe_corpus_value(const struct fe_corpus *c, size_t a);

/* The description of arm a, for summary.json: classification {"convention", "n_classes",
 * "macro_f1", "micro_f1", "per_class": [{"label", "precision", "recall", "f1", "support",
 * "predicted"}...] (every class, sorted by label), "confusion": {"labels": [...], "matrix":
 * [[gold row][pred col]...], "shown", "total_classes", "note"?}} with the confusion matrix
 * capped at max_labels classes (the most frequent by gold support, then predictions, then
 * name; the rest pooled into a last "(other)" row and column when any is cut); entities
 * {"tp", "pred", "gold", "precision", "recall", "f1"}. Caller deletes. */
cJSON *fe_corpus_describe(const struct fe_corpus *c, size_t a, size_t max_labels);

#endif
