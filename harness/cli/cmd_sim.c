/* cmd_sim.c — `fteval sim`: command line, setup and teardown of the simulated OpenAI server.
 * The server itself lives in sim_*.c (see sim.h); docs/sim.md is the user's guide.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "harness/cli/commands.h"
#include "harness/base/err.h"
#include "harness/base/log.h"
#include "harness/run/config.h"
#include "harness/sim/sim.h"
#include "harness/base/util.h"

static const struct fe_usage fe_sim_usage = {
    .command = "sim",
    .synopsis =
        "usage: fteval sim [--host 127.0.0.1] [--port N] [--dataset FILE] [--config CONFIG]\n"
        "                  [--template T] [--profile FILE] [--seed N] [--log FILE] [--ft-step-s S]\n"
        "                  [--fault KIND:P | --fault KIND:first=K ...] [--max-body BYTES]\n"
        "                  [--batch-step-s S] [--batch-fault SPEC ...]\n"
        "\n"
        "Serves simulated models on an OpenAI-compatible endpoint (chat completions, models, files,\n"
        "fine-tuning jobs, OpenAI and Anthropic batches) for the demo, end-to-end tests, benchmarks\n"
        "and dry runs. The first stdout line is 'listening on http://HOST:PORT/v1'. SIGTERM or SIGINT stops it cleanly.\n",
    .epilogue = "See docs/sim.md for the profile format, matching rules and fault semantics.\n",
};

/* --fault KIND:P, KIND:first=K, SPEC@[METHOD:]/v1/PATH: global or per-path faults, in order. */
static int fe_sim_opt_fault(const struct fe_option *opt, const char *v, const char *command)
{
    struct fe_sim *s = opt->cb_data;
    const char *at = strchr(v, '@');
    const char *path = at ? at + 1 : NULL;
    const char *colon = path ? strchr(path, ':') : NULL;
    char *method = colon ? fe_xstrndup(path, (size_t)(colon - path)) : NULL;
    if (colon)
        path = colon + 1;
    struct fe_sim_faults *dst = &s->global_faults;
    if (path && (method || strcmp(path, "/v1/chat/completions") != 0)) {
        if (strncmp(path, "/v1/", 4) != 0) {
            free(method);
            return fe_usage_error(command, "--fault '%s': expected KIND:SPEC@[METHOD:]/v1/PATH", v);
        }
        s->path_faults = fe_xreallocarray(s->path_faults, s->n_path_faults + 1, sizeof(*s->path_faults));
        struct fe_sim_path_faults *pf = &s->path_faults[s->n_path_faults++];
        memset(pf, 0, sizeof(*pf));
        pf->prefix = fe_xstrdup(path);
        pf->method = method;
        method = NULL;
        dst = &pf->faults;
    }
    free(method);
    char *spec = at ? fe_xstrndup(v, (size_t)(at - v)) : fe_xstrdup(v);
    struct fe_err err = {0};
    enum fe_status st = fe_sim_faults_parse_flag(dst, spec, &err);
    free(spec);
    return st == FE_OK ? 0 : fe_usage_error(command, "%s", err.msg);
}

/* --batch-fault SPEC (sim_batch.c). */
static int fe_sim_opt_batch_fault(const struct fe_option *opt, const char *v, const char *command)
{
    struct fe_err err = {0};
    return fe_sim_batch_fault_parse(opt->cb_data, v, &err) == FE_OK ? 0 : fe_usage_error(command, "%s", err.msg);
}

/* Parses the command line into s->opt and the faults; *dataset and *tmpl get copies (a config
 * may fill them later). Returns true to go on, else false with the exit code in *rc. */
static bool fe_sim_parse(int argc, char **argv, struct fe_sim *s, char **dataset, char **tmpl, int *rc)
{
    const char *dataset_arg = NULL, *tmpl_arg = NULL;
    long port = s->opt.port, seed = 0, max_body = (long)s->opt.max_body;
    const struct fe_option opts[] = {
        FE_OPTION_STRING(0, "host", &s->opt.host, "H", "address to bind (default 127.0.0.1: loopback only)"),
        FE_OPTION_LONG(0, "port", &port, "N", 0, 65535, "port (default 8000; 0 picks a free port)"),
        FE_OPTION_STRING(0, "dataset", &dataset_arg, "FILE", "held-out JSONL whose golds the models answer with"),
        FE_OPTION_STRING(0, "config", &s->opt.config, "CONFIG", "run config (JSON or YAML): its dataset, dataset_format, task.template and task.*_field are used"),
        FE_OPTION_STRING(0, "template", &tmpl_arg, "T", "template rendering plain-shape examples (default \"{input}\")"),
        FE_OPTION_STRING(0, "profile", &s->opt.profile, "FILE", "model profiles JSON (default: a built-in profile)"),
        FE_OPTION_LONG(0, "seed", &seed, "N", LONG_MIN, LONG_MAX, "seed of answers, latencies and ids (default 0)"),
        FE_OPTION_STRING(0, "log", &s->opt.log_path, "FILE",
                         "append one JSON line per request received (auth value never logged)"),
        FE_OPTION_DOUBLE(0, "ft-step-s", &s->opt.ft_step_s, "S", 0, 86400, 0,
                         "seconds per fine-tuning job status step (default 0.2)"),
        FE_OPTION_DOUBLE(0, "batch-step-s", &s->opt.batch_step_s, "S", 0, 86400, 0,
                         "seconds per batch status step: validating, in_progress, finalizing (default 0.2)"),
        FE_OPTION_CALLBACK(0, "batch-fault", "SPEC", fe_sim_opt_batch_fault, s,
                           "batch faults (repeatable): expire[:first=K], invalid[:first=K], error_lines:N"),
        FE_OPTION_CALLBACK(0, "fault", "SPEC", fe_sim_opt_fault, s,
                           "KIND:P injects KIND into each chat completion with probability P;\n"
                           "KIND:first=K into the first K attempts of each (model, example);\n"
                           "SPEC@[METHOD:]/v1/PATH the same for requests (of METHOD) whose path\n"
                           "starts with /v1/PATH: files, fine-tuning, models (attempts per method\n"
                           "and path). Kinds: rate_limit quota server_error unavailable reset\n"
                           "close stall truncate malformed. Repeatable"),
        FE_OPTION_LONG(0, "max-body", &max_body, "BYTES", 0, 1L << 34,
                       "largest request body accepted, else 413 (default 67108864)"),
        FE_OPTION_END(),
    };
    int n = fe_parse_options(argc, argv, &fe_sim_usage, opts);
    if (n < 0) {
        *rc = fe_parse_exit_code(n);
        return false;
    }
    if (n > 0) {
        *rc = fe_usage_error("sim", "unexpected argument '%s'", argv[0]);
        return false;
    }
    s->opt.port = port;
    s->opt.seed = (uint64_t)seed;
    s->opt.max_body = (size_t)max_body;
    *dataset = fe_xstrdup(dataset_arg);
    *tmpl = fe_xstrdup(tmpl_arg);
    return true;
}

/* Reads dataset, template, dataset_format and field mapping from a run config (JSON or YAML:
 * fe_config_read_tree); paths resolve against the config's folder. *tree keeps the strings
 * dataset_opts borrows (caller deletes). */
static enum fe_status fe_sim_read_config(const char *path, char **dataset, char **tmpl,
                                         struct fe_dataset_opts *dataset_opts, cJSON **tree,
                                         struct fe_err *err)
{
    size_t len;
    cJSON *root = NULL;
    if (fe_config_read_tree(path, &root, err) != FE_OK)
        return err->code;
    if (!cJSON_IsObject(root)) {
        cJSON_Delete(root);
        return fe_err_set(err, FE_EINVALID, "%s: not a JSON object", path);
    }
    fe_dataset_opts_from_json(root, dataset_opts);
    *tree = root;
    const cJSON *ds = cJSON_GetObjectItemCaseSensitive(root, "dataset");
    if (cJSON_IsString(ds) && !*dataset)
        *dataset = fe_path_relative_to(path, ds->valuestring);
    const cJSON *task = cJSON_GetObjectItemCaseSensitive(root, "task");
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(task, "template");
    if (cJSON_IsString(t) && !*tmpl) {
        if (t->valuestring[0] == '@') {
            char *file = fe_path_relative_to(path, t->valuestring + 1);
            *tmpl = fe_read_file(file, 1u << 20, &len);
            if (!*tmpl) {
                fe_err_set(err, FE_EIO, "%s: task.template: cannot read '%s': %s", path, file,
                           strerror(errno));
                free(file);
                return err->code;
            }
            free(file);
        } else {
            *tmpl = fe_xstrdup(t->valuestring);
        }
    }
    return FE_OK;
}

int fe_cmd_sim(int argc, char **argv)
{
    struct fe_sim s;
    memset(&s, 0, sizeof(s));
    s.opt.host = "127.0.0.1";
    s.opt.port = 8000;
    s.opt.ft_step_s = 0.2;
    s.opt.batch_step_s = 0.2;
    s.opt.max_body = 64u << 20;
    s.opt.max_header = 16384;
    char *dataset = NULL, *tmpl = NULL;
    struct fe_dataset_opts dataset_opts = {0};
    cJSON *config_tree = NULL;
    struct fe_err err = {0};
    int rc = FE_EXIT_OK;

    if (!fe_sim_parse(argc, argv, &s, &dataset, &tmpl, &rc))
        goto out;

    if (s.opt.config &&
        fe_sim_read_config(s.opt.config, &dataset, &tmpl, &dataset_opts, &config_tree, &err) != FE_OK)
        goto fail;
    if (s.opt.profile) {
        if (fe_sim_profile_load(&s.profile, s.opt.profile, &err) != FE_OK)
            goto fail;
    } else {
        fe_sim_profile_default(&s.profile);
    }
    fe_strmap_init(&s.attempts);
    if (dataset) {
        s.opt.dataset = dataset;
        if (fe_sim_index_load_with(&s.index, dataset, tmpl, &dataset_opts, &err) != FE_OK)
            goto fail;
        if (s.index.n_conflicting_prompts)
            fe_warn("sim: %s: %zu examples repeat an earlier example's prompt with other golds "
                    "(answers follow the first)",
                    dataset, s.index.n_conflicting_prompts);
        else if (s.index.n_duplicate_prompts)
            fe_info("sim: %s: %zu examples repeat an earlier example's prompt (same answer)",
                    dataset, s.index.n_duplicate_prompts);
    }
    s.opt.tmpl = tmpl;
    if (s.opt.log_path) {
        s.log = fopen(s.opt.log_path, "a");
        if (!s.log) {
            fe_err_set(&err, FE_EIO, "%s: cannot open log: %s", s.opt.log_path, strerror(errno));
            goto fail;
        }
    }
    s.rng = fe_sim_mix64(s.opt.seed ^ 0x51e5eedULL);
    s.created_base = fe_sim_unix_now();
    /* object and request ids differ between runs; answers depend on --seed only */
    s.next_id = fe_sim_mix64((uint64_t)s.created_base ^ ((uint64_t)getpid() << 32));
    s.t0 = fe_now();
    if (fe_sim_serve(&s, &err) != 0)
        goto fail;
    goto out;
fail:
    fprintf(stderr, "fteval: error: %s\n", err.msg);
    rc = fe_status_exit_code(err.code);
out:
    if (s.log)
        fclose(s.log);
    fe_sim_profile_release(&s.profile);
    fe_sim_index_release(&s.index);
    fe_strmap_release(&s.attempts);
    free(s.attempt_counts);
    fe_sim_store_release(&s.store);
    fe_sim_batches_release(&s);
    for (size_t i = 0; i < s.n_path_faults; i++) {
        free(s.path_faults[i].prefix);
        free(s.path_faults[i].method);
    }
    free(s.path_faults);
    free(dataset);
    free(tmpl);
    cJSON_Delete(config_tree);
    return rc;
}
