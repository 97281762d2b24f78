/* stats.h — per-arm uncertainty and paired comparisons (STATISTICS.md §2–§4).
 * The only module that includes GSL. Owner: statistics.
 *
 * Input is a score table: for each arm and metric, one score per example, all arms paired by
 * example (row i is the same example in every arm). The same seed gives byte-identical output.
 */
#ifndef FE_STATS_H
#define FE_STATS_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

#include "harness/err.h"

struct fe_score_table {
    size_t n;                   /* paired examples */
    size_t n_arms;
    const char *const *arm_names;
    size_t n_metrics;
    const char *const *metric_names;
    const bool *metric_binary;  /* per metric */
    const double *scores;       /* scores[(arm * n_metrics + metric) * n + i] */
    const char *const *cluster; /* per example cluster key, or NULL for none */
};

enum fe_correction { FE_CORRECTION_HOLM = 0, FE_CORRECTION_NONE, FE_CORRECTION_BONFERRONI };

struct fe_stats_opts {
    unsigned long seed;         /* default 20261124 */
    size_t resamples;           /* B, default 10000 */
    double alpha;               /* default 0.05 */
    enum fe_correction correction;
};

void fe_stats_opts_default(struct fe_stats_opts *o);

/* Called once from main: turns GSL's abort-on-error handler off. */
void fe_stats_global_init(void);

/* The "metrics" object of one arm in summary.json:
 * {"exact_match": {"mean", "se", "ci": [lo, hi], "wilson": [lo, hi] (binary), "se_clustered"?,
 *  "n_clusters"?}, ...}. Never NaN: empty arms give null values. Caller deletes. */
cJSON *fe_stats_arm_metrics(const struct fe_score_table *t, size_t arm);

/* The "comparisons" array of summary.json: every arm against baseline_arm for every metric,
 * adjusted over that family. Fields as DESIGN §4 plus those of the statistics issue.
 * Returns NULL with err set on invalid input. Caller deletes. */
cJSON *fe_stats_comparisons(const struct fe_score_table *t, size_t baseline_arm,
                            const struct fe_stats_opts *o, struct fe_err *err);

#endif
