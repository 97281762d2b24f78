/* runner_int.h — the runner's private state, shared by its three files (not a public header).
 *
 * The runner is split by concern, and its files call each other in one direction only:
 *   runner.c       scheduling: the loop, reading the dataset, the ready/delayed queues, probes,
 *                  rate buckets, the budget check, the cache, starting attempts, progress;
 *   runner_done.c  completions: what one finished attempt means (net/policy.h classifies it and
 *                  sizes its wait), retries, pauses, provider stops, spend per attempt;
 *   record.c       records: building and appending a record, freeing a job.
 * The transfer itself (options, body, headers, redaction) is net/transfer.c.
 */
#ifndef FE_RUNNER_INT_H
#define FE_RUNNER_INT_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <curl/curl.h>
#include <cjson/cJSON.h>

#include "harness/base/err.h"
#include "harness/base/strmap.h"
#include "harness/input/dataset.h"
#include "harness/net/transfer.h"
#include "harness/run/journal.h"

struct fe_config;
struct fe_provider_entry;
struct fe_runner_opts;
struct fe_runner_result;

#define FE_USAGE_ABSURD 10000000L /* tokens: more in one answer is not a usage, it is a bug */
#define FE_ERRK_INTERRUPTED "interrupted"

/* SIGINT/SIGTERM/SIGHUP received during fe_runner_run (runner.c's handler counts them). */
extern volatile sig_atomic_t fe_runner_signals;

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
    char *input;               /* the rendered final user message (the record's "input"), or NULL */
    double worst_usd;          /* reserved while in flight (0 when unpriced) */
    double first_start;        /* when the first attempt started */
    double *attempt_costs;     /* one per settled attempt */
    size_t n_costs;
    double spend_usd;
    bool spend_estimated, over_cap, is_probe;
    const char *last_kind;     /* the last failed attempt, for a record written at a stop */
    long last_status;
    char *last_msg;
    size_t repaired;           /* characters of the answer replaced by U+FFFD (fe_net_json_repair) */
    struct fe_net_xfer x;      /* the attempt's transfer: handle, body, headers (net/transfer.h) */
    struct fe_job *next;       /* ready or delayed list */
    struct fe_job *in_prev, *in_next; /* in-flight list */
    /* judge_run.c (issue 12): a judge request (arm >= c->n_arms: judge arm - n_arms) is for one
     * judgement of a held record; NULL for an arm's request */
    void *judge_rec;
    int judge_slot, judge_order;   /* the judge's slot in the record; 0 AB / 1 BA */
    bool judge_retry;              /* the one retry after an unparsable answer */
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
    struct fe_judging *judging; /* judge_run.c: held records and judge state, NULL without judges */
};

/* judge_run.c (issue 12): judge requests through this runner. A judge is one more slot after
 * the arms: r->arms[n_arms + i] is judge i's state (provider, probe, ratios; no journal). */
struct fe_buf;
struct fe_arm_conf;
/* The settings j is sent with: its arm's, or its judge's (fe_judge.conf). */
const struct fe_arm_conf *fe_job_conf(const struct fe_runner *r, const struct fe_job *j);
/* After the arms are set up: the judges' slots, and on resume the records still to judge. */
enum fe_status fe_judge_setup(struct fe_runner *r);
/* Resume: arm's record of it is already written; its output (and unfinished judgements) count. */
void fe_judge_resumed(struct fe_runner *r, const struct fe_item *it, size_t arm);
/* A record written before its judges ran (batch.c): each judgement that applies to arm is marked
 * pending, as a stop leaves it (judge:* scores 0, the against arm's 0.5), so a stop before the
 * judging reaches it shows as pending and the judging (or --resume) makes it. */
void fe_judge_pending_marks(const struct fe_config *c, size_t arm, cJSON *rec);
/* A generation record of j: returns true when it is held until judged (*rec taken, NULL). */
bool fe_judge_hold(struct fe_runner *r, const struct fe_job *j, cJSON **rec);
/* A judge request ended (comp or perr): returns true when j was one (the caller frees j). */
bool fe_judge_job_record(struct fe_runner *r, const struct fe_job *j, const struct fe_completion *comp,
                         const struct fe_provider_error *perr, bool cache_hit);
/* " | judge calls N" for the progress line. */
void fe_judge_progress(const struct fe_runner *r, struct fe_buf *line);
/* End of run: held records are written with their unfinished judgements "pending" (a resume
 * judges them); frees the judge state. */
void fe_judge_teardown(struct fe_runner *r);

/* record.c */
void fe_item_unref(struct fe_item *it);
/* Frees a job (removing its handle from the multi handle first); a probe frees the line. */
void fe_job_free(struct fe_runner *r, struct fe_job *j);
/* Writes the record of a finished job and frees the job. */
void fe_job_record(struct fe_runner *r, struct fe_job *j, const struct fe_completion *comp,
                   const struct fe_provider_error *perr, double latency_ms, bool cache_hit);
/* Settles one attempt of j at usd (estimated: no usable usage, its reserved worst case). */
void fe_job_add_cost(struct fe_runner *r, struct fe_job *j, double usd, bool estimated);
/* Records a job that tried and will not try again (stop, interrupt) with its last error. */
void fe_job_record_last_error(struct fe_runner *r, struct fe_job *j, const char *fallback_kind,
                              const char *fallback_msg);

/* runner_done.c */
void fe_inflight_unlink(struct fe_runner *r, struct fe_job *j);
/* One attempt of j ended with cc: record it, or schedule its retry. */
void fe_job_done(struct fe_runner *r, struct fe_job *j, CURLcode cc, double now);
/* Second interrupt: every request in flight is recorded as abandoned (at its worst case). */
void fe_runner_abandon_in_flight(struct fe_runner *r);

#endif
