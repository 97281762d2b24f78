/* cost.c — PLACEHOLDER until the cost module lands. */
#include "metrics/cost.h"

#include <stdlib.h>

struct fe_prices {
    int unused;
};

struct fe_prices *fe_prices_load(const cJSON *value, const char *base_file, struct fe_err *err)
{
    (void)value;
    (void)base_file;
    (void)err;
    return calloc(1, sizeof(struct fe_prices));
}

void fe_prices_free(struct fe_prices *p) { free(p); }

bool fe_prices_lookup(const struct fe_prices *p, const char *model, struct fe_price *out)
{
    (void)p;
    (void)model;
    (void)out;
    return false;
}

double fe_cost_call(const struct fe_price *price, long prompt_tokens, long cached_tokens,
                    long completion_tokens, bool batch)
{
    double m = batch ? price->batch_multiplier : 1.0;
    double cached_rate = price->has_cached_input ? price->cached_input : price->input;
    return m * ((double)(prompt_tokens - cached_tokens) * price->input +
                (double)cached_tokens * cached_rate + (double)completion_tokens * price->output) / 1e6;
}
