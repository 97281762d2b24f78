/* bits.c — see bits.h. */
#include "harness/base/bits.h"

#include <string.h>

#include "harness/base/util.h"

bool fe_bit(const uint8_t *m, size_t i)
{
    return (m[i >> 3] >> (i & 7)) & 1;
}

void fe_bit_set(uint8_t *m, size_t i)
{
    m[i >> 3] |= (uint8_t)(1u << (i & 7));
}

uint8_t *fe_bits_new(size_t n)
{
    return fe_xcalloc(n / 8 + 1, 1);
}

void fe_bits_grow(uint8_t **m, size_t *n_bytes, size_t i, size_t cap)
{
    if (i / 8 < *n_bytes)
        return;
    size_t want = (cap > i ? cap : i + 1) / 8 + 1;
    *m = fe_xrealloc(*m, want);
    memset(*m + *n_bytes, 0, want - *n_bytes);
    *n_bytes = want;
}
