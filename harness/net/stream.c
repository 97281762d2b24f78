/* stream.c — see stream.h. */
#include "harness/net/stream.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <stdio.h>

#include "harness/base/util.h"

static int fe_net_stream_event(void *ud, const char *event, const char *data, size_t len)
{
    struct fe_net_stream *s = ud;
    s->events++;
    enum fe_stream_step step = s->ops->parse_stream_event(&s->acc, event, data, len);
    if (step == FE_STREAM_CONTENT && s->t_first == 0)
        s->t_first = fe_now();
    if (step == FE_STREAM_END)
        s->ended = true;
    if (step == FE_STREAM_ERROR || step == FE_STREAM_BAD)
        s->stop = step;
    return step == FE_STREAM_END || step == FE_STREAM_ERROR || step == FE_STREAM_BAD; /* nothing after counts */
}

/* One event-stream message as the event "MESSAGE-TYPE:TYPE" (net/stream.h). */
static int fe_net_stream_message(void *ud, const struct fe_evs_message *m)
{
    const char *mtype = fe_evs_string(m, ":message-type");
    const char *type = NULL, *data = m->payload;
    size_t len = m->payload_len;
    if (mtype && strcmp(mtype, "event") == 0)
        type = fe_evs_string(m, ":event-type");
    else if (mtype && strcmp(mtype, "exception") == 0)
        type = fe_evs_string(m, ":exception-type");
    else if (mtype && strcmp(mtype, "error") == 0) {
        type = fe_evs_string(m, ":error-code");
        const char *msg = fe_evs_string(m, ":error-message");
        if (msg)
            data = msg, len = strlen(msg);
    }
    char name[160];
    snprintf(name, sizeof(name), "%s:%s", mtype ? mtype : "", type ? type : "");
    return fe_net_stream_event(ud, name, data, len);
}

struct fe_net_stream *fe_net_stream_new(const struct fe_provider_ops *ops, double first_token_timeout_s)
{
    struct fe_net_stream *s = fe_xcalloc(1, sizeof(*s));
    s->ops = ops;
    s->first_token_timeout_s = first_token_timeout_s > 0 ? first_token_timeout_s : 0;
    fe_sse_init(&s->sse, FE_NET_BODY_CAP, fe_net_stream_event, s);
    s->binary = (ops->caps & FE_CAP_EVENTSTREAM) != 0;
    fe_evs_init(&s->evs, FE_NET_BODY_CAP, fe_net_stream_message, s);
    fe_stream_acc_init(&s->acc);
    return s;
}

void fe_net_stream_free(struct fe_net_stream *s)
{
    if (!s)
        return;
    fe_sse_release(&s->sse);
    fe_evs_release(&s->evs);
    fe_stream_acc_release(&s->acc);
    free(s);
}

void fe_net_stream_start(struct fe_net_stream *s)
{
    fe_sse_reset(&s->sse);
    fe_evs_reset(&s->evs);
    s->events = 0;
    fe_stream_acc_release(&s->acc);
    fe_stream_acc_init(&s->acc);
    s->t_sent = fe_now();
    s->t_first = s->connect_s = 0;
    s->ended = s->first_token_timed_out = false;
    s->stop = FE_STREAM_MORE;
}

/* Bytes into the stream's parser: event-stream framing or server-sent events. */
static void fe_net_stream_bytes(struct fe_net_stream *s, const char *bytes, size_t n)
{
    if (s->binary)
        fe_evs_feed(&s->evs, bytes, n);
    else
        fe_sse_feed(&s->sse, bytes, n);
}

void fe_net_stream_feed(struct fe_net_stream *s, CURL *easy, const char *bytes, size_t n)
{
    long status = 0;
    curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
    if (status >= 200 && status < 300) {
        bool before = s->t_first == 0;
        fe_net_stream_bytes(s, bytes, n);
        /* a new connection's set-up (TCP connect, TLS handshake) is not the model's time; libcurl
         * marks both before it sends the request (its pretransfer time comes after, so it would
         * also count a pause of this process between sending and marking) */
        curl_off_t tcp_us = 0, tls_us = 0;
        if (before && s->t_first > 0) {
            curl_easy_getinfo(easy, CURLINFO_CONNECT_TIME_T, &tcp_us);
            curl_easy_getinfo(easy, CURLINFO_APPCONNECT_TIME_T, &tls_us);
            s->connect_s = (double)(tls_us > tcp_us ? tls_us : tcp_us) / 1e6;
        }
    }
}

int fe_net_stream_progress(struct fe_net_stream *s)
{
    if (s->first_token_timeout_s <= 0 || s->t_first > 0 || s->ended || s->stop != FE_STREAM_MORE)
        return 0;
    if (fe_now() - s->t_sent <= s->first_token_timeout_s)
        return 0;
    s->first_token_timed_out = true;
    return 1;
}

static void fe_net_stream_error(struct fe_provider_error *pe, const char *kind, long status, bool retryable,
                                char *message)
{
    *pe = (struct fe_provider_error){.kind = kind, .http_status = status, .retryable = retryable,
                                     .message = message};
}

/* A 2xx body that is one JSON object, not events: a server that ignored "stream": true. */
static bool fe_net_stream_plain(const struct fe_net_attempt *a)
{
    size_t i = 0;
    while (i < a->len && (a->body[i] == ' ' || a->body[i] == '\t' || a->body[i] == '\r' || a->body[i] == '\n'))
        i++;
    return i < a->len && a->body[i] == '{';
}

bool fe_net_stream_failed(struct fe_net_stream *s, const struct fe_net_attempt *a, struct fe_provider_error *pe)
{
    if (s->first_token_timed_out) {
        fe_net_stream_error(pe, FE_ERRK_TIMEOUT, 0, true,
                            fe_xasprintf("no content within first_token_timeout_s (%g s) of sending the request",
                                         s->first_token_timeout_s));
        return true;
    }
    if (!(a->status >= 200 && a->status < 300) || a->body_overflow) /* classified as always (over the cap: final) */
        return false;
    if (s->stop == FE_STREAM_ERROR) {
        *pe = s->acc.error;
        memset(&s->acc.error, 0, sizeof(s->acc.error));
        char *msg = fe_xasprintf("error event mid-stream: %s", pe->message ? pe->message : pe->kind);
        free(pe->message);
        pe->message = msg;
        return true;
    }
    bool partial = s->binary ? fe_evs_pending(&s->evs) : fe_sse_pending(&s->sse);
    if (s->binary && fe_evs_error(&s->evs) && !(s->events == 0 && fe_net_stream_plain(a))) {
        /* corrupt framing (a bad CRC, impossible lengths): as a cut stream, retried */
        fe_net_stream_error(pe, FE_ERRK_CONNECTION, a->status, true,
                            fe_xasprintf("stream: %s", fe_evs_error(&s->evs)));
        return true;
    }
    if (s->stop == FE_STREAM_BAD || s->sse.overflow) {
        fe_net_stream_error(pe, FE_ERRK_MALFORMED, a->status, true,
                            fe_xasprintf("stream: %s", s->acc.bad[0] ? s->acc.bad : "an event over the size cap"));
        return true;
    }
    if (a->cc != CURLE_OK) {
        fe_net_stream_error(pe, FE_ERRK_CONNECTION, a->status, true,
                            fe_xasprintf("stream cut after %zu event(s): %s", s->events,
                                         curl_easy_strerror(a->cc)));
        return true;
    }
    if (!s->ended && (s->events > 0 || (partial && !fe_net_stream_plain(a)))) {
        fe_net_stream_error(pe, FE_ERRK_CONNECTION, a->status, true,
                            fe_xasprintf("stream cut: the connection closed after %zu event(s), before the "
                                         "stream's terminal event ([DONE], message_stop or metadata)", s->events));
        return true;
    }
    return false;
}

enum fe_status fe_net_stream_take(struct fe_net_stream *s, const char *body, size_t len, struct fe_completion *out,
                                  struct fe_err *err)
{
    if (s->events == 0) /* not a stream: a server that ignored "stream": true */
        return s->ops->parse_response(body, len, out, err);
    if (!s->ended)
        return fe_err_set(err, FE_EPROVIDER, "stream ended before its terminal event");
    fe_stream_acc_take(&s->acc, out);
    return FE_OK;
}

double fe_net_stream_ttft_ms(const struct fe_net_stream *s)
{
    if (s->t_first <= 0)
        return NAN;
    double ms = (s->t_first - s->t_sent - s->connect_s) * 1000.0;
    return ms > 0 ? ms : 0;
}

enum fe_status fe_net_stream_parse_all(const struct fe_provider_ops *ops, const char *body, size_t len,
                                       struct fe_completion *out, struct fe_err *err)
{
    memset(out, 0, sizeof(*out));
    struct fe_net_stream *s = fe_net_stream_new(ops, 0);
    fe_net_stream_start(s);
    fe_net_stream_bytes(s, body, len);
    struct fe_net_attempt a = {.cc = CURLE_OK, .status = 200, .body = body, .len = len};
    struct fe_provider_error pe = {0};
    enum fe_status st;
    if (fe_net_stream_failed(s, &a, &pe))
        st = fe_err_set(err, FE_EPROVIDER, "%s", pe.message ? pe.message : pe.kind);
    else
        st = fe_net_stream_take(s, body, len, out, err);
    fe_provider_error_release(&pe);
    fe_net_stream_free(s);
    return st;
}
