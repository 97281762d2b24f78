/* test_net_policy.c — the one transfer and retry policy (harness/net/policy.h), table-driven:
 * status + body + headers -> kind / retryable / stop; headers -> requested wait; wait -> capped
 * wait and the long-wait count; JSON repair; redaction of bodies and headers before truncation. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "harness/base/log.h"
#include "harness/net/policy.h"
#include "t.h"

#define QUOTA_BODY "{\"error\":{\"message\":\"You exceeded your current quota\",\"type\":\"insufficient_quota\"," \
                   "\"code\":\"insufficient_quota\"}}"
#define SPEND_BODY "{\"error\":{\"message\":\"spend limit\",\"type\":\"x\",\"code\":\"billing_hard_limit_reached\"}}"
#define RATE_BODY "{\"error\":{\"message\":\"Rate limit reached\",\"type\":\"requests\",\"code\":\"rate_limit_exceeded\"}}"

/* Builds headers from "name: value\r\n" lines. */
static void headers_of(struct fe_net_headers *h, const char *const *lines)
{
    fe_net_headers_reset(h);
    for (; lines && *lines; lines++)
        fe_net_header_line(h, *lines, strlen(*lines));
}

static void test_classify(void)
{
    static const char *const should_true[] = {"x-should-retry: true\r\n", NULL};
    static const char *const should_false[] = {"X-Should-Retry: false\r\n", NULL};
    static const char *const moved[] = {"HTTP/1.1 301 Moved\r\n", "Location: https://x.example/v1\r\n", NULL};
    static const struct {
        CURLcode cc;
        long status;
        const char *body;
        bool overflow;
        const char *const *hdrs;
        const char *kind;
        bool retryable, stop;
        const char *message_prefix;
    } rows[] = {
        {CURLE_OK, 429, RATE_BODY, false, NULL, FE_ERRK_RATE_LIMIT, true, false, "Rate limit reached"},
        {CURLE_OK, 429, QUOTA_BODY, false, NULL, FE_ERRK_QUOTA, false, true, "You exceeded"},
        {CURLE_OK, 429, SPEND_BODY, false, NULL, FE_ERRK_QUOTA, false, true, "spend limit"},
        {CURLE_OK, 429, QUOTA_BODY, false, should_true, FE_ERRK_QUOTA, false, true, NULL}, /* true never revives quota */
        {CURLE_OK, 402, "", false, NULL, FE_ERRK_QUOTA, false, true, NULL},
        {CURLE_OK, 500, "oops", false, NULL, FE_ERRK_SERVER, true, false, "oops"},
        {CURLE_OK, 503, "", false, should_false, FE_ERRK_SERVER, false, false, NULL},
        {CURLE_OK, 400, "{\"error\":\"bad\"}", false, NULL, FE_ERRK_BAD_REQUEST, false, false, "bad"},
        {CURLE_OK, 400, "", false, should_true, FE_ERRK_BAD_REQUEST, true, false, NULL},
        {CURLE_OK, 401, "", false, NULL, FE_ERRK_AUTH, false, false, NULL},
        {CURLE_OK, 404, "", false, NULL, FE_ERRK_NOT_FOUND, false, false, NULL},
        {CURLE_OK, 408, "", false, NULL, FE_ERRK_TIMEOUT, true, false, NULL},
        {CURLE_OK, 409, "", false, NULL, FE_ERRK_CONFLICT, true, false, NULL},
        {CURLE_OK, 301, "<html>Moved</html>", false, moved, FE_ERRK_HTTP, false, false,
         "HTTP 301 redirect to https://x.example/v1 (redirects are not followed: check base_url): <html>Moved</html>"},
        {CURLE_OK, 302, "", false, should_true, FE_ERRK_HTTP, true, false, "HTTP 302 redirect to (no Location header)"},
        {CURLE_OPERATION_TIMEDOUT, 0, "", false, NULL, FE_ERRK_TIMEOUT, true, false, NULL},
        {CURLE_COULDNT_CONNECT, 0, "", false, NULL, FE_ERRK_CONNECTION, true, false, NULL},
        {CURLE_COULDNT_CONNECT, 0, "", false, should_false, FE_ERRK_CONNECTION, false, false, NULL},
        {CURLE_PARTIAL_FILE, 200, "", false, NULL, FE_ERRK_MALFORMED, true, false, NULL},
        {CURLE_BAD_CONTENT_ENCODING, 200, "", false, NULL, FE_ERRK_MALFORMED, true, false, NULL},
        {CURLE_WRITE_ERROR, 200, "", true, NULL, FE_ERRK_MALFORMED, false, false, NULL},
        {CURLE_WRITE_ERROR, 200, "", false, NULL, FE_ERRK_CONNECTION, true, false, NULL},
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        struct fe_net_headers h;
        headers_of(&h, rows[i].hdrs);
        struct fe_net_attempt a = {.cc = rows[i].cc, .status = rows[i].status, .body = rows[i].body,
                                   .len = strlen(rows[i].body), .body_overflow = rows[i].overflow, .headers = &h};
        struct fe_provider_error pe;
        fe_net_classify(&a, NULL, &pe);
        if (strcmp(pe.kind, rows[i].kind) != 0 || pe.retryable != rows[i].retryable || pe.stop_provider != rows[i].stop)
            fprintf(stderr, "row %zu: kind %s retryable %d stop %d\n", i, pe.kind, pe.retryable, pe.stop_provider);
        T_CHECK_STR(pe.kind, rows[i].kind);
        T_CHECK(pe.retryable == rows[i].retryable);
        T_CHECK(pe.stop_provider == rows[i].stop);
        if (rows[i].message_prefix) {
            T_CHECK(pe.message && strncmp(pe.message, rows[i].message_prefix, strlen(rows[i].message_prefix)) == 0);
            if (!pe.message || strncmp(pe.message, rows[i].message_prefix, strlen(rows[i].message_prefix)) != 0)
                fprintf(stderr, "row %zu: message %s\n", i, pe.message ? pe.message : "(null)");
        }
        if (rows[i].cc == CURLE_WRITE_ERROR && rows[i].overflow)
            T_CHECK(strstr(pe.message, "(response larger than 8 MiB)") != NULL);
        T_CHECK(pe.http_status == (rows[i].cc == CURLE_OK ? rows[i].status : 0));
        fe_provider_error_release(&pe);
    }
}

static void test_waits(void)
{
    /* headers -> the requested wait */
    static const struct {
        const char *lines[3];
        double now;
        bool found;
        double asked;
        const char *source, *value;
    } rows[] = {
        {{"retry-after-ms: 150\r\n", "retry-after: 9\r\n"}, 0, true, 0.150, "retry-after-ms", "150"},
        {{"Retry-After: 9\r\n", "Retry-After-Ms: 150\r\n"}, 0, true, 0.150, "retry-after-ms", "150"}, /* any order */
        {{"retry-after: 2.5\r\n"}, 0, true, 2.5, "retry-after", "2.5"},
        {{"retry-after: 0\r\n"}, 0, true, 0, "retry-after", "0"},
        {{"retry-after: Wed, 21 Oct 2015 07:28:10 GMT\r\n"}, 1445412480.0, true, 10.0, "retry-after",
         "Wed, 21 Oct 2015 07:28:10 GMT"},
        {{"retry-after-ms: soon\r\n", "retry-after: 3\r\n"}, 0, true, 3, "retry-after", "3"},
        {{"retry-after: never\r\n"}, 0, false, 0, NULL, NULL},
        {{"x-other: 1\r\n"}, 0, false, 0, NULL, NULL},
        {{"retry-after: 999999\r\n"}, 0, true, 999999, "retry-after", "999999"},
        {{"retry-after: 5\r\n", "HTTP/1.1 200 OK\r\n"}, 0, false, 0, NULL, NULL}, /* a new response resets */
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        struct fe_net_headers h;
        headers_of(&h, rows[i].lines);
        double asked = -7;
        const char *src = NULL, *val = NULL;
        bool found = fe_net_requested_wait(&h, rows[i].now, &asked, &src, &val);
        T_CHECK(found == rows[i].found);
        if (found != rows[i].found)
            fprintf(stderr, "wait row %zu\n", i);
        if (rows[i].found) {
            T_CHECK_NEAR(asked, rows[i].asked, 1e-9);
            T_CHECK_STR(src, rows[i].source);
            T_CHECK_STR(val, rows[i].value);
        }
    }

    /* the requested wait -> the wait honoured (cap max_wait_s) */
    static const struct {
        double asked, cap, wait;
        bool too_long;
    } caps[] = {
        {1, 120, 1, false}, {120, 120, 120, false}, {120.001, 120, 120, true}, {999999, 120, 120, true},
        {INFINITY, 120, 120, true}, {NAN, 120, 120, true}, {0, 120, 0, false}, {3600, 0.5, 0.5, true},
    };
    for (size_t i = 0; i < sizeof(caps) / sizeof(caps[0]); i++) {
        struct fe_net_wait w = fe_net_cap_wait(caps[i].asked, caps[i].cap);
        T_CHECK_NEAR(w.wait, caps[i].wait, 1e-12);
        T_CHECK(w.too_long == caps[i].too_long);
    }

    /* long waits in a row: the third gives up; a wait within the cap starts the count again */
    int n = 0;
    T_CHECK(!fe_net_note_wait(&n, true) && n == 1);
    T_CHECK(!fe_net_note_wait(&n, true) && n == 2);
    T_CHECK(!fe_net_note_wait(&n, false) && n == 0);
    T_CHECK(!fe_net_note_wait(&n, true) && !fe_net_note_wait(&n, true));
    T_CHECK(fe_net_note_wait(&n, true) && n == FE_NET_LONG_WAITS_GIVE_UP);

    /* x-should-retry */
    static const char *const t_lines[] = {"x-should-retry:  TRUE \r\n", NULL};
    static const char *const f_lines[] = {"x-should-retry: false\r\n", NULL};
    static const char *const o_lines[] = {"x-should-retry: maybe\r\n", NULL};
    struct fe_net_headers h;
    headers_of(&h, t_lines);
    T_CHECK(fe_net_should_retry(&h) == 1);
    headers_of(&h, f_lines);
    T_CHECK(fe_net_should_retry(&h) == 0);
    headers_of(&h, o_lines);
    T_CHECK(fe_net_should_retry(&h) == -1);
}

static void test_rate_headers(void)
{
    static const struct {
        const char *lines[5];
        long est;
        size_t n;
        double asked[2];
        const char *source[2];
    } rows[] = {
        {{"x-ratelimit-remaining-requests: 0\r\n", "x-ratelimit-reset-requests: 6m0s\r\n"}, 10, 1, {360},
         {"x-ratelimit-reset-requests"}},
        {{"x-ratelimit-remaining-requests: 1\r\n", "x-ratelimit-reset-requests: 6m0s\r\n"}, 10, 0, {0}, {NULL}},
        {{"x-ratelimit-remaining-tokens: 9\r\n", "x-ratelimit-reset-tokens: 1.5s\r\n"}, 10, 1, {1.5},
         {"x-ratelimit-reset-tokens"}},
        {{"x-ratelimit-remaining-tokens: 10\r\n", "x-ratelimit-reset-tokens: 1.5s\r\n"}, 10, 0, {0}, {NULL}},
        {{"X-RateLimit-Remaining-Requests: 0\r\n", "x-ratelimit-reset-requests: 17h22m9.6s\r\n",
          "x-ratelimit-remaining-tokens: 0\r\n", "x-ratelimit-reset-tokens: 12ms\r\n"}, 10, 2, {62529.6, 0.012},
         {"x-ratelimit-reset-requests", "x-ratelimit-reset-tokens"}},
        {{"x-ratelimit-remaining-requests: 0\r\n", "x-ratelimit-reset-requests: soon\r\n"}, 10, 0, {0}, {NULL}},
        {{"x-ratelimit-remaining-requests: 0\r\n"}, 10, 0, {0}, {NULL}},
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        struct fe_net_headers h;
        headers_of(&h, rows[i].lines);
        struct fe_net_rate_wait w[2];
        size_t n = fe_net_rate_waits(&h, rows[i].est, w);
        T_CHECK(n == rows[i].n);
        for (size_t k = 0; k < n && k < rows[i].n; k++) {
            T_CHECK_NEAR(w[k].asked, rows[i].asked[k], 1e-9);
            T_CHECK_STR(w[k].source, rows[i].source[k]);
        }
    }
    /* "inf": forever, which the cap turns into max_wait_s and a long wait */
    static const char *const inf_lines[] = {"x-ratelimit-remaining-requests: 0\r\n",
                                            "x-ratelimit-reset-requests: inf\r\n", NULL};
    struct fe_net_headers h;
    headers_of(&h, inf_lines);
    struct fe_net_rate_wait w[2];
    T_CHECK(fe_net_rate_waits(&h, 1, w) == 1 && !isfinite(w[0].asked));
    T_CHECK(fe_net_cap_wait(w[0].asked, 120).too_long && fe_net_cap_wait(w[0].asked, 120).wait == 120);
}

static void test_repair(void)
{
    static const struct {
        const char *in, *out;
        size_t n;
    } rows[] = {
        {"{\"c\":\"a\\u0000b\"}", "{\"c\":\"a\\uFFFDb\"}", 1},
        {"{\"c\":\"x\\ud800y\"}", "{\"c\":\"x\\uFFFDy\"}", 1},
        {"{\"c\":\"x\\uDC00\"}", "{\"c\":\"x\\uFFFD\"}", 1},
        {"{\"c\":\"\\ud83d\\ude00\"}", "{\"c\":\"\\ud83d\\ude00\"}", 0},      /* a valid pair stays */
        {"{\"c\":\"\\ud83d\\u0041\"}", "{\"c\":\"\\uFFFD\\u0041\"}", 1},      /* high + non-low */
        {"{\"c\":\"\\\\u0000\"}", "{\"c\":\"\\\\u0000\"}", 0},               /* an escaped backslash */
        {"{\"c\":\"\\\"\\u0000\"}", "{\"c\":\"\\\"\\uFFFD\"}", 1},           /* after an escaped quote */
        {"{\"\\u0000k\":1}", "{\"\\uFFFDk\":1}", 1},
        {"{\"c\":\"plain\"}", "{\"c\":\"plain\"}", 0},
        {"{\"c\":\"cut\\u00", "{\"c\":\"cut\\u00", 0},                     /* truncated escape */
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        char buf[128];
        snprintf(buf, sizeof(buf), "%s", rows[i].in);
        size_t n = fe_net_json_repair(buf, strlen(buf));
        T_CHECK(n == rows[i].n);
        T_CHECK_STR(buf, rows[i].out);
    }
    /* the repaired text parses and keeps everything around the replacement */
    char body[] = "{\"c\":\"left\\u0000right\"}";
    fe_net_json_repair(body, strlen(body));
    cJSON *j = cJSON_Parse(body);
    T_CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(j, "c")), "left\xef\xbf\xbdright");
    cJSON_Delete(j);
}

static void test_error_in_success(void)
{
    static const struct {
        const char *body, *want;
    } rows[] = {
        {"{\"error\":{\"message\":\"overloaded\",\"type\":\"server_error\"}}", "server_error: overloaded"},
        {"{\"error\":{\"message\":\"m\",\"code\":42}}", "42: m"},
        {"{\"error\":\"plain words\"}", "plain words"},
        {"{\"choices\":[]}", NULL},
        {"not json", NULL},
        {"", NULL},
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        char *got = fe_net_error_in_success(rows[i].body, strlen(rows[i].body));
        if (rows[i].want)
            T_CHECK_STR(got, rows[i].want);
        else
            T_CHECK(got == NULL);
        free(got);
    }
}

static void test_redaction(void)
{
    fe_log_add_secret("sk-policy-SECRET-0001");
    /* a body: redacted whole, NUL bytes kept, before any cut (so no prefix of the key survives) */
    struct fe_buf b;
    fe_buf_init(&b, 64);
    fe_buf_add(&b, "a\0b sk-policy-SECRET-0001 c sk-policy-SECRET-0001", 49);
    T_CHECK(fe_redact_buf(&b));
    T_CHECK(b.len == 4 + 10 + 3 + 10 && memcmp(b.data, "a\0b [REDACTED] c [REDACTED]", b.len) == 0);
    T_CHECK(!fe_redact_buf(&b));
    fe_buf_release(&b);
    /* a short secret grows the text: the capped buffer still holds it all */
    fe_log_add_secret("abcd");
    fe_buf_init(&b, 8);
    fe_buf_adds(&b, "abcdabcd");
    T_CHECK(fe_redact_buf(&b) && strcmp(fe_buf_str(&b), "[REDACTED][REDACTED]") == 0);
    fe_buf_release(&b);
    /* headers */
    static const char *const lines[] = {"x-request-id: req-sk-policy-SECRET-0001\r\n",
                                        "location: https://x/?k=sk-policy-SECRET-0001\r\n", NULL};
    struct fe_net_headers h;
    headers_of(&h, lines);
    fe_net_headers_redact(&h);
    T_CHECK_STR(h.request_id, "req-[REDACTED]");
    T_CHECK_STR(h.location, "https://x/?k=[REDACTED]");
    fe_log_clear_secrets();
}

int main(void)
{
    test_classify();
    test_waits();
    test_rate_headers();
    test_repair();
    test_error_in_success();
    test_redaction();
    return T_DONE();
}
