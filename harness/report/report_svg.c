/* report_svg.c — the three inline SVG charts of report.html: quality per arm with CI error bars,
 * cost per 1,000 requests vs quality, latency distribution (box plot). No script, no external
 * resource; every label from data is HTML-escaped (the SVG sits inside HTML, parsed as HTML).
 * Every chart always draws its frame, so a missing piece shows as a message, not a hole.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness/analysis/decision.h"
#include "harness/report/report_int.h"
#include "harness/report/report_render.h"
#include "harness/base/util.h"

#define W 720.0
#define LEFT 150.0
#define RIGHT 160.0

static void text(struct fe_buf *b, double x, double y, const char *anchor, const char *cls,
                 const char *s)
{
    fe_buf_addf(b, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"%s\" class=\"%s\">", x, y, anchor,
                cls);
    fe_buf_add_html(b, s);
    fe_buf_adds(b, "</text>\n");
}

static void svg_open(struct fe_buf *b, double h, const char *id, const char *title)
{
    fe_buf_addf(b,
                "<svg id=\"%s\" class=\"chart\" role=\"img\" width=\"%.0f\" height=\"%.0f\" "
                "viewBox=\"0 0 %.0f %.0f\"><title>",
                id, W, h, W, h);
    fe_buf_add_html(b, title);
    fe_buf_addf(b,
                "</title>\n<rect class=\"frame\" x=\"0.5\" y=\"0.5\" width=\"%.0f\" "
                "height=\"%.0f\"/>\n",
                W - 1, h - 1);
}

/* A "nice" tick step (1, 2 or 5 times a power of ten) for about five ticks over span. */
static double nice_step(double span)
{
    if (!(span > 0) || !isfinite(span))
        return 1;
    double raw = span / 5, p = pow(10, floor(log10(raw))), f = raw / p;
    return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * p;
}

static double clamp01(double x)
{
    return x < 0 ? 0 : x > 1 ? 1 : x;
}

void fe_svg_quality(const struct fe_report_view *v, struct fe_buf *b)
{
    const struct fe_run *run = v->run;
    size_t rows = run->n_metrics * v->n_arms;
    double top = 30, row_h = 24, group_gap = 26;
    double h = top + (double)rows * row_h + (double)run->n_metrics * group_gap + 40;
    if (rows == 0)
        h = 120;
    svg_open(b, h, "chart-quality", "Quality per arm with 95% confidence intervals");
    double x0 = LEFT, x1 = W - RIGHT;
    if (rows == 0) {
        text(b, W / 2, 64, "middle", "msg", "no arms or metrics to plot");
        fe_buf_adds(b, "</svg>\n");
        return;
    }
    double axis_y = h - 30;
    for (int t = 0; t <= 10; t += 2) {
        double x = x0 + (x1 - x0) * t / 10.0;
        char lab[16];
        snprintf(lab, sizeof(lab), "%d%%", t * 10);
        fe_buf_addf(b, "<line class=\"grid\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>\n",
                    x, top - 8, x, axis_y);
        text(b, x, axis_y + 16, "middle", "tick", lab);
    }
    double y = top;
    for (size_t m = 0; m < run->n_metrics; m++) {
        text(b, 8, y + 10, "start", "group", run->metrics[m]);
        y += group_gap - 8;
        for (size_t a = 0; a < v->n_arms; a++) {
            const struct fe_report_metric *rm = &v->arms[a].metrics[m];
            text(b, x0 - 8, y + row_h / 2 + 4, "end", "label", v->arms[a].name);
            if (rm->has_mean) {
                double w = (x1 - x0) * clamp01(rm->mean);
                fe_buf_addf(b,
                            "<rect class=\"bar\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" "
                            "height=\"%.1f\" fill=\"%s\"/>\n",
                            x0, y + 4, w < 1 ? 1 : w, row_h - 8, fe_report_arm_color(a));
                if (rm->has_ci) {
                    double l = x0 + (x1 - x0) * clamp01(rm->lo);
                    double r = x0 + (x1 - x0) * clamp01(rm->hi);
                    double cy = y + row_h / 2;
                    fe_buf_addf(b,
                                "<path class=\"err\" d=\"M%.1f %.1fH%.1fM%.1f %.1fV%.1fM%.1f "
                                "%.1fV%.1f\"/>\n",
                                l, cy, r, l, cy - 6, cy + 6, r, cy - 6, cy + 6);
                }
                char lab[64];
                if (rm->has_ci)
                    snprintf(lab, sizeof(lab), "%.1f%% [%.1f, %.1f]", rm->mean * 100, rm->lo * 100,
                             rm->hi * 100);
                else
                    snprintf(lab, sizeof(lab), "%.1f%%", rm->mean * 100);
                text(b, x1 + 8, y + row_h / 2 + 4, "start", "value", lab);
            } else {
                text(b, x1 + 8, y + row_h / 2 + 4, "start", "value", "no data");
            }
            y += row_h;
        }
        y += 8;
    }
    fe_buf_adds(b, "</svg>\n");
}

void fe_svg_cost_quality(const struct fe_report_view *v, struct fe_buf *b)
{
    double h = 340, px0 = 80, px1 = W - 40, py0 = 30, py1 = h - 60;
    svg_open(b, h, "chart-cost", "Cost per 1,000 requests vs quality");
    bool has_metric = v->primary < v->run->n_metrics;
    double xmax = 0, ymin = 1, ymax = 0;
    size_t plotted = 0;
    for (size_t a = 0; a < v->n_arms; a++) {
        const struct fe_report_arm *r = &v->arms[a];
        if (!r->priced || !has_metric || !r->metrics[v->primary].has_mean)
            continue;
        const struct fe_report_metric *rm = &r->metrics[v->primary];
        plotted++;
        xmax = fmax(xmax, r->per_1k);
        ymin = fmin(ymin, rm->has_ci ? rm->lo : rm->mean);
        ymax = fmax(ymax, rm->has_ci ? rm->hi : rm->mean);
    }
    fe_buf_addf(b, "<path class=\"axis\" d=\"M%.1f %.1fV%.1fH%.1f\"/>\n", px0, py0, py1, px1);
    if (plotted == 0) {
        text(b, (px0 + px1) / 2, (py0 + py1) / 2, "middle", "msg",
             !has_metric ? "no metric to plot" : "no arm has both a known price and a score");
    } else {
        xmax = xmax > 0 ? xmax * 1.15 : 1;
        double xstep = nice_step(xmax);
        xmax = ceil(xmax / xstep) * xstep;
        ymin = clamp01(ymin - 0.05);
        ymax = clamp01(ymax + 0.05);
        if (ymax - ymin < 0.1) {
            ymin = clamp01(ymin - 0.05);
            ymax = clamp01(ymin + 0.1);
        }
        double ystep = nice_step(ymax - ymin);
        ymin = floor(ymin / ystep) * ystep;
        ymax = ceil(ymax / ystep) * ystep;
#define SX(x) (px0 + (px1 - px0) * ((x) / xmax))
#define SY(y) (py1 - (py1 - py0) * (((y)-ymin) / (ymax - ymin)))
        for (double t = 0; t <= xmax + xstep / 2; t += xstep) {
            char lab[32];
            int decimals = (int)-floor(log10(xstep) + 1e-9);
            snprintf(lab, sizeof(lab), "$%.*f",
                     decimals < 0    ? 0
                     : decimals > 12 ? 12
                                     : decimals,
                     t);
            fe_buf_addf(b,
                        "<line class=\"grid\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>\n",
                        SX(t), py0, SX(t), py1);
            text(b, SX(t), py1 + 16, "middle", "tick", lab);
        }
        for (double t = ymin; t <= ymax + ystep / 2; t += ystep) {
            char lab[32];
            snprintf(lab, sizeof(lab), "%.0f%%", t * 100);
            fe_buf_addf(b,
                        "<line class=\"grid\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>\n",
                        px0, SY(t), px1, SY(t));
            text(b, px0 - 6, SY(t) + 4, "end", "tick", lab);
        }
        for (size_t a = 0; a < v->n_arms; a++) {
            const struct fe_report_arm *r = &v->arms[a];
            if (!r->priced || !r->metrics[v->primary].has_mean)
                continue;
            const struct fe_report_metric *rm = &r->metrics[v->primary];
            double cx = SX(r->per_1k), cy = SY(rm->mean);
            if (rm->has_ci)
                fe_buf_addf(b, "<path class=\"err\" d=\"M%.1f %.1fV%.1f\"/>\n", cx, SY(rm->lo),
                            SY(rm->hi));
            fe_buf_addf(b, "<circle class=\"pt\" cx=\"%.1f\" cy=\"%.1f\" r=\"7\" fill=\"%s\"/>\n",
                        cx, cy, fe_report_arm_color(a));
            text(b, cx + 10, cy - 8, "start", "label", r->name);
        }
#undef SX
#undef SY
    }
    char axis[160];
    snprintf(axis, sizeof(axis),
             "cost per 1,000 requests (USD) \xe2\x80\x94 up and left is better");
    text(b, (px0 + px1) / 2, h - 20, "middle", "axislabel", axis);
    fe_buf_addf(b,
                "<text x=\"16\" y=\"%.1f\" text-anchor=\"middle\" class=\"axislabel\" "
                "transform=\"rotate(-90 16 %.1f)\">",
                (py0 + py1) / 2, (py0 + py1) / 2);
    fe_buf_add_html(b, has_metric ? v->run->metrics[v->primary] : "quality");
    fe_buf_adds(b, "</text>\n");
    /* arms left out */
    double ny = h - 4;
    struct fe_buf miss = {0};
    for (size_t a = 0; a < v->n_arms; a++)
        if (!v->arms[a].priced)
            fe_buf_addf(&miss, "%s%s", miss.len ? ", " : "not priced: ", v->arms[a].name);
    if (miss.len)
        text(b, W - 8, ny, "end", "note", fe_buf_str(&miss));
    fe_buf_release(&miss);
    fe_buf_adds(b, "</svg>\n");
}

void fe_svg_latency(const struct fe_report_view *v, struct fe_buf *b)
{
    double row_h = 34, top = 24;
    double h = top + (double)(v->n_arms ? v->n_arms : 1) * row_h + 56;
    bool any_ttft = false;
    for (size_t a = 0; a < v->n_arms; a++)
        any_ttft = any_ttft || v->arms[a].has_ttft;
    svg_open(b, h, "chart-latency",
             any_ttft ? "Latency per arm: total (filled box) and time to first token of streamed answers (outlined "
                        "box); box p25-p75, whiskers p5-p95"
                      : "Latency per arm: box p25-p75, whiskers p5-p95");
    double x0 = LEFT, x1 = W - RIGHT, xmax = 0;
    for (size_t a = 0; a < v->n_arms; a++)
        if (v->arms[a].has_latency)
            xmax = fmax(xmax, v->arms[a].lat_p95);
    double axis_y = h - 40;
    if (xmax <= 0) {
        text(b, W / 2, (top + axis_y) / 2 + 4, "middle", "msg",
             "no successful, uncached calls: no latency to show");
        fe_buf_adds(b, "</svg>\n");
        return;
    }
    double step = nice_step(xmax * 1.05);
    xmax = ceil(xmax * 1.05 / step) * step;
#define SX(x) (x0 + (x1 - x0) * (fmin((x), xmax) / xmax))
    for (double t = 0; t <= xmax + step / 2; t += step) {
        char lab[32];
        snprintf(lab, sizeof(lab), "%.0f", t);
        fe_buf_addf(b, "<line class=\"grid\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>\n",
                    SX(t), top - 6, SX(t), axis_y);
        text(b, SX(t), axis_y + 16, "middle", "tick", lab);
    }
    text(b, (x0 + x1) / 2, h - 8, "middle", "axislabel", "latency (ms)");
    for (size_t a = 0; a < v->n_arms; a++) {
        const struct fe_report_arm *r = &v->arms[a];
        double y = top + (double)a * row_h, cy = y + row_h / 2;
        text(b, x0 - 8, cy + 4, "end", "label", r->name);
        if (!r->has_latency) {
            text(b, x0 + 4, cy + 4, "start", "note", "no successful calls");
            continue;
        }
        const char *col = fe_report_arm_color(a);
        fe_buf_addf(
            b, "<path class=\"whisker\" d=\"M%.1f %.1fH%.1fM%.1f %.1fV%.1fM%.1f %.1fV%.1f\"/>\n",
            SX(r->lat_p5), cy, SX(r->lat_p95), SX(r->lat_p5), cy - 7, cy + 7, SX(r->lat_p95),
            cy - 7, cy + 7);
        double bw = SX(r->lat_p75) - SX(r->lat_p25);
        fe_buf_addf(b,
                    "<rect class=\"box\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" "
                    "fill=\"%s\"/>\n",
                    SX(r->lat_p25), y + 6, bw < 2 ? 2 : bw, row_h - 12, col);
        fe_buf_addf(b, "<line class=\"median\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>\n",
                    SX(r->lat_p50), y + 4, SX(r->lat_p50), y + row_h - 4);
        if (r->has_ttft) { /* time to first token: an outlined box with its whiskers, on the same axis */
            double tw = SX(r->ttft_p75) - SX(r->ttft_p25);
            fe_buf_addf(b, "<path class=\"whisker ttft\" d=\"M%.1f %.1fH%.1f\"/>\n", SX(r->ttft_p5), cy,
                        SX(r->ttft_p95));
            fe_buf_addf(b,
                        "<rect class=\"box ttft\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" "
                        "fill=\"#fff\" stroke=\"%s\" stroke-dasharray=\"3 2\"><title>time to first token: p50 %.0f "
                        "ms</title></rect>\n",
                        SX(r->ttft_p25), y + 10, tw < 2 ? 2 : tw, row_h - 20, col, r->ttft_p50);
            fe_buf_addf(b, "<line class=\"median ttft\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>\n",
                        SX(r->ttft_p50), y + 8, SX(r->ttft_p50), y + row_h - 8);
        }
        char lab[128];
        if (r->has_ttft)
            snprintf(lab, sizeof(lab), "p50 %.0f, p95 %.0f ms; TTFT p50 %.0f ms", r->lat_p50, r->lat_p95,
                     r->ttft_p50);
        else
            snprintf(lab, sizeof(lab), "p50 %.0f, p95 %.0f ms", r->lat_p50, r->lat_p95);
        text(b, x1 + 8, cy + 4, "start", "value", lab);
    }
#undef SX
    fe_buf_adds(b, "</svg>\n");
}

/* The nightly trend: the primary metric of every arm over the runs in history.jsonl (the file
 * beside the run directory), mean with its 95% CI as an error bar, oldest run on the left.
 * Arms are coloured as in the other charts; arms the current run no longer has are grey. */
void fe_svg_trend(const struct fe_report_view *v, const struct fe_history_view *history,
                  struct fe_buf *b)
{
    const struct fe_run *run = v->run;
    const char *metric = v->primary < run->n_metrics ? run->metrics[v->primary] : NULL;
    size_t n_runs = history->n;
    double h = 260, top = 24, bottom = h - 46, x0 = 70, x1 = W - RIGHT;
    svg_open(b, h, "chart-trend", "Primary metric per run with 95% confidence intervals");
    if (!metric || n_runs < 2) {
        text(b, W / 2, h / 2, "middle", "msg",
             "the trend appears once this config has two or more runs (history.jsonl)");
        fe_buf_adds(b, "</svg>\n");
        return;
    }
    for (int t = 0; t <= 10; t += 2) {
        double y = bottom - (bottom - top) * t / 10.0;
        char lab[16];
        snprintf(lab, sizeof(lab), "%d%%", t * 10);
        fe_buf_addf(b, "<line class=\"grid\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>\n", x0, y, x1, y);
        text(b, x0 - 8, y + 4, "end", "tick", lab);
    }
    text(b, (x0 + x1) / 2, h - 8, "middle", "axis", "runs, oldest to newest");
    double step = (x1 - x0) / (double)(n_runs > 1 ? n_runs - 1 : 1);
    /* arms: those of the current run first (their colours), then any others from history */
    int legend = 0;
    for (int pass = 0; pass < 2; pass++) {
        size_t n_names = pass == 0 ? v->n_arms : 0;
        const char **names = NULL;
        if (pass == 1) { /* arms seen in history but not in this run */
            for (size_t e = 0; e < history->n; e++) {
                for (size_t k = 0; k < history->entries[e].n_arms; k++) {
                    const char *arm = history->entries[e].arms[k].name;
                    bool known = !arm || fe_run_arm_index(run, arm) >= 0;
                    for (size_t j = 0; j < n_names && !known; j++)
                        known = strcmp(names[j], arm) == 0;
                    if (!known) {
                        names = fe_xreallocarray(names, n_names + 1, sizeof(*names));
                        names[n_names++] = arm;
                    }
                }
            }
        }
        for (size_t a = 0; a < n_names; a++) {
            const char *name = pass == 0 ? v->arms[a].name : names[a];
            const char *color = pass == 0 ? fe_report_arm_color(a) : "#9aa0a6";
            struct fe_buf line;
            fe_buf_init(&line, 0);
            int points = 0;
            for (size_t e = 0; e < history->n; e++) {
                const struct fe_history_metric *m =
                    fe_history_metric(fe_history_arm(&history->entries[e], name), metric);
                double x = x0 + step * (double)e;
                if (!m || !fe_has(m->mean))
                    continue;
                double y = bottom - (bottom - top) * clamp01(m->mean);
                fe_buf_addf(&line, "%s%.1f %.1f", points++ ? "L" : "M", x, y);
                if (fe_has(m->ci_lo)) {
                    double lo = bottom - (bottom - top) * clamp01(m->ci_lo);
                    double hi = bottom - (bottom - top) * clamp01(m->ci_hi);
                    fe_buf_addf(b, "<path class=\"err\" stroke=\"%s\" d=\"M%.1f %.1fV%.1fM%.1f %.1fH%.1fM%.1f %.1fH%.1f\"/>\n",
                                color, x, lo, hi, x - 4, lo, x + 4, x - 4, hi, x + 4);
                }
                fe_buf_addf(b, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3.5\" fill=\"%s\"/>\n", x, y, color);
            }
            if (points > 1)
                fe_buf_addf(b, "<path fill=\"none\" stroke=\"%s\" stroke-width=\"2\" d=\"%s\"/>\n", color,
                            fe_buf_str(&line));
            fe_buf_release(&line);
            if (points) {
                double ly = top + 14.0 * legend++;
                fe_buf_addf(b, "<rect x=\"%.1f\" y=\"%.1f\" width=\"10\" height=\"10\" fill=\"%s\"/>\n", x1 + 14,
                            ly - 8, color);
                text(b, x1 + 30, ly + 1, "start", "label", name);
            }
        }
        free(names);
    }
    fe_buf_adds(b, "</svg>\n");
}

void fe_svg_confusion(const struct fe_report_view *v, size_t arm, size_t m, struct fe_buf *b)
{
    const struct fe_summary_metric *sm = &v->summary.arms[arm].metrics[m];
    size_t k = sm->conf_n;
    if (k == 0)
        return;
    double label_w = 170, top = 170, cell = (W - label_w - 20) / (double)k;
    if (cell > 28)
        cell = 28;
    double h = top + cell * (double)k + 20;
    char *id = fe_xasprintf("chart-confusion-%zu-%zu", arm, m);
    char *title = fe_xasprintf("Confusion matrix of %s (rows: gold, columns: predicted)",
                               v->run->arms[arm].name);
    svg_open(b, h, id, title);
    free(title);
    free(id);
    for (size_t r = 0; r < k; r++) {
        const char *lab = fe_str_or(sm->conf_labels[r], "?");
        char *clip = fe_report_clip(lab, 24);
        double y = top + cell * ((double)r + 0.5) + 4;
        text(b, label_w - 6, y, "end", "tick", clip);
        double x = label_w + cell * ((double)r + 0.5);
        fe_buf_addf(b, "<text transform=\"translate(%.1f,%.1f) rotate(-60)\" class=\"tick\">", x,
                    top - 6);
        fe_buf_add_html(b, clip);
        fe_buf_adds(b, "</text>\n");
        free(clip);
    }
    for (size_t r = 0; r < k; r++) {
        double row = 0;
        for (size_t q = 0; q < k; q++)
            row += fe_has(sm->conf[r * k + q]) ? sm->conf[r * k + q] : 0;
        for (size_t q = 0; q < k; q++) {
            double c = sm->conf[r * k + q];
            if (!fe_has(c) || c <= 0)
                continue;
            double share = row > 0 ? c / row : 0;
            /* diagonal (right) in blue, confusions in red; darker = larger share of the row */
            fe_buf_addf(b,
                        "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" "
                        "fill=\"%s\" fill-opacity=\"%.3f\"><title>",
                        label_w + cell * (double)q, top + cell * (double)r, cell, cell,
                        r == q ? "#1f5fa8" : "#b8322a", 0.12 + 0.88 * share);
            fe_buf_add_html(b, fe_str_or(sm->conf_labels[r], "?"));
            fe_buf_adds(b, " \xe2\x86\x92 ");
            fe_buf_add_html(b, fe_str_or(sm->conf_labels[q], "?"));
            fe_buf_addf(b, ": %.0f</title></rect>\n", c);
        }
    }
    fe_buf_addf(b,
                "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"none\" "
                "stroke=\"#999\" stroke-width=\"0.5\"/>\n",
                label_w, top, cell * (double)k, cell * (double)k);
    fe_buf_adds(b, "</svg>\n");
}
