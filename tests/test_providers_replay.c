/* test_providers_replay.c — the replay provider on fixtures under tests/fixtures/providers/replay:
 * a run directory (two arms, a recorded error, an id re-recorded after resume, a torn last
 * line), a results file opened directly, a predictions file, and the failure paths. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness/util.h"
#include "providers/provider.h"
#include "tests/t.h"

static const struct fe_provider_ops *ops = &fe_provider_replay;

static char *t_fixture(const char *rel)
{
    return fe_xasprintf("%s/tests/fixtures/providers/replay/%s", getenv("FTEVAL_SRC"), rel);
}

static void *t_open(const char *rel, enum fe_status want)
{
    char *path = rel ? t_fixture(rel) : NULL;
    struct fe_provider_conf conf = {.name = "rp", .type = "replay", .path = path};
    void *state = NULL;
    struct fe_err err = {0};
    enum fe_status st = ops->offline_open(&conf, &state, &err);
    if (st != want)
        fprintf(stderr, "open %s: %s (%s)\n", rel ? rel : "(null)", fe_strerror(st), err.msg);
    T_CHECK(st == want);
    T_CHECK((st == FE_OK) == !fe_err_isset(&err));
    free(path); /* the state keeps its own copy */
    return state;
}

/* Asks for (arm, id); returns the status and fills out (caller releases) and err. */
static enum fe_status t_ask(void *state, const char *arm, const char *id,
                            struct fe_completion *out, struct fe_err *err)
{
    struct fe_message m = {.role = "user", .content = "ignored"};
    struct fe_chat_request req = {.arm = arm, .example_id = id, .model = "m", .messages = &m,
                                  .n_messages = 1, .max_tokens = 16};
    fe_err_clear(err);
    return ops->offline_complete(state, &req, out, err);
}

static void t_expect_text(void *state, const char *arm, const char *id, const char *text,
                          const char *finish)
{
    struct fe_completion c;
    struct fe_err err;
    enum fe_status st = t_ask(state, arm, id, &c, &err);
    if (st != FE_OK)
        fprintf(stderr, "%s/%s: %s\n", arm ? arm : "-", id, err.msg);
    T_CHECK(st == FE_OK);
    T_CHECK_STR(c.text, text);
    T_CHECK_STR(c.finish_reason, finish);
    fe_completion_release(&c);
}

static void t_expect_missing(void *state, const char *arm, const char *id, const char *msg)
{
    struct fe_completion c;
    struct fe_err err;
    T_CHECK(t_ask(state, arm, id, &c, &err) == FE_EPROVIDER);
    T_CHECK_STR(err.msg, msg);
    T_CHECK(c.text == NULL);
    fe_completion_release(&c);
}

static void t_run_dir(void)
{
    void *s = t_open("run", FE_OK);
    struct fe_completion c;
    struct fe_err err;

    /* arm base: usage with cached tokens, the resolved model */
    T_CHECK(t_ask(s, "base", "ex-1", &c, &err) == FE_OK);
    T_CHECK_STR(c.text, "Paris");
    T_CHECK_STR(c.finish_reason, "stop");
    T_CHECK_STR(c.model, "gpt-4o-mini-2024-07-18");
    T_CHECK(c.has_usage && c.prompt_tokens == 81 && c.completion_tokens == 3);
    T_CHECK(c.has_cached && c.cached_tokens == 64);
    fe_completion_release(&c);

    /* usage without cached_tokens */
    T_CHECK(t_ask(s, "base", "ex-3", &c, &err) == FE_OK);
    T_CHECK_STR(c.finish_reason, "length");
    T_CHECK(c.has_usage && c.prompt_tokens == 80 && !c.has_cached);
    fe_completion_release(&c);

    /* a recorded error is not an answer */
    t_expect_missing(s, "base", "ex-2",
                     "no recorded output for id 'ex-2' (recorded error: rate_limit)");
    t_expect_missing(s, "base", "ex-404", "no recorded output for id 'ex-404'");

    /* arm finetuned: same ids, other answers; usage null; re-recorded id: last wins */
    T_CHECK(t_ask(s, "finetuned", "ex-1", &c, &err) == FE_OK);
    T_CHECK_STR(c.text, "Paris.");
    T_CHECK(!c.has_usage && !c.has_cached);
    fe_completion_release(&c);
    t_expect_text(s, "finetuned", "ex-2", "Rome", "stop");
    /* the torn last line (a crash mid-append) was dropped */
    t_expect_missing(s, "finetuned", "ex-3", "no recorded output for id 'ex-3'");
    /* the first arm's map is still there after the second was loaded */
    t_expect_text(s, "base", "ex-1", "Paris", "stop");

    /* an arm the run never recorded, and arm names that would leave the directory */
    T_CHECK(t_ask(s, "nosuch", "ex-1", &c, &err) == FE_EIO);
    T_CHECK(strstr(err.msg, "nosuch.jsonl") != NULL);
    fe_completion_release(&c);
    T_CHECK(t_ask(s, "../run/base", "ex-1", &c, &err) == FE_EINVALID);
    T_CHECK(t_ask(s, "..", "ex-1", &c, &err) == FE_EINVALID);
    T_CHECK(t_ask(s, NULL, "ex-1", &c, &err) == FE_EINVALID);
    /* still usable after those failures */
    t_expect_text(s, "finetuned", "ex-2", "Rome", "stop");
    ops->offline_close(s);
}

static void t_results_file(void)
{
    /* a results file serves every arm, whatever its name */
    void *s = t_open("run/base.jsonl", FE_OK);
    t_expect_text(s, "some-arm", "ex-1", "Paris", "stop");
    t_expect_text(s, NULL, "ex-3", "Madri", "length");
    t_expect_missing(s, "x", "ex-2", "no recorded output for id 'ex-2' (recorded error: rate_limit)");
    ops->offline_close(s);
}

static void t_predictions_file(void)
{
    void *s = t_open("predictions.jsonl", FE_OK);
    struct fe_completion c;
    struct fe_err err;
    T_CHECK(t_ask(s, "pred", "q1", &c, &err) == FE_OK);
    T_CHECK_STR(c.text, "Paris, France"); /* repeated id: last wins */
    T_CHECK_STR(c.finish_reason, "stop"); /* not recorded: stop */
    T_CHECK(!c.has_usage && !c.has_cached && c.model == NULL && c.response_id == NULL);
    fe_completion_release(&c);
    t_expect_text(s, "pred", "7", "42", "stop");       /* numeric id */
    t_expect_text(s, "pred", "q3", "", "stop");        /* an empty answer is an answer */
    t_expect_missing(s, "pred", "q2", "no recorded output for id 'q2'");
    t_expect_missing(s, "pred", "", "no recorded output for id ''");
    ops->offline_close(s);
}

static void t_failures(void)
{
    /* close is called even after a failed open */
    ops->offline_close(t_open(NULL, FE_EINVALID));
    ops->offline_close(t_open("no-such-file.jsonl", FE_EIO));

    char *path = t_fixture("bad.jsonl");
    struct fe_provider_conf conf = {.name = "rp", .type = "replay", .path = path};
    void *state = NULL;
    struct fe_err err = {0};
    T_CHECK(ops->offline_open(&conf, &state, &err) == FE_EINVALID);
    T_CHECK(strstr(err.msg, "bad.jsonl:2: field 'prediction'") != NULL);
    ops->offline_close(state);
    free(path);

    struct fe_completion c;
    T_CHECK(ops->offline_complete(NULL, &(struct fe_chat_request){.example_id = "x"}, &c, &err) !=
            FE_OK);
    ops->offline_close(NULL);
}

int main(void)
{
    if (!getenv("FTEVAL_SRC"))
        T_SKIP("FTEVAL_SRC (run through ctest)");
    t_run_dir();
    t_results_file();
    t_predictions_file();
    t_failures();
    return T_DONE();
}
