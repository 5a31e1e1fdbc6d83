/* cache.c: in-memory LRU + TTL response cache (cache.h). A chained hash table over the first 8
 * bytes of the SHA-256 key, plus a doubly linked recency list: get moves an entry to the front,
 * put evicts from the back until the byte cap holds. Expired entries are dropped when met. */
#include "cache.h"

#include <stdlib.h>
#include <string.h>

typedef struct ent {
    uint8_t key[32];
    gw_cached v;
    int64_t expires_ms;
    size_t bytes;
    struct ent *hnext, *prev, *next;
} ent;

typedef struct lru {
    ent **tab;
    size_t nb;
    ent *head, *tail;
    size_t bytes, max_bytes;
    uint64_t entries, evictions;
} lru;

static size_t bucket(const lru *c, const uint8_t *k)
{
    uint64_t h;
    memcpy(&h, k, 8);
    return (size_t)(h % c->nb);
}

static void unlink_list(lru *c, ent *e)
{
    if (e->prev)
        e->prev->next = e->next;
    else
        c->head = e->next;
    if (e->next)
        e->next->prev = e->prev;
    else
        c->tail = e->prev;
    e->prev = e->next = NULL;
}

static void push_front(lru *c, ent *e)
{
    e->next = c->head;
    e->prev = NULL;
    if (c->head)
        c->head->prev = e;
    c->head = e;
    if (!c->tail)
        c->tail = e;
}

static void drop(lru *c, ent *e)
{
    ent **pp = &c->tab[bucket(c, e->key)];
    while (*pp && *pp != e)
        pp = &(*pp)->hnext;
    if (*pp)
        *pp = e->hnext;
    unlink_list(c, e);
    c->bytes -= e->bytes;
    c->entries--;
    free(e->v.body);
    free(e);
}

static ent *find(lru *c, const uint8_t *key)
{
    for (ent *e = c->tab[bucket(c, key)]; e; e = e->hnext)
        if (!memcmp(e->key, key, 32))
            return e;
    return NULL;
}

static bool m_get(void *cv, const uint8_t key[32], int64_t now_ms, gw_cached *out)
{
    lru *c = cv;
    ent *e = find(c, key);
    if (!e)
        return false;
    if (e->expires_ms <= now_ms) {
        drop(c, e);
        return false;
    }
    unlink_list(c, e);
    push_front(c, e);
    *out = e->v;
    out->body = malloc(e->v.len ? e->v.len : 1);
    if (!out->body)
        return false;
    memcpy(out->body, e->v.body, e->v.len);
    return true;
}

static void m_put(void *cv, const uint8_t key[32], const gw_cached *v, int64_t now_ms, int ttl_s)
{
    lru *c = cv;
    size_t bytes = v->len + sizeof(ent);
    if (bytes > c->max_bytes)
        return;
    ent *old = find(c, key);
    if (old)
        drop(c, old);
    while (c->tail && c->bytes + bytes > c->max_bytes) {
        drop(c, c->tail);
        c->evictions++;
    }
    ent *e = calloc(1, sizeof *e);
    if (!e)
        return;
    e->v = *v;
    e->v.body = malloc(v->len ? v->len : 1);
    if (!e->v.body) {
        free(e);
        return;
    }
    memcpy(e->v.body, v->body, v->len);
    memcpy(e->key, key, 32);
    e->expires_ms = now_ms + (int64_t)ttl_s * 1000;
    e->bytes = bytes;
    size_t b = bucket(c, key);
    e->hnext = c->tab[b];
    c->tab[b] = e;
    push_front(c, e);
    c->bytes += bytes;
    c->entries++;
}

static void m_stats(void *cv, uint64_t *entries, uint64_t *bytes, uint64_t *evictions)
{
    lru *c = cv;
    *entries = c->entries;
    *bytes = c->bytes;
    *evictions = c->evictions;
}

static void m_free(void *cv)
{
    lru *c = cv;
    if (!c)
        return;
    while (c->head)
        drop(c, c->head);
    free(c->tab);
    free(c);
}

void *gw_cache_memory_new(size_t max_bytes)
{
    lru *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->nb = 4096;
    c->tab = calloc(c->nb, sizeof *c->tab);
    if (!c->tab) {
        free(c);
        return NULL;
    }
    c->max_bytes = max_bytes;
    return c;
}

const gw_cache_ops gw_cache_memory_ops = {m_get, m_put, m_stats, m_free};
