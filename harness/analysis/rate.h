/* rate.h — blinded human rating sets (issue 12, docs/human-ratings.md). Owner: human ratings.
 *
 * Export (rate_export.c, rate_page.c) writes a rating set for one judge of a run into a folder
 * the raters get: items.jsonl, sheet.csv and rate.html. No arm or model name reaches those
 * files: an item has an opaque id; a pairwise item shows the judged arm's output and its
 * `against` arm's output as A and B in an order drawn from the seed; a rubric item shows one
 * output and the scale. The key that unblinds them stays in the run:
 * RUN/rate/<judge>.key.json ({"judge", "type", "scale"?, "items": {ID: {"example", "arm",
 * "against"?, "a"?}}}), merged with what an earlier export of the judge wrote.
 *
 * Sampling: the unit is an example. Examples where the judgement exists (no "error") are
 * ordered by SHA-256(seed, judge, example id) and the first n taken: a seeded draw without
 * replacement, and a smaller n is a subset of a larger one. Every judged arm of a sampled
 * example gives one item (pairwise: each arm vs its `against`; rubric: each arm). Item ids
 * and the A/B order are functions of (seed, judge, example, arm), so exporting again with the
 * same seed gives the same ids and order.
 *
 * Import (rate_import.c) reads ratings (CSV with a header naming "item" and "rating", and
 * "rater" unless --rater is given; or JSONL objects with those keys), checks them all before
 * anything is written — an unknown item, a rating outside the choices or the scale, a rating
 * given twice by one rater (in the files or already imported) is an error naming the file, line
 * and field — and then appends them, unblinded, to RUN/human.jsonl (rewritten atomically: what
 * was imported before is kept). A row with an empty rating is an item the rater skipped.
 */
#ifndef FE_RATE_H
#define FE_RATE_H

#include <stdbool.h>
#include <stddef.h>

#include "harness/base/err.h"
#include "harness/base/buf.h"
#include "harness/rundir/rundir.h"

/* The rendered final user message arm sent for example_id, for records without "input"
 * (runs before the field existed): newly allocated, or NULL with err set. */
typedef char *(*fe_rate_input_fn)(void *ctx, const char *arm, const char *example_id,
                                  struct fe_err *err);

struct fe_rate_export_opts {
    const char *judge;
    long n;                     /* examples to sample, >= 1 */
    unsigned long seed;
    const char *out_dir;        /* created when missing; must not be RUN/rate */
    fe_rate_input_fn render_input; /* may be NULL: then a record without "input" is an error */
    void *render_ctx;
};

struct fe_rate_export_result {
    size_t available;           /* examples with the judgement */
    size_t examples, items;     /* sampled examples and the items they gave */
    char *key_path;             /* caller frees */
};

/* Writes the rating set. FE_OK, FE_EINVALID (no such judge or nothing judged, err says which),
 * FE_EIO (err names the file). */
enum fe_status fe_rate_export(const struct fe_run *run, const struct fe_rate_export_opts *o,
                              struct fe_rate_export_result *res, struct fe_err *err);

struct fe_rate_import_result {
    size_t ratings;             /* imported now */
    size_t skipped;             /* rows without a rating */
    size_t total;               /* in human.jsonl afterwards */
};

/* Imports files[0..n). rater (may be NULL) names the rater of every rating, overriding a
 * "rater" column. FE_OK, FE_EINVALID (a bad rating: nothing written), FE_EIO. */
enum fe_status fe_rate_import(const struct fe_run *run, const char *const *files, size_t n_files,
                              const char *rater, struct fe_rate_import_result *res,
                              struct fe_err *err);

/* ---- shared by the rate_*.c files ---------------------------------------------------------- */

/* The judgement NAME of a record (its text: fe_run_record_text) when it exists and did not
 * fail, else NULL (borrowed from t). */
const cJSON *fe_rate_judgement(const struct fe_record_text *t, const char *judge);
/* The path of the judge's key in run: RUN/rate/<judge>.key.json. Caller frees. */
char *fe_rate_key_path(const struct fe_run *run, const char *judge);
/* rate.html for the items (a JSON array as written to items.jsonl). Caller frees. */
char *fe_rate_page(const cJSON *items, size_t *len);

#endif
