/* tokenizer_bench.c: infercost's side of bench/tokenizer.sh: tokenizer throughput on one core,
 * in process (the rank tables are loaded once, outside the timing), as tiktoken's side is
 * measured inside node. Usage: tokenizer_bench ENCODING FILE [SECONDS]
 * Prints one JSON line {"encoding":..,"file":..,"bytes":N,"tokens":K,"reps":R,"mb_s":X,
 * "cpu_mb_s":Y}: MB/s by the wall clock and by the thread's CPU time (which leaves out what the
 * host steals).
 * tokenizer_bench ENCODING FILE SECONDS --lines: the same, counting each line of FILE on its own
 * (without its newline) as `infercost count --lines` does: blocks of 1,024 lines, each counted
 * by one ic_tokenizer_counter_count_many call, through a new counter for each pass over the
 * file, made inside the timing, as each run of the command starts cold; --lines-one: one
 * ic_tokenizer_counter_count call a line (what the command did before count_many);
 * --lines-each: each line by ic_tokenizer_count, no cache kept between the lines.
 * tokenizer_bench ENCODING --open: the milliseconds of opening the encoding (parsing the
 * embedded rank file, building the tables), the first thing a process does. Not a test. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "bench_util.h"

#include "infercost/tokenizer.h"


int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: tokenizer_bench ENCODING FILE [SECONDS [--lines|--lines-one|--lines-each]]\n"
                        "       tokenizer_bench ENCODING --open\n");
        return 2;
    }
    double budget = argc > 3 ? atof(argv[3]) : 3.0;
    ic_error err = {0};
    ic_tokenizer *t;
    double o0 = bench_wall_s();
    if (ic_tokenizer_open(&t, argv[1], &err) != IC_OK) {
        fprintf(stderr, "%s\n", err.msg);
        return 1;
    }
    if (strcmp(argv[2], "--open") == 0) {
        printf("%.1f\n", (bench_wall_s() - o0) * 1e3);
        ic_tokenizer_free(t);
        return 0;
    }
    size_t n;
    char *buf = bench_read_file(argv[2], &n);
    if (!buf)
        return 1;
    int many = argc > 4 && strcmp(argv[4], "--lines") == 0;
    int one = argc > 4 && strcmp(argv[4], "--lines-one") == 0;
    int each = argc > 4 && strcmp(argv[4], "--lines-each") == 0;
    enum { BLOCK = 1024 };
    const char *texts[BLOCK];
    size_t lens[BLOCK];
    uint64_t counts[BLOCK];
    uint64_t count = 0;
    int reps = 0;
    double t0 = bench_wall_s(), c0 = bench_cpu_s(), el;
    do {
        if (many || one || each) {
            ic_tokenizer_counter *counter = NULL;
            if (!each && ic_tokenizer_counter_new(&counter, t, 0, &err) != IC_OK) {
                fprintf(stderr, "%s\n", err.msg);
                return 1;
            }
            count = 0;
            size_t k = 0; /* --lines: the block so far */
            for (size_t s = 0; s < n || k;) {
                int last = s >= n;
                if (!last) {
                    const char *nl = memchr(buf + s, '\n', n - s);
                    size_t end = nl ? (size_t)(nl - buf) : n;
                    texts[k] = buf + s;
                    lens[k++] = end - s;
                    s = nl ? end + 1 : n;
                }
                ic_status st = IC_OK;
                if (!many) {
                    st = one ? ic_tokenizer_counter_count(counter, texts[0], lens[0], 0, counts,
                                                          &err)
                             : ic_tokenizer_count(t, texts[0], lens[0], 0, counts, &err);
                } else if (k == BLOCK || last || s >= n) {
                    st = ic_tokenizer_counter_count_many(counter, texts, lens, k, 0, counts, NULL,
                                                         &err);
                } else {
                    continue;
                }
                if (st != IC_OK) {
                    fprintf(stderr, "%s\n", err.msg);
                    return 1;
                }
                for (size_t q = 0; q < k; q++)
                    count += counts[q];
                k = 0;
            }
            ic_tokenizer_counter_free(counter);
        } else if (ic_tokenizer_count(t, buf, (size_t)n, 0, &count, &err) != IC_OK) {
            fprintf(stderr, "%s\n", err.msg);
            return 1;
        }
        reps++;
        el = bench_wall_s() - t0;
    } while (el < budget);
    double cpu = bench_cpu_s() - c0;
    printf("{\"encoding\":\"%s\",\"file\":\"%s\",\"bytes\":%ld,\"tokens\":%llu,\"reps\":%d,"
           "\"mb_s\":%.1f,\"cpu_mb_s\":%.1f}\n",
           argv[1], argv[2], n, (unsigned long long)count, reps, (double)n * reps / el / 1e6,
           (double)n * reps / cpu / 1e6);
    free(buf);
    ic_tokenizer_free(t);
    return 0;
}
