/* test_sse.c — the server-sent events parser (net/sse.h) and the stream rules (net/stream.h) with
 * the providers' event translators (openai, anthropic): every stream is fed whole, then cut at
 * every byte boundary, then one byte at a time, and must give the same events each way. The
 * expected events are written here from the WHATWG event-stream definition, not from our output. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness/base/buf.h"
#include "harness/net/sse.h"
#include "harness/net/stream.h"
#include "providers/provider.h"
#include "tests/t.h"

/* Events as "name|data" lines joined with "\n" (data newlines shown as "\\n"). */
static int t_collect(void *ud, const char *event, const char *data, size_t len)
{
    struct fe_buf *b = ud;
    fe_buf_addf(b, "%s|", event);
    for (size_t i = 0; i < len; i++)
        fe_buf_adds(b, data[i] == '\n' ? "\\n" : (char[]){data[i], 0});
    fe_buf_addch(b, '\n');
    return 0;
}

/* Feeds text cut into pieces of at most step bytes (0: cut once at every position in turn). */
static char *t_parse(const char *text, size_t step, size_t cut_at, bool *pending)
{
    struct fe_buf out;
    fe_buf_init(&out, 0);
    struct fe_sse p;
    fe_sse_init(&p, 0, t_collect, &out);
    size_t n = strlen(text);
    if (step == 0) {
        fe_sse_feed(&p, text, cut_at);
        fe_sse_feed(&p, text + cut_at, n - cut_at);
    } else {
        for (size_t i = 0; i < n; i += step)
            fe_sse_feed(&p, text + i, n - i < step ? n - i : step);
    }
    if (pending)
        *pending = fe_sse_pending(&p);
    fe_sse_release(&p);
    char *s = fe_buf_detach(&out, NULL);
    return s ? s : calloc(1, 1);
}

static void t_sse_case(const char *text, const char *want, bool want_pending)
{
    size_t n = strlen(text);
    bool pending;
    char *got = t_parse(text, n ? n : 1, 0, &pending);
    T_CHECK_STR(got, want);
    T_CHECK(pending == want_pending);
    free(got);
    for (size_t cut = 0; cut <= n; cut++) {
        got = t_parse(text, 0, cut, NULL);
        if (strcmp(got, want) != 0) {
            fprintf(stderr, "cut at %zu of %s\n", cut, text);
            T_CHECK_STR(got, want);
        }
        free(got);
    }
    got = t_parse(text, 1, 0, NULL);
    T_CHECK_STR(got, want);
    free(got);
}

static void t_sse(void)
{
    t_sse_case("data: a\n\n", "message|a\n", false);
    t_sse_case("data: a\r\n\r\ndata: b\r\r", "message|a\nmessage|b\n", false);   /* CRLF and lone CR */
    /* a CRLF is one line end: the event's name and its data lines stay one event */
    t_sse_case("event: delta\r\ndata: one\r\ndata: two\r\n\r\n", "delta|one\\ntwo\n", false);
    t_sse_case(": keep-alive\n\ndata:x\n\n", "message|x\n", false);             /* comment; no space */
    t_sse_case("event: delta\ndata: one\ndata: two\n\n", "delta|one\\ntwo\n", false); /* multi-line data */
    t_sse_case("data:  two spaces\n\n", "message| two spaces\n", false);        /* only one space dropped */
    t_sse_case("id: 7\nretry: 10\nfoo: bar\ndata: d\n\n", "message|d\n", false); /* other fields ignored */
    t_sse_case("event: ping\n\n", "", false);                                     /* no data: nothing */
    t_sse_case("data\n\n", "message|\n", false);                                  /* field with no colon */
    t_sse_case("data: {\"a\": \"b:c\"}\n\n", "message|{\"a\": \"b:c\"}\n", false);
    t_sse_case("data: last", "", true);                                           /* cut: discarded */
    t_sse_case("data: a\n\ndata: cut\n", "message|a\n", true);
    t_sse_case("event: e1\ndata: 1\n\nevent: e2\ndata: 2\n\ndata: 3\n\n", "e1|1\ne2|2\nmessage|3\n", false);
}

/* A whole stream through the provider's translator (net/stream.h rules). */
static void t_stream(const struct fe_provider_ops *ops, const char *body, enum fe_status want_status, const char *want_text,
                     const char *want_finish, long want_prompt, long want_completion, bool want_usage)
{
    struct fe_completion c;
    struct fe_err err = {0};
    enum fe_status st = fe_net_stream_parse_all(ops, body, strlen(body), &c, &err);
    T_CHECK(st == want_status);
    if (st != want_status)
        fprintf(stderr, "  %s: %s\n", ops->name, err.msg);
    if (st == FE_OK) {
        T_CHECK_STR(c.text, want_text);
        T_CHECK_STR(c.finish_reason, want_finish);
        T_CHECK(c.has_usage == want_usage);
        T_CHECK(c.prompt_tokens == want_prompt);
        T_CHECK(c.completion_tokens == want_completion);
    }
    fe_completion_release(&c);
}

static const char *t_openai_ok =
    "data: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"model\":\"m\",\"choices\":[{\"index\":0,"
    "\"delta\":{\"role\":\"assistant\",\"content\":\"\"},\"finish_reason\":null}]}\n\n"
    ": comment\n\n"
    "data: {\"id\":\"c1\",\"model\":\"m\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hel\"},"
    "\"finish_reason\":null}]}\r\n\r\n"
    "data: {\"id\":\"c1\",\"model\":\"m\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"lo\"},"
    "\"finish_reason\":null}]}\n\n"
    "data: {\"id\":\"c1\",\"model\":\"m\",\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"length\"}]}\n\n"
    "data: {\"id\":\"c1\",\"model\":\"m\",\"choices\":[],\"usage\":{\"prompt_tokens\":11,\"completion_tokens\":2,"
    "\"total_tokens\":13}}\n\n"
    "data: [DONE]\n\n";

static const char *t_anthropic_ok =
    "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_1\",\"model\":\"claude\","
    "\"usage\":{\"input_tokens\":20,\"cache_read_input_tokens\":5,\"output_tokens\":1}}}\n\n"
    "event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":"
    "{\"type\":\"text\",\"text\":\"\"}}\n\n"
    "event: ping\ndata: {\"type\":\"ping\"}\n\n"
    "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":"
    "{\"type\":\"text_delta\",\"text\":\"Bon\"}}\n\n"
    "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":"
    "{\"type\":\"text_delta\",\"text\":\"jour\"}}\n\n"
    "event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":0}\n\n"
    "event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\"},"
    "\"usage\":{\"output_tokens\":7}}\n\n"
    "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n";

/* The stream rules on a stream cut, an error event and a bad event. */
static void t_stream_failure(const struct fe_provider_ops *ops, const char *body, const char *want_kind,
                             bool want_retryable)
{
    struct fe_net_stream *s = fe_net_stream_new(ops, 0);
    fe_net_stream_start(s);
    fe_sse_feed(&s->sse, body, strlen(body));
    struct fe_net_attempt a = {.cc = CURLE_OK, .status = 200, .body = body, .len = strlen(body)};
    struct fe_provider_error pe = {0};
    bool failed = fe_net_stream_failed(s, &a, &pe);
    T_CHECK(failed);
    if (failed) {
        T_CHECK_STR(pe.kind, want_kind);
        T_CHECK(pe.retryable == want_retryable);
    }
    fe_provider_error_release(&pe);
    fe_net_stream_free(s);
}

static void t_streams(void)
{
    t_stream(&fe_provider_openai, t_openai_ok, FE_OK, "Hello", "length", 11, 2, true);
    t_stream(&fe_provider_azure_openai, t_openai_ok, FE_OK, "Hello", "length", 11, 2, true);
    t_stream(&fe_provider_anthropic, t_anthropic_ok, FE_OK, "Bonjour", "stop", 25, 7, true);
    /* no usage chunk: the answer stands, its usage is unknown (never a guess) */
    t_stream(&fe_provider_openai,
             "data: {\"choices\":[{\"delta\":{\"content\":\"x\"},\"finish_reason\":\"stop\"}]}\n\ndata: [DONE]\n\n",
             FE_OK, "x", "stop", 0, 0, false);
    /* a server that ignored "stream": true answers with one JSON body */
    t_stream(&fe_provider_openai,
             "{\"choices\":[{\"message\":{\"content\":\"plain\"},\"finish_reason\":\"stop\"}],"
             "\"usage\":{\"prompt_tokens\":3,\"completion_tokens\":1}}",
             FE_OK, "plain", "stop", 3, 1, true);
    /* cut before [DONE] / message_stop: a connection error, retried */
    t_stream_failure(&fe_provider_openai, "data: {\"choices\":[{\"delta\":{\"content\":\"x\"}}]}\n\n",
                     FE_ERRK_CONNECTION, true);
    t_stream_failure(&fe_provider_openai, "data: {\"choices\":[{\"delta\":{\"content\":\"x\"}}]}\n\ndata: {\"cho",
                     FE_ERRK_CONNECTION, true);
    t_stream_failure(&fe_provider_anthropic, "event: message_start\ndata: {\"type\":\"message_start\","
                     "\"message\":{}}\n\n", FE_ERRK_CONNECTION, true);
    /* error events mid-stream: classified by their type */
    t_stream_failure(&fe_provider_anthropic,
                     "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{}}\n\n"
                     "event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\","
                     "\"message\":\"Overloaded\"}}\n\n", FE_ERRK_SERVER, true);
    t_stream_failure(&fe_provider_anthropic,
                     "event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"invalid_request_error\","
                     "\"message\":\"bad\"}}\n\n", FE_ERRK_BAD_REQUEST, false);
    t_stream_failure(&fe_provider_openai,
                     "data: {\"error\":{\"type\":\"server_error\",\"message\":\"boom\"}}\n\n", FE_ERRK_SERVER, true);
    /* garbage events: malformed, retried */
    t_stream_failure(&fe_provider_openai, "data: not json\n\ndata: [DONE]\n\n", FE_ERRK_MALFORMED, true);
    t_stream_failure(&fe_provider_openai, "data: {\"object\":\"x\"}\n\ndata: [DONE]\n\n", FE_ERRK_MALFORMED, true);
    t_stream_failure(&fe_provider_anthropic, "event: message_start\ndata: [1,2]\n\n", FE_ERRK_MALFORMED, true);
}

int main(void)
{
    t_sse();
    t_streams();
    return T_DONE();
}
