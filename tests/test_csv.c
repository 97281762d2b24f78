/* test_csv.c — the RFC 4180 reader (harness/base/csv.c) on each corner of the format, its
 * errors (exact text, file and line), and CSV datasets through the dataset reader: header,
 * field mapping, line numbers of records that span lines, the CSV-as-JSONL near miss. */
#include <stdint.h>
#include <stdio.h>
#include <unistd.h>

#include "harness/base/csv.h"
#include "harness/input/dataset.h"
#include "t.h"

/* Reads every record of text; returns "f1|f2\n..." (fields joined by '|', records by '\n'),
 * or "ERR <message>" at the first error. Caller frees. */
static char *records(const char *text, size_t len)
{
    FILE *f = fmemopen((void *)(uintptr_t)text, len, "rb");
    struct fe_csv c;
    fe_csv_open_stream(&c, f, "t.csv");
    struct fe_buf out;
    fe_buf_init(&out, 0);
    fe_buf_adds(&out, "");
    struct fe_err err = {0};
    int got;
    while ((got = fe_csv_next(&c, &err)) == 1) {
        fe_buf_addf(&out, "%zu:", c.record_line);
        for (size_t i = 0; i < c.n; i++)
            fe_buf_addf(&out, "%s%s", i ? "|" : "", c.fields[i]);
        fe_buf_addch(&out, '\n');
    }
    if (got < 0) {
        fe_buf_reset(&out);
        fe_buf_addf(&out, "ERR %s", err.msg);
    }
    fe_csv_close(&c);
    fclose(f);
    return fe_buf_detach(&out, NULL);
}

#define T_RECORDS(text, want)                                                                  \
    do {                                                                                       \
        char *got_ = records(text, sizeof(text) - 1);                                          \
        T_CHECK_STR(got_, want);                                                               \
        free(got_);                                                                            \
    } while (0)

static void test_rfc4180(void)
{
    /* plain fields, LF and CRLF, no newline at the end */
    T_RECORDS("a,b,c\n1,2,3", "1:a|b|c\n2:1|2|3\n");
    T_RECORDS("a,b\r\n1,2\r\n", "1:a|b\n2:1|2\n");
    /* quoted fields: commas, doubled quotes, CRLF and LF inside, empty quoted field */
    T_RECORDS("x,\"a,b\",\"say \"\"hi\"\"\"\r\n", "1:x|a,b|say \"hi\"\n");
    T_RECORDS("\"line1\r\nline2\",z\n\"\",\"\"\"\"\n", "1:line1\r\nline2|z\n3:|\"\n");
    T_RECORDS("\"a\nb\nc\",d\ne,f\n", "1:a\nb\nc|d\n4:e|f\n");
    /* empty fields and a trailing comma */
    T_RECORDS(",,\na,\n", "1:||\n2:a|\n");
    /* a BOM is skipped; a BOM-like start that is not one is data */
    T_RECORDS("\xEF\xBB\xBFid,x\n1,2\n", "1:id|x\n2:1|2\n");
    T_RECORDS("\xEF\xBBz\n", "ERR t.csv:1: field 1: invalid UTF-8"); /* not skipped: read as data */
    /* empty lines between records are skipped (their line still counts) */
    T_RECORDS("a\n\n\r\nb\n", "1:a\n4:b\n");
    /* UTF-8 kept as is */
    T_RECORDS("\xC3\xA9t\xC3\xA9,\"\xE2\x82\xAC\"\n", "1:\xC3\xA9t\xC3\xA9|\xE2\x82\xAC\n");
    T_RECORDS("", "");
}

static void test_errors(void)
{
    T_RECORDS("a,\"b\nc\n", "ERR t.csv:3: a quoted field opened on line 1 is not closed");
    T_RECORDS("ok\na,b\"c\n",
              "ERR t.csv:2: a quote inside an unquoted field (quote the whole field and double the quote)");
    T_RECORDS("\"a\"b,c\n",
              "ERR t.csv:1: a character after a closing quote (expected ',' or the end of the record)");
    T_RECORDS("a\rb\n", "ERR t.csv:1: a bare carriage return inside an unquoted field");
    T_RECORDS("x\n\"a\xFF\",b\n", "ERR t.csv:2: field 1: invalid UTF-8");
    T_RECORDS("x\na\0b\n", "ERR t.csv:2: a NUL byte");
}

static char made[32][128]; /* every temp file, removed at the end */
static size_t n_made;

static char *write_tmp(const char *name, const char *content)
{
    static char path[128];
    snprintf(path, sizeof(path), "/tmp/fteval-test-csv-%ld-%s", (long)getpid(), name);
    FILE *f = fopen(path, "wb");
    fputs(content, f);
    fclose(f);
    if (n_made < 32)
        snprintf(made[n_made++], sizeof(made[0]), "%s", path);
    return path;
}

/* The message of the first error reading path with opts, with the temp folder cut off. */
static const char *dataset_error(const char *path, const struct fe_dataset_opts *o, struct fe_err *err)
{
    fe_err_clear(err);
    struct fe_dataset_reader *r;
    if (fe_dataset_open_with(&r, path, o, err) == FE_OK) {
        struct fe_example ex;
        int got;
        while ((got = fe_dataset_next(r, &ex, err)) == 1)
            fe_example_release(&ex);
        fe_dataset_close(r);
    }
    const char *slash = strrchr(err->msg, '/');
    return slash ? slash + 1 : err->msg;
}

static void test_dataset(void)
{
    const char *p = write_tmp("d.csv", "key,text,label,grp\r\n"
                                       "a1,\"hello, world\",pos,A\r\n"
                                       "a2,\"two\nlines\",neg,B\r\n"
                                       "a3,plain,,A\r\n");
    struct fe_dataset_opts o = {.map = {.id = "key", .input = "text", .gold = "label", .slice = "grp"}};
    struct fe_example *ex;
    size_t n;
    struct fe_err err = {0};
    T_CHECK(fe_dataset_load_with(p, &o, &ex, &n, &err) == FE_OK);
    T_CHECK(n == 3);
    if (n == 3) {
        T_CHECK_STR(ex[0].id, "a1");
        T_CHECK_STR(ex[0].golds[0], "pos");
        T_CHECK_STR(ex[0].slice, "A");
        T_CHECK_STR(cJSON_GetObjectItem(ex[0].row, "input")->valuestring, "hello, world");
        T_CHECK_STR(cJSON_GetObjectItem(ex[0].row, "text")->valuestring, "hello, world");
        T_CHECK(ex[0].line == 2 && ex[1].line == 3 && ex[2].line == 5);
        T_CHECK_STR(ex[2].golds[0], ""); /* an empty cell: unanswerable, as "gold": "" */
        fe_examples_free(ex, n);
    }
    /* the same rows as JSONL with the same mapping: the same examples */
    const char *j = write_tmp("d.jsonl", "{\"key\": \"a1\", \"text\": \"hello, world\", \"label\": \"pos\"}\n");
    T_CHECK(fe_dataset_load_with(j, &o, &ex, &n, &err) == FE_EINVALID);
    T_CHECK(strstr(dataset_error(j, &o, &err), "d.jsonl:1: field 'grp': missing (task.slice_field)") != NULL);
    o.map.slice = NULL;
    T_CHECK(fe_dataset_load_with(j, &o, &ex, &n, &err) == FE_OK && n == 1);
    if (n == 1) {
        T_CHECK_STR(ex[0].id, "a1");
        T_CHECK_STR(ex[0].golds[0], "pos");
        fe_examples_free(ex, n);
    }
    /* errors: fields per record, header, empty file, mapping, CSV given as JSONL */
    p = write_tmp("w.csv", "id,gold\n1,2\n3\n");
    T_CHECK(strstr(dataset_error(p, NULL, &err), "w.csv:3: 1 field, the header (line 1) has 2") != NULL);
    p = write_tmp("h.csv", "id,,gold\n");
    T_CHECK(strstr(dataset_error(p, NULL, &err), "h.csv:1: header column 2: an empty column name") != NULL);
    p = write_tmp("r.csv", "id,gold,id\n");
    T_CHECK(strstr(dataset_error(p, NULL, &err), "r.csv:1: header column 3: a repeated column name") != NULL);
    p = write_tmp("e.csv", "");
    T_CHECK(strstr(dataset_error(p, NULL, &err), "e.csv: an empty CSV file (the first record is the header)") != NULL);
    p = write_tmp("m.csv", "key,text\nk1,t1\n");
    o.map.slice = NULL;
    T_CHECK(strstr(dataset_error(p, &o, &err), "m.csv:2: field 'label': missing (task.gold_field)") != NULL);
    p = write_tmp("c.jsonl", "\n\"id\",input,gold\n1,a,b\n");
    T_CHECK(strstr(dataset_error(p, NULL, &err),
                   "c.jsonl:2: this is CSV; set dataset_format: \"csv\" in the config (or name the file .csv)") != NULL);
    /* a broken JSONL line that is not CSV-like keeps its own message */
    p = write_tmp("b.jsonl", "{\"id\": 1,\n");
    T_CHECK(strstr(dataset_error(p, NULL, &err), "b.jsonl:1: invalid JSON") != NULL);
    /* dataset_format: csv reads a file whatever its name */
    p = write_tmp("x.txt", "id,input,gold\n1,a,b\n");
    struct fe_dataset_opts csv = {.format = "csv"};
    T_CHECK(fe_dataset_load_with(p, &csv, &ex, &n, &err) == FE_OK && n == 1);
    if (n == 1)
        fe_examples_free(ex, n);
    T_CHECK(fe_dataset_jsonl_only("a.CSV", "fteval data split", &err) == FE_EINVALID);
    T_CHECK(fe_dataset_jsonl_only("a.jsonl", "fteval data split", &err) == FE_OK);
}

int main(void)
{
    test_rfc4180();
    test_errors();
    test_dataset();
    for (size_t i = 0; i < n_made; i++)
        unlink(made[i]);
    return T_DONE();
}
