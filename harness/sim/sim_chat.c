/* sim_chat.c — POST /v1/chat/completions of the simulator: reads the messages, finds the rule of
 * the profile that answers (a model trained here without an ft: rule answers like its base
 * model), recognises the dataset example by its last user message, counts the attempt, picks a
 * fault or a rate-limit refusal, and answers with the deterministic answer of sim_model.c: usage
 * (tokens, cached tokens), max_tokens truncation, rate-limit headers, simulated latency, and
 * server-sent events for "stream": true.
 */
#include "harness/base/tokens.h"
#include "harness/sim/sim.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "harness/base/util.h"

/* ---- chat completions ---- */

/* Text of a message's content: a string, or the concatenated text parts. Newly allocated. */
static char *fe_sim_content_text(const cJSON *content)
{
    if (cJSON_IsString(content))
        return fe_xstrdup(content->valuestring);
    struct fe_buf b = {0};
    if (cJSON_IsArray(content)) {
        const cJSON *part;
        cJSON_ArrayForEach(part, content)
        {
            const cJSON *t = cJSON_GetObjectItemCaseSensitive(part, "text");
            if (cJSON_IsString(t))
                fe_buf_adds(&b, t->valuestring);
        }
    }
    return fe_buf_detach(&b, NULL);
}

static double fe_sim_latency(struct fe_sim *s, const struct fe_sim_rule *r)
{
    if (r->latency_median_ms <= 0)
        return 0;
    if (r->latency_sigma <= 0)
        return r->latency_median_ms;
    /* Box-Muller from the server stream */
    double u1 = fe_sim_unit(fe_sim_next(&s->rng)), u2 = fe_sim_unit(fe_sim_next(&s->rng));
    if (u1 < 1e-12)
        u1 = 1e-12;
    double z = sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
    double ms = r->latency_median_ms * exp(r->latency_sigma * z);
    return ms > 600000 ? 600000 : ms;
}

/* Fixed one-minute windows: enough for believable x-ratelimit-* headers and an optional cap. */
static bool fe_sim_rate_window(struct fe_sim_rule *r, long tokens, double now)
{
    if (now - r->window_start >= 60.0 || r->window_start == 0) {
        r->window_start = now;
        r->window_requests = 0;
        r->window_tokens = 0;
    }
    bool over = (r->rpm > 0 && r->window_requests + 1 > r->rpm) ||
                (r->tpm > 0 && r->window_tokens + tokens > r->tpm);
    if (over && r->enforce_limits)
        return false;
    r->window_requests++;
    r->window_tokens += tokens;
    return true;
}

static void fe_sim_rate_headers(const struct fe_sim_rule *r, double now, struct fe_buf *h)
{
    char dur[64];
    fe_sim_go_duration(60.0 - (now - r->window_start), dur, sizeof(dur));
    if (r->rpm > 0) {
        long left = r->rpm - r->window_requests;
        fe_buf_addf(h,
                    "x-ratelimit-limit-requests: %ld\r\nx-ratelimit-remaining-requests: %ld\r\n"
                    "x-ratelimit-reset-requests: %s\r\n",
                    r->rpm, left < 0 ? 0 : left, dur);
    }
    if (r->tpm > 0) {
        long left = r->tpm - r->window_tokens;
        fe_buf_addf(h,
                    "x-ratelimit-limit-tokens: %ld\r\nx-ratelimit-remaining-tokens: %ld\r\n"
                    "x-ratelimit-reset-tokens: %s\r\n",
                    r->tpm, left < 0 ? 0 : left, dur);
    }
}

static const char *const fe_sim_generic[] = {
    "I am not sure.",
    "I don't know.",
    "Could you clarify the question?",
    "unknown",
};

/* Server-sent events for "stream": true, built at once (the simulated latency applies to the
 * whole stream): a role chunk, one chunk per word of the answer, a finish chunk, an optional
 * usage chunk with empty choices, then [DONE]. */
static void fe_sim_stream_chunk(const cJSON *full, cJSON *choices, const cJSON *usage,
                                struct fe_buf *b)
{
    cJSON *c = cJSON_CreateObject();
    const char *keys[] = {"id", "created", "model", "service_tier", "system_fingerprint"};
    cJSON_AddItemToObject(c, "id",
                          cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(full, keys[0]), 1));
    cJSON_AddStringToObject(c, "object", "chat.completion.chunk");
    for (size_t i = 1; i < FE_ARRAY_LEN(keys); i++)
        cJSON_AddItemToObject(c, keys[i],
                              cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(full, keys[i]), 1));
    cJSON_AddItemToObject(c, "choices", choices);
    if (usage)
        cJSON_AddItemToObject(c, "usage", cJSON_Duplicate(usage, 1));
    char *text = cJSON_PrintUnformatted(c);
    cJSON_Delete(c);
    fe_buf_addf(b, "data: %s\n\n", text);
    free(text);
}

static cJSON *fe_sim_delta(const char *role, const char *content, size_t len, const char *finish)
{
    cJSON *arr = cJSON_CreateArray();
    cJSON *ch = cJSON_CreateObject();
    cJSON_AddNumberToObject(ch, "index", 0);
    cJSON *d = cJSON_AddObjectToObject(ch, "delta");
    if (role)
        cJSON_AddStringToObject(d, "role", role);
    if (content) {
        char *piece = fe_xstrndup(content, len);
        cJSON_AddStringToObject(d, "content", piece);
        free(piece);
    }
    cJSON_AddNullToObject(ch, "logprobs");
    if (finish)
        cJSON_AddStringToObject(ch, "finish_reason", finish);
    else
        cJSON_AddNullToObject(ch, "finish_reason");
    cJSON_AddItemToArray(arr, ch);
    return arr;
}

/* The events leave paced (fe_sim_pace_mark): the role chunk with the head, the first word
 * after ttft, each later word after inter_token_ms, the finish, usage and [DONE] right after the
 * last word. Returns the index of the first content piece (n_pace when there is none). */
static size_t fe_sim_stream_body(const cJSON *full, const char *answer, const char *finish, bool usage,
                                 double ttft_ms, double inter_token_ms, struct fe_sim_response *rs)
{
    struct fe_buf *b = &rs->body;
    fe_sim_stream_chunk(full, fe_sim_delta("assistant", "", 0, NULL), NULL, b);
    fe_sim_pace_mark(rs, 0);
    size_t first_content = 0;
    for (const char *p = answer; *p;) {
        const char *e = p;
        while (*e == ' ')
            e++;
        while (*e && *e != ' ')
            e++;
        fe_sim_stream_chunk(full, fe_sim_delta(NULL, p, (size_t)(e - p), NULL), NULL, b);
        if (!first_content)
            first_content = rs->n_pace;
        fe_sim_pace_mark(rs, first_content == rs->n_pace ? ttft_ms : inter_token_ms);
        p = e;
    }
    fe_sim_stream_chunk(full, fe_sim_delta(NULL, NULL, 0, finish), NULL, b);
    if (usage)
        fe_sim_stream_chunk(full, cJSON_CreateArray(),
                            cJSON_GetObjectItemCaseSensitive(full, "usage"), b);
    fe_buf_adds(b, "data: [DONE]\n\n");
    fe_sim_pace_mark(rs, 0);
    return first_content ? first_content : rs->n_pace;
}

/* The request's model, or NULL with rs filled with the 400 for a body that is not an object, a
 * missing model or missing messages. Sets rs->model once the model is known. */
static const cJSON *fe_sim_chat_model(const cJSON *req, struct fe_sim_response *rs)
{
    if (!cJSON_IsObject(req)) {
        fe_sim_error(rs, 400, "invalid_request_error", NULL, NULL,
                     "We could not parse the JSON body of your request.");
        return NULL;
    }
    const cJSON *model = cJSON_GetObjectItemCaseSensitive(req, "model");
    const cJSON *messages = cJSON_GetObjectItemCaseSensitive(req, "messages");
    if (!cJSON_IsString(model) || !model->valuestring[0]) {
        fe_sim_error(rs, 400, "invalid_request_error", "model", "missing_required_parameter",
                     "you must provide a model parameter");
        return NULL;
    }
    rs->model = fe_xstrdup(model->valuestring);
    if (!cJSON_IsArray(messages) || cJSON_GetArraySize(messages) == 0) {
        fe_sim_error(rs, 400, "invalid_request_error", "messages", "missing_required_parameter",
                     "Missing required parameter: 'messages'.");
        return NULL;
    }
    return model;
}

/* What the messages of a request say to the simulator. */
struct fe_sim_prompt {
    char *system;      /* system and developer messages joined by '\n', or NULL */
    char *user;        /* the last user message's text, or NULL */
    long chars_tokens; /* fe_estimate_tokens summed over every message's text */
    long n_messages;
};

/* Reads the messages into *p. Returns false when a message has no role (p left empty). */
static bool fe_sim_read_messages(const cJSON *messages, struct fe_sim_prompt *p)
{
    struct fe_buf sysb = {0};
    const cJSON *m;
    cJSON_ArrayForEach(m, messages)
    {
        const cJSON *role = cJSON_GetObjectItemCaseSensitive(m, "role");
        if (!cJSON_IsString(role)) {
            fe_buf_release(&sysb);
            free(p->user);
            p->user = NULL;
            return false;
        }
        char *text = fe_sim_content_text(cJSON_GetObjectItemCaseSensitive(m, "content"));
        p->chars_tokens += fe_estimate_tokens(text);
        p->n_messages++;
        if (strcmp(role->valuestring, "system") == 0 ||
            strcmp(role->valuestring, "developer") == 0) {
            if (sysb.len)
                fe_buf_addch(&sysb, '\n');
            fe_buf_adds(&sysb, text);
            free(text);
        } else if (strcmp(role->valuestring, "user") == 0) {
            free(p->user);
            p->user = text;
        } else {
            free(text);
        }
    }
    if (sysb.len)
        p->system = fe_buf_detach(&sysb, NULL);
    fe_buf_release(&sysb);
    return true;
}

/* The rule that answers model (NULL: none). A model trained here with no ft: rule behaves like
 * its base model. */
static struct fe_sim_rule *fe_sim_chat_rule(struct fe_sim *s, const char *model, const char *system)
{
    struct fe_sim_rule *rule = fe_sim_profile_match(&s->profile, model, system);
    if (!rule && strncmp(model, "ft:", 3) == 0 && fe_sim_store_has_model(s, model)) {
        char *base = fe_xstrdup(model + 3);
        char *colon = strchr(base, ':');
        if (colon)
            *colon = '\0';
        rule = fe_sim_profile_match(&s->profile, base, system);
        free(base);
    }
    return rule;
}

/* Is the prompt a dataset example (by its last user message; *ex_index)? Counts the attempt of
 * (model, example id), or of (model, prompt hash) for a prompt the dataset does not have. */
static bool fe_sim_chat_example(struct fe_sim *s, const char *model, const char *user,
                                struct fe_sim_response *rs, size_t *ex_index)
{
    *ex_index = 0;
    bool known = user && s->index.n && fe_strmap_get(&s->index.by_prompt, user, ex_index);
    char hashkey[40];
    if (known) {
        rs->example = fe_xstrdup(s->index.ex[*ex_index].id);
    } else {
        snprintf(hashkey, sizeof(hashkey), "prompt:%016llx",
                 (unsigned long long)fe_sim_hash_str(0, user ? user : ""));
    }
    rs->attempt = fe_sim_attempt(s, model, known ? rs->example : hashkey);
    return known;
}

/* Picks this attempt's fault, or a rate-limit refusal when the rule's minute budget is spent and
 * enforced. Returns true when rs is now the fault's answer; otherwise sets rs->fault (none or a
 * truncation, which the transport applies to the answer). */
static bool fe_sim_chat_fault(struct fe_sim *s, struct fe_sim_rule *rule, long prompt_tokens,
                              double now, bool stream, struct fe_sim_response *rs)
{
    enum fe_sim_fault f =
        fe_sim_faults_pick(&rule->faults, &s->global_faults, rs->attempt, &s->rng);
    if (f == FE_SIM_FAULT_NONE && !fe_sim_rate_window(rule, prompt_tokens, now))
        f = FE_SIM_FAULT_RATE_LIMIT;
    if (!stream && f == FE_SIM_FAULT_STREAM_CUT) /* a plain answer is cut the plain way */
        f = FE_SIM_FAULT_TRUNCATE;
    else if (!stream && f == FE_SIM_FAULT_STREAM_STALL)
        f = FE_SIM_FAULT_STALL;
    else if (stream && f == FE_SIM_FAULT_TRUNCATE) /* a stream is cut the stream way */
        f = FE_SIM_FAULT_STREAM_CUT;
    if (f != FE_SIM_FAULT_NONE && f != FE_SIM_FAULT_TRUNCATE && f != FE_SIM_FAULT_STREAM_CUT &&
        f != FE_SIM_FAULT_STREAM_STALL) {
        fe_sim_fault_respond(s, rule, f, rs);
        if (f == FE_SIM_FAULT_SERVER_ERROR || f == FE_SIM_FAULT_UNAVAILABLE ||
            f == FE_SIM_FAULT_MALFORMED)
            rs->delay_ms = fe_sim_latency(s, rule);
        return true;
    }
    rs->fault = f;
    return false;
}

/* The answer text: the example's deterministic answer, or a generic reply to an unknown prompt
 * (the same one for the same prompt and rule). Newly allocated. */
static char *fe_sim_chat_answer(const struct fe_sim *s, const struct fe_sim_rule *rule, bool known,
                                size_t ex_index, const char *user)
{
    if (rule->judge)
        return fe_sim_judge_answer(s->opt.seed, rule, user); /* issue 12: a judge model */
    if (known)
        return fe_sim_answer(&s->index, ex_index, rule, s->opt.seed);
    uint64_t h = fe_sim_hash_str(fe_sim_hash_str(s->opt.seed, rule->name), user ? user : "");
    return fe_xstrdup(fe_sim_generic[h % FE_ARRAY_LEN(fe_sim_generic)]);
}

/* Applies max_completion_tokens (else max_tokens) to answer, cutting it in place on a UTF-8
 * boundary. Returns the finish reason; *tokens is the completion's token count (at least 1). */
static const char *fe_sim_chat_cap(const cJSON *req, char *answer, long *tokens)
{
    long cap = 0;
    const cJSON *mt = cJSON_GetObjectItemCaseSensitive(req, "max_completion_tokens");
    if (!cJSON_IsNumber(mt))
        mt = cJSON_GetObjectItemCaseSensitive(req, "max_tokens");
    if (cJSON_IsNumber(mt) && mt->valuedouble >= 1)
        cap = mt->valuedouble > 1e9 ? 1000000000L : (long)mt->valuedouble;
    *tokens = fe_estimate_tokens(answer);
    if (*tokens < 1)
        *tokens = 1;
    if (!cap || *tokens <= cap)
        return "stop";
    size_t cut = (size_t)cap * 4;
    while (cut > 0 && ((unsigned char)answer[cut] & 0xC0) == 0x80)
        cut--; /* keep UTF-8 whole */
    answer[cut] = '\0';
    *tokens = cap;
    return "length";
}

/* The chat.completion object in OpenAI's shape. */
static cJSON *fe_sim_completion(struct fe_sim *s, const char *model, const struct fe_sim_rule *rule,
                                const char *answer, const char *finish, long prompt_tokens,
                                long completion_tokens, long cached)
{
    cJSON *out = cJSON_CreateObject();
    char *id = fe_sim_new_id(s, "chatcmpl-", 24);
    cJSON_AddStringToObject(out, "id", id);
    free(id);
    cJSON_AddStringToObject(out, "object", "chat.completion");
    cJSON_AddNumberToObject(out, "created", (double)fe_sim_unix_now());
    cJSON_AddStringToObject(out, "model", model);
    cJSON *choices = cJSON_AddArrayToObject(out, "choices");
    cJSON *choice = cJSON_CreateObject();
    cJSON_AddItemToArray(choices, choice);
    cJSON_AddNumberToObject(choice, "index", 0);
    cJSON *msg = cJSON_AddObjectToObject(choice, "message");
    cJSON_AddStringToObject(msg, "role", "assistant");
    cJSON_AddStringToObject(msg, "content", answer);
    cJSON_AddNullToObject(msg, "refusal");
    cJSON_AddNullToObject(choice, "logprobs");
    cJSON_AddStringToObject(choice, "finish_reason", finish);
    cJSON *usage = cJSON_AddObjectToObject(out, "usage");
    cJSON_AddNumberToObject(usage, "prompt_tokens", (double)prompt_tokens);
    cJSON_AddNumberToObject(usage, "completion_tokens", (double)completion_tokens);
    cJSON_AddNumberToObject(usage, "total_tokens", (double)(prompt_tokens + completion_tokens));
    cJSON *ptd = cJSON_AddObjectToObject(usage, "prompt_tokens_details");
    cJSON_AddNumberToObject(ptd, "cached_tokens", (double)cached);
    cJSON *ctd = cJSON_AddObjectToObject(usage, "completion_tokens_details");
    cJSON_AddNumberToObject(ctd, "reasoning_tokens", 0);
    cJSON_AddStringToObject(out, "service_tier", "default");
    char fp[32];
    snprintf(fp, sizeof(fp), "fp_%08llx",
             (unsigned long long)(fe_sim_hash_str(0, rule->name) & 0xffffffffULL));
    cJSON_AddStringToObject(out, "system_fingerprint", fp);
    return out;
}

/* rs's body: the completion as JSON (after the rule's latency), or as server-sent events paced
 * by the rule's ttft_ms (else the latency draw) and inter_token_ms when the request streams. */
static void fe_sim_chat_body(struct fe_sim *s, const struct fe_sim_rule *rule, const cJSON *req, const cJSON *out,
                             const char *answer, const char *finish, struct fe_sim_response *rs)
{
    if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(req, "stream"))) {
        const cJSON *so = cJSON_GetObjectItemCaseSensitive(req, "stream_options");
        double ttft = rule->ttft_ms >= 0 ? rule->ttft_ms : fe_sim_latency(s, rule);
        size_t first = fe_sim_stream_body(out, answer, finish,
                                          cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(so, "include_usage")),
                                          ttft, rule->inter_token_ms, rs);
        fe_sim_pace_fault(rs, first);
        rs->content_type = "text/event-stream; charset=utf-8";
        for (size_t i = 0; i < rs->n_pace; i++)
            rs->delay_ms += rs->pace_delay[i];
    } else {
        rs->delay_ms = fe_sim_latency(s, rule);
        char *text = cJSON_PrintUnformatted(out);
        fe_buf_adds(&rs->body, text);
        free(text);
        rs->content_type = "application/json";
    }
}

void fe_sim_chat_as(struct fe_sim *s, const struct fe_sim_request *rq, const cJSON *chat_req,
                    struct fe_sim_response *rs)
{
    char *text = cJSON_PrintUnformatted(chat_req);
    struct fe_sim_request inner = *rq;
    inner.path = "/v1/chat/completions";
    inner.body = text;
    inner.body_len = strlen(text);
    inner.content_type = "application/json";
    fe_sim_chat(s, &inner, rs);
    cJSON_free(text);
}

void fe_sim_chat(struct fe_sim *s, const struct fe_sim_request *rq, struct fe_sim_response *rs)
{
    cJSON *req = cJSON_ParseWithLength(rq->body, rq->body_len);
    struct fe_sim_prompt pr = {0};
    char *answer = NULL;
    const cJSON *model = fe_sim_chat_model(req, rs);
    if (!model)
        goto done;
    if (!fe_sim_read_messages(cJSON_GetObjectItemCaseSensitive(req, "messages"), &pr)) {
        fe_sim_error(rs, 400, "invalid_request_error", "messages", "invalid_value",
                     "Invalid value for 'messages': every message needs a 'role'.");
        goto done;
    }
    struct fe_sim_rule *rule = fe_sim_chat_rule(s, model->valuestring, pr.system);
    if (!rule) {
        fe_sim_error(rs, 404, "invalid_request_error", "model", "model_not_found",
                     "The model `%s` does not exist or you do not have access to it.",
                     model->valuestring);
        goto done;
    }
    size_t ex_index;
    bool known = fe_sim_chat_example(s, model->valuestring, pr.user, rs, &ex_index);
    long prompt_tokens =
        pr.chars_tokens + pr.n_messages * rule->message_overhead + rule->reply_overhead;
    double now = fe_now();
    bool stream = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(req, "stream"));
    if (fe_sim_chat_fault(s, rule, prompt_tokens, now, stream, rs))
        goto done;

    answer = fe_sim_chat_answer(s, rule, known, ex_index, pr.user);
    long completion_tokens;
    const char *finish = fe_sim_chat_cap(req, answer, &completion_tokens);
    long cached = 0;
    if (rule->cached_fraction > 0 && prompt_tokens >= rule->cache_min_tokens)
        cached = (long)(rule->cached_fraction * (double)prompt_tokens) / 128 * 128;
    cJSON *out = fe_sim_completion(s, model->valuestring, rule, answer, finish, prompt_tokens,
                                   completion_tokens, cached);
    rs->status = 200;
    fe_sim_chat_body(s, rule, req, out, answer, finish, rs);
    cJSON_Delete(out);
    fe_sim_rate_headers(rule, now, &rs->headers);
done:
    free(pr.system);
    free(pr.user);
    free(answer);
    cJSON_Delete(req);
}
