/* decision_int.h — private to decision.c and decision_rubric.c: the facts the launch decision
 * is computed from (one comparison normalised to candidate - baseline, per-arm facts, the
 * context), and the helpers both files use. */
#ifndef FE_DECISION_INT_H
#define FE_DECISION_INT_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

#include "harness/rundir/rundir.h"

/* ---- one comparison, normalised to candidate - baseline ----------------------------------- */

struct fe_cmp {
    bool found;
    bool alpha_given; /* the comparison states its alpha */
    double delta, lo, hi, se, p, mde, n_needed, alpha, n, lower_one_sided;
    bool has_ci, has_se, has_p, has_mde, has_n_needed, has_lower;
    bool significant;
    bool borderline; /* p within Monte Carlo error of alpha ("inconclusive": true) */
    const char *adjustment;
};

/* ---- per-arm facts ------------------------------------------------------------------------ */

struct fe_arm_facts {
    const char *name, *model;
    bool is_ft, prompted_system, prompted_few_shot;
    bool has_system_sha256, has_few_shot_sha256; /* recorded in the manifest */
    double training_rate;           /* the manifest price's training $/1M tokens, else NAN */
    size_t n, n_errors;
    bool priced;
    double per_inference;
    bool has_p50;
    bool has_ttft_p50;          /* the arm streams: latency_ms.ttft.p50 (issue 15) */
    double ttft_p50;
    double p50;
    bool has_mean;
    double mean; /* primary metric */
};

/* ---- the decision's inputs from the run's config ----------------------------------------- */

/* evidence.data_check / evidence.human_ratings: a declared boolean or a path to a file. */
enum fe_evidence_kind { FE_EVIDENCE_ABSENT, FE_EVIDENCE_TRUE, FE_EVIDENCE_FALSE, FE_EVIDENCE_PATH,
                        FE_EVIDENCE_OTHER };
struct fe_evidence {
    enum fe_evidence_kind kind;
    const char *path;               /* FE_EVIDENCE_PATH only */
};

/* Every config key decision.h lists, read once by fe_dec_inputs_parse from the manifest's
 * "config": absent numbers NAN, absent strings NULL. */
struct fe_dec_inputs {
    const char *baseline_arm, *candidate_arm, *primary_metric, *stats_correction;
    double margin, max_error_rate, min_relative_saving;       /* decision.* */
    double training_cost_usd, trained_tokens;                  /* training.* */
    double requests_per_month, budget_max_usd;
    const cJSON *prices;            /* the price table, for fe_prices_load; NULL when absent */
    const char *distill_report;     /* decision.distill_report: the distill.json of the student */
    bool rag_tried, expert_reviewed, monitoring;               /* evidence.* stated */
    struct fe_evidence data_check, human_ratings;
};

/* ---- context -------------------------------------------------------------------------------- */

struct fe_ctx {
    const struct fe_run *run;
    struct fe_manifest_view man;    /* the run's manifest, typed */
    struct fe_dec_inputs in;        /* its config's decision inputs, typed */
    const cJSON *summary;
    struct fe_arm_facts *arms;
    size_t base, cand;
    size_t primary; /* index into run->metrics, or n_metrics when none */
    const char *metric;
    double margin, min_saving, max_error_rate;
    bool ops_reliable;
    struct fe_cmp cmp;
    bool non_inferior, has_lower;
    double lower; /* one-sided lower bound of candidate - baseline */
    bool cheaper, faster;
    double cost_rel, lat_rel;
    bool has_cost_rel, has_lat_rel;
    bool lat_is_ttft;           /* both arms stream: lat_rel compares TTFT p50 */
    const char *verdict;
    bool training_known;
    double training_usd;
};

/* "+6.0" / "-3.2" points from a fraction. */
void fe_dec_fmt_pts(char *out, size_t size, double frac);
/* "p<0.001" / "p=0.003" (spaced: "p < 0.001", "p = 0.003"). */
void fe_dec_fmt_p(char *out, size_t size, double p, bool spaced);
/* "Holm", "Bonferroni", NULL for none/absent, else adj itself. */
const char *fe_dec_adjustment_label(const char *adj);
/* Per-slice regressions (decision_slices.c): a reason per slice where the candidate is
 * significantly worse than the baseline after correction, and no ship_candidate verdict then;
 * metric_label names the primary metric in the reasons (fe_metric_label). */
void fe_dec_slices(struct fe_ctx *c, const char *metric_label, cJSON *reasons);
/* path resolved against the config file's folder (else the run directory). Newly allocated. */
char *fe_dec_config_relative(const struct fe_ctx *c, const char *path);
/* The distillation break-even (decision_distill.c, issue 16): the "distillation" block when
 * decision.distill_report is set (NULL otherwise), and a reason line when it applies. */
cJSON *fe_dec_distill(const struct fe_ctx *c, cJSON *reasons);
/* The 35-point readiness rubric (decision_rubric.c): {"total", "max", "band", "dimensions"}. */
cJSON *fe_dec_rubric(const struct fe_ctx *c);

#endif
