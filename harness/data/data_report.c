/* data_report.c — the `data check` report (data_check.h): findings and their counts, its
 * lifecycle, the human-readable text and the JSON ("fteval.data_check/1"). */
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "harness/base/util.h"
#include "harness/data/data_check.h"

const char *fe_data_severity_name(enum fe_data_severity s)
{
    static const char *const names[] = {"note", "warning", "blocking"};
    return (unsigned)s < FE_DATA_SEVERITY_COUNT ? names[s] : "unknown";
}

const char *fe_data_check_name(enum fe_data_check_id c)
{
    static const char *const names[] = {"format",         "size",      "pii",    "duplicate",
                                        "near_duplicate", "leakage",   "labels", "length",
                                        "cost",           "production"};
    return (unsigned)c < FE_CHECK_COUNT ? names[c] : "unknown";
}

size_t fe_data_mde_n(double mde)
{
    if (!(mde > 0))
        return 0;
    return (size_t)ceil(2.80 * 2.80 * 0.25 * 2.0 / (mde * mde) - 1e-9);
}

struct fe_data_finding *fe_data_report_add(struct fe_data_report *r, enum fe_data_check_id check,
                                           enum fe_data_severity sev, const char *file, size_t line,
                                           const char *kind, const char *field, const char *fmt,
                                           ...)
{
    r->counts[check][sev]++;
    size_t kept = 0;
    for (int s = 0; s < FE_DATA_SEVERITY_COUNT; s++)
        kept += r->counts[check][s];
    if (kept > r->max_findings) {
        r->dropped[check]++;
        return NULL;
    }
    if (r->n_findings == r->alloc) {
        r->alloc = r->alloc ? r->alloc * 2 : 64;
        r->findings = fe_xreallocarray(r->findings, r->alloc, sizeof(*r->findings));
    }
    struct fe_data_finding *f = &r->findings[r->n_findings++];
    memset(f, 0, sizeof(*f));
    f->check = check;
    f->severity = sev;
    f->file = file;
    f->line = line;
    f->kind = fe_xstrdup(kind);
    f->field = fe_xstrdup(field);
    f->similarity = -1;
    va_list ap;
    va_start(ap, fmt);
    struct fe_buf b;
    fe_buf_init(&b, 0);
    fe_buf_vaddf(&b, fmt, ap);
    va_end(ap);
    f->message = fe_buf_detach(&b, NULL);
    return f;
}

bool fe_data_report_blocking(const struct fe_data_report *r)
{
    for (int c = 0; c < FE_CHECK_COUNT; c++)
        if (r->counts[c][FE_DATA_BLOCKING])
            return true;
    return false;
}

void fe_data_report_free(struct fe_data_report *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->n_findings; i++) {
        free(r->findings[i].kind);
        free(r->findings[i].field);
        free(r->findings[i].message);
        free(r->findings[i].excerpt);
    }
    free(r->findings);
    for (size_t i = 0; i < r->n_labels; i++)
        free(r->label_names[i]);
    free(r->label_names);
    free(r->label_counts);
    free(r->path);
    free(r->against);
    free(r->config);
    free(r->model);
    free(r);
}

void fe_data_report_text(const struct fe_data_report *r, struct fe_buf *out)
{
    fe_buf_addf(out, "data check: %s\n", r->path);
    for (size_t i = 0; i < r->n_findings; i++) {
        const struct fe_data_finding *f = &r->findings[i];
        if (f->line)
            fe_buf_addf(out, "%s:%zu: %s: %s: %s\n", f->file ? f->file : "-", f->line,
                        fe_data_severity_name(f->severity), fe_data_check_name(f->check),
                        f->message);
        else
            fe_buf_addf(out, "%s: %s: %s: %s\n", f->file ? f->file : "-",
                        fe_data_severity_name(f->severity), fe_data_check_name(f->check),
                        f->message);
    }
    for (int c = 0; c < FE_CHECK_COUNT; c++)
        if (r->dropped[c])
            fe_buf_addf(out, "... %zu more %s finding(s) not listed\n", r->dropped[c],
                        fe_data_check_name(c));
    fe_buf_addf(out,
                "\nexamples: %zu (lines %zu, blank %zu, invalid %zu; chat %zu, dpo %zu, plain %zu, "
                "unknown %zu)\n",
                r->examples, r->lines, r->blank_lines, r->invalid_lines, r->shapes[FE_SHAPE_CHAT],
                r->shapes[FE_SHAPE_DPO], r->shapes[FE_SHAPE_PLAIN], r->shapes[FE_SHAPE_UNKNOWN]);
    fe_buf_adds(out, "lengths (characters; tokens estimated as ceil(utf8_bytes/4)):\n");
    for (int i = 0; i < FE_DATA_ROLES; i++) {
        const struct fe_data_role_stats *s = &r->roles[i];
        if (!s->messages)
            continue;
        fe_buf_addf(out, "  %-9s messages %zu, chars mean %.1f min %zu max %zu, tokens ~%zu\n",
                    i == 5 ? "plain" : s->role, s->messages, (double)s->chars / (double)s->messages,
                    s->chars_min, s->chars_max, s->tokens);
    }
    fe_buf_addf(out, "training tokens: ~%zu per epoch x %ld epochs = ~%zu", r->tokens_total,
                r->n_epochs, r->training_tokens);
    if (r->priced)
        fe_buf_addf(out, " (about $%.2f for %s)\n", r->cost_usd, r->model);
    else if (r->model)
        fe_buf_addf(out, " (cost unknown for %s)\n", r->model);
    else
        fe_buf_adds(out, "\n");
    if (r->label_source) {
        fe_buf_addf(out, "labels (%s): %zu distinct", r->label_source, r->n_labels);
        size_t lo = SIZE_MAX, hi = 0;
        for (size_t i = 0; i < r->n_labels; i++) {
            lo = r->label_counts[i] < lo ? r->label_counts[i] : lo;
            hi = r->label_counts[i] > hi ? r->label_counts[i] : hi;
        }
        if (r->n_labels)
            fe_buf_addf(out, ", %zu..%zu examples per label", lo, hi);
        fe_buf_adds(out, "\n");
    }
    fe_buf_addf(out,
                "pii: %zu email, %zu phone, %zu card, %zu ssn, %zu ipv4, %zu ipv6, %zu secret\n",
                r->pii[0], r->pii[1], r->pii[2], r->pii[3], r->pii[4], r->pii[5], r->pii[6]);
    fe_buf_addf(out,
                "duplicates: %zu exact group(s) (%zu extra rows); %zu near-duplicate pair(s) in "
                "%zu group(s) "
                "(Jaccard >= %.2f on character 5-grams)\n",
                r->dup_groups, r->dup_rows, r->near_rows, r->near_groups, r->near_threshold);
    if (r->against)
        fe_buf_addf(
            out,
            "leakage: %zu of %zu held-out examples in the training file (%zu exact, %zu near)\n",
            r->leaked_exact + r->leaked_near, r->heldout_examples, r->leaked_exact, r->leaked_near);
    if (r->production_checked)
        fe_buf_addf(out,
                    "production format: system prompt differs in %zu of %zu, template mismatch in "
                    "%zu of %zu\n",
                    r->system_mismatch, r->system_checked, r->template_mismatch,
                    r->template_checked);
    size_t totals[FE_DATA_SEVERITY_COUNT] = {0};
    for (int c = 0; c < FE_CHECK_COUNT; c++)
        for (int s = 0; s < FE_DATA_SEVERITY_COUNT; s++)
            totals[s] += r->counts[c][s];
    fe_buf_addf(out, "result: %s (%zu blocking, %zu warning(s), %zu note(s))\n",
                fe_data_report_blocking(r) ? "BLOCKED" : "ok", totals[FE_DATA_BLOCKING],
                totals[FE_DATA_WARNING], totals[FE_DATA_NOTE]);
}

static void add_str_or_null(cJSON *obj, const char *key, const char *s)
{
    if (s)
        cJSON_AddStringToObject(obj, key, s);
    else
        cJSON_AddNullToObject(obj, key);
}

cJSON *fe_data_report_json(const struct fe_data_report *r)
{
    cJSON *root = cJSON_CreateObject();
    cJSON_AddStringToObject(root, "schema", "fteval.data_check/1");
    cJSON_AddStringToObject(root, "file", r->path);
    add_str_or_null(root, "against", r->against);
    add_str_or_null(root, "config", r->config);
    static const char *const purposes[] = {"any", "finetune", "eval"};
    cJSON_AddStringToObject(root, "purpose", purposes[r->purpose]);
    cJSON_AddBoolToObject(root, "blocking", fe_data_report_blocking(r));
    cJSON *summary = cJSON_AddObjectToObject(root, "summary");
    cJSON *checks = cJSON_AddObjectToObject(root, "checks");
    size_t totals[FE_DATA_SEVERITY_COUNT] = {0};
    for (int c = 0; c < FE_CHECK_COUNT; c++) {
        cJSON *o = cJSON_AddObjectToObject(checks, fe_data_check_name(c));
        for (int s = 0; s < FE_DATA_SEVERITY_COUNT; s++) {
            cJSON_AddNumberToObject(o, fe_data_severity_name(s), (double)r->counts[c][s]);
            totals[s] += r->counts[c][s];
        }
        cJSON_AddNumberToObject(o, "omitted", (double)r->dropped[c]);
    }
    for (int s = 0; s < FE_DATA_SEVERITY_COUNT; s++)
        cJSON_AddNumberToObject(summary, fe_data_severity_name(s), (double)totals[s]);
    cJSON_AddNumberToObject(root, "examples", (double)r->examples);
    cJSON_AddNumberToObject(root, "lines", (double)r->lines);
    cJSON_AddNumberToObject(root, "blank_lines", (double)r->blank_lines);
    cJSON_AddNumberToObject(root, "invalid_lines", (double)r->invalid_lines);
    cJSON *shapes = cJSON_AddObjectToObject(root, "shapes");
    for (int s = 0; s < FE_SHAPE_COUNT; s++)
        cJSON_AddNumberToObject(shapes, fe_data_shape_name(s), (double)r->shapes[s]);
    cJSON *pii = cJSON_AddObjectToObject(root, "pii");
    for (int k = 0; k < FE_PII_KIND_COUNT; k++)
        cJSON_AddNumberToObject(pii, fe_pii_kind_name(k), (double)r->pii[k]);
    cJSON *lengths = cJSON_AddObjectToObject(root, "lengths");
    for (int i = 0; i < FE_DATA_ROLES; i++) {
        const struct fe_data_role_stats *s = &r->roles[i];
        if (!s->messages)
            continue;
        cJSON *o = cJSON_AddObjectToObject(lengths, i == 5 ? "plain" : s->role);
        cJSON_AddNumberToObject(o, "messages", (double)s->messages);
        cJSON_AddNumberToObject(o, "chars", (double)s->chars);
        cJSON_AddNumberToObject(o, "chars_mean", (double)s->chars / (double)s->messages);
        cJSON_AddNumberToObject(o, "chars_min", (double)s->chars_min);
        cJSON_AddNumberToObject(o, "chars_max", (double)s->chars_max);
        cJSON_AddNumberToObject(o, "tokens_est", (double)s->tokens);
    }
    cJSON *tokens = cJSON_AddObjectToObject(root, "tokens");
    cJSON_AddStringToObject(tokens, "method", "sum over messages of ceil(utf8_bytes/4)");
    cJSON_AddNumberToObject(tokens, "per_epoch_est", (double)r->tokens_total);
    cJSON_AddNumberToObject(tokens, "max_example_est", (double)r->tokens_max);
    cJSON_AddNumberToObject(tokens, "n_epochs", (double)r->n_epochs);
    cJSON_AddNumberToObject(tokens, "training_est", (double)r->training_tokens);
    cJSON *cost = cJSON_AddObjectToObject(root, "cost");
    add_str_or_null(cost, "model", r->model);
    if (r->priced) {
        cJSON_AddNumberToObject(cost, "training_usd_per_1m", r->price_per_1m);
        cJSON_AddNumberToObject(cost, "training_usd", r->cost_usd);
    } else {
        cJSON_AddNullToObject(cost, "training_usd_per_1m");
        cJSON_AddNullToObject(cost, "training_usd");
    }
    if (r->label_source) {
        cJSON *labels = cJSON_AddObjectToObject(root, "labels");
        cJSON_AddStringToObject(labels, "source", r->label_source);
        cJSON_AddNumberToObject(labels, "n_labels", (double)r->n_labels);
        cJSON *counts = cJSON_AddObjectToObject(labels, "counts");
        for (size_t i = 0; i < r->n_labels; i++)
            cJSON_AddNumberToObject(counts, r->label_names[i], (double)r->label_counts[i]);
    } else {
        cJSON_AddNullToObject(root, "labels");
    }
    cJSON *dup = cJSON_AddObjectToObject(root, "duplicates");
    cJSON_AddNumberToObject(dup, "exact_groups", (double)r->dup_groups);
    cJSON_AddNumberToObject(dup, "exact_extra_rows", (double)r->dup_rows);
    cJSON_AddNumberToObject(dup, "near_pairs", (double)r->near_rows);
    cJSON_AddNumberToObject(dup, "near_groups", (double)r->near_groups);
    cJSON_AddNumberToObject(dup, "threshold", r->near_threshold);
    cJSON_AddStringToObject(dup, "method",
                            "Jaccard of character 5-gram sets of the normalised prompt; "
                            "MinHash 128, LSH 16 bands x 8 rows, verified exactly");
    if (r->against) {
        cJSON *leak = cJSON_AddObjectToObject(root, "leakage");
        cJSON_AddNumberToObject(leak, "heldout_examples", (double)r->heldout_examples);
        cJSON_AddNumberToObject(leak, "exact", (double)r->leaked_exact);
        cJSON_AddNumberToObject(leak, "near", (double)r->leaked_near);
    } else {
        cJSON_AddNullToObject(root, "leakage");
    }
    cJSON *size = cJSON_AddObjectToObject(root, "size");
    cJSON_AddNumberToObject(size, "examples", (double)r->examples);
    size_t held = r->against ? r->heldout_examples : r->examples;
    cJSON_AddNumberToObject(size, "heldout_n", (double)held);
    if (held)
        cJSON_AddNumberToObject(size, "detectable_mde",
                                fmin(1.0, sqrt(2.80 * 2.80 * 0.5 / (double)held)));
    else
        cJSON_AddNullToObject(size, "detectable_mde");
    if (r->mde_required_n) {
        cJSON_AddNumberToObject(size, "mde", r->mde);
        cJSON_AddNumberToObject(size, "required_n", (double)r->mde_required_n);
    } else {
        cJSON_AddNullToObject(size, "mde");
        cJSON_AddNullToObject(size, "required_n");
    }
    if (r->production_checked) {
        cJSON *p = cJSON_AddObjectToObject(root, "production");
        cJSON_AddNumberToObject(p, "system_checked", (double)r->system_checked);
        cJSON_AddNumberToObject(p, "system_mismatch", (double)r->system_mismatch);
        cJSON_AddNumberToObject(p, "template_checked", (double)r->template_checked);
        cJSON_AddNumberToObject(p, "template_mismatch", (double)r->template_mismatch);
    } else {
        cJSON_AddNullToObject(root, "production");
    }
    cJSON *list = cJSON_AddArrayToObject(root, "findings");
    for (size_t i = 0; i < r->n_findings; i++) {
        const struct fe_data_finding *f = &r->findings[i];
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "check", fe_data_check_name(f->check));
        cJSON_AddStringToObject(o, "severity", fe_data_severity_name(f->severity));
        add_str_or_null(o, "file", f->file);
        if (f->line)
            cJSON_AddNumberToObject(o, "line", (double)f->line);
        else
            cJSON_AddNullToObject(o, "line");
        add_str_or_null(o, "kind", f->kind);
        add_str_or_null(o, "field", f->field);
        cJSON_AddStringToObject(o, "message", f->message);
        if (f->excerpt)
            cJSON_AddStringToObject(o, "excerpt", f->excerpt);
        if (f->other_line) {
            add_str_or_null(o, "other_file", f->other_file);
            cJSON_AddNumberToObject(o, "other_line", (double)f->other_line);
        }
        if (f->similarity >= 0)
            cJSON_AddNumberToObject(o, "similarity", f->similarity);
        cJSON_AddItemToArray(list, o);
    }
    return root;
}

