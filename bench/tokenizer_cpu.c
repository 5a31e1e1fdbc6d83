/* tokenizer_cpu.c: CPU time of ic_tokenizer_count per call, for bench/tokenizer_cpu.sh (before/after
 * comparisons on a shared machine, where wall-clock rates swing with the other load). Usage:
 * tokenizer_cpu ENCODING REPS FILE...; prints per file the best and mean MB/s over REPS calls,
 * timed with CLOCK_THREAD_CPUTIME_ID (the first call, which may build tables, included).
 * Not a test. */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include "bench_util.h"

#include "infercost/tokenizer.h"


int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: tokenizer_cpu ENCODING REPS FILE...\n");
        return 2;
    }
    ic_error err = {0};
    ic_tokenizer *t;
    if (ic_tokenizer_open(&t, argv[1], &err) != IC_OK) {
        fprintf(stderr, "%s\n", err.msg);
        return 1;
    }
    int reps = atoi(argv[2]);
    if (reps < 1)
        reps = 1;
    for (int a = 3; a < argc; a++) {
        size_t n;
        char *b = bench_read_file(argv[a], &n);
        if (!b)
            return 1;
        double best = 1e30, total = 0;
        uint64_t c = 0;
        for (int r = 0; r < reps; r++) {
            double t0 = bench_cpu_s();
            if (ic_tokenizer_count(t, b, (size_t)n, 0, &c, &err) != IC_OK) {
                fprintf(stderr, "%s\n", err.msg);
                return 1;
            }
            double d = bench_cpu_s() - t0;
            total += d;
            if (d < best)
                best = d;
        }
        printf("{\"encoding\":\"%s\",\"file\":\"%s\",\"tokens\":%llu,\"best_mb_s\":%.1f,\"mean_mb_s\":%.1f}\n",
               argv[1], argv[a], (unsigned long long)c, (double)n / best / 1e6,
               (double)n * reps / total / 1e6);
        free(b);
    }
    ic_tokenizer_free(t);
    return 0;
}
