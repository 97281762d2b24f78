/* common.c — helpers shared by providers: request/answer lifetimes and the default error
 * classification (PROVIDER-APIS.md §1, §7, §8). */
#include "providers/provider.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness/base/buf.h"
#include "harness/base/jsonout.h"
#include "harness/base/util.h"

void fe_http_request_add_header(struct fe_http_request *r, const char *fmt, ...)
{
    struct fe_buf b;
    fe_buf_init(&b, 0);
    va_list ap;
    va_start(ap, fmt);
    fe_buf_vaddf(&b, fmt, ap);
    va_end(ap);
    r->headers = fe_xreallocarray(r->headers, r->n_headers + 1, sizeof(*r->headers));
    r->headers[r->n_headers++] = fe_buf_detach(&b, NULL);
}

void fe_http_request_release(struct fe_http_request *r)
{
    free(r->url);
    for (size_t i = 0; i < r->n_headers; i++)
        free(r->headers[i]);
    free(r->headers);
    free(r->body);
    memset(r, 0, sizeof(*r));
}

void fe_completion_release(struct fe_completion *c)
{
    free(c->text);
    free(c->finish_reason);
    free(c->model);
    free(c->response_id);
    memset(c, 0, sizeof(*c));
}

void fe_provider_error_release(struct fe_provider_error *e)
{
    free(e->message);
    free(e->code);
    free(e->type);
    memset(e, 0, sizeof(*e));
}

/* A JSON scalar as text: strings as is, numbers printed ("400"), anything else NULL. */
static char *fe_scalar_text(const cJSON *v)
{
    if (cJSON_IsString(v))
        return fe_xstrdup(v->valuestring);
    if (cJSON_IsNumber(v))
        return fe_xasprintf("%.0f", v->valuedouble);
    return NULL;
}

/* Parses the whole body as one JSON value, or returns NULL. cJSON stops after the first value,
 * so a plain-text "502 Bad Gateway" would otherwise parse as the number 502 and lose its text. */
static cJSON *fe_parse_whole(const char *body, size_t len)
{
    const char *end = NULL;
    cJSON *j = cJSON_ParseWithLengthOpts(body, len, &end, false);
    for (size_t at = j && end ? (size_t)(end - body) : len; at < len; at++) {
        if (!isspace((unsigned char)body[at])) {
            cJSON_Delete(j);
            return NULL;
        }
    }
    return j;
}

static bool fe_contains(const char *s, const char *needle)
{
    return s && strstr(s, needle) != NULL;
}

void fe_classify_http_error(long status, const char *body, size_t len, struct fe_provider_error *out)
{
    memset(out, 0, sizeof(*out));
    out->http_status = status;
    cJSON *j = body && len ? fe_parse_whole(body, len) : NULL;
    const cJSON *error = cJSON_GetObjectItemCaseSensitive(j, "error");
    if (cJSON_IsObject(error)) { /* OpenAI, newer vLLM, Anthropic */
        out->message = fe_scalar_text(cJSON_GetObjectItemCaseSensitive(error, "message"));
        out->type = fe_scalar_text(cJSON_GetObjectItemCaseSensitive(error, "type"));
        out->code = fe_scalar_text(cJSON_GetObjectItemCaseSensitive(error, "code"));
        const cJSON *details = cJSON_GetObjectItemCaseSensitive(error, "details");
        const cJSON *ec = cJSON_GetObjectItemCaseSensitive(details, "error_code");
        if (cJSON_IsString(ec) && !out->code)
            out->code = fe_xstrdup(ec->valuestring);
    } else if (cJSON_IsString(error)) { /* TGI */
        out->message = fe_xstrdup(error->valuestring);
        out->type = fe_scalar_text(cJSON_GetObjectItemCaseSensitive(j, "error_type"));
    } else if (j) { /* older vLLM: flat object */
        out->message = fe_scalar_text(cJSON_GetObjectItemCaseSensitive(j, "message"));
        out->type = fe_scalar_text(cJSON_GetObjectItemCaseSensitive(j, "type"));
        out->code = fe_scalar_text(cJSON_GetObjectItemCaseSensitive(j, "code"));
    }
    if (!out->message && body && len && !j) /* plain-text body: keep a bounded excerpt */
        out->message = fe_xstrndup(body, len < 300 ? len : 300);
    cJSON_Delete(j);

    bool quota = fe_contains(out->code, "insufficient_quota") ||
                 fe_contains(out->type, "insufficient_quota") ||
                 fe_contains(out->code, "enforced_spend_limit_reached") ||
                 fe_contains(out->code, "billing_hard_limit_reached");
    if (status == 429 && quota) {
        out->kind = FE_ERRK_QUOTA;
        out->stop_provider = true;
    } else if (status == 429) {
        out->kind = FE_ERRK_RATE_LIMIT;
        out->retryable = true;
    } else if (status == 402) {
        out->kind = FE_ERRK_QUOTA;
        out->stop_provider = true;
    } else if (status >= 500) {
        out->kind = FE_ERRK_SERVER;
        out->retryable = true;
    } else if (status == 408) {
        out->kind = FE_ERRK_TIMEOUT;
        out->retryable = true;
    } else if (status == 409) {
        out->kind = FE_ERRK_CONFLICT;
        out->retryable = true;
    } else if (status == 401 || status == 403) {
        out->kind = FE_ERRK_AUTH;
    } else if (status == 404) {
        out->kind = FE_ERRK_NOT_FOUND;
    } else if (status >= 400) {
        out->kind = FE_ERRK_BAD_REQUEST;
    } else {
        out->kind = FE_ERRK_HTTP;
    }
}

void fe_http_request_set_body(struct fe_http_request *out, cJSON *body, const struct fe_provider_conf *conf,
                              const struct fe_chat_request *req)
{
    fe_json_merge_object(body, conf->extra_body); /* config extras, then the arm's, win last */
    fe_json_merge_object(body, req->extra_body);
    char *text = cJSON_PrintUnformatted(body);
    cJSON_Delete(body);
    out->body = fe_xstrdup(text);
    out->body_len = strlen(text);
    cJSON_free(text);
}

long fe_usage_tokens(const cJSON *o, const char *name, bool *present)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
    bool valid = cJSON_IsNumber(v) && v->valuedouble >= 0; /* NaN fails too */
    if (present)
        *present = valid;
    if (!valid)
        return 0;
    /* bounded: converting a double beyond LONG_MAX ("1e300" from a bad server) is undefined */
    return v->valuedouble > 1e15 ? 1000000000000000L : (long)v->valuedouble;
}

void fe_http_request_add_conf_headers(struct fe_http_request *r, const struct fe_provider_conf *conf)
{
    const cJSON *h;
    cJSON_ArrayForEach(h, conf->headers) {
        if (cJSON_IsString(h))
            fe_http_request_add_header(r, "%s: %s", h->string, h->valuestring);
    }
}

static bool fe_is_system_role(const char *role)
{
    return strcmp(role, "system") == 0 || strcmp(role, "developer") == 0;
}

/* Appends text to b, separated from earlier text by a blank line. */
static void fe_join(struct fe_buf *b, bool *any, const char *text)
{
    if (*any)
        fe_buf_adds(b, "\n\n");
    fe_buf_adds(b, text ? text : "");
    *any = true;
}

enum fe_status fe_chat_turns(const struct fe_chat_request *req, const char *who, char **system,
                             struct fe_chat_turn **turns, size_t *n, struct fe_err *err)
{
    *system = NULL;
    *turns = NULL;
    *n = 0;
    for (size_t i = 0; i < req->n_messages; i++) {
        const char *role = req->messages[i].role;
        if (!role || !(fe_is_system_role(role) || strcmp(role, "user") == 0 ||
                       strcmp(role, "assistant") == 0))
            return fe_err_set(err, FE_EINVALID, "%s: messages[%zu]: unsupported role '%s'", who, i,
                              role ? role : "(null)");
    }
    struct fe_buf sys = {0};
    bool any_system = false;
    for (size_t i = 0; i < req->n_messages; i++)
        if (fe_is_system_role(req->messages[i].role))
            fe_join(&sys, &any_system, req->messages[i].content);
    if (any_system)
        *system = fe_buf_detach(&sys, NULL);
    fe_buf_release(&sys);

    *turns = fe_xcalloc(req->n_messages ? req->n_messages : 1, sizeof(**turns));
    struct fe_buf turn = {0};
    bool any_turn = false;
    const char *turn_role = NULL;
    for (size_t i = 0; i <= req->n_messages; i++) {
        const char *role = i < req->n_messages ? req->messages[i].role : NULL;
        if (role && fe_is_system_role(role))
            continue;
        if (turn_role && (!role || strcmp(role, turn_role) != 0)) { /* flush the open turn */
            (*turns)[*n].role = turn_role;
            (*turns)[(*n)++].text = fe_buf_detach(&turn, NULL);
            any_turn = false;
        }
        if (!role)
            break;
        turn_role = role;
        fe_join(&turn, &any_turn, req->messages[i].content);
    }
    fe_buf_release(&turn);
    return FE_OK;
}

void fe_chat_turns_free(char *system, struct fe_chat_turn *turns, size_t n)
{
    free(system);
    for (size_t i = 0; i < n; i++)
        free(turns[i].text);
    free(turns);
}

const char *fe_str_map(const struct fe_str_pair *map, size_t n, const char *key, const char *dflt)
{
    for (size_t i = 0; key && i < n; i++)
        if (strcmp(key, map[i].from) == 0)
            return map[i].to;
    return dflt;
}

/* ---- streamed answers ---- */

void fe_stream_acc_init(struct fe_stream_acc *acc)
{
    memset(acc, 0, sizeof(*acc));
    fe_buf_init(&acc->text, 0);
}

void fe_stream_acc_release(struct fe_stream_acc *acc)
{
    fe_buf_release(&acc->text);
    fe_completion_release(&acc->comp);
    fe_provider_error_release(&acc->error);
    memset(acc, 0, sizeof(*acc));
}

void fe_stream_acc_take(struct fe_stream_acc *acc, struct fe_completion *out)
{
    *out = acc->comp;
    memset(&acc->comp, 0, sizeof(acc->comp));
    out->text = fe_buf_detach(&acc->text, NULL);
    if (!out->text)
        out->text = fe_xstrdup("");
    if (!out->finish_reason)
        out->finish_reason = fe_xstrdup("other");
    if (out->has_cached && out->cached_tokens > out->prompt_tokens)
        out->cached_tokens = out->prompt_tokens;
}

enum fe_stream_step fe_stream_bad(struct fe_stream_acc *acc, const char *fmt, ...)
{
    if (!acc->bad[0]) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(acc->bad, sizeof(acc->bad), fmt, ap);
        va_end(ap);
    }
    return FE_STREAM_BAD;
}

enum fe_stream_step fe_stream_error_event(struct fe_stream_acc *acc, const cJSON *event_json,
                                          void (*classify)(long, const char *, size_t,
                                                           struct fe_provider_error *))
{
    static const struct fe_str_pair statuses[] = {
        {"rate_limit_error", "429"},      {"rate_limit_exceeded", "429"}, {"overloaded_error", "529"},
        {"invalid_request_error", "400"}, {"authentication_error", "401"}, {"permission_error", "403"},
        {"not_found_error", "404"},       {"request_too_large", "413"},
    };
    const cJSON *e = cJSON_GetObjectItemCaseSensitive(event_json, "error");
    const cJSON *type = cJSON_GetObjectItemCaseSensitive(e, "type");
    const char *status = fe_str_map(statuses, FE_ARRAY_LEN(statuses),
                                    cJSON_IsString(type) ? type->valuestring : NULL, "500");
    char *text = cJSON_PrintUnformatted(event_json);
    fe_provider_error_release(&acc->error);
    classify(strtol(status, NULL, 10), text, strlen(text), &acc->error);
    acc->error.http_status = 200; /* the stream itself was a 200; the error came inside it */
    cJSON_free(text);
    return FE_STREAM_ERROR;
}
