/* transfer.c — see transfer.h. */
#include "harness/net/transfer.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness/base/log.h"

static size_t fe_net_on_body(char *data, size_t size, size_t n, void *userp)
{
    struct fe_net_xfer *x = userp;
    if (fe_buf_add(&x->body, data, size * n) != 0) {
        x->body_overflow = true;
        return 0; /* over the cap: abort the transfer (CURLE_WRITE_ERROR) */
    }
    if (x->stream) /* events are parsed as they arrive: the time to first token is now */
        fe_net_stream_feed(x->stream, x->easy, data, size * n);
    return size * n;
}

static size_t fe_net_on_header(char *data, size_t size, size_t n, void *userp)
{
    struct fe_net_xfer *x = userp;
    fe_net_header_line(&x->h, data, size * n);
    return size * n;
}

static int fe_net_on_progress(void *userp, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
                              curl_off_t ulnow)
{
    (void)dltotal, (void)dlnow, (void)ultotal, (void)ulnow;
    struct fe_net_xfer *x = userp;
    return x->stream ? fe_net_stream_progress(x->stream) : 0;
}

void fe_net_xfer_stream(struct fe_net_xfer *x, const struct fe_provider_ops *ops, double first_token_timeout_s)
{
    fe_net_stream_free(x->stream);
    x->stream = fe_net_stream_new(ops, first_token_timeout_s);
}

void fe_net_xfer_init(struct fe_net_xfer *x)
{
    memset(x, 0, sizeof(*x));
    fe_buf_init(&x->body, FE_NET_BODY_CAP);
}

void fe_net_xfer_set_headers(struct fe_net_xfer *x, const struct fe_http_request *req)
{
    curl_slist_free_all(x->headers);
    x->headers = NULL;
    for (size_t i = 0; i < req->n_headers; i++)
        x->headers = curl_slist_append(x->headers, req->headers[i]);
    x->headers = curl_slist_append(x->headers, "Expect:"); /* no 100-continue round trip */
    if (x->easy)
        curl_easy_setopt(x->easy, CURLOPT_HTTPHEADER, x->headers);
}

CURL *fe_net_xfer_prepare(struct fe_net_xfer *x, const struct fe_http_request *req, double timeout_s, long retries,
                          void *private_data)
{
    fe_buf_reset(&x->body);
    x->body_overflow = false;
    fe_net_headers_reset(&x->h);
    if (!x->easy) {
        x->easy = curl_easy_init();
        if (!x->easy) {
            fe_error("libcurl: cannot create a handle");
            abort();
        }
        CURL *e = x->easy;
        fe_net_easy_defaults(e, req->url, timeout_s, timeout_s < 10 ? timeout_s : 10);
        curl_easy_setopt(e, CURLOPT_POST, 1L);
        curl_easy_setopt(e, CURLOPT_POSTFIELDS, req->body);
        curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE, (long)req->body_len);
        fe_net_xfer_set_headers(x, req);
        curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, fe_net_on_body);
        curl_easy_setopt(e, CURLOPT_WRITEDATA, x);
        curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, fe_net_on_header);
        curl_easy_setopt(e, CURLOPT_HEADERDATA, x);
        curl_easy_setopt(e, CURLOPT_PRIVATE, private_data);
        curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
        if (x->stream) { /* the first-token timeout is checked on libcurl's progress ticks */
            curl_easy_setopt(e, CURLOPT_NOPROGRESS, 0L);
            curl_easy_setopt(e, CURLOPT_XFERINFOFUNCTION, fe_net_on_progress);
            curl_easy_setopt(e, CURLOPT_XFERINFODATA, x);
        }
    }
    if (x->stream)
        fe_net_stream_start(x->stream);
    if (retries > 0) {
        char hdr[64];
        snprintf(hdr, sizeof(hdr), "x-stainless-retry-count: %ld", retries);
        x->headers = curl_slist_append(x->headers, hdr);
        curl_easy_setopt(x->easy, CURLOPT_HTTPHEADER, x->headers);
    }
    return x->easy;
}

void fe_net_xfer_finish(struct fe_net_xfer *x, CURLcode cc, struct fe_net_attempt *a, double *latency_ms,
                        long *sent)
{
    long status = 0, request_size = 0;
    curl_off_t total_us = 0;
    curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_getinfo(x->easy, CURLINFO_TOTAL_TIME_T, &total_us);
    curl_easy_getinfo(x->easy, CURLINFO_REQUEST_SIZE, &request_size);
    fe_redact_buf(&x->body); /* before anything parses, truncates, caches or records it */
    fe_net_headers_redact(&x->h);
    *latency_ms = (double)total_us / 1000.0;
    *sent = request_size;
    *a = (struct fe_net_attempt){
        .cc = cc, .status = status, .body = x->body.data ? x->body.data : "", .len = x->body.len,
        .body_overflow = x->body_overflow, .headers = &x->h,
    };
}

void fe_net_xfer_release(struct fe_net_xfer *x)
{
    if (x->easy)
        curl_easy_cleanup(x->easy);
    curl_slist_free_all(x->headers);
    fe_buf_release(&x->body);
    fe_net_stream_free(x->stream);
    memset(x, 0, sizeof(*x));
}
