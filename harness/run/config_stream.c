/* config_stream.c — the streaming keys of the config (issue 15): "stream" and
 * "first_token_timeout_s" on a provider (what its arms inherit) and on an arm (its own), and the
 * refusal of a stream asked through extra_body, which the runner could not read (config_int.h). */
#include "harness/run/config.h"
#include "harness/run/config_int.h"

#include <stdio.h>

#include "harness/base/jsonout.h"

#define FE_FIRST_TOKEN_TIMEOUT_DEFAULT 60.0 /* seconds; never more than the arm's timeout_s */

/* extra_body {"stream": ...} would ask the server for events the runner reads as one JSON body. */
static enum fe_status fe_stream_in_extra_body(struct fe_cfg *k, const cJSON *extra_body, const char *path)
{
    const cJSON *v = fe_json_get(extra_body, "stream");
    if (!v)
        v = fe_json_get(extra_body, "stream_options");
    if (!v)
        return FE_OK;
    char body[300], where[400];
    fe_member_path(body, sizeof(body), path, "extra_body");
    fe_member_path(where, sizeof(where), body, v->string);
    return fe_bad_at(k, v, where, "streaming is not an extra_body field: set \"stream\": true on the arm or "
                     "its provider (the runner then reads the events and measures the time to first token)");
}

enum fe_status fe_load_provider_stream(struct fe_cfg *k, const cJSON *p, struct fe_provider_entry *e,
                                       const char *path)
{
    char sub[400];
    if (fe_stream_in_extra_body(k, e->conf.extra_body, path) != FE_OK)
        return FE_EINVALID;
    fe_member_path(sub, sizeof(sub), path, "stream");
    if (fe_opt_bool(k, p, "stream", sub, &e->stream) != FE_OK)
        return FE_EINVALID;
    if (e->stream && !(e->ops->caps & FE_CAP_STREAM))
        return fe_bad(k, sub, "provider type \"%s\" cannot stream", e->ops->name);
    fe_member_path(sub, sizeof(sub), path, "first_token_timeout_s");
    return fe_opt_number(k, p, "first_token_timeout_s", sub, 0.001, 86400, &e->first_token_timeout_s,
                         &e->has_first_token_timeout);
}

enum fe_status fe_load_arm_stream(struct fe_cfg *k, const cJSON *a, struct fe_arm_conf *arm, const char *path)
{
    char sub[400];
    if (fe_stream_in_extra_body(k, arm->extra_body, path) != FE_OK)
        return FE_EINVALID;
    const struct fe_provider_entry *e = arm->provider;
    arm->stream = e->stream;
    fe_member_path(sub, sizeof(sub), path, "stream");
    if (fe_opt_bool(k, a, "stream", sub, &arm->stream) != FE_OK)
        return FE_EINVALID;
    if (arm->stream && !(e->ops->caps & FE_CAP_STREAM))
        return fe_bad(k, sub, "provider \"%s\" (type \"%s\") cannot stream", e->conf.name, e->ops->name);
    arm->first_token_timeout_s = e->has_first_token_timeout ? e->first_token_timeout_s
                                 : arm->timeout_s < FE_FIRST_TOKEN_TIMEOUT_DEFAULT ? arm->timeout_s
                                                                                   : FE_FIRST_TOKEN_TIMEOUT_DEFAULT;
    fe_member_path(sub, sizeof(sub), path, "first_token_timeout_s");
    return fe_opt_number(k, a, "first_token_timeout_s", sub, 0.001, 86400, &arm->first_token_timeout_s, NULL);
}
