/* report_html.c — report.html: one self-contained page for a product manager. Inline CSS and
 * SVG, and one inline script (the example browser, report_browser.c); a Content-Security-Policy
 * allows that script by its hash and forbids every other script and every network fetch, so
 * even a string that escaped escaping could not run or phone home. Every data string goes
 * through fe_buf_add_html (or, in the browser's JSON, the script-safe escaping). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness/analysis/decision.h"
#include "harness/base/jsonout.h"
#include "harness/analysis/history.h"
#include "harness/report/report_browser.h"
#include "harness/report/report_distill.h"
#include "harness/report/report_int.h"
#include "harness/report/report_judges.h"
#include "harness/report/report_render.h"

static void h(struct fe_buf *b, const char *s)
{
    fe_buf_add_html(b, s ? s : "");
}

static const char css[] =
    "body{font:15px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;color:#1d2433;"
    "max-width:1000px;margin:24px auto;padding:0 16px;background:#fff}"
    "h1{font-size:1.6em;margin:.2em 0}h2{font-size:1.25em;margin:1.6em 0 .5em;border-bottom:1px "
    "solid #dde2ea;padding-bottom:.2em}h3{font-size:1.05em}"
    ".meta{color:#5b6475;font-size:.9em}"
    ".verdict{border-radius:8px;padding:14px 18px;margin:16px 0;border:2px solid}"
    ".verdict h2{border:0;margin:0 0 .3em;font-size:1.4em}"
    ".v-ship{background:#e8f6ec;border-color:#3ca951}.v-keep{background:#fdecea;border-color:#"
    "d9534f}"
    ".v-inc{background:#fff7e0;border-color:#efb118}.v-none{background:#f2f4f7;border-color:#aab}"
    ".v-invalid{background:#fbe3e1;border-color:#b52a1f}"
    "table{border-collapse:collapse;width:100%;margin:8px 0;font-size:.92em}"
    "th,td{border:1px solid #dde2ea;padding:5px 8px;text-align:left;vertical-align:top;"
    "overflow-wrap:break-word}th{background:#f4f6fa}td.num{text-align:right;white-space:nowrap}"
    ".sig{color:#1e7b34;font-weight:600}.worse{color:#b52a1f;font-weight:600}.ns{color:#5b6475}"
    "svg.chart{max-width:100%;height:auto;display:block;margin:8px 0}"
    "svg .frame{fill:#fff;stroke:#e3e7ee}svg .grid{stroke:#eceff4}svg .axis{stroke:#8a93a6;"
    "fill:none}svg text{font:12px system-ui,sans-serif;fill:#1d2433}svg .tick{fill:#5b6475;"
    "font-size:11px}svg .msg{fill:#5b6475;font-size:14px}svg .note{fill:#8a5a00;font-size:11px}"
    "svg .group{font-weight:600}svg .err{stroke:#1d2433;stroke-width:1.6;fill:none}"
    "svg .whisker{stroke:#39404f;stroke-width:1.4;fill:none}svg .box{stroke:#39404f;"
    "fill-opacity:.75}svg .median{stroke:#111;stroke-width:2.5}svg .pt{stroke:#1d2433}"
    "svg .axislabel{fill:#39404f}"
    ".score5{background:#e8f6ec}.score3{background:#fff7e0}.score1{background:#fdecea}"
    "code{background:#f4f6fa;padding:0 3px;border-radius:3px}footer{margin-top:2em;color:#5b6475;"
    "font-size:.85em}";

static void html_header(const struct fe_report_view *v, struct fe_buf *b)
{
    fe_buf_adds(b, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
                   "<meta http-equiv=\"Content-Security-Policy\" content=\"");
    fe_browser_csp(b); /* no source but inline CSS, data: images and the browser's one script */
    fe_buf_adds(b, "\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
                   "<title>fteval report");
    if (v->manifest.name) {
        fe_buf_adds(b, ": ");
        h(b, v->manifest.name);
    }
    fe_buf_addf(b, "</title>\n<style>%s</style>\n</head>\n<body>\n<header>\n<h1>fteval report",
                css);
    if (v->manifest.name) {
        fe_buf_adds(b, ": ");
        h(b, v->manifest.name);
    }
    fe_buf_adds(b, "</h1>\n<p class=\"meta\">Run <code>");
    h(b, fe_str_or(v->manifest.run_id, "(unknown id)"));
    fe_buf_adds(b, "</code>");
    if (v->manifest.started_at) {
        fe_buf_adds(b, " &middot; started ");
        h(b, v->manifest.started_at);
    }
    if (v->manifest.dataset_path) {
        fe_buf_adds(b, " &middot; dataset <code>");
        h(b, v->manifest.dataset_path);
        fe_buf_adds(b, "</code>");
    }
    if (fe_has(v->manifest.dataset_examples) && v->manifest.dataset_examples >= 0)
        fe_buf_addf(b, " (%.0f examples)", v->manifest.dataset_examples);
    fe_buf_adds(b, "</p>\n</header>\n");
}

static void html_verdict(const struct fe_report_view *v, struct fe_buf *b)
{
    const struct fe_decision_view *d = v->decision;
    const char *verdict = d->verdict;
    const char *cls = !verdict                                 ? "v-none"
                      : strcmp(verdict, "ship_candidate") == 0 ? "v-ship"
                      : strcmp(verdict, "keep_baseline") == 0  ? "v-keep"
                      : strcmp(verdict, "incomplete") == 0     ? "v-none"    /* grey: no verdict */
                      : strcmp(verdict, "invalid") == 0        ? "v-invalid" /* red: no verdict */
                                                               : "v-inc";
    fe_buf_addf(b, "<section class=\"verdict %s\" id=\"verdict\">\n<h2>Verdict: ", cls);
    h(b, fe_report_verdict_text(verdict));
    fe_buf_adds(b, "</h2>\n");
    if (!d->present) {
        fe_buf_adds(b, v->n_arms < 2 ? "<p>A decision needs at least two arms.</p>\n"
                                     : "<p>No decision could be made from this run.</p>\n");
        fe_buf_adds(b, "</section>\n");
        return;
    }
    fe_buf_adds(b, "<p>Candidate <strong>");
    h(b, d->candidate_arm);
    fe_buf_adds(b, "</strong> against baseline <strong>");
    h(b, d->baseline_arm);
    fe_buf_adds(b, "</strong>");
    if (d->metric) {
        fe_buf_adds(b, " on <strong>");
        h(b, d->metric);
        fe_buf_adds(b, "</strong>");
    }
    fe_buf_adds(b, " <code>");
    h(b, verdict);
    fe_buf_adds(b, "</code></p>\n<ul>\n");
    for (size_t i = 0; i < d->n_reasons; i++) {
        fe_buf_adds(b, "<li>");
        h(b, d->reasons[i]);
        fe_buf_adds(b, "</li>\n");
    }
    fe_buf_adds(b, "</ul>\n</section>\n");
}

static void html_arms(const struct fe_report_view *v, struct fe_buf *b)
{
    const struct fe_run *run = v->run;
    fe_buf_adds(b, "<section id=\"arms\">\n<h2>Arms</h2>\n");
    if (v->n_arms == 0) {
        fe_buf_adds(b, "<p>This run has no arms.</p>\n</section>\n");
        return;
    }
    fe_buf_adds(b, "<table>\n<tr><th>arm</th><th>model</th><th>n</th><th>errors</th>");
    for (size_t m = 0; m < run->n_metrics; m++) {
        fe_buf_adds(b, "<th>");
        h(b, fe_metric_label(run->metrics[m]));
        fe_buf_adds(b, " (95% CI)</th>");
    }
    fe_buf_adds(b, "<th>cost / inference</th><th>p50 latency</th><th>p95 latency</th></tr>\n");
    for (size_t a = 0; a < v->n_arms; a++) {
        const struct fe_report_arm *r = &v->arms[a];
        char s[64];
        fe_buf_adds(b, "<tr><td>");
        h(b, r->name);
        fe_buf_adds(b, "</td><td><code>");
        h(b, r->model ? r->model : "?");
        fe_buf_addf(b, "</code></td><td class=\"num\">%zu</td><td class=\"num\">%zu</td>", r->n,
                    r->n_errors);
        for (size_t m = 0; m < run->n_metrics; m++) {
            const struct fe_report_metric *rm = &r->metrics[m];
            fe_report_pct(s, sizeof(s), rm->has_mean, rm->mean);
            fe_buf_addf(b, "<td class=\"num\">%s", s);
            if (rm->has_ci)
                fe_buf_addf(b, " <span class=\"ns\">(%.1f&ndash;%.1f)</span>", rm->lo * 100,
                            rm->hi * 100);
            fe_buf_adds(b, "</td>");
        }
        fe_report_usd(s, sizeof(s), r->priced, r->per_inference);
        fe_buf_addf(b, "<td class=\"num\">%s</td>", r->priced ? s : "unknown price");
        if (r->has_latency)
            fe_buf_addf(b, "<td class=\"num\">%.0f ms</td><td class=\"num\">%.0f ms</td></tr>\n",
                        r->lat_p50, r->lat_p95);
        else
            fe_buf_adds(b, "<td class=\"num\">n/a</td><td class=\"num\">n/a</td></tr>\n");
    }
    char spend[64], budget[64];
    fe_report_usd(spend, sizeof(spend), v->has_spend, v->spend_usd);
    fe_report_usd(budget, sizeof(budget), v->has_budget, v->budget_usd);
    fe_buf_addf(b, "</table>\n<p>This evaluation cost %s (budget: %s).</p>\n",
                v->has_spend ? spend : "an unknown amount", v->has_budget ? budget : "not set");
    fe_buf_adds(b, "<p class=\"meta\">Metric values are means over all examples, in percent "
                   "(failed calls score 0 and stay in the denominator). Latency covers "
                   "successful, uncached calls.</p>\n</section>\n");
}

static void html_comparisons(const struct fe_report_view *v, struct fe_buf *b)
{
    fe_buf_adds(b, "<section id=\"comparisons\">\n<h2>Comparisons</h2>\n");
    if (v->summary.n_comparisons == 0) {
        fe_buf_adds(b, "<p>No paired comparisons in this run.</p>\n</section>\n");
        return;
    }
    fe_buf_adds(b, "<table>\n<tr><th>result</th><th>difference</th><th>95% CI</th>"
                   "<th>p (adjusted)</th><th>MDE</th></tr>\n");
    for (size_t i = 0; i < v->summary.n_comparisons; i++) {
        const struct fe_summary_comparison *c = &v->summary.comparisons[i];
        double p = fe_has(c->p_adjusted) ? c->p_adjusted : c->p_bootstrap;
        bool sig = c->has_significant && c->significant;
        const char *cls = !sig ? "ns" : c->delta > 0 ? "sig" : "worse";
        char *s = fe_comparison_sentence_view(c);
        fe_buf_addf(b, "<tr><td class=\"%s\">", cls);
        h(b, s);
        free(s);
        fe_buf_adds(b, "</td><td class=\"num\">");
        if (fe_has(c->delta))
            fe_buf_addf(b, "%+.1f pts", c->delta * 100);
        else
            fe_buf_adds(b, "n/a");
        fe_buf_adds(b, "</td><td class=\"num\">");
        if (fe_has(c->ci_lo))
            fe_buf_addf(b, "%+.1f to %+.1f", c->ci_lo * 100, c->ci_hi * 100);
        else
            fe_buf_adds(b, "n/a");
        fe_buf_adds(b, "</td><td class=\"num\">");
        if (fe_has(p)) {
            if (p < 0.001)
                fe_buf_adds(b, "&lt;0.001");
            else
                fe_buf_addf(b, "%.3f", p);
        } else {
            fe_buf_adds(b, "n/a");
        }
        fe_buf_adds(b, "</td><td class=\"num\">");
        if (fe_has(c->mde))
            fe_buf_addf(b, "%.1f pts", c->mde * 100);
        else
            fe_buf_adds(b, "n/a");
        fe_buf_adds(b, "</td></tr>\n");
    }
    fe_buf_adds(b, "</table>\n<p class=\"meta\">Paired by example; p-values adjusted for "
                   "multiple comparisons. The MDE is the smallest difference this run could "
                   "reliably detect: \"no significant difference\" does not mean \"no "
                   "difference\" below it.</p>\n</section>\n");
}

static void html_charts(const struct fe_report_view *v, struct fe_buf *b)
{
    fe_buf_adds(b, "<section id=\"charts\">\n<h2>Quality per arm</h2>\n");
    fe_svg_quality(v, b);
    fe_buf_adds(b, "<h2>Cost vs quality</h2>\n");
    fe_svg_cost_quality(v, b);
    fe_buf_adds(b, "<h2>Latency distribution</h2>\n");
    fe_svg_latency(v, b);
    fe_buf_adds(b, "<h2>Trend over runs</h2>\n");
    struct fe_err herr = {0};
    cJSON *history = fe_history_load(v->run->dir, &herr); /* absent history: the chart says so */
    struct fe_history_view hv;
    fe_history_view_parse(history, &hv);
    fe_svg_trend(v, &hv, b);
    fe_history_view_release(&hv);
    cJSON_Delete(history);
    fe_buf_adds(b, "</section>\n");
}

/* Corpus-level metrics: per arm the confusion heatmap and per-class F1 of the first label
 * metric, the entity counts of entity_f1. Nothing when the run has no corpus metric. */
static void html_corpus(const struct fe_report_view *v, struct fe_buf *b)
{
    const struct fe_run *run = v->run;
    bool classes_done = false, open = false;
    for (size_t m = 0; m < run->n_metrics; m++) {
        bool any = false, labels = false;
        for (size_t a = 0; a < v->summary.n_arms && v->summary.arms; a++) {
            any = any || v->summary.arms[a].metrics[m].corpus;
            labels = labels || v->summary.arms[a].metrics[m].n_classes > 0;
        }
        if (!any || (labels && classes_done))
            continue;
        if (!open) {
            fe_buf_adds(b, "<section id=\"corpus\">\n<h2>Corpus-level metrics</h2>\n");
            open = true;
        }
        for (size_t a = 0; a < v->summary.n_arms; a++) {
            const struct fe_summary_metric *sm = &v->summary.arms[a].metrics[m];
            if (!sm->corpus)
                continue;
            if (sm->n_classes > 0) {
                fe_buf_adds(b, "<h3>");
                fe_buf_add_html(b, run->arms[a].name);
                fe_buf_addf(b, ": %zu classes</h3>\n", sm->n_classes);
                fe_svg_confusion(v, a, m, b);
                if (sm->conf_note) {
                    fe_buf_adds(b, "<p class=\"note\">");
                    fe_buf_add_html(b, sm->conf_note);
                    fe_buf_adds(b, "</p>\n");
                }
                fe_buf_adds(b, "<table><tr><th>label</th><th>precision</th><th>recall</th>"
                               "<th>F1</th><th>support</th><th>predicted</th></tr>\n");
                for (size_t k = 0; k < sm->n_classes; k++) {
                    const struct fe_summary_class *c = &sm->classes[k];
                    fe_buf_adds(b, "<tr><td>");
                    fe_buf_add_html(b, fe_str_or(c->label, "?"));
                    fe_buf_addf(b,
                                "</td><td class=\"num\">%.1f</td><td class=\"num\">%.1f</td>"
                                "<td class=\"num\">%.1f</td><td class=\"num\">%.0f</td>"
                                "<td class=\"num\">%.0f</td></tr>\n",
                                100 * c->precision, 100 * c->recall, 100 * c->f1, c->support,
                                c->predicted);
                }
                fe_buf_adds(b, "</table>\n");
            } else if (fe_has(sm->ent_tp)) {
                fe_buf_adds(b, "<p>");
                fe_buf_add_html(b, run->arms[a].name);
                fe_buf_adds(b, ", ");
                fe_buf_add_html(b, run->metrics[m]);
                fe_buf_addf(b, " (exact span and type): P %.2f, R %.2f, F1 %.2f (tp %.0f, "
                               "predicted %.0f, gold %.0f)</p>\n",
                            100 * sm->ent_precision, 100 * sm->ent_recall, 100 * sm->ent_f1,
                            sm->ent_tp, sm->ent_pred, sm->ent_gold);
            }
        }
        if (labels)
            classes_done = true;
    }
    if (open)
        fe_buf_adds(b, "</section>\n");
}

static void money_row(struct fe_buf *b, const char *label, double usd)
{
    char s[64];
    fe_report_usd(s, sizeof(s), fe_has(usd), usd);
    fe_buf_addf(b, "<tr><th>%s</th><td class=\"num\">%s</td></tr>\n", label,
                fe_has(usd) ? s : "unknown");
}

static void html_break_even(const struct fe_report_view *v, struct fe_buf *b)
{
    const struct fe_decision_view *be = v->decision;
    fe_buf_adds(b, "<section id=\"break-even\">\n<h2>Break-even</h2>\n");
    if (!be->has_break_even) {
        fe_buf_adds(b, "<p>Not available for this run.</p>\n</section>\n");
        return;
    }
    fe_buf_adds(b, "<table>\n");
    money_row(b, "training cost", be->training_cost_usd);
    money_row(b, "savings per request (baseline &minus; candidate)", be->savings_per_request_usd);
    if (fe_has(be->break_even_requests))
        fe_buf_addf(b, "<tr><th>break-even after</th><td class=\"num\">%.0f requests</td></tr>\n",
                    be->break_even_requests);
    else
        fe_buf_adds(b, "<tr><th>break-even</th><td>none: the candidate does not save money per "
                       "request, or a cost is unknown</td></tr>\n");
    if (fe_has(be->requests_per_month)) {
        fe_buf_addf(b, "<tr><th>traffic</th><td class=\"num\">%.0f requests / month</td></tr>\n",
                    be->requests_per_month);
        if (fe_has(be->break_even_months))
            fe_buf_addf(b, "<tr><th>pays back in</th><td class=\"num\">%.1f months</td></tr>\n",
                        be->break_even_months);
        for (size_t i = 0; i < be->n_monthly_cost; i++) {
            char s[64];
            double usd = be->monthly_cost[i].usd;
            fe_report_usd(s, sizeof(s), fe_has(usd), usd);
            fe_buf_adds(b, "<tr><th>monthly cost of ");
            h(b, be->monthly_cost[i].arm);
            fe_buf_addf(b, "</th><td class=\"num\">%s</td></tr>\n", fe_has(usd) ? s : "unknown");
        }
    } else {
        fe_buf_adds(b, "<tr><th>traffic</th><td>not set (<code>traffic.requests_per_month</code>)"
                       "</td></tr>\n");
    }
    fe_buf_adds(b, "</table>\n</section>\n");
}

static void html_rubric(const struct fe_report_view *v, struct fe_buf *b)
{
    const struct fe_decision_view *r = v->decision;
    fe_buf_adds(b, "<section id=\"rubric\">\n");
    if (!r->has_rubric) {
        fe_buf_adds(b, "<h2>Readiness rubric</h2>\n<p>Not available for this run.</p>\n"
                       "</section>\n");
        return;
    }
    fe_buf_addf(b, "<h2>Readiness rubric: %.0f / %.0f (", r->rubric_total, r->rubric_max);
    h(b, r->rubric_band);
    fe_buf_adds(b, ")</h2>\n<table>\n<tr><th>dimension</th><th>score</th><th>evidence</th>"
                   "<th>to improve</th></tr>\n");
    for (size_t i = 0; i < r->n_dims; i++) {
        const struct fe_rubric_dim *d = &r->dims[i];
        bool ok = fe_has(d->score);
        fe_buf_addf(b, "<tr class=\"score%d\"><td>", ok ? (int)d->score : 0);
        h(b, d->name);
        if (ok)
            fe_buf_addf(b, "</td><td class=\"num\">%.0f / 5</td><td>", d->score);
        else
            fe_buf_adds(b, "</td><td class=\"num\">n/a</td><td>");
        h(b, d->evidence);
        fe_buf_adds(b, "</td><td>");
        h(b, d->to_improve);
        fe_buf_adds(b, "</td></tr>\n");
    }
    fe_buf_adds(b, "</table>\n<p class=\"meta\">28+ justified, 21&ndash;27 needs more evaluation, "
                   "below 21 premature.</p>\n</section>\n");
}

static void cell(struct fe_buf *b, const char *s)
{
    char *c = fe_report_clip(s, FE_REPORT_CLIP);
    fe_buf_adds(b, "<td>");
    h(b, c);
    fe_buf_adds(b, "</td>");
    free(c);
}

static void examples_table(const struct fe_report_view *v, struct fe_buf *b,
                           const struct fe_report_example *ex, size_t kept, size_t total,
                           const char *what)
{
    fe_buf_addf(b, "<h3>%s (%zu)</h3>\n", what, total);
    if (kept == 0) {
        fe_buf_adds(b, "<p>None.</p>\n");
        return;
    }
    fe_buf_adds(b,
                "<table>\n<tr><th>id</th><th>candidate</th><th>baseline</th><th>gold</th></tr>\n");
    for (size_t i = 0; i < kept; i++) {
        fe_buf_adds(b, "<tr>");
        struct fe_record_text tc, tb;
        const struct fe_record *c = fe_arm_rec(&v->run->arms[v->cand], ex[i].cand);
        const struct fe_record *r = fe_arm_rec(&v->run->arms[v->base], ex[i].base);
        fe_run_record_text(v->run, c, &tc);
        fe_run_record_text(v->run, r, &tb);
        cell(b, c->id);
        cell(b, c->ok ? tc.prediction : "(error)");
        cell(b, r->ok ? tb.prediction : "(error)");
        char *g = fe_report_gold_text(&tc);
        cell(b, g);
        free(g);
        fe_record_text_release(&tc);
        fe_record_text_release(&tb);
        fe_buf_adds(b, "</tr>\n");
    }
    fe_buf_adds(b, "</table>\n");
    if (total > kept)
        fe_buf_addf(b, "<p class=\"meta\">%zu more in the arm files.</p>\n", total - kept);
}

static void html_examples(const struct fe_report_view *v, struct fe_buf *b)
{
    fe_buf_adds(b, "<section id=\"examples\">\n<h2>Examples the candidate fixed and broke</h2>\n");
    if (v->cand < 0 || v->base < 0 || v->primary >= v->run->n_metrics) {
        fe_buf_adds(b, "<p>Needs a candidate and a baseline arm.</p>\n</section>\n");
        return;
    }
    fe_buf_adds(b, "<p>Candidate <strong>");
    h(b, v->arms[v->cand].name);
    fe_buf_adds(b, "</strong> vs baseline <strong>");
    h(b, v->arms[v->base].name);
    fe_buf_adds(b, "</strong> on ");
    h(b, v->run->metrics[v->primary]);
    fe_buf_adds(b, ", first by id.</p>\n");
    examples_table(v, b, v->fixed, v->kept_fixed, v->n_fixed, "Fixed");
    examples_table(v, b, v->broke, v->kept_broke, v->n_broke, "Broke");
    fe_buf_adds(b, "</section>\n");
}

static void html_footer(const struct fe_report_view *v, struct fe_buf *b)
{
    fe_buf_adds(b, "<footer>\n<p>Prices: ");
    for (size_t a = 0; a < v->n_arms; a++) {
        const struct fe_report_arm *r = &v->arms[a];
        fe_buf_adds(b, a ? "; " : "");
        h(b, r->name);
        fe_buf_adds(b, " &mdash; ");
        if (r->price_source) {
            h(b, r->price_source);
            fe_buf_adds(b, " (as of ");
            h(b, r->price_as_of ? r->price_as_of : "?");
            fe_buf_adds(b, ")");
        } else {
            fe_buf_adds(b, r->priced ? "recorded per call" : "unknown");
        }
    }
    fe_buf_adds(b, ".</p>\n<p>Generated by fteval");
    if (v->manifest.fteval_version) {
        fe_buf_adds(b, " ");
        h(b, v->manifest.fteval_version);
    }
    fe_buf_adds(b, ". This page loads nothing from the network.</p>\n</footer>\n");
}

void fe_report_render_html(const struct fe_report_view *v, struct fe_buf *b,
                           const struct fe_page_sink *sink)
{
    html_header(v, b);
    html_verdict(v, b);
    html_arms(v, b);
    html_comparisons(v, b);
    fe_report_slices_html(v, b);
    html_charts(v, b);
    html_corpus(v, b);
    fe_report_human_html(v, b);
    fe_report_judges_html(v, b); /* issue 12 */
    html_break_even(v, b);
    fe_report_distill_html(v, b); /* issue 16 */
    html_rubric(v, b);
    html_examples(v, b);
    fe_report_html_browser(v, b, sink); /* every example: report_examples.c, report_browser.c */
    html_footer(v, b);
    fe_buf_adds(b, "</body>\n</html>\n");
}
