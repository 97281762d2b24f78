/* dataset.h — the held-out set: JSONL, one example per line, two shapes (DESIGN §3, contract).
 *
 * chat:  {"messages": [..., {"role": "assistant", "content": GOLD}], "id"?, "golds"?, "cluster"?,
 *         "label"?, "meta"?}  — the final assistant message is the gold and is never sent.
 * plain: {"id"?, "input": "...", "gold": "..." | ["...", ...] | {...}, "context"?, "cluster"?, ...}
 *
 * Golds: a string or array of strings; "" or [] marks an unanswerable example (golds = [""]).
 * An object or other JSON value is a structured gold (extraction): golds holds its canonical
 * JSON text and gold_json the value. A missing "gold" key, a duplicate id or an invalid line is
 * an error naming the file and line (FE_EINVALID) — never a silent skip.
 *
 * The row-shape rules are data_row.h's, shared with `data check` and `data split`: the shape of
 * a line, the text of a message content (text parts concatenated with nothing between them;
 * "content": null is a missing content, an error here, never ""), the id rule. A preference
 * (DPO) row is training data, not an example: an error naming the line.
 *
 * The reader streams (data_row.h's line reader): memory is one line plus the set of ids seen
 * (for duplicate detection).
 */
#ifndef FE_DATASET_H
#define FE_DATASET_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

#include "harness/base/err.h"
#include "harness/input/data_row.h" /* the row-shape rules, FE_DATASET_MAX_LINE, fe_dataset_id_text */

struct fe_message {
    char *role;
    char *content;
};

struct fe_example {
    char *id;       /* "line-N" when the line has no id */
    size_t line;    /* 1-based line number in the file */
    bool chat;      /* which shape the line had */
    struct fe_message *messages; /* chat shape: every message but the final assistant one */
    size_t n_messages;
    char **golds;   /* at least one; [""] when unanswerable */
    size_t n_golds;
    cJSON *gold_json; /* structured gold (object/array of non-strings) or NULL */
    char *cluster;  /* NULL when absent; numbers are converted to text */
    char *label;    /* NULL when absent */
    char *slice;    /* "slice" (or the mapped slice field): NULL when absent; numbers as text */
    cJSON *row;     /* the whole parsed line: template fields, meta */
};

struct fe_dataset_reader;

/* How to read a dataset file (the config's dataset_format and task.*_field). Strings are
 * borrowed: they must outlive the reader. */
struct fe_dataset_opts {
    const char *format;       /* "jsonl", "csv", or NULL: by the name (".csv" -> CSV, else JSONL) */
    struct fe_field_map map;  /* data_row.h: which fields hold id, input, gold and slice */
    bool no_gold;             /* unlabeled rows (fteval distill): plain rows without "gold", chat rows
                                 without the final assistant message; the gold is "" */
};
/* "csv" or "jsonl": opts->format, else by path's extension (case-insensitive ".csv"). */
const char *fe_dataset_format_of(const char *path, const struct fe_dataset_opts *opts);
/* For commands that read JSONL line by line (`data check`, `data split`): FE_OK, or
 * FE_EINVALID when path is a CSV file by its name, with err saying how to convert it. */
enum fe_status fe_dataset_jsonl_only(const char *path, const char *command, struct fe_err *err);

/* Opens path for streaming. Returns FE_OK or FE_EINVALID (unreadable: bad input) with err set. */
enum fe_status fe_dataset_open(struct fe_dataset_reader **out, const char *path, struct fe_err *err);
/* The same with opts (NULL: the format by the name, the standard field names). A CSV file's first
 * record is its header; each later record is the row {header[i]: field[i]} (all strings), read by
 * the same shape, id and content rules as a JSONL line. A JSONL file whose first line is not
 * JSON but has a comma is reported as "FILE:LINE: this is CSV; set dataset_format". */
enum fe_status fe_dataset_open_with(struct fe_dataset_reader **out, const char *path,
                                    const struct fe_dataset_opts *opts, struct fe_err *err);
/* Reads the next example into ex (which the caller releases with fe_example_release).
 * Returns 1 when an example was read, 0 at end of file, -1 on error (err names file:line:field).
 * Blank lines are skipped. */
int fe_dataset_next(struct fe_dataset_reader *r, struct fe_example *ex, struct fe_err *err);
/* Lines read so far (including blank ones). */
size_t fe_dataset_lines(const struct fe_dataset_reader *r);
void fe_dataset_close(struct fe_dataset_reader *r);  /* NULL is a no-op */

/* Parses one JSONL line (no newline) as fe_dataset_next would; for tests and fuzzing. The
 * caller checks duplicate ids. file is only used in messages. */
int fe_example_parse(const char *text, size_t len, const char *file, size_t line,
                     struct fe_example *ex, struct fe_err *err);
/* Builds an example from a row object (taking ownership of row, even on failure) after applying
 * the field map (NULL: none): the one path from a row — a JSONL line or a CSV record — to an
 * example. Returns 0 or -1 (err "file:line: ..."). */
int fe_example_from_row(cJSON *row, const struct fe_field_map *map, const char *file, size_t line,
                        struct fe_example *ex, struct fe_err *err);
/* The same with a dataset's opts (its field map and no_gold), as its reader reads a row (the batch
 * runner reads spilled rows back with it). */
int fe_example_from_row_with(cJSON *row, const struct fe_dataset_opts *opts, const char *file, size_t line,
                             struct fe_example *ex, struct fe_err *err);
void fe_example_release(struct fe_example *ex);  /* frees members; ex is zeroed */

/* Reads a whole dataset into memory (for `score`, `compare`, `data`): returns FE_OK and an
 * array the caller frees with fe_examples_free. */
enum fe_status fe_dataset_load(const char *path, struct fe_example **out, size_t *n,
                               struct fe_err *err);
enum fe_status fe_dataset_load_with(const char *path, const struct fe_dataset_opts *opts,
                                    struct fe_example **out, size_t *n, struct fe_err *err);
void fe_examples_free(struct fe_example *ex, size_t n);

/* Estimated tokens of a chat prompt by the one rule of base/tokens.h: FE_TOKENS_REPLY_PRIMER plus,
 * per message, FE_TOKENS_PER_MESSAGE + fe_estimate_tokens(content). Used by `run --dry-run`,
 * the runner's TPM limits and the budget's worst case. */
long fe_estimate_prompt_tokens(const struct fe_message *m, size_t n);


#endif
