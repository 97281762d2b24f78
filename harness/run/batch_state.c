/* batch_state.c — the lowest layer of the batch runner (batch_int.h): status lines, the batch
 * journal's events (appended and fsync'ed before an id is used), the batch list, building an
 * example's online request, and writing a record. batch.c calls it, never the other way. */
#include "harness/run/batch_int.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "harness/base/log.h"
#include "harness/base/util.h"
#include "harness/run/runner.h"
#include "harness/run/runner_int.h"

/* A status line on stderr (ids and counts only), unless quiet: a batch may take hours. */
void fe_batch_say(const struct fe_brun *r, const char *fmt, ...)
{
    if (r->o->quiet)
        return;
    va_list ap;
    va_start(ap, fmt);
    fputs(r->o->progress ? "\r\033[Kfteval: batch: " : "fteval: batch: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

enum fe_status fe_batch_journal(struct fe_brun *r, cJSON *ev)
{
    char at[40];
    fe_utc_now(at, sizeof(at));
    cJSON_AddStringToObject(ev, "at", at);
    char *line = cJSON_PrintUnformatted(ev);
    cJSON_Delete(ev);
    enum fe_status st = fe_journal_append(&r->bj, line, strlen(line), r->err);
    free(line);
    if (st == FE_OK)
        st = fe_journal_sync(&r->bj, 0, true, r->err); /* on disk before the id is used */
    if (st != FE_OK && r->fatal == FE_OK)
        r->fatal = st;
    return st;
}

cJSON *fe_batch_event(const char *event, const char *arm)
{
    cJSON *ev = cJSON_CreateObject();
    cJSON_AddStringToObject(ev, "event", event);
    cJSON_AddStringToObject(ev, "arm", arm);
    return ev;
}

struct fe_batch *fe_batch_add(struct fe_brun *r, size_t arm)
{
    r->b = fe_xreallocarray(r->b, r->n_b + 1, sizeof(*r->b));
    struct fe_batch *b = &r->b[r->n_b++];
    memset(b, 0, sizeof(*b));
    b->arm = arm;
    b->interval = r->c->arms[arm].provider->batch_poll_s;
    return b;
}

void fe_batch_set_cids(struct fe_batch *b, const cJSON *ids)
{
    b->n = 0;
    b->cids = fe_xcalloc((size_t)cJSON_GetArraySize(ids) + 1, sizeof(char *));
    const cJSON *v;
    cJSON_ArrayForEach(v, ids)
        if (cJSON_IsString(v))
            b->cids[b->n++] = fe_xstrdup(v->valuestring);
}

/* Builds the online request of example i for arm a (the provider's own code). */
enum fe_status fe_batch_build(struct fe_brun *r, size_t a, size_t i, struct fe_http_request *out,
                                     long *prompt_est, struct fe_err *err)
{
    const struct fe_arm_conf *arm = &r->c->arms[a];
    struct fe_message *msgs = NULL;
    size_t n_msgs = 0;
    enum fe_status st = fe_build_messages(r->c, arm, &r->ex[i], &msgs, &n_msgs, err);
    if (st != FE_OK)
        return st;
    *prompt_est = fe_estimate_prompt_tokens(msgs, n_msgs);
    struct fe_chat_request req = {
        .arm = arm->name, .example_id = r->ex[i].id, .model = arm->model,
        .messages = msgs, .n_messages = n_msgs,
        .has_temperature = arm->has_temperature, .temperature = arm->temperature,
        .max_tokens = arm->max_tokens, .has_seed = arm->has_seed, .seed = arm->seed,
        .extra_body = arm->extra_body, .now_unix = (long long)time(NULL),
    };
    st = arm->provider->ops->build_request(&arm->provider->conf, &req, out, err);
    fe_messages_free(msgs, n_msgs);
    return st;
}

void fe_batch_record(struct fe_brun *r, size_t a, size_t i, const struct fe_completion *comp,
                            const struct fe_provider_error *perr, const char *batch_id, const char *request_id,
                            size_t repaired)
{
    const struct fe_arm_conf *arm = &r->c->arms[a];
    struct fe_barm *ba = &r->arms[a];
    double spend = 0;
    bool estimated = false;
    if (comp && comp->has_usage && arm->has_price) {
        bool known = arm->price.has_batch_multiplier; /* unknown: the full price bounds it */
        spend = fe_cost_call(&arm->price, comp->prompt_tokens, comp->cached_tokens, comp->completion_tokens, known);
        estimated = !known;
    }
    struct fe_record_in in = {
        .arm = arm->name, .metrics = r->c->metrics, .n_metrics = r->c->n_metrics, .task = &r->c->metric_task,
        .price = arm->has_price ? &arm->price : NULL, .ex = &r->ex[i], .ok = comp != NULL,
        .prediction = comp ? comp->text : NULL, .finish_reason = comp ? comp->finish_reason : NULL,
        .model = comp ? comp->model : NULL, .request_id = request_id, .replaced_chars = comp ? repaired : 0,
        .error_kind = perr ? perr->kind : NULL, .http_status = perr ? perr->http_status : 0,
        .error_message = perr ? perr->message : NULL, .latency_ms = NAN, .attempts = 1,
        .has_usage = comp && comp->has_usage, .prompt_tokens = comp ? comp->prompt_tokens : 0,
        .completion_tokens = comp ? comp->completion_tokens : 0, .cached_tokens = comp ? comp->cached_tokens : 0,
        .request_sha256 = ba->keys[i][0] ? ba->keys[i] : NULL, .has_spend = true,
        .attempt_costs = &spend, .n_attempt_costs = 1, .spend_usd = spend, .spend_estimated = estimated,
        .usage_over_cap = comp && comp->has_usage && comp->completion_tokens > arm->max_tokens,
        .batch_id = batch_id,
    };
    /* The record keeps the rendered final user message, as an online record does. */
    struct fe_message *msgs = NULL;
    size_t n_msgs = 0;
    struct fe_err merr = {0};
    if (fe_build_messages(r->c, arm, &r->ex[i], &msgs, &n_msgs, &merr) == FE_OK)
        in.input = fe_final_user_message(msgs, n_msgs);
    double cost;
    cJSON *rec = fe_record_build(&in, &cost);
    fe_messages_free(msgs, n_msgs);
    if (r->c->n_judges)
        fe_judge_pending_marks(r->c, a, rec); /* judged after the batches (batch.c fe_batch_online) */
    char *printed = cJSON_PrintUnformatted(rec);
    cJSON_Delete(rec);
    char *line = fe_redact(printed);
    cJSON_free(printed);
    struct fe_err werr = {0};
    if (fe_journal_append(&ba->journal, line, strlen(line), &werr) != FE_OK && r->fatal == FE_OK) {
        r->fatal = FE_EIO;
        fe_err_set(r->err, FE_EIO, "%s", werr.msg);
    }
    free(line);
    fe_strmap_put(&ba->journal.seen, r->ex[i].id, 1);
    r->res->recorded++;
    r->res->spent_usd += spend;
    r->res->spend_estimated = r->res->spend_estimated || (estimated && spend > 0);
    if (!comp)
        r->res->errors++;
}

