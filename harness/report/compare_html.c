/* compare_html.c — compare.html (compare_html.h): per arm pair, the examples the candidate broke
 * and fixed, from compare.json's lists (or built one at a time from fe_compare_runs_lists'
 * lists), in the example browser of report_browser.c, written to the file in pieces. */
#include "harness/report/page_write.h"
#include "harness/report/compare_html.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "harness/analysis/compare.h"
#include "harness/base/buf.h"
#include "harness/base/fs.h"
#include "harness/base/log.h"
#include "harness/base/util.h"
#include "harness/report/report_browser.h"
#include "harness/report/report_int.h"

static const char *status_err(const char *status)
{
    if (status && strcmp(status, "ok") == 0)
        return NULL;
    return status ? status : "missing";
}

/* The rows of one arm pair's browser, read one example at a time (fe_browser.text and .num):
 * rows 0 .. n_broke - 1 are the broke list, then the fixed list; each from the result's lists,
 * or built from the runs (lists) when the browser reads it and dropped at the next row. The
 * scores, statuses and cut flags (a few bytes a row) are kept from the first pass, so only the
 * text columns build their rows again. */
enum { ROW_OK, ROW_ERROR, ROW_MISSING, ROW_OTHER };

struct pair_rows {
    const struct fe_compare_arm_view *arm;
    const struct fe_compare_lists *lists;
    size_t k, n_broke;
    long at;                          /* the row held, -1: none */
    cJSON *held;                      /* its entry when built from lists */
    struct fe_compare_example_view e;
    char *gold;                       /* the last gold text handed out */
    double *score;                    /* [a * n + i] */
    unsigned char *status;            /* [a * n + i]: ROW_* */
    bool *cut;
    size_t n;
};

static unsigned char status_code(const char *status)
{
    if (!status)
        return ROW_MISSING; /* status_err: "missing" */
    return strcmp(status, "ok") == 0 ? ROW_OK : strcmp(status, "error") == 0 ? ROW_ERROR
         : strcmp(status, "missing") == 0 ? ROW_MISSING : ROW_OTHER;
}

/* Row i's kept numbers and statuses (the first pass). */
static void row_keep(struct pair_rows *r, size_t i, const struct fe_compare_example_view *e)
{
    r->score[i] = e->baseline_score;
    r->score[r->n + i] = e->candidate_score;
    r->status[i] = status_code(e->baseline_status);
    r->status[r->n + i] = status_code(e->candidate_status);
    r->cut[i] = e->input_truncated;
}

static const struct fe_compare_example_view *row_at(struct pair_rows *r, size_t i)
{
    if (r->at == (long)i)
        return &r->e;
    cJSON_Delete(r->held);
    r->held = NULL;
    r->at = (long)i;
    bool fixed = i >= r->n_broke;
    size_t j = fixed ? i - r->n_broke : i;
    if (r->lists) {
        r->held = fe_compare_lists_example(r->lists, r->k, fixed, j);
        fe_compare_example_view_parse(r->held, &r->e);
    } else {
        r->e = (fixed ? &r->arm->fixed : &r->arm->broke)->examples[j];
    }
    return &r->e;
}

static const char *row_text(void *ctx, enum fe_browser_col col, size_t a, size_t i)
{
    struct pair_rows *r = ctx;
    free(r->gold);
    r->gold = NULL;
    unsigned char st = r->status[a * r->n + i];
    if (col == FE_BROWSER_ERR && st != ROW_OTHER)
        return st == ROW_OK ? NULL : st == ROW_ERROR ? "error" : "missing";
    const struct fe_compare_example_view *e = row_at(r, i);
    switch (col) {
    case FE_BROWSER_ID:
        return fe_str_or(e->id, "");
    case FE_BROWSER_INPUT:
        return e->input;
    case FE_BROWSER_GOLD:
        return r->gold = fe_report_json_text(e->gold);
    case FE_BROWSER_OUT:
        return a ? e->candidate_prediction : e->baseline_prediction;
    case FE_BROWSER_ERR:
        return status_err(a ? e->candidate_status : e->baseline_status);
    default:
        return NULL; /* no slices here */
    }
}

static double row_num(void *ctx, enum fe_browser_col col, size_t a, size_t i)
{
    const struct pair_rows *r = ctx;
    if (col == FE_BROWSER_CUT)
        return r->cut[i];
    return r->score[a * r->n + i];
}

static void pair_section(const struct fe_compare_arm_view *arm, const struct fe_compare_lists *lists,
                         size_t k, const struct fe_page_sink *sink, struct fe_buf *b)
{
    struct pair_rows r = {.arm = arm, .lists = lists, .k = k, .at = -1,
                          .n_broke = lists ? fe_compare_lists_count(lists, k, false)
                                           : arm->broke.n_examples};
    size_t n_fixed = lists ? fe_compare_lists_count(lists, k, true) : arm->fixed.n_examples;
    size_t n = r.n = r.n_broke + n_fixed;
    r.score = fe_xcalloc(2 * n + 1, sizeof(*r.score));
    r.status = fe_xcalloc(2 * n + 1, sizeof(*r.status));
    r.cut = fe_xcalloc(n + 1, sizeof(*r.cut));
    bool any_input = false, any_cut = false;
    for (size_t i = 0; i < n; i++) {
        const struct fe_compare_example_view *e = row_at(&r, i);
        row_keep(&r, i, e);
        any_input = any_input || e->input;
        any_cut = any_cut || e->input_truncated;
    }
    /* the arms' names; the same arm of two runs is told apart by the run */
    const char *an = fe_str_or(arm->baseline_arm, "?"), *bn = fe_str_or(arm->candidate_arm, "?");
    bool same = strcmp(an, bn) == 0;
    char *arm_names[2] = {fe_xasprintf("%s%s", an, same ? " (baseline run)" : ""),
                          fe_xasprintf("%s%s", bn, same ? " (candidate run)" : "")};
    /* every example here is right in exactly one arm: "all wrong" would always be empty */
    static const char *const filters[] = {"all", "broke", "fixed", "errors", NULL};
    char *dom_id = fe_xasprintf("compare-%zu", k);
    char *title = fe_xasprintf("%s: %zu broke, %zu fixed", fe_str_or(arm->name, "?"), r.n_broke,
                               n_fixed);
    struct fe_browser w = {
        .dom_id = dom_id, .title = title, .metric = fe_str_or(arm->broke.metric, "score"),
        .arms = (const char *const *)arm_names, .n_arms = 2, .base = 0, .cand = 1,
        .filter = "broke", .filters = filters, .n = n, .text = row_text, .num = row_num,
        .text_ctx = &r, .has_input = any_input, .has_cut = any_cut, .sink = sink};
    fe_browser_section(&w, b);
    cJSON_Delete(r.held);
    free(r.gold);
    free(r.score);
    free(r.status);
    free(r.cut);
    free(arm_names[0]);
    free(arm_names[1]);
    free(dom_id);
    free(title);
}

static void page(const struct fe_compare_view *v, const struct fe_compare_lists *lists,
                 const struct fe_page_sink *sink, struct fe_buf *b)
{
    fe_buf_adds(b, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
                   "<meta http-equiv=\"Content-Security-Policy\" content=\"");
    fe_browser_csp(b);
    fe_buf_adds(b, "\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
                   "<title>fteval compare</title>\n<style>body{font:15px/1.45 system-ui,sans-serif;"
                   "color:#1d2433;max-width:1200px;margin:24px auto;padding:0 16px}"
                   "h1{font-size:1.5em}h2{font-size:1.2em;margin-top:1.6em}.meta{color:#5b6475;"
                   "font-size:.9em}table{border-collapse:collapse;width:100%}"
                   "th,td{border:1px solid #dde2ea;padding:5px 8px;text-align:left;"
                   "vertical-align:top;"
                   "overflow-wrap:break-word}th{background:#f4f6fa}code{background:#f4f6fa}"
                   "</style>\n");
    fe_browser_style(b);
    fe_buf_adds(b, "</head>\n<body>\n<h1>fteval compare: broke and fixed examples</h1>\n"
                   "<p class=\"meta\">Baseline <code>");
    fe_buf_add_html(b, fe_str_or(v->baseline_dir, "?"));
    fe_buf_adds(b, "</code>, candidate <code>");
    fe_buf_add_html(b, fe_str_or(v->candidate_dir, "?"));
    fe_buf_adds(b, "</code>. Verdict: <strong>");
    fe_buf_add_html(b, fe_str_or(v->verdict, "none"));
    fe_buf_adds(b, "</strong>. <em>Broke</em>: right (score at least 0.5) in the baseline, wrong "
                   "in the candidate; <em>fixed</em>: the reverse (docs/nightly.md &sect;3). "
                   "Every number is in compare.json beside this file.</p>\n");
    if (v->n_arms == 0)
        fe_buf_adds(b, "<p>No arm pair was compared.</p>\n");
    for (size_t a = 0; a < v->n_arms; a++)
        pair_section(&v->arms[a], lists, a, sink, b);
    fe_browser_script(b);
    fe_buf_adds(b, "<footer class=\"meta\"><p>Generated by fteval. This page loads nothing from "
                   "the network.</p></footer>\n</body>\n</html>\n");
}

struct compare_page {
    const struct fe_compare_view *v;
    const struct fe_compare_lists *lists;
};

static void render_page(const void *ctx, struct fe_page_sink *sink, struct fe_buf *b)
{
    const struct compare_page *c = ctx;
    page(c->v, c->lists, sink, b);
}

enum fe_status fe_compare_html_write(const cJSON *result, const struct fe_compare_lists *lists,
                                     const char *dir, struct fe_err *err)
{
    char *path = fe_xasprintf("%s/compare.html", dir);
    struct fe_compare_view v;
    fe_compare_view_parse(result, &v);
    struct compare_page c = {&v, lists};
    enum fe_status st = fe_page_write(path, render_page, &c, err); /* redacted in pieces */
    fe_compare_view_release(&v);
    free(path);
    return st;
}
