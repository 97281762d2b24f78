/* cmd_distill.c — `fteval distill CONFIG --inputs FILE --out DIR` (docs/distill.md): the config's
 * teacher arm answers unlabeled inputs through run's own path (cmd_run.c: resume, cache, budget,
 * batch, progress; records in DIR/run), then the answers pass the gates — errors and refusals,
 * empty and over-long outputs, json_valid/schema_valid when task.schema is set, the optional
 * rubric-judge gate (distill.judge, distill.min_score: the judge grades each answer during
 * generation through run/judge_run.c; below min_score or a failed judgement drops), then PII, exact
 * and near duplicates and leakage against distill.heldout through the data check's own code
 * (harness/data) — and the kept rows are written in the chat fine-tuning format with the
 * STUDENT's prompt (distill.student_format; never the teacher's system or few-shot) to
 * DIR/train.jsonl and DIR/validation.jsonl, with DIR/distill.json (rows per gate with example
 * ids, teacher spend and tokens, training estimate, break-even, the data check of train.jsonl).
 * A run that stopped early (budget, interrupt, quota) writes distill.json with status
 * "partial" and no training files. Exit codes: run's; 1 when the data check of train.jsonl
 * still blocks.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness/base/buf.h"
#include "harness/base/fs.h"
#include "harness/base/jsonout.h"
#include "harness/base/log.h"
#include "harness/base/strmap.h"
#include "harness/base/util.h"
#include "harness/cli/commands.h"
#include "harness/data/data_check.h"
#include "harness/data/data_dedup.h"
#include "harness/input/dataset.h"
#include "harness/input/template.h"
#include "harness/run/config.h"
#include "harness/run/judge.h"
#include "harness/run/runner.h"
#include "metrics/cost.h"
#include "metrics/jsonschema.h"

enum { FE_GATE_EXAMPLES = 3 };

/* The gates in the order they apply; each row is dropped by the first that rejects it. */
enum fe_gate {
    G_ERRORS, G_REFUSALS, G_EMPTY, G_TOO_LONG, G_JSON, G_SCHEMA, G_JUDGE, G_JUDGE_ERR, G_LEAKAGE, G_PII, G_DUP,
    G_NEAR, G_COUNT
};
static const char *const fe_gate_names[G_COUNT] = {
    "errors", "refusals", "empty", "too_long", "json_valid", "schema_valid", "judge", "judge_errors",
    "leakage", "pii", "duplicates", "near_duplicates",
};

struct fe_drow {
    const char *id;     /* borrowed from the example */
    const cJSON *rec;   /* the teacher's record, or NULL */
    cJSON *messages;    /* the student's chat row (system, user..., assistant) */
    int dropped;        /* -1 kept, else the gate */
    size_t cand_line;   /* line in the candidates file (0: not in it) */
};

struct fe_gates {
    size_t dropped[G_COUNT];
    const char *ex[G_COUNT][FE_GATE_EXAMPLES];
    cJSON *detail[G_COUNT]; /* the judge gates: per example {id, score, reason} or {id, error} */
};

struct fe_distill {
    const char *config, *inputs, *out;
    bool resume, cache, batch, quiet;
    struct fe_config *c;
    const cJSON *d, *sf;
    const struct fe_judge *judge; /* distill.judge: the rubric-judge gate, or NULL */
    long min_score;
    char *heldout;
    double val_fraction;
    long max_chars, epochs;
    struct fe_example *ex;
    size_t n_ex;
    struct fe_drow *rows;
    cJSON *records; /* array of the teacher's records */
    const cJSON **rec_v; /* the same, by index (the id map's values) */
    size_t n_rec;
    struct fe_strmap by_id; /* id -> index in rec_v of its last record (the one that counts) */
    struct fe_gates g;
};

static void fe_gate_drop(struct fe_distill *s, struct fe_drow *r, enum fe_gate gate)
{
    r->dropped = (int)gate;
    if (s->g.dropped[gate] < FE_GATE_EXAMPLES)
        s->g.ex[gate][s->g.dropped[gate]] = r->id;
    s->g.dropped[gate]++;
}

/* The rubric-judge gate (distill.judge, distill.min_score): the teacher's record carries the
 * judge's judgement (run/judge_run.c judged it during generation). A score below min_score drops
 * the row (judge); a judgement that failed — request error after retries, unparsable after the
 * one retry, missing — drops it too, counted apart (judge_errors): never a pass by default. */
static void fe_judge_gate(struct fe_distill *s, struct fe_drow *r)
{
    const cJSON *j = fe_json_get(fe_json_get(r->rec, "judgements"), s->judge->name);
    double score = 0;
    bool scored = fe_json_num(fe_json_get(j, "score"), &score) && !fe_json_get(j, "error");
    enum fe_gate g = !scored ? G_JUDGE_ERR : score < (double)s->min_score ? G_JUDGE : G_COUNT;
    if (g == G_COUNT)
        return;
    if (s->g.dropped[g] < FE_GATE_EXAMPLES) {
        if (!s->g.detail[g])
            s->g.detail[g] = cJSON_CreateArray();
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "id", r->id);
        if (g == G_JUDGE) {
            cJSON_AddNumberToObject(o, "score", score);
            cJSON_AddStringToObject(o, "reason", fe_json_gets_or(j, "reason", ""));
        } else {
            cJSON_AddStringToObject(o, "error", j ? fe_json_gets_or(j, "error", "no score") : "no judgement");
        }
        cJSON_AddItemToArray(s->g.detail[g], o);
    }
    fe_gate_drop(s, r, g);
}

/* The student's messages for one input row: student_format.system, then the user message
 * rendered from student_format.template (a plain row), or the row's own non-system messages
 * (a chat row); the teacher's answer is appended later. NULL with err set (template). */
static cJSON *fe_student_messages(const struct fe_distill *s, const struct fe_example *ex, struct fe_err *err)
{
    const char *sys = fe_json_gets(s->sf, "system");
    cJSON *m = cJSON_CreateArray();
    if (sys) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "role", "system");
        cJSON_AddStringToObject(o, "content", sys);
        cJSON_AddItemToArray(m, o);
    }
    if (ex->chat) {
        for (size_t i = 0; i < ex->n_messages; i++) {
            if (strcmp(ex->messages[i].role, "system") == 0)
                continue;
            cJSON *o = cJSON_CreateObject();
            cJSON_AddStringToObject(o, "role", ex->messages[i].role);
            cJSON_AddStringToObject(o, "content", ex->messages[i].content);
            cJSON_AddItemToArray(m, o);
        }
        return m;
    }
    char *user = fe_template_render(fe_json_gets(s->sf, "template"), ex->row, err);
    if (!user) {
        cJSON_Delete(m);
        return NULL;
    }
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "role", "user");
    cJSON_AddStringToObject(o, "content", user);
    cJSON_AddItemToArray(m, o);
    free(user);
    return m;
}

/* The teacher's records of DIR/run/<teacher>.jsonl into s->records, indexed by id. */
static enum fe_status fe_read_records(struct fe_distill *s, const char *teacher, struct fe_err *err)
{
    char *path = fe_xasprintf("%s/run/%s.jsonl", s->out, teacher);
    size_t len = 0;
    char *text = fe_read_file(path, SIZE_MAX, &len);
    if (!text) {
        enum fe_status st = fe_err_set(err, FE_EIO, "%s: cannot read the teacher's records", path);
        free(path);
        return st;
    }
    free(path);
    s->records = cJSON_CreateArray();
    for (char *line = text, *nl; line < text + len; line = nl + 1) {
        nl = memchr(line, '\n', (size_t)(text + len - line));
        if (!nl)
            nl = text + len;
        cJSON *r = cJSON_ParseWithLength(line, (size_t)(nl - line));
        const char *id = fe_json_gets(r, "id");
        if (!id) {
            cJSON_Delete(r);
            continue;
        }
        cJSON_AddItemToArray(s->records, r);
        s->rec_v = fe_xreallocarray(s->rec_v, s->n_rec + 1, sizeof(*s->rec_v));
        s->rec_v[s->n_rec] = r;
        fe_strmap_set(&s->by_id, id, s->n_rec++); /* the last record of an id wins */
    }
    free(text);
    return FE_OK;
}

/* The per-row gates before the file checks: errors, refusals, empty, over-long, JSON, schema. */
static void fe_row_gates(struct fe_distill *s, struct fe_drow *r)
{
    const cJSON *rec = r->rec;
    if (!rec || strcmp(fe_json_gets_or(rec, "status", ""), "ok") != 0) {
        fe_gate_drop(s, r, G_ERRORS);
        return;
    }
    const char *fr = fe_json_gets_or(rec, "finish_reason", "");
    const char *out = fe_json_gets_or(rec, "prediction", "");
    if (strcmp(fr, "content_filter") == 0 || strcmp(fr, "refusal") == 0) {
        fe_gate_drop(s, r, G_REFUSALS);
        return;
    }
    if (out[strspn(out, " \t\r\n")] == '\0') {
        fe_gate_drop(s, r, G_EMPTY);
        return;
    }
    if ((long)strlen(out) > s->max_chars || strcmp(fr, "length") == 0) {
        fe_gate_drop(s, r, G_TOO_LONG);
        return;
    }
    if (s->c->task_schema) {
        cJSON *j = cJSON_Parse(out);
        if (!j) {
            fe_gate_drop(s, r, G_JSON);
            return;
        }
        bool valid = fe_jsonschema_valid(s->c->task_schema, j);
        cJSON_Delete(j);
        if (!valid) {
            fe_gate_drop(s, r, G_SCHEMA);
            return;
        }
    }
    if (s->judge)
        fe_judge_gate(s, r);
}

/* One chat training line of row r: {"messages": [...student..., assistant]}. */
static void fe_add_line(struct fe_buf *b, const struct fe_drow *r)
{
    cJSON *o = cJSON_CreateObject();
    cJSON *m = cJSON_Duplicate(r->messages, true);
    cJSON *a = cJSON_CreateObject();
    cJSON_AddStringToObject(a, "role", "assistant");
    cJSON_AddStringToObject(a, "content", fe_json_gets_or(r->rec, "prediction", ""));
    cJSON_AddItemToArray(m, a);
    cJSON_AddItemToObject(o, "messages", m);
    char *t = cJSON_PrintUnformatted(o);
    fe_buf_adds(b, t);
    fe_buf_addch(b, '\n');
    free(t);
    cJSON_Delete(o);
}

/* The file gates through the data check's own code: the kept rows are written as candidates
 * and checked against the held-out set; a leaked row (the train side of a leakage finding), a
 * row with PII, and the later copy of an exact or near duplicate are dropped, and the check runs
 * again until it drops nothing (a held-out row leaked twice is reported once per pass). */
static enum fe_status fe_file_gates(struct fe_distill *s, struct fe_err *err)
{
    char *cand = fe_xasprintf("%s/.candidates.jsonl", s->out);
    enum fe_status st = FE_OK;
    static const enum fe_gate order[] = {G_LEAKAGE, G_PII, G_DUP, G_NEAR};
    for (;;) { /* each pass drops a row or ends the loop */
        struct fe_buf b;
        fe_buf_init(&b, 0); /* no cap: the whole file */
        size_t line = 0;
        struct fe_drow **by_line = fe_xcalloc(s->n_ex + 1, sizeof(*by_line));
        for (size_t i = 0; i < s->n_ex; i++) {
            s->rows[i].cand_line = 0;
            if (s->rows[i].dropped >= 0)
                continue;
            fe_add_line(&b, &s->rows[i]);
            s->rows[i].cand_line = ++line;
            by_line[line] = &s->rows[i];
        }
        st = fe_write_file_atomic(cand, b.data ? b.data : "", b.len, err);
        fe_buf_release(&b);
        if (st != FE_OK) {
            free(by_line);
            break;
        }
        struct fe_data_check_opts o;
        fe_data_check_opts_init(&o);
        o.path = cand;
        o.against = s->heldout;
        o.max_findings = SIZE_MAX;
        struct fe_data_report *rep = fe_data_check_run(&o, err);
        if (!rep) {
            free(by_line);
            st = err->code ? err->code : FE_EIO;
            break;
        }
        size_t dropped = 0;
        for (size_t k = 0; k < sizeof(order) / sizeof(order[0]); k++)
            for (size_t f = 0; f < rep->n_findings; f++) {
                const struct fe_data_finding *fd = &rep->findings[f];
                enum fe_gate g = fd->check == FE_CHECK_LEAKAGE ? G_LEAKAGE : fd->check == FE_CHECK_PII ? G_PII
                                 : fd->check == FE_CHECK_DUPLICATE ? G_DUP : fd->check == FE_CHECK_NEAR_DUPLICATE
                                     ? G_NEAR : G_COUNT;
                if (g != order[k])
                    continue;
                size_t l = g == G_LEAKAGE ? fd->other_line : fd->line;
                if (l < 1 || l > line || by_line[l]->dropped >= 0)
                    continue;
                fe_gate_drop(s, by_line[l], g);
                dropped++;
            }
        fe_data_report_free(rep);
        free(by_line);
        if (!dropped)
            break;
    }
    unlink(cand);
    free(cand);
    return st;
}

/* Kept rows to train.jsonl and validation.jsonl: a row goes to validation when the FNV-1a hash
 * of its id (data_dedup's) falls below validation_fraction, so the split is the same on every
 * run and does not depend on the order of the inputs. */
static enum fe_status fe_write_split(struct fe_distill *s, size_t *n_train, size_t *n_val, struct fe_err *err)
{
    struct fe_buf t, v;
    fe_buf_init(&t, 0);
    fe_buf_init(&v, 0);
    *n_train = *n_val = 0;
    for (size_t i = 0; i < s->n_ex; i++) {
        const struct fe_drow *r = &s->rows[i];
        if (r->dropped >= 0)
            continue;
        uint64_t h = fe_dedup_hash(r->id, strlen(r->id), 0);
        bool val = (double)(h % 1000000u) < s->val_fraction * 1e6;
        fe_add_line(val ? &v : &t, r);
        (*(val ? n_val : n_train))++;
    }
    char *tp = fe_xasprintf("%s/train.jsonl", s->out), *vp = fe_xasprintf("%s/validation.jsonl", s->out);
    enum fe_status st = fe_write_file_atomic(tp, t.data ? t.data : "", t.len, err);
    if (st == FE_OK)
        st = fe_write_file_atomic(vp, v.data ? v.data : "", v.len, err);
    free(tp);
    free(vp);
    fe_buf_release(&t);
    fe_buf_release(&v);
    return st;
}

/* "gates": [{name, in, dropped, out, examples: [id...]}] in the order they apply: each gate's
 * in is the previous gate's out (a row counts at the first gate that drops it). */
static cJSON *fe_gates_json(const struct fe_distill *s)
{
    cJSON *a = cJSON_CreateArray();
    size_t in = s->n_ex;
    for (int g = 0; g < G_COUNT; g++) {
        if (((g == G_JSON || g == G_SCHEMA) && !s->c->task_schema) || ((g == G_JUDGE || g == G_JUDGE_ERR) && !s->judge))
            continue;
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "name", fe_gate_names[g]);
        if (g == G_JUDGE || g == G_JUDGE_ERR) {
            cJSON_AddStringToObject(o, "judge", s->judge->name);
            if (g == G_JUDGE)
                cJSON_AddNumberToObject(o, "min_score", (double)s->min_score);
        }
        cJSON_AddNumberToObject(o, "in", (double)in);
        cJSON_AddNumberToObject(o, "dropped", (double)s->g.dropped[g]);
        in -= s->g.dropped[g];
        cJSON_AddNumberToObject(o, "out", (double)in);
        cJSON *ex = cJSON_AddArrayToObject(o, "examples");
        for (size_t i = 0; i < s->g.dropped[g] && i < FE_GATE_EXAMPLES; i++)
            cJSON_AddItemToArray(ex, cJSON_CreateString(s->g.ex[g][i]));
        if (g == G_JUDGE || g == G_JUDGE_ERR) /* the same examples with the score and reason, or error */
            cJSON_AddItemToObject(o, "details", s->g.detail[g] ? cJSON_Duplicate(s->g.detail[g], true)
                                                                : cJSON_CreateArray());
        cJSON_AddItemToArray(a, o);
    }
    return a;
}

static void fe_add_num_or_null(cJSON *o, const char *k, bool known, double v)
{
    if (known)
        cJSON_AddNumberToObject(o, k, v);
    else
        cJSON_AddNullToObject(o, k);
}

/* Is rec_v[k] the last record of its id? Only that one counts: a record written with a pending
 * judgement at a stop is written again, completed, by the resume (run/judge_run.c). */
static bool fe_last_of_id(const struct fe_distill *s, size_t k)
{
    size_t at;
    return fe_strmap_get(&s->by_id, fe_json_gets_or(s->rec_v[k], "id", ""), &at) && at == k;
}

/* The teacher's spend and tokens over its records: cost null when a record has no cost. */
static void fe_teacher_json(const struct fe_distill *s, cJSON *out, double *cost, bool *cost_known,
                            double *completion_tokens, size_t *answered)
{
    double prompt = 0;
    *cost = *completion_tokens = 0;
    *cost_known = true;
    *answered = 0;
    for (size_t k = 0; k < s->n_rec; k++) {
        const cJSON *r = s->rec_v[k];
        if (!fe_last_of_id(s, k))
            continue;
        double v;
        if (fe_json_num(fe_json_get(r, "cost_usd"), &v))
            *cost += v;
        else if (fe_json_get(r, "usage") && !cJSON_IsNull(fe_json_get(r, "usage")))
            *cost_known = false;
        prompt += fe_json_getn_or(fe_json_get(r, "usage"), "prompt_tokens", 0);
        *completion_tokens += fe_json_getn_or(fe_json_get(r, "usage"), "completion_tokens", 0);
        if (strcmp(fe_json_gets_or(r, "status", ""), "ok") == 0)
            (*answered)++;
    }
    cJSON *t = cJSON_AddObjectToObject(out, "teacher");
    cJSON_AddStringToObject(t, "arm", fe_json_gets(s->d, "teacher"));
    cJSON_AddNumberToObject(t, "records", (double)cJSON_GetArraySize(s->records));
    cJSON_AddNumberToObject(t, "answered", (double)*answered);
    fe_add_num_or_null(t, "cost_usd", *cost_known, *cost);
    cJSON_AddNumberToObject(t, "prompt_tokens", prompt);
    cJSON_AddNumberToObject(t, "completion_tokens", *completion_tokens);
}

/* The gate's judge over the last records: judgements made, failed and pending, its requests,
 * tokens and cost (null when a judgement's cost is unknown: an unpriced judge). Returns the cost;
 * *known false when unknown. No judge: 0, known (no judge request was sent). */
static double fe_judge_json(const struct fe_distill *s, cJSON *out, bool *known)
{
    *known = true;
    if (!s->judge)
        return 0;
    double cost = 0, calls = 0, hits = 0, pf = 0, pt = 0, ct = 0;
    size_t judged = 0, failed = 0, pending = 0;
    for (size_t k = 0; k < s->n_rec; k++) {
        const cJSON *j = fe_json_get(fe_json_get(s->rec_v[k], "judgements"), s->judge->name);
        if (!cJSON_IsObject(j) || !fe_last_of_id(s, k))
            continue;
        double v;
        if (fe_json_num(fe_json_get(j, "cost_usd"), &v))
            cost += v;
        else
            *known = false;
        calls += fe_json_getn_or(j, "calls", 0);
        hits += fe_json_getn_or(j, "cache_hits", 0);
        pf += fe_json_getn_or(j, "parse_failures", 0);
        pt += fe_json_getn_or(fe_json_get(j, "usage"), "prompt_tokens", 0);
        ct += fe_json_getn_or(fe_json_get(j, "usage"), "completion_tokens", 0);
        if (cJSON_IsTrue(fe_json_get(j, "pending")))
            pending++;
        else if (fe_json_get(j, "error") || !fe_json_get(j, "score"))
            failed++;
        else
            judged++;
    }
    cJSON *o = cJSON_AddObjectToObject(out, "judge");
    cJSON_AddStringToObject(o, "name", s->judge->name);
    cJSON_AddStringToObject(o, "model", s->judge->conf.model);
    fe_judge_add_scale(o, s->judge);
    cJSON_AddNumberToObject(o, "min_score", (double)s->min_score);
    cJSON_AddNumberToObject(o, "judged", (double)judged);
    cJSON_AddNumberToObject(o, "failed", (double)failed);
    cJSON_AddNumberToObject(o, "pending", (double)pending);
    cJSON_AddNumberToObject(o, "calls", calls);
    cJSON_AddNumberToObject(o, "cache_hits", hits);
    cJSON_AddNumberToObject(o, "parse_failures", pf);
    cJSON_AddNumberToObject(o, "prompt_tokens", pt);
    cJSON_AddNumberToObject(o, "completion_tokens", ct);
    fe_add_num_or_null(o, "cost_usd", *known, cost);
    return cost;
}

/* Training estimate (from the data check of train.jsonl: trained tokens × epochs × the student
 * model's training rate) and the break-even: teacher vs student cost per inference at
 * traffic.requests_per_month against training + generation. Unknowns are null. */
static void fe_economics_json(const struct fe_distill *s, const struct fe_data_report *rep, cJSON *out)
{
    double gen = 0, completion = 0;
    bool gen_known;
    size_t answered;
    fe_teacher_json(s, out, &gen, &gen_known, &completion, &answered);
    bool judge_known;
    double judge = fe_judge_json(s, out, &judge_known);
    cJSON *tr = cJSON_AddObjectToObject(out, "training");
    const char *student = fe_json_gets(s->d, "student_model");
    if (student)
        cJSON_AddStringToObject(tr, "student_model", student);
    else
        cJSON_AddNullToObject(tr, "student_model");
    cJSON_AddNumberToObject(tr, "epochs", (double)s->epochs);
    cJSON_AddNumberToObject(tr, "trained_tokens", rep ? (double)rep->training_tokens : 0);
    bool train_known = rep && rep->priced && student;
    double train = train_known ? rep->cost_usd : 0;
    fe_add_num_or_null(tr, "estimated_cost_usd", train_known, train);

    cJSON *be = cJSON_AddObjectToObject(out, "break_even");
    struct fe_price sp;
    const struct fe_arm_conf *teacher = NULL;
    for (size_t i = 0; i < s->c->n_arms; i++)
        if (strcmp(s->c->arms[i].name, fe_json_gets(s->d, "teacher")) == 0)
            teacher = &s->c->arms[i];
    bool t_known = gen_known && answered > 0 && teacher && teacher->has_price;
    double t_per = t_known ? gen / (double)answered : 0;
    bool s_known = student && s->c->prices && fe_prices_lookup(s->c->prices, student, &sp) && rep &&
                   rep->examples && answered;
    double s_per = 0;
    if (s_known) {
        /* the student's prompt is the short student format: its tokens are train.jsonl's
         * average example less the teacher's average answer */
        double out_tok = completion / (double)answered;
        double in_tok = (double)rep->tokens_total / (double)rep->examples - out_tok;
        s_per = (in_tok * sp.input + out_tok * sp.output) / 1e6;
    }
    fe_add_num_or_null(be, "teacher_usd_per_inference", t_known, t_per);
    fe_add_num_or_null(be, "student_usd_per_inference", s_known, s_per);
    double rpm = fe_json_getn_or(fe_json_get(s->c->json, "traffic"), "requests_per_month", NAN);
    fe_add_num_or_null(be, "requests_per_month", !isnan(rpm), rpm);
    bool up_known = gen_known && judge_known && train_known;
    double upfront = gen + judge + train;
    fe_add_num_or_null(be, "upfront_usd", up_known, upfront);
    bool save_known = t_known && s_known && !isnan(rpm);
    double saving = save_known ? (t_per - s_per) * rpm : 0;
    fe_add_num_or_null(be, "monthly_saving_usd", save_known, saving);
    fe_add_num_or_null(be, "months_to_break_even", save_known && up_known && saving > 0,
                       saving > 0 ? upfront / saving : 0);
    /* costs: what making the data cost (generation, the gate's judge), what training will cost,
     * and spend_usd, the sum of the records' spend (every attempt: the budget's measure) */
    cJSON *co = cJSON_AddObjectToObject(out, "costs");
    fe_add_num_or_null(co, "generation_usd", gen_known, gen);
    fe_add_num_or_null(co, "judge_usd", judge_known, judge);
    fe_add_num_or_null(co, "training_usd", train_known, train);
    fe_add_num_or_null(co, "upfront_usd", up_known, upfront);
    double spend = 0;
    for (size_t k = 0; k < s->n_rec; k++)
        spend += fe_json_getn_or(s->rec_v[k], "spend_usd", 0);
    cJSON_AddNumberToObject(co, "spend_usd", spend);
}

/* The config's "distill" block, the held-out set, the inputs (unlabeled) and the student rows. */
static enum fe_status fe_distill_prepare(struct fe_distill *s, struct fe_err *err)
{
    enum fe_status st = fe_config_load_opts(s->config, NULL, FE_CONFIG_NO_KEYS, &s->c, err);
    if (st != FE_OK)
        return st;
    s->d = fe_json_get(s->c->json, "distill");
    if (!s->d)
        return fe_err_set(err, FE_EINVALID, "%s: no \"distill\" object: name the teacher arm, the student_format "
                          "and the held-out set (docs/distill.md)", s->config);
    s->sf = fe_json_get(s->d, "student_format");
    s->heldout = fe_path_relative_to(s->c->path, fe_json_gets(s->d, "heldout"));
    if (access(s->heldout, R_OK) != 0) /* the leakage gate is always on: no held-out set, no run */
        return fe_err_set(err, FE_EINVALID, "%s: distill.heldout: cannot read %s", s->config, s->heldout);
    s->val_fraction = fe_json_getn_or(s->d, "validation_fraction", 0.1);
    s->max_chars = (long)fe_json_getn_or(s->d, "max_output_chars", 8192);
    s->epochs = (long)fe_json_getn_or(s->d, "epochs", 3);
    const char *judge = fe_json_gets(s->d, "judge"); /* config_distill.c: a rubric judge, min_score in its scale */
    if (judge) {
        s->judge = fe_config_judge(s->c, judge);
        s->min_score = (long)fe_json_getn_or(s->d, "min_score", 0);
    }
    struct fe_dataset_opts o = s->c->dataset_opts;
    o.no_gold = true;
    st = fe_dataset_load_with(s->inputs, &o, &s->ex, &s->n_ex, err);
    if (st != FE_OK)
        return st;
    s->rows = fe_xcalloc(s->n_ex ? s->n_ex : 1, sizeof(*s->rows));
    for (size_t i = 0; i < s->n_ex; i++) {
        s->rows[i].id = s->ex[i].id;
        s->rows[i].dropped = -1;
        if (!(s->rows[i].messages = fe_student_messages(s, &s->ex[i], err)))
            return err->code;
    }
    return fe_mkdir_p(s->out) == 0 ? FE_OK : fe_err_set(err, FE_EIO, "%s: cannot create", s->out);
}

/* The printed report: the gates as distill.json has them (in, dropped, out, examples — the
 * judge gates' with score and reason, or error) and the costs. */
static void fe_distill_print(const struct fe_distill *s, const cJSON *out, size_t n_train, size_t n_val)
{
    printf("distill: %zu inputs -> %zu train + %zu validation rows (%s/distill.json)\n", s->n_ex, n_train, n_val,
           s->out);
    const cJSON *g;
    cJSON_ArrayForEach(g, fe_json_get(out, "gates"))
    {
        printf("  %-16s in %6.0f  dropped %6.0f  out %6.0f", fe_json_gets_or(g, "name", "?"),
               fe_json_getn_or(g, "in", 0), fe_json_getn_or(g, "dropped", 0), fe_json_getn_or(g, "out", 0));
        const cJSON *det = fe_json_get(g, "details"), *e;
        const char *sep = "  e.g. ";
        if (det) {
            cJSON_ArrayForEach(e, det)
            {
                if (fe_json_get(e, "error"))
                    printf("%s%s (%s)", sep, fe_json_gets_or(e, "id", "?"), fe_json_gets_or(e, "error", ""));
                else
                    printf("%s%s (score %.0f: %s)", sep, fe_json_gets_or(e, "id", "?"),
                           fe_json_getn_or(e, "score", 0), fe_json_gets_or(e, "reason", ""));
                sep = ", ";
            }
        } else {
            cJSON_ArrayForEach(e, fe_json_get(g, "examples"))
            {
                printf("%s%s", sep, fe_json_str(e) ? fe_json_str(e) : "?");
                sep = ", ";
            }
        }
        printf("\n");
    }
    const cJSON *co = fe_json_get(out, "costs");
    static const char *const keys[] = {"generation_usd", "judge_usd", "training_usd", "upfront_usd"};
    printf("  costs:");
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        double v;
        if (fe_json_num(fe_json_get(co, keys[i]), &v))
            printf(" %s $%.6f", keys[i], v);
        else
            printf(" %s unknown", keys[i]);
    }
    printf("\n");
}

/* After the teacher: gates, files, the data check of train.jsonl and distill.json. */
static int fe_distill_finish(struct fe_distill *s, int run_rc, const struct fe_runner_result *res,
                             struct fe_err *err)
{
    enum fe_status st = fe_read_records(s, fe_json_gets(s->d, "teacher"), err);
    cJSON *out = cJSON_CreateObject();
    cJSON_AddStringToObject(out, "schema", "fteval.distill/1");
    cJSON_AddStringToObject(out, "config", s->config);
    cJSON_AddStringToObject(out, "inputs", s->inputs);
    cJSON_AddStringToObject(out, "heldout", s->heldout);
    cJSON_AddNumberToObject(out, "rows_in", (double)s->n_ex);
    /* any early end of the teacher's run (run_rc 4: also an I/O error) leaves it partial */
    bool stopped = run_rc != FE_EXIT_OK || res->budget_stopped || res->interrupted || res->quota_stopped ||
                   res->outage || res->waits_gave_up;
    struct fe_data_report *rep = NULL;
    size_t n_train = 0, n_val = 0;
    int rc = FE_EXIT_OK;
    if (st == FE_OK && stopped) { /* a partial generation gives no training files */
        cJSON_AddStringToObject(out, "status", "partial");
        cJSON_AddStringToObject(out, "stopped_by", res->budget_stopped ? "budget" : res->interrupted ? "interrupt"
                                                   : res->quota_stopped ? "quota"
                                                   : res->outage || res->waits_gave_up ? "provider" : "error");
        cJSON_AddNumberToObject(out, "unsent", (double)res->unsent);
        char *tp = fe_xasprintf("%s/train.jsonl", s->out), *vp = fe_xasprintf("%s/validation.jsonl", s->out);
        unlink(tp);
        unlink(vp);
        free(tp);
        free(vp);
        rc = FE_EXIT_ABORTED;
    } else if (st == FE_OK) {
        for (size_t i = 0; i < s->n_ex; i++) {
            size_t k;
            s->rows[i].rec = fe_strmap_get(&s->by_id, s->rows[i].id, &k) ? s->rec_v[k] : NULL;
            fe_row_gates(s, &s->rows[i]);
        }
        st = fe_file_gates(s, err);
        if (st == FE_OK)
            st = fe_write_split(s, &n_train, &n_val, err);
        if (st == FE_OK) {
            struct fe_data_check_opts o;
            fe_data_check_opts_init(&o);
            char *tp = fe_xasprintf("%s/train.jsonl", s->out);
            o.path = tp;
            o.purpose = FE_DATA_FOR_FINETUNE;
            o.against = s->heldout;
            o.model = fe_json_gets(s->d, "student_model");
            o.config = s->config;
            o.n_epochs = s->epochs;
            rep = fe_data_check_run(&o, err);
            free(tp);
            if (!rep)
                st = err->code ? err->code : FE_EIO;
        }
        if (st == FE_OK) {
            bool blocks = fe_data_report_blocking(rep);
            cJSON_AddStringToObject(out, "status", blocks ? "blocked" : "complete");
            cJSON_AddItemToObject(out, "gates", fe_gates_json(s));
            cJSON_AddNumberToObject(out, "rows_out", (double)(n_train + n_val));
            cJSON_AddNumberToObject(out, "train_rows", (double)n_train);
            cJSON_AddNumberToObject(out, "validation_rows", (double)n_val);
            rc = blocks ? FE_EXIT_GATE : FE_EXIT_OK;
        }
    }
    if (st == FE_OK) {
        fe_economics_json(s, rep, out);
        if (rep)
            cJSON_AddItemToObject(out, "data_check", fe_data_report_json(rep));
        char *p = fe_xasprintf("%s/distill.json", s->out);
        st = fe_write_json_file(p, out, err);
        free(p);
    }
    if (st == FE_OK && !s->quiet)
        fe_distill_print(s, out, n_train, n_val);
    fe_data_report_free(rep);
    cJSON_Delete(out);
    return st == FE_OK ? rc : -(int)st;
}

static const struct fe_usage fe_distill_usage = {
    .command = "distill",
    .synopsis =
          "usage: fteval distill CONFIG --inputs FILE --out DIR [--resume] [--batch] [--cache] [-q]\n"
          "\n"
          "The config's distill.teacher arm answers the unlabeled rows of FILE through run's runner\n"
          "(records in DIR/run); the answers pass the gates (errors, refusals, empty, too long,\n"
          "json/schema, distill.judge's score, leakage against distill.heldout, PII, duplicates)\n"
          "and are written with the student's prompt to DIR/train.jsonl and DIR/validation.jsonl,\n"
          "with DIR/distill.json.\n",
    .epilogue = "exit codes: 0 written, 1 the data check of train.jsonl blocks, 2 usage, 3 invalid input,\n"
                "            4 stopped before the end (budget, interrupt, quota: resume with --resume)\n",
};

int fe_cmd_distill(int argc, char **argv)
{
    struct fe_distill s = {0};
    fe_strmap_init(&s.by_id);
    bool verbose = false;
    struct fe_option opts[] = {
        FE_OPTION_STRING(0, "inputs", &s.inputs, "FILE", "unlabeled rows (plain without gold, chat without "
                         "the final assistant message)"),
        FE_OPTION_STRING(0, "out", &s.out, "DIR", "output folder (the teacher's run in DIR/run)"),
        FE_OPTION_FLAG(0, "resume", &s.resume, "continue the teacher's run in DIR/run: nothing sent twice"),
        FE_OPTION_FLAG(0, "batch", &s.batch, "send through the provider's batch API (docs/batch.md)"),
        FE_OPTION_FLAG(0, "cache", &s.cache, "answer from the response cache (DIR/.cache)"),
        FE_OPTION_FLAG('q', "quiet", &s.quiet, "no progress line"),
        FE_OPTION_FLAG('v', "verbose", &verbose, "debug diagnostics"),
        FE_OPTION_END(),
    };
    int n = fe_parse_options(argc, argv, &fe_distill_usage, opts);
    if (n < 0)
        return fe_parse_exit_code(n);
    if (n != 1)
        return fe_usage_error("distill", n == 0 ? "missing CONFIG" : "unexpected argument '%s'", argv[1]);
    if (!s.inputs || !s.out)
        return fe_usage_error("distill", "--inputs FILE and --out DIR are required");
    if (verbose)
        fe_log_set_level(FE_LOG_DEBUG);
    s.config = argv[0];
    struct fe_err err = {0};
    enum fe_status st = fe_distill_prepare(&s, &err);
    int rc = FE_EXIT_OK;
    if (st == FE_OK) {
        char *run_dir = fe_xasprintf("%s/run", s.out);
        struct fe_distill_run d = {.config = s.config, .teacher = fe_json_gets(s.d, "teacher"),
                                   .inputs = s.inputs, .run_dir = run_dir, .resume = s.resume,
                                   .cache = s.cache, .batch = s.batch, .quiet = s.quiet};
        struct fe_runner_result res;
        rc = fe_run_distill_teacher(&d, &res);
        free(run_dir);
        if (rc == FE_EXIT_OK || rc == FE_EXIT_ABORTED) {
            int r = fe_distill_finish(&s, rc, &res, &err);
            if (r < 0)
                st = (enum fe_status)-r;
            else if (rc == FE_EXIT_OK)
                rc = r;
        }
    }
    if (st != FE_OK) {
        fe_error("%s", err.msg);
        rc = fe_status_exit_code(st);
    }
    for (size_t i = 0; s.rows && i < s.n_ex; i++)
        cJSON_Delete(s.rows[i].messages);
    free(s.rows);
    fe_examples_free(s.ex, s.n_ex);
    cJSON_Delete(s.records);
    free(s.rec_v);
    fe_strmap_release(&s.by_id);
    for (int g = 0; g < G_COUNT; g++)
        cJSON_Delete(s.g.detail[g]);
    free(s.heldout);
    fe_config_free(s.c);
    return rc;
}
