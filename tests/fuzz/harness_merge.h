/* harness_merge.h: the check of fuzz_merge (the byte-pair merge of one piece, internal API:
 * src/lib/bpe.h), shared with the regression replay (tests/unit/test_fuzz_regress.c). The
 * merge's shortcuts (the pre-merge of byte pairs and of whole 3-byte characters, the array merge
 * up to 128 bytes, the cut where no token spans two bytes) must give exactly what the plain heap
 * merge gives, tiktoken's rule step by step. fz_merge returns 0 when the input passed, or 1 with
 * the reason in why[]. It must not print. */
#ifndef IC_FUZZ_HARNESS_MERGE_H
#define IC_FUZZ_HARNESS_MERGE_H

#include "bpe.h"
#include "embedded.h"
#include "harness.h"

static const ic__ranks *fz_ranks(int k)
{
    static ic__ranks r[2];
    static int loaded[2];
    if (!loaded[k]) {
        const char *name = k ? "cl100k_base.tiktoken" : "o200k_base.tiktoken";
        size_t len;
        const unsigned char *data = ic__embedded(name, &len);
        ic_error err = {0};
        if (!data || ic__ranks_load(&r[k], (const char *)data, len, name, &err) != IC_OK) {
            fprintf(stderr, "fuzz: cannot load %s: %s\n", name, err.msg);
            abort();
        }
        ic__ranks_check_premerge(&r[k]);
        loaded[k] = 1;
    }
    return &r[k];
}

/* Byte 0: bit 0 the encoding (o200k_base, cl100k_base); the rest, up to 1,024 bytes, is one
 * piece (any bytes: the merge does not require UTF-8). ic__bpe_merge with ids and without
 * (count only) equals the heap merge's ids and count. */
static __attribute__((unused)) int fz_merge(const uint8_t *data, size_t size, char *why, size_t cap)
{
    enum { MAXP = 1024 };
    if (size < 2 || size - 1 > MAXP)
        return 0;
    const ic__ranks *r = fz_ranks(data[0] & 1);
    const unsigned char *p = data + 1;
    size_t n = size - 1;
    static uint32_t a[MAXP], b[MAXP];
    static ic__bpe_scratch s1, s2;
    size_t ga = ic__bpe_merge_heap(r, p, n, a, &s1);
    size_t gb = ic__bpe_merge(r, p, n, b, &s2);
    size_t gc = ic__bpe_merge(r, p, n, NULL, &s2);
    if (!ga || !gb)
        return fz_fail(why, cap, "out of memory merging %zu bytes", n);
    if (ga != gb || memcmp(a, b, ga * sizeof *a)) {
        size_t i = 0;
        while (i < ga && i < gb && a[i] == b[i])
            i++;
        return fz_fail(why, cap, "merge of %zu bytes: %zu ids, the heap merge %zu; first difference at %zu",
                       n, gb, ga, i);
    }
    if (gc != ga)
        return fz_fail(why, cap, "count-only merge of %zu bytes: %zu, the ids %zu", n, gc, ga);
    return 0;
}
#endif
