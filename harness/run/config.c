/* config.c — see config.h. Validation reports the first problem with its JSON path. */
#include "harness/run/config.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "harness/base/buf.h"
#include "harness/base/log.h"
#include "harness/input/template.h"
#include "harness/base/util.h"
#include "metrics/metric.h"

#define FE_MAX_PROMPT_FILE (16u * 1024 * 1024)

/* The key table: one row per strict object of the config. Adding an object (or a key) is one
 * entry here plus its checks below, and the same keys in configs/fteval.schema.json (a test
 * compares the two). Paths use "*" for each member of a named map and "[]" for each element. */
#define FE_KEYS(...) ((const char *const[]){__VA_ARGS__, NULL})
const struct fe_config_object fe_config_objects[] = {
    {"(root)", FE_KEYS("$schema", "name", "dataset", "task", "defaults", "providers", "arms",
                       "baseline_arm", "candidate_arm", "prices", "training", "traffic", "stats",
                       "budget", "max_error_rate", "cache", "decision", "evidence")},
    {"task", FE_KEYS("template", "metrics", "primary_metric")},
    {"defaults", FE_KEYS("temperature", "max_tokens", "seed", "timeout_s", "max_retries", "concurrency")},
    {"providers.*", FE_KEYS("type", "base_url", "base_url_env", "api_key_env", "cap_field",
                            "anthropic_version", "path", "headers", "extra_body", "rpm", "tpm",
                            "concurrency", "max_wait_s")},
    {"arms[]", FE_KEYS("name", "provider", "model", "finetune_job", "checkpoints", "system", "few_shot",
                       "template", "temperature", "max_tokens", "seed", "timeout_s", "max_retries",
                       "extra_body")},
    {"prices", FE_KEYS("currency", "unit", "notes", "models")},
    {"prices.models.*", fe_price_row_keys},
    {"training", FE_KEYS("cost_usd", "trained_tokens")},
    {"traffic", FE_KEYS("requests_per_month")},
    {"stats", FE_KEYS("resamples", "alpha", "seed", "correction", "family")},
    {"budget", FE_KEYS("max_usd")},
    {"decision", FE_KEYS("margin", "min_relative_saving", "max_error_rate")},
    {"evidence", FE_KEYS("expert_reviewed", "human_ratings", "data_check", "monitoring", "rag_tried")},
    {NULL, NULL},
};
#undef FE_KEYS

struct fe_cfg {
    struct fe_config *c;
    struct fe_err *err;
    const char *text; /* the config's text, to name the line of a bad key or value */
    size_t len;
    unsigned flags;   /* enum fe_config_flags */
};

static enum fe_status fe_bad(struct fe_cfg *k, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static enum fe_status fe_bad(struct fe_cfg *k, const char *path, const char *fmt, ...)
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
static enum fe_status fe_bad_at(struct fe_cfg *k, const cJSON *item, const char *path,
                                const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static enum fe_status fe_bad_at(struct fe_cfg *k, const cJSON *item, const char *path,
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

static void fe_member_path(char *out, size_t size, const char *path, const char *key)
{
    snprintf(out, size, "%s%s%s", path, *path ? "." : "", key);
}

/* A key twice in one object: cJSON reads the first, most other readers (editors, Python) the
 * last, so the two would disagree on what the config says. */
static enum fe_status fe_check_unique(struct fe_cfg *k, const cJSON *o, const char *path)
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
static enum fe_status fe_check_keys(struct fe_cfg *k, const cJSON *o, const char *object,
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

static const cJSON *fe_field(const cJSON *o, const char *name)
{
    return cJSON_GetObjectItemCaseSensitive(o, name);
}

/* Optional string field: absent/null -> *out NULL. */
static enum fe_status fe_opt_string(struct fe_cfg *k, const cJSON *o, const char *name,
                                    const char *path, const char **out)
{
    const cJSON *v = fe_field(o, name);
    *out = NULL;
    if (!v || cJSON_IsNull(v))
        return FE_OK;
    if (!cJSON_IsString(v))
        return fe_bad_at(k, v, path, "must be a string");
    *out = v->valuestring;
    return FE_OK;
}

static enum fe_status fe_req_string(struct fe_cfg *k, const cJSON *o, const char *name,
                                    const char *path, const char **out)
{
    if (fe_opt_string(k, o, name, path, out) != FE_OK)
        return FE_EINVALID;
    if (!*out || !**out)
        return fe_bad(k, path, "missing");
    return FE_OK;
}

/* Optional number in [lo, hi]; absent leaves *out unchanged and *present false. */
static enum fe_status fe_opt_number(struct fe_cfg *k, const cJSON *o, const char *name,
                                    const char *path, double lo, double hi, double *out,
                                    bool *present)
{
    const cJSON *v = fe_field(o, name);
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
static enum fe_status fe_opt_int(struct fe_cfg *k, const cJSON *o, const char *name, const char *path,
                                 double lo, double hi, double *out, bool *present)
{
    double v = *out;
    bool has;
    if (fe_opt_number(k, o, name, path, lo, hi, &v, &has) != FE_OK)
        return FE_EINVALID;
    if (present)
        *present = has;
    if (has && v != floor(v))
        return fe_bad_at(k, fe_field(o, name), path, "must be a whole number");
    *out = v;
    return FE_OK;
}

/* Optional true/false; absent leaves *out unchanged. */
static enum fe_status fe_opt_bool(struct fe_cfg *k, const cJSON *o, const char *name, const char *path,
                                  bool *out)
{
    const cJSON *v = fe_field(o, name);
    if (!v || cJSON_IsNull(v))
        return FE_OK;
    if (!cJSON_IsBool(v))
        return fe_bad_at(k, v, path, "must be true or false");
    *out = cJSON_IsTrue(v);
    return FE_OK;
}

static enum fe_status fe_opt_object(struct fe_cfg *k, const cJSON *o, const char *name,
                                    const char *path, const cJSON **out)
{
    const cJSON *v = fe_field(o, name);
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
static enum fe_status fe_opt_strict(struct fe_cfg *k, const cJSON *root, const char *name,
                                    const cJSON **out)
{
    if (fe_opt_object(k, root, name, name, out) != FE_OK)
        return FE_EINVALID;
    return fe_check_keys(k, *out, name, name);
}

/* Reads a prompt file; records its sha256. */
static char *fe_read_prompt_file(struct fe_cfg *k, const char *path, const char *json_path,
                                 char sha[65])
{
    size_t len;
    char *text = fe_read_file(path, FE_MAX_PROMPT_FILE, &len);
    if (!text) {
        fe_bad(k, json_path, "cannot read '%s': %s", path, strerror(errno));
        return NULL;
    }
    if (fe_utf8_check(text, len) != len || strlen(text) != len) {
        fe_bad(k, json_path, "'%s' is not valid UTF-8 text", path);
        free(text);
        return NULL;
    }
    fe_sha256_hex(text, len, sha);
    return text;
}

static void fe_add_message(struct fe_message **m, size_t *n, const char *role, const char *content)
{
    *m = fe_xreallocarray(*m, *n + 1, sizeof(**m));
    (*m)[*n].role = fe_xstrdup(role);
    (*m)[*n].content = fe_xstrdup(content);
    (*n)++;
}

void fe_messages_free(struct fe_message *m, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(m[i].role);
        free(m[i].content);
    }
    free(m);
}

/* Few-shot rows in either dataset shape become user/assistant pairs. */
static enum fe_status fe_few_shot_row(struct fe_cfg *k, struct fe_arm_conf *arm, const char *tmpl,
                                      const cJSON *row, const char *where)
{
    char *text = cJSON_PrintUnformatted(row);
    struct fe_example ex;
    struct fe_err perr = {0};
    int rc = fe_example_parse(text, strlen(text), where, 0, &ex, &perr);
    cJSON_free(text);
    if (rc != 0)
        return fe_bad(k, where, "not a dataset row: %s", perr.msg);
    if (ex.chat) {
        for (size_t i = 0; i < ex.n_messages; i++)
            if (strcmp(ex.messages[i].role, "system") != 0 && strcmp(ex.messages[i].role, "developer") != 0)
                fe_add_message(&arm->few_shot, &arm->n_few_shot, ex.messages[i].role, ex.messages[i].content);
    } else {
        char *user = fe_template_render(tmpl, ex.row, &perr);
        if (!user) {
            fe_example_release(&ex);
            return fe_bad(k, where, "%s", perr.msg);
        }
        fe_add_message(&arm->few_shot, &arm->n_few_shot, "user", user);
        free(user);
    }
    fe_add_message(&arm->few_shot, &arm->n_few_shot, "assistant", ex.golds[0]);
    fe_example_release(&ex);
    return FE_OK;
}

static enum fe_status fe_load_few_shot(struct fe_cfg *k, struct fe_arm_conf *arm, const cJSON *v,
                                       const char *path)
{
    if (!v || cJSON_IsNull(v))
        return FE_OK;
    if (cJSON_IsArray(v)) {
        arm->few_shot_source = fe_xstrdup("inline");
        char *text = cJSON_PrintUnformatted(v);
        fe_sha256_hex(text, strlen(text), arm->few_shot_sha256);
        cJSON_free(text);
        int i = 0;
        const cJSON *row;
        cJSON_ArrayForEach(row, v) {
            char where[256];
            snprintf(where, sizeof(where), "%s[%d]", path, i++);
            if (fe_few_shot_row(k, arm, arm->template, row, where) != FE_OK)
                return FE_EINVALID;
        }
        return FE_OK;
    }
    if (!cJSON_IsString(v))
        return fe_bad(k, path, "must be an array of examples or a JSONL file path");
    const char *rel = v->valuestring[0] == '@' ? v->valuestring + 1 : v->valuestring;
    char *file = fe_path_relative_to(k->c->path, rel);
    arm->few_shot_source = file;
    if (fe_sha256_file(file, arm->few_shot_sha256) != 0)
        return fe_bad(k, path, "cannot read '%s': %s", file, strerror(errno));
    struct fe_example *rows = NULL;
    size_t n = 0;
    struct fe_err derr = {0};
    if (fe_dataset_load(file, &rows, &n, &derr) != FE_OK)
        return fe_bad(k, path, "%s", derr.msg);
    enum fe_status st = FE_OK;
    for (size_t i = 0; i < n && st == FE_OK; i++) {
        char where[512];
        snprintf(where, sizeof(where), "%s:%zu", file, rows[i].line);
        st = fe_few_shot_row(k, arm, arm->template, rows[i].row, where);
    }
    fe_examples_free(rows, n);
    return st;
}

/* headers is a free-form map of header names to string values; a value that is not a string
 * would be dropped, and CR/LF or ':' would forge other headers. */
static enum fe_status fe_check_headers(struct fe_cfg *k, const cJSON *headers, const char *path)
{
    if (fe_check_unique(k, headers, path) != FE_OK)
        return FE_EINVALID;
    const cJSON *h;
    cJSON_ArrayForEach(h, headers) {
        char where[500];
        fe_member_path(where, sizeof(where), path, h->string);
        if (!*h->string || strpbrk(h->string, ":\r\n \t"))
            return fe_bad_at(k, h, where, "not a valid header name");
        if (!cJSON_IsString(h))
            return fe_bad_at(k, h, where, "must be a string");
        if (strpbrk(h->valuestring, "\r\n"))
            return fe_bad_at(k, h, where, "must not contain a line break");
    }
    return FE_OK;
}

static enum fe_status fe_load_providers(struct fe_cfg *k, const cJSON *providers)
{
    struct fe_config *c = k->c;
    if (providers && !cJSON_IsNull(providers) && !cJSON_IsObject(providers))
        return fe_bad_at(k, providers, "providers", "must be an object of named providers");
    if (!cJSON_IsObject(providers) || !providers->child)
        return fe_bad(k, "providers", "missing (an object of named providers)");
    if (fe_check_unique(k, providers, "providers") != FE_OK)
        return FE_EINVALID;
    c->n_providers = (size_t)cJSON_GetArraySize(providers);
    c->providers = fe_xcalloc(c->n_providers, sizeof(*c->providers));
    size_t i = 0;
    const cJSON *p;
    cJSON_ArrayForEach(p, providers) {
        struct fe_provider_entry *e = &c->providers[i++];
        char path[300];
        snprintf(path, sizeof(path), "providers.%s", p->string);
        e->conf.name = p->string;
        if (!cJSON_IsObject(p))
            return fe_bad_at(k, p, path, "must be an object");
        if (fe_check_keys(k, p, "providers.*", path) != FE_OK)
            return FE_EINVALID;
        char sub[400];
        snprintf(sub, sizeof(sub), "%s.type", path);
        if (fe_req_string(k, p, "type", sub, &e->conf.type) != FE_OK)
            return FE_EINVALID;
        e->ops = fe_provider_find(e->conf.type);
        if (!e->ops) {
            struct fe_buf known;
            fe_buf_init(&known, 0);
            for (size_t j = 0; fe_providers[j]; j++)
                fe_buf_addf(&known, "%s%s", j ? ", " : "", fe_providers[j]->name);
            fe_bad(k, sub, "unknown provider type '%s' (known: %s)", e->conf.type, fe_buf_str(&known));
            fe_buf_release(&known);
            return FE_EINVALID;
        }
        const char *s;
        snprintf(sub, sizeof(sub), "%s.base_url_env", path);
        const char *url_env;
        if (fe_opt_string(k, p, "base_url_env", sub, &url_env) != FE_OK)
            return FE_EINVALID;
        snprintf(sub, sizeof(sub), "%s.base_url", path);
        if (fe_opt_string(k, p, "base_url", sub, &s) != FE_OK)
            return FE_EINVALID;
        if (url_env && getenv(url_env) && *getenv(url_env)) /* e.g. a simulator on a free port */
            s = getenv(url_env);
        if (e->ops->caps & FE_CAP_HTTP) {
            if (!s || !*s)
                return fe_bad(k, sub, "missing");
            if (strncmp(s, "http://", 7) != 0 && strncmp(s, "https://", 8) != 0)
                return fe_bad(k, sub, "must start with http:// or https://");
            e->base_url = fe_xstrdup(s);
            size_t len = strlen(e->base_url);
            while (len && e->base_url[len - 1] == '/')
                e->base_url[--len] = '\0';
            e->conf.base_url = e->base_url;
        }
        snprintf(sub, sizeof(sub), "%s.api_key_env", path);
        if (fe_opt_string(k, p, "api_key_env", sub, &s) != FE_OK)
            return FE_EINVALID;
        e->api_key_env = fe_xstrdup(s);
        snprintf(sub, sizeof(sub), "%s.cap_field", path);
        if (fe_opt_string(k, p, "cap_field", sub, &e->conf.cap_field) != FE_OK)
            return FE_EINVALID;
        if (e->conf.cap_field && strcmp(e->conf.cap_field, "max_tokens") != 0 &&
            strcmp(e->conf.cap_field, "max_completion_tokens") != 0)
            return fe_bad(k, sub, "must be \"max_tokens\" or \"max_completion_tokens\"");
        snprintf(sub, sizeof(sub), "%s.anthropic_version", path);
        if (fe_opt_string(k, p, "anthropic_version", sub, &e->conf.anthropic_version) != FE_OK)
            return FE_EINVALID;
        snprintf(sub, sizeof(sub), "%s.path", path);
        if (fe_opt_string(k, p, "path", sub, &s) != FE_OK)
            return FE_EINVALID;
        if (s) {
            e->path = fe_path_relative_to(c->path, s);
            e->conf.path = e->path;
        } else if (e->ops->caps & FE_CAP_OFFLINE) {
            return fe_bad(k, sub, "missing (the recorded results to replay)");
        }
        snprintf(sub, sizeof(sub), "%s.headers", path);
        if (fe_opt_object(k, p, "headers", sub, &e->conf.headers) != FE_OK ||
            fe_check_headers(k, e->conf.headers, sub) != FE_OK)
            return FE_EINVALID;
        snprintf(sub, sizeof(sub), "%s.extra_body", path);
        if (fe_opt_object(k, p, "extra_body", sub, &e->conf.extra_body) != FE_OK ||
            fe_check_unique(k, e->conf.extra_body, sub) != FE_OK)
            return FE_EINVALID;
        double d = 0;
        snprintf(sub, sizeof(sub), "%s.rpm", path);
        if (fe_opt_number(k, p, "rpm", sub, 0, 1e9, &e->rpm, NULL) != FE_OK)
            return FE_EINVALID;
        snprintf(sub, sizeof(sub), "%s.tpm", path);
        if (fe_opt_number(k, p, "tpm", sub, 0, 1e12, &e->tpm, NULL) != FE_OK)
            return FE_EINVALID;
        snprintf(sub, sizeof(sub), "%s.concurrency", path);
        if (fe_opt_int(k, p, "concurrency", sub, 1, 100000, &d, NULL) != FE_OK)
            return FE_EINVALID;
        e->concurrency = (long)d;
        e->max_wait_s = 120;
        snprintf(sub, sizeof(sub), "%s.max_wait_s", path);
        if (fe_opt_number(k, p, "max_wait_s", sub, 0, 31536000, &e->max_wait_s, NULL) != FE_OK)
            return FE_EINVALID;
    }
    return FE_OK;
}

static struct fe_provider_entry *fe_find_provider(struct fe_config *c, const char *name)
{
    for (size_t i = 0; i < c->n_providers; i++)
        if (strcmp(c->providers[i].conf.name, name) == 0)
            return &c->providers[i];
    return NULL;
}

struct fe_defaults {
    bool has_temperature;
    double temperature, max_tokens, seed, timeout_s, max_retries;
    bool has_seed;
};

/* A literal system prompt that is the name of an existing file (relative to the config, as
 * "@file" would be) almost surely lost its '@': the model would get the file name as its
 * instructions. A warning, not an error: the text may be meant. */
static void fe_warn_system_file(struct fe_cfg *k, const char *json_path, const char *text)
{
    if (!*text || strlen(text) > 4096 || strchr(text, '\n'))
        return;
    char *file = fe_path_relative_to(k->c->path, text);
    struct stat st;
    if (stat(file, &st) == 0 && S_ISREG(st.st_mode))
        fe_warn("%s: %s: \"%s\" is the name of an existing file but is sent as literal text; "
                "write \"@%s\" to send the file's contents", k->c->path, json_path, text, text);
    free(file);
}

static enum fe_status fe_load_arm(struct fe_cfg *k, const cJSON *a, size_t i,
                                  const struct fe_defaults *d, struct fe_arm_conf *arm)
{
    struct fe_config *c = k->c;
    char path[64], sub[128];
    snprintf(path, sizeof(path), "arms[%zu]", i);
    if (!cJSON_IsObject(a))
        return fe_bad_at(k, a, path, "must be an object");
    if (fe_check_keys(k, a, "arms[]", path) != FE_OK)
        return FE_EINVALID;
    const char *s;
    snprintf(sub, sizeof(sub), "%s.name", path);
    if (fe_req_string(k, a, "name", sub, &s) != FE_OK)
        return FE_EINVALID;
    for (const char *p = s; *p; p++)
        if (!(('a' <= *p && *p <= 'z') || ('A' <= *p && *p <= 'Z') || ('0' <= *p && *p <= '9') ||
              *p == '-' || *p == '_' || *p == '.') || s[0] == '.')
            return fe_bad(k, sub, "'%s': use letters, digits, '-', '_' and '.' (it names a file)", s);
    arm->name = fe_xstrdup(s);
    arm->trained_tokens = -1;
    arm->checkpoint_step = -1;
    snprintf(sub, sizeof(sub), "%s.provider", path);
    if (fe_req_string(k, a, "provider", sub, &s) != FE_OK)
        return FE_EINVALID;
    arm->provider = fe_find_provider(c, s);
    if (!arm->provider)
        return fe_bad(k, sub, "no provider named '%s' in \"providers\"", s);
    snprintf(sub, sizeof(sub), "%s.finetune_job", path);
    if (fe_opt_string(k, a, "finetune_job", sub, &s) != FE_OK)
        return FE_EINVALID;
    arm->finetune_job = fe_xstrdup(s);
    snprintf(sub, sizeof(sub), "%s.checkpoints", path);
    if (fe_opt_bool(k, a, "checkpoints", sub, &arm->checkpoints) != FE_OK)
        return FE_EINVALID;
    snprintf(sub, sizeof(sub), "%s.model", path);
    if (arm->finetune_job ? fe_opt_string(k, a, "model", sub, &s) : fe_req_string(k, a, "model", sub, &s))
        return FE_EINVALID;
    arm->model = fe_xstrdup(s);

    snprintf(sub, sizeof(sub), "%s.template", path);
    if (fe_opt_string(k, a, "template", sub, &s) != FE_OK)
        return FE_EINVALID;
    arm->template = s ? s : c->template;

    const cJSON *sys = fe_field(a, "system");
    snprintf(sub, sizeof(sub), "%s.system", path);
    if (sys && !cJSON_IsNull(sys)) {
        if (!cJSON_IsString(sys))
            return fe_bad_at(k, sys, sub, "must be a string (inline text or @file)");
        if (sys->valuestring[0] == '@') {
            char *file = fe_path_relative_to(c->path, sys->valuestring + 1);
            arm->system_source = file;
            arm->system = fe_read_prompt_file(k, file, sub, arm->system_sha256);
            if (!arm->system)
                return FE_EINVALID;
        } else {
            fe_warn_system_file(k, sub, sys->valuestring);
            arm->system_source = fe_xstrdup("inline");
            arm->system = fe_xstrdup(sys->valuestring);
            fe_sha256_hex(arm->system, strlen(arm->system), arm->system_sha256);
        }
    }
    snprintf(sub, sizeof(sub), "%s.few_shot", path);
    if (fe_load_few_shot(k, arm, fe_field(a, "few_shot"), sub) != FE_OK)
        return FE_EINVALID;

    arm->has_temperature = d->has_temperature;
    arm->temperature = d->temperature;
    double v = d->max_tokens;
    bool present;
    snprintf(sub, sizeof(sub), "%s.temperature", path);
    if (fe_opt_number(k, a, "temperature", sub, 0, 2, &arm->temperature, &present) != FE_OK)
        return FE_EINVALID;
    arm->has_temperature = arm->has_temperature || present;
    snprintf(sub, sizeof(sub), "%s.max_tokens", path);
    if (fe_opt_int(k, a, "max_tokens", sub, 1, 1e7, &v, NULL) != FE_OK)
        return FE_EINVALID;
    arm->max_tokens = (long)v;
    v = d->seed;
    snprintf(sub, sizeof(sub), "%s.seed", path);
    if (fe_opt_int(k, a, "seed", sub, -9.2e18, 9.2e18, &v, &present) != FE_OK)
        return FE_EINVALID;
    arm->has_seed = d->has_seed || present;
    arm->seed = (long)v;
    arm->timeout_s = d->timeout_s;
    snprintf(sub, sizeof(sub), "%s.timeout_s", path);
    if (fe_opt_number(k, a, "timeout_s", sub, 0.001, 86400, &arm->timeout_s, NULL) != FE_OK)
        return FE_EINVALID;
    v = d->max_retries;
    snprintf(sub, sizeof(sub), "%s.max_retries", path);
    if (fe_opt_int(k, a, "max_retries", sub, 0, 100, &v, NULL) != FE_OK)
        return FE_EINVALID;
    arm->max_retries = (long)v;
    snprintf(sub, sizeof(sub), "%s.extra_body", path);
    if (fe_opt_object(k, a, "extra_body", sub, &arm->extra_body) != FE_OK ||
        fe_check_unique(k, arm->extra_body, sub) != FE_OK)
        return FE_EINVALID;
    return FE_OK;
}

static void fe_arm_release(struct fe_arm_conf *a)
{
    free(a->name);
    free(a->model);
    free(a->finetune_job);
    free(a->system);
    free(a->system_source);
    free(a->few_shot_source);
    free(a->ft_base_model);
    fe_messages_free(a->few_shot, a->n_few_shot);
    memset(a, 0, sizeof(*a));
}

static bool fe_in_filter(const char *filter, const char *name)
{
    if (!filter)
        return true;
    size_t len = strlen(name);
    for (const char *p = filter; *p;) {
        const char *comma = strchr(p, ',');
        size_t n = comma ? (size_t)(comma - p) : strlen(p);
        if (n == len && strncmp(p, name, n) == 0)
            return true;
        p += n + (comma ? 1 : 0);
    }
    return false;
}

static enum fe_status fe_load_task(struct fe_cfg *k, const cJSON *root)
{
    struct fe_config *c = k->c;
    const cJSON *task;
    if (fe_opt_strict(k, root, "task", &task) != FE_OK)
        return FE_EINVALID;
    const char *s;
    if (fe_opt_string(k, task, "template", "task.template", &s) != FE_OK)
        return FE_EINVALID;
    c->template = fe_xstrdup(s ? s : "{input}");
    const cJSON *metrics = fe_field(task, "metrics");
    if (metrics && !cJSON_IsNull(metrics) && !cJSON_IsArray(metrics))
        return fe_bad_at(k, metrics, "task.metrics", "must be an array of metric names");
    if (!metrics || cJSON_GetArraySize(metrics) == 0) {
        c->n_metrics = 2;
        c->metrics = fe_xcalloc(2, sizeof(*c->metrics));
        c->metrics[0] = fe_xstrdup("exact_match");
        c->metrics[1] = fe_xstrdup("f1");
    } else {
        c->metrics = fe_xcalloc((size_t)cJSON_GetArraySize(metrics), sizeof(*c->metrics));
        const cJSON *m;
        cJSON_ArrayForEach(m, metrics) {
            char path[64];
            snprintf(path, sizeof(path), "task.metrics[%zu]", c->n_metrics);
            if (!cJSON_IsString(m))
                return fe_bad_at(k, m, path, "must be a string");
            if (!fe_metric_find(m->valuestring)) {
                struct fe_buf known;
                fe_buf_init(&known, 0);
                for (size_t j = 0; fe_metrics[j]; j++)
                    fe_buf_addf(&known, "%s%s", j ? ", " : "", fe_metrics[j]->name);
                fe_bad(k, path, "unknown metric '%s' (known: %s)", m->valuestring, fe_buf_str(&known));
                fe_buf_release(&known);
                return FE_EINVALID;
            }
            for (size_t j = 0; j < c->n_metrics; j++)
                if (strcmp(c->metrics[j], m->valuestring) == 0)
                    return fe_bad(k, path, "metric '%s' listed twice", m->valuestring);
            c->metrics[c->n_metrics++] = fe_xstrdup(m->valuestring);
        }
    }
    if (fe_opt_string(k, task, "primary_metric", "task.primary_metric", &s) != FE_OK)
        return FE_EINVALID;
    if (s) {
        bool found = false;
        for (size_t j = 0; j < c->n_metrics; j++)
            found = found || strcmp(c->metrics[j], s) == 0;
        if (!found)
            return fe_bad(k, "task.primary_metric", "'%s' is not in task.metrics", s);
    }
    c->primary_metric = fe_xstrdup(s ? s : c->metrics[0]);
    return FE_OK;
}

static enum fe_status fe_load_stats(struct fe_cfg *k, const cJSON *root)
{
    struct fe_config *c = k->c;
    fe_stats_opts_default(&c->stats);
    const cJSON *st;
    if (fe_opt_strict(k, root, "stats", &st) != FE_OK)
        return FE_EINVALID;
    double v = (double)c->stats.resamples;
    if (fe_opt_int(k, st, "resamples", "stats.resamples", 1, 1e8, &v, NULL) != FE_OK)
        return FE_EINVALID;
    c->stats.resamples = (size_t)v;
    if (fe_opt_number(k, st, "alpha", "stats.alpha", 1e-9, 0.5, &c->stats.alpha, NULL) != FE_OK)
        return FE_EINVALID;
    v = (double)c->stats.seed;
    if (fe_opt_int(k, st, "seed", "stats.seed", 0, 4294967295.0, &v, NULL) != FE_OK)
        return FE_EINVALID;
    c->stats.seed = (unsigned long)v;
    const char *s;
    if (fe_opt_string(k, st, "correction", "stats.correction", &s) != FE_OK)
        return FE_EINVALID;
    if (s && strcmp(s, "holm") == 0)
        c->stats.correction = FE_CORRECTION_HOLM;
    else if (s && strcmp(s, "bonferroni") == 0)
        c->stats.correction = FE_CORRECTION_BONFERRONI;
    else if (s && strcmp(s, "none") == 0)
        c->stats.correction = FE_CORRECTION_NONE;
    else if (s)
        return fe_bad_at(k, fe_field(st, "correction"), "stats.correction",
                         "must be \"holm\", \"bonferroni\" or \"none\"");
    if (fe_opt_string(k, st, "family", "stats.family", &s) != FE_OK)
        return FE_EINVALID;
    if (s && strcmp(s, "all") == 0)
        c->stats.family_all = true;
    else if (s && strcmp(s, "primary") != 0)
        return fe_bad_at(k, fe_field(st, "family"), "stats.family", "must be \"primary\" or \"all\"");
    return FE_OK;
}

/* An inline price table: its keys and each row's (a table in a file is checked by cost.c). */
static enum fe_status fe_check_price_table(struct fe_cfg *k, const cJSON *prices)
{
    if (!cJSON_IsObject(prices))
        return FE_OK;
    if (fe_check_keys(k, prices, "prices", "prices") != FE_OK)
        return FE_EINVALID;
    const cJSON *models = fe_field(prices, "models");
    if (!cJSON_IsObject(models))
        return FE_OK; /* fe_prices_load names the problem */
    if (fe_check_unique(k, models, "prices.models") != FE_OK)
        return FE_EINVALID;
    const cJSON *row;
    cJSON_ArrayForEach(row, models) {
        char path[400];
        snprintf(path, sizeof(path), "prices.models[\"%s\"]", row->string);
        if (fe_check_keys(k, row, "prices.models.*", path) != FE_OK)
            return FE_EINVALID;
    }
    return FE_OK;
}

/* A string or a boolean: the evidence keys that take a path or a declaration. */
static enum fe_status fe_opt_string_or_bool(struct fe_cfg *k, const cJSON *o, const char *name,
                                            const char *path)
{
    const cJSON *v = fe_field(o, name);
    if (!v || cJSON_IsNull(v) || cJSON_IsString(v) || cJSON_IsBool(v))
        return FE_OK;
    return fe_bad_at(k, v, path, "must be a string or true/false");
}

/* Objects the decision and the report read from the manifest's copy of the config
 * (docs/decision.md): checked here so that a typo or a wrong type fails before a run, not
 * as a silently missing input afterwards. */
static enum fe_status fe_check_report_objects(struct fe_cfg *k, const cJSON *root)
{
    const cJSON *o;
    double v = 0;
    bool b = false;
    if (fe_opt_strict(k, root, "training", &o) != FE_OK ||
        fe_opt_number(k, o, "cost_usd", "training.cost_usd", 0, 1e12, &v, NULL) != FE_OK ||
        fe_opt_int(k, o, "trained_tokens", "training.trained_tokens", 0, 1e15, &v, NULL) != FE_OK)
        return FE_EINVALID;
    if (fe_opt_strict(k, root, "traffic", &o) != FE_OK ||
        fe_opt_number(k, o, "requests_per_month", "traffic.requests_per_month", 0, 1e15, &v, NULL) != FE_OK)
        return FE_EINVALID;
    if (fe_opt_strict(k, root, "decision", &o) != FE_OK ||
        fe_opt_number(k, o, "margin", "decision.margin", 0, 1, &v, NULL) != FE_OK ||
        fe_opt_number(k, o, "min_relative_saving", "decision.min_relative_saving", 0, 1, &v, NULL) != FE_OK ||
        fe_opt_number(k, o, "max_error_rate", "decision.max_error_rate", 0, 1, &v, NULL) != FE_OK)
        return FE_EINVALID;
    if (fe_opt_strict(k, root, "evidence", &o) != FE_OK ||
        fe_opt_bool(k, o, "expert_reviewed", "evidence.expert_reviewed", &b) != FE_OK ||
        fe_opt_bool(k, o, "rag_tried", "evidence.rag_tried", &b) != FE_OK ||
        fe_opt_string_or_bool(k, o, "human_ratings", "evidence.human_ratings") != FE_OK ||
        fe_opt_string_or_bool(k, o, "data_check", "evidence.data_check") != FE_OK ||
        fe_opt_string_or_bool(k, o, "monitoring", "evidence.monitoring") != FE_OK)
        return FE_EINVALID;
    return FE_OK;
}

static enum fe_status fe_read_keys(struct fe_cfg *k)
{
    struct fe_config *c = k->c;
    for (size_t i = 0; i < c->n_providers; i++) {
        struct fe_provider_entry *e = &c->providers[i];
        if (!e->used || !e->api_key_env)
            continue;
        const char *key = getenv(e->api_key_env);
        if (k->flags & FE_CONFIG_NO_KEYS) { /* nothing will be sent: say what a real run needs */
            if (!key || !*key)
                fe_warn("%s: providers.%s.api_key_env: environment variable %s is not set; a dry run "
                        "does not need it, a real run does", c->path, e->conf.name, e->api_key_env);
            continue;
        }
        if (!key || !*key) {
            const char *arm = "";
            for (size_t a = 0; a < c->n_arms; a++)
                if (c->arms[a].provider == e) {
                    arm = c->arms[a].name;
                    break;
                }
            char path[300];
            snprintf(path, sizeof(path), "providers.%s.api_key_env", e->conf.name);
            return fe_bad(k, path, "environment variable %s is not set (needed by arm '%s')",
                          e->api_key_env, arm);
        }
        e->api_key = fe_xstrdup(key);
        e->conf.api_key = e->api_key;
        fe_log_add_secret(key);
    }
    return FE_OK;
}

static enum fe_status fe_config_parse(struct fe_cfg *k, const char *arms_filter)
{
    struct fe_config *c = k->c;
    cJSON *root = c->json;
    if (!cJSON_IsObject(root))
        return fe_bad(k, "(root)", "must be a JSON object");
    if (fe_check_keys(k, root, "(root)", "") != FE_OK)
        return FE_EINVALID;
    const char *s;
    if (fe_opt_string(k, root, "$schema", "$schema", &s) != FE_OK)
        return FE_EINVALID;
    if (fe_req_string(k, root, "name", "name", &s) != FE_OK)
        return FE_EINVALID;
    for (const char *p = s; *p; p++)
        if (*p == '/' || (p == s && *p == '.'))
            return fe_bad(k, "name", "'%s' must not contain '/' or start with '.' (it names a folder)", s);
    c->name = fe_xstrdup(s);
    if (fe_req_string(k, root, "dataset", "dataset", &s) != FE_OK)
        return FE_EINVALID;
    c->dataset_path = fe_path_relative_to(c->path, s);
    if (fe_load_task(k, root) != FE_OK)
        return FE_EINVALID;

    const cJSON *dflt;
    if (fe_opt_strict(k, root, "defaults", &dflt) != FE_OK)
        return FE_EINVALID;
    struct fe_defaults d = {.temperature = 0, .max_tokens = 256, .seed = 0, .timeout_s = 60, .max_retries = 4};
    double conc = 16;
    if (fe_opt_number(k, dflt, "temperature", "defaults.temperature", 0, 2, &d.temperature, &d.has_temperature) ||
        fe_opt_int(k, dflt, "max_tokens", "defaults.max_tokens", 1, 1e7, &d.max_tokens, NULL) ||
        fe_opt_int(k, dflt, "seed", "defaults.seed", -9.2e18, 9.2e18, &d.seed, &d.has_seed) ||
        fe_opt_number(k, dflt, "timeout_s", "defaults.timeout_s", 0.001, 86400, &d.timeout_s, NULL) ||
        fe_opt_int(k, dflt, "max_retries", "defaults.max_retries", 0, 100, &d.max_retries, NULL) ||
        fe_opt_int(k, dflt, "concurrency", "defaults.concurrency", 1, 100000, &conc, NULL))
        return FE_EINVALID;
    c->concurrency = (long)conc;

    if (fe_load_providers(k, fe_field(root, "providers")) != FE_OK)
        return FE_EINVALID;
    const cJSON *arms = fe_field(root, "arms");
    if (arms && !cJSON_IsNull(arms) && !cJSON_IsArray(arms))
        return fe_bad_at(k, arms, "arms", "must be a non-empty array of arms");
    if (!cJSON_IsArray(arms) || cJSON_GetArraySize(arms) == 0)
        return fe_bad(k, "arms", "missing (a non-empty array)");
    c->arms = fe_xcalloc((size_t)cJSON_GetArraySize(arms), sizeof(*c->arms));
    size_t i = 0;
    const cJSON *a;
    cJSON_ArrayForEach(a, arms) {
        struct fe_arm_conf arm = {0};
        enum fe_status st = fe_load_arm(k, a, i, &d, &arm);
        if (st == FE_OK) {
            for (size_t j = 0; j < c->n_arms; j++)
                if (strcmp(c->arms[j].name, arm.name) == 0) {
                    char path[64];
                    snprintf(path, sizeof(path), "arms[%zu].name", i);
                    st = fe_bad(k, path, "duplicate arm name '%s'", arm.name);
                }
        }
        bool keep = st == FE_OK && fe_in_filter(arms_filter, arm.name);
        if (keep) {
            c->arms[c->n_arms++] = arm;
            arm.provider->used = true;
        } else {
            fe_arm_release(&arm);
        }
        if (st != FE_OK)
            return st;
        i++;
    }
    if (c->n_arms == 0)
        return fe_bad(k, "arms", "no arm matches --arms '%s'", arms_filter ? arms_filter : "");

    if (fe_opt_string(k, root, "baseline_arm", "baseline_arm", &s) != FE_OK)
        return FE_EINVALID;
    if (s && fe_config_arm_index(c, s) < 0) {
        if (!arms_filter)
            return fe_bad(k, "baseline_arm", "no arm named '%s'", s);
        s = NULL;
    }
    c->baseline_arm = fe_xstrdup(s ? s : c->arms[0].name);
    if (fe_opt_string(k, root, "candidate_arm", "candidate_arm", &s) != FE_OK)
        return FE_EINVALID;
    if (s && fe_config_arm_index(c, s) < 0) {
        if (!arms_filter)
            return fe_bad(k, "candidate_arm", "no arm named '%s'", s);
        s = NULL;
    }
    if (!s) {
        for (size_t j = 0; j < c->n_arms && !s; j++)
            if ((c->arms[j].model && strncmp(c->arms[j].model, "ft:", 3) == 0) || c->arms[j].finetune_job)
                s = c->arms[j].name;
        if (!s)
            s = c->arms[c->n_arms - 1].name;
    }
    c->candidate_arm = fe_xstrdup(s);

    const cJSON *prices = fe_field(root, "prices");
    if (fe_check_price_table(k, prices) != FE_OK)
        return FE_EINVALID;
    if (prices && !cJSON_IsNull(prices)) {
        struct fe_err perr = {0};
        c->prices = fe_prices_load(prices, c->path, &perr);
        if (!c->prices)
            return fe_bad(k, "prices", "%s", perr.msg);
        for (size_t j = 0; j < c->n_arms; j++) {
            struct fe_arm_conf *arm = &c->arms[j];
            arm->has_price = arm->model && fe_prices_lookup(c->prices, arm->model, &arm->price);
        }
    }
    if (fe_load_stats(k, root) != FE_OK)
        return FE_EINVALID;
    const cJSON *budget;
    if (fe_opt_strict(k, root, "budget", &budget) != FE_OK ||
        fe_opt_number(k, budget, "max_usd", "budget.max_usd", 0, 1e12, &c->budget_max_usd, &c->has_budget) != FE_OK)
        return FE_EINVALID;
    c->max_error_rate = 0.05;
    if (fe_opt_number(k, root, "max_error_rate", "max_error_rate", 0, 1, &c->max_error_rate, NULL) != FE_OK)
        return FE_EINVALID;
    if (fe_opt_bool(k, root, "cache", "cache", &c->cache) != FE_OK)
        return FE_EINVALID;
    if (fe_check_report_objects(k, root) != FE_OK)
        return FE_EINVALID;
    return fe_read_keys(k);
}

static enum fe_status fe_config_load_impl(const char *text, size_t len, const char *path,
                                          const char *arms_filter, unsigned flags,
                                          struct fe_config **out, struct fe_err *err)
{
    struct fe_config *c = fe_xcalloc(1, sizeof(*c));
    c->path = fe_xstrdup(path);
    const char *end = NULL;
    c->json = cJSON_ParseWithLengthOpts(text, len, &end, false);
    if (!c->json) {
        size_t line = 1, col = 1;
        for (const char *p = text; end && p < end && p < text + len; p++) {
            if (*p == '\n')
                line++, col = 1;
            else
                col++;
        }
        fe_err_set(err, FE_EINVALID, "%s:%zu:%zu: invalid JSON", path, line, col);
        fe_config_free(c);
        return FE_EINVALID;
    }
    struct fe_cfg k = {.c = c, .err = err, .text = text, .len = len, .flags = flags};
    enum fe_status st = fe_config_parse(&k, arms_filter);
    if (st != FE_OK) {
        fe_config_free(c);
        return st;
    }
    *out = c;
    return FE_OK;
}

enum fe_status fe_config_load_opts(const char *path, const char *arms_filter, unsigned flags,
                                   struct fe_config **out, struct fe_err *err)
{
    size_t len;
    char *text = fe_read_file(path, 64u * 1024 * 1024, &len);
    if (!text)
        return fe_err_set(err, FE_EINVALID, "%s: cannot read: %s", path, strerror(errno));
    enum fe_status st = fe_config_load_impl(text, len, path, arms_filter, flags, out, err);
    free(text);
    return st;
}

enum fe_status fe_config_load(const char *path, const char *arms_filter, struct fe_config **out,
                              struct fe_err *err)
{
    return fe_config_load_opts(path, arms_filter, 0, out, err);
}

enum fe_status fe_config_load_text(const char *text, size_t len, const char *path,
                                   const char *arms_filter, struct fe_config **out, struct fe_err *err)
{
    return fe_config_load_impl(text, len, path, arms_filter, 0, out, err);
}

void fe_config_free(struct fe_config *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->n_arms; i++)
        fe_arm_release(&c->arms[i]);
    free(c->arms);
    for (size_t i = 0; i < c->n_providers; i++) {
        struct fe_provider_entry *e = &c->providers[i];
        free(e->api_key);
        free(e->api_key_env);
        free(e->base_url);
        free(e->path);
    }
    free(c->providers);
    for (size_t i = 0; i < c->n_metrics; i++)
        free(c->metrics[i]);
    free(c->metrics);
    free(c->primary_metric);
    free(c->name);
    free(c->dataset_path);
    free(c->template);
    free(c->baseline_arm);
    free(c->candidate_arm);
    fe_prices_free(c->prices);
    cJSON_Delete(c->json);
    free(c->path);
    free(c);
}

void fe_config_set_model(struct fe_config *c, struct fe_arm_conf *arm, const char *model)
{
    free(arm->model);
    arm->model = fe_xstrdup(model);
    arm->has_price = c->prices && fe_prices_lookup(c->prices, model, &arm->price);
}

struct fe_arm_conf *fe_config_add_arm_copy(struct fe_config *c, size_t from, const char *name,
                                           const char *model)
{
    c->arms = fe_xreallocarray(c->arms, c->n_arms + 1, sizeof(*c->arms));
    const struct fe_arm_conf *src = &c->arms[from];
    struct fe_arm_conf *a = &c->arms[c->n_arms++];
    *a = *src;
    a->name = fe_xstrdup(name);
    a->model = NULL;
    a->finetune_job = fe_xstrdup(src->finetune_job);
    a->checkpoints = false;
    a->system = fe_xstrdup(src->system);
    a->system_source = fe_xstrdup(src->system_source);
    a->few_shot_source = fe_xstrdup(src->few_shot_source);
    a->ft_base_model = fe_xstrdup(src->ft_base_model);
    a->few_shot = NULL;
    a->n_few_shot = 0;
    for (size_t i = 0; i < src->n_few_shot; i++)
        fe_add_message(&a->few_shot, &a->n_few_shot, src->few_shot[i].role, src->few_shot[i].content);
    fe_config_set_model(c, a, model);
    return a;
}

long fe_config_arm_index(const struct fe_config *c, const char *name)
{
    for (size_t i = 0; i < c->n_arms; i++)
        if (strcmp(c->arms[i].name, name) == 0)
            return (long)i;
    return -1;
}

cJSON *fe_config_to_manifest_json(const struct fe_config *c)
{
    cJSON *j = cJSON_Duplicate(c->json, true);
    cJSON_ReplaceItemInObjectCaseSensitive(j, "dataset", cJSON_CreateString(c->dataset_path));
    cJSON *providers = cJSON_GetObjectItemCaseSensitive(j, "providers");
    cJSON *p;
    cJSON_ArrayForEach(p, providers) {
        cJSON *headers = cJSON_GetObjectItemCaseSensitive(p, "headers");
        cJSON *h;
        cJSON_ArrayForEach(h, headers) {
            if (cJSON_IsString(h))
                cJSON_SetValuestring(h, "[REDACTED]");
        }
    }
    return j;
}

enum fe_status fe_build_messages(const struct fe_config *c, const struct fe_arm_conf *arm,
                                 const struct fe_example *ex, struct fe_message **out, size_t *n,
                                 struct fe_err *err)
{
    (void)c;
    struct fe_message *m = NULL;
    size_t count = 0;
    bool replaced_system = false;
    if (arm->system)
        fe_add_message(&m, &count, "system", arm->system);
    size_t first = 0;
    if (ex->chat) { /* the example's own leading system message stays unless the arm has one */
        while (first < ex->n_messages && (strcmp(ex->messages[first].role, "system") == 0 ||
                                          strcmp(ex->messages[first].role, "developer") == 0)) {
            if (!arm->system)
                fe_add_message(&m, &count, ex->messages[first].role, ex->messages[first].content);
            else
                replaced_system = true;
            first++;
        }
    }
    (void)replaced_system;
    for (size_t i = 0; i < arm->n_few_shot; i++)
        fe_add_message(&m, &count, arm->few_shot[i].role, arm->few_shot[i].content);
    if (ex->chat) {
        for (size_t i = first; i < ex->n_messages; i++)
            fe_add_message(&m, &count, ex->messages[i].role, ex->messages[i].content);
    } else {
        struct fe_err terr = {0};
        char *user = fe_template_render(arm->template, ex->row, &terr);
        if (!user) {
            fe_messages_free(m, count);
            return fe_err_set(err, FE_EINVALID, "example '%s' (line %zu): %s", ex->id, ex->line, terr.msg);
        }
        fe_add_message(&m, &count, "user", user);
        free(user);
    }
    *out = m;
    *n = count;
    return FE_OK;
}
