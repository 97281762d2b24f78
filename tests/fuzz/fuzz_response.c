/* fuzz_response.c — libFuzzer target: a response body through every HTTP provider's parser and
 * error classifier. */
#include <stddef.h>
#include <stdint.h>

#include "providers/provider.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    for (size_t i = 0; fe_providers[i]; i++) {
        const struct fe_provider_ops *ops = fe_providers[i];
        if (!(ops->caps & FE_CAP_HTTP))
            continue;
        struct fe_completion c = {0};
        struct fe_err err = {0};
        ops->parse_response((const char *)data, size, &c, &err);
        fe_completion_release(&c);
        struct fe_provider_error pe;
        ops->classify_error(size ? 400 + data[0] % 200 : 500, (const char *)data, size, &pe);
        fe_provider_error_release(&pe);
    }
    return 0;
}
