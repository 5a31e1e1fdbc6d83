/* pretokenize.c: tiktoken's pre-split regexes, as linear-time scanners.
 *
 * tiktoken (fancy-regex, leftmost-first alternation with backtracking) splits text with
 *   cl100k_base: (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}
 *                | ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+
 *   o200k_base:  [^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+C?
 *                |[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*C?
 *                |\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+
 *   with C = (?i:'s|'t|'re|'ve|'m|'ll|'d).
 * A regex engine backtracks; here each alternative is resolved in one forward pass by reasoning
 * about where the backtracking must stop:
 *  - "P? UP* LO+": with UP = [Lu Lt Lm Lo M] and LO = [Ll Lm Lo M], greedy UP* takes the whole
 *    UP run; if the next character is in LO (then it is Ll) LO+ takes the LO run from there;
 *    otherwise backtracking gives back characters until one is in both sets (Lm, Lo, M), and the
 *    match ends right after the LAST such character of the run. One pass, tracking that position.
 *  - The optional prefix P = [^\r\n\p{L}\p{N}] is tried taken first, then not taken (it matters
 *    for marks, which are in P and in UP/LO at once).
 *  - "\s*[\r\n]+" ends after the last \r or \n of the whitespace run; "\s+(?!\S)" takes the run to
 *    the end of the text, or all but its last character when something follows; "\s+" is then
 *    a single whitespace character.
 *  - (?i) folds 's' to S and U+017F LATIN SMALL LETTER LONG S, as Rust's regex does.
 * Invalid UTF-8 is split as if each maximal invalid sequence were U+FFFD, and noted
 * (ic__pretok_met_invalid): tokenizer.c then repairs the text and splits it again.
 * tests/unit/test_tokenizer.c checks these scanners against PCRE2 running the regexes verbatim
 * on random strings, and tests/node/tokenizer.test.mjs against tiktoken itself. */
#include "pretokenize.h"

#include <stdint.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "unicode_tables.h"

#define UP IC_U_UP
#define LO IC_U_LO
#define LL IC_U_L
#define NN IC_U_N
#define WS IC_U_WS
#define NL IC_U_NL
#define END 64 /* past the end of the text: in no class */

static _Thread_local int met_invalid;

int ic__pretok_met_invalid(void)
{
    int m = met_invalid;
    met_invalid = 0;
    return m;
}

int ic__pretok_seen_invalid(void) { return met_invalid; }

/* The class of the character at s[i] that is neither ASCII nor a 2-byte one, and its length:
 * out of line, one call at each place it is needed. An invalid sequence is classed as U+FFFD,
 * the character that replaces it, and noted. */
__attribute__((noinline)) static unsigned cls_other(const unsigned char *s, size_t n, size_t *len)
{
    uint32_t cp = ic__utf8_decode_strict(s, n, len);
    if (cp == UINT32_MAX) {
        met_invalid = 1;
        cp = 0xFFFD;
    }
    return ic__uni_class(cp);
}

static inline unsigned cls_at(const unsigned char *s, size_t i, size_t n, size_t *len)
{
    if (i >= n) {
        *len = 0;
        return END;
    }
    unsigned c = s[i];
    if (c < 0x80) {
        *len = 1;
        return ic__uni_stage2[c]; /* block 0 is stage2[0..255] */
    }
    /* 2-byte characters (Latin supplements, Greek, Cyrillic, Armenian, Hebrew, Arabic, ...)
     * decoded in line: the common non-ASCII case skips the general decoder */
    if (c - 0xC2u <= 0xDFu - 0xC2u && i + 1 < n && (s[i + 1] & 0xC0) == 0x80) {
        *len = 2;
        return ic__uni_class((c & 0x1Fu) << 6 | (s[i + 1] & 0x3Fu));
    }
    return cls_other(s + i, n - i, len);
}

/* [^\r\n\p{L}\p{N}] */
static inline int is_pre(unsigned c) { return !(c & (LL | NN | NL | END)); }
/* [^\s\p{L}\p{N}] */
static inline int is_punct(unsigned c) { return !(c & (WS | LL | NN | END)); }

/* (?i:'s|'t|'re|'ve|'m|'ll|'d) at e: its length in bytes, or 0 */
static inline size_t contraction(const unsigned char *s, size_t e, size_t n)
{
    if (e + 1 >= n || s[e] != '\'')
        return 0;
    unsigned a = s[e + 1];
    switch (a | 0x20) {
    case 's':
    case 't':
    case 'm':
    case 'd':
        return 2;
    case 'r':
    case 'v':
        return e + 2 < n && (s[e + 2] | 0x20) == 'e' ? 3 : 0;
    case 'l':
        return e + 2 < n && (s[e + 2] | 0x20) == 'l' ? 3 : 0;
    default:
        break;
    }
    if (a == 0xC5 && e + 2 < n && s[e + 2] == 0xBF) /* U+017F folds to s */
        return 3;
    return 0;
}

static inline size_t run_of(const unsigned char *s, size_t p, size_t n, unsigned mask)
{
    size_t l;
    while (p < n) {
        if (s[p] < 0x80) {
            if (!(ic__uni_stage2[s[p]] & mask))
                break;
            p++;
            continue;
        }
        if (!(cls_at(s, p, n, &l) & mask))
            break;
        p += l;
    }
    return p;
}

/* [UP]*[LO]+ from p: end, or 0 when it cannot match */
static inline size_t x1(const unsigned char *s, size_t p, size_t n)
{
    size_t u = p, both_end = 0, l;
    unsigned c;
    for (;;) {
        c = cls_at(s, u, n, &l);
        if (!(c & UP))
            break;
        u += l;
        if (c & LO)
            both_end = u;
    }
    if (c & LO)
        return run_of(s, u + l, n, LO);
    return both_end;
}

/* [UP]+[LO]* from p: end, or 0 */
static inline size_t x2(const unsigned char *s, size_t p, size_t n)
{
    size_t l;
    if (!(cls_at(s, p, n, &l) & UP))
        return 0;
    size_t u = run_of(s, p + l, n, UP);
    return run_of(s, u, n, LO);
}

/* whitespace at i: \s*[\r\n]+ | \s+(?!\S) | \s+ */
static inline size_t spaces(const unsigned char *s, size_t i, size_t n)
{
    size_t j = i, last_nl = 0, last_start = i, l;
    while (j < n) {
        unsigned c = cls_at(s, j, n, &l);
        if (!(c & WS))
            break;
        last_start = j;
        j += l;
        if (c & NL)
            last_nl = j;
    }
    if (last_nl)
        return last_nl;
    if (j == n || last_start == i)
        return j;
    return last_start;
}

/* [^\s\p{L}\p{N}]* from p, then [\r\n]* (cl100k) or [\r\n/]* (o200k) */
static inline size_t punct_run(const unsigned char *s, size_t p, size_t n, int slash)
{
    size_t l;
    while (p < n && is_punct(cls_at(s, p, n, &l)))
        p += l;
    while (p < n && (s[p] == '\r' || s[p] == '\n' || (slash && s[p] == '/')))
        p++;
    return p;
}

/* Per byte, for the ASCII fast paths: 1 an upper-case letter, 2 a lower-case letter, 4 an ASCII
 * character that can be the optional prefix (not a letter, digit, \r or \n); 0 otherwise (digits,
 * \r, \n, bytes >= 0x80). One load instead of a few compares per byte. */
static const uint8_t ascii_cls[256] = {
    4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 0, 4, 4, 0, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4,
    4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 4, 4, 4, 4, 4, 4,
    4, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 4, 4, 4, 4, 4,
    4, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 4, 4, 4, 4, 4,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
};
static inline int ascii_letter(unsigned c) { return ascii_cls[c] & 3; }
static inline int ascii_pre(unsigned c) { return ascii_cls[c] == 4; }

/* The end of the run of ASCII lower-case letters (upper-case too when both) from p: sixteen
 * bytes per step where SSE2 is there (words are the commonest pieces of every text). */
static inline size_t letter_run(const unsigned char *s, size_t p, size_t n, int both)
{
#ifdef __SSE2__
    const __m128i shift = _mm_set1_epi8((char)(0x80 - 'a')), limit = _mm_set1_epi8((char)(-128 + 26));
    const __m128i fold = _mm_set1_epi8(both ? 0x20 : 0);
    while (p + 16 <= n) {
        __m128i x = _mm_or_si128(_mm_loadu_si128((const __m128i *)(s + p)), fold);
        /* x - 'a' in 0..25, as a signed compare after moving 'a' to -128 */
        __m128i in = _mm_cmplt_epi8(_mm_add_epi8(x, shift), limit);
        unsigned m = (unsigned)_mm_movemask_epi8(in) ^ 0xFFFFu;
        if (m)
            return p + (size_t)__builtin_ctz(m);
        p += 16;
    }
#endif
    while (p < n && (both ? ascii_letter(s[p]) != 0 : ascii_letter(s[p]) == 2))
        p++;
    return p;
}

/* The common case, an ASCII word: o200k's letter alternatives reduce to P?([A-Z]+[a-z]*|[a-z]+)C?;
 * once a small letter has begun, the lower-case run goes on over any script. Returns 0 when
 * the piece may involve other non-ASCII letters or marks (the general path decides). */
static inline size_t fast_o200k(const unsigned char *s, size_t i, size_t n)
{
    size_t p = i;
    if (ascii_pre(s[p]) && p + 1 < n && ascii_letter(s[p + 1]))
        p++;
    if (!ascii_letter(s[p]))
        return 0;
    size_t q;
#ifdef __SSE2__
    if (p + 16 <= n) {
        /* [A-Z]* then [a-z]* from one 16-byte load: no loop, whose exit would go either way
         * from word to word (capitalised or not) */
        __m128i x = _mm_loadu_si128((const __m128i *)(s + p));
        const __m128i limit = _mm_set1_epi8((char)(-128 + 26));
        unsigned up = (unsigned)_mm_movemask_epi8(
            _mm_cmplt_epi8(_mm_add_epi8(x, _mm_set1_epi8((char)(0x80 - 'A'))), limit));
        unsigned lo = (unsigned)_mm_movemask_epi8(
            _mm_cmplt_epi8(_mm_add_epi8(x, _mm_set1_epi8((char)(0x80 - 'a'))), limit));
        unsigned u = (unsigned)__builtin_ctz(~up); /* the [A-Z] run: 0..16 */
        unsigned rest = ~lo & (0xFFFFFFFFu << u); /* bit 16 and up set: stops there */
        unsigned e = (unsigned)__builtin_ctz(rest);
        p += u;
        q = p + (e - u);
        if (e == 16 && u < 16) /* the [a-z] run goes on past the block */
            q = letter_run(s, q, n, 0);
        else if (u == 16) { /* sixteen capitals: the loops below */
            while (p < n && ascii_letter(s[p]) == 1)
                p++;
            q = letter_run(s, p, n, 0);
        }
    } else
#endif
    {
        while (p < n && ascii_letter(s[p]) == 1)
            p++;
        q = letter_run(s, p, n, 0);
    }
    if (q < n && s[q] >= 0x80) {
        if (q == p) /* upper-case letters only so far: the general path decides */
            return 0;
        /* [A-Z]* was all of UP* (it stops at the lower-case letter at p), and LO+ started
         * at p: it goes on over the LO characters of any script ("lêer", "für") */
        q = run_of(s, q, n, LO);
    }
    return q + contraction(s, q, n);
}

/* cl100k: P?\p{L}+ when it starts with an ASCII letter; 0 to let the general path decide */
static inline size_t fast_cl100k(const unsigned char *s, size_t i, size_t n)
{
    size_t p = i;
    if (s[p] == '\'')
        return 0;
    if (ascii_pre(s[p]) && p + 1 < n && ascii_letter(s[p + 1]))
        p++;
    if (!ascii_letter(s[p]))
        return 0;
    p = letter_run(s, p, n, 1);
    if (p < n && s[p] >= 0x80) /* \p{L}+ goes on over letters of any script */
        p = run_of(s, p, n, LL);
    return p;
}

/* a newline before a character that is not whitespace (or before the end): a piece of its own in
 * both regexes (\s*[\r\n]+ gives the newline back to [\r\n]+); the line ends of most text. The
 * character is judged by its first byte: an ASCII one above ' ', or a lead byte that starts no
 * White_Space character (those start with C2, E1, E2 or E3: U+0085, U+00A0, U+1680, U+2000 to
 * U+205F, U+3000) */
static inline int lone_newline(const unsigned char *s, size_t i, size_t n)
{
    if (s[i] != '\n')
        return 0;
    if (i + 1 == n)
        return 1;
    unsigned b = s[i + 1];
    return b > ' ' && (b < 0x80 || (b != 0xC2 && b - 0xE1u > 2u));
}

/* An ASCII character that can be the prefix (not a letter, digit, \r or \n) before an ASCII
 * character that is no letter, or before the end: no letter alternative matches (the prefix needs
 * a letter after it, and the character is none itself), nor \p{N}; what is left is
 * " ?[^\s\p{L}\p{N}]+" or the whitespace alternatives, decided here without the general path's
 * tries. Punctuation and runs of spaces: a quarter of the pieces of sentences. 0: not this case. */
static inline size_t fast_punct(const unsigned char *s, size_t i, size_t n, int slash)
{
    unsigned a = s[i];
    if (!ascii_pre(a))
        return 0;
    if (i + 1 == n)
        return n; /* one character: either alternative takes it */
    unsigned b = s[i + 1];
    if (b >= 0x80 || ascii_letter(b))
        return 0;
    if (!(ic__uni_stage2[a] & WS))
        return punct_run(s, i + 1, n, slash);
    if (a == ' ' && is_punct(ic__uni_stage2[b]))
        return punct_run(s, i + 2, n, slash);
    return spaces(s, i, n);
}

static size_t next_o200k(const unsigned char *s, size_t i, size_t n)
{
    size_t l0, e;
    if ((e = fast_o200k(s, i, n)))
        return e;
    if (lone_newline(s, i, n))
        return i + 1;
    if ((e = fast_punct(s, i, n, 1)))
        return e;
    unsigned c0 = cls_at(s, i, n, &l0);
    int pre = is_pre(c0);
    if (pre && (e = x1(s, i + l0, n)))
        goto contr;
    if ((c0 & (UP | LO)) && (e = x1(s, i, n)))
        goto contr;
    if (pre && (e = x2(s, i + l0, n)))
        goto contr;
    if ((c0 & UP) && (e = x2(s, i, n)))
        goto contr;
    if (c0 & NN) {
        e = i + l0;
        for (int k = 1; k < 3; k++) {
            size_t l;
            if (!(cls_at(s, e, n, &l) & NN))
                break;
            e += l;
        }
        return e;
    }
    if (s[i] == ' ') {
        size_t l1;
        if (is_punct(cls_at(s, i + 1, n, &l1)))
            return punct_run(s, i + 1 + l1, n, 1);
    } else if (is_punct(c0)) {
        return punct_run(s, i + l0, n, 1);
    }
    if (c0 & WS)
        return spaces(s, i, n);
    return i + l0; /* unreachable: every class is covered above */
contr:
    return e + contraction(s, e, n);
}

static size_t next_cl100k(const unsigned char *s, size_t i, size_t n)
{
    size_t l0, l1, e;
    if ((e = fast_cl100k(s, i, n)))
        return e;
    if (lone_newline(s, i, n))
        return i + 1;
    if (s[i] == '\'') {
        size_t k = contraction(s, i, n);
        if (k)
            return i + k;
    }
    if ((e = fast_punct(s, i, n, 0)))
        return e;
    unsigned c0 = cls_at(s, i, n, &l0);
    if (is_pre(c0) && (cls_at(s, i + l0, n, &l1) & LL))
        return run_of(s, i + l0 + l1, n, LL);
    if (c0 & LL)
        return run_of(s, i + l0, n, LL);
    if (c0 & NN) {
        e = i + l0;
        for (int k = 1; k < 3; k++) {
            size_t l;
            if (!(cls_at(s, e, n, &l) & NN))
                break;
            e += l;
        }
        return e;
    }
    if (s[i] == ' ') {
        if (is_punct(cls_at(s, i + 1, n, &l1)))
            return punct_run(s, i + 1 + l1, n, 0);
    } else if (is_punct(c0)) {
        return punct_run(s, i + l0, n, 0);
    }
    if (c0 & WS)
        return spaces(s, i, n);
    return i + l0; /* unreachable */
}

size_t ic__pretok_split(ic__pretok_kind kind, const unsigned char *s, size_t n, size_t start,
                        size_t *ends, size_t max)
{
    size_t k = 0, i = start;
    if (kind == IC_PRETOK_O200K) {
        while (i < n && k < max)
            ends[k++] = i = next_o200k(s, i, n);
    } else {
        while (i < n && k < max)
            ends[k++] = i = next_cl100k(s, i, n);
    }
    return k;
}
