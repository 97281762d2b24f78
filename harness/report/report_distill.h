/* report_distill.h — the Distillation section of the reports (issue 16; report_distill.c). */
#ifndef FE_REPORT_DISTILL_H
#define FE_REPORT_DISTILL_H

struct fe_buf;
struct fe_report_view;

void fe_report_distill_md(const struct fe_report_view *v, struct fe_buf *b);
void fe_report_distill_html(const struct fe_report_view *v, struct fe_buf *b);

#endif
