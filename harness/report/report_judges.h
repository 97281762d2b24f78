/* report_judges.h — the Judges section of the reports (issue 12; report_judges.c). */
#ifndef FE_REPORT_JUDGES_H
#define FE_REPORT_JUDGES_H

struct fe_buf;
struct fe_report_view;

void fe_report_judges_md(const struct fe_report_view *v, struct fe_buf *b);
void fe_report_judges_html(const struct fe_report_view *v, struct fe_buf *b);

#endif
