/* stats_boot.c — the resampling engines: shared-index paired bootstrap (examples, clusters or
 * one multinomial over distinct rows), sign-flip permutation (exact or random) and BCa.
 *
 * Generator: gsl_rng_taus2 (L'Ecuyer's maximally equidistributed combined Tausworthe, period
 * 2^88): the fastest of GSL's good generators (see docs/statistics.md for measurements). Its
 * 32-bit outputs are mapped to [0, n) with Lemire's multiply-shift and rejection, which is
 * unbiased and needs no division in the common case.
 *
 * Determinism: replicates are cut into fixed chunks of FE_CHUNK; chunk c always uses its own
 * generator seeded with mix(seed, c), so the output depends on the seed only, never on the
 * number of threads that happen to run the chunks.
 */
#include "metrics/stats.h"

#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <gsl/gsl_cdf.h>
#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>

#include "harness/util.h"

#define FE_CHUNK 256
#define FE_EXACT_MAX 40

static uint64_t fe_splitmix64(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

/* A taus2 generator for stream `stream` of `seed`. Caller frees with gsl_rng_free. */
static gsl_rng *fe_rng_stream(unsigned long seed, uint64_t stream)
{
    gsl_rng *r = gsl_rng_alloc(gsl_rng_taus2);
    if (!r) /* allocation failure ends the program, as everywhere else */
        fe_xmalloc(SIZE_MAX);
    uint64_t s = fe_splitmix64(fe_splitmix64((uint64_t)seed) ^ stream);
    gsl_rng_set(r, (unsigned long)(s & 0xffffffffUL) | 1UL);
    return r;
}

/* Direct access to the generator's step function: avoids gsl_rng_get's extra indirection. */
struct fe_fastrng {
    unsigned long (*get)(void *);
    void *state;
};

static inline uint32_t fe_u32(const struct fe_fastrng *g)
{
    return (uint32_t)g->get(g->state);
}

/* Uniform integer in [0, n), n <= 2^32 (Lemire 2019). */
static inline uint32_t fe_below(const struct fe_fastrng *g, uint32_t n)
{
    uint64_t m = (uint64_t)fe_u32(g) * n;
    uint32_t l = (uint32_t)m;
    if (l < n) {
        uint32_t t = (uint32_t)(-n) % n;
        while (l < t) {
            m = (uint64_t)fe_u32(g) * n;
            l = (uint32_t)m;
        }
    }
    return (uint32_t)(m >> 32);
}

/* ---- paired bootstrap ---- */

enum fe_boot_mode { FE_BOOT_EXAMPLES, FE_BOOT_CLUSTERS, FE_BOOT_MULTINOMIAL };

struct fe_boot_job {
    enum fe_boot_mode mode;
    size_t n, k, B;
    const double *d; /* examples: d[i*k+j]; clusters: D[c*k+j]; multinomial: pattern rows */
    const double *w; /* clusters: sizes; multinomial: pattern counts (probabilities) */
    size_t units;    /* n, n_clusters or patterns */
    unsigned long seed;
    double *out;
    size_t n_chunks;
    size_t next_chunk; /* guarded by lock */
    pthread_mutex_t lock;
};

static void fe_boot_chunk(struct fe_boot_job *jb, size_t c, double *sum, unsigned *counts)
{
    gsl_rng *r = fe_rng_stream(jb->seed, c);
    struct fe_fastrng g = {r->type->get, r->state};
    size_t k = jb->k, b0 = c * FE_CHUNK, b1 = b0 + FE_CHUNK < jb->B ? b0 + FE_CHUNK : jb->B;
    uint32_t units = (uint32_t)jb->units;
    for (size_t b = b0; b < b1; b++) {
        memset(sum, 0, k * sizeof(*sum));
        double denom = (double)jb->n;
        if (jb->mode == FE_BOOT_EXAMPLES) {
            for (size_t i = 0; i < jb->n; i++) {
                const double *row = jb->d + (size_t)fe_below(&g, units) * k;
                for (size_t j = 0; j < k; j++)
                    sum[j] += row[j];
            }
        } else if (jb->mode == FE_BOOT_CLUSTERS) {
            double nn = 0;
            for (size_t i = 0; i < jb->units; i++) {
                size_t u = fe_below(&g, units);
                const double *row = jb->d + u * k;
                for (size_t j = 0; j < k; j++)
                    sum[j] += row[j];
                nn += jb->w[u];
            }
            denom = nn;
        } else {
            gsl_ran_multinomial(r, jb->units, (unsigned)jb->n, jb->w, counts);
            for (size_t u = 0; u < jb->units; u++) {
                const double *row = jb->d + u * k;
                for (size_t j = 0; j < k; j++)
                    sum[j] += (double)counts[u] * row[j];
            }
        }
        for (size_t j = 0; j < k; j++)
            jb->out[j * jb->B + b] = sum[j] / denom;
    }
    gsl_rng_free(r);
}

static void *fe_boot_worker(void *arg)
{
    struct fe_boot_job *jb = arg;
    double *sum = fe_xcalloc(jb->k, sizeof(*sum));
    unsigned *counts = fe_xcalloc(jb->units, sizeof(*counts));
    for (;;) {
        pthread_mutex_lock(&jb->lock);
        size_t c = jb->next_chunk++;
        pthread_mutex_unlock(&jb->lock);
        if (c >= jb->n_chunks)
            break;
        fe_boot_chunk(jb, c, sum, counts);
    }
    free(counts);
    free(sum);
    return NULL;
}

/* Threads for resampling: FTEVAL_STATS_THREADS if set (1..64), else the online CPUs (<= 8). */
static size_t fe_boot_threads(void)
{
    const char *e = getenv("FTEVAL_STATS_THREADS");
    long v;
    if (e && fe_parse_long(e, &v) && v >= 1 && v <= 64)
        return (size_t)v;
    long c = sysconf(_SC_NPROCESSORS_ONLN);
    return c < 1 ? 1 : c > 8 ? 8 : (size_t)c;
}

struct fe_rowref {
    const double *row;
    size_t k, i;
};

static int fe_row_cmp(const void *pa, const void *pb)
{
    const struct fe_rowref *a = pa, *b = pb;
    int c = memcmp(a->row, b->row, a->k * sizeof(double));
    if (c)
        return c;
    return (a->i > b->i) - (a->i < b->i);
}

/* Distinct rows of d (few for binary metrics): returns the number of patterns, or 0 when there
 * are more than max. Fills rows[p*k..] and counts[p] in order of first appearance. Rows are
 * compared bytewise, so -0.0 and 0.0 are different patterns (harmless: same sums). */
static size_t fe_patterns(const double *d, size_t n, size_t k, size_t max, double **rows,
                          double **counts)
{
    struct fe_rowref *rr = fe_xreallocarray(NULL, n, sizeof(*rr));
    for (size_t i = 0; i < n; i++)
        rr[i] = (struct fe_rowref){d + i * k, k, i};
    qsort(rr, n, sizeof(*rr), fe_row_cmp);
    size_t *ord = fe_xreallocarray(NULL, n, sizeof(*ord));
    for (size_t i = 0; i < n; i++)
        ord[i] = rr[i].i;
    free(rr);
    size_t p = 0;
    for (size_t i = 0; i < n; i++)
        if (i == 0 || memcmp(d + ord[i] * k, d + ord[i - 1] * k, k * sizeof(double)) != 0)
            p++;
    if (p > max) {
        free(ord);
        return 0;
    }
    /* order patterns by first appearance so the multinomial does not depend on qsort */
    size_t *first = fe_xreallocarray(NULL, p, sizeof(*first));
    double *cnt = fe_xcalloc(p, sizeof(*cnt));
    size_t q = 0;
    for (size_t i = 0; i < n; i++) {
        if (i > 0 && memcmp(d + ord[i] * k, d + ord[i - 1] * k, k * sizeof(double)) != 0)
            q++;
        if (cnt[q] == 0)
            first[q] = ord[i]; /* ord is sorted by index within equal rows */
        cnt[q] += 1;
    }
    size_t *perm = fe_xreallocarray(NULL, p, sizeof(*perm));
    for (size_t i = 0; i < p; i++)
        perm[i] = i;
    /* insertion sort by first index: p is small */
    for (size_t i = 1; i < p; i++)
        for (size_t j = i; j > 0 && first[perm[j - 1]] > first[perm[j]]; j--) {
            size_t t = perm[j];
            perm[j] = perm[j - 1];
            perm[j - 1] = t;
        }
    *rows = fe_xreallocarray(NULL, p * k, sizeof(double));
    *counts = fe_xreallocarray(NULL, p, sizeof(double));
    for (size_t i = 0; i < p; i++) {
        memcpy(*rows + i * k, d + first[perm[i]] * k, k * sizeof(double));
        (*counts)[i] = cnt[perm[i]];
    }
    free(perm);
    free(cnt);
    free(first);
    free(ord);
    return p;
}

void fe_stats_bootstrap(const double *d, size_t n, size_t k, const size_t *cluster_ids,
                        size_t n_clusters, size_t B, unsigned long seed, double *out)
{
    if (n == 0 || k == 0 || B == 0)
        return;
    struct fe_boot_job jb = {.n = n, .k = k, .B = B, .seed = seed, .out = out};
    double *own_d = NULL, *own_w = NULL;
    if (cluster_ids && n_clusters > 0) {
        jb.mode = FE_BOOT_CLUSTERS;
        own_d = fe_xcalloc(n_clusters * k, sizeof(double));
        own_w = fe_xcalloc(n_clusters, sizeof(double));
        for (size_t i = 0; i < n; i++) {
            for (size_t j = 0; j < k; j++)
                own_d[cluster_ids[i] * k + j] += d[i * k + j];
            own_w[cluster_ids[i]] += 1;
        }
        jb.units = n_clusters;
    } else {
        /* Multinomial over distinct rows when they are few: P binomial draws per replicate
         * instead of n index draws; the same distribution of resampled rows. */
        size_t max = n / 8 < 4096 ? n / 8 : 4096;
        size_t p = max >= 1 ? fe_patterns(d, n, k, max, &own_d, &own_w) : 0;
        if (p > 0) {
            jb.mode = FE_BOOT_MULTINOMIAL;
            jb.units = p;
        } else {
            jb.mode = FE_BOOT_EXAMPLES;
            jb.units = n;
        }
    }
    jb.d = own_d ? own_d : d;
    jb.w = own_w;
    jb.n_chunks = (B + FE_CHUNK - 1) / FE_CHUNK;
    pthread_mutex_init(&jb.lock, NULL);
    size_t nt = fe_boot_threads();
    if (nt > jb.n_chunks)
        nt = jb.n_chunks;
    pthread_t th[64];
    size_t started = 0;
    for (size_t t = 1; t < nt; t++) {
        if (pthread_create(&th[started], NULL, fe_boot_worker, &jb) != 0)
            break; /* fewer threads: same result, only slower */
        started++;
    }
    fe_boot_worker(&jb);
    for (size_t t = 0; t < started; t++)
        pthread_join(th[t], NULL);
    pthread_mutex_destroy(&jb.lock);
    free(own_d);
    free(own_w);
}

/* ---- sign-flip permutation ---- */

static int fe_dbl_cmp(const void *pa, const void *pb)
{
    double a = *(const double *)pa, b = *(const double *)pb;
    return (a > b) - (a < b);
}

/* All 2^m signed sums of x[0..m) (sum with every sign + first, built by doubling). */
static double *fe_signed_sums(const double *x, size_t m)
{
    size_t cnt = (size_t)1 << m;
    double *s = fe_xreallocarray(NULL, cnt, sizeof(*s));
    double tot = 0;
    for (size_t i = 0; i < m; i++)
        tot += x[i];
    s[0] = tot;
    for (size_t i = 0; i < m; i++) {
        size_t h = (size_t)1 << i;
        for (size_t t = 0; t < h; t++)
            s[h + t] = s[t] - 2 * x[i];
    }
    return s;
}

/* First index with v[i] >= x in ascending v[0..n). */
static size_t fe_lower_bound(const double *v, size_t n, double x)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (v[mid] < x)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* Exact: meet in the middle, 2^(k/2) sums per half, one sorted; O(2^(k/2) k) time. */
static double fe_signflip_exact(const double *x, size_t m, double thr)
{
    size_t m1 = m / 2, m2 = m - m1;
    double *a = fe_signed_sums(x, m1), *b = fe_signed_sums(x + m1, m2);
    size_t na = (size_t)1 << m1, nb = (size_t)1 << m2;
    qsort(b, nb, sizeof(*b), fe_dbl_cmp);
    uint64_t count = 0;
    for (size_t i = 0; i < na; i++) {
        /* a + b >= thr  or  a + b <= -thr (disjoint as thr > 0) */
        count += nb - fe_lower_bound(b, nb, thr - a[i]);
        /* b <= -thr - a  <=>  not (b > -thr - a): count of b < next above */
        double lim = -thr - a[i];
        size_t ub = fe_lower_bound(b, nb, lim);
        while (ub < nb && b[ub] <= lim)
            ub++;
        count += ub;
    }
    free(a);
    free(b);
    return (double)count / ldexp(1.0, (int)m);
}

double fe_stats_signflip_p(const double *d, size_t n, size_t R, unsigned long seed, bool *exact)
{
    *exact = true;
    double *x = fe_xreallocarray(NULL, n ? n : 1, sizeof(*x));
    size_t m = 0;
    double S = 0, sumabs = 0;
    for (size_t i = 0; i < n; i++)
        if (d[i] != 0) {
            x[m++] = d[i];
            S += d[i];
            sumabs += fabs(d[i]);
        }
    double tol = 1e-10 * sumabs;
    double thr = fabs(S) - tol; /* |T| >= |S| up to rounding */
    double p;
    if (m == 0 || thr <= 0) {
        p = 1; /* every flip has |T| >= |S| = 0 */
    } else if (m <= FE_EXACT_MAX) {
        p = fe_signflip_exact(x, m, thr);
    } else {
        *exact = false;
        if (R == 0)
            R = 1;
        gsl_rng *r = fe_rng_stream(seed, 0x7065726dULL /* "perm" */);
        struct fe_fastrng g = {r->type->get, r->state};
        bool equal = true; /* binary metrics: every |d| the same, T = |d| (2 Binom(m,1/2) - m) */
        for (size_t i = 1; i < m && equal; i++)
            equal = fabs(x[i]) == fabs(x[0]);
        size_t hits = 0;
        for (size_t rr = 0; rr < R; rr++) {
            double T;
            if (equal) {
                /* S = |d| (pos - neg); after flips the positives are Binom(m, 1/2) */
                unsigned pos = gsl_ran_binomial(r, 0.5, (unsigned)m);
                T = fabs(x[0]) * (2.0 * pos - (double)m);
            } else {
                double acc = 0; /* sum of the flipped d */
                for (size_t i = 0; i < m; i += 32) {
                    uint32_t w = fe_u32(&g);
                    size_t e = i + 32 < m ? i + 32 : m;
                    for (size_t j = i; j < e; j++, w >>= 1)
                        acc += (w & 1u) ? x[j] : 0.0;
                }
                T = S - 2 * acc;
            }
            hits += fabs(T) >= thr;
        }
        gsl_rng_free(r);
        p = (1.0 + (double)hits) / ((double)R + 1.0);
    }
    free(x);
    return p;
}

/* ---- BCa ---- */

bool fe_stats_bca(const double *D, const double *w, size_t m, double delta,
                  const double *sorted_boot, size_t B, double alpha, double *lo, double *hi,
                  const char **why)
{
    *lo = *hi = 0;
    if (m < 2 || B == 0) {
        *why = m < 2 ? "bca needs at least two resampling units" : "no resamples";
        return false;
    }
    /* jackknife over units, as scipy.stats.bootstrap does for (cluster) paired data */
    double totD = 0, totW = 0;
    for (size_t u = 0; u < m; u++) {
        totD += D[u];
        totW += w ? w[u] : 1.0;
    }
    double *th = fe_xreallocarray(NULL, m, sizeof(*th));
    double mean = 0;
    for (size_t u = 0; u < m; u++) {
        double wu = w ? w[u] : 1.0;
        th[u] = (totD - D[u]) / (totW - wu);
        mean += th[u];
    }
    mean /= (double)m;
    double s2 = 0, s3 = 0, spread = 0, scale = 1;
    for (size_t u = 0; u < m; u++) {
        double U = (double)(m - 1) * (mean - th[u]);
        s2 += U * U;
        s3 += U * U * U;
        spread = fmax(spread, fabs(th[u] - th[0]));
        scale = fmax(scale, fabs(th[u]));
    }
    free(th);
    /* constant differences (per unit): the jackknife values agree up to rounding */
    if (spread <= 1e-13 * scale || !(s2 > 0)) {
        *why = "differences are constant: bca is undefined";
        return false;
    }
    double a = s3 / (6 * pow(s2, 1.5));
    size_t less = 0, leq = 0;
    for (size_t b = 0; b < B; b++) {
        less += sorted_boot[b] < delta;
        leq += sorted_boot[b] <= delta;
    }
    double frac = (double)(less + leq) / (2.0 * (double)B);
    if (frac <= 0 || frac >= 1) {
        *why = "every bootstrap replicate lies on one side of delta: bca is undefined";
        return false;
    }
    double z0 = gsl_cdf_ugaussian_Pinv(frac);
    double za = gsl_cdf_ugaussian_Pinv(alpha / 2), zb = -za;
    double n1 = z0 + za, n2 = z0 + zb;
    double q1 = gsl_cdf_ugaussian_P(z0 + n1 / (1 - a * n1));
    double q2 = gsl_cdf_ugaussian_P(z0 + n2 / (1 - a * n2));
    if (!isfinite(q1) || !isfinite(q2)) {
        *why = "bca levels are not finite";
        return false;
    }
    *lo = fe_stats_quantile_sorted(sorted_boot, B, q1);
    *hi = fe_stats_quantile_sorted(sorted_boot, B, q2);
    return true;
}
