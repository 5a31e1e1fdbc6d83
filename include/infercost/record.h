/* record.h: one priced-call input line, the JSONL form that `infercost cost` and
 * `infercost ingest` read (docs/formats.md). A line is either a usage record
 *   {"provider":"anthropic","model":"claude-sonnet-4-5","timestamp":"2026-03-01T10:00:00Z",
 *    "usage":{"input_tokens":4740,"cache_write_tokens":4735,"output_tokens":255}}
 * or a provider response {"provider":"openai","api_flavor":"chat","timestamp":..,"response":{..}}
 * or a streamed one {"provider":"anthropic","timestamp":..,"stream":"event: ...\ndata: {...}\n\n"}.
 * "api_url" (the provider's API URL) can stand in for the provider, matched by the feed's
 * api_pattern. Optional metadata (id, customer, feature, task, key_id, status, latency_ms,
 * cache_hit, routed_from, model_served, batch, fallback, tags, request_hash) is carried through
 * for the ledger.
 *
 * Parsing has a fast path, a focused scanner for the flat usage-record shape (the hot path of
 * `infercost cost`, see BENCHMARKS.md for why), and falls back to json-c for everything else. */
#ifndef INFERCOST_RECORD_H
#define INFERCOST_RECORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "infercost/catalog.h"
#include "infercost/pricing.h"
#include "infercost/usage.h"

typedef struct ic_record {
    char provider[64];      /* "" when the line names none */
    char model[256];        /* from the line, or from the response body */
    char api_flavor[32];    /* "" = default */
    char api_url[256];      /* the API base URL called: finds the provider by api_pattern when
                               no provider is named */
    int64_t t_ms;
    bool has_time;
    bool from_response;     /* usage was extracted from a response body or stream */
    ic_usage usage;
    /* metadata ("" / -1 / false when absent) */
    char id[128];
    char customer[128];
    char feature[128];
    char task[128];
    char key_id[64];
    char model_served[256];
    char routed_from[256];
    char status[32];
    int64_t latency_ms;
    bool cache_hit;
    bool batch;
    bool fallback;          /* served by a fallback target: the one the route chose failed */
    char tags[2048];        /* the tags object as compact JSON text, "" if none */
    bool usage_incomplete;  /* tags.usage_incomplete is true: the provider did not report all of
                               the call's usage; a gateway's estimate stands in for what is
                               missing */
    char request_hash[65];  /* equal for requests a response cache would answer alike ("" if
                               not known): the gateway writes its cache key, 64 hex digits */
} ic_record;

/* Parse one line (without its newline). The timestamp, when absent, is left unset
 * (has_time false): the caller decides (cost uses now). */
ic_status ic_record_parse(const ic_catalog *c, const char *line, size_t len, ic_record *out,
                          ic_error *err);

/* Force the general (json-c) parser even for lines the fast path accepts: for benchmarks. */
void ic_record_set_fast_path(bool enabled);

/* Price a parsed record: resolve provider/model, choose prices at the record's time (now_ms if
 * it has none), cost it. A record with "cache_hit":true (answered from a response cache, as the
 * gateway writes them) costs $0: out->saved holds what it would have cost. */
ic_status ic_record_price(const ic_catalog *c, const ic_record *r, int64_t now_ms, ic_cost *out,
                          ic_error *err);

/* The output line of `infercost cost` for a priced record:
 * {"provider":..,"model":..,"total_usd":"..","items":[{"unit":..,"charged":..,"price_per":"..",
 *  "per":..,"usd":".."}...]} plus "usage" for lines whose usage came from a response, and
 * "warning" for a deprecated model. Returns bytes written or 0 if cap is too small. The bytes of
 * buf past the returned length are scratch: the writer may have left anything there. */
size_t ic_cost_to_json(const ic_record *r, const ic_cost *cost, char *buf, size_t cap);

/* s (NUL-terminated) to f as a JSON string literal, as ic_json_quote writes it; 0, or EOF when it
 * could not be written (or out of memory). */
int ic_json_fputs(const char *s, FILE *f);

/* Whether s[0..n) is valid UTF-8 (eight ASCII bytes a step first). Record fields and revenue
 * customers that are not are refused, so that the ledger holds only what every output (JSON,
 * CSV) can print as written. */
bool ic_utf8_valid(const char *s, size_t n);

/* Whether JSON text[0..len) holds a \u0000 escape (a NUL in a string). json-c cuts object keys
 * at a NUL, so a key "max_tokens\u0000x" would read as max_tokens: readers that must see what
 * the writer meant refuse such text. A backslash is always inside a string in valid JSON. */
bool ic_json_has_nul(const char *text, size_t len);

/* Append s to buf as a JSON string literal with quotes; returns bytes written or 0 (too small).
 * Each maximal ill-formed UTF-8 subpart of s is written as \ufffd, so the output is valid JSON
 * whatever s holds (at most 6 bytes out per byte in, plus 3). */
size_t ic_json_quote(const char *s, size_t len, char *buf, size_t cap);

#endif
