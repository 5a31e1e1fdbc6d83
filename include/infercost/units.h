/* units.h: the unit registry (genai-prices units.yml): every billable unit, its price key, its
 * divisor ("per") and its dimensions. Units nest by dimension containment: input_tokens is an
 * ancestor of cache_read_tokens. The registry is process-wide and immutable once loaded; it is
 * loaded from the embedded units.yml on first use. Unit ids are indexes 0..ic_unit_count()-1 in
 * file order; at most IC_UNITS_MAX units. */
#ifndef INFERCOST_UNITS_H
#define INFERCOST_UNITS_H

#include <stdbool.h>
#include <stdint.h>

#include "infercost/status.h"

#define IC_UNITS_MAX 64

/* Load the registry (idempotent, thread-safe). Everything below calls it implicitly; call it
 * yourself only to see a load error. */
ic_status ic_units_init(ic_error *err);

int ic_unit_count(void);
int ic_unit_find(const char *usage_key);           /* -1 if unknown */
int ic_unit_find_price_key(const char *price_key); /* -1 if unknown */
const char *ic_unit_name(int unit);                /* usage key, e.g. "cache_read_tokens" */
const char *ic_unit_price_key(int unit);           /* e.g. "cache_read_mtok" */
uint64_t ic_unit_per(int unit);                    /* 1000000, 1000, 3600, ... */
const char *ic_unit_direction(int unit);           /* "input", "output" or NULL */
const char *ic_unit_family(int unit);              /* "tokens", "durations", ... */
bool ic_unit_is_input(int unit);                   /* direction is input */
bool ic_unit_is_output(int unit);                  /* direction is output */
/* "reported" units are the ones usage records carry: all but "requests" (one per call). */
bool ic_unit_is_reported(int unit);
/* ancestor: every dimension of a is in b, and a != b */
bool ic_unit_is_ancestor(int a, int b);
/* bit set of the unit's descendants / ancestors */
uint64_t ic_unit_descendants(int unit);
uint64_t ic_unit_ancestors(int unit);
/* the unit whose dimensions are the union of a's and b's, if they are compatible; -1 if none */
int ic_unit_join(int a, int b);
/* no dimension on which a and b disagree (so some usage can be both) */
bool ic_unit_compatible(int a, int b);
int ic_unit_dimension_count(int unit);

#endif
