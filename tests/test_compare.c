/* test_compare.c — unit tests of the compare gate's pieces: verdict rules and the Monte Carlo
 * guard, the drift statistics (closed-form values), terminal and XML escaping, and the history
 * file (append, last line per run wins, torn last line, load order). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness/base/buf.h"
#include "harness/analysis/compare.h"
#include "harness/analysis/history.h"
#include "harness/report/junit.h"
#include "harness/rundir/rundir.h"
#include "harness/base/util.h"
#include "metrics/drift.h"
#include "metrics/stats.h"
#include "t.h"

struct vcase {
    double delta, lower, upper, p, p_band, bound_band;
    const char *want;
};

static void test_verdicts(void)
{
    /* margin 0.02, alpha 0.05 */
    static const struct vcase cases[] = {
        {0.00, -0.010, 0.010, 1.00, 0, 0, "pass"},
        {-0.005, -0.015, 0.005, 0.30, 0, 0, "pass"},          /* within margin */
        {-0.010, -0.018, -0.002, 0.01, 0, 0, "pass"},         /* significant, within margin */
        {-0.010, -0.030, 0.010, 0.30, 0, 0, "inconclusive"},  /* too noisy */
        {-0.010, -0.025, -0.001, 0.01, 0, 0, "inconclusive"}, /* significant drop, bound past */
        {-0.050, -0.080, -0.030, 0.001, 0, 0, "regression"},  /* upper < -margin */
        {-0.030, -0.050, -0.010, 0.01, 0, 0, "regression"},   /* significant, delta < -margin */
        {-0.030, -0.070, 0.010, 0.20, 0, 0, "inconclusive"},  /* big but not significant */
        {0.050, 0.020, 0.080, 0.001, 0, 0, "improvement"},
        {0.010, -0.010, 0.030, 0.20, 0, 0, "pass"},
        /* Monte Carlo guard: p within its band of alpha and the verdict would flip */
        {-0.030, -0.050, -0.010, 0.049, 0.0044, 0, "inconclusive"},
        {-0.030, -0.050, -0.010, 0.040, 0.0044, 0, "regression"},
        {0.000, -0.010, 0.010, 0.050, 0.0044, 0, "pass"},     /* no flip: stays pass */
        {-0.030, -0.050, -0.031, 0.051, 0.0044, 0, "regression"}, /* upper decides */
        /* bound within its band of -margin and the verdict would flip */
        {-0.005, -0.0199, 0.005, 0.30, 0, 0.001, "inconclusive"},
        {-0.005, -0.0150, 0.005, 0.30, 0, 0.001, "pass"},
    };
    for (size_t i = 0; i < FE_ARRAY_LEN(cases); i++) {
        const struct vcase *c = &cases[i];
        const char *why = NULL;
        const char *v = fe_compare_verdict(c->delta, c->lower, c->upper, c->p, 0.05, 0.02, c->p_band,
                                           c->bound_band, &why);
        if (strcmp(v, c->want) != 0)
            fprintf(stderr, "case %zu: got %s (%s)\n", i, v, why);
        T_CHECK_STR(v, c->want);
        T_CHECK(why != NULL);
    }
    T_CHECK_STR(fe_compare_verdict(NAN, NAN, NAN, 1, 0.05, 0.02, 0, 0, NULL), "inconclusive");
}

static void test_drift(void)
{
    struct fe_chisq x;
    /* [[30,30],[40,20]]: chi2 = 3.4285714285714284, p = 0.0640775064510592 (scipy, no correction) */
    size_t a[] = {30, 30, 0}, b[] = {40, 20, 0};
    T_CHECK(fe_drift_chisq(a, b, 3, &x));
    T_CHECK_NEAR(x.stat, 3.4285714285714284, 1e-12);
    T_CHECK_NEAR(x.df, 1, 0);
    T_CHECK_NEAR(x.p, 0.06407750645105915, 1e-12);
    T_CHECK(x.k_used == 2);
    size_t z[] = {0, 0}, one[] = {5, 0};
    T_CHECK(!fe_drift_chisq(z, one, 2, &x) && x.p == 1);
    T_CHECK(!fe_drift_chisq(one, one, 2, &x) && x.p == 1); /* one category */

    T_CHECK_NEAR(fe_drift_mcnemar(0, 0), 1, 0);
    T_CHECK_NEAR(fe_drift_mcnemar(0, 10), 2 * pow(0.5, 10), 1e-15);
    T_CHECK_NEAR(fe_drift_mcnemar(5, 5), 1, 0);

    struct fe_paired_t t;
    double d[] = {1, 2, 3, 4, 5};
    T_CHECK(fe_drift_paired_t(d, 5, 0.05, &t));
    T_CHECK_NEAR(t.mean, 3, 1e-15);
    T_CHECK_NEAR(t.se, sqrt(2.5 / 5), 1e-15);
    /* scipy.stats.ttest_1samp([1,2,3,4,5], 0): t = 4.242640687119285, p = 0.013235599563682695 */
    T_CHECK_NEAR(t.t, 4.242640687119285, 1e-12);
    T_CHECK_NEAR(t.p, 0.013235599563682695, 1e-12);
    double zero[] = {0, 0, 0};
    T_CHECK(fe_drift_paired_t(zero, 3, 0.05, &t) && t.p == 1 && t.lo == 0 && t.hi == 0);
    T_CHECK(!fe_drift_paired_t(d, 1, 0.05, &t) && t.p == 1);
    T_CHECK_NEAR(fe_drift_mde(1.0, 0.05, 0.8), 2.8015852, 1e-6);
}

static void test_escaping(void)
{
    struct fe_buf b = {0};
    fe_compare_add_term(&b, "a\x1b[31mb\n\t\x7f\xc2\x85 caf\xc3\xa9 \xff", 0);
    T_CHECK_STR(fe_buf_str(&b), "a\\x1b[31mb\\n\\t\\x7f\\xc2\\x85 caf\xc3\xa9 \\xff");
    fe_buf_reset(&b);
    fe_compare_add_term(&b, "abcdef", 3);
    T_CHECK_STR(fe_buf_str(&b), "abc...");
    fe_buf_reset(&b);
    fe_compare_add_term(&b, NULL, 0);
    T_CHECK_STR(fe_buf_str(&b), "null");
    fe_buf_reset(&b);
    fe_xml_escape(&b, "<a href=\"x\">&'\x01\n\xef\xbf\xbf", 1);
    T_CHECK_STR(fe_buf_str(&b), "&lt;a href=&quot;x&quot;&gt;&amp;&apos;\\x01&#10;\\xef\\xbf\\xbf");
    fe_buf_release(&b);
}

static void write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        return;
    fputs(text, f);
    fclose(f);
}

#define FE_TEST_MANIFEST                                                                   \
    "{\"run_id\":\"%s\",\"name\":\"demo\",\"status\":\"complete\",\"started_at\":\"%s\","        \
    "\"dataset\":{\"sha256\":\"abc\"},\"metrics\":[\"exact_match\"],"                          \
    "\"primary_metric\":\"exact_match\",\"arms\":[{\"name\":\"ft\",\"model\":\"ft:x\"}]}"

static void test_history(void)
{
    char tmpl[] = "/tmp/fteval-history-XXXXXX";
    char *top = mkdtemp(tmpl);
    T_CHECK(top != NULL);
    if (!top)
        return;
    /* a config's runs and its history live in results/<name>/ ("demo" is the manifest's name) */
    char rootbuf[64];
    snprintf(rootbuf, sizeof(rootbuf), "%s/demo", top);
    char *root = rootbuf;
    fe_mkdir_p(root);
    char *r1 = fe_xasprintf("%s/r1", root), *r2 = fe_xasprintf("%s/r2", root);
    const char *recs = "{\"id\":\"a\",\"status\":\"ok\",\"prediction\":\"x\",\"scores\":{\"exact_match\":1},"
                       "\"cost_usd\":0.001}\n"
                       "{\"id\":\"b\",\"status\":\"ok\",\"prediction\":\"y\",\"scores\":{\"exact_match\":0},"
                       "\"cost_usd\":0.003}\n";
    const char *dirs[] = {r1, r2}, *ids[] = {"run-2", "run-1"},
               *times[] = {"2026-11-25T00:00:00Z", "2026-11-24T00:00:00Z"};
    for (int i = 0; i < 2; i++) {
        fe_mkdir_p(dirs[i]);
        char *p = fe_xasprintf("%s/manifest.json", dirs[i]);
        char *m = fe_xasprintf(FE_TEST_MANIFEST, ids[i], times[i]);
        write_text(p, m);
        free(p);
        free(m);
        p = fe_xasprintf("%s/ft.jsonl", dirs[i]);
        write_text(p, recs);
        free(p);
    }
    struct fe_err err = {0};
    struct fe_run *run1 = NULL, *run2 = NULL;
    T_CHECK(fe_run_load(r1, &run1, &err) == FE_OK);
    T_CHECK(fe_run_load(r2, &run2, &err) == FE_OK);
    if (run1 && run2) {
        cJSON *summary = cJSON_Parse("{\"arms\":{\"ft\":{\"n\":2,\"n_errors\":0,\"metrics\":"
                                     "{\"exact_match\":{\"mean\":0.5,\"ci\":[0.1,0.9]}},"
                                     "\"cost\":{\"priced\":true,\"per_inference_usd\":0.002}}}}");
        T_CHECK(fe_history_append(run1, NULL, &err) == FE_OK);     /* from the records */
        T_CHECK(fe_history_append(run2, summary, &err) == FE_OK);
        T_CHECK(fe_history_append(run1, summary, &err) == FE_OK);  /* re-recorded: last wins */
        cJSON_Delete(summary);
        char *h = fe_xasprintf("%s/history.jsonl", root);
        FILE *f = fopen(h, "ab");
        if (f) {
            fputs("{\"run_id\":\"torn", f); /* a crash mid-append */
            fclose(f);
        }
        cJSON *hist = fe_history_load(root, &err);
        T_CHECK(hist != NULL);
        T_CHECK(cJSON_GetArraySize(hist) == 2);
        const cJSON *first = cJSON_GetArrayItem(hist, 0), *second = cJSON_GetArrayItem(hist, 1);
        T_CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(first, "run_id")), "run-1");
        T_CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(second, "run_id")), "run-2");
        const cJSON *ae = cJSON_GetObjectItem(cJSON_GetObjectItem(second, "arms"), "ft");
        T_CHECK_NEAR(cJSON_GetObjectItem(ae, "cost_per_inference_usd")->valuedouble, 0.002, 1e-15);
        T_CHECK(cJSON_GetArraySize(cJSON_GetObjectItem(
                    cJSON_GetObjectItem(cJSON_GetObjectItem(ae, "metrics"), "exact_match"), "ci")) == 2);
        T_CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(second, "dataset_sha256")), "abc");
        cJSON_Delete(hist);
        /* a run directory resolves to its parent's history */
        char *path = fe_history_path(r1);
        T_CHECK_STR(path, h);
        free(path);
        /* computed from records when there is no summary */
        struct fe_err e2 = {0};
        unlink(h);
        T_CHECK(fe_history_append(run1, NULL, &e2) == FE_OK);
        hist = fe_history_load(r1, &e2);
        ae = cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetArrayItem(hist, 0), "arms"), "ft");
        T_CHECK_NEAR(cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetObjectItem(ae, "metrics"),
                                                             "exact_match"), "mean")->valuedouble,
                     0.5, 1e-15);
        T_CHECK_NEAR(cJSON_GetObjectItem(ae, "cost_per_inference_usd")->valuedouble, 0.002, 1e-15);
        cJSON_Delete(hist);
        /* a corrupt line in the middle is an error naming file and line */
        f = fopen(h, "ab");
        if (f) {
            fputs("not json\n{}\n", f);
            fclose(f);
        }
        struct fe_err e3 = {0};
        T_CHECK(fe_history_load(root, &e3) == NULL && e3.code == FE_EINVALID &&
                strstr(e3.msg, ":2:") != NULL);
        struct fe_err e4 = {0};
        char *none = fe_xasprintf("%s/none", root);
        T_CHECK(fe_history_load(none, &e4) == NULL && e4.code == FE_EIO);
        free(none);
        unlink(h);
        free(h);
    }
    for (int i = 0; i < 2; i++) {
        char *p = fe_xasprintf("%s/manifest.json", dirs[i]);
        unlink(p);
        free(p);
        p = fe_xasprintf("%s/ft.jsonl", dirs[i]);
        unlink(p);
        free(p);
        rmdir(dirs[i]);
    }
    rmdir(root);
    rmdir(top);
    fe_run_free(run1);
    fe_run_free(run2);
    free(r1);
    free(r2);
}

static void put_buf(void *ctx, const char *s, size_t n)
{
    fe_buf_add(ctx, s, n);
}

/* compare.json written one example at a time (fe_compare_runs_lists + fe_compare_print) has the
 * bytes cJSON_Print gives for the whole result of fe_compare_runs: nested golds, escaped text,
 * a missing record, lists cut to their first example in the result. */
static void test_print(void)
{
    char tmpl[] = "/tmp/fteval-print-XXXXXX";
    char *top = mkdtemp(tmpl);
    T_CHECK(top != NULL);
    if (!top)
        return;
    static const char *const recs[2] = {
        "{\"id\":\"a\",\"status\":\"ok\",\"prediction\":\"x\\n\\ty\",\"gold\":{\"k\":[1,{\"z\":\"\\u00e9\"}],"
        "\"e\":{}},\"input\":\"line\\none\",\"scores\":{\"exact_match\":1}}\n"
        "{\"id\":\"b\",\"status\":\"ok\",\"prediction\":\"p\",\"gold\":[\"q\",[]],\"scores\":{\"exact_match\":0}}\n"
        "{\"id\":\"c\",\"status\":\"ok\",\"prediction\":\"r\",\"gold\":\"r\",\"scores\":{\"exact_match\":1}}\n"
        "{\"id\":\"d\",\"status\":\"ok\",\"prediction\":\"s\",\"gold\":\"s\",\"input\":\"i\",\"scores\":{\"exact_match\":1}}\n",
        "{\"id\":\"a\",\"status\":\"ok\",\"prediction\":\"w\\\"\",\"gold\":{\"k\":[1,{\"z\":\"\\u00e9\"}],"
        "\"e\":{}},\"input\":\"line\\none\",\"input_truncated\":true,\"scores\":{\"exact_match\":0}}\n"
        "{\"id\":\"b\",\"status\":\"ok\",\"prediction\":\"q\",\"gold\":[\"q\",[]],\"scores\":{\"exact_match\":1}}\n"
        "{\"id\":\"c\",\"status\":\"ok\",\"prediction\":\"r\",\"gold\":\"r\",\"scores\":{\"exact_match\":1}}\n"};
    char *dirs[2] = {fe_xasprintf("%s/base", top), fe_xasprintf("%s/cand", top)};
    struct fe_run *runs[2] = {NULL, NULL};
    for (int i = 0; i < 2; i++) {
        fe_mkdir_p(dirs[i]);
        char *p = fe_xasprintf("%s/manifest.json", dirs[i]);
        char *m = fe_xasprintf(FE_TEST_MANIFEST, i ? "run-b" : "run-a", "2026-11-25T00:00:00Z");
        write_text(p, m);
        free(p);
        free(m);
        p = fe_xasprintf("%s/ft.jsonl", dirs[i]);
        write_text(p, recs[i]);
        free(p);
        struct fe_err err = {0};
        T_CHECK(fe_run_load(dirs[i], &runs[i], &err) == FE_OK);
    }
    if (runs[0] && runs[1]) {
        struct fe_compare_opts o;
        fe_compare_opts_default(&o);
        o.resamples = 200;
        struct fe_err err = {0};
        cJSON *full = NULL, *res = NULL;
        struct fe_compare_lists *lists = NULL;
        T_CHECK(fe_compare_runs(runs[0], runs[1], &o, &full, &err) == FE_OK);
        T_CHECK(fe_compare_runs_lists(runs[0], runs[1], &o, 1, &res, &lists, &err) == FE_OK);
        if (full && res && lists) {
            char *want = cJSON_Print(full), *before = cJSON_Print(res);
            struct fe_buf got = {0};
            fe_compare_print(res, lists, put_buf, &got);
            T_CHECK_STR(fe_buf_str(&got), want);
            T_CHECK(strstr(want, "\"input_truncated\":\ttrue") != NULL); /* the texts are there */
            char *after = cJSON_Print(res); /* the result is restored */
            T_CHECK_STR(after, before);
            const cJSON *arm = cJSON_GetArrayItem(cJSON_GetObjectItem(res, "arms"), 0);
            const cJSON *broke = cJSON_GetObjectItem(arm, "broke");
            T_CHECK(cJSON_GetArraySize(cJSON_GetObjectItem(broke, "examples")) == 1);
            T_CHECK(cJSON_GetNumberValue(cJSON_GetObjectItem(broke, "count")) == 2);
            T_CHECK(fe_compare_lists_count(lists, 0, false) == 2 &&
                    fe_compare_lists_count(lists, 0, true) == 1);
            cJSON *d = fe_compare_lists_example(lists, 0, false, 1); /* "d": missing in cand */
            T_CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(d, "candidate_status")), "missing");
            T_CHECK(fe_compare_lists_example(lists, 0, false, 2) == NULL);
            cJSON_Delete(d);
            fe_buf_release(&got);
            free(want);
            free(before);
            free(after);
        }
        fe_compare_lists_free(lists);
        cJSON_Delete(full);
        cJSON_Delete(res);
    }
    for (int i = 0; i < 2; i++) {
        fe_run_free(runs[i]);
        char *p = fe_xasprintf("%s/manifest.json", dirs[i]);
        unlink(p);
        free(p);
        p = fe_xasprintf("%s/ft.jsonl", dirs[i]);
        unlink(p);
        free(p);
        rmdir(dirs[i]);
        free(dirs[i]);
    }
    rmdir(top);
}

int main(void)
{
    fe_stats_global_init();
    test_verdicts();
    test_drift();
    test_escaping();
    test_history();
    test_print();
    return T_DONE();
}
