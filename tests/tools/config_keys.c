/* config_keys.c — prints what the config loader accepts, for tests/config_schema_test.py:
 * {"objects": {"(root)": ["$schema", "name", ...], "arms[]": [...], ...}  (fe_config_objects),
 *  "metrics": [...], "provider_types": [...]}                              (the registries)
 * The test checks that configs/fteval.schema.json accepts exactly these keys per object and
 * offers exactly these metric names and provider types. */
#include <stdio.h>

#include <cjson/cJSON.h>

#include "harness/run/config.h"
#include "metrics/metric.h"
#include "providers/provider.h"

int main(void)
{
    cJSON *out = cJSON_CreateObject();
    cJSON *objects = cJSON_AddObjectToObject(out, "objects");
    for (size_t i = 0; fe_config_objects[i].path; i++) {
        cJSON *keys = cJSON_AddArrayToObject(objects, fe_config_objects[i].path);
        for (size_t j = 0; fe_config_objects[i].keys[j]; j++)
            cJSON_AddItemToArray(keys, cJSON_CreateString(fe_config_objects[i].keys[j]));
    }
    cJSON *metrics = cJSON_AddArrayToObject(out, "metrics");
    for (size_t i = 0; fe_metrics[i]; i++)
        cJSON_AddItemToArray(metrics, cJSON_CreateString(fe_metrics[i]->name));
    cJSON *types = cJSON_AddArrayToObject(out, "provider_types");
    for (size_t i = 0; fe_providers[i]; i++)
        cJSON_AddItemToArray(types, cJSON_CreateString(fe_providers[i]->name));
    char *text = cJSON_Print(out);
    int rc = text && puts(text) >= 0 && fflush(stdout) == 0 ? 0 : 1;
    cJSON_free(text);
    cJSON_Delete(out);
    return rc;
}
