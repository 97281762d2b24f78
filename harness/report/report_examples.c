/* report_examples.c — report.html's example browser (fe_report_html_browser, report_browser.h):
 * every example of the run, the union of the ids of all arms in dataset order, with its input,
 * gold and slice, and per arm the output, the primary-metric score and the error. Input, its
 * cut flag and the slice come from the records ("input", "input_truncated", "slice"); a run
 * whose records carry none shows "(no input recorded)". Errors: none. */
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "harness/base/jsonout.h"
#include "harness/base/strmap.h"
#include "harness/base/util.h"
#include "harness/report/report_browser.h"
#include "harness/report/report_int.h"
#include "metrics/metric.h"

struct ex_key {
    const char *id;
    long line;
};

static int cmp_key(const void *a, const void *b) {
    const struct ex_key *x = a, *y = b;
    long lx = x->line < 0 ? LONG_MAX : x->line, ly = y->line < 0 ? LONG_MAX : y->line;
    if (lx != ly)
        return lx < ly ? -1 : 1;
    return strcmp(x->id, y->id);
}

/* The union of the arms' ids, in dataset order (line, then id); *n gets the count. */
static struct ex_key *union_ids(const struct fe_run *run, size_t *n) {
    size_t total = 0;
    for (size_t a = 0; a < run->n_arms; a++)
        total += run->arms[a].n;
    struct ex_key *keys = fe_xcalloc(total + 1, sizeof(*keys));
    struct fe_strmap seen;
    fe_strmap_init(&seen);
    *n = 0;
    for (size_t a = 0; a < run->n_arms; a++)
        for (size_t i = 0; i < run->arms[a].n; i++) {
            const struct fe_record *r = &run->arms[a].records[i];
            if (r->id && fe_strmap_put(&seen, r->id, *n))
                keys[(*n)++] = (struct ex_key){r->id, r->line};
        }
    fe_strmap_release(&seen);
    qsort(keys, *n, sizeof(*keys), cmp_key);
    return keys;
}

/* Class labels: the run scores a label metric (macro_f1, micro_f1), or every gold is a string
 * and the labels recur (at most 1000 of them, at most a quarter as many as examples). */
static bool golds_are_classes(const struct fe_run *run, const bool *gold_is_str,
                              const char *const *golds, size_t n) {
    for (size_t m = 0; m < run->n_metrics; m++) {
        const struct fe_metric *fm = fe_metric_find(run->metrics[m]);
        if (fm && (fm->corpus == FE_CORPUS_MACRO_F1 || fm->corpus == FE_CORPUS_MICRO_F1))
            return true;
    }
    struct fe_strmap labels;
    fe_strmap_init(&labels);
    bool ok = n > 0;
    for (size_t i = 0; i < n && ok; i++) {
        ok = gold_is_str[i] && (fe_strmap_put(&labels, golds[i], i), labels.count <= 1000);
    }
    ok = ok && labels.count * 4 <= n;
    fe_strmap_release(&labels);
    return ok;
}

/* The record that speaks for the example: the candidate's, else the baseline's, else any. */
static const struct fe_record *first_record(const struct fe_report_view *v,
                                            const struct fe_record *const *recs, size_t i,
                                            size_t n) {
    if (v->cand >= 0 && recs[(size_t)v->cand * n + i])
        return recs[(size_t)v->cand * n + i];
    if (v->base >= 0 && recs[(size_t)v->base * n + i])
        return recs[(size_t)v->base * n + i];
    for (size_t a = 0; a < v->run->n_arms; a++)
        if (recs[a * n + i])
            return recs[a * n + i];
    return NULL;
}

/* The per-example columns, owned here; the browser borrows them. */
struct ex_cols {
    const char **ids, **slices;
    char **inputs;
    bool *cut, *gold_is_str;
    char **golds;
};

/* Fills the per-example columns (ids, input, gold, slice) from the first records and points the
 * browser at them (inputs, slices, truncated stay NULL when no example has one). */
static void example_columns(const struct fe_run *run, const struct ex_key *keys,
                            const struct fe_record *const *first, struct fe_browser *w,
                            struct ex_cols *c) {
    size_t n = w->n;
    c->ids = fe_xcalloc(n + 1, sizeof(*c->ids));
    c->inputs = fe_xcalloc(n + 1, sizeof(*c->inputs));
    c->slices = fe_xcalloc(n + 1, sizeof(*c->slices));
    c->cut = fe_xcalloc(n + 1, sizeof(*c->cut));
    c->golds = fe_xcalloc(n + 1, sizeof(*c->golds));
    c->gold_is_str = fe_xcalloc(n + 1, sizeof(*c->gold_is_str));
    bool any_input = false, any_slice = false, any_cut = false;
    for (size_t i = 0; i < n; i++) {
        struct fe_record_text t = {0};
        if (first[i])
            fe_run_record_text(run, first[i], &t);
        c->ids[i] = keys[i].id;
        c->inputs[i] = t.input ? fe_xstrdup(t.input) : NULL;
        c->slices[i] = first[i] ? first[i]->slice : NULL;
        c->cut[i] = first[i] && first[i]->input_truncated;
        c->golds[i] = first[i] ? fe_report_gold_text(&t) : fe_xstrdup("");
        c->gold_is_str[i] = cJSON_IsString(t.gold);
        fe_record_text_release(&t);
        any_input = any_input || c->inputs[i];
        any_slice = any_slice || c->slices[i];
        any_cut = any_cut || c->cut[i];
    }
    w->ids = c->ids;
    w->inputs = any_input ? (const char *const *)c->inputs : NULL;
    w->slices = any_slice ? c->slices : NULL;
    w->truncated = any_cut ? c->cut : NULL;
    w->golds = (const char *const *)c->golds;
}

static void ex_cols_release(struct ex_cols *c, size_t n) {
    for (size_t i = 0; i < n; i++) {
        free(c->golds[i]);
        free(c->inputs[i]);
    }
    free(c->golds);
    free(c->gold_is_str);
    free(c->ids);
    free(c->inputs);
    free(c->slices);
    free(c->cut);
}

void fe_report_html_browser(const struct fe_report_view *v, struct fe_buf *b) {
    const struct fe_run *run = v->run;
    size_t n = 0, na = run->n_arms;
    struct ex_key *keys = union_ids(run, &n);
    const struct fe_record **recs = fe_xcalloc(na * n + 1, sizeof(*recs));
    const struct fe_record **first = fe_xcalloc(n + 1, sizeof(*first));
    char **out = fe_xcalloc(na * n + 1, sizeof(*out));
    const char **err = fe_xcalloc(na * n + 1, sizeof(*err));
    double *score = fe_xcalloc(na * n + 1, sizeof(*score));
    const char **arms = fe_xcalloc(na + 1, sizeof(*arms));
    bool has_metric = v->primary < run->n_metrics;
    for (size_t a = 0; a < na; a++) {
        arms[a] = run->arms[a].name;
        for (size_t i = 0; i < n; i++) {
            long j = fe_run_find_record(run, a, keys[i].id);
            const struct fe_record *r = j >= 0 ? &run->arms[a].records[j] : NULL;
            recs[a * n + i] = r;
            if (r) {
                struct fe_record_text t;
                fe_run_record_text(run, r, &t);
                out[a * n + i] = fe_xstrdup(t.prediction);
                fe_record_text_release(&t);
            }
            err[a * n + i] = !r ? "missing" : r->ok ? NULL : fe_str_or(r->error_kind, "error");
            score[a * n + i] = r && has_metric ? r->scores[v->primary] : NAN;
        }
    }
    for (size_t i = 0; i < n; i++)
        first[i] = first_record(v, recs, i, n);
    struct fe_browser w = {.dom_id = "examples-browser",
                           .title = "Every example",
                           .arms = arms,
                           .n_arms = na,
                           .metric = has_metric ? run->metrics[v->primary] : NULL,
                           .base = v->base,
                           .cand = v->cand,
                           .filter = "all",
                           .n = n,
                           .out = (const char *const *)out,
                           .score = score,
                           .err = err};
    struct ex_cols cols;
    example_columns(run, keys, first, &w, &cols);
    w.classes = golds_are_classes(run, cols.gold_is_str, w.golds, n);
    fe_browser_style(b);
    fe_browser_section(&w, b);
    fe_browser_script(b);
    ex_cols_release(&cols, n);
    free(keys);
    free(recs);
    free(first);
    for (size_t k = 0; k < na * n; k++)
        free(out[k]);
    free(out);
    free(err);
    free(score);
    free(arms);
}
