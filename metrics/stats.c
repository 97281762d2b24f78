/* stats.c — PLACEHOLDER until the statistics module lands. */
#include "metrics/stats.h"

#include <gsl/gsl_errno.h>

void fe_stats_opts_default(struct fe_stats_opts *o)
{
    o->seed = 20261124;
    o->resamples = 10000;
    o->alpha = 0.05;
    o->correction = FE_CORRECTION_HOLM;
}

void fe_stats_global_init(void)
{
    gsl_set_error_handler_off();
}

cJSON *fe_stats_arm_metrics(const struct fe_score_table *t, size_t arm)
{
    (void)t;
    (void)arm;
    return cJSON_CreateObject();
}

cJSON *fe_stats_comparisons(const struct fe_score_table *t, size_t baseline_arm,
                            const struct fe_stats_opts *o, struct fe_err *err)
{
    (void)t;
    (void)baseline_arm;
    (void)o;
    (void)err;
    return cJSON_CreateArray();
}
