/* data_check_format.c — `data check`'s per-line checks: format of the three shapes (the row
 * rules of input/data_row.h, shared with `run` and `score`), PII over every string, per-role
 * lengths and estimated tokens (base/tokens.h). */
#include <stdlib.h>
#include <string.h>

#include "harness/base/tokens.h"
#include "harness/base/util.h"
#include "harness/data/data_check_int.h"

/* ---- counting helpers ------------------------------------------------------------------- */

/* Characters = UTF-8 code points (continuation bytes are not counted). */
size_t fe_dc_utf8_chars(const char *s)
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
    size_t chars = fe_dc_utf8_chars(text), tokens = (size_t)fe_estimate_tokens(text);
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

void fe_dc_pii_walk(struct check_state *st, size_t line, const cJSON *v, struct fe_buf *path)
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
            fe_dc_pii_walk(st, line, c, path);
            path->len = mark;
            path->data[mark] = '\0';
        }
    } else if (cJSON_IsObject(v)) {
        const cJSON *c;
        cJSON_ArrayForEach(c, v) {
            if (path->len)
                fe_buf_addch(path, '.');
            fe_buf_adds(path, c->string ? c->string : "");
            fe_dc_pii_walk(st, line, c, path);
            path->len = mark;
            if (path->data)
                path->data[mark] = '\0';
        }
    }
}

/* ---- format validation ------------------------------------------------------------------ */

static bool trimmed_empty(const char *s)
{
    for (; *s; s++)
        if (*s != ' ' && *s != '\t' && *s != '\n' && *s != '\r')
            return false;
    return true;
}

/* What the messages of one array add up to. */
struct msg_tally {
    size_t tokens, assistants, trained;
    const char *last_role; /* of the last message with a valid role */
};

/* The text of a message's content by the row rule of input/data_row.h — the one `run` and
 * `score` read it with (parts concatenated; null = missing) — with missing_content, bad_content
 * and empty_content findings. Returns the text (caller frees; "" for a missing content) or NULL
 * when the content is invalid. */
static char *check_content(struct check_state *st, size_t line, const cJSON *m, const char *field,
                           bool assistant)
{
    char sub[128];
    snprintf(sub, sizeof(sub), "%s.content", field);
    char *text = NULL;
    int part = -1;
    switch (fe_data_content(cJSON_GetObjectItemCaseSensitive(m, "content"), &text, &part)) {
    case FE_CONTENT_NONE: {
        bool calls = cJSON_GetObjectItemCaseSensitive(m, "tool_calls") ||
                     cJSON_GetObjectItemCaseSensitive(m, "function_call");
        if (st->o->purpose == FE_DATA_FOR_EVAL)
            FMT_ERR(st, line, "missing_content", sub,
                    "%s: missing or null (`run` and `score` need text in every message of an "
                    "evaluation row)",
                    sub);
        else if (!(assistant && calls))
            FMT_ERR(st, line, "missing_content", sub,
                    "%s: missing or null (only an assistant message with tool_calls may omit it)",
                    sub);
        return fe_xstrdup("");
    }
    case FE_CONTENT_BAD_PART:
        FMT_ERR(st, line, "bad_content", sub,
                "%s[%d]: must be a text part {\"type\": \"text\", \"text\": \"...\"}", sub, part);
        return NULL;
    case FE_CONTENT_BAD:
        FMT_ERR(st, line, "bad_content", sub, "%s: must be a string or an array of text parts",
                sub);
        return NULL;
    case FE_CONTENT_TEXT:
        break;
    }
    if (st->o->purpose == FE_DATA_FOR_FINETUNE && trimmed_empty(text))
        FMT_ERR(st, line, "empty_content", sub, "%s: empty (fine-tuning rejects empty messages)",
                sub);
    return text;
}

/* weight (assistant only, 0 or 1) and tool_call_id (tool messages); counts trained turns. */
static void check_weight_tool(struct check_state *st, size_t line, const cJSON *m,
                              const char *field, int ri, struct msg_tally *t)
{
    char sub[128];
    bool assistant = ri == 3;
    const cJSON *weight = cJSON_GetObjectItemCaseSensitive(m, "weight");
    snprintf(sub, sizeof(sub), "%s.weight", field);
    if (weight) {
        if (!assistant)
            FMT_ERR(st, line, "weight_not_assistant", sub,
                    "%s: only assistant messages may carry a weight", sub);
        else if (!cJSON_IsNumber(weight) || (weight->valuedouble != 0 && weight->valuedouble != 1))
            FMT_ERR(st, line, "bad_weight", sub, "%s: must be 0 or 1", sub);
    }
    if (assistant) {
        t->assistants++;
        if (!weight || (cJSON_IsNumber(weight) && weight->valuedouble != 0))
            t->trained++;
    }
    if (ri == 4) {
        const cJSON *id = cJSON_GetObjectItemCaseSensitive(m, "tool_call_id");
        snprintf(sub, sizeof(sub), "%s.tool_call_id", field);
        if (!cJSON_IsString(id) || !*id->valuestring)
            FMT_ERR(st, line, "missing_tool_call_id", sub,
                    "%s: a tool message needs a tool_call_id", sub);
    }
}

/* One message of an array: object, role, content, weight, tool_call_id. */
static void check_message(struct check_state *st, size_t line, const cJSON *m, const char *field,
                          bool stats, struct msg_tally *t)
{
    if (!cJSON_IsObject(m)) {
        FMT_ERR(st, line, "bad_message", field, "%s: a message must be a JSON object", field);
        return;
    }
    char sub[128];
    const cJSON *role = cJSON_GetObjectItemCaseSensitive(m, "role");
    snprintf(sub, sizeof(sub), "%s.role", field);
    if (!cJSON_IsString(role)) {
        FMT_ERR(st, line, "bad_role", sub, "%s: missing or not a string", sub);
        return;
    }
    const char *rs = role->valuestring;
    int ri = role_index(rs);
    t->last_role = rs;
    if (ri == 5) {
        FMT_ERR(st, line, "bad_role", sub,
                "%s: '%.40s' is not one of system, developer, user, assistant, tool", sub, rs);
        return;
    }
    char *text = check_content(st, line, m, field, ri == 3);
    if (text) {
        t->tokens += role_add(st->r, ri, text, stats);
        free(text);
    }
    check_weight_tool(st, line, m, field, ri, t);
}

/* Validates a messages array (chat "messages" or DPO "input.messages"); returns the estimated
 * tokens. need_assistant: chat needs at least one assistant message, and (for fine-tuning and
 * for evaluation, where it is the gold) the last message must be the assistant's. */
static size_t check_messages(struct check_state *st, size_t line, const cJSON *msgs,
                             const char *name, bool need_assistant, bool stats)
{
    if (!cJSON_IsArray(msgs) || cJSON_GetArraySize(msgs) == 0) {
        FMT_ERR(st, line, "bad_messages", name, "'%s' must be a non-empty array of messages", name);
        return 0;
    }
    struct msg_tally t = {0, 0, 0, ""};
    int i = 0;
    const cJSON *m;
    cJSON_ArrayForEach(m, msgs) {
        char field[96];
        snprintf(field, sizeof(field), "%s[%d]", name, i++);
        check_message(st, line, m, field, stats, &t);
    }
    if (!need_assistant)
        return t.tokens;
    bool last_ok = strcmp(t.last_role, "assistant") == 0;
    if (t.assistants == 0) {
        FMT_ERR(st, line, "missing_assistant", name,
                "%s: no assistant message (nothing to train on)", name);
        return t.tokens;
    }
    if (t.trained == 0)
        FMT_WARN(st, line, "no_trained_turn", name, "%s: every assistant message has weight 0",
                 name);
    if (!last_ok && st->o->purpose == FE_DATA_FOR_FINETUNE)
        FMT_ERR(st, line, "last_not_assistant", name,
                "%s: the last message is not the assistant's (fine-tuning trains on the final "
                "assistant answer)",
                name);
    else if (!last_ok && st->o->purpose == FE_DATA_FOR_EVAL)
        FMT_ERR(st, line, "last_not_assistant", name,
                "%s: the last message is not the assistant's (in an evaluation row it is the gold "
                "answer)",
                name);
    else if (!last_ok)
        FMT_WARN(st, line, "last_not_assistant", name,
                 "%s: the last message is not the assistant's", name);
    return t.tokens;
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

/* A plain (evaluation-shape) row: "input" a string — or absent when the config's template does
 * not use it (`run` renders any field) — and a "gold" that `run` and `score` accept (a string,
 * an array, a JSON value; not null). */
static size_t check_plain(struct check_state *st, size_t line, const cJSON *json,
                          const struct fe_data_row *row)
{
    const cJSON *input = cJSON_GetObjectItemCaseSensitive(json, "input");
    const cJSON *gold = cJSON_GetObjectItemCaseSensitive(json, "gold");
    if (!st->r->first_plain_line)
        st->r->first_plain_line = line;
    if (st->o->purpose == FE_DATA_FOR_FINETUNE)
        FMT_ERR(st, line, "plain_not_finetunable", "messages",
                "messages: missing: a plain-shape row (input/gold) is not fine-tuning data; "
                "OpenAI accepts chat (\"messages\") or DPO rows: convert with `fteval data "
                "to-chat FILE --config CONFIG --out OUT`");
    bool input_needed = !st->tmpl || strstr(st->tmpl, "{input}") != NULL;
    if (input ? !cJSON_IsString(input) : input_needed)
        FMT_ERR(st, line, "bad_input", "input", "input: must be a string");
    if (!gold)
        FMT_ERR(st, line, "missing_gold", "gold",
                "gold: missing (use \"\" or [] for an unanswerable example)");
    else if (cJSON_IsNull(gold))
        FMT_ERR(st, line, "bad_gold", "gold",
                "gold: null (use \"\" or [] for an unanswerable example)");
    size_t tokens = 0;
    if (cJSON_IsString(input))
        tokens += role_add(st->r, 5, input->valuestring, true);
    if (row->answer)
        tokens += role_add(st->r, 5, row->answer, true);
    return tokens;
}

/* Validates one parsed line; returns the estimated tokens of the example. */
size_t fe_dc_check_shape(struct check_state *st, size_t line, const cJSON *json,
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
    case FE_SHAPE_PLAIN:
        tokens = check_plain(st, line, json, row);
        break;
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

