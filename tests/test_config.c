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

int main(void)
{
    snprintf(dir, sizeof(dir), "/tmp/fteval-test-config-%ld", (long)getpid());
    mkdir(dir, 0755);
    test_errors();
    test_resolution();
    char cmd[256];
    snprintf(cmd, sizeof(cmd), "%s/c.json", dir);
    unlink(cmd);
    return T_DONE();
}
