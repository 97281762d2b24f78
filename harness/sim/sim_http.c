/* sim_http.c — the simulator's transport: one thread, one epoll loop, non-blocking sockets.
 *
 * Each connection parses requests from its input buffer in order (HTTP/1.1 keep-alive and
 * pipelining), one at a time: a response delayed by simulated latency parks the connection on a
 * timer (a min-heap of deadlines), and the next pipelined request is parsed only once that
 * response is queued, so answers always leave in request order. Nothing ever sleeps.
 *
 * Limits: the request line plus headers may not exceed max_header (431), a Content-Length above
 * max_body is refused with 413 before the body is read; chunked request bodies are decoded
 * (up to max_body).
 * Those answers close the connection, since the rest of the stream cannot be trusted.
 */
#include "harness/sim/sim.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "harness/base/log.h"
#include "harness/base/util.h"

struct fe_sim_conn {
    int fd;
    unsigned gen;
    struct fe_buf in;
    size_t in_off; /* bytes of in already consumed */
    struct fe_buf out;
    size_t out_off;        /* bytes of out already sent */
    struct fe_buf pending; /* a delayed response, queued when its timer fires */
    bool pending_close;    /* close once the pending response is sent */
    bool waiting;          /* a timer holds the next response */
    bool stalled;          /* stall fault: never answer, discard input */
    bool close_after_write;
    bool continue_sent; /* "100 Continue" sent for the request being read */
    uint32_t events;    /* current epoll interest */
};

struct fe_sim_timer {
    double due;
    int fd;
    unsigned gen;
};

struct fe_sim_loop {
    struct fe_sim *s;
    int ep, lfd, sfd;
    struct fe_sim_conn **conns; /* by fd */
    size_t n_conns;
    struct fe_sim_timer *heap;
    size_t n_heap, heap_alloc;
    unsigned gen;
    size_t in_cap;
    bool accept_paused; /* out of file descriptors: resume when a connection closes */
};

/* ---- small helpers ---- */

static const char *fe_sim_memfind(const char *hay, size_t n, const char *needle, size_t m)
{
    if (m == 0 || n < m)
        return NULL;
    for (size_t i = 0; i + m <= n; i++) {
        const char *p = memchr(hay + i, needle[0], n - m - i + 1);
        if (!p)
            return NULL;
        if (memcmp(p, needle, m) == 0)
            return p;
        i = (size_t)(p - hay);
    }
    return NULL;
}

void fe_sim_response_release(struct fe_sim_response *rs)
{
    fe_buf_release(&rs->headers);
    fe_buf_release(&rs->body);
    free(rs->model);
    free(rs->example);
    memset(rs, 0, sizeof(*rs));
}

/* ---- routing ---- */

void fe_sim_handle(struct fe_sim *s, const struct fe_sim_request *rq, struct fe_sim_response *rs)
{
    bool post = strcmp(rq->method, "POST") == 0, get = strcmp(rq->method, "GET") == 0;
    if (post && strcmp(rq->path, "/v1/chat/completions") == 0) {
        fe_sim_chat(s, rq, rs);
        return;
    }
    /* faults scoped to a path (--fault KIND:P@/v1/files): HTTP-level faults replace the answer
     * (nothing is created); transport faults hit after the request was carried out, which is
     * the ambiguous case a client must handle for non-idempotent creates */
    enum fe_sim_fault f = FE_SIM_FAULT_NONE;
    long attempt = 0;
    for (size_t i = 0; i < s->n_path_faults && f == FE_SIM_FAULT_NONE; i++) {
        const struct fe_sim_path_faults *pf = &s->path_faults[i];
        if (strncmp(rq->path, pf->prefix, strlen(pf->prefix)) != 0 ||
            (pf->method && strcmp(pf->method, rq->method) != 0))
            continue;
        if (!attempt)
            attempt = fe_sim_attempt(s, rq->method, rq->path);
        f = fe_sim_faults_pick(&pf->faults, NULL, attempt, &s->rng);
    }
    if (f == FE_SIM_FAULT_RATE_LIMIT || f == FE_SIM_FAULT_QUOTA || f == FE_SIM_FAULT_SERVER_ERROR ||
        f == FE_SIM_FAULT_UNAVAILABLE) {
        fe_sim_fault_respond(s, NULL, f, rs);
        rs->attempt = attempt;
        return;
    }
    if (get && (strcmp(rq->path, "/v1/models") == 0 || strncmp(rq->path, "/v1/models/", 11) == 0))
        fe_sim_models(s, rq, rs);
    else if (!fe_sim_files_route(s, rq, rs))
        fe_sim_error(rs, 404, "invalid_request_error", NULL, NULL, "Invalid URL (%s %s)",
                     rq->method, rq->path);
    if (f != FE_SIM_FAULT_NONE) {
        if (f == FE_SIM_FAULT_MALFORMED) {
            fe_buf_reset(&rs->body);
            fe_buf_adds(&rs->body, "{\"object\":\"trunc");
            rs->status = 200;
        }
        rs->fault = f;
        rs->attempt = attempt;
    }
}

static void fe_sim_log_request(struct fe_sim *s, const struct fe_sim_request *rq,
                               const struct fe_sim_response *rs)
{
    if (!s->log)
        return;
    char now[40];
    fe_utc_now(now, sizeof(now));
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "time", now);
    cJSON_AddStringToObject(o, "method", rq->method);
    cJSON_AddStringToObject(o, "path", rq->path);
    if (rq->query[0])
        cJSON_AddStringToObject(o, "query", rq->query);
    cJSON_AddBoolToObject(o, "auth", rq->auth);
    if (rs->model)
        cJSON_AddStringToObject(o, "model", rs->model);
    else
        cJSON_AddNullToObject(o, "model");
    if (rs->example)
        cJSON_AddStringToObject(o, "example", rs->example);
    else
        cJSON_AddNullToObject(o, "example");
    cJSON_AddNumberToObject(o, "attempt", (double)rs->attempt);
    cJSON_AddStringToObject(o, "fault", fe_sim_fault_name(rs->fault));
    cJSON_AddNumberToObject(o, "status",
                            rs->fault == FE_SIM_FAULT_RESET || rs->fault == FE_SIM_FAULT_CLOSE ||
                                    rs->fault == FE_SIM_FAULT_STALL
                                ? 0
                                : rs->status);
    cJSON_AddNumberToObject(o, "delay_ms", floor(rs->delay_ms * 1000 + 0.5) / 1000);
    cJSON *body = NULL;
    if (rq->body_len && (rq->body[0] == '{' || rq->body[0] == '['))
        body = cJSON_ParseWithLength(rq->body, rq->body_len);
    if (body) {
        cJSON_AddItemToObject(o, "body", body);
    } else if (rq->body_len) {
        size_t n = rq->body_len > 65536 ? 65536 : rq->body_len;
        n = fe_utf8_check(rq->body, n);
        char *text = fe_xstrndup(rq->body, n);
        for (size_t i = 0; i < n; i++)
            if (text[i] == '\0')
                text[i] = ' ';
        cJSON_AddStringToObject(o, "body", text);
        free(text);
        if (n < rq->body_len)
            cJSON_AddNumberToObject(o, "body_bytes", (double)rq->body_len);
    } else {
        cJSON_AddNullToObject(o, "body");
    }
    char *line = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    fputs(line, s->log);
    fputc('\n', s->log);
    fflush(s->log);
    free(line);
}

/* ---- timers ---- */

static void fe_sim_timer_push(struct fe_sim_loop *L, double due, int fd, unsigned gen)
{
    if (L->n_heap == L->heap_alloc) {
        L->heap_alloc = L->heap_alloc ? L->heap_alloc * 2 : 64;
        L->heap = fe_xreallocarray(L->heap, L->heap_alloc, sizeof(*L->heap));
    }
    size_t i = L->n_heap++;
    L->heap[i] = (struct fe_sim_timer){due, fd, gen};
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (L->heap[parent].due <= L->heap[i].due)
            break;
        struct fe_sim_timer t = L->heap[parent];
        L->heap[parent] = L->heap[i];
        L->heap[i] = t;
        i = parent;
    }
}

static struct fe_sim_timer fe_sim_timer_pop(struct fe_sim_loop *L)
{
    struct fe_sim_timer top = L->heap[0];
    L->heap[0] = L->heap[--L->n_heap];
    size_t i = 0;
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < L->n_heap && L->heap[l].due < L->heap[m].due)
            m = l;
        if (r < L->n_heap && L->heap[r].due < L->heap[m].due)
            m = r;
        if (m == i)
            break;
        struct fe_sim_timer t = L->heap[m];
        L->heap[m] = L->heap[i];
        L->heap[i] = t;
        i = m;
    }
    return top;
}

/* ---- connections ---- */

static void fe_sim_conn_close(struct fe_sim_loop *L, struct fe_sim_conn *c, bool reset)
{
    if (reset) {
        struct linger lg = {.l_onoff = 1, .l_linger = 0};
        setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
    }
    epoll_ctl(L->ep, EPOLL_CTL_DEL, c->fd, NULL);
    close(c->fd);
    L->conns[c->fd] = NULL;
    if (L->accept_paused) {
        struct epoll_event e = {.events = EPOLLIN, .data.fd = L->lfd};
        epoll_ctl(L->ep, EPOLL_CTL_MOD, L->lfd, &e);
        L->accept_paused = false;
    }
    fe_buf_release(&c->in);
    fe_buf_release(&c->out);
    fe_buf_release(&c->pending);
    free(c);
}

static void fe_sim_conn_interest(struct fe_sim_loop *L, struct fe_sim_conn *c)
{
    uint32_t ev = 0;
    bool room = c->in.len - c->in_off < L->in_cap;
    if (!c->waiting && !c->close_after_write && room)
        ev |= EPOLLIN;
    if (c->out_off < c->out.len)
        ev |= EPOLLOUT;
    if (ev == c->events)
        return;
    struct epoll_event e = {.events = ev, .data.fd = c->fd};
    epoll_ctl(L->ep, EPOLL_CTL_MOD, c->fd, &e);
    c->events = ev;
}

/* Sends what it can. Returns false when the connection was closed. */
static bool fe_sim_conn_flush(struct fe_sim_loop *L, struct fe_sim_conn *c)
{
    while (c->out_off < c->out.len) {
        ssize_t n = send(c->fd, c->out.data + c->out_off, c->out.len - c->out_off, MSG_NOSIGNAL);
        if (n > 0) {
            c->out_off += (size_t)n;
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            fe_sim_conn_interest(L, c);
            return true;
        }
        fe_sim_conn_close(L, c, false);
        return false;
    }
    fe_buf_reset(&c->out);
    c->out_off = 0;
    if (c->close_after_write && !c->waiting) {
        fe_sim_conn_close(L, c, false);
        return false;
    }
    fe_sim_conn_interest(L, c);
    return true;
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

static void fe_sim_serialize(struct fe_sim *s, struct fe_buf *dst, const struct fe_sim_response *rs,
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

/* Decodes a chunked body from p[0..n). Returns 1 when complete (decoded into out, *consumed =
 * wire bytes including the trailer), 0 when more bytes are needed, -1 when malformed, -2 when
 * the decoded body would exceed max. Chunk extensions and trailers are skipped. */
static int fe_sim_dechunk(const char *p, size_t n, size_t max, struct fe_buf *out, size_t *consumed)
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

/* A response the server itself produces while reading (400/411/413/431): then close. */
static void fe_sim_conn_fail(struct fe_sim_loop *L, struct fe_sim_conn *c, int status,
                             const char *msg)
{
    struct fe_sim_response rs = {0};
    fe_sim_error(&rs, status, "invalid_request_error", NULL, NULL, "%s", msg);
    fe_sim_serialize(L->s, &c->out, &rs, false, false);
    fe_sim_response_release(&rs);
    c->close_after_write = true;
    c->in_off = c->in.len;
}

/* Parses and answers the complete requests in c->in. Returns false when c was closed. */
static bool fe_sim_conn_process(struct fe_sim_loop *L, struct fe_sim_conn *c)
{
    struct fe_sim *s = L->s;
    while (!c->waiting && !c->stalled && !c->close_after_write) {
        const char *base = c->in.data + c->in_off;
        size_t avail = c->in.len - c->in_off;
        if (avail == 0)
            break;
        size_t scan = avail < s->opt.max_header ? avail : s->opt.max_header;
        const char *end = fe_sim_memfind(base, scan, "\r\n\r\n", 4);
        if (!end) {
            if (avail >= s->opt.max_header)
                fe_sim_conn_fail(L, c, 431, "request headers too large");
            break;
        }
        size_t head_len = (size_t)(end - base) + 4;
        /* request line */
        const char *eol = fe_sim_memfind(base, head_len, "\r\n", 2);
        const char *sp1 = memchr(base, ' ', (size_t)(eol - base));
        const char *sp2 = sp1 ? memchr(sp1 + 1, ' ', (size_t)(eol - sp1 - 1)) : NULL;
        if (!sp1 || !sp2 || sp1 - base > 16 || (size_t)(eol - sp2 - 1) != 8 ||
            strncmp(sp2 + 1, "HTTP/1.", 7) != 0) {
            fe_sim_conn_fail(L, c, 400, "malformed request line");
            break;
        }
        bool http10 = sp2[8] == '0';
        char method[17];
        memcpy(method, base, (size_t)(sp1 - base));
        method[sp1 - base] = '\0';
        /* headers */
        long long content_length = 0;
        bool have_cl = false, chunked = false, conn_close = http10, expect = false, auth = false,
             bad = false;
        const char *ctype = NULL;
        size_t ctype_len = 0;
        for (const char *line = eol + 2; line < end + 2;) {
            const char *le = fe_sim_memfind(line, (size_t)(end + 2 - line), "\r\n", 2);
            const char *colon = memchr(line, ':', (size_t)(le - line));
            if (!colon) {
                bad = true;
                break;
            }
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
                    bad = true;
                for (size_t i = 0; i < vlen && !bad; i++) {
                    if (v[i] < '0' || v[i] > '9')
                        bad = true;
                    else
                        x = x * 10 + (v[i] - '0');
                }
                if (have_cl && x != content_length)
                    bad = true;
                content_length = x;
                have_cl = true;
            } else if (FE_HDR("transfer-encoding")) {
                if (!(vlen == 8 && strncasecmp(v, "identity", 8) == 0))
                    chunked = true;
            } else if (FE_HDR("connection")) {
                if (vlen == 5 && strncasecmp(v, "close", 5) == 0)
                    conn_close = true;
                else if (vlen == 10 && strncasecmp(v, "keep-alive", 10) == 0)
                    conn_close = false;
            } else if (FE_HDR("expect")) {
                expect = vlen == 12 && strncasecmp(v, "100-continue", 12) == 0;
            } else if (FE_HDR("authorization")) {
                auth = true; /* the value is never looked at, copied or logged */
            } else if (FE_HDR("content-type")) {
                ctype = v;
                ctype_len = vlen;
            }
#undef FE_HDR
            line = le + 2;
        }
        if (bad) {
            fe_sim_conn_fail(L, c, 400, "malformed request headers");
            break;
        }
        if (chunked && have_cl) {
            fe_sim_conn_fail(L, c, 400, "both Content-Length and Transfer-Encoding");
            break;
        }
        if ((unsigned long long)content_length > s->opt.max_body) {
            char msg[128];
            snprintf(msg, sizeof(msg), "request body of %lld bytes exceeds the limit of %zu bytes",
                     content_length, s->opt.max_body);
            fe_sim_conn_fail(L, c, 413, msg);
            break;
        }
        struct fe_buf decoded = {0};
        size_t wire_len = (size_t)content_length; /* body bytes on the wire */
        if (chunked) {
            int dc = fe_sim_dechunk(base + head_len, avail - head_len, s->opt.max_body, &decoded,
                                    &wire_len);
            if (dc != 1) {
                fe_buf_release(&decoded);
                if (dc == -1)
                    fe_sim_conn_fail(L, c, 400, "malformed chunked request body");
                else if (dc == -2)
                    fe_sim_conn_fail(L, c, 413, "chunked request body exceeds the size limit");
                else if (expect && !c->continue_sent) {
                    fe_buf_adds(&c->out, "HTTP/1.1 100 Continue\r\n\r\n");
                    c->continue_sent = true;
                }
                break;
            }
        } else if (avail - head_len < (size_t)content_length) {
            if (expect && !c->continue_sent) {
                fe_buf_adds(&c->out, "HTTP/1.1 100 Continue\r\n\r\n");
                c->continue_sent = true;
            }
            break;
        }
        c->continue_sent = false;
        /* a complete request: NUL-terminate its pieces in place (restored below) */
        char *mbase = c->in.data + c->in_off;
        size_t target_len = (size_t)(sp2 - sp1 - 1);
        char *target = fe_xstrndup(sp1 + 1, target_len);
        char *q = strchr(target, '?');
        const char *query = "";
        if (q) {
            *q = '\0';
            query = q + 1;
        }
        char *ct = ctype ? fe_xstrndup(ctype, ctype_len) : NULL;
        char *body = chunked ? decoded.data : mbase + head_len;
        size_t body_len = chunked ? decoded.len : (size_t)content_length;
        char saved = chunked ? '\0' : body[content_length];
        if (!body)
            body = "";
        else if (!chunked)
            body[content_length] = '\0';
        struct fe_sim_request rq = {.method = method,
                                    .path = target,
                                    .query = query,
                                    .body = body,
                                    .body_len = body_len,
                                    .content_type = ct ? ct : "",
                                    .auth = auth};
        struct fe_sim_response rs = {0};
        fe_sim_handle(s, &rq, &rs);
        fe_sim_log_request(s, &rq, &rs);
        if (!chunked)
            body[content_length] = saved;
        fe_buf_release(&decoded);
        free(target);
        free(ct);
        c->in_off += head_len + wire_len;
        if (c->in_off == c->in.len) {
            fe_buf_reset(&c->in);
            c->in_off = 0;
        }

        bool keep = !conn_close;
        switch (rs.fault) {
        case FE_SIM_FAULT_RESET:
            fe_sim_response_release(&rs);
            fe_sim_conn_close(L, c, true);
            return false;
        case FE_SIM_FAULT_CLOSE:
            c->close_after_write = true;
            break;
        case FE_SIM_FAULT_STALL:
            c->stalled = true;
            break;
        default: {
            bool truncate = rs.fault == FE_SIM_FAULT_TRUNCATE;
            bool close_after = truncate || !keep;
            if (rs.delay_ms > 0) {
                fe_buf_reset(&c->pending);
                fe_sim_serialize(s, &c->pending, &rs, keep && !truncate, truncate);
                c->pending_close = close_after;
                c->waiting = true;
                fe_sim_timer_push(L, fe_now() * 1000.0 + rs.delay_ms, c->fd, c->gen);
            } else {
                fe_sim_serialize(s, &c->out, &rs, keep && !truncate, truncate);
                if (close_after)
                    c->close_after_write = true;
            }
        }
        }
        fe_sim_response_release(&rs);
    }
    if (c->in_off > 0 && c->in_off >= c->in.len / 2) {
        memmove(c->in.data, c->in.data + c->in_off, c->in.len - c->in_off);
        c->in.len -= c->in_off;
        c->in.data[c->in.len] = '\0';
        c->in_off = 0;
    }
    return fe_sim_conn_flush(L, c);
}

static void fe_sim_conn_readable(struct fe_sim_loop *L, struct fe_sim_conn *c)
{
    char chunk[65536];
    for (;;) {
        size_t held = c->in.len - c->in_off;
        if (held >= L->in_cap && !c->stalled)
            break;
        size_t want = sizeof(chunk);
        if (!c->stalled && L->in_cap - held < want)
            want = L->in_cap - held;
        ssize_t n = recv(c->fd, chunk, want, 0);
        if (n > 0) {
            if (c->stalled)
                continue; /* a stalled request never answers: discard what follows */
            if (fe_buf_add(&c->in, chunk, (size_t)n) != 0) {
                fe_sim_conn_close(L, c, false);
                return;
            }
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            break;
        fe_sim_conn_close(L, c, false); /* EOF or error */
        return;
    }
    fe_sim_conn_process(L, c);
}

static void fe_sim_accept(struct fe_sim_loop *L)
{
    for (;;) {
        int fd = accept(L->lfd, NULL, NULL);
        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED)
                continue;
            if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
                /* level-triggered: stop watching the listener or the loop would spin */
                fe_warn("sim: accept: %s: pausing new connections until one closes",
                        strerror(errno));
                struct epoll_event e = {.events = 0, .data.fd = L->lfd};
                epoll_ctl(L->ep, EPOLL_CTL_MOD, L->lfd, &e);
                L->accept_paused = true;
            } else if (errno != EAGAIN && errno != EWOULDBLOCK) {
                fe_warn("sim: accept: %s", strerror(errno));
            }
            return;
        }
        fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
        fcntl(fd, F_SETFD, FD_CLOEXEC);
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        if ((size_t)fd >= L->n_conns) {
            size_t n = L->n_conns ? L->n_conns : 64;
            while (n <= (size_t)fd)
                n *= 2;
            L->conns = fe_xreallocarray(L->conns, n, sizeof(*L->conns));
            memset(L->conns + L->n_conns, 0, (n - L->n_conns) * sizeof(*L->conns));
            L->n_conns = n;
        }
        struct fe_sim_conn *c = fe_xcalloc(1, sizeof(*c));
        c->fd = fd;
        c->gen = ++L->gen;
        fe_buf_init(&c->in, 0);
        c->events = EPOLLIN;
        struct epoll_event e = {.events = EPOLLIN, .data.fd = fd};
        if (epoll_ctl(L->ep, EPOLL_CTL_ADD, fd, &e) != 0) {
            close(fd);
            free(c);
            continue;
        }
        L->conns[fd] = c;
    }
}

static void fe_sim_timers_run(struct fe_sim_loop *L)
{
    double now = fe_now() * 1000.0;
    while (L->n_heap && L->heap[0].due <= now) {
        struct fe_sim_timer t = fe_sim_timer_pop(L);
        struct fe_sim_conn *c = (size_t)t.fd < L->n_conns ? L->conns[t.fd] : NULL;
        if (!c || c->gen != t.gen || !c->waiting)
            continue;
        c->waiting = false;
        fe_buf_add(&c->out, c->pending.data, c->pending.len);
        fe_buf_reset(&c->pending);
        if (c->pending_close)
            c->close_after_write = true;
        fe_sim_conn_process(L, c);
    }
}

static int fe_sim_listen(struct fe_sim *s, char *shown, size_t shown_size, struct fe_err *err)
{
    char port[16];
    snprintf(port, sizeof(port), "%ld", s->opt.port);
    struct addrinfo hints = {0}, *res = NULL;
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    int rc = getaddrinfo(s->opt.host, port, &hints, &res);
    if (rc != 0) {
        fe_err_set(err, FE_EUSAGE, "--host '%s': %s", s->opt.host, gai_strerror(rc));
        return -1;
    }
    int fd = -1;
    int saved = 0;
    for (struct addrinfo *a = res; a; a = a->ai_next) {
        fd = socket(a->ai_family, a->ai_socktype, a->ai_protocol);
        if (fd < 0) {
            saved = errno;
            continue;
        }
        int one = 1;
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
        if (bind(fd, a->ai_addr, a->ai_addrlen) == 0 && listen(fd, 4096) == 0) {
            struct sockaddr_storage ss;
            socklen_t sl = sizeof(ss);
            getsockname(fd, (struct sockaddr *)&ss, &sl);
            char host[1025], serv[32];
            getnameinfo((struct sockaddr *)&ss, sl, host, sizeof(host), serv, sizeof(serv),
                        NI_NUMERICHOST | NI_NUMERICSERV);
            struct fe_buf b = {0};
            if (ss.ss_family == AF_INET6)
                fe_buf_addf(&b, "[%s]:%s", host, serv);
            else
                fe_buf_addf(&b, "%s:%s", host, serv);
            size_t n = b.len < shown_size - 1 ? b.len : shown_size - 1;
            memcpy(shown, fe_buf_str(&b), n);
            shown[n] = '\0';
            fe_buf_release(&b);
            break;
        }
        saved = errno;
        close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    if (fd < 0) {
        fe_err_set(err, FE_EIO, "cannot listen on %s:%ld: %s", s->opt.host, s->opt.port,
                   strerror(saved));
        return -1;
    }
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    fcntl(fd, F_SETFD, FD_CLOEXEC);
    return fd;
}

int fe_sim_serve(struct fe_sim *s, struct fe_err *err)
{
    struct fe_sim_loop L = {.s = s, .ep = -1, .lfd = -1, .sfd = -1};
    L.in_cap = s->opt.max_header + s->opt.max_body + 65536;
    int rc = -1;
    sigset_t mask, old;
    sigemptyset(&mask);
    sigaddset(&mask, SIGINT);
    sigaddset(&mask, SIGTERM);
    sigprocmask(SIG_BLOCK, &mask, &old);
    signal(SIGPIPE, SIG_IGN);
    char shown[1100];
    L.lfd = fe_sim_listen(s, shown, sizeof(shown), err);
    if (L.lfd < 0)
        goto out;
    L.sfd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
    L.ep = epoll_create1(EPOLL_CLOEXEC);
    if (L.sfd < 0 || L.ep < 0) {
        fe_err_set(err, FE_EIO, "epoll/signalfd: %s", strerror(errno));
        goto out;
    }
    struct epoll_event e = {.events = EPOLLIN, .data.fd = L.lfd};
    epoll_ctl(L.ep, EPOLL_CTL_ADD, L.lfd, &e);
    e.data.fd = L.sfd;
    epoll_ctl(L.ep, EPOLL_CTL_ADD, L.sfd, &e);
    printf("listening on http://%s/v1\n", shown);
    fflush(stdout);

    struct epoll_event evs[256];
    bool running = true;
    while (running) {
        int timeout = -1;
        if (L.n_heap) {
            double wait = L.heap[0].due - fe_now() * 1000.0;
            timeout = wait <= 0 ? 0 : (int)ceil(wait);
        }
        int n = epoll_wait(L.ep, evs, (int)FE_ARRAY_LEN(evs), timeout);
        if (n < 0 && errno != EINTR) {
            fe_err_set(err, FE_EIO, "epoll_wait: %s", strerror(errno));
            goto out;
        }
        for (int i = 0; i < n; i++) {
            int fd = evs[i].data.fd;
            if (fd == L.sfd) {
                struct signalfd_siginfo si;
                while (read(L.sfd, &si, sizeof(si)) == (ssize_t)sizeof(si))
                    ; /* consume, so restoring the mask does not deliver it again */
                running = false;
                continue;
            }
            if (fd == L.lfd) {
                fe_sim_accept(&L);
                continue;
            }
            struct fe_sim_conn *c = (size_t)fd < L.n_conns ? L.conns[fd] : NULL;
            if (!c)
                continue;
            if (evs[i].events & EPOLLOUT) {
                if (!fe_sim_conn_flush(&L, c))
                    continue;
                if (!fe_sim_conn_process(&L, c))
                    continue;
            }
            if (evs[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR))
                fe_sim_conn_readable(&L, c);
        }
        fe_sim_timers_run(&L);
    }
    rc = 0;
out:
    for (size_t i = 0; i < L.n_conns; i++)
        if (L.conns[i])
            fe_sim_conn_close(&L, L.conns[i], false);
    free(L.conns);
    free(L.heap);
    if (L.ep >= 0)
        close(L.ep);
    if (L.sfd >= 0)
        close(L.sfd);
    if (L.lfd >= 0)
        close(L.lfd);
    sigprocmask(SIG_SETMASK, &old, NULL);
    return rc;
}
