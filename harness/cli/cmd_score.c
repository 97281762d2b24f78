/* cmd_score.c — `fteval score`: scores predictions made elsewhere against a dataset's golds and
 * writes the same results directory as `run`. No network. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness/cli/commands.h"
#include "harness/run/config.h"
#include "harness/input/dataset.h"
#include "harness/run/journal.h"
#include "harness/base/log.h"
#include "harness/run/manifest.h"
#include "harness/run/runner.h"
#include "harness/base/strmap.h"
#include "harness/cli/outputs.h"
#include "harness/base/util.h"
#include "metrics/metric.h"

const char fe_usage_score[] =
    "usage: fteval score --dataset FILE --pred ARM=FILE [--pred ARM=FILE ...] [--baseline ARM]\n"
    "                    [--config CONFIG] [--metrics M,M] [--seed N] [--resamples N] [--out DIR]\n"
    "\n"
    "Scores predictions made elsewhere (JSONL lines {\"id\": ..., \"prediction\": \"...\"}) against\n"
    "the golds of FILE and writes a results directory like `fteval run` does. An example without a\n"
    "prediction counts as failed (score 0). No network.\n"
    "\n"
    "  --pred ARM=FILE   one arm's predictions (repeat for several arms)\n"
    "  --baseline ARM    the arm every other arm is compared with (default: the first)\n"
    "  --config CONFIG   take name, task.metrics and stats settings from a run config\n"
    "  --metrics M,M     metrics to score (default exact_match,f1)\n"
    "  --seed N, --resamples N   bootstrap settings\n"
    "  --out DIR         results directory (default results/<name>/<run-id>)\n";

struct fe_pred_arm {
    char *name;
    char *path;
    char sha256[65];
    struct fe_strmap index;   /* id -> position in preds */
    char **preds;
    size_t n;
};

static enum fe_status fe_load_predictions(struct fe_pred_arm *p, struct fe_err *err)
{
    FILE *f = fopen(p->path, "rb");
    if (!f)
        return fe_err_set(err, FE_EIO, "%s: cannot open: %s", p->path, strerror(errno));
    fe_strmap_init(&p->index);
    char *line = NULL;
    size_t cap = 0, lineno = 0;
    ssize_t got;
    enum fe_status st = FE_OK;
    while ((got = getline(&line, &cap, f)) > 0) {
        lineno++;
        size_t len = (size_t)got;
        while (len && (line[len - 1] == '\n' || line[len - 1] == '\r' || line[len - 1] == ' '))
            len--;
        if (len == 0)
            continue;
        if (fe_utf8_check(line, len) != len || memchr(line, '\0', len)) {
            st = fe_err_set(err, FE_EINVALID, "%s:%zu: invalid UTF-8 or a NUL byte", p->path, lineno);
            break;
        }
        cJSON *j = cJSON_ParseWithLength(line, len);
        const cJSON *id = cJSON_GetObjectItemCaseSensitive(j, "id");
        const cJSON *pred = cJSON_GetObjectItemCaseSensitive(j, "prediction");
        char *id_text = fe_dataset_id_text(id); /* the dataset's rule: 0.1 matches 0.1 */
        if (!j || !id_text) {
            st = fe_err_set(err, FE_EINVALID, "%s:%zu: field 'id': %s", p->path, lineno,
                            j ? "missing or not a string" : "the line is not valid JSON");
        } else if (!cJSON_IsString(pred) && !cJSON_IsNull(pred) && !cJSON_IsObject(pred) && !cJSON_IsArray(pred)) {
            st = fe_err_set(err, FE_EINVALID, "%s:%zu: field 'prediction': missing or not a string", p->path, lineno);
        } else if (!fe_strmap_put(&p->index, id_text, p->n)) {
            st = fe_err_set(err, FE_EINVALID, "%s:%zu: field 'id': duplicate id '%s'", p->path, lineno, id_text);
        } else {
            p->preds = fe_xreallocarray(p->preds, p->n + 1, sizeof(*p->preds));
            if (cJSON_IsString(pred)) {
                p->preds[p->n++] = fe_xstrdup(pred->valuestring);
            } else if (cJSON_IsNull(pred)) {
                p->preds[p->n++] = NULL; /* a failed generation */
            } else { /* structured output: scored as its JSON text */
                char *text = cJSON_PrintUnformatted(pred);
                p->preds[p->n++] = fe_xstrdup(text);
                cJSON_free(text);
            }
        }
        free(id_text);
        cJSON_Delete(j);
        if (st != FE_OK)
            break;
    }
    free(line);
    fclose(f);
    return st;
}

static void fe_pred_arm_release(struct fe_pred_arm *p)
{
    free(p->name);
    free(p->path);
    fe_strmap_release(&p->index);
    for (size_t i = 0; i < p->n; i++)
        free(p->preds[i]);
    free(p->preds);
}

static char **fe_split_csv(const char *s, size_t *n)
{
    char **out = NULL;
    *n = 0;
    for (const char *p = s; *p;) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        if (len) {
            out = fe_xreallocarray(out, *n + 1, sizeof(*out));
            out[(*n)++] = fe_xstrndup(p, len);
        }
        p += len + (comma ? 1 : 0);
    }
    return out;
}

int fe_cmd_score(int argc, char **argv)
{
    const char *dataset = NULL, *baseline = NULL, *config_path = NULL, *out = NULL, *metrics_arg = NULL;
    struct fe_pred_arm *arms = NULL;
    size_t n_arms = 0;
    long seed = -1, resamples = -1;
    int rc = 0;
    for (int i = 1; i < argc; i++) {
        const char *s = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        bool takes = strcmp(s, "--dataset") == 0 || strcmp(s, "--pred") == 0 || strcmp(s, "--baseline") == 0 ||
                     strcmp(s, "--config") == 0 || strcmp(s, "--out") == 0 || strcmp(s, "--seed") == 0 ||
                     strcmp(s, "--resamples") == 0 || strcmp(s, "--metrics") == 0;
        if (!takes) {
            rc = fe_usage_error("score", s[0] == '-' ? "unknown option '%s'" : "unexpected argument '%s'", s);
            goto done;
        }
        if (!v) {
            rc = fe_usage_error("score", "option '%s' needs a value", s);
            goto done;
        }
        i++;
        if (strcmp(s, "--dataset") == 0) {
            dataset = v;
        } else if (strcmp(s, "--baseline") == 0) {
            baseline = v;
        } else if (strcmp(s, "--config") == 0) {
            config_path = v;
        } else if (strcmp(s, "--out") == 0) {
            out = v;
        } else if (strcmp(s, "--metrics") == 0) {
            metrics_arg = v;
        } else if (strcmp(s, "--seed") == 0 || strcmp(s, "--resamples") == 0) {
            long *dst = s[2] == 's' ? &seed : &resamples;
            if (!fe_parse_long(v, dst) || *dst < (s[2] == 's' ? 0 : 1)) {
                rc = fe_usage_error("score", "%s: '%s' is not a valid number", s, v);
                goto done;
            }
        } else {
            const char *eq = strchr(v, '=');
            if (!eq || eq == v || !eq[1]) {
                rc = fe_usage_error("score", "--pred: '%s' is not ARM=FILE", v);
                goto done;
            }
            arms = fe_xreallocarray(arms, n_arms + 1, sizeof(*arms));
            memset(&arms[n_arms], 0, sizeof(*arms));
            arms[n_arms].name = fe_xstrndup(v, (size_t)(eq - v));
            arms[n_arms].path = fe_xstrdup(eq + 1);
            for (size_t k = 0; k < n_arms; k++)
                if (strcmp(arms[k].name, arms[n_arms].name) == 0) {
                    n_arms++;
                    rc = fe_usage_error("score", "--pred: arm '%s' given twice", arms[n_arms - 1].name);
                    goto done;
                }
            n_arms++;
        }
    }
    if (!dataset || n_arms == 0) {
        rc = fe_usage_error("score", "need --dataset FILE and at least one --pred ARM=FILE");
        goto done;
    }
    if (baseline) {
        bool found = false;
        for (size_t k = 0; k < n_arms; k++)
            found = found || strcmp(arms[k].name, baseline) == 0;
        if (!found) {
            rc = fe_usage_error("score", "--baseline: no --pred arm named '%s'", baseline);
            goto done;
        }
    }

    struct fe_err err = {0};
    struct fe_config *c = NULL;
    struct fe_example *ex = NULL;
    size_t n_ex = 0;
    cJSON *manifest = NULL;
    char *dir = NULL;
    char **metrics = NULL;
    size_t n_metrics = 0;
    struct fe_stats_opts stats;
    fe_stats_opts_default(&stats);
    const char *name = "score";
    enum fe_status st = FE_OK;
    if (config_path) {
        st = fe_config_load(config_path, NULL, &c, &err);
        if (st != FE_OK)
            goto fail;
        stats = c->stats;
        name = c->name;
    }
    if (metrics_arg) {
        metrics = fe_split_csv(metrics_arg, &n_metrics);
    } else if (c) {
        metrics = fe_xcalloc(c->n_metrics, sizeof(*metrics));
        for (size_t m = 0; m < c->n_metrics; m++)
            metrics[n_metrics++] = fe_xstrdup(c->metrics[m]);
    } else {
        metrics = fe_split_csv("exact_match,f1", &n_metrics);
    }
    for (size_t m = 0; m < n_metrics; m++)
        if (!fe_metric_find(metrics[m])) {
            rc = fe_usage_error("score", "--metrics: unknown metric '%s'", metrics[m]);
            goto cleanup;
        }
    if (seed >= 0)
        stats.seed = (unsigned long)seed;
    if (resamples > 0)
        stats.resamples = (size_t)resamples;

    st = fe_dataset_load(dataset, &ex, &n_ex, &err);
    if (st != FE_OK)
        goto fail;
    if (n_ex == 0) {
        st = fe_err_set(&err, FE_EINVALID, "%s: no examples", dataset);
        goto fail;
    }
    for (size_t k = 0; k < n_arms; k++) {
        if ((st = fe_load_predictions(&arms[k], &err)) != FE_OK)
            goto fail;
        fe_sha256_file(arms[k].path, arms[k].sha256);
    }

    char run_id[32];
    fe_new_run_id(run_id);
    dir = out ? fe_xstrdup(out) : fe_xasprintf("results/%s/%s", name, run_id);
    if (fe_mkdir_p(dir) != 0) {
        st = fe_err_set(&err, FE_EIO, "%s: cannot create: %s", dir, strerror(errno));
        goto fail;
    }
    manifest = fe_manifest_new("score", name, run_id);
    if (c)
        fe_manifest_add_config(manifest, c);
    cJSON_DeleteItemFromObjectCaseSensitive(manifest, "metrics");
    cJSON *jm = cJSON_AddArrayToObject(manifest, "metrics");
    for (size_t m = 0; m < n_metrics; m++)
        cJSON_AddItemToArray(jm, cJSON_CreateString(metrics[m]));
    cJSON_DeleteItemFromObjectCaseSensitive(manifest, "primary_metric");
    cJSON_AddStringToObject(manifest, "primary_metric", metrics[0]);
    cJSON_DeleteItemFromObjectCaseSensitive(manifest, "baseline_arm");
    cJSON_AddStringToObject(manifest, "baseline_arm", baseline ? baseline : arms[0].name);
    cJSON_DeleteItemFromObjectCaseSensitive(manifest, "candidate_arm");
    const char *candidate = arms[n_arms - 1].name;
    if (c && fe_config_arm_index(c, c->candidate_arm) >= 0)
        for (size_t k = 0; k < n_arms; k++)
            if (strcmp(arms[k].name, c->candidate_arm) == 0)
                candidate = arms[k].name;
    cJSON_AddStringToObject(manifest, "candidate_arm", candidate);
    cJSON_DeleteItemFromObjectCaseSensitive(manifest, "arms");
    cJSON *jarms = cJSON_AddArrayToObject(manifest, "arms");
    for (size_t k = 0; k < n_arms; k++) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "name", arms[k].name);
        long ci = c ? fe_config_arm_index(c, arms[k].name) : -1;
        if (ci >= 0 && c->arms[ci].model)
            cJSON_AddStringToObject(o, "model", c->arms[ci].model);
        cJSON_AddStringToObject(o, "predictions", arms[k].path);
        cJSON_AddStringToObject(o, "predictions_sha256", arms[k].sha256);
        cJSON_AddItemToArray(jarms, o);
    }
    cJSON *jst = cJSON_GetObjectItemCaseSensitive(manifest, "stats");
    if (!jst)
        jst = cJSON_AddObjectToObject(manifest, "stats");
    cJSON_DeleteItemFromObjectCaseSensitive(jst, "seed");
    cJSON_DeleteItemFromObjectCaseSensitive(jst, "resamples");
    cJSON_AddNumberToObject(jst, "seed", (double)stats.seed);
    cJSON_AddNumberToObject(jst, "resamples", (double)stats.resamples);
    if (!cJSON_GetObjectItemCaseSensitive(jst, "alpha"))
        cJSON_AddNumberToObject(jst, "alpha", stats.alpha);
    if (!cJSON_GetObjectItemCaseSensitive(jst, "correction"))
        cJSON_AddStringToObject(jst, "correction", "holm");
    char sha[65] = "";
    fe_sha256_file(dataset, sha);
    fe_manifest_set_dataset(manifest, dataset, ex[n_ex - 1].line, n_ex, sha);

    for (size_t k = 0; k < n_arms && st == FE_OK; k++) {
        struct fe_journal j;
        char *path = fe_xasprintf("%s/%s.jsonl", dir, arms[k].name);
        st = fe_journal_open(&j, path, false, NULL, NULL, &err);
        free(path);
        size_t used = 0, missing = 0;
        for (size_t i = 0; i < n_ex && st == FE_OK; i++) {
            size_t at;
            bool have = fe_strmap_get(&arms[k].index, ex[i].id, &at);
            const char *pred = have ? arms[k].preds[at] : NULL;
            used += have;
            missing += !pred;
            struct fe_record_in in = {
                .arm = arms[k].name, .metrics = metrics, .n_metrics = n_metrics, .ex = &ex[i],
                .ok = pred != NULL, .prediction = pred, .attempts = pred ? 1 : 0,
                .latency_ms = NAN, /* made elsewhere: no latency, null (issue 11 §7) */
                .error_kind = FE_ERRK_OFFLINE,
                .error_message = have ? "the prediction is null" : "no prediction for this id",
            };
            double cost;
            cJSON *rec = fe_record_build(&in, &cost);
            char *text = cJSON_PrintUnformatted(rec);
            st = fe_journal_append(&j, text, strlen(text), &err);
            cJSON_free(text);
            cJSON_Delete(rec);
        }
        enum fe_status cst = fe_journal_close(&j, &err); /* the first error wins */
        if (st == FE_OK)
            st = cst;
        if (missing)
            fe_warn("arm '%s': %zu of %zu examples have no prediction and count as failed", arms[k].name,
                    missing, n_ex);
        if (used < arms[k].n)
            fe_warn("%s: %zu predictions have ids that are not in %s", arms[k].path, arms[k].n - used, dataset);
    }
    if (st == FE_OK)
        st = fe_manifest_save(manifest, dir, "complete", &err);
    if (st == FE_OK)
        st = fe_outputs_write(dir, &stats, true, &err);
    if (st == FE_OK)
        printf("results: %s\n", dir);
fail:
    if (st != FE_OK) {
        fe_error("%s", err.msg);
        rc = fe_status_exit_code(st);
    }
cleanup:
    for (size_t m = 0; m < n_metrics; m++)
        free(metrics[m]);
    free(metrics);
    fe_examples_free(ex, n_ex);
    cJSON_Delete(manifest);
    free(dir);
    fe_config_free(c);
done:
    for (size_t k = 0; k < n_arms; k++)
        fe_pred_arm_release(&arms[k]);
    free(arms);
    return rc;
}
