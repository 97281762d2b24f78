/* decision_distill.c — the distillation break-even in the decision (issue 16, docs/distill.md,
 * docs/decision.md). The link is explicit: decision.distill_report names the distill.json of the
 * student's training data (relative to the config), and the view applies only when that
 * report's teacher arm (distill.json "teacher.arm") is this run's baseline arm — never a guess
 * from model names. Then the decision's "distillation" block shows the teacher's and the
 * student's cost per inference as this run measured them (summary.json arms' cost), at
 * traffic.requests_per_month, and the break-even against what making the student cost:
 * generation and the judge gate (distill.json "costs") plus training (this config's
 * training.cost_usd / trained_tokens when known — the real fine-tune, as the break_even block
 * has it — else distill.json's estimate). An unknown input makes what depends on it null, and
 * "unknown" says which; nothing unknown is counted as $0.
 * Owner: reporting. Reads one file; errors are notes in the block, never a failed decision.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "harness/analysis/decision.h"
#include "harness/analysis/decision_int.h"
#include "harness/base/buf.h"
#include "harness/base/jsonout.h"
#include "harness/base/log.h"
#include "harness/base/util.h"

static void put(cJSON *o, const char *k, bool known, double v)
{
    if (known)
        cJSON_AddNumberToObject(o, k, v);
    else
        cJSON_AddNullToObject(o, k);
}

/* distill.json's cost of making the data: generation and the judge gate. */
static void made_cost(const cJSON *dj, double *gen, bool *gen_known, double *judge, bool *judge_known)
{
    const cJSON *costs = fe_json_get(dj, "costs");
    *gen_known = fe_json_num(fe_json_get(costs, "generation_usd"), gen) ||
                 fe_json_num(fe_json_path(dj, "teacher.cost_usd"), gen);
    if (costs)
        *judge_known = fe_json_num(fe_json_get(costs, "judge_usd"), judge);
    else /* a report from before the judge gate: no judge ran */
        *judge_known = !fe_json_get(dj, "judge") && (*judge = 0, true);
}

cJSON *fe_dec_distill(const struct fe_ctx *c, cJSON *reasons)
{
    const char *rel = c->in.distill_report;
    if (!rel)
        return NULL;
    const struct fe_arm_facts *B = &c->arms[c->base], *C = &c->arms[c->cand];
    cJSON *o = cJSON_CreateObject();
    char *path = fe_dec_config_relative(c, rel);
    cJSON_AddStringToObject(o, "report", path);
    char *text = fe_read_file(path, 0, NULL);
    cJSON *dj = text ? cJSON_Parse(text) : NULL;
    if (!dj)
        fe_warn("decision.distill_report: cannot read %s as JSON: no distillation break-even", path);
    free(text);
    free(path);
    const char *teacher = fe_json_str(fe_json_path(dj, "teacher.arm"));
    cJSON_AddStringToObject(o, "teacher_arm", B->name);
    cJSON_AddStringToObject(o, "student_arm", C->name);
    bool applies = teacher && strcmp(teacher, B->name) == 0 && c->base != c->cand;
    cJSON_AddBoolToObject(o, "applies", applies);
    if (!applies) {
        cJSON_AddStringToObject(o, "note", !dj ? "the distill report cannot be read (decision.distill_report)"
                                 : !teacher ? "the distill report names no teacher arm"
                                            : "the baseline arm is not the distill report's teacher arm");
        cJSON_Delete(dj);
        return o;
    }
    struct fe_buf unknown;
    fe_buf_init(&unknown, 0);
    double rpm = c->in.requests_per_month, gen = 0, judge = 0, train = 0;
    bool has_rpm = fe_has(rpm) && rpm >= 0, gen_known, judge_known;
    made_cost(dj, &gen, &gen_known, &judge, &judge_known);
    const char *source = "this run's training cost (break_even.training_cost_usd)";
    bool train_known = c->training_known;
    if (train_known) {
        train = c->training_usd;
    } else {
        train_known = fe_json_num(fe_json_path(dj, "training.estimated_cost_usd"), &train);
        source = "distill.json training.estimated_cost_usd";
    }
    put(o, "teacher_usd_per_inference", B->priced, B->per_inference);
    put(o, "student_usd_per_inference", C->priced, C->per_inference);
    put(o, "requests_per_month", has_rpm, rpm);
    put(o, "teacher_monthly_usd", has_rpm && B->priced, B->per_inference * rpm);
    put(o, "student_monthly_usd", has_rpm && C->priced, C->per_inference * rpm);
    bool has_sav = B->priced && C->priced;
    double sav = B->per_inference - C->per_inference;
    put(o, "saving_per_request_usd", has_sav, sav);
    put(o, "monthly_saving_usd", has_sav && has_rpm, sav * rpm);
    put(o, "generation_usd", gen_known, gen);
    put(o, "judge_usd", judge_known, judge);
    put(o, "training_usd", train_known, train);
    if (train_known)
        cJSON_AddStringToObject(o, "training_source", source);
    bool up_known = gen_known && judge_known && train_known;
    double upfront = gen + judge + train, req = 0;
    put(o, "upfront_usd", up_known, upfront);
    bool has_req = has_sav && up_known && fe_break_even_requests(upfront, sav, &req);
    put(o, "break_even_requests", has_req, req);
    put(o, "break_even_months", has_req && has_rpm && rpm > 0, req / rpm);
    const char *names[] = {"teacher cost per inference", "student cost per inference", "generation cost",
                           "judge cost", "training cost", "traffic.requests_per_month"};
    const bool known[] = {B->priced, C->priced, gen_known, judge_known, train_known, has_rpm};
    for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
        if (!known[i])
            fe_buf_addf(&unknown, "%s%s", unknown.len ? ", " : "", names[i]);
    if (unknown.len)
        cJSON_AddStringToObject(o, "unknown", fe_buf_str(&unknown));
    struct fe_buf r;
    fe_buf_init(&r, 0);
    if (has_req) {
        fe_buf_addf(&r, "distillation: the student pays back generation, judging and training ($%.2f) after %.0f "
                        "requests", upfront, req);
        if (has_rpm && rpm > 0)
            fe_buf_addf(&r, " (%.1f months at %.0f requests/month)", req / rpm, rpm);
    } else if (has_sav && sav <= 0) {
        fe_buf_addf(&r, "distillation: no break-even: %s is not cheaper per request than the teacher %s", C->name,
                    B->name);
    } else {
        fe_buf_addf(&r, "distillation: break-even unknown (%s unknown)", unknown.len ? fe_buf_str(&unknown) : "a cost");
    }
    cJSON_AddItemToArray(reasons, cJSON_CreateString(fe_buf_str(&r)));
    fe_buf_release(&r);
    fe_buf_release(&unknown);
    cJSON_Delete(dj);
    return o;
}
