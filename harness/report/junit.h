/* junit.h — JUnit XML for CI systems (GitHub Actions test reporters, GitLab, Jenkins).
 *
 * One <testsuites> with one <testsuite name="fteval compare">, one <testcase> per arm x metric
 * (classname = arm, name = metric). A "regression" verdict gives a <failure type="regression">
 * whose message carries the numbers; "inconclusive" gives <skipped> (or a <failure
 * type="inconclusive"> under --fail-on inconclusive); flagged drift adds a testcase per arm
 * (name "drift") that fails only under --fail-on drift and is otherwise reported in
 * <system-out>. Every string from data (arm names, model outputs, paths) is XML-escaped and
 * characters XML 1.0 cannot carry (most C0 controls, invalid UTF-8) become "\xNN" text.
 */
#ifndef FE_JUNIT_H
#define FE_JUNIT_H

#include <cjson/cJSON.h>

#include "harness/base/buf.h"
#include "harness/base/err.h"

/* Appends s escaped for XML text (attr = false) or a double-quoted attribute (attr = true:
 * newlines and tabs become character references so they survive attribute normalisation). */
void fe_xml_escape(struct fe_buf *out, const char *s, int attr);

/* Appends the JUnit document for a compare.json result; summary is the readable report placed
 * in <system-out> (may be NULL). */
void fe_junit_render(const cJSON *result, const char *summary, struct fe_buf *out);

/* Renders and writes to path (replaced atomically through path.tmp). FE_EIO with err on failure. */
enum fe_status fe_junit_write(const cJSON *result, const char *summary, const char *path,
                              struct fe_err *err);

#endif
