/* config.c — see config.h. Validation reports the first problem with its JSON path.
 *
 * This file reads the top level of a config in order (name, dataset, task, defaults, providers,
 * arms, baseline/candidate, prices, stats, budget, the objects the decision and report read,
 * then the API keys), and frees it. The other parts of the loader: config_int.h. */
#include "harness/base/jsonout.h"
#include "harness/run/config.h"
#include "harness/run/config_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "harness/base/buf.h"
#include "harness/base/log.h"
#include "harness/input/template.h"
#include "harness/base/util.h"
#include "metrics/extract.h"
#include "metrics/jsonschema.h"
#include "metrics/metric.h"
#include "metrics/regex.h"

/* task.schema (a JSON Schema inline, or "@file" relative to the config) and task.pattern
 * (PCRE2), compiled for the format metrics; then every metric's needs are checked. */
static enum fe_status fe_load_format(struct fe_cfg *k, const cJSON *task)
{
    struct fe_config *c = k->c;
    const cJSON *v = fe_json_get(task, "schema");
    if (v && !cJSON_IsNull(v)) {
        struct fe_err serr = {0};
        if (cJSON_IsObject(v) || cJSON_IsBool(v)) {
            c->task_schema = fe_jsonschema_compile(v, &serr);
            if (!c->task_schema)
                return fe_bad_at(k, v, "task.schema", "%s", serr.msg);
        } else if (cJSON_IsString(v) && v->valuestring[0] == '@') {
            char *file = fe_path_relative_to(c->path, v->valuestring + 1);
            size_t len;
            char *text = fe_read_file(file, FE_MAX_PROMPT_FILE, &len);
            enum fe_status st = FE_OK;
            if (!text) {
                st = fe_bad_at(k, v, "task.schema", "cannot read '%s': %s", file, strerror(errno));
            } else if (!fe_json_text_valid(text, len)) {
                st = fe_bad_at(k, v, "task.schema", "'%s' is not valid JSON", file);
            } else {
                fe_sha256_hex(text, len, c->task_schema_sha256);
                cJSON *schema = cJSON_ParseWithLength(text, len);
                c->task_schema = schema ? fe_jsonschema_compile(schema, &serr) : NULL;
                if (!c->task_schema)
                    st = fe_bad_at(k, v, "task.schema", "%s: %s", file, schema ? serr.msg : "not valid JSON");
                cJSON_Delete(schema);
            }
            free(text);
            c->task_schema_source = file;
            if (st != FE_OK)
                return st;
        } else {
            return fe_bad_at(k, v, "task.schema", "must be a JSON Schema (an object) or \"@file\"");
        }
        c->metric_task.schema = c->task_schema;
    }
    const char *pattern;
    if (fe_opt_string(k, task, "pattern", "task.pattern", &pattern) != FE_OK)
        return FE_EINVALID;
    if (pattern) {
        struct fe_err rerr = {0};
        c->task_pattern = fe_regex_compile(pattern, 0, &rerr);
        if (!c->task_pattern)
            return fe_bad_at(k, fe_json_get(task, "pattern"), "task.pattern", "invalid pattern: %s", rerr.msg);
        c->metric_task.pattern = c->task_pattern;
    }
    for (size_t i = 0; i < c->n_metrics; i++) {
        const struct fe_metric *def = fe_metric_find(c->metrics[i]); /* NULL: judge:NAME (judges) */
        const char *missing = def ? fe_metric_missing(def, &c->metric_task) : NULL;
        if (missing)
            return fe_bad(k, missing, "missing; metric '%s' (task.metrics[%zu]) needs it", c->metrics[i], i);
    }
    return FE_OK;
}

static enum fe_status fe_load_task(struct fe_cfg *k, const cJSON *root)
{
    struct fe_config *c = k->c;
    const cJSON *task;
    if (fe_opt_strict(k, root, "task", &task) != FE_OK)
        return FE_EINVALID;
    const char *s;
    if (fe_opt_string(k, task, "template", "task.template", &s) != FE_OK)
        return FE_EINVALID;
    c->template = fe_xstrdup(s ? s : "{input}");
    const cJSON *metrics = fe_json_get(task, "metrics");
    if (metrics && !cJSON_IsNull(metrics) && !cJSON_IsArray(metrics))
        return fe_bad_at(k, metrics, "task.metrics", "must be an array of metric names");
    if (!metrics || cJSON_GetArraySize(metrics) == 0) {
        c->n_metrics = 2;
        c->metrics = fe_xcalloc(2, sizeof(*c->metrics));
        c->metrics[0] = fe_xstrdup("exact_match");
        c->metrics[1] = fe_xstrdup("f1");
    } else {
        c->metrics = fe_xcalloc((size_t)cJSON_GetArraySize(metrics), sizeof(*c->metrics));
        const cJSON *m;
        cJSON_ArrayForEach(m, metrics) {
            char path[64];
            snprintf(path, sizeof(path), "task.metrics[%zu]", c->n_metrics);
            if (!cJSON_IsString(m))
                return fe_bad_at(k, m, path, "must be a string");
            if (!fe_metric_find(m->valuestring) && strncmp(m->valuestring, "judge:", 6) != 0) {
                struct fe_buf known;
                fe_buf_init(&known, 0);
                for (size_t j = 0; fe_metrics[j]; j++)
                    fe_buf_addf(&known, "%s%s", j ? ", " : "", fe_metrics[j]->name);
                fe_bad(k, path, "unknown metric '%s' (known: %s)", m->valuestring, fe_buf_str(&known));
                fe_buf_release(&known);
                return FE_EINVALID;
            }
            for (size_t j = 0; j < c->n_metrics; j++)
                if (strcmp(c->metrics[j], m->valuestring) == 0)
                    return fe_bad(k, path, "metric '%s' listed twice", m->valuestring);
            c->metrics[c->n_metrics++] = fe_xstrdup(m->valuestring);
        }
    }
    if (fe_opt_string(k, task, "primary_metric", "task.primary_metric", &s) != FE_OK)
        return FE_EINVALID;
    if (s) {
        bool found = false;
        for (size_t j = 0; j < c->n_metrics; j++)
            found = found || strcmp(c->metrics[j], s) == 0;
        if (!found)
            return fe_bad(k, "task.primary_metric", "'%s' is not in task.metrics", s);
    }
    c->primary_metric = fe_xstrdup(s ? s : c->metrics[0]);
    return fe_load_format(k, task);
}

static enum fe_status fe_load_stats(struct fe_cfg *k, const cJSON *root)
{
    struct fe_config *c = k->c;
    fe_stats_opts_default(&c->stats);
    const cJSON *st;
    if (fe_opt_strict(k, root, "stats", &st) != FE_OK)
        return FE_EINVALID;
    double v = (double)c->stats.resamples;
    if (fe_opt_int(k, st, "resamples", "stats.resamples", 1, 1e8, &v, NULL) != FE_OK)
        return FE_EINVALID;
    c->stats.resamples = (size_t)v;
    if (fe_opt_number(k, st, "alpha", "stats.alpha", 1e-9, 0.5, &c->stats.alpha, NULL) != FE_OK)
        return FE_EINVALID;
    v = (double)c->stats.seed;
    if (fe_opt_int(k, st, "seed", "stats.seed", 0, 4294967295.0, &v, NULL) != FE_OK)
        return FE_EINVALID;
    c->stats.seed = (unsigned long)v;
    const char *s;
    if (fe_opt_string(k, st, "correction", "stats.correction", &s) != FE_OK)
        return FE_EINVALID;
    if (s && strcmp(s, "holm") == 0)
        c->stats.correction = FE_CORRECTION_HOLM;
    else if (s && strcmp(s, "bonferroni") == 0)
        c->stats.correction = FE_CORRECTION_BONFERRONI;
    else if (s && strcmp(s, "none") == 0)
        c->stats.correction = FE_CORRECTION_NONE;
    else if (s)
        return fe_bad_at(k, fe_json_get(st, "correction"), "stats.correction",
                         "must be \"holm\", \"bonferroni\" or \"none\"");
    if (fe_opt_string(k, st, "family", "stats.family", &s) != FE_OK)
        return FE_EINVALID;
    if (s && strcmp(s, "all") == 0)
        c->stats.family_all = true;
    else if (s && strcmp(s, "primary") != 0)
        return fe_bad_at(k, fe_json_get(st, "family"), "stats.family", "must be \"primary\" or \"all\"");
    return FE_OK;
}

/* An inline price table: its keys and each row's (a table in a file is checked by cost.c). */
static enum fe_status fe_check_price_table(struct fe_cfg *k, const cJSON *prices)
{
    if (!cJSON_IsObject(prices))
        return FE_OK;
    if (fe_check_keys(k, prices, "prices", "prices") != FE_OK)
        return FE_EINVALID;
    const cJSON *models = fe_json_get(prices, "models");
    if (!cJSON_IsObject(models))
        return FE_OK; /* fe_prices_load names the problem */
    if (fe_check_unique(k, models, "prices.models") != FE_OK)
        return FE_EINVALID;
    const cJSON *row;
    cJSON_ArrayForEach(row, models) {
        char path[400];
        snprintf(path, sizeof(path), "prices.models[\"%s\"]", row->string);
        if (fe_check_keys(k, row, "prices.models.*", path) != FE_OK)
            return FE_EINVALID;
    }
    return FE_OK;
}

/* A string or a boolean: the evidence keys that take a path or a declaration. */
static enum fe_status fe_opt_string_or_bool(struct fe_cfg *k, const cJSON *o, const char *name,
                                            const char *path)
{
    const cJSON *v = fe_json_get(o, name);
    if (!v || cJSON_IsNull(v) || cJSON_IsString(v) || cJSON_IsBool(v))
        return FE_OK;
    return fe_bad_at(k, v, path, "must be a string or true/false");
}

/* Objects the decision and the report read from the manifest's copy of the config
 * (docs/decision.md): checked here so that a typo or a wrong type fails before a run, not
 * as a silently missing input afterwards. */
static enum fe_status fe_check_report_objects(struct fe_cfg *k, const cJSON *root)
{
    const cJSON *o;
    double v = 0;
    const char *s = NULL;
    bool b = false;
    if (fe_opt_strict(k, root, "training", &o) != FE_OK ||
        fe_opt_number(k, o, "cost_usd", "training.cost_usd", 0, 1e12, &v, NULL) != FE_OK ||
        fe_opt_int(k, o, "trained_tokens", "training.trained_tokens", 0, 1e15, &v, NULL) != FE_OK)
        return FE_EINVALID;
    if (fe_opt_strict(k, root, "traffic", &o) != FE_OK ||
        fe_opt_number(k, o, "requests_per_month", "traffic.requests_per_month", 0, 1e15, &v, NULL) != FE_OK)
        return FE_EINVALID;
    if (fe_opt_strict(k, root, "decision", &o) != FE_OK ||
        fe_opt_number(k, o, "margin", "decision.margin", 0, 1, &v, NULL) != FE_OK ||
        fe_opt_number(k, o, "min_relative_saving", "decision.min_relative_saving", 0, 1, &v, NULL) != FE_OK ||
        fe_opt_number(k, o, "max_error_rate", "decision.max_error_rate", 0, 1, &v, NULL) != FE_OK ||
        fe_opt_string(k, o, "distill_report", "decision.distill_report", &s) != FE_OK)
        return FE_EINVALID;
    if (fe_opt_strict(k, root, "evidence", &o) != FE_OK ||
        fe_opt_bool(k, o, "expert_reviewed", "evidence.expert_reviewed", &b) != FE_OK ||
        fe_opt_bool(k, o, "rag_tried", "evidence.rag_tried", &b) != FE_OK ||
        fe_opt_string_or_bool(k, o, "human_ratings", "evidence.human_ratings") != FE_OK ||
        fe_opt_string_or_bool(k, o, "data_check", "evidence.data_check") != FE_OK ||
        fe_opt_string_or_bool(k, o, "monitoring", "evidence.monitoring") != FE_OK)
        return FE_EINVALID;
    return FE_OK;
}

/* $schema, name (it names a folder) and dataset (relative to the config). */
static enum fe_status fe_load_names(struct fe_cfg *k, const cJSON *root)
{
    struct fe_config *c = k->c;
    const char *s;
    if (fe_opt_string(k, root, "$schema", "$schema", &s) != FE_OK)
        return FE_EINVALID;
    if (fe_req_string(k, root, "name", "name", &s) != FE_OK)
        return FE_EINVALID;
    for (const char *p = s; *p; p++)
        if (*p == '/' || (p == s && *p == '.'))
            return fe_bad(k, "name", "'%s' must not contain '/' or start with '.' (it names a folder)", s);
    c->name = fe_xstrdup(s);
    if (fe_req_string(k, root, "dataset", "dataset", &s) != FE_OK)
        return FE_EINVALID;
    c->dataset_path = fe_path_relative_to(c->path, s);
    return FE_OK;
}

/* prices: an inline table (its keys checked here) or a file; each arm's price looked up. */
static enum fe_status fe_load_prices(struct fe_cfg *k, const cJSON *root)
{
    struct fe_config *c = k->c;
    const cJSON *prices = fe_json_get(root, "prices");
    if (fe_check_price_table(k, prices) != FE_OK)
        return FE_EINVALID;
    if (prices && !cJSON_IsNull(prices)) {
        struct fe_err perr = {0};
        c->prices = fe_prices_load(prices, c->path, &perr);
        if (!c->prices)
            return fe_bad(k, "prices", "%s", perr.msg);
        for (size_t j = 0; j < c->n_arms; j++) {
            struct fe_arm_conf *arm = &c->arms[j];
            const char *row = arm->price_model ? arm->price_model : arm->model; /* Azure: a deployment */
            arm->has_price = row && fe_prices_lookup(c->prices, row, &arm->price);
        }
    }
    return FE_OK;
}

/* budget.max_usd, max_error_rate and cache. */
static enum fe_status fe_load_limits(struct fe_cfg *k, const cJSON *root)
{
    struct fe_config *c = k->c;
    const cJSON *budget;
    if (fe_opt_strict(k, root, "budget", &budget) != FE_OK ||
        fe_opt_number(k, budget, "max_usd", "budget.max_usd", 0, 1e12, &c->budget_max_usd, &c->has_budget) != FE_OK)
        return FE_EINVALID;
    c->max_error_rate = 0.05;
    if (fe_opt_number(k, root, "max_error_rate", "max_error_rate", 0, 1, &c->max_error_rate, NULL) != FE_OK)
        return FE_EINVALID;
    if (fe_opt_bool(k, root, "cache", "cache", &c->cache) != FE_OK)
        return FE_EINVALID;
    return FE_OK;
}

/* The top-level keys in the order their errors are reported. */
static enum fe_status fe_config_parse(struct fe_cfg *k, const char *arms_filter)
{
    cJSON *root = k->c->json;
    if (!cJSON_IsObject(root))
        return fe_bad(k, "(root)", "must be a JSON object");
    if (fe_check_keys(k, root, "(root)", "") != FE_OK)
        return FE_EINVALID;
    struct fe_defaults d;
    if (fe_load_names(k, root) != FE_OK || fe_load_task(k, root) != FE_OK ||
        fe_load_dataset_opts(k, root) != FE_OK || fe_load_defaults(k, root, &d) != FE_OK ||
        fe_load_providers(k, fe_json_get(root, "providers")) != FE_OK)
        return FE_EINVALID;
    enum fe_status st = fe_load_arms(k, fe_json_get(root, "arms"), &d, arms_filter);
    if (st != FE_OK)
        return st;
    if (fe_pick_arms(k, root, arms_filter) != FE_OK || fe_load_prices(k, root) != FE_OK ||
        fe_load_stats(k, root) != FE_OK || fe_load_limits(k, root) != FE_OK ||
        fe_check_report_objects(k, root) != FE_OK || fe_load_judges(k, root, &d) != FE_OK ||
        fe_check_distill(k, root) != FE_OK)
        return FE_EINVALID;
    return fe_read_keys(k);
}

static bool fe_is_yaml_name(const char *path)
{
    size_t n = strlen(path);
    return (n >= 5 && strcasecmp(path + n - 5, ".yaml") == 0) ||
           (n >= 4 && strcasecmp(path + n - 4, ".yml") == 0);
}

/* The tree of a config's text: YAML when the name ends in .yaml/.yml (*pos then holds every
 * item's position, caller frees), else JSON. NULL with err "path:line:col: ...". A .json file
 * that is not JSON but is a YAML mapping says so. */
static cJSON *fe_config_tree(const char *text, size_t len, const char *path, struct fe_yaml_pos **pos,
                             size_t *n_pos, struct fe_err *err)
{
    *pos = NULL;
    *n_pos = 0;
    if (fe_is_yaml_name(path))
        return fe_yaml_parse(text, len, path, pos, n_pos, err);
    const char *end = NULL;
    cJSON *json = cJSON_ParseWithLengthOpts(text, len, &end, false);
    if (json)
        return json;
    size_t line = 1, col = 1;
    for (const char *p = text; end && p < end && p < text + len; p++) {
        if (*p == '\n')
            line++, col = 1;
        else
            col++;
    }
    struct fe_err yerr = {0};
    struct fe_yaml_pos *ypos = NULL;
    size_t yn = 0;
    cJSON *yaml = fe_yaml_parse(text, len, path, &ypos, &yn, &yerr);
    bool is_yaml = cJSON_IsObject(yaml);
    cJSON_Delete(yaml);
    free(ypos);
    if (is_yaml)
        fe_err_set(err, FE_EINVALID, "%s:%zu:%zu: invalid JSON; this file is YAML: name it .yaml or .yml",
                   path, line, col);
    else
        fe_err_set(err, FE_EINVALID, "%s:%zu:%zu: invalid JSON", path, line, col);
    return NULL;
}

enum fe_status fe_config_read_tree(const char *path, cJSON **out, struct fe_err *err)
{
    size_t len;
    char *text = fe_read_file(path, 64u * 1024 * 1024, &len);
    if (!text)
        return fe_err_set(err, FE_EINVALID, "%s: cannot read: %s", path, strerror(errno));
    struct fe_yaml_pos *pos;
    size_t n_pos;
    *out = fe_config_tree(text, len, path, &pos, &n_pos, err);
    free(text);
    free(pos);
    return *out ? FE_OK : FE_EINVALID;
}

static enum fe_status fe_config_load_impl(const char *text, size_t len, const char *path,
                                          const char *arms_filter, unsigned flags,
                                          struct fe_config **out, struct fe_err *err)
{
    struct fe_config *c = fe_xcalloc(1, sizeof(*c));
    c->path = fe_xstrdup(path);
    struct fe_yaml_pos *pos;
    size_t n_pos;
    c->json = fe_config_tree(text, len, path, &pos, &n_pos, err);
    if (!c->json) {
        fe_config_free(c);
        return FE_EINVALID;
    }
    struct fe_cfg k = {.c = c, .err = err, .text = pos ? NULL : text, .len = len, .flags = flags,
                       .pos = pos, .n_pos = n_pos};
    enum fe_status st = fe_config_parse(&k, arms_filter);
    free(pos);
    if (st != FE_OK) {
        fe_config_free(c);
        return st;
    }
    *out = c;
    return FE_OK;
}

enum fe_status fe_config_load_opts(const char *path, const char *arms_filter, unsigned flags,
                                   struct fe_config **out, struct fe_err *err)
{
    size_t len;
    char *text = fe_read_file(path, 64u * 1024 * 1024, &len);
    if (!text)
        return fe_err_set(err, FE_EINVALID, "%s: cannot read: %s", path, strerror(errno));
    enum fe_status st = fe_config_load_impl(text, len, path, arms_filter, flags, out, err);
    free(text);
    return st;
}

enum fe_status fe_config_load(const char *path, const char *arms_filter, struct fe_config **out,
                              struct fe_err *err)
{
    return fe_config_load_opts(path, arms_filter, 0, out, err);
}

enum fe_status fe_config_load_text(const char *text, size_t len, const char *path,
                                   const char *arms_filter, struct fe_config **out, struct fe_err *err)
{
    return fe_config_load_impl(text, len, path, arms_filter, 0, out, err);
}

static void fe_free_secret(char *s)
{
    if (s)
        memset(s, 0, strlen(s));
    free(s);
}

void fe_config_free(struct fe_config *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->n_arms; i++)
        fe_arm_release(&c->arms[i]);
    free(c->arms);
    fe_judges_release(c);
    for (size_t i = 0; i < c->n_providers; i++) {
        struct fe_provider_entry *e = &c->providers[i];
        free(e->api_key);
        free(e->api_key_env);
        free(e->base_url);
        free(e->path);
        free(e->token_env);
        fe_free_secret(e->bearer_token);
        free(e->region);
        free(e->aws_access_key_id);
        fe_free_secret(e->aws_secret_access_key);
        fe_free_secret(e->aws_session_token);
    }
    free(c->providers);
    for (size_t i = 0; i < c->n_metrics; i++)
        free(c->metrics[i]);
    free(c->metrics);
    free(c->primary_metric);
    free(c->name);
    free(c->dataset_path);
    fe_dataset_opts_release(c);
    free(c->template);
    fe_jsonschema_free(c->task_schema);
    free(c->task_schema_source);
    fe_regex_free(c->task_pattern);
    free(c->baseline_arm);
    free(c->candidate_arm);
    fe_prices_free(c->prices);
    cJSON_Delete(c->json);
    free(c->path);
    free(c);
}

cJSON *fe_config_to_manifest_json(const struct fe_config *c)
{
    cJSON *j = cJSON_Duplicate(c->json, true);
    cJSON_ReplaceItemInObjectCaseSensitive(j, "dataset", cJSON_CreateString(c->dataset_path));
    cJSON *providers = cJSON_GetObjectItemCaseSensitive(j, "providers");
    cJSON *p;
    cJSON_ArrayForEach(p, providers) {
        cJSON *headers = cJSON_GetObjectItemCaseSensitive(p, "headers");
        cJSON *h;
        cJSON_ArrayForEach(h, headers) {
            if (cJSON_IsString(h))
                cJSON_SetValuestring(h, "[REDACTED]");
        }
    }
    return j;
}
