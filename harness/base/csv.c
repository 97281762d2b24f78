/* csv.c — see csv.h. One character at a time through a small state machine, so the line a record
 * starts on and the line of any error are exact. */
#include "harness/base/csv.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "harness/base/util.h"

enum fe_status fe_csv_open(struct fe_csv *c, const char *path, struct fe_err *err)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return fe_err_set(err, FE_EINVALID, "%s: cannot open: %s", path, strerror(errno));
    fe_csv_open_stream(c, f, path);
    c->own = true;
    return FE_OK;
}

void fe_csv_open_stream(struct fe_csv *c, FILE *f, const char *name)
{
    memset(c, 0, sizeof(*c));
    c->f = f;
    c->path = fe_xstrdup(name);
    c->line = 1;
    fe_buf_init(&c->field, FE_CSV_MAX_RECORD);
}

void fe_csv_close(struct fe_csv *c)
{
    if (c->own && c->f)
        fclose(c->f);
    for (size_t i = 0; i < c->n; i++)
        free(c->fields[i]);
    free(c->fields);
    free(c->path);
    fe_buf_release(&c->field);
    memset(c, 0, sizeof(*c));
}

/* The next byte: pushed-back bytes first (at most 3: the BOM check), then the file. */
static int fe_csv_getc(struct fe_csv *c)
{
    if (c->n_pend > 0)
        return c->pend[--c->n_pend];
    return getc(c->f);
}

static void fe_csv_unget(struct fe_csv *c, int ch)
{
    if (ch != EOF)
        c->pend[c->n_pend++] = (unsigned char)ch;
}

static void fe_csv_clear(struct fe_csv *c)
{
    for (size_t i = 0; i < c->n; i++)
        free(c->fields[i]);
    c->n = 0;
    c->record_bytes = 0;
    fe_buf_reset(&c->field);
}

static int fe_csv_fail(struct fe_csv *c, struct fe_err *err, size_t line, const char *what)
{
    fe_err_set(err, FE_EINVALID, "%s:%zu: %s", c->path, line, what);
    fe_csv_clear(c);
    return -1;
}

/* Appends one byte to the field under the record cap. */
static int fe_csv_add(struct fe_csv *c, int ch, struct fe_err *err)
{
    if (ch == '\0')
        return fe_csv_fail(c, err, c->line, "a NUL byte");
    if (++c->record_bytes > FE_CSV_MAX_RECORD || fe_buf_addch(&c->field, (char)ch) != 0) {
        char msg[96];
        snprintf(msg, sizeof(msg), "record longer than %u bytes", FE_CSV_MAX_RECORD);
        return fe_csv_fail(c, err, c->record_line, msg);
    }
    return 0;
}

/* Ends the field being read: checked for UTF-8 and moved into c->fields. */
static int fe_csv_end_field(struct fe_csv *c, struct fe_err *err)
{
    const char *s = c->field.data ? c->field.data : "";
    if (fe_utf8_check(s, c->field.len) != c->field.len) {
        char msg[64];
        snprintf(msg, sizeof(msg), "field %zu: invalid UTF-8", c->n + 1);
        return fe_csv_fail(c, err, c->record_line, msg);
    }
    if (c->n == c->cap) {
        c->cap = c->cap ? c->cap * 2 : 16;
        c->fields = fe_xreallocarray(c->fields, c->cap, sizeof(*c->fields));
    }
    c->fields[c->n++] = fe_xstrndup(s, c->field.len);
    fe_buf_reset(&c->field);
    return 0;
}

/* A quoted field, the opening quote read: up to and including the closing quote. */
static int fe_csv_quoted(struct fe_csv *c, struct fe_err *err)
{
    size_t opened = c->line;
    for (;;) {
        int ch = fe_csv_getc(c);
        if (ch == EOF) {
            char msg[96];
            snprintf(msg, sizeof(msg), "a quoted field opened on line %zu is not closed", opened);
            return fe_csv_fail(c, err, c->line, msg);
        }
        if (ch == '"') {
            int next = fe_csv_getc(c);
            if (next != '"') { /* the closing quote */
                fe_csv_unget(c, next);
                return 0;
            }
        } else if (ch == '\n') {
            c->line++;
        }
        if (fe_csv_add(c, ch, err) != 0)
            return -1;
    }
}

/* After a field: ',' (1: another field), the end of the record (0), or an error (-1). */
static int fe_csv_after(struct fe_csv *c, int ch, bool quoted, struct fe_err *err)
{
    if (ch == ',')
        return 1;
    c->end_line = c->line;
    if (ch == EOF)
        return 0;
    if (ch == '\n') {
        c->line++;
        return 0;
    }
    if (ch == '\r') {
        int next = fe_csv_getc(c);
        if (next == '\n' || next == EOF) {
            c->line += next == '\n';
            return 0;
        }
        fe_csv_unget(c, next);
    }
    return fe_csv_fail(c, err, c->line,
                       quoted ? "a character after a closing quote (expected ',' or the end of the "
                                "record)"
                              : "a bare carriage return inside an unquoted field");
}

int fe_csv_next(struct fe_csv *c, struct fe_err *err)
{
    fe_csv_clear(c);
    if (!c->started) {
        c->started = true;
        int b[3], got = 0;
        while (got < 3 && (b[got] = fe_csv_getc(c)) != EOF)
            got++;
        if (!(got == 3 && b[0] == 0xEF && b[1] == 0xBB && b[2] == 0xBF))
            while (got > 0)
                fe_csv_unget(c, b[--got]);
    }
    int ch = fe_csv_getc(c);
    while (ch == '\n' || ch == '\r') { /* empty lines between records */
        if (ch == '\n')
            c->line++;
        ch = fe_csv_getc(c);
    }
    if (ch == EOF)
        return ferror(c->f) ? fe_csv_fail(c, err, c->line, "read error") : 0;
    c->record_line = c->line;
    for (;;) {
        bool quoted = ch == '"';
        if (quoted) {
            if (fe_csv_quoted(c, err) != 0)
                return -1;
            ch = fe_csv_getc(c);
        } else {
            while (ch != ',' && ch != '\n' && ch != '\r' && ch != EOF) {
                if (ch == '"')
                    return fe_csv_fail(c, err, c->line,
                                       "a quote inside an unquoted field (quote the whole field "
                                       "and double the quote)");
                if (fe_csv_add(c, ch, err) != 0)
                    return -1;
                ch = fe_csv_getc(c);
            }
        }
        int more = fe_csv_after(c, ch, quoted, err);
        if (more < 0)
            return -1;
        if (fe_csv_end_field(c, err) != 0)
            return -1;
        if (more == 0)
            return 1;
        ch = fe_csv_getc(c);
    }
}

void fe_csv_field(struct fe_buf *b, const char *s)
{
    if (!s)
        s = "";
    if (!strpbrk(s, ",\"\r\n")) {
        fe_buf_adds(b, s);
        return;
    }
    fe_buf_addch(b, '"');
    for (const char *p = s; *p; p++) {
        if (*p == '"')
            fe_buf_addch(b, '"');
        fe_buf_addch(b, *p);
    }
    fe_buf_addch(b, '"');
}
