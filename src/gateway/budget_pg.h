/* budget_pg.h: budgets shared by several gateways through PostgreSQL (config "budget_store").
 * Each gateway keeps enforcing from its in-memory store (budget.h), so a call never waits on the
 * database; a background thread, every budget_sync_ms, writes this gateway's counters per key
 * (today's and this month's spend, what it holds for calls in flight, this minute's requests and
 * tokens) into the table infercost_budget, one row per key and gateway, as absolute values (a
 * repeated or lost write cannot count anything twice), and reads back the sums of the other
 * gateways' rows for the current periods, which the store then adds to its own at every reserve.
 * Only the keys with limits in this gateway's config are read and written. A row's holds stop
 * counting when its gateway has not written it for 10 of its intervals (at least 5 s): a gateway
 * killed during a call does not block a budget for ever. At start the gateway's own rows give back
 * what it had spent; a session lock on its gateway_id keeps a second process from running under
 * it. If the database goes away, the gateway goes on with the others' last sums and catches up
 * when it is back. docs/gateway.md, "Several gateways, one budget". */
#ifndef IC_GW_BUDGET_PG_H
#define IC_GW_BUDGET_PG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct gw_budget_sync gw_budget_sync;

typedef struct gw_budget_sync_stats {
    uint64_t syncs, errors, rows; /* exchanges, failed ones, key rows written */
    int64_t last_ok_ms;           /* wall clock of the last exchange that succeeded */
    int64_t last_us, total_us;    /* how long the last exchange took, and all of them */
} gw_budget_sync_stats;

/* Connect, take the lock on gateway_id (refused when another process holds it), create the table
 * if needed, restore this gateway's spend into store, make a first exchange, and start the
 * thread; keys: the configured keys with limits. NULL and a message in err on failure (no
 * secret in it). */
gw_budget_sync *gw_budget_sync_open(const char *target, const char *gateway_id, long interval_ms,
                                    const char *const *keys, size_t nkeys, void *store,
                                    char *err, size_t errcap);
void gw_budget_sync_stats_get(gw_budget_sync *b, gw_budget_sync_stats *out);
/* From the event loop, often: an exchange that has not finished for 10 intervals (at least 5 s),
 * a database that does not answer at all (the server's statement timeout cannot end that), is
 * said once on stderr; its end too. */
void gw_budget_sync_watch(gw_budget_sync *b);
/* stop the thread, which writes the final counters (the calls have settled), and disconnect;
 * waits at most 7 s for a database that does not answer, and then returns false: the thread
 * may still use b and the store, which must not be freed */
bool gw_budget_sync_close(gw_budget_sync *b);

#endif
