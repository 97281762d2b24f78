/* compare.c — see compare.h; the statistics are defined in docs/nightly.md. */
#include "harness/analysis/compare.h"
#include "harness/analysis/compare_int.h"
#include "harness/base/jsonout.h"

#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness/base/log.h"
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

/* ---------- id sets ---------- */

/* Whether an arm of run before arm `below` records id (below = run->n_arms: any arm). */
static bool fe_run_has_id(const struct fe_run *run, const char *id, size_t below)
{
    for (size_t a = 0; a < below; a++)
        if (fe_run_find_record(run, a, id) >= 0)
            return true;
    return false;
}

/* The ids of a run, each once, in first-seen order (arm by arm, records in order; an arm
 * records an id at most once), read from the run's own lookup: nothing held per id. */
struct fe_id_iter {
    const struct fe_run *run;
    size_t a, i;
};

static const char *fe_id_next(struct fe_id_iter *it)
{
    while (it->a < it->run->n_arms) {
        const struct fe_arm_run *arm = &it->run->arms[it->a];
        if (it->i >= arm->n) {
            it->a++;
            it->i = 0;
            continue;
        }
        const char *id = fe_arm_rec(arm, it->i++)->id;
        if (!fe_run_has_id(it->run, id, it->a))
            return id;
    }
    return NULL;
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

static bool fe_all_binary(struct fe_col x, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (fe_col_at(x, i) != 0 && fe_col_at(x, i) != 1)
            return false;
    return true;
}

/* The comparison of metric in the statistics module's list (NULL: none), typed; present is
 * false when there is none. */
static void fe_find_comparison(const cJSON *arr, const char *metric,
                               struct fe_summary_comparison *out)
{
    const cJSON *e;
    cJSON_ArrayForEach(e, arr) {
        fe_summary_comparison_parse(e, out);
        if (out->metric && strcmp(out->metric, metric) == 0)
            return;
    }
    fe_summary_comparison_parse(NULL, out);
}

/* The p-value a comparison names as its source ("p_bootstrap", ...); NAN when unknown. */
static double fe_p_named(const struct fe_summary_comparison *c, const char *name)
{
    if (strcmp(name, "p_bootstrap") == 0)
        return c->p_bootstrap;
    if (strcmp(name, "p_permutation") == 0)
        return c->p_permutation;
    if (strcmp(name, "p_mcnemar") == 0)
        return c->p_mcnemar;
    if (strcmp(name, "p_randomization") == 0) /* corpus metrics: p_permutation holds the same test */
        return c->p_permutation;
    if (strcmp(name, "p_adjusted") == 0)
        return c->p_adjusted;
    return NAN;
}

/* One metric's estimate, from the statistics module or the analytic fallback. */
struct fe_est {
    double ci_lo, ci_hi, lower, upper, se, p_src, mde, n_needed;
    const char *p_method;
};

/* From the statistics module's comparisons at alpha (c1) and 2 alpha (c2: its two-sided CI is
 * the pair of one-sided (1 - alpha) bounds), with the Monte Carlo bands of p and the bound. */
static void fe_est_stats(struct fe_mres *r, cJSON *e, bool binary,
                         const struct fe_summary_comparison *c1,
                         const struct fe_summary_comparison *c2, const struct fe_compare_opts *o,
                         struct fe_est *x)
{
    x->ci_lo = c1->ci_lo;
    x->ci_hi = c1->ci_hi;
    x->lower = c2->ci_lo;
    x->upper = c2->ci_hi;
    x->se = c1->se_paired;
    const char *src = c1->p_adjusted_source;
    if (!src)
        src = binary && fe_has(c1->p_mcnemar) ? "p_mcnemar" : "p_bootstrap";
    x->p_method = src;
    x->p_src = fe_p_named(c1, src);
    bool resampled = strcmp(src, "p_bootstrap") == 0 || strcmp(src, "p_randomization") == 0 ||
                     (strcmp(src, "p_permutation") == 0 && !c1->permutation_exact);
    size_t B = o->resamples ? o->resamples : 1;
    r->p_band = resampled ? 2 * sqrt(o->alpha * (1 - o->alpha) / (double)B) : 0;
    /* MC SE of the bootstrap alpha-quantile ~ sqrt(a(1-a)/B) / f(q_a), with the normal
     * density of delta* (sd = SE) at that quantile. */
    double z = fe_drift_norm_quantile(o->alpha);
    r->bound_band = x->se > 0 ? 2 * x->se * sqrt(o->alpha * (1 - o->alpha) / (double)B) /
                                    fe_drift_norm_pdf(z)
                              : 0;
    x->mde = c1->mde;
    x->n_needed = c1->n_needed;
    cJSON_AddStringToObject(e, "method", "bootstrap");
    cJSON_AddStringToObject(e, "ci_method", fe_str_or(c1->ci_method, "percentile"));
    fe_json_add_num(e, "p_bootstrap", c1->p_bootstrap);
    fe_json_add_num(e, "p_permutation", c1->p_permutation);
    fe_json_add_num(e, "p_mcnemar", c1->p_mcnemar);
    fe_json_add_num(e, "resamples", c1->resamples);
    fe_json_add_num(e, "seed", c1->seed);
}

/* The analytic paired t interval (and exact McNemar for binary metrics): no Monte Carlo error. */
static void fe_est_analytic(struct fe_mres *r, cJSON *e, bool binary, const double *d, size_t n,
                            size_t disc_b, size_t disc_c, const struct fe_compare_opts *o,
                            struct fe_est *x)
{
    struct fe_paired_t t1, t2;
    fe_drift_paired_t(d, n, o->alpha, &t1);
    fe_drift_paired_t(d, n, 2 * o->alpha, &t2);
    double delta = r->delta;
    x->ci_lo = t1.lo;
    x->ci_hi = t1.hi;
    x->lower = t2.lo;
    x->upper = t2.hi;
    x->se = t1.se;
    if (!t1.defined)
        x->ci_lo = x->ci_hi = x->lower = x->upper = NAN;
    if (binary) {
        x->p_src = fe_drift_mcnemar(disc_b, disc_c);
        x->p_method = "p_mcnemar";
    } else {
        x->p_src = t1.p;
        x->p_method = "p_ttest";
    }
    r->p_band = r->bound_band = 0;
    x->mde = t1.defined ? fe_drift_mde(x->se, o->alpha, 0.8) : NAN;
    x->n_needed = NAN;
    if (t1.defined && delta != 0 && t1.sd > 0) {
        double k = (fe_drift_norm_quantile(1 - o->alpha / 2) + fe_drift_norm_quantile(0.8)) *
                   t1.sd / fabs(delta);
        x->n_needed = ceil(k * k);
    }
    cJSON_AddStringToObject(e, "method", "analytic");
    cJSON_AddStringToObject(e, "ci_method", "paired_t");
    fe_json_add_num(e, "p_ttest", t1.p);
    if (binary)
        fe_json_add_num(e, "p_mcnemar", x->p_src);
}

/* Fills one metric entry from the statistics module's comparisons (c1 at alpha, c2 at 2 alpha),
 * or, when the module gave nothing usable, from the analytic fallback (returns true then). */
static bool fe_metric_entry(struct fe_mres *r, const char *metric, bool binary, struct fe_col cb,
                            struct fe_col cc, size_t n, const struct fe_summary_comparison *c1,
                            const struct fe_summary_comparison *c2,
                            const struct fe_compare_opts *o, const double *corpus_means)
{
    cJSON *e = cJSON_CreateObject();
    r->obj = e;
    cJSON_AddStringToObject(e, "metric", metric);
    cJSON_AddBoolToObject(e, "binary", binary);
    cJSON_AddNumberToObject(e, "n", (double)n);
    double ma = 0, mb = 0;
    size_t disc_b = 0, disc_c = 0; /* McNemar: baseline right & candidate wrong, and reverse */
    for (size_t i = 0; i < n; i++) {
        double sb = fe_col_at(cb, i), sc = fe_col_at(cc, i);
        ma += (sb - ma) / (double)(i + 1);
        mb += (sc - mb) / (double)(i + 1);
        if (sb == 1 && sc == 0)
            disc_b++;
        if (sb == 0 && sc == 1)
            disc_c++;
    }
    if (corpus_means) { /* a corpus metric: its value from summed counts (compare_corpus.c) */
        ma = corpus_means[0];
        mb = corpus_means[1];
        cJSON_AddBoolToObject(e, "corpus", true);
    }
    fe_json_add_num(e, "mean_baseline", n ? ma : NAN);
    fe_json_add_num(e, "mean_candidate", n ? mb : NAN);
    r->delta = n ? mb - ma : NAN;
    bool have_stats = c1->present && c2->present && fe_has(c1->ci_lo) && fe_has(c2->ci_lo) &&
                      fe_has(c1->delta);
    struct fe_est x;
    if (have_stats) {
        fe_est_stats(r, e, binary, c1, c2, o, &x);
    } else { /* the paired differences, held only for the fallback */
        double *d = fe_xreallocarray(NULL, n ? n : 1, sizeof(*d));
        for (size_t i = 0; i < n; i++)
            d[i] = fe_col_at(cc, i) - fe_col_at(cb, i);
        fe_est_analytic(r, e, binary, d, n, disc_b, disc_c, o, &x);
        free(d);
    }
    fe_json_add_num(e, "delta", r->delta);
    fe_json_add_num(e, "se_paired", x.se);
    fe_json_add_pair(e, "ci", x.ci_lo, x.ci_hi);
    cJSON_AddNumberToObject(e, "ci_level", 1 - o->alpha);
    fe_json_add_num(e, "lower_bound", x.lower);
    fe_json_add_num(e, "upper_bound", x.upper);
    cJSON_AddNumberToObject(e, "bound_level", 1 - o->alpha);
    cJSON_AddStringToObject(e, "p_method", x.p_method);
    fe_json_add_num(e, "p", x.p_src);
    fe_json_add_num(e, "mde", x.mde);
    fe_json_add_num(e, "n_needed", x.n_needed);
    if (binary) {
        cJSON_AddNumberToObject(e, "n_broke", (double)disc_b);
        cJSON_AddNumberToObject(e, "n_fixed", (double)disc_c);
    }
    cJSON_AddNumberToObject(e, "margin", o->margin);
    r->lower = x.lower;
    r->upper = x.upper;
    r->p_src = isfinite(x.p_src) ? x.p_src : 1;
    return !have_stats;
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

/* ---------- broke / fixed ---------- */

/* ---------- the comparison ---------- */

static cJSON *fe_run_info(const struct fe_run *run, const struct fe_manifest_view *m)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "dir", run->dir);
    fe_json_add_str(o, "run_id", m->run_id);
    fe_json_add_str(o, "name", m->name);
    fe_json_add_str(o, "status", m->status);
    fe_json_add_str(o, "started_at", m->started_at);
    fe_json_add_str(o, "dataset_sha256", m->dataset_sha256);
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

/* One compare: the inputs, the examples (uni) and arm/metric pairs compared, the result. */
struct fe_job {
    const struct fe_run *base, *cand;
    struct fe_manifest_view mbase, mcand; /* the two manifests, typed */
    const struct fe_compare_opts *o;
    cJSON *res, *warnings;
    size_t n;                     /* the examples compared (fe_uni_next gives them in order) */
    bool changed;                 /* the held-out sets differ: only the common ids compared */
    struct fe_pair *pairs;
    size_t n_pairs;
    size_t *mb, *mc, n_m;         /* common metrics: index in base, in cand */
    struct fe_mres *mr;           /* n_pairs x n_m test results */
    size_t keep;                  /* examples listed in the result per broke/fixed list */
    struct fe_compare_lists *lists; /* every broke/fixed example; NULL: all in the result */
};

/* The ids compared, in order, read again from the runs' lookups each time they are needed
 * (nothing held per id): every id of the baseline (only those the candidate has too when the
 * sets differ), then the candidate's others. Start with {.j = j, .it = {.run = j->base}}. */
struct fe_uni_iter {
    const struct fe_job *j;
    struct fe_id_iter it;
    bool cand_phase;
};

static const char *fe_uni_next(struct fe_uni_iter *u)
{
    const struct fe_job *j = u->j;
    const char *id;
    while (!u->cand_phase) {
        if ((id = fe_id_next(&u->it)) == NULL) {
            u->cand_phase = true;
            u->it = (struct fe_id_iter){.run = j->cand};
        } else if (!j->changed || fe_run_has_id(j->cand, id, j->cand->n_arms)) {
            return id;
        }
    }
    while (!j->changed && (id = fe_id_next(&u->it)) != NULL)
        if (!fe_run_has_id(j->base, id, j->base->n_arms))
            return id;
    return NULL;
}

/* The result's header: schema, mode, both runs, the options and an empty warnings array. */
static cJSON *fe_result_header(const struct fe_job *j)
{
    const struct fe_compare_opts *o = j->o;
    cJSON *res = cJSON_CreateObject();
    cJSON_AddStringToObject(res, "schema", "fteval.compare/1");
    cJSON_AddStringToObject(res, "mode", o->ab ? "arms" : "runs");
    cJSON_AddItemToObject(res, "baseline", fe_run_info(j->base, &j->mbase));
    cJSON_AddItemToObject(res, "candidate", fe_run_info(j->cand, &j->mcand));
    cJSON *opt = cJSON_AddObjectToObject(res, "options");
    cJSON_AddNumberToObject(opt, "margin", o->margin);
    cJSON_AddNumberToObject(opt, "alpha", o->alpha);
    cJSON_AddNumberToObject(opt, "resamples", (double)o->resamples);
    cJSON_AddNumberToObject(opt, "seed", (double)o->seed);
    cJSON_AddStringToObject(opt, "adjustment", "holm");
    fe_json_add_str(opt, "metric", o->metric);
    cJSON_AddBoolToObject(opt, "allow_dataset_change", o->allow_dataset_change);
    cJSON_AddBoolToObject(opt, "fail_on_inconclusive", o->fail_inconclusive);
    cJSON_AddBoolToObject(opt, "fail_on_drift", o->fail_drift);
    cJSON_AddNumberToObject(opt, "top_k", (double)o->top_k);
    return res;
}

/* Load: the held-out sets of both runs ("dataset"), and the ids compared: every id of either
 * run, or only the common ids when the sets differ and that is allowed. A refused change sets
 * "verdict": "refused" and returns FE_EINVALID. */
static enum fe_status fe_load_ids(struct fe_job *j, struct fe_err *err)
{
    const struct fe_compare_opts *o = j->o;
    const char *sha_b = j->mbase.dataset_sha256, *sha_c = j->mcand.dataset_sha256;
    cJSON *ds = cJSON_AddObjectToObject(j->res, "dataset");
    cJSON *added = cJSON_CreateArray(), *removed = cJSON_CreateArray();
    size_t n_base = 0, n_cand = 0;
    const char *id;
    for (struct fe_id_iter it = {.run = j->cand}; (id = fe_id_next(&it)) != NULL; n_cand++)
        if (!fe_run_has_id(j->base, id, j->base->n_arms))
            cJSON_AddItemToArray(added, cJSON_CreateString(id));
    for (struct fe_id_iter it = {.run = j->base}; (id = fe_id_next(&it)) != NULL; n_base++)
        if (!fe_run_has_id(j->cand, id, j->cand->n_arms))
            cJSON_AddItemToArray(removed, cJSON_CreateString(id));
    int n_added = cJSON_GetArraySize(added), n_removed = cJSON_GetArraySize(removed);
    bool ids_differ = n_added || n_removed;
    bool changed = j->changed = !o->ab && ((sha_b && sha_c && strcmp(sha_b, sha_c) != 0) ||
                                           ((!sha_b || !sha_c) && ids_differ));
    if (!o->ab && (!sha_b || !sha_c))
        fe_warn_json(j->warnings, "dataset sha256 missing from a manifest: held-out sets compared by ids only");
    cJSON_AddBoolToObject(ds, "same", !changed);
    fe_json_add_str(ds, "baseline_sha256", sha_b);
    fe_json_add_str(ds, "candidate_sha256", sha_c);
    cJSON_AddNumberToObject(ds, "n_baseline", (double)n_base);
    cJSON_AddNumberToObject(ds, "n_candidate", (double)n_cand);
    cJSON_AddItemToObject(ds, "added", added);
    cJSON_AddItemToObject(ds, "removed", removed);
    if (changed && !o->allow_dataset_change) {
        cJSON_AddStringToObject(j->res, "verdict", "refused");
        cJSON_AddNumberToObject(j->res, "exit_code", FE_EXIT_INVALID);
        return fe_err_set(err, FE_EINVALID,
                          "held-out sets differ (dataset sha256 %.12s vs %.12s): %d id(s) added, %d "
                          "removed; use --allow-dataset-change to compare the common ids",
                          sha_b ? sha_b : "?", sha_c ? sha_c : "?", n_added, n_removed);
    }
    if (changed)
        fe_warn_json(j->warnings, "held-out sets differ: comparing the common ids only (%d added, %d removed)",
                     n_added, n_removed);
    for (struct fe_uni_iter u = {.j = j, .it = {.run = j->base}}; fe_uni_next(&u);)
        j->n++;
    cJSON_AddNumberToObject(ds, "n_compared", (double)j->n);
    for (int side = 0; side < 2 && !o->ab; side++) {
        const struct fe_run *r = side ? j->cand : j->base;
        const char *status = side ? j->mcand.status : j->mbase.status;
        if (status && strcmp(status, "complete") != 0)
            fe_warn_json(j->warnings, "%s run '%s' is %s: missing examples count as failures",
                         side ? "candidate" : "baseline", r->dir, status);
    }
    return FE_OK;
}

/* Pair: the arms compared (--arms, else every arm name both runs have) and the metrics both
 * runs score (--metric, else all). */
static enum fe_status fe_pair_arms_metrics(struct fe_job *j, struct fe_err *err)
{
    const struct fe_run *base = j->base, *cand = j->cand;
    const struct fe_compare_opts *o = j->o;
    j->pairs = fe_xcalloc(base->n_arms + 1, sizeof(*j->pairs));
    if (o->arm_baseline) {
        const char *bn = o->arm_candidate ? o->arm_candidate : o->arm_baseline;
        long a = fe_run_arm_index(base, o->arm_baseline), b = fe_run_arm_index(cand, bn);
        if (a < 0 || b < 0)
            return fe_err_set(err, FE_EINVALID, "%s: no arm '%s'", a < 0 ? base->dir : cand->dir,
                              a < 0 ? o->arm_baseline : bn);
        j->pairs[j->n_pairs++] = (struct fe_pair){(size_t)a, (size_t)b};
    } else {
        for (size_t a = 0; a < base->n_arms; a++) {
            long b = fe_run_arm_index(cand, base->arms[a].name);
            if (b >= 0)
                j->pairs[j->n_pairs++] = (struct fe_pair){a, (size_t)b};
        }
        if (j->n_pairs == 0)
            return fe_err_set(err, FE_EINVALID, "'%s' and '%s': no arm in common (use --arms A,B)",
                              base->dir, cand->dir);
    }
    j->mb = fe_xcalloc(base->n_metrics + 1, sizeof(*j->mb));
    j->mc = fe_xcalloc(base->n_metrics + 1, sizeof(*j->mc));
    for (size_t m = 0; m < base->n_metrics; m++) {
        if (o->metric && strcmp(o->metric, base->metrics[m]) != 0)
            continue;
        for (size_t k = 0; k < cand->n_metrics; k++) {
            if (strcmp(base->metrics[m], cand->metrics[k]) == 0) {
                j->mb[j->n_m] = m;
                j->mc[j->n_m++] = k;
                break;
            }
        }
    }
    if (j->n_m == 0)
        return o->metric ? fe_err_set(err, FE_EINVALID, "metric '%s' is not scored in both runs", o->metric)
                         : fe_err_set(err, FE_EINVALID, "the runs have no metric in common");
    return FE_OK;
}

/* One arm pair's examples side by side: where each side's records are (struct fe_side), the
 * score table (one block per side, 0 = baseline, 1 = candidate: the arm's own columns when they
 * line up with the examples, else a copy) and whether any record has a cluster key. */
struct fe_arm_data {
    const char *label;
    struct fe_side sa, sb;
    struct fe_col *cols;       /* [side * n_m + m]: metric m of the pair, a missing record 0 */
    double *own[2];            /* the copies among them (NULL: the run's own columns) */
    bool any_cluster;
    bool *binary;
    const char **mnames;
};

static const char *fe_cluster_of(const struct fe_run *run, const struct fe_record *r)
{
    return r ? fe_run_str(run, r->cluster) : NULL;
}

/* Fills d for arm pair p and adds the example counts to ae. */
static void fe_arm_data(struct fe_job *j, size_t p, cJSON *ae, struct fe_arm_data *d)
{
    size_t n = j->n, n_m = j->n_m;
    d->sa = (struct fe_side){j->base, j->pairs[p].a, NULL};
    d->sb = (struct fe_side){j->cand, j->pairs[p].b, NULL};
    size_t miss_a = 0, miss_b = 0, err_a = 0, err_b = 0, i = 0;
    const char *id;
    for (struct fe_uni_iter u = {.j = j, .it = {.run = j->base}};
         i < n && (id = fe_uni_next(&u)) != NULL; i++) {
        fe_side_put(&d->sa, i, n, fe_run_find_record(j->base, j->pairs[p].a, id));
        fe_side_put(&d->sb, i, n, fe_run_find_record(j->cand, j->pairs[p].b, id));
        const struct fe_record *a = fe_side_rec(&d->sa, i), *b = fe_side_rec(&d->sb, i);
        miss_a += !a;
        miss_b += !b;
        err_a += a && !a->ok;
        err_b += b && !b->ok;
        d->any_cluster = d->any_cluster || fe_cluster_of(j->base, a) || fe_cluster_of(j->cand, b);
    }
    cJSON_AddNumberToObject(ae, "n_missing_baseline", (double)miss_a);
    cJSON_AddNumberToObject(ae, "n_missing_candidate", (double)miss_b);
    cJSON_AddNumberToObject(ae, "n_errors_baseline", (double)err_a);
    cJSON_AddNumberToObject(ae, "n_errors_candidate", (double)err_b);
    if (miss_a || miss_b)
        fe_warn_json(j->warnings, "arm '%s': %zu example(s) without a baseline record, %zu without a "
                     "candidate record: counted as failures (score 0)", d->label, miss_a, miss_b);
    d->cols = fe_xcalloc(2 * (n_m ? n_m : 1), sizeof(*d->cols));
    d->own[0] = fe_side_cols(&d->sa, j->mb, n_m, n, d->cols);
    d->own[1] = fe_side_cols(&d->sb, j->mc, n_m, n, d->cols + n_m);
    d->binary = fe_xcalloc(n_m, sizeof(*d->binary));
    d->mnames = fe_xcalloc(n_m, sizeof(*d->mnames));
    for (size_t m = 0; m < n_m; m++) {
        d->mnames[m] = j->base->metrics[j->mb[m]];
        d->binary[m] = j->base->metric_binary[j->mb[m]] || j->cand->metric_binary[j->mc[m]] ||
                       (fe_all_binary(d->cols[m], n) && fe_all_binary(d->cols[n_m + m], n));
    }
}

static void fe_arm_data_release(struct fe_arm_data *d)
{
    free(d->cols);
    free(d->own[0]);
    free(d->own[1]);
    free(d->binary);
    free(d->mnames);
    free(d->sa.idx);
    free(d->sb.idx);
}

/* The cluster key of every example (the baseline record's, else the candidate's), for the
 * statistics; NULL when no record has one. Caller frees. */
static const char **fe_arm_clusters(const struct fe_job *j, const struct fe_arm_data *d)
{
    if (!d->any_cluster)
        return NULL;
    const char **cl = fe_xcalloc(j->n ? j->n : 1, sizeof(*cl));
    for (size_t i = 0; i < j->n; i++) {
        const char *c = fe_cluster_of(j->base, fe_side_rec(&d->sa, i));
        cl[i] = c ? c : fe_cluster_of(j->cand, fe_side_rec(&d->sb, i));
    }
    return cl;
}

/* Test: every metric of arm pair p, from the statistics module's paired comparisons at alpha
 * and 2 alpha (else the analytic fallback); fills j->mr[p * n_m ..] and ae["metrics"]. */
static void fe_test_metrics(struct fe_job *j, size_t p, const struct fe_arm_data *d, cJSON *ae)
{
    const struct fe_compare_opts *o = j->o;
    size_t n = j->n, n_m = j->n_m;
    static const char *const tnames[] = {"baseline", "candidate"};
    const char **cl = fe_arm_clusters(j, d);
    struct fe_score_table t = {.n = n, .n_arms = 2, .arm_names = tnames, .n_metrics = n_m,
                               .metric_names = d->mnames, .metric_binary = d->binary,
                               .cols = d->cols, .cluster = cl};
    struct fe_stats_opts so, so2;
    fe_stats_opts_default(&so);
    so.seed = o->seed;
    so.resamples = o->resamples;
    so.alpha = o->alpha;
    so.correction = FE_CORRECTION_NONE;
    so2 = so;
    so2.alpha = 2 * o->alpha; /* two-sided 1-2a interval = one-sided (1-a) bounds */
    struct fe_err e1 = {0}, e2 = {0};
    cJSON *c1 = n ? fe_stats_comparisons(&t, 0, &so, &e1) : NULL;
    cJSON *c2 = n ? fe_stats_comparisons(&t, 0, &so2, &e2) : NULL;
    free(cl);
    /* corpus metrics: the corpus computation, as in the summary */
    double *cmeans = fe_xcalloc(2 * n_m, sizeof(*cmeans));
    bool *is_corpus = fe_xcalloc(n_m, sizeof(*is_corpus));
    for (size_t m = 0; m < n_m && c1 && c2; m++)
        is_corpus[m] = fe_compare_corpus(&d->sa, &d->sb, n, d->mnames[m],
                                         o->seed + 0x9e3779b9UL * (unsigned long)(m + 1), c1, &so, c2,
                                         &so2, &cmeans[2 * m]);
    if (fe_err_isset(&e1) || fe_err_isset(&e2))
        fe_warn_json(j->warnings, "statistics: %s; using the analytic paired t interval",
                     fe_err_isset(&e1) ? e1.msg : e2.msg);
    cJSON *metrics = cJSON_AddArrayToObject(ae, "metrics");
    bool fallback = false;
    for (size_t m = 0; m < n_m; m++) {
        struct fe_mres *r = &j->mr[p * n_m + m];
        struct fe_summary_comparison k1, k2;
        fe_find_comparison(c1, d->mnames[m], &k1);
        fe_find_comparison(c2, d->mnames[m], &k2);
        fallback |= fe_metric_entry(r, d->mnames[m], d->binary[m], d->cols[m], d->cols[n_m + m],
                                    n, &k1, &k2, o,
                                    is_corpus[m] ? &cmeans[2 * m] : NULL);
        cJSON_AddItemToArray(metrics, r->obj);
    }
    if (fallback && n > 0)
        fe_warn_json(j->warnings, "arm '%s': the statistics module returned no bootstrap comparison; "
                     "using the analytic paired t interval (and exact McNemar for binary metrics)",
                     d->label);
    cJSON_Delete(c1);
    cJSON_Delete(c2);
    free(cmeans);
    free(is_corpus);
}

/* The examples the candidate broke and fixed on the primary metric (the baseline manifest's
 * primary_metric when compared, else the first binary metric, else the first). */
static void fe_broke_fixed(const struct fe_job *j, size_t p, const struct fe_arm_data *d, cJSON *ae)
{
    size_t n = j->n, n_m = j->n_m, n_broke = 0, n_fixed = 0;
    const char *primary = j->mbase.primary_metric;
    size_t pm = 0;
    bool found = false;
    for (size_t m = 0; m < n_m && !found; m++)
        if (primary && strcmp(d->mnames[m], primary) == 0)
            pm = m, found = true;
    for (size_t m = 0; m < n_m && !found; m++)
        if (d->binary[m])
            pm = m, found = true;
    cJSON *broke = cJSON_AddObjectToObject(ae, "broke");
    cJSON *fixed = cJSON_AddObjectToObject(ae, "fixed");
    cJSON_AddStringToObject(broke, "metric", d->mnames[pm]);
    cJSON_AddStringToObject(fixed, "metric", d->mnames[pm]);
    cJSON *bl = cJSON_CreateArray(), *fl = cJSON_CreateArray();
    for (size_t i = 0; i < n; i++) {
        double x = fe_col_at(d->cols[pm], i), y = fe_col_at(d->cols[n_m + pm], i);
        bool ra = x >= FE_RIGHT_THRESHOLD, rb = y >= FE_RIGHT_THRESHOLD;
        if (ra == rb)
            continue;
        /* the side scored right has a record (a missing one scores 0): the example's id */
        const struct fe_record *a = fe_side_rec(&d->sa, i), *b = fe_side_rec(&d->sb, i);
        size_t *count = ra ? &n_broke : &n_fixed;
        if (j->lists)
            fe_compare_lists_add(j->lists, p, !ra, !a,
                                 a ? fe_side_at(&d->sa, i) : fe_side_at(&d->sb, i));
        if ((*count)++ < j->keep)
            cJSON_AddItemToArray(ra ? bl : fl, fe_compare_example(a ? a->id : b->id, j->base, a,
                                                                  j->cand, b, j->mb[pm], j->mc[pm]));
    }
    if (j->lists)
        fe_compare_lists_metrics(j->lists, p, j->pairs[p].a, j->pairs[p].b, j->mb[pm], j->mc[pm]);
    cJSON_AddNumberToObject(broke, "count", (double)n_broke);
    cJSON_AddNumberToObject(fixed, "count", (double)n_fixed);
    cJSON_AddItemToObject(broke, "examples", bl);
    cJSON_AddItemToObject(fixed, "examples", fl);
}

/* The entry of arm pair p in "arms": models, counts, metric tests, broke/fixed, drift. */
static void fe_compare_arm_pair(struct fe_job *j, size_t p, cJSON *arms, cJSON *changes)
{
    const struct fe_arm_run *A = &j->base->arms[j->pairs[p].a], *B = &j->cand->arms[j->pairs[p].b];
    char *label = strcmp(A->name, B->name) == 0 ? fe_xstrdup(A->name)
                                                 : fe_xasprintf("%s->%s", A->name, B->name);
    fe_compare_arm_changes(changes, j->base, A->name, j->cand, B->name, label);
    cJSON *ae = cJSON_CreateObject();
    cJSON_AddItemToArray(arms, ae);
    cJSON_AddStringToObject(ae, "name", label);
    cJSON_AddStringToObject(ae, "baseline_arm", A->name);
    cJSON_AddStringToObject(ae, "candidate_arm", B->name);
    fe_json_add_str(ae, "baseline_model", A->model);
    fe_json_add_str(ae, "candidate_model", B->model);
    cJSON_AddNumberToObject(ae, "n", (double)j->n);
    struct fe_arm_data d = {.label = label};
    fe_arm_data(j, p, ae, &d);
    fe_test_metrics(j, p, &d, ae);
    fe_broke_fixed(j, p, &d, ae);
    cJSON_AddItemToObject(ae, "drift", fe_compare_drift(&d.sa, &d.sb, j->n, j->o));
    fe_arm_data_release(&d);
    free(label);
}

/* Build: Holm over every (arm, metric) test, each test's verdict, and the overall verdict,
 * counts, drift flag and exit code. */
static void fe_build_verdicts(struct fe_job *j, const cJSON *arms)
{
    const struct fe_compare_opts *o = j->o;
    size_t n_tests = j->n_pairs * j->n_m;
    double *praw = fe_xcalloc(n_tests, sizeof(*praw)), *padj = fe_xcalloc(n_tests, sizeof(*padj));
    for (size_t k = 0; k < n_tests; k++)
        praw[k] = j->mr[k].p_src;
    fe_holm(praw, n_tests, padj);
    size_t counts[4] = {0};
    enum fe_v worst = FE_V_PASS;
    bool any_improvement = false;
    for (size_t k = 0; k < n_tests; k++) {
        const struct fe_mres *r = &j->mr[k];
        cJSON *e = r->obj;
        cJSON_AddNumberToObject(e, "p_adjusted", padj[k]);
        cJSON_AddStringToObject(e, "adjustment", "holm");
        cJSON_AddNumberToObject(e, "family_size", (double)n_tests);
        cJSON_AddBoolToObject(e, "significant", padj[k] < o->alpha);
        cJSON_AddNumberToObject(e, "p_mc_band", r->p_band);
        cJSON_AddNumberToObject(e, "bound_mc_band", r->bound_band);
        const char *why;
        const char *v = fe_compare_verdict(r->delta, r->lower, r->upper, padj[k], o->alpha,
                                           o->margin, r->p_band, r->bound_band, &why);
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
    if (worst == FE_V_PASS && any_improvement)
        worst = FE_V_IMPROVEMENT;
    cJSON_AddStringToObject(j->res, "verdict", fe_v_names[worst]);
    cJSON *cnt = cJSON_AddObjectToObject(j->res, "counts");
    for (size_t v = 0; v < 4; v++)
        cJSON_AddNumberToObject(cnt, fe_v_names[v], (double)counts[v]);
    bool drift = false;
    const cJSON *ae;
    cJSON_ArrayForEach(ae, arms)
        drift |= cJSON_IsTrue(fe_json_get(fe_json_get(ae, "drift"), "flagged"));
    cJSON_AddBoolToObject(j->res, "drift_flagged", drift);
    cJSON_AddNumberToObject(j->res, "exit_code", fe_compare_exit_code(j->res));
}

enum fe_status fe_compare_runs(const struct fe_run *base, const struct fe_run *cand,
                               const struct fe_compare_opts *o, cJSON **out, struct fe_err *err)
{
    return fe_compare_runs_lists(base, cand, o, SIZE_MAX, out, NULL, err);
}

enum fe_status fe_compare_runs_lists(const struct fe_run *base, const struct fe_run *cand,
                                     const struct fe_compare_opts *o, size_t keep, cJSON **out,
                                     struct fe_compare_lists **lists, struct fe_err *err)
{
    struct fe_job j = {.base = base, .cand = cand, .o = o, .keep = keep};
    if (lists)
        *lists = j.lists = fe_compare_lists_new(base, cand);
    fe_manifest_view_parse(base->manifest, &j.mbase);
    fe_manifest_view_parse(cand->manifest, &j.mcand);
    j.res = fe_result_header(&j);
    j.warnings = cJSON_AddArrayToObject(j.res, "warnings");
    enum fe_status st = fe_load_ids(&j, err);
    if (st == FE_OK)
        st = fe_pair_arms_metrics(&j, err);
    if (st == FE_OK) {
        if (j.lists)
            fe_compare_lists_pairs(j.lists, j.n_pairs);
        j.mr = fe_xcalloc(j.n_pairs * j.n_m, sizeof(*j.mr));
        cJSON *arms = cJSON_AddArrayToObject(j.res, "arms");
        cJSON *changes = cJSON_AddArrayToObject(j.res, "changes");
        if (!o->ab)
            fe_compare_run_changes(changes, base, cand);
        for (size_t p = 0; p < j.n_pairs; p++)
            fe_compare_arm_pair(&j, p, arms, changes);
        fe_build_verdicts(&j, arms);
        free(j.mr);
    }
    free(j.pairs);
    free(j.mb);
    free(j.mc);
    *out = j.res;
    if (st != FE_OK && !cJSON_IsString(fe_json_get(j.res, "verdict"))) {
        cJSON_Delete(j.res);
        *out = NULL;
    }
    if (st != FE_OK && lists) {
        fe_compare_lists_free(*lists);
        *lists = NULL;
    }
    return st;
}

int fe_compare_exit_code(const cJSON *res)
{
    struct fe_compare_view v;
    fe_compare_view_parse(res, &v);
    int code = fe_compare_view_exit_code(&v);
    fe_compare_view_release(&v);
    return code;
}
