/* cmd_run.c — `fteval run CONFIG`: validate everything, then run every arm over the held-out
 * set and write the results directory (manifest, <arm>.jsonl, summary.json, reports). */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness/cli/commands.h"
#include "harness/run/config.h"
#include "harness/run/judge.h"
#include "harness/cli/ft_resolve.h"
#include "harness/base/log.h"
#include "harness/run/manifest.h"
#include "harness/rundir/rundir.h"
#include "harness/run/runner.h"
#include "harness/cli/outputs.h"
#include "harness/base/util.h"
#include "harness/base/jsonout.h"
#include "harness/run/runguard.h"
#include "harness/input/shard.h"

static const struct fe_usage fe_run_usage = {
    .command = "run",
    .synopsis =
        "usage: fteval run CONFIG [--out DIR] [--resume] [--limit N] [--arms A,B] [--concurrency N]\n"
        "                  [--dry-run] [--cache] [--seed N] [--resamples N] [--max-error-rate X]\n"
        "                  [--shard I/N | --shard auto/N] [--quiet | --verbose]\n"
        "\n"
        "Runs every arm of CONFIG over its held-out dataset and writes results/<name>/<run-id>/\n"
        "(or --out DIR): manifest.json, <arm>.jsonl, summary.json, report.md, report.html.\n",
    .epilogue = "exit codes: 0 ok, 1 error rate above the limit, 2 usage, 3 invalid config or data,\n"
                "            4 aborted (quota, budget, interrupt, I/O), 5 internal error\n",
};

struct fe_run_args {
    const char *config, *out, *arms;
    bool resume, dry_run, cache, quiet, verbose;
    long limit, concurrency, seed, resamples;
    bool has_seed, has_resamples, has_max_error_rate;
    double max_error_rate;
    struct fe_shard shard; /* count 0: not sharded */
    bool batch, batch_fallback_online;
    const char *inputs; /* fteval distill: unlabeled rows read instead of the config's dataset */
};

/* --shard I/N | auto/N (input/shard.h): a usage error (exit 2) when it does not parse or the
 * environment gives no valid index. */
static int fe_parse_shard_cb(const struct fe_option *opt, const char *value, const char *command)
{
    char why[256];
    if (!fe_shard_parse(value, opt->cb_data, why, sizeof(why)))
        return fe_usage_error(command, "%s", why);
    return 0;
}

/* --batch-fallback online: the one fallback there is (docs/batch.md). */
static int fe_parse_batch_fallback_cb(const struct fe_option *opt, const char *value, const char *command)
{
    if (strcmp(value, "online") != 0)
        return fe_usage_error(command, "--batch-fallback: '%s' is not a fallback (only: online)", value);
    *(bool *)opt->cb_data = true;
    return 0;
}

/* Returns true to go on, else false with the exit code in *rc (after --help or a usage error). */
static bool fe_parse_run_args(int argc, char **argv, struct fe_run_args *a, int *rc)
{
    memset(a, 0, sizeof(*a));
    a->seed = -1; /* not given (every given value is >= 0) */
    a->max_error_rate = -1;
    struct fe_option opts[] = {
        FE_OPTION_STRING(0, "out", &a->out, "DIR", "results directory (with --resume: the run to continue)"),
        FE_OPTION_FLAG(0, "resume", &a->resume,
                       "continue an interrupted run; completed examples are never re-sent\n"
                       "(without --out: the newest unfinished run of this config; with\n"
                       "--out DIR holding no run yet: start one there)"),
        FE_OPTION_LONG(0, "limit", &a->limit, "N", 1, LONG_MAX, "only the first N examples"),
        FE_OPTION_STRING(0, "arms", &a->arms, "A,B", "only these arms"),
        FE_OPTION_LONG(0, "concurrency", &a->concurrency, "N", 1, 100000,
                       "requests in flight at most (default: defaults.concurrency or 16)"),
        FE_OPTION_FLAG(0, "dry-run", &a->dry_run, "send nothing: estimate tokens and cost per arm, check the budget"),
        FE_OPTION_FLAG(0, "cache", &a->cache, "answer repeated requests from the response cache (off by default)"),
        FE_OPTION_LONG(0, "seed", &a->seed, "N", 0, LONG_MAX, "statistics seed (stats.seed)"),
        FE_OPTION_LONG(0, "resamples", &a->resamples, "N", 1, LONG_MAX, "bootstrap resamples (stats.resamples)"),
        FE_OPTION_DOUBLE(0, "max-error-rate", &a->max_error_rate, "X", 0, 1, 0,
                         "exit 1 when an arm's failed fraction exceeds X (default 0.05)"),
        FE_OPTION_CALLBACK(0, "shard", "I/N", fe_parse_shard_cb, &a->shard,
                           "evaluate only the examples whose id hashes to shard I of N (docs/shards.md);\n"
                           "auto/N takes I from JOB_COMPLETION_INDEX or SLURM_ARRAY_TASK_ID;\n"
                           "join the shards with `fteval merge`"),
        FE_OPTION_FLAG(0, "batch", &a->batch,
                       "send every arm through its provider's batch API (openai, anthropic;\n"
                       "docs/batch.md): half price, results within 24 h, same records"),
        FE_OPTION_CALLBACK(0, "batch-fallback", "online", fe_parse_batch_fallback_cb, &a->batch_fallback_online,
                           "what expired or cancelled batches left is sent online"),
        FE_OPTION_FLAG('q', "quiet", &a->quiet, "no progress line"),
        FE_OPTION_FLAG('v', "verbose", &a->verbose, "debug diagnostics"),
        FE_OPTION_END(),
    };
    int n = fe_parse_options(argc, argv, &fe_run_usage, opts);
    if (n < 0)
        *rc = fe_parse_exit_code(n);
    else if (n > 1)
        *rc = fe_usage_error("run", "unexpected argument '%s'", argv[1]);
    else if (n == 0)
        *rc = fe_usage_error("run", "missing CONFIG");
    else
        a->config = argv[0];
    a->has_seed = a->seed >= 0;
    a->has_resamples = a->resamples > 0;
    a->has_max_error_rate = a->max_error_rate >= 0;
    return n == 1;
}

struct fe_estimate {
    size_t examples, lines;
    size_t in_shard;       /* the examples this process evaluates: all of them, or its shard's */
    double *prompt_tokens; /* per arm, over those examples */
};

/* Reads the whole dataset once before anything is sent: every line must parse, ids must be
 * unique and every arm must be able to build its messages. Also counts and estimates tokens. */
static enum fe_status fe_validate_dataset(const struct fe_config *c, long limit, const struct fe_shard *shard,
                                          struct fe_estimate *est, struct fe_err *err)
{
    struct fe_dataset_reader *r;
    enum fe_status st = fe_dataset_open_with(&r, c->dataset_path, &c->dataset_opts, err);
    if (st != FE_OK)
        return st;
    est->prompt_tokens = fe_xcalloc(c->n_arms, sizeof(double));
    struct fe_example ex;
    int got;
    while ((limit <= 0 || est->examples < (size_t)limit) && (got = fe_dataset_next(r, &ex, err)) == 1) {
        est->examples++;
        bool mine = fe_shard_mine(shard, ex.id); /* every shard validates every example */
        est->in_shard += mine;
        for (size_t a = 0; a < c->n_arms; a++) {
            struct fe_message *m;
            size_t n;
            if (fe_build_messages(c, &c->arms[a], &ex, &m, &n, err) != FE_OK) {
                char msg[sizeof(err->msg)];
                snprintf(msg, sizeof(msg), "%s", err->msg);
                fe_err_clear(err);
                fe_err_set(err, FE_EINVALID, "%s:%zu: arms[%zu] '%s': %s", c->dataset_path, ex.line, a,
                           c->arms[a].name, msg);
                fe_example_release(&ex);
                fe_dataset_close(r);
                return FE_EINVALID;
            }
            if (mine)
                est->prompt_tokens[a] += (double)fe_estimate_prompt_tokens(m, n);
            fe_messages_free(m, n);
        }
        fe_example_release(&ex);
    }
    st = fe_err_isset(err) ? err->code : FE_OK;
    est->lines = fe_dataset_lines(r);
    fe_dataset_close(r);
    if (st == FE_OK && est->examples == 0)
        st = fe_err_set(err, FE_EINVALID, "%s: no examples", c->dataset_path);
    return st;
}

static int fe_dry_run(const struct fe_config *c, const struct fe_estimate *est, bool batch_all)
{
    printf("dry run: %zu examples x %zu arms; nothing is sent\n", est->in_shard, c->n_arms);
    printf("token estimate: see docs/decision.md (no tokenizer; about +-30%%); completion at most max_tokens\n");
    printf("%-14s %-36s %12s %12s %14s\n", "arm", "model", "prompt tok", "max compl", "max cost $");
    double total = 0;
    bool unknown = false;
    for (size_t a = 0; a < c->n_arms; a++) {
        const struct fe_arm_conf *arm = &c->arms[a];
        double compl = (double)arm->max_tokens * (double)est->in_shard;
        printf("%-14s %-36s %12.0f %12.0f ", arm->name, arm->model ? arm->model : arm->finetune_job,
               est->prompt_tokens[a], compl);
        if (arm->has_price) {
            bool batch = (batch_all || arm->provider->batch) && arm->price.has_batch_multiplier; /* docs/batch.md */
            double cost = fe_cost_call(&arm->price, (long)est->prompt_tokens[a], 0, (long)compl, batch);
            total += cost;
            printf("%14.4f\n", cost);
        } else {
            unknown = true;
            printf("%14s\n", "unknown");
        }
    }
    for (size_t i = 0; i < c->n_judges; i++) { /* issue 12: judge requests count against the budget too */
        const struct fe_judge *jd = &c->judges[i];
        double calls, prompt, compl;
        fe_judge_estimate(c, jd, est->in_shard, est->prompt_tokens, &calls, &prompt, &compl);
        printf("%-14s %-36s %12.0f %12.0f ", jd->conf.name, jd->conf.model, prompt, compl);
        if (jd->conf.has_price) {
            double cost = fe_cost_call(&jd->conf.price, (long)prompt, 0, (long)compl, false);
            total += cost;
            printf("%14.4f  (%.0f calls)\n", cost, calls);
        } else {
            unknown = true;
            printf("%14s  (%.0f calls)\n", "unknown", calls);
        }
    }
    printf("worst-case total: $%.4f%s\n", total, unknown ? " (plus arms with unknown prices)" : "");
    if (c->has_budget) {
        bool over = total > c->budget_max_usd;
        printf("budget.max_usd: $%.4f -> %s\n", c->budget_max_usd,
               over ? "the worst case exceeds the budget: the run would stop early" : "within budget");
        return over ? FE_EXIT_GATE : FE_EXIT_OK;
    }
    return FE_EXIT_OK;
}

/* The newest run directory of this config that did not complete. */
static char *fe_find_resumable(const char *root)
{
    DIR *d = opendir(root);
    if (!d)
        return NULL;
    char *best = NULL;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        char *mpath = fe_xasprintf("%s/%s/manifest.json", root, e->d_name);
        char *text = fe_read_file(mpath, 0, NULL);
        free(mpath);
        cJSON *m = text ? cJSON_Parse(text) : NULL;
        free(text);
        const cJSON *status = cJSON_GetObjectItemCaseSensitive(m, "status");
        if (cJSON_IsString(status) && strcmp(status->valuestring, "complete") != 0 &&
            (!best || strcmp(e->d_name, best) > 0)) {
            free(best);
            best = fe_xstrdup(e->d_name);
        }
        cJSON_Delete(m);
    }
    closedir(d);
    if (!best)
        return NULL;
    char *dir = fe_xasprintf("%s/%s", root, best);
    free(best);
    return dir;
}

static char *fe_parent_dir(const char *dir)
{
    const char *slash = strrchr(dir, '/');
    return slash ? fe_xstrndup(dir, (size_t)(slash - dir)) : fe_xstrdup(".");
}

/* Loads the config, applies the command line over it and checks everything that can be checked
 * before a request is sent: fine-tune jobs resolve, prices exist where a budget needs them, and
 * the whole dataset reads (which also estimates the tokens). */
static enum fe_status fe_run_prepare(const struct fe_run_args *a, struct fe_config **cp,
                                     struct fe_estimate *est, struct fe_err *err)
{
    /* a dry run sends nothing, so it needs no API key and resolves no fine-tuning job */
    enum fe_status st = fe_config_load_opts(a->config, a->arms, (a->dry_run ? FE_CONFIG_NO_KEYS : 0) |
                                            (a->inputs ? FE_CONFIG_DISTILL_TEACHER : 0), cp, err);
    if (st != FE_OK)
        return st;
    struct fe_config *c = *cp;
    if (a->has_seed)
        c->stats.seed = (unsigned long)a->seed;
    if (a->has_resamples)
        c->stats.resamples = (size_t)a->resamples;
    if (a->has_max_error_rate)
        c->max_error_rate = a->max_error_rate;
    if (a->concurrency)
        c->concurrency = a->concurrency;
    if (a->inputs) { /* fteval distill: the teacher answers unlabeled rows */
        free(c->dataset_path);
        c->dataset_path = fe_xstrdup(a->inputs);
        c->dataset_opts.no_gold = true;
    }
    st = a->dry_run ? FE_OK : fe_resolve_finetune_jobs(c, err);
    if (st != FE_OK)
        return st;
    for (size_t i = 0; i < c->n_arms; i++) {
        if (!c->arms[i].model) /* a dry run's unresolved finetune_job: cost shown as unknown */
            continue;
        if (c->has_budget && !c->arms[i].has_price && (c->arms[i].provider->ops->caps & FE_CAP_HTTP))
            return fe_err_set(err, FE_EINVALID,
                              "%s: budget.max_usd: arm '%s' has no price for model '%s', so the budget cannot be "
                              "enforced; add the model to the price table or remove the budget",
                              c->path, c->arms[i].name, c->arms[i].model);
        if (!c->arms[i].has_price && (c->arms[i].provider->ops->caps & FE_CAP_HTTP))
            fe_warn("arm '%s': no price for model '%s': its cost is reported as unknown", c->arms[i].name,
                    c->arms[i].model);
    }
    return fe_validate_dataset(c, a->limit, &a->shard, est, err);
}

enum { FE_RUN_ID_SIZE = 32 };

/* The results directory: --out DIR, the newest unfinished run (--resume), or a new run id
 * under results/<name>/ (then run_id is set). */
static enum fe_status fe_run_pick_dir(const struct fe_run_args *a, const struct fe_config *c, char **dir,
                                      char *run_id, struct fe_err *err)
{
    if (a->out) {
        *dir = fe_xstrdup(a->out);
        return FE_OK;
    }
    enum fe_status st = FE_OK;
    char *root = fe_xasprintf("results/%s", c->name);
    if (a->resume && !(*dir = fe_find_resumable(root))) {
        st = fe_err_set(err, FE_EINVALID, "%s: no unfinished run to resume (use --out DIR)", root);
    } else if (!*dir) {
        fe_new_run_id(run_id);
        *dir = fe_xasprintf("%s/%s", root, run_id);
    }
    free(root);
    return st;
}

/* Resuming: the manifest of the run in dir, refused when the dataset or the config changed since
 * the run started, with the time of this resume appended to "resumed_at". A manifest without a
 * fingerprint (an older fteval) takes *fingerprint over (then NULL). */
static enum fe_status fe_run_resume_manifest(const char *dir, const struct fe_run_args *a,
                                             const struct fe_config *c, const char *sha,
                                             cJSON **fingerprint, cJSON **manifest, struct fe_err *err)
{
    char *mpath = fe_xasprintf("%s/manifest.json", dir);
    char *text = fe_read_file(mpath, 0, NULL);
    *manifest = text ? cJSON_Parse(text) : NULL;
    free(text);
    if (!*manifest) {
        enum fe_status st = fe_err_set(err, FE_EINVALID, "%s: cannot resume: not a readable run manifest", mpath);
        free(mpath);
        return st;
    }
    free(mpath);
    const cJSON *old = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(*manifest, "dataset"), "sha256");
    if (!cJSON_IsString(old) || strcmp(old->valuestring, sha) != 0)
        return fe_err_set(err, FE_EINVALID, "%s: cannot resume: the dataset changed since the run started "
                          "(sha256 differs); start a new run", c->dataset_path);
    const cJSON *old_fp = cJSON_GetObjectItemCaseSensitive(*manifest, "fingerprint");
    char diff[600];
    if (!old_fp) {
        fe_warn("%s: the run has no config fingerprint (an older fteval wrote it): cannot check that the "
                "config is unchanged", dir);
        cJSON_AddItemToObject(*manifest, "fingerprint", *fingerprint);
        *fingerprint = NULL;
    } else if (fe_fingerprint_diff(old_fp, *fingerprint, diff, sizeof(diff))) {
        return fe_err_set(err, FE_EINVALID, "%s: cannot resume: the config changed since the run started "
                          "(%s); restore it, or start a new run without --resume", a->config, diff);
    }
    cJSON *resumes = cJSON_GetObjectItemCaseSensitive(*manifest, "resumed_at");
    if (!cJSON_IsArray(resumes))
        resumes = cJSON_AddArrayToObject(*manifest, "resumed_at");
    char now[32];
    fe_utc_now(now, sizeof(now));
    cJSON_AddItemToArray(resumes, cJSON_CreateString(now));
    return FE_OK;
}

/* The manifest's "shard" block of a sharded run (docs/shards.md); nothing when not sharded. */
static void fe_run_add_shard(cJSON *manifest, const struct fe_shard *s, size_t in_shard)
{
    if (s->count <= 0)
        return;
    cJSON *o = cJSON_AddObjectToObject(manifest, "shard");
    cJSON_AddNumberToObject(o, "index", (double)s->index);
    cJSON_AddNumberToObject(o, "count", (double)s->count);
    cJSON_AddNumberToObject(o, "examples", (double)in_shard);
    cJSON_AddStringToObject(o, "hash", "fnv1a64(id) mod count");
    cJSON_AddStringToObject(o, "index_from", s->source);
}

/* Resuming: the run must be the same shard (or unsharded) as the command asks for. */
static enum fe_status fe_run_resume_shard(const cJSON *manifest, const struct fe_shard *s, const char *dir,
                                          struct fe_err *err)
{
    const cJSON *o = cJSON_GetObjectItemCaseSensitive(manifest, "shard");
    const cJSON *idx = cJSON_GetObjectItemCaseSensitive(o, "index"), *cnt = cJSON_GetObjectItemCaseSensitive(o, "count");
    long ri = cJSON_IsNumber(idx) ? (long)idx->valuedouble : -1, rc = cJSON_IsNumber(cnt) ? (long)cnt->valuedouble : 0;
    if (rc == s->count && (rc == 0 || ri == s->index))
        return FE_OK;
    char had[48], want[48];
    snprintf(had, sizeof(had), rc ? "shard %ld/%ld" : "not sharded", ri, rc);
    snprintf(want, sizeof(want), s->count ? "shard %ld/%ld" : "no shard", s->index, s->count);
    return fe_err_set(err, FE_EINVALID, "%s: cannot resume: the run is %s, the command asks for %s", dir, had, want);
}

/* Opens the run: picks its directory, creates it and takes its lock (one writer per run
 * directory; the caller releases *lock_fd), resumes its manifest or starts a new one with the
 * config's fingerprint, and saves the manifest as "running". */
static enum fe_status fe_run_open(struct fe_run_args *a, const struct fe_config *c, const struct fe_estimate *est,
                                  char **dir, int *lock_fd, cJSON **manifest, struct fe_err *err)
{
    char run_id[FE_RUN_ID_SIZE];
    enum fe_status st = fe_run_pick_dir(a, c, dir, run_id, err);
    if (st != FE_OK)
        return st;
    char sha[65];
    if (fe_sha256_file(c->dataset_path, sha) != 0)
        return fe_err_set(err, FE_EIO, "%s: cannot read: %s", c->dataset_path, strerror(errno));
    if (a->resume && a->out) { /* nothing to resume yet (a nightly job's first try): start it */
        char *mpath = fe_xasprintf("%s/manifest.json", *dir);
        struct stat st_m;
        if (stat(mpath, &st_m) != 0 && errno == ENOENT) {
            fe_info("%s: no run to resume yet: starting one", *dir);
            a->resume = false;
        }
        free(mpath);
    }
    if (fe_mkdir_p(*dir) != 0)
        return fe_err_set(err, FE_EIO, "%s: cannot create: %s", *dir, strerror(errno));
    st = fe_run_lock(*dir, lock_fd, err); /* one writer per run directory */
    if (st != FE_OK)
        return st;
    cJSON *fingerprint = fe_config_fingerprint(c);
    if (a->resume) {
        st = fe_run_resume_manifest(*dir, a, c, sha, &fingerprint, manifest, err);
        if (st == FE_OK)
            st = fe_run_resume_shard(*manifest, &a->shard, *dir, err);
    } else {
        if (!a->out)
            snprintf(run_id, sizeof(run_id), "%s", strrchr(*dir, '/') + 1);
        else
            fe_new_run_id(run_id);
        *manifest = fe_manifest_new("run", c->name, run_id);
        fe_manifest_add_config(*manifest, c);
        fe_manifest_set_dataset(*manifest, c->dataset_path, est->lines, est->examples, sha);
        fe_manifest_add_finetune_jobs(*manifest, c);
        fe_run_add_shard(*manifest, &a->shard, est->in_shard);
        cJSON_AddItemToObject(*manifest, "fingerprint", fingerprint);
        fingerprint = NULL;
    }
    cJSON_Delete(fingerprint);
    if (st != FE_OK)
        return st;
    cJSON_DeleteItemFromObjectCaseSensitive(*manifest, "max_error_rate"); /* the limit this session uses */
    cJSON_AddNumberToObject(*manifest, "max_error_rate", c->max_error_rate);
    return fe_manifest_save(*manifest, *dir, "running", err);
}

/* The run stopped before every example was sent (and may be resumed). */
static bool fe_run_stopped(const struct fe_runner_result *res)
{
    return res->interrupted || res->quota_stopped || res->budget_stopped || res->outage || res->waits_gave_up;
}

/* Records this session's counts and the run's status in the manifest and saves it. Returns st,
 * or the save's error when st was FE_OK. */
static enum fe_status fe_run_record_session(cJSON *manifest, const char *dir, enum fe_status st,
                                            const struct fe_runner_result *res, struct fe_err *err)
{
    const char *status = st != FE_OK ? "aborted"
                         : res->interrupted ? "interrupted"
                         : fe_run_stopped(res) ? "incomplete"
                                               : "complete";
    cJSON *counts = cJSON_CreateObject();
    cJSON_AddNumberToObject(counts, "recorded", (double)res->recorded);
    cJSON_AddNumberToObject(counts, "errors", (double)res->errors);
    cJSON_AddNumberToObject(counts, "already_done", (double)res->already_done);
    cJSON_AddNumberToObject(counts, "cache_hits", (double)res->cache_hits);
    cJSON_AddNumberToObject(counts, "retries", (double)res->retries);
    cJSON_AddNumberToObject(counts, "unsent", (double)res->unsent);
    cJSON_AddNumberToObject(counts, "spent_usd", res->spent_usd);
    cJSON_AddNumberToObject(counts, "run_spent_usd", res->seed_usd + res->spent_usd);
    cJSON_AddBoolToObject(counts, "spend_estimated", res->spend_estimated);
    if (res->stop_provider[0]) {
        cJSON_AddStringToObject(counts, "stopped_provider", res->stop_provider);
        cJSON_AddStringToObject(counts, "stop_reason", res->stop_message);
    }
    cJSON_AddNumberToObject(counts, "saved_by_cache_usd", res->saved_usd);
    if (res->batches_created) /* run/batch.c */
        cJSON_AddNumberToObject(counts, "batches_created", (double)res->batches_created);
    cJSON_DeleteItemFromObjectCaseSensitive(manifest, "last_session");
    cJSON_AddItemToObject(manifest, "last_session", counts);
    struct fe_err save_err = {0};
    if (fe_manifest_save(manifest, dir, status, &save_err) != FE_OK && st == FE_OK)
        st = fe_err_set(err, save_err.code, "%s", save_err.msg);
    return st;
}

/* Says why the run stopped before the end and how to resume it. Returns the exit code. */
static int fe_run_report_stop(const struct fe_run_args *a, const struct fe_config *c,
                              const struct fe_runner_result *res, const char *dir)
{
    if (res->quota_stopped)
        fe_error("quota exhausted for provider '%s': %zu request(s) not sent", res->quota_provider, res->unsent);
    if (res->outage || res->waits_gave_up)
        fe_error("provider '%s' stopped (%s): %zu request(s) not sent", res->stop_provider, res->stop_message,
                 res->unsent);
    if (res->budget_stopped)
        fe_error("budget exhausted: spent $%.6f%s of budget.max_usd $%.4f over the whole run ($%.6f in this "
                 "session); %zu request(s) not sent",
                 res->seed_usd + res->spent_usd, res->spend_estimated ? " (partly worst-case estimates)" : "",
                 c->budget_max_usd, res->spent_usd, res->unsent);
    if (res->interrupted)
        fe_error("interrupted: %zu request(s) not sent", res->unsent);
    fprintf(stderr, "resume with: fteval run %s --resume --out %s\n", a->config, dir);
    return FE_EXIT_ABORTED;
}

/* The gates of a finished run: exit 1 when its decision is "invalid" or an arm's failed
 * fraction is above the limit. */
/* The exit code of a finished run from its summary.json (just written): an invalid decision,
 * or an arm whose share of failed examples is above the limit, fails the run. The counts come
 * from the summary's "n" and "n_errors", so the run is not read back a second time. */
static int fe_run_error_gate(const struct fe_config *c, const char *dir)
{
    char *path = fe_xasprintf("%s/summary.json", dir);
    size_t len = 0;
    char *text = fe_read_file(path, 0, &len);
    cJSON *summary = text ? cJSON_ParseWithLength(text, len) : NULL;
    free(text);
    if (!summary) { /* written a moment ago: gone or changed meanwhile */
        fe_error("%s: cannot read the summary just written: the run's outcome is unknown", path);
        free(path);
        return FE_EXIT_ABORTED;
    }
    free(path);
    int rc = FE_EXIT_OK;
    const char *verdict = fe_json_str(fe_json_get(fe_json_get(summary, "decision"), "verdict"));
    if (verdict && strcmp(verdict, "invalid") == 0) { /* the reasons are in summary.json and the reports */
        fe_error("decision: invalid: the evidence of this run cannot support a verdict (see %s/report.md)", dir);
        rc = FE_EXIT_GATE;
    }
    const cJSON *arm;
    cJSON_ArrayForEach(arm, fe_json_get(summary, "arms")) {
        size_t n = (size_t)fe_json_getn_or(arm, "n", 0), errors = (size_t)fe_json_getn_or(arm, "n_errors", 0);
        double rate = n ? (double)errors / (double)n : 0;
        if (rate > c->max_error_rate) {
            fe_error("arm '%s': %zu of %zu examples failed (%.1f%%), above the limit of %.1f%%",
                     arm->string, errors, n, 100 * rate, 100 * c->max_error_rate);
            rc = FE_EXIT_GATE;
        }
    }
    cJSON_Delete(summary);
    return rc;
}

static int fe_run_execute(struct fe_run_args *ap, struct fe_runner_result *out);

int fe_cmd_run(int argc, char **argv)
{
    struct fe_run_args a;
    int rc = FE_EXIT_OK;
    if (!fe_parse_run_args(argc, argv, &a, &rc))
        return rc;
    if (a.verbose)
        fe_log_set_level(FE_LOG_DEBUG);
    struct fe_runner_result res;
    return fe_run_execute(&a, &res);
}

int fe_run_distill_teacher(const struct fe_distill_run *d, struct fe_runner_result *res)
{
    struct fe_run_args a = {
        .config = d->config, .out = d->run_dir, .arms = d->teacher, .resume = d->resume, .quiet = d->quiet,
        .cache = d->cache, .batch = d->batch, .inputs = d->inputs, .seed = -1, .resamples = 0,
        .max_error_rate = -1,
    };
    return fe_run_execute(&a, res);
}

/* run's work after the options: prepare, send, record, and (not for distill) the outputs.
 * *out is the runner's result (zeroed when nothing ran). Returns the exit code. */
static int fe_run_execute(struct fe_run_args *ap, struct fe_runner_result *out)
{
    struct fe_run_args a = *ap;
    int rc = FE_EXIT_OK;
    memset(out, 0, sizeof(*out));
    struct fe_err err = {0};
    struct fe_config *c = NULL;
    struct fe_estimate est = {0};
    cJSON *manifest = NULL;
    char *dir = NULL, *cache_dir = NULL;
    int lock_fd = -1;
    enum fe_status st = fe_run_prepare(&a, &c, &est, &err);
    if (st != FE_OK)
        goto done;
    if (a.dry_run) {
        rc = fe_dry_run(c, &est, a.batch);
        goto done;
    }
    st = fe_run_open(&a, c, &est, &dir, &lock_fd, &manifest, &err);
    if (st != FE_OK)
        goto done;
    if (a.cache || c->cache) {
        char *parent = fe_parent_dir(dir);
        cache_dir = fe_xasprintf("%s/.cache", parent);
        free(parent);
    }
    struct fe_runner_opts ro = {
        .run_dir = dir, .cache_dir = cache_dir, .resume = a.resume, .concurrency = c->concurrency,
        .limit = a.limit, .total_examples = est.in_shard, .shard = a.shard.count ? &a.shard : NULL,
        .progress = !a.quiet && isatty(STDERR_FILENO),
        .batch = a.batch ? FE_BATCH_ALL : FE_BATCH_BY_CONFIG, .batch_fallback_online = a.batch_fallback_online,
        .quiet = a.quiet,
    };
    struct fe_runner_result res;
    st = fe_batch_wanted(c, &ro) ? fe_batch_run(c, &ro, &res, &err) /* run/batch.c, docs/batch.md */
                                 : fe_runner_run(c, &ro, &res, &err);
    st = fe_run_record_session(manifest, dir, st, &res, &err);
    *out = res;
    if (st != FE_OK) {
        if (st == FE_EIO)
            fprintf(stderr, "after fixing the cause, resume with: fteval %s %s --resume --out %s\n",
                    a.inputs ? "distill" : "run", a.config, dir);
        goto done;
    }
    if (a.inputs) { /* distill: its own outputs (cmd_distill.c); a stop is reported by the caller */
        rc = fe_run_stopped(&res) ? FE_EXIT_ABORTED : FE_EXIT_OK;
        goto done;
    }
    fe_release_free_memory(); /* the request phase's freed memory, before the run is read back */
    st = fe_outputs_write(dir, NULL, !a.quiet, &err);
    if (st != FE_OK)
        goto done;
    if (!a.quiet)
        printf("results: %s\n", dir);
    if (res.cache_hits)
        fe_info("cache: %zu answers from the cache saved $%.6f", res.cache_hits, res.saved_usd);
    if (fe_run_stopped(&res))
        rc = fe_run_report_stop(&a, c, &res, dir);
    else
        rc = fe_run_error_gate(c, dir);
done:
    if (st != FE_OK) {
        fe_error("%s", err.msg);
        rc = fe_status_exit_code(st);
    }
    free(est.prompt_tokens);
    cJSON_Delete(manifest);
    fe_run_unlock(lock_fd);
    free(dir);
    free(cache_dir);
    fe_config_free(c);
    return rc;
}
