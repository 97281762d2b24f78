/* test_corpus.c — corpus-level metrics (metrics/corpus.h, stats_corpus.h) and the Holm families
 * (stats_holm.h) on cases worked out by hand from the published definitions (STATISTICS.md §6,
 * Holm 1979). The scikit-learn, WNUT-17 and numpy checks are in tests/corpus_metrics_test.py. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "harness/base/util.h"
#include "metrics/corpus.h"
#include "metrics/stats.h"
#include "metrics/stats_corpus.h"
#include "metrics/stats_holm.h"
#include "tests/t.h"

static bool near(double a, double b)
{
    return fabs(a - b) <= 1e-12;
}

static void add_labels(struct fe_corpus *c, size_t a, const char *const *gold,
                       const char *const *pred, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const char *p, *g;
        size_t len;
        fe_corpus_label_pair(pred[i], &gold[i], 1, &p, &len, &g);
        fe_corpus_add_labels(c, a, i, p, len, g);
    }
}

/* gold a a b c, pred a b b x: classes a b c x; F1 a = 2/3, b = 2/3, c = 0, x = 0 */
static void test_labels(void)
{
    const char *gold[] = {"a", "a", "b", "c"};
    const char *pred[] = {" a\n", "b", "b", "x"};
    struct fe_corpus c;
    fe_corpus_init(&c, FE_CORPUS_MACRO_F1, 4, 1);
    add_labels(&c, 0, gold, pred, 4);
    fe_corpus_finish(&c);
    T_CHECK(c.n_classes == 4);
    T_CHECK_STR(c.classes[0], "a");
    T_CHECK_STR(c.classes[3], "x");
    T_CHECK(near(fe_corpus_value(&c, 0), (2.0 / 3 + 2.0 / 3) / 4));
    c.kind = FE_CORPUS_MICRO_F1;
    T_CHECK(near(fe_corpus_value(&c, 0), 0.5));
    c.kind = FE_CORPUS_MACRO_F1;
    cJSON *d = fe_corpus_describe(&c, 0, 2);
    const cJSON *pc = cJSON_GetObjectItem(d, "per_class");
    T_CHECK(cJSON_GetArraySize(pc) == 4);
    const cJSON *b = cJSON_GetArrayItem(pc, 1);
    T_CHECK_STR(cJSON_GetObjectItem(b, "label")->valuestring, "b");
    T_CHECK(near(cJSON_GetObjectItem(b, "precision")->valuedouble, 0.5));
    T_CHECK(near(cJSON_GetObjectItem(b, "recall")->valuedouble, 1.0));
    /* capped at 2 labels: a (support 2) and b (support 1, predicted 2) shown, c and x pooled */
    const cJSON *conf = cJSON_GetObjectItem(d, "confusion");
    T_CHECK(cJSON_IsTrue(cJSON_GetObjectItem(conf, "capped")));
    T_CHECK(cJSON_GetArraySize(cJSON_GetObjectItem(conf, "labels")) == 3);
    const cJSON *m = cJSON_GetObjectItem(conf, "matrix");
    /* rows gold a, b, other; columns pred a, b, other */
    double want[3][3] = {{1, 1, 0}, {0, 1, 0}, {0, 0, 1}};
    for (int r = 0; r < 3; r++)
        for (int q = 0; q < 3; q++)
            T_CHECK(cJSON_GetArrayItem(cJSON_GetArrayItem(m, r), q)->valuedouble == want[r][q]);
    cJSON_Delete(d);
    fe_corpus_release(&c);

    /* two arms: each arm's class set is its own union; arm 1 never predicts "x", so its macro
     * is over a, b, c only: F1 a = 1, b = 2/3 (tp 1, gold 1, pred 2), c = 0 */
    const char *pred1[] = {"a", "a", "b", "b"};
    fe_corpus_init(&c, FE_CORPUS_MACRO_F1, 4, 2);
    add_labels(&c, 0, gold, pred, 4);
    add_labels(&c, 1, gold, pred1, 4);
    fe_corpus_finish(&c);
    T_CHECK(c.n_classes == 4);
    T_CHECK(near(fe_corpus_value(&c, 0), (2.0 / 3 + 2.0 / 3) / 4));
    T_CHECK(near(fe_corpus_value(&c, 1), (1.0 + 2.0 / 3) / 3));
    fe_corpus_release(&c);
}

static struct fe_entity_counts ents(const char *pred, const char *row_json)
{
    cJSON *row = cJSON_Parse(row_json);
    struct fe_gold g = {.gold_json = cJSON_GetObjectItem(row, "gold"), .row = row};
    struct fe_entity_counts c = fe_corpus_entity_counts(pred, &g);
    cJSON_Delete(row);
    return c;
}

static void test_entities(void)
{
    /* the WNUT-17 test-0422 shape: "Q" twice as person and inside "Déjà Q" */
    const char *row = "{\"tokens\": [\"Q\", \"x\", \"D\\u00e9j\\u00e0\", \"Q\", \"y\", \"Q\"],"
                      " \"gold\": {\"person\": [\"Q\", \"Q\"], \"creative-work\": [\"D\\u00e9j\\u00e0 Q\"]},"
                      " \"entities\": [{\"type\": \"person\", \"start\": 0, \"end\": 1},"
                      " {\"type\": \"creative-work\", \"start\": 2, \"end\": 4},"
                      " {\"type\": \"person\", \"start\": 5, \"end\": 6}]}";
    struct fe_entity_counts c =
        ents("{\"person\": [\"Q\", \"Q\"], \"creative-work\": [\"D\\u00e9j\\u00e0 Q\"]}", row);
    T_CHECK(c.tp == 3 && c.pred == 3 && c.gold == 3);
    /* the gold object alone aligns to the same spans (no "entities") */
    const char *row2 = "{\"tokens\": [\"Q\", \"x\", \"D\\u00e9j\\u00e0\", \"Q\", \"y\", \"Q\"],"
                       " \"gold\": {\"person\": [\"Q\", \"Q\"], \"creative-work\": [\"D\\u00e9j\\u00e0 Q\"]}}";
    c = ents("[{\"type\": \"person\", \"start\": 5, \"end\": 6}, {\"type\": \"person\", \"start\": 5, "
             "\"end\": 6}, {\"type\": \"location\", \"start\": 0, \"end\": 1}]",
             row2);
    T_CHECK(c.tp == 1 && c.pred == 2 && c.gold == 3); /* duplicate span counted once */
    /* wrong type or wrong boundary is not a match (conlleval) */
    c = ents("```json\n[{\"type\": \"person\", \"start\": 2, \"end\": 4}, {\"type\": "
             "\"creative-work\", \"start\": 3, \"end\": 4}]\n```",
             row);
    T_CHECK(c.tp == 0 && c.pred == 2 && c.gold == 3);
    /* a surface that does not occur predicts an entity that never matches */
    c = ents("{\"person\": [\"Zed\"]}", row);
    T_CHECK(c.tp == 0 && c.pred == 1 && c.gold == 3);
    /* no tokens: (type, surface) multisets */
    c = ents("{\"person\": [\"Q\", \"Q\", \"Q\"]}", "{\"gold\": {\"person\": [\"Q\", \"Q\"]}}");
    T_CHECK(c.tp == 2 && c.pred == 3 && c.gold == 2);
    /* not JSON: no entity predicted, the gold still counts */
    c = ents("I think it is Q", row);
    T_CHECK(c.tp == 0 && c.pred == 0 && c.gold == 3);
    T_CHECK(fe_corpus_entity_example_f1((struct fe_entity_counts){0, 0, 0}) == 1.0);
    T_CHECK(near(fe_corpus_entity_example_f1((struct fe_entity_counts){1, 2, 2}), 0.5));
}

/* The corpus bootstrap draws the same resample indices as fe_stats_bootstrap resampling
 * examples: with pred = gold = K per example and tp_i = i, entity F1 = mean(tp) / K, so each
 * replicate must equal the mean bootstrap's replicate of d_i = i divided by K, exactly. */
static void test_shared_indices(void)
{
    enum { N = 200, K = 1000, B = 700 };
    struct fe_corpus c;
    fe_corpus_init(&c, FE_CORPUS_ENTITY_F1, N, 2);
    double d[N];
    for (size_t i = 0; i < N; i++) {
        d[i] = (double)i;
        fe_corpus_add_entities(&c, 0, i, (struct fe_entity_counts){(long)i, K, K});
        fe_corpus_add_entities(&c, 1, i, (struct fe_entity_counts){(long)(N - 1 - i), K, K});
    }
    fe_corpus_finish(&c);
    double *boot = fe_xcalloc(2 * B, sizeof(double)), *ref = fe_xcalloc(B, sizeof(double));
    fe_corpus_bootstrap(&c, B, 42, boot);
    fe_stats_bootstrap(d, N, 1, NULL, 0, B, 42, ref);
    size_t same = 0, paired = 0;
    for (size_t b = 0; b < B; b++) {
        same += fabs(boot[b] - ref[b] / K) <= 1e-12;
        /* arm 1 is the mirror of arm 0 on the same indices: tp sums to (N-1) per example */
        paired += fabs(boot[b] + boot[B + b] - (double)(N - 1) / K) <= 1e-12;
    }
    T_CHECK(same == B);
    T_CHECK(paired == B);
    /* identical arms: the randomization p is exactly 1 */
    struct fe_corpus e;
    fe_corpus_init(&e, FE_CORPUS_ENTITY_F1, N, 2);
    for (size_t i = 0; i < N; i++) {
        fe_corpus_add_entities(&e, 0, i, (struct fe_entity_counts){(long)(i % 3), 3, 2});
        fe_corpus_add_entities(&e, 1, i, (struct fe_entity_counts){(long)(i % 3), 3, 2});
    }
    T_CHECK(fe_corpus_randomization_p(&e, 0, 1, 500, 1) == 1.0);
    /* a large difference: every swap round is smaller, p = 1 / (R + 1) */
    for (size_t i = 0; i < N; i++)
        fe_corpus_add_entities(&e, 1, i, (struct fe_entity_counts){0, 3, 2});
    T_CHECK(near(fe_corpus_randomization_p(&e, 0, 1, 499, 1), 1.0 / 500));
    fe_corpus_release(&e);
    free(boot);
    free(ref);
    fe_corpus_release(&c);
}

static cJSON *cmp_entry(const char *metric, const char *a, double p)
{
    cJSON *e = cJSON_CreateObject();
    cJSON_AddStringToObject(e, "a", a);
    cJSON_AddStringToObject(e, "b", "base");
    cJSON_AddStringToObject(e, "metric", metric);
    cJSON_AddNumberToObject(e, "p_bootstrap", p);
    cJSON_AddStringToObject(e, "p_adjusted_source", "p_bootstrap");
    return e;
}

static double num(const cJSON *arr, int i, const char *k)
{
    return cJSON_GetObjectItem(cJSON_GetArrayItem(arr, i), k)->valuedouble;
}

static const char *s(const cJSON *arr, int i, const char *k)
{
    return cJSON_GetObjectItem(cJSON_GetArrayItem(arr, i), k)->valuestring;
}

static void test_families(void)
{
    cJSON *arr = cJSON_CreateArray();
    cJSON_AddItemToArray(arr, cmp_entry("acc", "x", 0.01));  /* primary */
    cJSON_AddItemToArray(arr, cmp_entry("acc", "y", 0.03));  /* primary */
    cJSON_AddItemToArray(arr, cmp_entry("f1", "x", 0.02));   /* secondary */
    cJSON_AddItemToArray(arr, cmp_entry("f1", "y", 0.04));   /* secondary */
    cJSON_AddItemToArray(arr, cmp_entry("em", "x", 0.011));  /* duplicate of acc */
    cJSON_AddItemToArray(arr, cmp_entry("em", "y", 0.031));
    const char *names[] = {"acc", "f1", "em"};
    const char *dup[] = {NULL, NULL, "acc"};
    struct fe_stats_opts o;
    fe_stats_opts_default(&o);
    fe_stats_families(arr, "acc", names, dup, 3, &o);
    /* Holm within each family of 2: sorted p1 <= p2: 2 p1, max(2 p1, p2) */
    T_CHECK_STR(s(arr, 0, "family"), "primary");
    T_CHECK(near(num(arr, 0, "p_adjusted"), 0.02) && near(num(arr, 1, "p_adjusted"), 0.03));
    T_CHECK(num(arr, 0, "family_size") == 2);
    T_CHECK_STR(s(arr, 2, "family"), "secondary");
    T_CHECK(near(num(arr, 2, "p_adjusted"), 0.04) && near(num(arr, 3, "p_adjusted"), 0.04));
    T_CHECK(cJSON_IsTrue(cJSON_GetObjectItem(cJSON_GetArrayItem(arr, 2), "significant")));
    T_CHECK_STR(s(arr, 4, "family"), "duplicate");
    T_CHECK_STR(s(arr, 4, "duplicate_of"), "acc");
    T_CHECK(near(num(arr, 4, "p_adjusted"), 0.02) && near(num(arr, 5, "p_adjusted"), 0.03));
    /* stats.family "all": one family of the 4 non-duplicate comparisons */
    o.family_all = true;
    fe_stats_families(arr, "acc", names, dup, 3, &o);
    T_CHECK_STR(s(arr, 2, "family"), "primary");
    T_CHECK(num(arr, 0, "family_size") == 4);
    /* Holm over .01 .03 .02 .04: 4(.01) = .04; 3(.02) = .06; max(.06, 2(.03)) = .06; max(.06, .04) */
    T_CHECK(near(num(arr, 0, "p_adjusted"), 0.04) && near(num(arr, 3, "p_adjusted"), 0.06));
    T_CHECK_STR(s(arr, 4, "family"), "duplicate");
    cJSON_Delete(arr);

    /* duplicates: equal scores in every arm; the primary is kept even when listed later */
    double sc[2 * 3 * 2] = {/* arm0: m0 */ 1, 0, /* m1 */ 1, 0, /* m2 */ 0.5, 0,
                            /* arm1: m0 */ 0, 1, /* m1 */ 0, 1, /* m2 */ 0, 1};
    const char *mn[] = {"em", "acc", "f1"};
    const char *an[] = {"a", "b"};
    struct fe_score_table t = {.n = 2, .n_arms = 2, .arm_names = an, .n_metrics = 3,
                               .metric_names = mn, .scores = sc};
    const char *d[3];
    fe_stats_find_duplicates(&t, "acc", NULL, d);
    T_CHECK(d[0] && strcmp(d[0], "acc") == 0 && !d[1] && !d[2]);
    bool skip[3] = {true, false, false};
    fe_stats_find_duplicates(&t, "acc", skip, d);
    T_CHECK(!d[0] && !d[1] && !d[2]);
}

int main(void)
{
    fe_stats_global_init();
    test_labels();
    test_entities();
    test_shared_indices();
    test_families();
    return T_DONE();
}
