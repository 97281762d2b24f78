/* report_judges.c — the "Judges" section of report.md and report.html (issue 12): per judge its
 * model, calls, cost, parse failures, errors and position consistency; per arm the win rate with
 * its interval and the sign test (pairwise) or the mean score and pass rate (rubric); and, first,
 * the self-preference warning when the judge grades its own model family. Reads summary.json
 * through rundir_judges.h. Nothing is printed for a run without judges. */
#include "harness/report/report_judges.h"

#include <math.h>
#include <stdio.h>

#include "harness/base/buf.h"
#include "harness/report/report_int.h"
#include "harness/rundir/rundir_judges.h"

/* x with its digits after the point, "n/a" when absent. */
static void fe_num(char *out, size_t size, double x, int digits)
{
    if (isnan(x))
        snprintf(out, size, "n/a");
    else
        snprintf(out, size, "%.*f", digits, x);
}

/* The cells of one arm: judged, result, interval, test. */
static void fe_judge_cells(const struct fe_judge_view *j, const struct fe_judge_arm_view *a, char cells[4][96])
{
    fe_num(cells[0], 96, a->judged, 0);
    bool pair = j->type && j->type[0] == 'p';
    if (pair) {
        char p[32], lo[32], hi[32];
        fe_report_pct(cells[1], 96, !isnan(a->win_rate), a->win_rate);
        fe_report_pct(lo, sizeof(lo), !isnan(a->ci_lo), a->ci_lo);
        fe_report_pct(hi, sizeof(hi), !isnan(a->ci_hi), a->ci_hi);
        snprintf(cells[2], 96, "[%s, %s]", lo, hi);
        if (isnan(a->sign_p))
            snprintf(p, sizeof(p), "n/a");
        else
            snprintf(p, sizeof(p), "%.3g", a->sign_p);
        snprintf(cells[3], 96, "%.0f/%.0f/%.0f W/T/L, sign test p %s", a->wins, a->ties, a->losses, p);
    } else {
        fe_num(cells[1], 96, a->mean_score, 2);
        fe_report_pct(cells[2], 96, !isnan(a->pass_rate), a->pass_rate);
        snprintf(cells[3], 96, "%s", "");
    }
}

void fe_report_judges_md(const struct fe_report_view *v, struct fe_buf *b)
{
    struct fe_judge_view *js;
    size_t n = fe_judges_view_parse(v->run->summary, &js);
    if (n == 0)
        return;
    fe_buf_adds(b, "\n## Judges\n\n");
    for (size_t i = 0; i < n; i++) {
        const struct fe_judge_view *j = &js[i];
        if (j->warning) {
            fe_buf_adds(b, "> **Warning: self-preference.** ");
            fe_md_escape(b, j->warning);
            fe_buf_adds(b, "\n\n");
        }
        char cost[48], pc[32];
        fe_report_usd(cost, sizeof(cost), !isnan(j->cost_usd), j->cost_usd);
        fe_report_pct(pc, sizeof(pc), !isnan(j->position_consistency), j->position_consistency);
        fe_buf_adds(b, "**");
        fe_md_escape(b, j->name);
        fe_buf_adds(b, "** (");
        fe_md_escape(b, j->type ? j->type : "?");
        fe_buf_adds(b, ", ");
        fe_md_escape(b, j->model ? j->model : "?");
        if (j->against) {
            fe_buf_adds(b, ", against ");
            fe_md_escape(b, j->against);
        }
        fe_buf_addf(b, "): %.0f calls, %s, %.0f parse failures, %.0f errors, %.0f pending, position consistency %s\n\n",
                    j->calls, cost, j->parse_failures, j->errors, j->pending, pc);
        bool pair = j->type && j->type[0] == 'p';
        fe_buf_adds(b, pair ? "| arm | judged | win rate (ties ½) | 95% CI | outcomes |\n|---|---:|---:|---|---|\n"
                            : "| arm | judged | score | pass rate | |\n|---|---:|---:|---:|---|\n");
        for (size_t k = 0; k < j->n_arms; k++) {
            char cells[4][96];
            fe_judge_cells(j, &j->arms[k], cells);
            fe_buf_adds(b, "| ");
            fe_md_escape(b, j->arms[k].arm);
            fe_buf_addf(b, " | %s | %s | %s | %s |\n", cells[0], cells[1], cells[2], cells[3]);
        }
        fe_buf_adds(b, "\n");
    }
    fe_judges_view_free(js, n);
}

void fe_report_judges_html(const struct fe_report_view *v, struct fe_buf *b)
{
    struct fe_judge_view *js;
    size_t n = fe_judges_view_parse(v->run->summary, &js);
    if (n == 0)
        return;
    fe_buf_adds(b, "<section><h2>Judges</h2>\n");
    for (size_t i = 0; i < n; i++) {
        const struct fe_judge_view *j = &js[i];
        if (j->warning) {
            fe_buf_adds(b, "<p class=\"warn\"><strong>Warning: self-preference.</strong> ");
            fe_buf_add_html(b, j->warning);
            fe_buf_adds(b, "</p>\n");
        }
        char cost[48], pc[32];
        fe_report_usd(cost, sizeof(cost), !isnan(j->cost_usd), j->cost_usd);
        fe_report_pct(pc, sizeof(pc), !isnan(j->position_consistency), j->position_consistency);
        fe_buf_adds(b, "<h3>");
        fe_buf_add_html(b, j->name);
        fe_buf_adds(b, "</h3><p>");
        fe_buf_add_html(b, j->type ? j->type : "?");
        fe_buf_adds(b, " judge ");
        fe_buf_add_html(b, j->model ? j->model : "?");
        if (j->against) {
            fe_buf_adds(b, ", against ");
            fe_buf_add_html(b, j->against);
        }
        fe_buf_addf(b, ": %.0f calls, %s, %.0f parse failures, %.0f errors, %.0f pending, position consistency %s</p>\n",
                    j->calls, cost, j->parse_failures, j->errors, j->pending, pc);
        bool pair = j->type && j->type[0] == 'p';
        fe_buf_adds(b, pair ? "<table><tr><th>arm</th><th>judged</th><th>win rate (ties &frac12;)</th><th>95% CI</th>"
                              "<th>outcomes</th></tr>\n"
                            : "<table><tr><th>arm</th><th>judged</th><th>score</th><th>pass rate</th><th></th></tr>\n");
        for (size_t k = 0; k < j->n_arms; k++) {
            char cells[4][96];
            fe_judge_cells(j, &j->arms[k], cells);
            fe_buf_adds(b, "<tr><td>");
            fe_buf_add_html(b, j->arms[k].arm);
            for (int c = 0; c < 4; c++) {
                fe_buf_adds(b, "</td><td>");
                fe_buf_add_html(b, cells[c]);
            }
            fe_buf_adds(b, "</td></tr>\n");
        }
        fe_buf_adds(b, "</table>\n");
    }
    fe_buf_adds(b, "</section>\n");
    fe_judges_view_free(js, n);
}
