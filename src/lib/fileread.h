/* fileread.h: internal. A whole file into memory, for the readers that need all of it at once
 * (the price feed and its overlays, a tokenizer rank file, the routing evaluation sets). */
#ifndef IC_FILEREAD_H
#define IC_FILEREAD_H

#include <stddef.h>

#include "infercost/status.h"

/* The file at path into *text (malloc'd, NUL-terminated; *len excludes the NUL). IC_ERR_IO
 * ("PATH: REASON", "PATH: read error") or IC_ERR_NOMEM ("PATH: out of memory"). */
ic_status ic__read_file(const char *path, char **text, size_t *len, ic_error *err);

#endif
