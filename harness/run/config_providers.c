/* config_providers.c — the "providers" object of a run config (config_int.h): each named
 * provider's type (from the provider registry), base URL (base_url_env wins when set), API key
 * variable, headers, body extras and limits; and, once the arms are known, the API keys of the
 * providers they use, read from the environment and registered for log redaction (never
 * written anywhere). Errors name the JSON path, as everywhere in the loader.
 */
#include "harness/run/config.h"
#include "harness/run/config_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness/base/buf.h"
#include "harness/base/log.h"
#include "harness/base/util.h"

/* headers is a free-form map of header names to string values; a value that is not a string
 * would be dropped, and CR/LF or ':' would forge other headers. */
static enum fe_status fe_check_headers(struct fe_cfg *k, const cJSON *headers, const char *path)
{
    if (fe_check_unique(k, headers, path) != FE_OK)
        return FE_EINVALID;
    const cJSON *h;
    cJSON_ArrayForEach(h, headers) {
        char where[500];
        fe_member_path(where, sizeof(where), path, h->string);
        if (!*h->string || strpbrk(h->string, ":\r\n \t"))
            return fe_bad_at(k, h, where, "not a valid header name");
        if (!cJSON_IsString(h))
            return fe_bad_at(k, h, where, "must be a string");
        if (strpbrk(h->valuestring, "\r\n"))
            return fe_bad_at(k, h, where, "must not contain a line break");
    }
    return FE_OK;
}

/* providers.NAME.type: a type of the provider registry. */
static enum fe_status fe_provider_type(struct fe_cfg *k, const cJSON *p, const char *path,
                                       struct fe_provider_entry *e)
{
    char sub[400];
    snprintf(sub, sizeof(sub), "%s.type", path);
    if (fe_req_string(k, p, "type", sub, &e->conf.type) != FE_OK)
        return FE_EINVALID;
    e->ops = fe_provider_find(e->conf.type);
    if (!e->ops) {
        struct fe_buf known;
        fe_buf_init(&known, 0);
        for (size_t j = 0; fe_providers[j]; j++)
            fe_buf_addf(&known, "%s%s", j ? ", " : "", fe_providers[j]->name);
        fe_bad(k, sub, "unknown provider type '%s' (known: %s)", e->conf.type, fe_buf_str(&known));
        fe_buf_release(&known);
        return FE_EINVALID;
    }
    return FE_OK;
}

/* providers.NAME.base_url, or the variable base_url_env names when it is set: required by the
 * HTTP providers, kept without its trailing '/'. */
static enum fe_status fe_provider_url(struct fe_cfg *k, const cJSON *p, const char *path,
                                      struct fe_provider_entry *e)
{
    char sub[400];
    const char *s;
    snprintf(sub, sizeof(sub), "%s.base_url_env", path);
    const char *url_env;
    if (fe_opt_string(k, p, "base_url_env", sub, &url_env) != FE_OK)
        return FE_EINVALID;
    snprintf(sub, sizeof(sub), "%s.endpoint", path);
    const char *endpoint; /* the same URL under the name Azure and AWS give it */
    if (fe_opt_string(k, p, "endpoint", sub, &endpoint) != FE_OK)
        return FE_EINVALID;
    snprintf(sub, sizeof(sub), "%s.base_url", path);
    if (fe_opt_string(k, p, "base_url", sub, &s) != FE_OK)
        return FE_EINVALID;
    if (s && endpoint)
        return fe_bad(k, sub, "give base_url or endpoint, not both");
    if (endpoint) {
        s = endpoint;
        snprintf(sub, sizeof(sub), "%s.endpoint", path);
    }
    if (url_env && getenv(url_env) && *getenv(url_env)) /* e.g. a simulator on a free port */
        s = getenv(url_env);
    if (!(e->ops->caps & FE_CAP_HTTP))
        return FE_OK;
    if (!(s && *s) && (e->ops->caps & FE_CAP_AWS_SIGV4))
        return FE_OK; /* the provider derives the regional endpoint */
    if (!s || !*s)
        return fe_bad(k, sub, "missing");
    if (strncmp(s, "http://", 7) != 0 && strncmp(s, "https://", 8) != 0)
        return fe_bad(k, sub, "must start with http:// or https://");
    e->base_url = fe_xstrdup(s);
    size_t len = strlen(e->base_url);
    while (len && e->base_url[len - 1] == '/')
        e->base_url[--len] = '\0';
    e->conf.base_url = e->base_url;
    return FE_OK;
}

/* One provider, its keys in the order their errors are reported. */
static enum fe_status fe_load_provider(struct fe_cfg *k, const cJSON *p, struct fe_provider_entry *e)
{
    struct fe_config *c = k->c;
    char path[300];
    snprintf(path, sizeof(path), "providers.%s", p->string);
    e->conf.name = p->string;
    if (!cJSON_IsObject(p))
        return fe_bad_at(k, p, path, "must be an object");
    if (fe_check_keys(k, p, "providers.*", path) != FE_OK)
        return FE_EINVALID;
    if (fe_provider_type(k, p, path, e) != FE_OK || fe_provider_url(k, p, path, e) != FE_OK)
        return FE_EINVALID;
    char sub[400];
    const char *s;
    snprintf(sub, sizeof(sub), "%s.api_key_env", path);
    if (fe_opt_string(k, p, "api_key_env", sub, &s) != FE_OK)
        return FE_EINVALID;
    e->api_key_env = fe_xstrdup(s);
    snprintf(sub, sizeof(sub), "%s.token_env", path);
    if (fe_opt_string(k, p, "token_env", sub, &s) != FE_OK)
        return FE_EINVALID;
    if (s && e->api_key_env)
        return fe_bad(k, sub, "give api_key_env (an api-key header) or token_env (a bearer token), not both");
    e->token_env = fe_xstrdup(s);
    snprintf(sub, sizeof(sub), "%s.api_version", path);
    if (fe_opt_string(k, p, "api_version", sub, &e->conf.api_version) != FE_OK)
        return FE_EINVALID;
    snprintf(sub, sizeof(sub), "%s.region", path);
    if (fe_opt_string(k, p, "region", sub, &s) != FE_OK)
        return FE_EINVALID;
    if (!s && (e->ops->caps & FE_CAP_AWS_SIGV4))
        s = getenv("AWS_REGION");
    e->region = fe_xstrdup(s && *s ? s : NULL);
    e->conf.region = e->region;
    snprintf(sub, sizeof(sub), "%s.cap_field", path);
    if (fe_opt_string(k, p, "cap_field", sub, &e->conf.cap_field) != FE_OK)
        return FE_EINVALID;
    if (e->conf.cap_field && strcmp(e->conf.cap_field, "max_tokens") != 0 &&
        strcmp(e->conf.cap_field, "max_completion_tokens") != 0)
        return fe_bad(k, sub, "must be \"max_tokens\" or \"max_completion_tokens\"");
    snprintf(sub, sizeof(sub), "%s.anthropic_version", path);
    if (fe_opt_string(k, p, "anthropic_version", sub, &e->conf.anthropic_version) != FE_OK)
        return FE_EINVALID;
    snprintf(sub, sizeof(sub), "%s.path", path);
    if (fe_opt_string(k, p, "path", sub, &s) != FE_OK)
        return FE_EINVALID;
    if (s) {
        e->path = fe_path_relative_to(c->path, s);
        e->conf.path = e->path;
    } else if (e->ops->caps & FE_CAP_OFFLINE) {
        return fe_bad(k, sub, "missing (the recorded results to replay)");
    }
    snprintf(sub, sizeof(sub), "%s.headers", path);
    if (fe_opt_object(k, p, "headers", sub, &e->conf.headers) != FE_OK ||
        fe_check_headers(k, e->conf.headers, sub) != FE_OK)
        return FE_EINVALID;
    snprintf(sub, sizeof(sub), "%s.extra_body", path);
    if (fe_opt_object(k, p, "extra_body", sub, &e->conf.extra_body) != FE_OK ||
        fe_check_unique(k, e->conf.extra_body, sub) != FE_OK)
        return FE_EINVALID;
    double d = 0;
    snprintf(sub, sizeof(sub), "%s.rpm", path);
    if (fe_opt_number(k, p, "rpm", sub, 0, 1e9, &e->rpm, NULL) != FE_OK)
        return FE_EINVALID;
    snprintf(sub, sizeof(sub), "%s.tpm", path);
    if (fe_opt_number(k, p, "tpm", sub, 0, 1e12, &e->tpm, NULL) != FE_OK)
        return FE_EINVALID;
    snprintf(sub, sizeof(sub), "%s.concurrency", path);
    if (fe_opt_int(k, p, "concurrency", sub, 1, 100000, &d, NULL) != FE_OK)
        return FE_EINVALID;
    e->concurrency = (long)d;
    e->max_wait_s = 120;
    snprintf(sub, sizeof(sub), "%s.max_wait_s", path);
    if (fe_opt_number(k, p, "max_wait_s", sub, 0, 31536000, &e->max_wait_s, NULL) != FE_OK)
        return FE_EINVALID;
    if (fe_load_provider_batch(k, p, path, e) != FE_OK) /* config_batch.c */
        return FE_EINVALID;
    if (fe_load_provider_stream(k, p, e, path) != FE_OK)
        return FE_EINVALID;
    if (e->ops->check_conf) {
        struct fe_err cerr = {0};
        if (e->ops->check_conf(&e->conf, &cerr) != FE_OK)
            return fe_bad(k, path, "%s", cerr.msg);
    }
    return FE_OK;
}

enum fe_status fe_load_providers(struct fe_cfg *k, const cJSON *providers)
{
    struct fe_config *c = k->c;
    if (providers && !cJSON_IsNull(providers) && !cJSON_IsObject(providers))
        return fe_bad_at(k, providers, "providers", "must be an object of named providers");
    if (!cJSON_IsObject(providers) || !providers->child)
        return fe_bad(k, "providers", "missing (an object of named providers)");
    if (fe_check_unique(k, providers, "providers") != FE_OK)
        return FE_EINVALID;
    c->n_providers = (size_t)cJSON_GetArraySize(providers);
    c->providers = fe_xcalloc(c->n_providers, sizeof(*c->providers));
    size_t i = 0;
    const cJSON *p;
    cJSON_ArrayForEach(p, providers) {
        if (fe_load_provider(k, p, &c->providers[i++]) != FE_OK)
            return FE_EINVALID;
    }
    return FE_OK;
}

struct fe_provider_entry *fe_find_provider(struct fe_config *c, const char *name)
{
    for (size_t i = 0; i < c->n_providers; i++)
        if (strcmp(c->providers[i].conf.name, name) == 0)
            return &c->providers[i];
    return NULL;
}

/* Reads the secret in variable var for provider e (key_name: its config key, or NULL for a
 * variable of fixed name); *out stays NULL when optional and unset, or under FE_CONFIG_NO_KEYS.
 * Registered for log redaction. */
static enum fe_status fe_read_secret(struct fe_cfg *k, struct fe_provider_entry *e, const char *var,
                                     const char *key_name, bool required, char **out)
{
    struct fe_config *c = k->c;
    const char *key = getenv(var);
    if (!key || !*key) {
        if (!required)
            return FE_OK;
        if (k->flags & FE_CONFIG_NO_KEYS) {
            fe_warn("%s: providers.%s%s%s: environment variable %s is not set; a dry run does not need "
                    "it, a real run does", c->path, e->conf.name, key_name ? "." : "", key_name ? key_name : "", var);
            return FE_OK;
        }
        const char *arm = "";
        for (size_t a = 0; a < c->n_arms; a++)
            if (c->arms[a].provider == e) {
                arm = c->arms[a].name;
                break;
            }
        char path[300];
        snprintf(path, sizeof(path), "providers.%s%s%s", e->conf.name, key_name ? "." : "", key_name ? key_name : "");
        return fe_bad(k, path, "environment variable %s is not set (needed by arm '%s')", var, arm);
    }
    if (k->flags & FE_CONFIG_NO_KEYS)
        return FE_OK;
    *out = fe_xstrdup(key);
    fe_log_add_secret(key);
    return FE_OK;
}

/* Bearer tokens and AWS credentials of the providers in use. */
static enum fe_status fe_read_credentials(struct fe_cfg *k)
{
    struct fe_config *c = k->c;
    for (size_t i = 0; i < c->n_providers; i++) {
        struct fe_provider_entry *e = &c->providers[i];
        if (!e->used)
            continue;
        if (e->token_env) {
            if (fe_read_secret(k, e, e->token_env, "token_env", true, &e->bearer_token) != FE_OK)
                return FE_EINVALID;
            e->conf.bearer_token = e->bearer_token;
        }
        if (e->ops->caps & FE_CAP_AWS_SIGV4) {
            if (fe_read_secret(k, e, "AWS_ACCESS_KEY_ID", NULL, true, &e->aws_access_key_id) != FE_OK ||
                fe_read_secret(k, e, "AWS_SECRET_ACCESS_KEY", NULL, true, &e->aws_secret_access_key) != FE_OK ||
                fe_read_secret(k, e, "AWS_SESSION_TOKEN", NULL, false, &e->aws_session_token) != FE_OK)
                return FE_EINVALID;
            e->conf.aws_access_key_id = e->aws_access_key_id;
            e->conf.aws_secret_access_key = e->aws_secret_access_key;
            e->conf.aws_session_token = e->aws_session_token;
        }
    }
    return FE_OK;
}

enum fe_status fe_read_keys(struct fe_cfg *k)
{
    struct fe_config *c = k->c;
    if (fe_read_credentials(k) != FE_OK)
        return FE_EINVALID;
    for (size_t i = 0; i < c->n_providers; i++) {
        struct fe_provider_entry *e = &c->providers[i];
        if (!e->used || !e->api_key_env)
            continue;
        if (fe_read_secret(k, e, e->api_key_env, "api_key_env", true, &e->api_key) != FE_OK)
            return FE_EINVALID;
        e->conf.api_key = e->api_key;
    }
    return FE_OK;
}
