/* budget.h: spend budgets ($/day, $/month, UTC) and rate limits (requests and tokens per minute)
 * per virtual key, behind a store interface (gw_budget_ops) that a shared backend (Redis:
 * INCRBY on per-key/per-period counters, a Lua script for reserve) can implement later so that
 * several gateways enforce one budget. The in-memory store here is for one gateway.
 * Protocol: reserve(worst case) before forwarding -> refused calls never reach the provider;
 * settle(reserved, actual) after. A budget is never crossed by more than what was in flight.
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

typedef struct gw_budget_ops {
    /* Admit a call that may cost up to worst and use up to tokens tokens; on refusal fill why
     * and return false. On success the worst case is held until settle. */
    bool (*reserve)(void *store, const char *key_id, const gw_limits *lim, ic_money worst,
                    uint64_t tokens, int64_t now_ms, char *why, size_t whycap);
    /* Release the hold and charge the actual cost and tokens. */
    void (*settle)(void *store, const char *key_id, ic_money reserved, uint64_t tokens_reserved,
                   ic_money actual, uint64_t tokens, int64_t now_ms);
    /* Spent (settled) in the current day and month, for /metrics and tests. */
    void (*spent)(void *store, const char *key_id, int64_t now_ms, ic_money *day, ic_money *month);
    void (*free)(void *store);
} gw_budget_ops;

extern const gw_budget_ops gw_budget_memory_ops;
void *gw_budget_memory_new(void);

#endif
