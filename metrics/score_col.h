/* score_col.h — one metric's n scores as the statistics read them: plain doubles, or the
 * columns a loaded run keeps (issue 14, Memory): 16-bit codes into a table of the column's
 * distinct values (2 bytes a score instead of 8 when a metric takes at most 65,536 values, as
 * binary and token-overlap metrics do), or, past that, the values' bits. Reading gives back the
 * exact bits written. Owner: statistics; the loaded columns are harness/rundir's.
 */
#ifndef FE_SCORE_COL_H
#define FE_SCORE_COL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct fe_col {
    const double *x;            /* the scores; NULL for a loaded column: */
    const uint64_t *bits;       /* the scores' bits (code NULL), or the distinct values' bits */
    const uint16_t *code;       /* row -> index into bits; NULL when bits holds every row */
};

static inline struct fe_col fe_col_of(const double *x)
{
    return (struct fe_col){x, NULL, NULL};
}

/* Whether c holds no column (struct fe_vec's "no second column"). */
static inline bool fe_col_none(struct fe_col c)
{
    return !c.x && !c.bits;
}

static inline double fe_col_at(struct fe_col c, size_t i)
{
    if (c.x)
        return c.x[i];
    uint64_t u = c.bits[c.code ? c.code[i] : i];
    double d;
    memcpy(&d, &u, sizeof(d));
    return d;
}

#endif
