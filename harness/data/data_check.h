/* data_check.h — dataset readiness checks (`fteval data check`, used by `ft upload` too).
 *
 * One pass over FILE (and one over the held-out file) with bounded memory per line; what is kept
 * per example is its MinHash signature, shingle hashes, label and a few counters, so memory
 * grows linearly with the number of examples, never with line length. Checks (docs/data.md):
 *   format      chat / dpo / plain shape, roles, content, weight, tool_call_id, UTF-8, NUL bytes,
 *               JSON, over-long lines, mixed shapes                         (errors block)
 *   size        < 500 examples warning, < 1000 note; held-out too small for --mde (warning)
 *   pii         data_pii.h detectors over every string in every line        (blocks)
 *   duplicate   exact duplicates after normalisation (data_dedup.h)          (warning)
 *   near_duplicate  char 5-gram Jaccard >= 0.9 via MinHash + LSH              (warning)
 *   leakage     held-out examples found exactly or nearly in FILE            (blocks)
 *   labels      label balance when labels exist                             (warning/note)
 *   length      per-role characters and estimated tokens (base/tokens.h)   (note)
 *   cost        training tokens × n_epochs, priced with --model/--prices     (note/warning)
 *   production  system prompt and user-template match against --config        (warning)
 *
 * Findings are kept up to max_findings per check (every one is still counted), so a broken
 * 10-million-line file cannot exhaust memory through its report.
 */
#ifndef FE_DATA_CHECK_H
#define FE_DATA_CHECK_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

#include "harness/base/buf.h"
#include "harness/data/data_pii.h"
#include "harness/input/data_row.h"
#include "harness/base/err.h"

/* The gate of `ft upload`: runs every check on path for fine-tuning (FE_DATA_FOR_FINETUNE) and
 * appends a human-readable report to text. Returns 2 when OpenAI's fine-tuning would reject the
 * file (a blocking format finding: err is set to FE_EINVALID naming the file, line and field of
 * the first one and how many there are), 1 when something else blocks (PII, leakage), 0 when
 * nothing blocks, -1 when the file cannot be read (err set). */
int fe_data_check_blocking(const char *path, struct fe_buf *text, struct fe_err *err);

enum fe_data_severity {
    FE_DATA_NOTE = 0,
    FE_DATA_WARNING,
    FE_DATA_BLOCKING,
    FE_DATA_SEVERITY_COUNT
};

enum fe_data_check_id {
    FE_CHECK_FORMAT = 0,
    FE_CHECK_SIZE,
    FE_CHECK_PII,
    FE_CHECK_DUPLICATE,
    FE_CHECK_NEAR_DUPLICATE,
    FE_CHECK_LEAKAGE,
    FE_CHECK_LABELS,
    FE_CHECK_LENGTH,
    FE_CHECK_COST,
    FE_CHECK_PRODUCTION,
    FE_CHECK_COUNT
};

/* "note", "warning", "blocking" and "format", "size", "pii", ... as used in the JSON. */
const char *fe_data_severity_name(enum fe_data_severity s);
const char *fe_data_check_name(enum fe_data_check_id c);

struct fe_data_finding {
    enum fe_data_check_id check;
    enum fe_data_severity severity;
    const char *file;       /* borrowed from the report (path or against), NULL = no file */
    size_t line;            /* 1-based; 0 = the whole file */
    char *kind;             /* machine-readable code: "email", "bad_role", "missing_assistant" */
    char *field;            /* JSON path inside the line ("messages[2].weight") or NULL */
    char *message;          /* human-readable, never contains PII in full */
    char *excerpt;          /* redacted excerpt (PII) or NULL */
    const char *other_file; /* duplicates and leakage: where the other copy is */
    size_t other_line;
    double similarity; /* near duplicates and leakage; -1 when not applicable */
};

/* What FILE is for (`data check --for`). OpenAI's fine-tuning accepts only chat and DPO rows:
 * FINETUNE makes every row it would reject a blocking format error (plain-shape rows, a last
 * message that is not the assistant's, empty content, fewer than 10 examples); ANY (the default)
 * reports plain-shape rows once as a warning; EVAL accepts them silently (a held-out set). */
enum fe_data_purpose { FE_DATA_FOR_ANY = 0, FE_DATA_FOR_FINETUNE, FE_DATA_FOR_EVAL };

struct fe_data_check_opts {
    const char *path;      /* FILE (required) */
    enum fe_data_purpose purpose;
    const char *against;   /* held-out file or NULL */
    const char *config;    /* run config or NULL */
    const char *model;     /* base or ft model for the training cost, or NULL */
    const char *prices;    /* price table path or NULL */
    long n_epochs;         /* default 3 */
    double mde;            /* minimum detectable effect for the held-out size; 0 = not asked */
    double near_threshold; /* default FE_DEDUP_THRESHOLD (0.9) */
    size_t max_findings;   /* per check; default 200 */
};

/* Per-role length statistics (chars of content; tokens estimated by base/tokens.h, ceil(UTF-8 bytes / 4)). */
struct fe_data_role_stats {
    const char *role; /* static name */
    size_t messages;
    size_t chars, chars_min, chars_max;
    size_t tokens;
};

#define FE_DATA_ROLES 6 /* system, developer, user, assistant, tool, other */

struct fe_data_report {
    char *path, *against, *config, *model;
    struct fe_data_finding *findings;
    size_t n_findings, alloc;
    size_t max_findings;
    size_t counts[FE_CHECK_COUNT][FE_DATA_SEVERITY_COUNT]; /* every finding, kept or not */
    size_t dropped[FE_CHECK_COUNT];                        /* counted but not kept */

    size_t lines, blank_lines, examples, invalid_lines;
    size_t shapes[FE_SHAPE_COUNT];
    size_t pii[FE_PII_KIND_COUNT];
    struct fe_data_role_stats roles[FE_DATA_ROLES];
    size_t tokens_total; /* estimated tokens of every example once */
    size_t tokens_max;   /* largest example */
    long n_epochs;
    size_t training_tokens; /* tokens_total × n_epochs */
    bool priced;            /* a training price was found */
    double price_per_1m, cost_usd;

    enum fe_data_purpose purpose;
    size_t first_plain_line; /* first plain-shape row (0 = none) */

    const char *label_source; /* "label", "gold", "assistant" or NULL (no labels) */
    size_t n_labels;
    char **label_names; /* sorted by name */
    size_t *label_counts;

    size_t dup_groups, dup_rows;   /* exact: groups of size >= 2, rows beyond the first */
    size_t near_groups, near_rows; /* near (not exact) groups and rows beyond the first */
    double near_threshold;

    size_t heldout_examples, leaked_exact, leaked_near;
    double mde;
    size_t mde_required_n; /* paired n needed for --mde (0 = not asked) */

    size_t system_checked, system_mismatch, template_checked, template_mismatch;
    bool production_checked;
};

void fe_data_check_opts_init(struct fe_data_check_opts *o);

/* Runs the checks. Returns a newly allocated report (caller frees with fe_data_report_free), or
 * NULL with err set when an input cannot be read (FE_EIO) or an option file (config, prices) is
 * invalid (FE_EINVALID); the message names the file. */
struct fe_data_report *fe_data_check_run(const struct fe_data_check_opts *o, struct fe_err *err);
void fe_data_report_free(struct fe_data_report *r); /* NULL is a no-op */

/* True when any finding blocks. */
bool fe_data_report_blocking(const struct fe_data_report *r);
/* Appends the human-readable report (one finding per line "file:line: severity: check: ..."). */
void fe_data_report_text(const struct fe_data_report *r, struct fe_buf *out);
/* Returns the report as JSON ("schema": "fteval.data_check/1"); caller deletes. */
cJSON *fe_data_report_json(const struct fe_data_report *r);

/* Adds a finding (message formatted). Kept only while the check has fewer than max_findings;
 * always counted. kind, field may be NULL. Returns the kept finding or NULL. */
struct fe_data_finding *fe_data_report_add(struct fe_data_report *r, enum fe_data_check_id check,
                                           enum fe_data_severity sev, const char *file, size_t line,
                                           const char *kind, const char *field, const char *fmt,
                                           ...) __attribute__((format(printf, 8, 9)));

/* Paired sample size to detect a difference of mde in a binary metric at p ≈ 0.5 with
 * alpha = 0.05 (two-sided) and 80% power: ceil(2.80² · 0.25 · 2 / mde²). 0 when mde <= 0. */
size_t fe_data_mde_n(double mde);

#endif
