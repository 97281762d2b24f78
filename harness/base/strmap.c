/* strmap.c — see strmap.h. FNV-1a hashing, linear probing, load factor <= 1/2. */
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

static struct fe_strmap_slot *fe_strmap_find(const struct fe_strmap *m, const char *key)
{
    if (!m->n_slots)
        return NULL;
    size_t mask = m->n_slots - 1;
    for (size_t i = fe_strmap_hash(key) & mask;; i = (i + 1) & mask) {
        struct fe_strmap_slot *s = &m->slots[i];
        if (!s->key || strcmp(s->key, key) == 0)
            return s;
    }
}

static void fe_strmap_grow(struct fe_strmap *m)
{
    if ((m->count + 1) * 2 <= m->n_slots)
        return;
    struct fe_strmap old = *m;
    m->n_slots = old.n_slots ? old.n_slots * 2 : 64;
    m->slots = fe_xcalloc(m->n_slots, sizeof(*m->slots));
    for (size_t i = 0; i < old.n_slots; i++)
        if (old.slots[i].key)
            *fe_strmap_find(m, old.slots[i].key) = old.slots[i];
    free(old.slots);
}

bool fe_strmap_put(struct fe_strmap *m, const char *key, size_t value)
{
    fe_strmap_grow(m);
    struct fe_strmap_slot *s = fe_strmap_find(m, key);
    if (s->key)
        return false;
    s->key = fe_xstrdup(key);
    s->value = value;
    m->count++;
    return true;
}

void fe_strmap_set(struct fe_strmap *m, const char *key, size_t value)
{
    if (!fe_strmap_put(m, key, value))
        fe_strmap_find(m, key)->value = value;
}

bool fe_strmap_get(const struct fe_strmap *m, const char *key, size_t *value)
{
    struct fe_strmap_slot *s = fe_strmap_find(m, key);
    if (!s || !s->key)
        return false;
    if (value)
        *value = s->value;
    return true;
}

void fe_strmap_release(struct fe_strmap *m)
{
    for (size_t i = 0; i < m->n_slots; i++)
        free(m->slots[i].key);
    free(m->slots);
    fe_strmap_init(m);
}
