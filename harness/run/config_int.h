/* config_int.h — private to the config loader (harness/run/config*.c): the state of one load and
 * the strict readers every part of the loader shares. Nothing outside these files includes it.
 *
 * The loader is six files, which call each other in one direction only
 * (config.c -> config_yaml.c, config_dataset.c, config_arms.c -> config_providers.c ->
 * config_keys.c):
 *   config.c            fe_config_load*: the top-level keys in order (name, dataset, task, ...,
 *                       stats, budget, the objects the decision and report read), fe_config_free
 *   config_yaml.c       a YAML config into the cJSON tree a JSON config parses to (positions kept)
 *   config_dataset.c    dataset_format and the field mapping (task.*_field, task.slice_min_n)
 *   config_arms.c       the defaults arms inherit, each arm (system prompt, few-shot rows,
 *                       sampling), the --arms filter, baseline/candidate, the public arm edits and
 *                       the messages an arm sends (fe_build_messages)
 *   config_providers.c  the named providers (type, URL, headers, limits) and their API keys
 *   config_keys.c       the key table fe_config_objects[], unknown keys ("did you mean"),
 *                       duplicate keys, the line:column of a bad item, the typed getters
 *
 * Errors: every reader reports the first problem through fe_bad/fe_bad_at ("file:line:col:
 * json.path: message") and returns FE_EINVALID; absent optional values leave outputs unchanged.
 */
#ifndef FE_CONFIG_INT_H
#define FE_CONFIG_INT_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

#include "harness/base/err.h"

/* config.h's types (declared, not included: config.h is the public half of this module) */
struct fe_arm_conf;
struct fe_config;
struct fe_message;
struct fe_provider_entry;

#define FE_MAX_PROMPT_FILE (16u * 1024 * 1024)

/* Where an item of a YAML config was (a member: its key), 1-based. */
struct fe_yaml_pos {
    const cJSON *item;
    size_t line, col;
};

/* One load in progress. */
struct fe_cfg {
    struct fe_config *c;
    struct fe_err *err;
    const char *text; /* the config's text, to name the line of a bad key or value */
    size_t len;
    const struct fe_yaml_pos *pos; /* a YAML config: every item's position (text is NULL) */
    size_t n_pos;
    unsigned flags;   /* enum fe_config_flags */
};

/* ---- config_keys.c: errors, strict keys, typed getters ---- */

/* "file: path: message" (FE_EINVALID). */
enum fe_status fe_bad(struct fe_cfg *k, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Like fe_bad, naming item's line and column too: "c.json:3:5: arms[0].seed: ...". */
enum fe_status fe_bad_at(struct fe_cfg *k, const cJSON *item, const char *path,
                         const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* "path.key" ("key" at the root, path ""). */
void fe_member_path(char *out, size_t size, const char *path, const char *key);
/* Rejects a key twice in object o (not an object: fine). */
enum fe_status fe_check_unique(struct fe_cfg *k, const cJSON *o, const char *path);
/* Rejects any key of o that the row `object` of fe_config_objects does not list, and duplicate
 * keys. o NULL is fine (an absent object). */
enum fe_status fe_check_keys(struct fe_cfg *k, const cJSON *o, const char *object,
                             const char *path);
/* Optional string field: absent/null -> *out NULL. */
enum fe_status fe_opt_string(struct fe_cfg *k, const cJSON *o, const char *name,
                             const char *path, const char **out);
/* Required non-empty string. */
enum fe_status fe_req_string(struct fe_cfg *k, const cJSON *o, const char *name,
                             const char *path, const char **out);
/* Optional number in [lo, hi]; absent leaves *out unchanged and *present false. */
enum fe_status fe_opt_number(struct fe_cfg *k, const cJSON *o, const char *name,
                             const char *path, double lo, double hi, double *out, bool *present);
/* Optional whole number in [lo, hi]. */
enum fe_status fe_opt_int(struct fe_cfg *k, const cJSON *o, const char *name, const char *path,
                          double lo, double hi, double *out, bool *present);
/* Optional true/false; absent leaves *out unchanged. */
enum fe_status fe_opt_bool(struct fe_cfg *k, const cJSON *o, const char *name, const char *path,
                           bool *out);
/* Optional object; absent/null -> *out NULL. */
enum fe_status fe_opt_object(struct fe_cfg *k, const cJSON *o, const char *name,
                             const char *path, const cJSON **out);
/* An optional member object of the root checked against its row of fe_config_objects. */
enum fe_status fe_opt_strict(struct fe_cfg *k, const cJSON *root, const char *name,
                             const cJSON **out);

/* ---- config_distill.c ---- */

/* Checks the optional "distill" object (docs/distill.md): teacher names an arm, the student
 * format has a template, the held-out set is named. */
enum fe_status fe_check_distill(struct fe_cfg *k, const cJSON *root);

/* ---- config_providers.c ---- */

/* Reads "providers" into c->providers. */
enum fe_status fe_load_providers(struct fe_cfg *k, const cJSON *providers);
struct fe_provider_entry *fe_find_provider(struct fe_config *c, const char *name);
/* The API keys of the providers the selected arms use (after the arms are read). */
enum fe_status fe_read_keys(struct fe_cfg *k);

/* ---- config_yaml.c ---- */

/* Parses a YAML config into the cJSON tree a JSON config parses to (caller deletes) and the
 * position of every item (*pos, caller frees); NULL with err "path:line:col: ..." (FE_EINVALID). */
cJSON *fe_yaml_parse(const char *text, size_t len, const char *path, struct fe_yaml_pos **pos,
                     size_t *n_pos, struct fe_err *err);

/* ---- config_dataset.c ---- */

/* dataset_format and task.id_field/input_field/gold_field/slice_field/slice_min_n into
 * c->dataset_opts (after the task's keys are checked). */
enum fe_status fe_load_dataset_opts(struct fe_cfg *k, const cJSON *root);
void fe_dataset_opts_release(struct fe_config *c);

/* ---- config_batch.c ---- */

/* Reads a provider's "batch", "batch_max_requests", "batch_max_bytes", "batch_poll_s" (path: the
 * provider's JSON path). */
enum fe_status fe_load_provider_batch(struct fe_cfg *k, const cJSON *p, const char *path,
                                      struct fe_provider_entry *e);
/* ---- config_stream.c ---- */

/* A provider's "stream" and "first_token_timeout_s" (after its extra_body was read). */
enum fe_status fe_load_provider_stream(struct fe_cfg *k, const cJSON *p, struct fe_provider_entry *e,
                                       const char *path);
/* An arm's, inheriting its provider's (after its provider, timeout_s and extra_body were read). */
enum fe_status fe_load_arm_stream(struct fe_cfg *k, const cJSON *a, struct fe_arm_conf *arm, const char *path);

/* ---- config_arms.c ---- */

/* "defaults": what every arm inherits unless it sets its own. */
struct fe_defaults {
    bool has_temperature;
    double temperature, max_tokens, seed, timeout_s, max_retries;
    bool has_seed;
};

/* Reads "defaults" into *d (and the run's concurrency). */
enum fe_status fe_load_defaults(struct fe_cfg *k, const cJSON *root, struct fe_defaults *d);
/* Reads "arms" (after the providers): every arm is checked, only those in arms_filter (NULL:
 * all) are kept. */
enum fe_status fe_load_arms(struct fe_cfg *k, const cJSON *arms, const struct fe_defaults *d,
                            const char *arms_filter);
/* baseline_arm and candidate_arm, defaulted from the kept arms. */
enum fe_status fe_pick_arms(struct fe_cfg *k, const cJSON *root, const char *arms_filter);
void fe_arm_release(struct fe_arm_conf *a);
/* Reads a prompt file (UTF-8 text, at most FE_MAX_PROMPT_FILE bytes) and its sha256, or NULL
 * with the error naming json_path. */
char *fe_read_prompt_file(struct fe_cfg *k, const char *path, const char *json_path, char sha[65]);

/* ---- config_judges.c (calls config_arms.c and below) ---- */

/* Reads "judges" (after the arms, baseline and prices) and checks the judge:NAME metrics of
 * task.metrics against them; marks the judges' providers used. */
enum fe_status fe_load_judges(struct fe_cfg *k, const cJSON *root, const struct fe_defaults *d);
void fe_judges_release(struct fe_config *c);
void fe_add_message(struct fe_message **m, size_t *n, const char *role, const char *content);

#endif
