/* report_browser.h — private to harness/report/: the example browser of report.html and
 * compare.html. Owner: reporting.
 *
 * A browser is one <section class="eb"> holding a skeleton and one
 * <script type="application/json" class="eb-data"> element with every example: ids, input, gold,
 * slice and, as parallel arrays per arm, the output, the primary-metric score and the error
 * kind. A string column whose values repeat (gold labels, class outputs) is written once as a
 * table plus indexes. The page runs ONE inline script (fe_browser_script, after every section)
 * that builds the filters (all, fixed, broke, all wrong, errors, slice, class), the text search
 * and the pager from the data; the page's Content-Security-Policy (fe_browser_csp) allows that
 * script by its sha256 hash and nothing else. The JSON is made safe inside <script>: '<', '>'
 * and '&' are written as \u003c, \u003e, \u0026, so no data string can close the element; the
 * script only ever sets textContent, never HTML.
 * Implemented by report_browser.c (writer, script, hash), report_examples.c (a run's examples
 * for report.html) and compare_html.c (compare.html).
 */
#ifndef FE_REPORT_BROWSER_H
#define FE_REPORT_BROWSER_H

#include <stdbool.h>
#include <stddef.h>

#include "harness/base/buf.h"

/* The columns a browser may read through fe_browser.text (strings) and fe_browser.num (numbers)
 * instead of arrays. */
enum fe_browser_col {
    FE_BROWSER_INPUT, FE_BROWSER_GOLD, FE_BROWSER_OUT, /* text */
    FE_BROWSER_ID, FE_BROWSER_SLICE, FE_BROWSER_ERR,   /* text, when ids is NULL */
    FE_BROWSER_SCORE, FE_BROWSER_CUT                   /* num, when ids is NULL (cut: 1 or 0) */
};

/* A page written in pieces: flush takes bytes of b out of it (into a file, fs.h's
 * fe_atomic_put_redacted), so the page is never held whole. */
struct fe_page_sink {
    void (*flush)(void *ctx, struct fe_buf *b);
    void *ctx;
};
/* The browser hands its page to the sink between two values once it holds this many bytes. */
#define FE_PAGE_CHUNK (64 * 1024)

struct fe_browser {
    const char *dom_id;           /* the section's id (unique in the page) */
    const char *title;            /* the section's heading */
    const char *metric;           /* the metric the scores are on */
    const char *const *arms;      /* n_arms names, in column order */
    size_t n_arms;
    long base, cand;              /* arm indexes; -1: none (no fixed/broke filters) */
    const char *filter;           /* initial filter: "all", "fixed", "broke", "wrong", "errors" */
    const char *const *filters;   /* the filter buttons offered (NULL-terminated); NULL: all */
    bool classes;                 /* the golds are class labels: offer the class filter */
    size_t n;                     /* examples, in display order */
    const char *const *ids;       /* n */
    const char *const *inputs;    /* n, entries may be NULL; NULL: no example has an input */
    const bool *truncated;        /* n, or NULL: the input was cut (record "input_truncated") */
    const char *const *golds;     /* n, display text */
    const char *const *slices;    /* n, entries may be NULL; NULL: no example has a slice */
    const char *const *out;       /* n_arms * n: [a * n + i]; NULL: no record */
    const double *score;          /* n_arms * n: NAN when unknown (no record) */
    const char *const *err;       /* n_arms * n: NULL ok, else the error kind or "missing" */
    /* Instead of inputs, golds and out (left NULL), a large run's browser reads each cell when
     * it is written, so the texts are never all in memory: the input, gold or output (arm a)
     * of example i, NULL when none; borrowed until the next call. has_input: some example has
     * an input (the "input" column is written). */
    const char *(*text)(void *ctx, enum fe_browser_col col, size_t a, size_t i);
    void *text_ctx;
    bool has_input;
    /* With ids NULL as well, every per-example column is read: ids, slices, errors through
     * text, scores and cut flags through num (same ctx), so the browser holds nothing per
     * example. has_slice, has_cut: the "slice" and "cut" columns are written. The readers are
     * called in passes, each over i = 0, 1, ..., n - 1 in order (a pass may repeat an i), which
     * a reader may rely on to read its examples sequentially. */
    double (*num)(void *ctx, enum fe_browser_col col, size_t a, size_t i);
    bool has_slice, has_cut;
    const struct fe_page_sink *sink; /* NULL: the page is held whole */
};

/* A score at or above this is "right" (fixed = baseline wrong and candidate right): the rule of
 * compare's broke/fixed lists (docs/nightly.md §3). */
#define FE_BROWSER_RIGHT 0.5
#define FE_BROWSER_PER_PAGE 50

/* Appends the value of the page's Content-Security-Policy: no source but inline styles, data:
 * images and the one script, by hash. */
void fe_browser_csp(struct fe_buf *b);
/* Appends the <style> of the browser (once per page). */
void fe_browser_style(struct fe_buf *b);
/* Appends one browser section. */
void fe_browser_section(const struct fe_browser *w, struct fe_buf *b);
/* Appends the one inline <script> (once per page, after the sections). */
void fe_browser_script(struct fe_buf *b);
/* The script's text, exactly as between <script> and </script> (what the hash covers); newly
 * allocated, caller frees. */
char *fe_browser_script_text(void);

/* report.html's browser: every example of the run with each arm's output (report_examples.c). */
struct fe_report_view;
void fe_report_html_browser(const struct fe_report_view *v, struct fe_buf *b,
                            const struct fe_page_sink *sink);

#endif
