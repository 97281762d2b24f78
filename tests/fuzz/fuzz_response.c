/* fuzz_response.c — libFuzzer target: a response body through every HTTP provider's parser,
 * error classifier, refusal parser and typed classifier (the body's first line as the
 * x-amzn-errortype header). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

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
        long status = size ? 400 + data[0] % 200 : 500;
        ops->classify_error(status, (const char *)data, size, &pe);
        fe_provider_error_release(&pe);
        if (ops->parse_refusal) {
            struct fe_completion r = {0};
            ops->parse_refusal(status, (const char *)data, size, &r);
            fe_completion_release(&r);
        }
        if (ops->classify_error_typed) {
            const uint8_t *nl = memchr(data, '\n', size);
            size_t tl = nl ? (size_t)(nl - data) : 0;
            char *type = malloc(tl + 1);
            if (type) {
                memcpy(type, data, tl);
                type[tl] = '\0';
                ops->classify_error_typed(status, tl && !memchr(type, 0, tl) ? type : NULL, (const char *)data, size, &pe);
                fe_provider_error_release(&pe);
                free(type);
            }
        }
    }
    return 0;
}
