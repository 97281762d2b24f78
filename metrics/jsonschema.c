/* jsonschema.c — JSON Schema 2020-12 validation; see jsonschema.h.
 *
 * The schema is compiled once into a graph of struct fe_js nodes (one per schema object, memoised
 * by its position in the copied tree, so $ref cycles share nodes). Compilation checks every
 * keyword and its value; validation then only walks the graph. */
#include "metrics/jsonschema.h"

#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness/base/util.h"
#include "metrics/regex.h"
#include "metrics/unicode.h"

enum fe_js_type {
    FE_JS_NULL = 1u << 0,
    FE_JS_BOOLEAN = 1u << 1,
    FE_JS_OBJECT = 1u << 2,
    FE_JS_ARRAY = 1u << 3,
    FE_JS_NUMBER = 1u << 4,
    FE_JS_STRING = 1u << 5,
    FE_JS_INTEGER = 1u << 6,
};

static const struct {
    const char *name;
    unsigned bit;
} fe_js_types[] = {
    {"null", FE_JS_NULL},     {"boolean", FE_JS_BOOLEAN}, {"object", FE_JS_OBJECT},
    {"array", FE_JS_ARRAY},   {"number", FE_JS_NUMBER},   {"string", FE_JS_STRING},
    {"integer", FE_JS_INTEGER},
};

struct fe_js;

struct fe_js_list {
    struct fe_js **v;
    size_t n;
};

struct fe_js_prop {
    const char *name;       /* borrowed from the copied tree */
    struct fe_regex *re;    /* patternProperties only */
    struct fe_js *schema;
};

struct fe_js {
    const cJSON *src;       /* this schema in the copied tree */
    char *where;            /* its JSON pointer, "#/properties/a" */
    bool is_bool, bool_value;
    unsigned types;         /* 0: no "type" keyword */
    struct fe_js_prop *props, *pprops;
    size_t n_props, n_pprops;
    struct fe_js *additional, *items, *not_schema, *ref;
    struct fe_js_list prefix, all_of, any_of, one_of;
    const char **required;
    size_t n_required;
    const cJSON *enum_values, *const_value;
    bool has_min, has_max, has_xmin, has_xmax, has_mult;
    double min, max, xmin, xmax, mult;
    double min_len, max_len, min_items, max_items, min_props, max_props; /* -1: none */
    bool unique;
    struct fe_regex *pattern;
    int mark;               /* loop check: 0 unvisited, 1 on the path, 2 done */
};

struct fe_jsonschema {
    cJSON *root;
    struct fe_js *top;
    struct fe_js **all;
    size_t n_all;
};

struct fe_js_ctx {
    struct fe_jsonschema *s;
    struct fe_err *err;
};

static struct fe_js *js_compile(struct fe_js_ctx *k, const cJSON *node, const char *where);

/* "where/key" with the key escaped as a JSON pointer token (~ -> ~0, / -> ~1). */
static char *js_child(const char *where, const char *key)
{
    size_t n = strlen(where), klen = strlen(key), extra = 0;
    for (size_t i = 0; i < klen; i++)
        extra += key[i] == '~' || key[i] == '/';
    char *out = fe_xmalloc(n + 1 + klen + extra + 1);
    memcpy(out, where, n);
    size_t o = n;
    out[o++] = '/';
    for (size_t i = 0; i < klen; i++) {
        if (key[i] == '~' || key[i] == '/') {
            out[o++] = '~';
            out[o++] = key[i] == '~' ? '0' : '1';
        } else {
            out[o++] = key[i];
        }
    }
    out[o] = '\0';
    return out;
}

static char *js_child_index(const char *where, size_t i)
{
    return fe_xasprintf("%s/%zu", where, i);
}

static struct fe_js *js_sub(struct fe_js_ctx *k, const cJSON *node, const char *where, const char *key)
{
    char *w = js_child(where, key);
    struct fe_js *s = js_compile(k, node, w);
    free(w);
    return s;
}

static bool js_is_schema(const cJSON *v)
{
    return cJSON_IsObject(v) || cJSON_IsBool(v);
}

/* A non-empty array of schemas (allOf, anyOf, oneOf, prefixItems). */
static bool js_list(struct fe_js_ctx *k, const cJSON *v, const char *where, const char *key,
                    struct fe_js_list *out)
{
    if (!cJSON_IsArray(v) || cJSON_GetArraySize(v) == 0) {
        fe_err_set(k->err, FE_EINVALID, "%s: '%s' must be a non-empty array of schemas", where, key);
        return false;
    }
    char *w = js_child(where, key);
    size_t n = (size_t)cJSON_GetArraySize(v), i = 0;
    out->v = fe_xcalloc(n, sizeof(*out->v));
    const cJSON *e;
    bool ok = true;
    cJSON_ArrayForEach(e, v) {
        char *we = js_child_index(w, i);
        out->v[i] = js_compile(k, e, we);
        free(we);
        if (!out->v[i]) {
            ok = false;
            break;
        }
        out->n = ++i;
    }
    free(w);
    return ok;
}

/* A map of names to schemas (properties, patternProperties, $defs, definitions). */
static bool js_map(struct fe_js_ctx *k, const cJSON *v, const char *where, const char *key,
                   struct fe_js_prop **out, size_t *n, bool regex)
{
    if (!cJSON_IsObject(v)) {
        fe_err_set(k->err, FE_EINVALID, "%s: '%s' must be an object of schemas", where, key);
        return false;
    }
    char *w = js_child(where, key);
    size_t cap = (size_t)cJSON_GetArraySize(v);
    struct fe_js_prop *props = fe_xcalloc(cap ? cap : 1, sizeof(*props));
    if (out)
        *out = props;
    const cJSON *e;
    bool ok = true;
    cJSON_ArrayForEach(e, v) {
        struct fe_js_prop *p = &props[(*n)++];
        p->name = e->string;
        if (regex) {
            struct fe_err rerr = {0};
            p->re = fe_regex_compile(e->string, FE_REGEX_ECMA, &rerr);
            if (!p->re) {
                fe_err_set(k->err, FE_EINVALID, "%s: invalid pattern '%s': %s", w, e->string, rerr.msg);
                ok = false;
                break;
            }
        }
        p->schema = js_sub(k, e, w, e->string);
        if (!p->schema) {
            ok = false;
            break;
        }
    }
    free(w);
    if (!out) {
        for (size_t i = 0; i < *n; i++)
            fe_regex_free(props[i].re);
        free(props);
        *n = 0;
    }
    return ok;
}

/* A non-negative whole number (2.0 is accepted, as the meta-schema's "integer" does). */
static bool js_count(struct fe_js_ctx *k, const cJSON *v, const char *where, const char *key, double *out)
{
    if (!cJSON_IsNumber(v) || !(v->valuedouble >= 0) || floor(v->valuedouble) != v->valuedouble ||
        !isfinite(v->valuedouble)) {
        fe_err_set(k->err, FE_EINVALID, "%s: '%s' must be a non-negative integer", where, key);
        return false;
    }
    *out = v->valuedouble;
    return true;
}

static bool js_number(struct fe_js_ctx *k, const cJSON *v, const char *where, const char *key,
                      double *out, bool *has)
{
    if (!cJSON_IsNumber(v)) {
        fe_err_set(k->err, FE_EINVALID, "%s: '%s' must be a number", where, key);
        return false;
    }
    *out = v->valuedouble;
    *has = true;
    return true;
}

static bool js_type(struct fe_js_ctx *k, struct fe_js *s, const cJSON *v, const char *where)
{
    const cJSON *e = v;
    bool array = cJSON_IsArray(v);
    if (array)
        e = v->child;
    if (!array && !cJSON_IsString(v))
        goto bad;
    for (; e; e = array ? e->next : NULL) {
        unsigned bit = 0;
        for (size_t i = 0; cJSON_IsString(e) && i < FE_ARRAY_LEN(fe_js_types); i++)
            if (strcmp(e->valuestring, fe_js_types[i].name) == 0)
                bit = fe_js_types[i].bit;
        if (!bit || (s->types & bit))
            goto bad;
        s->types |= bit;
    }
    if (s->types)
        return true;
bad:
    fe_err_set(k->err, FE_EINVALID,
               "%s: 'type' must be a type name or a non-empty array of distinct type names "
               "(null, boolean, object, array, number, string, integer)",
               where);
    return false;
}

/* Percent-decodes a URI fragment; false on a bad %XX. */
static bool js_percent_decode(const char *in, char *out)
{
    size_t o = 0;
    for (size_t i = 0; in[i]; i++) {
        if (in[i] != '%') {
            out[o++] = in[i];
            continue;
        }
        unsigned v = 0;
        for (int d = 1; d <= 2; d++) {
            char c = in[i + (size_t)d];
            unsigned x = c >= '0' && c <= '9' ? (unsigned)(c - '0')
                         : c >= 'a' && c <= 'f' ? (unsigned)(c - 'a' + 10)
                         : c >= 'A' && c <= 'F' ? (unsigned)(c - 'A' + 10)
                                                : 16u;
            if (x == 16)
                return false;
            v = v * 16 + x;
        }
        if (v == 0)
            return false;
        out[o++] = (char)v;
        i += 2;
    }
    out[o] = '\0';
    return true;
}

/* Resolves a local reference "#", "#/a/b~1c/0" against root; NULL when it does not resolve. */
static const cJSON *js_resolve(const cJSON *root, const char *ref)
{
    if (ref[0] != '#')
        return NULL;
    char *frag = fe_xstrdup(ref + 1);
    const cJSON *at = root;
    if (!js_percent_decode(ref + 1, frag) || (frag[0] && frag[0] != '/')) {
        free(frag);
        return NULL;
    }
    char *tok = frag[0] ? frag + 1 : NULL;
    while (tok && at) {
        char *slash = strchr(tok, '/');
        if (slash)
            *slash = '\0';
        /* unescape ~1 -> '/', ~0 -> '~' in place; any other '~' is invalid */
        size_t o = 0;
        bool ok = true;
        for (size_t i = 0; tok[i]; i++) {
            if (tok[i] == '~') {
                if (tok[i + 1] != '0' && tok[i + 1] != '1') {
                    ok = false;
                    break;
                }
                tok[o++] = tok[i + 1] == '0' ? '~' : '/';
                i++;
            } else {
                tok[o++] = tok[i];
            }
        }
        tok[o] = '\0';
        if (!ok) {
            at = NULL;
        } else if (cJSON_IsObject(at)) {
            at = cJSON_GetObjectItemCaseSensitive(at, tok);
        } else if (cJSON_IsArray(at)) {
            long idx;
            bool digits = tok[0] && strspn(tok, "0123456789") == strlen(tok) && (tok[0] != '0' || !tok[1]);
            at = digits && fe_parse_long(tok, &idx) && idx < cJSON_GetArraySize(at)
                     ? cJSON_GetArrayItem(at, (int)idx)
                     : NULL;
        } else {
            at = NULL;
        }
        tok = slash ? slash + 1 : NULL;
    }
    free(frag);
    return at;
}

static const char *const fe_js_annotations[] = {
    "title", "description", "default", "examples", "deprecated", "readOnly", "writeOnly", "$comment",
};

/* One row per schema keyword: its handler checks the value and fills the struct fe_js member at
 * offset field (and, for the numeric bounds, the flag at offset has). */
struct fe_js_keyword {
    const char *name;
    bool (*fn)(struct fe_js_ctx *k, struct fe_js *s, const cJSON *v, const char *where,
               const struct fe_js_keyword *row);
    size_t field, has;
};

/* The member of s that row describes. */
static void *js_field(struct fe_js *s, size_t offset)
{
    return (char *)s + offset;
}

static bool js_kw_schema(struct fe_js_ctx *k, struct fe_js *s, const cJSON *v, const char *where,
                         const struct fe_js_keyword *row)
{
    (void)s;
    (void)row;
    /* Other drafts mean other things by the same keywords (draft 7 ignores the siblings of
     * $ref, draft 2019-09 takes an array for items): refuse them rather than reinterpret. */
    if (!cJSON_IsString(v) || (strcmp(v->valuestring, "https://json-schema.org/draft/2020-12/schema") != 0 &&
                               strcmp(v->valuestring, "https://json-schema.org/draft/2020-12/schema#") != 0)) {
        fe_err_set(k->err, FE_EINVALID,
                   "%s: '$schema' must be \"https://json-schema.org/draft/2020-12/schema\" or absent: "
                   "fteval validates draft 2020-12 only",
                   where);
        return false;
    }
    return true;
}

static bool js_kw_id(struct fe_js_ctx *k, struct fe_js *s, const cJSON *v, const char *where,
                     const struct fe_js_keyword *row)
{
    (void)row;
    if (v->child || s->src != k->s->root || !cJSON_IsString(v)) {
        fe_err_set(k->err, FE_EINVALID,
                   "%s: unsupported keyword '$id' below the root (only local $ref are resolved)", where);
        return false;
    }
    return true;
}

static bool js_kw_type(struct fe_js_ctx *k, struct fe_js *s, const cJSON *v, const char *where,
                       const struct fe_js_keyword *row)
{
    (void)row;
    return js_type(k, s, v, where);
}

static bool js_kw_properties(struct fe_js_ctx *k, struct fe_js *s, const cJSON *v, const char *where,
                             const struct fe_js_keyword *row)
{
    return js_map(k, v, where, row->name, &s->props, &s->n_props, false);
}

static bool js_kw_pattern_properties(struct fe_js_ctx *k, struct fe_js *s, const cJSON *v, const char *where,
                                     const struct fe_js_keyword *row)
{
    return js_map(k, v, where, row->name, &s->pprops, &s->n_pprops, true);
}

/* $defs and definitions: compiled for their errors, kept only as $ref targets. */
static bool js_kw_defs(struct fe_js_ctx *k, struct fe_js *s, const cJSON *v, const char *where,
                       const struct fe_js_keyword *row)
{
    (void)s;
    size_t n = 0;
    return js_map(k, v, where, row->name, NULL, &n, false);
}

/* additionalProperties, items, not: one subschema. */
static bool js_kw_sub(struct fe_js_ctx *k, struct fe_js *s, const cJSON *v, const char *where,
                      const struct fe_js_keyword *row)
{
    const char *key = row->name;
    if (!js_is_schema(v)) {
        fe_err_set(k->err, FE_EINVALID, "%s: '%s' must be a schema (an object or a boolean)%s", where,
                   key, strcmp(key, "items") == 0 ? "; for a tuple use prefixItems (2020-12)" : "");
        return false;
    }
    struct fe_js *sub = js_sub(k, v, where, key);
    *(struct fe_js **)js_field(s, row->field) = sub;
    return sub != NULL;
}

/* prefixItems, allOf, anyOf, oneOf. */
static bool js_kw_list(struct fe_js_ctx *k, struct fe_js *s, const cJSON *v, const char *where,
                       const struct fe_js_keyword *row)
{
    return js_list(k, v, where, row->name, js_field(s, row->field));
}

static bool js_kw_required(struct fe_js_ctx *k, struct fe_js *s, const cJSON *v, const char *where,
                           const struct fe_js_keyword *row)
{
    (void)row;
    bool ok = cJSON_IsArray(v);
    const cJSON *e;
    cJSON_ArrayForEach(e, v) {
        ok = ok && cJSON_IsString(e);
        for (const cJSON *f = v->child; ok && f != e; f = f->next)
            ok = strcmp(f->valuestring, e->valuestring) != 0;
    }
    if (!ok) {
        fe_err_set(k->err, FE_EINVALID, "%s: 'required' must be an array of distinct strings", where);
        return false;
    }
    s->n_required = (size_t)cJSON_GetArraySize(v);
    s->required = fe_xcalloc(s->n_required ? s->n_required : 1, sizeof(*s->required));
    size_t i = 0;
    cJSON_ArrayForEach(e, v)
        s->required[i++] = e->valuestring;
    return true;
}

static bool js_kw_enum(struct fe_js_ctx *k, struct fe_js *s, const cJSON *v, const char *where,
                       const struct fe_js_keyword *row)
{
    (void)row;
    if (!cJSON_IsArray(v)) {
        fe_err_set(k->err, FE_EINVALID, "%s: 'enum' must be an array", where);
        return false;
    }
    s->enum_values = v;
    return true;
}

static bool js_kw_const(struct fe_js_ctx *k, struct fe_js *s, const cJSON *v, const char *where,
                        const struct fe_js_keyword *row)
{
    (void)k;
    (void)where;
    (void)row;
    s->const_value = v;
    return true;
}

/* minimum, maximum, exclusiveMinimum, exclusiveMaximum. */
static bool js_kw_bound(struct fe_js_ctx *k, struct fe_js *s, const cJSON *v, const char *where,
                        const struct fe_js_keyword *row)
{
    return js_number(k, v, where, row->name, js_field(s, row->field), js_field(s, row->has));
}

static bool js_kw_multiple_of(struct fe_js_ctx *k, struct fe_js *s, const cJSON *v, const char *where,
                              const struct fe_js_keyword *row)
{
    if (!js_kw_bound(k, s, v, where, row))
        return false;
    if (!(s->mult > 0)) {
        fe_err_set(k->err, FE_EINVALID, "%s: 'multipleOf' must be greater than 0", where);
        return false;
    }
    return true;
}

/* minLength, maxLength, minItems, maxItems, minProperties, maxProperties. */
static bool js_kw_count(struct fe_js_ctx *k, struct fe_js *s, const cJSON *v, const char *where,
                        const struct fe_js_keyword *row)
{
    return js_count(k, v, where, row->name, js_field(s, row->field));
}

static bool js_kw_unique(struct fe_js_ctx *k, struct fe_js *s, const cJSON *v, const char *where,
                         const struct fe_js_keyword *row)
{
    (void)row;
    if (!cJSON_IsBool(v)) {
        fe_err_set(k->err, FE_EINVALID, "%s: 'uniqueItems' must be true or false", where);
        return false;
    }
    s->unique = cJSON_IsTrue(v);
    return true;
}

static bool js_kw_pattern(struct fe_js_ctx *k, struct fe_js *s, const cJSON *v, const char *where,
                          const struct fe_js_keyword *row)
{
    (void)row;
    if (!cJSON_IsString(v)) {
        fe_err_set(k->err, FE_EINVALID, "%s: 'pattern' must be a string", where);
        return false;
    }
    struct fe_err rerr = {0};
    s->pattern = fe_regex_compile(v->valuestring, FE_REGEX_ECMA, &rerr);
    if (!s->pattern)
        fe_err_set(k->err, FE_EINVALID, "%s: invalid pattern '%s': %s", where, v->valuestring, rerr.msg);
    return s->pattern != NULL;
}

static bool js_kw_ref(struct fe_js_ctx *k, struct fe_js *s, const cJSON *v, const char *where,
                      const struct fe_js_keyword *row)
{
    (void)row;
    if (!cJSON_IsString(v) || v->valuestring[0] != '#') {
        fe_err_set(k->err, FE_EINVALID,
                   "%s: '$ref' must be a local reference such as \"#/$defs/name\" (remote and "
                   "$id-relative references are not supported)",
                   where);
        return false;
    }
    const cJSON *target = js_resolve(k->s->root, v->valuestring);
    if (!target || !js_is_schema(target)) {
        fe_err_set(k->err, FE_EINVALID, "%s: '$ref' \"%s\" does not resolve to a schema", where,
                   v->valuestring);
        return false;
    }
    s->ref = js_compile(k, target, v->valuestring);
    return s->ref != NULL;
}

#define FE_JS_AT(member) .field = offsetof(struct fe_js, member)

static const struct fe_js_keyword fe_js_keywords[] = {
    {.name = "$schema", .fn = js_kw_schema},
    {.name = "$id", .fn = js_kw_id},
    {.name = "type", .fn = js_kw_type},
    {.name = "properties", .fn = js_kw_properties},
    {.name = "patternProperties", .fn = js_kw_pattern_properties},
    {.name = "$defs", .fn = js_kw_defs},
    {.name = "definitions", .fn = js_kw_defs},
    {.name = "additionalProperties", .fn = js_kw_sub, FE_JS_AT(additional)},
    {.name = "items", .fn = js_kw_sub, FE_JS_AT(items)},
    {.name = "not", .fn = js_kw_sub, FE_JS_AT(not_schema)},
    {.name = "prefixItems", .fn = js_kw_list, FE_JS_AT(prefix)},
    {.name = "allOf", .fn = js_kw_list, FE_JS_AT(all_of)},
    {.name = "anyOf", .fn = js_kw_list, FE_JS_AT(any_of)},
    {.name = "oneOf", .fn = js_kw_list, FE_JS_AT(one_of)},
    {.name = "required", .fn = js_kw_required},
    {.name = "enum", .fn = js_kw_enum},
    {.name = "const", .fn = js_kw_const},
    {.name = "minimum", .fn = js_kw_bound, FE_JS_AT(min), .has = offsetof(struct fe_js, has_min)},
    {.name = "maximum", .fn = js_kw_bound, FE_JS_AT(max), .has = offsetof(struct fe_js, has_max)},
    {.name = "exclusiveMinimum", .fn = js_kw_bound, FE_JS_AT(xmin), .has = offsetof(struct fe_js, has_xmin)},
    {.name = "exclusiveMaximum", .fn = js_kw_bound, FE_JS_AT(xmax), .has = offsetof(struct fe_js, has_xmax)},
    {.name = "multipleOf", .fn = js_kw_multiple_of, FE_JS_AT(mult), .has = offsetof(struct fe_js, has_mult)},
    {.name = "minLength", .fn = js_kw_count, FE_JS_AT(min_len)},
    {.name = "maxLength", .fn = js_kw_count, FE_JS_AT(max_len)},
    {.name = "minItems", .fn = js_kw_count, FE_JS_AT(min_items)},
    {.name = "maxItems", .fn = js_kw_count, FE_JS_AT(max_items)},
    {.name = "minProperties", .fn = js_kw_count, FE_JS_AT(min_props)},
    {.name = "maxProperties", .fn = js_kw_count, FE_JS_AT(max_props)},
    {.name = "uniqueItems", .fn = js_kw_unique},
    {.name = "pattern", .fn = js_kw_pattern},
    {.name = "$ref", .fn = js_kw_ref},
};

#undef FE_JS_AT

static bool js_keyword(struct fe_js_ctx *k, struct fe_js *s, const cJSON *v, const char *where)
{
    const char *key = v->string;
    for (size_t i = 0; i < FE_ARRAY_LEN(fe_js_annotations); i++)
        if (strcmp(key, fe_js_annotations[i]) == 0)
            return true;
    for (size_t i = 0; i < FE_ARRAY_LEN(fe_js_keywords); i++)
        if (strcmp(key, fe_js_keywords[i].name) == 0)
            return fe_js_keywords[i].fn(k, s, v, where, &fe_js_keywords[i]);
    bool wrapper = s->src == k->s->root && cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(s->src, "schema")) &&
                   (strcmp(key, "name") == 0 || strcmp(key, "strict") == 0 || strcmp(key, "schema") == 0);
    fe_err_set(k->err, FE_EINVALID, "%s: unsupported keyword '%s'%s", where, key,
               wrapper ? " (this looks like OpenAI's response_format json_schema object: give its "
                         "\"schema\" member)"
                       : "");
    return false;
}

static struct fe_js *js_compile(struct fe_js_ctx *k, const cJSON *node, const char *where)
{
    struct fe_jsonschema *sc = k->s;
    for (size_t i = 0; i < sc->n_all; i++)
        if (sc->all[i]->src == node)
            return sc->all[i];
    if (!js_is_schema(node)) {
        fe_err_set(k->err, FE_EINVALID, "%s: a schema must be an object or a boolean", where);
        return NULL;
    }
    struct fe_js *s = fe_xcalloc(1, sizeof(*s));
    s->src = node;
    s->where = fe_xstrdup(where);
    s->min_len = s->max_len = s->min_items = s->max_items = s->min_props = s->max_props = -1;
    sc->all = fe_xreallocarray(sc->all, sc->n_all + 1, sizeof(*sc->all));
    sc->all[sc->n_all++] = s;
    if (cJSON_IsBool(node)) {
        s->is_bool = true;
        s->bool_value = cJSON_IsTrue(node);
        return s;
    }
    for (const cJSON *v = node->child; v; v = v->next) {
        for (const cJSON *w = node->child; w != v; w = w->next)
            if (strcmp(w->string, v->string) == 0) {
                fe_err_set(k->err, FE_EINVALID, "%s: duplicate keyword '%s'", where, v->string);
                return NULL;
            }
        if (!js_keyword(k, s, v, where))
            return NULL;
    }
    return s;
}

/* Depth-first search over the edges that do not consume the instance ($ref and the in-place
 * applicators): reaching a schema already on the path is a loop. */
static bool js_loop_check(struct fe_js_ctx *k, struct fe_js *s)
{
    if (s->mark == 2)
        return true;
    if (s->mark == 1) {
        fe_err_set(k->err, FE_EINVALID, "%s: $ref loop: the schema refers back to itself without "
                                        "descending into the instance", s->where);
        return false;
    }
    s->mark = 1;
    bool ok = !s->ref || js_loop_check(k, s->ref);
    ok = ok && (!s->not_schema || js_loop_check(k, s->not_schema));
    const struct fe_js_list *lists[] = {&s->all_of, &s->any_of, &s->one_of};
    for (size_t l = 0; ok && l < FE_ARRAY_LEN(lists); l++)
        for (size_t i = 0; ok && i < lists[l]->n; i++)
            ok = js_loop_check(k, lists[l]->v[i]);
    s->mark = 2;
    return ok;
}

struct fe_jsonschema *fe_jsonschema_compile(const cJSON *schema, struct fe_err *err)
{
    struct fe_jsonschema *s = fe_xcalloc(1, sizeof(*s));
    s->root = cJSON_Duplicate(schema, true);
    if (!s->root) {
        fe_err_set(err, FE_EINVALID, "#: a schema must be an object or a boolean");
        fe_jsonschema_free(s);
        return NULL;
    }
    struct fe_js_ctx k = {s, err};
    s->top = js_compile(&k, s->root, "#");
    bool ok = s->top != NULL;
    for (size_t i = 0; ok && i < s->n_all; i++)
        ok = js_loop_check(&k, s->all[i]);
    if (!ok) {
        fe_jsonschema_free(s);
        return NULL;
    }
    return s;
}

void fe_jsonschema_free(struct fe_jsonschema *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->n_all; i++) {
        struct fe_js *n = s->all[i];
        free(n->where);
        free(n->props);
        for (size_t j = 0; j < n->n_pprops; j++)
            fe_regex_free(n->pprops[j].re);
        free(n->pprops);
        free(n->prefix.v);
        free(n->all_of.v);
        free(n->any_of.v);
        free(n->one_of.v);
        free(n->required);
        fe_regex_free(n->pattern);
        free(n);
    }
    free(s->all);
    cJSON_Delete(s->root);
    free(s);
}

bool fe_json_equal(const cJSON *a, const cJSON *b)
{
    if (!a || !b)
        return a == b;
    if (cJSON_IsBool(a) || cJSON_IsBool(b))
        return cJSON_IsBool(a) && cJSON_IsBool(b) && cJSON_IsTrue(a) == cJSON_IsTrue(b);
    if (cJSON_IsNull(a) || cJSON_IsNull(b))
        return cJSON_IsNull(a) && cJSON_IsNull(b);
    if (cJSON_IsNumber(a) || cJSON_IsNumber(b))
        return cJSON_IsNumber(a) && cJSON_IsNumber(b) && a->valuedouble == b->valuedouble;
    if (cJSON_IsString(a) || cJSON_IsString(b))
        return cJSON_IsString(a) && cJSON_IsString(b) && strcmp(a->valuestring, b->valuestring) == 0;
    if (cJSON_IsArray(a) || cJSON_IsArray(b)) {
        if (!cJSON_IsArray(a) || !cJSON_IsArray(b))
            return false;
        const cJSON *x = a->child, *y = b->child;
        for (; x && y; x = x->next, y = y->next)
            if (!fe_json_equal(x, y))
                return false;
        return !x && !y;
    }
    if (!cJSON_IsObject(a) || !cJSON_IsObject(b) || cJSON_GetArraySize(a) != cJSON_GetArraySize(b))
        return false;
    for (const cJSON *x = a->child; x; x = x->next)
        if (!fe_json_equal(x, cJSON_GetObjectItemCaseSensitive(b, x->string)))
            return false;
    return true;
}

static unsigned js_type_of(const cJSON *x)
{
    if (cJSON_IsNull(x))
        return FE_JS_NULL;
    if (cJSON_IsBool(x))
        return FE_JS_BOOLEAN;
    if (cJSON_IsObject(x))
        return FE_JS_OBJECT;
    if (cJSON_IsArray(x))
        return FE_JS_ARRAY;
    if (cJSON_IsString(x))
        return FE_JS_STRING;
    if (cJSON_IsNumber(x)) {
        double v = x->valuedouble;
        return FE_JS_NUMBER | (isfinite(v) && floor(v) == v ? FE_JS_INTEGER : 0u);
    }
    return 0;
}

/* Code points of UTF-8 text (a byte that starts no valid sequence counts as one). */
static double js_code_points(const char *s)
{
    size_t len = strlen(s), n = 0;
    for (size_t i = 0, adv; i < len; i += adv, n++)
        fe_utf8_decode((const unsigned char *)s + i, len - i, &adv);
    return (double)n;
}

/* multipleOf as Python's jsonschema computes it for floats: the quotient is a whole number. */
static bool js_multiple(double x, double m)
{
    double q = x / m;
    if (!isfinite(q))
        return fmod(x, m) == 0;
    return floor(q) == q;
}

static bool js_valid(const struct fe_js *s, const cJSON *x);

static bool js_valid_object(const struct fe_js *s, const cJSON *x)
{
    for (size_t i = 0; i < s->n_required; i++)
        if (!cJSON_GetObjectItemCaseSensitive(x, s->required[i]))
            return false;
    if (s->min_props >= 0 || s->max_props >= 0) {
        double n = (double)cJSON_GetArraySize(x);
        if ((s->min_props >= 0 && n < s->min_props) || (s->max_props >= 0 && n > s->max_props))
            return false;
    }
    if (!s->n_props && !s->n_pprops && !s->additional)
        return true;
    for (const cJSON *m = x->child; m; m = m->next) {
        bool matched = false;
        for (size_t i = 0; i < s->n_props; i++)
            if (strcmp(s->props[i].name, m->string) == 0) {
                matched = true;
                if (!js_valid(s->props[i].schema, m))
                    return false;
            }
        for (size_t i = 0; i < s->n_pprops; i++) {
            int r = fe_regex_match(s->pprops[i].re, m->string, strlen(m->string), false);
            if (r < 0)
                return false;
            if (r == 1) {
                matched = true;
                if (!js_valid(s->pprops[i].schema, m))
                    return false;
            }
        }
        if (!matched && s->additional && !js_valid(s->additional, m))
            return false;
    }
    return true;
}

static bool js_valid_array(const struct fe_js *s, const cJSON *x)
{
    double n = (double)cJSON_GetArraySize(x);
    if ((s->min_items >= 0 && n < s->min_items) || (s->max_items >= 0 && n > s->max_items))
        return false;
    if (s->unique)
        for (const cJSON *a = x->child; a; a = a->next)
            for (const cJSON *b = a->next; b; b = b->next)
                if (fe_json_equal(a, b))
                    return false;
    size_t i = 0;
    for (const cJSON *e = x->child; e; e = e->next, i++) {
        const struct fe_js *sub = i < s->prefix.n ? s->prefix.v[i] : s->items;
        if (sub && !js_valid(sub, e))
            return false;
    }
    return true;
}

/* const and enum. */
static bool js_valid_value(const struct fe_js *s, const cJSON *x)
{
    if (s->const_value && !fe_json_equal(s->const_value, x))
        return false;
    if (s->enum_values) {
        bool found = false;
        for (const cJSON *e = s->enum_values->child; e && !found; e = e->next)
            found = fe_json_equal(e, x);
        if (!found)
            return false;
    }
    return true;
}

static bool js_valid_number(const struct fe_js *s, double v)
{
    return !((s->has_min && !(v >= s->min)) || (s->has_max && !(v <= s->max)) ||
             (s->has_xmin && !(v > s->xmin)) || (s->has_xmax && !(v < s->xmax)) ||
             (s->has_mult && !js_multiple(v, s->mult)));
}

static bool js_valid_string(const struct fe_js *s, const cJSON *x)
{
    if (s->min_len >= 0 || s->max_len >= 0) {
        double n = js_code_points(x->valuestring);
        if ((s->min_len >= 0 && n < s->min_len) || (s->max_len >= 0 && n > s->max_len))
            return false;
    }
    if (s->pattern && fe_regex_match(s->pattern, x->valuestring, strlen(x->valuestring), false) != 1)
        return false;
    return true;
}

/* allOf, anyOf, oneOf, not. */
static bool js_valid_combinators(const struct fe_js *s, const cJSON *x)
{
    for (size_t i = 0; i < s->all_of.n; i++)
        if (!js_valid(s->all_of.v[i], x))
            return false;
    if (s->any_of.n) {
        bool any = false;
        for (size_t i = 0; i < s->any_of.n && !any; i++)
            any = js_valid(s->any_of.v[i], x);
        if (!any)
            return false;
    }
    if (s->one_of.n) {
        size_t hits = 0;
        for (size_t i = 0; i < s->one_of.n && hits < 2; i++)
            hits += js_valid(s->one_of.v[i], x);
        if (hits != 1)
            return false;
    }
    if (s->not_schema && js_valid(s->not_schema, x))
        return false;
    return true;
}

static bool js_valid(const struct fe_js *s, const cJSON *x)
{
    if (s->is_bool)
        return s->bool_value;
    unsigned t = js_type_of(x);
    if (s->types && !(s->types & t))
        return false;
    if (s->ref && !js_valid(s->ref, x))
        return false;
    if (!js_valid_value(s, x))
        return false;
    bool ok = true;
    if (t & FE_JS_NUMBER)
        ok = js_valid_number(s, x->valuedouble);
    else if (t == FE_JS_STRING)
        ok = js_valid_string(s, x);
    else if (t == FE_JS_ARRAY)
        ok = js_valid_array(s, x);
    else if (t == FE_JS_OBJECT)
        ok = js_valid_object(s, x);
    return ok && js_valid_combinators(s, x);
}

bool fe_jsonschema_valid(const struct fe_jsonschema *s, const cJSON *instance)
{
    return instance && js_valid(s->top, instance);
}
