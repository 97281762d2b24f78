/* stream.h — the mechanics of a streamed answer (issue 15), owned by net: the server-sent events
 * of one attempt parsed as they arrive (net/sse.h) and handed to the provider's
 * parse_stream_event one by one, the time to first token, the first-token timeout, and what a
 * stream that ended meant. Providers only translate events (providers/provider.h).
 *
 * The rules (docs/providers.md "Streaming"):
 * - only a 2xx answer is parsed as a stream; any other status is classified as always;
 * - the time to first token is from sending the request (handing the attempt to libcurl, less
 *   the connection set-up libcurl reports: TCP connect, TLS handshake) to the first event
 *   carrying content;
 * - no content within first_token_timeout_s: the attempt is aborted, a timeout (retryable);
 * - the connection closed (or failed) before the terminal event ([DONE], message_stop): a cut
 *   stream, a connection error (retryable);
 * - an error event mid-stream: classified by the provider from its error type;
 * - an event the API does not send (not JSON, no choices): a malformed response (retryable);
 * - a 2xx body with no event at all is read as a whole answer (parse_response): a server that
 *   ignored "stream": true still answers;
 * - event-stream framing (FE_CAP_EVENTSTREAM, Bedrock): each message reaches parse_stream_event
 *   as the event "MESSAGE-TYPE:TYPE" ("event:contentBlockDelta" from :message-type and
 *   :event-type; "exception:throttlingException" from :exception-type; "error:CODE" from
 *   :error-code, its data the :error-message) with the payload as data; framing that is not
 *   valid (a bad prelude or message CRC, impossible lengths, an unknown header type) is a
 *   connection error, retried like a cut stream.
 *
 * Ownership: created by fe_net_stream_new, owned by the transfer that streams (net/transfer.h),
 * freed with fe_net_stream_free (NULL is a no-op).
 */
#ifndef FE_NET_STREAM_H
#define FE_NET_STREAM_H

#include <stdbool.h>
#include <stddef.h>

#include <curl/curl.h>

#include "harness/net/eventstream.h"
#include "harness/net/policy.h"
#include "harness/net/sse.h"
#include "providers/provider.h"

struct fe_net_stream {
    const struct fe_provider_ops *ops;
    double first_token_timeout_s; /* 0: none */
    struct fe_sse sse;
    struct fe_stream_acc acc;
    double t_sent, t_first;       /* fe_now(): the attempt handed to libcurl; first content (0: none) */
    double connect_s;             /* libcurl's connect (TLS: appconnect) time at the first content */
    bool ended;                   /* the terminal event arrived */
    bool first_token_timed_out;   /* aborted by the first-token timeout */
    enum fe_stream_step stop;     /* FE_STREAM_ERROR / FE_STREAM_BAD once one arrived, else MORE */
    /* Grown for Bedrock's converse-stream: a provider with FE_CAP_EVENTSTREAM streams AWS
     * event-stream messages (net/eventstream.h), not server-sent events. */
    bool binary;                  /* the stream is event-stream framing (evs), not SSE (sse) */
    struct fe_evs evs;
    size_t events;                /* events (SSE events or event-stream messages) handed to the provider */
};

/* ops must have parse_stream_event. first_token_timeout_s <= 0: none. */
struct fe_net_stream *fe_net_stream_new(const struct fe_provider_ops *ops, double first_token_timeout_s);
void fe_net_stream_free(struct fe_net_stream *s);
/* A new attempt begins now: forgets the last one. */
void fe_net_stream_start(struct fe_net_stream *s);
/* Body bytes of the attempt on easy (parsed only when its status is 2xx). */
void fe_net_stream_feed(struct fe_net_stream *s, CURL *easy, const char *bytes, size_t n);
/* libcurl's progress callback: non-zero aborts the attempt (first-token timeout). */
int fe_net_stream_progress(struct fe_net_stream *s);
/* After the attempt ended: true when the stream failed (cut, first-token timeout, error event,
 * bad event), with pe filled (released by the caller); false when the attempt is classified as
 * usual (not a 2xx stream, or a complete one: take it with fe_net_stream_take). */
bool fe_net_stream_failed(struct fe_net_stream *s, const struct fe_net_attempt *a, struct fe_provider_error *pe);
/* The answer of a complete 2xx stream (body: the raw bytes, for a server that sent plain JSON).
 * FE_EPROVIDER with err set when there is none. */
enum fe_status fe_net_stream_take(struct fe_net_stream *s, const char *body, size_t len, struct fe_completion *out,
                                  struct fe_err *err);
/* Milliseconds from sending to the first content, or NAN when none arrived. */
double fe_net_stream_ttft_ms(const struct fe_net_stream *s);
/* A whole recorded stream (a cached body) parsed at once, with the same rules. */
enum fe_status fe_net_stream_parse_all(const struct fe_provider_ops *ops, const char *body, size_t len,
                                       struct fe_completion *out, struct fe_err *err);

#endif
