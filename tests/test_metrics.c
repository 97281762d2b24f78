/* test_metrics.c — the metric registry (metrics/registry.c) and the label and JSON extraction
 * metrics (metrics/extract.c), table-driven. Definitions in docs/metrics.md. */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "harness/base/util.h"
#include "metrics/extract.h"
#include "metrics/metric.h"
#include "t.h"

static void test_registry(void)
{
    size_t n = 0;
    for (size_t i = 0; fe_metrics[i]; i++, n++) {
        const struct fe_metric *m = fe_metrics[i];
        T_CHECK(m->name && *m->name && m->score && m->description && *m->description);
        for (size_t j = 0; j < i; j++)
            T_CHECK(!m->name || !fe_metrics[j]->name ||
                    strcmp(fe_metrics[j]->name, m->name) != 0); /* unique names */
        T_CHECK(fe_metric_find(m->name) == m);
    }
    T_CHECK(n == 12);
    static const struct {
        const char *name;
        bool binary;
        unsigned needs;
    } want[] = {{"exact_match", true, 0},  {"f1", false, 0},
                {"accuracy", true, 0},     {"json_exact", true, 0},
                {"field_f1", false, 0},    {"json_valid", true, 0},
                {"schema_valid", true, FE_METRIC_NEEDS_SCHEMA},
                {"regex", true, FE_METRIC_NEEDS_PATTERN},
                {"contains", true, 0},     {"macro_f1", false, 0},
                {"micro_f1", false, 0},    {"entity_f1", false, 0}};
    for (size_t i = 0; i < FE_ARRAY_LEN(want); i++) {
        const struct fe_metric *m = fe_metric_find(want[i].name);
        T_CHECK(m != NULL);
        if (m)
            T_CHECK(m->binary == want[i].binary && m->needs == want[i].needs);
    }
    T_CHECK(fe_metric_find("nope") == NULL);
    T_CHECK(fe_metric_find("") == NULL);
    T_CHECK(fe_metric_find(NULL) == NULL);
    T_CHECK(fe_metric_find("F1") == NULL);
}

struct text_case {
    const char *metric, *prediction;
    const char *golds[4];
    size_t n_golds;
    double want;
};

static void run_text_cases(const struct text_case *cases, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const struct fe_metric *m = fe_metric_find(cases[i].metric);
        T_CHECK(m != NULL);
        if (!m)
            continue;
        struct fe_gold g = {.golds = cases[i].golds, .n_golds = cases[i].n_golds};
        double got = m->score(cases[i].prediction, &g);
        T_CHECK_NEAR(got, cases[i].want, 1e-15);
        if (m->binary)
            T_CHECK(got == 0.0 || got == 1.0);
        if (fabs(got - cases[i].want) > 1e-15)
            fprintf(stderr, "  case %zu: %s(\"%s\")\n", i, cases[i].metric,
                    cases[i].prediction ? cases[i].prediction : "(null)");
    }
}

static void test_text_metrics(void)
{
    static const struct text_case cases[] = {
        {"exact_match", "The Denver Broncos!", {"Denver Broncos"}, 1, 1},
        {"exact_match", "", {""}, 1, 1},
        {"exact_match", "x", {NULL}, 0, 0}, /* no golds = unanswerable */
        {"exact_match", NULL, {"Paris"}, 1, 0},
        {"f1", "Paris Paris Paris", {"Paris"}, 1, 0.5},
        {"f1", "Denver", {"Denver Broncos", "Carolina"}, 2, 2.0 / 3.0},
        {"f1", "", {"."}, 1, 1},
        /* accuracy: stripped prediction equals a gold exactly */
        {"accuracy", "card_arrival", {"card_arrival"}, 1, 1},
        {"accuracy", "  card_arrival\n", {"card_arrival"}, 1, 1},
        {"accuracy", "\xc2\xa0" "card_arrival\xe3\x80\x80", {"card_arrival"}, 1, 1},
        {"accuracy", "Card_arrival", {"card_arrival"}, 1, 0}, /* case-sensitive */
        {"accuracy", "card_arrival.", {"card_arrival"}, 1, 0},
        {"accuracy", "card arrival", {"card_arrival"}, 1, 0},
        {"accuracy", "\"card_arrival\"", {"card_arrival"}, 1, 0},
        {"accuracy", "lost_or_stolen_card", {"card_arrival", "lost_or_stolen_card"}, 2, 1},
        {"accuracy", "", {"card_arrival"}, 1, 0},
        {"accuracy", NULL, {"card_arrival"}, 1, 0},
        {"accuracy", "   ", {""}, 1, 1},
        {"accuracy", "card_arrival card_arrival", {"card_arrival"}, 1, 0},
    };
    run_text_cases(cases, FE_ARRAY_LEN(cases));
}

struct json_case {
    const char *prediction, *gold;
    double exact, f1;
};

static void test_json_metrics(void)
{
    static const struct json_case cases[] = {
        /* restaurant8k shape */
        {"{\"time\": \"13\"}", "{\"time\": \"13\"}", 1, 1},
        {"{\"time\": 13}", "{\"time\": \"13\"}", 1, 1},          /* number as text */
        {"{\"time\": \"13:00\"}", "{\"time\": \"13\"}", 0, 0},   /* ":" deleted -> "1300" */
        {"{\"time\": \"at 7 pm\"}", "{\"time\": \"7 pm\"}", 0, 0},
        {"{\"time\": \"7 P.M.\"}", "{\"time\": \"7 pm\"}", 1, 1},
        {"{\"people\": \"4\", \"time\": \"7 pm\"}", "{\"time\": \"7 pm\", \"people\": \"4\"}", 1,
         1},
        {"{\"people\": \"4\"}", "{\"time\": \"7 pm\", \"people\": \"4\"}", 0, 2.0 / 3.0},
        {"{\"people\": \"4\", \"time\": \"8 pm\"}", "{\"time\": \"7 pm\", \"people\": \"4\"}", 0,
         0.5},
        {"{\"People\": \"4\"}", "{\"people\": \"4\"}", 0, 0},    /* keys are case-sensitive */
        {"{\"first_name\": \"The Smiths\"}", "{\"first_name\": \"smiths\"}", 1, 1},
        /* empty gold: only an (effectively) empty object matches */
        {"{}", "{}", 1, 1},
        {" {  }\n", "{}", 1, 1},
        {"{\"time\": null}", "{}", 1, 1},
        {"{\"time\": \"\"}", "{}", 1, 1},
        {"{\"time\": \"the\"}", "{}", 1, 1},                    /* normalises to "" */
        {"{\"time\": \"13\"}", "{}", 0, 0},
        {"{}", "{\"time\": \"13\"}", 0, 0},
        /* not a JSON object: 0 even against {} */
        {"", "{}", 0, 0},
        {"none", "{}", 0, 0},
        {"[]", "{}", 0, 0},
        {"\"{}\"", "{}", 0, 0},
        {"{\"time\": \"13\"", "{\"time\": \"13\"}", 0, 0},
        {"{\"time\": \"13\"} trailing", "{\"time\": \"13\"}", 0, 0},
        {NULL, "{}", 0, 0},
        /* fenced blocks */
        {"```json\n{\"time\": \"13\"}\n```", "{\"time\": \"13\"}", 1, 1},
        {"```\n{\"time\": \"13\"}\n```\n", "{\"time\": \"13\"}", 1, 1},
        {"Here it is:\n```json\n{}\n```\nDone.", "{}", 1, 1},
        {"```json {\"time\": \"13\"} ```", "{\"time\": \"13\"}", 1, 1},
        {"```json\n{\"time\": \"13\"}", "{\"time\": \"13\"}", 1, 1}, /* unclosed fence */
        {"```json\n```", "{}", 0, 0},
        /* wnut17 shape: lists are multisets; a string is a one-element list */
        {"{\"group\": [\"Avalanche Rescue Teams\", \"ART\"]}",
         "{\"group\": [\"Avalanche Rescue Teams\", \"ART\"]}", 1, 1},
        {"{\"group\": [\"ART\", \"avalanche rescue teams\"]}",
         "{\"group\": [\"Avalanche Rescue Teams\", \"ART\"]}", 1, 1},
        {"{\"group\": [\"ART\"]}", "{\"group\": [\"Avalanche Rescue Teams\", \"ART\"]}", 0,
         2.0 / 3.0},
        {"{\"group\": \"ART\"}", "{\"group\": [\"ART\"]}", 1, 1},
        {"{\"group\": [\"ART\", \"ART\"]}", "{\"group\": [\"ART\"]}", 0, 2.0 / 3.0},
        {"{\"person\": [\"ART\"]}", "{\"group\": [\"ART\"]}", 0, 0}, /* type matters */
        {"{\"group\": [\"ART\"], \"person\": []}", "{\"group\": [\"ART\"]}", 1, 1},
        {"{\"group\": [\"ART\", \"X\"], \"person\": [\"Bob\"]}",
         "{\"group\": [\"ART\"], \"person\": [\"Bob\", \"Al\"]}", 0, 2.0 / 3.0},
        {"{\"flag\": true}", "{\"flag\": \"True\"}", 1, 1},
        {"{\"x\": {\"y\": 1}}", "{\"x\": \"{\\\"y\\\":1}\"}", 1, 1}, /* nested: compact text */
        /* invalid UTF-8 inside values never crashes */
        {"{\"time\": \"\xff\xfe\"}", "{\"time\": \"\xff\xfe\"}", 1, 1},
    };
    const struct fe_metric *mx = fe_metric_find("json_exact"), *mf = fe_metric_find("field_f1");
    T_CHECK(mx && mf);
    if (!mx || !mf)
        return;
    for (size_t i = 0; i < FE_ARRAY_LEN(cases); i++) {
        cJSON *gj = cJSON_Parse(cases[i].gold);
        T_CHECK(gj != NULL);
        const char *gtext[] = {cases[i].gold};
        /* through gold_json, and through the gold's JSON text when gold_json is NULL */
        struct fe_gold g1 = {.golds = gtext, .n_golds = 1, .gold_json = gj};
        struct fe_gold g2 = {.golds = gtext, .n_golds = 1, .gold_json = NULL};
        double x1 = mx->score(cases[i].prediction, &g1), f1 = mf->score(cases[i].prediction, &g1);
        double x2 = mx->score(cases[i].prediction, &g2), f2 = mf->score(cases[i].prediction, &g2);
        T_CHECK_NEAR(x1, cases[i].exact, 0);
        T_CHECK_NEAR(f1, cases[i].f1, 1e-15);
        T_CHECK(x1 == x2 && f1 == f2);
        if (x1 != cases[i].exact || fabs(f1 - cases[i].f1) > 1e-15)
            fprintf(stderr, "  case %zu: prediction \"%s\" gold %s\n", i,
                    cases[i].prediction ? cases[i].prediction : "(null)", cases[i].gold);
        /* json_exact = 1 exactly when field_f1 = 1 */
        T_CHECK((x1 == 1.0) == (f1 == 1.0));
        cJSON_Delete(gj);
    }
    /* a gold that is not an object, or none at all, scores 0 */
    const char *notobj[] = {"[\"a\"]"};
    struct fe_gold g = {.golds = notobj, .n_golds = 1};
    T_CHECK(mx->score("{}", &g) == 0 && mf->score("{}", &g) == 0);
    T_CHECK(mx->score("{}", NULL) == 0 && mf->score("{}", NULL) == 0);
    /* fe_extract_parse returns objects only */
    cJSON *p = fe_extract_parse("```JSON\n{\"a\": [1, 2]}\n```");
    T_CHECK(cJSON_IsObject(p));
    cJSON_Delete(p);
    T_CHECK(fe_extract_parse("1") == NULL);
    T_CHECK(fe_extract_parse("```") == NULL);
    T_CHECK(fe_extract_parse("``````") == NULL);
}

int main(void)
{
    test_registry();
    test_text_metrics();
    test_json_metrics();
    return T_DONE();
}
