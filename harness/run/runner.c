/* runner.c — see runner.h. The loop: fill the window with jobs from the dataset, start every job
 * whose provider has capacity (concurrency, buckets, pauses, budget), let curl work, finish what
 * completed (record, or schedule a retry), repeat until nothing is left. */
#include "harness/run/runner.h"

#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "harness/net/backoff.h"
#include "harness/base/buf.h"
#include "harness/run/cache.h"
#include "harness/run/journal.h"
#include "harness/base/log.h"
#include "harness/base/util.h"
#include "metrics/corpus.h"
#include "metrics/metric.h"

#define FE_MAX_RESPONSE (8u * 1024 * 1024)
#define FE_USAGE_ABSURD 10000000L /* tokens: more in one answer is not a usage, it is a bug */
#define FE_LONG_WAITS_GIVE_UP 3   /* over-long waits asked in a row before a provider is given up */
#define FE_ERRK_INTERRUPTED "interrupted"

static volatile sig_atomic_t fe_signals;

static void fe_on_signal(int sig)
{
    (void)sig;
    fe_signals++;
}

struct fe_item {
    struct fe_example ex;
    size_t refs;
};

struct fe_job {
    struct fe_item *item;
    size_t arm;
    struct fe_http_request req;
    char key[65];
    long attempts;
    double not_before;
    long est_tokens;           /* prompt estimate + max_tokens */
    long prompt_est;           /* prompt estimate */
    double worst_usd;          /* reserved while in flight (0 when unpriced) */
    double first_start;        /* when the first attempt started */
    double *attempt_costs;     /* one per settled attempt */
    size_t n_costs;
    double spend_usd;
    bool spend_estimated, over_cap, is_probe;
    const char *last_kind;     /* the last failed attempt, for a record written at a stop */
    long last_status;
    char *last_msg;
    CURL *easy;
    struct curl_slist *headers;
    struct fe_buf body;
    bool body_overflow;
    char retry_after[64], retry_after_ms[64], should_retry[16], request_id[128];
    char rl_remaining_requests[32], rl_remaining_tokens[32], rl_reset_requests[32], rl_reset_tokens[32];
    struct fe_job *next;       /* ready or delayed list */
    struct fe_job *in_prev, *in_next; /* in-flight list */
};

struct fe_prov_state {
    struct fe_provider_entry *e;
    long in_flight, limit;
    double pause_until;
    bool stopped;
    int long_waits;            /* over-long waits asked in a row */
    char waiting[200];         /* why it is paused (progress line) */
    double last_response;      /* last time any HTTP answer arrived */
    double req_level, tok_level, bucket_time;
    void *offline;             /* offline provider state */
};

struct fe_arm_state {
    struct fe_journal journal;
    struct fe_strmap done;
    struct fe_prov_state *prov;
    size_t recorded, errors, skipped;
    size_t probe;              /* index of its (provider, model) in fe_runner.probes */
    double prompt_ratio, compl_ratio; /* observed / estimated: later reservations grow by these */
    bool warned_over_cap;
};

enum { FE_PROBE_NONE, FE_PROBE_INFLIGHT, FE_PROBE_PASSED };
struct fe_probe {
    const struct fe_provider_entry *prov;
    const char *model;
    int state;
};

struct fe_runner {
    const struct fe_config *c;
    const struct fe_runner_opts *o;
    struct fe_runner_result *res;
    struct fe_err *err;
    CURLM *multi;
    struct fe_arm_state *arms;
    struct fe_prov_state *provs;
    struct fe_dataset_reader *reader;
    bool eof;
    size_t examples_read;
    struct fe_job *ready_head, *ready_tail;
    struct fe_job *delayed;    /* unsorted list, small */
    struct fe_job *inflight;   /* doubly linked: curl 7.88 cannot list a multi's handles */
    size_t outstanding;        /* jobs created and not finished */
    long in_flight;
    double reserved_usd;
    double seed_usd;           /* spend of earlier sessions */
    struct fe_probe *probes;
    size_t n_probes;
    bool probe_in_flight;      /* a first request is out: nothing else starts */
    bool stop_all;             /* budget or interrupt: start nothing new */
    uint64_t rng;
    double t0, last_progress;
    size_t done_total, done_at_start;
    enum fe_status fatal;
};

long fe_estimate_prompt_tokens(const struct fe_message *m, size_t n)
{
    long tokens = 3; /* the same rule as fe_estimate_messages_tokens (docs/decision.md) */
    for (size_t i = 0; i < n; i++)
        tokens += 4 + fe_estimate_tokens(m[i].content);
    return tokens;
}

/* ---- records ------------------------------------------------------------------------------ */

static cJSON *fe_gold_json(const struct fe_example *ex)
{
    if (ex->gold_json)
        return cJSON_Duplicate(ex->gold_json, true);
    if (ex->n_golds == 1)
        return cJSON_CreateString(ex->golds[0]);
    cJSON *a = cJSON_CreateArray();
    for (size_t i = 0; i < ex->n_golds; i++)
        cJSON_AddItemToArray(a, cJSON_CreateString(ex->golds[i]));
    return a;
}

cJSON *fe_record_build(const struct fe_record_in *in, double *cost)
{
    cJSON *r = cJSON_CreateObject();
    cJSON_AddStringToObject(r, "id", in->ex->id);
    cJSON_AddStringToObject(r, "arm", in->arm);
    cJSON_AddStringToObject(r, "prediction", in->ok && in->prediction ? in->prediction : "");
    cJSON_AddItemToObject(r, "gold", fe_gold_json(in->ex));
    cJSON *scores = cJSON_AddObjectToObject(r, "scores");
    struct fe_gold gold = {(const char *const *)in->ex->golds, in->ex->n_golds, in->ex->gold_json,
                           in->ex->row};
    for (size_t m = 0; m < in->n_metrics; m++) {
        const struct fe_metric *def = fe_metric_find(in->metrics[m]);
        double v = in->ok && def ? def->score(in->prediction ? in->prediction : "", &gold) : 0.0;
        cJSON_AddNumberToObject(scores, in->metrics[m], v);
    }
    /* entity counts of corpus metrics (metrics/corpus.h): the summary sums them; a failed
     * example predicts nothing and its gold entities stay in the denominator */
    cJSON *corpus = NULL;
    for (size_t m = 0; m < in->n_metrics; m++) {
        const struct fe_metric *def = fe_metric_find(in->metrics[m]);
        if (!def || def->corpus != FE_CORPUS_ENTITY_F1)
            continue;
        struct fe_entity_counts ec =
            fe_corpus_entity_counts(in->ok && in->prediction ? in->prediction : "", &gold);
        if (!corpus)
            corpus = cJSON_AddObjectToObject(r, "corpus");
        cJSON *o = cJSON_AddObjectToObject(corpus, in->metrics[m]);
        cJSON_AddNumberToObject(o, "tp", (double)ec.tp);
        cJSON_AddNumberToObject(o, "pred", (double)ec.pred);
        cJSON_AddNumberToObject(o, "gold", (double)ec.gold);
    }
    cJSON_AddStringToObject(r, "status", in->ok ? "ok" : "error");
    if (in->ok) {
        cJSON_AddNullToObject(r, "error");
    } else {
        cJSON *e = cJSON_AddObjectToObject(r, "error");
        cJSON_AddStringToObject(e, "kind", in->error_kind ? in->error_kind : FE_ERRK_HTTP);
        if (in->http_status)
            cJSON_AddNumberToObject(e, "http_status", (double)in->http_status);
        else
            cJSON_AddNullToObject(e, "http_status");
        char *msg = fe_redact(in->error_message ? in->error_message : "");
        cJSON_AddStringToObject(e, "message", msg);
        free(msg);
    }
    if (in->finish_reason)
        cJSON_AddStringToObject(r, "finish_reason", in->finish_reason);
    else
        cJSON_AddNullToObject(r, "finish_reason");
    if (isfinite(in->latency_ms))
        cJSON_AddNumberToObject(r, "latency_ms", round(in->latency_ms * 1000.0) / 1000.0);
    else
        cJSON_AddNullToObject(r, "latency_ms"); /* nothing was timed (offline arm, local error) */
    cJSON_AddNumberToObject(r, "attempts", (double)in->attempts);
    *cost = -1;
    if (in->has_usage) {
        cJSON *u = cJSON_AddObjectToObject(r, "usage");
        cJSON_AddNumberToObject(u, "prompt_tokens", (double)in->prompt_tokens);
        cJSON_AddNumberToObject(u, "completion_tokens", (double)in->completion_tokens);
        cJSON_AddNumberToObject(u, "cached_tokens", (double)in->cached_tokens);
        if (in->price)
            *cost = fe_cost_call(in->price, in->prompt_tokens, in->cached_tokens, in->completion_tokens, false);
    } else {
        cJSON_AddNullToObject(r, "usage");
    }
    if (*cost >= 0)
        cJSON_AddNumberToObject(r, "cost_usd", *cost);
    else
        cJSON_AddNullToObject(r, "cost_usd");
    if (in->request_sha256)
        cJSON_AddStringToObject(r, "request_sha256", in->request_sha256);
    else
        cJSON_AddNullToObject(r, "request_sha256");
    if (in->model)
        cJSON_AddStringToObject(r, "model", in->model);
    if (in->request_id && *in->request_id)
        cJSON_AddStringToObject(r, "request_id", in->request_id);
    cJSON_AddBoolToObject(r, "cache_hit", in->cache_hit);
    if (in->has_spend) {
        cJSON_AddNumberToObject(r, "spend_usd", in->spend_usd);
        cJSON *ac = cJSON_AddArrayToObject(r, "attempt_costs_usd");
        for (size_t i = 0; i < in->n_attempt_costs; i++)
            cJSON_AddItemToArray(ac, cJSON_CreateNumber(in->attempt_costs[i]));
        cJSON_AddBoolToObject(r, "spend_estimated", in->spend_estimated);
    }
    if (in->usage_over_cap)
        cJSON_AddTrueToObject(r, "usage_over_cap");
    cJSON_AddNumberToObject(r, "line", (double)in->ex->line);
    if (in->ex->cluster)
        cJSON_AddStringToObject(r, "cluster", in->ex->cluster);
    return r;
}

static void fe_item_unref(struct fe_item *it)
{
    if (--it->refs == 0) {
        fe_example_release(&it->ex);
        free(it);
    }
}

static void fe_job_free(struct fe_runner *r, struct fe_job *j)
{
    if (j->is_probe) { /* answered, failed for good or dropped: the others may go */
        r->probes[r->arms[j->arm].probe].state = FE_PROBE_PASSED;
        r->probe_in_flight = false;
    }
    free(j->attempt_costs);
    free(j->last_msg);
    if (j->easy) {
        curl_multi_remove_handle(r->multi, j->easy);
        curl_easy_cleanup(j->easy);
    }
    curl_slist_free_all(j->headers);
    fe_buf_release(&j->body);
    fe_http_request_release(&j->req);
    fe_item_unref(j->item);
    free(j);
    r->outstanding--;
}

/* Writes the record of a finished job and frees the job. */
static void fe_job_record(struct fe_runner *r, struct fe_job *j, const struct fe_completion *comp,
                          const struct fe_provider_error *perr, double latency_ms, bool cache_hit)
{
    const struct fe_arm_conf *arm = &r->c->arms[j->arm];
    struct fe_arm_state *as = &r->arms[j->arm];
    struct fe_record_in in = {
        .arm = arm->name,
        .metrics = r->c->metrics,
        .n_metrics = r->c->n_metrics,
        .price = arm->has_price ? &arm->price : NULL,
        .ex = &j->item->ex,
        .ok = comp != NULL,
        .prediction = comp ? comp->text : NULL,
        .finish_reason = comp ? comp->finish_reason : NULL,
        .model = comp ? comp->model : NULL,
        .request_id = j->request_id,
        .error_kind = perr ? perr->kind : NULL,
        .http_status = perr ? perr->http_status : 0,
        .error_message = perr ? perr->message : NULL,
        .latency_ms = latency_ms,
        .attempts = j->attempts,
        .has_usage = comp && comp->has_usage,
        .prompt_tokens = comp ? comp->prompt_tokens : 0,
        .completion_tokens = comp ? comp->completion_tokens : 0,
        .cached_tokens = comp ? comp->cached_tokens : 0,
        .request_sha256 = j->key[0] ? j->key : NULL,
        .cache_hit = cache_hit,
        .has_spend = true,
        .attempt_costs = j->attempt_costs,
        .n_attempt_costs = j->n_costs,
        .spend_usd = j->spend_usd,
        .spend_estimated = j->spend_estimated,
        .usage_over_cap = j->over_cap,
    };
    double cost;
    cJSON *rec = fe_record_build(&in, &cost);
    char *line = cJSON_PrintUnformatted(rec);
    cJSON_Delete(rec);
    struct fe_err werr = {0};
    if (fe_journal_append(&as->journal, line, strlen(line), &werr) != FE_OK && r->fatal == FE_OK) {
        r->fatal = FE_EIO;
        fe_err_set(r->err, FE_EIO, "%s", werr.msg);
        r->stop_all = true;
    }
    cJSON_free(line);
    if (cost > 0 && cache_hit)
        r->res->saved_usd += cost; /* spend itself was counted attempt by attempt */
    fe_strmap_put(&as->journal.seen, j->item->ex.id, 1);
    as->recorded++;
    r->res->recorded++;
    r->done_total++;
    if (!comp) {
        as->errors++;
        r->res->errors++;
    }
    if (cache_hit)
        r->res->cache_hits++;
    fe_job_free(r, j);
}

/* ---- scheduling --------------------------------------------------------------------------- */

static void fe_ready_push(struct fe_runner *r, struct fe_job *j, bool front)
{
    j->next = NULL;
    if (!r->ready_head) {
        r->ready_head = r->ready_tail = j;
    } else if (front) {
        j->next = r->ready_head;
        r->ready_head = j;
    } else {
        r->ready_tail->next = j;
        r->ready_tail = j;
    }
}

/* Creates the jobs of one more example. Returns false at the end of the dataset. */
static bool fe_read_example(struct fe_runner *r)
{
    if (r->eof || (r->o->limit > 0 && r->examples_read >= (size_t)r->o->limit)) {
        r->eof = true;
        return false;
    }
    struct fe_item *it = fe_xcalloc(1, sizeof(*it));
    struct fe_err derr = {0};
    int got = fe_dataset_next(r->reader, &it->ex, &derr);
    if (got <= 0) {
        free(it);
        r->eof = true;
        if (got < 0 && r->fatal == FE_OK) {
            r->fatal = derr.code;
            fe_err_set(r->err, derr.code, "%s", derr.msg);
            r->stop_all = true;
        }
        return false;
    }
    r->examples_read++;
    it->refs = 1;
    for (size_t a = 0; a < r->c->n_arms; a++) {
        struct fe_arm_state *as = &r->arms[a];
        if (fe_strmap_get(&as->done, it->ex.id, NULL)) {
            as->skipped++;
            r->res->already_done++;
            continue;
        }
        if (as->prov->stopped) /* quota, outage or waits: this pair stays unsent */
            continue;
        const struct fe_arm_conf *arm = &r->c->arms[a];
        struct fe_job *j = fe_xcalloc(1, sizeof(*j));
        j->item = it;
        j->arm = a;
        it->refs++;
        r->outstanding++;
        fe_buf_init(&j->body, FE_MAX_RESPONSE);
        struct fe_message *msgs = NULL;
        size_t n_msgs = 0;
        struct fe_err berr = {0};
        if (fe_build_messages(r->c, arm, &it->ex, &msgs, &n_msgs, &berr) != FE_OK) {
            struct fe_provider_error pe = {.kind = FE_ERRK_BAD_REQUEST, .message = berr.msg};
            fe_job_record(r, j, NULL, &pe, NAN, false);
            continue;
        }
        j->prompt_est = fe_estimate_prompt_tokens(msgs, n_msgs);
        j->est_tokens = j->prompt_est + arm->max_tokens;
        struct fe_chat_request req = {
            .arm = arm->name, .example_id = it->ex.id, .model = arm->model,
            .messages = msgs, .n_messages = n_msgs,
            .has_temperature = arm->has_temperature, .temperature = arm->temperature,
            .max_tokens = arm->max_tokens, .has_seed = arm->has_seed, .seed = arm->seed,
            .extra_body = arm->extra_body,
        };
        const struct fe_provider_ops *ops = arm->provider->ops;
        if (ops->caps & FE_CAP_OFFLINE) {
            struct fe_completion comp = {0};
            struct fe_err oerr = {0};
            j->attempts = 1;
            if (ops->offline_complete(r->arms[a].prov->offline, &req, &comp, &oerr) == FE_OK) {
                /* offline: no request, no latency (null, never 0 ms: issue 11 §7) */
                fe_job_record(r, j, &comp, NULL, NAN, false);
            } else {
                struct fe_provider_error pe = {.kind = FE_ERRK_OFFLINE, .message = oerr.msg};
                fe_job_record(r, j, NULL, &pe, NAN, false);
            }
            fe_completion_release(&comp);
            fe_messages_free(msgs, n_msgs);
            continue;
        }
        enum fe_status st = ops->build_request(&arm->provider->conf, &req, &j->req, &berr);
        fe_messages_free(msgs, n_msgs);
        if (st != FE_OK) {
            struct fe_provider_error pe = {.kind = FE_ERRK_BAD_REQUEST, .message = berr.msg};
            fe_job_record(r, j, NULL, &pe, NAN, false);
            continue;
        }
        fe_cache_key(arm->provider->conf.name, j->req.body, j->req.body_len, j->key);
        fe_ready_push(r, j, false);
    }
    fe_item_unref(it);
    return true;
}

static void fe_bucket_refill(struct fe_prov_state *p, double now)
{
    double dt = now - p->bucket_time;
    p->bucket_time = now;
    if (p->e->rpm > 0) {
        double cap = fmax(1.0, p->e->rpm / 60.0);
        p->req_level = fmin(cap, p->req_level + dt * p->e->rpm / 60.0);
    }
    if (p->e->tpm > 0) {
        double cap = p->e->tpm / 60.0;
        p->tok_level = fmin(cap, p->tok_level + dt * p->e->tpm / 60.0);
    }
}

/* When can p start a job needing tokens? Returns now when it can. */
static double fe_provider_ready_at(struct fe_prov_state *p, long tokens, double now)
{
    double at = fmax(now, p->pause_until);
    if (p->e->rpm > 0 && p->req_level < 1.0)
        at = fmax(at, now + (1.0 - p->req_level) / (p->e->rpm / 60.0));
    if (p->e->tpm > 0) {
        double need = fmin((double)tokens, p->e->tpm / 60.0);
        if (p->tok_level < need)
            at = fmax(at, now + (need - p->tok_level) / (p->e->tpm / 60.0));
    }
    return at;
}

static size_t fe_on_body(char *data, size_t size, size_t n, void *userp)
{
    struct fe_job *j = userp;
    if (fe_buf_add(&j->body, data, size * n) != 0) {
        j->body_overflow = true;
        return 0;
    }
    return size * n;
}

static void fe_copy_header_value(char *dst, size_t cap, const char *v, size_t len)
{
    while (len && (v[len - 1] == '\r' || v[len - 1] == '\n' || v[len - 1] == ' '))
        len--;
    while (len && *v == ' ')
        v++, len--;
    if (len >= cap)
        len = cap - 1;
    memcpy(dst, v, len);
    dst[len] = '\0';
}

static size_t fe_on_header(char *data, size_t size, size_t n, void *userp)
{
    struct fe_job *j = userp;
    size_t len = size * n;
    const char *colon = memchr(data, ':', len);
    if (!colon)
        return len;
    size_t name_len = (size_t)(colon - data);
    const char *v = colon + 1;
    size_t vlen = len - name_len - 1;
    static const struct {
        const char *name;
        size_t off, cap;
    } wanted[] = {
        {"retry-after", offsetof(struct fe_job, retry_after), 64},
        {"retry-after-ms", offsetof(struct fe_job, retry_after_ms), 64},
        {"x-should-retry", offsetof(struct fe_job, should_retry), 16},
        {"x-request-id", offsetof(struct fe_job, request_id), 128},
        {"x-ratelimit-remaining-requests", offsetof(struct fe_job, rl_remaining_requests), 32},
        {"x-ratelimit-remaining-tokens", offsetof(struct fe_job, rl_remaining_tokens), 32},
        {"x-ratelimit-reset-requests", offsetof(struct fe_job, rl_reset_requests), 32},
        {"x-ratelimit-reset-tokens", offsetof(struct fe_job, rl_reset_tokens), 32},
    };
    for (size_t i = 0; i < FE_ARRAY_LEN(wanted); i++)
        if (strlen(wanted[i].name) == name_len && strncasecmp(data, wanted[i].name, name_len) == 0)
            fe_copy_header_value((char *)j + wanted[i].off, wanted[i].cap, v, vlen);
    return len;
}

static void fe_job_reset_attempt(struct fe_job *j)
{
    fe_buf_reset(&j->body);
    j->body_overflow = false;
    j->retry_after[0] = j->retry_after_ms[0] = j->should_retry[0] = j->request_id[0] = '\0';
    j->rl_remaining_requests[0] = j->rl_remaining_tokens[0] = '\0';
    j->rl_reset_requests[0] = j->rl_reset_tokens[0] = '\0';
}

/* Answers a job from the cache; returns true when it did (job freed). */
static bool fe_try_cache(struct fe_runner *r, struct fe_job *j)
{
    if (!r->o->cache_dir)
        return false;
    size_t len;
    char *body = fe_cache_get(r->o->cache_dir, j->key, &len);
    if (!body)
        return false;
    struct fe_completion comp = {0};
    struct fe_err perr = {0};
    const struct fe_provider_ops *ops = r->c->arms[j->arm].provider->ops;
    bool ok = ops->parse_response(body, len, &comp, &perr) == FE_OK;
    free(body);
    if (!ok) {
        fe_completion_release(&comp);
        return false;
    }
    j->attempts = 0;
    fe_job_record(r, j, &comp, NULL, NAN, true); /* answered from the cache: not timed */
    fe_completion_release(&comp);
    return true;
}

/* The worst case of one attempt of j: its prompt estimate and max_tokens, grown by what the arm's
 * answers showed (a server that ignores max_tokens, prompts above the estimate). 0 unpriced. */
static double fe_job_worst_usd(const struct fe_runner *r, const struct fe_job *j)
{
    const struct fe_arm_conf *arm = &r->c->arms[j->arm];
    const struct fe_arm_state *as = &r->arms[j->arm];
    if (!arm->has_price)
        return 0;
    long prompt = (long)ceil((double)j->prompt_est * as->prompt_ratio);
    long compl = (long)ceil((double)arm->max_tokens * as->compl_ratio);
    return fe_cost_call(&arm->price, prompt, 0, compl, false);
}

static void fe_job_start(struct fe_runner *r, struct fe_job *j, struct fe_prov_state *p)
{
    const struct fe_arm_conf *arm = &r->c->arms[j->arm];
    fe_job_reset_attempt(j);
    j->attempts++;
    if (j->attempts == 1)
        j->first_start = fe_now();
    j->worst_usd = fe_job_worst_usd(r, j);
    if (!j->easy) {
        j->easy = curl_easy_init();
        if (!j->easy) {
            fe_error("libcurl: cannot create a handle");
            abort();
        }
        CURL *e = j->easy;
        curl_easy_setopt(e, CURLOPT_URL, j->req.url);
        curl_easy_setopt(e, CURLOPT_POST, 1L);
        curl_easy_setopt(e, CURLOPT_POSTFIELDS, j->req.body);
        curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE, (long)j->req.body_len);
        for (size_t i = 0; i < j->req.n_headers; i++)
            j->headers = curl_slist_append(j->headers, j->req.headers[i]);
        j->headers = curl_slist_append(j->headers, "Expect:"); /* no 100-continue round trip */
        curl_easy_setopt(e, CURLOPT_HTTPHEADER, j->headers);
        curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, fe_on_body);
        curl_easy_setopt(e, CURLOPT_WRITEDATA, j);
        curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, fe_on_header);
        curl_easy_setopt(e, CURLOPT_HEADERDATA, j);
        curl_easy_setopt(e, CURLOPT_PRIVATE, j);
        curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
        long timeout_ms = (long)(arm->timeout_s * 1000.0);
        curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, timeout_ms);
        curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, timeout_ms < 10000 ? timeout_ms : 10000L);
        curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
        curl_easy_setopt(e, CURLOPT_USERAGENT, "fteval/" FTEVAL_VERSION);
    } else {
        curl_multi_remove_handle(r->multi, j->easy);
    }
    if (j->attempts > 1) {
        char hdr[64];
        snprintf(hdr, sizeof(hdr), "x-stainless-retry-count: %ld", j->attempts - 1);
        j->headers = curl_slist_append(j->headers, hdr);
        curl_easy_setopt(j->easy, CURLOPT_HTTPHEADER, j->headers);
    }
    curl_multi_add_handle(r->multi, j->easy);
    j->in_prev = NULL;
    j->in_next = r->inflight;
    if (r->inflight)
        r->inflight->in_prev = j;
    r->inflight = j;
    p->in_flight++;
    r->in_flight++;
    r->reserved_usd += j->worst_usd;
    if (p->e->rpm > 0)
        p->req_level -= 1.0;
    if (p->e->tpm > 0)
        p->tok_level -= (double)j->est_tokens;
}

/* Starts every ready job that may start now; returns the earliest time something else may. */
static double fe_start_ready(struct fe_runner *r, double now)
{
    double wake = now + 0.25;
    bool probe_waiting = false; /* a first request waits for the line to clear: start nothing else */
    struct fe_job **link = &r->ready_head, *prev = NULL;
    while (*link && r->in_flight < r->o->concurrency && !r->stop_all) {
        struct fe_job *j = *link;
        struct fe_prov_state *p = r->arms[j->arm].prov;
        bool can = !p->stopped && p->in_flight < p->limit;
        /* the first request of each (provider, model) goes out alone */
        struct fe_probe *probe = &r->probes[r->arms[j->arm].probe];
        bool becomes_probe = false;
        if (can && !j->is_probe) {
            if (probe->state == FE_PROBE_PASSED) {
                can = !r->probe_in_flight && !probe_waiting;
            } else if (probe->state == FE_PROBE_NONE) {
                can = becomes_probe = !r->probe_in_flight && r->in_flight == 0;
                probe_waiting = !can;
            } else {
                can = false;
            }
        }
        double at = can ? fe_provider_ready_at(p, j->est_tokens, now) : now + 0.25;
        if (can && at > now) {
            wake = fmin(wake, at);
            can = false;
        }
        double worst = fe_job_worst_usd(r, j);
        double spent = r->seed_usd + r->res->spent_usd;
        if (can && r->c->has_budget && worst > 0 && spent + r->reserved_usd + worst > r->c->budget_max_usd) {
            if (r->in_flight > 0) { /* wait: in-flight reservations may come back smaller */
                can = false;
            } else {
                r->stop_all = true;
                r->res->budget_stopped = true;
                fe_warn("budget: the next request could cost up to $%.6f but only $%.6f of "
                        "budget.max_usd $%.4f is left (spent $%.6f over the whole run); stopping",
                        worst, r->c->budget_max_usd - spent, r->c->budget_max_usd, spent);
                break;
            }
        }
        if (can && becomes_probe) {
            j->is_probe = true;
            probe->state = FE_PROBE_INFLIGHT;
            r->probe_in_flight = true;
        }
        if (!can) {
            prev = j;
            link = &j->next;
            continue;
        }
        *link = j->next; /* unlink */
        if (r->ready_tail == j)
            r->ready_tail = prev;
        if (!fe_try_cache(r, j))
            fe_job_start(r, j, p);
    }
    return wake;
}

/* ---- completions -------------------------------------------------------------------------- */

static void fe_inflight_unlink(struct fe_runner *r, struct fe_job *j)
{
    if (j->in_prev)
        j->in_prev->in_next = j->in_next;
    else
        r->inflight = j->in_next;
    if (j->in_next)
        j->in_next->in_prev = j->in_prev;
    j->in_prev = j->in_next = NULL;
}

/* Settles one attempt of j at usd (estimated: no usable usage, its reserved worst case). */
static void fe_job_add_cost(struct fe_runner *r, struct fe_job *j, double usd, bool estimated)
{
    j->attempt_costs = fe_xrealloc(j->attempt_costs, (j->n_costs + 1) * sizeof(double));
    j->attempt_costs[j->n_costs++] = usd;
    j->spend_usd += usd;
    r->res->spent_usd += usd;
    if (estimated && usd > 0) {
        j->spend_estimated = true;
        r->res->spend_estimated = true;
    }
}

/* Records a job that tried and will not try again (stop, interrupt) with its last error. */
static void fe_job_record_last_error(struct fe_runner *r, struct fe_job *j, const char *fallback_kind,
                                     const char *fallback_msg)
{
    char *msg = j->last_msg ? j->last_msg : fe_xstrdup(fallback_msg);
    j->last_msg = NULL;
    struct fe_provider_error pe = {
        .kind = j->last_kind ? j->last_kind : fallback_kind, .http_status = j->last_status, .message = msg,
    };
    fe_job_record(r, j, NULL, &pe, 0, false);
    free(msg);
}

/* Drops every queued job of provider p: a job that already tried is recorded with its last error
 * (its attempts' spend stays on the record), the others stay unsent. */
static void fe_provider_drop_queued(struct fe_runner *r, struct fe_prov_state *p)
{
    struct fe_job *keep_head = NULL, *keep_tail = NULL, *drop = NULL;
    for (struct fe_job *j = r->ready_head, *next; j; j = next) {
        next = j->next;
        j->next = NULL;
        if (r->arms[j->arm].prov == p) {
            j->next = drop;
            drop = j;
        } else if (keep_tail) {
            keep_tail->next = j;
            keep_tail = j;
        } else {
            keep_head = keep_tail = j;
        }
    }
    r->ready_head = keep_head;
    r->ready_tail = keep_tail;
    for (struct fe_job **link = &r->delayed; *link;) {
        struct fe_job *j = *link;
        if (r->arms[j->arm].prov == p) {
            *link = j->next;
            j->next = drop;
            drop = j;
        } else {
            link = &j->next;
        }
    }
    for (struct fe_job *j = drop, *next; j; j = next) {
        next = j->next;
        if (j->attempts > 0)
            fe_job_record_last_error(r, j, FE_ERRK_CONNECTION, "not retried: the provider was stopped");
        else
            fe_job_free(r, j);
    }
}

enum fe_stop_reason { FE_STOP_QUOTA, FE_STOP_OUTAGE, FE_STOP_WAITS };

/* Sends nothing more to p; when no provider is left, the run stops reading the dataset. */
static void fe_provider_stop(struct fe_runner *r, struct fe_prov_state *p, enum fe_stop_reason why,
                             const char *message)
{
    if (p->stopped)
        return;
    p->stopped = true;
    p->waiting[0] = '\0';
    struct fe_runner_result *res = r->res;
    if (!res->stop_provider[0]) {
        snprintf(res->stop_provider, sizeof(res->stop_provider), "%s", p->e->conf.name);
        snprintf(res->stop_message, sizeof(res->stop_message), "%s", message);
    }
    if (why == FE_STOP_QUOTA) {
        res->quota_stopped = true;
        snprintf(res->quota_provider, sizeof(res->quota_provider), "%s", p->e->conf.name);
        fe_error("provider '%s': quota exhausted (%s): no more requests are sent to it", p->e->conf.name,
                 message);
    } else if (why == FE_STOP_OUTAGE) {
        res->outage = true;
        fe_error("provider '%s': not answering (%s): no more requests are sent to it", p->e->conf.name,
                 message);
    } else {
        res->waits_gave_up = true;
        fe_error("provider '%s': %s: giving up on it", p->e->conf.name, message);
    }
    fe_provider_drop_queued(r, p);
    bool any_left = false; /* offline arms (replay) still finish their examples */
    for (size_t i = 0; i < r->c->n_providers; i++)
        any_left = any_left || (r->provs[i].e->used && !r->provs[i].stopped);
    if (!any_left)
        r->stop_all = true;
}

/* A wait the server asked for (seconds; NaN or infinite: forever), capped at max_wait_s. Says why
 * on stderr; over-long asks in a row give the provider up. Returns the wait to honour. */
static double fe_server_wait(struct fe_runner *r, struct fe_prov_state *p, double asked, const char *source,
                             const char *value)
{
    double cap = p->e->max_wait_s;
    bool too_long = !(asked <= cap); /* NaN too */
    double wait = too_long ? cap : asked;
    if (too_long) {
        p->long_waits++;
        fe_warn("provider '%s': the server asked to wait %s (%s: %s); waiting %.0f s (max_wait_s), "
                "%d of %d such asks in a row before giving up",
                p->e->conf.name, isfinite(asked) ? "longer than max_wait_s" : "forever", source, value, wait,
                p->long_waits, FE_LONG_WAITS_GIVE_UP);
        if (p->long_waits >= FE_LONG_WAITS_GIVE_UP) {
            char msg[256];
            snprintf(msg, sizeof(msg), "the server asked %d times in a row for waits longer than max_wait_s "
                     "%.0f s (last: %s: %s)", p->long_waits, cap, source, value);
            fe_provider_stop(r, p, FE_STOP_WAITS, msg);
        }
    }
    return wait;
}

/* Pauses the whole provider for wait seconds, saying why (stderr once, progress line). */
static void fe_provider_pause(struct fe_prov_state *p, double now, double wait, const char *source,
                              const char *value)
{
    if (p->stopped || now + wait <= p->pause_until)
        return;
    if (wait >= 1.0 && now + wait > p->pause_until + 1.0)
        fe_warn("provider '%s': waiting %.0f s because the server asked (%s: %s)", p->e->conf.name, wait,
                source, value);
    p->pause_until = now + wait;
    snprintf(p->waiting, sizeof(p->waiting), "%s: server asked (%s: %s)", p->e->conf.name, source, value);
}

/* x-ratelimit-*: pause proactively when nothing is left. Returns true when a wait was asked. */
static bool fe_apply_rate_headers(struct fe_runner *r, struct fe_job *j, struct fe_prov_state *p, double now)
{
    long remaining;
    double reset;
    bool asked = false;
    if (fe_parse_long(j->rl_remaining_requests, &remaining) && remaining <= 0 &&
        fe_parse_go_duration(j->rl_reset_requests, &reset)) {
        double w = fe_server_wait(r, p, reset, "x-ratelimit-reset-requests", j->rl_reset_requests);
        fe_provider_pause(p, now, w, "x-ratelimit-reset-requests", j->rl_reset_requests);
        asked = asked || !(reset <= p->e->max_wait_s);
    }
    if (!p->stopped && fe_parse_long(j->rl_remaining_tokens, &remaining) && remaining < j->est_tokens &&
        fe_parse_go_duration(j->rl_reset_tokens, &reset)) {
        double w = fe_server_wait(r, p, reset, "x-ratelimit-reset-tokens", j->rl_reset_tokens);
        fe_provider_pause(p, now, w, "x-ratelimit-reset-tokens", j->rl_reset_tokens);
        asked = asked || !(reset <= p->e->max_wait_s);
    }
    return asked;
}

/* Second interrupt: the requests in flight are abandoned, each recorded as an error (its attempt
 * may be billed: it counts at its worst case) so a resume re-sends it and the budget still sees it. */
static void fe_runner_abandon_in_flight(struct fe_runner *r)
{
    while (r->inflight) {
        struct fe_job *j = r->inflight;
        fe_inflight_unlink(r, j);
        r->in_flight--;
        r->reserved_usd -= j->worst_usd;
        fe_job_add_cost(r, j, j->worst_usd, true);
        j->last_kind = FE_ERRK_INTERRUPTED;
        j->last_status = 0;
        free(j->last_msg);
        j->last_msg = fe_xstrdup("abandoned in flight by a second interrupt");
        fe_job_record_last_error(r, j, FE_ERRK_INTERRUPTED, "abandoned in flight");
    }
}

static void fe_classify_transport(CURLcode cc, bool overflow, struct fe_provider_error *pe)
{
    memset(pe, 0, sizeof(*pe));
    pe->retryable = true;
    if (cc == CURLE_OPERATION_TIMEDOUT) {
        pe->kind = FE_ERRK_TIMEOUT;
    } else if (cc == CURLE_PARTIAL_FILE || cc == CURLE_BAD_CONTENT_ENCODING) {
        pe->kind = FE_ERRK_MALFORMED;
    } else if (cc == CURLE_WRITE_ERROR && overflow) {
        pe->kind = FE_ERRK_MALFORMED;
        pe->retryable = false;
    } else {
        pe->kind = FE_ERRK_CONNECTION;
    }
    pe->message = fe_xasprintf("%s%s", curl_easy_strerror(cc),
                               overflow ? " (response larger than 8 MiB)" : "");
}

/* Usage an answer reports that must not be believed: above 10M tokens in one call. */
static bool fe_usage_absurd(const struct fe_completion *comp)
{
    return comp->has_usage && (comp->prompt_tokens > FE_USAGE_ABSURD || comp->completion_tokens > FE_USAGE_ABSURD ||
                               comp->cached_tokens > FE_USAGE_ABSURD);
}

static void fe_job_done(struct fe_runner *r, struct fe_job *j, CURLcode cc, double now)
{
    struct fe_prov_state *p = r->arms[j->arm].prov;
    struct fe_arm_state *as = &r->arms[j->arm];
    const struct fe_arm_conf *arm = &r->c->arms[j->arm];
    fe_inflight_unlink(r, j);
    p->in_flight--;
    r->in_flight--;
    r->reserved_usd -= j->worst_usd;
    long status = 0;
    curl_off_t total_us = 0, sent = 0;
    curl_easy_getinfo(j->easy, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_getinfo(j->easy, CURLINFO_TOTAL_TIME_T, &total_us);
    long request_size = 0;
    curl_easy_getinfo(j->easy, CURLINFO_REQUEST_SIZE, &request_size);
    sent = request_size;
    double latency_ms = (double)total_us / 1000.0;
    if (cc == CURLE_OK)
        p->last_response = now;
    bool long_wait_asked = fe_apply_rate_headers(r, j, p, now);

    struct fe_provider_error pe = {0};
    struct fe_completion comp = {0};
    bool ok = false;
    double cost = 0;
    bool estimated = false;
    if (cc == CURLE_OK && status >= 200 && status < 300) {
        struct fe_err perr = {0};
        if (arm->provider->ops->parse_response(j->body.data ? j->body.data : "", j->body.len, &comp,
                                               &perr) == FE_OK && !fe_usage_absurd(&comp)) {
            ok = true;
            if (comp.has_usage && arm->has_price)
                cost = fe_cost_call(&arm->price, comp.prompt_tokens, comp.cached_tokens, comp.completion_tokens,
                                    false);
            else
                cost = j->worst_usd, estimated = true; /* billed, amount unknown: its worst case */
            if (comp.has_usage && arm->max_tokens > 0 && comp.completion_tokens > arm->max_tokens) {
                j->over_cap = true;
                as->compl_ratio = fmax(as->compl_ratio, (double)comp.completion_tokens / (double)arm->max_tokens);
                if (!as->warned_over_cap)
                    fe_warn("arm '%s': the server reports %ld completion tokens for max_tokens %ld: flagged "
                            "(usage_over_cap); later budget reservations assume %.2fx", arm->name,
                            comp.completion_tokens, arm->max_tokens, as->compl_ratio);
                as->warned_over_cap = true;
            }
            if (comp.has_usage && j->prompt_est > 0 && comp.prompt_tokens > j->prompt_est)
                as->prompt_ratio = fmax(as->prompt_ratio, (double)comp.prompt_tokens / (double)j->prompt_est);
        } else {
            pe.kind = FE_ERRK_MALFORMED;
            pe.http_status = status;
            if (perr.code == FE_OK) { /* parsed, but the usage is absurd */
                pe.retryable = false;
                pe.message = fe_xasprintf("usage reports %ld prompt / %ld completion tokens (more than %ld): "
                                          "not believed; counted at the reserved worst case",
                                          comp.prompt_tokens, comp.completion_tokens, FE_USAGE_ABSURD);
            } else {
                pe.retryable = true;
                pe.message = fe_xstrdup(perr.msg);
            }
            fe_completion_release(&comp);
            cost = j->worst_usd, estimated = true; /* an answer was produced: it may be billed */
        }
    } else if (cc == CURLE_OK) {
        arm->provider->ops->classify_error(status, j->body.data, j->body.len, &pe);
    } else {
        fe_classify_transport(cc, j->body_overflow, &pe);
        if (sent > 0) /* the request went out: the server may have run (and billed) it */
            cost = j->worst_usd, estimated = true;
    }
    fe_job_add_cost(r, j, cost, estimated);
    if (cc == CURLE_OK && !long_wait_asked && status < 300)
        p->long_waits = 0;
    if (ok) {
        if (r->o->cache_dir)
            fe_cache_put(r->o->cache_dir, j->key, j->body.data, j->body.len);
        fe_job_record(r, j, &comp, NULL, latency_ms, false);
        fe_completion_release(&comp);
        return;
    }
    if (j->is_probe && cc == CURLE_OK && (status == 401 || status == 403 || status == 404)) {
        r->res->probe_failed = true;
        r->stop_all = true;
        if (r->fatal == FE_OK) {
            r->fatal = FE_EPROVIDER;
            fe_err_set(r->err, FE_EPROVIDER,
                       "provider '%s', model '%s': the first request was refused with HTTP %ld: %s; nothing "
                       "else was sent (check the %s)",
                       p->e->conf.name, arm->model, status, pe.message ? pe.message : pe.kind,
                       status == 404 ? "model id and base_url" : "API key and its permissions");
        }
        fe_job_record(r, j, NULL, &pe, latency_ms, false);
        fe_provider_error_release(&pe);
        return;
    }
    if (strcasecmp(j->should_retry, "true") == 0)
        pe.retryable = !pe.stop_provider;
    else if (strcasecmp(j->should_retry, "false") == 0)
        pe.retryable = false;
    if (pe.stop_provider)
        fe_provider_stop(r, p, FE_STOP_QUOTA, pe.message ? pe.message : pe.kind);
    if (pe.retryable && j->attempts <= arm->max_retries && !p->stopped && !fe_signals) {
        double asked = fe_retry_after_seconds(j->retry_after_ms[0] ? j->retry_after_ms : NULL,
                                              j->retry_after[0] ? j->retry_after : NULL, (double)time(NULL));
        double wait;
        const char *src = j->retry_after_ms[0] ? "retry-after-ms" : "retry-after";
        const char *val = j->retry_after_ms[0] ? j->retry_after_ms : j->retry_after;
        if (asked < 0) {
            wait = fe_backoff_seconds(j->attempts - 1, fe_jitter_uniform(&r->rng));
        } else {
            wait = fe_server_wait(r, p, asked, src, val);
            if (asked <= p->e->max_wait_s && cc == CURLE_OK)
                p->long_waits = 0;
        }
        if (!p->stopped) {
            if (strcmp(pe.kind, FE_ERRK_RATE_LIMIT) == 0 && asked >= 0) /* the whole provider waits */
                fe_provider_pause(p, now, wait, src, val);
            else if (strcmp(pe.kind, FE_ERRK_RATE_LIMIT) == 0)
                p->pause_until = fmax(p->pause_until, now + wait);
            fe_debug("retry %ld of %s/%s in %.3fs after %s (HTTP %ld, request %s)", j->attempts, arm->name,
                     j->item->ex.id, wait, pe.kind, pe.http_status, j->request_id[0] ? j->request_id : "-");
            r->res->retries++;
            j->not_before = now + wait;
            j->last_kind = pe.kind;
            j->last_status = pe.http_status;
            free(j->last_msg);
            j->last_msg = pe.message;
            pe.message = NULL;
            j->next = r->delayed;
            r->delayed = j;
            fe_provider_error_release(&pe);
            return;
        }
    }
    /* retries are spent: with no answer from the provider since this job began, it is down */
    if (cc != CURLE_OK && !p->stopped && p->last_response < j->first_start &&
        (strcmp(pe.kind, FE_ERRK_CONNECTION) == 0 || strcmp(pe.kind, FE_ERRK_TIMEOUT) == 0)) {
        char msg[300];
        snprintf(msg, sizeof(msg), "%s after %ld attempt(s), and no answer to any request since this one was "
                 "first sent", pe.message ? pe.message : pe.kind, j->attempts);
        fe_provider_stop(r, p, FE_STOP_OUTAGE, msg);
    }
    fe_job_record(r, j, NULL, &pe, latency_ms, false);
    fe_provider_error_release(&pe);
}

/* Moves due retries back to the ready queue (front: they were first in line). */
static double fe_release_delayed(struct fe_runner *r, double now)
{
    double wake = now + 0.25;
    struct fe_job **link = &r->delayed;
    while (*link) {
        struct fe_job *j = *link;
        if (j->not_before <= now) {
            *link = j->next;
            fe_ready_push(r, j, true);
        } else {
            wake = fmin(wake, j->not_before);
            link = &j->next;
        }
    }
    return wake;
}

/* ---- progress ----------------------------------------------------------------------------- */

static void fe_progress(struct fe_runner *r, double now, bool final)
{
    if (!r->o->progress || (!final && now - r->last_progress < 0.25))
        return;
    r->last_progress = now;
    size_t total = r->o->total_examples * r->c->n_arms;
    size_t done = r->done_total + r->res->already_done;
    double elapsed = now - r->t0;
    size_t this_session = r->done_total;
    double rate = elapsed > 0 ? (double)this_session / elapsed : 0;
    struct fe_buf line;
    fe_buf_init(&line, 0);
    fe_buf_adds(&line, "\r\033[K");
    for (size_t a = 0; a < r->c->n_arms; a++)
        fe_buf_addf(&line, "%s %zu/%zu  ", r->c->arms[a].name, r->arms[a].recorded + r->arms[a].skipped,
                    r->o->total_examples);
    fe_buf_addf(&line, "| %.1f req/s | %zu errors | $%.4f", rate, r->res->errors, r->seed_usd + r->res->spent_usd);
    bool waiting = false;
    for (size_t i = 0; i < r->c->n_providers && !final; i++) {
        const struct fe_prov_state *p = &r->provs[i];
        if (!p->stopped && p->pause_until > now && p->waiting[0]) {
            fe_buf_addf(&line, " | waiting %.0fs: %s", p->pause_until - now, p->waiting);
            waiting = true;
            break;
        }
    }
    if (rate > 0 && total > done && !waiting)
        fe_buf_addf(&line, " | ETA %.0fs", (double)(total - done) / rate);
    if (final)
        fe_buf_addch(&line, '\n');
    fputs(fe_buf_str(&line), stderr);
    fflush(stderr);
    fe_buf_release(&line);
}

/* ---- the loop ----------------------------------------------------------------------------- */

static enum fe_status fe_runner_setup(struct fe_runner *r)
{
    const struct fe_config *c = r->c;
    r->provs = fe_xcalloc(c->n_providers, sizeof(*r->provs));
    for (size_t i = 0; i < c->n_providers; i++) {
        struct fe_prov_state *p = &r->provs[i];
        p->e = &c->providers[i];
        p->limit = p->e->concurrency > 0 ? p->e->concurrency : r->o->concurrency;
        p->bucket_time = fe_now();
        p->req_level = p->e->rpm > 0 ? fmax(1.0, p->e->rpm / 60.0) : 0;
        p->tok_level = p->e->tpm / 60.0;
        if (p->e->used && (p->e->ops->caps & FE_CAP_OFFLINE)) {
            enum fe_status st = p->e->ops->offline_open(&p->e->conf, &p->offline, r->err);
            if (st != FE_OK)
                return st;
        }
    }
    r->arms = fe_xcalloc(c->n_arms, sizeof(*r->arms));
    r->probes = fe_xcalloc(c->n_arms, sizeof(*r->probes));
    for (size_t a = 0; a < c->n_arms; a++) /* teardown after a failed open must not close fd 0 */
        r->arms[a].journal.fd = -1;
    for (size_t a = 0; a < c->n_arms; a++) {
        struct fe_arm_state *as = &r->arms[a];
        as->prov = &r->provs[c->arms[a].provider - c->providers];
        as->prompt_ratio = as->compl_ratio = 1.0;
        size_t g = 0; /* one probe per (provider, model) */
        while (g < r->n_probes && !(r->probes[g].prov == c->arms[a].provider &&
                                    strcmp(r->probes[g].model ? r->probes[g].model : "",
                                           c->arms[a].model ? c->arms[a].model : "") == 0))
            g++;
        if (g == r->n_probes)
            r->probes[r->n_probes++] = (struct fe_probe){c->arms[a].provider, c->arms[a].model, FE_PROBE_NONE};
        as->probe = g;
        fe_strmap_init(&as->done);
        as->journal.fd = -1;
        char *path = fe_xasprintf("%s/%s.jsonl", r->o->run_dir, c->arms[a].name);
        size_t n_done = 0;
        enum fe_status st = fe_journal_open(&as->journal, path, r->o->resume, &as->done, &n_done, r->err);
        free(path);
        if (st != FE_OK)
            return st;
        r->seed_usd += as->journal.recovered_spend_usd;
        r->res->spend_estimated = r->res->spend_estimated || as->journal.recovered_spend_estimated;
    }
    r->res->seed_usd = r->seed_usd;
    if (r->seed_usd > 0)
        fe_info("resume: earlier sessions of this run spent $%.6f (from their records)", r->seed_usd);
    return fe_dataset_open(&r->reader, c->dataset_path, r->err);
}

/* Queued jobs are dropped; one that already tried is recorded with its last error so its
 * attempts' spend is kept (the budget of a resume starts from the records). */
static void fe_runner_drop_queued(struct fe_runner *r, struct fe_job *list)
{
    for (struct fe_job *j = list, *next; j; j = next) {
        next = j->next;
        if (j->attempts > 0 && r->arms[j->arm].journal.fd >= 0)
            fe_job_record_last_error(r, j, FE_ERRK_INTERRUPTED, "not retried: the run stopped");
        else
            fe_job_free(r, j);
    }
}

/* Pairs of the plan with no record at all (whatever its status). */
static size_t fe_runner_unsent(const struct fe_runner *r)
{
    size_t unsent = 0;
    for (size_t a = 0; a < r->c->n_arms; a++) {
        size_t have = r->arms[a].journal.seen.count;
        unsent += r->o->total_examples > have ? r->o->total_examples - have : 0;
    }
    return unsent;
}

static void fe_runner_teardown(struct fe_runner *r)
{
    struct fe_job *ready = r->ready_head, *delayed = r->delayed;
    r->ready_head = r->ready_tail = r->delayed = NULL;
    if (r->arms) {
        fe_runner_drop_queued(r, ready);
        fe_runner_drop_queued(r, delayed);
        r->res->unsent = fe_runner_unsent(r);
        for (size_t a = 0; a < r->c->n_arms; a++) {
            struct fe_err cerr = {0};
            if (fe_journal_close(&r->arms[a].journal, &cerr) != FE_OK && r->fatal == FE_OK) {
                r->fatal = FE_EIO;
                fe_err_set(r->err, FE_EIO, "%s", cerr.msg);
            }
            fe_strmap_release(&r->arms[a].done);
        }
    }
    if (r->provs)
        for (size_t i = 0; i < r->c->n_providers; i++)
            if (r->provs[i].offline)
                r->provs[i].e->ops->offline_close(r->provs[i].offline);
    free(r->arms);
    free(r->probes);
    free(r->provs);
    fe_dataset_close(r->reader);
    if (r->multi)
        curl_multi_cleanup(r->multi);
}

enum fe_status fe_runner_run(const struct fe_config *c, const struct fe_runner_opts *o,
                             struct fe_runner_result *res, struct fe_err *err)
{
    memset(res, 0, sizeof(*res));
    struct fe_runner r = {.c = c, .o = o, .res = res, .err = err};
    r.rng = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32) ^ 0x9E3779B97F4A7C15ULL;
    r.t0 = r.last_progress = fe_now();
    fe_signals = 0;
    struct sigaction sa = {0}, old_int, old_term, old_hup;
    sa.sa_handler = fe_on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);
    sigaction(SIGHUP, &sa, &old_hup); /* a closed terminal or ssh session: like SIGTERM */

    enum fe_status st = fe_runner_setup(&r);
    if (st != FE_OK)
        goto out;
    r.multi = curl_multi_init();
    curl_multi_setopt(r.multi, CURLMOPT_MAXCONNECTS, (long)o->concurrency + 8);
    size_t window = (size_t)o->concurrency * 2 + 16;

    for (;;) {
        double now = fe_now();
        if (fe_signals && !r.stop_all) {
            r.stop_all = true;
            res->interrupted = true;
            if (o->progress)
                fputc('\n', stderr);
            fe_warn("interrupted: finishing %ld request(s) in flight (press Ctrl-C again to abandon them)",
                    r.in_flight);
        }
        if (fe_signals > 1 && r.in_flight > 0)
            break; /* abandon: teardown frees the handles; those examples stay unsent */
        while (!r.stop_all && r.outstanding < window && fe_read_example(&r))
            ;
        for (size_t i = 0; i < c->n_providers; i++)
            fe_bucket_refill(&r.provs[i], now);
        double wake = fe_release_delayed(&r, now);
        wake = fmin(wake, fe_start_ready(&r, now));
        /* a stopped provider's jobs are dropped and never created again, so this always comes */
        if (r.in_flight == 0 && (r.stop_all || (r.eof && !r.ready_head && !r.delayed)))
            break;
        int running = 0;
        curl_multi_perform(r.multi, &running);
        CURLMsg *msg;
        int left;
        bool any = false;
        while ((msg = curl_multi_info_read(r.multi, &left)) != NULL) {
            if (msg->msg != CURLMSG_DONE)
                continue;
            struct fe_job *j = NULL;
            curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&j);
            CURLcode cc = msg->data.result;
            fe_job_done(&r, j, cc, fe_now());
            any = true;
        }
        for (size_t a = 0; a < c->n_arms; a++) {
            struct fe_err serr = {0};
            if (fe_journal_sync(&r.arms[a].journal, now, false, &serr) != FE_OK && r.fatal == FE_OK) {
                r.fatal = FE_EIO;
                fe_err_set(err, FE_EIO, "%s", serr.msg);
                r.stop_all = true;
            }
        }
        fe_progress(&r, now, false);
        if (any)
            continue;
        double wait_ms = (wake - fe_now()) * 1000.0;
        int timeout = wait_ms < 1 ? 1 : wait_ms > 250 ? 250 : (int)wait_ms;
        if (r.in_flight > 0)
            curl_multi_poll(r.multi, NULL, 0, timeout, NULL);
        else
            nanosleep(&(struct timespec){.tv_sec = 0, .tv_nsec = (long)timeout * 1000000L}, NULL);
    }
    fe_progress(&r, fe_now(), true);
    st = r.fatal;
out:
    fe_runner_abandon_in_flight(&r);
    fe_runner_teardown(&r);
    if (st == FE_OK)
        st = r.fatal; /* a journal that failed to sync or close at the end */
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);
    sigaction(SIGHUP, &old_hup, NULL);
    return st;
}
