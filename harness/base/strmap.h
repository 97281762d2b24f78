/* strmap.h — string-keyed open-addressing hash map (keys copied, values borrowed pointers or
 * indices). Used for duplicate-id detection and id lookups; memory grows with the number of keys.
 */
#ifndef FE_STRMAP_H
#define FE_STRMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct fe_strmap_slot {
    char *key;
    size_t value;
};

struct fe_strmap {
    struct fe_strmap_slot *slots;
    size_t n_slots; /* power of two, or 0 */
    size_t count;
};

/* FNV-1a of s: the hash of this map, also for compact tables built beside it (rundir's ids). */
uint64_t fe_strmap_hash(const char *s);
void fe_strmap_init(struct fe_strmap *m);
/* Inserts key -> value. Returns false (map unchanged) when key is present already. */
bool fe_strmap_put(struct fe_strmap *m, const char *key, size_t value);
/* Sets key -> value, replacing any previous value. */
void fe_strmap_set(struct fe_strmap *m, const char *key, size_t value);
/* Looks key up; returns false when absent. */
bool fe_strmap_get(const struct fe_strmap *m, const char *key, size_t *value);
void fe_strmap_release(struct fe_strmap *m);

#endif
