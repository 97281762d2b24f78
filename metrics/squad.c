/* squad.c — SQuAD normalisation, EM and token F1; see squad.h and docs/metrics.md. */
#include "metrics/squad.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "harness/base/buf.h"
#include "harness/base/util.h"
#include "metrics/unicode.h"

/* A normalised string: the joined text plus the (offset, length) of each token in it. */
struct fe_norm {
    struct fe_buf text;
    size_t *off, *len;
    size_t n, cap;
};

struct fe_tok {
    const char *p;
    size_t len;
};

static void norm_release(struct fe_norm *nm)
{
    fe_buf_release(&nm->text);
    free(nm->off);
    free(nm->len);
    memset(nm, 0, sizeof(*nm));
}

static bool is_ascii_punct(uint32_t c)
{
    return (c >= 0x21 && c <= 0x2F) || (c >= 0x3A && c <= 0x40) || (c >= 0x5B && c <= 0x60) ||
           (c >= 0x7B && c <= 0x7E);
}

static bool is_article(const uint32_t *w, size_t n)
{
    return (n == 1 && w[0] == 'a') || (n == 2 && w[0] == 'a' && w[1] == 'n') ||
           (n == 3 && w[0] == 't' && w[1] == 'h' && w[2] == 'e');
}

static void norm_begin_token(struct fe_norm *nm)
{
    if (nm->n == nm->cap) {
        nm->cap = nm->cap ? nm->cap * 2 : 16;
        nm->off = fe_xreallocarray(nm->off, nm->cap, sizeof(*nm->off));
        nm->len = fe_xreallocarray(nm->len, nm->cap, sizeof(*nm->len));
    }
    if (nm->n > 0)
        fe_buf_addch(&nm->text, ' ');
    nm->off[nm->n] = nm->text.len;
}

static void norm_append(struct fe_norm *nm, bool *in_token, const uint32_t *cps, size_t n)
{
    if (!*in_token) {
        norm_begin_token(nm);
        *in_token = true;
    }
    for (size_t i = 0; i < n; i++) {
        unsigned char u[4];
        fe_buf_add(&nm->text, u, fe_utf8_encode(cps[i], u));
    }
}

static void norm_end_token(struct fe_norm *nm, bool *in_token)
{
    if (*in_token) {
        nm->len[nm->n] = nm->text.len - nm->off[nm->n];
        nm->n++;
        *in_token = false;
    }
}

/* The official pipeline over code points, in one linear pass after lowercasing:
 * lower -> delete ASCII punctuation -> whole \w-runs equal to a/an/the become separators ->
 * split on whitespace. re.sub(r'\b(a|an|the)\b', ' ') matches exactly the maximal \w-runs that
 * equal an article, so replacing such runs by a separator is equivalent. */
static void normalize_into(const char *s, struct fe_norm *nm)
{
    memset(nm, 0, sizeof(*nm));
    fe_buf_init(&nm->text, 0);
    fe_buf_add(&nm->text, "", 0);
    if (!s)
        return;
    size_t nbytes = strlen(s);
    if (nbytes == 0)
        return;
    enum { STACK_CPS = 256 };
    uint32_t stack_cps[STACK_CPS], stack_low[3 * STACK_CPS];
    uint32_t *cps = stack_cps, *low = stack_low;
    if (nbytes > STACK_CPS) {
        cps = fe_xreallocarray(NULL, nbytes, sizeof(*cps));
        low = fe_xreallocarray(NULL, nbytes, 3 * sizeof(*low));
    }
    const unsigned char *u = (const unsigned char *)s;
    size_t n = 0;
    for (size_t i = 0; i < nbytes;) {
        size_t adv;
        cps[n++] = fe_utf8_decode(u + i, nbytes - i, &adv);
        i += adv;
    }
    size_t m = fe_uc_lower(cps, n, low);
    size_t k = 0;
    for (size_t i = 0; i < m; i++)
        if (!is_ascii_punct(low[i]))
            low[k++] = low[i];
    m = k;

    bool in_token = false;
    for (size_t i = 0; i < m;) {
        unsigned f = fe_uc_flags(low[i]);
        if (f & FE_UCP_SPACE) {
            norm_end_token(nm, &in_token);
            i++;
        } else if (f & FE_UCP_WORD) {
            size_t j = i + 1;
            while (j < m && (fe_uc_flags(low[j]) & FE_UCP_WORD))
                j++;
            if (is_article(low + i, j - i))
                norm_end_token(nm, &in_token);
            else
                norm_append(nm, &in_token, low + i, j - i);
            i = j;
        } else {
            norm_append(nm, &in_token, low + i, 1);
            i++;
        }
    }
    norm_end_token(nm, &in_token);
    if (cps != stack_cps) {
        free(cps);
        free(low);
    }
}

char *fe_squad_normalize(const char *s)
{
    struct fe_norm nm;
    normalize_into(s, &nm);
    char *out = fe_buf_detach(&nm.text, NULL);
    norm_release(&nm);
    return out;
}

static int tok_cmp(const void *a, const void *b)
{
    const struct fe_tok *x = a, *y = b;
    size_t n = x->len < y->len ? x->len : y->len;
    int c = memcmp(x->p, y->p, n);
    if (c)
        return c;
    return x->len < y->len ? -1 : x->len > y->len;
}

static struct fe_tok *sorted_tokens(const struct fe_norm *nm)
{
    struct fe_tok *t = fe_xreallocarray(NULL, nm->n ? nm->n : 1, sizeof(*t));
    for (size_t i = 0; i < nm->n; i++) {
        t[i].p = nm->text.data + nm->off[i];
        t[i].len = nm->len[i];
    }
    qsort(t, nm->n, sizeof(*t), tok_cmp);
    return t;
}

/* v2.0 compute_f1 on two normalised token multisets; Python's float operations in order. */
static double f1_sorted(const struct fe_tok *p, size_t np, const struct fe_tok *g, size_t ng)
{
    if (np == 0 || ng == 0)
        return np == ng ? 1.0 : 0.0;
    size_t i = 0, j = 0, same = 0;
    while (i < np && j < ng) {
        int c = tok_cmp(&p[i], &g[j]);
        if (c == 0)
            same++, i++, j++;
        else if (c < 0)
            i++;
        else
            j++;
    }
    if (same == 0)
        return 0.0;
    double precision = 1.0 * (double)same / (double)np;
    double recall = 1.0 * (double)same / (double)ng;
    return (2 * precision * recall) / (precision + recall);
}

void fe_squad_score(const char *prediction, const char *const *golds, size_t n_golds, double *em,
                    double *f1)
{
    struct fe_norm pn;
    normalize_into(prediction, &pn);
    struct fe_tok *pt = f1 ? sorted_tokens(&pn) : NULL;
    double best_em = 0.0, best_f1 = 0.0;
    bool answerable = false;
    for (size_t i = 0; i < n_golds; i++) {
        struct fe_norm gn;
        normalize_into(golds[i], &gn);
        if (gn.n > 0) {
            answerable = true;
            if (strcmp(pn.text.data, gn.text.data) == 0)
                best_em = 1.0;
            if (f1 && best_f1 < 1.0) {
                struct fe_tok *gt = sorted_tokens(&gn);
                double v = f1_sorted(pt, pn.n, gt, gn.n);
                if (v > best_f1)
                    best_f1 = v;
                free(gt);
            }
        }
        norm_release(&gn);
    }
    if (!answerable)
        best_em = best_f1 = pn.n == 0 ? 1.0 : 0.0;
    if (em)
        *em = best_em;
    if (f1)
        *f1 = best_f1;
    free(pt);
    norm_release(&pn);
}

/* Whole-token containment of normalised texts: both are single-space-joined tokens, so a match
 * must start at 0 or after a space and end at the end or before a space. */
static bool contains_tokens(const char *hay, const char *needle)
{
    size_t n = strlen(needle), h = strlen(hay);
    for (const char *p = strstr(hay, needle); p; p = strstr(p + 1, needle)) {
        size_t at = (size_t)(p - hay);
        if ((at == 0 || hay[at - 1] == ' ') && (at + n == h || hay[at + n] == ' '))
            return true;
    }
    return false;
}

double fe_squad_contains(const char *prediction, const char *const *golds, size_t n_golds)
{
    struct fe_norm pn;
    normalize_into(prediction, &pn);
    bool answerable = false, found = false;
    for (size_t i = 0; i < n_golds && !found; i++) {
        struct fe_norm gn;
        normalize_into(golds[i], &gn);
        if (gn.n > 0) {
            answerable = true;
            found = contains_tokens(pn.text.data, gn.text.data);
        }
        norm_release(&gn);
    }
    double v = found ? 1.0 : !answerable && pn.n == 0 ? 1.0 : 0.0;
    norm_release(&pn);
    return v;
}

double fe_squad_em(const char *prediction, const char *const *golds, size_t n_golds)
{
    double em;
    fe_squad_score(prediction, golds, n_golds, &em, NULL);
    return em;
}

double fe_squad_f1(const char *prediction, const char *const *golds, size_t n_golds)
{
    double f1;
    fe_squad_score(prediction, golds, n_golds, NULL, &f1);
    return f1;
}

double fe_squad_f1_pair(const char *prediction, const char *gold)
{
    struct fe_norm pn, gn;
    normalize_into(prediction, &pn);
    normalize_into(gold, &gn);
    struct fe_tok *pt = sorted_tokens(&pn), *gt = sorted_tokens(&gn);
    double v = f1_sorted(pt, pn.n, gt, gn.n);
    free(pt);
    free(gt);
    norm_release(&pn);
    norm_release(&gn);
    return v;
}
