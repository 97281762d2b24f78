/* eventstream.c — see eventstream.h. The message's bytes are gathered whole (the prelude first,
 * which gives the length), then checked and split into headers and payload. */
#include "harness/net/eventstream.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "harness/base/crc32.h"

#define FE_EVS_PRELUDE 12u /* total length, headers length, prelude CRC */

void fe_evs_init(struct fe_evs *p, size_t cap, fe_evs_fn on_message, void *ud)
{
    memset(p, 0, sizeof(*p));
    p->on_message = on_message;
    p->ud = ud;
    p->cap = cap == 0 || cap > FE_EVS_MAX_MESSAGE ? FE_EVS_MAX_MESSAGE : cap;
    fe_buf_init(&p->msg, 0);
    fe_buf_init(&p->strs, 0);
}

void fe_evs_reset(struct fe_evs *p)
{
    fe_buf_reset(&p->msg);
    fe_buf_reset(&p->strs);
    p->total = 0;
    p->stopped = 0;
    p->error[0] = '\0';
    p->messages = 0;
}

void fe_evs_release(struct fe_evs *p)
{
    fe_buf_release(&p->msg);
    fe_buf_release(&p->strs);
    memset(p, 0, sizeof(*p));
}

static uint32_t fe_evs_u32(const unsigned char *b)
{
    return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | (uint32_t)b[3];
}

__attribute__((format(printf, 2, 3))) static int fe_evs_broken(struct fe_evs *p, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int k = snprintf(p->error, sizeof(p->error), "event-stream message %zu: ", p->messages + 1);
    vsnprintf(p->error + k, sizeof(p->error) - (size_t)k, fmt, ap);
    va_end(ap);
    p->stopped = FE_EVS_BROKEN;
    return FE_EVS_BROKEN;
}

/* The prelude is in: checks it and sets p->total. */
static int fe_evs_prelude(struct fe_evs *p)
{
    const unsigned char *b = (const unsigned char *)p->msg.data;
    uint32_t total = fe_evs_u32(b), hlen = fe_evs_u32(b + 4), crc = fe_evs_u32(b + 8);
    if (fe_crc32(0, b, 8) != crc)
        return fe_evs_broken(p, "bad prelude CRC");
    if (total < FE_EVS_PRELUDE + 4)
        return fe_evs_broken(p, "total length %u is under the 16 bytes of framing", (unsigned)total);
    if (total > p->cap)
        return fe_evs_broken(p, "total length %u is over the cap of %zu bytes", (unsigned)total, p->cap);
    if (hlen > total - FE_EVS_PRELUDE - 4)
        return fe_evs_broken(p, "headers length %u does not fit in a message of %u bytes", (unsigned)hlen,
                             (unsigned)total);
    p->total = total;
    return 0;
}

/* The fixed size of a header value of type t, or -1 for the types with a length (6, 7), or -2
 * for an unknown type. */
static int fe_evs_value_size(unsigned t)
{
    static const signed char sizes[] = {0, 0, 1, 2, 4, 8, -1, -1, 8, 16};
    return t < sizeof(sizes) ? sizes[t] : -2;
}

/* The headers of the whole message into p->hdr (names and strings copied into p->strs). */
static int fe_evs_headers(struct fe_evs *p, size_t *n_out)
{
    const unsigned char *b = (const unsigned char *)p->msg.data;
    size_t pos = FE_EVS_PRELUDE, end = FE_EVS_PRELUDE + fe_evs_u32(b + 4), n = 0;
    size_t name_off[FE_EVS_MAX_HEADERS], value_off[FE_EVS_MAX_HEADERS];
    fe_buf_reset(&p->strs);
    while (pos < end) {
        if (n == FE_EVS_MAX_HEADERS)
            return fe_evs_broken(p, "more than %d headers", FE_EVS_MAX_HEADERS);
        size_t name_len = b[pos++];
        if (name_len == 0)
            return fe_evs_broken(p, "header %zu has an empty name", n + 1);
        if (name_len + 1 > end - pos)
            return fe_evs_broken(p, "header %zu runs past the headers section", n + 1);
        name_off[n] = p->strs.len;
        fe_buf_add(&p->strs, b + pos, name_len);
        fe_buf_addch(&p->strs, '\0');
        pos += name_len;
        unsigned type = b[pos++];
        int size = fe_evs_value_size(type);
        if (size == -2)
            return fe_evs_broken(p, "header '%s' has the unknown value type %u", p->strs.data + name_off[n], type);
        size_t vlen = (size_t)size;
        if (size == -1) {
            if (end - pos < 2)
                return fe_evs_broken(p, "header %zu runs past the headers section", n + 1);
            vlen = (size_t)b[pos] << 8 | b[pos + 1];
            pos += 2;
        }
        if (vlen > end - pos)
            return fe_evs_broken(p, "header %zu runs past the headers section", n + 1);
        value_off[n] = p->strs.len;
        fe_buf_add(&p->strs, b + pos, vlen);
        fe_buf_addch(&p->strs, '\0');
        p->hdr[n].type = (unsigned char)type;
        p->hdr[n].value_len = vlen;
        pos += vlen;
        n++;
    }
    for (size_t i = 0; i < n; i++) { /* the copies are all in: their addresses are final */
        p->hdr[i].name = p->strs.data + name_off[i];
        p->hdr[i].value = p->strs.data + value_off[i];
    }
    *n_out = n;
    return 0;
}

/* The whole message is in: checks its CRC, hands it over, starts the next one. */
static int fe_evs_message(struct fe_evs *p)
{
    unsigned char *b = (unsigned char *)p->msg.data;
    uint32_t total = p->total, hlen = fe_evs_u32(b + 4);
    if (fe_crc32(0, b, total - 4) != fe_evs_u32(b + total - 4))
        return fe_evs_broken(p, "bad message CRC");
    size_t n = 0;
    if (fe_evs_headers(p, &n) != 0)
        return FE_EVS_BROKEN;
    size_t payload_at = FE_EVS_PRELUDE + hlen;
    b[total - 4] = '\0'; /* the CRC is checked: its first byte ends the payload's string */
    struct fe_evs_message m = {.headers = p->hdr, .n_headers = n, .payload = (const char *)b + payload_at,
                               .payload_len = total - 4 - payload_at};
    p->messages++;
    p->stopped = p->on_message(p->ud, &m);
    fe_buf_reset(&p->msg);
    p->total = 0;
    return p->stopped;
}

int fe_evs_feed(struct fe_evs *p, const void *bytes, size_t n)
{
    const unsigned char *in = bytes;
    while (n > 0 && !p->stopped) {
        size_t want = p->total ? p->total : FE_EVS_PRELUDE;
        size_t take = want - p->msg.len < n ? want - p->msg.len : n;
        fe_buf_add(&p->msg, in, take);
        in += take, n -= take;
        if (p->msg.len < want)
            break;
        if (!p->total)
            fe_evs_prelude(p);
        else
            fe_evs_message(p);
    }
    return p->stopped;
}

const char *fe_evs_error(const struct fe_evs *p)
{
    return p->error[0] ? p->error : NULL;
}

bool fe_evs_pending(const struct fe_evs *p)
{
    return p->msg.len > 0;
}

const char *fe_evs_string(const struct fe_evs_message *m, const char *name)
{
    for (size_t i = 0; i < m->n_headers; i++)
        if (m->headers[i].type == 7 && strcmp(m->headers[i].name, name) == 0)
            return m->headers[i].value;
    return NULL;
}
