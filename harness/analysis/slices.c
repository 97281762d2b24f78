/* slices.c — see slices.h. */
#include "harness/analysis/slices.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "harness/analysis/arm_metrics.h"
#include "harness/base/jsonout.h"
#include "harness/base/strmap.h"
#include "harness/base/util.h"
#include "metrics/stats_corpus.h"
#include "metrics/stats_holm.h"

struct fe_slice_ctx {
    const struct fe_run *run;
    const struct fe_stats_opts *o;
    char **names; /* sorted */
    size_t n_names;
    size_t base;
    size_t metric; /* index of the primary metric */
    size_t min_n;
};

static int fe_cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The distinct slice names of every arm's records, sorted; 0 when no record has one. */
static size_t fe_slice_names(const struct fe_run *run, char ***out)
{
    struct fe_strmap seen;
    fe_strmap_init(&seen);
    char **names = NULL;
    size_t n = 0;
    for (size_t a = 0; a < run->n_arms; a++)
        for (size_t i = 0; i < run->arms[a].n; i++) {
            const char *s = fe_run_str(run, fe_arm_rec(&run->arms[a], i)->slice);
            if (s && fe_strmap_put(&seen, s, n)) {
                names = fe_xreallocarray(names, n + 1, sizeof(*names));
                names[n++] = fe_xstrdup(s);
            }
        }
    fe_strmap_release(&seen);
    if (n)
        qsort(names, n, sizeof(*names), fe_cmp_str);
    *out = names;
    return n;
}

/* {"n", "metrics"} of arm a over its records in slice name. */
static cJSON *fe_slice_arm(const struct fe_slice_ctx *x, size_t a, const char *name)
{
    const struct fe_arm_run *arm = &x->run->arms[a];
    size_t *idx = fe_xcalloc(arm->n ? arm->n : 1, sizeof(*idx));
    size_t n = 0;
    for (size_t i = 0; i < arm->n; i++)
    {
        uint32_t slice = fe_arm_rec(arm, i)->slice;
        if (slice && strcmp(fe_run_str(x->run, slice), name) == 0)
            idx[n++] = i;
    }
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "n", (double)n);
    cJSON_AddItemToObject(o, "metrics", fe_arm_metrics_of(x->run, a, idx, n, x->o));
    free(idx);
    return o;
}

/* The paired comparison of arm a against the baseline over slice name (>= min_n pairs), or the
 * untested entry. */
static cJSON *fe_slice_compare(const struct fe_slice_ctx *x, size_t a, const char *name)
{
    const struct fe_run *run = x->run;
    const struct fe_arm_run *arm = &run->arms[a], *base = &run->arms[x->base];
    const char *metric = run->metrics[x->metric];
    long *pair = fe_xcalloc(arm->n ? 2 * arm->n : 1, sizeof(*pair));
    size_t n = 0;
    for (size_t i = 0; i < arm->n; i++) {
        const struct fe_record *r = fe_arm_rec(arm, i);
        long j = r->slice && strcmp(fe_run_str(run, r->slice), name) == 0 ? fe_run_find_record(run, x->base, r->id) : -1;
        if (j >= 0) {
            pair[2 * n] = (long)i;
            pair[2 * n + 1] = j;
            n++;
        }
    }
    cJSON *e = NULL;
    if (n >= x->min_n) {
        double *sa = fe_xcalloc(n, sizeof(*sa)), *sb = fe_xcalloc(n, sizeof(*sb));
        const char **cl = fe_xcalloc(n, sizeof(*cl));
        bool any_cluster = false;
        for (size_t i = 0; i < n; i++) {
            const struct fe_record *ra = fe_arm_rec(arm, pair[2 * i]);
            sa[i] = fe_score(ra, x->metric);
            sb[i] = fe_score(fe_arm_rec(base, pair[2 * i + 1]), x->metric);
            cl[i] = ra->cluster ? fe_run_str(run, ra->cluster) : ra->id;
            any_cluster = any_cluster || ra->cluster;
        }
        struct fe_err err = {0};
        e = fe_stats_compare_pair(sa, sb, n, run->metric_binary[x->metric], any_cluster ? cl : NULL,
                                  metric, arm->name, base->name, x->o, &err);
        enum fe_corpus_kind kind = fe_run_metric_corpus(metric);
        if (e && kind != FE_CORPUS_NONE) { /* the corpus value, bootstrap and randomization */
            struct fe_corpus c;
            fe_corpus_init(&c, kind, n, 2);
            for (size_t i = 0; i < n; i++) {
                fe_corpus_put_record(&c, 0, i, run, fe_arm_rec(arm, pair[2 * i]), metric);
                fe_corpus_put_record(&c, 1, i, run, fe_arm_rec(base, pair[2 * i + 1]), metric);
            }
            fe_corpus_finish(&c);
            double *boot = fe_xreallocarray(NULL, 2 * x->o->resamples, sizeof(*boot));
            fe_corpus_bootstrap(&c, x->o->resamples, x->o->seed, boot);
            fe_stats_corpus_comparison(e, &c, boot, 0, 1, x->o, x->o->seed + 0x9e3779b9UL);
            free(boot);
            fe_corpus_release(&c);
        }
        free(sa);
        free(sb);
        free(cl);
    }
    free(pair);
    bool tested = e != NULL;
    if (!e) { /* too small to test (or no defined test): listed with its size */
        e = cJSON_CreateObject();
        cJSON_AddStringToObject(e, "a", arm->name);
        cJSON_AddStringToObject(e, "b", base->name);
        cJSON_AddStringToObject(e, "metric", metric);
        cJSON_AddNumberToObject(e, "n", (double)n);
        char *note = fe_xasprintf("%zu paired examples, fewer than task.slice_min_n = %zu: listed, not tested", n,
                                  x->min_n);
        cJSON_AddStringToObject(e, "note", note);
        free(note);
    }
    cJSON_AddItemToObject(e, "slice", cJSON_CreateString(name));
    cJSON_AddBoolToObject(e, "tested", tested);
    return e;
}

/* Holm (or the run's correction) over arm a's tested slices; marks "worse". Moves the entries
 * of list into out. */
static void fe_slice_family(const struct fe_slice_ctx *x, cJSON *list, cJSON *out)
{
    cJSON *tested = cJSON_CreateArray();
    const char *metric = x->run->metrics[x->metric];
    for (cJSON *e = list->child; e;) {
        cJSON *next = e->next;
        if (cJSON_IsTrue(fe_json_get(e, "tested")))
            cJSON_AddItemToArray(tested, cJSON_DetachItemViaPointer(list, e));
        e = next;
    }
    /* one family: every entry is the primary metric's, so fe_stats_families corrects them
     * together exactly as it corrects the decision family */
    const char *names[1] = {metric};
    fe_stats_families(tested, metric, names, NULL, 1, x->o);
    while (tested->child) {
        cJSON *e = cJSON_DetachItemViaPointer(tested, tested->child);
        cJSON_ReplaceItemInObjectCaseSensitive(e, "family", cJSON_CreateString("slices"));
        double delta;
        bool worse = cJSON_IsTrue(fe_json_get(e, "significant")) &&
                     !cJSON_IsTrue(fe_json_get(e, "inconclusive")) &&
                     fe_json_num(fe_json_get(e, "delta"), &delta) && delta < 0;
        cJSON_AddBoolToObject(e, "worse", worse);
        cJSON_AddItemToArray(list, e);
    }
    cJSON_Delete(tested);
    /* in slice order again (tested and untested were split) */
    for (size_t s = 0; s < x->n_names; s++)
        for (cJSON *e = list->child; e; e = e->next)
            if (strcmp(fe_json_str(fe_json_get(e, "slice")), x->names[s]) == 0) {
                cJSON_AddItemToArray(out, cJSON_DetachItemViaPointer(list, e));
                break;
            }
}

void fe_slices_attach(const struct fe_run *run, cJSON *summary, const struct fe_stats_opts *o)
{
    struct fe_slice_ctx x = {.run = run, .o = o};
    x.n_names = fe_slice_names(run, &x.names);
    if (x.n_names == 0 || run->n_metrics == 0)
        goto out;
    struct fe_manifest_view mv;
    fe_manifest_view_parse(run->manifest, &mv);
    long base = mv.baseline_arm ? fe_run_arm_index(run, mv.baseline_arm) : 0;
    x.base = base < 0 ? 0 : (size_t)base;
    for (size_t m = 0; m < run->n_metrics && mv.primary_metric; m++)
        if (strcmp(run->metrics[m], mv.primary_metric) == 0)
            x.metric = m;
    x.min_n = fe_has(mv.slice_min_n) && mv.slice_min_n >= 2 ? (size_t)mv.slice_min_n : 10;

    cJSON *b = cJSON_CreateObject();
    cJSON_AddStringToObject(b, "field", mv.slice_field ? mv.slice_field : "slice");
    cJSON_AddStringToObject(b, "metric", run->metrics[x.metric]);
    cJSON_AddStringToObject(b, "baseline_arm", run->arms[x.base].name);
    cJSON_AddNumberToObject(b, "min_n", (double)x.min_n);
    cJSON_AddNumberToObject(b, "alpha", o->alpha);
    cJSON_AddStringToObject(b, "adjustment", fe_stats_correction_name(o->correction));
    cJSON *slices = cJSON_AddArrayToObject(b, "slices");
    for (size_t s = 0; s < x.n_names; s++) {
        cJSON *e = cJSON_CreateObject();
        cJSON_AddStringToObject(e, "name", x.names[s]);
        cJSON *arms = cJSON_AddObjectToObject(e, "arms");
        for (size_t a = 0; a < run->n_arms; a++)
            cJSON_AddItemToObject(arms, run->arms[a].name, fe_slice_arm(&x, a, x.names[s]));
        cJSON_AddItemToArray(slices, e);
    }
    cJSON *cmp = cJSON_AddArrayToObject(b, "comparisons");
    for (size_t a = 0; a < run->n_arms; a++) {
        if (a == x.base)
            continue;
        cJSON *list = cJSON_CreateArray();
        for (size_t s = 0; s < x.n_names; s++)
            cJSON_AddItemToArray(list, fe_slice_compare(&x, a, x.names[s]));
        fe_slice_family(&x, list, cmp);
        cJSON_Delete(list);
    }
    cJSON_AddItemToObject(summary, "slices", b);
out:
    for (size_t s = 0; s < x.n_names; s++)
        free(x.names[s]);
    free(x.names);
}
