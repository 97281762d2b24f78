/* sim_model.c — what the simulated models know and answer: the dataset index (examples keyed by
 * the prompt the runner sends), deterministic answers, and GET /v1/models (the profile's model
 * ids, its extra ids and the models of succeeded fine-tuning jobs). Profiles are sim_profile.c,
 * POST /v1/chat/completions is sim_chat.c.
 *
 * Determinism: whether an example is answered correctly, and which wrong answer is given, is a
 * pure function of (seed, rule name, example id), so retries and restarts give the same answer.
 * Latency and probabilistic faults come from the server's seeded stream instead (they vary per
 * request, like the real thing).
 */
#include "harness/sim/sim.h"

#include <ctype.h>
#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "harness/input/dataset.h"
#include "harness/input/template.h"
#include "harness/base/util.h"

/* ---- dataset index ---- */

static bool fe_sim_same_golds(const struct fe_sim_example *a, const struct fe_sim_example *b)
{
    if (a->n_golds != b->n_golds)
        return false;
    for (size_t g = 0; g < a->n_golds; g++)
        if (strcmp(a->golds[g], b->golds[g]) != 0)
            return false;
    return true;
}

enum fe_status fe_sim_index_load(struct fe_sim_index *ix, const char *path, const char *tmpl,
                                 struct fe_err *err)
{
    return fe_sim_index_load_with(ix, path, tmpl, NULL, err);
}

enum fe_status fe_sim_index_load_with(struct fe_sim_index *ix, const char *path, const char *tmpl,
                                      const struct fe_dataset_opts *opts, struct fe_err *err)
{
    memset(ix, 0, sizeof(*ix));
    fe_strmap_init(&ix->by_prompt);
    struct fe_dataset_reader *r;
    if (fe_dataset_open_with(&r, path, opts, err) != FE_OK)
        return err->code;
    size_t alloc = 0;
    struct fe_example ex = {0};
    int rc;
    while ((rc = fe_dataset_next(r, &ex, err)) == 1) {
        char *key = NULL;
        if (ex.chat) {
            for (size_t i = ex.n_messages; i-- > 0;)
                if (strcmp(ex.messages[i].role, "user") == 0) {
                    key = fe_xstrdup(ex.messages[i].content);
                    break;
                }
            if (!key)
                key = fe_xstrdup("");
        } else {
            key = fe_template_render(tmpl ? tmpl : "{input}", ex.row, err);
            if (!key) {
                fe_example_release(&ex);
                rc = -1;
                break;
            }
        }
        if (ix->n == alloc) {
            alloc = alloc ? alloc * 2 : 256;
            ix->ex = fe_xreallocarray(ix->ex, alloc, sizeof(*ix->ex));
        }
        struct fe_sim_example *e = &ix->ex[ix->n];
        e->id = ex.id;
        e->golds = ex.golds;
        e->n_golds = ex.n_golds;
        ex.id = NULL;
        ex.golds = NULL;
        ex.n_golds = 0;
        if (!fe_strmap_put(&ix->by_prompt, key, ix->n)) {
            /* the same prompt again: a deterministic model answers it the same way */
            size_t first = 0;
            fe_strmap_get(&ix->by_prompt, key, &first);
            ix->n_duplicate_prompts++;
            if (!fe_sim_same_golds(&ix->ex[first], e))
                ix->n_conflicting_prompts++;
        }
        ix->n++;
        free(key);
        fe_example_release(&ex);
    }
    fe_dataset_close(r);
    if (rc < 0) {
        fe_sim_index_release(ix);
        return err->code ? err->code : FE_EINVALID;
    }
    return FE_OK;
}

void fe_sim_index_release(struct fe_sim_index *ix)
{
    for (size_t i = 0; i < ix->n; i++) {
        free(ix->ex[i].id);
        for (size_t g = 0; g < ix->ex[i].n_golds; g++)
            free(ix->ex[i].golds[g]);
        free(ix->ex[i].golds);
    }
    free(ix->ex);
    fe_strmap_release(&ix->by_prompt);
    memset(ix, 0, sizeof(*ix));
}

/* ---- answers ---- */

static bool fe_sim_same_text(const char *a, const char *b)
{
    /* case- and space-insensitive, close to what exact_match normalises */
    for (;;) {
        while (*a && !isalnum((unsigned char)*a))
            a++;
        while (*b && !isalnum((unsigned char)*b))
            b++;
        if (!*a || !*b)
            return !*a && !*b;
        if (tolower((unsigned char)*a) != tolower((unsigned char)*b))
            return false;
        a++;
        b++;
    }
}

static bool fe_sim_is_gold(const struct fe_sim_example *e, const char *text)
{
    for (size_t g = 0; g < e->n_golds; g++)
        if (fe_sim_same_text(e->golds[g], text))
            return true;
    return false;
}

/* Drops one word of a multi-word gold: partially right, so F1 gives partial credit. */
static char *fe_sim_drop_word(const char *gold, uint64_t h)
{
    size_t n_words = 0;
    for (const char *p = gold; *p;) {
        while (*p == ' ')
            p++;
        if (!*p)
            break;
        n_words++;
        while (*p && *p != ' ')
            p++;
    }
    if (n_words < 2)
        return NULL;
    size_t drop = (size_t)(h % n_words), w = 0;
    struct fe_buf b = {0};
    for (const char *p = gold; *p;) {
        while (*p == ' ')
            p++;
        if (!*p)
            break;
        const char *start = p;
        while (*p && *p != ' ')
            p++;
        if (w++ == drop)
            continue;
        if (b.len)
            fe_buf_addch(&b, ' ');
        fe_buf_add(&b, start, (size_t)(p - start));
    }
    return fe_buf_detach(&b, NULL);
}

char *fe_sim_answer(const struct fe_sim_index *ix, size_t example, const struct fe_sim_rule *rule,
                    uint64_t seed)
{
    const struct fe_sim_example *e = &ix->ex[example];
    uint64_t shared = fe_sim_hash_str(seed, e->id);
    uint64_t own = fe_sim_hash_str(fe_sim_hash_str(seed, rule->name), e->id);
    bool use_shared = fe_sim_unit(fe_sim_mix64(own ^ 0x5151)) < rule->correlation;
    double u = fe_sim_unit(use_shared ? shared : fe_sim_mix64(own));
    const char *gold = e->n_golds ? e->golds[0] : "";
    if (u < rule->accuracy)
        return fe_xstrdup(gold);
    uint64_t h = fe_sim_mix64(own ^ 0xa11ce);
    if (fe_sim_unit(h) < rule->partial_share) {
        char *edited = fe_sim_drop_word(gold, fe_sim_mix64(h));
        if (edited && !fe_sim_is_gold(e, edited))
            return edited;
        free(edited);
    }
    /* another example's gold: a plausible confusion (another label, another span) */
    uint64_t st = h;
    for (int tries = 0; tries < 32 && ix->n > 1; tries++) {
        const struct fe_sim_example *o = &ix->ex[fe_sim_next(&st) % ix->n];
        if (o == e || !o->n_golds || !o->golds[0][0] || fe_sim_is_gold(e, o->golds[0]))
            continue;
        return fe_xstrdup(o->golds[0]);
    }
    return fe_xstrdup(gold[0] ? "I am not sure." : "unknown");
}

/* ---- models ---- */

static bool fe_sim_is_glob(const char *s) { return strpbrk(s, "*?[") != NULL; }

static cJSON *fe_sim_model_obj(const char *id, long created, const char *owner)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "id", id);
    cJSON_AddStringToObject(o, "object", "model");
    cJSON_AddNumberToObject(o, "created", (double)created);
    cJSON_AddStringToObject(o, "owned_by", owner);
    return o;
}

void fe_sim_models(struct fe_sim *s, const struct fe_sim_request *rq, struct fe_sim_response *rs)
{
    cJSON *out;
    const char *one = strncmp(rq->path, "/v1/models/", 11) == 0 ? rq->path + 11 : NULL;
    if (one) {
        if (!fe_sim_profile_match(&s->profile, one, NULL) && !fe_sim_store_has_model(s, one)) {
            /* a rule may need a system prompt: still a known model if its glob matches */
            bool any = false;
            for (size_t i = 0; i < s->profile.n_rules && !any; i++)
                any = fnmatch(s->profile.rules[i].model, one, 0) == 0;
            if (!any) {
                fe_sim_error(rs, 404, "invalid_request_error", "model", "model_not_found",
                             "The model '%s' does not exist", one);
                return;
            }
        }
        out = fe_sim_model_obj(one, s->created_base,
                               strncmp(one, "ft:", 3) == 0 ? "fteval-sim" : "system");
    } else {
        out = cJSON_CreateObject();
        cJSON_AddStringToObject(out, "object", "list");
        cJSON *data = cJSON_AddArrayToObject(out, "data");
        for (size_t i = 0; i < s->profile.n_rules; i++) {
            const char *id = s->profile.rules[i].model;
            bool dup = fe_sim_is_glob(id);
            for (size_t j = 0; j < i && !dup; j++)
                dup = strcmp(s->profile.rules[j].model, id) == 0;
            if (!dup)
                cJSON_AddItemToArray(data, fe_sim_model_obj(id, s->created_base, "system"));
        }
        for (size_t i = 0; i < s->profile.n_models; i++) {
            bool dup = false;
            for (size_t j = 0; j < s->profile.n_rules && !dup; j++)
                dup = strcmp(s->profile.rules[j].model, s->profile.models[i]) == 0;
            for (size_t j = 0; j < i && !dup; j++)
                dup = strcmp(s->profile.models[j], s->profile.models[i]) == 0;
            if (!dup)
                cJSON_AddItemToArray(
                    data, fe_sim_model_obj(s->profile.models[i], s->created_base, "system"));
        }
        fe_sim_store_list_models(s, data);
    }
    char *text = cJSON_PrintUnformatted(out);
    cJSON_Delete(out);
    rs->status = 200;
    rs->content_type = "application/json";
    fe_buf_adds(&rs->body, text);
    free(text);
}
