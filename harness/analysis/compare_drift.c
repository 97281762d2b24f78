/* compare_drift.c — the drift tests of `fteval compare` between the outputs of a baseline and
 * a candidate arm (docs/nightly.md "Drift"): the prediction distribution and finish reasons
 * (chi-square over the top-k categories), output length (paired t), error and refusal rates
 * (exact McNemar). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "harness/analysis/compare.h"
#include "harness/analysis/compare_int.h"
#include "harness/base/jsonout.h"
#include "harness/base/strmap.h"
#include "harness/base/util.h"
#include "metrics/drift.h"

static bool fe_is_refusal(const struct fe_run *run, const struct fe_record *r)
{
    if (!r)
        return false;
    const char *finish = fe_run_str(run, r->finish_reason), *kind = fe_run_str(run, r->error_kind);
    if (finish && strcmp(finish, "content_filter") == 0)
        return true;
    if (kind && (strstr(kind, "content_filter") || strstr(kind, "refus")))
        return true;
    return r->has_refusal;
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

/* A paired rate over the examples: how often each side has the property (na, nb) and the
 * discordant pairs (b: only the baseline, c: only the candidate), counted as they go by. */
struct fe_rate {
    size_t na, nb, b, c;
};

static void fe_rate_add(struct fe_rate *r, bool xa, bool xb)
{
    r->na += xa;
    r->nb += xb;
    r->b += xa && !xb;
    r->c += !xa && xb;
}

static bool fe_rate_test(cJSON *tests, const char *name, const struct fe_rate *r, size_t n,
                         double alpha)
{
    double p = fe_drift_mcnemar(r->b, r->c);
    cJSON *t = cJSON_CreateObject();
    cJSON_AddStringToObject(t, "name", name);
    cJSON_AddStringToObject(t, "test", "mcnemar_exact");
    fe_json_add_num(t, "rate_baseline", n ? (double)r->na / (double)n : NAN);
    fe_json_add_num(t, "rate_candidate", n ? (double)r->nb / (double)n : NAN);
    cJSON_AddNumberToObject(t, "count_baseline", (double)r->na);
    cJSON_AddNumberToObject(t, "count_candidate", (double)r->nb);
    cJSON_AddNumberToObject(t, "p", p);
    bool flagged = p < alpha;
    cJSON_AddBoolToObject(t, "flagged", flagged);
    cJSON_AddItemToArray(tests, t);
    return flagged;
}

cJSON *fe_compare_drift(const struct fe_side *sa, const struct fe_side *sb, size_t n,
                       const struct fe_compare_opts *o)
{
    cJSON *drift = cJSON_CreateObject();
    cJSON_AddNumberToObject(drift, "alpha", o->alpha);
    cJSON *tests = cJSON_AddArrayToObject(drift, "tests");
    bool flagged = false;

    struct fe_catset labels = {0};
    fe_strmap_init(&labels.map);
    /* Output length: paired over the examples answered on both sides. */
    double *dl = fe_xcalloc(n ? n : 1, sizeof(*dl));
    size_t m = 0;
    double la = 0, lb = 0;
    for (size_t i = 0; i < n; i++) {
        double len[2] = {0, 0};
        const struct fe_record *ra = fe_side_rec(sa, i), *rb = fe_side_rec(sb, i);
        for (int side = 0; side < 2; side++) {
            const struct fe_record *r = side ? rb : ra;
            if (!r || !r->ok)
                continue;
            struct fe_record_text t;
            fe_run_record_text(side ? sb->run : sa->run, r, &t);
            char *l = fe_label(t.prediction);
            fe_catset_count(&labels, l, side);
            free(l);
            len[side] = (double)strlen(t.prediction);
            fe_record_text_release(&t);
        }
        if (!ra || !rb || !ra->ok || !rb->ok)
            continue;
        dl[m++] = len[1] - len[0];
        la += len[0];
        lb += len[1];
    }
    flagged |= fe_dist_test(tests, "predictions", &labels, o->top_k, o->alpha);

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

    struct fe_rate errors = {0}, refusals = {0};
    for (size_t i = 0; i < n; i++) {
        const struct fe_record *ra = fe_side_rec(sa, i), *rb = fe_side_rec(sb, i);
        fe_rate_add(&errors, !ra || !ra->ok, !rb || !rb->ok);
        fe_rate_add(&refusals, fe_is_refusal(sa->run, ra), fe_is_refusal(sb->run, rb));
    }
    flagged |= fe_rate_test(tests, "error_rate", &errors, n, o->alpha);
    flagged |= fe_rate_test(tests, "refusal_rate", &refusals, n, o->alpha);

    struct fe_catset fr = {0};
    fe_strmap_init(&fr.map);
    for (size_t i = 0; i < n; i++) {
        for (int side = 0; side < 2; side++) {
            const struct fe_side *s = side ? sb : sa;
            const struct fe_record *r = fe_side_rec(s, i);
            const char *l = !r ? "<missing>" : fe_str_or(fe_run_str(s->run, r->finish_reason), "<none>");
            fe_catset_count(&fr, l, side);
        }
    }
    flagged |= fe_dist_test(tests, "finish_reason", &fr, o->top_k, o->alpha);
    cJSON_AddBoolToObject(drift, "flagged", flagged);
    return drift;
}
