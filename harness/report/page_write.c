/* page_write.c — see page_write.h. */
#include "harness/report/page_write.h"

#include "harness/base/fs.h"

/* The page's file: after a failed write the rest of the page is dropped. */
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

enum fe_status fe_page_write(const char *path, fe_page_render *render, const void *ctx,
                             struct fe_err *err)
{
    struct page_out out = {.err = err};
    out.st = fe_atomic_open(&out.file, path, err);
    if (out.st != FE_OK)
        return out.st;
    struct fe_page_sink sink = {.flush = page_flush, .ctx = &out};
    struct fe_buf page = {0};
    render(ctx, &sink, &page);
    if (out.st == FE_OK)
        out.st = fe_atomic_put_redacted(&out.file, &page, true, err);
    fe_buf_release(&page);
    if (out.st != FE_OK) {
        fe_atomic_abort(&out.file); /* no partial page: the old one, or none, stays */
        return out.st;
    }
    return fe_atomic_commit(&out.file, err);
}
