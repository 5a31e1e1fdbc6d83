/* ingest.h: reading priced-call logs into the ledger. One stream may hold, line by line or as one
 * JSON document:
 *   - the JSONL forms of `infercost cost` (record.h), with optional id/customer/feature/task/...;
 *   - OpenTelemetry GenAI spans as OTLP/JSON (ExportTraceServiceRequest objects, one per line as
 *     the OTel file exporter writes them, or one pretty-printed document);
 *   - LiteLLM spend logs (LiteLLM_SpendLogs rows as a JSON array, JSONL, or the CSV export).
 * Every event is priced by the pricing core (ic_record_price); this file computes no price.
 * Every event gets an id (docs/ledger.md): the line's "id", "otel:TRACE:SPAN", "litellm:REQUEST",
 * or for a line without one "h:" + the XXH3-128 of the line with surrounding whitespace removed.
 * Events are appended in batches, one transaction each (ledger.h), so a killed ingest leaves the
 * ledger consistent and a re-run adds exactly what is missing. Bad lines go to the reject
 * callback (file, line, reason, text) and everything else is kept. Never prints. */
#ifndef INFERCOST_INGEST_H
#define INFERCOST_INGEST_H

#include <stdint.h>
#include <stdio.h>

#include "infercost/catalog.h"
#include "infercost/ledger.h"

typedef struct ic_ingest_stats {
    uint64_t lines;       /* input lines (or array items) read */
    uint64_t events;      /* events priced */
    uint64_t inserted;    /* of which new in the ledger */
    uint64_t duplicates;  /* of which already there */
    uint64_t rejected;    /* lines or spans refused */
    uint64_t skipped;     /* blank lines, OTel spans that are not GenAI calls */
    uint64_t bytes;       /* input bytes consumed */
    ic_money cost;        /* exact cost of the inserted events */
} ic_ingest_stats;

/* Events per transaction by default. Logs of a busy day, grouped by task rather than sorted by
 * time, make each batch write all over that day's part of the ledger; fewer, larger transactions
 * write each page fewer times: 50,000 took a quarter less CPU than 20,000 on the last million
 * events of bench/ledger.sh's 10M workload, the same on its 1M one (and ~30 MB more memory). */
#define IC_INGEST_BATCH 50000

typedef struct ic_ingest_opts {
    const ic_catalog *catalog;
    int64_t now_ms;       /* time given to records that carry none */
    size_t batch;         /* events per transaction (0: IC_INGEST_BATCH) */
    int threads;          /* 0/1: parse on the calling thread; 2: parse and write in parallel */
    /* a refused line: source name, line number (1-based), reason, the line's text */
    void (*reject)(void *arg, const char *source, uint64_t line, const char *reason,
                   const char *text, size_t len);
    /* after each committed batch */
    void (*progress)(void *arg, const ic_ingest_stats *st);
    void *arg;
} ic_ingest_opts;

/* Ingest one stream. Returns IC_OK when every line was either stored or rejected; a failure of
 * the ledger or of reading stops it (batches already committed stay). Stats accumulate into *st. */
ic_status ic_ingest_stream(ic_ledger *l, const ic_ingest_opts *o, FILE *in, const char *source,
                           ic_ingest_stats *st, ic_error *err);

#endif
