/* compare_examples.c — the examples `compare` lists as broke and fixed (compare.h): each entry
 * built from the two runs' records, the lists kept as record indices (struct fe_compare_lists)
 * so that compare.json is written one example at a time (fe_compare_print) instead of holding a
 * cJSON tree of every changed example with its text. */
#include "harness/analysis/compare.h"
#include "harness/analysis/compare_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness/base/jsonout.h"
#include "harness/base/util.h"

static const char *fe_status_of(const struct fe_record *r)
{
    return !r ? "missing" : r->ok ? "ok" : "error";
}

/* "input" (and "input_truncated" when cut) of the candidate's record, else the baseline's;
 * nothing when neither record carries one. */
static void fe_example_input(cJSON *e, const struct fe_record *a, const struct fe_record_text *ta,
                             const struct fe_record *b, const struct fe_record_text *tb)
{
    const struct fe_record *from = b && tb->input ? b : a;
    const struct fe_record_text *t = from == b ? tb : ta;
    if (!from || !t->input)
        return;
    cJSON_AddStringToObject(e, "input", t->input);
    if (from->input_truncated)
        cJSON_AddTrueToObject(e, "input_truncated");
}

/* The text of record r of run (an empty view when r is NULL: missing). */
static void fe_side_text(const struct fe_run *run, const struct fe_record *r,
                         struct fe_record_text *t)
{
    if (r)
        fe_run_record_text(run, r, t);
    else
        memset(t, 0, sizeof(*t));
}

cJSON *fe_compare_example(const char *id, const struct fe_run *ra, const struct fe_record *a,
                          const struct fe_run *rb, const struct fe_record *b, size_t metric_a,
                          size_t metric_b)
{
    struct fe_record_text ta, tb;
    fe_side_text(ra, a, &ta);
    fe_side_text(rb, b, &tb);
    cJSON *e = cJSON_CreateObject();
    cJSON_AddStringToObject(e, "id", id);
    const cJSON *gold = b ? tb.gold : NULL;
    if (!gold)
        gold = a ? ta.gold : NULL;
    cJSON_AddItemToObject(e, "gold", gold ? cJSON_Duplicate(gold, true) : cJSON_CreateNull());
    fe_json_add_str(e, "baseline_prediction", a ? ta.prediction : NULL);
    fe_json_add_str(e, "candidate_prediction", b ? tb.prediction : NULL);
    cJSON_AddNumberToObject(e, "baseline_score", a ? fe_score(a, metric_a) : 0);
    cJSON_AddNumberToObject(e, "candidate_score", b ? fe_score(b, metric_b) : 0);
    cJSON_AddStringToObject(e, "baseline_status", fe_status_of(a));
    cJSON_AddStringToObject(e, "candidate_status", fe_status_of(b));
    fe_example_input(e, a, &ta, b, &tb);
    fe_record_text_release(&ta);
    fe_record_text_release(&tb);
    return e;
}

/* ---------- the lists, by record ---------- */

/* One list: per example the index of a record of it (4 bytes), in the baseline arm, or in the
 * candidate arm when its bit in cand is set (the baseline has no record of it). */
struct fe_ref_list {
    uint32_t *rec;
    unsigned char *cand; /* one bit per example */
    size_t n, alloc;
};

struct fe_pair_lists {
    size_t arm_a, arm_b, metric_a, metric_b;
    struct fe_ref_list l[2]; /* broke, fixed */
};

struct fe_compare_lists {
    const struct fe_run *base, *cand;
    struct fe_pair_lists *pairs;
    size_t n_pairs;
};

struct fe_compare_lists *fe_compare_lists_new(const struct fe_run *base, const struct fe_run *cand)
{
    struct fe_compare_lists *l = fe_xcalloc(1, sizeof(*l));
    l->base = base;
    l->cand = cand;
    return l;
}

void fe_compare_lists_pairs(struct fe_compare_lists *l, size_t n)
{
    l->pairs = fe_xcalloc(n ? n : 1, sizeof(*l->pairs));
    l->n_pairs = n;
}

void fe_compare_lists_add(struct fe_compare_lists *l, size_t p, bool fixed, bool from_cand,
                          uint32_t rec)
{
    struct fe_ref_list *x = &l->pairs[p].l[fixed];
    if (x->n == x->alloc) {
        size_t was = x->alloc / 8;
        x->alloc = x->alloc ? 2 * x->alloc : 64;
        x->rec = fe_xreallocarray(x->rec, x->alloc, sizeof(*x->rec));
        x->cand = fe_xreallocarray(x->cand, x->alloc / 8, 1);
        memset(x->cand + was, 0, x->alloc / 8 - was);
    }
    x->rec[x->n] = rec;
    if (from_cand)
        x->cand[x->n / 8] |= (unsigned char)(1u << (x->n % 8));
    x->n++;
}

void fe_compare_lists_metrics(struct fe_compare_lists *l, size_t p, size_t arm_a, size_t arm_b,
                              size_t metric_a, size_t metric_b)
{
    struct fe_pair_lists *x = &l->pairs[p];
    x->arm_a = arm_a;
    x->arm_b = arm_b;
    x->metric_a = metric_a;
    x->metric_b = metric_b;
}

void fe_compare_lists_free(struct fe_compare_lists *l)
{
    if (!l)
        return;
    for (size_t p = 0; p < l->n_pairs; p++) {
        for (int f = 0; f < 2; f++) {
            free(l->pairs[p].l[f].rec);
            free(l->pairs[p].l[f].cand);
        }
    }
    free(l->pairs);
    free(l);
}

size_t fe_compare_lists_count(const struct fe_compare_lists *l, size_t p, bool fixed)
{
    return l && p < l->n_pairs ? l->pairs[p].l[fixed].n : 0;
}

cJSON *fe_compare_lists_example(const struct fe_compare_lists *l, size_t p, bool fixed, size_t k)
{
    if (k >= fe_compare_lists_count(l, p, fixed))
        return NULL;
    const struct fe_pair_lists *x = &l->pairs[p];
    const struct fe_ref_list *r = &x->l[fixed];
    const struct fe_arm_run *A = &l->base->arms[x->arm_a], *B = &l->cand->arms[x->arm_b];
    bool from_cand = r->cand[k / 8] >> (k % 8) & 1;
    const char *id = fe_arm_rec(from_cand ? B : A, r->rec[k])->id; /* lives in the run */
    long ra = from_cand ? fe_run_find_record(l->base, x->arm_a, id) : (long)r->rec[k];
    long rb = from_cand ? (long)r->rec[k] : fe_run_find_record(l->cand, x->arm_b, id);
    const struct fe_record *a = ra >= 0 ? fe_arm_rec(A, (size_t)ra) : NULL;
    const struct fe_record *b = rb >= 0 ? fe_arm_rec(B, (size_t)rb) : NULL;
    return fe_compare_example(id, l->base, a, l->cand, b, x->metric_a, x->metric_b);
}

/* ---------- compare.json, one example at a time ---------- */

/* Puts s with depth tabs after each newline: a value printed alone (cJSON_Print) as it prints
 * inside depth enclosing objects and arrays of a tree (cJSON follows every newline of formatted
 * JSON with one tab per level; strings hold their newlines escaped). */
static void fe_put_indented(const char *s, size_t depth,
                            void (*put)(void *ctx, const char *s, size_t n), void *ctx)
{
    static const char tabs[] = "\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t";
    const char *nl;
    while ((nl = strchr(s, '\n')) != NULL) {
        put(ctx, s, (size_t)(nl + 1 - s));
        for (size_t d = depth; d > 0;) {
            size_t k = d < sizeof(tabs) - 1 ? d : sizeof(tabs) - 1;
            put(ctx, tabs, k);
            d -= k;
        }
        s = nl + 1;
    }
    put(ctx, s, strlen(s));
}

/* The list of marker k (pair k / 2, fixed k % 2) as cJSON prints an array of objects. */
static void fe_put_list(const struct fe_compare_lists *l, size_t k, size_t depth,
                        void (*put)(void *ctx, const char *s, size_t n), void *ctx)
{
    size_t p = k / 2;
    bool fixed = k % 2;
    put(ctx, "[", 1);
    for (size_t i = 0; i < fe_compare_lists_count(l, p, fixed); i++) {
        if (i)
            put(ctx, ", ", 2);
        cJSON *e = fe_compare_lists_example(l, p, fixed, i);
        char *s = cJSON_Print(e);
        fe_put_indented(s, depth, put, ctx);
        cJSON_free(s);
        cJSON_Delete(e);
    }
    put(ctx, "]", 1);
}

/* The tabs that open the line holding text[at]. */
static size_t fe_line_depth(const char *text, size_t at)
{
    size_t start = at;
    while (start > 0 && text[start - 1] != '\n')
        start--;
    size_t d = 0;
    while (text[start + d] == '\t')
        d++;
    return d;
}

/* An "examples" array swapped for a raw marker while the rest of the result is printed. */
struct fe_swap {
    cJSON *item;
    int type;
    cJSON *child;
    char *valuestring;
};

void fe_compare_print(cJSON *result, const struct fe_compare_lists *lists,
                      void (*put)(void *ctx, const char *s, size_t n), void *ctx)
{
    size_t n_swaps = lists ? 2 * lists->n_pairs : 0, k = 0;
    struct fe_swap *sw = fe_xcalloc(n_swaps ? n_swaps : 1, sizeof(*sw));
    char (*marks)[32] = fe_xcalloc(n_swaps ? n_swaps : 1, sizeof(*marks));
    cJSON *arms = lists ? cJSON_GetObjectItemCaseSensitive(result, "arms") : NULL, *ae;
    cJSON_ArrayForEach(ae, arms) {
        for (int f = 0; f < 2 && k < n_swaps; f++, k++) {
            cJSON *ex = cJSON_GetObjectItemCaseSensitive(
                cJSON_GetObjectItemCaseSensitive(ae, f ? "fixed" : "broke"), "examples");
            if (!ex)
                continue;
            /* control bytes are escaped in every printed string: the marker is unambiguous */
            snprintf(marks[k], sizeof(marks[k]), "\x01%zu\x01", k);
            sw[k] = (struct fe_swap){ex, ex->type, ex->child, ex->valuestring};
            ex->type = cJSON_Raw;
            ex->child = NULL;
            ex->valuestring = marks[k];
        }
    }
    char *text = cJSON_Print(result);
    for (size_t i = 0; i < n_swaps; i++)
        if (sw[i].item) {
            sw[i].item->type = sw[i].type;
            sw[i].item->child = sw[i].child;
            sw[i].item->valuestring = sw[i].valuestring;
        }
    const char *s = text, *m;
    while ((m = strchr(s, '\x01')) != NULL) {
        put(ctx, s, (size_t)(m - s));
        char *end;
        unsigned long long mk = strtoull(m + 1, &end, 10);
        /* the examples' levels: the objects of the marker's line, and the array */
        fe_put_list(lists, (size_t)mk, fe_line_depth(text, (size_t)(m - text)) + 1, put, ctx);
        s = end + 1; /* past the closing \x01 */
    }
    put(ctx, s, strlen(s));
    cJSON_free(text);
    free(sw);
    free(marks);
}
