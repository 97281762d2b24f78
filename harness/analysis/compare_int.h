/* compare_int.h — private to compare.c, compare_drift.c, compare_changes.c, compare_corpus.c,
 * compare_examples.c and compare_side.c. */
#ifndef FE_COMPARE_INT_H
#define FE_COMPARE_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "harness/rundir/rundir.h"
#include "metrics/stats.h"

struct fe_compare_opts; /* compare.h (not included: compare.c includes this header) */

/* One side of an arm pair over the n examples compared: where the record of each example is in
 * arm `arm` of run. Records are re-read with fe_side_rec when needed, never kept: the pointer
 * fe_arm_rec returns lives only to the end of its block (rundir.h). When the arm is aligned with
 * the examples compared (record i is example i for every i < n, the usual complete run) there is
 * no index at all: idx is NULL. */
#define FE_SIDE_MISSING UINT32_MAX  /* idx entry of an example the arm has no record of */
struct fe_side {
    const struct fe_run *run;    /* the run the records are from (their text: fe_run_record_text) */
    size_t arm;                  /* the arm's index in run */
    uint32_t *idx;               /* n record indices (FE_SIDE_MISSING when missing), or NULL:
                                  * aligned (owned: compare.c) */
};

/* Record i of side s decoded into *buf, or NULL when missing. */
const struct fe_record *fe_side_record(const struct fe_side *s, size_t i, struct fe_record *buf);
/* fe_side_record into a compound literal of the enclosing block (valid to its end). */
#define fe_side_rec(s, i) fe_side_record((s), (i), &(struct fe_record){0})
/* Sets example i (of n, set in order from 0) of s to record `at` of its arm (-1: none). While
 * record k is example k for every k so far, s keeps no index; the first one out of line makes
 * it (compare.c frees s->idx). */
void fe_side_put(struct fe_side *s, size_t i, size_t n, long at);
/* The index in its arm of the record of example i of s (which must have one). */
uint32_t fe_side_at(const struct fe_side *s, size_t i);
/* The n scores of each compared metric m < n_m of side s (the run's metric map[m]; a missing
 * record scores 0) into cols[m]: the arm's own columns when s is aligned (record i is example
 * i for every i < n: the usual complete run); else a copy, [m * n + i], which is returned
 * (caller frees; else NULL). */
double *fe_side_cols(const struct fe_side *s, const size_t *map, size_t n_m, size_t n,
                     struct fe_col *cols);

/* The broke/fixed entry of example id (compare_examples.c): its record a of run ra (baseline) and
 * b of rb (candidate), either NULL when missing; metric_a, metric_b: the listed metric's index
 * in each run. */
cJSON *fe_compare_example(const char *id, const struct fe_run *ra, const struct fe_record *a,
                          const struct fe_run *rb, const struct fe_record *b, size_t metric_a,
                          size_t metric_b);

/* Every broke/fixed example of a compare (compare_examples.c; compare.h). new: for the runs;
 * pairs: n arm pairs, in the result's order; add: an example to list fixed (else broke) of pair
 * p, named by a record of it: record rec of pair p's baseline arm, or (from_cand) of its
 * candidate arm; metrics: pair p's arms and the listed metric's index in each run. */
struct fe_compare_lists *fe_compare_lists_new(const struct fe_run *base, const struct fe_run *cand);
void fe_compare_lists_pairs(struct fe_compare_lists *l, size_t n);
void fe_compare_lists_add(struct fe_compare_lists *l, size_t p, bool fixed, bool from_cand,
                          uint32_t rec);
void fe_compare_lists_metrics(struct fe_compare_lists *l, size_t p, size_t arm_a, size_t arm_b,
                              size_t metric_a, size_t metric_b);

/* The "drift" object of one arm pair over n paired examples (compare_drift.c). */
cJSON *fe_compare_drift(const struct fe_side *sa, const struct fe_side *sb, size_t n,
                        const struct fe_compare_opts *o);

/* Adds to changes what differs between arm an of base and arm bn of cand, labelled label
 * (compare_changes.c). */
void fe_compare_arm_changes(cJSON *changes, const struct fe_run *base, const char *an,
                            const struct fe_run *cand, const char *bn, const char *label);
/* Adds to changes what differs between the runs' settings (template, defaults, seed, files). */
void fe_compare_run_changes(cJSON *changes, const struct fe_run *base, const struct fe_run *cand);

/* Corpus metrics (compare_corpus.c): rewrites the entry of metric in c1 (the statistics module's
 * comparisons at so1: arm 0 baseline, arm 1 candidate) and in c2 (at so2) with the corpus value,
 * the paired corpus bootstrap and approximate randomization over the n examples, as the summary
 * does (arm_metrics.h); a missing record counts as a failed example with the other side's gold.
 * Writes the corpus values of baseline and candidate to means[0], means[1]. Returns false (and
 * changes nothing) when metric is not a corpus metric or n < 2. */
bool fe_compare_corpus(const struct fe_side *sa, const struct fe_side *sb, size_t n,
                       const char *metric, unsigned long ar_seed, cJSON *c1,
                       const struct fe_stats_opts *so1, cJSON *c2, const struct fe_stats_opts *so2,
                       double means[2]);

#endif
