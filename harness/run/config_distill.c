/* config_distill.c — the optional "distill" object of a config (docs/distill.md): which arm is
 * the teacher, the prompt the student sees in production, the held-out set the leakage gate
 * checks against (required: the gate is always on), the validation fraction, the longest
 * output kept and the epochs of the training estimate. Only checked here; `fteval distill`
 * reads the values from the config's tree. Errors are FE_EINVALID naming the key.
 */
#include "harness/run/config.h"
#include "harness/run/config_int.h"

#include <string.h>

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
    const cJSON *arms = cJSON_GetObjectItemCaseSensitive(root, "arms"), *a;
    cJSON_ArrayForEach(a, arms)
    {
        const cJSON *name = cJSON_GetObjectItemCaseSensitive(a, "name");
        if (cJSON_IsString(name) && strcmp(name->valuestring, teacher) == 0)
            return FE_OK;
    }
    return fe_bad(k, "distill.teacher", "'%s' is not an arm of the config", teacher);
}
