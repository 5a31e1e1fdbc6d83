/* arena.c: the bump allocator of arena.h: 64 KiB blocks (or one block per larger request). */
#include "arena.h"

#include <stdlib.h>
#include <string.h>

struct ic_arena_block {
    ic_arena_block *next;
    size_t used, cap;
    _Alignas(16) unsigned char data[];
};

void *ic_arena_alloc(ic_arena *a, size_t n)
{
    n = (n + 15) & ~(size_t)15;
    ic_arena_block *b = a->head;
    if (!b || b->cap - b->used < n) {
        size_t cap = n > 65536 ? n : 65536;
        b = malloc(sizeof *b + cap);
        if (!b)
            return NULL;
        b->used = 0;
        b->cap = cap;
        b->next = a->head;
        a->head = b;
    }
    void *p = b->data + b->used;
    b->used += n;
    memset(p, 0, n);
    return p;
}

char *ic_arena_strndup(ic_arena *a, const char *s, size_t n)
{
    char *p = ic_arena_alloc(a, n + 1);
    if (p) {
        memcpy(p, s, n);
        p[n] = 0;
    }
    return p;
}

char *ic_arena_strdup(ic_arena *a, const char *s)
{
    return ic_arena_strndup(a, s, strlen(s));
}

void ic_arena_free(ic_arena *a)
{
    while (a->head) {
        ic_arena_block *n = a->head->next;
        free(a->head);
        a->head = n;
    }
}
