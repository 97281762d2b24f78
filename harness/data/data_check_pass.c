/* data_check_pass.c — the passes of `data check`: FILE (format, PII, lengths, labels, ids,
 * production format, dedup items) and HELDOUT (leakage items), then the whole-file checks
 * (labels, duplicates and leakage, size and cost). */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "harness/base/util.h"
#include "harness/data/data_check_int.h"
#include "harness/input/dataset.h"
#include "harness/input/template.h"

#define FE_DATA_SIZE_WARN 500
#define FE_DATA_SIZE_NOTE 1000
#define FE_DATA_MIN_EXAMPLES 10      /* OpenAI rejects smaller training files */
#define FE_DATA_EXAMPLE_TOKENS 65536 /* longest training example OpenAI accepts (gpt-4o-mini) */
#define FE_DATA_LABEL_CAP 1000       /* distinct labels tracked before giving up */
#define FE_DATA_IMBALANCE 10.0       /* max/min label count ratio that draws a warning */
#define FE_DATA_RARE_LABEL 10        /* labels with fewer examples draw a note */

static void tally_add(struct label_tally *t, const char *label)
{
    t->rows++;
    t->chars += fe_dc_utf8_chars(label);
    if (t->overflow)
        return;
    size_t idx;
    if (fe_strmap_get(&t->map, label, &idx)) {
        t->counts[idx]++;
        return;
    }
    if (t->n == FE_DATA_LABEL_CAP) {
        t->overflow = true;
        return;
    }
    fe_strmap_put(&t->map, label, t->n);
    t->counts = fe_xreallocarray(t->counts, t->n + 1, sizeof(*t->counts));
    t->counts[t->n++] = 1;
}

/* ---- the passes ---------------------------------------------------------------------------- */

static void pair_found(size_t a, size_t b, double sim, bool exact, void *ctx)
{
    struct check_state *st = ctx;
    if (st->n_pairs == st->alloc_pairs) {
        st->alloc_pairs = st->alloc_pairs ? st->alloc_pairs * 2 : 256;
        st->pairs = fe_xreallocarray(st->pairs, st->alloc_pairs, sizeof(*st->pairs));
    }
    st->pairs[st->n_pairs++] = (struct pair){a, b, sim, exact};
}

static void add_item(struct check_state *st, const char *text, size_t line, const char *answer,
                     int set)
{
    size_t i = fe_dedup_add(&st->dd, text, strlen(text), set);
    if (i >= st->items_alloc) {
        st->items_alloc = st->items_alloc ? st->items_alloc * 2 : 1024;
        st->item_line = fe_xreallocarray(st->item_line, st->items_alloc, sizeof(*st->item_line));
        st->item_answer =
            fe_xreallocarray(st->item_answer, st->items_alloc, sizeof(*st->item_answer));
    }
    st->item_line[i] = line;
    char *norm = fe_dedup_normalize(answer ? answer : "", answer ? strlen(answer) : 0);
    st->item_answer[i] = fe_dedup_hash(norm, strlen(norm), 7);
    free(norm);
}

/* The id of a row (input/data_row.h's rule, the one `run` uses): an id `run` rejects is a
 * format finding, a repeated id a duplicate finding — both blocking for a held-out set
 * (--for eval: `run` and `score` stop on them), warnings otherwise. In eval mode a row
 * without an id is "line-N", as `run` names it. */
static void check_id(struct check_state *st, size_t line, const cJSON *json,
                     const struct fe_data_row *row)
{
    struct fe_data_report *r = st->r;
    bool eval = st->o->purpose == FE_DATA_FOR_EVAL;
    enum fe_data_severity sev = eval ? FE_DATA_BLOCKING : FE_DATA_WARNING;
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(json, "id");
    if (v && !cJSON_IsNull(v) && (!row->id || !*row->id)) {
        fe_data_report_add(r, FE_CHECK_FORMAT, sev, r->path, line, "bad_id", "id",
                           "id: must be a non-empty string or a finite number");
        return;
    }
    char *own = row->id ? NULL : eval ? fe_xasprintf("line-%zu", line) : NULL;
    const char *id = row->id ? row->id : own;
    if (id && !fe_strmap_put(&st->ids, id, line)) {
        size_t first = 0;
        fe_strmap_get(&st->ids, id, &first);
        fe_data_report_add(r, FE_CHECK_DUPLICATE, sev, r->path, line, "duplicate_id", "id",
                           "duplicate id '%.80s' (first on line %zu)", id, first);
    }
    free(own);
}

/* --for eval: a row that passed the format checks is read once more by the very parser `run`
 * and `score` use (input/dataset.h); what it rejects blocks, with its message, so `data check
 * --for eval` never passes a row `run` would refuse. */
static void check_evaluable(struct check_state *st, size_t line, const char *s, size_t len)
{
    struct fe_example ex;
    struct fe_err perr = {0};
    if (fe_example_parse(s, len, st->r->path, line, &ex, &perr) == 0) {
        fe_example_release(&ex);
        return;
    }
    FMT_ERR(st, line, "not_evaluable", NULL, "`run` and `score` reject this row: %s", perr.msg);
}

/* Reads FILE: format, PII, stats, labels, production format; adds dedup items (set 0). */
static int fe_dc_pass_train(struct check_state *st, struct fe_err *err)
{
    struct fe_data_report *r = st->r;
    struct fe_data_lines in;
    if (fe_data_lines_open(&in, r->path, err) != FE_OK)
        return -1;
    struct fe_buf path;
    fe_buf_init(&path, 0);
    int got;
    while ((got = fe_data_lines_next(&in, err)) == 1) {
        size_t line = in.line;
        r->lines++;
        if (in.too_long) {
            r->invalid_lines++;
            FMT_ERR(st, line, "line_too_long", NULL, "line longer than %u bytes",
                    FE_DATASET_MAX_LINE);
            continue;
        }
        if (in.has_nul) {
            r->invalid_lines++;
            FMT_ERR(st, line, "nul_byte", NULL, "line contains a NUL byte");
            continue;
        }
        const char *s = fe_buf_str(&in.buf);
        size_t len = in.buf.len;
        if (fe_data_blank(s, len)) {
            r->blank_lines++;
            FMT_WARN(st, line, "blank_line", NULL,
                     "blank line (the fine-tuning API rejects empty lines)");
            continue;
        }
        const char *why;
        size_t at;
        cJSON *json = fe_data_parse_line(s, len, &why, &at);
        if (!json) {
            r->invalid_lines++;
            bool utf8 = strcmp(why, "invalid UTF-8") == 0;
            if (at)
                FMT_ERR(st, line, utf8 ? "invalid_utf8" : "invalid_json", NULL, "%s at byte %zu",
                        why, at);
            else
                FMT_ERR(st, line, "invalid_json", NULL, "%s", why);
            continue;
        }
        r->examples++;
        struct fe_data_row row;
        fe_data_row_extract(json, NULL, &row);
        r->shapes[row.shape]++;
        check_id(st, line, json, &row);
        size_t blocking = r->counts[FE_CHECK_FORMAT][FE_DATA_BLOCKING];
        size_t tokens = fe_dc_check_shape(st, line, json, &row);
        if (st->o->purpose == FE_DATA_FOR_EVAL &&
            r->counts[FE_CHECK_FORMAT][FE_DATA_BLOCKING] == blocking)
            check_evaluable(st, line, s, len);
        r->tokens_total += tokens;
        if (tokens > r->tokens_max)
            r->tokens_max = tokens;
        if (tokens > FE_DATA_EXAMPLE_TOKENS)
            fe_data_report_add(
                r, FE_CHECK_LENGTH, FE_DATA_WARNING, r->path, line, "too_long", NULL,
                "about %zu tokens: longer than the %u tokens a training example may have "
                "(it will be truncated)",
                tokens, FE_DATA_EXAMPLE_TOKENS);
        if (cJSON_GetObjectItemCaseSensitive(json, "label"))
            st->has_label_field = true;
        if (row.label)
            tally_add(&st->labels, row.label);
        if (row.shape == FE_SHAPE_CHAT && row.answer)
            tally_add(&st->answers, row.answer);
        fe_buf_reset(&path);
        fe_buf_adds(&path, "");
        fe_dc_pii_walk(st, line, json, &path);
        fe_dc_check_production(st, line, &row);
        add_item(st, row.prompt, line, row.answer, 0);
        fe_data_row_release(&row);
        cJSON_Delete(json);
    }
    fe_buf_release(&path);
    fe_data_lines_close(&in);
    return got < 0 ? -1 : 0;
}

/* Reads the held-out file: only what leakage needs (set 1). */
static int fe_dc_pass_heldout(struct check_state *st, struct fe_err *err)
{
    struct fe_data_report *r = st->r;
    struct fe_data_lines in;
    if (fe_data_lines_open(&in, r->against, err) != FE_OK)
        return -1;
    int got;
    while ((got = fe_data_lines_next(&in, err)) == 1) {
        if (in.too_long || in.has_nul || fe_data_blank(fe_buf_str(&in.buf), in.buf.len)) {
            if (!fe_data_blank(fe_buf_str(&in.buf), in.buf.len) || in.too_long)
                fe_data_report_add(r, FE_CHECK_LEAKAGE, FE_DATA_WARNING, r->against, in.line,
                                   "unreadable_line", NULL,
                                   "held-out line not checked for leakage (too long or NUL byte)");
            continue;
        }
        const char *why;
        size_t at;
        cJSON *json = fe_data_parse_line(fe_buf_str(&in.buf), in.buf.len, &why, &at);
        if (!json) {
            fe_data_report_add(r, FE_CHECK_LEAKAGE, FE_DATA_WARNING, r->against, in.line,
                               "unreadable_line", NULL, "held-out line not checked for leakage: %s",
                               why);
            continue;
        }
        struct fe_data_row row;
        fe_data_row_extract(json, NULL, &row);
        r->heldout_examples++;
        /* a plain held-out row reaches the model through the config's template: compare that
         * rendering with chat training prompts (they were rendered the same way) */
        char *rendered = NULL;
        if (st->tmpl && row.shape == FE_SHAPE_PLAIN &&
            (st->first_shape == FE_SHAPE_CHAT || st->first_shape == FE_SHAPE_DPO)) {
            struct fe_err ignored = {0};
            rendered = fe_template_render(st->tmpl, json, &ignored);
        }
        add_item(st, rendered ? rendered : row.prompt, in.line, row.answer, 1);
        free(rendered);
        fe_data_row_release(&row);
        cJSON_Delete(json);
    }
    fe_data_lines_close(&in);
    return got < 0 ? -1 : 0;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void fe_dc_finish_labels(struct check_state *st)
{
    struct fe_data_report *r = st->r;
    struct label_tally *t = NULL;
    if (st->labels.rows && !st->labels.overflow) {
        t = &st->labels;
        r->label_source = st->has_label_field ? "label" : "gold";
    } else if (st->answers.rows && !st->answers.overflow && st->answers.n <= 200 &&
               st->answers.n * 3 <= st->answers.rows &&
               st->answers.chars <= 50 * st->answers.rows) {
        t = &st->answers;
        r->label_source = "assistant";
    }
    if (!t)
        return;
    r->n_labels = t->n;
    r->label_names = fe_xcalloc(t->n, sizeof(*r->label_names));
    r->label_counts = fe_xcalloc(t->n, sizeof(*r->label_counts));
    const char *key;
    size_t value;
    for (size_t pos = 0; fe_strmap_next(&t->map, &pos, &key, &value);)
        r->label_names[value] = fe_xstrdup(key);
    qsort(r->label_names, t->n, sizeof(*r->label_names), cmp_str);
    size_t lo = SIZE_MAX, hi = 0, rare = 0;
    struct fe_buf rare_names;
    fe_buf_init(&rare_names, 0);
    for (size_t i = 0; i < t->n; i++) {
        size_t idx = 0;
        fe_strmap_get(&t->map, r->label_names[i], &idx);
        size_t c = t->counts[idx];
        r->label_counts[i] = c;
        lo = c < lo ? c : lo;
        hi = c > hi ? c : hi;
        if (c < FE_DATA_RARE_LABEL) {
            if (rare++ < 5)
                fe_buf_addf(&rare_names, "%s'%.40s' (%zu)", rare > 1 ? ", " : "", r->label_names[i],
                            c);
        }
    }
    if (t->n == 1)
        fe_data_report_add(r, FE_CHECK_LABELS, FE_DATA_WARNING, r->path, 0, "single_label",
                           r->label_source, "every example has the same label '%.40s'",
                           r->label_names[0]);
    else if (lo && (double)hi / (double)lo > FE_DATA_IMBALANCE)
        fe_data_report_add(r, FE_CHECK_LABELS, FE_DATA_WARNING, r->path, 0, "imbalance",
                           r->label_source,
                           "labels are imbalanced: the most frequent has %zu examples, the rarest "
                           "%zu (ratio %.1f > %.0f)",
                           hi, lo, (double)hi / (double)lo, FE_DATA_IMBALANCE);
    if (rare)
        fe_data_report_add(r, FE_CHECK_LABELS, FE_DATA_NOTE, r->path, 0, "rare_labels",
                           r->label_source, "%zu label(s) with fewer than %d examples: %s%s", rare,
                           FE_DATA_RARE_LABEL, fe_buf_str(&rare_names), rare > 5 ? ", ..." : "");
    fe_buf_release(&rare_names);
}

static int cmp_pair(const void *x, const void *y)
{
    const struct pair *a = x, *b = y;
    if (a->b != b->b)
        return a->b < b->b ? -1 : 1;
    return a->a < b->a ? -1 : a->a > b->a;
}

/* One held-out item h found in FILE's item t (similarity sim): a blocking leakage finding. */
static void report_leak(struct check_state *st, size_t h, size_t t, double sim)
{
    struct fe_data_report *r = st->r;
    bool exact = sim >= 1.0 && st->dd.items[h].exact == st->dd.items[t].exact;
    if (exact)
        r->leaked_exact++;
    else
        r->leaked_near++;
    struct fe_data_finding *f = fe_data_report_add(
        r, FE_CHECK_LEAKAGE, FE_DATA_BLOCKING, r->against, st->item_line[h],
        exact ? "exact" : "near", NULL,
        exact ? "held-out example appears in %s (line %zu)"
              : "held-out example nearly appears in %s (line %zu, Jaccard %.3f)",
        r->path, st->item_line[t], sim);
    if (f) {
        f->other_file = r->path;
        f->other_line = st->item_line[t];
        f->similarity = sim;
    }
}

/* Duplicates within FILE, leakage between the held-out file and FILE. */
static void fe_dc_finish_dedup(struct check_state *st)
{
    struct fe_data_report *r = st->r;
    size_t n = st->dd.n;
    fe_dedup_pairs(&st->dd, r->near_threshold, pair_found, st);
    /* report in file order (items are numbered in file order, training file first) */
    if (st->n_pairs)
        qsort(st->pairs, st->n_pairs, sizeof(*st->pairs), cmp_pair);
    struct fe_uf uf;
    fe_uf_init(&uf, n);
    bool *near_root = fe_xcalloc(n ? n : 1, sizeof(*near_root));
    bool *exact_rep = fe_xcalloc(n ? n : 1, sizeof(*exact_rep));
    size_t *leak_other = fe_xcalloc(n ? n : 1, sizeof(*leak_other)); /* train item + 1 */
    double *leak_sim = fe_xcalloc(n ? n : 1, sizeof(*leak_sim));
    for (size_t i = 0; i < st->n_pairs; i++) {
        struct pair *p = &st->pairs[i];
        int sa = st->dd.items[p->a].set, sb = st->dd.items[p->b].set;
        if (sa == 0 && sb == 0) {
            fe_uf_union(&uf, p->a, p->b);
            if (p->exact) {
                exact_rep[p->a] = true;
                r->dup_rows++;
                bool conflict = st->item_answer[p->a] != st->item_answer[p->b];
                struct fe_data_finding *f = fe_data_report_add(
                    r, FE_CHECK_DUPLICATE, FE_DATA_WARNING, r->path, st->item_line[p->b],
                    conflict ? "conflicting_duplicate" : "duplicate", NULL,
                    conflict
                        ? "same prompt as line %zu (after normalisation) with a different answer"
                        : "duplicate of line %zu (after normalisation)",
                    st->item_line[p->a]);
                if (f) {
                    f->other_file = r->path;
                    f->other_line = st->item_line[p->a];
                    f->similarity = 1.0;
                }
            } else {
                struct fe_data_finding *f = fe_data_report_add(
                    r, FE_CHECK_NEAR_DUPLICATE, FE_DATA_WARNING, r->path, st->item_line[p->b],
                    "near_duplicate", NULL,
                    "near duplicate of line %zu (Jaccard %.3f on character 5-grams)",
                    st->item_line[p->a], p->sim);
                if (f) {
                    f->other_file = r->path;
                    f->other_line = st->item_line[p->a];
                    f->similarity = p->sim;
                }
                r->near_rows++;
            }
        } else if (sa != sb) {
            size_t t = sa == 0 ? p->a : p->b, h = sa == 0 ? p->b : p->a;
            if (!leak_other[h] || p->sim > leak_sim[h]) {
                leak_other[h] = t + 1;
                leak_sim[h] = p->sim;
            }
        }
    }
    /* a held-out item identical to another held-out item inherits its leak */
    for (size_t i = 0; i < st->n_pairs; i++) {
        struct pair *p = &st->pairs[i];
        if (p->exact && st->dd.items[p->a].set == 1 && st->dd.items[p->b].set == 1 &&
            !leak_other[p->b] && leak_other[p->a]) {
            leak_other[p->b] = leak_other[p->a];
            leak_sim[p->b] = leak_sim[p->a];
        }
    }
    for (size_t i = 0; i < n; i++) {
        if (exact_rep[i])
            r->dup_groups++;
    }
    for (size_t i = 0; i < st->n_pairs; i++) {
        struct pair *p = &st->pairs[i];
        if (!p->exact && st->dd.items[p->a].set == 0 && st->dd.items[p->b].set == 0) {
            size_t root = fe_uf_find(&uf, p->a);
            if (!near_root[root]) {
                near_root[root] = true;
                r->near_groups++;
            }
        }
    }
    for (size_t h = 0; h < n; h++)
        if (leak_other[h])
            report_leak(st, h, leak_other[h] - 1, leak_sim[h]);
    free(near_root);
    free(exact_rep);
    free(leak_other);
    free(leak_sim);
    fe_uf_release(&uf);
}

static void fe_dc_finish_size_cost(struct check_state *st)
{
    struct fe_data_report *r = st->r;
    const struct fe_data_check_opts *o = st->o;
    if (r->examples == 0)
        fe_data_report_add(r, FE_CHECK_FORMAT, FE_DATA_BLOCKING, r->path, 0, "no_examples", NULL,
                           "no examples: the file is empty or has no valid line");
    else if (r->examples < FE_DATA_MIN_EXAMPLES && o->purpose == FE_DATA_FOR_FINETUNE)
        fe_data_report_add(r, FE_CHECK_FORMAT, FE_DATA_BLOCKING, r->path, 0, "too_few_examples",
                           NULL, "%zu examples: OpenAI's fine-tuning rejects a training file with "
                           "fewer than %d", r->examples, FE_DATA_MIN_EXAMPLES);
    else if (r->examples < FE_DATA_MIN_EXAMPLES)
        fe_data_report_add(r, FE_CHECK_SIZE, FE_DATA_WARNING, r->path, 0, "too_small", NULL,
                           "%zu examples: the fine-tuning API needs at least %d (500+ recommended)",
                           r->examples, FE_DATA_MIN_EXAMPLES);
    else if (r->examples < FE_DATA_SIZE_WARN)
        fe_data_report_add(r, FE_CHECK_SIZE, FE_DATA_WARNING, r->path, 0, "small", NULL,
                           "%zu examples: fewer than %d usually give weak or unstable fine-tunes",
                           r->examples, FE_DATA_SIZE_WARN);
    else if (r->examples < FE_DATA_SIZE_NOTE)
        fe_data_report_add(r, FE_CHECK_SIZE, FE_DATA_NOTE, r->path, 0, "modest", NULL,
                           "%zu examples: fewer than %d; consider collecting more", r->examples,
                           FE_DATA_SIZE_NOTE);
    if (r->shapes[FE_SHAPE_PLAIN] && o->purpose == FE_DATA_FOR_ANY)
        fe_data_report_add(r, FE_CHECK_FORMAT, FE_DATA_WARNING, r->path, r->first_plain_line,
                           "plain_not_finetunable", "messages",
                           "%zu plain-shape row(s) (input/gold, first on line %zu): right for a "
                           "held-out set, but OpenAI's fine-tuning accepts only chat or DPO rows; "
                           "for training data convert with `fteval data to-chat FILE --config "
                           "CONFIG --out OUT` (--for finetune blocks, --for eval silences this)",
                           r->shapes[FE_SHAPE_PLAIN], r->first_plain_line);
    if (o->mde > 0) {
        r->mde = o->mde;
        r->mde_required_n = fe_data_mde_n(o->mde);
        const char *file = r->against ? r->against : r->path;
        size_t have = r->against ? r->heldout_examples : r->examples;
        if (have < r->mde_required_n)
            fe_data_report_add(
                r, FE_CHECK_SIZE, FE_DATA_WARNING, file, 0, "heldout_too_small", NULL,
                "held-out set has %zu examples; detecting a difference of %.3g needs about %zu "
                "(paired, binary metric at p=0.5, alpha 0.05 two-sided, power 0.8)",
                have, o->mde, r->mde_required_n);
    }
    r->n_epochs = o->n_epochs;
    r->training_tokens = r->tokens_total * (size_t)o->n_epochs;
    if (r->model) {
        double price;
        if (st->prices && fe_dc_training_price(st->prices, r->model, &price)) {
            r->priced = true;
            r->price_per_1m = price;
            r->cost_usd = (double)r->training_tokens / 1e6 * price;
            fe_data_report_add(
                r, FE_CHECK_COST, FE_DATA_NOTE, r->path, 0, "training_cost", NULL,
                "training cost about $%.2f (%zu tokens x %ld epochs at $%.2f per 1M, estimated)",
                r->cost_usd, r->tokens_total, o->n_epochs, price);
        } else {
            fe_data_report_add(r, FE_CHECK_COST, FE_DATA_WARNING, r->path, 0, "unknown_price", NULL,
                               "no training price for '%s'%s: cost unknown", r->model,
                               st->prices ? " in the price table"
                                          : " (no price table: use --prices)");
        }
    }
    if (r->against && r->heldout_examples == 0)
        fe_data_report_add(r, FE_CHECK_SIZE, FE_DATA_WARNING, r->against, 0, "empty_heldout", NULL,
                           "the held-out file has no readable examples");
}

static void state_release(struct check_state *st)
{
    fe_strmap_release(&st->ids);
    fe_strmap_release(&st->labels.map);
    free(st->labels.counts);
    fe_strmap_release(&st->answers.map);
    free(st->answers.counts);
    fe_dedup_release(&st->dd);
    free(st->item_line);
    free(st->item_answer);
    free(st->pairs);
    for (size_t i = 0; i < st->n_systems; i++)
        free(st->systems[i]);
    free(st->systems);
    free(st->tmpl_prefix);
    free(st->tmpl_suffix);
    free(st->tmpl);
    cJSON_Delete(st->prices);
}

struct fe_data_report *fe_data_check_run(const struct fe_data_check_opts *o, struct fe_err *err)
{
    if (fe_dataset_jsonl_only(o->path, "fteval data check", err) != FE_OK ||
        (o->against && fe_dataset_jsonl_only(o->against, "fteval data check", err) != FE_OK))
        return NULL;
    struct fe_data_report *r = fe_xcalloc(1, sizeof(*r));
    r->path = fe_xstrdup(o->path);
    r->against = fe_xstrdup(o->against);
    r->config = fe_xstrdup(o->config);
    r->purpose = o->purpose;
    r->model = fe_xstrdup(o->model);
    r->max_findings = o->max_findings ? o->max_findings : 200;
    r->near_threshold = o->near_threshold > 0 ? o->near_threshold : FE_DEDUP_THRESHOLD;
    static const char *const role_names[] = {"system",    "developer", "user",
                                             "assistant", "tool",      "other"};
    for (int i = 0; i < FE_DATA_ROLES; i++)
        r->roles[i].role = role_names[i];

    struct check_state st;
    memset(&st, 0, sizeof(st));
    st.r = r;
    st.o = o;
    fe_strmap_init(&st.ids);
    fe_strmap_init(&st.labels.map);
    fe_strmap_init(&st.answers.map);
    fe_dedup_init(&st.dd);

    int rc = 0;
    if (o->prices && !(st.prices = fe_dc_read_json_file(o->prices, err)))
        rc = -1;
    if (rc == 0 && o->config) {
        r->production_checked = true;
        rc = fe_dc_load_config(&st, o->config, err);
    }
    if (rc == 0)
        rc = fe_dc_pass_train(&st, err);
    st.n_train = st.dd.n;
    if (rc == 0 && o->against)
        rc = fe_dc_pass_heldout(&st, err);
    if (rc == 0) {
        fe_dc_finish_labels(&st);
        fe_dc_finish_dedup(&st);
        fe_dc_finish_size_cost(&st);
    }
    state_release(&st);
    if (rc != 0) {
        fe_data_report_free(r);
        return NULL;
    }
    return r;
}
