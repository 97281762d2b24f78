/* test_ft_client.c — pure parts of ft_client and http_client: model names, statuses, the create
 * body, error formatting, retry classification. Network behaviour is covered by
 * tests/ft_stub_test.py (loopback stub) and tests/ft_prism_test.sh (OpenAPI conformance). */
#include "tests/t.h"

#include <cjson/cJSON.h>
#include <curl/curl.h>

#include "harness/base/buf.h"
#include "harness/ft/ft_client.h"
#include "harness/net/http_client.h"
#include "harness/base/log.h"

static void test_model_names(void)
{
    static const struct {
        const char *name;
        bool ok;
        const char *base, *org, *suffix, *id;
        long step;
    } cases[] = {
        {"ft:gpt-4o-mini-2024-07-18:my-org:custom_suffix:9ABel2dg", true, "gpt-4o-mini-2024-07-18",
         "my-org", "custom_suffix", "9ABel2dg", -1},
        {"ft:gpt-4o-mini-2024-07-18:my-org:custom_suffix:9ABel2dg:ckpt-step-88", true,
         "gpt-4o-mini-2024-07-18", "my-org", "custom_suffix", "9ABel2dg", 88},
        {"ft:davinci-002:my-org:custom_suffix:7q8mpxmy", true, "davinci-002", "my-org",
         "custom_suffix", "7q8mpxmy", -1},
        {"ft:gpt-4o-mini-2024-07-18:org::id1", true, "gpt-4o-mini-2024-07-18", "org", "", "id1",
         -1},
        {"ft:gpt-4.1-nano-2025-04-14:o::x:ckpt-step-0", true, "gpt-4.1-nano-2025-04-14", "o", "",
         "x", 0},
        {"gpt-4o-mini", false, "", "", "", "", -1},
        {"ft:gpt-4o-mini", false, "", "", "", "", -1},
        {"ft:gpt-4o-mini:org:suffix", false, "", "", "", "", -1},
        {"ft::org:suffix:id", false, "", "", "", "", -1},
        {"ft:base:org:suffix:", false, "", "", "", "", -1},
        {"ft:base:org:suffix:id:ckpt-step-", false, "", "", "", "", -1},
        {"ft:base:org:suffix:id:ckpt-step-1x", false, "", "", "", "", -1},
        {"ft:base:org:suffix:id:step-5", false, "", "", "", "", -1},
        {"ft:base:org:suffix:id:ckpt-step-5:extra", false, "", "", "", "", -1},
        {"", false, "", "", "", "", -1},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct fe_ft_model_name m;
        bool ok = fe_ft_parse_model_name(cases[i].name, &m);
        if (ok != cases[i].ok)
            fprintf(stderr, "case %zu: %s\n", i, cases[i].name);
        T_CHECK(ok == cases[i].ok);
        T_CHECK_STR(m.base, cases[i].base);
        T_CHECK_STR(m.org, cases[i].org);
        T_CHECK_STR(m.suffix, cases[i].suffix);
        T_CHECK_STR(m.id, cases[i].id);
        T_CHECK(m.ckpt_step == cases[i].step);
    }
    struct fe_ft_model_name m;
    T_CHECK(!fe_ft_parse_model_name(NULL, &m));
    char longname[600];
    memset(longname, 'a', sizeof(longname));
    memcpy(longname, "ft:", 3);
    longname[sizeof(longname) - 1] = '\0';
    longname[400] = ':';
    longname[420] = ':';
    longname[440] = ':';
    T_CHECK(!fe_ft_parse_model_name(longname, &m)); /* base longer than 255 */
}

static void test_status(void)
{
    bool known = false;
    T_CHECK(fe_ft_status_state("succeeded", &known) == FE_FT_SUCCEEDED && known);
    T_CHECK(fe_ft_status_state("failed", &known) == FE_FT_FAILED && known);
    T_CHECK(fe_ft_status_state("cancelled", &known) == FE_FT_CANCELLED && known);
    T_CHECK(fe_ft_status_state("running", &known) == FE_FT_PENDING && known);
    T_CHECK(fe_ft_status_state("queued", NULL) == FE_FT_PENDING);
    T_CHECK(fe_ft_status_state("paused", &known) == FE_FT_PENDING && !known);
    T_CHECK(fe_ft_status_state(NULL, &known) == FE_FT_PENDING && !known);
}

static void test_create_body(void)
{
    struct fe_ft_create_params p = {.model = "gpt-4o-mini-2024-07-18",
                                    .training_file = "file-a",
                                    .n_epochs = "3",
                                    .learning_rate_multiplier = "auto",
                                    .seed = 42,
                                    .has_seed = true};
    cJSON *b = fe_ft_create_body(&p, "fteval-1");
    char *s = cJSON_PrintUnformatted(b);
    T_CHECK_STR(s, "{\"model\":\"gpt-4o-mini-2024-07-18\",\"training_file\":\"file-a\",\"seed\":42,"
                   "\"method\":{\"type\":\"supervised\",\"supervised\":{\"hyperparameters\":"
                   "{\"n_epochs\":3,\"learning_rate_multiplier\":\"auto\"}}},"
                   "\"metadata\":{\"fteval_client_id\":\"fteval-1\"}}");
    free(s);
    cJSON_Delete(b);

    struct fe_ft_create_params d = {.model = "m",
                                    .training_file = "f",
                                    .validation_file = "v",
                                    .suffix = "sfx",
                                    .method = "dpo",
                                    .batch_size = "8",
                                    .beta = "0.25"};
    b = fe_ft_create_body(&d, "c");
    s = cJSON_PrintUnformatted(b);
    T_CHECK_STR(s, "{\"model\":\"m\",\"training_file\":\"f\",\"validation_file\":\"v\","
                   "\"suffix\":\"sfx\",\"method\":{\"type\":\"dpo\",\"dpo\":{\"hyperparameters\":"
                   "{\"batch_size\":8,\"beta\":0.25}}},\"metadata\":{\"fteval_client_id\":\"c\"}}");
    T_CHECK(cJSON_GetObjectItem(b, "hyperparameters") == NULL); /* deprecated top level */
    free(s);
    cJSON_Delete(b);

    struct fe_ft_create_params plain = {.model = "m", .training_file = "f"};
    b = fe_ft_create_body(&plain, "c");
    s = cJSON_PrintUnformatted(b);
    T_CHECK_STR(s, "{\"model\":\"m\",\"training_file\":\"f\",\"method\":{\"type\":\"supervised\","
                   "\"supervised\":{}},\"metadata\":{\"fteval_client_id\":\"c\"}}");
    free(s);
    cJSON_Delete(b);

    char *id1 = fe_ft_new_client_id(), *id2 = fe_ft_new_client_id();
    T_CHECK(strncmp(id1, "fteval-", 7) == 0 && strlen(id1) == 23);
    T_CHECK(strcmp(id1, id2) != 0);
    free(id1);
    free(id2);
}

static void detail_is(long status, const char *body, const char *want)
{
    struct fe_http_response r;
    fe_http_response_init(&r);
    r.status = status;
    fe_buf_adds(&r.body, body);
    struct fe_buf out;
    fe_buf_init(&out, 0);
    fe_http_error_detail(&r, &out);
    T_CHECK_STR(fe_buf_str(&out), want);
    fe_buf_release(&out);
    fe_http_response_release(&r);
}

static void test_error_detail(void)
{
    detail_is(
        400,
        "{\"error\":{\"message\":\"invalid training file\",\"type\":\"invalid_request_error\","
        "\"param\":\"training_file\",\"code\":null}}",
        "400 invalid_request_error: invalid training file (param training_file)");
    detail_is(400,
              "{\"error\":{\"message\":\"bad\",\"type\":\"invalid_request_error\","
              "\"param\":\"model\",\"code\":\"model_not_available\"}}",
              "400 invalid_request_error: bad (param model, code model_not_available)");
    detail_is(400,
              "{\"error\":{\"message\":\"m\",\"type\":\"BadRequestError\",\"param\":null,"
              "\"code\":400}}",
              "400 BadRequestError: m (code 400)");
    detail_is(429,
              "{\"error\":{\"message\":\"quota\",\"type\":\"insufficient_quota\","
              "\"param\":null,\"code\":\"insufficient_quota\"}}",
              "429 insufficient_quota: quota");
    detail_is(400,
              "{\"object\":\"error\",\"message\":\"flat\",\"type\":\"BadRequestError\","
              "\"param\":null,\"code\":400}",
              "400 BadRequestError: flat");
    detail_is(422, "{\"error\":\"Input validation error\",\"error_type\":\"validation\"}",
              "422 validation: Input validation error");
    detail_is(422,
              "{\"type\":\"https://stoplight.io/prism/errors#UNPROCESSABLE_ENTITY\","
              "\"title\":\"Invalid request\",\"status\":422,\"detail\":\"d\","
              "\"validation\":[{\"message\":\"Request body must have required property "
              "'model'\"}]}",
              "422 Invalid request: Request body must have required property 'model'");
    detail_is(502, "<html>bad\ngateway</html>", "502: <html>bad gateway</html>");
    detail_is(500, "", "500");
    /* a server echoing the key back must not leak it */
    fe_log_add_secret("sk-unit-secret-0001");
    detail_is(401,
              "{\"error\":{\"message\":\"Incorrect API key provided: sk-unit-secret-0001\","
              "\"type\":\"invalid_request_error\",\"param\":null,\"code\":\"invalid_api_key\"}}",
              "401 invalid_request_error: Incorrect API key provided: [REDACTED] "
              "(code invalid_api_key)");
    fe_log_clear_secrets();
}

static void test_classify(void)
{
    struct fe_http *h = fe_http_new("http://127.0.0.1:9/v1/", NULL);
    struct fe_http_response r;
    fe_http_response_init(&r);
    r.status = 200;
    T_CHECK(fe_http_classify(&r) == FE_HTTP_DONE);
    r.status = 400;
    T_CHECK(fe_http_classify(&r) == FE_HTTP_DONE);
    r.status = 404;
    T_CHECK(fe_http_classify(&r) == FE_HTTP_DONE);
    r.status = 408;
    T_CHECK(fe_http_classify(&r) == FE_HTTP_RETRY);
    r.status = 409;
    T_CHECK(fe_http_classify(&r) == FE_HTTP_RETRY);
    r.status = 429;
    T_CHECK(fe_http_classify(&r) == FE_HTTP_RETRY);
    fe_buf_adds(&r.body, "{\"error\":{\"message\":\"q\",\"type\":\"insufficient_quota\","
                         "\"param\":null,\"code\":\"insufficient_quota\"}}");
    T_CHECK(fe_http_classify(&r) == FE_HTTP_DONE);
    T_CHECK(fe_http_is_quota_error(&r));
    fe_buf_reset(&r.body);
    r.status = 500;
    T_CHECK(fe_http_classify(&r) == FE_HTTP_AMBIGUOUS);
    r.should_retry = 0;
    T_CHECK(fe_http_classify(&r) == FE_HTTP_DONE);
    r.status = 400;
    r.should_retry = 1;
    T_CHECK(fe_http_classify(&r) == FE_HTTP_RETRY);
    r.should_retry = -1;
    r.status = 0;
    r.transport_error = true;
    r.maybe_sent = false;
    T_CHECK(fe_http_classify(&r) == FE_HTTP_RETRY);
    r.maybe_sent = true;
    T_CHECK(fe_http_classify(&r) == FE_HTTP_AMBIGUOUS);

    /* delays (net/policy.h, the runner's rule): the server's wait within max_wait_s; above it,
     * the cap, and the third such ask in a row gives up; otherwise 0.5 * 2^n capped at 8, minus
     * <= 25 % */
    r.retry_after_s = 0.15;
    T_CHECK_NEAR(fe_http_retry_delay(h, &r, 0), 0.15, 1e-9);
    r.retry_after_s = 500;
    T_CHECK_NEAR(fe_http_retry_delay(h, &r, 0), 120.0, 1e-9);
    T_CHECK_NEAR(fe_http_retry_delay(h, &r, 1), 120.0, 1e-9);
    T_CHECK(fe_http_retry_delay(h, &r, 2) < 0);
    r.retry_after_s = 0; /* an ask within the cap ends the run of long asks */
    T_CHECK_NEAR(fe_http_retry_delay(h, &r, 0), 0.0, 1e-9);
    r.retry_after_s = 500;
    T_CHECK_NEAR(fe_http_retry_delay(h, &r, 0), 120.0, 1e-9);
    r.retry_after_s = -1;
    for (int n = 0; n < 6; n++) {
        double want = n >= 4 ? 8.0 : 0.5 * (1 << n);
        double d = fe_http_retry_delay(h, &r, n);
        T_CHECK(d <= want && d > want * 0.75 - 1e-9);
    }
    fe_http_response_release(&r);

    struct fe_buf e;
    fe_buf_init(&e, 0);
    fe_http_add_escaped(&e, "a b/[c]~");
    T_CHECK_STR(fe_buf_str(&e), "a%20b%2F%5Bc%5D~");
    fe_buf_release(&e);
    fe_http_free(h);
    fe_http_free(NULL);
}

static void test_job_info(void)
{
    cJSON *job =
        cJSON_Parse("{\"id\":\"ftjob-1\",\"status\":\"succeeded\",\"model\":\"gpt-4o-mini\","
                    "\"fine_tuned_model\":\"ft:gpt-4o-mini:o::x\",\"trained_tokens\":1234}");
    struct fe_ft_job_info info;
    struct fe_err err = {0};
    T_CHECK(fe_ft_job_info_from_json(job, &info, &err) == FE_OK);
    T_CHECK_STR(info.id, "ftjob-1");
    T_CHECK_STR(info.fine_tuned_model, "ft:gpt-4o-mini:o::x");
    T_CHECK(info.trained_tokens == 1234);
    cJSON_Delete(job);
    job = cJSON_Parse("{\"id\":\"ftjob-2\",\"status\":\"running\",\"model\":\"m\","
                      "\"fine_tuned_model\":null,\"trained_tokens\":null}");
    T_CHECK(fe_ft_job_info_from_json(job, &info, &err) == FE_OK);
    T_CHECK_STR(info.fine_tuned_model, "");
    T_CHECK(info.trained_tokens == -1);
    cJSON_Delete(job);
    job = cJSON_Parse("{\"status\":\"running\"}");
    T_CHECK(fe_ft_job_info_from_json(job, &info, &err) == FE_EPROVIDER);
    cJSON_Delete(job);

    /* unreachable server: a transport error, not a crash, and no retries wasted on tests */
    struct fe_http *h = fe_http_new("http://127.0.0.1:1/v1", "sk-unit-secret-0002");
    fe_http_set_retries(h, 0);
    cJSON *out = NULL;
    struct fe_err e2 = {0};
    T_CHECK(fe_ft_job_retrieve(h, "ftjob-x", &out, &e2) == FE_ENET);
    T_CHECK(out == NULL);
    T_CHECK(strstr(e2.msg, "get job: transport error") == e2.msg);
    fe_http_free(h);
    fe_log_clear_secrets();
}

int main(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    test_model_names();
    test_status();
    test_create_body();
    test_error_detail();
    test_classify();
    test_job_info();
    curl_global_cleanup();
    return T_DONE();
}
