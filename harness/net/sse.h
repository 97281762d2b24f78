/* sse.h — an incremental parser of server-sent events (the WHATWG "event stream" format, as the
 * OpenAI and Anthropic streaming APIs send it). Owner: net. Pure: no I/O, no clock.
 *
 * Bytes are fed as they arrive, cut anywhere (mid-line, mid-CRLF, mid-UTF-8); lines end in LF,
 * CRLF or a lone CR; a line starting with ':' is a comment; "field: value" (one space after the
 * colon dropped) with the fields "event" and "data" kept ("id" and "retry" ignored, any other
 * field ignored); several data lines join with "\n"; a blank line dispatches the event (only when
 * it had a data line; event name "message" when none was given). A final event not followed by a
 * blank line is discarded, as the format says (fe_sse_pending tells whether one was cut off).
 *
 * Ownership: struct fe_sse is embedded by its owner; fe_sse_init before use, fe_sse_release after.
 * The callback's strings are borrowed for the call only.
 */
#ifndef FE_NET_SSE_H
#define FE_NET_SSE_H

#include <stdbool.h>
#include <stddef.h>

#include "harness/base/buf.h"

/* One dispatched event: event name (NUL-terminated), data (data_len bytes, NUL-terminated).
 * Returns 0 to go on, anything else to stop parsing (fe_sse_feed then returns it). */
typedef int (*fe_sse_fn)(void *ud, const char *event, const char *data, size_t data_len);

struct fe_sse {
    fe_sse_fn on_event;
    void *ud;
    struct fe_buf line;        /* the line being read */
    struct fe_buf data;        /* the event's data so far */
    char event[64];            /* the event's name so far ("" = message); longer names are cut */
    bool has_data;             /* a data line was seen for the current event */
    bool after_cr;             /* the last byte was CR: a following LF belongs to it */
    bool overflow;             /* a line or an event's data went over cap (then ignored) */
    int stopped;               /* what the callback returned to stop, or 0 */
    size_t events;             /* events dispatched */
};

/* cap: the longest line and the largest event data, in bytes (0: no limit). */
void fe_sse_init(struct fe_sse *p, size_t cap, fe_sse_fn on_event, void *ud);
/* Feeds n bytes. Returns 0, or the callback's non-zero value once it stopped (later feeds do
 * nothing and return it again). */
int fe_sse_feed(struct fe_sse *p, const char *bytes, size_t n);
/* True when bytes of an event (a field line or an unfinished line) arrived after the last
 * dispatch: the stream ended in the middle of an event. */
bool fe_sse_pending(const struct fe_sse *p);
/* Forgets everything (a new stream), keeping the callback. */
void fe_sse_reset(struct fe_sse *p);
void fe_sse_release(struct fe_sse *p);

#endif
