/* summary_judges.h — summary.json "judges" and per-arm cost.judge_usd (issue 12, docs/judges.md). */
#ifndef FE_SUMMARY_JUDGES_H
#define FE_SUMMARY_JUDGES_H

#include <cjson/cJSON.h>

#include "harness/rundir/rundir.h"
#include "metrics/stats.h"

/* Adds the judges block to s (a summary with its "arms") when the manifest lists judges. */
void fe_summary_judges(const struct fe_run *run, cJSON *s, const struct fe_stats_opts *o);

#endif
