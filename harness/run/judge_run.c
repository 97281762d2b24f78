/* judge_run.c — judges inside the runner (issue 12, docs/judges.md; runner_int.h declares the
 * hooks). A generation record that has judgements to make is held here instead of being
 * appended; each judgement becomes one or two judge requests (fe_job with arm = n_arms + judge)
 * that the runner schedules like any other (concurrency, RPM/TPM, retries, cache, budget,
 * probes, progress). Pipelined: a rubric judgement starts when its output exists, a pairwise one
 * when the `against` arm's output on the same example exists too. When every judgement of a
 * record is settled, the record (with "judgements" and the judge:* scores) is appended.
 *
 * Resume: a record is written only when judged, so a finished run re-judges nothing. At a stop
 * (interrupt, budget, provider stop) the held records are written with their unfinished
 * judgements marked "pending" (and the orders already judged kept); a resumed run judges only
 * those, appending the completed record (rundir: the last record of an id wins), whose
 * spend_usd is that session's spend only, so the journal's sum over lines stays the run's spend.
 *
 * Calls journal.c, cache.c, the config and the providers; never runner.c, runner_done.c or
 * record.c (they call this file: the nm cycle check of tests/layers_test.py).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "harness/base/buf.h"
#include "harness/base/jsonout.h"
#include "harness/base/log.h"
#include "harness/base/util.h"
#include "harness/run/cache.h"
#include "harness/run/judge.h"
#include "harness/run/runner.h"
#include "harness/run/runner_int.h"

#define FE_JUDGE_RETRY_NOTE "Your previous answer could not be read as the JSON object asked for. Reply with only that JSON object.\n\n"

enum { FE_SLOT_NONE, FE_SLOT_WAIT, FE_SLOT_RUNNING, FE_SLOT_DONE };

struct fe_jorder {
    bool done;
    char winner;                  /* 'A', 'B', 'T' */
    char *reason;
};

struct fe_jslot {
    int state;
    int open_jobs;
    bool stopped;                 /* a request of it was dropped by a stop: pending */
    long score;
    bool has_score;
    char *reason;
    struct fe_jorder orders[2];   /* pairwise: AB (this arm first), BA */
    char *error;
    long calls, cache_hits, parse_failures;
    bool has_usage;
    long prompt_tokens, completion_tokens, cached_tokens;
    double cost_usd;
    bool cost_unknown;
};

struct fe_jex;

struct fe_jrec {
    struct fe_jex *ex;
    size_t arm;
    cJSON *rec;                   /* the record, owned */
    bool ok;
    char *prediction;
    char *input;                  /* the rendered final user message the arm sent */
    struct fe_jslot *slots;       /* one per judge */
    size_t open;                  /* slots not DONE */
    double spend_usd;             /* judge requests' spend */
    bool spend_estimated;
    struct fe_jrec *next;
};

struct fe_jex {
    char *id;
    size_t index;                 /* in fe_judging.exs */
    char *reference;              /* the gold as text, or NULL */
    bool *have, *ok;              /* per arm: its output is known */
    char **out;
    size_t reported;              /* arms whose record exists (held, written or resumed) */
    struct fe_jrec *held;
};

struct fe_prior {                 /* resume: the last record of an id in an arm's journal, read */
    long long off;                /* back from there when its example comes (a batch run's */
    size_t len;                   /* journals are all unfinished: never held all at once) */
    bool ok;
    bool unfinished;              /* a judgement is missing or pending */
};

struct fe_judging {
    struct fe_strmap by_id;       /* id -> index in exs */
    struct fe_jex **exs;
    size_t n_exs, cap_exs;
    struct fe_strmap *prior_ids;  /* resume, per arm: id -> index in prior[arm] */
    struct fe_prior **prior;
    size_t *n_prior;
    FILE **prior_files;           /* resume, per arm: its journal, for reading records back */
    size_t calls, pending_calls;
};

const struct fe_arm_conf *fe_job_conf(const struct fe_runner *r, const struct fe_job *j)
{
    const struct fe_config *c = r->c;
    return j->arm < c->n_arms ? &c->arms[j->arm] : &c->judges[j->arm - c->n_arms].conf;
}

/* ---- examples ------------------------------------------------------------------------------ */

static char *fe_reference_text(const struct fe_example *ex)
{
    if (ex->gold_json)
        return cJSON_PrintUnformatted(ex->gold_json);
    if (ex->n_golds >= 1 && ex->golds[0][0])
        return fe_xstrdup(ex->golds[0]);
    return NULL;
}

static struct fe_jex *fe_jex_get(struct fe_runner *r, const struct fe_example *ex)
{
    struct fe_judging *g = r->judging;
    size_t at;
    if (fe_strmap_get(&g->by_id, ex->id, &at) && at < g->n_exs && g->exs[at])
        return g->exs[at];
    size_t n = r->c->n_arms;
    struct fe_jex *x = fe_xcalloc(1, sizeof(*x));
    x->id = fe_xstrdup(ex->id);
    x->reference = fe_reference_text(ex);
    x->have = fe_xcalloc(n, sizeof(bool));
    x->ok = fe_xcalloc(n, sizeof(bool));
    x->out = fe_xcalloc(n, sizeof(char *));
    if (g->n_exs == g->cap_exs) {
        g->cap_exs = g->cap_exs ? g->cap_exs * 2 : 64;
        g->exs = fe_xreallocarray(g->exs, g->cap_exs, sizeof(*g->exs));
    }
    x->index = g->n_exs;
    g->exs[g->n_exs++] = x;
    fe_strmap_set(&g->by_id, x->id, x->index);
    return x;
}

static void fe_jex_free(struct fe_runner *r, struct fe_jex *x)
{
    r->judging->exs[x->index] = NULL;
    for (size_t a = 0; a < r->c->n_arms; a++)
        free(x->out[a]);
    free(x->out);
    free(x->have);
    free(x->ok);
    free(x->reference);
    free(x->id);
    free(x);
}

/* The last user message arm sends for ex (what {input} shows the judge). */
static char *fe_rendered_input(const struct fe_runner *r, size_t arm, const struct fe_example *ex)
{
    struct fe_message *msgs = NULL;
    size_t n = 0;
    struct fe_err err = {0};
    char *input = NULL;
    if (fe_build_messages(r->c, &r->c->arms[arm], ex, &msgs, &n, &err) == FE_OK) {
        for (size_t i = n; i-- > 0 && !input;)
            if (strcmp(msgs[i].role, "user") == 0)
                input = fe_xstrdup(msgs[i].content ? msgs[i].content : "");
        fe_messages_free(msgs, n);
    }
    return input ? input : fe_xstrdup("");
}

/* ---- judge requests ------------------------------------------------------------------------ */

/* Settles slot ji; returns true when that wrote (and freed) jr. */
static bool fe_slot_finish(struct fe_runner *r, struct fe_jrec *jr, size_t ji);

/* Queues one judge request for slot ji of jr (order 0 AB, 1 BA). */
static void fe_judge_request(struct fe_runner *r, struct fe_jrec *jr, size_t ji, int order, bool retry)
{
    const struct fe_judge *jd = &r->c->judges[ji];
    struct fe_jslot *s = &jr->slots[ji];
    const char *against = jd->type == FE_JUDGE_PAIRWISE ? jr->ex->out[jd->against_arm] : NULL;
    struct fe_err err = {0};
    char *prompt = jd->type == FE_JUDGE_RUBRIC
                       ? fe_judge_render(jd, jr->input, jr->ex->reference, jr->prediction, NULL, &err)
                       : fe_judge_render(jd, jr->input, jr->ex->reference, order == 0 ? jr->prediction : against,
                                         order == 0 ? against : jr->prediction, &err);
    if (!prompt) {
        free(s->error);
        s->error = fe_xasprintf("judge prompt: %s", err.msg);
        return;
    }
    struct fe_message msg = {.role = "user", .content = retry ? fe_xasprintf("%s%s", FE_JUDGE_RETRY_NOTE, prompt) : prompt};
    if (retry)
        free(prompt);
    const struct fe_arm_conf *conf = &jd->conf;
    struct fe_chat_request req = {
        .arm = conf->name, .example_id = jr->ex->id, .model = conf->model, .messages = &msg, .n_messages = 1,
        .has_temperature = true, .temperature = conf->temperature, .max_tokens = conf->max_tokens,
        .extra_body = conf->extra_body, .now_unix = (long long)time(NULL),
    };
    struct fe_job *j = fe_xcalloc(1, sizeof(*j));
    fe_net_xfer_init(&j->x);
    enum fe_status st = conf->provider->ops->build_request(&conf->provider->conf, &req, &j->req, &err);
    j->prompt_est = fe_estimate_prompt_tokens(&msg, 1);
    free(msg.content);
    if (st != FE_OK) {
        fe_net_xfer_release(&j->x);
        fe_http_request_release(&j->req);
        free(j);
        free(s->error);
        s->error = fe_xasprintf("judge request: %s", err.msg);
        return;
    }
    j->item = fe_xcalloc(1, sizeof(*j->item)); /* its own: only the id (fe_job_free releases it) */
    j->item->ex.id = fe_xstrdup(jr->ex->id);
    j->item->refs = 1;
    j->arm = r->c->n_arms + ji;
    j->est_tokens = j->prompt_est + conf->max_tokens;
    fe_cache_key(conf->provider->conf.name, conf->provider->conf.base_url, conf->model, j->req.body, j->req.body_len,
                 j->key);
    j->judge_rec = jr;
    j->judge_slot = (int)ji;
    j->judge_order = order;
    j->judge_retry = retry;
    s->open_jobs++;
    r->outstanding++;
    r->judging->pending_calls++;
    j->next = NULL; /* to the back of the ready queue (runner.c's fe_ready_push does the same) */
    if (r->ready_tail)
        r->ready_tail->next = j;
    else
        r->ready_head = j;
    r->ready_tail = j;
}

/* Starts slot ji of jr when what it needs exists; settles it without a call when none is needed
 * (a failed generation, identical outputs). Returns true when jr was written (and freed). */
static bool fe_slot_start(struct fe_runner *r, struct fe_jrec *jr, size_t ji)
{
    const struct fe_judge *jd = &r->c->judges[ji];
    struct fe_jslot *s = &jr->slots[ji];
    if (s->state != FE_SLOT_WAIT)
        return false;
    if (jd->type == FE_JUDGE_RUBRIC) {
        s->state = FE_SLOT_RUNNING;
        if (!jr->ok) {
            s->error = fe_xstrdup("not judged: the generation failed");
        } else { /* resumed after an unparsable answer: its one retry, never the first request again */
            fe_judge_request(r, jr, ji, 0, s->parse_failures > 0);
        }
    } else {
        size_t b = jd->against_arm;
        if (!jr->ex->have[b])
            return false; /* waits for the against arm's output */
        s->state = FE_SLOT_RUNNING;
        if (!jr->ok || !jr->ex->ok[b] || strcmp(jr->prediction, jr->ex->out[b]) == 0) {
            /* settled without a judge: a failed side loses, identical outputs tie */
        } else {
            for (int o = 0; o < (jd->swap ? 2 : 1); o++)
                if (!s->orders[o].done)
                    fe_judge_request(r, jr, ji, o, false);
        }
    }
    return s->open_jobs == 0 && fe_slot_finish(r, jr, ji);
}

/* ---- the record ---------------------------------------------------------------------------- */

static void fe_set_score(const struct fe_runner *r, cJSON *rec, const char *metric, double v)
{
    for (size_t m = 0; m < r->c->n_metrics; m++) {
        if (strcmp(r->c->metrics[m], metric) != 0)
            continue;
        cJSON *scores = cJSON_GetObjectItemCaseSensitive(rec, "scores");
        if (!cJSON_IsObject(scores))
            scores = cJSON_AddObjectToObject(rec, "scores");
        cJSON_DeleteItemFromObjectCaseSensitive(scores, metric);
        cJSON_AddNumberToObject(scores, metric, v);
    }
}

/* judgements.NAME of a pairwise slot: outcome, value, orders. Returns the value, NAN when none. */
static double fe_pairwise_fields(const struct fe_jrec *jr, const struct fe_judge *jd, const struct fe_jslot *s, cJSON *o)
{
    cJSON_AddStringToObject(o, "against", jd->against);
    cJSON *orders = cJSON_AddArrayToObject(o, "orders");
    int n = jd->swap ? 2 : 1, done = 0;
    enum fe_judge_outcome per[2] = {FE_JUDGE_TIE, FE_JUDGE_TIE};
    for (int i = 0; i < n; i++) {
        if (!s->orders[i].done)
            continue;
        cJSON *e = cJSON_CreateObject();
        cJSON_AddStringToObject(e, "order", i == 0 ? "AB" : "BA");
        char w[4] = {s->orders[i].winner, 0, 0, 0};
        cJSON_AddStringToObject(e, "winner", w[0] == 'T' ? "tie" : w);
        cJSON_AddStringToObject(e, "reason", s->orders[i].reason ? s->orders[i].reason : "");
        cJSON_AddItemToArray(orders, e);
        per[i] = fe_judge_order_outcome(i == 0, s->orders[i].winner);
        done++;
    }
    enum fe_judge_outcome out;
    const char *reason = NULL;
    size_t b = jd->against_arm;
    if (!jr->ok || !jr->ex->ok[b]) {
        out = !jr->ok && !jr->ex->ok[b] ? FE_JUDGE_TIE : jr->ok ? FE_JUDGE_WIN : FE_JUDGE_LOSS;
        reason = !jr->ok && !jr->ex->ok[b] ? "both generations failed"
                 : jr->ok                 ? "the against arm's generation failed"
                                          : "this arm's generation failed";
    } else if (strcmp(jr->prediction, jr->ex->out[b]) == 0) {
        out = FE_JUDGE_TIE;
        reason = "identical outputs (no judge call)";
    } else if (s->error || done < n) {
        return NAN;
    } else {
        out = n == 2 ? fe_judge_combine(per[0], per[1]) : per[0];
        if (n == 2)
            cJSON_AddBoolToObject(o, "consistent", per[0] == per[1]);
        reason = n == 2 && per[0] != per[1] ? "the two orders disagree: a tie" : s->orders[0].reason;
    }
    cJSON_AddStringToObject(o, "outcome", fe_judge_outcome_name(out));
    cJSON_AddStringToObject(o, "reason", reason ? reason : "");
    return fe_judge_outcome_value(out);
}

/* Writes slot ji's judgement into the record and its judge:* scores. */
static void fe_slot_write(struct fe_runner *r, struct fe_jrec *jr, size_t ji, bool pending)
{
    const struct fe_judge *jd = &r->c->judges[ji];
    struct fe_jslot *s = &jr->slots[ji];
    cJSON *all = cJSON_GetObjectItemCaseSensitive(jr->rec, "judgements");
    if (!cJSON_IsObject(all))
        all = cJSON_AddObjectToObject(jr->rec, "judgements");
    cJSON_DeleteItemFromObjectCaseSensitive(all, jd->name);
    cJSON *o = cJSON_AddObjectToObject(all, jd->name);
    cJSON_AddStringToObject(o, "type", jd->type == FE_JUDGE_RUBRIC ? "rubric" : "pairwise");
    cJSON_AddStringToObject(o, "model", jd->conf.model);
    double value = NAN;
    if (jd->type == FE_JUDGE_RUBRIC) {
        fe_judge_add_scale(o, jd);
        if (s->has_score && !s->error) {
            cJSON_AddNumberToObject(o, "score", (double)s->score);
            value = (double)(s->score - jd->lo) / (double)(jd->hi - jd->lo);
            cJSON_AddStringToObject(o, "reason", s->reason ? s->reason : "");
        }
    } else {
        value = fe_pairwise_fields(jr, jd, s, o);
    }
    if (!isnan(value))
        cJSON_AddNumberToObject(o, "value", value);
    if (s->has_usage) {
        cJSON *u = cJSON_AddObjectToObject(o, "usage");
        cJSON_AddNumberToObject(u, "prompt_tokens", (double)s->prompt_tokens);
        cJSON_AddNumberToObject(u, "completion_tokens", (double)s->completion_tokens);
        cJSON_AddNumberToObject(u, "cached_tokens", (double)s->cached_tokens);
    } else {
        cJSON_AddNullToObject(o, "usage");
    }
    if (s->calls == 0 || !s->cost_unknown)
        cJSON_AddNumberToObject(o, "cost_usd", s->cost_usd);
    else
        cJSON_AddNullToObject(o, "cost_usd"); /* an unpriced judge: unknown, never 0 */
    cJSON_AddNumberToObject(o, "calls", (double)s->calls);
    cJSON_AddNumberToObject(o, "cache_hits", (double)s->cache_hits);
    cJSON_AddNumberToObject(o, "parse_failures", (double)s->parse_failures);
    if (pending) {
        cJSON_AddTrueToObject(o, "pending");
        cJSON_AddStringToObject(o, "error", "not judged: the run stopped (a resume judges it)");
    } else if (s->error) {
        cJSON_AddStringToObject(o, "error", s->error);
    } else if (isnan(value)) {
        cJSON_AddStringToObject(o, "error", "no verdict");
    }
    /* a judgement that failed scores 0, as every metric of a failed example does; its error
     * is on the record and counted in summary.json "judges" */
    char metric[300];
    snprintf(metric, sizeof(metric), "judge:%s", jd->name);
    fe_set_score(r, jr->rec, metric, isnan(value) ? 0.0 : value);
    snprintf(metric, sizeof(metric), "judge:%s.pass", jd->name);
    if (jd->type == FE_JUDGE_RUBRIC && jd->has_pass_at)
        fe_set_score(r, jr->rec, metric, !isnan(value) && s->score >= jd->pass_at ? 1.0 : 0.0);
}

/* Appends the held record (judge spend added to spend_usd) and forgets it. */
static void fe_jrec_write(struct fe_runner *r, struct fe_jrec *jr)
{
    cJSON *sp = cJSON_GetObjectItemCaseSensitive(jr->rec, "spend_usd");
    if (cJSON_IsNumber(sp))
        cJSON_SetNumberValue(sp, sp->valuedouble + jr->spend_usd);
    else
        cJSON_AddNumberToObject(jr->rec, "spend_usd", jr->spend_usd);
    if (jr->spend_estimated) {
        cJSON_DeleteItemFromObjectCaseSensitive(jr->rec, "spend_estimated");
        cJSON_AddTrueToObject(jr->rec, "spend_estimated");
    }
    char *printed = cJSON_PrintUnformatted(jr->rec);
    char *line = fe_redact(printed); /* every string of the record, whatever its source */
    cJSON_free(printed);
    struct fe_arm_state *as = &r->arms[jr->arm];
    struct fe_err werr = {0};
    if (as->journal.fd >= 0 && fe_journal_append(&as->journal, line, strlen(line), &werr) != FE_OK &&
        r->fatal == FE_OK) {
        r->fatal = FE_EIO;
        fe_err_set(r->err, FE_EIO, "%s", werr.msg);
        r->stop_all = true;
    }
    free(line);
    struct fe_jex *x = jr->ex;
    for (struct fe_jrec **link = &x->held; *link; link = &(*link)->next)
        if (*link == jr) {
            *link = jr->next;
            break;
        }
    for (size_t i = 0; i < r->c->n_judges; i++) {
        free(jr->slots[i].reason);
        free(jr->slots[i].error);
        free(jr->slots[i].orders[0].reason);
        free(jr->slots[i].orders[1].reason);
    }
    free(jr->slots);
    cJSON_Delete(jr->rec);
    free(jr->prediction);
    free(jr->input);
    free(jr);
}

/* An example is forgotten once every arm reported and no record of it is held. */
static void fe_jex_settle(struct fe_runner *r, struct fe_jex *x)
{
    if (!x->held && x->reported >= r->c->n_arms)
        fe_jex_free(r, x);
}

static bool fe_slot_finish(struct fe_runner *r, struct fe_jrec *jr, size_t ji)
{
    struct fe_jslot *s = &jr->slots[ji];
    if (s->state == FE_SLOT_DONE)
        return false;
    s->state = FE_SLOT_DONE;
    fe_slot_write(r, jr, ji, s->stopped);
    if (--jr->open > 0)
        return false;
    fe_jrec_write(r, jr);
    return true;
}

/* An arm's output on x is known: pairwise slots waiting for it start. */
static void fe_jex_output(struct fe_runner *r, struct fe_jex *x, size_t arm, bool ok, const char *text)
{
    if (x->have[arm])
        return;
    x->have[arm] = true;
    x->ok[arm] = ok;
    x->out[arm] = fe_xstrdup(text ? text : "");
    for (struct fe_jrec *jr = x->held, *next; jr; jr = next) {
        next = jr->next; /* a slot that settles may write and free jr */
        bool written = false;
        for (size_t ji = 0; ji < r->c->n_judges && !written; ji++) {
            const struct fe_judge *jd = &r->c->judges[ji];
            if (jd->type == FE_JUDGE_PAIRWISE && jd->against_arm == arm)
                written = fe_slot_start(r, jr, ji);
        }
    }
}

/* Does judge ji judge arm's records? Rubric: every arm; pairwise: every arm but `against`. */
static bool fe_judge_applies(const struct fe_judge *jd, size_t arm)
{
    return jd->type == FE_JUDGE_RUBRIC || jd->against_arm != arm;
}

/* The against arm's records carry judge:PAIR = 0.5 (an arm ties with itself): the paired
 * difference of another arm is then its win rate minus one half. */
static void fe_against_scores(const struct fe_runner *r, cJSON *rec, size_t arm)
{
    for (size_t ji = 0; ji < r->c->n_judges; ji++) {
        const struct fe_judge *jd = &r->c->judges[ji];
        if (jd->type == FE_JUDGE_PAIRWISE && jd->against_arm == arm) {
            char metric[300];
            snprintf(metric, sizeof(metric), "judge:%s", jd->name);
            fe_set_score(r, rec, metric, 0.5);
        }
    }
}

/* Holds rec (owned) for arm on x with slots from an earlier record's judgements (resume) or new. */
static void fe_hold(struct fe_runner *r, struct fe_jex *x, size_t arm, const struct fe_example *ex, cJSON *rec)
{
    struct fe_jrec *jr = fe_xcalloc(1, sizeof(*jr));
    jr->ex = x;
    jr->arm = arm;
    jr->rec = rec;
    const cJSON *status = cJSON_GetObjectItemCaseSensitive(rec, "status");
    jr->ok = cJSON_IsString(status) && strcmp(status->valuestring, "ok") == 0;
    const cJSON *pred = cJSON_GetObjectItemCaseSensitive(rec, "prediction");
    jr->prediction = fe_xstrdup(cJSON_IsString(pred) ? pred->valuestring : "");
    jr->input = fe_rendered_input(r, arm, ex);
    jr->slots = fe_xcalloc(r->c->n_judges, sizeof(*jr->slots));
    const cJSON *earlier = cJSON_GetObjectItemCaseSensitive(rec, "judgements");
    for (size_t ji = 0; ji < r->c->n_judges; ji++) {
        const struct fe_judge *jd = &r->c->judges[ji];
        struct fe_jslot *s = &jr->slots[ji];
        const cJSON *e = cJSON_GetObjectItemCaseSensitive(earlier, jd->name);
        if (!fe_judge_applies(jd, arm) || (cJSON_IsObject(e) && !cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(e, "pending")))) {
            s->state = FE_SLOT_NONE; /* nothing to judge, or judged in an earlier session */
            continue;
        }
        s->state = FE_SLOT_WAIT;
        jr->open++;
        const cJSON *o;
        cJSON_ArrayForEach(o, cJSON_GetObjectItemCaseSensitive(e, "orders")) { /* kept from the stop */
            const char *ord = fe_json_str(cJSON_GetObjectItemCaseSensitive(o, "order"));
            const char *w = fe_json_str(cJSON_GetObjectItemCaseSensitive(o, "winner"));
            const char *why = fe_json_str(cJSON_GetObjectItemCaseSensitive(o, "reason"));
            int i = ord && strcmp(ord, "BA") == 0 ? 1 : 0;
            if (!w)
                continue;
            s->orders[i].done = true;
            s->orders[i].winner = strcmp(w, "tie") == 0 ? 'T' : w[0];
            s->orders[i].reason = fe_xstrdup(why ? why : "");
        }
        const cJSON *u = cJSON_GetObjectItemCaseSensitive(e, "usage");
        s->has_usage = cJSON_IsObject(u);
        s->prompt_tokens = (long)fe_json_getn_or(u, "prompt_tokens", 0);
        s->completion_tokens = (long)fe_json_getn_or(u, "completion_tokens", 0);
        s->cached_tokens = (long)fe_json_getn_or(u, "cached_tokens", 0);
        const cJSON *cost = cJSON_GetObjectItemCaseSensitive(e, "cost_usd");
        s->cost_usd = cJSON_IsNumber(cost) ? cost->valuedouble : 0;
        s->cost_unknown = cJSON_IsNull(cost);
        s->calls = (long)fe_json_getn_or(e, "calls", 0);
        s->cache_hits = (long)fe_json_getn_or(e, "cache_hits", 0);
        s->parse_failures = (long)fe_json_getn_or(e, "parse_failures", 0);
    }
    if (jr->open == 0) { /* every judgement already made */
        free(jr->slots);
        free(jr->prediction);
        free(jr->input);
        cJSON_Delete(jr->rec);
        free(jr);
        return;
    }
    jr->next = x->held;
    x->held = jr;
    bool written = false;
    for (size_t ji = 0; ji < r->c->n_judges && !written; ji++)
        written = fe_slot_start(r, jr, ji);
}

bool fe_judge_hold(struct fe_runner *r, const struct fe_job *j, cJSON **rec)
{
    if (!r->judging || j->arm >= r->c->n_arms)
        return false;
    size_t arm = j->arm;
    const struct fe_example *ex = &j->item->ex;
    struct fe_jex *x = fe_jex_get(r, ex);
    fe_against_scores(r, *rec, arm);
    const cJSON *status = cJSON_GetObjectItemCaseSensitive(*rec, "status");
    const cJSON *pred = cJSON_GetObjectItemCaseSensitive(*rec, "prediction");
    bool ok = cJSON_IsString(status) && strcmp(status->valuestring, "ok") == 0;
    char *text = fe_xstrdup(cJSON_IsString(pred) ? pred->valuestring : ""); /* rec may be written and freed */
    bool any = false;
    for (size_t ji = 0; ji < r->c->n_judges; ji++)
        any = any || fe_judge_applies(&r->c->judges[ji], arm);
    x->reported++;
    if (any) {
        fe_hold(r, x, arm, ex, *rec);
        *rec = NULL;
    }
    fe_jex_output(r, x, arm, ok, text);
    free(text);
    fe_jex_settle(r, x);
    return any;
}

void fe_judge_resumed(struct fe_runner *r, const struct fe_item *it, size_t arm)
{
    struct fe_judging *g = r->judging;
    size_t at;
    if (!g || !g->prior_ids || !fe_strmap_get(&g->prior_ids[arm], it->ex.id, &at))
        return;
    struct fe_prior *p = &g->prior[arm][at];
    FILE *f = g->prior_files[arm];
    char *line = fe_xcalloc(1, p->len + 1);
    cJSON *rec = f && fseeko(f, (off_t)p->off, SEEK_SET) == 0 && fread(line, 1, p->len, f) == p->len
                     ? cJSON_ParseWithLength(line, p->len) : NULL;
    free(line);
    const char *pred = fe_json_str(cJSON_GetObjectItemCaseSensitive(rec, "prediction"));
    char *prediction = fe_xstrdup(pred ? pred : "");
    struct fe_jex *x = fe_jex_get(r, &it->ex);
    x->reported++;
    if (p->unfinished && rec) {
        p->unfinished = false;
        cJSON_DeleteItemFromObjectCaseSensitive(rec, "spend_usd"); /* this session's spend only */
        cJSON_AddNumberToObject(rec, "spend_usd", 0);
        fe_hold(r, x, arm, &it->ex, rec);
        rec = NULL;
    }
    cJSON_Delete(rec);
    fe_jex_output(r, x, arm, p->ok, prediction);
    free(prediction);
    fe_jex_settle(r, x);
}

void fe_judge_pending_marks(const struct fe_config *c, size_t arm, cJSON *rec)
{
    struct fe_runner r = {.c = c}; /* fe_set_score reads only the config */
    cJSON *all = cJSON_AddObjectToObject(rec, "judgements");
    for (size_t ji = 0; ji < c->n_judges; ji++) {
        const struct fe_judge *jd = &c->judges[ji];
        if (!fe_judge_applies(jd, arm))
            continue;
        cJSON *o = cJSON_AddObjectToObject(all, jd->name);
        cJSON_AddStringToObject(o, "type", jd->type == FE_JUDGE_RUBRIC ? "rubric" : "pairwise");
        cJSON_AddStringToObject(o, "model", jd->conf.model);
        if (jd->type == FE_JUDGE_RUBRIC)
            fe_judge_add_scale(o, jd);
        else
            cJSON_AddStringToObject(o, "against", jd->against);
        cJSON_AddNullToObject(o, "usage");
        cJSON_AddNumberToObject(o, "cost_usd", 0);
        cJSON_AddNumberToObject(o, "calls", 0);
        cJSON_AddTrueToObject(o, "pending");
        cJSON_AddStringToObject(o, "error", "not judged: the run stopped (a resume judges it)");
        char metric[300];
        snprintf(metric, sizeof(metric), "judge:%s", jd->name);
        fe_set_score(&r, rec, metric, 0.0);
        snprintf(metric, sizeof(metric), "judge:%s.pass", jd->name);
        if (jd->type == FE_JUDGE_RUBRIC && jd->has_pass_at)
            fe_set_score(&r, rec, metric, 0.0);
    }
    fe_against_scores(&r, rec, arm);
}

/* ---- a judge request ended ----------------------------------------------------------------- */

static void fe_slot_usage(const struct fe_judge *jd, struct fe_jslot *s, const struct fe_completion *comp, bool cache_hit)
{
    s->calls++;
    if (cache_hit)
        s->cache_hits++;
    if (!comp || !comp->has_usage) {
        s->cost_unknown = s->cost_unknown || (comp && !cache_hit);
        return;
    }
    s->has_usage = true;
    s->prompt_tokens += comp->prompt_tokens;
    s->completion_tokens += comp->completion_tokens;
    s->cached_tokens += comp->cached_tokens;
    if (jd->conf.has_price && !cache_hit)
        s->cost_usd += fe_cost_call(&jd->conf.price, comp->prompt_tokens, comp->cached_tokens, comp->completion_tokens,
                                    false);
    else if (!jd->conf.has_price)
        s->cost_unknown = true;
}

bool fe_judge_job_record(struct fe_runner *r, const struct fe_job *j, const struct fe_completion *comp,
                         const struct fe_provider_error *perr, bool cache_hit)
{
    if (j->arm < r->c->n_arms)
        return false;
    size_t ji = j->arm - r->c->n_arms;
    const struct fe_judge *jd = &r->c->judges[ji];
    struct fe_jrec *jr = j->judge_rec;
    struct fe_jex *x = jr->ex;
    struct fe_jslot *s = &jr->slots[ji];
    struct fe_judging *g = r->judging;
    g->pending_calls--;
    g->calls++;
    s->open_jobs--;
    jr->spend_usd += j->spend_usd;
    jr->spend_estimated = jr->spend_estimated || j->spend_estimated;
    fe_slot_usage(jd, s, comp, cache_hit);
    if (!comp) {
        bool stopping = r->stop_all ||
                        (perr && perr->kind && strcmp(perr->kind, FE_ERRK_INTERRUPTED) == 0);
        if (stopping) {
            s->stopped = true; /* pending: a resume judges it */
        } else if (!s->error) {
            s->error = fe_xasprintf("judge request failed: %s%s%s", perr && perr->kind ? perr->kind : "error",
                                    perr && perr->message ? ": " : "", perr && perr->message ? perr->message : "");
        }
    } else {
        struct fe_judge_answer a;
        const char *why = NULL;
        if (!fe_judge_parse_answer(jd, comp->text, &a, &why)) {
            s->parse_failures++;
            if (!j->judge_retry) {
                fe_judge_request(r, jr, ji, j->judge_order, true); /* the one retry */
            } else if (!s->error) {
                s->error = fe_xasprintf("unparsable judge answer (after one retry): %s", why);
            }
        } else if (jd->type == FE_JUDGE_RUBRIC) {
            s->score = a.score;
            s->has_score = true;
            free(s->reason);
            s->reason = a.reason;
        } else {
            struct fe_jorder *o = &s->orders[j->judge_order];
            o->done = true;
            o->winner = a.winner;
            free(o->reason);
            o->reason = a.reason;
        }
    }
    if (s->open_jobs == 0)
        fe_slot_finish(r, jr, ji);
    fe_jex_settle(r, x);
    return true;
}

/* ---- setup, progress, teardown ------------------------------------------------------------- */

/* Does the record lack a judgement (or hold a pending one) that arm's records should have? */
static bool fe_record_unfinished(const struct fe_config *c, size_t arm, const cJSON *rec)
{
    const cJSON *all = cJSON_GetObjectItemCaseSensitive(rec, "judgements");
    for (size_t ji = 0; ji < c->n_judges; ji++) {
        if (!fe_judge_applies(&c->judges[ji], arm))
            continue;
        const cJSON *e = cJSON_GetObjectItemCaseSensitive(all, c->judges[ji].name);
        if (!cJSON_IsObject(e) || cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(e, "pending")))
            return true;
    }
    return false;
}

/* Resume: the last record of each id of arm's journal (its output, and the record itself when
 * a judgement is still to make). */
static void fe_judge_read_prior(struct fe_runner *r, size_t arm)
{
    struct fe_judging *g = r->judging;
    fe_strmap_init(&g->prior_ids[arm]);
    char *path = fe_xasprintf("%s/%s.jsonl", r->o->run_dir, r->c->arms[arm].name);
    FILE *f = g->prior_files[arm] = fopen(path, "rb");
    free(path);
    size_t cap = 0, lcap = 0;
    char *data = NULL;
    long long start = 0;
    for (ssize_t n; f && (n = getline(&data, &lcap, f)) > 0; start += n) {
        size_t len = (size_t)n - (data[n - 1] == '\n');
        cJSON *rec = cJSON_ParseWithLength(data, len);
        const char *id = fe_json_str(cJSON_GetObjectItemCaseSensitive(rec, "id"));
        if (!id) {
            cJSON_Delete(rec);
            continue;
        }
        size_t at;
        if (!fe_strmap_get(&g->prior_ids[arm], id, &at)) {
            if (g->n_prior[arm] == cap) {
                cap = cap ? cap * 2 : 64;
                g->prior[arm] = fe_xreallocarray(g->prior[arm], cap, sizeof(**g->prior));
            }
            at = g->n_prior[arm]++;
            memset(&g->prior[arm][at], 0, sizeof(**g->prior));
            fe_strmap_set(&g->prior_ids[arm], id, at);
        }
        struct fe_prior *p = &g->prior[arm][at]; /* the last record of an id wins */
        const char *status = fe_json_str(cJSON_GetObjectItemCaseSensitive(rec, "status"));
        p->off = start;
        p->len = len;
        p->ok = status && strcmp(status, "ok") == 0;
        p->unfinished = fe_record_unfinished(r->c, arm, rec);
        cJSON_Delete(rec);
    }
    free(data);
}

enum fe_status fe_judge_setup(struct fe_runner *r)
{
    const struct fe_config *c = r->c;
    if (c->n_judges == 0)
        return FE_OK;
    struct fe_judging *g = r->judging = fe_xcalloc(1, sizeof(*g));
    fe_strmap_init(&g->by_id);
    size_t n = c->n_arms + c->n_judges;
    r->arms = fe_xreallocarray(r->arms, n, sizeof(*r->arms));
    r->probes = fe_xreallocarray(r->probes, n, sizeof(*r->probes));
    for (size_t i = 0; i < c->n_judges; i++) {
        const struct fe_arm_conf *conf = &c->judges[i].conf;
        struct fe_arm_state *as = &r->arms[c->n_arms + i];
        memset(as, 0, sizeof(*as));
        as->prov = &r->provs[conf->provider - c->providers];
        as->prompt_ratio = as->compl_ratio = 1.0;
        fe_strmap_init(&as->done);
        /* no journal of its own; a judge request that tried and is dropped at a stop goes through
         * fe_job_record_last_error (which wants an open journal) to its record's pending mark */
        as->journal.fd = r->arms[0].journal.fd;
        size_t p = 0;
        while (p < r->n_probes && !(r->probes[p].prov == conf->provider && strcmp(r->probes[p].model ? r->probes[p].model : "", conf->model) == 0))
            p++;
        if (p == r->n_probes)
            r->probes[r->n_probes++] = (struct fe_probe){conf->provider, conf->model, FE_PROBE_NONE};
        as->probe = p;
    }
    if (r->o->resume) {
        g->prior_ids = fe_xcalloc(c->n_arms, sizeof(*g->prior_ids));
        g->prior = fe_xcalloc(c->n_arms, sizeof(*g->prior));
        g->n_prior = fe_xcalloc(c->n_arms, sizeof(*g->n_prior));
        g->prior_files = fe_xcalloc(c->n_arms, sizeof(*g->prior_files));
        for (size_t a = 0; a < c->n_arms; a++)
            fe_judge_read_prior(r, a);
    }
    return FE_OK;
}

void fe_judge_progress(const struct fe_runner *r, struct fe_buf *line)
{
    if (r->judging)
        fe_buf_addf(line, "| judge calls %zu (%zu queued) ", r->judging->calls, r->judging->pending_calls);
}

void fe_judge_teardown(struct fe_runner *r)
{
    struct fe_judging *g = r->judging;
    if (!g)
        return;
    for (size_t i = 0; i < g->n_exs; i++) {
        struct fe_jex *x = g->exs[i];
        if (!x)
            continue;
        while (x->held) {
            struct fe_jrec *jr = x->held;
            bool written = false;
            for (size_t ji = 0; ji < r->c->n_judges && !written; ji++) {
                struct fe_jslot *s = &jr->slots[ji];
                if (s->state == FE_SLOT_WAIT || s->state == FE_SLOT_RUNNING) {
                    s->stopped = true;
                    s->open_jobs = 0;
                    written = fe_slot_finish(r, jr, ji);
                }
            }
        }
        fe_jex_free(r, x);
    }
    for (size_t a = 0; g->prior_ids && a < r->c->n_arms; a++) {
        if (g->prior_files[a])
            fclose(g->prior_files[a]);
        free(g->prior[a]);
        fe_strmap_release(&g->prior_ids[a]);
    }
    free(g->prior_ids);
    free(g->prior);
    free(g->n_prior);
    free(g->prior_files);
    for (size_t i = 0; i < r->c->n_judges; i++)
        fe_strmap_release(&r->arms[r->c->n_arms + i].done);
    fe_strmap_release(&g->by_id);
    free(g->exs);
    free(g);
    r->judging = NULL;
}
