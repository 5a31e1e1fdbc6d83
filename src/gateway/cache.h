/* cache.h: the exact response cache, behind a store interface (gw_cache_ops) that a shared
 * backend (Redis: SET key value PX ttl, maxmemory-policy allkeys-lru) can implement later. Keys
 * are SHA-256 digests of the normalized request (proxy.c decides what is cacheable); values are
 * the upstream's response body with what is needed to meter a hit (provider, served model,
 * usage). The in-memory store: LRU eviction under a byte cap, TTL per entry. Event-loop thread
 * only. It must not decide cacheability or pricing. */
#ifndef IC_GW_CACHE_H
#define IC_GW_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "infercost/usage.h"

typedef struct gw_cached {
    char *body;           /* malloc'd; the caller of get frees it */
    size_t len;
    char ctype[96];
    char provider[64];
    char model[256];      /* served model */
    char flavor[32];
    ic_usage usage;
} gw_cached;

typedef struct gw_cache_ops {
    bool (*get)(void *c, const uint8_t key[32], int64_t now_ms, gw_cached *out);
    void (*put)(void *c, const uint8_t key[32], const gw_cached *v, int64_t now_ms, int ttl_s);
    void (*stats)(void *c, uint64_t *entries, uint64_t *bytes, uint64_t *evictions);
    void (*free)(void *c);
} gw_cache_ops;

extern const gw_cache_ops gw_cache_memory_ops;
/* max_bytes: cap on bodies plus per-entry overhead */
void *gw_cache_memory_new(size_t max_bytes);

#endif
