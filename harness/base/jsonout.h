/* jsonout.h — small helpers for writing result JSON. JSON has no NaN or infinity: every value
 * that may be undefined is written as null. */
#ifndef FE_JSONOUT_H
#define FE_JSONOUT_H

#include <stdbool.h>

#include <cjson/cJSON.h>

#include "harness/base/err.h"

/* Adds k: v, or k: null when v is not finite. */
void fe_json_add_num(cJSON *o, const char *k, double v);
/* Adds k: s, or k: null when s is NULL. */
void fe_json_add_str(cJSON *o, const char *k, const char *s);
/* Adds k: [lo, hi], or k: null when either end is not finite. */
void fe_json_add_pair(cJSON *o, const char *k, double lo, double hi);
/* Copies every field of src into dst, replacing fields of the same name (src may be NULL). */
void fe_json_merge_object(cJSON *dst, const cJSON *src);

/* Readers that tolerate any shape: o[k] when o is an object, else NULL; v's string or NULL;
 * true and *out set when v is a finite number. */
const cJSON *fe_json_get(const cJSON *o, const char *k);
const char *fe_json_str(const cJSON *v);
bool fe_json_num(const cJSON *v, double *out);

/* Writes json to path atomically (temporary file + rename), pretty-printed. */
enum fe_status fe_write_json_file(const char *path, const cJSON *json, struct fe_err *err);

#endif
