/* rundir_judges.c — see rundir_judges.h. */
#include "harness/rundir/rundir_judges.h"

#include <math.h>
#include <stdlib.h>

#include "harness/base/jsonout.h"
#include "harness/base/util.h"

static double num(const cJSON *o, const char *k)
{
    return fe_json_getn_or(o, k, NAN);
}

static void fe_judge_arm_parse(const cJSON *a, struct fe_judge_arm_view *v)
{
    v->arm = a->string;
    v->judged = num(a, "judged");
    v->errors = num(a, "errors");
    v->pending = num(a, "pending");
    v->calls = num(a, "calls");
    v->cost_usd = num(a, "cost_usd");
    const cJSON *wr = fe_json_get(a, "win_rate");
    v->win_rate = num(wr, "win_rate");
    const cJSON *ci = fe_json_get(wr, "ci");
    if (cJSON_IsArray(ci) && cJSON_GetArraySize(ci) == 2 && cJSON_IsNumber(ci->child) && cJSON_IsNumber(ci->child->next)) {
        v->ci_lo = ci->child->valuedouble;
        v->ci_hi = ci->child->next->valuedouble;
    } else {
        v->ci_lo = v->ci_hi = NAN;
    }
    v->wins = num(wr, "wins");
    v->ties = num(wr, "ties");
    v->losses = num(wr, "losses");
    v->sign_p = num(fe_json_get(wr, "sign_test"), "p");
    v->position_consistency = num(a, "position_consistency");
    v->mean_score = num(a, "mean_score");
    v->pass_rate = num(a, "pass_rate");
}

size_t fe_judges_view_parse(const cJSON *summary, struct fe_judge_view **out)
{
    const cJSON *judges = fe_json_get(summary, "judges");
    size_t n = cJSON_IsObject(judges) ? (size_t)cJSON_GetArraySize(judges) : 0;
    *out = NULL;
    if (n == 0)
        return 0;
    struct fe_judge_view *v = fe_xcalloc(n, sizeof(*v));
    size_t i = 0;
    const cJSON *j;
    cJSON_ArrayForEach(j, judges) {
        struct fe_judge_view *x = &v[i++];
        x->name = j->string;
        x->type = fe_json_str(fe_json_get(j, "type"));
        x->model = fe_json_str(fe_json_get(j, "model"));
        x->against = fe_json_str(fe_json_get(j, "against"));
        x->self_preference = fe_json_str(fe_json_get(j, "self_preference"));
        x->warning = fe_json_str(fe_json_get(j, "warning"));
        x->calls = num(j, "calls");
        x->cost_usd = num(j, "cost_usd");
        x->parse_failures = num(j, "parse_failures");
        x->errors = num(j, "errors");
        x->pending = num(j, "pending");
        x->position_consistency = num(j, "position_consistency");
        const cJSON *arms = fe_json_get(j, "arms");
        x->n_arms = cJSON_IsObject(arms) ? (size_t)cJSON_GetArraySize(arms) : 0;
        x->arms = fe_xcalloc(x->n_arms + 1, sizeof(*x->arms));
        size_t k = 0;
        const cJSON *a;
        cJSON_ArrayForEach(a, arms) fe_judge_arm_parse(a, &x->arms[k++]);
    }
    *out = v;
    return n;
}

void fe_judges_view_free(struct fe_judge_view *v, size_t n)
{
    for (size_t i = 0; v && i < n; i++)
        free(v[i].arms);
    free(v);
}
