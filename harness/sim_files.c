/* sim_files.c — in-memory files and fine-tuning jobs (stub; full version follows). */
#include "harness/sim.h"

bool fe_sim_files_route(struct fe_sim *s, const struct fe_sim_request *rq, struct fe_sim_response *rs)
{
    (void)s;
    (void)rq;
    (void)rs;
    return false;
}

bool fe_sim_store_has_model(struct fe_sim *s, const char *model)
{
    (void)s;
    (void)model;
    return false;
}

void fe_sim_store_list_models(struct fe_sim *s, void *data_array)
{
    (void)s;
    (void)data_array;
}

void fe_sim_store_release(struct fe_sim_store *st)
{
    (void)st;
}
