/* cmd_merge.c — `fteval merge OUT SHARD_DIR...`: joins the shards of one run (`run --shard I/N`)
 * into one run directory and computes its statistics once, over all records (docs/shards.md).
 * The checks and the copy are run/merge.c's; the outputs are the same step as `run`'s
 * (cli/outputs.c), so OUT's summary.json is the one an unsharded run would have written. */
#include <stdio.h>
#include <string.h>

#include "harness/base/log.h"
#include "harness/cli/commands.h"
#include "harness/cli/outputs.h"
#include "harness/run/merge.h"
#include "harness/run/runguard.h"

static const struct fe_usage fe_merge_usage = {
    .command = "merge",
    .synopsis =
        "usage: fteval merge OUT SHARD_DIR... [--dataset FILE] [--quiet]\n"
        "\n"
        "Joins the results directories of `fteval run CONFIG --shard I/N` (every I of 0..N-1,\n"
        "each once) into one run directory OUT, then writes summary.json, report.md and\n"
        "report.html from all records at once, as an unsharded run would.\n"
        "Refuses (exit 3, with the reason) shards of another config (fingerprint), another\n"
        "dataset (sha256), overlapping shards, incomplete shards and a union that misses\n"
        "planned examples (the missing ids are listed).\n",
    .epilogue = "exit codes: 0 merged, 2 usage, 3 shards refused (or invalid), 4 I/O error or OUT locked,\n"
                "            5 internal error\n",
};

int fe_cmd_merge(int argc, char **argv)
{
    const char *dataset = NULL;
    bool quiet = false;
    long max_listed = 20;
    struct fe_option opts[] = {
        FE_OPTION_STRING_F(0, "dataset", &dataset, "FILE", FE_OPTF_NONEMPTY,
                           "the dataset the shards ran on (default: the path in their manifests;\n"
                           "its sha256 must match)"),
        FE_OPTION_LONG(0, "max-listed", &max_listed, "N", 1, 100000, "name at most N missing ids (default 20)"),
        FE_OPTION_FLAG('q', "quiet", &quiet, "print nothing but errors"),
        FE_OPTION_END(),
    };
    int n = fe_parse_options(argc, argv, &fe_merge_usage, opts);
    if (n < 0)
        return fe_parse_exit_code(n);
    if (n == 0)
        return fe_usage_error("merge", "missing OUT");
    if (n == 1)
        return fe_usage_error("merge", "missing SHARD_DIR: give the directories of the shards to merge");
    struct fe_merge_opts mo = {
        .out = argv[0], .shard_dirs = (const char *const *)&argv[1], .n_shards = (size_t)n - 1,
        .dataset = dataset, .max_listed = (size_t)max_listed,
    };
    struct fe_err err = {0};
    struct fe_merge_result res;
    int lock_fd = -1;
    enum fe_status st = fe_merge_shards(&mo, &res, &lock_fd, &err);
    if (st == FE_OK && !quiet)
        printf("merged %zu shards of %ld: %zu examples x %zu arms\n", mo.n_shards, res.shard_count, res.examples,
               res.arms);
    if (st == FE_OK)
        st = fe_outputs_write(mo.out, NULL, !quiet, &err);
    fe_run_unlock(lock_fd);
    if (st != FE_OK) {
        fe_error("%s", err.msg[0] ? err.msg : fe_strerror(st));
        return fe_status_exit_code(st);
    }
    if (!quiet)
        printf("results: %s\n", mo.out);
    return FE_EXIT_OK;
}
