/* bpe_backtrack.c: linear-time exact BPE for long pieces ("backtracking" BPE, the algorithm of
 * GitHub's `bpe` crate, written here from its published description). It gives the same ids as
 * tiktoken's merge (lowest rank first, leftmost on ties) without simulating the merges, so 10 MB
 * of one letter or of spaces cost time proportional to their length. No text splitting, no
 * special tokens, no per-call state beyond the caller's scratch memory.
 *
 * Facts it rests on (checked against the heap merge in tests/unit/test_tokenizer.c):
 * - every token BPE can output is "reachable": BPE of its own bytes gives the token itself, and
 *   its last merge joined two reachable tokens (left, right), both of lower rank (its "split").
 *   Splits are recovered in rank order: the longest prefix token `left` such that the rest is a
 *   token `right`, both ranked lower, and (left, right) a compatible pair (below). A token
 *   without such a split (other than single bytes) is never output by BPE and never matched.
 * - two adjacent tokens (a, b) are "compatible" when BPE of bytes(a) + bytes(b) gives [a, b]:
 *   undo the merges of a (from its right end) and of b (from its left end) in reverse rank
 *   order and check that no merge across the boundary would have come first (pair_ok).
 * - the BPE of a text is its only encoding whose adjacent tokens are all compatible. The
 *   encoder builds it left to right, trying the longest token first, then shorter prefixes; a
 *   position from which no compatible continuation exists is marked dead (a bit per byte) and
 *   the previous token is retried shorter. Every position dies at most once: linear time for a
 *   bounded token length.
 * The tables (about 7 MB for o200k_base) are built on first use by ic__bt_get, not at load:
 * ordinary text rarely has a piece long enough to need them. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "bpe.h"

#define PFX_BITS (1u << 22) /* prefix filter: "some token starts with these bytes" (512 KB) */
#define ID_BITS 20          /* pair table packs three ids of up to 20 bits in one word */

struct ic__bt {
    uint32_t n;
    uint32_t *split;  /* 2n: left, right; a single byte or unreachable token: (id, id) */
    uint32_t *prefix; /* n: longest proper prefix that is a reachable token, or NONE */
    uint64_t *usable; /* n bits: reachable (BPE can output it) */
    uint64_t *pairs;  /* ((a + 1) << 40 | b << 20 | merged), 0 empty; open addressing */
    size_t pmask;
    int pshift;
    uint64_t *pfx; /* PFX_BITS bits over ic__hash64 of every prefix of every reachable token */
};

struct ic__bt_lazy {
    pthread_mutex_t mu;
    _Atomic(ic__bt *) bt;
    atomic_int failed;
};

static inline uint32_t tok_len(const ic__ranks *r, uint32_t id) { return r->off[id + 1] - r->off[id]; }

static inline size_t pair_hash(const ic__bt *bt, uint32_t a, uint32_t b)
{
    uint64_t h = ((uint64_t)a << ID_BITS | b) * 0x9E3779B97F4A7C15ull;
    return (size_t)(h >> bt->pshift);
}

/* the token that BPE makes of the adjacent pair (a, b), or NONE */
static inline uint32_t pair_get(const ic__bt *bt, uint32_t a, uint32_t b)
{
    uint64_t want = ((uint64_t)a + 1) << 40 | (uint64_t)b << ID_BITS;
    for (size_t h = pair_hash(bt, a, b);; h = (h + 1) & bt->pmask) {
        uint64_t e = bt->pairs[h];
        if (e == 0)
            return IC_RANK_NONE;
        if ((e & ~(uint64_t)((1u << ID_BITS) - 1)) == want)
            return (uint32_t)(e & ((1u << ID_BITS) - 1));
    }
}

static void pair_put(ic__bt *bt, uint32_t a, uint32_t b, uint32_t merged)
{
    size_t h = pair_hash(bt, a, b);
    while (bt->pairs[h])
        h = (h + 1) & bt->pmask;
    bt->pairs[h] = ((uint64_t)a + 1) << 40 | (uint64_t)b << ID_BITS | merged;
}

/* Is BPE(bytes(a) + bytes(b)) == [a, b]? Walk a's merges back from its right end and b's from
 * its left end, the later (higher-ranked) merge first; if at some point the two innermost parts
 * would merge into a token ranked before the merge being undone, the boundary would not
 * survive. limit: a's own merge must lose to a lower rank; b's also to an equal one (a tie goes
 * to the leftmost pair, which is the crossing one). */
static inline int pair_ok(const ic__bt *bt, uint32_t a, uint32_t b)
{
    uint32_t limit = UINT32_MAX;
    for (;;) {
        uint32_t m = pair_get(bt, a, b);
        if (m != IC_RANK_NONE && m < limit)
            return 0;
        if (a > b) {
            limit = a;
            a = bt->split[2 * a + 1];
            if (a == limit) {
                limit = b + 1;
                b = bt->split[2 * b];
                if (b + 1 == limit)
                    return 1;
            }
        } else {
            limit = b + 1;
            b = bt->split[2 * b];
            if (b + 1 == limit) {
                limit = a;
                a = bt->split[2 * a + 1];
                if (a == limit)
                    return 1;
            }
        }
    }
}

static inline uint32_t pfx_bit(uint64_t h) { return (uint32_t)(h >> 40) & (PFX_BITS - 1); }

static inline int usable(const ic__bt *bt, uint32_t id) { return (int)(bt->usable[id >> 6] >> (id & 63) & 1); }

void ic__bt_free(ic__bt *bt)
{
    if (!bt)
        return;
    free(bt->split);
    free(bt->prefix);
    free(bt->usable);
    free(bt->pairs);
    free(bt->pfx);
    free(bt);
}

ic__bt *ic__bt_build(const ic__ranks *r)
{
    if (r->n == 0 || r->n >= (1u << ID_BITS) - 1)
        return NULL;
    ic__bt *bt = calloc(1, sizeof *bt);
    if (!bt)
        return NULL;
    uint32_t n = bt->n = r->n;
    size_t slots = 1;
    int bits = 0;
    while (slots < (size_t)n * 5 / 2) {
        slots <<= 1;
        bits++;
    }
    bt->pmask = slots - 1;
    bt->pshift = 64 - bits;
    bt->split = malloc(2 * (size_t)n * sizeof *bt->split);
    bt->prefix = malloc((size_t)n * sizeof *bt->prefix);
    bt->usable = calloc((n + 63) / 64, sizeof *bt->usable);
    bt->pairs = calloc(slots, sizeof *bt->pairs);
    bt->pfx = calloc(PFX_BITS / 64, sizeof *bt->pfx);
    uint32_t *any_prefix = malloc((size_t)n * sizeof *any_prefix);
    if (!bt->split || !bt->prefix || !bt->usable || !bt->pairs || !bt->pfx || !any_prefix) {
        free(any_prefix);
        ic__bt_free(bt);
        return NULL;
    }
    /* longest proper prefix that is a token at all */
    for (uint32_t id = 0; id < n; id++) {
        const unsigned char *t = r->blob + r->off[id];
        uint32_t p = IC_RANK_NONE;
        for (size_t k = tok_len(r, id); k-- > 1;)
            if ((p = ic__rank_of(r, t, k)) != IC_RANK_NONE)
                break;
        any_prefix[id] = p;
    }
    /* splits, in rank order (a split's parts rank lower, so they are already known) */
    for (uint32_t id = 0; id < n; id++) {
        const unsigned char *t = r->blob + r->off[id];
        size_t len = tok_len(r, id);
        bt->split[2 * id] = bt->split[2 * id + 1] = id;
        int ok = len == 1;
        if (len >= 2)
            for (uint32_t a = any_prefix[id]; a != IC_RANK_NONE; a = any_prefix[a]) {
                size_t la = tok_len(r, a);
                uint32_t b = ic__rank_of(r, t + la, len - la);
                if (b == IC_RANK_NONE || a >= id || b >= id || !usable(bt, a) || !usable(bt, b) ||
                    !pair_ok(bt, a, b))
                    continue;
                bt->split[2 * id] = a;
                bt->split[2 * id + 1] = b;
                pair_put(bt, a, b, id);
                ok = 1;
                break;
            }
        if (ok) {
            bt->usable[id >> 6] |= 1ull << (id & 63);
            for (size_t k = 1; k <= len; k++) {
                uint32_t fb = pfx_bit(ic__hash64(ic__key(t, k), k));
                bt->pfx[fb >> 6] |= 1ull << (fb & 63);
            }
        }
    }
    for (uint32_t id = 0; id < n; id++) {
        uint32_t p = any_prefix[id];
        while (p != IC_RANK_NONE && !usable(bt, p))
            p = any_prefix[p];
        bt->prefix[id] = p;
    }
    free(any_prefix);
    return bt;
}

int ic__bt_usable(const ic__bt *bt, uint32_t id) { return id < bt->n && usable(bt, id); }

ic__bt_lazy *ic__bt_lazy_new(void)
{
    ic__bt_lazy *l = calloc(1, sizeof *l);
    if (!l)
        return NULL;
    if (pthread_mutex_init(&l->mu, NULL) != 0) {
        free(l);
        return NULL;
    }
    atomic_init(&l->bt, NULL);
    atomic_init(&l->failed, 0);
    return l;
}

void ic__bt_lazy_free(ic__bt_lazy *l)
{
    if (!l)
        return;
    ic__bt_free(atomic_load(&l->bt));
    pthread_mutex_destroy(&l->mu);
    free(l);
}

const ic__bt *ic__bt_get(const ic__ranks *r)
{
    ic__bt_lazy *l = r->lazy;
    if (!l)
        return NULL;
    ic__bt *bt = atomic_load_explicit(&l->bt, memory_order_acquire);
    if (bt || atomic_load_explicit(&l->failed, memory_order_relaxed))
        return bt;
    pthread_mutex_lock(&l->mu);
    bt = atomic_load_explicit(&l->bt, memory_order_relaxed);
    if (!bt && !atomic_load_explicit(&l->failed, memory_order_relaxed)) {
        bt = ic__bt_build(r);
        if (bt)
            atomic_store_explicit(&l->bt, bt, memory_order_release);
        else
            atomic_store_explicit(&l->failed, 1, memory_order_relaxed); /* the heap merge stays */
    }
    pthread_mutex_unlock(&l->mu);
    return bt;
}

/* the longest reachable token that p[0..rem) starts with (a single byte at least) */
static inline uint32_t longest(const ic__ranks *r, const ic__bt *bt, const unsigned char *p,
                               size_t rem)
{
    size_t lim = rem < r->maxlen ? rem : r->maxlen, k = 1;
    while (k < lim) {
        uint32_t fb = pfx_bit(ic__hash64(ic__key(p, k + 1), k + 1));
        if (!(bt->pfx[fb >> 6] >> (fb & 63) & 1))
            break;
        k++;
    }
    for (; k > 1; k--) {
        uint32_t id = ic__rank_of(r, p, k);
        if (id != IC_RANK_NONE && usable(bt, id))
            return id;
    }
    return ic__rank_of(r, p, 1);
}

size_t ic__bt_encode(const ic__ranks *r, const ic__bt *bt, const unsigned char *p, size_t len,
                     uint32_t *out, ic__bpe_scratch *sc)
{
    size_t words = (len + 1) / 64 + 1;
    size_t need = words * sizeof(uint64_t) + len * sizeof(uint32_t);
    if (sc->cap < need) {
        void *m = realloc(sc->mem, need);
        if (!m)
            return 0;
        sc->mem = m;
        sc->cap = need;
    }
    uint64_t *alive = sc->mem;   /* bit e: a token may still end at e */
    uint32_t *stack = (uint32_t *)(alive + words);
    memset(alive, 0xff, words * sizeof *alive);
    size_t nt = 0, pos = 0;
    uint32_t next = longest(r, bt, p, len);
    while (pos < len) {
        uint32_t tok = next, last = nt ? stack[nt - 1] : IC_RANK_NONE;
        for (;;) {
            size_t end = pos + tok_len(r, tok);
            if ((alive[end >> 6] >> (end & 63) & 1) && (last == IC_RANK_NONE || pair_ok(bt, last, tok))) {
                stack[nt++] = tok;
                pos = end;
                if (pos < len)
                    next = longest(r, bt, p + pos, len - pos);
                break;
            }
            if (bt->prefix[tok] != IC_RANK_NONE) {
                tok = bt->prefix[tok];
                continue;
            }
            /* no compatible token starts at pos: pos is no boundary of the BPE; retry the
             * previous token shorter */
            if (nt == 0)
                return 0; /* impossible for a consistent vocabulary; the caller falls back */
            alive[pos >> 6] &= ~(1ull << (pos & 63));
            nt--;
            pos -= tok_len(r, last);
            next = last;
            break;
        }
    }
    if (out)
        memcpy(out, stack, nt * sizeof *out);
    return nt;
}
