/* config_distill.c — the optional "distill" object of a config (docs/distill.md): which arm is
 * the teacher, the prompt the student sees in production, the held-out set the leakage gate
 * checks against (required: the gate is always on), the validation fraction, the longest
 * output kept, the epochs of the training estimate, and the optional rubric-judge gate
 * (judge: a rubric judge of "judges"; min_score within its scale). Only checked here; `fteval distill`
 * reads the values from the config's tree. Errors are FE_EINVALID naming the key.
 */
#include "harness/base/buf.h"
#include "harness/run/config.h"
#include "harness/run/config_int.h"
#include "harness/run/judge.h"

#include <string.h>

/* The optional rubric-judge gate: distill.judge names a rubric judge of "judges" and
 * distill.min_score (a whole number within that judge's scale) comes with it. */
static enum fe_status fe_check_distill_judge(struct fe_cfg *k, const cJSON *d)
{
    const char *name = NULL;
    double v = 0;
    bool has_min = false;
    if (fe_opt_string(k, d, "judge", "distill.judge", &name) != FE_OK ||
        fe_opt_int(k, d, "min_score", "distill.min_score", -1e6, 1e6, &v, &has_min) != FE_OK)
        return FE_EINVALID;
    if (!name && !has_min)
        return FE_OK;
    if (!name)
        return fe_bad(k, "distill.min_score", "needs distill.judge (the rubric judge whose score it bounds)");
    if (!has_min)
        return fe_bad(k, "distill.judge", "needs distill.min_score (the lowest score a kept row may have)");
    const struct fe_judge *jd = fe_config_judge(k->c, name);
    if (!jd) {
        struct fe_buf known;
        fe_buf_init(&known, 0);
        for (size_t i = 0; i < k->c->n_judges; i++)
            fe_buf_addf(&known, "%s%s", i ? ", " : "", k->c->judges[i].name);
        fe_bad(k, "distill.judge", "'%s' names no judge in \"judges\" (judges: %s)", name,
               known.len ? fe_buf_str(&known) : "none");
        fe_buf_release(&known);
        return FE_EINVALID;
    }
    if (jd->type != FE_JUDGE_RUBRIC)
        return fe_bad(k, "distill.judge", "'%s' is a pairwise judge: the gate needs a rubric judge (a score per row)",
                      name);
    if (v < (double)jd->lo || v > (double)jd->hi)
        return fe_bad(k, "distill.min_score", "%ld is outside judge '%s''s scale [%ld, %ld]", (long)v, name, jd->lo,
                      jd->hi);
    return FE_OK;
}

enum fe_status fe_check_distill(struct fe_cfg *k, const cJSON *root)
{
    const cJSON *d = NULL, *sf = NULL;
    const char *teacher = NULL, *s = NULL;
    double v = 0;
    if (fe_opt_strict(k, root, "distill", &d) != FE_OK)
        return FE_EINVALID;
    if (!d)
        return FE_OK;
    if (fe_req_string(k, d, "teacher", "distill.teacher", &teacher) != FE_OK ||
        fe_req_string(k, d, "heldout", "distill.heldout", &s) != FE_OK ||
        fe_opt_number(k, d, "validation_fraction", "distill.validation_fraction", 0, 0.5, &v, NULL) != FE_OK ||
        fe_opt_int(k, d, "max_output_chars", "distill.max_output_chars", 1, 1e7, &v, NULL) != FE_OK ||
        fe_opt_int(k, d, "epochs", "distill.epochs", 1, 50, &v, NULL) != FE_OK ||
        fe_opt_string(k, d, "student_model", "distill.student_model", &s) != FE_OK ||
        fe_opt_object(k, d, "student_format", "distill.student_format", &sf) != FE_OK)
        return FE_EINVALID;
    if (!sf)
        return fe_bad(k, "distill.student_format", "missing: the system prompt and template the student sees");
    if (fe_check_keys(k, sf, "distill.student_format", "distill.student_format") != FE_OK ||
        fe_opt_string(k, sf, "system", "distill.student_format.system", &s) != FE_OK ||
        fe_req_string(k, sf, "template", "distill.student_format.template", &s) != FE_OK)
        return FE_EINVALID;
    if (fe_check_distill_judge(k, d) != FE_OK)
        return FE_EINVALID;
    const cJSON *arms = cJSON_GetObjectItemCaseSensitive(root, "arms"), *a;
    cJSON_ArrayForEach(a, arms)
    {
        const cJSON *name = cJSON_GetObjectItemCaseSensitive(a, "name");
        if (cJSON_IsString(name) && strcmp(name->valuestring, teacher) == 0)
            return FE_OK;
    }
    return fe_bad(k, "distill.teacher", "'%s' is not an arm of the config", teacher);
}
