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
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <unistd.h>

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
    /* a paced answer (a stream) leaving piece by piece on timers: wire bytes, the end of each
     * piece in them, the delay before each; pace_i pieces sent so far */
    struct fe_buf pace_wire;
    size_t *pace_off;
    double *pace_delay;
    size_t pace_n, pace_i;
    bool pace_cut, pace_stall;
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
    fe_buf_release(&c->pace_wire);
    free(c->pace_off);
    free(c->pace_delay);
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

/* The body of the request whose head is h: true when it is complete (*wire_len bytes on the
 * wire; a chunked body decoded into *decoded). False when more bytes are needed (a "100
 * Continue" is sent once when the client expects it) or the request was refused (413, or 400
 * for a malformed chunked body: the answer is queued and the connection closes after it). */
static bool fe_sim_conn_body(struct fe_sim_loop *L, struct fe_sim_conn *c,
                             const struct fe_sim_head *h, struct fe_buf *decoded, size_t *wire_len)
{
    struct fe_sim *s = L->s;
    const char *base = c->in.data + c->in_off;
    size_t avail = c->in.len - c->in_off;
    if ((unsigned long long)h->content_length > s->opt.max_body) {
        char msg[128];
        snprintf(msg, sizeof(msg), "request body of %lld bytes exceeds the limit of %zu bytes",
                 h->content_length, s->opt.max_body);
        fe_sim_conn_fail(L, c, 413, msg);
        return false;
    }
    *wire_len = (size_t)h->content_length;
    if (h->chunked) {
        int dc = fe_sim_dechunk(base + h->head_len, avail - h->head_len, s->opt.max_body, decoded,
                                wire_len);
        if (dc == 1)
            return true;
        fe_buf_release(decoded);
        if (dc == -1) {
            fe_sim_conn_fail(L, c, 400, "malformed chunked request body");
            return false;
        }
        if (dc == -2) {
            fe_sim_conn_fail(L, c, 413, "chunked request body exceeds the size limit");
            return false;
        }
    } else if (avail - h->head_len >= (size_t)h->content_length) {
        return true;
    }
    if (h->expect && !c->continue_sent) {
        fe_buf_adds(&c->out, "HTTP/1.1 100 Continue\r\n\r\n");
        c->continue_sent = true;
    }
    return false;
}

/* Answers the complete request at the start of c->in (head h, body in place or in *decoded)
 * into *rs, logs it, and consumes it from c->in. The request's pieces are NUL-terminated in
 * place while it is handled, then restored. */
static void fe_sim_conn_dispatch(struct fe_sim_loop *L, struct fe_sim_conn *c,
                                 const struct fe_sim_head *h, struct fe_buf *decoded,
                                 size_t wire_len, struct fe_sim_response *rs)
{
    struct fe_sim *s = L->s;
    c->continue_sent = false;
    char *mbase = c->in.data + c->in_off;
    char *target = fe_xstrndup(h->target, h->target_len);
    char *q = strchr(target, '?');
    const char *query = "";
    if (q) {
        *q = '\0';
        query = q + 1;
    }
    char *ct = h->ctype ? fe_xstrndup(h->ctype, h->ctype_len) : NULL;
    long long content_length = h->content_length;
    char *body = h->chunked ? decoded->data : mbase + h->head_len;
    size_t body_len = h->chunked ? decoded->len : (size_t)content_length;
    char saved = h->chunked ? '\0' : body[content_length];
    if (!body)
        body = "";
    else if (!h->chunked)
        body[content_length] = '\0';
    struct fe_sim_request rq = {.method = h->method,
                                .path = target,
                                .query = query,
                                .body = body,
                                .body_len = body_len,
                                .content_type = ct ? ct : "",
                                .auth = h->auth,
                                .x_api_key = h->x_api_key,
                                .api_key = h->api_key,
                                .sigv4 = h->sigv4,
                                .anthropic_version = h->anthropic_version};
    fe_sim_handle(s, &rq, rs);
    fe_sim_log_request(s, &rq, rs);
    if (!h->chunked)
        body[content_length] = saved;
    fe_buf_release(decoded);
    free(target);
    free(ct);
    c->in_off += h->head_len + wire_len;
    if (c->in_off == c->in.len) {
        fe_buf_reset(&c->in);
        c->in_off = 0;
    }
}

static bool fe_sim_conn_process(struct fe_sim_loop *L, struct fe_sim_conn *c);

/* Queues a paced answer (rs->n_pace pieces): its head goes with the first piece; each piece
 * leaves on a timer, delay after the one before; then the connection is cut, stalls, or goes on. */
static void fe_sim_conn_pace(struct fe_sim_loop *L, struct fe_sim_conn *c, const struct fe_sim_response *rs,
                             bool keep)
{
    fe_buf_reset(&c->pace_wire);
    c->pace_off = fe_xreallocarray(c->pace_off, rs->n_pace, sizeof(*c->pace_off));
    c->pace_delay = fe_xreallocarray(c->pace_delay, rs->n_pace, sizeof(*c->pace_delay));
    fe_sim_serialize_paced_head(L->s, &c->pace_wire, rs, keep && !rs->pace_cut);
    for (size_t i = 0; i < rs->n_pace; i++) {
        fe_sim_serialize_piece(rs, i, &c->pace_wire);
        c->pace_off[i] = c->pace_wire.len;
        c->pace_delay[i] = rs->pace_delay[i];
    }
    c->pace_n = rs->n_pace;
    c->pace_i = 0;
    c->pace_cut = rs->pace_cut;
    c->pace_stall = rs->pace_stall;
    c->pending_close = !keep;
    c->waiting = true;
    fe_sim_timer_push(L, fe_now() * 1000.0 + c->pace_delay[0], c->fd, c->gen);
}

/* The timer of a paced answer fired (due: when it was due, ms): the next piece leaves. Returns
 * false when c was closed. */
static bool fe_sim_conn_pace_next(struct fe_sim_loop *L, struct fe_sim_conn *c, double due)
{
    size_t from = c->pace_i ? c->pace_off[c->pace_i - 1] : 0;
    fe_buf_add(&c->out, c->pace_wire.data + from, c->pace_off[c->pace_i] - from);
    if (++c->pace_i < c->pace_n) {
        fe_sim_timer_push(L, due + c->pace_delay[c->pace_i], c->fd, c->gen);
        return fe_sim_conn_flush(L, c);
    }
    c->pace_n = 0;
    c->waiting = false;
    if (c->pace_stall)
        c->stalled = true; /* the rest never comes */
    else if (c->pace_cut || c->pending_close)
        c->close_after_write = true;
    return fe_sim_conn_process(L, c);
}

/* Queues the answer rs on c as its fault says: reset now, close without an answer, stall, or
 * send (after its simulated latency, on a timer; truncated when the fault says so). Returns
 * false when c was closed. */
static bool fe_sim_conn_respond(struct fe_sim_loop *L, struct fe_sim_conn *c,
                                const struct fe_sim_response *rs, bool keep)
{
    switch (rs->fault) {
    case FE_SIM_FAULT_RESET:
        fe_sim_conn_close(L, c, true);
        return false;
    case FE_SIM_FAULT_CLOSE:
        c->close_after_write = true;
        break;
    case FE_SIM_FAULT_STALL:
        c->stalled = true;
        break;
    default: {
        if (rs->n_pace > 0) {
            fe_sim_conn_pace(L, c, rs, keep);
            break;
        }
        bool truncate = rs->fault == FE_SIM_FAULT_TRUNCATE;
        bool close_after = truncate || !keep;
        if (rs->delay_ms > 0) {
            fe_buf_reset(&c->pending);
            fe_sim_serialize(L->s, &c->pending, rs, keep && !truncate, truncate);
            c->pending_close = close_after;
            c->waiting = true;
            fe_sim_timer_push(L, fe_now() * 1000.0 + rs->delay_ms, c->fd, c->gen);
        } else {
            fe_sim_serialize(L->s, &c->out, rs, keep && !truncate, truncate);
            if (close_after)
                c->close_after_write = true;
        }
    }
    }
    return true;
}

/* Reads, answers and consumes the first request of c->in. Returns 1 when one was answered, 0
 * when none is complete or the stream was refused (the refusal is queued), -1 when c was
 * closed. */
static int fe_sim_conn_request(struct fe_sim_loop *L, struct fe_sim_conn *c)
{
    const char *base = c->in.data + c->in_off;
    size_t avail = c->in.len - c->in_off;
    if (avail == 0)
        return 0;
    struct fe_sim_head h;
    const char *msg = NULL;
    int st = fe_sim_parse_head(base, avail, L->s->opt.max_header, &h, &msg);
    if (st != 1) {
        if (st != 0)
            fe_sim_conn_fail(L, c, st, msg);
        return 0;
    }
    struct fe_buf decoded = {0};
    size_t wire_len = 0;
    if (!fe_sim_conn_body(L, c, &h, &decoded, &wire_len))
        return 0;
    struct fe_sim_response rs = {0};
    fe_sim_conn_dispatch(L, c, &h, &decoded, wire_len, &rs);
    bool open = fe_sim_conn_respond(L, c, &rs, !h.conn_close);
    fe_sim_response_release(&rs);
    return open ? 1 : -1;
}

/* Parses and answers the complete requests in c->in, in order, until one must wait (a timer, a
 * stall, a close) or more bytes are needed. Returns false when c was closed. */
static bool fe_sim_conn_process(struct fe_sim_loop *L, struct fe_sim_conn *c)
{
    while (!c->waiting && !c->stalled && !c->close_after_write) {
        int got = fe_sim_conn_request(L, c);
        if (got < 0)
            return false;
        if (got == 0)
            break;
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
        if (c->pace_n > 0) {
            fe_sim_conn_pace_next(L, c, t.due);
            continue;
        }
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
