/* rng_speed — ns per bootstrap index draw for GSL generators (bench/stats/run.sh builds it).
 * Draws 10^8 indices in [0, 10000): gsl_rng_uniform_int; the step function through a cached
 * pointer mapped with Lemire's multiply-shift; for taus2 also the inlined recurrence on a copy of
 * the state (what metrics/stats_boot.c does after checking it against gsl_rng_get). */
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include <gsl/gsl_rng.h>

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

int main(void)
{
    const gsl_rng_type *types[] = {gsl_rng_taus2, gsl_rng_mt19937, gsl_rng_gfsr4,
                                   gsl_rng_ranlxs0, NULL};
    const size_t N = 100000000;
    const uint32_t n = 10000;
    for (size_t t = 0; types[t]; t++) {
        gsl_rng *r = gsl_rng_alloc(types[t]);
        gsl_rng_set(r, 12345);
        uint64_t acc = 0;
        double t0 = now();
        for (size_t i = 0; i < N; i++)
            acc += gsl_rng_uniform_int(r, n);
        double t1 = now();
        unsigned long (*get)(void *) = r->type->get;
        void *st = r->state;
        for (size_t i = 0; i < N; i++) {
            uint64_t m = (uint64_t)(uint32_t)get(st) * n;
            if ((uint32_t)m < n) {
                uint32_t th = (uint32_t)(-n) % n;
                while ((uint32_t)m < th)
                    m = (uint64_t)(uint32_t)get(st) * n;
            }
            acc += m >> 32;
        }
        double t2 = now();
        printf("%-10s uniform_int %5.2f ns/draw   cached get + Lemire %5.2f ns/draw  (%llu)\n",
               gsl_rng_name(r), (t1 - t0) / (double)N * 1e9, (t2 - t1) / (double)N * 1e9,
               (unsigned long long)(acc & 1));
        if (types[t] == gsl_rng_taus2) { /* the inline step metrics/stats_boot.c uses */
            const unsigned long *s = r->state;
            uint32_t s1 = (uint32_t)s[0], s2 = (uint32_t)s[1], s3 = (uint32_t)s[2];
            double t3 = now();
            for (size_t i = 0; i < N; i++) {
                s1 = ((s1 & 4294967294u) << 12) ^ (((s1 << 13) ^ s1) >> 19);
                s2 = ((s2 & 4294967288u) << 4) ^ (((s2 << 2) ^ s2) >> 25);
                s3 = ((s3 & 4294967280u) << 17) ^ (((s3 << 3) ^ s3) >> 11);
                uint64_t m = (uint64_t)(s1 ^ s2 ^ s3) * n;
                acc += m >> 32; /* (rejection omitted: p = 3.7e-6 here) */
            }
            double t4 = now();
            printf("%-10s inline step + Lemire %5.2f ns/draw  (%llu)\n", "taus2",
                   (t4 - t3) / (double)N * 1e9, (unsigned long long)(acc & 1));
        }
        gsl_rng_free(r);
    }
    return 0;
}
