/* ft_client.h — OpenAI files and fine-tuning API client (PROVIDER-APIS §3, §4). Owner: ft.
 *
 * Used by `fteval ft` (harness/cli/cmd_ft.c) and by the run command to resolve fine-tuned models
 * and checkpoints (fe_ft_job_get, fe_ft_resolve_job, fe_ft_list_checkpoints; integrated by the
 * run owner), and by the cost module (fe_ft_parse_model_name: "ft:BASE:..." -> BASE).
 *
 * Two layers:
 * - session functions take a struct fe_http (http_client.h) so a command reuses one set of
 *   options (retries, timeouts);
 * - convenience functions take base_url and api_key and build a short-lived client.
 *
 * Conventions: every cJSON tree handed out is newly allocated, caller frees with cJSON_Delete.
 * Errors go to the caller's struct fe_err as "<what>: <detail>", e.g.
 * "create job: 400 invalid_request_error: invalid file (param training_file)"; the API key is
 * never part of any message. Servers are not trusted to fill every field: missing or
 * placeholder values (Prism's mock answers "string") are tolerated, not crashed on.
 *
 * Lists follow cursor pagination (after=<last id>, has_more); a cursor that repeats stops the
 * walk, so a server that always answers has_more=true cannot loop us forever.
 */
#ifndef FE_FT_CLIENT_H
#define FE_FT_CLIENT_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

#include "harness/base/err.h"
#include "harness/net/http_client.h"

/* Metadata key that tags jobs created by fteval (dedupe of retried creates). */
#define FE_FT_CLIENT_ID_KEY "fteval_client_id"

/* ---- model names ------------------------------------------------------------------------- */

/* A parsed fine-tuned model name: ft:BASE:ORG:SUFFIX:ID[:ckpt-step-N]. */
struct fe_ft_model_name {
    char base[256];
    char org[128];
    char suffix[128];
    char id[128];
    long ckpt_step; /* -1 unless a checkpoint name */
};

/* Parses name. Returns true and fills out for "ft:BASE:ORG:SUFFIX:ID" (SUFFIX and ORG may be
 * empty, BASE and ID may not) and "ft:BASE:ORG:SUFFIX:ID:ckpt-step-N" (N decimal, >= 0). Returns
 * false (out zeroed, ckpt_step -1) for anything else, including fields too long for out. */
bool fe_ft_parse_model_name(const char *name, struct fe_ft_model_name *out);

/* ---- job status -------------------------------------------------------------------------- */

enum fe_ft_state {
    FE_FT_PENDING, /* validating_files, queued, running (and any unknown status) */
    FE_FT_SUCCEEDED,
    FE_FT_FAILED,
    FE_FT_CANCELLED,
};

/* Maps a job status string. Unknown statuses (e.g. "paused") are FE_FT_PENDING with *known set
 * to false (known may be NULL), so pollers keep waiting and can log them. */
enum fe_ft_state fe_ft_status_state(const char *status, bool *known);

/* "/fine_tuning/jobs/<escaped job_id><tail>" (tail e.g. "/events?limit=20"). Caller frees. */
char *fe_ft_job_path(const char *job_id, const char *tail);

/* ---- session API (struct fe_http) ---------------------------------------------------------- */

/* POST /files (multipart: file, purpose). Returns the file object in *file. Not retried when the
 * outcome is ambiguous (an upload may have happened): the error says so. */
enum fe_status fe_ft_file_upload(struct fe_http *h, const char *path, const char *purpose,
                                 cJSON **file, struct fe_err *err);

/* Create parameters; NULL / unset fields are left out of the request. Hyperparameter strings
 * are "auto" or a number (validated by the caller). */
struct fe_ft_create_params {
    const char *model;         /* required */
    const char *training_file; /* required */
    const char *validation_file;
    const char *suffix;
    const char *method; /* "supervised" (default) or "dpo" */
    const char *n_epochs;
    const char *batch_size;
    const char *learning_rate_multiplier;
    const char *beta; /* dpo only */
    long seed;        /* used when has_seed */
    bool has_seed;
    const char *client_id; /* metadata fteval_client_id; NULL: generated */
};

/* Builds the POST /fine_tuning/jobs body (method: {type, TYPE: {hyperparameters}}, metadata
 * with the client id). Returns a new tree. Pure: no I/O (unit-testable). */
cJSON *fe_ft_create_body(const struct fe_ft_create_params *p, const char *client_id);

/* Returns a new random client id "fteval-<16 hex>" (caller frees). */
char *fe_ft_new_client_id(void);

/* Creates a job without duplicating it: each attempt is sent once; after an ambiguous failure
 * (timeout or reset after sending, 5xx) the jobs tagged metadata[fteval_client_id]=ID are
 * listed first and an existing one is returned instead of creating another (*deduped = true;
 * deduped may be NULL). Safe failures (connect refused, 408, 409, 429) are retried as usual.
 * On FE_OK *job is the job object. */
enum fe_status fe_ft_job_create(struct fe_http *h, const struct fe_ft_create_params *p, cJSON **job,
                                bool *deduped, struct fe_err *err);

/* Finds the newest job whose metadata carries FE_FT_CLIENT_ID_KEY = client_id (filtered by the
 * server and checked again here). FE_OK with *job NULL when there is none. */
enum fe_status fe_ft_job_find_by_client_id(struct fe_http *h, const char *client_id, cJSON **job,
                                           struct fe_err *err);

/* GET /fine_tuning/jobs/{id}; POST /fine_tuning/jobs/{id}/cancel. */
enum fe_status fe_ft_job_retrieve(struct fe_http *h, const char *job_id, cJSON **job,
                                  struct fe_err *err);
enum fe_status fe_ft_job_cancel(struct fe_http *h, const char *job_id, cJSON **job,
                                struct fe_err *err);

/* Walks a paginated list at path (may already hold a '?query'); page size page_limit (1..100),
 * stops after max_items items (0: no limit; at most 100000) or when has_more is false. *items
 * is a new array of the collected objects in server order; *has_more (may be NULL) tells whether
 * the server had more. what prefixes errors. */
enum fe_status fe_ft_list_paged(struct fe_http *h, const char *path, int page_limit,
                                size_t max_items, const char *what, cJSON **items, bool *has_more,
                                struct fe_err *err);

/* ---- convenience API for other modules (base_url + api_key) -------------------------------- */

/* GET the job object. */
enum fe_status fe_ft_job_get(const char *base_url, const char *api_key, const char *job_id,
                             cJSON **job, struct fe_err *err);

struct fe_ft_job_info {
    char id[128];
    char status[64];
    char model[256];            /* base model */
    char fine_tuned_model[256]; /* "" unless succeeded */
    long long trained_tokens;   /* -1 when the server did not say */
};

/* Fills out from a job object (pure). FE_EPROVIDER when id or status is missing. */
enum fe_status fe_ft_job_info_from_json(const cJSON *job, struct fe_ft_job_info *out,
                                        struct fe_err *err);

/* Fetches the job and fills out. FE_EINVALID ("fine-tuning job 'ID' has status 'running', not
 * succeeded") when the job has not succeeded or names no fine_tuned_model; out is filled even
 * then so callers can report the status. */
enum fe_status fe_ft_resolve_job(const char *base_url, const char *api_key, const char *job_id,
                                 struct fe_ft_job_info *out, struct fe_err *err);

struct fe_ft_checkpoint {
    char *model; /* fine_tuned_model_checkpoint, e.g. "ft:...:ckpt-step-88" */
    long step;   /* step_number */
};

/* Lists every checkpoint of a job, sorted by step ascending. *out is a new array of *n entries;
 * free with fe_ft_checkpoints_free (also on error: *out NULL, *n 0). */
enum fe_status fe_ft_list_checkpoints(const char *base_url, const char *api_key, const char *job_id,
                                      struct fe_ft_checkpoint **out, size_t *n, struct fe_err *err);
void fe_ft_checkpoints_free(struct fe_ft_checkpoint *cps, size_t n);

/* Session variant of fe_ft_list_checkpoints. */
enum fe_status fe_ft_checkpoints_get(struct fe_http *h, const char *job_id,
                                     struct fe_ft_checkpoint **out, size_t *n, struct fe_err *err);

#endif
