/* jsonschema_tool.c — runs metrics/jsonschema.c over (schema, instances) pairs for
 * tests/jsonschema_suite_test.py. Each stdin line is {"schema": S, "instances": [I, ...]}; each
 * stdout line is {"valid": [true, false, ...]} (one per instance, in order) or
 * {"error": "<compile error>"} when the schema is rejected. Exit 0, or 1 on bad input. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "metrics/jsonschema.h"

int main(void)
{
    char *line = NULL;
    size_t cap = 0;
    ssize_t got;
    int rc = 0;
    while ((got = getline(&line, &cap, stdin)) > 0) {
        cJSON *in = cJSON_ParseWithLength(line, (size_t)got);
        const cJSON *schema = cJSON_GetObjectItemCaseSensitive(in, "schema");
        const cJSON *insts = cJSON_GetObjectItemCaseSensitive(in, "instances");
        if (!schema || !cJSON_IsArray(insts)) {
            fprintf(stderr, "jsonschema_tool: bad input line\n");
            cJSON_Delete(in);
            rc = 1;
            break;
        }
        struct fe_err err = {0};
        struct fe_jsonschema *s = fe_jsonschema_compile(schema, &err);
        cJSON *out = cJSON_CreateObject();
        if (!s) {
            cJSON_AddStringToObject(out, "error", err.msg);
        } else {
            cJSON *valid = cJSON_AddArrayToObject(out, "valid");
            const cJSON *i;
            cJSON_ArrayForEach(i, insts)
                cJSON_AddItemToArray(valid, cJSON_CreateBool(fe_jsonschema_valid(s, i)));
        }
        char *text = cJSON_PrintUnformatted(out);
        if (!text || printf("%s\n", text) < 0)
            rc = 1;
        cJSON_free(text);
        cJSON_Delete(out);
        fe_jsonschema_free(s);
        cJSON_Delete(in);
        if (rc)
            break;
    }
    free(line);
    if (fflush(stdout) != 0)
        rc = 1;
    return rc;
}
