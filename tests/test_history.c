/* test_history.c — where a run's history lives and reading an empty history (issue 11 §7). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness/analysis/history.h"
#include "harness/base/util.h"
#include "t.h"

static void put(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    if (f) {
        fputs(text, f);
        fclose(f);
    }
}

int main(void)
{
    char root[] = "/tmp/fteval-history-XXXXXX";
    T_CHECK(mkdtemp(root) != NULL);

    /* the home of a run: results/<name>/<run> -> results/<name>/history.jsonl */
    char *run = fe_xasprintf("%s/results/demo/r1", root);
    T_CHECK(fe_mkdir_p(run) == 0);
    char *h = fe_history_file_for_run(run, "demo");
    char *want = fe_xasprintf("%s/results/demo/history.jsonl", root);
    T_CHECK_STR(h, want);
    free(h);
    free(want);
    /* --out elsewhere: the parent is not the config's folder -> no history there */
    char *other = fe_xasprintf("%s/elsewhere/r2", root);
    T_CHECK(fe_mkdir_p(other) == 0);
    T_CHECK(fe_history_file_for_run(other, "demo") == NULL);
    T_CHECK(fe_history_file_for_run(other, NULL) == NULL);
    /* a folder merely ending in the name is not it ("xdemo" is not "demo") */
    char *near = fe_xasprintf("%s/xdemo/r3", root);
    T_CHECK(fe_mkdir_p(near) == 0);
    T_CHECK(fe_history_file_for_run(near, "demo") == NULL);

    /* fe_history_path on a run directory without a home does not point at the parent */
    char *man = fe_xasprintf("%s/manifest.json", other);
    put(man, "{\"name\": \"demo\", \"run_id\": \"r2\"}\n");
    char *p = fe_history_path(other);
    char *parent_file = fe_xasprintf("%s/elsewhere/history.jsonl", root);
    T_CHECK(p && strcmp(p, parent_file) != 0);
    free(p);

    /* an empty history (no entries) loads as an empty array: no qsort(NULL, 0) (UBSan) */
    char *hdir = fe_xasprintf("%s/results/demo", root);
    char *hfile = fe_xasprintf("%s/history.jsonl", hdir);
    put(hfile, "\n\n");
    struct fe_err err = {0};
    cJSON *hist = fe_history_load(hdir, &err);
    T_CHECK(hist != NULL && cJSON_GetArraySize(hist) == 0);
    cJSON_Delete(hist);

    unlink(hfile);
    unlink(man);
    char *cleanup[] = {run, hdir, other, near};
    for (size_t i = 0; i < 4; i++)
        rmdir(cleanup[i]);
    char *r1 = fe_xasprintf("%s/results", root), *r2 = fe_xasprintf("%s/elsewhere", root),
         *r3 = fe_xasprintf("%s/xdemo", root);
    rmdir(r1);
    rmdir(r2);
    rmdir(r3);
    rmdir(root);
    free(r1);
    free(r2);
    free(r3);
    free(hfile);
    free(hdir);
    free(man);
    free(parent_file);
    free(run);
    free(other);
    free(near);
    return T_DONE();
}
