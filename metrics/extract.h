/* extract.h — scoring structured (JSON object) extraction outputs against a gold object.
 *
 * Both sides are reduced to a multiset of (key, value) pairs: each member "key": value of the
 * object gives one pair per string (a single string is a one-element list, an array gives one
 * pair per element, in any order); values are compared after SQuAD normalisation
 * (fe_squad_normalize). Numbers become their shortest round-trip text ("13", "2.5"), booleans
 * "true"/"false", nested objects/arrays their compact JSON text. null and values that
 * normalise to "" give no pair (so {"time": null} and {"time": ""} equal {}). Keys are compared
 * exactly (case-sensitive).
 *
 * The prediction is untrusted model text: surrounding whitespace is ignored and a Markdown
 * fenced block (```json ... ``` or ``` ... ```) is unwrapped first. A prediction that is not a
 * JSON object (unparseable, an array, a string, a failed generation "") scores 0 on both
 * metrics, even against an empty gold {}: invalid output is not an empty extraction.
 * "Parses" means RFC 8259 exactly (fe_json_text_valid): cJSON alone would also take "01",
 * "1.", "-.5" and raw control characters in strings.
 */
#ifndef FE_EXTRACT_H
#define FE_EXTRACT_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

/* true when text[0..len) is one JSON text by the grammar of RFC 8259 (whitespace around it
 * allowed, no NUL byte), nested at most CJSON_NESTING_LIMIT deep. The bytes inside strings are
 * not checked for UTF-8. */
bool fe_json_text_valid(const char *text, size_t len);
/* Parses a model output as any JSON value (the `json_valid` metric): surrounding whitespace
 * ignored, the first ``` fence unwrapped (the info word ends at whitespace, '{' or '['), then
 * the rest must be one JSON text (fe_json_text_valid). Returns a new cJSON tree (caller frees
 * with cJSON_Delete) or NULL. */
cJSON *fe_extract_parse_json(const char *prediction);
/* Parses a model output as a JSON object (whitespace and a ``` fence tolerated). Returns a new
 * cJSON object (caller frees with cJSON_Delete) or NULL when the text is not a JSON object. */
cJSON *fe_extract_parse(const char *prediction); /* fe_extract_parse_json, objects only */
/* 1 when the pair multisets of prediction and gold are equal, else 0; 0 when either is not an
 * object (gold NULL included). */
double fe_extract_json_exact(const cJSON *prediction, const cJSON *gold);
/* Micro F1 over (key, normalised value) pairs: c = |pred ∩ gold| (multiset); 1 when both are
 * empty, 0 when exactly one is or c = 0, else 2PR/(P+R) with P = c/|pred|, R = c/|gold|.
 * 0 when either is not an object. */
double fe_extract_field_f1(const cJSON *prediction, const cJSON *gold);

#endif
