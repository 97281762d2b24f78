/* rundir.h — reads a results directory (DESIGN §4) back into memory.
 *
 * Used by summary building, `report`, `compare` and `history`. Arms and metrics come from
 * manifest.json ("arms": [{"name", ...}], "metrics": [...]); records from <arm>.jsonl. A torn
 * last line (a crash mid-append) is dropped with a warning; for a repeated id the last record
 * wins (a resumed run may have re-recorded an example that failed). Records are then put in
 * dataset order (their "line", then id), whatever order the file holds them in, so everything
 * computed from a run is independent of completion order (issue 11 §7).
 *
 * Memory (issue 14): a loaded run holds, per record, only what statistics need (numbers, flags,
 * interned short strings, the scores) and where its line is, as columns (rundir_store.c,
 * rundir_int.h: 16 bytes a record when its token counts and costs repeat, 28 when they do not,
 * plus 8 per metric); fe_arm_record decodes one into a struct fe_record. Each <arm>.jsonl
 * stays open until fe_run_free, and the text fields are read back from it on demand
 * (fe_run_record_text), one record at a time. An arm file rewritten in place while its run is
 * loaded is an error (replaced by a rename, it is not: the open file is still the old one).
 */
#ifndef FE_RUNDIR_H
#define FE_RUNDIR_H

#include <math.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "harness/base/err.h"
#include "metrics/score_col.h"

/* One record of <arm>.jsonl as its readers see it (fe_arm_record decodes it from the packed
 * form a loaded run keeps): the numbers statistics need, the short repeated strings interned,
 * and where its line is, so the text fields (prediction, gold, input, refusal, judgements, ...)
 * are read back on demand with fe_run_record_text. */
struct fe_record {
    const char *id;             /* in the run's id table (owned by the run) */
    bool ok;                    /* status == "ok" */
    bool stream;                /* "stream": true (the answer was read as a stream) */
    bool has_usage;
    bool has_cost;              /* false: unknown price (cost_usd null) */
    bool cache_hit;
    bool input_truncated;       /* "input_truncated": the input was cut at 8192 bytes */
    bool has_input;             /* "input" is a string (the report's browser shows it) */
    bool has_refusal;           /* "refusal" is a non-empty string (the provider refused) */
    bool has_judgements;        /* "judgements" is present, not null (read: fe_run_record_text) */
    unsigned short arm;         /* index of the record's arm in the run */
    long offset;                /* where the line starts in <arm>.jsonl */
    /* interned short strings: read them with fe_run_str (0: absent or not a string) */
    uint32_t error_kind;        /* error.kind: 0 when ok */
    uint32_t finish_reason;
    uint32_t served_model;      /* "model": the model id the provider reported */
    uint32_t slice;             /* the example's slice (task.slice_field) */
    uint32_t cluster;           /* paired-resampling cluster key */
    int32_t line;               /* dataset line of the example, -1 when not recorded */
    int32_t attempts;
    int32_t prompt_tokens, completion_tokens, cached_tokens;
    double latency_ms;          /* NAN when not measured (offline arms: null in the record) */
    double ttft_ms;             /* streamed records: time to first token; NAN when null or absent */
    double cost_usd;
    /* its scores: read them with fe_score(r, m), m in manifest order */
    const double *score_col;    /* a built record's: one per metric (score_cols NULL) */
    const struct fe_col *score_cols; /* a loaded record's: its arm's columns, one per metric */
    size_t score_row;           /* the record's row in them */
};

/* Whether r has scores to read (a run without metrics has none). */
static inline bool fe_has_scores(const struct fe_record *r)
{
    return r->score_cols || r->score_col;
}

/* r's score on the run's metric m (a loaded arm keeps each metric's scores as one column). */
static inline double fe_score(const struct fe_record *r, size_t m)
{
    return r->score_cols ? fe_col_at(r->score_cols[m], r->score_row) : r->score_col[m];
}

/* The text fields of one record, parsed from its line on demand. */
struct fe_record_text {
    cJSON *json;                /* the whole record (owned by the view; NULL for a stub) */
    const char *prediction;     /* "" when absent (failed examples) */
    const cJSON *gold;          /* any JSON value; NULL when absent */
    const char *input;          /* the rendered final user message (at most 8192 bytes), or NULL */
    const char *refusal;        /* the provider's refusal text, or NULL */
};

/* One arm of a run: n records in dataset order (line, then id). Read record i with
 * fe_arm_record; a loaded arm keeps them as columns (rundir_store.c), so there is no
 * array of struct fe_record to index. */
struct fe_arm_run {
    char *name;
    char *model;                /* from the manifest, may be NULL */
    size_t n;
    const struct fe_record *built; /* an arm built in memory (unit tests): its n records; NULL
                                    * for a loaded arm */
    void *store;                /* a loaded arm's columns: private to harness/rundir */
};

/* Record i (< arm->n) of arm, decoded into *buf; returns buf (or the built arm's own record).
 * Its id and scores point into the run and live until fe_run_free; buf may be reused at once. */
const struct fe_record *fe_arm_record(const struct fe_arm_run *arm, size_t i, struct fe_record *buf);
/* The scores of a loaded arm's metric m, for the statistics to read without a copy (metrics/
 * stats.h struct fe_score_table cols): false for a built or empty arm. */
bool fe_arm_score_col(const struct fe_arm_run *arm, size_t m, struct fe_col *out);
/* fe_arm_record into a compound literal of the enclosing block: the pointer is valid to the end
 * of that block. Never store it (keep the index; fe_run_find_record maps ids to indices). */
#define fe_arm_rec(arm, i) fe_arm_record((arm), (i), &(struct fe_record){0})

struct fe_run {
    char *dir;
    cJSON *manifest;
    cJSON *summary;             /* summary.json if present, else NULL */
    char **metrics;
    bool *metric_binary;
    size_t n_metrics;
    struct fe_arm_run *arms;
    size_t n_arms;
    void *reserved;             /* id table, lookup maps, open files: private to harness/rundir */
};

/* Loads dir. Returns FE_OK, or FE_EIO/FE_EINVALID with err naming the file and line. */
enum fe_status fe_run_load(const char *dir, struct fe_run **out, struct fe_err *err);
void fe_run_free(struct fe_run *run);   /* NULL is a no-op */
/* The interned string k of run (a record's error_kind, finish_reason, served_model, slice or
 * cluster), NULL for 0; it lives until fe_run_free. */
const char *fe_run_str(const struct fe_run *run, uint32_t k);
/* Index of arm called name, or -1. */
long fe_run_arm_index(const struct fe_run *run, const char *name);
/* Index of the record with id in arm, or -1 (linear hash lookup built on load). */
long fe_run_find_record(const struct fe_run *run, size_t arm, const char *id);
/* Reads r's line back from its <arm>.jsonl (held open since fe_run_load) and parses it into out;
 * release with fe_record_text_release. The file is the one the run was loaded from: a line that
 * no longer reads back as r (the file rewritten in place meanwhile) ends the process with exit
 * code 4 (FE_EXIT_ABORTED) and an error naming the file, record and byte; outputs written
 * through base/fs.c's atomic writers are left as they were. */
void fe_run_record_text(const struct fe_run *run, const struct fe_record *r,
                        struct fe_record_text *out);
void fe_record_text_release(struct fe_record_text *t);   /* frees out->json, clears the view */

/* ---- the typed reader of a run's files ----------------------------------------------------
 *
 * The renderers (report*.c, junit.c), the gate and the decision read summary.json, the
 * manifest and compare.json through these structs, parsed in one place (rundir_view.c), never
 * through string-keyed lookups of their own. Every field says when it is absent: strings are
 * NULL (print them with fe_str_or), numbers are NAN (test with fe_has), booleans that may be
 * absent have a has_ flag, lists have a count. Strings are borrowed from the parsed JSON, so a
 * view lives as long as the cJSON tree it was parsed from. */

/* true when x holds a value (JSON has no NaN: absent and null fields are NAN). */
static inline bool fe_has(double x)
{
    return !isnan(x);
}

/* s, or dflt when s is NULL: the one way a possibly absent string reaches a "%s". */
static inline const char *fe_str_or(const char *s, const char *dflt)
{
    return s ? s : dflt;
}

/* The manifest fields the renderers and the gate show (manifest.json, DESIGN §4). */
struct fe_manifest_view {
    const char *name, *run_id, *status, *command, *started_at, *ended_at, *fteval_version;
    const char *dataset_path, *dataset_sha256;
    double dataset_examples;         /* NAN when absent */
    const char *primary_metric;      /* manifest top level */
    double budget_max_usd;           /* config.budget.max_usd */
    const char *baseline_arm, *candidate_arm; /* manifest top level */
    double stats_seed, stats_resamples, stats_alpha; /* manifest "stats" */
    const char *stats_correction;
    const char *stats_family;        /* "all", or NULL (the default: the primary metric) */
    const char *config_path;         /* where the run's config was read from */
    const char *slice_field;         /* config.task.slice_field, NULL: "slice" */
    double slice_min_n;              /* config.task.slice_min_n, NAN when absent */
};

/* summary.json "arms"[arm]"metrics"[m]. */
struct fe_summary_class {
    const char *label;
    double precision, recall, f1, support, predicted;
};

struct fe_summary_metric {
    bool present;                    /* the arm's summary has an entry for the metric */
    double mean, se, ci_lo, ci_hi;   /* ci_lo/ci_hi: both numbers, else both NAN */
    /* corpus-level metrics ("corpus": true, metrics/corpus.h): "detail" */
    bool corpus;
    struct fe_summary_class *classes; /* detail.per_class (labels), n_classes of them */
    size_t n_classes;
    const char **conf_labels;        /* detail.confusion.labels, conf_n of them */
    double *conf;                    /* detail.confusion.matrix, conf_n x conf_n, row = gold */
    size_t conf_n;
    bool conf_capped;
    const char *conf_note;
    double ent_tp, ent_pred, ent_gold, ent_precision, ent_recall, ent_f1; /* entities, else NAN */
};

/* summary.json "arms"[arm]"cost"; present false when the arm has no cost object. */
struct fe_summary_cost {
    bool present, priced;            /* priced: "priced" is true */
    bool has_priced;                 /* "priced" is a boolean */
    double total_usd, per_inference_usd, per_1k_usd, per_correct_usd;
};

/* summary.json "arms"[arm]"latency_ms"; present false when the arm has no latency object. */
struct fe_summary_latency {
    bool present;
    double mean, p50, p90, p95, p99, max;
    /* "ttft": the same over streamed answers' time to first token (NAN when absent) */
    double ttft_p50, ttft_p90, ttft_p99;
};

/* One arm of summary.json, in the run's arm order; present false when the summary has no
 * entry for the arm (then every number is NAN). */
struct fe_summary_arm {
    bool present;
    double n, n_errors;
    struct fe_summary_metric *metrics; /* one per run metric, in run->metrics order */
    size_t n_metrics;
    struct fe_summary_cost cost;
    struct fe_summary_latency latency;
};

/* One entry of summary.json "comparisons" (a vs b on metric; delta = a - b). */
struct fe_summary_comparison {
    bool present;                       /* parsed from an object */
    const char *a, *b, *metric, *adjustment, *ci_method;
    const char *p_adjusted_source;      /* which p-value the adjustment used */
    double n, delta, se_paired, ci_lo, ci_hi, p_bootstrap, p_permutation, p_mcnemar,
        p_adjusted, mde, n_needed, alpha, ci_lower_one_sided, resamples, seed;
    bool has_significant, significant; /* "significant" when it is a boolean */
    bool inconclusive;                  /* "inconclusive": true */
    bool permutation_exact;             /* "permutation_exact": true */
};

/* One dimension of the decision's readiness rubric. */
struct fe_rubric_dim {
    const char *name, *evidence, *to_improve;
    double score;
};

/* One arm's entry of break_even.monthly_cost_usd. */
struct fe_arm_money {
    const char *arm;
    double usd;
};

/* summary.json "decision" (docs/decision.md); present false when there is none. */
struct fe_decision_view {
    bool present;
    const char *verdict, *baseline_arm, *candidate_arm, *metric;
    const char **reasons;            /* an entry is NULL when the reason is not a string */
    size_t n_reasons;
    bool has_break_even;
    double training_cost_usd, savings_per_request_usd, break_even_requests, requests_per_month,
        break_even_months;
    struct fe_arm_money *monthly_cost;
    size_t n_monthly_cost;
    bool has_rubric;                 /* "rubric" with a numeric total and max */
    double rubric_total, rubric_max;
    const char *rubric_band;
    struct fe_rubric_dim *dims;
    size_t n_dims;
};

/* summary.json as a whole; present false when the run has none (or it is not an object). */
struct fe_summary_view {
    bool present;
    struct fe_summary_arm *arms;     /* one per run arm, in run order */
    size_t n_arms;
    struct fe_summary_comparison *comparisons;
    size_t n_comparisons;
    struct fe_decision_view decision;
};

/* history.jsonl (history.h), typed: one entry per run, oldest first. */
struct fe_history_metric {
    const char *name;
    double mean, ci_lo, ci_hi;
};

struct fe_history_arm {
    const char *name, *model;
    double n, n_errors, cost_per_inference_usd;
    struct fe_history_metric *metrics;
    size_t n_metrics;
};

struct fe_history_entry {
    const char *run_id, *name, *dir, *time, *status, *dataset_sha256, *primary_metric;
    struct fe_history_arm *arms;
    size_t n_arms;
};

struct fe_history_view {
    struct fe_history_entry *entries;
    size_t n;
};

/* Parses the array fe_history_load returns (may be NULL: no entries). */
void fe_history_view_parse(const cJSON *entries, struct fe_history_view *out);
void fe_history_view_release(struct fe_history_view *v);
/* The arm called name in e, and its metric called metric; NULL when absent. */
const struct fe_history_arm *fe_history_arm(const struct fe_history_entry *e, const char *name);
const struct fe_history_metric *fe_history_metric(const struct fe_history_arm *a,
                                                  const char *metric);

void fe_manifest_view_parse(const cJSON *manifest, struct fe_manifest_view *out);
/* Parses summary (run->summary or one being built; may be NULL) against run's arms and
 * metrics. Release with fe_summary_view_release. */
void fe_summary_view_parse(const struct fe_run *run, const cJSON *summary,
                           struct fe_summary_view *out);
void fe_summary_view_release(struct fe_summary_view *v);
/* A "cost" / "latency_ms" object of an arm (also as built by metrics/cost.h); NULL: absent. */
void fe_summary_cost_parse(const cJSON *cost, struct fe_summary_cost *out);
void fe_summary_latency_parse(const cJSON *latency, struct fe_summary_latency *out);
void fe_summary_comparison_parse(const cJSON *c, struct fe_summary_comparison *out);
/* d may be NULL or not an object: present is false. Release with fe_decision_view_release. */
void fe_decision_view_parse(const cJSON *d, struct fe_decision_view *out);
void fe_decision_view_release(struct fe_decision_view *v);
/* The price row of the manifest's arm called arm: its source and as_of (NULL when absent). */
void fe_manifest_arm_price(const cJSON *manifest, const char *arm, const char **source,
                           const char **as_of);

/* summary.json "slices" (analysis/slices.h), typed: per slice, each arm's primary-metric mean
 * and CI; per tested (arm, slice), the paired comparison against the baseline. */
struct fe_slice_arm {
    const char *arm;
    double n, mean, ci_lo, ci_hi;    /* the block's metric; NAN when absent */
};
struct fe_slice_row {
    const char *name;
    struct fe_slice_arm *arms;       /* in the block's arm order */
    size_t n_arms;
};
struct fe_slice_cmp {
    const char *slice, *a, *b, *adjustment;
    double n, delta, ci_lo, ci_hi, p_adjusted, family_size;
    bool tested, significant, worse;
};
struct fe_slices_view {
    bool present;
    const char *field, *metric, *baseline_arm;
    double min_n;
    struct fe_slice_row *slices;
    size_t n_slices;
    struct fe_slice_cmp *cmps;
    size_t n_cmps;
};
/* s: the summary (NULL or without "slices": present false). Release with fe_slices_view_release;
 * strings are borrowed from s. */
void fe_slices_view_parse(const cJSON *s, struct fe_slices_view *out);
void fe_slices_view_release(struct fe_slices_view *v);

#endif
