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

#include "harness/base/util.h"
#include "metrics/stats_rng.h"
#include "metrics/stats_vec.h"

#define FE_EXACT_MAX 40

static uint64_t fe_splitmix64(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

/* A taus2 generator for stream `stream` of `seed`. Caller frees with gsl_rng_free. */
gsl_rng *fe_rng_stream(unsigned long seed, uint64_t stream)
{
    gsl_rng *r = gsl_rng_alloc(gsl_rng_taus2);
    if (!r) /* allocation failure ends the program, as everywhere else */
        fe_xmalloc(SIZE_MAX);
    uint64_t s = fe_splitmix64(fe_splitmix64((uint64_t)seed) ^ stream);
    gsl_rng_set(r, (unsigned long)(s & 0xffffffffUL) | 1UL);
    return r;
}

void fe_fastrng_init(struct fe_fastrng *g, const gsl_rng *r)
{
    g->get = r->type->get;
    g->state = r->state;
    g->inl = false;
    if (r->type != gsl_rng_taus2 || r->type->size != 3 * sizeof(unsigned long))
        return;
    const unsigned long *st = r->state;
    uint32_t a = (uint32_t)st[0], b = (uint32_t)st[1], c = (uint32_t)st[2];
    gsl_rng *probe = gsl_rng_clone(r);
    if (!probe)
        return;
    bool same = true;
    for (int i = 0; i < 8 && same; i++)
        same = fe_taus_step(&a, &b, &c) == (uint32_t)gsl_rng_get(probe);
    gsl_rng_free(probe);
    if (same) {
        g->s1 = (uint32_t)st[0];
        g->s2 = (uint32_t)st[1];
        g->s3 = (uint32_t)st[2];
        g->inl = true;
    }
}

/* ---- parallel chunks ---- */

/* Threads for resampling: FTEVAL_STATS_THREADS if set (1..64), else the online CPUs (<= 8). */
static size_t fe_par_threads(void)
{
    const char *e = getenv("FTEVAL_STATS_THREADS");
    long v;
    if (e && fe_parse_long(e, &v) && v >= 1 && v <= 64)
        return (size_t)v;
    long c = sysconf(_SC_NPROCESSORS_ONLN);
    return c < 1 ? 1 : c > 8 ? 8 : (size_t)c;
}

struct fe_par {
    void (*fn)(void *ctx, size_t chunk);
    void *ctx;
    size_t n_chunks;
    size_t next; /* guarded by lock */
    pthread_mutex_t lock;
};

static void *fe_par_worker(void *arg)
{
    struct fe_par *p = arg;
    for (;;) {
        pthread_mutex_lock(&p->lock);
        size_t c = p->next++;
        pthread_mutex_unlock(&p->lock);
        if (c >= p->n_chunks)
            return NULL;
        p->fn(p->ctx, c);
    }
}

/* Runs fn(ctx, c) for every c < n_chunks on up to fe_par_threads() threads. fn must write
 * only chunk-owned output, so the result does not depend on scheduling. */
void fe_par_run(size_t n_chunks, void (*fn)(void *, size_t), void *ctx)
{
    struct fe_par p = {.fn = fn, .ctx = ctx, .n_chunks = n_chunks};
    pthread_mutex_init(&p.lock, NULL);
    size_t nt = fe_par_threads();
    if (nt > n_chunks)
        nt = n_chunks;
    pthread_t th[64];
    size_t started = 0;
    for (size_t t = 1; t < nt; t++) {
        if (pthread_create(&th[started], NULL, fe_par_worker, &p) != 0)
            break; /* fewer threads: same result, only slower */
        started++;
    }
    fe_par_worker(&p);
    for (size_t t = 0; t < started; t++)
        pthread_join(th[t], NULL);
    pthread_mutex_destroy(&p.lock);
}

/* ---- paired bootstrap ---- */

enum fe_boot_mode { FE_BOOT_EXAMPLES, FE_BOOT_CLUSTERS, FE_BOOT_MULTINOMIAL };

struct fe_boot_job {
    enum fe_boot_mode mode;
    size_t n, k, B; /* k: row stride of d; comparisons written: kout <= k */
    size_t kout;
    const double *d; /* examples: d[i*k+j]; clusters: D[c*k+j]; multinomial: pattern rows */
    const double *w; /* clusters: sizes; multinomial: pattern counts (probabilities) */
    size_t units;    /* n, n_clusters or patterns */
    unsigned long seed;
    double *out;
};

static void fe_boot_chunk(void *ctx, size_t c)
{
    struct fe_boot_job *jb = ctx;
    gsl_rng *r = fe_rng_stream(jb->seed, c);
    struct fe_fastrng g;
    fe_fastrng_init(&g, r);
    size_t k = jb->k, b0 = c * FE_CHUNK, b1 = b0 + FE_CHUNK < jb->B ? b0 + FE_CHUNK : jb->B;
    uint32_t units = (uint32_t)jb->units;
    double *sum = fe_xcalloc(k, sizeof(*sum));
    unsigned *counts = fe_xcalloc(jb->mode == FE_BOOT_MULTINOMIAL ? jb->units : 1, sizeof(*counts));
    for (size_t b = b0; b < b1; b++) {
        memset(sum, 0, k * sizeof(*sum));
        double denom = (double)jb->n;
        if (jb->mode == FE_BOOT_EXAMPLES && k == 1) {
            double s0 = 0, s1 = 0; /* two chains: FP adds are latency bound */
            size_t i = 0;
            for (; i + 1 < jb->n; i += 2) {
                s0 += jb->d[fe_below(&g, units)];
                s1 += jb->d[fe_below(&g, units)];
            }
            if (i < jb->n)
                s0 += jb->d[fe_below(&g, units)];
            sum[0] = s0 + s1;
        } else if (jb->mode == FE_BOOT_EXAMPLES && k == 2) {
            /* two comparisons: the 4-wide loop's chains on unpadded rows (the same sums; half
             * the rows held, issue 14) */
            double e0 = 0, e1 = 0, o0 = 0, o1 = 0;
            const double *dd = jb->d;
            size_t i = 0;
            for (; i + 1 < jb->n; i += 2) {
                const double *ra = dd + (size_t)fe_below(&g, units) * 2;
                const double *rb = dd + (size_t)fe_below(&g, units) * 2;
                e0 += ra[0];
                e1 += ra[1];
                o0 += rb[0];
                o1 += rb[1];
            }
            if (i < jb->n) {
                const double *ra = dd + (size_t)fe_below(&g, units) * 2;
                e0 += ra[0];
                e1 += ra[1];
            }
            sum[0] = e0 + o0;
            sum[1] = e1 + o1;
        } else if (jb->mode == FE_BOOT_EXAMPLES && k == 4) {
            /* the common family (2 arms x 2 metrics, ...): accumulators in registers, two
             * independent chains per comparison (even and odd draws) */
            double e0 = 0, e1 = 0, e2 = 0, e3 = 0, o0 = 0, o1 = 0, o2 = 0, o3 = 0;
            const double *dd = jb->d;
            size_t i = 0;
            for (; i + 1 < jb->n; i += 2) {
                const double *ra = dd + (size_t)fe_below(&g, units) * 4;
                const double *rb = dd + (size_t)fe_below(&g, units) * 4;
                e0 += ra[0];
                e1 += ra[1];
                e2 += ra[2];
                e3 += ra[3];
                o0 += rb[0];
                o1 += rb[1];
                o2 += rb[2];
                o3 += rb[3];
            }
            if (i < jb->n) {
                const double *ra = dd + (size_t)fe_below(&g, units) * 4;
                e0 += ra[0];
                e1 += ra[1];
                e2 += ra[2];
                e3 += ra[3];
            }
            sum[0] = e0 + o0;
            sum[1] = e1 + o1;
            sum[2] = e2 + o2;
            sum[3] = e3 + o3;
        } else if (jb->mode == FE_BOOT_EXAMPLES) {
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
        for (size_t j = 0; j < jb->kout; j++)
            jb->out[j * jb->B + b] = sum[j] / denom;
    }
    free(counts);
    free(sum);
    gsl_rng_free(r);
}

/* Where the bootstrap's rows come from: d interleaved by example (d[i * k + j]), or k paired
 * columns whose differences a[j][i] - b[j][i] are computed as they are read, so nothing of size
 * n is held for them unless the resampling of examples needs it (issue 14, Memory). */
struct fe_boot_rows {
    const double *d;
    const struct fe_col *a, *b;
    size_t k;
};

/* Row i of s: in d, or computed into tmp (k doubles). */
static const double *fe_boot_row(const struct fe_boot_rows *s, size_t i, double *tmp)
{
    if (s->d)
        return s->d + i * s->k;
    for (size_t j = 0; j < s->k; j++)
        tmp[j] = fe_col_at(s->a[j], i) - fe_col_at(s->b[j], i);
    return tmp;
}

/* Distinct rows of s (few for binary metrics): returns the number of patterns, or 0 when there
 * are more than max. Fills rows[p*k..] and counts[p] in order of first appearance. Rows are
 * compared bytewise, so -0.0 and 0.0 are different patterns (harmless: same sums). Found with a
 * hash table of at most max patterns, so nothing of size n is allocated (issue 14, Memory). */
static size_t fe_patterns(const struct fe_boot_rows *s, size_t n, size_t max, double **rows,
                          double **counts)
{
    size_t k = s->k, n_slots = 16;
    while (n_slots < 2 * (max + 1))
        n_slots *= 2;
    size_t *slot = fe_xcalloc(n_slots, sizeof(*slot)); /* first row index + 1; 0: empty */
    size_t *pat = fe_xcalloc(n_slots, sizeof(*pat));   /* the slot's pattern number */
    size_t *first = fe_xcalloc(max + 1, sizeof(*first));
    double *cnt = fe_xcalloc(max + 1, sizeof(*cnt));
    double *tmp = fe_xcalloc(2 * k, sizeof(*tmp));
    size_t p = 0, bytes = k * sizeof(double);
    for (size_t i = 0; i < n; i++) {
        const double *row = fe_boot_row(s, i, tmp);
        const unsigned char *rb = (const unsigned char *)row;
        uint64_t h = 1469598103934665603ULL; /* FNV-1a over the row's bytes */
        for (size_t b = 0; b < bytes; b++)
            h = (h ^ rb[b]) * 1099511628211ULL;
        size_t at = (size_t)h & (n_slots - 1);
        while (slot[at] && memcmp(fe_boot_row(s, slot[at] - 1, tmp + k), row, bytes) != 0)
            at = (at + 1) & (n_slots - 1);
        if (slot[at]) {
            cnt[pat[at]] += 1;
            continue;
        }
        if (p == max) { /* one pattern more than max */
            p = 0;
            break;
        }
        slot[at] = i + 1;
        pat[at] = p;
        first[p] = i;
        cnt[p++] = 1;
    }
    if (p > 0) {
        *rows = fe_xreallocarray(NULL, p * k, sizeof(double));
        *counts = fe_xreallocarray(NULL, p, sizeof(double));
        for (size_t q = 0; q < p; q++)
            memcpy(*rows + q * k, fe_boot_row(s, first[q], tmp), bytes);
        memcpy(*counts, cnt, p * sizeof(double));
    }
    free(tmp);
    free(cnt);
    free(first);
    free(pat);
    free(slot);
    return p;
}

static void fe_boot_rows_run(const struct fe_boot_rows *s, size_t n, const size_t *cluster_ids,
                             size_t n_clusters, size_t B, unsigned long seed, double *out)
{
    size_t k = s->k;
    if (n == 0 || k == 0 || B == 0)
        return;
    struct fe_boot_job jb = {.n = n, .k = k, .kout = k, .B = B, .seed = seed, .out = out};
    double *own_d = NULL, *own_w = NULL;
    double *tmp = fe_xcalloc(k, sizeof(*tmp));
    if (cluster_ids && n_clusters > 0) {
        jb.mode = FE_BOOT_CLUSTERS;
        own_d = fe_xcalloc(n_clusters * k, sizeof(double));
        own_w = fe_xcalloc(n_clusters, sizeof(double));
        for (size_t i = 0; i < n; i++) {
            const double *row = fe_boot_row(s, i, tmp);
            for (size_t j = 0; j < k; j++)
                own_d[cluster_ids[i] * k + j] += row[j];
            own_w[cluster_ids[i]] += 1;
        }
        jb.units = n_clusters;
    } else {
        /* Multinomial over distinct rows when they are few: P binomial draws per replicate
         * instead of n index draws; the same distribution of resampled rows. */
        size_t max = n / 8 < 4096 ? n / 8 : 4096;
        size_t p = max >= 1 ? fe_patterns(s, n, max, &own_d, &own_w) : 0;
        if (p > 0) {
            jb.mode = FE_BOOT_MULTINOMIAL;
            jb.units = p;
        } else {
            jb.mode = FE_BOOT_EXAMPLES;
            jb.units = n;
            if (k == 3) /* pad rows to 4 for the register-accumulator loop */
                jb.k = 4;
            if (!s->d || jb.k != k) { /* the rows, held: examples are drawn by index */
                own_d = fe_xcalloc(n * jb.k, sizeof(double));
                for (size_t i = 0; i < n; i++)
                    memcpy(own_d + i * jb.k, fe_boot_row(s, i, tmp), k * sizeof(double));
            }
        }
    }
    free(tmp);
    jb.d = own_d ? own_d : s->d;
    jb.w = own_w;
    fe_par_run((B + FE_CHUNK - 1) / FE_CHUNK, fe_boot_chunk, &jb);
    free(own_d);
    free(own_w);
}

void fe_stats_bootstrap(const double *d, size_t n, size_t k, const size_t *cluster_ids,
                        size_t n_clusters, size_t B, unsigned long seed, double *out)
{
    const struct fe_boot_rows s = {.d = d, .k = k};
    fe_boot_rows_run(&s, n, cluster_ids, n_clusters, B, seed, out);
}

void fe_vec_bootstrap_paired(const struct fe_col *a, const struct fe_col *b, size_t n, size_t k,
                             const size_t *cluster_ids, size_t n_clusters, size_t B,
                             unsigned long seed, double *out)
{
    const struct fe_boot_rows s = {.a = a, .b = b, .k = k};
    fe_boot_rows_run(&s, n, cluster_ids, n_clusters, B, seed, out);
}

void fe_stats_bootstrap_paired(const double *const *a, const double *const *b, size_t n, size_t k,
                               const size_t *cluster_ids, size_t n_clusters, size_t B,
                               unsigned long seed, double *out)
{
    struct fe_col *ca = fe_xcalloc(2 * (k ? k : 1), sizeof(*ca)), *cb = ca + (k ? k : 1);
    for (size_t j = 0; j < k; j++)
        ca[j] = fe_col_of(a[j]), cb[j] = fe_col_of(b[j]);
    fe_vec_bootstrap_paired(ca, cb, n, k, cluster_ids, n_clusters, B, seed, out);
    free(ca);
}

/* ---- sign-flip permutation ---- */

/* All 2^m signed sums of x[0..m) in ascending order: adding element x to a sorted set S of sums
 * gives merge(S - |x|, S + |x|), both sorted, so each step is one linear merge (2^(m+1) work in
 * all, no sort). Caller frees. */
static double *fe_signed_sums_sorted(const double *x, size_t m)
{
    size_t cnt = (size_t)1 << m;
    double *s = fe_xreallocarray(NULL, cnt, sizeof(*s));
    double *t = fe_xreallocarray(NULL, cnt, sizeof(*t));
    s[0] = 0;
    size_t len = 1;
    for (size_t i = 0; i < m; i++) {
        double v = fabs(x[i]);
        size_t p = 0, q = 0, o = 0;
        while (p < len && q < len) {
            double lo = s[p] - v, hi = s[q] + v;
            if (lo <= hi) {
                t[o++] = lo;
                p++;
            } else {
                t[o++] = hi;
                q++;
            }
        }
        while (p < len)
            t[o++] = s[p++] - v;
        while (q < len)
            t[o++] = s[q++] + v;
        double *sw = s;
        s = t;
        t = sw;
        len = o;
    }
    free(t);
    return s;
}

/* Exact: meet in the middle over two sorted halves of 2^(k/2) sums; counts the pairs with
 * a + b >= thr or a + b <= -thr (disjoint as thr > 0) by two monotone pointers. */
static double fe_signflip_exact(const double *x, size_t m, double thr)
{
    size_t m1 = m / 2, m2 = m - m1;
    double *a = fe_signed_sums_sorted(x, m1), *b = fe_signed_sums_sorted(x + m1, m2);
    size_t na = (size_t)1 << m1, nb = (size_t)1 << m2;
    uint64_t count = 0;
    /* upper tail: for ascending a, the first b with a + b >= thr moves left */
    size_t j = nb;
    for (size_t i = 0; i < na; i++) {
        while (j > 0 && a[i] + b[j - 1] >= thr)
            j--;
        count += nb - j;
    }
    /* lower tail: for ascending a, the number of b with a + b <= -thr shrinks */
    size_t k = nb;
    for (size_t i = 0; i < na; i++) {
        while (k > 0 && a[i] + b[k - 1] > -thr)
            k--;
        count += k;
    }
    free(a);
    free(b);
    return (double)count / ldexp(1.0, (int)m);
}

struct fe_flip_job {
    const double *x; /* the non-zero differences */
    size_t m;
    double S, thr;
    size_t R;
    unsigned long seed;
    bool equal;
    size_t *hits; /* per chunk */
};

/* x if bit is 1, else +0.0, without a branch (the bits are random: branches would mispredict) */
static inline double fe_keep(double x, uint64_t bit)
{
    uint64_t u;
    memcpy(&u, &x, sizeof(u));
    u &= (uint64_t)0 - bit;
    memcpy(&x, &u, sizeof(x));
    return x;
}

/* Random sign flips for replicates of chunk c. T = S - 2 * (sum of the flipped d): one 32-bit
 * output gives 32 flips; four partial sums keep the FP adds from serialising. With equal |d|
 * (binary metrics) the number of positives after flipping is Binomial(m, 1/2), drawn directly. */
static void fe_flip_chunk(void *ctx, size_t c)
{
    struct fe_flip_job *fj = ctx;
    gsl_rng *r = fe_rng_stream(fj->seed, 0x7065726d00000000ULL /* "perm" */ + c);
    struct fe_fastrng g;
    fe_fastrng_init(&g, r);
    size_t b0 = c * FE_CHUNK, b1 = b0 + FE_CHUNK < fj->R ? b0 + FE_CHUNK : fj->R, hits = 0;
    const double *x = fj->x;
    size_t m = fj->m;
    for (size_t b = b0; b < b1; b++) {
        double T;
        if (fj->equal) {
            unsigned pos = gsl_ran_binomial(r, 0.5, (unsigned)m);
            T = fabs(x[0]) * (2.0 * pos - (double)m);
        } else {
            double a0 = 0, a1 = 0, a2 = 0, a3 = 0;
            size_t i = 0;
            for (; i + 32 <= m; i += 32) {
                uint64_t w = fe_u32(&g);
                for (size_t j = 0; j < 32; j += 4) {
                    a0 += fe_keep(x[i + j], (w >> j) & 1);
                    a1 += fe_keep(x[i + j + 1], (w >> (j + 1)) & 1);
                    a2 += fe_keep(x[i + j + 2], (w >> (j + 2)) & 1);
                    a3 += fe_keep(x[i + j + 3], (w >> (j + 3)) & 1);
                }
            }
            if (i < m) {
                uint64_t w = fe_u32(&g);
                for (size_t j = 0; i + j < m; j++)
                    a0 += fe_keep(x[i + j], (w >> j) & 1);
            }
            T = fj->S - 2 * ((a0 + a1) + (a2 + a3));
        }
        hits += fabs(T) >= fj->thr;
    }
    fj->hits[c] = hits;
    gsl_rng_free(r);
}

double fe_stats_signflip_p(const double *d, size_t n, size_t R, unsigned long seed, bool *exact)
{
    return fe_vec_signflip_p(fe_vec_of(d), n, R, seed, exact);
}

double fe_vec_signflip_p(struct fe_vec d, size_t n, size_t R, unsigned long seed, bool *exact)
{
    *exact = true;
    /* one pass for the sums; the non-zero differences are copied only when the random flips
     * need them all (issue 14: the exact test needs at most FE_EXACT_MAX, equal ones only |x|) */
    size_t m = 0;
    double S = 0, sumabs = 0, first = 0;
    bool equal = true; /* binary metrics: every |d| the same */
    for (size_t i = 0; i < n; i++) {
        double di = fe_vec_at(d, i);
        if (di != 0) {
            if (m == 0)
                first = di;
            equal = equal && fabs(di) == fabs(first);
            m++;
            S += di;
            sumabs += fabs(di);
        }
    }
    double tol = 1e-10 * sumabs;
    double thr = fabs(S) - tol; /* |T| >= |S| up to rounding */
    if (m == 0 || thr <= 0)
        return 1; /* every flip has |T| >= |S| = 0 */
    double one[1] = {first};
    double *x = m <= FE_EXACT_MAX || !equal ? fe_xreallocarray(NULL, m, sizeof(*x)) : one;
    if (x != one)
        for (size_t i = 0, j = 0; i < n; i++) {
            double di = fe_vec_at(d, i);
            if (di != 0)
                x[j++] = di;
        }
    double p;
    if (m <= FE_EXACT_MAX) {
        p = fe_signflip_exact(x, m, thr);
    } else {
        *exact = false;
        if (R == 0)
            R = 1;
        struct fe_flip_job fj = {.x = x, .m = m, .S = S, .thr = thr, .R = R, .seed = seed};
        fj.equal = equal;
        size_t n_chunks = (R + FE_CHUNK - 1) / FE_CHUNK;
        fj.hits = fe_xcalloc(n_chunks, sizeof(*fj.hits));
        fe_par_run(n_chunks, fe_flip_chunk, &fj);
        size_t hits = 0;
        for (size_t c = 0; c < n_chunks; c++)
            hits += fj.hits[c];
        free(fj.hits);
        p = (1.0 + (double)hits) / ((double)R + 1.0);
    }
    if (x != one)
        free(x);
    return p;
}

/* ---- BCa ---- */

/* The statistic without unit u: (sum D - D[u]) / (sum w - w[u]). */
static inline double fe_jackknife(struct fe_vec D, const double *w, size_t u, double totD,
                                  double totW)
{
    double wu = w ? w[u] : 1.0;
    return (totD - fe_vec_at(D, u)) / (totW - wu);
}

bool fe_stats_bca(const double *D, const double *w, size_t m, double delta,
                  const double *sorted_boot, size_t B, double alpha, double *lo, double *hi,
                  const char **why)
{
    return fe_vec_bca(fe_vec_of(D), w, m, delta, sorted_boot, B, alpha, lo, hi, why);
}

bool fe_vec_bca(struct fe_vec D, const double *w, size_t m, double delta, const double *sorted_boot,
                size_t B, double alpha, double *lo, double *hi, const char **why)
{
    *lo = *hi = 0;
    if (m < 2 || B == 0) {
        *why = m < 2 ? "bca needs at least two resampling units" : "no resamples";
        return false;
    }
    /* jackknife over units, as scipy.stats.bootstrap does for (cluster) paired data */
    double totD = 0, totW = 0;
    for (size_t u = 0; u < m; u++) {
        totD += fe_vec_at(D, u);
        totW += w ? w[u] : 1.0;
    }
    /* the leave-one-out values, computed again where they are read (nothing of size m held) */
    double mean = 0;
    for (size_t u = 0; u < m; u++)
        mean += fe_jackknife(D, w, u, totD, totW);
    mean /= (double)m;
    double s2 = 0, s3 = 0, spread = 0, scale = 1;
    double th0 = fe_jackknife(D, w, 0, totD, totW);
    for (size_t u = 0; u < m; u++) {
        double th = fe_jackknife(D, w, u, totD, totW);
        double U = (double)(m - 1) * (mean - th);
        s2 += U * U;
        s3 += U * U * U;
        spread = fmax(spread, fabs(th - th0));
        scale = fmax(scale, fabs(th));
    }
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
