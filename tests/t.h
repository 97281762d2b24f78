/* t.h — minimal assertions for the C unit tests (one executable per module, run by ctest).
 *
 * T_CHECK(cond) records a failure and goes on; T_DONE() prints "N passed, N failed" and
 * returns the exit code. T_SKIP(why) exits 77, which ctest reports as skipped by name.
 * Helpers for tests: t_shared_dir() is $FTEVAL_SHARED (or NULL when absent).
 */
#ifndef FE_T_H
#define FE_T_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static int t_passed, t_failed;

#define T_CHECK(cond)                                                                  \
    do {                                                                               \
        if (cond) {                                                                    \
            t_passed++;                                                                \
        } else {                                                                       \
            t_failed++;                                                                \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);   \
        }                                                                              \
    } while (0)

#define T_CHECK_STR(a, b)                                                              \
    do {                                                                               \
        const char *t_a_ = (a), *t_b_ = (b);                                           \
        if (t_a_ && t_b_ && strcmp(t_a_, t_b_) == 0) {                                 \
            t_passed++;                                                                \
        } else {                                                                       \
            t_failed++;                                                                \
            fprintf(stderr, "%s:%d: %s == %s: got \"%s\", want \"%s\"\n", __FILE__,    \
                    __LINE__, #a, #b, t_a_ ? t_a_ : "(null)", t_b_ ? t_b_ : "(null)");   \
        }                                                                              \
    } while (0)

#define T_CHECK_NEAR(a, b, tol)                                                        \
    do {                                                                               \
        double t_a_ = (a), t_b_ = (b);                                                 \
        if (fabs(t_a_ - t_b_) <= (tol)) {                                              \
            t_passed++;                                                                \
        } else {                                                                       \
            t_failed++;                                                                \
            fprintf(stderr, "%s:%d: %s ~= %s: got %.17g, want %.17g (tol %g)\n",       \
                    __FILE__, __LINE__, #a, #b, t_a_, t_b_, (double)(tol));            \
        }                                                                              \
    } while (0)

#define T_SKIP(why)                                                                    \
    do {                                                                               \
        printf("skipped: %s\n", why);                                                  \
        exit(77);                                                                      \
    } while (0)

#define T_DONE()                                                                       \
    (printf("%d passed, %d failed\n", t_passed, t_failed), t_failed ? 1 : 0)

static inline const char *t_shared_dir(void)
{
    const char *d = getenv("FTEVAL_SHARED");
    struct stat st;
    if (!d || stat(d, &st) != 0 || !S_ISDIR(st.st_mode))
        return NULL;
    return d;
}

#endif
