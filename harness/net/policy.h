/* policy.h — THE transfer and retry policy of fteval: one set of rules for every HTTP request,
 * used by the evaluation runner (run/, curl multi) and by the blocking client (net/http_client.c,
 * used by the fine-tuning client). Owner: net. Pure functions except the curl option setter.
 *
 * The rules (docs/providers.md "Retries and waits" states them for users):
 * - Classification: a transport failure is timeout / connection / malformed_response (a body cut
 *   mid-way, a bad content encoding; a body over FE_NET_BODY_CAP is final). An HTTP answer is
 *   classified by the provider's classify_error (fe_classify_http_error when there is none):
 *   429 with insufficient_quota / a spend limit, or 402, is a quota error (never retried, stops
 *   the provider); any other 429 a rate limit; 408, 409 and 5xx are retried; other 4xx are final.
 *   "x-should-retry: true|false" overrides the status rule (true never revives a quota error).
 *   A 3xx is final (redirects are not followed) and its message names the status and Location.
 * - Waits: a server-requested wait is retry-after-ms (milliseconds) else retry-after (seconds or
 *   an HTTP date). When there is none, backoff min(0.5 * 2^n, 8) s minus up to 25 % jitter. A
 *   requested wait above the caller's max_wait_s (or not finite) waits max_wait_s and counts as a
 *   long wait; FE_NET_LONG_WAITS_GIVE_UP long waits in a row give the endpoint up. A wait within
 *   the cap (after an HTTP answer) resets the count.
 * - Responses: at most FE_NET_BODY_CAP bytes; gzip/deflate accepted (curl decodes); every body and
 *   captured header has the registered secrets redacted (fe_redact_buf) as soon as the transfer
 *   ends, before anything parses, truncates, caches or records it.
 */
#ifndef FE_NET_POLICY_H
#define FE_NET_POLICY_H

#include <stdbool.h>
#include <stddef.h>

#include <curl/curl.h>

#include "harness/base/buf.h"
#include "providers/provider.h"

#define FE_NET_BODY_CAP ((size_t)8 << 20)  /* bytes of one response body */
#define FE_NET_LONG_WAITS_GIVE_UP 3        /* over-long waits asked in a row before giving up */

/* The response headers the policy reads, captured per attempt (values trimmed, truncated to fit).
 * A status line ("HTTP/...") resets them, so only the final response's headers count. */
struct fe_net_headers {
    char retry_after[64], retry_after_ms[64], should_retry[16], request_id[128];
    char error_type[128];      /* x-amzn-errortype (AWS), for a provider's classify_error_typed */
    char rl_remaining_requests[32], rl_remaining_tokens[32], rl_reset_requests[32], rl_reset_tokens[32];
    char location[512];
};

void fe_net_headers_reset(struct fe_net_headers *h);
/* Feeds one raw header line as libcurl's CURLOPT_HEADERFUNCTION gets it. */
void fe_net_header_line(struct fe_net_headers *h, const char *line, size_t len);
/* Redacts every registered secret from every captured header value. */
void fe_net_headers_redact(struct fe_net_headers *h);

/* x-should-retry: 1 true, 0 false, -1 absent or anything else. */
int fe_net_should_retry(const struct fe_net_headers *h);

/* The outcome of one attempt, as the policy sees it. */
struct fe_net_attempt {
    CURLcode cc;               /* CURLE_OK: an HTTP answer arrived */
    long status;               /* HTTP status (0: none) */
    const char *body;          /* redacted body (may hold NULs), len bytes */
    size_t len;
    bool body_overflow;        /* the body went over FE_NET_BODY_CAP */
    const struct fe_net_headers *headers;
};

typedef void (*fe_net_classify_fn)(long http_status, const char *body, size_t len, struct fe_provider_error *out);

/* Classifies a failed attempt (a transport error or a non-2xx answer) into pe (released by the
 * caller with fe_provider_error_release): kind, http_status, message, retryable, stop_provider.
 * classify may be NULL (fe_classify_http_error). x-should-retry is applied here. */
void fe_net_classify(const struct fe_net_attempt *a, fe_net_classify_fn classify, struct fe_provider_error *pe);
/* The same with the provider's ops: classify_error_typed (given x-amzn-errortype) when it has one,
 * else classify_error. */
void fe_net_classify_ops(const struct fe_net_attempt *a, const struct fe_provider_ops *ops,
                         struct fe_provider_error *pe);

/* A 2xx body that carries {"error": ...} (some gateways answer 200 with an error): returns the
 * server's message ("<type or code>: <message>", newly allocated) or NULL when the body has none. */
char *fe_net_error_in_success(const char *body, size_t len);

/* The wait a server asked for: retry-after-ms wins over retry-after (seconds or HTTP date,
 * relative to now_unix). Returns false when neither gives one; else sets *asked (seconds, may be
 * infinite or NaN for "forever"), *source (the header's name) and *value (its text). */
bool fe_net_requested_wait(const struct fe_net_headers *h, double now_unix, double *asked, const char **source,
                           const char **value);

/* A wait asked by the x-ratelimit-* headers. */
struct fe_net_rate_wait {
    double asked;              /* seconds (a Go duration: "6m0s", "17h22m9.6s", "inf") */
    const char *source;        /* the reset header's name */
    const char *value;         /* its text (points into the headers) */
};
/* The waits the rate-limit headers ask for before the next request: x-ratelimit-remaining-requests
 * at 0 (or below) with a parseable x-ratelimit-reset-requests, then x-ratelimit-remaining-tokens
 * below est_tokens with a parseable x-ratelimit-reset-tokens. Returns how many (0 to 2), in that
 * order; each is capped like any server-requested wait (fe_net_cap_wait). */
size_t fe_net_rate_waits(const struct fe_net_headers *h, long est_tokens, struct fe_net_rate_wait out[2]);

/* What to do about a wait: honour min(asked, max_wait_s); too_long when asked is above the cap or
 * not finite. */
struct fe_net_wait {
    double wait;
    bool too_long;
};
struct fe_net_wait fe_net_cap_wait(double asked, double max_wait_s);

/* When the server asked for no wait, the delay is fe_backoff_seconds (net/backoff.h). */

/* Counts long waits in a row for one endpoint (a provider of the runner, a blocking client).
 * Returns true when the endpoint must be given up (FE_NET_LONG_WAITS_GIVE_UP reached). */
bool fe_net_note_wait(int *long_waits, bool too_long);

/* Sets the options every transfer shares: URL, user agent, no signals, http/https only, no
 * redirects followed, gzip/deflate accepted (decoded by curl), timeouts (total, connect). */
void fe_net_easy_defaults(CURL *e, const char *url, double total_s, double connect_s);

/* Repairs JSON string escapes cJSON cannot keep, in place and length-preserving: "\u0000" (which
 * would cut the text at the NUL) and lone UTF-16 surrogates (which make cJSON reject the whole
 * body) become "\uFFFD" (U+FFFD REPLACEMENT CHARACTER). Returns how many were replaced. */
size_t fe_net_json_repair(char *body, size_t len);

#endif
