/* test_decision.c — verdict rules, break-even, rubric bands and evidence (docs/decision.md). */
#include <stdbool.h>

#include "harness/analysis/decision.h"
#include "harness/base/util.h"
#include "tests/fixtures/report/run_fixture.h"
#include "tests/t.h"

static const char *const NAMES[] = {"base", "prompted", "finetuned"};
static const char *const MODELS[] = {"gpt-4o-mini-2024-07-18", "gpt-4o-mini-2024-07-18",
                                     "ft:gpt-4o-mini-2024-07-18:acme::abc123"};

struct fx_case {
    double cost_base, cost_cand; /* per inference; < 0: unpriced */
    double p50_base, p50_cand;
    const char *cmp;    /* comparison JSON (finetuned vs prompted on exact_match) */
    const char *config; /* config JSON or NULL */
    bool no_candidate_field;
    size_t n_records;
};

/* Writes a 3-arm run (base, prompted = baseline, finetuned = candidate) under root/run. */
static struct fe_run *make_run(const char *root, const struct fx_case *c, cJSON **summary)
{
    char dir[4096];
    snprintf(dir, sizeof(dir), "%s/run", root);
    fe_mkdir_p(dir);
    cJSON *cfg = c->config ? cJSON_Parse(c->config) : cJSON_CreateObject();
    if (!cfg) {
        fprintf(stderr, "bad config json\n");
        exit(1);
    }
    cJSON *m = fx_manifest(NAMES, MODELS, 3, cfg);
    cJSON_AddStringToObject(m, "baseline_arm", "prompted");
    if (!c->no_candidate_field)
        cJSON_AddStringToObject(m, "candidate_arm", "finetuned");
    cJSON *arms = cJSON_GetObjectItem(m, "arms");
    cJSON *pa = cJSON_GetArrayItem(arms, 1);
    cJSON_AddStringToObject(pa, "system_sha256", "cdcd");
    cJSON_AddStringToObject(pa, "few_shot_sha256", "efef");
    cJSON_AddNumberToObject(pa, "n_few_shot", 4);
    fx_write_json(dir, "manifest.json", m);
    cJSON_Delete(m);
    size_t n = c->n_records ? c->n_records : 20;
    for (size_t a = 0; a < 3; a++) {
        FILE *f = fx_open_arm(dir, NAMES[a]);
        for (size_t i = 0; i < n; i++)
            fx_record(f, NAMES[a], (int)i, (double)((i + a) % 2), 0.5, true, 0.0001, 100, NULL,
                      NULL);
        fclose(f);
    }
    struct fe_run *run = fx_load(dir);

    cJSON *s = cJSON_CreateObject();
    cJSON *sa = cJSON_AddObjectToObject(s, "arms");
    double costs[3] = {c->cost_base, c->cost_base, c->cost_cand};
    double p50s[3] = {c->p50_base, c->p50_base, c->p50_cand};
    for (size_t a = 0; a < 3; a++) {
        cJSON *o = cJSON_AddObjectToObject(sa, NAMES[a]);
        cJSON_AddNumberToObject(o, "n", 500);
        cJSON_AddNumberToObject(o, "n_errors", 0);
        cJSON *cost = cJSON_AddObjectToObject(o, "cost");
        cJSON_AddBoolToObject(cost, "priced", costs[a] >= 0);
        if (costs[a] >= 0)
            cJSON_AddNumberToObject(cost, "per_inference_usd", costs[a]);
        else
            cJSON_AddNullToObject(cost, "per_inference_usd");
        cJSON *lat = cJSON_AddObjectToObject(o, "latency_ms");
        cJSON_AddNumberToObject(lat, "p50", p50s[a]);
    }
    cJSON *cmps = cJSON_AddArrayToObject(s, "comparisons");
    if (c->cmp) {
        cJSON *cmp = cJSON_Parse(c->cmp);
        if (!cmp) {
            fprintf(stderr, "bad comparison json\n");
            exit(1);
        }
        cJSON_AddItemToArray(cmps, cmp);
    }
    *summary = s;
    return run;
}

static void cleanup(const char *root)
{
    char dir[4096];
    snprintf(dir, sizeof(dir), "%s/run", root);
    fx_rmtree(dir);
    snprintf(dir, sizeof(dir), "%s/history.jsonl", root);
    unlink(dir);
    snprintf(dir, sizeof(dir), "%s/data_check.json", root);
    unlink(dir);
    snprintf(dir, sizeof(dir), "%s/ratings.jsonl", root);
    unlink(dir);
    snprintf(dir, sizeof(dir), "%s/config.json", root);
    unlink(dir);
    rmdir(root);
}

static cJSON *decide(const struct fx_case *c)
{
    char *root = fx_tmpdir();
    cJSON *summary;
    struct fe_run *run = make_run(root, c, &summary);
    struct fe_err err = {0};
    cJSON *d = fe_decision_build(run, summary, &err);
    if (!d)
        fprintf(stderr, "decision: %s\n", err.msg);
    cJSON_Delete(summary);
    fe_run_free(run);
    cleanup(root);
    free(root);
    return d;
}

static const char *verdict(const cJSON *d)
{
    const cJSON *v = cJSON_GetObjectItem(d, "verdict");
    return cJSON_IsString(v) ? v->valuestring : "(none)";
}

static bool has_reason(const cJSON *d, const char *needle)
{
    const cJSON *r;
    cJSON_ArrayForEach(r, cJSON_GetObjectItem(d, "reasons")) {
        if (cJSON_IsString(r) && strstr(r->valuestring, needle))
            return true;
    }
    fprintf(stderr, "  no reason containing \"%s\" in:\n", needle);
    cJSON_ArrayForEach(r, cJSON_GetObjectItem(d, "reasons"))
        fprintf(stderr, "    %s\n", r->valuestring);
    return false;
}

static double num(const cJSON *o, const char *path)
{
    char key[64];
    while (o && *path) {
        const char *dot = strchr(path, '.');
        size_t len = dot ? (size_t)(dot - path) : strlen(path);
        memcpy(key, path, len);
        key[len] = 0;
        o = cJSON_GetObjectItem(o, key);
        path += len + (dot ? 1 : 0);
    }
    return cJSON_IsNumber(o) ? o->valuedouble : NAN;
}

static bool is_null(const cJSON *o, const char *k1, const char *k2)
{
    const cJSON *v = cJSON_GetObjectItem(cJSON_GetObjectItem(o, k1), k2);
    return cJSON_IsNull(v);
}

#define CMP_SIG_GAIN                                                                               \
    "{\"a\":\"finetuned\",\"b\":\"prompted\",\"metric\":\"exact_match\",\"n\":500,"                \
    "\"delta\":0.06,\"se_paired\":0.02,\"ci\":[0.02,0.10],\"p_adjusted\":0.003,"                   \
    "\"adjustment\":\"holm\",\"significant\":true,\"mde\":0.05,\"alpha\":0.05}"

static void test_ship_on_gain(void)
{
    struct fx_case c = {.cost_base = 0.0001,
                        .cost_cand = 0.000062,
                        .p50_base = 500,
                        .p50_cand = 300,
                        .cmp = CMP_SIG_GAIN};
    cJSON *d = decide(&c);
    T_CHECK_STR(verdict(d), "ship_candidate");
    T_CHECK_STR(cJSON_GetObjectItem(d, "baseline_arm")->valuestring, "prompted");
    T_CHECK_STR(cJSON_GetObjectItem(d, "candidate_arm")->valuestring, "finetuned");
    const cJSON *r0 = cJSON_GetArrayItem(cJSON_GetObjectItem(d, "reasons"), 0);
    T_CHECK_STR(r0 ? r0->valuestring : NULL, "EM +6.0 pts (95% CI +2.0..+10.0, p=0.003 Holm)");
    T_CHECK(has_reason(d, "cost per inference -38%"));
    T_CHECK(has_reason(d, "p50 latency -40%"));
    cJSON_Delete(d);

    /* the same comparison recorded the other way round (a = baseline) */
    struct fx_case f = c;
    f.cmp = "{\"a\":\"prompted\",\"b\":\"finetuned\",\"metric\":\"exact_match\",\"n\":500,"
            "\"delta\":-0.06,\"se_paired\":0.02,\"ci\":[-0.10,-0.02],\"p_adjusted\":0.003,"
            "\"adjustment\":\"holm\",\"significant\":true,\"mde\":0.05}";
    d = decide(&f);
    T_CHECK_STR(verdict(d), "ship_candidate");
    T_CHECK(has_reason(d, "EM +6.0 pts (95% CI +2.0..+10.0, p=0.003 Holm)"));
    cJSON_Delete(d);

    /* a comparison on another metric does not count */
    struct fx_case g = c;
    g.cmp = "{\"a\":\"finetuned\",\"b\":\"prompted\",\"metric\":\"f1\",\"delta\":0.06,"
            "\"ci\":[0.02,0.10],\"significant\":true}";
    d = decide(&g);
    T_CHECK_STR(verdict(d), "inconclusive");
    T_CHECK(has_reason(d, "no paired comparison"));
    cJSON_Delete(d);
}

#define CMP_FLAT                                                                                   \
    "{\"a\":\"finetuned\",\"b\":\"prompted\",\"metric\":\"exact_match\",\"n\":500,"                \
    "\"delta\":-0.002,\"se_paired\":0.003,\"ci\":[-0.008,0.004],\"p_adjusted\":0.5,"               \
    "\"adjustment\":\"holm\",\"significant\":false,\"mde\":0.0084,\"alpha\":0.05}"

static void test_non_inferior(void)
{
    /* lower bound -0.002 - 1.645 * 0.003 = -0.0069 > -0.01, and 40% cheaper: ship */
    struct fx_case c = {.cost_base = 0.0001,
                        .cost_cand = 0.00006,
                        .p50_base = 500,
                        .p50_cand = 500,
                        .cmp = CMP_FLAT};
    cJSON *d = decide(&c);
    T_CHECK_STR(verdict(d), "ship_candidate");
    T_CHECK(cJSON_IsTrue(cJSON_GetObjectItem(d, "non_inferior")));
    T_CHECK_NEAR(num(d, "lower_bound"), -0.002 - 1.6448536269514722 * 0.003, 1e-6);
    T_CHECK_NEAR(num(d, "margin"), 0.01, 1e-12);
    T_CHECK(has_reason(d, "non-inferior"));
    T_CHECK(has_reason(d, "cheaper"));
    cJSON_Delete(d);

    /* faster instead of cheaper also ships */
    struct fx_case f = c;
    f.cost_cand = 0.0001;
    f.p50_cand = 250;
    d = decide(&f);
    T_CHECK_STR(verdict(d), "ship_candidate");
    T_CHECK(has_reason(d, "faster"));
    cJSON_Delete(d);

    /* non-inferior but neither cheaper nor faster: inconclusive */
    struct fx_case g = c;
    g.cost_cand = 0.0001;
    d = decide(&g);
    T_CHECK_STR(verdict(d), "inconclusive");
    T_CHECK(has_reason(d, "MDE 0.8 pts"));
    cJSON_Delete(d);

    /* a 3% saving is below decision.min_relative_saving (5%): not "cheaper" */
    struct fx_case h = c;
    h.cost_cand = 0.000097;
    d = decide(&h);
    T_CHECK_STR(verdict(d), "inconclusive");
    cJSON_Delete(d);

    /* a tighter margin from the config: no longer non-inferior */
    struct fx_case m = c;
    m.config = "{\"decision\":{\"margin\":0.001}}";
    d = decide(&m);
    T_CHECK_STR(verdict(d), "inconclusive");
    T_CHECK(cJSON_IsFalse(cJSON_GetObjectItem(d, "non_inferior")));
    T_CHECK_NEAR(num(d, "margin"), 0.001, 1e-12);
    cJSON_Delete(d);

    /* significantly worse but within the margin and cheaper: non-inferiority rules first */
    struct fx_case w = c;
    w.cmp = "{\"a\":\"finetuned\",\"b\":\"prompted\",\"metric\":\"exact_match\",\"n\":500,"
            "\"delta\":-0.004,\"se_paired\":0.001,\"ci\":[-0.006,-0.002],\"p_adjusted\":0.001,"
            "\"adjustment\":\"holm\",\"significant\":true}";
    d = decide(&w);
    T_CHECK_STR(verdict(d), "ship_candidate");
    T_CHECK(has_reason(d, "less than the margin"));
    cJSON_Delete(d);
}

static void test_keep_baseline(void)
{
    struct fx_case c = {.cost_base = 0.0001,
                        .cost_cand = 0.00005,
                        .p50_base = 500,
                        .p50_cand = 300,
                        .cmp = "{\"a\":\"finetuned\",\"b\":\"prompted\",\"metric\":"
                               "\"exact_match\",\"n\":500,\"delta\":-0.05,\"se_paired\":0.015,"
                               "\"ci\":[-0.08,-0.02],\"p_adjusted\":0.002,\"adjustment\":"
                               "\"holm\",\"significant\":true}"};
    cJSON *d = decide(&c);
    T_CHECK_STR(verdict(d), "keep_baseline");
    T_CHECK(has_reason(d, "EM -5.0 pts"));
    T_CHECK(has_reason(d, "significantly worse"));
    cJSON_Delete(d);
}

static void test_inconclusive(void)
{
    struct fx_case c = {.cost_base = 0.0001,
                        .cost_cand = 0.0001,
                        .p50_base = 500,
                        .p50_cand = 500,
                        .cmp = "{\"a\":\"finetuned\",\"b\":\"prompted\",\"metric\":"
                               "\"exact_match\",\"n\":500,\"delta\":0.01,\"se_paired\":0.01,"
                               "\"ci\":[-0.01,0.03],\"p_adjusted\":0.32,\"adjustment\":\"holm\","
                               "\"significant\":false,\"mde\":0.028,\"n_needed\":3920}"};
    cJSON *d = decide(&c);
    T_CHECK_STR(verdict(d), "inconclusive");
    T_CHECK(has_reason(d, "about 3420 more examples"));
    T_CHECK(has_reason(d, "MDE 2.8 pts at n=500"));
    cJSON_Delete(d);

    /* cheaper, not yet non-inferior: how many examples would show it */
    struct fx_case e = c;
    e.cost_cand = 0.00005;
    e.cmp = "{\"a\":\"finetuned\",\"b\":\"prompted\",\"metric\":\"exact_match\",\"n\":500,"
            "\"delta\":0.0,\"se_paired\":0.01,\"ci\":[-0.02,0.02],\"p_adjusted\":1,"
            "\"significant\":false}";
    d = decide(&e);
    T_CHECK_STR(verdict(d), "inconclusive");
    /* n = (1.645 * 0.01 * sqrt(500) / 0.01)^2 = 1353 */
    T_CHECK(has_reason(d, "would show non-inferiority"));
    T_CHECK(has_reason(d, "(n=1353)"));
    cJSON_Delete(d);

    /* significant, but the p-value is within Monte Carlo error of alpha: not a ship */
    struct fx_case b = c;
    b.cmp = "{\"a\":\"finetuned\",\"b\":\"prompted\",\"metric\":\"exact_match\",\"n\":500,"
            "\"delta\":0.03,\"se_paired\":0.015,\"ci\":[0.001,0.059],\"p_adjusted\":0.049,"
            "\"significant\":true,\"inconclusive\":true}";
    d = decide(&b);
    T_CHECK_STR(verdict(d), "inconclusive");
    T_CHECK(has_reason(d, "Monte Carlo error"));
    cJSON_Delete(d);

    /* no comparisons at all */
    struct fx_case n = c;
    n.cmp = NULL;
    d = decide(&n);
    T_CHECK_STR(verdict(d), "inconclusive");
    T_CHECK(has_reason(d, "no paired comparison"));
    cJSON_Delete(d);
}

static void test_break_even(void)
{
    struct fx_case c = {.cost_base = 0.00031,
                        .cost_cand = 0.0002,
                        .p50_base = 500,
                        .p50_cand = 500,
                        .cmp = CMP_SIG_GAIN,
                        .config = "{\"training\":{\"cost_usd\":42.0},"
                                  "\"traffic\":{\"requests_per_month\":1000000}}"};
    cJSON *d = decide(&c);
    cJSON *be = cJSON_GetObjectItem(d, "break_even");
    T_CHECK_NEAR(num(be, "training_cost_usd"), 42.0, 1e-12);
    T_CHECK_NEAR(num(be, "savings_per_request_usd"), 0.00011, 1e-12);
    T_CHECK_NEAR(num(be, "break_even_requests"), 381819, 0.5); /* ceil(381818.18) */
    T_CHECK_NEAR(num(be, "requests_per_month"), 1e6, 1e-9);
    T_CHECK_NEAR(num(be, "monthly_cost_usd.prompted"), 310.0, 1e-6);
    T_CHECK_NEAR(num(be, "monthly_cost_usd.finetuned"), 200.0, 1e-6);
    T_CHECK_NEAR(num(be, "monthly_cost_usd.base"), 310.0, 1e-6);
    T_CHECK_NEAR(num(be, "break_even_months"), 0.381819, 1e-6);
    cJSON_Delete(d);

    /* negative savings: null break-even */
    struct fx_case n = c;
    n.cost_cand = 0.0004;
    d = decide(&n);
    be = cJSON_GetObjectItem(d, "break_even");
    T_CHECK(num(be, "savings_per_request_usd") < 0);
    T_CHECK(is_null(d, "break_even", "break_even_requests"));
    T_CHECK(is_null(d, "break_even", "break_even_months"));
    T_CHECK(has_reason(d, "no break-even"));
    cJSON_Delete(d);

    /* unknown candidate price: savings and monthly cost null, never $0 */
    struct fx_case u = c;
    u.cost_cand = -1;
    d = decide(&u);
    T_CHECK(is_null(d, "break_even", "savings_per_request_usd"));
    T_CHECK(is_null(d, "break_even", "break_even_requests"));
    T_CHECK(cJSON_IsNull(cJSON_GetObjectItem(
        cJSON_GetObjectItem(cJSON_GetObjectItem(d, "break_even"), "monthly_cost_usd"),
        "finetuned")));
    T_CHECK(has_reason(d, "cost per inference unknown"));
    cJSON_Delete(d);

    /* training from trained tokens x the ft:BASE training rate of an inline price table */
    struct fx_case t = c;
    t.config = "{\"training\":{\"trained_tokens\":2000000},\"prices\":{\"models\":{"
               "\"ft:gpt-4o-mini-2024-07-18\":{\"input\":0.3,\"output\":1.2,\"training\":3}}}}";
    d = decide(&t);
    be = cJSON_GetObjectItem(d, "break_even");
    T_CHECK_NEAR(num(be, "training_cost_usd"), 6.0, 1e-9);
    T_CHECK(is_null(d, "break_even", "requests_per_month"));
    cJSON_Delete(d);

    /* no training information: null */
    struct fx_case z = c;
    z.config = NULL;
    d = decide(&z);
    T_CHECK(is_null(d, "break_even", "training_cost_usd"));
    T_CHECK(is_null(d, "break_even", "break_even_requests"));
    cJSON_Delete(d);

    double r = -1;
    T_CHECK(!fe_break_even_requests(42, 0, &r));
    T_CHECK(!fe_break_even_requests(42, -0.001, &r));
    T_CHECK(fe_break_even_requests(0, 0.001, &r) && r == 0);
    T_CHECK(fe_break_even_requests(1, 0.5, &r) && r == 2);
    T_CHECK(fe_break_even_requests(1, 0.3, &r) && r == 4);
}

static void test_arms_and_errors(void)
{
    /* candidate defaults to the ft: arm */
    struct fx_case c = {.cost_base = 0.0001,
                        .cost_cand = 0.0001,
                        .p50_base = 1,
                        .p50_cand = 1,
                        .cmp = CMP_SIG_GAIN,
                        .no_candidate_field = true};
    cJSON *d = decide(&c);
    T_CHECK_STR(cJSON_GetObjectItem(d, "candidate_arm")->valuestring, "finetuned");
    cJSON_Delete(d);

    /* a config naming a missing arm is an error */
    char *root = fx_tmpdir();
    cJSON *summary;
    struct fe_run *run = make_run(root, &c, &summary);
    cJSON_ReplaceItemInObject(run->manifest, "baseline_arm", cJSON_CreateString("nope"));
    struct fe_err err = {0};
    T_CHECK(fe_decision_build(run, summary, &err) == NULL);
    T_CHECK(err.code == FE_EINVALID && strstr(err.msg, "baseline_arm") != NULL);
    /* no summary at all: still a decision, inconclusive */
    cJSON_DeleteItemFromObject(run->manifest, "baseline_arm");
    fe_err_clear(&err);
    d = fe_decision_build(run, NULL, &err);
    T_CHECK_STR(verdict(d), "inconclusive");
    T_CHECK_STR(cJSON_GetObjectItem(d, "baseline_arm")->valuestring, "base"); /* first arm */
    cJSON_Delete(d);
    /* one arm: no decision */
    size_t n_arms = run->n_arms;
    run->n_arms = 1;
    T_CHECK(fe_decision_build(run, summary, &err) == NULL);
    run->n_arms = n_arms;
    cJSON_Delete(summary);
    fe_run_free(run);
    cleanup(root);
    free(root);
}

static void test_bands(void)
{
    T_CHECK_STR(fe_rubric_band(7), "premature");
    T_CHECK_STR(fe_rubric_band(20), "premature");
    T_CHECK_STR(fe_rubric_band(21), "needs_more_evaluation");
    T_CHECK_STR(fe_rubric_band(27), "needs_more_evaluation");
    T_CHECK_STR(fe_rubric_band(28), "justified");
    T_CHECK_STR(fe_rubric_band(35), "justified");
}

static int rubric_total(const cJSON *d)
{
    const cJSON *r = cJSON_GetObjectItem(d, "rubric");
    int sum = 0;
    const cJSON *dim;
    cJSON_ArrayForEach(dim, cJSON_GetObjectItem(r, "dimensions")) {
        double s = num(dim, "score");
        T_CHECK(s == 1 || s == 3 || s == 5);
        T_CHECK(cJSON_IsString(cJSON_GetObjectItem(dim, "evidence")));
        T_CHECK(cJSON_IsString(cJSON_GetObjectItem(dim, "to_improve")));
        sum += (int)s;
    }
    T_CHECK(cJSON_GetArraySize(cJSON_GetObjectItem(r, "dimensions")) == 7);
    T_CHECK(num(r, "max") == 35);
    T_CHECK(sum == (int)num(r, "total"));
    return sum;
}

static void test_rubric_evidence(void)
{
    /* everything fteval can see is in place: 35 */
    char *root = fx_tmpdir();
    fx_write(root, "history.jsonl", "{\"run\":1}\n{\"run\":2}\n");
    fx_write(root, "data_check.json", "{\"blocking\": false}");
    fx_write(root, "ratings.jsonl", "{\"id\":\"ex-0000\",\"rating\":5}\n");
    fx_write(root, "config.json", "{}");
    char cfg[8192];
    snprintf(cfg, sizeof(cfg),
             "{\"budget\":{\"max_usd\":5},\"training\":{\"cost_usd\":42},"
             "\"stats\":{\"correction\":\"holm\"},"
             "\"evidence\":{\"expert_reviewed\":true,\"data_check\":\"data_check.json\","
             "\"human_ratings\":\"ratings.jsonl\",\"monitoring\":\"dashboard\"}}");
    struct fx_case c = {.cost_base = 0.0001,
                        .cost_cand = 0.00005,
                        .p50_base = 500,
                        .p50_cand = 300,
                        .cmp = CMP_SIG_GAIN,
                        .config = cfg,
                        .n_records = 1000};
    cJSON *summary;
    struct fe_run *run = make_run(root, &c, &summary);
    char cpath[4096];
    snprintf(cpath, sizeof(cpath), "%s/config.json", root);
    cJSON_AddStringToObject(run->manifest, "config_path", cpath);
    /* n in the comparison drives the held-out size */
    cJSON_ReplaceItemInObject(cJSON_GetArrayItem(cJSON_GetObjectItem(summary, "comparisons"), 0),
                              "n", cJSON_CreateNumber(1200));
    struct fe_err err = {0};
    cJSON *d = fe_decision_build(run, summary, &err);
    int total = rubric_total(d);
    if (total != 35) {
        char *s = cJSON_Print(cJSON_GetObjectItem(d, "rubric"));
        fprintf(stderr, "%s\n", s);
        cJSON_free(s);
    }
    T_CHECK(total == 35);
    T_CHECK_STR(cJSON_GetObjectItem(cJSON_GetObjectItem(d, "rubric"), "band")->valuestring,
                "justified");
    cJSON_Delete(d);

    /* take evidence away one piece at a time: each costs its dimension 2 points */
    cJSON *config = cJSON_GetObjectItem(run->manifest, "config");
    cJSON_DeleteItemFromObject(cJSON_GetObjectItem(config, "evidence"), "monitoring");
    d = fe_decision_build(run, summary, &err);
    T_CHECK(rubric_total(d) == 33);
    T_CHECK(num(d, "rubric.dimensions.monitoring.score") == 3);
    cJSON_Delete(d);
    cJSON_DeleteItemFromObject(config, "budget");
    d = fe_decision_build(run, summary, &err);
    T_CHECK(rubric_total(d) == 31);
    T_CHECK(num(d, "rubric.dimensions.cost.score") == 3);
    cJSON_Delete(d);
    fx_write(root, "data_check.json", "{\"blocking\": true}");
    d = fe_decision_build(run, summary, &err);
    T_CHECK(num(d, "rubric.dimensions.data_quality.score") == 3);
    T_CHECK(rubric_total(d) == 29);
    cJSON_Delete(d);
    cJSON_DeleteItemFromObject(cJSON_GetObjectItem(config, "evidence"), "human_ratings");
    cJSON_DeleteItemFromObject(run->manifest, "metrics");
    d = fe_decision_build(run, summary, &err);
    /* still two metrics loaded in run: evaluation keeps 5 through the second metric */
    T_CHECK(num(d, "rubric.dimensions.evaluation.score") == 5);
    cJSON_Delete(d);
    cJSON_Delete(summary);
    fe_run_free(run);
    cleanup(root);
    free(root);

    /* the bare minimum: premature */
    struct fx_case m = {.cost_base = -1,
                        .cost_cand = -1,
                        .p50_base = 1,
                        .p50_cand = 1,
                        .cmp = NULL,
                        .config = "{\"stats\":{\"correction\":\"none\"}}"};
    d = decide(&m);
    int t = rubric_total(d);
    T_CHECK(t < 21);
    T_CHECK_STR(cJSON_GetObjectItem(cJSON_GetObjectItem(d, "rubric"), "band")->valuestring,
                "premature");
    T_CHECK(num(d, "rubric.dimensions.evaluation.score") == 1);
    T_CHECK(num(d, "rubric.dimensions.cost.score") == 1);
    cJSON_Delete(d);
}

static void test_sentence(void)
{
    cJSON *c = cJSON_Parse(CMP_SIG_GAIN);
    char *s = fe_comparison_sentence(c);
    T_CHECK_STR(s, "finetuned beats prompted by +6.0 EM points (95% CI +2.0 to +10.0, "
                   "p = 0.003 after Holm)");
    free(s);
    cJSON_Delete(c);
    c = cJSON_Parse(CMP_FLAT);
    s = fe_comparison_sentence(c);
    T_CHECK(strstr(s, "no significant difference between finetuned and prompted on EM") != NULL);
    T_CHECK(strstr(s, "(MDE) is 0.8 points") != NULL);
    free(s);
    cJSON_Delete(c);
    c = cJSON_Parse("{\"a\":\"x\",\"b\":\"y\",\"metric\":\"f1\",\"delta\":-0.031,"
                    "\"significant\":true,\"p_adjusted\":0.0001,\"adjustment\":\"none\"}");
    s = fe_comparison_sentence(c);
    T_CHECK_STR(s, "x is worse than y by 3.1 F1 points (p < 0.001)");
    free(s);
    cJSON_Delete(c);
    T_CHECK_STR(fe_metric_label("exact_match"), "EM");
    T_CHECK_STR(fe_metric_label("rouge_l"), "rouge_l");
}

/* An arm that failed on more than max_error_rate (default 5%) of its examples looks cheap and
 * fast for the wrong reason: whichever arm it is — baseline or candidate — cost and latency are
 * not compared and no savings are claimed. (mutant decision-candidate-reliability) */
static void test_unreliable_arm_not_compared(void)
{
    for (int which = 0; which < 2; which++) {
        const char *arm = which ? "finetuned" : "prompted"; /* candidate, baseline */
        struct fx_case c = {.cost_base = 0.0001,
                            .cost_cand = 0.00005,
                            .p50_base = 100,
                            .p50_cand = 50,
                            .cmp = CMP_SIG_GAIN};
        char *root = fx_tmpdir();
        cJSON *summary;
        struct fe_run *run = make_run(root, &c, &summary);
        cJSON *fa = cJSON_GetObjectItem(cJSON_GetObjectItem(summary, "arms"), arm);
        cJSON_ReplaceItemInObject(fa, "n_errors", cJSON_CreateNumber(100)); /* 100 of 500: 20% */
        struct fe_err err = {0};
        cJSON *d = fe_decision_build(run, summary, &err);
        T_CHECK(d != NULL);
        T_CHECK(is_null(d, "break_even", "savings_per_request_usd"));
        T_CHECK(has_reason(d, "cost and latency not compared: an arm failed on more than 5%"));
        char want[96];
        snprintf(want, sizeof(want), "%s failed on 100 of 500 examples", arm);
        T_CHECK(has_reason(d, want));
        const cJSON *r;
        bool cost_claim = false;
        cJSON_ArrayForEach(r, cJSON_GetObjectItem(d, "reasons"))
        {
            if (cJSON_IsString(r) && (strstr(r->valuestring, "cost per inference") ||
                                      strstr(r->valuestring, "p50 latency")))
                cost_claim = true;
        }
        T_CHECK(!cost_claim);
        cJSON_Delete(d);
        cJSON_Delete(summary);
        fe_run_free(run);
        cleanup(root);
        free(root);
    }
}

int main(void)
{
    test_ship_on_gain();
    test_non_inferior();
    test_keep_baseline();
    test_inconclusive();
    test_break_even();
    test_arms_and_errors();
    test_bands();
    test_rubric_evidence();
    test_sentence();
    test_unreliable_arm_not_compared();
    return T_DONE();
}
