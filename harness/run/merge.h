/* merge.h — `fteval merge OUT SHARD_DIR...`: the shards of one run (`run --shard I/N`) joined
 * into one run directory (docs/shards.md). Owner: run.
 *
 * fe_merge_shards checks everything before it creates anything, and refuses (FE_EINVALID, exit
 * 3, the message says why and names the directories) when:
 *   - a directory is not a shard of a `run` (no manifest.json, or no "shard" block);
 *   - the shards split differently (another N), evaluated another config (the config
 *     fingerprint's sha256 differs: the first differing field is named), other data (dataset
 *     sha256 or planned example count differ) or with other statistics settings ("stats");
 *   - they overlap: the same shard index twice, or one example id recorded in two shards;
 *   - a shard is itself incomplete (manifest status other than "complete"; the message gives
 *     its resume command), or holds a record of an example that is not planned or that hashes
 *     to another shard;
 *   - the union misses planned examples (absent shards, or lost records): the missing ids are
 *     listed, at most max_listed of them.
 * The planned examples are the first dataset.examples examples of the dataset file (the shards'
 * manifest path, or o->dataset), whose sha256 must be the shards'.
 *
 * Then it writes OUT (created; refused when it already holds a manifest.json) under the run
 * directory's exclusive lock (runguard.h), which *lock_fd keeps (the caller releases it with
 * fe_run_unlock after writing the summary and reports): every arm's <arm>.jsonl holds the
 * union of the shards' records, byte for byte, in dataset order (for an id recorded twice in
 * a resumed shard, the last record, as rundir.h reads it); manifest.json is the lowest shard's
 * with a new run_id, the earliest started_at, this host, no "shard" and no per-session fields,
 * and "merged_from": {"count", "hash", "shards": [{"index", "dir", "run_id", "host",
 * "started_at", "ended_at", "status", "examples", "last_session"}]} — status "complete".
 *
 * Memory: the planned ids (one copy, fe_strmap's) plus 8 bytes per example and arm (records are
 * copied by offset, line by line).
 */
#ifndef FE_MERGE_H
#define FE_MERGE_H

#include <stddef.h>

#include "harness/base/err.h"

struct fe_merge_opts {
    const char *out;                /* the merged run directory */
    const char *const *shard_dirs;  /* borrowed */
    size_t n_shards;
    const char *dataset;            /* NULL: the path the shards' manifests name */
    size_t max_listed;              /* missing ids named at most (0: 20) */
};

struct fe_merge_result {
    size_t examples;                /* planned examples (records per arm) */
    size_t arms;
    long shard_count;               /* N */
};

enum fe_status fe_merge_shards(const struct fe_merge_opts *o, struct fe_merge_result *res, int *lock_fd,
                               struct fe_err *err);

#endif
