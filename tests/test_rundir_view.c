/* test_rundir_view.c — the typed reader of a run's files (rundir.h, compare.h): every absent or
 * mistyped field is visible as NULL / NAN / a false flag, and the renderers fed by it (report.md,
 * report.html, the compare text report, JUnit) cope with such a file without a NULL ever
 * reaching a "%s" (run under ASan in CI). Expected values are written from the JSON below. */
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "harness/base/buf.h"
#include "harness/analysis/compare.h"
#include "harness/report/junit.h"
#include "harness/report/report.h"
#include "harness/rundir/rundir.h"
#include "harness/base/util.h"
#include "tests/fixtures/report/run_fixture.h"
#include "tests/t.h"

/* A summary with holes: arm "b" absent, a CI of three numbers, a comparison without names, a
 * non-object comparison, a verdict that is a number, a reason that is not a string, a null
 * training cost and a rubric dimension without evidence. */
static const char hostile_summary[] =
    "{\"schema\": \"fteval.summary/1\","
    " \"arms\": {\"a\": {\"n\": 10, \"n_errors\": 1,"
    "                   \"metrics\": {\"exact_match\": {\"mean\": 0.5, \"ci\": [0.4, 0.6]},"
    "                                 \"f1\": {\"mean\": null, \"ci\": [0.1, 0.2, 0.3]}},"
    "                   \"cost\": {\"priced\": true, \"per_inference_usd\": 0.001},"
    "                   \"latency_ms\": {\"p50\": 120}}},"
    " \"comparisons\": [{\"a\": \"b\", \"b\": \"a\", \"metric\": \"exact_match\", \"delta\": 0.1,"
    "                    \"ci\": [0.0, 0.2, 0.3], \"p_bootstrap\": 0.04, \"significant\": true},"
    "                   {\"delta\": \"x\", \"ci\": [\"lo\", \"hi\"]}, 5],"
    " \"decision\": {\"verdict\": 7, \"baseline_arm\": \"a\", \"reasons\": [\"r1\", 3],"
    "              \"break_even\": {\"training_cost_usd\": null, \"requests_per_month\": 1000,"
    "                             \"monthly_cost_usd\": {\"a\": 1.5, \"b\": null}},"
    "              \"rubric\": {\"total\": 20, \"max\": 35,"
    "                         \"dimensions\": {\"decision\": {\"score\": 3}, \"cost\": {}}}}}";

static bool contains(const char *hay, const char *needle)
{
    return hay && strstr(hay, needle) != NULL;
}

static void test_summary_view(const struct fe_run *run)
{
    struct fe_summary_view v;
    fe_summary_view_parse(run, run->summary, &v);
    T_CHECK(v.present);
    T_CHECK(v.n_arms == 2);
    const struct fe_summary_arm *a = &v.arms[0], *b = &v.arms[1];
    T_CHECK(a->present);
    T_CHECK_NEAR(a->n, 10, 0);
    T_CHECK_NEAR(a->n_errors, 1, 0);
    T_CHECK_NEAR(a->metrics[0].mean, 0.5, 0);
    T_CHECK_NEAR(a->metrics[0].ci_lo, 0.4, 0);
    T_CHECK_NEAR(a->metrics[0].ci_hi, 0.6, 0);
    T_CHECK(a->metrics[1].present && !fe_has(a->metrics[1].mean));
    T_CHECK(!fe_has(a->metrics[1].ci_lo) && !fe_has(a->metrics[1].ci_hi)); /* three numbers */
    T_CHECK(a->cost.present && a->cost.priced && a->cost.has_priced);
    T_CHECK_NEAR(a->cost.per_inference_usd, 0.001, 0);
    T_CHECK(!fe_has(a->cost.total_usd));
    T_CHECK(a->latency.present && !fe_has(a->latency.p95));
    T_CHECK_NEAR(a->latency.p50, 120, 0);
    T_CHECK(!b->present && !fe_has(b->n) && !b->metrics[0].present && !fe_has(b->metrics[0].mean));
    T_CHECK(!b->cost.present && !b->cost.priced && !b->latency.present);

    T_CHECK(v.n_comparisons == 3);
    const struct fe_summary_comparison *c = v.comparisons;
    T_CHECK(c[0].present);
    T_CHECK_STR(c[0].a, "b");
    T_CHECK_NEAR(c[0].delta, 0.1, 0);
    T_CHECK(!fe_has(c[0].ci_lo));
    T_CHECK(c[0].has_significant && c[0].significant);
    T_CHECK(!fe_has(c[0].p_adjusted));
    T_CHECK_NEAR(c[0].p_bootstrap, 0.04, 0);
    T_CHECK(c[1].present && !c[1].a && !c[1].metric && !fe_has(c[1].delta) && !fe_has(c[1].ci_lo));
    T_CHECK(!c[1].has_significant);
    T_CHECK(!c[2].present && !fe_has(c[2].delta));

    const struct fe_decision_view *d = &v.decision;
    T_CHECK(d->present);
    T_CHECK(d->verdict == NULL);
    T_CHECK_STR(d->baseline_arm, "a");
    T_CHECK(d->candidate_arm == NULL);
    T_CHECK(d->n_reasons == 2);
    T_CHECK_STR(d->reasons[0], "r1");
    T_CHECK(d->reasons[1] == NULL);
    T_CHECK(d->has_break_even && !fe_has(d->training_cost_usd));
    T_CHECK_NEAR(d->requests_per_month, 1000, 0);
    T_CHECK(d->n_monthly_cost == 2);
    T_CHECK_STR(d->monthly_cost[1].arm, "b");
    T_CHECK(!fe_has(d->monthly_cost[1].usd));
    T_CHECK(d->has_rubric);
    T_CHECK_NEAR(d->rubric_total, 20, 0);
    T_CHECK(d->rubric_band == NULL);
    T_CHECK(d->n_dims == 2);
    T_CHECK_STR(d->dims[1].name, "cost");
    T_CHECK(!fe_has(d->dims[1].score) && d->dims[1].evidence == NULL);
    fe_summary_view_release(&v);

    /* no summary at all */
    fe_summary_view_parse(run, NULL, &v);
    T_CHECK(!v.present && v.n_comparisons == 0 && !v.decision.present && !v.decision.has_rubric);
    T_CHECK(v.n_arms == 2 && !v.arms[0].present && !fe_has(v.arms[0].metrics[0].mean));
    fe_summary_view_release(&v);

    struct fe_manifest_view m;
    fe_manifest_view_parse(run->manifest, &m);
    T_CHECK_STR(m.run_id, "fixture-run");
    T_CHECK_STR(m.dataset_sha256, "abababab");
    T_CHECK(m.started_at == NULL && !fe_has(m.dataset_examples) && !fe_has(m.stats_seed));
    fe_manifest_view_parse(NULL, &m);
    T_CHECK(m.run_id == NULL && !fe_has(m.budget_max_usd));
}

static char *read_text(const char *dir, const char *name)
{
    char *path = fe_xasprintf("%s/%s", dir, name);
    size_t len;
    char *t = fe_read_file(path, 0, &len);
    free(path);
    return t;
}

static void test_report_with_holes(struct fe_run *run)
{
    struct fe_err err = {0};
    T_CHECK(fe_report_write(run, &err) == FE_OK);
    char *md = read_text(run->dir, "report.md");
    char *html = read_text(run->dir, "report.html");
    T_CHECK(md && html);
    T_CHECK(contains(md, "## Verdict: No decision")); /* a verdict that is not a string */
    T_CHECK(contains(md, "(`none`)."));
    T_CHECK(contains(md, "- r1\n- \n"));                 /* a reason that is not a string */
    T_CHECK(contains(md, "| b vs a | exact\\_match | +10.0 | n/a | 0.040 | n/a |"));
    T_CHECK(contains(md, "|  vs  |  | n/a | n/a | n/a | n/a | "));
    T_CHECK(contains(md, "- training cost: unknown"));
    T_CHECK(contains(md, "- monthly cost of b: unknown"));
    T_CHECK(contains(md, "## Readiness rubric: 20 / 35 ()"));
    T_CHECK(contains(md, "| cost | n/a |  |  |"));
    T_CHECK(!contains(md, "(null)") && !contains(html, "(null)"));
    T_CHECK(contains(html, "<tr class=\"score0\"><td>cost</td><td class=\"num\">n/a</td>"));
    free(md);
    free(html);
}

/* compare.json with a metric test that has neither verdict nor metric name, a drift test
 * without name or test kind, and no overall verdict. */
static const char hostile_compare[] =
    "{\"mode\": \"runs\", \"options\": {\"alpha\": 0.05, \"margin\": 0.02},"
    " \"dataset\": {\"same\": true},"
    " \"warnings\": [\"w1\", 4],"
    " \"arms\": [{\"name\": \"ft\", \"n\": 3,"
    "            \"metrics\": [{\"delta\": 0.1, \"ci\": [0.0, null]}],"
    "            \"drift\": {\"flagged\": true, \"tests\": [{\"p\": 0.5}]},"
    "            \"broke\": {\"examples\": [{\"gold\": [\"x\"]}]}}]}";

static void test_compare_with_holes(void)
{
    cJSON *res = cJSON_Parse(hostile_compare);
    struct fe_compare_view v;
    fe_compare_view_parse(res, &v);
    T_CHECK(v.verdict == NULL && v.baseline_dir == NULL);
    T_CHECK(fe_compare_view_exit_code(&v) == FE_EXIT_INVALID);
    T_CHECK(fe_compare_exit_code(res) == FE_EXIT_INVALID);
    T_CHECK(v.n_warnings == 2 && v.warnings[1] == NULL);
    T_CHECK(v.n_arms == 1 && v.arms[0].n_metrics == 1);
    const struct fe_compare_metric_view *me = &v.arms[0].metrics[0];
    T_CHECK(me->verdict == NULL && me->metric == NULL);
    T_CHECK_NEAR(me->delta, 0.1, 0);
    T_CHECK(!fe_has(me->ci_lo) && !fe_has(me->ci_hi)); /* [0.0, null] is no interval */
    T_CHECK(v.arms[0].drift_flagged && v.arms[0].n_drift == 1 && v.arms[0].drift[0].name == NULL);
    T_CHECK(v.arms[0].broke.n_examples == 1 && v.arms[0].broke.examples[0].id == NULL);
    T_CHECK(cJSON_IsArray(v.arms[0].broke.examples[0].gold));
    T_CHECK(v.arms[0].fixed.n_examples == 0 && v.arms[0].fixed.metric == NULL);
    fe_compare_view_release(&v);

    struct fe_buf text = {0}, xml = {0};
    fe_compare_render_text(res, 10, &text);
    T_CHECK(contains(fe_buf_str(&text), "\n  n/a: n/a (n/a)\n"));
    T_CHECK(contains(fe_buf_str(&text), "  drift n/a            rate - -> -, McNemar p 0.5\n"));
    T_CHECK(contains(fe_buf_str(&text), "  broke on n/a: 1\n    null: gold \"[\"x\"]\""));
    T_CHECK(contains(fe_buf_str(&text), "\nresult: n/a (nan pass"));
    T_CHECK(!contains(fe_buf_str(&text), "(null)"));
    fe_junit_render(res, NULL, &xml);
    T_CHECK(contains(fe_buf_str(&xml), "<testcase classname=\"ft\" name=\"\" time=\"0\">"));
    T_CHECK(contains(fe_buf_str(&xml), "<system-out>drift flagged: :  p 0.5</system-out>"));
    T_CHECK(contains(fe_buf_str(&xml), "<property name=\"verdict\" value=\"\"/>"));
    fe_buf_release(&text);
    fe_buf_release(&xml);
    cJSON_Delete(res);
}

int main(void)
{
    char *dir = fx_tmpdir();
    const char *names[] = {"a", "b"}, *models[] = {"m-a", "m-b"};
    cJSON *m = fx_manifest(names, models, 2, NULL);
    fx_write_json(dir, "manifest.json", m);
    cJSON_Delete(m);
    for (size_t a = 0; a < 2; a++) {
        FILE *f = fx_open_arm(dir, names[a]);
        for (int i = 0; i < 4; i++)
            fx_record(f, names[a], i, i % 2, 0.5, true, 0.001, 100 + i, NULL, NULL);
        fclose(f);
    }
    fx_write(dir, "summary.json", hostile_summary);
    struct fe_run *run = fx_load(dir);
    T_CHECK(run->summary != NULL);
    test_summary_view(run);
    test_report_with_holes(run);
    fe_run_free(run);
    test_compare_with_holes();
    fx_rmtree(dir);
    free(dir);
    return T_DONE();
}
