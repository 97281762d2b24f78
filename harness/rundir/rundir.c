/* rundir.c — see rundir.h. */
#include "harness/rundir/rundir.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "harness/base/jsonout.h"
#include "harness/base/log.h"
#include "harness/base/strmap.h"
#include "harness/base/util.h"
#include "metrics/metric.h"
#include "metrics/stats_judge.h"

static cJSON *fe_load_json(const char *path, bool required, struct fe_err *err)
{
    size_t len;
    char *text = fe_read_file(path, 0, &len);
    if (!text) {
        if (required)
            fe_err_set(err, FE_EIO, "%s: cannot read: %s", path, strerror(errno));
        return NULL;
    }
    cJSON *j = cJSON_ParseWithLength(text, len);
    free(text);
    if (!j)
        fe_err_set(err, FE_EINVALID, "%s: invalid JSON", path);
    return j;
}

/* The run-wide id table: each distinct id once (all arms share it, so an example's id is held
 * once, not once per arm), its text in large chunks, found by an open-addressing hash of indices. */
struct fe_id_table {
    const char **ids;           /* index -> id */
    size_t n, cap;
    uint32_t *slots;            /* index + 1, 0 = empty; n_slots a power of two, load <= 1/2 */
    size_t n_slots;
    char **chunks;              /* the ids' text */
    size_t n_chunks, used, room;
};

/* What run->reserved points to: the id table, each arm's id -> record map and open file, and
 * the pool of interned strings (served model, finish reason, error kind, slice, cluster: a
 * handful of distinct values repeated on every record, so each is stored once per run). */
struct fe_run_private {
    struct fe_id_table ids;
    uint32_t **pos;             /* per arm: id index -> record index + 1 (0: no record) */
    size_t *n_pos;
    FILE **files;               /* per arm: its <arm>.jsonl, open until fe_run_free */
    double **cols;              /* per arm: the score column, n x n_metrics */
    struct fe_strmap interned;  /* string -> index in strs */
    char **strs;
    size_t n_strs, cap_strs;
};

static struct fe_run_private *fe_run_priv(const struct fe_run *run)
{
    return (struct fe_run_private *)run->reserved;
}

/* The index + 1 of the run's copy of s (NULL: 0); it lives until fe_run_free. */
static uint32_t fe_run_intern(const struct fe_run *run, const char *s)
{
    if (!s)
        return 0;
    struct fe_run_private *p = fe_run_priv(run);
    size_t at;
    if (fe_strmap_get(&p->interned, s, &at))
        return (uint32_t)(at + 1);
    if (p->n_strs == p->cap_strs) {
        p->cap_strs = p->cap_strs ? p->cap_strs * 2 : 16;
        p->strs = fe_xreallocarray(p->strs, p->cap_strs, sizeof(*p->strs));
    }
    p->strs[p->n_strs] = fe_xstrdup(s);
    fe_strmap_put(&p->interned, s, p->n_strs);
    return (uint32_t)++p->n_strs;
}

const char *fe_run_str(const struct fe_run *run, uint32_t k)
{
    return k ? fe_run_priv(run)->strs[k - 1] : NULL;
}

/* A count or line number of a record as an int32 (saturated: real ones are far smaller). */
static int32_t fe_i32(double v)
{
    return v >= INT32_MAX ? INT32_MAX : v <= INT32_MIN ? INT32_MIN : (int32_t)v;
}

/* The slot of id in t: holding its index + 1, or the empty slot where it goes. */
static uint32_t *fe_id_slot(const struct fe_id_table *t, const char *id)
{
    size_t mask = t->n_slots - 1;
    for (size_t i = fe_strmap_hash(id) & mask;; i = (i + 1) & mask)
        if (!t->slots[i] || strcmp(t->ids[t->slots[i] - 1], id) == 0)
            return &t->slots[i];
}

/* Index of id in t, or -1. */
static long fe_id_find(const struct fe_id_table *t, const char *id)
{
    if (!t->n_slots)
        return -1;
    uint32_t at = *fe_id_slot(t, id);
    return at ? (long)at - 1 : -1;
}

/* A copy of the len bytes of s (and a NUL) in t's chunks. */
static const char *fe_id_store(struct fe_id_table *t, const char *s, size_t len)
{
    if (len + 1 > t->room) {
        size_t size = len + 1 > 65536 ? len + 1 : 65536;
        t->chunks = fe_xreallocarray(t->chunks, t->n_chunks + 1, sizeof(*t->chunks));
        t->chunks[t->n_chunks++] = fe_xmalloc(size);
        t->used = 0;
        t->room = size;
    }
    char *out = t->chunks[t->n_chunks - 1] + t->used;
    memcpy(out, s, len + 1);
    t->used += len + 1;
    t->room -= len + 1;
    return out;
}

/* Index of id in t, added when new. */
static size_t fe_id_intern(struct fe_id_table *t, const char *id)
{
    long at = fe_id_find(t, id);
    if (at >= 0)
        return (size_t)at;
    if ((t->n + 1) * 2 > t->n_slots) { /* grow: rehash every index */
        free(t->slots);
        t->n_slots = t->n_slots ? t->n_slots * 2 : 1024;
        t->slots = fe_xcalloc(t->n_slots, sizeof(*t->slots));
        for (size_t i = 0; i < t->n; i++)
            *fe_id_slot(t, t->ids[i]) = (uint32_t)(i + 1);
    }
    if (t->n == t->cap) {
        t->cap = t->cap ? t->cap * 2 : 1024;
        t->ids = fe_xreallocarray(t->ids, t->cap, sizeof(*t->ids));
    }
    t->ids[t->n] = fe_id_store(t, id, strlen(id));
    *fe_id_slot(t, id) = (uint32_t)(t->n + 1);
    return t->n++;
}

static void fe_id_release(struct fe_id_table *t)
{
    for (size_t i = 0; i < t->n_chunks; i++)
        free(t->chunks[i]);
    free(t->chunks);
    free(t->ids);
    free(t->slots);
}

/* Sets arm a's record for id index k to record index i. */
static void fe_pos_set(struct fe_run_private *p, size_t a, size_t k, size_t i)
{
    if (k >= p->n_pos[a]) {
        size_t n = p->ids.cap > k ? p->ids.cap : k + 1;
        p->pos[a] = fe_xreallocarray(p->pos[a], n, sizeof(*p->pos[a]));
        memset(p->pos[a] + p->n_pos[a], 0, (n - p->n_pos[a]) * sizeof(*p->pos[a]));
        p->n_pos[a] = n;
    }
    p->pos[a][k] = (uint32_t)(i + 1);
}

/* Fills the numbers of rec from a parsed record line; the caller frees j. */
static void fe_record_from_json(struct fe_record *rec, const cJSON *j, const struct fe_run *run,
                                double *scores)
{
    const cJSON *status = fe_json_get(j, "status");
    rec->ok = cJSON_IsString(status) && strcmp(status->valuestring, "ok") == 0;
    const cJSON *error = fe_json_get(j, "error");
    rec->error_kind = cJSON_IsObject(error) ? fe_run_intern(run, fe_json_gets(error, "kind")) : 0;
    rec->finish_reason = fe_run_intern(run, fe_json_gets(j, "finish_reason"));
    /* null (offline arms: replay, score) or absent: no latency measured, never 0 ms */
    rec->latency_ms = fe_json_getn_or(j, "latency_ms", NAN);
    rec->ttft_ms = fe_json_getn_or(j, "ttft_ms", NAN); /* streamed records only (issue 15) */
    rec->stream = cJSON_IsTrue(fe_json_get(j, "stream"));
    rec->line = fe_i32(fe_json_getn_or(j, "line", -1));
    rec->attempts = fe_i32(fe_json_getn_or(j, "attempts", 0));
    const cJSON *usage = fe_json_get(j, "usage");
    rec->has_usage = cJSON_IsObject(usage);
    rec->prompt_tokens = fe_i32(fe_json_getn_or(usage, "prompt_tokens", 0));
    rec->completion_tokens = fe_i32(fe_json_getn_or(usage, "completion_tokens", 0));
    rec->cached_tokens = fe_i32(fe_json_getn_or(usage, "cached_tokens", 0));
    const cJSON *cost = fe_json_get(j, "cost_usd");
    rec->has_cost = cJSON_IsNumber(cost);
    rec->cost_usd = rec->has_cost ? cost->valuedouble : 0;
    rec->cache_hit = cJSON_IsTrue(fe_json_get(j, "cache_hit"));
    rec->input_truncated = cJSON_IsTrue(fe_json_get(j, "input_truncated"));
    rec->has_input = fe_json_gets(j, "input") != NULL;
    const char *refusal = fe_json_gets(j, "refusal");
    rec->has_refusal = refusal && *refusal;
    const cJSON *judgements = fe_json_get(j, "judgements");
    rec->has_judgements = judgements && !cJSON_IsNull(judgements);
    const cJSON *sc = fe_json_get(j, "scores");
    for (size_t m = 0; m < run->n_metrics; m++)
        scores[m] = fe_json_getn_or(sc, run->metrics[m], 0);
    rec->served_model = fe_run_intern(run, fe_json_gets(j, "model"));
    rec->slice = fe_run_intern(run, fe_json_gets(j, "slice"));
    rec->cluster = fe_run_intern(run, fe_json_gets(j, "cluster"));
}

void fe_run_record_text(const struct fe_run *run, const struct fe_record *r,
                        struct fe_record_text *out)
{
    memset(out, 0, sizeof(*out));
    char *text = fe_xmalloc((size_t)r->len + 1);
    FILE *f = fe_run_priv(run)->files[r->arm];
    ssize_t got = pread(fileno(f), text, r->len, (off_t)r->offset);
    cJSON *j = got == (ssize_t)r->len ? cJSON_ParseWithLength(text, r->len) : NULL;
    free(text);
    if (!j || strcmp(fe_json_gets_or(j, "id", ""), r->id) != 0) {
        fprintf(stderr, "fteval: error: %s/%s.jsonl: the record '%s' at byte %ld no longer reads "
                "back (the file was changed while it was read)\n", run->dir,
                run->arms[r->arm].name, r->id, r->offset);
        abort();
    }
    out->json = j;
    out->prediction = fe_json_gets_or(j, "prediction", "");
    out->gold = fe_json_get(j, "gold");
    out->input = fe_json_gets(j, "input");
    out->refusal = fe_json_gets(j, "refusal");
}

void fe_record_text_release(struct fe_record_text *t)
{
    cJSON_Delete(t->json);
    memset(t, 0, sizeof(*t));
}

/* Reads arm a's records (its file stays open for fe_run_record_text); the scores go to a
 * column in file order, each record pointing at its row. */
static enum fe_status fe_load_arm(struct fe_run *run, size_t a, struct fe_err *err)
{
    struct fe_arm_run *arm = &run->arms[a];
    struct fe_run_private *p = fe_run_priv(run);
    size_t nm = run->n_metrics ? run->n_metrics : 1;
    char *path = fe_xasprintf("%s/%s.jsonl", run->dir, arm->name);
    FILE *f = fopen(path, "rb");
    if (!f) {
        free(path);
        if (errno == ENOENT) /* an arm that never started has no records */
            return FE_OK;
        fe_err_set(err, FE_EIO, "%s/%s.jsonl: cannot open: %s", run->dir, arm->name, strerror(errno));
        return FE_EIO;
    }
    p->files[a] = f;
    char *line = NULL;
    size_t cap = 0, alloc = 0, lineno = 0;
    long offset = 0;
    ssize_t got;
    enum fe_status st = FE_OK;
    for (; (got = getline(&line, &cap, f)) > 0; offset += got) {
        lineno++;
        bool complete = line[got - 1] == '\n';
        cJSON *j = cJSON_ParseWithLength(line, (size_t)got);
        if (!j || !cJSON_IsObject(j) || !cJSON_IsString(fe_json_get(j, "id")) || got > (ssize_t)UINT_MAX) {
            cJSON_Delete(j);
            if (!complete) { /* torn last line: the run died mid-append */
                fe_warn("%s:%zu: dropping an incomplete last line", path, lineno);
                break;
            }
            fe_err_set(err, FE_EINVALID, "%s:%zu: not a valid result record", path, lineno);
            st = FE_EINVALID;
            break;
        }
        size_t k = fe_id_intern(&p->ids, fe_json_get(j, "id")->valuestring);
        size_t at = k < p->n_pos[a] && p->pos[a][k] ? p->pos[a][k] - 1 : arm->n; /* re-recorded after resume: last wins */
        if (at == arm->n && arm->n == alloc) {
            alloc = alloc ? alloc * 2 : 256;
            arm->store = fe_xreallocarray(arm->store, alloc, sizeof(struct fe_record));
            p->cols[a] = fe_xreallocarray(p->cols[a], alloc, nm * sizeof(double));
        }
        struct fe_record *r = &((struct fe_record *)arm->store)[at];
        memset(r, 0, sizeof(*r));
        r->id = p->ids.ids[k];
        r->arm = (unsigned short)a;
        r->offset = offset;
        r->len = (unsigned)got;
        fe_record_from_json(r, j, run, &p->cols[a][at * nm]);
        cJSON_Delete(j);
        if (at == arm->n)
            fe_pos_set(p, a, k, arm->n++);
    }
    free(line);
    free(path);
    if (arm->n) { /* give back the growth slack */
        arm->store = fe_xreallocarray(arm->store, arm->n, sizeof(struct fe_record));
        p->cols[a] = fe_xreallocarray(p->cols[a], arm->n, nm * sizeof(double));
    }
    for (size_t i = 0; i < arm->n; i++) /* the column is complete: no more moves */
        ((struct fe_record *)arm->store)[i].scores = &p->cols[a][i * nm];
    return st;
}

/* Dataset order: by the record's dataset line, records without one after those with one, ties
 * and line-less records by id. Every statistic is computed over the records in this order, so a
 * resumed, shuffled or uninterrupted run gives the same bits (floating-point sums depend on
 * order). Ids are unique within an arm, so the order is total. */
static int fe_record_order(const void *pa, const void *pb)
{
    const struct fe_record *a = pa, *b = pb;
    bool la = a->line >= 0, lb = b->line >= 0;
    if (la != lb)
        return la ? -1 : 1;
    if (la && a->line != b->line)
        return a->line < b->line ? -1 : 1;
    return strcmp(a->id, b->id);
}

static void fe_arm_sort(struct fe_run *run, size_t a)
{
    struct fe_arm_run *arm = &run->arms[a];
    struct fe_run_private *p = fe_run_priv(run);
    if (arm->n < 2)
        return;
    qsort(arm->store, arm->n, sizeof(struct fe_record), fe_record_order);
    for (size_t i = 0; i < arm->n; i++)
        p->pos[a][fe_id_find(&p->ids, ((struct fe_record *)arm->store)[i].id)] = (uint32_t)(i + 1);
}

enum fe_status fe_run_load(const char *dir, struct fe_run **out, struct fe_err *err)
{
    struct fe_run *run = fe_xcalloc(1, sizeof(*run));
    run->dir = fe_xstrdup(dir);
    char *mpath = fe_xasprintf("%s/manifest.json", dir);
    run->manifest = fe_load_json(mpath, true, err);
    free(mpath);
    if (!run->manifest)
        goto fail;
    char *spath = fe_xasprintf("%s/summary.json", dir);
    struct fe_err ignore = {0};
    run->summary = fe_load_json(spath, false, &ignore);
    free(spath);

    const cJSON *metrics = fe_json_get(run->manifest, "metrics");
    const cJSON *arms = fe_json_get(run->manifest, "arms");
    if (!cJSON_IsArray(metrics) || !cJSON_IsArray(arms)) {
        fe_err_set(err, FE_EINVALID, "%s/manifest.json: field 'arms' or 'metrics': missing", dir);
        goto fail;
    }
    run->n_metrics = (size_t)cJSON_GetArraySize(metrics);
    run->metrics = fe_xcalloc(run->n_metrics + 1, sizeof(*run->metrics));
    run->metric_binary = fe_xcalloc(run->n_metrics + 1, sizeof(*run->metric_binary));
    size_t m = 0;
    const cJSON *v;
    cJSON_ArrayForEach(v, metrics) {
        if (!cJSON_IsString(v)) {
            fe_err_set(err, FE_EINVALID, "%s/manifest.json: field 'metrics[%zu]': not a string", dir, m);
            goto fail;
        }
        run->metrics[m] = fe_xstrdup(v->valuestring);
        const struct fe_metric *def = fe_metric_find(v->valuestring);
        run->metric_binary[m] = def ? def->binary : fe_metric_is_judge_pass(v->valuestring); /* judge:N.pass */
        m++;
    }
    run->n_arms = (size_t)cJSON_GetArraySize(arms);
    run->arms = fe_xcalloc(run->n_arms + 1, sizeof(*run->arms));
    struct fe_run_private *priv = fe_xcalloc(1, sizeof(*priv));
    priv->pos = fe_xcalloc(run->n_arms + 1, sizeof(*priv->pos));
    priv->n_pos = fe_xcalloc(run->n_arms + 1, sizeof(*priv->n_pos));
    priv->files = fe_xcalloc(run->n_arms + 1, sizeof(*priv->files));
    priv->cols = fe_xcalloc(run->n_arms + 1, sizeof(*priv->cols));
    fe_strmap_init(&priv->interned);
    run->reserved = priv;
    size_t a = 0;
    cJSON_ArrayForEach(v, arms) {
        run->arms[a].name = fe_json_dupstr(v, "name");
        run->arms[a].model = fe_json_dupstr(v, "model");
        if (!run->arms[a].name) {
            fe_err_set(err, FE_EINVALID, "%s/manifest.json: field 'arms[%zu].name': missing", dir, a);
            goto fail;
        }
        a++;
    }
    if (run->n_arms > USHRT_MAX) {
        fe_err_set(err, FE_EINVALID, "%s/manifest.json: field 'arms': more than %u arms", dir, USHRT_MAX);
        goto fail;
    }
    for (a = 0; a < run->n_arms; a++) {
        if (fe_load_arm(run, a, err) != FE_OK)
            goto fail;
        fe_arm_sort(run, a);
    }
    *out = run;
    return FE_OK;
fail:
    fe_run_free(run);
    return err->code ? err->code : FE_EINVALID;
}

void fe_run_free(struct fe_run *run)
{
    if (!run)
        return;
    struct fe_run_private *priv = fe_run_priv(run);
    for (size_t a = 0; a < run->n_arms; a++) {
        free(run->arms[a].store);
        free(run->arms[a].name);
        free(run->arms[a].model);
        if (priv) {
            free(priv->pos[a]);
            free(priv->cols[a]);
            if (priv->files[a])
                fclose(priv->files[a]);
        }
    }
    if (priv) {
        free(priv->pos);
        free(priv->n_pos);
        free(priv->files);
        free(priv->cols);
        fe_id_release(&priv->ids);
        for (size_t i = 0; i < priv->n_strs; i++)
            free(priv->strs[i]);
        free(priv->strs);
        fe_strmap_release(&priv->interned);
        free(priv);
    }
    free(run->arms);
    for (size_t m = 0; m < run->n_metrics; m++)
        free(run->metrics[m]);
    free(run->metrics);
    free(run->metric_binary);
    cJSON_Delete(run->manifest);
    cJSON_Delete(run->summary);
    free(run->dir);
    free(run);
}

const struct fe_record *fe_arm_record(const struct fe_arm_run *arm, size_t i, struct fe_record *buf)
{
    if (arm->built)
        return &arm->built[i];
    (void)buf; /* packed storage comes next: then buf holds the decoded record */
    return &((const struct fe_record *)arm->store)[i];
}

long fe_run_arm_index(const struct fe_run *run, const char *name)
{
    for (size_t a = 0; a < run->n_arms; a++)
        if (strcmp(run->arms[a].name, name) == 0)
            return (long)a;
    return -1;
}

long fe_run_find_record(const struct fe_run *run, size_t arm, const char *id)
{
    const struct fe_run_private *p = fe_run_priv(run);
    long k = arm < run->n_arms ? fe_id_find(&p->ids, id) : -1;
    if (k < 0 || (size_t)k >= p->n_pos[arm])
        return -1;
    return (long)p->pos[arm][k] - 1;
}
