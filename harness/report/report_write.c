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
#include "harness/report/report_browser.h"
#include "harness/report/report_int.h"
#include "harness/report/report_render.h"

/* The streamed report.html: after a failed write the rest of the page is dropped. */
struct page_out {
    struct fe_atomic_file file;
    struct fe_err *err;
    enum fe_status st;
};

static void page_flush(void *ctx, struct fe_buf *b)
{
    struct page_out *p = ctx;
    if (p->st == FE_OK)
        p->st = fe_atomic_put_redacted(&p->file, b, false, p->err);
    else
        fe_buf_reset(b);
}

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

static enum fe_status write_html(const struct fe_report_view *v, struct fe_err *err)
{
    char *path = fe_xasprintf("%s/report.html", v->run->dir);
    struct page_out out = {.err = err};
    out.st = fe_atomic_open(&out.file, path, err);
    free(path);
    if (out.st != FE_OK)
        return out.st;
    struct fe_page_sink sink = {.flush = page_flush, .ctx = &out};
    struct fe_buf page = {0};
    fe_report_render_html(v, &page, &sink);
    if (out.st == FE_OK)
        out.st = fe_atomic_put_redacted(&out.file, &page, true, err);
    fe_buf_release(&page);
    if (out.st != FE_OK) {
        fe_atomic_abort(&out.file); /* no partial report.html: the old one, or none, stays */
        return out.st;
    }
    return fe_atomic_commit(&out.file, err);
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
