/* judge.c — see judge.h: the judge's prompt, its answer, and the verdict of one or two orders. */
#include "harness/run/judge.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness/base/tokens.h"
#include "harness/base/util.h"
#include "harness/input/template.h"

/* The first JSON object of text whose fields answer jd (a '{' that starts no object, or an
 * object without the field, is skipped). */
static cJSON *fe_judge_first_object(const struct fe_judge *jd, const char *text)
{
    const char *field = jd->type == FE_JUDGE_RUBRIC ? "score" : "winner";
    for (const char *p = strchr(text, '{'); p; p = strchr(p + 1, '{')) {
        const char *end = NULL;
        cJSON *o = cJSON_ParseWithOpts(p, &end, false);
        if (cJSON_IsObject(o) && cJSON_GetObjectItemCaseSensitive(o, field))
            return o;
        cJSON_Delete(o);
    }
    return NULL;
}

bool fe_judge_parse_answer(const struct fe_judge *jd, const char *text, struct fe_judge_answer *out,
                           const char **why)
{
    cJSON *o = text ? fe_judge_first_object(jd, text) : NULL;
    if (!o) {
        *why = jd->type == FE_JUDGE_RUBRIC ? "no JSON object with \"score\" in the answer"
                                           : "no JSON object with \"winner\" in the answer";
        return false;
    }
    struct fe_judge_answer a = {0};
    bool ok = false;
    if (jd->type == FE_JUDGE_RUBRIC) {
        const cJSON *s = cJSON_GetObjectItemCaseSensitive(o, "score");
        double v = cJSON_IsNumber(s) ? s->valuedouble : NAN;
        ok = isfinite(v) && v == floor(v) && v >= (double)jd->lo && v <= (double)jd->hi;
        a.score = ok ? (long)v : 0;
        *why = "\"score\" is not a whole number on the scale";
    } else {
        const cJSON *w = cJSON_GetObjectItemCaseSensitive(o, "winner");
        const char *s = cJSON_IsString(w) ? w->valuestring : "";
        a.winner = strcmp(s, "A") == 0 ? 'A' : strcmp(s, "B") == 0 ? 'B' : strcmp(s, "tie") == 0 ? 'T' : 0;
        ok = a.winner != 0;
        *why = "\"winner\" is not \"A\", \"B\" or \"tie\"";
    }
    if (ok) {
        const cJSON *r = cJSON_GetObjectItemCaseSensitive(o, "reason");
        a.reason = fe_xstrdup(cJSON_IsString(r) ? r->valuestring : "");
        *out = a;
        *why = NULL;
    }
    cJSON_Delete(o);
    return ok;
}

char *fe_judge_render(const struct fe_judge *jd, const char *input, const char *reference, const char *output,
                      const char *output_b, struct fe_err *err)
{
    cJSON *row = cJSON_CreateObject();
    cJSON_AddStringToObject(row, "input", input ? input : "");
    cJSON_AddStringToObject(row, "reference", reference ? reference : "(none)");
    if (jd->type == FE_JUDGE_RUBRIC) {
        cJSON_AddStringToObject(row, "output", output ? output : "");
        char scale[160];
        snprintf(scale, sizeof(scale), "a whole number from %ld (worst) to %ld (best)", jd->lo, jd->hi);
        cJSON_AddStringToObject(row, "scale", scale);
    } else {
        cJSON_AddStringToObject(row, "output_a", output ? output : "");
        cJSON_AddStringToObject(row, "output_b", output_b ? output_b : "");
        cJSON_AddStringToObject(row, "scale", "A, B or tie");
    }
    char *text = fe_template_render(jd->prompt, row, err);
    cJSON_Delete(row);
    return text;
}

cJSON *fe_judge_response_format(const struct fe_judge *jd)
{
    cJSON *rf = cJSON_CreateObject();
    cJSON_AddStringToObject(rf, "type", "json_schema");
    cJSON *js = cJSON_AddObjectToObject(rf, "json_schema");
    cJSON_AddStringToObject(js, "name", jd->type == FE_JUDGE_RUBRIC ? "rubric_grade" : "pairwise_verdict");
    cJSON_AddTrueToObject(js, "strict");
    cJSON *schema = cJSON_AddObjectToObject(js, "schema");
    cJSON_AddStringToObject(schema, "type", "object");
    cJSON *props = cJSON_AddObjectToObject(schema, "properties");
    cJSON *req = cJSON_AddArrayToObject(schema, "required");
    if (jd->type == FE_JUDGE_RUBRIC) {
        cJSON *s = cJSON_AddObjectToObject(props, "score");
        cJSON_AddStringToObject(s, "type", "integer");
        cJSON *e = cJSON_AddArrayToObject(s, "enum"); /* strict mode has no minimum/maximum */
        for (long v = jd->lo; v <= jd->hi && v - jd->lo < 1000; v++)
            cJSON_AddItemToArray(e, cJSON_CreateNumber((double)v));
        cJSON_AddItemToArray(req, cJSON_CreateString("score"));
    } else {
        cJSON *w = cJSON_AddObjectToObject(props, "winner");
        cJSON_AddStringToObject(w, "type", "string");
        cJSON *e = cJSON_AddArrayToObject(w, "enum");
        cJSON_AddItemToArray(e, cJSON_CreateString("A"));
        cJSON_AddItemToArray(e, cJSON_CreateString("B"));
        cJSON_AddItemToArray(e, cJSON_CreateString("tie"));
        cJSON_AddItemToArray(req, cJSON_CreateString("winner"));
    }
    cJSON *r = cJSON_AddObjectToObject(props, "reason");
    cJSON_AddStringToObject(r, "type", "string");
    cJSON_AddItemToArray(req, cJSON_CreateString("reason"));
    cJSON_AddFalseToObject(schema, "additionalProperties");
    return rf;
}

enum fe_judge_outcome fe_judge_order_outcome(bool this_first, char winner)
{
    if (winner == 'T')
        return FE_JUDGE_TIE;
    bool first_won = winner == 'A';
    return first_won == this_first ? FE_JUDGE_WIN : FE_JUDGE_LOSS;
}

enum fe_judge_outcome fe_judge_combine(enum fe_judge_outcome ab, enum fe_judge_outcome ba)
{
    return ab == ba ? ab : FE_JUDGE_TIE;
}

double fe_judge_outcome_value(enum fe_judge_outcome o)
{
    return o == FE_JUDGE_WIN ? 1.0 : o == FE_JUDGE_TIE ? 0.5 : 0.0;
}

const char *fe_judge_outcome_name(enum fe_judge_outcome o)
{
    return o == FE_JUDGE_WIN ? "win" : o == FE_JUDGE_TIE ? "tie" : "loss";
}

/* The model family of id: an "ft:BASE:org::id" id's BASE, without a "-YYYY-MM-DD" snapshot date. */
static char *fe_model_family(const char *id)
{
    if (!id)
        return NULL;
    char *m = fe_xstrdup(strncmp(id, "ft:", 3) == 0 ? id + 3 : id);
    char *colon = strchr(m, ':');
    if (colon)
        *colon = '\0';
    size_t n = strlen(m);
    if (n > 11 && m[n - 11] == '-' && m[n - 6] == '-' && m[n - 3] == '-') {
        bool digits = true;
        for (size_t i = n - 10; i < n; i++)
            digits = digits && (m[i] == '-' || (m[i] >= '0' && m[i] <= '9'));
        if (digits)
            m[n - 11] = '\0';
    }
    return m;
}

bool fe_judge_same_family(const char *judge_model, const char *arm_model, const char *ft_base)
{
    char *j = fe_model_family(judge_model);
    bool same = false;
    const char *arms[2] = {arm_model, ft_base};
    for (size_t i = 0; i < 2 && j; i++) {
        char *a = fe_model_family(arms[i]);
        same = same || (a && strcmp(a, j) == 0);
        free(a);
    }
    free(j);
    return same;
}

void fe_judge_add_scale(cJSON *o, const struct fe_judge *jd)
{
    cJSON *sc = cJSON_AddArrayToObject(o, "scale");
    cJSON_AddItemToArray(sc, cJSON_CreateNumber((double)jd->lo));
    cJSON_AddItemToArray(sc, cJSON_CreateNumber((double)jd->hi));
    if (jd->has_pass_at)
        cJSON_AddNumberToObject(o, "pass_at", (double)jd->pass_at);
}

void fe_judges_manifest(cJSON *manifest, const struct fe_config *c)
{
    if (c->n_judges == 0)
        return;
    cJSON *arr = cJSON_AddArrayToObject(manifest, "judges");
    cJSON *warnings = NULL;
    for (size_t i = 0; i < c->n_judges; i++) {
        const struct fe_judge *jd = &c->judges[i];
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "name", jd->name);
        cJSON_AddStringToObject(o, "type", jd->type == FE_JUDGE_RUBRIC ? "rubric" : "pairwise");
        cJSON_AddStringToObject(o, "provider", jd->conf.provider->conf.name);
        cJSON_AddStringToObject(o, "model", jd->conf.model);
        cJSON_AddStringToObject(o, "prompt_source", jd->prompt_source);
        cJSON_AddStringToObject(o, "prompt_sha256", jd->prompt_sha256);
        cJSON_AddBoolToObject(o, "response_format", jd->extra_body != NULL);
        if (jd->type == FE_JUDGE_RUBRIC) {
            fe_judge_add_scale(o, jd);
        } else {
            cJSON_AddStringToObject(o, "against", jd->against);
            cJSON_AddBoolToObject(o, "swap", jd->swap);
        }
        if (jd->self_preference) {
            char *w = fe_xasprintf("judge '%s' (%s) is, or is fine-tuned from, the model of arm '%s': judges "
                                   "tend to prefer their own outputs (self-preference)",
                                   jd->name, jd->conf.model, jd->self_preference);
            cJSON_AddStringToObject(o, "self_preference", jd->self_preference);
            cJSON_AddStringToObject(o, "warning", w);
            if (!warnings)
                warnings = cJSON_AddArrayToObject(manifest, "judge_warnings");
            cJSON_AddItemToArray(warnings, cJSON_CreateString(w));
            free(w);
        }
        cJSON_AddItemToArray(arr, o);
    }
}

void fe_judge_estimate(const struct fe_config *c, const struct fe_judge *jd, size_t n, const double *arm_prompt_tokens,
                       double *calls, double *prompt, double *compl)
{
    struct fe_err err = {0};
    char *empty = fe_judge_render(jd, "", "", "", "", &err);
    double base = (double)fe_estimate_tokens(empty ? empty : jd->prompt) + FE_TOKENS_PER_MESSAGE + FE_TOKENS_REPLY_PRIMER;
    free(empty);
    long ref = 0; /* the reference is not counted in the dataset pass: as long as the longest answer */
    for (size_t a = 0; a < c->n_arms; a++)
        ref = c->arms[a].max_tokens > ref ? c->arms[a].max_tokens : ref;
    *calls = *prompt = 0;
    for (size_t a = 0; a < c->n_arms; a++) {
        double nn = (double)n, k = 1, outputs = (double)c->arms[a].max_tokens;
        if (jd->type == FE_JUDGE_PAIRWISE) {
            if (a == jd->against_arm)
                continue;
            k = jd->swap ? 2 : 1;
            outputs += (double)c->arms[jd->against_arm].max_tokens;
        }
        *calls += k * nn;
        *prompt += k * (nn * (base + (double)ref + outputs) + arm_prompt_tokens[a]);
    }
    *compl = *calls * (double)jd->conf.max_tokens;
}
