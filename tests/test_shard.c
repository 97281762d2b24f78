/* test_shard.c — harness/input/shard.c: the hash against the published FNV-1a 64 vectors
 * (Fowler/Noll/Vo test suite), the split, and every form of a --shard spec. */
#define _POSIX_C_SOURCE 200809L /* setenv, unsetenv */
#include <stdlib.h>
#include <string.h>

#include "harness/input/shard.h"
#include "t.h"

static bool parse(const char *spec, struct fe_shard *s, char *why)
{
    return fe_shard_parse(spec, s, why, 256);
}

int main(void)
{
    /* published FNV-1a 64 vectors */
    T_CHECK(fe_shard_hash("") == 0xcbf29ce484222325ull);
    T_CHECK(fe_shard_hash("a") == 0xaf63dc4c8601ec8cull);
    T_CHECK(fe_shard_hash("foobar") == 0x85944171f73967e8ull);
    T_CHECK(fe_shard_of("foobar", 4) == (long)(0x85944171f73967e8ull % 4));
    T_CHECK(fe_shard_of("anything", 1) == 0);

    /* the shards partition ids, and NULL or an unsharded spec takes everything */
    struct fe_shard s4[4];
    for (long i = 0; i < 4; i++)
        s4[i] = (struct fe_shard){.index = i, .count = 4};
    int hits[4] = {0};
    char id[32];
    for (int k = 0; k < 1000; k++) {
        snprintf(id, sizeof(id), "ex-%05d", k);
        int mine = 0;
        for (int i = 0; i < 4; i++) {
            mine += fe_shard_mine(&s4[i], id);
            hits[i] += fe_shard_mine(&s4[i], id);
        }
        T_CHECK(mine == 1);
        T_CHECK(fe_shard_mine(NULL, id));
    }
    for (int i = 0; i < 4; i++) /* about 250 each: 4 sigma of a binomial(1000, 1/4) */
        T_CHECK(hits[i] > 195 && hits[i] < 305);

    struct fe_shard s;
    char why[256];
    unsetenv("JOB_COMPLETION_INDEX");
    unsetenv("SLURM_ARRAY_TASK_ID");
    T_CHECK(parse("2/4", &s, why) && s.index == 2 && s.count == 4 && strcmp(s.source, "argument") == 0);
    T_CHECK(parse("0/1", &s, why) && s.index == 0 && s.count == 1);
    T_CHECK(parse("99999/100000", &s, why) && s.index == 99999);
    const char *bad[] = {"4/4", "-1/4", "x/4", "1/0", "1/-4", "1/4/2", "1", "/4", "1/", "", "01x/4", "1/100001",
                         " 1/4", "+1/4", "1/+4", "auto/0", "auto/", "99999999999999999999/4"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        bool ok = parse(bad[i], &s, why);
        T_CHECK(!ok);
        if (ok)
            fprintf(stderr, "accepted: '%s'\n", bad[i]);
        T_CHECK(strstr(why, "--shard") != NULL);
    }
    /* auto/N */
    T_CHECK(!parse("auto/4", &s, why) && strstr(why, "neither JOB_COMPLETION_INDEX") != NULL);
    setenv("JOB_COMPLETION_INDEX", "3", 1);
    T_CHECK(parse("auto/4", &s, why) && s.index == 3 && strcmp(s.source, "JOB_COMPLETION_INDEX") == 0);
    T_CHECK(!parse("auto/3", &s, why) && strstr(why, "JOB_COMPLETION_INDEX='3' is not a shard index in 0..2"));
    setenv("SLURM_ARRAY_TASK_ID", "3", 1); /* both, agreeing */
    T_CHECK(parse("auto/4", &s, why) && s.index == 3 && strcmp(s.source, "JOB_COMPLETION_INDEX") == 0);
    setenv("SLURM_ARRAY_TASK_ID", "1", 1); /* both, disagreeing */
    T_CHECK(!parse("auto/4", &s, why) && strstr(why, "disagree") != NULL);
    unsetenv("JOB_COMPLETION_INDEX");
    T_CHECK(parse("auto/4", &s, why) && s.index == 1 && strcmp(s.source, "SLURM_ARRAY_TASK_ID") == 0);
    setenv("SLURM_ARRAY_TASK_ID", "4", 1);
    T_CHECK(!parse("auto/4", &s, why) && strstr(why, "--array=0-N-1") != NULL);
    setenv("SLURM_ARRAY_TASK_ID", "1x", 1);
    T_CHECK(!parse("auto/4", &s, why));
    unsetenv("SLURM_ARRAY_TASK_ID");
    return T_DONE();
}
