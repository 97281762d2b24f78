/* outputs.c — see outputs.h. */
#include "harness/cli/outputs.h"

#include <string.h>

#include <cjson/cJSON.h>

#include "harness/analysis/decision.h"
#include "harness/analysis/history.h"
#include "harness/analysis/integrity.h"
#include "harness/analysis/summary.h"
#include "harness/base/log.h"
#include "harness/report/report.h"
#include "harness/rundir/rundir.h"

/* summary.json = the summary (analysis/summary.c) plus the launch decision built from it. */
static enum fe_status fe_summary_write(struct fe_run *run, const struct fe_stats_opts *opts,
                                       struct fe_err *err)
{
    cJSON *s = fe_summary_build(run, opts, err);
    if (!s)
        return err->code ? err->code : FE_EINTERNAL;
    cJSON *decision = fe_decision_build(run, s, err);
    if (decision)
        cJSON_AddItemToObject(s, "decision", decision);
    fe_integrity_gate(run, s); /* incomplete or invalid evidence carries no verdict */
    return fe_summary_save(run, s, err);
}

enum fe_status fe_outputs_write(const char *dir, const struct fe_stats_opts *opts, bool print,
                                struct fe_err *err)
{
    struct fe_run *run = NULL;
    enum fe_status st = fe_run_load(dir, &run, err);
    if (st == FE_OK)
        st = fe_summary_write(run, opts, err);
    const cJSON *command = cJSON_GetObjectItemCaseSensitive(run ? run->manifest : NULL, "command");
    bool shard = cJSON_GetObjectItemCaseSensitive(run ? run->manifest : NULL, "shard") != NULL;
    if (st == FE_OK && cJSON_IsString(command) && strcmp(command->valuestring, "run") == 0 && !shard) {
        /* a shard is a part of a run: its merge goes in the trend file, the shard does not */
        struct fe_err herr = {0}; /* the trend file is a convenience: never fail the run on it */
        enum fe_status hst = fe_history_append(run, run->summary, &herr);
        if (hst == FE_EINVALID) /* --out outside results/<name>/: no history, by design */
            fe_info("history: %s", herr.msg);
        else if (hst != FE_OK)
            fe_warn("history: %s", herr.msg);
    }
    if (st == FE_OK)
        st = fe_report_write(run, err);
    if (st == FE_OK && print)
        fe_summary_print(run);
    fe_run_free(run);
    return st;
}

enum fe_status fe_outputs_refresh(const char *dir, struct fe_err *err)
{
    struct fe_run *run = NULL;
    enum fe_status st = fe_run_load(dir, &run, err);
    if (st == FE_OK)
        st = fe_summary_write(run, NULL, err);
    if (st == FE_OK)
        st = fe_report_write(run, err);
    fe_run_free(run);
    return st;
}
