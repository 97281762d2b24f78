/* data_dedup.h — exact and near-duplicate detection for `data check` and `data split`.
 *
 * Normalisation (fe_dedup_normalize): ASCII letters lowercased, ASCII punctuation deleted, every
 * run of whitespace (and control characters) turned into one space, leading and trailing space
 * removed; non-ASCII bytes are kept as they are. Two texts are exact duplicates when their
 * normalised forms are equal (compared through a 64-bit hash).
 *
 * Near duplicates: each normalised text becomes the set of its character 5-grams (a text shorter
 * than 5 bytes is one shingle); two texts are near duplicates when the Jaccard similarity of
 * these sets is >= threshold (0.9 by default). Candidates come from MinHash (128 hash
 * functions) and LSH banding (16 bands of 8 rows): a pair with Jaccard s becomes a candidate with
 * probability 1 - (1 - s^8)^16 (0.9999 at s = 0.9, 0.06 at s = 0.5); every candidate is then
 * verified with the exact Jaccard of the shingle sets, so no reported pair is below threshold.
 * Work is O(n · shingles · 128) for the signatures plus the candidate pairs, not O(n²). A bucket
 * bigger than FE_DEDUP_BUCKET_CAP members compares each member with the next
 * FE_DEDUP_BUCKET_CAP members only, in a per-band order, so verification is bounded by
 * n · CAP · BANDS on pathological (templated) inputs; exact duplicates are collapsed to one
 * representative before banding, so they never fill buckets. Indices must fit in 32 bits.
 *
 * Memory per text: 4 bytes per shingle (about one per normalised byte) plus 512 bytes of MinHash
 * signature; the text itself is not kept. 32-bit shingle hashes make a spurious shared shingle
 * between two texts of k shingles about k² / 2³² likely (1e-5 at k = 200), which cannot move a
 * Jaccard value noticeably.
 *
 * Ownership: a struct fe_dedup owns copies of everything added; fe_dedup_release frees it.
 */
#ifndef FE_DATA_DEDUP_H
#define FE_DATA_DEDUP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FE_DEDUP_SHINGLE 5
#define FE_DEDUP_HASHES 128
#define FE_DEDUP_BANDS 16
#define FE_DEDUP_ROWS 8
#define FE_DEDUP_BUCKET_CAP 64
#define FE_DEDUP_THRESHOLD 0.9

struct fe_dedup_item {
    uint64_t exact;     /* hash of the normalised text */
    uint32_t *shingles; /* sorted, unique 32-bit hashes of the 5-grams */
    size_t n_shingles;
    uint32_t *minhash; /* FE_DEDUP_HASHES values, NULL when there are no shingles */
    int set;           /* caller's tag (e.g. 0 = training file, 1 = held-out file) */
};

struct fe_dedup {
    struct fe_dedup_item *items;
    size_t n, alloc;
};

/* Reported pair: a < b (indices in the order added). exact is true for equal normalised texts
 * (similarity 1). */
typedef void (*fe_dedup_pair_fn)(size_t a, size_t b, double similarity, bool exact, void *ctx);

/* Returns the newly allocated normalised form of s[0..len) (caller frees). */
char *fe_dedup_normalize(const char *s, size_t len);
/* 64-bit FNV-1a, then a mixing step; seedable (used for split assignment too). */
uint64_t fe_dedup_hash(const void *data, size_t len, uint64_t seed);

void fe_dedup_init(struct fe_dedup *d);
/* Adds text (normalised internally); returns its index. */
size_t fe_dedup_add(struct fe_dedup *d, const char *text, size_t len, int set);
/* Exact Jaccard similarity of the shingle sets of items a and b. */
double fe_dedup_jaccard(const struct fe_dedup *d, size_t a, size_t b);
/* Calls fn for every exact-duplicate pair (each member with the first of its group) and every
 * verified near-duplicate pair between group representatives with Jaccard >= threshold. Each
 * pair is reported at most once. */
void fe_dedup_pairs(const struct fe_dedup *d, double threshold, fe_dedup_pair_fn fn, void *ctx);
void fe_dedup_release(struct fe_dedup *d);

/* Union-find over n elements (path halving, union by size). */
struct fe_uf {
    size_t *parent;
    size_t *size;
    size_t n;
};
void fe_uf_init(struct fe_uf *u, size_t n);
size_t fe_uf_find(struct fe_uf *u, size_t x);
void fe_uf_union(struct fe_uf *u, size_t a, size_t b);
void fe_uf_release(struct fe_uf *u);

#endif
