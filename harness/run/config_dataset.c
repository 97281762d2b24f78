/* config_dataset.c — how the config says to read its dataset (issue 13): "dataset_format"
 * ("jsonl" | "csv"; absent: by the file name), the field mapping task.id_field /
 * task.input_field / task.gold_field / task.slice_field, and task.slice_min_n (the smallest slice
 * the summary tests). Fills c->dataset_opts, which every reader of the config's dataset passes
 * to fe_dataset_open_with (runner, run's validation, score, data to-chat, sim). */
#include "harness/run/config.h"
#include "harness/run/config_int.h"

#include <stdlib.h>
#include <string.h>

#include "harness/base/jsonout.h"
#include "harness/base/util.h"

/* An optional field name: a non-empty string, copied into *out. */
static enum fe_status fe_field_name(struct fe_cfg *k, const cJSON *task, const char *name, char **out)
{
    char path[64];
    snprintf(path, sizeof(path), "task.%s", name);
    const char *s = NULL;
    if (fe_opt_string(k, task, name, path, &s) != FE_OK)
        return FE_EINVALID;
    if (s && !*s)
        return fe_bad_at(k, fe_json_get(task, name), path, "must name a field of the dataset's rows");
    *out = fe_xstrdup(s);
    return FE_OK;
}

enum fe_status fe_load_dataset_opts(struct fe_cfg *k, const cJSON *root)
{
    struct fe_config *c = k->c;
    const char *fmt = NULL;
    if (fe_opt_string(k, root, "dataset_format", "dataset_format", &fmt) != FE_OK)
        return FE_EINVALID;
    if (fmt && strcmp(fmt, "jsonl") != 0 && strcmp(fmt, "csv") != 0)
        return fe_bad_at(k, fe_json_get(root, "dataset_format"), "dataset_format",
                         "'%s' is not a dataset format (jsonl, csv)", fmt);
    c->dataset_format = fe_xstrdup(fmt);
    const cJSON *task = fe_json_get(root, "task");
    if (fe_field_name(k, task, "id_field", &c->id_field) != FE_OK ||
        fe_field_name(k, task, "input_field", &c->input_field) != FE_OK ||
        fe_field_name(k, task, "gold_field", &c->gold_field) != FE_OK ||
        fe_field_name(k, task, "slice_field", &c->slice_field) != FE_OK)
        return FE_EINVALID;
    double min_n = FE_SLICE_MIN_N_DEFAULT;
    bool present = false;
    if (fe_opt_int(k, task, "slice_min_n", "task.slice_min_n", 2, 1e9, &min_n, &present) != FE_OK)
        return FE_EINVALID;
    c->slice_min_n = (long)min_n;
    c->dataset_opts.format = c->dataset_format;
    c->dataset_opts.map = (struct fe_field_map){
        .id = c->id_field, .input = c->input_field, .gold = c->gold_field, .slice = c->slice_field,
    };
    return FE_OK;
}

void fe_dataset_opts_release(struct fe_config *c)
{
    free(c->dataset_format);
    free(c->id_field);
    free(c->input_field);
    free(c->gold_field);
    free(c->slice_field);
}

void fe_dataset_opts_from_json(const cJSON *config, struct fe_dataset_opts *o)
{
    memset(o, 0, sizeof(*o));
    const cJSON *task = fe_json_get(config, "task");
    o->format = fe_json_str(fe_json_get(config, "dataset_format"));
    o->map.id = fe_json_str(fe_json_get(task, "id_field"));
    o->map.input = fe_json_str(fe_json_get(task, "input_field"));
    o->map.gold = fe_json_str(fe_json_get(task, "gold_field"));
    o->map.slice = fe_json_str(fe_json_get(task, "slice_field"));
}
