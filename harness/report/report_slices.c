/* report_slices.c — the per-slice table of report.md and report.html (issue 13): for each slice
 * of summary.json's "slices" block, each arm's primary metric with its CI, and the candidate's
 * paired difference against the baseline with the p adjusted across slices — a slice where the
 * candidate is significantly worse is marked, an untested one (fewer than task.slice_min_n
 * pairs) says so. Read through the typed view (rundir.h: fe_slices_view). */
#include <stdio.h>
#include <string.h>

#include "harness/base/buf.h"
#include "harness/report/report_int.h"
#include "harness/report/report_render.h"

/* The comparison of the report's candidate on slice name, or NULL. */
static const struct fe_slice_cmp *fe_slice_cmp_of(const struct fe_report_view *v,
                                                  const struct fe_slices_view *sv, const char *name)
{
    if (v->cand < 0)
        return NULL;
    const char *cand = v->run->arms[v->cand].name;
    for (size_t i = 0; i < sv->n_cmps; i++)
        if (sv->cmps[i].slice && sv->cmps[i].a && strcmp(sv->cmps[i].slice, name) == 0 &&
            strcmp(sv->cmps[i].a, cand) == 0)
            return &sv->cmps[i];
    return NULL;
}

/* "84.0% (80.1-87.3)" or "n/a". */
static void fe_slice_metric(char *out, size_t size, const struct fe_slice_arm *a)
{
    if (!fe_has(a->mean)) {
        snprintf(out, size, "n/a");
        return;
    }
    if (fe_has(a->ci_lo))
        snprintf(out, size, "%.1f%% (%.1f-%.1f)", a->mean * 100, a->ci_lo * 100, a->ci_hi * 100);
    else
        snprintf(out, size, "%.1f%%", a->mean * 100);
}

/* The difference cell: "-30.0 pts, p<0.001 (worse)", "not tested (n=6)", or "". */
static void fe_slice_result(char *out, size_t size, const struct fe_slice_cmp *k)
{
    if (!k) {
        snprintf(out, size, "-");
    } else if (!k->tested) {
        snprintf(out, size, "not tested (n=%.0f)", k->n);
    } else {
        char p[32];
        if (fe_has(k->p_adjusted) && k->p_adjusted < 0.001)
            snprintf(p, sizeof(p), "p<0.001");
        else
            snprintf(p, sizeof(p), "p=%.3f", fe_has(k->p_adjusted) ? k->p_adjusted : 1.0);
        snprintf(out, size, "%+.1f pts, %s%s", k->delta * 100, p,
                 k->worse ? " (significantly worse)" : k->significant ? " (significantly better)" : "");
    }
}

void fe_report_slices_md(const struct fe_report_view *v, struct fe_buf *b)
{
    struct fe_slices_view sv;
    fe_slices_view_parse(v->run->summary, &sv);
    if (!sv.present || sv.n_slices == 0) {
        fe_slices_view_release(&sv);
        return;
    }
    fe_buf_adds(b, "## Slices\n\nBy ");
    fe_md_escape(b, sv.field ? sv.field : "slice");
    fe_buf_adds(b, ", on ");
    fe_md_escape(b, sv.metric ? sv.metric : "the primary metric");
    fe_buf_adds(b, " (95% CI); the difference is ");
    fe_md_escape(b, v->cand >= 0 ? v->run->arms[v->cand].name : "the candidate");
    fe_buf_adds(b, " against ");
    fe_md_escape(b, sv.baseline_arm ? sv.baseline_arm : "the baseline");
    fe_buf_addf(b, ", p adjusted across slices; slices under %.0f paired examples are not tested.\n\n| slice |",
                fe_has(sv.min_n) ? sv.min_n : 10);
    const struct fe_slice_row *r0 = &sv.slices[0];
    for (size_t a = 0; a < r0->n_arms; a++) {
        fe_buf_adds(b, " ");
        fe_md_escape(b, r0->arms[a].arm);
        fe_buf_adds(b, " |");
    }
    fe_buf_adds(b, " difference |\n|---|");
    for (size_t a = 0; a < r0->n_arms; a++)
        fe_buf_adds(b, "--:|");
    fe_buf_adds(b, "---|\n");
    for (size_t s = 0; s < sv.n_slices; s++) {
        const struct fe_slice_row *r = &sv.slices[s];
        fe_buf_adds(b, "| ");
        fe_md_escape(b, r->name ? r->name : "");
        fe_buf_adds(b, " |");
        for (size_t a = 0; a < r->n_arms; a++) {
            char m[64];
            fe_slice_metric(m, sizeof(m), &r->arms[a]);
            fe_buf_addf(b, " %s (n=%.0f) |", m, fe_has(r->arms[a].n) ? r->arms[a].n : 0);
        }
        char res[96];
        fe_slice_result(res, sizeof(res), fe_slice_cmp_of(v, &sv, r->name ? r->name : ""));
        fe_buf_adds(b, " ");
        fe_md_escape(b, res);
        fe_buf_adds(b, " |\n");
    }
    fe_buf_adds(b, "\n");
    fe_slices_view_release(&sv);
}

void fe_report_slices_html(const struct fe_report_view *v, struct fe_buf *b)
{
    struct fe_slices_view sv;
    fe_slices_view_parse(v->run->summary, &sv);
    if (!sv.present || sv.n_slices == 0) {
        fe_slices_view_release(&sv);
        return;
    }
    fe_buf_adds(b, "<section id=\"slices\">\n<h2>Slices</h2>\n<table>\n<tr><th>");
    fe_buf_add_html(b, sv.field ? sv.field : "slice");
    fe_buf_adds(b, "</th>");
    const struct fe_slice_row *r0 = &sv.slices[0];
    for (size_t a = 0; a < r0->n_arms; a++) {
        fe_buf_adds(b, "<th>");
        fe_buf_add_html(b, r0->arms[a].arm ? r0->arms[a].arm : "");
        fe_buf_adds(b, "</th>");
    }
    fe_buf_adds(b, "<th>difference</th></tr>\n");
    for (size_t s = 0; s < sv.n_slices; s++) {
        const struct fe_slice_row *r = &sv.slices[s];
        const struct fe_slice_cmp *k = fe_slice_cmp_of(v, &sv, r->name ? r->name : "");
        fe_buf_adds(b, "<tr><td>");
        fe_buf_add_html(b, r->name ? r->name : "");
        fe_buf_adds(b, "</td>");
        for (size_t a = 0; a < r->n_arms; a++) {
            char m[64];
            fe_slice_metric(m, sizeof(m), &r->arms[a]);
            fe_buf_addf(b, "<td class=\"num\">%s (n=%.0f)</td>", m, fe_has(r->arms[a].n) ? r->arms[a].n : 0);
        }
        char res[96];
        fe_slice_result(res, sizeof(res), k);
        const char *cls = !k || !k->tested || !k->significant ? "ns" : k->worse ? "worse" : "sig";
        fe_buf_addf(b, "<td class=\"%s\">", cls);
        fe_buf_add_html(b, res);
        fe_buf_adds(b, "</td></tr>\n");
    }
    fe_buf_adds(b, "</table>\n<p class=\"meta\">");
    fe_buf_add_html(b, sv.metric ? sv.metric : "");
    fe_buf_addf(b, " per slice with its 95%% CI. The difference is the candidate against the baseline "
                   "on the examples both answered in that slice, with the p-value adjusted across "
                   "slices; slices under %.0f paired examples are listed, not tested.</p>\n</section>\n",
                fe_has(sv.min_n) ? sv.min_n : 10);
    fe_slices_view_release(&sv);
}
