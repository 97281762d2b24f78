/* judge.h — model-graded metrics (issue 12, docs/judges.md): what a judge is asked, how its
 * answer is read, and how a pairwise verdict is made from one or two orders.
 *
 * A rubric judge grades one output on an integer scale [lo, hi]: judge:NAME = (score - lo) /
 * (hi - lo), judge:NAME.pass = score >= pass_at. A pairwise judge compares each arm's output
 * with the `against` arm's on the same example: judge:NAME = 1 win, 0.5 tie, 0 loss. With swap,
 * both orders are asked (AB: this arm's output first; BA: second); agreeing orders give their
 * outcome, disagreeing ones a tie. Identical outputs are a tie without a call.
 *
 * The runtime half (judge_run.c, runner_int.h) sends the judge requests through the runner.
 * Pure functions here; strings returned are newly allocated (caller frees).
 */
#ifndef FE_JUDGE_H
#define FE_JUDGE_H

#include <stdbool.h>

#include <cjson/cJSON.h>

#include "harness/base/err.h"
#include "harness/run/config.h"

extern const char fe_judge_default_rubric[];   /* configs/prompts/judge_rubric.md */
extern const char fe_judge_default_pairwise[]; /* configs/prompts/judge_pairwise.md */

enum fe_judge_outcome { FE_JUDGE_LOSS = 0, FE_JUDGE_TIE = 1, FE_JUDGE_WIN = 2 };

/* A judge's answer: rubric score in [lo, hi], or pairwise winner 'A', 'B' or 'T' (tie). */
struct fe_judge_answer {
    long score;
    char winner;
    char *reason; /* "" when the answer gave none */
};

/* Reads the first JSON object of text that answers jd: {"score": int in scale} or
 * {"winner": "A"|"B"|"tie"}, with an optional string "reason". Returns false (out untouched,
 * *why set to a static explanation) when there is none. */
bool fe_judge_parse_answer(const struct fe_judge *jd, const char *text, struct fe_judge_answer *out,
                           const char **why);
/* The prompt for one judgement: the template filled with input, reference ("(none)" when
 * NULL) and output (rubric) or output_a/output_b (pairwise), and "{scale}" with the scale
 * described in words. NULL with err set when the template names another field. */
char *fe_judge_render(const struct fe_judge *jd, const char *input, const char *reference,
                      const char *output, const char *output_b, struct fe_err *err);
/* The response_format asking for the judge's JSON (json_schema, strict). Caller deletes. */
cJSON *fe_judge_response_format(const struct fe_judge *jd);
/* This arm's outcome from one order's winner: order "AB" puts this arm's output first. */
enum fe_judge_outcome fe_judge_order_outcome(bool this_first, char winner);
/* Agreeing orders give their outcome; disagreeing ones a tie. */
enum fe_judge_outcome fe_judge_combine(enum fe_judge_outcome ab, enum fe_judge_outcome ba);
double fe_judge_outcome_value(enum fe_judge_outcome o);
/* A rubric judge's "scale": [lo, hi] and "pass_at" (when set) on o: the manifest's judge block
 * and every record's judgement carry the same pair. */
void fe_judge_add_scale(cJSON *o, const struct fe_judge *jd);
const char *fe_judge_outcome_name(enum fe_judge_outcome o);
/* Is judge_model the model under test, or fine-tuned from it? arm_model may be an "ft:BASE:..."
 * id; ft_base is a resolved job's base model (or NULL). Dated snapshots count as the same model
 * ("gpt-4.1-2025-04-14" is "gpt-4.1"). */
bool fe_judge_same_family(const char *judge_model, const char *arm_model, const char *ft_base);

/* The dry run's worst case of judge jd over n examples (no retries): its calls, prompt tokens
 * (the template, each arm's prompt estimate arm_prompt_tokens[a] summed over the examples as the
 * input, outputs and reference at the arms' max_tokens) and completion tokens (its max_tokens). */
void fe_judge_estimate(const struct fe_config *c, const struct fe_judge *jd, size_t n, const double *arm_prompt_tokens,
                       double *calls, double *prompt, double *compl);

/* Adds "judges" to a manifest: per judge its settings, prompt hash and, when it grades its own
 * model family, "self_preference" (the arm) and "warning"; and "warnings" lines for those. */
void fe_judges_manifest(cJSON *manifest, const struct fe_config *c);

#endif
