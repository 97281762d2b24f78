/* stats_holm.c — decision and secondary families, duplicate metrics; see stats_holm.h.
 * Owner: statistics (issue 13). */
#include "metrics/stats_holm.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "harness/base/jsonout.h"
#include "harness/base/util.h"

static void set_item(cJSON *e, const char *k, cJSON *v)
{
    cJSON_DeleteItemFromObjectCaseSensitive(e, k);
    cJSON_AddItemToObject(e, k, v);
}

static const char *str(const cJSON *e, const char *k)
{
    return fe_json_str(fe_json_get(e, k));
}

static size_t metric_index(const char *m, const char *const *names, size_t n)
{
    for (size_t i = 0; m && i < n; i++)
        if (strcmp(names[i], m) == 0)
            return i;
    return n;
}

static const char *family_of(const cJSON *e, const char *primary, const char *const *names,
                             const char *const *dup_of, size_t n)
{
    const char *m = str(e, "metric");
    size_t k = metric_index(m, names, n);
    if (k < n && dup_of && dup_of[k])
        return "duplicate";
    return primary && m && strcmp(m, primary) == 0 ? "primary" : "secondary";
}

static const char *family_of_opts(const cJSON *e, const char *primary, const char *const *names,
                                  const char *const *dup_of, size_t n, bool all)
{
    const char *f = family_of(e, primary, names, dup_of, n);
    return all && strcmp(f, "secondary") == 0 ? "primary" : f;
}

void fe_stats_families(cJSON *comparisons, const char *primary, const char *const *names,
                       const char *const *dup_of, size_t n, const struct fe_stats_opts *o)
{
    size_t K = (size_t)cJSON_GetArraySize(comparisons);
    if (K == 0)
        return;
    cJSON **ent = fe_xcalloc(K, sizeof(*ent));
    double *p = fe_xcalloc(K, sizeof(*p)), *adj = fe_xcalloc(K, sizeof(*adj));
    bool *resampled = fe_xcalloc(K, sizeof(*resampled));
    size_t *idx = fe_xcalloc(K, sizeof(*idx));
    size_t j = 0;
    for (cJSON *e = comparisons->child; e; e = e->next)
        ent[j++] = e;
    for (j = 0; j < K; j++) {
        const char *src = str(ent[j], "p_adjusted_source");
        double v;
        bool ok = src && fe_json_num(fe_json_get(ent[j], src), &v) && isfinite(v);
        p[j] = ok ? v : 1.0;
        resampled[j] = ok && strcmp(src, "p_mcnemar") != 0;
        set_item(ent[j], "family",
                 cJSON_CreateString(family_of_opts(ent[j], primary, names, dup_of, n, o->family_all)));
    }
    static const char *const fams[] = {"primary", "secondary"};
    for (size_t f = 0; f < 2; f++) {
        size_t m = 0;
        for (j = 0; j < K; j++)
            if (strcmp(str(ent[j], "family"), fams[f]) == 0)
                idx[m++] = j;
        if (m == 0)
            continue;
        double *pp = fe_xcalloc(m, sizeof(*pp)), *aa = fe_xcalloc(m, sizeof(*aa));
        for (size_t i = 0; i < m; i++)
            pp[i] = p[idx[i]];
        fe_stats_adjust(pp, m, o->correction, aa);
        for (size_t i = 0; i < m; i++) {
            size_t x = idx[i];
            adj[x] = aa[i];
            cJSON *e = ent[x];
            set_item(e, "p_adjusted", cJSON_CreateNumber(aa[i]));
            set_item(e, "adjustment", cJSON_CreateString(fe_stats_correction_name(o->correction)));
            set_item(e, "family_size", cJSON_CreateNumber((double)m));
            set_item(e, "significant", cJSON_CreateBool(aa[i] < o->alpha));
            /* within Monte Carlo error of alpha: say so rather than flip a decision */
            bool inconclusive = false;
            if (resampled[x] && p[x] > 0) {
                double mult = aa[i] / p[x];
                double mc = sqrt(p[x] * (1 - p[x]) / (double)o->resamples);
                inconclusive = fabs(aa[i] - o->alpha) <= 3 * mult * mc;
            }
            set_item(e, "inconclusive", cJSON_CreateBool(inconclusive));
        }
        free(pp);
        free(aa);
    }
    /* duplicates: the decision of the comparison they duplicate */
    for (j = 0; j < K; j++) {
        cJSON *e = ent[j];
        if (strcmp(str(e, "family"), "duplicate") != 0)
            continue;
        size_t k = metric_index(str(e, "metric"), names, n);
        const char *of = dup_of[k];
        const cJSON *twin = NULL;
        for (size_t x = 0; x < K && !twin; x++) {
            const char *a = str(ent[x], "a"), *b = str(ent[x], "b"), *m = str(ent[x], "metric");
            if (m && strcmp(m, of) == 0 && a && b && str(e, "a") && str(e, "b") &&
                strcmp(a, str(e, "a")) == 0 && strcmp(b, str(e, "b")) == 0)
                twin = ent[x];
        }
        set_item(e, "duplicate_of", cJSON_CreateString(of));
        char *note = fe_xasprintf("per-example scores equal %s's in every arm: reported once, "
                                  "under %s, and not counted in any family",
                                  of, of);
        set_item(e, "note", cJSON_CreateString(note));
        free(note);
        static const char *const copy[] = {"p_adjusted", "adjustment", "family_size",
                                           "significant", "inconclusive"};
        for (size_t c = 0; c < sizeof(copy) / sizeof(copy[0]); c++) {
            const cJSON *v = fe_json_get(twin, copy[c]);
            if (v)
                set_item(e, copy[c], cJSON_Duplicate(v, true));
        }
    }
    free(idx);
    free(resampled);
    free(adj);
    free(p);
    free(ent);
}

static bool same_scores(const struct fe_score_table *t, size_t m1, size_t m2)
{
    for (size_t a = 0; a < t->n_arms; a++) {
        const struct fe_col x = fe_score_vec(t, a, m1), y = fe_score_vec(t, a, m2);
        for (size_t i = 0; i < t->n; i++)
            if (fe_col_at(x, i) != fe_col_at(y, i))
                return false;
    }
    return true;
}

void fe_stats_find_duplicates(const struct fe_score_table *t, const char *primary,
                              const bool *skip, const char **dup_of)
{
    size_t M = t->n_metrics;
    for (size_t m = 0; m < M; m++)
        dup_of[m] = NULL;
    if (t->n == 0 || (!t->scores && !t->cols))
        return;
    /* candidates to keep, in order, the primary first */
    size_t *order = fe_xcalloc(M ? M : 1, sizeof(*order));
    size_t no = 0, pi = metric_index(primary, t->metric_names, M);
    if (pi < M)
        order[no++] = pi;
    for (size_t m = 0; m < M; m++)
        if (m != pi)
            order[no++] = m;
    for (size_t x = 0; x < no; x++) {
        size_t m = order[x];
        if ((skip && skip[m]) || dup_of[m])
            continue;
        for (size_t y = x + 1; y < no; y++) {
            size_t k = order[y];
            if ((skip && skip[k]) || dup_of[k])
                continue;
            if (same_scores(t, m, k))
                dup_of[k] = t->metric_names[m];
        }
    }
    free(order);
}
