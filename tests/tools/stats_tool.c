/* stats_tool — drives the statistics module from scripts (tests/stats_*_test.py, bench/stats).
 *
 * Reads one JSON request on stdin, prints one JSON answer on stdout (exit 0), or an error
 * message on stderr (exit 1). Requests ("op" defaults to "table"):
 *   table:  {"arms": [names], "metrics": [{"name", "binary"}], "scores": {arm: {metric: [x]}},
 *            "cluster": [keys] | null, "baseline": name, "seed", "resamples", "alpha",
 *            "correction": "holm"|"bonferroni"|"none"}
 *           -> {"arms": {arm: fe_stats_arm_metrics}, "comparisons": fe_stats_comparisons}
 *   pair:   {"a": [x], "b": [x], "binary", "cluster"?, ...opts} -> fe_stats_compare_pair
 *   signflip: {"d": [x], "resamples", "seed"} -> {"p", "exact"}
 *   adjust: {"p": [x], "correction"} -> {"adjusted": [x]}
 *   mcnemar: {"b", "c"} -> {"p", "midp"}
 *   noninferiority: {"a", "b", "cluster"?, "margin", ...opts} -> struct fe_noninferiority
 *   drift:  {"a": [counts], "b": [counts]} -> {"defined", "stat", "df", "p"}
 * With "time": true the answer also carries "seconds" (the statistics call only).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "harness/base/buf.h"
#include "harness/base/util.h"
#include "metrics/stats.h"

static double *num_array(const cJSON *a, size_t *n)
{
    *n = (size_t)cJSON_GetArraySize(a);
    double *v = fe_xcalloc(*n ? *n : 1, sizeof(*v));
    size_t i = 0;
    const cJSON *x;
    cJSON_ArrayForEach(x, a) v[i++] = cJSON_GetNumberValue(x);
    return v;
}

static const char **str_array(const cJSON *a, size_t n)
{
    if (!cJSON_IsArray(a))
        return NULL;
    const char **v = fe_xcalloc(n ? n : 1, sizeof(*v));
    size_t i = 0;
    const cJSON *x;
    cJSON_ArrayForEach(x, a)
    {
        if (i < n)
            v[i] = cJSON_IsString(x) ? x->valuestring : NULL;
        i++;
    }
    return v;
}

static void read_opts(const cJSON *req, struct fe_stats_opts *o)
{
    fe_stats_opts_default(o);
    const cJSON *x;
    if ((x = cJSON_GetObjectItem(req, "seed")) && cJSON_IsNumber(x))
        o->seed = (unsigned long)x->valuedouble;
    if ((x = cJSON_GetObjectItem(req, "resamples")) && cJSON_IsNumber(x))
        o->resamples = (size_t)x->valuedouble;
    if ((x = cJSON_GetObjectItem(req, "alpha")) && cJSON_IsNumber(x))
        o->alpha = x->valuedouble;
    if ((x = cJSON_GetObjectItem(req, "correction")) && cJSON_IsString(x)) {
        if (strcmp(x->valuestring, "none") == 0)
            o->correction = FE_CORRECTION_NONE;
        else if (strcmp(x->valuestring, "bonferroni") == 0)
            o->correction = FE_CORRECTION_BONFERRONI;
    }
}

static cJSON *op_table(const cJSON *req, const struct fe_stats_opts *o, struct fe_err *err)
{
    const cJSON *arms = cJSON_GetObjectItem(req, "arms");
    const cJSON *metrics = cJSON_GetObjectItem(req, "metrics");
    const cJSON *scores = cJSON_GetObjectItem(req, "scores");
    size_t na = (size_t)cJSON_GetArraySize(arms), nm = (size_t)cJSON_GetArraySize(metrics);
    const char **an = str_array(arms, na);
    const char **mn = fe_xcalloc(nm ? nm : 1, sizeof(*mn));
    bool *mb = fe_xcalloc(nm ? nm : 1, sizeof(*mb));
    for (size_t m = 0; m < nm; m++) {
        const cJSON *mm = cJSON_GetArrayItem(metrics, (int)m);
        mn[m] = cJSON_GetStringValue(cJSON_GetObjectItem(mm, "name"));
        mb[m] = cJSON_IsTrue(cJSON_GetObjectItem(mm, "binary"));
    }
    for (size_t a = 0; a < na; a++)
        if (!an[a]) {
            fe_err_set(err, FE_EINVALID, "arms[%zu]: not a string", a);
            free(mb);
            free(mn);
            free(an);
            return NULL;
        }
    for (size_t m = 0; m < nm; m++)
        if (!mn[m]) {
            fe_err_set(err, FE_EINVALID, "metrics[%zu].name: not a string", m);
            free(mb);
            free(mn);
            free(an);
            return NULL;
        }
    size_t n = 0;
    if (na && nm)
        n = (size_t)cJSON_GetArraySize(
            cJSON_GetObjectItem(cJSON_GetObjectItem(scores, an[0]), mn[0]));
    double *sc = fe_xcalloc(na * nm * n + 1, sizeof(*sc));
    for (size_t a = 0; a < na; a++)
        for (size_t m = 0; m < nm; m++) {
            const cJSON *v = cJSON_GetObjectItem(cJSON_GetObjectItem(scores, an[a]), mn[m]);
            size_t k;
            double *x = num_array(v, &k);
            memcpy(sc + (a * nm + m) * n, x, (k < n ? k : n) * sizeof(*x));
            free(x);
        }
    const char **cl = str_array(cJSON_GetObjectItem(req, "cluster"), n);
    size_t base = 0;
    const char *bn = cJSON_GetStringValue(cJSON_GetObjectItem(req, "baseline"));
    for (size_t a = 0; bn && a < na; a++)
        if (strcmp(an[a], bn) == 0)
            base = a;
    struct fe_score_table t = {.n = n,
                               .n_arms = na,
                               .arm_names = an,
                               .n_metrics = nm,
                               .metric_names = mn,
                               .metric_binary = mb,
                               .scores = sc,
                               .cluster = cl};
    double t0 = fe_now();
    cJSON *cmp = fe_stats_comparisons(&t, base, o, err);
    double t1 = fe_now();
    cJSON *out = NULL;
    if (cmp) {
        out = cJSON_CreateObject();
        cJSON *ao = cJSON_AddObjectToObject(out, "arms");
        for (size_t a = 0; a < na; a++)
            cJSON_AddItemToObject(ao, an[a], fe_stats_arm_metrics(&t, a));
        cJSON_AddItemToObject(out, "comparisons", cmp);
        if (cJSON_IsTrue(cJSON_GetObjectItem(req, "time")))
            cJSON_AddNumberToObject(out, "seconds", t1 - t0);
    }
    free(cl);
    free(sc);
    free(mb);
    free(mn);
    free(an);
    return out;
}

static cJSON *op_other(const char *op, const cJSON *req, const struct fe_stats_opts *o,
                       struct fe_err *err)
{
    size_t n = 0, nb = 0;
    cJSON *out = NULL;
    if (strcmp(op, "pair") == 0 || strcmp(op, "noninferiority") == 0) {
        double *a = num_array(cJSON_GetObjectItem(req, "a"), &n);
        double *b = num_array(cJSON_GetObjectItem(req, "b"), &nb);
        if (nb < n)
            n = nb;
        const char **cl = str_array(cJSON_GetObjectItem(req, "cluster"), n);
        if (op[0] == 'p') {
            out = fe_stats_compare_pair(a, b, n, cJSON_IsTrue(cJSON_GetObjectItem(req, "binary")),
                                        cl, "metric", "a", "b", o, err);
        } else {
            struct fe_noninferiority r;
            double margin = cJSON_GetNumberValue(cJSON_GetObjectItem(req, "margin"));
            fe_stats_noninferiority(a, b, n, cl, margin, o, &r);
            out = cJSON_CreateObject();
            cJSON_AddBoolToObject(out, "defined", r.defined);
            cJSON_AddNumberToObject(out, "delta", r.delta);
            cJSON_AddNumberToObject(out, "lower", r.lower);
            cJSON_AddNumberToObject(out, "lower_normal", r.lower_normal);
            cJSON_AddNumberToObject(out, "margin", r.margin);
            cJSON_AddNumberToObject(out, "mc_se", r.mc_se);
            cJSON_AddBoolToObject(out, "pass", r.pass);
            cJSON_AddBoolToObject(out, "inconclusive", r.inconclusive);
        }
        free(cl);
        free(a);
        free(b);
    } else if (strcmp(op, "signflip") == 0) {
        double *d = num_array(cJSON_GetObjectItem(req, "d"), &n);
        bool exact;
        double p = fe_stats_signflip_p(d, n, o->resamples, o->seed, &exact);
        out = cJSON_CreateObject();
        cJSON_AddNumberToObject(out, "p", p);
        cJSON_AddBoolToObject(out, "exact", exact);
        free(d);
    } else if (strcmp(op, "adjust") == 0) {
        double *p = num_array(cJSON_GetObjectItem(req, "p"), &n);
        fe_stats_adjust(p, n, o->correction, p);
        out = cJSON_CreateObject();
        cJSON_AddItemToObject(out, "adjusted", cJSON_CreateDoubleArray(p, (int)n));
        free(p);
    } else if (strcmp(op, "mcnemar") == 0) {
        double p, midp;
        fe_stats_mcnemar((size_t)cJSON_GetNumberValue(cJSON_GetObjectItem(req, "b")),
                         (size_t)cJSON_GetNumberValue(cJSON_GetObjectItem(req, "c")), &p, &midp);
        out = cJSON_CreateObject();
        cJSON_AddNumberToObject(out, "p", p);
        cJSON_AddNumberToObject(out, "midp", midp);
    } else if (strcmp(op, "drift") == 0) {
        double *a = num_array(cJSON_GetObjectItem(req, "a"), &n);
        double *b = num_array(cJSON_GetObjectItem(req, "b"), &nb);
        size_t k = n < nb ? n : nb;
        size_t *ca = fe_xcalloc(k + 1, sizeof(*ca)), *cb = fe_xcalloc(k + 1, sizeof(*cb));
        for (size_t i = 0; i < k; i++) {
            ca[i] = (size_t)a[i];
            cb[i] = (size_t)b[i];
        }
        double stat, df, p;
        bool ok = fe_stats_chisq_drift(ca, cb, k, &stat, &df, &p);
        out = cJSON_CreateObject();
        cJSON_AddBoolToObject(out, "defined", ok);
        cJSON_AddNumberToObject(out, "stat", stat);
        cJSON_AddNumberToObject(out, "df", df);
        cJSON_AddNumberToObject(out, "p", p);
        free(ca);
        free(cb);
        free(a);
        free(b);
    } else {
        fe_err_set(err, FE_EUSAGE, "unknown op '%s'", op);
    }
    return out;
}

int main(void)
{
    fe_stats_global_init();
    struct fe_buf in = {0};
    char chunk[65536];
    size_t got;
    while ((got = fread(chunk, 1, sizeof(chunk), stdin)) > 0)
        fe_buf_add(&in, chunk, got);
    cJSON *req = cJSON_Parse(fe_buf_str(&in));
    fe_buf_release(&in);
    if (!req) {
        (void)fprintf(stderr, "stats_tool: invalid JSON on stdin\n");
        return 1;
    }
    struct fe_stats_opts o;
    read_opts(req, &o);
    struct fe_err err = {0};
    const char *op = cJSON_GetStringValue(cJSON_GetObjectItem(req, "op"));
    cJSON *out =
        (!op || strcmp(op, "table") == 0) ? op_table(req, &o, &err) : op_other(op, req, &o, &err);
    cJSON_Delete(req);
    if (!out) {
        (void)fprintf(stderr, "stats_tool: %s\n", err.msg[0] ? err.msg : "failed");
        return 1;
    }
    char *s = cJSON_Print(out);
    int rc = fputs(s, stdout) == EOF || fputc('\n', stdout) == EOF || fflush(stdout) != 0;
    free(s);
    cJSON_Delete(out);
    if (rc)
        return 1;
    return 0;
}
