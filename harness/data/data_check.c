/* data_check.c — the options of `data check` and the gate of `ft upload` (data_check.h,
 * docs/data.md). The run itself is fe_data_check_run in data_check_pass.c (data_check_int.h). */
#include <stdlib.h>
#include <string.h>

#include "harness/base/util.h"
#include "harness/data/data_check.h"
#include "harness/data/data_dedup.h"

void fe_data_check_opts_init(struct fe_data_check_opts *o)
{
    memset(o, 0, sizeof(*o));
    o->n_epochs = 3;
    o->near_threshold = FE_DEDUP_THRESHOLD;
    o->max_findings = 200;
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

