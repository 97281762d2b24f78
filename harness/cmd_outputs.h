/* cmd_outputs.h — the last step of `fteval run` and `fteval score`: the command layer
 * orchestrates the analysis and the report, in this order:
 *   summary (summary.h) -> decision (decision.h) -> summary.json -> history.jsonl (history.h,
 *   for `run`) -> report.md / report.html (report.h) -> the per-arm table.
 * Analysis never calls the report: this file is the only place the two meet for a run.
 */
#ifndef FE_CMD_OUTPUTS_H
#define FE_CMD_OUTPUTS_H

#include <stdbool.h>

#include "harness/err.h"
#include "metrics/stats.h"

/* Loads dir, writes summary.json with the decision (opts NULL: settings from the manifest),
 * appends the run to history.jsonl when the manifest's command is "run" (a failure there only
 * warns), writes report.md and report.html, and prints the per-arm table when print is set.
 * Returns FE_OK or the first error, with err set. */
enum fe_status fe_outputs_write(const char *dir, const struct fe_stats_opts *opts, bool print,
                                struct fe_err *err);

#endif
