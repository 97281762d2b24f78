/* data_row.h — the ONE row-shape parser of fteval's JSONL inputs: `run` and `score` (through
 * dataset.h, which builds its examples on these functions), `data check`, `data split`.
 *
 * fe_data_lines reads a file line by line with bounded memory: a line longer than
 * FE_DATASET_MAX_LINE bytes is reported (too_long) and skipped without being buffered, a NUL
 * byte is reported (has_nul). The bytes of each line are kept exactly (a '\r' before the '\n'
 * stays), so `data split` can copy lines byte for byte.
 *
 * The shape of a parsed line (fe_data_shape_of), the same for every reader:
 *   chat  {"messages": [...]}                                 (OpenAI supervised fine-tuning)
 *   dpo   {"input": {"messages": [...]}, "preferred_output": [...], "non_preferred_output": [...]}
 *   plain {"input": "...", "gold": ...}                        (evaluation shape, DESIGN §3; a
 *         line with "gold" but no "input" is plain too: its template may use other fields)
 *
 * The text of a message content (fe_data_content), the same for every reader: a string as is;
 * an array of text parts {"type": "text", "text": "..."} concatenated with NOTHING between them
 * (as the API reads them); "content": null is the same as a missing content — a message
 * without text, never an empty string (evaluation: an error; training data: `missing_content`
 * unless an assistant message carries tool_calls). Ids and labels are read by
 * fe_dataset_id_text (dataset.h): a string, or a finite number as cJSON prints it.
 *
 * fe_data_row_extract pulls out of a parsed line what the checks need, for every shape. It
 * never fails: absent parts stay NULL (the format validation in data_check.c reports them).
 */
#ifndef FE_DATA_ROW_H
#define FE_DATA_ROW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include <cjson/cJSON.h>

#include "harness/base/buf.h"
#include "harness/base/err.h"

/* Largest line accepted (a longer one is an error, never unbounded memory). */
#define FE_DATASET_MAX_LINE (16u * 1024 * 1024)

struct fe_data_lines {
    FILE *f;
    char *path;
    size_t line;       /* 1-based number of the line just read */
    struct fe_buf buf; /* its bytes without the '\n' (empty when too_long) */
    bool too_long;
    bool has_nul;
    bool newline; /* the line ended with '\n' (false only for a last line without one) */
};

/* Opens path; FE_OK, or FE_EIO with err naming the file. */
enum fe_status fe_data_lines_open(struct fe_data_lines *r, const char *path, struct fe_err *err);
/* Reads the next line: 1, 0 at end of file, -1 on a read error (err set). */
int fe_data_lines_next(struct fe_data_lines *r, struct fe_err *err);
void fe_data_lines_close(struct fe_data_lines *r);

/* True when s[0..len) holds only spaces, tabs and '\r'. */
bool fe_data_blank(const char *s, size_t len);

/* Parses one line: returns the JSON object (caller deletes), or NULL with *why set to a static
 * reason ("invalid UTF-8", "invalid JSON", "not a JSON object", "trailing characters") and
 * *at to the 1-based byte offset. */
cJSON *fe_data_parse_line(const char *s, size_t len, const char **why, size_t *at);

enum fe_data_shape {
    FE_SHAPE_UNKNOWN = 0,
    FE_SHAPE_CHAT,
    FE_SHAPE_DPO,
    FE_SHAPE_PLAIN,
    FE_SHAPE_COUNT
};
const char *fe_data_shape_name(enum fe_data_shape shape); /* "unknown", "chat", "dpo", "plain" */
/* The shape of a parsed line: "messages" -> chat; "input" an object, or "preferred_output" ->
 * dpo; "input" or "gold" -> plain; anything else unknown. */
enum fe_data_shape fe_data_shape_of(const cJSON *json);

struct fe_data_row {
    enum fe_data_shape shape;
    char *id;      /* "id" by fe_dataset_id_text (string or finite number), NULL otherwise */
    char *label;   /* "label" by fe_dataset_id_text, or a plain "gold" string; NULL otherwise */
    char *answer;  /* final assistant message (chat), preferred output (dpo); NULL otherwise */
    char *system;  /* first system/developer message (chat, dpo input); NULL when none */
    char *user;    /* last user message (chat, dpo input); NULL when none */
    char *prompt;  /* text compared for duplicates and leakage (never NULL): the user messages
                    * joined by "\n" (chat, dpo), input + "\n" + context (plain); when that is
                    * empty, every message (or the whole line) */
    char *stratum; /* value of the --stratify-by field, when asked; NULL when absent */
};

/* The text of an id (or cluster, label) value, by the one rule every reader of ids uses (dataset,
 * `score --pred` files, replay): a string as is, a finite number as cJSON prints it (so id 0.1
 * is "0.1" everywhere). NULL for anything else. Newly allocated, caller frees. */
char *fe_dataset_id_text(const cJSON *v);

enum fe_content_kind {
    FE_CONTENT_TEXT = 0, /* *text set (newly allocated, caller frees) */
    FE_CONTENT_NONE,     /* missing (content == NULL) or JSON null: the message has no text */
    FE_CONTENT_BAD,      /* neither a string nor an array */
    FE_CONTENT_BAD_PART, /* part *bad_part is not {"type": "text", "text": "..."} */
};
/* Reads a message's "content" value (NULL when the key is absent) by the one rule above.
 * *text is NULL unless FE_CONTENT_TEXT; bad_part may be NULL. */
enum fe_content_kind fe_data_content(const cJSON *content, char **text, int *bad_part);
/* The text of a content by the same rule, or NULL when it has none or is invalid. */
char *fe_data_content_text(const cJSON *content);

/* ---- rows that are not JSON lines, and field mapping (issue 13) ----
 *
 * A CSV record becomes the same row object a JSONL line is: {header[i]: fields[i]}, every value
 * a string, so the shapes, the content rule and the id rule above apply to it unchanged. */

/* The row object of a CSV record (caller deletes), or NULL with err "where: ..." when the record
 * has a different number of fields than the header (header_line names the header's line). */
cJSON *fe_data_csv_object(char *const *header, size_t n_header, size_t header_line,
                          char *const *fields, size_t n, const char *where, struct fe_err *err);
/* True when the header of a CSV file is unusable: an empty or repeated name; *why (static) and
 * *bad (1-based column) say which. */
bool fe_data_csv_header_bad(char *const *header, size_t n, const char **why, size_t *bad);

/* Field mapping: which field of a row holds the id, the input, the gold and the slice (the
 * config's task.id_field, task.input_field, task.gold_field, task.slice_field). NULL keeps the
 * standard name ("id", "input", "gold", "slice") and its rules. */
struct fe_field_map {
    const char *id;
    const char *input;
    const char *gold;
    const char *slice;
};
/* Copies each mapped field of row under its standard name (replacing what the row had there),
 * so a {"text": ..., "label": ...} row reads as {"input": ..., "gold": ...} without rewriting
 * the file; the mapped fields stay too (a template may name them). A mapped field absent from
 * the row is an error naming it: FE_EINVALID, err "where: field 'text': missing (task.input_field)".
 * map NULL, or all NULL: nothing to do. Returns 0 or -1. */
int fe_data_row_map(cJSON *row, const struct fe_field_map *map, const char *where,
                    struct fe_err *err);

/* Fills row from a parsed line (stratify_field may be NULL). Release with fe_data_row_release. */
void fe_data_row_extract(const cJSON *json, const char *stratify_field, struct fe_data_row *row);
void fe_data_row_release(struct fe_data_row *row);

#endif
