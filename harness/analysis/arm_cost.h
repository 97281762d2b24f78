/* arm_cost.h — the per-arm "cost" and "latency_ms" objects of summary.json (DESIGN §4), computed
 * from a loaded run's records. Prices and quantiles come from metrics/cost.h; these live in
 * analysis because they read the results-directory types (rundir), which metrics may not use.
 * Every function returns a new cJSON tree (caller deletes) and never emits NaN or infinity.
 */
#ifndef FE_ARM_COST_H
#define FE_ARM_COST_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

#include "harness/rundir/rundir.h"
#include "metrics/cost.h"

/* The "cost" object of one arm in summary.json:
 *   {"priced", "total_usd", "spent_usd", "per_inference_usd", "per_1k_usd", "per_correct_usd",
 *    "saved_by_cache_usd", "n_priced", "n_unpriced"}
 * total_usd is the list price of every call the arm made (cache hits included, at the cost the
 * runner recorded for them), so arms compare fairly; saved_by_cache_usd is the part served from
 * the cache and spent_usd = total - saved. per_inference = total / n (every example, failures
 * included); per_correct = total / sum of the primary metric's scores (null when 0).
 * A record with cost_usd null counts as unpriced unless it failed without usage (nothing was
 * billed). Any unpriced record makes priced=false and every USD value null.
 * primary_metric_index indexes the run's metrics (must be < run->n_metrics), or FE_NO_METRIC
 * (per_correct_usd null). */
#define FE_NO_METRIC ((size_t)-1)
cJSON *fe_cost_arm_summary(const struct fe_arm_run *arm, size_t primary_metric_index);

/* The "latency_ms" object of one arm: {"n", "mean", "p50", "p90", "p95", "p99", "max"} over ok
 * records that were not cache hits (a cache hit measures the disk, not the endpoint).
 * Percentiles are type-7 (linear interpolation between order statistics, numpy's default and
 * gsl_stats_quantile_from_sorted_data). No such record: n = 0 and null values. */
cJSON *fe_latency_summary(const struct fe_arm_run *arm);

/* The quantiles q[0..nq) (type 7) of the latency_ms (ttft false) or ttft_ms (ttft true) of an
 * arm's answered, timed records (ok, not a cache hit, a finite value >= 0) into out, with their
 * count, sum and largest value: fe_sample_quantiles (metrics/cost.h) over the records, no copy
 * of them, and of the values only when they are not whole microseconds (issue 14). The
 * summary's "latency_ms" and the report's latency chart both read it. */
void fe_latency_quantiles(const struct fe_arm_run *arm, bool ttft, const double *q, size_t nq,
                          double *out, struct fe_sample_stats *st);

#endif
