/* integrity.c — see integrity.h. */
#include "harness/analysis/integrity.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness/base/buf.h"
#include "harness/base/jsonout.h"
#include "harness/base/errkind.h"
#include "harness/base/strmap.h"
#include "harness/base/util.h"

bool fe_verdict_is_refusal(const char *verdict)
{
    return verdict && (strcmp(verdict, "incomplete") == 0 || strcmp(verdict, "invalid") == 0);
}

/* The manifest's "shard" block of a sharded run (`run --shard I/N`), else NULL. */
static const cJSON *fe_shard_block(const struct fe_run *run)
{
    const cJSON *s = fe_json_get(run->manifest, "shard");
    double count;
    return fe_json_num(fe_json_get(s, "count"), &count) && count > 0 ? s : NULL;
}

/* A shard plans only its own examples (shard.examples); a run plans the dataset's. */
static size_t fe_planned(const struct fe_run *run, size_t a)
{
    double v;
    const cJSON *ds = fe_json_get(run->manifest, "dataset");
    if (fe_json_num(fe_json_get(fe_shard_block(run), "examples"), &v) && v >= 0)
        return (size_t)v;
    if (fe_json_num(fe_json_get(ds, "examples"), &v) && v >= 0)
        return (size_t)v;
    return run->arms[a].n;
}

static double fe_error_limit(const struct fe_run *run)
{
    double v;
    const cJSON *cfg = fe_json_get(run->manifest, "config");
    if (fe_json_num(fe_json_get(run->manifest, "max_error_rate"), &v) ||
        fe_json_num(fe_json_get(cfg, "max_error_rate"), &v) ||
        fe_json_num(fe_json_get(fe_json_get(cfg, "decision"), "max_error_rate"), &v))
        return v;
    return 0.05;
}

void fe_integrity_annotate(const struct fe_run *run, cJSON *summary)
{
    cJSON *arms = cJSON_GetObjectItemCaseSensitive(summary, "arms");
    bool complete = true;
    for (size_t a = 0; a < run->n_arms; a++) {
        const struct fe_arm_run *arm = &run->arms[a];
        cJSON *o = cJSON_GetObjectItemCaseSensitive(arms, arm->name);
        if (!o)
            continue;
        size_t planned = fe_planned(run, a), present = arm->n; /* one record per id: the loader keeps the last of a re-recorded id */
        size_t missing = planned > present ? planned - present : 0;
        complete = complete && missing == 0;
        cJSON_AddNumberToObject(o, "n_planned", (double)planned);
        cJSON_AddNumberToObject(o, "n_missing", (double)missing);
        cJSON *kinds = cJSON_AddObjectToObject(o, "errors_by_kind");
        size_t refusals = 0;
        for (size_t i = 0; i < arm->n; i++) {
            const struct fe_record *r = fe_arm_rec(arm, i);
            if (r->ok) {
                refusals += r->finish_reason && strcmp(fe_run_str(run, r->finish_reason), "content_filter") == 0;
                continue;
            }
            const char *kind = fe_str_or(fe_run_str(run, r->error_kind), "unknown");
            cJSON *k = cJSON_GetObjectItemCaseSensitive(kinds, kind);
            if (!k) {
                struct fe_record_text t;
                fe_run_record_text(run, r, &t);
                const cJSON *e = fe_json_get(t.json, "error");
                double status;
                k = cJSON_AddObjectToObject(kinds, kind);
                cJSON_AddNumberToObject(k, "count", 0);
                if (fe_json_num(fe_json_get(e, "http_status"), &status))
                    cJSON_AddNumberToObject(k, "http_status", status);
                else
                    cJSON_AddNullToObject(k, "http_status");
                const char *msg = fe_json_str(fe_json_get(e, "message"));
                cJSON_AddStringToObject(k, "example_message", msg ? msg : "");
                fe_record_text_release(&t);
            }
            cJSON *count = cJSON_GetObjectItemCaseSensitive(k, "count");
            cJSON_SetNumberValue(count, count->valuedouble + 1);
        }
        cJSON_AddNumberToObject(o, "n_refusals", (double)refusals);
    }
    cJSON_DeleteItemFromObjectCaseSensitive(summary, "status");
    const cJSON *shard = fe_shard_block(run);
    /* a shard is never the whole run: its own completeness goes in "shard" */
    cJSON_AddStringToObject(summary, "status", complete && !shard ? "complete" : "incomplete");
    if (shard) {
        cJSON *o = cJSON_AddObjectToObject(summary, "shard");
        double v;
        fe_json_num(fe_json_get(shard, "index"), &v);
        cJSON_AddNumberToObject(o, "index", v);
        fe_json_num(fe_json_get(shard, "count"), &v);
        cJSON_AddNumberToObject(o, "count", v);
        cJSON_AddStringToObject(o, "status", complete ? "complete" : "incomplete");
        cJSON_AddStringToObject(o, "note", "the statistics cover this shard's examples only; `fteval merge` joins "
                                "the shards into the run");
    }
}

/* The commands of the fix: resuming re-sends missing and retryable failed examples. */
static char *fe_resume_command(const struct fe_run *run)
{
    const char *cfg = fe_json_str(fe_json_get(run->manifest, "config_path"));
    const char *cmd = fe_json_str(fe_json_get(run->manifest, "command"));
    if (cmd && strcmp(cmd, "run") != 0)
        return fe_xasprintf("produce the missing predictions and re-run `fteval %s`", cmd);
    const cJSON *shard = fe_shard_block(run);
    double index = 0, count = 0;
    fe_json_num(fe_json_get(shard, "index"), &index);
    fe_json_num(fe_json_get(shard, "count"), &count);
    if (shard)
        return fe_xasprintf("fteval run %s --shard %.0f/%.0f --resume --out %s", cfg ? cfg : "CONFIG", index, count,
                            run->dir);
    return fe_xasprintf("fteval run %s --resume --out %s", cfg ? cfg : "CONFIG", run->dir);
}

static char *fe_new_run_command(const struct fe_run *run)
{
    const char *cfg = fe_json_str(fe_json_get(run->manifest, "config_path"));
    return fe_xasprintf("fteval run %s", cfg ? cfg : "CONFIG");
}

/* The most frequent error kind of an arm's summary ("errors_by_kind"), or NULL. */
static const cJSON *fe_top_kind(const cJSON *arm_summary)
{
    const cJSON *best = NULL, *k;
    double best_n = -1, n;
    cJSON_ArrayForEach(k, fe_json_get(arm_summary, "errors_by_kind")) {
        if (fe_json_num(fe_json_get(k, "count"), &n) && n > best_n) {
            best = k;
            best_n = n;
        }
    }
    return best;
}

static void fe_add_reason(cJSON *reasons, char *text)
{
    cJSON_AddItemToArray(reasons, cJSON_CreateString(text));
    free(text);
}

/* The judge behind a decision metric "judge:NAME" or "judge:NAME.pass" into name (NUL-terminated),
 * or false when the metric is not a judge's. */
static bool fe_judge_of_metric(const char *metric, char *name, size_t cap)
{
    if (!metric || strncmp(metric, "judge:", 6) != 0)
        return false;
    const char *n = metric + 6;
    size_t len = strlen(n);
    if (len > 5 && strcmp(n + len - 5, ".pass") == 0)
        len -= 5;
    if (len == 0 || len >= cap)
        return false;
    memcpy(name, n, len);
    name[len] = '\0';
    return true;
}

/* A decision that stands on a judge (issue 12) stands on its judgements too: judgements that
 * failed after the retry count like failed examples against max_error_rate (they score 0, as a
 * failed example does), and judgements left pending by a stop make the evidence incomplete. Arms
 * that carry no judgement of that judge (a pairwise judge's `against` arm) are not counted. */
static void fe_gate_judgements(const struct fe_run *run, const struct fe_arm_run *arm, const char *judge,
                               double limit, cJSON *invalid, cJSON *missing)
{
    size_t judged = 0, failed = 0, pending = 0;
    char *example = NULL;
    for (size_t i = 0; i < arm->n; i++) {
        if (!fe_arm_rec(arm, i)->has_judgements)
            continue;
        struct fe_record_text rt;
        fe_run_record_text(run, fe_arm_rec(arm, i), &rt);
        const cJSON *j = fe_json_get(fe_json_get(rt.json, "judgements"), judge);
        if (cJSON_IsObject(j)) {
            judged++;
            if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(j, "pending")))
                pending++;
            else if (fe_json_str(fe_json_get(j, "error"))) {
                failed++;
                if (!example)
                    example = fe_xstrdup(fe_json_str(fe_json_get(j, "error")));
            }
        }
        fe_record_text_release(&rt);
    }
    if (judged == 0)
        return;
    if ((double)failed > limit * (double)judged) {
        char *t = fe_xasprintf("arm '%s': %zu of %zu judgements by judge '%s' failed (%.1f%%, limit %.1f%%); "
                               "for example: \"%s\"", arm->name, failed, judged, judge,
                               100.0 * (double)failed / (double)judged, 100 * limit, example ? example : "");
        cJSON_AddItemToArray(invalid, cJSON_CreateString(t));
        free(t);
    }
    if (pending > 0) {
        char *t = fe_xasprintf("arm '%s': %zu of %zu judgements by judge '%s' are pending (the run stopped "
                               "before they were judged)", arm->name, pending, judged, judge);
        cJSON_AddItemToArray(missing, cJSON_CreateString(t));
        free(t);
    }
    free(example);
}

void fe_integrity_gate(const struct fe_run *run, cJSON *summary)
{
    cJSON *decision = cJSON_GetObjectItemCaseSensitive(summary, "decision");
    if (!decision)
        return;
    const cJSON *arms = fe_json_get(summary, "arms");
    double limit = fe_error_limit(run);
    cJSON *invalid = cJSON_CreateArray(), *missing = cJSON_CreateArray();
    bool resumable = true; /* every failure is one a resume re-sends */
    const char *base = fe_json_str(fe_json_get(decision, "baseline_arm"));
    const char *cand = fe_json_str(fe_json_get(decision, "candidate_arm"));
    char judge[256];
    bool judged = fe_judge_of_metric(fe_json_str(fe_json_get(decision, "metric")), judge, sizeof judge);
    for (size_t a = 0; a < run->n_arms; a++) {
        const struct fe_arm_run *arm = &run->arms[a];
        if (!(base && strcmp(arm->name, base) == 0) && !(cand && strcmp(arm->name, cand) == 0))
            continue; /* only the evidence the decision stands on */
        const cJSON *o = fe_json_get(arms, arm->name);
        double n = 0, errors = 0, refusals = 0, planned = 0, miss = 0;
        fe_json_num(fe_json_get(o, "n"), &n);
        fe_json_num(fe_json_get(o, "n_errors"), &errors);
        fe_json_num(fe_json_get(o, "n_refusals"), &refusals);
        fe_json_num(fe_json_get(o, "n_planned"), &planned);
        fe_json_num(fe_json_get(o, "n_missing"), &miss);
        const cJSON *top = fe_top_kind(o);
        if (n > 0 && (errors > limit * n || errors + refusals >= n)) {
            struct fe_buf b;
            fe_buf_init(&b, 0);
            if (errors + refusals >= n && refusals > 0 && errors == 0)
                fe_buf_addf(&b, "arm '%s': every one of its %.0f answers was a refusal (content_filter): check "
                            "its prompt and model", arm->name, n);
            else
                fe_buf_addf(&b, "arm '%s': %.0f of %.0f examples failed (%.1f%%, limit %.1f%%)", arm->name,
                            errors, n, 100 * errors / n, 100 * limit);
            if (top && errors > 0) {
                double status;
                fe_buf_addf(&b, "; most often %s", top->string);
                if (fe_json_num(fe_json_get(top, "http_status"), &status))
                    fe_buf_addf(&b, " (HTTP %.0f)", status);
                const char *msg = fe_json_str(fe_json_get(top, "example_message"));
                if (msg && *msg)
                    fe_buf_addf(&b, ": \"%s\"", msg);
                if (fe_error_kind_is_final(top->string))
                    resumable = false;
            }
            cJSON_AddItemToArray(invalid, cJSON_CreateString(fe_buf_str(&b)));
            fe_buf_release(&b);
        } else if (n == 0 && planned > 0) {
            char *t = fe_xasprintf("arm '%s': no example was recorded (%.0f planned)", arm->name, planned);
            cJSON_AddItemToArray(invalid, cJSON_CreateString(t));
            free(t);
        }
        if (judged)
            fe_gate_judgements(run, arm, judge, limit, invalid, missing);
        if (miss > 0) {
            char *t = fe_xasprintf("arm '%s': %.0f of %.0f planned examples are missing", arm->name, miss, planned);
            cJSON_AddItemToArray(missing, cJSON_CreateString(t));
            free(t);
        }
    }
    const cJSON *shard = fe_shard_block(run);
    const char *verdict = cJSON_GetArraySize(invalid) ? "invalid"
                          : cJSON_GetArraySize(missing) || shard ? "incomplete" : NULL;
    if (verdict) {
        cJSON *reasons = cJSON_CreateArray();
        cJSON *src = strcmp(verdict, "invalid") == 0 ? invalid : missing, *r;
        cJSON_ArrayForEach(r, src)
            cJSON_AddItemToArray(reasons, cJSON_CreateString(r->valuestring));
        if (strcmp(verdict, "invalid") == 0)
            cJSON_ArrayForEach(r, missing)
                cJSON_AddItemToArray(reasons, cJSON_CreateString(r->valuestring));
        char *resume = fe_resume_command(run);
        if (shard) {
            double index = 0, count = 0;
            fe_json_num(fe_json_get(shard, "index"), &index);
            fe_json_num(fe_json_get(shard, "count"), &count);
            fe_add_reason(reasons, fe_xasprintf("shard %.0f/%.0f: this directory holds only the examples of shard %.0f "
                                                "of %.0f; no verdict on a shard: merge the shards with: fteval merge "
                                                "OUT SHARD_DIR...", index, count, index, count));
        }
        if (strcmp(verdict, "incomplete") == 0 && cJSON_GetArraySize(missing) == 0) {
            /* a complete shard: the merge is the fix */
        } else if (strcmp(verdict, "incomplete") == 0) {
            fe_add_reason(reasons, fe_xasprintf("no verdict on a partial run: finish it with: %s", resume));
        } else if (resumable) {
            fe_add_reason(reasons, fe_xasprintf("no verdict on this evidence: fix the cause above, then re-send the "
                                                "failed and missing examples with: %s", resume));
        } else {
            char *fresh = fe_new_run_command(run);
            fe_add_reason(reasons, fe_xasprintf("no verdict on this evidence: these failures are final for a resume; "
                                                "fix the cause above (model id, base_url, request) and start a new "
                                                "run: %s", fresh));
            free(fresh);
        }
        free(resume);
        cJSON_ReplaceItemInObjectCaseSensitive(decision, "verdict", cJSON_CreateString(verdict));
        if (cJSON_GetObjectItemCaseSensitive(decision, "reasons"))
            cJSON_ReplaceItemInObjectCaseSensitive(decision, "reasons", reasons);
        else
            cJSON_AddItemToObject(decision, "reasons", reasons);
    }
    cJSON_Delete(invalid);
    cJSON_Delete(missing);
}
