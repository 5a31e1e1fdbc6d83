/* tokenizer_ab.c: in-process A/B of two versions of the tokenizer, for bench/tokenizer_ab.sh.
 * Both versions are linked into this one binary (their symbols renamed A_* and B_*) and called
 * alternately, call by call, on the same text, so that the load of a shared machine falls on both
 * alike; prints per file the best and the median MB/s of each (CPU time of the calling thread)
 * and the ratios B/A. Checks that both count the same tokens. Not a test. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "bench_util.h"

#include "infercost/tokenizer.h"

#define DECL(P)                                                                                   \
    ic_status P##ic_tokenizer_open(ic_tokenizer **, const char *, ic_error *);                    \
    ic_status P##ic_tokenizer_count(const ic_tokenizer *, const char *, size_t, unsigned,         \
                                    uint64_t *, ic_error *);
DECL(A_)
DECL(B_)



int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: tokenizer_ab ENCODING REPS FILE...\n");
        return 2;
    }
    int reps = atoi(argv[2]);
    if (reps < 1 || reps > 1000)
        reps = 20;
    ic_error e = {0};
    ic_tokenizer *ta, *tb;
    if (A_ic_tokenizer_open(&ta, argv[1], &e) != IC_OK || B_ic_tokenizer_open(&tb, argv[1], &e) != IC_OK) {
        fprintf(stderr, "%s\n", e.msg);
        return 1;
    }
    double *da = malloc((size_t)reps * sizeof *da), *db = malloc((size_t)reps * sizeof *db);
    for (int f = 3; f < argc; f++) {
        size_t n;
        char *b = bench_read_file(argv[f], &n);
        if (!b)
            return 1;
        uint64_t ca = 0, cb = 0;
        for (int r = 0; r < reps; r++) {
            double t0 = bench_cpu_s();
            A_ic_tokenizer_count(ta, b, (size_t)n, 0, &ca, &e);
            double t1 = bench_cpu_s();
            B_ic_tokenizer_count(tb, b, (size_t)n, 0, &cb, &e);
            double t2 = bench_cpu_s();
            da[r] = t1 - t0;
            db[r] = t2 - t1;
        }
        qsort(da, (size_t)reps, sizeof *da, bench_cmp_double);
        qsort(db, (size_t)reps, sizeof *db, bench_cmp_double);
        const char *fn = strrchr(argv[f], '/');
        fn = fn ? fn + 1 : argv[f];
        printf("%-11s %-17s A best %6.1f med %6.1f | B best %6.1f med %6.1f MB/s | B/A med %.3f best %.3f%s\n",
               argv[1], fn, (double)n / da[0] / 1e6, (double)n / da[reps / 2] / 1e6,
               (double)n / db[0] / 1e6, (double)n / db[reps / 2] / 1e6, da[reps / 2] / db[reps / 2],
               da[0] / db[0], ca == cb ? "" : "  COUNTS DIFFER");
        free(b);
    }
    free(da);
    free(db);
    return 0;
}
