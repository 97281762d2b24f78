/* dataset.c — streaming JSONL reader for the two dataset shapes (see dataset.h). */
#include "harness/input/dataset.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness/base/buf.h"
#include "harness/input/data_row.h"
#include "harness/base/strmap.h"
#include "harness/base/tokens.h"
#include "harness/base/util.h"

/* The reader is the shared line reader of data_row.h plus the set of ids seen. */
struct fe_dataset_reader {
    struct fe_data_lines in;
    struct fe_strmap ids;
};

enum fe_status fe_dataset_open(struct fe_dataset_reader **out, const char *path, struct fe_err *err)
{
    struct fe_dataset_reader *r = fe_xcalloc(1, sizeof(*r));
    struct fe_err open_err = {0};
    if (fe_data_lines_open(&r->in, path, &open_err) != FE_OK) {
        free(r);
        /* an unreadable input is bad input (exit 3), not an aborted run */
        return fe_err_set(err, FE_EINVALID, "%s", open_err.msg);
    }
    fe_strmap_init(&r->ids);
    *out = r;
    return FE_OK;
}

size_t fe_dataset_lines(const struct fe_dataset_reader *r)
{
    return r->in.line;
}

void fe_dataset_close(struct fe_dataset_reader *r)
{
    if (!r)
        return;
    fe_data_lines_close(&r->in);
    fe_strmap_release(&r->ids);
    free(r);
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

/* id (or "line-N"), cluster and label: the id rule of fe_dataset_id_text. */
static int fe_parse_ids(struct fe_example *ex, const cJSON *row, const char *where,
                        struct fe_err *err)
{
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(row, "id");
    if (id && !cJSON_IsNull(id)) {
        ex->id = fe_dataset_id_text(id);
        if (!ex->id || !*ex->id) {
            fe_err_set(err, FE_EINVALID, "%s: field 'id': must be a non-empty string or a number",
                       where);
            return -1;
        }
    } else {
        ex->id = fe_xasprintf("line-%zu", ex->line);
    }
    const cJSON *cluster = cJSON_GetObjectItemCaseSensitive(row, "cluster");
    if (cluster && !cJSON_IsNull(cluster) && !(ex->cluster = fe_dataset_id_text(cluster))) {
        fe_err_set(err, FE_EINVALID, "%s: field 'cluster': must be a string or a number", where);
        return -1;
    }
    const cJSON *label = cJSON_GetObjectItemCaseSensitive(row, "label");
    if (label && !cJSON_IsNull(label) && !(ex->label = fe_dataset_id_text(label))) {
        fe_err_set(err, FE_EINVALID, "%s: field 'label': must be a string", where);
        return -1;
    }
    const cJSON *slice = cJSON_GetObjectItemCaseSensitive(row, "slice");
    if (slice && !cJSON_IsNull(slice) && !(ex->slice = fe_dataset_id_text(slice))) {
        fe_err_set(err, FE_EINVALID, "%s: field 'slice': must be a string or a number", where);
        return -1;
    }
    return 0;
}

/* The text of messages[i] by the one content rule of data_row.h; NULL with err set. */
static char *fe_parse_content(const cJSON *m, int i, const char *where, struct fe_err *err)
{
    char *c = NULL;
    int part = -1;
    switch (fe_data_content(cJSON_GetObjectItemCaseSensitive(m, "content"), &c, &part)) {
    case FE_CONTENT_TEXT:
        return c;
    case FE_CONTENT_NONE:
        fe_err_set(err, FE_EINVALID,
                   "%s: field 'messages[%d].content': missing or null (an evaluation message needs "
                   "text; \"\" marks an unanswerable gold)",
                   where, i);
        return NULL;
    case FE_CONTENT_BAD_PART:
        fe_err_set(err, FE_EINVALID,
                   "%s: field 'messages[%d].content[%d]': must be {\"type\": \"text\", \"text\": ...}",
                   where, i, part);
        return NULL;
    default:
        fe_err_set(err, FE_EINVALID,
                   "%s: field 'messages[%d].content': must be a string or text parts", where, i);
        return NULL;
    }
}

/* Chat shape: every message but the last is sent; the last (the assistant's) is the gold, with
 * the alternatives of "golds". */
static int fe_parse_chat(struct fe_example *ex, const cJSON *row, const cJSON *messages,
                         const char *where, struct fe_err *err)
{
    ex->chat = true;
    int n = cJSON_GetArraySize(messages);
    if (!cJSON_IsArray(messages) || n < 1) {
        fe_err_set(err, FE_EINVALID, "%s: field 'messages': must be a non-empty array", where);
        return -1;
    }
    ex->messages = fe_xcalloc((size_t)n, sizeof(*ex->messages));
    int i = 0;
    const cJSON *m;
    cJSON_ArrayForEach(m, messages) {
        const cJSON *role = cJSON_GetObjectItemCaseSensitive(m, "role");
        if (!cJSON_IsString(role)) {
            fe_err_set(err, FE_EINVALID, "%s: field 'messages[%d].role': missing or not a string",
                       where, i);
            return -1;
        }
        if (i == n - 1 && strcmp(role->valuestring, "assistant") != 0) {
            fe_err_set(err, FE_EINVALID,
                       "%s: field 'messages[%d].role': the last message must be the assistant's "
                       "gold answer",
                       where, i);
            return -1;
        }
        char *c = fe_parse_content(m, i, where, err);
        if (!c)
            return -1;
        if (i == n - 1) {
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
    if (!golds)
        return 0;
    const cJSON *g;
    bool ok = cJSON_IsArray(golds);
    cJSON_ArrayForEach(g, golds) ok = ok && cJSON_IsString(g);
    if (!ok) {
        fe_err_set(err, FE_EINVALID, "%s: field 'golds': must be an array of strings", where);
        return -1;
    }
    cJSON_ArrayForEach(g, golds) fe_add_gold(ex, g->valuestring);
    return 0;
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
    const char *why = NULL;
    size_t at = 0;
    cJSON *row = fe_data_parse_line(text, len, &why, &at);
    if (!row) {
        if (strcmp(why, "invalid UTF-8") == 0)
            fe_err_set(err, FE_EINVALID, "%s: invalid UTF-8 at byte %zu", where, at);
        else if (strcmp(why, "invalid JSON") == 0)
            fe_err_set(err, FE_EINVALID, "%s: invalid JSON near byte %zu", where, at);
        else
            fe_err_set(err, FE_EINVALID, "%s: %s", where, why);
        return -1;
    }
    ex->row = row;
    if (fe_parse_ids(ex, row, where, err) != 0)
        goto fail;
    switch (fe_data_shape_of(row)) {
    case FE_SHAPE_CHAT:
        if (fe_parse_chat(ex, row, cJSON_GetObjectItemCaseSensitive(row, "messages"), where,
                          err) != 0)
            goto fail;
        break;
    case FE_SHAPE_DPO:
        fe_err_set(err, FE_EINVALID,
                   "%s: a preference (DPO) row is training data, not an evaluation example: "
                   "expected \"messages\" or \"input\" + \"gold\"",
                   where);
        goto fail;
    default: {
        const cJSON *gold = cJSON_GetObjectItemCaseSensitive(row, "gold");
        if (!gold) {
            fe_err_set(err, FE_EINVALID,
                       "%s: field 'gold': missing (use \"\" or [] for an unanswerable example)",
                       where);
            goto fail;
        }
        if (fe_parse_golds(ex, gold, where, err) != 0)
            goto fail;
    }
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
    free(ex->slice);
    cJSON_Delete(ex->row);
    memset(ex, 0, sizeof(*ex));
}

int fe_dataset_next(struct fe_dataset_reader *r, struct fe_example *ex, struct fe_err *err)
{
    struct fe_data_lines *in = &r->in;
    for (;;) {
        int got = fe_data_lines_next(in, err);
        if (got <= 0)
            return got;
        if (in->too_long) {
            fe_err_set(err, FE_EINVALID, "%s:%zu: line longer than %u bytes", in->path, in->line,
                       FE_DATASET_MAX_LINE);
            return -1;
        }
        if (in->has_nul) {
            fe_err_set(err, FE_EINVALID, "%s:%zu: line contains a NUL byte", in->path, in->line);
            return -1;
        }
        if (fe_data_blank(fe_buf_str(&in->buf), in->buf.len))
            continue;
        if (fe_example_parse(fe_buf_str(&in->buf), in->buf.len, in->path, in->line, ex, err) != 0)
            return -1;
        if (!fe_strmap_put(&r->ids, ex->id, in->line)) {
            size_t first = 0;
            fe_strmap_get(&r->ids, ex->id, &first);
            fe_err_set(err, FE_EINVALID,
                       "%s:%zu: field 'id': duplicate id '%s' (first on line %zu)", in->path,
                       in->line, ex->id, first);
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
