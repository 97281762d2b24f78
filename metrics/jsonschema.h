/* jsonschema.h — a JSON Schema (draft 2020-12) validator for the `schema_valid` metric.
 *
 * Supported keywords (docs/metrics.md §4 lists them with their semantics):
 *   applicators  properties, patternProperties, additionalProperties (bool or schema),
 *                prefixItems, items (2020-12: the schema for elements after prefixItems),
 *                allOf, anyOf, oneOf, not, $ref (local JSON pointers only: "#", "#/$defs/x",
 *                "#/definitions/x", ~0/~1 and %XX escapes), $defs / definitions
 *   assertions   type (integer = a number with no fractional part, so 1.0 is an integer),
 *                enum, const (deep equality: numbers by value, objects key-order-insensitive),
 *                minimum, maximum, exclusiveMinimum, exclusiveMaximum, multipleOf,
 *                minLength, maxLength (Unicode code points), pattern (unanchored search),
 *                minItems, maxItems, uniqueItems, required, minProperties, maxProperties
 *   annotations  title, description, default, examples, deprecated, readOnly, writeOnly,
 *                $comment; $schema only as the 2020-12 URI (other drafts give the same
 *                keywords other meanings); $id only at the root (an embedded $id would change
 *                how $ref resolves, which is not implemented)
 * Any other keyword makes compilation fail, naming the keyword and where it is: a schema is
 * never half-checked. So do a keyword value of the wrong type, a $ref that does not resolve or is
 * not local, an invalid pattern, and a $ref loop that consumes no instance (a schema that
 * reaches itself through $ref/allOf/anyOf/oneOf/not alone would never terminate).
 *
 * Pure: no I/O. A compiled schema is immutable (safe to share between threads).
 */
#ifndef FE_JSONSCHEMA_H
#define FE_JSONSCHEMA_H

#include <stdbool.h>

#include <cjson/cJSON.h>

#include "harness/base/err.h"

struct fe_jsonschema;

/* Compiles schema (an object or a boolean; copied, so the caller keeps ownership). Returns a
 * new validator (free with fe_jsonschema_free) or NULL with err set to FE_EINVALID and a
 * message naming the place in the schema as a JSON pointer:
 * "/properties/when: unsupported keyword 'format'". */
struct fe_jsonschema *fe_jsonschema_compile(const cJSON *schema, struct fe_err *err);
/* true when instance is valid against the schema. */
bool fe_jsonschema_valid(const struct fe_jsonschema *s, const cJSON *instance);
void fe_jsonschema_free(struct fe_jsonschema *s); /* NULL is a no-op */

/* JSON deep equality as JSON Schema defines it (enum, const, uniqueItems): numbers by value
 * (1 == 1.0), booleans are not numbers, arrays element-wise in order, objects as sets of
 * members regardless of order. NULL equals only NULL. */
bool fe_json_equal(const cJSON *a, const cJSON *b);

#endif
