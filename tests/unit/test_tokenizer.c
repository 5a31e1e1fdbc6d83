/* test_tokenizer.c: unit tests of the tokenizer (tokenizer.h) and of pre-request counting
 * (estimate.h): ids checked against tiktoken 1.0.22 output, the hand-written pre-split scanners
 * against PCRE2 running tiktoken's regexes verbatim on random strings, linear time on
 * pathological 10 MB inputs, invalid UTF-8, special tokens, the OpenAI cookbook's chat and tool
 * examples, the model -> encoding map, and rank-file errors. The 50 MB differential test
 * against tiktoken itself is tests/node/tokenizer.test.mjs. */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "infercost/estimate.h"
#include "infercost/tokenizer.h"
#include "bpe.h"
#include "embedded.h"
#include "pretokenize.h"
#include "tokenizer_internal.h"
#include "test.h"
#include "unicode_tables.h"

static const ic_tokenizer *o200k, *cl100k;

static int ids_equal(const ic_tokenizer *t, const char *s, unsigned flags, const uint32_t *want,
                     size_t nwant)
{
    ic_error err = {0};
    uint32_t *ids = NULL;
    size_t n = 0;
    if (ic_tokenizer_encode(t, s, strlen(s), flags, &ids, &n, &err) != IC_OK) {
        fprintf(stderr, "encode: %s\n", err.msg);
        return 0;
    }
    int ok = n == nwant && memcmp(ids, want, n * sizeof *ids) == 0;
    if (!ok) {
        fprintf(stderr, "  %s: got", ic_tokenizer_name(t));
        for (size_t i = 0; i < n; i++)
            fprintf(stderr, " %u", ids[i]);
        fprintf(stderr, "\n");
    }
    uint64_t c = 0;
    ic_tokenizer_count(t, s, strlen(s), flags, &c, &err);
    ok = ok && c == n;
    /* decode gives the text back */
    char *back = NULL;
    size_t bl = 0;
    ok = ok && ic_tokenizer_decode(t, ids, n, &back, &bl, &err) == IC_OK && bl == strlen(s) &&
         memcmp(back, s, bl) == 0;
    free(back);
    free(ids);
    return ok;
}
#define IDS(t, s, fl, ...)                                                                  \
    do {                                                                                   \
        static const uint32_t w_[] = {__VA_ARGS__};                                        \
        CHECK(ids_equal(t, s, fl, w_, sizeof w_ / sizeof w_[0]));                          \
    } while (0)

/* expected ids: printed by tiktoken 1.0.22 (npm) encode_ordinary / encode(s, "all") */
static void known_ids(void)
{
    const char *a = "Hello, world! It's 2024.\n\n  indented\tTAB";
    IDS(o200k, a, 0, 13225, 11, 2375, 0, 7744, 220, 1323, 19, 364, 220, 1383, 23537, 19767, 2912);
    IDS(cl100k, a, 0, 9906, 11, 1917, 0, 1102, 596, 220, 2366, 19, 382, 220, 1280, 16243, 10473, 1905);
    const char *b = "中文字符，한국어 and émoji 👨‍👩‍👧 done.   ";
    IDS(o200k, b, 0, 10667, 67951, 979, 114854, 5959, 326, 1212, 3690, 4133, 61138, 101, 2524, 28823,
        102, 2524, 28823, 100, 4167, 13, 271);
    IDS(cl100k, b, 0, 16325, 17161, 49491, 3922, 24486, 89059, 255, 32179, 323, 4046, 6489, 7910,
        62904, 101, 378, 235, 9468, 239, 102, 378, 235, 9468, 239, 100, 2884, 13, 262);
    const char *c = "DON'T shout'LL   \r\n\r\n x";
    IDS(o200k, c, 0, 134882, 51532, 71252, 6, 7454, 271, 1414, 1215);
    IDS(cl100k, c, 0, 85741, 17773, 42223, 6, 4178, 262, 881, 865);
}

static void special_tokens(void)
{
    const char *s = "<|endoftext|> hi";
    IDS(o200k, s, 0, 27, 91, 419, 1440, 919, 91, 29, 5911);
    IDS(cl100k, s, 0, 27, 91, 8862, 728, 428, 91, 29, 15960);
    IDS(o200k, s, IC_TOK_ALLOW_SPECIAL, 199999, 5911);
    IDS(cl100k, s, IC_TOK_ALLOW_SPECIAL, 100257, 15960);
    IDS(cl100k, "<|fim_prefix|><|fim_suffix|>", IC_TOK_ALLOW_SPECIAL, 100258, 100260);
    CHECK_INT(ic_tokenizer_vocab_size(o200k), 200019);
    CHECK_INT(ic_tokenizer_vocab_size(cl100k), 100277);
}

static void empty_and_decode_errors(void)
{
    ic_error err = {0};
    uint64_t n = 99;
    CHECK_INT(ic_tokenizer_count(o200k, "", 0, 0, &n, &err), IC_OK);
    CHECK_INT(n, 0);
    uint32_t bad[] = {5, 250000};
    char *out = NULL;
    size_t ol;
    CHECK_INT(ic_tokenizer_decode(o200k, bad, 2, &out, &ol, &err), IC_ERR_INVALID);
    CHECK(strstr(err.msg, "250000") != NULL);
    CHECK(out == NULL);
}

/* invalid UTF-8 counts as the U+FFFD text a decoder would produce */
static void invalid_utf8(void)
{
    ic_error err = {0};
    static const char raw[] = "ab\xff\xfe cd \xe4\xb8 e\xf0\x9f\x98 \xc3(\x80x\xed\xa0\x80";
    static const char rep[] = "ab\xef\xbf\xbd\xef\xbf\xbd cd \xef\xbf\xbd e\xef\xbf\xbd \xef\xbf\xbd("
                              "\xef\xbf\xbdx\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd";
    for (int k = 0; k < 2; k++) {
        const ic_tokenizer *t = k ? cl100k : o200k;
        uint32_t *a, *b;
        size_t na, nb;
        CHECK_INT(ic_tokenizer_encode(t, raw, sizeof raw - 1, 0, &a, &na, &err), IC_OK);
        CHECK_INT(ic_tokenizer_encode(t, rep, sizeof rep - 1, 0, &b, &nb, &err), IC_OK);
        CHECK(na == nb && memcmp(a, b, na * sizeof *a) == 0);
        free(a);
        free(b);
    }
    /* one bad byte (or a cut-short character, an overlong form, a surrogate) at every place of
     * texts of 1 to 40 characters, ASCII, Cyrillic or CJK and Devanagari around it: the short
     * texts' and the tails' quick checks and the 16-byte blocks' must see it (the ids are those
     * of the text with U+FFFD in its place) */
    static const char *const bad[] = {"\xff", "\x80", "\xc3", "\xe4\xb8", "\xed\xa0\x80",
                                      "\xe0\x9f\xbf", "\xe4(", "\xf0\x9f\x98"};
#define FFFD "\xef\xbf\xbd"
    static const char *const good[] = {FFFD, FFFD, FFFD, FFFD, FFFD FFFD FFFD, FFFD FFFD FFFD,
                                       FFFD "(", FFFD}; /* what a decoder makes of each */
#undef FFFD
    static const char *const wide[] = {"\xd0\x96", "\xe4\xb8\xad", "\xe0\xa4\x95"};
    int wrong = 0;
    for (int k = 0; k < 3; k++)
        for (size_t len = 1; len <= 40; len++)
            for (size_t at = 0; at < len; at++)
                for (size_t q = 0; q < sizeof bad / sizeof bad[0]; q++) {
                    char raw2[160], rep2[160];
                    size_t bl = strlen(bad[q]), gl = strlen(good[q]), rl = 0, wl = 0;
                    for (size_t i = 0; i < len; i++) {
                        const char *w = k == 2 ? wide[1 + i % 4 / 2] : wide[0];
                        size_t ww = strlen(w);
                        if (i == at) {
                            memcpy(raw2 + rl, bad[q], bl);
                            memcpy(rep2 + wl, good[q], gl);
                            rl += bl, wl += gl;
                        } else if (k && i % (5 - (size_t)k) != 1) {
                            memcpy(raw2 + rl, w, ww); /* a Cyrillic, CJK or Devanagari letter */
                            memcpy(rep2 + wl, w, ww);
                            rl += ww, wl += ww;
                        } else {
                            raw2[rl++] = rep2[wl++] = (char)('a' + i % 26);
                        }
                    }
                    uint64_t ca = 0;
                    uint32_t *a = NULL, *b = NULL;
                    size_t na = 0, nb = 0;
                    ic_tokenizer_count(o200k, raw2, rl, 0, &ca, &err);
                    ic_tokenizer_encode(o200k, raw2, rl, 0, &a, &na, &err);
                    ic_tokenizer_encode(o200k, rep2, wl, 0, &b, &nb, &err);
                    if (ca != nb || na != nb || memcmp(a, b, na * sizeof *a))
                        wrong++;
                    free(a);
                    free(b);
                }
    CHECK_INT(wrong, 0);
    /* random bytes: no crash, count == number of ids */
    unsigned char *buf = malloc(1 << 20);
    uint32_t x = 12345;
    for (size_t i = 0; i < 1 << 20; i++) {
        x = x * 1103515245u + 12345u;
        buf[i] = (unsigned char)(x >> 16);
    }
    uint64_t c;
    uint32_t *ids;
    size_t n;
    CHECK_INT(ic_tokenizer_count(o200k, (char *)buf, 1 << 20, 0, &c, &err), IC_OK);
    CHECK_INT(ic_tokenizer_encode(o200k, (char *)buf, 1 << 20, 0, &ids, &n, &err), IC_OK);
    CHECK_INT(c, n);
    free(ids);
    free(buf);
}

/* Invalid UTF-8 is found by the pre-split as it goes, and the text encoded again once repaired:
 * one bad byte far into a long text (after many batches of pieces, past a special token, in a
 * text large enough for a cache of its own, or one that count_many splits over several batches)
 * gives the ids of the repaired text, and the counts agree */
static void invalid_utf8_late(void)
{
    ic_error err = {0};
    static const char *const words[] = {" the", " Мурманская", " 中文字", "42", ", ", "\n",
                                        " नमस्ते", "<|endoftext|>"};
    static const size_t sizes[] = {300, 5000, 40000};
    static const size_t at_pct[] = {0, 50, 99, 100};
    int wrong = 0;
    for (int k = 0; k < 2; k++) {
        const ic_tokenizer *t = k ? cl100k : o200k;
        ic_tokenizer_counter *c = NULL;
        CHECK_INT(ic_tokenizer_counter_new(&c, t, 0, &err), IC_OK);
        for (size_t z = 0; z < sizeof sizes / sizeof *sizes; z++)
            for (size_t a = 0; a < sizeof at_pct / sizeof *at_pct; a++)
                for (unsigned fl = 0; fl <= IC_TOK_ALLOW_SPECIAL; fl++) {
                    char *raw = malloc(sizes[z] + 64), *rep = malloc(sizes[z] + 64);
                    size_t rl = 0, wl = 0, bad_at = sizes[z] * at_pct[a] / 100;
                    uint32_t x = (uint32_t)(z * 7 + a);
                    while (rl < sizes[z]) {
                        if (rl >= bad_at) { /* (size_t)-1 once written */
                            raw[rl++] = '\xff';
                            memcpy(rep + wl, "\xef\xbf\xbd", 3);
                            wl += 3;
                            bad_at = (size_t)-1;
                        }
                        x = x * 1103515245u + 12345u;
                        const char *w = words[(x >> 16) % (sizeof words / sizeof *words)];
                        memcpy(raw + rl, w, strlen(w));
                        memcpy(rep + wl, w, strlen(w));
                        rl += strlen(w), wl += strlen(w);
                    }
                    if (bad_at != (size_t)-1) { /* at the very end */
                        raw[rl++] = '\xff';
                        memcpy(rep + wl, "\xef\xbf\xbd", 3);
                        wl += 3;
                    }
                    uint32_t *ia = NULL, *ib = NULL;
                    size_t na = 0, nb = 0;
                    uint64_t ca = 0, cc = 0, cr = 0;
                    CHECK_INT(ic_tokenizer_encode(t, raw, rl, fl, &ia, &na, &err), IC_OK);
                    CHECK_INT(ic_tokenizer_encode(t, rep, wl, fl, &ib, &nb, &err), IC_OK);
                    CHECK_INT(ic_tokenizer_count(t, raw, rl, fl, &ca, &err), IC_OK);
                    CHECK_INT(ic_tokenizer_counter_count(c, raw, rl, fl, &cc, &err), IC_OK);
                    CHECK_INT(ic_tokenizer_count(t, rep, wl, fl, &cr, &err), IC_OK);
                    /* after a valid text, so that this one starts inside a batch */
                    const char *many[3] = {" a b c", raw, " d"};
                    size_t ml[3] = {6, rl, 2}, done = 0;
                    uint64_t mc[3] = {0, 0, 0};
                    CHECK_INT(ic_tokenizer_counter_count_many(c, many, ml, 3, fl, mc, &done, &err),
                              IC_OK);
                    if (na != nb || memcmp(ia, ib, na * sizeof *ia) || ca != nb || cc != nb ||
                        mc[1] != nb || cr != nb || mc[2] != 1) {
                        if (wrong++ < 3)
                            fprintf(stderr,
                                    "  %s %zu bytes, bad byte at %zu%%, flags %u: encode %zu, "
                                    "repaired %zu, count %llu, counter %llu, many %llu\n",
                                    ic_tokenizer_name(t), rl, at_pct[a], fl, na, nb,
                                    (unsigned long long)ca, (unsigned long long)cc,
                                    (unsigned long long)mc[1]);
                    }
                    free(ia);
                    free(ib);
                    free(raw);
                    free(rep);
                }
        ic_tokenizer_counter_free(c);
    }
    CHECK_INT(wrong, 0);
}

/* ---- the scanners against PCRE2 running the regexes verbatim ---- */

/* White_Space spelled out: PCRE2's \s (UCP) leaves out U+0085, Rust's includes it */
#define WSC "\\t\\n\\x{0B}\\f\\r \\x{85}\\x{A0}\\x{1680}\\x{2000}-\\x{200A}\\x{2028}\\x{2029}\\x{202F}\\x{205F}\\x{3000}"
static const char pat_cl100k[] =
    "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^" WSC
    "\\p{L}\\p{N}]+[\\r\\n]*|[" WSC "]*[\\r\\n]+|[" WSC "]+(?![^" WSC "])|[" WSC "]+";
static const char pat_o200k[] =
    "[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]*[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]+"
    "(?i:'s|'t|'re|'ve|'m|'ll|'d)?|[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]+"
    "[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?|\\p{N}{1,3}| ?[^" WSC
    "\\p{L}\\p{N}]+[\\r\\n/]*|[" WSC "]*[\\r\\n]+|[" WSC "]+(?![^" WSC "])|[" WSC "]+";

/* characters whose classes are the same in PCRE2's Unicode 14 and tiktoken's Unicode 16 */
static const char *const alphabet[] = {
    "a", "b", "s", "t", "r", "e", "v", "m", "l", "d", "S", "T", "R", "E", "L", "D", "Z", "\xc5\xbf",
    "\xc7\x85", "\xca\xb0", "\xe4\xb8\xad", "\xcc\x81", "\xe0\xa4\x83", "1", "\xd9\xa3", "\xe2\x85\xab",
    "\xc2\xbd", " ", " ", " ", "\t", "\n", "\r", "\xc2\xa0", "\xe3\x80\x80", "\xc2\x85", "'", "'", ".",
    "/", "!", "\xf0\x9f\x98\x80", "\xe2\x80\x8d", "\xef\xbf\xbd", "\xc3\xa9", "\xc3\x89", "\xd0\x96",
    "\xd0\xb6", "\xe0\xb8\x81", "\xe0\xb8\xb4", "\xd7\x90", "\xe2\x80\x8b"};

static int compare_scanner(ic__pretok_kind kind, pcre2_code *re, pcre2_match_data *md,
                           const unsigned char *s, size_t n)
{
    size_t ends[4096], k = 0, i = 0;
    while (i < n) {
        size_t got = ic__pretok_split(kind, s, n, i, ends + k, 4096 - k);
        k += got;
        i = ends[k - 1];
    }
    size_t at = 0, j = 0;
    while (at < n) {
        int rc = pcre2_match(re, s, n, at, 0, md, NULL);
        if (rc < 0)
            return 0; /* every position matches some alternative */
        PCRE2_SIZE *ov = pcre2_get_ovector_pointer(md);
        if (ov[0] != at || j >= k || ends[j] != ov[1]) {
            fprintf(stderr, "  scanner %s differs at byte %zu on \"", kind == IC_PRETOK_O200K ? "o200k" : "cl100k", at);
            for (size_t q = 0; q < n; q++)
                fprintf(stderr, s[q] < 0x20 || s[q] >= 0x7f ? "\\x%02x" : "%c", s[q]);
            fprintf(stderr, "\": pcre2 [%zu,%zu) ours end %zu\n", (size_t)ov[0], (size_t)ov[1],
                    j < k ? ends[j] : 0);
            return 0;
        }
        at = ov[1];
        j++;
    }
    return j == k;
}

/* the two encodings' pre-split regexes as PCRE2 compiles them (the reference for the scanners) */
static bool compile_patterns(pcre2_code **ro, pcre2_code **rc)
{
    int ec;
    PCRE2_SIZE eo;
    uint32_t opts = PCRE2_UTF | PCRE2_UCP;
    *ro = pcre2_compile((PCRE2_SPTR)pat_o200k, PCRE2_ZERO_TERMINATED, opts, &ec, &eo, NULL);
    *rc = pcre2_compile((PCRE2_SPTR)pat_cl100k, PCRE2_ZERO_TERMINATED, opts, &ec, &eo, NULL);
    CHECK(*ro && *rc);
    return *ro && *rc;
}

static void scanners_match_pcre2(void)
{
    pcre2_code *ro, *rc;
    if (!compile_patterns(&ro, &rc))
        return;
    pcre2_jit_compile(ro, PCRE2_JIT_COMPLETE);
    pcre2_jit_compile(rc, PCRE2_JIT_COMPLETE);
    pcre2_match_data *md = pcre2_match_data_create(4, NULL);
    uint32_t x = 2026;
    unsigned char buf[256];
    size_t na = sizeof alphabet / sizeof *alphabet;
    int bad = 0;
    for (int iter = 0; iter < 60000 && bad < 3; iter++) {
        size_t n = 0;
        x = x * 1664525u + 1013904223u;
        int len = 1 + (int)(x >> 27);
        for (int c = 0; c < len; c++) {
            x = x * 1664525u + 1013904223u;
            const char *ch = alphabet[(x >> 8) % na];
            memcpy(buf + n, ch, strlen(ch));
            n += strlen(ch);
        }
        if (!compare_scanner(IC_PRETOK_O200K, ro, md, buf, n))
            bad++;
        if (!compare_scanner(IC_PRETOK_CL100K, rc, md, buf, n))
            bad++;
    }
    CHECK_INT(bad, 0);
    pcre2_match_data_free(md);
    pcre2_code_free(ro);
    pcre2_code_free(rc);
}

/* ---- the 2-byte characters: every code point 0x80..0x7FF through the scanners (against PCRE2,
 * where PCRE2's Unicode tables classify it as tiktoken's do) in many contexts; the short-token
 * table against the main one; the merge with 2-byte characters joined up front (bpe.c,
 * merge_small) against the heap merge, on every such character in many contexts and on random
 * mixed-script words ---- */

static size_t put_cp(unsigned char *b, uint32_t cp)
{
    if (cp < 0x80) {
        b[0] = (unsigned char)cp;
        return 1;
    }
    if (cp < 0x800) {
        b[0] = (unsigned char)(0xC0 | cp >> 6);
        b[1] = (unsigned char)(0x80 | (cp & 0x3F));
        return 2;
    }
    b[0] = (unsigned char)(0xE0 | cp >> 12);
    b[1] = (unsigned char)(0x80 | (cp >> 6 & 0x3F));
    b[2] = (unsigned char)(0x80 | (cp & 0x3F));
    return 3;
}

/* whether PCRE2 (Unicode 14) gives cp the classes tiktoken's tables (Unicode 16) give it */
static int pcre2_agrees(uint32_t cp)
{
    static const char *const cls[] = {"[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]",
                                      "[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]", "\\p{L}", "\\p{N}",
                                      "[" WSC "]"};
    static pcre2_code *re[5];
    static pcre2_match_data *md;
    int ec;
    PCRE2_SIZE eo;
    if (!md) {
        for (int k = 0; k < 5; k++)
            re[k] = pcre2_compile((PCRE2_SPTR)cls[k], PCRE2_ZERO_TERMINATED, PCRE2_UTF | PCRE2_UCP,
                                  &ec, &eo, NULL);
        md = pcre2_match_data_create(2, NULL);
    }
    unsigned char b[4];
    size_t n = put_cp(b, cp);
    static const unsigned bit[5] = {IC_U_UP, IC_U_LO, IC_U_L, IC_U_N, IC_U_WS};
    unsigned mine = ic__uni_class(cp), same = 1;
    for (int k = 0; k < 5; k++) {
        int rc = pcre2_match(re[k], b, n, 0, PCRE2_ANCHORED, md, NULL);
        unsigned theirs = rc >= 0 ? 1u : 0u, want = (mine & bit[k]) ? 1u : 0u;
        same &= theirs == want;
    }
    return (int)same;
}

static void two_byte_scanners(void)
{
    pcre2_code *ro, *rc;
    if (!compile_patterns(&ro, &rc))
        return;
    pcre2_match_data *md = pcre2_match_data_create(4, NULL);
    /* contexts: X is the code point under test, Y the previous/next one, M a combining mark */
    static const char *const ctx[] = {"X", " X", "XX", "aXb", "X's", "X'S", "X1", "1X", " XYX", "XY",
                                      "X\n", "\nX", "X.", ".X", "AXa", "aXA", "X\xcc\x81", "\xcc\x81X",
                                      "X\xd0\xb6", "\xd0\x96X", "'X", "X ", "  X", "X/", "X\xe4\xb8\xad"};
    int bad = 0, tested = 0;
    for (uint32_t cp = 0x80; cp < 0x800 && bad < 3; cp++) {
        if (!pcre2_agrees(cp) || !pcre2_agrees(cp < 0x7FF ? cp + 1 : 0x80))
            continue;
        tested++;
        for (size_t c = 0; c < sizeof ctx / sizeof *ctx; c++) {
            unsigned char b[64];
            size_t n = 0;
            for (const char *q = ctx[c]; *q; q++) {
                if (*q == 'X')
                    n += put_cp(b + n, cp);
                else if (*q == 'Y')
                    n += put_cp(b + n, cp < 0x7FF ? cp + 1 : 0x80);
                else
                    b[n++] = (unsigned char)*q;
            }
            if (!compare_scanner(IC_PRETOK_O200K, ro, md, b, n))
                bad++;
            if (!compare_scanner(IC_PRETOK_CL100K, rc, md, b, n))
                bad++;
        }
    }
    /* long runs of ASCII letters (the sixteen-byte fast path) ending in every way */
    static const char *const tail[] = {"", " ", "'s", "'LL", "\xd0\xb6", "\xcc\x81", "1", ".", "\n",
                                       "\xc3\x89", "\xe4\xb8\xad", "A", "a"};
    uint32_t x = 77;
    for (int it = 0; it < 20000 && bad < 3; it++) {
        unsigned char b[128];
        size_t n = 0;
        x = x * 1664525u + 1013904223u;
        if (x >> 31)
            b[n++] = ' ';
        size_t run = (x >> 8) % 70;
        int mode = (int)((x >> 20) % 4); /* lower, upper then lower, mixed, upper */
        for (size_t q = 0; q < run; q++) {
            x = x * 1664525u + 1013904223u;
            int up = mode == 3 || (mode == 1 && q < 2) || (mode == 2 && (x >> 30) == 0);
            b[n++] = (unsigned char)((up ? 'A' : 'a') + (x >> 8) % 26);
        }
        const char *tl = tail[(x >> 12) % (sizeof tail / sizeof *tail)];
        memcpy(b + n, tl, strlen(tl));
        n += strlen(tl);
        if (n == 0)
            continue;
        if (!compare_scanner(IC_PRETOK_O200K, ro, md, b, n))
            bad++;
        if (!compare_scanner(IC_PRETOK_CL100K, rc, md, b, n))
            bad++;
    }
    CHECK_INT(bad, 0);
    printf("2-byte scanners: %d of 1920 code points checked against PCRE2\n", tested);
    CHECK(tested > 1500); /* almost all of the 1,920 agree between Unicode 14 and 16 */
    pcre2_match_data_free(md);
    pcre2_code_free(ro);
    pcre2_code_free(rc);
}

static uint32_t mx_rng = 11;
static uint32_t mx_rand(void)
{
    mx_rng = mx_rng * 1664525u + 1013904223u;
    return mx_rng >> 8;
}

/* one merge against the heap merge (the direct simulation of tiktoken's rule) */
static int merge_agrees(const ic__ranks *r, const unsigned char *b, size_t n, ic__bpe_scratch *s1,
                        ic__bpe_scratch *s2)
{
    uint32_t o1[256], o2[256];
    if (n > 256)
        return 0;
    size_t g1 = ic__bpe_merge_heap(r, b, n, o1, s1);
    size_t g2 = ic__bpe_merge(r, b, n, o2, s2);
    size_t g3 = ic__bpe_merge(r, b, n, NULL, s2);
    return g1 && g1 == g2 && g2 == g3 && memcmp(o1, o2, g1 * sizeof *o1) == 0;
}

/* A rank file of the 256 bytes, then the extra tokens given (NULL-terminated), base64 */
static char *rank_text(const char *const *extra, size_t *len)
{
    static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t cap = 64 * 1024, n = 0;
    char *t = malloc(cap);
    unsigned rank = 0;
    for (int i = 0; i < 256 || extra[i - 256]; i++) {
        unsigned char tok[16];
        size_t tl = 0;
        if (i < 256)
            tok[tl++] = (unsigned char)i;
        else
            for (const char *c = extra[i - 256]; *c; c++)
                tok[tl++] = (unsigned char)*c;
        for (size_t q = 0; q < tl; q += 3) {
            uint32_t w = (uint32_t)tok[q] << 16 | (q + 1 < tl ? (uint32_t)tok[q + 1] << 8 : 0) |
                         (q + 2 < tl ? tok[q + 2] : 0);
            t[n++] = b64[w >> 18];
            t[n++] = b64[w >> 12 & 63];
            t[n++] = q + 1 < tl ? b64[w >> 6 & 63] : '=';
            t[n++] = q + 2 < tl ? b64[w & 63] : '=';
        }
        n += (size_t)snprintf(t + n, cap - n, " %u\n", rank++);
    }
    *len = n;
    return t;
}

static void premerge_check_rank_files(void)
{
    /* "xyz" is not two lower-ranked tokens joined ("xy", "yz" are no tokens): no pre-merge */
    static const char *const trained[] = {"ab", "abc", "xy", "xyz", NULL};
    static const char *const odd[] = {"ab", "abc", "xyz", NULL};
    const char *const *sets[2] = {trained, odd};
    for (int k = 0; k < 2; k++) {
        size_t len;
        char *text = rank_text(sets[k], &len);
        ic__ranks r;
        ic_error err = {0};
        CHECK_INT(ic__ranks_load(&r, text, len, "test.tiktoken", &err), IC_OK);
        CHECK(r.e2 != NULL);
        ic__ranks_check_premerge(&r);
        CHECK((r.e2 != NULL) == (k == 0));
        CHECK((r.c3 != NULL) == (k == 0));
        ic__ranks_free(&r);
        free(text);
    }
}

/* A small vocabulary (tokens in rank order, BPE-trained, so the pre-merge and the cut are on):
 * text merges into want tokens by tiktoken's rule (the heap merge), and the merge agrees */
static void small_vocab_merges(const char *const *tokens, const char *text_in, size_t want)
{
    size_t len;
    char *text = rank_text(tokens, &len);
    ic__ranks r;
    ic_error err = {0};
    CHECK_INT(ic__ranks_load(&r, text, len, "test.tiktoken", &err), IC_OK);
    ic__ranks_check_premerge(&r);
    CHECK(r.c3 != NULL && r.w6 != NULL);
    ic__bpe_scratch s1 = {0}, s2 = {0};
    const unsigned char *b = (const unsigned char *)text_in;
    size_t n = strlen(text_in);
    CHECK_INT(ic__bpe_merge_heap(&r, b, n, NULL, &s1), want);
    CHECK(merge_agrees(&r, b, n, &s1, &s2));
    ic__bpe_scratch_free(&s1);
    ic__bpe_scratch_free(&s2);
    ic__ranks_free(&r);
    free(text);
}

/* A 3-byte character joined up front must not be one that a token across its edge takes apart
 * first: small vocabularies where a token starts with the character's last two bytes (then an
 * ASCII byte, or a 3-byte lead) or ends with its first two (after an ASCII byte, or a
 * continuation byte) and ranks below the character. The shipped encodings have no such case
 * where it matters; a rank file could. */
static void premerge_char3_edges(void)
{
    static const struct {
        const char *tokens[5];
        const char *text;
        size_t want; /* tokens tiktoken's rule gives */
    } cases[] = {
        {{"\xbe\xb3", "\xbe\xb3Z", "\xe6\xbe", "\xe6\xbe\xb3", NULL}, "\xe6\xbe\xb3Z", 2},
        {{"\xbe\xb3", "\xbe\xb3\xe9", "\xe6\xbe", "\xe6\xbe\xb3", NULL}, "\xe6\xbe\xb3\xe9\x97\xa8", 4},
        {{"\xe6\xbe", "Z\xe6\xbe", "\xe6\xbe\xb3", NULL}, "Z\xe6\xbe\xb3", 2},
        {{"\xe6\xbe", "\xad\xe6\xbe", "\xe6\xbe\xb3", NULL}, "\xe4\xb8\xad\xe6\xbe\xb3", 4},
    };
    for (size_t k = 0; k < sizeof cases / sizeof *cases; k++)
        small_vocab_merges(cases[k].tokens, cases[k].text, cases[k].want);
}

/* Two whole 3-byte characters X Y start a new segment of the merge only when no token has X Y
 * inside it, not merely when X Y is no token: with "YZ" and "XYZ" tokens (XYZ = X + YZ), "XYZ"
 * merges into one token although "XY" is none; without "XYZ" it is two, cut or not. */
static void premerge_char3_cut(void)
{
#define X3 "\xe4\xb8\xad"
#define Y3 "\xe6\x96\x87"
#define Z3 "\xe5\xad\x97"
    static const struct {
        const char *tokens[10];
        const char *text;
        size_t want;
    } cases[] = {
        {{"\xe4\xb8", X3, "\xe6\x96", Y3, "\xe5\xad", Z3, Y3 Z3, X3 Y3 Z3, NULL}, X3 Y3 Z3, 1},
        {{"\xe4\xb8", X3, "\xe6\x96", Y3, "\xe5\xad", Z3, Y3 Z3, X3 Y3 Z3, NULL}, Z3 X3 Y3 Z3 X3, 3},
        {{"\xe4\xb8", X3, "\xe6\x96", Y3, "\xe5\xad", Z3, Y3 Z3, NULL}, X3 Y3 Z3, 2},
        {{"\xe4\xb8", X3, "\xe6\x96", Y3, "\xe5\xad", Z3, X3 Y3, Z3 X3, NULL}, Z3 X3 Y3 Z3 X3 Y3, 4},
    };
#undef X3
#undef Y3
#undef Z3
    for (size_t k = 0; k < sizeof cases / sizeof *cases; k++)
        small_vocab_merges(cases[k].tokens, cases[k].text, cases[k].want);
}

static void short_table_and_premerge(void)
{
    static const char *const files[] = {"o200k_base.tiktoken", "cl100k_base.tiktoken"};
    /* neighbours: ASCII letters, space, apostrophe, digits, combining marks, Cyrillic, Greek,
     * Arabic, Hebrew, Armenian, Latin-1, CJK, Devanagari */
    static const uint32_t near[] = {'a', 'n', 'E', ' ', '\'', '1', 0x301, 0x308, 0x430, 0x43E,
                                    0x456, 0x3B1, 0x627, 0x644, 0x5D0, 0x561, 0xE9, 0xDF,
                                    0x4E2D, 0x915, 0x94D};
    size_t nn = sizeof near / sizeof *near;
    for (int f = 0; f < 2; f++) {
        ic__ranks r;
        ic_error err = {0};
        size_t len;
        const unsigned char *data = ic__embedded(files[f], &len);
        if (!data || ic__ranks_load(&r, (const char *)data, len, files[f], &err) != IC_OK) {
            CHECK(0);
            continue;
        }
        CHECK(r.shortb != NULL && r.e2 != NULL);
        /* the pre-merge's condition holds for the shipped encodings: the check keeps it */
        ic__ranks_check_premerge(&r);
        CHECK(r.e2 != NULL && r.s2 != NULL);
        /* every token is found with its rank (the short table for 3 or 4 bytes, the filter and
         * the main table otherwise); random 3- and 4-byte strings get the main table's answer */
        size_t wrong = 0;
        for (uint32_t id = 0; id < r.n; id++) {
            size_t l = r.off[id + 1] - r.off[id];
            wrong += ic__rank_of(&r, r.blob + r.off[id], l) != id;
        }
        for (int it = 0; it < 200000; it++) {
            unsigned char b[4];
            size_t l = 3 + (size_t)(it & 1);
            uint32_t id = mx_rand() % r.n;
            size_t tl = r.off[id + 1] - r.off[id];
            for (size_t i = 0; i < l; i++) /* bytes from tokens, so that many are tokens */
                b[i] = i < tl && it % 3 ? r.blob[r.off[id] + i] : (unsigned char)mx_rand();
            uint64_t k = ic__key(b, l);
            wrong += ic__rank_of(&r, b, l) != ic__probe(&r, b, l, k, ic__hash64(k, l));
        }
        CHECK_INT(wrong, 0);
        /* tokens of 9 to 12 bytes are found by key and ext alone, longer ones through the blob:
         * a token of 5 to 24 bytes with one byte changed (at each place in turn), and cut short
         * or extended by a byte, is found only as a token with exactly those bytes */
        for (uint32_t id = 0; id < r.n; id++) {
            size_t l = r.off[id + 1] - r.off[id];
            if (l < 5 || l > 24 || id % 3)
                continue;
            unsigned char b[32];
            for (size_t i = 0; i <= l; i++) {
                memcpy(b, r.blob + r.off[id], l);
                b[l] = (unsigned char)mx_rand();
                size_t bl = i < l ? l : l + 1; /* i == l: one byte more */
                if (i < l)
                    b[i] ^= (unsigned char)(1 + mx_rand() % 255);
                for (size_t cut = 0; cut < 2; cut++) {
                    size_t ql = bl - cut;
                    uint32_t x = ic__rank_of(&r, b, ql), y = ic__rank_of_piece(&r, b, ql);
                    wrong += x != y;
                    wrong += x != IC_RANK_NONE &&
                             (r.off[x + 1] - r.off[x] != ql || memcmp(r.blob + r.off[x], b, ql));
                }
            }
        }
        CHECK_INT(wrong, 0);
        ic__bpe_scratch s1 = {0}, s2 = {0};
        size_t bad = 0;
        /* every 2-byte code point, alone and between neighbours */
        for (uint32_t cp = 0x80; cp < 0x800; cp++) {
            for (size_t a = 0; a < nn; a++)
                for (int form = 0; form < 6; form++) {
                    unsigned char b[64];
                    size_t n = 0;
                    uint32_t y = near[(a + (size_t)form) % nn];
                    switch (form) {
                    case 0: n += put_cp(b, cp); break;
                    case 1: n += put_cp(b, near[a]); n += put_cp(b + n, cp); break;
                    case 2: n += put_cp(b, cp); n += put_cp(b + n, near[a]); break;
                    case 3: n += put_cp(b, near[a]); n += put_cp(b + n, cp); n += put_cp(b + n, y); break;
                    case 4: n += put_cp(b, cp); n += put_cp(b + n, cp); n += put_cp(b + n, near[a]);
                            n += put_cp(b + n, cp); break;
                    default: n += put_cp(b, ' '); n += put_cp(b + n, cp); n += put_cp(b + n, near[a]);
                             n += put_cp(b + n, near[a]); n += put_cp(b + n, cp); break;
                    }
                    if (!merge_agrees(&r, b, n, &s1, &s2) && bad++ < 3)
                        fprintf(stderr, "  %s: U+%04X form %d\n", files[f], cp, form);
                }
        }
        /* random words of 2-byte letters of one script or mixed, with ASCII, marks, digits */
        static const uint32_t lo[] = {0x430, 0x3B1, 0x620, 0x5D0, 0x561, 0xC0, 0x400, 0x300, 0x80};
        static const uint32_t span[] = {32, 25, 43, 27, 38, 64, 96, 112, 0x780};
        for (int it = 0; it < 100000; it++) {
            unsigned char b[64];
            size_t n = 0;
            int sc = (int)(mx_rand() % 9);
            while (n + 3 <= 48) {
                uint32_t x = mx_rand() % 16;
                uint32_t cp = x < 11 ? lo[sc] + mx_rand() % span[sc]
                            : x < 13 ? (uint32_t)"aeiostn' 1"[mx_rand() % 10]
                            : x < 15 ? lo[mx_rand() % 9] + mx_rand() % 24
                                     : 0x300 + mx_rand() % 0x70;
                n += put_cp(b + n, cp);
                if (mx_rand() % 12 == 0)
                    break;
            }
            if (!merge_agrees(&r, b, n, &s1, &s2) && bad++ < 3)
                fprintf(stderr, "  %s: random word of script %d, %zu bytes\n", files[f], sc, n);
        }
        /* ASCII words (where most pre-merged pairs are), as text has them and random; and
         * pieces made of real tokens' bytes */
        for (int it = 0; it < 200000; it++) {
            unsigned char b[64];
            size_t n = 0, want = 2 + mx_rand() % (it % 4 ? 14 : 46);
            if (mx_rand() % 2)
                b[n++] = " ,.'(-\"/"[mx_rand() % 8];
            while (n < want) {
                if (it % 3 == 2) { /* a token's bytes */
                    uint32_t id = mx_rand() % r.n;
                    for (uint32_t q = r.off[id]; q < r.off[id + 1] && n < want; q++)
                        b[n++] = r.blob[q];
                } else {
                    const char *abc = it % 3 ? "etaoinshrdlucmfwypvbgkqjxz" : "abcdefghijklmnopqrstuvwxyz";
                    unsigned c = (unsigned char)abc[mx_rand() % (it % 3 ? 12 + mx_rand() % 15 : 26)];
                    b[n++] = (unsigned char)(mx_rand() % 7 == 0 ? c - 32 : c);
                }
            }
            if (!merge_agrees(&r, b, n, &s1, &s2) && bad++ < 3)
                fprintf(stderr, "  %s: word %.*s\n", files[f], (int)n, (const char *)b);
        }
        /* 3-byte characters (CJK, kana, Hangul, Indic, Thai; the pre-merge of whole characters):
         * every one that is a token between varied neighbours, then words of them up to 130
         * bytes (the short merge takes up to 128) with the blocks' other characters, ASCII,
         * spaces and 2-byte letters among them */
        uint32_t *tok3 = malloc(r.n * sizeof *tok3);
        size_t n3 = 0;
        for (uint32_t id = 0; tok3 && id < r.n; id++) {
            const unsigned char *t = r.blob + r.off[id];
            if (r.off[id + 1] - r.off[id] == 3 && (t[0] & 0xF0) == 0xE0 && (t[1] & 0xC0) == 0x80 &&
                (t[2] & 0xC0) == 0x80)
                tok3[n3++] = (uint32_t)(t[0] & 15) << 12 | (uint32_t)(t[1] & 63) << 6 | (t[2] & 63);
        }
        CHECK(n3 > 900);
        static const uint32_t blk[] = {0x4E00, 0x3040, 0x30A0, 0xAC00, 0x900, 0x980, 0xE00, 0x3000, 0xFF00};
        static const uint32_t blen[] = {0x5200, 0x60, 0x60, 0x2BA4, 0x80, 0x80, 0x80, 0x40, 0x60};
        size_t nb = sizeof blk / sizeof *blk;
        for (size_t k = 0; k < n3; k++)
            for (size_t a = 0; a < nn; a += 2)
                for (int form = 0; form < 4; form++) {
                    unsigned char b[64];
                    size_t n = 0;
                    uint32_t cp = tok3[k], y = tok3[(k * 7 + a + (size_t)form) % n3];
                    switch (form) {
                    case 0: n += put_cp(b, near[a]); n += put_cp(b + n, cp); break;
                    case 1: n += put_cp(b, cp); n += put_cp(b + n, near[a]); break;
                    case 2: n += put_cp(b, y); n += put_cp(b + n, cp); n += put_cp(b + n, near[a]); break;
                    default: n += put_cp(b, near[a]); n += put_cp(b + n, cp); n += put_cp(b + n, y);
                             n += put_cp(b + n, cp); break;
                    }
                    if (!merge_agrees(&r, b, n, &s1, &s2) && bad++ < 3)
                        fprintf(stderr, "  %s: U+%04X form %d\n", files[f], cp, form);
                }
        for (int it = 0; n3 && it < 100000; it++) {
            unsigned char b[160];
            size_t n = 0, want = 3 + mx_rand() % (it % 4 ? 60 : 128);
            size_t sb = mx_rand() % nb;
            while (n < want) {
                uint32_t x = mx_rand() % 20, cp;
                if (x < 13)
                    cp = tok3[mx_rand() % (it % 2 ? 200 : n3)]; /* frequent ones, or any */
                else if (x < 17) { /* this word's block, sometimes another */
                    size_t bk = x < 16 ? sb : mx_rand() % nb;
                    cp = blk[bk] + mx_rand() % blen[bk];
                }
                else if (x < 19)
                    cp = (uint32_t)"aeiost n1,.%"[mx_rand() % 12];
                else
                    cp = near[mx_rand() % nn];
                n += put_cp(b + n, cp);
            }
            if (!merge_agrees(&r, b, n, &s1, &s2) && bad++ < 3)
                fprintf(stderr, "  %s: 3-byte word of %zu bytes\n", files[f], n);
        }
        /* the contexts the character's edge tables are for: each token that begins with a
         * character's last two bytes or ends with a character's first two, completed by every
         * character that fits (a token ending in " \xe0\xa4" before any Devanagari letter) */
        for (uint32_t id = 0; id < r.n; id++) {
            const unsigned char *t = r.blob + r.off[id];
            size_t l = r.off[id + 1] - r.off[id];
            unsigned char b[80];
            if (l < 3 || l + 3 > sizeof b)
                continue;
            for (unsigned x = 0; x < 64; x++) {
                size_t n = 0;
                if ((t[0] & 0xC0) == 0x80 && (t[1] & 0xC0) == 0x80 && x < 16) {
                    b[n++] = (unsigned char)(0xE0 | x); /* the character ending in t[0] t[1] */
                    memcpy(b + n, t, l);
                    n += l;
                } else if ((t[l - 2] & 0xF0) == 0xE0 && (t[l - 1] & 0xC0) == 0x80) {
                    memcpy(b, t, l);
                    n = l;
                    b[n++] = (unsigned char)(0x80 | x); /* the character t[l - 2] t[l - 1] x */
                }
                if (n && !merge_agrees(&r, b, n, &s1, &s2) && bad++ < 3)
                    fprintf(stderr, "  %s: edge of token %u\n", files[f], (unsigned)id);
            }
        }
        free(tok3);
        CHECK_INT(bad, 0);
        ic__bpe_scratch_free(&s1);
        ic__bpe_scratch_free(&s2);
        ic__ranks_free(&r);
    }
}

/* ---- linear time: pathological inputs, 1 MB vs 100 KB of the same (bench/tokenizer.sh times
 * the 10 MB versions; kept small here so the suite stays fast under ASan and valgrind) ---- */

static double secs(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void fill(char *b, size_t n, int kind)
{
    uint32_t x = 99;
    for (size_t i = 0; i < n; i++) {
        x = x * 1664525u + 1013904223u;
        switch (kind) {
        case 0: b[i] = 'a'; break;                              /* one repeated character */
        case 1: b[i] = ' '; break;                              /* spaces */
        case 2: b[i] = (char)('0' + (x >> 28) % 10); break;     /* digits */
        case 3: b[i] = (char)('a' + (x >> 24) % 26); break;     /* one giant word */
        default: b[i] = (char)(x >> 24); break;                 /* random bytes */
        }
    }
}

static void linear_time(void)
{
    static const char *const names[] = {"one char", "spaces", "digits", "giant word", "random bytes"};
    size_t big = 1000u << 10, small = 100u << 10;
    char *b = malloc(big);
    ic_error err = {0};
    /* the backtracking tables are built on the first piece of 2048 bytes or more: not part of
     * the timing */
    fill(b, 4096, 0);
    uint64_t warm = 0;
    CHECK_INT(ic_tokenizer_count(o200k, b, 4096, 0, &warm, &err), IC_OK);
    CHECK_INT(ic_tokenizer_count(cl100k, b, 4096, 0, &warm, &err), IC_OK);
    for (int kind = 0; kind < 5; kind++) {
        double t[2];
        for (int k = 0; k < 2; k++) {
            size_t n = k ? big : small;
            fill(b, n, kind);
            uint64_t c = 0;
            double t0 = secs();
            for (int e = 0; e < 2; e++)
                CHECK_INT(ic_tokenizer_count(e ? cl100k : o200k, b, n, 0, &c, &err), IC_OK);
            t[k] = secs() - t0;
            CHECK(c > 0);
        }
        /* linear: x10 input ~ x10 time; quadratic would be x100. Allow x40 for cache effects and
         * a loaded machine (timings under 50 ms are too small to judge). */
        double ratio = t[1] / (t[0] > 0.005 ? t[0] : 0.005);
        printf("linear time, %-12s: 100 KB %.3f s, 1 MB %.3f s (x%.1f)\n", names[kind], t[0], t[1], ratio);
        CHECK(t[1] < 0.05 || ratio < 40);
    }
    free(b);
}

/* ---- backtracking BPE (bpe_backtrack.c) against the heap merge, the direct simulation of
 * tiktoken's rule, on every token of both vocabularies, random strings over small alphabets
 * (where merges compete most) and long runs ---- */

static uint32_t bt_rng = 7;
static uint32_t bt_rand(void)
{
    bt_rng = bt_rng * 1664525u + 1013904223u;
    return bt_rng >> 8;
}

static void backtracking_matches_heap(void)
{
    static const char *const files[] = {"o200k_base.tiktoken", "cl100k_base.tiktoken"};
    static const char *const alphabets[] = {
        "ab", " ", "a", "0123456789", "abcdefghijklmnopqrstuvwxyz", " \n\t", "aab ", "ab \n",
        "\xe4\xb8\x80\xe4\xba\x8c\xe4\xb8\x89", "\xd0\xb0\xd0\xb1\xd0\xb2 ", "=-*#", "\xe0\xa4\x95\xe0\xa5\x8d"};
    size_t cap = 40000;
    unsigned char *b = malloc(cap);
    uint32_t *o1 = malloc(cap * sizeof *o1), *o2 = malloc(cap * sizeof *o2);
    for (int f = 0; f < 2; f++) {
        ic__ranks r;
        ic_error err = {0};
        size_t len;
        const unsigned char *data = ic__embedded(files[f], &len);
        CHECK(data != NULL);
        if (!data || ic__ranks_load(&r, (const char *)data, len, files[f], &err) != IC_OK) {
            ic_t_bad = 1;
            continue;
        }
        ic__bt *bt = ic__bt_build(&r);
        CHECK(bt != NULL);
        if (!bt) {
            ic__ranks_free(&r);
            continue;
        }
        ic__bpe_scratch s1 = {0}, s2 = {0};
        /* a token is matched by the backtracking encoder iff BPE of its bytes is the token */
        size_t wrong = 0, reachable = 0;
        for (uint32_t id = 0; id < r.n; id++) {
            size_t l = r.off[id + 1] - r.off[id];
            size_t g = ic__bpe_merge_heap(&r, r.blob + r.off[id], l, o1, &s1);
            int reach = g == 1 && o1[0] == id;
            reachable += (size_t)reach;
            wrong += (size_t)(reach != ic__bt_usable(bt, id));
        }
        CHECK_INT(wrong, 0);
        CHECK(reachable > r.n / 2);
        /* random strings: short ones in bulk, a few long ones */
        size_t bad = 0;
        for (int it = 0; it < 20000; it++) {
            size_t n = 1 + bt_rand() % (it < 40 ? cap : 80);
            size_t na = sizeof alphabets / sizeof *alphabets;
            size_t a = bt_rand() % (na + 1);
            for (size_t i = 0; i < n; i++)
                b[i] = a == na ? (unsigned char)bt_rand()
                               : (unsigned char)alphabets[a][bt_rand() % strlen(alphabets[a])];
            size_t g1 = ic__bpe_merge_heap(&r, b, n, o1, &s1);
            size_t g2 = ic__bt_encode(&r, bt, b, n, o2, &s2);
            if (g1 == 0 || g1 != g2 || memcmp(o1, o2, g1 * sizeof *o1) != 0) {
                if (bad++ < 3)
                    fprintf(stderr, "  %s: alphabet %zu, %zu bytes: %zu vs %zu tokens\n", files[f], a,
                            n, g1, g2);
            }
        }
        CHECK_INT(bad, 0);
        /* runs of one byte, every length up to 600 and a long one */
        for (int c = 0; c < 3; c++)
            for (size_t n = 1; n <= 600; n++) {
                memset(b, c == 0 ? 'a' : c == 1 ? ' ' : '\n', n);
                size_t g1 = ic__bpe_merge_heap(&r, b, n, o1, &s1);
                size_t g2 = ic__bt_encode(&r, bt, b, n, o2, &s2);
                CHECK(g1 == g2 && memcmp(o1, o2, g1 * sizeof *o1) == 0);
            }
        memset(b, ' ', cap);
        size_t g1 = ic__bpe_merge_heap(&r, b, cap, o1, &s1);
        size_t g2 = ic__bt_encode(&r, bt, b, cap, o2, &s2);
        CHECK(g1 == g2 && memcmp(o1, o2, g1 * sizeof *o1) == 0);
        ic__bpe_scratch_free(&s1);
        ic__bpe_scratch_free(&s2);
        ic__bt_free(bt);
        ic__ranks_free(&r);
    }
    free(b);
    free(o1);
    free(o2);
}

/* ---- the backtracking tables are built on first use, once, while other threads count ---- */

typedef struct race_arg {
    const ic_tokenizer *t;
    const char *text;
    size_t len;
    uint64_t count;
    ic_status st;
} race_arg;

static void *race_count(void *p)
{
    race_arg *a = p;
    ic_error err = {0};
    a->st = ic_tokenizer_count(a->t, a->text, a->len, 0, &a->count, &err);
    return NULL;
}

static void lazy_tables_threads(void)
{
    ic_tokenizer *t = NULL;
    ic_error err = {0};
    CHECK_INT(ic_tokenizer_open(&t, "o200k_base", &err), IC_OK);
    if (!t)
        return;
    size_t n = 10000;
    char *text = malloc(n);
    memset(text, 'a', n); /* one 10000-byte piece: 1250 tokens of eight letters */
    pthread_t th[4];
    race_arg args[4];
    for (int i = 0; i < 4; i++) {
        args[i] = (race_arg){t, text, n, 0, IC_ERR_INVALID};
        CHECK_INT(pthread_create(&th[i], NULL, race_count, &args[i]), 0);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(th[i], NULL);
        CHECK_INT(args[i].st, IC_OK);
        CHECK_INT(args[i].count, 1250);
    }
    free(text);
    ic_tokenizer_free(t);
}

/* ---- chat counting: the OpenAI cookbook's worked examples ---- */

static const char cookbook[] =
    "{\"model\":\"gpt-4o\",\"messages\":["
    "{\"role\":\"system\",\"content\":\"You are a helpful, pattern-following assistant that translates corporate jargon into plain English.\"},"
    "{\"role\":\"system\",\"name\":\"example_user\",\"content\":\"New synergies will help drive top-line growth.\"},"
    "{\"role\":\"system\",\"name\":\"example_assistant\",\"content\":\"Things working well together will increase revenue.\"},"
    "{\"role\":\"system\",\"name\":\"example_user\",\"content\":\"Let's circle back when we have more bandwidth to touch base on opportunities for increased leverage.\"},"
    "{\"role\":\"system\",\"name\":\"example_assistant\",\"content\":\"Let's talk later when we're less busy about how to do better.\"},"
    "{\"role\":\"user\",\"content\":\"This late pivot means we don't have time to boil the ocean for the client deliverable.\"}]}";

static const char cookbook_tools[] =
    "{\"model\":\"gpt-4o\",\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"get_current_weather\","
    "\"description\":\"Get the current weather in a given location\",\"parameters\":{\"type\":\"object\","
    "\"properties\":{\"location\":{\"type\":\"string\",\"description\":\"The city and state, e.g. San Francisco, CA\"},"
    "\"unit\":{\"type\":\"string\",\"description\":\"The unit of temperature to return\",\"enum\":[\"celsius\",\"fahrenheit\"]}},"
    "\"required\":[\"location\"]}}}],\"messages\":[{\"role\":\"system\",\"content\":\"You are a helpful assistant that can answer to questions about the weather.\"},"
    "{\"role\":\"user\",\"content\":\"What's the weather like in San Francisco?\"}]}";

static uint64_t chat(const char *body, const char *model)
{
    ic_chat_count c;
    ic_error err = {0};
    if (ic_chat_count_request(body, strlen(body), model, &c, &err) != IC_OK) {
        fprintf(stderr, "chat: %s\n", err.msg);
        return 0;
    }
    CHECK(c.method == IC_COUNT_EXACT);
    CHECK(!c.approximate);
    return c.prompt_tokens;
}

static void cookbook_examples(void)
{
    /* "129 prompt tokens counted by the OpenAI API" (gpt-3.5-turbo, gpt-4), 124 (gpt-4o, -mini) */
    CHECK_INT(chat(cookbook, "gpt-3.5-turbo"), 129);
    CHECK_INT(chat(cookbook, "gpt-4-0613"), 129);
    CHECK_INT(chat(cookbook, "gpt-4o"), 124);
    CHECK_INT(chat(cookbook, "gpt-4o-mini"), 124);
    /* with tools: 105 (gpt-3.5-turbo, gpt-4), 101 (gpt-4o, gpt-4o-mini) */
    CHECK_INT(chat(cookbook_tools, "gpt-3.5-turbo"), 105);
    CHECK_INT(chat(cookbook_tools, "gpt-4"), 105);
    CHECK_INT(chat(cookbook_tools, "gpt-4o"), 101);
    CHECK_INT(chat(cookbook_tools, "gpt-4o-mini"), 101);
}

/* counts through an ic_count_cache (the gateway's way) equal those without, request after
 * request: the cookbook's examples for each model, then requests whose long system prompt
 * recurs (its words from the counters' caches the second time), and a plain text */
static void count_cache_matches(void)
{
    ic_count_cache *cc = ic_count_cache_new(0);
    CHECK(cc != NULL);
    ic_error err = {0};
    static const char *const models[] = {"gpt-4o", "gpt-4", "gpt-3.5-turbo", "claude-sonnet-4-5"};
    static const char *const reqs[2] = {cookbook, cookbook_tools};
    for (int round = 0; round < 2; round++)
        for (size_t m = 0; m < 4; m++)
            for (int r = 0; r < 2; r++) {
                ic_chat_count a, b;
                CHECK_INT(ic_chat_count_request(reqs[r], strlen(reqs[r]), models[m], &a, &err), IC_OK);
                CHECK_INT(ic_chat_count_request_in(cc, reqs[r], strlen(reqs[r]), models[m], &b, &err),
                          IC_OK);
                CHECK_INT(b.prompt_tokens, a.prompt_tokens);
                CHECK(b.method == a.method);
            }
    char *body = malloc(64 * 1024);
    for (int q = 0; q < 6; q++) {
        size_t w = (size_t)sprintf(body, "{\"model\":\"%s\",\"messages\":[{\"role\":\"system\","
                                          "\"content\":\"", q % 2 ? "gpt-4" : "gpt-4o");
        for (int k = 0; k < 300; k++)
            w += (size_t)sprintf(body + w, "Rule %d: answer in Русский, Ελληνικά or 中文 when asked; "
                                           "Donaudampfschifffahrt. ", k % 37);
        w += (size_t)sprintf(body + w, "\"},{\"role\":\"user\",\"content\":\"question %d\"}]}", q);
        ic_chat_count a, b;
        CHECK_INT(ic_chat_count_request(body, w, NULL, &a, &err), IC_OK);
        CHECK_INT(ic_chat_count_request_in(cc, body, w, NULL, &b, &err), IC_OK);
        CHECK_INT(b.prompt_tokens, a.prompt_tokens);
        CHECK(a.prompt_tokens > 5000);
        ic_text_count ta, tb;
        CHECK_INT(ic_count_text_for_model("gpt-4o", body, w, &ta, &err), IC_OK);
        CHECK_INT(ic_count_text_for_model_in(cc, "gpt-4o", body, w, &tb, &err), IC_OK);
        CHECK_INT(tb.tokens, ta.tokens);
    }
    free(body);
    /* many texts at once (an embeddings request's inputs): the total of one call each, with and
     * without the cache, exact and estimated, over more than one group of 256 */
    enum { NT = 700 };
    char *pool = malloc(NT * 64);
    const char *texts[NT];
    size_t lens[NT];
    static const char *const words[] = {"hello", " world", " Мурманская", " 中文", "\xff", " 42",
                                        "<|endoftext|>", " Donaudampfschifffahrt", ""};
    for (int i = 0; i < NT; i++) {
        char *p = pool + i * 64;
        size_t w = 0;
        for (int k = 0; k <= i % 4; k++)
            w += (size_t)sprintf(p + w, "%s", words[(i * 7 + k) % 9]);
        texts[i] = p;
        lens[i] = w;
    }
    for (size_t m = 0; m < 4; m++) {
        uint64_t want = 0;
        for (int i = 0; i < NT; i++) {
            ic_text_count t1;
            CHECK_INT(ic_count_text_for_model(models[m], texts[i], lens[i], &t1, &err), IC_OK);
            want += t1.tokens;
        }
        for (int with = 0; with < 2; with++) {
            ic_text_count all;
            CHECK_INT(ic_count_texts_for_model_in(with ? cc : NULL, models[m], texts, lens, NT,
                                                  &all, &err),
                      IC_OK);
            CHECK_INT(all.tokens, want);
            CHECK(all.method == (m == 3 ? IC_COUNT_RATIO : IC_COUNT_EXACT));
        }
    }
    ic_text_count none;
    CHECK_INT(ic_count_texts_for_model_in(cc, "gpt-4o", texts, lens, 0, &none, &err), IC_OK);
    CHECK_INT(none.tokens, 0);
    free(pool);
    /* both encodings' counters were made and used */
    for (int k = 0; k < 2; k++) {
        const ic_tokenizer_counter *ctr = ic__count_cache_counter(cc, k ? cl100k : o200k);
        CHECK(ctr != NULL && ic__counter_entries(ctr) > 0);
    }
    ic_count_cache_free(cc);
}

static void chat_parts_and_errors(void)
{
    ic_chat_count c;
    ic_error err = {0};
    const char *parts = "{\"model\":\"gpt-4o\",\"max_tokens\":50,\"messages\":[{\"role\":\"user\",\"content\":"
                        "[{\"type\":\"text\",\"text\":\"Hello\"},{\"type\":\"image_url\",\"image_url\":{\"url\":\"x\"}},"
                        "{\"type\":\"text\",\"text\":\" world\"}]}]}";
    CHECK_INT(ic_chat_count_request(parts, strlen(parts), NULL, &c, &err), IC_OK);
    /* 3 + "user"(1) + "Hello"(1) + " world"(1) + 3 */
    CHECK_INT(c.prompt_tokens, 9);
    CHECK(c.approximate);
    CHECK_INT(c.images, 1);
    CHECK(c.has_max_tokens && c.max_tokens == 50);
    /* a tool that is not a function: not counted, and reported */
    const char *web = "{\"model\":\"gpt-4o\",\"messages\":[{\"role\":\"user\",\"content\":\"Hi\"}],"
                      "\"tools\":[{\"type\":\"web_search\"}]}";
    CHECK_INT(ic_chat_count_request(web, strlen(web), NULL, &c, &err), IC_OK);
    CHECK_INT(c.prompt_tokens, 8); /* 3 + "user"(1) + "Hi"(1) + 3 */
    CHECK(c.approximate);
    CHECK_INT(c.other_parts, 1);
    CHECK_INT(c.tools, 0);
    const char *bad = "{\"model\":\"gpt-4o\",\"messages\":[{\"role\":\"user\",\"content\":42}]}";
    CHECK_INT(ic_chat_count_request(bad, strlen(bad), NULL, &c, &err), IC_ERR_INVALID);
    CHECK(strstr(err.msg, "messages[0].content") != NULL);
    const char *broken = "{\"model\":\"gpt-4o\",\n\"messages\":[}";
    CHECK_INT(ic_chat_count_request(broken, strlen(broken), NULL, &c, &err), IC_ERR_PARSE);
    CHECK(strstr(err.msg, "line 2") != NULL);
    /* one strict JSON object: text after it, comments, trailing commas refused; a byte order
     * mark and trailing whitespace taken */
    const char *refused[] = {"{\"model\":\"gpt-4o\",\"messages\":[]}\n{}",
                             "{\"model\":\"gpt-4o\",\"messages\":[]} x",
                             "{\"model\":\"gpt-4o\",\"messages\":[] // c\n}",
                             "{\"model\":\"gpt-4o\",\"messages\":[],}"};
    for (size_t i = 0; i < sizeof refused / sizeof *refused; i++)
        CHECK_INT(ic_chat_count_request(refused[i], strlen(refused[i]), NULL, &c, &err), IC_ERR_PARSE);
    const char *bom = "\xEF\xBB\xBF{\"model\":\"gpt-4o\",\"messages\":[]} \r\n";
    CHECK_INT(ic_chat_count_request(bom, strlen(bom), NULL, &c, &err), IC_OK);
    CHECK_INT(c.prompt_tokens, 3);
    CHECK_INT(c.choices, 1);
    /* enum values of any JSON type (a nullable enum): counted as their JSON text, approximate */
    const char *enums = "{\"model\":\"gpt-4o\",\"n\":4,\"messages\":[],\"tools\":[{\"type\":\"function\","
                        "\"function\":{\"name\":\"f\",\"parameters\":{\"properties\":{\"a\":"
                        "{\"enum\":[\"x\",null]}}}}}]}";
    CHECK_INT(ic_chat_count_request(enums, strlen(enums), NULL, &c, &err), IC_OK);
    CHECK(c.approximate && c.odd_params);
    CHECK_INT(c.choices, 4);
    uint64_t with_null = c.prompt_tokens;
    const char *enums2 = "{\"model\":\"gpt-4o\",\"messages\":[],\"tools\":[{\"type\":\"function\","
                         "\"function\":{\"name\":\"f\",\"parameters\":{\"properties\":{\"a\":"
                         "{\"enum\":[\"x\",\"null\"]}}}}}]}";
    CHECK_INT(ic_chat_count_request(enums2, strlen(enums2), NULL, &c, &err), IC_OK);
    CHECK(!c.approximate && !c.odd_params);
    CHECK_INT(c.prompt_tokens, with_null);
    /* a nullable type: its JSON text, approximate; the same count as that text given as a string */
    const char *types = "{\"model\":\"gpt-4o\",\"messages\":[],\"tools\":[{\"type\":\"function\","
                        "\"function\":{\"name\":\"f\",\"parameters\":{\"properties\":{\"a\":"
                        "{\"type\":[\"string\",\"null\"]}}}}}]}";
    CHECK_INT(ic_chat_count_request(types, strlen(types), NULL, &c, &err), IC_OK);
    CHECK(c.approximate && c.odd_params);
    uint64_t with_list = c.prompt_tokens;
    const char *types2 = "{\"model\":\"gpt-4o\",\"messages\":[],\"tools\":[{\"type\":\"function\","
                         "\"function\":{\"name\":\"f\",\"parameters\":{\"properties\":{\"a\":"
                         "{\"type\":\"[\\\"string\\\",\\\"null\\\"]\"}}}}}]}";
    CHECK_INT(ic_chat_count_request(types2, strlen(types2), NULL, &c, &err), IC_OK);
    CHECK(!c.approximate);
    CHECK_INT(c.prompt_tokens, with_list);
    const char *rf = "{\"model\":\"gpt-4o\",\"messages\":[],\"response_format\":{\"type\":\"json_object\"}}";
    CHECK_INT(ic_chat_count_request(rf, strlen(rf), NULL, &c, &err), IC_OK);
    CHECK(c.approximate && c.response_format);
    const char *nul = "{\"model\":\"gpt-4o\\u0000x\",\"messages\":[]}";
    CHECK_INT(ic_chat_count_request(nul, strlen(nul), NULL, &c, &err), IC_ERR_INVALID);
    /* a model without a public tokenizer: an estimate */
    CHECK_INT(ic_chat_count_request(cookbook, strlen(cookbook), "claude-sonnet-4-5", &c, &err), IC_OK);
    CHECK(c.method == IC_COUNT_RATIO);
    CHECK_STR(c.family, "anthropic");
}

static void ratio_estimate(void)
{
    CHECK_INT(ic_estimate_ratio_tokens("abcdefgh", 8, 4.0), 2);
    CHECK_INT(ic_estimate_ratio_tokens("abcdefghi", 9, 4.0), 3);
    CHECK_INT(ic_estimate_ratio_tokens("\xe4\xb8\xad\xe6\x96\x87", 6, 4.0), 2); /* two Han: 2 */
    CHECK_INT(ic_estimate_ratio_tokens("caf\xc3\xa9 au lait", 13, 4.0), 4); /* 11 ASCII: 3, 1 other */
    ic_text_count tc;
    ic_error err = {0};
    CHECK_INT(ic_count_text_for_model("gemini-2.5-pro", "abcdefgh", 8, &tc, &err), IC_OK);
    CHECK(tc.method == IC_COUNT_RATIO && tc.tokens == 2);
    CHECK_INT(ic_count_text_for_model("gpt-4o", "Hello, world!", 13, &tc, &err), IC_OK);
    CHECK(tc.method == IC_COUNT_EXACT && tc.tokens == 4);
    /* in parts: the same as the whole text, wherever the parts end (cut characters of 2, 3 and 4
     * bytes, ill-formed sequences, a lead byte at the very end) */
    static const char *const atoms[] = {"a", " ", "\xc3\xa9", "\xe4\xb8\xad", "\xf0\x9f\x98\x80",
                                        "\xff", "\xe2\x82", "\xed\xa0\x80", "\xf0\x9f", "\xc3", "\x80"};
    char text[600];
    for (int round = 0; round < 400; round++) {
        size_t n = 0;
        while (n < sizeof text - 8) {
            const char *a = atoms[mx_rand() % (sizeof atoms / sizeof *atoms)];
            memcpy(text + n, a, strlen(a));
            n += strlen(a);
        }
        ic_char_tally whole = {0, 0}, parts = {0, 0};
        CHECK_INT(ic_char_tally_add(&whole, text, n, true), n);
        /* a reader's loop: parts of 1 to 16 bytes, what was not taken put first in the next */
        char buf[64];
        size_t have = 0, at = 0;
        while (at < n) {
            size_t r = 1 + mx_rand() % 16;
            if (r > n - at)
                r = n - at;
            memcpy(buf + have, text + at, r);
            at += r;
            size_t took = ic_char_tally_add(&parts, buf, have + r, false);
            CHECK(have + r - took <= 3);
            memmove(buf, buf + took, have + r - took);
            have = have + r - took;
        }
        ic_char_tally_add(&parts, buf, have, true);
        CHECK(parts.ascii == whole.ascii && parts.other == whole.other);
        CHECK_INT(ic_char_tally_tokens(&whole, 3.5), ic_estimate_ratio_tokens(text, n, 3.5));
    }
}

static void model_map(void)
{
    CHECK_STR(ic_tokenizer_encoding_for_model("gpt-4o"), "o200k_base");
    CHECK_STR(ic_tokenizer_encoding_for_model("gpt-4o-mini-2024-07-18"), "o200k_base");
    CHECK_STR(ic_tokenizer_encoding_for_model("openai/gpt-4.1-nano"), "o200k_base");
    CHECK_STR(ic_tokenizer_encoding_for_model(" gpt-4o "), "o200k_base"); /* as the catalog trims */
    CHECK_STR(ic_tokenizer_encoding_for_model("gpt-5-mini"), "o200k_base");
    CHECK_STR(ic_tokenizer_encoding_for_model("o1"), "o200k_base");
    CHECK_STR(ic_tokenizer_encoding_for_model("o3-mini"), "o200k_base");
    CHECK_STR(ic_tokenizer_encoding_for_model("o4-mini-2025-04-16"), "o200k_base");
    CHECK_STR(ic_tokenizer_encoding_for_model("ft:gpt-4o-mini:org::abc"), "o200k_base");
    CHECK_STR(ic_tokenizer_encoding_for_model("gpt-4"), "cl100k_base");
    CHECK_STR(ic_tokenizer_encoding_for_model("gpt-4-turbo-2024-04-09"), "cl100k_base");
    CHECK_STR(ic_tokenizer_encoding_for_model("gpt-3.5-turbo"), "cl100k_base");
    CHECK_STR(ic_tokenizer_encoding_for_model("text-embedding-3-small"), "cl100k_base");
    CHECK(ic_tokenizer_encoding_for_model("claude-sonnet-4-5") == NULL);
    CHECK(ic_tokenizer_encoding_for_model("gemini-2.5-pro") == NULL);
    CHECK(ic_tokenizer_encoding_for_model("o1x") == NULL);
    CHECK(ic_tokenizer_encoding_for_model("llama-3.1-8b") == NULL);
}

static void rank_file_errors(void)
{
    char path[] = "/tmp/ic-tok-XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    FILE *f = fdopen(fd, "w");
    fputs("IQ== 0\nIg== 1\nIw 2\n", f);
    fclose(f);
    ic_tokenizer *t = NULL;
    ic_error err = {0};
    CHECK_INT(ic_tokenizer_open_file(&t, "o200k_base", path, &err), IC_ERR_PARSE);
    CHECK(strstr(err.msg, ":3:") != NULL);
    CHECK(t == NULL);
    f = fopen(path, "w");
    fputs("IQ== 0\nIg== 5\n", f);
    fclose(f);
    CHECK_INT(ic_tokenizer_open_file(&t, "o200k_base", path, &err), IC_ERR_PARSE);
    CHECK(strstr(err.msg, "out of order") != NULL);
    /* each malformed file: the message names the line and what is wrong with it */
    static const struct {
        const char *text, *want;
    } bad[] = {
        {"", "no ranks"},
        {"IQ== 0\nIg== 1\nIQ== 2\n", ":3: token repeats rank 0"},
        {"IQ== 0\nI!== 1\n", ":2: bad base64"},
        {"IQ== 0\nI=g= 1\n", ":2: bad base64"},
        {"IQ== 0\nIg=A 1\n", ":2: bad base64"},
        {"IQ== 0\nIg== \n", ":2: missing rank"},
        {"IQ== 0\nIg== 1x\n", ":2: bad rank"},
        {"IQ== 0\nIg==\n", ":2: expected \"BASE64 RANK\""},
        {"IQ== 0\n\nIg== 1\n", ":2: expected \"BASE64 RANK\""},
        /* well-formed (every padding form, no final newline) but without every byte */
        {"IQ== 0\nIWI= 1\nIWJj 2\nIWJjZA== 3", "byte 0x00 has no rank"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        f = fopen(path, "w");
        fputs(bad[i].text, f);
        fclose(f);
        CHECK_INT(ic_tokenizer_open_file(&t, "o200k_base", path, &err), IC_ERR_PARSE);
        if (!strstr(err.msg, bad[i].want))
            fprintf(stderr, "rank file %zu: got \"%s\", want \"%s\"\n", i, err.msg, bad[i].want);
        CHECK(strstr(err.msg, bad[i].want) != NULL);
        CHECK(t == NULL);
    }
    remove(path);
    CHECK_INT(ic_tokenizer_open_file(&t, "o200k_base", "/nonexistent/x.tiktoken", &err), IC_ERR_IO);
    CHECK_INT(ic_tokenizer_open(&t, "p50k_base", &err), IC_ERR_INVALID);
    CHECK(strstr(err.msg, "p50k_base") != NULL);
}

/* a counter (its cache kept from call to call) counts as ic_tokenizer_count, over many texts
 * that share their words: seeded lines of words in several scripts (pieces short, of 31-62
 * bytes, and longer, so every cache of the counter is used), counted twice over (the second
 * time from the cache), then all of them as one text, with and without special tokens */
static void counter_matches_count(void)
{
    static const char *const parts[] = {
        "the", " cat", "'S", "'ll", " Mur", "man", "skaja", " Мур", "ман", "ская", " Ελλ",
        "άδα", "中华", "人民", "共和国", " नमस्", "ते", " สวัส", "ดี", "👨‍👩‍👧", "123", "4567",
        "  ", "\t", ", ", "...", "<|endoftext|>", "\xff\xfe", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
        "xyzzyxyzzyxyzzyxyzzyxyzzyxyzzyxyzzyxyzzyxyzzyxyzzyxyzzyxyzzyxyzzyxyzzy", "Donau",
        "dampf", "schiff", "fahrt", "gesellschaft"};
    const size_t np = sizeof parts / sizeof parts[0];
    enum { LINES = 3000 };
    size_t cap = (size_t)LINES * 200, len = 0;
    char *text = malloc(cap);
    size_t *starts = malloc((LINES + 1) * sizeof *starts);
    uint32_t x = 2024;
    for (int l = 0; l < LINES; l++) {
        starts[l] = len;
        int words = 1 + (int)(x % 9);
        for (int w = 0; w < words; w++) {
            x = x * 1103515245u + 12345u;
            const char *p = parts[(x >> 16) % np];
            size_t pl = strlen(p);
            memcpy(text + len, p, pl);
            len += pl;
        }
        text[len++] = '\n';
    }
    starts[LINES] = len;
    ic_error err = {0};
    for (int k = 0; k < 2; k++) {
        const ic_tokenizer *t = k ? cl100k : o200k;
        /* the default size, and a small one whose entries are evicted as it goes */
        ic_tokenizer_counter *c = NULL, *small = NULL;
        CHECK_INT(ic_tokenizer_counter_new(&c, t, 0, &err), IC_OK);
        CHECK_INT(ic_tokenizer_counter_new(&small, t, 40 * 1024, &err), IC_OK);
        int bad = 0;
        for (int pass = 0; pass < 2; pass++) {
            if (pass == 1) /* the lines' merged pieces are in the counters' caches */
                CHECK(ic__counter_entries(c) > 100 && ic__counter_entries(small) > 100);
            for (int l = 0; l < LINES; l++) {
                const char *s = text + starts[l];
                size_t n = starts[l + 1] - starts[l] - 1;
                unsigned fl = l % 3 == 0 ? IC_TOK_ALLOW_SPECIAL : 0;
                uint64_t want = 0, got = 0;
                CHECK_INT(ic_tokenizer_count(t, s, n, fl, &want, &err), IC_OK);
                CHECK_INT(ic_tokenizer_counter_count(c, s, n, fl, &got, &err), IC_OK);
                uint64_t got_small = 0;
                CHECK_INT(ic_tokenizer_counter_count(small, s, n, fl, &got_small, &err), IC_OK);
                if (got_small != want)
                    got = got_small;
                if (got != want && bad++ < 3)
                    fprintf(stderr, "  %s line %d pass %d: counter %llu, count %llu\n",
                            ic_tokenizer_name(t), l + 1, pass, (unsigned long long)got,
                            (unsigned long long)want);
            }
        }
        CHECK_INT(bad, 0);
        for (unsigned fl = 0; fl <= IC_TOK_ALLOW_SPECIAL; fl++) {
            uint64_t want = 0, got = 0;
            CHECK_INT(ic_tokenizer_count(t, text, len, fl, &want, &err), IC_OK);
            CHECK_INT(ic_tokenizer_counter_count(c, text, len, fl, &got, &err), IC_OK);
            CHECK_INT(got, want);
            CHECK_INT(ic_tokenizer_counter_count(small, text, len, fl, &got, &err), IC_OK);
            CHECK_INT(got, want);
        }
        ic_tokenizer_counter_free(c);
        ic_tokenizer_counter_free(small);
    }
    free(starts);
    free(text);
}

/* ic_tokenizer_counter_count_many gives each text the count ic_tokenizer_count gives it: short
 * lines whose pieces share batches, empty texts, texts with invalid UTF-8, special tokens, texts
 * long enough to be counted on their own, in groups of several sizes (batch boundaries fall
 * inside texts and between them), with the default counter and one that evicts */
static void count_many_matches(void)
{
    static const char *const parts[] = {
        "the", " cat", "'S", " Mur", "skaja", " Мур", "ская", " Ελλ", "中华", "人民",
        " नमस्", " สวัส", "👨‍👩‍👧", "123", "4567", "  ", "\t", ", ", "<|endoftext|>",
        "\xff\xfe", "\xe4\xb8", "xyzzyxyzzyxyzzyxyzzyxyzzyxyzzyxyzzyxyzzyxyzzyxyzzyxyzzy",
        "Donau", "dampfschiff", "\n"};
    const size_t np = sizeof parts / sizeof parts[0];
    enum { TEXTS = 2500, BIG = 40000 };
    char **texts = calloc(TEXTS, sizeof *texts);
    size_t *lens = calloc(TEXTS, sizeof *lens);
    uint64_t *want[2] = {calloc(TEXTS, sizeof(uint64_t)), calloc(TEXTS, sizeof(uint64_t))};
    uint64_t *got = calloc(TEXTS, sizeof *got);
    uint32_t x = 77;
    for (int i = 0; i < TEXTS; i++) {
        /* every 97th text is long (counted on its own), every 13th empty */
        size_t cap = i % 97 == 50 ? BIG + 100 : 400, len = 0;
        char *t = malloc(cap);
        int words = i % 13 == 0 ? 0 : 1 + (int)(x % 11);
        while (i % 97 == 50 ? len < BIG : words-- > 0) {
            x = x * 1103515245u + 12345u;
            const char *pp = parts[(x >> 16) % np];
            size_t pl = strlen(pp);
            memcpy(t + len, pp, pl);
            len += pl;
        }
        texts[i] = t;
        lens[i] = len;
    }
    ic_error err = {0};
    for (int k = 0; k < 2; k++) {
        const ic_tokenizer *t = k ? cl100k : o200k;
        for (unsigned fl = 0; fl <= IC_TOK_ALLOW_SPECIAL; fl++)
            for (int i = 0; i < TEXTS; i++)
                CHECK_INT(ic_tokenizer_count(t, texts[i], lens[i], fl, &want[fl][i], &err), IC_OK);
        ic_tokenizer_counter *c = NULL, *small = NULL;
        CHECK_INT(ic_tokenizer_counter_new(&c, t, 0, &err), IC_OK);
        CHECK_INT(ic_tokenizer_counter_new(&small, t, 40 * 1024, &err), IC_OK);
        static const size_t groups[] = {1, 7, 64, 65, 500, TEXTS};
        int bad = 0;
        for (size_t g = 0; g < sizeof groups / sizeof *groups; g++) {
            unsigned fl = g % 2 ? IC_TOK_ALLOW_SPECIAL : 0;
            ic_tokenizer_counter *use = g % 3 == 2 ? small : c;
            for (size_t from = 0; from < TEXTS; from += groups[g]) {
                size_t n = TEXTS - from < groups[g] ? TEXTS - from : groups[g], done = 0;
                memset(got + from, 0xAB, n * sizeof *got);
                CHECK_INT(ic_tokenizer_counter_count_many(use, (const char *const *)texts + from,
                                                          lens + from, n, fl, got + from, &done,
                                                          &err),
                          IC_OK);
                CHECK_INT(done, n);
            }
            for (int i = 0; i < TEXTS; i++)
                if (got[i] != want[fl][i] && bad++ < 3)
                    fprintf(stderr, "  %s group %zu text %d: many %llu, count %llu\n",
                            ic_tokenizer_name(t), groups[g], i, (unsigned long long)got[i],
                            (unsigned long long)want[fl][i]);
        }
        CHECK_INT(bad, 0);
        CHECK(ic__counter_entries(c) > 100 && ic__counter_entries(small) > 100);
        /* a NULL text with bytes: an error naming it; the texts before it are counted */
        const char *nul[3] = {"a b", NULL, "b"};
        size_t nl[3] = {3, 2, 1}, done = 9;
        got[0] = 0;
        CHECK_INT(ic_tokenizer_counter_count_many(c, nul, nl, 3, 0, got, &done, &err),
                  IC_ERR_INVALID);
        CHECK_INT(done, 1);
        CHECK_INT(got[0], 2);
        CHECK(strstr(err.msg, "text 2 of 3") != NULL);
        /* after a text counted on its own (invalid UTF-8) */
        const char *nul2[4] = {"a b", "\xff", NULL, "b"};
        size_t nl2[4] = {3, 1, 5, 1};
        got[0] = got[1] = 0;
        CHECK_INT(ic_tokenizer_counter_count_many(c, nul2, nl2, 4, 0, got, &done, &err),
                  IC_ERR_INVALID);
        CHECK_INT(done, 2);
        CHECK_INT(got[0], 2);
        CHECK_INT(got[1], 1);
        nl[1] = 0; /* NULL with no bytes is an empty text */
        CHECK_INT(ic_tokenizer_counter_count_many(c, nul, nl, 3, 0, got, &done, &err), IC_OK);
        CHECK_INT(got[0] + got[1] + got[2], 3);
        CHECK_INT(done, 3);
        ic_tokenizer_counter_free(c);
        ic_tokenizer_counter_free(small);
    }
    for (int i = 0; i < TEXTS; i++)
        free(texts[i]);
    free(texts);
    free(lens);
    free(want[0]);
    free(want[1]);
    free(got);
}

/* the pre-split's pieces of s[start..n): their end offsets into ends (room for n - start) */
static size_t split_all(ic__pretok_kind kind, const char *s, size_t n, size_t start, size_t *ends)
{
    size_t k = 0, i = start;
    while (i < n) {
        size_t got = ic__pretok_split(kind, (const unsigned char *)s, n, i, ends + k, 64);
        k += got;
        i = ends[k - 1];
    }
    return k;
}

/* ic_tokenizer_cut, at every cut the rule allows, on texts made of what could cross it (newlines
 * before punctuation, whitespace runs ending in newlines, \r\n, apostrophes, marks, specials,
 * invalid bytes): the whole text's pre-split must end a piece there, and the pieces after it must
 * be those of the text after it alone (the ids alone can agree by chance: "...\n//" merges into
 * the same tokens either way); then the two parts' ids, one after the other, are the whole's. */
static void cut_is_exact(void)
{
    static const char *const parts[] = {
        "\n", "\r\n", "\n\n", " \n", "\t\n", "  ", " ", "Word", "word", "A", "x", "'s", "'S",
        "'ll", ".", "...", "/", "//", "42", "1234", "Мурманская", "中文", "\xcc\x81", "<|endoftext|>",
        "\xff", "\xe4\xb8", "\u00a0", "é", "-", "\"", "(", "ſ", "\r", "\v"};
    const size_t np = sizeof parts / sizeof parts[0];
    ic_error err = {0};
    uint32_t x = 99;
    int bad = 0, cuts = 0;
    char text[400];
    for (int it = 0; it < 3000; it++) {
        size_t len = 0;
        while (len < 300) {
            x = x * 1103515245u + 12345u;
            const char *pp = parts[(x >> 16) % np];
            size_t pl = strlen(pp);
            memcpy(text + len, pp, pl);
            len += pl;
        }
        for (int k = 0; k < 2; k++) {
            const ic_tokenizer *t = k ? cl100k : o200k;
            for (unsigned fl = 0; fl <= IC_TOK_ALLOW_SPECIAL; fl++) {
                uint32_t *whole = NULL, *a = NULL, *b = NULL;
                size_t nw = 0, na = 0, nb = 0;
                CHECK_INT(ic_tokenizer_encode(t, text, len, fl, &whole, &nw, &err), IC_OK);
                size_t ends[400], tail[400];
                ic__pretok_kind kind = k ? IC_PRETOK_CL100K : IC_PRETOK_O200K;
                size_t np_ = split_all(kind, text, len, 0, ends);
                /* every allowed cut: the last one in each prefix */
                for (size_t end = len, c; (c = ic_tokenizer_cut(t, text, end)) > 0; end = c - 1) {
                    cuts++;
                    size_t at = 0;
                    while (at < np_ && ends[at] < c)
                        at++;
                    size_t nt = split_all(kind, text + c, len - c, 0, tail);
                    int pieces = at < np_ && ends[at] == c && nt == np_ - at - 1;
                    for (size_t q = 0; pieces && q < nt; q++)
                        pieces = tail[q] + c == ends[at + 1 + q];
                    if (!pieces && bad++ < 3)
                        fprintf(stderr, "  %s: cut at %zu of %zu is not between the same pieces\n",
                                ic_tokenizer_name(t), c, len);
                    CHECK_INT(ic_tokenizer_encode(t, text, c, fl, &a, &na, &err), IC_OK);
                    CHECK_INT(ic_tokenizer_encode(t, text + c, len - c, fl, &b, &nb, &err), IC_OK);
                    int same = na + nb == nw && !memcmp(a, whole, na * sizeof *a) &&
                               !memcmp(b, whole + na, nb * sizeof *b);
                    if (!same && bad++ < 3)
                        fprintf(stderr, "  %s: cut at %zu of %zu changes the ids\n",
                                ic_tokenizer_name(t), c, len);
                    free(a);
                    free(b);
                }
                free(whole);
            }
        }
    }
    CHECK_INT(bad, 0);
    CHECK(cuts > 10000);
    /* the rule: after "\n", before a letter or digit of any script; none in a text without one */
    CHECK_INT(ic_tokenizer_cut(o200k, "ab\ncd\n1x\n", 10), 6);
    CHECK_INT(ic_tokenizer_cut(o200k, "ab\ncd\n/x\n", 10), 3);
    CHECK_INT(ic_tokenizer_cut(o200k, "a\n\xd0\x9c\n \n\xcc\x81", 11), 2); /* not a space, a mark */
    CHECK_INT(ic_tokenizer_cut(o200k, "a\n\xe4\xb8\xad", 5), 2);
    CHECK_INT(ic_tokenizer_cut(o200k, "a\n\xe4\xb8\xad", 4), 0); /* 中 cut short */
    CHECK_INT(ic_tokenizer_cut(o200k, "ab cd", 5), 0);
    CHECK_INT(ic_tokenizer_cut(o200k, "\nZ", 2), 1);
    CHECK_INT(ic_tokenizer_cut(o200k, "", 0), 0);
}

int main(void)
{
    ic_error err = {0};
    o200k = ic_tokenizer_shared("o200k_base", &err);
    cl100k = ic_tokenizer_shared("cl100k_base", &err);
    if (!o200k || !cl100k) {
        fprintf(stderr, "cannot open tokenizers: %s\n", err.msg);
        printf("0 passed, 1 failed\n");
        return 1;
    }
    RUN(known_ids);
    RUN(special_tokens);
    RUN(empty_and_decode_errors);
    RUN(invalid_utf8);
    RUN(invalid_utf8_late);
    RUN(counter_matches_count);
    RUN(count_many_matches);
    RUN(cut_is_exact);
    RUN(scanners_match_pcre2);
    RUN(two_byte_scanners);
    RUN(short_table_and_premerge);
    RUN(premerge_check_rank_files);
    RUN(premerge_char3_edges);
    RUN(premerge_char3_cut);
    RUN(linear_time);
    RUN(backtracking_matches_heap);
    RUN(lazy_tables_threads);
    RUN(cookbook_examples);
    RUN(chat_parts_and_errors);
    RUN(count_cache_matches);
    RUN(ratio_estimate);
    RUN(model_map);
    RUN(rank_file_errors);
    TEST_END();
}
