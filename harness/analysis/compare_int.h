/* compare_int.h — private to compare.c, compare_drift.c and compare_changes.c. */
#ifndef FE_COMPARE_INT_H
#define FE_COMPARE_INT_H

#include <stddef.h>

#include <cjson/cJSON.h>

#include "harness/rundir/rundir.h"
#include "metrics/stats.h"

struct fe_compare_opts; /* compare.h (not included: compare.c includes this header) */

/* One example of one side of an arm pair. */
struct fe_side {
    const struct fe_record *rec; /* NULL: missing */
    const struct fe_run *run;    /* the run rec is from (its text: fe_run_record_text) */
    struct fe_record buf;        /* the decoded record rec points to */
};

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
