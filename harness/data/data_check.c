/* data_check.c — see data_check.h and docs/data.md. */
#include "harness/data/data_check.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "harness/data/data_dedup.h"
#include "harness/input/dataset.h"
#include "harness/base/strmap.h"
#include "harness/base/tokens.h"
#include "harness/input/template.h"
#include "harness/base/util.h"

#define FE_DATA_SIZE_WARN 500
#define FE_DATA_SIZE_NOTE 1000
#define FE_DATA_MIN_EXAMPLES 10      /* OpenAI rejects smaller training files */
#define FE_DATA_EXAMPLE_TOKENS 65536 /* longest training example OpenAI accepts (gpt-4o-mini) */
#define FE_DATA_LABEL_CAP 1000       /* distinct labels tracked before giving up */
#define FE_DATA_IMBALANCE 10.0       /* max/min label count ratio that draws a warning */
#define FE_DATA_RARE_LABEL 10        /* labels with fewer examples draw a note */

const char *fe_data_severity_name(enum fe_data_severity s)
{
    static const char *const names[] = {"note", "warning", "blocking"};
    return (unsigned)s < FE_DATA_SEVERITY_COUNT ? names[s] : "unknown";
}

const char *fe_data_check_name(enum fe_data_check_id c)
{
    static const char *const names[] = {"format",         "size",      "pii",    "duplicate",
                                        "near_duplicate", "leakage",   "labels", "length",
                                        "cost",           "production"};
    return (unsigned)c < FE_CHECK_COUNT ? names[c] : "unknown";
}

void fe_data_check_opts_init(struct fe_data_check_opts *o)
{
    memset(o, 0, sizeof(*o));
    o->n_epochs = 3;
    o->near_threshold = FE_DEDUP_THRESHOLD;
    o->max_findings = 200;
}

size_t fe_data_mde_n(double mde)
{
    if (!(mde > 0))
        return 0;
    return (size_t)ceil(2.80 * 2.80 * 0.25 * 2.0 / (mde * mde) - 1e-9);
}

struct fe_data_finding *fe_data_report_add(struct fe_data_report *r, enum fe_data_check_id check,
                                           enum fe_data_severity sev, const char *file, size_t line,
                                           const char *kind, const char *field, const char *fmt,
                                           ...)
{
    r->counts[check][sev]++;
    size_t kept = 0;
    for (int s = 0; s < FE_DATA_SEVERITY_COUNT; s++)
        kept += r->counts[check][s];
    if (kept > r->max_findings) {
        r->dropped[check]++;
        return NULL;
    }
    if (r->n_findings == r->alloc) {
        r->alloc = r->alloc ? r->alloc * 2 : 64;
        r->findings = fe_xreallocarray(r->findings, r->alloc, sizeof(*r->findings));
    }
    struct fe_data_finding *f = &r->findings[r->n_findings++];
    memset(f, 0, sizeof(*f));
    f->check = check;
    f->severity = sev;
    f->file = file;
    f->line = line;
    f->kind = fe_xstrdup(kind);
    f->field = fe_xstrdup(field);
    f->similarity = -1;
    va_list ap;
    va_start(ap, fmt);
    struct fe_buf b;
    fe_buf_init(&b, 0);
    fe_buf_vaddf(&b, fmt, ap);
    va_end(ap);
    f->message = fe_buf_detach(&b, NULL);
    return f;
}

bool fe_data_report_blocking(const struct fe_data_report *r)
{
    for (int c = 0; c < FE_CHECK_COUNT; c++)
        if (r->counts[c][FE_DATA_BLOCKING])
            return true;
    return false;
}

void fe_data_report_free(struct fe_data_report *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->n_findings; i++) {
        free(r->findings[i].kind);
        free(r->findings[i].field);
        free(r->findings[i].message);
        free(r->findings[i].excerpt);
    }
    free(r->findings);
    for (size_t i = 0; i < r->n_labels; i++)
        free(r->label_names[i]);
    free(r->label_names);
    free(r->label_counts);
    free(r->path);
    free(r->against);
    free(r->config);
    free(r->model);
    free(r);
}

/* ---- counting helpers ------------------------------------------------------------------- */

/* Characters = UTF-8 code points (continuation bytes are not counted). */
static size_t utf8_chars(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        n += ((unsigned char)*s & 0xC0) != 0x80;
    return n;
}

static int role_index(const char *role)
{
    static const char *const roles[] = {"system", "developer", "user", "assistant", "tool"};
    for (int i = 0; i < 5; i++)
        if (strcmp(role, roles[i]) == 0)
            return i;
    return 5;
}

/* Counts one message of role idx (stats) and returns its estimated tokens (base/tokens.h). */
static size_t role_add(struct fe_data_report *r, int idx, const char *text, bool stats)
{
    size_t chars = utf8_chars(text), tokens = (size_t)fe_estimate_tokens(text);
    if (!stats)
        return tokens;
    struct fe_data_role_stats *s = &r->roles[idx];
    if (s->messages == 0 || chars < s->chars_min)
        s->chars_min = chars;
    if (chars > s->chars_max)
        s->chars_max = chars;
    s->messages++;
    s->chars += chars;
    s->tokens += tokens;
    return tokens;
}

/* ---- the state of one check run ---------------------------------------------------------- */

struct label_tally {
    struct fe_strmap map; /* label -> index into counts */
    size_t *counts;
    size_t n;
    bool overflow; /* more than FE_DATA_LABEL_CAP distinct values */
    size_t rows;
    size_t chars; /* total length (to judge "classification-like") */
};

static void tally_add(struct label_tally *t, const char *label)
{
    t->rows++;
    t->chars += utf8_chars(label);
    if (t->overflow)
        return;
    size_t idx;
    if (fe_strmap_get(&t->map, label, &idx)) {
        t->counts[idx]++;
        return;
    }
    if (t->n == FE_DATA_LABEL_CAP) {
        t->overflow = true;
        return;
    }
    fe_strmap_put(&t->map, label, t->n);
    t->counts = fe_xreallocarray(t->counts, t->n + 1, sizeof(*t->counts));
    t->counts[t->n++] = 1;
}

struct pair {
    size_t a, b;
    double sim;
    bool exact;
};

struct check_state {
    struct fe_data_report *r;
    const struct fe_data_check_opts *o;
    struct fe_strmap ids; /* id -> line */
    enum fe_data_shape first_shape;
    size_t first_shape_line;
    struct label_tally labels, answers;
    bool has_label_field;
    struct fe_dedup dd;
    size_t *item_line;     /* dedup item -> line */
    uint64_t *item_answer; /* dedup item -> hash of the answer (conflicting duplicates) */
    size_t n_train;
    size_t items_alloc;
    struct pair *pairs;
    size_t n_pairs, alloc_pairs;
    /* production format */
    char **systems; /* system prompts of the production arms; NULL entry = none */
    size_t n_systems;
    bool check_system;
    char *tmpl_prefix, *tmpl_suffix; /* NULL when no template */
    char *tmpl;                      /* task.template, to render plain held-out rows like FILE's */
    /* prices */
    cJSON *prices; /* the "models" object's parent (owned) */
};

/* ---- PII over every string of a line ---------------------------------------------------- */

struct pii_ctx {
    struct check_state *st;
    size_t line;
    const char *field;
};

static void pii_found(const struct fe_pii_match *m, void *ctx)
{
    struct pii_ctx *p = ctx;
    struct fe_data_report *r = p->st->r;
    r->pii[m->kind]++;
    static const char *const what[] = {
        "e-mail address", "phone number", "payment card number", "US social security number",
        "IPv4 address",   "IPv6 address", "API key or token"};
    struct fe_data_finding *f = fe_data_report_add(
        r, FE_CHECK_PII, FE_DATA_BLOCKING, r->path, p->line, fe_pii_kind_name(m->kind), p->field,
        "%s in %s: %s", what[m->kind], p->field, m->redacted);
    if (f)
        f->excerpt = fe_xstrdup(m->redacted);
}

static void pii_walk(struct check_state *st, size_t line, const cJSON *v, struct fe_buf *path)
{
    size_t mark = path->len;
    if (cJSON_IsString(v)) {
        struct pii_ctx ctx = {st, line, fe_buf_str(path)};
        fe_pii_scan(v->valuestring, strlen(v->valuestring), pii_found, &ctx);
        return;
    }
    if (cJSON_IsArray(v)) {
        int i = 0;
        const cJSON *c;
        cJSON_ArrayForEach(c, v) {
            fe_buf_addf(path, "[%d]", i++);
            pii_walk(st, line, c, path);
            path->len = mark;
            path->data[mark] = '\0';
        }
    } else if (cJSON_IsObject(v)) {
        const cJSON *c;
        cJSON_ArrayForEach(c, v) {
            if (path->len)
                fe_buf_addch(path, '.');
            fe_buf_adds(path, c->string ? c->string : "");
            pii_walk(st, line, c, path);
            path->len = mark;
            if (path->data)
                path->data[mark] = '\0';
        }
    }
}

/* ---- format validation ------------------------------------------------------------------ */

#define FMT_ERR(st, line, kind, field, ...)                                                        \
    fe_data_report_add((st)->r, FE_CHECK_FORMAT, FE_DATA_BLOCKING, (st)->r->path, line, kind,      \
                       field, __VA_ARGS__)
#define FMT_WARN(st, line, kind, field, ...)                                                       \
    fe_data_report_add((st)->r, FE_CHECK_FORMAT, FE_DATA_WARNING, (st)->r->path, line, kind,       \
                       field, __VA_ARGS__)

static bool trimmed_empty(const char *s)
{
    for (; *s; s++)
        if (*s != ' ' && *s != '\t' && *s != '\n' && *s != '\r')
            return false;
    return true;
}

/* Validates a messages array (chat "messages" or DPO "input.messages"); returns the estimated
 * tokens. need_assistant: chat needs at least one assistant message. */
static size_t check_messages(struct check_state *st, size_t line, const cJSON *msgs,
                             const char *name, bool need_assistant, bool stats)
{
    if (!cJSON_IsArray(msgs) || cJSON_GetArraySize(msgs) == 0) {
        FMT_ERR(st, line, "bad_messages", name, "'%s' must be a non-empty array of messages", name);
        return 0;
    }
    size_t tokens = 0, assistants = 0, trained = 0;
    int i = 0;
    const char *last_role = "";
    const cJSON *m;
    cJSON_ArrayForEach(m, msgs) {
        char field[96];
        snprintf(field, sizeof(field), "%s[%d]", name, i);
        i++;
        if (!cJSON_IsObject(m)) {
            FMT_ERR(st, line, "bad_message", field, "%s: a message must be a JSON object", field);
            continue;
        }
        char sub[128];
        const cJSON *role = cJSON_GetObjectItemCaseSensitive(m, "role");
        snprintf(sub, sizeof(sub), "%s.role", field);
        if (!cJSON_IsString(role)) {
            FMT_ERR(st, line, "bad_role", sub, "%s: missing or not a string", sub);
            continue;
        }
        const char *rs = role->valuestring;
        int ri = role_index(rs);
        last_role = rs;
        if (ri == 5) {
            FMT_ERR(st, line, "bad_role", sub,
                    "%s: '%.40s' is not one of system, developer, user, assistant, tool", sub, rs);
            continue;
        }
        bool assistant = ri == 3;
        const cJSON *content = cJSON_GetObjectItemCaseSensitive(m, "content");
        snprintf(sub, sizeof(sub), "%s.content", field);
        char *text = NULL;
        if (!content || cJSON_IsNull(content)) {
            bool calls = cJSON_GetObjectItemCaseSensitive(m, "tool_calls") ||
                         cJSON_GetObjectItemCaseSensitive(m, "function_call");
            if (!(assistant && calls))
                FMT_ERR(st, line, "missing_content", sub,
                        "%s: missing (only an assistant message with tool_calls may omit it)", sub);
            text = fe_xstrdup("");
        } else if (!(text = fe_data_content_text(content))) {
            FMT_ERR(st, line, "bad_content", sub, "%s: must be a string or an array of text parts",
                    sub);
        } else if (cJSON_IsArray(content)) {
            const cJSON *part;
            int k = 0;
            cJSON_ArrayForEach(part, content) {
                const cJSON *type = cJSON_GetObjectItemCaseSensitive(part, "type");
                if (!cJSON_IsString(type) || strcmp(type->valuestring, "text") != 0) {
                    FMT_ERR(st, line, "bad_content", sub, "%s[%d].type: must be \"text\"", sub, k);
                    break;
                }
                k++;
            }
        }
        if (text && content && !cJSON_IsNull(content) && st->o->purpose == FE_DATA_FOR_FINETUNE &&
            trimmed_empty(text))
            FMT_ERR(st, line, "empty_content", sub, "%s: empty (fine-tuning rejects empty messages)",
                    sub);
        if (text) {
            tokens += role_add(st->r, ri, text, stats);
            free(text);
        }
        const cJSON *weight = cJSON_GetObjectItemCaseSensitive(m, "weight");
        snprintf(sub, sizeof(sub), "%s.weight", field);
        if (weight) {
            if (!assistant)
                FMT_ERR(st, line, "weight_not_assistant", sub,
                        "%s: only assistant messages may carry a weight", sub);
            else if (!cJSON_IsNumber(weight) ||
                     (weight->valuedouble != 0 && weight->valuedouble != 1))
                FMT_ERR(st, line, "bad_weight", sub, "%s: must be 0 or 1", sub);
        }
        if (assistant) {
            assistants++;
            if (!weight || (cJSON_IsNumber(weight) && weight->valuedouble != 0))
                trained++;
        }
        if (ri == 4) {
            const cJSON *id = cJSON_GetObjectItemCaseSensitive(m, "tool_call_id");
            snprintf(sub, sizeof(sub), "%s.tool_call_id", field);
            if (!cJSON_IsString(id) || !*id->valuestring)
                FMT_ERR(st, line, "missing_tool_call_id", sub,
                        "%s: a tool message needs a tool_call_id", sub);
        }
    }
    if (need_assistant) {
        if (assistants == 0) {
            FMT_ERR(st, line, "missing_assistant", name,
                    "%s: no assistant message (nothing to train on)", name);
        } else {
            if (trained == 0)
                FMT_WARN(st, line, "no_trained_turn", name,
                         "%s: every assistant message has weight 0", name);
            if (strcmp(last_role, "assistant") != 0 && st->o->purpose == FE_DATA_FOR_FINETUNE)
                FMT_ERR(st, line, "last_not_assistant", name,
                        "%s: the last message is not the assistant's (fine-tuning trains on "
                        "the final assistant answer)", name);
            else if (strcmp(last_role, "assistant") != 0)
                FMT_WARN(st, line, "last_not_assistant", name,
                         "%s: the last message is not the assistant's", name);
        }
    }
    return tokens;
}

/* One output list of a DPO line: a non-empty array of assistant messages. */
static size_t check_dpo_output(struct check_state *st, size_t line, const cJSON *out,
                               const char *name)
{
    if (!cJSON_IsArray(out) || cJSON_GetArraySize(out) == 0) {
        FMT_ERR(st, line, "bad_dpo_output", name,
                "'%s' must be a non-empty array of assistant messages", name);
        return 0;
    }
    size_t tokens = 0;
    int i = 0;
    const cJSON *m;
    cJSON_ArrayForEach(m, out) {
        char sub[96];
        snprintf(sub, sizeof(sub), "%s[%d]", name, i++);
        const cJSON *role = cJSON_GetObjectItemCaseSensitive(m, "role");
        if (!cJSON_IsString(role) || strcmp(role->valuestring, "assistant") != 0) {
            FMT_ERR(st, line, "bad_role", sub, "%s.role: must be \"assistant\"", sub);
            continue;
        }
        char *text = fe_data_content_text(cJSON_GetObjectItemCaseSensitive(m, "content"));
        if (!text) {
            FMT_ERR(st, line, "bad_content", sub,
                    "%s.content: must be a string or an array of text parts", sub);
            continue;
        }
        tokens += role_add(st->r, 3, text, true);
        free(text);
    }
    return tokens;
}

/* Validates one parsed line; returns the estimated tokens of the example. */
static size_t check_shape(struct check_state *st, size_t line, const cJSON *json,
                          const struct fe_data_row *row)
{
    size_t tokens = 0;
    switch (row->shape) {
    case FE_SHAPE_CHAT:
        tokens = check_messages(st, line, cJSON_GetObjectItemCaseSensitive(json, "messages"),
                                "messages", true, true);
        break;
    case FE_SHAPE_DPO: {
        const cJSON *input = cJSON_GetObjectItemCaseSensitive(json, "input");
        if (!cJSON_IsObject(input))
            FMT_ERR(st, line, "bad_dpo_input", "input",
                    "input: must be an object with \"messages\"");
        else
            tokens += check_messages(st, line, cJSON_GetObjectItemCaseSensitive(input, "messages"),
                                     "input.messages", false, true);
        const cJSON *pref = cJSON_GetObjectItemCaseSensitive(json, "preferred_output");
        const cJSON *npref = cJSON_GetObjectItemCaseSensitive(json, "non_preferred_output");
        tokens += check_dpo_output(st, line, pref, "preferred_output");
        tokens += check_dpo_output(st, line, npref, "non_preferred_output");
        if (pref && npref && cJSON_Compare(pref, npref, true))
            FMT_WARN(st, line, "dpo_same_outputs", "preferred_output",
                     "preferred_output and non_preferred_output are identical");
        break;
    }
    case FE_SHAPE_PLAIN: {
        const cJSON *input = cJSON_GetObjectItemCaseSensitive(json, "input");
        const cJSON *gold = cJSON_GetObjectItemCaseSensitive(json, "gold");
        if (!st->r->first_plain_line)
            st->r->first_plain_line = line;
        if (st->o->purpose == FE_DATA_FOR_FINETUNE)
            FMT_ERR(st, line, "plain_not_finetunable", "messages",
                    "messages: missing: a plain-shape row (input/gold) is not fine-tuning data; "
                    "OpenAI accepts chat (\"messages\") or DPO rows: convert with `fteval data "
                    "to-chat FILE --config CONFIG --out OUT`");
        if (!cJSON_IsString(input))
            FMT_ERR(st, line, "bad_input", "input", "input: must be a string");
        if (!gold)
            FMT_ERR(st, line, "missing_gold", "gold",
                    "gold: missing (use \"\" or [] for an unanswerable example)");
        if (cJSON_IsString(input))
            tokens += role_add(st->r, 5, input->valuestring, true);
        if (row->answer)
            tokens += role_add(st->r, 5, row->answer, true);
        break;
    }
    default:
        FMT_ERR(st, line, "unknown_shape", "messages",
                "not a training example: expected \"messages\" (chat), \"input\" + "
                "\"preferred_output\" (dpo) "
                "or \"input\" + \"gold\" (plain)");
        return 0;
    }
    if (st->first_shape == FE_SHAPE_UNKNOWN) {
        st->first_shape = row->shape;
        st->first_shape_line = line;
    } else if (row->shape != st->first_shape) {
        FMT_ERR(st, line, "mixed_shapes", NULL,
                "%s example in a file that started with %s examples (line %zu)",
                fe_data_shape_name(row->shape), fe_data_shape_name(st->first_shape),
                st->first_shape_line);
    }
    return tokens;
}

/* ---- production format ------------------------------------------------------------------ */

static char *trimmed(const char *s)
{
    while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
        s++;
    size_t n = strlen(s);
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\n' || s[n - 1] == '\r'))
        n--;
    return fe_xstrndup(s, n);
}

static bool trimmed_equal(const char *a, const char *b)
{
    char *x = trimmed(a), *y = trimmed(b);
    bool eq = strcmp(x, y) == 0;
    free(x);
    free(y);
    return eq;
}

static void check_production(struct check_state *st, size_t line, const struct fe_data_row *row)
{
    struct fe_data_report *r = st->r;
    if (row->shape != FE_SHAPE_CHAT && row->shape != FE_SHAPE_DPO)
        return;
    if (st->check_system) {
        r->system_checked++;
        bool ok = false;
        for (size_t i = 0; i < st->n_systems && !ok; i++) {
            if (!st->systems[i])
                ok = row->system == NULL;
            else
                ok = row->system && trimmed_equal(row->system, st->systems[i]);
        }
        if (!ok) {
            r->system_mismatch++;
            fe_data_report_add(
                r, FE_CHECK_PRODUCTION, FE_DATA_WARNING, r->path, line, "system_mismatch",
                "messages",
                row->system
                    ? "the system prompt differs from the one the config sends in production"
                    : "no system prompt, but the config sends one in production");
        }
    }
    if (st->tmpl_prefix && row->user) {
        r->template_checked++;
        const char *u = row->user;
        while (*u == ' ' || *u == '\n' || *u == '\t')
            u++;
        size_t ul = strlen(u), pl = strlen(st->tmpl_prefix), sl = strlen(st->tmpl_suffix);
        bool ok = ul >= pl + sl && strncmp(u, st->tmpl_prefix, pl) == 0;
        if (ok && sl) {
            size_t end = ul;
            while (end && (u[end - 1] == ' ' || u[end - 1] == '\n' || u[end - 1] == '\t'))
                end--;
            ok = end >= pl + sl && strncmp(u + end - sl, st->tmpl_suffix, sl) == 0;
        }
        if (!ok) {
            r->template_mismatch++;
            fe_data_report_add(
                r, FE_CHECK_PRODUCTION, FE_DATA_WARNING, r->path, line, "template_mismatch",
                "messages",
                "the user message does not look like the config's task.template rendering "
                "(its literal prefix/suffix is missing)");
        }
    }
}

/* Literal text before the first placeholder and after the last one ("{{"/"}}" unescaped). A
 * template without placeholders is all prefix. */
static void template_affixes(const char *t, char **prefix, char **suffix)
{
    struct fe_buf pre, suf;
    fe_buf_init(&pre, 0);
    fe_buf_init(&suf, 0);
    fe_buf_adds(&pre, "");
    fe_buf_adds(&suf, "");
    bool seen = false;
    for (const char *p = t; *p; p++) {
        struct fe_buf *b = seen ? &suf : &pre;
        if ((p[0] == '{' && p[1] == '{') || (p[0] == '}' && p[1] == '}')) {
            fe_buf_addch(b, *p++);
            continue;
        }
        if (*p == '{') {
            const char *close = strchr(p, '}');
            if (!close)
                break;
            seen = true;
            fe_buf_reset(&suf);
            p = close;
            continue;
        }
        fe_buf_addch(b, *p);
    }
    *prefix = fe_buf_detach(&pre, NULL);
    *suffix = fe_buf_detach(&suf, NULL);
    char *pt = *prefix;
    size_t lead = strspn(pt, " \t\n");
    memmove(pt, pt + lead, strlen(pt + lead) + 1);
    size_t n = strlen(*suffix);
    while (n && ((*suffix)[n - 1] == ' ' || (*suffix)[n - 1] == '\n' || (*suffix)[n - 1] == '\t'))
        (*suffix)[--n] = '\0';
}

/* A config "system" value: inline text, "@file" (relative to the config), or an array of
 * strings joined by newlines. Returns newly allocated text, or NULL with err set. */
static char *config_text(const cJSON *v, const char *config, const char *where, struct fe_err *err)
{
    if (cJSON_IsString(v)) {
        if (v->valuestring[0] != '@')
            return fe_xstrdup(v->valuestring);
        char *path = fe_path_relative_to(config, v->valuestring + 1);
        char *text = fe_read_file(path, 16u << 20, NULL);
        if (!text)
            fe_err_set(err, FE_EIO, "%s: %s: cannot read '%s': %s", config, where, path,
                       strerror(errno));
        free(path);
        return text;
    }
    if (cJSON_IsArray(v)) {
        struct fe_buf b;
        fe_buf_init(&b, 0);
        fe_buf_adds(&b, "");
        const cJSON *s;
        cJSON_ArrayForEach(s, v) {
            if (!cJSON_IsString(s)) {
                fe_buf_release(&b);
                fe_err_set(err, FE_EINVALID,
                           "%s: %s: must be text, \"@file\" or an array of strings", config, where);
                return NULL;
            }
            if (b.len)
                fe_buf_addch(&b, '\n');
            fe_buf_adds(&b, s->valuestring);
        }
        return fe_buf_detach(&b, NULL);
    }
    fe_err_set(err, FE_EINVALID, "%s: %s: must be text, \"@file\" or an array of strings", config,
               where);
    return NULL;
}

static cJSON *read_json_file(const char *path, struct fe_err *err)
{
    size_t len = 0;
    char *text = fe_read_file(path, 64u << 20, &len);
    if (!text) {
        fe_err_set(err, FE_EIO, "%s: cannot read: %s", path, strerror(errno));
        return NULL;
    }
    cJSON *json = cJSON_ParseWithLength(text, len);
    free(text);
    if (!json || !cJSON_IsObject(json)) {
        cJSON_Delete(json);
        fe_err_set(err, FE_EINVALID, "%s: invalid JSON (expected an object)", path);
        return NULL;
    }
    return json;
}

static bool is_ft_model(const cJSON *arm)
{
    const cJSON *model = cJSON_GetObjectItemCaseSensitive(arm, "model");
    return cJSON_IsString(model) && strncmp(model->valuestring, "ft:", 3) == 0;
}

/* Reads the run config: systems of the production arms (the candidate arm, else arms with an ft:
 * model, else every arm), the template, and a price table path or object. */
static int load_config(struct check_state *st, const char *path, struct fe_err *err)
{
    cJSON *cfg = read_json_file(path, err);
    if (!cfg)
        return -1;
    int rc = 0;
    const cJSON *task = cJSON_GetObjectItemCaseSensitive(cfg, "task");
    const cJSON *tmpl = cJSON_GetObjectItemCaseSensitive(task, "template");
    if (cJSON_IsString(tmpl)) {
        template_affixes(tmpl->valuestring, &st->tmpl_prefix, &st->tmpl_suffix);
        st->tmpl = fe_xstrdup(tmpl->valuestring);
    }
    const cJSON *arms = cJSON_GetObjectItemCaseSensitive(cfg, "arms");
    const cJSON *cand = cJSON_GetObjectItemCaseSensitive(cfg, "candidate_arm");
    int mode = 2; /* 0: candidate arm, 1: ft arms, 2: all */
    const cJSON *arm;
    int idx = 0;
    cJSON_ArrayForEach(arm, arms) {
        const cJSON *name = cJSON_GetObjectItemCaseSensitive(arm, "name");
        if (cJSON_IsString(cand) && cJSON_IsString(name) &&
            strcmp(name->valuestring, cand->valuestring) == 0)
            mode = 0;
        else if (mode == 2 && is_ft_model(arm))
            mode = 1;
    }
    cJSON_ArrayForEach(arm, arms) {
        const cJSON *name = cJSON_GetObjectItemCaseSensitive(arm, "name");
        bool use = mode == 2 || (mode == 1 && is_ft_model(arm)) ||
                   (mode == 0 && cJSON_IsString(name) &&
                    strcmp(name->valuestring, cand->valuestring) == 0);
        idx++;
        if (!use)
            continue;
        const cJSON *sys = cJSON_GetObjectItemCaseSensitive(arm, "system");
        char *text = NULL;
        if (sys && !cJSON_IsNull(sys)) {
            char where[64];
            snprintf(where, sizeof(where), "arms[%d].system", idx - 1);
            text = config_text(sys, path, where, err);
            if (!text) {
                rc = -1;
                break;
            }
        }
        st->systems = fe_xreallocarray(st->systems, st->n_systems + 1, sizeof(*st->systems));
        st->systems[st->n_systems++] = text;
    }
    st->check_system = rc == 0 && st->n_systems > 0;
    if (rc == 0 && !st->prices && !st->o->prices) {
        const cJSON *prices = cJSON_GetObjectItemCaseSensitive(cfg, "prices");
        if (cJSON_IsString(prices)) {
            char *p = fe_path_relative_to(path, prices->valuestring);
            st->prices = read_json_file(p, err);
            free(p);
            if (!st->prices)
                rc = -1;
        } else if (cJSON_IsObject(prices)) {
            st->prices = cJSON_Duplicate(prices, true);
        }
    }
    cJSON_Delete(cfg);
    return rc;
}

/* Training price per 1M tokens: the exact model's "training", else for ft:BASE:... the
 * "ft:BASE" row, else (a base model id) the "ft:MODEL" row. */
static bool training_price(const cJSON *prices, const char *model, double *out)
{
    const cJSON *models = cJSON_GetObjectItemCaseSensitive(prices, "models");
    const cJSON *row = cJSON_GetObjectItemCaseSensitive(models, model);
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(row, "training");
    char *key = NULL;
    if (!cJSON_IsNumber(t)) {
        if (strncmp(model, "ft:", 3) == 0) {
            const char *colon = strchr(model + 3, ':');
            key = colon ? fe_xstrndup(model, (size_t)(colon - model)) : fe_xstrdup(model);
        } else {
            key = fe_xasprintf("ft:%s", model);
        }
        row = cJSON_GetObjectItemCaseSensitive(models, key);
        t = cJSON_GetObjectItemCaseSensitive(row, "training");
    }
    free(key);
    if (!cJSON_IsNumber(t) || t->valuedouble < 0)
        return false;
    *out = t->valuedouble;
    return true;
}

/* ---- the passes ---------------------------------------------------------------------------- */

static void pair_found(size_t a, size_t b, double sim, bool exact, void *ctx)
{
    struct check_state *st = ctx;
    if (st->n_pairs == st->alloc_pairs) {
        st->alloc_pairs = st->alloc_pairs ? st->alloc_pairs * 2 : 256;
        st->pairs = fe_xreallocarray(st->pairs, st->alloc_pairs, sizeof(*st->pairs));
    }
    st->pairs[st->n_pairs++] = (struct pair){a, b, sim, exact};
}

static void add_item(struct check_state *st, const char *text, size_t line, const char *answer,
                     int set)
{
    size_t i = fe_dedup_add(&st->dd, text, strlen(text), set);
    if (i >= st->items_alloc) {
        st->items_alloc = st->items_alloc ? st->items_alloc * 2 : 1024;
        st->item_line = fe_xreallocarray(st->item_line, st->items_alloc, sizeof(*st->item_line));
        st->item_answer =
            fe_xreallocarray(st->item_answer, st->items_alloc, sizeof(*st->item_answer));
    }
    st->item_line[i] = line;
    char *norm = fe_dedup_normalize(answer ? answer : "", answer ? strlen(answer) : 0);
    st->item_answer[i] = fe_dedup_hash(norm, strlen(norm), 7);
    free(norm);
}

/* Reads FILE: format, PII, stats, labels, production format; adds dedup items (set 0). */
static int pass_train(struct check_state *st, struct fe_err *err)
{
    struct fe_data_report *r = st->r;
    struct fe_data_lines in;
    if (fe_data_lines_open(&in, r->path, err) != FE_OK)
        return -1;
    struct fe_buf path;
    fe_buf_init(&path, 0);
    int got;
    while ((got = fe_data_lines_next(&in, err)) == 1) {
        size_t line = in.line;
        r->lines++;
        if (in.too_long) {
            r->invalid_lines++;
            FMT_ERR(st, line, "line_too_long", NULL, "line longer than %u bytes",
                    FE_DATASET_MAX_LINE);
            continue;
        }
        if (in.has_nul) {
            r->invalid_lines++;
            FMT_ERR(st, line, "nul_byte", NULL, "line contains a NUL byte");
            continue;
        }
        const char *s = fe_buf_str(&in.buf);
        size_t len = in.buf.len;
        if (fe_data_blank(s, len)) {
            r->blank_lines++;
            FMT_WARN(st, line, "blank_line", NULL,
                     "blank line (the fine-tuning API rejects empty lines)");
            continue;
        }
        const char *why;
        size_t at;
        cJSON *json = fe_data_parse_line(s, len, &why, &at);
        if (!json) {
            r->invalid_lines++;
            bool utf8 = strcmp(why, "invalid UTF-8") == 0;
            if (at)
                FMT_ERR(st, line, utf8 ? "invalid_utf8" : "invalid_json", NULL, "%s at byte %zu",
                        why, at);
            else
                FMT_ERR(st, line, "invalid_json", NULL, "%s", why);
            continue;
        }
        r->examples++;
        struct fe_data_row row;
        fe_data_row_extract(json, NULL, &row);
        r->shapes[row.shape]++;
        size_t tokens = check_shape(st, line, json, &row);
        r->tokens_total += tokens;
        if (tokens > r->tokens_max)
            r->tokens_max = tokens;
        if (tokens > FE_DATA_EXAMPLE_TOKENS)
            fe_data_report_add(
                r, FE_CHECK_LENGTH, FE_DATA_WARNING, r->path, line, "too_long", NULL,
                "about %zu tokens: longer than the %u tokens a training example may have "
                "(it will be truncated)",
                tokens, FE_DATA_EXAMPLE_TOKENS);
        if (row.id && !fe_strmap_put(&st->ids, row.id, line)) {
            size_t first = 0;
            fe_strmap_get(&st->ids, row.id, &first);
            fe_data_report_add(r, FE_CHECK_DUPLICATE, FE_DATA_WARNING, r->path, line,
                               "duplicate_id", "id", "duplicate id '%.80s' (first on line %zu)",
                               row.id, first);
        }
        if (cJSON_GetObjectItemCaseSensitive(json, "label"))
            st->has_label_field = true;
        if (row.label)
            tally_add(&st->labels, row.label);
        if (row.shape == FE_SHAPE_CHAT && row.answer)
            tally_add(&st->answers, row.answer);
        fe_buf_reset(&path);
        fe_buf_adds(&path, "");
        pii_walk(st, line, json, &path);
        check_production(st, line, &row);
        add_item(st, row.prompt, line, row.answer, 0);
        fe_data_row_release(&row);
        cJSON_Delete(json);
    }
    fe_buf_release(&path);
    fe_data_lines_close(&in);
    return got < 0 ? -1 : 0;
}

/* Reads the held-out file: only what leakage needs (set 1). */
static int pass_heldout(struct check_state *st, struct fe_err *err)
{
    struct fe_data_report *r = st->r;
    struct fe_data_lines in;
    if (fe_data_lines_open(&in, r->against, err) != FE_OK)
        return -1;
    int got;
    while ((got = fe_data_lines_next(&in, err)) == 1) {
        if (in.too_long || in.has_nul || fe_data_blank(fe_buf_str(&in.buf), in.buf.len)) {
            if (!fe_data_blank(fe_buf_str(&in.buf), in.buf.len) || in.too_long)
                fe_data_report_add(r, FE_CHECK_LEAKAGE, FE_DATA_WARNING, r->against, in.line,
                                   "unreadable_line", NULL,
                                   "held-out line not checked for leakage (too long or NUL byte)");
            continue;
        }
        const char *why;
        size_t at;
        cJSON *json = fe_data_parse_line(fe_buf_str(&in.buf), in.buf.len, &why, &at);
        if (!json) {
            fe_data_report_add(r, FE_CHECK_LEAKAGE, FE_DATA_WARNING, r->against, in.line,
                               "unreadable_line", NULL, "held-out line not checked for leakage: %s",
                               why);
            continue;
        }
        struct fe_data_row row;
        fe_data_row_extract(json, NULL, &row);
        r->heldout_examples++;
        /* a plain held-out row reaches the model through the config's template: compare that
         * rendering with chat training prompts (they were rendered the same way) */
        char *rendered = NULL;
        if (st->tmpl && row.shape == FE_SHAPE_PLAIN &&
            (st->first_shape == FE_SHAPE_CHAT || st->first_shape == FE_SHAPE_DPO)) {
            struct fe_err ignored = {0};
            rendered = fe_template_render(st->tmpl, json, &ignored);
        }
        add_item(st, rendered ? rendered : row.prompt, in.line, row.answer, 1);
        free(rendered);
        fe_data_row_release(&row);
        cJSON_Delete(json);
    }
    fe_data_lines_close(&in);
    return got < 0 ? -1 : 0;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void finish_labels(struct check_state *st)
{
    struct fe_data_report *r = st->r;
    struct label_tally *t = NULL;
    if (st->labels.rows && !st->labels.overflow) {
        t = &st->labels;
        r->label_source = st->has_label_field ? "label" : "gold";
    } else if (st->answers.rows && !st->answers.overflow && st->answers.n <= 200 &&
               st->answers.n * 3 <= st->answers.rows &&
               st->answers.chars <= 50 * st->answers.rows) {
        t = &st->answers;
        r->label_source = "assistant";
    }
    if (!t)
        return;
    r->n_labels = t->n;
    r->label_names = fe_xcalloc(t->n, sizeof(*r->label_names));
    r->label_counts = fe_xcalloc(t->n, sizeof(*r->label_counts));
    for (size_t i = 0; i < t->map.n_slots; i++)
        if (t->map.slots[i].key)
            r->label_names[t->map.slots[i].value] = fe_xstrdup(t->map.slots[i].key);
    qsort(r->label_names, t->n, sizeof(*r->label_names), cmp_str);
    size_t lo = SIZE_MAX, hi = 0, rare = 0;
    struct fe_buf rare_names;
    fe_buf_init(&rare_names, 0);
    for (size_t i = 0; i < t->n; i++) {
        size_t idx = 0;
        fe_strmap_get(&t->map, r->label_names[i], &idx);
        size_t c = t->counts[idx];
        r->label_counts[i] = c;
        lo = c < lo ? c : lo;
        hi = c > hi ? c : hi;
        if (c < FE_DATA_RARE_LABEL) {
            if (rare++ < 5)
                fe_buf_addf(&rare_names, "%s'%.40s' (%zu)", rare > 1 ? ", " : "", r->label_names[i],
                            c);
        }
    }
    if (t->n == 1)
        fe_data_report_add(r, FE_CHECK_LABELS, FE_DATA_WARNING, r->path, 0, "single_label",
                           r->label_source, "every example has the same label '%.40s'",
                           r->label_names[0]);
    else if (lo && (double)hi / (double)lo > FE_DATA_IMBALANCE)
        fe_data_report_add(r, FE_CHECK_LABELS, FE_DATA_WARNING, r->path, 0, "imbalance",
                           r->label_source,
                           "labels are imbalanced: the most frequent has %zu examples, the rarest "
                           "%zu (ratio %.1f > %.0f)",
                           hi, lo, (double)hi / (double)lo, FE_DATA_IMBALANCE);
    if (rare)
        fe_data_report_add(r, FE_CHECK_LABELS, FE_DATA_NOTE, r->path, 0, "rare_labels",
                           r->label_source, "%zu label(s) with fewer than %d examples: %s%s", rare,
                           FE_DATA_RARE_LABEL, fe_buf_str(&rare_names), rare > 5 ? ", ..." : "");
    fe_buf_release(&rare_names);
}

static int cmp_pair(const void *x, const void *y)
{
    const struct pair *a = x, *b = y;
    if (a->b != b->b)
        return a->b < b->b ? -1 : 1;
    return a->a < b->a ? -1 : a->a > b->a;
}

/* Duplicates within FILE, leakage between the held-out file and FILE. */
static void finish_dedup(struct check_state *st)
{
    struct fe_data_report *r = st->r;
    size_t n = st->dd.n;
    fe_dedup_pairs(&st->dd, r->near_threshold, pair_found, st);
    /* report in file order (items are numbered in file order, training file first) */
    if (st->n_pairs)
        qsort(st->pairs, st->n_pairs, sizeof(*st->pairs), cmp_pair);
    struct fe_uf uf;
    fe_uf_init(&uf, n);
    bool *near_root = fe_xcalloc(n ? n : 1, sizeof(*near_root));
    bool *exact_rep = fe_xcalloc(n ? n : 1, sizeof(*exact_rep));
    size_t *leak_other = fe_xcalloc(n ? n : 1, sizeof(*leak_other)); /* train item + 1 */
    double *leak_sim = fe_xcalloc(n ? n : 1, sizeof(*leak_sim));
    for (size_t i = 0; i < st->n_pairs; i++) {
        struct pair *p = &st->pairs[i];
        int sa = st->dd.items[p->a].set, sb = st->dd.items[p->b].set;
        if (sa == 0 && sb == 0) {
            fe_uf_union(&uf, p->a, p->b);
            if (p->exact) {
                exact_rep[p->a] = true;
                r->dup_rows++;
                bool conflict = st->item_answer[p->a] != st->item_answer[p->b];
                struct fe_data_finding *f = fe_data_report_add(
                    r, FE_CHECK_DUPLICATE, FE_DATA_WARNING, r->path, st->item_line[p->b],
                    conflict ? "conflicting_duplicate" : "duplicate", NULL,
                    conflict
                        ? "same prompt as line %zu (after normalisation) with a different answer"
                        : "duplicate of line %zu (after normalisation)",
                    st->item_line[p->a]);
                if (f) {
                    f->other_file = r->path;
                    f->other_line = st->item_line[p->a];
                    f->similarity = 1.0;
                }
            } else {
                struct fe_data_finding *f = fe_data_report_add(
                    r, FE_CHECK_NEAR_DUPLICATE, FE_DATA_WARNING, r->path, st->item_line[p->b],
                    "near_duplicate", NULL,
                    "near duplicate of line %zu (Jaccard %.3f on character 5-grams)",
                    st->item_line[p->a], p->sim);
                if (f) {
                    f->other_file = r->path;
                    f->other_line = st->item_line[p->a];
                    f->similarity = p->sim;
                }
                r->near_rows++;
            }
        } else if (sa != sb) {
            size_t t = sa == 0 ? p->a : p->b, h = sa == 0 ? p->b : p->a;
            if (!leak_other[h] || p->sim > leak_sim[h]) {
                leak_other[h] = t + 1;
                leak_sim[h] = p->sim;
            }
        }
    }
    /* a held-out item identical to another held-out item inherits its leak */
    for (size_t i = 0; i < st->n_pairs; i++) {
        struct pair *p = &st->pairs[i];
        if (p->exact && st->dd.items[p->a].set == 1 && st->dd.items[p->b].set == 1 &&
            !leak_other[p->b] && leak_other[p->a]) {
            leak_other[p->b] = leak_other[p->a];
            leak_sim[p->b] = leak_sim[p->a];
        }
    }
    for (size_t i = 0; i < n; i++) {
        if (exact_rep[i])
            r->dup_groups++;
    }
    for (size_t i = 0; i < st->n_pairs; i++) {
        struct pair *p = &st->pairs[i];
        if (!p->exact && st->dd.items[p->a].set == 0 && st->dd.items[p->b].set == 0) {
            size_t root = fe_uf_find(&uf, p->a);
            if (!near_root[root]) {
                near_root[root] = true;
                r->near_groups++;
            }
        }
    }
    for (size_t h = 0; h < n; h++) {
        if (!leak_other[h])
            continue;
        size_t t = leak_other[h] - 1;
        bool exact = leak_sim[h] >= 1.0 && st->dd.items[h].exact == st->dd.items[t].exact;
        if (exact)
            r->leaked_exact++;
        else
            r->leaked_near++;
        struct fe_data_finding *f = fe_data_report_add(
            r, FE_CHECK_LEAKAGE, FE_DATA_BLOCKING, r->against, st->item_line[h],
            exact ? "exact" : "near", NULL,
            exact ? "held-out example appears in %s (line %zu)"
                  : "held-out example nearly appears in %s (line %zu, Jaccard %.3f)",
            r->path, st->item_line[t], leak_sim[h]);
        if (f) {
            f->other_file = r->path;
            f->other_line = st->item_line[t];
            f->similarity = leak_sim[h];
        }
    }
    free(near_root);
    free(exact_rep);
    free(leak_other);
    free(leak_sim);
    fe_uf_release(&uf);
}

static void finish_size_cost(struct check_state *st)
{
    struct fe_data_report *r = st->r;
    const struct fe_data_check_opts *o = st->o;
    if (r->examples == 0)
        fe_data_report_add(r, FE_CHECK_FORMAT, FE_DATA_BLOCKING, r->path, 0, "no_examples", NULL,
                           "no examples: the file is empty or has no valid line");
    else if (r->examples < FE_DATA_MIN_EXAMPLES && o->purpose == FE_DATA_FOR_FINETUNE)
        fe_data_report_add(r, FE_CHECK_FORMAT, FE_DATA_BLOCKING, r->path, 0, "too_few_examples",
                           NULL, "%zu examples: OpenAI's fine-tuning rejects a training file with "
                           "fewer than %d", r->examples, FE_DATA_MIN_EXAMPLES);
    else if (r->examples < FE_DATA_MIN_EXAMPLES)
        fe_data_report_add(r, FE_CHECK_SIZE, FE_DATA_WARNING, r->path, 0, "too_small", NULL,
                           "%zu examples: the fine-tuning API needs at least %d (500+ recommended)",
                           r->examples, FE_DATA_MIN_EXAMPLES);
    else if (r->examples < FE_DATA_SIZE_WARN)
        fe_data_report_add(r, FE_CHECK_SIZE, FE_DATA_WARNING, r->path, 0, "small", NULL,
                           "%zu examples: fewer than %d usually give weak or unstable fine-tunes",
                           r->examples, FE_DATA_SIZE_WARN);
    else if (r->examples < FE_DATA_SIZE_NOTE)
        fe_data_report_add(r, FE_CHECK_SIZE, FE_DATA_NOTE, r->path, 0, "modest", NULL,
                           "%zu examples: fewer than %d; consider collecting more", r->examples,
                           FE_DATA_SIZE_NOTE);
    if (r->shapes[FE_SHAPE_PLAIN] && o->purpose == FE_DATA_FOR_ANY)
        fe_data_report_add(r, FE_CHECK_FORMAT, FE_DATA_WARNING, r->path, r->first_plain_line,
                           "plain_not_finetunable", "messages",
                           "%zu plain-shape row(s) (input/gold, first on line %zu): right for a "
                           "held-out set, but OpenAI's fine-tuning accepts only chat or DPO rows; "
                           "for training data convert with `fteval data to-chat FILE --config "
                           "CONFIG --out OUT` (--for finetune blocks, --for eval silences this)",
                           r->shapes[FE_SHAPE_PLAIN], r->first_plain_line);
    if (o->mde > 0) {
        r->mde = o->mde;
        r->mde_required_n = fe_data_mde_n(o->mde);
        const char *file = r->against ? r->against : r->path;
        size_t have = r->against ? r->heldout_examples : r->examples;
        if (have < r->mde_required_n)
            fe_data_report_add(
                r, FE_CHECK_SIZE, FE_DATA_WARNING, file, 0, "heldout_too_small", NULL,
                "held-out set has %zu examples; detecting a difference of %.3g needs about %zu "
                "(paired, binary metric at p=0.5, alpha 0.05 two-sided, power 0.8)",
                have, o->mde, r->mde_required_n);
    }
    r->n_epochs = o->n_epochs;
    r->training_tokens = r->tokens_total * (size_t)o->n_epochs;
    if (r->model) {
        double price;
        if (st->prices && training_price(st->prices, r->model, &price)) {
            r->priced = true;
            r->price_per_1m = price;
            r->cost_usd = (double)r->training_tokens / 1e6 * price;
            fe_data_report_add(
                r, FE_CHECK_COST, FE_DATA_NOTE, r->path, 0, "training_cost", NULL,
                "training cost about $%.2f (%zu tokens x %ld epochs at $%.2f per 1M, estimated)",
                r->cost_usd, r->tokens_total, o->n_epochs, price);
        } else {
            fe_data_report_add(r, FE_CHECK_COST, FE_DATA_WARNING, r->path, 0, "unknown_price", NULL,
                               "no training price for '%s'%s: cost unknown", r->model,
                               st->prices ? " in the price table"
                                          : " (no price table: use --prices)");
        }
    }
    if (r->against && r->heldout_examples == 0)
        fe_data_report_add(r, FE_CHECK_SIZE, FE_DATA_WARNING, r->against, 0, "empty_heldout", NULL,
                           "the held-out file has no readable examples");
}

static void state_release(struct check_state *st)
{
    fe_strmap_release(&st->ids);
    fe_strmap_release(&st->labels.map);
    free(st->labels.counts);
    fe_strmap_release(&st->answers.map);
    free(st->answers.counts);
    fe_dedup_release(&st->dd);
    free(st->item_line);
    free(st->item_answer);
    free(st->pairs);
    for (size_t i = 0; i < st->n_systems; i++)
        free(st->systems[i]);
    free(st->systems);
    free(st->tmpl_prefix);
    free(st->tmpl_suffix);
    free(st->tmpl);
    cJSON_Delete(st->prices);
}

struct fe_data_report *fe_data_check_run(const struct fe_data_check_opts *o, struct fe_err *err)
{
    struct fe_data_report *r = fe_xcalloc(1, sizeof(*r));
    r->path = fe_xstrdup(o->path);
    r->against = fe_xstrdup(o->against);
    r->config = fe_xstrdup(o->config);
    r->purpose = o->purpose;
    r->model = fe_xstrdup(o->model);
    r->max_findings = o->max_findings ? o->max_findings : 200;
    r->near_threshold = o->near_threshold > 0 ? o->near_threshold : FE_DEDUP_THRESHOLD;
    static const char *const role_names[] = {"system",    "developer", "user",
                                             "assistant", "tool",      "other"};
    for (int i = 0; i < FE_DATA_ROLES; i++)
        r->roles[i].role = role_names[i];

    struct check_state st;
    memset(&st, 0, sizeof(st));
    st.r = r;
    st.o = o;
    fe_strmap_init(&st.ids);
    fe_strmap_init(&st.labels.map);
    fe_strmap_init(&st.answers.map);
    fe_dedup_init(&st.dd);

    int rc = 0;
    if (o->prices && !(st.prices = read_json_file(o->prices, err)))
        rc = -1;
    if (rc == 0 && o->config) {
        r->production_checked = true;
        rc = load_config(&st, o->config, err);
    }
    if (rc == 0)
        rc = pass_train(&st, err);
    st.n_train = st.dd.n;
    if (rc == 0 && o->against)
        rc = pass_heldout(&st, err);
    if (rc == 0) {
        finish_labels(&st);
        finish_dedup(&st);
        finish_size_cost(&st);
    }
    state_release(&st);
    if (rc != 0) {
        fe_data_report_free(r);
        return NULL;
    }
    return r;
}

/* ---- output -------------------------------------------------------------------------------- */

void fe_data_report_text(const struct fe_data_report *r, struct fe_buf *out)
{
    fe_buf_addf(out, "data check: %s\n", r->path);
    for (size_t i = 0; i < r->n_findings; i++) {
        const struct fe_data_finding *f = &r->findings[i];
        if (f->line)
            fe_buf_addf(out, "%s:%zu: %s: %s: %s\n", f->file ? f->file : "-", f->line,
                        fe_data_severity_name(f->severity), fe_data_check_name(f->check),
                        f->message);
        else
            fe_buf_addf(out, "%s: %s: %s: %s\n", f->file ? f->file : "-",
                        fe_data_severity_name(f->severity), fe_data_check_name(f->check),
                        f->message);
    }
    for (int c = 0; c < FE_CHECK_COUNT; c++)
        if (r->dropped[c])
            fe_buf_addf(out, "... %zu more %s finding(s) not listed\n", r->dropped[c],
                        fe_data_check_name(c));
    fe_buf_addf(out,
                "\nexamples: %zu (lines %zu, blank %zu, invalid %zu; chat %zu, dpo %zu, plain %zu, "
                "unknown %zu)\n",
                r->examples, r->lines, r->blank_lines, r->invalid_lines, r->shapes[FE_SHAPE_CHAT],
                r->shapes[FE_SHAPE_DPO], r->shapes[FE_SHAPE_PLAIN], r->shapes[FE_SHAPE_UNKNOWN]);
    fe_buf_adds(out, "lengths (characters; tokens estimated as ceil(utf8_bytes/4)):\n");
    for (int i = 0; i < FE_DATA_ROLES; i++) {
        const struct fe_data_role_stats *s = &r->roles[i];
        if (!s->messages)
            continue;
        fe_buf_addf(out, "  %-9s messages %zu, chars mean %.1f min %zu max %zu, tokens ~%zu\n",
                    i == 5 ? "plain" : s->role, s->messages, (double)s->chars / (double)s->messages,
                    s->chars_min, s->chars_max, s->tokens);
    }
    fe_buf_addf(out, "training tokens: ~%zu per epoch x %ld epochs = ~%zu", r->tokens_total,
                r->n_epochs, r->training_tokens);
    if (r->priced)
        fe_buf_addf(out, " (about $%.2f for %s)\n", r->cost_usd, r->model);
    else if (r->model)
        fe_buf_addf(out, " (cost unknown for %s)\n", r->model);
    else
        fe_buf_adds(out, "\n");
    if (r->label_source) {
        fe_buf_addf(out, "labels (%s): %zu distinct", r->label_source, r->n_labels);
        size_t lo = SIZE_MAX, hi = 0;
        for (size_t i = 0; i < r->n_labels; i++) {
            lo = r->label_counts[i] < lo ? r->label_counts[i] : lo;
            hi = r->label_counts[i] > hi ? r->label_counts[i] : hi;
        }
        if (r->n_labels)
            fe_buf_addf(out, ", %zu..%zu examples per label", lo, hi);
        fe_buf_adds(out, "\n");
    }
    fe_buf_addf(out,
                "pii: %zu email, %zu phone, %zu card, %zu ssn, %zu ipv4, %zu ipv6, %zu secret\n",
                r->pii[0], r->pii[1], r->pii[2], r->pii[3], r->pii[4], r->pii[5], r->pii[6]);
    fe_buf_addf(out,
                "duplicates: %zu exact group(s) (%zu extra rows); %zu near-duplicate pair(s) in "
                "%zu group(s) "
                "(Jaccard >= %.2f on character 5-grams)\n",
                r->dup_groups, r->dup_rows, r->near_rows, r->near_groups, r->near_threshold);
    if (r->against)
        fe_buf_addf(
            out,
            "leakage: %zu of %zu held-out examples in the training file (%zu exact, %zu near)\n",
            r->leaked_exact + r->leaked_near, r->heldout_examples, r->leaked_exact, r->leaked_near);
    if (r->production_checked)
        fe_buf_addf(out,
                    "production format: system prompt differs in %zu of %zu, template mismatch in "
                    "%zu of %zu\n",
                    r->system_mismatch, r->system_checked, r->template_mismatch,
                    r->template_checked);
    size_t totals[FE_DATA_SEVERITY_COUNT] = {0};
    for (int c = 0; c < FE_CHECK_COUNT; c++)
        for (int s = 0; s < FE_DATA_SEVERITY_COUNT; s++)
            totals[s] += r->counts[c][s];
    fe_buf_addf(out, "result: %s (%zu blocking, %zu warning(s), %zu note(s))\n",
                fe_data_report_blocking(r) ? "BLOCKED" : "ok", totals[FE_DATA_BLOCKING],
                totals[FE_DATA_WARNING], totals[FE_DATA_NOTE]);
}

static void add_str_or_null(cJSON *obj, const char *key, const char *s)
{
    if (s)
        cJSON_AddStringToObject(obj, key, s);
    else
        cJSON_AddNullToObject(obj, key);
}

cJSON *fe_data_report_json(const struct fe_data_report *r)
{
    cJSON *root = cJSON_CreateObject();
    cJSON_AddStringToObject(root, "schema", "fteval.data_check/1");
    cJSON_AddStringToObject(root, "file", r->path);
    add_str_or_null(root, "against", r->against);
    add_str_or_null(root, "config", r->config);
    static const char *const purposes[] = {"any", "finetune", "eval"};
    cJSON_AddStringToObject(root, "purpose", purposes[r->purpose]);
    cJSON_AddBoolToObject(root, "blocking", fe_data_report_blocking(r));
    cJSON *summary = cJSON_AddObjectToObject(root, "summary");
    cJSON *checks = cJSON_AddObjectToObject(root, "checks");
    size_t totals[FE_DATA_SEVERITY_COUNT] = {0};
    for (int c = 0; c < FE_CHECK_COUNT; c++) {
        cJSON *o = cJSON_AddObjectToObject(checks, fe_data_check_name(c));
        for (int s = 0; s < FE_DATA_SEVERITY_COUNT; s++) {
            cJSON_AddNumberToObject(o, fe_data_severity_name(s), (double)r->counts[c][s]);
            totals[s] += r->counts[c][s];
        }
        cJSON_AddNumberToObject(o, "omitted", (double)r->dropped[c]);
    }
    for (int s = 0; s < FE_DATA_SEVERITY_COUNT; s++)
        cJSON_AddNumberToObject(summary, fe_data_severity_name(s), (double)totals[s]);
    cJSON_AddNumberToObject(root, "examples", (double)r->examples);
    cJSON_AddNumberToObject(root, "lines", (double)r->lines);
    cJSON_AddNumberToObject(root, "blank_lines", (double)r->blank_lines);
    cJSON_AddNumberToObject(root, "invalid_lines", (double)r->invalid_lines);
    cJSON *shapes = cJSON_AddObjectToObject(root, "shapes");
    for (int s = 0; s < FE_SHAPE_COUNT; s++)
        cJSON_AddNumberToObject(shapes, fe_data_shape_name(s), (double)r->shapes[s]);
    cJSON *pii = cJSON_AddObjectToObject(root, "pii");
    for (int k = 0; k < FE_PII_KIND_COUNT; k++)
        cJSON_AddNumberToObject(pii, fe_pii_kind_name(k), (double)r->pii[k]);
    cJSON *lengths = cJSON_AddObjectToObject(root, "lengths");
    for (int i = 0; i < FE_DATA_ROLES; i++) {
        const struct fe_data_role_stats *s = &r->roles[i];
        if (!s->messages)
            continue;
        cJSON *o = cJSON_AddObjectToObject(lengths, i == 5 ? "plain" : s->role);
        cJSON_AddNumberToObject(o, "messages", (double)s->messages);
        cJSON_AddNumberToObject(o, "chars", (double)s->chars);
        cJSON_AddNumberToObject(o, "chars_mean", (double)s->chars / (double)s->messages);
        cJSON_AddNumberToObject(o, "chars_min", (double)s->chars_min);
        cJSON_AddNumberToObject(o, "chars_max", (double)s->chars_max);
        cJSON_AddNumberToObject(o, "tokens_est", (double)s->tokens);
    }
    cJSON *tokens = cJSON_AddObjectToObject(root, "tokens");
    cJSON_AddStringToObject(tokens, "method", "sum over messages of ceil(utf8_bytes/4)");
    cJSON_AddNumberToObject(tokens, "per_epoch_est", (double)r->tokens_total);
    cJSON_AddNumberToObject(tokens, "max_example_est", (double)r->tokens_max);
    cJSON_AddNumberToObject(tokens, "n_epochs", (double)r->n_epochs);
    cJSON_AddNumberToObject(tokens, "training_est", (double)r->training_tokens);
    cJSON *cost = cJSON_AddObjectToObject(root, "cost");
    add_str_or_null(cost, "model", r->model);
    if (r->priced) {
        cJSON_AddNumberToObject(cost, "training_usd_per_1m", r->price_per_1m);
        cJSON_AddNumberToObject(cost, "training_usd", r->cost_usd);
    } else {
        cJSON_AddNullToObject(cost, "training_usd_per_1m");
        cJSON_AddNullToObject(cost, "training_usd");
    }
    if (r->label_source) {
        cJSON *labels = cJSON_AddObjectToObject(root, "labels");
        cJSON_AddStringToObject(labels, "source", r->label_source);
        cJSON_AddNumberToObject(labels, "n_labels", (double)r->n_labels);
        cJSON *counts = cJSON_AddObjectToObject(labels, "counts");
        for (size_t i = 0; i < r->n_labels; i++)
            cJSON_AddNumberToObject(counts, r->label_names[i], (double)r->label_counts[i]);
    } else {
        cJSON_AddNullToObject(root, "labels");
    }
    cJSON *dup = cJSON_AddObjectToObject(root, "duplicates");
    cJSON_AddNumberToObject(dup, "exact_groups", (double)r->dup_groups);
    cJSON_AddNumberToObject(dup, "exact_extra_rows", (double)r->dup_rows);
    cJSON_AddNumberToObject(dup, "near_pairs", (double)r->near_rows);
    cJSON_AddNumberToObject(dup, "near_groups", (double)r->near_groups);
    cJSON_AddNumberToObject(dup, "threshold", r->near_threshold);
    cJSON_AddStringToObject(dup, "method",
                            "Jaccard of character 5-gram sets of the normalised prompt; "
                            "MinHash 128, LSH 16 bands x 8 rows, verified exactly");
    if (r->against) {
        cJSON *leak = cJSON_AddObjectToObject(root, "leakage");
        cJSON_AddNumberToObject(leak, "heldout_examples", (double)r->heldout_examples);
        cJSON_AddNumberToObject(leak, "exact", (double)r->leaked_exact);
        cJSON_AddNumberToObject(leak, "near", (double)r->leaked_near);
    } else {
        cJSON_AddNullToObject(root, "leakage");
    }
    cJSON *size = cJSON_AddObjectToObject(root, "size");
    cJSON_AddNumberToObject(size, "examples", (double)r->examples);
    size_t held = r->against ? r->heldout_examples : r->examples;
    cJSON_AddNumberToObject(size, "heldout_n", (double)held);
    if (held)
        cJSON_AddNumberToObject(size, "detectable_mde",
                                fmin(1.0, sqrt(2.80 * 2.80 * 0.5 / (double)held)));
    else
        cJSON_AddNullToObject(size, "detectable_mde");
    if (r->mde_required_n) {
        cJSON_AddNumberToObject(size, "mde", r->mde);
        cJSON_AddNumberToObject(size, "required_n", (double)r->mde_required_n);
    } else {
        cJSON_AddNullToObject(size, "mde");
        cJSON_AddNullToObject(size, "required_n");
    }
    if (r->production_checked) {
        cJSON *p = cJSON_AddObjectToObject(root, "production");
        cJSON_AddNumberToObject(p, "system_checked", (double)r->system_checked);
        cJSON_AddNumberToObject(p, "system_mismatch", (double)r->system_mismatch);
        cJSON_AddNumberToObject(p, "template_checked", (double)r->template_checked);
        cJSON_AddNumberToObject(p, "template_mismatch", (double)r->template_mismatch);
    } else {
        cJSON_AddNullToObject(root, "production");
    }
    cJSON *list = cJSON_AddArrayToObject(root, "findings");
    for (size_t i = 0; i < r->n_findings; i++) {
        const struct fe_data_finding *f = &r->findings[i];
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "check", fe_data_check_name(f->check));
        cJSON_AddStringToObject(o, "severity", fe_data_severity_name(f->severity));
        add_str_or_null(o, "file", f->file);
        if (f->line)
            cJSON_AddNumberToObject(o, "line", (double)f->line);
        else
            cJSON_AddNullToObject(o, "line");
        add_str_or_null(o, "kind", f->kind);
        add_str_or_null(o, "field", f->field);
        cJSON_AddStringToObject(o, "message", f->message);
        if (f->excerpt)
            cJSON_AddStringToObject(o, "excerpt", f->excerpt);
        if (f->other_line) {
            add_str_or_null(o, "other_file", f->other_file);
            cJSON_AddNumberToObject(o, "other_line", (double)f->other_line);
        }
        if (f->similarity >= 0)
            cJSON_AddNumberToObject(o, "similarity", f->similarity);
        cJSON_AddItemToArray(list, o);
    }
    return root;
}

int fe_data_check_blocking(const char *path, struct fe_buf *text, struct fe_err *err)
{
    struct fe_data_check_opts o;
    fe_data_check_opts_init(&o);
    o.path = path;
    o.purpose = FE_DATA_FOR_FINETUNE;
    struct fe_data_report *r = fe_data_check_run(&o, err);
    if (!r)
        return -1;
    if (text)
        fe_data_report_text(r, text);
    int blocking = fe_data_report_blocking(r) ? 1 : 0;
    size_t rejected = r->counts[FE_CHECK_FORMAT][FE_DATA_BLOCKING];
    for (size_t i = 0; i < r->n_findings && rejected; i++) {
        const struct fe_data_finding *f = &r->findings[i];
        if (f->check != FE_CHECK_FORMAT || f->severity != FE_DATA_BLOCKING)
            continue;
        char where[32] = "";
        if (f->line)
            snprintf(where, sizeof(where), ":%zu", f->line);
        fe_err_set(err, FE_EINVALID,
                   "%s%s: field '%s': %s (%zu row problem(s) OpenAI's fine-tuning would reject; "
                   "nothing uploaded)",
                   f->file ? f->file : path, where, f->field ? f->field : "-", f->message, rejected);
        blocking = 2;
        break;
    }
    fe_data_report_free(r);
    return blocking;
}
