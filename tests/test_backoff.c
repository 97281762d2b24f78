/* test_backoff.c — Go-style durations, Retry-After forms and the SDK backoff formula. */
#include <stdint.h>

#include "harness/net/backoff.h"
#include "t.h"

int main(void)
{
    double s;
    static const struct {
        const char *in;
        double want;
    } ok[] = {{"1s", 1}, {"6m0s", 360}, {"12ms", 0.012}, {"1h2m3s", 3723}, {"0.5s", 0.5}, {"250us", 0.00025},
              {"7.66s", 7.66}, {"2", 2}};
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        T_CHECK(fe_parse_go_duration(ok[i].in, &s));
        T_CHECK_NEAR(s, ok[i].want, 1e-12);
    }
    T_CHECK(!fe_parse_go_duration("", &s));
    T_CHECK(!fe_parse_go_duration("abc", &s));
    T_CHECK(!fe_parse_go_duration("1x", &s));
    T_CHECK(!fe_parse_go_duration("-1s", &s));

    T_CHECK_NEAR(fe_retry_after_seconds("150", "9", 0), 0.150, 1e-12);     /* ms wins */
    T_CHECK_NEAR(fe_retry_after_seconds(NULL, "2.5", 0), 2.5, 1e-12);
    T_CHECK_NEAR(fe_retry_after_seconds(NULL, "Wed, 21 Oct 2015 07:28:10 GMT", 1445412480.0), 10.0, 1e-9);
    T_CHECK_NEAR(fe_retry_after_seconds(NULL, "Wed, 21 Oct 2015 07:28:00 GMT", 1445412490.0), 0.0, 1e-9);
    T_CHECK(fe_retry_after_seconds(NULL, NULL, 0) < 0);
    T_CHECK(fe_retry_after_seconds("x", "y", 0) < 0);

    T_CHECK_NEAR(fe_backoff_seconds(0, 0), 0.5, 1e-12);
    T_CHECK_NEAR(fe_backoff_seconds(1, 0), 1.0, 1e-12);
    T_CHECK_NEAR(fe_backoff_seconds(4, 0), 8.0, 1e-12);
    T_CHECK_NEAR(fe_backoff_seconds(10, 0), 8.0, 1e-12);
    T_CHECK_NEAR(fe_backoff_seconds(2, 0.999999), 2.0 * 0.75, 1e-5);

    uint64_t st = 12345;
    double lo = 1, hi = 0;
    for (int i = 0; i < 10000; i++) {
        double u = fe_jitter_uniform(&st);
        lo = u < lo ? u : lo;
        hi = u > hi ? u : hi;
    }
    T_CHECK(lo >= 0 && lo < 0.01 && hi < 1 && hi > 0.99);
    return T_DONE();
}
