/* config_keys.c — how the config loader reads JSON strictly (config_int.h): the key table
 * fe_config_objects[] (the one list of accepted keys, checked against configs/fteval.schema.json by
 * tests/config_schema_test.py), unknown keys with "did you mean", duplicate keys, the line and
 * column of a bad item (cJSON keeps none), and the typed getters every part of the loader uses.
 * Errors are set on the load's fe_err and returned as FE_EINVALID.
 */
#include "harness/base/jsonout.h"
#include "harness/run/config.h"
#include "harness/run/config_int.h"

#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness/base/buf.h"
#include "harness/base/util.h"

/* The key table: one row per strict object of the config. Adding an object (or a key) is one
 * entry here plus its checks in the loader (config*.c), and the same keys in
 * configs/fteval.schema.json (a test compares the two). Paths use "*" for each member of a named
 * map and "[]" for each element. */
#define FE_KEYS(...) ((const char *const[]){__VA_ARGS__, NULL})
const struct fe_config_object fe_config_objects[] = {
    {"(root)", FE_KEYS("$schema", "name", "dataset", "dataset_format", "task", "defaults", "providers", "arms",
                       "baseline_arm", "candidate_arm", "prices", "training", "traffic", "stats",
                       "budget", "max_error_rate", "cache", "decision", "evidence", "judges", "distill")},
    {"task", FE_KEYS("template", "metrics", "primary_metric", "schema", "pattern", "id_field",
                     "input_field", "gold_field", "slice_field", "slice_min_n")},
    {"defaults", FE_KEYS("temperature", "max_tokens", "seed", "timeout_s", "max_retries", "concurrency")},
    {"providers.*", FE_KEYS("type", "base_url", "base_url_env", "api_key_env", "cap_field",
                            "anthropic_version", "path", "headers", "extra_body", "rpm", "tpm",
                            "concurrency", "max_wait_s", "endpoint", "api_version", "token_env",
                            "region", "batch", "batch_max_requests", "batch_max_bytes", "batch_poll_s",
                            "stream", "first_token_timeout_s")},
    {"arms[]", FE_KEYS("name", "provider", "model", "finetune_job", "checkpoints", "system", "few_shot",
                       "template", "temperature", "max_tokens", "seed", "timeout_s", "max_retries",
                       "extra_body", "price_model", "stream", "first_token_timeout_s")},
    {"judges.*", FE_KEYS("type", "provider", "model", "prompt", "scale", "pass_at", "against", "swap")},
    {"prices", FE_KEYS("currency", "unit", "notes", "models")},
    {"prices.models.*", fe_price_row_keys},
    {"training", FE_KEYS("cost_usd", "trained_tokens")},
    {"traffic", FE_KEYS("requests_per_month")},
    {"stats", FE_KEYS("resamples", "alpha", "seed", "correction", "family")},
    {"budget", FE_KEYS("max_usd")},
    {"distill", FE_KEYS("teacher", "student_format", "heldout", "validation_fraction", "max_output_chars", "epochs",
                          "student_model", "judge", "min_score")},
    {"distill.student_format", FE_KEYS("system", "template")},
    {"decision", FE_KEYS("margin", "min_relative_saving", "max_error_rate", "distill_report")},
    {"evidence", FE_KEYS("expert_reviewed", "human_ratings", "data_check", "monitoring", "rag_tried")},
    {NULL, NULL},
};
#undef FE_KEYS

enum fe_status fe_bad(struct fe_cfg *k, const char *path, const char *fmt, ...)
{
    char msg[700];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    return fe_err_set(k->err, FE_EINVALID, "%s: %s: %s", k->c->path, path, msg);
}

/* ---- positions: cJSON keeps none, so the tree path from the root to an item is replayed over
 * the text (which cJSON accepted, so a forgiving scanner suffices). ---- */

#define FE_MAX_DEPTH 64

static bool fe_tree_path(const cJSON *node, const cJSON *item, int *idx, int depth, int *out_depth)
{
    if (node == item) {
        *out_depth = depth;
        return true;
    }
    if (depth == FE_MAX_DEPTH || !(cJSON_IsObject(node) || cJSON_IsArray(node)))
        return false;
    int i = 0;
    for (const cJSON *ch = node->child; ch; ch = ch->next, i++) {
        idx[depth] = i;
        if (fe_tree_path(ch, item, idx, depth + 1, out_depth))
            return true;
    }
    return false;
}

/* Whitespace as cJSON skips it: every byte up to the space. */
static bool fe_scan_is_ws(char ch)
{
    return (unsigned char)ch <= 32;
}

static const char *fe_scan_ws(const char *p, const char *end)
{
    while (p < end && fe_scan_is_ws(*p))
        p++;
    return p;
}

static const char *fe_scan_string(const char *p, const char *end)
{
    for (p++; p < end && *p != '"'; p++)
        if (*p == '\\' && p + 1 < end)
            p++;
    return p < end ? p + 1 : end;
}

static const char *fe_scan_value(const char *p, const char *end)
{
    if (p < end && *p == '"')
        return fe_scan_string(p, end);
    if (p < end && (*p == '{' || *p == '[')) {
        int depth = 0;
        while (p < end) {
            if (*p == '"') {
                p = fe_scan_string(p, end);
                continue;
            }
            if (*p == '{' || *p == '[')
                depth++;
            else if ((*p == '}' || *p == ']') && --depth == 0)
                return p + 1;
            p++;
        }
        return end;
    }
    while (p < end && *p != ',' && *p != '}' && *p != ']' && !fe_scan_is_ws(*p))
        p++;
    return p;
}

/* The position of the member (its key) or element idx[0..depth) below the root, or NULL. */
static const char *fe_scan_to(const char *p, const char *end, const int *idx, int depth)
{
    p = fe_scan_ws(p, end);
    for (int d = 0; d < depth; d++) {
        if (p >= end || (*p != '{' && *p != '['))
            return NULL;
        bool obj = *p == '{';
        p++;
        for (int i = 0;; i++) {
            p = fe_scan_ws(p, end);
            const char *at = p;
            if (obj) {
                p = fe_scan_ws(fe_scan_string(p, end), end);
                if (p < end && *p == ':')
                    p++;
                p = fe_scan_ws(p, end);
            }
            if (i == idx[d]) {
                if (d == depth - 1)
                    return at;
                break;
            }
            p = fe_scan_ws(fe_scan_value(p, end), end);
            if (p >= end || *p != ',')
                return NULL;
            p++;
        }
    }
    return p;
}

/* Line and column (1-based, bytes) of item in the config text; false when unknown. */
static bool fe_position(const struct fe_cfg *k, const cJSON *item, size_t *line, size_t *col)
{
    for (size_t i = 0; i < k->n_pos && item; i++) { /* a YAML config: its parser kept them */
        if (k->pos[i].item == item) {
            *line = k->pos[i].line;
            *col = k->pos[i].col;
            return true;
        }
    }
    int idx[FE_MAX_DEPTH], depth = 0;
    if (!k->text || !item || !fe_tree_path(k->c->json, item, idx, 0, &depth))
        return false;
    const char *start = k->text, *end = k->text + k->len;
    if (k->len >= 3 && memcmp(start, "\xEF\xBB\xBF", 3) == 0) /* cJSON skips a UTF-8 BOM too */
        start += 3;
    const char *at = fe_scan_to(start, end, idx, depth);
    if (!at)
        return false;
    *line = 1;
    *col = 1;
    for (const char *p = k->text; p < at; p++) {
        if (*p == '\n')
            (*line)++, *col = 1;
        else
            (*col)++;
    }
    return true;
}

/* Like fe_bad, naming item's line and column too: "c.json:3:5: arms[0].seed: ...". */
enum fe_status fe_bad_at(struct fe_cfg *k, const cJSON *item, const char *path,
                         const char *fmt, ...)
{
    char msg[700];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    size_t line, col;
    if (!fe_position(k, item, &line, &col))
        return fe_err_set(k->err, FE_EINVALID, "%s: %s: %s", k->c->path, path, msg);
    return fe_err_set(k->err, FE_EINVALID, "%s:%zu:%zu: %s: %s", k->c->path, line, col, path, msg);
}

/* ---- strict keys ---- */

static bool fe_key_listed(const char *const *keys, const char *key)
{
    for (size_t i = 0; keys[i]; i++)
        if (strcmp(keys[i], key) == 0)
            return true;
    return false;
}

static const struct fe_config_object *fe_object_row(const char *object)
{
    for (size_t i = 0; fe_config_objects[i].path; i++)
        if (strcmp(fe_config_objects[i].path, object) == 0)
            return &fe_config_objects[i];
    return NULL;
}

/* The error for an unknown key: the nearest accepted key when it is close (a typo), else the
 * objects where the key does belong, else the accepted keys. */
static enum fe_status fe_unknown_key(struct fe_cfg *k, const cJSON *item,
                                     const struct fe_config_object *row, const char *where)
{
    const char *key = item->string, *best = NULL;
    size_t best_d = SIZE_MAX;
    for (size_t i = 0; row->keys[i]; i++) {
        size_t d = fe_edit_distance(key, row->keys[i]);
        if (d < best_d)
            best_d = d, best = row->keys[i];
    }
    /* about one edit per three letters: "budgt" -> "budget", "max_token" -> "max_tokens", but
     * not "judges" -> "budget" (two edits in six letters) */
    size_t len = strlen(key), limit = len < 7 ? 1 : len < 10 ? 2 : 3;
    if (!(best && best_d <= limit) && len >= 4)
        for (size_t i = 0; row->keys[i]; i++) /* a cut-off key: "api_key" -> "api_key_env" */
            if (strncmp(row->keys[i], key, len) == 0) {
                best = row->keys[i];
                best_d = 0;
                break;
            }
    if (best && best_d <= limit)
        return fe_bad_at(k, item, where, "unknown key; did you mean \"%s\"?", best);
    struct fe_buf b;
    fe_buf_init(&b, 0);
    for (size_t i = 0; fe_config_objects[i].path; i++) {
        const struct fe_config_object *o = &fe_config_objects[i];
        if (o != row && fe_key_listed(o->keys, key))
            fe_buf_addf(&b, "%s%s", b.len ? ", " : "",
                        strcmp(o->path, "(root)") == 0 ? "the top level" : o->path);
    }
    enum fe_status st;
    if (b.len) {
        st = fe_bad_at(k, item, where, "unknown key here (\"%s\" is a key of %s)", key, fe_buf_str(&b));
    } else {
        for (size_t i = 0; row->keys[i]; i++)
            fe_buf_addf(&b, "%s%s", i ? ", " : "", row->keys[i]);
        st = fe_bad_at(k, item, where, "unknown key (accepted: %s)", fe_buf_str(&b));
    }
    fe_buf_release(&b);
    return st;
}

void fe_member_path(char *out, size_t size, const char *path, const char *key)
{
    snprintf(out, size, "%s%s%s", path, *path ? "." : "", key);
}

/* A key twice in one object: cJSON reads the first, most other readers (editors, Python) the
 * last, so the two would disagree on what the config says. */
enum fe_status fe_check_unique(struct fe_cfg *k, const cJSON *o, const char *path)
{
    if (!cJSON_IsObject(o))
        return FE_OK;
    for (const cJSON *ch = o->child; ch; ch = ch->next)
        for (const cJSON *prev = o->child; prev != ch; prev = prev->next)
            if (strcmp(prev->string, ch->string) == 0) {
                char where[400];
                fe_member_path(where, sizeof(where), path, ch->string);
                return fe_bad_at(k, ch, where, "duplicate key");
            }
    return FE_OK;
}

/* Rejects any key of o (at JSON path path, "" for the root) that the row object of
 * fe_config_objects does not list, and duplicate keys. o NULL is fine (an absent object). */
enum fe_status fe_check_keys(struct fe_cfg *k, const cJSON *o, const char *object,
                                    const char *path)
{
    const struct fe_config_object *row = fe_object_row(object);
    if (!row)
        return fe_err_set(k->err, FE_EINTERNAL, "config: no key table for '%s'", object);
    if (!cJSON_IsObject(o))
        return FE_OK;
    if (fe_check_unique(k, o, path) != FE_OK)
        return FE_EINVALID;
    for (const cJSON *ch = o->child; ch; ch = ch->next) {
        if (fe_key_listed(row->keys, ch->string))
            continue;
        char where[400];
        fe_member_path(where, sizeof(where), path, ch->string);
        return fe_unknown_key(k, ch, row, where);
    }
    return FE_OK;
}

/* Optional string field: absent/null -> *out NULL. */
enum fe_status fe_opt_string(struct fe_cfg *k, const cJSON *o, const char *name,
                                    const char *path, const char **out)
{
    const cJSON *v = fe_json_get(o, name);
    *out = NULL;
    if (!v || cJSON_IsNull(v))
        return FE_OK;
    if (!cJSON_IsString(v))
        return fe_bad_at(k, v, path, "must be a string");
    *out = v->valuestring;
    return FE_OK;
}

enum fe_status fe_req_string(struct fe_cfg *k, const cJSON *o, const char *name,
                                    const char *path, const char **out)
{
    if (fe_opt_string(k, o, name, path, out) != FE_OK)
        return FE_EINVALID;
    if (!*out || !**out)
        return fe_bad(k, path, "missing");
    return FE_OK;
}

/* Optional number in [lo, hi]; absent leaves *out unchanged and *present false. */
enum fe_status fe_opt_number(struct fe_cfg *k, const cJSON *o, const char *name,
                                    const char *path, double lo, double hi, double *out,
                                    bool *present)
{
    const cJSON *v = fe_json_get(o, name);
    if (present)
        *present = false;
    if (!v || cJSON_IsNull(v))
        return FE_OK;
    if (!cJSON_IsNumber(v))
        return fe_bad_at(k, v, path, "must be a number");
    if (!(v->valuedouble >= lo && v->valuedouble <= hi))
        return fe_bad_at(k, v, path, "must be between %g and %g", lo, hi);
    *out = v->valuedouble;
    if (present)
        *present = true;
    return FE_OK;
}

/* Optional whole number in [lo, hi]: a count, a seed or a token cap is never fractional. */
enum fe_status fe_opt_int(struct fe_cfg *k, const cJSON *o, const char *name, const char *path,
                                 double lo, double hi, double *out, bool *present)
{
    double v = *out;
    bool has;
    if (fe_opt_number(k, o, name, path, lo, hi, &v, &has) != FE_OK)
        return FE_EINVALID;
    if (present)
        *present = has;
    if (has && v != floor(v))
        return fe_bad_at(k, fe_json_get(o, name), path, "must be a whole number");
    *out = v;
    return FE_OK;
}

/* Optional true/false; absent leaves *out unchanged. */
enum fe_status fe_opt_bool(struct fe_cfg *k, const cJSON *o, const char *name, const char *path,
                                  bool *out)
{
    const cJSON *v = fe_json_get(o, name);
    if (!v || cJSON_IsNull(v))
        return FE_OK;
    if (!cJSON_IsBool(v))
        return fe_bad_at(k, v, path, "must be true or false");
    *out = cJSON_IsTrue(v);
    return FE_OK;
}

enum fe_status fe_opt_object(struct fe_cfg *k, const cJSON *o, const char *name,
                                    const char *path, const cJSON **out)
{
    const cJSON *v = fe_json_get(o, name);
    *out = NULL;
    if (!v || cJSON_IsNull(v))
        return FE_OK;
    if (!cJSON_IsObject(v))
        return fe_bad_at(k, v, path, "must be an object");
    *out = v;
    return FE_OK;
}

/* An optional object checked against its row of fe_config_objects; the JSON path is the
 * object name itself (a member of the root). */
enum fe_status fe_opt_strict(struct fe_cfg *k, const cJSON *root, const char *name,
                                    const cJSON **out)
{
    if (fe_opt_object(k, root, name, name, out) != FE_OK)
        return FE_EINVALID;
    return fe_check_keys(k, *out, name, name);
}
