/* extract.c — JSON-object extraction metrics; see extract.h. */
#include "metrics/extract.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness/base/util.h"
#include "metrics/squad.h"
#include "metrics/unicode.h"

struct fe_kv {
    const char *key; /* borrowed from the cJSON tree */
    char *val;       /* normalised, owned */
};

struct fe_kvs {
    struct fe_kv *v;
    size_t n, cap;
};

static bool is_ws(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

/* RFC 8259 grammar, checked before cJSON parses: cJSON also accepts leading zeros ("01"),
 * "1." and "-.5", and raw control characters inside strings, none of which is JSON. Bytes
 * inside strings are not checked for UTF-8 (inputs are checked where they enter fteval; a
 * stray byte in a value is scored, not rejected). Depth is capped like cJSON's nesting limit. */
struct fe_jscan {
    const char *p, *end;
    int depth;
};

static void js_ws(struct fe_jscan *s)
{
    while (s->p < s->end && (*s->p == ' ' || *s->p == '\t' || *s->p == '\n' || *s->p == '\r'))
        s->p++;
}

static bool js_digits(struct fe_jscan *s)
{
    const char *start = s->p;
    while (s->p < s->end && *s->p >= '0' && *s->p <= '9')
        s->p++;
    return s->p > start;
}

static bool js_hex4(struct fe_jscan *s)
{
    for (int i = 0; i < 4; i++, s->p++)
        if (s->p >= s->end || !strchr("0123456789abcdefABCDEF", *s->p) || !*s->p)
            return false;
    return true;
}

static bool js_string(struct fe_jscan *s)
{
    s->p++; /* opening quote */
    while (s->p < s->end) {
        unsigned char c = (unsigned char)*s->p;
        if (c == '"') {
            s->p++;
            return true;
        }
        if (c < 0x20)
            return false;
        if (c == '\\') {
            s->p++;
            if (s->p >= s->end)
                return false;
            char e = *s->p++;
            if (e == 'u') {
                if (!js_hex4(s))
                    return false;
            } else if (!e || !strchr("\"\\/bfnrt", e)) {
                return false;
            }
        } else {
            s->p++;
        }
    }
    return false;
}

static bool js_number(struct fe_jscan *s)
{
    if (*s->p == '-')
        s->p++;
    if (s->p < s->end && *s->p == '0')
        s->p++;
    else if (!js_digits(s))
        return false;
    if (s->p < s->end && *s->p == '.') {
        s->p++;
        if (!js_digits(s))
            return false;
    }
    if (s->p < s->end && (*s->p == 'e' || *s->p == 'E')) {
        s->p++;
        if (s->p < s->end && (*s->p == '+' || *s->p == '-'))
            s->p++;
        if (!js_digits(s))
            return false;
    }
    return true;
}

static bool js_literal(struct fe_jscan *s, const char *word)
{
    size_t n = strlen(word);
    if ((size_t)(s->end - s->p) < n || memcmp(s->p, word, n) != 0)
        return false;
    s->p += n;
    return true;
}

static bool js_value(struct fe_jscan *s)
{
    js_ws(s);
    if (s->p >= s->end)
        return false;
    char c = *s->p;
    if (c == '"')
        return js_string(s);
    if (c == '-' || (c >= '0' && c <= '9'))
        return js_number(s);
    if (c == 't')
        return js_literal(s, "true");
    if (c == 'f')
        return js_literal(s, "false");
    if (c == 'n')
        return js_literal(s, "null");
    if (c != '{' && c != '[')
        return false;
    if (++s->depth > CJSON_NESTING_LIMIT)
        return false;
    char close = c == '{' ? '}' : ']';
    s->p++;
    js_ws(s);
    if (s->p < s->end && *s->p == close) {
        s->p++;
        s->depth--;
        return true;
    }
    for (;;) {
        if (close == '}') {
            js_ws(s);
            if (s->p >= s->end || *s->p != '"' || !js_string(s))
                return false;
            js_ws(s);
            if (s->p >= s->end || *s->p != ':')
                return false;
            s->p++;
        }
        if (!js_value(s))
            return false;
        js_ws(s);
        if (s->p >= s->end)
            return false;
        if (*s->p == close) {
            s->p++;
            s->depth--;
            return true;
        }
        if (*s->p != ',')
            return false;
        s->p++;
    }
}

bool fe_json_text_valid(const char *text, size_t len)
{
    if (memchr(text, '\0', len))
        return false;
    struct fe_jscan s = {text, text + len, 0};
    if (!js_value(&s))
        return false;
    js_ws(&s);
    return s.p == s.end;
}

cJSON *fe_extract_parse_json(const char *prediction)
{
    if (!prediction)
        return NULL;
    size_t len;
    const char *s = fe_uc_strip(prediction, &len);
    const char *end = s + len;
    /* Unwrap the first Markdown fence: ```lang? ... ``` (closing fence optional). */
    const char *fence = NULL;
    for (const char *p = s; p + 3 <= end; p++) {
        if (p[0] == '`' && p[1] == '`' && p[2] == '`') {
            fence = p;
            break;
        }
    }
    if (fence) {
        const char *b = fence + 3;
        while (b < end && (*b == '`'))
            b++;
        while (b < end && !is_ws(*b) && *b != '{' && *b != '[')
            b++; /* info string such as "json" */
        const char *e = b;
        while (e + 3 <= end && !(e[0] == '`' && e[1] == '`' && e[2] == '`'))
            e++;
        if (e + 3 > end)
            e = end;
        s = b;
        end = e;
    }
    while (s < end && is_ws(*s))
        s++;
    while (end > s && is_ws(end[-1]))
        end--;
    if (s == end || !fe_json_text_valid(s, (size_t)(end - s)))
        return NULL;
    return cJSON_ParseWithLength(s, (size_t)(end - s));
}

cJSON *fe_extract_parse(const char *prediction)
{
    cJSON *j = fe_extract_parse_json(prediction);
    if (j && !cJSON_IsObject(j)) {
        cJSON_Delete(j);
        return NULL;
    }
    return j;
}

static void kvs_add(struct fe_kvs *kv, const char *key, const char *raw)
{
    char *norm = fe_squad_normalize(raw);
    if (!*norm) {
        free(norm);
        return;
    }
    if (kv->n == kv->cap) {
        kv->cap = kv->cap ? 2 * kv->cap : 8;
        kv->v = fe_xreallocarray(kv->v, kv->cap, sizeof(*kv->v));
    }
    kv->v[kv->n].key = key;
    kv->v[kv->n].val = norm;
    kv->n++;
}

/* Adds the pair(s) of one value: strings, numbers as shortest round-trip text, booleans,
 * nested containers as compact JSON; null adds nothing. */
static void kvs_add_value(struct fe_kvs *kv, const char *key, const cJSON *v)
{
    if (cJSON_IsString(v)) {
        kvs_add(kv, key, v->valuestring);
    } else if (cJSON_IsNumber(v)) {
        char num[64];
        (void)snprintf(num, sizeof(num), "%.15g", v->valuedouble);
        if (strtod(num, NULL) != v->valuedouble)
            (void)snprintf(num, sizeof(num), "%.17g", v->valuedouble);
        kvs_add(kv, key, num);
    } else if (cJSON_IsBool(v)) {
        kvs_add(kv, key, cJSON_IsTrue(v) ? "true" : "false");
    } else if (cJSON_IsObject(v) || cJSON_IsArray(v)) {
        char *text = cJSON_PrintUnformatted(v);
        if (text)
            kvs_add(kv, key, text);
        cJSON_free(text);
    }
}

static int kv_cmp(const void *a, const void *b)
{
    const struct fe_kv *x = a, *y = b;
    int c = strcmp(x->key, y->key);
    return c ? c : strcmp(x->val, y->val);
}

/* Collects the sorted pair multiset of an object; false when obj is not an object. */
static bool collect(const cJSON *obj, struct fe_kvs *kv)
{
    memset(kv, 0, sizeof(*kv));
    if (!cJSON_IsObject(obj))
        return false;
    const cJSON *m;
    cJSON_ArrayForEach(m, obj)
    {
        const char *key = m->string ? m->string : "";
        if (cJSON_IsArray(m)) {
            const cJSON *e;
            cJSON_ArrayForEach(e, m) kvs_add_value(kv, key, e);
        } else {
            kvs_add_value(kv, key, m);
        }
    }
    if (kv->n > 1)
        qsort(kv->v, kv->n, sizeof(*kv->v), kv_cmp);
    return true;
}

static void kvs_release(struct fe_kvs *kv)
{
    for (size_t i = 0; i < kv->n; i++)
        free(kv->v[i].val);
    free(kv->v);
    memset(kv, 0, sizeof(*kv));
}

static size_t overlap(const struct fe_kvs *a, const struct fe_kvs *b)
{
    size_t i = 0, j = 0, c = 0;
    while (i < a->n && j < b->n) {
        int r = kv_cmp(&a->v[i], &b->v[j]);
        if (r == 0)
            c++, i++, j++;
        else if (r < 0)
            i++;
        else
            j++;
    }
    return c;
}

double fe_extract_json_exact(const cJSON *prediction, const cJSON *gold)
{
    struct fe_kvs p, g;
    bool ok_p = collect(prediction, &p); /* both always run: each initialises its list */
    bool ok = collect(gold, &g) && ok_p;
    double v = ok && p.n == g.n && overlap(&p, &g) == p.n ? 1.0 : 0.0;
    kvs_release(&p);
    kvs_release(&g);
    return v;
}

double fe_extract_field_f1(const cJSON *prediction, const cJSON *gold)
{
    struct fe_kvs p, g;
    bool ok_p = collect(prediction, &p); /* both always run: each initialises its list */
    bool ok = collect(gold, &g) && ok_p;
    double v = 0.0;
    if (ok) {
        size_t c = overlap(&p, &g);
        if (p.n == 0 || g.n == 0) {
            v = p.n == g.n ? 1.0 : 0.0;
        } else if (c > 0) {
            double precision = (double)c / (double)p.n, recall = (double)c / (double)g.n;
            v = (2 * precision * recall) / (precision + recall);
        }
    }
    kvs_release(&p);
    kvs_release(&g);
    return v;
}
