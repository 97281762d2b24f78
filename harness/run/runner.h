/* runner.h — sends every (example, arm) request and records the results.
 *
 * One libcurl multi loop drives all requests: bounded concurrency per provider (and overall),
 * token-bucket RPM/TPM limits, proactive pauses from x-ratelimit-* headers, retries under the one
 * transfer and retry policy of net/policy.h (retry-after-ms / retry-after / x-should-retry, backoff
 * with jitter, max_wait_s; shared with the fine-tuning client), per-request timeouts, the response
 * cache, the budget (a request is never started when its worst-case cost could exceed what is
 * left) and graceful interruption (SIGINT/SIGTERM: in-flight requests finish and are recorded; a
 * second signal abandons them). Examples stream from the dataset; each result is appended to its
 * arm's JSONL as it completes, so memory does not grow with the dataset.
 *
 * A failed example is data: recorded with status "error" and scores 0; the run goes on. Only
 * I/O failures (FE_EIO) and a first request refused with 401/403/404 (FE_EPROVIDER) end the run
 * early as errors; quota, outage, long waits and budget exhaustion stop sending and are reported
 * in the result.
 *
 * Integrity rules (issue 11):
 * - The first request of each (provider, model) goes out alone; a 401/403/404 answer stops the
 *   run with the server's message before anything else is sent.
 * - Budget: spend is the sum over every attempt of every session of the run (seeded from the
 *   records on resume). An attempt that may be billed — an answer, an unparsable answer, a
 *   timeout or a connection lost after the request was sent — costs its usage when the answer
 *   carries a usable one, else its reserved worst case (spend_estimated). Usage above 10M tokens
 *   is an error record, not a spend. Usage beyond the requested max_tokens is flagged
 *   (usage_over_cap) and later reservations of that arm grow by the observed ratio. A request
 *   starts only when spend + reservations + its worst case <= budget.max_usd.
 * - Waits a server asks for (retry-after, x-ratelimit-reset-*) are capped at the provider's
 *   max_wait_s, said on stderr and the progress line; after 3 such over-long asks in a row the
 *   provider is given up (waits_gave_up). A provider whose requests fail with connection errors
 *   or timeouts with no answer since they started is stopped (outage). A stopped provider's
 *   queued work is dropped (jobs with attempts are recorded as errors, keeping their spend), so
 *   the run always ends.
 */
#ifndef FE_RUNNER_H
#define FE_RUNNER_H

#include <stdbool.h>
#include <stddef.h>

#include "harness/input/shard.h"
#include "harness/run/config.h"
#include "harness/base/err.h"

struct fe_runner_opts {
    const char *run_dir;        /* where <arm>.jsonl live */
    const char *cache_dir;      /* NULL: cache off */
    bool resume;                /* keep completed records, send the rest */
    long concurrency;           /* overall cap on requests in flight */
    long limit;                 /* 0: every example; else the first N */
    const struct fe_shard *shard; /* NULL: every example; else only this shard's (after limit) */
    size_t total_examples;      /* for progress and ETA (after limit) */
    bool progress;              /* draw a progress line on stderr */
    /* Grown at the end (issue 14, batch.c, docs/batch.md). */
    int batch;                  /* FE_BATCH_BY_CONFIG (0): providers with "batch": true;
                                 * FE_BATCH_ALL: `run --batch`; FE_BATCH_OFF: online only */
    bool batch_fallback_online; /* --batch-fallback online: what batches left finishes online */
    double other_spend_usd;     /* spend of arms this runner does not see (the batch phase):
                                 * counted by the budget, not reported as this runner's */
    bool quiet;                 /* no status lines (batch creates, status changes) on stderr */
    const bool *judge_only;     /* per arm, NULL: none. An arm whose records a batch wrote: send
                                 * nothing for it, only judge its records (batch.c) */
};

enum { FE_BATCH_BY_CONFIG = 0, FE_BATCH_ALL = 1, FE_BATCH_OFF = 2 };

struct fe_runner_result {
    size_t recorded;            /* records written this session */
    size_t errors;              /* of which failed */
    size_t already_done;        /* resumed: examples not re-sent */
    size_t cache_hits;
    size_t retries;
    size_t unsent;              /* planned (example, arm) pairs with no record at the end */
    double spent_usd;           /* this session: every attempt that may be billed (see below) */
    double seed_usd;            /* earlier sessions of this run (from their records) */
    bool spend_estimated;       /* some attempt settled at its worst case (no usable usage) */
    double saved_usd;           /* priced calls answered from the cache */
    bool quota_stopped;
    char quota_provider[128];
    bool outage;                /* a provider stopped answering (connection/timeout, no answer) */
    bool waits_gave_up;         /* a provider kept asking for waits longer than max_wait_s */
    bool probe_failed;          /* the first request of a (provider, model) got 401/403/404 */
    char stop_provider[128];    /* the provider stopped by any of the above */
    char stop_message[512];     /* why, in the server's own words where there are any */
    bool budget_stopped;
    bool interrupted;
    /* Grown at the end (issue 14). */
    size_t batches_created;     /* batches created this session (batch.c) */
};

enum fe_status fe_runner_run(const struct fe_config *c, const struct fe_runner_opts *o,
                             struct fe_runner_result *res, struct fe_err *err);

/* True when some selected arm goes through a batch API under o (batch.c). */
bool fe_batch_wanted(const struct fe_config *c, const struct fe_runner_opts *o);
/* The batch run (batch.c, docs/batch.md): the batch arms through their provider's batch API,
 * then the other arms (and, with batch_fallback_online, what batches left) through
 * fe_runner_run. Same results directory, records and result counts as an online run; records
 * carry "batch_id" and a null latency. `fteval run` calls it instead of fe_runner_run when
 * fe_batch_wanted. */
enum fe_status fe_batch_run(const struct fe_config *c, const struct fe_runner_opts *o,
                            struct fe_runner_result *res, struct fe_err *err);

/* Builds the per-example record JSON (docs/results-format.md). Exposed for `score` and tests. */
struct fe_record_in {
    const char *arm;
    char *const *metrics;       /* metric names, scored in this order */
    size_t n_metrics;
    const struct fe_metric_task *task; /* task.schema/task.pattern for the format metrics, or NULL */
    const struct fe_price *price; /* NULL: unknown price, cost_usd null */
    const struct fe_example *ex;
    bool ok;
    const char *prediction;     /* NULL on error */
    const char *finish_reason;
    const char *model;
    const char *request_id;
    const char *error_kind;
    long http_status;
    const char *error_message;
    double latency_ms;          /* NAN: nothing was timed (offline, cache, local error): null */
    long attempts;
    bool has_usage;
    long prompt_tokens, completion_tokens, cached_tokens;
    const char *request_sha256;
    bool cache_hit;
    bool has_spend;             /* emit spend_usd / attempt_costs_usd / spend_estimated */
    const double *attempt_costs; /* one per attempt, USD (0 when not billable) */
    size_t n_attempt_costs;
    double spend_usd;
    bool spend_estimated;
    bool usage_over_cap;        /* completion tokens above the max_tokens requested */
    size_t replaced_chars;      /* characters of the prediction replaced by U+FFFD (NUL, lone
                                 * surrogate): > 0 emits "replaced_chars" */
    const char *input;          /* the rendered final user message, or NULL (not rendered):
                                 * "input", cut to FE_RECORD_INPUT_MAX bytes on a UTF-8 boundary
                                 * with "input_truncated": true when cut */
    const char *batch_id;       /* answered through a batch (issue 14): emitted, and the cost is
                                 * at the row's batch_multiplier (null when the row has none) */
    bool stream;                /* the arm streams: emits "stream", "ttft_ms", "output_tokens_per_s" */
    double ttft_ms;             /* NAN: no content was timed (error, cache hit): null */
};
/* The most bytes of a record's "input" (DESIGN §7: records keep the input, capped). */
#define FE_RECORD_INPUT_MAX 8192u
/* The final user message of messages (the one the example adds), or NULL when none. Borrowed. */
const char *fe_final_user_message(const struct fe_message *m, size_t n);
/* Returns a new record object (caller deletes) and the cost in *cost (negative when unknown). */
cJSON *fe_record_build(const struct fe_record_in *in, double *cost);

#endif
