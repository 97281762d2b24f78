/* config_batch.c — a provider's batch keys (config_int.h, docs/batch.md): "batch" (send its
 * arms through the provider's batch API), "batch_max_requests" and "batch_max_bytes" (where a
 * batch file is split; the API's limits by default, smaller for tests) and "batch_poll_s" (the
 * first poll interval). Only provider types with a batch API accept "batch": true.
 */
#include "harness/run/config.h"
#include "harness/run/config_int.h"

#include <stdio.h>
#include <string.h>

#define FE_BATCH_MAX_REQUESTS 50000L
#define FE_BATCH_MAX_BYTES (200L * 1000L * 1000L)

enum fe_status fe_load_provider_batch(struct fe_cfg *k, const cJSON *p, const char *path,
                                      struct fe_provider_entry *e)
{
    char sub[300];
    e->batch_max_requests = FE_BATCH_MAX_REQUESTS;
    e->batch_max_bytes = FE_BATCH_MAX_BYTES;
    e->batch_poll_s = 10;
    snprintf(sub, sizeof(sub), "%s.batch", path);
    if (fe_opt_bool(k, p, "batch", sub, &e->batch) != FE_OK)
        return FE_EINVALID;
    if (e->batch && strcmp(e->conf.type, "openai") != 0 && strcmp(e->conf.type, "anthropic") != 0)
        return fe_bad(k, sub, "type \"%s\" has no batch API here (openai and anthropic do)", e->conf.type);
    double d = 0;
    bool has = false;
    snprintf(sub, sizeof(sub), "%s.batch_max_requests", path);
    if (fe_opt_int(k, p, "batch_max_requests", sub, 1, (double)FE_BATCH_MAX_REQUESTS, &d, &has) != FE_OK)
        return FE_EINVALID;
    if (has)
        e->batch_max_requests = (long)d;
    snprintf(sub, sizeof(sub), "%s.batch_max_bytes", path);
    if (fe_opt_int(k, p, "batch_max_bytes", sub, 1024, (double)FE_BATCH_MAX_BYTES, &d, &has) != FE_OK)
        return FE_EINVALID;
    if (has)
        e->batch_max_bytes = (long)d;
    snprintf(sub, sizeof(sub), "%s.batch_poll_s", path);
    if (fe_opt_number(k, p, "batch_poll_s", sub, 0.01, 3600, &e->batch_poll_s, NULL) != FE_OK)
        return FE_EINVALID;
    return FE_OK;
}
