/* decision_rubric.c — the 35-point readiness rubric of the launch decision (docs/decision.md):
 * seven dimensions, each a function that states its evidence, whether the dimension is fully
 * (5) or partly (3) met, and what would raise it; fe_dec_rubric scores them all in one place. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness/analysis/decision.h"
#include "harness/analysis/decision_int.h"
#include "harness/base/jsonout.h"
#include "harness/base/util.h"

/* ---- rubric ---------------------------------------------------------------------------------- */

/* Counts non-blank lines of a file; -1 when it cannot be read. */
static long count_lines(const char *path)
{
    size_t len;
    char *text = fe_read_file(path, 256u << 20, &len);
    if (!text)
        return -1;
    long n = 0;
    bool blank = true;
    for (size_t i = 0; i < len; i++) {
        if (text[i] == '\n') {
            n += !blank;
            blank = true;
        } else if (text[i] != ' ' && text[i] != '\t' && text[i] != '\r') {
            blank = false;
        }
    }
    n += !blank;
    free(text);
    return n;
}

/* evidence.data_check: true/false, or a path to `fteval data check --json` output that is clean
 * when it says "blocking": false, "ok": true or "passed": true. */
static bool data_check_clean(const struct fe_ctx *c, const char **why)
{
    const struct fe_evidence *v = &c->in.data_check;
    if (v->kind == FE_EVIDENCE_ABSENT) {
        *why = "no data check recorded (evidence.data_check)";
        return false;
    }
    if (v->kind == FE_EVIDENCE_TRUE || v->kind == FE_EVIDENCE_FALSE) {
        bool passed = v->kind == FE_EVIDENCE_TRUE;
        *why = passed ? "data check passed (declared)" : "data check failed (declared)";
        return passed;
    }
    if (v->kind != FE_EVIDENCE_PATH) {
        *why = "evidence.data_check is neither a boolean nor a path";
        return false;
    }
    char *path = fe_dec_config_relative(c, v->path);
    size_t len;
    char *text = fe_read_file(path, 64u << 20, &len);
    free(path);
    if (!text) {
        *why = "data check report not found";
        return false;
    }
    cJSON *j = cJSON_ParseWithLength(text, len);
    free(text);
    bool clean = cJSON_IsFalse(fe_json_get(j, "blocking")) || cJSON_IsTrue(fe_json_get(j, "ok")) ||
                 cJSON_IsTrue(fe_json_get(j, "passed"));
    *why = !j      ? "data check report is not JSON"
           : clean ? "data check report is clean"
                   : "data check report has blocking issues";
    cJSON_Delete(j);
    return clean;
}

static bool pinned_model(const char *model)
{
    if (!model)
        return false;
    if (strncmp(model, "ft:", 3) == 0)
        return true;
    /* a dated snapshot such as gpt-4o-mini-2024-07-18 */
    for (const char *p = model; p[0]; p++)
        if (strlen(p) >= 10 && p[4] == '-' && p[7] == '-') {
            bool digits = true;
            for (int i = 0; i < 10; i++)
                if (i != 4 && i != 7 && (p[i] < '0' || p[i] > '9'))
                    digits = false;
            if (digits)
                return true;
        }
    return false;
}

/* One rubric dimension: fills the evidence and what would raise the score. Scores 5 when full,
 * 3 when partial, else 1; to_improve is done at 5, else improve. */
struct fe_dim {
    bool full, partial;
    char evidence[768];
    char improve[512];
    const char *done;
};

/* The prompt baselines the run has: arms other than the candidate and any fine-tuned model,
 * with or without a system prompt / few-shot examples; and whether any arm has either. */
struct fe_alternatives {
    bool has_base, has_prompted, has_system, has_few_shot;
};

static void alternatives(const struct fe_ctx *c, struct fe_alternatives *alt)
{
    memset(alt, 0, sizeof(*alt));
    for (size_t a = 0; a < c->run->n_arms; a++) {
        const struct fe_arm_facts *f = &c->arms[a];
        alt->has_system = alt->has_system || f->prompted_system;
        alt->has_few_shot = alt->has_few_shot || f->prompted_few_shot;
        if (a == c->cand || f->is_ft)
            continue;
        if (f->prompted_system || f->prompted_few_shot)
            alt->has_prompted = true;
        else
            alt->has_base = true;
    }
}

/* decision: were the cheaper alternatives tried first? */
static void dim_decision(const struct fe_ctx *c, struct fe_dim *d)
{
    struct fe_alternatives alt;
    alternatives(c, &alt);
    bool decisive = c->verdict && strcmp(c->verdict, "inconclusive") != 0;
    bool rag = c->in.rag_tried;
    int alts = alt.has_base + alt.has_prompted + rag;
    snprintf(d->evidence, sizeof(d->evidence),
             "base-model arm: %s; prompt-engineered arm: %s; retrieval tried: %s; "
             "verdict %s",
             alt.has_base ? "yes" : "no", alt.has_prompted ? "yes" : "no",
             rag ? "yes" : "not stated", c->verdict ? c->verdict : "none");
    d->full = alts >= 2 && decisive;
    d->partial = alts >= 1;
    d->done = "nothing: alternatives were tried and the evidence decides";
    snprintf(d->improve, sizeof(d->improve), "%s",
             !alt.has_prompted
                 ? "add a prompt-engineered arm (system prompt + few-shot) next to the base model"
             : !alt.has_base ? "add the plain base model as an arm"
                             : "collect enough evidence for a decisive verdict (see evaluation)");
}

static void dim_data_quality(const struct fe_ctx *c, struct fe_dim *d)
{
    const struct fe_cmp *k = &c->cmp;
    const char *why;
    bool clean = data_check_clean(c, &why);
    bool expert = c->in.expert_reviewed;
    double n = k->found && k->n > 0 ? k->n : (double)c->arms[c->cand].n;
    snprintf(d->evidence, sizeof(d->evidence),
             "%s; held-out examples: %.0f; golds expert-reviewed: %s", why, n,
             expert ? "yes" : "not stated");
    d->full = clean && (n >= 1000 || (n >= 500 && expert));
    d->partial = clean || n >= 500 || expert;
    d->done = "nothing: checked data and a large held-out set";
    snprintf(d->improve, sizeof(d->improve), "%s%s",
             !clean ? "run `fteval data check --json` and set evidence.data_check; " : "",
             n < 1000 ? "grow the held-out set to 1000+ examples (500+ with expert review)" : "");
}

/* evidence.human_ratings: true, or a file of ratings with at least one line. */
static bool human_ratings(const struct fe_ctx *c)
{
    const struct fe_evidence *hr = &c->in.human_ratings;
    if (hr->kind == FE_EVIDENCE_TRUE)
        return true;
    if (hr->kind != FE_EVIDENCE_PATH)
        return false;
    char *path = fe_dec_config_relative(c, hr->path);
    long lines = count_lines(path);
    free(path);
    return lines > 0;
}

/* The summary's "human" block (analysis/human.h) reports an agreement number: imported human
 * ratings whose agreement with each other or with the judge is known. With a judge metric as
 * the primary ("judge:NAME", "judge:NAME.pass") the ratings must be of that judge. */
static bool human_agreement(const struct fe_ctx *c, bool judged)
{
    const cJSON *h = fe_json_get(c->summary, "human");
    if (!judged)
        return cJSON_IsTrue(fe_json_get(h, "agreement_reported"));
    char name[256];
    snprintf(name, sizeof(name), "%s", c->metric + 6);
    char *dot = strrchr(name, '.');
    if (dot && strcmp(dot, ".pass") == 0)
        *dot = '\0';
    return cJSON_IsTrue(fe_json_get(fe_json_get(fe_json_get(h, "judges"), name),
                                    "agreement_reported"));
}

static void dim_evaluation(const struct fe_ctx *c, struct fe_dim *d)
{
    const struct fe_cmp *k = &c->cmp;
    /* a judge metric is the primary: only imported ratings with agreement reach 5 */
    bool judged = c->metric && strncmp(c->metric, "judge:", 6) == 0;
    bool imported = human_agreement(c, judged);
    bool human = imported || (!judged && human_ratings(c));
    bool decisive = k->found && (k->significant || c->non_inferior);
    if (!k->found) {
        snprintf(d->evidence, sizeof(d->evidence), "no paired comparison of candidate vs baseline");
    } else {
        char delta[32];
        fe_dec_fmt_pts(delta, sizeof(delta), k->delta);
        snprintf(d->evidence, sizeof(d->evidence),
                 "paired comparison on %s: %s pts, %s%s; MDE %s; %zu metric(s); "
                 "human ratings: %s",
                 c->metric, delta, k->significant ? "significant" : "not significant",
                 c->non_inferior ? ", non-inferior" : "", k->has_mde ? "recorded" : "not recorded",
                 c->run->n_metrics,
                 imported ? "imported, agreement reported"
                 : human  ? "declared"
                 : judged ? "none of this judge (judge-only evidence: at most 3)"
                          : "none");
    }
    d->full = decisive && (judged ? imported : (human || c->run->n_metrics >= 2));
    d->partial = k->found;
    d->done = "nothing: decisive paired evidence";
    if (!k->found)
        snprintf(d->improve, sizeof(d->improve),
                 "run at least two arms so fteval can compare them (paired)");
    else if (judged && !imported)
        snprintf(d->improve, sizeof(d->improve),
                 "import human ratings (fteval rate export, then fteval rate import): judge-only "
                 "evidence scores at most 3%s",
                 decisive ? "" : "; and add examples until the difference is resolved");
    else if (!decisive && k->has_n_needed && k->n_needed > k->n)
        snprintf(d->improve, sizeof(d->improve),
                 "add about %.0f examples so the difference can be resolved",
                 ceil(k->n_needed - k->n));
    else if (!decisive)
        snprintf(d->improve, sizeof(d->improve),
                 "add examples until the MDE is below the difference that matters");
    else
        snprintf(d->improve, sizeof(d->improve),
                 "import human ratings (evidence.human_ratings) or add a second metric");
}

static void dim_method(const struct fe_ctx *c, struct fe_dim *d)
{
    struct fe_alternatives alt;
    alternatives(c, &alt);
    const char *corr = c->man.stats_correction;
    if (!corr)
        corr = c->in.stats_correction;
    if (!corr && c->cmp.found)
        corr = c->cmp.adjustment;
    bool corrected = corr && strcmp(corr, "none") != 0;
    snprintf(d->evidence, sizeof(d->evidence),
             "system-prompt arm: %s; few-shot arm: %s; multiple-comparison "
             "correction: %s",
             alt.has_system ? "yes" : "no", alt.has_few_shot ? "yes" : "no",
             corr ? corr : "unknown");
    d->full = alt.has_system && alt.has_few_shot && corrected;
    d->partial = alt.has_system || alt.has_few_shot;
    d->done = "nothing: strong prompt baselines, corrected tests";
    snprintf(d->improve, sizeof(d->improve), "%s",
             !alt.has_few_shot ? "add a few-shot arm (few_shot examples in the prompt)"
             : !alt.has_system ? "add an arm with a tuned system prompt"
                               : "turn on multiple-comparison correction (stats.correction: holm)");
}

static void dim_cost(const struct fe_ctx *c, struct fe_dim *d)
{
    size_t priced = 0;
    for (size_t a = 0; a < c->run->n_arms; a++)
        priced += c->arms[a].priced;
    bool has_budget = fe_has(c->in.budget_max_usd) || fe_has(c->man.budget_max_usd);
    snprintf(d->evidence, sizeof(d->evidence),
             "%zu of %zu arms priced; budget: %s; training cost: %s", priced, c->run->n_arms,
             has_budget ? "set" : "not set", c->training_known ? "known" : "unknown");
    bool all_priced = priced == c->run->n_arms;
    d->full = all_priced && has_budget && c->training_known;
    d->partial = all_priced;
    d->done = "nothing: costs, budget and break-even known";
    snprintf(d->improve, sizeof(d->improve), "%s",
             !all_priced   ? "add every model to the price table (prices) so cost is known"
             : !has_budget ? "set budget.max_usd"
                           : "set training.cost_usd or training.trained_tokens for the break-even");
}

static void dim_versioning(const struct fe_ctx *c, struct fe_dim *d)
{
    bool ids = c->run->n_arms > 0, pinned = true, hashes = true;
    for (size_t a = 0; a < c->run->n_arms; a++) {
        const struct fe_arm_facts *f = &c->arms[a];
        ids = ids && f->model;
        pinned = pinned && pinned_model(f->model);
        if (f->prompted_system && !f->has_system_sha256)
            hashes = false;
        if (f->prompted_few_shot && !f->has_few_shot_sha256)
            hashes = false;
    }
    bool data_hash = c->man.dataset_sha256 != NULL;
    snprintf(d->evidence, sizeof(d->evidence),
             "model ids recorded: %s; pinned snapshots: %s; prompt hashes: %s; "
             "dataset sha256: %s",
             ids ? "yes" : "no", pinned ? "yes" : "no", hashes ? "yes" : "missing",
             data_hash ? "yes" : "no");
    d->full = ids && pinned && hashes && data_hash;
    d->partial = ids && data_hash;
    d->done = "nothing: models, prompts and data are pinned";
    snprintf(d->improve, sizeof(d->improve), "%s",
             !ids || !data_hash ? "record model ids and the dataset hash (run through fteval run)"
             : !pinned ? "use dated model snapshots (e.g. gpt-4o-mini-2024-07-18), not aliases"
                       : "record the sha256 of every prompt and few-shot file");
}

static void dim_monitoring(const struct fe_ctx *c, struct fe_dim *d)
{
    char *hist = fe_xasprintf("%s/../history.jsonl", c->run->dir);
    long runs = count_lines(hist);
    free(hist);
    bool has_mon = c->in.monitoring;
    bool nightly = runs >= 2;
    snprintf(d->evidence, sizeof(d->evidence),
             "history.jsonl: %s%ld run(s); production monitoring: %s", runs < 0 ? "absent, " : "",
             runs < 0 ? 0 : runs, has_mon ? "stated" : "not stated");
    d->full = nightly && has_mon;
    d->partial = nightly || has_mon;
    d->done = "nothing: nightly regression runs and production monitoring";
    snprintf(d->improve, sizeof(d->improve), "%s",
             !nightly ? "schedule a nightly `fteval run` + `fteval compare` (history.jsonl)"
                      : "describe production monitoring in evidence.monitoring");
}

/* The seven dimensions of docs/decision.md, in the order summary.json lists them. */
static const struct {
    const char *name;
    void (*fn)(const struct fe_ctx *c, struct fe_dim *d);
} fe_rubric_dims[] = {
    {"decision", dim_decision},     {"data_quality", dim_data_quality},
    {"evaluation", dim_evaluation}, {"method", dim_method},
    {"cost", dim_cost},             {"versioning", dim_versioning},
    {"monitoring", dim_monitoring},
};

cJSON *fe_dec_rubric(const struct fe_ctx *c)
{
    cJSON *r = cJSON_CreateObject();
    cJSON *dims = cJSON_CreateObject();
    int total = 0;
    for (size_t i = 0; i < sizeof(fe_rubric_dims) / sizeof(fe_rubric_dims[0]); i++) {
        struct fe_dim d = {0};
        fe_rubric_dims[i].fn(c, &d);
        int score = d.full ? 5 : d.partial ? 3 : 1;
        cJSON *o = cJSON_AddObjectToObject(dims, fe_rubric_dims[i].name);
        cJSON_AddNumberToObject(o, "score", score);
        cJSON_AddStringToObject(o, "evidence", d.evidence);
        cJSON_AddStringToObject(o, "to_improve", score == 5 ? d.done : d.improve);
        total += score;
    }
    cJSON_AddNumberToObject(r, "total", total);
    cJSON_AddNumberToObject(r, "max", 35);
    cJSON_AddStringToObject(r, "band", fe_rubric_band(total));
    cJSON_AddItemToObject(r, "dimensions", dims);
    return r;
}
