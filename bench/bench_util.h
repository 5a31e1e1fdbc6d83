/* bench/bench_util.h: what the C benchmark drivers share: wall and thread-CPU clocks, a double
 * comparison for qsort (medians), and reading a whole input file. Benchmarks only: nothing here
 * belongs in the library. */
#ifndef IC_BENCH_UTIL_H
#define IC_BENCH_UTIL_H

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

/* seconds on the monotonic clock */
static inline double bench_wall_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* CPU seconds of this thread: on a shared machine it moves much less with other load */
static inline double bench_cpu_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static inline int bench_cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* the whole of path, NUL-terminated, its length in *len; NULL after printing why */
static inline char *bench_read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        perror(path);
        return NULL;
    }
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    rewind(f);
    char *b = n >= 0 ? malloc((size_t)n + 1) : NULL;
    if (!b || fread(b, 1, (size_t)n, f) != (size_t)n) {
        fprintf(stderr, "%s: read error\n", path);
        free(b);
        fclose(f);
        return NULL;
    }
    fclose(f);
    b[n] = 0;
    *len = (size_t)n;
    return b;
}

#endif
