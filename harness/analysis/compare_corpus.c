/* compare_corpus.c — `compare` on corpus metrics (macro_f1, micro_f1, entity_f1): their value is
 * not the mean of per-example scores, so the per-example comparison the statistics module built
 * is rewritten with the corpus computation the summary uses (arm_metrics.h, stats_corpus.h):
 * the corpus value per side, the paired corpus bootstrap (CI, p_bootstrap) and the paired
 * approximate-randomization test (p_randomization, the p the gate adjusts). See compare_int.h. */
#include "harness/analysis/compare_int.h"

#include <stdlib.h>
#include <string.h>

#include "harness/analysis/arm_metrics.h"
#include "harness/base/jsonout.h"
#include "harness/base/util.h"
#include "metrics/stats_corpus.h"

/* The entry of metric in a comparisons array, or NULL. */
static cJSON *fe_entry_of(cJSON *arr, const char *metric)
{
    cJSON *e;
    cJSON_ArrayForEach(e, arr) {
        const char *m = fe_json_str(fe_json_get(e, "metric"));
        if (m && strcmp(m, metric) == 0)
            return e;
    }
    return NULL;
}

/* Adds example i of side s as arm slot a, example i, of c; a missing record counts as failed
 * (nothing predicted) with the other side's gold (its gold labels and entities still count). */
static void fe_put_side(struct fe_corpus *c, size_t a, size_t i, const struct fe_side *s,
                        const struct fe_side *other, const char *metric)
{
    const struct fe_record *r = fe_side_rec(s, i);
    if (r) {
        fe_corpus_put_record(c, a, i, s->run, r, metric);
        return;
    }
    const struct fe_record *orec = fe_side_rec(other, i);
    struct fe_record_text t = {.prediction = ""}, o = {0};
    if (orec)
        fe_run_record_text(other->run, orec, &o);
    t.gold = o.gold;
    fe_corpus_put_text(c, a, i, false, &t, metric);
    fe_record_text_release(&o);
}

bool fe_compare_corpus(const struct fe_side *sa, const struct fe_side *sb, size_t n,
                       const char *metric, unsigned long ar_seed, cJSON *c1,
                       const struct fe_stats_opts *so1, cJSON *c2, const struct fe_stats_opts *so2,
                       double means[2])
{
    enum fe_corpus_kind kind = fe_run_metric_corpus(metric);
    cJSON *e1 = fe_entry_of(c1, metric), *e2 = fe_entry_of(c2, metric);
    if (kind == FE_CORPUS_NONE || n < 2 || !e1 || !e2)
        return false;
    struct fe_corpus c;
    fe_corpus_init(&c, kind, n, 2);
    for (size_t i = 0; i < n; i++) {
        fe_put_side(&c, 0, i, sa, sb, metric);
        fe_put_side(&c, 1, i, sb, sa, metric);
    }
    fe_corpus_finish(&c);
    double *boot = fe_xreallocarray(NULL, 2 * so1->resamples, sizeof(*boot));
    fe_corpus_bootstrap(&c, so1->resamples, so1->seed, boot);
    /* entries are "candidate" (arm 1) vs "baseline" (arm 0) */
    fe_stats_corpus_comparison(e1, &c, boot, 1, 0, so1, ar_seed);
    fe_stats_corpus_comparison(e2, &c, boot, 1, 0, so2, ar_seed);
    free(boot);
    fe_corpus_release(&c);
    means[0] = fe_json_getn(e1, "mean_b");
    means[1] = fe_json_getn(e1, "mean_a");
    return true;
}
