/* fuzz_format.c — libFuzzer target for the format metrics: the first line of the input is a
 * JSON Schema (compiled when it parses) and also a PCRE2 pattern (compiled when valid); the rest
 * is a model output scored by json_valid, schema_valid and regex. Crashes, leaks and undefined
 * behaviour are the findings; the compiled schema must also validate its own text's value. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "harness/base/util.h"
#include "metrics/extract.h"
#include "metrics/jsonschema.h"
#include "metrics/metric.h"
#include "metrics/regex.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = fe_xstrndup((const char *)data, size);
    char *nl = strchr(text, '\n');
    const char *prediction = nl ? nl + 1 : "";
    if (nl)
        *nl = '\0';
    struct fe_err err = {0};
    cJSON *sj = cJSON_Parse(text);
    struct fe_jsonschema *schema = sj ? fe_jsonschema_compile(sj, &err) : NULL;
    if (schema)
        (void)fe_jsonschema_valid(schema, sj);
    struct fe_err rerr = {0};
    struct fe_regex *re = fe_regex_compile(text, 0, &rerr);
    struct fe_metric_task task = {.schema = schema, .pattern = re};
    struct fe_gold gold = {.golds = NULL, .n_golds = 0, .task = &task};
    static const char *const names[] = {"json_valid", "schema_valid", "regex", "contains"};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        const struct fe_metric *m = fe_metric_find(names[i]);
        if (m && !fe_metric_missing(m, &task))
            (void)m->score(prediction, &gold);
    }
    fe_regex_free(re);
    fe_jsonschema_free(schema);
    cJSON_Delete(sj);
    free(text);
    return 0;
}
