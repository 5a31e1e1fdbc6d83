/* whatif.h: what-if savings from the ledger. The calls of a period are priced again, through the
 * pricing core, under a scenario: some of them moved to another model (all of a model's calls, or
 * a share chosen by event id or by prompt size, as a router would send them), sent through the
 * provider's batch API at its discount, more of their input read from the prompt cache, answered
 * by the gateway's exact response cache when they repeat an earlier request, their prompts
 * shortened (prompt compression), priced at another
 * date's prices (today's, or a later price change), or, to see what the gateway's router saved,
 * each call it moved priced back on the model the client asked for (unroute). The
 * answer is, per group (model, customer, feature, provider or month), what those calls cost and
 * what they would have cost, exactly, and the period's cost as a share of revenue before and
 * after.
 *
 * Each call keeps its recorded usage (tokens of each kind, requests, seconds): a swap assumes the
 * other model would have used the same tokens. A call the scenario cannot price as asked (the
 * other model does not price one of its units, or it has no recorded usage) stays on its model,
 * at its recorded cost (or the other date's prices, when those can be had) and still batched, and
 * is counted and named: never priced at $0. Cache hits of the gateway (recorded at $0) stay $0.
 * A call that stays on its model keeps its recorded cost plus the change the scenario makes to
 * its price. Amounts are exact ic_money; the batch discount is taken off each call's token items
 * and rounded half-even to the pico-dollar. Nothing here prints on its own. */
#ifndef INFERCOST_WHATIF_H
#define INFERCOST_WHATIF_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "infercost/catalog.h"
#include "infercost/ledger.h"
#include "infercost/report.h"

#define IC_WHATIF_MAX_SWAPS 16

/* Calls served by `from` (the model the ledger counts them under: ic_event_rollup_model; "*" for
 * every model) priced on `to` instead. */
typedef struct ic_whatif_swap {
    const char *from;
    const ic_model *to;
} ic_whatif_swap;

/* Options. ic_whatif keeps a copy: the catalog, the filter's strings and the swaps' strings and
 * models are borrowed and must outlive the result (ic_whatif_write reads them). */
typedef struct ic_whatif_opts {
    const ic_catalog *catalog;
    ic_ledger_filter filter;   /* the period, and the calls the scenario applies to (provider,
                                  model, customer, feature: exact matches); the rest of the
                                  period is counted in the totals as it is */
    ic_whatif_swap swaps[IC_WHATIF_MAX_SWAPS]; /* the first that matches a call applies */
    int nswaps;
    uint32_t share_bp;         /* of the calls a swap matches, the share moved (0 or 10000: all);
                                  a call moves when the hash of its id falls in the share, so a
                                  run is reproducible and a larger share moves a superset */
    bool share_smallest;       /* move instead the share with the fewest input tokens (ties by
                                  the hash of the id), as a prompt-size rule would route: the
                                  longest prompts stay on their model */
    bool batch;                /* the batch discount, on the token part of calls not already
                                  batched (searches, requests and seconds stay full price) */
    uint32_t batch_bp;         /* the discount for every provider (0: each provider's published
                                  one, ic_whatif_batch_discount_bp; providers without one are
                                  left as they are) */
    bool at;                   /* price every call at the prices in force on at_ms's UTC date,
                                  at the call's own time of day (so time-of-day prices keep
                                  their hours); false: at the call's own time */
    int64_t at_ms;
    uint32_t cache_read_bp;    /* at least this share of each call's input tokens read from the
                                  provider's prompt cache (priced at the model's cache-read
                                  rate, its input rate where it has none); 0: as recorded */
    uint32_t trim_input_bp;    /* each call's input tokens that are not cache reads or writes cut
                                  by this share (rounded down), as prompt compression would;
                                  applied before cache_read_bp; 0: as recorded */
    int64_t response_cache_ms; /* > 0: the gateway's exact response cache on, entries kept this
                                  long: a call whose request hash (ic_event.request_hash) equals
                                  that of a successful call answered less than this long before
                                  it (from that answer's end, as the gateway stores it) is
                                  answered from the cache, at $0. Every call of the period fills
                                  the cache, whatever the filters; only the calls the scenario
                                  applies to are counted. The cache's byte cap is not modelled. */
    bool unroute;              /* each call the gateway's router moved (ic_event.routed_from, the
                                  model the client asked for, differs from the model recorded
                                  and resolves to another catalog model than the one that priced
                                  the call; not a failed call, nor one a fallback target served)
                                  priced on the model asked for, with the same tokens: its
                                  recorded cost plus what the model asked for costs more than
                                  the one that served it, both by today's catalog. A name the
                                  catalog cannot price (a tier like "auto") leaves the call as it
                                  is, unpriced. The saving then comes out negative by what
                                  routing saved. A scenario of its own: with none of the others. */
    ic_dim by;                 /* provider, model, customer, feature or month */
} ic_whatif_opts;

typedef struct ic_whatif_row {
    char *key;                 /* NULL for the total */
    uint64_t requests;         /* calls of the group the scenario applies to */
    uint64_t moved;            /* of which moved to another model */
    uint64_t batched;          /* of which given the batch discount */
    uint64_t cached;           /* of which answered from the response cache (response_cache_ms) */
    uint64_t unpriced;         /* of which the scenario could not price (kept as they were) */
    ic_money before, after;    /* their cost as recorded, and under the scenario */
    ic_money revenue;          /* by customer: the customer's revenue in the period */
    ic_money period_cost;      /* by customer: all the customer's calls in the period, before */
    bool has_revenue;
} ic_whatif_row;

typedef struct ic_whatif {
    ic_whatif_opts opts;
    ic_whatif_row *rows;       /* largest saving first */
    size_t nrows;
    ic_whatif_row total;       /* revenue and period_cost: the whole period's */
    char first_unpriced[512];  /* why the first call that could not be priced was not ("" if
                                  none): the event's id and the pricing core's message */
    uint64_t no_batch_price;   /* calls left undiscounted: their provider publishes no discount */
    uint64_t catalog_differs;  /* calls that stay on their model and whose recorded usage the
                                  catalog prices otherwise today than the ledger recorded (a
                                  newer feed, an overlay not given): the scenario's change is
                                  applied to the recorded cost */
    uint64_t by_fallback;      /* unroute: calls a fallback target served (the target the route
                                  chose failed), left as they are: not a routing decision */
    uint64_t unhashed;         /* response_cache_ms: calls the scenario applies to that carry no
                                  request hash (streamed, not deterministic, or not through the
                                  gateway), so no response cache would answer them */
    uint64_t swap_matched[IC_WHATIF_MAX_SWAPS]; /* calls each swap matched (moved or not) */
    uint64_t swap_seen[IC_WHATIF_MAX_SWAPS];    /* calls of the period served by its FROM,
                                                   whatever the filters, earlier swaps or cache */
} ic_whatif;

/* The batch API discount a provider publishes, in basis points of the price (5000 = half
 * price), for the providers that publish one for every model and usage kind; 0 otherwise.
 * Sources in docs/ledger.md ("What-if"). */
uint32_t ic_whatif_batch_discount_bp(const char *provider_id);

ic_status ic_whatif_build(ic_ledger *l, const ic_whatif_opts *o, ic_whatif **out, ic_error *err);
void ic_whatif_free(ic_whatif *w);
ic_status ic_whatif_write(const ic_whatif *w, ic_report_format fmt, FILE *f, ic_error *err);

#endif
