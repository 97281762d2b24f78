/* sim_bedrock.c — POST /model/{modelId}/converse of the simulator: Amazon Bedrock's Converse API,
 * answered by the chat model (sim_chat.c) through a translation both ways.
 *
 * Checks that the request is signed: no Authorization header is 403
 * MissingAuthenticationTokenException; one that is not a well-formed SigV4 header for the
 * bedrock service (fe_sim_sigv4_header_ok: AWS4-HMAC-SHA256 Credential=KEY/DATE/REGION/bedrock/
 * aws4_request, SignedHeaders=...;host;..., Signature=<64 hex>) is 403
 * IncompleteSignatureException. The signature itself is not verified (the sim has no secret).
 * Errors carry x-amzn-errortype and {"message"}: 429 ThrottlingException, 400
 * ValidationException, 404 ResourceNotFoundException, 503 ServiceUnavailableException, other 5xx
 * InternalServerException. The modelId segment is percent-decoded (ARNs arrive encoded).
 *
 * POST /model/{modelId}/converse-stream answers the same request as a stream in AWS event-stream
 * framing (application/vnd.amazon.eventstream; each message: prelude with CRC-32, headers
 * :event-type, :content-type, :message-type, a JSON payload, message CRC-32). It keeps the chat
 * model's pacing and stream faults piece by piece (like sim_messages.c): the role chunk becomes
 * messageStart, each content chunk a contentBlockDelta {delta: {text}}, the end contentBlockStop,
 * messageStop {stopReason} and metadata {usage, metrics: {latencyMs}}. A stream_cut fault closes
 * after the first content message; errors before the stream are the HTTP answers above.
 */
#include "harness/sim/sim.h"

#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "harness/base/crc32.h"
#include "harness/base/util.h"

static void fe_sim_aws_error(struct fe_sim_response *rs, int status, const char *type, const char *msg)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "message", msg);
    fe_sim_reply_json(rs, status, o);
    fe_buf_addf(&rs->headers, "x-amzn-errortype: %s:http://internal.amazon.com/coral/com.amazon.bedrock/\r\n", type);
}

static void fe_sim_chat_message(cJSON *messages, const char *role, char *text)
{
    cJSON *m = cJSON_CreateObject();
    cJSON_AddStringToObject(m, "role", role);
    cJSON_AddStringToObject(m, "content", text);
    cJSON_AddItemToArray(messages, m);
    free(text);
}

/* The Chat Completions body of a Converse request, or NULL with rs filled with the 400. */
static cJSON *fe_sim_converse_to_chat(const char *model, const cJSON *req, struct fe_sim_response *rs)
{
    const cJSON *messages = cJSON_GetObjectItemCaseSensitive(req, "messages");
    if (!cJSON_IsArray(messages) || cJSON_GetArraySize(messages) == 0) {
        fe_sim_aws_error(rs, 400, "ValidationException", "1 validation error detected: Value null at 'messages' "
                         "failed to satisfy constraint: Member must not be null");
        return NULL;
    }
    cJSON *chat = cJSON_CreateObject();
    cJSON_AddStringToObject(chat, "model", model);
    cJSON *out = cJSON_AddArrayToObject(chat, "messages");
    const cJSON *system = cJSON_GetObjectItemCaseSensitive(req, "system");
    if (cJSON_IsArray(system))
        fe_sim_chat_message(out, "system", fe_sim_blocks_text(system));
    const cJSON *m;
    cJSON_ArrayForEach(m, messages) {
        const cJSON *role = cJSON_GetObjectItemCaseSensitive(m, "role");
        const cJSON *content = cJSON_GetObjectItemCaseSensitive(m, "content");
        if (!cJSON_IsString(role) || (strcmp(role->valuestring, "user") && strcmp(role->valuestring, "assistant")) ||
            !cJSON_IsArray(content)) {
            cJSON_Delete(chat);
            fe_sim_aws_error(rs, 400, "ValidationException",
                             "A conversation must alternate between user and assistant roles, each with a content "
                             "array");
            return NULL;
        }
        fe_sim_chat_message(out, role->valuestring, fe_sim_blocks_text(content));
    }
    const cJSON *max = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(req, "inferenceConfig"),
                                                        "maxTokens");
    if (cJSON_IsNumber(max)) {
        if (max->valuedouble < 1) {
            cJSON_Delete(chat);
            fe_sim_aws_error(rs, 400, "ValidationException", "The maximum tokens you requested must be at least 1");
            return NULL;
        }
        cJSON_AddNumberToObject(chat, "max_tokens", max->valuedouble);
    }
    return chat;
}

/* A chat error answer in Bedrock's shape. */
static void fe_sim_converse_error_back(struct fe_sim_response *rs)
{
    cJSON *j = cJSON_ParseWithLength(rs->body.data ? rs->body.data : "", rs->body.len);
    const cJSON *msg = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(j, "error"), "message");
    char *text = fe_xstrdup(cJSON_IsString(msg) ? msg->valuestring : "Internal server error");
    cJSON_Delete(j);
    int st = rs->status;
    const char *type = st == 429   ? "ThrottlingException"
                       : st == 400 ? "ValidationException"
                       : st == 404 ? "ResourceNotFoundException"
                       : st == 503 ? "ServiceUnavailableException"
                                   : "InternalServerException";
    fe_sim_aws_error(rs, st == 429 || st == 400 || st == 404 || st == 503 ? st : 500, type,
                     st == 429 ? "Too many requests, please wait before trying again." : text);
    free(text);
}

/* A chat.completion in Converse's shape. */
static void fe_sim_converse_answer_back(struct fe_sim_response *rs)
{
    cJSON *j = cJSON_ParseWithLength(rs->body.data ? rs->body.data : "", rs->body.len);
    if (!cJSON_IsObject(j)) { /* the malformed fault: sent as it is */
        cJSON_Delete(j);
        return;
    }
    const cJSON *choice = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(j, "choices"), 0);
    const cJSON *content = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(choice, "message"),
                                                            "content");
    const char *finish = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(choice, "finish_reason"));
    const cJSON *usage = cJSON_GetObjectItemCaseSensitive(j, "usage");
    long prompt = (long)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(usage, "prompt_tokens"));
    long cached = (long)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(usage, "prompt_tokens_details"), "cached_tokens"));
    long output = (long)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(usage, "completion_tokens"));
    cJSON *o = cJSON_CreateObject();
    cJSON *msg = cJSON_AddObjectToObject(cJSON_AddObjectToObject(o, "output"), "message");
    cJSON_AddStringToObject(msg, "role", "assistant");
    cJSON *blk = cJSON_CreateObject();
    cJSON_AddStringToObject(blk, "text", cJSON_IsString(content) ? content->valuestring : "");
    cJSON_AddItemToArray(cJSON_AddArrayToObject(msg, "content"), blk);
    cJSON_AddStringToObject(o, "stopReason", finish && strcmp(finish, "length") == 0 ? "max_tokens" : "end_turn");
    cJSON *u = cJSON_AddObjectToObject(o, "usage");
    cJSON_AddNumberToObject(u, "inputTokens", (double)(prompt - cached));
    cJSON_AddNumberToObject(u, "outputTokens", (double)output);
    cJSON_AddNumberToObject(u, "totalTokens", (double)(prompt + output));
    if (cached > 0)
        cJSON_AddNumberToObject(u, "cacheReadInputTokens", (double)cached);
    cJSON_AddNumberToObject(cJSON_AddObjectToObject(o, "metrics"), "latencyMs", (double)(long)rs->delay_ms);
    cJSON_Delete(j);
    char *text = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    fe_buf_reset(&rs->body);
    fe_buf_adds(&rs->body, text);
    free(text);
}

static void fe_sim_u32(struct fe_buf *b, uint32_t v)
{
    char x[4] = {(char)(v >> 24), (char)(v >> 16), (char)(v >> 8), (char)v};
    fe_buf_add(b, x, 4);
}

static void fe_sim_evs_header(struct fe_buf *b, const char *name, const char *value)
{
    size_t n = strlen(name), v = strlen(value);
    fe_buf_addch(b, (char)n);
    fe_buf_add(b, name, n);
    fe_buf_addch(b, 7); /* string */
    fe_buf_addch(b, (char)(v >> 8));
    fe_buf_addch(b, (char)v);
    fe_buf_add(b, value, v);
}

/* Appends one event message "type" with payload (takes it) in event-stream framing. */
static void fe_sim_evs_event(struct fe_buf *b, const char *type, cJSON *payload)
{
    struct fe_buf h;
    fe_buf_init(&h, 0);
    fe_sim_evs_header(&h, ":event-type", type);
    fe_sim_evs_header(&h, ":content-type", "application/json");
    fe_sim_evs_header(&h, ":message-type", "event");
    char *text = cJSON_PrintUnformatted(payload);
    cJSON_Delete(payload);
    size_t start = b->len, tl = strlen(text);
    fe_sim_u32(b, (uint32_t)(12 + h.len + tl + 4));
    fe_sim_u32(b, (uint32_t)h.len);
    fe_sim_u32(b, fe_crc32(0, b->data + start, 8));
    fe_buf_add(b, h.data, h.len);
    fe_buf_add(b, text, tl);
    fe_sim_u32(b, fe_crc32(0, b->data + start, b->len - start));
    free(text);
    fe_buf_release(&h);
}

/* The converse-stream events of one piece of the chat stream (old[0..n)), appended to b. */
static void fe_sim_converse_piece(const char *old, size_t n, double latency_ms, struct fe_buf *b, const char **finish,
                                  cJSON **usage)
{
    for (const char *p = old; p < old + n;) {
        const char *eol = memchr(p, '\n', (size_t)(old + n - p));
        size_t len = eol ? (size_t)(eol - p) : (size_t)(old + n - p);
        struct fe_sim_chunk ch;
        if (len >= 12 && strncmp(p, "data: [DONE]", 12) == 0) {
            cJSON *stop = cJSON_CreateObject();
            cJSON_AddNumberToObject(stop, "contentBlockIndex", 0);
            fe_sim_evs_event(b, "contentBlockStop", stop);
            cJSON *ms = cJSON_CreateObject();
            cJSON_AddStringToObject(ms, "stopReason", strcmp(*finish, "length") == 0 ? "max_tokens" : "end_turn");
            fe_sim_evs_event(b, "messageStop", ms);
            long prompt = (long)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(*usage, "prompt_tokens"));
            long cached = (long)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(
                cJSON_GetObjectItemCaseSensitive(*usage, "prompt_tokens_details"), "cached_tokens"));
            long output = (long)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(*usage, "completion_tokens"));
            cJSON *md = cJSON_CreateObject(), *u = cJSON_AddObjectToObject(md, "usage");
            cJSON_AddNumberToObject(u, "inputTokens", (double)(prompt - cached));
            cJSON_AddNumberToObject(u, "outputTokens", (double)output);
            cJSON_AddNumberToObject(u, "totalTokens", (double)(prompt + output));
            if (cached > 0)
                cJSON_AddNumberToObject(u, "cacheReadInputTokens", (double)cached);
            cJSON_AddNumberToObject(cJSON_AddObjectToObject(md, "metrics"), "latencyMs", (double)(long)latency_ms);
            fe_sim_evs_event(b, "metadata", md);
        } else if (fe_sim_chunk_read(p, len, &ch)) {
            if (ch.role) {
                cJSON *m = cJSON_CreateObject();
                cJSON_AddStringToObject(m, "role", "assistant");
                fe_sim_evs_event(b, "messageStart", m);
            } else if (ch.content) {
                cJSON *d = cJSON_CreateObject();
                cJSON_AddNumberToObject(d, "contentBlockIndex", 0);
                cJSON_AddStringToObject(cJSON_AddObjectToObject(d, "delta"), "text", ch.content);
                fe_sim_evs_event(b, "contentBlockDelta", d);
            }
            if (ch.finish)
                *finish = ch.finish;
            if (cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(ch.json, "usage"))) {
                cJSON_Delete(*usage);
                *usage = cJSON_DetachItemFromObjectCaseSensitive(ch.json, "usage");
            }
            cJSON_Delete(ch.json);
        }
        p += len + 1;
    }
}

/* The chat stream in rs (paced) as converse-stream's event-stream messages, piece by piece. */
static void fe_sim_converse_stream_back(struct fe_sim_response *rs)
{
    const char *old = rs->body.data ? rs->body.data : "";
    struct fe_buf b;
    fe_buf_init(&b, 0);
    const char *finish = "stop";
    cJSON *usage = NULL;
    for (size_t i = 0, from = 0; i < rs->n_pace; i++) {
        fe_sim_converse_piece(old + from, rs->pace_end[i] - from, rs->delay_ms, &b, &finish, &usage);
        from = rs->pace_end[i];
        rs->pace_end[i] = b.len;
    }
    cJSON_Delete(usage);
    fe_buf_release(&rs->body);
    rs->body = b;
    rs->content_type = "application/vnd.amazon.eventstream";
}

bool fe_sim_bedrock_route(struct fe_sim *s, const struct fe_sim_request *rq, struct fe_sim_response *rs)
{
    static const char head[] = "/model/", tail[] = "/converse", stail[] = "/converse-stream";
    const char *p = rq->path;
    size_t n = strlen(p), nh = sizeof(head) - 1, nt = sizeof(tail) - 1;
    bool stream = n > nh + sizeof(stail) - 1 && strcmp(p + n - (sizeof(stail) - 1), stail) == 0;
    if (stream)
        nt = sizeof(stail) - 1;
    if (n <= nh + nt || strncmp(p, head, nh) != 0 || (!stream && strcmp(p + n - nt, tail) != 0) ||
        memchr(p + nh, '/', n - nh - nt))
        return false;
    if (strcmp(rq->method, "POST") != 0) {
        fe_sim_aws_error(rs, 405, "UnknownOperationException", "only POST is supported here");
        return true;
    }
    if (!rq->auth) {
        fe_sim_aws_error(rs, 403, "MissingAuthenticationTokenException", "Missing Authentication Token");
        return true;
    }
    if (!rq->sigv4) {
        fe_sim_aws_error(rs, 403, "IncompleteSignatureException",
                         "Authorization header requires 'Credential', 'SignedHeaders' (with host) and 'Signature' "
                         "parameters for service bedrock (AWS4-HMAC-SHA256)");
        return true;
    }
    char *model = fe_sim_urldecode(p + nh, n - nh - nt);
    cJSON *req = cJSON_ParseWithLength(rq->body, rq->body_len);
    cJSON *chat = cJSON_IsObject(req) ? fe_sim_converse_to_chat(model, req, rs) : NULL;
    if (!cJSON_IsObject(req))
        fe_sim_aws_error(rs, 400, "ValidationException", "the request body is not a JSON object");
    if (chat && stream) {
        cJSON_AddTrueToObject(chat, "stream");
        cJSON_AddTrueToObject(cJSON_AddObjectToObject(chat, "stream_options"), "include_usage");
    }
    if (chat) {
        fe_sim_chat_as(s, rq, chat, rs);
        if (rs->status != 200)
            fe_sim_converse_error_back(rs);
        else if (stream && rs->n_pace > 0)
            fe_sim_converse_stream_back(rs);
        else
            fe_sim_converse_answer_back(rs);
    }
    cJSON_Delete(chat);
    cJSON_Delete(req);
    free(model);
    return true;
}
