/* manifest.c — see manifest.h. */
#define _XOPEN_SOURCE 700 /* realpath */
#include "harness/run/manifest.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "harness/base/jsonout.h"
#include "harness/base/util.h"
#include "harness/run/judge.h"

void fe_new_run_id(char out[32])
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    char stamp[20];
    strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &tm);
    unsigned salt = (unsigned)((ts.tv_nsec / 1000) ^ ((long)getpid() << 4)) & 0xffffu;
    snprintf(out, 32, "%s-%04x", stamp, salt);
}

cJSON *fe_manifest_new(const char *command, const char *name, const char *run_id)
{
    cJSON *m = cJSON_CreateObject();
    cJSON_AddStringToObject(m, "schema", "fteval.manifest/1");
    cJSON_AddStringToObject(m, "fteval_version", FTEVAL_VERSION);
    cJSON_AddStringToObject(m, "command", command);
    cJSON_AddStringToObject(m, "run_id", run_id);
    cJSON_AddStringToObject(m, "name", name);
    cJSON_AddStringToObject(m, "status", "running");
    char now[32];
    fe_utc_now(now, sizeof(now));
    cJSON_AddStringToObject(m, "started_at", now);
    cJSON_AddNullToObject(m, "ended_at");
    char host[256] = "";
    gethostname(host, sizeof(host) - 1);
    cJSON_AddStringToObject(m, "host", host);
    return m;
}

static cJSON *fe_price_json(const struct fe_arm_conf *a)
{
    if (!a->has_price)
        return cJSON_CreateNull();
    cJSON *p = cJSON_CreateObject();
    cJSON_AddNumberToObject(p, "input", a->price.input);
    cJSON_AddNumberToObject(p, "cached_input", a->price.has_cached_input ? a->price.cached_input : a->price.input);
    cJSON_AddNumberToObject(p, "output", a->price.output);
    if (a->price.has_training)
        cJSON_AddNumberToObject(p, "training", a->price.training);
    if (a->price.source)
        cJSON_AddStringToObject(p, "source", a->price.source);
    if (a->price.as_of)
        cJSON_AddStringToObject(p, "as_of", a->price.as_of);
    return p;
}

static void fe_add_hash(cJSON *o, const char *key, const char *sha)
{
    if (sha && *sha)
        cJSON_AddStringToObject(o, key, sha);
    else
        cJSON_AddNullToObject(o, key);
}

/* The key of a prompt or few-shot file in "files_sha256": its path relative to the config's
 * folder (as written in the config), so the same config run from another working directory
 * records the same keys and `compare` sees no false change. The source path was resolved as
 * <config folder>/<path> (fe_path_relative_to); absolute paths stay absolute. Caller frees. */
static char *fe_config_relative_key(const struct fe_config *c, const char *source)
{
    const char *slash = c->path ? strrchr(c->path, '/') : NULL;
    size_t dir = slash ? (size_t)(slash - c->path) + 1 : 0; /* "cfg/" of "cfg/c.json" */
    if (dir && strncmp(source, c->path, dir) == 0)
        return fe_xstrdup(source + dir);
    return fe_xstrdup(source);
}

static void fe_add_file_hash(cJSON *files, const struct fe_config *c, const char *source,
                             const char *sha)
{
    if (!source || strcmp(source, "inline") == 0)
        return;
    char *key = fe_config_relative_key(c, source);
    if (!cJSON_GetObjectItemCaseSensitive(files, key))
        cJSON_AddStringToObject(files, key, sha);
    free(key);
}

void fe_manifest_add_config(cJSON *m, const struct fe_config *c)
{
    char *abs = realpath(c->path, NULL);
    cJSON_AddStringToObject(m, "config_path", abs ? abs : c->path);
    free(abs);
    cJSON_AddItemToObject(m, "config", fe_config_to_manifest_json(c));
    cJSON *metrics = cJSON_AddArrayToObject(m, "metrics");
    for (size_t i = 0; i < c->n_metrics; i++)
        cJSON_AddItemToArray(metrics, cJSON_CreateString(c->metrics[i]));
    cJSON_AddStringToObject(m, "primary_metric", c->primary_metric);
    cJSON_AddStringToObject(m, "baseline_arm", c->baseline_arm);
    cJSON_AddStringToObject(m, "candidate_arm", c->candidate_arm);
    fe_judges_manifest(m, c); /* issue 12: "judges" (settings, self-preference warnings) */
    cJSON *files = cJSON_AddObjectToObject(m, "files_sha256");
    cJSON *arms = cJSON_AddArrayToObject(m, "arms");
    for (size_t i = 0; i < c->n_arms; i++) {
        const struct fe_arm_conf *a = &c->arms[i];
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "name", a->name);
        cJSON_AddStringToObject(o, "provider", a->provider->conf.name);
        cJSON_AddStringToObject(o, "provider_type", a->provider->conf.type);
        cJSON_AddStringToObject(o, "model", a->model ? a->model : "");
        if (a->finetune_job)
            cJSON_AddStringToObject(o, "finetune_job", a->finetune_job);
        if (a->provider->conf.base_url)
            cJSON_AddStringToObject(o, "base_url", a->provider->conf.base_url);
        fe_add_hash(o, "system_sha256", a->system_sha256);
        fe_add_hash(o, "few_shot_sha256", a->few_shot_sha256);
        cJSON_AddNumberToObject(o, "n_few_shot", (double)(a->n_few_shot / 2));
        cJSON_AddNumberToObject(o, "max_tokens", (double)a->max_tokens);
        if (a->has_temperature)
            cJSON_AddNumberToObject(o, "temperature", a->temperature);
        if (a->has_seed)
            cJSON_AddNumberToObject(o, "seed", (double)a->seed);
        if (a->price_model) /* the row the price comes from, when it is not the model */
            cJSON_AddStringToObject(o, "price_model", a->price_model);
        cJSON_AddItemToObject(o, "price", fe_price_json(a));
        cJSON_AddItemToArray(arms, o);
        fe_add_file_hash(files, c, a->system_source, a->system_sha256);
        fe_add_file_hash(files, c, a->few_shot_source, a->few_shot_sha256);
    }
    fe_add_file_hash(files, c, c->task_schema_source, c->task_schema_sha256);
    cJSON *st = cJSON_AddObjectToObject(m, "stats");
    cJSON_AddNumberToObject(st, "seed", (double)c->stats.seed);
    cJSON_AddNumberToObject(st, "resamples", (double)c->stats.resamples);
    cJSON_AddNumberToObject(st, "alpha", c->stats.alpha);
    cJSON_AddStringToObject(st, "correction", c->stats.correction == FE_CORRECTION_HOLM ? "holm"
                                              : c->stats.correction == FE_CORRECTION_BONFERRONI ? "bonferroni" : "none");
    if (c->stats.family_all) /* written only when not the default, so older manifests read the same */
        cJSON_AddStringToObject(st, "family", "all");
}

void fe_manifest_set_dataset(cJSON *m, const char *path, size_t lines, size_t examples, const char *sha256)
{
    cJSON_DeleteItemFromObjectCaseSensitive(m, "dataset");
    cJSON *d = cJSON_AddObjectToObject(m, "dataset");
    char *abs = realpath(path, NULL);
    cJSON_AddStringToObject(d, "path", abs ? abs : path);
    free(abs);
    cJSON_AddNumberToObject(d, "lines", (double)lines);
    cJSON_AddNumberToObject(d, "examples", (double)examples);
    cJSON_AddStringToObject(d, "sha256", sha256);
}

enum fe_status fe_manifest_save(cJSON *m, const char *dir, const char *status, struct fe_err *err)
{
    cJSON_ReplaceItemInObjectCaseSensitive(m, "status", cJSON_CreateString(status));
    if (strcmp(status, "running") != 0) {
        char now[32];
        fe_utc_now(now, sizeof(now));
        cJSON_ReplaceItemInObjectCaseSensitive(m, "ended_at", cJSON_CreateString(now));
    }
    char *path = fe_xasprintf("%s/manifest.json", dir);
    enum fe_status st = fe_write_json_file(path, m, err);
    free(path);
    return st;
}

/* The "finetune_jobs" array describing the arms whose job was resolved (caller deletes). The
 * resolution itself happens before, in the command (harness/cli/ft_resolve.c): run never calls
 * the fine-tuning client. */
static cJSON *fe_finetune_jobs_json(const struct fe_config *c)
{
    cJSON *a = cJSON_CreateArray();
    for (size_t i = 0; i < c->n_arms; i++) {
        const struct fe_arm_conf *arm = &c->arms[i];
        if (!arm->finetune_job)
            continue;
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "arm", arm->name);
        cJSON_AddStringToObject(o, "job_id", arm->finetune_job);
        if (arm->ft_base_model)
            cJSON_AddStringToObject(o, "base_model", arm->ft_base_model);
        cJSON_AddStringToObject(o, "model", arm->model ? arm->model : "");
        if (arm->trained_tokens >= 0)
            cJSON_AddNumberToObject(o, "trained_tokens", (double)arm->trained_tokens);
        else
            cJSON_AddNullToObject(o, "trained_tokens");
        if (arm->checkpoint_step >= 0)
            cJSON_AddNumberToObject(o, "checkpoint_step", (double)arm->checkpoint_step);
        cJSON_AddItemToArray(a, o);
    }
    return a;
}

void fe_manifest_add_finetune_jobs(cJSON *m, const struct fe_config *c)
{
    cJSON *jobs = fe_finetune_jobs_json(c);
    if (cJSON_GetArraySize(jobs) == 0) {
        cJSON_Delete(jobs);
        return;
    }
    cJSON_AddItemToObject(m, "finetune_jobs", jobs);
    /* The trained tokens of the candidate's job feed the break-even when the config gives no
     * training cost of its own. */
    cJSON *config = cJSON_GetObjectItemCaseSensitive(m, "config");
    cJSON *training = cJSON_GetObjectItemCaseSensitive(config, "training");
    if (!training)
        training = cJSON_AddObjectToObject(config, "training");
    long idx = fe_config_arm_index(c, c->candidate_arm);
    if (idx >= 0 && c->arms[idx].trained_tokens >= 0 && !cJSON_GetObjectItemCaseSensitive(training, "cost_usd") &&
        !cJSON_GetObjectItemCaseSensitive(training, "trained_tokens"))
        cJSON_AddNumberToObject(training, "trained_tokens", (double)c->arms[idx].trained_tokens);
}
