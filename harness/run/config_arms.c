/* config_arms.c — the arms of a run config (config_int.h): the "defaults" they inherit, each
 * arm (provider, model or fine-tuning job, system prompt inline or "@file", few-shot rows inline
 * or from a JSONL file, sampling settings), the --arms filter, baseline_arm and candidate_arm;
 * the public edits of arms after loading (fe_config_set_model, fe_config_add_arm_copy,
 * fe_config_arm_index) and the messages an arm sends for one example (fe_build_messages).
 * Prompt and few-shot files are hashed (sha256) for the manifest.
 */
#include "harness/base/jsonout.h"
#include "harness/run/config.h"
#include "harness/run/config_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "harness/base/log.h"
#include "harness/base/util.h"
#include "harness/input/template.h"

/* Reads a prompt file; records its sha256. */
char *fe_read_prompt_file(struct fe_cfg *k, const char *path, const char *json_path, char sha[65])
{
    size_t len;
    char *text = fe_read_file(path, FE_MAX_PROMPT_FILE, &len);
    if (!text) {
        fe_bad(k, json_path, "cannot read '%s': %s", path, strerror(errno));
        return NULL;
    }
    if (fe_utf8_check(text, len) != len || strlen(text) != len) {
        fe_bad(k, json_path, "'%s' is not valid UTF-8 text", path);
        free(text);
        return NULL;
    }
    fe_sha256_hex(text, len, sha);
    return text;
}

void fe_add_message(struct fe_message **m, size_t *n, const char *role, const char *content)
{
    *m = fe_xreallocarray(*m, *n + 1, sizeof(**m));
    (*m)[*n].role = fe_xstrdup(role);
    (*m)[*n].content = fe_xstrdup(content);
    (*n)++;
}

void fe_messages_free(struct fe_message *m, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(m[i].role);
        free(m[i].content);
    }
    free(m);
}

/* Few-shot rows in either dataset shape become user/assistant pairs. */
static enum fe_status fe_few_shot_row(struct fe_cfg *k, struct fe_arm_conf *arm, const char *tmpl,
                                      const cJSON *row, const char *where)
{
    char *text = cJSON_PrintUnformatted(row);
    struct fe_example ex;
    struct fe_err perr = {0};
    int rc = fe_example_parse(text, strlen(text), where, 0, &ex, &perr);
    cJSON_free(text);
    if (rc != 0)
        return fe_bad(k, where, "not a dataset row: %s", perr.msg);
    if (ex.chat) {
        for (size_t i = 0; i < ex.n_messages; i++)
            if (strcmp(ex.messages[i].role, "system") != 0 && strcmp(ex.messages[i].role, "developer") != 0)
                fe_add_message(&arm->few_shot, &arm->n_few_shot, ex.messages[i].role, ex.messages[i].content);
    } else {
        char *user = fe_template_render(tmpl, ex.row, &perr);
        if (!user) {
            fe_example_release(&ex);
            return fe_bad(k, where, "%s", perr.msg);
        }
        fe_add_message(&arm->few_shot, &arm->n_few_shot, "user", user);
        free(user);
    }
    fe_add_message(&arm->few_shot, &arm->n_few_shot, "assistant", ex.golds[0]);
    fe_example_release(&ex);
    return FE_OK;
}

static enum fe_status fe_load_few_shot(struct fe_cfg *k, struct fe_arm_conf *arm, const cJSON *v,
                                       const char *path)
{
    if (!v || cJSON_IsNull(v))
        return FE_OK;
    if (cJSON_IsArray(v)) {
        arm->few_shot_source = fe_xstrdup("inline");
        char *text = cJSON_PrintUnformatted(v);
        fe_sha256_hex(text, strlen(text), arm->few_shot_sha256);
        cJSON_free(text);
        int i = 0;
        const cJSON *row;
        cJSON_ArrayForEach(row, v) {
            char where[256];
            snprintf(where, sizeof(where), "%s[%d]", path, i++);
            if (fe_few_shot_row(k, arm, arm->template, row, where) != FE_OK)
                return FE_EINVALID;
        }
        return FE_OK;
    }
    if (!cJSON_IsString(v))
        return fe_bad(k, path, "must be an array of examples or a JSONL file path");
    const char *rel = v->valuestring[0] == '@' ? v->valuestring + 1 : v->valuestring;
    char *file = fe_path_relative_to(k->c->path, rel);
    arm->few_shot_source = file;
    if (fe_sha256_file(file, arm->few_shot_sha256) != 0)
        return fe_bad(k, path, "cannot read '%s': %s", file, strerror(errno));
    struct fe_example *rows = NULL;
    size_t n = 0;
    struct fe_err derr = {0};
    if (fe_dataset_load(file, &rows, &n, &derr) != FE_OK)
        return fe_bad(k, path, "%s", derr.msg);
    enum fe_status st = FE_OK;
    for (size_t i = 0; i < n && st == FE_OK; i++) {
        char where[512];
        snprintf(where, sizeof(where), "%s:%zu", file, rows[i].line);
        st = fe_few_shot_row(k, arm, arm->template, rows[i].row, where);
    }
    fe_examples_free(rows, n);
    return st;
}

/* A literal system prompt that is the name of an existing file (relative to the config, as
 * "@file" would be) almost surely lost its '@': the model would get the file name as its
 * instructions. A warning, not an error: the text may be meant. */
static void fe_warn_system_file(struct fe_cfg *k, const char *json_path, const char *text)
{
    if (!*text || strlen(text) > 4096 || strchr(text, '\n'))
        return;
    char *file = fe_path_relative_to(k->c->path, text);
    struct stat st;
    if (stat(file, &st) == 0 && S_ISREG(st.st_mode))
        fe_warn("%s: %s: \"%s\" is the name of an existing file but is sent as literal text; "
                "write \"@%s\" to send the file's contents", k->c->path, json_path, text, text);
    free(file);
}

/* arms[i].system: inline text, or "@file" relative to the config; hashed either way. */
static enum fe_status fe_load_system(struct fe_cfg *k, const cJSON *sys, const char *sub,
                                     struct fe_arm_conf *arm)
{
    if (!sys || cJSON_IsNull(sys))
        return FE_OK;
    if (!cJSON_IsString(sys))
        return fe_bad_at(k, sys, sub, "must be a string (inline text or @file)");
    if (sys->valuestring[0] == '@') {
        char *file = fe_path_relative_to(k->c->path, sys->valuestring + 1);
        arm->system_source = file;
        arm->system = fe_read_prompt_file(k, file, sub, arm->system_sha256);
        if (!arm->system)
            return FE_EINVALID;
    } else {
        fe_warn_system_file(k, sub, sys->valuestring);
        arm->system_source = fe_xstrdup("inline");
        arm->system = fe_xstrdup(sys->valuestring);
        fe_sha256_hex(arm->system, strlen(arm->system), arm->system_sha256);
    }
    return FE_OK;
}

static enum fe_status fe_load_arm(struct fe_cfg *k, const cJSON *a, size_t i,
                                  const struct fe_defaults *d, struct fe_arm_conf *arm)
{
    struct fe_config *c = k->c;
    char path[64], sub[128];
    snprintf(path, sizeof(path), "arms[%zu]", i);
    if (!cJSON_IsObject(a))
        return fe_bad_at(k, a, path, "must be an object");
    if (fe_check_keys(k, a, "arms[]", path) != FE_OK)
        return FE_EINVALID;
    const char *s;
    snprintf(sub, sizeof(sub), "%s.name", path);
    if (fe_req_string(k, a, "name", sub, &s) != FE_OK)
        return FE_EINVALID;
    for (const char *p = s; *p; p++)
        if (!(('a' <= *p && *p <= 'z') || ('A' <= *p && *p <= 'Z') || ('0' <= *p && *p <= '9') ||
              *p == '-' || *p == '_' || *p == '.') || s[0] == '.')
            return fe_bad(k, sub, "'%s': use letters, digits, '-', '_' and '.' (it names a file)", s);
    arm->name = fe_xstrdup(s);
    arm->trained_tokens = -1;
    arm->checkpoint_step = -1;
    snprintf(sub, sizeof(sub), "%s.provider", path);
    if (fe_req_string(k, a, "provider", sub, &s) != FE_OK)
        return FE_EINVALID;
    arm->provider = fe_find_provider(c, s);
    if (!arm->provider)
        return fe_bad(k, sub, "no provider named '%s' in \"providers\"", s);
    snprintf(sub, sizeof(sub), "%s.finetune_job", path);
    if (fe_opt_string(k, a, "finetune_job", sub, &s) != FE_OK)
        return FE_EINVALID;
    arm->finetune_job = fe_xstrdup(s);
    snprintf(sub, sizeof(sub), "%s.checkpoints", path);
    if (fe_opt_bool(k, a, "checkpoints", sub, &arm->checkpoints) != FE_OK)
        return FE_EINVALID;
    snprintf(sub, sizeof(sub), "%s.model", path);
    if (arm->finetune_job ? fe_opt_string(k, a, "model", sub, &s) : fe_req_string(k, a, "model", sub, &s))
        return FE_EINVALID;
    arm->model = fe_xstrdup(s);
    snprintf(sub, sizeof(sub), "%s.price_model", path);
    if (fe_opt_string(k, a, "price_model", sub, &s) != FE_OK)
        return FE_EINVALID;
    if (s && !*s)
        return fe_bad(k, sub, "empty (omit it to price by model)");
    arm->price_model = fe_xstrdup(s);

    snprintf(sub, sizeof(sub), "%s.template", path);
    if (fe_opt_string(k, a, "template", sub, &s) != FE_OK)
        return FE_EINVALID;
    arm->template = s ? s : c->template;

    snprintf(sub, sizeof(sub), "%s.system", path);
    if (fe_load_system(k, fe_json_get(a, "system"), sub, arm) != FE_OK)
        return FE_EINVALID;
    snprintf(sub, sizeof(sub), "%s.few_shot", path);
    if (fe_load_few_shot(k, arm, fe_json_get(a, "few_shot"), sub) != FE_OK)
        return FE_EINVALID;

    arm->has_temperature = d->has_temperature;
    arm->temperature = d->temperature;
    double v = d->max_tokens;
    bool present;
    snprintf(sub, sizeof(sub), "%s.temperature", path);
    if (fe_opt_number(k, a, "temperature", sub, 0, 2, &arm->temperature, &present) != FE_OK)
        return FE_EINVALID;
    arm->has_temperature = arm->has_temperature || present;
    snprintf(sub, sizeof(sub), "%s.max_tokens", path);
    if (fe_opt_int(k, a, "max_tokens", sub, 1, 1e7, &v, NULL) != FE_OK)
        return FE_EINVALID;
    arm->max_tokens = (long)v;
    v = d->seed;
    snprintf(sub, sizeof(sub), "%s.seed", path);
    if (fe_opt_int(k, a, "seed", sub, -9.2e18, 9.2e18, &v, &present) != FE_OK)
        return FE_EINVALID;
    arm->has_seed = d->has_seed || present;
    arm->seed = (long)v;
    arm->timeout_s = d->timeout_s;
    snprintf(sub, sizeof(sub), "%s.timeout_s", path);
    if (fe_opt_number(k, a, "timeout_s", sub, 0.001, 86400, &arm->timeout_s, NULL) != FE_OK)
        return FE_EINVALID;
    v = d->max_retries;
    snprintf(sub, sizeof(sub), "%s.max_retries", path);
    if (fe_opt_int(k, a, "max_retries", sub, 0, 100, &v, NULL) != FE_OK)
        return FE_EINVALID;
    arm->max_retries = (long)v;
    snprintf(sub, sizeof(sub), "%s.extra_body", path);
    if (fe_opt_object(k, a, "extra_body", sub, &arm->extra_body) != FE_OK ||
        fe_check_unique(k, arm->extra_body, sub) != FE_OK)
        return FE_EINVALID;
    return fe_load_arm_stream(k, a, arm, path);
}

void fe_arm_release(struct fe_arm_conf *a)
{
    free(a->name);
    free(a->model);
    free(a->finetune_job);
    free(a->system);
    free(a->system_source);
    free(a->few_shot_source);
    free(a->ft_base_model);
    free(a->price_model);
    fe_messages_free(a->few_shot, a->n_few_shot);
    memset(a, 0, sizeof(*a));
}

static bool fe_in_filter(const char *filter, const char *name)
{
    if (!filter)
        return true;
    size_t len = strlen(name);
    for (const char *p = filter; *p;) {
        const char *comma = strchr(p, ',');
        size_t n = comma ? (size_t)(comma - p) : strlen(p);
        if (n == len && strncmp(p, name, n) == 0)
            return true;
        p += n + (comma ? 1 : 0);
    }
    return false;
}

enum fe_status fe_load_defaults(struct fe_cfg *k, const cJSON *root, struct fe_defaults *d)
{
    *d = (struct fe_defaults){.temperature = 0, .max_tokens = 256, .seed = 0, .timeout_s = 60, .max_retries = 4};
    const cJSON *dflt;
    if (fe_opt_strict(k, root, "defaults", &dflt) != FE_OK)
        return FE_EINVALID;
    double conc = 16;
    if (fe_opt_number(k, dflt, "temperature", "defaults.temperature", 0, 2, &d->temperature, &d->has_temperature) ||
        fe_opt_int(k, dflt, "max_tokens", "defaults.max_tokens", 1, 1e7, &d->max_tokens, NULL) ||
        fe_opt_int(k, dflt, "seed", "defaults.seed", -9.2e18, 9.2e18, &d->seed, &d->has_seed) ||
        fe_opt_number(k, dflt, "timeout_s", "defaults.timeout_s", 0.001, 86400, &d->timeout_s, NULL) ||
        fe_opt_int(k, dflt, "max_retries", "defaults.max_retries", 0, 100, &d->max_retries, NULL) ||
        fe_opt_int(k, dflt, "concurrency", "defaults.concurrency", 1, 100000, &conc, NULL))
        return FE_EINVALID;
    k->c->concurrency = (long)conc;
    return FE_OK;
}

enum fe_status fe_load_arms(struct fe_cfg *k, const cJSON *arms, const struct fe_defaults *d,
                            const char *arms_filter)
{
    struct fe_config *c = k->c;
    if (arms && !cJSON_IsNull(arms) && !cJSON_IsArray(arms))
        return fe_bad_at(k, arms, "arms", "must be a non-empty array of arms");
    if (!cJSON_IsArray(arms) || cJSON_GetArraySize(arms) == 0)
        return fe_bad(k, "arms", "missing (a non-empty array)");
    c->arms = fe_xcalloc((size_t)cJSON_GetArraySize(arms), sizeof(*c->arms));
    size_t i = 0;
    const cJSON *a;
    cJSON_ArrayForEach(a, arms) {
        struct fe_arm_conf arm = {0};
        enum fe_status st = fe_load_arm(k, a, i, d, &arm);
        if (st == FE_OK) {
            for (size_t j = 0; j < c->n_arms; j++)
                if (strcmp(c->arms[j].name, arm.name) == 0) {
                    char path[64];
                    snprintf(path, sizeof(path), "arms[%zu].name", i);
                    st = fe_bad(k, path, "duplicate arm name '%s'", arm.name);
                }
        }
        bool keep = st == FE_OK && fe_in_filter(arms_filter, arm.name);
        if (keep) {
            c->arms[c->n_arms++] = arm;
            arm.provider->used = true;
        } else {
            fe_arm_release(&arm);
        }
        if (st != FE_OK)
            return st;
        i++;
    }
    if (c->n_arms == 0)
        return fe_bad(k, "arms", "no arm matches --arms '%s'", arms_filter ? arms_filter : "");
    return FE_OK;
}

enum fe_status fe_pick_arms(struct fe_cfg *k, const cJSON *root, const char *arms_filter)
{
    struct fe_config *c = k->c;
    const char *s;
    if (fe_opt_string(k, root, "baseline_arm", "baseline_arm", &s) != FE_OK)
        return FE_EINVALID;
    if (s && fe_config_arm_index(c, s) < 0) {
        if (!arms_filter)
            return fe_bad(k, "baseline_arm", "no arm named '%s'", s);
        s = NULL;
    }
    c->baseline_arm = fe_xstrdup(s ? s : c->arms[0].name);
    if (fe_opt_string(k, root, "candidate_arm", "candidate_arm", &s) != FE_OK)
        return FE_EINVALID;
    if (s && fe_config_arm_index(c, s) < 0) {
        if (!arms_filter)
            return fe_bad(k, "candidate_arm", "no arm named '%s'", s);
        s = NULL;
    }
    if (!s) {
        for (size_t j = 0; j < c->n_arms && !s; j++)
            if ((c->arms[j].model && strncmp(c->arms[j].model, "ft:", 3) == 0) || c->arms[j].finetune_job)
                s = c->arms[j].name;
        if (!s)
            s = c->arms[c->n_arms - 1].name;
    }
    c->candidate_arm = fe_xstrdup(s);
    return FE_OK;
}

void fe_config_set_model(struct fe_config *c, struct fe_arm_conf *arm, const char *model)
{
    free(arm->model);
    arm->model = fe_xstrdup(model);
    arm->has_price = c->prices && fe_prices_lookup(c->prices, arm->price_model ? arm->price_model : model,
                                                   &arm->price);
}

struct fe_arm_conf *fe_config_add_arm_copy(struct fe_config *c, size_t from, const char *name,
                                           const char *model)
{
    c->arms = fe_xreallocarray(c->arms, c->n_arms + 1, sizeof(*c->arms));
    const struct fe_arm_conf *src = &c->arms[from];
    struct fe_arm_conf *a = &c->arms[c->n_arms++];
    *a = *src;
    a->name = fe_xstrdup(name);
    a->model = NULL;
    a->finetune_job = fe_xstrdup(src->finetune_job);
    a->checkpoints = false;
    a->system = fe_xstrdup(src->system);
    a->system_source = fe_xstrdup(src->system_source);
    a->few_shot_source = fe_xstrdup(src->few_shot_source);
    a->ft_base_model = fe_xstrdup(src->ft_base_model);
    a->price_model = fe_xstrdup(src->price_model);
    a->few_shot = NULL;
    a->n_few_shot = 0;
    for (size_t i = 0; i < src->n_few_shot; i++)
        fe_add_message(&a->few_shot, &a->n_few_shot, src->few_shot[i].role, src->few_shot[i].content);
    fe_config_set_model(c, a, model);
    return a;
}

long fe_config_arm_index(const struct fe_config *c, const char *name)
{
    for (size_t i = 0; i < c->n_arms; i++)
        if (strcmp(c->arms[i].name, name) == 0)
            return (long)i;
    return -1;
}

enum fe_status fe_build_messages(const struct fe_config *c, const struct fe_arm_conf *arm,
                                 const struct fe_example *ex, struct fe_message **out, size_t *n,
                                 struct fe_err *err)
{
    (void)c;
    struct fe_message *m = NULL;
    size_t count = 0;
    bool replaced_system = false;
    if (arm->system)
        fe_add_message(&m, &count, "system", arm->system);
    size_t first = 0;
    if (ex->chat) { /* the example's own leading system message stays unless the arm has one */
        while (first < ex->n_messages && (strcmp(ex->messages[first].role, "system") == 0 ||
                                          strcmp(ex->messages[first].role, "developer") == 0)) {
            if (!arm->system)
                fe_add_message(&m, &count, ex->messages[first].role, ex->messages[first].content);
            else
                replaced_system = true;
            first++;
        }
    }
    (void)replaced_system;
    for (size_t i = 0; i < arm->n_few_shot; i++)
        fe_add_message(&m, &count, arm->few_shot[i].role, arm->few_shot[i].content);
    if (ex->chat) {
        for (size_t i = first; i < ex->n_messages; i++)
            fe_add_message(&m, &count, ex->messages[i].role, ex->messages[i].content);
    } else {
        struct fe_err terr = {0};
        char *user = fe_template_render(arm->template, ex->row, &terr);
        if (!user) {
            fe_messages_free(m, count);
            return fe_err_set(err, FE_EINVALID, "example '%s' (line %zu): %s", ex->id, ex->line, terr.msg);
        }
        fe_add_message(&m, &count, "user", user);
        free(user);
    }
    *out = m;
    *n = count;
    return FE_OK;
}
