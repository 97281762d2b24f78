/* data_dedup.c — see data_dedup.h. */
#include "harness/data/data_dedup.h"

#include <stdlib.h>
#include <string.h>

#include "harness/base/util.h"

static uint64_t mix64(uint64_t x)
{
    /* splitmix64 finaliser */
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ULL;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebULL;
    x ^= x >> 31;
    return x;
}

uint64_t fe_dedup_hash(const void *data, size_t len, uint64_t seed)
{
    const unsigned char *p = data;
    uint64_t h = 0xcbf29ce484222325ULL ^ mix64(seed + 0x9e3779b97f4a7c15ULL);
    for (size_t i = 0; i < len; i++) {
        h ^= p[i];
        h *= 0x100000001b3ULL;
    }
    return mix64(h ^ len);
}

char *fe_dedup_normalize(const char *s, size_t len)
{
    char *out = fe_xmalloc(len + 1);
    size_t o = 0;
    bool space = false;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x80 && (c <= ' ' || c == 0x7f)) {
            space = o > 0;
            continue;
        }
        if (c < 0x80 &&
            !((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')))
            continue; /* ASCII punctuation */
        if (space) {
            out[o++] = ' ';
            space = false;
        }
        out[o++] = (char)((c >= 'A' && c <= 'Z') ? c + 32 : c);
    }
    out[o] = '\0';
    return out;
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

void fe_dedup_init(struct fe_dedup *d) { memset(d, 0, sizeof(*d)); }

size_t fe_dedup_add(struct fe_dedup *d, const char *text, size_t len, int set)
{
    if (d->n == d->alloc) {
        d->alloc = d->alloc ? d->alloc * 2 : 256;
        d->items = fe_xreallocarray(d->items, d->alloc, sizeof(*d->items));
    }
    struct fe_dedup_item *it = &d->items[d->n];
    memset(it, 0, sizeof(*it));
    it->set = set;
    char *norm = fe_dedup_normalize(text, len);
    size_t n = strlen(norm);
    it->exact = fe_dedup_hash(norm, n, 0);
    if (n > 0) {
        size_t count = n < FE_DEDUP_SHINGLE ? 1 : n - FE_DEDUP_SHINGLE + 1;
        size_t width = n < FE_DEDUP_SHINGLE ? n : FE_DEDUP_SHINGLE;
        it->shingles = fe_xreallocarray(NULL, count, sizeof(*it->shingles));
        for (size_t i = 0; i < count; i++)
            it->shingles[i] = (uint32_t)fe_dedup_hash(norm + i, width, 1);
        qsort(it->shingles, count, sizeof(*it->shingles), cmp_u32);
        size_t u = 0;
        for (size_t i = 0; i < count; i++)
            if (u == 0 || it->shingles[u - 1] != it->shingles[i])
                it->shingles[u++] = it->shingles[i];
        it->n_shingles = u;
        it->minhash = fe_xreallocarray(NULL, FE_DEDUP_HASHES, sizeof(*it->minhash));
        for (size_t k = 0; k < FE_DEDUP_HASHES; k++)
            it->minhash[k] = UINT32_MAX;
        for (size_t i = 0; i < u; i++) {
            uint64_t h = it->shingles[i];
            for (size_t k = 0; k < FE_DEDUP_HASHES; k += 2) {
                /* two 32-bit hash functions from one 64-bit mix */
                uint64_t v = mix64(h + 0x9e3779b97f4a7c15ULL * (k + 1));
                uint32_t lo = (uint32_t)v, hi = (uint32_t)(v >> 32);
                if (lo < it->minhash[k])
                    it->minhash[k] = lo;
                if (hi < it->minhash[k + 1])
                    it->minhash[k + 1] = hi;
            }
        }
    }
    free(norm);
    return d->n++;
}

double fe_dedup_jaccard(const struct fe_dedup *d, size_t a, size_t b)
{
    const struct fe_dedup_item *x = &d->items[a], *y = &d->items[b];
    if (x->n_shingles == 0 && y->n_shingles == 0)
        return 1.0;
    size_t i = 0, j = 0, inter = 0;
    while (i < x->n_shingles && j < y->n_shingles) {
        if (x->shingles[i] == y->shingles[j]) {
            inter++;
            i++;
            j++;
        } else if (x->shingles[i] < y->shingles[j]) {
            i++;
        } else {
            j++;
        }
    }
    size_t uni = x->n_shingles + y->n_shingles - inter;
    return uni ? (double)inter / (double)uni : 0.0;
}

void fe_dedup_release(struct fe_dedup *d)
{
    for (size_t i = 0; i < d->n; i++) {
        free(d->items[i].shingles);
        free(d->items[i].minhash);
    }
    free(d->items);
    memset(d, 0, sizeof(*d));
}

struct keyed {
    uint64_t key;
    uint64_t tie; /* band-dependent order inside a bucket (see fe_dedup_pairs) */
    size_t idx;
};

static int cmp_keyed(const void *a, const void *b)
{
    const struct keyed *x = a, *y = b;
    if (x->key != y->key)
        return x->key < y->key ? -1 : 1;
    if (x->tie != y->tie)
        return x->tie < y->tie ? -1 : 1;
    return x->idx < y->idx ? -1 : x->idx > y->idx;
}

/* Verifies a candidate pair (positions x, y in reps) of band b unless an earlier band already
 * compared it (same key there and within the window), so each pair is verified at most once
 * without a set of seen pairs; a size filter comes first: J >= t needs
 * min(|A|, |B|) >= t · max(|A|, |B|). */
static void check_pair_reps(const struct fe_dedup *d, const uint64_t *keys, const uint32_t *pos,
                            const size_t *reps, size_t b, size_t x, size_t y, double threshold,
                            fe_dedup_pair_fn fn, void *ctx)
{
    for (size_t e = 0; e < b; e++) {
        size_t i = x * FE_DEDUP_BANDS + e, j = y * FE_DEDUP_BANDS + e;
        if (keys[i] == keys[j] &&
            (pos[i] > pos[j] ? pos[i] - pos[j] : pos[j] - pos[i]) <= FE_DEDUP_BUCKET_CAP)
            return;
    }
    size_t a = reps[x] < reps[y] ? reps[x] : reps[y], c = reps[x] < reps[y] ? reps[y] : reps[x];
    size_t na = d->items[a].n_shingles, nc = d->items[c].n_shingles;
    size_t lo = na < nc ? na : nc, hi = na < nc ? nc : na;
    if ((double)lo < threshold * (double)hi - 1e-9)
        return;
    double j = fe_dedup_jaccard(d, a, c);
    if (j >= threshold)
        fn(a, c, j, false, ctx);
}

void fe_dedup_pairs(const struct fe_dedup *d, double threshold, fe_dedup_pair_fn fn, void *ctx)
{
    size_t n = d->n;
    if (n == 0)
        return;
    /* 1. exact groups: sort by the hash of the normalised text */
    struct keyed *k = fe_xreallocarray(NULL, n, sizeof(*k));
    for (size_t i = 0; i < n; i++) {
        k[i].key = d->items[i].exact;
        k[i].tie = 0; /* members in file order: the first is the representative */
        k[i].idx = i;
    }
    qsort(k, n, sizeof(*k), cmp_keyed);
    size_t *reps = fe_xreallocarray(NULL, n, sizeof(*reps));
    size_t n_reps = 0;
    for (size_t i = 0; i < n;) {
        size_t j = i + 1;
        while (j < n && k[j].key == k[i].key) {
            fn(k[i].idx, k[j].idx, 1.0, true, ctx);
            j++;
        }
        if (d->items[k[i].idx].minhash)
            reps[n_reps++] = k[i].idx;
        i = j;
    }
    /* 2. LSH banding over the representatives; keys[r * BANDS + b] is rep r's key in band b */
    uint64_t *keys = fe_xreallocarray(NULL, n_reps ? n_reps * FE_DEDUP_BANDS : 1, sizeof(*keys));
    for (size_t r = 0; r < n_reps; r++)
        for (size_t b = 0; b < FE_DEDUP_BANDS; b++)
            keys[r * FE_DEDUP_BANDS + b] = fe_dedup_hash(
                d->items[reps[r]].minhash + b * FE_DEDUP_ROWS, FE_DEDUP_ROWS * sizeof(uint32_t), b);
    /* pos[r * BANDS + b]: rep r's position inside its bucket of band b */
    uint32_t *pos = fe_xreallocarray(NULL, n_reps ? n_reps * FE_DEDUP_BANDS : 1, sizeof(*pos));
    struct keyed *band = fe_xreallocarray(k, n_reps ? n_reps : 1, sizeof(*band));
    for (size_t b = 0; b < FE_DEDUP_BANDS; b++) {
        for (size_t r = 0; r < n_reps; r++) {
            band[r].key = keys[r * FE_DEDUP_BANDS + b];
            /* a different order inside big buckets per band, so the capped windows differ */
            band[r].tie = mix64((uint64_t)r * 0x9e3779b97f4a7c15ULL + b);
            band[r].idx = r; /* position in reps */
        }
        qsort(band, n_reps, sizeof(*band), cmp_keyed);
        for (size_t i = 0; i < n_reps;) {
            size_t j = i + 1;
            while (j < n_reps && band[j].key == band[i].key)
                j++;
            for (size_t x = i; x < j; x++)
                pos[band[x].idx * FE_DEDUP_BANDS + b] = (uint32_t)(x - i);
            for (size_t x = i; x < j; x++) {
                size_t stop = j;
                if (j - i > FE_DEDUP_BUCKET_CAP && x + 1 + FE_DEDUP_BUCKET_CAP < j)
                    stop = x + 1 + FE_DEDUP_BUCKET_CAP;
                for (size_t y = x + 1; y < stop; y++)
                    check_pair_reps(d, keys, pos, reps, b, band[x].idx, band[y].idx, threshold, fn,
                                    ctx);
            }
            i = j;
        }
    }
    free(keys);
    free(pos);
    free(band);
    free(reps);
}

void fe_uf_init(struct fe_uf *u, size_t n)
{
    u->n = n;
    u->parent = fe_xreallocarray(NULL, n ? n : 1, sizeof(*u->parent));
    u->size = fe_xreallocarray(NULL, n ? n : 1, sizeof(*u->size));
    for (size_t i = 0; i < n; i++) {
        u->parent[i] = i;
        u->size[i] = 1;
    }
}

size_t fe_uf_find(struct fe_uf *u, size_t x)
{
    while (u->parent[x] != x) {
        u->parent[x] = u->parent[u->parent[x]];
        x = u->parent[x];
    }
    return x;
}

void fe_uf_union(struct fe_uf *u, size_t a, size_t b)
{
    a = fe_uf_find(u, a);
    b = fe_uf_find(u, b);
    if (a == b)
        return;
    if (u->size[a] < u->size[b]) {
        size_t t = a;
        a = b;
        b = t;
    }
    u->parent[b] = a;
    u->size[a] += u->size[b];
}

void fe_uf_release(struct fe_uf *u)
{
    free(u->parent);
    free(u->size);
    memset(u, 0, sizeof(*u));
}
