/* registry.c — the list of provider implementations. Adding a provider is one line here. */
#include <string.h>

#include "providers/provider.h"

const struct fe_provider_ops *const fe_providers[] = {
    &fe_provider_openai,
    &fe_provider_anthropic,
    &fe_provider_replay,
    &fe_provider_azure_openai,
    &fe_provider_bedrock,
    NULL,
};

const struct fe_provider_ops *fe_provider_find(const char *type)
{
    for (size_t i = 0; fe_providers[i]; i++)
        if (strcmp(fe_providers[i]->name, type) == 0)
            return fe_providers[i];
    return NULL;
}
