/* pricing.h: normalized usage + model + time -> an itemized, exact cost.
 *
 * Units nest (units.yml): each priced unit is charged on what is left after its priced
 * descendants; usage of a unit the model does not price is charged at its nearest priced
 * ancestor's price; a negative remainder is an error. Tiers are chosen by the TOTAL input tokens
 * (strictly greater than a tier's start) and the tier's rate applies to all tokens of that price
 * key. A "requests" price charges one request per call. Each item is rounded once, half-even, to
 * the pico-dollar (money.h); the total is the exact sum of the items. */
#ifndef INFERCOST_PRICING_H
#define INFERCOST_PRICING_H

#include <stdbool.h>
#include <stdint.h>

#include "infercost/catalog.h"
#include "infercost/money.h"
#include "infercost/usage.h"

typedef struct ic_cost_item {
    int unit;            /* units.h id */
    uint64_t charged;    /* quantity charged after nesting */
    ic_decimal price;    /* the rate applied (the tier's, when tiered) */
    uint64_t per;        /* divisor of the rate */
    ic_money usd;        /* rounded amount */
} ic_cost_item;

/* The most one call may cost ($10^12): the pricing core refuses a call above it (IC_ERR_RANGE),
 * so that sums over calls in 128-bit pico-dollars cannot overflow short of 10^14 calls. */
#define IC_CALL_COST_MAX ((ic_money)1000000000000LL * IC_PICO_PER_USD)

typedef struct ic_cost {
    const ic_provider *provider;
    const ic_model *model;
    ic_money total;      /* exact sum of items */
    ic_money input;      /* items whose unit's direction is input */
    ic_money output;     /* ... output */
    ic_money saved;      /* ic_record_price of a cache hit: what the call would have cost (its
                            total is then 0 and it has no items); 0 otherwise */
    uint64_t unpriced;   /* bit u: unit u was reported (> 0) but the model prices it nowhere,
                            itself or through an ancestor; it is charged nothing (as the reference
                            calculator does), and shown, never hidden. A call whose usage is all
                            unpriced is an IC_ERR_NO_PRICE error instead. */
    int nitems;          /* items with a non-zero charged quantity, in price-set order */
    ic_cost_item items[IC_UNITS_MAX];
} ic_cost;

/* Price usage against a resolved model at time t_ms (ms since the epoch, UTC). The caller fills
 * out->provider/model or leaves them; this sets them from m. */
ic_status ic_price_usage(const ic_model *m, const ic_usage *u, int64_t t_ms, ic_cost *out,
                         ic_error *err);

/* Resolve and price in one call (provider may be NULL: the model alone decides). */
ic_status ic_price_call(const ic_catalog *c, const char *provider, const char *model,
                        const ic_usage *u, int64_t t_ms, ic_cost *out, ic_error *err);

/* What the cache-read tokens of this call would have cost at the uncached input rate, minus
 * what they did cost: the saving from prompt caching (0 when nothing was read from cache). */
ic_status ic_price_cache_saving(const ic_model *m, const ic_usage *u, int64_t t_ms,
                                ic_money *saved, ic_error *err);

#endif
