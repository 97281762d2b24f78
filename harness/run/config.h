/* config.h — the run config (DESIGN §3, contract): loading, validation, resolution.
 *
 * Every error names the config file and the JSON path ("demo.json: arms[1].model: missing").
 * Relative paths resolve against the config file's folder. Secrets never live in the config:
 * a provider names the environment variable holding its key (api_key_env); the key is read at
 * load time for the providers the selected arms use, and registered for log redaction.
 * Owns everything it points to; release with fe_config_free.
 */
#ifndef FE_CONFIG_H
#define FE_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

#include "harness/input/dataset.h"
#include "harness/base/err.h"
#include "metrics/cost.h"
#include "metrics/metric.h"
#include "metrics/stats.h"
#include "providers/provider.h"

struct fe_provider_entry {
    struct fe_provider_conf conf;     /* strings borrowed from the config JSON / owned below */
    const struct fe_provider_ops *ops;
    char *api_key;                    /* owned; NULL when no api_key_env */
    char *api_key_env;
    char *base_url;                   /* owned, trailing '/' removed */
    char *path;                       /* replay path, resolved */
    double rpm, tpm;                  /* 0 = unlimited */
    long concurrency;                 /* 0 = the run's concurrency */
    double max_wait_s;                /* longest server-requested wait honoured (default 120) */
    bool used;                        /* some selected arm uses it */
    /* Grown at the end (issue 15): owned; conf points at them. */
    char *token_env;                  /* azure_openai: Entra ID token variable, or NULL */
    char *bearer_token;
    char *region;                     /* "region" or $AWS_REGION (FE_CAP_AWS_SIGV4) */
    char *aws_access_key_id, *aws_secret_access_key, *aws_session_token;
    /* Grown at the end (issue 14, config_batch.c): the provider's batch API (docs/batch.md). */
    bool batch;                       /* "batch": true, or `run --batch` */
    long batch_max_requests;          /* requests per batch file (default 50,000) */
    long batch_max_bytes;             /* bytes per batch file (default 200 MB) */
    double batch_poll_s;              /* first poll interval (default 10 s; backoff to 60 s) */
    bool stream;                      /* "stream" (arms may override) */
    bool has_first_token_timeout;
    double first_token_timeout_s;     /* "first_token_timeout_s" (arms may override) */
};

struct fe_arm_conf {
    char *name;
    struct fe_provider_entry *provider; /* borrowed from fe_config.providers */
    char *model;
    char *finetune_job;               /* resolved to model before the run when set */
    bool checkpoints;
    char *system;                     /* NULL when none */
    char *system_source;              /* "inline" or the file path */
    char system_sha256[65];           /* "" when none */
    struct fe_message *few_shot;      /* user/assistant pairs, in order */
    size_t n_few_shot;
    char *few_shot_source;
    char few_shot_sha256[65];
    const char *template;             /* borrowed: the arm's or the task's */
    bool has_temperature;
    double temperature;
    long max_tokens;
    bool has_seed;
    long seed;
    double timeout_s;
    long max_retries;
    const cJSON *extra_body;          /* borrowed */
    bool has_price;
    struct fe_price price;
    char *ft_base_model;              /* from a resolved finetune_job, else NULL */
    long long trained_tokens;         /* from a resolved finetune_job, -1 unknown */
    long checkpoint_step;             /* an arm added for a checkpoint, else -1 */
    char *price_model;                /* the price row to look up instead of model (an Azure
                                         deployment's model), or NULL */
    bool stream;                      /* "stream": answers read as server-sent events (issue 15) */
    double first_token_timeout_s;     /* streams: no content by then is a timeout */
};

/* The smallest slice the summary tests when task.slice_min_n is absent. */
#define FE_SLICE_MIN_N_DEFAULT 10

/* The dataset_format and task.*_field of a config's JSON tree (a manifest's "config", a file
 * read by fe_config_read_tree) into *o, borrowing its strings; absent keys leave NULL. */
void fe_dataset_opts_from_json(const cJSON *config, struct fe_dataset_opts *o);
/* One entry of "judges" (issue 12, docs/judges.md): a model that grades the arms' outputs. Its
 * requests go through the runner like an arm's, with conf as their settings (provider, model,
 * price, timeout, retries; temperature 0). */
enum fe_judge_type { FE_JUDGE_RUBRIC, FE_JUDGE_PAIRWISE };
struct fe_judge {
    char *name;                       /* the key in "judges" */
    enum fe_judge_type type;
    struct fe_arm_conf conf;          /* name "judge:NAME"; owned like an arm's */
    char *prompt;                     /* the template ({input}, {reference}, {output}, ...) */
    char *prompt_source;              /* "default", "inline" or the file path */
    char prompt_sha256[65];
    long lo, hi;                      /* rubric scale, default [1, 5] */
    bool has_pass_at;
    long pass_at;
    char *against;                    /* pairwise: the arm every other arm is compared with */
    size_t against_arm;               /* its index in arms */
    bool swap;                        /* pairwise: judge both orders (default true) */
    cJSON *extra_body;                /* response_format json_schema (openai, azure_openai) or NULL */
    char *self_preference;            /* an arm whose model is, or is tuned from, the judge's */
};

struct fe_config {
    char *path;
    cJSON *json;                      /* the parsed file */
    char *name;
    char *dataset_path;               /* resolved */
    char *dataset_format;             /* "jsonl", "csv", or NULL: by the file name */
    char *id_field, *input_field, *gold_field, *slice_field; /* task.*_field, NULL: standard */
    long slice_min_n;                 /* task.slice_min_n: smaller slices are listed, not tested */
    struct fe_dataset_opts dataset_opts; /* borrows the five above: pass to fe_dataset_open_with */
    char *template;                   /* task.template, default "{input}" */
    struct fe_jsonschema *task_schema; /* task.schema compiled, or NULL */
    char *task_schema_source;         /* the resolved "@file" of task.schema, else NULL */
    char task_schema_sha256[65];      /* its sha256 ("" when inline or absent) */
    struct fe_regex *task_pattern;    /* task.pattern compiled, or NULL */
    struct fe_metric_task metric_task; /* borrows the two above, for the metrics */
    char **metrics;
    size_t n_metrics;
    char *primary_metric;
    struct fe_provider_entry *providers;
    size_t n_providers;
    struct fe_arm_conf *arms;
    size_t n_arms;
    char *baseline_arm;               /* defaults applied: baseline = first arm */
    char *candidate_arm;              /* default: first arm with an ft: model, else last arm */
    struct fe_prices *prices;         /* NULL when the config has none */
    struct fe_stats_opts stats;
    long concurrency;                 /* defaults.concurrency, default 16 */
    bool has_budget;
    double budget_max_usd;
    double max_error_rate;            /* default 0.05 */
    bool cache;
    struct fe_judge *judges;          /* "judges", in config order (issue 12) */
    size_t n_judges;
};

/* Strictness (docs/config.md): every object of the config accepts only the keys of its row in
 * fe_config_objects; any other key is an error naming file:line:col, the JSON path and the
 * nearest accepted key ("c.json:3:5: arms[1].few_shots: unknown key; did you mean
 * \"few_shot\"?"). A duplicate key, or a known key of the wrong type, is an error too.
 * Free-form maps (extra_body, headers, a price row's service_tiers) have no row. */
struct fe_config_object {
    const char *path;        /* "(root)", "task", "providers.*" (each provider), "arms[]" (each arm) */
    const char *const *keys; /* NULL-terminated */
};
/* Terminated by {NULL, NULL}. configs/fteval.schema.json must accept exactly these keys per
 * object (tests/config_schema_test.py checks it through tests/tools/config_keys.c). */
extern const struct fe_config_object fe_config_objects[];

enum fe_config_flags {
    FE_CONFIG_NO_KEYS = 1u << 0, /* do not read API keys (a dry run sends nothing): an unset
                                    variable is a warning, api_key stays NULL */
    FE_CONFIG_DISTILL_TEACHER = 1u << 1, /* `fteval distill`'s teacher run: of "judges" only the
                                    distill gate's (distill.judge) is loaded, and task.metrics'
                                    judge:* names are not checked (the run has no golds) */
};

/* A config file's tree without validating it (JSON, or YAML when the name ends in .yaml/.yml):
 * for readers that need a few keys (`fteval sim --config`). Caller deletes *out. */
enum fe_status fe_config_read_tree(const char *path, cJSON **out, struct fe_err *err);

/* Loads and validates path (JSON, or YAML when the name ends in .yaml/.yml: the same tree, the
 * same checks, positions as file:line:column). arms_filter ("a,b" or NULL) keeps only those arms, in config order.
 * Reads API keys for the providers in use (FE_EINVALID when a named variable is unset).
 * Warns on stderr when an arm's literal "system" text names an existing file (a missing '@').
 * Returns FE_OK or FE_EINVALID (unreadable or invalid) with err set. */
enum fe_status fe_config_load(const char *path, const char *arms_filter, struct fe_config **out,
                              struct fe_err *err);
/* The same with fe_config_flags. */
enum fe_status fe_config_load_opts(const char *path, const char *arms_filter, unsigned flags,
                                   struct fe_config **out, struct fe_err *err);
/* The same from memory; path names the file in messages and anchors relative paths. */
enum fe_status fe_config_load_text(const char *text, size_t len, const char *path,
                                   const char *arms_filter, struct fe_config **out, struct fe_err *err);
void fe_config_free(struct fe_config *c);  /* NULL is a no-op */
/* The config as stored in manifest.json: resolved paths, header values redacted. Caller deletes. */
cJSON *fe_config_to_manifest_json(const struct fe_config *c);
/* Appends a copy of arms[from] (prompts, few-shot, settings) called name with model, and looks
 * its price up. Returns the new arm (pointers to earlier arms may move). */
struct fe_arm_conf *fe_config_add_arm_copy(struct fe_config *c, size_t from, const char *name,
                                           const char *model);
/* Sets arm's model (e.g. a resolved fine-tuning job) and looks its price up again. */
void fe_config_set_model(struct fe_config *c, struct fe_arm_conf *arm, const char *model);

/* The judge called name, or NULL; the judge a "judge:NAME[.pass]" metric reads, or NULL. */
const struct fe_judge *fe_config_judge(const struct fe_config *c, const char *name);
const struct fe_judge *fe_config_metric_judge(const struct fe_config *c, const char *metric);

/* Index of arm called name, or -1. */
long fe_config_arm_index(const struct fe_config *c, const char *name);

/* Builds the messages sent for ex by arm: the arm's system prompt (replacing the example's own
 * system message in the chat shape), the few-shot pairs, then the example's messages (chat) or
 * the rendered template as one user message (plain). Returns FE_OK and a newly allocated array
 * the caller frees with fe_messages_free, or FE_EINVALID (template field missing). */
enum fe_status fe_build_messages(const struct fe_config *c, const struct fe_arm_conf *arm,
                                 const struct fe_example *ex, struct fe_message **out, size_t *n,
                                 struct fe_err *err);
void fe_messages_free(struct fe_message *m, size_t n);

#endif
