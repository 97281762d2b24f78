/* test_dataset.c — both dataset shapes, golds, and every input error naming file and line. */
#include <stdio.h>
#include <unistd.h>

#include "harness/input/dataset.h"
#include "t.h"

static int parse(const char *line, struct fe_example *ex, struct fe_err *err)
{
    fe_err_clear(err);
    return fe_example_parse(line, strlen(line), "d.jsonl", 7, ex, err);
}

static char *write_tmp(const char *content, size_t len)
{
    static char path[64];
    snprintf(path, sizeof(path), "/tmp/fteval-test-dataset-%ld.jsonl", (long)getpid());
    FILE *f = fopen(path, "wb");
    fwrite(content, 1, len, f);
    fclose(f);
    return path;
}

static void test_shapes(void)
{
    struct fe_example ex;
    struct fe_err err;
    T_CHECK(parse("{\"id\": \"q1\", \"input\": \"Capital of France?\", \"gold\": \"Paris\"}", &ex, &err) == 0);
    T_CHECK_STR(ex.id, "q1");
    T_CHECK(!ex.chat && ex.n_golds == 1);
    T_CHECK_STR(ex.golds[0], "Paris");
    fe_example_release(&ex);

    T_CHECK(parse("{\"input\": \"x\", \"gold\": [\"a\", \"b\"], \"cluster\": 3}", &ex, &err) == 0);
    T_CHECK_STR(ex.id, "line-7");
    T_CHECK(ex.n_golds == 2);
    T_CHECK_STR(ex.cluster, "3");
    fe_example_release(&ex);

    /* unanswerable: "" and [] both give [""] */
    T_CHECK(parse("{\"id\": 5, \"input\": \"x\", \"gold\": []}", &ex, &err) == 0);
    T_CHECK_STR(ex.id, "5");
    T_CHECK(ex.n_golds == 1 && ex.golds[0][0] == '\0');
    fe_example_release(&ex);

    /* structured gold */
    T_CHECK(parse("{\"id\": \"r\", \"input\": \"13\", \"gold\": {\"time\": \"13\"}}", &ex, &err) == 0);
    T_CHECK(ex.gold_json && cJSON_IsObject(ex.gold_json));
    T_CHECK_STR(ex.golds[0], "{\"time\":\"13\"}");
    fe_example_release(&ex);

    /* chat: the final assistant message is the gold and is not among the messages sent */
    T_CHECK(parse("{\"messages\": [{\"role\": \"system\", \"content\": \"s\"}, {\"role\": \"user\", \"content\": "
                  "[{\"type\": \"text\", \"text\": \"hi \"}, {\"type\": \"text\", \"text\": \"there\"}]}, "
                  "{\"role\": \"assistant\", \"content\": \"GOLD\"}], \"golds\": [\"alt\"], \"label\": \"x\"}",
                  &ex, &err) == 0);
    T_CHECK(ex.chat && ex.n_messages == 2);
    T_CHECK_STR(ex.messages[1].content, "hi there");
    T_CHECK(ex.n_golds == 2);
    T_CHECK_STR(ex.golds[0], "GOLD");
    T_CHECK_STR(ex.golds[1], "alt");
    T_CHECK_STR(ex.label, "x");
    fe_example_release(&ex);
}

static void test_errors(void)
{
    struct fe_example ex;
    struct fe_err err;
    static const struct {
        const char *line, *want;
    } cases[] = {
        {"{\"id\": \"a\", \"input\": \"x\"}", "d.jsonl:7: field 'gold': missing"},
        {"{\"id\": \"a\", \"input\": \"x\", \"gold\": nul}", "d.jsonl:7: invalid JSON"},
        {"[1, 2]", "d.jsonl:7: a line must be a JSON object"},
        {"{\"gold\": \"x\"} trailing", "d.jsonl:7: trailing characters"},
        {"{\"messages\": [{\"role\": \"user\", \"content\": \"q\"}]}", "messages[0].role': the last message must be"},
        {"{\"messages\": []}", "field 'messages': must be a non-empty array"},
        {"{\"messages\": [{\"content\": \"q\"}, {\"role\": \"assistant\", \"content\": \"a\"}]}", "messages[0].role': missing"},
        {"{\"id\": \"\", \"gold\": \"x\"}", "field 'id': must be a non-empty"},
        {"{\"id\": \"a\", \"gold\": null}", "field 'gold'"},
        {"{\"id\": \"a\", \"gold\": \"x\", \"cluster\": [1]}", "field 'cluster'"},
        {"{\"id\": \"a\", \"gold\": \"\xff\"}", "invalid UTF-8 at byte"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int rc = parse(cases[i].line, &ex, &err);
        T_CHECK(rc == -1 && err.code == FE_EINVALID);
        if (!strstr(err.msg, cases[i].want))
            fprintf(stderr, "case %zu: message '%s' lacks '%s'\n", i, err.msg, cases[i].want);
        T_CHECK(strstr(err.msg, cases[i].want) != NULL);
    }
    /* deep nesting is refused by cJSON's limit, not a crash */
    char deep[5000];
    memset(deep, '[', sizeof(deep) - 1);
    deep[sizeof(deep) - 1] = '\0';
    T_CHECK(parse(deep, &ex, &err) == -1 && err.code == FE_EINVALID);
}

static void test_reader(void)
{
    struct fe_err err = {0};
    struct fe_dataset_reader *r;
    const char data[] = "{\"id\": \"a\", \"input\": \"x\", \"gold\": \"1\"}\n\n  \n{\"id\": \"b\", \"input\": \"y\", \"gold\": \"2\"}\r\n"
                        "{\"id\": \"a\", \"input\": \"z\", \"gold\": \"3\"}\n";
    char *path = write_tmp(data, sizeof(data) - 1);
    T_CHECK(fe_dataset_open(&r, path, &err) == FE_OK);
    struct fe_example ex;
    T_CHECK(fe_dataset_next(r, &ex, &err) == 1);
    fe_example_release(&ex);
    T_CHECK(fe_dataset_next(r, &ex, &err) == 1);
    T_CHECK(ex.line == 4);
    fe_example_release(&ex);
    T_CHECK(fe_dataset_next(r, &ex, &err) == -1);
    T_CHECK(strstr(err.msg, ":5: field 'id': duplicate id 'a' (first on line 1)") != NULL);
    fe_dataset_close(r);

    /* a NUL byte inside a line: error on that line, not a silent truncation */
    const char nul[] = "{\"id\": \"a\", \"gold\": \"x\"}\n{\"id\": \"b\", \"gold\": \"x\0y\"}\n";
    path = write_tmp(nul, sizeof(nul) - 1);
    fe_err_clear(&err);
    T_CHECK(fe_dataset_open(&r, path, &err) == FE_OK);
    T_CHECK(fe_dataset_next(r, &ex, &err) == 1);
    fe_example_release(&ex);
    T_CHECK(fe_dataset_next(r, &ex, &err) == -1);
    T_CHECK(strstr(err.msg, ":2: line contains a NUL byte") != NULL);
    fe_dataset_close(r);

    fe_err_clear(&err);
    T_CHECK(fe_dataset_open(&r, "/nonexistent/x.jsonl", &err) == FE_EINVALID);
    T_CHECK(strstr(err.msg, "/nonexistent/x.jsonl: cannot open") != NULL);
    unlink(path);
}

/* no_gold (fteval distill): a plain row without gold and a chat row without the final assistant
 * message are read (gold ""; every chat message sent); without no_gold both are errors. A chat
 * row that does end with the assistant's message keeps it as the gold. */
static void test_no_gold(void)
{
    const char data[] = "{\"id\": \"p\", \"input\": \"x\"}\n"
                        "{\"id\": \"c\", \"messages\": [{\"role\": \"system\", \"content\": \"s\"}, "
                        "{\"role\": \"user\", \"content\": \"u\"}]}\n"
                        "{\"id\": \"g\", \"messages\": [{\"role\": \"user\", \"content\": \"u\"}, "
                        "{\"role\": \"assistant\", \"content\": \"a\"}]}\n";
    char *path = write_tmp(data, sizeof(data) - 1);
    struct fe_err err = {0};
    struct fe_example *ex = NULL;
    size_t n = 0;
    T_CHECK(fe_dataset_load_with(path, NULL, &ex, &n, &err) == FE_EINVALID);
    T_CHECK(strstr(err.msg, ":1: field 'gold': missing") != NULL);
    struct fe_dataset_opts o = {.no_gold = true};
    fe_err_clear(&err);
    T_CHECK(fe_dataset_load_with(path, &o, &ex, &n, &err) == FE_OK);
    T_CHECK(n == 3);
    if (n == 3) {
        T_CHECK(!ex[0].chat && ex[0].n_golds == 1 && strcmp(ex[0].golds[0], "") == 0);
        T_CHECK(ex[1].chat && ex[1].n_messages == 2 && strcmp(ex[1].messages[1].content, "u") == 0);
        T_CHECK(ex[1].n_golds == 1 && strcmp(ex[1].golds[0], "") == 0);
        T_CHECK(ex[2].n_messages == 1 && strcmp(ex[2].golds[0], "a") == 0);
    }
    fe_examples_free(ex, n);
    const char chat[] = "{\"id\": \"c\", \"messages\": [{\"role\": \"user\", \"content\": \"u\"}]}\n";
    path = write_tmp(chat, sizeof(chat) - 1); /* the same temporary file, rewritten */
    fe_err_clear(&err);
    T_CHECK(fe_dataset_load_with(path, NULL, &ex, &n, &err) == FE_EINVALID);
    T_CHECK(strstr(err.msg, "the last message must be the assistant's") != NULL);
    unlink(path);
}

/* fe_estimate_prompt_tokens: 3 for the reply primer, per message 4 + ceil(bytes / 4). */
static void test_prompt_tokens(void)
{
    struct fe_message m[2] = {{"system", "word"}, {"user", "hello"}};
    T_CHECK(fe_estimate_prompt_tokens(m, 0) == 3);
    T_CHECK(fe_estimate_prompt_tokens(m, 1) == 3 + 4 + 1);
    T_CHECK(fe_estimate_prompt_tokens(m, 2) == 3 + 4 + 1 + 4 + 2);
}

/* The one content rule (input/data_row.h) as run/score see it (fe_example_parse) and as data
 * check sees it (fe_data_content): parts concatenated, null = missing. */
static void test_content_rule(void)
{
    char *text = NULL;
    int part = 7;
    cJSON *c =
        cJSON_Parse("[{\"type\":\"text\",\"text\":\"Hel\"},{\"type\":\"text\",\"text\":\"lo\"}]");
    T_CHECK(fe_data_content(c, &text, &part) == FE_CONTENT_TEXT && part == -1);
    T_CHECK_STR(text, "Hello");
    free(text);
    cJSON_Delete(c);
    cJSON *null = cJSON_CreateNull();
    T_CHECK(fe_data_content(null, &text, NULL) == FE_CONTENT_NONE && text == NULL);
    T_CHECK(fe_data_content(NULL, &text, NULL) == FE_CONTENT_NONE && text == NULL);
    cJSON_Delete(null);
    c = cJSON_Parse("[{\"type\":\"text\",\"text\":\"a\"},{\"text\":\"b\"}]");
    T_CHECK(fe_data_content(c, &text, &part) == FE_CONTENT_BAD_PART && part == 1 && !text);
    cJSON_Delete(c);
    c = cJSON_CreateNumber(3);
    T_CHECK(fe_data_content(c, &text, &part) == FE_CONTENT_BAD && part == -1);
    cJSON_Delete(c);

    struct fe_example ex;
    struct fe_err err = {0};
    T_CHECK(parse("{\"messages\": [{\"role\": \"user\", \"content\": [{\"type\": \"text\", "
                  "\"text\": \"Hel\"}, {\"type\": \"text\", \"text\": \"lo\"}]}, {\"role\": "
                  "\"assistant\", \"content\": \"\"}]}",
                  &ex, &err) == 0);
    T_CHECK(ex.n_messages == 1 && strcmp(ex.messages[0].content, "Hello") == 0);
    T_CHECK(ex.n_golds == 1 && strcmp(ex.golds[0], "") == 0); /* "" is unanswerable, kept */
    struct fe_data_row row;
    fe_data_row_extract(ex.row, NULL, &row);
    T_CHECK_STR(row.user, ex.messages[0].content); /* data check sees what run sends */
    T_CHECK_STR(row.answer, ex.golds[0]);
    fe_data_row_release(&row);
    fe_example_release(&ex);
    fe_err_clear(&err);
    T_CHECK(parse("{\"messages\": [{\"role\": \"user\", \"content\": null}, {\"role\": "
                  "\"assistant\", \"content\": \"a\"}]}",
                  &ex, &err) == -1);
    T_CHECK(strstr(err.msg, "messages[0].content': missing or null") != NULL);
    fe_err_clear(&err);
    T_CHECK(parse("{\"messages\": [{\"role\": \"user\", \"content\": \"q\"}, {\"role\": "
                  "\"assistant\", \"content\": null}]}",
                  &ex, &err) == -1); /* a null gold is missing, never unanswerable */
    fe_err_clear(&err);
    T_CHECK(parse("{\"input\": {\"messages\": []}, \"preferred_output\": []}", &ex, &err) == -1);
    T_CHECK(strstr(err.msg, "preference (DPO) row") != NULL);
}

int main(void)
{
    test_prompt_tokens();
    test_content_rule();
    test_shapes();
    test_errors();
    test_reader();
    test_no_gold();
    return T_DONE();
}
