/* usage.h: the normalized usage record: what one model call consumed, in the units of units.yml,
 * whatever API it came from. input_tokens is the TOTAL input (cache reads and writes included),
 * as genai-prices defines it; output_tokens likewise includes reasoning tokens.
 *
 * Extraction follows the price feed's per-provider extractors (provider + api flavour: "default",
 * "chat", "responses", "anthropic", ...), and also reads whole SSE transcripts of streamed
 * responses (OpenAI chat with include_usage and responses streams, Anthropic message_start /
 * message_delta, Gemini streamGenerateContent). */
#ifndef INFERCOST_USAGE_H
#define INFERCOST_USAGE_H

#include <stddef.h>
#include <stdint.h>

#include "infercost/status.h"
#include "infercost/units.h"

/* Largest count accepted for any unit: above it a record is refused as "number too large". */
#define IC_USAGE_VALUE_MAX 1000000000000000ULL /* 1e15 */

/* Distinct units one record may report (a provider's richest extractor, Google's, maps 21). */
#define IC_USAGE_MAX_UNITS 24

/* Compact: the values of the reported units only, packed in unit-id order (200 bytes instead of
 * one slot per known unit), because batch pricing is bound by how many records fit in the
 * caches. Read it with ic_usage_get() or by walking the bits of present
 * with a running index into v; write it with ic_usage_set(). */
typedef struct ic_usage {
    uint64_t present;                /* bit u: unit u was reported */
    uint64_t v[IC_USAGE_MAX_UNITS];  /* v[i]: the value of the i-th unit set in present */
} ic_usage;

struct ic_provider;

static inline void ic_usage_clear(ic_usage *u) { u->present = 0; }
/* Bits set in x. Inline SWAR: without -mpopcnt, __builtin_popcountll is a library call. */
static inline int ic_popcount64(uint64_t x)
{
    x -= (x >> 1) & 0x5555555555555555ULL;
    x = (x & 0x3333333333333333ULL) + ((x >> 2) & 0x3333333333333333ULL);
    x = (x + (x >> 4)) & 0x0F0F0F0F0F0F0F0FULL;
    return (int)((x * 0x0101010101010101ULL) >> 56);
}
/* Index in v of a unit (whether or not it is present). */
static inline int ic_usage_slot(const ic_usage *u, int unit)
{
    return ic_popcount64(u->present & ((1ULL << unit) - 1));
}
static inline uint64_t ic_usage_get(const ic_usage *u, int unit)
{
    return (u->present >> unit) & 1 ? u->v[ic_usage_slot(u, unit)] : 0;
}
/* Set a unit's value; refused above IC_USAGE_VALUE_MAX or past IC_USAGE_MAX_UNITS units. */
ic_status ic_usage_set(ic_usage *u, int unit, uint64_t value, ic_error *err);
/* Add to a unit (summing several provider fields into one). */
ic_status ic_usage_add(ic_usage *u, int unit, uint64_t value, ic_error *err);

/* Consistency that infercost insists on (stricter than the reference): no unit may exceed any of
 * its reported ancestors (cache_read_tokens <= input_tokens, ...). */
ic_status ic_usage_validate(const ic_usage *u, ic_error *err);

/* Set from a usage key and the number's JSON text ("4740"; "1e3" is accepted, "1.5", "-1" and
 * values above IC_USAGE_VALUE_MAX are refused with a message naming the key). */
ic_status ic_usage_set_text(ic_usage *u, const char *key, const char *num, size_t len, ic_error *err);

/* Write the record as a JSON object {"input_tokens":4740,...} into buf; returns bytes written
 * (not counting NUL) or 0 if cap is too small. */
size_t ic_usage_to_json(const ic_usage *u, char *buf, size_t cap);

/* Extract usage (and the model named in the body, if the extractor has a model path) from a
 * provider response body. api_flavor NULL means "default". model may be NULL. */
ic_status ic_usage_extract(const struct ic_provider *p, const char *api_flavor, const char *body,
                           size_t len, ic_usage *out, char *model, size_t model_cap,
                           ic_error *err);

/* The same from a whole SSE transcript ("data: {...}\n\n" events) or, for Gemini, a streamed
 * JSON array of chunks. An Anthropic stream cut before its message_delta gives message_start's
 * counts (its output count a placeholder): for a caller that knows the stream was cut and marks
 * the usage so (the gateway does); `cost` and `ingest` refuse such a stream. */
ic_status ic_usage_extract_stream(const struct ic_provider *p, const char *api_flavor,
                                  const char *text, size_t len, ic_usage *out, char *model,
                                  size_t model_cap, ic_error *err);

#endif
