/* history.c — see history.h. */
#define _XOPEN_SOURCE 700 /* realpath */
#include "harness/analysis/history.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness/base/jsonout.h"
#include "harness/base/log.h"
#include "harness/base/strmap.h"
#include "harness/base/util.h"

static void fe_adds_or_null(cJSON *o, const char *k, const char *s)
{
    if (s)
        cJSON_AddStringToObject(o, k, s);
    else
        cJSON_AddNullToObject(o, k);
}

static void fe_add_copy(cJSON *o, const char *k, const cJSON *v)
{
    cJSON_AddItemToObject(o, k, v ? cJSON_Duplicate(v, true) : cJSON_CreateNull());
}

/* Folder holding dir ("a/b/run/" -> "a/b", "run" -> "."). Caller frees. */
static char *fe_parent(const char *dir)
{
    char *p = fe_xstrdup(dir);
    size_t n = strlen(p);
    while (n > 1 && p[n - 1] == '/')
        p[--n] = 0;
    char *slash = strrchr(p, '/');
    if (!slash) {
        free(p);
        return fe_xstrdup(".");
    }
    if (slash == p)
        slash[1] = 0;
    else
        *slash = 0;
    return p;
}

static const char *fe_basename(const char *dir, char *buf, size_t size)
{
    snprintf(buf, size, "%s", dir);
    size_t n = strlen(buf);
    while (n > 1 && buf[n - 1] == '/')
        buf[--n] = 0;
    const char *slash = strrchr(buf, '/');
    return slash ? slash + 1 : buf;
}

static cJSON *fe_entry(const struct fe_run *run, const cJSON *summary)
{
    const cJSON *man = run->manifest;
    cJSON *e = cJSON_CreateObject();
    cJSON_AddStringToObject(e, "schema", "fteval.history/1");
    char base[4096];
    const char *leaf = fe_basename(run->dir, base, sizeof(base));
    const char *run_id = fe_json_gets(man, "run_id");
    cJSON_AddStringToObject(e, "run_id", run_id ? run_id : leaf);
    fe_adds_or_null(e, "name", fe_json_gets(man, "name"));
    cJSON_AddStringToObject(e, "dir", leaf);
    char now[32];
    fe_utc_now(now, sizeof(now));
    const char *t = fe_json_gets(man, "ended_at");
    if (!t)
        t = fe_json_gets(man, "started_at");
    cJSON_AddStringToObject(e, "time", t ? t : now);
    cJSON_AddStringToObject(e, "recorded_at", now);
    fe_adds_or_null(e, "status", fe_json_gets(man, "status"));
    fe_adds_or_null(e, "dataset_sha256", fe_json_gets(fe_json_get(man, "dataset"), "sha256"));
    fe_adds_or_null(e, "primary_metric", fe_json_gets(man, "primary_metric"));
    cJSON *metrics = cJSON_AddArrayToObject(e, "metrics");
    for (size_t m = 0; m < run->n_metrics; m++)
        cJSON_AddItemToArray(metrics, cJSON_CreateString(run->metrics[m]));
    cJSON *arms = cJSON_AddObjectToObject(e, "arms");
    const cJSON *sarms = fe_json_get(summary, "arms");
    for (size_t a = 0; a < run->n_arms; a++) {
        const struct fe_arm_run *arm = &run->arms[a];
        const cJSON *sa = fe_json_get(sarms, arm->name);
        cJSON *ae = cJSON_AddObjectToObject(arms, arm->name);
        fe_adds_or_null(ae, "model", arm->model);
        size_t n_err = 0;
        for (size_t i = 0; i < arm->n; i++)
            n_err += !arm->records[i].ok;
        const cJSON *sn = fe_json_get(sa, "n"), *se = fe_json_get(sa, "n_errors");
        cJSON_AddNumberToObject(ae, "n", cJSON_IsNumber(sn) ? sn->valuedouble : (double)arm->n);
        cJSON_AddNumberToObject(ae, "n_errors", cJSON_IsNumber(se) ? se->valuedouble : (double)n_err);
        cJSON *am = cJSON_AddObjectToObject(ae, "metrics");
        for (size_t m = 0; m < run->n_metrics; m++) {
            const cJSON *sm = fe_json_get(fe_json_get(sa, "metrics"), run->metrics[m]);
            cJSON *me = cJSON_AddObjectToObject(am, run->metrics[m]);
            if (sm) {
                fe_add_copy(me, "mean", fe_json_get(sm, "mean"));
                fe_add_copy(me, "ci", fe_json_get(sm, "ci"));
            } else if (arm->n) {
                double mean = 0;
                for (size_t i = 0; i < arm->n; i++)
                    mean += (arm->records[i].scores[m] - mean) / (double)(i + 1);
                cJSON_AddNumberToObject(me, "mean", mean);
                cJSON_AddNullToObject(me, "ci");
            } else {
                cJSON_AddNullToObject(me, "mean");
                cJSON_AddNullToObject(me, "ci");
            }
        }
        const cJSON *cost = fe_json_get(fe_json_get(sa, "cost"), "per_inference_usd");
        if (cJSON_IsNumber(cost) &&
            !cJSON_IsFalse(fe_json_get(fe_json_get(sa, "cost"), "priced"))) {
            cJSON_AddNumberToObject(ae, "cost_per_inference_usd", cost->valuedouble);
        } else if (!sa && arm->n) { /* no summary: from the records, unknown if any is unpriced */
            double total = 0;
            bool priced = true;
            for (size_t i = 0; i < arm->n; i++) {
                priced &= arm->records[i].has_cost;
                total += arm->records[i].cost_usd;
            }
            if (priced)
                cJSON_AddNumberToObject(ae, "cost_per_inference_usd", total / (double)arm->n);
            else
                cJSON_AddNullToObject(ae, "cost_per_inference_usd");
        } else {
            cJSON_AddNullToObject(ae, "cost_per_inference_usd");
        }
    }
    return e;
}

/* True when dir's parent folder is called name (the last component; a name with '/' matches
 * that many trailing components): results/<name>/<run>. */
static bool fe_parent_is_named(const char *dir, const char *name)
{
    if (!name || !*name)
        return false;
    char *parent = fe_parent(dir);
    char *real = realpath(parent, NULL); /* "." or "run/.." name a folder too */
    const char *p = real ? real : parent;
    size_t lp = strlen(p), ln = strlen(name);
    bool named = lp >= ln && strcmp(p + lp - ln, name) == 0 && (lp == ln || p[lp - ln - 1] == '/');
    free(real);
    free(parent);
    return named;
}

char *fe_history_file_for_run(const char *dir, const char *name)
{
    if (!fe_parent_is_named(dir, name))
        return NULL;
    char *parent = fe_parent(dir);
    char *path = fe_xasprintf("%s/history.jsonl", parent);
    free(parent);
    return path;
}

enum fe_status fe_history_append(const struct fe_run *run, const cJSON *summary,
                                 struct fe_err *err)
{
    if (!summary)
        summary = run->summary;
    const char *name = fe_json_gets(run->manifest, "name");
    char *path = fe_history_file_for_run(run->dir, name);
    if (!path)
        return fe_err_set(err, FE_EINVALID,
                          "%s: not recorded in a history: a run's history is "
                          "<results>/<name>/history.jsonl and this directory is not inside a "
                          "folder named '%s' (use --out results/%s/RUN to keep the trend)",
                          run->dir, name ? name : "", name ? name : "NAME");
    cJSON *e = fe_entry(run, summary);
    char *line = cJSON_PrintUnformatted(e);
    cJSON_Delete(e);
    size_t len = strlen(line);
    line = fe_xrealloc(line, len + 2);
    line[len++] = '\n';
    line[len] = 0;
    enum fe_status st = FE_OK;
    int fd = open(path, O_WRONLY | O_APPEND | O_CREAT, 0644);
    if (fd < 0) {
        st = fe_err_set(err, FE_EIO, "%s: cannot open: %s", path, strerror(errno));
    } else {
        ssize_t w = write(fd, line, len);
        if (w < 0 || (size_t)w != len)
            st = fe_err_set(err, FE_EIO, "%s: cannot append: %s", path,
                            w < 0 ? strerror(errno) : "short write");
        if (close(fd) != 0 && st == FE_OK)
            st = fe_err_set(err, FE_EIO, "%s: cannot append: %s", path, strerror(errno));
    }
    free(line);
    free(path);
    return st;
}

static bool fe_is_dir(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

static bool fe_exists(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0;
}

char *fe_history_path(const char *name_or_dir)
{
    if (fe_is_dir(name_or_dir)) {
        char *h = fe_xasprintf("%s/history.jsonl", name_or_dir);
        char *m = fe_xasprintf("%s/manifest.json", name_or_dir);
        bool run_dir = !fe_exists(h) && fe_exists(m);
        free(m);
        if (!run_dir)
            return h;
        free(h);
        /* a run directory: its config's history, when it sits in results/<name>/ */
        char *mpath = fe_xasprintf("%s/manifest.json", name_or_dir);
        size_t len = 0;
        char *text = fe_read_file(mpath, 0, &len);
        cJSON *man = text ? cJSON_ParseWithLength(text, len) : NULL;
        h = fe_history_file_for_run(name_or_dir, fe_json_gets(man, "name"));
        cJSON_Delete(man);
        free(text);
        free(mpath);
        if (h)
            return h;
        /* no history home: a path that names why nothing is found */
        return fe_xasprintf("%s/history.jsonl", name_or_dir);
    }
    return fe_xasprintf("results/%s/history.jsonl", name_or_dir);
}

struct fe_hent {
    cJSON *e;
    size_t order;
};

static int fe_hent_cmp(const void *x, const void *y)
{
    const struct fe_hent *a = x, *b = y;
    const char *ta = fe_json_gets(a->e, "time"), *tb = fe_json_gets(b->e, "time");
    int c = strcmp(ta ? ta : "", tb ? tb : "");
    if (c)
        return c;
    return a->order < b->order ? -1 : a->order > b->order;
}

cJSON *fe_history_load(const char *name_or_dir, struct fe_err *err)
{
    char *path = fe_history_path(name_or_dir);
    size_t len;
    char *text = fe_read_file(path, 0, &len);
    if (!text) {
        fe_err_set(err, FE_EIO, "%s: cannot read: %s", path, strerror(errno));
        free(path);
        return NULL;
    }
    struct fe_hent *ents = NULL;
    size_t n = 0, alloc = 0, lineno = 0;
    struct fe_strmap ids;
    fe_strmap_init(&ids);
    cJSON *out = NULL;
    char *p = text, *end = text + len;
    while (p < end) {
        char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t l = nl ? (size_t)(nl - p) : (size_t)(end - p);
        lineno++;
        cJSON *j = l ? cJSON_ParseWithLength(p, l) : NULL;
        p += l + (nl ? 1 : 0);
        if (l == 0)
            continue;
        if (!cJSON_IsObject(j)) {
            cJSON_Delete(j);
            if (!nl) {
                fe_warn("%s:%zu: dropping an incomplete last line", path, lineno);
                break;
            }
            fe_err_set(err, FE_EINVALID, "%s:%zu: not a history entry", path, lineno);
            goto done;
        }
        const char *id = fe_json_gets(j, "run_id");
        size_t at;
        if (id && fe_strmap_get(&ids, id, &at)) { /* re-recorded run: the last line wins */
            cJSON_Delete(ents[at].e);
            ents[at].e = j;
            ents[at].order = lineno;
            continue;
        }
        if (n == alloc) {
            alloc = alloc ? 2 * alloc : 64;
            ents = fe_xreallocarray(ents, alloc, sizeof(*ents));
        }
        if (id)
            fe_strmap_put(&ids, id, n);
        ents[n++] = (struct fe_hent){j, lineno};
    }
    if (n > 1) /* qsort(NULL, 0, ...) is undefined behaviour */
        qsort(ents, n, sizeof(*ents), fe_hent_cmp);
    out = cJSON_CreateArray();
    for (size_t i = 0; i < n; i++) {
        cJSON_AddItemToArray(out, ents[i].e);
        ents[i].e = NULL;
    }
done:
    for (size_t i = 0; i < n; i++)
        cJSON_Delete(ents[i].e);
    free(ents);
    fe_strmap_release(&ids);
    free(text);
    free(path);
    return out;
}
