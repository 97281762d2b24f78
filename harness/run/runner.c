/* runner.c — see runner.h; the scheduling half of the runner (runner_int.h says who does what). The loop: fill the window with jobs from the dataset, start every job
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

#include "harness/base/buf.h"
#include "harness/base/log.h"
#include "harness/base/util.h"
#include "harness/run/cache.h"
#include "harness/run/journal.h"
#include "harness/run/runner_int.h"
#include "metrics/metric.h"

static void fe_on_signal(int sig)
{
    (void)sig;
    fe_runner_signals++;
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
    if (!fe_shard_mine(r->o->shard, it->ex.id)) { /* another shard's example: counts for --limit only */
        fe_item_unref(it);
        return true;
    }
    for (size_t a = 0; a < r->c->n_arms; a++) {
        struct fe_arm_state *as = &r->arms[a];
        if (fe_strmap_get(&as->done, it->ex.id, NULL)) {
            as->skipped++;
            r->res->already_done++;
            fe_judge_resumed(r, it, a); /* its output, and judgements a stop left pending */
            continue;
        }
        if (as->prov->stopped) /* quota, outage or waits: this pair stays unsent */
            continue;
        if (r->o->judge_only && r->o->judge_only[a]) /* a batch arm: its records are only judged */
            continue;
        const struct fe_arm_conf *arm = &r->c->arms[a];
        struct fe_job *j = fe_xcalloc(1, sizeof(*j));
        j->item = it;
        j->arm = a;
        it->refs++;
        r->outstanding++;
        fe_net_xfer_init(&j->x);
        struct fe_message *msgs = NULL;
        size_t n_msgs = 0;
        struct fe_err berr = {0};
        if (fe_build_messages(r->c, arm, &it->ex, &msgs, &n_msgs, &berr) != FE_OK) {
            struct fe_provider_error pe = {.kind = FE_ERRK_BAD_REQUEST, .message = berr.msg};
            fe_job_record(r, j, NULL, &pe, NAN, false);
            continue;
        }
        j->input = fe_xstrdup(fe_final_user_message(msgs, n_msgs));
        j->prompt_est = fe_estimate_prompt_tokens(msgs, n_msgs);
        j->est_tokens = j->prompt_est + arm->max_tokens;
        struct fe_chat_request req = {
            .arm = arm->name, .example_id = it->ex.id, .model = arm->model,
            .messages = msgs, .n_messages = n_msgs,
            .has_temperature = arm->has_temperature, .temperature = arm->temperature,
            .max_tokens = arm->max_tokens, .has_seed = arm->has_seed, .seed = arm->seed,
            .extra_body = arm->extra_body,
            .now_unix = (long long)time(NULL), /* signing providers (bedrock) sign with it */
            .stream = arm->stream,
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
        if (arm->stream) /* events parsed as they arrive (net/stream.h) */
            fe_net_xfer_stream(&j->x, ops, arm->first_token_timeout_s);
        const struct fe_provider_conf *pc = &arm->provider->conf;
        fe_cache_key(pc->name, pc->base_url, arm->model, j->req.body, j->req.body_len, j->key);
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
    const struct fe_provider_ops *ops = fe_job_conf(r, j)->provider->ops;
    j->repaired = fe_net_json_repair(body, len);
    bool ok = (j->x.stream ? fe_net_stream_parse_all(ops, body, len, &comp, &perr)
                           : ops->parse_response(body, len, &comp, &perr)) == FE_OK;
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
    const struct fe_arm_conf *arm = fe_job_conf(r, j);
    const struct fe_arm_state *as = &r->arms[j->arm];
    if (!arm->has_price)
        return 0;
    long prompt = (long)ceil((double)j->prompt_est * as->prompt_ratio);
    long compl = (long)ceil((double)arm->max_tokens * as->compl_ratio);
    return fe_cost_call(&arm->price, prompt, 0, compl, false);
}

static void fe_job_start(struct fe_runner *r, struct fe_job *j, struct fe_prov_state *p)
{
    const struct fe_arm_conf *arm = fe_job_conf(r, j);
    j->attempts++;
    if (j->attempts == 1)
        j->first_start = fe_now();
    j->worst_usd = fe_job_worst_usd(r, j);
    if (j->x.easy)
        curl_multi_remove_handle(r->multi, j->x.easy);
    const struct fe_provider_ops *ops = arm->provider->ops;
    if (ops->sign_request) { /* a fresh signature for every attempt (SigV4 expires after 5 min) */
        struct fe_err serr = {0};
        if (ops->sign_request(&arm->provider->conf, (long long)time(NULL), &j->req, &serr) != FE_OK)
            fe_warn("arm '%s': %s (sent with the earlier signature)", arm->name, serr.msg);
        if (j->x.easy)
            fe_net_xfer_set_headers(&j->x, &j->req);
    }
    CURL *easy = fe_net_xfer_prepare(&j->x, &j->req, arm->timeout_s, j->attempts - 1, j);
    curl_multi_add_handle(r->multi, easy);
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
    fe_judge_progress(r, &line);
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
    r->seed_usd += r->o->other_spend_usd; /* the batch phase's arms: the budget is the run's */
    if (fe_judge_setup(r) != FE_OK)
        return r->err->code;
    if (r->seed_usd > 0)
        fe_info("resume: earlier sessions of this run spent $%.6f (from their records)", r->seed_usd);
    return fe_dataset_open_with(&r->reader, c->dataset_path, &c->dataset_opts, r->err);
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
        size_t have = r->arms[a].journal.seen.count + r->arms[a].journal.n_new;
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
        fe_judge_teardown(r); /* held records, with what a stop left pending */
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
    fe_runner_signals = 0;
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
        if (fe_runner_signals && !r.stop_all) {
            r.stop_all = true;
            res->interrupted = true;
            if (o->progress)
                fputc('\n', stderr);
            fe_warn("interrupted: finishing %ld request(s) in flight (press Ctrl-C again to abandon them)",
                    r.in_flight);
        }
        if (fe_runner_signals > 1 && r.in_flight > 0)
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
