/* rundir_judges.h — the typed view of summary.json "judges" (issue 12, docs/judges.md) for the
 * renderers (report/report_judges.c). Absent numbers are NAN, absent strings NULL; strings are
 * borrowed from the summary's cJSON tree. */
#ifndef FE_RUNDIR_JUDGES_H
#define FE_RUNDIR_JUDGES_H

#include <stddef.h>

#include <cjson/cJSON.h>

struct fe_judge_arm_view {
    const char *arm;
    double judged, errors, pending, calls, cost_usd;
    double win_rate, ci_lo, ci_hi, wins, ties, losses, sign_p, position_consistency; /* pairwise */
    double mean_score, pass_rate;                                                   /* rubric */
};

struct fe_judge_view {
    const char *name, *type, *model, *against, *self_preference, *warning;
    double calls, cost_usd, parse_failures, errors, pending, position_consistency;
    struct fe_judge_arm_view *arms;
    size_t n_arms;
};

/* Parses summary "judges" into *out (newly allocated, fe_judges_view_free); returns the count
 * (0 and *out NULL when there are none). */
size_t fe_judges_view_parse(const cJSON *summary, struct fe_judge_view **out);
void fe_judges_view_free(struct fe_judge_view *v, size_t n);

#endif
