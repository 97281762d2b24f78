/* human.h — the "human" block of summary.json (issue 12, docs/human-ratings.md). Owner: human
 * ratings.
 *
 * Built from RUN/human.jsonl (written by `fteval rate import`, rate.h) and the judgements in
 * the records, so every summary rebuild (run, score, merge, rate import) carries it. Per judge:
 *   arms             per arm the human win rate over its `against` arm (ties 1/2, pairwise) or
 *                    mean score (rubric), over the rated items (raters averaged per item),
 *                    with SE (ddof 1) and the normal interval at the run's alpha;
 *   inter_rater      Cohen's kappa and weighted kappa (linear, quadratic) per pair of raters
 *                    (their mean over pairs with 3+ raters), Fleiss' kappa over the items every
 *                    rater rated (3+ raters), Krippendorff's alpha nominal and ordinal over all
 *                    items (metrics/agreement.h); categories: loss < tie < win, or the scale;
 *   judge_agreement  every human rating against the judge's own answer on that item: Cohen's
 *                    kappa, quadratic weighted kappa, raw agreement and the confusion matrix
 *                    (rows: human, columns: judge);
 *   calibrated       per comparison (pairwise: arm vs against; rubric: each arm's mean and each
 *                    arm minus the baseline arm, paired by example) the judge-only, human-only
 *                    and prediction-powered estimates on the human scale (metrics/ppi.h) and
 *                    the effective number of human ratings the judge buys.
 * "agreement_reported" is true when some judge has a human-vs-judge or inter-rater agreement
 * number: the decision's evaluation dimension needs it for its top score.
 */
#ifndef FE_HUMAN_H
#define FE_HUMAN_H

#include <cjson/cJSON.h>

#include "harness/rundir/rundir.h"

/* Adds (or replaces) summary["human"] when RUN/human.jsonl exists; a human.jsonl that cannot
 * be read or parsed gives {"error": "..."} instead, so the problem is visible, never a silent
 * gap. Without human.jsonl the summary is unchanged. */
void fe_human_attach(const struct fe_run *run, cJSON *summary);

#endif
