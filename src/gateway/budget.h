/* budget.h: spend budgets ($/day, $/month, UTC) and rate limits (requests and tokens per minute)
 * per virtual key, behind a store interface (gw_budget_ops). The store is in memory; with a
 * shared budget store (budget_pg.h) a background thread also publishes its counters and adds in
 * what the other gateways sharing it have spent, so that several gateways enforce one budget.
 * Protocol: reserve(worst case) before forwarding -> refused calls never reach the provider;
 * settle(reserved, actual) after. A budget is never crossed by more than what was in flight
 * (with a shared store: plus what the other gateways spent since the last exchange).
 * Amounts are exact (ic_money). */
#ifndef IC_GW_BUDGET_H
#define IC_GW_BUDGET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "infercost/money.h"

typedef struct gw_limits {
    bool has_day, has_month;
    ic_money day, month;
    uint32_t rpm;
    uint64_t tpm;
} gw_limits;

/* What a key has used in the current UTC periods, the other gateways' sums included (what a
 * reserve checks against its limits). */
typedef struct gw_key_usage {
    ic_money day_spent, month_spent; /* settled */
    ic_money held;                   /* in flight */
    uint64_t requests, tokens;       /* this minute; tokens include those held */
} gw_key_usage;

typedef struct gw_budget_ops {
    /* Admit a call that may cost up to worst and use up to tokens tokens; on refusal fill why
     * and return false. On success the worst case is held until settle. */
    bool (*reserve)(void *store, const char *key_id, const gw_limits *lim, ic_money worst,
                    uint64_t tokens, int64_t now_ms, char *why, size_t whycap);
    /* Release the hold and charge the actual cost and tokens. */
    void (*settle)(void *store, const char *key_id, ic_money reserved, uint64_t tokens_reserved,
                   ic_money actual, uint64_t tokens, int64_t now_ms);
    /* What the key has used now (/metrics, tests). */
    void (*usage)(void *store, const char *key_id, int64_t now_ms, gw_key_usage *out);
    void (*free)(void *store);
} gw_budget_ops;

extern const gw_budget_ops gw_budget_memory_ops;
void *gw_budget_memory_new(void);

/* One key's counters (this gateway's, or the sum of the others'), each with the period it counts:
 * day (days since the epoch), month (y * 12 + m), minute (minutes since the epoch), UTC. */
typedef struct gw_budget_row {
    char *key_id;
    int64_t day, month, minute;
    ic_money day_spent, month_spent, held;
    uint64_t requests, tokens; /* this minute; tokens include those held */
} gw_budget_row;

/* For a shared store, from any thread (the store locks itself):
 * the keys whose counters changed since the last call and those holding money or tokens (all:
 * every key); *out is malloc'd (free with gw_budget_rows_free); -1 when out of memory. */
long gw_budget_memory_changed(void *store, bool all, gw_budget_row **out);
/* the other gateways' sums, replacing the last ones: rows[i] for key rows[i].key_id (copied;
 * built outside the lock, swapped in under it) */
void gw_budget_memory_set_others(void *store, const gw_budget_row *rows, size_t n);
/* this gateway's spend for key from an earlier run: the day's and month's spent are raised to it
 * where the periods are the current ones */
void gw_budget_memory_restore(void *store, const gw_budget_row *row, int64_t now_ms);
void gw_budget_rows_free(gw_budget_row *rows, size_t n);
/* the periods now_ms falls in, as a row counts them */
void gw_budget_periods(int64_t now_ms, int64_t *day, int64_t *month, int64_t *minute);

#endif
