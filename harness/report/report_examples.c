/* report_examples.c — report.html's example browser (fe_report_html_browser, report_browser.h):
 * every example of the run, the union of the ids of all arms in dataset order, with its input,
 * gold and slice, and per arm the output, the primary-metric score and the error. Input, its
 * cut flag and the slice come from the records ("input", "input_truncated", "slice"); a run
 * whose records carry none shows "(no input recorded)".
 * Memory (issue 14): nothing is held per example. The browser reads every cell through a cursor
 * that walks the examples in order, a merge of the arms' records (each arm is in dataset order,
 * rundir.h), holding per arm a record index. Errors: none (an arm out of dataset order, which
 * fe_run_load never gives, aborts). */
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "harness/base/jsonout.h"
#include "harness/base/log.h"
#include "harness/base/strmap.h"
#include "harness/base/util.h"
#include "harness/report/report_browser.h"
#include "harness/report/report_int.h"
#include "metrics/metric.h"

/* Dataset order: line (none last), then id. */
static int cmp_key(long line_x, const char *id_x, long line_y, const char *id_y)
{
    long lx = line_x < 0 ? LONG_MAX : line_x, ly = line_y < 0 ? LONG_MAX : line_y;
    if (lx != ly)
        return lx < ly ? -1 : 1;
    return strcmp(id_x, id_y);
}

/* The examples in order: the union of the arms' ids, each once, sorted by (line, id) where the
 * line is that of the first arm (in run order) holding the id. The record of id in arm a is
 * fe_run_find_record's. */
struct ex_cursor {
    const struct fe_report_view *v;
    const struct fe_run *run;
    size_t na;
    size_t *pos;        /* per arm: its next record not yet merged */
    long *at;           /* per arm: the current example's record, -1: none */
    size_t i;           /* the current example; SIZE_MAX: before the first */
    const char *id;     /* its id (owned by the run) */
    long line;
    long first_arm, first_rec; /* the record that speaks for it (first_record), -1: none */
    struct fe_record_text t;   /* the last record read */
    char *gold;                /* the last gold text */
};

/* Record r of arm a is where its example is merged: the first arm holding its id is a. */
static bool merged_here(const struct ex_cursor *c, size_t a, const struct fe_record *r)
{
    if (!r->id)
        return false;
    for (size_t b = 0; b < a; b++)
        if (fe_run_find_record(c->run, b, r->id) >= 0)
            return false;
    return true;
}

/* Moves arm a's next record to one merged there (or past its end). */
static void settle(struct ex_cursor *c, size_t a)
{
    const struct fe_arm_run *arm = &c->run->arms[a];
    while (c->pos[a] < arm->n && !merged_here(c, a, fe_arm_rec(arm, c->pos[a])))
        c->pos[a]++;
}

static void ex_rewind(struct ex_cursor *c)
{
    for (size_t a = 0; a < c->na; a++) {
        c->pos[a] = 0;
        settle(c, a);
    }
    c->i = SIZE_MAX;
    c->id = NULL;
}

/* The record that speaks for the example: the candidate's, else the baseline's, else any. */
static void first_record(struct ex_cursor *c)
{
    long cand = c->v->cand, base = c->v->base;
    c->first_arm = cand >= 0 && c->at[cand] >= 0 ? cand : base >= 0 && c->at[base] >= 0 ? base : -1;
    for (size_t a = 0; c->first_arm < 0 && a < c->na; a++)
        if (c->at[a] >= 0)
            c->first_arm = (long)a;
    c->first_rec = c->first_arm >= 0 ? c->at[c->first_arm] : -1;
}

/* The next example; false past the last. */
static bool ex_next(struct ex_cursor *c)
{
    long best = -1, best_line = 0;
    const char *best_id = NULL;
    for (size_t a = 0; a < c->na; a++) {
        if (c->pos[a] >= c->run->arms[a].n)
            continue;
        const struct fe_record *r = fe_arm_rec(&c->run->arms[a], c->pos[a]);
        if (best < 0 || cmp_key(r->line, r->id, best_line, best_id) < 0) {
            best = (long)a;
            best_line = r->line;
            best_id = r->id;
        }
    }
    if (best < 0)
        return false;
    if (c->id && cmp_key(c->line, c->id, best_line, best_id) >= 0) {
        fe_error("report: arm '%s' is not in dataset order at id '%s'", c->run->arms[best].name,
                 best_id);
        abort();
    }
    c->id = best_id;
    c->line = best_line;
    c->i = c->i == SIZE_MAX ? 0 : c->i + 1;
    for (size_t a = 0; a < c->na; a++)
        c->at[a] = fe_run_find_record(c->run, a, c->id);
    first_record(c);
    c->pos[best]++;
    settle(c, (size_t)best);
    return true;
}

/* Makes example i the current one: sequential reads cost one step each. */
static void ex_seek(struct ex_cursor *c, size_t i)
{
    if (c->i != SIZE_MAX && c->i == i)
        return;
    if (c->i == SIZE_MAX || c->i > i)
        ex_rewind(c);
    while ((c->i == SIZE_MAX || c->i < i) && ex_next(c))
        ;
    if (c->i != i) {
        fe_error("report: example %zu is past the last", i);
        abort();
    }
}

/* Record of arm a (a < 0: none) into buf; NULL when the example has none there. */
static const struct fe_record *ex_rec(const struct ex_cursor *c, long a, struct fe_record *buf)
{
    if (a < 0 || c->at[a] < 0)
        return NULL;
    return fe_arm_record(&c->run->arms[a], (size_t)c->at[a], buf);
}

/* The browser's text reader (fe_browser.text): each cell read back from its record when the
 * page is written, so a large run's texts are never all in memory. */
static const char *ex_text_cell(void *ctx, enum fe_browser_col col, size_t a, size_t i)
{
    struct ex_cursor *x = ctx;
    ex_seek(x, i);
    fe_record_text_release(&x->t);
    free(x->gold);
    x->gold = NULL;
    struct fe_record buf;
    long arm = col == FE_BROWSER_OUT || col == FE_BROWSER_ERR ? (long)a : x->first_arm;
    const struct fe_record *r = ex_rec(x, arm, &buf);
    switch (col) {
    case FE_BROWSER_ID:
        return x->id;
    case FE_BROWSER_SLICE:
        return r ? fe_run_str(x->run, r->slice) : NULL;
    case FE_BROWSER_ERR:
        return !r ? "missing" : r->ok ? NULL : fe_str_or(fe_run_str(x->run, r->error_kind), "error");
    default:
        break;
    }
    if (r)
        fe_run_record_text(x->run, r, &x->t);
    if (col == FE_BROWSER_GOLD)
        return x->gold = r ? fe_report_gold_text(&x->t) : fe_xstrdup("");
    if (col == FE_BROWSER_INPUT)
        return r ? x->t.input : NULL;
    return r ? x->t.prediction : NULL;
}

/* The browser's number reader (fe_browser.num): the primary score of arm a, the cut flag. */
static double ex_num_cell(void *ctx, enum fe_browser_col col, size_t a, size_t i)
{
    struct ex_cursor *x = ctx;
    ex_seek(x, i);
    struct fe_record buf;
    const struct fe_record *r = ex_rec(x, col == FE_BROWSER_SCORE ? (long)a : x->first_arm, &buf);
    if (col == FE_BROWSER_CUT)
        return r && r->input_truncated;
    return r && x->v->primary < x->run->n_metrics ? r->scores[x->v->primary] : NAN;
}

/* Class labels: the run scores a label metric (macro_f1, micro_f1), or every gold is a string
 * and the labels recur (at most 1000 of them, at most a quarter as many as examples). */
static bool golds_are_classes(struct ex_cursor *c, size_t n)
{
    const struct fe_run *run = c->run;
    for (size_t m = 0; m < run->n_metrics; m++) {
        const struct fe_metric *fm = fe_metric_find(run->metrics[m]);
        if (fm && (fm->corpus == FE_CORPUS_MACRO_F1 || fm->corpus == FE_CORPUS_MICRO_F1))
            return true;
    }
    struct fe_strmap labels;
    fe_strmap_init(&labels);
    bool ok = n > 0;
    for (size_t i = 0; i < n && ok; i++) {
        ex_seek(c, i);
        struct fe_record_text t = {0};
        struct fe_record buf;
        const struct fe_record *r = ex_rec(c, c->first_arm, &buf);
        if (r)
            fe_run_record_text(run, r, &t);
        const cJSON *g = t.gold;
        ok = cJSON_IsString(g) && (fe_strmap_put(&labels, g->valuestring, i), labels.count <= 1000);
        fe_record_text_release(&t);
    }
    ok = ok && labels.count * 4 <= n;
    fe_strmap_release(&labels);
    return ok;
}

void fe_report_html_browser(const struct fe_report_view *v, struct fe_buf *b,
                            const struct fe_page_sink *sink)
{
    const struct fe_run *run = v->run;
    size_t na = run->n_arms, n = 0;
    struct ex_cursor x = {.v = v, .run = run, .na = na, .pos = fe_xcalloc(na + 1, sizeof(size_t)),
                          .at = fe_xcalloc(na + 1, sizeof(long))};
    const char **arms = fe_xcalloc(na + 1, sizeof(*arms));
    for (size_t a = 0; a < na; a++)
        arms[a] = run->arms[a].name;
    bool has_metric = v->primary < run->n_metrics;
    bool any_input = false, any_slice = false, any_cut = false;
    struct fe_record buf;
    for (ex_rewind(&x); ex_next(&x); n++) { /* the count, and which columns are written */
        const struct fe_record *r = ex_rec(&x, x.first_arm, &buf);
        any_input = any_input || (r && r->has_input);
        any_slice = any_slice || (r && fe_run_str(run, r->slice));
        any_cut = any_cut || (r && r->input_truncated);
    }
    struct fe_browser w = {.dom_id = "examples-browser",
                           .title = "Every example",
                           .arms = arms,
                           .n_arms = na,
                           .metric = has_metric ? run->metrics[v->primary] : NULL,
                           .base = v->base,
                           .cand = v->cand,
                           .filter = "all",
                           .n = n,
                           .text = ex_text_cell,
                           .num = ex_num_cell,
                           .text_ctx = &x,
                           .has_input = any_input,
                           .has_slice = any_slice,
                           .has_cut = any_cut,
                           .sink = sink,
                           .classes = golds_are_classes(&x, n)};
    fe_browser_style(b);
    fe_browser_section(&w, b);
    fe_browser_script(b);
    fe_record_text_release(&x.t);
    free(x.gold);
    free(x.pos);
    free(x.at);
    free(arms);
}
