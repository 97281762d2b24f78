/* config.c — see config.h. Validation reports the first problem with its JSON path. */
#include "harness/config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness/buf.h"
#include "harness/log.h"
#include "harness/template.h"
#include "harness/util.h"
#include "metrics/metric.h"

#define FE_MAX_PROMPT_FILE (16u * 1024 * 1024)

struct fe_cfg {
    struct fe_config *c;
    struct fe_err *err;
};

static enum fe_status fe_bad(struct fe_cfg *k, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static enum fe_status fe_bad(struct fe_cfg *k, const char *path, const char *fmt, ...)
{
    char msg[700];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    return fe_err_set(k->err, FE_EINVALID, "%s: %s: %s", k->c->path, path, msg);
}

static const cJSON *fe_field(const cJSON *o, const char *name)
{
    return cJSON_GetObjectItemCaseSensitive(o, name);
}

/* Optional string field: absent/null -> *out NULL. */
static enum fe_status fe_opt_string(struct fe_cfg *k, const cJSON *o, const char *name,
                                    const char *path, const char **out)
{
    const cJSON *v = fe_field(o, name);
    *out = NULL;
    if (!v || cJSON_IsNull(v))
        return FE_OK;
    if (!cJSON_IsString(v))
        return fe_bad(k, path, "must be a string");
    *out = v->valuestring;
    return FE_OK;
}

static enum fe_status fe_req_string(struct fe_cfg *k, const cJSON *o, const char *name,
                                    const char *path, const char **out)
{
    if (fe_opt_string(k, o, name, path, out) != FE_OK)
        return FE_EINVALID;
    if (!*out || !**out)
        return fe_bad(k, path, "missing");
    return FE_OK;
}

/* Optional number in [lo, hi]; absent leaves *out unchanged and *present false. */
static enum fe_status fe_opt_number(struct fe_cfg *k, const cJSON *o, const char *name,
                                    const char *path, double lo, double hi, double *out,
                                    bool *present)
{
    const cJSON *v = fe_field(o, name);
    if (present)
        *present = false;
    if (!v || cJSON_IsNull(v))
        return FE_OK;
    if (!cJSON_IsNumber(v))
        return fe_bad(k, path, "must be a number");
    if (v->valuedouble < lo || v->valuedouble > hi)
        return fe_bad(k, path, "must be between %g and %g", lo, hi);
    *out = v->valuedouble;
    if (present)
        *present = true;
    return FE_OK;
}

static enum fe_status fe_opt_object(struct fe_cfg *k, const cJSON *o, const char *name,
                                    const char *path, const cJSON **out)
{
    const cJSON *v = fe_field(o, name);
    *out = NULL;
    if (!v || cJSON_IsNull(v))
        return FE_OK;
    if (!cJSON_IsObject(v))
        return fe_bad(k, path, "must be an object");
    *out = v;
    return FE_OK;
}

/* Reads a prompt file; records its sha256. */
static char *fe_read_prompt_file(struct fe_cfg *k, const char *path, const char *json_path,
                                 char sha[65])
{
    size_t len;
    char *text = fe_read_file(path, FE_MAX_PROMPT_FILE, &len);
    if (!text) {
        fe_bad(k, json_path, "cannot read '%s': %s", path, strerror(errno));
        return NULL;
    }
    if (fe_utf8_check(text, len) != len || strlen(text) != len) {
        fe_bad(k, json_path, "'%s' is not valid UTF-8 text", path);
        free(text);
        return NULL;
    }
    fe_sha256_hex(text, len, sha);
    return text;
}

static void fe_add_message(struct fe_message **m, size_t *n, const char *role, const char *content)
{
    *m = fe_xreallocarray(*m, *n + 1, sizeof(**m));
    (*m)[*n].role = fe_xstrdup(role);
    (*m)[*n].content = fe_xstrdup(content);
    (*n)++;
}

void fe_messages_free(struct fe_message *m, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(m[i].role);
        free(m[i].content);
    }
    free(m);
}

/* Few-shot rows in either dataset shape become user/assistant pairs. */
static enum fe_status fe_few_shot_row(struct fe_cfg *k, struct fe_arm_conf *arm, const char *tmpl,
                                      const cJSON *row, const char *where)
{
    char *text = cJSON_PrintUnformatted(row);
    struct fe_example ex;
    struct fe_err perr = {0};
    int rc = fe_example_parse(text, strlen(text), where, 0, &ex, &perr);
    cJSON_free(text);
    if (rc != 0)
        return fe_bad(k, where, "not a dataset row: %s", perr.msg);
    if (ex.chat) {
        for (size_t i = 0; i < ex.n_messages; i++)
            if (strcmp(ex.messages[i].role, "system") != 0 && strcmp(ex.messages[i].role, "developer") != 0)
                fe_add_message(&arm->few_shot, &arm->n_few_shot, ex.messages[i].role, ex.messages[i].content);
    } else {
        char *user = fe_template_render(tmpl, ex.row, &perr);
        if (!user) {
            fe_example_release(&ex);
            return fe_bad(k, where, "%s", perr.msg);
        }
        fe_add_message(&arm->few_shot, &arm->n_few_shot, "user", user);
        free(user);
    }
    fe_add_message(&arm->few_shot, &arm->n_few_shot, "assistant", ex.golds[0]);
    fe_example_release(&ex);
    return FE_OK;
}

static enum fe_status fe_load_few_shot(struct fe_cfg *k, struct fe_arm_conf *arm, const cJSON *v,
                                       const char *path)
{
    if (!v || cJSON_IsNull(v))
        return FE_OK;
    if (cJSON_IsArray(v)) {
        arm->few_shot_source = fe_xstrdup("inline");
        char *text = cJSON_PrintUnformatted(v);
        fe_sha256_hex(text, strlen(text), arm->few_shot_sha256);
        cJSON_free(text);
        int i = 0;
        const cJSON *row;
        cJSON_ArrayForEach(row, v) {
            char where[256];
            snprintf(where, sizeof(where), "%s[%d]", path, i++);
            if (fe_few_shot_row(k, arm, arm->template, row, where) != FE_OK)
                return FE_EINVALID;
        }
        return FE_OK;
    }
    if (!cJSON_IsString(v))
        return fe_bad(k, path, "must be an array of examples or a JSONL file path");
    const char *rel = v->valuestring[0] == '@' ? v->valuestring + 1 : v->valuestring;
    char *file = fe_path_relative_to(k->c->path, rel);
    arm->few_shot_source = file;
    if (fe_sha256_file(file, arm->few_shot_sha256) != 0)
        return fe_bad(k, path, "cannot read '%s': %s", file, strerror(errno));
    struct fe_example *rows = NULL;
    size_t n = 0;
    struct fe_err derr = {0};
    if (fe_dataset_load(file, &rows, &n, &derr) != FE_OK)
        return fe_bad(k, path, "%s", derr.msg);
    enum fe_status st = FE_OK;
    for (size_t i = 0; i < n && st == FE_OK; i++) {
        char where[512];
        snprintf(where, sizeof(where), "%s:%zu", file, rows[i].line);
        st = fe_few_shot_row(k, arm, arm->template, rows[i].row, where);
    }
    fe_examples_free(rows, n);
    return st;
}

static enum fe_status fe_load_providers(struct fe_cfg *k, const cJSON *providers)
{
    struct fe_config *c = k->c;
    if (!cJSON_IsObject(providers) || !providers->child)
        return fe_bad(k, "providers", "missing (an object of named providers)");
    c->n_providers = (size_t)cJSON_GetArraySize(providers);
    c->providers = fe_xcalloc(c->n_providers, sizeof(*c->providers));
    size_t i = 0;
    const cJSON *p;
    cJSON_ArrayForEach(p, providers) {
        struct fe_provider_entry *e = &c->providers[i++];
        char path[300];
        snprintf(path, sizeof(path), "providers.%s", p->string);
        e->conf.name = p->string;
        if (!cJSON_IsObject(p))
            return fe_bad(k, path, "must be an object");
        char sub[400];
        snprintf(sub, sizeof(sub), "%s.type", path);
        if (fe_req_string(k, p, "type", sub, &e->conf.type) != FE_OK)
            return FE_EINVALID;
        e->ops = fe_provider_find(e->conf.type);
        if (!e->ops) {
            struct fe_buf known;
            fe_buf_init(&known, 0);
            for (size_t j = 0; fe_providers[j]; j++)
                fe_buf_addf(&known, "%s%s", j ? ", " : "", fe_providers[j]->name);
            fe_bad(k, sub, "unknown provider type '%s' (known: %s)", e->conf.type, fe_buf_str(&known));
            fe_buf_release(&known);
            return FE_EINVALID;
        }
        const char *s;
        snprintf(sub, sizeof(sub), "%s.base_url_env", path);
        const char *url_env;
        if (fe_opt_string(k, p, "base_url_env", sub, &url_env) != FE_OK)
            return FE_EINVALID;
        snprintf(sub, sizeof(sub), "%s.base_url", path);
        if (fe_opt_string(k, p, "base_url", sub, &s) != FE_OK)
            return FE_EINVALID;
        if (url_env && getenv(url_env) && *getenv(url_env)) /* e.g. a simulator on a free port */
            s = getenv(url_env);
        if (e->ops->caps & FE_CAP_HTTP) {
            if (!s || !*s)
                return fe_bad(k, sub, "missing");
            if (strncmp(s, "http://", 7) != 0 && strncmp(s, "https://", 8) != 0)
                return fe_bad(k, sub, "must start with http:// or https://");
            e->base_url = fe_xstrdup(s);
            size_t len = strlen(e->base_url);
            while (len && e->base_url[len - 1] == '/')
                e->base_url[--len] = '\0';
            e->conf.base_url = e->base_url;
        }
        snprintf(sub, sizeof(sub), "%s.api_key_env", path);
        if (fe_opt_string(k, p, "api_key_env", sub, &s) != FE_OK)
            return FE_EINVALID;
        e->api_key_env = fe_xstrdup(s);
        snprintf(sub, sizeof(sub), "%s.cap_field", path);
        if (fe_opt_string(k, p, "cap_field", sub, &e->conf.cap_field) != FE_OK)
            return FE_EINVALID;
        if (e->conf.cap_field && strcmp(e->conf.cap_field, "max_tokens") != 0 &&
            strcmp(e->conf.cap_field, "max_completion_tokens") != 0)
            return fe_bad(k, sub, "must be \"max_tokens\" or \"max_completion_tokens\"");
        snprintf(sub, sizeof(sub), "%s.anthropic_version", path);
        if (fe_opt_string(k, p, "anthropic_version", sub, &e->conf.anthropic_version) != FE_OK)
            return FE_EINVALID;
        snprintf(sub, sizeof(sub), "%s.path", path);
        if (fe_opt_string(k, p, "path", sub, &s) != FE_OK)
            return FE_EINVALID;
        if (s) {
            e->path = fe_path_relative_to(c->path, s);
            e->conf.path = e->path;
        } else if (e->ops->caps & FE_CAP_OFFLINE) {
            return fe_bad(k, sub, "missing (the recorded results to replay)");
        }
        snprintf(sub, sizeof(sub), "%s.headers", path);
        if (fe_opt_object(k, p, "headers", sub, &e->conf.headers) != FE_OK)
            return FE_EINVALID;
        snprintf(sub, sizeof(sub), "%s.extra_body", path);
        if (fe_opt_object(k, p, "extra_body", sub, &e->conf.extra_body) != FE_OK)
            return FE_EINVALID;
        double d = 0;
        snprintf(sub, sizeof(sub), "%s.rpm", path);
        if (fe_opt_number(k, p, "rpm", sub, 0, 1e9, &e->rpm, NULL) != FE_OK)
            return FE_EINVALID;
        snprintf(sub, sizeof(sub), "%s.tpm", path);
        if (fe_opt_number(k, p, "tpm", sub, 0, 1e12, &e->tpm, NULL) != FE_OK)
            return FE_EINVALID;
        snprintf(sub, sizeof(sub), "%s.concurrency", path);
        if (fe_opt_number(k, p, "concurrency", sub, 1, 100000, &d, NULL) != FE_OK)
            return FE_EINVALID;
        e->concurrency = (long)d;
        e->max_wait_s = 120;
        snprintf(sub, sizeof(sub), "%s.max_wait_s", path);
        if (fe_opt_number(k, p, "max_wait_s", sub, 0, 31536000, &e->max_wait_s, NULL) != FE_OK)
            return FE_EINVALID;
    }
    return FE_OK;
}

static struct fe_provider_entry *fe_find_provider(struct fe_config *c, const char *name)
{
    for (size_t i = 0; i < c->n_providers; i++)
        if (strcmp(c->providers[i].conf.name, name) == 0)
            return &c->providers[i];
    return NULL;
}

struct fe_defaults {
    bool has_temperature;
    double temperature, max_tokens, seed, timeout_s, max_retries;
    bool has_seed;
};

static enum fe_status fe_load_arm(struct fe_cfg *k, const cJSON *a, size_t i,
                                  const struct fe_defaults *d, struct fe_arm_conf *arm)
{
    struct fe_config *c = k->c;
    char path[64], sub[128];
    snprintf(path, sizeof(path), "arms[%zu]", i);
    if (!cJSON_IsObject(a))
        return fe_bad(k, path, "must be an object");
    const char *s;
    snprintf(sub, sizeof(sub), "%s.name", path);
    if (fe_req_string(k, a, "name", sub, &s) != FE_OK)
        return FE_EINVALID;
    for (const char *p = s; *p; p++)
        if (!(('a' <= *p && *p <= 'z') || ('A' <= *p && *p <= 'Z') || ('0' <= *p && *p <= '9') ||
              *p == '-' || *p == '_' || *p == '.') || s[0] == '.')
            return fe_bad(k, sub, "'%s': use letters, digits, '-', '_' and '.' (it names a file)", s);
    arm->name = fe_xstrdup(s);
    arm->trained_tokens = -1;
    arm->checkpoint_step = -1;
    snprintf(sub, sizeof(sub), "%s.provider", path);
    if (fe_req_string(k, a, "provider", sub, &s) != FE_OK)
        return FE_EINVALID;
    arm->provider = fe_find_provider(c, s);
    if (!arm->provider)
        return fe_bad(k, sub, "no provider named '%s' in \"providers\"", s);
    snprintf(sub, sizeof(sub), "%s.finetune_job", path);
    if (fe_opt_string(k, a, "finetune_job", sub, &s) != FE_OK)
        return FE_EINVALID;
    arm->finetune_job = fe_xstrdup(s);
    arm->checkpoints = cJSON_IsTrue(fe_field(a, "checkpoints"));
    snprintf(sub, sizeof(sub), "%s.model", path);
    if (arm->finetune_job ? fe_opt_string(k, a, "model", sub, &s) : fe_req_string(k, a, "model", sub, &s))
        return FE_EINVALID;
    arm->model = fe_xstrdup(s);

    snprintf(sub, sizeof(sub), "%s.template", path);
    if (fe_opt_string(k, a, "template", sub, &s) != FE_OK)
        return FE_EINVALID;
    arm->template = s ? s : c->template;

    const cJSON *sys = fe_field(a, "system");
    snprintf(sub, sizeof(sub), "%s.system", path);
    if (sys && !cJSON_IsNull(sys)) {
        if (!cJSON_IsString(sys))
            return fe_bad(k, sub, "must be a string (inline text or @file)");
        if (sys->valuestring[0] == '@') {
            char *file = fe_path_relative_to(c->path, sys->valuestring + 1);
            arm->system_source = file;
            arm->system = fe_read_prompt_file(k, file, sub, arm->system_sha256);
            if (!arm->system)
                return FE_EINVALID;
        } else {
            arm->system_source = fe_xstrdup("inline");
            arm->system = fe_xstrdup(sys->valuestring);
            fe_sha256_hex(arm->system, strlen(arm->system), arm->system_sha256);
        }
    }
    snprintf(sub, sizeof(sub), "%s.few_shot", path);
    if (fe_load_few_shot(k, arm, fe_field(a, "few_shot"), sub) != FE_OK)
        return FE_EINVALID;

    arm->has_temperature = d->has_temperature;
    arm->temperature = d->temperature;
    double v = d->max_tokens;
    bool present;
    snprintf(sub, sizeof(sub), "%s.temperature", path);
    if (fe_opt_number(k, a, "temperature", sub, 0, 2, &arm->temperature, &present) != FE_OK)
        return FE_EINVALID;
    arm->has_temperature = arm->has_temperature || present;
    snprintf(sub, sizeof(sub), "%s.max_tokens", path);
    if (fe_opt_number(k, a, "max_tokens", sub, 1, 1e7, &v, NULL) != FE_OK)
        return FE_EINVALID;
    arm->max_tokens = (long)v;
    v = d->seed;
    snprintf(sub, sizeof(sub), "%s.seed", path);
    if (fe_opt_number(k, a, "seed", sub, -9.2e18, 9.2e18, &v, &present) != FE_OK)
        return FE_EINVALID;
    arm->has_seed = d->has_seed || present;
    arm->seed = (long)v;
    arm->timeout_s = d->timeout_s;
    snprintf(sub, sizeof(sub), "%s.timeout_s", path);
    if (fe_opt_number(k, a, "timeout_s", sub, 0.001, 86400, &arm->timeout_s, NULL) != FE_OK)
        return FE_EINVALID;
    v = d->max_retries;
    snprintf(sub, sizeof(sub), "%s.max_retries", path);
    if (fe_opt_number(k, a, "max_retries", sub, 0, 100, &v, NULL) != FE_OK)
        return FE_EINVALID;
    arm->max_retries = (long)v;
    snprintf(sub, sizeof(sub), "%s.extra_body", path);
    if (fe_opt_object(k, a, "extra_body", sub, &arm->extra_body) != FE_OK)
        return FE_EINVALID;
    return FE_OK;
}

static void fe_arm_release(struct fe_arm_conf *a)
{
    free(a->name);
    free(a->model);
    free(a->finetune_job);
    free(a->system);
    free(a->system_source);
    free(a->few_shot_source);
    free(a->ft_base_model);
    fe_messages_free(a->few_shot, a->n_few_shot);
    memset(a, 0, sizeof(*a));
}

static bool fe_in_filter(const char *filter, const char *name)
{
    if (!filter)
        return true;
    size_t len = strlen(name);
    for (const char *p = filter; *p;) {
        const char *comma = strchr(p, ',');
        size_t n = comma ? (size_t)(comma - p) : strlen(p);
        if (n == len && strncmp(p, name, n) == 0)
            return true;
        p += n + (comma ? 1 : 0);
    }
    return false;
}

static enum fe_status fe_load_task(struct fe_cfg *k, const cJSON *root)
{
    struct fe_config *c = k->c;
    const cJSON *task;
    if (fe_opt_object(k, root, "task", "task", &task) != FE_OK)
        return FE_EINVALID;
    const char *s;
    if (fe_opt_string(k, task, "template", "task.template", &s) != FE_OK)
        return FE_EINVALID;
    c->template = fe_xstrdup(s ? s : "{input}");
    const cJSON *metrics = fe_field(task, "metrics");
    if (metrics && !cJSON_IsArray(metrics))
        return fe_bad(k, "task.metrics", "must be an array of metric names");
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
                return fe_bad(k, path, "must be a string");
            if (!fe_metric_find(m->valuestring)) {
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
    return FE_OK;
}

static enum fe_status fe_load_stats(struct fe_cfg *k, const cJSON *root)
{
    struct fe_config *c = k->c;
    fe_stats_opts_default(&c->stats);
    const cJSON *st;
    if (fe_opt_object(k, root, "stats", "stats", &st) != FE_OK)
        return FE_EINVALID;
    double v = (double)c->stats.resamples;
    if (fe_opt_number(k, st, "resamples", "stats.resamples", 1, 1e8, &v, NULL) != FE_OK)
        return FE_EINVALID;
    c->stats.resamples = (size_t)v;
    if (fe_opt_number(k, st, "alpha", "stats.alpha", 1e-9, 0.5, &c->stats.alpha, NULL) != FE_OK)
        return FE_EINVALID;
    v = (double)c->stats.seed;
    if (fe_opt_number(k, st, "seed", "stats.seed", 0, 4294967295.0, &v, NULL) != FE_OK)
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
        return fe_bad(k, "stats.correction", "must be \"holm\", \"bonferroni\" or \"none\"");
    return FE_OK;
}

static enum fe_status fe_read_keys(struct fe_cfg *k)
{
    struct fe_config *c = k->c;
    for (size_t i = 0; i < c->n_providers; i++) {
        struct fe_provider_entry *e = &c->providers[i];
        if (!e->used || !e->api_key_env)
            continue;
        const char *key = getenv(e->api_key_env);
        if (!key || !*key) {
            const char *arm = "";
            for (size_t a = 0; a < c->n_arms; a++)
                if (c->arms[a].provider == e) {
                    arm = c->arms[a].name;
                    break;
                }
            char path[300];
            snprintf(path, sizeof(path), "providers.%s.api_key_env", e->conf.name);
            return fe_bad(k, path, "environment variable %s is not set (needed by arm '%s')",
                          e->api_key_env, arm);
        }
        e->api_key = fe_xstrdup(key);
        e->conf.api_key = e->api_key;
        fe_log_add_secret(key);
    }
    return FE_OK;
}

static enum fe_status fe_config_parse(struct fe_cfg *k, const char *arms_filter)
{
    struct fe_config *c = k->c;
    cJSON *root = c->json;
    if (!cJSON_IsObject(root))
        return fe_bad(k, "(root)", "must be a JSON object");
    const char *s;
    if (fe_req_string(k, root, "name", "name", &s) != FE_OK)
        return FE_EINVALID;
    for (const char *p = s; *p; p++)
        if (*p == '/' || (p == s && *p == '.'))
            return fe_bad(k, "name", "'%s' must not contain '/' or start with '.' (it names a folder)", s);
    c->name = fe_xstrdup(s);
    if (fe_req_string(k, root, "dataset", "dataset", &s) != FE_OK)
        return FE_EINVALID;
    c->dataset_path = fe_path_relative_to(c->path, s);
    if (fe_load_task(k, root) != FE_OK)
        return FE_EINVALID;

    const cJSON *dflt;
    if (fe_opt_object(k, root, "defaults", "defaults", &dflt) != FE_OK)
        return FE_EINVALID;
    struct fe_defaults d = {.temperature = 0, .max_tokens = 256, .seed = 0, .timeout_s = 60, .max_retries = 4};
    double conc = 16;
    if (fe_opt_number(k, dflt, "temperature", "defaults.temperature", 0, 2, &d.temperature, &d.has_temperature) ||
        fe_opt_number(k, dflt, "max_tokens", "defaults.max_tokens", 1, 1e7, &d.max_tokens, NULL) ||
        fe_opt_number(k, dflt, "seed", "defaults.seed", -9.2e18, 9.2e18, &d.seed, &d.has_seed) ||
        fe_opt_number(k, dflt, "timeout_s", "defaults.timeout_s", 0.001, 86400, &d.timeout_s, NULL) ||
        fe_opt_number(k, dflt, "max_retries", "defaults.max_retries", 0, 100, &d.max_retries, NULL) ||
        fe_opt_number(k, dflt, "concurrency", "defaults.concurrency", 1, 100000, &conc, NULL))
        return FE_EINVALID;
    c->concurrency = (long)conc;

    if (fe_load_providers(k, fe_field(root, "providers")) != FE_OK)
        return FE_EINVALID;
    const cJSON *arms = fe_field(root, "arms");
    if (!cJSON_IsArray(arms) || cJSON_GetArraySize(arms) == 0)
        return fe_bad(k, "arms", "missing (a non-empty array)");
    c->arms = fe_xcalloc((size_t)cJSON_GetArraySize(arms), sizeof(*c->arms));
    size_t i = 0;
    const cJSON *a;
    cJSON_ArrayForEach(a, arms) {
        struct fe_arm_conf arm = {0};
        enum fe_status st = fe_load_arm(k, a, i, &d, &arm);
        if (st == FE_OK) {
            for (size_t j = 0; j < c->n_arms; j++)
                if (strcmp(c->arms[j].name, arm.name) == 0) {
                    char path[64];
                    snprintf(path, sizeof(path), "arms[%zu].name", i);
                    st = fe_bad(k, path, "duplicate arm name '%s'", arm.name);
                }
        }
        bool keep = st == FE_OK && fe_in_filter(arms_filter, arm.name);
        if (keep) {
            c->arms[c->n_arms++] = arm;
            arm.provider->used = true;
        } else {
            fe_arm_release(&arm);
        }
        if (st != FE_OK)
            return st;
        i++;
    }
    if (c->n_arms == 0)
        return fe_bad(k, "arms", "no arm matches --arms '%s'", arms_filter ? arms_filter : "");

    if (fe_opt_string(k, root, "baseline_arm", "baseline_arm", &s) != FE_OK)
        return FE_EINVALID;
    if (s && fe_config_arm_index(c, s) < 0) {
        if (!arms_filter)
            return fe_bad(k, "baseline_arm", "no arm named '%s'", s);
        s = NULL;
    }
    c->baseline_arm = fe_xstrdup(s ? s : c->arms[0].name);
    if (fe_opt_string(k, root, "candidate_arm", "candidate_arm", &s) != FE_OK)
        return FE_EINVALID;
    if (s && fe_config_arm_index(c, s) < 0) {
        if (!arms_filter)
            return fe_bad(k, "candidate_arm", "no arm named '%s'", s);
        s = NULL;
    }
    if (!s) {
        for (size_t j = 0; j < c->n_arms && !s; j++)
            if ((c->arms[j].model && strncmp(c->arms[j].model, "ft:", 3) == 0) || c->arms[j].finetune_job)
                s = c->arms[j].name;
        if (!s)
            s = c->arms[c->n_arms - 1].name;
    }
    c->candidate_arm = fe_xstrdup(s);

    const cJSON *prices = fe_field(root, "prices");
    if (prices && !cJSON_IsNull(prices)) {
        struct fe_err perr = {0};
        c->prices = fe_prices_load(prices, c->path, &perr);
        if (!c->prices)
            return fe_bad(k, "prices", "%s", perr.msg);
        for (size_t j = 0; j < c->n_arms; j++) {
            struct fe_arm_conf *arm = &c->arms[j];
            arm->has_price = arm->model && fe_prices_lookup(c->prices, arm->model, &arm->price);
        }
    }
    if (fe_load_stats(k, root) != FE_OK)
        return FE_EINVALID;
    const cJSON *budget;
    if (fe_opt_object(k, root, "budget", "budget", &budget) != FE_OK ||
        fe_opt_number(k, budget, "max_usd", "budget.max_usd", 0, 1e12, &c->budget_max_usd, &c->has_budget) != FE_OK)
        return FE_EINVALID;
    c->max_error_rate = 0.05;
    if (fe_opt_number(k, root, "max_error_rate", "max_error_rate", 0, 1, &c->max_error_rate, NULL) != FE_OK)
        return FE_EINVALID;
    const cJSON *cache = fe_field(root, "cache");
    if (cache && !cJSON_IsBool(cache))
        return fe_bad(k, "cache", "must be true or false");
    c->cache = cJSON_IsTrue(cache);
    const cJSON *obj;
    if (fe_opt_object(k, root, "training", "training", &obj) != FE_OK ||
        fe_opt_object(k, root, "traffic", "traffic", &obj) != FE_OK ||
        fe_opt_object(k, root, "evidence", "evidence", &obj) != FE_OK ||
        fe_opt_object(k, root, "decision", "decision", &obj) != FE_OK)
        return FE_EINVALID;
    return fe_read_keys(k);
}

enum fe_status fe_config_load(const char *path, const char *arms_filter, struct fe_config **out,
                              struct fe_err *err)
{
    size_t len;
    char *text = fe_read_file(path, 64u * 1024 * 1024, &len);
    if (!text)
        return fe_err_set(err, FE_EINVALID, "%s: cannot read: %s", path, strerror(errno));
    enum fe_status st = fe_config_load_text(text, len, path, arms_filter, out, err);
    free(text);
    return st;
}

enum fe_status fe_config_load_text(const char *text, size_t len, const char *path,
                                   const char *arms_filter, struct fe_config **out, struct fe_err *err)
{
    struct fe_config *c = fe_xcalloc(1, sizeof(*c));
    c->path = fe_xstrdup(path);
    const char *end = NULL;
    c->json = cJSON_ParseWithLengthOpts(text, len, &end, false);
    if (!c->json) {
        size_t line = 1, col = 1;
        for (const char *p = text; end && p < end && p < text + len; p++) {
            if (*p == '\n')
                line++, col = 1;
            else
                col++;
        }
        fe_err_set(err, FE_EINVALID, "%s:%zu:%zu: invalid JSON", path, line, col);
        fe_config_free(c);
        return FE_EINVALID;
    }
    struct fe_cfg k = {.c = c, .err = err};
    enum fe_status st = fe_config_parse(&k, arms_filter);
    if (st != FE_OK) {
        fe_config_free(c);
        return st;
    }
    *out = c;
    return FE_OK;
}

void fe_config_free(struct fe_config *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->n_arms; i++)
        fe_arm_release(&c->arms[i]);
    free(c->arms);
    for (size_t i = 0; i < c->n_providers; i++) {
        struct fe_provider_entry *e = &c->providers[i];
        free(e->api_key);
        free(e->api_key_env);
        free(e->base_url);
        free(e->path);
    }
    free(c->providers);
    for (size_t i = 0; i < c->n_metrics; i++)
        free(c->metrics[i]);
    free(c->metrics);
    free(c->primary_metric);
    free(c->name);
    free(c->dataset_path);
    free(c->template);
    free(c->baseline_arm);
    free(c->candidate_arm);
    fe_prices_free(c->prices);
    cJSON_Delete(c->json);
    free(c->path);
    free(c);
}

void fe_config_set_model(struct fe_config *c, struct fe_arm_conf *arm, const char *model)
{
    free(arm->model);
    arm->model = fe_xstrdup(model);
    arm->has_price = c->prices && fe_prices_lookup(c->prices, model, &arm->price);
}

struct fe_arm_conf *fe_config_add_arm_copy(struct fe_config *c, size_t from, const char *name,
                                           const char *model)
{
    c->arms = fe_xreallocarray(c->arms, c->n_arms + 1, sizeof(*c->arms));
    const struct fe_arm_conf *src = &c->arms[from];
    struct fe_arm_conf *a = &c->arms[c->n_arms++];
    *a = *src;
    a->name = fe_xstrdup(name);
    a->model = NULL;
    a->finetune_job = fe_xstrdup(src->finetune_job);
    a->checkpoints = false;
    a->system = fe_xstrdup(src->system);
    a->system_source = fe_xstrdup(src->system_source);
    a->few_shot_source = fe_xstrdup(src->few_shot_source);
    a->ft_base_model = fe_xstrdup(src->ft_base_model);
    a->few_shot = NULL;
    a->n_few_shot = 0;
    for (size_t i = 0; i < src->n_few_shot; i++)
        fe_add_message(&a->few_shot, &a->n_few_shot, src->few_shot[i].role, src->few_shot[i].content);
    fe_config_set_model(c, a, model);
    return a;
}

long fe_config_arm_index(const struct fe_config *c, const char *name)
{
    for (size_t i = 0; i < c->n_arms; i++)
        if (strcmp(c->arms[i].name, name) == 0)
            return (long)i;
    return -1;
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

enum fe_status fe_build_messages(const struct fe_config *c, const struct fe_arm_conf *arm,
                                 const struct fe_example *ex, struct fe_message **out, size_t *n,
                                 struct fe_err *err)
{
    (void)c;
    struct fe_message *m = NULL;
    size_t count = 0;
    bool replaced_system = false;
    if (arm->system)
        fe_add_message(&m, &count, "system", arm->system);
    size_t first = 0;
    if (ex->chat) { /* the example's own leading system message stays unless the arm has one */
        while (first < ex->n_messages && (strcmp(ex->messages[first].role, "system") == 0 ||
                                          strcmp(ex->messages[first].role, "developer") == 0)) {
            if (!arm->system)
                fe_add_message(&m, &count, ex->messages[first].role, ex->messages[first].content);
            else
                replaced_system = true;
            first++;
        }
    }
    (void)replaced_system;
    for (size_t i = 0; i < arm->n_few_shot; i++)
        fe_add_message(&m, &count, arm->few_shot[i].role, arm->few_shot[i].content);
    if (ex->chat) {
        for (size_t i = first; i < ex->n_messages; i++)
            fe_add_message(&m, &count, ex->messages[i].role, ex->messages[i].content);
    } else {
        struct fe_err terr = {0};
        char *user = fe_template_render(arm->template, ex->row, &terr);
        if (!user) {
            fe_messages_free(m, count);
            return fe_err_set(err, FE_EINVALID, "example '%s' (line %zu): %s", ex->id, ex->line, terr.msg);
        }
        fe_add_message(&m, &count, "user", user);
        free(user);
    }
    *out = m;
    *n = count;
    return FE_OK;
}
