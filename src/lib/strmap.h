/* strmap.h: internal. A string -> index hash table (open addressing, XXH3 hashes kept), for the
 * grouping done by report.c and economics.c. Keys are copied; values are whatever index the
 * caller assigns on first sight. Not thread-safe. */
#ifndef IC_STRMAP_H
#define IC_STRMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct ic_smap {
    char **keys;
    size_t *vals;
    uint64_t *hs;
    size_t cap, n;
} ic_smap;

/* The index of key; if key is new it is added with value next and *fresh is set. SIZE_MAX when
 * out of memory. */
size_t ic__smap_get(ic_smap *m, const char *key, size_t next, bool *fresh);
/* The value of key, or SIZE_MAX if it is not there (nothing is added). */
size_t ic__smap_find(const ic_smap *m, const char *key);
void ic__smap_free(ic_smap *m);

#endif
