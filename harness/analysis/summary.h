/* summary.h — builds summary.json (DESIGN §4, contract) from a results directory.
 *
 * Per arm: n, n_errors, metrics (mean, se, ci, ...), usage, cost, latency; comparisons of every
 * arm against the baseline arm (paired by example id over the ids every arm recorded); the launch
 * decision. Statistics settings come from the manifest's "stats" unless overridden.
 * The decision (analysis/decision.h) and the reports (report/) are added by the caller that
 * orchestrates them: fe_outputs_write in harness/cli/outputs.h.
 */
#ifndef FE_SUMMARY_H
#define FE_SUMMARY_H

#include <stdbool.h>

#include <cjson/cJSON.h>

#include "harness/base/err.h"
#include "harness/rundir/rundir.h"
#include "metrics/stats.h"

/* Builds the summary of run (loaded with fe_run_load): schema, run_id, metrics, arms and
 * comparisons — everything but "decision", which the caller adds (fe_decision_build reads this
 * object) before saving. opts NULL: from the manifest. Returns NULL with err set (err->code may
 * be 0 for an internal failure). Caller owns the result until fe_summary_save. */
cJSON *fe_summary_build(const struct fe_run *run, const struct fe_stats_opts *opts, struct fe_err *err);

/* Adds the "batch" block (batch ids, counts, status) from <dir>/batch.journal when the run used
 * a batch API; nothing otherwise. (summary_batch.c) */
void fe_summary_add_batch(const struct fe_run *run, cJSON *summary);

/* Writes s to <dir>/summary.json atomically and stores it in run->summary (replacing any loaded
 * one; the run takes ownership of s even when the write fails). */
enum fe_status fe_summary_save(struct fe_run *run, cJSON *s, struct fe_err *err);

/* Prints the short per-arm table to stdout. */
void fe_summary_print(const struct fe_run *run);

#endif
