/* sim.h — internals of `fteval sim`, the simulated OpenAI-compatible server (docs/sim.md).
 *
 * Split by job; the files call each other in one direction only (tests/layers_test.py checks
 * it): sim_http -> sim_wire, sim_route; sim_route -> sim_chat -> sim_model -> sim_profile;
 * sim_chat, sim_model -> sim_jobs -> sim_files; every file -> sim_fault, sim_util.
 *   sim_http.c     the single-threaded epoll event loop: listening, connections, reading requests
 *                  in order (keep-alive, pipelining, size caps, 100 Continue), timers for simulated
 *                  latency, transport faults (reset, close, stall, truncate)
 *   sim_wire.c     the HTTP/1.1 wire format: request heads, chunked bodies, response bytes
 *   sim_route.c    one request to one handler by method and path, path-scoped faults, the
 *                  request log
 *   sim_chat.c     POST /v1/chat/completions: rule, example, attempt, fault, answer, usage,
 *                  rate-limit headers, latency, streaming
 *   sim_model.c    the dataset index, deterministic answers, GET /v1/models
 *   sim_profile.c  profiles: rules matched by model id and system-prompt substring
 *   sim_jobs.c     in-memory /v1/fine_tuning/jobs (status advances with time), models of jobs
 *   sim_files.c    in-memory /v1/files, and the reply helpers of files and jobs
 *   sim_batch.c    OpenAI /v1/batches and Anthropic /v1/messages/batches: time-driven status,
 *                  answers from sim_chat.c into result files, batch faults (sim_route -> sim_batch
 *                  -> sim_chat, sim_files)
 *   sim_fault.c    fault specs (`--fault KIND:P`, `KIND:first=K`, profile "faults"), attempts,
 *                  picking a fault for a request, the OpenAI-shaped error responses, ids and
 *                  the seeded random streams
 *   sim_util.c     URL/query decoding, token estimate, byte search, content-block text
 *
 * Ownership: struct fe_sim owns everything it points to; fe_sim_release frees it all. Requests
 * are borrowed views into the connection's input buffer, valid during fe_sim_handle only.
 * Nothing here is thread-safe: the server is one thread by design.
 */
#ifndef FE_SIM_H
#define FE_SIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "harness/base/buf.h"
#include "harness/base/err.h"
#include "harness/base/strmap.h"

struct cJSON;

/* ---- faults (sim_fault.c) ---- */

enum fe_sim_fault {
    FE_SIM_FAULT_NONE = 0,
    FE_SIM_FAULT_RATE_LIMIT,   /* 429 rate_limit_exceeded with retry-after headers */
    FE_SIM_FAULT_QUOTA,        /* 429 insufficient_quota (must not be retried) */
    FE_SIM_FAULT_SERVER_ERROR, /* 500 */
    FE_SIM_FAULT_UNAVAILABLE,  /* 503 */
    FE_SIM_FAULT_RESET,        /* connection reset (RST via SO_LINGER 0), no answer */
    FE_SIM_FAULT_CLOSE,        /* orderly close (FIN) without an answer */
    FE_SIM_FAULT_STALL,        /* never answer; the connection stays open */
    FE_SIM_FAULT_TRUNCATE,     /* Content-Length larger than the bytes sent, then close */
    FE_SIM_FAULT_MALFORMED,    /* 200 with a body that is not valid JSON */
    FE_SIM_FAULT_STREAM_CUT,   /* a streamed answer closed after its first content (no end);
                                  a plain answer is truncated */
    FE_SIM_FAULT_STREAM_STALL, /* a streamed answer sends its headers, then nothing; a plain
                                  answer stalls */
    FE_SIM_FAULT_COUNT
};

struct fe_sim_faults {
    double p[FE_SIM_FAULT_COUNT];   /* per-request probability */
    long first[FE_SIM_FAULT_COUNT]; /* fault the first K attempts of each (model, example) */
};

/* "rate_limit" etc.; "none" for FE_SIM_FAULT_NONE. */
const char *fe_sim_fault_name(enum fe_sim_fault f);
/* Parses a kind name; returns FE_SIM_FAULT_NONE when unknown. */
enum fe_sim_fault fe_sim_fault_from_name(const char *name);
/* Parses one --fault argument: "KIND:P" (0 <= P <= 1) or "KIND:first=K" (K >= 0). */
enum fe_status fe_sim_faults_parse_flag(struct fe_sim_faults *f, const char *arg,
                                        struct fe_err *err);
bool fe_sim_faults_any(const struct fe_sim_faults *f);
/* Picks the fault for one request: first-K modes (rule, then global) win, then each probability
 * is drawn from *rng in kind order. attempt is 1-based. */
enum fe_sim_fault fe_sim_faults_pick(const struct fe_sim_faults *rule,
                                     const struct fe_sim_faults *global, long attempt,
                                     uint64_t *rng);

/* Faults for requests whose path starts with prefix (files, fine-tuning, models), optionally
 * only for one method. */
struct fe_sim_path_faults {
    char *method; /* NULL: any method */
    char *prefix;
    struct fe_sim_faults faults;
};

/* ---- small deterministic randomness (splitmix64, seeded) ---- */

uint64_t fe_sim_mix64(uint64_t x);                   /* splitmix64 finaliser */
uint64_t fe_sim_hash_str(uint64_t h, const char *s); /* FNV-1a continued from h, mixed */
uint64_t fe_sim_next(uint64_t *state);               /* splitmix64 stream */
double fe_sim_unit(uint64_t x);                      /* [0, 1) from 53 high bits */

/* ---- judges (sim_judge.c, issue 12) ----
 * A rule with "judge": {"accuracy", "position_bias", "length_bias"} answers judge prompts (the
 * tagged sections of configs/prompts/judge_*.md: <reference>, <output> or <output_a>/<output_b>)
 * with the judge JSON. Closeness to the reference is token F1 (lower-cased letters and digits).
 * Pairwise: when one output is closer, the judge prefers it with probability accuracy (else the
 * other); when both are as close (unsure), it picks the longer one with probability length_bias,
 * else "A" with probability position_bias, else "B". Rubric: with probability accuracy the score
 * is lo + round(closeness * (hi - lo)), else uniform on the scale; then +1 (capped) with
 * probability length_bias when the output is longer than the reference. Every draw is a hash of
 * (seed, rule, prompt): the same prompt gets the same verdict, whatever the order of requests. */
struct fe_sim_rule;
enum fe_status fe_sim_judge_parse(const struct cJSON *v, const char *where, struct fe_sim_rule *r,
                                  struct fe_err *err);
char *fe_sim_judge_answer(uint64_t seed, const struct fe_sim_rule *rule, const char *prompt);

/* ---- profiles (sim_profile.c) ---- */

struct fe_sim_rule {
    char *name;            /* for logs and determinism; defaults to "rule-N" */
    char *model;           /* glob (fnmatch) on the request's model id */
    char *system_contains; /* NULL, or a substring required in a system/developer message */
    double accuracy;       /* probability of the first gold */
    double correlation;    /* share of the correct/wrong draw shared by every rule per example */
    double partial_share;  /* share of wrong answers that are edited golds (partial F1 credit) */
    double latency_median_ms;
    double latency_sigma;  /* lognormal sigma of ln(latency); 0 = fixed at the median */
    double ttft_ms;        /* streams: delay before the first content (< 0: the latency draw) */
    double inter_token_ms; /* streams: delay between content chunks */
    long message_overhead; /* tokens per message on top of fe_estimate_tokens (base/tokens.h) */
    long reply_overhead;   /* tokens added once per request (reply priming) */
    double cached_fraction;
    long cache_min_tokens;
    long rpm, tpm;       /* 0 = no limit headers */
    bool enforce_limits; /* answer 429 when the minute's budget is spent */
    long retry_after_ms; /* used by 429 rate-limit faults */
    struct fe_sim_faults faults;
    /* "judge" (issue 12, sim_judge.c): the rule answers judge prompts */
    bool judge;
    double judge_accuracy, judge_position_bias, judge_length_bias;
    /* fixed one-minute window for x-ratelimit-* headers */
    double window_start;
    long window_requests, window_tokens;
};

struct fe_sim_profile {
    struct fe_sim_rule *rules;
    size_t n_rules;
    char **models; /* extra ids listed by GET /v1/models (besides rules' exact model ids) */
    size_t n_models;
};

/* Parses profile JSON (docs/sim.md). where names the source in errors. */
enum fe_status fe_sim_profile_parse(struct fe_sim_profile *p, const char *json, const char *where,
                                    struct fe_err *err);
enum fe_status fe_sim_profile_load(struct fe_sim_profile *p, const char *path, struct fe_err *err);
/* The built-in profile used without --profile. */
void fe_sim_profile_default(struct fe_sim_profile *p);
/* First rule whose model glob matches and whose system substring (if any) occurs in system
 * (NULL = no system prompt). Returns NULL when none matches. */
struct fe_sim_rule *fe_sim_profile_match(const struct fe_sim_profile *p, const char *model,
                                         const char *system);
void fe_sim_profile_release(struct fe_sim_profile *p);

/* ---- dataset index (sim_model.c) ---- */

struct fe_sim_example {
    char *id;
    char **golds;
    size_t n_golds;
};

struct fe_sim_index {
    struct fe_sim_example *ex;
    size_t n;
    struct fe_strmap by_prompt;   /* last user message text -> index in ex */
    size_t n_duplicate_prompts;   /* examples whose prompt an earlier example has */
    size_t n_conflicting_prompts; /* ... with different golds (only the first's are used) */
};

/* Loads the dataset and keys each example by the last user message the runner sends
 * (chat shape: its last user message; plain shape: tmpl rendered, NULL = "{input}"). */
enum fe_status fe_sim_index_load(struct fe_sim_index *ix, const char *path, const char *tmpl,
                                 struct fe_err *err);
struct fe_dataset_opts; /* harness/input/dataset.h */
/* The same reading the dataset with opts (a config's dataset_format and field mapping; NULL:
 * by the file name, standard fields). */
enum fe_status fe_sim_index_load_with(struct fe_sim_index *ix, const char *path, const char *tmpl,
                                      const struct fe_dataset_opts *opts, struct fe_err *err);
void fe_sim_index_release(struct fe_sim_index *ix);

/* Deterministic answer for (seed, rule, example): the first gold with probability accuracy,
 * else a plausible wrong answer. Returns newly allocated text. */
char *fe_sim_answer(const struct fe_sim_index *ix, size_t example, const struct fe_sim_rule *rule,
                    uint64_t seed);


/* ---- files (sim_files.c) and fine-tuning jobs (sim_jobs.c) ---- */

struct fe_sim_file {
    char *id;
    char *filename;
    char *purpose;
    char *data;
    size_t bytes;
    long created_at;
};

struct fe_sim_job;

struct fe_sim_store {
    struct fe_sim_file **files;
    size_t n_files;
    struct fe_sim_job **jobs;
    size_t n_jobs;
};

void fe_sim_store_release(struct fe_sim_store *st);

/* ---- the server ---- */

struct fe_sim_options {
    const char *host;
    long port;
    const char *dataset;
    const char *config;
    const char *tmpl;
    const char *profile;
    uint64_t seed;
    const char *log_path;
    double ft_step_s;
    size_t max_body;   /* bytes; larger Content-Length gets 413 */
    size_t max_header; /* bytes of request line + headers; more gets 431 */
    double batch_step_s; /* seconds per batch status step (sim_batch.c; default 0.2) */
};

struct fe_sim {
    struct fe_sim_options opt;
    struct fe_sim_profile profile;
    struct fe_sim_faults global_faults;     /* --fault without @: chat completions */
    struct fe_sim_path_faults *path_faults; /* --fault ...@[METHOD:]/v1/PATH */
    size_t n_path_faults;
    struct fe_sim_index index;
    struct fe_strmap attempts; /* "model\x1fexample" -> index into attempt_counts */
    long *attempt_counts;
    size_t n_attempt_keys;
    struct fe_sim_store store;
    FILE *log;
    uint64_t rng;      /* latency and probabilistic faults */
    uint64_t next_id;  /* object ids */
    long created_base; /* unix time at start */
    double t0;         /* fe_now() at start */
    struct fe_sim_batches *batches; /* batch APIs' state and faults (sim_batch.c), or NULL */
};

struct fe_sim_request {
    const char *method;
    const char *path;  /* NUL-terminated, without the query */
    const char *query; /* NUL-terminated, "" when absent */
    const char *body;  /* body bytes (NUL-terminated copy), body_len bytes */
    size_t body_len;
    const char *content_type; /* "" when absent */
    bool auth;                /* an Authorization header was present (its value is never kept) */
    bool x_api_key, api_key;  /* x-api-key / api-key present (values never kept) */
    bool sigv4;               /* Authorization is a well-formed SigV4 header */
    const char *anthropic_version; /* "" when absent */
};

struct fe_sim_response {
    int status;
    const char *content_type; /* static string */
    struct fe_buf headers;    /* extra header lines, each ending in \r\n */
    struct fe_buf body;
    enum fe_sim_fault fault;
    double delay_ms;
    /* a paced answer (streams): the body leaves in pieces, chunked; piece i is body bytes up to
     * pace_end[i], sent pace_delay[i] ms after the piece before it (the first with the head) */
    size_t *pace_end;
    double *pace_delay;
    size_t n_pace;
    bool pace_cut;   /* after the last piece: close without the chunked terminator */
    bool pace_stall; /* after the last piece: send nothing more, keep the connection open */
    /* for the request log */
    char *model;
    char *example;
    long attempt;
};

void fe_sim_response_release(struct fe_sim_response *rs);
/* Marks the body's current end as the end of one more paced piece, sent delay_ms after the last. */
void fe_sim_pace_mark(struct fe_sim_response *rs, double delay_ms);
/* Applies a stream fault to a paced answer: stream_cut keeps the pieces up to the first content
 * piece (index first_content) and closes; stream_stall keeps the pieces before it and stalls. */
void fe_sim_pace_fault(struct fe_sim_response *rs, size_t first_content);

/* Routes one request and fills rs (status 0 never). (sim_route.c) */
void fe_sim_handle(struct fe_sim *s, const struct fe_sim_request *rq, struct fe_sim_response *rs);
/* Appends one JSON line for the request and its answer to the request log (--log), if any. */
void fe_sim_log_request(struct fe_sim *s, const struct fe_sim_request *rq,
                        const struct fe_sim_response *rs);

/* Handlers by area. */
void fe_sim_chat(struct fe_sim *s, const struct fe_sim_request *rq, struct fe_sim_response *rs);
/* The chat model answering a request of another API shape, translated into the Chat Completions
 * body chat_req (borrowed): rs is the chat answer (or its error / fault), for the caller to
 * translate back. (sim_chat.c) */
void fe_sim_chat_as(struct fe_sim *s, const struct fe_sim_request *rq, const struct cJSON *chat_req,
                    struct fe_sim_response *rs);
/* Other platforms' shapes, each its own file, translating to and from the chat model. Each returns
 * true when rq is its path (rs filled). */
bool fe_sim_messages_route(struct fe_sim *s, const struct fe_sim_request *rq, struct fe_sim_response *rs);
bool fe_sim_azure_route(struct fe_sim *s, const struct fe_sim_request *rq, struct fe_sim_response *rs);
bool fe_sim_bedrock_route(struct fe_sim *s, const struct fe_sim_request *rq, struct fe_sim_response *rs);
void fe_sim_models(struct fe_sim *s, const struct fe_sim_request *rq, struct fe_sim_response *rs);
/* POST/GET /v1/files and GET/DELETE /v1/files/ID[/content] (tail: "" or "/content"). */
void fe_sim_file_create(struct fe_sim *s, const struct fe_sim_request *rq,
                        struct fe_sim_response *rs);
void fe_sim_file_list(struct fe_sim *s, const struct fe_sim_request *rq,
                      struct fe_sim_response *rs);
void fe_sim_file_one(struct fe_sim *s, const struct fe_sim_request *rq, const char *id,
                     const char *tail, struct fe_sim_response *rs);
/* POST/GET /v1/fine_tuning/jobs and /v1/fine_tuning/jobs/ID[/events|/checkpoints|/cancel]. */
void fe_sim_job_create(struct fe_sim *s, const struct fe_sim_request *rq,
                       struct fe_sim_response *rs);
void fe_sim_job_list(struct fe_sim *s, const struct fe_sim_request *rq, struct fe_sim_response *rs);
void fe_sim_job_one(struct fe_sim *s, const struct fe_sim_request *rq, const char *id,
                    const char *tail, struct fe_sim_response *rs);
/* The uploaded file id (*index: its position in the store, when index is not NULL), or NULL. */
struct fe_sim_file *fe_sim_file_find(struct fe_sim *s, const char *id, size_t *index);
void fe_sim_file_free(struct fe_sim_file *f);
/* Fills rs with status and obj as JSON; takes obj. */
void fe_sim_reply_json(struct fe_sim_response *rs, int status, struct cJSON *obj);
/* The "limit" query parameter: def when absent or invalid, at most max. */
long fe_sim_limit(const char *query, long def, long max);
/* Is model a fine-tuned model (or checkpoint) of a succeeded job in the store? */
bool fe_sim_store_has_model(struct fe_sim *s, const char *model);
/* Appends "{id}" entries of succeeded jobs' models to a /v1/models data array (cJSON *). */
void fe_sim_store_list_models(struct fe_sim *s, void *data_array);

/* ---- batch APIs (sim_batch.c, docs/sim.md) ---- */

struct fe_sim_batches;
/* OpenAI /v1/batches[/ID[/cancel]] and Anthropic /v1/messages/batches[/ID[/results|/cancel]].
 * Returns true when the path is theirs (rs filled). Called by sim_route.c. */
bool fe_sim_batch_route(struct fe_sim *s, const struct fe_sim_request *rq, struct fe_sim_response *rs);
/* --batch-fault SPEC: "expire" (every batch expires after in_progress with every second request
 * answered), "expire:first=K" (the first K batches), "error_lines:N" (the first N requests of
 * each batch fail: 400 and 500 in turn), "invalid" (validation fails), "invalid:first=K". */
enum fe_status fe_sim_batch_fault_parse(struct fe_sim *s, const char *spec, struct fe_err *err);
void fe_sim_batches_release(struct fe_sim *s);
/* Adds a file the server made (a batch's output) to the store; takes data. */
struct fe_sim_file *fe_sim_file_add(struct fe_sim *s, const char *filename, const char *purpose, char *data,
                                    size_t bytes);

/* Fills rs with an OpenAI error body {"error":{message,type,param,code}}. param/code may be NULL.
 */
void fe_sim_error(struct fe_sim_response *rs, int status, const char *type, const char *param,
                  const char *code, const char *fmt, ...) __attribute__((format(printf, 6, 7)));
/* Fills rs for an HTTP-level fault (429/500/503/malformed); transport faults only set rs->fault. */
void fe_sim_fault_respond(struct fe_sim *s, const struct fe_sim_rule *rule, enum fe_sim_fault f,
                          struct fe_sim_response *rs);

/* A fresh id "PREFIX" + n random base62 characters (deterministic per server seed). */
char *fe_sim_new_id(struct fe_sim *s, const char *prefix, size_t n);
/* Current unix time in seconds. */
long fe_sim_unix_now(void);
/* Formats a Go-style duration ("1s", "6m0s", "12ms") into buf. */
void fe_sim_go_duration(double seconds, char *buf, size_t size);
/* Value of hex digit c, or -1. */
int fe_sim_hexval(int c);
/* Decodes %XX and '+' of n bytes; newly allocated. */
char *fe_sim_urldecode(const char *s, size_t n);
/* Value of query parameter name (URL-decoded, newly allocated) or NULL. */
char *fe_sim_query_get(const char *query, const char *name);
/* Is v[0..n) a well-formed AWS SigV4 Authorization value: "AWS4-HMAC-SHA256 Credential=KEY/
 * YYYYMMDD/REGION/bedrock/aws4_request, SignedHeaders=a;b;..., Signature=<64 lowercase hex>"? */
bool fe_sim_sigv4_header_ok(const char *v, size_t n);
/* First occurrence of needle[0..m) in hay[0..n), or NULL. */
const char *fe_sim_memfind(const char *hay, size_t n, const char *needle, size_t m);
/* The text of a message's content as the Anthropic and Bedrock shapes send it: a string as is, or
 * the "text" of each block of an array of content blocks, concatenated. Newly allocated. */
char *fe_sim_blocks_text(const struct cJSON *v);
/* One line of the sim's own chat stream (line[0..len), no newline) read back by the Anthropic and
 * Bedrock translations: a "data: {chunk}" line fills c and returns true (the caller frees c->json);
 * "data: [DONE]" and anything else return false. The pointers borrow from c->json. */
struct fe_sim_chunk {
    struct cJSON *json;
    bool role;                  /* the first chunk: delta.role */
    const char *content;        /* delta.content, NULL when absent */
    const char *finish;         /* "length" or "stop" when the chunk has a finish_reason, else NULL */
};
bool fe_sim_chunk_read(const char *line, size_t len, struct fe_sim_chunk *c);

/* Counts one more attempt for (model, key) and returns it (1-based). */
long fe_sim_attempt(struct fe_sim *s, const char *model, const char *key);

/* ---- the HTTP/1.1 wire format (sim_wire.c) ---- */

/* A request head, its pointers into the connection's input. */
struct fe_sim_head {
    char method[17];
    const char *target; /* the request target (path and query), target_len bytes */
    size_t target_len;
    size_t head_len; /* request line, header fields and the blank line */
    long long content_length;
    bool have_cl, chunked, conn_close, expect, auth;
    bool x_api_key, api_key;    /* Anthropic's x-api-key, Azure's api-key header present */
    bool sigv4;                 /* Authorization is a well-formed SigV4 header (fe_sim_sigv4_header_ok) */
    char anthropic_version[32]; /* the anthropic-version header ("" when absent) */
    const char *ctype; /* the Content-Type value, ctype_len bytes, or NULL */
    size_t ctype_len;
};

/* Parses the request head at the start of base[0..avail) (at most max_header bytes). Returns 1
 * (h filled), 0 when the head is not complete yet, or the status of a refusal (400, 431) with
 * *msg saying why. */
int fe_sim_parse_head(const char *base, size_t avail, size_t max_header, struct fe_sim_head *h,
                      const char **msg);
/* Decodes a chunked body from p[0..n). Returns 1 when complete (decoded into out, *consumed =
 * wire bytes including the trailer), 0 when more bytes are needed, -1 when malformed, -2 when
 * the decoded body would exceed max. Chunk extensions and trailers are skipped. */
int fe_sim_dechunk(const char *p, size_t n, size_t max, struct fe_buf *out, size_t *consumed);
/* Appends the bytes of response rs to dst (the body cut to half for the truncate fault). */
void fe_sim_serialize(struct fe_sim *s, struct fe_buf *dst, const struct fe_sim_response *rs,
                      bool keep_alive, bool truncate);
/* The head of a paced response (transfer-encoding: chunked) into dst, and piece i of its body as
 * one chunk into dst (the terminating chunk too after the last piece, unless cut or stalled). */
void fe_sim_serialize_paced_head(struct fe_sim *s, struct fe_buf *dst, const struct fe_sim_response *rs,
                                 bool keep_alive);
void fe_sim_serialize_piece(const struct fe_sim_response *rs, size_t i, struct fe_buf *dst);

/* Runs the event loop until SIGTERM/SIGINT. Prints the "listening on" line. Returns 0 or -1. */
int fe_sim_serve(struct fe_sim *s, struct fe_err *err);

#endif
