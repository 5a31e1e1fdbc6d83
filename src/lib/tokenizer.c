/* tokenizer.c: the public tiktoken-exact tokenizer: opens an encoding (embedded rank file ->
 * bpe.c's table), finds special tokens when allowed, runs the pre-split (pretokenize.c) and the
 * merge (bpe.c) over each piece, and decodes. Also the model -> encoding map. It never prints and
 * knows nothing about chat requests or prices (estimate.c does).
 *
 * The hot loop: pieces are produced in batches of 64 ends; when counting, a piece of one byte is
 * one token without a lookup; a piece that is itself a token (most of them) costs one hash probe
 * (where many are not, the Bloom filter is asked first), the probes of a batch overlapping in
 * memory; the rest go through a per-call cache of merged pieces (or a counter's, kept from call
 * to call), then the merge.
 * A counter's count_many fills its batches with the pieces of several texts.
 * Special-token text is found with memmem on "<|" only when IC_TOK_ALLOW_SPECIAL is set; the
 * ordinary text before a special is split as if the text ended there, as tiktoken does. */
#include "infercost/tokenizer.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bpe.h"
#include "embedded.h"
#include "fileread.h"
#include "tokenizer_internal.h"
#include "pretokenize.h"
#include "unicode_tables.h"

typedef struct special {
    const char *text;
    uint32_t id;
} special;

typedef struct encoding_def {
    const char *name;
    const char *file;
    ic__pretok_kind kind;
    uint32_t nranks;
    const special *specials;
    size_t nspecials;
} encoding_def;

/* tiktoken_ext/openai_public.py */
static const special o200k_specials[] = {{"<|endoftext|>", 199999}, {"<|endofprompt|>", 200018}};
static const special cl100k_specials[] = {{"<|endoftext|>", 100257},
                                          {"<|fim_prefix|>", 100258},
                                          {"<|fim_middle|>", 100259},
                                          {"<|fim_suffix|>", 100260},
                                          {"<|endofprompt|>", 100276}};
static const encoding_def encodings[] = {
    {"o200k_base", "o200k_base.tiktoken", IC_PRETOK_O200K, 199998, o200k_specials, 2},
    {"cl100k_base", "cl100k_base.tiktoken", IC_PRETOK_CL100K, 100256, cl100k_specials, 5},
};

struct ic_tokenizer {
    const encoding_def *def;
    ic__ranks ranks;
    uint32_t vocab; /* max id + 1 */
};

static const encoding_def *find_def(const char *name)
{
    for (size_t i = 0; i < sizeof encodings / sizeof encodings[0]; i++)
        if (name && strcmp(encodings[i].name, name) == 0)
            return &encodings[i];
    return NULL;
}

static ic_status open_text(ic_tokenizer **out, const encoding_def *d, const char *text, size_t len,
                           const char *name, ic_error *err)
{
    *out = NULL;
    ic_tokenizer *t = calloc(1, sizeof *t);
    if (!t)
        return ic_error_set(err, IC_ERR_NOMEM, "out of memory");
    t->def = d;
    ic_status st = ic__ranks_load(&t->ranks, text, len, name, err);
    if (st != IC_OK) {
        free(t);
        return st;
    }
    if (t->ranks.n != d->nranks) {
        ic_error_set(err, IC_ERR_PARSE, "%s: %u ranks, but %s has %u", name, t->ranks.n, d->name,
                     d->nranks);
        ic_tokenizer_free(t);
        return IC_ERR_PARSE;
    }
    t->vocab = t->ranks.n;
    for (size_t i = 0; i < d->nspecials; i++)
        if (d->specials[i].id + 1 > t->vocab)
            t->vocab = d->specials[i].id + 1;
    *out = t;
    return IC_OK;
}

static ic_status unknown_encoding(const char *encoding, ic_error *err)
{
    return ic_error_set(err, IC_ERR_INVALID,
                        "unknown encoding '%s' (known: o200k_base, cl100k_base)",
                        encoding ? encoding : "(null)");
}

ic_status ic_tokenizer_open(ic_tokenizer **out, const char *encoding, ic_error *err)
{
    *out = NULL;
    const encoding_def *d = find_def(encoding);
    if (!d)
        return unknown_encoding(encoding, err);
    size_t len;
    const unsigned char *data = ic__embedded(d->file, &len);
    if (!data)
        return ic_error_set(err, IC_ERR_NOT_FOUND, "%s: rank file not embedded in this build",
                            d->file);
    return open_text(out, d, (const char *)data, len, d->file, err);
}

ic_status ic_tokenizer_open_file(ic_tokenizer **out, const char *encoding, const char *path,
                                 ic_error *err)
{
    *out = NULL;
    const encoding_def *d = find_def(encoding);
    if (!d)
        return unknown_encoding(encoding, err);
    char *buf;
    size_t len;
    ic_status rs = ic__read_file(path, &buf, &len, err);
    if (rs != IC_OK)
        return rs;
    ic_status st = open_text(out, d, buf, len, path, err);
    free(buf);
    if (st == IC_OK) /* a file from elsewhere: the merge's shortcut only if it is exact for it */
        ic__ranks_check_premerge(&(*out)->ranks);
    return st;
}

void ic_tokenizer_free(ic_tokenizer *t)
{
    if (!t)
        return;
    ic__ranks_free(&t->ranks);
    free(t);
}

static pthread_mutex_t shared_mu = PTHREAD_MUTEX_INITIALIZER;
static ic_tokenizer *shared_tok[sizeof encodings / sizeof encodings[0]];

const ic_tokenizer *ic_tokenizer_shared(const char *encoding, ic_error *err)
{
    const encoding_def *d = find_def(encoding);
    if (!d) {
        unknown_encoding(encoding, err);
        return NULL;
    }
    size_t k = (size_t)(d - encodings);
    pthread_mutex_lock(&shared_mu);
    if (!shared_tok[k] && ic_tokenizer_open(&shared_tok[k], encoding, err) != IC_OK)
        shared_tok[k] = NULL;
    ic_tokenizer *t = shared_tok[k];
    pthread_mutex_unlock(&shared_mu);
    return t;
}

const char *ic_tokenizer_name(const ic_tokenizer *t) { return t->def->name; }
uint32_t ic_tokenizer_vocab_size(const ic_tokenizer *t) { return t->vocab; }

/* ---- encoding ---- */

/* A per-call cache of merged pieces (pieces that are not themselves tokens), for long inputs:
 * words recur, and a hit skips the merge. 2-way: the two entries of a set share one 64-byte
 * cache line (one memory fetch per lookup); a new piece goes in the first way, the old one there
 * moves to the second. An entry holds the piece's bytes and its token count; a call that stores
 * ids keeps them in a parallel array (cache_ids), read only on a hit. */
#define CACHE_SLOTS_MIN 16384
#define CACHE_SLOTS_MAX 65536 /* 2 MB of entries, for inputs of more than 1 MB */
#define CACHE_MAXLEN 30
#define CACHE_MAXTOK 12
#define CACHE_MIN_INPUT 16384 /* below this the cache costs more than it saves */
#define BATCH 64              /* pieces split, looked up and merged together */
typedef struct cache_entry {
    uint8_t len, ntok;
    unsigned char bytes[CACHE_MAXLEN];
} cache_entry;
_Static_assert(sizeof(cache_entry) == 32, "two entries per 64-byte line");
typedef struct cache_ids {
    uint32_t ids[CACHE_MAXTOK];
} cache_ids;
/* longer pieces (31 to 62 bytes: long words, runs of punctuation) in a direct-mapped cache of
 * one 64-byte line per entry, an eighth of the slots */
#define LCACHE_MAXLEN 62
typedef struct lcache_entry {
    uint8_t len, ntok;
    unsigned char bytes[LCACHE_MAXLEN];
} lcache_entry;
_Static_assert(sizeof(lcache_entry) == 64, "one entry per line");

typedef struct sink {
    uint32_t *ids; /* NULL: count only */
    size_t n, cap;
    ic__bpe_scratch scratch;
    cache_entry *cache; /* aligned to 64 bytes: a set is one cache line */
    cache_ids *cache_ids; /* when storing ids */
    size_t cache_mask;
    lcache_entry *lcache; /* NULL: none (then no cache at all) */
    cache_ids *lcache_ids;
    size_t lcache_mask;
    int oom;
} sink;

static int sink_reserve(sink *s, size_t more)
{
    if (!s->ids && s->cap == 0 && s->n == 0 && more == 0)
        return 1;
    if (s->n + more <= s->cap)
        return 1;
    size_t nc = s->cap ? s->cap : 1024;
    while (nc < s->n + more)
        nc *= 2;
    uint32_t *p = realloc(s->ids, nc * sizeof *p);
    if (!p) {
        s->oom = 1;
        return 0;
    }
    s->ids = p;
    s->cap = nc;
    return 1;
}

/* a == b over len bytes (len <= LCACHE_MAXLEN), in word loads rather than a memcmp call */
static inline int same_bytes(const unsigned char *a, const unsigned char *b, size_t len)
{
    if (len >= 8) {
        for (size_t i = 0; i + 8 < len; i += 8)
            if (ic__load64(a + i) != ic__load64(b + i))
                return 0;
        return ic__load64(a + len - 8) == ic__load64(b + len - 8);
    }
    if (len >= 4)
        return ic__load32(a) == ic__load32(b) && ic__load32(a + len - 4) == ic__load32(b + len - 4);
    for (size_t i = 0; i < len; i++)
        if (a[i] != b[i])
            return 0;
    return 1;
}

/* an entry that is probably this piece (same length, first and last bytes): enough for a hint */
static inline int likely_has(const unsigned char *bytes, size_t elen, const unsigned char *p,
                             size_t len)
{
    return elen == len && bytes[0] == p[0] && bytes[len - 1] == p[len - 1];
}

static inline int cache_has(const cache_entry *ce, const unsigned char *p, size_t len)
{
    return ce->len == len && same_bytes(ce->bytes, p, len);
}

/* Merge a piece on its way into a cache entry: its ids into tmp (none when counting: the cache
 * of a count-only call holds counts). Returns the count to cache, or 0 when the piece is settled
 * here: out of memory (out->oom), or more tokens than an entry holds (appended to out at once). */
static inline size_t merge_for_cache(const ic__ranks *r, const unsigned char *p, size_t len,
                                     int store, sink *out, uint32_t *tmp)
{
    size_t got = ic__bpe_merge(r, p, len, store ? tmp : NULL, &out->scratch);
    if (got == 0) {
        out->oom = 1;
        return 0;
    }
    if (got > CACHE_MAXTOK) {
        if (store)
            memcpy(out->ids + out->n, tmp, got * sizeof *tmp);
        out->n += got;
        return 0;
    }
    return got;
}

/* a piece that is not itself a token: through the per-call cache, or merged */
static int merge_piece(const ic__ranks *r, const unsigned char *p, size_t len, size_t h,
                       int store, sink *out)
{
    if (out->cache && len <= CACHE_MAXLEN) {
        size_t slot = h & out->cache_mask;
        cache_entry *ce = &out->cache[slot];
        if (!cache_has(ce, p, len)) {
            cache_entry *alt = &out->cache[slot ^ 1];
            if (cache_has(alt, p, len)) {
                slot ^= 1;
                ce = alt;
            } else {
                uint32_t tmp[CACHE_MAXLEN]; /* a piece of len bytes merges into <= len tokens */
                size_t got = merge_for_cache(r, p, len, store, out, tmp);
                if (got == 0)
                    return !out->oom;
                if (ce->len) {
                    *alt = *ce;
                    if (store)
                        out->cache_ids[slot ^ 1] = out->cache_ids[slot];
                }
                ce->len = (uint8_t)len;
                ce->ntok = (uint8_t)got;
                memcpy(ce->bytes, p, len);
                if (store)
                    memcpy(out->cache_ids[slot].ids, tmp, got * sizeof *tmp);
            }
        }
        if (store)
            memcpy(out->ids + out->n, out->cache_ids[slot].ids, ce->ntok * sizeof(uint32_t));
        out->n += ce->ntok;
        return 1;
    }
    if (out->lcache && len <= LCACHE_MAXLEN) {
        size_t slot = (h >> 3) & out->lcache_mask;
        lcache_entry *le = &out->lcache[slot];
        if (le->len != len || !same_bytes(le->bytes, p, len)) {
            uint32_t tmp[LCACHE_MAXLEN];
            size_t got = merge_for_cache(r, p, len, store, out, tmp);
            if (got == 0)
                return !out->oom;
            le->len = (uint8_t)len;
            le->ntok = (uint8_t)got;
            memcpy(le->bytes, p, len);
            if (store)
                memcpy(out->lcache_ids[slot].ids, tmp, got * sizeof *tmp);
        }
        if (store)
            memcpy(out->ids + out->n, out->lcache_ids[slot].ids, le->ntok * sizeof(uint32_t));
        out->n += le->ntok;
        return 1;
    }
    size_t got = ic__bpe_merge(r, p, len, store ? out->ids + out->n : NULL, &out->scratch);
    if (got == 0) {
        out->oom = 1;
        return 0;
    }
    out->n += got;
    return 1;
}

/* A batch of pieces: piece j is p[j][0..len[j]). The pieces of one text, or of several (a
 * counter's many texts). */
typedef struct batch {
    const unsigned char *p[BATCH];
    size_t len[BATCH];
    uint64_t hash[BATCH];
    uint32_t rank[BATCH];
    uint8_t merge[BATCH]; /* the pieces that are not tokens: merge[0..nm) */
} batch;

/* The lookups of a batch's k pieces: rank[j] (IC_RANK_NONE for a piece that is not a token);
 * returns nm. The lookups are bound by memory latency, so each pass first starts the fetches of
 * all pieces (slot of the rank table, then cache entry of the pieces that are not tokens) and
 * only then reads them. With filter, a piece of 5 bytes or more is first asked of the Bloom
 * filter (256 KB, in the L2 cache), and the 8 MB table is not touched when it says no: worth it
 * where many pieces are not tokens (half of them in multilingual text), which the caller judges
 * by the batch before. Where nearly every piece is a token (English) the filter's answer is
 * nearly always yes, and asking it only costs. */
static inline size_t lookup_batch(const ic__ranks *r, batch *b, size_t k, const sink *out,
                                  int filter)
{
    uint64_t key[BATCH];
    uint8_t maybe[BATCH];
    for (size_t j = 0; j < k; j++) {
        size_t len = b->len[j];
        b->hash[j] = 0;
        maybe[j] = 0;
        if (len <= r->maxlen) {
            key[j] = ic__key(b->p[j], len);
            b->hash[j] = ic__hash64(key[j], len);
            maybe[j] = !filter || len < 5 || ic__filter_has(r, b->hash[j]);
            if (maybe[j])
                __builtin_prefetch(&r->slots[b->hash[j] >> r->shift]);
        }
    }
    size_t nm = 0;
    for (size_t j = 0; j < k; j++) {
        size_t len = b->len[j];
        b->rank[j] = maybe[j] ? ic__probe(r, b->p[j], len, key[j], b->hash[j]) : IC_RANK_NONE;
        if (b->rank[j] == IC_RANK_NONE) {
            size_t ch = (size_t)(b->hash[j] >> r->shift);
            if (!out->cache) {
            } else if (len <= CACHE_MAXLEN) {
                __builtin_prefetch(&out->cache[ch & out->cache_mask]); /* both ways */
            } else if (len <= LCACHE_MAXLEN) {
                __builtin_prefetch(&out->lcache[(ch >> 3) & out->lcache_mask]);
            }
            b->merge[nm++] = (uint8_t)j;
        }
    }
    /* the pieces that will miss the cache: their merges' lookups fetched ahead */
    if (out->cache) {
        for (size_t q = 0; q < nm; q++) {
            size_t j = b->merge[q], len = b->len[j];
            const unsigned char *p = b->p[j];
            size_t ch = (size_t)(b->hash[j] >> r->shift);
            if (len > LCACHE_MAXLEN) {
            } else if (len <= CACHE_MAXLEN) {
                ch &= out->cache_mask;
                if (!likely_has(out->cache[ch].bytes, out->cache[ch].len, p, len) &&
                    !likely_has(out->cache[ch ^ 1].bytes, out->cache[ch ^ 1].len, p, len))
                    ic__bpe_prefetch(r, p, len);
            } else {
                const lcache_entry *le = &out->lcache[(ch >> 3) & out->lcache_mask];
                if (!likely_has(le->bytes, le->len, p, len))
                    ic__bpe_prefetch(r, p, len);
            }
        }
    }
    return nm;
}

/* ordinary text s[0..n): count (store == 0) or append ids, a batch of pieces at a time */
static void encode_ordinary(const ic_tokenizer *t, const unsigned char *s, size_t n, int store,
                            int bail, sink *out)
{
    const ic__ranks *r = &t->ranks;
    size_t ends[BATCH];
    batch b;
    size_t i = 0;
    int filter = 0; /* the last batch had more than a quarter of pieces that are not tokens */
    while (i < n) {
        size_t k = ic__pretok_split(t->def->kind, s, n, i, ends, BATCH);
        if (bail && ic__pretok_seen_invalid()) /* not UTF-8: run() repairs it, starts again */
            return;
        if (store && !sink_reserve(out, ends[k - 1] - i))
            return;
        size_t kk = 0, ones = 0;
        if (!store) {
            /* counting: a piece of one byte (a newline, a space, a comma: a third of the pieces
             * of some texts) is one token without a lookup; it is left out of the batch without
             * a branch, which would go either way from piece to piece. (One loop for both modes,
             * the one-byte test masked by !store, measured about 1% slower: store is not known
             * when this is compiled.) */
            for (size_t j = 0, st = i; j < k; st = ends[j++]) {
                size_t l = ends[j] - st;
                b.p[kk] = s + st;
                b.len[kk] = l;
                kk += l != 1;
                ones += l == 1;
            }
        } else {
            for (size_t j = 0, st = i; j < k; st = ends[j++]) {
                b.p[j] = s + st;
                b.len[j] = ends[j] - st;
            }
            kk = k;
        }
        size_t nm = lookup_batch(r, &b, kk, out, filter);
        filter = nm * 4 > k;
        if (!store) { /* counting: the tokens at once, then the other pieces */
            out->n += kk - nm + ones;
            for (size_t q = 0; q < nm; q++) {
                size_t j = b.merge[q];
                if (!merge_piece(r, b.p[j], b.len[j], (size_t)(b.hash[j] >> r->shift), 0, out))
                    return;
            }
        } else {
            for (size_t j = 0; j < k; j++) {
                if (b.rank[j] != IC_RANK_NONE)
                    out->ids[out->n++] = b.rank[j];
                else if (!merge_piece(r, b.p[j], b.len[j], (size_t)(b.hash[j] >> r->shift), 1,
                                      out))
                    return;
            }
        }
        i = ends[k - 1];
    }
}

/* the earliest allowed special token at or after from: its index, or -1 */
static long find_special(const ic_tokenizer *t, const unsigned char *s, size_t n, size_t from,
                         size_t *at)
{
    while (from + 1 < n) {
        const unsigned char *p = memmem(s + from, n - from, "<|", 2);
        if (!p)
            return -1;
        size_t pos = (size_t)(p - s);
        for (size_t i = 0; i < t->def->nspecials; i++) {
            size_t sl = strlen(t->def->specials[i].text);
            if (pos + sl <= n && memcmp(p, t->def->specials[i].text, sl) == 0) {
                *at = pos;
                return (long)i;
            }
        }
        from = pos + 1;
    }
    return -1;
}

/* A copy of s[0..n) with each maximal invalid UTF-8 subsequence replaced by U+FFFD (the checks
 * of ic__utf8_decode_strict: no overlong forms, no surrogates, nothing above U+10FFFF); NULL when
 * out of memory. Only for a text the pre-split found invalid: valid text is checked by the
 * pre-split as it goes (run, count_many). */
static unsigned char *sanitize(const unsigned char *s, size_t n, size_t *outn)
{
    unsigned char *o = malloc(n * 3 + 1);
    if (!o)
        return NULL;
    size_t i = 0, w = 0;
    while (i < n) {
        size_t l;
        if (s[i] < 0x80) {
            o[w++] = s[i++];
            continue;
        }
        uint32_t cp = ic__utf8_decode_strict(s + i, n - i, &l);
        if (cp == UINT32_MAX) {
            o[w++] = 0xEF;
            o[w++] = 0xBF;
            o[w++] = 0xBD;
        } else {
            memcpy(o + w, s + i, l);
            w += l;
        }
        i += l;
    }
    *outn = w;
    return o;
}

/* The cache arrays of out for slots entries (and slots / 8 long entries; the ids too when
 * storing), zeroed; none when an allocation fails (the call runs without). */
static void cache_alloc(sink *out, size_t slots, int store)
{
    size_t lslots = slots / 8;
    out->cache = aligned_alloc(64, slots * sizeof *out->cache);
    out->lcache = aligned_alloc(64, lslots * sizeof *out->lcache);
    if (store) {
        out->cache_ids = malloc(slots * sizeof *out->cache_ids);
        out->lcache_ids = malloc(lslots * sizeof *out->lcache_ids);
    }
    if (!out->cache || !out->lcache || (store && (!out->cache_ids || !out->lcache_ids))) {
        free(out->cache);
        free(out->lcache);
        free(out->cache_ids);
        free(out->lcache_ids);
        out->cache = NULL;
        out->lcache = NULL;
        out->cache_ids = out->lcache_ids = NULL;
        return;
    }
    memset(out->cache, 0, slots * sizeof *out->cache);
    memset(out->lcache, 0, lslots * sizeof *out->lcache);
    out->lcache_mask = lslots - 1;
    out->cache_mask = slots - 1;
}

/* the entries of the cache of one call over n bytes: 0 (none) below CACHE_MIN_INPUT */
static size_t call_slots(size_t n)
{
    if (n < CACHE_MIN_INPUT)
        return 0;
    size_t slots = CACHE_SLOTS_MIN;
    while (slots < CACHE_SLOTS_MAX && slots * 32 < n)
        slots *= 2;
    return slots;
}

/* one call: count (store == 0) or encode text into out. keep: a counter's cache, used and kept
 * instead of a cache of the call's own (count only) */
static ic_status run(const ic_tokenizer *t, const char *text, size_t len, unsigned flags,
                     int store, const sink *keep, sink *out, ic_error *err)
{
    memset(out, 0, sizeof *out);
    if (!text && len)
        return ic_error_set(err, IC_ERR_INVALID, "no text");
    size_t n = len;
    const unsigned char *s = (const unsigned char *)text;
    unsigned char *clean = NULL;
    size_t slots = keep ? 0 : call_slots(n);
    if (keep)
        *out = *keep;
    else if (slots)
        cache_alloc(out, slots, store);
    /* The text is not checked as UTF-8 first: the pre-split classifies every character of every
     * piece and notes a byte that is not UTF-8 (ic__pretok_met_invalid). The first pass then
     * stops (bail), the text is repaired (sanitize) and encoded again from the start, to the
     * end whatever the pre-split notes; what the cache holds stays true (the merge of the same
     * bytes). Valid text, the usual case, is read once less. */
    int bail = 1;
    (void)ic__pretok_met_invalid();
    for (;;) {
        if (!(flags & IC_TOK_ALLOW_SPECIAL)) {
            encode_ordinary(t, s, n, store, bail, out);
        } else {
            size_t start = 0, at;
            for (;;) {
                long k = find_special(t, s, n, start, &at);
                size_t end = k < 0 ? n : at;
                /* the ordinary text before the special is split as a text of its own */
                encode_ordinary(t, s + start, end - start, store, bail, out);
                if (out->oom || k < 0 || (bail && ic__pretok_seen_invalid()))
                    break;
                if (store && !sink_reserve(out, 1))
                    break;
                if (store)
                    out->ids[out->n] = t->def->specials[k].id;
                out->n++;
                start = at + strlen(t->def->specials[k].text);
            }
        }
        if (!bail || out->oom || !ic__pretok_met_invalid())
            break;
        if (!(clean = sanitize(s, n, &n))) {
            out->oom = 1;
            break;
        }
        s = clean;
        out->n = 0;
        bail = 0;
    }
    free(clean);
    if (!keep) {
        free(out->cache);
        free(out->cache_ids);
        free(out->lcache);
        free(out->lcache_ids);
    }
    ic__bpe_scratch_free(&out->scratch);
    if (out->oom) {
        free(out->ids);
        out->ids = NULL;
        return ic_error_set(err, IC_ERR_NOMEM, "out of memory while tokenizing %zu bytes", len);
    }
    return IC_OK;
}

ic_status ic_tokenizer_count(const ic_tokenizer *t, const char *text, size_t len, unsigned flags,
                             uint64_t *count, ic_error *err)
{
    sink s;
    ic_status st = run(t, text, len, flags, 0, NULL, &s, err);
    *count = st == IC_OK ? (uint64_t)s.n : 0;
    return st;
}

struct ic_tokenizer_counter {
    const ic_tokenizer *t;
    sink cache; /* its cache fields only */
    void *mem;  /* both caches, in one block */
};

ic_status ic_tokenizer_counter_new(ic_tokenizer_counter **out, const ic_tokenizer *t,
                                   size_t bytes, ic_error *err)
{
    *out = NULL;
    /* a power of two of entries, and an eighth of that of long ones: 40 bytes an entry */
    size_t slots = CACHE_SLOTS_MAX;
    if (bytes)
        while (slots > 1024 && slots * 40 > bytes)
            slots /= 2;
    size_t lslots = slots / 8;
    ic_tokenizer_counter *c = calloc(1, sizeof *c);
    /* calloc rather than aligned_alloc and a memset: a large block fresh from the system is
     * zero already, and its pages are mapped as entries land on them */
    void *mem = c ? calloc(1, slots * sizeof(cache_entry) + lslots * sizeof(lcache_entry) + 64)
                  : NULL;
    if (!mem) {
        free(c);
        return ic_error_set(err, IC_ERR_NOMEM, "out of memory for a token counter");
    }
    unsigned char *a = (unsigned char *)(((uintptr_t)mem + 63) & ~(uintptr_t)63);
    c->mem = mem;
    c->cache.cache = (cache_entry *)a;
    c->cache.lcache = (lcache_entry *)(a + slots * sizeof(cache_entry));
    c->cache.cache_mask = slots - 1;
    c->cache.lcache_mask = lslots - 1;
    c->t = t;
    *out = c;
    return IC_OK;
}

ic_status ic_tokenizer_counter_count(ic_tokenizer_counter *c, const char *text, size_t len,
                                     unsigned flags, uint64_t *count, ic_error *err)
{
    sink s;
    /* a text whose own cache would be larger than the counter's gets its own, as without a
     * counter: it would evict most of what the counter keeps, and merge more for want of room */
    const sink *keep = call_slots(len) > c->cache.cache_mask + 1 ? NULL : &c->cache;
    ic_status st = run(c->t, text, len, flags, 0, keep, &s, err);
    *count = st == IC_OK ? (uint64_t)s.n : 0;
    return st;
}

/* a text count_many hands to ic_tokenizer_counter_count on its own: a special token to
 * recognise, or a text large enough for a cache of its own; and invalid UTF-8 (counted on a
 * repaired copy), which its pre-split finds */
static int count_alone(const ic_tokenizer_counter *c, const unsigned char *s, size_t n,
                       unsigned flags)
{
    size_t at;
    return call_slots(n) > c->cache.cache_mask + 1 ||
           ((flags & IC_TOK_ALLOW_SPECIAL) && find_special(c->t, s, n, 0, &at) >= 0);
}

ic_status ic_tokenizer_counter_count_many(ic_tokenizer_counter *c, const char *const *texts,
                                          const size_t *lens, size_t n, unsigned flags,
                                          uint64_t *counts, size_t *done, ic_error *err)
{
    const ic__ranks *r = &c->t->ranks;
    sink out = c->cache;
    batch b;
    size_t own[BATCH]; /* the text of each piece */
    size_t ends[BATCH];
    size_t next = 0;         /* the next text to start */
    size_t cur = n, pos = 0; /* the text being split (n: none), and where */
    size_t failed = n;
    size_t alone = n; /* a text found to be counted on its own, waiting for the batch before it */
    int filter = 0; /* as in encode_ordinary */
    size_t pieces = 0; /* split into the batch, one-byte ones included */
    ic_status st = IC_OK;
    for (;;) {
        size_t k = 0, kcur = 0; /* kcur: the first piece of the text being split in the batch */
        while (k < BATCH) {
            if (cur == n) {
                if (next == n)
                    break;
                size_t i = next;
                const unsigned char *s = (const unsigned char *)texts[i];
                int bad = !s && lens[i];
                if (bad || alone == i || (lens[i] && count_alone(c, s, lens[i], flags))) {
                    if (k) { /* the batch first, so that the texts before this one are counted */
                        alone = i;
                        break;
                    }
                    next++;
                    st = bad ? ic_error_set(err, IC_ERR_INVALID, "no text (text %zu of %zu)",
                                            i + 1, n)
                             : ic_tokenizer_counter_count(c, texts[i], lens[i], flags,
                                                          &counts[i], err);
                    if (st != IC_OK) {
                        failed = i;
                        goto end;
                    }
                    continue;
                }
                next++;
                counts[i] = 0;
                if (lens[i]) {
                    cur = i;
                    pos = 0;
                    kcur = k;
                    (void)ic__pretok_met_invalid();
                }
                continue;
            }
            const unsigned char *s = (const unsigned char *)texts[cur];
            size_t got = ic__pretok_split(c->t->def->kind, s, lens[cur], pos, ends, BATCH - k);
            for (size_t j = 0; j < got; pos = ends[j++]) { /* one byte: one token, no lookup */
                size_t l = ends[j] - pos;
                b.p[k] = s + pos;
                b.len[k] = l;
                own[k] = cur;
                counts[cur] += l == 1;
                k += l != 1;
            }
            pieces += got;
            if (ic__pretok_met_invalid()) {
                /* not UTF-8: its pieces out of the batch, and the text counted on its own
                 * (its count, partial from the batches before, is then replaced) */
                k = kcur;
                next = alone = cur;
                cur = n;
                if (k)
                    break;
                continue;
            }
            if (pos == lens[cur])
                cur = n;
        }
        if (k == 0) /* every text split (one-byte pieces are counted as they are split) */
            break;
        size_t nm = lookup_batch(r, &b, k, &out, filter);
        filter = nm * 4 > pieces;
        pieces = 0;
        for (size_t j = 0; j < k; j++)
            counts[own[j]] += b.rank[j] != IC_RANK_NONE;
        /* in text order: when a merge fails, the texts before its text are counted */
        for (size_t q = 0; q < nm; q++) {
            size_t j = b.merge[q], before = out.n;
            if (!merge_piece(r, b.p[j], b.len[j], (size_t)(b.hash[j] >> r->shift), 0, &out)) {
                failed = own[j];
                st = ic_error_set(err, IC_ERR_NOMEM, "out of memory while tokenizing %zu bytes",
                                  lens[failed]);
                goto end;
            }
            counts[own[j]] += out.n - before;
        }
    }
end:
    ic__bpe_scratch_free(&out.scratch);
    if (done)
        *done = failed;
    return st;
}

size_t ic__counter_entries(const ic_tokenizer_counter *c)
{
    size_t k = 0;
    for (size_t i = 0; i <= c->cache.cache_mask; i++)
        k += c->cache.cache[i].len != 0;
    for (size_t i = 0; i <= c->cache.lcache_mask; i++)
        k += c->cache.lcache[i].len != 0;
    return k;
}

void ic_tokenizer_counter_free(ic_tokenizer_counter *c)
{
    if (!c)
        return;
    free(c->mem);
    free(c);
}

/* Why the cut is exact. Let p follow a "\n" and hold a letter or a digit (\p{L}, \p{N}; of any
 * script, whole before len). No piece of either pre-split regex (pretokenize.c) contains both
 * s[p - 1] and s[p]: a letter piece cannot contain "\n" (its optional prefix excludes \r \n);
 * digits pieces hold digits only; a punctuation piece's trailing [\r\n]* (o200k: [\r\n/]*) stops
 * at the letter or digit; a whitespace run holding a newline matches \s*[\r\n]+ (tried before
 * \s+(?!\S)), which ends after its last newline, that is at p. No match that starts before p
 * looks past s[p], and at s[p] every alternative stops as it would at the end of the text (the
 * one that would not, \s+(?!\S), is never reached for a run ending in a newline). No regex looks
 * behind, so the pieces from p on are those of s[p..] alone. Special tokens hold no "\n", so none
 * spans p; invalid UTF-8 is repaired the same on either side of an ASCII byte. Same pieces, so
 * the same merges and ids. The unit test checks the pieces, not only the ids, on every cut of
 * 3,000 texts; against tiktoken itself: ~590,000 cuts before ASCII letters (session 9), ~785,000
 * before letters and digits of any script (session 10), none changed the ids. Not after a "\n"
 * before other characters: o200k's [\r\n/]* joins "_\n//" across the cut, \s*[\r\n]+ joins
 * "\n \n". */
size_t ic_tokenizer_cut(const ic_tokenizer *t, const char *text, size_t len)
{
    (void)t; /* both encodings' regexes allow the same cuts */
    const unsigned char *s = (const unsigned char *)text;
    for (size_t p = len; p-- > 1;) {
        if (s[p - 1] != '\n')
            continue;
        unsigned c = s[p];
        if ((unsigned)((c | 0x20) - 'a') < 26u || c - '0' < 10u)
            return p;
        if (c >= 0x80) { /* a letter or digit of any script, whole before len */
            size_t l;
            uint32_t cp = ic__utf8_decode_strict(s + p, len - p, &l);
            if (cp != UINT32_MAX && (ic__uni_class(cp) & (IC_U_L | IC_U_N)))
                return p;
        }
    }
    return 0;
}

ic_status ic_tokenizer_encode(const ic_tokenizer *t, const char *text, size_t len, unsigned flags,
                              uint32_t **ids, size_t *nids, ic_error *err)
{
    sink s;
    *ids = NULL;
    *nids = 0;
    ic_status st = run(t, text, len, flags, 1, NULL, &s, err);
    if (st != IC_OK)
        return st;
    if (!s.ids) {
        s.ids = malloc(sizeof *s.ids);
        if (!s.ids)
            return ic_error_set(err, IC_ERR_NOMEM, "out of memory");
    }
    *ids = s.ids;
    *nids = s.n;
    return IC_OK;
}

const unsigned char *ic_tokenizer_token_bytes(const ic_tokenizer *t, uint32_t id, size_t *len)
{
    if (id < t->ranks.n) {
        *len = t->ranks.off[id + 1] - t->ranks.off[id];
        return t->ranks.blob + t->ranks.off[id];
    }
    for (size_t i = 0; i < t->def->nspecials; i++)
        if (t->def->specials[i].id == id) {
            *len = strlen(t->def->specials[i].text);
            return (const unsigned char *)t->def->specials[i].text;
        }
    return NULL;
}

ic_status ic_tokenizer_decode(const ic_tokenizer *t, const uint32_t *ids, size_t nids, char **out,
                              size_t *outlen, ic_error *err)
{
    *out = NULL;
    *outlen = 0;
    size_t total = 0, l;
    for (size_t i = 0; i < nids; i++) {
        if (!ic_tokenizer_token_bytes(t, ids[i], &l))
            return ic_error_set(err, IC_ERR_INVALID, "token id %u at position %zu is not in %s",
                                ids[i], i, t->def->name);
        total += l;
    }
    char *buf = malloc(total + 1);
    if (!buf)
        return ic_error_set(err, IC_ERR_NOMEM, "out of memory");
    size_t w = 0;
    for (size_t i = 0; i < nids; i++) {
        const unsigned char *b = ic_tokenizer_token_bytes(t, ids[i], &l);
        memcpy(buf + w, b, l);
        w += l;
    }
    buf[w] = 0;
    *out = buf;
    *outlen = w;
    return IC_OK;
}

/* ---- model -> encoding (tiktoken's model.py, extended to the newer OpenAI families) ---- */

static int has_prefix(const char *s, const char *p) { return strncmp(s, p, strlen(p)) == 0; }

/* low is the family name itself or the name followed by a separator ("o1-mini", not "o1x") */
static int family(const char *low, const char *fam)
{
    size_t l = strlen(fam);
    return strncmp(low, fam, l) == 0 && (low[l] == 0 || strchr("-.:@_", low[l]) != NULL);
}

const char *ic_tokenizer_encoding_for_model(const char *model)
{
    if (!model)
        return NULL;
    const char *m = model;
    /* "openai/gpt-4o", "azure/gpt-4o", "ft:gpt-4o-mini:org::id" */
    const char *slash = strrchr(m, '/');
    if (slash)
        m = slash + 1;
    if (has_prefix(m, "ft:"))
        m += 3;
    while (*m == ' ' || *m == '\t') /* as the catalog resolves "gpt-4o " */
        m++;
    char low[128];
    size_t i = 0;
    for (; m[i] && i + 1 < sizeof low; i++)
        low[i] = (char)(m[i] >= 'A' && m[i] <= 'Z' ? m[i] + 32 : m[i]);
    while (i && (low[i - 1] == ' ' || low[i - 1] == '\t'))
        i--;
    low[i] = 0;
    static const char *const o200k[] = {"gpt-4o", "gpt-4.1", "gpt-4.5", "gpt-5", "chatgpt-4o",
                                        "o1", "o3", "o4", "gpt-oss", "codex-mini",
                                        "computer-use", "omni-moderation", "gpt-realtime",
                                        "gpt-audio", "gpt-image"};
    static const char *const cl100k[] = {"gpt-4", "gpt-3.5", "gpt-35", "text-embedding-3",
                                         "text-embedding-ada-002", "davinci-002", "babbage-002"};
    for (size_t k = 0; k < sizeof o200k / sizeof *o200k; k++)
        if (family(low, o200k[k]))
            return "o200k_base";
    for (size_t k = 0; k < sizeof cl100k / sizeof *cl100k; k++)
        if (family(low, cl100k[k]))
            return "cl100k_base";
    return NULL;
}
