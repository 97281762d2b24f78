/* cmd_compare.c — `fteval compare`: the nightly regression gate and the A/B check.
 * The work is in compare.c; this file parses the command line, loads the runs and writes
 * compare.json, compare.html (the broke/fixed examples with their inputs), the readable report
 * (stdout) and the optional JUnit XML. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness/base/buf.h"
#include "harness/cli/commands.h"
#include "harness/analysis/compare.h"
#include "harness/base/err.h"
#include "harness/base/fs.h"
#include "harness/base/jsonout.h"
#include "harness/report/compare_html.h"
#include "harness/report/junit.h"
#include "harness/base/log.h"
#include "harness/rundir/rundir.h"
#include "harness/base/util.h"

static const struct fe_usage fe_compare_usage = {
    .command = "compare",
    .synopsis =
        "usage: fteval compare BASELINE_RUN_DIR CANDIDATE_RUN_DIR [options]\n"
        "       fteval compare RUN_DIR --a ARM --b ARM [options]\n"
        "\n"
        "Pairs examples by id and decides per arm and metric: pass (non-inferior: the one-sided\n"
        "(1-alpha) lower bound of delta = candidate - baseline is above -margin), regression\n"
        "(upper bound below -margin, or a significant drop larger than the margin), improvement\n"
        "(significant gain) or inconclusive. Also reports drift of the outputs and the examples the\n"
        "candidate broke and fixed. Writes compare.json and compare.html (the broke and fixed\n"
        "examples with their inputs, in a browser page); docs/nightly.md has the details.\n",
    .epilogue = "exit codes: 0 no regression, 1 a regression (or what --fail-on names), 2 usage,\n"
                "            3 unusable input (missing run, no common arms, held-out sets differ)\n",
};

/* The command line of compare beyond struct fe_compare_opts. */
struct fe_compare_args {
    struct fe_compare_opts o;
    const char *pos[2];
    int n_pos;
    const char *junit, *out_dir;
    char *arms_copy; /* --arms A,B split in place; arm_baseline/arm_candidate point into it */
    long show;
    bool json, quiet;
};

/* --arms A,B (or A: the same arm in both runs). */
static int fe_compare_opt_arms(const struct fe_option *opt, const char *v, const char *command)
{
    struct fe_compare_args *a = opt->cb_data;
    free(a->arms_copy);
    a->arms_copy = fe_xstrdup(v);
    char *comma = strchr(a->arms_copy, ',');
    if (comma) {
        *comma = 0;
        if (strchr(comma + 1, ',') || !*a->arms_copy || !comma[1])
            return fe_usage_error(command, "--arms: '%s': want A,B (one pair)", v);
    }
    a->o.arm_baseline = a->arms_copy;
    a->o.arm_candidate = comma ? comma + 1 : a->arms_copy;
    return 0;
}

/* --a ARM and --b ARM: callbacks too, so that a later --arms overrides an earlier --a. */
static int fe_compare_opt_a(const struct fe_option *opt, const char *v, const char *command)
{
    (void)command;
    ((struct fe_compare_args *)opt->cb_data)->o.arm_baseline = v;
    return 0;
}

static int fe_compare_opt_b(const struct fe_option *opt, const char *v, const char *command)
{
    (void)command;
    ((struct fe_compare_args *)opt->cb_data)->o.arm_candidate = v;
    return 0;
}

/* --fail-on inconclusive,drift (repeatable: the sets add up; "regression" always fails). */
static int fe_compare_opt_fail_on(const struct fe_option *opt, const char *v, const char *command)
{
    struct fe_compare_opts *o = &((struct fe_compare_args *)opt->cb_data)->o;
    char *copy = fe_xstrdup(v);
    int rc = 0;
    for (char *tok = copy, *next; tok && !rc; tok = next) {
        next = strchr(tok, ',');
        if (next)
            *next++ = 0;
        if (strcmp(tok, "inconclusive") == 0)
            o->fail_inconclusive = true;
        else if (strcmp(tok, "drift") == 0)
            o->fail_drift = true;
        else if (strcmp(tok, "regression") != 0)
            rc = fe_usage_error(command, "--fail-on: '%s': want inconclusive or drift", tok);
    }
    free(copy);
    return rc;
}

/* Returns true to go on, else false with the exit code in *rc. */
static bool fe_compare_parse(int argc, char **argv, struct fe_compare_args *a, int *rc)
{
    memset(a, 0, sizeof(*a));
    fe_compare_opts_default(&a->o);
    a->show = 10;
    long seed = -1, resamples = 0, top_k = (long)a->o.top_k;
    const unsigned ne = FE_OPTF_NONEMPTY;
    struct fe_option opts[] = {
        FE_OPTION_STRING_F(0, "metric", &a->o.metric, "M", ne,
                           "compare only metric M (default: every metric of both runs)"),
        FE_OPTION_DOUBLE(0, "margin", &a->o.margin, "X", 0, 1, FE_OPTF_MAX_EXCL,
                         "non-inferiority margin, a fraction (default 0.02 = 2 points)"),
        FE_OPTION_DOUBLE(0, "alpha", &a->o.alpha, "A", 0, 0.5, FE_OPTF_MIN_EXCL | FE_OPTF_MAX_EXCL,
                         "significance level (default 0.05)"),
        FE_OPTION_CALLBACK(0, "arms", "A,B", fe_compare_opt_arms, a,
                           "arm A of the baseline run against arm B of the candidate run\n"
                           "(--arms A: the arm called A in both; default: every common arm)"),
        FE_OPTION_CALLBACK(0, "a", "ARM", fe_compare_opt_a, a, "baseline arm (one run: the A/B check)"),
        FE_OPTION_CALLBACK(0, "b", "ARM", fe_compare_opt_b, a, "candidate arm (one run: the A/B check)"),
        FE_OPTION_STRING_F(0, "junit", &a->junit, "FILE", ne,
                           "also write JUnit XML (one testcase per arm x metric)"),
        FE_OPTION_STRING_F(0, "out", &a->out_dir, "DIR", ne,
                           "where compare.json and compare.html go (default: the candidate\n"
                           "run dir)"),
        FE_OPTION_CALLBACK(0, "fail-on", "WHAT", fe_compare_opt_fail_on, a,
                           "also exit 1 on 'inconclusive' and/or 'drift' (comma list)"),
        FE_OPTION_FLAG(0, "allow-dataset-change", &a->o.allow_dataset_change,
                       "compare the common ids when the held-out sets differ (warns)"),
        FE_OPTION_LONG(0, "seed", &seed, "N", 0, LONG_MAX,
                       "bootstrap seed (default: the baseline run's stats.seed)"),
        FE_OPTION_LONG(0, "resamples", &resamples, "N", 100, 10000000,
                       "bootstrap resamples B (default: the run's, else 10000)"),
        FE_OPTION_LONG(0, "top-k", &top_k, "N", 1, 1000,
                       "prediction categories in the label-drift test (default 10)"),
        FE_OPTION_LONG(0, "show", &a->show, "N", 0, LONG_MAX,
                       "examples listed per broke/fixed list (default 10; all in JSON)"),
        FE_OPTION_FLAG(0, "json", &a->json, "print compare.json on stdout instead of the table"),
        FE_OPTION_FLAG(0, "quiet", &a->quiet, "errors only on stderr (no warnings)"),
        FE_OPTION_END(),
    };
    for (size_t i = 0; opts[i].kind != FE_OPT_END; i++) /* compare never took an empty value */
        if (opts[i].kind == FE_OPT_CALLBACK)
            opts[i].flags |= ne;
    int n = fe_parse_options(argc, argv, &fe_compare_usage, opts);
    if (n < 0) {
        *rc = fe_parse_exit_code(n);
        return false;
    }
    a->o.seed_set = seed >= 0;
    a->o.seed = seed >= 0 ? (unsigned long)seed : a->o.seed;
    a->o.resamples_set = resamples > 0;
    a->o.resamples = resamples > 0 ? (size_t)resamples : a->o.resamples;
    a->o.top_k = (size_t)top_k;
    if (a->quiet)
        fe_log_set_level(FE_LOG_ERROR);
    if (n > 2)
        *rc = fe_usage_error("compare", "too many run directories ('%s')", argv[2]);
    else if (n == 0)
        *rc = fe_usage_error("compare", "missing BASELINE_RUN_DIR and CANDIDATE_RUN_DIR");
    else if ((a->o.arm_baseline == NULL) != (a->o.arm_candidate == NULL))
        *rc = fe_usage_error("compare", "--a and --b go together");
    else if (n == 1 && !a->o.arm_baseline)
        *rc = fe_usage_error("compare", "one run directory needs --a ARM --b ARM (or give two runs)");
    else
        *rc = FE_EXIT_OK;
    a->pos[0] = n > 0 ? argv[0] : NULL;
    a->pos[1] = n > 1 ? argv[1] : NULL;
    a->n_pos = n;
    a->o.ab = n == 1;
    return *rc == FE_EXIT_OK;
}

/* compare.json written in pieces (fe_compare_print) through the redacting atomic writer: the
 * bytes of fe_write_json_file (the redacted print, then a newline). */
struct fe_json_sink {
    struct fe_atomic_file a;
    struct fe_buf b;
    enum fe_status st;
    struct fe_err *err;
};

#define FE_JSON_CHUNK (64 * 1024)

static void fe_json_sink_put(void *ctx, const char *s, size_t n)
{
    struct fe_json_sink *k = ctx;
    if (k->st != FE_OK)
        return;
    fe_buf_add(&k->b, s, n);
    if (k->b.len >= FE_JSON_CHUNK)
        k->st = fe_atomic_put_redacted(&k->a, &k->b, false, k->err);
}

static void fe_stdout_put(void *ctx, const char *s, size_t n)
{
    (void)ctx;
    fwrite(s, 1, n, stdout);
}

static enum fe_status fe_write_json(cJSON *j, const struct fe_compare_lists *lists,
                                    const char *dir, struct fe_err *err)
{
    if (fe_mkdir_p(dir) != 0)
        return fe_err_set(err, FE_EIO, "%s: cannot create: %s", dir, strerror(errno));
    char *path = fe_xasprintf("%s/compare.json", dir);
    struct fe_json_sink k = {.err = err};
    k.st = fe_atomic_open(&k.a, path, err);
    free(path);
    if (k.st != FE_OK)
        return k.st;
    fe_compare_print(j, lists, fe_json_sink_put, &k);
    if (k.st == FE_OK)
        k.st = fe_atomic_put_redacted(&k.a, &k.b, true, err);
    if (k.st == FE_OK && fputc('\n', k.a.f) == EOF)
        k.st = fe_err_set(err, FE_EIO, "%s: cannot write: %s", k.a.path, strerror(errno));
    fe_buf_release(&k.b);
    if (k.st != FE_OK) {
        fe_atomic_abort(&k.a);
        return k.st;
    }
    return fe_atomic_commit(&k.a, err);
}

static void fe_print_ids(FILE *out, const char *what, const char *const *ids, size_t n,
                         size_t max)
{
    fprintf(out, "%s ids (%zu):", what, n);
    for (size_t i = 0; i < n; i++) {
        if (i >= max) {
            fprintf(out, " ... (%zu more, all in compare.json)", n - max);
            break;
        }
        struct fe_buf b = {0};
        fe_compare_add_term(&b, ids[i], 60);
        fprintf(out, " %s", fe_buf_str(&b));
        fe_buf_release(&b);
    }
    fputc('\n', out);
}

/* Loads the run(s); *cand is *base for the A/B form. Seed and resamples not given on the
 * command line come from the baseline run's manifest. */
static enum fe_status fe_compare_load(struct fe_compare_args *a, struct fe_run **base, struct fe_run **cand,
                                      struct fe_err *err)
{
    *base = *cand = NULL;
    if (fe_run_load(a->pos[0], base, err) != FE_OK ||
        (a->n_pos == 2 && fe_run_load(a->pos[1], cand, err) != FE_OK)) {
        fe_run_free(*base);
        *base = NULL;
        return FE_EINVALID;
    }
    if (!*cand)
        *cand = *base;
    struct fe_manifest_view bm;
    fe_manifest_view_parse((*base)->manifest, &bm);
    if (!a->o.seed_set && fe_has(bm.stats_seed) && bm.stats_seed >= 0)
        a->o.seed = (unsigned long)bm.stats_seed;
    if (!a->o.resamples_set && fe_has(bm.stats_resamples) && bm.stats_resamples >= 100)
        a->o.resamples = (size_t)bm.stats_resamples;
    return FE_OK;
}

/* With --json the table's warnings and the run changes go to stderr instead. */
static void fe_compare_warn_json(const struct fe_compare_view *rv, bool ab)
{
    for (size_t i = 0; i < rv->n_warnings; i++) {
        struct fe_buf b = {0};
        fe_compare_add_term(&b, rv->warnings[i], 0);
        fe_warn("%s", fe_buf_str(&b));
        fe_buf_release(&b);
    }
    for (size_t i = 0; !ab && i < rv->n_changes; i++) {
        struct fe_buf b = {0};
        fe_compare_add_term(&b, fe_str_or(rv->changes[i].arm, "run"), 60);
        fe_buf_adds(&b, ": ");
        fe_compare_add_term(&b, rv->changes[i].field, 80);
        fe_warn("changed between the runs: %s (see compare.json \"changes\")", fe_buf_str(&b));
        fe_buf_release(&b);
    }
}

/* Prints the result (table or JSON), writes compare.json and the JUnit file; returns the exit code. */
static int fe_compare_output(const struct fe_compare_args *a, cJSON *res,
                             const struct fe_compare_lists *lists,
                             const struct fe_compare_view *rv, const char *dir)
{
    struct fe_buf text = {0};
    fe_compare_render_text(res, (size_t)a->show, &text);
    if (a->json) {
        fe_compare_print(res, lists, fe_stdout_put, NULL);
        fputc('\n', stdout);
    } else {
        fputs(fe_buf_str(&text), stdout);
    }
    fflush(stdout);
    if (a->json) /* the table carries them */
        fe_compare_warn_json(rv, a->o.ab);
    int rc = fe_compare_view_exit_code(rv);
    struct fe_err err = {0};
    if (fe_write_json(res, lists, dir, &err) != FE_OK ||
        fe_compare_html_write(res, lists, dir, &err) != FE_OK ||
        (a->junit && fe_junit_write(res, fe_buf_str(&text), a->junit, &err) != FE_OK)) {
        fprintf(stderr, "fteval: error: %s\n", err.msg);
        rc = FE_EXIT_ABORTED;
    }
    fe_buf_release(&text);
    return rc;
}

int fe_cmd_compare(int argc, char **argv)
{
    struct fe_compare_args a;
    int rc;
    if (!fe_compare_parse(argc, argv, &a, &rc)) {
        free(a.arms_copy);
        return rc;
    }
    struct fe_err err = {0};
    struct fe_run *base, *cand;
    if (fe_compare_load(&a, &base, &cand, &err) != FE_OK) {
        fprintf(stderr, "fteval: error: %s\n", err.msg);
        free(a.arms_copy);
        return FE_EXIT_INVALID;
    }
    /* the result lists the examples the table (--show) and JUnit (10) print; compare.json and
     * compare.html get every one, built from the runs while written (lists) */
    cJSON *res = NULL;
    struct fe_compare_lists *lists = NULL;
    size_t keep = a.show > 10 ? (size_t)a.show : 10;
    enum fe_status st = fe_compare_runs_lists(base, cand, &a.o, keep, &res, &lists, &err);
    struct fe_compare_view rv;
    fe_compare_view_parse(res, &rv);
    const char *dir = a.out_dir ? a.out_dir : cand->dir;
    if (st != FE_OK) {
        fprintf(stderr, "fteval: error: %s\n", err.msg);
        if (res) { /* refused: the held-out sets differ */
            fe_print_ids(stdout, "added", rv.added, rv.n_added, 20);
            fe_print_ids(stdout, "removed", rv.removed, rv.n_removed, 20);
            struct fe_err werr = {0};
            if (fe_write_json(res, NULL, dir, &werr) != FE_OK)
                fprintf(stderr, "fteval: error: %s\n", werr.msg);
        }
        rc = st == FE_EINVALID ? FE_EXIT_INVALID : (int)fe_status_exit_code(st);
    } else {
        rc = fe_compare_output(&a, res, lists, &rv, dir);
    }
    fe_compare_lists_free(lists);
    fe_compare_view_release(&rv);
    cJSON_Delete(res);
    if (cand != base)
        fe_run_free(cand);
    fe_run_free(base);
    free(a.arms_copy);
    return rc;
}
