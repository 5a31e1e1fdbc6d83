/* bpe.c: the rank table of a tiktoken encoding and the byte-pair merge of one piece.
 *
 * Table: every token's bytes sit back to back in one blob; an open-addressing hash (linear
 * probing, load <= 0.4) maps bytes -> rank. A slot holds a 64-bit key and a 32-bit ext that, for
 * tokens of up to 12 bytes (almost all lookups), together ARE the token's bytes in a canonical
 * form, so a hit costs one cache line and no byte comparison; longer tokens compare the blob at
 * the offset ext holds.
 *
 * Merge: tiktoken's rule: repeatedly join the adjacent pair whose concatenation has the lowest
 * rank, the leftmost of equal ranks, until no adjacent pair is a token. Pieces up to SMALL bytes
 * use tiktoken's own array scan (quadratic in the piece, fastest when short), with the byte
 * pairs and 3-byte characters that provably merge first joined up front, the piece cut between
 * two such characters that no token holds side by side (merge_cut), and the 3-4 byte
 * lookups in a small table of their own (ic__short_bucket, bpe.h). Longer pieces (CJK
 * sentences, one giant word) use a doubly linked list of parts and a 4-ary min-heap of (rank,
 * position) with lazy deletion: O(n log n). Both choose the same pair at every step (lowest rank,
 * then lowest position), so they give identical output. Pieces of BACKTRACK_MIN bytes and more
 * (10 MB of one letter) go to the linear backtracking encoder (bpe_backtrack.c), which gives the
 * same result without simulating the merges. Before any of them, a long piece is cut where two
 * adjacent bytes occur together in no token (see ic__bpe_merge): merges never cross such a point,
 * so the cut is exact. */
#include "bpe.h"

#include <stdlib.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#define SMALL 128
/* merge_small keeps a part's index below its pair's rank: IDX_BITS bits for up to SMALL parts */
#define IDX_BITS 7
#define IDX_MASK ((1u << IDX_BITS) - 1)
/* Pieces from this length on use the backtracking encoder (linear); shorter ones the heap merge
 * (n log n, small n), so that ordinary text never pays for building the backtracking tables
 * (about 0.1-0.2 s, on first use). */
#define BACKTRACK_MIN 2048

/* base64 digit value + 1 of each byte, 0 for anything else ('=' included: padding is handled
 * apart) */
static const unsigned char b64tab[256] = {
    ['A'] = 1, ['B'] = 2, ['C'] = 3, ['D'] = 4, ['E'] = 5, ['F'] = 6, ['G'] = 7, ['H'] = 8,
    ['I'] = 9, ['J'] = 10, ['K'] = 11, ['L'] = 12, ['M'] = 13, ['N'] = 14, ['O'] = 15, ['P'] = 16,
    ['Q'] = 17, ['R'] = 18, ['S'] = 19, ['T'] = 20, ['U'] = 21, ['V'] = 22, ['W'] = 23, ['X'] = 24,
    ['Y'] = 25, ['Z'] = 26, ['a'] = 27, ['b'] = 28, ['c'] = 29, ['d'] = 30, ['e'] = 31, ['f'] = 32,
    ['g'] = 33, ['h'] = 34, ['i'] = 35, ['j'] = 36, ['k'] = 37, ['l'] = 38, ['m'] = 39, ['n'] = 40,
    ['o'] = 41, ['p'] = 42, ['q'] = 43, ['r'] = 44, ['s'] = 45, ['t'] = 46, ['u'] = 47, ['v'] = 48,
    ['w'] = 49, ['x'] = 50, ['y'] = 51, ['z'] = 52, ['0'] = 53, ['1'] = 54, ['2'] = 55, ['3'] = 56,
    ['4'] = 57, ['5'] = 58, ['6'] = 59, ['7'] = 60, ['8'] = 61, ['9'] = 62, ['+'] = 63, ['/'] = 64,
};

static inline int b64val(unsigned char c) { return b64tab[c] - 1; }

/* decode base64 s[0..n) into out; returns bytes written or -1. Four digits at a time through
 * the table; the last group may end in one or two '='. */
static long b64dec(const char *s, size_t n, unsigned char *out)
{
    if (n == 0 || n % 4)
        return -1;
    long o = 0;
    const unsigned char *u = (const unsigned char *)s;
    size_t full = u[n - 1] == '=' ? n - 4 : n; /* groups without padding */
    for (size_t i = 0; i < full; i += 4) {
        int a = b64val(u[i]), b = b64val(u[i + 1]), c = b64val(u[i + 2]), d = b64val(u[i + 3]);
        if ((a | b | c | d) < 0)
            return -1;
        uint32_t w = (uint32_t)a << 18 | (uint32_t)b << 12 | (uint32_t)c << 6 | (uint32_t)d;
        out[o++] = (unsigned char)(w >> 16);
        out[o++] = (unsigned char)(w >> 8);
        out[o++] = (unsigned char)w;
    }
    if (full < n) { /* "xx==" or "xxx=" */
        const unsigned char *g = u + full;
        int a = b64val(g[0]), b = b64val(g[1]), c = g[2] == '=' ? 0 : b64val(g[2]);
        if ((a | b | c) < 0)
            return -1;
        uint32_t w = (uint32_t)a << 18 | (uint32_t)b << 12 | (uint32_t)c << 6;
        out[o++] = (unsigned char)(w >> 16);
        if (g[2] != '=')
            out[o++] = (unsigned char)(w >> 8);
    }
    return o;
}

void ic__ranks_free(ic__ranks *r)
{
    if (!r)
        return;
    free(r->blob);
    free(r->off);
    free(r->slots);
    free(r->pair2);
    free(r->filter);
    free(r->shortb);
    free(r->e2);
    free(r->s2);
    free(r->c3); /* and w6 */
    ic__bt_lazy_free(r->lazy);
    memset(r, 0, sizeof *r);
}

/* the table of 3- and 4-byte tokens (see bpe.h); 0, or -1 when out of memory. Left out (NULL,
 * lookups use the main table) when a rank does not fit in 24 bits. */
static int build_short(ic__ranks *r)
{
    size_t count = 0;
    for (uint32_t k = 0; k < r->n; k++) {
        uint32_t l = r->off[k + 1] - r->off[k];
        count += l == 3 || l == 4;
    }
    if (r->n >= (1u << 24))
        return 0;
    size_t buckets = 1;
    int bits = 0;
    while (buckets * IC_SHORT_WAYS * 2 < count * 3) { /* load <= 2/3 */
        buckets <<= 1;
        bits++;
    }
    ic__short_bucket *t = aligned_alloc(64, buckets * sizeof *t);
    if (!t)
        return -1;
    memset(t, 0, buckets * sizeof *t);
    r->short_mask = buckets - 1;
    r->short_shift = 64 - bits; /* bits == 0: one bucket, h >> 64 is avoided below */
    if (bits == 0)
        r->short_shift = 63, r->short_mask = 0;
    for (uint32_t k = 0; k < r->n; k++) {
        uint32_t l = r->off[k + 1] - r->off[k];
        if (l != 3 && l != 4)
            continue;
        uint32_t key = ic__short_key(r->blob + r->off[k], l);
        size_t b = ic__short_bucket_of(r, key, l);
        for (;;) {
            int i = 0;
            while (i < IC_SHORT_WAYS && t[b].val[i])
                i++;
            if (i < IC_SHORT_WAYS) {
                t[b].key[i] = key;
                t[b].val[i] = k | l << 24;
                break;
            }
            b = (b + 1) & r->short_mask;
        }
    }
    r->shortb = t;
    return 0;
}

static inline int cont(unsigned c) { return (c & 0xC0) == 0x80; }
static inline int lead3(unsigned c) { return (c & 0xF0) == 0xE0; }

#define W6_WORDS (1u << 13) /* 64 KB */

/* the filter word (the top 13 bits) and two bits (the next 12) of the 6 bytes at q */
static inline uint64_t w6_hash(const unsigned char *q)
{
    return ((uint64_t)ic__load32(q) | (uint64_t)ic__load32(q + 2) << 32) * 0x9E3779B97F4A7C15ull;
}
static inline uint64_t w6_bits(uint64_t h) { return 1ull << (h >> 45 & 63) | 1ull << (h >> 39 & 63); }
/* 0: the 6 bytes at q occur inside no token */
static inline int w6_maybe(const ic__ranks *r, const unsigned char *q)
{
    uint64_t h = w6_hash(q), m = w6_bits(h);
    return (r->w6[h >> 51] & m) == m;
}

static inline void lower(uint16_t *slot, uint32_t k)
{
    if (*slot == 0xFFFF)
        *slot = (uint16_t)k;
}

/* r->e2, r->s2 and the 3-byte character tables (see bpe.h); 0, or -1 when out of memory */
static int build_pairs(ic__ranks *r)
{
    enum { C3 = 65536, E3 = 65536, E3X = 1024, S3 = 65536, S3X = 4096 };
    r->e2 = malloc(65536 * sizeof *r->e2);
    r->s2 = malloc(65536 * sizeof *r->s2);
    /* the filter of 6-byte windows at the end of the same block (its start a multiple of 8) */
    r->c3 = malloc((C3 + E3 + E3X + S3 + S3X) * sizeof *r->c3 + W6_WORDS * sizeof *r->w6);
    if (!r->e2 || !r->s2 || !r->c3)
        return -1;
    r->w6 = (uint64_t *)(void *)(r->c3 + C3 + E3 + E3X + S3 + S3X);
    memset(r->w6, 0, W6_WORDS * sizeof *r->w6);
    r->e3 = r->c3 + C3;
    r->e3x = r->e3 + E3;
    r->s3 = r->e3x + E3X;
    r->s3x = r->s3 + S3;
    memset(r->e2, 0xFF, 65536 * sizeof *r->e2);
    memset(r->s2, 0xFF, 65536 * sizeof *r->s2);
    memset(r->c3, 0xFF, (C3 + E3 + E3X + S3 + S3X) * sizeof *r->c3);
    /* every token, whatever its rank: a window left out would make a wrong cut */
    for (uint32_t k = 0; k < r->n; k++) {
        const unsigned char *t = r->blob + r->off[k];
        uint32_t l = r->off[k + 1] - r->off[k];
        for (uint32_t j = 0; j + 6 <= l; j++)
            if (lead3(t[j]) && cont(t[j + 1]) && cont(t[j + 2]) && lead3(t[j + 3]) &&
                cont(t[j + 4]) && cont(t[j + 5])) {
                uint64_t h = w6_hash(t + j);
                r->w6[h >> 51] |= w6_bits(h);
            }
    }
    /* ranks in increasing order: the first token to show a pair has its lowest rank. Stored
     * shifted right by sh16 so that all fit 16 bits: F >> sh16 below B >> sh16 means F below B */
    int sh = 0;
    while (r->n > 0 && (r->n - 1) >> sh >= 0xFFFF)
        sh++;
    r->sh16 = sh;
    for (uint32_t k = 0; k < r->n; k++) {
        const unsigned char *t = r->blob + r->off[k];
        uint32_t l = r->off[k + 1] - r->off[k];
        if (l < 2)
            continue;
        lower(&r->e2[(unsigned)t[l - 2] << 8 | t[l - 1]], k >> sh);
        lower(&r->s2[(unsigned)t[0] << 8 | t[1]], k >> sh);
        if (l < 3)
            continue;
        unsigned x = t[l - 3], a = t[l - 2], b = t[l - 1];
        if (l == 3 && lead3(x) && cont(a) && cont(b))
            lower(&r->c3[(x & 15) << 12 | (a & 63) << 6 | (b & 63)], k >> sh);
        if (lead3(a) && cont(b))
            lower(cont(x) ? &r->e3[(x & 63) << 10 | (a & 15) << 6 | (b & 63)]
                          : &r->e3x[(a & 15) << 6 | (b & 63)], k >> sh);
        unsigned b0 = t[0], c0 = t[1], d0 = t[2];
        if (cont(b0) && cont(c0))
            lower(lead3(d0) ? &r->s3[(b0 & 63) << 10 | (c0 & 63) << 4 | (d0 & 15)]
                            : &r->s3x[(b0 & 63) << 6 | (c0 & 63)], k >> sh);
    }
    return 0;
}

/* The pre-merge in merge_small is exact when every token of 2+ bytes is two tokens of lower
 * rank joined, as BPE training makes them (the embedded encodings are, tests/unit checks). For a
 * rank file from elsewhere this checks it, and drops the pre-merge when it does not hold. */
void ic__ranks_check_premerge(ic__ranks *r)
{
    for (uint32_t id = 0; id < r->n; id++) {
        const unsigned char *t = r->blob + r->off[id];
        uint32_t l = r->off[id + 1] - r->off[id], k = 1;
        while (k < l && !(ic__rank_of_piece(r, t, k) < id &&
                          ic__rank_of_piece(r, t + k, l - k) < id))
            k++;
        if (l >= 2 && k == l) {
            free(r->e2);
            free(r->s2);
            free(r->c3);
            r->e2 = r->s2 = r->c3 = r->e3 = r->e3x = r->s3 = r->s3x = NULL;
            r->w6 = NULL;
            return;
        }
    }
}

/* Put every token into the hash table and the Bloom filter, sixteen at a time: their slots are
 * hashed and fetched together first (the table is 8 MB, the inserts land at random), then filled.
 * Returns the first token whose bytes repeat an earlier token's, or UINT32_MAX. */
static uint32_t insert_tokens(ic__ranks *r)
{
    enum { GROUP = 16 };
    uint64_t key[GROUP], hash[GROUP];
    for (uint32_t g = 0; g < r->n; g += GROUP) {
        uint32_t e = r->n - g < GROUP ? r->n : g + GROUP;
        for (uint32_t t = g; t < e; t++) {
            uint32_t tl = r->off[t + 1] - r->off[t];
            key[t - g] = ic__key(r->blob + r->off[t], tl);
            hash[t - g] = ic__hash64(key[t - g], tl);
            __builtin_prefetch(&r->slots[hash[t - g] >> r->shift], 1);
            __builtin_prefetch(&r->filter[ic__filter_word(hash[t - g])], 1);
        }
        for (uint32_t t = g; t < e; t++) {
            const unsigned char *tb = r->blob + r->off[t];
            uint32_t tl = r->off[t + 1] - r->off[t];
            size_t h = (size_t)(hash[t - g] >> r->shift);
            while (r->slots[h].rl) {
                uint32_t o = IC_SLOT_RANK(&r->slots[h]);
                if (r->off[o + 1] - r->off[o] == tl && memcmp(r->blob + r->off[o], tb, tl) == 0)
                    return t;
                h = (h + 1) & r->mask;
            }
            uint32_t ext = tl <= 8 ? 0 : tl <= 12 ? ic__load32(tb + tl - 4) : r->off[t];
            r->slots[h] = (ic__slot){key[t - g], ext, t | ic__slot_len(tl)};
            /* tokens of 3 and 4 bytes are looked up in the short table instead, when there
             * is one (build_short runs first) */
            if (tl - 3 > 1 || !r->shortb)
                r->filter[ic__filter_word(hash[t - g])] |= ic__filter_bits(hash[t - g]);
        }
    }
    return UINT32_MAX;
}

/* Two passes: the lines are parsed in order (tokens decoded into the blob, their offsets, the
 * byte pairs that occur inside tokens), then the tokens go into the hash table in groups. */
ic_status ic__ranks_load(ic__ranks *r, const char *text, size_t len, const char *name,
                         ic_error *err)
{
    memset(r, 0, sizeof *r);
    /* a valid line takes at least 7 characters ("XXXX 0\n", 6 for a last line without its
     * newline) and an invalid one stops the parse: at most len / 7 + 1 tokens */
    size_t maxlines = len / 7 + 2;
    if (len == 0 || maxlines >= UINT32_MAX / 2)
        return ic_error_set(err, IC_ERR_PARSE, "%s: no ranks", name);
    r->blob = malloc(len); /* decoded bytes are shorter than the text */
    r->off = malloc((maxlines + 1) * sizeof *r->off);
    r->filter = calloc(IC_FILTER_BITS / 64, sizeof *r->filter);
    r->lazy = ic__bt_lazy_new();
    if (!r->blob || !r->off || !r->filter || !r->lazy) {
        ic__ranks_free(r);
        return ic_error_set(err, IC_ERR_NOMEM, "%s: out of memory", name);
    }
    size_t pos = 0, blob = 0;
    uint32_t n = 0;
    while (pos < len) {
        const char *nl = memchr(text + pos, '\n', len - pos);
        size_t eol = nl ? (size_t)(nl - text) : len;
        const char *spp = memchr(text + pos, ' ', eol - pos);
        unsigned long lineno = (unsigned long)n + 1;
        if (!spp) {
            ic__ranks_free(r);
            return ic_error_set(err, IC_ERR_PARSE, "%s:%lu: expected \"BASE64 RANK\"", name, lineno);
        }
        size_t sp = (size_t)(spp - text);
        long dl = b64dec(text + pos, sp - pos, r->blob + blob);
        if (dl <= 0) {
            ic__ranks_free(r);
            return ic_error_set(err, IC_ERR_PARSE, "%s:%lu: bad base64 token", name, lineno);
        }
        uint64_t rank = 0;
        size_t q = sp + 1;
        if (q >= eol) {
            ic__ranks_free(r);
            return ic_error_set(err, IC_ERR_PARSE, "%s:%lu: missing rank", name, lineno);
        }
        for (; q < eol; q++) {
            if (text[q] < '0' || text[q] > '9' || rank > UINT32_MAX) {
                ic__ranks_free(r);
                return ic_error_set(err, IC_ERR_PARSE, "%s:%lu: bad rank", name, lineno);
            }
            rank = rank * 10 + (uint64_t)(text[q] - '0');
        }
        if (rank != n) {
            ic__ranks_free(r);
            return ic_error_set(err, IC_ERR_PARSE, "%s:%lu: rank %llu out of order (expected %lu)",
                                name, lineno, (unsigned long long)rank, (unsigned long)n);
        }
        const unsigned char *tb = r->blob + blob;
        size_t tl = (size_t)dl;
        for (size_t b2 = 0; b2 + 1 < tl; b2++) {
            unsigned bg = (unsigned)tb[b2] << 8 | tb[b2 + 1];
            r->inner[bg >> 6] |= 1ull << (bg & 63);
        }
        r->off[n] = (uint32_t)blob;
        blob += tl;
        if (tl > r->maxlen)
            r->maxlen = (uint32_t)tl;
        n++;
        pos = eol + 1;
    }
    r->off[n] = (uint32_t)blob;
    r->n = n;
    if (n >= 1u << 24) { /* a slot holds the rank in 24 bits */
        ic__ranks_free(r);
        return ic_error_set(err, IC_ERR_PARSE, "%s: %lu ranks, more than 16777216", name,
                            (unsigned long)n);
    }
    size_t slots = 1;
    int bits = 0;
    while (slots < (size_t)n * 5 / 2) {
        slots <<= 1;
        bits++;
    }
    r->slots = calloc(slots, sizeof *r->slots);
    if (!r->slots) {
        ic__ranks_free(r);
        return ic_error_set(err, IC_ERR_NOMEM, "%s: out of memory", name);
    }
    r->mask = slots - 1;
    r->shift = 64 - bits;
    if (build_short(r) != 0) {
        ic__ranks_free(r);
        return ic_error_set(err, IC_ERR_NOMEM, "%s: out of memory", name);
    }
    uint32_t t = insert_tokens(r);
    if (t != UINT32_MAX) {
        const unsigned char *tb = r->blob + r->off[t];
        uint32_t tl = r->off[t + 1] - r->off[t];
        uint32_t first = ic__rank_of_piece(r, tb, tl);
        ic__ranks_free(r);
        return ic_error_set(err, IC_ERR_PARSE, "%s:%lu: token repeats rank %u", name,
                            (unsigned long)t + 1, first);
    }
    r->pair2 = malloc(65536 * sizeof *r->pair2);
    if (!r->pair2) {
        ic__ranks_free(r);
        return ic_error_set(err, IC_ERR_NOMEM, "%s: out of memory", name);
    }
    for (unsigned k = 0; k < 65536; k++) {
        unsigned char two[2] = {(unsigned char)(k >> 8), (unsigned char)k};
        r->pair2[k] = ic__rank_of(r, two, 2);
    }
    for (int b = 0; b < 256; b++) {
        unsigned char c = (unsigned char)b;
        if ((r->byte1[b] = ic__rank_of(r, &c, 1)) == IC_RANK_NONE) {
            ic__ranks_free(r);
            return ic_error_set(err, IC_ERR_PARSE, "%s: byte 0x%02x has no rank", name, b);
        }
    }
    if (build_pairs(r) != 0) {
        ic__ranks_free(r);
        return ic_error_set(err, IC_ERR_NOMEM, "%s: out of memory", name);
    }
    return IC_OK;
}

void ic__bpe_scratch_free(ic__bpe_scratch *s)
{
    free(s->mem);
    s->mem = NULL;
    s->cap = 0;
}

/* a candidate of the merge: its key and hash (or short-table bucket), fetch started */
typedef struct cand {
    uint64_t k, h;
} cand;

static inline void prefetch_hashed(const ic__ranks *r, uint64_t h);

__attribute__((always_inline)) static inline cand cand_start(const ic__ranks *r, const unsigned char *p, size_t len)
{
    cand c;
    if (len - 3 <= 1 && r->shortb) {
        c.k = ic__short_key(p, len);
        c.h = ic__short_bucket_of(r, (uint32_t)c.k, len);
        __builtin_prefetch(&r->shortb[c.h]);
    } else {
        c.k = ic__key(p, len);
        c.h = ic__hash64(c.k, len);
        prefetch_hashed(r, c.h);
    }
    return c;
}

__attribute__((always_inline)) static inline uint32_t cand_rank(const ic__ranks *r, const unsigned char *p, size_t len, cand c)
{
    if (len - 3 <= 1 && r->shortb)
        return ic__short_find(r, (uint32_t)c.k, len, c.h);
    return ic__filter_has(r, c.h) ? ic__probe(r, p, len, c.k, c.h) : IC_RANK_NONE;
}

static inline void prefetch_hashed(const ic__ranks *r, uint64_t h)
{
    __builtin_prefetch(&r->filter[ic__filter_word(h)]);
    __builtin_prefetch(&r->slots[h >> r->shift]);
}

/* tiktoken's array scan for short pieces, with less work per step. The parts sit in compact
 * arrays: st[0..m] their start offsets (st[m] = len), rk[u] the rank of parts u and u + 1 joined,
 * shifted left by 6 (NONE: no such token). A join shifts the tails down by one, so the scan for
 * the lowest rank reads the live parts only, with narrow loads of what the step before stored
 * (the earlier form scanned every byte position in 16-byte loads of 4-byte stores, which stall
 * the store forwarding). Ties go to the leftmost pair: the scan ors the index in below the rank.
 * Needs ranks below 2^(32 - IDX_BITS) (merge_one checks).
 *
 * Before the scan, pairs of bytes that provably merge with each other first start as one part
 * (2-byte characters, and in ASCII words the pairs that rank below their neighbours). Bytes a b
 * that make a token of rank F are joined up front when nothing else can touch a or b first: a
 * merge that joins a with the part on its left makes a token ending in the two bytes z a (z:
 * the byte before a); one that joins b with the part on its right makes a token starting with
 * b d (d: the byte after b). If every token ending in z a and every token starting with b d has
 * a rank above F (r->e2, r->s2: the lowest such ranks), the lowest-rank-first merge joins a and
 * b at rank F before either could join anything else. Joining them up front also brings the
 * pairs (left part, ab) and (ab, right part) in early; each of those tokens ranks above F too,
 * provided every token of 2+ bytes is two tokens of lower rank joined (true of BPE training
 * and checked for a rank file by ic__ranks_check_premerge): a token ending in z a b is either
 * (... z a) + b, ranked above a token ending in z a, or a token ranked above a b itself, or
 * (... z a b) shorter, and so on down. So the merges come in the same order: the same result,
 * one join (and its two rank lookups) fewer per pair. */
/* The same for a whole 3-byte character a b c at p[i] (i + 2 < len) that is a token of rank F:
 * before it is one part, a merge across its left edge makes a token ending in z a, or z a b once
 * a b are joined; one across its right edge a token starting with c d, or b c d. If all of those
 * rank above F, the character is joined first, and a token ending in z a b c or starting with
 * a b c d ranks above F by the argument above. */
static inline int char3_first(const ic__ranks *r, const unsigned char *p, size_t len, size_t i)
{
    unsigned a = p[i], b = p[i + 1], c = p[i + 2];
    if (!cont(b) || !cont(c))
        return 0;
    uint32_t f = r->c3[(a & 15) << 12 | (b & 63) << 6 | (c & 63)];
    if (f == 0xFFFF)
        return 0;
    if (i > 0) {
        unsigned z = p[i - 1];
        uint32_t e = cont(z) ? r->e3[(z & 63) << 10 | (a & 15) << 6 | (b & 63)]
                             : r->e3x[(a & 15) << 6 | (b & 63)];
        if (f >= e || f >= r->e2[z << 8 | a])
            return 0;
    }
    if (i + 3 < len) {
        unsigned d = p[i + 3];
        uint32_t s = lead3(d) ? r->s3[(b & 63) << 10 | (c & 63) << 4 | (d & 15)]
                              : r->s3x[(b & 63) << 6 | (c & 63)];
        if (f >= s || f >= r->s2[c << 8 | d])
            return 0;
    }
    return 1;
}

/* The scan-and-join loop of merge_small over parts st[0..m] (st[m]: where the last ends) with
 * the ranks rk[0..m-2] of adjacent pairs; returns the number of parts left. Writes st and rk up
 * to 16 and 4 entries past m (the shifts). */
__attribute__((always_inline)) static inline size_t join_loop(const ic__ranks *r,
                                                              const unsigned char *p, uint8_t *st,
                                                              uint32_t *rk, size_t m)
{
    const uint32_t NONE = UINT32_MAX & ~IDX_MASK;
    while (m > 1) {
        uint32_t best = rk[0];
        for (size_t u = 1; u + 1 < m; u++) {
            uint32_t k = rk[u] | (uint32_t)u;
            best = k < best ? k : best;
        }
        if (best >= NONE)
            break;
        size_t b = best & IDX_MASK;
        /* join parts b and b + 1: drop st[b + 1] and rk[b + 1] */
#ifdef __SSE2__
        /* 16 bytes at a time (not a memmove call): each chunk is loaded before it is stored
         * over, and the next chunk lies past what was stored */
        for (size_t u = b + 1; u < m; u += 16)
            _mm_storeu_si128((__m128i *)(st + u), _mm_loadu_si128((const __m128i *)(st + u + 1)));
        for (size_t u = b + 1; u + 2 < m; u += 4)
            _mm_storeu_si128((__m128i *)(rk + u), _mm_loadu_si128((const __m128i *)(rk + u + 1)));
#else
        for (size_t u = b + 1; u < m; u++)
            st[u] = st[u + 1];
        for (size_t u = b + 1; u + 2 < m; u++)
            rk[u] = rk[u + 1];
#endif
        m--;
        size_t a = st[b], c = st[b + 1];
        size_t d = b + 2 <= m ? st[b + 2] : 0, z = b > 0 ? st[b - 1] : 0;
        /* the two new candidate pairs are independent: hash both and start both memory fetches
         * before waiting on either (the lookups are bound by cache misses) */
        cand c1 = {0, 0}, c0 = {0, 0};
        int right = b + 1 < m && d - a <= r->maxlen, left = b > 0 && c - z <= r->maxlen;
        if (right)
            c1 = cand_start(r, p + a, d - a);
        if (left)
            c0 = cand_start(r, p + z, c - z);
        uint32_t x = right ? cand_rank(r, p + a, d - a, c1) : IC_RANK_NONE;
        rk[b] = x == IC_RANK_NONE ? NONE : x << IDX_BITS;
        if (b > 0) {
            x = left ? cand_rank(r, p + z, c - z, c0) : IC_RANK_NONE;
            rk[b - 1] = x == IC_RANK_NONE ? NONE : x << IDX_BITS;
        }
    }
    return m;
}

/* The ranks of the adjacent pairs of parts st[0..m] into rk[0..m-2]: the lookups started
 * together, then read */
__attribute__((always_inline)) static inline void pair_ranks(const ic__ranks *r,
                                                             const unsigned char *p,
                                                             const uint8_t *st, uint32_t *rk,
                                                             size_t m)
{
    const uint32_t NONE = UINT32_MAX & ~IDX_MASK;
    cand cs[SMALL];
    for (size_t u = 0; u + 1 < m; u++) {
        size_t a = st[u], e = st[u + 2];
        if (e - a > 2)
            cs[u] = cand_start(r, p + a, e - a);
    }
    for (size_t u = 0; u + 1 < m; u++) {
        size_t a = st[u], e = st[u + 2];
        uint32_t x = e - a == 2 ? r->pair2[p[a] << 8 | p[a + 1]]
                                : cand_rank(r, p + a, e - a, cs[u]);
        rk[u] = x == IC_RANK_NONE ? NONE : x << IDX_BITS;
    }
}

/* Two adjacent whole 3-byte characters X Y that are each one part from the start (char3_first)
 * stay apart for good when no token has the six bytes X Y inside it: a join across their
 * boundary joins a part that ends in X with one that starts with Y, and makes a token with X Y
 * inside. So the piece cut there merges as its segments do, each on its own (as in
 * ic__bpe_merge's cut). In CJK text most such boundaries are cuts; a segment of one character is
 * one token without any lookup. The segments are merged from the last to the first, in place
 * (join_loop's shifts write past a segment's end, over the segments already done); their ranks
 * go to the end of out and are moved to its start at the end. */
__attribute__((noinline)) static size_t merge_cut(const ic__ranks *r, const unsigned char *p,
                                                  size_t len, uint32_t *out, uint8_t *st,
                                                  uint32_t *rk, size_t m, const uint8_t *cut,
                                                  size_t ncut)
{
    size_t total = 0, pos = len, hi = m;
    for (size_t k = ncut + 1; k-- > 0;) {
        size_t lo = k ? cut[k - 1] : 0, mm = hi - lo;
        uint8_t *s = st + lo;
        if (mm == 2) { /* one pair: joined if it is a token */
            if (ic__rank_of(r, p + s[0], s[2] - s[0]) != IC_RANK_NONE) {
                s[1] = s[2];
                mm = 1;
            }
        } else if (mm > 2) {
            pair_ranks(r, p, s, rk + lo, mm);
            mm = join_loop(r, p, s, rk + lo, mm);
        }
        if (out) {
            pos -= mm;
            for (size_t u = 0; u < mm; u++)
                out[pos + u] = ic__rank_of(r, p + s[u], s[u + 1] - s[u]);
        }
        total += mm;
        hi = lo;
    }
    if (out && pos)
        memmove(out, out + pos, total * sizeof *out);
    return total;
}

static size_t merge_small(const ic__ranks *r, const unsigned char *p, size_t len, uint32_t *out)
{
    const uint32_t NONE = UINT32_MAX & ~IDX_MASK;
    uint8_t st[SMALL + 33];  /* room for the 16-byte shifts below */
    uint32_t rk[SMALL + 8];
    size_t m = 0, joined = 0;
    const uint16_t *e2 = r->e2, *s2 = r->s2;
    const int sh16 = r->sh16;
    /* the parts where a segment starts (merge_cut), and where the last whole 3-byte character
     * part starts */
    uint8_t cut[SMALL / 3 + 2];
    size_t ncut = 0, last3 = (size_t)-8;
    for (size_t i = 0; i < len;) {
        unsigned a = p[i];
        st[m++] = (uint8_t)i;
        if (e2 && lead3(a) && i + 2 < len && char3_first(r, p, len, i)) {
            if (last3 + 3 == i) { /* a cut or not, without a branch on it */
                cut[ncut] = (uint8_t)(m - 1);
                ncut += !w6_maybe(r, p + last3);
            }
            last3 = i;
            i += 3;
            joined++;
            continue;
        }
        if (e2 && i + 1 < len) {
            unsigned b = p[i + 1];
            uint32_t f = r->pair2[a << 8 | b] >> sh16; /* none: above 0xFFFF */
            if (f < 0xFFFF && (i == 0 || f < e2[p[i - 1] << 8 | a]) &&
                (i + 2 >= len || f < s2[b << 8 | p[i + 2]])) {
                i += 2;
                joined++;
                continue;
            }
        }
        i++;
    }
    st[m] = (uint8_t)len;
    if (ncut)
        return merge_cut(r, p, len, out, st, rk, m, cut, ncut);
    if (!joined) {
        for (size_t u = 0; u + 1 < m; u++) {
            uint32_t x = r->pair2[p[u] << 8 | p[u + 1]];
            rk[u] = x == IC_RANK_NONE ? NONE : x << IDX_BITS;
        }
    } else {
        /* the pairs that involve a joined character */
        pair_ranks(r, p, st, rk, m);
    }
    m = join_loop(r, p, st, rk, m);
    if (out)
        for (size_t u = 0; u < m; u++)
            out[u] = ic__rank_of(r, p + st[u], st[u + 1] - st[u]);
    return m;
}

/* 4-ary min-heap of (rank << 32 | position): half the depth of a binary heap and siblings in
 * one cache line, which matters when a 10 MB piece puts 10 million entries in it */
static void heap_push(uint64_t *h, size_t *n, uint64_t v)
{
    size_t i = (*n)++;
    while (i > 0) {
        size_t parent = (i - 1) / 4;
        if (h[parent] <= v)
            break;
        h[i] = h[parent];
        i = parent;
    }
    h[i] = v;
}

static void heap_down(uint64_t *h, size_t cnt, size_t i, uint64_t v)
{
    for (;;) {
        size_t c = 4 * i + 1;
        if (c >= cnt)
            break;
        size_t best = c;
        size_t end = c + 4 < cnt ? c + 4 : cnt;
        for (size_t k = c + 1; k < end; k++)
            if (h[k] < h[best])
                best = k;
        if (h[best] >= v)
            break;
        h[i] = h[best];
        i = best;
    }
    h[i] = v;
}

static uint64_t heap_pop(uint64_t *h, size_t *n)
{
    uint64_t top = h[0], v = h[--*n];
    if (*n)
        heap_down(h, *n, 0, v);
    return top;
}

static size_t merge_large(const ic__ranks *r, const unsigned char *p, size_t len, uint32_t *out,
                          ic__bpe_scratch *sc)
{
    /* per byte position: next, prev (uint32), pair rank (uint32); heap: up to 3 * len entries */
    size_t need = len * 3 * sizeof(uint32_t) + (3 * len + 1) * sizeof(uint64_t);
    if (sc->cap < need) {
        void *m = realloc(sc->mem, need);
        if (!m)
            return 0;
        sc->mem = m;
        sc->cap = need;
    }
    uint64_t *heap = sc->mem;
    uint32_t *next = (uint32_t *)(heap + 3 * len + 1), *prev = next + len, *pr = prev + len;
    const uint32_t DEAD = UINT32_MAX, END = (uint32_t)len;
    size_t hn = 0;
    for (size_t i = 0; i < len; i++) {
        next[i] = (uint32_t)(i + 1);
        prev[i] = (uint32_t)(i ? i - 1 : DEAD);
        pr[i] = i + 1 < len ? r->pair2[p[i] << 8 | p[i + 1]] : IC_RANK_NONE;
        if (pr[i] != IC_RANK_NONE)
            heap[hn++] = (uint64_t)pr[i] << 32 | i;
    }
    /* heapify */
    if (hn > 1)
        for (size_t k = (hn - 2) / 4 + 1; k-- > 0;)
            heap_down(heap, hn, k, heap[k]);
    size_t parts = len;
    while (hn) {
        uint64_t top = heap_pop(heap, &hn);
        uint32_t rk = (uint32_t)(top >> 32), i = (uint32_t)top;
        if (next[i] == DEAD || next[i] == END || pr[i] != rk)
            continue; /* stale */
        uint32_t j = next[i], k = next[j];
        next[i] = k;
        if (k != END)
            prev[k] = i;
        next[j] = DEAD;
        parts--;
        if (k != END) {
            pr[i] = ic__rank_of(r, p + i, next[k] - i);
            if (pr[i] != IC_RANK_NONE)
                heap_push(heap, &hn, (uint64_t)pr[i] << 32 | i);
        } else {
            pr[i] = IC_RANK_NONE;
        }
        if (prev[i] != DEAD) {
            uint32_t a = prev[i];
            pr[a] = ic__rank_of(r, p + a, k - a);
            if (pr[a] != IC_RANK_NONE)
                heap_push(heap, &hn, (uint64_t)pr[a] << 32 | a);
        }
    }
    if (out) {
        size_t o = 0;
        for (uint32_t i = 0; i != END; i = next[i])
            out[o++] = ic__rank_of(r, p + i, next[i] - i);
    }
    return parts;
}

size_t ic__bpe_merge_heap(const ic__ranks *r, const unsigned char *p, size_t len, uint32_t *out,
                          ic__bpe_scratch *scratch)
{
    if (len == 1) {
        if (out)
            out[0] = ic__rank_of(r, p, 1);
        return 1;
    }
    return merge_large(r, p, len, out, scratch);
}

static size_t merge_one(const ic__ranks *r, const unsigned char *p, size_t len, uint32_t *out,
                        ic__bpe_scratch *scratch)
{
    if (len == 1) {
        if (out)
            out[0] = ic__rank_of(r, p, 1);
        return 1;
    }
    if (len <= SMALL && r->n < (1u << (32 - IDX_BITS)))
        return merge_small(r, p, len, out);
    const ic__bt *bt = len >= BACKTRACK_MIN ? ic__bt_get(r) : NULL;
    if (bt) {
        size_t got = ic__bt_encode(r, bt, p, len, out, scratch);
        if (got)
            return got;
    }
    return merge_large(r, p, len, out, scratch);
}

/* A long piece is first cut where two adjacent bytes occur together in no token: no merge can
 * ever join across such a point (the joined bytes would contain that pair), so the parts merge
 * independently and their results concatenate to exactly the whole piece's result. This keeps a
 * giant word of random letters in short, cache-friendly merges. */
size_t ic__bpe_merge(const ic__ranks *r, const unsigned char *p, size_t len, uint32_t *out,
                     ic__bpe_scratch *scratch)
{
    if (len <= SMALL)
        return merge_one(r, p, len, out, scratch);
    size_t total = 0, start = 0;
    for (size_t i = 0; i + 1 < len; i++) {
        unsigned bg = (unsigned)p[i] << 8 | p[i + 1];
        if (r->inner[bg >> 6] >> (bg & 63) & 1)
            continue;
        size_t got = merge_one(r, p + start, i + 1 - start, out ? out + total : NULL, scratch);
        if (!got)
            return 0;
        total += got;
        start = i + 1;
    }
    size_t got = merge_one(r, p + start, len - start, out ? out + total : NULL, scratch);
    return got ? total + got : 0;
}
