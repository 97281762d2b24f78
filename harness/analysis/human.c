/* human.c — the "human" block of summary.json (human.h). */
#include "harness/analysis/human.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness/analysis/rate.h"
#include "harness/base/jsonout.h"
#include "harness/base/util.h"
#include "metrics/agreement.h"
#include "metrics/ppi.h"

static const char *const pair_cats[] = {"loss", "tie", "win"};

/* One imported rating (strings borrowed from its parsed line). */
struct rating {
    const char *item, *judge, *type, *example, *arm, *against, *rater;
    double value;
    int cat;                /* category index: loss/tie/win, or score - scale min */
};

/* The ratings of one judge and what they are measured on. */
struct jset {
    const char *name;
    bool pairwise;
    double lo, hi;          /* rubric scale */
    size_t k;               /* categories */
    const struct rating **r;
    size_t n;
    double alpha, z;
};

/* One rated unit — an arm's output (against an arm) on an example — and the mean human value
 * over its ratings. */
struct unit {
    const char *item, *example, *arm, *against;
    double sum;
    size_t n;
};

static int cat_of_outcome(const char *o)
{
    for (int i = 0; i < 3; i++)
        if (o && strcmp(o, pair_cats[i]) == 0)
            return i;
    return -1;
}

/* Distinct strings of list[0..n) (sorted); *m their count. Caller frees the array only. */
static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static const char **distinct(const char **list, size_t n, size_t *m)
{
    const char **d = fe_xcalloc(n ? n : 1, sizeof(*d));
    memcpy(d, list, n * sizeof(*d));
    qsort(d, n, sizeof(*d), cmp_str);
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (k == 0 || strcmp(d[k - 1], d[i]) != 0)
            d[k++] = d[i];
    *m = k;
    return d;
}

static long index_of(const char **d, size_t m, const char *s)
{
    const char **p = bsearch(&s, d, m, sizeof(*d), cmp_str);
    return p ? (long)(p - d) : -1;
}

/* Whether rating r is about unit u: the same arm (and against arm) on the same example, whichever
 * export's item id it came through. */
static bool same_unit(const struct unit *u, const struct rating *r)
{
    return strcmp(u->arm, r->arm) == 0 && strcmp(u->example, r->example) == 0 &&
           (u->against == r->against ||
            (u->against && r->against && strcmp(u->against, r->against) == 0));
}

static size_t unit_of(const struct unit *u, size_t n, const struct rating *r)
{
    size_t k = 0;
    while (k < n && !same_unit(&u[k], r))
        k++;
    return k;
}

static struct unit *units_of(const struct jset *J, size_t *n_units)
{
    struct unit *u = NULL;
    size_t n = 0;
    for (size_t i = 0; i < J->n; i++) {
        size_t k = unit_of(u, n, J->r[i]);
        if (k == n) {
            u = fe_xreallocarray(u, n + 1, sizeof(*u));
            u[n++] = (struct unit){J->r[i]->item, J->r[i]->example, J->r[i]->arm, J->r[i]->against,
                                   0, 0};
        }
        u[k].sum += J->r[i]->value;
        u[k].n++;
    }
    *n_units = n;
    return u;
}

static void add_interval(cJSON *o, const char *name, double mean, double se, double z, double lo,
                         double hi)
{
    fe_json_add_num(o, name, mean);
    fe_json_add_num(o, "se", se);
    double a = mean - z * se, b = mean + z * se;
    fe_json_add_pair(o, "ci", a < lo ? lo : a, b > hi ? hi : b);
}

/* Per arm: the human win rate / mean score over the rated items. */
static cJSON *arms_block(const struct jset *J, const struct unit *u, size_t nu)
{
    cJSON *arms = cJSON_CreateObject();
    const char **names = fe_xcalloc(nu ? nu : 1, sizeof(*names));
    for (size_t i = 0; i < nu; i++)
        names[i] = u[i].arm;
    size_t m;
    const char **d = distinct(names, nu, &m);
    for (size_t a = 0; a < m; a++) {
        double s = 0, ss = 0;
        size_t n = 0, ratings = 0;
        const char *against = NULL;
        for (size_t i = 0; i < nu; i++)
            if (strcmp(u[i].arm, d[a]) == 0) {
                double v = u[i].sum / (double)u[i].n;
                s += v;
                ss += v * v;
                n++;
                ratings += u[i].n;
                against = u[i].against;
            }
        double mean = s / (double)n;
        double var = n > 1 ? (ss - (double)n * mean * mean) / (double)(n - 1) : NAN;
        cJSON *o = cJSON_AddObjectToObject(arms, d[a]);
        if (J->pairwise)
            fe_json_add_str(o, "against", against);
        cJSON_AddNumberToObject(o, "n_items", (double)n);
        cJSON_AddNumberToObject(o, "n_ratings", (double)ratings);
        add_interval(o, J->pairwise ? "win_rate" : "mean_score", mean,
                     sqrt((var < 0 ? 0 : var) / (double)n), J->z, J->pairwise ? 0 : J->lo,
                     J->pairwise ? 1 : J->hi);
    }
    free(d);
    free(names);
    return arms;
}

static void add_kappas(cJSON *o, const double *table, size_t k, const char *prefix)
{
    char name[64];
    snprintf(name, sizeof(name), "%scohen_kappa", prefix);
    fe_json_add_num(o, name, fe_cohen_kappa(table, k, FE_KAPPA_NONE));
    snprintf(name, sizeof(name), "%sweighted_kappa_linear", prefix);
    fe_json_add_num(o, name, fe_cohen_kappa(table, k, FE_KAPPA_LINEAR));
    snprintf(name, sizeof(name), "%sweighted_kappa_quadratic", prefix);
    fe_json_add_num(o, name, fe_cohen_kappa(table, k, FE_KAPPA_QUADRATIC));
}

/* Cohen's kappas of every pair of raters (and their mean), Fleiss' kappa over the items all
 * raters rated, Krippendorff's alpha over all items. vals: units x raters, -1 = not rated. */
static void pairs_block(cJSON *o, const int *vals, size_t nu, size_t nr, size_t k,
                        const char **raters)
{
    cJSON *pairs = cJSON_CreateArray();
    double sum[3] = {0, 0, 0};
    size_t defined[3] = {0, 0, 0};
    double *t = fe_xcalloc(k * k, sizeof(*t));
    for (size_t a = 0; a < nr; a++)
        for (size_t b = a + 1; b < nr; b++) {
            memset(t, 0, k * k * sizeof(*t));
            size_t n = 0;
            for (size_t i = 0; i < nu; i++) {
                int x = vals[i * nr + a], y = vals[i * nr + b];
                if (x >= 0 && y >= 0) {
                    t[(size_t)x * k + (size_t)y] += 1;
                    n++;
                }
            }
            cJSON *p = cJSON_CreateObject();
            cJSON_AddStringToObject(p, "a", raters[a]);
            cJSON_AddStringToObject(p, "b", raters[b]);
            cJSON_AddNumberToObject(p, "n_items", (double)n);
            add_kappas(p, t, k, "");
            static const enum fe_kappa_weights w[3] = {FE_KAPPA_NONE, FE_KAPPA_LINEAR,
                                                       FE_KAPPA_QUADRATIC};
            for (int i = 0; i < 3; i++) {
                double v = n ? fe_cohen_kappa(t, k, w[i]) : NAN;
                if (isfinite(v)) {
                    sum[i] += v;
                    defined[i]++;
                }
            }
            cJSON_AddItemToArray(pairs, p);
        }
    free(t);
    bool two = nr == 2;
    fe_json_add_num(o, two ? "cohen_kappa" : "cohen_kappa_mean", defined[0] ? sum[0] / (double)defined[0] : NAN);
    fe_json_add_num(o, two ? "weighted_kappa_linear" : "weighted_kappa_linear_mean",
                    defined[1] ? sum[1] / (double)defined[1] : NAN);
    fe_json_add_num(o, two ? "weighted_kappa_quadratic" : "weighted_kappa_quadratic_mean",
                    defined[2] ? sum[2] / (double)defined[2] : NAN);
    cJSON_AddItemToObject(o, "pairs", pairs);
}

static void fleiss_block(cJSON *o, const int *vals, size_t nu, size_t nr, size_t k)
{
    double *counts = fe_xcalloc((nu ? nu : 1) * k, sizeof(*counts));
    size_t rows = 0;
    for (size_t i = 0; i < nu; i++) {
        size_t rated = 0;
        for (size_t r = 0; r < nr; r++)
            rated += vals[i * nr + r] >= 0;
        if (rated != nr)
            continue;
        for (size_t r = 0; r < nr; r++)
            counts[rows * k + (size_t)vals[i * nr + r]] += 1;
        rows++;
    }
    fe_json_add_num(o, "fleiss_kappa", rows ? fe_fleiss_kappa(counts, rows, k) : NAN);
    cJSON_AddNumberToObject(o, "fleiss_n_items", (double)rows);
    free(counts);
}

static cJSON *inter_block(const struct jset *J, const struct unit *u, size_t nu)
{
    cJSON *o = cJSON_CreateObject();
    const char **names = fe_xcalloc(J->n ? J->n : 1, sizeof(*names));
    for (size_t i = 0; i < J->n; i++)
        names[i] = J->r[i]->rater;
    size_t nr;
    const char **raters = distinct(names, J->n, &nr);
    int *vals = fe_xcalloc((nu ? nu : 1) * nr, sizeof(*vals));
    for (size_t i = 0; i < nu * nr; i++)
        vals[i] = -1;
    for (size_t i = 0; i < J->n; i++) {
        size_t k = unit_of(u, nu, J->r[i]);
        vals[k * nr + (size_t)index_of(raters, nr, J->r[i]->rater)] = J->r[i]->cat;
    }
    size_t multi = 0;
    for (size_t i = 0; i < nu; i++) {
        size_t c = 0;
        for (size_t r = 0; r < nr; r++)
            c += vals[i * nr + r] >= 0;
        multi += c >= 2;
    }
    cJSON_AddNumberToObject(o, "n_raters", (double)nr);
    cJSON_AddNumberToObject(o, "n_items", (double)nu);
    cJSON_AddNumberToObject(o, "n_items_multiple_raters", (double)multi);
    if (nr < 2) {
        cJSON_AddStringToObject(o, "note", "one rater: inter-rater agreement needs two or more");
    } else {
        pairs_block(o, vals, nu, nr, J->k, raters);
        if (nr >= 3)
            fleiss_block(o, vals, nu, nr, J->k);
        fe_json_add_num(o, "krippendorff_alpha_nominal", fe_kripp_alpha(vals, nu, nr, J->k, false));
        fe_json_add_num(o, "krippendorff_alpha_ordinal", fe_kripp_alpha(vals, nu, nr, J->k, true));
    }
    free(vals);
    free(raters);
    free(names);
    return o;
}

/* The judge's category for the item an arm/example rating is about, or -1. */
static int judge_cat(const struct fe_run *run, const struct jset *J, const char *arm,
                     const char *example, double *value)
{
    long a = fe_run_arm_index(run, arm);
    long r = a < 0 ? -1 : fe_run_find_record(run, (size_t)a, example);
    if (r < 0)
        return -1;
    struct fe_record_text t;
    fe_run_record_text(run, fe_arm_rec(&run->arms[a], r), &t);
    const cJSON *j = fe_rate_judgement(&t, J->name);
    int c = -1;
    if (j && J->pairwise) {
        c = cat_of_outcome(fe_json_gets(j, "outcome"));
        *value = c < 0 ? NAN : c * 0.5;
    } else if (j) {
        double s = fe_json_getn(j, "score");
        *value = s;
        c = s >= J->lo && s <= J->hi ? (int)(s - J->lo) : -1;
    }
    fe_record_text_release(&t);
    return c;
}

static cJSON *judge_block(const struct fe_run *run, const struct jset *J)
{
    size_t k = J->k;
    double *t = fe_xcalloc(k * k, sizeof(*t));
    size_t n = 0, missing = 0, agree = 0;
    for (size_t i = 0; i < J->n; i++) {
        double v;
        int c = judge_cat(run, J, J->r[i]->arm, J->r[i]->example, &v);
        if (c < 0) {
            missing++;
            continue;
        }
        t[(size_t)J->r[i]->cat * k + (size_t)c] += 1;
        agree += J->r[i]->cat == c;
        n++;
    }
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "n", (double)n);
    if (missing)
        cJSON_AddNumberToObject(o, "n_without_judgement", (double)missing);
    fe_json_add_num(o, "raw_agreement", n ? (double)agree / (double)n : NAN);
    fe_json_add_num(o, "cohen_kappa", n ? fe_cohen_kappa(t, k, FE_KAPPA_NONE) : NAN);
    fe_json_add_num(o, "weighted_kappa_quadratic", n ? fe_cohen_kappa(t, k, FE_KAPPA_QUADRATIC) : NAN);
    cJSON *labels = cJSON_AddArrayToObject(o, "categories");
    for (size_t c = 0; c < k; c++)
        cJSON_AddItemToArray(labels, J->pairwise ? cJSON_CreateString(pair_cats[c])
                                                 : cJSON_CreateNumber(J->lo + (double)c));
    cJSON *m = cJSON_AddArrayToObject(o, "confusion");
    for (size_t a = 0; a < k; a++) {
        cJSON *row = cJSON_CreateArray();
        for (size_t b = 0; b < k; b++)
            cJSON_AddItemToArray(row, cJSON_CreateNumber(t[a * k + b]));
        cJSON_AddItemToArray(m, row);
    }
    cJSON_AddStringToObject(o, "rows", "human");
    cJSON_AddStringToObject(o, "columns", "judge");
    free(t);
    return o;
}

static void ppi_part(cJSON *o, const char *name, const struct fe_ppi_part *p)
{
    cJSON *x = cJSON_AddObjectToObject(o, name);
    fe_json_add_num(x, "mean", p->mean);
    fe_json_add_num(x, "se", p->se);
    fe_json_add_pair(x, "ci", p->ci_lo, p->ci_hi);
}

/* One calibrated comparison from the judge values f_all and the rated pairs (f, h). */
static cJSON *ppi_entry(const char *a, const char *b, const char *scale, const double *f_all,
                        size_t N, const double *f, const double *h, size_t n, double alpha)
{
    struct fe_ppi p;
    fe_ppi_mean(f_all, N, f, h, n, alpha, &p);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "a", a);
    fe_json_add_str(o, "b", b);
    cJSON_AddStringToObject(o, "scale", scale);
    cJSON_AddNumberToObject(o, "N", (double)N);
    cJSON_AddNumberToObject(o, "n", (double)n);
    ppi_part(o, "judge_only", &p.judge);
    ppi_part(o, "human_only", &p.human);
    ppi_part(o, "calibrated", &p.calibrated);
    fe_json_add_num(o, "correction", p.correction);
    fe_json_add_num(o, "n_effective", p.n_effective);
    fe_json_add_num(o, "n_effective_gain", n ? p.n_effective / (double)n : NAN);
    return o;
}

/* The human value of (arm, example) over its raters, NAN when not rated. */
static double human_value(const struct unit *u, size_t nu, const char *arm, const char *example)
{
    for (size_t i = 0; i < nu; i++)
        if (strcmp(u[i].arm, arm) == 0 && strcmp(u[i].example, example) == 0)
            return u[i].sum / (double)u[i].n;
    return NAN;
}

/* The judge value of arm on record i, minus the baseline's on the same example when base >= 0;
 * NAN when either is missing. */
static double judge_value(const struct fe_run *run, const struct jset *J, size_t arm, size_t i,
                          long base)
{
    const struct fe_record *rec = fe_arm_rec(&run->arms[arm], i);
    double v = NAN, w = 0;
    if (!rec->ok || judge_cat(run, J, run->arms[arm].name, rec->id, &v) < 0)
        return NAN;
    if (base >= 0) {
        long r = fe_run_find_record(run, (size_t)base, rec->id);
        if (r < 0 || !fe_arm_rec(&run->arms[base], r)->ok ||
            judge_cat(run, J, run->arms[base].name, rec->id, &w) < 0)
            return NAN;
    }
    return v - w;
}

/* arm (minus base when base >= 0) on the judge scale over every example, and on the rated ones
 * with the human values beside them. */
static cJSON *calibrate_arm(const struct fe_run *run, const struct jset *J, const struct unit *u,
                            size_t nu, size_t arm, long base, const char *against)
{
    const struct fe_arm_run *A = &run->arms[arm];
    double *f_all = fe_xcalloc(A->n ? A->n : 1, sizeof(double));
    double *f = fe_xcalloc(A->n ? A->n : 1, sizeof(double));
    double *h = fe_xcalloc(A->n ? A->n : 1, sizeof(double));
    size_t N = 0, n = 0;
    for (size_t i = 0; i < A->n; i++) {
        double v = judge_value(run, J, arm, i, base);
        if (isnan(v))
            continue;
        f_all[N++] = v;
        double hv = human_value(u, nu, A->name, fe_arm_rec(A, i)->id);
        if (base >= 0 && !isnan(hv))
            hv -= human_value(u, nu, run->arms[base].name, fe_arm_rec(A, i)->id);
        if (!isnan(hv)) {
            f[n] = v;
            h[n++] = hv;
        }
    }
    const char *scale = J->pairwise ? "win rate of a over b (ties 1/2)"
                        : base >= 0 ? "mean score difference a - b" : "mean score";
    cJSON *o = n || N ? ppi_entry(A->name, base >= 0 ? run->arms[base].name : against, scale,
                                  f_all, N, f, h, n, J->alpha)
                      : NULL;
    free(f_all);
    free(f);
    free(h);
    return o;
}

static cJSON *calibrated_block(const struct fe_run *run, const struct jset *J,
                               const struct unit *u, size_t nu)
{
    cJSON *arr = cJSON_CreateArray();
    long base = fe_run_arm_index(run, fe_json_gets_or(run->manifest, "baseline_arm", ""));
    for (size_t a = 0; a < run->n_arms; a++) {
        const char *against = NULL;
        bool rated = false;
        for (size_t i = 0; i < nu; i++)
            if (strcmp(u[i].arm, run->arms[a].name) == 0) {
                rated = true;
                against = u[i].against;
            }
        if (!rated)
            continue;
        cJSON *e = calibrate_arm(run, J, u, nu, a, -1, against);
        if (e)
            cJSON_AddItemToArray(arr, e);
        if (!J->pairwise && base >= 0 && (size_t)base != a) {
            e = calibrate_arm(run, J, u, nu, a, base, NULL);
            if (e)
                cJSON_AddItemToArray(arr, e);
        }
    }
    return arr;
}

static cJSON *judge_set_block(const struct fe_run *run, const struct jset *J, bool *reported)
{
    size_t nu;
    struct unit *u = units_of(J, &nu);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "type", J->pairwise ? "pairwise" : "rubric");
    if (!J->pairwise)
        fe_json_add_pair(o, "scale", J->lo, J->hi);
    cJSON_AddNumberToObject(o, "n_items", (double)nu);
    cJSON_AddNumberToObject(o, "n_ratings", (double)J->n);
    cJSON_AddItemToObject(o, "arms", arms_block(J, u, nu));
    cJSON *inter = inter_block(J, u, nu);
    cJSON_AddItemToObject(o, "inter_rater", inter);
    cJSON *ja = judge_block(run, J);
    cJSON_AddItemToObject(o, "judge_agreement", ja);
    cJSON_AddItemToObject(o, "calibrated", calibrated_block(run, J, u, nu));
    bool agreement = fe_json_getn_or(ja, "n", 0) > 0 ||
                     isfinite(fe_json_getn(inter, "krippendorff_alpha_nominal"));
    cJSON_AddBoolToObject(o, "agreement_reported", agreement);
    *reported = *reported || agreement;
    free(u);
    return o;
}

/* Parses one line of human.jsonl into r (borrowing from o); false with why on a bad line. */
static bool parse_rating(const cJSON *o, struct rating *r, double *lo, double *hi)
{
    r->item = fe_json_gets(o, "item");
    r->judge = fe_json_gets(o, "judge");
    r->type = fe_json_gets(o, "type");
    r->example = fe_json_gets(o, "example");
    r->arm = fe_json_gets(o, "arm");
    r->against = fe_json_gets(o, "against");
    r->rater = fe_json_gets(o, "rater");
    r->value = fe_json_getn(o, "value");
    if (!r->item || !r->judge || !r->type || !r->example || !r->arm || !r->rater ||
        isnan(r->value))
        return false;
    if (strcmp(r->type, "pairwise") == 0) {
        r->cat = cat_of_outcome(fe_json_gets(o, "outcome"));
        return r->cat >= 0 && r->against;
    }
    const cJSON *scale = fe_json_get(o, "scale");
    if (!fe_json_num(cJSON_GetArrayItem(scale, 0), lo) || !fe_json_num(cJSON_GetArrayItem(scale, 1), hi) ||
        *hi < *lo || *hi - *lo > 100 || !(r->value >= *lo && r->value <= *hi))
        return false;
    r->cat = (int)(r->value - *lo);
    return true;
}

static cJSON *build(const struct fe_run *run, cJSON *lines, struct fe_err *err)
{
    size_t n = (size_t)cJSON_GetArraySize(lines);
    struct rating *r = fe_xcalloc(n ? n : 1, sizeof(*r));
    double *lo = fe_xcalloc(n ? n : 1, sizeof(double)), *hi = fe_xcalloc(n ? n : 1, sizeof(double));
    const char **names = fe_xcalloc(n ? n : 1, sizeof(*names));
    size_t i = 0;
    const cJSON *o;
    cJSON_ArrayForEach(o, lines)
    {
        if (!parse_rating(o, &r[i], &lo[i], &hi[i])) {
            fe_err_set(err, FE_EINVALID, "%s/human.jsonl:%zu: not a rating line", run->dir, i + 1);
            break;
        }
        names[i] = r[i].judge;
        i++;
    }
    cJSON *h = NULL;
    if (i == n) {
        h = cJSON_CreateObject();
        cJSON_AddStringToObject(h, "source", "human.jsonl");
        cJSON_AddNumberToObject(h, "n_ratings", (double)n);
        double alpha = fe_json_getn_or(fe_json_get(run->manifest, "stats"), "alpha", 0.05);
        cJSON_AddNumberToObject(h, "alpha", alpha);
        size_t m;
        const char **judges = distinct(names, n, &m);
        cJSON *js = cJSON_AddObjectToObject(h, "judges");
        bool reported = false;
        for (size_t j = 0; j < m; j++) {
            struct jset J = {.name = judges[j], .alpha = alpha, .z = 0};
            J.r = fe_xcalloc(n, sizeof(*J.r));
            for (size_t k = 0; k < n; k++)
                if (strcmp(r[k].judge, judges[j]) == 0) {
                    J.pairwise = strcmp(r[k].type, "pairwise") == 0;
                    J.lo = lo[k];
                    J.hi = hi[k];
                    J.r[J.n++] = &r[k];
                }
            J.k = J.pairwise ? 3 : (size_t)(J.hi - J.lo) + 1;
            J.z = fe_ppi_z(alpha);
            cJSON_AddItemToObject(js, judges[j], judge_set_block(run, &J, &reported));
            free(J.r);
        }
        cJSON_AddBoolToObject(h, "agreement_reported", reported);
        free(judges);
    }
    free(names);
    free(lo);
    free(hi);
    free(r);
    return h;
}

void fe_human_attach(const struct fe_run *run, cJSON *summary)
{
    char *path = fe_xasprintf("%s/human.jsonl", run->dir);
    size_t len;
    char *text = fe_read_file(path, 1u << 30, &len);
    if (!text && errno == ENOENT) {
        free(path);
        return;
    }
    struct fe_err err = {0};
    cJSON *lines = cJSON_CreateArray();
    size_t line = 0;
    for (const char *p = text; p && *p && !err.code;) {
        const char *nl = strchr(p, '\n');
        size_t l = nl ? (size_t)(nl - p) : strlen(p);
        line++;
        if (l) {
            cJSON *o = cJSON_ParseWithLength(p, l);
            if (!cJSON_IsObject(o))
                fe_err_set(&err, FE_EINVALID, "%s:%zu: not a JSON object", path, line);
            if (o)
                cJSON_AddItemToArray(lines, o);
        }
        p += l + (nl != NULL);
    }
    if (!text)
        fe_err_set(&err, FE_EIO, "%s: cannot read: %s", path, strerror(errno));
    cJSON *h = err.code ? NULL : build(run, lines, &err);
    if (!h) {
        h = cJSON_CreateObject();
        cJSON_AddStringToObject(h, "error", err.msg);
    }
    cJSON_DeleteItemFromObjectCaseSensitive(summary, "human");
    cJSON_AddItemToObject(summary, "human", h);
    cJSON_Delete(lines);
    free(text);
    free(path);
}
