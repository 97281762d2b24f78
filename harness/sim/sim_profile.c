/* sim_profile.c — the simulator's profiles (docs/sim.md): rules matched by model id (a glob) and
 * system-prompt substring, each with accuracy, latency, token overheads, rate limits and faults;
 * parsing a profile (strict: an unknown key is an error naming where it is), the built-in
 * profile, and matching a request to its rule. A parsed profile owns its strings.
 */
#include "harness/base/tokens.h"
#include "harness/sim/sim.h"

#include <errno.h>
#include <fnmatch.h>
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "harness/base/util.h"

#define FE_SIM_Z90 1.2815515655446004 /* standard normal quantile at 0.90 */

/* ---- profiles ---- */

static void fe_sim_rule_defaults(struct fe_sim_rule *r)
{
    memset(r, 0, sizeof(*r));
    r->accuracy = 0.7;
    r->correlation = 0.5;
    r->partial_share = 0.5;
    r->message_overhead = FE_TOKENS_PER_MESSAGE;
    r->reply_overhead = FE_TOKENS_REPLY_PRIMER;
    r->cached_fraction = 0.0;
    r->cache_min_tokens = 1024;
    r->retry_after_ms = 1000;
    r->ttft_ms = -1; /* streams: the latency draw */
}

static void fe_sim_rule_release(struct fe_sim_rule *r)
{
    free(r->name);
    free(r->model);
    free(r->system_contains);
}

static enum fe_status fe_sim_num(const cJSON *v, const char *where, const char *key, double lo,
                                 double hi, double *out, struct fe_err *err)
{
    if (!cJSON_IsNumber(v) || !(v->valuedouble >= lo && v->valuedouble <= hi))
        return fe_err_set(err, FE_EINVALID, "%s: %s: must be a number in [%g, %g]", where, key, lo,
                          hi);
    *out = v->valuedouble;
    return FE_OK;
}

static enum fe_status fe_sim_int(const cJSON *v, const char *where, const char *key, long *out,
                                 struct fe_err *err)
{
    if (!cJSON_IsNumber(v) || v->valuedouble < 0 || v->valuedouble > 1e12 ||
        v->valuedouble != floor(v->valuedouble))
        return fe_err_set(err, FE_EINVALID, "%s: %s: must be an integer >= 0", where, key);
    *out = (long)v->valuedouble;
    return FE_OK;
}

static enum fe_status fe_sim_parse_latency(const cJSON *v, const char *where, struct fe_sim_rule *r,
                                           struct fe_err *err)
{
    double x = 0;
    if (cJSON_IsNumber(v)) {
        if (fe_sim_num(v, where, "latency_ms", 0, 600000, &x, err))
            return err->code;
        r->latency_median_ms = x;
        r->latency_sigma = 0;
        return FE_OK;
    }
    if (!cJSON_IsObject(v))
        return fe_err_set(err, FE_EINVALID, "%s: latency_ms: must be a number or an object", where);
    const cJSON *fixed = cJSON_GetObjectItemCaseSensitive(v, "fixed");
    const cJSON *median = cJSON_GetObjectItemCaseSensitive(v, "median");
    const cJSON *p90 = cJSON_GetObjectItemCaseSensitive(v, "p90");
    for (const cJSON *c = v->child; c; c = c->next)
        if (strcmp(c->string, "fixed") && strcmp(c->string, "median") && strcmp(c->string, "p90"))
            return fe_err_set(err, FE_EINVALID,
                              "%s: latency_ms.%s: unknown key (fixed, median, p90)", where,
                              c->string);
    if (fixed) {
        if (fe_sim_num(fixed, where, "latency_ms.fixed", 0, 600000, &x, err))
            return err->code;
        r->latency_median_ms = x;
        r->latency_sigma = 0;
        return FE_OK;
    }
    if (!median)
        return fe_err_set(err, FE_EINVALID, "%s: latency_ms: needs fixed or median", where);
    if (fe_sim_num(median, where, "latency_ms.median", 0, 600000, &x, err))
        return err->code;
    r->latency_median_ms = x;
    r->latency_sigma = 0;
    if (p90) {
        double q = 0;
        if (fe_sim_num(p90, where, "latency_ms.p90", x, 600000, &q, err))
            return err->code;
        if (x > 0 && q > x)
            r->latency_sigma = log(q / x) / FE_SIM_Z90;
    }
    return FE_OK;
}

static enum fe_status fe_sim_parse_faults(const cJSON *v, const char *where,
                                          struct fe_sim_faults *f, struct fe_err *err)
{
    if (!cJSON_IsObject(v))
        return fe_err_set(err, FE_EINVALID, "%s: faults: must be an object of KIND: P | {p, first}",
                          where);
    for (const cJSON *c = v->child; c; c = c->next) {
        enum fe_sim_fault k = fe_sim_fault_from_name(c->string);
        char key[128];
        snprintf(key, sizeof(key), "faults.%s", c->string);
        if (k == FE_SIM_FAULT_NONE)
            return fe_err_set(
                err, FE_EINVALID,
                "%s: %s: unknown fault kind (rate_limit, quota, server_error, unavailable, "
                "reset, close, stall, truncate, malformed)",
                where, key);
        if (cJSON_IsNumber(c)) {
            if (fe_sim_num(c, where, key, 0, 1, &f->p[k], err))
                return err->code;
            continue;
        }
        if (!cJSON_IsObject(c))
            return fe_err_set(err, FE_EINVALID, "%s: %s: must be a probability or {p, first}",
                              where, key);
        for (const cJSON *d = c->child; d; d = d->next) {
            if (strcmp(d->string, "p") == 0) {
                if (fe_sim_num(d, where, key, 0, 1, &f->p[k], err))
                    return err->code;
            } else if (strcmp(d->string, "first") == 0) {
                if (fe_sim_int(d, where, key, &f->first[k], err))
                    return err->code;
            } else {
                return fe_err_set(err, FE_EINVALID, "%s: %s.%s: unknown key (p, first)", where, key,
                                  d->string);
            }
        }
    }
    return FE_OK;
}

/* The number and count keys of a rule: a probability in [0, 1] (a double of struct fe_sim_rule)
 * or a whole number >= 0 (a long), at its offset. */
struct fe_sim_rule_key {
    const char *name;
    bool count;
    size_t offset;
};

static const struct fe_sim_rule_key fe_sim_rule_keys[] = {
    {"accuracy", false, offsetof(struct fe_sim_rule, accuracy)},
    {"correlation", false, offsetof(struct fe_sim_rule, correlation)},
    {"partial_share", false, offsetof(struct fe_sim_rule, partial_share)},
    {"cached_fraction", false, offsetof(struct fe_sim_rule, cached_fraction)},
    {"message_overhead_tokens", true, offsetof(struct fe_sim_rule, message_overhead)},
    {"reply_overhead_tokens", true, offsetof(struct fe_sim_rule, reply_overhead)},
    {"cache_min_tokens", true, offsetof(struct fe_sim_rule, cache_min_tokens)},
    {"retry_after_ms", true, offsetof(struct fe_sim_rule, retry_after_ms)},
};

/* "rate_limits": {requests_per_min, tokens_per_min, enforce}. */
static enum fe_status fe_sim_parse_limits(const cJSON *v, const char *where, struct fe_sim_rule *r,
                                          struct fe_err *err)
{
    if (!cJSON_IsObject(v))
        return fe_err_set(err, FE_EINVALID, "%s: rate_limits: must be an object", where);
    for (const cJSON *d = v->child; d; d = d->next) {
        if (strcmp(d->string, "requests_per_min") == 0) {
            if (fe_sim_int(d, where, "rate_limits.requests_per_min", &r->rpm, err))
                return err->code;
        } else if (strcmp(d->string, "tokens_per_min") == 0) {
            if (fe_sim_int(d, where, "rate_limits.tokens_per_min", &r->tpm, err))
                return err->code;
        } else if (strcmp(d->string, "enforce") == 0) {
            if (!cJSON_IsBool(d))
                return fe_err_set(err, FE_EINVALID, "%s: rate_limits.enforce: must be a boolean",
                                  where);
            r->enforce_limits = cJSON_IsTrue(d);
        } else {
            return fe_err_set(err, FE_EINVALID,
                              "%s: rate_limits.%s: unknown key (requests_per_min, "
                              "tokens_per_min, enforce)",
                              where, d->string);
        }
    }
    return FE_OK;
}

/* One key of a rule onto r. */
static enum fe_status fe_sim_parse_key(const cJSON *c, const char *where, struct fe_sim_rule *r,
                                       struct fe_err *err)
{
    const char *k = c->string;
    for (size_t i = 0; i < FE_ARRAY_LEN(fe_sim_rule_keys); i++) {
        const struct fe_sim_rule_key *key = &fe_sim_rule_keys[i];
        if (strcmp(k, key->name) != 0)
            continue;
        void *field = (char *)r + key->offset;
        if (key->count)
            return fe_sim_int(c, where, k, field, err);
        return fe_sim_num(c, where, k, 0, 1, field, err);
    }
    if (strcmp(k, "name") == 0 || strcmp(k, "model") == 0 || strcmp(k, "system_contains") == 0) {
        if (!cJSON_IsString(c) || !c->valuestring[0])
            return fe_err_set(err, FE_EINVALID, "%s: %s: must be a non-empty string", where, k);
        char **dst = k[0] == 'n' ? &r->name : k[0] == 'm' ? &r->model : &r->system_contains;
        free(*dst);
        *dst = fe_xstrdup(c->valuestring);
        return FE_OK;
    }
    if (strcmp(k, "latency_ms") == 0)
        return fe_sim_parse_latency(c, where, r, err);
    if (strcmp(k, "ttft_ms") == 0) /* streams: first content after this long */
        return fe_sim_num(c, where, k, 0, 600000, &r->ttft_ms, err);
    if (strcmp(k, "inter_token_ms") == 0) /* streams: between content chunks */
        return fe_sim_num(c, where, k, 0, 600000, &r->inter_token_ms, err);
    if (strcmp(k, "rate_limits") == 0)
        return fe_sim_parse_limits(c, where, r, err);
    if (strcmp(k, "faults") == 0)
        return fe_sim_parse_faults(c, where, &r->faults, err);
    if (strcmp(k, "judge") == 0)
        return fe_sim_judge_parse(c, where, r, err); /* issue 12 */
    if (strcmp(k, "comment") == 0 || k[0] == '_')
        return FE_OK; /* free-form notes */
    return fe_err_set(err, FE_EINVALID, "%s: %s: unknown key", where, k);
}

/* Applies the keys of obj onto r. Unknown keys are errors, so a typo never goes unnoticed. */
static enum fe_status fe_sim_parse_rule(const cJSON *obj, const char *where, struct fe_sim_rule *r,
                                        struct fe_err *err)
{
    if (!cJSON_IsObject(obj))
        return fe_err_set(err, FE_EINVALID, "%s: must be an object", where);
    for (const cJSON *c = obj->child; c; c = c->next)
        if (fe_sim_parse_key(c, where, r, err) != FE_OK)
            return err->code;
    return FE_OK;
}

static void fe_sim_rule_copy(struct fe_sim_rule *dst, const struct fe_sim_rule *src)
{
    *dst = *src;
    dst->name = fe_xstrdup(src->name);
    dst->model = fe_xstrdup(src->model);
    dst->system_contains = fe_xstrdup(src->system_contains);
}

enum fe_status fe_sim_profile_parse(struct fe_sim_profile *p, const char *json, const char *where,
                                    struct fe_err *err)
{
    memset(p, 0, sizeof(*p));
    cJSON *root = cJSON_Parse(json);
    if (!root)
        return fe_err_set(err, FE_EINVALID, "%s: not valid JSON", where);
    struct fe_sim_rule defaults;
    fe_sim_rule_defaults(&defaults);
    const cJSON *rules = root;
    char path[256];
    if (cJSON_IsObject(root)) {
        for (const cJSON *c = root->child; c; c = c->next)
            if (strcmp(c->string, "rules") && strcmp(c->string, "defaults") &&
                strcmp(c->string, "models") && strcmp(c->string, "comment") &&
                c->string[0] != '_') {
                fe_err_set(err, FE_EINVALID,
                           "%s: %s: unknown key (rules, defaults, models, comment)", where,
                           c->string);
                goto fail;
            }
        const cJSON *models = cJSON_GetObjectItemCaseSensitive(root, "models");
        if (models) {
            if (!cJSON_IsArray(models)) {
                fe_err_set(err, FE_EINVALID, "%s: models: must be an array of model ids", where);
                goto fail;
            }
            const cJSON *m;
            cJSON_ArrayForEach(m, models)
            {
                if (!cJSON_IsString(m) || !m->valuestring[0]) {
                    fe_err_set(err, FE_EINVALID, "%s: models[%zu]: must be a non-empty string",
                               where, p->n_models);
                    goto fail;
                }
                p->models = fe_xreallocarray(p->models, p->n_models + 1, sizeof(*p->models));
                p->models[p->n_models++] = fe_xstrdup(m->valuestring);
            }
        }
        const cJSON *d = cJSON_GetObjectItemCaseSensitive(root, "defaults");
        if (d) {
            snprintf(path, sizeof(path), "%s: defaults", where);
            if (fe_sim_parse_rule(d, path, &defaults, err))
                goto fail;
            if (defaults.model || defaults.name || defaults.system_contains) {
                fe_err_set(err, FE_EINVALID,
                           "%s: defaults: name/model/system_contains belong in rules", where);
                goto fail;
            }
        }
        rules = cJSON_GetObjectItemCaseSensitive(root, "rules");
    }
    if (!cJSON_IsArray(rules) || cJSON_GetArraySize(rules) == 0) {
        fe_err_set(err, FE_EINVALID, "%s: rules: must be a non-empty array", where);
        goto fail;
    }
    size_t n = (size_t)cJSON_GetArraySize(rules);
    p->rules = fe_xcalloc(n, sizeof(*p->rules));
    size_t i = 0;
    for (const cJSON *c = rules->child; c; c = c->next, i++) {
        struct fe_sim_rule *r = &p->rules[i];
        fe_sim_rule_copy(r, &defaults);
        p->n_rules = i + 1;
        snprintf(path, sizeof(path), "%s: rules[%zu]", where, i);
        if (fe_sim_parse_rule(c, path, r, err))
            goto fail;
        if (!r->model) {
            fe_err_set(err, FE_EINVALID, "%s: model: missing (a model id or glob such as \"ft:*\")",
                       path);
            goto fail;
        }
        if (!r->name)
            r->name = fe_xasprintf("rule-%zu", i);
    }
    fe_sim_rule_release(&defaults);
    cJSON_Delete(root);
    return FE_OK;
fail:
    fe_sim_rule_release(&defaults);
    cJSON_Delete(root);
    fe_sim_profile_release(p);
    return err->code;
}

enum fe_status fe_sim_profile_load(struct fe_sim_profile *p, const char *path, struct fe_err *err)
{
    size_t len;
    char *text = fe_read_file(path, 16u << 20, &len);
    if (!text)
        return fe_err_set(err, FE_EIO, "%s: cannot read: %s", path, strerror(errno));
    enum fe_status st = fe_sim_profile_parse(p, text, path, err);
    free(text);
    return st;
}

void fe_sim_profile_default(struct fe_sim_profile *p)
{
    /* fine-tuned models beat the prompted base model, which beats the bare base model */
    static const char builtin[] =
        "{\"models\": [\"gpt-4o-mini-2024-07-18\", \"gpt-4.1-mini-2025-04-14\"], \"rules\": ["
        "{\"name\": \"finetuned\", \"model\": \"ft:*\", \"accuracy\": 0.85, \"latency_ms\": 0},"
        "{\"name\": \"prompted\", \"model\": \"*\", \"system_contains\": \"You are\", "
        "\"accuracy\": 0.7,"
        " \"latency_ms\": 0},"
        "{\"name\": \"base\", \"model\": \"*\", \"accuracy\": 0.55, \"latency_ms\": 0}]}";
    struct fe_err err = {0};
    if (fe_sim_profile_parse(p, builtin, "built-in profile", &err) != FE_OK) {
        fprintf(stderr, "fteval: error: %s\n", err.msg);
        abort();
    }
}

struct fe_sim_rule *fe_sim_profile_match(const struct fe_sim_profile *p, const char *model,
                                         const char *system)
{
    for (size_t i = 0; i < p->n_rules; i++) {
        struct fe_sim_rule *r = &p->rules[i];
        if (fnmatch(r->model, model, 0) != 0)
            continue;
        if (r->system_contains && (!system || !strstr(system, r->system_contains)))
            continue;
        return r;
    }
    return NULL;
}

void fe_sim_profile_release(struct fe_sim_profile *p)
{
    for (size_t i = 0; i < p->n_rules; i++)
        fe_sim_rule_release(&p->rules[i]);
    free(p->rules);
    for (size_t i = 0; i < p->n_models; i++)
        free(p->models[i]);
    free(p->models);
    memset(p, 0, sizeof(*p));
}
