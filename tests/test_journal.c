/* test_journal.c — journal recovery (quarantine of malformed lines, ids, spend seeding), the
 * run-directory lock and the config fingerprint (issue 11 §3, §4). */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness/run/config.h"
#include "harness/run/journal.h"
#include "harness/run/runguard.h"
#include "harness/base/util.h"
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

static char *get(const char *name)
{
    char path[256];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    return fe_read_file(path, 0, NULL);
}

static void test_recover(void)
{
    put("a.jsonl",
        "{\"id\":\"e1\",\"status\":\"ok\",\"spend_usd\":0.5,\"cost_usd\":0.5}\n"
        "{\"id\":\"e2\",\"sta\n"                                           /* torn mid-file */
        "{\"id\":\"e3\",\"status\":\"error\",\"error\":{\"kind\":\"timeout\"},\"spend_usd\":0.25,"
        "\"spend_estimated\":true}\n"
        "{\"id\":\"e4\",\"status\":\"ok\",\"cost_usd\":0.125,\"cache_hit\":false}\n" /* before spend_usd */
        "{\"id\":\"e5\",\"status\":\"ok\",\"cost_usd\":4,\"cache_hit\":true}\n"     /* cached: no spend */
        "{\"id\":\"e6\",\"status\":\"error\",\"error\":{\"kind\":\"not_found\"},\"spend_usd\":0}\n"
        "{\"id\":\"e7\",\"status\":\"ok\",\"spe");                          /* torn last line */
    char path[256];
    snprintf(path, sizeof(path), "%s/a.jsonl", dir);
    struct fe_journal j;
    struct fe_strmap done;
    fe_strmap_init(&done);
    size_t n_done = 0;
    struct fe_err err = {0};
    T_CHECK(fe_journal_open(&j, path, true, &done, &n_done, &err) == FE_OK);
    T_CHECK(n_done == 4); /* e1, e4, e5 ok; e6 final error; e3 is re-sent */
    T_CHECK(fe_strmap_get(&done, "e1", NULL) && fe_strmap_get(&done, "e6", NULL));
    T_CHECK(!fe_strmap_get(&done, "e3", NULL) && !fe_strmap_get(&done, "e2", NULL));
    T_CHECK(j.seen.count == 5);
    T_CHECK_NEAR(j.recovered_spend_usd, 0.875, 1e-12);
    T_CHECK(j.recovered_spend_estimated);
    T_CHECK(j.n_quarantined == 2);
    T_CHECK(fe_journal_append(&j, "{\"id\":\"e2\",\"status\":\"ok\"}", 25, &err) == FE_OK);
    T_CHECK(fe_journal_close(&j, &err) == FE_OK);
    fe_strmap_release(&done);

    char *text = get("a.jsonl"); /* the good lines, in order, then the new record */
    T_CHECK_STR(text,
                "{\"id\":\"e1\",\"status\":\"ok\",\"spend_usd\":0.5,\"cost_usd\":0.5}\n"
                "{\"id\":\"e3\",\"status\":\"error\",\"error\":{\"kind\":\"timeout\"},\"spend_usd\":0.25,"
                "\"spend_estimated\":true}\n"
                "{\"id\":\"e4\",\"status\":\"ok\",\"cost_usd\":0.125,\"cache_hit\":false}\n"
                "{\"id\":\"e5\",\"status\":\"ok\",\"cost_usd\":4,\"cache_hit\":true}\n"
                "{\"id\":\"e6\",\"status\":\"error\",\"error\":{\"kind\":\"not_found\"},\"spend_usd\":0}\n"
                "{\"id\":\"e2\",\"status\":\"ok\"}\n");
    free(text);
    char *q = get("a.quarantine.jsonl");
    T_CHECK(q && strstr(q, "\"line\":2,\"text\":\"{\\\"id\\\":\\\"e2\\\",\\\"sta\""));
    T_CHECK(q && strstr(q, "\"line\":7,") && strstr(q, "torn last line"));
    free(q);
}

static void test_lock(void)
{
    int fd;
    struct fe_err err = {0};
    T_CHECK(fe_run_lock(dir, &fd, &err) == FE_OK);
    pid_t child = fork();
    if (child == 0) { /* another process: refused, naming our pid */
        int fd2;
        struct fe_err e2 = {0};
        char want[64];
        snprintf(want, sizeof(want), "(pid %ld)", (long)getppid());
        _exit(fe_run_lock(dir, &fd2, &e2) == FE_EABORT && strstr(e2.msg, want) ? 0 : 1);
    }
    int status = 0;
    waitpid(child, &status, 0);
    T_CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    fe_run_unlock(fd);
    child = fork();
    if (child == 0) { /* released: the next process gets it */
        int fd2;
        struct fe_err e2 = {0};
        _exit(fe_run_lock(dir, &fd2, &e2) == FE_OK ? 0 : 1);
    }
    waitpid(child, &status, 0);
    T_CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

static cJSON *fingerprint_of(const char *arms)
{
    char text[1024];
    snprintf(text, sizeof(text),
             "{\"name\": \"t\", \"dataset\": \"d.jsonl\", \"task\": {\"metrics\": [\"exact_match\"]}, "
             "\"providers\": {\"p\": {\"type\": \"openai\", \"base_url\": \"http://127.0.0.1:1/v1\"}}, "
             "\"arms\": %s}", arms);
    put("c.json", text);
    char path[256];
    snprintf(path, sizeof(path), "%s/c.json", dir);
    struct fe_config *c = NULL;
    struct fe_err err = {0};
    T_CHECK(fe_config_load(path, NULL, &c, &err) == FE_OK);
    cJSON *fp = c ? fe_config_fingerprint(c) : cJSON_CreateObject();
    fe_config_free(c);
    return fp;
}

static void test_fingerprint(void)
{
    put("d.jsonl", "{\"id\": \"1\", \"input\": \"q\", \"gold\": \"a\"}\n");
    cJSON *a = fingerprint_of("[{\"name\": \"x\", \"provider\": \"p\", \"model\": \"m1\"}]");
    cJSON *same = fingerprint_of("[{\"name\": \"x\", \"provider\": \"p\", \"model\": \"m1\"}]");
    cJSON *model = fingerprint_of("[{\"name\": \"x\", \"provider\": \"p\", \"model\": \"m2\"}]");
    cJSON *temp = fingerprint_of("[{\"name\": \"x\", \"provider\": \"p\", \"model\": \"m1\", \"temperature\": 0.7}]");
    cJSON *more = fingerprint_of("[{\"name\": \"x\", \"provider\": \"p\", \"model\": \"m1\"}, "
                                 "{\"name\": \"y\", \"provider\": \"p\", \"model\": \"m1\"}]");
    char diff[600] = "";
    T_CHECK(fe_fingerprint_diff(a, same, diff, sizeof(diff)) == 0);
    T_CHECK_STR(cJSON_GetObjectItem(a, "sha256")->valuestring, cJSON_GetObjectItem(same, "sha256")->valuestring);
    T_CHECK(fe_fingerprint_diff(a, model, diff, sizeof(diff)) == 1);
    T_CHECK_STR(diff, "arms[0].model: 'm1' in the run, 'm2' in the config");
    T_CHECK(fe_fingerprint_diff(a, temp, diff, sizeof(diff)) == 1);
    T_CHECK_STR(diff, "arms[0].temperature: 'default' in the run, '0.7' in the config");
    T_CHECK(fe_fingerprint_diff(a, more, diff, sizeof(diff)) == 1);
    T_CHECK_STR(diff, "arms.count: '1' in the run, '2' in the config");
    T_CHECK(fe_fingerprint_diff(more, a, diff, sizeof(diff)) == 1);
    T_CHECK_STR(diff, "arms.count: '2' in the run, '1' in the config");
    cJSON_Delete(a);
    cJSON_Delete(same);
    cJSON_Delete(model);
    cJSON_Delete(temp);
    cJSON_Delete(more);
}

int main(void)
{
    snprintf(dir, sizeof(dir), "/tmp/fteval-test-journal-XXXXXX");
    if (!mkdtemp(dir))
        T_SKIP("cannot create a temporary directory");
    test_recover();
    test_lock();
    test_fingerprint();
    char cmd[256];
    snprintf(cmd, sizeof(cmd), "%s", dir);
    const char *names[] = {"a.jsonl", "a.quarantine.jsonl", ".lock", "c.json", "d.jsonl"};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        char p[256];
        snprintf(p, sizeof(p), "%s/%s", dir, names[i]);
        unlink(p);
    }
    rmdir(cmd);
    return T_DONE();
}
