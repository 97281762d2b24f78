/* summary.h — builds summary.json (DESIGN §4, contract) from a results directory.
 *
 * Per arm: n, n_errors, metrics (mean, se, ci, ...), usage, cost, latency; comparisons of every
 * arm against the baseline arm (paired by example id over the ids every arm recorded). The
 * launch decision is added by the caller (decision.h), so summary does not depend on decision
 * or on the report. Statistics settings come from the manifest's "stats" unless overridden.
 */
#ifndef FE_SUMMARY_H
#define FE_SUMMARY_H

#include <stdbool.h>

#include <cjson/cJSON.h>

#include "harness/err.h"
#include "harness/rundir.h"
#include "metrics/stats.h"

/* Builds the summary object of run (loaded with fe_run_load): schema, run_id, metrics, arms and
 * comparisons; the caller adds the "decision" (decision.h) and writes it (cmd_outputs.h does
 * both for `run` and `score`). opts NULL: settings from the manifest. Returns a new object, or
 * NULL with err set when the comparisons cannot be computed. */
cJSON *fe_summary_build(const struct fe_run *run, const struct fe_stats_opts *opts,
                        struct fe_err *err);

/* Writes json to path atomically (temporary file + rename), pretty-printed. */
enum fe_status fe_write_json_file(const char *path, const cJSON *json, struct fe_err *err);

/* Prints the short per-arm table to stdout. */
void fe_summary_print(const struct fe_run *run);

#endif
