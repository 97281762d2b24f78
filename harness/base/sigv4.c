/* sigv4.c — see sigv4.h. The steps of AWS's "Create a signed AWS API request" guide: canonical
 * request, string to sign, signing key (date → region → service → "aws4_request"), signature. */
#include "harness/base/sigv4.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "harness/base/buf.h"
#include "harness/base/util.h"

static void fe_hex(const unsigned char *d, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[d[i] >> 4];
        out[2 * i + 1] = digits[d[i] & 15];
    }
    out[2 * n] = '\0';
}

static void fe_hmac(const void *key, size_t key_len, const char *data, size_t len, unsigned char out[32])
{
    unsigned int n = 32;
    HMAC(EVP_sha256(), key, (int)key_len, (const unsigned char *)data, len, out, &n);
}

char *fe_sigv4_uri_encode(const char *s, size_t len, int keep_slash)
{
    static const char digits[] = "0123456789ABCDEF";
    struct fe_buf b;
    fe_buf_init(&b, 0);
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~' || (keep_slash && c == '/')) {
            fe_buf_addch(&b, (char)c);
        } else {
            fe_buf_addch(&b, '%');
            fe_buf_addch(&b, digits[c >> 4]);
            fe_buf_addch(&b, digits[c & 15]);
        }
    }
    return fe_buf_detach(&b, NULL);
}

static int fe_hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = (char)tolower((unsigned char)c);
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* s[0..len) with %XX escapes decoded, then encoded the SigV4 way. */
static char *fe_requote(const char *s, size_t len)
{
    char *raw = fe_xmalloc(len + 1);
    size_t n = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '%' && i + 2 < len && fe_hexval(s[i + 1]) >= 0 && fe_hexval(s[i + 2]) >= 0) {
            raw[n++] = (char)(fe_hexval(s[i + 1]) * 16 + fe_hexval(s[i + 2]));
            i += 2;
        } else {
            raw[n++] = s[i];
        }
    }
    char *out = fe_sigv4_uri_encode(raw, n, 0);
    free(raw);
    return out;
}

struct fe_kv {
    char *name, *value;
    size_t order; /* input position: repeats keep their order */
};

static int fe_kv_cmp(const void *a, const void *b)
{
    const struct fe_kv *x = a, *y = b;
    int c = strcmp(x->name, y->name);
    if (c == 0 && x->value && y->value) /* query parameters: then by value */
        c = strcmp(x->value, y->value);
    if (c == 0)
        c = x->order < y->order ? -1 : x->order > y->order;
    return c;
}

static char *fe_canonical_query(const char *q)
{
    struct fe_buf b;
    fe_buf_init(&b, 0);
    if (!q || !*q)
        return fe_buf_detach(&b, NULL);
    size_t n = 1;
    for (const char *p = q; *p; p++)
        n += *p == '&';
    struct fe_kv *kv = fe_xcalloc(n, sizeof(*kv));
    size_t k = 0;
    for (const char *p = q;;) {
        const char *end = strchr(p, '&');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (len) {
            const char *eq = memchr(p, '=', len);
            size_t nl = eq ? (size_t)(eq - p) : len;
            kv[k].name = fe_requote(p, nl);
            kv[k].value = eq ? fe_requote(eq + 1, len - nl - 1) : fe_xstrdup("");
            kv[k].order = k;
            k++;
        }
        if (!end)
            break;
        p = end + 1;
    }
    qsort(kv, k, sizeof(*kv), fe_kv_cmp);
    for (size_t i = 0; i < k; i++) {
        fe_buf_addf(&b, "%s%s=%s", i ? "&" : "", kv[i].name, kv[i].value);
        free(kv[i].name);
        free(kv[i].value);
    }
    free(kv);
    return fe_buf_detach(&b, NULL);
}

/* A header value trimmed, with each run of whitespace inside collapsed to one space. */
static void fe_add_trimmed(struct fe_buf *b, const char *v)
{
    while (*v && isspace((unsigned char)*v))
        v++;
    bool space = false;
    for (; *v; v++) {
        if (isspace((unsigned char)*v)) {
            space = true;
            continue;
        }
        if (space)
            fe_buf_addch(b, ' ');
        space = false;
        fe_buf_addch(b, *v);
    }
}

void fe_sigv4_result_release(struct fe_sigv4_result *r)
{
    free(r->canonical_request);
    free(r->string_to_sign);
    free(r->signed_headers);
    free(r->signature);
    free(r->authorization);
    memset(r, 0, sizeof(*r));
}

int fe_sigv4_sign(const struct fe_sigv4_request *req, struct fe_sigv4_result *out)
{
    memset(out, 0, sizeof(*out));
    if (!req->method || !req->path || !req->amz_date || strlen(req->amz_date) != 16 || !req->region ||
        !req->service || !req->access_key_id || !req->secret_access_key || (!req->body && req->body_len))
        return -1;
    for (size_t i = 0; i < req->n_headers; i++)
        if (!req->headers[i].name || !req->headers[i].value)
            return -1;

    /* headers: lower-case names, sorted, repeats joined in their order */
    struct fe_kv *h = fe_xcalloc(req->n_headers ? req->n_headers : 1, sizeof(*h));
    for (size_t i = 0; i < req->n_headers; i++) {
        h[i].name = fe_xstrdup(req->headers[i].name);
        for (char *p = h[i].name; *p; p++)
            *p = (char)tolower((unsigned char)*p);
        h[i].value = NULL; /* compare by name, then input order */
        h[i].order = i;
    }
    qsort(h, req->n_headers, sizeof(*h), fe_kv_cmp);
    struct fe_buf canon_headers, signed_headers;
    fe_buf_init(&canon_headers, 0);
    fe_buf_init(&signed_headers, 0);
    for (size_t i = 0; i < req->n_headers; i++) {
        bool first = i == 0 || strcmp(h[i].name, h[i - 1].name) != 0;
        if (first) {
            if (i)
                fe_buf_addch(&canon_headers, '\n');
            fe_buf_addf(&canon_headers, "%s:", h[i].name);
            fe_buf_addf(&signed_headers, "%s%s", i ? ";" : "", h[i].name);
        } else {
            fe_buf_addch(&canon_headers, ',');
        }
        fe_add_trimmed(&canon_headers, req->headers[h[i].order].value);
    }
    if (req->n_headers)
        fe_buf_addch(&canon_headers, '\n');
    for (size_t i = 0; i < req->n_headers; i++)
        free(h[i].name);
    free(h);

    char body_hash[65];
    fe_sha256_hex(req->body ? req->body : "", req->body_len, body_hash);
    char *uri = *req->path ? fe_sigv4_uri_encode(req->path, strlen(req->path), 1) : fe_xstrdup("/");
    char *query = fe_canonical_query(req->query);
    out->canonical_request = fe_xasprintf("%s\n%s\n%s\n%s\n%s\n%s", req->method, uri, query,
                                          fe_buf_str(&canon_headers), fe_buf_str(&signed_headers), body_hash);
    free(uri);
    free(query);
    fe_buf_release(&canon_headers);

    char date[9];
    memcpy(date, req->amz_date, 8);
    date[8] = '\0';
    char creq_hash[65];
    fe_sha256_hex(out->canonical_request, strlen(out->canonical_request), creq_hash);
    char *scope = fe_xasprintf("%s/%s/%s/aws4_request", date, req->region, req->service);
    out->string_to_sign = fe_xasprintf("AWS4-HMAC-SHA256\n%s\n%s\n%s", req->amz_date, scope, creq_hash);

    char *secret = fe_xasprintf("AWS4%s", req->secret_access_key);
    unsigned char k1[32], k2[32], k3[32], k4[32], sig[32];
    fe_hmac(secret, strlen(secret), date, strlen(date), k1);
    fe_hmac(k1, 32, req->region, strlen(req->region), k2);
    fe_hmac(k2, 32, req->service, strlen(req->service), k3);
    fe_hmac(k3, 32, "aws4_request", 12, k4);
    fe_hmac(k4, 32, out->string_to_sign, strlen(out->string_to_sign), sig);
    memset(secret, 0, strlen(secret));
    free(secret);
    char hex[65];
    fe_hex(sig, 32, hex);
    out->signature = fe_xstrdup(hex);
    out->signed_headers = fe_buf_detach(&signed_headers, NULL);
    out->authorization = fe_xasprintf("AWS4-HMAC-SHA256 Credential=%s/%s, SignedHeaders=%s, Signature=%s",
                                      req->access_key_id, scope, out->signed_headers, out->signature);
    free(scope);
    return 0;
}

void fe_sigv4_amz_date(long long unix_seconds, char out[17])
{
    time_t t = (time_t)unix_seconds;
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, 17, "%Y%m%dT%H%M%SZ", &tm);
}
