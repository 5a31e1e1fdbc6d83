/* chat_count_bench.c: infercost's side of bench/chat_count.sh: counting the prompt tokens of one
 * chat/completions request body again and again, as the gateway does for every request that a
 * budget or a token routing rule looks at (ic_chat_count_request: parse the JSON, count each
 * message by the cookbook's rules). With --cache, through one ic_count_cache kept across the
 * calls (the gateway's way, 640 KB a counter: the words of a system prompt that recurs are
 * merged once; the untimed first call fills it), else each call on its own.
 * Usage: chat_count_bench REQUEST.json SECONDS [--cache]
 * Prints one JSON line {"tokens":N,"calls":K,"us":X,"cpu_us":Y} (microseconds per request, by
 * the wall clock and by the thread's CPU time). Not a test. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_util.h"
#include "infercost/estimate.h"

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: chat_count_bench REQUEST.json SECONDS [--cache]\n");
        return 2;
    }
    size_t n;
    char *body = bench_read_file(argv[1], &n);
    if (!body)
        return 1;
    double budget = atof(argv[2]);
    ic_count_cache *cc = NULL;
    if (argc > 3 && strcmp(argv[3], "--cache") == 0 && !(cc = ic_count_cache_new(640 * 1024))) {
        fprintf(stderr, "out of memory\n");
        return 1;
    }
    ic_chat_count c;
    ic_error err = {0};
    /* the first call opens the encoding (and, with --cache, fills the counter): not timed */
    if (ic_chat_count_request_in(cc, body, n, NULL, &c, &err) != IC_OK) {
        fprintf(stderr, "%s: %s\n", argv[1], err.msg);
        return 1;
    }
    long calls = 0;
    double t0 = bench_wall_s(), c0 = bench_cpu_s(), el;
    do {
        if (ic_chat_count_request_in(cc, body, n, NULL, &c, &err) != IC_OK) {
            fprintf(stderr, "%s: %s\n", argv[1], err.msg);
            return 1;
        }
        calls++;
        el = bench_wall_s() - t0;
    } while (el < budget);
    printf("{\"tokens\":%llu,\"calls\":%ld,\"us\":%.2f,\"cpu_us\":%.2f}\n",
           (unsigned long long)c.prompt_tokens, calls, el / (double)calls * 1e6,
           (bench_cpu_s() - c0) / (double)calls * 1e6);
    ic_count_cache_free(cc);
    free(body);
    return 0;
}
