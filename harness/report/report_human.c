/* report_human.c — the "Human ratings" section of report.md and report.html, from summary.json's
 * "human" block (analysis/human.h, read through rundir/human_view.h): per judge the human win
 * rates or mean scores, the inter-rater and judge-human agreement, and the calibrated estimates
 * next to the judge-only and human-only ones. Nothing when the run has no human ratings. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "harness/report/report_int.h"
#include "harness/report/report_render.h"
#include "harness/rundir/human_view.h"

/* "0.412" or "n/a". */
static const char *num(char *out, size_t size, double x)
{
    if (isfinite(x))
        snprintf(out, size, "%.3f", x);
    else
        snprintf(out, size, "n/a");
    return out;
}

/* "[0.301, 0.522]" or "n/a". */
static const char *ci(char *out, size_t size, double lo, double hi)
{
    if (isfinite(lo) && isfinite(hi))
        snprintf(out, size, "[%.3f, %.3f]", lo, hi);
    else
        snprintf(out, size, "n/a");
    return out;
}

/* "0.412 [0.301, 0.522]", "0.412" without an interval, or "n/a". */
static const char *interval(char *out, size_t size, double m, double lo, double hi)
{
    if (isfinite(m) && isfinite(lo) && isfinite(hi))
        snprintf(out, size, "%.3f [%.3f, %.3f]", m, lo, hi);
    else if (isfinite(m))
        snprintf(out, size, "%.3f", m);
    else
        snprintf(out, size, "n/a");
    return out;
}

/* The agreement sentence of a judge (plain text, no markup: numbers and fixed words). */
static void agreement_text(const struct fe_human_judge_view *j, char *out, size_t size)
{
    char k1[16], k2[16], k3[16], f[16], an[16], ao[16], raw[16], jk[16];
    int used = 0;
    if (j->inter_note || !(j->n_raters >= 2))
        used = snprintf(out, size, "Inter-rater agreement: one rater, none to report. ");
    else
        used = snprintf(out, size,
                        "Inter-rater agreement (%.0f raters): Cohen's kappa%s %s, weighted kappa "
                        "linear %s, quadratic %s; Fleiss' kappa %s; Krippendorff's alpha nominal "
                        "%s, ordinal %s. ",
                        j->n_raters, j->kappa_mean ? " (mean over pairs)" : "",
                        num(k1, sizeof(k1), j->cohen), num(k2, sizeof(k2), j->weighted_linear),
                        num(k3, sizeof(k3), j->weighted_quadratic), num(f, sizeof(f), j->fleiss),
                        num(an, sizeof(an), j->alpha_nominal), num(ao, sizeof(ao), j->alpha_ordinal));
    if (used < 0 || (size_t)used >= size)
        return;
    snprintf(out + used, size - (size_t)used,
             "Judge vs human on %.0f rating(s): raw agreement %s, Cohen's kappa %s.",
             isfinite(j->agree_n) ? j->agree_n : 0, num(raw, sizeof(raw), j->agree_raw),
             num(jk, sizeof(jk), j->agree_kappa));
}

static const char *what(const struct fe_human_judge_view *j)
{
    return j->type && strcmp(j->type, "pairwise") == 0 ? "human win rate (ties 1/2)"
                                                       : "human mean score";
}

void fe_report_human_md(const struct fe_report_view *v, struct fe_buf *b)
{
    struct fe_human_view h;
    fe_human_view_parse(v->run->summary, &h);
    if (!h.present) {
        fe_human_view_release(&h);
        return;
    }
    fe_buf_adds(b, "\n## Human ratings\n\n");
    if (h.error) {
        fe_buf_adds(b, "The human ratings could not be read: ");
        fe_md_escape(b, h.error);
        fe_buf_adds(b, "\n");
    }
    char s1[64], s2[64], s3[64], s4[16];
    for (size_t i = 0; i < h.n_judges; i++) {
        const struct fe_human_judge_view *j = &h.judges[i];
        fe_buf_adds(b, "### Judge ");
        fe_md_escape(b, j->name);
        fe_buf_addf(b, " (%s): %.0f item(s), %.0f rating(s)\n\n", j->type ? j->type : "?",
                    j->n_items, j->n_ratings);
        fe_buf_addf(b, "| arm | against | items | %s | 95%% CI |\n|---|---|---:|---:|---|\n",
                    what(j));
        for (size_t a = 0; a < j->n_arms; a++) {
            const struct fe_human_arm_view *r = &j->arms[a];
            fe_buf_adds(b, "| ");
            fe_md_escape(b, r->arm);
            fe_buf_adds(b, " | ");
            fe_md_escape(b, r->against ? r->against : "-");
            fe_buf_addf(b, " | %.0f | %s | %s |\n", r->n_items, num(s1, sizeof(s1), r->value),
                        ci(s2, sizeof(s2), r->ci_lo, r->ci_hi));
        }
        char text[768];
        agreement_text(j, text, sizeof(text));
        fe_buf_addf(b, "\n%s\n\n", text);
        fe_buf_adds(b, "Calibrated estimates (prediction-powered: judge mean over all examples "
                       "plus the mean human-judge correction on the rated ones):\n\n"
                       "| comparison | scale | judge only | human only | calibrated | N | n | "
                       "effective n |\n|---|---|---|---|---|---:|---:|---:|\n");
        for (size_t c = 0; c < j->n_cal; c++) {
            const struct fe_human_cal_view *e = &j->cal[c];
            fe_buf_adds(b, "| ");
            fe_md_escape(b, e->a);
            if (e->b) {
                fe_buf_adds(b, " vs ");
                fe_md_escape(b, e->b);
            }
            fe_buf_adds(b, " | ");
            fe_md_escape(b, e->scale ? e->scale : "");
            fe_buf_addf(b, " | %s | %s | %s | %.0f | %.0f | %s |\n",
                        interval(s1, sizeof(s1), e->judge.mean, e->judge.ci_lo, e->judge.ci_hi),
                        interval(s2, sizeof(s2), e->human.mean, e->human.ci_lo, e->human.ci_hi),
                        interval(s3, sizeof(s3), e->calibrated.mean, e->calibrated.ci_lo,
                                 e->calibrated.ci_hi),
                        e->N, e->n, num(s4, sizeof(s4), e->n_effective));
        }
        fe_buf_adds(b, "\n");
    }
    fe_human_view_release(&h);
}

void fe_report_human_html(const struct fe_report_view *v, struct fe_buf *b)
{
    struct fe_human_view h;
    fe_human_view_parse(v->run->summary, &h);
    if (!h.present) {
        fe_human_view_release(&h);
        return;
    }
    fe_buf_adds(b, "<section id=\"human\">\n<h2>Human ratings</h2>\n");
    if (h.error) {
        fe_buf_adds(b, "<p>The human ratings could not be read: ");
        fe_buf_add_html(b, h.error);
        fe_buf_adds(b, "</p>\n");
    }
    char s1[64], s2[64], s3[64], s4[16];
    for (size_t i = 0; i < h.n_judges; i++) {
        const struct fe_human_judge_view *j = &h.judges[i];
        fe_buf_adds(b, "<h3>Judge ");
        fe_buf_add_html(b, j->name);
        fe_buf_addf(b, " (%s): %.0f item(s), %.0f rating(s)</h3>\n", j->type ? j->type : "?",
                    j->n_items, j->n_ratings);
        fe_buf_addf(b, "<table>\n<tr><th>arm</th><th>against</th><th>items</th><th>%s</th>"
                       "<th>95%% CI</th></tr>\n", what(j));
        for (size_t a = 0; a < j->n_arms; a++) {
            const struct fe_human_arm_view *r = &j->arms[a];
            fe_buf_adds(b, "<tr><td>");
            fe_buf_add_html(b, r->arm);
            fe_buf_adds(b, "</td><td>");
            fe_buf_add_html(b, r->against ? r->against : "-");
            fe_buf_addf(b, "</td><td>%.0f</td><td>%s</td><td>%s</td></tr>\n", r->n_items,
                        num(s1, sizeof(s1), r->value), ci(s2, sizeof(s2), r->ci_lo, r->ci_hi));
        }
        char text[768];
        agreement_text(j, text, sizeof(text));
        fe_buf_adds(b, "</table>\n<p>");
        fe_buf_add_html(b, text);
        fe_buf_adds(b, "</p>\n<table>\n<tr><th>comparison</th><th>scale</th><th>judge only</th>"
                       "<th>human only</th><th>calibrated</th><th>N</th><th>n</th>"
                       "<th>effective n</th></tr>\n");
        for (size_t c = 0; c < j->n_cal; c++) {
            const struct fe_human_cal_view *e = &j->cal[c];
            fe_buf_adds(b, "<tr><td>");
            fe_buf_add_html(b, e->a);
            if (e->b) {
                fe_buf_adds(b, " vs ");
                fe_buf_add_html(b, e->b);
            }
            fe_buf_adds(b, "</td><td>");
            fe_buf_add_html(b, e->scale ? e->scale : "");
            fe_buf_addf(b, "</td><td>%s</td><td>%s</td><td>%s</td><td>%.0f</td><td>%.0f</td>"
                           "<td>%s</td></tr>\n",
                        interval(s1, sizeof(s1), e->judge.mean, e->judge.ci_lo, e->judge.ci_hi),
                        interval(s2, sizeof(s2), e->human.mean, e->human.ci_lo, e->human.ci_hi),
                        interval(s3, sizeof(s3), e->calibrated.mean, e->calibrated.ci_lo,
                                 e->calibrated.ci_hi),
                        e->N, e->n, num(s4, sizeof(s4), e->n_effective));
        }
        fe_buf_adds(b, "</table>\n");
    }
    fe_buf_adds(b, "</section>\n");
    fe_human_view_release(&h);
}
