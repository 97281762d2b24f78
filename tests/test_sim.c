/* test_sim.c — unit tests of the simulator's pure parts: profile parsing and matching, fault
 * flags and picking, Go durations, query parsing, token estimates and deterministic answers. */
#include <stdlib.h>
#include <string.h>

#include "harness/sim/sim.h"
#include "harness/base/tokens.h"
#include "harness/base/util.h"
#include "tests/t.h"

static void test_profile(void)
{
    struct fe_sim_profile p;
    struct fe_err err = {0};
    const char *json =
        "{\"defaults\": {\"accuracy\": 0.5, \"latency_ms\": {\"median\": 100, \"p90\": 300}},"
        " \"models\": [\"m\"],"
        " \"rules\": [{\"name\": \"ft\", \"model\": \"ft:base:*\", \"accuracy\": 0.9},"
        "  {\"name\": \"prompted\", \"model\": \"base\", \"system_contains\": \"MARK\","
        "   \"faults\": {\"rate_limit\": {\"first\": 2}, \"server_error\": 0.25}},"
        "  {\"model\": \"base\", \"latency_ms\": 7}]}";
    T_CHECK(fe_sim_profile_parse(&p, json, "p.json", &err) == FE_OK);
    T_CHECK(p.n_rules == 3 && p.n_models == 1);
    T_CHECK_STR(fe_sim_profile_match(&p, "ft:base:org:s:id", NULL)->name, "ft");
    T_CHECK(fe_sim_profile_match(&p, "ft:other:org:s:id", NULL) == NULL);
    T_CHECK_STR(fe_sim_profile_match(&p, "base", "You are MARK here")->name, "prompted");
    T_CHECK_STR(fe_sim_profile_match(&p, "base", "no marker")->name, "rule-2");
    T_CHECK_STR(fe_sim_profile_match(&p, "base", NULL)->name, "rule-2");
    T_CHECK_NEAR(p.rules[0].accuracy, 0.9, 1e-12);
    T_CHECK_NEAR(p.rules[1].accuracy, 0.5, 1e-12); /* from defaults */
    T_CHECK_NEAR(p.rules[1].latency_median_ms, 100, 1e-9);
    T_CHECK(p.rules[1].latency_sigma > 0.8 && p.rules[1].latency_sigma < 0.9); /* ln 3 / 1.2816 */
    T_CHECK_NEAR(p.rules[2].latency_median_ms, 7, 1e-9);
    T_CHECK(p.rules[2].latency_sigma == 0);
    T_CHECK(p.rules[1].faults.first[FE_SIM_FAULT_RATE_LIMIT] == 2);
    T_CHECK_NEAR(p.rules[1].faults.p[FE_SIM_FAULT_SERVER_ERROR], 0.25, 1e-12);
    fe_sim_profile_release(&p);

    static const struct {
        const char *json, *want;
    } bad[] = {
        {"{\"rules\": []}", "rules: must be a non-empty array"},
        {"{\"rules\": [{\"model\": \"x\", \"acuracy\": 1}]}", "rules[0]: acuracy: unknown key"},
        {"{\"rules\": [{\"accuracy\": 1}]}", "rules[0]: model: missing"},
        {"{\"rules\": [{\"model\": \"x\", \"accuracy\": 1.5}]}", "accuracy: must be a number"},
        {"{\"rules\": [{\"model\": \"x\", \"faults\": {\"boom\": 0.1}}]}",
         "faults.boom: unknown fault kind"},
        {"{\"rules\": [{\"model\": \"x\", \"latency_ms\": {\"median\": 10, \"p90\": 5}}]}",
         "latency_ms.p90"},
        {"{\"rulez\": []}", "rulez: unknown key"},
        {"not json", "not valid JSON"},
    };
    for (size_t i = 0; i < FE_ARRAY_LEN(bad); i++) {
        struct fe_err e = {0};
        T_CHECK(fe_sim_profile_parse(&p, bad[i].json, "p.json", &e) == FE_EINVALID);
        if (!strstr(e.msg, bad[i].want))
            fprintf(stderr, "case %zu: %s\n", i, e.msg);
        T_CHECK(strstr(e.msg, bad[i].want) != NULL);
        T_CHECK(p.rules == NULL);
    }
    fe_sim_profile_default(&p);
    T_CHECK(fe_sim_profile_match(&p, "gpt-4o-mini-2024-07-18", NULL) != NULL);
    T_CHECK_STR(fe_sim_profile_match(&p, "ft:gpt-4o-mini-2024-07-18:o::x", NULL)->name,
                "finetuned");
    fe_sim_profile_release(&p);
}

static void test_faults(void)
{
    struct fe_sim_faults f;
    memset(&f, 0, sizeof(f));
    struct fe_err err = {0};
    T_CHECK(fe_sim_faults_parse_flag(&f, "rate_limit:0.5", &err) == FE_OK);
    T_CHECK(fe_sim_faults_parse_flag(&f, "reset:first=3", &err) == FE_OK);
    T_CHECK(fe_sim_faults_parse_flag(&f, "503:1", &err) == FE_OK);
    T_CHECK(f.p[FE_SIM_FAULT_UNAVAILABLE] == 1.0);
    const char *bad[] = {"nope:1", "reset", "reset:1.5", "reset:first=x", "reset:first=-1", ":1"};
    for (size_t i = 0; i < FE_ARRAY_LEN(bad); i++) {
        struct fe_err e = {0};
        T_CHECK(fe_sim_faults_parse_flag(&f, bad[i], &e) == FE_EUSAGE);
    }
    struct fe_sim_faults g;
    memset(&g, 0, sizeof(g));
    g.first[FE_SIM_FAULT_STALL] = 1;
    g.p[FE_SIM_FAULT_SERVER_ERROR] = 0.5;
    uint64_t rng = 1;
    T_CHECK(fe_sim_faults_pick(NULL, &g, 1, &rng) == FE_SIM_FAULT_STALL);
    int hits = 0;
    for (int i = 0; i < 10000; i++)
        hits += fe_sim_faults_pick(NULL, &g, 2, &rng) == FE_SIM_FAULT_SERVER_ERROR;
    T_CHECK(hits > 4700 && hits < 5300);
    T_CHECK(fe_sim_faults_pick(NULL, NULL, 1, &rng) == FE_SIM_FAULT_NONE);
    T_CHECK_STR(fe_sim_fault_name(FE_SIM_FAULT_TRUNCATE), "truncate");
}

static void test_helpers(void)
{
    char b[64];
    fe_sim_go_duration(1.0, b, sizeof(b));
    T_CHECK_STR(b, "1s");
    fe_sim_go_duration(0.012, b, sizeof(b));
    T_CHECK_STR(b, "12ms");
    fe_sim_go_duration(360, b, sizeof(b));
    T_CHECK_STR(b, "6m0s");
    fe_sim_go_duration(3723, b, sizeof(b));
    T_CHECK_STR(b, "1h2m3s");
    fe_sim_go_duration(1.5, b, sizeof(b));
    T_CHECK_STR(b, "1.5s");
    char *v = fe_sim_query_get("a=1&metadata%5Bk%5D=x+y%21&b", "metadata[k]");
    T_CHECK_STR(v, "x y!");
    free(v);
    v = fe_sim_query_get("a=1&b", "b");
    T_CHECK_STR(v, "");
    free(v);
    T_CHECK(fe_sim_query_get("a=1", "c") == NULL);
    /* the simulator counts with the one estimate of base/tokens.h: ceil(bytes / 4) */
    T_CHECK(fe_estimate_tokens("") == 0 && fe_estimate_tokens("abcd") == 1 &&
            fe_estimate_tokens("abcde") == 2);
}

static void test_answers(void)
{
    struct fe_sim_index ix;
    memset(&ix, 0, sizeof(ix));
    ix.n = 2000;
    ix.ex = fe_xcalloc(ix.n, sizeof(*ix.ex));
    for (size_t i = 0; i < ix.n; i++) {
        ix.ex[i].id = fe_xasprintf("ex%zu", i);
        ix.ex[i].n_golds = 1;
        ix.ex[i].golds = fe_xcalloc(1, sizeof(char *));
        ix.ex[i].golds[0] = fe_xasprintf("label number %zu", i % 10);
    }
    struct fe_sim_profile p;
    struct fe_err err = {0};
    T_CHECK(fe_sim_profile_parse(
                &p,
                "{\"rules\": [{\"name\": \"a\", \"model\": \"*\", \"accuracy\": 0.6},"
                "{\"name\": \"b\", \"model\": \"*\", \"accuracy\": 0.8, \"correlation\": 1}]}",
                "p", &err) == FE_OK);
    size_t correct = 0, partial = 0, both = 0, b_only = 0;
    for (size_t i = 0; i < ix.n; i++) {
        char *a = fe_sim_answer(&ix, i, &p.rules[0], 42);
        char *again = fe_sim_answer(&ix, i, &p.rules[0], 42);
        T_CHECK(strcmp(a, again) == 0);
        bool ok = strcmp(a, ix.ex[i].golds[0]) == 0;
        correct += ok;
        partial +=
            !ok && strncmp(a, "label", 5) != 0 ? 0 : (!ok && strstr(ix.ex[i].golds[0], a) != NULL);
        char *bb = fe_sim_answer(&ix, i, &p.rules[1], 42);
        bool okb = strcmp(bb, ix.ex[i].golds[0]) == 0;
        both += ok && okb;
        b_only += okb && !ok;
        free(a);
        free(again);
        free(bb);
    }
    /* 2000 draws at 0.6: sd ~ 22 */
    T_CHECK(correct > 1100 && correct < 1300);
    T_CHECK(both > 0 && b_only > 0);
    (void)partial;
    fe_sim_profile_release(&p);
    fe_sim_index_release(&ix);
}

int main(void)
{
    test_profile();
    test_faults();
    test_helpers();
    test_answers();
    return T_DONE();
}
