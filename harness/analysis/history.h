/* history.h — the per-config run history behind `fteval history` and the nightly trend.
 *
 * File: <results>/<name>/history.jsonl, the folder of a config's run directories, one JSON
 * object per line, appended at the end of every run (schema "fteval.history/1"):
 *   {"schema", "run_id", "name", "dir" (the run folder's name), "time" (the run's ended_at, else
 *    started_at), "recorded_at", "status", "dataset_sha256", "primary_metric", "metrics": [...],
 *    "arms": {"<arm>": {"model", "n", "n_errors",
 *                       "metrics": {"<m>": {"mean", "ci": [lo, hi] | null}},
 *                       "cost_per_inference_usd": x | null}}}
 * Lines are only ever appended; a re-recorded run (e.g. after --resume) appends again and
 * readers keep the last line per run_id. Fields are only ever added.
 */
#ifndef FE_HISTORY_H
#define FE_HISTORY_H

#include <cjson/cJSON.h>

#include "harness/base/err.h"
#include "harness/rundir/rundir.h"

/* The history file of the run directory dir whose config is called name: <parent>/history.jsonl
 * when dir sits in a folder called name (the results/<name>/<run> layout `run` creates, and
 * `--out results/<name>/RUN`), else NULL: a run written elsewhere with --out has no history, so
 * history.jsonl never lands in an unrelated folder (issue 11 §7). Newly allocated. */
char *fe_history_file_for_run(const char *dir, const char *name);

/* Appends one line for run to its history file (fe_history_file_for_run; created if absent), with
 * one write(2) on an O_APPEND descriptor so concurrent appenders do not interleave lines. A run
 * without a history home gives FE_EINVALID with err saying so (nothing written).
 * summary is the run's summary.json object (borrowed); NULL uses run->summary, and when that is
 * NULL too the means are computed from the records (CIs null). The run command calls this once
 * at the end of every run, after writing summary.json. Returns FE_OK or FE_EIO with err set. */
enum fe_status fe_history_append(const struct fe_run *run, const cJSON *summary,
                                 struct fe_err *err);

/* The history file for name_or_dir: a folder holding history.jsonl, a run directory (holding
 * manifest.json: fe_history_file_for_run, or DIR/history.jsonl, absent, when it has no history
 * home), or a config name looked up as results/NAME. Newly allocated, caller frees. */
char *fe_history_path(const char *name_or_dir);

/* Reads the history of name_or_dir (resolved as fe_history_path). Returns a newly allocated
 * JSON array (caller deletes) of the entries, one per run_id (the last line wins), in
 * chronological order ("time", then file order). A torn last line is dropped with a warning.
 * Returns NULL with err: FE_EIO when there is no history file, FE_EINVALID for a line that is
 * not a JSON object (names file and line). Used by `fteval history` and the report module. */
cJSON *fe_history_load(const char *name_or_dir, struct fe_err *err);

#endif
