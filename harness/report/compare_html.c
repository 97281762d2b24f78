/* compare_html.c — compare.html (compare_html.h): per arm pair, the examples the candidate broke
 * and fixed, from compare.json's lists, in the example browser of report_browser.c. */
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

/* The columns of one arm pair's browser, owned here. */
struct pair_cols {
    const char **ids, **inputs, **out, **err;
    char **golds;
    bool *cut;
    double *score;
    size_t n;
};

static const char *status_err(const char *status)
{
    if (status && strcmp(status, "ok") == 0)
        return NULL;
    return status ? status : "missing";
}

static void add_example(struct pair_cols *c, const struct fe_compare_example_view *e, size_t n)
{
    size_t i = c->n++;
    c->ids[i] = fe_str_or(e->id, "");
    c->inputs[i] = e->input;
    c->cut[i] = e->input_truncated;
    c->golds[i] = fe_report_json_text(e->gold);
    c->out[i] = e->baseline_prediction;
    c->out[n + i] = e->candidate_prediction;
    c->err[i] = status_err(e->baseline_status);
    c->err[n + i] = status_err(e->candidate_status);
    c->score[i] = e->baseline_score;
    c->score[n + i] = e->candidate_score;
}

/* The broke (f 0) and fixed (f 1) lists of arm pair k: the result's, or with lists every
 * example built from the runs into *hold (deleted by the caller) and parsed into lv. */
static void pair_lists(const struct fe_compare_arm_view *arm, const struct fe_compare_lists *lists,
                       size_t k, cJSON **hold, struct fe_compare_list_view lv[2])
{
    *hold = NULL;
    lv[0] = arm->broke;
    lv[1] = arm->fixed;
    if (!lists)
        return;
    *hold = cJSON_CreateArray();
    for (int f = 0; f < 2; f++) {
        cJSON *l = cJSON_CreateObject(), *ex = cJSON_AddArrayToObject(l, "examples");
        cJSON_AddItemToArray(*hold, l);
        for (size_t i = 0; i < fe_compare_lists_count(lists, k, f); i++)
            cJSON_AddItemToArray(ex, fe_compare_lists_example(lists, k, f, i));
        memset(&lv[f], 0, sizeof(lv[f]));
        fe_compare_list_view_parse(l, &lv[f]);
        lv[f].metric = (f ? arm->fixed : arm->broke).metric;
    }
}

static void pair_section(const struct fe_compare_arm_view *arm,
                         const struct fe_compare_lists *lists, size_t k, struct fe_buf *b)
{
    cJSON *hold;
    struct fe_compare_list_view lv[2];
    pair_lists(arm, lists, k, &hold, lv);
    const struct fe_compare_list_view *broke = &lv[0], *fixed = &lv[1];
    size_t n = broke->n_examples + fixed->n_examples;
    struct pair_cols c = {
        .ids = fe_xcalloc(n + 1, sizeof(char *)), .inputs = fe_xcalloc(n + 1, sizeof(char *)),
        .out = fe_xcalloc(2 * n + 1, sizeof(char *)), .err = fe_xcalloc(2 * n + 1, sizeof(char *)),
        .golds = fe_xcalloc(n + 1, sizeof(char *)), .cut = fe_xcalloc(n + 1, sizeof(bool)),
        .score = fe_xcalloc(2 * n + 1, sizeof(double))};
    for (size_t i = 0; i < broke->n_examples; i++)
        add_example(&c, &broke->examples[i], n);
    for (size_t i = 0; i < fixed->n_examples; i++)
        add_example(&c, &fixed->examples[i], n);
    bool any_input = false, any_cut = false;
    for (size_t i = 0; i < n; i++) {
        any_input = any_input || c.inputs[i];
        any_cut = any_cut || c.cut[i];
    }
    /* the arms' names; the same arm of two runs is told apart by the run */
    const char *an = fe_str_or(arm->baseline_arm, "?"), *bn = fe_str_or(arm->candidate_arm, "?");
    bool same = strcmp(an, bn) == 0;
    char *arm_names[2] = {fe_xasprintf("%s%s", an, same ? " (baseline run)" : ""),
                          fe_xasprintf("%s%s", bn, same ? " (candidate run)" : "")};
    /* every example here is right in exactly one arm: "all wrong" would always be empty */
    static const char *const filters[] = {"all", "broke", "fixed", "errors", NULL};
    char *dom_id = fe_xasprintf("compare-%zu", k);
    char *title = fe_xasprintf("%s: %zu broke, %zu fixed", fe_str_or(arm->name, "?"),
                               broke->n_examples, fixed->n_examples);
    struct fe_browser w = {
        .dom_id = dom_id, .title = title, .metric = fe_str_or(broke->metric, "score"),
        .arms = (const char *const *)arm_names, .n_arms = 2, .base = 0, .cand = 1,
        .filter = "broke", .filters = filters, .n = n, .ids = c.ids,
        .inputs = any_input ? c.inputs : NULL,
        .truncated = any_cut ? c.cut : NULL, .golds = (const char *const *)c.golds,
        .out = c.out, .score = c.score, .err = c.err};
    fe_browser_section(&w, b);
    for (size_t i = 0; i < n; i++)
        free(c.golds[i]);
    free(c.golds);
    free(c.ids);
    free(c.inputs);
    free(c.out);
    free(c.err);
    free(c.cut);
    free(c.score);
    free(arm_names[0]);
    free(arm_names[1]);
    free(dom_id);
    free(title);
    if (hold) {
        free(lv[0].examples);
        free(lv[1].examples);
        cJSON_Delete(hold);
    }
}

static void page(const struct fe_compare_view *v, const struct fe_compare_lists *lists,
                 struct fe_buf *b)
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
        pair_section(&v->arms[a], lists, a, b);
    fe_browser_script(b);
    fe_buf_adds(b, "<footer class=\"meta\"><p>Generated by fteval. This page loads nothing from "
                   "the network.</p></footer>\n</body>\n</html>\n");
}

enum fe_status fe_compare_html_write(const cJSON *result, const struct fe_compare_lists *lists,
                                     const char *dir, struct fe_err *err)
{
    struct fe_compare_view v;
    fe_compare_view_parse(result, &v);
    struct fe_buf b = {0};
    page(&v, lists, &b);
    fe_compare_view_release(&v);
    fe_redact_buf(&b); /* nothing secret is written (issue 11 §6) */
    char *path = fe_xasprintf("%s/compare.html", dir);
    enum fe_status st = fe_write_file_atomic(path, fe_buf_str(&b), b.len, err);
    free(path);
    fe_buf_release(&b);
    return st;
}
