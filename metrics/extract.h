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
 */
#ifndef FE_EXTRACT_H
#define FE_EXTRACT_H

#include <stdbool.h>

#include <cjson/cJSON.h>

/* Parses a model output as a JSON object (whitespace and a ``` fence tolerated). Returns a new
 * cJSON object (caller frees with cJSON_Delete) or NULL when the text is not a JSON object. */
cJSON *fe_extract_parse(const char *prediction);
/* The same unwrapping, but any JSON value (array, string, ...) is returned (corpus.c reads
 * entity lists with it). NULL when the text is not one JSON value. */
cJSON *fe_extract_parse_value(const char *prediction);
/* 1 when the pair multisets of prediction and gold are equal, else 0; 0 when either is not an
 * object (gold NULL included). */
double fe_extract_json_exact(const cJSON *prediction, const cJSON *gold);
/* Micro F1 over (key, normalised value) pairs: c = |pred ∩ gold| (multiset); 1 when both are
 * empty, 0 when exactly one is or c = 0, else 2PR/(P+R) with P = c/|pred|, R = c/|gold|.
 * 0 when either is not an object. */
double fe_extract_field_f1(const cJSON *prediction, const cJSON *gold);

#endif
