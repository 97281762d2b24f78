/* http_client.c — see http_client.h. */
#include "harness/net/http_client.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <openssl/rand.h>

#include "harness/base/log.h"
#include "harness/base/util.h"
#include "harness/net/backoff.h"
#include "harness/net/policy.h"

struct fe_http {
    char *base_url;
    char *api_key;
    int max_retries;
    double total_timeout_s;
    double connect_timeout_s;
    double max_wait_s;  /* the largest server-requested wait honoured (policy.h) */
    int long_waits;     /* over-long waits asked in a row (fe_net_note_wait) */
    char **headers;     /* extra "Name: value" lines (fe_http_add_header), may hold secrets */
    size_t n_headers;
    bool no_bearer;     /* the key goes in one of headers, not in Authorization: Bearer */
    size_t body_cap;    /* 0: FE_NET_BODY_CAP */
};

struct fe_http *fe_http_new(const char *base_url, const char *api_key)
{
    struct fe_http *h = fe_xcalloc(1, sizeof(*h));
    h->base_url = fe_xstrdup(base_url ? base_url : "");
    size_t n = strlen(h->base_url);
    while (n > 0 && h->base_url[n - 1] == '/')
        h->base_url[--n] = '\0';
    h->api_key = fe_xstrdup(api_key);
    if (api_key)
        fe_log_add_secret(api_key);
    h->max_retries = 2;
    h->total_timeout_s = 600;
    h->connect_timeout_s = 5;
    h->max_wait_s = 120;
    return h;
}

void fe_http_free(struct fe_http *h)
{
    if (!h)
        return;
    free(h->base_url);
    for (size_t i = 0; i < h->n_headers; i++) {
        memset(h->headers[i], 0, strlen(h->headers[i]));
        free(h->headers[i]);
    }
    free(h->headers);
    if (h->api_key) {
        memset(h->api_key, 0, strlen(h->api_key));
        free(h->api_key);
    }
    free(h);
}

void fe_http_set_retries(struct fe_http *h, int max_retries)
{
    h->max_retries = max_retries < 0 ? 0 : max_retries;
}

int fe_http_get_retries(const struct fe_http *h)
{
    return h->max_retries;
}

void fe_http_set_timeouts(struct fe_http *h, double total_s, double connect_s)
{
    if (total_s > 0)
        h->total_timeout_s = total_s;
    if (connect_s > 0)
        h->connect_timeout_s = connect_s;
}

void fe_http_set_retry_cap(struct fe_http *h, double retry_cap_s)
{
    if (retry_cap_s >= 0)
        h->max_wait_s = retry_cap_s;
}

void fe_http_add_header(struct fe_http *h, const char *line, bool replaces_bearer)
{
    h->headers = fe_xrealloc(h->headers, (h->n_headers + 1) * sizeof(*h->headers));
    h->headers[h->n_headers++] = fe_xstrdup(line);
    h->no_bearer = h->no_bearer || replaces_bearer;
}

void fe_http_set_body_cap(struct fe_http *h, size_t bytes)
{
    h->body_cap = bytes;
}

void fe_http_response_init(struct fe_http_response *r)
{
    memset(r, 0, sizeof(*r));
    fe_buf_init(&r->body, FE_NET_BODY_CAP);
    r->retry_after_s = -1;
    r->should_retry = -1;
}

void fe_http_response_release(struct fe_http_response *r)
{
    if (!r)
        return;
    fe_buf_release(&r->body);
    fe_http_response_init(r);
}

/* Where a transfer's body goes: resp->body, or a 2xx body to file (fe_http_call_request). */
struct fe_http_sink {
    struct fe_http_response *resp;
    CURL *c;
    FILE *file;
    bool file_failed;   /* a write to file failed: the transfer was aborted */
};

static size_t fe_http_on_body(char *ptr, size_t size, size_t nmemb, void *userdata)
{
    struct fe_http_sink *s = userdata;
    size_t n = size * nmemb;
    long status = 0;
    if (s->file && curl_easy_getinfo(s->c, CURLINFO_RESPONSE_CODE, &status) == CURLE_OK && status >= 200 &&
        status < 300) {
        s->file_failed = fwrite(ptr, 1, n, s->file) != n;
        return s->file_failed ? 0 : n; /* a failed write aborts the transfer */
    }
    if (fe_buf_add(&s->resp->body, ptr, n) != 0)
        return 0; /* over the cap: abort the transfer (CURLE_WRITE_ERROR) */
    return n;
}

static size_t fe_http_on_header(char *line, size_t size, size_t nmemb, void *userdata)
{
    struct fe_http_response *r = userdata;
    fe_net_header_line(&r->headers, line, size * nmemb);
    return size * nmemb;
}

/* After a transfer: redact what arrived, then read the policy's headers into the response. */
static void fe_http_read_back(struct fe_http_response *r)
{
    fe_redact_buf(&r->body);
    fe_net_headers_redact(&r->headers);
    snprintf(r->request_id, sizeof(r->request_id), "%s", r->headers.request_id);
    double asked;
    const char *source, *value;
    r->retry_after_s = fe_net_requested_wait(&r->headers, (double)time(NULL), &asked, &source, &value) ? asked : -1;
    r->should_retry = fe_net_should_retry(&r->headers);
}

enum fe_status fe_http_send(struct fe_http *h, const struct fe_http_call_request *req,
                            struct fe_http_response *resp, struct fe_err *err)
{
    fe_http_response_release(resp);
    if (h->body_cap)
        fe_buf_init(&resp->body, h->body_cap);
    CURL *c = curl_easy_init();
    if (!c)
        return fe_err_set(err, FE_EINTERNAL, "libcurl: cannot create a handle");
    struct curl_slist *headers = NULL;
    curl_mime *mime = NULL;
    enum fe_status st = FE_OK;
    char errbuf[CURL_ERROR_SIZE] = "";

    char *url = fe_xasprintf("%s%s", h->base_url, req->path);
    struct fe_http_sink sink = {.resp = resp, .c = c, .file = req->body_file};
    if (sink.file && (fflush(sink.file) != 0 || ftruncate(fileno(sink.file), 0) != 0 ||
                      fseeko(sink.file, 0, SEEK_SET) != 0)) { /* an earlier attempt's part is dropped */
        st = fe_err_set(err, FE_EIO, "%s: cannot empty the download file: %s", req->path, strerror(errno));
        goto done;
    }
    fe_net_easy_defaults(c, url, h->total_timeout_s, h->connect_timeout_s);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, fe_http_on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &sink);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, fe_http_on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, resp);

    headers = curl_slist_append(headers, "Accept: application/json");
    headers = curl_slist_append(headers, "Expect:");
    for (size_t i = 0; i < h->n_headers; i++)
        headers = curl_slist_append(headers, h->headers[i]);
    if (h->api_key && h->api_key[0] && !h->no_bearer) {
        char *auth = fe_xasprintf("Authorization: Bearer %s", h->api_key);
        headers = curl_slist_append(headers, auth);
        memset(auth, 0, strlen(auth));
        free(auth);
    }
    if (req->parts && req->n_parts > 0) {
        mime = curl_mime_init(c);
        for (size_t i = 0; i < req->n_parts; i++) {
            const struct fe_http_part *p = &req->parts[i];
            curl_mimepart *part = curl_mime_addpart(mime);
            curl_mime_name(part, p->name);
            if (p->file_path) {
                if (curl_mime_filedata(part, p->file_path) != CURLE_OK) {
                    st = fe_err_set(err, FE_EIO, "%s: cannot read file", p->file_path);
                    goto done;
                }
                if (p->filename)
                    curl_mime_filename(part, p->filename);
                curl_mime_type(part,
                               p->content_type ? p->content_type : "application/octet-stream");
            } else {
                curl_mime_data(part, p->value ? p->value : "", CURL_ZERO_TERMINATED);
            }
        }
        curl_easy_setopt(c, CURLOPT_MIMEPOST, mime);
    } else if (req->json) {
        headers = curl_slist_append(headers, "Content-Type: application/json");
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, req->json);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)strlen(req->json));
    } else if (strcmp(req->method, "POST") == 0) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, "");
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, 0L);
    }
    if (strcmp(req->method, "GET") != 0 && strcmp(req->method, "POST") != 0)
        curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, req->method);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);

    CURLcode rc = curl_easy_perform(c);
    if (sink.file && (sink.file_failed || fflush(sink.file) != 0)) { /* the disk, not the network */
        st = fe_err_set(err, FE_EIO, "%s: cannot write the download to disk: %s", req->path, strerror(errno));
        goto done;
    }
    long status = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    resp->status = status;
    fe_http_read_back(resp);
    if (rc == CURLE_OK && status >= 200 && status < 300 && resp->retry_after_s < 0)
        h->long_waits = 0; /* an answer that asked for no wait ends a run of long waits */
    if (rc != CURLE_OK) {
        resp->transport_error = true;
        /* Only failures before a connection existed are certainly harmless; anything later may
         * have delivered the request (PROVIDER-APIS §7.5). */
        curl_off_t pretransfer = 0;
        curl_easy_getinfo(c, CURLINFO_PRETRANSFER_TIME_T, &pretransfer);
        bool before_connect = rc == CURLE_COULDNT_RESOLVE_HOST || rc == CURLE_COULDNT_CONNECT ||
                              rc == CURLE_COULDNT_RESOLVE_PROXY ||
                              (rc == CURLE_OPERATION_TIMEDOUT && pretransfer == 0);
        resp->maybe_sent = !before_connect;
        char *clean = fe_redact(errbuf[0] ? errbuf : curl_easy_strerror(rc));
        snprintf(resp->transport_msg, sizeof(resp->transport_msg), "%s", clean);
        free(clean);
        st = FE_ENET;
    }
    fe_debug("%s %s -> %ld%s%s%s", req->method, req->path, status,
             resp->request_id[0] ? " x-request-id " : "", resp->request_id,
             rc != CURLE_OK ? " (transport error)" : "");
done:
    curl_easy_cleanup(c);
    curl_mime_free(mime);
    curl_slist_free_all(headers);
    free(url);
    return st;
}

/* Reads error.code / error.type of an OpenAI error body into out ("" when absent). */
static void fe_http_error_field(const cJSON *root, const char *field, char *out, size_t size)
{
    out[0] = '\0';
    const cJSON *e = cJSON_GetObjectItemCaseSensitive(root, "error");
    const cJSON *v = cJSON_IsObject(e) ? cJSON_GetObjectItemCaseSensitive(e, field)
                                       : cJSON_GetObjectItemCaseSensitive(root, field);
    if (cJSON_IsString(v))
        snprintf(out, size, "%s", v->valuestring);
    else if (cJSON_IsNumber(v))
        snprintf(out, size, "%.0f", v->valuedouble);
}

/* The policy's classification of an HTTP answer (the default provider classifier, the response's
 * x-should-retry). */
static void fe_http_policy_classify(const struct fe_http_response *resp, struct fe_provider_error *pe)
{
    struct fe_net_headers hdrs = resp->headers;
    snprintf(hdrs.should_retry, sizeof(hdrs.should_retry), "%s",
             resp->should_retry == 1 ? "true" : resp->should_retry == 0 ? "false" : "");
    struct fe_net_attempt a = {
        .cc = CURLE_OK, .status = resp->status, .body = resp->body.data ? resp->body.data : "",
        .len = resp->body.len, .headers = &hdrs,
    };
    fe_net_classify(&a, NULL, pe);
}

bool fe_http_is_quota_error(const struct fe_http_response *resp)
{
    struct fe_provider_error pe;
    fe_classify_http_error(429, resp->body.data ? resp->body.data : "", resp->body.len, &pe);
    bool quota = pe.stop_provider;
    fe_provider_error_release(&pe);
    return quota;
}

enum fe_http_verdict fe_http_classify(const struct fe_http_response *resp)
{
    if (resp->transport_error)
        return resp->maybe_sent ? FE_HTTP_AMBIGUOUS : FE_HTTP_RETRY;
    if (resp->status >= 200 && resp->status < 300)
        return FE_HTTP_DONE;
    struct fe_provider_error pe;
    fe_http_policy_classify(resp, &pe);
    bool retry = pe.retryable;
    fe_provider_error_release(&pe);
    if (!retry)
        return FE_HTTP_DONE;
    return resp->status >= 500 ? FE_HTTP_AMBIGUOUS : FE_HTTP_RETRY;
}

static double fe_http_uniform(void)
{
    uint32_t x = 0;
    if (RAND_bytes((unsigned char *)&x, sizeof(x)) != 1)
        return 0.5;
    return x / 4294967296.0;
}

double fe_http_retry_delay(struct fe_http *h, const struct fe_http_response *resp, int retries_taken)
{
    if (resp && resp->retry_after_s >= 0) {
        struct fe_net_wait w = fe_net_cap_wait(resp->retry_after_s, h->max_wait_s);
        if (fe_net_note_wait(&h->long_waits, w.too_long))
            return -1;
        return w.wait;
    }
    return fe_backoff_seconds(retries_taken, fe_http_uniform());
}

void fe_http_sleep(double seconds)
{
    if (seconds <= 0)
        return;
    struct timespec ts;
    ts.tv_sec = (time_t)seconds;
    ts.tv_nsec = (long)((seconds - (double)ts.tv_sec) * 1e9);
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

/* Appends an unstructured body excerpt: printable ASCII, at most 200 bytes. */
static void fe_http_add_excerpt(struct fe_buf *out, const char *s, size_t len)
{
    size_t n = len < 200 ? len : 200;
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        fe_buf_addch(out, (ch >= 0x20 && ch < 0x7f) ? (char)ch : ' ');
    }
    if (len > n)
        fe_buf_adds(out, "...");
}

void fe_http_error_detail(const struct fe_http_response *resp, struct fe_buf *out)
{
    struct fe_buf b;
    fe_buf_init(&b, 0);
    if (resp->transport_error && resp->status == 0) {
        fe_buf_addf(&b, "transport error: %s", resp->transport_msg);
        goto finish;
    }
    fe_buf_addf(&b, "%ld", resp->status);
    const char *body = resp->body.data ? resp->body.data : "";
    cJSON *root = cJSON_ParseWithLength(body, resp->body.len);
    const cJSON *e = root ? cJSON_GetObjectItemCaseSensitive(root, "error") : NULL;
    if (cJSON_IsObject(e)) {
        const cJSON *type = cJSON_GetObjectItemCaseSensitive(e, "type");
        const cJSON *msg = cJSON_GetObjectItemCaseSensitive(e, "message");
        const cJSON *param = cJSON_GetObjectItemCaseSensitive(e, "param");
        char code[128];
        fe_http_error_field(root, "code", code, sizeof(code));
        if (cJSON_IsString(type) && type->valuestring[0])
            fe_buf_addf(&b, " %s", type->valuestring);
        else if (code[0])
            fe_buf_addf(&b, " %s", code);
        fe_buf_addf(&b, ": %s", cJSON_IsString(msg) ? msg->valuestring : "(no message)");
        bool has_param = cJSON_IsString(param) && param->valuestring[0];
        bool show_code = code[0] && !(cJSON_IsString(type) && strcmp(code, type->valuestring) == 0);
        if (has_param && show_code)
            fe_buf_addf(&b, " (param %s, code %s)", param->valuestring, code);
        else if (has_param)
            fe_buf_addf(&b, " (param %s)", param->valuestring);
        else if (show_code && cJSON_IsString(type) && type->valuestring[0])
            fe_buf_addf(&b, " (code %s)", code);
    } else if (cJSON_IsString(e)) {
        const cJSON *et = cJSON_GetObjectItemCaseSensitive(root, "error_type");
        if (cJSON_IsString(et))
            fe_buf_addf(&b, " %s", et->valuestring);
        fe_buf_addf(&b, ": %s", e->valuestring);
    } else if (root && cJSON_IsString(cJSON_GetObjectItemCaseSensitive(root, "message"))) {
        const cJSON *type = cJSON_GetObjectItemCaseSensitive(root, "type");
        if (cJSON_IsString(type))
            fe_buf_addf(&b, " %s", type->valuestring);
        fe_buf_addf(&b, ": %s", cJSON_GetObjectItemCaseSensitive(root, "message")->valuestring);
    } else if (root && cJSON_IsString(cJSON_GetObjectItemCaseSensitive(root, "title"))) {
        /* RFC 7807 problem+json (Prism): title, detail, validation[].message */
        fe_buf_addf(&b, " %s", cJSON_GetObjectItemCaseSensitive(root, "title")->valuestring);
        const cJSON *val = cJSON_GetObjectItemCaseSensitive(root, "validation");
        const cJSON *detail = cJSON_GetObjectItemCaseSensitive(root, "detail");
        const cJSON *first = cJSON_IsArray(val) ? cJSON_GetArrayItem(val, 0) : NULL;
        const cJSON *fm = first ? cJSON_GetObjectItemCaseSensitive(first, "message") : NULL;
        if (cJSON_IsString(fm))
            fe_buf_addf(&b, ": %s", fm->valuestring);
        else if (cJSON_IsString(detail))
            fe_buf_addf(&b, ": %s", detail->valuestring);
    } else if (resp->body.len > 0) {
        fe_buf_adds(&b, ": ");
        fe_http_add_excerpt(&b, body, resp->body.len);
    }
    cJSON_Delete(root);
    if (resp->transport_error)
        fe_buf_addf(&b, " (transport error: %s)", resp->transport_msg);
finish:
    if (resp->request_id[0])
        fe_buf_addf(&b, " [request id %s]", resp->request_id);
    char *clean = fe_redact(fe_buf_str(&b));
    fe_buf_adds(out, clean);
    free(clean);
    fe_buf_release(&b);
}

enum fe_status fe_http_call(struct fe_http *h, const struct fe_http_call_request *req, const char *what,
                            struct fe_http_response *resp, struct fe_err *err)
{
    for (int attempt = 0;; attempt++) {
        enum fe_status st = fe_http_send(h, req, resp, err);
        if (st != FE_OK && st != FE_ENET)
            return st;
        enum fe_http_verdict v = fe_http_classify(resp);
        if (v == FE_HTTP_DONE && resp->status >= 200 && resp->status < 300)
            return FE_OK;
        double delay = v == FE_HTTP_DONE ? -1 : fe_http_retry_delay(h, resp, attempt);
        if (v != FE_HTTP_DONE && attempt < h->max_retries && delay >= 0) {
            struct fe_buf d;
            fe_buf_init(&d, 0);
            fe_http_error_detail(resp, &d);
            fe_info("%s: %s; retry %d/%d in %.2f s", what, fe_buf_str(&d), attempt + 1,
                    h->max_retries, delay);
            fe_buf_release(&d);
            fe_http_sleep(delay);
            continue;
        }
        struct fe_buf d;
        fe_buf_init(&d, 0);
        fe_http_error_detail(resp, &d);
        enum fe_status code = FE_EPROVIDER;
        if (resp->status == 0)
            code = FE_ENET;
        else if (resp->status == 429 && fe_http_is_quota_error(resp))
            code = FE_EQUOTA;
        if (v != FE_HTTP_DONE && delay < 0)
            fe_buf_addf(&d, " (the server asked %d times in a row for waits longer than max_wait_s %.0f s)",
                        h->long_waits, h->max_wait_s);
        else if (v != FE_HTTP_DONE && attempt > 0)
            fe_buf_addf(&d, " (after %d retries)", attempt);
        fe_err_set(err, code, "%s: %s", what, fe_buf_str(&d));
        fe_buf_release(&d);
        return code;
    }
}

enum fe_status fe_http_call_json(struct fe_http *h, const struct fe_http_call_request *req,
                                 const char *what, cJSON **out, struct fe_err *err)
{
    *out = NULL;
    struct fe_http_response resp;
    fe_http_response_init(&resp);
    enum fe_status st = fe_http_call(h, req, what, &resp, err);
    if (st == FE_OK) {
        if (fe_net_json_repair(resp.body.data, resp.body.len) > 0) /* NUL, lone surrogates: U+FFFD */
            fe_warn("%s: the answer had \\u0000 or lone surrogates; replaced by U+FFFD", what);
        *out = cJSON_ParseWithLength(resp.body.data ? resp.body.data : "", resp.body.len);
        if (!*out)
            st = fe_err_set(err, FE_EPROVIDER, "%s: %ld answer is not JSON", what, resp.status);
    }
    fe_http_response_release(&resp);
    return st;
}

enum fe_status fe_http_get_json(struct fe_http *h, const char *path, const char *what, cJSON **out,
                                struct fe_err *err)
{
    struct fe_http_call_request req = {.method = "GET", .path = path};
    return fe_http_call_json(h, &req, what, out, err);
}

enum fe_status fe_http_post_json(struct fe_http *h, const char *path, const cJSON *body,
                                 const char *what, cJSON **out, struct fe_err *err)
{
    char *json = body ? cJSON_PrintUnformatted(body) : NULL;
    struct fe_http_call_request req = {.method = "POST", .path = path, .json = json};
    enum fe_status st = fe_http_call_json(h, &req, what, out, err);
    free(json);
    return st;
}

void fe_http_add_escaped(struct fe_buf *out, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (isalnum(*p) || *p == '-' || *p == '_' || *p == '.' || *p == '~') {
            fe_buf_addch(out, (char)*p);
        } else {
            fe_buf_addch(out, '%');
            fe_buf_addch(out, hex[*p >> 4]);
            fe_buf_addch(out, hex[*p & 15]);
        }
    }
}
