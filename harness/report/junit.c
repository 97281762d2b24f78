/* junit.c — see junit.h. */
#include "harness/report/junit.h"

#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness/base/jsonout.h"
#include "harness/base/fs.h"
#include "harness/base/util.h"

void fe_xml_escape(struct fe_buf *out, const char *s, int attr)
{
    if (!s)
        return;
    size_t len = strlen(s), i = 0;
    while (i < len) {
        unsigned char c = (unsigned char)s[i];
        switch (c) {
        case '&': fe_buf_adds(out, "&amp;"); i++; continue;
        case '<': fe_buf_adds(out, "&lt;"); i++; continue;
        case '>': fe_buf_adds(out, "&gt;"); i++; continue;
        case '"': fe_buf_adds(out, "&quot;"); i++; continue;
        case '\'': fe_buf_adds(out, "&apos;"); i++; continue;
        case '\n': fe_buf_adds(out, attr ? "&#10;" : "\n"); i++; continue;
        case '\r': fe_buf_adds(out, "&#13;"); i++; continue;
        case '\t': fe_buf_adds(out, attr ? "&#9;" : "\t"); i++; continue;
        default: break;
        }
        if (c < 0x20 || c == 0x7f) { /* not allowed in XML 1.0, not even as &#N; */
            fe_buf_addf(out, "\\x%02x", c);
            i++;
            continue;
        }
        if (c < 0x80) {
            fe_buf_addch(out, (char)c);
            i++;
            continue;
        }
        size_t clen = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : 2;
        bool valid = fe_utf8_check(s + i, len - i) >= clen;
        /* U+FFFE and U+FFFF are not XML characters either */
        if (valid && clen == 3 && c == 0xef && (unsigned char)s[i + 1] == 0xbf &&
            (unsigned char)s[i + 2] >= 0xbe)
            valid = false;
        if (!valid) {
            fe_buf_addf(out, "\\x%02x", c);
            i++;
            continue;
        }
        fe_buf_add(out, s + i, clen);
        i += clen;
    }
}

static void fe_attr(struct fe_buf *out, const char *name, const char *value)
{
    fe_buf_addf(out, " %s=\"", name);
    fe_xml_escape(out, value, 1);
    fe_buf_adds(out, "\"");
}

/* The one-line message of a metric's testcase, e.g. "regression: exact_match delta -0.0800
 * (0.8400 -> 0.7600), 95% CI [-0.11, -0.05], upper bound -0.0556 < -margin -0.0200, p_adj ..." */
static char *fe_message(const cJSON *me, double alpha)
{
    const cJSON *ci = fe_json_get(me, "ci");
    double lo = NAN, hi = NAN;
    if (cJSON_GetArraySize(ci) == 2) {
        lo = cJSON_GetArrayItem(ci, 0)->valuedouble;
        hi = cJSON_GetArrayItem(ci, 1)->valuedouble;
    }
    return fe_xasprintf("%s: %s delta %+.4f (baseline %.4f -> candidate %.4f, n %.0f), "
                        "%.0f%% CI [%+.4f, %+.4f], one-sided bounds [%+.4f, %+.4f], margin %.4f, "
                        "p %.4g, p_adj %.4g (holm), MDE %.4f: %s",
                        fe_json_gets_or(me, "verdict", ""), fe_json_gets_or(me, "metric", ""),
                        fe_json_getn(me, "delta"), fe_json_getn(me, "mean_baseline"),
                        fe_json_getn(me, "mean_candidate"), fe_json_getn(me, "n"),
                        100 * (1 - alpha), lo, hi, fe_json_getn(me, "lower_bound"),
                        fe_json_getn(me, "upper_bound"), fe_json_getn(me, "margin"),
                        fe_json_getn(me, "p"), fe_json_getn(me, "p_adjusted"),
                        fe_json_getn(me, "mde"), fe_json_gets_or(me, "reason", ""));
}

void fe_junit_render(const cJSON *res, const char *summary, struct fe_buf *out)
{
    const cJSON *opt = fe_json_get(res, "options");
    double alpha = fe_json_getn(opt, "alpha");
    bool fail_inc = cJSON_IsTrue(fe_json_get(opt, "fail_on_inconclusive"));
    bool fail_drift = cJSON_IsTrue(fe_json_get(opt, "fail_on_drift"));
    size_t tests = 0, failures = 0, skipped = 0;
    const cJSON *ae, *me;
    cJSON_ArrayForEach(ae, fe_json_get(res, "arms")) {
        cJSON_ArrayForEach(me, fe_json_get(ae, "metrics")) {
            const char *v = fe_json_gets_or(me, "verdict", "");
            tests++;
            if (strcmp(v, "regression") == 0 || (fail_inc && strcmp(v, "inconclusive") == 0))
                failures++;
            else if (strcmp(v, "inconclusive") == 0)
                skipped++;
        }
        tests++; /* drift */
        if (fail_drift && cJSON_IsTrue(fe_json_get(fe_json_get(ae, "drift"), "flagged")))
            failures++;
    }
    char stamp[32];
    fe_utc_now(stamp, sizeof(stamp));
    if (strlen(stamp) > 0 && stamp[strlen(stamp) - 1] == 'Z')
        stamp[strlen(stamp) - 1] = 0; /* JUnit's schema wants a local-style ISO 8601 time */
    fe_buf_adds(out, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    fe_buf_addf(out, "<testsuites name=\"fteval compare\" tests=\"%zu\" failures=\"%zu\" errors=\"0\" "
                     "skipped=\"%zu\" time=\"0\">\n", tests, failures, skipped);
    fe_buf_adds(out, "  <testsuite name=\"fteval compare\"");
    fe_buf_addf(out, " tests=\"%zu\" failures=\"%zu\" errors=\"0\" skipped=\"%zu\" time=\"0\"", tests,
                failures, skipped);
    fe_attr(out, "timestamp", stamp);
    fe_buf_adds(out, ">\n    <properties>\n");
    static const char *const props[] = {"margin", "alpha", "resamples", "seed"};
    for (size_t i = 0; i < FE_ARRAY_LEN(props); i++) {
        char v[64];
        snprintf(v, sizeof(v), "%.10g", fe_json_getn(opt, props[i]));
        fe_buf_adds(out, "      <property");
        fe_attr(out, "name", props[i]);
        fe_attr(out, "value", v);
        fe_buf_adds(out, "/>\n");
    }
    const char *pv[][2] = {{"baseline", fe_json_gets_or(fe_json_get(res, "baseline"), "dir", "")},
                           {"candidate", fe_json_gets_or(fe_json_get(res, "candidate"), "dir", "")},
                           {"verdict", fe_json_gets_or(res, "verdict", "")}};
    for (size_t i = 0; i < FE_ARRAY_LEN(pv); i++) {
        fe_buf_adds(out, "      <property");
        fe_attr(out, "name", pv[i][0]);
        fe_attr(out, "value", pv[i][1]);
        fe_buf_adds(out, "/>\n");
    }
    fe_buf_adds(out, "    </properties>\n");
    cJSON_ArrayForEach(ae, fe_json_get(res, "arms")) {
        const char *arm = fe_json_gets_or(ae, "name", "");
        cJSON_ArrayForEach(me, fe_json_get(ae, "metrics")) {
            const char *v = fe_json_gets_or(me, "verdict", "");
            fe_buf_adds(out, "    <testcase");
            fe_attr(out, "classname", arm);
            fe_attr(out, "name", fe_json_gets_or(me, "metric", ""));
            fe_buf_adds(out, " time=\"0\">\n");
            char *msg = fe_message(me, alpha);
            bool fail = strcmp(v, "regression") == 0 || (fail_inc && strcmp(v, "inconclusive") == 0);
            if (fail || strcmp(v, "inconclusive") == 0) {
                fe_buf_adds(out, fail ? "      <failure" : "      <skipped");
                fe_attr(out, "type", v);
                fe_attr(out, "message", msg);
                fe_buf_adds(out, ">");
                fe_xml_escape(out, msg, 0);
                if (fail && strcmp(fe_json_gets_or(fe_json_get(ae, "broke"), "metric", ""),
                                   fe_json_gets_or(me, "metric", "")) == 0) {
                    fe_buf_addf(out,
                                "\nbroke: %.0f, fixed: %.0f examples (compare.json lists them)",
                                fe_json_getn(fe_json_get(ae, "broke"), "count"),
                                fe_json_getn(fe_json_get(ae, "fixed"), "count"));
                    const cJSON *ex;
                    int shown = 0;
                    cJSON_ArrayForEach(ex, fe_json_get(fe_json_get(ae, "broke"), "examples")) {
                        if (shown++ >= 10)
                            break;
                        fe_buf_adds(out, "\n  ");
                        fe_xml_escape(out, fe_json_gets_or(ex, "id", ""), 0);
                        fe_buf_adds(out, ": baseline \"");
                        fe_xml_escape(out, fe_json_gets_or(ex, "baseline_prediction", ""), 0);
                        fe_buf_adds(out, "\" -> candidate \"");
                        fe_xml_escape(out, fe_json_gets_or(ex, "candidate_prediction", ""), 0);
                        fe_buf_adds(out, "\"");
                    }
                }
                fe_buf_adds(out, fail ? "</failure>\n" : "</skipped>\n");
            } else {
                fe_buf_adds(out, "      <system-out>");
                fe_xml_escape(out, msg, 0);
                fe_buf_adds(out, "</system-out>\n");
            }
            free(msg);
            fe_buf_adds(out, "    </testcase>\n");
        }
        const cJSON *drift = fe_json_get(ae, "drift");
        bool flagged = cJSON_IsTrue(fe_json_get(drift, "flagged"));
        fe_buf_adds(out, "    <testcase");
        fe_attr(out, "classname", arm);
        fe_buf_adds(out, " name=\"drift\" time=\"0\">\n");
        struct fe_buf d = {0};
        const cJSON *t;
        cJSON_ArrayForEach(t, fe_json_get(drift, "tests"))
            fe_buf_addf(&d, "%s%s: %s p %.4g%s", d.len ? "; " : "", fe_json_gets_or(t, "name", ""),
                        fe_json_gets_or(t, "test", ""), fe_json_getn(t, "p"),
                        cJSON_IsTrue(fe_json_get(t, "flagged")) ? " (flagged)" : "");
        if (flagged && fail_drift) {
            fe_buf_adds(out, "      <failure type=\"drift\"");
            fe_attr(out, "message", fe_buf_str(&d));
            fe_buf_adds(out, ">");
            fe_xml_escape(out, fe_buf_str(&d), 0);
            fe_buf_adds(out, "</failure>\n");
        } else {
            fe_buf_adds(out, "      <system-out>");
            fe_xml_escape(out, flagged ? "drift flagged: " : "no drift: ", 0);
            fe_xml_escape(out, fe_buf_str(&d), 0);
            fe_buf_adds(out, "</system-out>\n");
        }
        fe_buf_release(&d);
        fe_buf_adds(out, "    </testcase>\n");
    }
    fe_buf_adds(out, "    <system-out>");
    fe_xml_escape(out, summary ? summary : "", 0);
    fe_buf_adds(out, "</system-out>\n  </testsuite>\n</testsuites>\n");
}

enum fe_status fe_junit_write(const cJSON *result, const char *summary, const char *path,
                              struct fe_err *err)
{
    struct fe_buf b = {0};
    fe_junit_render(result, summary, &b);
    enum fe_status st = fe_write_file_atomic(path, fe_buf_str(&b), b.len, err);
    fe_buf_release(&b);
    return st;
}
