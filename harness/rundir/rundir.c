/* rundir.c — see rundir.h. */
#include "harness/rundir/rundir.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

/* What run->reserved points to: the id lookup map of each arm and the pool of interned strings
 * (served model, finish reason, error kind, slice: a handful of distinct values repeated on every
 * record, so each is stored once per run instead of once per record). */
struct fe_run_private {
    struct fe_strmap *maps;     /* one per arm */
    struct fe_strmap interned;  /* string -> index in strs */
    char **strs;
    size_t n_strs, cap_strs;
};

static struct fe_run_private *fe_run_priv(const struct fe_run *run)
{
    return (struct fe_run_private *)run->reserved;
}

/* The run's copy of s (NULL stays NULL); it lives until fe_run_free. */
static const char *fe_run_intern(const struct fe_run *run, const char *s)
{
    if (!s)
        return NULL;
    struct fe_run_private *p = fe_run_priv(run);
    size_t at;
    if (fe_strmap_get(&p->interned, s, &at))
        return p->strs[at];
    if (p->n_strs == p->cap_strs) {
        p->cap_strs = p->cap_strs ? p->cap_strs * 2 : 16;
        p->strs = fe_xreallocarray(p->strs, p->cap_strs, sizeof(*p->strs));
    }
    p->strs[p->n_strs] = fe_xstrdup(s);
    fe_strmap_put(&p->interned, s, p->n_strs);
    return p->strs[p->n_strs++];
}

static void fe_record_release(struct fe_record *r)
{
    free(r->id);
    free(r->prediction);
    free(r->scores);
    /* input and gold are const views for readers but owned by the record (fe_record_from_json) */
    char *input;
    cJSON *gold;
    memcpy(&input, &r->input, sizeof(input));
    memcpy(&gold, &r->gold, sizeof(gold));
    free(input);
    cJSON_Delete(gold);
    cJSON_Delete(r->json);
}

/* The string value of j's field key taken out of j (the caller frees it), or NULL. */
static char *fe_take_string(cJSON *j, const char *key)
{
    cJSON *item = cJSON_DetachItemFromObjectCaseSensitive(j, key);
    char *s = NULL;
    if (cJSON_IsString(item) && !(item->type & cJSON_IsReference)) {
        s = item->valuestring;
        item->valuestring = NULL;
    }
    cJSON_Delete(item);
    return s;
}

/* Fills rec from a parsed record line (takes ownership of j). */
static void fe_record_from_json(struct fe_record *rec, cJSON *j, const struct fe_run *run)
{
    memset(rec, 0, sizeof(*rec));
    rec->id = fe_json_dupstr(j, "id");
    rec->prediction = fe_take_string(j, "prediction");
    if (!rec->prediction)
        rec->prediction = fe_xstrdup("");
    const cJSON *status = fe_json_get(j, "status");
    rec->ok = cJSON_IsString(status) && strcmp(status->valuestring, "ok") == 0;
    const cJSON *error = fe_json_get(j, "error");
    if (cJSON_IsObject(error))
        rec->error_kind = fe_run_intern(run, fe_json_gets(error, "kind"));
    rec->finish_reason = fe_run_intern(run, fe_json_gets(j, "finish_reason"));
    /* null (offline arms: replay, score) or absent: no latency measured, never 0 ms */
    rec->latency_ms = fe_json_getn_or(j, "latency_ms", NAN);
    rec->ttft_ms = fe_json_getn_or(j, "ttft_ms", NAN); /* streamed records only (issue 15) */
    rec->stream = cJSON_IsTrue(fe_json_get(j, "stream"));
    rec->line = (long)fe_json_getn_or(j, "line", -1);
    rec->attempts = (long)fe_json_getn_or(j, "attempts", 0);
    const cJSON *usage = fe_json_get(j, "usage");
    if (cJSON_IsObject(usage)) {
        rec->has_usage = true;
        rec->prompt_tokens = (long)fe_json_getn_or(usage, "prompt_tokens", 0);
        rec->completion_tokens = (long)fe_json_getn_or(usage, "completion_tokens", 0);
        rec->cached_tokens = (long)fe_json_getn_or(usage, "cached_tokens", 0);
    }
    const cJSON *cost = fe_json_get(j, "cost_usd");
    rec->has_cost = cJSON_IsNumber(cost);
    rec->cost_usd = rec->has_cost ? cost->valuedouble : 0;
    rec->cache_hit = cJSON_IsTrue(fe_json_get(j, "cache_hit"));
    rec->input_truncated = cJSON_IsTrue(fe_json_get(j, "input_truncated"));
    rec->scores = fe_xcalloc(run->n_metrics ? run->n_metrics : 1, sizeof(double));
    const cJSON *scores = fe_json_get(j, "scores");
    for (size_t m = 0; m < run->n_metrics; m++)
        rec->scores[m] = fe_json_getn_or(scores, run->metrics[m], 0);
    /* Memory stays small on large runs: the input (the report's example browser) and the gold
     * are kept as bare values, the repeated strings are interned, and the slimmed JSON keeps
     * only the fields readers look up, with constant keys, and exists only when it holds one. */
    rec->input = fe_take_string(j, "input");
    cJSON *gold = cJSON_DetachItemFromObjectCaseSensitive(j, "gold");
    if (gold && !(gold->type & cJSON_StringIsConst)) { /* a bare value needs no key */
        free(gold->string);
        gold->string = NULL;
    }
    rec->gold = gold;
    rec->served_model = fe_run_intern(run, fe_json_gets(j, "model"));
    rec->slice = fe_run_intern(run, fe_json_gets(j, "slice"));
    static const char *const kept[] = {"cluster", "refusal", "error", "corpus", "judgements"};
    cJSON *slim = NULL;
    for (size_t k = 0; k < sizeof(kept) / sizeof(kept[0]); k++) {
        cJSON *item = cJSON_DetachItemFromObjectCaseSensitive(j, kept[k]);
        if (!item || cJSON_IsNull(item)) { /* "error": null on every ok record: same as absent */
            cJSON_Delete(item);
            continue;
        }
        if (!slim)
            slim = cJSON_CreateObject();
        cJSON_AddItemToObjectCS(slim, kept[k], item);
    }
    cJSON_Delete(j);
    rec->json = slim;
    rec->cluster = fe_json_str(fe_json_get(slim, "cluster"));
    rec->refusal = fe_json_str(fe_json_get(slim, "refusal"));
}

static enum fe_status fe_load_arm(struct fe_run *run, struct fe_arm_run *arm, struct fe_strmap *ids,
                                  struct fe_err *err)
{
    char *path = fe_xasprintf("%s/%s.jsonl", run->dir, arm->name);
    FILE *f = fopen(path, "rb");
    if (!f) {
        if (errno == ENOENT) { /* an arm that never started has no records */
            free(path);
            return FE_OK;
        }
        fe_err_set(err, FE_EIO, "%s: cannot open: %s", path, strerror(errno));
        free(path);
        return FE_EIO;
    }
    char *line = NULL;
    size_t cap = 0, alloc = 0, lineno = 0;
    ssize_t got;
    while ((got = getline(&line, &cap, f)) > 0) {
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
            free(line);
            fclose(f);
            free(path);
            return FE_EINVALID;
        }
        size_t at;
        const char *id = fe_json_get(j, "id")->valuestring;
        if (fe_strmap_get(ids, id, &at)) { /* re-recorded after resume: last wins */
            fe_record_release(&arm->records[at]);
            fe_record_from_json(&arm->records[at], j, run);
            continue;
        }
        if (arm->n == alloc) {
            alloc = alloc ? alloc * 2 : 256;
            arm->records = fe_xreallocarray(arm->records, alloc, sizeof(*arm->records));
        }
        fe_record_from_json(&arm->records[arm->n], j, run);
        fe_strmap_put(ids, arm->records[arm->n].id, arm->n);
        arm->n++;
    }
    free(line);
    fclose(f);
    free(path);
    return FE_OK;
}

/* Dataset order: by the record's dataset line, records without one after those with one, ties
 * and line-less records by id. Every statistic is computed over the records in this order, so a
 * resumed, shuffled or uninterrupted run gives the same bits (floating-point sums depend on
 * order). Ids are unique within an arm, so the order is total. */
static int fe_record_order(const void *pa, const void *pb)
{
    const struct fe_record *a = pa, *b = pb;
    bool la = a->line >= 0, lb = b->line >= 0;
    if (la != lb)
        return la ? -1 : 1;
    if (la && a->line != b->line)
        return a->line < b->line ? -1 : 1;
    return strcmp(a->id, b->id);
}

static void fe_arm_sort(struct fe_arm_run *arm, struct fe_strmap *ids)
{
    if (arm->n < 2)
        return;
    qsort(arm->records, arm->n, sizeof(*arm->records), fe_record_order);
    for (size_t i = 0; i < arm->n; i++)
        fe_strmap_set(ids, arm->records[i].id, i);
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
    struct fe_strmap *maps = fe_xcalloc(run->n_arms + 1, sizeof(*maps));
    priv->maps = maps;
    fe_strmap_init(&priv->interned);
    run->reserved = priv;
    size_t a = 0;
    cJSON_ArrayForEach(v, arms) {
        run->arms[a].name = fe_json_dupstr(v, "name");
        run->arms[a].model = fe_json_dupstr(v, "model");
        fe_strmap_init(&maps[a]);
        if (!run->arms[a].name) {
            fe_err_set(err, FE_EINVALID, "%s/manifest.json: field 'arms[%zu].name': missing", dir, a);
            goto fail;
        }
        a++;
    }
    for (a = 0; a < run->n_arms; a++) {
        if (fe_load_arm(run, &run->arms[a], &maps[a], err) != FE_OK)
            goto fail;
        fe_arm_sort(&run->arms[a], &maps[a]);
        if (run->arms[a].n) /* give back the growth slack */
            run->arms[a].records = fe_xreallocarray(run->arms[a].records, run->arms[a].n,
                                                    sizeof(*run->arms[a].records));
    }
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
    struct fe_strmap *maps = priv ? priv->maps : NULL;
    for (size_t a = 0; a < run->n_arms; a++) {
        for (size_t i = 0; i < run->arms[a].n; i++)
            fe_record_release(&run->arms[a].records[i]);
        free(run->arms[a].records);
        free(run->arms[a].name);
        free(run->arms[a].model);
        if (maps)
            fe_strmap_release(&maps[a]);
    }
    free(maps);
    if (priv) {
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
    size_t at;
    if (arm >= run->n_arms || !fe_strmap_get(&fe_run_priv(run)->maps[arm], id, &at))
        return -1;
    return (long)at;
}
