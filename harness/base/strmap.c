/* strmap.c — see strmap.h. FNV-1a hashing, linear probing, load factor <= 3/4; entries in one
 * arena addressed by 4-byte offsets (in units of 8 bytes: up to 32 GiB of keys). */
#include "harness/base/strmap.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "harness/base/util.h"

uint64_t fe_strmap_hash(const char *s)
{
    uint64_t h = 1469598103934665603ULL;
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 1099511628211ULL;
    }
    return h;
}

void fe_strmap_init(struct fe_strmap *m)
{
    memset(m, 0, sizeof(*m));
}

enum { FE_STRMAP_ALIGN = 8 };

/* The entry a slot holds: its value, then its key. */
static char *fe_strmap_entry(const struct fe_strmap *m, uint32_t slot)
{
    return m->arena + (size_t)(slot - 1) * FE_STRMAP_ALIGN;
}

/* Bytes of an entry whose key has klen bytes with its NUL. */
static size_t fe_strmap_entry_size(size_t klen)
{
    return (sizeof(size_t) + klen + FE_STRMAP_ALIGN - 1) / FE_STRMAP_ALIGN * FE_STRMAP_ALIGN;
}

static uint32_t *fe_strmap_find(const struct fe_strmap *m, const char *key)
{
    if (!m->n_slots)
        return NULL;
    size_t mask = m->n_slots - 1;
    for (size_t i = fe_strmap_hash(key) & mask;; i = (i + 1) & mask) {
        uint32_t *s = &m->slots[i];
        if (!*s || strcmp(fe_strmap_entry(m, *s) + sizeof(size_t), key) == 0)
            return s;
    }
}

static void fe_strmap_grow(struct fe_strmap *m)
{
    if ((m->count + 1) * 4 <= m->n_slots * 3)
        return;
    uint32_t *old = m->slots;
    size_t n_old = m->n_slots;
    m->n_slots = n_old ? n_old * 2 : 64;
    m->slots = fe_xcalloc(m->n_slots, sizeof(*m->slots));
    for (size_t i = 0; i < n_old; i++)
        if (old[i])
            *fe_strmap_find(m, fe_strmap_entry(m, old[i]) + sizeof(size_t)) = old[i];
    free(old);
}

bool fe_strmap_put(struct fe_strmap *m, const char *key, size_t value)
{
    fe_strmap_grow(m);
    uint32_t *s = fe_strmap_find(m, key);
    if (*s)
        return false;
    size_t klen = strlen(key) + 1;
    size_t need = fe_strmap_entry_size(klen);
    if (m->arena_len + need > m->arena_cap) {
        size_t cap = m->arena_cap ? m->arena_cap + m->arena_cap / 2 : 1024;
        while (cap < m->arena_len + need)
            cap += cap / 2;
        if (cap / FE_STRMAP_ALIGN >= UINT32_MAX) /* an offset no longer fits a slot: out of memory */
            cap = SIZE_MAX;
        m->arena = fe_xrealloc(m->arena, cap);
        m->arena_cap = cap;
    }
    char *e = m->arena + m->arena_len;
    memcpy(e, &value, sizeof(value));
    memcpy(e + sizeof(size_t), key, klen);
    *s = (uint32_t)(m->arena_len / FE_STRMAP_ALIGN + 1);
    m->arena_len += need;
    m->count++;
    return true;
}

void fe_strmap_set(struct fe_strmap *m, const char *key, size_t value)
{
    if (!fe_strmap_put(m, key, value))
        memcpy(fe_strmap_entry(m, *fe_strmap_find(m, key)), &value, sizeof(value));
}

bool fe_strmap_get(const struct fe_strmap *m, const char *key, size_t *value)
{
    uint32_t *s = fe_strmap_find(m, key);
    if (!s || !*s)
        return false;
    if (value)
        memcpy(value, fe_strmap_entry(m, *s), sizeof(*value));
    return true;
}

bool fe_strmap_next(const struct fe_strmap *m, size_t *pos, const char **key, size_t *value)
{
    if (*pos >= m->arena_len)
        return false;
    const char *e = m->arena + *pos;
    *key = e + sizeof(size_t);
    if (value)
        memcpy(value, e, sizeof(*value));
    *pos += fe_strmap_entry_size(strlen(*key) + 1);
    return true;
}

void fe_strmap_release(struct fe_strmap *m)
{
    free(m->slots);
    free(m->arena);
    fe_strmap_init(m);
}
