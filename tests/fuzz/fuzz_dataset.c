/* fuzz_dataset.c — libFuzzer target: one dataset line through the parser. */
#include <stddef.h>
#include <stdint.h>

#include "harness/input/dataset.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fe_example ex;
    struct fe_err err = {0};
    if (fe_example_parse((const char *)data, size, "fuzz.jsonl", 1, &ex, &err) == 0)
        fe_example_release(&ex);
    return 0;
}
