/* data_split.c — see data_split.h. Two passes over the input: the first computes the groups and
 * the side of every row, the second copies lines, so memory holds signatures, never the lines. */
#include "harness/data/data_split.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness/data/data_dedup.h"
#include "harness/input/data_row.h"
#include "harness/input/dataset.h"
#include "harness/base/fs.h"
#include "harness/base/strmap.h"
#include "harness/base/util.h"

void fe_data_split_opts_init(struct fe_data_split_opts *o)
{
    memset(o, 0, sizeof(*o));
    o->test_fraction = 0.2;
    o->near_threshold = FE_DEDUP_THRESHOLD;
}

struct split_row {
    size_t line;
    char *stratum_auto; /* label (label field or plain gold) */
    char *answer;       /* final assistant message (chat) */
    char *field;        /* --stratify-by value */
    char *id;
    bool test;
};

struct split_state {
    struct split_row *rows;
    size_t n, alloc;
    struct fe_dedup dd;
    bool has_label_field;
};

static void pair_union(size_t a, size_t b, double sim, bool exact, void *ctx)
{
    (void)sim;
    (void)exact;
    fe_uf_union(ctx, a, b);
}

static enum fe_status read_rows(const struct fe_data_split_opts *o, struct split_state *st,
                                struct fe_err *err)
{
    struct fe_data_lines in;
    enum fe_status rc = fe_data_lines_open(&in, o->path, err);
    if (rc != FE_OK)
        return rc;
    int got;
    while ((got = fe_data_lines_next(&in, err)) == 1) {
        if (in.too_long) {
            rc = fe_err_set(err, FE_EINVALID, "%s:%zu: line longer than %u bytes", o->path, in.line,
                            (unsigned)in.buf.cap);
            break;
        }
        if (in.has_nul) {
            rc = fe_err_set(err, FE_EINVALID, "%s:%zu: line contains a NUL byte", o->path, in.line);
            break;
        }
        const char *s = fe_buf_str(&in.buf);
        if (fe_data_blank(s, in.buf.len))
            continue;
        const char *why;
        size_t at;
        cJSON *json = fe_data_parse_line(s, in.buf.len, &why, &at);
        if (!json) {
            rc = fe_err_set(err, FE_EINVALID, "%s:%zu: %s", o->path, in.line, why);
            break;
        }
        struct fe_data_row row;
        fe_data_row_extract(json, o->stratify_by, &row);
        if (cJSON_GetObjectItemCaseSensitive(json, "label"))
            st->has_label_field = true;
        cJSON_Delete(json);
        if (st->n == st->alloc) {
            st->alloc = st->alloc ? st->alloc * 2 : 256;
            st->rows = fe_xreallocarray(st->rows, st->alloc, sizeof(*st->rows));
        }
        struct split_row *r = &st->rows[st->n++];
        memset(r, 0, sizeof(*r));
        r->line = in.line;
        r->stratum_auto = row.label;
        r->answer = row.shape == FE_SHAPE_CHAT ? row.answer : NULL;
        if (r->answer != row.answer)
            free(row.answer);
        r->field = row.stratum;
        r->id = row.id;
        fe_dedup_add(&st->dd, row.prompt, strlen(row.prompt), 0);
        row.label = row.answer = row.stratum = row.id = NULL;
        fe_data_row_release(&row);
    }
    if (got < 0)
        rc = err->code;
    fe_data_lines_close(&in);
    return rc;
}

/* Chooses the stratum of every row; returns the source name ("" when not stratified). */
static const char *choose_strata(const struct fe_data_split_opts *o, struct split_state *st,
                                 const char ***out)
{
    const char **s = fe_xcalloc(st->n ? st->n : 1, sizeof(*s));
    *out = s;
    if (o->no_stratify)
        return "";
    if (o->stratify_by) {
        for (size_t i = 0; i < st->n; i++)
            s[i] = st->rows[i].field ? st->rows[i].field : "";
        return o->stratify_by;
    }
    bool all = st->n > 0;
    for (size_t i = 0; i < st->n && all; i++)
        all = st->rows[i].stratum_auto != NULL;
    if (all) {
        for (size_t i = 0; i < st->n; i++)
            s[i] = st->rows[i].stratum_auto;
        return st->has_label_field ? "label" : "gold";
    }
    /* classification-like chat data: few distinct short final answers */
    struct fe_strmap distinct;
    fe_strmap_init(&distinct);
    bool ok = st->n > 0;
    size_t chars = 0;
    for (size_t i = 0; i < st->n && ok; i++) {
        if (!st->rows[i].answer) {
            ok = false;
            break;
        }
        chars += strlen(st->rows[i].answer);
        fe_strmap_put(&distinct, st->rows[i].answer, 0);
        ok = distinct.count <= 200;
    }
    ok = ok && distinct.count * 3 <= st->n && chars <= 50 * st->n;
    fe_strmap_release(&distinct);
    if (!ok)
        return "";
    for (size_t i = 0; i < st->n; i++)
        s[i] = st->rows[i].answer;
    return "assistant";
}

struct group {
    size_t root;  /* union-find root */
    size_t first; /* smallest row index */
    size_t size;
    uint64_t key; /* seeded content hash */
    size_t stratum;
};

static int cmp_group(const void *a, const void *b)
{
    const struct group *x = a, *y = b;
    if (x->stratum != y->stratum)
        return x->stratum < y->stratum ? -1 : 1;
    if (x->key != y->key)
        return x->key < y->key ? -1 : 1;
    return x->first < y->first ? -1 : x->first > y->first;
}

struct stratum {
    const char *name;
    size_t n, target, test;
    double frac;
};

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static void assign(const struct fe_data_split_opts *o, struct split_state *st,
                   struct fe_data_split_result *res)
{
    size_t n = st->n;
    struct fe_uf uf;
    fe_uf_init(&uf, n);
    fe_dedup_pairs(&st->dd, o->near_threshold > 0 ? o->near_threshold : FE_DEDUP_THRESHOLD,
                   pair_union, &uf);
    struct fe_strmap ids;
    fe_strmap_init(&ids);
    for (size_t i = 0; i < n; i++) {
        if (!st->rows[i].id)
            continue;
        size_t first;
        if (fe_strmap_get(&ids, st->rows[i].id, &first))
            fe_uf_union(&uf, first, i);
        else
            fe_strmap_put(&ids, st->rows[i].id, i);
    }
    fe_strmap_release(&ids);

    const char **strata_of;
    const char *source = choose_strata(o, st, &strata_of);
    snprintf(res->stratify_source, sizeof(res->stratify_source), "%s", source);

    /* strata: distinct names sorted, so the order never depends on the file order */
    struct fe_strmap smap;
    fe_strmap_init(&smap);
    for (size_t i = 0; i < n; i++)
        fe_strmap_put(&smap, strata_of[i] ? strata_of[i] : "", 0);
    size_t ns = smap.count;
    const char **names = fe_xcalloc(ns ? ns : 1, sizeof(*names));
    size_t k = 0;
    const char *key;
    for (size_t pos = 0; fe_strmap_next(&smap, &pos, &key, NULL);)
        names[k++] = key;
    qsort(names, ns, sizeof(*names), cmp_str);
    struct stratum *strata = fe_xcalloc(ns ? ns : 1, sizeof(*strata));
    for (size_t i = 0; i < ns; i++) {
        strata[i].name = names[i];
        fe_strmap_set(&smap, names[i], i);
    }

    /* groups */
    size_t *group_of_root = fe_xcalloc(n ? n : 1, sizeof(*group_of_root)); /* root -> group + 1 */
    struct group *groups = fe_xcalloc(n ? n : 1, sizeof(*groups));
    size_t ng = 0;
    for (size_t i = 0; i < n; i++) {
        size_t root = fe_uf_find(&uf, i);
        uint64_t h = fe_dedup_hash(&st->dd.items[i].exact, sizeof(uint64_t), o->seed);
        if (!group_of_root[root]) {
            group_of_root[root] = ++ng;
            struct group *g = &groups[ng - 1];
            g->root = root;
            g->first = i;
            g->key = h;
            size_t si = 0;
            fe_strmap_get(&smap, strata_of[i] ? strata_of[i] : "", &si);
            g->stratum = si;
        }
        struct group *g = &groups[group_of_root[root] - 1];
        g->size++;
        if (h < g->key)
            g->key = h;
    }
    for (size_t g = 0; g < ng; g++) {
        strata[groups[g].stratum].n += groups[g].size;
        if (groups[g].size > 1) {
            res->groups_multi++;
            res->rows_in_groups += groups[g].size;
        }
    }
    /* targets by largest remainder */
    size_t total_target = (size_t)floor(o->test_fraction * (double)n + 0.5), sum = 0;
    for (size_t i = 0; i < ns; i++) {
        double exact = o->test_fraction * (double)strata[i].n;
        strata[i].target = (size_t)floor(exact);
        strata[i].frac = exact - floor(exact);
        sum += strata[i].target;
    }
    while (sum < total_target) {
        size_t best = ns;
        for (size_t i = 0; i < ns; i++) {
            if (strata[i].target >= strata[i].n || strata[i].frac < 0)
                continue;
            if (best == ns || strata[i].frac > strata[best].frac)
                best = i;
        }
        if (best == ns)
            break;
        strata[best].target++;
        strata[best].frac = -1;
        sum++;
    }
    qsort(groups, ng, sizeof(*groups), cmp_group);
    bool *group_test = fe_xcalloc(n ? n : 1, sizeof(*group_test)); /* by root */
    for (size_t g = 0; g < ng; g++) {
        struct stratum *s = &strata[groups[g].stratum];
        size_t with = s->test + groups[g].size;
        size_t d_with = with > s->target ? with - s->target : s->target - with;
        size_t d_without = s->test > s->target ? s->test - s->target : s->target - s->test;
        if (d_with < d_without) {
            s->test = with;
            group_test[groups[g].root] = true;
        }
    }
    for (size_t i = 0; i < n; i++) {
        st->rows[i].test = group_test[fe_uf_find(&uf, i)];
        if (st->rows[i].test)
            res->test++;
        else
            res->train++;
    }
    res->rows = n;
    res->strata = *source ? ns : 0;
    free(group_test);
    free(groups);
    free(group_of_root);
    free(strata);
    free(names);
    fe_strmap_release(&smap);
    free(strata_of);
    fe_uf_release(&uf);
}

static enum fe_status write_outputs(const struct fe_data_split_opts *o, struct split_state *st,
                                    struct fe_err *err)
{
    struct fe_data_lines in;
    enum fe_status rc = fe_data_lines_open(&in, o->path, err);
    if (rc != FE_OK)
        return rc;
    /* both outputs through the atomic writer: a failed split leaves no half-written file */
    struct fe_atomic_file train_f, test_f;
    rc = fe_atomic_open(&train_f, o->train_out, err);
    if (rc != FE_OK) {
        fe_data_lines_close(&in);
        return rc;
    }
    rc = fe_atomic_open(&test_f, o->test_out, err);
    if (rc != FE_OK) {
        fe_atomic_abort(&train_f);
        fe_data_lines_close(&in);
        return rc;
    }
    FILE *train = train_f.f, *test = test_f.f;
    size_t k = 0;
    int got;
    while ((got = fe_data_lines_next(&in, err)) == 1) {
        if (fe_data_blank(fe_buf_str(&in.buf), in.buf.len))
            continue;
        if (k >= st->n || st->rows[k].line != in.line) {
            rc = fe_err_set(err, FE_EIO, "%s: changed while being split", o->path);
            break;
        }
        FILE *out = st->rows[k++].test ? test : train;
        if (fwrite(in.buf.data, 1, in.buf.len, out) != in.buf.len || putc('\n', out) == EOF) {
            rc = fe_err_set(err, FE_EIO, "%s: write error: %s",
                            out == test ? o->test_out : o->train_out, strerror(errno));
            break;
        }
    }
    if (got < 0 && rc == FE_OK)
        rc = err->code;
    if (rc == FE_OK && k != st->n)
        rc = fe_err_set(err, FE_EIO, "%s: changed while being split", o->path);
    if (rc == FE_OK)
        rc = fe_atomic_commit(&train_f, err);
    else
        fe_atomic_abort(&train_f);
    if (rc == FE_OK)
        rc = fe_atomic_commit(&test_f, err);
    else
        fe_atomic_abort(&test_f);
    fe_data_lines_close(&in);
    return rc;
}

enum fe_status fe_data_split(const struct fe_data_split_opts *o, struct fe_data_split_result *res,
                             struct fe_err *err)
{
    memset(res, 0, sizeof(*res));
    if (fe_dataset_jsonl_only(o->path, "fteval data split", err) != FE_OK)
        return FE_EINVALID;
    if (!(o->test_fraction > 0 && o->test_fraction < 1))
        return fe_err_set(err, FE_EUSAGE, "--test-fraction: must be between 0 and 1 (exclusive)");
    struct split_state st;
    memset(&st, 0, sizeof(st));
    fe_dedup_init(&st.dd);
    enum fe_status rc = read_rows(o, &st, err);
    if (rc == FE_OK) {
        assign(o, &st, res);
        rc = write_outputs(o, &st, err);
    }
    for (size_t i = 0; i < st.n; i++) {
        free(st.rows[i].stratum_auto);
        free(st.rows[i].answer);
        free(st.rows[i].field);
        free(st.rows[i].id);
    }
    free(st.rows);
    fe_dedup_release(&st.dd);
    return rc;
}

void fe_data_split_summary(const struct fe_data_split_opts *o,
                           const struct fe_data_split_result *res, struct fe_buf *out)
{
    fe_buf_addf(
        out, "split: %s: %zu examples -> %s (%zu train), %s (%zu test); fraction %.3g, seed %llu\n",
        o->path, res->rows, o->train_out, res->train, o->test_out, res->test, o->test_fraction,
        (unsigned long long)o->seed);
    if (res->strata)
        fe_buf_addf(out, "stratified by %s: %zu strata\n", res->stratify_source, res->strata);
    else
        fe_buf_adds(out, o->no_stratify ? "not stratified (--no-stratify)\n"
                                        : "not stratified (no labels found)\n");
    fe_buf_addf(
        out,
        "kept together: %zu group(s) of duplicates, near duplicates or shared ids (%zu rows)\n",
        res->groups_multi, res->rows_in_groups);
}
