/* openai.c — OpenAI Chat Completions and every server that speaks it (vLLM, llama.cpp,
 * Ollama, TGI): PROVIDER-APIS.md §2 and §8. Pure translation; no I/O. */
#include <stdlib.h>
#include <string.h>

#include "harness/base/util.h"
#include "providers/provider.h"

cJSON *fe_openai_chat_body(const struct fe_provider_conf *conf, const struct fe_chat_request *req)
{
    cJSON *body = cJSON_CreateObject();
    cJSON_AddStringToObject(body, "model", req->model);
    cJSON *messages = cJSON_AddArrayToObject(body, "messages");
    for (size_t i = 0; i < req->n_messages; i++) {
        cJSON *m = cJSON_CreateObject();
        cJSON_AddStringToObject(m, "role", req->messages[i].role);
        cJSON_AddStringToObject(m, "content", req->messages[i].content);
        cJSON_AddItemToArray(messages, m);
    }
    if (req->has_temperature)
        cJSON_AddNumberToObject(body, "temperature", req->temperature);
    if (req->max_tokens > 0)
        cJSON_AddNumberToObject(body, conf->cap_field ? conf->cap_field : "max_tokens",
                                (double)req->max_tokens);
    if (req->has_seed)
        cJSON_AddNumberToObject(body, "seed", (double)req->seed);
    if (req->stream) { /* usage arrives in a last chunk with empty choices */
        cJSON_AddTrueToObject(body, "stream");
        cJSON_AddTrueToObject(cJSON_AddObjectToObject(body, "stream_options"), "include_usage");
    }
    return body;
}

static enum fe_status fe_openai_build(const struct fe_provider_conf *conf,
                                      const struct fe_chat_request *req,
                                      struct fe_http_request *out, struct fe_err *err)
{
    (void)err;
    memset(out, 0, sizeof(*out));
    out->url = fe_xasprintf("%s/chat/completions", conf->base_url);
    fe_http_request_add_header(out, "Content-Type: application/json");
    fe_http_request_add_header(out, "Accept: application/json");
    if (conf->api_key && *conf->api_key)
        fe_http_request_add_header(out, "Authorization: Bearer %s", conf->api_key);
    fe_http_request_add_conf_headers(out, conf);
    fe_http_request_set_body(out, fe_openai_chat_body(conf, req), conf, req);
    return FE_OK;
}

static const char *fe_finish_reason(const char *r)
{
    static const char *const known[] = {"stop", "length", "content_filter", "tool_calls",
                                        "function_call"};
    if (!r)
        return "other";
    for (size_t i = 0; i < FE_ARRAY_LEN(known); i++)
        if (strcmp(r, known[i]) == 0)
            return known[i];
    if (strcmp(r, "eos") == 0 || strcmp(r, "stop_sequence") == 0) /* some local servers */
        return "stop";
    return "other";
}

static void fe_openai_usage(const cJSON *usage, struct fe_completion *out);

enum fe_status fe_openai_chat_parse(const char *body, size_t len, struct fe_completion *out,
                                    struct fe_err *err)
{
    memset(out, 0, sizeof(*out));
    cJSON *j = cJSON_ParseWithLength(body, len);
    if (!cJSON_IsObject(j)) {
        cJSON_Delete(j);
        return fe_err_set(err, FE_EPROVIDER, "response is not a JSON object");
    }
    const cJSON *choices = cJSON_GetObjectItemCaseSensitive(j, "choices");
    const cJSON *choice = cJSON_GetArrayItem(choices, 0);
    const cJSON *message = cJSON_GetObjectItemCaseSensitive(choice, "message");
    if (!cJSON_IsObject(message)) {
        cJSON_Delete(j);
        return fe_err_set(err, FE_EPROVIDER, "response has no choices[0].message");
    }
    const cJSON *content = cJSON_GetObjectItemCaseSensitive(message, "content");
    const cJSON *refusal = cJSON_GetObjectItemCaseSensitive(message, "refusal");
    if (cJSON_IsString(content)) {
        out->text = fe_xstrdup(content->valuestring);
    } else if (cJSON_IsNull(content) || !content) {
        out->text = fe_xstrdup("");
    } else {
        cJSON_Delete(j);
        return fe_err_set(err, FE_EPROVIDER, "choices[0].message.content is not a string");
    }
    const cJSON *fr = cJSON_GetObjectItemCaseSensitive(choice, "finish_reason");
    const char *reason = fe_finish_reason(cJSON_IsString(fr) ? fr->valuestring : NULL);
    if (cJSON_IsString(refusal) && *refusal->valuestring && !*out->text)
        reason = "content_filter";
    out->finish_reason = fe_xstrdup(reason);
    const cJSON *model = cJSON_GetObjectItemCaseSensitive(j, "model");
    out->model = cJSON_IsString(model) ? fe_xstrdup(model->valuestring) : NULL;
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(j, "id");
    out->response_id = cJSON_IsString(id) ? fe_xstrdup(id->valuestring) : NULL;
    fe_openai_usage(cJSON_GetObjectItemCaseSensitive(j, "usage"), out);
    cJSON_Delete(j);
    return FE_OK;
}

/* The usage object of a completion or of the last chunk of a stream. */
static void fe_openai_usage(const cJSON *usage, struct fe_completion *out)
{
    if (!cJSON_IsObject(usage))
        return;
    bool has_prompt, has_completion; /* a usage without both counts is no usage */
    out->prompt_tokens = fe_usage_tokens(usage, "prompt_tokens", &has_prompt);
    out->completion_tokens = fe_usage_tokens(usage, "completion_tokens", &has_completion);
    out->has_usage = has_prompt && has_completion;
    const cJSON *details = cJSON_GetObjectItemCaseSensitive(usage, "prompt_tokens_details");
    out->cached_tokens = fe_usage_tokens(details, "cached_tokens", &out->has_cached);
    if (out->cached_tokens > out->prompt_tokens)
        out->cached_tokens = out->prompt_tokens;
}

/* One chunk of a streamed Chat Completion: "data: {chat.completion.chunk}" events, the usage in
 * a last chunk with empty choices (stream_options.include_usage), then "data: [DONE]". A chunk
 * carrying {"error": ...} is the server failing mid-stream. */
enum fe_stream_step fe_openai_stream_event(struct fe_stream_acc *acc, const char *event, const char *data,
                                           size_t len)
{
    (void)event;
    if (len == 6 && memcmp(data, "[DONE]", 6) == 0)
        return FE_STREAM_END;
    cJSON *j = cJSON_ParseWithLength(data, len);
    if (!cJSON_IsObject(j)) {
        cJSON_Delete(j);
        return fe_stream_bad(acc, "a stream event is not a JSON object: %.60s", data);
    }
    enum fe_stream_step step = FE_STREAM_MORE;
    const cJSON *choices = cJSON_GetObjectItemCaseSensitive(j, "choices");
    if (cJSON_GetObjectItemCaseSensitive(j, "error")) {
        step = fe_stream_error_event(acc, j, fe_classify_http_error);
    } else if (!cJSON_IsArray(choices)) {
        step = fe_stream_bad(acc, "a stream chunk has no choices array");
    } else {
        const cJSON *choice = cJSON_GetArrayItem(choices, 0);
        const cJSON *delta = cJSON_GetObjectItemCaseSensitive(choice, "delta");
        const cJSON *content = cJSON_GetObjectItemCaseSensitive(delta, "content");
        const cJSON *fr = cJSON_GetObjectItemCaseSensitive(choice, "finish_reason");
        if (cJSON_IsString(content) && content->valuestring[0]) {
            fe_buf_adds(&acc->text, content->valuestring);
            step = FE_STREAM_CONTENT;
        }
        if (cJSON_IsString(fr)) {
            free(acc->comp.finish_reason);
            acc->comp.finish_reason = fe_xstrdup(fe_finish_reason(fr->valuestring));
        }
        const cJSON *model = cJSON_GetObjectItemCaseSensitive(j, "model");
        if (!acc->comp.model && cJSON_IsString(model))
            acc->comp.model = fe_xstrdup(model->valuestring);
        const cJSON *id = cJSON_GetObjectItemCaseSensitive(j, "id");
        if (!acc->comp.response_id && cJSON_IsString(id))
            acc->comp.response_id = fe_xstrdup(id->valuestring);
        fe_openai_usage(cJSON_GetObjectItemCaseSensitive(j, "usage"), &acc->comp);
    }
    cJSON_Delete(j);
    return step;
}

const struct fe_provider_ops fe_provider_openai = {
    .name = "openai",
    .caps = FE_CAP_HTTP | FE_CAP_SEED | FE_CAP_FILES | FE_CAP_STREAM,
    .build_request = fe_openai_build,
    .parse_response = fe_openai_chat_parse,
    .classify_error = fe_classify_http_error,
    .parse_stream_event = fe_openai_stream_event,
};
