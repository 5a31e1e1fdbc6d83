/* tokenizer_parts_lib.c: one version of the tokenizer sources compiled into a shared object with
 * entry points that time the parts of a count call separately, for bench/tokenizer_parts.sh.
 * The sources are included whole (their static functions are reachable here); each entry point
 * runs one cumulative stage over a text: the pre-split (which checks the UTF-8 too); + each
 * piece's key and hash; + the whole-piece probes (the count call itself is the last stage); and,
 * apart, the merge of a list of pieces. Not a test, not part of the library. */
#include "tokenizer.c"
#include "bpe.c"
#include "bpe_backtrack.c"
#include "pretokenize.c"

typedef struct parts_piece {
    const unsigned char *p;
    size_t len;
    int kind; /* 0 ASCII, 1 with 2-byte characters (no longer ones), 2 with longer ones */
} parts_piece;

static ic_tokenizer *tok;

int parts_open(const char *encoding)
{
    ic_error e = {0};
    return ic_tokenizer_open(&tok, encoding, &e) == IC_OK;
}

size_t parts_split(const unsigned char *s, size_t n)
{
    size_t ends[BATCH], i = 0, c = 0;
    while (i < n) {
        size_t k = ic__pretok_split(tok->def->kind, s, n, i, ends, BATCH);
        c += k;
        i = ends[k - 1];
    }
    return c;
}

/* the pre-split, key and hash of each piece, and (probe) the lookups of whole pieces */
static size_t split_hash(const unsigned char *s, size_t n, int probe)
{
    const ic__ranks *r = &tok->ranks;
    size_t ends[BATCH], i = 0, c = 0;
    uint64_t key[BATCH], hash[BATCH];
    while (i < n) {
        size_t k = ic__pretok_split(tok->def->kind, s, n, i, ends, BATCH);
        size_t st = i;
        for (size_t j = 0; j < k; j++) {
            size_t len = ends[j] - st;
            hash[j] = 0;
            if (len <= r->maxlen) {
                key[j] = ic__key(s + st, len);
                hash[j] = ic__hash64(key[j], len);
                if (probe)
                    __builtin_prefetch(&r->slots[hash[j] >> r->shift]);
            }
            st = ends[j];
        }
        st = i;
        for (size_t j = 0; j < k; j++) {
            size_t len = ends[j] - st;
            if (!probe)
                c += hash[j] >> 63;
            else if (len <= r->maxlen)
                c += ic__probe(r, s + st, len, key[j], hash[j]) != IC_RANK_NONE;
            st = ends[j];
        }
        i = ends[k - 1];
    }
    return c;
}

size_t parts_hash(const unsigned char *s, size_t n) { return split_hash(s, n, 0); }
size_t parts_probe(const unsigned char *s, size_t n) { return split_hash(s, n, 1); }

size_t parts_count(const unsigned char *s, size_t n)
{
    uint64_t c = 0;
    ic_error e = {0};
    ic_tokenizer_count(tok, (const char *)s, n, 0, &c, &e);
    return (size_t)c;
}

/* the distinct pieces of s that are not tokens (what the merge sees in a count call), in order */
size_t parts_collect(const unsigned char *s, size_t n, parts_piece *out, size_t max)
{
    const ic__ranks *r = &tok->ranks;
    size_t cap = 1u << 20, got = 0, ends[BATCH], i = 0;
    parts_piece *seen = calloc(cap, sizeof *seen);
    if (!seen)
        return 0;
    while (i < n) {
        size_t k = ic__pretok_split(tok->def->kind, s, n, i, ends, BATCH), st = i;
        for (size_t j = 0; j < k; st = ends[j], j++) {
            size_t len = ends[j] - st;
            if (ic__rank_of_piece(r, s + st, len) != IC_RANK_NONE)
                continue;
            uint64_t h = 14695981039346656037ull;
            for (size_t q = 0; q < len; q++)
                h = (h ^ s[st + q]) * 1099511628211ull;
            size_t x = h & (cap - 1);
            while (seen[x].p && !(seen[x].len == len && memcmp(seen[x].p, s + st, len) == 0))
                x = (x + 1) & (cap - 1);
            if (seen[x].p || got == max || got + 1 >= cap / 2)
                continue;
            int kind = 0;
            for (size_t q = 0; q < len; q++)
                kind = s[st + q] >= 0xE0 ? 2 : s[st + q] >= 0x80 && kind < 1 ? 1 : kind;
            seen[x] = out[got++] = (parts_piece){s + st, len, kind};
        }
        i = ends[k - 1];
    }
    free(seen);
    return got;
}

/* merge the pieces of one kind (-1: all); the number of tokens */
size_t parts_merge(const parts_piece *l, size_t n, int kind)
{
    static ic__bpe_scratch sc;
    size_t c = 0;
    for (size_t q = 0; q < n; q++)
        if (kind < 0 || l[q].kind == kind)
            c += ic__bpe_merge(&tok->ranks, l[q].p, l[q].len, NULL, &sc);
    return c;
}
