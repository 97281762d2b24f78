/* cmd_score.c — `fteval score`: scores predictions made elsewhere against a dataset's golds and
 * writes the same results directory as `run`. No network. */
#include <errno.h>
#include <limits.h>
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

static const struct fe_usage fe_score_usage = {
    .command = "score",
    .synopsis =
        "usage: fteval score --dataset FILE --pred ARM=FILE [--pred ARM=FILE ...] [--baseline ARM]\n"
        "                    [--config CONFIG] [--metrics M,M] [--seed N] [--resamples N] [--out DIR]\n"
        "\n"
        "Scores predictions made elsewhere (JSONL lines {\"id\": ..., \"prediction\": \"...\"}) against\n"
        "the golds of FILE and writes a results directory like `fteval run` does. An example without a\n"
        "prediction counts as failed (score 0). No network.\n",
};

/* One arm's predictions. Not held (issue 14): the index maps each id to its line's offset in the
 * file, and the prediction is read back from there when its record is written. */
struct fe_pred_arm {
    char *name;
    char *path;
    char sha256[65];
    struct fe_strmap index;   /* id -> offset of its line in path */
    FILE *f;                  /* path, open while the records are written */
    size_t n;
};

/* The length of a predictions line without its trailing newline, CR and spaces. */
static size_t fe_pred_trim(const char *line, size_t len)
{
    while (len && (line[len - 1] == '\n' || line[len - 1] == '\r' || line[len - 1] == ' '))
        len--;
    return len;
}

/* What a prediction scores as: its string, the JSON text of structured output, NULL for null (a
 * failed generation). Caller frees. */
static char *fe_pred_text(const cJSON *pred)
{
    if (cJSON_IsString(pred))
        return fe_xstrdup(pred->valuestring);
    if (!cJSON_IsObject(pred) && !cJSON_IsArray(pred))
        return NULL;
    char *text = cJSON_PrintUnformatted(pred);
    char *out = fe_xstrdup(text);
    cJSON_free(text);
    return out;
}

/* The prediction on the (checked) line at off of p's file, read back: *out as fe_pred_text. */
static enum fe_status fe_pred_read(struct fe_pred_arm *p, size_t off, char **out, struct fe_err *err)
{
    *out = NULL;
    char *line = NULL;
    size_t cap = 0;
    ssize_t got = fseeko(p->f, (off_t)off, SEEK_SET) == 0 ? getline(&line, &cap, p->f) : -1;
    cJSON *j = got > 0 ? cJSON_ParseWithLength(line, fe_pred_trim(line, (size_t)got)) : NULL;
    free(line);
    if (!j)
        return fe_err_set(err, FE_EIO, "%s: the file changed while scoring", p->path);
    *out = fe_pred_text(cJSON_GetObjectItemCaseSensitive(j, "prediction"));
    cJSON_Delete(j);
    return FE_OK;
}

static enum fe_status fe_load_predictions(struct fe_pred_arm *p, struct fe_err *err)
{
    FILE *f = fopen(p->path, "rb");
    if (!f)
        return fe_err_set(err, FE_EIO, "%s: cannot open: %s", p->path, strerror(errno));
    fe_strmap_init(&p->index);
    char *line = NULL;
    size_t cap = 0, lineno = 0, off = 0;
    ssize_t got;
    enum fe_status st = FE_OK;
    for (; (got = getline(&line, &cap, f)) > 0; off += (size_t)got) {
        lineno++;
        size_t len = fe_pred_trim(line, (size_t)got);
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
        } else if (!fe_strmap_put(&p->index, id_text, off)) {
            st = fe_err_set(err, FE_EINVALID, "%s:%zu: field 'id': duplicate id '%s'", p->path, lineno, id_text);
        } else {
            p->n++;
        }
        free(id_text);
        cJSON_Delete(j);
        if (st != FE_OK)
            break;
    }
    free(line);
    if (st == FE_OK && ferror(f))
        st = fe_err_set(err, FE_EIO, "%s: read error", p->path);
    if (st == FE_OK)
        p->f = f; /* read back as the records are written */
    else
        fclose(f);
    return st;
}

static void fe_pred_arm_release(struct fe_pred_arm *p)
{
    free(p->name);
    free(p->path);
    fe_strmap_release(&p->index);
    if (p->f)
        fclose(p->f);
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


struct fe_score_args {
    const char *dataset, *baseline, *config_path, *out, *metrics_arg;
    long seed, resamples; /* -1: not given */
    struct fe_pred_arm *arms;
    size_t n_arms;
};

static void fe_score_args_release(struct fe_score_args *a)
{
    for (size_t k = 0; k < a->n_arms; k++)
        fe_pred_arm_release(&a->arms[k]);
    free(a->arms);
}

/* Turns the --pred ARM=FILE values into arms, in order. Returns 0 or a usage error. */
static int fe_score_add_preds(struct fe_score_args *a, const struct fe_strlist *preds)
{
    for (size_t i = 0; i < preds->n; i++) {
        const char *v = preds->v[i];
        const char *eq = strchr(v, '=');
        if (!eq || eq == v || !eq[1])
            return fe_usage_error("score", "--pred: '%s' is not ARM=FILE", v);
        a->arms = fe_xreallocarray(a->arms, a->n_arms + 1, sizeof(*a->arms));
        struct fe_pred_arm *arm = &a->arms[a->n_arms++];
        memset(arm, 0, sizeof(*arm));
        arm->name = fe_xstrndup(v, (size_t)(eq - v));
        arm->path = fe_xstrdup(eq + 1);
        for (size_t k = 0; k + 1 < a->n_arms; k++)
            if (strcmp(a->arms[k].name, arm->name) == 0)
                return fe_usage_error("score", "--pred: arm '%s' given twice", arm->name);
    }
    return 0;
}

/* Returns true to go on, else false with the exit code in *rc. */
static bool fe_score_parse(int argc, char **argv, struct fe_score_args *a, int *rc)
{
    memset(a, 0, sizeof(*a));
    a->seed = a->resamples = -1;
    struct fe_strlist preds = {0};
    struct fe_option opts[] = {
        FE_OPTION_STRING(0, "dataset", &a->dataset, "FILE", "the dataset whose golds score the predictions"),
        FE_OPTION_LIST(0, "pred", &preds, "ARM=FILE", "one arm's predictions (repeat for several arms)"),
        FE_OPTION_STRING(0, "baseline", &a->baseline, "ARM",
                         "the arm every other arm is compared with (default: the first)"),
        FE_OPTION_STRING(0, "config", &a->config_path, "CONFIG",
                         "take name, task.metrics, task.schema/task.pattern, stats settings, dataset_format and task.*_field from a run config (JSON or YAML)"),
        FE_OPTION_STRING(0, "metrics", &a->metrics_arg, "M,M", "metrics to score (default exact_match,f1)"),
        FE_OPTION_LONG(0, "seed", &a->seed, "N", 0, LONG_MAX, "bootstrap seed"),
        FE_OPTION_LONG(0, "resamples", &a->resamples, "N", 1, LONG_MAX, "bootstrap resamples"),
        FE_OPTION_STRING(0, "out", &a->out, "DIR", "results directory (default results/<name>/<run-id>)"),
        FE_OPTION_END(),
    };
    int n = fe_parse_options(argc, argv, &fe_score_usage, opts);
    if (n < 0)
        *rc = fe_parse_exit_code(n);
    else if (n > 0)
        *rc = fe_usage_error("score", "unexpected argument '%s'", argv[0]);
    else
        *rc = fe_score_add_preds(a, &preds);
    fe_strlist_release(&preds);
    if (n != 0 || *rc)
        return false;
    if (!a->dataset || a->n_arms == 0) {
        *rc = fe_usage_error("score", "need --dataset FILE and at least one --pred ARM=FILE");
        return false;
    }
    if (a->baseline) {
        bool found = false;
        for (size_t k = 0; k < a->n_arms; k++)
            found = found || strcmp(a->arms[k].name, a->baseline) == 0;
        if (!found) {
            *rc = fe_usage_error("score", "--baseline: no --pred arm named '%s'", a->baseline);
            return false;
        }
    }
    return true;
}

/* What the scoring runs with: the config (if any), the metrics and the statistics settings. */
struct fe_score_setup {
    struct fe_config *c;
    char **metrics;
    size_t n_metrics;
    struct fe_stats_opts stats;
    const char *name;
};

static void fe_score_setup_release(struct fe_score_setup *s)
{
    for (size_t m = 0; m < s->n_metrics; m++)
        free(s->metrics[m]);
    free(s->metrics);
    fe_config_free(s->c);
}

/* Fills s from --config, --metrics, --seed and --resamples. An unknown metric, or one that needs
 * task.schema/task.pattern without a --config, is a usage error:
 * returns FE_EUSAGE after printing it (err stays unset). */
static enum fe_status fe_score_settings(const struct fe_score_args *a, struct fe_score_setup *s,
                                        struct fe_err *err)
{
    memset(s, 0, sizeof(*s));
    fe_stats_opts_default(&s->stats);
    s->name = "score";
    if (a->config_path) {
        enum fe_status st = fe_config_load(a->config_path, NULL, &s->c, err);
        if (st != FE_OK)
            return st;
        s->stats = s->c->stats;
        s->name = s->c->name;
    }
    if (a->metrics_arg) {
        s->metrics = fe_split_csv(a->metrics_arg, &s->n_metrics);
    } else if (s->c) {
        s->metrics = fe_xcalloc(s->c->n_metrics, sizeof(*s->metrics));
        for (size_t m = 0; m < s->c->n_metrics; m++)
            s->metrics[s->n_metrics++] = fe_xstrdup(s->c->metrics[m]);
    } else {
        s->metrics = fe_split_csv("exact_match,f1", &s->n_metrics);
    }
    for (size_t m = 0; m < s->n_metrics; m++) {
        const struct fe_metric *def = fe_metric_find(s->metrics[m]);
        if (!def) {
            fe_usage_error("score", "--metrics: unknown metric '%s'", s->metrics[m]);
            return FE_EUSAGE;
        }
        const char *missing = fe_metric_missing(def, s->c ? &s->c->metric_task : NULL);
        if (missing && !s->c) {
            fe_usage_error("score", "--metrics: metric '%s' needs %s: give a --config that sets it", s->metrics[m],
                           missing);
            return FE_EUSAGE;
        }
        if (missing)
            return fe_err_set(err, FE_EINVALID, "%s: %s: missing; metric '%s' needs it", a->config_path, missing,
                              s->metrics[m]);
    }
    if (a->seed >= 0)
        s->stats.seed = (unsigned long)a->seed;
    if (a->resamples > 0)
        s->stats.resamples = (size_t)a->resamples;
    return FE_OK;
}

/* Reads the dataset through once (every row must read; n_ex and the last example's line are
 * kept, the examples are not: each arm's records read them again) and indexes every arm's
 * predictions. */
static enum fe_status fe_score_load(struct fe_score_args *a, const struct fe_config *c, size_t *n_ex,
                                    size_t *last_line, struct fe_err *err)
{
    struct fe_dataset_reader *rd;
    /* the config's dataset_format and field mapping, when --config names one */
    enum fe_status st = fe_dataset_open_with(&rd, a->dataset, c ? &c->dataset_opts : NULL, err);
    if (st != FE_OK)
        return st;
    struct fe_example ex;
    int got;
    while ((got = fe_dataset_next(rd, &ex, err)) == 1) {
        (*n_ex)++;
        *last_line = ex.line;
        fe_example_release(&ex);
    }
    fe_dataset_close(rd);
    if (got < 0)
        return err->code;
    if (*n_ex == 0)
        return fe_err_set(err, FE_EINVALID, "%s: no examples", a->dataset);
    for (size_t k = 0; k < a->n_arms; k++) {
        if ((st = fe_load_predictions(&a->arms[k], err)) != FE_OK)
            return st;
        fe_sha256_file(a->arms[k].path, a->arms[k].sha256);
    }
    return FE_OK;
}

/* The run manifest of a score: arms are the --pred files, metrics and stats as scored. */
static cJSON *fe_score_manifest(const struct fe_score_args *a, const struct fe_score_setup *s, size_t n_ex,
                                size_t last_line, const char *run_id)
{
    const struct fe_config *c = s->c;
    cJSON *manifest = fe_manifest_new("score", s->name, run_id);
    if (c)
        fe_manifest_add_config(manifest, c);
    cJSON_DeleteItemFromObjectCaseSensitive(manifest, "metrics");
    cJSON *jm = cJSON_AddArrayToObject(manifest, "metrics");
    for (size_t m = 0; m < s->n_metrics; m++)
        cJSON_AddItemToArray(jm, cJSON_CreateString(s->metrics[m]));
    cJSON_DeleteItemFromObjectCaseSensitive(manifest, "primary_metric");
    cJSON_AddStringToObject(manifest, "primary_metric", s->metrics[0]);
    cJSON_DeleteItemFromObjectCaseSensitive(manifest, "baseline_arm");
    cJSON_AddStringToObject(manifest, "baseline_arm", a->baseline ? a->baseline : a->arms[0].name);
    cJSON_DeleteItemFromObjectCaseSensitive(manifest, "candidate_arm");
    const char *candidate = a->arms[a->n_arms - 1].name;
    if (c && fe_config_arm_index(c, c->candidate_arm) >= 0)
        for (size_t k = 0; k < a->n_arms; k++)
            if (strcmp(a->arms[k].name, c->candidate_arm) == 0)
                candidate = a->arms[k].name;
    cJSON_AddStringToObject(manifest, "candidate_arm", candidate);
    cJSON_DeleteItemFromObjectCaseSensitive(manifest, "arms");
    cJSON *jarms = cJSON_AddArrayToObject(manifest, "arms");
    for (size_t k = 0; k < a->n_arms; k++) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "name", a->arms[k].name);
        long ci = c ? fe_config_arm_index(c, a->arms[k].name) : -1;
        if (ci >= 0 && c->arms[ci].model)
            cJSON_AddStringToObject(o, "model", c->arms[ci].model);
        cJSON_AddStringToObject(o, "predictions", a->arms[k].path);
        cJSON_AddStringToObject(o, "predictions_sha256", a->arms[k].sha256);
        cJSON_AddItemToArray(jarms, o);
    }
    cJSON *jst = cJSON_GetObjectItemCaseSensitive(manifest, "stats");
    if (!jst)
        jst = cJSON_AddObjectToObject(manifest, "stats");
    cJSON_DeleteItemFromObjectCaseSensitive(jst, "seed");
    cJSON_DeleteItemFromObjectCaseSensitive(jst, "resamples");
    cJSON_AddNumberToObject(jst, "seed", (double)s->stats.seed);
    cJSON_AddNumberToObject(jst, "resamples", (double)s->stats.resamples);
    if (!cJSON_GetObjectItemCaseSensitive(jst, "alpha"))
        cJSON_AddNumberToObject(jst, "alpha", s->stats.alpha);
    if (!cJSON_GetObjectItemCaseSensitive(jst, "correction"))
        cJSON_AddStringToObject(jst, "correction", "holm");
    char sha[65] = "";
    fe_sha256_file(a->dataset, sha);
    fe_manifest_set_dataset(manifest, a->dataset, last_line, n_ex, sha);
    return manifest;
}

/* The record's "input": what the config's arm of that name sends last as the user (rendered by
 * its template), else a chat example's own final user message; NULL when neither is known. */
static char *fe_score_input(const struct fe_score_setup *s, const char *arm, const struct fe_example *ex)
{
    long a = s->c ? fe_config_arm_index(s->c, arm) : -1;
    if (a < 0)
        return ex->chat ? fe_xstrdup(fe_final_user_message(ex->messages, ex->n_messages)) : NULL;
    struct fe_message *m = NULL;
    size_t n = 0;
    struct fe_err berr = {0};
    if (fe_build_messages(s->c, &s->c->arms[a], ex, &m, &n, &berr) != FE_OK)
        return NULL;
    char *input = fe_xstrdup(fe_final_user_message(m, n));
    fe_messages_free(m, n);
    return input;
}

/* Writes <dir>/<arm>.jsonl: one record per example (the dataset read again, one example at a
 * time), failed where the prediction is missing. */
static enum fe_status fe_score_write_arm(const char *dir, struct fe_pred_arm *arm, const struct fe_score_setup *s,
                                         size_t n_ex, const char *dataset, struct fe_err *err)
{
    struct fe_journal j;
    char *path = fe_xasprintf("%s/%s.jsonl", dir, arm->name);
    enum fe_status st = fe_journal_open(&j, path, false, NULL, NULL, err);
    free(path);
    struct fe_dataset_reader *rd = NULL;
    if (st == FE_OK)
        st = fe_dataset_open_with(&rd, dataset, s->c ? &s->c->dataset_opts : NULL, err);
    size_t used = 0, missing = 0;
    for (size_t i = 0; i < n_ex && st == FE_OK; i++) {
        struct fe_example ex;
        int got = fe_dataset_next(rd, &ex, err);
        if (got <= 0) {
            st = got < 0 ? err->code : fe_err_set(err, FE_EIO, "%s: the file changed while scoring", dataset);
            break;
        }
        size_t at;
        bool have = fe_strmap_get(&arm->index, ex.id, &at);
        char *pred = NULL;
        if (have && (st = fe_pred_read(arm, at, &pred, err)) != FE_OK) {
            fe_example_release(&ex);
            break;
        }
        used += have;
        missing += !pred;
        struct fe_record_in in = {
            .arm = arm->name, .metrics = s->metrics, .n_metrics = s->n_metrics, .ex = &ex,
            .task = s->c ? &s->c->metric_task : NULL,
            .ok = pred != NULL, .prediction = pred, .attempts = pred ? 1 : 0,
            .latency_ms = NAN, /* made elsewhere: no latency, null (issue 11 §7) */
            .error_kind = FE_ERRK_OFFLINE,
            .error_message = have ? "the prediction is null" : "no prediction for this id",
        };
        char *input = fe_score_input(s, arm->name, &ex);
        in.input = input;
        double cost;
        cJSON *rec = fe_record_build(&in, &cost);
        free(input);
        free(pred);
        fe_example_release(&ex);
        char *text = cJSON_PrintUnformatted(rec);
        st = fe_journal_append(&j, text, strlen(text), err);
        cJSON_free(text);
        cJSON_Delete(rec);
    }
    fe_dataset_close(rd);
    enum fe_status cst = fe_journal_close(&j, err); /* the first error wins */
    if (st == FE_OK)
        st = cst;
    if (missing)
        fe_warn("arm '%s': %zu of %zu examples have no prediction and count as failed", arm->name,
                missing, n_ex);
    if (used < arm->n)
        fe_warn("%s: %zu predictions have ids that are not in %s", arm->path, arm->n - used, dataset);
    return st;
}

int fe_cmd_score(int argc, char **argv)
{
    struct fe_score_args a;
    int rc = FE_EXIT_OK;
    if (!fe_score_parse(argc, argv, &a, &rc)) {
        fe_score_args_release(&a);
        return rc;
    }
    struct fe_err err = {0};
    struct fe_score_setup s;
    size_t n_ex = 0, last_line = 0;
    cJSON *manifest = NULL;
    char *dir = NULL;
    enum fe_status st = fe_score_settings(&a, &s, &err);
    if (st == FE_OK)
        st = fe_score_load(&a, s.c, &n_ex, &last_line, &err);
    char run_id[32];
    fe_new_run_id(run_id);
    if (st == FE_OK) {
        dir = a.out ? fe_xstrdup(a.out) : fe_xasprintf("results/%s/%s", s.name, run_id);
        if (fe_mkdir_p(dir) != 0)
            st = fe_err_set(&err, FE_EIO, "%s: cannot create: %s", dir, strerror(errno));
    }
    if (st == FE_OK)
        manifest = fe_score_manifest(&a, &s, n_ex, last_line, run_id);
    for (size_t k = 0; k < a.n_arms && st == FE_OK; k++)
        st = fe_score_write_arm(dir, &a.arms[k], &s, n_ex, a.dataset, &err);
    if (st == FE_OK)
        st = fe_manifest_save(manifest, dir, "complete", &err);
    if (st == FE_OK)
        st = fe_outputs_write(dir, &s.stats, true, &err);
    if (st == FE_OK)
        printf("results: %s\n", dir);
    if (st == FE_EUSAGE) {
        rc = FE_EXIT_USAGE; /* already printed */
    } else if (st != FE_OK) {
        fe_error("%s", err.msg);
        rc = fe_status_exit_code(st);
    }
    fe_score_setup_release(&s);
    cJSON_Delete(manifest);
    free(dir);
    fe_score_args_release(&a);
    return rc;
}
