/* ledger.h: the ledger, an append-only store of priced model calls (events), with daily rollups
 * kept current at append time and a revenue table for unit economics.
 *
 * Storage sits behind an ops table (ic_ledger_ops): SQLite is the embedded default (one file,
 * WAL); PostgreSQL (ledger_pg.c) serves several gateways and ingests at once. Everything above the ops table
 * (dedup accounting, rollup accumulation, reports) is backend-agnostic and works on plain C
 * structs; all money is ic_money (exact pico-dollars) and every sum is done in 128 bits.
 *
 * Idempotence: every event has an id (text); the store keeps one event per (time, id), so
 * appending the same batch twice changes nothing. ic_ledger_append() runs one batch in one
 * transaction: the events and the rollup deltas of the events actually inserted commit together
 * or not at all, so a process killed at any point leaves a consistent ledger.
 *
 * This layer never prices anything (the pricing core does, see record.h) and never prints. */
#ifndef INFERCOST_LEDGER_H
#define INFERCOST_LEDGER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "infercost/money.h"
#include "infercost/pricing.h"
#include "infercost/status.h"
#include "infercost/usage.h"

#define IC_LEDGER_SCHEMA_VERSION 3

/* One priced call. Strings are borrowed (NULL or "" = absent); in a scan callback they are valid
 * only during the call. */
/* The most one call may cost to be ingested: far above any real call (a million dollars), and
 * low enough that a day's sums per rollup row (64-bit micro-dollars, $9.2 trillion) cannot
 * overflow: ingest refuses a call that costs more, naming its line. */
#define IC_EVENT_COST_MAX (1000000 * IC_PICO_PER_USD)

typedef struct ic_event {
    const char *id;          /* required: the caller's id or a content hash (see docs/ledger.md) */
    int64_t t_ms;            /* time of the call, ms since the epoch, UTC */
    const char *provider;    /* catalog provider id that priced it */
    const char *model;       /* model as requested */
    const char *model_served;/* model that served it (catalog id when priced) */
    const char *api_flavor;
    /* normalized usage: the common kinds as fields; the full record and the cost items travel
     * packed in detail (ic_event_detail_pack) */
    uint64_t input_tokens, cache_read_tokens, cache_write_tokens, output_tokens, reasoning_tokens;
    ic_money cost, cost_input, cost_output;
    /* a response-cache hit (cache_hit): what the call would have cost at the provider, which
     * nothing was paid for; 0 otherwise (and for hits recorded before schema version 3) */
    ic_money cache_saved;
    const unsigned char *detail;
    size_t detail_len;
    /* scans with filter.detail set also render the detail as text (else NULL):
     * usage_json {"input_tokens":..,...}; items "unit charged price per usd;..." */
    const char *usage_json;
    const char *items;
    const char *customer, *feature, *task, *key_id, *status, *routed_from, *tags;
    int64_t latency_ms;      /* -1 = unknown */
    bool cache_hit, batch;
    bool fallback;           /* served by a gateway route's fallback target */
    const char *source;      /* "file:line" it came from (scans: only with filter.detail) */
    const char *request_hash;/* equal for requests a response cache would answer alike; NULL or
                                "" when not known (ic_record.request_hash) */
} ic_event;

/* One rollup row: the sums of the events of one UTC day and one (provider, model, customer,
 * feature). The model is model_served when known, else the requested model. */
typedef struct ic_rollup {
    int64_t day;             /* days since 1970-01-01 */
    const char *provider, *model, *customer, *feature;
    uint64_t requests, cache_hits, errors;
    uint64_t input_tokens, cache_read_tokens, cache_write_tokens, output_tokens, reasoning_tokens;
    ic_money cost, cost_input, cost_output;
    ic_money cache_saved; /* the sum of the events' cache_saved */
} ic_rollup;

/* What a scan selects: a half-open time range [from_ms, to_ms) (0 = unbounded) and optional
 * exact matches. */
typedef struct ic_ledger_filter {
    int64_t from_ms, to_ms;
    const char *provider, *model, *customer, *feature;
    bool detail; /* event scans: render usage_json, items and source */
} ic_ledger_filter;

typedef struct ic_ledger_stats {
    uint64_t events;
    int64_t first_ms, last_ms; /* 0 when empty */
    int schema_version;
    ic_money cost;
} ic_ledger_stats;

/* Return non-zero from a callback to stop the scan (the scan then returns IC_OK). */
typedef int (*ic_event_cb)(const ic_event *e, void *arg);
typedef int (*ic_rollup_cb)(const ic_rollup *r, void *arg);
typedef int (*ic_revenue_cb)(const char *customer, const char *period, ic_money amount, void *arg);

typedef struct ic_ledger ic_ledger;
typedef struct ic_ledger_batch ic_ledger_batch;

/* The storage interface. A backend fills every member. insert() reports *inserted = false for
 * an event already present (same t_ms and id). Calls happen on one thread at a time. */
typedef struct ic_ledger_ops {
    const char *name;
    ic_status (*open)(void **state, const char *target, bool readonly, ic_error *err);
    void (*close)(void *state);
    ic_status (*begin)(void *state, ic_error *err);
    ic_status (*commit)(void *state, ic_error *err);
    void (*rollback)(void *state);
    ic_status (*insert)(void *state, const ic_event *e, bool *inserted, ic_error *err);
    ic_status (*rollup_add)(void *state, const ic_rollup *r, ic_error *err);
    ic_status (*scan_events)(void *state, const ic_ledger_filter *f, ic_event_cb cb, void *arg,
                             ic_error *err);
    ic_status (*scan_rollups)(void *state, const ic_ledger_filter *f, ic_rollup_cb cb, void *arg,
                              ic_error *err);
    ic_status (*revenue_put)(void *state, const char *customer, const char *period,
                             ic_money amount, ic_error *err);
    ic_status (*scan_revenue)(void *state, ic_revenue_cb cb, void *arg, ic_error *err);
    ic_status (*stats)(void *state, ic_ledger_stats *out, ic_error *err);
    /* Optional (NULL: ic_ledger_append inserts event by event and ic_ledger_append_batch
     * refuses): insert a sealed batch (ledger_internal.h), setting dup[i] for each entry i
     * already present (or repeated within the batch). Rollups are the caller's. */
    ic_status (*insert_batch)(void *state, ic_ledger_batch *b, bool *dup, ic_error *err);
} ic_ledger_ops;

extern const ic_ledger_ops ic_ledger_sqlite_ops;
extern const ic_ledger_ops ic_ledger_pg_ops;

/* Open (creating if needed, migrating an older schema forward) the ledger at target: a file path
 * or "sqlite:PATH" for SQLite; "postgres://..." or "postgresql://..." (a libpq connection URI)
 * for PostgreSQL. readonly refuses to create. */
ic_status ic_ledger_open(ic_ledger **out, const char *target, bool readonly, ic_error *err);
/* Whether target names a database server (PostgreSQL) rather than a file. */
bool ic_ledger_is_url(const char *target);
/* target as messages and state files may show it: a URL's password removed ("user:pw@" and
 * "password=" parameters). */
void ic_ledger_target_display(const char *target, char *out, size_t cap);
/* Open with an explicit backend (for tests and future backends). */
ic_status ic_ledger_open_with(ic_ledger **out, const ic_ledger_ops *ops, const char *target,
                              bool readonly, ic_error *err);
void ic_ledger_close(ic_ledger *l);
const char *ic_ledger_backend(const ic_ledger *l);

/* Append a batch in one transaction: inserts the events, adds the rollup deltas of the ones not
 * already present, commits. *ninserted (may be NULL) counts the new ones; dup_flags (may be
 * NULL, n entries) is set true for each event that was already there (same time and id). On
 * failure nothing of the batch is kept. */
ic_status ic_ledger_append(ic_ledger *l, const ic_event *ev, size_t n, size_t *ninserted,
                           bool *dup_flags, ic_error *err);

/* ---- batches: the fast path (ingest, the gateway's sink) ----
 * A batch packs events for one append (row bodies, names; then order and rollup deltas, see
 * ic_ledger_batch_seal) on whatever thread builds it, so that the thread holding the ledger
 * mostly inserts. A batch is not tied to a ledger; one thread at a time uses it. */
ic_status ic_ledger_batch_new(ic_ledger_batch **out, ic_error *err);
void ic_ledger_batch_free(ic_ledger_batch *b);
void ic_ledger_batch_clear(ic_ledger_batch *b); /* empty it, keeping its memory */
size_t ic_ledger_batch_count(const ic_ledger_batch *b);
/* Copy one event in (its strings need not outlive the call). IC_ERR_INVALID: no id;
 * IC_ERR_RANGE: too large to store; the batch is then unchanged. */
ic_status ic_ledger_batch_add(ic_ledger_batch *b, const ic_event *e, ic_error *err);
/* The same with the source given as file and line (e->source is ignored): no "file:line" text
 * to format and split again. */
ic_status ic_ledger_batch_add_src(ic_ledger_batch *b, const ic_event *e, const char *file,
                                  uint64_t line, ic_error *err);
/* Order the batch by (time, id) and sum its rollup deltas. ic_ledger_append_batch does it when
 * needed; call it on the producing thread to move that work there. */
ic_status ic_ledger_batch_seal(ic_ledger_batch *b, ic_error *err);
/* Append a batch in one transaction, like ic_ledger_append: *ninserted and *cost (may be NULL)
 * get the count and exact cost of the events that were new. The batch is left as it was. */
ic_status ic_ledger_append_batch(ic_ledger *l, ic_ledger_batch *b, size_t *ninserted,
                                 ic_money *cost, ic_error *err);

ic_status ic_ledger_scan_events(ic_ledger *l, const ic_ledger_filter *f, ic_event_cb cb,
                                void *arg, ic_error *err);
ic_status ic_ledger_scan_rollups(ic_ledger *l, const ic_ledger_filter *f, ic_rollup_cb cb,
                                 void *arg, ic_error *err);
/* Set (replace) a customer's revenue for a period "YYYY-MM". */
ic_status ic_ledger_revenue_put(ic_ledger *l, const char *customer, const char *period,
                                ic_money amount, ic_error *err);
/* Several in one transaction: all or nothing. */
ic_status ic_ledger_revenue_put_many(ic_ledger *l, const char *const *customers,
                                     const char *const *periods, const ic_money *amounts,
                                     size_t n, ic_error *err);
ic_status ic_ledger_scan_revenue(ic_ledger *l, ic_revenue_cb cb, void *arg, ic_error *err);
ic_status ic_ledger_stats_get(ic_ledger *l, ic_ledger_stats *out, ic_error *err);

/* Pack a call's full usage and cost items (unit, charged, rate, per, amount) into buf, in a
 * compact, stable binary form (unit names are coded by a fixed table, docs/ledger.md). Returns
 * the length, or 0 if cap is too small (IC_EVENT_DETAIL_MAX always suffices). */
#define IC_EVENT_DETAIL_MAX 4096
size_t ic_event_detail_pack(const ic_usage *u, const ic_cost *c, unsigned char *buf, size_t cap);
/* Render packed detail as text (see ic_event.usage_json / items). IC_ERR_PARSE if malformed. */
ic_status ic_event_detail_render(const unsigned char *d, size_t len, char *usage_json,
                                 size_t ucap, char *items, size_t icap);

/* The usage packed in detail back into *u. IC_ERR_PARSE if malformed or naming a unit this
 * build does not know. */
ic_status ic_event_detail_usage(const unsigned char *d, size_t len, ic_usage *u, ic_error *err);
/* The cost items packed in detail back into c->items and c->nitems (unit, charged, price, per,
 * amount), c->total their sum; the rest of *c is zero. Errors as above. */
ic_status ic_event_detail_cost(const unsigned char *d, size_t len, ic_cost *c, ic_error *err);

/* The model a rollup counts an event under: model_served when given, else model. */
const char *ic_event_rollup_model(const ic_event *e);

#endif
