/* outputs_tool — the last step of `fteval run` on an existing results directory, for the golden
 * output test (tests/golden_outputs_test.py).
 *
 * usage: outputs_tool RUN_DIR
 * Loads RUN_DIR (manifest.json and <arm>.jsonl; any summary.json is replaced), then writes
 * summary.json (statistics settings from the manifest), history.jsonl in the parent folder (for
 * a manifest with "command": "run"), report.md and report.html, and prints the per-arm table on
 * stdout: exactly fe_outputs_write. Exit 0, or 1 with the error on stderr.
 */
#include <stdio.h>

#include "harness/base/err.h"
#include "harness/cli/outputs.h"

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: outputs_tool RUN_DIR\n");
        return 2;
    }
    struct fe_err err = {0};
    enum fe_status st = fe_outputs_write(argv[1], NULL, true, &err);
    if (st != FE_OK) {
        fprintf(stderr, "outputs_tool: %s\n", err.msg[0] ? err.msg : fe_strerror(st));
        return 1;
    }
    return 0;
}
