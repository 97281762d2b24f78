/* sim_route.c — one request in, one response out: routing by method and path to the chat
 * model (sim_chat.c), /v1/models (sim_model.c), files (sim_files.c) and fine-tuning jobs
 * (sim_jobs.c); faults scoped to a path (--fault KIND:P@[METHOD:]/v1/PATH); and the request log
 * (one JSON line per request, never an Authorization value).
 */
#include "harness/sim/sim.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "harness/base/util.h"

/* Files and fine-tuning jobs. Returns true when the path belongs to them (rs filled). */
static bool fe_sim_files_route(struct fe_sim *s, const struct fe_sim_request *rq,
                               struct fe_sim_response *rs)
{
    bool get = strcmp(rq->method, "GET") == 0, post = strcmp(rq->method, "POST") == 0;
    const char *p = rq->path;
    if (strcmp(p, "/v1/files") == 0) {
        if (post)
            fe_sim_file_create(s, rq, rs);
        else if (get)
            fe_sim_file_list(s, rq, rs);
        else
            return false;
        return true;
    }
    if (strcmp(p, "/v1/fine_tuning/jobs") == 0) {
        if (post)
            fe_sim_job_create(s, rq, rs);
        else if (get)
            fe_sim_job_list(s, rq, rs);
        else
            return false;
        return true;
    }
    const char *rest = NULL;
    bool files = false;
    if (strncmp(p, "/v1/files/", 10) == 0) {
        rest = p + 10;
        files = true;
    } else if (strncmp(p, "/v1/fine_tuning/jobs/", 21) == 0) {
        rest = p + 21;
    }
    if (!rest || !rest[0])
        return false;
    const char *slash = strchr(rest, '/');
    char *id = fe_xstrndup(rest, slash ? (size_t)(slash - rest) : strlen(rest));
    const char *tail = slash ? slash : "";
    if (files)
        fe_sim_file_one(s, rq, id, tail, rs);
    else
        fe_sim_job_one(s, rq, id, tail, rs);
    free(id);
    return true;
}

/* ---- routing ---- */

void fe_sim_handle(struct fe_sim *s, const struct fe_sim_request *rq, struct fe_sim_response *rs)
{
    bool post = strcmp(rq->method, "POST") == 0, get = strcmp(rq->method, "GET") == 0;
    if (post && strcmp(rq->path, "/v1/chat/completions") == 0) {
        fe_sim_chat(s, rq, rs);
        return;
    }
    if (fe_sim_messages_route(s, rq, rs) || fe_sim_azure_route(s, rq, rs) || fe_sim_bedrock_route(s, rq, rs))
        return; /* Anthropic Messages, Azure OpenAI, Bedrock Converse (issue 15) */
    /* faults scoped to a path (--fault KIND:P@/v1/files): HTTP-level faults replace the answer
     * (nothing is created); transport faults hit after the request was carried out, which is
     * the ambiguous case a client must handle for non-idempotent creates */
    enum fe_sim_fault f = FE_SIM_FAULT_NONE;
    long attempt = 0;
    for (size_t i = 0; i < s->n_path_faults && f == FE_SIM_FAULT_NONE; i++) {
        const struct fe_sim_path_faults *pf = &s->path_faults[i];
        if (strncmp(rq->path, pf->prefix, strlen(pf->prefix)) != 0 ||
            (pf->method && strcmp(pf->method, rq->method) != 0))
            continue;
        if (!attempt)
            attempt = fe_sim_attempt(s, rq->method, rq->path);
        f = fe_sim_faults_pick(&pf->faults, NULL, attempt, &s->rng);
    }
    if (f == FE_SIM_FAULT_RATE_LIMIT || f == FE_SIM_FAULT_QUOTA || f == FE_SIM_FAULT_SERVER_ERROR ||
        f == FE_SIM_FAULT_UNAVAILABLE) {
        fe_sim_fault_respond(s, NULL, f, rs);
        rs->attempt = attempt;
        return;
    }
    if (get && (strcmp(rq->path, "/v1/models") == 0 || strncmp(rq->path, "/v1/models/", 11) == 0))
        fe_sim_models(s, rq, rs);
    else if (!fe_sim_batch_route(s, rq, rs) && !fe_sim_files_route(s, rq, rs)) /* sim_batch.c first */
        fe_sim_error(rs, 404, "invalid_request_error", NULL, NULL, "Invalid URL (%s %s)",
                     rq->method, rq->path);
    if (f != FE_SIM_FAULT_NONE) {
        if (f == FE_SIM_FAULT_MALFORMED) {
            fe_buf_reset(&rs->body);
            fe_buf_adds(&rs->body, "{\"object\":\"trunc");
            rs->status = 200;
        }
        rs->fault = f;
        rs->attempt = attempt;
    }
}

void fe_sim_log_request(struct fe_sim *s, const struct fe_sim_request *rq,
                        const struct fe_sim_response *rs)
{
    if (!s->log)
        return;
    char now[40];
    fe_utc_now(now, sizeof(now));
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "time", now);
    cJSON_AddStringToObject(o, "method", rq->method);
    cJSON_AddStringToObject(o, "path", rq->path);
    if (rq->query[0])
        cJSON_AddStringToObject(o, "query", rq->query);
    cJSON_AddBoolToObject(o, "auth", rq->auth);
    if (rs->model)
        cJSON_AddStringToObject(o, "model", rs->model);
    else
        cJSON_AddNullToObject(o, "model");
    if (rs->example)
        cJSON_AddStringToObject(o, "example", rs->example);
    else
        cJSON_AddNullToObject(o, "example");
    cJSON_AddNumberToObject(o, "attempt", (double)rs->attempt);
    cJSON_AddStringToObject(o, "fault", fe_sim_fault_name(rs->fault));
    cJSON_AddNumberToObject(o, "status",
                            rs->fault == FE_SIM_FAULT_RESET || rs->fault == FE_SIM_FAULT_CLOSE ||
                                    rs->fault == FE_SIM_FAULT_STALL
                                ? 0
                                : rs->status);
    cJSON_AddNumberToObject(o, "delay_ms", floor(rs->delay_ms * 1000 + 0.5) / 1000);
    cJSON *body = NULL;
    if (rq->body_len && (rq->body[0] == '{' || rq->body[0] == '['))
        body = cJSON_ParseWithLength(rq->body, rq->body_len);
    if (body) {
        cJSON_AddItemToObject(o, "body", body);
    } else if (rq->body_len) {
        size_t n = rq->body_len > 65536 ? 65536 : rq->body_len;
        n = fe_utf8_check(rq->body, n);
        char *text = fe_xstrndup(rq->body, n);
        for (size_t i = 0; i < n; i++)
            if (text[i] == '\0')
                text[i] = ' ';
        cJSON_AddStringToObject(o, "body", text);
        free(text);
        if (n < rq->body_len)
            cJSON_AddNumberToObject(o, "body_bytes", (double)rq->body_len);
    } else {
        cJSON_AddNullToObject(o, "body");
    }
    char *line = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    fputs(line, s->log);
    fputc('\n', s->log);
    fflush(s->log);
    free(line);
}
