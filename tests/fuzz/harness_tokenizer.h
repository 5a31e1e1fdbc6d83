/* harness_tokenizer.h: the checks of the fuzz targets for token counting (fuzz_tokenizer: any
 * bytes as text; fuzz_chat: a chat/completions request body, as the gateway and `infercost
 * estimate` receive it), shared with the regression replay (tests/unit/test_fuzz_regress.c), as
 * harness.h is for the pricing core. Each fz_* function returns 0 when the input passed every
 * check, or 1 with the first violated property in why[]. Public API only; it must not print. */
#ifndef IC_FUZZ_HARNESS_TOKENIZER_H
#define IC_FUZZ_HARNESS_TOKENIZER_H

#include "harness.h"
#include "infercost/estimate.h"
#include "infercost/tokenizer.h"

static const ic_tokenizer *fz_tok(int k)
{
    ic_error err = {0};
    const ic_tokenizer *t = ic_tokenizer_shared(k ? "cl100k_base" : "o200k_base", &err);
    if (!t) {
        fprintf(stderr, "fuzz: cannot open the encodings: %s\n", err.msg);
        abort();
    }
    return t;
}

/* s[0..n) is valid UTF-8 (RFC 3629: no overlong forms, no surrogates, nothing past U+10FFFF) */
static bool fz_utf8(const unsigned char *s, size_t n)
{
    for (size_t i = 0; i < n;) {
        unsigned c = s[i];
        size_t l = c < 0x80 ? 1 : c >= 0xC2 && c <= 0xDF ? 2 : c >= 0xE0 && c <= 0xEF ? 3
                                  : c >= 0xF0 && c <= 0xF4 ? 4 : 0;
        if (!l || i + l > n)
            return false;
        for (size_t k = 1; k < l; k++)
            if ((s[i + k] & 0xC0) != 0x80)
                return false;
        if ((c == 0xE0 && s[i + 1] < 0xA0) || (c == 0xED && s[i + 1] > 0x9F) ||
            (c == 0xF0 && s[i + 1] < 0x90) || (c == 0xF4 && s[i + 1] > 0x8F))
            return false;
        i += l;
    }
    return true;
}

/* Byte 0: bit 0 the encoding (o200k_base, cl100k_base), bit 1 special tokens recognised; the rest
 * is the text. Encode and count agree; every id is in the vocabulary, a special one only when
 * allowed; decoding gives the text back (valid UTF-8) or a text that encodes to the same ids
 * (invalid UTF-8 is repaired first); a counter, count_many over the text's lines, and the two
 * parts of ic_tokenizer_cut all give the same counts as counting directly. */
static __attribute__((unused)) int fz_tokenizer(const uint8_t *data, size_t size, char *why, size_t cap)
{
    if (size == 0)
        return 0;
    int k = data[0] & 1;
    unsigned flags = data[0] & 2 ? IC_TOK_ALLOW_SPECIAL : 0;
    const ic_tokenizer *t = fz_tok(k);
    char *text = fz_dup(data + 1, size - 1);
    size_t n = size - 1;
    ic_error err = {0};
    uint32_t *ids = NULL, *again = NULL;
    char *back = NULL;
    size_t nids = 0, nagain = 0, nback = 0;
    uint64_t cnt = 0;
    int bad = 0;
    static ic_tokenizer_counter *counter[2]; /* kept from input to input, as the gateway's */
    if (ic_tokenizer_encode(t, text, n, flags, &ids, &nids, &err) != IC_OK) {
        bad = fz_fail(why, cap, "encode failed: %s", err.msg);
        goto out;
    }
    if (ic_tokenizer_count(t, text, n, flags, &cnt, &err) != IC_OK || cnt != nids) {
        bad = fz_fail(why, cap, "count %llu, encode %zu ids", (unsigned long long)cnt, nids);
        goto out;
    }
    for (size_t i = 0; i < nids; i++) {
        size_t l;
        const unsigned char *b = ic_tokenizer_token_bytes(t, ids[i], &l);
        if (!b || ids[i] >= ic_tokenizer_vocab_size(t)) {
            bad = fz_fail(why, cap, "id %u at %zu is not in %s", ids[i], i, ic_tokenizer_name(t));
            goto out;
        }
        if (!flags && ids[i] >= (k ? 100256u : 199998u)) { /* past the ordinary ranks */
            bad = fz_fail(why, cap, "special id %u without IC_TOK_ALLOW_SPECIAL", ids[i]);
            goto out;
        }
    }
    if (ic_tokenizer_decode(t, ids, nids, &back, &nback, &err) != IC_OK) {
        bad = fz_fail(why, cap, "decode failed: %s", err.msg);
        goto out;
    }
    if (fz_utf8((const unsigned char *)text, n)) {
        if (nback != n || memcmp(back, text, n)) {
            bad = fz_fail(why, cap, "decode gives %zu bytes, not the %zu of the text", nback, n);
            goto out;
        }
    } else if (!fz_utf8((const unsigned char *)back, nback)) {
        bad = fz_fail(why, cap, "the repaired text is not valid UTF-8");
        goto out;
    } else if (ic_tokenizer_encode(t, back, nback, flags, &again, &nagain, &err) != IC_OK ||
               nagain != nids || memcmp(again, ids, nids * sizeof *ids)) {
        bad = fz_fail(why, cap, "the repaired text encodes to %zu ids, not %zu", nagain, nids);
        goto out;
    }
    if (!counter[k] && ic_tokenizer_counter_new(&counter[k], t, 256 * 1024, &err) != IC_OK)
        abort();
    uint64_t c2 = 0;
    if (ic_tokenizer_counter_count(counter[k], text, n, flags, &c2, &err) != IC_OK || c2 != nids) {
        bad = fz_fail(why, cap, "counter %llu, encode %zu", (unsigned long long)c2, nids);
        goto out;
    }
    /* the lines, each alone and all in one count_many call */
    {
        enum { MAXL = 256 };
        const char *lt[MAXL];
        size_t ll[MAXL], nl = 0;
        uint64_t many[MAXL];
        for (size_t i = 0, st = 0; i <= n && nl < MAXL; i++)
            if (i == n || text[i] == '\n') {
                lt[nl] = text + st;
                ll[nl++] = i - st;
                st = i + 1;
            }
        size_t done = 0;
        if (ic_tokenizer_counter_count_many(counter[k], lt, ll, nl, flags, many, &done, &err) !=
                IC_OK ||
            done != nl) {
            bad = fz_fail(why, cap, "count_many failed at %zu of %zu: %s", done, nl, err.msg);
            goto out;
        }
        for (size_t i = 0; i < nl; i++) {
            uint64_t one = 0;
            if (ic_tokenizer_count(t, lt[i], ll[i], flags, &one, &err) != IC_OK || one != many[i]) {
                bad = fz_fail(why, cap, "count_many line %zu: %llu, alone %llu", i,
                              (unsigned long long)many[i], (unsigned long long)one);
                goto out;
            }
        }
    }
    /* the parts of a cut encode to the whole's ids (the counts alone can agree by chance) */
    size_t c = ic_tokenizer_cut(t, text, n);
    if (c) {
        uint32_t *pa = NULL, *pb = NULL;
        size_t na = 0, nb = 0;
        int same = c < n && text[c - 1] == '\n' &&
                   ic_tokenizer_encode(t, text, c, flags, &pa, &na, &err) == IC_OK &&
                   ic_tokenizer_encode(t, text + c, n - c, flags, &pb, &nb, &err) == IC_OK &&
                   na + nb == nids && !memcmp(pa, ids, na * sizeof *ids) &&
                   !memcmp(pb, ids + na, nb * sizeof *ids);
        free(pa);
        free(pb);
        if (!same) {
            bad = fz_fail(why, cap, "cut at %zu of %zu: %zu + %zu ids, not the whole's %zu", c, n,
                          na, nb, nids);
            goto out;
        }
    }
out:
    free(ids);
    free(again);
    free(back);
    free(text);
    return bad;
}

/* A request body. Counting it fails with a message or succeeds; a count cache gives the same
 * result as none; the estimate against the embedded catalog, when it succeeds, prices the same
 * prompt, bounds the output as documented, and its worst case is at least the prompt's cost. */
static __attribute__((unused)) int fz_chat(const uint8_t *data, size_t size, char *why, size_t cap)
{
    char *body = fz_dup(data, size);
    ic_error err = {0}, err2 = {0};
    ic_chat_count a, b;
    static ic_count_cache *cc;
    if (!cc && !(cc = ic_count_cache_new(256 * 1024)))
        abort();
    int bad = 0;
    ic_status st = ic_chat_count_request(body, size, NULL, &a, &err);
    ic_status st2 = ic_chat_count_request_in(cc, body, size, NULL, &b, &err2);
    if (st != st2 || (st != IC_OK && strcmp(err.msg, err2.msg))) {
        bad = fz_fail(why, cap, "with a cache: %s \"%s\", without: %s \"%s\"", ic_strerror(st2),
                      err2.msg, ic_strerror(st), err.msg);
        goto out;
    }
    if (st != IC_OK) {
        if (!err.msg[0])
            bad = fz_fail(why, cap, "count failed (%s) with an empty message", ic_strerror(st));
        goto out;
    }
    if (a.prompt_tokens != b.prompt_tokens || a.method != b.method || a.messages != b.messages ||
        a.tools != b.tools || a.max_tokens != b.max_tokens || strcmp(a.model, b.model)) {
        bad = fz_fail(why, cap, "with a cache %llu tokens, without %llu",
                      (unsigned long long)b.prompt_tokens, (unsigned long long)a.prompt_tokens);
        goto out;
    }
    if (a.method == IC_COUNT_EXACT && a.prompt_tokens < 3) {
        bad = fz_fail(why, cap, "an exact count of %llu: the reply's priming alone is 3",
                      (unsigned long long)a.prompt_tokens);
        goto out;
    }
    ic_request_estimate e;
    memset(&err, 0, sizeof err);
    st = ic_estimate_request(fz_catalog(), NULL, NULL, body, size, FZ_NOW_MS, &e, &err);
    if (st != IC_OK) {
        if (!err.msg[0])
            bad = fz_fail(why, cap, "estimate failed (%s) with an empty message", ic_strerror(st));
        goto out;
    }
    if (e.input_usd < 0 || e.worst_usd < e.input_usd)
        bad = fz_fail(why, cap, "estimate: input %lld, worst case %lld pico-USD",
                      (long long)e.input_usd, (long long)e.worst_usd);
    else if (e.count.choices < 1 || e.count.choices > 128)
        bad = fz_fail(why, cap, "estimate: %u choices", e.count.choices);
    else if (e.bound == IC_BOUND_MAX_TOKENS &&
             (!e.count.has_max_tokens || e.output_tokens != e.count.max_tokens * e.count.choices))
        bad = fz_fail(why, cap, "estimate: output bound %llu, max_tokens %llu x %u choices",
                      (unsigned long long)e.output_tokens, (unsigned long long)e.count.max_tokens,
                      e.count.choices);
    else if (e.bound == IC_BOUND_CONTEXT &&
             (!e.context_window ||
              e.output_tokens != (e.exceeds_context ? 0
                                                    : (e.context_window - e.count.prompt_tokens) *
                                                          e.count.choices)))
        bad = fz_fail(why, cap, "estimate: output bound %llu with context %llu, prompt %llu",
                      (unsigned long long)e.output_tokens, (unsigned long long)e.context_window,
                      (unsigned long long)e.count.prompt_tokens);
    else if (e.bound == IC_BOUND_NONE && (e.output_tokens || e.worst_usd != e.input_usd))
        bad = fz_fail(why, cap, "estimate: unbounded, yet an output bound of %llu",
                      (unsigned long long)e.output_tokens);
    else if (e.output_unpriced && (e.bound == IC_BOUND_NONE || e.worst_usd != e.input_usd))
        bad = fz_fail(why, cap, "estimate: output unpriced, yet a worst case of %lld pico-USD",
                      (long long)e.worst_usd);
    else if (e.max_tokens_over_context !=
             (e.bound == IC_BOUND_MAX_TOKENS && e.context_window && !e.exceeds_context &&
              e.count.prompt_tokens + e.count.max_tokens > e.context_window))
        bad = fz_fail(why, cap, "estimate: max_tokens_over_context %d", e.max_tokens_over_context);
    else if (e.exceeds_context != (e.context_window && e.count.prompt_tokens > e.context_window))
        bad = fz_fail(why, cap, "estimate: exceeds_context %d with prompt %llu, context %llu",
                      e.exceeds_context, (unsigned long long)e.count.prompt_tokens,
                      (unsigned long long)e.context_window);
out:
    free(body);
    return bad;
}

#endif
