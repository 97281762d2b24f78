/* runner.h — sends every (example, arm) request and records the results.
 *
 * One libcurl multi loop drives all requests: bounded concurrency per provider (and overall),
 * token-bucket RPM/TPM limits, proactive pauses from x-ratelimit-* headers, retries with backoff
 * honouring retry-after-ms / retry-after / x-should-retry, per-request timeouts, the response
 * cache, the budget (a request is never started when its worst-case cost could exceed what is
 * left) and graceful interruption (SIGINT/SIGTERM: in-flight requests finish and are recorded; a
 * second signal abandons them). Examples stream from the dataset; each result is appended to its
 * arm's JSONL as it completes, so memory does not grow with the dataset.
 *
 * A failed example is data: recorded with status "error" and scores 0; the run goes on. Only
 * I/O failures end the run early (FE_EIO); quota and budget exhaustion stop sending and are
 * reported in the result, not as errors.
 */
#ifndef FE_RUNNER_H
#define FE_RUNNER_H

#include <stdbool.h>
#include <stddef.h>

#include "harness/run/config.h"
#include "harness/base/err.h"

struct fe_runner_opts {
    const char *run_dir;        /* where <arm>.jsonl live */
    const char *cache_dir;      /* NULL: cache off */
    bool resume;                /* keep completed records, send the rest */
    long concurrency;           /* overall cap on requests in flight */
    long limit;                 /* 0: every example; else the first N */
    size_t total_examples;      /* for progress and ETA (after limit) */
    bool progress;              /* draw a progress line on stderr */
    double retry_after_cap_s;   /* longest server-requested wait honoured (default 120) */
};

struct fe_runner_result {
    size_t recorded;            /* records written this session */
    size_t errors;              /* of which failed */
    size_t already_done;        /* resumed: examples not re-sent */
    size_t cache_hits;
    size_t retries;
    size_t unsent;              /* (example, arm) pairs never attempted (quota, budget, signal) */
    double spent_usd;           /* priced calls actually sent */
    double saved_usd;           /* priced calls answered from the cache */
    bool quota_stopped;
    char quota_provider[128];
    bool budget_stopped;
    bool interrupted;
};

enum fe_status fe_runner_run(const struct fe_config *c, const struct fe_runner_opts *o,
                             struct fe_runner_result *res, struct fe_err *err);

/* Builds the per-example record JSON (docs/results-format.md). Exposed for `score` and tests. */
struct fe_record_in {
    const char *arm;
    char *const *metrics;       /* metric names, scored in this order */
    size_t n_metrics;
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
};
/* Returns a new record object (caller deletes) and the cost in *cost (negative when unknown). */
cJSON *fe_record_build(const struct fe_record_in *in, double *cost);

#endif
