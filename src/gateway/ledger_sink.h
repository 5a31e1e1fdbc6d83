/* ledger_sink.h: the gateway's optional ledger writer (config key "ledger"). A background thread
 * tails the durable spool FILE (spool.h), the source of truth, and loads its complete lines into
 * the ledger through the library's ingest API (ingest.h): priced there by the pricing core,
 * appended in one transaction per chunk, idempotent by (time, event id). How far it got is kept
 * in FILE.ledger-pos (written after each commit), so a restart goes on from there; a crash
 * between a commit and that write only makes the next pass meet events already stored, which the
 * ledger skips. Nothing here runs on the request path or prices anything itself; the thread
 * reports a refused line or a failing ledger on stderr (once per distinct message), never a key. */
#ifndef IC_GW_LEDGER_SINK_H
#define IC_GW_LEDGER_SINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "infercost/catalog.h"
#include "spool.h"

typedef struct gw_ledger_sink gw_ledger_sink;

typedef struct gw_ledger_stats {
    uint64_t inserted;    /* events new in the ledger */
    uint64_t duplicates;  /* events already there (a replay after a crash) */
    uint64_t rejected;    /* spool lines the ingest refused (never expected) */
    uint64_t errors;      /* failed passes (the ledger or the spool could not be used) */
    uint64_t lag_bytes;   /* spool bytes not yet in the ledger, at the last pass */
} gw_ledger_stats;

/* Open the ledger at target (ledger.h: a path, "sqlite:PATH" or a postgresql:// URL), read
 * FILE.ledger-pos, start the thread. sp (may be NULL) is the gateway's spool writing FILE: when
 * it is rotated, the sink finishes the old file and goes on with the new. The catalog and the
 * spool must outlive the sink. NULL and a message in err on failure. */
gw_ledger_sink *gw_ledger_sink_open(const char *target, const char *spool_path,
                                    gw_spool *sp, const ic_catalog *cat, char *err,
                                    size_t errcap);
/* Load the spool up to its end once more, stop the thread, close the ledger. Returns false (and
 * a message) if the spool's end could not be loaded: what is missing is loaded at the next start
 * or by `infercost ingest`. final (may be NULL) receives the counts. Call after gw_spool_stop
 * (the spool flushed) and before gw_spool_close. */
bool gw_ledger_sink_close(gw_ledger_sink *k, gw_ledger_stats *final, char *err, size_t errcap);
void gw_ledger_sink_stats(gw_ledger_sink *k, gw_ledger_stats *out);

#endif
