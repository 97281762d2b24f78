/* transfer.h — one HTTP attempt of a translated request on a libcurl easy handle, set up and read
 * back under the transfer policy (net/policy.h). Owner: net. The runner (run/) owns the multi
 * handle, scheduling and retries; this file owns what every attempt shares: options, the response
 * body (capped at FE_NET_BODY_CAP), the captured headers, and their redaction when it ends.
 *
 * Ownership: a struct fe_net_xfer is embedded in its owner; fe_net_xfer_init before use,
 * fe_net_xfer_release after (the easy handle must first be removed from any multi handle).
 */
#ifndef FE_NET_TRANSFER_H
#define FE_NET_TRANSFER_H

#include <stdbool.h>

#include <curl/curl.h>

#include "harness/base/buf.h"
#include "harness/net/policy.h"
#include "harness/net/stream.h"
#include "providers/provider.h"

struct fe_net_xfer {
    CURL *easy;
    struct curl_slist *headers;
    struct fe_buf body;
    bool body_overflow;
    struct fe_net_headers h;
    struct fe_net_stream *stream; /* owned; set by fe_net_xfer_stream when the answer streams */
};

void fe_net_xfer_init(struct fe_net_xfer *x);
/* Prepares one attempt of req (the first call creates the handle; aborts when libcurl cannot):
 * resets the body and headers; retries > 0 adds "x-stainless-retry-count: N". timeout_s is the
 * whole attempt's limit (connect: at most 10 s). private is stored as CURLOPT_PRIVATE. Returns
 * the easy handle to add to a multi handle. req must outlive the transfer. */
/* (Re)builds the request headers from req (after a provider re-signed it) and hands them to the
 * handle when it exists. */
void fe_net_xfer_set_headers(struct fe_net_xfer *x, const struct fe_http_request *req);
CURL *fe_net_xfer_prepare(struct fe_net_xfer *x, const struct fe_http_request *req, double timeout_s, long retries,
                          void *private_data);
/* Reads back an attempt that ended with cc: redacts the body and headers (fe_redact_buf), then
 * fills *a (pointing into x) and the timing. latency_ms: total time; sent: request bytes written
 * (0: the request never left). */
void fe_net_xfer_finish(struct fe_net_xfer *x, CURLcode cc, struct fe_net_attempt *a, double *latency_ms,
                        long *sent);
void fe_net_xfer_release(struct fe_net_xfer *x);
/* Makes x read its answers as a stream (net/stream.h) through ops->parse_stream_event, before the
 * first fe_net_xfer_prepare. */
void fe_net_xfer_stream(struct fe_net_xfer *x, const struct fe_provider_ops *ops, double first_token_timeout_s);

#endif
