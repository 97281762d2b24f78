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

/* The ONE set of null-safe readers (no module keeps private copies). Each tolerates any shape:
 * o may be NULL, an array or a scalar, a member may be missing or of another type; none of
 * them ever returns a pointer into freed memory or reads past a wrong type.
 *   fe_json_get      o[k] when o is an object, else NULL
 *   fe_json_str      v's string, or NULL                  (borrowed from v)
 *   fe_json_num      true and *out set when v is a finite number
 *   fe_json_gets     o[k]'s string, or NULL               (borrowed from o)
 *   fe_json_gets_or  o[k]'s string, or dflt — for text that reaches a "%s" or strcmp
 *   fe_json_getn     o[k] when a finite number, else NAN
 *   fe_json_getn_or  o[k] when a finite number, else dflt
 *   fe_json_dupstr   a newly allocated copy of o[k]'s string (caller frees), or NULL
 *   fe_json_path     a dotted path of object keys: fe_json_path(cfg, "traffic.requests_per_month");
 *                    NULL when any step is missing (keys longer than 127 bytes never match) */
const cJSON *fe_json_get(const cJSON *o, const char *k);
const char *fe_json_str(const cJSON *v);
bool fe_json_num(const cJSON *v, double *out);
const char *fe_json_gets(const cJSON *o, const char *k);
const char *fe_json_gets_or(const cJSON *o, const char *k, const char *dflt);
double fe_json_getn(const cJSON *o, const char *k);
double fe_json_getn_or(const cJSON *o, const char *k, double dflt);
char *fe_json_dupstr(const cJSON *o, const char *k);
const cJSON *fe_json_path(const cJSON *o, const char *dotted);

/* Writes json to path, pretty-printed, with a final newline, through the atomic writer of fs.h
 * (temporary file, fsync, rename, fsync of the folder). FE_OK or FE_EIO naming path. */
enum fe_status fe_write_json_file(const char *path, const cJSON *json, struct fe_err *err);

#endif
