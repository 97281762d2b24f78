/* rate_export.c — `fteval rate export`: the blinded rating set and its key (rate.h). */
#define _XOPEN_SOURCE 700 /* realpath */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness/analysis/rate.h"
#include "harness/base/csv.h"
#include "harness/base/fs.h"
#include "harness/base/jsonout.h"
#include "harness/base/util.h"

const cJSON *fe_rate_judgement(const struct fe_record_text *t, const char *judge)
{
    const cJSON *j = fe_json_get(fe_json_get(t->json, "judgements"), judge);
    if (!cJSON_IsObject(j) || fe_json_get(j, "error"))
        return NULL;
    const char *type = fe_json_gets(j, "type");
    if (type && strcmp(type, "pairwise") == 0)
        return fe_json_gets(j, "outcome") && fe_json_gets(j, "against") ? j : NULL;
    if (type && strcmp(type, "rubric") == 0)
        return cJSON_IsNumber(fe_json_get(j, "score")) ? j : NULL;
    return NULL;
}

char *fe_rate_key_path(const struct fe_run *run, const char *judge)
{
    return fe_xasprintf("%s/rate/%s.key.json", run->dir, judge);
}

/* One candidate item: the judged arm's record of an example (and the against arm's). */
struct cand {
    const char *example;
    size_t arm;
    long against;          /* -1: rubric */
    char hash[65];         /* SHA-256(seed, judge, example): the sampling order */
    char item[65];         /* SHA-256(seed, judge, example, arm): id and A/B order */
};

static int by_hash(const void *a, const void *b)
{
    const struct cand *x = a, *y = b;
    int c = strcmp(x->hash, y->hash);
    return c ? c : strcmp(x->item, y->item);
}

static int by_item(const void *a, const void *b)
{
    return strcmp(((const struct cand *)a)->item, ((const struct cand *)b)->item);
}

static void hash_of(char out[65], unsigned long seed, const char *judge, const char *example,
                    const char *arm)
{
    char *s = fe_xasprintf("%lu\x1f%s\x1f%s%s%s", seed, judge, example, arm ? "\x1f" : "",
                           arm ? arm : "");
    fe_sha256_hex(s, strlen(s), out);
    free(s);
}

/* The candidate item of rec, judgement j (the judged arm a), added to c[n]; false when the
 * against arm has no answer to show beside it. */
static bool candidate(const struct fe_run *run, const struct fe_rate_export_opts *o, size_t a,
                      const struct fe_record *rec, const cJSON *j, struct cand **c, size_t *n)
{
    long against = -1;
    if (strcmp(fe_json_gets_or(j, "type", ""), "pairwise") == 0) {
        against = fe_run_arm_index(run, fe_json_gets(j, "against"));
        long r = against < 0 ? -1 : fe_run_find_record(run, (size_t)against, rec->id);
        if (r < 0 || !fe_arm_rec(&run->arms[against], r)->ok)
            return false;
    }
    *c = fe_xreallocarray(*c, *n + 1, sizeof(**c));
    struct cand *x = &(*c)[*n];
    x->example = rec->id;
    x->arm = a;
    x->against = against;
    hash_of(x->hash, o->seed, o->judge, rec->id, NULL);
    hash_of(x->item, o->seed, o->judge, rec->id, run->arms[a].name);
    (*n)++;
    return true;
}

/* Every (example, judged arm) with the judgement; *first: a copy of the first judgement (the
 * type and scale of the judge), the caller deletes it. */
static struct cand *candidates(const struct fe_run *run, const struct fe_rate_export_opts *o,
                               size_t *n_out, cJSON **first)
{
    struct cand *c = NULL;
    size_t n = 0;
    for (size_t a = 0; a < run->n_arms; a++)
        for (size_t i = 0; i < run->arms[a].n; i++) {
            const struct fe_record *rec = fe_arm_rec(&run->arms[a], i);
            if (!rec->ok || !rec->has_judgements)
                continue;
            struct fe_record_text t;
            fe_run_record_text(run, rec, &t);
            const cJSON *j = fe_rate_judgement(&t, o->judge);
            if (j && candidate(run, o, a, rec, j, &c, &n) && !*first)
                *first = cJSON_Duplicate(j, true);
            fe_record_text_release(&t);
        }
    *n_out = n;
    return c;
}


/* The gold as the rater reads it: a string as is, a list one per line, anything else as JSON. */
static char *reference_text(const struct fe_record_text *rec)
{
    const cJSON *g = rec->gold;
    if (!g || cJSON_IsNull(g))
        return fe_xstrdup("");
    if (cJSON_IsString(g))
        return fe_xstrdup(g->valuestring);
    if (cJSON_IsArray(g)) {
        struct fe_buf b = {0};
        const cJSON *e;
        bool all_strings = true;
        cJSON_ArrayForEach(e, g) all_strings = all_strings && cJSON_IsString(e);
        if (all_strings) {
            cJSON_ArrayForEach(e, g)
            {
                if (b.len)
                    fe_buf_addch(&b, '\n');
                fe_buf_adds(&b, e->valuestring);
            }
            return fe_buf_detach(&b, NULL);
        }
    }
    return cJSON_PrintUnformatted(g);
}

static char *input_text(const struct fe_run *run, const struct fe_rate_export_opts *o, size_t arm,
                        const struct fe_record *rec, const struct fe_record_text *t, bool *truncated,
                        struct fe_err *err)
{
    const char *in = t->input;
    *truncated = rec->input_truncated;
    if (in)
        return fe_xstrdup(in);
    if (!o->render_input) {
        fe_err_set(err, FE_EINVALID, "%s/%s.jsonl: example '%s': field 'input': missing", run->dir,
                   run->arms[arm].name, rec->id);
        return NULL;
    }
    return o->render_input(o->render_ctx, run->arms[arm].name, rec->id, err);
}

/* The blinded item (into items) and its key entry (into keys) for candidate c. */
static enum fe_status build_item(const struct fe_run *run, const struct fe_rate_export_opts *o,
                                 const struct cand *c, const cJSON *judge, cJSON *items,
                                 cJSON *keys, struct fe_err *err)
{
    const struct fe_arm_run *arm = &run->arms[c->arm];
    const struct fe_record *rec = fe_arm_rec(arm, fe_run_find_record(run, c->arm, c->example));
    struct fe_record_text t;
    fe_run_record_text(run, rec, &t);
    bool truncated;
    char *input = input_text(run, o, c->arm, rec, &t, &truncated, err);
    if (!input) {
        fe_record_text_release(&t);
        return err->code ? err->code : FE_EINVALID;
    }
    char id[16];
    snprintf(id, sizeof(id), "i%.12s", c->item);
    cJSON *it = cJSON_CreateObject(), *key = cJSON_CreateObject();
    cJSON_AddStringToObject(it, "item", id);
    cJSON_AddStringToObject(key, "example", c->example);
    cJSON_AddStringToObject(key, "arm", arm->name);
    cJSON_AddStringToObject(it, "input", input);
    free(input);
    if (truncated)
        cJSON_AddTrueToObject(it, "input_truncated");
    char *ref = reference_text(&t);
    cJSON_AddStringToObject(it, "reference", ref);
    free(ref);
    if (c->against >= 0) {
        const struct fe_arm_run *other = &run->arms[c->against];
        struct fe_record_text tt;
        fe_run_record_text(run, fe_arm_rec(other, fe_run_find_record(run, (size_t)c->against, c->example)),
                           &tt);
        const char *theirs = tt.prediction;
        /* the A/B order: one hex digit of the item hash, so it is seeded and stable */
        bool judged_first = (strchr("02468ace", c->item[12]) != NULL);
        cJSON_AddStringToObject(it, "task", "pairwise");
        cJSON_AddStringToObject(it, "output_a", judged_first ? t.prediction : theirs);
        cJSON_AddStringToObject(it, "output_b", judged_first ? theirs : t.prediction);
        fe_record_text_release(&tt);
        cJSON *ch = cJSON_AddArrayToObject(it, "choices");
        cJSON_AddItemToArray(ch, cJSON_CreateString("A"));
        cJSON_AddItemToArray(ch, cJSON_CreateString("B"));
        cJSON_AddItemToArray(ch, cJSON_CreateString("tie"));
        cJSON_AddStringToObject(key, "against", other->name);
        cJSON_AddStringToObject(key, "a", judged_first ? arm->name : other->name);
    } else {
        cJSON_AddStringToObject(it, "task", "rubric");
        cJSON_AddStringToObject(it, "output", t.prediction);
        cJSON_AddItemToObject(it, "scale", cJSON_Duplicate(fe_json_get(judge, "scale"), true));
    }
    fe_record_text_release(&t);
    cJSON_AddItemToArray(items, it);
    cJSON_DeleteItemFromObjectCaseSensitive(keys, id);
    cJSON_AddItemToObject(keys, id, key);
    return FE_OK;
}

static char *sheet_csv(const cJSON *items)
{
    struct fe_buf b = {0};
    static const char *const cols[] = {"item", "task",   "input", "reference", "output_a",
                                       "output_b", "output", "choices", "rating", "rater"};
    for (size_t k = 0; k < FE_ARRAY_LEN(cols); k++)
        fe_buf_addf(&b, "%s%s", k ? "," : "", cols[k]);
    fe_buf_adds(&b, "\r\n");
    const cJSON *it;
    cJSON_ArrayForEach(it, items)
    {
        for (size_t k = 0; k < 7; k++) {
            if (k)
                fe_buf_addch(&b, ',');
            fe_csv_field(&b, fe_json_gets(it, cols[k]));
        }
        const cJSON *scale = fe_json_get(it, "scale");
        if (cJSON_GetArraySize(scale) == 2)
            fe_buf_addf(&b, ",%.0f..%.0f", cJSON_GetArrayItem(scale, 0)->valuedouble,
                        cJSON_GetArrayItem(scale, 1)->valuedouble);
        else
            fe_buf_adds(&b, ",A|B|tie");
        fe_buf_adds(&b, ",,\r\n");
    }
    return fe_buf_detach(&b, NULL);
}

static enum fe_status write_text(const char *dir, const char *name, const char *text, size_t len,
                                 struct fe_err *err)
{
    char *path = fe_xasprintf("%s/%s", dir, name);
    enum fe_status st = fe_write_file_atomic(path, text, len, err);
    free(path);
    return st;
}

static enum fe_status write_set(const struct fe_rate_export_opts *o, const cJSON *items,
                                struct fe_err *err)
{
    struct fe_buf jl = {0};
    const cJSON *it;
    cJSON_ArrayForEach(it, items)
    {
        char *s = cJSON_PrintUnformatted(it);
        fe_buf_adds(&jl, s);
        fe_buf_addch(&jl, '\n');
        free(s);
    }
    enum fe_status st = write_text(o->out_dir, "items.jsonl", fe_buf_str(&jl), jl.len, err);
    fe_buf_release(&jl);
    char *csv = sheet_csv(items);
    if (st == FE_OK)
        st = write_text(o->out_dir, "sheet.csv", csv, strlen(csv), err);
    free(csv);
    size_t len;
    char *page = fe_rate_page(items, &len);
    if (st == FE_OK)
        st = write_text(o->out_dir, "rate.html", page, len, err);
    free(page);
    return st;
}

/* The existing key of the judge (merged into), or a new one. NULL with err on a bad file. */
static cJSON *load_key(const char *path, const cJSON *judge, const char *name, struct fe_err *err)
{
    size_t len;
    char *text = fe_read_file(path, 256u << 20, &len);
    cJSON *key = text ? cJSON_ParseWithLength(text, len) : NULL;
    free(text);
    if (text && !cJSON_IsObject(fe_json_get(key, "items"))) {
        cJSON_Delete(key);
        fe_err_set(err, FE_EINVALID, "%s: not a rating key (field 'items')", path);
        return NULL;
    }
    if (!key) {
        key = cJSON_CreateObject();
        cJSON_AddStringToObject(key, "schema", "fteval.rate_key/1");
        cJSON_AddStringToObject(key, "judge", name);
        cJSON_AddStringToObject(key, "type", fe_json_gets(judge, "type"));
        if (fe_json_get(judge, "scale"))
            cJSON_AddItemToObject(key, "scale", cJSON_Duplicate(fe_json_get(judge, "scale"), true));
        cJSON_AddObjectToObject(key, "items");
    }
    return key;
}

static bool same_dir(const char *a, const char *b)
{
    char *ra = realpath(a, NULL), *rb = realpath(b, NULL);
    bool same = ra && rb && strcmp(ra, rb) == 0;
    free(ra);
    free(rb);
    return same;
}

enum fe_status fe_rate_export(const struct fe_run *run, const struct fe_rate_export_opts *o,
                              struct fe_rate_export_result *res, struct fe_err *err)
{
    memset(res, 0, sizeof(*res));
    cJSON *judge = NULL;
    size_t n;
    struct cand *c = candidates(run, o, &n, &judge);
    if (!n) {
        free(c);
        cJSON_Delete(judge);
        return fe_err_set(err, FE_EINVALID,
                          "no record of '%s' has a judgement '%s' (judgements.%s) to rate",
                          run->dir, o->judge, o->judge);
    }
    qsort(c, n, sizeof(*c), by_hash);
    size_t examples = 0, take = 0;
    for (size_t i = 0; i < n; i++) {
        examples += i == 0 || strcmp(c[i].hash, c[i - 1].hash) != 0;
        if (examples <= (size_t)o->n)
            take = i + 1;
    }
    res->available = examples;
    res->examples = examples < (size_t)o->n ? examples : (size_t)o->n;
    res->items = take;
    qsort(c, take, sizeof(*c), by_item); /* the order the raters see: random, seeded */
    char *rate_dir = fe_xasprintf("%s/rate", run->dir);
    res->key_path = fe_rate_key_path(run, o->judge);
    enum fe_status st = FE_OK;
    if (fe_mkdir_p(rate_dir) != 0)
        st = fe_err_set(err, FE_EIO, "%s: cannot create: %s", rate_dir, strerror(errno));
    else if (fe_mkdir_p(o->out_dir) != 0)
        st = fe_err_set(err, FE_EIO, "%s: cannot create: %s", o->out_dir, strerror(errno));
    else if (same_dir(rate_dir, o->out_dir) || same_dir(run->dir, o->out_dir))
        st = fe_err_set(err, FE_EINVALID, "--out '%s': the rating set must not go into the run "
                        "directory, which holds its key", o->out_dir);
    cJSON *key = st == FE_OK ? load_key(res->key_path, judge, o->judge, err) : NULL;
    if (st == FE_OK && !key)
        st = FE_EINVALID;
    cJSON *items = cJSON_CreateArray();
    for (size_t i = 0; st == FE_OK && i < take; i++)
        st = build_item(run, o, &c[i], judge, items, cJSON_GetObjectItemCaseSensitive(key, "items"), err);
    if (st == FE_OK)
        st = write_set(o, items, err);
    if (st == FE_OK)
        st = fe_write_json_file(res->key_path, key, err);
    cJSON_Delete(items);
    cJSON_Delete(key);
    free(rate_dir);
    free(c);
    cJSON_Delete(judge);
    return st;
}
