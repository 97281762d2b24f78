/* azure_openai.c — Azure OpenAI (and Azure AI Foundry) chat completions. Pure translation; no
 * I/O. The body and the answer are OpenAI's (fe_openai_chat_body / fe_openai_chat_parse, one
 * copy); what differs is absorbed here:
 * - the URL: conf->base_url is the resource endpoint ("https://NAME.openai.azure.com"), the
 *   arm's model is the deployment name. api_version "v1" selects the v1 API
 *   ({endpoint}/openai/v1/chat/completions, deployment in the body's "model"); any other value
 *   (a dated version such as "2024-10-21") the classic
 *   {endpoint}/openai/deployments/{deployment}/chat/completions?api-version={api_version};
 * - auth: the key (api_key_env) goes in the literal "api-key" header, or an Entra ID token
 *   (token_env) as "Authorization: Bearer"; never both (the config refuses it);
 * - content filtering: a 400 whose error code is "content_filter" (the prompt was filtered) is
 *   the platform's refusal, recorded as an answer with finish_reason "content_filter" and empty
 *   text (parse_refusal), and a 200 whose choices[0].content_filter_results has a category
 *   with "filtered": true is a content_filter finish whatever finish_reason says.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "harness/base/sigv4.h"
#include "harness/base/util.h"
#include "providers/provider.h"

static bool fe_azure_is_v1(const struct fe_provider_conf *conf)
{
    return conf->api_version && strcmp(conf->api_version, "v1") == 0;
}

static enum fe_status fe_azure_check(const struct fe_provider_conf *conf, struct fe_err *err)
{
    if (!conf->api_version || !*conf->api_version)
        return fe_err_set(err, FE_EINVALID, "api_version: missing (\"v1\" for /openai/v1, or a dated "
                          "version such as \"2024-10-21\" for /openai/deployments/...)");
    for (const char *p = conf->api_version; *p; p++)
        if (!(isalnum((unsigned char)*p) || *p == '-' || *p == '.'))
            return fe_err_set(err, FE_EINVALID, "api_version: '%s' is not a version", conf->api_version);
    const char *u = conf->base_url ? conf->base_url : "";
    if (strstr(u, "/openai") || strchr(u, '?'))
        return fe_err_set(err, FE_EINVALID, "endpoint '%s': give the resource root "
                          "(https://NAME.openai.azure.com); the provider adds /openai/...", u);
    return FE_OK;
}

static enum fe_status fe_azure_build(const struct fe_provider_conf *conf, const struct fe_chat_request *req,
                                     struct fe_http_request *out, struct fe_err *err)
{
    memset(out, 0, sizeof(*out));
    if (fe_azure_check(conf, err) != FE_OK)
        return FE_EINVALID;
    if (!req->model || !*req->model)
        return fe_err_set(err, FE_EINVALID, "azure_openai: the arm's model (the deployment name) is empty");
    if (fe_azure_is_v1(conf)) {
        out->url = fe_xasprintf("%s/openai/v1/chat/completions", conf->base_url);
    } else {
        char *dep = fe_sigv4_uri_encode(req->model, strlen(req->model), 0);
        out->url = fe_xasprintf("%s/openai/deployments/%s/chat/completions?api-version=%s", conf->base_url,
                                dep, conf->api_version);
        free(dep);
    }
    fe_http_request_add_header(out, "Content-Type: application/json");
    fe_http_request_add_header(out, "Accept: application/json");
    if (conf->api_key && *conf->api_key)
        fe_http_request_add_header(out, "api-key: %s", conf->api_key);
    else if (conf->bearer_token && *conf->bearer_token)
        fe_http_request_add_header(out, "Authorization: Bearer %s", conf->bearer_token);
    fe_http_request_add_conf_headers(out, conf);
    fe_http_request_set_body(out, fe_openai_chat_body(conf, req), conf, req);
    return FE_OK;
}

/* True when any category of choices[0].content_filter_results says "filtered": true. */
static bool fe_azure_filtered(const char *body, size_t len)
{
    cJSON *j = cJSON_ParseWithLength(body, len);
    const cJSON *choice = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(j, "choices"), 0);
    const cJSON *results = cJSON_GetObjectItemCaseSensitive(choice, "content_filter_results");
    if (!cJSON_IsObject(results))
        results = NULL;
    bool filtered = false;
    const cJSON *cat;
    cJSON_ArrayForEach(cat, results)
        filtered |= cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(cat, "filtered"));
    cJSON_Delete(j);
    return filtered;
}

static enum fe_status fe_azure_parse(const char *body, size_t len, struct fe_completion *out, struct fe_err *err)
{
    enum fe_status st = fe_openai_chat_parse(body, len, out, err);
    if (st == FE_OK && fe_azure_filtered(body, len)) {
        free(out->finish_reason);
        out->finish_reason = fe_xstrdup("content_filter");
    }
    return st;
}

/* The code of {"error": {"code": ...}} when it is "content_filter". */
static bool fe_azure_is_filter_error(const char *body, size_t len)
{
    if (!body || !len)
        return false;
    cJSON *j = cJSON_ParseWithLength(body, len);
    const cJSON *code = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(j, "error"), "code");
    bool yes = cJSON_IsString(code) && strcmp(code->valuestring, "content_filter") == 0;
    cJSON_Delete(j);
    return yes;
}

static bool fe_azure_refusal(long status, const char *body, size_t len, struct fe_completion *out)
{
    memset(out, 0, sizeof(*out));
    if (status != 400 || !fe_azure_is_filter_error(body, len))
        return false;
    out->text = fe_xstrdup("");
    out->finish_reason = fe_xstrdup("content_filter");
    return true;
}

const struct fe_provider_ops fe_provider_azure_openai = {
    .name = "azure_openai",
    .caps = FE_CAP_HTTP | FE_CAP_SEED | FE_CAP_STREAM,
    .build_request = fe_azure_build,
    .parse_response = fe_azure_parse,
    .classify_error = fe_classify_http_error, /* OpenAI's {"error": {code, message}} */
    .check_conf = fe_azure_check,
    .parse_refusal = fe_azure_refusal,
    .parse_stream_event = fe_openai_stream_event, /* the same chunks (a first one may carry only
                                                     prompt_filter_results, with empty choices) */
};
