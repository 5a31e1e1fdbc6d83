/* test.h: the unit-test harness. Each tests/unit/test_*.c is one binary, run in its own process
 * by tests/run.sh; it registers cases with RUN() in main and ends with TEST_END(), which prints
 * "P passed, F failed" (the line the runner sums) and exits non-zero on any failure. */
#ifndef IC_TEST_H
#define IC_TEST_H

#include <stdio.h>
#include <string.h>

static int ic_t_pass, ic_t_fail, ic_t_bad;
static const char *ic_t_name;

#define CHECK(c)                                                                        \
    do {                                                                                \
        if (!(c)) {                                                                     \
            fprintf(stderr, "%s:%d: %s: CHECK(%s) failed\n", __FILE__, __LINE__,        \
                    ic_t_name, #c);                                                     \
            ic_t_bad = 1;                                                               \
        }                                                                               \
    } while (0)

#define CHECK_STR(a, b)                                                                 \
    do {                                                                                \
        const char *ic_a = (a), *ic_b = (b);                                            \
        if (!ic_a || !ic_b || strcmp(ic_a, ic_b) != 0) {                                \
            fprintf(stderr, "%s:%d: %s: \"%s\" != \"%s\"\n", __FILE__, __LINE__,        \
                    ic_t_name, ic_a ? ic_a : "(null)", ic_b ? ic_b : "(null)");         \
            ic_t_bad = 1;                                                               \
        }                                                                               \
    } while (0)

#define CHECK_INT(a, b)                                                                 \
    do {                                                                                \
        long long ic_a = (long long)(a), ic_b = (long long)(b);                         \
        if (ic_a != ic_b) {                                                             \
            fprintf(stderr, "%s:%d: %s: %s == %lld, expected %lld\n", __FILE__,         \
                    __LINE__, ic_t_name, #a, ic_a, ic_b);                               \
            ic_t_bad = 1;                                                               \
        }                                                                               \
    } while (0)

#define RUN(fn)                                                                         \
    do {                                                                                \
        ic_t_name = #fn;                                                                \
        ic_t_bad = 0;                                                                   \
        fn();                                                                           \
        if (ic_t_bad) {                                                                 \
            ic_t_fail++;                                                                \
            fprintf(stderr, "FAIL %s\n", #fn);                                          \
        } else {                                                                        \
            ic_t_pass++;                                                                \
        }                                                                               \
    } while (0)

#define TEST_END()                                                                      \
    do {                                                                                \
        printf("%d passed, %d failed\n", ic_t_pass, ic_t_fail);                         \
        return ic_t_fail ? 1 : 0;                                                       \
    } while (0)

#endif
