/* integrity.h — whether a run's evidence can carry a verdict (issue 11 §1). Owner: analysis.
 *
 * fe_integrity_annotate adds to summary.json (contract fields, DESIGN §7):
 *   "status": "complete" | "incomplete"   incomplete when any arm has fewer records than planned
 *   per arm "n_planned"      the examples the run set out to evaluate (manifest dataset.examples;
 *                            the arm's record count when the manifest does not say)
 *           "n_missing"      n_planned minus the examples that have a record (any status)
 *           "errors_by_kind" {kind: {"count", "http_status" (first seen, or null), "example_message"}}
 *           "n_refusals"     answered records whose finish_reason is "content_filter"
 * A shard (manifest "shard", `run --shard I/N`, docs/shards.md): n_planned is the shard's examples
 * (shard.examples), "status" is always "incomplete" (a shard is not the run) and a "shard" block
 * {"index", "count", "status": the shard's own completeness, "note"} is added; the gate below
 * makes its verdict "incomplete" (unless "invalid") with the reason "shard I/N: ... fteval merge".
 * fe_integrity_gate then overrides decision.verdict, judging the decision's baseline and
 * candidate arms only (the decision rules themselves never see it):
 *   "invalid"    an arm's failed fraction is above the error limit (manifest max_error_rate, else
 *                config max_error_rate, else decision.max_error_rate, else 0.05), or every example
 *                of an arm failed or was refused (an arm with no record at all counts too);
 *   "incomplete" otherwise, when examples are missing;
 * with "reasons" replaced by the cause (error kind, HTTP status, the server's message) and the
 * command that fixes it: `fteval run CONFIG --resume --out DIR` when a resume re-sends what is
 * missing or failed, else what to check and `fteval run CONFIG` for a new run.
 */
#ifndef FE_INTEGRITY_H
#define FE_INTEGRITY_H

#include <stdbool.h>

#include <cjson/cJSON.h>

#include "harness/rundir/rundir.h"

void fe_integrity_annotate(const struct fe_run *run, cJSON *summary);
void fe_integrity_gate(const struct fe_run *run, cJSON *summary);
/* True for the verdicts that mean "no verdict": "incomplete" and "invalid". */
bool fe_verdict_is_refusal(const char *verdict);

#endif
