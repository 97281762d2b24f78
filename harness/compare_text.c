/* compare_text.c — the readable report of a compare.json result (fe_compare_render_text) and
 * the terminal escaping of model text (fe_compare_add_term); see compare.h. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness/compare.h"
#include "harness/compare_int.h"
#include "harness/jsonout.h"
#include "harness/util.h"

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

/* Appends o.k as "%*.*f" (with "+" when sign) and a trailing space when width > 0, or "-". */
static void fe_fmt_num(struct fe_buf *out, const cJSON *o, const char *k, int width, int prec,
                       bool sign)
{
    double v = fe_compare_num(o, k);
    if (isfinite(v) && sign)
        fe_buf_addf(out, "%+*.*f", width, prec, v);
    else if (isfinite(v))
        fe_buf_addf(out, "%*.*f", width, prec, v);
    else
        fe_buf_addf(out, "%*s", width, "-");
    if (width > 0)
        fe_buf_adds(out, " ");
}

static void fe_render_examples(struct fe_buf *out, const char *what, const cJSON *list, size_t max)
{
    const cJSON *ex = fe_json_get(list, "examples");
    int count = cJSON_GetArraySize(ex);
    fe_buf_addf(out, "  %s on %s: %d", what, fe_compare_str(list, "metric"), count);
    if ((size_t)count > max)
        fe_buf_addf(out, " (first %zu shown, all in compare.json)", max);
    fe_buf_adds(out, "\n");
    size_t shown = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, ex) {
        if (shown++ >= max)
            break;
        fe_buf_adds(out, "    ");
        fe_compare_add_term(out, fe_compare_str(e, "id"), 40);
        fe_buf_adds(out, ": gold \"");
        fe_add_gold(out, fe_json_get(e, "gold"), 40);
        fe_buf_adds(out, "\" | baseline \"");
        fe_compare_add_term(out, fe_compare_str(e, "baseline_prediction"), 40);
        fe_buf_adds(out, "\" | candidate \"");
        fe_compare_add_term(out, fe_compare_str(e, "candidate_prediction"), 40);
        fe_buf_adds(out, "\"");
        const char *cs = fe_compare_str(e, "candidate_status");
        if (cs && strcmp(cs, "ok") != 0)
            fe_buf_addf(out, " [%s]", cs);
        fe_buf_adds(out, "\n");
    }
}

void fe_compare_render_text(const cJSON *res, size_t max_list, struct fe_buf *out)
{
    const cJSON *b = fe_json_get(res, "baseline"), *c = fe_json_get(res, "candidate"), *o = fe_json_get(res, "options");
    bool ab = strcmp(fe_compare_str(res, "mode") ? fe_compare_str(res, "mode") : "", "arms") == 0;
    fe_buf_adds(out, "fteval compare: ");
    if (ab) {
        fe_buf_adds(out, "arms of ");
        fe_compare_add_term(out, fe_compare_str(b, "dir"), 0);
    } else {
        fe_buf_adds(out, "baseline ");
        fe_compare_add_term(out, fe_compare_str(b, "dir"), 0);
        fe_buf_adds(out, "\n                candidate ");
        fe_compare_add_term(out, fe_compare_str(c, "dir"), 0);
    }
    double alpha = fe_compare_num(o, "alpha");
    fe_buf_addf(out, "\nmargin %.4g, alpha %.4g (one-sided %.0f%% bounds, two-sided %.0f%% CI), "
                     "Holm over arms x metrics\n",
                fe_compare_num(o, "margin"), alpha, 100 * (1 - alpha), 100 * (1 - alpha));
    const cJSON *ds = fe_json_get(res, "dataset");
    if (!cJSON_IsTrue(fe_json_get(ds, "same")))
        fe_buf_addf(out, "held-out sets differ: %d added, %d removed\n",
                    cJSON_GetArraySize(fe_json_get(ds, "added")), cJSON_GetArraySize(fe_json_get(ds, "removed")));
    const cJSON *w;
    cJSON_ArrayForEach(w, fe_json_get(res, "warnings")) {
        fe_buf_adds(out, "warning: ");
        fe_compare_add_term(out, w->valuestring, 0);
        fe_buf_adds(out, "\n");
    }
    const cJSON *ch;
    cJSON_ArrayForEach(ch, fe_json_get(res, "changes")) {
        fe_buf_adds(out, ab ? "arms differ: " : "changed: ");
        if (fe_compare_str(ch, "arm")) {
            fe_compare_add_term(out, fe_compare_str(ch, "arm"), 40);
            fe_buf_adds(out, ".");
        }
        fe_compare_add_term(out, fe_compare_str(ch, "field"), 60);
        fe_buf_adds(out, ": ");
        char *x = cJSON_PrintUnformatted(fe_json_get(ch, "baseline"));
        char *y = cJSON_PrintUnformatted(fe_json_get(ch, "candidate"));
        fe_compare_add_term(out, x, 60);
        fe_buf_adds(out, " -> ");
        fe_compare_add_term(out, y, 60);
        fe_buf_adds(out, "\n");
        free(x);
        free(y);
    }
    fe_buf_addf(out, "\n%-16s %-14s %6s %9s %9s %8s %19s %9s %8s %8s %7s  %s\n", "arm", "metric", "n",
                "baseline", "candidate", "delta", "CI", "lower", "p", "p_adj", "MDE", "verdict");
    const cJSON *ae;
    cJSON_ArrayForEach(ae, fe_json_get(res, "arms")) {
        const cJSON *me;
        cJSON_ArrayForEach(me, fe_json_get(ae, "metrics")) {
            struct fe_buf name = {0};
            fe_compare_add_term(&name, fe_compare_str(ae, "name"), 16);
            fe_buf_addf(out, "%-16s %-14s %6.0f ", fe_buf_str(&name), fe_compare_str(me, "metric"),
                        fe_compare_num(me, "n"));
            fe_buf_release(&name);
            fe_fmt_num(out, me, "mean_baseline", 9, 4, false);
            fe_fmt_num(out, me, "mean_candidate", 9, 4, false);
            fe_fmt_num(out, me, "delta", 8, 4, true);
            const cJSON *ci = fe_json_get(me, "ci");
            if (cJSON_GetArraySize(ci) == 2)
                fe_buf_addf(out, "[%+8.4f,%+8.4f] ", cJSON_GetArrayItem(ci, 0)->valuedouble,
                            cJSON_GetArrayItem(ci, 1)->valuedouble);
            else
                fe_buf_addf(out, "%19s ", "-");
            fe_fmt_num(out, me, "lower_bound", 9, 4, true);
            fe_fmt_num(out, me, "p", 8, 4, false);
            fe_fmt_num(out, me, "p_adjusted", 8, 4, false);
            fe_fmt_num(out, me, "mde", 7, 4, false);
            const char *v = fe_compare_str(me, "verdict");
            fe_buf_addf(out, " %s\n", v ? v : "-");
        }
    }
    fe_buf_adds(out, "\n");
    cJSON_ArrayForEach(ae, fe_json_get(res, "arms")) {
        fe_buf_adds(out, "arm ");
        fe_compare_add_term(out, fe_compare_str(ae, "name"), 40);
        fe_buf_addf(out, ": %.0f examples, errors %.0f -> %.0f, missing %.0f -> %.0f\n",
                    fe_compare_num(ae, "n"), fe_compare_num(ae, "n_errors_baseline"), fe_compare_num(ae, "n_errors_candidate"),
                    fe_compare_num(ae, "n_missing_baseline"), fe_compare_num(ae, "n_missing_candidate"));
        const cJSON *me;
        cJSON_ArrayForEach(me, fe_json_get(ae, "metrics")) {
            fe_buf_addf(out, "  %s: %s (%s)\n", fe_compare_str(me, "metric"), fe_compare_str(me, "verdict"),
                        fe_compare_str(me, "reason"));
        }
        const cJSON *t;
        cJSON_ArrayForEach(t, fe_json_get(fe_json_get(ae, "drift"), "tests")) {
            const char *name = fe_compare_str(t, "name");
            fe_buf_addf(out, "  drift %-14s ", name);
            if (strcmp(fe_compare_str(t, "test"), "chi_square") == 0) {
                fe_buf_addf(out, "chi2 %.3f, df %.0f, p %.4g", fe_compare_num(t, "stat"), fe_compare_num(t, "df"),
                            fe_compare_num(t, "p"));
            } else if (strcmp(fe_compare_str(t, "test"), "paired_t") == 0) {
                fe_buf_adds(out, "mean bytes ");
                fe_fmt_num(out, t, "mean_baseline", 0, 1, false);
                fe_buf_adds(out, " -> ");
                fe_fmt_num(out, t, "mean_candidate", 0, 1, false);
                fe_buf_addf(out, ", paired t p %.4g", fe_compare_num(t, "p"));
            } else {
                fe_buf_adds(out, "rate ");
                fe_fmt_num(out, t, "rate_baseline", 0, 4, false);
                fe_buf_adds(out, " -> ");
                fe_fmt_num(out, t, "rate_candidate", 0, 4, false);
                fe_buf_addf(out, ", McNemar p %.4g", fe_compare_num(t, "p"));
            }
            fe_buf_adds(out, cJSON_IsTrue(fe_json_get(t, "flagged")) ? "  DRIFT\n" : "\n");
            if (cJSON_IsTrue(fe_json_get(t, "flagged")) && strcmp(fe_compare_str(t, "test"), "chi_square") == 0) {
                const cJSON *cat;
                size_t shown = 0;
                cJSON_ArrayForEach(cat, fe_json_get(t, "categories")) {
                    if (shown++ >= max_list)
                        break;
                    fe_buf_adds(out, "      \"");
                    fe_compare_add_term(out, fe_compare_str(cat, "label"), 30);
                    fe_buf_addf(out, "\": %.0f -> %.0f\n", fe_compare_num(cat, "baseline"),
                                fe_compare_num(cat, "candidate"));
                }
            }
        }
        fe_render_examples(out, "broke", fe_json_get(ae, "broke"), max_list);
        fe_render_examples(out, "fixed", fe_json_get(ae, "fixed"), max_list);
    }
    const cJSON *cnt = fe_json_get(res, "counts");
    fe_buf_addf(out, "\nresult: %s (%.0f pass, %.0f improvement, %.0f inconclusive, %.0f regression%s)"
                     ", exit %d\n",
                fe_compare_str(res, "verdict"), fe_compare_num(cnt, "pass"), fe_compare_num(cnt, "improvement"),
                fe_compare_num(cnt, "inconclusive"), fe_compare_num(cnt, "regression"),
                cJSON_IsTrue(fe_json_get(res, "drift_flagged")) ? "; drift flagged" : "",
                fe_compare_exit_code(res));
}
