/* report_render.h — private to report*.c: the renderers. Each appends its output to out from the
 * shared view (report_int.h); report_write.c runs them, report_html.c embeds the SVG charts. */
#ifndef FE_REPORT_RENDER_H
#define FE_REPORT_RENDER_H

#include <cjson/cJSON.h>

#include "harness/base/buf.h"
#include "harness/report/report_browser.h"
#include "harness/report/report_int.h"

/* Renderers append to out. The HTML page hands its bytes to sink as it goes (NULL: held whole
 * in out; see report_browser.h). */
void fe_report_render_md(const struct fe_report_view *v, struct fe_buf *out);
void fe_report_render_html(const struct fe_report_view *v, struct fe_buf *out,
                           const struct fe_page_sink *sink);
/* The "Human ratings" section (report_human.c); nothing without a human block. */
void fe_report_human_md(const struct fe_report_view *v, struct fe_buf *out);
void fe_report_human_html(const struct fe_report_view *v, struct fe_buf *out);
/* The per-slice table (report_slices.c); nothing when the summary has no "slices" block. */
void fe_report_slices_md(const struct fe_report_view *v, struct fe_buf *out);
void fe_report_slices_html(const struct fe_report_view *v, struct fe_buf *out);
void fe_svg_quality(const struct fe_report_view *v, struct fe_buf *out);
void fe_svg_cost_quality(const struct fe_report_view *v, struct fe_buf *out);
void fe_svg_latency(const struct fe_report_view *v, struct fe_buf *out);
/* The confusion heatmap of one arm's corpus metric m (rows gold, columns predicted, shade by the
 * share of the gold row); nothing when it has no confusion matrix. */
void fe_svg_confusion(const struct fe_report_view *v, size_t arm, size_t m, struct fe_buf *out);
/* history: the entries of fe_history_load (array, may be NULL). */
/* history: the parsed entries of fe_history_load (none when there is no history). */
void fe_svg_trend(const struct fe_report_view *v, const struct fe_history_view *history,
                  struct fe_buf *out);

#endif
