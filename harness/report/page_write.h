/* page_write.h — writes a page that grows with the examples (report.html, compare.html) without
 * holding it whole: the renderer hands it over in pieces through a struct fe_page_sink
 * (report_browser.h), each piece redacted (nothing secret is written, issue 11 §6) and appended
 * to a temporary file that replaces the page only when complete.
 *
 * Errors: FE_EIO with err naming the path; the old page, or none, stays (no partial file). */
#ifndef FE_PAGE_WRITE_H
#define FE_PAGE_WRITE_H

#include "harness/base/buf.h"
#include "harness/base/err.h"
#include "harness/report/report_browser.h"

/* Writes a page: appends to page and may hand it to sink at any point. */
typedef void fe_page_render(const void *ctx, struct fe_page_sink *sink, struct fe_buf *page);

/* Calls render(ctx, sink, page) to write the page at path; what is left in page at the end is
 * written last. */
enum fe_status fe_page_write(const char *path, fe_page_render *render, const void *ctx,
                             struct fe_err *err);

#endif
