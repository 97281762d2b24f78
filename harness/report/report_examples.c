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
            const struct fe_record *r = fe_arm_rec(&run->arms[a], i);
            if (r->id && fe_strmap_put(&seen, r->id, *n))
                keys[(*n)++] = (struct ex_key){r->id, r->line};
        }
    fe_strmap_release(&seen);
    qsort(keys, *n, sizeof(*keys), cmp_key);
    return keys;
}

/* Class labels: the run scores a label metric (macro_f1, micro_f1), or every gold is a string
 * and the labels recur (at most 1000 of them, at most a quarter as many as examples). */
static bool golds_are_classes(const struct fe_run *run, const struct fe_record *const *first,
                              size_t n) {
    for (size_t m = 0; m < run->n_metrics; m++) {
        const struct fe_metric *fm = fe_metric_find(run->metrics[m]);
        if (fm && (fm->corpus == FE_CORPUS_MACRO_F1 || fm->corpus == FE_CORPUS_MICRO_F1))
            return true;
    }
    struct fe_strmap labels;
    fe_strmap_init(&labels);
    bool ok = n > 0;
    for (size_t i = 0; i < n && ok; i++) {
        struct fe_record_text t = {0};
        if (first[i])
            fe_run_record_text(run, first[i], &t);
        const cJSON *g = t.gold;
        ok = cJSON_IsString(g) && (fe_strmap_put(&labels, g->valuestring, i), labels.count <= 1000);
        fe_record_text_release(&t);
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

/* The browser's text reader (fe_browser.text): each cell read back from its record when the
 * page is written, so a large run's texts are never all in memory. */
struct ex_text {
    const struct fe_run *run;
    const struct fe_record *const *recs;   /* [a * n + i], NULL: no record */
    const struct fe_record *const *first;  /* the record that speaks for example i */
    size_t n;
    struct fe_record_text t;               /* the last record read */
    char *gold;                            /* the last gold text */
};

static const char *ex_text_cell(void *ctx, enum fe_browser_col col, size_t a, size_t i) {
    struct ex_text *x = ctx;
    fe_record_text_release(&x->t);
    free(x->gold);
    x->gold = NULL;
    const struct fe_record *r = col == FE_BROWSER_OUT ? x->recs[a * x->n + i] : x->first[i];
    if (r)
        fe_run_record_text(x->run, r, &x->t);
    if (col == FE_BROWSER_GOLD)
        return x->gold = r ? fe_report_gold_text(&x->t) : fe_xstrdup("");
    if (col == FE_BROWSER_INPUT)
        return r ? x->t.input : NULL;
    return r ? x->t.prediction : NULL;
}

void fe_report_html_browser(const struct fe_report_view *v, struct fe_buf *b) {
    const struct fe_run *run = v->run;
    size_t n = 0, na = run->n_arms;
    struct ex_key *keys = union_ids(run, &n);
    const struct fe_record **recs = fe_xcalloc(na * n + 1, sizeof(*recs));
    struct fe_record *held = fe_xcalloc(na * n + 1, sizeof(*held)); /* decoded: recs point here */
    const struct fe_record **first = fe_xcalloc(n + 1, sizeof(*first));
    const char **err = fe_xcalloc(na * n + 1, sizeof(*err));
    double *score = fe_xcalloc(na * n + 1, sizeof(*score));
    const char **arms = fe_xcalloc(na + 1, sizeof(*arms));
    bool has_metric = v->primary < run->n_metrics;
    for (size_t a = 0; a < na; a++) {
        arms[a] = run->arms[a].name;
        for (size_t i = 0; i < n; i++) {
            long j = fe_run_find_record(run, a, keys[i].id);
            const struct fe_record *r =
                j >= 0 ? fe_arm_record(&run->arms[a], (size_t)j, &held[a * n + i]) : NULL;
            recs[a * n + i] = r;
            err[a * n + i] = !r ? "missing" : r->ok ? NULL : fe_str_or(fe_run_str(run, r->error_kind), "error");
            score[a * n + i] = r && has_metric ? fe_score(r, v->primary) : NAN;
        }
    }
    const char **ids = fe_xcalloc(n + 1, sizeof(*ids)), **slices = fe_xcalloc(n + 1, sizeof(*slices));
    bool *cut = fe_xcalloc(n + 1, sizeof(*cut));
    bool any_input = false, any_slice = false, any_cut = false;
    for (size_t i = 0; i < n; i++) {
        first[i] = first_record(v, recs, i, n);
        ids[i] = keys[i].id;
        slices[i] = first[i] ? fe_run_str(run, first[i]->slice) : NULL;
        cut[i] = first[i] && first[i]->input_truncated;
        any_input = any_input || (first[i] && first[i]->has_input);
        any_slice = any_slice || slices[i];
        any_cut = any_cut || cut[i];
    }
    struct ex_text x = {.run = run, .recs = recs, .first = first, .n = n};
    struct fe_browser w = {.dom_id = "examples-browser",
                           .title = "Every example",
                           .arms = arms,
                           .n_arms = na,
                           .metric = has_metric ? run->metrics[v->primary] : NULL,
                           .base = v->base,
                           .cand = v->cand,
                           .filter = "all",
                           .n = n,
                           .ids = ids,
                           .slices = any_slice ? slices : NULL,
                           .truncated = any_cut ? cut : NULL,
                           .score = score,
                           .err = err,
                           .text = ex_text_cell,
                           .text_ctx = &x,
                           .has_input = any_input,
                           .classes = golds_are_classes(run, first, n)};
    fe_browser_style(b);
    fe_browser_section(&w, b);
    fe_browser_script(b);
    fe_record_text_release(&x.t);
    free(x.gold);
    free(keys);
    free(recs);
    free(held);
    free(first);
    free(ids);
    free(slices);
    free(cut);
    free(err);
    free(score);
    free(arms);
}
