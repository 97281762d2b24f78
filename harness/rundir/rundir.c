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
    uint32_t *slots;            /* index + 1, 0 = empty; n_slots a power of two, load <= 3/4 */
    size_t n_slots;
    char **chunks;              /* the ids' text */
    size_t n_chunks, used, room;
};

/* A loaded record, packed (issue 14, Memory: 32 bytes instead of struct fe_record's 104).
 * Exact: every value decodes to the bits it was read as. Latency is kept as a count of
 * microseconds when that reproduces the double exactly (records write it rounded to 3 decimals),
 * tokens as 16-bit counts; a record whose values do not fit is "wide": its latency field then
 * indexes the arm's table of wide values. The short repeated strings and the attempt count form
 * the record's "shape", interned once per run (a handful of distinct shapes in practice); the
 * dataset line is kept once per id (every arm of a run records an example on the same line). */
enum {
    FE_PK_OK = 1 << 0, FE_PK_STREAM = 1 << 1, FE_PK_USAGE = 1 << 2, FE_PK_COST = 1 << 3,
    FE_PK_CACHE_HIT = 1 << 4, FE_PK_TRUNCATED = 1 << 5, FE_PK_INPUT = 1 << 6,
    FE_PK_REFUSAL = 1 << 7, FE_PK_JUDGEMENTS = 1 << 8, FE_PK_WIDE = 1 << 9,
};
#define FE_PK_FLAG_BITS 16
#define FE_PK_NO_LATENCY UINT32_MAX  /* latency_ms null or absent (NAN) */
#define FE_PK_NARROW_TOKENS UINT16_MAX /* token counts below this fit */
#define FE_PK_NARROW_SHAPES UINT16_MAX /* shape indices below this fit */

struct fe_packed {
    uint64_t where;             /* line offset << FE_PK_FLAG_BITS | FE_PK_* flags */
    double cost_usd;
    uint32_t id;                /* index in the run's id table */
    uint32_t latency;           /* microseconds, FE_PK_NO_LATENCY, or (wide) the wide index */
    uint16_t tokens[3];         /* prompt, completion, cached (not wide) */
    uint16_t shape;             /* index in the run's shape table (not wide) */
};

_Static_assert(sizeof(struct fe_packed) == 32, "a packed record is 32 bytes");

/* The values of a wide record. The dataset line of a narrow record is its id's (the same in
 * every arm of a run, so it is kept once per id: run-private lines). */
struct fe_wide {
    double latency_ms;
    int32_t tokens[3];
    int32_t line;
    uint32_t shape;
};

struct fe_shape {               /* interned strings (fe_run_str) and the attempt count */
    uint32_t error_kind, finish_reason, served_model, slice;
    int32_t attempts;
};

/* One loaded arm (what arm->store points to). The columns that follow a record are indexed by
 * its id index, so sorting the packed records moves nothing else. */
struct fe_arm_store {
    const struct fe_run_private *priv;
    size_t a;
    struct fe_packed *recs;     /* arm->n of them, in dataset order */
    size_t alloc;
    struct fe_wide *wide;
    size_t n_wide, cap_wide;
    double *block;              /* the scores, one column per metric: [m * n + i] after load,
                                 * [m * alloc + i] in file order while loading */
    size_t n_cols;              /* rows in the columns below (ids known when they last grew) */
    double *ttft;               /* id index -> ttft_ms; NULL until a record has one */
    uint32_t *cluster;          /* id index -> interned cluster; NULL until a record has one */
};

/* What run->reserved points to: the id table, each arm's id -> record map, open file and packed
 * records, the pool of interned strings (served model, finish reason, error kind, slice, cluster:
 * a handful of distinct values repeated on every record, so each is stored once per run) and
 * the table of shapes. */
struct fe_run_private {
    struct fe_id_table ids;
    uint32_t **pos;             /* per arm: id index -> record index + 1 (0: no record) */
    size_t *n_pos;
    FILE **files;               /* per arm: its <arm>.jsonl, open until fe_run_free */
    struct fe_arm_store *stores; /* per arm */
    uint32_t *lines;            /* id index -> its dataset line + 2 (0: none yet), n_lines */
    size_t n_lines;
    size_t n_metrics;           /* columns of a score row (at least 1) */
    struct fe_strmap interned;  /* string -> index in strs */
    char **strs;
    size_t n_strs, cap_strs;
    struct fe_shape *shapes;
    size_t n_shapes, cap_shapes;
    uint32_t *shape_slots;      /* open addressing: shape index + 1, 0 = empty */
    size_t n_shape_slots;
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
    if ((t->n + 1) * 4 > t->n_slots * 3) { /* grow at 3/4 full: rehash every index */
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

/* Makes the id-indexed map *col (of *n entries) hold entry k: a fresh zeroed block, not
 * realloc + memset, so entries no id reaches stay untouched (not resident). */
static void fe_idmap_grow(uint32_t **col, size_t *n, size_t k, size_t cap)
{
    if (k < *n)
        return;
    size_t want = cap > k ? cap : k + 1;
    uint32_t *grown = fe_xcalloc(want, sizeof(*grown));
    if (*n)
        memcpy(grown, *col, *n * sizeof(*grown));
    free(*col);
    *col = grown;
    *n = want;
}

/* Sets arm a's record for id index k to record index i. */
static void fe_pos_set(struct fe_run_private *p, size_t a, size_t k, size_t i)
{
    fe_idmap_grow(&p->pos[a], &p->n_pos[a], k, p->ids.cap);
    p->pos[a][k] = (uint32_t)(i + 1);
}

/* Fills the numbers of rec from a parsed record line; the caller frees j. */
static void fe_record_from_json(struct fe_record *rec, const cJSON *j, const struct fe_run *run,
                                double *scores, size_t step)
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
        scores[m * step] = fe_json_getn_or(sc, run->metrics[m], 0);
    rec->served_model = fe_run_intern(run, fe_json_gets(j, "model"));
    rec->slice = fe_run_intern(run, fe_json_gets(j, "slice"));
    rec->cluster = fe_run_intern(run, fe_json_gets(j, "cluster"));
}

/* Reads the line at offset of f into a new string (without its newline); NULL when unreadable. */
static char *fe_pread_line(FILE *f, long offset, size_t *len)
{
    size_t cap = 1024, n = 0;
    char *text = fe_xmalloc(cap + 1);
    for (;;) {
        ssize_t got = pread(fileno(f), text + n, cap - n, (off_t)offset + (off_t)n);
        if (got < 0) {
            free(text);
            return NULL;
        }
        char *nl = memchr(text + n, '\n', (size_t)got);
        if (nl || got == 0) { /* the line's end, or the end of the file (a last line without one) */
            n = nl ? (size_t)(nl - text) : n;
            text[n] = '\0';
            *len = n;
            return text;
        }
        n += (size_t)got;
        if (n == cap) {
            cap *= 2;
            text = fe_xrealloc(text, cap + 1);
        }
    }
}

void fe_run_record_text(const struct fe_run *run, const struct fe_record *r,
                        struct fe_record_text *out)
{
    memset(out, 0, sizeof(*out));
    size_t len = 0;
    char *text = fe_pread_line(fe_run_priv(run)->files[r->arm], r->offset, &len);
    cJSON *j = text ? cJSON_ParseWithLength(text, len) : NULL;
    free(text);
    if (!j || strcmp(fe_json_gets_or(j, "id", ""), r->id) != 0) {
        /* The figures already read came from the old file: nothing built from this run can be
         * trusted, so the command stops (exit 4, aborted) before it writes anything more. */
        fe_error("%s/%s.jsonl: the record '%s' at byte %ld no longer reads back (the file was "
                 "changed while it was read): stopped; run the command again", run->dir,
                 run->arms[r->arm].name, r->id, r->offset);
        exit(FE_EXIT_ABORTED);
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

static size_t fe_shape_hash(const struct fe_shape *s)
{
    uint64_t h = 1469598103934665603ULL; /* FNV-1a over the five fields */
    const uint32_t v[5] = {s->error_kind, s->finish_reason, s->served_model, s->slice,
                           (uint32_t)s->attempts};
    for (size_t i = 0; i < 5; i++)
        h = (h ^ v[i]) * 1099511628211ULL;
    return (size_t)h;
}

static bool fe_shape_eq(const struct fe_shape *a, const struct fe_shape *b)
{
    return a->error_kind == b->error_kind && a->finish_reason == b->finish_reason &&
           a->served_model == b->served_model && a->slice == b->slice &&
           a->attempts == b->attempts;
}

/* The slot of s in p's shape table: holding its index + 1, or the empty slot where it goes. */
static uint32_t *fe_shape_slot(const struct fe_run_private *p, const struct fe_shape *s)
{
    size_t mask = p->n_shape_slots - 1;
    for (size_t i = fe_shape_hash(s) & mask;; i = (i + 1) & mask)
        if (!p->shape_slots[i] || fe_shape_eq(&p->shapes[p->shape_slots[i] - 1], s))
            return &p->shape_slots[i];
}

/* Index of s in p's shape table, added when new. */
static uint32_t fe_shape_intern(struct fe_run_private *p, const struct fe_shape *s)
{
    if (p->n_shape_slots) {
        uint32_t at = *fe_shape_slot(p, s);
        if (at)
            return at - 1;
    }
    if ((p->n_shapes + 1) * 2 > p->n_shape_slots) { /* grow: rehash every index */
        free(p->shape_slots);
        p->n_shape_slots = p->n_shape_slots ? p->n_shape_slots * 2 : 64;
        p->shape_slots = fe_xcalloc(p->n_shape_slots, sizeof(*p->shape_slots));
        for (size_t i = 0; i < p->n_shapes; i++)
            *fe_shape_slot(p, &p->shapes[i]) = (uint32_t)(i + 1);
    }
    if (p->n_shapes == p->cap_shapes) {
        p->cap_shapes = p->cap_shapes ? p->cap_shapes * 2 : 16;
        p->shapes = fe_xreallocarray(p->shapes, p->cap_shapes, sizeof(*p->shapes));
    }
    p->shapes[p->n_shapes] = *s;
    *fe_shape_slot(p, s) = (uint32_t)(p->n_shapes + 1);
    return (uint32_t)p->n_shapes++;
}

/* Makes st's id-indexed columns (ttft, cluster) hold row k. New rows are not cleared: a row is
 * only read for an id with a record in this arm, and loading that record wrote it (so the
 * untouched rows of a large column never become resident memory). */
static void fe_store_cols(struct fe_arm_store *st, size_t k, size_t cap)
{
    if (k < st->n_cols)
        return;
    size_t n = cap > k ? cap : k + 1;
    if (st->ttft)
        st->ttft = fe_xreallocarray(st->ttft, n, sizeof(double));
    if (st->cluster)
        st->cluster = fe_xreallocarray(st->cluster, n, sizeof(uint32_t));
    st->n_cols = n;
}

/* Resizes st's records and score columns to hold alloc records (at least the n stored). The
 * columns keep one stride, alloc, so a record's scores are written where they stay: growing
 * moves the columns apart (last first), shrinking moves them together (first first). Large
 * blocks are mapped, so the reallocations remap rather than copy. */
static void fe_store_grow(struct fe_arm_store *st, size_t n, size_t alloc, size_t n_metrics)
{
    size_t old = st->alloc;
    if (n_metrics && alloc > old) {
        st->block = fe_xreallocarray(st->block, alloc, n_metrics * sizeof(double));
        for (size_t m = n_metrics; m-- > 1;)
            memmove(st->block + m * alloc, st->block + m * old, n * sizeof(double));
    } else if (n_metrics && alloc < old) {
        for (size_t m = 1; m < n_metrics; m++)
            memmove(st->block + m * alloc, st->block + m * old, n * sizeof(double));
        st->block = fe_xreallocarray(st->block, alloc, n_metrics * sizeof(double));
    }
    st->recs = fe_xreallocarray(st->recs, alloc, sizeof(*st->recs));
    st->alloc = alloc;
}

/* The latency in whole microseconds when that gives back exactly x, else -1. */
static long long fe_latency_us(double x)
{
    if (!(x >= 0 && x < (double)FE_PK_NO_LATENCY / 1000) || signbit(x))
        return -1;
    long long us = llround(x * 1000.0);
    return (double)us / 1000.0 == x ? us : -1;
}

static bool fe_token_narrow(int32_t t)
{
    return t >= 0 && t < FE_PK_NARROW_TOKENS;
}

/* Packs r (the record of id index k) into out; its ttft and cluster go to st's columns. */
static void fe_pack(struct fe_run_private *p, struct fe_arm_store *st, const struct fe_record *r,
                    size_t k, struct fe_packed *out)
{
    unsigned flags = (r->ok ? FE_PK_OK : 0) | (r->stream ? FE_PK_STREAM : 0) |
                     (r->has_usage ? FE_PK_USAGE : 0) | (r->has_cost ? FE_PK_COST : 0) |
                     (r->cache_hit ? FE_PK_CACHE_HIT : 0) |
                     (r->input_truncated ? FE_PK_TRUNCATED : 0) | (r->has_input ? FE_PK_INPUT : 0) |
                     (r->has_refusal ? FE_PK_REFUSAL : 0) |
                     (r->has_judgements ? FE_PK_JUDGEMENTS : 0);
    long long us = isnan(r->latency_ms) ? (long long)FE_PK_NO_LATENCY : fe_latency_us(r->latency_ms);
    struct fe_shape sh = {r->error_kind, r->finish_reason, r->served_model, r->slice, r->attempts};
    uint32_t shape = fe_shape_intern(p, &sh);
    /* the id's line: the first record of the id sets it; a record on another line is wide */
    fe_idmap_grow(&p->lines, &p->n_lines, k, p->ids.cap);
    if (!p->lines[k] && r->line >= -1)
        p->lines[k] = (uint32_t)((int64_t)r->line + 2);
    bool wide = us < 0 || !fe_token_narrow(r->prompt_tokens) ||
                !fe_token_narrow(r->completion_tokens) || !fe_token_narrow(r->cached_tokens) ||
                shape >= FE_PK_NARROW_SHAPES || r->line < -1 ||
                p->lines[k] != (uint32_t)((int64_t)r->line + 2);
    memset(out, 0, sizeof(*out));
    out->id = (uint32_t)k;
    out->cost_usd = r->cost_usd;
    if (wide) {
        if (st->n_wide == st->cap_wide) {
            st->cap_wide = st->cap_wide ? st->cap_wide * 2 : 16;
            st->wide = fe_xreallocarray(st->wide, st->cap_wide, sizeof(*st->wide));
        }
        st->wide[st->n_wide] = (struct fe_wide){
            r->latency_ms, {r->prompt_tokens, r->completion_tokens, r->cached_tokens}, r->line, shape};
        out->latency = (uint32_t)st->n_wide++;
        flags |= FE_PK_WIDE;
    } else {
        out->latency = (uint32_t)us;
        out->tokens[0] = (uint16_t)r->prompt_tokens;
        out->tokens[1] = (uint16_t)r->completion_tokens;
        out->tokens[2] = (uint16_t)r->cached_tokens;
        out->shape = (uint16_t)shape;
    }
    out->where = (uint64_t)r->offset << FE_PK_FLAG_BITS | flags;
    /* ttft and cluster columns only once a record has one: the rows of the records before it
     * get "none" */
    if (!isnan(r->ttft_ms) && !st->ttft) {
        st->ttft = fe_xreallocarray(NULL, st->n_cols, sizeof(double));
        for (size_t i = 0; i < st->n_cols; i++)
            st->ttft[i] = NAN;
    }
    if (st->ttft)
        st->ttft[k] = r->ttft_ms;
    if (r->cluster && !st->cluster)
        st->cluster = fe_xcalloc(st->n_cols, sizeof(uint32_t));
    if (st->cluster)
        st->cluster[k] = r->cluster;
}

static bool fe_pk_wide(const struct fe_packed *pk)
{
    return pk->where & FE_PK_WIDE;
}

static int32_t fe_pk_line(const struct fe_arm_store *st, const struct fe_packed *pk)
{
    return fe_pk_wide(pk) ? st->wide[pk->latency].line
                          : (int32_t)((int64_t)st->priv->lines[pk->id] - 2);
}

const struct fe_record *fe_arm_record(const struct fe_arm_run *arm, size_t i, struct fe_record *buf)
{
    if (arm->built)
        return &arm->built[i];
    const struct fe_arm_store *st = arm->store;
    const struct fe_run_private *p = st->priv;
    const struct fe_packed *pk = &st->recs[i];
    unsigned flags = (unsigned)(pk->where & ((1u << FE_PK_FLAG_BITS) - 1));
    const struct fe_shape *sh = &p->shapes[fe_pk_wide(pk) ? st->wide[pk->latency].shape : pk->shape];
    memset(buf, 0, sizeof(*buf));
    buf->id = p->ids.ids[pk->id];
    buf->ok = flags & FE_PK_OK;
    buf->stream = flags & FE_PK_STREAM;
    buf->has_usage = flags & FE_PK_USAGE;
    buf->has_cost = flags & FE_PK_COST;
    buf->cache_hit = flags & FE_PK_CACHE_HIT;
    buf->input_truncated = flags & FE_PK_TRUNCATED;
    buf->has_input = flags & FE_PK_INPUT;
    buf->has_refusal = flags & FE_PK_REFUSAL;
    buf->has_judgements = flags & FE_PK_JUDGEMENTS;
    buf->arm = (unsigned short)st->a;
    buf->offset = (long)(pk->where >> FE_PK_FLAG_BITS);
    buf->error_kind = sh->error_kind;
    buf->finish_reason = sh->finish_reason;
    buf->served_model = sh->served_model;
    buf->slice = sh->slice;
    buf->cluster = st->cluster ? st->cluster[pk->id] : 0;
    buf->line = fe_pk_line(st, pk);
    buf->attempts = sh->attempts;
    if (flags & FE_PK_WIDE) {
        const struct fe_wide *w = &st->wide[pk->latency];
        buf->latency_ms = w->latency_ms;
        buf->prompt_tokens = w->tokens[0];
        buf->completion_tokens = w->tokens[1];
        buf->cached_tokens = w->tokens[2];
    } else {
        buf->latency_ms = pk->latency == FE_PK_NO_LATENCY ? NAN : (double)pk->latency / 1000.0;
        buf->prompt_tokens = pk->tokens[0];
        buf->completion_tokens = pk->tokens[1];
        buf->cached_tokens = pk->tokens[2];
    }
    buf->ttft_ms = st->ttft ? st->ttft[pk->id] : NAN;
    buf->cost_usd = pk->cost_usd;
    buf->score_col = st->block ? st->block + i : NULL;
    buf->score_step = arm->n;
    return buf;
}

const double *fe_arm_scores(const struct fe_arm_run *arm)
{
    return arm->built ? NULL : ((const struct fe_arm_store *)arm->store)->block;
}

/* Reads arm a's records (its file stays open for fe_run_record_text) into its packed store. */
static enum fe_status fe_load_arm(struct fe_run *run, size_t a, struct fe_err *err)
{
    struct fe_arm_run *arm = &run->arms[a];
    struct fe_run_private *p = fe_run_priv(run);
    struct fe_arm_store *st = &p->stores[a];
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
    size_t cap = 0, lineno = 0;
    long offset = 0;
    ssize_t got;
    enum fe_status st_code = FE_OK;
    for (; (got = getline(&line, &cap, f)) > 0; offset += got) {
        lineno++;
        bool complete = line[got - 1] == '\n';
        cJSON *j = cJSON_ParseWithLength(line, (size_t)got);
        if (!j || !cJSON_IsObject(j) || !cJSON_IsString(fe_json_get(j, "id")) ||
            (uint64_t)offset >> (64 - FE_PK_FLAG_BITS)) {
            cJSON_Delete(j);
            if (!complete) { /* torn last line: the run died mid-append */
                fe_warn("%s:%zu: dropping an incomplete last line", path, lineno);
                break;
            }
            fe_err_set(err, FE_EINVALID, "%s:%zu: not a valid result record", path, lineno);
            st_code = FE_EINVALID;
            break;
        }
        size_t k = fe_id_intern(&p->ids, fe_json_get(j, "id")->valuestring);
        size_t at = k < p->n_pos[a] && p->pos[a][k] ? p->pos[a][k] - 1 : arm->n; /* re-recorded after resume: last wins */
        if (at == arm->n && arm->n == st->alloc)
            fe_store_grow(st, arm->n, st->alloc ? st->alloc * 2 : 256, run->n_metrics);
        fe_store_cols(st, k, p->ids.cap);
        struct fe_record r = {.id = p->ids.ids[k], .arm = (unsigned short)a, .offset = offset};
        fe_record_from_json(&r, j, run, st->block ? st->block + at : NULL, st->alloc);
        cJSON_Delete(j);
        fe_pack(p, st, &r, k, &st->recs[at]);
        if (at == arm->n)
            fe_pos_set(p, a, k, arm->n++);
    }
    free(line);
    free(path);
    if (arm->n) /* give back the growth slack */
        fe_store_grow(st, arm->n, arm->n, run->n_metrics);
    return st_code;
}

/* The arm whose records are sorted (qsort has no context argument). */
static _Thread_local const struct fe_arm_store *fe_sort_arm;

/* Dataset order: by the record's dataset line, records without one after those with one, ties
 * and line-less records by id. Every statistic is computed over the records in this order, so a
 * resumed, shuffled or uninterrupted run gives the same bits (floating-point sums depend on
 * order). Ids are unique within an arm, so the order is total. Compares record indices. */
static int fe_record_order(const void *pa, const void *pb)
{
    const struct fe_packed *a = &fe_sort_arm->recs[*(const uint32_t *)pa];
    const struct fe_packed *b = &fe_sort_arm->recs[*(const uint32_t *)pb];
    int32_t line_a = fe_pk_line(fe_sort_arm, a), line_b = fe_pk_line(fe_sort_arm, b);
    bool la = line_a >= 0, lb = line_b >= 0;
    if (la != lb)
        return la ? -1 : 1;
    if (la && line_a != line_b)
        return line_a < line_b ? -1 : 1;
    const struct fe_id_table *ids = &fe_sort_arm->priv->ids;
    return strcmp(ids->ids[a->id], ids->ids[b->id]);
}

/* Puts arm a's records and score columns in dataset order. What is sorted is a permutation of
 * 4-byte indices (sorting the 32-byte records themselves made qsort hold a copy of them all);
 * it is then applied in place, cycle by cycle, to the records and each column alike. */
static void fe_arm_sort(struct fe_run *run, size_t a)
{
    struct fe_arm_run *arm = &run->arms[a];
    struct fe_run_private *p = fe_run_priv(run);
    struct fe_arm_store *st = &p->stores[a];
    size_t n = arm->n, nm = st->block ? run->n_metrics : 0;
    if (n < 2)
        return;
    uint32_t *perm = fe_xreallocarray(NULL, n, sizeof(*perm));
    for (size_t i = 0; i < n; i++)
        perm[i] = (uint32_t)i;
    fe_sort_arm = st;
    qsort(perm, n, sizeof(*perm), fe_record_order);
    fe_sort_arm = NULL;
    double *row = fe_xcalloc(nm ? nm : 1, sizeof(*row));
    for (size_t i = 0; i < n; i++) { /* position j takes the record that was at perm[j] */
        if (perm[i] == i)
            continue;
        struct fe_packed rec = st->recs[i];
        for (size_t m = 0; m < nm; m++)
            row[m] = st->block[m * n + i];
        size_t j = i;
        for (;;) {
            size_t k = perm[j];
            perm[j] = (uint32_t)j;
            if (k == i)
                break;
            st->recs[j] = st->recs[k];
            for (size_t m = 0; m < nm; m++)
                st->block[m * n + j] = st->block[m * n + k];
            j = k;
        }
        st->recs[j] = rec;
        for (size_t m = 0; m < nm; m++)
            st->block[m * n + j] = row[m];
    }
    free(row);
    free(perm);
    for (size_t i = 0; i < n; i++)
        p->pos[a][st->recs[i].id] = (uint32_t)(i + 1);
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
    priv->stores = fe_xcalloc(run->n_arms + 1, sizeof(*priv->stores));
    priv->n_metrics = run->n_metrics ? run->n_metrics : 1;
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
        priv->stores[a] = (struct fe_arm_store){.priv = priv, .a = a};
        run->arms[a].store = &priv->stores[a];
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
        free(run->arms[a].name);
        free(run->arms[a].model);
        if (priv) {
            struct fe_arm_store *st = &priv->stores[a];
            free(st->recs);
            free(st->wide);
            free(st->block);
            free(st->ttft);
            free(st->cluster);
            free(priv->pos[a]);
            if (priv->files[a])
                fclose(priv->files[a]);
        }
    }
    if (priv) {
        free(priv->pos);
        free(priv->n_pos);
        free(priv->files);
        free(priv->stores);
        free(priv->shapes);
        free(priv->lines);
        free(priv->shape_slots);
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
