/* test_format.c — the format metrics (docs/metrics.md §4): json_valid, schema_valid, regex,
 * contains, and the pieces under them (metrics/jsonschema.c, metrics/regex.c), table-driven.
 * Agreement with python3-jsonschema is tests/jsonschema_suite_test.py; end to end through
 * `fteval score` is tests/format_score_test.py. */
#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "harness/base/util.h"
#include "metrics/extract.h"
#include "metrics/jsonschema.h"
#include "metrics/metric.h"
#include "metrics/regex.h"
#include "t.h"

static double score(const char *metric, const char *prediction, const struct fe_gold *gold)
{
    const struct fe_metric *m = fe_metric_find(metric);
    T_CHECK(m != NULL);
    return m ? m->score(prediction, gold) : -1;
}

static void test_json_valid(void)
{
    static const struct {
        const char *prediction;
        double want;
    } cases[] = {
        {"{\"a\": 1}", 1},
        {"[1, 2]", 1},
        {"42", 1},
        {"-0", 1},
        {"1e5", 1},
        {"-1.5E-3", 1},
        {"\"text\"", 1},
        {"\"\\u00e9\\n\\\"\"", 1},
        {"null", 1},
        {"true", 1},
        {"  {\"a\": 1} \n", 1},
        {"```json\n{\"a\": 1}\n```", 1},
        {"Here it is:\n```JSON\n[1]\n```\nanything after", 1},
        {"```[1,2]```", 1},      /* no info word: the value starts right after the fence */
        {"```json\n{\"a\": 1}", 1}, /* closing fence optional */
        {"", 0},
        {"   ", 0},
        {"```", 0},
        {"``````", 0},
        {"{\"a\": 1", 0},
        {"{\"a\": 1,}", 0},
        {"[1 2]", 0},
        {"{'a': 1}", 0},
        {"{\"a\": 1} trailing", 0},
        {"{\"a\": 1}{\"b\": 2}", 0},
        {"tru", 0},
        {"NaN", 0},
        {"Infinity", 0},
        /* cJSON alone accepts these; RFC 8259 does not */
        {"01", 0},
        {"{\"a\": 01}", 0},
        {"1.", 0},
        {"-.5", 0},
        {"1.e5", 0},
        {"1.5e+", 0},
        {"\"a\tb\"", 0},         /* raw control character in a string */
        {"\"\\x41\"", 0},        /* not a JSON escape */
        {"\"\\u00g0\"", 0},
        {"+1", 0},
        {".5", 0},
    };
    for (size_t i = 0; i < FE_ARRAY_LEN(cases); i++) {
        double got = score("json_valid", cases[i].prediction, NULL);
        T_CHECK(got == cases[i].want);
        if (got != cases[i].want)
            fprintf(stderr, "  json_valid(\"%s\") = %g, want %g\n", cases[i].prediction, got, cases[i].want);
        /* json_exact and json_valid share the fence stripping: an object json_exact parses is
         * json_valid */
        cJSON *o = fe_extract_parse(cases[i].prediction);
        T_CHECK(!o || got == 1);
        cJSON_Delete(o);
    }
    /* nesting: cJSON's limit (1000) is the limit */
    for (int depth = 999; depth <= 1001; depth++) {
        char *s = fe_xmalloc((size_t)depth * 2 + 1);
        memset(s, '[', (size_t)depth);
        memset(s + depth, ']', (size_t)depth);
        s[depth * 2] = '\0';
        T_CHECK(score("json_valid", s, NULL) == (depth <= 1000 ? 1 : 0));
        free(s);
    }
}

static void test_regex(void)
{
    static const struct {
        const char *pattern, *prediction;
        double want;
    } cases[] = {
        {"[a-z]+", "abc", 1},
        {"[a-z]+", "abc1", 0},          /* a full match, not a search */
        {"[a-z]+", "1abc", 0},
        {"[a-z]+", "abc\n", 0},         /* the prediction as generated: no stripping */
        {"[a-z]+\\s*", "abc\n", 1},
        {"a|ab", "ab", 1},              /* backtracks into the alternative that reaches the end */
        {"(?:yes|no)", "yes", 1},
        {"(?i)yes|no", "YES", 1},
        {"\\d{3}-\\d{4}", "555-1234", 1},
        {"\\d{3}-\\d{4}", "555-12345", 0},
        {".", "\xc3\xa9", 1},           /* one code point, two bytes */
        {"..", "\xc3\xa9", 0},
        {".{2}", "\xf0\x9f\x98\x80\xf0\x9f\x98\x80", 1},
        {".", "\xff", 0},               /* invalid UTF-8 never crashes */
        {"", "", 1},
        {"", "x", 0},
        {"^abc$", "abc", 1},
        {"(?s).*", "two\nlines", 1},
        {".*", "two\nlines", 0},        /* '.' stops at a newline by default (PCRE2) */
    };
    for (size_t i = 0; i < FE_ARRAY_LEN(cases); i++) {
        struct fe_err err = {0};
        struct fe_regex *re = fe_regex_compile(cases[i].pattern, 0, &err);
        T_CHECK(re != NULL);
        if (!re) {
            fprintf(stderr, "  pattern %s: %s\n", cases[i].pattern, err.msg);
            continue;
        }
        struct fe_metric_task task = {.pattern = re};
        struct fe_gold g = {.golds = NULL, .n_golds = 0, .task = &task};
        double got = score("regex", cases[i].prediction, &g);
        T_CHECK(got == cases[i].want);
        if (got != cases[i].want)
            fprintf(stderr, "  regex /%s/ on \"%s\" = %g, want %g\n", cases[i].pattern, cases[i].prediction, got,
                    cases[i].want);
        fe_regex_free(re);
    }
    /* an invalid pattern: PCRE2's message and offset */
    static const struct {
        const char *pattern, *want;
    } bad[] = {
        {"(abc", "at offset 4: missing closing parenthesis"},
        {"a{2,1}", "at offset 5: numbers out of order in {} quantifier"},
        {"[z-a]", "at offset 3: range out of order in character class"},
        {"\\", "at offset 1: \\ at end of pattern"},
    };
    for (size_t i = 0; i < FE_ARRAY_LEN(bad); i++) {
        struct fe_err err = {0};
        struct fe_regex *re = fe_regex_compile(bad[i].pattern, 0, &err);
        T_CHECK(re == NULL && err.code == FE_EINVALID);
        T_CHECK_STR(err.msg, bad[i].want);
        fe_regex_free(re);
    }
    /* catastrophic backtracking: PCRE2 gives up (-1), which never scores as a match */
    struct fe_err err = {0};
    struct fe_regex *re = fe_regex_compile("(a+)+$", FE_REGEX_ECMA, &err);
    char subject[64];
    memset(subject, 'a', 40);
    subject[40] = 'b';
    subject[41] = '\0';
    T_CHECK(re && fe_regex_match(re, subject, strlen(subject), false) == -1);
    fe_regex_free(re);
}

static void test_contains(void)
{
    static const struct {
        const char *prediction;
        const char *golds[3];
        size_t n_golds;
        double want;
    } cases[] = {
        {"I live in New York City.", {"new york"}, 1, 1},
        {"I live in New York City.", {"York City"}, 1, 1},
        {"Yorkshire pudding", {"york"}, 1, 0},        /* whole tokens only */
        {"three cats", {"cat"}, 1, 0},
        {"The answer is Paris.", {"paris"}, 1, 1},
        {"The answer is Paris.", {"The answer is Paris."}, 1, 1}, /* equal contains itself */
        {"about 1000 people", {"1,000"}, 1, 1},        /* punctuation deleted on both sides */
        {"the us army", {"U.S."}, 1, 1},
        {"A cat sat", {"the cat"}, 1, 1},              /* articles removed on both sides */
        {"it's London", {"Paris", "london"}, 2, 1},    /* any gold */
        {"it's Rome", {"Paris", "london"}, 2, 0},
        {"", {""}, 1, 1},                              /* unanswerable: 1 iff prediction empty */
        {"something", {""}, 1, 0},
        {"the", {"an"}, 1, 1},                         /* both normalise to "": unanswerable */
        {"something", {"a", ""}, 2, 0},
        {"", {"paris"}, 1, 0},
        {"ΟΔΟΣ 5", {"οδος"}, 1, 1},                    /* the SQuAD Unicode lowercasing */
        {"new  york", {"new york"}, 1, 1},             /* whitespace collapsed */
        {"newyork", {"new york"}, 1, 0},
        {"york new", {"new york"}, 1, 0},              /* order matters: a contiguous run */
    };
    for (size_t i = 0; i < FE_ARRAY_LEN(cases); i++) {
        struct fe_gold g = {.golds = cases[i].golds, .n_golds = cases[i].n_golds};
        double got = score("contains", cases[i].prediction, &g);
        T_CHECK(got == cases[i].want);
        if (got != cases[i].want)
            fprintf(stderr, "  contains(\"%s\", \"%s\"...) = %g, want %g\n", cases[i].prediction, cases[i].golds[0],
                    got, cases[i].want);
        /* exact_match implies contains */
        T_CHECK(score("exact_match", cases[i].prediction, &g) <= got);
    }
    T_CHECK(score("contains", "", NULL) == 1); /* no golds = unanswerable, as exact_match */
}

static struct fe_jsonschema *compile_text(const char *text, struct fe_err *err)
{
    cJSON *j = cJSON_Parse(text);
    T_CHECK(j != NULL);
    struct fe_jsonschema *s = j ? fe_jsonschema_compile(j, err) : NULL;
    cJSON_Delete(j);
    return s;
}

static void test_schema_compile(void)
{
    static const struct {
        const char *schema, *want_error; /* NULL: compiles */
    } cases[] = {
        {"{\"format\": \"date\"}", "#: unsupported keyword 'format'"},
        {"{\"properties\": {\"when\": {\"type\": \"string\", \"format\": \"date\"}}}",
         "#/properties/when: unsupported keyword 'format'"},
        {"{\"$defs\": {\"a/b\": {\"unevaluatedProperties\": false}}}",
         "#/$defs/a~1b: unsupported keyword 'unevaluatedProperties'"},
        {"{\"if\": true}", "#: unsupported keyword 'if'"},
        {"{\"name\": \"intent\", \"strict\": true, \"schema\": {\"type\": \"object\"}}",
         "#: unsupported keyword 'name' (this looks like OpenAI's response_format json_schema object: give its "
         "\"schema\" member)"},
        {"{\"name\": {}}", "#: unsupported keyword 'name'"},
        {"{\"title\": \"t\", \"description\": \"d\", \"default\": 1, \"examples\": [1], \"$comment\": \"c\", "
         "\"$schema\": \"https://json-schema.org/draft/2020-12/schema\", \"$id\": \"urn:x\", \"deprecated\": false, "
         "\"readOnly\": true, \"writeOnly\": false}",
         NULL},
        {"{\"$schema\": \"http://json-schema.org/draft-07/schema#\"}",
         "#: '$schema' must be \"https://json-schema.org/draft/2020-12/schema\" or absent"},
        {"{\"$schema\": \"https://json-schema.org/draft/2019-09/schema\"}", "fteval validates draft 2020-12 only"},
        {"{\"$schema\": \"https://json-schema.org/draft/2020-12/schema#\"}", NULL},
        {"{\"properties\": {\"a\": {\"$id\": \"a.json\"}}}",
         "#/properties/a: unsupported keyword '$id' below the root (only local $ref are resolved)"},
        {"{\"$ref\": \"#/$defs/missing\"}", "#: '$ref' \"#/$defs/missing\" does not resolve to a schema"},
        {"{\"$ref\": \"other.json#/a\"}", "#: '$ref' must be a local reference"},
        {"{\"$ref\": \"#/$defs/a\", \"$defs\": {\"a\": {\"$ref\": \"#/$defs/b\"}, \"b\": {\"$ref\": \"#/$defs/a\"}}}",
         "$ref loop"},
        {"{\"allOf\": [{\"$ref\": \"#\"}]}", "#: $ref loop"},
        {"{\"anyOf\": [{\"not\": {\"$ref\": \"#\"}}]}", "$ref loop"},
        {"{\"properties\": {\"next\": {\"$ref\": \"#\"}}, \"items\": {\"$ref\": \"#\"}}", NULL},
        {"{\"items\": [{}]}", "#: 'items' must be a schema (an object or a boolean); for a tuple use prefixItems"},
        {"{\"pattern\": \"(a\"}", "#: invalid pattern '(a': at offset 2: missing closing parenthesis"},
        {"{\"type\": \"strin\"}", "#: 'type' must be a type name"},
        {"{\"type\": [\"string\", \"string\"]}", "#: 'type' must be"},
        {"{\"type\": []}", "#: 'type' must be"},
        {"{\"minLength\": -1}", "#: 'minLength' must be a non-negative integer"},
        {"{\"maxItems\": 1.5}", "#: 'maxItems' must be a non-negative integer"},
        {"{\"maxLength\": 2.0}", NULL},
        {"{\"minimum\": \"1\"}", "#: 'minimum' must be a number"},
        {"{\"required\": \"a\"}", "#: 'required' must be an array of distinct strings"},
        {"{\"required\": [\"a\", \"a\"]}", "#: 'required' must be an array of distinct strings"},
        {"{\"enum\": 1}", "#: 'enum' must be an array"},
        {"{\"anyOf\": []}", "#: 'anyOf' must be a non-empty array of schemas"},
        {"{\"allOf\": [1]}", "#/allOf/0: a schema must be an object or a boolean"},
        {"{\"properties\": {\"a\": 1}}", "#/properties/a: a schema must be an object or a boolean"},
        {"{\"multipleOf\": 0}", "#: 'multipleOf' must be greater than 0"},
        {"{\"uniqueItems\": 1}", "#: 'uniqueItems' must be true or false"},
        {"{\"patternProperties\": {\"(\": {}}}", "#/patternProperties: invalid pattern '('"},
        {"{\"type\": \"integer\", \"type\": \"string\"}", "#: duplicate keyword 'type'"},
        {"true", NULL},
        {"false", NULL},
        {"5", "#: a schema must be an object or a boolean"},
    };
    for (size_t i = 0; i < FE_ARRAY_LEN(cases); i++) {
        struct fe_err err = {0};
        struct fe_jsonschema *s = compile_text(cases[i].schema, &err);
        if (!cases[i].want_error) {
            T_CHECK(s != NULL);
            if (!s)
                fprintf(stderr, "  schema %s: %s\n", cases[i].schema, err.msg);
        } else {
            T_CHECK(s == NULL && err.code == FE_EINVALID && strstr(err.msg, cases[i].want_error) != NULL);
            if (s || !strstr(err.msg, cases[i].want_error))
                fprintf(stderr, "  schema %s: error \"%s\", want \"%s\"\n", cases[i].schema, err.msg,
                        cases[i].want_error);
        }
        fe_jsonschema_free(s);
    }
}

static void test_schema_valid(void)
{
    static const struct {
        const char *schema, *instance;
        bool want;
    } cases[] = {
        /* integer vs number: 1.0 is an integer, booleans are neither */
        {"{\"type\": \"integer\"}", "1.0", true},
        {"{\"type\": \"integer\"}", "1.5", false},
        {"{\"type\": \"integer\"}", "true", false},
        {"{\"type\": \"number\"}", "1", true},
        {"{\"type\": [\"string\", \"null\"]}", "null", true},
        {"{\"type\": [\"string\", \"null\"]}", "0", false},
        /* lengths in code points, not bytes */
        {"{\"maxLength\": 2}", "\"\xc3\xa9\xc3\xa9\"", true},
        {"{\"maxLength\": 2}", "\"\xf0\x9f\x98\x80\xf0\x9f\x98\x80\xf0\x9f\x98\x80\"", false},
        {"{\"minLength\": 2}", "\"\xf0\x9f\x98\x80\"", false},
        {"{\"minLength\": 2}", "5", true}, /* other types ignore string keywords */
        /* const/enum: deep equality, numbers by value, objects unordered, arrays ordered */
        {"{\"const\": {\"a\": 1, \"b\": [1, 2]}}", "{\"b\": [1, 2.0], \"a\": 1.0}", true},
        {"{\"const\": {\"a\": 1, \"b\": [1, 2]}}", "{\"b\": [2, 1], \"a\": 1}", false},
        {"{\"const\": {\"a\": 1}}", "{\"a\": 1, \"b\": null}", false},
        {"{\"const\": null}", "null", true},
        {"{\"const\": null}", "false", false},
        {"{\"enum\": [1, \"a\"]}", "true", false},
        {"{\"enum\": [false]}", "0", false},
        {"{\"enum\": [[false]]}", "[0]", false},
        {"{\"enum\": [{\"x\": [1]}]}", "{\"x\": [1.0]}", true},
        /* pattern: an unanchored search, ECMA-262 '$' and \\u escapes */
        {"{\"pattern\": \"b\"}", "\"abc\"", true},
        {"{\"pattern\": \"^b\"}", "\"abc\"", false},
        {"{\"pattern\": \"^abc$\"}", "\"abc\\n\"", false},
        {"{\"pattern\": \"^\\\\u00e9$\"}", "\"\xc3\xa9\"", true},
        {"{\"pattern\": \"^\\\\w+$\"}", "\"\xc3\xa9\"", false}, /* \\w is ASCII, as in ECMA-262 */
        /* objects */
        {"{\"properties\": {\"a\": {}}, \"additionalProperties\": {\"type\": \"integer\"}}", "{\"a\": \"x\", \"b\": 1}", true},
        {"{\"properties\": {\"a\": {}}, \"additionalProperties\": {\"type\": \"integer\"}}", "{\"b\": \"x\"}", false},
        {"{\"properties\": {\"a\": {}}, \"additionalProperties\": false}", "{\"a\": 1, \"b\": 1}", false},
        {"{\"patternProperties\": {\"^x-\": {\"type\": \"string\"}}, \"additionalProperties\": false}", "{\"x-a\": \"s\"}", true},
        {"{\"patternProperties\": {\"^x-\": {\"type\": \"string\"}}, \"additionalProperties\": false}", "{\"y\": \"s\"}", false},
        {"{\"required\": [\"a\"]}", "{\"b\": 1}", false},
        {"{\"required\": [\"a\"]}", "[]", true},
        {"{\"minProperties\": 1, \"maxProperties\": 1}", "{}", false},
        {"{\"minProperties\": 1, \"maxProperties\": 1}", "{\"a\": 1}", true},
        /* arrays: 2020-12 items after prefixItems */
        {"{\"prefixItems\": [{\"type\": \"string\"}], \"items\": {\"type\": \"integer\"}}", "[\"a\", 1, 2]", true},
        {"{\"prefixItems\": [{\"type\": \"string\"}], \"items\": {\"type\": \"integer\"}}", "[\"a\", \"b\"]", false},
        {"{\"prefixItems\": [{\"type\": \"string\"}], \"items\": false}", "[\"a\"]", true},
        {"{\"prefixItems\": [{\"type\": \"string\"}], \"items\": false}", "[\"a\", 1]", false},
        {"{\"minItems\": 1, \"maxItems\": 2}", "[]", false},
        {"{\"minItems\": 1, \"maxItems\": 2}", "[1, 2, 3]", false},
        {"{\"uniqueItems\": true}", "[1, 1.0]", false},
        {"{\"uniqueItems\": true}", "[{\"a\": 1, \"b\": 2}, {\"b\": 2, \"a\": 1}]", false},
        {"{\"uniqueItems\": true}", "[1, true]", true},
        /* numbers */
        {"{\"minimum\": 1, \"exclusiveMaximum\": 3}", "1", true},
        {"{\"minimum\": 1, \"exclusiveMaximum\": 3}", "3", false},
        {"{\"exclusiveMinimum\": 1, \"maximum\": 3}", "1", false},
        {"{\"exclusiveMinimum\": 1, \"maximum\": 3}", "3", true},
        {"{\"multipleOf\": 0.5}", "2.5", true},
        {"{\"multipleOf\": 2}", "3", false},
        /* combinators */
        {"{\"oneOf\": [{\"type\": \"integer\"}, {\"minimum\": 2}]}", "3", false},
        {"{\"oneOf\": [{\"type\": \"integer\"}, {\"minimum\": 2}]}", "1", true},
        {"{\"anyOf\": [{\"type\": \"string\"}, {\"type\": \"null\"}]}", "1", false},
        {"{\"allOf\": [{\"minimum\": 1}, {\"maximum\": 2}]}", "3", false},
        {"{\"not\": {\"type\": \"null\"}}", "null", false},
        /* $ref: siblings still apply (2020-12), escaped pointers, recursion through the instance */
        {"{\"$defs\": {\"p\": {\"type\": \"integer\"}}, \"$ref\": \"#/$defs/p\", \"minimum\": 5}", "3", false},
        {"{\"$defs\": {\"a~b/c\": {\"type\": \"integer\"}}, \"$ref\": \"#/$defs/a~0b~1c\"}", "\"x\"", false},
        {"{\"$defs\": {\"a~b/c\": {\"type\": \"integer\"}}, \"$ref\": \"#/$defs/a~0b~1c\"}", "1", true},
        {"{\"$defs\": {\"a%b\": {\"type\": \"integer\"}}, \"$ref\": \"#/$defs/a%25b\"}", "\"x\"", false},
        {"{\"definitions\": {\"n\": {\"type\": \"null\"}}, \"$ref\": \"#/definitions/n\"}", "null", true},
        {"{\"prefixItems\": [{\"type\": \"integer\"}], \"items\": {\"$ref\": \"#/prefixItems/0\"}}", "[1, \"x\"]", false},
        {"{\"type\": \"object\", \"properties\": {\"v\": {\"type\": \"integer\"}, \"next\": {\"anyOf\": "
         "[{\"$ref\": \"#\"}, {\"type\": \"null\"}]}}, \"required\": [\"v\", \"next\"], \"additionalProperties\": false}",
         "{\"v\": 1, \"next\": {\"v\": 2, \"next\": {\"v\": 3, \"next\": null}}}", true},
        {"{\"type\": \"object\", \"properties\": {\"v\": {\"type\": \"integer\"}, \"next\": {\"anyOf\": "
         "[{\"$ref\": \"#\"}, {\"type\": \"null\"}]}}, \"required\": [\"v\", \"next\"], \"additionalProperties\": false}",
         "{\"v\": 1, \"next\": {\"v\": \"2\", \"next\": null}}", false},
        {"true", "{\"anything\": 1}", true},
        {"false", "null", false},
        {"{\"properties\": {\"a\": false}}", "{\"a\": 1}", false},
        {"{\"properties\": {\"a\": false}}", "{}", true},
    };
    for (size_t i = 0; i < FE_ARRAY_LEN(cases); i++) {
        struct fe_err err = {0};
        struct fe_jsonschema *s = compile_text(cases[i].schema, &err);
        T_CHECK(s != NULL);
        if (!s) {
            fprintf(stderr, "  schema %s: %s\n", cases[i].schema, err.msg);
            continue;
        }
        cJSON *x = cJSON_Parse(cases[i].instance);
        T_CHECK(x != NULL);
        bool got = fe_jsonschema_valid(s, x);
        T_CHECK(got == cases[i].want);
        if (got != cases[i].want)
            fprintf(stderr, "  %s against %s: %d, want %d\n", cases[i].instance, cases[i].schema, got, cases[i].want);
        /* through the metric: the prediction's text, also fenced */
        struct fe_metric_task task = {.schema = s};
        struct fe_gold g = {.golds = NULL, .n_golds = 0, .task = &task};
        char *fenced = fe_xasprintf("```json\n%s\n```", cases[i].instance);
        T_CHECK(score("schema_valid", cases[i].instance, &g) == (cases[i].want ? 1 : 0));
        T_CHECK(score("schema_valid", fenced, &g) == (cases[i].want ? 1 : 0));
        free(fenced);
        cJSON_Delete(x);
        fe_jsonschema_free(s);
    }
    /* invalid JSON is never schema-valid, even against true */
    struct fe_err err = {0};
    struct fe_jsonschema *s = compile_text("true", &err);
    struct fe_metric_task task = {.schema = s};
    struct fe_gold g = {.golds = NULL, .n_golds = 0, .task = &task};
    T_CHECK(score("schema_valid", "{\"a\": 01}", &g) == 0);
    T_CHECK(score("schema_valid", "", &g) == 0);
    T_CHECK(score("schema_valid", "null", &g) == 1);
    fe_jsonschema_free(s);
}

static void test_missing(void)
{
    struct fe_metric_task none = {0};
    T_CHECK_STR(fe_metric_missing(fe_metric_find("schema_valid"), NULL), "task.schema");
    T_CHECK_STR(fe_metric_missing(fe_metric_find("schema_valid"), &none), "task.schema");
    T_CHECK_STR(fe_metric_missing(fe_metric_find("regex"), &none), "task.pattern");
    T_CHECK(fe_metric_missing(fe_metric_find("json_valid"), NULL) == NULL);
    T_CHECK(fe_metric_missing(fe_metric_find("contains"), NULL) == NULL);
    T_CHECK(fe_metric_missing(fe_metric_find("exact_match"), NULL) == NULL);
    /* without their input, the metrics never score 1 (the loader prevents this) */
    struct fe_gold g = {.golds = NULL, .n_golds = 0, .task = &none};
    T_CHECK(score("schema_valid", "{}", &g) == 0 && score("regex", "", &g) == 0);
}

static void test_json_equal(void)
{
    static const struct {
        const char *a, *b;
        bool want;
    } cases[] = {
        {"1", "1.0", true},        {"1", "true", false},         {"0", "false", false},
        {"null", "null", true},    {"\"a\"", "\"a\"", true},     {"\"a\"", "\"A\"", false},
        {"[1, 2]", "[1, 2]", true}, {"[1, 2]", "[2, 1]", false}, {"[1]", "[1, 1]", false},
        {"{\"a\": 1, \"b\": 2}", "{\"b\": 2, \"a\": 1}", true},  {"{\"a\": 1}", "{\"a\": 1, \"b\": 2}", false},
        {"{\"a\": {\"b\": [null]}}", "{\"a\": {\"b\": [null]}}", true}, {"{}", "[]", false},
    };
    for (size_t i = 0; i < FE_ARRAY_LEN(cases); i++) {
        cJSON *a = cJSON_Parse(cases[i].a), *b = cJSON_Parse(cases[i].b);
        T_CHECK(fe_json_equal(a, b) == cases[i].want && fe_json_equal(b, a) == cases[i].want);
        cJSON_Delete(a);
        cJSON_Delete(b);
    }
    cJSON *n = cJSON_CreateNull();
    T_CHECK(fe_json_equal(NULL, NULL) && !fe_json_equal(NULL, n) && !fe_json_equal(n, NULL));
    cJSON_Delete(n);
}

int main(void)
{
    test_json_valid();
    test_regex();
    test_contains();
    test_schema_compile();
    test_schema_valid();
    test_missing();
    test_json_equal();
    return T_DONE();
}
