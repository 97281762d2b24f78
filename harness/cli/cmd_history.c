/* cmd_history.c — `fteval history`: the metric trend of a config's runs (history.h). */
#include <limits.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness/base/buf.h"
#include "harness/cli/commands.h"
#include "harness/analysis/compare.h"
#include "harness/base/err.h"
#include "harness/analysis/history.h"
#include "harness/rundir/rundir.h"
#include "harness/base/util.h"

static const struct fe_usage fe_history_usage = {
    .command = "history",
    .synopsis = "usage: fteval history NAME_OR_DIR [--metric M] [--last N] [--json]\n"
                "       fteval history --append RUN_DIR\n"
                "\n"
                "Prints the trend of a metric per arm over the runs recorded in history.jsonl (one line\n"
                "per run, appended by 'fteval run'): mean, CI, cost per inference and a sparkline.\n"
                "NAME_OR_DIR is a config name (results/NAME), its results folder, or one of its runs.\n",
    .epilogue = "exit codes: 0 ok, 2 usage, 3 no history or an invalid history file\n",
};

static const cJSON *fe_get(const cJSON *o, const char *k)
{
    return cJSON_GetObjectItemCaseSensitive(o, k);
}

static const char *fe_gets(const cJSON *o, const char *k)
{
    const cJSON *v = fe_get(o, k);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* The mean of metric for arm in entry e, NAN when the entry has none. */
static double fe_mean_of(const struct fe_history_entry *e, const char *arm, const char *metric)
{
    const struct fe_history_metric *m = fe_history_metric(fe_history_arm(e, arm), metric);
    return m ? m->mean : NAN;
}

/* Eight-level block sparkline of x[0..n) (NaN: a space). */
static void fe_sparkline(struct fe_buf *out, const double *x, size_t n)
{
    static const char *const bars[] = {"\u2581", "\u2582", "\u2583", "\u2584",
                                       "\u2585", "\u2586", "\u2587", "\u2588"};
    double lo = INFINITY, hi = -INFINITY;
    for (size_t i = 0; i < n; i++)
        if (isfinite(x[i])) {
            lo = x[i] < lo ? x[i] : lo;
            hi = x[i] > hi ? x[i] : hi;
        }
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(x[i])) {
            fe_buf_adds(out, " ");
            continue;
        }
        size_t k = hi > lo ? (size_t)((x[i] - lo) / (hi - lo) * 7 + 0.5) : 3;
        fe_buf_adds(out, bars[k > 7 ? 7 : k]);
    }
}

static int fe_append(const char *dir)
{
    struct fe_err err = {0};
    struct fe_run *run = NULL;
    if (fe_run_load(dir, &run, &err) != FE_OK || fe_history_append(run, NULL, &err) != FE_OK) {
        fprintf(stderr, "fteval: error: %s\n", err.msg);
        fe_run_free(run);
        return FE_EXIT_INVALID;
    }
    char *path = fe_history_path(dir);
    printf("appended run '%s' to %s\n", fe_gets(run->manifest, "run_id") ? fe_gets(run->manifest, "run_id") : dir,
           path);
    free(path);
    fe_run_free(run);
    return FE_EXIT_OK;
}

/* One row per run of one arm: run, time, model, mean, CI, cost per inference. */
static void fe_render_row(const struct fe_history_entry *e, const struct fe_history_arm *ae,
                          const char *metric, double mean, struct fe_buf *out)
{
    struct fe_buf id = {0}, model = {0};
    fe_compare_add_term(&id, e->run_id, 26);
    fe_compare_add_term(&model, ae->model, 40);
    fe_buf_addf(out, "  %-26s %-20s %-40s ", fe_buf_str(&id), fe_str_or(e->time, "-"),
                fe_buf_str(&model));
    fe_buf_release(&id);
    fe_buf_release(&model);
    if (isfinite(mean))
        fe_buf_addf(out, "%8.4f ", mean);
    else
        fe_buf_addf(out, "%8s ", "-");
    const struct fe_history_metric *m = fe_history_metric(ae, metric);
    if (m && fe_has(m->ci_lo))
        fe_buf_addf(out, "[%7.4f, %7.4f] ", m->ci_lo, m->ci_hi);
    else
        fe_buf_addf(out, "%19s ", "-");
    if (fe_has(ae->cost_per_inference_usd))
        fe_buf_addf(out, "%12.7f\n", ae->cost_per_inference_usd);
    else
        fe_buf_addf(out, "%12s\n", "unknown");
}

static void fe_render(const cJSON *hist, const char *metric, size_t first, struct fe_buf *out)
{
    struct fe_history_view hv;
    fe_history_view_parse(hist, &hv);
    size_t total = hv.n;
    /* arms in order of first appearance */
    const char **arms = fe_xcalloc(1, sizeof(*arms));
    size_t n_arms = 0;
    for (size_t i = first; i < total; i++) {
        for (size_t a = 0; a < hv.entries[i].n_arms; a++) {
            const char *name = hv.entries[i].arms[a].name;
            bool seen = !name;
            for (size_t k = 0; k < n_arms && !seen; k++)
                seen = strcmp(arms[k], name) == 0;
            if (!seen) {
                arms = fe_xreallocarray(arms, n_arms + 1, sizeof(*arms));
                arms[n_arms++] = name;
            }
        }
    }
    fe_buf_addf(out, "%zu run(s) shown, metric %s\n", total - first, metric);
    for (size_t a = 0; a < n_arms; a++) {
        const char *arm = arms[a];
        fe_buf_adds(out, "\narm ");
        fe_compare_add_term(out, arm, 40);
        fe_buf_addf(out, "\n  %-26s %-20s %-40s %8s %19s %12s\n", "run", "time", "model", "mean",
                    "CI", "cost/inf");
        size_t n = total - first, k = 0;
        double *xs = fe_xcalloc(n ? n : 1, sizeof(*xs));
        for (size_t i = first; i < total; i++) {
            const struct fe_history_entry *e = &hv.entries[i];
            const struct fe_history_arm *ae = fe_history_arm(e, arm);
            xs[k++] = fe_mean_of(e, arm, metric);
            if (ae)
                fe_render_row(e, ae, metric, xs[k - 1], out);
        }
        fe_buf_adds(out, "  trend ");
        fe_sparkline(out, xs, k);
        double lo = INFINITY, hi = -INFINITY, last = NAN, prev = NAN;
        for (size_t i = 0; i < k; i++) {
            if (!isfinite(xs[i]))
                continue;
            lo = xs[i] < lo ? xs[i] : lo;
            hi = xs[i] > hi ? xs[i] : hi;
            prev = last;
            last = xs[i];
        }
        if (isfinite(last)) {
            fe_buf_addf(out, "  min %.4f, max %.4f, last %.4f", lo, hi, last);
            if (isfinite(prev))
                fe_buf_addf(out, " (%+.4f vs previous)", last - prev);
        }
        fe_buf_adds(out, "\n");
        free(xs);
    }
    free(arms);
    fe_history_view_release(&hv);
}

int fe_cmd_history(int argc, char **argv)
{
    const char *target = NULL, *metric = NULL, *append = NULL;
    bool json = false;
    long last = 30;
    const unsigned ne = FE_OPTF_NONEMPTY;
    const struct fe_option opts[] = {
        FE_OPTION_STRING_F(0, "metric", &metric, "M", ne, "the metric to show (default: the primary metric)"),
        FE_OPTION_LONG(0, "last", &last, "N", 1, LONG_MAX, "only the N most recent runs (default 30)"),
        FE_OPTION_FLAG(0, "json", &json, "print the history entries as a JSON array"),
        FE_OPTION_STRING_F(0, "append", &append, "RUN_DIR", ne,
                           "add a finished run to its history (backfill; 'run' does this itself)"),
        FE_OPTION_END(),
    };
    int n = fe_parse_options(argc, argv, &fe_history_usage, opts);
    if (n < 0)
        return fe_parse_exit_code(n);
    if (n > 1)
        return fe_usage_error("history", "unexpected argument '%s'", argv[1]);
    target = n ? argv[0] : NULL;
    if (append)
        return target ? fe_usage_error("history", "--append takes the run directory only")
                      : fe_append(append);
    if (!target)
        return fe_usage_error("history", "missing NAME_OR_DIR");
    struct fe_err err = {0};
    cJSON *hist = fe_history_load(target, &err);
    if (!hist) {
        fprintf(stderr, "fteval: error: %s\n", err.msg);
        return FE_EXIT_INVALID;
    }
    int total = cJSON_GetArraySize(hist);
    size_t first = total > last ? (size_t)(total - last) : 0;
    if (json) {
        cJSON *sub = cJSON_CreateArray();
        for (int i = (int)first; i < total; i++)
            cJSON_AddItemReferenceToArray(sub, cJSON_GetArrayItem(hist, i));
        char *s = cJSON_Print(sub);
        puts(s);
        free(s);
        cJSON_Delete(sub);
        cJSON_Delete(hist);
        return FE_EXIT_OK;
    }
    if (total == 0) {
        printf("no runs recorded yet\n");
        cJSON_Delete(hist);
        return FE_EXIT_OK;
    }
    const cJSON *latest = cJSON_GetArrayItem(hist, total - 1);
    if (!metric)
        metric = fe_gets(latest, "primary_metric");
    if (!metric)
        metric = cJSON_IsString(cJSON_GetArrayItem(fe_get(latest, "metrics"), 0))
                     ? cJSON_GetArrayItem(fe_get(latest, "metrics"), 0)->valuestring
                     : NULL;
    if (!metric) {
        fprintf(stderr, "fteval: error: history has no metrics: give --metric\n");
        cJSON_Delete(hist);
        return FE_EXIT_INVALID;
    }
    char *path = fe_history_path(target);
    struct fe_buf out = {0};
    fe_buf_adds(&out, "history ");
    fe_compare_add_term(&out, path, 0);
    fe_buf_adds(&out, ": ");
    fe_render(hist, metric, first, &out);
    fputs(fe_buf_str(&out), stdout);
    fe_buf_release(&out);
    free(path);
    cJSON_Delete(hist);
    return FE_EXIT_OK;
}
