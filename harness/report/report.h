/* report.h — renders report.md and report.html from a results directory. Owner: reporting.
 *
 * Reads the loaded run (manifest.json, summary.json when present, the <arm>.jsonl records) and
 * writes exactly two files, <run->dir>/report.md and <run->dir>/report.html, each atomically
 * (temporary file + rename). The verdict comes first; see docs/decision.md for the sections.
 * The HTML is self-contained (inline CSS and SVG, one inline script — the example browser,
 * report_browser.h — no external resource, a CSP that allows only that script, by its hash);
 * every string from data or a model is HTML-escaped (or script-safe JSON in the browser's data), and Markdown-escaped in
 * report.md so tables keep their shape. Missing pieces (no summary, no comparisons, one arm,
 * unknown prices, an all-errors arm, no records) render as explanations, never as failures.
 * Implementation: report_write.c (this entry point), report.c (shared view and formatting),
 * report_md.c, report_html.c, report_svg.c (renderers, report_render.h).
 */
#ifndef FE_REPORT_H
#define FE_REPORT_H

#include "harness/base/err.h"
#include "harness/rundir/rundir.h"

/* Writes <run->dir>/report.md and report.html. Without run->summary, statistics are limited to
 * plain means and the decision is recomputed from the records. Returns FE_OK, or FE_EIO with err
 * naming the file that could not be written. */
enum fe_status fe_report_write(const struct fe_run *run, struct fe_err *err);

#endif
