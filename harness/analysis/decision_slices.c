/* decision_slices.c — what the slices block of the summary (slices.h) means for the verdict:
 * fine-tunes often regress on rare classes while the average rises, so a slice where the
 * candidate is significantly worse than the baseline after the correction across slices is a
 * reason of its own, and the verdict is never ship_candidate then (it becomes keep_baseline:
 * the candidate is measurably worse for part of the traffic). Rules: docs/decision.md. */
#include "harness/analysis/decision.h"
#include "harness/analysis/decision_int.h"

#include <stdio.h>
#include <string.h>

#include "harness/base/buf.h"

void fe_dec_slices(struct fe_ctx *c, const char *metric_label, cJSON *reasons)
{
    struct fe_slices_view sv;
    fe_slices_view_parse(c->summary, &sv);
    const char *cand = c->arms[c->cand].name, *base = c->arms[c->base].name;
    size_t worse = 0;
    for (size_t i = 0; i < sv.n_cmps; i++) {
        const struct fe_slice_cmp *k = &sv.cmps[i];
        if (!k->worse || !k->a || !k->b || !k->slice || strcmp(k->a, cand) != 0 || strcmp(k->b, base) != 0)
            continue;
        char d[32], p[32];
        fe_dec_fmt_pts(d, sizeof(d), k->delta);
        fe_dec_fmt_p(p, sizeof(p), k->p_adjusted, false);
        const char *adj = fe_dec_adjustment_label(k->adjustment);
        struct fe_buf b = {0};
        fe_buf_addf(&b, "slice %s=%s: %s is significantly worse than %s on %s (%s pts, %s%s%s over %.0f slices)",
                    sv.field ? sv.field : "slice", k->slice, cand, base, metric_label,
                    d, p, adj ? " " : "", adj ? adj : "", k->family_size);
        cJSON_AddItemToArray(reasons, cJSON_CreateString(fe_buf_str(&b)));
        fe_buf_release(&b);
        worse++;
    }
    if (worse && c->verdict && strcmp(c->verdict, "ship_candidate") == 0) {
        c->verdict = "keep_baseline";
        char msg[200];
        snprintf(msg, sizeof(msg), "not shipped: %s regresses on %zu slice%s, whatever its average", cand, worse,
                 worse == 1 ? "" : "s");
        cJSON_AddItemToArray(reasons, cJSON_CreateString(msg));
    }
    fe_slices_view_release(&sv);
}
