/* embedded.h: internal access to the data files compiled into the library (tools/embed.c):
 * the genai-prices snapshot (data.json), the unit registry (units.yml), tokenizer ranks.
 * Returns NULL for a name that was not embedded. The data is NUL-terminated; *len excludes it. */
#ifndef IC_EMBEDDED_H
#define IC_EMBEDDED_H
#include <stddef.h>
const unsigned char *ic__embedded(const char *name, size_t *len);
#endif
