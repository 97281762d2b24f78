/* report.h — renders report.md and report.html from a results directory.
 * Owner: reporting. Reads manifest.json, summary.json and the <arm>.jsonl files; writes
 * nothing else. Every string from data or a model is escaped.
 */
#ifndef FE_REPORT_H
#define FE_REPORT_H

#include "harness/err.h"
#include "harness/rundir.h"

/* Writes <run->dir>/report.md and report.html. run->summary must be loaded. */
enum fe_status fe_report_write(const struct fe_run *run, struct fe_err *err);

#endif
