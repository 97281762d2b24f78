/* test_data_check.c — the library entry points: fe_data_check_blocking (used by `ft upload`),
 * fe_data_check_run with options, the JSON report, the MDE formula, and data_row helpers. */
#include "t.h"

#include <unistd.h>

#include "harness/data_check.h"
#include "harness/util.h"

static char dir[] = "/tmp/fteval-test-data-check-XXXXXX";

static char *write_file(const char *name, const char *text)
{
    char *path = fe_xasprintf("%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (!f) {
        perror(path);
        exit(1);
    }
    fputs(text, f);
    fclose(f);
    return path;
}

static const char clean[] =
    "{\"messages\": [{\"role\": \"user\", \"content\": \"How do I activate my card?\"}, "
    "{\"role\": \"assistant\", \"content\": \"activate\"}]}\n"
    "{\"messages\": [{\"role\": \"user\", \"content\": \"Why is my transfer pending?\"}, "
    "{\"role\": \"assistant\", \"content\": \"pending\"}]}\n";

static const char with_pii[] =
    "{\"messages\": [{\"role\": \"user\", \"content\": \"mail me: bob@example.com\"}, "
    "{\"role\": \"assistant\", \"content\": \"ok\"}]}\n";

static const char no_assistant[] = "{\"messages\": [{\"role\": \"user\", \"content\": \"hi\"}]}\n";

int main(void)
{
    if (!mkdtemp(dir))
        T_SKIP("a writable temporary folder");
    char *p_clean = write_file("clean.jsonl", clean);
    char *p_pii = write_file("pii.jsonl", with_pii);
    char *p_bad = write_file("bad.jsonl", no_assistant);

    struct fe_buf text;
    fe_buf_init(&text, 0);
    struct fe_err err = {0};
    T_CHECK(fe_data_check_blocking(p_clean, &text, &err) == 0);
    T_CHECK(strstr(fe_buf_str(&text), "result: ok") != NULL);
    fe_buf_reset(&text);
    T_CHECK(fe_data_check_blocking(p_pii, &text, &err) == 1);
    T_CHECK(strstr(fe_buf_str(&text), "b***@e***.com") != NULL);
    T_CHECK(strstr(fe_buf_str(&text), "bob@example.com") == NULL);
    fe_buf_reset(&text);
    T_CHECK(fe_data_check_blocking(p_bad, NULL, &err) == 1);
    char *missing = fe_xasprintf("%s/missing.jsonl", dir);
    T_CHECK(fe_data_check_blocking(missing, &text, &err) == -1);
    T_CHECK(err.code == FE_EIO && strstr(err.msg, "missing.jsonl") != NULL);
    fe_err_clear(&err);

    struct fe_data_check_opts o;
    fe_data_check_opts_init(&o);
    T_CHECK(o.n_epochs == 3 && o.near_threshold == 0.9);
    o.path = p_pii;
    o.against = p_clean;
    o.max_findings = 1;
    struct fe_data_report *r = fe_data_check_run(&o, &err);
    T_CHECK(r != NULL);
    if (r) {
        T_CHECK(fe_data_report_blocking(r));
        T_CHECK(r->pii[FE_PII_EMAIL] == 1);
        T_CHECK(r->examples == 1 && r->heldout_examples == 2);
        cJSON *json = fe_data_report_json(r);
        T_CHECK_STR(cJSON_GetObjectItem(json, "schema")->valuestring, "fteval.data_check/1");
        T_CHECK(cJSON_IsTrue(cJSON_GetObjectItem(json, "blocking")));
        const cJSON *f0 = cJSON_GetArrayItem(cJSON_GetObjectItem(json, "findings"), 0);
        T_CHECK_STR(cJSON_GetObjectItem(f0, "check")->valuestring, "pii");
        T_CHECK_STR(cJSON_GetObjectItem(f0, "excerpt")->valuestring, "b***@e***.com");
        cJSON_Delete(json);
        fe_data_report_free(r);
    }
    fe_data_report_free(NULL);

    /* --config that cannot be read is an error naming the file */
    o.config = missing;
    T_CHECK(fe_data_check_run(&o, &err) == NULL);
    T_CHECK(strstr(err.msg, "missing.jsonl") != NULL);

    T_CHECK(fe_data_mde_n(0.05) == 1568);
    T_CHECK(fe_data_mde_n(0.10) == 392);
    T_CHECK(fe_data_mde_n(0) == 0);
    T_CHECK_STR(fe_data_check_name(FE_CHECK_NEAR_DUPLICATE), "near_duplicate");
    T_CHECK_STR(fe_data_severity_name(FE_DATA_BLOCKING), "blocking");

    /* row extraction for each shape */
    const char *lines[] = {
        "{\"id\": 7, \"messages\": [{\"role\": \"system\", \"content\": \"S\"}, {\"role\": "
        "\"user\", "
        "\"content\": [{\"type\": \"text\", \"text\": \"Q\"}]}, {\"role\": \"assistant\", "
        "\"content\": \"A\"}]}",
        "{\"input\": {\"messages\": [{\"role\": \"user\", \"content\": \"Q\"}]}, "
        "\"preferred_output\": "
        "[{\"role\": \"assistant\", \"content\": \"A\"}], \"non_preferred_output\": []}",
        "{\"input\": \"Q\", \"context\": \"C\", \"gold\": \"A\"}",
    };
    enum fe_data_shape shapes[] = {FE_SHAPE_CHAT, FE_SHAPE_DPO, FE_SHAPE_PLAIN};
    const char *prompts[] = {"Q", "Q", "Q\nC"};
    for (int i = 0; i < 3; i++) {
        const char *why;
        size_t at;
        cJSON *json = fe_data_parse_line(lines[i], strlen(lines[i]), &why, &at);
        T_CHECK(json != NULL);
        if (!json)
            continue;
        struct fe_data_row row;
        fe_data_row_extract(json, NULL, &row);
        T_CHECK(row.shape == shapes[i]);
        T_CHECK_STR(row.prompt, prompts[i]);
        T_CHECK_STR(row.answer, "A");
        if (i == 0) {
            T_CHECK_STR(row.id, "7");
            T_CHECK_STR(row.system, "S");
        }
        fe_data_row_release(&row);
        cJSON_Delete(json);
    }
    const char *why = NULL;
    size_t at = 0;
    T_CHECK(fe_data_parse_line("{\"a\": \xff}", 8, &why, &at) == NULL &&
            strcmp(why, "invalid UTF-8") == 0);
    T_CHECK(fe_data_parse_line("[1]", 3, &why, &at) == NULL);
    T_CHECK(fe_data_parse_line("{} x", 4, &why, &at) == NULL);

    fe_buf_release(&text);
    unlink(p_clean);
    unlink(p_pii);
    unlink(p_bad);
    rmdir(dir);
    free(p_clean);
    free(p_pii);
    free(p_bad);
    free(missing);
    return T_DONE();
}
