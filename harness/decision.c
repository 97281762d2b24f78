/* decision.c — PLACEHOLDER until the decision module lands. */
#include "harness/decision.h"

cJSON *fe_decision_build(const struct fe_run *run, const cJSON *summary, struct fe_err *err)
{
    (void)run;
    (void)summary;
    (void)err;
    return NULL;
}
