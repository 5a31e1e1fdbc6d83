/* tokenizer_parts.c: the parts of a count call, timed for two versions of the tokenizer that take
 * turns call by call (bench/tokenizer_parts.sh builds them as shared objects from
 * tokenizer_parts_lib.c). Per file: median milliseconds (thread CPU time) of each cumulative stage
 * (the pre-split, which checks the UTF-8 too; + key and hash; + whole-piece probes; the whole
 * count call), then the merge alone over the file's distinct pieces that are not tokens, by kind
 * (ASCII, with 2-byte characters, with longer ones), in ns per piece. Not a test. */
#include <dlfcn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "bench_util.h"

typedef struct parts_piece {
    const unsigned char *p;
    size_t len;
    int kind;
} parts_piece;

typedef size_t (*stage_fn)(const unsigned char *, size_t);
enum { STAGES = 4 };
typedef struct version {
    int (*open)(const char *);
    stage_fn stage[STAGES];
    size_t (*collect)(const unsigned char *, size_t, parts_piece *, size_t);
    size_t (*merge)(const parts_piece *, size_t, int);
} version;

static const char *const stage_name[STAGES] = {"pre-split", "+ key, hash", "+ probes",
                                               "count call"};
static const char *const stage_sym[STAGES] = {"parts_split", "parts_hash", "parts_probe",
                                              "parts_count"};

static int load(const char *path, version *v)
{
    void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        fprintf(stderr, "%s\n", dlerror());
        return 0;
    }
    *(void **)&v->open = dlsym(h, "parts_open");
    for (int i = 0; i < STAGES; i++)
        *(void **)&v->stage[i] = dlsym(h, stage_sym[i]);
    *(void **)&v->collect = dlsym(h, "parts_collect");
    *(void **)&v->merge = dlsym(h, "parts_merge");
    return v->open && v->collect && v->merge;
}

static double median(double *d, int n)
{
    qsort(d, (size_t)n, sizeof *d, bench_cmp_double);
    return d[n / 2];
}

int main(int argc, char **argv)
{
    if (argc < 6) {
        fprintf(stderr, "usage: tokenizer_parts A.so B.so ENCODING REPS FILE...\n");
        return 2;
    }
    version v[2];
    if (!load(argv[1], &v[0]) || !load(argv[2], &v[1]) || !v[0].open(argv[3]) || !v[1].open(argv[3]))
        return 1;
    int reps = atoi(argv[4]);
    if (reps < 1 || reps > 1000)
        reps = 15;
    double *d[2] = {malloc((size_t)reps * sizeof(double)), malloc((size_t)reps * sizeof(double))};
    size_t maxp = 1u << 19;
    parts_piece *l = malloc(maxp * sizeof *l);
    for (int f = 5; f < argc; f++) {
        size_t n;
        const unsigned char *s = (const unsigned char *)bench_read_file(argv[f], &n);
        if (!s)
            return 1;
        printf("%s %s (%zu bytes), medians of %d, A | B | B/A\n", argv[3], argv[f], n, reps);
        for (int i = 0; i < STAGES; i++) {
            for (int r = 0; r < reps; r++)
                for (int k = 0; k < 2; k++) {
                    double t0 = bench_cpu_s();
                    v[k].stage[i](s, n);
                    d[k][r] = bench_cpu_s() - t0;
                }
            double a = median(d[0], reps), b = median(d[1], reps);
            printf("  %-12s %8.2f ms | %8.2f ms | %.3f\n", stage_name[i], a * 1e3, b * 1e3, a / b);
        }
        size_t np = v[0].collect(s, n, l, maxp);
        static const char *const kind[4] = {"all", "ASCII", "2-byte", "3/4-byte"};
        for (int q = -1; q < 3; q++) {
            size_t cnt = 0, ta = 0, tb = 0;
            for (size_t j = 0; j < np; j++)
                cnt += q < 0 || l[j].kind == q;
            if (!cnt)
                continue;
            for (int r = 0; r < reps; r++)
                for (int k = 0; k < 2; k++) {
                    double t0 = bench_cpu_s();
                    size_t t = v[k].merge(l, np, q);
                    d[k][r] = bench_cpu_s() - t0;
                    *(k ? &tb : &ta) = t;
                }
            double a = median(d[0], reps), b = median(d[1], reps);
            printf("  merge %-8s %6zu distinct pieces: %7.1f ns | %7.1f ns | %.3f%s\n", kind[q + 1],
                   cnt, a * 1e9 / (double)cnt, b * 1e9 / (double)cnt, a / b,
                   ta == tb ? "" : "  TOKEN COUNTS DIFFER");
        }
        free((void *)s);
    }
    return 0;
}
