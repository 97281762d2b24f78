/* cmd_outputs.c — see cmd_outputs.h. */
#include "harness/cmd_outputs.h"

#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "harness/decision.h"
#include "harness/history.h"
#include "harness/log.h"
#include "harness/report.h"
#include "harness/rundir.h"
#include "harness/summary.h"
#include "harness/util.h"

/* summary -> decision -> <dir>/summary.json; the object replaces run->summary. */
static enum fe_status write_summary(struct fe_run *run, const struct fe_stats_opts *opts,
                                    struct fe_err *err)
{
    cJSON *s = fe_summary_build(run, opts, err);
    if (!s)
        return err->code ? err->code : FE_EINTERNAL;
    cJSON *decision = fe_decision_build(run, s, err);
    if (decision)
        cJSON_AddItemToObject(s, "decision", decision);
    char *path = fe_xasprintf("%s/summary.json", run->dir);
    enum fe_status st = fe_write_json_file(path, s, err);
    free(path);
    cJSON_Delete(run->summary);
    run->summary = s;
    return st;
}

enum fe_status fe_outputs_write(const char *dir, const struct fe_stats_opts *opts, bool print,
                                struct fe_err *err)
{
    struct fe_run *run = NULL;
    enum fe_status st = fe_run_load(dir, &run, err);
    if (st == FE_OK)
        st = write_summary(run, opts, err);
    struct fe_manifest_view m;
    fe_manifest_view_parse(run ? run->manifest : NULL, &m);
    if (st == FE_OK && m.command && strcmp(m.command, "run") == 0) {
        struct fe_err herr = {0}; /* the trend file is a convenience: never fail the run on it */
        if (fe_history_append(run, run->summary, &herr) != FE_OK)
            fe_warn("history: %s", herr.msg);
    }
    if (st == FE_OK)
        st = fe_report_write(run, err);
    if (st == FE_OK && print)
        fe_summary_print(run);
    fe_run_free(run);
    return st;
}
