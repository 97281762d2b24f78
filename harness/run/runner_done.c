/* runner_done.c — what one finished attempt means: the runner's completions (runner_int.h).
 * net/policy.h classifies the attempt and sizes its wait; this file applies it to the run: the
 * record or the retry, pauses and stops of the provider, the attempt's spend. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "harness/base/log.h"
#include "harness/base/util.h"
#include "harness/net/backoff.h"
#include "harness/net/policy.h"
#include "harness/run/cache.h"
#include "harness/run/runner.h"
#include "harness/run/runner_int.h"

volatile sig_atomic_t fe_runner_signals;

void fe_inflight_unlink(struct fe_runner *r, struct fe_job *j)
{
    if (j->in_prev)
        j->in_prev->in_next = j->in_next;
    else
        r->inflight = j->in_next;
    if (j->in_next)
        j->in_next->in_prev = j->in_prev;
    j->in_prev = j->in_next = NULL;
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

/* A wait the server asked for (seconds; NaN or infinite: forever), capped at max_wait_s
 * (fe_net_cap_wait). Says why on stderr; over-long asks in a row give the provider up
 * (fe_net_note_wait). Returns the wait to honour. */
static double fe_server_wait(struct fe_runner *r, struct fe_prov_state *p, double asked, const char *source,
                             const char *value)
{
    double cap = p->e->max_wait_s;
    struct fe_net_wait w = fe_net_cap_wait(asked, cap);
    if (w.too_long) {
        bool give_up = fe_net_note_wait(&p->long_waits, true);
        fe_warn("provider '%s': the server asked to wait %s (%s: %s); waiting %.0f s (max_wait_s), "
                "%d of %d such asks in a row before giving up",
                p->e->conf.name, isfinite(asked) ? "longer than max_wait_s" : "forever", source, value, w.wait,
                p->long_waits, FE_NET_LONG_WAITS_GIVE_UP);
        if (give_up) {
            char msg[256];
            snprintf(msg, sizeof(msg), "the server asked %d times in a row for waits longer than max_wait_s "
                     "%.0f s (last: %s: %s)", p->long_waits, cap, source, value);
            fe_provider_stop(r, p, FE_STOP_WAITS, msg);
        }
    }
    return w.wait;
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
    struct fe_net_rate_wait w[2];
    size_t n = fe_net_rate_waits(&j->x.h, j->est_tokens, w);
    bool asked = false;
    for (size_t i = 0; i < n && (i == 0 || !p->stopped); i++) {
        double wait = fe_server_wait(r, p, w[i].asked, w[i].source, w[i].value);
        fe_provider_pause(p, now, wait, w[i].source, w[i].value);
        asked = asked || fe_net_cap_wait(w[i].asked, p->e->max_wait_s).too_long;
    }
    return asked;
}

/* Second interrupt: the requests in flight are abandoned, each recorded as an error (its attempt
 * may be billed: it counts at its worst case) so a resume re-sends it and the budget still sees it. */
void fe_runner_abandon_in_flight(struct fe_runner *r)
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

/* Usage an answer reports that must not be believed: above 10M tokens in one call. */
static bool fe_usage_absurd(const struct fe_completion *comp)
{
    return comp->has_usage && (comp->prompt_tokens > FE_USAGE_ABSURD || comp->completion_tokens > FE_USAGE_ABSURD ||
                               comp->cached_tokens > FE_USAGE_ABSURD);
}

/* Budget bookkeeping of a parsed answer with usage: over-cap flag and the arm's ratios. */
static void fe_job_observe_usage(struct fe_runner *r, struct fe_job *j, const struct fe_completion *comp)
{
    struct fe_arm_state *as = &r->arms[j->arm];
    const struct fe_arm_conf *arm = fe_job_conf(r, j);
    if (comp->has_usage && arm->max_tokens > 0 && comp->completion_tokens > arm->max_tokens) {
        j->over_cap = true;
        as->compl_ratio = fmax(as->compl_ratio, (double)comp->completion_tokens / (double)arm->max_tokens);
        if (!as->warned_over_cap)
            fe_warn("arm '%s': the server reports %ld completion tokens for max_tokens %ld: flagged "
                    "(usage_over_cap); later budget reservations assume %.2fx", arm->name,
                    comp->completion_tokens, arm->max_tokens, as->compl_ratio);
        as->warned_over_cap = true;
    }
    if (comp->has_usage && j->prompt_est > 0 && comp->prompt_tokens > j->prompt_est)
        as->prompt_ratio = fmax(as->prompt_ratio, (double)comp->prompt_tokens / (double)j->prompt_est);
}

/* A 2xx answer: parses it into comp (true) or explains in pe why it is not one (false). Sets the
 * attempt's cost: its usage, else its reserved worst case (an answer was produced: it may be
 * billed). The body's "\u0000" and lone surrogates are repaired first (j->repaired counts them). */
static bool fe_job_parse_answer(struct fe_runner *r, struct fe_job *j, const struct fe_net_attempt *a,
                                struct fe_completion *comp, struct fe_provider_error *pe, double *cost,
                                bool *estimated)
{
    const struct fe_arm_conf *arm = fe_job_conf(r, j);
    struct fe_err perr = {0};
    j->repaired = fe_net_json_repair(j->x.body.data ? j->x.body.data : NULL, j->x.body.len);
    *cost = j->worst_usd, *estimated = true;
    enum fe_status parsed = j->x.stream ? fe_net_stream_take(j->x.stream, a->body, a->len, comp, &perr)
                                        : arm->provider->ops->parse_response(a->body, a->len, comp, &perr);
    if (parsed == FE_OK && !fe_usage_absurd(comp)) {
        if (comp->has_usage && arm->has_price) {
            *cost = fe_cost_call(&arm->price, comp->prompt_tokens, comp->cached_tokens, comp->completion_tokens,
                                 false);
            *estimated = false;
        }
        fe_job_observe_usage(r, j, comp);
        return true;
    }
    pe->kind = FE_ERRK_MALFORMED;
    pe->http_status = a->status;
    char *server_error = perr.code != FE_OK ? fe_net_error_in_success(a->body, a->len) : NULL;
    if (perr.code == FE_OK) { /* parsed, but the usage is absurd */
        pe->retryable = false;
        pe->message = fe_xasprintf("usage reports %ld prompt / %ld completion tokens (more than %ld): "
                                   "not believed; counted at the reserved worst case",
                                   comp->prompt_tokens, comp->completion_tokens, FE_USAGE_ABSURD);
    } else if (server_error) { /* a 200 carrying {"error": ...}: the server's own words */
        pe->retryable = true;
        pe->message = fe_xasprintf("HTTP %ld with an error body: %s", a->status, server_error);
    } else {
        pe->retryable = true;
        pe->message = fe_xstrdup(perr.msg);
    }
    free(server_error);
    int override = fe_net_should_retry(a->headers);
    if (override >= 0)
        pe->retryable = override == 1;
    fe_completion_release(comp);
    return false;
}

/* The first request of a (provider, model) was refused (401/403/404): stop the run with the
 * server's message. Returns true when it did (j recorded). */
static bool fe_job_probe_refused(struct fe_runner *r, struct fe_job *j, const struct fe_net_attempt *a,
                                 struct fe_provider_error *pe, double latency_ms)
{
    long status = a->status;
    if (!j->is_probe || a->cc != CURLE_OK || !(status == 401 || status == 403 || status == 404))
        return false;
    const struct fe_arm_conf *arm = fe_job_conf(r, j);
    r->res->probe_failed = true;
    r->stop_all = true;
    if (r->fatal == FE_OK) {
        r->fatal = FE_EPROVIDER;
        fe_err_set(r->err, FE_EPROVIDER,
                   "provider '%s', model '%s': the first request was refused with HTTP %ld: %s; nothing "
                   "else was sent (check the %s)",
                   r->arms[j->arm].prov->e->conf.name, arm->model, status, pe->message ? pe->message : pe->kind,
                   status == 404 ? "model id and base_url" : "API key and its permissions");
    }
    fe_job_record(r, j, NULL, pe, latency_ms, false);
    return true;
}

/* Schedules the retry of j after a failed attempt when the policy allows one. Returns true when it
 * did (j is on the delayed list and owns pe's message). */
static bool fe_job_retry(struct fe_runner *r, struct fe_job *j, const struct fe_net_attempt *a,
                         struct fe_provider_error *pe, double now)
{
    struct fe_prov_state *p = r->arms[j->arm].prov;
    const struct fe_arm_conf *arm = fe_job_conf(r, j);
    if (!pe->retryable || j->attempts > arm->max_retries || p->stopped || fe_runner_signals)
        return false;
    double asked = -1, wait;
    const char *src = "retry-after", *val = "";
    bool server_asked = fe_net_requested_wait(&j->x.h, (double)time(NULL), &asked, &src, &val);
    if (!server_asked) {
        wait = fe_backoff_seconds(j->attempts - 1, fe_jitter_uniform(&r->rng));
    } else {
        wait = fe_server_wait(r, p, asked, src, val);
        if (asked <= p->e->max_wait_s && a->cc == CURLE_OK)
            fe_net_note_wait(&p->long_waits, false);
    }
    if (p->stopped)
        return false;
    bool rate_limit = strcmp(pe->kind, FE_ERRK_RATE_LIMIT) == 0;
    if (rate_limit && server_asked) /* the whole provider waits */
        fe_provider_pause(p, now, wait, src, val);
    else if (rate_limit)
        p->pause_until = fmax(p->pause_until, now + wait);
    fe_debug("retry %ld of %s/%s in %.3fs after %s (HTTP %ld, request %s)", j->attempts, arm->name,
             j->item->ex.id, wait, pe->kind, pe->http_status, j->x.h.request_id[0] ? j->x.h.request_id : "-");
    r->res->retries++;
    j->not_before = now + wait;
    j->last_kind = pe->kind;
    j->last_status = pe->http_status;
    free(j->last_msg);
    j->last_msg = pe->message;
    pe->message = NULL;
    j->next = r->delayed;
    r->delayed = j;
    return true;
}

void fe_job_done(struct fe_runner *r, struct fe_job *j, CURLcode cc, double now)
{
    struct fe_prov_state *p = r->arms[j->arm].prov;
    const struct fe_arm_conf *arm = fe_job_conf(r, j);
    fe_inflight_unlink(r, j);
    p->in_flight--;
    r->in_flight--;
    r->reserved_usd -= j->worst_usd;
    struct fe_net_attempt a;
    double latency_ms;
    long sent;
    fe_net_xfer_finish(&j->x, cc, &a, &latency_ms, &sent);
    if (cc == CURLE_OK || a.status > 0) /* an answer began (a stream that stalled is not an outage) */
        p->last_response = now;
    bool long_wait_asked = fe_apply_rate_headers(r, j, p, now);

    struct fe_provider_error pe = {0};
    struct fe_completion comp = {0};
    bool ok = false, refusal_status = false;
    double cost = 0;
    bool estimated = false;
    char *raw = NULL; /* the answer as received (redacted), for the cache: a hit repairs it again */
    if (j->x.stream && fe_net_stream_failed(j->x.stream, &a, &pe)) { /* cut, stalled, error event */
        if (sent > 0) /* the request went out: the server may have run (and billed) it */
            cost = j->worst_usd, estimated = true;
    } else if (cc == CURLE_OK && a.status >= 200 && a.status < 300) {
        if (r->o->cache_dir) {
            raw = fe_xmalloc(a.len + 1);
            memcpy(raw, a.body, a.len);
        }
        ok = fe_job_parse_answer(r, j, &a, &comp, &pe, &cost, &estimated);
    } else if (cc == CURLE_OK && arm->provider->ops->parse_refusal &&
               arm->provider->ops->parse_refusal(a.status, a.body, a.len, &comp)) {
        ok = true; /* the platform refused the prompt (Azure content filter): an answer, not an error */
        refusal_status = true; /* not cached: the cache replays 2xx bodies only */
        cost = j->worst_usd, estimated = true; /* no usage reported: its worst case */
    } else {
        fe_completion_release(&comp);
        fe_net_classify_ops(&a, arm->provider->ops, &pe);
        if (cc != CURLE_OK && sent > 0) /* the request went out: the server may have run (and billed) it */
            cost = j->worst_usd, estimated = true;
    }
    fe_job_add_cost(r, j, cost, estimated);
    if (cc == CURLE_OK && !long_wait_asked && a.status < 300)
        p->long_waits = 0;
    if (ok) {
        if (raw && !refusal_status)
            fe_cache_put(r->o->cache_dir, j->key, raw, a.len);
        free(raw);
        fe_job_record(r, j, &comp, NULL, latency_ms, false);
        fe_completion_release(&comp);
        return;
    }
    free(raw);
    if (fe_job_probe_refused(r, j, &a, &pe, latency_ms)) {
        fe_provider_error_release(&pe);
        return;
    }
    if (pe.stop_provider)
        fe_provider_stop(r, p, FE_STOP_QUOTA, pe.message ? pe.message : pe.kind);
    if (fe_job_retry(r, j, &a, &pe, now)) {
        fe_provider_error_release(&pe);
        return;
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
