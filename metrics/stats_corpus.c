/* stats_corpus.c — paired corpus bootstrap and approximate randomization for corpus-level
 * metrics; see stats_corpus.h. Owner: statistics (issue 13, corpus-level part). */
#include "metrics/stats_corpus.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_cdf.h>

#include "harness/base/jsonout.h"
#include "harness/base/util.h"
#include "metrics/stats_rng.h"

/* Per arm and example the compact contribution: classification (gold, pred) or entity
 * (tp, pred, gold), interleaved by example so one draw touches one cache line. */
struct fe_cb_job {
    const struct fe_corpus *c;
    size_t B;
    unsigned long seed;
    uint32_t *lab; /* [i * arms + a] * 2: gold, pred */
    long *ent;     /* [i * arms + a] * 3 */
    double *out;
};

static void fe_cb_chunk(void *ctx, size_t chunk)
{
    struct fe_cb_job *jb = ctx;
    const struct fe_corpus *c = jb->c;
    gsl_rng *r = fe_rng_stream(jb->seed, chunk);
    struct fe_fastrng g;
    fe_fastrng_init(&g, r);
    size_t A = c->n_arms, K = c->n_classes ? c->n_classes : 1, n = c->n;
    size_t b0 = chunk * FE_CHUNK, b1 = b0 + FE_CHUNK < jb->B ? b0 + FE_CHUNK : jb->B;
    uint32_t units = (uint32_t)n;
    if (c->kind == FE_CORPUS_ENTITY_F1) {
        long *sum = fe_xcalloc(3 * A, sizeof(*sum));
        for (size_t b = b0; b < b1; b++) {
            memset(sum, 0, 3 * A * sizeof(*sum));
            for (size_t i = 0; i < n; i++) {
                const long *row = jb->ent + (size_t)fe_below(&g, units) * 3 * A;
                for (size_t x = 0; x < 3 * A; x++)
                    sum[x] += row[x];
            }
            for (size_t a = 0; a < A; a++)
                jb->out[a * jb->B + b] =
                    fe_corpus_value_counts(c->kind, 0, NULL, NULL, NULL, sum + 3 * a);
        }
        free(sum);
    } else {
        /* per arm: tp[K], gold count[K], predicted count[K] */
        uint32_t *cnt = fe_xcalloc(3 * K * A, sizeof(*cnt));
        for (size_t b = b0; b < b1; b++) {
            memset(cnt, 0, 3 * K * A * sizeof(*cnt));
            for (size_t i = 0; i < n; i++) {
                const uint32_t *row = jb->lab + (size_t)fe_below(&g, units) * 2 * A;
                for (size_t a = 0; a < A; a++) {
                    uint32_t gl = row[2 * a], pl = row[2 * a + 1];
                    uint32_t *ca = cnt + 3 * K * a;
                    ca[gl] += gl == pl;
                    ca[K + gl]++;
                    ca[2 * K + pl]++;
                }
            }
            for (size_t a = 0; a < A; a++) {
                const uint32_t *ca = cnt + 3 * K * a;
                jb->out[a * jb->B + b] =
                    fe_corpus_value_counts(c->kind, c->n_classes, ca, ca + K, ca + 2 * K, NULL);
            }
        }
        free(cnt);
    }
    gsl_rng_free(r);
}

void fe_corpus_bootstrap(const struct fe_corpus *c, size_t B, unsigned long seed, double *out)
{
    if (c->n == 0 || c->n_arms == 0 || B == 0)
        return;
    size_t A = c->n_arms, n = c->n;
    struct fe_cb_job jb = {.c = c, .B = B, .seed = seed, .out = out};
    if (c->kind == FE_CORPUS_ENTITY_F1) {
        jb.ent = fe_xreallocarray(NULL, n * A * 3, sizeof(long));
        for (size_t i = 0; i < n; i++)
            for (size_t a = 0; a < A; a++) {
                const struct fe_entity_counts *e = &c->ent[a * n + i];
                long *row = jb.ent + (i * A + a) * 3;
                row[0] = e->tp;
                row[1] = e->pred;
                row[2] = e->gold;
            }
    } else {
        jb.lab = fe_xreallocarray(NULL, n * A * 2, sizeof(uint32_t));
        for (size_t i = 0; i < n; i++)
            for (size_t a = 0; a < A; a++) {
                jb.lab[(i * A + a) * 2] = c->gold[a * n + i];
                jb.lab[(i * A + a) * 2 + 1] = c->pred[a * n + i];
            }
    }
    fe_par_run((B + FE_CHUNK - 1) / FE_CHUNK, fe_cb_chunk, &jb);
    free(jb.lab);
    free(jb.ent);
}

/* ---- approximate randomization ---- */

struct fe_ar_job {
    const struct fe_corpus *c;
    size_t a, b, R;
    unsigned long seed;
    double thr; /* |delta| minus the tie tolerance */
    const uint32_t *base; /* full counts: arm a then arm b, 3K each (labels) */
    const long *ebase;    /* entity totals: arm a then arm b */
    size_t *hits;         /* per chunk */
};

static void fe_ar_chunk(void *ctx, size_t chunk)
{
    struct fe_ar_job *jb = ctx;
    const struct fe_corpus *c = jb->c;
    gsl_rng *r = fe_rng_stream(jb->seed, 0x72616e6400000000ULL /* "rand" */ + chunk);
    struct fe_fastrng g;
    fe_fastrng_init(&g, r);
    size_t n = c->n, K = c->n_classes ? c->n_classes : 1, hits = 0;
    size_t r0 = chunk * FE_CHUNK, r1 = r0 + FE_CHUNK < jb->R ? r0 + FE_CHUNK : jb->R;
    uint32_t *cnt = fe_xcalloc(6 * K, sizeof(*cnt));
    const size_t oa = jb->a * n, ob = jb->b * n;
    for (size_t q = r0; q < r1; q++) {
        double va, vb;
        uint32_t w = 0;
        if (c->kind == FE_CORPUS_ENTITY_F1) {
            long ea[3], eb[3];
            memcpy(ea, jb->ebase, sizeof(ea));
            memcpy(eb, jb->ebase + 3, sizeof(eb));
            for (size_t i = 0; i < n; i++) {
                if ((i & 31) == 0)
                    w = fe_u32(&g);
                if (!((w >> (i & 31)) & 1))
                    continue;
                const struct fe_entity_counts *x = &c->ent[oa + i], *y = &c->ent[ob + i];
                long d0 = y->tp - x->tp, d1 = y->pred - x->pred, d2 = y->gold - x->gold;
                ea[0] += d0, ea[1] += d1, ea[2] += d2;
                eb[0] -= d0, eb[1] -= d1, eb[2] -= d2;
            }
            va = fe_corpus_value_counts(c->kind, 0, NULL, NULL, NULL, ea);
            vb = fe_corpus_value_counts(c->kind, 0, NULL, NULL, NULL, eb);
        } else {
            memcpy(cnt, jb->base, 6 * K * sizeof(*cnt));
            uint32_t *ca = cnt, *cb = cnt + 3 * K;
            for (size_t i = 0; i < n; i++) {
                if ((i & 31) == 0)
                    w = fe_u32(&g);
                if (!((w >> (i & 31)) & 1))
                    continue;
                uint32_t ga = c->gold[oa + i], pa = c->pred[oa + i];
                uint32_t gb = c->gold[ob + i], pb = c->pred[ob + i];
                /* arm a gives up its contribution and takes b's, and the other way round */
                ca[ga] -= ga == pa, ca[K + ga]--, ca[2 * K + pa]--;
                cb[gb] -= gb == pb, cb[K + gb]--, cb[2 * K + pb]--;
                ca[gb] += gb == pb, ca[K + gb]++, ca[2 * K + pb]++;
                cb[ga] += ga == pa, cb[K + ga]++, cb[2 * K + pa]++;
            }
            va = fe_corpus_value_counts(c->kind, c->n_classes, ca, ca + K, ca + 2 * K, NULL);
            vb = fe_corpus_value_counts(c->kind, c->n_classes, cb, cb + K, cb + 2 * K, NULL);
        }
        hits += fabs(va - vb) >= jb->thr;
    }
    free(cnt);
    jb->hits[chunk] = hits;
    gsl_rng_free(r);
}

double fe_corpus_randomization_p(const struct fe_corpus *c, size_t a, size_t b, size_t R,
                                 unsigned long seed)
{
    double delta = fe_corpus_value(c, a) - fe_corpus_value(c, b);
    double thr = fabs(delta) - 1e-12;
    if (c->n == 0 || thr <= 0)
        return 1.0;
    if (R == 0)
        R = 1;
    size_t n = c->n, K = c->n_classes ? c->n_classes : 1;
    struct fe_ar_job jb = {.c = c, .a = a, .b = b, .R = R, .seed = seed, .thr = thr};
    uint32_t *base = NULL;
    long ebase[6] = {0, 0, 0, 0, 0, 0};
    if (c->kind == FE_CORPUS_ENTITY_F1) {
        for (size_t i = 0; i < n; i++) {
            const struct fe_entity_counts *x = &c->ent[a * n + i], *y = &c->ent[b * n + i];
            ebase[0] += x->tp, ebase[1] += x->pred, ebase[2] += x->gold;
            ebase[3] += y->tp, ebase[4] += y->pred, ebase[5] += y->gold;
        }
        jb.ebase = ebase;
    } else {
        base = fe_xcalloc(6 * K, sizeof(*base));
        for (int s = 0; s < 2; s++) {
            size_t off = (s == 0 ? a : b) * n;
            uint32_t *cs = base + 3 * K * (size_t)s;
            for (size_t i = 0; i < n; i++) {
                uint32_t gl = c->gold[off + i], pl = c->pred[off + i];
                cs[gl] += gl == pl;
                cs[K + gl]++;
                cs[2 * K + pl]++;
            }
        }
        jb.base = base;
    }
    size_t n_chunks = (R + FE_CHUNK - 1) / FE_CHUNK;
    jb.hits = fe_xcalloc(n_chunks, sizeof(*jb.hits));
    fe_par_run(n_chunks, fe_ar_chunk, &jb);
    size_t hits = 0;
    for (size_t k = 0; k < n_chunks; k++)
        hits += jb.hits[k];
    free(jb.hits);
    free(base);
    return (1.0 + (double)hits) / ((double)R + 1.0);
}

/* ---- summary objects ---- */

static int fe_dcmp(const void *pa, const void *pb)
{
    double a = *(const double *)pa, b = *(const double *)pb;
    return (a > b) - (a < b);
}

static double sd(const double *x, size_t n)
{
    double m, se;
    if (!fe_stats_mean_se(x, n, &m, &se))
        return NAN;
    return se * sqrt((double)n);
}

cJSON *fe_stats_corpus_arm(const struct fe_corpus *c, size_t a, const struct fe_stats_opts *o,
                           size_t max_labels)
{
    cJSON *e = cJSON_CreateObject();
    size_t n = c->n, B = o->resamples;
    double v = fe_corpus_value(c, a);
    cJSON_AddNumberToObject(e, "n", (double)n);
    fe_json_add_num(e, "mean", n ? v : NAN);
    fe_json_add_num(e, "value", n ? v : NAN);
    cJSON_AddTrueToObject(e, "corpus");
    if (n >= 2 && B > 0) {
        double *bs = fe_xreallocarray(NULL, c->n_arms * B, sizeof(*bs));
        fe_corpus_bootstrap(c, B, o->seed, bs);
        double *mine = bs + a * B;
        fe_json_add_num(e, "se", sd(mine, B));
        qsort(mine, B, sizeof(*mine), fe_dcmp);
        fe_json_add_pair(e, "ci", fe_stats_quantile_sorted(mine, B, o->alpha / 2),
                         fe_stats_quantile_sorted(mine, B, 1 - o->alpha / 2));
        free(bs);
    } else {
        cJSON_AddNullToObject(e, "se");
        cJSON_AddNullToObject(e, "ci");
    }
    cJSON_AddStringToObject(e, "ci_method", "bootstrap_corpus_percentile");
    cJSON_AddNumberToObject(e, "ci_level", 1 - o->alpha);
    cJSON_AddNumberToObject(e, "resamples", (double)B);
    cJSON_AddNumberToObject(e, "seed", (double)o->seed);
    cJSON_AddItemToObject(e, "detail", fe_corpus_describe(c, a, max_labels));
    return e;
}

static void set_item(cJSON *e, const char *k, cJSON *v)
{
    cJSON_DeleteItemFromObjectCaseSensitive(e, k);
    cJSON_AddItemToObject(e, k, v);
}

static void set_num(cJSON *e, const char *k, double v)
{
    set_item(e, k, isfinite(v) ? cJSON_CreateNumber(v) : cJSON_CreateNull());
}

void fe_stats_corpus_comparison(cJSON *e, const struct fe_corpus *c, const double *boot, size_t a,
                                size_t b, const struct fe_stats_opts *o, unsigned long ar_seed)
{
    size_t n = c->n, B = o->resamples;
    double ma = n ? fe_corpus_value(c, a) : NAN, mb = n ? fe_corpus_value(c, b) : NAN;
    double delta = ma - mb;
    set_num(e, "mean_a", ma);
    set_num(e, "mean_b", mb);
    set_num(e, "delta", delta);
    set_item(e, "corpus", cJSON_CreateTrue());
    double se = NAN, p_boot = NAN;
    if (boot && n >= 2) {
        double *d = fe_xreallocarray(NULL, B, sizeof(*d));
        size_t hits = 0;
        for (size_t k = 0; k < B; k++) {
            d[k] = boot[a * B + k] - boot[b * B + k];
            hits += fabs(d[k] - delta) >= fabs(delta);
        }
        p_boot = delta == 0 ? 1.0 : (1.0 + (double)hits) / ((double)B + 1.0);
        se = sd(d, B);
        qsort(d, B, sizeof(*d), fe_dcmp);
        cJSON *ci = cJSON_CreateArray();
        cJSON_AddItemToArray(ci, cJSON_CreateNumber(fe_stats_quantile_sorted(d, B, o->alpha / 2)));
        cJSON_AddItemToArray(ci,
                             cJSON_CreateNumber(fe_stats_quantile_sorted(d, B, 1 - o->alpha / 2)));
        set_item(e, "ci", ci);
        free(d);
    } else {
        set_item(e, "ci", cJSON_CreateNull());
    }
    set_item(e, "ci_method", cJSON_CreateString("bootstrap_corpus_percentile"));
    set_num(e, "se_paired", se);
    set_item(e, "se_method", cJSON_CreateString("sd of the paired corpus bootstrap deltas"));
    set_num(e, "p_bootstrap", p_boot);
    double p_ar = n ? fe_corpus_randomization_p(c, a, b, B, ar_seed) : NAN;
    set_num(e, "p_randomization", p_ar);
    set_num(e, "p_permutation", p_ar);
    set_item(e, "permutation_exact", cJSON_CreateFalse());
    set_item(e, "permutation_method",
             cJSON_CreateString("approximate randomization: arms' outputs swapped per example"));
    set_item(e, "ci_bca", cJSON_CreateNull());
    set_item(e, "ci_bca_note", cJSON_CreateString("not computed for corpus-level metrics"));
    set_item(e, "p_mcnemar", cJSON_CreateNull());
    set_item(e, "p_mcnemar_midp", cJSON_CreateNull());
    cJSON_DeleteItemFromObjectCaseSensitive(e, "mcnemar_b");
    cJSON_DeleteItemFromObjectCaseSensitive(e, "mcnemar_c");
    set_item(e, "p_ttest", cJSON_CreateNull());
    set_item(e, "binary", cJSON_CreateFalse());
    set_item(e, "p_adjusted_source", cJSON_CreateString("p_randomization"));
    set_item(e, "corpus_note",
             cJSON_CreateString("corpus-level metric: values are recomputed from summed counts, "
                                "not means of per-example scores; the per-example t-test and "
                                "McNemar do not apply"));
    cJSON_DeleteItemFromObjectCaseSensitive(e, "mde_note");
    if (isfinite(se) && se > 0) {
        double z = gsl_cdf_ugaussian_Qinv(o->alpha / 2) + gsl_cdf_ugaussian_Pinv(0.8);
        set_num(e, "mde", z * se);
        if (delta != 0) {
            double need = ceil((double)n * pow(z * se / delta, 2));
            set_num(e, "n_needed", need < 2 ? 2 : need);
        } else {
            set_item(e, "n_needed", cJSON_CreateNull());
        }
    } else {
        set_item(e, "mde", cJSON_CreateNull());
        set_item(e, "n_needed", cJSON_CreateNull());
    }
}
