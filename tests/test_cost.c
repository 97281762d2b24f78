/* test_cost.c — price tables (validation, ft: lookup, checkpoints, unknown ids), cost per call,
 * training cost, per-arm cost and latency summaries, token estimator, configs/prices.json. */
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "harness/base/util.h"
#include "harness/analysis/arm_cost.h"
#include "metrics/cost.h"
#include "tests/fixtures/report/run_fixture.h"
#include "tests/t.h"

static const char table_json[] =
    "{\"currency\":\"USD\",\"unit\":\"per_1m_tokens\",\"models\":{"
    "\"gpt-4o-mini-2024-07-18\":{\"input\":0.15,\"cached_input\":0.075,\"output\":0.60,"
    "\"batch_multiplier\":0.5,\"source\":\"s\",\"as_of\":\"2026-11-01\"},"
    "\"ft:gpt-4o-mini-2024-07-18\":{\"input\":0.30,\"cached_input\":0.15,\"output\":1.20,"
    "\"training\":3.00,\"source\":\"s2\",\"as_of\":\"2026-11-01\"},"
    "\"local-model\":{\"input\":0,\"output\":0},"
    "\"no-cache-rate\":{\"input\":2.0,\"output\":8.0}}}";

static struct fe_prices *load_inline(const char *json, struct fe_err *err)
{
    cJSON *j = cJSON_Parse(json);
    if (!j) {
        fprintf(stderr, "bad test json: %s\n", json);
        exit(1);
    }
    struct fe_prices *p = fe_prices_load(j, NULL, err);
    cJSON_Delete(j);
    return p;
}

static void test_lookup_and_cost(void)
{
    struct fe_err err = {0};
    struct fe_prices *p = load_inline(table_json, &err);
    T_CHECK(p != NULL);
    T_CHECK(fe_prices_count(p) == 4);
    struct fe_price pr;
    T_CHECK(fe_prices_lookup(p, "gpt-4o-mini-2024-07-18", &pr));
    T_CHECK_NEAR(pr.input, 0.15, 1e-12);
    T_CHECK_STR(pr.row, "gpt-4o-mini-2024-07-18");
    T_CHECK_STR(pr.source, "s");
    /* (1000 - 200) * 0.15 + 200 * 0.075 + 50 * 0.60 per 1M */
    double want = (800 * 0.15 + 200 * 0.075 + 50 * 0.60) / 1e6;
    T_CHECK_NEAR(fe_cost_call(&pr, 1000, 200, 50, false), want, 1e-15);
    T_CHECK_NEAR(fe_cost_call(&pr, 1000, 200, 50, true), want * 0.5, 1e-15);
    /* cached > prompt is clamped; negatives count as 0 */
    T_CHECK_NEAR(fe_cost_call(&pr, 100, 500, -3, false), 100 * 0.075 / 1e6, 1e-15);

    /* fine-tuned ids resolve to the ft:BASE row, checkpoints too */
    T_CHECK(fe_prices_lookup(p, "ft:gpt-4o-mini-2024-07-18:acme::abc123", &pr));
    T_CHECK_STR(pr.row, "ft:gpt-4o-mini-2024-07-18");
    T_CHECK_NEAR(pr.output, 1.20, 1e-12);
    T_CHECK(
        fe_prices_lookup(p, "ft:gpt-4o-mini-2024-07-18:acme:support:abc123:ckpt-step-200", &pr));
    T_CHECK_STR(pr.row, "ft:gpt-4o-mini-2024-07-18");
    T_CHECK(fe_prices_lookup(p, "ft:gpt-4o-mini-2024-07-18", &pr));
    /* no cached rate: cached tokens bill at input */
    T_CHECK(fe_prices_lookup(p, "local-model", &pr));
    T_CHECK(!pr.has_cached_input);
    T_CHECK(pr.batch_multiplier == 1.0);
    T_CHECK(fe_prices_lookup(p, "no-cache-rate", &pr) && !pr.has_cached_input);
    /* ... computed: 1000 prompt tokens of which 400 cached, 10 completion tokens, every prompt
     * token at the input rate (never 0 for the cached ones) */
    T_CHECK_NEAR(fe_cost_call(&pr, 1000, 400, 10, false),
                 (1000 * 2.0 + 10 * 8.0) / 1e6, 1e-15);
    T_CHECK_NEAR(fe_cost_call(&pr, 1000, 400, 0, false) - fe_cost_call(&pr, 600, 0, 0, false),
                 400 * 2.0 / 1e6, 1e-15);

    /* unknown: false, never a $0 row */
    T_CHECK(!fe_prices_lookup(p, "gpt-4o-mini", &pr));
    T_CHECK(!fe_prices_lookup(p, "ft:gpt-4o-2024-08-06:acme::x", &pr));
    T_CHECK(!fe_prices_lookup(p, "ft:", &pr));
    T_CHECK(!fe_prices_lookup(p, "ft::acme", &pr));
    T_CHECK(!fe_prices_lookup(p, NULL, &pr));
    T_CHECK(!fe_prices_lookup(NULL, "gpt-4o-mini-2024-07-18", &pr));
    /* the base row never answers for a fine-tuned id */
    T_CHECK(!fe_prices_lookup(p, "ft:local-model:acme::x", &pr));

    /* training */
    double usd = -1;
    T_CHECK(fe_training_cost(p, "ft:gpt-4o-mini-2024-07-18:acme::abc123", 2e6, &usd));
    T_CHECK_NEAR(usd, 6.0, 1e-12);
    T_CHECK(!fe_training_cost(p, "gpt-4o-mini-2024-07-18", 2e6, &usd));
    T_CHECK(!fe_training_cost(p, "unknown", 2e6, &usd));
    fe_prices_free(p);
    fe_prices_free(NULL);
}

static void expect_invalid(const char *json, const char *want_msg)
{
    struct fe_err err = {0};
    struct fe_prices *p = load_inline(json, &err);
    T_CHECK(p == NULL);
    T_CHECK(err.code == FE_EINVALID);
    if (!strstr(err.msg, want_msg)) {
        fprintf(stderr, "  error \"%s\" lacks \"%s\"\n", err.msg, want_msg);
        T_CHECK(false);
    }
    fe_prices_free(p);
}

static void test_invalid_tables(void)
{
    expect_invalid("{\"models\":{\"x\":{\"input\":-1,\"output\":1}}}",
                   "prices.models[\"x\"].input: must be a number >= 0");
    expect_invalid("{\"models\":{\"x\":{\"input\":\"0.1\",\"output\":1}}}",
                   "models[\"x\"].input: must be a number >= 0");
    expect_invalid("{\"models\":{\"x\":{\"input\":1}}}", "models[\"x\"].output: missing");
    expect_invalid("{\"models\":{\"x\":{\"input\":1,\"output\":1,\"ouput\":2}}}",
                   "models[\"x\"].ouput: unknown field");
    expect_invalid("{\"models\":{\"x\":{\"input\":1,\"output\":1,\"batch_multiplier\":0}}}",
                   "models[\"x\"].batch_multiplier: must be a number in (0, 1]");
    expect_invalid("{\"models\":{\"x\":{\"input\":1,\"output\":1,\"source\":3}}}",
                   "models[\"x\"].source: must be a string");
    expect_invalid("{\"models\":{\"x\":[1]}}", "models[\"x\"]: must be an object");
    expect_invalid("{\"models\":[]}", "prices.models: must be an object");
    expect_invalid("{\"currency\":\"EUR\",\"models\":{}}", "currency: must be \"USD\"");
    expect_invalid("{\"unit\":\"per_1k_tokens\",\"models\":{}}", "unit: must be \"per_1m_tokens\"");
    expect_invalid("{}", "prices.models: missing");
    expect_invalid("{\"models\":{\"x\":{\"input\":1,\"output\":1,\"training\":2,"
                   "\"training_per_1m\":3}}}",
                   "training_per_1m: disagrees");
    struct fe_err err = {0};
    cJSON *num = cJSON_CreateNumber(3);
    T_CHECK(fe_prices_load(num, NULL, &err) == NULL && err.code == FE_EINVALID);
    cJSON_Delete(num);

    /* a file: errors name the file; a missing file is an I/O error */
    char *dir = fx_tmpdir();
    fx_write(dir, "data_check.json", "{\"models\":{\"m\":{\"input\":1,\"output\":-2}}}");
    char base[4096];
    snprintf(base, sizeof(base), "%s/manifest.json", dir);
    cJSON *path = cJSON_CreateString("data_check.json");
    fe_err_clear(&err);
    T_CHECK(fe_prices_load(path, base, &err) == NULL);
    T_CHECK(strstr(err.msg, "data_check.json: models[\"m\"].output: must be a number >= 0") !=
            NULL);
    cJSON_Delete(path);
    path = cJSON_CreateString("nope.json");
    fe_err_clear(&err);
    T_CHECK(fe_prices_load(path, base, &err) == NULL && err.code == FE_EIO);
    cJSON_Delete(path);
    fx_write(dir, "data_check.json", "{not json");
    path = cJSON_CreateString("data_check.json");
    fe_err_clear(&err);
    T_CHECK(fe_prices_load(path, base, &err) == NULL && err.code == FE_EINVALID);
    cJSON_Delete(path);
    fx_rmtree(dir);
    free(dir);
}

/* configs/prices.json: valid, every row dated and sourced, the PROVIDER-APIS §6 rows present */
static void test_shipped_table(void)
{
    const char *src = getenv("FTEVAL_SRC");
    if (!src)
        return;
    char path[4096];
    snprintf(path, sizeof(path), "%s/configs/prices.json", src);
    cJSON *v = cJSON_CreateString(path);
    struct fe_err err = {0};
    struct fe_prices *p = fe_prices_load(v, NULL, &err);
    cJSON_Delete(v);
    T_CHECK(p != NULL);
    if (!p) {
        fprintf(stderr, "  %s\n", err.msg);
        return;
    }
    static const struct {
        const char *id;
        double in, cached, out, training;
    } rows[] = {
        {"gpt-4o-mini-2024-07-18", 0.15, 0.075, 0.60, -1},
        {"ft:gpt-4o-mini-2024-07-18", 0.30, 0.15, 1.20, 3.00},
        {"gpt-4o-2024-08-06", 2.50, 1.25, 10.00, -1},
        {"ft:gpt-4o-2024-08-06", 3.75, 1.875, 15.00, 25.00},
        {"gpt-4.1-2025-04-14", 2.00, 0.50, 8.00, -1},
        {"ft:gpt-4.1-2025-04-14", 3.00, 0.75, 12.00, 25.00},
        {"gpt-4.1-mini-2025-04-14", 0.40, 0.10, 1.60, -1},
        {"ft:gpt-4.1-mini-2025-04-14", 0.80, 0.20, 3.20, 5.00},
        {"gpt-4.1-nano-2025-04-14", 0.10, 0.025, 0.40, -1},
        {"ft:gpt-4.1-nano-2025-04-14", 0.20, 0.05, 0.80, 1.50},
        {"o4-mini-2025-04-16", 1.10, 0.275, 4.40, -1},
        {"ft:o4-mini-2025-04-16", 4.00, 1.00, 16.00, -1},
    };
    /* issue 15: the Azure, Bedrock and Anthropic rows of docs/providers.md (no batch rate given: 1.0) */
    static const struct {
        const char *id;
        double in, cached, out;
    } platform_rows[] = {
        {"azure/gpt-4o-mini-2024-07-18", 0.165, 0.075, 0.66},
        {"amazon.nova-micro-v1:0", 0.035, 0.00875, 0.14},
        {"amazon.nova-lite-v1:0", 0.06, 0.015, 0.24},
        {"anthropic.claude-3-5-haiku-20241022-v1:0", 0.80, 0.08, 4.00},
        {"claude-haiku-4-5-20251001", 1.00, 0.10, 5.00},  /* the Anthropic API rows of the docs */
        {"claude-3-5-haiku-20241022", 0.80, 0.08, 4.00},
    };
    T_CHECK(fe_prices_count(p) == FE_ARRAY_LEN(rows) + FE_ARRAY_LEN(platform_rows));
    for (size_t i = 0; i < FE_ARRAY_LEN(platform_rows); i++) {
        struct fe_price pr;
        bool ok = fe_prices_lookup(p, platform_rows[i].id, &pr);
        T_CHECK(ok);
        if (!ok)
            continue;
        T_CHECK_NEAR(pr.input, platform_rows[i].in, 1e-12);
        T_CHECK_NEAR(pr.cached_input, platform_rows[i].cached, 1e-12);
        T_CHECK_NEAR(pr.output, platform_rows[i].out, 1e-12);
        T_CHECK(pr.batch_multiplier == 1.0 && !pr.has_training);
        T_CHECK(pr.source && pr.source[0] && pr.as_of && strlen(pr.as_of) == 10);
    }
    for (size_t i = 0; i < FE_ARRAY_LEN(rows); i++) {
        struct fe_price pr;
        bool ok = fe_prices_lookup(p, rows[i].id, &pr);
        T_CHECK(ok);
        if (!ok)
            continue;
        T_CHECK_NEAR(pr.input, rows[i].in, 1e-12);
        T_CHECK_NEAR(pr.cached_input, rows[i].cached, 1e-12);
        T_CHECK_NEAR(pr.output, rows[i].out, 1e-12);
        T_CHECK(pr.batch_multiplier == 0.5);
        T_CHECK(pr.source && pr.source[0] && pr.as_of && strlen(pr.as_of) == 10);
        if (rows[i].training >= 0)
            T_CHECK(pr.has_training && fabs(pr.training - rows[i].training) < 1e-12);
        else
            T_CHECK(!pr.has_training);
    }
    fe_prices_free(p);
}

static void test_arm_summaries(void)
{
    char *dir = fx_tmpdir();
    const char *names[] = {"a", "b"}, *models[] = {"m", "m"};
    cJSON *man = fx_manifest(names, models, 2, NULL);
    fx_write_json(dir, "manifest.json", man);
    cJSON_Delete(man);
    /* arm a: 4 ok priced records + 1 failure without usage (nothing billed) */
    FILE *f = fx_open_arm(dir, "a");
    fx_record(f, "a", 0, 1, 1, true, 0.001, 100, NULL, NULL);
    fx_record(f, "a", 1, 1, 1, true, 0.002, 200, NULL, NULL);
    fx_record(f, "a", 2, 0, 0.5, true, 0.003, 300, NULL, NULL);
    fx_record(f, "a", 3, 1, 1, true, 0.004, 400, NULL, NULL);
    fx_record(f, "a", 4, 0, 0, false, -1, 9999, NULL, NULL);
    fclose(f);
    /* arm b: one unknown-price record */
    f = fx_open_arm(dir, "b");
    fx_record(f, "b", 0, 1, 1, true, 0.001, 10, NULL, NULL);
    fx_record(f, "b", 1, 1, 1, true, -1, 20, NULL, NULL);
    fclose(f);
    struct fe_run *run = fx_load(dir);

    cJSON *c = fe_cost_arm_summary(&run->arms[0], 0);
    T_CHECK(cJSON_IsTrue(cJSON_GetObjectItem(c, "priced")));
    T_CHECK_NEAR(cJSON_GetObjectItem(c, "total_usd")->valuedouble, 0.010, 1e-15);
    T_CHECK_NEAR(cJSON_GetObjectItem(c, "per_inference_usd")->valuedouble, 0.002, 1e-15);
    T_CHECK_NEAR(cJSON_GetObjectItem(c, "per_1k_usd")->valuedouble, 2.0, 1e-12);
    T_CHECK_NEAR(cJSON_GetObjectItem(c, "per_correct_usd")->valuedouble, 0.010 / 3, 1e-15);
    T_CHECK_NEAR(cJSON_GetObjectItem(c, "saved_by_cache_usd")->valuedouble, 0, 1e-15);
    T_CHECK(cJSON_GetObjectItem(c, "n_unpriced")->valuedouble == 0);
    cJSON_Delete(c);
    c = fe_cost_arm_summary(&run->arms[0], FE_NO_METRIC);
    T_CHECK(cJSON_IsNull(cJSON_GetObjectItem(c, "per_correct_usd")));
    cJSON_Delete(c);

    c = fe_cost_arm_summary(&run->arms[1], 0);
    T_CHECK(cJSON_IsFalse(cJSON_GetObjectItem(c, "priced")));
    T_CHECK(cJSON_IsNull(cJSON_GetObjectItem(c, "total_usd")));
    T_CHECK(cJSON_IsNull(cJSON_GetObjectItem(c, "per_inference_usd")));
    T_CHECK(cJSON_IsNull(cJSON_GetObjectItem(c, "per_1k_usd")));
    T_CHECK(cJSON_IsNull(cJSON_GetObjectItem(c, "per_correct_usd")));
    T_CHECK(cJSON_GetObjectItem(c, "n_unpriced")->valuedouble == 1);
    cJSON_Delete(c);

    /* latency over ok records: 100..400, type-7 */
    cJSON *l = fe_latency_summary(&run->arms[0]);
    T_CHECK(cJSON_GetObjectItem(l, "n")->valuedouble == 4);
    T_CHECK_NEAR(cJSON_GetObjectItem(l, "mean")->valuedouble, 250, 1e-9);
    T_CHECK_NEAR(cJSON_GetObjectItem(l, "p50")->valuedouble, 250, 1e-9);
    T_CHECK_NEAR(cJSON_GetObjectItem(l, "p90")->valuedouble, 370, 1e-9);
    T_CHECK_NEAR(cJSON_GetObjectItem(l, "p95")->valuedouble, 385, 1e-9);
    T_CHECK_NEAR(cJSON_GetObjectItem(l, "p99")->valuedouble, 397, 1e-9);
    T_CHECK_NEAR(cJSON_GetObjectItem(l, "max")->valuedouble, 400, 1e-9);
    cJSON_Delete(l);
    fe_run_free(run);

    /* an empty arm: unpriced, latency null */
    struct fe_arm_run empty = {0};
    c = fe_cost_arm_summary(&empty, 0);
    T_CHECK(cJSON_IsFalse(cJSON_GetObjectItem(c, "priced")));
    cJSON_Delete(c);
    l = fe_latency_summary(&empty);
    T_CHECK(cJSON_IsNull(cJSON_GetObjectItem(l, "p50")));
    T_CHECK(cJSON_GetObjectItem(l, "n")->valuedouble == 0);
    char *s = cJSON_PrintUnformatted(l);
    T_CHECK(strstr(s, "nan") == NULL);
    cJSON_free(s);
    cJSON_Delete(l);
    fx_rmtree(dir);
    free(dir);
}

/* Cache hits: counted in total_usd at list price, reported as saved, excluded from latency. */
static void test_cache_hits(void)
{
    char *dir = fx_tmpdir();
    const char *names[] = {"a"}, *models[] = {"m"};
    cJSON *man = fx_manifest(names, models, 1, NULL);
    fx_write_json(dir, "manifest.json", man);
    cJSON_Delete(man);
    fx_write(dir, "a.jsonl",
             "{\"id\":\"1\",\"status\":\"ok\",\"scores\":{\"exact_match\":1},"
             "\"usage\":{\"prompt_tokens\":10},\"cost_usd\":0.004,\"latency_ms\":100,"
             "\"cache_hit\":false}\n"
             "{\"id\":\"2\",\"status\":\"ok\",\"scores\":{\"exact_match\":1},"
             "\"usage\":{\"prompt_tokens\":10},\"cost_usd\":0.006,\"latency_ms\":1,"
             "\"cache_hit\":true}\n");
    struct fe_run *run = fx_load(dir);
    cJSON *c = fe_cost_arm_summary(&run->arms[0], 0);
    T_CHECK_NEAR(cJSON_GetObjectItem(c, "total_usd")->valuedouble, 0.010, 1e-15);
    T_CHECK_NEAR(cJSON_GetObjectItem(c, "saved_by_cache_usd")->valuedouble, 0.006, 1e-15);
    T_CHECK_NEAR(cJSON_GetObjectItem(c, "spent_usd")->valuedouble, 0.004, 1e-15);
    T_CHECK_NEAR(cJSON_GetObjectItem(c, "per_correct_usd")->valuedouble, 0.005, 1e-15);
    cJSON_Delete(c);
    cJSON *l = fe_latency_summary(&run->arms[0]);
    T_CHECK(cJSON_GetObjectItem(l, "n")->valuedouble == 1);
    T_CHECK_NEAR(cJSON_GetObjectItem(l, "p50")->valuedouble, 100, 1e-12);
    cJSON_Delete(l);
    fe_run_free(run);
    fx_rmtree(dir);
    free(dir);
}

static void test_quantile(void)
{
    double v[] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
    T_CHECK_NEAR(fe_quantile_sorted(v, 10, 0.5), 5.5, 1e-12); /* numpy.percentile(v, 50) */
    T_CHECK_NEAR(fe_quantile_sorted(v, 10, 0.9), 9.1, 1e-12);
    T_CHECK_NEAR(fe_quantile_sorted(v, 10, 0.99), 9.91, 1e-12);
    T_CHECK_NEAR(fe_quantile_sorted(v, 10, 0), 1, 1e-12);
    T_CHECK_NEAR(fe_quantile_sorted(v, 10, 1), 10, 1e-12);
    T_CHECK_NEAR(fe_quantile_sorted(v, 1, 0.7), 1, 1e-12);
}

/* fe_sample_quantiles: the values of a double array, NAN ones left out. */
static double sample_at(const void *ctx, size_t i)
{
    return ((const double *)ctx)[i];
}

static int cmp_dbl(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* The reference: the published type-7 definition (Hyndman & Fan; numpy 'linear') on a sorted
 * double copy, and the old code path (qsort + fe_quantile_sorted), which must agree bit for bit
 * with fe_sample_quantiles whichever way it goes (radix select over microsecond counts, or a
 * sorted copy of the doubles). */
static void check_sample(const double *x, size_t n)
{
    static const double qs[] = {0, 0.05, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 1};
    enum { NQ = sizeof(qs) / sizeof(qs[0]) };
    double *v = malloc((n + 1) * sizeof(*v)), sum = 0;
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (!isnan(x[i])) {
            v[k++] = x[i];
            sum += x[i];
        }
    qsort(v, k, sizeof(*v), cmp_dbl);
    double out[NQ];
    for (size_t j = 0; j < NQ; j++)
        out[j] = -7; /* untouched when the sample is empty */
    struct fe_sample_stats st;
    fe_sample_quantiles(sample_at, x, n, qs, NQ, out, &st);
    T_CHECK(st.k == k);
    T_CHECK(memcmp(&st.sum, &sum, sizeof(sum)) == 0);
    for (size_t j = 0; j < NQ && k > 0; j++) {
        double old = fe_quantile_sorted(v, k, qs[j]);
        T_CHECK(memcmp(&out[j], &old, sizeof(old)) == 0);
        double h = (double)(k - 1) * qs[j];
        size_t lo = (size_t)floor(h);
        double ref = lo + 1 < k ? v[lo] + (h - (double)lo) * (v[lo + 1] - v[lo]) : v[k - 1];
        T_CHECK_NEAR(out[j], ref, 1e-9 * (1 + fabs(ref)));
    }
    T_CHECK(k == 0 ? st.max == 0 && out[0] == -7 : memcmp(&st.max, &v[k - 1], sizeof(double)) == 0);
    free(v);
}

/* Whole microseconds (the select path: duplicates, 0, the largest count, NAN gaps), then the
 * same with one value that is not (the double path), a -0.0, one value, none. */
static void test_sample_quantiles(void)
{
    enum { N = 2001 };
    double *x = malloc(N * sizeof(*x));
    uint32_t s = 12345;
    for (size_t i = 0; i < N; i++) {
        s = s * 1103515245u + 12345u;
        uint32_t u = (s >> 8) % 50000u;
        x[i] = i % 97 == 0 ? NAN : i % 13 == 0 ? (double)(u % 7) / 1000.0 : (double)u / 1000.0;
    }
    x[5] = 0;
    x[6] = 4294967294.0 / 1000.0;
    check_sample(x, N);
    check_sample(x, 10); /* an even count: interpolated medians */
    x[7] = 1.2345678; /* not a whole number of microseconds: the double path */
    check_sample(x, N);
    x[7] = 123456.789012; /* neither */
    check_sample(x, N);
    x[7] = -0.0;
    check_sample(x, N);
    double one[1] = {2.5}, none[2] = {NAN, NAN}, few[4] = {1.2345678, 0.5, NAN, 2.0000001};
    check_sample(one, 1);
    check_sample(few, 4); /* each order statistic read: none may pass for whole microseconds */
    check_sample(none, 2);
    check_sample(none, 0);
    free(x);
}

/* A failed call that reported usage was billed by the provider at a price we do not know: the
 * arm's cost is unknown (null), never the sum of the calls that happen to have a price. A failed
 * call without usage billed nothing and leaves the arm priced. (mutant cost-unpriced-errors) */
static void test_failed_call_with_usage_unpriced(void)
{
    double one = 1;
    struct fe_record recs[3] = {
        {.ok = true, .has_usage = true, .prompt_tokens = 10, .has_cost = true, .cost_usd = 0.002,
         .score_col = &one},
        {.ok = false, .has_usage = false, .has_cost = false},
        {.ok = false, .has_usage = true, .prompt_tokens = 10, .has_cost = false},
    };
    struct fe_arm_run arm = {.built = recs, .n = 2};
    cJSON *c = fe_cost_arm_summary(&arm, FE_NO_METRIC);
    T_CHECK(cJSON_IsTrue(cJSON_GetObjectItem(c, "priced")));
    T_CHECK_NEAR(cJSON_GetObjectItem(c, "total_usd")->valuedouble, 0.002, 1e-15);
    T_CHECK(cJSON_GetObjectItem(c, "n_unpriced")->valuedouble == 0);
    cJSON_Delete(c);
    arm.n = 3;
    c = fe_cost_arm_summary(&arm, FE_NO_METRIC);
    T_CHECK(cJSON_IsFalse(cJSON_GetObjectItem(c, "priced")));
    T_CHECK(cJSON_IsNull(cJSON_GetObjectItem(c, "total_usd")));
    T_CHECK(cJSON_IsNull(cJSON_GetObjectItem(c, "spent_usd")));
    T_CHECK(cJSON_IsNull(cJSON_GetObjectItem(c, "per_inference_usd")));
    T_CHECK(cJSON_GetObjectItem(c, "n_priced")->valuedouble == 1);
    T_CHECK(cJSON_GetObjectItem(c, "n_unpriced")->valuedouble == 1);
    cJSON_Delete(c);
}

int main(void)
{
    test_lookup_and_cost();
    test_invalid_tables();
    test_shipped_table();
    test_arm_summaries();
    test_cache_hits();
    test_quantile();
    test_sample_quantiles();
    test_failed_call_with_usage_unpriced();
    return T_DONE();
}
