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

cJSON *fe_extract_parse_value(const char *prediction)
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
        while (b < end && !is_ws(*b) && *b != '{')
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
    if (s == end)
        return NULL;
    const char *parse_end = NULL;
    cJSON *j = cJSON_ParseWithLengthOpts(s, (size_t)(end - s), &parse_end, false);
    if (!j)
        return NULL;
    while (parse_end && parse_end < end && is_ws(*parse_end))
        parse_end++;
    if (!parse_end || parse_end != end) {
        cJSON_Delete(j);
        return NULL;
    }
    return j;
}

cJSON *fe_extract_parse(const char *prediction)
{
    cJSON *j = fe_extract_parse_value(prediction);
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
