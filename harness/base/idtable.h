/* idtable.h — a table of distinct ids, each numbered by its position (0, 1, 2, ...), compact
 * (issue 14, Memory): the ids' text is copied once into one growing arena, the table holds each
 * id's 4-byte arena offset, and the id -> number lookup is open addressing over 4-byte slots at a
 * load of at most 3/4 — about 4 + 5 bytes per id beside its text. Used for the examples of a
 * batch run (run/batch_index.c) and the ids of a loaded run (rundir/rundir.c).
 *
 * Ownership: the table owns its copies; a pointer from fe_idtab_get is valid until the next
 * fe_idtab_add (the arena may move) or fe_idtab_release. Errors: the arena is kept under 4 GiB
 * (fe_idtab_add returns false past it, the table unchanged); allocation failure aborts (util.h).
 */
#ifndef FE_IDTABLE_H
#define FE_IDTABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct fe_idtab {
    char *text;                 /* the ids, NUL-terminated, one after the other */
    size_t len, cap;
    uint32_t *at;               /* number -> offset of its id in text */
    size_t n, n_cap;
    uint32_t *slots;            /* number + 1, 0 empty; n_slots a power of two (or 0) */
    size_t n_slots;
};

/* The id numbered k (< t->n). */
static inline const char *fe_idtab_get(const struct fe_idtab *t, size_t k)
{
    return t->text + t->at[k];
}
/* Looks id up: true and its number in *k (when k is not NULL), or false. */
bool fe_idtab_find(const struct fe_idtab *t, const char *id, size_t *k);
/* Adds id, which must not be in t, as number t->n; false when the arena would reach 4 GiB. */
bool fe_idtab_add(struct fe_idtab *t, const char *id);
/* Drops the lookup slots (fe_idtab_find finds nothing until fe_idtab_reindex): the caller may
 * then renumber the ids by permuting t->at[0..n) in place, without a second table alive. */
void fe_idtab_drop_index(struct fe_idtab *t);
void fe_idtab_reindex(struct fe_idtab *t);   /* rebuilds the slots for the numbers in t->at */
void fe_idtab_release(struct fe_idtab *t);   /* leaves an empty table */

#endif
