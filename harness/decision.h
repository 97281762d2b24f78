/* decision.h — the launch decision of summary.json (DESIGN §4 "decision"): verdict, reasons,
 * break-even and the 35-point readiness rubric. Owner: reporting.
 */
#ifndef FE_DECISION_H
#define FE_DECISION_H

#include <cjson/cJSON.h>

#include "harness/err.h"
#include "harness/rundir.h"

/* Builds the "decision" object from the run (records, manifest with the resolved config) and the
 * summary built so far ("arms" and "comparisons"). Returns a new object (caller deletes) or NULL
 * when the run has fewer than two arms. */
cJSON *fe_decision_build(const struct fe_run *run, const cJSON *summary, struct fe_err *err);

#endif
