/* dataset.c — streaming JSONL reader for the two dataset shapes (see dataset.h). */
#include "harness/input/dataset.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness/base/buf.h"
#include "harness/base/strmap.h"
#include "harness/base/tokens.h"
#include "harness/base/util.h"

struct fe_dataset_reader {
    FILE *f;
    char *path;
    size_t line;
    struct fe_buf buf;
    struct fe_strmap ids;
};

enum fe_status fe_dataset_open(struct fe_dataset_reader **out, const char *path, struct fe_err *err)
{
    FILE *f = fopen(path, "rb");
    if (!f) /* an unreadable input is bad input (exit 3), not an aborted run */
        return fe_err_set(err, FE_EINVALID, "%s: cannot open: %s", path, strerror(errno));
    struct fe_dataset_reader *r = fe_xcalloc(1, sizeof(*r));
    r->f = f;
    r->path = fe_xstrdup(path);
    fe_buf_init(&r->buf, FE_DATASET_MAX_LINE);
    fe_strmap_init(&r->ids);
    *out = r;
    return FE_OK;
}

size_t fe_dataset_lines(const struct fe_dataset_reader *r)
{
    return r->line;
}

void fe_dataset_close(struct fe_dataset_reader *r)
{
    if (!r)
        return;
    fclose(r->f);
    free(r->path);
    fe_buf_release(&r->buf);
    fe_strmap_release(&r->ids);
    free(r);
}

/* Reads one line into r->buf without its newline. Returns 1, 0 at EOF, -1 when too long,
 * -2 when it holds a NUL byte (the rest of the line is consumed so the reader stays in step). */
static int fe_read_line(struct fe_dataset_reader *r)
{
    fe_buf_reset(&r->buf);
    char chunk[8192];
    size_t n = 0;
    bool any = false, too_long = false, nul = false;
    int c;
    while ((c = getc_unlocked(r->f)) != EOF) {
        any = true;
        if (c == '\n')
            break;
        if (c == '\0')
            nul = true;
        chunk[n++] = (char)c;
        if (n == sizeof(chunk)) {
            if (!too_long && fe_buf_add(&r->buf, chunk, n) != 0)
                too_long = true;
            n = 0;
        }
    }
    if (!any)
        return 0;
    if (!too_long && fe_buf_add(&r->buf, chunk, n) != 0)
        too_long = true;
    r->line++;
    return too_long ? -1 : nul ? -2 : 1;
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

/* Content may be a string or an array of {"type": "text", "text": ...} parts. */
static char *fe_message_content(const cJSON *content)
{
    if (cJSON_IsString(content))
        return fe_xstrdup(content->valuestring);
    if (cJSON_IsNull(content))
        return fe_xstrdup("");
    if (!cJSON_IsArray(content))
        return NULL;
    struct fe_buf b;
    fe_buf_init(&b, 0);
    const cJSON *part;
    cJSON_ArrayForEach(part, content) {
        const cJSON *text = cJSON_GetObjectItemCaseSensitive(part, "text");
        if (!cJSON_IsString(text)) {
            fe_buf_release(&b);
            return NULL;
        }
        fe_buf_adds(&b, text->valuestring);
    }
    return fe_buf_detach(&b, NULL);
}

static void fe_add_gold(struct fe_example *ex, const char *gold)
{
    ex->golds = fe_xreallocarray(ex->golds, ex->n_golds + 1, sizeof(*ex->golds));
    ex->golds[ex->n_golds++] = fe_xstrdup(gold);
}

/* Golds from a "gold"/"golds" value: string, array of strings, or structured JSON. */
static int fe_parse_golds(struct fe_example *ex, const cJSON *gold, const char *where,
                          struct fe_err *err)
{
    if (cJSON_IsString(gold)) {
        fe_add_gold(ex, gold->valuestring);
        return 0;
    }
    if (cJSON_IsArray(gold)) {
        bool all_strings = true;
        const cJSON *g;
        cJSON_ArrayForEach(g, gold) all_strings = all_strings && cJSON_IsString(g);
        if (all_strings) {
            cJSON_ArrayForEach(g, gold) fe_add_gold(ex, g->valuestring);
            return 0;
        }
    }
    if (cJSON_IsObject(gold) || cJSON_IsArray(gold) || cJSON_IsNumber(gold) || cJSON_IsBool(gold)) {
        ex->gold_json = cJSON_Duplicate(gold, true);
        char *text = cJSON_PrintUnformatted(gold);
        fe_add_gold(ex, text);
        cJSON_free(text);
        return 0;
    }
    fe_err_set(err, FE_EINVALID, "%s: field '%s': must be a string, an array of strings or a JSON value",
               where, "gold");
    return -1;
}

int fe_example_parse(const char *text, size_t len, const char *file, size_t line,
                     struct fe_example *ex, struct fe_err *err)
{
    memset(ex, 0, sizeof(*ex));
    ex->line = line;
    char where[512];
    snprintf(where, sizeof(where), "%s:%zu", file, line);
    if (memchr(text, '\0', len)) {
        fe_err_set(err, FE_EINVALID, "%s: line contains a NUL byte", where);
        return -1;
    }
    size_t bad = fe_utf8_check(text, len);
    if (bad != len) {
        fe_err_set(err, FE_EINVALID, "%s: invalid UTF-8 at byte %zu", where, bad + 1);
        return -1;
    }
    const char *end = NULL;
    cJSON *row = cJSON_ParseWithLengthOpts(text, len, &end, false);
    if (!row) {
        size_t at = end && end >= text ? (size_t)(end - text) + 1 : 1;
        fe_err_set(err, FE_EINVALID, "%s: invalid JSON near byte %zu", where, at);
        return -1;
    }
    for (const char *p = end; p < text + len; p++) {
        if (*p != ' ' && *p != '\t' && *p != '\r') {
            cJSON_Delete(row);
            fe_err_set(err, FE_EINVALID, "%s: trailing characters after the JSON value", where);
            return -1;
        }
    }
    if (!cJSON_IsObject(row)) {
        cJSON_Delete(row);
        fe_err_set(err, FE_EINVALID, "%s: a line must be a JSON object", where);
        return -1;
    }
    ex->row = row;

    const cJSON *id = cJSON_GetObjectItemCaseSensitive(row, "id");
    if (id && !cJSON_IsNull(id)) {
        ex->id = fe_dataset_id_text(id);
        if (!ex->id || !*ex->id) {
            fe_err_set(err, FE_EINVALID, "%s: field 'id': must be a non-empty string or a number", where);
            goto fail;
        }
    } else {
        ex->id = fe_xasprintf("line-%zu", line);
    }
    const cJSON *cluster = cJSON_GetObjectItemCaseSensitive(row, "cluster");
    if (cluster && !cJSON_IsNull(cluster) && !(ex->cluster = fe_dataset_id_text(cluster))) {
        fe_err_set(err, FE_EINVALID, "%s: field 'cluster': must be a string or a number", where);
        goto fail;
    }
    const cJSON *label = cJSON_GetObjectItemCaseSensitive(row, "label");
    if (label && !cJSON_IsNull(label) && !(ex->label = fe_dataset_id_text(label))) {
        fe_err_set(err, FE_EINVALID, "%s: field 'label': must be a string", where);
        goto fail;
    }

    const cJSON *messages = cJSON_GetObjectItemCaseSensitive(row, "messages");
    if (messages) {
        ex->chat = true;
        int n = cJSON_GetArraySize(messages);
        if (!cJSON_IsArray(messages) || n < 1) {
            fe_err_set(err, FE_EINVALID, "%s: field 'messages': must be a non-empty array", where);
            goto fail;
        }
        ex->messages = fe_xcalloc((size_t)n, sizeof(*ex->messages));
        int i = 0;
        const cJSON *m;
        cJSON_ArrayForEach(m, messages) {
            const cJSON *role = cJSON_GetObjectItemCaseSensitive(m, "role");
            const cJSON *content = cJSON_GetObjectItemCaseSensitive(m, "content");
            if (!cJSON_IsString(role)) {
                fe_err_set(err, FE_EINVALID, "%s: field 'messages[%d].role': missing or not a string", where, i);
                goto fail;
            }
            char *c = content ? fe_message_content(content) : NULL;
            if (!c) {
                fe_err_set(err, FE_EINVALID, "%s: field 'messages[%d].content': must be a string or text parts",
                           where, i);
                goto fail;
            }
            if (i == n - 1) {
                if (strcmp(role->valuestring, "assistant") != 0) {
                    free(c);
                    fe_err_set(err, FE_EINVALID,
                               "%s: field 'messages[%d].role': the last message must be the assistant's gold answer",
                               where, i);
                    goto fail;
                }
                fe_add_gold(ex, c);
                free(c);
            } else {
                ex->messages[i].role = fe_xstrdup(role->valuestring);
                ex->messages[i].content = c;
                ex->n_messages++;
            }
            i++;
        }
        const cJSON *golds = cJSON_GetObjectItemCaseSensitive(row, "golds");
        if (golds) {
            const cJSON *g;
            if (!cJSON_IsArray(golds)) {
                fe_err_set(err, FE_EINVALID, "%s: field 'golds': must be an array of strings", where);
                goto fail;
            }
            cJSON_ArrayForEach(g, golds) {
                if (!cJSON_IsString(g)) {
                    fe_err_set(err, FE_EINVALID, "%s: field 'golds': must be an array of strings", where);
                    goto fail;
                }
                fe_add_gold(ex, g->valuestring);
            }
        }
    } else {
        const cJSON *gold = cJSON_GetObjectItemCaseSensitive(row, "gold");
        if (!gold) {
            fe_err_set(err, FE_EINVALID, "%s: field 'gold': missing (use \"\" or [] for an unanswerable example)",
                       where);
            goto fail;
        }
        if (fe_parse_golds(ex, gold, where, err) != 0)
            goto fail;
    }
    if (ex->n_golds == 0)
        fe_add_gold(ex, "");
    return 0;
fail:
    fe_example_release(ex);
    return -1;
}

void fe_example_release(struct fe_example *ex)
{
    free(ex->id);
    for (size_t i = 0; i < ex->n_messages; i++) {
        free(ex->messages[i].role);
        free(ex->messages[i].content);
    }
    free(ex->messages);
    for (size_t i = 0; i < ex->n_golds; i++)
        free(ex->golds[i]);
    free(ex->golds);
    cJSON_Delete(ex->gold_json);
    free(ex->cluster);
    free(ex->label);
    cJSON_Delete(ex->row);
    memset(ex, 0, sizeof(*ex));
}

int fe_dataset_next(struct fe_dataset_reader *r, struct fe_example *ex, struct fe_err *err)
{
    for (;;) {
        int got = fe_read_line(r);
        if (got == 0) {
            if (ferror(r->f)) {
                fe_err_set(err, FE_EIO, "%s: read error", r->path);
                return -1;
            }
            return 0;
        }
        if (got == -1) {
            fe_err_set(err, FE_EINVALID, "%s:%zu: line longer than %u bytes", r->path, r->line,
                       FE_DATASET_MAX_LINE);
            return -1;
        }
        if (got == -2) {
            fe_err_set(err, FE_EINVALID, "%s:%zu: line contains a NUL byte", r->path, r->line);
            return -1;
        }
        const char *s = fe_buf_str(&r->buf);
        size_t len = r->buf.len;
        while (len && (s[len - 1] == '\r' || s[len - 1] == ' ' || s[len - 1] == '\t'))
            len--;
        size_t lead = strspn(s, " \t");
        if (lead >= len)
            continue; /* blank line */
        if (fe_example_parse(s, len, r->path, r->line, ex, err) != 0)
            return -1;
        if (!fe_strmap_put(&r->ids, ex->id, r->line)) {
            size_t first = 0;
            fe_strmap_get(&r->ids, ex->id, &first);
            fe_err_set(err, FE_EINVALID, "%s:%zu: field 'id': duplicate id '%s' (first on line %zu)",
                       r->path, r->line, ex->id, first);
            fe_example_release(ex);
            return -1;
        }
        return 1;
    }
}

enum fe_status fe_dataset_load(const char *path, struct fe_example **out, size_t *n,
                               struct fe_err *err)
{
    struct fe_dataset_reader *r;
    enum fe_status st = fe_dataset_open(&r, path, err);
    if (st != FE_OK)
        return st;
    struct fe_example *ex = NULL;
    size_t count = 0, alloc = 0;
    for (;;) {
        if (count == alloc) {
            alloc = alloc ? alloc * 2 : 256;
            ex = fe_xreallocarray(ex, alloc, sizeof(*ex));
        }
        int got = fe_dataset_next(r, &ex[count], err);
        if (got < 0) {
            fe_examples_free(ex, count);
            fe_dataset_close(r);
            return err->code;
        }
        if (got == 0)
            break;
        count++;
    }
    fe_dataset_close(r);
    *out = ex;
    *n = count;
    return FE_OK;
}

void fe_examples_free(struct fe_example *ex, size_t n)
{
    for (size_t i = 0; i < n; i++)
        fe_example_release(&ex[i]);
    free(ex);
}

long fe_estimate_prompt_tokens(const struct fe_message *m, size_t n)
{
    long tokens = FE_TOKENS_REPLY_PRIMER;
    for (size_t i = 0; i < n; i++)
        tokens += FE_TOKENS_PER_MESSAGE + fe_estimate_tokens(m[i].content);
    return tokens;
}
