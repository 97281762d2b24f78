/* test_runner.c — the runner's set-up and teardown (issue 11 §7): a set-up that fails part-way
 * (here: the second arm's journal cannot be opened) must close only what it opened, never fd 0. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness/run/config.h"
#include "harness/run/runner.h"
#include "harness/base/util.h"
#include "t.h"

static void put(const char *dir, const char *name, const char *text)
{
    char *path = fe_xasprintf("%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    if (f) {
        fputs(text, f);
        fclose(f);
    }
    free(path);
}

int main(void)
{
    /* make sure fd 0 is an open descriptor we can watch */
    int null_fd = open("/dev/null", O_RDONLY);
    T_CHECK(null_fd >= 0);
    if (null_fd != 0) {
        T_CHECK(dup2(null_fd, 0) == 0);
        close(null_fd);
    }
    char dir[] = "/tmp/fteval-runner-XXXXXX";
    T_CHECK(mkdtemp(dir) != NULL);
    put(dir, "data.jsonl", "{\"id\": \"a\", \"input\": \"x\", \"gold\": \"y\"}\n");
    put(dir, "pred.jsonl", "{\"id\": \"a\", \"prediction\": \"y\"}\n");
    put(dir, "c.json",
        "{\"name\": \"t\", \"dataset\": \"data.jsonl\", \"task\": {\"template\": \"{input}\", "
        "\"metrics\": [\"exact_match\"]}, \"providers\": {\"rp\": {\"type\": \"replay\", "
        "\"path\": \"pred.jsonl\"}}, \"arms\": [{\"name\": \"one\", \"provider\": \"rp\", "
        "\"model\": \"m\"}, {\"name\": \"two\", \"provider\": \"rp\", \"model\": \"m\"}, "
        "{\"name\": \"three\", \"provider\": \"rp\", \"model\": \"m\"}]}\n");
    char *cfg = fe_xasprintf("%s/c.json", dir);
    char *run = fe_xasprintf("%s/run", dir);
    char *blocker = fe_xasprintf("%s/run/two.jsonl", dir); /* a folder: cannot be opened */
    T_CHECK(fe_mkdir_p(blocker) == 0);

    struct fe_config *c = NULL;
    struct fe_err err = {0};
    T_CHECK(fe_config_load(cfg, NULL, &c, &err) == FE_OK);
    if (c) {
        struct fe_runner_opts o = {.run_dir = run, .concurrency = 2};
        struct fe_runner_result res;
        struct fe_err rerr = {0};
        enum fe_status st = fe_runner_run(c, &o, &res, &rerr);
        T_CHECK(st == FE_EIO);
        T_CHECK(strstr(rerr.msg, "two.jsonl") != NULL);
        T_CHECK(fcntl(0, F_GETFD) != -1); /* fd 0 is still open */
        fe_config_free(c);
    } else {
        fprintf(stderr, "config: %s\n", err.msg);
    }
    char *one = fe_xasprintf("%s/one.jsonl", run);
    unlink(one);
    rmdir(blocker);
    rmdir(run);
    const char *files[] = {"data.jsonl", "pred.jsonl", "c.json"};
    for (size_t i = 0; i < 3; i++) {
        char *p = fe_xasprintf("%s/%s", dir, files[i]);
        unlink(p);
        free(p);
    }
    rmdir(dir);
    free(one);
    free(cfg);
    free(run);
    free(blocker);
    return T_DONE();
}
