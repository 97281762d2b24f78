/* cost.h — price tables, cost per call, quantiles, token estimates (the per-arm cost and latency
 * summaries of a run live in harness/analysis/arm_cost.h: they read a results directory)
 * (DESIGN §3 "Price table", §4 summary "cost"/"latency_ms", PROVIDER-APIS.md §6).
 * Owner: reporting.
 *
 * Prices are data, never code. Lookup: the exact model id, then for a fine-tuned id
 * "ft:BASE:org:suffix:id[:ckpt-step-N]" the "ft:BASE" row. An unknown model has no price:
 * callers record null (with a warning), never $0.
 *
 * Every summary function here returns a new cJSON tree (caller deletes) and never emits NaN or
 * infinity: a quantity that cannot be computed is JSON null.
 */
#ifndef FE_COST_H
#define FE_COST_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

#include "harness/base/err.h"

struct fe_price {
    double input, cached_input, output; /* USD per 1M tokens */
    bool has_cached_input;              /* else cached tokens bill at input */
    double batch_multiplier;            /* 1 when absent */
    bool has_training;
    double training; /* per 1M trained tokens ("training" or "training_per_1m") */
    bool has_training_per_hour;
    double training_per_hour;   /* RFT: billed per hour, not per token */
    const char *source, *as_of; /* borrowed from the table; NULL when absent */
    const char *row;            /* the row's key that matched ("ft:BASE" for ft ids) */
    bool has_batch_multiplier;  /* the row states it: a batch call without it has no known cost */
};

struct fe_prices;
/* The keys a price row accepts, NULL-terminated (the config loader's key table uses it too). */
extern const char *const fe_price_row_keys[];

/* Loads a price table from a JSON value: an object (the table) or a string (a path resolved
 * against base_file's folder; base_file may be NULL = current directory). The table is
 * validated: {"currency"?: "USD", "unit"?: "per_1m_tokens", "models": {ID: ROW}} where ROW has
 * numbers >= 0 "input" and "output" (required), "cached_input", "training", "training_per_1m",
 * "training_per_hour" (optional), "batch_multiplier" in (0, 1], strings "source", "as_of",
 * "notes" and an object "service_tiers" (accepted, not used yet). Unknown row fields are errors
 * (a typo must not silently bill cached tokens at the input rate).
 * Returns NULL with err set: FE_EINVALID naming the JSON path, e.g.
 * `configs/prices.json: models["x"].input: must be a number >= 0`, or FE_EIO. Caller frees. */
struct fe_prices *fe_prices_load(const cJSON *value, const char *base_file, struct fe_err *err);
void fe_prices_free(struct fe_prices *p); /* NULL is a no-op */
/* Finds the price row for model; returns false when unknown (also for p or model NULL).
 * out borrows strings from p. */
bool fe_prices_lookup(const struct fe_prices *p, const char *model, struct fe_price *out);
/* Number of rows (for listing and tests). */
size_t fe_prices_count(const struct fe_prices *p);

/* Cost of one call in USD: (prompt - cached)*input + cached*cached_input + completion*output,
 * per 1M tokens, times batch_multiplier when batch is true. Negative counts are treated as 0 and
 * cached is clamped to prompt. */
double fe_cost_call(const struct fe_price *price, long prompt_tokens, long cached_tokens,
                    long completion_tokens, bool batch);

/* Training cost in USD of trained_tokens at the training rate of model's row (for an ft: id the
 * ft:BASE row carries "training"). Returns false when the model or its training rate is unknown. */
bool fe_training_cost(const struct fe_prices *p, const char *model, double trained_tokens,
                      double *usd);

/* Type-7 quantile of sorted[0..n), q in [0, 1]; n must be > 0. */
double fe_quantile_sorted(const double *sorted, size_t n, double q);

/* A sample read by index: value i of n, NAN when i is not in the sample. */
typedef double (*fe_sample_get)(const void *ctx, size_t i);

/* The sample's size k, its sum (added in index order) and its largest value (0 when k == 0). */
struct fe_sample_stats {
    size_t k;
    double sum, max;
};

/* The values of get (over i < n) that are not NAN: their quantiles q[0..nq) into out[0..nq)
 * exactly as fe_quantile_sorted gives them on the sorted values (out untouched when the sample
 * is empty), and *st. Memory (issue 14): when every value is a whole number of microseconds
 * given in milliseconds (x == u / 1000.0 bit for bit, u < 2^32: how latencies are recorded),
 * the order statistics the quantiles read are found by radix select over the counts, reading
 * each value four times and holding nothing of the sample's size; otherwise the values are
 * copied as doubles and sorted (qsort), reading each value twice. */
void fe_sample_quantiles(fe_sample_get get, const void *ctx, size_t n, const double *q, size_t nq,
                         double *out, struct fe_sample_stats *st);

#endif
