/* strmap.c: the string -> index table of strmap.h (linear probing, at most half full). */
#include "strmap.h"

#include <stdlib.h>
#include <string.h>

#define XXH_INLINE_ALL
#include <xxhash.h>

static bool grow(ic_smap *m)
{
    size_t nc = m->cap ? m->cap * 2 : 64;
    char **nk = calloc(nc, sizeof *nk);
    size_t *nv = calloc(nc, sizeof *nv);
    uint64_t *nh = calloc(nc, sizeof *nh);
    if (!nk || !nv || !nh) {
        free(nk);
        free(nv);
        free(nh);
        return false;
    }
    for (size_t i = 0; i < m->cap; i++)
        if (m->keys[i]) {
            size_t j = m->hs[i] & (nc - 1);
            while (nk[j])
                j = (j + 1) & (nc - 1);
            nk[j] = m->keys[i];
            nv[j] = m->vals[i];
            nh[j] = m->hs[i];
        }
    free(m->keys);
    free(m->vals);
    free(m->hs);
    m->keys = nk;
    m->vals = nv;
    m->hs = nh;
    m->cap = nc;
    return true;
}

size_t ic__smap_get(ic_smap *m, const char *key, size_t next, bool *fresh)
{
    *fresh = false;
    if ((m->n + 1) * 2 > m->cap && !grow(m))
        return SIZE_MAX;
    uint64_t h = XXH3_64bits(key, strlen(key));
    size_t j = h & (m->cap - 1);
    while (m->keys[j]) {
        if (m->hs[j] == h && !strcmp(m->keys[j], key))
            return m->vals[j];
        j = (j + 1) & (m->cap - 1);
    }
    m->keys[j] = strdup(key);
    if (!m->keys[j])
        return SIZE_MAX;
    m->vals[j] = next;
    m->hs[j] = h;
    m->n++;
    *fresh = true;
    return next;
}

void ic__smap_free(ic_smap *m)
{
    for (size_t i = 0; i < m->cap; i++)
        free(m->keys[i]);
    free(m->keys);
    free(m->vals);
    free(m->hs);
}

size_t ic__smap_find(const ic_smap *m, const char *key)
{
    if (!m->n)
        return SIZE_MAX;
    uint64_t h = XXH3_64bits(key, strlen(key));
    for (size_t j = h & (m->cap - 1); m->keys[j]; j = (j + 1) & (m->cap - 1))
        if (m->hs[j] == h && !strcmp(m->keys[j], key))
            return m->vals[j];
    return SIZE_MAX;
}
