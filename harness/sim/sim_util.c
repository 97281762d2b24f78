/* sim_util.c — helpers every part of the simulator shares and that depend on no other part:
 * URL decoding of query strings, the rough token count, a byte search and content-block text. Kept apart, at the
 * bottom with sim_fault.c, so the other files call each other in one direction only (sim.h). */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "harness/base/buf.h"
#include "harness/base/util.h"
#include "harness/sim/sim.h"

int fe_sim_hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

char *fe_sim_urldecode(const char *s, size_t n)
{
    char *out = fe_xmalloc(n + 1);
    size_t j = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '+') {
            out[j++] = ' ';
        } else if (s[i] == '%' && i + 2 < n && fe_sim_hexval(s[i + 1]) >= 0 &&
                   fe_sim_hexval(s[i + 2]) >= 0) {
            out[j++] = (char)(fe_sim_hexval(s[i + 1]) * 16 + fe_sim_hexval(s[i + 2]));
            i += 2;
        } else {
            out[j++] = s[i];
        }
    }
    out[j] = '\0';
    return out;
}

char *fe_sim_query_get(const char *query, const char *name)
{
    const char *p = query;
    while (p && *p) {
        const char *amp = strchr(p, '&');
        size_t len = amp ? (size_t)(amp - p) : strlen(p);
        const char *eq = memchr(p, '=', len);
        size_t klen = eq ? (size_t)(eq - p) : len;
        char *key = fe_sim_urldecode(p, klen);
        bool hit = strcmp(key, name) == 0;
        free(key);
        if (hit)
            return eq ? fe_sim_urldecode(eq + 1, len - klen - 1) : fe_xstrdup("");
        p = amp ? amp + 1 : NULL;
    }
    return NULL;
}

const char *fe_sim_memfind(const char *hay, size_t n, const char *needle, size_t m)
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

/* Bytes of v[i..n) up to (not including) stop, at least one, each passing ok. Returns the count. */
static size_t fe_sim_span(const char *v, size_t i, size_t n, char stop, int (*ok)(int))
{
    size_t k = i;
    while (k < n && v[k] != stop && ok((unsigned char)v[k]))
        k++;
    return k < n && v[k] == stop ? k - i : 0;
}

static int fe_sim_cred_char(int c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
}

static int fe_sim_header_name_char(int c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == ';';
}

bool fe_sim_sigv4_header_ok(const char *v, size_t n)
{
    static const char algo[] = "AWS4-HMAC-SHA256 Credential=";
    size_t i = sizeof(algo) - 1;
    if (n < i || memcmp(v, algo, i) != 0)
        return false;
    size_t k = fe_sim_span(v, i, n, '/', fe_sim_cred_char); /* access key id */
    if (!k)
        return false;
    i += k + 1;
    if (fe_sim_span(v, i, n, '/', fe_sim_cred_char) != 8) /* YYYYMMDD */
        return false;
    for (size_t d = 0; d < 8; d++)
        if (v[i + d] < '0' || v[i + d] > '9')
            return false;
    i += 9;
    k = fe_sim_span(v, i, n, '/', fe_sim_cred_char); /* region */
    if (!k)
        return false;
    i += k + 1;
    static const char scope[] = "bedrock/aws4_request, SignedHeaders=";
    if (n - i < sizeof(scope) - 1 || memcmp(v + i, scope, sizeof(scope) - 1) != 0)
        return false;
    i += sizeof(scope) - 1;
    k = fe_sim_span(v, i, n, ',', fe_sim_header_name_char); /* a;b;c, lowercase */
    if (!k || fe_sim_memfind(v + i, k, "host", 4) == NULL)
        return false;
    i += k + 1;
    static const char sig[] = " Signature=";
    if (n - i != sizeof(sig) - 1 + 64 || memcmp(v + i, sig, sizeof(sig) - 1) != 0)
        return false;
    i += sizeof(sig) - 1;
    for (size_t d = 0; d < 64; d++)
        if (!((v[i + d] >= '0' && v[i + d] <= '9') || (v[i + d] >= 'a' && v[i + d] <= 'f')))
            return false;
    return true;
}

char *fe_sim_blocks_text(const cJSON *v)
{
    if (cJSON_IsString(v))
        return fe_xstrdup(v->valuestring);
    struct fe_buf b;
    fe_buf_init(&b, 0);
    const cJSON *blk;
    cJSON_ArrayForEach(blk, v) {
        const cJSON *t = cJSON_GetObjectItemCaseSensitive(blk, "text");
        if (cJSON_IsString(t))
            fe_buf_adds(&b, t->valuestring);
    }
    char *s = fe_buf_detach(&b, NULL);
    return s ? s : fe_xstrdup("");
}

bool fe_sim_chunk_read(const char *line, size_t len, struct fe_sim_chunk *c)
{
    memset(c, 0, sizeof(*c));
    if (len <= 6 || strncmp(line, "data: ", 6) != 0 || (len >= 12 && strncmp(line + 6, "[DONE]", 6) == 0))
        return false;
    c->json = cJSON_ParseWithLength(line + 6, len - 6);
    const cJSON *choice = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(c->json, "choices"), 0);
    const cJSON *delta = cJSON_GetObjectItemCaseSensitive(choice, "delta");
    const cJSON *fr = cJSON_GetObjectItemCaseSensitive(choice, "finish_reason");
    const cJSON *content = cJSON_GetObjectItemCaseSensitive(delta, "content");
    c->role = cJSON_GetObjectItemCaseSensitive(delta, "role") != NULL;
    c->content = cJSON_IsString(content) ? content->valuestring : NULL;
    if (cJSON_IsString(fr))
        c->finish = strcmp(fr->valuestring, "length") == 0 ? "length" : "stop";
    return true;
}
