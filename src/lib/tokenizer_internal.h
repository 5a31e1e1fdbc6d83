/* tokenizer_internal.h: internal. What the tests look at inside a counter (tokenizer.c) and a
 * count cache (estimate.c), to check that the kept caches are used, not only that the counts
 * come out the same. */
#ifndef IC_TOKENIZER_INTERNAL_H
#define IC_TOKENIZER_INTERNAL_H

#include <stddef.h>

#include "infercost/estimate.h"
#include "infercost/tokenizer.h"

/* the entries of c's cache that hold a piece (a scan of the whole cache: for tests) */
size_t ic__counter_entries(const ic_tokenizer_counter *c);
/* cc's counter for t: NULL when none was made (or it could not be) */
const ic_tokenizer_counter *ic__count_cache_counter(const ic_count_cache *cc,
                                                    const ic_tokenizer *t);

#endif
