/* sse.c — see sse.h. One byte at a time through a line buffer: simple, and the cost is nothing
 * next to the network. */
#include "harness/net/sse.h"

#include <stdio.h>
#include <string.h>

void fe_sse_init(struct fe_sse *p, size_t cap, fe_sse_fn on_event, void *ud)
{
    memset(p, 0, sizeof(*p));
    p->on_event = on_event;
    p->ud = ud;
    fe_buf_init(&p->line, cap);
    fe_buf_init(&p->data, cap);
}

static void fe_sse_clear_event(struct fe_sse *p)
{
    fe_buf_reset(&p->data);
    p->event[0] = '\0';
    p->has_data = false;
}

void fe_sse_reset(struct fe_sse *p)
{
    fe_buf_reset(&p->line);
    fe_sse_clear_event(p);
    p->after_cr = p->overflow = false;
    p->stopped = 0;
    p->events = 0;
}

void fe_sse_release(struct fe_sse *p)
{
    fe_buf_release(&p->line);
    fe_buf_release(&p->data);
    memset(p, 0, sizeof(*p));
}

/* A blank line: dispatch the event when it has data. */
static void fe_sse_dispatch(struct fe_sse *p)
{
    if (p->has_data) {
        p->events++;
        const char *data = p->data.data ? p->data.data : "";
        p->stopped = p->on_event(p->ud, p->event[0] ? p->event : "message", data, p->data.len);
    }
    fe_sse_clear_event(p);
}

/* One complete line (without its terminator). */
static void fe_sse_line(struct fe_sse *p, const char *s, size_t n)
{
    if (n == 0) {
        fe_sse_dispatch(p);
        return;
    }
    if (s[0] == ':')
        return; /* comment (keep-alive) */
    const char *colon = memchr(s, ':', n);
    size_t name_len = colon ? (size_t)(colon - s) : n;
    const char *value = colon ? colon + 1 : s + n;
    size_t value_len = (size_t)(s + n - value);
    if (value_len > 0 && value[0] == ' ')
        value++, value_len--;
    if (name_len == 5 && memcmp(s, "event", 5) == 0) {
        size_t k = value_len < sizeof(p->event) - 1 ? value_len : sizeof(p->event) - 1;
        memcpy(p->event, value, k);
        p->event[k] = '\0';
    } else if (name_len == 4 && memcmp(s, "data", 4) == 0) {
        if ((p->has_data && fe_buf_addch(&p->data, '\n') != 0) || fe_buf_add(&p->data, value, value_len) != 0)
            p->overflow = true;
        p->has_data = true;
    }
}

int fe_sse_feed(struct fe_sse *p, const char *bytes, size_t n)
{
    for (size_t i = 0; i < n && !p->stopped; i++) {
        char ch = bytes[i];
        if (ch == '\n' && p->after_cr) {
            p->after_cr = false; /* the LF of a CRLF: the line already ended */
            continue;
        }
        p->after_cr = ch == '\r';
        if (ch == '\r' || ch == '\n') {
            fe_sse_line(p, p->line.data ? p->line.data : "", p->line.len);
            fe_buf_reset(&p->line);
            continue;
        }
        if (fe_buf_addch(&p->line, ch) != 0)
            p->overflow = true;
    }
    return p->stopped;
}

bool fe_sse_pending(const struct fe_sse *p)
{
    return p->line.len > 0 || p->has_data || p->event[0];
}
