/* merge.c — see merge.h. */
#define _XOPEN_SOURCE 700 /* realpath, fseeko, getline */
#include "harness/run/merge.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "harness/base/buf.h"
#include "harness/base/jsonout.h"
#include "harness/base/log.h"
#include "harness/base/strmap.h"
#include "harness/base/util.h"
#include "harness/input/dataset.h"
#include "harness/input/shard.h"
#include "harness/run/manifest.h"
#include "harness/run/runguard.h"

struct fe_mshard {
    const char *dir;
    cJSON *manifest;
    long index, count;
};

/* Where the record of one planned example lives, 8 bytes per example and arm: 0 no record, else
 * (index into m->sh + 1) << FE_MREC_OFF_BITS | the line's offset in that shard's file. */
typedef uint64_t fe_mrec;
enum { FE_MREC_OFF_BITS = 40 }; /* shard files up to 1 TiB, 2^24 shards */
#define FE_MREC(shard, off) ((((uint64_t)(shard) + 1) << FE_MREC_OFF_BITS) | (uint64_t)(off))
#define FE_MREC_SHARD(r) ((long)((r) >> FE_MREC_OFF_BITS) - 1) /* -1: no record */
#define FE_MREC_OFF(r) ((r) & ((UINT64_C(1) << FE_MREC_OFF_BITS) - 1))

struct fe_merge {
    const struct fe_merge_opts *o;
    struct fe_mshard *sh;
    size_t n_sh;
    long count;
    const char **ids;      /* planned ids in dataset order (plan's keys: no id is held twice) */
    size_t n_plan;
    struct fe_strmap plan; /* id -> plan index */
    const char **arms;     /* borrowed from sh[0].manifest */
    size_t n_arms;
    fe_mrec **recs;        /* per arm, n_plan entries */
};

static const char *fe_mstr(const cJSON *o, const char *path1, const char *path2)
{
    const cJSON *v = fe_json_get(o, path1);
    return fe_json_str(path2 ? fe_json_get(v, path2) : v);
}

static double fe_mnum(const cJSON *o, const char *path1, const char *path2)
{
    const cJSON *v = fe_json_get(o, path1);
    double d;
    return fe_json_num(path2 ? fe_json_get(v, path2) : v, &d) ? d : -1;
}

/* Reads every shard's manifest: each must be a `run` with a "shard" block. */
static enum fe_status fe_merge_load(struct fe_merge *m, struct fe_err *err)
{
    m->sh = fe_xcalloc(m->o->n_shards, sizeof(*m->sh));
    for (size_t i = 0; i < m->o->n_shards; i++) {
        struct fe_mshard *s = &m->sh[m->n_sh++];
        s->dir = m->o->shard_dirs[i];
        char *path = fe_xasprintf("%s/manifest.json", s->dir);
        char *text = fe_read_file(path, 0, NULL);
        free(path);
        s->manifest = text ? cJSON_Parse(text) : NULL;
        free(text);
        const char *cmd = fe_mstr(s->manifest, "command", NULL);
        if (!s->manifest || !cmd || strcmp(cmd, "run") != 0)
            return fe_err_set(err, FE_EINVALID, "%s: not the directory of a run (no readable manifest.json of "
                              "`fteval run`)", s->dir);
        double idx = fe_mnum(s->manifest, "shard", "index"), cnt = fe_mnum(s->manifest, "shard", "count");
        if (cnt < 1 || idx < 0 || idx >= cnt)
            return fe_err_set(err, FE_EINVALID, "%s: not a shard: its manifest has no \"shard\" block (it was "
                              "not run with --shard I/N)", s->dir);
        s->index = (long)idx;
        s->count = (long)cnt;
    }
    return FE_OK;
}

/* The first field of the config fingerprint whose value differs, described into out. */
static void fe_merge_fp_diff(const struct fe_mshard *a, const struct fe_mshard *b, char *out, size_t cap)
{
    const cJSON *fa = fe_json_get(fe_json_get(a->manifest, "fingerprint"), "fields");
    const cJSON *fb = fe_json_get(fe_json_get(b->manifest, "fingerprint"), "fields");
    const cJSON *f;
    snprintf(out, cap, "fingerprint sha256 differs");
    cJSON_ArrayForEach(f, fa) {
        const char *vb = fe_json_str(fe_json_get(fb, f->string)), *va = fe_json_str(f);
        if (!vb || !va || strcmp(va, vb) != 0) {
            snprintf(out, cap, "%s: '%s' in %s, '%s' in %s", f->string, va ? va : "absent", a->dir, vb ? vb : "absent",
                     b->dir);
            return;
        }
    }
    cJSON_ArrayForEach(f, fb) {
        if (!fe_json_get(fa, f->string)) {
            snprintf(out, cap, "%s: absent in %s, '%s' in %s", f->string, a->dir, fe_json_str(f) ? fe_json_str(f) : "?",
                     b->dir);
            return;
        }
    }
}

/* Every shard must split the same run the same way: N, config fingerprint, dataset, plan size and
 * statistics settings equal to the first shard's. */
static enum fe_status fe_merge_check_same(struct fe_merge *m, struct fe_err *err)
{
    const struct fe_mshard *r = &m->sh[0];
    const char *rfp = fe_mstr(r->manifest, "fingerprint", "sha256");
    const char *rsha = fe_mstr(r->manifest, "dataset", "sha256");
    if (!rfp)
        return fe_err_set(err, FE_EINVALID, "%s: its manifest has no config fingerprint: cannot check that the shards "
                          "ran the same config", r->dir);
    m->count = r->count;
    for (size_t i = 1; i < m->n_sh; i++) {
        const struct fe_mshard *s = &m->sh[i];
        const char *fp = fe_mstr(s->manifest, "fingerprint", "sha256");
        const char *sha = fe_mstr(s->manifest, "dataset", "sha256");
        if (s->count != r->count)
            return fe_err_set(err, FE_EINVALID, "%s is shard %ld/%ld but %s is shard %ld/%ld: the shards split the "
                              "run in different numbers of parts", s->dir, s->index, s->count, r->dir, r->index,
                              r->count);
        if (!fp || strcmp(fp, rfp) != 0) {
            char diff[700];
            fe_merge_fp_diff(r, s, diff, sizeof(diff));
            return fe_err_set(err, FE_EINVALID, "%s: config fingerprint differs from %s's (%s): the shards ran "
                              "different configs", s->dir, r->dir, diff);
        }
        if (!sha || !rsha || strcmp(sha, rsha) != 0)
            return fe_err_set(err, FE_EINVALID, "%s: dataset sha256 %s differs from %s's %s: the shards evaluated "
                              "different data", s->dir, sha ? sha : "(none)", r->dir, rsha ? rsha : "(none)");
        if (fe_mnum(s->manifest, "dataset", "examples") != fe_mnum(r->manifest, "dataset", "examples"))
            return fe_err_set(err, FE_EINVALID, "%s plans %.0f examples but %s plans %.0f (another --limit): the "
                              "shards split different runs", s->dir, fe_mnum(s->manifest, "dataset", "examples"),
                              r->dir, fe_mnum(r->manifest, "dataset", "examples"));
        if (!cJSON_Compare(fe_json_get(s->manifest, "stats"), fe_json_get(r->manifest, "stats"), true))
            return fe_err_set(err, FE_EINVALID, "%s: statistics settings (stats: seed, resamples, alpha, correction) "
                              "differ from %s's: run the shards with the same settings", s->dir, r->dir);
    }
    return FE_OK;
}

/* The same index twice overlaps; a shard that did not finish cannot be merged. */
static enum fe_status fe_merge_check_shards(struct fe_merge *m, struct fe_err *err)
{
    for (size_t i = 0; i < m->n_sh; i++) {
        const struct fe_mshard *s = &m->sh[i];
        for (size_t k = 0; k < i; k++)
            if (m->sh[k].index == s->index)
                return fe_err_set(err, FE_EINVALID, "%s and %s are both shard %ld/%ld: overlapping shards (each "
                                  "shard once)", m->sh[k].dir, s->dir, s->index, s->count);
    }
    for (size_t i = 0; i < m->n_sh; i++) {
        const struct fe_mshard *s = &m->sh[i];
        const char *status = fe_mstr(s->manifest, "status", NULL);
        if (!status || strcmp(status, "complete") != 0) {
            const char *cfg = fe_mstr(s->manifest, "config_path", NULL);
            return fe_err_set(err, FE_EINVALID, "%s: shard %ld/%ld is incomplete (status '%s'): finish it with: "
                              "fteval run %s --shard %ld/%ld --resume --out %s", s->dir, s->index, s->count,
                              status ? status : "none", cfg ? cfg : "CONFIG", s->index, s->count, s->dir);
        }
    }
    return FE_OK;
}

/* The planned ids: the first dataset.examples examples of the dataset the shards ran on. */
static enum fe_status fe_merge_plan(struct fe_merge *m, struct fe_err *err)
{
    const cJSON *man = m->sh[0].manifest;
    const char *path = m->o->dataset ? m->o->dataset : fe_mstr(man, "dataset", "path");
    const char *want = fe_mstr(man, "dataset", "sha256");
    double planned = fe_mnum(man, "dataset", "examples");
    char sha[65];
    if (!path || planned < 0)
        return fe_err_set(err, FE_EINVALID, "%s: its manifest names no dataset", m->sh[0].dir);
    if (fe_sha256_file(path, sha) != 0)
        return fe_err_set(err, FE_EINVALID, "%s: cannot read the shards' dataset: %s (pass it with --dataset FILE)",
                          path, strerror(errno));
    if (!want || strcmp(sha, want) != 0)
        return fe_err_set(err, FE_EINVALID, "%s: sha256 %s is not the shards' dataset (%s): pass the file they ran "
                          "on with --dataset FILE", path, sha, want ? want : "none");
    struct fe_dataset_reader *rd;
    struct fe_dataset_opts opts; /* read as the shards read it: the config's format and mapping */
    fe_dataset_opts_from_json(fe_json_get(m->sh[0].manifest, "config"), &opts);
    enum fe_status st = fe_dataset_open_with(&rd, path, &opts, err);
    if (st != FE_OK)
        return st;
    struct fe_example ex;
    int got = 0;
    while (m->n_plan < (size_t)planned && (got = fe_dataset_next(rd, &ex, err)) == 1) {
        fe_strmap_put(&m->plan, ex.id, m->n_plan++); /* the reader refuses a duplicate id */
        fe_example_release(&ex);
    }
    fe_dataset_close(rd);
    if (got < 0)
        return err->code;
    m->ids = fe_xcalloc(m->n_plan ? m->n_plan : 1, sizeof(*m->ids));
    const char *id;
    size_t at;
    for (size_t pos = 0; fe_strmap_next(&m->plan, &pos, &id, &at);) /* insertion order: plan order */
        m->ids[at] = id;
    if (m->n_plan != (size_t)planned)
        return fe_err_set(err, FE_EINVALID, "%s: holds %zu examples, the shards planned %.0f", path, m->n_plan, planned);
    return FE_OK;
}

/* Appends the ids of the plan indexes in idx[0..min(n, cap)) to b, then how many more of n. */
static void fe_merge_list(struct fe_buf *b, const struct fe_merge *m, const size_t *idx, size_t n, size_t cap)
{
    for (size_t i = 0; i < n && i < cap; i++)
        fe_buf_addf(b, "%s'%s'", i ? ", " : "", m->ids[idx[i]]);
    if (n > cap)
        fe_buf_addf(b, " and %zu more", n - cap);
}

static size_t fe_merge_cap(const struct fe_merge *m)
{
    return m->o->max_listed ? m->o->max_listed : 20;
}

/* Shard indexes nobody brought: the union misses their examples (named). */
static enum fe_status fe_merge_check_absent(struct fe_merge *m, struct fe_err *err)
{
    bool *have = fe_xcalloc((size_t)m->count, sizeof(*have));
    for (size_t i = 0; i < m->n_sh; i++)
        have[m->sh[i].index] = true;
    struct fe_buf shards;
    fe_buf_init(&shards, 0);
    size_t n_absent = 0;
    for (long k = 0; k < m->count; k++)
        if (!have[k])
            fe_buf_addf(&shards, "%s%ld", n_absent++ ? ", " : "", k);
    enum fe_status st = FE_OK;
    if (n_absent) {
        size_t cap = fe_merge_cap(m), *miss = fe_xcalloc(cap, sizeof(*miss)), n = 0;
        for (size_t i = 0; i < m->n_plan; i++)
            if (!have[fe_shard_of(m->ids[i], m->count)] && n++ < cap) /* the first cap are named */
                miss[n - 1] = i;
        struct fe_buf b;
        fe_buf_init(&b, 0);
        fe_merge_list(&b, m, miss, n, fe_merge_cap(m));
        st = fe_err_set(err, FE_EINVALID, "the shards miss %zu of %zu planned examples: shard(s) %s of %ld not given; "
                        "missing ids: %s", n, m->n_plan, fe_buf_str(&shards), m->count, n ? fe_buf_str(&b) : "none");
        fe_buf_release(&b);
        free(miss);
    }
    fe_buf_release(&shards);
    free(have);
    return st;
}

/* Indexes one shard's records of one arm into recs (by plan index). A torn last line (a crash
 * mid-append) is dropped, as rundir.h does; any other unreadable line is refused. */
static enum fe_status fe_merge_index_file(struct fe_merge *m, size_t s, const char *arm, fe_mrec *recs,
                                          struct fe_err *err)
{
    const struct fe_mshard *sh = &m->sh[s];
    char *path = fe_xasprintf("%s/%s.jsonl", sh->dir, arm);
    FILE *f = fopen(path, "rb");
    enum fe_status st = FE_OK;
    if (!f) {
        st = errno == ENOENT ? FE_OK : fe_err_set(err, FE_EIO, "%s: cannot read: %s", path, strerror(errno));
        free(path);
        return st; /* no file: no record (the union check names what is missing) */
    }
    char *line = NULL;
    size_t cap = 0, lineno = 0;
    uint64_t off = 0;
    ssize_t got;
    while (st == FE_OK && (got = getline(&line, &cap, f)) > 0) {
        lineno++;
        size_t len = (size_t)got;
        bool torn = line[len - 1] != '\n';
        len -= !torn;
        cJSON *rec = cJSON_ParseWithLength(line, len);
        const char *id = fe_json_str(fe_json_get(rec, "id"));
        size_t at;
        if (!id && torn) {
            fe_warn("%s:%zu: dropping an incomplete last line", path, lineno);
        } else if (!id) {
            st = fe_err_set(err, FE_EINVALID, "%s:%zu: not a result record (no \"id\")", path, lineno);
        } else if (!fe_strmap_get(&m->plan, id, &at)) {
            st = fe_err_set(err, FE_EINVALID, "%s:%zu: example '%s' is not among the %zu planned examples of the "
                            "dataset", path, lineno, id, m->n_plan);
        } else if (FE_MREC_SHARD(recs[at]) >= 0 && (size_t)FE_MREC_SHARD(recs[at]) != s) {
            st = fe_err_set(err, FE_EINVALID, "example '%s' (arm '%s') is in two shards: %s and %s: overlapping shards",
                            id, arm, m->sh[FE_MREC_SHARD(recs[at])].dir, sh->dir);
        } else if (off >> FE_MREC_OFF_BITS) {
            st = fe_err_set(err, FE_EINVALID, "%s:%zu: the file is larger than merge reads (1 TiB)", path, lineno);
        } else { /* a resumed shard may hold an id twice: the last record wins */
            recs[at] = FE_MREC(s, off);
        }
        cJSON_Delete(rec);
        off += (uint64_t)got;
    }
    if (st == FE_OK && ferror(f))
        st = fe_err_set(err, FE_EIO, "%s: read error", path);
    free(line);
    fclose(f);
    free(path);
    return st;
}

/* A record of an example that hashes to another shard (checked once every shard is read, so a
 * record in two shards is reported as the overlap it is). */
static enum fe_status fe_merge_check_owner(const struct fe_merge *m, size_t k, struct fe_err *err)
{
    for (size_t i = 0; i < m->n_plan; i++) {
        long s = FE_MREC_SHARD(m->recs[k][i]);
        if (s < 0)
            continue;
        const struct fe_mshard *sh = &m->sh[s];
        long owner = fe_shard_of(m->ids[i], m->count);
        if (owner != sh->index)
            return fe_err_set(err, FE_EINVALID, "%s/%s.jsonl: example '%s' belongs to shard %ld/%ld, not to this "
                              "shard %ld/%ld", sh->dir, m->arms[k], m->ids[i], owner, m->count, sh->index, m->count);
    }
    return FE_OK;
}

/* Indexes every arm across the shards; refuses when an arm's union misses planned examples. */
static enum fe_status fe_merge_index(struct fe_merge *m, struct fe_err *err)
{
    const cJSON *a;
    cJSON_ArrayForEach(a, fe_json_get(m->sh[0].manifest, "arms")) {
        const char *name = fe_mstr(a, "name", NULL);
        if (name) {
            m->arms = fe_xreallocarray(m->arms, m->n_arms + 1, sizeof(*m->arms));
            m->arms[m->n_arms++] = name;
        }
    }
    if (!m->n_arms)
        return fe_err_set(err, FE_EINVALID, "%s: its manifest lists no arm", m->sh[0].dir);
    m->recs = fe_xcalloc(m->n_arms, sizeof(*m->recs));
    size_t cap = fe_merge_cap(m), *miss = fe_xcalloc(cap, sizeof(*miss)); /* the first cap missing are named */
    enum fe_status st = FE_OK;
    for (size_t k = 0; k < m->n_arms && st == FE_OK; k++) {
        fe_mrec *recs = m->recs[k] = fe_xcalloc(m->n_plan ? m->n_plan : 1, sizeof(*recs)); /* 0: no record */
        for (size_t s = 0; s < m->n_sh && st == FE_OK; s++)
            st = fe_merge_index_file(m, s, m->arms[k], recs, err);
        if (st == FE_OK)
            st = fe_merge_check_owner(m, k, err);
        size_t n = 0;
        for (size_t i = 0; i < m->n_plan && st == FE_OK; i++)
            if (FE_MREC_SHARD(recs[i]) < 0 && n++ < cap)
                miss[n - 1] = i;
        if (n) {
            struct fe_buf b;
            fe_buf_init(&b, 0);
            fe_merge_list(&b, m, miss, n, fe_merge_cap(m));
            st = fe_err_set(err, FE_EINVALID, "arm '%s': the shards' records miss %zu of %zu planned examples: %s",
                            m->arms[k], n, m->n_plan, fe_buf_str(&b));
            fe_buf_release(&b);
        }
    }
    free(miss);
    return st;
}

/* Writes OUT/<arm>.jsonl: the records in dataset order, copied byte for byte (temporary file,
 * fsync, rename). */
static enum fe_status fe_merge_write_arm(const struct fe_merge *m, size_t k, struct fe_err *err)
{
    char *path = fe_xasprintf("%s/%s.jsonl", m->o->out, m->arms[k]);
    char *tmp = fe_xasprintf("%s.tmp", path);
    FILE **in = fe_xcalloc(m->n_sh, sizeof(*in));
    for (size_t s = 0; s < m->n_sh; s++) {
        char *src = fe_xasprintf("%s/%s.jsonl", m->sh[s].dir, m->arms[k]);
        in[s] = fopen(src, "rb");
        free(src);
    }
    enum fe_status st = FE_OK;
    FILE *out = fopen(tmp, "wb");
    if (!out)
        st = fe_err_set(err, FE_EIO, "%s: cannot create: %s", tmp, strerror(errno));
    char *line = NULL;
    size_t line_cap = 0;
    for (size_t i = 0; i < m->n_plan && st == FE_OK; i++) { /* the line at the record's offset */
        long s = FE_MREC_SHARD(m->recs[k][i]);
        FILE *f = in[s];
        ssize_t got = f && fseeko(f, (off_t)FE_MREC_OFF(m->recs[k][i]), SEEK_SET) == 0 ? getline(&line, &line_cap, f)
                                                                                     : -1;
        if (got <= 0)
            st = fe_err_set(err, FE_EIO, "%s/%s.jsonl: the file changed while merging", m->sh[s].dir, m->arms[k]);
        else if (fwrite(line, 1, (size_t)got, out) != (size_t)got ||
                 (line[got - 1] != '\n' && fputc('\n', out) == EOF)) /* a torn last line gets its newline */
            st = fe_err_set(err, FE_EIO, "%s: cannot write: %s", tmp, strerror(errno));
    }
    free(line);
    if (out && (fflush(out) != 0 || fsync(fileno(out)) != 0) && st == FE_OK)
        st = fe_err_set(err, FE_EIO, "%s: cannot write: %s", tmp, strerror(errno));
    if (out && fclose(out) != 0 && st == FE_OK)
        st = fe_err_set(err, FE_EIO, "%s: cannot write: %s", tmp, strerror(errno));
    if (st == FE_OK && rename(tmp, path) != 0)
        st = fe_err_set(err, FE_EIO, "%s: cannot rename into place: %s", path, strerror(errno));
    if (st == FE_OK)
        fe_fsync_parent_dir(path);
    else
        unlink(tmp);
    for (size_t s = 0; s < m->n_sh; s++)
        if (in[s])
            fclose(in[s]);
    free(in);
    free(tmp);
    free(path);
    return st;
}

/* The merged run's manifest: the lowest shard's, made the manifest of the whole run. */
static cJSON *fe_merge_manifest(const struct fe_merge *m)
{
    size_t low = 0;
    const char *started = NULL;
    for (size_t i = 0; i < m->n_sh; i++) {
        if (m->sh[i].index < m->sh[low].index)
            low = i;
        const char *t = fe_mstr(m->sh[i].manifest, "started_at", NULL);
        if (t && (!started || strcmp(t, started) < 0))
            started = t;
    }
    cJSON *man = cJSON_Duplicate(m->sh[low].manifest, true);
    const char *drop[] = {"shard", "resumed_at", "last_session", "run_id", "started_at", "host"};
    for (size_t i = 0; i < FE_ARRAY_LEN(drop); i++)
        cJSON_DeleteItemFromObjectCaseSensitive(man, drop[i]);
    char run_id[32];
    fe_new_run_id(run_id);
    cJSON *fresh = fe_manifest_new("run", "", run_id); /* run_id, started_at, host of this merge */
    cJSON_AddStringToObject(man, "run_id", run_id);
    cJSON_AddStringToObject(man, "started_at", started ? started : fe_mstr(fresh, "started_at", NULL));
    cJSON_AddStringToObject(man, "host", fe_mstr(fresh, "host", NULL));
    cJSON_Delete(fresh);
    cJSON *from = cJSON_AddObjectToObject(man, "merged_from");
    cJSON_AddNumberToObject(from, "count", (double)m->count);
    cJSON_AddStringToObject(from, "hash", "fnv1a64(id) mod count");
    cJSON *list = cJSON_AddArrayToObject(from, "shards");
    for (long k = 0; k < m->count; k++) {
        for (size_t i = 0; i < m->n_sh; i++) {
            const struct fe_mshard *s = &m->sh[i];
            if (s->index != k)
                continue;
            cJSON *o = cJSON_CreateObject();
            cJSON_AddNumberToObject(o, "index", (double)s->index);
            char *abs = realpath(s->dir, NULL);
            cJSON_AddStringToObject(o, "dir", abs ? abs : s->dir);
            free(abs);
            const char *keys[] = {"run_id", "host", "started_at", "ended_at", "status"};
            for (size_t f = 0; f < FE_ARRAY_LEN(keys); f++) {
                const char *v = fe_mstr(s->manifest, keys[f], NULL);
                cJSON_AddItemToObject(o, keys[f], v ? cJSON_CreateString(v) : cJSON_CreateNull());
            }
            cJSON_AddNumberToObject(o, "examples", fe_mnum(s->manifest, "shard", "examples"));
            const cJSON *ls = fe_json_get(s->manifest, "last_session");
            cJSON_AddItemToObject(o, "last_session", ls ? cJSON_Duplicate(ls, true) : cJSON_CreateNull());
            cJSON_AddItemToArray(list, o);
        }
    }
    return man;
}

/* Creates OUT under its lock and writes the arms and the manifest. */
static enum fe_status fe_merge_write(const struct fe_merge *m, int *lock_fd, struct fe_err *err)
{
    const char *out = m->o->out;
    if (fe_mkdir_p(out) != 0)
        return fe_err_set(err, FE_EIO, "%s: cannot create: %s", out, strerror(errno));
    enum fe_status st = fe_run_lock(out, lock_fd, err);
    if (st != FE_OK)
        return st;
    char *mpath = fe_xasprintf("%s/manifest.json", out);
    struct stat sb;
    bool exists = stat(mpath, &sb) == 0;
    free(mpath);
    if (exists)
        return fe_err_set(err, FE_EINVALID, "%s: already holds a run (manifest.json): merge into a new directory",
                          out);
    cJSON *man = fe_merge_manifest(m);
    st = fe_manifest_save(man, out, "running", err);
    for (size_t k = 0; k < m->n_arms && st == FE_OK; k++)
        st = fe_merge_write_arm(m, k, err);
    if (st == FE_OK)
        st = fe_manifest_save(man, out, "complete", err);
    cJSON_Delete(man);
    return st;
}

enum fe_status fe_merge_shards(const struct fe_merge_opts *o, struct fe_merge_result *res, int *lock_fd,
                               struct fe_err *err)
{
    struct fe_merge m = {.o = o};
    fe_strmap_init(&m.plan);
    memset(res, 0, sizeof(*res));
    *lock_fd = -1;
    enum fe_status st = o->n_shards ? FE_OK : fe_err_set(err, FE_EINVALID, "no shard directory given");
    if (st == FE_OK)
        st = fe_merge_load(&m, err);
    if (st == FE_OK)
        st = fe_merge_check_same(&m, err);
    if (st == FE_OK)
        st = fe_merge_check_shards(&m, err);
    if (st == FE_OK)
        st = fe_merge_plan(&m, err);
    if (st == FE_OK)
        st = fe_merge_check_absent(&m, err);
    if (st == FE_OK)
        st = fe_merge_index(&m, err);
    if (st == FE_OK)
        st = fe_merge_write(&m, lock_fd, err);
    if (st == FE_OK)
        *res = (struct fe_merge_result){.examples = m.n_plan, .arms = m.n_arms, .shard_count = m.count};
    for (size_t i = 0; i < m.n_sh; i++)
        cJSON_Delete(m.sh[i].manifest);
    free(m.sh);
    free(m.ids);
    fe_strmap_release(&m.plan);
    for (size_t k = 0; k < m.n_arms && m.recs; k++)
        free(m.recs[k]);
    free(m.recs);
    free(m.arms);
    return st;
}
