/* data_check_prod.c — `data check --config`: the production format (system prompt, template)
 * of the run config, and the training price of --model in a price table. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "harness/base/util.h"
#include "harness/data/data_check_int.h"

/* ---- production format ------------------------------------------------------------------ */

static char *trimmed(const char *s)
{
    while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
        s++;
    size_t n = strlen(s);
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\n' || s[n - 1] == '\r'))
        n--;
    return fe_xstrndup(s, n);
}

static bool trimmed_equal(const char *a, const char *b)
{
    char *x = trimmed(a), *y = trimmed(b);
    bool eq = strcmp(x, y) == 0;
    free(x);
    free(y);
    return eq;
}

void fe_dc_check_production(struct check_state *st, size_t line, const struct fe_data_row *row)
{
    struct fe_data_report *r = st->r;
    if (row->shape != FE_SHAPE_CHAT && row->shape != FE_SHAPE_DPO)
        return;
    if (st->check_system) {
        r->system_checked++;
        bool ok = false;
        for (size_t i = 0; i < st->n_systems && !ok; i++) {
            if (!st->systems[i])
                ok = row->system == NULL;
            else
                ok = row->system && trimmed_equal(row->system, st->systems[i]);
        }
        if (!ok) {
            r->system_mismatch++;
            fe_data_report_add(
                r, FE_CHECK_PRODUCTION, FE_DATA_WARNING, r->path, line, "system_mismatch",
                "messages",
                row->system
                    ? "the system prompt differs from the one the config sends in production"
                    : "no system prompt, but the config sends one in production");
        }
    }
    if (st->tmpl_prefix && row->user) {
        r->template_checked++;
        const char *u = row->user;
        while (*u == ' ' || *u == '\n' || *u == '\t')
            u++;
        size_t ul = strlen(u), pl = strlen(st->tmpl_prefix), sl = strlen(st->tmpl_suffix);
        bool ok = ul >= pl + sl && strncmp(u, st->tmpl_prefix, pl) == 0;
        if (ok && sl) {
            size_t end = ul;
            while (end && (u[end - 1] == ' ' || u[end - 1] == '\n' || u[end - 1] == '\t'))
                end--;
            ok = end >= pl + sl && strncmp(u + end - sl, st->tmpl_suffix, sl) == 0;
        }
        if (!ok) {
            r->template_mismatch++;
            fe_data_report_add(
                r, FE_CHECK_PRODUCTION, FE_DATA_WARNING, r->path, line, "template_mismatch",
                "messages",
                "the user message does not look like the config's task.template rendering "
                "(its literal prefix/suffix is missing)");
        }
    }
}

/* Literal text before the first placeholder and after the last one ("{{"/"}}" unescaped). A
 * template without placeholders is all prefix. */
static void template_affixes(const char *t, char **prefix, char **suffix)
{
    struct fe_buf pre, suf;
    fe_buf_init(&pre, 0);
    fe_buf_init(&suf, 0);
    fe_buf_adds(&pre, "");
    fe_buf_adds(&suf, "");
    bool seen = false;
    for (const char *p = t; *p; p++) {
        struct fe_buf *b = seen ? &suf : &pre;
        if ((p[0] == '{' && p[1] == '{') || (p[0] == '}' && p[1] == '}')) {
            fe_buf_addch(b, *p++);
            continue;
        }
        if (*p == '{') {
            const char *close = strchr(p, '}');
            if (!close)
                break;
            seen = true;
            fe_buf_reset(&suf);
            p = close;
            continue;
        }
        fe_buf_addch(b, *p);
    }
    *prefix = fe_buf_detach(&pre, NULL);
    *suffix = fe_buf_detach(&suf, NULL);
    char *pt = *prefix;
    size_t lead = strspn(pt, " \t\n");
    memmove(pt, pt + lead, strlen(pt + lead) + 1);
    size_t n = strlen(*suffix);
    while (n && ((*suffix)[n - 1] == ' ' || (*suffix)[n - 1] == '\n' || (*suffix)[n - 1] == '\t'))
        (*suffix)[--n] = '\0';
}

/* A config "system" value: inline text, "@file" (relative to the config), or an array of
 * strings joined by newlines. Returns newly allocated text, or NULL with err set. */
static char *config_text(const cJSON *v, const char *config, const char *where, struct fe_err *err)
{
    if (cJSON_IsString(v)) {
        if (v->valuestring[0] != '@')
            return fe_xstrdup(v->valuestring);
        char *path = fe_path_relative_to(config, v->valuestring + 1);
        char *text = fe_read_file(path, 16u << 20, NULL);
        if (!text)
            fe_err_set(err, FE_EIO, "%s: %s: cannot read '%s': %s", config, where, path,
                       strerror(errno));
        free(path);
        return text;
    }
    if (cJSON_IsArray(v)) {
        struct fe_buf b;
        fe_buf_init(&b, 0);
        fe_buf_adds(&b, "");
        const cJSON *s;
        cJSON_ArrayForEach(s, v) {
            if (!cJSON_IsString(s)) {
                fe_buf_release(&b);
                fe_err_set(err, FE_EINVALID,
                           "%s: %s: must be text, \"@file\" or an array of strings", config, where);
                return NULL;
            }
            if (b.len)
                fe_buf_addch(&b, '\n');
            fe_buf_adds(&b, s->valuestring);
        }
        return fe_buf_detach(&b, NULL);
    }
    fe_err_set(err, FE_EINVALID, "%s: %s: must be text, \"@file\" or an array of strings", config,
               where);
    return NULL;
}

cJSON *fe_dc_read_json_file(const char *path, struct fe_err *err)
{
    size_t len = 0;
    char *text = fe_read_file(path, 64u << 20, &len);
    if (!text) {
        fe_err_set(err, FE_EIO, "%s: cannot read: %s", path, strerror(errno));
        return NULL;
    }
    cJSON *json = cJSON_ParseWithLength(text, len);
    free(text);
    if (!json || !cJSON_IsObject(json)) {
        cJSON_Delete(json);
        fe_err_set(err, FE_EINVALID, "%s: invalid JSON (expected an object)", path);
        return NULL;
    }
    return json;
}

static bool is_ft_model(const cJSON *arm)
{
    const cJSON *model = cJSON_GetObjectItemCaseSensitive(arm, "model");
    return cJSON_IsString(model) && strncmp(model->valuestring, "ft:", 3) == 0;
}

/* Reads the run config: systems of the production arms (the candidate arm, else arms with an ft:
 * model, else every arm), the template, and a price table path or object. */
int fe_dc_load_config(struct check_state *st, const char *path, struct fe_err *err)
{
    cJSON *cfg = fe_dc_read_json_file(path, err);
    if (!cfg)
        return -1;
    int rc = 0;
    const cJSON *task = cJSON_GetObjectItemCaseSensitive(cfg, "task");
    const cJSON *tmpl = cJSON_GetObjectItemCaseSensitive(task, "template");
    if (cJSON_IsString(tmpl)) {
        template_affixes(tmpl->valuestring, &st->tmpl_prefix, &st->tmpl_suffix);
        st->tmpl = fe_xstrdup(tmpl->valuestring);
    }
    const cJSON *arms = cJSON_GetObjectItemCaseSensitive(cfg, "arms");
    const cJSON *cand = cJSON_GetObjectItemCaseSensitive(cfg, "candidate_arm");
    int mode = 2; /* 0: candidate arm, 1: ft arms, 2: all */
    const cJSON *arm;
    int idx = 0;
    cJSON_ArrayForEach(arm, arms) {
        const cJSON *name = cJSON_GetObjectItemCaseSensitive(arm, "name");
        if (cJSON_IsString(cand) && cJSON_IsString(name) &&
            strcmp(name->valuestring, cand->valuestring) == 0)
            mode = 0;
        else if (mode == 2 && is_ft_model(arm))
            mode = 1;
    }
    cJSON_ArrayForEach(arm, arms) {
        const cJSON *name = cJSON_GetObjectItemCaseSensitive(arm, "name");
        bool use = mode == 2 || (mode == 1 && is_ft_model(arm)) ||
                   (mode == 0 && cJSON_IsString(name) &&
                    strcmp(name->valuestring, cand->valuestring) == 0);
        idx++;
        if (!use)
            continue;
        const cJSON *sys = cJSON_GetObjectItemCaseSensitive(arm, "system");
        char *text = NULL;
        if (sys && !cJSON_IsNull(sys)) {
            char where[64];
            snprintf(where, sizeof(where), "arms[%d].system", idx - 1);
            text = config_text(sys, path, where, err);
            if (!text) {
                rc = -1;
                break;
            }
        }
        st->systems = fe_xreallocarray(st->systems, st->n_systems + 1, sizeof(*st->systems));
        st->systems[st->n_systems++] = text;
    }
    st->check_system = rc == 0 && st->n_systems > 0;
    if (rc == 0 && !st->prices && !st->o->prices) {
        const cJSON *prices = cJSON_GetObjectItemCaseSensitive(cfg, "prices");
        if (cJSON_IsString(prices)) {
            char *p = fe_path_relative_to(path, prices->valuestring);
            st->prices = fe_dc_read_json_file(p, err);
            free(p);
            if (!st->prices)
                rc = -1;
        } else if (cJSON_IsObject(prices)) {
            st->prices = cJSON_Duplicate(prices, true);
        }
    }
    cJSON_Delete(cfg);
    return rc;
}

/* Training price per 1M tokens: the exact model's "training", else for ft:BASE:... the
 * "ft:BASE" row, else (a base model id) the "ft:MODEL" row. */
bool fe_dc_training_price(const cJSON *prices, const char *model, double *out)
{
    const cJSON *models = cJSON_GetObjectItemCaseSensitive(prices, "models");
    const cJSON *row = cJSON_GetObjectItemCaseSensitive(models, model);
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(row, "training");
    char *key = NULL;
    if (!cJSON_IsNumber(t)) {
        if (strncmp(model, "ft:", 3) == 0) {
            const char *colon = strchr(model + 3, ':');
            key = colon ? fe_xstrndup(model, (size_t)(colon - model)) : fe_xstrdup(model);
        } else {
            key = fe_xasprintf("ft:%s", model);
        }
        row = cJSON_GetObjectItemCaseSensitive(models, key);
        t = cJSON_GetObjectItemCaseSensitive(row, "training");
    }
    free(key);
    if (!cJSON_IsNumber(t) || t->valuedouble < 0)
        return false;
    *out = t->valuedouble;
    return true;
}

