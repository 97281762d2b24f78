/* test_rundir_pack.c — a loaded run keeps its records packed (rundir.c, issue 14 Memory):
 * every field read back through fe_arm_record must be exactly what the record line says,
 * including the values the packed form keeps aside (a latency that is not a whole number of
 * microseconds, token counts above 16 bits, time to first token, cluster keys), the dataset
 * order (line, then id; line-less records last), the last record of a re-recorded id, and the
 * text read back from the file. Expected values are written from the record lines below. */
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness/base/util.h"
#include "harness/rundir/rundir.h"
#include "harness/rundir/rundir_int.h"
#include "tests/t.h"

static const char manifest[] =
    "{\"name\": \"pack\", \"metrics\": [\"exact_match\", \"token_f1\"],"
    " \"arms\": [{\"name\": \"a\", \"model\": \"m\"}, {\"name\": \"b\"}, {\"name\": \"c\"}]}";

/* Arm c records x2 on another dataset line than arm a does (the line is kept once per id, so
 * this one must be kept aside), and x0 on the same one. */
static const char arm_c[] =
    "{\"id\": \"x2\", \"line\": 7, \"status\": \"ok\", \"latency_ms\": 2,"
    " \"scores\": {\"exact_match\": 1, \"token_f1\": 1}}\n"
    "{\"id\": \"x0\", \"line\": 1, \"status\": \"ok\", \"latency_ms\": 3,"
    " \"scores\": {\"exact_match\": 0, \"token_f1\": 0}}\n";

/* In file order: x2, x1 (replaced below), x3, x0, x1 again, then a torn last line. */
static const char arm_a[] =
    "{\"id\": \"x2\", \"line\": 2, \"status\": \"ok\", \"prediction\": \"p2\", \"latency_ms\": 12.34567,"
    " \"ttft_ms\": null, \"usage\": {\"prompt_tokens\": 10, \"completion_tokens\": 5},"
    " \"cost_usd\": 0.00123, \"finish_reason\": \"stop\", \"model\": \"m-1\", \"attempts\": 1,"
    " \"scores\": {\"exact_match\": 1, \"token_f1\": 0.5}}\n"
    "{\"id\": \"x1\", \"line\": 1, \"status\": \"ok\", \"prediction\": \"old\", \"latency_ms\": 1,"
    " \"scores\": {\"exact_match\": 1, \"token_f1\": 1}}\n"
    "{\"id\": \"x3\", \"status\": \"ok\", \"prediction\": \"p3\", \"latency_ms\": null,"
    " \"input\": \"hi\", \"input_truncated\": true, \"refusal\": \"no\", \"judgements\": {},"
    " \"cache_hit\": true, \"attempts\": 2, \"scores\": {\"exact_match\": 0, \"token_f1\": 0.25}}\n"
    "{\"id\": \"x0\", \"line\": 1, \"status\": \"ok\", \"prediction\": \"p0\", \"latency_ms\": 4294967.5,"
    " \"usage\": {\"prompt_tokens\": 65534, \"completion_tokens\": 0, \"cached_tokens\": 65534},"
    " \"scores\": {\"exact_match\": 0, \"token_f1\": 0.125}}\n"
    "{\"id\": \"x1\", \"line\": 1, \"status\": \"error\", \"error\": {\"kind\": \"timeout\"},"
    " \"latency_ms\": 1.234, \"ttft_ms\": 4.5, \"stream\": true, \"cluster\": \"c1\","
    " \"slice\": \"s1\", \"usage\": {\"prompt_tokens\": 70000, \"completion_tokens\": 3,"
    " \"cached_tokens\": 2}, \"cost_usd\": null, \"attempts\": 3,"
    " \"scores\": {\"exact_match\": 0, \"token_f1\": 0.75}}\n"
    "{\"id\": \"x9\", \"line\": 9, \"status\": \"o";

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    T_CHECK(f != NULL);
    if (!f)
        exit(1);
    fputs(text, f);
    fclose(f);
}

static bool same(double a, double b) /* bit-equal values, NAN equal to NAN */
{
    return (isnan(a) && isnan(b)) || (a == b && signbit(a) == signbit(b));
}

/* A one-arm run directory under /tmp: its manifest, and a.jsonl open for the records. */
struct fixture {
    char dir[32];
    char *mp, *ap;
};

static FILE *fixture_open(struct fixture *x, const char *manifest_json)
{
    snprintf(x->dir, sizeof(x->dir), "/tmp/fteval-pack-XXXXXX");
    T_CHECK(mkdtemp(x->dir) != NULL);
    x->mp = fe_xasprintf("%s/manifest.json", x->dir);
    x->ap = fe_xasprintf("%s/a.jsonl", x->dir);
    write_file(x->mp, manifest_json);
    FILE *f = fopen(x->ap, "w");
    T_CHECK(f != NULL);
    if (!f)
        exit(1);
    return f;
}

/* Closes f and loads the run (NULL when it does not load: checked). */
static struct fe_run *fixture_load(const struct fixture *x, FILE *f)
{
    fclose(f);
    struct fe_run *run = NULL;
    struct fe_err err = {0};
    T_CHECK(fe_run_load(x->dir, &run, &err) == FE_OK);
    return run;
}

static void fixture_close(struct fixture *x, struct fe_run *run)
{
    fe_run_free(run);
    unlink(x->ap);
    unlink(x->mp);
    rmdir(x->dir);
    free(x->ap);
    free(x->mp);
}

/* More distinct shapes than a narrow record can index (65,535): each of 70,000 records has its
 * own slice, and every one must read back its own (the records past the limit are wide). */
static void test_many_shapes(void)
{
    struct fixture x;
    FILE *f = fixture_open(&x, "{\"name\": \"shapes\", \"metrics\": [\"exact_match\"],"
                   " \"arms\": [{\"name\": \"a\"}]}");
    const size_t n = 70000;
    for (size_t i = 0; i < n; i++)
        fprintf(f, "{\"id\": \"s%zu\", \"line\": %zu, \"status\": \"ok\", \"slice\": \"v%zu\","
                   " \"scores\": {\"exact_match\": %zu}}\n", i, i, i, i % 2);
    struct fe_run *run = fixture_load(&x, f);
    if (!run)
        return;
    const struct fe_arm_run *a = &run->arms[0];
    T_CHECK(a->n == n);
    size_t wrong = 0;
    for (size_t i = 0; i < a->n; i++) {
        struct fe_record buf;
        const struct fe_record *r = fe_arm_record(a, i, &buf);
        char want[32];
        snprintf(want, sizeof(want), "v%zu", i);
        const char *got = fe_run_str(run, r->slice);
        wrong += !got || strcmp(got, want) != 0 || r->line != (int32_t)i ||
                 fe_score(r, 0) != (double)(i % 2);
    }
    T_CHECK(wrong == 0);
    fixture_close(&x, run);
}

/* More distinct costs and token counts than a 16-bit dictionary codes (65,536): 70,001 records
 * in shuffled file order, each with its own cost and token counts, some with an unknown cost,
 * and one id re-recorded after the columns have given up their dictionaries. Every record
 * must read back its own bits. */
static void test_many_costs(void)
{
    struct fixture x;
    FILE *f = fixture_open(&x, "{\"name\": \"costs\", \"metrics\": [\"exact_match\"],"
                   " \"arms\": [{\"name\": \"a\"}]}");
    const size_t n = 70001; /* prime: i * 30,011 mod n visits every line once */
    for (size_t k = 0; k < n; k++) {
        size_t i = k * 30011 % n;
        if (i % 1000 == 999)
            fprintf(f, "{\"id\": \"c%zu\", \"line\": %zu, \"status\": \"ok\", \"cost_usd\": null,"
                       " \"usage\": {\"prompt_tokens\": %zu, \"completion_tokens\": %zu}}\n",
                    i, i, i % 60000, i % 7);
        else
            fprintf(f, "{\"id\": \"c%zu\", \"line\": %zu, \"status\": \"ok\", \"cost_usd\": %.17g,"
                       " \"usage\": {\"prompt_tokens\": %zu, \"completion_tokens\": %zu}}\n",
                    i, i, (double)i * 1.25e-7 + 3e-9, i % 60000, i % 7);
    }
    fprintf(f, "{\"id\": \"c5\", \"line\": 5, \"status\": \"ok\", \"cost_usd\": 0.5,"
               " \"usage\": {\"prompt_tokens\": 65000, \"completion_tokens\": 9}}\n");
    struct fe_run *run = fixture_load(&x, f);
    if (!run)
        return;
    const struct fe_arm_run *a = &run->arms[0];
    T_CHECK(a->n == n);
    size_t wrong = 0;
    for (size_t i = 0; i < a->n; i++) {
        struct fe_record buf;
        const struct fe_record *r = fe_arm_record(a, i, &buf);
        bool priced = i % 1000 != 999;
        double cost = i == 5 ? 0.5 : priced ? (double)i * 1.25e-7 + 3e-9 : 0;
        int32_t prompt = i == 5 ? 65000 : (int32_t)(i % 60000), compl = i == 5 ? 9 : (int32_t)(i % 7);
        wrong += r->line != (int32_t)i || r->has_cost != priced || !same(r->cost_usd, cost) ||
                 r->prompt_tokens != prompt || r->completion_tokens != compl || r->cached_tokens != 0;
    }
    T_CHECK(wrong == 0);
    fixture_close(&x, run);
}

/* An arm with a price in the manifest: 70,001 records, each with its own token counts, whose
 * costs are what those tokens cost at that price (what fteval writes), except every 7th (half
 * of it, as a batch call costs: not what the price gives), every 1,000th (unknown), one with
 * wide token counts and one whose cached tokens exceed its prompt. The costs a price gives are
 * computed again when read, not kept, so the column stays coded (2 bytes a record) although
 * every cost differs; every record reads back its own bits. Arm b, without a price, holds the
 * same records: its costs are kept as values. */
static void test_priced_costs(void)
{
    struct fixture x;
    FILE *f = fixture_open(&x, "{\"name\": \"priced\", \"metrics\": [\"exact_match\"],"
                   " \"arms\": [{\"name\": \"a\", \"price\": {\"input\": 0.1537,"
                   " \"cached_input\": 0.0769, \"output\": 0.6113, \"source\": \"t\"}}, {\"name\": \"b\"}]}");
    char *bp = fe_xasprintf("%s/b.jsonl", x.dir);
    FILE *fb = fopen(bp, "w");
    T_CHECK(fb != NULL);
    if (!fb)
        exit(1);
    const struct fe_price price = {.input = 0.1537, .cached_input = 0.0769, .has_cached_input = true,
                                   .output = 0.6113, .batch_multiplier = 1};
    const size_t n = 70001; /* prime: i * 30,011 mod n visits every line once */
    double *want = fe_xcalloc(n, sizeof(*want));
    long (*tok)[3] = fe_xcalloc(n, sizeof(*tok));
    for (size_t k = 0; k < n; k++) {
        size_t i = k * 30011 % n;
        long p = 50 + (long)(i * 7919 % 4000), c = (long)(i % 13 == 0 ? p / 2 : 0);
        long o = 1 + (long)(i * 104729 % 499);
        if (i == 17)
            p = 70000; /* wide */
        if (i == 18)
            c = p + 5; /* more cached than prompt: the price clamps it */
        tok[i][0] = p, tok[i][1] = c, tok[i][2] = o;
        want[i] = fe_cost_call(&price, p, c, o, false) * (i % 7 == 3 ? 0.5 : 1);
        for (int arm = 0; arm < 2; arm++) {
            FILE *to = arm ? fb : f;
            fprintf(to, "{\"id\": \"p%zu\", \"line\": %zu, \"status\": \"ok\", \"usage\": "
                        "{\"prompt_tokens\": %ld, \"cached_tokens\": %ld, \"completion_tokens\": %ld}, ",
                    i, i, p, c, o);
            if (i % 1000 == 999)
                fprintf(to, "\"cost_usd\": null}\n");
            else
                fprintf(to, "\"cost_usd\": %.17g}\n", want[i]);
        }
    }
    fclose(fb);
    struct fe_run *run = fixture_load(&x, f);
    if (run) {
        const struct fe_arm_store *sa = run->arms[0].store, *sb = run->arms[1].store;
        T_CHECK(sa->cost.code != NULL && sa->cost.n_vals < 12000); /* coded: the price's costs */
        T_CHECK(sb->cost.code == NULL);                            /* kept: no price */
        size_t wrong = 0;
        for (size_t a = 0; a < 2; a++)
            for (size_t i = 0; i < n && run->arms[a].n == n; i++) {
                struct fe_record buf;
                const struct fe_record *r = fe_arm_record(&run->arms[a], i, &buf);
                bool priced = i % 1000 != 999;
                wrong += r->line != (int32_t)i || r->has_cost != priced ||
                         !same(r->cost_usd, priced ? want[i] : 0) || r->prompt_tokens != tok[i][0] ||
                         r->cached_tokens != tok[i][1] || r->completion_tokens != tok[i][2];
            }
        T_CHECK(run->arms[0].n == n && run->arms[1].n == n);
        T_CHECK(wrong == 0);
    }
    unlink(bp);
    free(bp);
    free(want);
    free(tok);
    fixture_close(&x, run);
}

/* Arms that hold every id of the run (in shuffled file order) and arms that do not: each
 * record is found by its id and comes back in dataset order, whichever kind its arm is. Arm
 * a holds ids k0..k1008, b every third one, c every one (k5 on another line, so last but one)
 * and one more ("z", without a line, last), d none, e the first hundred. */
static void test_arm_kinds(void)
{
    struct fixture x;
    FILE *f = fixture_open(&x, "{\"name\": \"kinds\", \"metrics\": [\"exact_match\"],"
                   " \"arms\": [{\"name\": \"a\"}, {\"name\": \"b\"}, {\"name\": \"c\"},"
                   " {\"name\": \"d\"}, {\"name\": \"e\"}]}");
    char *bp = fe_xasprintf("%s/b.jsonl", x.dir), *cp = fe_xasprintf("%s/c.jsonl", x.dir);
    char *ep = fe_xasprintf("%s/e.jsonl", x.dir);
    FILE *fb = fopen(bp, "w"), *fc = fopen(cp, "w"), *fe = fopen(ep, "w");
    T_CHECK(fb && fc && fe);
    if (!fb || !fc || !fe)
        exit(1);
    const size_t n = 1009; /* prime */
    for (size_t k = 0; k < n; k++) {
        size_t i = k * 389 % n, j = k * 577 % n;
        fprintf(f, "{\"id\": \"k%zu\", \"line\": %zu, \"scores\": {\"exact_match\": %zu}}\n", i, i, i % 2);
        if (j % 3 == 0)
            fprintf(fb, "{\"id\": \"k%zu\", \"line\": %zu, \"scores\": {\"exact_match\": %zu}}\n", j, j, j % 2);
        fprintf(fc, "{\"id\": \"k%zu\", \"line\": %zu, \"scores\": {\"exact_match\": %zu}}\n", j,
                j == 5 ? 5000 : j, j % 2);
        if (j < 100)
            fprintf(fe, "{\"id\": \"k%zu\", \"line\": %zu, \"scores\": {\"exact_match\": %zu}}\n", j, j, j % 2);
    }
    fputs("{\"id\": \"z\", \"scores\": {\"exact_match\": 1}}\n", fc);
    fclose(fb);
    fclose(fc);
    fclose(fe);
    struct fe_run *run = fixture_load(&x, f);
    if (!run)
        goto out;
    T_CHECK(run->arms[0].n == n && run->arms[1].n == (n + 2) / 3 && run->arms[2].n == n + 1 &&
            run->arms[3].n == 0 && run->arms[4].n == 100);
    size_t wrong = 0;
    for (size_t i = 0; i < n; i++) {
        char id[32];
        snprintf(id, sizeof(id), "k%zu", i);
        long in_c = i == 5 ? (long)n - 1 : i < 5 ? (long)i : (long)i - 1;
        long want[5] = {(long)i, i % 3 ? -1 : (long)(i / 3), in_c, -1, i < 100 ? (long)i : -1};
        for (size_t arm = 0; arm < 5; arm++) {
            long at = fe_run_find_record(run, arm, id);
            wrong += at != want[arm];
            if (at >= 0) {
                const struct fe_record *r = fe_arm_rec(&run->arms[arm], (size_t)at);
                int32_t line = arm == 2 && i == 5 ? 5000 : (int32_t)i;
                wrong += strcmp(r->id, id) != 0 || r->line != line || fe_score(r, 0) != (double)(i % 2);
            }
        }
    }
    T_CHECK(wrong == 0);
    T_CHECK(fe_run_find_record(run, 2, "z") == (long)n && fe_run_find_record(run, 0, "z") == -1);
    T_CHECK(fe_run_find_record(run, 4, "z") == -1);
    T_CHECK_STR(fe_arm_rec(&run->arms[2], n)->id, "z");
    T_CHECK(fe_run_find_record(run, 3, "k1") == -1 && fe_run_find_record(run, 0, "nope") == -1);
    fe_run_free(run);
    run = NULL;
out:
    unlink(bp);
    unlink(cp);
    unlink(ep);
    free(bp);
    free(cp);
    free(ep);
    fixture_close(&x, run);
}

/* A record's flags are part of its interned shape: 4,096 records, each combination of the nine
 * flags in each of eight slices (so many shapes differ by their flags alone, and their hashes
 * meet those of other slices' shapes), each reading back its own. */
static void test_flag_shapes(void)
{
    struct fixture x;
    FILE *f = fixture_open(&x, "{\"name\": \"flags\", \"metrics\": [\"exact_match\"],"
                   " \"arms\": [{\"name\": \"a\"}]}");
    for (unsigned v = 0; v < 4096; v++)
        fprintf(f, "{\"id\": \"f%u\", \"line\": %u, \"slice\": \"s%u\", \"status\": \"%s\"%s%s%s%s%s%s%s%s}\n",
                v, v, v / 512,
                v & 1 ? "ok" : "error", v & 2 ? ", \"stream\": true" : "",
                v & 4 ? ", \"usage\": {}" : "", v & 8 ? ", \"cost_usd\": 0" : "",
                v & 16 ? ", \"cache_hit\": true" : "", v & 32 ? ", \"input_truncated\": true" : "",
                v & 64 ? ", \"input\": \"q\"" : "", v & 128 ? ", \"refusal\": \"r\"" : "",
                v & 256 ? ", \"judgements\": {}" : "");
    struct fe_run *run = fixture_load(&x, f);
    if (!run)
        return;
    T_CHECK(run->arms[0].n == 4096);
    size_t wrong = 0;
    for (unsigned v = 0; v < 4096 && v < run->arms[0].n; v++) {
        const struct fe_record *r = fe_arm_rec(&run->arms[0], v);
        unsigned got = (unsigned)r->ok | (unsigned)r->stream << 1 | (unsigned)r->has_usage << 2 |
                       (unsigned)r->has_cost << 3 | (unsigned)r->cache_hit << 4 |
                       (unsigned)r->input_truncated << 5 | (unsigned)r->has_input << 6 |
                       (unsigned)r->has_refusal << 7 | (unsigned)r->has_judgements << 8;
        char slice[16];
        snprintf(slice, sizeof(slice), "s%u", v / 512);
        wrong += got != v % 512 || strcmp(fe_str_or(fe_run_str(run, r->slice), ""), slice) != 0;
    }
    T_CHECK(wrong == 0);
    fixture_close(&x, run);
}

/* Line offsets are kept in 32 bits until one needs more (an arm file past 4 GiB): from then on
 * in 64, the rows already kept unchanged, through growth and a re-recorded row. (A file that
 * large is not written here: the offset column is driven directly.) */
static void test_wide_offsets(void)
{
    struct fe_arm_store st = {0};
    fe_store_grow(&st, 4, 1);
    fe_store_set_offset(&st, 0, 0, 0);
    fe_store_set_offset(&st, 1, 1, 4294967295L); /* the largest 32-bit one */
    T_CHECK(st.off != NULL && st.off64 == NULL);
    fe_store_set_offset(&st, 2, 2, 4294967296L);
    T_CHECK(st.off == NULL && st.off64 != NULL);
    fe_store_grow(&st, 8, 1);
    fe_store_set_offset(&st, 3, 3, 9000000000L);
    fe_store_set_offset(&st, 1, 4, 17); /* re-recorded */
    long want[4] = {0, 17, 4294967296L, 9000000000L};
    for (size_t i = 0; i < 4; i++)
        T_CHECK(fe_store_offset(&st, i) == want[i]);
    fe_store_release(&st);
}

/* Records written out of dataset order, four metrics, more records than the first allocation
 * (the columns grow several times while loading) and than a 16-bit dictionary codes: m0, m1 and
 * m2 take a value per record (70,001 distinct: each column turns from codes into values midway),
 * m3 takes 3 (it stays coded; -0.0 and 0.0 are two values). Two ids are recorded twice (the
 * later line wins), one after m0-m2 turned into values. Every record comes back in dataset
 * order with its own four scores, bit for bit, through fe_arm_record and through the columns
 * the statistics read in place. */
static void test_shuffled_columns(void)
{
    struct fixture x;
    FILE *f = fixture_open(&x, "{\"name\": \"cols\", \"metrics\": [\"m0\", \"m1\", \"m2\", \"m3\"],"
                   " \"arms\": [{\"name\": \"a\"}]}");
    const size_t n = 70001; /* prime: i * 30,011 mod n visits every line once, far from in order */
    static const char *const m3[3] = {"1", "0", "-0.0"};
    /* re-recorded after a resume: an id of the first half in the middle of the file (the first
     * repeat: the id -> row map is built then), then one first written after that, at the end */
    const size_t again1 = 100 * 30011 % n, again2 = 69000 * 30011 % n;
    for (size_t k = 0; k < n; k++) {
        size_t i = k * 30011 % n;
        fprintf(f, "{\"id\": \"r%zu\", \"line\": %zu, \"status\": \"ok\", \"scores\": "
                   "{\"m0\": %zu, \"m1\": %zu.5, \"m2\": -%zu, \"m3\": %s}}\n", i, i, i, i + 1,
                i + 2, m3[i % 3]);
        if (k == 67000)
            fprintf(f, "{\"id\": \"r%zu\", \"line\": %zu, \"status\": \"ok\", \"scores\": "
                       "{\"m0\": 70, \"m1\": 71, \"m2\": 72, \"m3\": 1}}\n", again1, again1);
    }
    fprintf(f, "{\"id\": \"r%zu\", \"line\": %zu, \"status\": \"ok\", \"scores\": "
               "{\"m0\": 80, \"m1\": 81, \"m2\": 82, \"m3\": 1}}\n", again2, again2);
    struct fe_run *run = fixture_load(&x, f);
    if (!run)
        return;
    const struct fe_arm_run *a = &run->arms[0];
    T_CHECK(a->n == n);
    struct fe_col cols[4];
    bool have = true;
    for (size_t m = 0; m < 4; m++)
        have &= fe_arm_score_col(a, m, &cols[m]);
    T_CHECK(have);
    T_CHECK(have && cols[0].code == NULL && cols[3].code != NULL); /* values; codes */
    size_t wrong = 0;
    for (size_t i = 0; have && i < a->n; i++) {
        struct fe_record buf;
        const struct fe_record *r = fe_arm_record(a, i, &buf);
        double want[4] = {(double)i, (double)(i + 1) + 0.5, -(double)(i + 2),
                          i % 3 == 0 ? 1.0 : i % 3 == 1 ? 0.0 : -0.0};
        if (i == again1)
            want[0] = 70, want[1] = 71, want[2] = 72, want[3] = 1;
        if (i == again2)
            want[0] = 80, want[1] = 81, want[2] = 82, want[3] = 1;
        char id[32];
        snprintf(id, sizeof(id), "r%zu", i);
        wrong += r->line != (int32_t)i || strcmp(r->id, id) != 0 ||
                 fe_run_find_record(run, 0, id) != (long)i;
        for (size_t m = 0; m < 4; m++) {
            double got[2] = {fe_score(r, m), fe_col_at(cols[m], i)};
            wrong += memcmp(&got[0], &want[m], sizeof(double)) != 0 ||
                     memcmp(&got[1], &want[m], sizeof(double)) != 0;
        }
    }
    T_CHECK(wrong == 0);
    fixture_close(&x, run);
}

/* An arm file rewritten in place after the run was loaded (the same file, other bytes): reading
 * a record's text back must stop the process with exit code 4 (aborted) and the file named, not
 * go on with the other record's text, and not crash. The read runs in a child process. */
static void test_rewritten_in_place(void)
{
    struct fixture x;
    FILE *f = fixture_open(&x, "{\"name\": \"rw\", \"metrics\": [\"exact_match\"], \"arms\": [{\"name\": \"a\"}]}");
    fputs("{\"id\": \"q0\", \"line\": 0, \"status\": \"ok\", \"prediction\": \"p0\"}\n"
          "{\"id\": \"q1\", \"line\": 1, \"status\": \"ok\", \"prediction\": \"p1\"}\n", f);
    struct fe_run *run = fixture_load(&x, f);
    if (!run)
        return;
    char *ep = fe_xasprintf("%s/stderr", x.dir);
    f = fopen(x.ap, "r+"); /* in place: same inode, q1's line now starts where q0's did */
    T_CHECK(f != NULL);
    if (f) {
        fputs("{\"id\": \"q1\", \"line\": 1, \"status\": \"ok\", \"prediction\": \"p1\"}\n", f);
        fclose(f);
    }
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        if (!freopen(ep, "w", stderr))
            _exit(99);
        struct fe_record_text t;
        fe_run_record_text(run, fe_arm_rec(&run->arms[0], 0), &t);
        _exit(0); /* not reached when the change is seen */
    }
    int status = 0;
    T_CHECK(pid > 0 && waitpid(pid, &status, 0) == pid);
    T_CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 4);
    size_t len = 0;
    char *msg = fe_read_file(ep, 0, &len);
    T_CHECK(msg && strstr(msg, "a.jsonl: the record 'q0' at byte 0 no longer reads back"));
    free(msg);
    unlink(ep);
    free(ep);
    fixture_close(&x, run);
}

int main(void)
{
    test_rewritten_in_place();
    test_shuffled_columns();
    test_many_shapes();
    test_many_costs();
    test_priced_costs();
    test_arm_kinds();
    test_wide_offsets();
    test_flag_shapes();
    char dir[] = "/tmp/fteval-pack-XXXXXX";
    T_CHECK(mkdtemp(dir) != NULL);
    char *mp = fe_xasprintf("%s/manifest.json", dir), *ap = fe_xasprintf("%s/a.jsonl", dir);
    char *cp = fe_xasprintf("%s/c.jsonl", dir);
    write_file(mp, manifest);
    write_file(ap, arm_a);
    write_file(cp, arm_c);

    struct fe_run *run = NULL;
    struct fe_err err = {0};
    T_CHECK(fe_run_load(dir, &run, &err) == FE_OK);
    if (!run)
        return T_DONE();
    const struct fe_arm_run *a = &run->arms[0];
    T_CHECK(a->n == 4);              /* x1 once (the last wins), the torn line dropped */
    T_CHECK(run->arms[1].n == 0);    /* an arm without a file */

    struct fe_record buf;
    const char *order[] = {"x0", "x1", "x2", "x3"}; /* line 1 (x0 < x1), line 2, no line */
    for (size_t i = 0; i < 4 && i < a->n; i++)
        T_CHECK_STR(fe_arm_record(a, i, &buf)->id, order[i]);

    const struct fe_record *r = fe_arm_record(a, 0, &buf); /* x0: the largest narrow values */
    T_CHECK(r->line == 1 && r->ok && r->has_usage && !r->has_cost && r->cost_usd == 0);
    T_CHECK(same(r->latency_ms, 4294967.5));
    T_CHECK(r->prompt_tokens == 65534 && r->completion_tokens == 0 && r->cached_tokens == 65534);
    T_CHECK(fe_score(r, 0) == 0 && fe_score(r, 1) == 0.125);
    T_CHECK(isnan(r->ttft_ms) && r->cluster == 0 && r->attempts == 0 && r->arm == 0);

    r = fe_arm_record(a, 1, &buf); /* x1, the re-recorded one: wide tokens, ttft, cluster */
    T_CHECK(!r->ok && r->stream && r->has_usage && !r->has_cost);
    T_CHECK_STR(fe_run_str(run, r->error_kind), "timeout");
    T_CHECK(same(r->latency_ms, 1.234) && same(r->ttft_ms, 4.5)); /* wide by its tokens alone */
    T_CHECK(r->prompt_tokens == 70000 && r->completion_tokens == 3 && r->cached_tokens == 2);
    T_CHECK_STR(fe_run_str(run, r->cluster), "c1");
    T_CHECK_STR(fe_run_str(run, r->slice), "s1");
    T_CHECK(r->attempts == 3 && r->finish_reason == 0 && r->served_model == 0);
    T_CHECK(fe_score(r, 0) == 0 && fe_score(r, 1) == 0.75);
    struct fe_record_text t;
    fe_run_record_text(run, r, &t);
    T_CHECK_STR(t.prediction, "");   /* the last record of x1 has none ("old" was replaced) */
    fe_record_text_release(&t);

    r = fe_arm_record(a, 2, &buf); /* x2: narrow tokens, a latency kept aside */
    T_CHECK(r->ok && !r->stream && r->has_cost && same(r->cost_usd, 0.00123));
    T_CHECK(same(r->latency_ms, 12.34567) && isnan(r->ttft_ms) && r->cluster == 0); /* wide by latency */
    T_CHECK(r->prompt_tokens == 10 && r->completion_tokens == 5 && r->cached_tokens == 0);
    T_CHECK_STR(fe_run_str(run, r->finish_reason), "stop");
    T_CHECK_STR(fe_run_str(run, r->served_model), "m-1");
    T_CHECK(r->attempts == 1 && r->line == 2 && r->error_kind == 0);
    T_CHECK(fe_score(r, 0) == 1 && fe_score(r, 1) == 0.5);
    fe_run_record_text(run, r, &t);
    T_CHECK_STR(t.prediction, "p2");
    fe_record_text_release(&t);

    r = fe_arm_record(a, 3, &buf); /* x3: no line, no latency, the text flags */
    T_CHECK(r->line == -1 && isnan(r->latency_ms) && !r->has_usage && r->cache_hit);
    T_CHECK(r->attempts == 2); /* its shape differs from x0's by the attempts alone */
    T_CHECK(r->has_input && r->input_truncated && r->has_refusal && r->has_judgements);
    T_CHECK(fe_score(r, 0) == 0 && fe_score(r, 1) == 0.25);
    fe_run_record_text(run, r, &t);
    T_CHECK_STR(t.input, "hi");
    T_CHECK_STR(t.refusal, "no");
    fe_record_text_release(&t);

    T_CHECK(fe_run_find_record(run, 0, "x1") == 1 && fe_run_find_record(run, 0, "x9") == -1);
    T_CHECK(fe_run_find_record(run, 1, "x1") == -1);

    const struct fe_arm_run *c = &run->arms[2]; /* x0 (line 1) before x2 (line 7 here) */
    T_CHECK(c->n == 2);
    T_CHECK_STR(fe_arm_record(c, 0, &buf)->id, "x0");
    T_CHECK(fe_arm_record(c, 0, &buf)->line == 1 && fe_score(&buf, 1) == 0);
    T_CHECK_STR(fe_arm_record(c, 1, &buf)->id, "x2");
    T_CHECK(fe_arm_record(c, 1, &buf)->line == 7 && same(buf.latency_ms, 2));
    T_CHECK(fe_arm_record(a, 2, &buf)->line == 2); /* arm a's x2 keeps its own line */
    fe_run_free(run);
    unlink(ap);
    unlink(cp);
    free(cp);
    unlink(mp);
    rmdir(dir);
    free(ap);
    free(mp);
    return T_DONE();
}
