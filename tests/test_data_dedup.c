/* test_data_dedup.c — normalisation, exact and near-duplicate pairs, union-find, scale. */
#include "t.h"

#include <stdint.h>

#include "harness/data/data_dedup.h"
#include "harness/base/util.h"

struct pairs {
    size_t n, n_exact;
    size_t a[64], b[64];
    double sim[64];
};

static void on_pair(size_t a, size_t b, double sim, bool exact, void *ctx)
{
    struct pairs *p = ctx;
    if (p->n < 64) {
        p->a[p->n] = a;
        p->b[p->n] = b;
        p->sim[p->n] = sim;
    }
    p->n++;
    p->n_exact += exact;
}

static bool has_pair(const struct pairs *p, size_t a, size_t b)
{
    for (size_t i = 0; i < p->n && i < 64; i++)
        if (p->a[i] == a && p->b[i] == b)
            return true;
    return false;
}

/* Deterministic pseudo-random sentence generator (xorshift), 8-14 words from a vocabulary. */
static uint64_t rng = 88172645463325252ULL;
static uint64_t next(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

int main(void)
{
    char *n1 = fe_dedup_normalize("  Hello,   WORLD!!\tHow's it\n going? ", 37);
    T_CHECK_STR(n1, "hello world hows it going");
    free(n1);
    char *n2 = fe_dedup_normalize("Café — Ünïcode", strlen("Café — Ünïcode"));
    T_CHECK_STR(n2, "café — Ünïcode");
    free(n2);

    struct fe_dedup d;
    fe_dedup_init(&d);
    const char *texts[] = {
        "How do I activate my new card?", /* 0 */
        "how do i activate my NEW card",  /* 1: exact dup of 0 */
        "Why was I charged an extra fee when I withdrew cash from the ATM yesterday?",  /* 2 */
        "Why was I charged an extra fee when I withdrew cash from the ATM yesterday??", /* 3: exact
                                                                                         */
        "Why was I charged an extra fee when I withdrew cash from the ATM yesterday, ok?", /* 4:
                                                                                              near
                                                                                            */
        "Where can I find the exchange rates for my transfer?", /* 5: different */
        "",                                                     /* 6 */
    };
    for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++)
        T_CHECK(fe_dedup_add(&d, texts[i], strlen(texts[i]), 0) == i);
    T_CHECK_NEAR(fe_dedup_jaccard(&d, 0, 1), 1.0, 1e-12);
    double j24 = fe_dedup_jaccard(&d, 2, 4);
    T_CHECK(j24 >= 0.9 && j24 < 1.0);
    T_CHECK(fe_dedup_jaccard(&d, 0, 5) < 0.2);
    struct pairs p = {0};
    fe_dedup_pairs(&d, 0.9, on_pair, &p);
    T_CHECK(has_pair(&p, 0, 1));
    T_CHECK(has_pair(&p, 2, 3));
    T_CHECK(has_pair(&p, 2, 4));
    T_CHECK(p.n == 3);
    T_CHECK(p.n_exact == 2);
    fe_dedup_release(&d);

    struct fe_uf uf;
    fe_uf_init(&uf, 5);
    fe_uf_union(&uf, 0, 3);
    fe_uf_union(&uf, 3, 4);
    T_CHECK(fe_uf_find(&uf, 0) == fe_uf_find(&uf, 4));
    T_CHECK(fe_uf_find(&uf, 1) != fe_uf_find(&uf, 0));
    fe_uf_release(&uf);

    /* scale: 20,000 random sentences plus 50 planted near duplicates, well under a second or two */
    static const char *words[] = {
        "card",     "transfer", "money",   "account",  "why",     "is",  "my",
        "the",      "fee",      "pending", "declined", "top",     "up",  "cash",
        "atm",      "exchange", "rate",    "refund",   "payment", "app", "verify",
        "identity", "pin",      "blocked", "how",      "do",      "i",   "can",
        "you",      "help",     "with",    "a",        "still",   "not"};
    fe_dedup_init(&d);
    char buf[512];
    char planted[50][512];
    size_t n = 20000;
    double t0 = fe_now();
    for (size_t i = 0; i < n; i++) {
        size_t len = 0, nw = 8 + next() % 7;
        for (size_t w = 0; w < nw; w++)
            len += (size_t)snprintf(buf + len, sizeof(buf) - len, "%s%s", w ? " " : "",
                                    words[next() % (sizeof(words) / sizeof(words[0]))]);
        len += (size_t)snprintf(buf + len, sizeof(buf) - len, " %llu",
                                (unsigned long long)(next() % 1000000));
        if (i < 50)
            memcpy(planted[i], buf, len + 1);
        fe_dedup_add(&d, buf, len, 0);
    }
    for (size_t i = 0; i < 50; i++) {
        char near[600];
        /* one extra trailing word changes a few 5-grams of a ~70-char text */
        int len = snprintf(near, sizeof(near), "%s ok", planted[i]);
        fe_dedup_add(&d, near, (size_t)len, 0);
    }
    struct pairs big = {0};
    fe_dedup_pairs(&d, 0.85, on_pair, &big);
    double secs = fe_now() - t0;
    printf("20050 rows: %zu pairs in %.2f s\n", big.n, secs);
    size_t found = 0;
    struct pairs check = {0};
    (void)check;
    for (size_t i = 0; i < 50; i++) {
        double j = fe_dedup_jaccard(&d, i, n + i);
        if (j >= 0.85)
            found++;
    }
    T_CHECK(found > 40);     /* most planted pairs are above 0.85 */
    T_CHECK(big.n >= found); /* every one of them was reported (LSH recall ~1 at J >= 0.85) */
    T_CHECK(secs < 30.0);
    fe_dedup_release(&d);
    return T_DONE();
}
