/* compare_text.c — the readable report of a compare.json result (fe_compare_render_text) and
 * the terminal escaping of model text (fe_compare_add_term); see compare.h. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness/analysis/compare.h"
#include "harness/rundir/rundir.h"
#include "harness/base/util.h"

void fe_compare_add_term(struct fe_buf *out, const char *s, size_t max_chars)
{
    if (!s) {
        fe_buf_adds(out, "null");
        return;
    }
    size_t len = strlen(s), i = 0, chars = 0;
    while (i < len) {
        if (max_chars && chars >= max_chars) {
            fe_buf_adds(out, "...");
            return;
        }
        unsigned char c = (unsigned char)s[i];
        if (c == '\n') {
            fe_buf_adds(out, "\\n");
            i++;
        } else if (c == '\t') {
            fe_buf_adds(out, "\\t");
            i++;
        } else if (c == '\r') {
            fe_buf_adds(out, "\\r");
            i++;
        } else if (c < 0x20 || c == 0x7f) {
            fe_buf_addf(out, "\\x%02x", c);
            i++;
        } else if (c < 0x80) {
            fe_buf_addch(out, (char)c);
            i++;
        } else {
            size_t ok = fe_utf8_check(s + i, len - i);
            size_t clen = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : 2;
            bool valid = ok >= clen;
            /* C1 controls (U+0080..U+009F) are encoded as C2 80..C2 9F */
            if (!valid || (c == 0xc2 && (unsigned char)s[i + 1] < 0xa0)) {
                size_t nb = valid ? clen : 1;
                for (size_t k = 0; k < nb; k++)
                    fe_buf_addf(out, "\\x%02x", (unsigned char)s[i + k]);
                i += nb;
            } else {
                fe_buf_add(out, s + i, clen);
                i += clen;
            }
        }
        chars++;
    }
}

static void fe_add_gold(struct fe_buf *out, const cJSON *gold, size_t max)
{
    if (cJSON_IsString(gold)) {
        fe_compare_add_term(out, gold->valuestring, max);
        return;
    }
    char *s = gold ? cJSON_PrintUnformatted(gold) : NULL;
    fe_compare_add_term(out, s ? s : "null", max);
    free(s);
}

/* Appends v as "%*.*f" (with "+" when sign) and a trailing space when width > 0, or "-". */
static void fe_fmt_num(struct fe_buf *out, double v, int width, int prec, bool sign)
{
    if (isfinite(v) && sign)
        fe_buf_addf(out, "%+*.*f", width, prec, v);
    else if (isfinite(v))
        fe_buf_addf(out, "%*.*f", width, prec, v);
    else
        fe_buf_addf(out, "%*s", width, "-");
    if (width > 0)
        fe_buf_adds(out, " ");
}

static void fe_render_examples(struct fe_buf *out, const char *what,
                               const struct fe_compare_list_view *list, size_t max)
{
    /* a result of fe_compare_runs_lists lists the first examples only; "count" has them all */
    size_t total = list->n_examples;
    if (fe_has(list->count) && list->count > (double)total)
        total = (size_t)list->count;
    fe_buf_addf(out, "  %s on %s: %zu", what, fe_str_or(list->metric, "n/a"), total);
    if (total > max)
        fe_buf_addf(out, " (first %zu shown, all in compare.json)", max);
    fe_buf_adds(out, "\n");
    for (size_t i = 0; i < list->n_examples && i < max; i++) {
        const struct fe_compare_example_view *e = &list->examples[i];
        fe_buf_adds(out, "    ");
        fe_compare_add_term(out, e->id, 40);
        fe_buf_adds(out, ": gold \"");
        fe_add_gold(out, e->gold, 40);
        fe_buf_adds(out, "\" | baseline \"");
        fe_compare_add_term(out, e->baseline_prediction, 40);
        fe_buf_adds(out, "\" | candidate \"");
        fe_compare_add_term(out, e->candidate_prediction, 40);
        fe_buf_adds(out, "\"");
        if (e->candidate_status && strcmp(e->candidate_status, "ok") != 0)
            fe_buf_addf(out, " [%s]", e->candidate_status);
        fe_buf_adds(out, "\n");
    }
}

static bool fe_streq(const char *a, const char *b)
{
    return a && strcmp(a, b) == 0;
}

static void fe_render_header(const struct fe_compare_view *r, bool ab, struct fe_buf *out)
{
    fe_buf_adds(out, "fteval compare: ");
    if (ab) {
        fe_buf_adds(out, "arms of ");
        fe_compare_add_term(out, r->baseline_dir, 0);
    } else {
        fe_buf_adds(out, "baseline ");
        fe_compare_add_term(out, r->baseline_dir, 0);
        fe_buf_adds(out, "\n                candidate ");
        fe_compare_add_term(out, r->candidate_dir, 0);
    }
    fe_buf_addf(out, "\nmargin %.4g, alpha %.4g (one-sided %.0f%% bounds, two-sided %.0f%% CI), "
                     "Holm over arms x metrics\n",
                r->margin, r->alpha, 100 * (1 - r->alpha), 100 * (1 - r->alpha));
    if (!r->dataset_same)
        fe_buf_addf(out, "held-out sets differ: %zu added, %zu removed\n", r->n_added,
                    r->n_removed);
    for (size_t i = 0; i < r->n_warnings; i++) {
        fe_buf_adds(out, "warning: ");
        fe_compare_add_term(out, r->warnings[i], 0);
        fe_buf_adds(out, "\n");
    }
    for (size_t i = 0; i < r->n_changes; i++) {
        const struct fe_compare_change_view *ch = &r->changes[i];
        fe_buf_adds(out, ab ? "arms differ: " : "changed: ");
        if (ch->arm) {
            fe_compare_add_term(out, ch->arm, 40);
            fe_buf_adds(out, ".");
        }
        fe_compare_add_term(out, ch->field, 60);
        fe_buf_adds(out, ": ");
        char *x = cJSON_PrintUnformatted(ch->baseline);
        char *y = cJSON_PrintUnformatted(ch->candidate);
        fe_compare_add_term(out, x, 60);
        fe_buf_adds(out, " -> ");
        fe_compare_add_term(out, y, 60);
        fe_buf_adds(out, "\n");
        free(x);
        free(y);
    }
}

/* One row per arm x metric. */
static void fe_render_table(const struct fe_compare_view *r, struct fe_buf *out)
{
    fe_buf_addf(out, "\n%-16s %-14s %6s %9s %9s %8s %19s %9s %8s %8s %7s  %s\n", "arm", "metric", "n",
                "baseline", "candidate", "delta", "CI", "lower", "p", "p_adj", "MDE", "verdict");
    for (size_t a = 0; a < r->n_arms; a++) {
        const struct fe_compare_arm_view *ae = &r->arms[a];
        for (size_t k = 0; k < ae->n_metrics; k++) {
            const struct fe_compare_metric_view *me = &ae->metrics[k];
            struct fe_buf name = {0};
            fe_compare_add_term(&name, ae->name, 16);
            fe_buf_addf(out, "%-16s %-14s %6.0f ", fe_buf_str(&name),
                        fe_str_or(me->metric, "n/a"), me->n);
            fe_buf_release(&name);
            fe_fmt_num(out, me->mean_baseline, 9, 4, false);
            fe_fmt_num(out, me->mean_candidate, 9, 4, false);
            fe_fmt_num(out, me->delta, 8, 4, true);
            if (fe_has(me->ci_lo))
                fe_buf_addf(out, "[%+8.4f,%+8.4f] ", me->ci_lo, me->ci_hi);
            else
                fe_buf_addf(out, "%19s ", "-");
            fe_fmt_num(out, me->lower_bound, 9, 4, true);
            fe_fmt_num(out, me->p, 8, 4, false);
            fe_fmt_num(out, me->p_adjusted, 8, 4, false);
            fe_fmt_num(out, me->mde, 7, 4, false);
            fe_buf_addf(out, " %s\n", fe_str_or(me->verdict, "-"));
        }
    }
    fe_buf_adds(out, "\n");
}

static void fe_render_drift(const struct fe_compare_arm_view *ae, size_t max_list,
                            struct fe_buf *out)
{
    for (size_t k = 0; k < ae->n_drift; k++) {
        const struct fe_compare_drift_test_view *t = &ae->drift[k];
        fe_buf_addf(out, "  drift %-14s ", fe_str_or(t->name, "n/a"));
        if (fe_streq(t->test, "chi_square")) {
            fe_buf_addf(out, "chi2 %.3f, df %.0f, p %.4g", t->stat, t->df, t->p);
        } else if (fe_streq(t->test, "paired_t")) {
            fe_buf_adds(out, "mean bytes ");
            fe_fmt_num(out, t->mean_baseline, 0, 1, false);
            fe_buf_adds(out, " -> ");
            fe_fmt_num(out, t->mean_candidate, 0, 1, false);
            fe_buf_addf(out, ", paired t p %.4g", t->p);
        } else {
            fe_buf_adds(out, "rate ");
            fe_fmt_num(out, t->rate_baseline, 0, 4, false);
            fe_buf_adds(out, " -> ");
            fe_fmt_num(out, t->rate_candidate, 0, 4, false);
            fe_buf_addf(out, ", McNemar p %.4g", t->p);
        }
        fe_buf_adds(out, t->flagged ? "  DRIFT\n" : "\n");
        if (t->flagged && fe_streq(t->test, "chi_square")) {
            for (size_t c = 0; c < t->n_categories && c < max_list; c++) {
                fe_buf_adds(out, "      \"");
                fe_compare_add_term(out, t->categories[c].label, 30);
                fe_buf_addf(out, "\": %.0f -> %.0f\n", t->categories[c].baseline,
                            t->categories[c].candidate);
            }
        }
    }
}

void fe_compare_render_text(const cJSON *res, size_t max_list, struct fe_buf *out)
{
    struct fe_compare_view r;
    fe_compare_view_parse(res, &r);
    bool ab = fe_streq(r.mode, "arms");
    fe_render_header(&r, ab, out);
    fe_render_table(&r, out);
    for (size_t a = 0; a < r.n_arms; a++) {
        const struct fe_compare_arm_view *ae = &r.arms[a];
        fe_buf_adds(out, "arm ");
        fe_compare_add_term(out, ae->name, 40);
        fe_buf_addf(out, ": %.0f examples, errors %.0f -> %.0f, missing %.0f -> %.0f\n", ae->n,
                    ae->n_errors_baseline, ae->n_errors_candidate, ae->n_missing_baseline,
                    ae->n_missing_candidate);
        for (size_t k = 0; k < ae->n_metrics; k++) {
            const struct fe_compare_metric_view *me = &ae->metrics[k];
            fe_buf_addf(out, "  %s: %s (%s)\n", fe_str_or(me->metric, "n/a"),
                        fe_str_or(me->verdict, "n/a"), fe_str_or(me->reason, "n/a"));
        }
        fe_render_drift(ae, max_list, out);
        fe_render_examples(out, "broke", &ae->broke, max_list);
        fe_render_examples(out, "fixed", &ae->fixed, max_list);
    }
    fe_buf_addf(out, "\nresult: %s (%.0f pass, %.0f improvement, %.0f inconclusive, %.0f regression%s)"
                     ", exit %d\n",
                fe_str_or(r.verdict, "n/a"), r.n_pass, r.n_improvement, r.n_inconclusive,
                r.n_regression, r.drift_flagged ? "; drift flagged" : "",
                fe_compare_view_exit_code(&r));
    fe_compare_view_release(&r);
}
