/* ft_resolve.h — turns arms that name an OpenAI fine-tuning job ("finetune_job": "ftjob-...")
 * into arms with the job's fine-tuned model, before anything is validated or sent.
 * It lives in cli/ because it joins two layers that may not use each other: run (the config)
 * and ft (the fine-tuning client); `fteval run` calls it before building the manifest. */
#ifndef FE_FT_RESOLVE_H
#define FE_FT_RESOLVE_H

#include "harness/run/config.h"
#include "harness/base/err.h"

/* For every arm with finetune_job: fetches the job through the arm's provider (base_url, key),
 * sets the arm's model to fine_tuned_model (FE_EINVALID naming the arm when the job has not
 * succeeded), records base model and trained tokens, and with "checkpoints": true appends one
 * arm per checkpoint ("<arm>-step-N"). Returns FE_OK, FE_EINVALID or FE_ENET with err set. */
enum fe_status fe_resolve_finetune_jobs(struct fe_config *c, struct fe_err *err);

#endif
