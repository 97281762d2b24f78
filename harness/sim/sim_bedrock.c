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
 */
#include "harness/sim/sim.h"

#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

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

bool fe_sim_bedrock_route(struct fe_sim *s, const struct fe_sim_request *rq, struct fe_sim_response *rs)
{
    static const char head[] = "/model/", tail[] = "/converse";
    const char *p = rq->path;
    size_t n = strlen(p), nh = sizeof(head) - 1, nt = sizeof(tail) - 1;
    if (n <= nh + nt || strncmp(p, head, nh) != 0 || strcmp(p + n - nt, tail) != 0 || memchr(p + nh, '/', n - nh - nt))
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
    if (chat) {
        fe_sim_chat_as(s, rq, chat, rs);
        if (rs->status != 200)
            fe_sim_converse_error_back(rs);
        else
            fe_sim_converse_answer_back(rs);
    }
    cJSON_Delete(chat);
    cJSON_Delete(req);
    free(model);
    return true;
}
