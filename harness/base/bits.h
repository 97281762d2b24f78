/* bits.h — plain bitmaps over indexes (issue 14, Memory: a set of examples in 1 bit each, not a
 * map of ids). Used by the batch runner's sets of examples (run/batch_index.c) and a loaded arm's
 * ids seen while reading (rundir/rundir_store.c). Allocation failure aborts (util.h). */
#ifndef FE_BITS_H
#define FE_BITS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

bool fe_bit(const uint8_t *m, size_t i);
void fe_bit_set(uint8_t *m, size_t i);
uint8_t *fe_bits_new(size_t n);  /* n bits, all clear */
/* Makes *m (of *n_bytes bytes) hold bit i, growing it to at least cap bits; new bits are clear. */
void fe_bits_grow(uint8_t **m, size_t *n_bytes, size_t i, size_t cap);

#endif
