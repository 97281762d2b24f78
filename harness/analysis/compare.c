/* compare.c — see compare.h; the statistics are defined in docs/nightly.md. */
#include "harness/analysis/compare.h"
#include "harness/base/jsonout.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness/base/log.h"
#include "harness/base/strmap.h"
#include "harness/base/util.h"
#include "metrics/drift.h"
#include "metrics/stats.h"

#define FE_RIGHT_THRESHOLD 0.5 /* a score >= this counts as "right" for broke/fixed */

void fe_compare_opts_default(struct fe_compare_opts *o)
{
    memset(o, 0, sizeof(*o));
    o->margin = 0.02;
    o->alpha = 0.05;
    o->seed = 20261124;
    o->resamples = 10000;
    o->top_k = 10;
}

/* ---------- small JSON helpers ---------- */

static void fe_adds_or_null(cJSON *o, const char *k, const char *s)
{
    if (s)
        cJSON_AddStringToObject(o, k, s);
    else
        cJSON_AddNullToObject(o, k);
}

static const cJSON *fe_manifest_arm(const struct fe_run *run, const char *name)
{
    const cJSON *a;
    cJSON_ArrayForEach(a, fe_json_get(run->manifest, "arms")) {
        const char *n = fe_json_gets(a, "name");
        if (n && strcmp(n, name) == 0)
            return a;
    }
    return NULL;
}

static const char *fe_dataset_sha(const struct fe_run *run)
{
    return fe_json_gets(fe_json_get(run->manifest, "dataset"), "sha256");
}

/* ---------- id sets ---------- */

struct fe_idset {
    struct fe_strmap map;
    const char **ids; /* borrowed from the run's records, in first-seen order */
    size_t n, alloc;
};

static void fe_idset_add(struct fe_idset *s, const char *id)
{
    if (fe_strmap_get(&s->map, id, NULL))
        return;
    fe_strmap_put(&s->map, id, s->n);
    if (s->n == s->alloc) {
        s->alloc = s->alloc ? 2 * s->alloc : 256;
        s->ids = fe_xreallocarray(s->ids, s->alloc, sizeof(*s->ids));
    }
    s->ids[s->n++] = id;
}

static bool fe_idset_has(const struct fe_idset *s, const char *id)
{
    return fe_strmap_get(&s->map, id, NULL);
}

static void fe_idset_of_run(struct fe_idset *s, const struct fe_run *run)
{
    memset(s, 0, sizeof(*s));
    fe_strmap_init(&s->map);
    for (size_t a = 0; a < run->n_arms; a++)
        for (size_t i = 0; i < run->arms[a].n; i++)
            fe_idset_add(s, run->arms[a].records[i].id);
}

static void fe_idset_release(struct fe_idset *s)
{
    fe_strmap_release(&s->map);
    free(s->ids);
}

/* ---------- verdicts ---------- */

enum fe_v { FE_V_PASS, FE_V_IMPROVEMENT, FE_V_INCONCLUSIVE, FE_V_REGRESSION };
static const char *const fe_v_names[] = {"pass", "improvement", "inconclusive", "regression"};

static enum fe_v fe_verdict_core(bool sig, bool noninferior, bool upper_below, double delta,
                                 double margin, const char **why)
{
    if (upper_below) {
        *why = "upper bound of delta below -margin";
        return FE_V_REGRESSION;
    }
    if (sig && delta < -margin) {
        *why = "significant drop larger than the margin";
        return FE_V_REGRESSION;
    }
    if (sig && delta > 0) {
        *why = "significant gain";
        return FE_V_IMPROVEMENT;
    }
    if (noninferior) {
        *why = sig ? "non-inferior (significant drop, but within the margin)"
                   : "non-inferior: lower bound of delta above -margin";
        return FE_V_PASS;
    }
    *why = "neither non-inferiority nor a regression is shown (see the MDE)";
    return FE_V_INCONCLUSIVE;
}

const char *fe_compare_verdict(double delta, double lower, double upper, double p, double alpha,
                               double margin, double p_band, double bound_band, const char **why)
{
    const char *dummy;
    if (!why)
        why = &dummy;
    if (!isfinite(delta) || !isfinite(lower) || !isfinite(upper)) {
        *why = "undefined (too few paired examples)";
        return fe_v_names[FE_V_INCONCLUSIVE];
    }
    if (!isfinite(p))
        p = 1;
    bool sig = p < alpha, ni = lower > -margin, ub = upper < -margin;
    enum fe_v v = fe_verdict_core(sig, ni, ub, delta, margin, why);
    /* Monte Carlo guard: a resampled p (or bound) that lies within its own noise of the
     * threshold must not flip the decision, so try the other side of each uncertain test. */
    bool p_unsure = p_band > 0 && fabs(p - alpha) < p_band;
    bool b_unsure = bound_band > 0 && fabs(lower + margin) < bound_band;
    for (int ps = 0; ps < 2; ps++) {
        for (int bs = 0; bs < 2; bs++) {
            if ((ps && !p_unsure) || (bs && !b_unsure))
                continue;
            const char *w;
            enum fe_v alt = fe_verdict_core(ps ? !sig : sig, bs ? !ni : ni, ub, delta, margin, &w);
            if (alt != v) {
                *why = p_unsure && ps ? "p-value within Monte Carlo error of alpha"
                                      : "lower bound within Monte Carlo error of -margin";
                return fe_v_names[FE_V_INCONCLUSIVE];
            }
        }
    }
    return fe_v_names[v];
}

static enum fe_v fe_v_from_name(const char *s)
{
    for (size_t i = 0; i < FE_ARRAY_LEN(fe_v_names); i++)
        if (s && strcmp(s, fe_v_names[i]) == 0)
            return (enum fe_v)i;
    return FE_V_INCONCLUSIVE;
}

/* ---------- one metric of one arm pair ---------- */

struct fe_mres {
    cJSON *obj;          /* the metric entry (owned by the arm entry) */
    double delta, lower, upper, p_src;
    double p_band, bound_band;
    size_t family_index;
};

static bool fe_all_binary(const double *x, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (x[i] != 0 && x[i] != 1)
            return false;
    return true;
}

static const cJSON *fe_find_comparison(const cJSON *arr, const char *metric)
{
    const cJSON *e;
    cJSON_ArrayForEach(e, arr) {
        const char *m = fe_json_gets(e, "metric");
        if (m && strcmp(m, metric) == 0)
            return e;
    }
    return NULL;
}

/* Fills one metric entry from the statistics module's comparisons at alpha (c1) and at 2 alpha
 * (c2, whose two-sided CI bounds are the one-sided (1 - alpha) bounds), or, when the module gave
 * nothing usable, from the analytic paired t interval (and exact McNemar for binary metrics). */
static void fe_metric_entry(struct fe_mres *r, const char *metric, bool binary, const double *sb,
                            const double *sc, size_t n, const cJSON *c1, const cJSON *c2,
                            const struct fe_compare_opts *o)
{
    cJSON *e = cJSON_CreateObject();
    r->obj = e;
    cJSON_AddStringToObject(e, "metric", metric);
    cJSON_AddBoolToObject(e, "binary", binary);
    cJSON_AddNumberToObject(e, "n", (double)n);
    double *d = fe_xcalloc(n ? n : 1, sizeof(*d));
    double ma = 0, mb = 0;
    size_t disc_b = 0, disc_c = 0; /* McNemar: baseline right & candidate wrong, and reverse */
    for (size_t i = 0; i < n; i++) {
        d[i] = sc[i] - sb[i];
        ma += (sb[i] - ma) / (double)(i + 1);
        mb += (sc[i] - mb) / (double)(i + 1);
        if (sb[i] == 1 && sc[i] == 0)
            disc_b++;
        if (sb[i] == 0 && sc[i] == 1)
            disc_c++;
    }
    fe_json_add_num(e, "mean_baseline", n ? ma : NAN);
    fe_json_add_num(e, "mean_candidate", n ? mb : NAN);
    struct fe_paired_t t1, t2;
    fe_drift_paired_t(d, n, o->alpha, &t1);
    fe_drift_paired_t(d, n, 2 * o->alpha, &t2);
    double delta = n ? mb - ma : NAN;

    double ci_lo = NAN, ci_hi = NAN;
    const cJSON *ci1 = fe_json_get(c1, "ci"), *ci2 = fe_json_get(c2, "ci");
    bool have_stats = c1 && c2 && cJSON_GetArraySize(ci1) == 2 && cJSON_GetArraySize(ci2) == 2 &&
                      isfinite(fe_json_getn(c1, "delta"));
    double lower, upper, se, p_src, mde, n_needed;
    const char *p_method;
    if (have_stats) {
        ci_lo = cJSON_GetArrayItem(ci1, 0)->valuedouble;
        ci_hi = cJSON_GetArrayItem(ci1, 1)->valuedouble;
        lower = cJSON_GetArrayItem(ci2, 0)->valuedouble;
        upper = cJSON_GetArrayItem(ci2, 1)->valuedouble;
        se = fe_json_getn(c1, "se_paired");
        const char *src = fe_json_gets(c1, "p_adjusted_source");
        if (!src)
            src = binary && isfinite(fe_json_getn(c1, "p_mcnemar")) ? "p_mcnemar" : "p_bootstrap";
        p_method = src;
        p_src = fe_json_getn(c1, src);
        bool resampled = strcmp(src, "p_bootstrap") == 0 ||
                         (strcmp(src, "p_permutation") == 0 &&
                          !cJSON_IsTrue(fe_json_get(c1, "permutation_exact")));
        size_t B = o->resamples ? o->resamples : 1;
        r->p_band = resampled ? 2 * sqrt(o->alpha * (1 - o->alpha) / (double)B) : 0;
        /* MC SE of the bootstrap alpha-quantile ~ sqrt(a(1-a)/B) / f(q_a), with the normal
         * density of delta* (sd = SE) at that quantile. */
        double z = fe_drift_norm_quantile(o->alpha);
        r->bound_band = se > 0 ? 2 * se * sqrt(o->alpha * (1 - o->alpha) / (double)B) /
                                     fe_drift_norm_pdf(z)
                               : 0;
        mde = fe_json_getn(c1, "mde");
        n_needed = fe_json_getn(c1, "n_needed");
        cJSON_AddStringToObject(e, "method", "bootstrap");
        cJSON_AddStringToObject(e, "ci_method",
                                fe_json_gets(c1, "ci_method") ? fe_json_gets(c1, "ci_method")
                                                              : "percentile");
        fe_json_add_num(e, "p_bootstrap", fe_json_getn(c1, "p_bootstrap"));
        fe_json_add_num(e, "p_permutation", fe_json_getn(c1, "p_permutation"));
        fe_json_add_num(e, "p_mcnemar", fe_json_getn(c1, "p_mcnemar"));
        fe_json_add_num(e, "resamples", fe_json_getn(c1, "resamples"));
        fe_json_add_num(e, "seed", fe_json_getn(c1, "seed"));
    } else {
        ci_lo = t1.lo;
        ci_hi = t1.hi;
        lower = t2.lo;
        upper = t2.hi;
        se = t1.se;
        if (!t1.defined)
            ci_lo = ci_hi = lower = upper = NAN;
        if (binary) {
            p_src = fe_drift_mcnemar(disc_b, disc_c);
            p_method = "p_mcnemar";
        } else {
            p_src = t1.p;
            p_method = "p_ttest";
        }
        r->p_band = r->bound_band = 0; /* analytic: no Monte Carlo error */
        mde = t1.defined ? fe_drift_mde(se, o->alpha, 0.8) : NAN;
        n_needed = NAN;
        if (t1.defined && delta != 0 && t1.sd > 0) {
            double k = (fe_drift_norm_quantile(1 - o->alpha / 2) + fe_drift_norm_quantile(0.8)) *
                       t1.sd / fabs(delta);
            n_needed = ceil(k * k);
        }
        cJSON_AddStringToObject(e, "method", "analytic");
        cJSON_AddStringToObject(e, "ci_method", "paired_t");
        fe_json_add_num(e, "p_ttest", t1.p);
        if (binary)
            fe_json_add_num(e, "p_mcnemar", p_src);
    }
    fe_json_add_num(e, "delta", delta);
    fe_json_add_num(e, "se_paired", se);
    fe_json_add_pair(e, "ci", ci_lo, ci_hi);
    cJSON_AddNumberToObject(e, "ci_level", 1 - o->alpha);
    fe_json_add_num(e, "lower_bound", lower);
    fe_json_add_num(e, "upper_bound", upper);
    cJSON_AddNumberToObject(e, "bound_level", 1 - o->alpha);
    cJSON_AddStringToObject(e, "p_method", p_method);
    fe_json_add_num(e, "p", p_src);
    fe_json_add_num(e, "mde", mde);
    fe_json_add_num(e, "n_needed", n_needed);
    if (binary) {
        cJSON_AddNumberToObject(e, "n_broke", (double)disc_b);
        cJSON_AddNumberToObject(e, "n_fixed", (double)disc_c);
    }
    cJSON_AddNumberToObject(e, "margin", o->margin);
    r->delta = delta;
    r->lower = lower;
    r->upper = upper;
    r->p_src = isfinite(p_src) ? p_src : 1;
    free(d);
}

/* Holm over the family of every (arm, metric) comparison of this compare. */
static void fe_holm(const double *p, size_t m, double *adj)
{
    size_t *ord = fe_xcalloc(m ? m : 1, sizeof(*ord));
    for (size_t i = 0; i < m; i++)
        ord[i] = i;
    for (size_t i = 1; i < m; i++) { /* insertion sort, stable: ties keep input order */
        size_t v = ord[i], j = i;
        while (j > 0 && p[ord[j - 1]] > p[v]) {
            ord[j] = ord[j - 1];
            j--;
        }
        ord[j] = v;
    }
    double run = 0;
    for (size_t j = 0; j < m; j++) {
        double v = (double)(m - j) * p[ord[j]];
        if (v > 1)
            v = 1;
        if (v > run)
            run = v;
        adj[ord[j]] = run;
    }
    free(ord);
}

/* ---------- drift ---------- */

struct fe_side {
    const struct fe_record *rec; /* NULL: missing */
};

static const char *fe_status_of(const struct fe_record *r)
{
    return !r ? "missing" : r->ok ? "ok" : "error";
}

static bool fe_is_refusal(const struct fe_record *r)
{
    if (!r)
        return false;
    if (r->finish_reason && strcmp(r->finish_reason, "content_filter") == 0)
        return true;
    if (r->error_kind && (strstr(r->error_kind, "content_filter") || strstr(r->error_kind, "refus")))
        return true;
    const char *refusal = fe_json_gets(r->json, "refusal");
    return refusal && *refusal;
}

/* Trimmed copy of a prediction, the label of the distribution test. Caller frees. */
static char *fe_label(const char *s)
{
    while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
        s++;
    size_t n = strlen(s);
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\n' || s[n - 1] == '\r'))
        n--;
    return n ? fe_xstrndup(s, n) : fe_xstrdup("<empty>");
}

struct fe_cat {
    char *label;
    size_t a, b;
};

static int fe_cat_cmp(const void *x, const void *y)
{
    const struct fe_cat *p = x, *q = y;
    size_t tp = p->a + p->b, tq = q->a + q->b;
    if (tp != tq)
        return tp > tq ? -1 : 1;
    return strcmp(p->label, q->label);
}

struct fe_catset {
    struct fe_strmap map;
    struct fe_cat *cats;
    size_t n, alloc;
};

static void fe_catset_count(struct fe_catset *s, const char *label, bool side_b)
{
    size_t at;
    if (!fe_strmap_get(&s->map, label, &at)) {
        if (s->n == s->alloc) {
            s->alloc = s->alloc ? 2 * s->alloc : 32;
            s->cats = fe_xreallocarray(s->cats, s->alloc, sizeof(*s->cats));
        }
        at = s->n++;
        s->cats[at] = (struct fe_cat){.label = fe_xstrdup(label)};
        fe_strmap_put(&s->map, label, at);
    }
    if (side_b)
        s->cats[at].b++;
    else
        s->cats[at].a++;
}

/* Chi-square over the top_k categories plus "other"; adds the test object to tests. */
static bool fe_dist_test(cJSON *tests, const char *name, struct fe_catset *s, size_t top_k,
                         double alpha)
{
    qsort(s->cats, s->n, sizeof(*s->cats), fe_cat_cmp);
    size_t k = s->n > top_k ? top_k : s->n;
    size_t slots = k + (s->n > k ? 1 : 0);
    size_t *ca = fe_xcalloc(slots ? slots : 1, sizeof(*ca));
    size_t *cb = fe_xcalloc(slots ? slots : 1, sizeof(*cb));
    cJSON *t = cJSON_CreateObject();
    cJSON_AddStringToObject(t, "name", name);
    cJSON_AddStringToObject(t, "test", "chi_square");
    cJSON *cats = cJSON_AddArrayToObject(t, "categories");
    for (size_t j = 0; j < s->n; j++) {
        size_t slot = j < k ? j : k;
        ca[slot] += s->cats[j].a;
        cb[slot] += s->cats[j].b;
    }
    for (size_t j = 0; j < slots; j++) {
        cJSON *c = cJSON_CreateObject();
        cJSON_AddStringToObject(c, "label", j < k ? s->cats[j].label : "<other>");
        cJSON_AddNumberToObject(c, "baseline", (double)ca[j]);
        cJSON_AddNumberToObject(c, "candidate", (double)cb[j]);
        cJSON_AddItemToArray(cats, c);
    }
    struct fe_chisq x;
    fe_drift_chisq(ca, cb, slots, &x);
    cJSON_AddBoolToObject(t, "defined", x.defined);
    cJSON_AddNumberToObject(t, "stat", x.stat);
    cJSON_AddNumberToObject(t, "df", x.df);
    cJSON_AddNumberToObject(t, "p", x.p);
    if (x.defined)
        cJSON_AddNumberToObject(t, "min_expected", x.min_expected);
    bool flagged = x.defined && x.p < alpha;
    cJSON_AddBoolToObject(t, "flagged", flagged);
    cJSON_AddItemToArray(tests, t);
    free(ca);
    free(cb);
    for (size_t j = 0; j < s->n; j++)
        free(s->cats[j].label);
    free(s->cats);
    fe_strmap_release(&s->map);
    return flagged;
}

static bool fe_rate_test(cJSON *tests, const char *name, const bool *xa, const bool *xb, size_t n,
                         double alpha)
{
    size_t na = 0, nb = 0, b = 0, c = 0;
    for (size_t i = 0; i < n; i++) {
        na += xa[i];
        nb += xb[i];
        b += xa[i] && !xb[i];
        c += !xa[i] && xb[i];
    }
    double p = fe_drift_mcnemar(b, c);
    cJSON *t = cJSON_CreateObject();
    cJSON_AddStringToObject(t, "name", name);
    cJSON_AddStringToObject(t, "test", "mcnemar_exact");
    fe_json_add_num(t, "rate_baseline", n ? (double)na / (double)n : NAN);
    fe_json_add_num(t, "rate_candidate", n ? (double)nb / (double)n : NAN);
    cJSON_AddNumberToObject(t, "count_baseline", (double)na);
    cJSON_AddNumberToObject(t, "count_candidate", (double)nb);
    cJSON_AddNumberToObject(t, "p", p);
    bool flagged = p < alpha;
    cJSON_AddBoolToObject(t, "flagged", flagged);
    cJSON_AddItemToArray(tests, t);
    return flagged;
}

static cJSON *fe_drift(const struct fe_side *sa, const struct fe_side *sb, size_t n,
                       const struct fe_compare_opts *o)
{
    cJSON *drift = cJSON_CreateObject();
    cJSON_AddNumberToObject(drift, "alpha", o->alpha);
    cJSON *tests = cJSON_AddArrayToObject(drift, "tests");
    bool flagged = false;

    struct fe_catset labels = {0};
    fe_strmap_init(&labels.map);
    for (size_t i = 0; i < n; i++) {
        for (int side = 0; side < 2; side++) {
            const struct fe_record *r = side ? sb[i].rec : sa[i].rec;
            if (!r || !r->ok)
                continue;
            char *l = fe_label(r->prediction);
            fe_catset_count(&labels, l, side);
            free(l);
        }
    }
    flagged |= fe_dist_test(tests, "predictions", &labels, o->top_k, o->alpha);

    /* Output length: paired over the examples answered on both sides. */
    double *dl = fe_xcalloc(n ? n : 1, sizeof(*dl));
    size_t m = 0;
    double la = 0, lb = 0;
    for (size_t i = 0; i < n; i++) {
        if (!sa[i].rec || !sb[i].rec || !sa[i].rec->ok || !sb[i].rec->ok)
            continue;
        double a = (double)strlen(sa[i].rec->prediction), b = (double)strlen(sb[i].rec->prediction);
        dl[m++] = b - a;
        la += a;
        lb += b;
    }
    struct fe_paired_t t;
    fe_drift_paired_t(dl, m, o->alpha, &t);
    cJSON *lt = cJSON_CreateObject();
    cJSON_AddStringToObject(lt, "name", "length");
    cJSON_AddStringToObject(lt, "test", "paired_t");
    cJSON_AddStringToObject(lt, "unit", "bytes");
    cJSON_AddNumberToObject(lt, "n", (double)m);
    fe_json_add_num(lt, "mean_baseline", m ? la / (double)m : NAN);
    fe_json_add_num(lt, "mean_candidate", m ? lb / (double)m : NAN);
    fe_json_add_num(lt, "delta", m ? t.mean : NAN);
    cJSON_AddBoolToObject(lt, "defined", t.defined);
    cJSON_AddNumberToObject(lt, "t", t.t);
    cJSON_AddNumberToObject(lt, "df", t.df);
    cJSON_AddNumberToObject(lt, "p", t.p);
    bool lf = t.defined && t.p < o->alpha;
    cJSON_AddBoolToObject(lt, "flagged", lf);
    cJSON_AddItemToArray(tests, lt);
    flagged |= lf;
    free(dl);

    bool *xa = fe_xcalloc(n ? n : 1, sizeof(*xa)), *xb = fe_xcalloc(n ? n : 1, sizeof(*xb));
    for (size_t i = 0; i < n; i++) {
        xa[i] = !sa[i].rec || !sa[i].rec->ok;
        xb[i] = !sb[i].rec || !sb[i].rec->ok;
    }
    flagged |= fe_rate_test(tests, "error_rate", xa, xb, n, o->alpha);
    for (size_t i = 0; i < n; i++) {
        xa[i] = fe_is_refusal(sa[i].rec);
        xb[i] = fe_is_refusal(sb[i].rec);
    }
    flagged |= fe_rate_test(tests, "refusal_rate", xa, xb, n, o->alpha);
    free(xa);
    free(xb);

    struct fe_catset fr = {0};
    fe_strmap_init(&fr.map);
    for (size_t i = 0; i < n; i++) {
        for (int side = 0; side < 2; side++) {
            const struct fe_record *r = side ? sb[i].rec : sa[i].rec;
            const char *l = !r ? "<missing>" : r->finish_reason ? r->finish_reason : "<none>";
            fe_catset_count(&fr, l, side);
        }
    }
    flagged |= fe_dist_test(tests, "finish_reason", &fr, o->top_k, o->alpha);
    cJSON_AddBoolToObject(drift, "flagged", flagged);
    return drift;
}

/* ---------- broke / fixed ---------- */

static cJSON *fe_example(const char *id, const struct fe_record *a, const struct fe_record *b,
                         size_t metric_a, size_t metric_b)
{
    cJSON *e = cJSON_CreateObject();
    cJSON_AddStringToObject(e, "id", id);
    const cJSON *gold = fe_json_get(b ? b->json : NULL, "gold");
    if (!gold)
        gold = fe_json_get(a ? a->json : NULL, "gold");
    cJSON_AddItemToObject(e, "gold", gold ? cJSON_Duplicate(gold, true) : cJSON_CreateNull());
    fe_adds_or_null(e, "baseline_prediction", a ? a->prediction : NULL);
    fe_adds_or_null(e, "candidate_prediction", b ? b->prediction : NULL);
    cJSON_AddNumberToObject(e, "baseline_score", a ? a->scores[metric_a] : 0);
    cJSON_AddNumberToObject(e, "candidate_score", b ? b->scores[metric_b] : 0);
    cJSON_AddStringToObject(e, "baseline_status", fe_status_of(a));
    cJSON_AddStringToObject(e, "candidate_status", fe_status_of(b));
    return e;
}

/* ---------- changes between the runs ---------- */

static void fe_change(cJSON *changes, const char *arm, const char *field, const cJSON *a,
                      const cJSON *b)
{
    if ((!a || cJSON_IsNull(a)) && (!b || cJSON_IsNull(b)))
        return;
    if (a && b && cJSON_Compare(a, b, true))
        return;
    cJSON *c = cJSON_CreateObject();
    fe_adds_or_null(c, "arm", arm);
    cJSON_AddStringToObject(c, "field", field);
    cJSON_AddItemToObject(c, "baseline", a ? cJSON_Duplicate(a, true) : cJSON_CreateNull());
    cJSON_AddItemToObject(c, "candidate", b ? cJSON_Duplicate(b, true) : cJSON_CreateNull());
    cJSON_AddItemToArray(changes, c);
}

/* The distinct served model ids ("model" of the records) of an arm, as a sorted JSON array. */
static cJSON *fe_served_models(const struct fe_arm_run *arm)
{
    struct fe_strmap seen;
    fe_strmap_init(&seen);
    cJSON *arr = cJSON_CreateArray();
    for (size_t i = 0; i < arm->n; i++) {
        const char *m = fe_json_gets(arm->records[i].json, "model");
        if (!m || !fe_strmap_put(&seen, m, 0))
            continue;
        cJSON *it = arr->child;
        size_t pos = 0;
        for (; it && strcmp(it->valuestring, m) < 0; it = it->next)
            pos++;
        cJSON_InsertItemInArray(arr, (int)pos, cJSON_CreateString(m));
    }
    fe_strmap_release(&seen);
    return arr;
}

static void fe_arm_changes(cJSON *changes, const struct fe_run *base, const char *an,
                           const struct fe_run *cand, const char *bn, const char *label)
{
    static const char *const fields[] = {"model", "system_sha256", "few_shot_sha256", "n_few_shot",
                                         "provider", "provider_type"};
    const cJSON *ma = fe_manifest_arm(base, an), *mb = fe_manifest_arm(cand, bn);
    for (size_t i = 0; i < FE_ARRAY_LEN(fields); i++)
        fe_change(changes, label, fields[i], fe_json_get(ma, fields[i]),
                  fe_json_get(mb, fields[i]));
    cJSON *sa = fe_served_models(&base->arms[fe_run_arm_index(base, an)]);
    cJSON *sb = fe_served_models(&cand->arms[fe_run_arm_index(cand, bn)]);
    fe_change(changes, label, "served_model", sa, sb);
    cJSON_Delete(sa);
    cJSON_Delete(sb);
}

static void fe_run_changes(cJSON *changes, const struct fe_run *base, const struct fe_run *cand)
{
    const cJSON *ca = fe_json_get(base->manifest, "config"),
                *cb = fe_json_get(cand->manifest, "config");
    fe_change(changes, NULL, "task.template", fe_json_get(fe_json_get(ca, "task"), "template"),
              fe_json_get(fe_json_get(cb, "task"), "template"));
    fe_change(changes, NULL, "defaults", fe_json_get(ca, "defaults"), fe_json_get(cb, "defaults"));
    fe_change(changes, NULL, "seed", fe_json_get(base->manifest, "seed"),
              fe_json_get(cand->manifest, "seed"));
    /* prompt and few-shot files, by path */
    const cJSON *fa = fe_json_get(base->manifest, "files_sha256"),
                *fb = fe_json_get(cand->manifest, "files_sha256");
    const cJSON *it;
    cJSON_ArrayForEach(it, fa) {
        char *f = fe_xasprintf("files_sha256.%s", it->string);
        fe_change(changes, NULL, f, it, fe_json_get(fb, it->string));
        free(f);
    }
    cJSON_ArrayForEach(it, fb) {
        if (fe_json_get(fa, it->string))
            continue;
        char *f = fe_xasprintf("files_sha256.%s", it->string);
        fe_change(changes, NULL, f, NULL, it);
        free(f);
    }
}

/* ---------- the comparison ---------- */

static cJSON *fe_run_info(const struct fe_run *run)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "dir", run->dir);
    fe_adds_or_null(o, "run_id", fe_json_gets(run->manifest, "run_id"));
    fe_adds_or_null(o, "name", fe_json_gets(run->manifest, "name"));
    fe_adds_or_null(o, "status", fe_json_gets(run->manifest, "status"));
    fe_adds_or_null(o, "started_at", fe_json_gets(run->manifest, "started_at"));
    fe_adds_or_null(o, "dataset_sha256", fe_dataset_sha(run));
    return o;
}

struct fe_pair {
    size_t a, b; /* arm index in base, in cand */
};

static void fe_warn_json(cJSON *warnings, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void fe_warn_json(cJSON *warnings, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    cJSON_AddItemToArray(warnings, cJSON_CreateString(msg));
}

enum fe_status fe_compare_runs(const struct fe_run *base, const struct fe_run *cand,
                               const struct fe_compare_opts *o, cJSON **out, struct fe_err *err)
{
    *out = NULL;
    cJSON *res = cJSON_CreateObject();
    cJSON_AddStringToObject(res, "schema", "fteval.compare/1");
    cJSON_AddStringToObject(res, "mode", o->ab ? "arms" : "runs");
    cJSON_AddItemToObject(res, "baseline", fe_run_info(base));
    cJSON_AddItemToObject(res, "candidate", fe_run_info(cand));
    cJSON *opt = cJSON_AddObjectToObject(res, "options");
    cJSON_AddNumberToObject(opt, "margin", o->margin);
    cJSON_AddNumberToObject(opt, "alpha", o->alpha);
    cJSON_AddNumberToObject(opt, "resamples", (double)o->resamples);
    cJSON_AddNumberToObject(opt, "seed", (double)o->seed);
    cJSON_AddStringToObject(opt, "adjustment", "holm");
    fe_adds_or_null(opt, "metric", o->metric);
    cJSON_AddBoolToObject(opt, "allow_dataset_change", o->allow_dataset_change);
    cJSON_AddBoolToObject(opt, "fail_on_inconclusive", o->fail_inconclusive);
    cJSON_AddBoolToObject(opt, "fail_on_drift", o->fail_drift);
    cJSON_AddNumberToObject(opt, "top_k", (double)o->top_k);
    cJSON *warnings = cJSON_AddArrayToObject(res, "warnings");
    enum fe_status st = FE_OK;
    struct fe_pair *pairs = NULL;
    size_t n_pairs = 0;
    size_t *mb = NULL, *mc = NULL, n_m = 0; /* common metrics: index in base, in cand */
    struct fe_idset ib, ic, uni;
    fe_idset_of_run(&ib, base);
    fe_idset_of_run(&ic, cand);
    memset(&uni, 0, sizeof(uni));
    fe_strmap_init(&uni.map);

    /* 1. held-out sets */
    const char *sha_b = fe_dataset_sha(base), *sha_c = fe_dataset_sha(cand);
    cJSON *ds = cJSON_AddObjectToObject(res, "dataset");
    cJSON *added = cJSON_CreateArray(), *removed = cJSON_CreateArray();
    for (size_t i = 0; i < ic.n; i++)
        if (!fe_idset_has(&ib, ic.ids[i]))
            cJSON_AddItemToArray(added, cJSON_CreateString(ic.ids[i]));
    for (size_t i = 0; i < ib.n; i++)
        if (!fe_idset_has(&ic, ib.ids[i]))
            cJSON_AddItemToArray(removed, cJSON_CreateString(ib.ids[i]));
    bool ids_differ = cJSON_GetArraySize(added) || cJSON_GetArraySize(removed);
    bool changed = !o->ab && ((sha_b && sha_c && strcmp(sha_b, sha_c) != 0) ||
                              ((!sha_b || !sha_c) && ids_differ));
    if (!o->ab && (!sha_b || !sha_c))
        fe_warn_json(warnings, "dataset sha256 missing from a manifest: held-out sets compared by ids only");
    cJSON_AddBoolToObject(ds, "same", !changed);
    fe_adds_or_null(ds, "baseline_sha256", sha_b);
    fe_adds_or_null(ds, "candidate_sha256", sha_c);
    cJSON_AddNumberToObject(ds, "n_baseline", (double)ib.n);
    cJSON_AddNumberToObject(ds, "n_candidate", (double)ic.n);
    cJSON_AddItemToObject(ds, "added", added);
    cJSON_AddItemToObject(ds, "removed", removed);
    if (changed && !o->allow_dataset_change) {
        st = fe_err_set(err, FE_EINVALID,
                        "held-out sets differ (dataset sha256 %.12s vs %.12s): %d id(s) added, %d "
                        "removed; use --allow-dataset-change to compare the common ids",
                        sha_b ? sha_b : "?", sha_c ? sha_c : "?", cJSON_GetArraySize(added),
                        cJSON_GetArraySize(removed));
        cJSON_AddStringToObject(res, "verdict", "refused");
        cJSON_AddNumberToObject(res, "exit_code", FE_EXIT_INVALID);
        goto done;
    }
    if (changed) {
        fe_warn_json(warnings, "held-out sets differ: comparing the common ids only (%d added, %d removed)",
                     cJSON_GetArraySize(added), cJSON_GetArraySize(removed));
        for (size_t i = 0; i < ib.n; i++)
            if (fe_idset_has(&ic, ib.ids[i]))
                fe_idset_add(&uni, ib.ids[i]);
    } else {
        for (size_t i = 0; i < ib.n; i++)
            fe_idset_add(&uni, ib.ids[i]);
        for (size_t i = 0; i < ic.n; i++)
            fe_idset_add(&uni, ic.ids[i]);
    }
    cJSON_AddNumberToObject(ds, "n_compared", (double)uni.n);
    for (int side = 0; side < 2 && !o->ab; side++) {
        const struct fe_run *r = side ? cand : base;
        const char *status = fe_json_gets(r->manifest, "status");
        if (status && strcmp(status, "complete") != 0)
            fe_warn_json(warnings, "%s run '%s' is %s: missing examples count as failures",
                         side ? "candidate" : "baseline", r->dir, status);
    }

    /* 2. arm pairs */
    pairs = fe_xcalloc(base->n_arms + 1, sizeof(*pairs));
    if (o->arm_baseline) {
        const char *bn = o->arm_candidate ? o->arm_candidate : o->arm_baseline;
        long a = fe_run_arm_index(base, o->arm_baseline), b = fe_run_arm_index(cand, bn);
        if (a < 0 || b < 0) {
            st = fe_err_set(err, FE_EINVALID, "%s: no arm '%s'", a < 0 ? base->dir : cand->dir,
                            a < 0 ? o->arm_baseline : bn);
            goto done;
        }
        pairs[n_pairs++] = (struct fe_pair){(size_t)a, (size_t)b};
    } else {
        for (size_t a = 0; a < base->n_arms; a++) {
            long b = fe_run_arm_index(cand, base->arms[a].name);
            if (b >= 0)
                pairs[n_pairs++] = (struct fe_pair){a, (size_t)b};
        }
        if (n_pairs == 0) {
            st = fe_err_set(err, FE_EINVALID, "'%s' and '%s': no arm in common (use --arms A,B)",
                            base->dir, cand->dir);
            goto done;
        }
    }

    /* 3. metrics */
    mb = fe_xcalloc(base->n_metrics + 1, sizeof(*mb));
    mc = fe_xcalloc(base->n_metrics + 1, sizeof(*mc));
    for (size_t m = 0; m < base->n_metrics; m++) {
        if (o->metric && strcmp(o->metric, base->metrics[m]) != 0)
            continue;
        for (size_t k = 0; k < cand->n_metrics; k++) {
            if (strcmp(base->metrics[m], cand->metrics[k]) == 0) {
                mb[n_m] = m;
                mc[n_m++] = k;
                break;
            }
        }
    }
    if (n_m == 0) {
        st = o->metric ? fe_err_set(err, FE_EINVALID, "metric '%s' is not scored in both runs", o->metric)
                       : fe_err_set(err, FE_EINVALID, "the runs have no metric in common");
        goto done;
    }

    /* 4. per arm pair */
    size_t n = uni.n;
    size_t n_tests = n_pairs * n_m;
    struct fe_mres *mr = fe_xcalloc(n_tests, sizeof(*mr));
    cJSON *arms = cJSON_AddArrayToObject(res, "arms");
    cJSON *changes = cJSON_AddArrayToObject(res, "changes");
    if (!o->ab)
        fe_run_changes(changes, base, cand);
    const char *primary = fe_json_gets(base->manifest, "primary_metric");
    for (size_t p = 0; p < n_pairs; p++) {
        const struct fe_arm_run *A = &base->arms[pairs[p].a], *B = &cand->arms[pairs[p].b];
        char *label = strcmp(A->name, B->name) == 0 ? fe_xstrdup(A->name)
                                                     : fe_xasprintf("%s->%s", A->name, B->name);
        fe_arm_changes(changes, base, A->name, cand, B->name, label);
        cJSON *ae = cJSON_CreateObject();
        cJSON_AddItemToArray(arms, ae);
        cJSON_AddStringToObject(ae, "name", label);
        cJSON_AddStringToObject(ae, "baseline_arm", A->name);
        cJSON_AddStringToObject(ae, "candidate_arm", B->name);
        fe_adds_or_null(ae, "baseline_model", A->model);
        fe_adds_or_null(ae, "candidate_model", B->model);
        cJSON_AddNumberToObject(ae, "n", (double)n);
        struct fe_side *sa = fe_xcalloc(n ? n : 1, sizeof(*sa)), *sb = fe_xcalloc(n ? n : 1, sizeof(*sb));
        size_t miss_a = 0, miss_b = 0, err_a = 0, err_b = 0;
        bool any_cluster = false;
        for (size_t i = 0; i < n; i++) {
            long ra = fe_run_find_record(base, pairs[p].a, uni.ids[i]);
            long rb = fe_run_find_record(cand, pairs[p].b, uni.ids[i]);
            sa[i].rec = ra >= 0 ? &A->records[ra] : NULL;
            sb[i].rec = rb >= 0 ? &B->records[rb] : NULL;
            miss_a += !sa[i].rec;
            miss_b += !sb[i].rec;
            err_a += sa[i].rec && !sa[i].rec->ok;
            err_b += sb[i].rec && !sb[i].rec->ok;
            if ((sa[i].rec && fe_json_gets(sa[i].rec->json, "cluster")) ||
                (sb[i].rec && fe_json_gets(sb[i].rec->json, "cluster")))
                any_cluster = true;
        }
        cJSON_AddNumberToObject(ae, "n_missing_baseline", (double)miss_a);
        cJSON_AddNumberToObject(ae, "n_missing_candidate", (double)miss_b);
        cJSON_AddNumberToObject(ae, "n_errors_baseline", (double)err_a);
        cJSON_AddNumberToObject(ae, "n_errors_candidate", (double)err_b);
        if (miss_a || miss_b)
            fe_warn_json(warnings, "arm '%s': %zu example(s) without a baseline record, %zu without a "
                         "candidate record: counted as failures (score 0)", label, miss_a, miss_b);

        /* score table: arm 0 = baseline, arm 1 = candidate */
        double *scores = fe_xcalloc(2 * n_m * (n ? n : 1), sizeof(*scores));
        const char **cl = any_cluster ? fe_xcalloc(n ? n : 1, sizeof(*cl)) : NULL;
        bool *binary = fe_xcalloc(n_m, sizeof(*binary));
        const char **mnames = fe_xcalloc(n_m, sizeof(*mnames));
        for (size_t m = 0; m < n_m; m++) {
            mnames[m] = base->metrics[mb[m]];
            double *xa = &scores[(0 * n_m + m) * n], *xb = &scores[(1 * n_m + m) * n];
            for (size_t i = 0; i < n; i++) {
                xa[i] = sa[i].rec ? sa[i].rec->scores[mb[m]] : 0;
                xb[i] = sb[i].rec ? sb[i].rec->scores[mc[m]] : 0;
            }
            binary[m] = base->metric_binary[mb[m]] || cand->metric_binary[mc[m]] ||
                        (fe_all_binary(xa, n) && fe_all_binary(xb, n));
        }
        if (cl)
            for (size_t i = 0; i < n; i++) {
                const char *c = sa[i].rec ? fe_json_gets(sa[i].rec->json, "cluster") : NULL;
                cl[i] = c ? c : sb[i].rec ? fe_json_gets(sb[i].rec->json, "cluster") : NULL;
            }
        static const char *const tnames[] = {"baseline", "candidate"};
        struct fe_score_table t = {.n = n, .n_arms = 2, .arm_names = tnames, .n_metrics = n_m,
                                   .metric_names = mnames, .metric_binary = binary,
                                   .scores = scores, .cluster = cl};
        struct fe_stats_opts so;
        fe_stats_opts_default(&so);
        so.seed = o->seed;
        so.resamples = o->resamples;
        so.alpha = o->alpha;
        so.correction = FE_CORRECTION_NONE;
        struct fe_err e1 = {0}, e2 = {0};
        cJSON *c1 = n ? fe_stats_comparisons(&t, 0, &so, &e1) : NULL;
        so.alpha = 2 * o->alpha; /* two-sided 1-2a interval = one-sided (1-a) bounds */
        cJSON *c2 = n ? fe_stats_comparisons(&t, 0, &so, &e2) : NULL;
        if (fe_err_isset(&e1) || fe_err_isset(&e2))
            fe_warn_json(warnings, "statistics: %s; using the analytic paired t interval",
                         fe_err_isset(&e1) ? e1.msg : e2.msg);
        cJSON *metrics = cJSON_AddArrayToObject(ae, "metrics");
        bool fallback = false;
        for (size_t m = 0; m < n_m; m++) {
            struct fe_mres *r = &mr[p * n_m + m];
            fe_metric_entry(r, mnames[m], binary[m], &scores[m * n], &scores[(n_m + m) * n], n,
                            fe_find_comparison(c1, mnames[m]), fe_find_comparison(c2, mnames[m]), o);
            fallback |= strcmp(fe_json_gets(r->obj, "method"), "analytic") == 0;
            cJSON_AddItemToArray(metrics, r->obj);
        }
        if (fallback && n > 0)
            fe_warn_json(warnings, "arm '%s': the statistics module returned no bootstrap comparison; "
                         "using the analytic paired t interval (and exact McNemar for binary metrics)",
                         label);
        cJSON_Delete(c1);
        cJSON_Delete(c2);

        /* broke / fixed on the primary metric */
        size_t pm = 0;
        bool found = false;
        for (size_t m = 0; m < n_m && !found; m++)
            if (primary && strcmp(mnames[m], primary) == 0)
                pm = m, found = true;
        for (size_t m = 0; m < n_m && !found; m++)
            if (binary[m])
                pm = m, found = true;
        cJSON *broke = cJSON_AddObjectToObject(ae, "broke");
        cJSON *fixed = cJSON_AddObjectToObject(ae, "fixed");
        cJSON_AddStringToObject(broke, "metric", mnames[pm]);
        cJSON_AddStringToObject(fixed, "metric", mnames[pm]);
        cJSON *bl = cJSON_CreateArray(), *fl = cJSON_CreateArray();
        for (size_t i = 0; i < n; i++) {
            double x = scores[pm * n + i], y = scores[(n_m + pm) * n + i];
            bool ra = x >= FE_RIGHT_THRESHOLD, rb = y >= FE_RIGHT_THRESHOLD;
            if (ra && !rb)
                cJSON_AddItemToArray(bl, fe_example(uni.ids[i], sa[i].rec, sb[i].rec, mb[pm], mc[pm]));
            else if (!ra && rb)
                cJSON_AddItemToArray(fl, fe_example(uni.ids[i], sa[i].rec, sb[i].rec, mb[pm], mc[pm]));
        }
        cJSON_AddNumberToObject(broke, "count", cJSON_GetArraySize(bl));
        cJSON_AddNumberToObject(fixed, "count", cJSON_GetArraySize(fl));
        cJSON_AddItemToObject(broke, "examples", bl);
        cJSON_AddItemToObject(fixed, "examples", fl);

        cJSON_AddItemToObject(ae, "drift", fe_drift(sa, sb, n, o));
        free(scores);
        free(cl);
        free(binary);
        free(mnames);
        free(sa);
        free(sb);
        free(label);
    }

    /* 5. Holm over every (arm, metric), then the verdicts */
    double *praw = fe_xcalloc(n_tests, sizeof(*praw)), *padj = fe_xcalloc(n_tests, sizeof(*padj));
    for (size_t k = 0; k < n_tests; k++)
        praw[k] = mr[k].p_src;
    fe_holm(praw, n_tests, padj);
    size_t counts[4] = {0};
    enum fe_v worst = FE_V_PASS;
    bool any_improvement = false;
    for (size_t k = 0; k < n_tests; k++) {
        cJSON *e = mr[k].obj;
        cJSON_AddNumberToObject(e, "p_adjusted", padj[k]);
        cJSON_AddStringToObject(e, "adjustment", "holm");
        cJSON_AddNumberToObject(e, "family_size", (double)n_tests);
        cJSON_AddBoolToObject(e, "significant", padj[k] < o->alpha);
        cJSON_AddNumberToObject(e, "p_mc_band", mr[k].p_band);
        cJSON_AddNumberToObject(e, "bound_mc_band", mr[k].bound_band);
        const char *why;
        const char *v = fe_compare_verdict(mr[k].delta, mr[k].lower, mr[k].upper, padj[k], o->alpha,
                                           o->margin, mr[k].p_band, mr[k].bound_band, &why);
        cJSON_AddStringToObject(e, "verdict", v);
        cJSON_AddStringToObject(e, "reason", why);
        enum fe_v ev = fe_v_from_name(v);
        counts[ev]++;
        any_improvement |= ev == FE_V_IMPROVEMENT;
        if (ev == FE_V_REGRESSION || (ev == FE_V_INCONCLUSIVE && worst != FE_V_REGRESSION))
            worst = ev;
    }
    free(praw);
    free(padj);
    free(mr);
    if (worst == FE_V_PASS && any_improvement)
        worst = FE_V_IMPROVEMENT;
    cJSON_AddStringToObject(res, "verdict", fe_v_names[worst]);
    cJSON *cnt = cJSON_AddObjectToObject(res, "counts");
    for (size_t v = 0; v < 4; v++)
        cJSON_AddNumberToObject(cnt, fe_v_names[v], (double)counts[v]);
    bool drift = false;
    const cJSON *ae;
    cJSON_ArrayForEach(ae, arms)
        drift |= cJSON_IsTrue(fe_json_get(fe_json_get(ae, "drift"), "flagged"));
    cJSON_AddBoolToObject(res, "drift_flagged", drift);
    cJSON_AddNumberToObject(res, "exit_code", fe_compare_exit_code(res));

done:
    fe_idset_release(&ib);
    fe_idset_release(&ic);
    fe_idset_release(&uni);
    free(pairs);
    free(mb);
    free(mc);
    *out = res;
    if (st != FE_OK && !cJSON_IsString(fe_json_get(res, "verdict"))) {
        cJSON_Delete(res);
        *out = NULL;
    }
    return st;
}

int fe_compare_exit_code(const cJSON *res)
{
    const char *v = fe_json_gets(res, "verdict");
    if (!v || strcmp(v, "refused") == 0)
        return FE_EXIT_INVALID;
    const cJSON *opt = fe_json_get(res, "options"), *cnt = fe_json_get(res, "counts");
    if (fe_json_getn(cnt, "regression") > 0)
        return FE_EXIT_GATE;
    if (cJSON_IsTrue(fe_json_get(opt, "fail_on_inconclusive")) &&
        fe_json_getn(cnt, "inconclusive") > 0)
        return FE_EXIT_GATE;
    if (cJSON_IsTrue(fe_json_get(opt, "fail_on_drift")) &&
        cJSON_IsTrue(fe_json_get(res, "drift_flagged")))
        return FE_EXIT_GATE;
    return FE_EXIT_OK;
}

/* ---------- text output ---------- */

void fe_compare_add_term(struct fe_buf *out, const char *s, size_t max_chars)
{
    if (!s) {
        fe_buf_adds(out, "null");
        return;
    }
    size_t len = strlen(s), i = 0, chars = 0;
    while (i < len) {
        if (max_chars && chars >= max_chars) {
            fe_buf_adds(out, "...");
            return;
        }
        unsigned char c = (unsigned char)s[i];
        if (c == '\n') {
            fe_buf_adds(out, "\\n");
            i++;
        } else if (c == '\t') {
            fe_buf_adds(out, "\\t");
            i++;
        } else if (c == '\r') {
            fe_buf_adds(out, "\\r");
            i++;
        } else if (c < 0x20 || c == 0x7f) {
            fe_buf_addf(out, "\\x%02x", c);
            i++;
        } else if (c < 0x80) {
            fe_buf_addch(out, (char)c);
            i++;
        } else {
            size_t ok = fe_utf8_check(s + i, len - i);
            size_t clen = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : 2;
            bool valid = ok >= clen;
            /* C1 controls (U+0080..U+009F) are encoded as C2 80..C2 9F */
            if (!valid || (c == 0xc2 && (unsigned char)s[i + 1] < 0xa0)) {
                size_t nb = valid ? clen : 1;
                for (size_t k = 0; k < nb; k++)
                    fe_buf_addf(out, "\\x%02x", (unsigned char)s[i + k]);
                i += nb;
            } else {
                fe_buf_add(out, s + i, clen);
                i += clen;
            }
        }
        chars++;
    }
}

static void fe_add_gold(struct fe_buf *out, const cJSON *gold, size_t max)
{
    if (cJSON_IsString(gold)) {
        fe_compare_add_term(out, gold->valuestring, max);
        return;
    }
    char *s = gold ? cJSON_PrintUnformatted(gold) : NULL;
    fe_compare_add_term(out, s ? s : "null", max);
    free(s);
}

/* Appends o.k as "%*.*f" (with "+" when sign) and a trailing space when width > 0, or "-". */
static void fe_fmt_num(struct fe_buf *out, const cJSON *o, const char *k, int width, int prec,
                       bool sign)
{
    double v = fe_json_getn(o, k);
    if (isfinite(v) && sign)
        fe_buf_addf(out, "%+*.*f", width, prec, v);
    else if (isfinite(v))
        fe_buf_addf(out, "%*.*f", width, prec, v);
    else
        fe_buf_addf(out, "%*s", width, "-");
    if (width > 0)
        fe_buf_adds(out, " ");
}

static void fe_render_examples(struct fe_buf *out, const char *what, const cJSON *list, size_t max)
{
    const cJSON *ex = fe_json_get(list, "examples");
    int count = cJSON_GetArraySize(ex);
    fe_buf_addf(out, "  %s on %s: %d", what, fe_json_gets(list, "metric"), count);
    if ((size_t)count > max)
        fe_buf_addf(out, " (first %zu shown, all in compare.json)", max);
    fe_buf_adds(out, "\n");
    size_t shown = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, ex) {
        if (shown++ >= max)
            break;
        fe_buf_adds(out, "    ");
        fe_compare_add_term(out, fe_json_gets(e, "id"), 40);
        fe_buf_adds(out, ": gold \"");
        fe_add_gold(out, fe_json_get(e, "gold"), 40);
        fe_buf_adds(out, "\" | baseline \"");
        fe_compare_add_term(out, fe_json_gets(e, "baseline_prediction"), 40);
        fe_buf_adds(out, "\" | candidate \"");
        fe_compare_add_term(out, fe_json_gets(e, "candidate_prediction"), 40);
        fe_buf_adds(out, "\"");
        const char *cs = fe_json_gets(e, "candidate_status");
        if (cs && strcmp(cs, "ok") != 0)
            fe_buf_addf(out, " [%s]", cs);
        fe_buf_adds(out, "\n");
    }
}

void fe_compare_render_text(const cJSON *res, size_t max_list, struct fe_buf *out)
{
    const cJSON *b = fe_json_get(res, "baseline"), *c = fe_json_get(res, "candidate"),
                *o = fe_json_get(res, "options");
    bool ab = strcmp(fe_json_gets(res, "mode") ? fe_json_gets(res, "mode") : "", "arms") == 0;
    fe_buf_adds(out, "fteval compare: ");
    if (ab) {
        fe_buf_adds(out, "arms of ");
        fe_compare_add_term(out, fe_json_gets(b, "dir"), 0);
    } else {
        fe_buf_adds(out, "baseline ");
        fe_compare_add_term(out, fe_json_gets(b, "dir"), 0);
        fe_buf_adds(out, "\n                candidate ");
        fe_compare_add_term(out, fe_json_gets(c, "dir"), 0);
    }
    double alpha = fe_json_getn(o, "alpha");
    fe_buf_addf(out,
                "\nmargin %.4g, alpha %.4g (one-sided %.0f%% bounds, two-sided %.0f%% CI), "
                "Holm over arms x metrics\n",
                fe_json_getn(o, "margin"), alpha, 100 * (1 - alpha), 100 * (1 - alpha));
    const cJSON *ds = fe_json_get(res, "dataset");
    if (!cJSON_IsTrue(fe_json_get(ds, "same")))
        fe_buf_addf(out, "held-out sets differ: %d added, %d removed\n",
                    cJSON_GetArraySize(fe_json_get(ds, "added")),
                    cJSON_GetArraySize(fe_json_get(ds, "removed")));
    const cJSON *w;
    cJSON_ArrayForEach(w, fe_json_get(res, "warnings")) {
        fe_buf_adds(out, "warning: ");
        fe_compare_add_term(out, w->valuestring, 0);
        fe_buf_adds(out, "\n");
    }
    const cJSON *ch;
    cJSON_ArrayForEach(ch, fe_json_get(res, "changes")) {
        fe_buf_adds(out, ab ? "arms differ: " : "changed: ");
        if (fe_json_gets(ch, "arm")) {
            fe_compare_add_term(out, fe_json_gets(ch, "arm"), 40);
            fe_buf_adds(out, ".");
        }
        fe_compare_add_term(out, fe_json_gets(ch, "field"), 60);
        fe_buf_adds(out, ": ");
        char *x = cJSON_PrintUnformatted(fe_json_get(ch, "baseline"));
        char *y = cJSON_PrintUnformatted(fe_json_get(ch, "candidate"));
        fe_compare_add_term(out, x, 60);
        fe_buf_adds(out, " -> ");
        fe_compare_add_term(out, y, 60);
        fe_buf_adds(out, "\n");
        free(x);
        free(y);
    }
    fe_buf_addf(out, "\n%-16s %-14s %6s %9s %9s %8s %19s %9s %8s %8s %7s  %s\n", "arm", "metric", "n",
                "baseline", "candidate", "delta", "CI", "lower", "p", "p_adj", "MDE", "verdict");
    const cJSON *ae;
    cJSON_ArrayForEach(ae, fe_json_get(res, "arms")) {
        const cJSON *me;
        cJSON_ArrayForEach(me, fe_json_get(ae, "metrics")) {
            struct fe_buf name = {0};
            fe_compare_add_term(&name, fe_json_gets(ae, "name"), 16);
            fe_buf_addf(out, "%-16s %-14s %6.0f ", fe_buf_str(&name), fe_json_gets(me, "metric"),
                        fe_json_getn(me, "n"));
            fe_buf_release(&name);
            fe_fmt_num(out, me, "mean_baseline", 9, 4, false);
            fe_fmt_num(out, me, "mean_candidate", 9, 4, false);
            fe_fmt_num(out, me, "delta", 8, 4, true);
            const cJSON *ci = fe_json_get(me, "ci");
            if (cJSON_GetArraySize(ci) == 2)
                fe_buf_addf(out, "[%+8.4f,%+8.4f] ", cJSON_GetArrayItem(ci, 0)->valuedouble,
                            cJSON_GetArrayItem(ci, 1)->valuedouble);
            else
                fe_buf_addf(out, "%19s ", "-");
            fe_fmt_num(out, me, "lower_bound", 9, 4, true);
            fe_fmt_num(out, me, "p", 8, 4, false);
            fe_fmt_num(out, me, "p_adjusted", 8, 4, false);
            fe_fmt_num(out, me, "mde", 7, 4, false);
            const char *v = fe_json_gets(me, "verdict");
            fe_buf_addf(out, " %s\n", v ? v : "-");
        }
    }
    fe_buf_adds(out, "\n");
    cJSON_ArrayForEach(ae, fe_json_get(res, "arms")) {
        fe_buf_adds(out, "arm ");
        fe_compare_add_term(out, fe_json_gets(ae, "name"), 40);
        fe_buf_addf(out, ": %.0f examples, errors %.0f -> %.0f, missing %.0f -> %.0f\n",
                    fe_json_getn(ae, "n"), fe_json_getn(ae, "n_errors_baseline"),
                    fe_json_getn(ae, "n_errors_candidate"), fe_json_getn(ae, "n_missing_baseline"),
                    fe_json_getn(ae, "n_missing_candidate"));
        const cJSON *me;
        cJSON_ArrayForEach(me, fe_json_get(ae, "metrics")) {
            fe_buf_addf(out, "  %s: %s (%s)\n", fe_json_gets(me, "metric"),
                        fe_json_gets(me, "verdict"), fe_json_gets(me, "reason"));
        }
        const cJSON *t;
        cJSON_ArrayForEach(t, fe_json_get(fe_json_get(ae, "drift"), "tests")) {
            const char *name = fe_json_gets(t, "name");
            fe_buf_addf(out, "  drift %-14s ", name);
            if (strcmp(fe_json_gets(t, "test"), "chi_square") == 0) {
                fe_buf_addf(out, "chi2 %.3f, df %.0f, p %.4g", fe_json_getn(t, "stat"),
                            fe_json_getn(t, "df"), fe_json_getn(t, "p"));
            } else if (strcmp(fe_json_gets(t, "test"), "paired_t") == 0) {
                fe_buf_adds(out, "mean bytes ");
                fe_fmt_num(out, t, "mean_baseline", 0, 1, false);
                fe_buf_adds(out, " -> ");
                fe_fmt_num(out, t, "mean_candidate", 0, 1, false);
                fe_buf_addf(out, ", paired t p %.4g", fe_json_getn(t, "p"));
            } else {
                fe_buf_adds(out, "rate ");
                fe_fmt_num(out, t, "rate_baseline", 0, 4, false);
                fe_buf_adds(out, " -> ");
                fe_fmt_num(out, t, "rate_candidate", 0, 4, false);
                fe_buf_addf(out, ", McNemar p %.4g", fe_json_getn(t, "p"));
            }
            fe_buf_adds(out, cJSON_IsTrue(fe_json_get(t, "flagged")) ? "  DRIFT\n" : "\n");
            if (cJSON_IsTrue(fe_json_get(t, "flagged")) &&
                strcmp(fe_json_gets(t, "test"), "chi_square") == 0) {
                const cJSON *cat;
                size_t shown = 0;
                cJSON_ArrayForEach(cat, fe_json_get(t, "categories")) {
                    if (shown++ >= max_list)
                        break;
                    fe_buf_adds(out, "      \"");
                    fe_compare_add_term(out, fe_json_gets(cat, "label"), 30);
                    fe_buf_addf(out, "\": %.0f -> %.0f\n", fe_json_getn(cat, "baseline"),
                                fe_json_getn(cat, "candidate"));
                }
            }
        }
        fe_render_examples(out, "broke", fe_json_get(ae, "broke"), max_list);
        fe_render_examples(out, "fixed", fe_json_get(ae, "fixed"), max_list);
    }
    const cJSON *cnt = fe_json_get(res, "counts");
    fe_buf_addf(out,
                "\nresult: %s (%.0f pass, %.0f improvement, %.0f inconclusive, %.0f regression%s)"
                ", exit %d\n",
                fe_json_gets(res, "verdict"), fe_json_getn(cnt, "pass"),
                fe_json_getn(cnt, "improvement"), fe_json_getn(cnt, "inconclusive"),
                fe_json_getn(cnt, "regression"),
                cJSON_IsTrue(fe_json_get(res, "drift_flagged")) ? "; drift flagged" : "",
                fe_compare_exit_code(res));
}
