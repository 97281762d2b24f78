/* slices.h — the "slices" block of summary.json (issue 13): per-slice metrics per arm and
 * per-slice paired comparisons of every arm against the baseline arm.
 *
 * A record's "slice" (the dataset's slice field: "slice", or task.slice_field) puts its example
 * in a slice. For each slice (in byte order of the names) and arm: the arm's "metrics" object
 * over that slice's records (arm_metrics.h: means and CIs, corpus metrics recomputed). For each
 * arm but the baseline and each slice: the paired comparison on the primary metric over the
 * examples both arms recorded in that slice — the same paired test as the summary's comparisons
 * (fe_stats_compare_pair: McNemar for binary metrics, the paired bootstrap otherwise; the corpus
 * bootstrap and approximate randomization for corpus metrics) — when it has at least min_n
 * pairs (task.slice_min_n, default 10); smaller slices are listed with "tested": false. The
 * tested slices of one arm form one family, corrected together (stats.correction, Holm by
 * default: metrics/stats_holm.h); "worse" is true when the arm is significantly worse than the
 * baseline there after that correction — the decision reads it (decision_slices.c).
 *
 * Block: {"field", "metric", "baseline_arm", "min_n", "alpha", "adjustment",
 *         "slices": [{"name", "arms": {ARM: {"n", "metrics": {...}}}}],
 *         "comparisons": [{"slice", "a", "b", "metric", "n", "tested", ... the fields of a
 *                          summary comparison when tested ..., "family": "slices", "worse"}]}
 */
#ifndef FE_SLICES_H
#define FE_SLICES_H

#include <cjson/cJSON.h>

#include "harness/rundir/rundir.h"
#include "metrics/stats.h"

/* Adds "slices" to summary when a record of the run has a slice (else leaves it unchanged). */
void fe_slices_attach(const struct fe_run *run, cJSON *summary, const struct fe_stats_opts *o);

#endif
