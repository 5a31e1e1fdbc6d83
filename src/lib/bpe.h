/* bpe.h: internal. The rank table of a tiktoken encoding (token bytes <-> rank) and the
 * byte-pair merge of one pre-split piece, exactly as tiktoken's _byte_pair_merge decides it
 * (lowest rank first, leftmost on ties). No text splitting and no special tokens here. */
#ifndef IC_BPE_H
#define IC_BPE_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "infercost/status.h"

#define IC_RANK_NONE UINT32_MAX
/* A Bloom filter in front of the table: most byte strings the merge asks about are not tokens,
 * and the filter (256 KB, cache-resident) answers those without touching the 8 MB table. Blocked:
 * a token sets two bits of one 64-bit word, so a query reads one word. It holds the tokens that
 * are not in the short table (bpe.c: 1-2 and 5+ bytes), about 155,000 for o200k_base: about 2%
 * false positives. */
#define IC_FILTER_BITS (1u << 21)

/* A token's slot. For tokens of up to 12 bytes key and ext together are the bytes themselves (a
 * hit needs no byte compare): up to 8 bytes key is them (ext 0); 9 to 12 bytes key is the first 8
 * xor a mix of the last 4 and ext the last 4 (for a given ext, key determines the first 8). For
 * longer tokens key is a digest and ext the offset of the token's bytes in the blob, compared
 * on a hit (one fetch, not two through off[]). */
typedef struct ic__slot {
    uint64_t key;
    uint32_t ext;
    uint32_t rl;   /* rank | min(len, 255) << 24 (ranks below 2^24); 0: empty slot */
} ic__slot;
#define IC_SLOT_RANK(s) ((s)->rl & 0xFFFFFFu)
static inline uint32_t ic__slot_len(size_t len) { return (uint32_t)(len < 255 ? len : 255) << 24; }

/* The tokens of 3 and 4 bytes (a third of the merge's lookups and most short pieces) in a table
 * of their own, small enough to stay in the L2 cache (1 MB for o200k_base, 512 KB for
 * cl100k_base): a 64-byte bucket
 * holds 8 exact keys (the bytes themselves) and values (rank | len << 24), filled in order, so
 * one cache line answers both "this rank" and "no such token" (without the Bloom filter and the
 * 8 MB table). A full bucket continues in the next one. */
#define IC_SHORT_WAYS 8
typedef struct ic__short_bucket {
    uint32_t key[IC_SHORT_WAYS];
    uint32_t val[IC_SHORT_WAYS]; /* 0: empty (no token of 3 or 4 bytes has val 0) */
} ic__short_bucket;

typedef struct ic__bt ic__bt;           /* backtracking tables (bpe_backtrack.c) */
typedef struct ic__bt_lazy ic__bt_lazy; /* built on first use, shared by threads */

typedef struct ic__ranks {
    uint32_t n;          /* number of ranks: 0..n-1 */
    uint32_t maxlen;     /* longest token in bytes */
    unsigned char *blob; /* token bytes, back to back */
    uint32_t *off;       /* n + 1 offsets into blob */
    ic__slot *slots;
    uint32_t *pair2;     /* 65536: rank of each 2-byte token, IC_RANK_NONE if none */
    uint32_t byte1[256]; /* rank of each single byte */
    /* for the pre-merge (bpe.c): e2[z << 8 | a], the lowest rank of a token ending in bytes
     * z a; s2[b << 8 | d], of a token starting with b d; shifted by sh16 (below) */
    uint16_t *e2, *s2;
    /* for the pre-merge of whole 3-byte characters (bpe.c), the same kind of 16-bit ranks (shifted
     * by sh16), indexed by the low bits of the bytes (a 3-byte lead & 15, a continuation byte & 63):
     * c3[a b c] the character's own rank; e3[z a b] the lowest rank of a token ending in z a b (z a
     * continuation byte), e3x[a b] of one ending in a b after any other byte; s3[b c d] of a token
     * starting with b c d (d a 3-byte lead), s3x[b c] of one starting with b c then any other byte.
     * One block from c3 on (NULL with e2). */
    uint16_t *c3, *e3, *e3x, *s3, *s3x;
    ic__short_bucket *shortb; /* the 3- and 4-byte tokens; NULL when ranks do not fit 24 bits */
    size_t short_mask;
    int short_shift;
    uint64_t *filter;    /* IC_FILTER_BITS bits: a token may have this hash (see ic__rank_of) */
    uint64_t inner[1024]; /* bit (a << 8 | b): some token has the bytes a, b next to each other */
    size_t mask;
    int shift;
    ic__bt_lazy *lazy;   /* the backtracking tables, once a long piece needs them */
    /* for the cut between two whole 3-byte characters (bpe.c): a blocked Bloom filter (two bits of
     * one word, 64 KB at the end of the c3 block) of every 6 bytes inside a token that are two
     * 3-byte characters; NULL with e2 */
    uint64_t *w6;
    /* e2, s2 and the 3-byte character tables hold ranks shifted right by sh16, so that every rank
     * fits below 0xFFFF ("none"); a bound B there means "rank B << sh16 or above" */
    int sh16;
} ic__ranks;

/* Parse a .tiktoken rank file ("BASE64 RANK" per line, ranks 0..n-1 in order); name is used in
 * messages ("o200k_base.tiktoken:17: ..."). */
ic_status ic__ranks_load(ic__ranks *r, const char *text, size_t len, const char *name,
                         ic_error *err);
void ic__ranks_free(ic__ranks *r);
/* Keep the pre-merge of bpe.c only if every token of 2+ bytes is two lower-ranked tokens
 * joined (what makes it exact): for rank files that do not come with the build. */
void ic__ranks_check_premerge(ic__ranks *r);

/* Scratch memory for long pieces, reused across pieces of one call. */
typedef struct ic__bpe_scratch {
    void *mem;
    size_t cap;
} ic__bpe_scratch;
void ic__bpe_scratch_free(ic__bpe_scratch *s);

/* Merge piece p[0..len) (len >= 1). Writes the ranks to out (room for len entries) unless out is
 * NULL; returns the number of tokens, or 0 when scratch memory could not be allocated. */
size_t ic__bpe_merge(const ic__ranks *r, const unsigned char *p, size_t len, uint32_t *out,
                     ic__bpe_scratch *scratch);

/* Backtracking BPE (bpe_backtrack.c): linear time, same result as ic__bpe_merge. */
ic__bt *ic__bt_build(const ic__ranks *r); /* NULL: out of memory or vocabulary too large */
void ic__bt_free(ic__bt *bt);
ic__bt_lazy *ic__bt_lazy_new(void);
void ic__bt_lazy_free(ic__bt_lazy *l);
/* the tables of r, built on first call (thread-safe); NULL if they cannot be built */
const ic__bt *ic__bt_get(const ic__ranks *r);
/* whether BPE can output token id (its own bytes merge into it) */
int ic__bt_usable(const ic__bt *bt, uint32_t id);
/* Encode p[0..len) (len >= 1): ranks to out (room for len) unless NULL; the number of tokens,
 * or 0 when scratch memory could not be allocated or the tables are inconsistent. */
size_t ic__bt_encode(const ic__ranks *r, const ic__bt *bt, const unsigned char *p, size_t len,
                     uint32_t *out, ic__bpe_scratch *scratch);
/* The heap merge alone (no cut, no backtracking): the slow reference for tests. */
size_t ic__bpe_merge_heap(const ic__ranks *r, const unsigned char *p, size_t len, uint32_t *out,
                          ic__bpe_scratch *scratch);

static inline uint64_t ic__load64(const unsigned char *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
}
static inline uint32_t ic__load32(const unsigned char *p)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}

/* Injective for a given length up to 8, and up to 12 together with the last 4 bytes (the slot's
 * ext); a digest above. */
static inline uint64_t ic__key(const unsigned char *p, size_t len)
{
    if (len >= 4) {
        if (len <= 8)
            return (uint64_t)ic__load32(p) | (uint64_t)ic__load32(p + len - 4) << 32;
        if (len <= 12) /* exact with ic__ext */
            return ic__load64(p) ^ (uint64_t)ic__load32(p + len - 4) * 0x9E3779B97F4A7C15ull;
        uint64_t a = ic__load64(p), b = ic__load64(p + len - 8);
        return a ^ (b * 0x9E3779B97F4A7C15ull) ^ (b >> 29);
    }
    return (uint64_t)p[0] | (uint64_t)p[len >> 1] << 8 | (uint64_t)p[len - 1] << 16;
}

static inline uint64_t ic__hash64(uint64_t key, size_t len)
{
    uint64_t h = (key ^ ((uint64_t)len << 56)) * 0xD6E8FEB86659FD93ull;
    h ^= h >> 32;
    return h * 0xD6E8FEB86659FD93ull;
}

static inline size_t ic__hash(const ic__ranks *r, uint64_t key, size_t len)
{
    return (size_t)(ic__hash64(key, len) >> r->shift);
}

static inline size_t ic__filter_word(uint64_t h) { return (size_t)(h >> 8) & (IC_FILTER_BITS / 64 - 1); }
static inline uint64_t ic__filter_bits(uint64_t h)
{
    return 1ull << ((h >> 30) & 63) | 1ull << ((h >> 36) & 63);
}
static inline int ic__filter_has(const ic__ranks *r, uint64_t h)
{
    uint64_t m = ic__filter_bits(h);
    return (r->filter[ic__filter_word(h)] & m) == m;
}

/* bytes equal, for len > 8 (the first and last 8 bytes are already equal through the key) */
static inline int ic__same_long(const unsigned char *a, const unsigned char *b, size_t len)
{
    for (size_t i = 0; i + 8 < len; i += 8)
        if (ic__load64(a + i) != ic__load64(b + i))
            return 0;
    return ic__load64(a + len - 8) == ic__load64(b + len - 8);
}

/* 3- and 4-byte tokens: key (the bytes, little-endian; equal to (uint32_t)ic__key for these
 * lengths), its bucket, and the lookup */
static inline uint32_t ic__short_key(const unsigned char *p, size_t len)
{
    return len == 4 ? ic__load32(p) : (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16;
}
static inline size_t ic__short_bucket_of(const ic__ranks *r, uint32_t key, size_t len)
{
    uint64_t h = ((uint64_t)key << 3 | len) * 0x9E3779B97F4A7C15ull;
    return (size_t)(h >> r->short_shift) & r->short_mask;
}
static inline uint32_t ic__short_find(const ic__ranks *r, uint32_t key, size_t len, size_t b)
{
    for (;;) {
        const ic__short_bucket *bk = &r->shortb[b];
#ifdef __SSE2__
        __m128i k = _mm_set1_epi32((int)key);
        unsigned m = (unsigned)_mm_movemask_ps(_mm_castsi128_ps(
                         _mm_cmpeq_epi32(k, _mm_load_si128((const __m128i *)bk->key)))) |
                     (unsigned)_mm_movemask_ps(_mm_castsi128_ps(
                         _mm_cmpeq_epi32(k, _mm_load_si128((const __m128i *)bk->key + 1))))
                         << 4;
        while (m) {
            unsigned i = (unsigned)__builtin_ctz(m);
            if (bk->val[i] >> 24 == len)
                return bk->val[i] & 0xFFFFFFu;
            m &= m - 1;
        }
        if (bk->val[IC_SHORT_WAYS - 1] == 0)
            return IC_RANK_NONE;
#else
        for (int i = 0; i < IC_SHORT_WAYS; i++) {
            uint32_t v = bk->val[i];
            if (v == 0)
                return IC_RANK_NONE;
            if (bk->key[i] == key && v >> 24 == len)
                return v & 0xFFFFFFu;
        }
#endif
        b = (b + 1) & r->short_mask;
    }
}

/* Start the fetches of the short-table buckets of every 3- and 4-byte substring of p[0..len):
 * the merge asks about some of them one step after another, each step waiting on the previous
 * one; fetched together ahead of time, their cache misses overlap. Only a hint. */
/* A prefetch the compiler keeps: GCC deletes a loop whose body is only __builtin_prefetch
 * calls (they have no side effect it must preserve), so on x86 the instruction is written out. */
static inline void ic__prefetch(const void *a)
{
#if defined(__x86_64__) || defined(__i386__)
    __asm__ volatile("prefetcht0 %0" : : "m"(*(const char *)a));
#else
    __builtin_prefetch(a);
#endif
}

static inline void ic__bpe_prefetch(const ic__ranks *r, const unsigned char *p, size_t len)
{
    if (r->shortb && len >= 4)
        for (size_t i = 0; i + 4 <= len; i++) {
            if ((p[i] & 0xC0) == 0x80) /* mid-character: seldom where a part starts */
                continue;
            ic__prefetch(&r->shortb[ic__short_bucket_of(r, ic__short_key(p + i, 3), 3)]);
            ic__prefetch(&r->shortb[ic__short_bucket_of(r, ic__load32(p + i), 4)]);
        }
}

/* a slot of a token of 13+ bytes whose key and length match: the bytes compared (out of line:
 * rare, and kept out of the merge's code) */
__attribute__((noinline, unused)) static int ic__slot_same_long(const ic__ranks *r, const ic__slot *s,
                                                                const unsigned char *p, size_t len)
{
    uint32_t k = IC_SLOT_RANK(s);
    return (len < 255 || r->off[k + 1] - r->off[k] == len) && ic__same_long(r->blob + s->ext, p, len);
}

static inline uint32_t ic__probe(const ic__ranks *r, const unsigned char *p, size_t len,
                                 uint64_t k, uint64_t h64)
{
    size_t h = (size_t)(h64 >> r->shift);
    const uint32_t lt = ic__slot_len(len);
    for (;;) {
        const ic__slot *s = &r->slots[h];
        if (s->rl == 0)
            return IC_RANK_NONE;
        if (s->key == k && (s->rl & 0xFF000000u) == lt &&
            (len <= 8 || (len <= 12 ? s->ext == ic__load32(p + len - 4)
                                    : ic__slot_same_long(r, s, p, len))))
            return IC_SLOT_RANK(s);
        h = (h + 1) & r->mask;
    }
}

/* The rank of the token with exactly these bytes, or IC_RANK_NONE. Through the filter: for the
 * merge's questions, most of which have the answer "none". */
static inline uint32_t ic__rank_of(const ic__ranks *r, const unsigned char *p, size_t len)
{
    if (len > r->maxlen)
        return IC_RANK_NONE;
    if (len - 3 <= 1 && r->shortb) {
        uint32_t k = ic__short_key(p, len);
        return ic__short_find(r, k, len, ic__short_bucket_of(r, k, len));
    }
    uint64_t k = ic__key(p, len);
    uint64_t h64 = ic__hash64(k, len);
    if (!ic__filter_has(r, h64))
        return IC_RANK_NONE;
    return ic__probe(r, p, len, k, h64);
}

/* The same without the filter: for whole pieces, which are tokens more often than not. */
static inline uint32_t ic__rank_of_piece(const ic__ranks *r, const unsigned char *p, size_t len)
{
    if (len > r->maxlen)
        return IC_RANK_NONE;
    if (len - 3 <= 1 && r->shortb) {
        uint32_t k = ic__short_key(p, len);
        return ic__short_find(r, k, len, ic__short_bucket_of(r, k, len));
    }
    uint64_t k = ic__key(p, len);
    return ic__probe(r, p, len, k, ic__hash64(k, len));
}

#endif
