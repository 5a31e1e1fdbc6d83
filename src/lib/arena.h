/* arena.h: internal bump allocator. The catalog (and each overlay) allocates its many small,
 * immutable pieces from one arena and frees them at once. Not thread-safe; not for data that is
 * freed piecemeal. */
#ifndef IC_ARENA_H
#define IC_ARENA_H
#include <stddef.h>

typedef struct ic_arena_block ic_arena_block;
typedef struct ic_arena {
    ic_arena_block *head;
} ic_arena;

void *ic_arena_alloc(ic_arena *a, size_t n);          /* zeroed; NULL on OOM */
char *ic_arena_strdup(ic_arena *a, const char *s);
char *ic_arena_strndup(ic_arena *a, const char *s, size_t n);
void ic_arena_free(ic_arena *a);
#endif
