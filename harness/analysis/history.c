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

/* The metric means and CIs of one arm: the summary's, else the plain mean of the records. */
static void fe_entry_metrics(const struct fe_run *run, size_t a, const struct fe_summary_arm *sa,
                             cJSON *ae)
{
    const struct fe_arm_run *arm = &run->arms[a];
    cJSON *am = cJSON_AddObjectToObject(ae, "metrics");
    for (size_t m = 0; m < run->n_metrics; m++) {
        const struct fe_summary_metric *sm = &sa->metrics[m];
        cJSON *me = cJSON_AddObjectToObject(am, run->metrics[m]);
        if (sm->present) {
            fe_json_add_num(me, "mean", sm->mean);
            fe_json_add_pair(me, "ci", sm->ci_lo, sm->ci_hi);
        } else if (arm->n) {
            double mean = 0;
            for (size_t i = 0; i < arm->n; i++)
                mean += (fe_score(fe_arm_rec(arm, i), m) - mean) / (double)(i + 1);
            cJSON_AddNumberToObject(me, "mean", mean);
            cJSON_AddNullToObject(me, "ci");
        } else {
            cJSON_AddNullToObject(me, "mean");
            cJSON_AddNullToObject(me, "ci");
        }
    }
}

/* Cost per inference: the summary's unless it says unpriced; without a summary entry, from the
 * records (unknown if any is unpriced); else null. */
static void fe_entry_cost(const struct fe_arm_run *arm, const struct fe_summary_arm *sa, cJSON *ae)
{
    const struct fe_summary_cost *c = &sa->cost;
    if (fe_has(c->per_inference_usd) && !(c->has_priced && !c->priced)) {
        cJSON_AddNumberToObject(ae, "cost_per_inference_usd", c->per_inference_usd);
    } else if (!sa->present && arm->n) {
        double total = 0;
        bool priced = true;
        for (size_t i = 0; i < arm->n; i++) {
            priced &= fe_arm_rec(arm, i)->has_cost;
            total += fe_arm_rec(arm, i)->cost_usd;
        }
        if (priced)
            cJSON_AddNumberToObject(ae, "cost_per_inference_usd", total / (double)arm->n);
        else
            cJSON_AddNullToObject(ae, "cost_per_inference_usd");
    } else {
        cJSON_AddNullToObject(ae, "cost_per_inference_usd");
    }
}

static cJSON *fe_entry(const struct fe_run *run, const cJSON *summary)
{
    struct fe_manifest_view man;
    fe_manifest_view_parse(run->manifest, &man);
    struct fe_summary_view sv;
    fe_summary_view_parse(run, summary, &sv);
    cJSON *e = cJSON_CreateObject();
    cJSON_AddStringToObject(e, "schema", "fteval.history/1");
    char base[4096];
    const char *leaf = fe_basename(run->dir, base, sizeof(base));
    cJSON_AddStringToObject(e, "run_id", fe_str_or(man.run_id, leaf));
    fe_json_add_str(e, "name", man.name);
    cJSON_AddStringToObject(e, "dir", leaf);
    char now[32];
    fe_utc_now(now, sizeof(now));
    const char *t = man.ended_at ? man.ended_at : man.started_at;
    cJSON_AddStringToObject(e, "time", fe_str_or(t, now));
    cJSON_AddStringToObject(e, "recorded_at", now);
    fe_json_add_str(e, "status", man.status);
    fe_json_add_str(e, "dataset_sha256", man.dataset_sha256);
    fe_json_add_str(e, "primary_metric", man.primary_metric);
    cJSON *metrics = cJSON_AddArrayToObject(e, "metrics");
    for (size_t m = 0; m < run->n_metrics; m++)
        cJSON_AddItemToArray(metrics, cJSON_CreateString(run->metrics[m]));
    cJSON *arms = cJSON_AddObjectToObject(e, "arms");
    for (size_t a = 0; a < run->n_arms; a++) {
        const struct fe_arm_run *arm = &run->arms[a];
        const struct fe_summary_arm *sa = &sv.arms[a];
        cJSON *ae = cJSON_AddObjectToObject(arms, arm->name);
        fe_json_add_str(ae, "model", arm->model);
        size_t n_err = 0;
        for (size_t i = 0; i < arm->n; i++)
            n_err += !fe_arm_rec(arm, i)->ok;
        cJSON_AddNumberToObject(ae, "n", fe_has(sa->n) ? sa->n : (double)arm->n);
        cJSON_AddNumberToObject(ae, "n_errors",
                                fe_has(sa->n_errors) ? sa->n_errors : (double)n_err);
        fe_entry_metrics(run, a, sa, ae);
        fe_entry_cost(arm, sa, ae);
    }
    fe_summary_view_release(&sv);
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
    const char *name = fe_json_str(fe_json_get(run->manifest, "name"));
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
        h = fe_history_file_for_run(name_or_dir, fe_json_str(fe_json_get(man, "name")));
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
    const char *ta = fe_json_str(fe_json_get(a->e, "time"));
    const char *tb = fe_json_str(fe_json_get(b->e, "time"));
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
        const char *id = fe_json_str(fe_json_get(j, "run_id"));
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
