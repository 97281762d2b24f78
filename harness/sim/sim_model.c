/* sim_model.c — what the simulated models answer: profiles, the dataset index, deterministic
 * answers, token estimates, POST /v1/chat/completions and GET /v1/models.
 *
 * Determinism: whether an example is answered correctly, and which wrong answer is given, is a
 * pure function of (seed, rule name, example id), so retries and restarts give the same answer.
 * Latency and probabilistic faults come from the server's seeded stream instead (they vary per
 * request, like the real thing).
 */
#include "harness/sim/sim.h"

#include <ctype.h>
#include <errno.h>
#include <fnmatch.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "harness/input/dataset.h"
#include "harness/base/tokens.h"
#include "harness/base/log.h"
#include "harness/input/template.h"
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

/* Applies the keys of obj onto r. Unknown keys are errors, so a typo never goes unnoticed. */
static enum fe_status fe_sim_parse_rule(const cJSON *obj, const char *where, struct fe_sim_rule *r,
                                        struct fe_err *err)
{
    if (!cJSON_IsObject(obj))
        return fe_err_set(err, FE_EINVALID, "%s: must be an object", where);
    for (const cJSON *c = obj->child; c; c = c->next) {
        const char *k = c->string;
        if (strcmp(k, "name") == 0 || strcmp(k, "model") == 0 ||
            strcmp(k, "system_contains") == 0) {
            if (!cJSON_IsString(c) || !c->valuestring[0])
                return fe_err_set(err, FE_EINVALID, "%s: %s: must be a non-empty string", where, k);
            char **dst = k[0] == 'n' ? &r->name : k[0] == 'm' ? &r->model : &r->system_contains;
            free(*dst);
            *dst = fe_xstrdup(c->valuestring);
        } else if (strcmp(k, "accuracy") == 0) {
            if (fe_sim_num(c, where, k, 0, 1, &r->accuracy, err))
                return err->code;
        } else if (strcmp(k, "correlation") == 0) {
            if (fe_sim_num(c, where, k, 0, 1, &r->correlation, err))
                return err->code;
        } else if (strcmp(k, "partial_share") == 0) {
            if (fe_sim_num(c, where, k, 0, 1, &r->partial_share, err))
                return err->code;
        } else if (strcmp(k, "cached_fraction") == 0) {
            if (fe_sim_num(c, where, k, 0, 1, &r->cached_fraction, err))
                return err->code;
        } else if (strcmp(k, "latency_ms") == 0) {
            if (fe_sim_parse_latency(c, where, r, err))
                return err->code;
        } else if (strcmp(k, "message_overhead_tokens") == 0) {
            if (fe_sim_int(c, where, k, &r->message_overhead, err))
                return err->code;
        } else if (strcmp(k, "reply_overhead_tokens") == 0) {
            if (fe_sim_int(c, where, k, &r->reply_overhead, err))
                return err->code;
        } else if (strcmp(k, "cache_min_tokens") == 0) {
            if (fe_sim_int(c, where, k, &r->cache_min_tokens, err))
                return err->code;
        } else if (strcmp(k, "retry_after_ms") == 0) {
            if (fe_sim_int(c, where, k, &r->retry_after_ms, err))
                return err->code;
        } else if (strcmp(k, "rate_limits") == 0) {
            if (!cJSON_IsObject(c))
                return fe_err_set(err, FE_EINVALID, "%s: rate_limits: must be an object", where);
            for (const cJSON *d = c->child; d; d = d->next) {
                if (strcmp(d->string, "requests_per_min") == 0) {
                    if (fe_sim_int(d, where, "rate_limits.requests_per_min", &r->rpm, err))
                        return err->code;
                } else if (strcmp(d->string, "tokens_per_min") == 0) {
                    if (fe_sim_int(d, where, "rate_limits.tokens_per_min", &r->tpm, err))
                        return err->code;
                } else if (strcmp(d->string, "enforce") == 0) {
                    if (!cJSON_IsBool(d))
                        return fe_err_set(err, FE_EINVALID,
                                          "%s: rate_limits.enforce: must be a boolean", where);
                    r->enforce_limits = cJSON_IsTrue(d);
                } else {
                    return fe_err_set(err, FE_EINVALID,
                                      "%s: rate_limits.%s: unknown key (requests_per_min, "
                                      "tokens_per_min, enforce)",
                                      where, d->string);
                }
            }
        } else if (strcmp(k, "faults") == 0) {
            if (fe_sim_parse_faults(c, where, &r->faults, err))
                return err->code;
        } else if (strcmp(k, "comment") == 0 || k[0] == '_') {
            /* free-form notes */
        } else {
            return fe_err_set(err, FE_EINVALID, "%s: %s: unknown key", where, k);
        }
    }
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

/* ---- dataset index ---- */

static bool fe_sim_same_golds(const struct fe_sim_example *a, const struct fe_sim_example *b)
{
    if (a->n_golds != b->n_golds)
        return false;
    for (size_t g = 0; g < a->n_golds; g++)
        if (strcmp(a->golds[g], b->golds[g]) != 0)
            return false;
    return true;
}

enum fe_status fe_sim_index_load(struct fe_sim_index *ix, const char *path, const char *tmpl,
                                 struct fe_err *err)
{
    memset(ix, 0, sizeof(*ix));
    fe_strmap_init(&ix->by_prompt);
    struct fe_dataset_reader *r;
    if (fe_dataset_open(&r, path, err) != FE_OK)
        return err->code;
    size_t alloc = 0;
    struct fe_example ex = {0};
    int rc;
    while ((rc = fe_dataset_next(r, &ex, err)) == 1) {
        char *key = NULL;
        if (ex.chat) {
            for (size_t i = ex.n_messages; i-- > 0;)
                if (strcmp(ex.messages[i].role, "user") == 0) {
                    key = fe_xstrdup(ex.messages[i].content);
                    break;
                }
            if (!key)
                key = fe_xstrdup("");
        } else {
            key = fe_template_render(tmpl ? tmpl : "{input}", ex.row, err);
            if (!key) {
                fe_example_release(&ex);
                rc = -1;
                break;
            }
        }
        if (ix->n == alloc) {
            alloc = alloc ? alloc * 2 : 256;
            ix->ex = fe_xreallocarray(ix->ex, alloc, sizeof(*ix->ex));
        }
        struct fe_sim_example *e = &ix->ex[ix->n];
        e->id = ex.id;
        e->golds = ex.golds;
        e->n_golds = ex.n_golds;
        ex.id = NULL;
        ex.golds = NULL;
        ex.n_golds = 0;
        if (!fe_strmap_put(&ix->by_prompt, key, ix->n)) {
            /* the same prompt again: a deterministic model answers it the same way */
            size_t first = 0;
            fe_strmap_get(&ix->by_prompt, key, &first);
            ix->n_duplicate_prompts++;
            if (!fe_sim_same_golds(&ix->ex[first], e))
                ix->n_conflicting_prompts++;
        }
        ix->n++;
        free(key);
        fe_example_release(&ex);
    }
    fe_dataset_close(r);
    if (rc < 0) {
        fe_sim_index_release(ix);
        return err->code ? err->code : FE_EINVALID;
    }
    return FE_OK;
}

void fe_sim_index_release(struct fe_sim_index *ix)
{
    for (size_t i = 0; i < ix->n; i++) {
        free(ix->ex[i].id);
        for (size_t g = 0; g < ix->ex[i].n_golds; g++)
            free(ix->ex[i].golds[g]);
        free(ix->ex[i].golds);
    }
    free(ix->ex);
    fe_strmap_release(&ix->by_prompt);
    memset(ix, 0, sizeof(*ix));
}

/* ---- answers ---- */

static bool fe_sim_same_text(const char *a, const char *b)
{
    /* case- and space-insensitive, close to what exact_match normalises */
    for (;;) {
        while (*a && !isalnum((unsigned char)*a))
            a++;
        while (*b && !isalnum((unsigned char)*b))
            b++;
        if (!*a || !*b)
            return !*a && !*b;
        if (tolower((unsigned char)*a) != tolower((unsigned char)*b))
            return false;
        a++;
        b++;
    }
}

static bool fe_sim_is_gold(const struct fe_sim_example *e, const char *text)
{
    for (size_t g = 0; g < e->n_golds; g++)
        if (fe_sim_same_text(e->golds[g], text))
            return true;
    return false;
}

/* Drops one word of a multi-word gold: partially right, so F1 gives partial credit. */
static char *fe_sim_drop_word(const char *gold, uint64_t h)
{
    size_t n_words = 0;
    for (const char *p = gold; *p;) {
        while (*p == ' ')
            p++;
        if (!*p)
            break;
        n_words++;
        while (*p && *p != ' ')
            p++;
    }
    if (n_words < 2)
        return NULL;
    size_t drop = (size_t)(h % n_words), w = 0;
    struct fe_buf b = {0};
    for (const char *p = gold; *p;) {
        while (*p == ' ')
            p++;
        if (!*p)
            break;
        const char *start = p;
        while (*p && *p != ' ')
            p++;
        if (w++ == drop)
            continue;
        if (b.len)
            fe_buf_addch(&b, ' ');
        fe_buf_add(&b, start, (size_t)(p - start));
    }
    return fe_buf_detach(&b, NULL);
}

char *fe_sim_answer(const struct fe_sim_index *ix, size_t example, const struct fe_sim_rule *rule,
                    uint64_t seed)
{
    const struct fe_sim_example *e = &ix->ex[example];
    uint64_t shared = fe_sim_hash_str(seed, e->id);
    uint64_t own = fe_sim_hash_str(fe_sim_hash_str(seed, rule->name), e->id);
    bool use_shared = fe_sim_unit(fe_sim_mix64(own ^ 0x5151)) < rule->correlation;
    double u = fe_sim_unit(use_shared ? shared : fe_sim_mix64(own));
    const char *gold = e->n_golds ? e->golds[0] : "";
    if (u < rule->accuracy)
        return fe_xstrdup(gold);
    uint64_t h = fe_sim_mix64(own ^ 0xa11ce);
    if (fe_sim_unit(h) < rule->partial_share) {
        char *edited = fe_sim_drop_word(gold, fe_sim_mix64(h));
        if (edited && !fe_sim_is_gold(e, edited))
            return edited;
        free(edited);
    }
    /* another example's gold: a plausible confusion (another label, another span) */
    uint64_t st = h;
    for (int tries = 0; tries < 32 && ix->n > 1; tries++) {
        const struct fe_sim_example *o = &ix->ex[fe_sim_next(&st) % ix->n];
        if (o == e || !o->n_golds || !o->golds[0][0] || fe_sim_is_gold(e, o->golds[0]))
            continue;
        return fe_xstrdup(o->golds[0]);
    }
    return fe_xstrdup(gold[0] ? "I am not sure." : "unknown");
}

/* ---- chat completions ---- */

/* Text of a message's content: a string, or the concatenated text parts. Newly allocated. */
static char *fe_sim_content_text(const cJSON *content)
{
    if (cJSON_IsString(content))
        return fe_xstrdup(content->valuestring);
    struct fe_buf b = {0};
    if (cJSON_IsArray(content)) {
        const cJSON *part;
        cJSON_ArrayForEach(part, content)
        {
            const cJSON *t = cJSON_GetObjectItemCaseSensitive(part, "text");
            if (cJSON_IsString(t))
                fe_buf_adds(&b, t->valuestring);
        }
    }
    return fe_buf_detach(&b, NULL);
}

static double fe_sim_latency(struct fe_sim *s, const struct fe_sim_rule *r)
{
    if (r->latency_median_ms <= 0)
        return 0;
    if (r->latency_sigma <= 0)
        return r->latency_median_ms;
    /* Box-Muller from the server stream */
    double u1 = fe_sim_unit(fe_sim_next(&s->rng)), u2 = fe_sim_unit(fe_sim_next(&s->rng));
    if (u1 < 1e-12)
        u1 = 1e-12;
    double z = sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
    double ms = r->latency_median_ms * exp(r->latency_sigma * z);
    return ms > 600000 ? 600000 : ms;
}

long fe_sim_attempt(struct fe_sim *s, const char *model, const char *key)
{
    char *k = fe_xasprintf("%s\x1f%s", model, key);
    size_t idx;
    if (!fe_strmap_get(&s->attempts, k, &idx)) {
        idx = s->n_attempt_keys++;
        s->attempt_counts = fe_xreallocarray(s->attempt_counts, s->n_attempt_keys, sizeof(long));
        s->attempt_counts[idx] = 0;
        fe_strmap_set(&s->attempts, k, idx);
    }
    free(k);
    return ++s->attempt_counts[idx];
}

/* Fixed one-minute windows: enough for believable x-ratelimit-* headers and an optional cap. */
static bool fe_sim_rate_window(struct fe_sim_rule *r, long tokens, double now)
{
    if (now - r->window_start >= 60.0 || r->window_start == 0) {
        r->window_start = now;
        r->window_requests = 0;
        r->window_tokens = 0;
    }
    bool over = (r->rpm > 0 && r->window_requests + 1 > r->rpm) ||
                (r->tpm > 0 && r->window_tokens + tokens > r->tpm);
    if (over && r->enforce_limits)
        return false;
    r->window_requests++;
    r->window_tokens += tokens;
    return true;
}

static void fe_sim_rate_headers(const struct fe_sim_rule *r, double now, struct fe_buf *h)
{
    char dur[64];
    fe_sim_go_duration(60.0 - (now - r->window_start), dur, sizeof(dur));
    if (r->rpm > 0) {
        long left = r->rpm - r->window_requests;
        fe_buf_addf(h,
                    "x-ratelimit-limit-requests: %ld\r\nx-ratelimit-remaining-requests: %ld\r\n"
                    "x-ratelimit-reset-requests: %s\r\n",
                    r->rpm, left < 0 ? 0 : left, dur);
    }
    if (r->tpm > 0) {
        long left = r->tpm - r->window_tokens;
        fe_buf_addf(h,
                    "x-ratelimit-limit-tokens: %ld\r\nx-ratelimit-remaining-tokens: %ld\r\n"
                    "x-ratelimit-reset-tokens: %s\r\n",
                    r->tpm, left < 0 ? 0 : left, dur);
    }
}

static const char *const fe_sim_generic[] = {
    "I am not sure.",
    "I don't know.",
    "Could you clarify the question?",
    "unknown",
};

/* Server-sent events for "stream": true, built at once (the simulated latency applies to the
 * whole stream): a role chunk, one chunk per word of the answer, a finish chunk, an optional
 * usage chunk with empty choices, then [DONE]. */
static void fe_sim_stream_chunk(const cJSON *full, cJSON *choices, const cJSON *usage,
                                struct fe_buf *b)
{
    cJSON *c = cJSON_CreateObject();
    const char *keys[] = {"id", "created", "model", "service_tier", "system_fingerprint"};
    cJSON_AddItemToObject(c, "id",
                          cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(full, keys[0]), 1));
    cJSON_AddStringToObject(c, "object", "chat.completion.chunk");
    for (size_t i = 1; i < FE_ARRAY_LEN(keys); i++)
        cJSON_AddItemToObject(c, keys[i],
                              cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(full, keys[i]), 1));
    cJSON_AddItemToObject(c, "choices", choices);
    if (usage)
        cJSON_AddItemToObject(c, "usage", cJSON_Duplicate(usage, 1));
    char *text = cJSON_PrintUnformatted(c);
    cJSON_Delete(c);
    fe_buf_addf(b, "data: %s\n\n", text);
    free(text);
}

static cJSON *fe_sim_delta(const char *role, const char *content, size_t len, const char *finish)
{
    cJSON *arr = cJSON_CreateArray();
    cJSON *ch = cJSON_CreateObject();
    cJSON_AddNumberToObject(ch, "index", 0);
    cJSON *d = cJSON_AddObjectToObject(ch, "delta");
    if (role)
        cJSON_AddStringToObject(d, "role", role);
    if (content) {
        char *piece = fe_xstrndup(content, len);
        cJSON_AddStringToObject(d, "content", piece);
        free(piece);
    }
    cJSON_AddNullToObject(ch, "logprobs");
    if (finish)
        cJSON_AddStringToObject(ch, "finish_reason", finish);
    else
        cJSON_AddNullToObject(ch, "finish_reason");
    cJSON_AddItemToArray(arr, ch);
    return arr;
}

static void fe_sim_stream_body(const cJSON *full, const char *answer, const char *finish,
                               bool usage, struct fe_buf *b)
{
    fe_sim_stream_chunk(full, fe_sim_delta("assistant", "", 0, NULL), NULL, b);
    for (const char *p = answer; *p;) {
        const char *e = p;
        while (*e == ' ')
            e++;
        while (*e && *e != ' ')
            e++;
        fe_sim_stream_chunk(full, fe_sim_delta(NULL, p, (size_t)(e - p), NULL), NULL, b);
        p = e;
    }
    fe_sim_stream_chunk(full, fe_sim_delta(NULL, NULL, 0, finish), NULL, b);
    if (usage)
        fe_sim_stream_chunk(full, cJSON_CreateArray(),
                            cJSON_GetObjectItemCaseSensitive(full, "usage"), b);
    fe_buf_adds(b, "data: [DONE]\n\n");
}

void fe_sim_chat(struct fe_sim *s, const struct fe_sim_request *rq, struct fe_sim_response *rs)
{
    cJSON *req = cJSON_ParseWithLength(rq->body, rq->body_len);
    char *system = NULL, *user = NULL, *answer = NULL;
    if (!cJSON_IsObject(req)) {
        fe_sim_error(rs, 400, "invalid_request_error", NULL, NULL,
                     "We could not parse the JSON body of your request.");
        goto done;
    }
    const cJSON *model = cJSON_GetObjectItemCaseSensitive(req, "model");
    const cJSON *messages = cJSON_GetObjectItemCaseSensitive(req, "messages");
    if (!cJSON_IsString(model) || !model->valuestring[0]) {
        fe_sim_error(rs, 400, "invalid_request_error", "model", "missing_required_parameter",
                     "you must provide a model parameter");
        goto done;
    }
    rs->model = fe_xstrdup(model->valuestring);
    if (!cJSON_IsArray(messages) || cJSON_GetArraySize(messages) == 0) {
        fe_sim_error(rs, 400, "invalid_request_error", "messages", "missing_required_parameter",
                     "Missing required parameter: 'messages'.");
        goto done;
    }
    struct fe_buf sysb = {0};
    long prompt_chars_tokens = 0, n_messages = 0;
    const cJSON *m;
    cJSON_ArrayForEach(m, messages)
    {
        const cJSON *role = cJSON_GetObjectItemCaseSensitive(m, "role");
        if (!cJSON_IsString(role)) {
            fe_buf_release(&sysb);
            free(user);
            user = NULL;
            fe_sim_error(rs, 400, "invalid_request_error", "messages", "invalid_value",
                         "Invalid value for 'messages': every message needs a 'role'.");
            goto done;
        }
        char *text = fe_sim_content_text(cJSON_GetObjectItemCaseSensitive(m, "content"));
        prompt_chars_tokens += fe_estimate_tokens(text);
        n_messages++;
        if (strcmp(role->valuestring, "system") == 0 ||
            strcmp(role->valuestring, "developer") == 0) {
            if (sysb.len)
                fe_buf_addch(&sysb, '\n');
            fe_buf_adds(&sysb, text);
            free(text);
        } else if (strcmp(role->valuestring, "user") == 0) {
            free(user);
            user = text;
        } else {
            free(text);
        }
    }
    if (sysb.len)
        system = fe_buf_detach(&sysb, NULL);
    fe_buf_release(&sysb);

    struct fe_sim_rule *rule = fe_sim_profile_match(&s->profile, model->valuestring, system);
    if (!rule && strncmp(model->valuestring, "ft:", 3) == 0 &&
        fe_sim_store_has_model(s, model->valuestring)) {
        /* a model trained here but no ft: rule: behave like its base model */
        char *base = fe_xstrdup(model->valuestring + 3);
        char *colon = strchr(base, ':');
        if (colon)
            *colon = '\0';
        rule = fe_sim_profile_match(&s->profile, base, system);
        free(base);
    }
    if (!rule) {
        fe_sim_error(rs, 404, "invalid_request_error", "model", "model_not_found",
                     "The model `%s` does not exist or you do not have access to it.",
                     model->valuestring);
        goto done;
    }
    size_t ex_index = 0;
    bool known = user && s->index.n && fe_strmap_get(&s->index.by_prompt, user, &ex_index);
    char hashkey[40];
    if (known) {
        rs->example = fe_xstrdup(s->index.ex[ex_index].id);
    } else {
        snprintf(hashkey, sizeof(hashkey), "prompt:%016llx",
                 (unsigned long long)fe_sim_hash_str(0, user ? user : ""));
    }
    rs->attempt = fe_sim_attempt(s, model->valuestring, known ? rs->example : hashkey);

    long prompt_tokens =
        prompt_chars_tokens + n_messages * rule->message_overhead + rule->reply_overhead;
    double now = fe_now();
    enum fe_sim_fault f =
        fe_sim_faults_pick(&rule->faults, &s->global_faults, rs->attempt, &s->rng);
    if (f == FE_SIM_FAULT_NONE && !fe_sim_rate_window(rule, prompt_tokens, now))
        f = FE_SIM_FAULT_RATE_LIMIT;
    if (f != FE_SIM_FAULT_NONE && f != FE_SIM_FAULT_TRUNCATE) {
        fe_sim_fault_respond(s, rule, f, rs);
        if (f == FE_SIM_FAULT_SERVER_ERROR || f == FE_SIM_FAULT_UNAVAILABLE ||
            f == FE_SIM_FAULT_MALFORMED)
            rs->delay_ms = fe_sim_latency(s, rule);
        goto done;
    }
    rs->fault = f;

    if (known) {
        answer = fe_sim_answer(&s->index, ex_index, rule, s->opt.seed);
    } else {
        uint64_t h = fe_sim_hash_str(fe_sim_hash_str(s->opt.seed, rule->name), user ? user : "");
        answer = fe_xstrdup(fe_sim_generic[h % FE_ARRAY_LEN(fe_sim_generic)]);
    }
    const char *finish = "stop";
    long cap = 0;
    const cJSON *mt = cJSON_GetObjectItemCaseSensitive(req, "max_completion_tokens");
    if (!cJSON_IsNumber(mt))
        mt = cJSON_GetObjectItemCaseSensitive(req, "max_tokens");
    if (cJSON_IsNumber(mt) && mt->valuedouble >= 1)
        cap = mt->valuedouble > 1e9 ? 1000000000L : (long)mt->valuedouble;
    long completion_tokens = fe_estimate_tokens(answer);
    if (completion_tokens < 1)
        completion_tokens = 1;
    if (cap && completion_tokens > cap) {
        size_t cut = (size_t)cap * 4;
        while (cut > 0 && ((unsigned char)answer[cut] & 0xC0) == 0x80)
            cut--; /* keep UTF-8 whole */
        answer[cut] = '\0';
        completion_tokens = cap;
        finish = "length";
    }
    long cached = 0;
    if (rule->cached_fraction > 0 && prompt_tokens >= rule->cache_min_tokens)
        cached = (long)(rule->cached_fraction * (double)prompt_tokens) / 128 * 128;

    cJSON *out = cJSON_CreateObject();
    char *id = fe_sim_new_id(s, "chatcmpl-", 24);
    cJSON_AddStringToObject(out, "id", id);
    free(id);
    cJSON_AddStringToObject(out, "object", "chat.completion");
    cJSON_AddNumberToObject(out, "created", (double)fe_sim_unix_now());
    cJSON_AddStringToObject(out, "model", model->valuestring);
    cJSON *choices = cJSON_AddArrayToObject(out, "choices");
    cJSON *choice = cJSON_CreateObject();
    cJSON_AddItemToArray(choices, choice);
    cJSON_AddNumberToObject(choice, "index", 0);
    cJSON *msg = cJSON_AddObjectToObject(choice, "message");
    cJSON_AddStringToObject(msg, "role", "assistant");
    cJSON_AddStringToObject(msg, "content", answer);
    cJSON_AddNullToObject(msg, "refusal");
    cJSON_AddNullToObject(choice, "logprobs");
    cJSON_AddStringToObject(choice, "finish_reason", finish);
    cJSON *usage = cJSON_AddObjectToObject(out, "usage");
    cJSON_AddNumberToObject(usage, "prompt_tokens", (double)prompt_tokens);
    cJSON_AddNumberToObject(usage, "completion_tokens", (double)completion_tokens);
    cJSON_AddNumberToObject(usage, "total_tokens", (double)(prompt_tokens + completion_tokens));
    cJSON *ptd = cJSON_AddObjectToObject(usage, "prompt_tokens_details");
    cJSON_AddNumberToObject(ptd, "cached_tokens", (double)cached);
    cJSON *ctd = cJSON_AddObjectToObject(usage, "completion_tokens_details");
    cJSON_AddNumberToObject(ctd, "reasoning_tokens", 0);
    cJSON_AddStringToObject(out, "service_tier", "default");
    char fp[32];
    snprintf(fp, sizeof(fp), "fp_%08llx",
             (unsigned long long)(fe_sim_hash_str(0, rule->name) & 0xffffffffULL));
    cJSON_AddStringToObject(out, "system_fingerprint", fp);
    rs->status = 200;
    if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(req, "stream"))) {
        const cJSON *so = cJSON_GetObjectItemCaseSensitive(req, "stream_options");
        fe_sim_stream_body(out, answer, finish,
                           cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(so, "include_usage")),
                           &rs->body);
        rs->content_type = "text/event-stream; charset=utf-8";
    } else {
        char *text = cJSON_PrintUnformatted(out);
        fe_buf_adds(&rs->body, text);
        free(text);
        rs->content_type = "application/json";
    }
    cJSON_Delete(out);
    fe_sim_rate_headers(rule, now, &rs->headers);
    rs->delay_ms = fe_sim_latency(s, rule);
done:
    free(system);
    free(user);
    free(answer);
    cJSON_Delete(req);
}

/* ---- models ---- */

static bool fe_sim_is_glob(const char *s) { return strpbrk(s, "*?[") != NULL; }

static cJSON *fe_sim_model_obj(const char *id, long created, const char *owner)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "id", id);
    cJSON_AddStringToObject(o, "object", "model");
    cJSON_AddNumberToObject(o, "created", (double)created);
    cJSON_AddStringToObject(o, "owned_by", owner);
    return o;
}

void fe_sim_models(struct fe_sim *s, const struct fe_sim_request *rq, struct fe_sim_response *rs)
{
    cJSON *out;
    const char *one = strncmp(rq->path, "/v1/models/", 11) == 0 ? rq->path + 11 : NULL;
    if (one) {
        if (!fe_sim_profile_match(&s->profile, one, NULL) && !fe_sim_store_has_model(s, one)) {
            /* a rule may need a system prompt: still a known model if its glob matches */
            bool any = false;
            for (size_t i = 0; i < s->profile.n_rules && !any; i++)
                any = fnmatch(s->profile.rules[i].model, one, 0) == 0;
            if (!any) {
                fe_sim_error(rs, 404, "invalid_request_error", "model", "model_not_found",
                             "The model '%s' does not exist", one);
                return;
            }
        }
        out = fe_sim_model_obj(one, s->created_base,
                               strncmp(one, "ft:", 3) == 0 ? "fteval-sim" : "system");
    } else {
        out = cJSON_CreateObject();
        cJSON_AddStringToObject(out, "object", "list");
        cJSON *data = cJSON_AddArrayToObject(out, "data");
        for (size_t i = 0; i < s->profile.n_rules; i++) {
            const char *id = s->profile.rules[i].model;
            bool dup = fe_sim_is_glob(id);
            for (size_t j = 0; j < i && !dup; j++)
                dup = strcmp(s->profile.rules[j].model, id) == 0;
            if (!dup)
                cJSON_AddItemToArray(data, fe_sim_model_obj(id, s->created_base, "system"));
        }
        for (size_t i = 0; i < s->profile.n_models; i++) {
            bool dup = false;
            for (size_t j = 0; j < s->profile.n_rules && !dup; j++)
                dup = strcmp(s->profile.rules[j].model, s->profile.models[i]) == 0;
            for (size_t j = 0; j < i && !dup; j++)
                dup = strcmp(s->profile.models[j], s->profile.models[i]) == 0;
            if (!dup)
                cJSON_AddItemToArray(
                    data, fe_sim_model_obj(s->profile.models[i], s->created_base, "system"));
        }
        fe_sim_store_list_models(s, data);
    }
    char *text = cJSON_PrintUnformatted(out);
    cJSON_Delete(out);
    rs->status = 200;
    rs->content_type = "application/json";
    fe_buf_adds(&rs->body, text);
    free(text);
}
