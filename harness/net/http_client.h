/* http_client.h — a small blocking libcurl client for control-plane calls. Owner: ft.
 *
 * Used for the files and fine-tuning APIs (JSON GET/POST, multipart upload), where requests are
 * few and latency does not matter. The evaluation runner has its own curl-multi loop and does
 * not use this module.
 *
 * Transport rules (PROVIDER-APIS §1, §7): the ONE policy of net/policy.h, shared with the runner.
 * - every request carries "Authorization: Bearer KEY", "Accept: application/json" and a
 *   User-Agent; JSON bodies add "Content-Type: application/json". CURLOPT_VERBOSE is never set
 *   and nothing here logs headers, so the key cannot leak; fe_http_new registers the key with
 *   fe_log_add_secret, and every body and header is redacted (fe_redact_buf) as it arrives.
 * - timeouts: 600 s total, 5 s connect (the SDK defaults), configurable; gzip/deflate accepted;
 *   bodies capped at FE_NET_BODY_CAP (8 MiB).
 * - retries (fe_http_call): connection errors and timeouts, and whatever fe_net_classify (with
 *   the default provider classifier, fe_classify_http_error) calls retryable: 408, 409, 429 and
 *   >= 500, with "x-should-retry: true|false" overriding the status rule; a quota error (429
 *   insufficient_quota or a spend limit, 402) fails fast (FE_EQUOTA). Delay: the server's wait
 *   (retry-after-ms, else retry-after in seconds or an HTTP date) capped at max_wait_s (default
 *   120 s; fe_http_set_retry_cap), else min(0.5 * 2^n, 8) s minus up to 25 % jitter; 3 waits
 *   longer than the cap asked in a row give up. Budget: 2 retries by default.
 * - non-idempotent creates must NOT use fe_http_call's blind retry: use fe_http_send for one
 *   attempt and fe_http_classify to learn whether the outcome is ambiguous (the request may have
 *   been processed), then look the object up before re-sending (see ft_client.c).
 *
 * Ownership: struct fe_http is created by fe_http_new and freed by fe_http_free (NULL is a
 * no-op); it copies base_url and api_key. A struct fe_http_response is caller-owned: zero it or
 * call fe_http_response_init, and release it with fe_http_response_release.
 * A handle is not thread-safe; use one per thread.
 */
#ifndef FE_HTTP_CLIENT_H
#define FE_HTTP_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include <cjson/cJSON.h>

#include "harness/base/buf.h"
#include "harness/base/err.h"
#include "harness/net/policy.h"

struct fe_http;

/* One multipart/form-data part: either value (a text field) or file_path (file contents,
 * sent with filename, default the path's basename, and content_type, default
 * application/octet-stream). */
struct fe_http_part {
    const char *name;
    const char *value;
    const char *file_path;
    const char *filename;
    const char *content_type;
};

struct fe_http_call_request {
    const char *method; /* "GET", "POST", "DELETE" */
    const char *path;   /* relative to the base URL, starts with '/', may carry "?query" */
    const char *json;   /* JSON body or NULL */
    const struct fe_http_part *parts; /* multipart body (parts, n_parts) or NULL */
    size_t n_parts;
    FILE *body_file;    /* NULL: the body goes to resp->body. Else a 2xx answer's body is written
                         * here instead (emptied at every attempt; not capped, NOT redacted: the
                         * caller redacts what it reads back, fe_redact_buf); an error answer's
                         * body still goes to resp->body. For downloads (batch result files). */
};

struct fe_http_response {
    long status;             /* HTTP status; 0 when no response arrived */
    struct fe_buf body;      /* response body (redacted), capped at FE_NET_BODY_CAP */
    char request_id[128];    /* x-request-id header, "" when absent */
    double retry_after_s;    /* from retry-after-ms / retry-after; < 0 when absent */
    int should_retry;        /* x-should-retry: -1 absent, 0 false, 1 true */
    bool transport_error;    /* no complete response (status may still be set) */
    bool maybe_sent;         /* transport error after the request may have reached the server */
    char transport_msg[256]; /* libcurl's message for transport errors */
    struct fe_net_headers headers; /* every header the policy reads (redacted) */
};

/* What to do after one attempt. */
enum fe_http_verdict {
    FE_HTTP_DONE,      /* final answer: 2xx, or an error that must not be retried */
    FE_HTTP_RETRY,     /* safe to send again: the server did not act on the request */
    FE_HTTP_AMBIGUOUS, /* may have been processed (5xx, timeout or reset after sending) */
};

/* Creates a client for base_url (trailing '/' ignored). api_key may be NULL (no auth header).
 * Returns a new handle, never NULL; free with fe_http_free. */
struct fe_http *fe_http_new(const char *base_url, const char *api_key);
void fe_http_free(struct fe_http *h);

/* Options. max_retries >= 0 (default 2); timeouts in seconds (> 0; defaults 600 and 5);
 * retry_cap_s is max_wait_s, the largest server-requested wait honoured (default 120). */
void fe_http_set_retries(struct fe_http *h, int max_retries);
int fe_http_get_retries(const struct fe_http *h);
void fe_http_set_timeouts(struct fe_http *h, double total_s, double connect_s);
void fe_http_set_retry_cap(struct fe_http *h, double retry_cap_s);

/* Adds a request header line "Name: value" sent with every request (Anthropic's x-api-key and
 * anthropic-version). replaces_bearer: the API key travels in this header, so no
 * "Authorization: Bearer" is sent. The line is wiped on fe_http_free and never logged. */
void fe_http_add_header(struct fe_http *h, const char *line, bool replaces_bearer);
/* Raises (or lowers) the response body cap of this client (0: FE_NET_BODY_CAP); batch result
 * files are larger than one answer. */
void fe_http_set_body_cap(struct fe_http *h, size_t bytes);

void fe_http_response_init(struct fe_http_response *r);
void fe_http_response_release(struct fe_http_response *r);

/* One attempt, no retry. Resets resp first. Returns FE_OK when an HTTP response arrived
 * (whatever its status) and FE_ENET on a transport failure (resp->transport_* describe it).
 * FE_EIO when a multipart file cannot be read (err set). */
enum fe_status fe_http_send(struct fe_http *h, const struct fe_http_call_request *req,
                            struct fe_http_response *resp, struct fe_err *err);

/* Classifies an attempt's outcome (PROVIDER-APIS §7 rules, see the file comment). */
enum fe_http_verdict fe_http_classify(const struct fe_http_response *resp);

/* Seconds to wait before retry number retries_taken + 1 (policy.h): the server's wait capped at
 * max_wait_s, else backoff with jitter. Counts over-long asks on h; returns -1 (do not retry)
 * when FE_NET_LONG_WAITS_GIVE_UP of them came in a row. */
double fe_http_retry_delay(struct fe_http *h, const struct fe_http_response *resp, int retries_taken);

/* Sleeps for seconds (restarting after signals). */
void fe_http_sleep(double seconds);

/* Sends req with retries (for idempotent requests; AMBIGUOUS counts as RETRY). Returns FE_OK
 * for a 2xx answer. Otherwise sets err to "<what>: <detail>": FE_EPROVIDER for an API error
 * (detail from fe_http_error_detail), FE_EQUOTA for insufficient quota, FE_ENET for transport
 * failures. resp holds the last attempt either way. */
enum fe_status fe_http_call(struct fe_http *h, const struct fe_http_call_request *req, const char *what,
                            struct fe_http_response *resp, struct fe_err *err);

/* Like fe_http_call, then parses the body as JSON. On FE_OK *out is a new tree (caller frees
 * with cJSON_Delete); a body that is not JSON gives FE_EPROVIDER. */
enum fe_status fe_http_call_json(struct fe_http *h, const struct fe_http_call_request *req,
                                 const char *what, cJSON **out, struct fe_err *err);

/* Convenience: GET path / POST path with a JSON body (body may be NULL), parsed answer. */
enum fe_status fe_http_get_json(struct fe_http *h, const char *path, const char *what, cJSON **out,
                                struct fe_err *err);
enum fe_status fe_http_post_json(struct fe_http *h, const char *path, const cJSON *body,
                                 const char *what, cJSON **out, struct fe_err *err);

/* Formats an error answer into out (appends): "400 invalid_request_error: MESSAGE (param P)"
 * for OpenAI bodies {"error":{message,type,param,code}} (code string, int or null); handles
 * {"error":"..."}, flat {"message":...}, RFC 7807 problem+json (Prism) and, failing all that,
 * the first 200 bytes of the body. Adds " [request id R]" when known. Secrets are redacted. */
void fe_http_error_detail(const struct fe_http_response *resp, struct fe_buf *out);

/* True when the body is a quota error as fe_classify_http_error reads a 429 (insufficient_quota,
 * a spend limit): never retried. */
bool fe_http_is_quota_error(const struct fe_http_response *resp);

/* POST route (e.g. "/files") as multipart/form-data with the file at path and purpose ("batch",
 * "fine-tune"). Returns the file object (with an "id") in *file. Retried only when the server
 * certainly did not act; an ambiguous outcome is an error saying the upload may have happened.
 * Errors read "<what>: <detail>". (http_upload.c: the one copy, used by ft and the batch runner) */
enum fe_status fe_http_upload_file(struct fe_http *h, const char *route, const char *path, const char *purpose,
                                   const char *what, cJSON **file, struct fe_err *err);

/* Appends s percent-encoded (RFC 3986 unreserved characters kept) to out. */
void fe_http_add_escaped(struct fe_buf *out, const char *s);

#endif
