/* decision.h — the launch decision of summary.json (DESIGN §4 "decision"): verdict, reasons,
 * break-even and the 35-point readiness rubric. Owner: reporting. Rules: docs/decision.md.
 *
 * Everything is computed from what fteval can see: the run's manifest (with the resolved config),
 * its records, and the summary built so far. Config keys read (all optional):
 *   baseline_arm, candidate_arm            (manifest top level first, then config)
 *   decision.margin (0.01), decision.min_relative_saving (0.05), decision.max_error_rate (0.05)
 *   training.cost_usd, training.trained_tokens, prices (to price trained_tokens)
 *   traffic.requests_per_month, budget.max_usd
 *   evidence.{expert_reviewed, human_ratings, data_check, monitoring, rag_tried}
 */
#ifndef FE_DECISION_H
#define FE_DECISION_H

#include <stdbool.h>

#include <cjson/cJSON.h>

#include "harness/base/err.h"
#include "harness/rundir/rundir.h"

/* Builds the "decision" object from the run (records, manifest with the resolved config) and the
 * summary built so far ("arms" and "comparisons"; either may be missing, then cost and latency
 * come from the records and the verdict is inconclusive). Returns a new object (caller deletes),
 * or NULL when the run has fewer than two arms (err untouched), or NULL with err set
 * (FE_EINVALID) when baseline_arm or candidate_arm names an arm the run does not have. */
cJSON *fe_decision_build(const struct fe_run *run, const cJSON *summary, struct fe_err *err);

/* Rubric band of a total out of 35: >= 28 "justified", 21..27 "needs_more_evaluation",
 * else "premature". */
const char *fe_rubric_band(int total);

/* Requests needed for savings to pay back training: ceil(training / savings) when savings > 0
 * and training >= 0; otherwise false (break_even_requests is null). */
bool fe_break_even_requests(double training_usd, double savings_per_request_usd, double *requests);

/* Short label of a metric for sentences ("exact_match" -> "EM", "f1" -> "F1", else the name).
 * Returns a static string or name itself. */
const char *fe_metric_label(const char *metric);

/* One comparison of summary.json in plain words, e.g.
 * "finetuned beats prompted by +6.0 EM points (95% CI +2.0 to +10.0, p = 0.003 after Holm)",
 * or for a non-significant result "no significant difference between ... ; the smallest
 * difference this run could detect (MDE) is 5.0 points". Newly allocated (caller frees);
 * not escaped. */
char *fe_comparison_sentence(const cJSON *comparison);
/* The same from the typed comparison (rundir.h). */
char *fe_comparison_sentence_view(const struct fe_summary_comparison *comparison);

#endif
