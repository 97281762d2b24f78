/* decision_util.c — small helpers shared by decision.c, decision_rubric.c and decision_distill.c (so none calls
 * the other back): the rubric band, points and p formatting, config-relative paths. */
#include "harness/analysis/decision.h"
#include "harness/analysis/decision_int.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "harness/base/util.h"

const char *fe_rubric_band(int total)
{
    if (total >= 28)
        return "justified";
    if (total >= 21)
        return "needs_more_evaluation";
    return "premature";
}

/* "+6.0" / "-3.2" points from a fraction. */
void fe_dec_fmt_pts(char *out, size_t size, double frac)
{
    double v = frac * 100.0;
    if (fabs(v) < 0.05)
        v = 0;
    snprintf(out, size, "%+.1f", v);
}

char *fe_dec_config_relative(const struct fe_ctx *c, const char *path)
{
    const char *cfg_path = c->man.config_path;
    if (path[0] == '/' || !cfg_path) {
        /* no config location: try relative to the run directory */
        if (path[0] == '/')
            return fe_xstrdup(path);
        return fe_xasprintf("%s/%s", c->run->dir, path);
    }
    return fe_path_relative_to(cfg_path, path);
}

/* "p<0.001" / "p=0.003" (spaced: "p < 0.001", "p = 0.003"). */
void fe_dec_fmt_p(char *out, size_t size, double p, bool spaced)
{
    if (p < 0.001)
        snprintf(out, size, spaced ? "p < 0.001" : "p<0.001");
    else
        snprintf(out, size, spaced ? "p = %.3f" : "p=%.3f", p);
}

const char *fe_dec_adjustment_label(const char *adj)
{
    if (!adj || strcmp(adj, "none") == 0)
        return NULL;
    if (strcmp(adj, "holm") == 0)
        return "Holm";
    if (strcmp(adj, "bonferroni") == 0)
        return "Bonferroni";
    return adj;
}

/* decision.h; here so that decision.c and decision_distill.c share it without a call cycle. */
bool fe_break_even_requests(double training_usd, double savings, double *requests)
{
    if (!(savings > 0) || !(training_usd >= 0) || !isfinite(training_usd) || !isfinite(savings))
        return false;
    *requests = ceil(training_usd / savings - 1e-9);
    if (*requests < 0)
        *requests = 0;
    return true;
}
