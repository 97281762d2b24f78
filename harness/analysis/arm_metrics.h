/* arm_metrics.h — per-arm metrics over a subset of an arm's records, and records into corpus
 * counts: the one implementation the summary, its slices block and `compare` share.
 *
 * Corpus metrics (macro_f1, micro_f1, entity_f1: metrics/corpus.h) are not means of per-example
 * scores: their value is recomputed from summed counts, so every reader builds a struct
 * fe_corpus from the records with fe_corpus_put_record and uses metrics/stats_corpus.h.
 */
#ifndef FE_ARM_METRICS_H
#define FE_ARM_METRICS_H

#include <stddef.h>

#include <cjson/cJSON.h>

#include "harness/rundir/rundir.h"
#include "metrics/corpus.h"
#include "metrics/stats.h"

/* The corpus kind of a metric by name (FE_CORPUS_NONE: a per-example mean). */
enum fe_corpus_kind fe_run_metric_corpus(const char *name);

/* Adds record r as example i of arm slot a to corpus c, for metric: labels from the record's
 * prediction and gold; entity counts from its "corpus" object (or, for a record written before
 * entity_f1 existed, from its gold object by surfaces). */
void fe_corpus_put_record(struct fe_corpus *c, size_t a, size_t i, const struct fe_run *run,
                          const struct fe_record *r, const char *metric);
/* The same from a record's text (ok: the record's status was "ok"); r->json may be NULL. */
void fe_corpus_put_text(struct fe_corpus *c, size_t a, size_t i, bool ok,
                        const struct fe_record_text *r, const char *metric);

/* The "metrics" object of arm a over its records idx[0..n) (idx NULL: records 0..n-1):
 * fe_stats_arm_metrics per metric, corpus metrics replaced by fe_stats_corpus_arm (the
 * per-example mean kept as "mean_per_example"). Caller deletes. */
cJSON *fe_arm_metrics_of(const struct fe_run *run, size_t a, const size_t *idx, size_t n,
                         const struct fe_stats_opts *o);

#endif
