/* junit.c — see junit.h. */
#include "harness/report/junit.h"

#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness/analysis/compare.h"
#include "harness/rundir/rundir.h"
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

static bool fe_streq(const char *a, const char *b)
{
    return a && strcmp(a, b) == 0;
}

/* The one-line message of a metric's testcase, e.g. "regression: exact_match delta -0.0800
 * (0.8400 -> 0.7600), 95% CI [-0.11, -0.05], upper bound -0.0556 < -margin -0.0200, p_adj ..." */
static char *fe_message(const struct fe_compare_metric_view *me, double alpha)
{
    return fe_xasprintf("%s: %s delta %+.4f (baseline %.4f -> candidate %.4f, n %.0f), "
                        "%.0f%% CI [%+.4f, %+.4f], one-sided bounds [%+.4f, %+.4f], margin %.4f, "
                        "p %.4g, p_adj %.4g (holm), MDE %.4f: %s",
                        fe_str_or(me->verdict, ""), fe_str_or(me->metric, ""), me->delta,
                        me->mean_baseline, me->mean_candidate, me->n, 100 * (1 - alpha),
                        me->ci_lo, me->ci_hi, me->lower_bound, me->upper_bound, me->margin, me->p,
                        me->p_adjusted, me->mde, fe_str_or(me->reason, ""));
}

/* A metric verdict fails the suite (regression, or inconclusive under --fail-on), or is
 * skipped (inconclusive). */
static bool fe_fails(const struct fe_compare_view *r, const char *v)
{
    return fe_streq(v, "regression") || (r->fail_on_inconclusive && fe_streq(v, "inconclusive"));
}

static void fe_properties(const struct fe_compare_view *r, struct fe_buf *out)
{
    fe_buf_adds(out, ">\n    <properties>\n");
    const struct {
        const char *name;
        double v;
    } nums[] = {{"margin", r->margin}, {"alpha", r->alpha}, {"resamples", r->resamples},
                {"seed", r->seed}};
    for (size_t i = 0; i < FE_ARRAY_LEN(nums); i++) {
        char v[64];
        snprintf(v, sizeof(v), "%.10g", nums[i].v);
        fe_buf_adds(out, "      <property");
        fe_attr(out, "name", nums[i].name);
        fe_attr(out, "value", v);
        fe_buf_adds(out, "/>\n");
    }
    const char *pv[][2] = {{"baseline", fe_str_or(r->baseline_dir, "")},
                           {"candidate", fe_str_or(r->candidate_dir, "")},
                           {"verdict", fe_str_or(r->verdict, "")}};
    for (size_t i = 0; i < FE_ARRAY_LEN(pv); i++) {
        fe_buf_adds(out, "      <property");
        fe_attr(out, "name", pv[i][0]);
        fe_attr(out, "value", pv[i][1]);
        fe_buf_adds(out, "/>\n");
    }
    fe_buf_adds(out, "    </properties>\n");
}

/* The testcase of one arm x metric. */
static void fe_metric_case(const struct fe_compare_view *r, const struct fe_compare_arm_view *ae,
                           const struct fe_compare_metric_view *me, struct fe_buf *out)
{
    const char *v = me->verdict;
    fe_buf_adds(out, "    <testcase");
    fe_attr(out, "classname", fe_str_or(ae->name, ""));
    fe_attr(out, "name", fe_str_or(me->metric, ""));
    fe_buf_adds(out, " time=\"0\">\n");
    char *msg = fe_message(me, r->alpha);
    bool fail = fe_fails(r, v);
    if (fail || fe_streq(v, "inconclusive")) {
        fe_buf_adds(out, fail ? "      <failure" : "      <skipped");
        fe_attr(out, "type", v);
        fe_attr(out, "message", msg);
        fe_buf_adds(out, ">");
        fe_xml_escape(out, msg, 0);
        if (fail && strcmp(fe_str_or(ae->broke.metric, ""), fe_str_or(me->metric, "")) == 0) {
            fe_buf_addf(out, "\nbroke: %.0f, fixed: %.0f examples (compare.json lists them)",
                        ae->broke.count, ae->fixed.count);
            for (size_t i = 0; i < ae->broke.n_examples && i < 10; i++) {
                const struct fe_compare_example_view *ex = &ae->broke.examples[i];
                fe_buf_adds(out, "\n  ");
                fe_xml_escape(out, fe_str_or(ex->id, ""), 0);
                fe_buf_adds(out, ": baseline \"");
                fe_xml_escape(out, fe_str_or(ex->baseline_prediction, ""), 0);
                fe_buf_adds(out, "\" -> candidate \"");
                fe_xml_escape(out, fe_str_or(ex->candidate_prediction, ""), 0);
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

/* The drift testcase of one arm: fails only under --fail-on drift. */
static void fe_drift_case(const struct fe_compare_view *r, const struct fe_compare_arm_view *ae,
                          struct fe_buf *out)
{
    fe_buf_adds(out, "    <testcase");
    fe_attr(out, "classname", fe_str_or(ae->name, ""));
    fe_buf_adds(out, " name=\"drift\" time=\"0\">\n");
    struct fe_buf d = {0};
    for (size_t i = 0; i < ae->n_drift; i++) {
        const struct fe_compare_drift_test_view *t = &ae->drift[i];
        fe_buf_addf(&d, "%s%s: %s p %.4g%s", d.len ? "; " : "", fe_str_or(t->name, ""),
                    fe_str_or(t->test, ""), t->p, t->flagged ? " (flagged)" : "");
    }
    if (ae->drift_flagged && r->fail_on_drift) {
        fe_buf_adds(out, "      <failure type=\"drift\"");
        fe_attr(out, "message", fe_buf_str(&d));
        fe_buf_adds(out, ">");
        fe_xml_escape(out, fe_buf_str(&d), 0);
        fe_buf_adds(out, "</failure>\n");
    } else {
        fe_buf_adds(out, "      <system-out>");
        fe_xml_escape(out, ae->drift_flagged ? "drift flagged: " : "no drift: ", 0);
        fe_xml_escape(out, fe_buf_str(&d), 0);
        fe_buf_adds(out, "</system-out>\n");
    }
    fe_buf_release(&d);
    fe_buf_adds(out, "    </testcase>\n");
}

void fe_junit_render(const cJSON *res, const char *summary, struct fe_buf *out)
{
    struct fe_compare_view r;
    fe_compare_view_parse(res, &r);
    size_t tests = 0, failures = 0, skipped = 0;
    for (size_t a = 0; a < r.n_arms; a++) {
        const struct fe_compare_arm_view *ae = &r.arms[a];
        for (size_t k = 0; k < ae->n_metrics; k++) {
            const char *v = ae->metrics[k].verdict;
            tests++;
            if (fe_fails(&r, v))
                failures++;
            else if (fe_streq(v, "inconclusive"))
                skipped++;
        }
        tests++; /* drift */
        if (r.fail_on_drift && ae->drift_flagged)
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
    fe_properties(&r, out);
    for (size_t a = 0; a < r.n_arms; a++) {
        for (size_t k = 0; k < r.arms[a].n_metrics; k++)
            fe_metric_case(&r, &r.arms[a], &r.arms[a].metrics[k], out);
        fe_drift_case(&r, &r.arms[a], out);
    }
    fe_buf_adds(out, "    <system-out>");
    fe_xml_escape(out, summary ? summary : "", 0);
    fe_buf_adds(out, "</system-out>\n  </testsuite>\n</testsuites>\n");
    fe_compare_view_release(&r);
}

enum fe_status fe_junit_write(const cJSON *result, const char *summary, const char *path,
                              struct fe_err *err)
{
    struct fe_buf b = {0};
    fe_junit_render(result, summary, &b);
    char *tmp = fe_xasprintf("%s.tmp", path);
    FILE *f = fopen(tmp, "wb");
    enum fe_status st = FE_OK;
    if (!f) {
        st = fe_err_set(err, FE_EIO, "%s: cannot write: %s", path, strerror(errno));
    } else {
        bool ok = fwrite(b.data ? b.data : "", 1, b.len, f) == b.len;
        ok = (fclose(f) == 0) && ok;
        if (!ok || rename(tmp, path) != 0) {
            st = fe_err_set(err, FE_EIO, "%s: cannot write: %s", path, strerror(errno));
            (void)unlink(tmp);
        }
    }
    free(tmp);
    fe_buf_release(&b);
    return st;
}
