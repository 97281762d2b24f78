/* data_check.c — the entry points of `data check` (data_check.h, docs/data.md): one run over
 * FILE and HELDOUT, and the gate of `ft upload`. The work is in data_check_pass.c and the files
 * it uses (data_check_int.h). */
#include <stdlib.h>
#include <string.h>

#include "harness/base/util.h"
#include "harness/data/data_check_int.h"

void fe_data_check_opts_init(struct fe_data_check_opts *o)
{
    memset(o, 0, sizeof(*o));
    o->n_epochs = 3;
    o->near_threshold = FE_DEDUP_THRESHOLD;
    o->max_findings = 200;
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

int fe_data_check_blocking(const char *path, struct fe_buf *text, struct fe_err *err)
{
    struct fe_data_check_opts o;
    fe_data_check_opts_init(&o);
    o.path = path;
    o.purpose = FE_DATA_FOR_FINETUNE;
    struct fe_data_report *r = fe_data_check_run(&o, err);
    if (!r)
        return -1;
    if (text)
        fe_data_report_text(r, text);
    int blocking = fe_data_report_blocking(r) ? 1 : 0;
    size_t rejected = r->counts[FE_CHECK_FORMAT][FE_DATA_BLOCKING];
    for (size_t i = 0; i < r->n_findings && rejected; i++) {
        const struct fe_data_finding *f = &r->findings[i];
        if (f->check != FE_CHECK_FORMAT || f->severity != FE_DATA_BLOCKING)
            continue;
        char where[32] = "";
        if (f->line)
            snprintf(where, sizeof(where), ":%zu", f->line);
        fe_err_set(err, FE_EINVALID,
                   "%s%s: field '%s': %s (%zu row problem(s) OpenAI's fine-tuning would reject; "
                   "nothing uploaded)",
                   f->file ? f->file : path, where, f->field ? f->field : "-", f->message, rejected);
        blocking = 2;
        break;
    }
    fe_data_report_free(r);
    return blocking;
}

