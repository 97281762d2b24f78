/* compare_int.h — private to compare.c, compare_drift.c and compare_text.c. */
#ifndef FE_COMPARE_INT_H
#define FE_COMPARE_INT_H

#include <stddef.h>

#include <cjson/cJSON.h>

#include "harness/compare.h"
#include "harness/rundir.h"

/* One example of one side of an arm pair. */
struct fe_side {
    const struct fe_record *rec; /* NULL: missing */
};

/* o[k] as a string, or NULL; as a number, or NAN. */
const char *fe_compare_str(const cJSON *o, const char *k);
double fe_compare_num(const cJSON *o, const char *k);

/* The "drift" object of one arm pair over n paired examples (compare_drift.c). */
cJSON *fe_compare_drift(const struct fe_side *sa, const struct fe_side *sb, size_t n,
                        const struct fe_compare_opts *o);

#endif
