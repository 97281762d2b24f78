/* compare.h — the regression gate and A/B check behind `fteval compare` (DESIGN §1 jobs 2-3).
 *
 * Pairs examples by id between an arm of a baseline run and an arm of a candidate run (or two
 * arms of one run), and per arm pair and metric computes both means, delta = candidate -
 * baseline, the paired CI and p-values (metrics/stats.h, with an analytic fallback), the MDE,
 * and a verdict. Adds drift tests between the outputs (metrics/drift.h), the examples the
 * candidate broke and fixed, and what changed between the runs. docs/nightly.md defines every
 * number; the result is the object written as compare.json.
 *
 * Ids: the examples compared are the union of the ids recorded in either run (any arm); an id
 * without a record on one side counts there as a failed example (score 0, status "missing").
 * When the held-out sets differ (dataset sha256 in the manifests) the comparison is refused,
 * or with allow_dataset_change runs on the ids recorded in both runs.
 */
#ifndef FE_COMPARE_H
#define FE_COMPARE_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

#include "harness/base/buf.h"
#include "harness/base/err.h"
#include "harness/rundir/rundir.h"

struct fe_compare_opts {
    const char *metric;            /* NULL: every metric both runs score */
    double margin;                 /* non-inferiority margin, default 0.02 (absolute, fraction) */
    double alpha;                  /* default 0.05 */
    unsigned long seed;            /* default: the baseline manifest's stats.seed, else 20261124 */
    size_t resamples;              /* default: the manifest's stats.resamples, else 10000 */
    bool seed_set, resamples_set;  /* set when given on the command line */
    const char *arm_baseline;      /* --arms A,B / --a A --b B; NULL: all arms in both runs */
    const char *arm_candidate;
    bool ab;                       /* two arms of one run (baseline == candidate run) */
    bool allow_dataset_change;
    bool fail_inconclusive;        /* exit 1 on inconclusive too */
    bool fail_drift;               /* exit 1 when drift is flagged */
    size_t top_k;                  /* prediction categories in the label-drift test, default 10 */
};

void fe_compare_opts_default(struct fe_compare_opts *o);

/* Compares cand against base (the same run for the A/B form). On FE_OK *out is the compare.json
 * object (caller deletes with cJSON_Delete). Unusable input returns FE_EINVALID with err set
 * (no common arms, unknown arm or metric, held-out sets differ without allow_dataset_change);
 * for a refused dataset change *out is still set, with "verdict": "refused" and the added and
 * removed ids under "dataset", so the caller can list them. */
enum fe_status fe_compare_runs(const struct fe_run *base, const struct fe_run *cand,
                               const struct fe_compare_opts *o, cJSON **out, struct fe_err *err);

/* Every broke/fixed example of a compare, kept as record indices (4 bytes each), each built
 * from the runs' records only while it is written (compare_examples.c). */
struct fe_compare_lists;

/* fe_compare_runs, but each broke/fixed list of *out holds only its first keep examples (its
 * "count" is still the total) and *lists (when lists is not NULL) keeps every example by record,
 * for fe_compare_print; the runs must outlive it. On an error *lists is NULL. Free with
 * fe_compare_lists_free (NULL is a no-op). */
enum fe_status fe_compare_runs_lists(const struct fe_run *base, const struct fe_run *cand,
                                     const struct fe_compare_opts *o, size_t keep, cJSON **out,
                                     struct fe_compare_lists **lists, struct fe_err *err);
void fe_compare_lists_free(struct fe_compare_lists *l);
/* The examples of list fixed (else broke) of arm pair p (the p-th entry of "arms"); example k
 * of it as its compare.json entry (caller deletes), NULL when k is out of range. */
size_t fe_compare_lists_count(const struct fe_compare_lists *l, size_t p, bool fixed);
cJSON *fe_compare_lists_example(const struct fe_compare_lists *l, size_t p, bool fixed, size_t k);

/* Hands put the text cJSON_Print gives for result, with every example of lists in the broke and
 * fixed lists (lists NULL: result as it is), in pieces: no more than one example is held at a
 * time. result is changed while printing and restored before returning. */
void fe_compare_print(cJSON *result, const struct fe_compare_lists *lists,
                      void (*put)(void *ctx, const char *s, size_t n), void *ctx);

/* The process exit code for a result: 1 when any verdict is "regression" (or "inconclusive"
 * with fail_inconclusive, or drift flagged with fail_drift), 3 when refused, else 0. */
int fe_compare_exit_code(const cJSON *result);

/* Appends the readable report (tables, drift, broke/fixed lists capped at max_list each) to out.
 * Model text is escaped for the terminal (fe_compare_add_term). */
void fe_compare_render_text(const cJSON *result, size_t max_list, struct fe_buf *out);

/* Appends s made safe for a terminal: control characters (C0, DEL, C1) and invalid UTF-8 become
 * \n, \t, \xNN escapes, so model text cannot move the cursor or change colours. At most
 * max_chars characters are written (0 = no limit), then "...". NULL appends "null". */
void fe_compare_add_term(struct fe_buf *out, const char *s, size_t max_chars);

/* The verdict of one comparison (pure; exposed for tests). Inputs: delta, the one-sided
 * (1 - alpha) lower and upper bounds, the p-value compared with alpha (adjusted), margin, and
 * the Monte Carlo bands: p_band (0 for an exact p) and bound_band (0 for an analytic bound).
 *   regression   upper < -margin, or (p < alpha and delta < -margin)
 *   improvement  p < alpha and delta > 0 (and not a regression)
 *   pass         lower > -margin (non-inferior)
 *   inconclusive otherwise
 * When p lies within p_band of alpha, or the lower bound within bound_band of -margin, and the
 * verdict would differ on the other side, the verdict is "inconclusive". Returns a static string;
 * *why (optional) gets a static explanation of the deciding rule. */
const char *fe_compare_verdict(double delta, double lower, double upper, double p, double alpha,
                               double margin, double p_band, double bound_band, const char **why);

/* ---- compare.json, typed (compare_view.c) -------------------------------------------------
 * What the text report, JUnit and the exit code read from a result: parsed in one place.
 * As in rundir.h: absent strings are NULL, absent numbers NAN, lists have counts; strings
 * and the JSON values kept as such (a gold, a changed field) are borrowed from the result. */

struct fe_compare_example_view {
    const char *id, *baseline_prediction, *candidate_prediction, *candidate_status;
    const cJSON *gold;               /* any JSON value (string, list, ...); NULL when absent */
    const char *baseline_status;
    const char *input;               /* the record's rendered input, NULL when not recorded */
    bool input_truncated;
    double baseline_score, candidate_score;
};

/* "broke" / "fixed" of an arm. */
struct fe_compare_list_view {
    const char *metric;
    double count;
    struct fe_compare_example_view *examples;
    size_t n_examples;
};

struct fe_compare_category_view {
    const char *label;
    double baseline, candidate;
};

struct fe_compare_drift_test_view {
    const char *name, *test;         /* test: chi_square, paired_t or mcnemar_exact */
    double p, stat, df, mean_baseline, mean_candidate, rate_baseline, rate_candidate;
    bool flagged;
    struct fe_compare_category_view *categories;
    size_t n_categories;
};

struct fe_compare_metric_view {
    const char *metric, *verdict, *reason;
    double n, mean_baseline, mean_candidate, delta, ci_lo, ci_hi, lower_bound, upper_bound,
        margin, p, p_adjusted, mde;
};

struct fe_compare_arm_view {
    const char *name, *baseline_arm, *candidate_arm;
    double n, n_errors_baseline, n_errors_candidate, n_missing_baseline, n_missing_candidate;
    struct fe_compare_metric_view *metrics;
    size_t n_metrics;
    bool drift_flagged;
    struct fe_compare_drift_test_view *drift;
    size_t n_drift;
    struct fe_compare_list_view broke, fixed;
};

struct fe_compare_change_view {
    const char *arm, *field;         /* arm NULL: a run-level change */
    const cJSON *baseline, *candidate;
};

struct fe_compare_view {
    const char *mode, *verdict, *baseline_dir, *candidate_dir;
    double margin, alpha, resamples, seed;
    bool fail_on_inconclusive, fail_on_drift;
    bool dataset_same;
    const char **added, **removed;   /* ids ("dataset"); an entry is NULL when not a string */
    size_t n_added, n_removed;
    const char **warnings;           /* an entry is NULL when the warning is not a string */
    size_t n_warnings;
    struct fe_compare_change_view *changes;
    size_t n_changes;
    struct fe_compare_arm_view *arms;
    size_t n_arms;
    double n_pass, n_improvement, n_inconclusive, n_regression; /* "counts" */
    bool drift_flagged;
};

void fe_compare_view_parse(const cJSON *result, struct fe_compare_view *out);
/* One entry of a "broke" / "fixed" list (fe_compare_lists_example). */
void fe_compare_example_view_parse(const cJSON *example, struct fe_compare_example_view *out);
void fe_compare_view_release(struct fe_compare_view *v);
/* fe_compare_exit_code of a parsed result. */
int fe_compare_view_exit_code(const struct fe_compare_view *v);

#endif
