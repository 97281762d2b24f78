/* idtable.c — see idtable.h. */
#include "harness/base/idtable.h"

#include <stdlib.h>
#include <string.h>

#include "harness/base/strmap.h"
#include "harness/base/util.h"

/* The slot of id: holding its number + 1, or the empty slot where it goes. */
static uint32_t *fe_idtab_slot(const struct fe_idtab *t, const char *id)
{
    size_t mask = t->n_slots - 1;
    for (size_t i = (size_t)fe_strmap_hash(id) & mask;; i = (i + 1) & mask)
        if (!t->slots[i] || strcmp(fe_idtab_get(t, t->slots[i] - 1), id) == 0)
            return &t->slots[i];
}

bool fe_idtab_find(const struct fe_idtab *t, const char *id, size_t *k)
{
    if (!t->n_slots || !id)
        return false;
    uint32_t v = *fe_idtab_slot(t, id);
    if (v && k)
        *k = v - 1;
    return v != 0;
}

/* Sizes the slots for n_slots (a power of two) and puts every number in. */
static void fe_idtab_rehash(struct fe_idtab *t, size_t n_slots)
{
    free(t->slots);
    t->slots = fe_xcalloc(n_slots, sizeof(*t->slots));
    t->n_slots = n_slots;
    for (size_t k = 0; k < t->n; k++)
        *fe_idtab_slot(t, fe_idtab_get(t, k)) = (uint32_t)(k + 1);
}

bool fe_idtab_add(struct fe_idtab *t, const char *id)
{
    size_t len = strlen(id) + 1;
    if (t->len + len > UINT32_MAX || t->n >= UINT32_MAX - 1)
        return false;
    if (t->len + len > t->cap) {
        size_t cap = t->cap ? t->cap : 4096;
        while (t->len + len > cap)
            cap *= 2;
        t->text = fe_xrealloc(t->text, cap);
        t->cap = cap;
    }
    if (t->n == t->n_cap) {
        t->n_cap = t->n_cap ? 2 * t->n_cap : 1024;
        t->at = fe_xreallocarray(t->at, t->n_cap, sizeof(*t->at));
    }
    t->at[t->n] = (uint32_t)t->len;
    memcpy(t->text + t->len, id, len);
    t->len += len;
    t->n++;
    if (4 * t->n > 3 * t->n_slots) /* grow at 3/4 full */
        fe_idtab_rehash(t, t->n_slots ? 2 * t->n_slots : 1024);
    else
        *fe_idtab_slot(t, id) = (uint32_t)t->n;
    return true;
}

void fe_idtab_drop_index(struct fe_idtab *t)
{
    free(t->slots);
    t->slots = NULL;
    t->n_slots = 0;
}

void fe_idtab_reindex(struct fe_idtab *t)
{
    size_t n_slots = 1024;
    while (4 * t->n > 3 * n_slots) /* at most 3/4 full, as fe_idtab_add keeps it */
        n_slots *= 2;
    fe_idtab_rehash(t, n_slots);
}

void fe_idtab_release(struct fe_idtab *t)
{
    free(t->text);
    free(t->at);
    free(t->slots);
    memset(t, 0, sizeof(*t));
}
