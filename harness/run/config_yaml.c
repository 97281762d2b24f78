/* config_yaml.c — a YAML config (Debian's libyaml) read into the same cJSON tree a JSON config
 * parses to, so one validator (config.c and the key table of config_keys.c) checks both, with
 * the line and column of every item kept for its messages (cJSON keeps none).
 *
 * Scalars follow YAML 1.2's core schema: a plain (unquoted) null, ~ or nothing is null; true and
 * false (any of true/True/TRUE) are booleans; a plain decimal number is a number; everything
 * else — and every quoted or block scalar, and !!str — is a string. Refused with file:line:column:
 * YAML syntax errors, more than one document, anchors and aliases (&name, *name), keys that are not
 * scalars, other explicit tags, and nesting deeper than 64.
 */
#include "harness/run/config_int.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#include "harness/base/util.h"

#define FE_YAML_MAX_DEPTH 64

struct fe_yaml_frame {
    cJSON *node;
    bool is_map;
    char *key;             /* a mapping's key read, its value not yet */
    size_t key_line, key_col;
};

struct fe_yaml {
    const char *path;
    struct fe_err *err;
    struct fe_yaml_frame stack[FE_YAML_MAX_DEPTH];
    int depth;
    cJSON *root;
    struct fe_yaml_pos *pos;
    size_t n_pos, cap_pos;
};

static int fe_yaml_fail(struct fe_yaml *y, yaml_mark_t mark, const char *what)
{
    fe_err_set(y->err, FE_EINVALID, "%s:%zu:%zu: %s", y->path, (size_t)mark.line + 1,
               (size_t)mark.column + 1, what);
    return -1;
}

static void fe_yaml_note(struct fe_yaml *y, const cJSON *item, size_t line, size_t col)
{
    if (y->n_pos == y->cap_pos) {
        y->cap_pos = y->cap_pos ? y->cap_pos * 2 : 64;
        y->pos = fe_xreallocarray(y->pos, y->cap_pos, sizeof(*y->pos));
    }
    y->pos[y->n_pos++] = (struct fe_yaml_pos){item, line, col};
}

/* A plain scalar that is a decimal number (YAML 1.2 core: [-+]?(.d+|d+(.d*)?)([eE][-+]?d+)?). */
static bool fe_yaml_number(const char *s, double *out)
{
    const char *p = s;
    if (*p == '-' || *p == '+')
        p++;
    bool digits = false;
    while (*p >= '0' && *p <= '9')
        p++, digits = true;
    if (*p == '.')
        for (p++; *p >= '0' && *p <= '9'; p++)
            digits = true;
    if (!digits)
        return false;
    if (*p == 'e' || *p == 'E') {
        p++;
        if (*p == '-' || *p == '+')
            p++;
        if (!(*p >= '0' && *p <= '9'))
            return false;
        while (*p >= '0' && *p <= '9')
            p++;
    }
    return *p == '\0' && fe_parse_double(s, out) && isfinite(*out);
}

static bool fe_yaml_is(const char *s, const char *lower, const char *title, const char *upper)
{
    return strcmp(s, lower) == 0 || strcmp(s, title) == 0 || strcmp(s, upper) == 0;
}

/* The JSON value of a scalar event, or NULL (an unsupported tag: error set). */
static cJSON *fe_yaml_scalar(struct fe_yaml *y, const yaml_event_t *ev)
{
    const char *s = (const char *)ev->data.scalar.value;
    const char *tag = (const char *)ev->data.scalar.tag;
    if (tag && strcmp(tag, YAML_STR_TAG) != 0 && strcmp(tag, "!") != 0) {
        char msg[256];
        snprintf(msg, sizeof(msg), "the tag '%s' is not supported (only !!str)", tag);
        fe_yaml_fail(y, ev->start_mark, msg);
        return NULL;
    }
    if (tag || ev->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
        return cJSON_CreateString(s);
    double d;
    if (!*s || strcmp(s, "~") == 0 || fe_yaml_is(s, "null", "Null", "NULL"))
        return cJSON_CreateNull();
    if (fe_yaml_is(s, "true", "True", "TRUE"))
        return cJSON_CreateTrue();
    if (fe_yaml_is(s, "false", "False", "FALSE"))
        return cJSON_CreateFalse();
    if (fe_yaml_number(s, &d))
        return cJSON_CreateNumber(d);
    return cJSON_CreateString(s);
}

/* Puts node where the parser is: the root, a mapping's value, or a sequence's element. */
static void fe_yaml_attach(struct fe_yaml *y, cJSON *node, yaml_mark_t mark)
{
    if (y->depth == 0) {
        y->root = node;
        fe_yaml_note(y, node, (size_t)mark.line + 1, (size_t)mark.column + 1);
        return;
    }
    struct fe_yaml_frame *top = &y->stack[y->depth - 1];
    if (top->is_map) {
        cJSON_AddItemToObject(top->node, top->key, node); /* a repeated key stays: fe_check_unique names it */
        fe_yaml_note(y, node, top->key_line, top->key_col);
        free(top->key);
        top->key = NULL;
    } else {
        cJSON_AddItemToArray(top->node, node);
        fe_yaml_note(y, node, (size_t)mark.line + 1, (size_t)mark.column + 1);
    }
}

static bool fe_yaml_wants_key(const struct fe_yaml *y)
{
    return y->depth > 0 && y->stack[y->depth - 1].is_map && !y->stack[y->depth - 1].key;
}

/* One event: 1 more to come, 0 the end of the stream, -1 an error. */
static int fe_yaml_event(struct fe_yaml *y, const yaml_event_t *ev, int *docs)
{
    switch (ev->type) {
    case YAML_STREAM_END_EVENT:
        return 0;
    case YAML_DOCUMENT_START_EVENT:
        return ++*docs > 1 ? fe_yaml_fail(y, ev->start_mark, "more than one YAML document") : 1;
    case YAML_ALIAS_EVENT:
        return fe_yaml_fail(y, ev->start_mark, "aliases (*name) are not supported: write the value out");
    case YAML_SCALAR_EVENT: {
        if (ev->data.scalar.anchor)
            return fe_yaml_fail(y, ev->start_mark, "anchors (&name) are not supported");
        if (fe_yaml_wants_key(y)) {
            struct fe_yaml_frame *top = &y->stack[y->depth - 1];
            top->key = fe_xstrdup((const char *)ev->data.scalar.value);
            top->key_line = (size_t)ev->start_mark.line + 1;
            top->key_col = (size_t)ev->start_mark.column + 1;
            return 1;
        }
        cJSON *v = fe_yaml_scalar(y, ev);
        if (!v)
            return -1;
        fe_yaml_attach(y, v, ev->start_mark);
        return 1;
    }
    case YAML_SEQUENCE_START_EVENT:
    case YAML_MAPPING_START_EVENT: {
        bool map = ev->type == YAML_MAPPING_START_EVENT;
        if (fe_yaml_wants_key(y))
            return fe_yaml_fail(y, ev->start_mark, "a mapping key must be a scalar");
        if ((map ? ev->data.mapping_start.anchor : ev->data.sequence_start.anchor) != NULL)
            return fe_yaml_fail(y, ev->start_mark, "anchors (&name) are not supported");
        if (y->depth == FE_YAML_MAX_DEPTH)
            return fe_yaml_fail(y, ev->start_mark, "nested deeper than 64");
        cJSON *node = map ? cJSON_CreateObject() : cJSON_CreateArray();
        fe_yaml_attach(y, node, ev->start_mark);
        y->stack[y->depth++] = (struct fe_yaml_frame){.node = node, .is_map = map};
        return 1;
    }
    case YAML_SEQUENCE_END_EVENT:
    case YAML_MAPPING_END_EVENT:
        y->depth--;
        return 1;
    default: /* stream start, document end */
        return 1;
    }
}

cJSON *fe_yaml_parse(const char *text, size_t len, const char *path, struct fe_yaml_pos **pos,
                     size_t *n_pos, struct fe_err *err)
{
    struct fe_yaml y = {.path = path, .err = err};
    yaml_parser_t p;
    yaml_parser_initialize(&p);
    yaml_parser_set_input_string(&p, (const unsigned char *)text, len);
    int docs = 0, more = 1;
    while (more > 0) {
        yaml_event_t ev;
        if (!yaml_parser_parse(&p, &ev)) {
            char msg[512];
            snprintf(msg, sizeof(msg), "invalid YAML: %s%s%s", p.problem ? p.problem : "syntax error",
                     p.context ? " " : "", p.context ? p.context : "");
            more = fe_yaml_fail(&y, p.problem_mark, msg);
            break;
        }
        more = fe_yaml_event(&y, &ev, &docs);
        yaml_event_delete(&ev);
    }
    yaml_parser_delete(&p);
    for (int i = 0; i < y.depth; i++)
        free(y.stack[i].key);
    if (more < 0 || !y.root) {
        if (more >= 0)
            fe_err_set(err, FE_EINVALID, "%s:1:1: an empty YAML document", path);
        cJSON_Delete(y.root);
        free(y.pos);
        return NULL;
    }
    *pos = y.pos;
    *n_pos = y.n_pos;
    return y.root;
}
