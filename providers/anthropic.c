/* anthropic.c — Anthropic Messages API (PROVIDER-APIS.md §9). Pure translation; no I/O.
 *
 * Differences from Chat Completions that this file absorbs:
 * - system and developer messages move to the top-level "system" string (joined with a blank
 *   line, in order); only user and assistant messages stay in "messages";
 * - Anthropic requires user/assistant alternation, so consecutive messages of the same role
 *   are merged into one (contents joined with a blank line);
 * - max_tokens is required and always sent under that name (cap_field does not apply);
 * - temperature is 0..1 on Anthropic (0..2 on OpenAI): values above 1 are clamped to 1 and
 *   values below 0 to 0, so an arm shared between providers still runs;
 * - there is no seed: a requested seed is not sent (the provider lacks FE_CAP_SEED);
 * - usage.input_tokens excludes cache reads and writes: prompt_tokens is the sum of the three.
 */
#include <stdlib.h>
#include <string.h>

#include "harness/base/buf.h"
#include "harness/base/util.h"
#include "providers/provider.h"

#define FE_ANTHROPIC_DEFAULT_VERSION "2023-06-01"

static enum fe_status fe_anthropic_build(const struct fe_provider_conf *conf,
                                         const struct fe_chat_request *req,
                                         struct fe_http_request *out, struct fe_err *err)
{
    memset(out, 0, sizeof(*out));
    if (req->max_tokens <= 0)
        return fe_err_set(err, FE_EINVALID, "anthropic: max_tokens is required (got %ld)",
                          req->max_tokens);
    char *system;
    struct fe_chat_turn *turns;
    size_t n_turns;
    if (fe_chat_turns(req, "anthropic", &system, &turns, &n_turns, err) != FE_OK)
        return FE_EINVALID;

    out->url = fe_xasprintf("%s/messages", conf->base_url);
    fe_http_request_add_header(out, "content-type: application/json");
    fe_http_request_add_header(out, "anthropic-version: %s",
                               conf->anthropic_version && *conf->anthropic_version
                                   ? conf->anthropic_version
                                   : FE_ANTHROPIC_DEFAULT_VERSION);
    if (conf->api_key && *conf->api_key)
        fe_http_request_add_header(out, "x-api-key: %s", conf->api_key);
    fe_http_request_add_conf_headers(out, conf);

    cJSON *body = cJSON_CreateObject();
    cJSON_AddStringToObject(body, "model", req->model ? req->model : "");
    cJSON_AddNumberToObject(body, "max_tokens", (double)req->max_tokens);
    if (system)
        cJSON_AddStringToObject(body, "system", system);
    cJSON *messages = cJSON_AddArrayToObject(body, "messages");
    for (size_t i = 0; i < n_turns; i++) {
        cJSON *m = cJSON_CreateObject();
        cJSON_AddStringToObject(m, "role", turns[i].role);
        cJSON_AddStringToObject(m, "content", turns[i].text);
        cJSON_AddItemToArray(messages, m);
    }
    fe_chat_turns_free(system, turns, n_turns);

    if (req->has_temperature) {
        double t = req->temperature;
        t = t > 1.0 ? 1.0 : t < 0.0 ? 0.0 : t;
        cJSON_AddNumberToObject(body, "temperature", t);
    }
    if (req->stream)
        cJSON_AddTrueToObject(body, "stream");
    fe_http_request_set_body(out, body, conf, req);
    return FE_OK;
}

static const char *fe_stop_reason(const char *r)
{
    static const struct fe_str_pair map[] = {
        {"end_turn", "stop"},
        {"stop_sequence", "stop"},
        {"max_tokens", "length"},
        {"model_context_window_exceeded", "length"},
        {"refusal", "content_filter"},
        {"tool_use", "tool_calls"},
    };
    return fe_str_map(map, FE_ARRAY_LEN(map), r, "other"); /* pause_turn, null, anything newer */
}

static void fe_anthropic_input_usage(const cJSON *usage, struct fe_completion *out, bool *has_input);

static enum fe_status fe_anthropic_parse(const char *body, size_t len, struct fe_completion *out,
                                         struct fe_err *err)
{
    memset(out, 0, sizeof(*out));
    cJSON *j = body ? cJSON_ParseWithLength(body, len) : NULL;
    if (!cJSON_IsObject(j)) {
        cJSON_Delete(j);
        return fe_err_set(err, FE_EPROVIDER, "response is not a JSON object");
    }
    const cJSON *type = cJSON_GetObjectItemCaseSensitive(j, "type");
    if (cJSON_IsString(type) && strcmp(type->valuestring, "error") == 0) {
        const cJSON *e = cJSON_GetObjectItemCaseSensitive(j, "error");
        const cJSON *msg = cJSON_GetObjectItemCaseSensitive(e, "message");
        fe_err_set(err, FE_EPROVIDER, "response is an error: %s",
                   cJSON_IsString(msg) ? msg->valuestring : "(no message)");
        cJSON_Delete(j);
        return FE_EPROVIDER;
    }
    const cJSON *content = cJSON_GetObjectItemCaseSensitive(j, "content");
    if (!cJSON_IsArray(content)) {
        cJSON_Delete(j);
        return fe_err_set(err, FE_EPROVIDER, "response has no content array");
    }
    struct fe_buf text = {0};
    const cJSON *block;
    cJSON_ArrayForEach(block, content) {
        const cJSON *bt = cJSON_GetObjectItemCaseSensitive(block, "type");
        const cJSON *bx = cJSON_GetObjectItemCaseSensitive(block, "text");
        if (cJSON_IsString(bt) && strcmp(bt->valuestring, "text") == 0 && cJSON_IsString(bx))
            fe_buf_adds(&text, bx->valuestring);
    }
    out->text = fe_buf_detach(&text, NULL);
    const cJSON *sr = cJSON_GetObjectItemCaseSensitive(j, "stop_reason");
    out->finish_reason = fe_xstrdup(fe_stop_reason(cJSON_IsString(sr) ? sr->valuestring : NULL));
    const cJSON *model = cJSON_GetObjectItemCaseSensitive(j, "model");
    out->model = cJSON_IsString(model) ? fe_xstrdup(model->valuestring) : NULL;
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(j, "id");
    out->response_id = cJSON_IsString(id) ? fe_xstrdup(id->valuestring) : NULL;
    const cJSON *usage = cJSON_GetObjectItemCaseSensitive(j, "usage");
    if (cJSON_IsObject(usage)) {
        bool has_input, has_output; /* a usage without both counts is no usage */
        fe_anthropic_input_usage(usage, out, &has_input);
        out->completion_tokens = fe_usage_tokens(usage, "output_tokens", &has_output);
        out->has_usage = has_input && has_output;
    }
    cJSON_Delete(j);
    return FE_OK;
}

/* The common classification already reads {"type":"error","error":{"type","message"}} and
 * error.details.error_code; this pins Anthropic's own statuses and types on top of it. */
static void fe_anthropic_classify(long status, const char *body, size_t len,
                                  struct fe_provider_error *out)
{
    fe_classify_http_error(status, body, len, out);
    const char *type = out->type ? out->type : "";
    if (status == 529 || strcmp(type, "overloaded_error") == 0) {
        out->kind = FE_ERRK_SERVER;
        out->retryable = true;
        out->stop_provider = false;
    } else if (status == 402 || strcmp(type, "billing_error") == 0) {
        out->kind = FE_ERRK_QUOTA;
        out->retryable = false;
        out->stop_provider = true;
    } else if (status == 413) {
        out->kind = FE_ERRK_BAD_REQUEST;
        out->retryable = false;
    }
}

/* Input counts as Anthropic reports them: input_tokens excludes cache reads and writes. */
static void fe_anthropic_input_usage(const cJSON *usage, struct fe_completion *out, bool *has_input)
{
    long cache_read = fe_usage_tokens(usage, "cache_read_input_tokens", &out->has_cached);
    out->prompt_tokens = fe_usage_tokens(usage, "input_tokens", has_input) +
                         fe_usage_tokens(usage, "cache_creation_input_tokens", NULL) + cache_read;
    out->cached_tokens = cache_read;
}

/* One event of a streamed Message: message_start (id, model, input usage), content_block_start /
 * content_block_delta (text_delta) / content_block_stop, message_delta (stop_reason, cumulative
 * output usage), message_stop (the end), ping, and error. The JSON's "type" names the event. */
static enum fe_stream_step fe_anthropic_stream_event(struct fe_stream_acc *acc, const char *event,
                                                     const char *data, size_t len)
{
    cJSON *j = cJSON_ParseWithLength(data, len);
    const cJSON *type = cJSON_GetObjectItemCaseSensitive(j, "type");
    if (!cJSON_IsObject(j) || !cJSON_IsString(type)) {
        cJSON_Delete(j);
        return fe_stream_bad(acc, "a stream event (%s) is not a JSON object with a type", event);
    }
    const char *t = type->valuestring;
    enum fe_stream_step step = FE_STREAM_MORE;
    if (strcmp(t, "message_start") == 0) {
        const cJSON *m = cJSON_GetObjectItemCaseSensitive(j, "message");
        const cJSON *model = cJSON_GetObjectItemCaseSensitive(m, "model");
        const cJSON *id = cJSON_GetObjectItemCaseSensitive(m, "id");
        if (cJSON_IsString(model) && !acc->comp.model)
            acc->comp.model = fe_xstrdup(model->valuestring);
        if (cJSON_IsString(id) && !acc->comp.response_id)
            acc->comp.response_id = fe_xstrdup(id->valuestring);
        const cJSON *usage = cJSON_GetObjectItemCaseSensitive(m, "usage");
        if (cJSON_IsObject(usage))
            fe_anthropic_input_usage(usage, &acc->comp, &acc->has_prompt_usage);
    } else if (strcmp(t, "content_block_delta") == 0) {
        const cJSON *delta = cJSON_GetObjectItemCaseSensitive(j, "delta");
        const cJSON *dt = cJSON_GetObjectItemCaseSensitive(delta, "type");
        const cJSON *text = cJSON_GetObjectItemCaseSensitive(delta, "text");
        if (cJSON_IsString(dt) && strcmp(dt->valuestring, "text_delta") == 0 && cJSON_IsString(text) &&
            text->valuestring[0]) {
            fe_buf_adds(&acc->text, text->valuestring);
            step = FE_STREAM_CONTENT;
        }
    } else if (strcmp(t, "message_delta") == 0) {
        const cJSON *delta = cJSON_GetObjectItemCaseSensitive(j, "delta");
        const cJSON *sr = cJSON_GetObjectItemCaseSensitive(delta, "stop_reason");
        if (cJSON_IsString(sr)) {
            free(acc->comp.finish_reason);
            acc->comp.finish_reason = fe_xstrdup(fe_stop_reason(sr->valuestring));
        }
        const cJSON *usage = cJSON_GetObjectItemCaseSensitive(j, "usage");
        if (cJSON_GetObjectItemCaseSensitive(usage, "input_tokens")) /* newer servers repeat it here */
            fe_anthropic_input_usage(usage, &acc->comp, &acc->has_prompt_usage);
        bool has_output = false;
        long output = fe_usage_tokens(usage, "output_tokens", &has_output);
        if (has_output) { /* cumulative: the last one counts */
            acc->comp.completion_tokens = output;
            acc->comp.has_usage = acc->has_prompt_usage;
        }
    } else if (strcmp(t, "message_stop") == 0) {
        step = FE_STREAM_END;
    } else if (strcmp(t, "error") == 0) {
        step = fe_stream_error_event(acc, j, fe_anthropic_classify);
    } /* content_block_start/stop, ping and event types added later: ignored, as Anthropic asks */
    cJSON_Delete(j);
    return step;
}

const struct fe_provider_ops fe_provider_anthropic = {
    .name = "anthropic",
    .caps = FE_CAP_HTTP | FE_CAP_STREAM,
    .build_request = fe_anthropic_build,
    .parse_response = fe_anthropic_parse,
    .classify_error = fe_anthropic_classify,
    .parse_stream_event = fe_anthropic_stream_event,
};
