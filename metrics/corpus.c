/* corpus.c — corpus-level metrics: label and entity contributions, the metric from summed
 * counts, and the per-class / confusion description. See corpus.h. Owner: metrics (issue 13). */
#include "metrics/corpus.h"

#include <stdlib.h>
#include <string.h>

#include "harness/base/jsonout.h"
#include "harness/base/strmap.h"
#include "harness/base/util.h"
#include "metrics/extract.h"
#include "metrics/unicode.h"

/* ---- labels ---- */

void fe_corpus_label_pair(const char *prediction, const char *const *golds, size_t n_golds,
                          const char **pred_out, size_t *pred_len, const char **gold_out)
{
    size_t len;
    const char *p = fe_uc_strip(prediction ? prediction : "", &len);
    *pred_out = p;
    *pred_len = len;
    *gold_out = n_golds > 0 && golds && golds[0] ? golds[0] : "";
    for (size_t i = 0; i < n_golds && golds; i++) {
        const char *g = golds[i] ? golds[i] : "";
        if (strlen(g) == len && memcmp(g, p, len) == 0) {
            *gold_out = g;
            return;
        }
    }
}

/* ---- entities ---- */

struct fe_ent {
    const char *type;    /* borrowed */
    const char *surface; /* borrowed, or NULL */
    long start, end;     /* -1: not a span (unaligned surface) */
};

struct fe_ents {
    struct fe_ent *v;
    size_t n, cap;
};

static void ents_add(struct fe_ents *e, const char *type, const char *surface, long start, long end)
{
    if (e->n == e->cap) {
        e->cap = e->cap ? 2 * e->cap : 8;
        e->v = fe_xreallocarray(e->v, e->cap, sizeof(*e->v));
    }
    e->v[e->n++] = (struct fe_ent){type, surface, start, end};
}

/* A list item {"type", "start", "end"} (span) or {"type", "text"} (surface). */
static void ents_from_list(struct fe_ents *e, const cJSON *list)
{
    const cJSON *it;
    cJSON_ArrayForEach(it, list)
    {
        const char *type = fe_json_str(fe_json_get(it, "type"));
        if (!type)
            continue;
        double s, en;
        bool span = fe_json_num(fe_json_get(it, "start"), &s) &&
                    fe_json_num(fe_json_get(it, "end"), &en) && s >= 0 && en > s &&
                    s == (double)(long)s && en == (double)(long)en;
        const char *text = fe_json_str(fe_json_get(it, "text"));
        if (span)
            ents_add(e, type, text, (long)s, (long)en);
        else if (text)
            ents_add(e, type, text, -1, -1);
    }
}

/* {type: [surface...]} or {type: surface}: surfaces, unaligned. */
static void ents_from_object(struct fe_ents *e, const cJSON *obj)
{
    const cJSON *m;
    cJSON_ArrayForEach(m, obj)
    {
        if (!m->string)
            continue;
        if (cJSON_IsString(m)) {
            ents_add(e, m->string, m->valuestring, -1, -1);
        } else if (cJSON_IsArray(m)) {
            const cJSON *s;
            cJSON_ArrayForEach(s, m) if (cJSON_IsString(s)) ents_add(e, m->string, s->valuestring, -1, -1);
        }
    }
}

/* Does surface (tokens joined by one space) match tokens[i..]? Sets *len in tokens. */
static bool surface_at(const char *surface, const char *const *tok, size_t nt, size_t i, size_t *len)
{
    const char *p = surface;
    size_t k = 0;
    for (;;) {
        const char *sp = strchr(p, ' ');
        size_t plen = sp ? (size_t)(sp - p) : strlen(p);
        if (plen == 0 || i + k >= nt || strlen(tok[i + k]) != plen ||
            memcmp(tok[i + k], p, plen) != 0)
            return false;
        k++;
        if (!sp)
            break;
        p = sp + 1;
    }
    *len = k;
    return true;
}

static size_t surface_tokens(const char *s)
{
    size_t k = 1;
    for (; *s; s++)
        k += *s == ' ';
    return k;
}

struct fe_type_order {
    const char *type;
    size_t maxlen;
};

static int type_order_cmp(const void *pa, const void *pb)
{
    const struct fe_type_order *a = pa, *b = pb;
    if (a->maxlen != b->maxlen)
        return a->maxlen > b->maxlen ? -1 : 1;
    return strcmp(a->type, b->type);
}

/* Aligns the unaligned surfaces of e to the tokens (corpus.h gives the rule). Spans already
 * given claim their tokens first. */
static void ents_align(struct fe_ents *e, const char *const *tok, size_t nt)
{
    bool *claimed = fe_xcalloc(nt ? nt : 1, sizeof(bool));
    for (size_t j = 0; j < e->n; j++)
        if (e->v[j].start >= 0)
            for (long k = e->v[j].start; k < e->v[j].end && (size_t)k < nt; k++)
                claimed[k] = true;
    struct fe_type_order *ord = fe_xcalloc(e->n ? e->n : 1, sizeof(*ord));
    size_t no = 0;
    for (size_t j = 0; j < e->n; j++) {
        if (e->v[j].start >= 0)
            continue;
        size_t len = surface_tokens(e->v[j].surface), t = 0;
        while (t < no && strcmp(ord[t].type, e->v[j].type) != 0)
            t++;
        if (t == no)
            ord[no++] = (struct fe_type_order){e->v[j].type, 0};
        if (len > ord[t].maxlen)
            ord[t].maxlen = len;
    }
    if (no > 1)
        qsort(ord, no, sizeof(*ord), type_order_cmp);
    for (size_t t = 0; t < no; t++) {
        size_t cur = 0;
        for (size_t j = 0; j < e->n; j++) {
            struct fe_ent *x = &e->v[j];
            if (x->start >= 0 || strcmp(x->type, ord[t].type) != 0)
                continue;
            for (size_t i = cur; i < nt; i++) {
                size_t len;
                if (!surface_at(x->surface, tok, nt, i, &len))
                    continue;
                bool free_span = true;
                for (size_t k = i; k < i + len && free_span; k++)
                    free_span = !claimed[k];
                if (!free_span)
                    continue;
                x->start = (long)i;
                x->end = (long)(i + len);
                for (size_t k = i; k < i + len; k++)
                    claimed[k] = true;
                cur = i + len;
                break;
            }
        }
    }
    free(ord);
    free(claimed);
}

static int ent_span_cmp(const void *pa, const void *pb)
{
    const struct fe_ent *a = pa, *b = pb;
    if (a->start != b->start)
        return a->start < b->start ? -1 : 1;
    if (a->end != b->end)
        return a->end < b->end ? -1 : 1;
    return strcmp(a->type, b->type);
}

static int ent_surface_cmp(const void *pa, const void *pb)
{
    const struct fe_ent *a = pa, *b = pb;
    int c = strcmp(a->type, b->type);
    return c ? c : strcmp(a->surface ? a->surface : "", b->surface ? b->surface : "");
}

/* Spans: a set (duplicates dropped; unaligned surfaces stay, each unmatched). */
static void ents_dedup_spans(struct fe_ents *e)
{
    if (e->n > 1)
        qsort(e->v, e->n, sizeof(*e->v), ent_span_cmp);
    size_t o = 0;
    for (size_t j = 0; j < e->n; j++)
        if (o == 0 || e->v[j].start < 0 || ent_span_cmp(&e->v[o - 1], &e->v[j]) != 0)
            e->v[o++] = e->v[j];
    e->n = o;
}

static long count_matches(const struct fe_ents *p, const struct fe_ents *g,
                          int (*cmp)(const void *, const void *), bool spans)
{
    size_t i = 0, j = 0;
    long c = 0;
    while (i < p->n && j < g->n) {
        if (spans && p->v[i].start < 0) {
            i++;
            continue;
        }
        if (spans && g->v[j].start < 0) {
            j++;
            continue;
        }
        int r = cmp(&p->v[i], &g->v[j]);
        if (r == 0)
            c++, i++, j++;
        else if (r < 0)
            i++;
        else
            j++;
    }
    return c;
}

struct fe_entity_counts fe_corpus_entity_counts(const char *prediction, const struct fe_gold *gold)
{
    struct fe_ents g = {0}, p = {0};
    const cJSON *row = gold ? gold->row : NULL;
    const cJSON *gent = fe_json_get(row, "entities");
    cJSON *owned_gold = NULL;
    const cJSON *gobj = gold ? gold->gold_json : NULL;
    if (!gobj && gold && gold->golds && gold->n_golds > 0 && gold->golds[0])
        gobj = owned_gold = cJSON_Parse(gold->golds[0]);
    if (cJSON_IsArray(gent))
        ents_from_list(&g, gent);
    else if (cJSON_IsObject(gobj))
        ents_from_object(&g, gobj);
    cJSON *pj = fe_extract_parse_json(prediction);
    const cJSON *plist = cJSON_IsArray(pj) ? pj : fe_json_get(pj, "entities");
    if (cJSON_IsArray(plist))
        ents_from_list(&p, plist);
    else if (cJSON_IsObject(pj))
        ents_from_object(&p, pj);

    const cJSON *tokens = fe_json_get(row, "tokens");
    size_t nt = cJSON_IsArray(tokens) ? (size_t)cJSON_GetArraySize(tokens) : 0;
    const char **tok = NULL;
    bool have_tokens = nt > 0;
    if (have_tokens) {
        tok = fe_xcalloc(nt, sizeof(*tok));
        size_t k = 0;
        const cJSON *t;
        cJSON_ArrayForEach(t, tokens)
        {
            const char *s = fe_json_str(t);
            if (!s)
                have_tokens = false;
            tok[k++] = s ? s : "";
        }
    }
    bool g_spans = true, p_spans = true;
    for (size_t j = 0; j < g.n; j++)
        g_spans = g_spans && g.v[j].start >= 0;
    for (size_t j = 0; j < p.n; j++)
        p_spans = p_spans && p.v[j].start >= 0;
    struct fe_entity_counts c = {0, 0, 0};
    if (have_tokens || (g_spans && p_spans)) {
        if (have_tokens) {
            ents_align(&g, tok, nt);
            ents_align(&p, tok, nt);
        }
        ents_dedup_spans(&g);
        ents_dedup_spans(&p);
        c.tp = count_matches(&p, &g, ent_span_cmp, true);
    } else {
        if (g.n > 1)
            qsort(g.v, g.n, sizeof(*g.v), ent_surface_cmp);
        if (p.n > 1)
            qsort(p.v, p.n, sizeof(*p.v), ent_surface_cmp);
        c.tp = count_matches(&p, &g, ent_surface_cmp, false);
    }
    c.pred = (long)p.n;
    c.gold = (long)g.n;
    free(tok);
    free(g.v);
    free(p.v);
    cJSON_Delete(pj);
    cJSON_Delete(owned_gold);
    return c;
}

double fe_corpus_entity_example_f1(struct fe_entity_counts c)
{
    if (c.pred + c.gold == 0)
        return 1.0;
    return 2.0 * (double)c.tp / (double)(c.pred + c.gold);
}

/* ---- the paired contributions ---- */

void fe_corpus_init(struct fe_corpus *c, enum fe_corpus_kind kind, size_t n, size_t n_arms)
{
    memset(c, 0, sizeof(*c));
    c->kind = kind;
    c->n = n;
    c->n_arms = n_arms;
    size_t cells = (n ? n : 1) * (n_arms ? n_arms : 1);
    if (kind == FE_CORPUS_ENTITY_F1) {
        c->ent = fe_xcalloc(cells, sizeof(*c->ent));
    } else {
        c->gold = fe_xcalloc(cells, sizeof(*c->gold));
        c->pred = fe_xcalloc(cells, sizeof(*c->pred));
        struct fe_strmap *m = fe_xcalloc(1, sizeof(*m));
        fe_strmap_init(m);
        c->priv = m;
    }
}

static uint32_t label_id(struct fe_corpus *c, const char *s, size_t len)
{
    char *key = fe_xstrndup(s, len);
    size_t v;
    if (!fe_strmap_get(c->priv, key, &v)) {
        v = c->n_classes;
        fe_strmap_put(c->priv, key, v);
        c->classes = fe_xreallocarray(c->classes, c->n_classes + 1, sizeof(*c->classes));
        c->classes[c->n_classes++] = key;
        return (uint32_t)v;
    }
    free(key);
    return (uint32_t)v;
}

void fe_corpus_add_labels(struct fe_corpus *c, size_t a, size_t i, const char *pred,
                          size_t pred_len, const char *gold)
{
    c->pred[a * c->n + i] = label_id(c, pred, pred_len);
    c->gold[a * c->n + i] = label_id(c, gold, strlen(gold));
}

void fe_corpus_add_entities(struct fe_corpus *c, size_t a, size_t i, struct fe_entity_counts e)
{
    c->ent[a * c->n + i] = e;
}

static int str_ptr_cmp(const void *pa, const void *pb)
{
    return strcmp(*(char *const *)pa, *(char *const *)pb);
}

void fe_corpus_finish(struct fe_corpus *c)
{
    if (!c->priv)
        return;
    fe_strmap_release(c->priv);
    free(c->priv);
    c->priv = NULL;
    if (c->n_classes < 2)
        return;
    char **sorted = fe_xcalloc(c->n_classes, sizeof(*sorted));
    memcpy(sorted, c->classes, c->n_classes * sizeof(*sorted));
    qsort(sorted, c->n_classes, sizeof(*sorted), str_ptr_cmp);
    struct fe_strmap m;
    fe_strmap_init(&m);
    for (size_t k = 0; k < c->n_classes; k++)
        fe_strmap_put(&m, sorted[k], k);
    uint32_t *remap = fe_xcalloc(c->n_classes, sizeof(*remap));
    for (size_t k = 0; k < c->n_classes; k++) {
        size_t v = 0;
        fe_strmap_get(&m, c->classes[k], &v);
        remap[k] = (uint32_t)v;
    }
    fe_strmap_release(&m);
    for (size_t x = 0; x < c->n * c->n_arms; x++) {
        c->gold[x] = remap[c->gold[x]];
        c->pred[x] = remap[c->pred[x]];
    }
    free(remap);
    free(c->classes);
    c->classes = sorted;
}

void fe_corpus_release(struct fe_corpus *c)
{
    if (c->priv) {
        fe_strmap_release(c->priv);
        free(c->priv);
    }
    for (size_t k = 0; k < c->n_classes; k++)
        free(c->classes[k]);
    free(c->classes);
    free(c->gold);
    free(c->pred);
    free(c->ent);
    memset(c, 0, sizeof(*c));
}

/* ---- the metric from counts ---- */

double fe_corpus_value_counts(enum fe_corpus_kind kind, size_t n_classes, const uint32_t *tp,
                              const uint32_t *gcount, const uint32_t *pcount, const long ent[3])
{
    if (kind == FE_CORPUS_ENTITY_F1) {
        long den = ent[1] + ent[2];
        return den > 0 ? 2.0 * (double)ent[0] / (double)den : 0.0;
    }
    if (kind == FE_CORPUS_MICRO_F1) {
        /* one gold and one predicted label per example: pooled tp / (tp + fp) = tp / n, and
         * the same for recall, so micro P = R = F1 */
        double t = 0, n = 0;
        for (size_t k = 0; k < n_classes; k++) {
            t += tp[k];
            n += gcount[k];
        }
        return n > 0 ? t / n : 0.0;
    }
    double sum = 0;
    size_t used = 0;
    for (size_t k = 0; k < n_classes; k++) {
        uint32_t den = gcount[k] + pcount[k]; /* 2 tp + fp + fn */
        if (den == 0)
            continue; /* not in this multiset's union of labels */
        sum += 2.0 * tp[k] / den;
        used++;
    }
    return used ? sum / (double)used : 0.0;
}

double fe_corpus_value(const struct fe_corpus *c, size_t a)
{
    if (c->kind == FE_CORPUS_ENTITY_F1) {
        long e[3] = {0, 0, 0};
        for (size_t i = 0; i < c->n; i++) {
            const struct fe_entity_counts *x = &c->ent[a * c->n + i];
            e[0] += x->tp;
            e[1] += x->pred;
            e[2] += x->gold;
        }
        return fe_corpus_value_counts(c->kind, 0, NULL, NULL, NULL, e);
    }
    size_t K = c->n_classes ? c->n_classes : 1;
    uint32_t *cnt = fe_xcalloc(3 * K, sizeof(*cnt));
    for (size_t i = 0; i < c->n; i++) {
        uint32_t g = c->gold[a * c->n + i], p = c->pred[a * c->n + i];
        cnt[g] += g == p;
        cnt[K + g]++;
        cnt[2 * K + p]++;
    }
    double v = fe_corpus_value_counts(c->kind, c->n_classes, cnt, cnt + K, cnt + 2 * K, NULL);
    free(cnt);
    return v;
}

/* ---- description ---- */

static double ratio(double a, double b)
{
    return b > 0 ? a / b : 0.0;
}

struct fe_rank {
    size_t k;
    uint32_t g, p;
    const char *name;
};

static int rank_cmp(const void *pa, const void *pb)
{
    const struct fe_rank *a = pa, *b = pb;
    if (a->g != b->g)
        return a->g > b->g ? -1 : 1;
    if (a->p != b->p)
        return a->p > b->p ? -1 : 1;
    return strcmp(a->name, b->name);
}

static cJSON *describe_labels(const struct fe_corpus *c, size_t a, size_t max_labels)
{
    size_t K = c->n_classes ? c->n_classes : 1;
    uint32_t *tp = fe_xcalloc(K, sizeof(*tp)), *gc = fe_xcalloc(K, sizeof(*gc)),
             *pc = fe_xcalloc(K, sizeof(*pc));
    for (size_t i = 0; i < c->n; i++) {
        uint32_t g = c->gold[a * c->n + i], p = c->pred[a * c->n + i];
        tp[g] += g == p;
        gc[g]++;
        pc[p]++;
    }
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "convention",
                            "classes: union of gold and predicted labels of this arm; per class "
                            "P, R 0 when undefined (scikit-learn zero_division=0); macro: mean "
                            "F1 over the classes; micro: pooled counts (= accuracy)");
    size_t used = 0;
    for (size_t k = 0; k < c->n_classes; k++)
        used += gc[k] + pc[k] > 0;
    cJSON_AddNumberToObject(o, "n_classes", (double)used);
    cJSON_AddNumberToObject(o, "macro_f1",
                            fe_corpus_value_counts(FE_CORPUS_MACRO_F1, c->n_classes, tp, gc, pc, NULL));
    cJSON_AddNumberToObject(o, "micro_f1",
                            fe_corpus_value_counts(FE_CORPUS_MICRO_F1, c->n_classes, tp, gc, pc, NULL));
    cJSON *pcl = cJSON_AddArrayToObject(o, "per_class");
    struct fe_rank *rk = fe_xcalloc(K, sizeof(*rk));
    size_t nr = 0;
    for (size_t k = 0; k < c->n_classes; k++) {
        if (gc[k] + pc[k] == 0)
            continue;
        cJSON *e = cJSON_CreateObject();
        cJSON_AddItemToArray(pcl, e);
        cJSON_AddStringToObject(e, "label", c->classes[k]);
        cJSON_AddNumberToObject(e, "precision", ratio(tp[k], pc[k]));
        cJSON_AddNumberToObject(e, "recall", ratio(tp[k], gc[k]));
        cJSON_AddNumberToObject(e, "f1", 2.0 * tp[k] / (double)(gc[k] + pc[k]));
        cJSON_AddNumberToObject(e, "support", gc[k]);
        cJSON_AddNumberToObject(e, "predicted", pc[k]);
        rk[nr++] = (struct fe_rank){k, gc[k], pc[k], c->classes[k]};
    }
    /* confusion matrix over the shown labels (the most frequent); the rest pooled */
    qsort(rk, nr, sizeof(*rk), rank_cmp);
    size_t shown = nr <= max_labels ? nr : max_labels;
    bool other = shown < nr;
    /* shown labels back in name order, so the matrix reads like scikit-learn's */
    size_t *sel = fe_xcalloc(nr ? nr : 1, sizeof(*sel));
    for (size_t s = 0; s < shown; s++)
        sel[s] = rk[s].k;
    for (size_t s = 1; s < shown; s++)
        for (size_t t = s; t > 0 && sel[t - 1] > sel[t]; t--) {
            size_t x = sel[t];
            sel[t] = sel[t - 1];
            sel[t - 1] = x;
        }
    size_t dim = shown + (other ? 1 : 0);
    long *pos = fe_xcalloc(K, sizeof(*pos));
    for (size_t k = 0; k < K; k++)
        pos[k] = other ? (long)shown : -1;
    for (size_t s = 0; s < shown; s++)
        pos[sel[s]] = (long)s;
    double *mat = fe_xcalloc(dim ? dim * dim : 1, sizeof(*mat));
    for (size_t i = 0; i < c->n; i++) {
        long r = pos[c->gold[a * c->n + i]], q = pos[c->pred[a * c->n + i]];
        if (r >= 0 && q >= 0)
            mat[(size_t)r * dim + (size_t)q] += 1;
    }
    cJSON *conf = cJSON_AddObjectToObject(o, "confusion");
    cJSON *labels = cJSON_AddArrayToObject(conf, "labels");
    for (size_t s = 0; s < shown; s++)
        cJSON_AddItemToArray(labels, cJSON_CreateString(c->classes[sel[s]]));
    if (other)
        cJSON_AddItemToArray(labels, cJSON_CreateString("(other)"));
    cJSON *rows = cJSON_AddArrayToObject(conf, "matrix");
    for (size_t r = 0; r < dim; r++)
        cJSON_AddItemToArray(rows, cJSON_CreateDoubleArray(mat + r * dim, (int)dim));
    cJSON_AddStringToObject(conf, "axes", "rows: gold label; columns: predicted label");
    cJSON_AddNumberToObject(conf, "shown", (double)shown);
    cJSON_AddNumberToObject(conf, "total_classes", (double)nr);
    cJSON_AddBoolToObject(conf, "capped", other);
    if (other) {
        char *note = fe_xasprintf("%zu of %zu labels shown (the most frequent by gold support, "
                                  "then predictions); the other %zu are pooled as \"(other)\"",
                                  shown, nr, nr - shown);
        cJSON_AddStringToObject(conf, "note", note);
        free(note);
    }
    free(mat);
    free(pos);
    free(sel);
    free(rk);
    free(tp);
    free(gc);
    free(pc);
    return o;
}

cJSON *fe_corpus_describe(const struct fe_corpus *c, size_t a, size_t max_labels)
{
    if (c->kind != FE_CORPUS_ENTITY_F1)
        return describe_labels(c, a, max_labels);
    long e[3] = {0, 0, 0};
    for (size_t i = 0; i < c->n; i++) {
        const struct fe_entity_counts *x = &c->ent[a * c->n + i];
        e[0] += x->tp;
        e[1] += x->pred;
        e[2] += x->gold;
    }
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "convention",
                            "conlleval: exact span and type; micro over the corpus; P, R, F1 0 "
                            "when undefined");
    cJSON_AddNumberToObject(o, "tp", (double)e[0]);
    cJSON_AddNumberToObject(o, "pred", (double)e[1]);
    cJSON_AddNumberToObject(o, "gold", (double)e[2]);
    double P = ratio((double)e[0], (double)e[1]), R = ratio((double)e[0], (double)e[2]);
    cJSON_AddNumberToObject(o, "precision", P);
    cJSON_AddNumberToObject(o, "recall", R);
    cJSON_AddNumberToObject(o, "f1", fe_corpus_value_counts(c->kind, 0, NULL, NULL, NULL, e));
    return o;
}
