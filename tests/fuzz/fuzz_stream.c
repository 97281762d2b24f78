/* fuzz_stream.c — libFuzzer target: a streamed body through both stream parsers, the
 * server-sent-events parser (net/sse.h) and the AWS event-stream decoder (net/eventstream.h),
 * cut into pieces whose size the first byte picks, and whole through the stream rules of every
 * streaming provider (fe_net_stream_parse_all: openai, anthropic, azure_openai, bedrock). */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "harness/net/eventstream.h"
#include "harness/net/sse.h"
#include "harness/net/stream.h"
#include "providers/provider.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int fuzz_sse(void *ud, const char *event, const char *d, size_t len)
{
    size_t *sum = ud;
    *sum += strlen(event) + len + (len ? (unsigned char)d[len - 1] : 0) + (unsigned char)d[len];
    return 0;
}

static int fuzz_evs(void *ud, const struct fe_evs_message *m)
{
    size_t *sum = ud;
    for (size_t i = 0; i < m->n_headers; i++)
        *sum += strlen(m->headers[i].name) + m->headers[i].value_len +
                (m->headers[i].value_len ? (unsigned char)m->headers[i].value[m->headers[i].value_len - 1] : 0);
    *sum += m->payload_len + (unsigned char)m->payload[m->payload_len];
    (void)fe_evs_string(m, ":event-type");
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t step = size ? (size_t)data[0] % 64 + 1 : 1, sum = 0;
    struct fe_sse sse;
    struct fe_evs evs;
    fe_sse_init(&sse, 4096, fuzz_sse, &sum);
    fe_evs_init(&evs, 4096, fuzz_evs, &sum);
    for (size_t i = 0; i < size; i += step) {
        size_t n = size - i < step ? size - i : step;
        fe_sse_feed(&sse, (const char *)data + i, n);
        fe_evs_feed(&evs, data + i, n);
    }
    (void)fe_sse_pending(&sse);
    (void)fe_evs_pending(&evs);
    (void)fe_evs_error(&evs);
    fe_sse_release(&sse);
    fe_evs_release(&evs);
    for (size_t i = 0; fe_providers[i]; i++) {
        if (!(fe_providers[i]->caps & FE_CAP_STREAM))
            continue;
        struct fe_completion c = {0};
        struct fe_err err = {0};
        fe_net_stream_parse_all(fe_providers[i], (const char *)data, size, &c, &err);
        fe_completion_release(&c);
    }
    return (int)(sum & 0);
}
