/* report_write.c — fe_report_write (report.h): builds the shared view (report.c), runs the
 * Markdown and HTML renderers (report_render.h) and writes both files. */
#include "harness/report/report.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness/base/buf.h"
#include "harness/base/fs.h"
#include "harness/base/log.h"
#include "harness/base/util.h"
#include "harness/report/report_int.h"
#include "harness/report/report_render.h"

enum fe_status fe_report_write(const struct fe_run *run, struct fe_err *err)
{
    struct fe_report_view v;
    fe_report_view_init(&v, run);
    struct fe_buf md = {0}, html = {0};
    fe_report_render_md(&v, &md);
    fe_report_render_html(&v, &html);
    fe_report_view_release(&v);
    fe_redact_buf(&md); /* nothing secret is written (issue 11 §6) */
    fe_redact_buf(&html);
    char *mp = fe_xasprintf("%s/report.md", run->dir);
    char *hp = fe_xasprintf("%s/report.html", run->dir);
    enum fe_status st = fe_write_file_atomic(mp, fe_buf_str(&md), md.len, err);
    if (st == FE_OK)
        st = fe_write_file_atomic(hp, fe_buf_str(&html), html.len, err);
    free(mp);
    free(hp);
    fe_buf_release(&md);
    fe_buf_release(&html);
    return st;
}
