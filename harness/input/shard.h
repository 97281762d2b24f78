/* shard.h — which examples a shard of a run evaluates (`fteval run --shard I/N`, docs/shards.md).
 *
 * An example belongs to shard fe_shard_of(id, N) = FNV-1a-64(id bytes) mod N: a stable hash of
 * the id string alone (offset basis 14695981039346656037, prime 1099511628211, over the UTF-8
 * bytes of the id, no terminator), so the split is the same on every machine, every fteval
 * version and every order of the dataset's lines, and every arm of an example lands in the same
 * shard (pairing stays inside a shard). The shards of a run partition its planned examples.
 *
 * A spec is "I/N" (0 <= I < N, 1 <= N <= FE_SHARD_MAX) or "auto/N": the index then comes from
 * JOB_COMPLETION_INDEX (Kubernetes Indexed Job) or, when that is unset, SLURM_ARRAY_TASK_ID
 * (Slurm job array; use --array=0-(N-1)). Both set to different values, neither set, a value that
 * is not an integer or one outside 0..N-1 is an error.
 */
#ifndef FE_SHARD_H
#define FE_SHARD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum { FE_SHARD_MAX = 100000 };

struct fe_shard {
    long index;         /* 0..count-1 */
    long count;         /* 0: not sharded (every example) */
    const char *source; /* where index came from: "argument", "JOB_COMPLETION_INDEX",
                         * "SLURM_ARRAY_TASK_ID" (static strings) */
};

/* FNV-1a 64 of the NUL-terminated id. */
uint64_t fe_shard_hash(const char *id);
/* The shard of id among count (count >= 1). */
long fe_shard_of(const char *id, long count);
/* True when s is not sharded or id belongs to shard s->index. s may be NULL. */
bool fe_shard_mine(const struct fe_shard *s, const char *id);

/* Parses spec into *out (environment read for "auto/N"). Returns true, or false with a
 * one-line reason in why ("expected I/N or auto/N, got 'x'"). */
bool fe_shard_parse(const char *spec, struct fe_shard *out, char *why, size_t why_size);

#endif
