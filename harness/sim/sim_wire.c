/* sim_wire.c — the HTTP/1.1 wire format of the simulator, apart from any socket: parsing a request
 * head (request line, the header fields the server acts on), decoding a chunked body, and
 * writing a response (status line, the headers OpenAI sends, body; cut short for the truncate
 * fault). Sizes are checked by the caller (sim_http.c); nothing here allocates but the outputs.
 */
#include "harness/sim/sim.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "harness/base/util.h"

void fe_sim_response_release(struct fe_sim_response *rs)
{
    fe_buf_release(&rs->headers);
    fe_buf_release(&rs->body);
    free(rs->model);
    free(rs->example);
    free(rs->pace_end);
    free(rs->pace_delay);
    memset(rs, 0, sizeof(*rs));
}

void fe_sim_pace_mark(struct fe_sim_response *rs, double delay_ms)
{
    rs->pace_end = fe_xreallocarray(rs->pace_end, rs->n_pace + 1, sizeof(*rs->pace_end));
    rs->pace_delay = fe_xreallocarray(rs->pace_delay, rs->n_pace + 1, sizeof(*rs->pace_delay));
    rs->pace_end[rs->n_pace] = rs->body.len;
    rs->pace_delay[rs->n_pace] = delay_ms;
    rs->n_pace++;
}

void fe_sim_pace_fault(struct fe_sim_response *rs, size_t first_content)
{
    if (rs->fault == FE_SIM_FAULT_STREAM_CUT && first_content < rs->n_pace) {
        rs->n_pace = first_content + 1;
        rs->pace_cut = true;
    } else if (rs->fault == FE_SIM_FAULT_STREAM_STALL && first_content < rs->n_pace) {
        rs->n_pace = first_content;
        rs->pace_stall = true;
    }
}

static const char *fe_sim_reason(int status)
{
    switch (status) {
    case 200:
        return "OK";
    case 400:
        return "Bad Request";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 411:
        return "Length Required";
    case 413:
        return "Payload Too Large";
    case 415:
        return "Unsupported Media Type";
    case 429:
        return "Too Many Requests";
    case 431:
        return "Request Header Fields Too Large";
    case 500:
        return "Internal Server Error";
    case 503:
        return "Service Unavailable";
    default:
        return "Unknown";
    }
}

void fe_sim_serialize(struct fe_sim *s, struct fe_buf *dst, const struct fe_sim_response *rs,
                      bool keep_alive, bool truncate)
{
    char *rid = fe_sim_new_id(s, "req_", 32);
    fe_buf_addf(dst,
                "HTTP/1.1 %d %s\r\ncontent-type: %s\r\ncontent-length: %zu\r\nx-request-id: %s\r\n"
                "openai-processing-ms: %ld\r\nopenai-version: 2020-10-01\r\nconnection: %s\r\n",
                rs->status, fe_sim_reason(rs->status),
                rs->content_type ? rs->content_type : "application/json", rs->body.len, rid,
                (long)(rs->delay_ms + 0.5), keep_alive ? "keep-alive" : "close");
    free(rid);
    fe_buf_add(dst, rs->headers.data ? rs->headers.data : "", rs->headers.len);
    fe_buf_adds(dst, "\r\n");
    fe_buf_add(dst, rs->body.data ? rs->body.data : "", truncate ? rs->body.len / 2 : rs->body.len);
}

void fe_sim_serialize_paced_head(struct fe_sim *s, struct fe_buf *dst, const struct fe_sim_response *rs,
                                 bool keep_alive)
{
    char *rid = fe_sim_new_id(s, "req_", 32);
    fe_buf_addf(dst,
                "HTTP/1.1 %d %s\r\ncontent-type: %s\r\ntransfer-encoding: chunked\r\nx-request-id: %s\r\n"
                "openai-version: 2020-10-01\r\ncache-control: no-cache\r\nconnection: %s\r\n",
                rs->status, fe_sim_reason(rs->status), rs->content_type ? rs->content_type : "text/event-stream",
                rid, keep_alive ? "keep-alive" : "close");
    free(rid);
    fe_buf_add(dst, rs->headers.data ? rs->headers.data : "", rs->headers.len);
    fe_buf_adds(dst, "\r\n");
}

void fe_sim_serialize_piece(const struct fe_sim_response *rs, size_t i, struct fe_buf *dst)
{
    size_t from = i ? rs->pace_end[i - 1] : 0, to = rs->pace_end[i];
    if (to > from) {
        fe_buf_addf(dst, "%zx\r\n", to - from);
        fe_buf_add(dst, rs->body.data + from, to - from);
        fe_buf_adds(dst, "\r\n");
    }
    if (i + 1 == rs->n_pace && !rs->pace_cut && !rs->pace_stall)
        fe_buf_adds(dst, "0\r\n\r\n");
}

int fe_sim_dechunk(const char *p, size_t n, size_t max, struct fe_buf *out, size_t *consumed)
{
    size_t i = 0;
    fe_buf_reset(out);
    for (;;) {
        const char *eol = fe_sim_memfind(p + i, n - i, "\r\n", 2);
        if (!eol)
            return n - i > 1024 ? -1 : 0;
        size_t size = 0, digits = 0;
        const char *q = p + i;
        for (; q < eol && fe_sim_hexval(*q) >= 0; q++, digits++) {
            if (size > (SIZE_MAX >> 4))
                return -2;
            size = size * 16 + (size_t)fe_sim_hexval(*q);
        }
        if (digits == 0 || (q < eol && *q != ';' && *q != ' ' && *q != '\t'))
            return -1;
        i = (size_t)(eol - p) + 2;
        if (size == 0) {
            /* trailer section: header lines until an empty line */
            for (;;) {
                const char *te = fe_sim_memfind(p + i, n - i, "\r\n", 2);
                if (!te)
                    return n - i > 16384 ? -1 : 0;
                bool empty = te == p + i;
                i = (size_t)(te - p) + 2;
                if (empty) {
                    *consumed = i;
                    return 1;
                }
            }
        }
        if (size > max || out->len + size > max)
            return -2;
        if (n - i < size + 2)
            return 0;
        if (p[i + size] != '\r' || p[i + size + 1] != '\n')
            return -1;
        fe_buf_add(out, p + i, size);
        i += size + 2;
    }
}

/* Parses the header fields of a request head, lines [line, stop) (each ending in CRLF), into h.
 * Returns false when a line is not a field or Content-Length is not a number (or repeated with
 * another value). */
static bool fe_sim_parse_fields(const char *line, const char *stop, struct fe_sim_head *h)
{
    while (line < stop) {
        const char *le = fe_sim_memfind(line, (size_t)(stop - line), "\r\n", 2);
        const char *colon = memchr(line, ':', (size_t)(le - line));
        if (!colon)
            return false;
        size_t nlen = (size_t)(colon - line);
        const char *v = colon + 1;
        while (v < le && (*v == ' ' || *v == '\t'))
            v++;
        size_t vlen = (size_t)(le - v);
        while (vlen && (v[vlen - 1] == ' ' || v[vlen - 1] == '\t'))
            vlen--;
#define FE_HDR(name) (nlen == sizeof(name) - 1 && strncasecmp(line, name, nlen) == 0)
        if (FE_HDR("content-length")) {
            long long x = 0;
            if (vlen == 0 || vlen > 18)
                return false;
            for (size_t i = 0; i < vlen; i++) {
                if (v[i] < '0' || v[i] > '9')
                    return false;
                x = x * 10 + (v[i] - '0');
            }
            if (h->have_cl && x != h->content_length)
                return false;
            h->content_length = x;
            h->have_cl = true;
        } else if (FE_HDR("transfer-encoding")) {
            if (!(vlen == 8 && strncasecmp(v, "identity", 8) == 0))
                h->chunked = true;
        } else if (FE_HDR("connection")) {
            if (vlen == 5 && strncasecmp(v, "close", 5) == 0)
                h->conn_close = true;
            else if (vlen == 10 && strncasecmp(v, "keep-alive", 10) == 0)
                h->conn_close = false;
        } else if (FE_HDR("expect")) {
            h->expect = vlen == 12 && strncasecmp(v, "100-continue", 12) == 0;
        } else if (FE_HDR("authorization")) {
            h->auth = true; /* the value is never copied or logged; only its SigV4 form is checked */
            h->sigv4 = fe_sim_sigv4_header_ok(v, vlen);
        } else if (FE_HDR("x-api-key")) {
            h->x_api_key = vlen > 0;
        } else if (FE_HDR("api-key")) {
            h->api_key = vlen > 0;
        } else if (FE_HDR("anthropic-version")) {
            size_t k = vlen < sizeof(h->anthropic_version) - 1 ? vlen : sizeof(h->anthropic_version) - 1;
            memcpy(h->anthropic_version, v, k);
            h->anthropic_version[k] = '\0';
        } else if (FE_HDR("content-type")) {
            h->ctype = v;
            h->ctype_len = vlen;
        }
#undef FE_HDR
        line = le + 2;
    }
    return true;
}

int fe_sim_parse_head(const char *base, size_t avail, size_t max_header, struct fe_sim_head *h,
                      const char **msg)
{
    memset(h, 0, sizeof(*h));
    size_t scan = avail < max_header ? avail : max_header;
    const char *end = fe_sim_memfind(base, scan, "\r\n\r\n", 4);
    if (!end) {
        if (avail < max_header)
            return 0;
        *msg = "request headers too large";
        return 431;
    }
    h->head_len = (size_t)(end - base) + 4;
    /* request line */
    const char *eol = fe_sim_memfind(base, h->head_len, "\r\n", 2);
    const char *sp1 = memchr(base, ' ', (size_t)(eol - base));
    const char *sp2 = sp1 ? memchr(sp1 + 1, ' ', (size_t)(eol - sp1 - 1)) : NULL;
    if (!sp1 || !sp2 || sp1 - base > 16 || (size_t)(eol - sp2 - 1) != 8 ||
        strncmp(sp2 + 1, "HTTP/1.", 7) != 0) {
        *msg = "malformed request line";
        return 400;
    }
    memcpy(h->method, base, (size_t)(sp1 - base));
    h->method[sp1 - base] = '\0';
    h->target = sp1 + 1;
    h->target_len = (size_t)(sp2 - sp1 - 1);
    h->conn_close = sp2[8] == '0'; /* HTTP/1.0 closes unless it asks to keep alive */
    if (!fe_sim_parse_fields(eol + 2, end + 2, h)) {
        *msg = "malformed request headers";
        return 400;
    }
    if (h->chunked && h->have_cl) {
        *msg = "both Content-Length and Transfer-Encoding";
        return 400;
    }
    return 1;
}
