/* batch_api.c — the batch APIs' shapes (batch_int.h), over the one blocking client of
 * net/http_client.h (retries for idempotent calls, one attempt for creates).
 *
 * OpenAI (paths relative to a base URL ending in /v1): POST /files (multipart, purpose "batch",
 * the one upload of net/http_upload.c) → POST /batches {input_file_id, endpoint
 * "/v1/chat/completions", completion_window "24h"} → GET /batches/ID (validating, in_progress,
 * finalizing, completed, failed, expired, cancelling, cancelled; request_counts {total,
 * completed, failed}) → GET /files/ID/content of output_file_id and error_file_id. A line:
 * {"custom_id", "response": {"status_code", "request_id", "body"} | null, "error": {code,
 * message} | null}; "batch_expired" / "batch_cancelled" mean the request never ran.
 *
 * Anthropic: POST /messages/batches {requests: [{custom_id, params}]} → GET
 * /messages/batches/ID (processing_status in_progress, canceling, ended; request_counts
 * {processing, succeeded, errored, canceled, expired}; results_url) → the results JSONL: one
 * {"custom_id", "result": {"type": succeeded|errored|canceled|expired, "message" | "error"}}.
 */
#include "harness/run/batch_int.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness/base/buf.h"
#include "harness/base/errkind.h"
#include "harness/base/jsonout.h"
#include "harness/base/log.h"
#include "harness/base/util.h"

#define FE_BATCH_ENDPOINT "/v1/chat/completions"

cJSON *fe_batch_line(enum fe_batch_kind k, const char *cid, const char *body_json, size_t len)
{
    cJSON *body = cJSON_ParseWithLength(body_json, len);
    if (!body)
        return NULL;
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "custom_id", cid);
    if (k == FE_BATCH_OPENAI) {
        cJSON_AddStringToObject(o, "method", "POST");
        cJSON_AddStringToObject(o, "url", FE_BATCH_ENDPOINT);
        cJSON_AddItemToObject(o, "body", body);
    } else {
        cJSON_AddItemToObject(o, "params", body);
    }
    return o;
}

/* One attempt of a create (not idempotent): an answer that is not certainly "not done" is an
 * error saying the batch may exist; resume looks for it before sending again. */
static enum fe_status fe_batch_create(struct fe_http *h, const char *path, const char *json, const char *what,
                                      cJSON **out, struct fe_err *err)
{
    struct fe_http_call_request req = {.method = "POST", .path = path, .json = json};
    struct fe_http_response resp;
    fe_http_response_init(&resp);
    enum fe_status st = FE_OK;
    *out = NULL;
    for (int attempt = 0;; attempt++) {
        st = fe_http_send(h, &req, &resp, err);
        if (st != FE_OK && st != FE_ENET)
            break;
        enum fe_http_verdict v = fe_http_classify(&resp);
        if (v == FE_HTTP_DONE && resp.status >= 200 && resp.status < 300) {
            *out = cJSON_ParseWithLength(resp.body.data ? resp.body.data : "", resp.body.len);
            st = fe_json_gets(*out, "id") ? FE_OK
                                           : fe_err_set(err, FE_EPROVIDER, "%s: answer has no \"id\"", what);
            break;
        }
        struct fe_buf d;
        fe_buf_init(&d, 0);
        fe_http_error_detail(&resp, &d);
        double delay = fe_http_retry_delay(h, &resp, attempt);
        if (v == FE_HTTP_RETRY && attempt < fe_http_get_retries(h) && delay >= 0) {
            fe_info("%s: %s; retry %d in %.2f s", what, fe_buf_str(&d), attempt + 1, delay);
            fe_buf_release(&d);
            fe_http_sleep(delay);
            continue;
        }
        st = fe_err_set(err, resp.status == 429 && fe_http_is_quota_error(&resp) ? FE_EQUOTA
                             : resp.status                                       ? FE_EPROVIDER
                                                                                 : FE_ENET,
                        "%s: %s%s", what, fe_buf_str(&d),
                        v == FE_HTTP_AMBIGUOUS ? " (the batch may have been created: --resume looks for it)" : "");
        fe_buf_release(&d);
        break;
    }
    if (st != FE_OK) {
        cJSON_Delete(*out);
        *out = NULL;
    }
    fe_http_response_release(&resp);
    return st;
}

enum fe_status fe_batch_api_submit(struct fe_http *h, enum fe_batch_kind k, const char *jsonl_path,
                                   const char *items, const char *file_id,
                                   void (*on_file)(void *ctx, const char *file_id), void *ctx,
                                   char **batch_id, struct fe_err *err)
{
    *batch_id = NULL;
    cJSON *created = NULL;
    enum fe_status st;
    if (k == FE_BATCH_ANTHROPIC) {
        char *json = fe_xasprintf("{\"requests\":%s}", items);
        st = fe_batch_create(h, "/messages/batches", json, "create message batch", &created, err);
        free(json);
    } else {
        char *fid = fe_xstrdup(file_id);
        if (!fid) {
            cJSON *file = NULL;
            st = fe_http_upload_file(h, "/files", jsonl_path, "batch", "upload batch file", &file, err);
            if (st != FE_OK)
                return st;
            fid = fe_json_dupstr(file, "id");
            cJSON_Delete(file);
            on_file(ctx, fid); /* journaled before the batch is created */
        }
        cJSON *body = cJSON_CreateObject();
        cJSON_AddStringToObject(body, "input_file_id", fid);
        cJSON_AddStringToObject(body, "endpoint", FE_BATCH_ENDPOINT);
        cJSON_AddStringToObject(body, "completion_window", "24h");
        char *json = cJSON_PrintUnformatted(body);
        cJSON_Delete(body);
        st = fe_batch_create(h, "/batches", json, "create batch", &created, err);
        cJSON_free(json);
        free(fid);
    }
    if (st == FE_OK)
        *batch_id = fe_json_dupstr(created, "id");
    cJSON_Delete(created);
    return st;
}

enum fe_status fe_batch_api_find(struct fe_http *h, const char *file_id, char **batch_id, struct fe_err *err)
{
    *batch_id = NULL;
    cJSON *list = NULL;
    enum fe_status st = fe_http_get_json(h, "/batches?limit=100", "list batches", &list, err);
    if (st != FE_OK)
        return st;
    const cJSON *b;
    cJSON_ArrayForEach(b, fe_json_get(list, "data")) {
        const char *in = fe_json_gets(b, "input_file_id");
        if (in && strcmp(in, file_id) == 0 && fe_json_gets(b, "id")) {
            *batch_id = fe_json_dupstr(b, "id");
            break;
        }
    }
    cJSON_Delete(list);
    return FE_OK;
}

static void fe_batch_set(char **dst, const cJSON *o, const char *k)
{
    const char *v = fe_json_gets(o, k);
    if (v && (!*dst || strcmp(*dst, v) != 0)) {
        free(*dst);
        *dst = fe_xstrdup(v);
    }
}

static long fe_batch_count(const cJSON *counts, const char *k)
{
    double v = fe_json_getn_or(counts, k, 0);
    return v > 0 && v < 1e12 ? (long)v : 0;
}

enum fe_status fe_batch_api_poll(struct fe_http *h, enum fe_batch_kind k, struct fe_batch *b, struct fe_err *err)
{
    char *path = NULL;
    struct fe_buf p;
    fe_buf_init(&p, 0);
    fe_buf_adds(&p, k == FE_BATCH_OPENAI ? "/batches/" : "/messages/batches/");
    fe_http_add_escaped(&p, b->id);
    path = fe_xstrdup(fe_buf_str(&p));
    fe_buf_release(&p);
    cJSON *o = NULL;
    enum fe_status st = fe_http_get_json(h, path, "poll batch", &o, err);
    free(path);
    if (st != FE_OK)
        return st;
    const cJSON *counts = fe_json_get(o, "request_counts");
    const char *status = fe_json_gets(o, k == FE_BATCH_OPENAI ? "status" : "processing_status");
    if (!status) {
        cJSON_Delete(o);
        return fe_err_set(err, FE_EPROVIDER, "poll batch %s: answer has no status", b->id);
    }
    snprintf(b->status, sizeof(b->status), "%s", status);
    if (k == FE_BATCH_OPENAI) {
        b->total = fe_batch_count(counts, "total");
        b->done = fe_batch_count(counts, "completed");
        b->failed = fe_batch_count(counts, "failed");
        b->ended = strcmp(status, "completed") == 0 || strcmp(status, "failed") == 0 ||
                   strcmp(status, "expired") == 0 || strcmp(status, "cancelled") == 0;
        fe_batch_set(&b->output_file_id, o, "output_file_id");
        fe_batch_set(&b->error_file_id, o, "error_file_id");
        if (strcmp(status, "failed") == 0) { /* validation failed: the errors say why */
            const cJSON *e = fe_json_get(fe_json_get(o, "errors"), "data");
            const cJSON *first = cJSON_IsArray(e) ? cJSON_GetArrayItem(e, 0) : NULL;
            fe_error("batch %s failed: %s%s%s", b->id, fe_json_gets_or(first, "code", "no reason given"),
                     first ? ": " : "", fe_json_gets_or(first, "message", ""));
        }
    } else {
        long ok = fe_batch_count(counts, "succeeded"), bad = fe_batch_count(counts, "errored");
        long gone = fe_batch_count(counts, "canceled") + fe_batch_count(counts, "expired");
        b->total = ok + bad + gone + fe_batch_count(counts, "processing");
        b->done = ok;
        b->failed = bad + gone;
        b->ended = strcmp(status, "ended") == 0;
        fe_batch_set(&b->results_url, o, "results_url");
    }
    cJSON_Delete(o);
    return FE_OK;
}

bool fe_batch_status_failed(enum fe_batch_kind k, const char *status)
{
    (void)k;
    return strcmp(status, "failed") == 0 || strcmp(status, "expired") == 0 || strcmp(status, "cancelled") == 0;
}

/* GET path (relative to the base URL) into file (emptied first; rewound after): a results file
 * may hold 50,000 answers, so it goes to disk, not memory. */
static enum fe_status fe_batch_download(struct fe_http *h, const char *path, FILE *file, struct fe_err *err)
{
    struct fe_http_call_request req = {.method = "GET", .path = path, .body_file = file};
    struct fe_http_response resp;
    fe_http_response_init(&resp);
    enum fe_status st = fe_http_call(h, &req, "download batch results", &resp, err);
    fe_http_response_release(&resp);
    if (st == FE_OK && fseeko(file, 0, SEEK_SET) != 0)
        st = fe_err_set(err, FE_EIO, "batch results: cannot read back the download: %s", strerror(errno));
    return st;
}

/* An OpenAI line (output or error file). */
static bool fe_batch_openai_line(const cJSON *l, fe_batch_outcome_fn fn, void *ctx)
{
    const char *cid = fe_json_gets(l, "custom_id");
    if (!cid)
        return false;
    const cJSON *resp = fe_json_get(l, "response"), *e = fe_json_get(l, "error");
    struct fe_batch_outcome out = {.cid = cid, .request_id = fe_json_gets(resp, "request_id")};
    const cJSON *body = fe_json_get(resp, "body");
    double status = fe_json_getn_or(resp, "status_code", 0);
    char *text = body ? cJSON_PrintUnformatted(body) : NULL;
    char *msg = NULL;
    if (text && status >= 200 && status < 300) {
        out.what = FE_BO_OK;
    } else if (text) {
        out.what = FE_BO_ERROR;
        out.http_status = (long)status;
    } else {
        const char *code = fe_json_gets_or(e, "code", "");
        if (strcmp(code, "batch_expired") == 0 || strcmp(code, "batch_cancelled") == 0) {
            out.what = FE_BO_AGAIN;
        } else {
            out.what = FE_BO_ERROR;
            out.kind = strstr(code, "invalid") || strstr(code, "bad") ? FE_ERRK_BAD_REQUEST : FE_ERRK_SERVER;
            msg = fe_xasprintf("%s: %s", code[0] ? code : "error", fe_json_gets_or(e, "message", "no message"));
            out.message = msg;
        }
    }
    out.body = text;
    out.len = text ? strlen(text) : 0;
    fn(ctx, &out);
    cJSON_free(text);
    free(msg);
    return true;
}

/* Anthropic's error type → the HTTP status the online API answers it with. */
static long fe_batch_anthropic_status(const char *type)
{
    static const struct {
        const char *type;
        long status;
    } map[] = {
        {"invalid_request_error", 400}, {"authentication_error", 401}, {"permission_error", 403},
        {"not_found_error", 404},       {"request_too_large", 413},    {"rate_limit_error", 429},
        {"api_error", 500},             {"overloaded_error", 529},
    };
    for (size_t i = 0; type && i < FE_ARRAY_LEN(map); i++)
        if (strcmp(map[i].type, type) == 0)
            return map[i].status;
    return 500;
}

static bool fe_batch_anthropic_line(const cJSON *l, fe_batch_outcome_fn fn, void *ctx)
{
    const char *cid = fe_json_gets(l, "custom_id");
    const cJSON *result = fe_json_get(l, "result");
    const char *type = fe_json_gets(result, "type");
    if (!cid || !type)
        return false;
    struct fe_batch_outcome out = {.cid = cid};
    char *text = NULL;
    if (strcmp(type, "succeeded") == 0) {
        text = cJSON_PrintUnformatted(fe_json_get(result, "message"));
        out.what = text ? FE_BO_OK : FE_BO_ERROR;
        out.kind = FE_ERRK_MALFORMED;
        out.message = "succeeded without a message";
    } else if (strcmp(type, "errored") == 0) {
        const cJSON *e = fe_json_get(result, "error"); /* {"type": "error", "error": {type, message}} */
        text = e ? cJSON_PrintUnformatted(e) : NULL;
        out.what = FE_BO_ERROR;
        out.http_status = fe_batch_anthropic_status(fe_json_gets(fe_json_get(e, "error"), "type"));
        out.kind = FE_ERRK_SERVER;
        out.message = "errored without an error object";
    } else if (strcmp(type, "canceled") == 0 || strcmp(type, "expired") == 0) {
        out.what = FE_BO_AGAIN;
    } else {
        return false;
    }
    out.body = text;
    out.len = text ? strlen(text) : 0;
    fn(ctx, &out);
    cJSON_free(text);
    return true;
}

/* Reads downloaded JSONL line by line (each redacted as it is read: a secret holds no newline)
 * and hands each line to the API's line reader. */
static enum fe_status fe_batch_lines(enum fe_batch_kind k, FILE *file, fe_batch_outcome_fn fn, void *ctx,
                                     size_t *n_bad, struct fe_err *err)
{
    char *raw = NULL;
    size_t cap = 0;
    ssize_t got;
    struct fe_buf line;
    fe_buf_init(&line, 0);
    while ((got = getline(&raw, &cap, file)) > 0) {
        size_t n = (size_t)got - (raw[got - 1] == '\n');
        fe_buf_reset(&line);
        fe_buf_add(&line, raw, n);
        fe_redact_buf(&line);
        const char *p = line.data ? line.data : "";
        cJSON *l = line.len ? cJSON_ParseWithLength(p, line.len) : NULL;
        bool blank = line.len == 0 || (line.len == 1 && p[0] == '\r');
        if (!blank && !(l && (k == FE_BATCH_OPENAI ? fe_batch_openai_line(l, fn, ctx)
                                                     : fe_batch_anthropic_line(l, fn, ctx))))
            (*n_bad)++;
        cJSON_Delete(l);
    }
    enum fe_status st = ferror(file) ? fe_err_set(err, FE_EIO, "batch results: cannot read back the download") : FE_OK;
    free(raw);
    fe_buf_release(&line);
    return st;
}

/* results_url is absolute; the client takes a path under its base URL. */
static char *fe_batch_results_path(const char *url, const char *batch_id)
{
    const char *tail = strstr(url, "/messages/batches/");
    if (tail)
        return fe_xstrdup(tail);
    return fe_xasprintf("/messages/batches/%s/results", batch_id);
}

enum fe_status fe_batch_api_results(struct fe_http *h, enum fe_batch_kind k, const struct fe_batch *b, FILE *file,
                                    fe_batch_outcome_fn fn, void *ctx, size_t *n_bad, struct fe_err *err)
{
    *n_bad = 0;
    const char *files[2] = {b->output_file_id, b->error_file_id};
    for (size_t i = 0; i < (k == FE_BATCH_OPENAI ? 2u : 1u); i++) {
        char *path;
        if (k == FE_BATCH_OPENAI) {
            if (!files[i])
                continue;
            struct fe_buf p;
            fe_buf_init(&p, 0);
            fe_buf_adds(&p, "/files/");
            fe_http_add_escaped(&p, files[i]);
            fe_buf_adds(&p, "/content");
            path = fe_xstrdup(fe_buf_str(&p));
            fe_buf_release(&p);
        } else {
            if (!b->results_url)
                return fe_err_set(err, FE_EPROVIDER, "batch %s ended without a results_url", b->id);
            path = fe_batch_results_path(b->results_url, b->id);
        }
        enum fe_status st = fe_batch_download(h, path, file, err);
        free(path);
        if (st == FE_OK)
            st = fe_batch_lines(k, file, fn, ctx, n_bad, err);
        if (st != FE_OK)
            return st;
    }
    return FE_OK;
}
