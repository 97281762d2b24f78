/* ft_resolve.c — see ft_resolve.h. */
#include "harness/cli/ft_resolve.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness/ft/ft_client.h"
#include "harness/base/log.h"
#include "harness/base/util.h"

enum fe_status fe_resolve_finetune_jobs(struct fe_config *c, struct fe_err *err)
{
    size_t n = c->n_arms; /* arms added for checkpoints are already resolved */
    for (size_t i = 0; i < n; i++) {
        if (!c->arms[i].finetune_job || c->arms[i].model)
            continue;
        struct fe_arm_conf *arm = &c->arms[i];
        if (!(arm->provider->ops->caps & FE_CAP_FILES))
            return fe_err_set(err, FE_EINVALID, "%s: arms[%zu].finetune_job: provider '%s' (type %s) has no "
                              "fine-tuning API", c->path, i, arm->provider->conf.name, arm->provider->conf.type);
        struct fe_ft_job_info info;
        struct fe_err ferr = {0};
        enum fe_status st = fe_ft_resolve_job(arm->provider->conf.base_url, arm->provider->conf.api_key,
                                              arm->finetune_job, &info, &ferr);
        if (st != FE_OK)
            return fe_err_set(err, st == FE_EINVALID ? FE_EINVALID : FE_ENET, "%s: arms[%zu].finetune_job: %s",
                              c->path, i, ferr.msg);
        arm->ft_base_model = fe_xstrdup(info.model);
        arm->trained_tokens = info.trained_tokens;
        fe_config_set_model(c, arm, info.fine_tuned_model);
        fe_info("arm '%s': job %s -> %s", arm->name, arm->finetune_job, arm->model);
        if (!arm->checkpoints)
            continue;
        struct fe_ft_checkpoint *cps = NULL;
        size_t n_cps = 0;
        st = fe_ft_list_checkpoints(arm->provider->conf.base_url, arm->provider->conf.api_key,
                                    arm->finetune_job, &cps, &n_cps, &ferr);
        if (st != FE_OK) {
            fe_ft_checkpoints_free(cps, n_cps);
            return fe_err_set(err, FE_ENET, "%s: arms[%zu].checkpoints: %s", c->path, i, ferr.msg);
        }
        for (size_t k = 0; k < n_cps; k++) {
            if (!cps[k].model || strcmp(cps[k].model, c->arms[i].model) == 0)
                continue;
            char *name = fe_xasprintf("%s-step-%ld", c->arms[i].name, cps[k].step);
            struct fe_arm_conf *copy = fe_config_add_arm_copy(c, i, name, cps[k].model);
            copy->checkpoint_step = cps[k].step;
            free(name);
        }
        fe_ft_checkpoints_free(cps, n_cps);
    }
    return FE_OK;
}
