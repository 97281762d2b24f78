/* compare_html.h — compare.html: the broke and fixed examples of `fteval compare` with their
 * inputs, one example browser (report_browser.h) per arm pair, opened on "broke". Owner:
 * reporting. Same rules as report.html: one offline file, one inline script allowed by its hash
 * in the Content-Security-Policy, every string escaped (HTML text, or script-safe JSON). */
#ifndef FE_COMPARE_HTML_H
#define FE_COMPARE_HTML_H

#include <cjson/cJSON.h>

#include "harness/base/err.h"

struct fe_compare_lists;

/* Writes <dir>/compare.html (atomically) from result, the compare.json object of
 * fe_compare_runs; with lists (fe_compare_runs_lists), the examples of each arm pair are built
 * from lists, one arm pair at a time, instead of read from result. FE_OK, or FE_EIO with err
 * naming the file. */
enum fe_status fe_compare_html_write(const cJSON *result, const struct fe_compare_lists *lists,
                                     const char *dir, struct fe_err *err);

#endif
