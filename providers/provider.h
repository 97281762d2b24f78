/* provider.h — the provider vtable: pure translators between fteval and an inference API.
 *
 * A provider never touches libcurl or the clock: build_request turns a chat request into an
 * HTTP request (URL, headers, body), parse_response turns a 2xx body into a completion, and
 * classify_error turns a non-2xx status plus body into a provider error (retryable or not).
 * The runner owns all I/O, concurrency, retries, rate limits, cache and resume, so a new
 * provider is one file plus one line in providers/registry.c, testable offline with fixtures.
 *
 * Offline providers (replay of recorded outputs) set FE_CAP_OFFLINE and implement the
 * offline_* hooks instead of the HTTP ones.
 *
 * The vtable only grows at the end; every hook documents when it may be called.
 */
#ifndef FE_PROVIDER_H
#define FE_PROVIDER_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

#include "harness/input/dataset.h"
#include "harness/base/buf.h"
#include "harness/base/errkind.h"
#include "harness/base/err.h"

enum fe_provider_caps {
    FE_CAP_HTTP = 1u << 0,     /* talks HTTP through build_request/parse_response */
    FE_CAP_OFFLINE = 1u << 1,  /* answers from local data through offline_complete */
    FE_CAP_SEED = 1u << 2,     /* accepts a sampling seed */
    FE_CAP_FILES = 1u << 3,    /* OpenAI files / fine-tuning / batch endpoints exist */
    FE_CAP_AWS_SIGV4 = 1u << 4, /* requests signed with AWS SigV4: the config reads the AWS_*
                                   credentials and the region; base_url may be omitted */
    FE_CAP_STREAM = 1u << 5,    /* streams its answers as server-sent events (parse_stream_event) */
    FE_CAP_EVENTSTREAM = 1u << 6, /* with FE_CAP_STREAM: the stream is AWS event-stream framing
                                     (application/vnd.amazon.eventstream), not SSE (net/stream.h) */
};

/* One "providers" entry of the config, resolved. Strings are borrowed from the config. */
struct fe_provider_conf {
    const char *name;         /* key in "providers" */
    const char *type;         /* "openai", "anthropic", "replay" */
    const char *base_url;     /* without trailing slash, e.g. "http://127.0.0.1:8000/v1" */
    const char *api_key;      /* value read from api_key_env, or NULL; never logged */
    const char *cap_field;    /* "max_tokens" (default) or "max_completion_tokens" */
    const char *path;         /* replay: recorded results file or directory */
    const cJSON *headers;     /* extra request headers {"Name": "value"} or NULL */
    const cJSON *extra_body;  /* fields merged into every request body, or NULL */
    const char *anthropic_version; /* anthropic: header value, default "2023-06-01" */
    /* Grown at the end (issue 15). */
    const char *api_version;  /* azure_openai: "2024-10-21" (classic deployment URL) or "v1" */
    const char *bearer_token; /* azure_openai: Entra ID token read from token_env; never logged */
    const char *region;       /* bedrock: config "region" or $AWS_REGION */
    const char *aws_access_key_id;     /* bedrock: $AWS_ACCESS_KEY_ID */
    const char *aws_secret_access_key; /* bedrock: $AWS_SECRET_ACCESS_KEY; never logged */
    const char *aws_session_token;     /* bedrock: $AWS_SESSION_TOKEN or NULL; never logged */
};

/* What the runner asks for; all borrowed. */
struct fe_chat_request {
    const char *arm;
    const char *example_id;
    const char *model;
    const struct fe_message *messages;
    size_t n_messages;
    bool has_temperature;
    double temperature;
    long max_tokens;          /* > 0 */
    bool has_seed;
    long seed;
    const cJSON *extra_body;  /* per-arm extra fields (response_format, stop, ...) or NULL */
    /* Grown at the end (issue 15). */
    long long now_unix;       /* wall clock (UTC seconds) when the runner builds the request:
                                 the time a signing provider (bedrock) signs with */
    bool stream;              /* ask for a streamed answer (only when the provider has FE_CAP_STREAM) */
};

/* An HTTP request, owned by whoever called build_request (release with fe_http_request_release). */
struct fe_http_request {
    char *url;
    char **headers;           /* "Name: value" lines */
    size_t n_headers;
    char *body;               /* canonical JSON (cJSON_PrintUnformatted): hashed for cache keys */
    size_t body_len;
};

/* A parsed answer, owned by the caller (release with fe_completion_release). */
struct fe_completion {
    char *text;               /* never NULL after a successful parse ("" for null content) */
    char *finish_reason;      /* "stop", "length", "content_filter", "tool_calls", "other" */
    char *model;              /* the resolved model the server reports, or NULL */
    char *response_id;
    bool has_usage;           /* false when the body had no usage object */
    long prompt_tokens;       /* total input tokens including cached ones */
    long completion_tokens;   /* includes reasoning tokens */
    bool has_cached;          /* false when the server did not report cached tokens */
    long cached_tokens;
};

struct fe_provider_error {
    const char *kind;         /* one of FE_ERRK_* (static) */
    long http_status;         /* 0 when no HTTP status */
    char *message;            /* server's message (may be NULL) */
    char *code;               /* error code as text ("429", "rate_limit_exceeded") or NULL */
    char *type;               /* error type or NULL */
    bool retryable;           /* the runner may try again */
    bool stop_provider;       /* quota/spend limit: stop sending to this provider */
};

/* A streamed answer being read (issue 15): what parse_stream_event accumulates. Init with
 * fe_stream_acc_init, release with fe_stream_acc_release; fe_stream_acc_take hands the answer over. */
struct fe_stream_acc {
    struct fe_buf text;        /* the content so far */
    struct fe_completion comp; /* finish_reason, model, response_id, usage (text unused) */
    struct fe_provider_error error; /* an error event: filled (classified like an HTTP error) */
    char bad[200];             /* why an event is not one this API sends ("" when all were) */
    bool has_prompt_usage;     /* the input count arrived (Anthropic: in message_start) */
};

/* What one event meant. */
enum fe_stream_step {
    FE_STREAM_MORE = 0,        /* nothing for the clock: keep reading */
    FE_STREAM_CONTENT,         /* it carried content (the first one is the time to first token) */
    FE_STREAM_END,             /* the terminal event ([DONE], message_stop) */
    FE_STREAM_ERROR,           /* an error event: acc->error filled */
    FE_STREAM_BAD,             /* not an event this API sends: acc->bad says why */
};

struct fe_provider_ops {
    const char *name;
    unsigned caps;
    /* HTTP providers. build_request: conf and req valid; fills out. parse_response: body of a
     * 2xx answer (not NUL-terminated necessarily; len given); FE_EPROVIDER with err set when the
     * body is malformed (the runner retries those). classify_error: any non-2xx answer; body may
     * be empty or not JSON. */
    enum fe_status (*build_request)(const struct fe_provider_conf *conf,
                                    const struct fe_chat_request *req,
                                    struct fe_http_request *out, struct fe_err *err);
    enum fe_status (*parse_response)(const char *body, size_t len, struct fe_completion *out,
                                     struct fe_err *err);
    void (*classify_error)(long http_status, const char *body, size_t len,
                           struct fe_provider_error *out);
    /* Offline providers. open may fail (err set); close is called even after a failed open. */
    enum fe_status (*offline_open)(const struct fe_provider_conf *conf, void **state,
                                   struct fe_err *err);
    enum fe_status (*offline_complete)(void *state, const struct fe_chat_request *req,
                                       struct fe_completion *out, struct fe_err *err);
    void (*offline_close)(void *state);
    /* Grown at the end (issue 15); each optional (NULL: not used). */
    /* check_conf: called by the config loader for each provider entry, before keys are read;
     * FE_EINVALID with err set (a message without the JSON path) rejects the config. */
    enum fe_status (*check_conf)(const struct fe_provider_conf *conf, struct fe_err *err);
    /* parse_refusal: a non-2xx answer that is the platform refusing the prompt (Azure's 400
     * content_filter). True with out filled (text "", finish_reason "content_filter", no usage):
     * the runner records it as an answer, not an error; false: classify it as an error. */
    bool (*parse_refusal)(long http_status, const char *body, size_t len, struct fe_completion *out);
    /* classify_error_typed: classify_error with the error type the server sent in a header
     * (x-amzn-errortype, NULL when absent); the runner calls it instead of classify_error. */
    void (*classify_error_typed)(long http_status, const char *error_type, const char *body, size_t len,
                                 struct fe_provider_error *out);
    /* sign_request: signs again, for the wall clock now_unix, a request this provider built
     * (bedrock: SigV4 expires after 5 minutes); the runner calls it before every attempt.
     * FE_EINVALID with err set when it cannot (the request is then sent as it is). */
    enum fe_status (*sign_request)(const struct fe_provider_conf *conf, long long now_unix,
                                   struct fe_http_request *out, struct fe_err *err);
    /* parse_stream_event: one server-sent event of a streamed answer (the request was built with
     * req->stream), in order; event is the SSE event name ("message" when none), data its data
     * (len bytes, NUL-terminated). Accumulates text, finish reason, model, id and usage into acc.
     * Set: providers that can stream (FE_CAP_STREAM). The net layer owns the stream itself. */
    enum fe_stream_step (*parse_stream_event)(struct fe_stream_acc *acc, const char *event,
                                              const char *data, size_t len);
};

/* Streamed answers (providers/common.c). */
void fe_stream_acc_init(struct fe_stream_acc *acc);
void fe_stream_acc_release(struct fe_stream_acc *acc);
/* Moves the accumulated answer into out (text never NULL; finish_reason "other" when the stream
 * named none) and leaves acc empty. */
void fe_stream_acc_take(struct fe_stream_acc *acc, struct fe_completion *out);
/* Sets acc->bad (the first reason wins) and returns FE_STREAM_BAD. */
enum fe_stream_step fe_stream_bad(struct fe_stream_acc *acc, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* An error event of a stream ({"error": {...}} or {"type": "error", "error": {...}}): classified
 * by classify as if it came with the HTTP status its type implies (rate_limit* 429,
 * overloaded_error 529, invalid_request_error 400, authentication_error 401, permission_error
 * 403, not_found_error 404, anything else 500) into acc->error. Returns FE_STREAM_ERROR. */
enum fe_stream_step fe_stream_error_event(struct fe_stream_acc *acc, const cJSON *event_json,
                                          void (*classify)(long, const char *, size_t,
                                                           struct fe_provider_error *));

/* Implementations, one file each. */
extern const struct fe_provider_ops fe_provider_openai;
extern const struct fe_provider_ops fe_provider_anthropic;
extern const struct fe_provider_ops fe_provider_replay;
extern const struct fe_provider_ops fe_provider_azure_openai;
extern const struct fe_provider_ops fe_provider_bedrock;

/* Registry (providers/registry.c): NULL-terminated; names unique (tested). */
extern const struct fe_provider_ops *const fe_providers[];
const struct fe_provider_ops *fe_provider_find(const char *type);

/* Shared helpers (providers/common.c). */
void fe_http_request_add_header(struct fe_http_request *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void fe_http_request_release(struct fe_http_request *r);
void fe_completion_release(struct fe_completion *c);
/* Merges conf->extra_body then req->extra_body into body, stores its compact text as out's body
 * and deletes body (takes ownership). */
void fe_http_request_set_body(struct fe_http_request *out, cJSON *body, const struct fe_provider_conf *conf,
                              const struct fe_chat_request *req);
/* A usage count: a non-negative number (values above 1e15 read as 1e15, so absurd counts stay
 * visible to the runner's 10M-token check), else 0 with *present (may be NULL) false. */
long fe_usage_tokens(const cJSON *o, const char *name, bool *present);
void fe_provider_error_release(struct fe_provider_error *e);
/* Default classification by HTTP status (408/409/429/5xx retryable) and the common error body
 * shapes: {"error": {message,type,param,code}}, {"error": "text"}, {"message": ...}; code may be
 * a string, an integer or absent. 429 with insufficient_quota or a spend limit is not retryable
 * and stops the provider. Used by openai and as a base by others. */
void fe_classify_http_error(long http_status, const char *body, size_t len,
                            struct fe_provider_error *out);
/* Appends conf->headers ({"Name": "value"}, non-strings skipped) after the provider's own. */
void fe_http_request_add_conf_headers(struct fe_http_request *r, const struct fe_provider_conf *conf);
/* One row of a fixed string-to-string table (e.g. a platform's stop reasons to finish_reason). */
struct fe_str_pair {
    const char *from, *to;
};
/* The "to" of the row whose "from" equals key, else dflt (also for a NULL key). */
const char *fe_str_map(const struct fe_str_pair *map, size_t n, const char *key, const char *dflt);

/* The conversation as Anthropic-like APIs take it (anthropic, bedrock): system and developer
 * contents joined with a blank line (*system NULL when none); user/assistant turns in order
 * with consecutive messages of one role merged (joined with a blank line). Any other role is
 * FE_EINVALID naming who. Free with fe_chat_turns_free. */
struct fe_chat_turn {
    const char *role;         /* "user" or "assistant" (borrowed) */
    char *text;
};
enum fe_status fe_chat_turns(const struct fe_chat_request *req, const char *who, char **system,
                             struct fe_chat_turn **turns, size_t *n, struct fe_err *err);
void fe_chat_turns_free(char *system, struct fe_chat_turn *turns, size_t n);

/* Chat Completions body and answer (providers/openai.c), shared by the OpenAI-shaped
 * providers (azure_openai): one copy of the translation. */
cJSON *fe_openai_chat_body(const struct fe_provider_conf *conf, const struct fe_chat_request *req);
enum fe_status fe_openai_chat_parse(const char *body, size_t len, struct fe_completion *out,
                                    struct fe_err *err);
/* One event of a streamed Chat Completion (parse_stream_event of the OpenAI-shaped providers). */
enum fe_stream_step fe_openai_stream_event(struct fe_stream_acc *acc, const char *event, const char *data,
                                           size_t len);

#endif
