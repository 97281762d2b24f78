/* batch_index.c — the batch runner's examples by index (batch_int.h, issue 14 "Memory"): every
 * set and list of the batch phase holds uint32 example indexes into this one table, never
 * strings. The ids are numbered in one table (base/idtable.h: one arena, 4-byte offsets and
 * slots). A custom_id is a pure function of the id (fe_batch_cid_of): the id itself
 * when the APIs accept it, else "h-" and 32 hex digits of its sha256 — only the examples whose
 * custom_id differs from their id are kept apart (the "hashed" bitmap and the xcid map).
 * Errors: fe_batch_index_add refuses an id whose custom_id another example has; allocation
 * failure aborts (util.h). Owner: run (the batch runner).
 */
#include "harness/run/batch_int.h"

#include <stdlib.h>
#include <string.h>

#include "harness/base/util.h"

const char *fe_batch_id(const struct fe_brun *r, size_t i)
{
    return fe_idtab_get(&r->ids, i);
}

/* A custom_id is plain when the APIs take it as it is (Anthropic: [A-Za-z0-9_-]{1,64}). */
static bool fe_batch_plain(const char *id, size_t n)
{
    return n > 0 && n <= 64 &&
           strspn(id, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-") == n;
}

const char *fe_batch_cid_of(const struct fe_brun *r, size_t i, char buf[FE_BATCH_CID_MAX])
{
    const char *id = fe_batch_id(r, i);
    if (!fe_bit(r->hashed, i))
        return id;
    char hex[65];
    fe_sha256_hex(id, strlen(id), hex);
    snprintf(buf, FE_BATCH_CID_MAX, "h-%.32s", hex);
    return buf;
}

bool fe_batch_find_id(const struct fe_brun *r, const char *id, size_t *i)
{
    return fe_idtab_find(&r->ids, id, i);
}

bool fe_batch_find_cid(const struct fe_brun *r, const char *cid, size_t *i)
{
    size_t k = 0;
    if (fe_strmap_get(&r->xcid, cid, &k) || (fe_batch_find_id(r, cid, &k) && !fe_bit(r->hashed, k))) {
        *i = k;
        return true;
    }
    return false;
}

bool fe_batch_index_add(struct fe_brun *r, const char *id, char cid[FE_BATCH_CID_MAX])
{
    size_t n = strlen(id), k = r->n_ex;
    bool hashed = !fe_batch_plain(id, n);
    if (hashed) {
        char hex[65];
        fe_sha256_hex(id, n, hex);
        snprintf(cid, FE_BATCH_CID_MAX, "h-%.32s", hex);
    } else {
        snprintf(cid, FE_BATCH_CID_MAX, "%s", id);
    }
    size_t j = 0;
    if (fe_batch_find_cid(r, cid, &j))
        return false; /* the custom_id is another example's (a duplicate id, or a plain id that is
                       * another's hashed custom_id) */
    if (k == r->cap) {
        size_t had = k ? k / 8 + 1 : 0;
        r->cap = r->cap ? 2 * r->cap : 256;
        r->off = fe_xreallocarray(r->off, r->cap, sizeof(*r->off));
        r->line = fe_xreallocarray(r->line, r->cap, sizeof(*r->line));
        r->hashed = fe_xrealloc(r->hashed, r->cap / 8 + 1);
        memset(r->hashed + had, 0, r->cap / 8 + 1 - had);
    }
    if (!fe_idtab_add(&r->ids, id))
        return false; /* past 4 GiB of ids: the caller checks for it first */
    if (hashed) {
        fe_bit_set(r->hashed, k);
        fe_strmap_put(&r->xcid, cid, k);
    }
    r->n_ex++;
    return true;
}

void fe_batch_index_release(struct fe_brun *r)
{
    fe_idtab_release(&r->ids);
    free(r->hashed);
    free(r->off);
    free(r->line);
    fe_strmap_release(&r->xcid);
}

/* The resumed journal's sets of ids as bits over the examples (its maps emptied): done, and
 * seen (whose ids that are no example here stay in seen_other, for the counts). */
void fe_batch_seen_bits(struct fe_brun *r, struct fe_barm *ba)
{
    ba->done_bits = fe_bits_new(r->n_ex);
    ba->seen = fe_bits_new(r->n_ex);
    ba->n_seen = ba->journal.seen.count;
    size_t pos = 0, v = 0, i = 0;
    const char *id = NULL;
    while (fe_strmap_next(&ba->done, &pos, &id, &v))
        if (fe_batch_find_id(r, id, &i))
            fe_bit_set(ba->done_bits, i);
    pos = 0;
    while (fe_strmap_next(&ba->journal.seen, &pos, &id, &v)) {
        if (fe_batch_find_id(r, id, &i))
            fe_bit_set(ba->seen, i);
        else
            fe_strmap_put(&ba->seen_other, id, 1);
    }
    fe_strmap_release(&ba->done);
    fe_strmap_release(&ba->journal.seen);
    fe_strmap_init(&ba->done);
    fe_strmap_init(&ba->journal.seen);
}

void fe_batch_set_indexes(struct fe_brun *r, struct fe_batch *b, const cJSON *ids)
{
    b->n = 0;
    b->idx = fe_xcalloc((size_t)cJSON_GetArraySize(ids) + 1, sizeof(*b->idx));
    const cJSON *v;
    cJSON_ArrayForEach(v, ids) {
        if (!cJSON_IsString(v))
            continue;
        size_t i = 0;
        if (!fe_batch_find_cid(r, v->valuestring, &i)) { /* not an example of this session */
            b->foreign = fe_xreallocarray(b->foreign, b->n_foreign + 1, sizeof(*b->foreign));
            i = r->n_ex + b->n_foreign;
            b->foreign[b->n_foreign++] = fe_xstrdup(v->valuestring);
        }
        b->idx[b->n++] = (uint32_t)i;
    }
}
