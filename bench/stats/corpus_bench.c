/* corpus_bench — the corpus-level statistics at the issue 13 size: n = 10,000 paired examples,
 * 77 classes, B = 10,000 bootstrap resamples (macro_f1, two arms: per-arm and paired replicates
 * from one pass) and R = 10,000 approximate-randomization rounds. Not a test: built and run by
 * bench/stats/corpus.sh. Usage: corpus_bench [N] [B] [CLASSES] */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "harness/base/util.h"
#include "metrics/corpus.h"
#include "metrics/stats_corpus.h"

int main(int argc, char **argv)
{
    long n = 10000, B = 10000, K = 77;
    if (argc > 1 && !fe_parse_long(argv[1], &n))
        return 2;
    if (argc > 2 && !fe_parse_long(argv[2], &B))
        return 2;
    if (argc > 3 && !fe_parse_long(argv[3], &K))
        return 2;
    fe_stats_global_init();
    /* labels "c00".."c76"; arm 0 right 75 % of the time, arm 1 78 %, else a fixed wrong class
     * (a deterministic LCG: reproducible without any generator of our own under test) */
    struct fe_corpus c;
    fe_corpus_init(&c, FE_CORPUS_MACRO_F1, (size_t)n, 2);
    unsigned long long x = 88172645463325252ULL;
    for (long i = 0; i < n; i++) {
        char g[16], p[16];
        long gl = i % K;
        snprintf(g, sizeof(g), "c%02ld", gl);
        for (size_t a = 0; a < 2; a++) {
            x = x * 6364136223846793005ULL + 1442695040888963407ULL;
            double u = (double)(x >> 11) / 9007199254740992.0;
            long pl = u < (a ? 0.78 : 0.75) ? gl : (long)((x >> 20) % (unsigned long long)K);
            snprintf(p, sizeof(p), "c%02ld", pl);
            fe_corpus_add_labels(&c, a, (size_t)i, p, 3, g);
        }
    }
    fe_corpus_finish(&c);
    double *boot = fe_xcalloc(2 * (size_t)B, sizeof(double));
    clock_t k0 = clock();
    double t0 = fe_now();
    fe_corpus_bootstrap(&c, (size_t)B, 20261124, boot);
    double t1 = fe_now();
    clock_t k1 = clock();
    double p = fe_corpus_randomization_p(&c, 1, 0, (size_t)B, 20261125);
    double t2 = fe_now();
    clock_t k2 = clock();
    /* for scale: the mean bootstrap of one continuous difference vector, same n and B */
    double *d = fe_xcalloc((size_t)n, sizeof(double));
    for (long i = 0; i < n; i++)
        d[i] = (double)(i % 1000) / 1000.0;
    clock_t k3 = clock();
    double t3 = fe_now();
    fe_stats_bootstrap(d, (size_t)n, 1, NULL, 0, (size_t)B, 20261124, boot);
    double t4 = fe_now();
    clock_t k4 = clock();
    free(d);
    printf("{\"n\": %ld, \"B\": %ld, \"classes\": %zu, \"macro_a\": %.6f, \"macro_b\": %.6f, "
           "\"p_randomization\": %.5f, \"bootstrap_seconds\": %.3f, \"randomization_seconds\": %.3f, "
           "\"mean_bootstrap_seconds\": %.3f, \"cpu_seconds\": [%.3f, %.3f, %.3f]}\n",
           n, B, c.n_classes, fe_corpus_value(&c, 0), fe_corpus_value(&c, 1), p, t1 - t0, t2 - t1,
           t4 - t3, (double)(k1 - k0) / CLOCKS_PER_SEC, (double)(k2 - k1) / CLOCKS_PER_SEC,
           (double)(k4 - k3) / CLOCKS_PER_SEC);
    free(boot);
    fe_corpus_release(&c);
    return 0;
}
