/* data_split.h — deterministic, leak-free train/test split (`fteval data split`).
 *
 * Rows that must stay together form groups (union-find): rows with the same id, rows whose
 * normalised prompts are equal, and near-duplicate rows (data_dedup.h, Jaccard >= 0.9 on
 * character 5-grams). A group's place is decided by a seeded 64-bit hash of its content (the
 * smallest member hash of the normalised prompt mixed with the seed), never by a global RNG, so
 * the same file and seed always give byte-identical outputs, and a row's side does not depend on
 * where it sits in the file.
 *
 * Stratification: each group belongs to the stratum (label) of its first row. Per stratum the
 * test target is fraction × size, rounded by largest remainder so the total is
 * round(fraction × N) and every stratum is within one example of its exact share (when groups
 * are single rows). Groups are visited in hash order and go to the test side while that brings
 * the stratum's test count closer to its target.
 *
 * Lines are copied byte for byte (a '\r' stays) in their original order; blank lines are
 * dropped; a last line without '\n' gets one.
 */
#ifndef FE_DATA_SPLIT_H
#define FE_DATA_SPLIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "harness/base/buf.h"
#include "harness/base/err.h"

struct fe_data_split_opts {
    const char *path;
    const char *train_out;
    const char *test_out;
    double test_fraction; /* 0 < f < 1 */
    uint64_t seed;
    const char *stratify_by; /* top-level field; NULL = auto ("label", plain "gold" strings, or a
                              * classification-like final assistant message) */
    bool no_stratify;
    double near_threshold; /* default 0.9 */
};

struct fe_data_split_result {
    size_t rows, train, test;
    size_t strata;            /* 0 when not stratified */
    char stratify_source[64]; /* "label", "gold", "assistant", the field name, or "" */
    size_t groups_multi;      /* groups of two or more rows */
    size_t rows_in_groups;    /* rows in those groups */
};

void fe_data_split_opts_init(struct fe_data_split_opts *o);

/* Splits o->path into o->train_out and o->test_out. Returns FE_OK, FE_EINVALID when a line is
 * not valid JSON (err names file:line), FE_EIO when a file cannot be read or written. */
enum fe_status fe_data_split(const struct fe_data_split_opts *o, struct fe_data_split_result *res,
                             struct fe_err *err);

/* Appends a short human-readable summary of res. */
void fe_data_split_summary(const struct fe_data_split_opts *o,
                           const struct fe_data_split_result *res, struct fe_buf *out);

#endif
