/* sim_azure.c — the Azure OpenAI paths of the simulator, answered by the chat model (sim_chat.c):
 *   POST /openai/deployments/{deployment}/chat/completions?api-version=VERSION (classic: the
 *        deployment is the path segment; api-version required)
 *   POST /openai/v1/chat/completions (v1: the deployment is the body's "model")
 * Checks what Azure checks: an "api-key" header or an Authorization (Entra ID bearer) header
 * (401 otherwise), the api-version query parameter on the classic path (400 otherwise). Errors
 * are Azure's {"error": {"code", "message"}}; answers are OpenAI's chat.completion (and its
 * stream) as the chat model gives them.
 */
#include "harness/sim/sim.h"

#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "harness/base/util.h"

static void fe_sim_azure_error(struct fe_sim_response *rs, int status, const char *code, const char *msg)
{
    cJSON *o = cJSON_CreateObject();
    cJSON *e = cJSON_AddObjectToObject(o, "error");
    cJSON_AddStringToObject(e, "code", code);
    cJSON_AddStringToObject(e, "message", msg);
    fe_sim_reply_json(rs, status, o);
}

bool fe_sim_azure_route(struct fe_sim *s, const struct fe_sim_request *rq, struct fe_sim_response *rs)
{
    static const char classic[] = "/openai/deployments/", tail[] = "/chat/completions";
    const char *p = rq->path;
    bool v1 = strcmp(p, "/openai/v1/chat/completions") == 0;
    size_t n = strlen(p), nc = sizeof(classic) - 1, nt = sizeof(tail) - 1;
    bool dep = !v1 && n > nc + nt && strncmp(p, classic, nc) == 0 && strcmp(p + n - nt, tail) == 0 &&
               !memchr(p + nc, '/', n - nc - nt);
    if (!v1 && !dep)
        return false;
    if (strcmp(rq->method, "POST") != 0) {
        fe_sim_azure_error(rs, 405, "MethodNotAllowed", "only POST is supported here");
        return true;
    }
    if (!rq->api_key && !rq->auth) {
        fe_sim_azure_error(rs, 401, "401",
                           "Access denied due to invalid subscription key or wrong API endpoint. Make sure to "
                           "provide a valid key for an active subscription and use a correct regional API "
                           "endpoint for your resource.");
        return true;
    }
    char *version = fe_sim_query_get(rq->query, "api-version");
    if (dep && (!version || !version[0])) {
        free(version);
        fe_sim_azure_error(rs, 400, "MissingApiVersionParameter",
                           "The api-version query parameter (?api-version=) is required for all requests.");
        return true;
    }
    free(version);
    cJSON *req = cJSON_ParseWithLength(rq->body, rq->body_len);
    if (!cJSON_IsObject(req)) {
        cJSON_Delete(req);
        fe_sim_azure_error(rs, 400, "BadRequest", "the request body is not a JSON object");
        return true;
    }
    if (dep) { /* the deployment answers, whatever "model" says */
        char *d = fe_sim_urldecode(p + nc, n - nc - nt);
        cJSON_DeleteItemFromObjectCaseSensitive(req, "model");
        cJSON_AddStringToObject(req, "model", d);
        free(d);
    }
    fe_sim_chat_as(s, rq, req, rs);
    cJSON_Delete(req);
    return true;
}
