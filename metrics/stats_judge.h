/* stats_judge.h — statistics of model-graded metrics (issue 12, docs/judges.md).
 *
 * judge:NAME metrics are named by the config's "judges", not by the metric registry: a
 * "judge:NAME.pass" metric is binary (McNemar in the paired comparisons), "judge:NAME" is not.
 * A pairwise judge's per-example values are 1 (win), 0.5 (tie) and 0 (loss); its win rate counts
 * ties as one half, with a normal interval clamped to [0, 1], and the exact sign test of wins
 * against losses ignores ties: two-sided min(1, 2 P(Binom(w + l, 1/2) <= min(w, l))), which is
 * scipy.stats.binomtest(w, w + l, 0.5).pvalue (tests/judge_stats_test.py checks it).
 */
#ifndef FE_STATS_JUDGE_H
#define FE_STATS_JUDGE_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

/* Is name a judge metric ("judge:...")? Is it a binary one ("judge:NAME.pass")? */
bool fe_metric_is_judge(const char *name);
bool fe_metric_is_judge_pass(const char *name);

/* Exact two-sided sign test p of wins against losses (1 when both are 0). */
double fe_stats_sign_test(size_t wins, size_t losses);

/* {"n", "wins", "ties", "losses", "win_rate", "se", "ci": [lo, hi], "ci_method":
 * "normal_clamped", "ci_level", "sign_test": {"wins", "losses", "p"}} of pairwise values v[0..n)
 * (each 0, 0.5 or 1; n = 0: nulls). Caller deletes. */
cJSON *fe_stats_win_rate(const double *v, size_t n, double alpha);

#endif
