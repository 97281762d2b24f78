/* cost.h — price tables and cost per call (DESIGN §3 "Price table", PROVIDER-APIS.md §6).
 *
 * Prices are data, never code. Lookup: the exact model id, then for a fine-tuned id
 * "ft:BASE:org:suffix:id[:ckpt-step-N]" the "ft:BASE" row. An unknown model has no price:
 * callers record null (with a warning), never $0.
 */
#ifndef FE_COST_H
#define FE_COST_H

#include <stdbool.h>

#include <cjson/cJSON.h>

#include "harness/err.h"

struct fe_price {
    double input, cached_input, output; /* USD per 1M tokens */
    bool has_cached_input;               /* else cached tokens bill at input */
    double batch_multiplier;             /* 1 when absent */
    bool has_training;
    double training;                     /* per 1M trained tokens */
    const char *source, *as_of;          /* borrowed from the table */
};

struct fe_prices;

/* Loads a price table from a JSON value: an object (the table) or a string (a path resolved
 * against base_file's folder). Returns NULL with err set (FE_EINVALID naming the field) or FE_EIO. */
struct fe_prices *fe_prices_load(const cJSON *value, const char *base_file, struct fe_err *err);
void fe_prices_free(struct fe_prices *p);
/* Finds the price row for model; returns false when unknown. out borrows from p. */
bool fe_prices_lookup(const struct fe_prices *p, const char *model, struct fe_price *out);
/* Cost of one call in USD: (prompt - cached)*input + cached*cached_input + completion*output,
 * per 1M tokens, times batch_multiplier when batch is true. */
double fe_cost_call(const struct fe_price *price, long prompt_tokens, long cached_tokens,
                    long completion_tokens, bool batch);

#endif
