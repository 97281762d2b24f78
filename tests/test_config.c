/* test_config.c — config validation names the file and JSON path; resolution of prompts,
 * few-shot rows and messages. */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "harness/run/config.h"
#include "t.h"

static char dir[128];

static void put(const char *name, const char *text)
{
    char path[256];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    fputs(text, f);
    fclose(f);
}

/* Loads a config whose "arms"/"providers" parts are given; expects an error containing want. */
static void expect_error(const char *json, const char *want)
{
    put("c.json", json);
    char path[256];
    snprintf(path, sizeof(path), "%s/c.json", dir);
    struct fe_config *c = NULL;
    struct fe_err err = {0};
    enum fe_status st = fe_config_load(path, NULL, &c, &err);
    T_CHECK(st == FE_EINVALID);
    if (!strstr(err.msg, want))
        fprintf(stderr, "message '%s' lacks '%s'\n", err.msg, want);
    T_CHECK(strstr(err.msg, want) != NULL);
    T_CHECK(strstr(err.msg, "c.json") != NULL);
    fe_config_free(c);
}

#define HEAD "{\"name\": \"t\", \"dataset\": \"d.jsonl\", "
#define PROV "\"providers\": {\"p\": {\"type\": \"openai\", \"base_url\": \"http://127.0.0.1:1/v1\"}}, "

static void test_errors(void)
{
    expect_error("{\"dataset\": \"d.jsonl\"}", "name: missing");
    expect_error(HEAD PROV "\"arms\": [{\"name\": \"a\", \"provider\": \"p\", \"model\": \"m\"}, "
                 "{\"name\": \"b\", \"provider\": \"p\"}]}", "arms[1].model: missing");
    expect_error(HEAD "\"providers\": {\"p\": {\"type\": \"nope\", \"base_url\": \"http://x/v1\"}}, \"arms\": []}",
                 "providers.p.type: unknown provider type 'nope'");
    expect_error(HEAD PROV "\"arms\": [{\"name\": \"a\", \"provider\": \"q\", \"model\": \"m\"}]}",
                 "arms[0].provider: no provider named 'q'");
    expect_error(HEAD "\"providers\": {\"p\": {\"type\": \"openai\", \"base_url\": \"http://127.0.0.1:1/v1\", "
                 "\"api_key_env\": \"FTEVAL_TEST_SURELY_UNSET\"}}, \"arms\": [{\"name\": \"a\", \"provider\": \"p\", "
                 "\"model\": \"m\"}]}",
                 "providers.p.api_key_env: environment variable FTEVAL_TEST_SURELY_UNSET is not set (needed by arm 'a')");
    expect_error(HEAD PROV "\"arms\": [{\"name\": \"a\", \"provider\": \"p\", \"model\": \"m\", \"temperature\": 3}]}",
                 "arms[0].temperature: must be between 0 and 2");
    expect_error(HEAD PROV "\"arms\": [{\"name\": \"a\", \"provider\": \"p\", \"model\": \"m\"}, "
                 "{\"name\": \"a\", \"provider\": \"p\", \"model\": \"m\"}]}", "arms[1].name: duplicate arm name 'a'");
    expect_error(HEAD PROV "\"arms\": [{\"name\": \"../x\", \"provider\": \"p\", \"model\": \"m\"}]}", "arms[0].name");
    expect_error(HEAD PROV "\"arms\": [{\"name\": \"a\", \"provider\": \"p\", \"model\": \"m\", "
                 "\"system\": \"@missing.txt\"}]}", "arms[0].system: cannot read");
    expect_error(HEAD PROV "\"arms\": [{\"name\": \"a\", \"provider\": \"p\", \"model\": \"m\"}], "
                 "\"baseline_arm\": \"zz\"}", "baseline_arm: no arm named 'zz'");
    expect_error(HEAD PROV "\"arms\": [{\"name\": \"a\", \"provider\": \"p\", \"model\": \"m\"}], "
                 "\"stats\": {\"alpha\": 2}}", "stats.alpha: must be between");
    expect_error(HEAD "\"providers\": {\"p\": {\"type\": \"openai\"}}, \"arms\": []}", "providers.p.base_url: missing");
    expect_error("{\"name\": \"t\",\n \"dataset\": }", "c.json:2:");
}

static void test_resolution(void)
{
    put("sys.txt", "Be brief.");
    put("few.jsonl", "{\"input\": \"2+2\", \"context\": \"math\", \"gold\": \"4\"}\n"
                     "{\"messages\": [{\"role\": \"system\", \"content\": \"ignored\"}, {\"role\": \"user\", \"content\": \"hi\"},"
                     " {\"role\": \"assistant\", \"content\": \"hello\"}]}\n");
    put("c.json", HEAD "\"task\": {\"template\": \"Q: {input} ({context})\"}, "
                  "\"defaults\": {\"max_tokens\": 9, \"temperature\": 0.5}, " PROV
                  "\"arms\": [{\"name\": \"base\", \"provider\": \"p\", \"model\": \"m\"}, "
                  "{\"name\": \"prompted\", \"provider\": \"p\", \"model\": \"m\", \"system\": \"@sys.txt\", "
                  "\"few_shot\": \"few.jsonl\", \"max_tokens\": 3}, "
                  "{\"name\": \"ft\", \"provider\": \"p\", \"model\": \"ft:m:org::x\"}]}");
    char path[256];
    snprintf(path, sizeof(path), "%s/c.json", dir);
    struct fe_config *c = NULL;
    struct fe_err err = {0};
    T_CHECK(fe_config_load(path, NULL, &c, &err) == FE_OK);
    if (!c) {
        fprintf(stderr, "%s\n", err.msg);
        return;
    }
    T_CHECK(c->n_arms == 3);
    T_CHECK_STR(c->baseline_arm, "base");
    T_CHECK_STR(c->candidate_arm, "ft");
    T_CHECK(c->arms[0].max_tokens == 9 && c->arms[1].max_tokens == 3);
    T_CHECK(c->arms[0].has_temperature && c->arms[0].temperature == 0.5);
    T_CHECK(strlen(c->arms[1].system_sha256) == 64);
    T_CHECK(c->arms[1].n_few_shot == 4); /* two rows, two messages each */

    struct fe_example ex;
    const char *line = "{\"id\": \"e\", \"input\": \"capital?\", \"context\": \"France\", \"gold\": \"Paris\"}";
    T_CHECK(fe_example_parse(line, strlen(line), "d.jsonl", 1, &ex, &err) == 0);
    struct fe_message *m;
    size_t n;
    T_CHECK(fe_build_messages(c, &c->arms[1], &ex, &m, &n, &err) == FE_OK);
    T_CHECK(n == 6);
    T_CHECK_STR(m[0].role, "system");
    T_CHECK_STR(m[0].content, "Be brief.");
    T_CHECK_STR(m[1].content, "Q: 2+2 (math)");
    T_CHECK_STR(m[2].content, "4");
    T_CHECK_STR(m[3].content, "hi");
    T_CHECK_STR(m[5].content, "Q: capital? (France)");
    fe_messages_free(m, n);
    fe_example_release(&ex);

    /* a template field the example lacks is an error naming the example and field */
    line = "{\"id\": \"e2\", \"input\": \"x\", \"gold\": \"y\"}";
    T_CHECK(fe_example_parse(line, strlen(line), "d.jsonl", 2, &ex, &err) == 0);
    fe_err_clear(&err);
    T_CHECK(fe_build_messages(c, &c->arms[0], &ex, &m, &n, &err) == FE_EINVALID);
    T_CHECK(strstr(err.msg, "field 'context'") != NULL);
    fe_example_release(&ex);

    /* --arms keeps a subset; baseline falls back to the first kept arm */
    fe_config_free(c);
    c = NULL;
    T_CHECK(fe_config_load(path, "prompted,ft", &c, &err) == FE_OK);
    T_CHECK(c && c->n_arms == 2);
    fe_config_free(c);
}

/* Loads text as c.json; expects exactly the message "<dir>/c.json<want>" (want starts with
 * ":line:col: " or ": "), and exit code 3. */
static void expect_exact(const char *json, const char *want)
{
    put("c.json", json);
    char path[256], full[1200];
    snprintf(path, sizeof(path), "%s/c.json", dir);
    snprintf(full, sizeof(full), "%s%s", path, want);
    struct fe_config *c = NULL;
    struct fe_err err = {0};
    enum fe_status st = fe_config_load(path, NULL, &c, &err);
    T_CHECK(st == FE_EINVALID);
    T_CHECK(fe_status_exit_code(st) == FE_EXIT_INVALID);
    T_CHECK_STR(err.msg, full);
    fe_config_free(c);
}

static void expect_ok(const char *json)
{
    put("c.json", json);
    char path[256];
    snprintf(path, sizeof(path), "%s/c.json", dir);
    struct fe_config *c = NULL;
    struct fe_err err = {0};
    T_CHECK(fe_config_load(path, NULL, &c, &err) == FE_OK);
    if (!c)
        fprintf(stderr, "unexpected error: %s\n", err.msg);
    fe_config_free(c);
}

#define ARM0 "\"arms\": [{\"name\": \"a\", \"provider\": \"p\", \"model\": \"m\"}]"

/* An unknown key is an error at every level of the config, with the JSON path, the line and
 * column of the key, and the nearest accepted key. The expected columns were counted on the
 * test texts independently (Python str.index of the key's quote). */
static void test_unknown_keys(void)
{
    /* the three examples of issue 11, on their own lines: the position is the key's */
    expect_exact("{\"name\": \"t\", \"dataset\": \"d.jsonl\",\n" PROV "\n"
                 "\"arms\": [{\"name\": \"a\", \"provider\": \"p\", \"model\": \"m\"},\n"
                 "  {\"name\": \"b\", \"provider\": \"p\", \"model\": \"m\", \"few_shots\": \"f.jsonl\"}]}",
                 ":4:48: arms[1].few_shots: unknown key; did you mean \"few_shot\"?");
    expect_exact(HEAD PROV ARM0 ",\n  \"budgt\": {\"max_usd\": 1}}",
                 ":2:3: budgt: unknown key; did you mean \"budget\"?");
    expect_exact(HEAD "\"defaults\": {\"max_token\": 64}, " PROV ARM0 "}",
                 ":1:50: defaults.max_token: unknown key; did you mean \"max_tokens\"?");
    expect_exact(HEAD PROV "\"arms\": [{\"name\": \"a\", \"provider\": \"p\", \"model\": \"m\", \"max_token\": 9}]}",
                 ":1:168: arms[0].max_token: unknown key; did you mean \"max_tokens\"?");

    /* every other object: task, providers.<name>, stats, budget, traffic, training, decision,
     * evidence, an inline price table and its rows */
    expect_error(HEAD "\"task\": {\"templte\": \"{input}\"}, " PROV ARM0 "}",
                 "task.templte: unknown key; did you mean \"template\"?");
    expect_error(HEAD "\"providers\": {\"p\": {\"type\": \"openai\", \"base_url\": \"http://127.0.0.1:1/v1\", "
                 "\"api_key\": \"sk-x\"}}, " ARM0 "}",
                 "providers.p.api_key: unknown key; did you mean \"api_key_env\"?");
    expect_error(HEAD PROV ARM0 ", \"stats\": {\"resample\": 10}}",
                 "stats.resample: unknown key; did you mean \"resamples\"?");
    expect_error(HEAD PROV ARM0 ", \"budget\": {\"max_dollars\": 1}}", "budget.max_dollars: unknown key (accepted: max_usd)");
    expect_error(HEAD PROV ARM0 ", \"traffic\": {\"requests_per_day\": 1}}",
                 "traffic.requests_per_day: unknown key (accepted: requests_per_month)");
    expect_error(HEAD PROV ARM0 ", \"training\": {\"cost\": 1}}",
                 "training.cost: unknown key; did you mean \"cost_usd\"?");
    expect_error(HEAD PROV ARM0 ", \"decision\": {\"margn\": 0.02}}",
                 "decision.margn: unknown key; did you mean \"margin\"?");
    expect_error(HEAD PROV ARM0 ", \"evidence\": {\"rag_tryed\": true}}",
                 "evidence.rag_tryed: unknown key; did you mean \"rag_tried\"?");
    expect_error(HEAD PROV ARM0 ", \"prices\": {\"model\": {}}}", "prices.model: unknown key; did you mean \"models\"?");
    expect_error(HEAD PROV ARM0 ", \"prices\": {\"models\": {\"m\": {\"input\": 1, \"output\": 2, \"cached\": 0.5}}}}",
                 "prices.models[\"m\"].cached: unknown key");

    /* suggestions: a transposition, a case slip; a key of another object; no near key */
    expect_error(HEAD PROV "\"arms\": [{\"name\": \"a\", \"provider\": \"p\", \"model\": \"m\", \"few_hsot\": []}]}",
                 "arms[0].few_hsot: unknown key; did you mean \"few_shot\"?");
    expect_error(HEAD PROV "\"arms\": [{\"name\": \"a\", \"provider\": \"p\", \"Model\": \"m\"}]}",
                 "arms[0].Model: unknown key; did you mean \"model\"?");
    expect_error(HEAD PROV ARM0 ", \"max_tokens\": 64}",
                 "max_tokens: unknown key here (\"max_tokens\" is a key of defaults, arms[])");
    expect_error(HEAD "\"defaults\": {\"cache\": true}, " PROV ARM0 "}",
                 "defaults.cache: unknown key here (\"cache\" is a key of the top level)");
    expect_error(HEAD PROV ARM0 ", \"graders\": []}",
                 "graders: unknown key (accepted: $schema, name, dataset, dataset_format, task, defaults, providers, arms, "
                 "baseline_arm, candidate_arm, prices, training, traffic, stats, budget, max_error_rate, cache, "
                 "decision, evidence, judges, distill)");
    expect_error(HEAD PROV ARM0 ", \"judges\": []}", "judges: must be an object of named judges");
    /* an arm left out by --arms is still checked */
    put("c.json", HEAD PROV "\"arms\": [{\"name\": \"a\", \"provider\": \"p\", \"model\": \"m\"}, "
                  "{\"name\": \"b\", \"provider\": \"p\", \"model\": \"m\", \"sytem\": \"x\"}]}");
    char path[256];
    snprintf(path, sizeof(path), "%s/c.json", dir);
    struct fe_config *c = NULL;
    struct fe_err err = {0};
    T_CHECK(fe_config_load(path, "a", &c, &err) == FE_EINVALID);
    T_CHECK(strstr(err.msg, "arms[1].sytem: unknown key; did you mean \"system\"?") != NULL);
    fe_config_free(c);

    /* a key twice: cJSON would read the first, editors and Python the last */
    expect_exact(HEAD PROV ARM0 ",\n \"budget\": {\"max_usd\": 1, \"max_usd\": 1000}}",
                 ":2:27: budget.max_usd: duplicate key");
    expect_error(HEAD "\"providers\": {\"p\": {\"type\": \"openai\", \"base_url\": \"http://a/v1\"}, "
                 "\"p\": {\"type\": \"openai\", \"base_url\": \"http://b/v1\"}}, " ARM0 "}",
                 "providers.p: duplicate key");

    /* the position survives a UTF-8 byte-order mark and strings holding braces and quotes */
    expect_exact("\xEF\xBB\xBF{\"name\": \"t\", \"dataset\": \"d.jsonl\", \"task\": {\"template\": \"{x} \\\"}]\"},\n"
                 PROV ARM0 ", \"cach\": true}",
                 ":2:134: cach: unknown key; did you mean \"cache\"?");
}

/* CRLF line ends, tabs and a form feed (whitespace to cJSON) do not shift the position. */
static void test_positions(void)
{
    expect_exact("{\"name\": \"t\",\r\n\t\"dataset\": \"d.jsonl\",\f\r\n" PROV ARM0 ",\r\n\t\t\"stast\": {}}",
                 ":4:3: stast: unknown key; did you mean \"stats\"?");
}

/* Known keys with the wrong type are errors too (they used to be read as absent). */
static void test_wrong_types(void)
{
    expect_error(HEAD PROV "\"arms\": [{\"name\": \"a\", \"provider\": \"p\", \"model\": \"m\", \"checkpoints\": \"yes\"}]}",
                 "arms[0].checkpoints: must be true or false");
    expect_error(HEAD PROV "\"arms\": [{\"name\": \"a\", \"provider\": \"p\", \"model\": \"m\", \"max_tokens\": 1.5}]}",
                 "arms[0].max_tokens: must be a whole number");
    expect_error(HEAD "\"defaults\": {\"concurrency\": \"8\"}, " PROV ARM0 "}", "defaults.concurrency: must be a number");
    expect_error(HEAD PROV ARM0 ", \"stats\": {\"resamples\": 100.5}}", "stats.resamples: must be a whole number");
    expect_error(HEAD PROV ARM0 ", \"training\": {\"cost_usd\": \"4.2\"}}", "training.cost_usd: must be a number");
    expect_error(HEAD PROV ARM0 ", \"traffic\": {\"requests_per_month\": -1}}",
                 "traffic.requests_per_month: must be between 0 and 1e+15");
    expect_error(HEAD PROV ARM0 ", \"decision\": {\"margin\": 5}}", "decision.margin: must be between 0 and 1");
    expect_error(HEAD PROV ARM0 ", \"evidence\": {\"rag_tried\": \"yes\"}}", "evidence.rag_tried: must be true or false");
    expect_error(HEAD PROV ARM0 ", \"evidence\": {\"data_check\": 1}}", "evidence.data_check: must be a string or true/false");
    expect_error(HEAD PROV ARM0 ", \"cache\": \"true\"}", "cache: must be true or false");
    expect_error(HEAD PROV ARM0 ", \"budget\": 5}", "budget: must be an object");
    expect_error(HEAD "\"task\": {\"metrics\": \"f1\"}, " PROV ARM0 "}", "task.metrics: must be an array of metric names");
    expect_error(HEAD "\"providers\": {\"p\": {\"type\": \"openai\", \"base_url\": \"http://127.0.0.1:1/v1\", "
                 "\"headers\": {\"X-Team\": 7}}}, " ARM0 "}", "providers.p.headers.X-Team: must be a string");
    expect_error(HEAD "\"providers\": {\"p\": {\"type\": \"openai\", \"base_url\": \"http://127.0.0.1:1/v1\", "
                 "\"headers\": {\"X-A\": \"1\\r\\nX-B: 2\"}}}, " ARM0 "}", "providers.p.headers.X-A: must not contain a line break");
    expect_error(HEAD "\"providers\": {\"p\": {\"type\": \"openai\", \"base_url\": \"http://127.0.0.1:1/v1\", "
                 "\"headers\": {\"X A\": \"1\"}}}, " ARM0 "}", "providers.p.headers.X A: not a valid header name");
    expect_error(HEAD PROV "\"arms\": {\"name\": \"a\"}}", "arms: must be a non-empty array of arms");
    expect_error(HEAD "\"providers\": [], " ARM0 "}", "providers: must be an object of named providers");
    expect_exact(HEAD PROV "\"arms\": [{\"name\": \"a\", \"provider\": \"p\", \"model\": 7}]}",
                 ":1:154: arms[0].model: must be a string");
}

/* Free-form maps stay free-form; every key of every object loads. */
static void test_free_form(void)
{
    put("sys.txt", "Be brief.");
    expect_ok("{\"$schema\": \"fteval.schema.json\", \"name\": \"t\", \"dataset\": \"d.jsonl\", "
              "\"task\": {\"template\": \"{input}\", \"metrics\": [\"exact_match\"], \"primary_metric\": \"exact_match\"}, "
              "\"defaults\": {\"temperature\": 0, \"max_tokens\": 8, \"seed\": 1, \"timeout_s\": 5, \"max_retries\": 0, "
              "\"concurrency\": 2}, "
              "\"providers\": {\"p\": {\"type\": \"openai\", \"base_url\": \"http://127.0.0.1:1/v1\", "
              "\"headers\": {\"X-Anything\": \"v\"}, \"extra_body\": {\"any\": {\"nested\": [1, {\"x\": null}]}}}}, "
              "\"arms\": [{\"name\": \"a\", \"provider\": \"p\", \"model\": \"m\", \"system\": null, "
              "\"extra_body\": {\"response_format\": {\"type\": \"json_object\"}, \"whatever_key\": 1}}], "
              "\"prices\": {\"currency\": \"USD\", \"unit\": \"per_1m_tokens\", \"notes\": \"n\", \"models\": "
              "{\"m\": {\"input\": 1, \"output\": 2, \"service_tiers\": {\"flex\": {\"anything\": 1}}}}}, "
              "\"training\": {\"cost_usd\": 1, \"trained_tokens\": 100}, \"traffic\": {\"requests_per_month\": 10}, "
              "\"stats\": {\"resamples\": 100, \"alpha\": 0.05, \"seed\": 3, \"correction\": \"none\"}, "
              "\"budget\": {\"max_usd\": 1}, \"max_error_rate\": 0.1, \"cache\": false, "
              "\"decision\": {\"margin\": 0.02, \"min_relative_saving\": 0.1, \"max_error_rate\": 0.05}, "
              "\"evidence\": {\"expert_reviewed\": true, \"human_ratings\": \"r.jsonl\", \"data_check\": true, "
              "\"monitoring\": \"dashboards\", \"rag_tried\": false}}");
}

/* Every row of the key table is reachable: its path names an object of the config. */
static void test_key_table(void)
{
    size_t n = 0;
    for (size_t i = 0; fe_config_objects[i].path; i++, n++) {
        T_CHECK(fe_config_objects[i].keys && fe_config_objects[i].keys[0]);
        for (size_t j = 0; fe_config_objects[i].keys[j]; j++)
            for (size_t l = 0; l < j; l++)
                T_CHECK(strcmp(fe_config_objects[i].keys[j], fe_config_objects[i].keys[l]) != 0);
        for (size_t l = 0; l < i; l++)
            T_CHECK(strcmp(fe_config_objects[i].path, fe_config_objects[l].path) != 0);
    }
    T_CHECK(n == 16);
}

/* A dry run loads a config whose key variable is unset (nothing will be sent). */
static void test_no_keys(void)
{
    put("c.json", HEAD "\"providers\": {\"p\": {\"type\": \"openai\", \"base_url\": \"http://127.0.0.1:1/v1\", "
                  "\"api_key_env\": \"FTEVAL_TEST_SURELY_UNSET\"}}, " ARM0 "}");
    char path[256];
    snprintf(path, sizeof(path), "%s/c.json", dir);
    struct fe_config *c = NULL;
    struct fe_err err = {0};
    T_CHECK(fe_config_load_opts(path, NULL, FE_CONFIG_NO_KEYS, &c, &err) == FE_OK);
    T_CHECK(c && c->providers[0].api_key == NULL);
    fe_config_free(c);
    c = NULL;
    T_CHECK(fe_config_load(path, NULL, &c, &err) == FE_EINVALID);
    fe_config_free(c);
}

int main(void)
{
    snprintf(dir, sizeof(dir), "/tmp/fteval-test-config-%ld", (long)getpid());
    mkdir(dir, 0755);
    test_errors();
    test_resolution();
    test_unknown_keys();
    test_positions();
    test_wrong_types();
    test_free_form();
    test_key_table();
    test_no_keys();
    char cmd[256];
    snprintf(cmd, sizeof(cmd), "%s/c.json", dir);
    unlink(cmd);
    return T_DONE();
}
