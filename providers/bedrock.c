/* bedrock.c — Amazon Bedrock Runtime, Converse API (POST /model/{modelId}/converse, streamed:
 * POST /model/{modelId}/converse-stream), signed with AWS Signature Version 4 (harness/base/sigv4.c). Pure translation; no I/O: the credentials and
 * the region come in conf (the config reads AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY,
 * AWS_SESSION_TOKEN and region / AWS_REGION), the time in req->now_unix (the runner's clock).
 *
 * - URL: {base_url}/model/{modelId}/converse; base_url defaults to
 *   https://bedrock-runtime.{region}.amazonaws.com. modelId is the arm's model: a base model id
 *   ("anthropic.claude-3-5-haiku-20241022-v1:0"), an inference profile ("us.anthropic..."), or
 *   the ARN of a custom (fine-tuned) model, a provisioned-throughput model or an imported model;
 *   it is percent-encoded as one path segment (':' and '/' of an ARN too), and signed encoded
 *   once more (the SigV4 rule for every service but S3).
 * - Body: "system": [{"text"}] (system and developer messages joined with a blank line),
 *   "messages": [{"role", "content": [{"text"}]}] (consecutive messages of one role merged:
 *   Converse requires alternation), "inferenceConfig": {maxTokens, temperature (as given: the
 *   range is the model's), topP, stopSequences}. topP and stopSequences come from the OpenAI
 *   names "top_p" and "stop" (a string or an array) in the provider's and the arm's extra_body,
 *   so an arm shared with OpenAI-shaped providers keeps them; other extra_body fields
 *   (additionalModelRequestFields, guardrailConfig, performanceConfig, ...) are merged at the
 *   top level as for every provider. No seed (no FE_CAP_SEED).
 * - Headers, all signed: Content-Type, Accept, Host, X-Amz-Security-Token (with a session
 *   token), the config's extra headers, X-Amz-Date; then Authorization. build_request signs
 *   with req->now_unix; the runner re-signs before every attempt (sign_request) with its clock,
 *   so a request that waited for a rate limit or a retry is not refused as expired (AWS
 *   accepts 5 minutes of skew).
 * - Answer: output.message.content[].text concatenated; stopReason end_turn / stop_sequence ->
 *   stop, max_tokens / model_context_window_exceeded -> length, content_filtered /
 *   guardrail_intervened -> content_filter, tool_use -> tool_calls, else other; usage
 *   inputTokens (+ cacheReadInputTokens + cacheWriteInputTokens, which inputTokens excludes)
 *   -> prompt_tokens, cacheReadInputTokens -> cached_tokens, outputTokens -> completion_tokens.
 *   Converse returns no model and no id in the body.
 * - Streamed (req->stream): the same body to converse-stream with Accept
 *   application/vnd.amazon.eventstream; the answer is AWS event-stream framing, decoded by the net
 *   layer (net/eventstream.h), each message handed to parse_stream_event as "event:TYPE" or
 *   "exception:TYPE" (fe_bedrock_stream_event below: text deltas, stopReason, usage from the
 *   metadata event, exceptions classified as the statuses converse answers those types with).
 * - Errors: the type comes from the x-amzn-errortype header ("ThrottlingException:http://...")
 *   or the body's "__type" ("com.amazon...#ValidationException"); the body's "message" (or
 *   "Message") is the message. Types are mapped first, the status rules after.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "harness/base/buf.h"
#include "harness/base/sigv4.h"
#include "harness/base/util.h"
#include "providers/provider.h"

static enum fe_status fe_bedrock_check(const struct fe_provider_conf *conf, struct fe_err *err)
{
    if (!conf->region || !*conf->region)
        return fe_err_set(err, FE_EINVALID, "region: missing (set \"region\" or AWS_REGION)");
    for (const char *p = conf->region; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-'))
            return fe_err_set(err, FE_EINVALID, "region: '%s' is not an AWS region name", conf->region);
    return FE_OK;
}

/* Moves the OpenAI-named sampling fields of an extra_body into inferenceConfig; returns a copy
 * of extra without them (NULL when extra is NULL). */
static cJSON *fe_bedrock_take_sampling(const cJSON *extra, cJSON *inference)
{
    if (!extra)
        return NULL;
    cJSON *rest = cJSON_Duplicate(extra, true);
    cJSON *top_p = cJSON_DetachItemFromObjectCaseSensitive(rest, "top_p");
    if (top_p) {
        cJSON_DeleteItemFromObjectCaseSensitive(inference, "topP");
        cJSON_AddItemToObject(inference, "topP", top_p);
    }
    cJSON *stop = cJSON_DetachItemFromObjectCaseSensitive(rest, "stop");
    if (stop) {
        cJSON_DeleteItemFromObjectCaseSensitive(inference, "stopSequences");
        if (cJSON_IsString(stop)) {
            cJSON *arr = cJSON_CreateArray();
            cJSON_AddItemToArray(arr, stop);
            stop = arr;
        }
        cJSON_AddItemToObject(inference, "stopSequences", stop);
    }
    return rest;
}

static cJSON *fe_text_blocks(const char *text)
{
    cJSON *arr = cJSON_CreateArray();
    cJSON *b = cJSON_CreateObject();
    cJSON_AddStringToObject(b, "text", text);
    cJSON_AddItemToArray(arr, b);
    return arr;
}

static bool fe_header_is(const char *line, const char *name)
{
    size_t n = strlen(name);
    return strncasecmp(line, name, n) == 0 && line[n] == ':';
}

/* Signs out (URL, headers, body as built) for the time now_unix: drops an earlier X-Amz-Date
 * and Authorization, appends X-Amz-Date, signs every header, appends Authorization. Called by
 * build_request and, through sign_request, by the runner before every attempt. */
static enum fe_status fe_bedrock_sign(const struct fe_provider_conf *conf, long long now_unix,
                                      struct fe_http_request *out, struct fe_err *err)
{
    if (now_unix <= 0)
        return fe_err_set(err, FE_EINVALID, "bedrock: no signing time given");
    if (!conf->aws_access_key_id || !*conf->aws_access_key_id || !conf->aws_secret_access_key ||
        !*conf->aws_secret_access_key)
        return fe_err_set(err, FE_EINVALID, "bedrock: no AWS credentials (AWS_ACCESS_KEY_ID, "
                          "AWS_SECRET_ACCESS_KEY)");
    const char *scheme_end = out->url ? strstr(out->url, "://") : NULL;
    const char *path = scheme_end ? strchr(scheme_end + 3, '/') : NULL;
    if (!path)
        return fe_err_set(err, FE_EINVALID, "bedrock: cannot sign '%s' (no path)", out->url ? out->url : "");
    size_t m = 0;
    for (size_t i = 0; i < out->n_headers; i++) {
        if (fe_header_is(out->headers[i], "X-Amz-Date") || fe_header_is(out->headers[i], "Authorization"))
            free(out->headers[i]);
        else
            out->headers[m++] = out->headers[i];
    }
    out->n_headers = m;
    char amz_date[17];
    fe_sigv4_amz_date(now_unix, amz_date);
    fe_http_request_add_header(out, "X-Amz-Date: %s", amz_date);

    struct fe_sigv4_header *h = fe_xcalloc(out->n_headers, sizeof(*h));
    char **names = fe_xcalloc(out->n_headers, sizeof(*names));
    for (size_t i = 0; i < out->n_headers; i++) {
        const char *line = out->headers[i], *colon = strchr(line, ':');
        names[i] = colon ? fe_xstrndup(line, (size_t)(colon - line)) : fe_xstrdup(line);
        const char *v = colon ? colon + 1 : "";
        while (*v == ' ')
            v++;
        h[i] = (struct fe_sigv4_header){names[i], v};
    }
    struct fe_sigv4_request sreq = {
        .method = "POST", .path = path, .query = NULL, .headers = h, .n_headers = out->n_headers,
        .body = out->body, .body_len = out->body_len, .amz_date = amz_date, .region = conf->region,
        .service = "bedrock", .access_key_id = conf->aws_access_key_id,
        .secret_access_key = conf->aws_secret_access_key,
    };
    struct fe_sigv4_result sig;
    int rc = fe_sigv4_sign(&sreq, &sig);
    if (rc == 0)
        fe_http_request_add_header(out, "Authorization: %s", sig.authorization);
    fe_sigv4_result_release(&sig);
    for (size_t i = 0; i < sreq.n_headers; i++)
        free(names[i]);
    free(names);
    free(h);
    return rc == 0 ? FE_OK : fe_err_set(err, FE_EINVALID, "bedrock: cannot sign the request");
}

static enum fe_status fe_bedrock_build(const struct fe_provider_conf *conf, const struct fe_chat_request *req,
                                       struct fe_http_request *out, struct fe_err *err)
{
    memset(out, 0, sizeof(*out));
    if (fe_bedrock_check(conf, err) != FE_OK)
        return FE_EINVALID;
    if (!req->model || !*req->model)
        return fe_err_set(err, FE_EINVALID, "bedrock: the arm's model (the model id or ARN) is empty");
    char *system;
    struct fe_chat_turn *turns;
    size_t n_turns;
    if (fe_chat_turns(req, "bedrock", &system, &turns, &n_turns, err) != FE_OK)
        return FE_EINVALID;

    /* body */
    cJSON *body = cJSON_CreateObject();
    if (system)
        cJSON_AddItemToObject(body, "system", fe_text_blocks(system));
    cJSON *messages = cJSON_AddArrayToObject(body, "messages");
    for (size_t i = 0; i < n_turns; i++) {
        cJSON *m = cJSON_CreateObject();
        cJSON_AddStringToObject(m, "role", turns[i].role);
        cJSON_AddItemToObject(m, "content", fe_text_blocks(turns[i].text));
        cJSON_AddItemToArray(messages, m);
    }
    fe_chat_turns_free(system, turns, n_turns);
    cJSON *inference = cJSON_AddObjectToObject(body, "inferenceConfig");
    if (req->max_tokens > 0)
        cJSON_AddNumberToObject(inference, "maxTokens", (double)req->max_tokens);
    if (req->has_temperature)
        cJSON_AddNumberToObject(inference, "temperature", req->temperature);
    cJSON *conf_rest = fe_bedrock_take_sampling(conf->extra_body, inference); /* the arm's win */
    cJSON *req_rest = fe_bedrock_take_sampling(req->extra_body, inference);
    struct fe_provider_conf c2 = *conf;
    struct fe_chat_request r2 = *req;
    c2.extra_body = conf_rest;
    r2.extra_body = req_rest;
    fe_http_request_set_body(out, body, &c2, &r2);
    cJSON_Delete(conf_rest);
    cJSON_Delete(req_rest);

    /* URL: scheme://authority[/prefix]/model/{id}/converse */
    char *base = conf->base_url && *conf->base_url
                     ? fe_xstrdup(conf->base_url)
                     : fe_xasprintf("https://bedrock-runtime.%s.amazonaws.com", conf->region);
    const char *scheme_end = strstr(base, "://");
    const char *authority = scheme_end ? scheme_end + 3 : base;
    const char *slash = strchr(authority, '/');
    char *host = slash ? fe_xstrndup(authority, (size_t)(slash - authority)) : fe_xstrdup(authority);
    size_t hl = strlen(host); /* the default port is not part of the Host header curl sends */
    bool https = strncmp(base, "https://", 8) == 0;
    if ((https && hl > 4 && strcmp(host + hl - 4, ":443") == 0) || (!https && hl > 3 && strcmp(host + hl - 3, ":80") == 0))
        host[strrchr(host, ':') - host] = '\0';
    char *id = fe_sigv4_uri_encode(req->model, strlen(req->model), 0);
    char *path = fe_xasprintf("%s/model/%s/%s", slash ? slash : "", id, req->stream ? "converse-stream" : "converse");
    out->url = fe_xasprintf("%.*s%s%s", (int)(authority - base), base, host, path);
    free(id);

    fe_http_request_add_header(out, "Content-Type: application/json");
    fe_http_request_add_header(out, "Accept: %s", req->stream ? "application/vnd.amazon.eventstream" : "application/json");
    fe_http_request_add_header(out, "Host: %s", host);
    if (conf->aws_session_token && *conf->aws_session_token)
        fe_http_request_add_header(out, "X-Amz-Security-Token: %s", conf->aws_session_token);
    fe_http_request_add_conf_headers(out, conf);
    free(path);
    free(host);
    free(base);
    if (fe_bedrock_sign(conf, req->now_unix, out, err) != FE_OK) {
        fe_http_request_release(out);
        return FE_EINVALID;
    }
    return FE_OK;
}

static const char *fe_bedrock_stop_reason(const char *r)
{
    static const struct fe_str_pair map[] = {
        {"end_turn", "stop"},
        {"stop_sequence", "stop"},
        {"max_tokens", "length"},
        {"model_context_window_exceeded", "length"},
        {"content_filtered", "content_filter"},
        {"guardrail_intervened", "content_filter"},
        {"tool_use", "tool_calls"},
    };
    return fe_str_map(map, FE_ARRAY_LEN(map), r, "other");
}

static void fe_bedrock_usage(const cJSON *usage, struct fe_completion *c);

static enum fe_status fe_bedrock_parse(const char *body, size_t len, struct fe_completion *out,
                                       struct fe_err *err)
{
    memset(out, 0, sizeof(*out));
    cJSON *j = body ? cJSON_ParseWithLength(body, len) : NULL;
    if (!cJSON_IsObject(j)) {
        cJSON_Delete(j);
        return fe_err_set(err, FE_EPROVIDER, "response is not a JSON object");
    }
    const cJSON *message = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(j, "output"), "message");
    const cJSON *content = cJSON_GetObjectItemCaseSensitive(message, "content");
    if (!cJSON_IsArray(content)) {
        cJSON_Delete(j);
        return fe_err_set(err, FE_EPROVIDER, "response has no output.message.content array");
    }
    struct fe_buf text = {0};
    const cJSON *block;
    cJSON_ArrayForEach(block, content) {
        const cJSON *t = cJSON_GetObjectItemCaseSensitive(block, "text");
        if (cJSON_IsString(t)) /* reasoningContent, toolUse, ... skipped */
            fe_buf_adds(&text, t->valuestring);
    }
    out->text = fe_buf_detach(&text, NULL);
    const cJSON *sr = cJSON_GetObjectItemCaseSensitive(j, "stopReason");
    out->finish_reason = fe_xstrdup(fe_bedrock_stop_reason(cJSON_IsString(sr) ? sr->valuestring : NULL));
    fe_bedrock_usage(cJSON_GetObjectItemCaseSensitive(j, "usage"), out);
    cJSON_Delete(j);
    return FE_OK;
}

/* "ThrottlingException:http://internal..." or "com.amazon.coral#ThrottlingException": the name. */
static char *fe_bedrock_type_name(const char *t)
{
    const char *hash = strrchr(t, '#');
    if (hash)
        t = hash + 1;
    size_t n = strcspn(t, ":");
    while (n && (t[n - 1] == ' ' || t[n - 1] == '\r' || t[n - 1] == '\n'))
        n--;
    return fe_xstrndup(t, n);
}

static void fe_bedrock_classify_typed(long status, const char *error_type, const char *body, size_t len,
                                      struct fe_provider_error *out)
{
    fe_classify_http_error(status, body, len, out); /* message, the status rules */
    cJSON *j = body && len ? cJSON_ParseWithLength(body, len) : NULL;
    const cJSON *bt = cJSON_GetObjectItemCaseSensitive(j, "__type");
    const cJSON *msg = cJSON_GetObjectItemCaseSensitive(j, "Message");
    if (!out->message && cJSON_IsString(msg))
        out->message = fe_xstrdup(msg->valuestring);
    const char *raw = error_type && *error_type ? error_type : cJSON_IsString(bt) ? bt->valuestring : NULL;
    if (raw) {
        free(out->type);
        out->type = fe_bedrock_type_name(raw);
    }
    cJSON_Delete(j);
    if (!out->type)
        return;
    static const struct {
        const char *type, *kind;
        bool retryable, stop;
    } map[] = {
        {"ThrottlingException", FE_ERRK_RATE_LIMIT, true, false},
        {"ServiceQuotaExceededException", FE_ERRK_QUOTA, false, true},
        {"ValidationException", FE_ERRK_BAD_REQUEST, false, false},
        {"AccessDeniedException", FE_ERRK_AUTH, false, false},
        {"UnrecognizedClientException", FE_ERRK_AUTH, false, false},
        {"InvalidSignatureException", FE_ERRK_AUTH, false, false},
        {"ExpiredTokenException", FE_ERRK_AUTH, false, false},
        {"ResourceNotFoundException", FE_ERRK_NOT_FOUND, false, false},
        {"ModelNotReadyException", FE_ERRK_SERVER, true, false},
        {"ServiceUnavailableException", FE_ERRK_SERVER, true, false},
        {"InternalServerException", FE_ERRK_SERVER, true, false},
        {"ModelErrorException", FE_ERRK_SERVER, true, false},
        {"ModelTimeoutException", FE_ERRK_TIMEOUT, true, false},
        {"ModelStreamErrorException", FE_ERRK_SERVER, true, false}, /* converse-stream only */
    };
    for (size_t i = 0; i < FE_ARRAY_LEN(map); i++)
        if (strcmp(out->type, map[i].type) == 0) {
            out->kind = map[i].kind;
            out->retryable = map[i].retryable;
            out->stop_provider = map[i].stop;
            return;
        }
}

static void fe_bedrock_classify(long status, const char *body, size_t len, struct fe_provider_error *out)
{
    fe_bedrock_classify_typed(status, NULL, body, len, out);
}

/* usage {inputTokens, outputTokens, cacheRead/WriteInputTokens} into c (the non-stream rules). */
static void fe_bedrock_usage(const cJSON *usage, struct fe_completion *c)
{
    if (!cJSON_IsObject(usage))
        return;
    bool has_input, has_output; /* a usage without both counts is no usage */
    long cache_read = fe_usage_tokens(usage, "cacheReadInputTokens", &c->has_cached);
    c->prompt_tokens = fe_usage_tokens(usage, "inputTokens", &has_input) +
                       fe_usage_tokens(usage, "cacheWriteInputTokens", NULL) + cache_read;
    c->cached_tokens = cache_read;
    c->completion_tokens = fe_usage_tokens(usage, "outputTokens", &has_output);
    c->has_usage = has_input && has_output;
}

/* An exception (or error) message of converse-stream: classified as the HTTP answer its type
 * stands for (the status converse itself answers that type with), type names as the header's. */
static enum fe_stream_step fe_bedrock_stream_exception(struct fe_stream_acc *acc, const char *type, const char *data,
                                                       size_t len)
{
    static const struct fe_str_pair statuses[] = {
        {"throttlingException", "429"},          {"validationException", "400"},
        {"modelStreamErrorException", "424"},    {"internalServerException", "500"},
        {"serviceUnavailableException", "503"},  {"modelTimeoutException", "408"},
        {"accessDeniedException", "403"},        {"resourceNotFoundException", "404"},
        {"serviceQuotaExceededException", "400"}, {"modelNotReadyException", "429"},
    };
    long status = strtol(fe_str_map(statuses, FE_ARRAY_LEN(statuses), type, "500"), NULL, 10);
    char *name = fe_xstrdup(*type ? type : "InternalServerException");
    if (name[0] >= 'a' && name[0] <= 'z') /* the stream's "throttlingException" is "ThrottlingException" */
        name[0] = (char)(name[0] - 'a' + 'A');
    fe_provider_error_release(&acc->error);
    bool json = len > 0 && data[0] == '{';
    if (json)
        fe_bedrock_classify_typed(status, name, data, len, &acc->error);
    else { /* an error message's text (its :error-message header) */
        fe_bedrock_classify_typed(status, name, NULL, 0, &acc->error);
        free(acc->error.message);
        acc->error.message = len ? fe_xstrndup(data, len) : NULL;
    }
    free(name);
    return FE_STREAM_ERROR;
}

/* One message of converse-stream (net/stream.h names it "MESSAGE-TYPE:TYPE"): messageStart,
 * contentBlockStart, contentBlockDelta {delta: {text}} (content: the first is the time to first
 * token), contentBlockStop, messageStop {stopReason}, metadata {usage, metrics} (the last event of
 * the stream: its end); exceptions classified as their HTTP statuses. Event types AWS may add are
 * skipped; another message type, or an event whose payload is not a JSON object, is bad. */
static enum fe_stream_step fe_bedrock_stream_event(struct fe_stream_acc *acc, const char *event, const char *data,
                                                   size_t len)
{
    if (strncmp(event, "exception:", 10) == 0 || strncmp(event, "error:", 6) == 0)
        return fe_bedrock_stream_exception(acc, strchr(event, ':') + 1, data, len);
    if (strncmp(event, "event:", 6) != 0)
        return fe_stream_bad(acc, "an event-stream message of type '%.*s'", (int)strcspn(event, ":"), event);
    const char *type = event + 6;
    cJSON *j = cJSON_ParseWithLength(data, len);
    if (!cJSON_IsObject(j)) {
        cJSON_Delete(j);
        return fe_stream_bad(acc, "%s: the payload is not a JSON object", type);
    }
    enum fe_stream_step step = FE_STREAM_MORE;
    if (strcmp(type, "contentBlockDelta") == 0) {
        const cJSON *text = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(j, "delta"), "text");
        if (cJSON_IsString(text) && text->valuestring[0]) { /* reasoningContent, toolUse deltas skipped */
            fe_buf_adds(&acc->text, text->valuestring);
            step = FE_STREAM_CONTENT;
        }
    } else if (strcmp(type, "messageStop") == 0) {
        const cJSON *sr = cJSON_GetObjectItemCaseSensitive(j, "stopReason");
        free(acc->comp.finish_reason);
        acc->comp.finish_reason = fe_xstrdup(fe_bedrock_stop_reason(cJSON_IsString(sr) ? sr->valuestring : NULL));
    } else if (strcmp(type, "metadata") == 0) {
        fe_bedrock_usage(cJSON_GetObjectItemCaseSensitive(j, "usage"), &acc->comp);
        step = FE_STREAM_END;
    }
    cJSON_Delete(j);
    return step;
}

const struct fe_provider_ops fe_provider_bedrock = {
    .name = "bedrock",
    .caps = FE_CAP_HTTP | FE_CAP_AWS_SIGV4 | FE_CAP_STREAM | FE_CAP_EVENTSTREAM,
    .build_request = fe_bedrock_build,
    .parse_response = fe_bedrock_parse,
    .classify_error = fe_bedrock_classify,
    .check_conf = fe_bedrock_check,
    .classify_error_typed = fe_bedrock_classify_typed,
    .sign_request = fe_bedrock_sign,
    .parse_stream_event = fe_bedrock_stream_event,
};
