/* outputs.h — the last step of `run`, `score` and `merge`: every output file of a results directory.
 * It orchestrates layers that must not call each other: the summary (analysis/summary.h), the
 * launch decision (analysis/decision.h) that reads it, the trend file (analysis/history.h) and
 * the reports (report/report.h). */
#ifndef FE_OUTPUTS_H
#define FE_OUTPUTS_H

#include <stdbool.h>

#include "harness/base/err.h"
#include "metrics/stats.h"

/* Loads dir, writes summary.json (with "decision"; opts NULL: settings from the manifest),
 * appends the trend entry for a `run`, writes report.md and report.html, and prints the per-arm
 * table when print is set. */
enum fe_status fe_outputs_write(const char *dir, const struct fe_stats_opts *opts, bool print,
                                struct fe_err *err);

/* Rewrites summary.json (settings from the manifest), report.md and report.html of the finished
 * run in dir — no trend entry, no table: for commands that add an input to the summary after
 * the run (`rate import` adds human.jsonl). */
enum fe_status fe_outputs_refresh(const char *dir, struct fe_err *err);

#endif
