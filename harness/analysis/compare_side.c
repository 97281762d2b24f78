/* compare_side.c — one side of an arm pair of `compare` (compare_int.h struct fe_side): where
 * the record of each example compared is in the side's arm, and the side's score columns. A
 * side aligned with the examples (the usual complete run: record i is example i) keeps no
 * index, and its scores are the arm's own columns (rundir.h fe_arm_score_col), not a copy
 * (issue 14). */
#include "harness/analysis/compare_int.h"

#include <stdlib.h>

#include "harness/base/util.h"

const struct fe_record *fe_side_record(const struct fe_side *s, size_t i, struct fe_record *buf)
{
    const struct fe_arm_run *arm = &s->run->arms[s->arm];
    if (!s->idx)
        return fe_arm_record(arm, i, buf); /* aligned: record i is example i */
    return s->idx[i] != FE_SIDE_MISSING ? fe_arm_record(arm, s->idx[i], buf) : NULL;
}

void fe_side_put(struct fe_side *s, size_t i, size_t n, long at)
{
    if (!s->idx) {
        if (at == (long)i)
            return;
        s->idx = fe_xreallocarray(NULL, n, sizeof(*s->idx));
        for (size_t k = 0; k < i; k++)
            s->idx[k] = (uint32_t)k;
    }
    s->idx[i] = at < 0 ? FE_SIDE_MISSING : (uint32_t)at; /* record indices fit: rundir.h */
}

uint32_t fe_side_at(const struct fe_side *s, size_t i)
{
    return s->idx ? s->idx[i] : (uint32_t)i;
}

double *fe_side_cols(const struct fe_side *s, const size_t *map, size_t n_m, size_t n,
                     struct fe_col *cols)
{
    const struct fe_arm_run *arm = &s->run->arms[s->arm];
    bool in_place = !s->idx; /* record i is example i for every i < n */
    for (size_t m = 0; m < n_m && in_place; m++)
        in_place = fe_arm_score_col(arm, map[m], &cols[m]);
    if (in_place)
        return NULL;
    double *x = fe_xreallocarray(NULL, (n ? n : 1) * n_m, sizeof(*x));
    for (size_t i = 0; i < n; i++) {
        const struct fe_record *r = fe_side_rec(s, i);
        for (size_t m = 0; m < n_m; m++)
            x[m * n + i] = r ? fe_score(r, map[m]) : 0;
    }
    for (size_t m = 0; m < n_m; m++)
        cols[m] = fe_col_of(x + m * n);
    return x;
}
