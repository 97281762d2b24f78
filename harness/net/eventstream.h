/* eventstream.h — an incremental decoder of the AWS event-stream framing
 * (application/vnd.amazon.eventstream), the binary stream Bedrock's converse-stream answers with.
 * Owner: net. Pure: no I/O, no clock. The sibling of sse.h for SSE streams.
 *
 * A message is: total length (u32 big-endian, the whole message), headers length (u32 BE),
 * prelude CRC (u32 BE, CRC-32 of the 8 bytes before it), the headers, the payload, the message
 * CRC (u32 BE, CRC-32 of every byte before it). A header is: name length (u8, 1..255), name,
 * value type (u8), value: 0 true and 1 false (no bytes), 2 byte (1), 3 short (2), 4 integer (4),
 * 5 long (8), 6 byte array and 7 string (u16 BE length, then the bytes), 8 timestamp (8),
 * 9 UUID (16). Bytes are fed as they arrive, cut anywhere.
 *
 * Errors (the stream is then broken: fe_evs_feed returns FE_EVS_BROKEN from then on and
 * fe_evs_error says why): a bad prelude CRC, a bad message CRC, a total length under 16 or over
 * the cap, a headers length that does not fit the message, a header that runs past the headers
 * section, an empty header name, an unknown value type, more than FE_EVS_MAX_HEADERS headers.
 *
 * Ownership: struct fe_evs is embedded by its owner; fe_evs_init before use, fe_evs_release
 * after. A message handed to the callback, its headers and its payload are borrowed for the
 * call only.
 */
#ifndef FE_NET_EVENTSTREAM_H
#define FE_NET_EVENTSTREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "harness/base/buf.h"

#define FE_EVS_MAX_MESSAGE (16u * 1024u * 1024u) /* the framing's own limit on one message */
#define FE_EVS_MAX_HEADERS 32
#define FE_EVS_BROKEN (-1) /* fe_evs_feed: the stream is not valid event-stream framing */

struct fe_evs_header {
    const char *name;         /* NUL-terminated */
    unsigned char type;       /* 0..9 */
    const char *value;        /* types 6 and 7: the bytes, NUL-terminated; others: the raw bytes */
    size_t value_len;
};

struct fe_evs_message {
    const struct fe_evs_header *headers;
    size_t n_headers;
    const char *payload;      /* payload_len bytes, NUL-terminated */
    size_t payload_len;
};

/* One message, its CRCs checked. Returns 0 to go on, anything else to stop decoding
 * (fe_evs_feed then returns it). */
typedef int (*fe_evs_fn)(void *ud, const struct fe_evs_message *m);

struct fe_evs {
    fe_evs_fn on_message;
    void *ud;
    size_t cap;               /* the largest message accepted, bytes (at most FE_EVS_MAX_MESSAGE) */
    struct fe_buf msg;        /* the bytes of the message being read */
    uint32_t total;           /* its total length once the prelude is read, else 0 */
    struct fe_buf strs;       /* header names and string values, NUL-terminated */
    struct fe_evs_header hdr[FE_EVS_MAX_HEADERS];
    int stopped;              /* the callback's non-zero value, or FE_EVS_BROKEN, or 0 */
    char error[160];          /* why the stream is broken ("" when it is not) */
    size_t messages;          /* messages handed to the callback */
};

/* cap: the largest message, in bytes (0 or above FE_EVS_MAX_MESSAGE: FE_EVS_MAX_MESSAGE). */
void fe_evs_init(struct fe_evs *p, size_t cap, fe_evs_fn on_message, void *ud);
/* Feeds n bytes. Returns 0, the callback's non-zero value once it stopped, or FE_EVS_BROKEN;
 * once stopped, later feeds do nothing and return the same value. */
int fe_evs_feed(struct fe_evs *p, const void *bytes, size_t n);
/* Why the stream is broken, or NULL when it is not. */
const char *fe_evs_error(const struct fe_evs *p);
/* True when bytes of a message arrived after the last whole one: the stream ended mid-message. */
bool fe_evs_pending(const struct fe_evs *p);
/* The value of the string (type 7) header name, or NULL when m has none. */
const char *fe_evs_string(const struct fe_evs_message *m, const char *name);
/* Forgets everything (a new stream), keeping the callback and the cap. */
void fe_evs_reset(struct fe_evs *p);
void fe_evs_release(struct fe_evs *p);

#endif
