/* compare_drift.c — the drift tests of `fteval compare` between the outputs of a baseline and
 * a candidate arm (docs/nightly.md "Drift"): the prediction distribution and finish reasons
 * (chi-square over the top-k categories), output length (paired t), error and refusal rates
 * (exact McNemar). Nothing is held per example but the length differences (8 bytes each). */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "harness/analysis/compare.h"
#include "harness/analysis/compare_int.h"
#include "harness/base/jsonout.h"
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

/* The label of the distribution test: s without leading and trailing white space (*len bytes
 * from the returned pointer), "<empty>" when nothing is left. */
static const char *fe_label(const char *s, size_t *len)
{
    while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
        s++;
    size_t n = strlen(s);
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\n' || s[n - 1] == '\r'))
        n--;
    if (!n) {
        *len = strlen("<empty>");
        return "<empty>";
    }
    *len = n;
    return s;
}

/* A distribution test's categories are counted by two independent 64-bit hashes of their
 * labels, not by the labels (issue 14, Memory: free-text predictions are mostly distinct, and
 * holding each one twice made compare grow with the answers' length). Counting is one pass over
 * the labels; the labels of the top categories are read in a second pass. A category costs
 * 24 bytes and a 4-byte slot, whatever its label's length. */
struct fe_hcat {
    uint64_t h1, h2;
    uint32_t a, b;              /* baseline and candidate counts */
};

struct fe_hcount {
    struct fe_hcat *cats;
    size_t n, cap;
    uint32_t *slots;            /* category index + 1, 0 empty; n_slots a power of two */
    size_t n_slots;
};

/* FNV-1a, and a multiplicative hash finished by MurmurHash3's mixer: independent enough that a
 * pair of labels colliding in both (2^-128) is not a concern at any run's size. */
static void fe_label_hash(const char *s, size_t n, uint64_t *h1, uint64_t *h2)
{
    uint64_t a = 1469598103934665603ULL, b = 0x9e3779b97f4a7c15ULL ^ n;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        a = (a ^ c) * 1099511628211ULL;
        b = (b + c) * 0xff51afd7ed558ccdULL;
        b ^= b >> 29;
    }
    b ^= b >> 33;
    b *= 0xc4ceb9fe1a85ec53ULL;
    b ^= b >> 33;
    *h1 = a;
    *h2 = b;
}

static uint32_t *fe_hcount_slot(const struct fe_hcount *c, uint64_t h1, uint64_t h2)
{
    size_t mask = c->n_slots - 1;
    for (size_t i = (size_t)(h1 ^ h2) & mask;; i = (i + 1) & mask)
        if (!c->slots[i] || (c->cats[c->slots[i] - 1].h1 == h1 && c->cats[c->slots[i] - 1].h2 == h2))
            return &c->slots[i];
}

/* The index of the category of label (s, n), added when new. */
static size_t fe_hcount_find(struct fe_hcount *c, const char *s, size_t n)
{
    uint64_t h1, h2;
    fe_label_hash(s, n, &h1, &h2);
    if (4 * (c->n + 1) > 3 * c->n_slots) { /* at most 3/4 full */
        free(c->slots);
        c->n_slots = c->n_slots ? 2 * c->n_slots : 64;
        c->slots = fe_xcalloc(c->n_slots, sizeof(*c->slots));
        for (size_t k = 0; k < c->n; k++)
            *fe_hcount_slot(c, c->cats[k].h1, c->cats[k].h2) = (uint32_t)(k + 1);
    }
    uint32_t *slot = fe_hcount_slot(c, h1, h2);
    if (!*slot) {
        if (c->n == c->cap) {
            c->cap = c->cap ? 2 * c->cap : 64;
            c->cats = fe_xreallocarray(c->cats, c->cap, sizeof(*c->cats));
        }
        c->cats[c->n] = (struct fe_hcat){h1, h2, 0, 0};
        *slot = (uint32_t)++c->n;
    }
    return *slot - 1;
}

/* What a labels pass sees: each label (s, n) of side 0 (baseline) or 1 (candidate), in order. */
typedef void (*fe_label_fn)(void *ctx, const char *s, size_t n, int side);
/* Calls fn for every label of the test, in the same order each time it is called. */
typedef void (*fe_labels_fn)(void *src, fe_label_fn fn, void *ctx);

struct fe_cat {
    char *label;
    size_t a, b;
};

/* Dataset-independent order of the categories: by combined count, ties by label (bytes). */
static int fe_cat_cmp(const void *x, const void *y)
{
    const struct fe_cat *p = x, *q = y;
    size_t tp = p->a + p->b, tq = q->a + q->b;
    if (tp != tq)
        return tp > tq ? -1 : 1;
    return strcmp(p->label, q->label);
}

/* Pass 2: the labels of the top k categories. Those above the k-th count (fewer than k) are
 * all in; of those at the k-th count, the `room` smallest labels. */
struct fe_pick {
    struct fe_hcount *c;
    uint32_t threshold;         /* the k-th largest combined count */
    struct fe_cat *top;         /* k entries: label NULL until read */
    size_t *top_cat;            /* the category of each entry, above-threshold ones first */
    size_t n_above, n_tied, room;
};

static void fe_pick_label(void *ctx, const char *s, size_t n, int side)
{
    (void)side;
    struct fe_pick *p = ctx;
    size_t k = fe_hcount_find(p->c, s, n);
    uint32_t total = p->c->cats[k].a + p->c->cats[k].b;
    if (total > p->threshold) {
        for (size_t j = 0; j < p->n_above; j++)
            if (p->top_cat[j] == k && !p->top[j].label)
                p->top[j].label = fe_xstrndup(s, n);
        return;
    }
    if (total != p->threshold || !p->room)
        return;
    size_t at = p->n_above, end = p->n_above + p->n_tied, worst = end;
    for (size_t j = at; j < end; j++) {
        if (p->top_cat[j] == k)
            return; /* already one of them */
        if (worst == end || strcmp(p->top[j].label, p->top[worst].label) > 0)
            worst = j;
    }
    char *label = fe_xstrndup(s, n);
    if (p->n_tied < p->room) {
        worst = end;
        p->n_tied++;
    } else if (strcmp(label, p->top[worst].label) < 0) {
        free(p->top[worst].label);
    } else {
        free(label);
        return;
    }
    p->top[worst] = (struct fe_cat){label, p->c->cats[k].a, p->c->cats[k].b};
    p->top_cat[worst] = k;
}

static void fe_count_label(void *ctx, const char *s, size_t n, int side)
{
    struct fe_hcount *c = ctx;
    size_t k = fe_hcount_find(c, s, n);
    if (side)
        c->cats[k].b++;
    else
        c->cats[k].a++;
}

static int fe_u32_desc(const void *x, const void *y)
{
    uint32_t a = *(const uint32_t *)x, b = *(const uint32_t *)y;
    return a > b ? -1 : a < b;
}

/* Chi-square over the top_k categories of the labels src gives (ties: label order) plus
 * "other"; adds the test object to tests. */
static bool fe_dist_test(cJSON *tests, const char *name, fe_labels_fn labels, void *src,
                         size_t top_k, double alpha)
{
    struct fe_hcount c = {0};
    labels(src, fe_count_label, &c);
    size_t k = c.n > top_k ? top_k : c.n;
    struct fe_pick pk = {.c = &c};
    pk.top = fe_xcalloc(k ? k : 1, sizeof(*pk.top));
    pk.top_cat = fe_xcalloc(k ? k : 1, sizeof(*pk.top_cat));
    size_t sum_a = 0, sum_b = 0;
    if (k) { /* the k-th largest combined count, from a sorted copy of the counts */
        uint32_t *tot = fe_xreallocarray(NULL, c.n, sizeof(*tot));
        for (size_t j = 0; j < c.n; j++)
            tot[j] = c.cats[j].a + c.cats[j].b;
        qsort(tot, c.n, sizeof(*tot), fe_u32_desc);
        pk.threshold = tot[k - 1];
        free(tot);
    }
    for (size_t j = 0; j < c.n; j++) {
        sum_a += c.cats[j].a;
        sum_b += c.cats[j].b;
        if (k && c.cats[j].a + c.cats[j].b > pk.threshold) {
            pk.top[pk.n_above] = (struct fe_cat){NULL, c.cats[j].a, c.cats[j].b};
            pk.top_cat[pk.n_above++] = j;
        }
    }
    pk.room = k - pk.n_above;
    if (k)
        labels(src, fe_pick_label, &pk);
    qsort(pk.top, k, sizeof(*pk.top), fe_cat_cmp);
    size_t slots = k + (c.n > k ? 1 : 0);
    size_t *ca = fe_xcalloc(slots ? slots : 1, sizeof(*ca));
    size_t *cb = fe_xcalloc(slots ? slots : 1, sizeof(*cb));
    for (size_t j = 0; j < k; j++) {
        ca[j] = pk.top[j].a;
        cb[j] = pk.top[j].b;
        sum_a -= pk.top[j].a;
        sum_b -= pk.top[j].b;
    }
    if (slots > k) {
        ca[k] = sum_a;
        cb[k] = sum_b;
    }
    cJSON *t = cJSON_CreateObject();
    cJSON_AddStringToObject(t, "name", name);
    cJSON_AddStringToObject(t, "test", "chi_square");
    cJSON *cats = cJSON_AddArrayToObject(t, "categories");
    for (size_t j = 0; j < slots; j++) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "label", j < k ? pk.top[j].label : "<other>");
        cJSON_AddNumberToObject(o, "baseline", (double)ca[j]);
        cJSON_AddNumberToObject(o, "candidate", (double)cb[j]);
        cJSON_AddItemToArray(cats, o);
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
    for (size_t j = 0; j < k; j++)
        free(pk.top[j].label);
    free(pk.top);
    free(pk.top_cat);
    free(c.cats);
    free(c.slots);
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

/* The labels of the predictions test: the trimmed predictions of the answered examples, baseline
 * then candidate, example by example. The first pass also gathers the output lengths. */
struct fe_pred_src {
    const struct fe_side *sa, *sb;
    size_t n;
    bool lengths_done;
    double *dl;                 /* candidate - baseline length, examples answered on both sides */
    size_t m;
    double la, lb;
};

static void fe_pred_labels(void *src, fe_label_fn fn, void *ctx)
{
    struct fe_pred_src *p = src;
    for (size_t i = 0; i < p->n; i++) {
        double len[2] = {0, 0};
        const struct fe_record *ra = fe_side_rec(p->sa, i), *rb = fe_side_rec(p->sb, i);
        for (int side = 0; side < 2; side++) {
            const struct fe_record *r = side ? rb : ra;
            if (!r || !r->ok)
                continue;
            struct fe_record_text t;
            fe_run_record_text(side ? p->sb->run : p->sa->run, r, &t);
            size_t n = 0;
            const char *l = fe_label(t.prediction, &n);
            fn(ctx, l, n, side);
            len[side] = (double)strlen(t.prediction);
            fe_record_text_release(&t);
        }
        if (p->lengths_done || !ra || !rb || !ra->ok || !rb->ok)
            continue;
        p->dl[p->m++] = len[1] - len[0];
        p->la += len[0];
        p->lb += len[1];
    }
    p->lengths_done = true;
}

/* The labels of the finish_reason test: every example's, "<missing>" without a record. */
struct fe_finish_src {
    const struct fe_side *sa, *sb;
    size_t n;
};

static void fe_finish_labels(void *src, fe_label_fn fn, void *ctx)
{
    const struct fe_finish_src *p = src;
    for (size_t i = 0; i < p->n; i++) {
        for (int side = 0; side < 2; side++) {
            const struct fe_side *s = side ? p->sb : p->sa;
            const struct fe_record *r = fe_side_rec(s, i);
            const char *l = !r ? "<missing>" : fe_str_or(fe_run_str(s->run, r->finish_reason), "<none>");
            fn(ctx, l, strlen(l), side);
        }
    }
}

cJSON *fe_compare_drift(const struct fe_side *sa, const struct fe_side *sb, size_t n,
                       const struct fe_compare_opts *o)
{
    cJSON *drift = cJSON_CreateObject();
    cJSON_AddNumberToObject(drift, "alpha", o->alpha);
    cJSON *tests = cJSON_AddArrayToObject(drift, "tests");
    bool flagged = false;

    /* Output length: paired over the examples answered on both sides. */
    struct fe_pred_src ps = {sa, sb, n, false, fe_xcalloc(n ? n : 1, sizeof(double)), 0, 0, 0};
    flagged |= fe_dist_test(tests, "predictions", fe_pred_labels, &ps, o->top_k, o->alpha);
    double *dl = ps.dl, la = ps.la, lb = ps.lb;
    size_t m = ps.m;

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

    struct fe_finish_src fs = {sa, sb, n};
    flagged |= fe_dist_test(tests, "finish_reason", fe_finish_labels, &fs, o->top_k, o->alpha);
    cJSON_AddBoolToObject(drift, "flagged", flagged);
    return drift;
}
