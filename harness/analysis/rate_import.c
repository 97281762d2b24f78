/* rate_import.c — `fteval rate import`: ratings unblinded into RUN/human.jsonl (rate.h).
 *
 * Every rating is checked before anything is written; then human.jsonl is rewritten whole
 * (atomically) as its old lines followed by the new ones, so an import either adds all its
 * ratings or none, and never loses what an earlier import added. One line per rating:
 *   {"item", "judge", "type", "example", "arm", "against"? (pairwise), "scale"? (rubric),
 *    "rater", "rating" (as given), "outcome" (pairwise: the arm vs against) | "score",
 *    "value" (pairwise 1 / 0.5 / 0; rubric the score), "source" (file), "line"} */
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness/analysis/rate.h"
#include "harness/base/csv.h"
#include "harness/base/fs.h"
#include "harness/base/jsonout.h"
#include "harness/base/strmap.h"
#include "harness/base/util.h"

struct keys {
    cJSON **keys;       /* parsed RUN/rate/<judge>.key.json */
    size_t n;
};

static void keys_release(struct keys *k)
{
    for (size_t i = 0; i < k->n; i++)
        cJSON_Delete(k->keys[i]);
    free(k->keys);
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static enum fe_status load_keys(const struct fe_run *run, struct keys *k, struct fe_err *err)
{
    char *dir = fe_xasprintf("%s/rate", run->dir);
    DIR *d = opendir(dir);
    if (!d) {
        fe_err_set(err, FE_EINVALID, "%s: no rating keys (run 'fteval rate export' first)", dir);
        free(dir);
        return FE_EINVALID;
    }
    char **names = NULL;
    size_t n = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        size_t len = strlen(e->d_name);
        if (len > 9 && strcmp(e->d_name + len - 9, ".key.json") == 0) {
            names = fe_xreallocarray(names, n + 1, sizeof(*names));
            names[n++] = fe_xasprintf("%s/%s", dir, e->d_name);
        }
    }
    closedir(d);
    qsort(names, n, sizeof(*names), by_name);
    enum fe_status st = FE_OK;
    for (size_t i = 0; i < n; i++) {
        size_t len;
        char *text = st == FE_OK ? fe_read_file(names[i], 256u << 20, &len) : NULL;
        cJSON *key = text ? cJSON_ParseWithLength(text, len) : NULL;
        free(text);
        if (st == FE_OK && !cJSON_IsObject(fe_json_get(key, "items"))) {
            st = fe_err_set(err, FE_EINVALID, "%s: not a rating key", names[i]);
            cJSON_Delete(key);
        } else if (key) {
            k->keys = fe_xreallocarray(k->keys, k->n + 1, sizeof(*k->keys));
            k->keys[k->n++] = key;
        }
        free(names[i]);
    }
    free(names);
    free(dir);
    return st;
}

/* The key and key entry of item id, or NULL. */
static const cJSON *find_item(const struct keys *k, const char *id, const cJSON **key)
{
    for (size_t i = 0; i < k->n; i++) {
        const cJSON *it = fe_json_get(fe_json_get(k->keys[i], "items"), id);
        if (cJSON_IsObject(it)) {
            *key = k->keys[i];
            return it;
        }
    }
    return NULL;
}

struct importer {
    const struct fe_run *run;
    struct keys keys;
    struct fe_strmap seen;      /* "item\x1frater" of every rating, old and new */
    struct fe_buf out;          /* the new lines */
    const char *rater;          /* --rater, or NULL */
    struct fe_rate_import_result *res;
};

/* Unblinds one rating into imp->out. file/line/field name the place in errors. */
static enum fe_status add_rating(struct importer *imp, const char *file, size_t line,
                                 const char *id, const char *rating, const char *rater,
                                 struct fe_err *err)
{
    if (!id || !*id)
        return fe_err_set(err, FE_EINVALID, "%s:%zu: field 'item': missing", file, line);
    if (!rating || !*rating) {
        imp->res->skipped++;
        return FE_OK;
    }
    if (imp->rater)
        rater = imp->rater;
    if (!rater || !*rater)
        return fe_err_set(err, FE_EINVALID, "%s:%zu: field 'rater': missing (give --rater NAME)",
                          file, line);
    const cJSON *key = NULL, *it = find_item(&imp->keys, id, &key);
    if (!it)
        return fe_err_set(err, FE_EINVALID, "%s:%zu: field 'item': '%s' is in no rating key of %s",
                          file, line, id, imp->run->dir);
    char *dup = fe_xasprintf("%s\x1f%s", id, rater);
    bool fresh = fe_strmap_put(&imp->seen, dup, 0);
    free(dup);
    if (!fresh)
        return fe_err_set(err, FE_EINVALID, "%s:%zu: field 'rating': item '%s' is already rated "
                          "by '%s'", file, line, id, rater);
    const char *type = fe_json_gets_or(key, "type", "");
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "item", id);
    cJSON_AddStringToObject(o, "judge", fe_json_gets_or(key, "judge", ""));
    cJSON_AddStringToObject(o, "type", type);
    cJSON_AddStringToObject(o, "example", fe_json_gets_or(it, "example", ""));
    cJSON_AddStringToObject(o, "arm", fe_json_gets_or(it, "arm", ""));
    cJSON_AddStringToObject(o, "rater", rater);
    cJSON_AddStringToObject(o, "rating", rating);
    enum fe_status st = FE_OK;
    if (strcmp(type, "pairwise") == 0) {
        const char *arm = fe_json_gets_or(it, "arm", ""), *a = fe_json_gets_or(it, "a", "");
        bool arm_is_a = strcmp(arm, a) == 0;
        const char *outcome = strcmp(rating, "tie") == 0 ? "tie"
                              : strcmp(rating, "A") == 0 ? (arm_is_a ? "win" : "loss")
                              : strcmp(rating, "B") == 0 ? (arm_is_a ? "loss" : "win")
                                                         : NULL;
        if (!outcome)
            st = fe_err_set(err, FE_EINVALID, "%s:%zu: field 'rating': '%s' is not A, B or tie",
                            file, line, rating);
        cJSON_AddStringToObject(o, "against", fe_json_gets_or(it, "against", ""));
        fe_json_add_str(o, "outcome", outcome);
        cJSON_AddNumberToObject(o, "value", !outcome ? 0 : strcmp(outcome, "win") == 0 ? 1
                                            : strcmp(outcome, "tie") == 0 ? 0.5 : 0);
    } else {
        const cJSON *scale = fe_json_get(key, "scale");
        double lo = NAN, hi = NAN;
        fe_json_num(cJSON_GetArrayItem(scale, 0), &lo);
        fe_json_num(cJSON_GetArrayItem(scale, 1), &hi);
        long score = 0;
        if (!fe_parse_long(rating, &score))
            st = fe_err_set(err, FE_EINVALID, "%s:%zu: field 'rating': '%s' is not an integer "
                            "score", file, line, rating);
        else if (!(score >= lo && score <= hi))
            st = fe_err_set(err, FE_EINVALID, "%s:%zu: field 'rating': %ld is outside the scale "
                            "%.0f..%.0f", file, line, score, lo, hi);
        cJSON_AddItemToObject(o, "scale", cJSON_Duplicate(scale, true));
        cJSON_AddNumberToObject(o, "score", (double)score);
        cJSON_AddNumberToObject(o, "value", (double)score);
    }
    cJSON_AddStringToObject(o, "source", file);
    cJSON_AddNumberToObject(o, "line", (double)line);
    if (st == FE_OK) {
        char *s = cJSON_PrintUnformatted(o);
        fe_buf_adds(&imp->out, s);
        fe_buf_addch(&imp->out, '\n');
        free(s);
        imp->res->ratings++;
    }
    cJSON_Delete(o);
    return st;
}

/* A cell of a JSONL rating: a string, or a number written as text. Caller frees. */
static char *cell(const cJSON *o, const char *k)
{
    const cJSON *v = fe_json_get(o, k);
    if (cJSON_IsString(v))
        return fe_xstrdup(v->valuestring);
    if (cJSON_IsNumber(v))
        return fe_xasprintf("%.17g", v->valuedouble);
    return NULL;
}

static enum fe_status import_jsonl(struct importer *imp, const char *file, const char *text,
                                   struct fe_err *err)
{
    size_t line = 0;
    enum fe_status st = FE_OK;
    for (const char *p = text; st == FE_OK && *p;) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        line++;
        char *one = fe_xstrndup(p, len);
        p += len + (nl != NULL);
        if (strspn(one, " \t\r") == len) {
            free(one);
            continue;
        }
        cJSON *o = cJSON_Parse(one);
        free(one);
        if (!cJSON_IsObject(o)) {
            st = fe_err_set(err, FE_EINVALID, "%s:%zu: not a JSON object", file, line);
        } else {
            char *id = cell(o, "item"), *rating = cell(o, "rating"), *rater = cell(o, "rater");
            st = add_rating(imp, file, line, id, rating, rater, err);
            free(id);
            free(rating);
            free(rater);
        }
        cJSON_Delete(o);
    }
    return st;
}

static long column(char *const *head, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(head[i], name) == 0)
            return (long)i;
    return -1;
}

/* A rating sheet through the one CSV reader (base/csv.h): a header with 'item' and 'rating'
 * (and optionally 'rater'), then one rating per record; its errors name file:line. */
static enum fe_status import_csv(struct importer *imp, const char *file, struct fe_err *err)
{
    struct fe_csv c;
    enum fe_status st = fe_csv_open(&c, file, err);
    if (st != FE_OK)
        return st;
    int got = fe_csv_next(&c, err);
    long ci = -1, cr = -1, cw = -1;
    if (got > 0) {
        ci = column(c.fields, c.n, "item");
        cr = column(c.fields, c.n, "rating");
        cw = column(c.fields, c.n, "rater");
    }
    if (got < 0)
        st = FE_EINVALID;
    else if (got == 0 || ci < 0 || cr < 0)
        st = fe_err_set(err, FE_EINVALID, "%s:1: the header needs columns 'item' and 'rating'", file);
    while (st == FE_OK) {
        got = fe_csv_next(&c, err);
        if (got == 0)
            break;
        if (got < 0) {
            st = FE_EINVALID;
            break;
        }
        long n = (long)c.n;
        if (!(n == 1 && !c.fields[0][0])) /* a record of one empty field: a blank line */
            st = add_rating(imp, file, c.record_line, ci < n ? c.fields[ci] : NULL, cr < n ? c.fields[cr] : NULL,
                            cw >= 0 && cw < n ? c.fields[cw] : NULL, err);
    }
    fe_csv_close(&c);
    return st;
}

static enum fe_status import_file(struct importer *imp, const char *file, struct fe_err *err)
{
    size_t len;
    char *text = fe_read_file(file, 256u << 20, &len);
    if (!text)
        return fe_err_set(err, FE_EIO, "%s: cannot read: %s", file, strerror(errno));
    size_t ext = strlen(file);
    bool jsonl = (ext > 6 && strcmp(file + ext - 6, ".jsonl") == 0) ||
                 (ext > 5 && strcmp(file + ext - 5, ".json") == 0);
    bool csv = ext > 4 && strcmp(file + ext - 4, ".csv") == 0;
    if (!jsonl && !csv)
        jsonl = text[strspn(text, " \t\r\n")] == '{';
    enum fe_status st = jsonl ? import_jsonl(imp, file, text, err) : import_csv(imp, file, err);
    free(text);
    return st;
}

/* Marks every (item, rater) of human.jsonl as seen; counts its ratings. */
static enum fe_status load_old(struct importer *imp, const char *path, const char *text,
                               struct fe_err *err)
{
    size_t line = 0;
    for (const char *p = text; p && *p;) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        line++;
        cJSON *o = cJSON_ParseWithLength(p, len);
        p += len + (nl != NULL);
        if (!len)
            continue;
        const char *id = fe_json_gets(o, "item"), *rater = fe_json_gets(o, "rater");
        if (!id || !rater) {
            cJSON_Delete(o);
            return fe_err_set(err, FE_EINVALID, "%s:%zu: not a rating line", path, line);
        }
        char *k = fe_xasprintf("%s\x1f%s", id, rater);
        fe_strmap_put(&imp->seen, k, 0);
        free(k);
        imp->res->total++;
        cJSON_Delete(o);
    }
    return FE_OK;
}

enum fe_status fe_rate_import(const struct fe_run *run, const char *const *files, size_t n_files,
                              const char *rater, struct fe_rate_import_result *res,
                              struct fe_err *err)
{
    memset(res, 0, sizeof(*res));
    struct importer imp = {.run = run, .rater = rater, .res = res};
    fe_strmap_init(&imp.seen);
    char *path = fe_xasprintf("%s/human.jsonl", run->dir);
    size_t old_len = 0;
    char *old = fe_read_file(path, 1u << 30, &old_len);
    enum fe_status st = load_keys(run, &imp.keys, err);
    if (st == FE_OK)
        st = load_old(&imp, path, old, err);
    for (size_t i = 0; st == FE_OK && i < n_files; i++)
        st = import_file(&imp, files[i], err);
    if (st == FE_OK && res->ratings > 0) {
        struct fe_buf all = {0};
        if (old_len) {
            fe_buf_add(&all, old, old_len);
            if (old[old_len - 1] != '\n')
                fe_buf_addch(&all, '\n');
        }
        fe_buf_add(&all, imp.out.data, imp.out.len);
        st = fe_write_file_atomic(path, all.data, all.len, err);
        fe_buf_release(&all);
        res->total += res->ratings;
    }
    free(old);
    free(path);
    fe_buf_release(&imp.out);
    fe_strmap_release(&imp.seen);
    keys_release(&imp.keys);
    return st;
}
