/* cmd_compare.c — `fteval compare`: the nightly regression gate and the A/B check.
 * The work is in compare.c; this file parses the command line, loads the runs and writes
 * compare.json, the readable report (stdout) and the optional JUnit XML. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness/base/buf.h"
#include "harness/cli/commands.h"
#include "harness/analysis/compare.h"
#include "harness/base/err.h"
#include "harness/base/jsonout.h"
#include "harness/report/junit.h"
#include "harness/base/log.h"
#include "harness/rundir/rundir.h"
#include "harness/base/util.h"

const char fe_usage_compare[] =
    "usage: fteval compare BASELINE_RUN_DIR CANDIDATE_RUN_DIR [options]\n"
    "       fteval compare RUN_DIR --a ARM --b ARM [options]\n"
    "\n"
    "Pairs examples by id and decides per arm and metric: pass (non-inferior: the one-sided\n"
    "(1-alpha) lower bound of delta = candidate - baseline is above -margin), regression\n"
    "(upper bound below -margin, or a significant drop larger than the margin), improvement\n"
    "(significant gain) or inconclusive. Also reports drift of the outputs and the examples the\n"
    "candidate broke and fixed. Writes compare.json; docs/nightly.md has the details.\n"
    "\n"
    "options:\n"
    "  --metric M              compare only metric M (default: every metric of both runs)\n"
    "  --margin X              non-inferiority margin, a fraction (default 0.02 = 2 points)\n"
    "  --alpha A               significance level (default 0.05)\n"
    "  --arms A,B              arm A of the baseline run against arm B of the candidate run\n"
    "                          (--arms A: the arm called A in both; default: every common arm)\n"
    "  --a ARM --b ARM         baseline and candidate arm (one run: the A/B check)\n"
    "  --junit FILE            also write JUnit XML (one testcase per arm x metric)\n"
    "  --out DIR               where compare.json goes (default: the candidate run dir)\n"
    "  --fail-on WHAT          also exit 1 on 'inconclusive' and/or 'drift' (comma list)\n"
    "  --allow-dataset-change  compare the common ids when the held-out sets differ (warns)\n"
    "  --seed N                bootstrap seed (default: the baseline run's stats.seed)\n"
    "  --resamples N           bootstrap resamples B (default: the run's, else 10000)\n"
    "  --top-k N               prediction categories in the label-drift test (default 10)\n"
    "  --show N                examples listed per broke/fixed list (default 10; all in JSON)\n"
    "  --json                  print compare.json on stdout instead of the table\n"
    "\n"
    "exit codes: 0 no regression, 1 a regression (or what --fail-on names), 2 usage,\n"
    "            3 unusable input (missing run, no common arms, held-out sets differ)\n";

/* Matches option name at argv[*i] ("--name VALUE" or "--name=VALUE"): returns 0 when it is
 * another argument, 1 with *value set (and *i advanced past a separate value), -1 when the
 * value is missing or empty. */
static int fe_take(int argc, char **argv, int *i, const char *name, const char **value)
{
    size_t n = strlen(name);
    const char *a = argv[*i];
    if (strncmp(a, name, n) != 0 || (a[n] != 0 && a[n] != '='))
        return 0;
    if (a[n] == '=')
        *value = a + n + 1;
    else if (*i + 1 < argc)
        *value = argv[++*i];
    else
        *value = "";
    return **value ? 1 : -1;
}

static bool fe_parse_size(const char *s, size_t *out)
{
    long v;
    if (!fe_parse_long(s, &v) || v < 0)
        return false;
    *out = (size_t)v;
    return true;
}

static enum fe_status fe_write_json(const cJSON *j, const char *dir, struct fe_err *err)
{
    if (fe_mkdir_p(dir) != 0)
        return fe_err_set(err, FE_EIO, "%s: cannot create: %s", dir, strerror(errno));
    char *path = fe_xasprintf("%s/compare.json", dir);
    enum fe_status st = fe_write_json_file(path, j, err);
    free(path);
    return st;
}

static void fe_print_ids(FILE *out, const char *what, const cJSON *ids, int max)
{
    int n = cJSON_GetArraySize(ids), i = 0;
    fprintf(out, "%s ids (%d):", what, n);
    const cJSON *id;
    cJSON_ArrayForEach(id, ids) {
        if (i++ >= max) {
            fprintf(out, " ... (%d more, all in compare.json)", n - max);
            break;
        }
        struct fe_buf b = {0};
        fe_compare_add_term(&b, id->valuestring, 60);
        fprintf(out, " %s", fe_buf_str(&b));
        fe_buf_release(&b);
    }
    fputc('\n', out);
}

int fe_cmd_compare(int argc, char **argv)
{
    struct fe_compare_opts o;
    fe_compare_opts_default(&o);
    const char *pos[3] = {0};
    int n_pos = 0;
    const char *junit = NULL, *out_dir = NULL, *arm_a = NULL, *arm_b = NULL;
    char *arms_copy = NULL;
    size_t show = 10;
    bool json = false;
    int rc = FE_EXIT_USAGE;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = NULL;
        int m;
        if (strcmp(a, "--allow-dataset-change") == 0) {
            o.allow_dataset_change = true;
        } else if (strcmp(a, "--json") == 0) {
            json = true;
        } else if (strcmp(a, "--quiet") == 0) {
            fe_log_set_level(FE_LOG_ERROR);
        } else if ((m = fe_take(argc, argv, &i, "--metric", &v)) != 0) {
            if (m < 0) {
                rc = fe_usage_error("compare", "option '%s' needs a value", a);
                goto out;
            }
            o.metric = v;
        } else if ((m = fe_take(argc, argv, &i, "--margin", &v)) != 0) {
            if (m < 0) {
                rc = fe_usage_error("compare", "option '%s' needs a value", a);
                goto out;
            }
            if (!fe_parse_double(v, &o.margin) || !(o.margin >= 0 && o.margin < 1)) {
                rc = fe_usage_error("compare", "--margin: '%s': need a fraction in [0, 1)", v);
                goto out;
            }
        } else if ((m = fe_take(argc, argv, &i, "--alpha", &v)) != 0) {
            if (m < 0) {
                rc = fe_usage_error("compare", "option '%s' needs a value", a);
                goto out;
            }
            if (!fe_parse_double(v, &o.alpha) || !(o.alpha > 0 && o.alpha < 0.5)) {
                rc = fe_usage_error("compare", "--alpha: '%s': need a number in (0, 0.5)", v);
                goto out;
            }
        } else if ((m = fe_take(argc, argv, &i, "--junit", &v)) != 0) {
            if (m < 0) {
                rc = fe_usage_error("compare", "option '%s' needs a value", a);
                goto out;
            }
            junit = v;
        } else if ((m = fe_take(argc, argv, &i, "--out", &v)) != 0) {
            if (m < 0) {
                rc = fe_usage_error("compare", "option '%s' needs a value", a);
                goto out;
            }
            out_dir = v;
        } else if ((m = fe_take(argc, argv, &i, "--arms", &v)) != 0) {
            if (m < 0) {
                rc = fe_usage_error("compare", "option '%s' needs a value", a);
                goto out;
            }
            free(arms_copy);
            arms_copy = fe_xstrdup(v);
            char *comma = strchr(arms_copy, ',');
            if (comma) {
                *comma = 0;
                if (strchr(comma + 1, ',') || !*arms_copy || !comma[1]) {
                    rc = fe_usage_error("compare", "--arms: '%s': want A,B (one pair)", v);
                    goto out;
                }
            }
            arm_a = arms_copy;
            arm_b = comma ? comma + 1 : arms_copy;
        } else if ((m = fe_take(argc, argv, &i, "--a", &v)) != 0) {
            if (m < 0) {
                rc = fe_usage_error("compare", "option '%s' needs a value", a);
                goto out;
            }
            arm_a = v;
        } else if ((m = fe_take(argc, argv, &i, "--b", &v)) != 0) {
            if (m < 0) {
                rc = fe_usage_error("compare", "option '%s' needs a value", a);
                goto out;
            }
            arm_b = v;
        } else if ((m = fe_take(argc, argv, &i, "--fail-on", &v)) != 0) {
            if (m < 0) {
                rc = fe_usage_error("compare", "option '%s' needs a value", a);
                goto out;
            }
            char *copy = fe_xstrdup(v);
            for (char *tok = copy, *next; tok; tok = next) {
                next = strchr(tok, ',');
                if (next)
                    *next++ = 0;
                if (strcmp(tok, "inconclusive") == 0) {
                    o.fail_inconclusive = true;
                } else if (strcmp(tok, "drift") == 0) {
                    o.fail_drift = true;
                } else if (strcmp(tok, "regression") != 0) {
                    rc = fe_usage_error("compare", "--fail-on: '%s': want inconclusive or drift", tok);
                    free(copy);
                    goto out;
                }
            }
            free(copy);
        } else if ((m = fe_take(argc, argv, &i, "--seed", &v)) != 0) {
            if (m < 0) {
                rc = fe_usage_error("compare", "option '%s' needs a value", a);
                goto out;
            }
            long s;
            if (!fe_parse_long(v, &s) || s < 0) {
                rc = fe_usage_error("compare", "--seed: '%s': need a non-negative integer", v);
                goto out;
            }
            o.seed = (unsigned long)s;
            o.seed_set = true;
        } else if ((m = fe_take(argc, argv, &i, "--resamples", &v)) != 0) {
            if (m < 0) {
                rc = fe_usage_error("compare", "option '%s' needs a value", a);
                goto out;
            }
            if (!fe_parse_size(v, &o.resamples) || o.resamples < 100 || o.resamples > 10000000) {
                rc = fe_usage_error("compare", "--resamples: '%s': need 100..10000000", v);
                goto out;
            }
            o.resamples_set = true;
        } else if ((m = fe_take(argc, argv, &i, "--top-k", &v)) != 0) {
            if (m < 0) {
                rc = fe_usage_error("compare", "option '%s' needs a value", a);
                goto out;
            }
            if (!fe_parse_size(v, &o.top_k) || o.top_k < 1 || o.top_k > 1000) {
                rc = fe_usage_error("compare", "--top-k: '%s': need 1..1000", v);
                goto out;
            }
        } else if ((m = fe_take(argc, argv, &i, "--show", &v)) != 0) {
            if (m < 0) {
                rc = fe_usage_error("compare", "option '%s' needs a value", a);
                goto out;
            }
            if (!fe_parse_size(v, &show)) {
                rc = fe_usage_error("compare", "--show: '%s': need a count", v);
                goto out;
            }
        } else if (a[0] == '-' && a[1] != 0) {
            rc = fe_usage_error("compare", "unknown option '%s'", a);
            goto out;
        } else {
            if (n_pos >= 2) {
                rc = fe_usage_error("compare", "too many run directories ('%s')", a);
                goto out;
            }
            pos[n_pos++] = a;
        }
    }
    if (n_pos == 0) {
        rc = fe_usage_error("compare", "missing BASELINE_RUN_DIR and CANDIDATE_RUN_DIR");
        goto out;
    }
    if ((arm_a == NULL) != (arm_b == NULL)) {
        rc = fe_usage_error("compare", "--a and --b go together");
        goto out;
    }
    if (n_pos == 1 && !arm_a) {
        rc = fe_usage_error("compare", "one run directory needs --a ARM --b ARM (or give two runs)");
        goto out;
    }
    o.ab = n_pos == 1;
    o.arm_baseline = arm_a;
    o.arm_candidate = arm_b;

    struct fe_err err = {0};
    struct fe_run *base = NULL, *cand = NULL;
    if (fe_run_load(pos[0], &base, &err) != FE_OK ||
        (n_pos == 2 && fe_run_load(pos[1], &cand, &err) != FE_OK)) {
        fprintf(stderr, "fteval: error: %s\n", err.msg);
        fe_run_free(base);
        rc = FE_EXIT_INVALID;
        goto out;
    }
    if (!cand)
        cand = base;
    const cJSON *stats = cJSON_GetObjectItemCaseSensitive(base->manifest, "stats");
    const cJSON *sv = cJSON_GetObjectItemCaseSensitive(stats, "seed");
    if (!o.seed_set && cJSON_IsNumber(sv) && sv->valuedouble >= 0)
        o.seed = (unsigned long)sv->valuedouble;
    sv = cJSON_GetObjectItemCaseSensitive(stats, "resamples");
    if (!o.resamples_set && cJSON_IsNumber(sv) && sv->valuedouble >= 100)
        o.resamples = (size_t)sv->valuedouble;

    cJSON *res = NULL;
    enum fe_status st = fe_compare_runs(base, cand, &o, &res, &err);
    const char *dir = out_dir ? out_dir : cand->dir;
    if (st != FE_OK) {
        fprintf(stderr, "fteval: error: %s\n", err.msg);
        if (res) { /* refused: the held-out sets differ */
            const cJSON *ds = cJSON_GetObjectItemCaseSensitive(res, "dataset");
            fe_print_ids(stdout, "added", cJSON_GetObjectItemCaseSensitive(ds, "added"), 20);
            fe_print_ids(stdout, "removed", cJSON_GetObjectItemCaseSensitive(ds, "removed"), 20);
            struct fe_err werr = {0};
            if (fe_write_json(res, dir, &werr) != FE_OK)
                fprintf(stderr, "fteval: error: %s\n", werr.msg);
        }
        rc = st == FE_EINVALID ? FE_EXIT_INVALID : (int)fe_status_exit_code(st);
        goto done;
    }
    struct fe_buf text = {0};
    fe_compare_render_text(res, show, &text);
    if (json) {
        char *s = cJSON_Print(res);
        puts(s);
        free(s);
    } else {
        fputs(fe_buf_str(&text), stdout);
    }
    fflush(stdout);
    const cJSON *w; /* the table carries them; with --json they go to stderr */
    const cJSON *warnings = json ? cJSON_GetObjectItemCaseSensitive(res, "warnings") : NULL;
    cJSON_ArrayForEach(w, warnings) {
        struct fe_buf b = {0};
        fe_compare_add_term(&b, w->valuestring, 0);
        fe_warn("%s", fe_buf_str(&b));
        fe_buf_release(&b);
    }
    const cJSON *ch, *changes = json && !o.ab ? cJSON_GetObjectItemCaseSensitive(res, "changes") : NULL;
    cJSON_ArrayForEach(ch, changes) {
        const char *arm = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(ch, "arm"));
        const char *field = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(ch, "field"));
        struct fe_buf b = {0};
        fe_compare_add_term(&b, arm ? arm : "run", 60);
        fe_buf_adds(&b, ": ");
        fe_compare_add_term(&b, field, 80);
        fe_warn("changed between the runs: %s (see compare.json \"changes\")", fe_buf_str(&b));
        fe_buf_release(&b);
    }
    rc = fe_compare_exit_code(res);
    if (fe_write_json(res, dir, &err) != FE_OK ||
        (junit && fe_junit_write(res, fe_buf_str(&text), junit, &err) != FE_OK)) {
        fprintf(stderr, "fteval: error: %s\n", err.msg);
        rc = FE_EXIT_ABORTED;
    }
    fe_buf_release(&text);
done:
    cJSON_Delete(res);
    if (cand != base)
        fe_run_free(cand);
    fe_run_free(base);
out:
    free(arms_copy);
    return rc;
}
