/* sim_files.c — in-memory /v1/files in OpenAI's shapes (PROVIDER-APIS.md §3): multipart upload,
 * list (purpose, order, after, limit), retrieve, content, delete; and the small reply helpers the
 * fine-tuning endpoints (sim_jobs.c) share. Everything is lost when the server stops.
 */
#include "harness/sim/sim.h"

#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "harness/base/util.h"

/* ---- helpers ---- */

void fe_sim_reply_json(struct fe_sim_response *rs, int status, cJSON *obj)
{
    char *text = cJSON_PrintUnformatted(obj);
    cJSON_Delete(obj);
    rs->status = status;
    rs->content_type = "application/json";
    fe_buf_reset(&rs->body);
    fe_buf_adds(&rs->body, text);
    free(text);
}

long fe_sim_limit(const char *query, long def, long max)
{
    char *v = fe_sim_query_get(query, "limit");
    long n = def;
    if (v && (!fe_parse_long(v, &n) || n < 1))
        n = def;
    free(v);
    return n > max ? max : n;
}

/* ---- files ---- */

struct fe_sim_file *fe_sim_file_find(struct fe_sim *s, const char *id, size_t *index)
{
    for (size_t i = 0; i < s->store.n_files; i++)
        if (strcmp(s->store.files[i]->id, id) == 0) {
            if (index)
                *index = i;
            return s->store.files[i];
        }
    return NULL;
}

static cJSON *fe_sim_file_json(const struct fe_sim_file *f)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "id", f->id);
    cJSON_AddStringToObject(o, "object", "file");
    cJSON_AddNumberToObject(o, "bytes", (double)f->bytes);
    cJSON_AddNumberToObject(o, "created_at", (double)f->created_at);
    cJSON_AddNullToObject(o, "expires_at");
    cJSON_AddStringToObject(o, "filename", f->filename);
    cJSON_AddStringToObject(o, "purpose", f->purpose);
    cJSON_AddStringToObject(o, "status", "processed");
    cJSON_AddNullToObject(o, "status_details");
    return o;
}

void fe_sim_file_free(struct fe_sim_file *f)
{
    if (!f)
        return;
    free(f->id);
    free(f->filename);
    free(f->purpose);
    free(f->data);
    free(f);
}

/* Extracts a quoted or bare parameter (name="x" / name=x) from a header value. */
static char *fe_sim_header_param(const char *h, size_t hlen, const char *name)
{
    size_t nlen = strlen(name);
    for (size_t i = 0; i + nlen + 1 <= hlen; i++) {
        if (strncmp(h + i, name, nlen) != 0 || h[i + nlen] != '=')
            continue;
        if (i > 0 && h[i - 1] != ' ' && h[i - 1] != ';' && h[i - 1] != '\t')
            continue;
        const char *v = h + i + nlen + 1;
        const char *end = h + hlen;
        if (v < end && *v == '"') {
            v++;
            const char *q = memchr(v, '"', (size_t)(end - v));
            return fe_xstrndup(v, q ? (size_t)(q - v) : (size_t)(end - v));
        }
        const char *e = v;
        while (e < end && *e != ';' && *e != ' ' && *e != '\r' && *e != '\n')
            e++;
        return fe_xstrndup(v, (size_t)(e - v));
    }
    return NULL;
}

struct fe_sim_file *fe_sim_file_add(struct fe_sim *s, const char *filename, const char *purpose, char *data,
                                    size_t bytes)
{
    struct fe_sim_file *f = fe_xcalloc(1, sizeof(*f));
    f->id = fe_sim_new_id(s, "file-", 22);
    f->filename = fe_xstrdup(filename);
    f->purpose = fe_xstrdup(purpose);
    f->data = data;
    f->bytes = bytes;
    f->created_at = fe_sim_unix_now();
    s->store.files = fe_xreallocarray(s->store.files, s->store.n_files + 1, sizeof(*s->store.files));
    s->store.files[s->store.n_files++] = f;
    return f;
}

void fe_sim_file_create(struct fe_sim *s, const struct fe_sim_request *rq,
                        struct fe_sim_response *rs)
{
    if (!strstr(rq->content_type, "multipart/form-data")) {
        fe_sim_error(rs, 415, "invalid_request_error", NULL, NULL,
                     "Invalid Content-Type header (%s), expected multipart/form-data.",
                     rq->content_type[0] ? rq->content_type : "none");
        return;
    }
    char *boundary = fe_sim_header_param(rq->content_type, strlen(rq->content_type), "boundary");
    if (!boundary || !boundary[0]) {
        free(boundary);
        fe_sim_error(rs, 400, "invalid_request_error", NULL, NULL,
                     "multipart body without a boundary");
        return;
    }
    char *delim = fe_xasprintf("--%s", boundary);
    size_t dlen = strlen(delim);
    char *file_data = NULL, *filename = NULL, *purpose = NULL;
    size_t file_len = 0;
    const char *p = fe_sim_memfind(rq->body, rq->body_len, delim, dlen);
    const char *end = rq->body + rq->body_len;
    while (p) {
        p += dlen;
        if (end - p >= 2 && p[0] == '-' && p[1] == '-')
            break; /* closing delimiter */
        const char *hstart = fe_sim_memfind(p, (size_t)(end - p), "\r\n", 2);
        if (!hstart)
            break;
        hstart += 2;
        const char *hend = fe_sim_memfind(hstart, (size_t)(end - hstart), "\r\n\r\n", 4);
        if (!hend)
            break;
        const char *content = hend + 4;
        char *crlf_delim = fe_xasprintf("\r\n%s", delim);
        const char *next = fe_sim_memfind(content, (size_t)(end - content), crlf_delim, dlen + 2);
        free(crlf_delim);
        if (!next)
            break;
        char *name = fe_sim_header_param(hstart, (size_t)(hend - hstart), "name");
        char *fname = fe_sim_header_param(hstart, (size_t)(hend - hstart), "filename");
        size_t clen = (size_t)(next - content);
        if (name && strcmp(name, "file") == 0) {
            free(file_data);
            free(filename);
            file_data = fe_xstrndup(content, clen);
            file_len = clen;
            filename = fname ? fname : fe_xstrdup("upload");
            fname = NULL;
        } else if (name && strcmp(name, "purpose") == 0) {
            free(purpose);
            purpose = fe_xstrndup(content, clen);
        }
        free(name);
        free(fname);
        p = next + 2;
    }
    static const char *const purposes[] = {"assistants", "batch",     "fine-tune",
                                           "vision",     "user_data", "evals"};
    bool purpose_ok = false;
    for (size_t i = 0; purpose && i < FE_ARRAY_LEN(purposes); i++)
        purpose_ok |= strcmp(purpose, purposes[i]) == 0;
    if (!file_data) {
        fe_sim_error(rs, 400, "invalid_request_error", "file", NULL,
                     "Missing required parameter: 'file'.");
    } else if (!purpose) {
        fe_sim_error(rs, 400, "invalid_request_error", "purpose", NULL,
                     "Missing required parameter: 'purpose'.");
    } else if (!purpose_ok) {
        fe_sim_error(rs, 400, "invalid_request_error", "purpose", "invalid_value",
                     "Invalid value for 'purpose': '%s'.", purpose);
    } else {
        struct fe_sim_file *f = fe_sim_file_add(s, filename, purpose, file_data, file_len);
        file_data = NULL;
        fe_sim_reply_json(rs, 200, fe_sim_file_json(f));
    }
    free(file_data);
    free(filename);
    free(purpose);
    free(delim);
    free(boundary);
}

void fe_sim_file_list(struct fe_sim *s, const struct fe_sim_request *rq, struct fe_sim_response *rs)
{
    char *purpose = fe_sim_query_get(rq->query, "purpose");
    char *order = fe_sim_query_get(rq->query, "order");
    char *after = fe_sim_query_get(rq->query, "after");
    long limit = fe_sim_limit(rq->query, 10000, 10000);
    bool asc = order && strcmp(order, "asc") == 0;
    cJSON *out = cJSON_CreateObject();
    cJSON_AddStringToObject(out, "object", "list");
    cJSON *data = cJSON_AddArrayToObject(out, "data");
    bool started = !after, more = false;
    long n = 0;
    const char *first = NULL, *last = NULL;
    for (size_t k = 0; k < s->store.n_files; k++) {
        const struct fe_sim_file *f = s->store.files[asc ? k : s->store.n_files - 1 - k];
        if (!started) {
            started = strcmp(f->id, after) == 0;
            continue;
        }
        if (purpose && strcmp(purpose, f->purpose) != 0)
            continue;
        if (n == limit) {
            more = true;
            break;
        }
        cJSON_AddItemToArray(data, fe_sim_file_json(f));
        if (!first)
            first = f->id;
        last = f->id;
        n++;
    }
    if (first) {
        cJSON_AddStringToObject(out, "first_id", first);
        cJSON_AddStringToObject(out, "last_id", last);
    } else {
        cJSON_AddNullToObject(out, "first_id");
        cJSON_AddNullToObject(out, "last_id");
    }
    cJSON_AddBoolToObject(out, "has_more", more);
    fe_sim_reply_json(rs, 200, out);
    free(purpose);
    free(order);
    free(after);
}

void fe_sim_file_one(struct fe_sim *s, const struct fe_sim_request *rq, const char *id,
                     const char *tail, struct fe_sim_response *rs)
{
    size_t index;
    struct fe_sim_file *f = fe_sim_file_find(s, id, &index);
    if (!f) {
        fe_sim_error(rs, 404, "invalid_request_error", "id", "file_not_found",
                     "No such File object: %s", id);
        return;
    }
    if (strcmp(rq->method, "GET") == 0 && !tail[0]) {
        fe_sim_reply_json(rs, 200, fe_sim_file_json(f));
    } else if (strcmp(rq->method, "GET") == 0 && strcmp(tail, "/content") == 0) {
        rs->status = 200;
        rs->content_type = "application/octet-stream";
        fe_buf_add(&rs->body, f->data, f->bytes);
    } else if (strcmp(rq->method, "DELETE") == 0 && !tail[0]) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "id", f->id);
        cJSON_AddStringToObject(o, "object", "file");
        cJSON_AddBoolToObject(o, "deleted", 1);
        fe_sim_reply_json(rs, 200, o);
        memmove(&s->store.files[index], &s->store.files[index + 1],
                (s->store.n_files - index - 1) * sizeof(*s->store.files));
        s->store.n_files--;
        fe_sim_file_free(f);
    } else {
        fe_sim_error(rs, 404, "invalid_request_error", NULL, NULL, "Invalid URL (%s %s)",
                     rq->method, rq->path);
    }
}
