/* sim_messages.c — POST /v1/messages of the simulator: the Anthropic Messages API, plain and
 * streamed, answered by the chat model (sim_chat.c) through a translation both ways.
 *
 * Checks what Anthropic checks first: the x-api-key header (401 authentication_error), the
 * anthropic-version header (400 invalid_request_error), a JSON body with model, messages and
 * max_tokens >= 1 (400 invalid_request_error). Errors of the chat model come back in Anthropic's
 * shape {"type": "error", "error": {"type", "message"}}: 429 rate_limit_error (with the fault's
 * retry-after headers), 503 becomes 529 overloaded_error, 500 api_error, 404 not_found_error.
 * A stream keeps the chat model's pacing and stream faults piece by piece: the role chunk becomes
 * message_start + content_block_start (+ ping), each content chunk a content_block_delta, the
 * end content_block_stop + message_delta (stop_reason, output_tokens) + message_stop.
 */
#include "harness/sim/sim.h"

#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "harness/base/util.h"

static void fe_sim_anthropic_error(struct fe_sim_response *rs, int status, const char *type, const char *msg)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "type", "error");
    cJSON *e = cJSON_AddObjectToObject(o, "error");
    cJSON_AddStringToObject(e, "type", type);
    cJSON_AddStringToObject(e, "message", msg);
    char *rid = fe_xasprintf("req_sim%llu", (unsigned long long)rs->attempt);
    cJSON_AddStringToObject(o, "request_id", rid);
    free(rid);
    fe_buf_reset(&rs->body);
    fe_sim_reply_json(rs, status, o);
}

/* The Chat Completions body of a Messages request, or NULL with rs filled with the 400. */
static cJSON *fe_sim_messages_to_chat(const cJSON *req, struct fe_sim_response *rs)
{
    const cJSON *model = cJSON_GetObjectItemCaseSensitive(req, "model");
    const cJSON *messages = cJSON_GetObjectItemCaseSensitive(req, "messages");
    const cJSON *max_tokens = cJSON_GetObjectItemCaseSensitive(req, "max_tokens");
    if (!cJSON_IsString(model) || !model->valuestring[0]) {
        fe_sim_anthropic_error(rs, 400, "invalid_request_error", "model: Field required");
        return NULL;
    }
    if (!cJSON_IsNumber(max_tokens)) {
        fe_sim_anthropic_error(rs, 400, "invalid_request_error", "max_tokens: Field required");
        return NULL;
    }
    if (max_tokens->valuedouble < 1) {
        fe_sim_anthropic_error(rs, 400, "invalid_request_error", "max_tokens: must be greater than or equal to 1");
        return NULL;
    }
    if (!cJSON_IsArray(messages) || cJSON_GetArraySize(messages) == 0) {
        fe_sim_anthropic_error(rs, 400, "invalid_request_error", "messages: Field required");
        return NULL;
    }
    cJSON *chat = cJSON_CreateObject();
    cJSON_AddStringToObject(chat, "model", model->valuestring);
    cJSON *out = cJSON_AddArrayToObject(chat, "messages");
    const cJSON *system = cJSON_GetObjectItemCaseSensitive(req, "system");
    if (system) {
        char *text = fe_sim_blocks_text(system);
        cJSON *m = cJSON_CreateObject();
        cJSON_AddStringToObject(m, "role", "system");
        cJSON_AddStringToObject(m, "content", text);
        cJSON_AddItemToArray(out, m);
        free(text);
    }
    const cJSON *m;
    cJSON_ArrayForEach(m, messages) {
        const cJSON *role = cJSON_GetObjectItemCaseSensitive(m, "role");
        if (!cJSON_IsString(role) || (strcmp(role->valuestring, "user") && strcmp(role->valuestring, "assistant"))) {
            cJSON_Delete(chat);
            fe_sim_anthropic_error(rs, 400, "invalid_request_error",
                                   "messages: roles must be \"user\" or \"assistant\"");
            return NULL;
        }
        char *text = fe_sim_blocks_text(cJSON_GetObjectItemCaseSensitive(m, "content"));
        cJSON *c = cJSON_CreateObject();
        cJSON_AddStringToObject(c, "role", role->valuestring);
        cJSON_AddStringToObject(c, "content", text);
        cJSON_AddItemToArray(out, c);
        free(text);
    }
    cJSON_AddNumberToObject(chat, "max_tokens", max_tokens->valuedouble);
    if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(req, "stream"))) {
        cJSON_AddTrueToObject(chat, "stream");
        cJSON_AddTrueToObject(cJSON_AddObjectToObject(chat, "stream_options"), "include_usage");
    }
    return chat;
}

/* A chat error answer (OpenAI's shape) in Anthropic's. */
static void fe_sim_messages_error_back(struct fe_sim_response *rs)
{
    static const struct {
        int from, to;
        const char *type;
    } map[] = {{400, 400, "invalid_request_error"}, {401, 401, "authentication_error"},
               {403, 403, "permission_error"},       {404, 404, "not_found_error"},
               {413, 413, "request_too_large"},      {429, 429, "rate_limit_error"},
               {503, 529, "overloaded_error"}};
    int status = 500;
    const char *type = "api_error";
    for (size_t i = 0; i < FE_ARRAY_LEN(map); i++)
        if (map[i].from == rs->status)
            status = map[i].to, type = map[i].type;
    cJSON *j = cJSON_ParseWithLength(rs->body.data ? rs->body.data : "", rs->body.len);
    const cJSON *msg = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(j, "error"), "message");
    char *text = fe_xstrdup(cJSON_IsString(msg) ? msg->valuestring : "Internal server error");
    cJSON_Delete(j);
    if (status == 529) {
        free(text);
        text = fe_xstrdup("Overloaded");
    }
    fe_sim_anthropic_error(rs, status, type, text);
    free(text);
}

static const char *fe_sim_stop_reason(const char *finish)
{
    return finish && strcmp(finish, "length") == 0 ? "max_tokens" : "end_turn";
}

static void fe_sim_usage_back(const cJSON *usage, cJSON *to, bool with_output)
{
    long prompt = (long)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(usage, "prompt_tokens"));
    long cached = (long)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(usage, "prompt_tokens_details"), "cached_tokens"));
    long output = (long)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(usage, "completion_tokens"));
    cJSON_AddNumberToObject(to, "input_tokens", (double)(prompt - cached));
    cJSON_AddNumberToObject(to, "cache_creation_input_tokens", 0);
    cJSON_AddNumberToObject(to, "cache_read_input_tokens", (double)cached);
    cJSON_AddNumberToObject(to, "output_tokens", with_output ? (double)output : 1);
}

/* A chat.completion in Anthropic's message shape. */
static void fe_sim_messages_answer_back(struct fe_sim_response *rs)
{
    cJSON *j = cJSON_ParseWithLength(rs->body.data ? rs->body.data : "", rs->body.len);
    if (!cJSON_IsObject(j)) { /* the malformed fault: sent as it is */
        cJSON_Delete(j);
        return;
    }
    const cJSON *choice = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(j, "choices"), 0);
    const cJSON *content = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(choice, "message"),
                                                            "content");
    const cJSON *finish = cJSON_GetObjectItemCaseSensitive(choice, "finish_reason");
    cJSON *o = cJSON_CreateObject();
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(j, "id");
    char *mid = fe_xasprintf("msg_%s", cJSON_IsString(id) ? id->valuestring + 9 : "sim");
    cJSON_AddStringToObject(o, "id", mid);
    free(mid);
    cJSON_AddStringToObject(o, "type", "message");
    cJSON_AddStringToObject(o, "role", "assistant");
    cJSON_AddStringToObject(o, "model", rs->model ? rs->model : "");
    cJSON *blocks = cJSON_AddArrayToObject(o, "content");
    cJSON *blk = cJSON_CreateObject();
    cJSON_AddStringToObject(blk, "type", "text");
    cJSON_AddStringToObject(blk, "text", cJSON_IsString(content) ? content->valuestring : "");
    cJSON_AddItemToArray(blocks, blk);
    cJSON_AddStringToObject(o, "stop_reason", fe_sim_stop_reason(cJSON_GetStringValue(finish)));
    cJSON_AddNullToObject(o, "stop_sequence");
    fe_sim_usage_back(cJSON_GetObjectItemCaseSensitive(j, "usage"), cJSON_AddObjectToObject(o, "usage"), true);
    cJSON_Delete(j);
    fe_buf_reset(&rs->body);
    char *text = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    fe_buf_adds(&rs->body, text);
    free(text);
}

/* Appends one event "event: NAME" whose data is {"type": NAME, ...data's members} (takes data). */
static void fe_sim_event(struct fe_buf *b, const char *name, cJSON *data)
{
    cJSON *o = cJSON_CreateObject(); /* "type" first, as Anthropic sends it */
    cJSON_AddStringToObject(o, "type", name);
    while (data->child) {
        cJSON *item = cJSON_DetachItemViaPointer(data, data->child);
        cJSON_AddItemToObject(o, item->string, item);
    }
    cJSON_Delete(data);
    char *text = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    fe_buf_addf(b, "event: %s\ndata: %s\n\n", name, text);
    free(text);
}

/* The chat stream's events of one piece (old[0..n)) in Anthropic's, appended to b. */
static void fe_sim_piece_back(const char *old, size_t n, const cJSON *usage, const char *model, struct fe_buf *b,
                              const char **finish)
{
    for (const char *p = old; p < old + n;) {
        const char *eol = memchr(p, '\n', (size_t)(old + n - p));
        size_t len = eol ? (size_t)(eol - p) : (size_t)(old + n - p);
        struct fe_sim_chunk ch;
        if (fe_sim_chunk_read(p, len, &ch)) {
            if (ch.role) {
                cJSON *m = cJSON_CreateObject(), *msg = cJSON_AddObjectToObject(m, "message");
                const cJSON *id = cJSON_GetObjectItemCaseSensitive(ch.json, "id");
                char *mid = fe_xasprintf("msg_%s", cJSON_IsString(id) ? id->valuestring + 9 : "sim");
                cJSON_AddStringToObject(msg, "id", mid);
                free(mid);
                cJSON_AddStringToObject(msg, "type", "message");
                cJSON_AddStringToObject(msg, "role", "assistant");
                cJSON_AddStringToObject(msg, "model", model);
                cJSON_AddArrayToObject(msg, "content");
                cJSON_AddNullToObject(msg, "stop_reason");
                fe_sim_usage_back(usage, cJSON_AddObjectToObject(msg, "usage"), false);
                fe_sim_event(b, "message_start", m);
                cJSON *cb = cJSON_CreateObject();
                cJSON_AddNumberToObject(cb, "index", 0);
                cJSON *blk = cJSON_AddObjectToObject(cb, "content_block");
                cJSON_AddStringToObject(blk, "type", "text");
                cJSON_AddStringToObject(blk, "text", "");
                fe_sim_event(b, "content_block_start", cb);
                fe_sim_event(b, "ping", cJSON_CreateObject());
            } else if (ch.content) {
                cJSON *d = cJSON_CreateObject();
                cJSON_AddNumberToObject(d, "index", 0);
                cJSON *dd = cJSON_AddObjectToObject(d, "delta");
                cJSON_AddStringToObject(dd, "type", "text_delta");
                cJSON_AddStringToObject(dd, "text", ch.content);
                fe_sim_event(b, "content_block_delta", d);
            }
            if (ch.finish)
                *finish = ch.finish;
            cJSON_Delete(ch.json);
        } else if (len >= 12 && strncmp(p, "data: [DONE]", 12) == 0) {
            cJSON *stop = cJSON_CreateObject();
            cJSON_AddNumberToObject(stop, "index", 0);
            fe_sim_event(b, "content_block_stop", stop);
            cJSON *md = cJSON_CreateObject(), *d = cJSON_AddObjectToObject(md, "delta");
            cJSON_AddStringToObject(d, "stop_reason", fe_sim_stop_reason(*finish));
            cJSON_AddNullToObject(d, "stop_sequence");
            cJSON_AddNumberToObject(cJSON_AddObjectToObject(md, "usage"), "output_tokens",
                                    cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(usage, "completion_tokens")));
            fe_sim_event(b, "message_delta", md);
            fe_sim_event(b, "message_stop", cJSON_CreateObject());
        }
        p += len + 1;
    }
}

/* The chat stream in rs (paced) as Anthropic's events, piece by piece, keeping the pacing. */
static void fe_sim_stream_back(struct fe_sim_response *rs)
{
    const char *old = rs->body.data ? rs->body.data : "";
    cJSON *usage = NULL; /* from the usage chunk (with empty choices), found first: message_start needs it */
    const char *u = fe_sim_memfind(old, rs->body.len, "\"choices\":[],", 13);
    if (u) {
        const char *start = u;
        while (start > old && strncmp(start, "data: ", 6) != 0)
            start--;
        const char *end = memchr(u, '\n', (size_t)(old + rs->body.len - u));
        cJSON *c = cJSON_ParseWithLength(start + 6, (size_t)((end ? end : old + rs->body.len) - start - 6));
        usage = cJSON_DetachItemFromObjectCaseSensitive(c, "usage");
        cJSON_Delete(c);
    }
    struct fe_buf b;
    fe_buf_init(&b, 0);
    const char *finish = "stop";
    for (size_t i = 0, from = 0; i < rs->n_pace; i++) {
        fe_sim_piece_back(old + from, rs->pace_end[i] - from, usage, rs->model ? rs->model : "", &b, &finish);
        from = rs->pace_end[i];
        rs->pace_end[i] = b.len;
    }
    cJSON_Delete(usage);
    fe_buf_release(&rs->body);
    rs->body = b;
}

bool fe_sim_messages_route(struct fe_sim *s, const struct fe_sim_request *rq, struct fe_sim_response *rs)
{
    if (strcmp(rq->path, "/v1/messages") != 0 || strcmp(rq->method, "POST") != 0)
        return false;
    if (!rq->x_api_key) {
        fe_sim_anthropic_error(rs, 401, "authentication_error", "x-api-key header is required");
        return true;
    }
    if (!rq->anthropic_version || !rq->anthropic_version[0]) {
        fe_sim_anthropic_error(rs, 400, "invalid_request_error", "anthropic-version: header is required");
        return true;
    }
    cJSON *req = cJSON_ParseWithLength(rq->body, rq->body_len);
    cJSON *chat = cJSON_IsObject(req) ? fe_sim_messages_to_chat(req, rs) : NULL;
    if (!cJSON_IsObject(req))
        fe_sim_anthropic_error(rs, 400, "invalid_request_error", "the request body is not a JSON object");
    if (chat) {
        fe_sim_chat_as(s, rq, chat, rs);
        if (rs->status != 200)
            fe_sim_messages_error_back(rs);
        else if (rs->n_pace > 0)
            fe_sim_stream_back(rs);
        else
            fe_sim_messages_answer_back(rs);
    }
    cJSON_Delete(chat);
    cJSON_Delete(req);
    return true;
}
