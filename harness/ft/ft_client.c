/* ft_client.c — see ft_client.h. */
#include "harness/ft/ft_client.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/rand.h>

#include "harness/base/jsonout.h"
#include "harness/base/buf.h"
#include "harness/base/log.h"
#include "harness/base/util.h"

/* ---- model names ------------------------------------------------------------------------- */

static bool fe_ft_copy_field(char *dst, size_t size, const char *s, size_t len)
{
    if (len >= size)
        return false;
    memcpy(dst, s, len);
    dst[len] = '\0';
    return true;
}

bool fe_ft_parse_model_name(const char *name, struct fe_ft_model_name *out)
{
    memset(out, 0, sizeof(*out));
    out->ckpt_step = -1;
    if (!name || strncmp(name, "ft:", 3) != 0)
        return false;
    const char *f[6];
    size_t flen[6];
    size_t n = 0;
    const char *p = name + 3;
    for (;;) {
        const char *colon = strchr(p, ':');
        if (n == 6)
            return false;
        f[n] = p;
        flen[n] = colon ? (size_t)(colon - p) : strlen(p);
        n++;
        if (!colon)
            break;
        p = colon + 1;
    }
    /* n counts fields after "ft": BASE ORG SUFFIX ID [ckpt-step-N] */
    if (n != 4 && n != 5)
        goto bad;
    if (flen[0] == 0 || flen[3] == 0)
        goto bad;
    if (!fe_ft_copy_field(out->base, sizeof(out->base), f[0], flen[0]) ||
        !fe_ft_copy_field(out->org, sizeof(out->org), f[1], flen[1]) ||
        !fe_ft_copy_field(out->suffix, sizeof(out->suffix), f[2], flen[2]) ||
        !fe_ft_copy_field(out->id, sizeof(out->id), f[3], flen[3]))
        goto bad;
    if (n == 5) {
        static const char prefix[] = "ckpt-step-";
        size_t pl = sizeof(prefix) - 1;
        if (flen[4] <= pl || flen[4] > pl + 18 || strncmp(f[4], prefix, pl) != 0)
            goto bad;
        long step = 0;
        for (size_t i = pl; i < flen[4]; i++) {
            char c = f[4][i];
            if (c < '0' || c > '9')
                goto bad;
            step = step * 10 + (c - '0');
        }
        out->ckpt_step = step;
    }
    return true;
bad:
    memset(out, 0, sizeof(*out));
    out->ckpt_step = -1;
    return false;
}

/* ---- job status -------------------------------------------------------------------------- */

enum fe_ft_state fe_ft_status_state(const char *status, bool *known)
{
    static const struct {
        const char *name;
        enum fe_ft_state state;
    } map[] = {
        {"validating_files", FE_FT_PENDING},
        {"queued", FE_FT_PENDING},
        {"running", FE_FT_PENDING},
        {"succeeded", FE_FT_SUCCEEDED},
        {"failed", FE_FT_FAILED},
        {"cancelled", FE_FT_CANCELLED},
    };
    for (size_t i = 0; status && i < FE_ARRAY_LEN(map); i++) {
        if (strcmp(status, map[i].name) == 0) {
            if (known)
                *known = true;
            return map[i].state;
        }
    }
    if (known)
        *known = false;
    return FE_FT_PENDING;
}

/* ---- helpers ----------------------------------------------------------------------------- */

char *fe_ft_job_path(const char *job_id, const char *tail)
{
    struct fe_buf b;
    fe_buf_init(&b, 0);
    fe_buf_adds(&b, "/fine_tuning/jobs/");
    fe_http_add_escaped(&b, job_id);
    fe_buf_adds(&b, tail);
    return fe_buf_detach(&b, NULL);
}

static enum fe_status fe_ft_expect_object(cJSON *obj, const char *what, struct fe_err *err)
{
    if (!cJSON_IsObject(obj) || !fe_json_gets(obj, "id"))
        return fe_err_set(err, FE_EPROVIDER, "%s: answer has no \"id\"", what);
    return FE_OK;
}

/* ---- files ------------------------------------------------------------------------------- */

enum fe_status fe_ft_file_upload(struct fe_http *h, const char *path, const char *purpose,
                                 cJSON **file, struct fe_err *err)
{
    return fe_http_upload_file(h, "/files", path, purpose, "upload file", file, err); /* net/http_upload.c */
}

/* ---- create ------------------------------------------------------------------------------ */

char *fe_ft_new_client_id(void)
{
    unsigned char r[8];
    if (RAND_bytes(r, sizeof(r)) != 1) {
        /* fall back to time and address entropy: uniqueness, not secrecy, is what matters */
        char seed[128];
        snprintf(seed, sizeof(seed), "%.9f:%p", fe_now(), (void *)r);
        char hex[65];
        fe_sha256_hex(seed, strlen(seed), hex);
        return fe_xasprintf("fteval-%.16s", hex);
    }
    return fe_xasprintf("fteval-%02x%02x%02x%02x%02x%02x%02x%02x", r[0], r[1], r[2], r[3], r[4],
                        r[5], r[6], r[7]);
}

/* Adds "auto" as a string and anything else as a number (already validated by the caller). */
static void fe_ft_add_hyper(cJSON *obj, const char *key, const char *value, bool integer)
{
    if (!value)
        return;
    if (strcmp(value, "auto") == 0) {
        cJSON_AddStringToObject(obj, key, "auto");
        return;
    }
    double d = 0;
    if (integer) {
        long l = 0;
        fe_parse_long(value, &l);
        d = (double)l;
    } else {
        fe_parse_double(value, &d);
    }
    cJSON_AddNumberToObject(obj, key, d);
}

cJSON *fe_ft_create_body(const struct fe_ft_create_params *p, const char *client_id)
{
    cJSON *body = cJSON_CreateObject();
    cJSON_AddStringToObject(body, "model", p->model ? p->model : "");
    cJSON_AddStringToObject(body, "training_file", p->training_file ? p->training_file : "");
    if (p->validation_file)
        cJSON_AddStringToObject(body, "validation_file", p->validation_file);
    if (p->suffix)
        cJSON_AddStringToObject(body, "suffix", p->suffix);
    if (p->has_seed)
        cJSON_AddNumberToObject(body, "seed", (double)p->seed);
    const char *type = p->method ? p->method : "supervised";
    cJSON *method = cJSON_AddObjectToObject(body, "method");
    cJSON_AddStringToObject(method, "type", type);
    cJSON *cfg = cJSON_AddObjectToObject(method, type);
    if (p->n_epochs || p->batch_size || p->learning_rate_multiplier ||
        (p->beta && strcmp(type, "dpo") == 0)) {
        cJSON *hp = cJSON_AddObjectToObject(cfg, "hyperparameters");
        fe_ft_add_hyper(hp, "n_epochs", p->n_epochs, true);
        fe_ft_add_hyper(hp, "batch_size", p->batch_size, true);
        fe_ft_add_hyper(hp, "learning_rate_multiplier", p->learning_rate_multiplier, false);
        if (strcmp(type, "dpo") == 0)
            fe_ft_add_hyper(hp, "beta", p->beta, false);
    }
    cJSON *meta = cJSON_AddObjectToObject(body, "metadata");
    cJSON_AddStringToObject(meta, FE_FT_CLIENT_ID_KEY, client_id ? client_id : "");
    return body;
}

static bool fe_ft_job_has_client_id(const cJSON *job, const char *client_id)
{
    const cJSON *meta = cJSON_GetObjectItemCaseSensitive(job, "metadata");
    const char *v = cJSON_IsObject(meta) ? fe_json_gets(meta, FE_FT_CLIENT_ID_KEY) : NULL;
    return v && strcmp(v, client_id) == 0;
}

enum fe_status fe_ft_job_find_by_client_id(struct fe_http *h, const char *client_id, cJSON **job,
                                           struct fe_err *err)
{
    *job = NULL;
    struct fe_buf path;
    fe_buf_init(&path, 0);
    fe_buf_adds(&path, "/fine_tuning/jobs?metadata%5B" FE_FT_CLIENT_ID_KEY "%5D=");
    fe_http_add_escaped(&path, client_id);
    cJSON *items = NULL;
    /* the server filters; 1000 items bound the walk should one ignore the filter */
    enum fe_status st = fe_ft_list_paged(h, fe_buf_str(&path), 100, 1000, "find job by client id",
                                         &items, NULL, err);
    fe_buf_release(&path);
    if (st != FE_OK)
        return st;
    const cJSON *it;
    cJSON_ArrayForEach(it, items)
    {
        if (fe_ft_job_has_client_id(it, client_id) && fe_json_gets(it, "id")) {
            *job = cJSON_Duplicate(it, 1);
            break;
        }
    }
    cJSON_Delete(items);
    return FE_OK;
}

enum fe_status fe_ft_job_create(struct fe_http *h, const struct fe_ft_create_params *p, cJSON **job,
                                bool *deduped, struct fe_err *err)
{
    *job = NULL;
    if (deduped)
        *deduped = false;
    char *cid = p->client_id ? fe_xstrdup(p->client_id) : fe_ft_new_client_id();
    cJSON *body = fe_ft_create_body(p, cid);
    char *json = cJSON_PrintUnformatted(body);
    cJSON_Delete(body);
    struct fe_http_call_request req = {.method = "POST", .path = "/fine_tuning/jobs", .json = json};
    struct fe_http_response resp;
    fe_http_response_init(&resp);
    enum fe_status st = FE_OK;
    bool ambiguous = false;
    fe_debug("create job: client id %s", cid);
    for (int attempt = 0;; attempt++) {
        st = fe_http_send(h, &req, &resp, err);
        if (st != FE_OK && st != FE_ENET)
            goto out;
        st = FE_OK;
        enum fe_http_verdict v = fe_http_classify(&resp);
        if (v == FE_HTTP_DONE && resp.status >= 200 && resp.status < 300) {
            *job = cJSON_ParseWithLength(resp.body.data ? resp.body.data : "", resp.body.len);
            st = fe_ft_expect_object(*job, "create job", err);
            goto out;
        }
        struct fe_buf d;
        fe_buf_init(&d, 0);
        fe_http_error_detail(&resp, &d);
        if (v == FE_HTTP_DONE) {
            st = fe_err_set(
                err, resp.status == 429 && fe_http_is_quota_error(&resp) ? FE_EQUOTA : FE_EPROVIDER,
                "create job: %s", fe_buf_str(&d));
            fe_buf_release(&d);
            goto out;
        }
        double delay = fe_http_retry_delay(h, &resp, attempt);
        bool slept = false;
        if (v == FE_HTTP_AMBIGUOUS) {
            /* the job may exist: look for our tag before sending the create again */
            ambiguous = true;
            fe_warn("create job: %s; the job may have been created, looking for %s=%s",
                    fe_buf_str(&d), FE_FT_CLIENT_ID_KEY, cid);
            fe_http_sleep(delay < 0 ? 0.5 : delay);
            slept = true;
            cJSON *found = NULL;
            struct fe_err ferr = {0};
            if (fe_ft_job_find_by_client_id(h, cid, &found, &ferr) != FE_OK) {
                st = fe_err_set(err, ferr.code,
                                "create job: %s; the job may exist but looking it up failed (%s): "
                                "check jobs with metadata %s=%s before creating again",
                                fe_buf_str(&d), ferr.msg, FE_FT_CLIENT_ID_KEY, cid);
                fe_buf_release(&d);
                goto out;
            }
            if (found) {
                fe_warn("create job: found job %s created by the earlier attempt; not creating "
                        "another",
                        fe_json_gets(found, "id"));
                *job = found;
                if (deduped)
                    *deduped = true;
                fe_buf_release(&d);
                goto out;
            }
        }
        if (attempt >= fe_http_get_retries(h) || delay < 0) {
            st = fe_err_set(err, resp.status ? FE_EPROVIDER : FE_ENET,
                            "create job: %s (after %d attempts%s)", fe_buf_str(&d), attempt + 1,
                            ambiguous ? "; no job tagged with this attempt's client id was found"
                                      : "");
            fe_buf_release(&d);
            goto out;
        }
        fe_info("create job: %s; retry %d/%d%s", fe_buf_str(&d), attempt + 1,
                fe_http_get_retries(h), slept ? "" : " after a pause");
        fe_buf_release(&d);
        if (!slept)
            fe_http_sleep(delay);
    }
out:
    if (st != FE_OK) {
        cJSON_Delete(*job);
        *job = NULL;
    }
    fe_http_response_release(&resp);
    free(json);
    free(cid);
    return st;
}

/* ---- jobs -------------------------------------------------------------------------------- */

enum fe_status fe_ft_job_retrieve(struct fe_http *h, const char *job_id, cJSON **job,
                                  struct fe_err *err)
{
    char *path = fe_ft_job_path(job_id, "");
    enum fe_status st = fe_http_get_json(h, path, "get job", job, err);
    free(path);
    if (st == FE_OK && (st = fe_ft_expect_object(*job, "get job", err)) != FE_OK) {
        cJSON_Delete(*job);
        *job = NULL;
    }
    return st;
}

enum fe_status fe_ft_job_cancel(struct fe_http *h, const char *job_id, cJSON **job,
                                struct fe_err *err)
{
    /* cancelling twice is harmless, so the ordinary retry rules apply */
    char *path = fe_ft_job_path(job_id, "/cancel");
    enum fe_status st = fe_http_post_json(h, path, NULL, "cancel job", job, err);
    free(path);
    if (st == FE_OK && (st = fe_ft_expect_object(*job, "cancel job", err)) != FE_OK) {
        cJSON_Delete(*job);
        *job = NULL;
    }
    return st;
}

enum fe_status fe_ft_list_paged(struct fe_http *h, const char *path, int page_limit,
                                size_t max_items, const char *what, cJSON **items, bool *has_more,
                                struct fe_err *err)
{
    if (page_limit < 1 || page_limit > 100)
        page_limit = 100;
    if (max_items == 0 || max_items > 100000)
        max_items = 100000;
    *items = cJSON_CreateArray();
    if (has_more)
        *has_more = false;
    char *after = NULL;
    size_t count = 0;
    enum fe_status st = FE_OK;
    for (;;) {
        size_t want =
            max_items - count < (size_t)page_limit ? max_items - count : (size_t)page_limit;
        struct fe_buf p;
        fe_buf_init(&p, 0);
        fe_buf_addf(&p, "%s%climit=%zu", path, strchr(path, '?') ? '&' : '?', want);
        if (after) {
            fe_buf_adds(&p, "&after=");
            fe_http_add_escaped(&p, after);
        }
        cJSON *page = NULL;
        st = fe_http_get_json(h, fe_buf_str(&p), what, &page, err);
        fe_buf_release(&p);
        if (st != FE_OK)
            break;
        const cJSON *data = cJSON_GetObjectItemCaseSensitive(page, "data");
        if (!cJSON_IsArray(data)) {
            cJSON_Delete(page);
            st = fe_err_set(err, FE_EPROVIDER, "%s: answer has no \"data\" array", what);
            break;
        }
        const cJSON *it;
        const char *last = NULL;
        cJSON_ArrayForEach(it, data)
        {
            if (count >= max_items)
                break;
            cJSON_AddItemToArray(*items, cJSON_Duplicate(it, 1));
            count++;
            last = fe_json_gets(it, "id");
        }
        bool more = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(page, "has_more"));
        const char *last_id = fe_json_gets(page, "last_id");
        const char *next = last_id ? last_id : last;
        bool stop = !more || cJSON_GetArraySize(data) == 0 || !next ||
                    (after && strcmp(after, next) == 0) || count >= max_items;
        if (has_more)
            *has_more = more;
        if (!stop) {
            free(after);
            after = fe_xstrdup(next);
        } else if (more && after && next && strcmp(after, next) == 0) {
            fe_debug("%s: cursor '%s' repeated; stopping", what, next);
        }
        cJSON_Delete(page);
        if (stop)
            break;
    }
    free(after);
    if (st != FE_OK) {
        cJSON_Delete(*items);
        *items = NULL;
    }
    return st;
}

/* ---- convenience API --------------------------------------------------------------------- */

enum fe_status fe_ft_job_get(const char *base_url, const char *api_key, const char *job_id,
                             cJSON **job, struct fe_err *err)
{
    struct fe_http *h = fe_http_new(base_url, api_key);
    enum fe_status st = fe_ft_job_retrieve(h, job_id, job, err);
    fe_http_free(h);
    return st;
}

enum fe_status fe_ft_job_info_from_json(const cJSON *job, struct fe_ft_job_info *out,
                                        struct fe_err *err)
{
    memset(out, 0, sizeof(*out));
    out->trained_tokens = -1;
    const char *id = fe_json_gets(job, "id");
    const char *status = fe_json_gets(job, "status");
    if (!id || !status)
        return fe_err_set(err, FE_EPROVIDER, "job object lacks \"%s\"", id ? "status" : "id");
    snprintf(out->id, sizeof(out->id), "%s", id);
    snprintf(out->status, sizeof(out->status), "%s", status);
    const char *model = fe_json_gets(job, "model");
    const char *ftm = fe_json_gets(job, "fine_tuned_model");
    snprintf(out->model, sizeof(out->model), "%s", model ? model : "");
    snprintf(out->fine_tuned_model, sizeof(out->fine_tuned_model), "%s", ftm ? ftm : "");
    const cJSON *tt = cJSON_GetObjectItemCaseSensitive(job, "trained_tokens");
    if (cJSON_IsNumber(tt) && tt->valuedouble >= 0)
        out->trained_tokens = (long long)tt->valuedouble;
    return FE_OK;
}

enum fe_status fe_ft_resolve_job(const char *base_url, const char *api_key, const char *job_id,
                                 struct fe_ft_job_info *out, struct fe_err *err)
{
    memset(out, 0, sizeof(*out));
    out->trained_tokens = -1;
    cJSON *job = NULL;
    enum fe_status st = fe_ft_job_get(base_url, api_key, job_id, &job, err);
    if (st == FE_OK)
        st = fe_ft_job_info_from_json(job, out, err);
    cJSON_Delete(job);
    if (st != FE_OK)
        return st;
    if (strcmp(out->status, "succeeded") != 0)
        return fe_err_set(err, FE_EINVALID, "fine-tuning job '%s' has status '%s', not succeeded",
                          job_id, out->status);
    if (!out->fine_tuned_model[0])
        return fe_err_set(err, FE_EINVALID,
                          "fine-tuning job '%s' succeeded but names no fine_tuned_model", job_id);
    return FE_OK;
}

void fe_ft_checkpoints_free(struct fe_ft_checkpoint *cps, size_t n)
{
    for (size_t i = 0; cps && i < n; i++)
        free(cps[i].model);
    free(cps);
}

static int fe_ft_cmp_step(const void *a, const void *b)
{
    const struct fe_ft_checkpoint *x = a, *y = b;
    return (x->step > y->step) - (x->step < y->step);
}

enum fe_status fe_ft_checkpoints_get(struct fe_http *h, const char *job_id,
                                     struct fe_ft_checkpoint **out, size_t *n, struct fe_err *err)
{
    *out = NULL;
    *n = 0;
    char *path = fe_ft_job_path(job_id, "/checkpoints");
    cJSON *items = NULL;
    enum fe_status st = fe_ft_list_paged(h, path, 100, 0, "list checkpoints", &items, NULL, err);
    free(path);
    if (st != FE_OK)
        return st;
    size_t cap = (size_t)cJSON_GetArraySize(items);
    struct fe_ft_checkpoint *cps = fe_xcalloc(cap ? cap : 1, sizeof(*cps));
    size_t k = 0;
    const cJSON *it;
    cJSON_ArrayForEach(it, items)
    {
        const char *model = fe_json_gets(it, "fine_tuned_model_checkpoint");
        const cJSON *step = cJSON_GetObjectItemCaseSensitive(it, "step_number");
        if (!model || !cJSON_IsNumber(step)) {
            fe_warn("list checkpoints: skipping an entry without fine_tuned_model_checkpoint or "
                    "step_number");
            continue;
        }
        cps[k].model = fe_xstrdup(model);
        cps[k].step = (long)step->valuedouble;
        k++;
    }
    cJSON_Delete(items);
    qsort(cps, k, sizeof(*cps), fe_ft_cmp_step);
    *out = cps;
    *n = k;
    return FE_OK;
}

enum fe_status fe_ft_list_checkpoints(const char *base_url, const char *api_key, const char *job_id,
                                      struct fe_ft_checkpoint **out, size_t *n, struct fe_err *err)
{
    struct fe_http *h = fe_http_new(base_url, api_key);
    enum fe_status st = fe_ft_checkpoints_get(h, job_id, out, n, err);
    fe_http_free(h);
    return st;
}
