/* report_distill.c — the "Distillation break-even" section of report.md and report.html (issue
 * 16, docs/distill.md): the decision's "distillation" block (analysis/decision_distill.c) — the
 * teacher's and the student's cost per inference, monthly at the config's traffic, what making
 * the student cost (generation, judge gate, training) and when it pays back. Unknown values
 * print as "unknown", never $0. Reads the decision object itself (summary.json's, else the one
 * the view recomputed); nothing is printed without decision.distill_report.
 */
#include "harness/report/report_distill.h"

#include <stdio.h>

#include "harness/base/buf.h"
#include "harness/base/jsonout.h"
#include "harness/report/report_int.h"

static const cJSON *fe_distill_block(const struct fe_report_view *v)
{
    const cJSON *d = v->owned_decision ? v->owned_decision : fe_json_get(v->run->summary, "decision");
    return fe_json_get(d, "distillation");
}

/* Label and value of each row, "unknown" for null. */
static const struct {
    const char *key, *label;
    int kind; /* 0 dollars, 1 count, 2 months */
} fe_rows[] = {
    {"teacher_usd_per_inference", "teacher cost per inference", 0},
    {"student_usd_per_inference", "student cost per inference", 0},
    {"requests_per_month", "traffic (requests per month)", 1},
    {"teacher_monthly_usd", "teacher per month", 0},
    {"student_monthly_usd", "student per month", 0},
    {"monthly_saving_usd", "saving per month", 0},
    {"generation_usd", "generation (teacher)", 0},
    {"judge_usd", "judge gate", 0},
    {"training_usd", "training", 0},
    {"upfront_usd", "cost of making the student", 0},
    {"break_even_requests", "break-even after (requests)", 1},
    {"break_even_months", "pays back in (months)", 2},
};

static void fe_cell(char *out, size_t size, const cJSON *o, size_t i)
{
    double x;
    if (!fe_json_num(fe_json_get(o, fe_rows[i].key), &x))
        snprintf(out, size, "unknown");
    else if (fe_rows[i].kind == 0)
        fe_report_usd(out, size, true, x);
    else
        snprintf(out, size, fe_rows[i].kind == 1 ? "%.0f" : "%.1f", x);
}

void fe_report_distill_md(const struct fe_report_view *v, struct fe_buf *b)
{
    const cJSON *o = fe_distill_block(v);
    if (!o)
        return;
    fe_buf_adds(b, "## Distillation break-even\n\n");
    fe_buf_adds(b, "Teacher (baseline) ");
    fe_md_escape(b, fe_json_gets_or(o, "teacher_arm", "?"));
    fe_buf_adds(b, " vs student ");
    fe_md_escape(b, fe_json_gets_or(o, "student_arm", "?"));
    fe_buf_adds(b, "; distill report ");
    fe_md_escape(b, fe_json_gets_or(o, "report", "?"));
    fe_buf_adds(b, ".\n\n");
    if (!cJSON_IsTrue(fe_json_get(o, "applies"))) {
        fe_md_escape(b, fe_json_gets_or(o, "note", ""));
        fe_buf_adds(b, ": no distillation break-even.\n\n");
        return;
    }
    for (size_t i = 0; i < sizeof(fe_rows) / sizeof(fe_rows[0]); i++) {
        char s[64];
        fe_cell(s, sizeof(s), o, i);
        fe_buf_addf(b, "- %s: %s\n", fe_rows[i].label, s);
    }
    if (fe_json_get(o, "unknown")) {
        fe_buf_adds(b, "- unknown: ");
        fe_md_escape(b, fe_json_gets_or(o, "unknown", ""));
        fe_buf_adds(b, "\n");
    }
    fe_buf_adds(b, "\n");
}

void fe_report_distill_html(const struct fe_report_view *v, struct fe_buf *b)
{
    const cJSON *o = fe_distill_block(v);
    if (!o)
        return;
    fe_buf_adds(b, "<section id=\"distillation\">\n<h2>Distillation break-even</h2>\n<p>Teacher (baseline) ");
    fe_buf_add_html(b, fe_json_gets_or(o, "teacher_arm", "?"));
    fe_buf_adds(b, " vs student ");
    fe_buf_add_html(b, fe_json_gets_or(o, "student_arm", "?"));
    fe_buf_adds(b, "; distill report <code>");
    fe_buf_add_html(b, fe_json_gets_or(o, "report", "?"));
    fe_buf_adds(b, "</code>.</p>\n");
    if (!cJSON_IsTrue(fe_json_get(o, "applies"))) {
        fe_buf_adds(b, "<p>");
        fe_buf_add_html(b, fe_json_gets_or(o, "note", ""));
        fe_buf_adds(b, ": no distillation break-even.</p>\n</section>\n");
        return;
    }
    fe_buf_adds(b, "<table>\n");
    for (size_t i = 0; i < sizeof(fe_rows) / sizeof(fe_rows[0]); i++) {
        char s[64];
        fe_cell(s, sizeof(s), o, i);
        fe_buf_addf(b, "<tr><th>%s</th><td class=\"num\">%s</td></tr>\n", fe_rows[i].label, s);
    }
    if (fe_json_get(o, "unknown")) {
        fe_buf_adds(b, "<tr><th>unknown</th><td>");
        fe_buf_add_html(b, fe_json_gets_or(o, "unknown", ""));
        fe_buf_adds(b, "</td></tr>\n");
    }
    fe_buf_adds(b, "</table>\n</section>\n");
}
