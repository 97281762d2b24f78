/* data_row.h — reading training/evaluation JSONL for `data check` and `data split`.
 *
 * fe_data_lines reads a file line by line with bounded memory: a line longer than
 * FE_DATASET_MAX_LINE bytes is reported (too_long) and skipped without being buffered, a NUL
 * byte is reported (has_nul). The bytes of each line are kept exactly (a '\r' before the '\n'
 * stays), so `data split` can copy lines byte for byte.
 *
 * fe_data_row_extract pulls out of a parsed line what the checks need, for every shape:
 *   chat  {"messages": [...]}                                 (OpenAI supervised fine-tuning)
 *   dpo   {"input": {"messages": [...]}, "preferred_output": [...], "non_preferred_output": [...]}
 *   plain {"input": "...", "gold": ...}                        (evaluation shape, DESIGN §3)
 * It never fails: absent parts stay NULL (the format validation in data_check.c reports them).
 */
#ifndef FE_DATA_ROW_H
#define FE_DATA_ROW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include <cjson/cJSON.h>

#include "harness/base/buf.h"
#include "harness/base/err.h"

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

struct fe_data_row {
    enum fe_data_shape shape;
    char *id;      /* "id" as text (string or number), NULL when absent */
    char *label;   /* "label" (string/number) or a plain "gold" string; NULL otherwise */
    char *answer;  /* final assistant message (chat), preferred output (dpo); NULL otherwise */
    char *system;  /* first system/developer message (chat, dpo input); NULL when none */
    char *user;    /* last user message (chat, dpo input); NULL when none */
    char *prompt;  /* text compared for duplicates and leakage (never NULL): the user messages
                    * joined by "\n" (chat, dpo), input + "\n" + context (plain); when that is
                    * empty, every message (or the whole line) */
    char *stratum; /* value of the --stratify-by field, when asked; NULL when absent */
};

/* Text of a message content: a string, or the concatenated "text" of text parts; NULL for
 * anything else. Newly allocated, caller frees. */
char *fe_data_content_text(const cJSON *content);

/* Fills row from a parsed line (stratify_field may be NULL). Release with fe_data_row_release. */
void fe_data_row_extract(const cJSON *json, const char *stratify_field, struct fe_data_row *row);
void fe_data_row_release(struct fe_data_row *row);

#endif
