/* sim_fault.c — fault injection for `fteval sim`: specs, attempt counts (for `first=K`), picking,
 * and OpenAI-shaped error bodies. Also the small deterministic random helpers the simulator
 * shares (splitmix64, seeded) and ids.
 */
#include "harness/sim/sim.h"

#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "harness/base/util.h"

static const char *const fe_sim_fault_names[FE_SIM_FAULT_COUNT] = {
    [FE_SIM_FAULT_NONE] = "none",
    [FE_SIM_FAULT_RATE_LIMIT] = "rate_limit",
    [FE_SIM_FAULT_QUOTA] = "quota",
    [FE_SIM_FAULT_SERVER_ERROR] = "server_error",
    [FE_SIM_FAULT_UNAVAILABLE] = "unavailable",
    [FE_SIM_FAULT_RESET] = "reset",
    [FE_SIM_FAULT_CLOSE] = "close",
    [FE_SIM_FAULT_STALL] = "stall",
    [FE_SIM_FAULT_TRUNCATE] = "truncate",
    [FE_SIM_FAULT_MALFORMED] = "malformed",
    [FE_SIM_FAULT_STREAM_CUT] = "stream_cut",
    [FE_SIM_FAULT_STREAM_STALL] = "stream_stall",
};

const char *fe_sim_fault_name(enum fe_sim_fault f)
{
    if ((int)f < 0 || f >= FE_SIM_FAULT_COUNT)
        return "none";
    return fe_sim_fault_names[f];
}

enum fe_sim_fault fe_sim_fault_from_name(const char *name)
{
    for (int i = 1; i < FE_SIM_FAULT_COUNT; i++)
        if (strcmp(name, fe_sim_fault_names[i]) == 0)
            return (enum fe_sim_fault)i;
    /* friendly aliases */
    if (strcmp(name, "429") == 0)
        return FE_SIM_FAULT_RATE_LIMIT;
    if (strcmp(name, "500") == 0)
        return FE_SIM_FAULT_SERVER_ERROR;
    if (strcmp(name, "503") == 0)
        return FE_SIM_FAULT_UNAVAILABLE;
    return FE_SIM_FAULT_NONE;
}

enum fe_status fe_sim_faults_parse_flag(struct fe_sim_faults *f, const char *arg,
                                        struct fe_err *err)
{
    const char *colon = strchr(arg, ':');
    if (!colon)
        return fe_err_set(err, FE_EUSAGE, "--fault '%s': expected KIND:P or KIND:first=K", arg);
    char *kind = fe_xstrndup(arg, (size_t)(colon - arg));
    enum fe_sim_fault k = fe_sim_fault_from_name(kind);
    free(kind);
    if (k == FE_SIM_FAULT_NONE)
        return fe_err_set(
            err, FE_EUSAGE,
            "--fault '%s': unknown kind (rate_limit, quota, server_error, unavailable, "
            "reset, close, stall, truncate, malformed, stream_cut, stream_stall)",
            arg);
    const char *v = colon + 1;
    if (strncmp(v, "first=", 6) == 0) {
        long n;
        if (!fe_parse_long(v + 6, &n) || n < 0)
            return fe_err_set(err, FE_EUSAGE, "--fault '%s': K must be an integer >= 0", arg);
        f->first[k] = n;
        return FE_OK;
    }
    double p;
    if (!fe_parse_double(v, &p) || !(p >= 0 && p <= 1))
        return fe_err_set(err, FE_EUSAGE, "--fault '%s': P must be a probability in [0, 1]", arg);
    f->p[k] = p;
    return FE_OK;
}

bool fe_sim_faults_any(const struct fe_sim_faults *f)
{
    for (int i = 1; i < FE_SIM_FAULT_COUNT; i++)
        if (f->p[i] > 0 || f->first[i] > 0)
            return true;
    return false;
}

enum fe_sim_fault fe_sim_faults_pick(const struct fe_sim_faults *rule,
                                     const struct fe_sim_faults *global, long attempt,
                                     uint64_t *rng)
{
    const struct fe_sim_faults *specs[2] = {rule, global};
    for (int s = 0; s < 2; s++) {
        if (!specs[s])
            continue;
        for (int i = 1; i < FE_SIM_FAULT_COUNT; i++)
            if (specs[s]->first[i] > 0 && attempt <= specs[s]->first[i])
                return (enum fe_sim_fault)i;
    }
    for (int s = 0; s < 2; s++) {
        if (!specs[s])
            continue;
        for (int i = 1; i < FE_SIM_FAULT_COUNT; i++)
            if (specs[s]->p[i] > 0 && fe_sim_unit(fe_sim_next(rng)) < specs[s]->p[i])
                return (enum fe_sim_fault)i;
    }
    return FE_SIM_FAULT_NONE;
}

/* ---- randomness ---- */

uint64_t fe_sim_mix64(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

uint64_t fe_sim_hash_str(uint64_t h, const char *s)
{
    uint64_t x = 1469598103934665603ULL ^ fe_sim_mix64(h);
    for (; s && *s; s++) {
        x ^= (unsigned char)*s;
        x *= 1099511628211ULL;
    }
    return fe_sim_mix64(x);
}

uint64_t fe_sim_next(uint64_t *state)
{
    *state += 0x9e3779b97f4a7c15ULL;
    uint64_t z = *state;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

double fe_sim_unit(uint64_t x) { return (double)(x >> 11) * (1.0 / 9007199254740992.0); }

char *fe_sim_new_id(struct fe_sim *s, const char *prefix, size_t n)
{
    static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    size_t plen = strlen(prefix);
    char *id = fe_xmalloc(plen + n + 1);
    memcpy(id, prefix, plen);
    uint64_t st = s->opt.seed ^ fe_sim_mix64(++s->next_id);
    for (size_t i = 0; i < n; i++)
        id[plen + i] = alphabet[fe_sim_next(&st) % 62];
    id[plen + n] = '\0';
    return id;
}

long fe_sim_unix_now(void) { return (long)time(NULL); }

void fe_sim_go_duration(double seconds, char *buf, size_t size)
{
    if (seconds < 0)
        seconds = 0;
    if (seconds < 1) {
        snprintf(buf, size, "%ldms", (long)ceil(seconds * 1000));
        return;
    }
    long total_ms = (long)ceil(seconds * 1000);
    long h = total_ms / 3600000, m = (total_ms / 60000) % 60, sec = (total_ms / 1000) % 60,
         ms = total_ms % 1000;
    char sbuf[32];
    if (ms) {
        snprintf(sbuf, sizeof(sbuf), "%ld.%03ld", sec, ms);
        size_t n = strlen(sbuf);
        while (sbuf[n - 1] == '0')
            sbuf[--n] = '\0'; /* Go prints 1.5s, not 1.500s */
        snprintf(sbuf + n, sizeof(sbuf) - n, "s");
    } else
        snprintf(sbuf, sizeof(sbuf), "%lds", sec);
    if (h)
        snprintf(buf, size, "%ldh%ldm%s", h, m, sbuf);
    else if (m)
        snprintf(buf, size, "%ldm%s", m, sbuf);
    else
        snprintf(buf, size, "%s", sbuf);
}

/* ---- attempts ---- */

long fe_sim_attempt(struct fe_sim *s, const char *model, const char *key)
{
    char *k = fe_xasprintf("%s\x1f%s", model, key);
    size_t idx;
    if (!fe_strmap_get(&s->attempts, k, &idx)) {
        idx = s->n_attempt_keys++;
        s->attempt_counts = fe_xreallocarray(s->attempt_counts, s->n_attempt_keys, sizeof(long));
        s->attempt_counts[idx] = 0;
        fe_strmap_set(&s->attempts, k, idx);
    }
    free(k);
    return ++s->attempt_counts[idx];
}

/* ---- error responses ---- */

void fe_sim_error(struct fe_sim_response *rs, int status, const char *type, const char *param,
                  const char *code, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    cJSON *root = cJSON_CreateObject();
    cJSON *e = cJSON_AddObjectToObject(root, "error");
    cJSON_AddStringToObject(e, "message", msg);
    cJSON_AddStringToObject(e, "type", type);
    if (param)
        cJSON_AddStringToObject(e, "param", param);
    else
        cJSON_AddNullToObject(e, "param");
    if (code)
        cJSON_AddStringToObject(e, "code", code);
    else
        cJSON_AddNullToObject(e, "code");
    char *text = cJSON_PrintUnformatted(root);
    cJSON_Delete(root);
    rs->status = status;
    rs->content_type = "application/json";
    fe_buf_reset(&rs->body);
    fe_buf_adds(&rs->body, text);
    free(text);
}

void fe_sim_fault_respond(struct fe_sim *s, const struct fe_sim_rule *rule, enum fe_sim_fault f,
                          struct fe_sim_response *rs)
{
    (void)s;
    rs->fault = f;
    char dur[64];
    long retry_ms = rule && rule->retry_after_ms > 0 ? rule->retry_after_ms : 1000;
    switch (f) {
    case FE_SIM_FAULT_RATE_LIMIT: {
        long rpm = rule && rule->rpm > 0 ? rule->rpm : 500;
        long tpm = rule && rule->tpm > 0 ? rule->tpm : 200000;
        fe_sim_error(
            rs, 429, "requests", NULL, "rate_limit_exceeded",
            "Rate limit reached for requests (simulated by fteval sim): Limit %ld, Used %ld, "
            "Requested 1. Please try again in %ldms.",
            rpm, rpm, retry_ms);
        fe_buf_addf(&rs->headers, "retry-after: %ld\r\n", (retry_ms + 999) / 1000);
        fe_buf_addf(&rs->headers, "retry-after-ms: %ld\r\n", retry_ms);
        fe_sim_go_duration((double)retry_ms / 1000.0, dur, sizeof(dur));
        fe_buf_addf(&rs->headers,
                    "x-ratelimit-limit-requests: %ld\r\nx-ratelimit-limit-tokens: %ld\r\n"
                    "x-ratelimit-remaining-requests: 0\r\nx-ratelimit-remaining-tokens: %ld\r\n"
                    "x-ratelimit-reset-requests: %s\r\nx-ratelimit-reset-tokens: %s\r\n",
                    rpm, tpm, tpm / 2, dur, dur);
        break;
    }
    case FE_SIM_FAULT_QUOTA:
        fe_sim_error(rs, 429, "insufficient_quota", NULL, "insufficient_quota",
                     "You exceeded your current quota, please check your plan and billing details "
                     "(simulated by fteval sim).");
        break;
    case FE_SIM_FAULT_SERVER_ERROR:
        fe_sim_error(rs, 500, "server_error", NULL, NULL,
                     "The server had an error while processing your request. Sorry about that! "
                     "(simulated by fteval sim)");
        break;
    case FE_SIM_FAULT_UNAVAILABLE:
        fe_sim_error(rs, 503, "server_error", NULL, NULL,
                     "The engine is currently overloaded, please try again later. "
                     "(simulated by fteval sim)");
        break;
    case FE_SIM_FAULT_MALFORMED:
        rs->status = 200;
        rs->content_type = "application/json";
        fe_buf_reset(&rs->body);
        fe_buf_adds(
            &rs->body,
            "{\"id\":\"chatcmpl-sim\",\"object\":\"chat.completion\",\"choices\":[{\"index\":0,"
            "\"message\":{\"role\":\"assistant\",\"content\":\"trunc");
        break;
    default:
        /* transport faults (reset, close, stall, truncate) are carried out by the event loop;
         * truncate sends a prefix of the normal answer */
        break;
    }
}
