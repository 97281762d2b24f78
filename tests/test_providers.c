/* test_providers.c — the HTTP providers against fixture JSON (tests as data), and the registry.
 *
 * For each provider in tests/fixtures/providers/<name>/:
 *   build.json     conf + request -> expected URL, headers (in order) and body (parsed JSON,
 *                  compared with cJSON_Compare so key order and number spelling do not matter)
 *   parse.json     2xx body -> expected completion fields, or {"ok": false} (FE_EPROVIDER)
 *   classify.json  status + error body -> expected kind, retryable, stop_provider, fields
 * Bodies given as "body" are sent as their unformatted JSON, "body_text" verbatim; either way
 * they are copied into an exact-size buffer without a terminating NUL, so an over-read shows
 * up under AddressSanitizer. Fields absent from "want" are not checked; null means NULL.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness/base/util.h"
#include "providers/provider.h"
#include "tests/t.h"

static const char *t_case; /* current fixture case, printed with failures */
static int t_cases;        /* fixture cases run */
#define T_FIXTURE_CASES 151 /* cases in tests/fixtures/providers/{openai,anthropic,azure_openai,bedrock}/ */

static void t_fail(const char *what, const char *got, const char *want)
{
    t_failed++;
    fprintf(stderr, "case \"%s\": %s: got %s%s%s, want %s%s%s\n", t_case, what, got ? "\"" : "",
            got ? got : "NULL", got ? "\"" : "", want ? "\"" : "", want ? want : "NULL",
            want ? "\"" : "");
}

static void t_str(const char *what, const char *got, const char *want)
{
    bool same = (!got && !want) || (got && want && strcmp(got, want) == 0);
    if (same)
        t_passed++;
    else
        t_fail(what, got, want);
}

static void t_long(const char *what, long got, long want)
{
    if (got == want) {
        t_passed++;
        return;
    }
    char g[32], w[32];
    snprintf(g, sizeof(g), "%ld", got);
    snprintf(w, sizeof(w), "%ld", want);
    t_fail(what, g, w);
}

static void t_bool(const char *what, bool got, bool want)
{
    if (got == want)
        t_passed++;
    else
        t_fail(what, got ? "true" : "false", want ? "true" : "false");
}

/* Checks a string field when want has it: a string to compare, or null for NULL. */
static void t_opt_str(const cJSON *want, const char *field, const char *got)
{
    const cJSON *w = cJSON_GetObjectItemCaseSensitive(want, field);
    if (!w)
        return;
    t_str(field, got, cJSON_IsString(w) ? w->valuestring : NULL);
}

static void t_opt_long(const cJSON *want, const char *field, long got)
{
    const cJSON *w = cJSON_GetObjectItemCaseSensitive(want, field);
    if (cJSON_IsNumber(w))
        t_long(field, got, (long)w->valuedouble);
}

static void t_opt_bool(const cJSON *want, const char *field, bool got)
{
    const cJSON *w = cJSON_GetObjectItemCaseSensitive(want, field);
    if (cJSON_IsBool(w))
        t_bool(field, got, cJSON_IsTrue(w));
}

static const char *t_get_str(const cJSON *o, const char *field)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, field);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static cJSON *t_load_fixture(const char *provider, const char *file)
{
    const char *src = getenv("FTEVAL_SRC");
    char *path = fe_xasprintf("%s/tests/fixtures/providers/%s/%s", src, provider, file);
    size_t len;
    char *text = fe_read_file(path, 0, &len);
    cJSON *j = text ? cJSON_ParseWithLength(text, len) : NULL;
    if (!j) {
        fprintf(stderr, "%s: cannot read or parse the fixture\n", path);
        t_failed++;
    }
    const cJSON *cases = cJSON_GetObjectItemCaseSensitive(j, "cases");
    if (j && (!cJSON_IsArray(cases) || cJSON_GetArraySize(cases) == 0)) {
        fprintf(stderr, "%s: no \"cases\" array (or an empty one)\n", path);
        t_failed++;
    }
    free(text);
    free(path);
    return j;
}

/* The case's body as an exact-size, unterminated heap copy (caller frees). */
static char *t_case_body(const cJSON *c, size_t *len)
{
    const cJSON *raw = cJSON_GetObjectItemCaseSensitive(c, "body_text");
    char *printed = NULL;
    const char *text;
    if (cJSON_IsString(raw)) {
        text = raw->valuestring;
    } else {
        printed = cJSON_PrintUnformatted(cJSON_GetObjectItemCaseSensitive(c, "body"));
        text = printed ? printed : "";
    }
    *len = strlen(text);
    char *copy = fe_xmalloc(*len ? *len : 1);
    memcpy(copy, text, *len);
    cJSON_free(printed);
    return copy;
}

static void t_conf_from_json(const cJSON *j, struct fe_provider_conf *conf)
{
    memset(conf, 0, sizeof(*conf));
    conf->name = "test";
    conf->type = t_get_str(j, "type");
    conf->base_url = t_get_str(j, "base_url");
    conf->api_key = t_get_str(j, "api_key");
    conf->cap_field = t_get_str(j, "cap_field");
    conf->path = t_get_str(j, "path");
    conf->anthropic_version = t_get_str(j, "anthropic_version");
    conf->api_version = t_get_str(j, "api_version");
    conf->bearer_token = t_get_str(j, "bearer_token");
    conf->region = t_get_str(j, "region");
    conf->aws_access_key_id = t_get_str(j, "aws_access_key_id");
    conf->aws_secret_access_key = t_get_str(j, "aws_secret_access_key");
    conf->aws_session_token = t_get_str(j, "aws_session_token");
    conf->headers = cJSON_GetObjectItemCaseSensitive(j, "headers");
    conf->extra_body = cJSON_GetObjectItemCaseSensitive(j, "extra_body");
}

/* Fills req from JSON; messages are allocated (caller frees *msgs), strings borrowed. */
static void t_req_from_json(const cJSON *j, struct fe_chat_request *req, struct fe_message **msgs)
{
    memset(req, 0, sizeof(*req));
    req->arm = t_get_str(j, "arm");
    req->example_id = t_get_str(j, "example_id");
    req->model = t_get_str(j, "model");
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(j, "messages");
    size_t n = (size_t)cJSON_GetArraySize(m);
    *msgs = fe_xcalloc(n ? n : 1, sizeof(**msgs));
    size_t i = 0;
    const cJSON *it;
    cJSON_ArrayForEach(it, m) {
        (*msgs)[i].role = cJSON_GetObjectItemCaseSensitive(it, "role")->valuestring;
        (*msgs)[i].content = cJSON_GetObjectItemCaseSensitive(it, "content")->valuestring;
        i++;
    }
    req->messages = *msgs;
    req->n_messages = n;
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(j, "temperature");
    req->has_temperature = cJSON_IsNumber(t);
    req->temperature = req->has_temperature ? t->valuedouble : 0;
    const cJSON *mt = cJSON_GetObjectItemCaseSensitive(j, "max_tokens");
    req->max_tokens = cJSON_IsNumber(mt) ? (long)mt->valuedouble : 0;
    const cJSON *seed = cJSON_GetObjectItemCaseSensitive(j, "seed");
    req->has_seed = cJSON_IsNumber(seed);
    req->seed = req->has_seed ? (long)seed->valuedouble : 0;
    req->extra_body = cJSON_GetObjectItemCaseSensitive(j, "extra_body");
    const cJSON *now = cJSON_GetObjectItemCaseSensitive(j, "now_unix");
    req->now_unix = cJSON_IsNumber(now) ? (long long)now->valuedouble : 0;
    req->stream = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(j, "stream"));
}

static void t_build_cases(const struct fe_provider_ops *ops)
{
    cJSON *fx = t_load_fixture(ops->name, "build.json");
    const cJSON *c;
    cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(fx, "cases")) {
        t_case = t_get_str(c, "name");
        t_cases++;
        struct fe_provider_conf conf;
        struct fe_chat_request req;
        struct fe_message *msgs;
        t_conf_from_json(cJSON_GetObjectItemCaseSensitive(c, "conf"), &conf);
        t_req_from_json(cJSON_GetObjectItemCaseSensitive(c, "request"), &req, &msgs);
        const cJSON *want = cJSON_GetObjectItemCaseSensitive(c, "want");
        struct fe_http_request out;
        struct fe_err err = {0};
        enum fe_status st = ops->build_request(&conf, &req, &out, &err);
        if (t_get_str(want, "error")) {
            t_str("status", fe_strerror(st), fe_strerror(FE_EINVALID));
            t_bool("error message set", err.msg[0] != '\0', true);
        } else if (st != FE_OK) {
            t_fail("build_request", err.msg, "FE_OK");
        } else {
            t_str("url", out.url, t_get_str(want, "url"));
            const cJSON *wh = cJSON_GetObjectItemCaseSensitive(want, "headers");
            t_long("number of headers", (long)out.n_headers, cJSON_GetArraySize(wh));
            for (size_t i = 0; i < out.n_headers && i < (size_t)cJSON_GetArraySize(wh); i++)
                t_str("header", out.headers[i], cJSON_GetArrayItem(wh, (int)i)->valuestring);
            t_long("body_len", (long)out.body_len, (long)strlen(out.body));
            t_bool("body is unformatted", strchr(out.body, '\n') == NULL, true);
            cJSON *got = cJSON_ParseWithLength(out.body, out.body_len);
            const cJSON *wb = cJSON_GetObjectItemCaseSensitive(want, "body");
            if (cJSON_Compare(got, wb, true)) {
                t_passed++;
            } else {
                char *w = cJSON_PrintUnformatted(wb);
                t_fail("body", out.body, w);
                cJSON_free(w);
            }
            cJSON_Delete(got);
        }
        fe_http_request_release(&out);
        free(msgs);
    }
    cJSON_Delete(fx);
}

static void t_parse_cases(const struct fe_provider_ops *ops)
{
    cJSON *fx = t_load_fixture(ops->name, "parse.json");
    const cJSON *c;
    cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(fx, "cases")) {
        t_case = t_get_str(c, "name");
        t_cases++;
        size_t len;
        char *body = t_case_body(c, &len);
        const cJSON *want = cJSON_GetObjectItemCaseSensitive(c, "want");
        struct fe_completion out;
        struct fe_err err = {0};
        enum fe_status st = ops->parse_response(body, len, &out, &err);
        if (!cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(want, "ok"))) {
            t_str("status", fe_strerror(st), fe_strerror(FE_EPROVIDER));
            t_bool("error message set", err.msg[0] != '\0', true);
        } else if (st != FE_OK) {
            t_fail("parse_response", err.msg, "FE_OK");
        } else {
            t_bool("text is never NULL", out.text != NULL, true);
            t_bool("finish_reason is never NULL", out.finish_reason != NULL, true);
            t_opt_str(want, "text", out.text);
            t_opt_str(want, "finish_reason", out.finish_reason);
            t_opt_str(want, "model", out.model);
            t_opt_str(want, "response_id", out.response_id);
            t_opt_bool(want, "has_usage", out.has_usage);
            t_opt_long(want, "prompt_tokens", out.prompt_tokens);
            t_opt_long(want, "completion_tokens", out.completion_tokens);
            t_opt_bool(want, "has_cached", out.has_cached);
            t_opt_long(want, "cached_tokens", out.cached_tokens);
        }
        fe_completion_release(&out);
        free(body);
    }
    cJSON_Delete(fx);
}

static void t_classify_cases(const struct fe_provider_ops *ops)
{
    cJSON *fx = t_load_fixture(ops->name, "classify.json");
    const cJSON *c;
    cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(fx, "cases")) {
        t_case = t_get_str(c, "name");
        t_cases++;
        size_t len;
        char *body = t_case_body(c, &len);
        const cJSON *want = cJSON_GetObjectItemCaseSensitive(c, "want");
        long status = (long)cJSON_GetObjectItemCaseSensitive(c, "status")->valuedouble;
        struct fe_provider_error out;
        const char *etype = t_get_str(c, "error_type"); /* the x-amzn-errortype header */
        if (etype || ops->classify_error_typed)
            T_CHECK(ops->classify_error_typed != NULL);
        if (ops->classify_error_typed)
            ops->classify_error_typed(status, etype, body, len, &out);
        else
            ops->classify_error(status, body, len, &out);
        if (ops->classify_error_typed && !etype) { /* without a header both hooks agree */
            struct fe_provider_error plain;
            ops->classify_error(status, body, len, &plain);
            t_str("classify_error == classify_error_typed(NULL)", plain.kind, out.kind);
            fe_provider_error_release(&plain);
        }
        /* a refusal answer instead of an error (Azure's content filter) */
        const cJSON *wr = cJSON_GetObjectItemCaseSensitive(want, "refusal");
        if (cJSON_IsBool(wr) || ops->parse_refusal) {
            struct fe_completion comp;
            bool refused = ops->parse_refusal && ops->parse_refusal(status, body, len, &comp);
            t_bool("refusal", refused, cJSON_IsTrue(wr));
            if (refused) {
                t_str("refusal text", comp.text, "");
                t_str("refusal finish_reason", comp.finish_reason, "content_filter");
                t_bool("refusal has no usage", comp.has_usage, false);
            }
            fe_completion_release(&comp);
        }
        t_long("http_status", out.http_status, status);
        t_opt_str(want, "kind", out.kind);
        t_opt_bool(want, "retryable", out.retryable);
        t_opt_bool(want, "stop_provider", out.stop_provider);
        t_opt_str(want, "message", out.message);
        t_opt_str(want, "code", out.code);
        t_opt_str(want, "type", out.type);
        t_bool("never both retryable and stop_provider", out.retryable && out.stop_provider, false);
        fe_provider_error_release(&out);
        free(body);
    }
    cJSON_Delete(fx);
}

/* Plain-text bodies are kept as a bounded excerpt, never the whole page. */
static void t_long_text_body(void)
{
    t_case = "long plain-text body is cut to an excerpt";
    size_t len = 5000;
    char *body = fe_xmalloc(len);
    memset(body, 'x', len);
    struct fe_provider_error out;
    fe_classify_http_error(502, body, len, &out);
    T_CHECK(out.message && strlen(out.message) == 300);
    T_CHECK(out.retryable);
    fe_provider_error_release(&out);
    free(body);
}

/* bedrock's sign_request (the runner calls it before every attempt): a request built at one
 * time and signed again later carries one X-Amz-Date and one Authorization, both new, and the
 * same signature as a request built at the later time. */
static void t_bedrock_resign(void)
{
    t_case = "bedrock sign_request re-signs in place";
    struct fe_message m = {.role = "user", .content = "Hi"};
    struct fe_provider_conf conf = {.name = "t", .type = "bedrock", .region = "us-east-1",
                                    .aws_access_key_id = "AKID", .aws_secret_access_key = "secret",
                                    .aws_session_token = "tok"};
    struct fe_chat_request req = {.model = "amazon.nova-micro-v1:0", .messages = &m, .n_messages = 1,
                                  .max_tokens = 8, .now_unix = 1764460800LL};
    struct fe_http_request a, b;
    struct fe_err err = {0};
    T_CHECK(fe_provider_bedrock.build_request(&conf, &req, &a, &err) == FE_OK);
    req.now_unix += 600;
    T_CHECK(fe_provider_bedrock.build_request(&conf, &req, &b, &err) == FE_OK);
    size_t n = a.n_headers;
    T_CHECK(fe_provider_bedrock.sign_request(&conf, req.now_unix, &a, &err) == FE_OK);
    T_CHECK(a.n_headers == n && b.n_headers == n);
    for (size_t i = 0; i < n && a.n_headers == b.n_headers; i++)
        T_CHECK_STR(a.headers[i], b.headers[i]);
    int dates = 0, auths = 0;
    for (size_t i = 0; i < a.n_headers; i++) {
        dates += strncmp(a.headers[i], "X-Amz-Date: 20251130T001000Z", 28) == 0;
        auths += strncmp(a.headers[i], "Authorization: AWS4-HMAC-SHA256 ", 32) == 0;
    }
    T_CHECK(dates == 1 && auths == 1);
    T_CHECK(fe_provider_bedrock.sign_request(&conf, 0, &a, &err) == FE_EINVALID); /* no time: refused */
    fe_http_request_release(&a);
    fe_http_request_release(&b);
}

static void t_registry(void)
{
    size_t n = 0;
    for (; fe_providers[n]; n++) {
        const struct fe_provider_ops *p = fe_providers[n];
        T_CHECK(p->name && *p->name);
        for (size_t k = 0; k < n; k++)
            T_CHECK(strcmp(fe_providers[k]->name, p->name) != 0);
        bool http = p->caps & FE_CAP_HTTP, offline = p->caps & FE_CAP_OFFLINE;
        T_CHECK(http != offline); /* exactly one way of answering */
        if (http)
            T_CHECK(p->build_request && p->parse_response && p->classify_error);
        if (offline)
            T_CHECK(p->offline_open && p->offline_complete && p->offline_close);
        T_CHECK(fe_provider_find(p->name) == p);
    }
    T_CHECK(n >= 3);
    T_CHECK(fe_provider_find("openai") == &fe_provider_openai);
    T_CHECK(fe_provider_find("anthropic") == &fe_provider_anthropic);
    T_CHECK(fe_provider_find("replay") == &fe_provider_replay);
    T_CHECK(fe_provider_find("azure_openai") == &fe_provider_azure_openai);
    T_CHECK(fe_provider_find("bedrock") == &fe_provider_bedrock);
    T_CHECK(fe_provider_bedrock.caps == (FE_CAP_HTTP | FE_CAP_AWS_SIGV4 | FE_CAP_STREAM | FE_CAP_EVENTSTREAM)); /* no seed in Converse */
    T_CHECK(fe_provider_azure_openai.check_conf && fe_provider_bedrock.check_conf);
    T_CHECK(fe_provider_find("no-such-provider") == NULL);
    T_CHECK(fe_provider_anthropic.caps == (FE_CAP_HTTP | FE_CAP_STREAM)); /* no seed, no files */
    /* every provider that streams translates events, and only those */
    for (size_t i = 0; fe_providers[i]; i++)
        T_CHECK(!(fe_providers[i]->caps & FE_CAP_STREAM) == !fe_providers[i]->parse_stream_event);
    T_CHECK(fe_provider_replay.caps & FE_CAP_OFFLINE);
}

int main(void)
{
    if (!getenv("FTEVAL_SRC"))
        T_SKIP("FTEVAL_SRC (run through ctest)");
    const struct fe_provider_ops *http[] = {&fe_provider_openai, &fe_provider_anthropic,
                                            &fe_provider_azure_openai, &fe_provider_bedrock};
    for (size_t i = 0; i < FE_ARRAY_LEN(http); i++) {
        t_build_cases(http[i]);
        t_parse_cases(http[i]);
        t_classify_cases(http[i]);
    }
    t_long_text_body();
    t_bedrock_resign();
    t_registry();
    /* every case of every fixture file ran: a renamed key or a dropped file loses cases
     * silently otherwise (update when adding cases) */
    printf("%d fixture cases\n", t_cases);
    if (t_cases != T_FIXTURE_CASES)
        fprintf(stderr, "ran %d fixture cases, want %d\n", t_cases, T_FIXTURE_CASES);
    T_CHECK(t_cases == T_FIXTURE_CASES);
    return T_DONE();
}
