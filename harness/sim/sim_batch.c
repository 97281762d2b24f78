/* sim_batch.c — the batch APIs of `fteval sim` (docs/sim.md), in memory:
 *
 * OpenAI: POST /v1/batches {input_file_id (a /v1/files upload with purpose "batch"), endpoint,
 * completion_window} validates the file's JSONL lines (custom_id unique, method POST, url = the
 * endpoint, a body with one model for the whole file); GET /v1/batches (list), GET
 * /v1/batches/ID, POST /v1/batches/ID/cancel. Status moves with time, one --batch-step-s per
 * step: validating → in_progress → finalizing → completed (or failed after validating, expired
 * after in_progress, cancelling → cancelled). When it ends, every request is answered by the
 * chat model (sim_chat.c: the same answer, usage and faults as online) and the answers go to an
 * output file, errors and requests without a result to an error file (/v1/files content), in
 * reverse order (the API does not keep order).
 *
 * Anthropic: POST /v1/messages/batches {requests: [{custom_id, params}]}, GET
 * /v1/messages/batches/ID (processing_status in_progress → ended, or canceling), GET
 * .../ID/results (JSONL of result.type succeeded / errored / canceled / expired), POST
 * .../ID/cancel. params go to the chat model translated (system first, then messages) and its
 * answer comes back as an Anthropic message.
 *
 * Faults (--batch-fault): expiry with every second request answered, per-line errors (400 and
 * 500 in turn for the first N requests), validation failure.
 */
#include "harness/sim/sim.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "harness/base/jsonout.h"
#include "harness/base/util.h"

#define FE_SIM_ENDPOINT "/v1/chat/completions"

struct fe_sim_batch {
    char *id;
    bool anthropic;
    char *input_file_id;
    cJSON *requests;          /* [{custom_id, body}] (body: a chat completions request) */
    char *invalid;            /* validation failure message, or NULL */
    double created;           /* fe_now() */
    long created_at;
    bool expire, cancelled, finished;
    double cancel_at;
    long error_lines;
    char *output_file_id, *error_file_id;
    char *results;            /* anthropic results JSONL */
    long succeeded, errored, gone; /* gone: expired or canceled */
};

struct fe_sim_batches {
    struct fe_sim_batch **b;
    size_t n;
    long created;             /* batches created so far (for first=K faults) */
    long expire_first, invalid_first; /* -1: every batch, 0: none */
    long error_lines;
};

static struct fe_sim_batches *fe_sim_batches(struct fe_sim *s)
{
    if (!s->batches)
        s->batches = fe_xcalloc(1, sizeof(*s->batches));
    return s->batches;
}

enum fe_status fe_sim_batch_fault_parse(struct fe_sim *s, const char *spec, struct fe_err *err)
{
    struct fe_sim_batches *bs = fe_sim_batches(s);
    long n = -1;
    const char *colon = strchr(spec, ':');
    size_t kind_len = colon ? (size_t)(colon - spec) : strlen(spec);
    if (colon) {
        const char *v = colon + 1;
        if (strncmp(v, "first=", 6) == 0)
            v += 6;
        if (!fe_parse_long(v, &n) || n < 0)
            return fe_err_set(err, FE_EINVALID, "--batch-fault '%s': expected a count after ':'", spec);
    }
    if (kind_len == 6 && strncmp(spec, "expire", 6) == 0)
        bs->expire_first = n;
    else if (kind_len == 7 && strncmp(spec, "invalid", 7) == 0)
        bs->invalid_first = n;
    else if (kind_len == 11 && strncmp(spec, "error_lines", 11) == 0 && n >= 0)
        bs->error_lines = n;
    else
        return fe_err_set(err, FE_EINVALID,
                          "--batch-fault '%s': expected expire[:first=K], invalid[:first=K] or error_lines:N", spec);
    return FE_OK;
}

static void fe_sim_batch_free(struct fe_sim_batch *b)
{
    free(b->id);
    free(b->input_file_id);
    cJSON_Delete(b->requests);
    free(b->invalid);
    free(b->output_file_id);
    free(b->error_file_id);
    free(b->results);
    free(b);
}

void fe_sim_batches_release(struct fe_sim *s)
{
    if (!s->batches)
        return;
    for (size_t i = 0; i < s->batches->n; i++)
        fe_sim_batch_free(s->batches->b[i]);
    free(s->batches->b);
    free(s->batches);
    s->batches = NULL;
}

static bool fe_sim_fault_hits(long first, long index)
{
    return first < 0 || index < first;
}

static struct fe_sim_batch *fe_sim_batch_new(struct fe_sim *s, bool anthropic)
{
    struct fe_sim_batches *bs = fe_sim_batches(s);
    struct fe_sim_batch *b = fe_xcalloc(1, sizeof(*b));
    b->anthropic = anthropic;
    b->id = fe_sim_new_id(s, anthropic ? "msgbatch_" : "batch_", 24);
    b->created = fe_now();
    b->created_at = fe_sim_unix_now();
    b->requests = cJSON_CreateArray();
    b->expire = bs->expire_first != 0 && fe_sim_fault_hits(bs->expire_first, bs->created);
    b->error_lines = bs->error_lines;
    if (bs->invalid_first != 0 && fe_sim_fault_hits(bs->invalid_first, bs->created))
        b->invalid = fe_xstrdup("injected validation failure (--batch-fault invalid)");
    bs->created++;
    bs->b = fe_xreallocarray(bs->b, bs->n + 1, sizeof(*bs->b));
    bs->b[bs->n++] = b;
    return b;
}

static struct fe_sim_batch *fe_sim_batch_find(struct fe_sim *s, const char *id, bool anthropic)
{
    for (size_t i = 0; s->batches && i < s->batches->n; i++)
        if (s->batches->b[i]->anthropic == anthropic && strcmp(s->batches->b[i]->id, id) == 0)
            return s->batches->b[i];
    return NULL;
}

/* ---- answering ---------------------------------------------------------------------------- */

/* The chat model's answer to one chat completions body (rs filled; a transport fault is a 500). */
static void fe_sim_batch_chat(struct fe_sim *s, const cJSON *body, struct fe_sim_response *rs)
{
    char *text = cJSON_PrintUnformatted(body);
    struct fe_sim_request rq = {.method = "POST", .path = FE_SIM_ENDPOINT, .query = "", .body = text,
                                .body_len = strlen(text), .content_type = "application/json", .auth = true};
    fe_sim_chat(s, &rq, rs);
    if (rs->fault == FE_SIM_FAULT_RESET || rs->fault == FE_SIM_FAULT_CLOSE || rs->fault == FE_SIM_FAULT_STALL ||
        rs->fault == FE_SIM_FAULT_TRUNCATE) {
        fe_buf_reset(&rs->body);
        fe_sim_error(rs, 500, "server_error", NULL, NULL, "The server had an error processing the request.");
    }
    cJSON_free(text);
}

/* An Anthropic message from a chat completion. */
static cJSON *fe_sim_batch_message(const cJSON *chat)
{
    const cJSON *choice = cJSON_GetArrayItem(fe_json_get(chat, "choices"), 0);
    const char *finish = fe_json_gets_or(choice, "finish_reason", "stop");
    const cJSON *usage = fe_json_get(chat, "usage");
    cJSON *m = cJSON_CreateObject();
    fe_json_add_str(m, "id", fe_json_gets(chat, "id"));
    cJSON_AddStringToObject(m, "type", "message");
    cJSON_AddStringToObject(m, "role", "assistant");
    fe_json_add_str(m, "model", fe_json_gets(chat, "model"));
    cJSON *content = cJSON_AddArrayToObject(m, "content");
    cJSON *block = cJSON_CreateObject();
    cJSON_AddStringToObject(block, "type", "text");
    cJSON_AddStringToObject(block, "text", fe_json_gets_or(fe_json_get(choice, "message"), "content", ""));
    cJSON_AddItemToArray(content, block);
    cJSON_AddStringToObject(m, "stop_reason", strcmp(finish, "length") == 0 ? "max_tokens" : "end_turn");
    cJSON_AddNullToObject(m, "stop_sequence");
    cJSON *u = cJSON_AddObjectToObject(m, "usage");
    cJSON_AddNumberToObject(u, "input_tokens", fe_json_getn_or(usage, "prompt_tokens", 0));
    cJSON_AddNumberToObject(u, "output_tokens", fe_json_getn_or(usage, "completion_tokens", 0));
    return m;
}

/* One line of the results: what request r (the i-th) of b got. */
static cJSON *fe_sim_batch_line(struct fe_sim *s, struct fe_sim_batch *b, const cJSON *r, size_t i, bool *error)
{
    cJSON *l = cJSON_CreateObject();
    char *rid = fe_sim_new_id(s, "batch_req_", 24);
    if (!b->anthropic)
        cJSON_AddStringToObject(l, "id", rid);
    fe_json_add_str(l, "custom_id", fe_json_gets(r, "custom_id"));
    *error = true;
    if ((b->expire || b->cancelled) && i % 2 == 1) {
        b->gone++;
        if (b->anthropic) {
            cJSON *res = cJSON_AddObjectToObject(l, "result");
            cJSON_AddStringToObject(res, "type", b->expire ? "expired" : "canceled");
        } else {
            cJSON_AddNullToObject(l, "response");
            cJSON *e = cJSON_AddObjectToObject(l, "error");
            cJSON_AddStringToObject(e, "code", b->expire ? "batch_expired" : "batch_cancelled");
            cJSON_AddStringToObject(e, "message", b->expire ? "This request could not be executed before the "
                                                              "completion window expired."
                                                            : "This request was cancelled with its batch.");
        }
        free(rid);
        return l;
    }
    struct fe_sim_response rs = {0};
    if ((long)i < b->error_lines)
        fe_sim_error(&rs, i % 2 ? 500 : 400, i % 2 ? "server_error" : "invalid_request_error", NULL, NULL,
                     "%s (--batch-fault error_lines)", i % 2 ? "The server had an error" : "Invalid request");
    else
        fe_sim_batch_chat(s, fe_json_get(r, "body"), &rs);
    cJSON *body = cJSON_ParseWithLength(rs.body.data ? rs.body.data : "", rs.body.len);
    *error = rs.status != 200 || !body;
    if (b->anthropic) {
        cJSON *res = cJSON_AddObjectToObject(l, "result");
        if (!*error) {
            cJSON_AddStringToObject(res, "type", "succeeded");
            cJSON_AddItemToObject(res, "message", fe_sim_batch_message(body));
        } else {
            cJSON_AddStringToObject(res, "type", "errored");
            cJSON *e = cJSON_AddObjectToObject(res, "error");
            cJSON_AddStringToObject(e, "type", "error");
            cJSON *inner = cJSON_AddObjectToObject(e, "error");
            cJSON_AddStringToObject(inner, "type", rs.status == 400 ? "invalid_request_error" : "api_error");
            fe_json_add_str(inner, "message", fe_json_gets(fe_json_get(body, "error"), "message"));
        }
        cJSON_Delete(body);
    } else {
        cJSON *resp = cJSON_AddObjectToObject(l, "response");
        cJSON_AddNumberToObject(resp, "status_code", rs.status);
        cJSON_AddStringToObject(resp, "request_id", rid);
        cJSON_AddItemToObject(resp, "body", body ? body : cJSON_CreateObject());
        cJSON_AddNullToObject(l, "error");
    }
    if (*error)
        b->errored++;
    else
        b->succeeded++;
    free(rid);
    fe_sim_response_release(&rs);
    return l;
}

/* Makes the results of an ended batch, once: answers in reverse order. */
static void fe_sim_batch_finish(struct fe_sim *s, struct fe_sim_batch *b)
{
    if (b->finished || b->invalid)
        return;
    b->finished = true;
    struct fe_buf out, errs;
    fe_buf_init(&out, 0);
    fe_buf_init(&errs, 0);
    size_t n = (size_t)cJSON_GetArraySize(b->requests), at = 0;
    const cJSON **reqs = fe_xcalloc(n ? n : 1, sizeof(*reqs)); /* cJSON_GetArrayItem is a list walk */
    const cJSON *it;
    cJSON_ArrayForEach(it, b->requests)
        reqs[at++] = it;
    for (size_t k = n; k-- > 0;) {
        bool error;
        cJSON *l = fe_sim_batch_line(s, b, reqs[k], k, &error);
        char *text = cJSON_PrintUnformatted(l);
        cJSON_Delete(l);
        struct fe_buf *dst = b->anthropic || !error ? &out : &errs;
        fe_buf_adds(dst, text);
        fe_buf_addch(dst, '\n');
        free(text);
    }
    if (b->anthropic) {
        b->results = fe_xstrndup(out.data ? out.data : "", out.len);
    } else {
        if (out.len)
            b->output_file_id = fe_xstrdup(
                fe_sim_file_add(s, "batch_output.jsonl", "batch_output", fe_xstrndup(out.data, out.len), out.len)->id);
        if (errs.len)
            b->error_file_id = fe_xstrdup(
                fe_sim_file_add(s, "batch_errors.jsonl", "batch_output", fe_xstrndup(errs.data, errs.len), errs.len)->id);
    }
    fe_buf_release(&out);
    fe_buf_release(&errs);
    free(reqs);
}

/* ---- status ------------------------------------------------------------------------------- */

/* The status word at now (and the results made when it has ended). */
static const char *fe_sim_batch_status(struct fe_sim *s, struct fe_sim_batch *b)
{
    double step = s->opt.batch_step_s, now = fe_now(), t = now - b->created;
    const char *st;
    if (b->cancel_at > 0)
        st = now - b->cancel_at < step ? "cancelling" : "cancelled";
    else if (b->invalid)
        st = t < step ? "validating" : "failed";
    else if (t < step)
        st = "validating";
    else if (t < 2 * step)
        st = "in_progress";
    else if (b->expire)
        st = "expired";
    else
        st = t < 3 * step ? "finalizing" : "completed";
    bool ended = strcmp(st, "completed") == 0 || strcmp(st, "expired") == 0 || strcmp(st, "cancelled") == 0;
    if (ended)
        fe_sim_batch_finish(s, b);
    if (b->anthropic)
        return ended ? "ended" : b->cancel_at > 0 ? "canceling" : "in_progress";
    return st;
}

static cJSON *fe_sim_batch_json(struct fe_sim *s, struct fe_sim_batch *b)
{
    const char *st = fe_sim_batch_status(s, b);
    long total = cJSON_GetArraySize(b->requests);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "id", b->id);
    cJSON *n;
    if (b->anthropic) {
        cJSON_AddStringToObject(o, "type", "message_batch");
        cJSON_AddStringToObject(o, "processing_status", st);
        n = cJSON_AddObjectToObject(o, "request_counts");
        cJSON_AddNumberToObject(n, "processing", b->finished ? 0 : (double)total);
        cJSON_AddNumberToObject(n, "succeeded", (double)b->succeeded);
        cJSON_AddNumberToObject(n, "errored", (double)b->errored);
        cJSON_AddNumberToObject(n, "canceled", b->cancelled ? (double)b->gone : 0);
        cJSON_AddNumberToObject(n, "expired", b->expire ? (double)b->gone : 0);
        cJSON_AddNumberToObject(o, "created_at", (double)b->created_at);
        if (b->finished) {
            char *url = fe_xasprintf("http://%s:%ld/v1/messages/batches/%s/results", s->opt.host, s->opt.port, b->id);
            cJSON_AddStringToObject(o, "results_url", url);
            free(url);
        } else {
            cJSON_AddNullToObject(o, "results_url");
        }
        return o;
    }
    cJSON_AddStringToObject(o, "object", "batch");
    cJSON_AddStringToObject(o, "endpoint", FE_SIM_ENDPOINT);
    if (b->invalid && strcmp(st, "failed") == 0) {
        cJSON *errors = cJSON_AddObjectToObject(o, "errors");
        cJSON_AddStringToObject(errors, "object", "list");
        cJSON *e = cJSON_CreateObject();
        cJSON_AddStringToObject(e, "code", "invalid_request");
        cJSON_AddStringToObject(e, "message", b->invalid);
        cJSON_AddItemToArray(cJSON_AddArrayToObject(errors, "data"), e);
    } else {
        cJSON_AddNullToObject(o, "errors");
    }
    cJSON_AddStringToObject(o, "input_file_id", b->input_file_id);
    cJSON_AddStringToObject(o, "completion_window", "24h");
    cJSON_AddStringToObject(o, "status", st);
    fe_json_add_str(o, "output_file_id", b->output_file_id);
    fe_json_add_str(o, "error_file_id", b->error_file_id);
    cJSON_AddNumberToObject(o, "created_at", (double)b->created_at);
    n = cJSON_AddObjectToObject(o, "request_counts");
    cJSON_AddNumberToObject(n, "total", b->invalid ? 0 : (double)total);
    cJSON_AddNumberToObject(n, "completed", (double)b->succeeded);
    cJSON_AddNumberToObject(n, "failed", (double)(b->errored + b->gone));
    cJSON_AddNullToObject(o, "metadata");
    return o;
}

/* ---- creating ----------------------------------------------------------------------------- */

/* Reads an uploaded batch file into b->requests; a bad line makes the batch fail validation. */
static void fe_sim_batch_read_file(struct fe_sim_batch *b, const struct fe_sim_file *f)
{
    const char *p = f->data, *end = f->data + f->bytes;
    const char *model = NULL;
    struct fe_strmap seen;
    fe_strmap_init(&seen);
    for (long line = 1; p < end && !b->invalid; line++) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
        cJSON *l = n ? cJSON_ParseWithLength(p, n) : NULL;
        p += n + 1;
        if (!n)
            continue;
        const char *cid = fe_json_gets(l, "custom_id"), *m = fe_json_gets(fe_json_get(l, "body"), "model");
        if (!cid || strcmp(fe_json_gets_or(l, "method", ""), "POST") != 0 ||
            strcmp(fe_json_gets_or(l, "url", ""), FE_SIM_ENDPOINT) != 0 || !m)
            b->invalid = fe_xasprintf("line %ld: expected {custom_id, method POST, url %s, body with a model}", line,
                                      FE_SIM_ENDPOINT);
        else if (!fe_strmap_put(&seen, cid, 1))
            b->invalid = fe_xasprintf("line %ld: custom_id '%s' is used twice", line, cid);
        else if (model && strcmp(model, m) != 0)
            b->invalid = fe_xasprintf("line %ld: model '%s' differs from '%s' (one model per file)", line, m, model);
        if (!b->invalid) {
            cJSON *r = cJSON_CreateObject();
            cJSON_AddStringToObject(r, "custom_id", cid);
            cJSON_AddItemToObject(r, "body", cJSON_Duplicate(fe_json_get(l, "body"), true));
            cJSON_AddItemToArray(b->requests, r);
            model = fe_json_gets(fe_json_get(r, "body"), "model");
        }
        cJSON_Delete(l);
    }
    fe_strmap_release(&seen);
}

static void fe_sim_batch_create_openai(struct fe_sim *s, const struct fe_sim_request *rq, struct fe_sim_response *rs)
{
    cJSON *req = cJSON_ParseWithLength(rq->body, rq->body_len);
    const char *fid = fe_json_gets(req, "input_file_id");
    const struct fe_sim_file *f = fid ? fe_sim_file_find(s, fid, NULL) : NULL;
    if (!f || strcmp(f->purpose, "batch") != 0)
        fe_sim_error(rs, 400, "invalid_request_error", "input_file_id", NULL,
                     "input_file_id '%s' is not a file uploaded with purpose batch", fid ? fid : "");
    else if (strcmp(fe_json_gets_or(req, "endpoint", ""), FE_SIM_ENDPOINT) != 0 ||
             strcmp(fe_json_gets_or(req, "completion_window", ""), "24h") != 0)
        fe_sim_error(rs, 400, "invalid_request_error", "endpoint", NULL,
                     "expected endpoint %s and completion_window 24h", FE_SIM_ENDPOINT);
    else {
        struct fe_sim_batch *b = fe_sim_batch_new(s, false);
        b->input_file_id = fe_xstrdup(fid);
        if (!b->invalid)
            fe_sim_batch_read_file(b, f);
        fe_sim_reply_json(rs, 200, fe_sim_batch_json(s, b));
    }
    cJSON_Delete(req);
}

/* Anthropic params → a chat completions body (system first). */
static cJSON *fe_sim_batch_chat_body(const cJSON *params)
{
    cJSON *body = cJSON_CreateObject();
    fe_json_add_str(body, "model", fe_json_gets(params, "model"));
    cJSON *msgs = cJSON_AddArrayToObject(body, "messages");
    const char *system = fe_json_gets(params, "system");
    if (system) {
        cJSON *m = cJSON_CreateObject();
        cJSON_AddStringToObject(m, "role", "system");
        cJSON_AddStringToObject(m, "content", system);
        cJSON_AddItemToArray(msgs, m);
    }
    const cJSON *m;
    cJSON_ArrayForEach(m, fe_json_get(params, "messages"))
        cJSON_AddItemToArray(msgs, cJSON_Duplicate(m, true));
    const cJSON *mt = fe_json_get(params, "max_tokens");
    if (mt)
        cJSON_AddItemToObject(body, "max_tokens", cJSON_Duplicate(mt, true));
    return body;
}

static void fe_sim_batch_create_anthropic(struct fe_sim *s, const struct fe_sim_request *rq,
                                          struct fe_sim_response *rs)
{
    cJSON *req = cJSON_ParseWithLength(rq->body, rq->body_len);
    const cJSON *reqs = fe_json_get(req, "requests"), *r;
    struct fe_sim_batches *bs = fe_sim_batches(s);
    char *bad = NULL;
    struct fe_strmap seen;
    fe_strmap_init(&seen);
    if (!cJSON_IsArray(reqs) || cJSON_GetArraySize(reqs) == 0)
        bad = fe_xstrdup("requests: expected a non-empty array");
    else if (bs->invalid_first != 0 && fe_sim_fault_hits(bs->invalid_first, bs->created))
        bad = fe_xstrdup("injected validation failure (--batch-fault invalid)");
    for (r = bad ? NULL : reqs->child; r; r = r->next) {
        const char *cid = fe_json_gets(r, "custom_id");
        size_t n = cid ? strlen(cid) : 0;
        if (!cid || n == 0 || n > 64 || strspn(cid, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-") != n ||
            !fe_strmap_put(&seen, cid, 1) || !cJSON_IsObject(fe_json_get(r, "params"))) {
            bad = fe_xasprintf("requests: custom_id '%s' is not unique, not [a-zA-Z0-9_-]{1,64}, or has no params",
                               cid ? cid : "");
            break;
        }
    }
    fe_strmap_release(&seen);
    if (bad) {
        fe_sim_error(rs, 400, "invalid_request_error", NULL, NULL, "%s", bad);
        if (bs->invalid_first != 0 && fe_sim_fault_hits(bs->invalid_first, bs->created))
            bs->created++;
    } else {
        struct fe_sim_batch *b = fe_sim_batch_new(s, true);
        cJSON_ArrayForEach(r, reqs) {
            cJSON *o = cJSON_CreateObject();
            fe_json_add_str(o, "custom_id", fe_json_gets(r, "custom_id"));
            cJSON_AddItemToObject(o, "body", fe_sim_batch_chat_body(fe_json_get(r, "params")));
            cJSON_AddItemToArray(b->requests, o);
        }
        fe_sim_reply_json(rs, 200, fe_sim_batch_json(s, b));
    }
    free(bad);
    cJSON_Delete(req);
}

/* ---- routing ------------------------------------------------------------------------------ */

static void fe_sim_batch_list(struct fe_sim *s, struct fe_sim_response *rs)
{
    cJSON *out = cJSON_CreateObject();
    cJSON_AddStringToObject(out, "object", "list");
    cJSON *data = cJSON_AddArrayToObject(out, "data");
    for (size_t i = s->batches ? s->batches->n : 0; i-- > 0;)
        if (!s->batches->b[i]->anthropic)
            cJSON_AddItemToArray(data, fe_sim_batch_json(s, s->batches->b[i]));
    cJSON_AddBoolToObject(out, "has_more", false);
    fe_sim_reply_json(rs, 200, out);
}

static void fe_sim_batch_one(struct fe_sim *s, const struct fe_sim_request *rq, bool anthropic, const char *rest,
                             struct fe_sim_response *rs)
{
    const char *slash = strchr(rest, '/');
    char *id = fe_xstrndup(rest, slash ? (size_t)(slash - rest) : strlen(rest));
    const char *tail = slash ? slash : "";
    struct fe_sim_batch *b = fe_sim_batch_find(s, id, anthropic);
    bool get = strcmp(rq->method, "GET") == 0, post = strcmp(rq->method, "POST") == 0;
    if (!b) {
        fe_sim_error(rs, 404, anthropic ? "not_found_error" : "invalid_request_error", "id", NULL, "No such batch: %s",
                     id);
    } else if (get && !tail[0]) {
        fe_sim_reply_json(rs, 200, fe_sim_batch_json(s, b));
    } else if (post && strcmp(tail, "/cancel") == 0) {
        if (!b->finished && b->cancel_at <= 0) {
            b->cancel_at = fe_now();
            b->cancelled = true;
        }
        fe_sim_reply_json(rs, 200, fe_sim_batch_json(s, b));
    } else if (anthropic && get && strcmp(tail, "/results") == 0) {
        fe_sim_batch_status(s, b);
        if (!b->results) {
            fe_sim_error(rs, 400, "invalid_request_error", NULL, NULL, "batch %s has not ended", id);
        } else {
            rs->status = 200;
            rs->content_type = "application/binary";
            fe_buf_adds(&rs->body, b->results);
        }
    } else {
        fe_sim_error(rs, 404, "invalid_request_error", NULL, NULL, "Invalid URL (%s %s)", rq->method, rq->path);
    }
    free(id);
}

bool fe_sim_batch_route(struct fe_sim *s, const struct fe_sim_request *rq, struct fe_sim_response *rs)
{
    bool get = strcmp(rq->method, "GET") == 0, post = strcmp(rq->method, "POST") == 0;
    const char *p = rq->path;
    if (strcmp(p, "/v1/batches") == 0 && (get || post)) {
        if (post)
            fe_sim_batch_create_openai(s, rq, rs);
        else
            fe_sim_batch_list(s, rs);
        return true;
    }
    if (strcmp(p, "/v1/messages/batches") == 0 && post) {
        fe_sim_batch_create_anthropic(s, rq, rs);
        return true;
    }
    if (strncmp(p, "/v1/batches/", 12) == 0 && p[12]) {
        fe_sim_batch_one(s, rq, false, p + 12, rs);
        return true;
    }
    if (strncmp(p, "/v1/messages/batches/", 21) == 0 && p[21]) {
        fe_sim_batch_one(s, rq, true, p + 21, rs);
        return true;
    }
    return false;
}
