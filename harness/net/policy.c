/* policy.c — see policy.h. */
#include "harness/net/policy.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "harness/base/log.h"
#include "harness/base/util.h"
#include "harness/net/backoff.h"

void fe_net_headers_reset(struct fe_net_headers *h)
{
    memset(h, 0, sizeof(*h));
}

static void fe_net_copy_value(char *dst, size_t cap, const char *v, size_t len)
{
    while (len && (v[len - 1] == '\r' || v[len - 1] == '\n' || v[len - 1] == ' ' || v[len - 1] == '\t'))
        len--;
    while (len && (*v == ' ' || *v == '\t'))
        v++, len--;
    if (len >= cap)
        len = cap - 1;
    memcpy(dst, v, len);
    dst[len] = '\0';
}

#define FE_NET_FIELD(name, field) {name, offsetof(struct fe_net_headers, field), sizeof(((struct fe_net_headers *)0)->field)}

static const struct {
    const char *name;
    size_t off, cap;
} fe_net_wanted[] = {
    FE_NET_FIELD("retry-after", retry_after),
    FE_NET_FIELD("retry-after-ms", retry_after_ms),
    FE_NET_FIELD("x-should-retry", should_retry),
    FE_NET_FIELD("x-request-id", request_id),
    FE_NET_FIELD("x-amzn-requestid", request_id),
    FE_NET_FIELD("x-amzn-errortype", error_type),
    FE_NET_FIELD("x-ratelimit-remaining-requests", rl_remaining_requests),
    FE_NET_FIELD("x-ratelimit-remaining-tokens", rl_remaining_tokens),
    FE_NET_FIELD("x-ratelimit-reset-requests", rl_reset_requests),
    FE_NET_FIELD("x-ratelimit-reset-tokens", rl_reset_tokens),
    FE_NET_FIELD("location", location),
};

void fe_net_header_line(struct fe_net_headers *h, const char *line, size_t len)
{
    if (len >= 5 && strncmp(line, "HTTP/", 5) == 0) { /* a new response: forget the last one's */
        fe_net_headers_reset(h);
        return;
    }
    const char *colon = memchr(line, ':', len);
    if (!colon)
        return;
    size_t name_len = (size_t)(colon - line);
    for (size_t i = 0; i < FE_ARRAY_LEN(fe_net_wanted); i++)
        if (strlen(fe_net_wanted[i].name) == name_len && strncasecmp(line, fe_net_wanted[i].name, name_len) == 0)
            fe_net_copy_value((char *)h + fe_net_wanted[i].off, fe_net_wanted[i].cap, colon + 1,
                              len - name_len - 1);
}

void fe_net_headers_redact(struct fe_net_headers *h)
{
    for (size_t i = 0; i < FE_ARRAY_LEN(fe_net_wanted); i++) {
        char *v = (char *)h + fe_net_wanted[i].off;
        if (!v[0])
            continue;
        char *clean = fe_redact(v);
        snprintf(v, fe_net_wanted[i].cap, "%s", clean);
        free(clean);
    }
}

int fe_net_should_retry(const struct fe_net_headers *h)
{
    if (strcasecmp(h->should_retry, "true") == 0)
        return 1;
    if (strcasecmp(h->should_retry, "false") == 0)
        return 0;
    return -1;
}

/* A transport failure (no complete HTTP answer). */
static void fe_net_classify_transport(const struct fe_net_attempt *a, struct fe_provider_error *pe)
{
    pe->retryable = true;
    if (a->cc == CURLE_OPERATION_TIMEDOUT) {
        pe->kind = FE_ERRK_TIMEOUT;
    } else if (a->cc == CURLE_PARTIAL_FILE || a->cc == CURLE_BAD_CONTENT_ENCODING) {
        pe->kind = FE_ERRK_MALFORMED;
    } else if (a->cc == CURLE_WRITE_ERROR && a->body_overflow) {
        pe->kind = FE_ERRK_MALFORMED;
        pe->retryable = false;
    } else {
        pe->kind = FE_ERRK_CONNECTION;
    }
    pe->message = fe_xasprintf("%s%s", curl_easy_strerror(a->cc),
                               a->body_overflow ? " (response larger than 8 MiB)" : "");
}

static void fe_net_classify_with(const struct fe_net_attempt *a, fe_net_classify_fn classify,
                                 const struct fe_provider_ops *ops, struct fe_provider_error *pe)
{
    memset(pe, 0, sizeof(*pe));
    if (a->cc != CURLE_OK)
        fe_net_classify_transport(a, pe);
    else if (ops && ops->classify_error_typed)
        ops->classify_error_typed(a->status, a->headers && a->headers->error_type[0] ? a->headers->error_type : NULL,
                                  a->body, a->len, pe);
    else
        (classify ? classify : fe_classify_http_error)(a->status, a->body, a->len, pe);
    if (a->cc == CURLE_OK && a->status >= 300 && a->status < 400) { /* not followed: say where to */
        char *msg = fe_xasprintf("HTTP %ld redirect to %s (redirects are not followed: check base_url)%s%s",
                                 a->status, a->headers && a->headers->location[0] ? a->headers->location
                                                                                  : "(no Location header)",
                                 pe->message ? ": " : "", pe->message ? pe->message : "");
        free(pe->message);
        pe->message = msg;
        pe->retryable = false;
    }
    int override = a->headers ? fe_net_should_retry(a->headers) : -1;
    if (override == 1)
        pe->retryable = !pe->stop_provider;
    else if (override == 0)
        pe->retryable = false;
}

void fe_net_classify(const struct fe_net_attempt *a, fe_net_classify_fn classify, struct fe_provider_error *pe)
{
    fe_net_classify_with(a, classify, NULL, pe);
}

void fe_net_classify_ops(const struct fe_net_attempt *a, const struct fe_provider_ops *ops,
                         struct fe_provider_error *pe)
{
    fe_net_classify_with(a, ops->classify_error, ops, pe);
}

char *fe_net_error_in_success(const char *body, size_t len)
{
    if (!body || !len)
        return NULL;
    cJSON *j = cJSON_ParseWithLength(body, len);
    const cJSON *e = cJSON_GetObjectItemCaseSensitive(j, "error");
    char *out = NULL;
    if (cJSON_IsObject(e) || cJSON_IsString(e)) {
        struct fe_provider_error pe;
        fe_classify_http_error(400, body, len, &pe); /* the common body shapes; the status is ignored */
        const char *label = pe.type ? pe.type : pe.code;
        out = fe_xasprintf("%s%s%s", label ? label : "", label ? ": " : "", pe.message ? pe.message : "(no message)");
        fe_provider_error_release(&pe);
    }
    cJSON_Delete(j);
    return out;
}

bool fe_net_requested_wait(const struct fe_net_headers *h, double now_unix, double *asked, const char **source,
                           const char **value)
{
    double s = fe_retry_after_seconds(h->retry_after_ms[0] ? h->retry_after_ms : NULL,
                                      h->retry_after[0] ? h->retry_after : NULL, now_unix);
    if (s < 0)
        return false;
    bool ms = h->retry_after_ms[0] && fe_retry_after_seconds(h->retry_after_ms, NULL, now_unix) >= 0;
    *asked = s;
    *source = ms ? "retry-after-ms" : "retry-after";
    *value = ms ? h->retry_after_ms : h->retry_after;
    return true;
}

size_t fe_net_rate_waits(const struct fe_net_headers *h, long est_tokens, struct fe_net_rate_wait out[2])
{
    size_t n = 0;
    long remaining;
    double reset;
    if (fe_parse_long(h->rl_remaining_requests, &remaining) && remaining <= 0 &&
        fe_parse_go_duration(h->rl_reset_requests, &reset))
        out[n++] = (struct fe_net_rate_wait){reset, "x-ratelimit-reset-requests", h->rl_reset_requests};
    if (fe_parse_long(h->rl_remaining_tokens, &remaining) && remaining < est_tokens &&
        fe_parse_go_duration(h->rl_reset_tokens, &reset))
        out[n++] = (struct fe_net_rate_wait){reset, "x-ratelimit-reset-tokens", h->rl_reset_tokens};
    return n;
}

struct fe_net_wait fe_net_cap_wait(double asked, double max_wait_s)
{
    struct fe_net_wait w;
    w.too_long = !(asked <= max_wait_s); /* NaN too */
    w.wait = w.too_long ? max_wait_s : asked;
    return w;
}

bool fe_net_note_wait(int *long_waits, bool too_long)
{
    if (!too_long) {
        *long_waits = 0;
        return false;
    }
    ++*long_waits;
    return *long_waits >= FE_NET_LONG_WAITS_GIVE_UP;
}

void fe_net_easy_defaults(CURL *e, const char *url, double total_s, double connect_s)
{
    curl_easy_setopt(e, CURLOPT_URL, url);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https"); /* redirects are not followed */
    curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, "");          /* every encoding curl can decode */
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)(total_s * 1000.0));
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, (long)(connect_s * 1000.0));
    curl_easy_setopt(e, CURLOPT_USERAGENT, "fteval/" FTEVAL_VERSION);
    /* CURLOPT_VERBOSE is deliberately never set: it would print the Authorization header */
}

static int fe_net_hex4(const char *p)
{
    int v = 0;
    for (int i = 0; i < 4; i++) {
        int c = (unsigned char)p[i], d;
        if (c >= '0' && c <= '9')
            d = c - '0';
        else if (c >= 'a' && c <= 'f')
            d = c - 'a' + 10;
        else if (c >= 'A' && c <= 'F')
            d = c - 'A' + 10;
        else
            return -1;
        v = v * 16 + d;
    }
    return v;
}

/* The code unit of a "\uXXXX" escape starting at p (p < end), or -1. */
static int fe_net_escape_at(const char *p, const char *end)
{
    if (end - p < 6 || p[0] != '\\' || p[1] != 'u')
        return -1;
    return fe_net_hex4(p + 2);
}

size_t fe_net_json_repair(char *body, size_t len)
{
    size_t n = 0;
    if (!body)
        return 0;
    char *end = body + len;
    bool in_string = false;
    for (char *p = body; p < end; p++) {
        if (*p == '"') {
            in_string = !in_string;
            continue;
        }
        if (!in_string || *p != '\\')
            continue;
        int u = fe_net_escape_at(p, end);
        if (u < 0) {
            p++; /* any other escape: skip its character (an escaped quote or backslash) */
            continue;
        }
        bool high = u >= 0xD800 && u <= 0xDBFF, low = u >= 0xDC00 && u <= 0xDFFF;
        int next = high ? fe_net_escape_at(p + 6, end) : -1;
        if (high && next >= 0xDC00 && next <= 0xDFFF) {
            p += 11; /* a valid pair: keep both escapes */
            continue;
        }
        if (u == 0 || high || low) {
            memcpy(p + 2, "FFFD", 4);
            n++;
        }
        p += 5;
    }
    return n;
}
