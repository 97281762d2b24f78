/* template.h — fills "{field}" placeholders from a dataset row.
 *
 * "{input}" takes row.input, "{context}" row.context, any "{name}" the row's field of that name
 * (strings as is, other JSON as compact JSON). "{{" and "}}" are literal braces. An unknown
 * field is an error naming the field, so a typo in a template never sends "{inptu}" silently.
 */
#ifndef FE_TEMPLATE_H
#define FE_TEMPLATE_H

#include <cjson/cJSON.h>

#include "harness/base/err.h"

/* Returns the newly allocated rendered text (caller frees), or NULL with err set (FE_EINVALID). */
char *fe_template_render(const char *tmpl, const cJSON *row, struct fe_err *err);

#endif
