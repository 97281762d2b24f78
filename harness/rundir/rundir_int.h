/* rundir_int.h — a loaded run's private parts, shared by rundir.c (reading the files: manifest,
 * record lines, text read back) and rundir_store.c (keeping the records: columns, dataset
 * order). Nothing outside harness/rundir and its unit tests includes it. Owner: rundir.
 *
 * Memory (issue 14): a loaded arm keeps its records as columns, one row per record, in dataset
 * order once loaded: 12 bytes per row when its token counts and costs take few distinct values
 * (a dictionary of each; a record's flags and short strings are part of its interned shape;
 * a cost that is what the tokens cost at the arm's price in the manifest is computed again when
 * read, so it is one value however the tokens vary), 18 when the token counts do not, plus the
 * scores: 2 bytes per metric when the metric takes few distinct values (a dictionary too:
 * binary metrics, token overlaps), 8 when it does not. The ids
 * are numbered in dataset order, so an arm holding every id of the run has row i = id i: it
 * keeps no id column and no id -> row map; any other arm keeps both (8 bytes per row more).
 */
#ifndef FE_RUNDIR_INT_H
#define FE_RUNDIR_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "harness/base/idtable.h"
#include "harness/base/strmap.h"
#include "metrics/cost.h"
#include "metrics/score_col.h"

struct fe_record;               /* rundir.h */
struct fe_run;

/* A record's flags (part of its shape). */
enum {
    FE_PK_OK = 1 << 0, FE_PK_STREAM = 1 << 1, FE_PK_USAGE = 1 << 2, FE_PK_COST = 1 << 3,
    FE_PK_CACHE_HIT = 1 << 4, FE_PK_TRUNCATED = 1 << 5, FE_PK_INPUT = 1 << 6,
    FE_PK_REFUSAL = 1 << 7, FE_PK_JUDGEMENTS = 1 << 8,
};

/* A column of 64-bit values: 16-bit codes into a table of its distinct values while there are
 * at most FE_DICT_MAX of them, the values themselves (8 bytes a row) from then on. */
#define FE_DICT_MAX 65536 /* value indices 0..65535: every one fits the 16-bit code */
struct fe_dict64 {
    uint16_t *code;             /* row -> value index; NULL once plain */
    uint64_t *plain;            /* row -> value, once plain */
    uint64_t *vals;             /* the distinct values (dictionary), room for cap_vals */
    size_t n_vals, cap_vals;
    uint32_t *slots;            /* value index + 1, 0 empty; n_slots a power of two; freed
                                 * when loading ends */
    size_t n_slots;
};

/* The values of a wide row: one whose latency is not a whole number of microseconds below
 * ~71 minutes, whose token counts do not fit 16 bits, whose shape index does not, or whose
 * dataset line is not its id's (the line is kept once per id: run-private lines). */
struct fe_wide {
    double latency_ms;
    int32_t tokens[3];
    int32_t line;
    uint32_t shape;
};

struct fe_shape {               /* interned strings (fe_run_str), the attempt count, the flags */
    uint32_t error_kind, finish_reason, served_model, slice;
    int32_t attempts;
    uint32_t flags;             /* FE_PK_* */
};

/* One loaded arm (what arm->store points to): the columns, arm->n rows in use of alloc. */
struct fe_arm_store {
    const struct fe_run_private *priv;
    size_t a;
    size_t alloc;
    uint32_t *off;              /* where the record's line starts in <arm>.jsonl; NULL once an
                                 * offset needs more than 32 bits, then: */
    uint64_t *off64;
    uint32_t *lat;              /* microseconds, FE_PK_NO_LATENCY, or (wide) the wide index */
    struct fe_dict64 tok;       /* prompt, completion, cached tokens, shape (16 bits each); a
                                 * wide row: FE_PK_WIDE_TOK (no narrow prompt count is 0xffff) */
    struct fe_dict64 cost;      /* cost_usd's bits, or FE_PK_COST_PRICED */
    struct fe_price price;      /* the arm's price in the manifest, when priced */
    bool priced;
    struct fe_dict64 *scores;   /* the scores' bits, one column per metric (n_scores of
                                 * them: the run's metrics; NULL when it has none) */
    size_t n_scores;
    struct fe_col *cols;        /* the same columns as the statistics read them: built once
                                 * loaded (fe_store_order) */
    double *ttft;               /* NULL until a record has one (then NAN where none) */
    uint32_t *cluster;          /* NULL until a record has one (then 0 where none) */
    uint32_t *id;               /* row -> id number; NULL while row i is id i for every row
                                 * (while loading: the arm came in the order its ids were
                                 * first seen; once loaded: aligned) */
    bool aligned;               /* row i is id i, for every row (the arm holds every id of the
                                 * run, or the first n in dataset order) */
    uint32_t *pos;              /* id number -> row + 1 (0: none), n_pos of them. While
                                 * loading: only from the first re-recorded id on (before, the
                                 * seen bits tell an id is new); once loaded: NULL when aligned */
    size_t n_pos;
    uint8_t *seen;              /* while loading: the ids with a row, 1 bit each */
    size_t n_seen;              /* bytes of seen */
    struct fe_wide *wide;
    size_t n_wide, cap_wide;
};
#define FE_PK_NO_LATENCY UINT32_MAX /* latency_ms null or absent (NAN) */
#define FE_PK_WIDE_TOK 0xffffu      /* the tok value of every wide row */
/* The cost value of a record whose cost_usd is, bit for bit, what its token counts cost at its
 * arm's price (as fteval writes them): the cost is computed again when read, so costs that
 * differ on every record (as token counts do) take a 16-bit code, not 8 bytes. A NaN, which no
 * record's cost_usd can be. */
#define FE_PK_COST_PRICED 0x7ff400000c057000ULL

/* What run->reserved points to. The interned strings (served model, finish reason, error kind,
 * slice, cluster: a handful of distinct values repeated on every record) and the shapes are
 * stored once per run. */
struct fe_run_private {
    struct fe_idtab ids;        /* numbered in dataset order once loaded */
    FILE **files;               /* per arm: its <arm>.jsonl, open until fe_run_free */
    struct fe_arm_store *stores; /* per arm */
    uint32_t *lines;            /* id number -> its dataset line + 2 (0: none), n_lines */
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

/* run->reserved */
struct fe_run_private *fe_run_priv_of(const struct fe_run *run);

/* rundir_store.c */
/* Resizes st's columns to alloc rows (at least the rows in use); the first call sets the
 * number of score columns, n_metrics (the run's metrics). */
void fe_store_grow(struct fe_arm_store *st, size_t alloc, size_t n_metrics);
/* Puts record r (of id number k) with its scores (one per score column) in row `row` of st
 * (row <= n, the rows in use; the caller has grown st to hold it). */
void fe_store_put(struct fe_run_private *p, struct fe_arm_store *st, size_t row, size_t n,
                  const struct fe_record *r, size_t k, const double *scores);
/* The row of id number k in arm store st (of n rows) while loading, or n when none. */
size_t fe_store_row_of(struct fe_arm_store *st, size_t k, size_t n);
/* Sets id number k's row in st's pos map while loading. */
void fe_store_set_row(struct fe_arm_store *st, size_t k, size_t row, size_t cap);
/* When every arm is loaded: numbers the ids in dataset order, puts every arm's rows in
 * dataset order, and drops the id column and map of the arms that are aligned. */
void fe_store_order(struct fe_run *run);
/* Row `row` (of the n in use, or n itself) of st's offsets: set to offset (32-bit offsets while
 * they fit, 64-bit from the first that does not), and read back. */
void fe_store_set_offset(struct fe_arm_store *st, size_t row, size_t n, long offset);
long fe_store_offset(const struct fe_arm_store *st, size_t row);
/* The row of id number k in arm store st (of n rows) once ordered, or -1. */
long fe_store_find(const struct fe_arm_store *st, size_t n, size_t k);
void fe_store_release(struct fe_arm_store *st);
void fe_shapes_release(struct fe_run_private *p);

#endif
