/* dataset.c — streaming JSONL reader for the two dataset shapes (see dataset.h). */
#include "harness/input/dataset.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "harness/base/buf.h"
#include "harness/base/csv.h"
#include "harness/input/data_row.h"
#include "harness/base/strmap.h"
#include "harness/base/tokens.h"
#include "harness/base/util.h"

/* The reader is the shared line reader of data_row.h (JSONL) or the CSV record reader (csv.h,
 * with the header), the field map, and the set of ids seen. */
struct fe_dataset_reader {
    bool is_csv;
    struct fe_data_lines in;
    struct fe_csv csv;
    char **header;
    size_t n_header, header_line;
    struct fe_field_map map;
    bool has_map;
    bool no_gold;    /* opts->no_gold: unlabeled rows (fteval distill) */
    bool first_done; /* the first non-blank JSONL line was read (the CSV near miss) */
    struct fe_strmap ids;
};

const char *fe_dataset_format_of(const char *path, const struct fe_dataset_opts *opts)
{
    if (opts && opts->format)
        return opts->format;
    size_t len = strlen(path);
    return len >= 4 && strcasecmp(path + len - 4, ".csv") == 0 ? "csv" : "jsonl";
}

enum fe_status fe_dataset_jsonl_only(const char *path, const char *command, struct fe_err *err)
{
    if (strcmp(fe_dataset_format_of(path, NULL), "csv") != 0)
        return FE_OK;
    return fe_err_set(err, FE_EINVALID,
                      "%s: `%s` reads JSONL, not CSV: convert it first with `fteval data to-chat %s "
                      "--config CONFIG --out FILE.jsonl` (the config's dataset_format and task.*_field "
                      "say how to read it)",
                      path, command, path);
}

/* Reads the CSV header; 0, or -1 with err set (an empty file has no header: an error). */
static int fe_dataset_csv_header(struct fe_dataset_reader *r, const char *path, struct fe_err *err)
{
    int got = fe_csv_next(&r->csv, err);
    if (got <= 0) {
        if (got == 0)
            fe_err_set(err, FE_EINVALID, "%s: an empty CSV file (the first record is the header)",
                       path);
        return -1;
    }
    r->header_line = r->csv.record_line;
    r->n_header = r->csv.n;
    r->header = r->csv.fields; /* taken over: the reader's next record starts a new array */
    r->csv.fields = NULL;
    r->csv.n = r->csv.cap = 0;
    const char *why;
    size_t col;
    if (fe_data_csv_header_bad(r->header, r->n_header, &why, &col)) {
        fe_err_set(err, FE_EINVALID, "%s:%zu: header column %zu: %s", path, r->header_line, col, why);
        return -1;
    }
    return 0;
}

enum fe_status fe_dataset_open_with(struct fe_dataset_reader **out, const char *path,
                                    const struct fe_dataset_opts *opts, struct fe_err *err)
{
    struct fe_dataset_reader *r = fe_xcalloc(1, sizeof(*r));
    fe_strmap_init(&r->ids);
    if (opts) {
        r->map = opts->map;
        r->has_map = true;
        r->no_gold = opts->no_gold;
    }
    r->is_csv = strcmp(fe_dataset_format_of(path, opts), "csv") == 0;
    struct fe_err open_err = {0};
    enum fe_status st = r->is_csv ? fe_csv_open(&r->csv, path, &open_err)
                                  : fe_data_lines_open(&r->in, path, &open_err);
    if (st != FE_OK) {
        fe_dataset_close(r);
        /* an unreadable input is bad input (exit 3), not an aborted run */
        return fe_err_set(err, FE_EINVALID, "%s", open_err.msg);
    }
    if (r->is_csv && fe_dataset_csv_header(r, path, err) != 0) {
        fe_dataset_close(r);
        return FE_EINVALID;
    }
    *out = r;
    return FE_OK;
}

enum fe_status fe_dataset_open(struct fe_dataset_reader **out, const char *path, struct fe_err *err)
{
    return fe_dataset_open_with(out, path, NULL, err);
}

size_t fe_dataset_lines(const struct fe_dataset_reader *r)
{
    return r->is_csv ? r->csv.end_line : r->in.line;
}

void fe_dataset_close(struct fe_dataset_reader *r)
{
    if (!r)
        return;
    if (r->is_csv)
        fe_csv_close(&r->csv);
    else
        fe_data_lines_close(&r->in);
    for (size_t i = 0; i < r->n_header; i++)
        free(r->header[i]);
    free(r->header);
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
                         bool no_gold, const char *where, struct fe_err *err)
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
        bool last_gold = i == n - 1 && !(no_gold && strcmp(role->valuestring, "assistant") != 0);
        if (i == n - 1 && !no_gold && strcmp(role->valuestring, "assistant") != 0) {
            fe_err_set(err, FE_EINVALID,
                       "%s: field 'messages[%d].role': the last message must be the assistant's "
                       "gold answer",
                       where, i);
            return -1;
        }
        char *c = fe_parse_content(m, i, where, err);
        if (!c)
            return -1;
        if (last_gold) { /* unlabeled (no_gold): a last user message is sent like the others */
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

/* A line that is not JSON but has a comma outside any quotes and does not start like JSON: the
 * first line of a CSV file given as JSONL. */
static bool fe_looks_like_csv(const char *s, size_t len)
{
    size_t i = 0;
    while (i < len && (s[i] == ' ' || s[i] == '\t'))
        i++;
    if (i == len || s[i] == '{' || s[i] == '[')
        return false;
    bool quoted = false;
    for (; i < len; i++) {
        if (s[i] == '"')
            quoted = !quoted;
        else if (s[i] == ',' && !quoted)
            return true;
    }
    return false;
}

/* The JSONL line as a row object, or NULL with err set. */
static cJSON *fe_example_line_row(const char *text, size_t len, const char *where, struct fe_err *err)
{
    if (memchr(text, '\0', len)) {
        fe_err_set(err, FE_EINVALID, "%s: line contains a NUL byte", where);
        return NULL;
    }
    const char *why = NULL;
    size_t at = 0;
    cJSON *row = fe_data_parse_line(text, len, &why, &at);
    if (row)
        return row;
    if (strcmp(why, "invalid UTF-8") == 0)
        fe_err_set(err, FE_EINVALID, "%s: invalid UTF-8 at byte %zu", where, at);
    else if (strcmp(why, "invalid JSON") == 0)
        fe_err_set(err, FE_EINVALID, "%s: invalid JSON near byte %zu", where, at);
    else
        fe_err_set(err, FE_EINVALID, "%s: %s", where, why);
    return NULL;
}

int fe_example_parse(const char *text, size_t len, const char *file, size_t line,
                     struct fe_example *ex, struct fe_err *err)
{
    memset(ex, 0, sizeof(*ex));
    char where[512];
    snprintf(where, sizeof(where), "%s:%zu", file, line);
    cJSON *row = fe_example_line_row(text, len, where, err);
    if (!row)
        return -1;
    return fe_example_from_row(row, NULL, file, line, ex, err);
}

static int fe_example_from_row_opts(cJSON *row, const struct fe_field_map *map, bool no_gold, const char *file,
                                    size_t line, struct fe_example *ex, struct fe_err *err);

int fe_example_from_row(cJSON *row, const struct fe_field_map *map, const char *file, size_t line,
                        struct fe_example *ex, struct fe_err *err)
{
    return fe_example_from_row_opts(row, map, false, file, line, ex, err);
}

int fe_example_from_row_with(cJSON *row, const struct fe_dataset_opts *opts, const char *file, size_t line,
                             struct fe_example *ex, struct fe_err *err)
{
    return fe_example_from_row_opts(row, opts ? &opts->map : NULL, opts && opts->no_gold, file, line, ex, err);
}

static int fe_example_from_row_opts(cJSON *row, const struct fe_field_map *map, bool no_gold, const char *file,
                                    size_t line, struct fe_example *ex, struct fe_err *err)
{
    memset(ex, 0, sizeof(*ex));
    ex->line = line;
    ex->row = row;
    char where[512];
    snprintf(where, sizeof(where), "%s:%zu", file, line);
    if (fe_data_row_map(row, map, where, err) != 0)
        goto fail;
    if (fe_parse_ids(ex, row, where, err) != 0)
        goto fail;
    switch (fe_data_shape_of(row)) {
    case FE_SHAPE_CHAT:
        if (fe_parse_chat(ex, row, cJSON_GetObjectItemCaseSensitive(row, "messages"), no_gold, where,
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
        if (!gold && no_gold)
            break; /* unlabeled row: the empty gold below */
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

/* The next row of a CSV dataset: 1 (*row set, *line its first line), 0 at the end, -1. */
static int fe_dataset_csv_row(struct fe_dataset_reader *r, cJSON **row, size_t *line, struct fe_err *err)
{
    int got = fe_csv_next(&r->csv, err);
    if (got <= 0)
        return got;
    *line = r->csv.record_line;
    char where[512];
    snprintf(where, sizeof(where), "%s:%zu", r->csv.path, *line);
    *row = fe_data_csv_object(r->header, r->n_header, r->header_line, r->csv.fields, r->csv.n, where, err);
    return *row ? 1 : -1;
}

/* The next row of a JSONL dataset: 1 (*row set, *line its line), 0 at the end, -1. */
static int fe_dataset_jsonl_row(struct fe_dataset_reader *r, cJSON **row, size_t *line, struct fe_err *err)
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
        const char *text = fe_buf_str(&in->buf);
        if (fe_data_blank(text, in->buf.len))
            continue;
        *line = in->line;
        char where[512];
        snprintf(where, sizeof(where), "%s:%zu", in->path, in->line);
        *row = fe_example_line_row(text, in->buf.len, where, err);
        bool first = !r->first_done;
        r->first_done = true;
        if (!*row && first && fe_looks_like_csv(text, in->buf.len)) {
            fe_err_clear(err);
            fe_err_set(err, FE_EINVALID,
                       "%s: this is CSV; set dataset_format: \"csv\" in the config (or name the "
                       "file .csv)",
                       where);
        }
        return *row ? 1 : -1;
    }
}

int fe_dataset_next(struct fe_dataset_reader *r, struct fe_example *ex, struct fe_err *err)
{
    cJSON *row = NULL;
    size_t line = 0;
    int got = r->is_csv ? fe_dataset_csv_row(r, &row, &line, err) : fe_dataset_jsonl_row(r, &row, &line, err);
    if (got <= 0)
        return got;
    const char *path = r->is_csv ? r->csv.path : r->in.path;
    if (fe_example_from_row_opts(row, r->has_map ? &r->map : NULL, r->no_gold, path, line, ex, err) != 0)
        return -1;
    if (!fe_strmap_put(&r->ids, ex->id, line)) {
        size_t first = 0;
        fe_strmap_get(&r->ids, ex->id, &first);
        fe_err_set(err, FE_EINVALID, "%s:%zu: field 'id': duplicate id '%s' (first on line %zu)",
                   path, line, ex->id, first);
        fe_example_release(ex);
        return -1;
    }
    return 1;
}

enum fe_status fe_dataset_load(const char *path, struct fe_example **out, size_t *n,
                               struct fe_err *err)
{
    return fe_dataset_load_with(path, NULL, out, n, err);
}

enum fe_status fe_dataset_load_with(const char *path, const struct fe_dataset_opts *opts,
                                    struct fe_example **out, size_t *n, struct fe_err *err)
{
    struct fe_dataset_reader *r;
    enum fe_status st = fe_dataset_open_with(&r, path, opts, err);
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
