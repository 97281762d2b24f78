/* record.c — the records of the runner: one JSON object per (example, arm), appended to the arm's
 * journal, and the end of a job's life. See runner.h (fe_record_build) and runner_int.h. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "harness/base/log.h"
#include "harness/base/util.h"
#include "harness/run/runner.h"
#include "harness/run/runner_int.h"
#include "metrics/corpus.h"
#include "metrics/metric.h"

static cJSON *fe_gold_json(const struct fe_example *ex)
{
    if (ex->gold_json)
        return cJSON_Duplicate(ex->gold_json, true);
    if (ex->n_golds == 1)
        return cJSON_CreateString(ex->golds[0]);
    cJSON *a = cJSON_CreateArray();
    for (size_t i = 0; i < ex->n_golds; i++)
        cJSON_AddItemToArray(a, cJSON_CreateString(ex->golds[i]));
    return a;
}

const char *fe_final_user_message(const struct fe_message *m, size_t n)
{
    for (size_t i = n; i-- > 0;)
        if (strcmp(m[i].role, "user") == 0)
            return m[i].content;
    return NULL;
}

/* "input" (and "input_truncated" when cut): at most FE_RECORD_INPUT_MAX bytes, never half a
 * UTF-8 character. */
static void fe_record_input(cJSON *r, const char *input)
{
    size_t len = strlen(input);
    size_t keep = fe_utf8_prefix(input, len, FE_RECORD_INPUT_MAX);
    char *cut = fe_xstrndup(input, keep);
    cJSON_AddStringToObject(r, "input", cut);
    free(cut);
    if (keep < len)
        cJSON_AddTrueToObject(r, "input_truncated");
}

/* A streamed record's timing: "stream": true, "ttft_ms" (sending to the first content) and
 * "output_tokens_per_s" (completion tokens over the time after the first token), each null when
 * not measured (an error, a cache hit, no usage). */
static void fe_record_stream_fields(cJSON *r, const struct fe_record_in *in)
{
    cJSON_AddTrueToObject(r, "stream");
    bool timed = in->ok && isfinite(in->ttft_ms);
    if (timed)
        cJSON_AddNumberToObject(r, "ttft_ms", round(in->ttft_ms * 1000.0) / 1000.0);
    else
        cJSON_AddNullToObject(r, "ttft_ms");
    double gen_s = (in->latency_ms - in->ttft_ms) / 1000.0;
    if (timed && in->has_usage && isfinite(in->latency_ms) && gen_s > 0)
        cJSON_AddNumberToObject(r, "output_tokens_per_s",
                                round((double)in->completion_tokens / gen_s * 1000.0) / 1000.0);
    else
        cJSON_AddNullToObject(r, "output_tokens_per_s");
}

cJSON *fe_record_build(const struct fe_record_in *in, double *cost)
{
    cJSON *r = cJSON_CreateObject();
    cJSON_AddStringToObject(r, "id", in->ex->id);
    cJSON_AddStringToObject(r, "arm", in->arm);
    cJSON_AddStringToObject(r, "prediction", in->ok && in->prediction ? in->prediction : "");
    cJSON_AddItemToObject(r, "gold", fe_gold_json(in->ex));
    cJSON *scores = cJSON_AddObjectToObject(r, "scores");
    struct fe_gold gold = {(const char *const *)in->ex->golds, in->ex->n_golds, in->ex->gold_json, in->task,
                           in->ex->row};
    for (size_t m = 0; m < in->n_metrics; m++) {
        const struct fe_metric *def = fe_metric_find(in->metrics[m]);
        double v = in->ok && def ? def->score(in->prediction ? in->prediction : "", &gold) : 0.0;
        cJSON_AddNumberToObject(scores, in->metrics[m], v);
    }
    /* entity counts of corpus metrics (metrics/corpus.h): the summary sums them; a failed
     * example predicts nothing and its gold entities stay in the denominator */
    cJSON *corpus = NULL;
    for (size_t m = 0; m < in->n_metrics; m++) {
        const struct fe_metric *def = fe_metric_find(in->metrics[m]);
        if (!def || def->corpus != FE_CORPUS_ENTITY_F1)
            continue;
        struct fe_entity_counts ec =
            fe_corpus_entity_counts(in->ok && in->prediction ? in->prediction : "", &gold);
        if (!corpus)
            corpus = cJSON_AddObjectToObject(r, "corpus");
        cJSON *o = cJSON_AddObjectToObject(corpus, in->metrics[m]);
        cJSON_AddNumberToObject(o, "tp", (double)ec.tp);
        cJSON_AddNumberToObject(o, "pred", (double)ec.pred);
        cJSON_AddNumberToObject(o, "gold", (double)ec.gold);
    }
    cJSON_AddStringToObject(r, "status", in->ok ? "ok" : "error");
    if (in->ok) {
        cJSON_AddNullToObject(r, "error");
    } else {
        cJSON *e = cJSON_AddObjectToObject(r, "error");
        cJSON_AddStringToObject(e, "kind", in->error_kind ? in->error_kind : FE_ERRK_HTTP);
        if (in->http_status)
            cJSON_AddNumberToObject(e, "http_status", (double)in->http_status);
        else
            cJSON_AddNullToObject(e, "http_status");
        char *msg = fe_redact(in->error_message ? in->error_message : "");
        cJSON_AddStringToObject(e, "message", msg);
        free(msg);
    }
    if (in->finish_reason)
        cJSON_AddStringToObject(r, "finish_reason", in->finish_reason);
    else
        cJSON_AddNullToObject(r, "finish_reason");
    if (isfinite(in->latency_ms))
        cJSON_AddNumberToObject(r, "latency_ms", round(in->latency_ms * 1000.0) / 1000.0);
    else
        cJSON_AddNullToObject(r, "latency_ms"); /* nothing was timed (offline arm, local error) */
    cJSON_AddNumberToObject(r, "attempts", (double)in->attempts);
    *cost = -1;
    if (in->has_usage) {
        cJSON *u = cJSON_AddObjectToObject(r, "usage");
        cJSON_AddNumberToObject(u, "prompt_tokens", (double)in->prompt_tokens);
        cJSON_AddNumberToObject(u, "completion_tokens", (double)in->completion_tokens);
        cJSON_AddNumberToObject(u, "cached_tokens", (double)in->cached_tokens);
        if (in->price && (!in->batch_id || in->price->has_batch_multiplier))
            *cost = fe_cost_call(in->price, in->prompt_tokens, in->cached_tokens, in->completion_tokens,
                                 in->batch_id != NULL);
    } else {
        cJSON_AddNullToObject(r, "usage");
    }
    if (*cost >= 0)
        cJSON_AddNumberToObject(r, "cost_usd", *cost);
    else
        cJSON_AddNullToObject(r, "cost_usd");
    if (in->request_sha256)
        cJSON_AddStringToObject(r, "request_sha256", in->request_sha256);
    else
        cJSON_AddNullToObject(r, "request_sha256");
    if (in->model)
        cJSON_AddStringToObject(r, "model", in->model);
    if (in->request_id && *in->request_id)
        cJSON_AddStringToObject(r, "request_id", in->request_id);
    cJSON_AddBoolToObject(r, "cache_hit", in->cache_hit);
    if (in->batch_id)
        cJSON_AddStringToObject(r, "batch_id", in->batch_id);
    if (in->has_spend) {
        cJSON_AddNumberToObject(r, "spend_usd", in->spend_usd);
        cJSON *ac = cJSON_AddArrayToObject(r, "attempt_costs_usd");
        for (size_t i = 0; i < in->n_attempt_costs; i++)
            cJSON_AddItemToArray(ac, cJSON_CreateNumber(in->attempt_costs[i]));
        cJSON_AddBoolToObject(r, "spend_estimated", in->spend_estimated);
    }
    if (in->usage_over_cap)
        cJSON_AddTrueToObject(r, "usage_over_cap");
    if (in->replaced_chars > 0) /* "\u0000" or lone surrogates in the answer, now U+FFFD */
        cJSON_AddNumberToObject(r, "replaced_chars", (double)in->replaced_chars);
    if (in->stream)
        fe_record_stream_fields(r, in);
    cJSON_AddNumberToObject(r, "line", (double)in->ex->line);
    if (in->ex->cluster)
        cJSON_AddStringToObject(r, "cluster", in->ex->cluster);
    if (in->input)
        fe_record_input(r, in->input);
    if (in->ex->slice)
        cJSON_AddStringToObject(r, "slice", in->ex->slice);
    return r;
}

void fe_item_unref(struct fe_item *it)
{
    if (--it->refs == 0) {
        fe_example_release(&it->ex);
        free(it);
    }
}

void fe_job_free(struct fe_runner *r, struct fe_job *j)
{
    if (j->is_probe) { /* answered, failed for good or dropped: the others may go */
        r->probes[r->arms[j->arm].probe].state = FE_PROBE_PASSED;
        r->probe_in_flight = false;
    }
    free(j->attempt_costs);
    free(j->last_msg);
    free(j->input);
    if (j->x.easy)
        curl_multi_remove_handle(r->multi, j->x.easy);
    fe_net_xfer_release(&j->x);
    fe_http_request_release(&j->req);
    fe_item_unref(j->item);
    free(j);
    r->outstanding--;
}

/* Writes the record of a finished job and frees the job. */
void fe_job_record(struct fe_runner *r, struct fe_job *j, const struct fe_completion *comp,
                   const struct fe_provider_error *perr, double latency_ms, bool cache_hit)
{
    if (fe_judge_job_record(r, j, comp, perr, cache_hit)) { /* a judge request (judge_run.c) */
        fe_job_free(r, j);
        return;
    }
    const struct fe_arm_conf *arm = &r->c->arms[j->arm];
    struct fe_arm_state *as = &r->arms[j->arm];
    struct fe_record_in in = {
        .arm = arm->name,
        .metrics = r->c->metrics,
        .n_metrics = r->c->n_metrics,
        .task = &r->c->metric_task,
        .price = arm->has_price ? &arm->price : NULL,
        .ex = &j->item->ex,
        .ok = comp != NULL,
        .prediction = comp ? comp->text : NULL,
        .finish_reason = comp ? comp->finish_reason : NULL,
        .model = comp ? comp->model : NULL,
        .request_id = j->x.h.request_id,
        .replaced_chars = comp ? j->repaired : 0,
        .error_kind = perr ? perr->kind : NULL,
        .http_status = perr ? perr->http_status : 0,
        .error_message = perr ? perr->message : NULL,
        .latency_ms = latency_ms,
        .attempts = j->attempts,
        .has_usage = comp && comp->has_usage,
        .prompt_tokens = comp ? comp->prompt_tokens : 0,
        .completion_tokens = comp ? comp->completion_tokens : 0,
        .cached_tokens = comp ? comp->cached_tokens : 0,
        .request_sha256 = j->key[0] ? j->key : NULL,
        .cache_hit = cache_hit,
        .has_spend = true,
        .attempt_costs = j->attempt_costs,
        .n_attempt_costs = j->n_costs,
        .spend_usd = j->spend_usd,
        .spend_estimated = j->spend_estimated,
        .usage_over_cap = j->over_cap,
        .input = j->input,
        .stream = j->x.stream != NULL,
        .ttft_ms = j->x.stream && comp && !cache_hit ? fe_net_stream_ttft_ms(j->x.stream) : NAN,
    };
    double cost;
    cJSON *rec = fe_record_build(&in, &cost);
    fe_judge_hold(r, j, &rec); /* a record with judgements to make is appended once judged */
    char *printed = rec ? cJSON_PrintUnformatted(rec) : NULL;
    cJSON_Delete(rec);
    char *line = printed ? fe_redact(printed) : NULL; /* every string of the record, whatever its source */
    cJSON_free(printed);
    struct fe_err werr = {0};
    if (line && fe_journal_append(&as->journal, line, strlen(line), &werr) != FE_OK && r->fatal == FE_OK) {
        r->fatal = FE_EIO;
        fe_err_set(r->err, FE_EIO, "%s", werr.msg);
        r->stop_all = true;
    }
    free(line);
    if (cost > 0 && cache_hit)
        r->res->saved_usd += cost; /* spend itself was counted attempt by attempt */
    /* a session records each (example, arm) once and the dataset's ids are unique, so an id new
     * to the journal is counted, not held (issue 14): seen holds only the resumed ones */
    if (!fe_strmap_get(&as->journal.seen, j->item->ex.id, NULL))
        as->journal.n_new++;
    as->recorded++;
    r->res->recorded++;
    r->done_total++;
    if (!comp) {
        as->errors++;
        r->res->errors++;
    }
    if (cache_hit)
        r->res->cache_hits++;
    fe_job_free(r, j);
}

/* Settles one attempt of j at usd (estimated: no usable usage, its reserved worst case). */
void fe_job_add_cost(struct fe_runner *r, struct fe_job *j, double usd, bool estimated)
{
    j->attempt_costs = fe_xrealloc(j->attempt_costs, (j->n_costs + 1) * sizeof(double));
    j->attempt_costs[j->n_costs++] = usd;
    j->spend_usd += usd;
    r->res->spent_usd += usd;
    if (estimated && usd > 0) {
        j->spend_estimated = true;
        r->res->spend_estimated = true;
    }
}

/* Records a job that tried and will not try again (stop, interrupt) with its last error. */
void fe_job_record_last_error(struct fe_runner *r, struct fe_job *j, const char *fallback_kind,
                              const char *fallback_msg)
{
    char *msg = j->last_msg ? j->last_msg : fe_xstrdup(fallback_msg);
    j->last_msg = NULL;
    struct fe_provider_error pe = {
        .kind = j->last_kind ? j->last_kind : fallback_kind, .http_status = j->last_status, .message = msg,
    };
    fe_job_record(r, j, NULL, &pe, 0, false);
    free(msg);
}
