/* manifest.h — manifest.json of a results directory (docs/results-format.md). */
#ifndef FE_MANIFEST_H
#define FE_MANIFEST_H

#include <cjson/cJSON.h>

#include "harness/run/config.h"
#include "harness/base/err.h"

/* A new manifest with the fields every command shares: schema, fteval_version, command, run_id,
 * name, status "running", started_at, host. Caller deletes. */
cJSON *fe_manifest_new(const char *command, const char *name, const char *run_id);
/* Adds the config-derived fields: config (resolved, secrets removed), config_path, metrics,
 * primary_metric, baseline/candidate arms, arms with models, prompt hashes and prices, stats. */
void fe_manifest_add_config(cJSON *m, const struct fe_config *c);
/* Adds "dataset": {path, lines, examples, sha256}. */
void fe_manifest_set_dataset(cJSON *m, const char *path, size_t lines, size_t examples, const char *sha256);
/* Adds "finetune_jobs" (resolved jobs) and, for the candidate, training.trained_tokens. */
void fe_manifest_add_finetune_jobs(cJSON *m, const struct fe_config *c);
/* Sets status and ended_at (when status is not "running") and writes <dir>/manifest.json. */
enum fe_status fe_manifest_save(cJSON *m, const char *dir, const char *status, struct fe_err *err);
/* A fresh run id: UTC time plus 4 random hex digits ("20261125T050102Z-3f2a"). */
void fe_new_run_id(char out[32]);

#endif
