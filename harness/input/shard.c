/* shard.c — see shard.h. */
#include "harness/input/shard.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

uint64_t fe_shard_hash(const char *id)
{
    uint64_t h = 14695981039346656037ull;
    for (const unsigned char *p = (const unsigned char *)id; *p; p++) {
        h ^= *p;
        h *= 1099511628211ull;
    }
    return h;
}

long fe_shard_of(const char *id, long count)
{
    return (long)(fe_shard_hash(id) % (uint64_t)count);
}

bool fe_shard_mine(const struct fe_shard *s, const char *id)
{
    return !s || s->count <= 0 || fe_shard_of(id, s->count) == s->index;
}

/* A whole decimal number in [lo, hi]; false for anything else ("", "1x", "-0x1", overflow). */
static bool fe_shard_number(const char *s, long lo, long hi, long *out)
{
    if (!s || *s < '0' || *s > '9')
        return false;
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || *end || v < lo || v > hi)
        return false;
    *out = v;
    return true;
}

/* The index of an "auto/N" shard from the environment. */
static bool fe_shard_from_env(struct fe_shard *out, char *why, size_t why_size)
{
    static const char *const vars[] = {"JOB_COMPLETION_INDEX", "SLURM_ARRAY_TASK_ID"};
    const char *found = NULL, *value = NULL;
    for (size_t i = 0; i < sizeof(vars) / sizeof(vars[0]); i++) {
        const char *v = getenv(vars[i]);
        if (!v || !*v)
            continue;
        if (found && strcmp(v, value) != 0) {
            snprintf(why, why_size, "--shard auto/%ld: %s=%s and %s=%s disagree", out->count, found, value,
                     vars[i], v);
            return false;
        }
        if (!found) {
            found = vars[i];
            value = v;
        }
    }
    if (!found) {
        snprintf(why, why_size, "--shard auto/%ld: neither JOB_COMPLETION_INDEX (Kubernetes Indexed Job) nor "
                 "SLURM_ARRAY_TASK_ID (Slurm job array) is set; give the index: --shard I/%ld",
                 out->count, out->count);
        return false;
    }
    if (!fe_shard_number(value, 0, out->count - 1, &out->index)) {
        snprintf(why, why_size, "--shard auto/%ld: %s='%s' is not a shard index in 0..%ld%s", out->count, found,
                 value, out->count - 1,
                 strcmp(found, "SLURM_ARRAY_TASK_ID") == 0 ? " (submit the array as --array=0-N-1)" : "");
        return false;
    }
    out->source = found;
    return true;
}

bool fe_shard_parse(const char *spec, struct fe_shard *out, char *why, size_t why_size)
{
    memset(out, 0, sizeof(*out));
    const char *slash = spec ? strchr(spec, '/') : NULL;
    if (!slash || strchr(slash + 1, '/')) {
        snprintf(why, why_size, "invalid value '%s' for '--shard': expected I/N or auto/N", spec ? spec : "");
        return false;
    }
    if (!fe_shard_number(slash + 1, 1, FE_SHARD_MAX, &out->count)) {
        snprintf(why, why_size, "invalid value '%s' for '--shard': N must be an integer in 1..%d", spec,
                 (int)FE_SHARD_MAX);
        return false;
    }
    size_t ilen = (size_t)(slash - spec);
    if (ilen == 4 && strncmp(spec, "auto", 4) == 0)
        return fe_shard_from_env(out, why, why_size);
    char index[24];
    if (ilen == 0 || ilen >= sizeof(index)) {
        snprintf(why, why_size, "invalid value '%s' for '--shard': expected I/N or auto/N", spec);
        return false;
    }
    memcpy(index, spec, ilen);
    index[ilen] = '\0';
    if (!fe_shard_number(index, 0, out->count - 1, &out->index)) {
        snprintf(why, why_size, "invalid value '%s' for '--shard': I must be an integer in 0..%ld (or 'auto')",
                 spec, out->count - 1);
        return false;
    }
    out->source = "argument";
    return true;
}
