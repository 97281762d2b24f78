/* sim_jobs.c — in-memory /v1/fine_tuning/jobs in OpenAI's shapes (PROVIDER-APIS.md §4): create
 * (checks, method and hyperparameters, the fine-tuned model's name), list (metadata filters),
 * retrieve, cancel, events and checkpoints; and the models of succeeded jobs for /v1/models
 * and chat completions.
 *
 * A job's status is a pure function of the time since it was created (no timers): each
 * --ft-step-s seconds it moves validating_files → queued → running (3 steps) → succeeded, or to
 * failed after validation when the training file has an invalid line. Cancelling freezes it.
 * Everything is lost when the server stops.
 */
#include "harness/base/tokens.h"
#include "harness/sim/sim.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "harness/base/util.h"

#define FE_SIM_RUN_STEPS 3 /* status steps spent "running" */

struct fe_sim_job {
    char *id;
    char *model; /* base model as requested */
    char *training_file;
    char *validation_file;
    char *suffix;
    char *fine_tuned_model; /* set at creation, shown once succeeded */
    char *fail_msg;         /* validation failure, or NULL */
    cJSON *metadata;        /* object or NULL */
    cJSON *method;          /* resolved method object */
    long seed;
    long n_epochs, batch_size;
    double lr_multiplier;
    long n_examples;
    long tokens_per_epoch;
    long created_at;
    double t_created; /* fe_now() */
    bool cancelled;
    long cancelled_at;
};

/* ---- fine-tuning jobs ---- */

static const char *fe_sim_job_status(const struct fe_sim *s, const struct fe_sim_job *j,
                                     long *stage_out)
{
    double step = s->opt.ft_step_s;
    long stage = step <= 0 ? 1000 : (long)floor((fe_now() - j->t_created) / step);
    if (stage_out)
        *stage_out = stage;
    if (j->cancelled)
        return "cancelled";
    if (stage <= 0)
        return "validating_files";
    if (j->fail_msg)
        return "failed";
    if (stage == 1)
        return "queued";
    if (stage < 2 + FE_SIM_RUN_STEPS)
        return "running";
    return "succeeded";
}

static long fe_sim_job_time(const struct fe_sim *s, const struct fe_sim_job *j, long stage)
{
    return j->created_at + (long)ceil((double)stage * s->opt.ft_step_s);
}

static long fe_sim_job_total_steps(const struct fe_sim_job *j)
{
    long per_epoch = (j->n_examples + j->batch_size - 1) / j->batch_size;
    if (per_epoch < 1)
        per_epoch = 1;
    return per_epoch * j->n_epochs;
}

static cJSON *fe_sim_job_json(const struct fe_sim *s, const struct fe_sim_job *j)
{
    long stage;
    const char *status = fe_sim_job_status(s, j, &stage);
    bool ok = strcmp(status, "succeeded") == 0, failed = strcmp(status, "failed") == 0;
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "id", j->id);
    cJSON_AddStringToObject(o, "object", "fine_tuning.job");
    cJSON_AddNumberToObject(o, "created_at", (double)j->created_at);
    if (ok)
        cJSON_AddNumberToObject(o, "finished_at",
                                (double)fe_sim_job_time(s, j, 2 + FE_SIM_RUN_STEPS));
    else if (failed)
        cJSON_AddNumberToObject(o, "finished_at", (double)fe_sim_job_time(s, j, 1));
    else if (j->cancelled)
        cJSON_AddNumberToObject(o, "finished_at", (double)j->cancelled_at);
    else
        cJSON_AddNullToObject(o, "finished_at");
    cJSON_AddStringToObject(o, "model", j->model);
    if (ok)
        cJSON_AddStringToObject(o, "fine_tuned_model", j->fine_tuned_model);
    else
        cJSON_AddNullToObject(o, "fine_tuned_model");
    cJSON_AddStringToObject(o, "organization_id", "org-fteval-sim");
    cJSON_AddStringToObject(o, "status", status);
    if (failed) {
        cJSON *e = cJSON_AddObjectToObject(o, "error");
        cJSON_AddStringToObject(e, "code", "invalid_training_file");
        cJSON_AddStringToObject(e, "message", j->fail_msg);
        cJSON_AddStringToObject(e, "param", "training_file");
    } else {
        cJSON_AddNullToObject(o, "error");
    }
    cJSON *hp = cJSON_AddObjectToObject(o, "hyperparameters");
    cJSON_AddNumberToObject(hp, "n_epochs", (double)j->n_epochs);
    cJSON_AddNumberToObject(hp, "batch_size", (double)j->batch_size);
    cJSON_AddNumberToObject(hp, "learning_rate_multiplier", j->lr_multiplier);
    cJSON_AddItemToObject(o, "method", cJSON_Duplicate(j->method, 1));
    if (ok)
        cJSON_AddNumberToObject(o, "trained_tokens", (double)(j->tokens_per_epoch * j->n_epochs));
    else
        cJSON_AddNullToObject(o, "trained_tokens");
    cJSON_AddStringToObject(o, "training_file", j->training_file);
    if (j->validation_file)
        cJSON_AddStringToObject(o, "validation_file", j->validation_file);
    else
        cJSON_AddNullToObject(o, "validation_file");
    cJSON *rf = cJSON_AddArrayToObject(o, "result_files");
    (void)rf;
    cJSON_AddNumberToObject(o, "seed", (double)j->seed);
    if (!ok && !failed && !j->cancelled)
        cJSON_AddNumberToObject(o, "estimated_finish",
                                (double)fe_sim_job_time(s, j, 2 + FE_SIM_RUN_STEPS));
    else
        cJSON_AddNullToObject(o, "estimated_finish");
    cJSON_AddArrayToObject(o, "integrations");
    if (j->metadata)
        cJSON_AddItemToObject(o, "metadata", cJSON_Duplicate(j->metadata, 1));
    else
        cJSON_AddNullToObject(o, "metadata");
    return o;
}

static struct fe_sim_job *fe_sim_job_find(struct fe_sim *s, const char *id)
{
    for (size_t i = 0; i < s->store.n_jobs; i++)
        if (strcmp(s->store.jobs[i]->id, id) == 0)
            return s->store.jobs[i];
    return NULL;
}

static void fe_sim_job_free(struct fe_sim_job *j)
{
    if (!j)
        return;
    free(j->id);
    free(j->model);
    free(j->training_file);
    free(j->validation_file);
    free(j->suffix);
    free(j->fine_tuned_model);
    free(j->fail_msg);
    cJSON_Delete(j->metadata);
    cJSON_Delete(j->method);
    free(j);
}

/* Counts examples and estimates tokens per epoch; returns a failure message for a bad line. */
static char *fe_sim_scan_training(const struct fe_sim_file *f, long *n_examples, long *tokens)
{
    *n_examples = 0;
    *tokens = 0;
    size_t line = 0;
    for (const char *p = f->data; p < f->data + f->bytes;) {
        const char *nl = memchr(p, '\n', (size_t)(f->data + f->bytes - p));
        size_t len = nl ? (size_t)(nl - p) : (size_t)(f->data + f->bytes - p);
        line++;
        const char *next = nl ? nl + 1 : f->data + f->bytes;
        bool blank = true;
        for (size_t i = 0; i < len && blank; i++)
            blank = p[i] == ' ' || p[i] == '\t' || p[i] == '\r';
        if (blank) {
            p = next;
            continue;
        }
        cJSON *o = cJSON_ParseWithLength(p, len);
        const cJSON *msgs = cJSON_GetObjectItemCaseSensitive(o, "messages");
        if (!msgs) {
            const cJSON *input = cJSON_GetObjectItemCaseSensitive(o, "input");
            msgs = cJSON_GetObjectItemCaseSensitive(input, "messages");
        }
        if (!cJSON_IsArray(msgs)) {
            cJSON_Delete(o);
            return fe_xasprintf(
                "The training file has an invalid example on line %zu: expected a JSON "
                "object with 'messages'.",
                line);
        }
        const cJSON *m;
        cJSON_ArrayForEach(m, msgs)
        {
            const cJSON *c = cJSON_GetObjectItemCaseSensitive(m, "content");
            *tokens += FE_TOKENS_PER_MESSAGE +
                       (cJSON_IsString(c) ? fe_estimate_tokens(c->valuestring) : 0);
        }
        *tokens += FE_TOKENS_REPLY_PRIMER;
        (*n_examples)++;
        cJSON_Delete(o);
        p = next;
    }
    if (*n_examples == 0)
        return fe_xstrdup("The training file is empty.");
    return NULL;
}

/* Reads an "auto" | number hyperparameter. Returns false when invalid. */
static bool fe_sim_hp(const cJSON *hp, const char *key, double lo, double hi, double def,
                      double *out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(hp, key);
    *out = def;
    if (!v || cJSON_IsNull(v) || (cJSON_IsString(v) && strcmp(v->valuestring, "auto") == 0))
        return true;
    if (!cJSON_IsNumber(v) || v->valuedouble < lo || v->valuedouble > hi)
        return false;
    *out = v->valuedouble;
    return true;
}

/* The checks of POST /v1/fine_tuning/jobs on everything but the method and hyperparameters, in
 * the order OpenAI reports them. Returns the training file, or NULL with rs filled with the 400.
 * Sets rs->model once the model is known. */
static const struct fe_sim_file *fe_sim_job_check(struct fe_sim *s, const cJSON *req,
                                                  struct fe_sim_response *rs)
{
    const cJSON *model = cJSON_GetObjectItemCaseSensitive(req, "model");
    const cJSON *tf = cJSON_GetObjectItemCaseSensitive(req, "training_file");
    const cJSON *vf = cJSON_GetObjectItemCaseSensitive(req, "validation_file");
    const cJSON *suffix = cJSON_GetObjectItemCaseSensitive(req, "suffix");
    const cJSON *seed = cJSON_GetObjectItemCaseSensitive(req, "seed");
    const cJSON *metadata = cJSON_GetObjectItemCaseSensitive(req, "metadata");
    if (!cJSON_IsString(model) || !model->valuestring[0]) {
        fe_sim_error(rs, 400, "invalid_request_error", "model", "missing_required_parameter",
                     "Missing required parameter: 'model'.");
        return NULL;
    }
    rs->model = fe_xstrdup(model->valuestring);
    if (!cJSON_IsString(tf)) {
        fe_sim_error(rs, 400, "invalid_request_error", "training_file",
                     "missing_required_parameter", "Missing required parameter: 'training_file'.");
        return NULL;
    }
    const struct fe_sim_file *train = fe_sim_file_find(s, tf->valuestring, NULL);
    if (!train) {
        fe_sim_error(rs, 400, "invalid_request_error", "training_file", "invalid_training_file",
                     "invalid training_file: %s", tf->valuestring);
        return NULL;
    }
    if (strcmp(train->purpose, "fine-tune") != 0) {
        fe_sim_error(rs, 400, "invalid_request_error", "training_file", "invalid_training_file",
                     "File %s has purpose '%s', expected 'fine-tune'.", train->id, train->purpose);
        return NULL;
    }
    if (vf && !cJSON_IsNull(vf) &&
        (!cJSON_IsString(vf) || !fe_sim_file_find(s, vf->valuestring, NULL))) {
        fe_sim_error(rs, 400, "invalid_request_error", "validation_file", "invalid_validation_file",
                     "invalid validation_file: %s",
                     cJSON_IsString(vf) ? vf->valuestring : "(not a string)");
        return NULL;
    }
    if (suffix && !cJSON_IsNull(suffix) &&
        (!cJSON_IsString(suffix) || !suffix->valuestring[0] || strlen(suffix->valuestring) > 64)) {
        fe_sim_error(rs, 400, "invalid_request_error", "suffix", "invalid_value",
                     "Invalid value for 'suffix': expected a string of 1 to 64 characters.");
        return NULL;
    }
    if (seed && !cJSON_IsNull(seed) &&
        (!cJSON_IsNumber(seed) || seed->valuedouble < 0 || seed->valuedouble > 2147483647.0)) {
        fe_sim_error(rs, 400, "invalid_request_error", "seed", "invalid_value",
                     "Invalid value for 'seed': expected an integer in [0, 2147483647].");
        return NULL;
    }
    if (metadata && !cJSON_IsNull(metadata)) {
        bool ok = cJSON_IsObject(metadata) && cJSON_GetArraySize(metadata) <= 16;
        for (const cJSON *c = ok ? metadata->child : NULL; c; c = c->next)
            ok &= cJSON_IsString(c);
        if (!ok) {
            fe_sim_error(rs, 400, "invalid_request_error", "metadata", "invalid_value",
                         "Invalid value for 'metadata': at most 16 string values.");
            return NULL;
        }
    }
    return train;
}

/* method.type: "supervised" (also when absent), "dpo" or "reinforcement". Returns NULL with rs
 * filled with the 400 otherwise. */
static const char *fe_sim_job_method_type(const cJSON *method, struct fe_sim_response *rs)
{
    if (!method || cJSON_IsNull(method))
        return "supervised";
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(method, "type");
    if (!cJSON_IsObject(method) || !cJSON_IsString(t) ||
        (strcmp(t->valuestring, "supervised") && strcmp(t->valuestring, "dpo") &&
         strcmp(t->valuestring, "reinforcement"))) {
        fe_sim_error(rs, 400, "invalid_request_error", "method.type", "invalid_value",
                     "Invalid value for 'method.type': supervised, dpo or reinforcement.");
        return NULL;
    }
    return t->valuestring;
}

/* The hyperparameters (method.TYPE.hyperparameters, else the legacy top-level object) onto j,
 * "auto" resolved as OpenAI does. Returns false when one is out of range. */
static bool fe_sim_job_hparams(const cJSON *req, const cJSON *method, const char *mtype,
                               struct fe_sim_job *j)
{
    const cJSON *hp = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(method, mtype), "hyperparameters");
    if (!hp)
        hp = cJSON_GetObjectItemCaseSensitive(req, "hyperparameters");
    double epochs, bs, lr;
    long auto_bs = j->n_examples / 100;
    auto_bs = auto_bs < 1 ? 1 : auto_bs > 256 ? 256 : auto_bs;
    if (!fe_sim_hp(hp, "n_epochs", 1, 50, 3, &epochs) ||
        !fe_sim_hp(hp, "batch_size", 1, 256, (double)auto_bs, &bs) ||
        !fe_sim_hp(hp, "learning_rate_multiplier", 1e-9, 1e6, 1.8, &lr))
        return false;
    j->n_epochs = (long)epochs;
    j->batch_size = (long)bs;
    j->lr_multiplier = lr;
    return true;
}

/* ft:BASE:org:suffix:id — BASE is the snapshot even when fine-tuning a fine-tuned model. */
static char *fe_sim_job_model_name(const struct fe_sim_job *j)
{
    char *base = fe_xstrdup(j->model);
    if (strncmp(base, "ft:", 3) == 0) {
        char *colon = strchr(base + 3, ':');
        if (colon)
            *colon = '\0';
        memmove(base, base + 3, strlen(base + 3) + 1);
    }
    size_t idlen = strlen(j->id);
    char *name = fe_xasprintf("ft:%s:fteval-sim:%s:%s", base, j->suffix ? j->suffix : "",
                              j->id + (idlen > 8 ? idlen - 8 : 0));
    free(base);
    return name;
}

void fe_sim_job_create(struct fe_sim *s, const struct fe_sim_request *rq,
                       struct fe_sim_response *rs)
{
    cJSON *req = cJSON_ParseWithLength(rq->body, rq->body_len);
    if (!cJSON_IsObject(req)) {
        fe_sim_error(rs, 400, "invalid_request_error", NULL, NULL,
                     "We could not parse the JSON body of your request.");
        goto done;
    }
    const struct fe_sim_file *train = fe_sim_job_check(s, req, rs);
    if (!train)
        goto done;
    const cJSON *method = cJSON_GetObjectItemCaseSensitive(req, "method");
    const char *mtype = fe_sim_job_method_type(method, rs);
    if (!mtype)
        goto done;
    struct fe_sim_job *j = fe_xcalloc(1, sizeof(*j));
    j->fail_msg = fe_sim_scan_training(train, &j->n_examples, &j->tokens_per_epoch);
    if (!fe_sim_job_hparams(req, method, mtype, j)) {
        fe_sim_error(rs, 400, "invalid_request_error", "hyperparameters", "invalid_value",
                     "Invalid hyperparameters: n_epochs 1..50, batch_size 1..256, "
                     "learning_rate_multiplier > 0, or \"auto\".");
        fe_sim_job_free(j);
        goto done;
    }
    const cJSON *vf = cJSON_GetObjectItemCaseSensitive(req, "validation_file");
    const cJSON *suffix = cJSON_GetObjectItemCaseSensitive(req, "suffix");
    const cJSON *seed = cJSON_GetObjectItemCaseSensitive(req, "seed");
    const cJSON *metadata = cJSON_GetObjectItemCaseSensitive(req, "metadata");
    j->id = fe_sim_new_id(s, "ftjob-", 24);
    j->model = fe_xstrdup(cJSON_GetObjectItemCaseSensitive(req, "model")->valuestring);
    j->training_file = fe_xstrdup(train->id);
    j->validation_file = cJSON_IsString(vf) ? fe_xstrdup(vf->valuestring) : NULL;
    j->suffix = cJSON_IsString(suffix) ? fe_xstrdup(suffix->valuestring) : NULL;
    j->seed = cJSON_IsNumber(seed) ? (long)seed->valuedouble
                                   : (long)(fe_sim_hash_str(s->opt.seed, j->id) % 2147483647ULL);
    j->metadata = cJSON_IsObject(metadata) ? cJSON_Duplicate(metadata, 1) : NULL;
    j->method = cJSON_CreateObject();
    cJSON_AddStringToObject(j->method, "type", mtype);
    cJSON *mh =
        cJSON_AddObjectToObject(cJSON_AddObjectToObject(j->method, mtype), "hyperparameters");
    cJSON_AddNumberToObject(mh, "n_epochs", (double)j->n_epochs);
    cJSON_AddNumberToObject(mh, "batch_size", (double)j->batch_size);
    cJSON_AddNumberToObject(mh, "learning_rate_multiplier", j->lr_multiplier);
    j->fine_tuned_model = fe_sim_job_model_name(j);
    j->created_at = fe_sim_unix_now();
    j->t_created = fe_now();
    s->store.jobs = fe_xreallocarray(s->store.jobs, s->store.n_jobs + 1, sizeof(*s->store.jobs));
    s->store.jobs[s->store.n_jobs++] = j;
    fe_sim_reply_json(rs, 200, fe_sim_job_json(s, j));
done:
    cJSON_Delete(req);
}

/* Does the job's metadata match every metadata[k]=v of the query? */
static bool fe_sim_job_meta_match(const struct fe_sim_job *j, const char *query)
{
    bool ok = true;
    for (const char *p = query; ok && p && *p;) {
        const char *amp = strchr(p, '&');
        size_t len = amp ? (size_t)(amp - p) : strlen(p);
        const char *eq = memchr(p, '=', len);
        size_t klen = eq ? (size_t)(eq - p) : len;
        char *key = fe_sim_urldecode(p, klen);
        size_t n = strlen(key);
        if (strncmp(key, "metadata[", 9) == 0 && n > 10 && key[n - 1] == ']') {
            key[n - 1] = '\0';
            char *want = eq ? fe_sim_urldecode(eq + 1, len - klen - 1) : fe_xstrdup("");
            const cJSON *have = cJSON_GetObjectItemCaseSensitive(j->metadata, key + 9);
            ok = cJSON_IsString(have) && strcmp(have->valuestring, want) == 0;
            free(want);
        }
        free(key);
        p = amp ? amp + 1 : NULL;
    }
    return ok;
}

void fe_sim_job_list(struct fe_sim *s, const struct fe_sim_request *rq, struct fe_sim_response *rs)
{
    char *after = fe_sim_query_get(rq->query, "after");
    long limit = fe_sim_limit(rq->query, 20, 100);
    cJSON *out = cJSON_CreateObject();
    cJSON_AddStringToObject(out, "object", "list");
    cJSON *data = cJSON_AddArrayToObject(out, "data");
    bool started = !after, more = false;
    long n = 0;
    for (size_t k = s->store.n_jobs; k-- > 0;) {
        const struct fe_sim_job *j = s->store.jobs[k];
        if (!started) {
            started = strcmp(j->id, after) == 0;
            continue;
        }
        if (!fe_sim_job_meta_match(j, rq->query))
            continue;
        if (n == limit) {
            more = true;
            break;
        }
        cJSON_AddItemToArray(data, fe_sim_job_json(s, j));
        n++;
    }
    cJSON_AddBoolToObject(out, "has_more", more);
    fe_sim_reply_json(rs, 200, out);
    free(after);
}

static cJSON *fe_sim_event(const struct fe_sim_job *j, size_t i, long at, const char *level,
                           const char *type, const char *msg)
{
    cJSON *e = cJSON_CreateObject();
    char *id = fe_xasprintf("ftevent-%s-%03zu", j->id + 6, i);
    cJSON_AddStringToObject(e, "object", "fine_tuning.job.event");
    cJSON_AddStringToObject(e, "id", id);
    free(id);
    cJSON_AddNumberToObject(e, "created_at", (double)at);
    cJSON_AddStringToObject(e, "level", level);
    cJSON_AddStringToObject(e, "message", msg);
    cJSON_AddStringToObject(e, "type", type);
    cJSON_AddObjectToObject(e, "data");
    return e;
}

static double fe_sim_loss(const struct fe_sim_job *j, long step)
{
    double total = (double)fe_sim_job_total_steps(j);
    double jitter = (fe_sim_unit(fe_sim_hash_str((uint64_t)step, j->id)) - 0.5) * 0.05;
    return 0.15 + 1.6 * exp(-4.0 * (double)step / total) + jitter;
}

static void fe_sim_job_events(struct fe_sim *s, const struct fe_sim_request *rq,
                              const struct fe_sim_job *j, struct fe_sim_response *rs)
{
    long stage;
    const char *status = fe_sim_job_status(s, j, &stage);
    cJSON *all = cJSON_CreateArray(); /* oldest first, reversed below */
    size_t i = 0;
    char msg[512];
    snprintf(msg, sizeof(msg), "Created fine-tuning job: %s", j->id);
    cJSON_AddItemToArray(all, fe_sim_event(j, i++, j->created_at, "info", "message", msg));
    snprintf(msg, sizeof(msg), "Validating training file: %s", j->training_file);
    cJSON_AddItemToArray(all, fe_sim_event(j, i++, j->created_at, "info", "message", msg));
    long total = fe_sim_job_total_steps(j);
    if (strcmp(status, "failed") == 0) {
        cJSON_AddItemToArray(
            all, fe_sim_event(j, i++, fe_sim_job_time(s, j, 1), "error", "message", j->fail_msg));
    } else {
        if (stage >= 1 && !(j->cancelled && j->cancelled_at < fe_sim_job_time(s, j, 1)))
            cJSON_AddItemToArray(all,
                                 fe_sim_event(j, i++, fe_sim_job_time(s, j, 1), "info", "message",
                                              "Files validated, moving job to queued state"));
        if (stage >= 2 && !(j->cancelled && j->cancelled_at < fe_sim_job_time(s, j, 2)))
            cJSON_AddItemToArray(all, fe_sim_event(j, i++, fe_sim_job_time(s, j, 2), "info",
                                                   "message", "Fine-tuning job started"));
        for (long r = 1; r <= FE_SIM_RUN_STEPS; r++) {
            if (stage < 2 + r || (j->cancelled && j->cancelled_at < fe_sim_job_time(s, j, 2 + r)))
                break;
            long step = total * r / FE_SIM_RUN_STEPS;
            if (step < 1)
                step = 1;
            snprintf(msg, sizeof(msg), "Step %ld/%ld: training loss=%.4f", step, total,
                     fe_sim_loss(j, step));
            cJSON *e = fe_sim_event(j, i++, fe_sim_job_time(s, j, 2 + r), "info", "metrics", msg);
            cJSON *d = cJSON_GetObjectItemCaseSensitive(e, "data");
            cJSON_AddNumberToObject(d, "step", (double)step);
            cJSON_AddNumberToObject(d, "train_loss", fe_sim_loss(j, step));
            cJSON_AddNumberToObject(d, "total_steps", (double)total);
            cJSON_AddItemToArray(all, e);
        }
        if (strcmp(status, "succeeded") == 0) {
            long at = fe_sim_job_time(s, j, 2 + FE_SIM_RUN_STEPS);
            snprintf(msg, sizeof(msg), "New fine-tuned model created: %s", j->fine_tuned_model);
            cJSON_AddItemToArray(all, fe_sim_event(j, i++, at, "info", "message", msg));
            cJSON_AddItemToArray(all, fe_sim_event(j, i++, at, "info", "message",
                                                   "The job has successfully completed"));
        } else if (j->cancelled) {
            cJSON_AddItemToArray(all, fe_sim_event(j, i++, j->cancelled_at, "info", "message",
                                                   "Fine-tuning job cancelled"));
        }
    }
    char *after = fe_sim_query_get(rq->query, "after");
    long limit = fe_sim_limit(rq->query, 20, 1000);
    cJSON *out = cJSON_CreateObject();
    cJSON_AddStringToObject(out, "object", "list");
    cJSON *data = cJSON_AddArrayToObject(out, "data");
    bool started = !after, more = false;
    long n = 0;
    for (int k = cJSON_GetArraySize(all); k-- > 0;) {
        cJSON *e = cJSON_GetArrayItem(all, k);
        if (!started) {
            started = strcmp(cJSON_GetObjectItemCaseSensitive(e, "id")->valuestring, after) == 0;
            continue;
        }
        if (n == limit) {
            more = true;
            break;
        }
        cJSON_AddItemToArray(data, cJSON_Duplicate(e, 1));
        n++;
    }
    cJSON_AddBoolToObject(out, "has_more", more);
    cJSON_Delete(all);
    free(after);
    fe_sim_reply_json(rs, 200, out);
}

/* Checkpoints at the end of each of the last (up to) three epochs, once the job succeeded. */
static long fe_sim_job_checkpoints(const struct fe_sim_job *j, long steps[3])
{
    long total = fe_sim_job_total_steps(j), per_epoch = total / j->n_epochs, n = 0;
    for (long e = j->n_epochs > 3 ? j->n_epochs - 2 : 1; e <= j->n_epochs; e++)
        steps[n++] = per_epoch * e;
    return n;
}

static void fe_sim_job_checkpoint_list(struct fe_sim *s, const struct fe_sim_request *rq,
                                       const struct fe_sim_job *j, struct fe_sim_response *rs)
{
    char *after = fe_sim_query_get(rq->query, "after");
    long limit = fe_sim_limit(rq->query, 10, 100);
    cJSON *out = cJSON_CreateObject();
    cJSON_AddStringToObject(out, "object", "list");
    cJSON *data = cJSON_AddArrayToObject(out, "data");
    bool more = false, started = !after;
    long n = 0;
    char first[64] = "", last[64] = "";
    if (strcmp(fe_sim_job_status(s, j, NULL), "succeeded") == 0) {
        long steps[3];
        long nc = fe_sim_job_checkpoints(j, steps);
        long at = fe_sim_job_time(s, j, 2 + FE_SIM_RUN_STEPS);
        for (long k = nc; k-- > 0;) { /* newest first */
            char id[64];
            snprintf(id, sizeof(id), "ftckpt_%.16s%03ld", j->id + 6, k);
            if (!started) {
                started = strcmp(id, after) == 0;
                continue;
            }
            if (n == limit) {
                more = true;
                break;
            }
            cJSON *c = cJSON_CreateObject();
            cJSON_AddStringToObject(c, "object", "fine_tuning.job.checkpoint");
            cJSON_AddStringToObject(c, "id", id);
            cJSON_AddNumberToObject(c, "created_at", (double)(at - (nc - 1 - k)));
            char *name = fe_xasprintf("%s:ckpt-step-%ld", j->fine_tuned_model, steps[k]);
            cJSON_AddStringToObject(c, "fine_tuned_model_checkpoint", name);
            free(name);
            cJSON_AddNumberToObject(c, "step_number", (double)steps[k]);
            cJSON_AddStringToObject(c, "fine_tuning_job_id", j->id);
            cJSON *m = cJSON_AddObjectToObject(c, "metrics");
            double loss = fe_sim_loss(j, steps[k]);
            cJSON_AddNumberToObject(m, "step", (double)steps[k]);
            cJSON_AddNumberToObject(m, "train_loss", loss);
            cJSON_AddNumberToObject(m, "train_mean_token_accuracy", 1.0 - loss / 3.0);
            cJSON_AddNumberToObject(m, "valid_loss", loss * 1.08);
            cJSON_AddNumberToObject(m, "valid_mean_token_accuracy", 1.0 - loss * 1.08 / 3.0);
            cJSON_AddNumberToObject(m, "full_valid_loss", loss * 1.1);
            cJSON_AddNumberToObject(m, "full_valid_mean_token_accuracy", 1.0 - loss * 1.1 / 3.0);
            cJSON_AddItemToArray(data, c);
            if (!first[0])
                snprintf(first, sizeof(first), "%s", id);
            snprintf(last, sizeof(last), "%s", id);
            n++;
        }
    }
    if (first[0]) {
        cJSON_AddStringToObject(out, "first_id", first);
        cJSON_AddStringToObject(out, "last_id", last);
    } else {
        cJSON_AddNullToObject(out, "first_id");
        cJSON_AddNullToObject(out, "last_id");
    }
    cJSON_AddBoolToObject(out, "has_more", more);
    free(after);
    fe_sim_reply_json(rs, 200, out);
}

void fe_sim_job_one(struct fe_sim *s, const struct fe_sim_request *rq, const char *id,
                    const char *tail, struct fe_sim_response *rs)
{
    struct fe_sim_job *j = fe_sim_job_find(s, id);
    bool get = strcmp(rq->method, "GET") == 0, post = strcmp(rq->method, "POST") == 0;
    if (!j) {
        fe_sim_error(rs, 404, "invalid_request_error", "fine_tune_id", "fine_tune_not_found",
                     "Could not find fine tune: %s", id);
        return;
    }
    rs->model = fe_xstrdup(j->model);
    if (get && !tail[0]) {
        fe_sim_reply_json(rs, 200, fe_sim_job_json(s, j));
    } else if (get && strcmp(tail, "/events") == 0) {
        fe_sim_job_events(s, rq, j, rs);
    } else if (get && strcmp(tail, "/checkpoints") == 0) {
        fe_sim_job_checkpoint_list(s, rq, j, rs);
    } else if (post && strcmp(tail, "/cancel") == 0) {
        const char *status = fe_sim_job_status(s, j, NULL);
        if (!strcmp(status, "succeeded") || !strcmp(status, "failed") ||
            !strcmp(status, "cancelled")) {
            fe_sim_error(rs, 400, "invalid_request_error", NULL, NULL, "Job has already %s: %s",
                         strcmp(status, "cancelled") == 0 ? "been cancelled" : "completed", j->id);
            return;
        }
        j->cancelled = true;
        j->cancelled_at = fe_sim_unix_now();
        fe_sim_reply_json(rs, 200, fe_sim_job_json(s, j));
    } else {
        fe_sim_error(rs, 404, "invalid_request_error", NULL, NULL, "Invalid URL (%s %s)",
                     rq->method, rq->path);
    }
}

/* ---- models of succeeded jobs ---- */

bool fe_sim_store_has_model(struct fe_sim *s, const char *model)
{
    for (size_t i = 0; i < s->store.n_jobs; i++) {
        const struct fe_sim_job *j = s->store.jobs[i];
        size_t n = strlen(j->fine_tuned_model);
        if (strncmp(model, j->fine_tuned_model, n) != 0 ||
            (model[n] && strncmp(model + n, ":ckpt-step-", 11) != 0))
            continue;
        if (strcmp(fe_sim_job_status(s, j, NULL), "succeeded") == 0)
            return true;
    }
    return false;
}

void fe_sim_store_list_models(struct fe_sim *s, void *data_array)
{
    cJSON *data = data_array;
    for (size_t i = 0; i < s->store.n_jobs; i++) {
        const struct fe_sim_job *j = s->store.jobs[i];
        if (strcmp(fe_sim_job_status(s, j, NULL), "succeeded") != 0)
            continue;
        long steps[3];
        long nc = fe_sim_job_checkpoints(j, steps);
        for (long k = -1; k < nc; k++) {
            char *id = k < 0 ? fe_xstrdup(j->fine_tuned_model)
                             : fe_xasprintf("%s:ckpt-step-%ld", j->fine_tuned_model, steps[k]);
            cJSON *o = cJSON_CreateObject();
            cJSON_AddStringToObject(o, "id", id);
            cJSON_AddStringToObject(o, "object", "model");
            cJSON_AddNumberToObject(o, "created",
                                    (double)fe_sim_job_time(s, j, 2 + FE_SIM_RUN_STEPS));
            cJSON_AddStringToObject(o, "owned_by", "fteval-sim");
            cJSON_AddItemToArray(data, o);
            free(id);
        }
    }
}

void fe_sim_store_release(struct fe_sim_store *st)
{
    for (size_t i = 0; i < st->n_files; i++)
        fe_sim_file_free(st->files[i]);
    free(st->files);
    for (size_t i = 0; i < st->n_jobs; i++)
        fe_sim_job_free(st->jobs[i]);
    free(st->jobs);
    memset(st, 0, sizeof(*st));
}
