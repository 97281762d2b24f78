/* t.h — minimal assertions for the C unit tests (one executable per module, run by ctest).
 *
 * T_CHECK(cond) records a failure and goes on; T_DONE() prints "N passed, N failed" and
 * returns the exit code. T_SKIP(what) is the one rule for a missing dependency (as skip.py and
 * skip.sh): outside CI it exits 77 (ctest: skipped) naming what is missing; under CI (CI set to
 * anything but "", "0", "false") it fails, since CI promises that every test runs.
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

static inline int t_in_ci(void)
{
    const char *ci = getenv("CI");
    return ci && *ci && strcmp(ci, "0") != 0 && strcmp(ci, "false") != 0 &&
           strcmp(ci, "FALSE") != 0 && strcmp(ci, "no") != 0;
}

#define T_SKIP(what)                                                                   \
    do {                                                                               \
        if (t_in_ci()) {                                                               \
            printf("FAIL (CI=true, no test may skip): missing %s\n", what);            \
            exit(1);                                                                   \
        }                                                                              \
        printf("skipped: missing %s\n", what);                                         \
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
