/* rundir.h — reads a results directory (DESIGN §4) back into memory.
 *
 * Used by summary building, `report`, `compare` and `history`. Arms and metrics come from
 * manifest.json ("arms": [{"name", ...}], "metrics": [...]); records from <arm>.jsonl. A torn
 * last line (a crash mid-append) is dropped with a warning; for a repeated id the last record
 * wins (a resumed run may have re-recorded an example that failed). Records are then put in
 * dataset order (their "line", then id), whatever order the file holds them in, so everything
 * computed from a run is independent of completion order (issue 11 §7).
 */
#ifndef FE_RUNDIR_H
#define FE_RUNDIR_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

#include "harness/base/err.h"

struct fe_record {
    char *id;
    char *prediction;           /* "" for failed examples */
    bool ok;                    /* status == "ok" */
    char *error_kind;           /* NULL when ok */
    char *finish_reason;        /* may be NULL */
    double latency_ms;          /* NAN when not measured (offline arms: null in the record) */
    long line;                  /* dataset line of the example, -1 when not recorded */
    long attempts;
    bool has_usage;
    long prompt_tokens, completion_tokens, cached_tokens;
    bool has_cost;              /* false: unknown price (cost_usd null) */
    double cost_usd;
    bool cache_hit;
    double *scores;             /* one per run metric, in manifest order */
    cJSON *json;                /* the record's gold, cluster, model, refusal and error only */
};

struct fe_arm_run {
    char *name;
    char *model;                /* from the manifest, may be NULL */
    struct fe_record *records;  /* in dataset order (line, then id) */
    size_t n;
};

struct fe_run {
    char *dir;
    cJSON *manifest;
    cJSON *summary;             /* summary.json if present, else NULL */
    char **metrics;
    bool *metric_binary;
    size_t n_metrics;
    struct fe_arm_run *arms;
    size_t n_arms;
    void *reserved;             /* id lookup maps, private to rundir.c */
};

/* Loads dir. Returns FE_OK, or FE_EIO/FE_EINVALID with err naming the file and line. */
enum fe_status fe_run_load(const char *dir, struct fe_run **out, struct fe_err *err);
void fe_run_free(struct fe_run *run);   /* NULL is a no-op */
/* Index of arm called name, or -1. */
long fe_run_arm_index(const struct fe_run *run, const char *name);
/* Index of the record with id in arm, or -1 (linear hash lookup built on load). */
long fe_run_find_record(const struct fe_run *run, size_t arm, const char *id);

#endif
