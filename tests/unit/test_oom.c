/* test_oom.c: out of memory, at every allocation. Each operation of the tokenizer, of
 * pre-request counting and estimates (estimate.h) and of opening a catalog runs again and again
 * with its k-th allocation failing, k = 1, 2, ... until the operation no longer makes k
 * allocations. Every run must either report IC_ERR_NOMEM, with its outputs cleared, or absorb the
 * failure (a cache it can do without) and give the right answer; it must not crash, must leave
 * what it was handed usable (a counter counts correctly after a failed call; count_many's `done`
 * names the text that failed, and the texts before it are counted), and must not leak
 * (LeakSanitizer checks that in the [asan+ubsan] pass of tests/run.sh).
 * The Makefile links this test with -Wl,--wrap=malloc (calloc, realloc, aligned_alloc too), so
 * the library's own allocations come through the wrappers below; those inside json-c or libc
 * (strdup) do not, and are not what this tests. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "infercost/catalog.h"
#include "infercost/estimate.h"
#include "infercost/tokenizer.h"
#include "test.h"

void *__real_malloc(size_t n);
void *__real_calloc(size_t n, size_t size);
void *__real_realloc(void *p, size_t n);
void *__real_aligned_alloc(size_t align, size_t n);
void *__wrap_malloc(size_t n);
void *__wrap_calloc(size_t n, size_t size);
void *__wrap_realloc(void *p, size_t n);
void *__wrap_aligned_alloc(size_t align, size_t n);

static long fail_at; /* 0: no failure */
static long calls;   /* allocations since arm() */

static int fail_now(void) { return fail_at && ++calls == fail_at; }
void *__wrap_malloc(size_t n) { return fail_now() ? NULL : __real_malloc(n); }
void *__wrap_calloc(size_t n, size_t size) { return fail_now() ? NULL : __real_calloc(n, size); }
void *__wrap_realloc(void *p, size_t n) { return fail_now() ? NULL : __real_realloc(p, n); }
void *__wrap_aligned_alloc(size_t align, size_t n)
{
    return fail_now() ? NULL : __real_aligned_alloc(align, n);
}

static void arm(long k)
{
    calls = 0;
    fail_at = k;
}
/* 1 when the k-th allocation was reached (and failed) */
static int disarm(void)
{
    int hit = calls >= fail_at;
    fail_at = 0;
    return hit;
}

/* The loop every case runs: op(k) with the k-th allocation failing; it returns the status and
 * checks its own outputs. Stops when op no longer reaches k; returns the number of failure
 * points tried, so that a case can check it exercised some. */
#define MAX_POINTS 20000
#define EACH_FAILURE(k, hit, st, op_call, on_result)                                     \
    for (long k = 1;; k++) {                                                             \
        if (k > MAX_POINTS) {                                                            \
            CHECK(!"too many allocations");                                              \
            break;                                                                       \
        }                                                                                \
        arm(k);                                                                          \
        ic_status st = (op_call);                                                        \
        int hit = disarm();                                                              \
        on_result;                                                                       \
        if (!hit)                                                                        \
            break;                                                                       \
    }

static int nomem(ic_status st, const ic_error *err)
{
    if (st != IC_ERR_NOMEM) {
        fprintf(stderr, "  expected IC_ERR_NOMEM, got %d: %s\n", (int)st, err->msg);
        return 0;
    }
    return strstr(err->msg, "memory") != NULL;
}

/* texts: prose in several scripts (a per-call cache from 16 KB on), invalid UTF-8 (a repaired
 * copy), a 5,000-byte word (scratch memory for the long merge), a special token */
static char big[48 * 1024];
static char *texts[5];
static size_t lens[5];

static void make_texts(void)
{
    static const char *words[] = {"hello", " world", " Привет", " мир", " 東京", " দেশ",
                                  " don't", " 12345", "\n", " Ελλάδα", " !!", " x"};
    size_t n = 0;
    unsigned seed = 7;
    while (n + 16 < sizeof big) {
        seed = seed * 1103515245u + 12345u;
        const char *w = words[(seed >> 16) % (sizeof words / sizeof words[0])];
        size_t l = strlen(w);
        memcpy(big + n, w, l);
        n += l;
    }
    big[n] = 0;
    static char bad[] = "ok \xff\xfe then \xc3 more \xe2\x82 text";
    static char longword[5001];
    for (int i = 0; i < 5000; i++)
        longword[i] = (char)('a' + (i * 7 + i / 13) % 26);
    static char special[] = "a <|endoftext|> b";
    static char small[] = "The quick brown fox.";
    texts[0] = small;
    texts[1] = big;
    texts[2] = bad;
    texts[3] = longword;
    texts[4] = special;
    for (int i = 0; i < 5; i++)
        lens[i] = strlen(texts[i]);
}

static void open_encodings(void)
{
    const char *names[] = {"o200k_base", "cl100k_base"};
    for (int e = 0; e < 2; e++) {
        long points = 0;
        ic_tokenizer *t = (ic_tokenizer *)0x1;
        ic_error err = {0};
        EACH_FAILURE(k, hit, st, ic_tokenizer_open(&t, names[e], &err), {
            points += hit;
            if (hit && st != IC_OK) {
                CHECK(nomem(st, &err));
                CHECK(t == NULL);
            } else {
                CHECK_INT(st, IC_OK);
                if (st == IC_OK) {
                    uint64_t c = 0;
                    CHECK_INT(ic_tokenizer_count(t, "hello world", 11, 0, &c, &err), IC_OK);
                    CHECK_INT(c, 2);
                }
            }
            ic_tokenizer_free(t);
            t = (ic_tokenizer *)0x1;
        });
        CHECK(points >= 8);
    }
}

/* count, encode and decode of each text, against the same without failures */
static void count_encode_decode(void)
{
    const char *names[] = {"o200k_base", "cl100k_base"};
    for (int e = 0; e < 2; e++) {
        ic_tokenizer *t;
        ic_error err = {0};
        CHECK_INT(ic_tokenizer_open(&t, names[e], &err), IC_OK);
        for (int i = 0; i < 5; i++) {
            unsigned flags = i == 4 ? IC_TOK_ALLOW_SPECIAL : 0;
            uint32_t *want;
            size_t nwant;
            CHECK_INT(ic_tokenizer_encode(t, texts[i], lens[i], flags, &want, &nwant, &err),
                      IC_OK);
            long points = 0;
            uint64_t c = 1;
            EACH_FAILURE(k, hit, st, ic_tokenizer_count(t, texts[i], lens[i], flags, &c, &err), {
                points += hit;
                if (st == IC_OK)
                    CHECK_INT(c, nwant);
                else
                    CHECK(hit && nomem(st, &err) && c == 0);
            });
            CHECK(points >= (i == 0 || i == 4 ? 0 : 1)); /* a short valid text needs none */
            uint32_t *ids = (uint32_t *)0x1;
            size_t nids = 1;
            EACH_FAILURE(k, hit, st,
                         ic_tokenizer_encode(t, texts[i], lens[i], flags, &ids, &nids, &err), {
                             if (st == IC_OK)
                                 CHECK(nids == nwant && memcmp(ids, want, nids * 4) == 0);
                             else
                                 CHECK(hit && nomem(st, &err) && ids == NULL && nids == 0);
                             free(ids);
                             ids = (uint32_t *)0x1;
                         });
            char *text = (char *)0x1;
            size_t tl = 1;
            EACH_FAILURE(k, hit, st, ic_tokenizer_decode(t, want, nwant, &text, &tl, &err), {
                if (st == IC_OK)
                    CHECK(tl > 0 && text != NULL);
                else
                    CHECK(hit && nomem(st, &err) && text == NULL && tl == 0);
                free(text);
                text = (char *)0x1;
            });
            free(want);
        }
        ic_tokenizer_free(t);
    }
}

/* a counter: making one; counting through it; counting many texts at once, with `done` naming
 * the text that failed and the texts before it counted; and the counter still right afterwards */
static void counter(void)
{
    ic_tokenizer *t;
    ic_error err = {0};
    CHECK_INT(ic_tokenizer_open(&t, "o200k_base", &err), IC_OK);
    uint64_t want[5];
    for (int i = 0; i < 5; i++)
        CHECK_INT(ic_tokenizer_count(t, texts[i], lens[i], 0, &want[i], &err), IC_OK);
    long points = 0;
    ic_tokenizer_counter *c = (ic_tokenizer_counter *)0x1;
    EACH_FAILURE(k, hit, st, ic_tokenizer_counter_new(&c, t, 64 * 1024, &err), {
        points += hit;
        if (st == IC_OK)
            ic_tokenizer_counter_free(c);
        else
            CHECK(hit && nomem(st, &err) && c == NULL);
        c = (ic_tokenizer_counter *)0x1;
    });
    CHECK(points >= 2);
    /* a counter too small for the 48 KB text, which then gets a cache of its own */
    CHECK_INT(ic_tokenizer_counter_new(&c, t, 64 * 1024, &err), IC_OK);
    for (int i = 0; i < 5; i++) {
        uint64_t got1 = 0;
        EACH_FAILURE(k, hit, st, ic_tokenizer_counter_count(c, texts[i], lens[i], 0, &got1, &err), {
            if (st == IC_OK)
                CHECK_INT(got1, want[i]);
            else
                CHECK(hit && nomem(st, &err));
            uint64_t again = 0; /* the counter is still right after a failure */
            CHECK_INT(ic_tokenizer_counter_count(c, texts[i], lens[i], 0, &again, &err), IC_OK);
            CHECK_INT(again, want[i]);
        });
    }
    /* many texts: short ones batched together around the ones counted alone */
    enum { N = 40 };
    const char *many[N];
    size_t mlens[N];
    uint64_t mwant[N], got[N];
    for (int i = 0; i < N; i++) {
        int w = i % 7 == 3 ? 1 + i % 4 : 0; /* the big, bad, long and special texts now and then */
        many[i] = w ? texts[w] : texts[0];
        mlens[i] = w ? lens[w] : (size_t)(i % 20); /* prefixes of the short text, "" too */
        mwant[i] = 0;
        CHECK_INT(ic_tokenizer_count(t, many[i], mlens[i], 0, &mwant[i], &err), IC_OK);
    }
    points = 0;
    size_t done = 0;
    EACH_FAILURE(k, hit, st,
                 ic_tokenizer_counter_count_many(c, many, mlens, N, 0, got, &done, &err), {
                     points += hit && st != IC_OK;
                     if (st == IC_OK) {
                         CHECK_INT(done, N);
                         CHECK(memcmp(got, mwant, sizeof got) == 0);
                     } else {
                         CHECK(hit && nomem(st, &err) && done < N);
                         for (size_t i = 0; i < done && i < N; i++)
                             CHECK_INT(got[i], mwant[i]);
                     }
                 });
    CHECK(points >= 1); /* the bad text's repaired copy; the rest have fallbacks */
    CHECK_INT(ic_tokenizer_counter_count_many(c, many, mlens, N, 0, got, &done, &err), IC_OK);
    CHECK(memcmp(got, mwant, sizeof got) == 0);
    ic_tokenizer_counter_free(c);
    ic_tokenizer_free(t);
}

static const char *body =
    "{\"model\":\"gpt-4o\",\"max_tokens\":100,\"messages\":["
    "{\"role\":\"system\",\"content\":\"You are terse.\"},"
    "{\"role\":\"user\",\"name\":\"ann\",\"content\":[{\"type\":\"text\",\"text\":\"Привет, мир! "
    "How much is 2+2?\"}]}],"
    "\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"add\",\"description\":\"Add.\","
    "\"parameters\":{\"type\":\"object\",\"properties\":{\"a\":{\"type\":\"number\"}}}}}]}";

/* counting for a model (the shared tokenizers, a count cache) and a priced estimate */
static void estimates(void)
{
    ic_error err = {0};
    ic_text_count want, got;
    CHECK_INT(ic_count_text_for_model("gpt-4o", big, sizeof big - 1, &want, &err), IC_OK);
    ic_count_cache *cc = NULL;
    long points = 0;
    EACH_FAILURE(k, hit, st, (cc = ic_count_cache_new(1 << 20)) ? IC_OK : IC_ERR_NOMEM, {
        points += hit;
        if (st != IC_OK)
            CHECK(hit);
        ic_count_cache_free(cc);
    });
    CHECK(points >= 1);
    cc = ic_count_cache_new(1 << 20);
    CHECK(cc != NULL);
    points = 0;
    EACH_FAILURE(k, hit, st,
                 ic_count_text_for_model_in(cc, "gpt-4o", big, sizeof big - 1, &got, &err), {
                     points += hit;
                     if (st == IC_OK)
                         CHECK(got.tokens == want.tokens && got.method == IC_COUNT_EXACT);
                     else
                         CHECK(hit && nomem(st, &err));
                 });
    CHECK(points >= 1);
    const char *many[3] = {texts[0], big, texts[2]};
    size_t mlens[3] = {lens[0], sizeof big - 1, lens[2]};
    uint64_t sum = 0;
    for (int i = 0; i < 3; i++) {
        ic_text_count one;
        CHECK_INT(ic_count_text_for_model("gpt-4o", many[i], mlens[i], &one, &err), IC_OK);
        sum += one.tokens;
    }
    ic_count_cache_free(cc);
    cc = ic_count_cache_new(1 << 20);
    points = 0;
    EACH_FAILURE(k, hit, st, ic_count_texts_for_model_in(cc, "gpt-4o", many, mlens, 3, &got, &err),
                 {
                     points += hit;
                     if (st == IC_OK)
                         CHECK_INT(got.tokens, sum);
                     else
                         CHECK(hit && nomem(st, &err));
                 });
    CHECK(points >= 1);
    ic_chat_count ref;
    CHECK_INT(ic_chat_count_request(body, strlen(body), NULL, &ref, &err), IC_OK);
    ic_chat_count cnt;
    EACH_FAILURE(k, hit, st, ic_chat_count_request_in(cc, body, strlen(body), NULL, &cnt, &err), {
        if (st == IC_OK)
            CHECK_INT(cnt.prompt_tokens, ref.prompt_tokens);
        else
            CHECK(hit && nomem(st, &err));
    });
    ic_count_cache_free(cc);
    ic_catalog *cat;
    CHECK_INT(ic_catalog_open(&cat, NULL, &err), IC_OK);
    ic_request_estimate e0, e;
    CHECK_INT(ic_estimate_request(cat, NULL, NULL, body, strlen(body), 1767225600000, &e0, &err),
              IC_OK);
    EACH_FAILURE(k, hit, st,
                 ic_estimate_request(cat, NULL, NULL, body, strlen(body), 1767225600000, &e, &err),
                 {
                     if (st == IC_OK)
                         CHECK(e.worst_usd == e0.worst_usd &&
                               e.count.prompt_tokens == e0.count.prompt_tokens);
                     else
                         CHECK(hit && nomem(st, &err));
                 });
    ic_catalog_free(cat);
}

/* a catalog from text: a price feed with history, tiers and several providers */
static const char *feed =
    "[{\"id\":\"p\",\"name\":\"P\",\"api_pattern\":\"https://api\\\\.p\\\\.com\",\"models\":["
    "{\"id\":\"m1\",\"name\":\"M1\",\"context_window\":1000,\"match\":{\"or\":[{\"equals\":\"m1\"},"
    "{\"starts_with\":\"m1-\"}]},\"prices\":[{\"prices\":{\"input_mtok\":1,\"output_mtok\":2}},"
    "{\"constraint\":{\"start_date\":\"2025-03-01\"},\"prices\":{\"input_mtok\":{\"base\":2,"
    "\"tiers\":[{\"start\":200000,\"price\":4}]},\"cache_read_mtok\":0.5,\"output_mtok\":8}}]},"
    "{\"id\":\"m2\",\"match\":{\"contains\":\"m2\"},\"prices\":{\"input_mtok\":0.1,"
    "\"requests_kcount\":1}}]},"
    "{\"id\":\"q\",\"models\":[{\"id\":\"m1\",\"match\":{\"equals\":\"m1\"},"
    "\"prices\":{\"input_mtok\":3}}]}]";

static void catalog(void)
{
    ic_error err = {0};
    long points = 0;
    ic_catalog *cat = (ic_catalog *)0x1;
    EACH_FAILURE(k, hit, st, ic_catalog_open_text(&cat, feed, strlen(feed), "feed.json", &err), {
        points += hit;
        if (st == IC_OK) {
            CHECK_INT(ic_catalog_model_count(cat), 3);
            ic_catalog_free(cat);
        } else {
            CHECK(hit && nomem(st, &err) && cat == NULL);
        }
        cat = (ic_catalog *)0x1;
    });
    CHECK(points >= 3);
}

int main(void)
{
    make_texts();
    RUN(open_encodings);
    RUN(count_encode_decode);
    RUN(counter);
    RUN(estimates);
    RUN(catalog);
    TEST_END();
}
