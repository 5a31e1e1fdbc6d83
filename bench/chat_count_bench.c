/* chat_count_bench.c: infercost's side of bench/chat_count.sh: counting the prompt tokens of one
 * request body again and again, as the gateway does for every request that a budget or a token
 * routing rule looks at. A chat/completions body: ic_chat_count_request (parse the JSON, count
 * each message by the cookbook's rules); with --cache, through one ic_count_cache kept across
 * the calls (the gateway's way, 640 KB a counter: the words of a system prompt that recurs are
 * merged once; the untimed first call fills it), else each call on its own. An embeddings body
 * ("input": an array of strings): the JSON parsed, then each input counted (through the kept
 * cache with --cache), or all of them in one call with --batch (ic_count_texts_for_model_in,
 * the gateway's way since session 9).
 * Usage: chat_count_bench REQUEST.json SECONDS [--cache|--batch]
 * Prints one JSON line {"tokens":N,"calls":K,"us":X,"cpu_us":Y} (microseconds per request, by
 * the wall clock and by the thread's CPU time). Not a test. */
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_util.h"
#include "infercost/estimate.h"

/* the prompt tokens of an embeddings body: 0 with *ok false on an error */
static uint64_t embed_count(ic_count_cache *cc, const char *body, int batch, int *ok)
{
    *ok = 0;
    json_object *root = json_tokener_parse(body), *in, *model;
    if (!root || !json_object_object_get_ex(root, "input", &in) ||
        !json_object_object_get_ex(root, "model", &model)) {
        json_object_put(root);
        return 0;
    }
    const char *m = json_object_get_string(model);
    size_t n = json_object_array_length(in);
    uint64_t total = 0;
    ic_text_count tc;
    ic_error err = {0};
    if (batch) {
        const char **texts = malloc(n * sizeof *texts);
        size_t *lens = malloc(n * sizeof *lens);
        for (size_t i = 0; texts && lens && i < n; i++) {
            json_object *e = json_object_array_get_idx(in, i);
            texts[i] = json_object_get_string(e);
            lens[i] = (size_t)json_object_get_string_len(e);
        }
        if (texts && lens && ic_count_texts_for_model_in(cc, m, texts, lens, n, &tc, &err) == IC_OK) {
            total = tc.tokens;
            *ok = 1;
        }
        free(texts);
        free(lens);
    } else {
        *ok = 1;
        for (size_t i = 0; i < n && *ok; i++) {
            json_object *e = json_object_array_get_idx(in, i);
            *ok = ic_count_text_for_model_in(cc, m, json_object_get_string(e),
                                             (size_t)json_object_get_string_len(e), &tc,
                                             &err) == IC_OK;
            total += tc.tokens;
        }
    }
    json_object_put(root);
    return total;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: chat_count_bench REQUEST.json SECONDS [--cache|--batch]\n");
        return 2;
    }
    size_t n;
    char *body = bench_read_file(argv[1], &n);
    if (!body)
        return 1;
    double budget = atof(argv[2]);
    int batch = argc > 3 && strcmp(argv[3], "--batch") == 0;
    int embed = strstr(body, "\"messages\"") == NULL;
    ic_count_cache *cc = NULL;
    if (argc > 3 && (batch || strcmp(argv[3], "--cache") == 0) &&
        !(cc = ic_count_cache_new(640 * 1024))) {
        fprintf(stderr, "out of memory\n");
        return 1;
    }
    ic_chat_count c;
    ic_error err = {0};
    uint64_t tokens = 0;
    int ok = 1;
    long calls = -1; /* the first call opens the encoding (and fills the counter): not timed */
    double t0 = 0, c0 = 0, el = 0;
    do {
        if (embed)
            tokens = embed_count(cc, body, batch, &ok);
        else if ((ok = ic_chat_count_request_in(cc, body, n, NULL, &c, &err) == IC_OK))
            tokens = c.prompt_tokens;
        if (!ok) {
            fprintf(stderr, "%s: cannot count: %s\n", argv[1], err.msg);
            return 1;
        }
        if (++calls == 0) {
            t0 = bench_wall_s();
            c0 = bench_cpu_s();
        }
        el = bench_wall_s() - t0;
    } while (calls == 0 || el < budget);
    printf("{\"tokens\":%llu,\"calls\":%ld,\"us\":%.2f,\"cpu_us\":%.2f}\n",
           (unsigned long long)tokens, calls, el / (double)calls * 1e6,
           (bench_cpu_s() - c0) / (double)calls * 1e6);
    ic_count_cache_free(cc);
    free(body);
    return 0;
}
