/* rundir.c — see rundir.h. */
#include "harness/rundir/rundir.h"
#include "harness/rundir/rundir_int.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "harness/base/jsonout.h"
#include "harness/base/log.h"
#include "harness/base/strmap.h"
#include "harness/base/util.h"
#include "metrics/metric.h"
#include "metrics/stats_judge.h"

static cJSON *fe_load_json(const char *path, bool required, struct fe_err *err)
{
    size_t len;
    char *text = fe_read_file(path, 0, &len);
    if (!text) {
        if (required)
            fe_err_set(err, FE_EIO, "%s: cannot read: %s", path, strerror(errno));
        return NULL;
    }
    cJSON *j = cJSON_ParseWithLength(text, len);
    free(text);
    if (!j)
        fe_err_set(err, FE_EINVALID, "%s: invalid JSON", path);
    return j;
}

static struct fe_run_private *fe_run_priv(const struct fe_run *run)
{
    return fe_run_priv_of(run);
}

/* The index + 1 of the run's copy of s (NULL: 0); it lives until fe_run_free. */
static uint32_t fe_run_intern(const struct fe_run *run, const char *s)
{
    if (!s)
        return 0;
    struct fe_run_private *p = fe_run_priv(run);
    size_t at;
    if (fe_strmap_get(&p->interned, s, &at))
        return (uint32_t)(at + 1);
    if (p->n_strs == p->cap_strs) {
        p->cap_strs = p->cap_strs ? p->cap_strs * 2 : 16;
        p->strs = fe_xreallocarray(p->strs, p->cap_strs, sizeof(*p->strs));
    }
    p->strs[p->n_strs] = fe_xstrdup(s);
    fe_strmap_put(&p->interned, s, p->n_strs);
    return (uint32_t)++p->n_strs;
}

const char *fe_run_str(const struct fe_run *run, uint32_t k)
{
    return k ? fe_run_priv(run)->strs[k - 1] : NULL;
}

/* A count or line number of a record as an int32 (saturated: real ones are far smaller). */
static int32_t fe_i32(double v)
{
    return v >= INT32_MAX ? INT32_MAX : v <= INT32_MIN ? INT32_MIN : (int32_t)v;
}

/* Fills the numbers of rec from a parsed record line; the caller frees j. */
static void fe_record_from_json(struct fe_record *rec, const cJSON *j, const struct fe_run *run,
                                double *scores)
{
    const cJSON *status = fe_json_get(j, "status");
    rec->ok = cJSON_IsString(status) && strcmp(status->valuestring, "ok") == 0;
    const cJSON *error = fe_json_get(j, "error");
    rec->error_kind = cJSON_IsObject(error) ? fe_run_intern(run, fe_json_gets(error, "kind")) : 0;
    rec->finish_reason = fe_run_intern(run, fe_json_gets(j, "finish_reason"));
    /* null (offline arms: replay, score) or absent: no latency measured, never 0 ms */
    rec->latency_ms = fe_json_getn_or(j, "latency_ms", NAN);
    rec->ttft_ms = fe_json_getn_or(j, "ttft_ms", NAN); /* streamed records only (issue 15) */
    rec->stream = cJSON_IsTrue(fe_json_get(j, "stream"));
    rec->line = fe_i32(fe_json_getn_or(j, "line", -1));
    rec->attempts = fe_i32(fe_json_getn_or(j, "attempts", 0));
    const cJSON *usage = fe_json_get(j, "usage");
    rec->has_usage = cJSON_IsObject(usage);
    rec->prompt_tokens = fe_i32(fe_json_getn_or(usage, "prompt_tokens", 0));
    rec->completion_tokens = fe_i32(fe_json_getn_or(usage, "completion_tokens", 0));
    rec->cached_tokens = fe_i32(fe_json_getn_or(usage, "cached_tokens", 0));
    const cJSON *cost = fe_json_get(j, "cost_usd");
    rec->has_cost = cJSON_IsNumber(cost);
    rec->cost_usd = rec->has_cost ? cost->valuedouble : 0;
    rec->cache_hit = cJSON_IsTrue(fe_json_get(j, "cache_hit"));
    rec->input_truncated = cJSON_IsTrue(fe_json_get(j, "input_truncated"));
    rec->has_input = fe_json_gets(j, "input") != NULL;
    const char *refusal = fe_json_gets(j, "refusal");
    rec->has_refusal = refusal && *refusal;
    const cJSON *judgements = fe_json_get(j, "judgements");
    rec->has_judgements = judgements && !cJSON_IsNull(judgements);
    const cJSON *sc = fe_json_get(j, "scores");
    for (size_t m = 0; m < run->n_metrics; m++)
        scores[m] = fe_json_getn_or(sc, run->metrics[m], 0);
    rec->served_model = fe_run_intern(run, fe_json_gets(j, "model"));
    rec->slice = fe_run_intern(run, fe_json_gets(j, "slice"));
    rec->cluster = fe_run_intern(run, fe_json_gets(j, "cluster"));
}

/* Reads the line at offset of f into a new string (without its newline); NULL when unreadable. */
static char *fe_pread_line(FILE *f, long offset, size_t *len)
{
    size_t cap = 1024, n = 0;
    char *text = fe_xmalloc(cap + 1);
    for (;;) {
        ssize_t got = pread(fileno(f), text + n, cap - n, (off_t)offset + (off_t)n);
        if (got < 0) {
            free(text);
            return NULL;
        }
        char *nl = memchr(text + n, '\n', (size_t)got);
        if (nl || got == 0) { /* the line's end, or the end of the file (a last line without one) */
            n = nl ? (size_t)(nl - text) : n;
            text[n] = '\0';
            *len = n;
            return text;
        }
        n += (size_t)got;
        if (n == cap) {
            cap *= 2;
            text = fe_xrealloc(text, cap + 1);
        }
    }
}

void fe_run_record_text(const struct fe_run *run, const struct fe_record *r,
                        struct fe_record_text *out)
{
    memset(out, 0, sizeof(*out));
    size_t len = 0;
    char *text = fe_pread_line(fe_run_priv(run)->files[r->arm], r->offset, &len);
    cJSON *j = text ? cJSON_ParseWithLength(text, len) : NULL;
    free(text);
    if (!j || strcmp(fe_json_gets_or(j, "id", ""), r->id) != 0) {
        /* The figures already read came from the old file: nothing built from this run can be
         * trusted, so the command stops (exit 4, aborted) before it writes anything more. */
        fe_error("%s/%s.jsonl: the record '%s' at byte %ld no longer reads back (the file was "
                 "changed while it was read): stopped; run the command again", run->dir,
                 run->arms[r->arm].name, r->id, r->offset);
        exit(FE_EXIT_ABORTED);
    }
    out->json = j;
    out->prediction = fe_json_gets_or(j, "prediction", "");
    out->gold = fe_json_get(j, "gold");
    out->input = fe_json_gets(j, "input");
    out->refusal = fe_json_gets(j, "refusal");
}

void fe_record_text_release(struct fe_record_text *t)
{
    cJSON_Delete(t->json);
    memset(t, 0, sizeof(*t));
}

/* Reads arm a's records (its file stays open for fe_run_record_text) into its packed store. */
static enum fe_status fe_load_arm(struct fe_run *run, size_t a, struct fe_err *err)
{
    struct fe_arm_run *arm = &run->arms[a];
    struct fe_run_private *p = fe_run_priv(run);
    struct fe_arm_store *st = &p->stores[a];
    char *path = fe_xasprintf("%s/%s.jsonl", run->dir, arm->name);
    FILE *f = fopen(path, "rb");
    if (!f) {
        free(path);
        if (errno == ENOENT) /* an arm that never started has no records */
            return FE_OK;
        fe_err_set(err, FE_EIO, "%s/%s.jsonl: cannot open: %s", run->dir, arm->name, strerror(errno));
        return FE_EIO;
    }
    p->files[a] = f;
    char *line = NULL;
    double *scores = fe_xcalloc(run->n_metrics + 1, sizeof(*scores)); /* one record's */
    size_t cap = 0, lineno = 0;
    long offset = 0;
    ssize_t got;
    enum fe_status st_code = FE_OK;
    for (; (got = getline(&line, &cap, f)) > 0; offset += got) {
        lineno++;
        bool complete = line[got - 1] == '\n';
        cJSON *j = cJSON_ParseWithLength(line, (size_t)got);
        if (!j || !cJSON_IsObject(j) || !cJSON_IsString(fe_json_get(j, "id"))) {
            cJSON_Delete(j);
            if (!complete) { /* torn last line: the run died mid-append */
                fe_warn("%s:%zu: dropping an incomplete last line", path, lineno);
                break;
            }
            fe_err_set(err, FE_EINVALID, "%s:%zu: not a valid result record", path, lineno);
            st_code = FE_EINVALID;
            break;
        }
        const char *id = fe_json_get(j, "id")->valuestring;
        size_t k = 0;
        if (!fe_idtab_find(&p->ids, id, &k)) {
            if (!fe_idtab_add(&p->ids, id)) {
                cJSON_Delete(j);
                fe_err_set(err, FE_EINVALID, "%s:%zu: more ids than a run holds (4 GiB of them)", path, lineno);
                st_code = FE_EINVALID;
                break;
            }
            k = p->ids.n - 1;
        }
        size_t at = fe_store_row_of(st, k, arm->n); /* re-recorded after resume: last wins */
        if (at == arm->n && arm->n == st->alloc)
            fe_store_grow(st, st->alloc ? st->alloc * 2 : 256, run->n_metrics);
        struct fe_record r = {.id = id, .arm = (unsigned short)a, .offset = offset};
        fe_record_from_json(&r, j, run, scores);
        fe_store_put(p, st, at, arm->n, &r, k, scores);
        cJSON_Delete(j);
        if (at == arm->n)
            fe_store_set_row(st, k, arm->n++, p->ids.n_cap);
    }
    free(line);
    free(scores);
    free(path);
    if (arm->n) /* give back the growth slack */
        fe_store_grow(st, arm->n, run->n_metrics);
    return st_code;
}

/* The arm's price as the manifest states it (manifest.c fe_price_json: per 1M tokens, no batch
 * multiplier), for the costs its records give to be computed again when read, not kept. An arm
 * without one (or with a malformed one) keeps its costs. */
static void fe_arm_price(struct fe_arm_store *st, const cJSON *price)
{
    double in, out, cached;
    if (!fe_json_num(fe_json_get(price, "input"), &in) ||
        !fe_json_num(fe_json_get(price, "output"), &out))
        return;
    st->price = (struct fe_price){.input = in, .output = out, .batch_multiplier = 1};
    st->price.has_cached_input = fe_json_num(fe_json_get(price, "cached_input"), &cached);
    st->price.cached_input = st->price.has_cached_input ? cached : 0;
    st->priced = true;
}

enum fe_status fe_run_load(const char *dir, struct fe_run **out, struct fe_err *err)
{
    struct fe_run *run = fe_xcalloc(1, sizeof(*run));
    run->dir = fe_xstrdup(dir);
    char *mpath = fe_xasprintf("%s/manifest.json", dir);
    run->manifest = fe_load_json(mpath, true, err);
    free(mpath);
    if (!run->manifest)
        goto fail;
    char *spath = fe_xasprintf("%s/summary.json", dir);
    struct fe_err ignore = {0};
    run->summary = fe_load_json(spath, false, &ignore);
    free(spath);

    const cJSON *metrics = fe_json_get(run->manifest, "metrics");
    const cJSON *arms = fe_json_get(run->manifest, "arms");
    if (!cJSON_IsArray(metrics) || !cJSON_IsArray(arms)) {
        fe_err_set(err, FE_EINVALID, "%s/manifest.json: field 'arms' or 'metrics': missing", dir);
        goto fail;
    }
    run->n_metrics = (size_t)cJSON_GetArraySize(metrics);
    run->metrics = fe_xcalloc(run->n_metrics + 1, sizeof(*run->metrics));
    run->metric_binary = fe_xcalloc(run->n_metrics + 1, sizeof(*run->metric_binary));
    size_t m = 0;
    const cJSON *v;
    cJSON_ArrayForEach(v, metrics) {
        if (!cJSON_IsString(v)) {
            fe_err_set(err, FE_EINVALID, "%s/manifest.json: field 'metrics[%zu]': not a string", dir, m);
            goto fail;
        }
        run->metrics[m] = fe_xstrdup(v->valuestring);
        const struct fe_metric *def = fe_metric_find(v->valuestring);
        run->metric_binary[m] = def ? def->binary : fe_metric_is_judge_pass(v->valuestring); /* judge:N.pass */
        m++;
    }
    run->n_arms = (size_t)cJSON_GetArraySize(arms);
    run->arms = fe_xcalloc(run->n_arms + 1, sizeof(*run->arms));
    struct fe_run_private *priv = fe_xcalloc(1, sizeof(*priv));
    priv->files = fe_xcalloc(run->n_arms + 1, sizeof(*priv->files));
    priv->stores = fe_xcalloc(run->n_arms + 1, sizeof(*priv->stores));
    priv->n_metrics = run->n_metrics ? run->n_metrics : 1;
    fe_strmap_init(&priv->interned);
    run->reserved = priv;
    size_t a = 0;
    cJSON_ArrayForEach(v, arms) {
        run->arms[a].name = fe_json_dupstr(v, "name");
        run->arms[a].model = fe_json_dupstr(v, "model");
        if (!run->arms[a].name) {
            fe_err_set(err, FE_EINVALID, "%s/manifest.json: field 'arms[%zu].name': missing", dir, a);
            goto fail;
        }
        priv->stores[a] = (struct fe_arm_store){.priv = priv, .a = a};
        fe_arm_price(&priv->stores[a], fe_json_get(v, "price"));
        run->arms[a].store = &priv->stores[a];
        a++;
    }
    if (run->n_arms > USHRT_MAX) {
        fe_err_set(err, FE_EINVALID, "%s/manifest.json: field 'arms': more than %u arms", dir, USHRT_MAX);
        goto fail;
    }
    for (a = 0; a < run->n_arms; a++)
        if (fe_load_arm(run, a, err) != FE_OK)
            goto fail;
    fe_store_order(run);
    *out = run;
    return FE_OK;
fail:
    fe_run_free(run);
    return err->code ? err->code : FE_EINVALID;
}

void fe_run_free(struct fe_run *run)
{
    if (!run)
        return;
    struct fe_run_private *priv = fe_run_priv(run);
    for (size_t a = 0; a < run->n_arms; a++) {
        free(run->arms[a].name);
        free(run->arms[a].model);
        if (priv) {
            fe_store_release(&priv->stores[a]);
            if (priv->files[a])
                fclose(priv->files[a]);
        }
    }
    if (priv) {
        free(priv->files);
        free(priv->stores);
        fe_shapes_release(priv);
        free(priv->lines);
        fe_idtab_release(&priv->ids);
        for (size_t i = 0; i < priv->n_strs; i++)
            free(priv->strs[i]);
        free(priv->strs);
        fe_strmap_release(&priv->interned);
        free(priv);
    }
    free(run->arms);
    for (size_t m = 0; m < run->n_metrics; m++)
        free(run->metrics[m]);
    free(run->metrics);
    free(run->metric_binary);
    cJSON_Delete(run->manifest);
    cJSON_Delete(run->summary);
    free(run->dir);
    free(run);
}

long fe_run_arm_index(const struct fe_run *run, const char *name)
{
    for (size_t a = 0; a < run->n_arms; a++)
        if (strcmp(run->arms[a].name, name) == 0)
            return (long)a;
    return -1;
}

long fe_run_find_record(const struct fe_run *run, size_t arm, const char *id)
{
    const struct fe_run_private *p = fe_run_priv(run);
    size_t k = 0;
    if (arm >= run->n_arms || !fe_idtab_find(&p->ids, id, &k))
        return -1;
    return fe_store_find(&p->stores[arm], run->arms[arm].n, k);
}
