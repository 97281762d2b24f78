/* compare_changes.c — what changed between the two runs of `fteval compare` (docs/nightly.md
 * "What changed"): per arm the manifest's model, prompt hashes, few-shot count and provider and
 * the served model ids; per run the template, generation defaults, seed and file hashes. Each
 * change is {"arm", "field", "baseline", "candidate"} with the raw JSON values, so any type of
 * setting is compared as written. */
#include <stdlib.h>
#include <string.h>

#include "harness/analysis/compare.h"
#include "harness/analysis/compare_int.h"
#include "harness/base/jsonout.h"
#include "harness/base/strmap.h"
#include "harness/base/util.h"

static const cJSON *fe_manifest_arm(const struct fe_run *run, const char *name)
{
    const cJSON *a;
    cJSON_ArrayForEach(a, fe_json_get(run->manifest, "arms")) {
        const char *n = fe_json_str(fe_json_get(a, "name"));
        if (n && strcmp(n, name) == 0)
            return a;
    }
    return NULL;
}

static void fe_change(cJSON *changes, const char *arm, const char *field, const cJSON *a,
                      const cJSON *b)
{
    if ((!a || cJSON_IsNull(a)) && (!b || cJSON_IsNull(b)))
        return;
    if (a && b && cJSON_Compare(a, b, true))
        return;
    cJSON *c = cJSON_CreateObject();
    fe_json_add_str(c, "arm", arm);
    cJSON_AddStringToObject(c, "field", field);
    cJSON_AddItemToObject(c, "baseline", a ? cJSON_Duplicate(a, true) : cJSON_CreateNull());
    cJSON_AddItemToObject(c, "candidate", b ? cJSON_Duplicate(b, true) : cJSON_CreateNull());
    cJSON_AddItemToArray(changes, c);
}

/* The distinct served model ids ("model" of the records) of an arm, as a sorted JSON array. */
static cJSON *fe_served_models(const struct fe_run *run, const struct fe_arm_run *arm)
{
    struct fe_strmap seen;
    fe_strmap_init(&seen);
    cJSON *arr = cJSON_CreateArray();
    for (size_t i = 0; i < arm->n; i++) {
        const char *m = fe_run_str(run, fe_arm_rec(arm, i)->served_model);
        if (!m || !fe_strmap_put(&seen, m, 0))
            continue;
        cJSON *it = arr->child;
        size_t pos = 0;
        for (; it && strcmp(it->valuestring, m) < 0; it = it->next)
            pos++;
        cJSON_InsertItemInArray(arr, (int)pos, cJSON_CreateString(m));
    }
    fe_strmap_release(&seen);
    return arr;
}

void fe_compare_arm_changes(cJSON *changes, const struct fe_run *base, const char *an,
                           const struct fe_run *cand, const char *bn, const char *label)
{
    static const char *const fields[] = {"model", "system_sha256", "few_shot_sha256", "n_few_shot",
                                         "provider", "provider_type"};
    const cJSON *ma = fe_manifest_arm(base, an), *mb = fe_manifest_arm(cand, bn);
    for (size_t i = 0; i < FE_ARRAY_LEN(fields); i++)
        fe_change(changes, label, fields[i], fe_json_get(ma, fields[i]), fe_json_get(mb, fields[i]));
    cJSON *sa = fe_served_models(base, &base->arms[fe_run_arm_index(base, an)]);
    cJSON *sb = fe_served_models(cand, &cand->arms[fe_run_arm_index(cand, bn)]);
    fe_change(changes, label, "served_model", sa, sb);
    cJSON_Delete(sa);
    cJSON_Delete(sb);
}

void fe_compare_run_changes(cJSON *changes, const struct fe_run *base, const struct fe_run *cand)
{
    const cJSON *ca = fe_json_get(base->manifest, "config"), *cb = fe_json_get(cand->manifest, "config");
    fe_change(changes, NULL, "task.template", fe_json_get(fe_json_get(ca, "task"), "template"),
              fe_json_get(fe_json_get(cb, "task"), "template"));
    fe_change(changes, NULL, "defaults", fe_json_get(ca, "defaults"), fe_json_get(cb, "defaults"));
    fe_change(changes, NULL, "seed", fe_json_get(base->manifest, "seed"), fe_json_get(cand->manifest, "seed"));
    /* prompt and few-shot files, by path */
    const cJSON *fa = fe_json_get(base->manifest, "files_sha256"), *fb = fe_json_get(cand->manifest, "files_sha256");
    const cJSON *it;
    cJSON_ArrayForEach(it, fa) {
        char *f = fe_xasprintf("files_sha256.%s", it->string);
        fe_change(changes, NULL, f, it, fe_json_get(fb, it->string));
        free(f);
    }
    cJSON_ArrayForEach(it, fb) {
        if (fe_json_get(fa, it->string))
            continue;
        char *f = fe_xasprintf("files_sha256.%s", it->string);
        fe_change(changes, NULL, f, NULL, it);
        free(f);
    }
}
