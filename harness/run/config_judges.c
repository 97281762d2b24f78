/* config_judges.c — "judges" of the run config (issue 12, docs/judges.md): each judge's type,
 * provider, model, prompt (inline, "@file", or the default of configs/prompts/), scale,
 * pass_at, against and swap; the judge:NAME metrics of task.metrics checked against them.
 * Errors name the file and the JSON path (config_int.h); nothing is defaulted silently except
 * what docs/judges.md lists (scale [1, 5], against = baseline_arm, swap true).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness/base/jsonout.h"
#include "harness/base/log.h"
#include "harness/base/util.h"
#include "harness/run/config.h"
#include "harness/run/config_int.h"
#include "harness/run/judge.h"

#define FE_JUDGE_MAX_TOKENS 512 /* a score or a winner and a sentence or two of reason */

const struct fe_judge *fe_config_judge(const struct fe_config *c, const char *name)
{
    for (size_t i = 0; c && i < c->n_judges; i++)
        if (strcmp(c->judges[i].name, name) == 0)
            return &c->judges[i];
    return NULL;
}

const struct fe_judge *fe_config_metric_judge(const struct fe_config *c, const char *metric)
{
    if (!metric || strncmp(metric, "judge:", 6) != 0)
        return NULL;
    char *name = fe_xstrdup(metric + 6);
    size_t n = strlen(name);
    if (n > 5 && strcmp(name + n - 5, ".pass") == 0)
        name[n - 5] = '\0';
    const struct fe_judge *jd = fe_config_judge(c, name);
    free(name);
    return jd;
}

/* prompt: inline text, "@file" relative to the config, or absent (the default). */
static enum fe_status fe_judge_prompt(struct fe_cfg *k, const cJSON *o, const char *path, struct fe_judge *jd)
{
    const char *s;
    char sub[340];
    snprintf(sub, sizeof(sub), "%s.prompt", path);
    if (fe_opt_string(k, o, "prompt", sub, &s) != FE_OK)
        return FE_EINVALID;
    if (s && !*s)
        return fe_bad(k, sub, "empty (omit it for the default prompt)");
    if (s && s[0] == '@') {
        char *file = fe_path_relative_to(k->c->path, s + 1);
        jd->prompt_source = file;
        jd->prompt = fe_read_prompt_file(k, file, sub, jd->prompt_sha256);
        if (!jd->prompt)
            return FE_EINVALID;
    } else {
        jd->prompt_source = fe_xstrdup(s ? "inline" : "default");
        jd->prompt = fe_xstrdup(s ? s : jd->type == FE_JUDGE_RUBRIC ? fe_judge_default_rubric
                                                                      : fe_judge_default_pairwise);
        fe_sha256_hex(jd->prompt, strlen(jd->prompt), jd->prompt_sha256);
    }
    /* a template naming a field the judge does not fill fails here, not at the first call */
    struct fe_err terr = {0};
    char *probe = fe_judge_render(jd, "i", "r", "o", "p", &terr);
    if (!probe)
        return fe_bad(k, sub, "%s (a judge prompt may use {input}, {reference}, %s and {scale})", terr.msg,
                      jd->type == FE_JUDGE_RUBRIC ? "{output}" : "{output_a}, {output_b}");
    free(probe);
    return FE_OK;
}

/* scale [lo, hi] (whole numbers, lo < hi) and pass_at within it. */
static enum fe_status fe_judge_scale(struct fe_cfg *k, const cJSON *o, const char *path, struct fe_judge *jd)
{
    char sub[340];
    snprintf(sub, sizeof(sub), "%s.scale", path);
    const cJSON *sc = fe_json_get(o, "scale");
    jd->lo = 1, jd->hi = 5;
    if (sc && !cJSON_IsNull(sc)) {
        if (jd->type != FE_JUDGE_RUBRIC)
            return fe_bad_at(k, sc, sub, "only a rubric judge has a scale");
        const cJSON *a = cJSON_IsArray(sc) && cJSON_GetArraySize(sc) == 2 ? sc->child : NULL;
        const cJSON *b = a ? a->next : NULL;
        if (!a || !cJSON_IsNumber(a) || !cJSON_IsNumber(b) || a->valuedouble != (double)(long)a->valuedouble ||
            b->valuedouble != (double)(long)b->valuedouble || a->valuedouble < -1e6 || b->valuedouble > 1e6)
            return fe_bad_at(k, sc, sub, "must be [min, max], two whole numbers");
        if (a->valuedouble >= b->valuedouble)
            return fe_bad_at(k, sc, sub, "min %ld must be below max %ld", (long)a->valuedouble, (long)b->valuedouble);
        jd->lo = (long)a->valuedouble, jd->hi = (long)b->valuedouble;
    }
    snprintf(sub, sizeof(sub), "%s.pass_at", path);
    double v = 0;
    if (fe_opt_int(k, o, "pass_at", sub, -1e6, 1e6, &v, &jd->has_pass_at) != FE_OK)
        return FE_EINVALID;
    if (jd->has_pass_at && jd->type != FE_JUDGE_RUBRIC)
        return fe_bad(k, sub, "only a rubric judge has pass_at");
    if (jd->has_pass_at && (v < (double)jd->lo || v > (double)jd->hi))
        return fe_bad(k, sub, "%ld is outside the scale [%ld, %ld]", (long)v, jd->lo, jd->hi);
    jd->pass_at = (long)v;
    return FE_OK;
}

/* against (an arm of the run, default the baseline) and swap (default true). */
static enum fe_status fe_judge_pair(struct fe_cfg *k, const cJSON *o, const char *path, struct fe_judge *jd)
{
    struct fe_config *c = k->c;
    char sub[340];
    const char *s;
    snprintf(sub, sizeof(sub), "%s.against", path);
    if (fe_opt_string(k, o, "against", sub, &s) != FE_OK)
        return FE_EINVALID;
    jd->swap = true;
    if (jd->type != FE_JUDGE_PAIRWISE) {
        if (s)
            return fe_bad(k, sub, "only a pairwise judge has \"against\"");
        snprintf(sub, sizeof(sub), "%s.swap", path);
        if (fe_json_get(o, "swap") && !cJSON_IsNull(fe_json_get(o, "swap")))
            return fe_bad(k, sub, "only a pairwise judge has \"swap\"");
        return FE_OK;
    }
    long a = fe_config_arm_index(c, s ? s : c->baseline_arm);
    if (a < 0)
        return fe_bad(k, sub, "'%s' is not an arm of this run", s ? s : c->baseline_arm);
    if (c->n_arms < 2)
        return fe_bad(k, sub, "a pairwise judge needs at least two arms");
    jd->against = fe_xstrdup(c->arms[a].name);
    jd->against_arm = (size_t)a;
    snprintf(sub, sizeof(sub), "%s.swap", path);
    return fe_opt_bool(k, o, "swap", sub, &jd->swap);
}

/* The judge's request settings: provider, model, price; temperature 0; the run's defaults of
 * timeout and retries; response_format where the provider takes one. */
static enum fe_status fe_judge_model(struct fe_cfg *k, const cJSON *o, const char *path, const struct fe_defaults *d,
                                     struct fe_judge *jd)
{
    struct fe_config *c = k->c;
    struct fe_arm_conf *conf = &jd->conf;
    char sub[340];
    const char *s;
    conf->name = fe_xasprintf("judge:%s", jd->name);
    conf->trained_tokens = -1;
    conf->checkpoint_step = -1;
    snprintf(sub, sizeof(sub), "%s.provider", path);
    if (fe_req_string(k, o, "provider", sub, &s) != FE_OK)
        return FE_EINVALID;
    conf->provider = fe_find_provider(c, s);
    if (!conf->provider)
        return fe_bad(k, sub, "no provider named '%s' in \"providers\"", s);
    if (conf->provider->ops->caps & FE_CAP_OFFLINE)
        return fe_bad(k, sub, "provider '%s' answers offline (replay): a judge needs a model", s);
    snprintf(sub, sizeof(sub), "%s.model", path);
    if (fe_req_string(k, o, "model", sub, &s) != FE_OK)
        return FE_EINVALID;
    conf->model = fe_xstrdup(s);
    conf->template = c->template;
    conf->has_temperature = true;
    conf->temperature = 0;
    conf->max_tokens = FE_JUDGE_MAX_TOKENS;
    conf->timeout_s = d->timeout_s;
    conf->max_retries = (long)d->max_retries;
    conf->has_price = c->prices && fe_prices_lookup(c->prices, conf->model, &conf->price);
    const char *type = conf->provider->conf.type;
    if (type && (strcmp(type, "openai") == 0 || strcmp(type, "azure_openai") == 0)) {
        jd->extra_body = cJSON_CreateObject();
        cJSON_AddItemToObject(jd->extra_body, "response_format", fe_judge_response_format(jd));
        conf->extra_body = jd->extra_body;
    }
    conf->provider->used = true;
    return FE_OK;
}

static enum fe_status fe_load_judge(struct fe_cfg *k, const cJSON *o, const struct fe_defaults *d,
                                    struct fe_judge *jd)
{
    char path[300], sub[340];
    snprintf(path, sizeof(path), "judges.%s", o->string);
    if (!cJSON_IsObject(o))
        return fe_bad_at(k, o, path, "must be an object");
    if (fe_check_keys(k, o, "judges.*", path) != FE_OK)
        return FE_EINVALID;
    for (const char *p = o->string; *p; p++)
        if (!(('a' <= *p && *p <= 'z') || ('A' <= *p && *p <= 'Z') || ('0' <= *p && *p <= '9') || *p == '-' ||
              *p == '_'))
            return fe_bad(k, path, "'%s': use letters, digits, '-' and '_' (it names a metric)", o->string);
    if (!o->string[0])
        return fe_bad(k, path, "an empty name");
    jd->name = fe_xstrdup(o->string);
    const char *s;
    snprintf(sub, sizeof(sub), "%s.type", path);
    if (fe_req_string(k, o, "type", sub, &s) != FE_OK)
        return FE_EINVALID;
    if (strcmp(s, "rubric") == 0)
        jd->type = FE_JUDGE_RUBRIC;
    else if (strcmp(s, "pairwise") == 0)
        jd->type = FE_JUDGE_PAIRWISE;
    else
        return fe_bad_at(k, fe_json_get(o, "type"), sub, "must be \"rubric\" or \"pairwise\"");
    if (fe_judge_scale(k, o, path, jd) != FE_OK || fe_judge_pair(k, o, path, jd) != FE_OK ||
        fe_judge_prompt(k, o, path, jd) != FE_OK || fe_judge_model(k, o, path, d, jd) != FE_OK)
        return FE_EINVALID;
    return FE_OK;
}

/* Self-preference: a judge grading its own model (or a fine-tune of it) favours it. */
static void fe_judge_self_check(struct fe_config *c, struct fe_judge *jd)
{
    for (size_t a = 0; a < c->n_arms && !jd->self_preference; a++) {
        const struct fe_arm_conf *arm = &c->arms[a];
        if (fe_judge_same_family(jd->conf.model, arm->model, arm->ft_base_model)) {
            jd->self_preference = fe_xstrdup(arm->name);
            fe_warn("%s: judges.%s: the judge model '%s' is, or is fine-tuned from, the model of arm '%s' "
                    "('%s'): judges tend to prefer their own outputs (self-preference); prefer a judge from "
                    "another model family", c->path, jd->name, jd->conf.model, arm->name,
                    arm->model ? arm->model : "?");
        }
    }
}

/* Every judge:NAME[.pass] metric names a judge; .pass only for a rubric judge with pass_at. */
static enum fe_status fe_check_judge_metrics(struct fe_cfg *k)
{
    struct fe_config *c = k->c;
    for (size_t m = 0; m < c->n_metrics; m++) {
        const char *name = c->metrics[m];
        if (strncmp(name, "judge:", 6) != 0)
            continue;
        char path[64];
        snprintf(path, sizeof(path), "task.metrics[%zu]", m);
        const struct fe_judge *jd = fe_config_metric_judge(c, name);
        if (!jd) {
            struct fe_buf known;
            fe_buf_init(&known, 0);
            for (size_t i = 0; i < c->n_judges; i++)
                fe_buf_addf(&known, "%s%s", i ? ", " : "", c->judges[i].name);
            fe_bad(k, path, "'%s' names no judge in \"judges\" (judges: %s)", name,
                   known.len ? fe_buf_str(&known) : "none");
            fe_buf_release(&known);
            return FE_EINVALID;
        }
        bool pass = strlen(name) > 5 && strcmp(name + strlen(name) - 5, ".pass") == 0;
        if (pass && jd->type != FE_JUDGE_RUBRIC)
            return fe_bad(k, path, "'%s': only a rubric judge has a .pass metric", name);
        if (pass && !jd->has_pass_at)
            return fe_bad(k, path, "'%s' needs judges.%s.pass_at", name, jd->name);
    }
    return FE_OK;
}

enum fe_status fe_load_judges(struct fe_cfg *k, const cJSON *root, const struct fe_defaults *d)
{
    struct fe_config *c = k->c;
    const cJSON *judges = fe_json_get(root, "judges");
    if (judges && !cJSON_IsNull(judges)) {
        if (!cJSON_IsObject(judges))
            return fe_bad_at(k, judges, "judges", "must be an object of named judges");
        if (fe_check_unique(k, judges, "judges") != FE_OK)
            return FE_EINVALID;
        c->judges = fe_xcalloc((size_t)cJSON_GetArraySize(judges) + 1, sizeof(*c->judges));
        /* distill's teacher run judges with the distill gate's judge only (docs/distill.md) */
        const char *only = k->flags & FE_CONFIG_DISTILL_TEACHER
                               ? fe_json_str(fe_json_get(fe_json_get(root, "distill"), "judge")) : NULL;
        const cJSON *o;
        cJSON_ArrayForEach(o, judges) {
            if ((k->flags & FE_CONFIG_DISTILL_TEACHER) && (!only || strcmp(o->string, only) != 0))
                continue;
            struct fe_judge *jd = &c->judges[c->n_judges++];
            if (fe_load_judge(k, o, d, jd) != FE_OK)
                return FE_EINVALID;
            fe_judge_self_check(c, jd);
        }
    }
    return k->flags & FE_CONFIG_DISTILL_TEACHER ? FE_OK : fe_check_judge_metrics(k);
}

void fe_judges_release(struct fe_config *c)
{
    for (size_t i = 0; i < c->n_judges; i++) {
        struct fe_judge *jd = &c->judges[i];
        free(jd->name);
        fe_arm_release(&jd->conf);
        free(jd->prompt);
        free(jd->prompt_source);
        free(jd->against);
        cJSON_Delete(jd->extra_body);
        free(jd->self_preference);
    }
    free(c->judges);
}
