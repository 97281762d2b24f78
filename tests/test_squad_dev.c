/* test_squad_dev.c — EM/F1 on the real SQuAD v1.1 dev set against the reference scores.
 *
 * Needs $FTEVAL_SHARED (the shared datasets); without it skipped (77), or failed under CI. Loads
 * squad_v1.1/dev.jsonl and the BERT-base predictions with cJSON directly and checks:
 * - the means over all 10,570 questions: EM 0.665752128666036, F1 0.7683816556278796 (1e-9);
 * - every row of predictions/scores.json "dev_sample_per_example" (504 rows) and its means;
 * - sanity rows: first gold as prediction = 1/1; empty prediction = 0/0 under the v2.0 rule
 *   (SQuAD v1.1's script gives EM 3/10570 there: three questions have the gold "." among others).
 * Prints the time taken to score the 10,570 questions.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "harness/util.h"
#include "metrics/squad.h"
#include "t.h"

struct dev_row {
    const char *id; /* borrowed from json */
    const char **golds; /* borrowed from the parsed line */
    size_t n_golds;
    cJSON *json;
    const char *prediction; /* borrowed, NULL when missing */
};

static int row_cmp(const void *a, const void *b)
{
    const struct dev_row *const *x = a, *const *y = b;
    return strcmp((*x)->id, (*y)->id);
}

static struct dev_row *find_row(struct dev_row **sorted, size_t n, const char *id)
{
    struct dev_row key = {.id = id};
    struct dev_row *kp = &key;
    struct dev_row **hit = bsearch(&kp, sorted, n, sizeof(*sorted), row_cmp);
    return hit ? *hit : NULL;
}

/* Calls fn(line, len, ctx) for each non-empty line of the file; returns false on I/O error. */
static bool for_each_line(const char *path, void (*fn)(const char *, size_t, void *), void *ctx)
{
    size_t len;
    char *data = fe_read_file(path, 0, &len);
    if (!data) {
        fprintf(stderr, "cannot read \"%s\": %s\n", path, strerror(errno));
        return false;
    }
    for (char *p = data; *p;) {
        char *nl = strchr(p, '\n');
        size_t ll = nl ? (size_t)(nl - p) : strlen(p);
        if (ll)
            fn(p, ll, ctx);
        p += ll + (nl ? 1 : 0);
    }
    free(data);
    return true;
}

struct dev_set {
    struct dev_row *rows;
    size_t n, cap;
    cJSON **preds;
    size_t n_preds, cap_preds;
};

static void add_dev_line(const char *line, size_t len, void *ctx)
{
    struct dev_set *d = ctx;
    cJSON *j = cJSON_ParseWithLength(line, len);
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(j, "id");
    const cJSON *gold = cJSON_GetObjectItemCaseSensitive(j, "gold");
    T_CHECK(cJSON_IsString(id) && cJSON_IsArray(gold));
    if (!cJSON_IsString(id) || !cJSON_IsArray(gold)) {
        cJSON_Delete(j);
        return;
    }
    if (d->n == d->cap) {
        d->cap = d->cap ? 2 * d->cap : 1024;
        d->rows = fe_xreallocarray(d->rows, d->cap, sizeof(*d->rows));
    }
    struct dev_row *r = &d->rows[d->n++];
    memset(r, 0, sizeof(*r));
    r->json = j;
    r->id = id->valuestring;
    r->n_golds = (size_t)cJSON_GetArraySize(gold);
    r->golds = fe_xcalloc(r->n_golds ? r->n_golds : 1, sizeof(*r->golds));
    size_t k = 0;
    const cJSON *g;
    cJSON_ArrayForEach(g, gold) r->golds[k++] = cJSON_IsString(g) ? g->valuestring : "";
}

static void add_pred_line(const char *line, size_t len, void *ctx)
{
    struct dev_set *d = ctx;
    cJSON *j = cJSON_ParseWithLength(line, len);
    T_CHECK(j != NULL);
    if (!j)
        return;
    if (d->n_preds == d->cap_preds) {
        d->cap_preds = d->cap_preds ? 2 * d->cap_preds : 1024;
        d->preds = fe_xreallocarray(d->preds, d->cap_preds, sizeof(*d->preds));
    }
    d->preds[d->n_preds++] = j;
}

int main(void)
{
    const char *shared = t_shared_dir();
    if (!shared)
        T_SKIP("../shared ($FTEVAL_SHARED): datasets/squad_v1.1");
    char *dev_path = fe_xasprintf("%s/datasets/squad_v1.1/dev.jsonl", shared);
    char *pred_path = fe_xasprintf(
        "%s/datasets/squad_v1.1/predictions/cag9_bert_base_uncased_tf2/predictions.jsonl", shared);
    char *scores_path = fe_xasprintf("%s/datasets/squad_v1.1/predictions/scores.json", shared);
    struct dev_set d = {0};
    if (!for_each_line(dev_path, add_dev_line, &d) || !for_each_line(pred_path, add_pred_line, &d))
        T_SKIP("../shared/datasets/squad_v1.1 dev.jsonl and predictions (not readable)");
    T_CHECK(d.n == 10570);
    T_CHECK(d.n_preds == 10570);

    struct dev_row **sorted = fe_xreallocarray(NULL, d.n, sizeof(*sorted));
    for (size_t i = 0; i < d.n; i++)
        sorted[i] = &d.rows[i];
    qsort(sorted, d.n, sizeof(*sorted), row_cmp);
    for (size_t i = 0; i < d.n_preds; i++) {
        const cJSON *id = cJSON_GetObjectItemCaseSensitive(d.preds[i], "id");
        const cJSON *p = cJSON_GetObjectItemCaseSensitive(d.preds[i], "prediction");
        struct dev_row *r = cJSON_IsString(id) ? find_row(sorted, d.n, id->valuestring) : NULL;
        T_CHECK(r && cJSON_IsString(p));
        if (r && cJSON_IsString(p))
            r->prediction = p->valuestring;
    }

    /* Full dev set: mean over questions in file order, missing prediction = "". */
    double t0 = fe_now(), sum_em = 0, sum_f1 = 0;
    for (size_t i = 0; i < d.n; i++) {
        double em, f1;
        fe_squad_score(d.rows[i].prediction ? d.rows[i].prediction : "", d.rows[i].golds,
                       d.rows[i].n_golds, &em, &f1);
        sum_em += em;
        sum_f1 += f1;
    }
    double secs = fe_now() - t0;
    T_CHECK_NEAR(sum_em / (double)d.n, 0.665752128666036, 1e-9);
    T_CHECK_NEAR(sum_f1 / (double)d.n, 0.7683816556278796, 1e-9);
    printf("dev (%zu questions): EM %.15g F1 %.16g, scored in %.3f s\n", d.n,
           sum_em / (double)d.n, sum_f1 / (double)d.n, secs);

    /* Sanity rows of scores.json. */
    double s_first_em = 0, s_first_f1 = 0, s_empty_em = 0, s_empty_f1 = 0;
    for (size_t i = 0; i < d.n; i++) {
        double em, f1;
        fe_squad_score(d.rows[i].golds[0], d.rows[i].golds, d.rows[i].n_golds, &em, &f1);
        s_first_em += em;
        s_first_f1 += f1;
        fe_squad_score("", d.rows[i].golds, d.rows[i].n_golds, &em, &f1);
        s_empty_em += em;
        s_empty_f1 += f1;
    }
    T_CHECK_NEAR(s_first_em / (double)d.n, 1.0, 1e-12);
    T_CHECK_NEAR(s_first_f1 / (double)d.n, 1.0, 1e-12);
    T_CHECK_NEAR(s_empty_em, 0.0, 0); /* v1.1's script: 3 (gold "." = ""); v2.0 drops "." */
    T_CHECK_NEAR(s_empty_f1, 0.0, 0);

    /* Per-example agreement on the 504-row sample. */
    size_t slen;
    char *sdata = fe_read_file(scores_path, 0, &slen);
    T_CHECK(sdata != NULL);
    cJSON *scores = sdata ? cJSON_Parse(sdata) : NULL;
    T_CHECK(scores != NULL);
    const cJSON *per = cJSON_GetObjectItemCaseSensitive(scores, "dev_sample_per_example");
    const cJSON *sample = cJSON_GetObjectItemCaseSensitive(scores, "dev_sample");
    T_CHECK(cJSON_IsArray(per) && cJSON_GetArraySize(per) == 504);
    size_t n_rows = 0, n_bad = 0;
    double ssum_em = 0, ssum_f1 = 0;
    const cJSON *it;
    cJSON_ArrayForEach(it, per)
    {
        const cJSON *id = cJSON_GetObjectItemCaseSensitive(it, "id");
        const cJSON *p = cJSON_GetObjectItemCaseSensitive(it, "prediction");
        const cJSON *jem = cJSON_GetObjectItemCaseSensitive(it, "em");
        const cJSON *jf1 = cJSON_GetObjectItemCaseSensitive(it, "f1");
        struct dev_row *r = cJSON_IsString(id) ? find_row(sorted, d.n, id->valuestring) : NULL;
        if (!r || !cJSON_IsString(p) || !cJSON_IsNumber(jem) || !cJSON_IsNumber(jf1)) {
            n_bad++;
            continue;
        }
        double em, f1;
        fe_squad_score(p->valuestring, r->golds, r->n_golds, &em, &f1);
        if (em != jem->valuedouble || fabs(f1 - jf1->valuedouble) > 1e-9) {
            n_bad++;
            fprintf(stderr, "sample %s: got %g/%.17g, want %g/%.17g\n", r->id, em, f1,
                    jem->valuedouble, jf1->valuedouble);
        }
        T_CHECK(r->prediction && strcmp(r->prediction, p->valuestring) == 0);
        ssum_em += em;
        ssum_f1 += f1;
        n_rows++;
    }
    T_CHECK(n_rows == 504 && n_bad == 0);
    const cJSON *sem = cJSON_GetObjectItemCaseSensitive(sample, "exact_match");
    const cJSON *sf1 = cJSON_GetObjectItemCaseSensitive(sample, "f1");
    T_CHECK(cJSON_IsNumber(sem) && cJSON_IsNumber(sf1));
    if (n_rows && cJSON_IsNumber(sem) && cJSON_IsNumber(sf1)) {
        T_CHECK_NEAR(100.0 * ssum_em / (double)n_rows, sem->valuedouble, 1e-9);
        T_CHECK_NEAR(100.0 * ssum_f1 / (double)n_rows, sf1->valuedouble, 1e-9);
    }
    printf("dev_sample: %zu rows checked one by one, %zu disagreements\n", n_rows, n_bad);

    cJSON_Delete(scores);
    free(sdata);
    for (size_t i = 0; i < d.n; i++) {
        free(d.rows[i].golds);
        cJSON_Delete(d.rows[i].json);
    }
    for (size_t i = 0; i < d.n_preds; i++)
        cJSON_Delete(d.preds[i]);
    free(d.rows);
    free(d.preds);
    free(sorted);
    free(dev_path);
    free(pred_path);
    free(scores_path);
    return T_DONE();
}
