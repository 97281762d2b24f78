/* cmd_history.c — `fteval history`: the metric trend of a config's runs (history.h). */
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness/base/jsonout.h"
#include "harness/base/buf.h"
#include "harness/cli/commands.h"
#include "harness/analysis/compare.h"
#include "harness/base/err.h"
#include "harness/analysis/history.h"
#include "harness/rundir/rundir.h"
#include "harness/base/util.h"

const char fe_usage_history[] =
    "usage: fteval history NAME_OR_DIR [--metric M] [--last N] [--json]\n"
    "       fteval history --append RUN_DIR\n"
    "\n"
    "Prints the trend of a metric per arm over the runs recorded in history.jsonl (one line\n"
    "per run, appended by 'fteval run'): mean, CI, cost per inference and a sparkline.\n"
    "NAME_OR_DIR is a config name (results/NAME), its results folder, or one of its runs.\n"
    "\n"
    "options:\n"
    "  --metric M        the metric to show (default: the primary metric)\n"
    "  --last N          only the N most recent runs (default 30)\n"
    "  --json            print the history entries as a JSON array\n"
    "  --append RUN_DIR  add a finished run to its history (backfill; 'run' does this itself)\n"
    "\n"
    "exit codes: 0 ok, 2 usage, 3 no history or an invalid history file\n";

static double fe_mean_of(const cJSON *entry, const char *arm, const char *metric)
{
    const cJSON *v = fe_json_get(
        fe_json_get(fe_json_get(fe_json_get(fe_json_get(entry, "arms"), arm), "metrics"), metric),
        "mean");
    return cJSON_IsNumber(v) ? v->valuedouble : NAN;
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
    printf("appended run '%s' to %s\n",
           fe_json_gets(run->manifest, "run_id") ? fe_json_gets(run->manifest, "run_id") : dir,
           path);
    free(path);
    fe_run_free(run);
    return FE_EXIT_OK;
}

static void fe_render(const cJSON *hist, const char *metric, size_t first, struct fe_buf *out)
{
    int total = cJSON_GetArraySize(hist);
    /* arms in order of first appearance */
    cJSON *arms = cJSON_CreateArray();
    for (int i = (int)first; i < total; i++) {
        const cJSON *a;
        cJSON_ArrayForEach(a, fe_json_get(cJSON_GetArrayItem(hist, i), "arms")) {
            bool seen = false;
            const cJSON *s;
            cJSON_ArrayForEach(s, arms)
                seen |= strcmp(s->valuestring, a->string) == 0;
            if (!seen)
                cJSON_AddItemToArray(arms, cJSON_CreateString(a->string));
        }
    }
    fe_buf_addf(out, "%d run(s) shown, metric %s\n", total - (int)first, metric);
    const cJSON *an;
    cJSON_ArrayForEach(an, arms) {
        const char *arm = an->valuestring;
        fe_buf_adds(out, "\narm ");
        fe_compare_add_term(out, arm, 40);
        fe_buf_addf(out, "\n  %-26s %-20s %-40s %8s %19s %12s\n", "run", "time", "model", "mean",
                    "CI", "cost/inf");
        size_t n = (size_t)total - first, k = 0;
        double *xs = fe_xcalloc(n ? n : 1, sizeof(*xs));
        for (int i = (int)first; i < total; i++) {
            const cJSON *e = cJSON_GetArrayItem(hist, i);
            const cJSON *ae = fe_json_get(fe_json_get(e, "arms"), arm);
            xs[k++] = fe_mean_of(e, arm, metric);
            if (!ae)
                continue;
            struct fe_buf id = {0}, model = {0};
            fe_compare_add_term(&id, fe_json_gets(e, "run_id"), 26);
            fe_compare_add_term(&model, fe_json_gets(ae, "model"), 40);
            fe_buf_addf(out, "  %-26s %-20s %-40s ", fe_buf_str(&id),
                        fe_json_gets(e, "time") ? fe_json_gets(e, "time") : "-",
                        fe_buf_str(&model));
            fe_buf_release(&id);
            fe_buf_release(&model);
            double mean = xs[k - 1];
            if (isfinite(mean))
                fe_buf_addf(out, "%8.4f ", mean);
            else
                fe_buf_addf(out, "%8s ", "-");
            const cJSON *ci = fe_json_get(fe_json_get(fe_json_get(ae, "metrics"), metric), "ci");
            if (cJSON_GetArraySize(ci) == 2 && cJSON_IsNumber(cJSON_GetArrayItem(ci, 0)))
                fe_buf_addf(out, "[%7.4f, %7.4f] ", cJSON_GetArrayItem(ci, 0)->valuedouble,
                            cJSON_GetArrayItem(ci, 1)->valuedouble);
            else
                fe_buf_addf(out, "%19s ", "-");
            const cJSON *cost = fe_json_get(ae, "cost_per_inference_usd");
            if (cJSON_IsNumber(cost))
                fe_buf_addf(out, "%12.7f\n", cost->valuedouble);
            else
                fe_buf_addf(out, "%12s\n", "unknown");
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
    cJSON_Delete(arms);
}

int fe_cmd_history(int argc, char **argv)
{
    const char *target = NULL, *metric = NULL, *append = NULL;
    bool json = false;
    long last = 30;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--json") == 0) {
            json = true;
        } else if (strcmp(a, "--metric") == 0 || strcmp(a, "--last") == 0 ||
                   strcmp(a, "--append") == 0) {
            if (i + 1 >= argc || !*argv[i + 1])
                return fe_usage_error("history", "option '%s' needs a value", a);
            const char *v = argv[++i];
            if (a[2] == 'm') {
                metric = v;
            } else if (a[2] == 'a') {
                append = v;
            } else if (!fe_parse_long(v, &last) || last < 1) {
                return fe_usage_error("history", "--last: '%s': need a positive count", v);
            }
        } else if (a[0] == '-' && a[1]) {
            return fe_usage_error("history", "unknown option '%s'", a);
        } else if (!target) {
            target = a;
        } else {
            return fe_usage_error("history", "unexpected argument '%s'", a);
        }
    }
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
        metric = fe_json_gets(latest, "primary_metric");
    if (!metric)
        metric = cJSON_IsString(cJSON_GetArrayItem(fe_json_get(latest, "metrics"), 0))
                     ? cJSON_GetArrayItem(fe_json_get(latest, "metrics"), 0)->valuestring
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
