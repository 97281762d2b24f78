/* report_write.c — fe_report_write (report.h): builds the shared view (report.c), runs the
 * Markdown and HTML renderers (report_render.h) and writes both files. report.md is small (no
 * part of it grows with the examples) and is written from one buffer; report.html holds every
 * example, so it is streamed: the renderer hands it over FE_PAGE_CHUNK bytes at a time and each
 * piece is redacted and written to the temporary file (fs.h, fe_atomic_put_redacted), so the
 * page is never held whole. */
#include "harness/report/report.h"

#include <stdbool.h>
#include <stdlib.h>

#include "harness/base/buf.h"
#include "harness/base/fs.h"
#include "harness/base/log.h"
#include "harness/base/util.h"
#include "harness/report/page_write.h"
#include "harness/report/report_browser.h"
#include "harness/report/report_int.h"
#include "harness/report/report_render.h"

static enum fe_status write_md(const struct fe_report_view *v, struct fe_err *err)
{
    struct fe_buf md = {0};
    fe_report_render_md(v, &md);
    fe_redact_buf(&md); /* nothing secret is written (issue 11 §6) */
    char *path = fe_xasprintf("%s/report.md", v->run->dir);
    enum fe_status st = fe_write_file_atomic(path, fe_buf_str(&md), md.len, err);
    free(path);
    fe_buf_release(&md);
    return st;
}

static void render_html(const void *ctx, struct fe_page_sink *sink, struct fe_buf *page)
{
    fe_report_render_html(ctx, page, sink);
}

static enum fe_status write_html(const struct fe_report_view *v, struct fe_err *err)
{
    char *path = fe_xasprintf("%s/report.html", v->run->dir);
    enum fe_status st = fe_page_write(path, render_html, v, err);
    free(path);
    return st;
}

enum fe_status fe_report_write(const struct fe_run *run, struct fe_err *err)
{
    struct fe_report_view v;
    fe_report_view_init(&v, run);
    enum fe_status st = write_md(&v, err);
    if (st == FE_OK)
        st = write_html(&v, err);
    fe_report_view_release(&v);
    return st;
}
