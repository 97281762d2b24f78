/* batch_state.c — the batch runner's state (batch_int.h; above batch_index.c): status lines, the batch
 * journal's events (appended and fsync'ed before an id is used; their custom_ids written as text
 * from a batch's example indexes), the batch list, building an
 * example's online request, and writing a record. batch.c calls it, never the other way. */
#include "harness/run/batch_int.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "harness/base/buf.h"
#include "harness/base/log.h"
#include "harness/base/util.h"
#include "harness/run/cache.h"
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
    enum fe_status st = fe_batch_journal_line(r, line, strlen(line));
    free(line);
    return st;
}

enum fe_status fe_batch_journal_line(struct fe_brun *r, const char *line, size_t len)
{
    enum fe_status st = fe_journal_append(&r->bj, line, len, r->err);
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

enum fe_status fe_batch_example(struct fe_brun *r, size_t i, struct fe_example *ex, struct fe_err *err)
{
    char *text = NULL;
    size_t cap = 0;
    ssize_t n = -1;
    if (fseeko(r->spill, (off_t)r->off[i], SEEK_SET) == 0)
        n = getline(&text, &cap, r->spill);
    cJSON *row = n > 0 ? cJSON_ParseWithLength(text, (size_t)n) : NULL;
    free(text);
    if (!row)
        return fe_err_set(err, FE_EIO, "batch: example %zu: cannot read it back from the spill file", i);
    if (fe_example_from_row_with(row, &r->c->dataset_opts, r->c->dataset_path, r->line[i], ex, err) != 0) /* takes row */
        return FE_EINVALID;
    return FE_OK;
}

/* Builds the online request of ex for arm a (the provider's own code). */
enum fe_status fe_batch_build(struct fe_brun *r, size_t a, const struct fe_example *ex, struct fe_http_request *out,
                              long *prompt_est, struct fe_err *err)
{
    const struct fe_arm_conf *arm = &r->c->arms[a];
    struct fe_message *msgs = NULL;
    size_t n_msgs = 0;
    enum fe_status st = fe_build_messages(r->c, arm, ex, &msgs, &n_msgs, err);
    if (st != FE_OK)
        return st;
    *prompt_est = fe_estimate_prompt_tokens(msgs, n_msgs);
    struct fe_chat_request req = {
        .arm = arm->name, .example_id = ex->id, .model = arm->model,
        .messages = msgs, .n_messages = n_msgs,
        .has_temperature = arm->has_temperature, .temperature = arm->temperature,
        .max_tokens = arm->max_tokens, .has_seed = arm->has_seed, .seed = arm->seed,
        .extra_body = arm->extra_body, .now_unix = (long long)time(NULL),
    };
    st = arm->provider->ops->build_request(&arm->provider->conf, &req, out, err);
    fe_messages_free(msgs, n_msgs);
    return st;
}

void fe_batch_record(struct fe_brun *r, size_t a, size_t i, const struct fe_example *ex, const struct fe_completion *comp,
                     const struct fe_provider_error *perr, const char *batch_id, const char *request_id,
                     size_t repaired)
{
    const struct fe_arm_conf *arm = &r->c->arms[a];
    struct fe_barm *ba = &r->arms[a];
    /* request_sha256 as the online path computes it: the request built again, not kept */
    char key[65] = "";
    struct fe_http_request req = {0};
    struct fe_err berr = {0};
    long est = 0;
    if (fe_batch_build(r, a, ex, &req, &est, &berr) == FE_OK)
        fe_cache_key(arm->provider->conf.name, arm->provider->conf.base_url, arm->model, req.body, req.body_len, key);
    fe_http_request_release(&req);
    double spend = 0;
    bool estimated = false;
    if (comp && comp->has_usage && arm->has_price) {
        bool known = arm->price.has_batch_multiplier; /* unknown: the full price bounds it */
        spend = fe_cost_call(&arm->price, comp->prompt_tokens, comp->cached_tokens, comp->completion_tokens, known);
        estimated = !known;
    }
    struct fe_record_in in = {
        .arm = arm->name, .metrics = r->c->metrics, .n_metrics = r->c->n_metrics, .task = &r->c->metric_task,
        .price = arm->has_price ? &arm->price : NULL, .ex = ex, .ok = comp != NULL,
        .prediction = comp ? comp->text : NULL, .finish_reason = comp ? comp->finish_reason : NULL,
        .model = comp ? comp->model : NULL, .request_id = request_id, .replaced_chars = comp ? repaired : 0,
        .error_kind = perr ? perr->kind : NULL, .http_status = perr ? perr->http_status : 0,
        .error_message = perr ? perr->message : NULL, .latency_ms = NAN, .attempts = 1,
        .has_usage = comp && comp->has_usage, .prompt_tokens = comp ? comp->prompt_tokens : 0,
        .completion_tokens = comp ? comp->completion_tokens : 0, .cached_tokens = comp ? comp->cached_tokens : 0,
        .request_sha256 = key[0] ? key : NULL, .has_spend = true,
        .attempt_costs = &spend, .n_attempt_costs = 1, .spend_usd = spend, .spend_estimated = estimated,
        .usage_over_cap = comp && comp->has_usage && comp->completion_tokens > arm->max_tokens,
        .batch_id = batch_id,
    };
    /* The record keeps the rendered final user message, as an online record does. */
    struct fe_message *msgs = NULL;
    size_t n_msgs = 0;
    struct fe_err merr = {0};
    if (fe_build_messages(r->c, arm, ex, &msgs, &n_msgs, &merr) == FE_OK)
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
    if (!fe_bit(ba->seen, i)) {
        fe_bit_set(ba->seen, i);
        ba->n_seen++;
    }
    r->res->recorded++;
    r->res->spent_usd += spend;
    r->res->spend_estimated = r->res->spend_estimated || (estimated && spend > 0);
    if (!comp)
        r->res->errors++;
}

/* Appends the custom_ids of b as a JSON array's elements (the example's custom_id, or a foreign
 * one escaped as cJSON prints it). */
static void fe_batch_ids_json(const struct fe_brun *r, const struct fe_batch *b, struct fe_buf *out)
{
    char buf[FE_BATCH_CID_MAX];
    for (size_t j = 0; j < b->n; j++) {
        if (j)
            fe_buf_addch(out, ',');
        if (b->idx[j] < r->n_ex) {
            fe_buf_addch(out, '"');
            fe_buf_adds(out, fe_batch_cid_of(r, b->idx[j], buf)); /* [A-Za-z0-9_-]: nothing to escape */
            fe_buf_addch(out, '"');
        } else {
            cJSON *s = cJSON_CreateString(b->foreign[b->idx[j] - r->n_ex]);
            char *t = cJSON_PrintUnformatted(s);
            fe_buf_adds(out, t);
            cJSON_free(t);
            cJSON_Delete(s);
        }
    }
}

enum fe_status fe_batch_journal_ids(struct fe_brun *r, cJSON *ev, const struct fe_batch *b)
{
    char at[40];
    fe_utc_now(at, sizeof(at));
    cJSON_AddStringToObject(ev, "at", at); /* printed after custom_ids, as the event had it */
    cJSON *when = cJSON_DetachItemFromObjectCaseSensitive(ev, "at");
    char *head = cJSON_PrintUnformatted(ev);
    cJSON_Delete(ev);
    char *at_text = cJSON_PrintUnformatted(when);
    cJSON_Delete(when);
    struct fe_buf line;
    fe_buf_init(&line, 0);
    fe_buf_add(&line, head, strlen(head) - 1); /* without its '}' */
    fe_buf_adds(&line, ",\"custom_ids\":[");
    fe_batch_ids_json(r, b, &line);
    fe_buf_adds(&line, "],\"at\":");
    fe_buf_adds(&line, at_text);
    fe_buf_addch(&line, '}');
    cJSON_free(head);
    cJSON_free(at_text);
    enum fe_status st = fe_batch_journal_line(r, fe_buf_str(&line), line.len);
    fe_buf_release(&line);
    return st;
}
