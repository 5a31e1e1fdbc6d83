/* units_internal.h: the unit registry's precomputed tables, for the library's hot paths
 * (pricing, validation). Valid only after ic_units_init() succeeded, which opening a catalog
 * guarantees; everything else should use the checked accessors of units.h. */
#ifndef IC_UNITS_INTERNAL_H
#define IC_UNITS_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "infercost/units.h"

extern uint64_t ic__unit_desc[IC_UNITS_MAX];   /* descendants of each unit */
extern uint64_t ic__unit_anc[IC_UNITS_MAX];    /* ancestors */
extern uint64_t ic__unit_compat[IC_UNITS_MAX]; /* units it can overlap with */
extern signed char ic__unit_join_tab[IC_UNITS_MAX][IC_UNITS_MAX];
extern bool ic__unit_reported[IC_UNITS_MAX], ic__unit_in[IC_UNITS_MAX], ic__unit_out[IC_UNITS_MAX];


/* ic_unit_find for a key that is not NUL-terminated (n bytes). */
int ic__unit_find_n(const char *key, size_t n);

#endif
