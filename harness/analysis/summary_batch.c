/* summary_batch.c — the "batch" block of summary.json (docs/batch.md, docs/results-format.md):
 * what the batch journal <run>/batch.journal says about the run's batches, one entry per batch
 * in creation order {"id", "arm", "status", "file_id", "requests", "recorded", "no_result",
 * "duplicates", "unknown"} (status "pending" until its results are recorded) and the totals.
 * A run without batches has no block. Reads the journal only; never fails the summary (an
 * unreadable line is skipped, as a torn last line after a crash would be).
 */
#include "harness/analysis/summary.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/types.h>
#include <string.h>

#include "harness/base/jsonout.h"
#include "harness/base/util.h"

static cJSON *fe_batch_entry(cJSON *list, const char *id)
{
    cJSON *e;
    cJSON_ArrayForEach(e, list) {
        const char *have = fe_json_gets(e, "id");
        if (have && id && strcmp(have, id) == 0)
            return e;
    }
    return NULL;
}

static void fe_batch_count_set(cJSON *e, const cJSON *counts, const char *k)
{
    cJSON_DeleteItemFromObjectCaseSensitive(e, k);
    cJSON_AddNumberToObject(e, k, fe_json_getn_or(counts, k, 0));
}

void fe_summary_add_batch(const struct fe_run *run, cJSON *summary)
{
    char *path = fe_xasprintf("%s/batch.journal", run->dir);
    FILE *f = fopen(path, "rb");
    free(path);
    if (!f)
        return;
    /* one event at a time: the journal lists every custom_id (megabytes at 300,000 examples) */
    cJSON *list = cJSON_CreateArray();
    char *text = NULL;
    size_t cap = 0;
    ssize_t got;
    while ((got = getline(&text, &cap, f)) > 0) {
        if (text[got - 1] != '\n') /* a torn last line: the run died mid-append */
            break;
        cJSON *ev = cJSON_ParseWithLength(text, (size_t)got - 1);
        const char *event = fe_json_gets_or(ev, "event", ""), *id = fe_json_gets(ev, "batch_id");
        cJSON *e = fe_batch_entry(list, id);
        if (strcmp(event, "batch") == 0 && id && !e) {
            e = cJSON_CreateObject();
            cJSON_AddStringToObject(e, "id", id);
            fe_json_add_str(e, "arm", fe_json_gets(ev, "arm"));
            cJSON_AddStringToObject(e, "status", "pending");
            fe_json_add_str(e, "file_id", fe_json_gets(ev, "file_id"));
            cJSON_AddNumberToObject(e, "requests", cJSON_GetArraySize(fe_json_get(ev, "custom_ids")));
            cJSON_AddItemToArray(list, e);
        } else if (strcmp(event, "end") == 0 && e) {
            const cJSON *counts = fe_json_get(ev, "counts");
            cJSON_ReplaceItemInObjectCaseSensitive(e, "status",
                                                   cJSON_CreateString(fe_json_gets_or(ev, "status", "ended")));
            fe_batch_count_set(e, counts, "recorded");
            fe_batch_count_set(e, counts, "no_result");
            fe_batch_count_set(e, counts, "duplicates");
            fe_batch_count_set(e, counts, "unknown");
        }
        cJSON_Delete(ev);
    }
    free(text);
    fclose(f);
    double requests = 0, recorded = 0, no_result = 0, pending = 0;
    cJSON *e;
    cJSON_ArrayForEach(e, list) {
        requests += fe_json_getn_or(e, "requests", 0);
        recorded += fe_json_getn_or(e, "recorded", 0);
        no_result += fe_json_getn_or(e, "no_result", 0);
        pending += strcmp(fe_json_gets_or(e, "status", ""), "pending") == 0;
    }
    cJSON *b = cJSON_AddObjectToObject(summary, "batch");
    cJSON_AddNumberToObject(b, "created", cJSON_GetArraySize(list));
    cJSON_AddNumberToObject(b, "pending", pending);
    cJSON_AddNumberToObject(b, "requests", requests);
    cJSON_AddNumberToObject(b, "recorded", recorded);
    cJSON_AddNumberToObject(b, "no_result", no_result);
    cJSON_AddItemToObject(b, "batches", list);
}
