/* rate_csv.c — RFC 4180 fields for the rating sheets (rate.h): written by export, read back by
 * import. Quoted fields may hold commas, doubled quotes and line breaks; CRLF and LF both end
 * a record. */
#include <stdlib.h>
#include <string.h>

#include "harness/analysis/rate.h"
#include "harness/base/util.h"

void fe_rate_csv_field(struct fe_buf *b, const char *s)
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

void fe_rate_csv_free(char **fields, long n)
{
    for (long i = 0; i < n; i++)
        free(fields[i]);
    free(fields);
}

static void push(char ***fields, long *n, struct fe_buf *cur)
{
    *fields = fe_xreallocarray(*fields, (size_t)*n + 1, sizeof(**fields));
    (*fields)[(*n)++] = fe_xstrdup(fe_buf_str(cur));
    fe_buf_reset(cur);
}

long fe_rate_csv_record(const char *text, size_t len, size_t *pos, size_t *line, char ***fields)
{
    size_t i = *pos;
    *fields = NULL;
    if (i >= len)
        return 0;
    long n = 0;
    struct fe_buf cur = {0};
    bool quoted = false, was_quoted = false;
    for (; i < len; i++) {
        char c = text[i];
        if (quoted) {
            if (c == '"' && i + 1 < len && text[i + 1] == '"') {
                fe_buf_addch(&cur, '"');
                i++;
            } else if (c == '"') {
                quoted = false;
            } else {
                *line += c == '\n';
                fe_buf_addch(&cur, c);
            }
        } else if (c == '"' && cur.len == 0 && !was_quoted) {
            quoted = was_quoted = true;
        } else if (c == ',') {
            push(fields, &n, &cur);
            was_quoted = false;
        } else if (c == '\n' || c == '\r') {
            if (c == '\r' && i + 1 < len && text[i + 1] == '\n')
                i++;
            i++;
            break;
        } else {
            fe_buf_addch(&cur, c);
        }
    }
    if (quoted) {
        fe_buf_release(&cur);
        fe_rate_csv_free(*fields, n);
        *fields = NULL;
        return -1;
    }
    push(fields, &n, &cur);
    fe_buf_release(&cur);
    *line += 1;
    *pos = i;
    return n;
}
