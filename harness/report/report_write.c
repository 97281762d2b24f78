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
#include "harness/base/log.h"
#include "harness/base/util.h"
#include "harness/report/report_int.h"
#include "harness/report/report_render.h"

/* Writes path atomically (temporary file + rename) so a reader never sees half a report. */
static enum fe_status write_file(const char *path, const struct fe_buf *b, struct fe_err *err)
{
    char *tmp = fe_xasprintf("%s.tmp", path);
    FILE *f = fopen(tmp, "wb");
    if (!f) {
        fe_err_set(err, FE_EIO, "%s: cannot write: %s", tmp, strerror(errno));
        free(tmp);
        return FE_EIO;
    }
    bool ok = fwrite(fe_buf_str(b), 1, b->len, f) == b->len;
    ok = ok && fflush(f) == 0 && fsync(fileno(f)) == 0; /* on disk before it replaces the old one */
    ok = (fclose(f) == 0) && ok;
    if (!ok || rename(tmp, path) != 0 || fe_fsync_parent_dir(path) != 0) {
        fe_err_set(err, FE_EIO, "%s: cannot write: %s", path, strerror(errno));
        remove(tmp);
        free(tmp);
        return FE_EIO;
    }
    free(tmp);
    return FE_OK;
}

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
    enum fe_status st = write_file(mp, &md, err);
    if (st == FE_OK)
        st = write_file(hp, &html, err);
    free(mp);
    free(hp);
    fe_buf_release(&md);
    fe_buf_release(&html);
    return st;
}
