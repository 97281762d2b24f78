/* jsonout.c — see jsonout.h. */
#include "harness/jsonout.h"

#include <math.h>
#include <stdbool.h>

void fe_json_add_num(cJSON *o, const char *k, double v)
{
    if (isfinite(v))
        cJSON_AddNumberToObject(o, k, v);
    else
        cJSON_AddNullToObject(o, k);
}

void fe_json_add_pair(cJSON *o, const char *k, double lo, double hi)
{
    if (!isfinite(lo) || !isfinite(hi)) {
        cJSON_AddNullToObject(o, k);
        return;
    }
    cJSON *a = cJSON_AddArrayToObject(o, k);
    cJSON_AddItemToArray(a, cJSON_CreateNumber(lo));
    cJSON_AddItemToArray(a, cJSON_CreateNumber(hi));
}

void fe_json_merge_object(cJSON *dst, const cJSON *src)
{
    const cJSON *field;
    cJSON_ArrayForEach(field, src) {
        cJSON_DeleteItemFromObjectCaseSensitive(dst, field->string);
        cJSON_AddItemToObject(dst, field->string, cJSON_Duplicate(field, true));
    }
}
