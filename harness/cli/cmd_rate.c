/* cmd_rate.c — `fteval rate export` and `fteval rate import`: blinded human ratings of a judged
 * run (analysis/rate.h, docs/human-ratings.md). The work is in analysis/; this file parses the
 * options and, for records written before they carried "input", renders the input the way the
 * runner did (the run's config and dataset, run/config.h). */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness/analysis/rate.h"
#include "harness/base/err.h"
#include "harness/base/jsonout.h"
#include "harness/base/util.h"
#include "harness/cli/commands.h"
#include "harness/cli/outputs.h"
#include "harness/input/dataset.h"
#include "harness/rundir/rundir.h"
#include "harness/run/config.h"

static const struct fe_usage fe_rate_export_usage = {
    .command = "rate export",
    .synopsis =
        "usage: fteval rate export RUN --judge NAME --out DIR [--n N] [--seed S]\n"
        "\n"
        "Writes a blinded rating set for judge NAME of RUN into DIR: items.jsonl, sheet.csv and\n"
        "rate.html (an offline page: rate each item, download the ratings as CSV). No arm or\n"
        "model name is in DIR; the key that unblinds the items stays in RUN/rate/NAME.key.json.\n"
        "N examples where the judgement exists are drawn without replacement (seeded); each\n"
        "gives one item per judged arm.\n",
    .epilogue = "exit codes: 0 written, 2 usage, 3 invalid run or no judgement to rate, 4 cannot write\n",
};

static const struct fe_usage fe_rate_import_usage = {
    .command = "rate import",
    .synopsis =
        "usage: fteval rate import RUN FILE... [--rater NAME]\n"
        "\n"
        "Imports ratings (CSV with columns item, rating and rater; or JSONL objects with those\n"
        "keys), unblinds them into RUN/human.jsonl and rewrites RUN/summary.json (its \"human\"\n"
        "block: human win rates or scores, inter-rater and judge-human agreement, calibrated\n"
        "estimates) and the reports. Every rating is checked first: an unknown item, a rating\n"
        "outside the choices or scale, or an item rated twice by one rater imports nothing.\n",
    .epilogue = "exit codes: 0 imported, 2 usage, 3 invalid ratings or run, 4 cannot read or write\n",
};

/* The run's config and dataset, loaded on first use (records without "input"). */
struct render {
    const struct fe_run *run;
    struct fe_config *c;
    struct fe_example *ex;
    size_t n;
    bool tried;
    struct fe_err err;
};

static void render_load(struct render *r)
{
    r->tried = true;
    const char *path = fe_json_gets(r->run->manifest, "config_path");
    const char *sha = fe_json_gets(fe_json_get(r->run->manifest, "dataset"), "sha256");
    if (!path) {
        fe_err_set(&r->err, FE_EINVALID, "%s/manifest.json: field 'config_path': missing",
                   r->run->dir);
        return;
    }
    if (fe_config_load_opts(path, NULL, FE_CONFIG_NO_KEYS, &r->c, &r->err) != FE_OK)
        return;
    char now[65];
    if (fe_sha256_file(r->c->dataset_path, now) != 0 || !sha || strcmp(now, sha) != 0) {
        fe_err_set(&r->err, FE_EINVALID, "%s: not the dataset the run used (sha256 differs from "
                   "the manifest's)", r->c->dataset_path);
        return;
    }
    fe_dataset_load(r->c->dataset_path, &r->ex, &r->n, &r->err);
}

/* fe_rate_input_fn: the final user message arm sent for example_id. */
static char *render_input(void *ctx, const char *arm, const char *example_id, struct fe_err *err)
{
    struct render *r = ctx;
    if (!r->tried)
        render_load(r);
    if (r->err.code) {
        fe_err_set(err, r->err.code, "records have no 'input' and it cannot be rendered: %s",
                   r->err.msg);
        return NULL;
    }
    long a = fe_config_arm_index(r->c, arm);
    const struct fe_example *ex = NULL;
    for (size_t i = 0; i < r->n && !ex; i++)
        if (strcmp(r->ex[i].id, example_id) == 0)
            ex = &r->ex[i];
    if (a < 0 || !ex) {
        fe_err_set(err, FE_EINVALID, "cannot render the input of example '%s' of arm '%s': %s",
                   example_id, arm, a < 0 ? "no such arm in the config" : "not in the dataset");
        return NULL;
    }
    struct fe_message *m;
    size_t n;
    if (fe_build_messages(r->c, &r->c->arms[a], ex, &m, &n, err) != FE_OK)
        return NULL;
    char *user = NULL;
    for (size_t i = n; i-- > 0 && !user;)
        if (strcmp(m[i].role, "user") == 0)
            user = fe_xstrdup(m[i].content);
    fe_messages_free(m, n);
    if (!user)
        fe_err_set(err, FE_EINVALID, "example '%s': no user message to rate", example_id);
    return user;
}

static int fail(const struct fe_err *err, enum fe_status st)
{
    fprintf(stderr, "fteval: error: %s\n", err->msg[0] ? err->msg : fe_strerror(st));
    return st == FE_EIO ? FE_EXIT_ABORTED : fe_status_exit_code(st);
}

static int cmd_export(int argc, char **argv)
{
    const char *judge = NULL, *out = NULL;
    long n = 200, seed = 0;
    const unsigned ne = FE_OPTF_NONEMPTY;
    const struct fe_option opts[] = {
        FE_OPTION_STRING_F(0, "judge", &judge, "NAME", ne, "the judge whose judgements to rate"),
        FE_OPTION_STRING_F(0, "out", &out, "DIR", ne, "where the rating set goes (not inside RUN)"),
        FE_OPTION_LONG(0, "n", &n, "N", 1, 1000000, "examples to sample (default 200)"),
        FE_OPTION_LONG(0, "seed", &seed, "S", 0, LONG_MAX, "sampling and A/B-order seed (default 0)"),
        FE_OPTION_END(),
    };
    int np = fe_parse_options(argc, argv, &fe_rate_export_usage, opts);
    if (np < 0)
        return fe_parse_exit_code(np);
    if (np != 1)
        return np ? fe_usage_error("rate export", "unexpected argument '%s'", argv[1])
                  : fe_usage_error("rate export", "missing RUN");
    if (!judge || !out)
        return fe_usage_error("rate export", "missing %s", !judge ? "--judge NAME" : "--out DIR");
    struct fe_err err = {0};
    struct fe_run *run = NULL;
    enum fe_status st = fe_run_load(argv[0], &run, &err);
    if (st != FE_OK)
        return fail(&err, st);
    struct render r = {.run = run};
    struct fe_rate_export_opts o = {.judge = judge, .n = n, .seed = (unsigned long)seed,
                                    .out_dir = out, .render_input = render_input,
                                    .render_ctx = &r};
    struct fe_rate_export_result res;
    st = fe_rate_export(run, &o, &res, &err);
    if (st == FE_OK) {
        if ((size_t)n > res.available)
            printf("--n %ld is more than the %zu example(s) judged by '%s': took all of them\n", n,
                   res.available, judge);
        printf("%zu item(s) from %zu example(s) in %s (items.jsonl, sheet.csv, rate.html)\n"
               "key: %s\n", res.items, res.examples, out, res.key_path);
    }
    free(res.key_path);
    fe_examples_free(r.ex, r.n);
    fe_config_free(r.c);
    fe_run_free(run);
    return st == FE_OK ? FE_EXIT_OK : fail(&err, st);
}

static int cmd_import(int argc, char **argv)
{
    const char *rater = NULL;
    const struct fe_option opts[] = {
        FE_OPTION_STRING_F(0, "rater", &rater, "NAME", FE_OPTF_NONEMPTY,
                           "the rater of every rating in FILE... (instead of a 'rater' column)"),
        FE_OPTION_END(),
    };
    int np = fe_parse_options(argc, argv, &fe_rate_import_usage, opts);
    if (np < 0)
        return fe_parse_exit_code(np);
    if (np < 2)
        return fe_usage_error("rate import", np ? "missing FILE" : "missing RUN");
    struct fe_err err = {0};
    struct fe_run *run = NULL;
    enum fe_status st = fe_run_load(argv[0], &run, &err);
    if (st != FE_OK)
        return fail(&err, st);
    struct fe_rate_import_result res;
    st = fe_rate_import(run, (const char *const *)(argv + 1), (size_t)np - 1, rater, &res, &err);
    fe_run_free(run);
    if (st == FE_OK)
        st = fe_outputs_refresh(argv[0], &err);
    if (st != FE_OK)
        return fail(&err, st);
    printf("imported %zu rating(s), %zu skipped as unrated; %s/human.jsonl holds %zu\n",
           res.ratings, res.skipped, argv[0], res.total);
    return FE_EXIT_OK;
}

int fe_cmd_rate(int argc, char **argv)
{
    static const struct {
        const char *name;
        int (*fn)(int argc, char **argv);
    } subs[] = {{"export", cmd_export}, {"import", cmd_import}};
    for (size_t i = 0; argc >= 2 && i < FE_ARRAY_LEN(subs); i++)
        if (strcmp(argv[1], subs[i].name) == 0)
            return subs[i].fn(argc - 1, argv + 1);
    if (fe_wants_help(argc, argv)) {
        fputs(fe_rate_export_usage.synopsis, stdout);
        fputc('\n', stdout);
        fputs(fe_rate_import_usage.synopsis, stdout);
        fputs("\n'fteval rate SUBCOMMAND --help' shows one subcommand's options.\n", stdout);
        return FE_EXIT_OK;
    }
    if (argc < 2)
        return fe_usage_error("rate", "rate: missing subcommand (export or import)");
    const char *names[] = {"export", "import"};
    const char *guess = fe_nearest_name(argv[1], names, FE_ARRAY_LEN(names));
    if (guess)
        return fe_usage_error("rate", "rate: unknown subcommand '%s'; did you mean '%s'?", argv[1],
                              guess);
    return fe_usage_error("rate", "rate: unknown subcommand '%s' (expected export or import)",
                          argv[1]);
}
