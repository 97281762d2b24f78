/* stats_rng.h — the resampling plumbing shared by the statistics files (private to metrics/):
 * the seeded taus2 streams, their inlined step, unbiased bounded integers and the chunked
 * thread pool. Defined in stats_boot.c (owner: statistics); stats_corpus.c draws the same
 * resample indices with it (chunk c of FE_CHUNK replicates uses fe_rng_stream(seed, c) and n
 * fe_below(n) draws per replicate, as fe_stats_bootstrap does when it resamples examples).
 */
#ifndef FE_STATS_RNG_H
#define FE_STATS_RNG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <gsl/gsl_rng.h>

#define FE_CHUNK 256

/* A taus2 generator for stream `stream` of `seed`. Caller frees with gsl_rng_free. */
gsl_rng *fe_rng_stream(unsigned long seed, uint64_t stream);

/* The generator as the hot loops use it. taus2's step is three shifts and xors, but a call
 * through gsl_rng_get costs as much again; so the loops run the same recurrence (L'Ecuyer 1996,
 * GSL's taus.c) on a copy of the state. GSL's state layout is not public API: fe_fastrng_init
 * checks the type and size and that the inline step reproduces gsl_rng_get's next outputs, and
 * otherwise calls the step function through its pointer — same numbers either way. */
struct fe_fastrng {
    unsigned long (*get)(void *);
    void *state;
    uint32_t s1, s2, s3;
    bool inl;
};

static inline uint32_t fe_taus_step(uint32_t *s1, uint32_t *s2, uint32_t *s3)
{
    *s1 = ((*s1 & 4294967294u) << 12) ^ (((*s1 << 13) ^ *s1) >> 19);
    *s2 = ((*s2 & 4294967288u) << 4) ^ (((*s2 << 2) ^ *s2) >> 25);
    *s3 = ((*s3 & 4294967280u) << 17) ^ (((*s3 << 3) ^ *s3) >> 11);
    return *s1 ^ *s2 ^ *s3;
}

void fe_fastrng_init(struct fe_fastrng *g, const gsl_rng *r);

static inline uint32_t fe_u32(struct fe_fastrng *g)
{
    if (g->inl)
        return fe_taus_step(&g->s1, &g->s2, &g->s3);
    return (uint32_t)g->get(g->state);
}

/* Uniform integer in [0, n), n <= 2^32 (Lemire 2019). */
static inline uint32_t fe_below(struct fe_fastrng *g, uint32_t n)
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

/* Runs fn(ctx, c) for every c < n_chunks on up to FTEVAL_STATS_THREADS threads. fn must write
 * only chunk-owned output, so the result does not depend on scheduling. */
void fe_par_run(size_t n_chunks, void (*fn)(void *, size_t), void *ctx);

#endif
