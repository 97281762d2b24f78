/* report_md.c — report.md: the same content as report.html minus the charts. Every string from
 * data goes through fe_md_escape, so a prediction cannot break a table or inject markup. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness/analysis/decision.h"
#include "harness/base/jsonout.h"
#include "harness/report/report_distill.h"
#include "harness/report/report_int.h"
#include "harness/report/report_judges.h"
#include "harness/report/report_render.h"

static void esc(struct fe_buf *b, const char *s)
{
    fe_md_escape(b, s ? s : "");
}

static void md_header(const struct fe_report_view *v, struct fe_buf *b)
{
    fe_buf_adds(b, "# fteval report");
    if (v->manifest.name) {
        fe_buf_adds(b, ": ");
        esc(b, v->manifest.name);
    }
    fe_buf_adds(b, "\n\n");
    fe_buf_adds(b, "Run ");
    esc(b, fe_str_or(v->manifest.run_id, "(unknown id)"));
    if (v->manifest.started_at) {
        fe_buf_adds(b, ", started ");
        esc(b, v->manifest.started_at);
    }
    if (v->manifest.dataset_path) {
        fe_buf_adds(b, ", dataset ");
        esc(b, v->manifest.dataset_path);
    }
    if (fe_has(v->manifest.dataset_examples) && v->manifest.dataset_examples >= 0)
        fe_buf_addf(b, " (%.0f examples)", v->manifest.dataset_examples);
    fe_buf_adds(b, ". Charts are in report.html.\n\n");
}

static void md_verdict(const struct fe_report_view *v, struct fe_buf *b)
{
    const struct fe_decision_view *d = v->decision;
    const char *verdict = d->verdict;
    fe_buf_addf(b, "## Verdict: %s\n\n", fe_report_verdict_text(verdict));
    if (verdict && (strcmp(verdict, "incomplete") == 0 || strcmp(verdict, "invalid") == 0))
        fe_buf_addf(b, "> **%s** — this run cannot support a decision; the reasons below say why and how "
                       "to fix it.\n\n",
                    strcmp(verdict, "invalid") == 0 ? "INVALID" : "INCOMPLETE");
    if (!d->present) {
        fe_buf_adds(b, v->n_arms < 2 ? "A decision needs at least two arms.\n\n"
                                     : "No decision could be made from this run.\n\n");
        return;
    }
    fe_buf_adds(b, "Candidate **");
    esc(b, d->candidate_arm);
    fe_buf_adds(b, "** against baseline **");
    esc(b, d->baseline_arm);
    fe_buf_adds(b, "**");
    if (d->metric) {
        fe_buf_adds(b, " on ");
        esc(b, d->metric);
    }
    fe_buf_addf(b, " (`%s`).\n\n", fe_str_or(verdict, "none"));
    for (size_t i = 0; i < d->n_reasons; i++) {
        fe_buf_adds(b, "- ");
        esc(b, d->reasons[i]);
        fe_buf_adds(b, "\n");
    }
    fe_buf_adds(b, "\n");
}

static void md_arms(const struct fe_report_view *v, struct fe_buf *b)
{
    const struct fe_run *run = v->run;
    fe_buf_adds(b, "## Arms\n\n");
    if (v->n_arms == 0) {
        fe_buf_adds(b, "This run has no arms.\n\n");
        return;
    }
    fe_buf_adds(b, "| arm | model | n | errors |");
    for (size_t m = 0; m < run->n_metrics; m++) {
        fe_buf_adds(b, " ");
        esc(b, fe_metric_label(run->metrics[m]));
        fe_buf_adds(b, " (95% CI) |");
    }
    fe_buf_adds(b, " cost / inference | p50 latency | p95 latency |\n|---|---|--:|--:|");
    for (size_t m = 0; m < run->n_metrics; m++)
        fe_buf_adds(b, "--:|");
    fe_buf_adds(b, "--:|--:|--:|\n");
    for (size_t a = 0; a < v->n_arms; a++) {
        const struct fe_report_arm *r = &v->arms[a];
        char s[64];
        fe_buf_adds(b, "| ");
        esc(b, r->name);
        fe_buf_adds(b, " | ");
        esc(b, r->model ? r->model : "?");
        fe_buf_addf(b, " | %zu | %zu |", r->n, r->n_errors);
        for (size_t m = 0; m < run->n_metrics; m++) {
            const struct fe_report_metric *rm = &r->metrics[m];
            fe_report_pct(s, sizeof(s), rm->has_mean, rm->mean);
            fe_buf_addf(b, " %s", s);
            if (rm->has_ci)
                fe_buf_addf(b, " (%.1f to %.1f)", rm->lo * 100, rm->hi * 100);
            fe_buf_adds(b, " |");
        }
        fe_report_usd(s, sizeof(s), r->priced, r->per_inference);
        fe_buf_addf(b, " %s |", r->priced ? s : "unknown price");
        if (r->has_latency)
            fe_buf_addf(b, " %.0f ms | %.0f ms |\n", r->lat_p50, r->lat_p95);
        else
            fe_buf_adds(b, " n/a | n/a |\n");
    }
    char spend[64], budget[64];
    fe_report_usd(spend, sizeof(spend), v->has_spend, v->spend_usd);
    fe_report_usd(budget, sizeof(budget), v->has_budget, v->budget_usd);
    fe_buf_addf(b, "\nThis evaluation cost %s (budget: %s).\n",
                v->has_spend ? spend : "an unknown amount", v->has_budget ? budget : "not set");
    fe_buf_adds(b, "\nMetric values are means over all examples, in percent (failed calls score "
                   "0 and stay in the denominator). Latency covers successful, uncached "
                   "calls.\n\n");
}

/* Corpus-level metrics (metrics/corpus.h): per arm the per-class table of the first label
 * metric (macro_f1 and micro_f1 share it) and the entity counts of entity_f1. Nothing when the
 * run has no corpus metric. */
static void md_corpus(const struct fe_report_view *v, struct fe_buf *b)
{
    const struct fe_run *run = v->run;
    bool classes_done = false, heading = false;
    for (size_t m = 0; m < run->n_metrics; m++) {
        bool any = false, labels = false;
        for (size_t a = 0; a < v->summary.n_arms && v->summary.arms; a++) {
            const struct fe_summary_metric *sm = &v->summary.arms[a].metrics[m];
            any = any || sm->corpus;
            labels = labels || sm->n_classes > 0;
        }
        if (!any || (labels && classes_done))
            continue;
        if (!heading) {
            fe_buf_adds(b, "## Corpus-level metrics\n\n");
            heading = true;
        }
        for (size_t a = 0; a < v->summary.n_arms; a++) {
            const struct fe_summary_metric *sm = &v->summary.arms[a].metrics[m];
            if (!sm->corpus)
                continue;
            if (sm->n_classes > 0) {
                fe_buf_adds(b, "### Per class: ");
                fe_md_escape(b, run->arms[a].name);
                fe_buf_addf(b, " (%zu classes)\n\n| label | precision | recall | F1 | support | "
                               "predicted |\n|---|--:|--:|--:|--:|--:|\n",
                            sm->n_classes);
                for (size_t k = 0; k < sm->n_classes; k++) {
                    const struct fe_summary_class *c = &sm->classes[k];
                    fe_buf_adds(b, "| ");
                    fe_md_escape(b, fe_str_or(c->label, "?"));
                    fe_buf_addf(b, " | %.1f | %.1f | %.1f | %.0f | %.0f |\n", 100 * c->precision,
                                100 * c->recall, 100 * c->f1, c->support, c->predicted);
                }
                fe_buf_adds(b, "\n");
                if (sm->conf_note) {
                    fe_buf_adds(b, "Confusion matrix (summary.json): ");
                    fe_md_escape(b, sm->conf_note);
                    fe_buf_adds(b, ".\n\n");
                }
            } else if (fe_has(sm->ent_tp)) {
                fe_buf_adds(b, "- ");
                fe_md_escape(b, run->arms[a].name);
                fe_buf_adds(b, ", ");
                fe_md_escape(b, run->metrics[m]);
                fe_buf_addf(b, " (exact span and type): P %.2f, R %.2f, F1 %.2f (tp %.0f, predicted "
                               "%.0f, gold %.0f)\n",
                            100 * sm->ent_precision, 100 * sm->ent_recall, 100 * sm->ent_f1,
                            sm->ent_tp, sm->ent_pred, sm->ent_gold);
            }
        }
        if (labels)
            classes_done = true;
        else
            fe_buf_adds(b, "\n");
    }
}

static void md_comparisons(const struct fe_report_view *v, struct fe_buf *b)
{
    fe_buf_adds(b, "## Comparisons\n\n");
    if (v->summary.n_comparisons == 0) {
        fe_buf_adds(b, "No paired comparisons in this run.\n\n");
        return;
    }
    fe_buf_adds(b, "| a vs b | metric | difference (pts) | 95% CI | p (adjusted) | MDE (pts) | "
                   "result |\n|---|---|--:|---|--:|--:|---|\n");
    for (size_t i = 0; i < v->summary.n_comparisons; i++) {
        const struct fe_summary_comparison *c = &v->summary.comparisons[i];
        double p = fe_has(c->p_adjusted) ? c->p_adjusted : c->p_bootstrap;
        fe_buf_adds(b, "| ");
        esc(b, c->a);
        fe_buf_adds(b, " vs ");
        esc(b, c->b);
        fe_buf_adds(b, " | ");
        esc(b, c->metric);
        fe_buf_adds(b, " | ");
        if (fe_has(c->delta))
            fe_buf_addf(b, "%+.1f", c->delta * 100);
        else
            fe_buf_adds(b, "n/a");
        fe_buf_adds(b, " | ");
        if (fe_has(c->ci_lo))
            fe_buf_addf(b, "%+.1f to %+.1f", c->ci_lo * 100, c->ci_hi * 100);
        else
            fe_buf_adds(b, "n/a");
        fe_buf_adds(b, " | ");
        if (fe_has(p))
            fe_buf_addf(b, "%s%.3f", p < 0.001 ? "\\<" : "", p < 0.001 ? 0.001 : p);
        else
            fe_buf_adds(b, "n/a");
        fe_buf_adds(b, " | ");
        if (fe_has(c->mde))
            fe_buf_addf(b, "%.1f", c->mde * 100);
        else
            fe_buf_adds(b, "n/a");
        fe_buf_adds(b, " | ");
        char *s = fe_comparison_sentence_view(c);
        esc(b, s);
        free(s);
        fe_buf_adds(b, " |\n");
    }
    fe_buf_adds(b, "\n");
}

static void md_money_line(struct fe_buf *b, const char *label, double usd)
{
    char s[64];
    fe_report_usd(s, sizeof(s), fe_has(usd), usd);
    fe_buf_addf(b, "- %s: %s\n", label, fe_has(usd) ? s : "unknown");
}

static void md_break_even(const struct fe_report_view *v, struct fe_buf *b)
{
    const struct fe_decision_view *be = v->decision;
    fe_buf_adds(b, "## Break-even\n\n");
    if (!be->has_break_even) {
        fe_buf_adds(b, "Not available for this run.\n\n");
        return;
    }
    md_money_line(b, "training cost", be->training_cost_usd);
    md_money_line(b, "savings per request (baseline minus candidate)",
                  be->savings_per_request_usd);
    if (fe_has(be->break_even_requests))
        fe_buf_addf(b, "- break-even after: %.0f requests\n", be->break_even_requests);
    else
        fe_buf_adds(b, "- break-even: none (the candidate does not save money per request, or a "
                       "cost is unknown)\n");
    if (fe_has(be->requests_per_month)) {
        fe_buf_addf(b, "- traffic: %.0f requests per month\n", be->requests_per_month);
        if (fe_has(be->break_even_months))
            fe_buf_addf(b, "- pays back in: %.1f months\n", be->break_even_months);
        for (size_t i = 0; i < be->n_monthly_cost; i++) {
            char s[64];
            double usd = be->monthly_cost[i].usd;
            fe_buf_adds(b, "- monthly cost of ");
            esc(b, be->monthly_cost[i].arm);
            fe_report_usd(s, sizeof(s), fe_has(usd), usd);
            fe_buf_addf(b, ": %s\n", fe_has(usd) ? s : "unknown");
        }
    } else {
        fe_buf_adds(b, "- traffic: not set (traffic.requests_per_month)\n");
    }
    fe_buf_adds(b, "\n");
}

static void md_rubric(const struct fe_report_view *v, struct fe_buf *b)
{
    const struct fe_decision_view *r = v->decision;
    if (!r->has_rubric) {
        fe_buf_adds(b, "## Readiness rubric\n\nNot available for this run.\n\n");
        return;
    }
    fe_buf_addf(b, "## Readiness rubric: %.0f / %.0f (", r->rubric_total, r->rubric_max);
    esc(b, r->rubric_band);
    fe_buf_adds(b, ")\n\n| dimension | score | evidence | to improve |\n|---|--:|---|---|\n");
    for (size_t i = 0; i < r->n_dims; i++) {
        const struct fe_rubric_dim *d = &r->dims[i];
        fe_buf_adds(b, "| ");
        esc(b, d->name);
        if (fe_has(d->score))
            fe_buf_addf(b, " | %.0f/5 | ", d->score);
        else
            fe_buf_adds(b, " | n/a | ");
        esc(b, d->evidence);
        fe_buf_adds(b, " | ");
        esc(b, d->to_improve);
        fe_buf_adds(b, " |\n");
    }
    fe_buf_adds(b, "\n");
}

static void md_cell(struct fe_buf *b, const char *s)
{
    char *c = fe_report_clip(s, FE_REPORT_CLIP);
    fe_buf_adds(b, " ");
    esc(b, c);
    fe_buf_adds(b, " |");
    free(c);
}

static void md_examples_table(const struct fe_report_view *v, struct fe_buf *b,
                              const struct fe_report_example *ex, size_t kept, size_t total,
                              const char *what)
{
    fe_buf_addf(b, "### %s (%zu)\n\n", what, total);
    if (kept == 0) {
        fe_buf_adds(b, "None.\n\n");
        return;
    }
    fe_buf_adds(b, "| id | candidate | baseline | gold |\n|---|---|---|---|\n");
    for (size_t i = 0; i < kept; i++) {
        fe_buf_adds(b, "|");
        struct fe_record_text tc, tb;
        const struct fe_record *c = fe_arm_rec(&v->run->arms[v->cand], ex[i].cand);
        const struct fe_record *r = fe_arm_rec(&v->run->arms[v->base], ex[i].base);
        fe_run_record_text(v->run, c, &tc);
        fe_run_record_text(v->run, r, &tb);
        md_cell(b, c->id);
        md_cell(b, c->ok ? tc.prediction : "(error)");
        md_cell(b, r->ok ? tb.prediction : "(error)");
        char *g = fe_report_gold_text(&tc);
        md_cell(b, g);
        free(g);
        fe_record_text_release(&tc);
        fe_record_text_release(&tb);
        fe_buf_adds(b, "\n");
    }
    if (total > kept)
        fe_buf_addf(b, "\n%zu more in the arm files.\n", total - kept);
    fe_buf_adds(b, "\n");
}

static void md_examples(const struct fe_report_view *v, struct fe_buf *b)
{
    fe_buf_adds(b, "## Examples the candidate fixed and broke\n\n");
    if (v->cand < 0 || v->base < 0 || v->primary >= v->run->n_metrics) {
        fe_buf_adds(b, "Needs a candidate and a baseline arm.\n\n");
        return;
    }
    fe_buf_adds(b, "Candidate ");
    esc(b, v->arms[v->cand].name);
    fe_buf_adds(b, " vs baseline ");
    esc(b, v->arms[v->base].name);
    fe_buf_adds(b, " on ");
    esc(b, v->run->metrics[v->primary]);
    fe_buf_adds(b, ", first by id.\n\n");
    md_examples_table(v, b, v->fixed, v->kept_fixed, v->n_fixed, "Fixed");
    md_examples_table(v, b, v->broke, v->kept_broke, v->n_broke, "Broke");
}

static void md_footer(const struct fe_report_view *v, struct fe_buf *b)
{
    fe_buf_adds(b, "## Provenance\n\n");
    for (size_t a = 0; a < v->n_arms; a++) {
        const struct fe_report_arm *r = &v->arms[a];
        fe_buf_adds(b, "- ");
        esc(b, r->name);
        fe_buf_adds(b, ": price ");
        if (r->price_source) {
            esc(b, r->price_source);
            fe_buf_adds(b, " as of ");
            esc(b, r->price_as_of ? r->price_as_of : "?");
        } else {
            fe_buf_adds(b, r->priced ? "recorded per call" : "unknown");
        }
        fe_buf_adds(b, "\n");
    }
    fe_buf_adds(b, "\nGenerated by fteval");
    if (v->manifest.fteval_version) {
        fe_buf_adds(b, " ");
        esc(b, v->manifest.fteval_version);
    }
    fe_buf_adds(b, ".\n");
}

void fe_report_render_md(const struct fe_report_view *v, struct fe_buf *b)
{
    md_header(v, b);
    md_verdict(v, b);
    md_arms(v, b);
    md_comparisons(v, b);
    fe_report_slices_md(v, b);
    md_corpus(v, b);
    fe_report_human_md(v, b);
    fe_report_judges_md(v, b); /* issue 12 */
    md_break_even(v, b);
    fe_report_distill_md(v, b); /* issue 16 */
    md_rubric(v, b);
    md_examples(v, b);
    md_footer(v, b);
}
