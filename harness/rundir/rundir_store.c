/* rundir_store.c — a loaded arm's records as columns (rundir_int.h): putting a record in,
 * decoding one (fe_arm_record), and putting the rows and ids in dataset order.
 *
 * Exact: every value decodes to the bits it was read as. A latency is kept as a count of
 * microseconds when that reproduces the double exactly (records write it rounded to 3
 * decimals), tokens as 16-bit counts; a row whose values do not fit is "wide": its latency
 * field then indexes the arm's table of wide values. The short repeated strings and the attempt
 * count form the record's "shape", interned once per run; the token counts and the shape of a
 * row share one 64-bit value, coded by the arm's dictionary of them, and so is the cost. */
#include "harness/rundir/rundir_int.h"

#include "harness/rundir/rundir.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "harness/base/bits.h"
#include "harness/base/util.h"

#define FE_PK_NARROW_TOKENS UINT16_MAX /* token counts below this fit */
#define FE_PK_NARROW_SHAPES UINT16_MAX /* shape indices below this fit */

struct fe_run_private *fe_run_priv_of(const struct fe_run *run)
{
    return (struct fe_run_private *)run->reserved;
}

/* ---- the dictionary-coded columns ---- */

static size_t fe_u64_hash(uint64_t v)
{
    v ^= v >> 33; /* the finalizer of MurmurHash3: every input bit reaches every output bit */
    v *= 0xff51afd7ed558ccdULL;
    v ^= v >> 33;
    v *= 0xc4ceb9fe1a85ec53ULL;
    v ^= v >> 33;
    return (size_t)v;
}

static uint64_t fe_dict_get(const struct fe_dict64 *d, size_t row)
{
    return d->code ? d->vals[d->code[row]] : d->plain[row];
}

/* The slot of v: holding its value index + 1, or the empty slot where it goes. */
static uint32_t *fe_dict_slot(const struct fe_dict64 *d, uint64_t v)
{
    size_t mask = d->n_slots - 1;
    for (size_t i = fe_u64_hash(v) & mask;; i = (i + 1) & mask)
        if (!d->slots[i] || d->vals[d->slots[i] - 1] == v)
            return &d->slots[i];
}

static void fe_dict_grow(struct fe_dict64 *d, size_t alloc)
{
    if (d->plain)
        d->plain = fe_xreallocarray(d->plain, alloc, sizeof(*d->plain));
    else
        d->code = fe_xreallocarray(d->code, alloc, sizeof(*d->code));
}

/* Sets row (of the n in use, or n itself) of d, a column of alloc rows, to v. */
static void fe_dict_set(struct fe_dict64 *d, size_t row, size_t n, size_t alloc, uint64_t v)
{
    if (d->plain) {
        d->plain[row] = v;
        return;
    }
    if (!d->n_slots || (d->n_vals + 1) * 2 > d->n_slots) { /* at most half full */
        free(d->slots);
        d->n_slots = d->n_slots ? 2 * d->n_slots : 64;
        d->slots = fe_xcalloc(d->n_slots, sizeof(*d->slots));
        for (size_t k = 0; k < d->n_vals; k++)
            *fe_dict_slot(d, d->vals[k]) = (uint32_t)(k + 1);
    }
    uint32_t *slot = fe_dict_slot(d, v);
    if (!*slot && d->n_vals == FE_DICT_MAX) { /* one more distinct value: keep the values */
        d->plain = fe_xreallocarray(NULL, alloc, sizeof(*d->plain));
        for (size_t i = 0; i < n; i++)
            d->plain[i] = d->vals[d->code[i]];
        free(d->code);
        free(d->vals);
        free(d->slots);
        *d = (struct fe_dict64){.plain = d->plain};
        d->plain[row] = v;
        return;
    }
    if (!*slot) {
        if (d->n_vals == d->cap_vals) {
            d->cap_vals = d->cap_vals ? 2 * d->cap_vals : 16;
            d->vals = fe_xreallocarray(d->vals, d->cap_vals, sizeof(*d->vals));
        }
        d->vals[d->n_vals] = v;
        *slot = (uint32_t)++d->n_vals;
    }
    d->code[row] = (uint16_t)(*slot - 1);
}

/* Frees what only adding values needs. */
static void fe_dict_done(struct fe_dict64 *d)
{
    if (d->vals && d->n_vals < d->cap_vals) { /* the growth slack */
        d->vals = fe_xreallocarray(d->vals, d->n_vals, sizeof(*d->vals));
        d->cap_vals = d->n_vals;
    }
    free(d->slots);
    d->slots = NULL;
    d->n_slots = 0;
}

static void fe_dict_release(struct fe_dict64 *d)
{
    free(d->code);
    free(d->plain);
    free(d->vals);
    free(d->slots);
    memset(d, 0, sizeof(*d));
}

/* ---- shapes ---- */

static size_t fe_shape_hash(const struct fe_shape *s)
{
    uint64_t h = 1469598103934665603ULL; /* FNV-1a over the six fields */
    const uint32_t v[6] = {s->error_kind, s->finish_reason, s->served_model, s->slice,
                           (uint32_t)s->attempts, s->flags};
    for (size_t i = 0; i < 6; i++)
        h = (h ^ v[i]) * 1099511628211ULL;
    return (size_t)h;
}

static bool fe_shape_eq(const struct fe_shape *a, const struct fe_shape *b)
{
    return a->error_kind == b->error_kind && a->finish_reason == b->finish_reason &&
           a->served_model == b->served_model && a->slice == b->slice &&
           a->attempts == b->attempts && a->flags == b->flags;
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

void fe_shapes_release(struct fe_run_private *p)
{
    free(p->shapes);
    free(p->shape_slots);
}

/* ---- putting records in ---- */

/* The id number of row i: while every row's id number is its row number (an arm read in the
 * order its ids were first seen: the first arm, and any arm written in the same order) there is
 * no id column (4 bytes a row less at the peak of loading). */
static size_t fe_row_id(const struct fe_arm_store *st, size_t i)
{
    return st->id ? st->id[i] : i;
}

/* Makes st keep an id column, holding the row numbers of the n rows so far. */
static void fe_id_column(struct fe_arm_store *st, size_t n)
{
    if (st->id)
        return;
    st->id = fe_xreallocarray(NULL, st->alloc ? st->alloc : 1, sizeof(*st->id));
    for (size_t i = 0; i < n; i++)
        st->id[i] = (uint32_t)i;
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

/* Ids are rarely recorded twice in one arm (a resumed run re-records the examples that failed),
 * so while loading a bit per id tells whether it has a row; the id -> row map is built from the
 * id column at the first id that has one already, and kept up from then on. */
size_t fe_store_row_of(struct fe_arm_store *st, size_t k, size_t n)
{
    if (k / 8 >= st->n_seen || !fe_bit(st->seen, k))
        return n;
    if (!st->pos) {
        st->n_pos = st->n_seen * 8;
        st->pos = fe_xcalloc(st->n_pos, sizeof(*st->pos));
        for (size_t i = 0; i < n; i++) /* the rows read so far */
            st->pos[fe_row_id(st, i)] = (uint32_t)(i + 1);
    }
    return st->pos[k] - 1;
}

void fe_store_set_row(struct fe_arm_store *st, size_t k, size_t row, size_t cap)
{
    fe_bits_grow(&st->seen, &st->n_seen, k, cap);
    fe_bit_set(st->seen, k);
    if (st->pos) {
        fe_idmap_grow(&st->pos, &st->n_pos, k, cap);
        st->pos[k] = (uint32_t)(row + 1);
    }
}

/* Columns that follow the rows: resized together. Large blocks are mapped, so the
 * reallocations remap rather than copy. */
void fe_store_grow(struct fe_arm_store *st, size_t alloc, size_t n_metrics)
{
    if (n_metrics && !st->scores) {
        st->scores = fe_xcalloc(n_metrics, sizeof(*st->scores));
        st->n_scores = n_metrics;
    }
    for (size_t m = 0; m < n_metrics; m++)
        fe_dict_grow(&st->scores[m], alloc);
    if (st->off64)
        st->off64 = fe_xreallocarray(st->off64, alloc, sizeof(*st->off64));
    else
        st->off = fe_xreallocarray(st->off, alloc, sizeof(*st->off));
    st->lat = fe_xreallocarray(st->lat, alloc, sizeof(*st->lat));
    if (st->id)
        st->id = fe_xreallocarray(st->id, alloc, sizeof(*st->id));
    fe_dict_grow(&st->tok, alloc);
    fe_dict_grow(&st->cost, alloc);
    if (st->ttft)
        st->ttft = fe_xreallocarray(st->ttft, alloc, sizeof(*st->ttft));
    if (st->cluster)
        st->cluster = fe_xreallocarray(st->cluster, alloc, sizeof(*st->cluster));
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

static uint64_t fe_bits(double x)
{
    uint64_t u;
    memcpy(&u, &x, sizeof(u));
    return u;
}

void fe_store_set_offset(struct fe_arm_store *st, size_t row, size_t n, long offset)
{
    if (!st->off64 && (unsigned long)offset > UINT32_MAX) { /* from now on, 64-bit offsets */
        st->off64 = fe_xreallocarray(NULL, st->alloc, sizeof(*st->off64));
        for (size_t i = 0; i < n; i++)
            st->off64[i] = st->off[i];
        free(st->off);
        st->off = NULL;
    }
    if (st->off64)
        st->off64[row] = (uint64_t)offset;
    else
        st->off[row] = (uint32_t)offset;
}

long fe_store_offset(const struct fe_arm_store *st, size_t row)
{
    return st->off64 ? (long)st->off64[row] : (long)st->off[row];
}

void fe_store_put(struct fe_run_private *p, struct fe_arm_store *st, size_t row, size_t n,
                  const struct fe_record *r, size_t k, const double *scores)
{
    unsigned flags = (r->ok ? FE_PK_OK : 0) | (r->stream ? FE_PK_STREAM : 0) |
                     (r->has_usage ? FE_PK_USAGE : 0) | (r->has_cost ? FE_PK_COST : 0) |
                     (r->cache_hit ? FE_PK_CACHE_HIT : 0) |
                     (r->input_truncated ? FE_PK_TRUNCATED : 0) | (r->has_input ? FE_PK_INPUT : 0) |
                     (r->has_refusal ? FE_PK_REFUSAL : 0) |
                     (r->has_judgements ? FE_PK_JUDGEMENTS : 0);
    long long us = isnan(r->latency_ms) ? (long long)FE_PK_NO_LATENCY : fe_latency_us(r->latency_ms);
    struct fe_shape sh = {r->error_kind, r->finish_reason, r->served_model, r->slice, r->attempts, flags};
    uint32_t shape = fe_shape_intern(p, &sh);
    /* the id's line: the first record of the id sets it; a record on another line is wide */
    fe_idmap_grow(&p->lines, &p->n_lines, k, p->ids.n_cap);
    if (!p->lines[k] && r->line >= -1)
        p->lines[k] = (uint32_t)((int64_t)r->line + 2);
    bool wide = us < 0 || !fe_token_narrow(r->prompt_tokens) ||
                !fe_token_narrow(r->completion_tokens) || !fe_token_narrow(r->cached_tokens) ||
                shape >= FE_PK_NARROW_SHAPES || r->line < -1 ||
                p->lines[k] != (uint32_t)((int64_t)r->line + 2);
    uint64_t tok = FE_PK_WIDE_TOK;
    if (wide) {
        if (st->n_wide == st->cap_wide) {
            st->cap_wide = st->cap_wide ? st->cap_wide * 2 : 16;
            st->wide = fe_xreallocarray(st->wide, st->cap_wide, sizeof(*st->wide));
        }
        st->wide[st->n_wide] = (struct fe_wide){
            r->latency_ms, {r->prompt_tokens, r->completion_tokens, r->cached_tokens}, r->line, shape};
        st->lat[row] = (uint32_t)st->n_wide++;
    } else {
        st->lat[row] = (uint32_t)us;
        tok = (uint64_t)(uint16_t)r->prompt_tokens | (uint64_t)(uint16_t)r->completion_tokens << 16 |
              (uint64_t)(uint16_t)r->cached_tokens << 32 | (uint64_t)(uint16_t)shape << 48;
    }
    fe_dict_set(&st->tok, row, n, st->alloc, tok);
    uint64_t cost = fe_bits(r->cost_usd);
    if (st->priced && r->has_cost &&
        fe_bits(fe_cost_call(&st->price, r->prompt_tokens, r->cached_tokens, r->completion_tokens,
                             false)) == cost)
        cost = FE_PK_COST_PRICED;
    fe_dict_set(&st->cost, row, n, st->alloc, cost);
    for (size_t m = 0; m < st->n_scores; m++)
        fe_dict_set(&st->scores[m], row, n, st->alloc, fe_bits(scores[m]));
    fe_store_set_offset(st, row, n, r->offset);
    if (k != row)
        fe_id_column(st, n);
    if (st->id)
        st->id[row] = (uint32_t)k;
    /* ttft and cluster columns only once a record has one: the rows before it get "none" */
    if (!isnan(r->ttft_ms) && !st->ttft) {
        st->ttft = fe_xreallocarray(NULL, st->alloc, sizeof(double));
        for (size_t i = 0; i < n; i++)
            st->ttft[i] = NAN;
    }
    if (st->ttft)
        st->ttft[row] = r->ttft_ms;
    if (r->cluster && !st->cluster)
        st->cluster = fe_xcalloc(st->alloc, sizeof(uint32_t));
    if (st->cluster)
        st->cluster[row] = r->cluster;
}

/* ---- reading a row ---- */

static bool fe_row_wide(const struct fe_arm_store *st, size_t i)
{
    return fe_dict_get(&st->tok, i) == FE_PK_WIDE_TOK;
}

static int32_t fe_row_line(const struct fe_arm_store *st, size_t i)
{
    return fe_row_wide(st, i) ? st->wide[st->lat[i]].line
                              : (int32_t)((int64_t)st->priv->lines[fe_row_id(st, i)] - 2);
}

const struct fe_record *fe_arm_record(const struct fe_arm_run *arm, size_t i, struct fe_record *buf)
{
    if (arm->built)
        return &arm->built[i];
    const struct fe_arm_store *st = arm->store;
    const struct fe_run_private *p = st->priv;
    uint64_t tok = fe_dict_get(&st->tok, i), cost = fe_dict_get(&st->cost, i);
    const struct fe_wide *w = tok == FE_PK_WIDE_TOK ? &st->wide[st->lat[i]] : NULL;
    const struct fe_shape *sh = &p->shapes[w ? w->shape : (uint32_t)(tok >> 48)];
    uint32_t flags = sh->flags;
    memset(buf, 0, sizeof(*buf));
    buf->id = fe_idtab_get(&p->ids, fe_row_id(st, i));
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
    buf->offset = fe_store_offset(st, i);
    buf->error_kind = sh->error_kind;
    buf->finish_reason = sh->finish_reason;
    buf->served_model = sh->served_model;
    buf->slice = sh->slice;
    buf->cluster = st->cluster ? st->cluster[i] : 0;
    buf->line = fe_row_line(st, i);
    buf->attempts = sh->attempts;
    if (w) {
        buf->latency_ms = w->latency_ms;
        buf->prompt_tokens = w->tokens[0];
        buf->completion_tokens = w->tokens[1];
        buf->cached_tokens = w->tokens[2];
    } else {
        buf->latency_ms = st->lat[i] == FE_PK_NO_LATENCY ? NAN : (double)st->lat[i] / 1000.0;
        buf->prompt_tokens = (int32_t)(tok & 0xffff);
        buf->completion_tokens = (int32_t)(tok >> 16 & 0xffff);
        buf->cached_tokens = (int32_t)(tok >> 32 & 0xffff);
    }
    buf->ttft_ms = st->ttft ? st->ttft[i] : NAN;
    if (cost == FE_PK_COST_PRICED)
        buf->cost_usd = fe_cost_call(&st->price, buf->prompt_tokens, buf->cached_tokens,
                                     buf->completion_tokens, false);
    else
        memcpy(&buf->cost_usd, &cost, sizeof(cost));
    buf->score_cols = st->cols;
    buf->score_row = i;
    return buf;
}

bool fe_arm_score_col(const struct fe_arm_run *arm, size_t m, struct fe_col *out)
{
    const struct fe_arm_store *st = arm->built ? NULL : arm->store;
    if (!st || !st->cols || !arm->n)
        return false;
    *out = st->cols[m];
    return true;
}

/* ---- dataset order ---- */

/* Dataset order: by dataset line, those without one after those with one, ties and line-less
 * ones by id. Every statistic is computed over the records in this order, so a resumed,
 * shuffled or uninterrupted run gives the same bits (floating-point sums depend on order). */
static int fe_order(int32_t line_a, int32_t line_b, const char *id_a, const char *id_b)
{
    bool la = line_a >= 0, lb = line_b >= 0;
    if (la != lb)
        return la ? -1 : 1;
    if (la && line_a != line_b)
        return line_a < line_b ? -1 : 1;
    return strcmp(id_a, id_b);
}

/* What qsort compares (it has no context argument): the arm whose rows are sorted, or (NULL)
 * the run whose ids are. */
static _Thread_local const struct fe_arm_store *fe_sort_arm;
static _Thread_local const struct fe_run_private *fe_sort_run;

static int fe_row_order(const void *pa, const void *pb)
{
    size_t a = *(const uint32_t *)pa, b = *(const uint32_t *)pb;
    const struct fe_idtab *ids = &fe_sort_arm->priv->ids;
    return fe_order(fe_row_line(fe_sort_arm, a), fe_row_line(fe_sort_arm, b),
                    fe_idtab_get(ids, fe_row_id(fe_sort_arm, a)),
                    fe_idtab_get(ids, fe_row_id(fe_sort_arm, b)));
}

static int32_t fe_id_line(const struct fe_run_private *p, size_t k)
{
    return k < p->n_lines && p->lines[k] ? (int32_t)((int64_t)p->lines[k] - 2) : -1;
}

static int fe_id_order(const void *pa, const void *pb)
{
    size_t a = *(const uint32_t *)pa, b = *(const uint32_t *)pb;
    return fe_order(fe_id_line(fe_sort_run, a), fe_id_line(fe_sort_run, b),
                    fe_idtab_get(&fe_sort_run->ids, a), fe_idtab_get(&fe_sort_run->ids, b));
}

/* The permutation of 0..n-1 that sorts by cmp (its context set by the caller: fe_sort_arm or
 * fe_sort_run); 4-byte indices, so sorting never copies what is sorted. */
static uint32_t *fe_sorted_perm(size_t n, int (*cmp)(const void *, const void *))
{
    uint32_t *perm = fe_xreallocarray(NULL, n ? n : 1, sizeof(*perm));
    for (size_t i = 0; i < n; i++)
        perm[i] = (uint32_t)i;
    qsort(perm, n, sizeof(*perm), cmp);
    return perm;
}

/* A column to permute: its rows of size bytes. */
struct fe_perm_col {
    void *base;
    size_t size;
};

static struct fe_perm_col fe_dict_perm_col(const struct fe_dict64 *d)
{
    return d->code ? (struct fe_perm_col){d->code, sizeof(*d->code)}
                   : (struct fe_perm_col){d->plain, sizeof(*d->plain)};
}

/* Applies perm to the n rows of every column in place, cycle by cycle: row j takes the row
 * that was at perm[j] (perm is left the identity). */
static void fe_permute_cols(uint32_t *perm, size_t n, const struct fe_perm_col *cols, size_t n_cols)
{
    unsigned char tmp[8];
    for (size_t i = 0; i < n; i++) {
        if (perm[i] == i)
            continue;
        for (size_t c = 0; c < n_cols; c++) {
            unsigned char *b = cols[c].base;
            size_t s = cols[c].size;
            memcpy(tmp, b + i * s, s);
            size_t j = i;
            for (;;) {
                size_t k = perm[j];
                if (k == i)
                    break;
                memcpy(b + j * s, b + k * s, s);
                j = k;
            }
            memcpy(b + j * s, tmp, s);
        }
        size_t j = i;
        while (perm[j] != i) { /* the cycle is done: mark it */
            size_t k = perm[j];
            perm[j] = (uint32_t)j;
            j = k;
        }
        perm[j] = (uint32_t)j;
    }
}

/* Puts arm a's rows in dataset order: a permutation of 4-byte row indices is sorted, then
 * applied in place to every column alike. */
static void fe_arm_sort(struct fe_run *run, size_t a)
{
    struct fe_arm_store *st = &fe_run_priv_of(run)->stores[a];
    size_t n = run->arms[a].n;
    if (n < 2)
        return;
    fe_sort_arm = st;
    uint32_t *perm = fe_sorted_perm(n, fe_row_order);
    fe_sort_arm = NULL;
    size_t moved = 0;
    while (moved < n && perm[moved] == moved)
        moved++;
    if (moved == n) { /* in order already */
        free(perm);
        return;
    }
    fe_id_column(st, n); /* rows move: row number and id number part */
    size_t nm = st->n_scores, nc = 0;
    struct fe_perm_col *cols = fe_xreallocarray(NULL, 7 + nm, sizeof(*cols));
    cols[nc++] = st->off ? (struct fe_perm_col){st->off, 4} : (struct fe_perm_col){st->off64, 8};
    cols[nc++] = (struct fe_perm_col){st->lat, sizeof(*st->lat)};
    cols[nc++] = (struct fe_perm_col){st->id, sizeof(*st->id)};
    cols[nc++] = fe_dict_perm_col(&st->tok);
    cols[nc++] = fe_dict_perm_col(&st->cost);
    if (st->ttft)
        cols[nc++] = (struct fe_perm_col){st->ttft, sizeof(*st->ttft)};
    if (st->cluster)
        cols[nc++] = (struct fe_perm_col){st->cluster, sizeof(*st->cluster)};
    for (size_t m = 0; m < nm; m++)
        cols[nc++] = fe_dict_perm_col(&st->scores[m]);
    fe_permute_cols(perm, n, cols, nc);
    free(cols);
    free(perm);
}

/* Numbers the ids in dataset order (by the line of each id's first record, then id), so that an
 * arm holding every id (or the first n in that order) has row i = id i once sorted: such an arm
 * keeps no id column and no map. The id table and the lines are permuted in place; the id
 * table's lookup slots are rebuilt by the caller, last. */
static void fe_ids_order(struct fe_run_private *p, size_t n_arms, const size_t *arm_n)
{
    size_t n = p->ids.n;
    if (!n)
        return;
    fe_idtab_drop_index(&p->ids); /* not needed while ordering: its room goes to perm and inv */
    fe_idmap_grow(&p->lines, &p->n_lines, n - 1, n);
    fe_sort_run = p;
    uint32_t *perm = fe_sorted_perm(n, fe_id_order);
    fe_sort_run = NULL;
    uint32_t *inv = fe_xreallocarray(NULL, n, sizeof(*inv));
    for (size_t j = 0; j < n; j++)
        inv[perm[j]] = (uint32_t)j;
    const struct fe_perm_col cols[2] = {{p->ids.at, sizeof(*p->ids.at)}, {p->lines, sizeof(*p->lines)}};
    fe_permute_cols(perm, n, cols, 2);
    free(perm);
    for (size_t a = 0; a < n_arms; a++) {
        struct fe_arm_store *st = &p->stores[a];
        for (size_t i = 0; i < arm_n[a]; i++) {
            size_t k = fe_row_id(st, i);
            if (inv[k] != k)
                fe_id_column(st, arm_n[a]);
            if (st->id)
                st->id[i] = inv[k];
        }
    }
    free(inv);
}

void fe_store_order(struct fe_run *run)
{
    struct fe_run_private *p = fe_run_priv_of(run);
    size_t *arm_n = fe_xcalloc(run->n_arms + 1, sizeof(*arm_n));
    for (size_t a = 0; a < run->n_arms; a++) { /* the maps of the loading order go first */
        arm_n[a] = run->arms[a].n;
        free(p->stores[a].pos);
        free(p->stores[a].seen);
        p->stores[a].pos = NULL;
        p->stores[a].seen = NULL;
        p->stores[a].n_pos = p->stores[a].n_seen = 0;
    }
    fe_ids_order(p, run->n_arms, arm_n);
    free(arm_n);
    for (size_t a = 0; a < run->n_arms; a++) {
        struct fe_arm_store *st = &p->stores[a];
        size_t n = run->arms[a].n;
        fe_arm_sort(run, a);
        if (!n)
            continue;
        fe_dict_done(&st->tok); /* only adding values needs the slots */
        fe_dict_done(&st->cost);
        if (st->n_scores) {
            st->cols = fe_xcalloc(st->n_scores, sizeof(*st->cols));
            for (size_t m = 0; m < st->n_scores; m++) {
                struct fe_dict64 *d = &st->scores[m];
                fe_dict_done(d);
                st->cols[m] = (struct fe_col){NULL, d->code ? d->vals : d->plain, d->code};
            }
        }
        st->aligned = true;
        for (size_t i = 0; i < n && st->aligned; i++)
            st->aligned = fe_row_id(st, i) == i;
        if (st->aligned) {
            free(st->id);
            st->id = NULL;
            continue;
        }
        st->pos = fe_xcalloc(p->ids.n ? p->ids.n : 1, sizeof(*st->pos));
        st->n_pos = p->ids.n;
        for (size_t i = 0; i < n; i++)
            st->pos[fe_row_id(st, i)] = (uint32_t)(i + 1);
    }
    fe_idtab_reindex(&p->ids); /* last: the loading maps and the sorts' permutations are gone */
}

long fe_store_find(const struct fe_arm_store *st, size_t n, size_t k)
{
    if (st->aligned)
        return k < n ? (long)k : -1;
    return k < st->n_pos && st->pos[k] ? (long)st->pos[k] - 1 : -1;
}

void fe_store_release(struct fe_arm_store *st)
{
    free(st->off);
    free(st->off64);
    free(st->lat);
    fe_dict_release(&st->tok);
    fe_dict_release(&st->cost);
    for (size_t m = 0; m < st->n_scores; m++)
        fe_dict_release(&st->scores[m]);
    free(st->scores);
    free(st->cols);
    free(st->ttft);
    free(st->cluster);
    free(st->id);
    free(st->pos);
    free(st->seen);
    free(st->wide);
}
