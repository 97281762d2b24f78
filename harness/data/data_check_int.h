/* data_check_int.h — private to harness/data/data_check*.c and data_report.c: the state of one
 * `data check` run and the functions its files share. The files call each other in one
 * direction only (tests/layers_test.py checks it with nm):
 *   data_check.c (options, the `ft upload` gate) -> data_check_pass.c (fe_data_check_run: the
 *   passes over FILE and HELDOUT, the whole-file checks) -> data_check_format.c (format, PII, lengths) and data_check_prod.c
 *   (--config: production format, prices) -> data_report.c (the report, its text and JSON).
 */
#ifndef FE_DATA_CHECK_INT_H
#define FE_DATA_CHECK_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "harness/base/buf.h"
#include "harness/base/strmap.h"
#include "harness/data/data_check.h"
#include "harness/data/data_dedup.h"
#include "harness/input/data_row.h"

struct label_tally {
    struct fe_strmap map; /* label -> index into counts */
    size_t *counts;
    size_t n;
    bool overflow; /* more than FE_DATA_LABEL_CAP distinct values */
    size_t rows;
    size_t chars; /* total length (to judge "classification-like") */
};

struct pair {
    size_t a, b;
    double sim;
    bool exact;
};

struct check_state {
    struct fe_data_report *r;
    const struct fe_data_check_opts *o;
    struct fe_strmap ids; /* id -> line */
    enum fe_data_shape first_shape;
    size_t first_shape_line;
    struct label_tally labels, answers;
    bool has_label_field;
    struct fe_dedup dd;
    size_t *item_line;     /* dedup item -> line */
    uint64_t *item_answer; /* dedup item -> hash of the answer (conflicting duplicates) */
    size_t n_train;
    size_t items_alloc;
    struct pair *pairs;
    size_t n_pairs, alloc_pairs;
    /* production format */
    char **systems; /* system prompts of the production arms; NULL entry = none */
    size_t n_systems;
    bool check_system;
    char *tmpl_prefix, *tmpl_suffix; /* NULL when no template */
    char *tmpl;                      /* task.template, to render plain held-out rows like FILE's */
    /* prices */
    cJSON *prices; /* the "models" object's parent (owned) */
};

/* A blocking / warning format finding about line of FILE. */
#define FMT_ERR(st, line, kind, field, ...)                                                        \
    fe_data_report_add((st)->r, FE_CHECK_FORMAT, FE_DATA_BLOCKING, (st)->r->path, line, kind,      \
                       field, __VA_ARGS__)
#define FMT_WARN(st, line, kind, field, ...)                                                       \
    fe_data_report_add((st)->r, FE_CHECK_FORMAT, FE_DATA_WARNING, (st)->r->path, line, kind,       \
                       field, __VA_ARGS__)

/* data_check_format.c */
/* UTF-8 code points of s (continuation bytes are not counted). */
size_t fe_dc_utf8_chars(const char *s);
/* Validates one parsed line (shape, messages, content, weights, roles); adds format findings and
 * the per-role length statistics. Returns the estimated tokens of the example. */
size_t fe_dc_check_shape(struct check_state *st, size_t line, const cJSON *json,
                         const struct fe_data_row *row);
/* Scans every string of v (recursively) for PII; path is the JSON path so far. */
void fe_dc_pii_walk(struct check_state *st, size_t line, const cJSON *v, struct fe_buf *path);

/* data_check_prod.c */
/* Reads a JSON object file: the object (caller deletes), or NULL with err set (FE_EIO or
 * FE_EINVALID naming the file). */
cJSON *fe_dc_read_json_file(const char *path, struct fe_err *err);
/* Reads the run config (systems of the production arms, the template, a price table). 0 or -1
 * with err set. */
int fe_dc_load_config(struct check_state *st, const char *path, struct fe_err *err);
/* The production format checks of one chat or DPO row (system prompt, template). */
void fe_dc_check_production(struct check_state *st, size_t line, const struct fe_data_row *row);
/* Training price per 1M tokens of model in a price table; false when unknown. */
bool fe_dc_training_price(const cJSON *prices, const char *model, double *out);

#endif
