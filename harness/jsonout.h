/* jsonout.h — small helpers for writing result JSON. JSON has no NaN or infinity: every value
 * that may be undefined is written as null. */
#ifndef FE_JSONOUT_H
#define FE_JSONOUT_H

#include <cjson/cJSON.h>

/* Adds k: v, or k: null when v is not finite. */
void fe_json_add_num(cJSON *o, const char *k, double v);
/* Adds k: [lo, hi], or k: null when either end is not finite. */
void fe_json_add_pair(cJSON *o, const char *k, double lo, double hi);
/* Copies every field of src into dst, replacing fields of the same name (src may be NULL). */
void fe_json_merge_object(cJSON *dst, const cJSON *src);

#endif
