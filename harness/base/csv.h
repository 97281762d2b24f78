/* csv.h — the one RFC 4180 reader and field writer. The reader is streaming: the CSV half of
 * the dataset reader (input/dataset.c, which turns each record into a row object with
 * data_row.h's fe_data_csv_object) and the reader of human rating sheets (analysis/rate_import.c);
 * the writer quotes the fields of the rating sheets (analysis/rate_export.c).
 *
 * Accepted (RFC 4180, plus what spreadsheets write): fields separated by ','; records ended by
 * CRLF or LF (the last record may lack one); a field wholly in double quotes may hold ',', CR,
 * LF and '""' (one quote); a UTF-8 byte-order mark at the start of the file is skipped; a line
 * with no bytes at all between records is skipped (as a blank JSONL line is). Rejected, naming
 * the file and the line: a quote inside an unquoted field, a character after a closing quote
 * other than ',' or the end of the record, a quoted field still open at the end of the file
 * (naming the line it opened on), a NUL byte, invalid UTF-8, a record above
 * FE_CSV_MAX_RECORD bytes (the dataset line limit, FE_DATASET_MAX_LINE).
 *
 * Why not Debian's libcsv: its callbacks report neither the line a record starts on nor where an
 * error is, and every error here must name file:line (DESIGN §3); this reader is ~150 lines and
 * tests/test_csv.c covers each rule above.
 *
 * Lifecycle: fe_csv_open (or fe_csv_open_stream), fe_csv_next until it returns 0, fe_csv_close.
 * The fields of a record are owned by the reader and valid until the next fe_csv_next.
 */
#ifndef FE_CSV_H
#define FE_CSV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "harness/base/buf.h"
#include "harness/base/err.h"

/* The longest record read: 16 MiB, as the dataset reader's longest JSONL line. */
#define FE_CSV_MAX_RECORD (16u * 1024 * 1024)

struct fe_csv {
    FILE *f;
    bool own;          /* fe_csv_close closes f */
    char *path;        /* for messages */
    size_t line;       /* 1-based physical line the reader is on */
    size_t record_line; /* the line the last record started on */
    size_t end_line;   /* the line it ended on */
    char **fields;     /* the last record's fields, NUL-terminated, owned */
    size_t n;
    size_t cap;
    struct fe_buf field; /* the field being read */
    size_t record_bytes;
    bool started;      /* the BOM check is done */
    unsigned char pend[4]; /* bytes read ahead and pushed back (a stack) */
    int n_pend;
};

/* Opens path; FE_OK, or FE_EINVALID (unreadable input) with err naming the file. */
enum fe_status fe_csv_open(struct fe_csv *c, const char *path, struct fe_err *err);
/* Reads from f (not closed by fe_csv_close); name is used in messages. */
void fe_csv_open_stream(struct fe_csv *c, FILE *f, const char *name);
/* Reads the next record into c->fields / c->n: 1, 0 at the end of the file, -1 on an error
 * (FE_EINVALID; err "file:line: ..."). */
int fe_csv_next(struct fe_csv *c, struct fe_err *err);
void fe_csv_close(struct fe_csv *c);

/* Appends s (NULL: empty) to b as one CSV field: as is, or in double quotes with '"' doubled
 * when it holds ',', '"', CR or LF. */
void fe_csv_field(struct fe_buf *b, const char *s);

#endif
