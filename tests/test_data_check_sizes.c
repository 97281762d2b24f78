/* test_data_check_sizes.c — the size and label thresholds of `fteval data check`, at and around
 * their documented values (docs/data.md): fewer than 10 examples is "too_small" (the fine-tuning
 * API's minimum), 10..499 "small"; a label with fewer than 10 examples is noted as rare.
 * (mutants data-min-examples and data-rare-labels of tests/mutation/mutants.tsv) */
#include "t.h"

#include <unistd.h>

#include "harness/data/data_check.h"
#include "harness/base/util.h"

static char dir[] = "/tmp/fteval-test-data-sizes-XXXXXX";

/* n plain rows with distinct inputs; the first n_a have gold "activate", the rest "pending". */
static char *write_rows(size_t n, size_t n_a)
{
    static const char *const words[] = {"card",   "transfer", "refund", "limit",  "account",
                                        "pin",    "fee",      "abroad", "cash",   "statement",
                                        "loan",   "savings",  "app",    "login",  "address"};
    char *path = fe_xasprintf("%s/rows-%zu-%zu.jsonl", dir, n, n_a);
    FILE *f = fopen(path, "wb");
    if (!f) {
        perror(path);
        exit(1);
    }
    for (size_t i = 0; i < n; i++)
        fprintf(f, "{\"input\": \"question %zu: what happened to my %s and my %s yesterday?\", "
                   "\"gold\": \"%s\"}\n",
                i, words[i % 15], words[(i * 7 + 3) % 15], i < n_a ? "activate" : "pending");
    fclose(f);
    return path;
}

static const struct fe_data_finding *find_kind(const struct fe_data_report *r, const char *kind)
{
    for (size_t i = 0; i < r->n_findings; i++)
        if (r->findings[i].kind && strcmp(r->findings[i].kind, kind) == 0)
            return &r->findings[i];
    return NULL;
}

static struct fe_data_report *check(const char *path)
{
    struct fe_data_check_opts o;
    fe_data_check_opts_init(&o);
    o.path = path;
    struct fe_err err = {0};
    struct fe_data_report *r = fe_data_check_run(&o, &err);
    if (!r) {
        fprintf(stderr, "data check %s: %s\n", path, err.msg);
        exit(1);
    }
    return r;
}

int main(void)
{
    if (!mkdtemp(dir))
        T_SKIP("a writable temporary folder");

    /* size: 9 and 6 examples are below the API minimum of 10; 10 is not */
    size_t sizes[] = {6, 9, 10};
    for (size_t k = 0; k < 3; k++) {
        char *p = write_rows(sizes[k], sizes[k]);
        struct fe_data_report *r = check(p);
        T_CHECK(r->examples == sizes[k]);
        bool too_small = find_kind(r, "too_small") != NULL, small = find_kind(r, "small") != NULL;
        if (sizes[k] < 10) {
            T_CHECK(too_small && !small);
        } else {
            T_CHECK(!too_small && small);
        }
        fe_data_report_free(r);
        unlink(p);
        free(p);
    }

    /* labels: 12 rows, "activate" x 7 and "pending" x 5: both fewer than 10, both rare. */
    char *p = write_rows(12, 7);
    struct fe_data_report *r = check(p);
    T_CHECK(r->n_labels == 2);
    const struct fe_data_finding *f = find_kind(r, "rare_labels");
    T_CHECK(f != NULL);
    if (f) {
        T_CHECK(f->severity == FE_DATA_NOTE);
        T_CHECK(strstr(f->message, "2 label(s) with fewer than 10 examples") != NULL);
        T_CHECK(strstr(f->message, "'activate' (7)") != NULL);
        T_CHECK(strstr(f->message, "'pending' (5)") != NULL);
    }
    fe_data_report_free(r);
    unlink(p);
    free(p);

    /* 20 rows, 10 of each: no label is rare */
    p = write_rows(20, 10);
    r = check(p);
    T_CHECK(r->n_labels == 2);
    T_CHECK(find_kind(r, "rare_labels") == NULL);
    fe_data_report_free(r);
    unlink(p);
    free(p);

    rmdir(dir);
    return T_DONE();
}
