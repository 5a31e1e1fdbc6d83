/* budget_pg.h: budgets shared by several gateways through PostgreSQL (config "budget_store").
 * Each gateway keeps enforcing from its in-memory store (budget.h), so a call never waits on the
 * database; a background thread, every budget_sync_ms, writes this gateway's counters per key
 * (today's and this month's spend, what it holds for calls in flight, this minute's requests and
 * tokens) into the table infercost_budget, one row per key and gateway, as absolute values (a
 * repeated or lost write cannot count anything twice), and reads back the sums of the other
 * gateways' rows for the current periods, which the store then adds to its own at every reserve.
 * A gateway's holds stop counting for the others when its row has not been written for 10
 * intervals (at least 5 s): a gateway killed during a call does not block a budget for ever. At
 * start the gateway's own rows give back what it had spent (a restart with a new spool still
 * knows). If the database goes away, the gateway goes on with the others' last sums and catches
 * up when it is back. */
#ifndef IC_GW_BUDGET_PG_H
#define IC_GW_BUDGET_PG_H

#include <stddef.h>
#include <stdint.h>

typedef struct gw_budget_sync gw_budget_sync;

typedef struct gw_budget_sync_stats {
    uint64_t syncs, errors, rows; /* exchanges, failed ones, key rows written */
    int64_t last_ok_ms;           /* wall clock of the last exchange that succeeded */
    int64_t last_us, total_us;    /* how long the last exchange took, and all of them */
} gw_budget_sync_stats;

/* Connect, create the table if needed, restore this gateway's spend into store, make a first
 * exchange, and start the thread. NULL and a message in err on failure (no secret in it). */
gw_budget_sync *gw_budget_sync_open(const char *target, const char *gateway_id, long interval_ms,
                                    void *store, char *err, size_t errcap);
void gw_budget_sync_stats_get(gw_budget_sync *b, gw_budget_sync_stats *out);
/* stop the thread, write the final counters (the calls have settled), disconnect */
void gw_budget_sync_close(gw_budget_sync *b);

#endif
