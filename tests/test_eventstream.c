/* test_eventstream.c — the AWS event-stream decoder (net/eventstream.h), the CRC-32 it checks
 * (base/crc32.h) and Bedrock's converse-stream events through the stream rules (net/stream.h,
 * providers/bedrock.c). Every vector and every expected value comes from
 * tests/fixtures/eventstream/gen.py (Python struct and zlib.crc32), never from our own output.
 * Streams are fed whole, cut once at every byte, in steps of 2..17 bytes and one byte at a time. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness/base/buf.h"
#include "harness/base/crc32.h"
#include "harness/base/util.h"
#include "harness/net/eventstream.h"
#include "harness/net/stream.h"
#include "providers/provider.h"
#include "tests/fixtures/eventstream/vectors.h"
#include "tests/t.h"

/* Messages as gen.py lists them: "name=T:value;...|payload" joined with "\n". */
static int t_collect(void *ud, const struct fe_evs_message *m)
{
    struct fe_buf *b = ud;
    if (b->len)
        fe_buf_addch(b, '\n');
    for (size_t i = 0; i < m->n_headers; i++) {
        const struct fe_evs_header *h = &m->headers[i];
        fe_buf_addf(b, "%s%s=%u:", i ? ";" : "", h->name, h->type);
        if (h->type == 7)
            fe_buf_add(b, h->value, h->value_len);
        else
            for (size_t k = 0; k < h->value_len; k++)
                fe_buf_addf(b, "%02x", (unsigned char)h->value[k]);
    }
    fe_buf_addch(b, '|');
    fe_buf_add(b, m->payload, m->payload_len);
    if (m->payload[m->payload_len] != '\0')
        fe_buf_adds(b, "(payload not NUL-terminated)");
    return 0;
}

struct t_run {
    char *listing;
    size_t messages;
    int rc;
    char error[160];
    bool pending;
};

/* Feeds bytes[0..n) in pieces: step bytes each (step 0: two pieces cut at cut_at). */
static struct t_run t_feed(const unsigned char *bytes, size_t n, size_t step, size_t cut_at, size_t cap)
{
    struct fe_buf out;
    fe_buf_init(&out, 0);
    struct fe_evs p;
    fe_evs_init(&p, cap, t_collect, &out);
    struct t_run r = {0};
    if (step == 0) {
        r.rc = fe_evs_feed(&p, bytes, cut_at);
        r.rc = fe_evs_feed(&p, bytes + cut_at, n - cut_at);
    } else {
        for (size_t i = 0; i < n; i += step)
            r.rc = fe_evs_feed(&p, bytes + i, n - i < step ? n - i : step);
    }
    r.messages = p.messages;
    snprintf(r.error, sizeof(r.error), "%s", fe_evs_error(&p) ? fe_evs_error(&p) : "");
    r.pending = fe_evs_pending(&p);
    fe_evs_release(&p);
    r.listing = fe_buf_detach(&out, NULL);
    if (!r.listing)
        r.listing = calloc(1, 1);
    return r;
}

static void t_crc(void)
{
    for (size_t i = 0; i < FE_ARRAY_LEN(t_crcs); i++) {
        T_CHECK(fe_crc32(0, t_crcs[i].in, t_crcs[i].len) == t_crcs[i].crc);
        for (size_t k = 0; k <= t_crcs[i].len; k += 7) /* continued across any split, as zlib's */
            T_CHECK(fe_crc32(fe_crc32(0, t_crcs[i].in, k), t_crcs[i].in + k, t_crcs[i].len - k) == t_crcs[i].crc);
    }
    T_CHECK(fe_crc32(0, NULL, 0) == 0);
}

static void t_good_stream(void)
{
    size_t n = sizeof(t_good);
    struct t_run r = t_feed(t_good, n, n, 0, 0);
    T_CHECK_STR(r.listing, t_good_listing);
    T_CHECK(r.messages == t_good_messages && r.rc == 0 && !r.error[0] && !r.pending);
    free(r.listing);
    size_t bad_cuts = 0;
    for (size_t cut = 0; cut <= n; cut++) {
        r = t_feed(t_good, n, 0, cut, 0);
        if (strcmp(r.listing, t_good_listing) != 0 || r.messages != t_good_messages || r.rc != 0 || r.pending) {
            if (!bad_cuts++)
                fprintf(stderr, "cut at %zu: %s\n", cut, r.listing);
        }
        free(r.listing);
    }
    T_CHECK(bad_cuts == 0);
    for (size_t step = 1; step <= 17; step++) { /* 1: byte by byte */
        r = t_feed(t_good, n, step, 0, 0);
        T_CHECK(strcmp(r.listing, t_good_listing) == 0 && r.messages == t_good_messages && r.rc == 0 && !r.pending);
        free(r.listing);
    }
    /* cut short at every byte: the whole messages before it, and pending unless on a boundary */
    size_t bounds[16], nb = 0, at = 0;
    while (at < n && nb < 16) {
        at += (size_t)t_good[at] << 24 | (size_t)t_good[at + 1] << 16 | (size_t)t_good[at + 2] << 8 | t_good[at + 3];
        bounds[nb++] = at;
    }
    T_CHECK(nb == t_good_messages && at == n);
    size_t wrong = 0;
    for (size_t k = 0; k < n; k++) {
        size_t whole = 0;
        while (whole < nb && bounds[whole] <= k)
            whole++;
        bool on_boundary = k == 0 || (whole > 0 && bounds[whole - 1] == k);
        r = t_feed(t_good, k, 1, 0, 0);
        if (r.messages != whole || r.pending == on_boundary || r.rc != 0)
            wrong++;
        free(r.listing);
    }
    T_CHECK(wrong == 0);
}

static void t_bad_streams(void)
{
    for (size_t i = 0; i < FE_ARRAY_LEN(t_bad); i++) {
        for (int whole = 0; whole < 2; whole++) {
            struct t_run r = t_feed(t_bad[i].bytes, t_bad[i].len, whole ? t_bad[i].len : 1, 0, 0);
            bool ok = r.rc == FE_EVS_BROKEN && r.messages == t_bad[i].before && strstr(r.error, t_bad[i].why) != NULL;
            if (!ok)
                fprintf(stderr, "%s (%s): rc %d, %zu messages, error \"%s\", want \"%s\"\n", t_bad[i].name,
                        whole ? "whole" : "byte by byte", r.rc, r.messages, r.error, t_bad[i].why);
            T_CHECK(ok);
            free(r.listing);
        }
    }
    /* broken stays broken: more good bytes are not decoded */
    struct fe_buf out;
    fe_buf_init(&out, 0);
    struct fe_evs p;
    fe_evs_init(&p, 0, t_collect, &out);
    T_CHECK(fe_evs_feed(&p, t_bad[1].bytes, t_bad[1].len) == FE_EVS_BROKEN);
    T_CHECK(fe_evs_feed(&p, t_msg_delta, sizeof(t_msg_delta)) == FE_EVS_BROKEN && p.messages == 1);
    fe_evs_reset(&p); /* a new stream decodes again */
    T_CHECK(fe_evs_error(&p) == NULL && fe_evs_feed(&p, t_msg_delta, sizeof(t_msg_delta)) == 0 && p.messages == 1);
    fe_evs_release(&p);
    fe_buf_release(&out);
    /* a cap below the first message */
    struct t_run r = t_feed(t_good, sizeof(t_good), 1, 0, 64);
    T_CHECK(r.rc == FE_EVS_BROKEN && r.messages == 0 && strstr(r.error, "is over the cap of 64 bytes") != NULL);
    free(r.listing);
}

static const struct fe_net_attempt t_ok_attempt = {.cc = CURLE_OK, .status = 200, .body = "", .len = 0};

/* A bedrock stream of the given parts fed through the stream rules: failed? (pe filled) */
static bool t_bedrock(const unsigned char *const *parts, const size_t *lens, size_t n, struct fe_provider_error *pe,
                      struct fe_completion *c, double *t_first)
{
    struct fe_net_stream *s = fe_net_stream_new(&fe_provider_bedrock, 0);
    fe_net_stream_start(s);
    struct fe_buf all;
    fe_buf_init(&all, 0);
    for (size_t i = 0; i < n; i++) {
        for (size_t k = 0; k < lens[i]; k++) /* byte by byte */
            fe_evs_feed(&s->evs, parts[i] + k, 1);
        fe_buf_add(&all, parts[i], lens[i]);
    }
    if (t_first)
        *t_first = s->t_first;
    struct fe_net_attempt a = t_ok_attempt;
    a.body = all.data, a.len = all.len;
    memset(pe, 0, sizeof(*pe));
    bool failed = fe_net_stream_failed(s, &a, pe);
    struct fe_err err = {0};
    if (!failed && c)
        T_CHECK(fe_net_stream_take(s, all.data, all.len, c, &err) == FE_OK);
    fe_buf_release(&all);
    fe_net_stream_free(s);
    return failed;
}

#define T_PART(x) x, sizeof(x)

/* One bedrock stream of up to 4 parts through the stream rules. */
static bool t_bedrock4(const unsigned char *a, size_t na, const unsigned char *b, size_t nb, const unsigned char *c3,
                       size_t nc, struct fe_provider_error *pe, struct fe_completion *c, double *t_first)
{
    const unsigned char *parts[] = {a, b, c3};
    size_t lens[] = {na, nb, nc};
    return t_bedrock(parts, lens, c3 ? 3 : b ? 2 : 1, pe, c, t_first);
}

static void t_provider(void)
{
    T_CHECK((fe_provider_bedrock.caps & (FE_CAP_STREAM | FE_CAP_EVENTSTREAM)) == (FE_CAP_STREAM | FE_CAP_EVENTSTREAM));
    /* the whole answer: text, stopReason max_tokens -> length, usage with cache reads */
    struct fe_completion c = {0};
    struct fe_err err = {0};
    T_CHECK(fe_net_stream_parse_all(&fe_provider_bedrock, (const char *)t_good, sizeof(t_good), &c, &err) == FE_OK);
    T_CHECK_STR(c.text, "Hello, w\xc3\xb6rld");
    T_CHECK_STR(c.finish_reason, "length");
    T_CHECK(c.has_usage && c.prompt_tokens == 30 && c.cached_tokens == 5 && c.completion_tokens == 4);
    fe_completion_release(&c);

    /* the time to first token is the first text delta, not messageStart */
    struct fe_provider_error pe;
    double t_first = -1;
    T_CHECK(t_bedrock4(T_PART(t_msg_start), NULL, 0, NULL, 0, &pe, NULL, &t_first));
    T_CHECK(t_first == 0 && pe.kind && strcmp(pe.kind, FE_ERRK_CONNECTION) == 0 && pe.retryable); /* cut */
    fe_provider_error_release(&pe);
    T_CHECK(t_bedrock4(T_PART(t_msg_start), T_PART(t_msg_delta), NULL, 0, &pe, NULL, &t_first));
    T_CHECK(t_first > 0 && strcmp(pe.kind, FE_ERRK_CONNECTION) == 0 && strstr(pe.message, "metadata") != NULL);
    fe_provider_error_release(&pe);
    /* start, delta, stop, messageStop, metadata: complete */
    T_CHECK(!t_bedrock4(T_PART(t_msg_start), T_PART(t_msg_delta), T_PART(t_msg_tail), &pe, &c, NULL));
    T_CHECK_STR(c.text, "Hel");
    T_CHECK_STR(c.finish_reason, "length");
    T_CHECK(c.has_usage && c.completion_tokens == 4);
    fe_completion_release(&c);

    /* exceptions mid-stream: classified as the HTTP statuses of their types */
    static const struct {
        const unsigned char *bytes;
        size_t len;
        const char *kind;
        long status;
        bool retryable;
        const char *words;
    } exc[] = {
        {T_PART(t_exc_throttling), FE_ERRK_RATE_LIMIT, 429, true, "Too many tokens"},
        {T_PART(t_exc_validation), FE_ERRK_BAD_REQUEST, 400, false, "bad input"},
        {T_PART(t_exc_stream_error), FE_ERRK_SERVER, 424, true, "the model stopped"},
        {T_PART(t_msg_error), FE_ERRK_SERVER, 500, true, "an internal failure"},
    };
    for (size_t i = 0; i < FE_ARRAY_LEN(exc); i++) {
        T_CHECK(t_bedrock4(T_PART(t_msg_start), T_PART(t_msg_delta), exc[i].bytes, exc[i].len, &pe, NULL, NULL));
        bool ok = pe.kind && strcmp(pe.kind, exc[i].kind) == 0 && pe.http_status == exc[i].status &&
                  pe.retryable == exc[i].retryable && !pe.stop_provider && pe.message &&
                  strstr(pe.message, exc[i].words) != NULL && strstr(pe.message, "mid-stream") != NULL;
        if (!ok)
            fprintf(stderr, "exception %zu: kind %s status %ld retryable %d message %s\n", i, pe.kind, pe.http_status,
                    pe.retryable, pe.message ? pe.message : "(null)");
        T_CHECK(ok);
        fe_provider_error_release(&pe);
    }
    /* broken framing mid-stream: a connection error, retried like a cut stream */
    for (size_t i = 0; i < 4; i++) {
        T_CHECK(t_bedrock4(t_bad[i].bytes, t_bad[i].len, NULL, 0, NULL, 0, &pe, NULL, NULL));
        T_CHECK(pe.kind && strcmp(pe.kind, FE_ERRK_CONNECTION) == 0 && pe.retryable && strstr(pe.message, t_bad[i].why));
        fe_provider_error_release(&pe);
    }
    /* a server that answered converse-stream with a plain Converse JSON body */
    static const char plain[] = "{\"output\":{\"message\":{\"role\":\"assistant\",\"content\":[{\"text\":\"hi\"}]}},"
                                "\"stopReason\":\"end_turn\",\"usage\":{\"inputTokens\":3,\"outputTokens\":1}}";
    T_CHECK(!t_bedrock4((const unsigned char *)plain, sizeof(plain) - 1, NULL, 0, NULL, 0, &pe, &c, NULL));
    T_CHECK_STR(c.text, "hi");
    T_CHECK(c.has_usage && c.prompt_tokens == 3 && c.completion_tokens == 1);
    fe_completion_release(&c);
}

/* The streamed request: converse-stream, Accept event-stream, the same body (no "stream" field). */
static void t_build(void)
{
    struct fe_message m = {.role = "user", .content = "Hi"};
    struct fe_provider_conf conf = {.name = "t", .type = "bedrock", .region = "us-east-1", .aws_access_key_id = "AKID",
                                    .aws_secret_access_key = "secret"};
    struct fe_chat_request req = {.model = "amazon.nova-micro-v1:0", .messages = &m, .n_messages = 1, .max_tokens = 8,
                                  .now_unix = 1764460800LL};
    struct fe_http_request plain, streamed;
    struct fe_err err = {0};
    T_CHECK(fe_provider_bedrock.build_request(&conf, &req, &plain, &err) == FE_OK);
    req.stream = true;
    T_CHECK(fe_provider_bedrock.build_request(&conf, &req, &streamed, &err) == FE_OK);
    T_CHECK_STR(plain.url, "https://bedrock-runtime.us-east-1.amazonaws.com/model/amazon.nova-micro-v1%3A0/converse");
    T_CHECK_STR(streamed.url, "https://bedrock-runtime.us-east-1.amazonaws.com/model/amazon.nova-micro-v1%3A0/converse-stream");
    T_CHECK_STR(streamed.body, plain.body);
    int accept = 0;
    for (size_t i = 0; i < streamed.n_headers; i++)
        accept += strcmp(streamed.headers[i], "Accept: application/vnd.amazon.eventstream") == 0;
    T_CHECK(accept == 1);
    fe_http_request_release(&plain);
    fe_http_request_release(&streamed);
}

int main(void)
{
    t_build();
    t_crc();
    t_good_stream();
    t_bad_streams();
    t_provider();
    return T_DONE();
}
