/* stats_vec.h — private to metrics/: a vector the statistics read either as it is or as the
 * paired differences of two score columns (score_col.h), computed where they are read (issue
 * 14, Memory: a comparison holds no copy of its n differences). The public functions of stats.h on a
 * `const double *` are these on fe_vec_of(x). Defined in stats.c and stats_boot.c (owner:
 * statistics).
 */
#ifndef FE_STATS_VEC_H
#define FE_STATS_VEC_H

#include <stdbool.h>
#include <stddef.h>

#include "metrics/score_col.h"

struct fe_vec {
    struct fe_col a;
    struct fe_col b; /* none (fe_col_none): the vector is a; else a[i] - b[i] */
};

static inline struct fe_vec fe_vec_of(const double *x)
{
    return (struct fe_vec){fe_col_of(x), {0}};
}

static inline struct fe_vec fe_vec_col(struct fe_col x)
{
    return (struct fe_vec){x, {0}};
}

/* Entry i: the same bits as a copy d[i] = a[i] - b[i] would hold. */
static inline double fe_vec_at(struct fe_vec v, size_t i)
{
    return fe_col_none(v.b) ? fe_col_at(v.a, i) : fe_col_at(v.a, i) - fe_col_at(v.b, i);
}

bool fe_vec_mean_se(struct fe_vec x, size_t n, double *mean, double *se);          /* stats.c */
double fe_vec_se_clustered(struct fe_vec x, size_t n, const size_t *cluster_ids,
                           size_t n_clusters);                                      /* stats.c */
bool fe_vec_ttest_p(struct fe_vec d, size_t n, double *p);                          /* stats.c */
double fe_vec_signflip_p(struct fe_vec d, size_t n, size_t R, unsigned long seed,
                         bool *exact);                                        /* stats_boot.c */
/* fe_stats_bootstrap_paired on columns (stats_boot.c) */
void fe_vec_bootstrap_paired(const struct fe_col *a, const struct fe_col *b, size_t n, size_t k,
                             const size_t *cluster_ids, size_t n_clusters, size_t B,
                             unsigned long seed, double *out);
bool fe_vec_bca(struct fe_vec D, const double *w, size_t m, double delta, const double *sorted_boot,
                size_t B, double alpha, double *lo, double *hi, const char **why); /* stats_boot.c */

#endif
