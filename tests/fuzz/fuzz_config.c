/* fuzz_config.c — libFuzzer target: a whole run config through validation. */
#include <stddef.h>
#include <stdint.h>

#include "harness/run/config.h"
#include "harness/base/log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fe_config *c = NULL;
    struct fe_err err = {0};
    if (fe_config_load_text((const char *)data, size, "/nonexistent/fuzz.json", NULL, &c, &err) == FE_OK)
        fe_config_free(c);
    fe_log_clear_secrets();
    return 0;
}
