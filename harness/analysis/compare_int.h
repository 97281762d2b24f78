/* compare_int.h — private to compare.c, compare_drift.c and compare_changes.c. */
#ifndef FE_COMPARE_INT_H
#define FE_COMPARE_INT_H

#include <stddef.h>

#include <cjson/cJSON.h>

#include "harness/rundir/rundir.h"

struct fe_compare_opts; /* compare.h (not included: compare.c includes this header) */

/* One example of one side of an arm pair. */
struct fe_side {
    const struct fe_record *rec; /* NULL: missing */
};

/* The "drift" object of one arm pair over n paired examples (compare_drift.c). */
cJSON *fe_compare_drift(const struct fe_side *sa, const struct fe_side *sb, size_t n,
                        const struct fe_compare_opts *o);

/* Adds to changes what differs between arm an of base and arm bn of cand, labelled label
 * (compare_changes.c). */
void fe_compare_arm_changes(cJSON *changes, const struct fe_run *base, const char *an,
                            const struct fe_run *cand, const char *bn, const char *label);
/* Adds to changes what differs between the runs' settings (template, defaults, seed, files). */
void fe_compare_run_changes(cJSON *changes, const struct fe_run *base, const struct fe_run *cand);

#endif
