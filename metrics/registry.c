/* registry.c — PLACEHOLDER until the metrics module lands. */
#include "metrics/metric.h"

#include <string.h>

const struct fe_metric *const fe_metrics[] = {NULL};

const struct fe_metric *fe_metric_find(const char *name)
{
    for (size_t i = 0; fe_metrics[i]; i++)
        if (strcmp(fe_metrics[i]->name, name) == 0)
            return fe_metrics[i];
    return NULL;
}
