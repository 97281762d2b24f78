/* summary.h — builds summary.json (DESIGN §4, contract) from a results directory.
 *
 * Per arm: n, n_errors, metrics (mean, se, ci, ...), usage, cost, latency; comparisons of every
 * arm against the baseline arm (paired by example id over the ids every arm recorded); the launch
 * decision. Statistics settings come from the manifest's "stats" unless overridden.
 */
#ifndef FE_SUMMARY_H
#define FE_SUMMARY_H

#include <stdbool.h>

#include <cjson/cJSON.h>

#include "harness/base/err.h"
#include "harness/rundir/rundir.h"
#include "metrics/stats.h"

/* Builds the summary of run (loaded with fe_run_load), writes <dir>/summary.json and stores the
 * object in run->summary (replacing any loaded one). opts NULL: from the manifest. */
enum fe_status fe_summary_write(struct fe_run *run, const struct fe_stats_opts *opts, struct fe_err *err);

/* Writes json to path atomically (temporary file + rename), pretty-printed. */
enum fe_status fe_write_json_file(const char *path, const cJSON *json, struct fe_err *err);

/* The last step of `run` and `score`: loads dir, writes summary.json (opts NULL: settings from
 * the manifest), report.md and report.html, and prints the per-arm table when print is set. */
enum fe_status fe_outputs_write(const char *dir, const struct fe_stats_opts *opts, bool print,
                                struct fe_err *err);

/* Prints the short per-arm table to stdout. */
void fe_summary_print(const struct fe_run *run);

#endif
