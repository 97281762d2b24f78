/* data_row.c — see data_row.h. */
#include "harness/input/data_row.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "harness/base/util.h"

enum fe_status fe_data_lines_open(struct fe_data_lines *r, const char *path, struct fe_err *err)
{
    memset(r, 0, sizeof(*r));
    r->f = fopen(path, "rb");
    if (!r->f)
        return fe_err_set(err, FE_EIO, "%s: cannot open: %s", path, strerror(errno));
    r->path = fe_xstrdup(path);
    fe_buf_init(&r->buf, FE_DATASET_MAX_LINE);
    return FE_OK;
}

int fe_data_lines_next(struct fe_data_lines *r, struct fe_err *err)
{
    fe_buf_reset(&r->buf);
    r->too_long = r->has_nul = r->newline = false;
    char chunk[8192];
    size_t n = 0;
    bool any = false;
    int c;
    while ((c = getc_unlocked(r->f)) != EOF) {
        any = true;
        if (c == '\n') {
            r->newline = true;
            break;
        }
        if (c == '\0')
            r->has_nul = true;
        chunk[n++] = (char)c;
        if (n == sizeof(chunk)) {
            if (!r->too_long && fe_buf_add(&r->buf, chunk, n) != 0) {
                r->too_long = true;
                fe_buf_release(&r->buf);
                fe_buf_init(&r->buf, FE_DATASET_MAX_LINE);
            }
            n = 0;
        }
    }
    if (ferror(r->f)) {
        fe_err_set(err, FE_EIO, "%s: read error: %s", r->path, strerror(errno));
        return -1;
    }
    if (!any)
        return 0;
    if (!r->too_long && fe_buf_add(&r->buf, chunk, n) != 0) {
        r->too_long = true;
        fe_buf_release(&r->buf);
        fe_buf_init(&r->buf, FE_DATASET_MAX_LINE);
    }
    if (!r->buf.data)
        fe_buf_adds(&r->buf, ""); /* so buf.data is never NULL */
    r->line++;
    return 1;
}

void fe_data_lines_close(struct fe_data_lines *r)
{
    if (r->f)
        fclose(r->f);
    free(r->path);
    fe_buf_release(&r->buf);
    memset(r, 0, sizeof(*r));
}

bool fe_data_blank(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r')
            return false;
    return true;
}

cJSON *fe_data_parse_line(const char *s, size_t len, const char **why, size_t *at)
{
    *at = 0;
    size_t bad = fe_utf8_check(s, len);
    if (bad != len) {
        *why = "invalid UTF-8";
        *at = bad + 1;
        return NULL;
    }
    const char *end = NULL;
    cJSON *json = cJSON_ParseWithLengthOpts(s, len, &end, false);
    if (!json) {
        *why = "invalid JSON";
        *at = end && end >= s ? (size_t)(end - s) + 1 : 1;
        return NULL;
    }
    for (const char *p = end; p < s + len; p++) {
        if (*p != ' ' && *p != '\t' && *p != '\r') {
            cJSON_Delete(json);
            *why = "trailing characters after the JSON value";
            *at = (size_t)(p - s) + 1;
            return NULL;
        }
    }
    if (!cJSON_IsObject(json)) {
        cJSON_Delete(json);
        *why = "a line must be a JSON object";
        return NULL;
    }
    return json;
}

const char *fe_data_shape_name(enum fe_data_shape shape)
{
    static const char *const names[] = {"unknown", "chat", "dpo", "plain"};
    return (unsigned)shape < FE_SHAPE_COUNT ? names[shape] : "unknown";
}

char *fe_dataset_id_text(const cJSON *v)
{
    if (cJSON_IsString(v))
        return fe_xstrdup(v->valuestring);
    if (cJSON_IsNumber(v)) {
        if (!isfinite(v->valuedouble)) /* 1e999 parses as infinity: not an identifier */
            return NULL;
        char *s = cJSON_PrintUnformatted(v);
        char *copy = fe_xstrdup(s);
        cJSON_free(s);
        return copy;
    }
    return NULL;
}

enum fe_data_shape fe_data_shape_of(const cJSON *json)
{
    const cJSON *input = cJSON_GetObjectItemCaseSensitive(json, "input");
    if (cJSON_GetObjectItemCaseSensitive(json, "messages"))
        return FE_SHAPE_CHAT;
    if (cJSON_IsObject(input) || cJSON_GetObjectItemCaseSensitive(json, "preferred_output"))
        return FE_SHAPE_DPO;
    if (input || cJSON_GetObjectItemCaseSensitive(json, "gold"))
        return FE_SHAPE_PLAIN;
    return FE_SHAPE_UNKNOWN;
}

enum fe_content_kind fe_data_content(const cJSON *content, char **text, int *bad_part)
{
    *text = NULL;
    if (bad_part)
        *bad_part = -1;
    if (!content || cJSON_IsNull(content))
        return FE_CONTENT_NONE;
    if (cJSON_IsString(content)) {
        *text = fe_xstrdup(content->valuestring);
        return FE_CONTENT_TEXT;
    }
    if (!cJSON_IsArray(content))
        return FE_CONTENT_BAD;
    struct fe_buf b;
    fe_buf_init(&b, 0);
    fe_buf_adds(&b, "");
    const cJSON *part;
    int k = 0;
    cJSON_ArrayForEach(part, content) {
        const cJSON *type = cJSON_GetObjectItemCaseSensitive(part, "type");
        const cJSON *t = cJSON_GetObjectItemCaseSensitive(part, "text");
        if (!cJSON_IsString(type) || strcmp(type->valuestring, "text") != 0 || !cJSON_IsString(t)) {
            fe_buf_release(&b);
            if (bad_part)
                *bad_part = k;
            return FE_CONTENT_BAD_PART;
        }
        fe_buf_adds(&b, t->valuestring); /* concatenated: no separator (the API adds none) */
        k++;
    }
    *text = fe_buf_detach(&b, NULL);
    return FE_CONTENT_TEXT;
}

char *fe_data_content_text(const cJSON *content)
{
    char *text;
    fe_data_content(content, &text, NULL);
    return text;
}

/* Scalar JSON as text: strings as is, numbers and booleans printed; NULL otherwise. */
static char *scalar_text(const cJSON *v)
{
    if (cJSON_IsString(v))
        return fe_xstrdup(v->valuestring);
    if (cJSON_IsNumber(v) || cJSON_IsBool(v)) {
        char *s = cJSON_PrintUnformatted(v);
        char *copy = fe_xstrdup(s);
        cJSON_free(s);
        return copy;
    }
    return NULL;
}

static const char *role_of(const cJSON *m)
{
    const cJSON *role = cJSON_GetObjectItemCaseSensitive(m, "role");
    return cJSON_IsString(role) ? role->valuestring : "";
}

/* Collects system / last user / user text / all text from a messages array. */
static void scan_messages(const cJSON *messages, struct fe_data_row *row, struct fe_buf *users,
                          struct fe_buf *all)
{
    const cJSON *m;
    cJSON_ArrayForEach(m, messages) {
        const char *role = role_of(m);
        char *text = fe_data_content_text(cJSON_GetObjectItemCaseSensitive(m, "content"));
        if (!text)
            continue;
        if (!row->system && (strcmp(role, "system") == 0 || strcmp(role, "developer") == 0)) {
            row->system = fe_xstrdup(text);
        } else if (strcmp(role, "user") == 0) {
            free(row->user);
            row->user = fe_xstrdup(text);
            if (users->len)
                fe_buf_addch(users, '\n');
            fe_buf_adds(users, text);
        }
        if (all->len)
            fe_buf_addch(all, '\n');
        fe_buf_adds(all, text);
        free(text);
    }
}

/* The final assistant message of an array, or NULL. */
static char *last_assistant(const cJSON *messages)
{
    const cJSON *found = NULL, *m;
    cJSON_ArrayForEach(m, messages)
        found = m;
    if (!found || strcmp(role_of(found), "assistant") != 0)
        return NULL;
    return fe_data_content_text(cJSON_GetObjectItemCaseSensitive(found, "content"));
}

void fe_data_row_extract(const cJSON *json, const char *stratify_field, struct fe_data_row *row)
{
    memset(row, 0, sizeof(*row));
    struct fe_buf users, all;
    fe_buf_init(&users, 0);
    fe_buf_init(&all, 0);
    row->id = fe_dataset_id_text(cJSON_GetObjectItemCaseSensitive(json, "id"));
    row->label = fe_dataset_id_text(cJSON_GetObjectItemCaseSensitive(json, "label"));
    if (stratify_field)
        row->stratum = scalar_text(cJSON_GetObjectItemCaseSensitive(json, stratify_field));

    const cJSON *messages = cJSON_GetObjectItemCaseSensitive(json, "messages");
    const cJSON *input = cJSON_GetObjectItemCaseSensitive(json, "input");
    row->shape = fe_data_shape_of(json);
    if (row->shape == FE_SHAPE_CHAT) {
        if (cJSON_IsArray(messages)) {
            scan_messages(messages, row, &users, &all);
            row->answer = last_assistant(messages);
        }
    } else if (row->shape == FE_SHAPE_DPO) {
        const cJSON *im = cJSON_GetObjectItemCaseSensitive(input, "messages");
        if (cJSON_IsArray(im))
            scan_messages(im, row, &users, &all);
        const cJSON *pref = cJSON_GetObjectItemCaseSensitive(json, "preferred_output");
        if (cJSON_IsArray(pref))
            row->answer = last_assistant(pref);
    } else if (row->shape == FE_SHAPE_PLAIN) {
        char *in = scalar_text(input);
        if (in)
            fe_buf_adds(&users, in);
        free(in);
        const cJSON *ctx = cJSON_GetObjectItemCaseSensitive(json, "context");
        if (cJSON_IsString(ctx) && *ctx->valuestring) {
            fe_buf_addch(&users, '\n');
            fe_buf_adds(&users, ctx->valuestring);
        }
        row->user = fe_xstrdup(fe_buf_str(&users));
        const cJSON *gold = cJSON_GetObjectItemCaseSensitive(json, "gold");
        if (cJSON_IsString(gold)) {
            row->answer = fe_xstrdup(gold->valuestring);
            if (!row->label)
                row->label = fe_xstrdup(gold->valuestring);
        }
    }
    if (users.len) {
        row->prompt = fe_buf_detach(&users, NULL);
    } else if (all.len) {
        row->prompt = fe_buf_detach(&all, NULL);
    } else {
        char *text = cJSON_PrintUnformatted(json);
        row->prompt = fe_xstrdup(text);
        cJSON_free(text);
    }
    fe_buf_release(&users);
    fe_buf_release(&all);
}

void fe_data_row_release(struct fe_data_row *row)
{
    free(row->id);
    free(row->label);
    free(row->answer);
    free(row->system);
    free(row->user);
    free(row->prompt);
    free(row->stratum);
    memset(row, 0, sizeof(*row));
}

cJSON *fe_data_csv_object(char *const *header, size_t n_header, size_t header_line,
                          char *const *fields, size_t n, const char *where, struct fe_err *err)
{
    if (n != n_header) {
        fe_err_set(err, FE_EINVALID, "%s: %zu field%s, the header (line %zu) has %zu", where, n,
                   n == 1 ? "" : "s", header_line, n_header);
        return NULL;
    }
    cJSON *row = cJSON_CreateObject();
    for (size_t i = 0; i < n; i++)
        cJSON_AddItemToObject(row, header[i], cJSON_CreateString(fields[i]));
    return row;
}

bool fe_data_csv_header_bad(char *const *header, size_t n, const char **why, size_t *bad)
{
    for (size_t i = 0; i < n; i++) {
        *bad = i + 1;
        if (!*header[i]) {
            *why = "an empty column name";
            return true;
        }
        for (size_t k = 0; k < i; k++)
            if (strcmp(header[k], header[i]) == 0) {
                *why = "a repeated column name";
                return true;
            }
    }
    return false;
}

int fe_data_row_map(cJSON *row, const struct fe_field_map *map, const char *where,
                    struct fe_err *err)
{
    if (!map)
        return 0;
    const struct {
        const char *from, *to, *key;
    } pairs[] = {
        {map->id, "id", "task.id_field"},
        {map->input, "input", "task.input_field"},
        {map->gold, "gold", "task.gold_field"},
        {map->slice, "slice", "task.slice_field"},
    };
    enum { N = sizeof(pairs) / sizeof(pairs[0]) };
    cJSON *copies[N] = {0}; /* taken before any is replaced: each reads the row as it was */
    for (size_t i = 0; i < N; i++) {
        if (!pairs[i].from)
            continue;
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(row, pairs[i].from);
        if (!v) {
            fe_err_set(err, FE_EINVALID, "%s: field '%s': missing (%s)", where, pairs[i].from,
                       pairs[i].key);
            for (size_t k = 0; k < i; k++)
                cJSON_Delete(copies[k]);
            return -1;
        }
        if (strcmp(pairs[i].from, pairs[i].to) != 0)
            copies[i] = cJSON_Duplicate(v, true);
    }
    for (size_t i = 0; i < N; i++) {
        if (!copies[i])
            continue;
        cJSON_DeleteItemFromObjectCaseSensitive(row, pairs[i].to);
        cJSON_AddItemToObject(row, pairs[i].to, copies[i]);
    }
    return 0;
}
