/* report_int.h — private to report*.c: the view of a run that the Markdown, HTML and SVG
 * renderers share. Built once by fe_report_view_init from the run (summary.json when present,
 * else recomputed from the records), so every renderer copes with missing pieces the same way.
 * Implemented by report.c; the renderers themselves are declared in report_render.h.
 */
#ifndef FE_REPORT_INT_H
#define FE_REPORT_INT_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

#include "harness/base/buf.h"
#include "harness/rundir/rundir.h"

struct fe_report_metric {
    bool has_mean, has_ci;
    double mean, lo, hi;
};

struct fe_report_arm {
    const char *name;  /* borrowed from run */
    const char *model; /* may be NULL */
    size_t n, n_errors;
    struct fe_report_metric *metrics; /* one per run metric */
    bool priced;
    double per_inference, per_1k, total;
    bool has_latency;
    double lat_p5, lat_p25, lat_p50, lat_p75, lat_p95, lat_p99, lat_mean, lat_max;
    bool has_ttft;              /* streamed answers: their time to first token (issue 15) */
    double ttft_p5, ttft_p25, ttft_p50, ttft_p75, ttft_p95;
    const char *price_source, *price_as_of; /* borrowed from the manifest, may be NULL */
};

/* An example the candidate fixed or broke: its record index in the candidate arm and in the
 * baseline arm (read them with fe_arm_rec; a record pointer is never kept). */
struct fe_report_example {
    size_t cand, base;
};

#define FE_REPORT_EXAMPLES 5

struct fe_report_view {
    const struct fe_run *run;
    struct fe_manifest_view manifest;
    struct fe_summary_view summary;   /* summary.present false without summary.json */
    const struct fe_decision_view *decision; /* the summary's, else recomputed; present false
                                              * when there is none */
    struct fe_decision_view owned_view;
    cJSON *owned_decision;
    struct fe_report_arm *arms;
    size_t n_arms;
    size_t primary; /* index into run->metrics; == n_metrics when none */
    bool has_spend, has_budget;
    double spend_usd, budget_usd;   /* the evaluation's own cost (all arms) and budget.max_usd */
    long cand, base; /* arm indexes from the decision, -1 when none */
    struct fe_report_example fixed[FE_REPORT_EXAMPLES], broke[FE_REPORT_EXAMPLES]; /* the first
                                                 * by candidate id, kept_* of them */
    size_t n_fixed, n_broke; /* totals; at most FE_REPORT_EXAMPLES are kept */
    size_t kept_fixed, kept_broke;
};

#define FE_REPORT_CLIP 300 /* bytes of a prediction or gold shown */

void fe_report_view_init(struct fe_report_view *v, const struct fe_run *run);
void fe_report_view_release(struct fe_report_view *v);

/* Helpers shared by the renderers. */
/* Markdown-safe text: backslash-escapes \ ` * _ [ ] < > | ~ & # and turns CR/LF/tab into spaces. */
void fe_md_escape(struct fe_buf *b, const char *s);
/* A record's gold as display text (string, alternatives joined by " / ", or compact JSON).
 * Newly allocated. */
char *fe_report_gold_text(const struct fe_record_text *r);
/* The same for any gold value (g may be NULL: ""). */
char *fe_report_json_text(const cJSON *g);
/* s clipped to at most max bytes on a UTF-8 boundary, with "..." appended when clipped. */
char *fe_report_clip(const char *s, size_t max);
/* "84.0%" style percent of a fraction, "n/a" when absent. */
void fe_report_pct(char *out, size_t size, bool ok, double frac);
/* Money with enough significant digits: "$0.000140", "$12.30", "n/a". */
void fe_report_usd(char *out, size_t size, bool ok, double usd);
/* Human text of a verdict ("Ship the candidate", ...). */
const char *fe_report_verdict_text(const char *verdict);
const char *fe_report_arm_color(size_t i);

#endif
