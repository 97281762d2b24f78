/* strmap.h — string-keyed open-addressing hash map (keys copied, values borrowed pointers or
 * indices). Used for duplicate-id detection and id lookups; memory grows with the number of keys,
 * compactly (issue 14): each key is copied once, with its value, into one growing arena
 * ([8-byte value][key bytes][NUL], no allocation per key), and the table holds 4-byte arena
 * offsets at a load of at most 3/4 — about 25 bytes per short id instead of ~75.
 */
#ifndef FE_STRMAP_H
#define FE_STRMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct fe_strmap {
    uint32_t *slots;  /* arena offset / 8 + 1 of an entry, 0 empty; n_slots a power of two */
    size_t n_slots;   /* or 0 */
    size_t count;
    char *arena;      /* entries, 8-byte aligned: value (size_t), key, NUL */
    size_t arena_len, arena_cap;
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
/* Iterates the entries in insertion order: start with *pos = 0; returns false after the last.
 * *key stays valid until the next insertion. */
bool fe_strmap_next(const struct fe_strmap *m, size_t *pos, const char **key, size_t *value);
void fe_strmap_release(struct fe_strmap *m);

#endif
